#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devcontainer.h"
#include "agent.h"
#include "cmd.h"
#include "home.h"
#include "lifecycle.h"
#include "msg.h"
#include "oci-exec.h"
#include "sandbox-lock.h"
#include "session.h"
#include "settings.h"

#define SHELL_USAGE "git sand shell [-s | --shell <cmd>] [--no-session] [<name>]"
#define EXEC_OPTS "[-i | --interactive] [-t | --tty] [-w | --workdir <dir>]"
#define EXEC_USAGE "git sand exec " EXEC_OPTS " <name> [--] <command> [<args>...]"
#define EXEC_USAGE_ONLY "git sand exec " EXEC_OPTS " -- <command> [<args>...]"

#define AGENT_USAGE "git sand agent [-a | --agent <agent>] [--no-session] [<name>]"
#define ATTACH_USAGE "git sand attach [<name>]"

static const char *const shell_usage[] = { SHELL_USAGE, NULL };
static const char *const agent_usage[] = { AGENT_USAGE, NULL };
static const char *const attach_usage[] = { ATTACH_USAGE, NULL };
static const char *const exec_usage[] = { EXEC_USAGE, EXEC_USAGE_ONLY, NULL };

int cmd_shell(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *shell = NULL;
	int no_session = 0, use_session;
	const struct option options[] = {
		OPT_STRING('s', "shell", &shell, "cmd", "the shell to run (default: zsh, bash or sh)"),
		OPT_BOOL(0, "no-session", &no_session,
			 "not in a session to come back to (sand.session)"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, shell_usage, 0);
	if (argc > 1)
		usage_with_options(shell_usage, options);
	use_session = ctx_use_session(ctx, no_session);
	ctx_prepare_running(ctx, argc ? argv[0] : NULL, &sb, &rt);
	ret = sandbox_session(&rt, ctx->store, &sb, shell, 0, use_session);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret;
}

/*
 * Give a sandbox an agent it was not made with: carry the agent's files
 * into its home, as new --agent does, and record it.
 */
static void give_agent(struct cmd_ctx *ctx, struct sandbox *sb, const struct agent *agent)
{
	struct string_list paths = STRING_LIST_INIT, keys = STRING_LIST_INIT;
	struct settings set;
	int fd, lock;

	if (sb->state != SB_READY)
		die("sandbox '%s' is %s, not ready", sb->name, sandbox_state_name(sb->state));
	if (sb->host)
		die("sandbox '%s' is on '%s': its agent can only be chosen when it is made "
		    "('git sand new --agent')", sb->name, sb->host);
	/* The settings it was made with: its profile's carry lists first. */
	if (settings_init(&set, ctx->r.config, sb->opts.profile) < 0)
		die("cannot read the settings of sandbox '%s'", sb->name);
	agent_extras(&set, agent, &paths, &keys);
	if (agent_carry_check(agent, &paths) < 0)
		die("cannot give sandbox '%s' the agent '%s'", sb->name, agent->name);
	lock = sandbox_lock(sb, &fd);
	if (lock == SANDBOX_BUSY)
		die("sandbox '%s' is being created or removed by another command", sb->name);
	if (lock < 0)
		die("cannot lock sandbox '%s'", sb->name);
	{
		struct home_opts ho = { getenv("HOME"), sb->worktree, agent, NULL, &paths, &keys };

		if (home_add_agent(sb->dir, &ho, &sb->opts.carried) < 0)
			die("cannot carry the files of '%s' into sandbox '%s'", agent->name,
			    sb->name);
	}
	free(sb->opts.agent);
	sb->opts.agent = xstrdup(agent->name);
	if (store_update(ctx_store(ctx), sb) < 0)
		die("cannot record the agent of sandbox '%s'", sb->name);
	sandbox_unlock(sb, fd, 1);
	settings_clear(&set);
	string_list_clear(&paths);
	string_list_clear(&keys);
}

int cmd_agent(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *agent_opt = NULL;
	int no_session = 0, use_session;
	const struct option options[] = {
		OPT_STRING('a', "agent", &agent_opt, "agent",
			   "give it this agent first (its files carried, as with new --agent)"),
		OPT_BOOL(0, "no-session", &no_session,
			 "not in a session to come back to (sand.session)"),
		OPT_END(),
	};
	const struct agent *agent = NULL;
	struct sandbox sb = { 0 };
	struct runtime rt;
	char *name;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, agent_usage, 0);
	if (argc > 1)
		usage_with_options(agent_usage, options);
	if (agent_opt && !(agent = agent_find(agent_opt)))
		die("unknown agent '%s' (known: %s)", agent_opt, agent_names());
	use_session = ctx_use_session(ctx, no_session);
	ctx_lookup(ctx, argc ? argv[0] : NULL, &sb);
	if (!agent && !sb.opts.agent) {
		error("sandbox '%s' has no agent", sb.name);
		hint("'git sand agent --agent <agent> %s' gives it one (%s)", sb.name,
		     agent_names());
		die("no agent to start");
	}
	/* The same agent again keeps the files it has (and may have changed). */
	if (agent && (!sb.opts.agent || strcmp(sb.opts.agent, agent->name)))
		give_agent(ctx, &sb, agent);
	name = xstrdup(sb.name);
	sandbox_clear(&sb);
	ctx_prepare_running(ctx, name, &sb, &rt);
	free(name);
	ret = sandbox_session(&rt, ctx->store, &sb, NULL, 1, use_session);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret;
}

int cmd_attach(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = {
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, attach_usage, 0);
	if (argc > 1)
		usage_with_options(attach_usage, options);
	if (!isatty(0) || !isatty(1))
		die("attach needs a terminal");
	ctx_prepare_running(ctx, argc ? argv[0] : NULL, &sb, &rt);
	ret = session_available(&rt, &sb);
	if (ret < 0)
		exit(EXIT_FATAL);
	if (!ret || !session_exists(&rt, &sb)) {
		if (!ret)
			error("sandbox '%s' has no session: its image has no %s", sb.name,
			      SESSION_PROGRAM);
		else
			error("sandbox '%s' has no session", sb.name);
		hint("'git sand shell %s' opens a shell, 'git sand agent %s' its agent%s",
		     sb.name, sb.name, ret ? "" : "; an image with " SESSION_PROGRAM
		     " keeps them when the terminal goes");
		exit(EXIT_FATAL);
	}
	if (isatty(2))
		fprintf(stderr, "%s detaches from sandbox '%s' again.\n",
			SESSION_DETACH_KEY_SHOWN, sb.name);
	ret = session_attach(&rt, &sb);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret < 0 ? 1 : ret;
}

int cmd_exec(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int interactive = 0, tty = 0;
	const char *workdir = "/app";
	const struct option options[] = {
		OPT_BOOL('i', "interactive", &interactive,
			 "pass stdin to the command even when it is a terminal"),
		OPT_BOOL('t', "tty", &tty, "give the command a terminal"),
		OPT_STRING('w', "workdir", &workdir, "dir", "run in this directory (default: /app)"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	struct exec_opts eo = { 0 };
	const char *name, *direct;
	char *user = NULL;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, exec_usage,
				      PARSE_OPT_STOP_AT_NON_OPTION | PARSE_OPT_KEEP_DASHDASH);
	if (argc < 1)
		usage_with_options(exec_usage, options);
	/* "exec -- <command>": the only sandbox; else the name comes first. */
	name = strcmp(argv[0], "--") ? argv[0] : NULL;
	if (name) {
		argv++;
		argc--;
	}
	if (argc && !strcmp(argv[0], "--")) {
		argv++;
		argc--;
	}
	if (argc < 1)
		usage_with_options(exec_usage, options);
	if (tty && !isatty(0))
		die("option '--tty' needs a terminal on stdin");
	direct = ctx_direct_exec(ctx);
	/* On an SSH host, one round trip: the exec asks whether it runs. */
	eo.if_running = ctx_prepare_maybe_running(ctx, name, &sb, &rt);
	eo.workdir = workdir;
	/*
	 * As ssh does: input that is not a terminal is the command's (a
	 * pipe, a file, or /dev/null, which main() puts in place of a
	 * closed stdin, so that the command sees its end).
	 */
	eo.interactive = interactive || tty || !isatty(0);
	eo.tty = tty;
	/* Where podman's exec is the last step, it takes our place. */
	eo.last = 1;
	user = devcontainer_user(&sb);
	eo.user = user;
	ret = oci_exec(&rt, direct, sb.container, &eo, argv);
	if (ret == OCI_EXEC_USE_CLI)
		ret = rt.ops->exec(&rt, sb.container, &eo, argv);
	if (ret == RUNTIME_NOT_RUNNING) {
		/* Started as for any command, and the exec made again. */
		ctx_ensure_running(ctx, &sb, &rt);
		eo.if_running = 0;
		ret = rt.ops->exec(&rt, sb.container, &eo, argv);
	}
	free(user);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret < 0 ? 1 : ret;
}

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "devcontainer.h"
#include "home.h"
#include "lifecycle.h"
#include "msg.h"
#include "net.h"
#include "path.h"
#include "ports.h"
#include "run.h"
#include "sandbox-lock.h"
#include "sandbox-remote.h"
#include "settings.h"
#include "ssh-host.h"
#include "ssh.h"
#include "work.h"
#include "workspace.h"

#define NEW_USAGE \
	"git sand new [<name>] [-d | --detach] [--rm] [-b | --branch] [-i | --image <image>]\n" \
	"                    [-s | --shell <cmd>] [-a | --agent <agent>] [--profile <profile>]\n" \
	"                    [--runtime <runtime>] [--cpus <n>] [--memory <size>]\n" \
	"                    [--network <mode>] [--allow <host>[:<port>]]...\n" \
	"                    [--mount <src>:<dst>[:ro]]... [-e | --env-file <file>]... [--env <key>=<value>]...\n" \
	"                    [-p | --publish [<ip>:][<host-port>:]<port>[/<proto>]]...\n" \
	"                    [--[no-]ssh-agent] [--host <ssh-url>] [--accept-new-host-key]\n" \
	"                    [--prompt <text> | --prompt-file <file>] [--count <n>]\n" \
	"                    [--pull <when>] [--workspace <kind>] [--no-session]\n" \
	"                    [--devcontainer <path> | --no-devcontainer] [--devcontainer-allow <key>]..."

static const char *const new_usage[] = { NEW_USAGE, NULL };

/* What a failing or interrupted new must take apart again. */
struct undo {
	struct cmd_ctx *ctx;
	struct runtime *rt;
	struct sandbox *sb;
	int have_row;
	int lock;
};

static void undo_new(void *data)
{
	struct undo *u = data;

	if (!u->have_row) {
		sandbox_unlock(u->sb, u->lock, 1);
		u->lock = -1;
		return;
	}
	if (sandbox_destroy(u->rt, u->ctx->store, u->ctx->r.repo, u->sb) < 0) {
		warning("could not remove everything sandbox '%s' had made; "
			"'git sand gc' will", u->sb->name);
		sandbox_unlock(u->sb, u->lock, 0);
	} else {
		sandbox_unlock(u->sb, u->lock, 1);
	}
	u->have_row = 0;
}

/* new --rm, on leaving the session: remove the sandbox unless it holds work. */
static int rm_on_exit(struct cmd_ctx *ctx, struct runtime *rt, struct sandbox *sb)
{
	struct sandbox_work w = SANDBOX_WORK_INIT;
	struct strbuf what = STRBUF_INIT;
	int known = !ctx_sandbox_work(ctx, sb, rt, 0, &w), fd = -1, lock, ret = 0;

	if (!known || sandbox_work_any(&w)) {
		sandbox_work_describe(&w, "\t", &what);
		fprintf(stderr, "Kept sandbox '%s': it holds work that is not in this repository:\n%s",
			sb->name, what.buf);
		hint("'git sand sync %s' brings its commits here; 'git sand shell %s' returns to it; "
		     "'git sand rm -f %s' removes it anyway", sb->name, sb->name, sb->name);
		goto done;
	}
	lock = sandbox_lock(sb, &fd);
	if (lock) {
		ret = lock < 0 ? -1 : error("sandbox '%s' is being removed by another command",
					    sb->name);
		goto done;
	}
	signals_hold(1);
	ctx_keep_transcripts(ctx, sb);
	if (sandbox_destroy(rt, ctx->store, ctx->r.repo, sb) < 0)
		ret = error("could not remove sandbox '%s' completely", sb->name);
	else
		fprintf(stderr, "Removed sandbox '%s': it held no work.\n", sb->name);
	signals_hold(0);
	sandbox_unlock(sb, fd, !ret);
done:
	sandbox_work_clear(&w);
	strbuf_release(&what);
	return ret;
}

static void check_env_file(const char *path, struct string_list *out)
{
	char *abs = realpath(path, NULL);
	struct stat st;

	if (!abs || stat(abs, &st) < 0)
		die_errno("cannot use env file '%s'", path);
	if (!S_ISREG(st.st_mode))
		die("env file '%s' is not a regular file", path);
	if (access(abs, R_OK) < 0)
		die_errno("cannot read env file '%s'", path);
	string_list_append(out, abs);
	free(abs);
}

/* On another host, the source is a path there: only its form is checked. */
static void check_mount(const char *spec, int remote)
{
	struct mount_spec m;
	struct strbuf why = STRBUF_INIT;
	struct stat st;

	if (mount_spec_parse(spec, &m, &why) < 0)
		die("invalid mount '%s': %s", spec, why.buf);
	if (!remote && stat(m.src, &st) < 0)
		die_errno("invalid mount '%s': cannot use '%s'", spec, m.src);
	mount_spec_clear(&m);
	strbuf_release(&why);
}

static void check_host_branch(struct cmd_ctx *ctx, const char *name)
{
	git_reference *ref = NULL;
	struct strbuf refname = STRBUF_INIT;
	int valid = 0;

	strbuf_addf(&refname, "refs/heads/%s", name);
	if (git_reference_name_is_valid(&valid, refname.buf) < 0 || !valid)
		die("'%s' is not a valid branch name", name);
	if (!git_reference_lookup(&ref, ctx->r.repo, refname.buf)) {
		git_reference_free(ref);
		die("a branch named '%s' already exists", name);
	}
	git_error_clear();
	strbuf_release(&refname);
}

/* Insert the row, generating names until one is free when none was given. */
static void claim_name(struct cmd_ctx *ctx, struct sandbox *sb, const char *given)
{
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;

	for (int tries = 0; ; tries++) {
		int ret;

		if (given) {
			strbuf_addstr(&name, given);
		} else {
			sandbox_name_generate(&name);
			if (tries >= 8)
				strbuf_addf(&name, "-%d", tries);
		}
		if (sandbox_name_check(name.buf, &why) < 0)
			die("invalid sandbox name '%s': %s", name.buf, why.buf);
		free(sb->name);
		sb->name = xstrdup(name.buf);
		ret = store_insert(ctx_store(ctx), sb);
		if (ret < 0)
			die("cannot record the new sandbox");
		if (!ret)
			break;
		if (given) {
			error("sandbox '%s' already exists in this worktree", given);
			hint("use 'git sand shell %s' to open a shell in it", given);
			die("cannot create sandbox '%s'", given);
		}
		if (tries > 64)
			die("cannot find a free sandbox name: give one");
		strbuf_reset(&name);
	}
	strbuf_release(&name);
	strbuf_release(&why);
}

/* Whether sand.<key> or the profile's is set at all (even to nothing). */
static int has_config(struct settings *set, const char *key)
{
	struct strbuf origin = STRBUF_INIT;
	char *v = settings_get(set, key, NULL, &origin);
	int has = v != NULL;

	free(v);
	strbuf_release(&origin);
	return has;
}

/*
 * The setup command (sand.setup), run once inside the new sandbox, in
 * /app, by its shell: it is the user's own command for the sandbox. Its
 * output goes to <dir>/setup.log; its failure is reported, not fatal.
 */
static void run_setup(struct runtime *rt, struct sandbox *sb, const char *setup)
{
	struct strbuf log = STRBUF_INIT, out = STRBUF_INIT;
	const char *cmd[] = { "sh", "-c", setup, NULL };
	FILE *fp;
	int status;

	strbuf_addf(&log, "%s/setup.log", sb->dir);
	if (isatty(2))
		fprintf(stderr, "Running the setup command (output in %s)...\n", log.buf);
	status = devcontainer_exec_capture(rt, sb, cmd, &out);
	/* After the devcontainer's commands, when there were any. */
	fp = fopen(log.buf, "a");
	if (fp) {
		fwrite(out.buf, 1, out.len, fp);
		fprintf(fp, "[setup exited with status %d]\n", status);
		fclose(fp);
	}
	if (status != 0)
		warning("the setup command failed (status %d); see '%s'", status, log.buf);
	sb->opts.setup_done = 1;
	strbuf_release(&log);
	strbuf_release(&out);
}

/*
 * Everything new was asked for: the options as given, then merged with
 * the settings (sand.*, the profile's first) and checked, all before
 * anything is made.
 */
struct new_opts {
	/* The command line. */
	int detach, rm, branch, ssh_agent, accept_new, no_session, use_session;
	const char *name;
	const char *image_opt, *shell, *runtime_opt, *agent_opt, *profile;
	const char *cpus_opt, *memory_opt, *network_opt, *host_opt, *pull_opt;
	const char *prompt_opt, *prompt_file, *workspace_opt;
	const char *devcontainer_opt;
	int no_devcontainer;
	struct string_list dc_allow_opt;
	int count;	/* --count: 0 when not given */
	struct string_list mounts_opt, env_files_opt, env, publish_opt, allow_opt;
	struct strbuf prompt;	/* empty: no run */

	/* Merged with the settings. */
	struct settings set;
	char *image, *cpus, *memory, *network, *runtime, *host, *setup, *agent_name, *workspace;
	const struct agent *agent;
	char *pull_name;
	enum pull_policy pull;
	int image_unchecked;	/* the create looks for it (check_image) */
	struct string_list mounts, env_files, dotfiles, agent_paths, agent_keys, publish;
	struct devcontainer dc;
	int have_dc;
	const char *worktree;	/* the one the devcontainer file is read from */
	struct string_list allow;	/* the rules of --network allow */
	struct ssh_host_scan *scan;	/* see read_ahead_early */
	int scan_pushed;
};

#define NEW_OPTS_INIT { .ssh_agent = -1, .mounts_opt = STRING_LIST_INIT, .prompt = STRBUF_INIT, \
	.env_files_opt = STRING_LIST_INIT, .env = STRING_LIST_INIT, \
	.mounts = STRING_LIST_INIT, .env_files = STRING_LIST_INIT, \
	.dotfiles = STRING_LIST_INIT, .agent_paths = STRING_LIST_INIT, \
	.agent_keys = STRING_LIST_INIT, .publish_opt = STRING_LIST_INIT, \
	.publish = STRING_LIST_INIT, .dc_allow_opt = STRING_LIST_INIT, .dc = DEVCONTAINER_INIT, \
	.allow_opt = STRING_LIST_INIT, .allow = STRING_LIST_INIT }

static void new_opts_clear(struct new_opts *o)
{
	ssh_host_scan_free(o->scan);
	string_list_clear(&o->mounts_opt);
	string_list_clear(&o->publish_opt);
	string_list_clear(&o->publish);
	string_list_clear(&o->allow_opt);
	string_list_clear(&o->allow);
	string_list_clear(&o->env_files_opt);
	/* --env values: do not leave them in freed memory. */
	for (size_t i = 0; i < o->env.nr; i++)
		explicit_bzero(o->env.items[i], strlen(o->env.items[i]));
	string_list_clear(&o->env);
	strbuf_release(&o->prompt);
	settings_clear(&o->set);
	free(o->image);
	free(o->cpus);
	free(o->memory);
	free(o->network);
	free(o->runtime);
	free(o->host);
	free(o->setup);
	free(o->agent_name);
	free(o->pull_name);
	free(o->workspace);
	string_list_clear(&o->mounts);
	string_list_clear(&o->env_files);
	string_list_clear(&o->dotfiles);
	string_list_clear(&o->agent_paths);
	string_list_clear(&o->agent_keys);
	string_list_clear(&o->dc_allow_opt);
	devcontainer_clear(&o->dc);
}

static void parse_new(int argc, const char **argv, struct new_opts *o)
{
	const struct option options[] = {
		OPT_BOOL('d', "detach", &o->detach, "create and start it, but open no shell"),
		OPT_BOOL(0, "rm", &o->rm, "remove the sandbox when the shell exits, unless it holds work"),
		OPT_BOOL('b', "branch", &o->branch, "create and check out a branch named after the sandbox"),
		OPT_STRING('i', "image", &o->image_opt, "image", "container image (sand.image)"),
		OPT_STRING('s', "shell", &o->shell, "cmd", "shell to open (default: zsh, bash or sh)"),
		OPT_STRING('a', "agent", &o->agent_opt, "agent",
			   "start a coding agent: claude, codex, gemini or opencode (sand.agent)"),
		OPT_STRING(0, "profile", &o->profile, "profile", "use the settings of sand.profile.<profile>.*"),
		OPT_STRING(0, "runtime", &o->runtime_opt, "runtime", "podman, docker or container (sand.runtime)"),
		OPT_STRING(0, "cpus", &o->cpus_opt, "n", "CPU limit (sand.cpus)"),
		OPT_STRING(0, "memory", &o->memory_opt, "size", "memory limit, e.g. 4g (sand.memory)"),
		OPT_STRING(0, "network", &o->network_opt, "mode",
			   "none, host, allow, or the runtime's default (sand.network)"),
		OPT_LIST(0, "allow", &o->allow_opt, "host[:port]",
			 "with '--network allow': a host it may reach, '*.domain' or '@set' (sand.allow)"),
		OPT_LIST(0, "mount", &o->mounts_opt, "src:dst[:ro]", "also bind-mount a host path (sand.mount)"),
		OPT_LIST('e', "env-file", &o->env_files_opt, "file",
			 "read environment variables from a file (sand.envFile)"),
		OPT_LIST(0, "env", &o->env, "key=value", "set an environment variable (never stored)"),
		OPT_LIST('p', "publish", &o->publish_opt, "[ip:][host-port:]port[/proto]",
			 "publish a port, on 127.0.0.1 unless an address is given (sand.publish)"),
		OPT_SET_INT(0, "ssh-agent", &o->ssh_agent, "forward your ssh-agent (sand.sshAgent)", 1),
		OPT_STRING(0, "host", &o->host_opt, "ssh-url",
			   "make it on another machine, ssh://[user@]host[:port] (sand.host)"),
		OPT_BOOL(0, "accept-new-host-key", &o->accept_new,
			 "trust and record the host's key if it is not known yet"),
		OPT_STRING(0, "prompt", &o->prompt_opt, "text",
			   "run the agent without a terminal, on this task"),
		OPT_STRING(0, "prompt-file", &o->prompt_file, "file",
			   "the same, the task read from a file ('-': standard input)"),
		OPT_BOOL(0, "no-session", &o->no_session,
			 "open the shell in no session to come back to (sand.session)"),
		OPT_INTEGER(0, "count", &o->count, "n",
			    "make n sandboxes <name>-1 to <name>-n, each running the task"),
		OPT_STRING(0, "pull", &o->pull_opt, "when",
			   "pull the image: missing, always or never (sand.pull)"),
		OPT_STRING(0, "workspace", &o->workspace_opt, "kind",
			   "overlay, copy or auto: how /app is made (sand.workspace)"),
		/* First: its name would otherwise negate --devcontainer's. */
		OPT_BOOL(0, "no-devcontainer", &o->no_devcontainer,
			 "use no devcontainer.json (sand.devcontainer)"),
		OPT_STRING(0, "devcontainer", &o->devcontainer_opt, "path",
			   "use this devcontainer.json (default: the worktree's)"),
		OPT_LIST(0, "devcontainer-allow", &o->dc_allow_opt, "key",
			 "let the devcontainer.json use this key (sand.devcontainer.allow)"),
		OPT_END(),
	};

	argc = parse_options_or_usage(argc, argv, options, new_usage, 0);
	if (argc > 1)
		usage_with_options(new_usage, options);
	o->name = argc == 1 ? argv[0] : NULL;
	ctx_prompt(&o->prompt, o->prompt_opt, o->prompt_file);
}

/* The most sandboxes one new --count makes. */
#define NEW_COUNT_MAX 64

/* The name of the i-th of --count's sandboxes (the caller frees it). */
static char *counted_name(const char *base, int i)
{
	return xstrfmt("%s-%d", base, i);
}

/* sand.dotfiles: .gitconfig when unset; an empty value carries nothing. */
static void resolve_dotfiles(struct new_opts *o)
{
	struct string_list *d = &o->dotfiles;

	settings_get_list(&o->set, "dotfiles", NULL, d, NULL);
	if (!d->nr && !has_config(&o->set, "dotfiles"))
		string_list_append(d, ".gitconfig");
	for (size_t i = d->nr; i-- > 0; )
		if (!*d->items[i]) {
			free(d->items[i]);
			memmove(d->items + i, d->items + i + 1, (d->nr - i - 1) * sizeof(*d->items));
			d->nr--;
		}
}

/*
 * The worktree's devcontainer.json, unless --no-devcontainer or
 * sand.devcontainer = never: read and checked, or die saying why.
 */
static void resolve_devcontainer(struct cmd_ctx *ctx, struct new_opts *o)
{
	struct devcontainer_allow allow = DEVCONTAINER_ALLOW_INIT;
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT;
	char *mode = settings_get(&o->set, "devcontainer", NULL, NULL);
	int found;

	if (o->no_devcontainer && o->devcontainer_opt)
		die("options '--devcontainer' and '--no-devcontainer' cannot be used together");
	if (mode && strcmp(mode, "auto") && strcmp(mode, "never"))
		die("bad value '%s' for sand.devcontainer (known: auto, never)", mode);
	if (o->no_devcontainer || (!o->devcontainer_opt && mode && !strcmp(mode, "never")))
		goto done;
	found = devcontainer_find(&path, ctx->r.worktree, o->devcontainer_opt);
	if (found < 0)
		die("cannot choose a devcontainer file");
	if (found > 0)
		goto done;
	if (devcontainer_allow_init(&allow, &o->dc_allow_opt, ctx->r.config) < 0)
		die("cannot use these devcontainer allowances");
	o->worktree = ctx->r.worktree;
	if (devcontainer_load(&o->dc, ctx->r.worktree, path.buf, &allow, &why) < 0)
		die("%s", why.buf);
	devcontainer_warn(&o->dc);
	o->have_dc = 1;
done:
	devcontainer_allow_clear(&allow);
	strbuf_release(&path);
	strbuf_release(&why);
	free(mode);
}

/*
 * What the devcontainer file adds: its environment before --env's (which
 * wins), its ports and allowed mounts after the settings'.
 */
static void merge_devcontainer(struct new_opts *o)
{
	struct string_list env = STRING_LIST_INIT;
	struct devcontainer *dc = &o->dc;

	if (!o->have_dc)
		return;
	for (size_t i = 0; i < dc->container_env.nr; i++)
		string_list_append(&env, dc->container_env.items[i]);
	for (size_t i = 0; i < dc->remote_env.nr; i++)
		string_list_append(&env, dc->remote_env.items[i]);
	for (size_t i = 0; i < o->env.nr; i++) {
		string_list_append(&env, o->env.items[i]);
		explicit_bzero(o->env.items[i], strlen(o->env.items[i]));
	}
	string_list_clear(&o->env);
	o->env = env;
	for (size_t i = 0; i < dc->mounts.nr; i++)
		string_list_append(&o->mounts, dc->mounts.items[i]);
	if (dc->ports.nr && o->network && (!strcmp(o->network, "none") || net_is_allow(o->network)))
		warning("%s: not publishing its ports: the sandbox has no network (--network)",
			dc->path);
	else
		for (size_t i = 0; i < dc->ports.nr; i++)
			string_list_append(&o->publish, dc->ports.items[i]);
}

/*
 * The rules of an allow-list: --allow (which alone asks for one), else
 * the profile's or sand.allow; and the agent's set, unless denied.
 */
static int resolve_allow(struct new_opts *o)
{
	struct strbuf why = STRBUF_INIT, set = STRBUF_INIT;
	int ret = 0;

	/* On the command line, it wins over a configured network. */
	if (o->allow_opt.nr && !o->network_opt) {
		free(o->network);
		o->network = xstrdup(NET_ALLOW_MODE);
	}
	if (o->allow_opt.nr && !net_is_allow(o->network)) {
		ret = error("option '--allow' needs '--network %s' (the network is '%s')",
			    NET_ALLOW_MODE, o->network);
		goto done;
	}
	if (!net_is_allow(o->network))
		goto done;
	settings_get_list(&o->set, "allow", &o->allow_opt, &o->allow, NULL);
	for (size_t i = 0; i < o->allow.nr; i++) {
		strbuf_reset(&why);
		if (net_rule_check(o->allow.items[i], &why) < 0) {
			ret = error("invalid rule '%s': %s", o->allow.items[i], why.buf);
			goto done;
		}
		net_rule_normalize(&set, o->allow.items[i]);
		free(o->allow.items[i]);
		o->allow.items[i] = strbuf_detach(&set, NULL);
	}
	if (o->agent) {
		int denied = 0;

		/* "!@<agent>" among the rules keeps its set out. */
		strbuf_addf(&set, "!@%s", o->agent->name);
		for (size_t i = 0; i < o->allow.nr; i++)
			denied |= !strcmp(o->allow.items[i], set.buf);
		if (!denied)
			net_rules_change(&o->allow, set.buf + 1, 1);
	}
done:
	strbuf_release(&why);
	strbuf_release(&set);
	return ret;
}

/* The options merged with the settings; returns -1 with a message. */
static int resolve_new(struct cmd_ctx *ctx, struct new_opts *o)
{
	struct settings *set = &o->set;

	if (settings_init(set, ctx->r.config, o->profile) < 0)
		return -1;
	settings_get_list(set, "mount", &o->mounts_opt, &o->mounts, NULL);
	settings_get_list(set, "envFile", &o->env_files_opt, &o->env_files, NULL);
	settings_get_list(set, "publish", &o->publish_opt, &o->publish, NULL);
	resolve_dotfiles(o);
	o->agent_name = settings_get(set, "agent", o->agent_opt, NULL);
	if (o->agent_name && *o->agent_name && !(o->agent = agent_find(o->agent_name)))
		return error("unknown agent '%s' (known: %s)", o->agent_name, agent_names());
	if (o->agent) {
		agent_extras(set, o->agent, &o->agent_paths, &o->agent_keys);
		if (agent_carry_check(o->agent, &o->agent_paths) < 0)
			return -1;
	}
	if (settings_get_bool(set, "sshAgent", o->ssh_agent, &o->ssh_agent, NULL) < 0)
		return -1;
	o->setup = settings_get(set, "setup", NULL, NULL);
	o->host = settings_get(set, "host", o->host_opt, NULL);
	if (o->host && !*o->host) {
		free(o->host); /* sand.host = "": here */
		o->host = NULL;
	}
	o->runtime = settings_get(set, "runtime", o->runtime_opt, NULL);
	resolve_devcontainer(ctx, o);
	o->image = settings_get(set, "image", o->image_opt ? o->image_opt : o->dc.image, NULL);
	if (!o->image)
		o->image = xstrdup(RUNTIME_DEFAULT_IMAGE);
	o->pull_name = settings_get(set, "pull", o->pull_opt, NULL);
	o->cpus = settings_get(set, "cpus", o->cpus_opt, NULL);
	o->memory = settings_get(set, "memory", o->memory_opt, NULL);
	o->network = settings_get(set, "network", o->network_opt, NULL);
	o->workspace = settings_get(set, "workspace", o->workspace_opt, NULL);
	if (resolve_allow(o) < 0)
		return -1;
	merge_devcontainer(o);
	return 0;
}

/* Everything the user gave is checked before anything is made. */
static void check_new(struct cmd_ctx *ctx, struct new_opts *o)
{
	struct strbuf why = STRBUF_INIT;
	const char *sock = getenv("SSH_AUTH_SOCK");

	if (o->detach && o->rm)
		die("options '--detach' and '--rm' cannot be used together");
	if (o->pull_name && pull_policy_parse(&o->pull, o->pull_name) < 0)
		die("invalid pull policy '%s' (known: %s)", o->pull_name, PULL_POLICIES);
	/* With --rm, leaving is the end of it: there is nothing to come back to. */
	o->use_session = !o->rm && ctx_use_session(ctx, o->no_session);
	if (o->prompt.len && !o->agent)
		die("option '--prompt' needs an agent (--agent or sand.agent)");
	if (o->count && !o->prompt.len)
		die("option '--count' needs '--prompt' or '--prompt-file'");
	if (o->count < 0 || o->count > NEW_COUNT_MAX)
		die("option '--count' takes a number from 1 to %d", NEW_COUNT_MAX);
	if (o->count && o->rm)
		die("options '--count' and '--rm' cannot be used together");
	if (o->workspace && strcmp(o->workspace, "auto") && strcmp(o->workspace, "overlay") &&
	    strcmp(o->workspace, "copy"))
		die("invalid workspace kind '%s' (known: auto, overlay, copy)", o->workspace);
	if (o->prompt.len && o->host)
		die("options '--prompt' and '--host' cannot be used together: runs are only "
		    "supported on this machine");
	if (o->name && o->count) {
		for (int i = 1; i <= o->count; i++) {
			char *name = counted_name(o->name, i);

			if (ctx_check_name(name) < 0)
				die("cannot create sandbox '%s'", name);
			if (o->branch)
				check_host_branch(ctx, name);
			free(name);
		}
	} else if (o->name && ctx_check_name(o->name) < 0) {
		die("cannot create sandbox '%s'", o->name);
	} else if (o->branch && o->name) {
		check_host_branch(ctx, o->name);
	}
	/* Before connecting: the filter runs only beside a container here. */
	if (net_is_allow(o->network) && o->host && net_check_enforceable(NULL, o->host) < 0)
		die("cannot make a sandbox with network '%s'", NET_ALLOW_MODE);
	if (o->host) {
		struct ssh_target t;

		if (ssh_url_parse(o->host, &t, &why) < 0)
			die("invalid host '%s': %s", o->host, why.buf);
		ssh_target_clear(&t);
		if (o->ssh_agent > 0)
			die("options '--ssh-agent' and '--host' cannot be used together");
	}
	for (size_t i = 0; i < o->mounts.nr; i++)
		check_mount(o->mounts.items[i], o->host != NULL);
	/* Their form now; whether they are free once the runtime is known. */
	for (size_t i = 0; i < o->publish.nr; i++) {
		struct port_map m;

		if (port_spec_parse(&m, o->publish.items[i], &why) < 0)
			die("invalid port '%s': %s", o->publish.items[i], why.buf);
	}
	if (o->ssh_agent > 0 && (!sock || access(sock, F_OK)))
		die("--ssh-agent: no ssh-agent socket to forward (SSH_AUTH_SOCK is not set or gone)");
	if (env_check(&o->env) < 0)
		die("cannot create a sandbox with this --env");
	for (size_t i = 0; i < o->dotfiles.nr; i++)
		if (!dotfile_path_ok(o->dotfiles.items[i]))
			die("dotfile '%s' is not a path inside your home directory",
			    o->dotfiles.items[i]);
	strbuf_release(&why);
}

static int near_base(struct cmd_ctx *ctx, const struct sandbox *sb, char *hex);

static void drop_scan(void *data)
{
	struct new_opts *o = data;

	ssh_host_scan_free(o->scan);
	o->scan = NULL;
}

/*
 * A new on a host where this repository has ready overlay sandboxes:
 * the working tree read while the connection is made, for the tree
 * near_base will choose, guessed with the state root they were made
 * under. make_sandbox uses it where that base is there, the probe's root
 * and the tree its own; else reads again, or not at all.
 */
static void read_ahead_early(struct cmd_ctx *ctx, struct new_opts *o)
{
	struct sandbox *list = NULL, guess = { 0 };
	char hex[GIT_OID_HEXSZ + 1];
	git_object *head = NULL;
	size_t nr = 0;

	if (o->count || (o->workspace && !strcmp(o->workspace, "copy")))
		return;
	/* No tree (an unborn branch): a copy, said later. */
	if (git_revparse_single(&head, ctx->r.repo, "HEAD^{tree}") < 0) {
		git_error_clear();
		return;
	}
	git_object_free(head);
	if (store_list(ctx_store(ctx), NULL, &list, &nr) < 0)
		return;
	for (size_t i = 0; i < nr && !guess.host_root; i++)
		if (list[i].state == SB_READY && list[i].host && !strcmp(list[i].host, o->host) &&
		    !strcmp(list[i].gitdir, ctx->r.commondir) && list[i].host_root &&
		    list[i].opts.base)
			guess.host_root = list[i].host_root;
	guess.host = o->host;
	guess.gitdir = (char *)ctx->r.commondir;
	if (guess.host_root && near_base(ctx, &guess, hex) > 0)
		o->scan = ssh_host_scan_start(ctx->r.worktree, hex);
	if (o->scan) {
		/* Not left reading while the command dies. */
		cleanup_push(drop_scan, o);
		o->scan_pushed = 1;
	}
	if (o->scan && trace_enabled()) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "trace: ssh: the working tree read ahead of the connection, "
			    "for the base of %s\n", hex);
		trace_write(&line);
		strbuf_release(&line);
	}
	store_free_list(list, nr);
}

/* The runtime, here or on the host; there, also the state root. */
static void connect_runtime(struct cmd_ctx *ctx, struct new_opts *o, struct runtime *rt,
			    char **host_root)
{
	struct ssh_host_facts f = { .root = STRBUF_INIT };
	struct ssh_conn *conn;
	char *root;

	*host_root = NULL;
	if (!o->host) {
		ctx_runtime(rt, o->runtime);
		return;
	}
	root = settings_get(&o->set, "remoteRoot", NULL, NULL);
	if (ctx_ssh_connect(ctx, o->host, o->accept_new, &conn) < 0)
		die("cannot connect to '%s'", o->host);
	/* Its steps, one after the other, in one shell there. */
	ssh_conn_batch(conn);
	/* One round trip: who we are there, its runtime, the state root. */
	if (ssh_host_probe(conn, root, &f) < 0) {
		ssh_close(conn);
		die("cannot make sandboxes on '%s'", o->host);
	}
	if (runtime_select_remote_probed(rt, o->runtime, conn, f.uid, f.gid, f.runtime) < 0)
		die("cannot make sandboxes on '%s'", o->host);
	*host_root = strbuf_detach(&f.root, NULL);
	free(root);
}

/* The image is there, or pulled now as --pull or sand.pull says. */
static void check_image(struct runtime *rt, struct new_opts *o)
{
	/* The devcontainer's build, unless --image names another. */
	if (o->have_dc && o->dc.has_build && !o->image_opt) {
		struct strbuf image = STRBUF_INIT;

		if (devcontainer_build_image(rt, &o->dc, o->worktree, isatty(2), &image) < 0)
			die("cannot build the image of '%s'", o->dc.path);
		free(o->image);
		o->image = strbuf_detach(&image, NULL);
	}
	/*
	 * On a host, podman's run looks for it (--pull=never), which saves
	 * a command there; when it is missing, make_sandbox pulls it as
	 * the policy says and runs again.
	 */
	if (rt->ssh && !strcmp(rt->ops->name, "podman") && o->pull != PULL_ALWAYS) {
		o->image_unchecked = 1;
		return;
	}
	if (runtime_ensure_image(rt, o->image, o->pull, isatty(2)) < 0)
		die("cannot make a sandbox from image '%s'", o->image);
}

/* The host branch it is made from: when it is deleted, the sandbox is orphaned. */
static char *head_branch(git_repository *repo)
{
	git_reference *head = NULL;
	const char *b;
	char *ret = NULL;

	if (!git_reference_lookup(&head, repo, "HEAD") &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    skip_prefix(git_reference_symbolic_target(head), "refs/heads/", &b))
		ret = xstrdup(b);
	git_reference_free(head);
	git_error_clear();
	return ret;
}

/* The row as it is first written: state "creating", no name yet. */
static void fill_record(struct cmd_ctx *ctx, struct new_opts *o, const struct runtime *rt,
			struct sandbox *sb)
{
	struct strbuf id = STRBUF_INIT;

	if (sandbox_new_id(&id) < 0)
		die("cannot make an id for the new sandbox");
	sb->id = strbuf_detach(&id, NULL);
	sb->worktree = xstrdup(ctx->r.worktree);
	sb->gitdir = xstrdup(ctx->r.commondir);
	sb->dir = xstrfmt("%s/sandboxes/%s", ctx->root.buf, sb->id);
	sb->runtime = xstrdup(rt->ops->name);
	sb->state = SB_CREATING;
	sb->image = xstrdup(o->image);
	sb->host = xstrdup_or_null(o->host);
	sb->opts.cpus = xstrdup_or_null(o->cpus);
	sb->opts.memory = xstrdup_or_null(o->memory);
	sb->opts.network = xstrdup_or_null(o->network);
	sb->opts.ssh_agent = o->ssh_agent > 0;
	sb->opts.branch = o->branch;
	sb->opts.agent = o->agent ? xstrdup(o->agent->name) : NULL;
	sb->opts.profile = xstrdup_or_null(o->set.profile);
	sb->opts.shell = xstrdup_or_null(o->shell);
	sb->opts.host_branch = head_branch(ctx->r.repo);
	for (size_t i = 0; i < o->env_files.nr; i++)
		check_env_file(o->env_files.items[i], &sb->opts.env_files);
	for (size_t i = 0; i < o->mounts.nr; i++)
		string_list_append(&sb->opts.mounts, o->mounts.items[i]);
	/* Checked, and host ports chosen, before anything is made. */
	if (ctx_ports_prepare(ctx, sb, o->network, &o->publish,
			      &sb->opts.ports) < 0)
		die("cannot publish the new sandbox's ports");
}

/* Its home (dotfiles and the agent's files, copied) and its --env file. */
static int make_home(const struct new_opts *o, struct sandbox *sb)
{
	struct home_opts ho = { getenv("HOME"), sb->worktree, o->agent, &o->dotfiles,
				&o->agent_paths, &o->agent_keys };
	struct strbuf path = STRBUF_INIT;
	int ret = -1;

	if (mkdir_p(sb->dir, 0700) < 0) {
		error_errno("cannot create '%s'", sb->dir);
		goto done;
	}
	if (home_prepare(sb->dir, &ho, &sb->opts.carried) < 0)
		goto done;
	strbuf_addf(&path, "%s/env", sb->dir);
	if (o->env.nr && env_file_write(path.buf, &o->env, &sb->opts.env_keys) < 0)
		goto done;
	if (net_is_allow(o->network) && net_rules_write(sb->dir, &o->allow) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&path);
	return ret;
}

/* Why an overlay workspace cannot be made; those told once have a key. */
enum no_overlay {
	OVERLAY_OK,
	NO_OVERLAY_INDEX,
	NO_OVERLAY_CHECKOUT,
	NO_OVERLAY_OWNER,
	NO_OVERLAY_RUNTIME,
	NO_OVERLAY_PATH,
	NO_OVERLAY_UNBORN,
};

static const struct {
	const char *why, *notice;
} no_overlay_reasons[] = {
	[NO_OVERLAY_INDEX] = { "the index has conflicts, intent-to-add, skip-worktree or "
			       "assume-unchanged entries", "workspace-copy-index" },
	[NO_OVERLAY_CHECKOUT] = { "core.autocrlf, core.eol, core.symlinks, core.ignorecase or "
				  "core.precomposeUnicode is set otherwise than by default",
				  "workspace-copy-checkout" },
	[NO_OVERLAY_OWNER] = { "its devcontainer.json's user owns a base on this machine only",
			       "workspace-copy-owner" },
	[NO_OVERLAY_RUNTIME] = { "only rootful podman mounts one", "workspace-copy-runtime" },
	[NO_OVERLAY_PATH] = { "its state directory has ',' or ':' in its path",
			      "workspace-copy-path" },
	[NO_OVERLAY_UNBORN] = { "HEAD has no commit yet", NULL },
};

/* A boolean setting that is set, to what (as git reads "true", "on"...). */
static int config_is(git_config *cfg, const char *key, int want)
{
	struct strbuf v = STRBUF_INIT;
	int b, is;

	is = config_get_str(cfg, key, &v) > 0 && !git_config_parse_bool(&b, v.buf) && b == want;
	git_error_clear();
	strbuf_release(&v);
	return is;
}

/*
 * Whether the repository's configuration would check files out otherwise
 * than git's defaults, as a base is (shared by every repository of its
 * tree): line endings, symbolic links; and for a host, where whiteouts
 * are found by the names here, names this filesystem folds.
 */
static int checkout_differs(git_config *cfg, int host)
{
	struct strbuf eol = STRBUF_INIT;
	int differs;

	differs = config_is(cfg, "core.autocrlf", 1) || config_is(cfg, "core.symlinks", 0) ||
		  (config_get_str(cfg, "core.eol", &eol) > 0 && !strcasecmp(eol.buf, "crlf")) ||
		  (host && (config_is(cfg, "core.ignorecase", 1) ||
			    config_is(cfg, "core.precomposeunicode", 1)));
	strbuf_release(&eol);
	return differs;
}

/*
 * Whether an overlay workspace can be made for sb: rootful podman mounts
 * one (rootless podman needs whiteouts it cannot make; docker and Apple's
 * container have no such volume), for a worktree whose HEAD has a tree,
 * and paths that the volume option can hold (a host's state root has
 * none of ',' or ':'), where the repository checks files out as a base
 * is. On a host, the sandbox's index is made there from the base's and
 * the staged changes, which it cannot be for a conflict, an
 * intent-to-add, a skip-worktree or an assume-unchanged entry; and a
 * devcontainer.json's user would have the whole base copied up.
 */
static enum no_overlay no_overlay(struct cmd_ctx *ctx, const struct new_opts *o,
				  struct runtime *rt, const struct sandbox *sb)
{
	enum no_overlay why = OVERLAY_OK;
	git_object *tree = NULL;
	const char *index_why;

	if (strcmp(rt->ops->name, "podman") || runtime_user(rt) < 0 || rt->uid != 0)
		why = NO_OVERLAY_RUNTIME;
	else if (sb->host ? strpbrk(sb->host_root, ",:") != NULL :
		 strpbrk(ctx->root.buf, ",:") || strpbrk(sb->dir, ",:"))
		why = NO_OVERLAY_PATH;
	else if (checkout_differs(ctx->r.config, sb->host != NULL))
		why = NO_OVERLAY_CHECKOUT;
	else if (sb->host && !ssh_host_overlay_index_ok(ctx->r.repo, &index_why))
		why = NO_OVERLAY_INDEX;
	else if (sb->host && o->have_dc && o->dc.user)
		why = NO_OVERLAY_OWNER;
	else if (git_revparse_single(&tree, ctx->r.repo, "HEAD^{tree}") < 0)
		why = NO_OVERLAY_UNBORN;
	git_error_clear();
	git_object_free(tree);
	return why;
}

/*
 * Say once per state root and reason that the default made a copy
 * where an overlay would cost less: a file under <root>/notices marks
 * it said.
 */
static void notice_copy(struct cmd_ctx *ctx, const struct sandbox *sb, enum no_overlay why)
{
	struct strbuf path = STRBUF_INIT;
	const char *key = no_overlay_reasons[why].notice;
	int fd;

	if (!key)
		return;
	strbuf_addf(&path, "%s/notices", ctx->root.buf);
	if (mkdir(path.buf, 0755) < 0 && errno != EEXIST)
		goto done;
	strbuf_addf(&path, "/%s", key);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto done;
	close(fd);
	hint("sandbox '%s' has a copy of the worktree, not an overlay: %s", sb->name,
	     no_overlay_reasons[why].why);
	hint("see WORKSPACES in git-sand(1); this is said once");
done:
	strbuf_release(&path);
}

/* Whether sb gets an overlay workspace: 1, 0, or -1 when one was asked for in vain. */
static int want_overlay(struct cmd_ctx *ctx, const struct new_opts *o, struct runtime *rt,
			const struct sandbox *sb)
{
	enum no_overlay why;

	if (o->workspace && !strcmp(o->workspace, "copy"))
		return 0;
	why = no_overlay(ctx, o, rt, sb);
	if (why == OVERLAY_OK)
		return 1;
	if (o->workspace && !strcmp(o->workspace, "overlay"))
		return error("cannot make an overlay workspace for sandbox '%s': %s", sb->name,
			     no_overlay_reasons[why].why);
	notice_copy(ctx, sb, why);
	return 0;
}

/* populate, as the runtime's create calls it meanwhile. */
struct populate_call {
	const struct workspace *ws;
	struct sandbox *sb;
	const struct populate_opts *po;
};

/* A base there serves a tree that differs from its own by at most this many paths... */
#define NEAR_BASE_PATHS 1024
/* ...among the trees of this many of the host's bases at most. */
#define NEAR_BASE_TRIES 16

/*
 * The tree of an overlay's base on sb's host: where the host has a base
 * (another ready sandbox's of this repository there, as the store knows
 * them) whose tree HEAD's differs from by few paths, the nearest: what
 * differs then goes in the sandbox's upper layer with the rest of the
 * working tree's changes, and the host makes no checkout (a new commit
 * costs what it changed).
 * Else HEAD's tree, whose base is made there if missing. 1 where the
 * tree chosen is that of a base the store knows there, 0 where not, or -1.
 */
static int near_base(struct cmd_ctx *ctx, const struct sandbox *sb, char *hex)
{
	git_repository *repo = ctx->r.repo;
	struct string_list seen = STRING_LIST_INIT;
	struct strbuf prefix = STRBUF_INIT;
	struct sandbox *list = NULL;
	git_object *head = NULL;
	size_t nr = 0, best = NEAR_BASE_PATHS + 1;
	int there = 0;

	if (git_revparse_single(&head, repo, "HEAD^{tree}") < 0)
		return error_lg2("cannot read the tree of HEAD");
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, git_object_id(head));
	if (!sb->host_root || store_list(ctx_store(ctx), NULL, &list, &nr) < 0)
		goto done;
	strbuf_addf(&prefix, "%s/" OVERLAY_BASES "/", sb->host_root);
	for (size_t i = 0; i < nr && seen.nr < NEAR_BASE_TRIES && best; i++) {
		const char *tree_hex;
		git_tree *tree = NULL;
		git_diff *diff = NULL;
		git_oid oid;

		/* A ready sandbox of this repository there: its tree is in the mirror. */
		if (list[i].state != SB_READY || strcmp(list[i].gitdir, sb->gitdir) ||
		    !list[i].host || strcmp(list[i].host, sb->host) || !list[i].opts.base ||
		    !skip_prefix(list[i].opts.base, prefix.buf, &tree_hex) ||
		    strlen(tree_hex) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, tree_hex) < 0 ||
		    string_list_find(&seen, tree_hex) >= 0)
			continue;
		string_list_append(&seen, tree_hex);
		if (git_oid_equal(&oid, git_object_id(head))) {
			best = 0;
			git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &oid);
			there = 1;
		} else if (!git_tree_lookup(&tree, repo, &oid) &&
			   !git_diff_tree_to_tree(&diff, repo, tree, (git_tree *)head, NULL) &&
			   git_diff_num_deltas(diff) < best) {
			best = git_diff_num_deltas(diff);
			git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &oid);
			there = 1;
		}
		git_diff_free(diff);
		git_tree_free(tree);
	}
done:
	git_error_clear();
	git_object_free(head);
	store_free_list(list, nr);
	string_list_clear(&seen);
	strbuf_release(&prefix);
	return there;
}

static int populate_meanwhile(void *data)
{
	struct populate_call *pc = data;

	if (cleanup_signalled())
		return -1;
	return pc->ws->ops->populate(pc->ws, pc->sb, pc->po);
}

/*
 * Fill the workspace and create the container: at once where the
 * workspace allows (the files are copied while the runtime creates what
 * mounts them), else the one after the other. The container, where one
 * was made, is recorded in sb either way.
 */
static int populate_and_create(struct cmd_ctx *ctx, struct runtime *rt,
			       const struct workspace *ws, struct sandbox *sb,
			       struct populate_opts *po, struct create_how *how)
{
	struct populate_call pc = { ws, sb, po };
	int early = ws->ops->prepare(ws, sb, po);

	if (early < 0)
		return -1;
	if (early)
		return sandbox_create_container_while(rt, ctx->root.buf, sb,
						      populate_meanwhile, &pc, how);
	if (ws->ops->populate(ws, sb, po) < 0)
		return -1;
	return sandbox_create_container_while(rt, ctx->root.buf, sb, po->mirror_first,
					      po->mirror_data, how);
}

/*
 * The same, and where the create looked for the image and found none,
 * the image pulled (or said missing) as the policy says, and the
 * container made then. Where the runtime can, it is started as it is
 * made (one round trip): how->started says so.
 */
static int create_sandbox_container(struct cmd_ctx *ctx, const struct new_opts *o,
				    struct runtime *rt, const struct workspace *ws,
				    struct sandbox *sb, struct populate_opts *po,
				    struct create_how *how)
{
	int ret = populate_and_create(ctx, rt, ws, sb, po, how);

	if (ret != RUNTIME_NO_IMAGE)
		return ret;
	if (runtime_ensure_image(rt, sb->image, o->pull, isatty(2)) < 0)
		return -1;
	how->image_unchecked = 0;
	return sandbox_create_container_while(rt, ctx->root.buf, sb, NULL, NULL, how);
}

/* The mirror's refresh, once, whoever asks first: its result. */
struct mirror_call {
	struct cmd_ctx *ctx;
	const struct workspace *ws;
	int done, ret;
};

static int mirror_once(void *data)
{
	struct mirror_call *mc = data;

	if (mc->done)
		return mc->ret;
	mc->done = 1;
	mc->ret = -1;
	if (!cleanup_signalled())
		mc->ret = mc->ws->ops->mirror_refresh(mc->ws, mc->ctx->r.repo,
						      mc->ctx->r.commondir);
	return mc->ret;
}

/*
 * make_sandbox's work from the mirror's refresh on, the working tree
 * being read ahead where the workspace does so. Where the host has the
 * overlay's base already (base_there), the workspace needs nothing new
 * of the mirror: it is sent first, and the mirror is brought up to date
 * while the runtime there makes and starts the container.
 */
static int fill_sandbox(struct cmd_ctx *ctx, const struct new_opts *o, struct runtime *rt,
			struct sandbox *sb, const struct workspace *ws, struct populate_opts *po,
			int base_there)
{
	struct create_how how = { .start = 1, .image_unchecked = o->image_unchecked };
	struct mirror_call mc = { ctx, ws, 0, 0 };

	if (base_there) {
		po->mirror_first = mirror_once;
		po->mirror_data = &mc;
	} else if (mirror_once(&mc) < 0) {
		return -1;
	}
	if (cleanup_signalled())
		return -1;
	if (create_sandbox_container(ctx, o, rt, ws, sb, po, &how) < 0 ||
	    mirror_once(&mc) < 0 || store_update(ctx->store, sb) < 0 ||
	    (!how.started && rt->ops->start(rt, sb->container) < 0))
		return -1;
	/* An allow-list's filter, once the container runs (see net.h). */
	if (net_is_allow(sb->opts.network) &&
	    sandbox_ensure_running(rt, ctx->store, ctx->root.buf, sb, NULL) < 0)
		return -1;
	if (cleanup_signalled() || sandbox_remote_add(ctx->r.repo, ctx->store, ws) < 0)
		return -1;
	if (o->have_dc && o->dc.user && devcontainer_own(rt, sb, o->dc.user, ctx->root.buf) < 0)
		return -1;
	if (o->have_dc) {
		for (int i = DC_ON_CREATE; i <= DC_POST_START; i++)
			if (devcontainer_run(rt, sb, &o->dc, i) < 0)
				return -1;
	}
	if (o->setup)
		run_setup(rt, sb, o->setup);
	sb->state = SB_READY;
	return store_update(ctx->store, sb);
}

/*
 * Make what the row describes: home, mirror, clone, container, remote;
 * then run the setup command and mark it ready. -1 with a message; what
 * was made is for the caller's undo to take apart.
 */
static int make_sandbox(struct cmd_ctx *ctx, const struct new_opts *o, struct runtime *rt,
			struct sandbox *sb, struct ssh_host_scan **early)
{
	struct populate_opts po = { ctx->r.repo, ctx->r.worktree, ctx->r.gitdir,
				    ctx->r.commondir, o->branch ? sb->name : NULL, isatty(2) };
	struct overlay_owner owner;
	struct workspace ws;
	int ret, base_there = 0;

	workspace_of(&ws, sb, ctx->root.buf, rt->ssh);
	if ((po.overlay = want_overlay(ctx, o, rt, sb)) < 0)
		return -1;
	if (po.overlay && sb->host && (base_there = near_base(ctx, sb, po.base_tree)) < 0)
		return -1;
	/* A devcontainer's user starts with a base of their own, where known. */
	if (po.overlay && o->have_dc && o->dc.user &&
	    devcontainer_owner(ctx->root.buf, sb->image, o->dc.user, &owner.uid, &owner.gid))
		po.owner = &owner;
	if (sandbox_remote_check(ctx->r.repo, ctx->store, sb) < 0 || make_home(o, sb) < 0)
		return -1;
	/* Before the container: what it is made with is recorded. */
	if (o->have_dc && devcontainer_save(&o->dc, sb) < 0)
		return error("cannot record the devcontainer settings of sandbox '%s'", sb->name);
	if (sb->host && isatty(2))
		fprintf(stderr, "Sending what '%s' lacks of the history...\n", sb->host);
	/* Read ahead of the connection: used where the workspace goes next. */
	if (base_there)
		po.scan = *early;
	else
		ssh_host_scan_free(*early);
	*early = NULL;
	if (ws.ops->read_ahead && ws.ops->read_ahead(&ws, sb, &po) < 0) {
		workspace_read_ahead_clear(&po);
		return -1;
	}
	ret = fill_sandbox(ctx, o, rt, sb, &ws, &po, base_there);
	workspace_read_ahead_clear(&po);
	return ret;
}

/* The session new opens, and --rm after it. */
static int open_session(struct cmd_ctx *ctx, const struct new_opts *o, struct runtime *rt,
			struct sandbox *sb)
{
	int ret;

	if (o->rm)
		fprintf(stderr, "Created sandbox '%s'; it is removed when you leave it, "
			"unless it holds work this repository lacks.\n", sb->name);
	else
		fprintf(stderr, "Created sandbox '%s'; 'git sand shell %s' returns to it.\n",
			sb->name, sb->name);
	ret = sandbox_session(rt, ctx->store, sb, o->shell, 1, o->use_session);
	if (o->rm && rm_on_exit(ctx, rt, sb) < 0)
		ret = ret ? ret : 1;
	return ret;
}

/*
 * Make one sandbox named name (NULL: a name is made up), or die having
 * removed what was made of it.
 */
/*
 * A devcontainer.json's remoteUser (or containerUser) is honoured where
 * the runtime runs as root: its files stay readable and removable here
 * whoever owns them in the container. Rootless, giving /app to another
 * user would give it to one of this user's subordinate ids, which this
 * user cannot then write or remove: the sandbox runs as before.
 */
static void choose_user(struct new_opts *o, struct runtime *rt)
{
	if (!o->have_dc || !o->dc.user)
		return;
	if (runtime_user(rt) < 0 || rt->uid != 0) {
		warning("not running as '%s': only a runtime running as root can give "
			"/app to another user and keep it yours", o->dc.user);
		free(o->dc.user);
		o->dc.user = NULL;
	}
}

static void create_sandbox(struct cmd_ctx *ctx, struct new_opts *o, struct runtime *rt,
			   const char *name, struct sandbox *sb)
{
	struct undo undo = { ctx, rt, sb, 0, -1 };

	choose_user(o, rt);
	fill_record(ctx, o, rt, sb);
	/*
	 * The row comes first: from here on, whatever exists is known, and a
	 * failure, a signal or a kill leaves something rm or gc can finish.
	 */
	cleanup_install_signals();
	/* Held until the sandbox is made: gc leaves a locked one alone. */
	if (sandbox_lock(sb, &undo.lock) != 0)
		die("cannot lock the new sandbox");
	cleanup_push(undo_new, &undo);
	claim_name(ctx, sb, name);
	undo.have_row = 1;
	if (o->branch && !o->name)
		check_host_branch(ctx, sb->name);
	if (make_sandbox(ctx, o, rt, sb, &o->scan) < 0) {
		if (cleanup_signalled())
			die("interrupted");
		die("cannot create sandbox '%s'", sb->name);
	}
	cleanup_pop();
	sandbox_unlock(sb, undo.lock, 1);
}

/*
 * new --count: n sandboxes <name>-1..n, each given the task, detached;
 * without --detach, then wait for them all.
 */
static int create_counted(struct cmd_ctx *ctx, struct new_opts *o, struct runtime *rt)
{
	struct sandbox *list = xcalloc((size_t)o->count, sizeof(*list));
	struct strbuf base = STRBUF_INIT;
	int ret = 0;

	if (o->name)
		strbuf_addstr(&base, o->name);
	else
		sandbox_name_generate(&base);
	for (int i = 1; i <= o->count; i++) {
		char *name = counted_name(base.buf, i);

		create_sandbox(ctx, o, rt, name, &list[i - 1]);
		free(name);
		printf("%s\n", list[i - 1].name);
		fflush(stdout);
		ctx_run_task(ctx, rt, &list[i - 1], o->prompt.buf, 1);
	}
	if (!o->detach) {
		fprintf(stderr, "Waiting for the %d runs to end ('git sand wait' does the same; "
			"^C stops waiting, not the runs)...\n", o->count);
		ret = ctx_wait_runs(ctx, list, (size_t)o->count, 0, -1);
	}
	store_free_list(list, (size_t)o->count);
	strbuf_release(&base);
	return ret;
}

int cmd_new(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct new_opts o = NEW_OPTS_INIT;
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret = 0;

	parse_new(argc, argv, &o);
	if (resolve_new(ctx, &o) < 0)
		die("cannot use these settings for a new sandbox");
	check_new(ctx, &o);
	if (o.host)
		read_ahead_early(ctx, &o);
	connect_runtime(ctx, &o, &rt, &sb.host_root);
	if (net_is_allow(o.network) && net_check_enforceable(rt.ops->name, o.host) < 0)
		die("cannot make a sandbox with network '%s'", NET_ALLOW_MODE);
	check_image(&rt, &o);

	if (o.count) {
		free(sb.host_root);
		ret = create_counted(ctx, &o, &rt);
		goto done;
	}
	create_sandbox(ctx, &o, &rt, o.name, &sb);
	if (o.scan_pushed)
		cleanup_pop();
	if (o.detach)
		printf("%s\n", sb.name);
	if (o.prompt.len) {
		fflush(stdout);
		ret = ctx_run_task(ctx, &rt, &sb, o.prompt.buf, o.detach);
		if (o.rm && rm_on_exit(ctx, &rt, &sb) < 0)
			ret = ret ? ret : 1;
	} else if (!o.detach) {
		ret = open_session(ctx, &o, &rt, &sb);
	}
	sandbox_clear(&sb);
done:
	runtime_clear(&rt);
	new_opts_clear(&o);
	return ret;
}

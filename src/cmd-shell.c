#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "lifecycle.h"
#include "msg.h"

#define SHELL_USAGE "git sand shell [-s | --shell <cmd>] <name>"
#define EXEC_USAGE "git sand exec [-i | --interactive] [-t | --tty] [-w | --workdir <dir>] <name> [--] <command> [<args>...]"

#define AGENT_USAGE "git sand agent <name>"

static const char *const shell_usage[] = { SHELL_USAGE, NULL };
static const char *const agent_usage[] = { AGENT_USAGE, NULL };
static const char *const exec_usage[] = { EXEC_USAGE, NULL };

int cmd_shell(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *shell = NULL;
	const struct option options[] = {
		OPT_STRING('s', "shell", &shell, "cmd", "the shell to run (default: zsh, bash or sh)"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, shell_usage, 0);
	if (argc != 1)
		usage_with_options(shell_usage, options);
	ctx_prepare_running(ctx, argv[0], &sb, &rt);
	ret = sandbox_session(&rt, ctx->store, &sb, shell, 0);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret;
}

int cmd_agent(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = { OPT_END() };
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, agent_usage, 0);
	if (argc != 1)
		usage_with_options(agent_usage, options);
	ctx_prepare_running(ctx, argv[0], &sb, &rt);
	if (!sb.opts.agent)
		die("sandbox '%s' has no agent (make one with 'git sand new --agent')", sb.name);
	ret = sandbox_session(&rt, ctx->store, &sb, NULL, 1);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret;
}

int cmd_exec(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int interactive = 0, tty = 0;
	const char *workdir = "/app";
	const struct option options[] = {
		OPT_BOOL('i', "interactive", &interactive, "keep stdin open for the command"),
		OPT_BOOL('t', "tty", &tty, "give the command a terminal"),
		OPT_STRING('w', "workdir", &workdir, "dir", "run in this directory (default: /app)"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	struct exec_opts eo = { 0 };
	const char *name;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, exec_usage,
				      PARSE_OPT_STOP_AT_NON_OPTION);
	if (argc < 1)
		usage_with_options(exec_usage, options);
	name = argv[0];
	argv++;
	argc--;
	if (argc && !strcmp(argv[0], "--")) {
		argv++;
		argc--;
	}
	if (argc < 1)
		usage_with_options(exec_usage, options);
	if (tty && !isatty(0))
		die("option '--tty' needs a terminal on stdin");
	ctx_prepare_running(ctx, name, &sb, &rt);
	eo.workdir = workdir;
	eo.interactive = interactive || tty;
	eo.tty = tty;
	ret = rt.ops->exec(&rt, sb.container, &eo, argv);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret < 0 ? 1 : ret;
}

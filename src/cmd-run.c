/*
 * Headless runs of a sandbox's agent: run (another task for a sandbox),
 * logs (its output, or the setup command's), wait (until runs end) and
 * export-session (the agent's transcripts).
 * new --prompt starts its run through ctx_run_task too. No daemon: the
 * run goes on inside the container, and each of these commands looks at
 * what it left (see agent-run.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent-run.h"
#include "cmd.h"
#include "msg.h"
#include "transcript.h"

#define RUN_USAGE "git sand run [-d | --detach] (--prompt <text> | --prompt-file <file>) [<name>]"
#define LOGS_USAGE "git sand logs [-f | --follow] [--setup] [<name>]"
#define EXPORT_USAGE "git sand export-session <name> <directory>"
#define WAIT_USAGE "git sand wait [--any] [--timeout <seconds>] [<name>... | --all]"

static const char *const run_usage[] = { RUN_USAGE, NULL };
static const char *const logs_usage[] = { LOGS_USAGE, NULL };
static const char *const wait_usage[] = { WAIT_USAGE, NULL };
static const char *const export_usage[] = { EXPORT_USAGE, NULL };

void ctx_prompt(struct strbuf *out, const char *text, const char *file)
{
	if (text && file)
		die("options '--prompt' and '--prompt-file' cannot be used together");
	strbuf_reset(out);
	if (file) {
		if (agent_prompt_read(out, file) < 0)
			die("no task to run");
	} else if (text) {
		strbuf_addstr(out, text);
		if (agent_prompt_check(out->buf, out->len) < 0)
			die("no task to run");
	}
}

int ctx_run_task(struct cmd_ctx *ctx, struct runtime *rt, struct sandbox *sb, const char *prompt,
		 int detach)
{
	const struct agent *agent = sb->opts.agent ? agent_find(sb->opts.agent) : NULL;
	struct store *st = ctx_store(ctx);
	int status;

	if (sb->host)
		die("sandbox '%s' is on '%s': runs are only supported on this machine", sb->name,
		    sb->host);
	if (!agent) {
		error("sandbox '%s' has no agent", sb->name);
		hint("'git sand agent --agent <agent> %s' gives it one (%s)", sb->name,
		     agent_names());
		die("no agent to run");
	}
	if (agent_run_start(rt, st, sb, agent, prompt) < 0)
		die("cannot start a run in sandbox '%s'", sb->name);
	if (detach) {
		fprintf(stderr, "Started run %d of %s in sandbox '%s'; "
			"'git sand logs -f %s' follows it.\n", sb->opts.run.n, agent->command,
			sb->name, sb->name);
		return 0;
	}
	if (isatty(2))
		fprintf(stderr, "Running %s in sandbox '%s' (run %d); ^C stops showing it, "
			"not the run.\n", agent->command, sb->name, sb->opts.run.n);
	if (agent_run_print_log(st, sb, 1) < 0) {
		hint("'git sand wait %s' waits for the run to end", sb->name);
		return 1;
	}
	if (cleanup_signalled()) {
		fprintf(stderr, "Run %d goes on in sandbox '%s': 'git sand logs -f %s' shows it "
			"again.\n", sb->opts.run.n, sb->name, sb->name);
		return 130;
	}
	if (agent_run_state(st, sb, -1, &status) == RUN_RUNNING)
		return 1;
	return status;
}

struct run_opts {
	int detach;
	const char *name, *prompt_opt, *prompt_file;
	struct strbuf prompt;
};

static int run_task(struct cmd_ctx *ctx, struct run_opts *o)
{
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret;

	ctx_prepare_running(ctx, o->name, &sb, &rt);
	/* ^C stops the showing, not the run: said, then 130 (see ctx_run_task). */
	if (!o->detach)
		cleanup_install_signals();
	ret = ctx_run_task(ctx, &rt, &sb, o->prompt.buf, o->detach);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret;
}

int cmd_run(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct run_opts o = { .prompt = STRBUF_INIT };
	const struct option options[] = {
		OPT_BOOL('d', "detach", &o.detach, "start it and return at once"),
		OPT_STRING(0, "prompt", &o.prompt_opt, "text", "the task, as the agent's prompt"),
		OPT_STRING(0, "prompt-file", &o.prompt_file, "file",
			   "the task, read from a file ('-': standard input)"),
		OPT_END(),
	};
	int ret;

	argc = parse_options_or_usage(argc, argv, options, run_usage, 0);
	if (argc > 1 || (!o.prompt_opt && !o.prompt_file))
		usage_with_options(run_usage, options);
	o.name = argc ? argv[0] : NULL;
	ctx_prompt(&o.prompt, o.prompt_opt, o.prompt_file);
	ret = run_task(ctx, &o);
	strbuf_release(&o.prompt);
	return ret;
}

int cmd_logs(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int follow = 0, setup = 0, ret;
	const struct option options[] = {
		OPT_BOOL('f', "follow", &follow, "go on until the run ends"),
		OPT_BOOL(0, "setup", &setup,
			 "show the output of the setup command (sand.setup) and devcontainer commands"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };

	argc = parse_options_or_usage(argc, argv, options, logs_usage, 0);
	if (argc > 1)
		usage_with_options(logs_usage, options);
	if (follow && setup)
		die("options '--follow' and '--setup' cannot be used together");
	ctx_lookup(ctx, argc ? argv[0] : NULL, &sb);
	if (setup) {
		ret = agent_run_print_setup_log(&sb);
		if (ret > 0)
			die("sandbox '%s' has no setup log (sand.setup was not set when it was made, "
			    "nor any devcontainer command)", sb.name);
	} else {
		if (!sb.opts.run.n)
			die("sandbox '%s' has had no run", sb.name);
		ret = agent_run_print_log(ctx_store(ctx), &sb, follow);
	}
	sandbox_clear(&sb);
	return ret < 0 ? 1 : 0;
}

int cmd_export_session(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = { OPT_END() };
	struct sandbox sb = { 0 };
	int ret;

	argc = parse_options_or_usage(argc, argv, options, export_usage, 0);
	if (argc != 2)
		usage_with_options(export_usage, options);
	ctx_lookup(ctx, argv[0], &sb);
	ret = transcript_export(&sb, argv[1]);
	sandbox_clear(&sb);
	if (ret < 0)
		die("cannot export the transcripts of sandbox '%s'", argv[0]);
	return 0;
}

struct wait_opts {
	int any, all;
	const char *timeout_opt;
	long timeout;	/* seconds, or -1: none */
	int argc;
	const char **argv;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ctx_wait_runs(struct cmd_ctx *ctx, struct sandbox *list, size_t nr, int any, long timeout)
{
	int *status = xcalloc(nr, sizeof(*status)), *done = xcalloc(nr, sizeof(*done)), ret = -1;
	double deadline = timeout >= 0 ? now() + (double)timeout : 0;

	while (ret < 0) {
		size_t left = 0;

		for (size_t i = 0; i < nr && ret < 0; i++) {
			enum agent_run_state s;

			if (done[i])
				continue;
			s = agent_run_state(ctx_store(ctx), &list[i], -1, &status[i]);
			done[i] = s != RUN_RUNNING;
			if (done[i] && any) {
				printf("%s\n", list[i].name);
				ret = status[i];
			}
			left += !done[i];
		}
		if (ret >= 0)
			break;
		if (!left) {
			ret = 0;
			for (size_t i = 0; i < nr && !ret; i++)
				ret = status[i];
			break;
		}
		if (timeout >= 0 && now() >= deadline) {
			ret = AGENT_RUN_TIMEOUT_STATUS;
			break;
		}
		if (cleanup_signalled()) {
			ret = 130;
			break;
		}
		agent_run_sleep(AGENT_RUN_POLL_MS);
	}
	free(status);
	free(done);
	return ret;
}

int cmd_wait(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct wait_opts o = { .timeout = -1 };
	const struct option options[] = {
		OPT_BOOL(0, "any", &o.any, "until one run ends; print its sandbox's name"),
		OPT_STRING(0, "timeout", &o.timeout_opt, "seconds",
			   "give up after that long, with exit status 124"),
		OPT_BOOL('a', "all", &o.all, "every sandbox of this worktree that has had a run"),
		OPT_END(),
	};
	struct sandbox *list = NULL;
	size_t nr = 0, kept = 0;
	int failed = 0, ret;

	argc = parse_options_or_usage(argc, argv, options, wait_usage, 0);
	if (argc && o.all)
		usage_with_options(wait_usage, options);
	if (o.timeout_opt) {
		char *end;

		errno = 0;
		o.timeout = strtol(o.timeout_opt, &end, 10);
		if (errno || end == o.timeout_opt || *end || o.timeout < 0)
			die("invalid timeout '%s': a number of seconds is expected", o.timeout_opt);
	}
	/* No names: every run of this worktree. */
	ctx_select(ctx, argc, argv, o.all || !argc, &list, &nr, &failed);
	if (failed)
		die("no sandbox to wait for");
	for (size_t i = 0; i < nr; i++) {
		if (!list[i].opts.run.n) {
			if (argc)
				die("sandbox '%s' has had no run", list[i].name);
			sandbox_clear(&list[i]);
			continue;
		}
		if (list[i].host)
			die("sandbox '%s' is on '%s': runs are only supported on this machine",
			    list[i].name, list[i].host);
		list[kept++] = list[i];
	}
	if (!kept)
		die("no sandbox of this worktree has had a run");
	ret = ctx_wait_runs(ctx, list, kept, o.any, o.timeout);
	store_free_list(list, kept);
	return ret;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "lifecycle.h"
#include "msg.h"
#include "net.h"

#define START_USAGE "git sand start [--pull <when>] (<name>... | --all)"
#define STOP_USAGE "git sand stop (<name>... | --all)"

static const char *const start_usage[] = { START_USAGE, NULL };
static const char *const stop_usage[] = { STOP_USAGE, NULL };

static int start_stop(int argc, const char **argv, struct cmd_ctx *ctx, int start)
{
	int all = 0, failed = 0;
	const char *pull = NULL;
	const struct option start_options[] = {
		OPT_BOOL('a', "all", &all, "every sandbox of this worktree"),
		OPT_STRING(0, "pull", &pull, "when",
			   "pull the image of a container made again: missing, always or never "
			   "(sand.pull)"),
		OPT_END(),
	};
	const struct option *options = start_options;
	const struct option stop_options[] = {
		OPT_BOOL('a', "all", &all, "every sandbox of this worktree"),
		OPT_END(),
	};
	const char *const *usage = start ? start_usage : stop_usage;
	struct string_list refreshed = STRING_LIST_INIT;
	struct sandbox *list;
	size_t nr;

	if (!start)
		options = stop_options;
	argc = parse_options_or_usage(argc, argv, options, usage, 0);
	if ((!argc && !all) || (argc && all))
		usage_with_options(usage, options);
	if (pull && pull_policy_parse(&runtime_pull_policy, pull) < 0)
		die("invalid pull policy '%s' (known: %s)", pull, PULL_POLICIES);
	ctx_select(ctx, argc, argv, all, &list, &nr, &failed);
	cleanup_install_signals();
	for (size_t i = 0; i < nr && !cleanup_signalled(); i++) {
		struct sandbox *sb = &list[i];
		struct runtime rt;
		struct container_info ci = { 0 };
		int found;

		if (ctx_check_ready(ctx, sb) < 0) {
			failed++;
			continue;
		}
		if (ctx_sandbox_runtime(ctx, &rt, sb) < 0) {
			failed++;
			continue;
		}
		if (start) {
			/*
			 * So that git pull inside sees the host's latest
			 * commits: each mirror once, over this connection.
			 */
			if (ctx_refresh_mirror_once(ctx, &refreshed, sb, &rt) < 0)
				failed++;
			/* A container made must be recorded: no interrupt between. */
			signals_hold(1);
			if (sandbox_ensure_running(&rt, ctx->store, ctx->root.buf, sb, NULL) < 0)
				failed++;
			signals_hold(0);
		} else {
			found = sb->container ? rt.ops->inspect(&rt, sb->container, &ci) :
				RUNTIME_NOT_FOUND;
			if (found < 0)
				failed++;
			else if (!found && ci.state == CONTAINER_RUNNING &&
				 rt.ops->stop(&rt, sb->container) < 0)
				failed++;
			container_info_clear(&ci);
			/* It would end with the container; stop says it has. */
			if (net_is_allow(sb->opts.network) && !sb->host)
				net_proxy_stop(sb->dir);
		}
		runtime_clear(&rt);
	}
	store_free_list(list, nr);
	string_list_clear(&refreshed);
	if (cleanup_signalled())
		die("interrupted");
	return failed ? 1 : 0;
}

int cmd_start(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return start_stop(argc, argv, ctx, 1);
}

int cmd_stop(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return start_stop(argc, argv, ctx, 0);
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fetch.h"
#include "lifecycle.h"
#include "msg.h"

#define FETCH_USAGE "git sand fetch [-p | --prune] [-q | --quiet] [<name>... | --all]"
#define SYNC_HOST_USAGE "git sand sync-host (<name>... | --all)"

static const char *const fetch_usage[] = { FETCH_USAGE, NULL };
static const char *const sync_host_usage[] = { SYNC_HOST_USAGE, NULL };

int cmd_fetch(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int all = 0, prune = 0, quiet = 0, failed = 0;
	const struct option options[] = {
		OPT_BOOL('a', "all", &all, "every sandbox of this worktree"),
		OPT_BOOL('p', "prune", &prune, "remove refs of branches the sandbox no longer has"),
		OPT_BOOL('q', "quiet", &quiet, "print nothing but errors"),
		OPT_END(),
	};
	struct sandbox *list;
	size_t nr;

	argc = parse_options_or_usage(argc, argv, options, fetch_usage, 0);
	if (argc && all)
		usage_with_options(fetch_usage, options);
	ctx_select(ctx, argc, argv, all, &list, &nr, &failed);
	/* A fetch under way finishes (each ref moves whole); the next is not begun. */
	cleanup_install_signals();
	for (size_t i = 0; i < nr && !cleanup_signalled(); i++) {
		struct fetch_opts fo = { .prune = prune, .quiet = quiet };
		int changed;

		if (ctx_check_ready(ctx, &list[i]) < 0) {
			failed++;
			continue;
		}
		if (ctx_fetch(ctx, &list[i], &fo, NULL, &changed) < 0)
			failed++;
	}
	store_free_list(list, nr);
	if (cleanup_signalled())
		die("interrupted");
	return failed ? 1 : 0;
}

int cmd_sync_host(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int all = 0, failed = 0;
	const struct option options[] = {
		OPT_BOOL('a', "all", &all, "every sandbox of this worktree"),
		OPT_END(),
	};
	struct sandbox *list;
	size_t nr;

	argc = parse_options_or_usage(argc, argv, options, sync_host_usage, 0);
	if ((!argc && !all) || (argc && all))
		usage_with_options(sync_host_usage, options);
	ctx_select(ctx, argc, argv, all, &list, &nr, &failed);
	/* Sandboxes of one repository share its mirror: refresh it once. */
	if (ctx_refresh_mirrors(ctx, list, nr) < 0)
		failed++;
	store_free_list(list, nr);
	return failed ? 1 : 0;
}

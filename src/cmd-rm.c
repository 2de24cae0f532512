#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "lifecycle.h"
#include "msg.h"

#define RM_USAGE "git sand rm [-f | --force] [--forget] (<name>... | --all)"

static const char *const rm_usage[] = { RM_USAGE, NULL };

/* Ask on the terminal; anything but y/yes (and EOF) is no. */
static int confirm(const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int yes;

	fprintf(stderr, "remove %s? [y/N] ", name);
	fflush(stderr);
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		fputc('\n', stderr);
		free(line);
		return 0;
	}
	yes = !strcmp(line, "y\n") || !strcmp(line, "Y\n") || !strcmp(line, "yes\n");
	free(line);
	return yes;
}

int cmd_rm(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int all = 0, force = 0, forget = 0, failed = 0;
	const struct option options[] = {
		OPT_BOOL('a', "all", &all, "every sandbox of this worktree"),
		OPT_BOOL('f', "force", &force, "do not ask for confirmation"),
		OPT_BOOL(0, "forget", &forget,
			 "remove only what is on this machine (for a host gone for good)"),
		OPT_END(),
	};
	struct sandbox *list;
	size_t nr;
	int ask;

	argc = parse_options_or_usage(argc, argv, options, rm_usage, 0);
	if ((!argc && !all) || (argc && all))
		usage_with_options(rm_usage, options);
	ask = !force && isatty(0);
	ctx_select(ctx, argc, argv, all, &list, &nr, &failed);
	for (size_t i = 0; i < nr; i++) {
		struct sandbox *sb = &list[i];
		struct runtime rt = { 0 };
		int lock, fd = -1;

		if (ask && !confirm(sb->name))
			continue;
		if (!forget && ctx_sandbox_runtime(ctx, &rt, sb) < 0) {
			failed++;
			if (sb->host)
				hint("if '%s' is gone for good, 'git sand rm --forget %s' removes "
				     "what is on this machine", sb->host, sb->name);
			continue;
		}
		lock = sandbox_lock(sb, &fd);
		if (lock == SANDBOX_BUSY) {
			error("sandbox '%s' is being created or removed by another command", sb->name);
			failed++;
		} else if (lock < 0 ||
			   sandbox_destroy(forget ? NULL : &rt, ctx->store, ctx->r.repo, sb) < 0) {
			error("could not remove sandbox '%s' completely", sb->name);
			failed++;
		} else if (forget) {
			printf("Forgot sandbox '%s'%s%s%s\n", sb->name,
			       sb->host ? " (its container and files are still on '" : "",
			       sb->host ? sb->host : "", sb->host ? "')" : "");
		} else {
			printf("Removed sandbox '%s'\n", sb->name);
		}
		sandbox_unlock(sb, fd, lock == 0);
		runtime_clear(&rt);
	}
	store_free_list(list, nr);
	return failed ? 1 : 0;
}

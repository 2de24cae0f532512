#include <stdio.h>

#include <git2.h>

#include "cmd.h"

static const char *const version_usage[] = {
	"git sand version [--build-options]",
	NULL
};

int cmd_version(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int build = 0;
	const struct option options[] = {
		OPT_BOOL(0, "build-options", &build, "also print the libraries it was built with"),
		OPT_END(),
	};
	int major, minor, rev;

	argc = parse_options_or_usage(argc, argv, options, version_usage, 0);
	if (argc)
		usage_with_options(version_usage, options);
	printf("git-sand version %s\n", git_sand_version);
	if (build) {
		git_libgit2_version(&major, &minor, &rev);
		printf("libgit2: %d.%d.%d\n", major, minor, rev);
	}
	return 0;
}

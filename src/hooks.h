#ifndef HOOKS_H
#define HOOKS_H

#include <git2.h>

#include "strbuf.h"

/*
 * Per-branch sandboxes from git hooks. The hook programs (hooks/) are
 * compiled into git-sand and installed by it; they call "git sand hook run",
 * so that the logic is here, in C.
 */

struct hook_script {
	const char *name;	/* "post-checkout" */
	const char *text;
};
extern const struct hook_script hook_scripts[];	/* NULL-terminated */

#define HOOK_MARKER "# git-sand hook:"
#define HOOK_CHAINED_SUFFIX ".sand-chained"

/* Where git runs this repository's hooks: core.hooksPath, else <commondir>/hooks. */
int hooks_dir(git_repository *repo, const char *worktree, struct strbuf *out);

/*
 * Install each hook into dir; a hook already there that is not ours is
 * moved aside to <name>.sand-chained and run by ours. Installing twice
 * changes nothing. Uninstall puts back exactly what was there.
 */
int hooks_install(const char *dir);
int hooks_uninstall(const char *dir);
/* Whether dir/name is our hook (1), another (0, absent: -1). */
int hook_is_ours(const char *dir, const char *name);

/* "agent/Fix #1" -> "agent-fix-1": a valid sandbox name, or -1. */
int branch_to_sandbox_name(const char *branch, struct strbuf *out);
/* Whether a branch matches sand.autoBranchPattern (globs; default: all). */
int branch_matches(git_config *cfg, const char *branch);

#endif

#ifndef HOOKS_H
#define HOOKS_H

#include <git2.h>

#include "strbuf.h"

struct sandbox;
struct store;

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
int hooks_dir(struct strbuf *out, git_repository *repo, const char *worktree);

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
/*
 * Whether a branch gets a sandbox by the policy: it matches one of the
 * globs of sand.autoBranchPattern, or when there is none, it is not the
 * repository's default branch (init.defaultBranch, main or master).
 */
int branch_matches(git_config *cfg, const char *branch);

/*
 * Whether the branch was created just now: its reflog holds one entry, a
 * creation by git branch, switch -c, checkout -b or worktree add (not a
 * clone's). What the post-checkout hook tells a new branch by.
 */
int branch_just_created(git_repository *repo, const char *branch);

/*
 * Whether the branch was made from a sandbox's refs: it tracks a sand/
 * remote, or was created from one of its remote-tracking branches. Such a
 * branch (its name chosen in a sandbox) never gets a sandbox of its own.
 */
int branch_from_sandbox(git_repository *repo, git_config *cfg, const char *branch);

/*
 * Mark orphaned the sandboxes in list made from a branch of repo (whose
 * common directory is commondir) that has been deleted since, and record
 * it in st. What the commands that show or clean sandboxes run first.
 */
void hooks_mark_orphans(git_repository *repo, const char *commondir, struct store *st,
			struct sandbox *list, size_t nr);

/* Hooks that earlier versions installed, removed by install and uninstall. */
extern const char *const hooks_retired[];	/* NULL-terminated */

#endif

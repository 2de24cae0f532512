#ifndef WORK_H
#define WORK_H

#include <git2.h>

#include "fetch.h"
#include "runtime.h"
#include "sandbox.h"
#include "strbuf.h"

/*
 * The work a sandbox holds that the host repository does not: what rm,
 * new --rm and gc must not destroy without --force.
 *
 *  - commits: on any of its branches, or on a detached HEAD, that no ref
 *    of the host reaches, the sandbox's own remote-tracking refs
 *    (refs/remotes/sand/<name>/) aside, since they go with it. They are
 *    read from refs and objects fetched as sandbox_fetch() does: nothing
 *    of the clone is opened as a repository on the host.
 *  - changes: paths modified, staged, deleted or untracked (not ignored)
 *    in its clone, as its own git reports them inside the container.
 */
struct work_tip {
	char *branch;		/* "main"; "HEAD" for a detached HEAD */
	git_oid oid;
	size_t commits;		/* how many of its commits the host lacks */
};

struct sandbox_work {
	struct work_tip *tips;	/* the tips that hold such commits */
	size_t nr, alloc;
	long changes;		/* uncommitted paths; -1 when not known */
	int started;		/* its container was started to ask it */
};

#define SANDBOX_WORK_INIT { .changes = -1 }

void sandbox_work_clear(struct sandbox_work *w);
/* Whether there is anything to lose (unknown changes count as some). */
int sandbox_work_any(const struct sandbox_work *w);

/*
 * The tips of refs (as sandbox_fetch left them, their objects in repo)
 * whose commits no other ref of repo reaches. 0, or -1 with a message.
 */
int sandbox_work_commits(struct sandbox_work *out, git_repository *repo,
			 const struct sandbox *sb, const struct sandbox_refs *refs);

/*
 * Count the uncommitted paths of the clone, asking git inside the
 * (running) container. 0 with out->changes set, or -1 with a message.
 */
int sandbox_work_changes(struct sandbox_work *out, struct runtime *rt, const struct sandbox *sb);

/*
 * Save the clone's uncommitted changes (tracked and untracked, not
 * ignored) as a commit on the branch SANDBOX_WIP_BRANCH of the clone,
 * inside the container, without touching its index or files, so that a
 * fetch brings them to the host. 0 (nothing to save, or saved), or -1.
 */
#define SANDBOX_WIP_BRANCH "git-sand-uncommitted"
int sandbox_work_save_changes(struct runtime *rt, const struct sandbox *sb);

/*
 * For people: "branch 'main' (2 commits), 3 uncommitted changes", one
 * item a line after indent.
 */
void sandbox_work_describe(const struct sandbox_work *w, const char *indent, struct strbuf *out);

#endif

#ifndef CLONE_H
#define CLONE_H

#include <git2.h>

#include "strbuf.h"

/*
 * The workspace cloner: makes a sandbox's clone of a worktree.
 *
 * Objects are not copied: the clone borrows them (objects/info/alternates)
 * from the repository's mirror (see mirror.h).
 */

struct clone_opts {
	git_repository *repo;	/* the repository (this worktree) */
	const char *worktree;	/* its working tree */
	const char *gitdir;	/* its git dir (index, HEAD) */
	const char *commondir;	/* its common dir (refs, info/exclude, modules) */
	const char *dest;	/* the clone to create; must not exist (see dest_made) */
	const char *origin_url;	/* origin as seen inside the container */
	/*
	 * The mirror's objects, as the clone's alternates name them: where
	 * the container mounts it, or on another host its path there (git
	 * there reads the clone to make the working tree).
	 */
	const char *alternates;
	const char *branch;	/* create and check out this branch, or NULL */
	const char *sandbox_id;	/* recorded as sand.sandbox in the clone's config */
	const char *sandbox_name;	/* named in what its git says about origin */
	int progress;		/* show progress on stderr */
	/* Make only the .git: the working tree is made elsewhere (on another host). */
	int no_worktree;
	/* dest exists, empty: made first, for a container to mount as it is filled. */
	int dest_made;
};

/*
 * Copy the working tree (tracked, untracked, ignored; modes, symlinks as
 * links, mtimes), then build the clone's .git: HEAD, branches, tags, the
 * index as it is on the host, a sanitised config and no hooks but ours.
 * On failure, leaves what it made for the caller to remove.
 */
int clone_workspace(const struct clone_opts *o);

#endif

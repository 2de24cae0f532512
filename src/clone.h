#ifndef CLONE_H
#define CLONE_H

#include <git2.h>

#include "strbuf.h"

/*
 * The workspace cloner: makes a sandbox's clone of a host worktree.
 *
 * Objects are not copied: the clone borrows them (objects/info/alternates)
 * from a per-repository bare mirror under the state root, which is made
 * once by hard-linking the host's objects and then refreshed by fetching.
 * The mirror only ever gains objects (it is never pruned while sandboxes
 * use it), so a host that rewrites history and runs gc cannot take objects
 * away from a sandbox.
 */

/* The mirror's path for a repository: "<root>/mirrors/<base>-<hash>.git". */
void mirror_path(struct strbuf *out, const char *root, const char *commondir);

/*
 * Create or refresh the mirror from the host repository, then make sure
 * it has every blob the host worktree's index names (staged changes) and
 * the stash. Serialised per mirror by a lock that dies with the process.
 */
int mirror_update(git_repository *host, const char *commondir, const char *mirror);

struct clone_opts {
	git_repository *host;	/* the host repository (this worktree) */
	const char *worktree;	/* its working tree */
	const char *gitdir;	/* its git dir (index, HEAD) */
	const char *commondir;	/* its common dir (refs, info/exclude, modules) */
	const char *dest;	/* the clone to create; must not exist */
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
};

/*
 * Copy the working tree (tracked, untracked, ignored; modes, symlinks as
 * links, mtimes), then build the clone's .git: HEAD, branches, tags, the
 * index as it is on the host, a sanitised config and no hooks but ours.
 * On failure, leaves what it made for the caller to remove.
 */
int clone_workspace(const struct clone_opts *o);

/*
 * Copy the directory open at sfd (which this consumes) into dst, which it
 * creates: regular files and directories only, never following or copying
 * a symbolic link, so what is read from a sandbox cannot lead outside it.
 * Files are hard-linked where the filesystem allows (same inode, so the
 * copy costs nothing), else copied.
 */
int snapshot_tree(int sfd, const char *dst);

/* Copy a directory tree (files, directories, links as links) into dst. */
int copy_directory(const char *src, const char *dst);

/*
 * Copy a regular file with its mode: COPY_FOLLOW lets src be a symbolic
 * link (the user's own files), COPY_TIMES keeps its times, and with
 * COPY_MISSING_OK a missing src is not an error.
 */
#define COPY_FOLLOW (1 << 0)
#define COPY_TIMES (1 << 1)
#define COPY_MISSING_OK (1 << 2)
int copy_file(const char *src, const char *dst, unsigned flags);

/*
 * Start a child's argv with git, for running against the host repository
 * and our own mirrors only: hooks, fsmonitor and auto-gc off, and none of
 * the caller's GIT_DIR-like environment.
 */
struct child;
void hardened_git(struct child *c);

/* Copy one regular file: FICLONE, else copy_file_range, else read/write. */
int copy_file_fd(int src, int dst, off_t size);

#endif

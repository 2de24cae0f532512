#ifndef WORKSPACE_H
#define WORKSPACE_H

#include <git2.h>

#include "overlay.h"
#include "sandbox.h"
#include "ssh.h"
#include "strbuf.h"

/*
 * Where a sandbox's files live: its clone (mounted at /app), its home,
 * its env file, and the repository's mirror that the clone borrows
 * objects from. Today that is this machine or an SSH host; each is a set
 * of operations, so that callers ask what they need ("make the clone",
 * "is the clone there", "the remote's URL") and never which one it is.
 */

/* Where the container sees the mirror: the clone's origin. */
#define WORKSPACE_ORIGIN "/run/git-origin-ro"

struct workspace_ops;

struct workspace {
	const struct workspace_ops *ops;
	const struct sandbox *sb;
	const char *root;	/* the state root where the files live */
	const char *here;	/* this machine's state root */
	struct ssh_conn *ssh;	/* the connection to its host, or NULL */
};

struct ssh_host_scan;

/* What populate copies from: the host repository, as cmd_ctx has it. */
struct populate_opts {
	git_repository *repo;
	const char *worktree;
	const char *gitdir;
	const char *commondir;
	const char *branch;	/* create and check out this branch, or NULL */
	int progress;
	int overlay;	/* an overlay workspace (see overlay.h), not a copy */
	const struct overlay_owner *owner;	/* its base's files', or NULL: root's */
	int dest_made;	/* the clone exists, empty (see workspace_ops.prepare) */
	struct ssh_host_scan *scan;	/* see workspace_ops.read_ahead */
	/*
	 * An overlay's tree on a host (hex), as new chose it: HEAD's, or
	 * that of a base the host has which HEAD's is near.
	 */
	char base_tree[GIT_OID_HEXSZ + 1];
	/*
	 * The mirror's refresh where it comes after populate (the host
	 * has the overlay's base already, so populate needs none of the
	 * mirror's new objects): populate calls it first where it needs
	 * them after all. NULL where the mirror is up to date.
	 */
	int (*mirror_first)(void *data);
	void *mirror_data;
};

struct workspace_ops {
	const char *name;
	/* Its files are on this machine: the container's pid can be watched. */
	int local;
	/* The repository's mirror there. */
	void (*mirror_path)(const struct workspace *ws, struct strbuf *out);
	/* Bring the mirror there up to date with repo's refs and index. */
	int (*mirror_refresh)(const struct workspace *ws, git_repository *repo,
			      const char *commondir);
	/*
	 * Make the clone from the worktree, beside the home and env file
	 * already made in sb->dir; records in sb how the clone was made.
	 */
	int (*populate)(const struct workspace *ws, struct sandbox *sb,
			const struct populate_opts *o);
	/*
	 * Where populate can run while the container is created (a copy on
	 * this machine: the runtime needs only the directory to mount):
	 * make the clone's directory, empty, record in sb what the
	 * container is made with and in o that the directory exists, and
	 * return 1. 0 where populate must come first; -1 with a message.
	 */
	int (*prepare)(const struct workspace *ws, struct sandbox *sb, struct populate_opts *o);
	/*
	 * Where populate sends the working tree over a connection: start
	 * reading it, before the mirror's refresh, so that it is read while
	 * the connection waits (o->scan; populate uses it, and
	 * workspace_read_ahead_clear frees it); one already in o->scan is
	 * kept where it reads the tree wanted, lately. NULL where nothing
	 * is gained.
	 */
	int (*read_ahead)(const struct workspace *ws, struct sandbox *sb, struct populate_opts *o);
	/* Whether it has its own "home" or "env" file to mount. */
	int (*has)(const struct workspace *ws, const char *part);
	/* Whether the clone is there (where that cannot be told cheaply: yes). */
	int (*clone_present)(const struct workspace *ws);
	/* The URL of the clone, for the host's remote. */
	int (*url)(const struct workspace *ws, struct strbuf *out);
	/* Remove what lives outside sb->dir (which the caller removes). */
	int (*remove)(const struct workspace *ws);
};

/*
 * The workspace of sb. root is this machine's state root; ssh the
 * connection to sb's host, where it has one (else NULL: what needs it
 * fails with a message).
 */
void workspace_of(struct workspace *ws, const struct sandbox *sb, const char *root,
		  struct ssh_conn *ssh);

/* Sandboxes with equal keys share a mirror: "" here, the host elsewhere. */
const char *workspace_mirror_key(const struct sandbox *sb);

/* Free what read_ahead started (waiting for it), if anything. */
void workspace_read_ahead_clear(struct populate_opts *o);

/* The mirror's path, for callers with no connection at hand. */
void sandbox_mirror_path(const struct sandbox *sb, const char *root, struct strbuf *out);

#endif

#ifndef SSH_HOST_H
#define SSH_HOST_H

#include <git2.h>

#include "ssh.h"
#include "strbuf.h"

/*
 * A sandbox's workspace on another machine, made over an SSH connection
 * with the host's own git and tar (nothing needs installing there but git,
 * tar and podman or docker).
 *
 * The host keeps one bare mirror per repository, as this machine does.
 * Pushing to it sends only the objects it lacks: the refs it has are read
 * first and their history left out of the pack. The clone is then made
 * there: its .git (built here, small), the working-tree files that differ
 * from the index (modified, untracked, ignored) streamed as a tar, and the
 * unchanged ones checked out there from the mirror.
 */

/* The default state root on a remote host, relative to the login directory. */
#define SSH_HOST_ROOT_DEFAULT ".local/state/git-sand-remote"


/* What one round trip finds out about a host before a new. */
struct ssh_host_facts {
	unsigned long uid, gid;	/* who we are there */
	char runtime[16];	/* podman, docker, or none */
	struct strbuf root;	/* the state root there, absolute and physical */
};
/*
 * Make the state root on the host (configured: absolute, or relative to
 * the login directory) and find its path, who we are there and which
 * runtime it has, in one command.
 */
int ssh_host_probe(struct ssh_conn *c, const char *configured, struct ssh_host_facts *f);

/*
 * Bring the host's mirror (created if missing) up to date with repo's
 * refs and the index's staged blobs. tmpdir is a local directory for the
 * pack on its way.
 */
int ssh_host_mirror_push(struct ssh_conn *c, git_repository *repo, const char *mirror,
		       const char *tmpdir);

/*
 * The working tree's part of what ssh_host_send sends, read ahead in a
 * thread of its own while the connection is busy with other steps (the
 * mirror's refresh): for an overlay (tree, the hex of HEAD's tree), the
 * files that differ from the tree; for a copy (tree NULL), those the
 * host cannot check out itself. The thread opens the repository again,
 * as the command did: libgit2's objects are not shared between threads.
 * It says nothing: where it failed, or where the tree, the index or two
 * seconds have passed since, ssh_host_send reads the working tree again.
 * NULL where no thread could be started (then nothing is read ahead).
 */
struct ssh_host_scan;
struct ssh_host_scan *ssh_host_scan_start(const char *worktree, const char *tree);
/*
 * Whether s, waited for, read the tree (NULL: for a copy) lately enough
 * to be kept: where not, one started now is fresher when it is used.
 */
int ssh_host_scan_keep(struct ssh_host_scan *s, const char *tree);
/* Wait for it, and free it. */
void ssh_host_scan_free(struct ssh_host_scan *s);

struct ssh_host_send_opts {
	git_repository *repo;	/* the host repository */
	const char *worktree;	/* its working tree */
	const char *staging;	/* a local directory to send as it is (app/.git, home...) */
	const char *dest;	/* the sandbox's directory there; must not exist */
	/*
	 * An overlay workspace (see overlay.h): the bases' directory there
	 * and the tree of HEAD (hex); NULL for a copy.
	 */
	const char *bases, *tree;
	/* The working tree read ahead, or NULL: read now. */
	struct ssh_host_scan *scan;
	int progress;
	/*
	 * An overlay whose base is expected there, sent before the mirror
	 * is brought up to date: where the base or the mirror is not there
	 * after all (removed behind our back), mirror_first(data) is called
	 * (the mirror's refresh; the base is made from its objects) once
	 * the files are there, before the base is made. NULL: the mirror
	 * is up to date already.
	 */
	int (*mirror_first)(void *data);
	void *mirror_data;
	const char *mirror;	/* its path there, with mirror_first */
};

/*
 * Send staging and the working tree's changed files to dest, then check
 * out the rest of the index in dest/app from the objects there.
 *
 * For an overlay workspace, the files that differ from the tree go to
 * dest/upper instead, with a whiteout for each path of the tree that the
 * worktree lacks; the base of the tree is made there if missing (from
 * the objects there, with git's own checkout, into bases/<tree>, its
 * index beside it as bases/<tree>.index), and the sandbox's index is
 * that index (the base files' stat data) with the host index's staged
 * changes applied. The host index must have no conflicts, intent-to-add
 * or skip-worktree entries (see ssh_host_overlay_index_ok).
 */
int ssh_host_send(struct ssh_conn *c, const struct ssh_host_send_opts *w);

/*
 * Whether repo's index can be carried by an overlay workspace there: 1,
 * or 0 with why (conflicts, intent-to-add or skip-worktree entries).
 */
int ssh_host_overlay_index_ok(git_repository *repo, const char **why);

/*
 * Remove a sandbox's directory there (rm -rf). For an overlay sandbox,
 * root is the state root there: the bases no sandbox there uses any more
 * go too (by the "base" each overlay sandbox's directory holds, so a
 * sandbox of another machine's git-sand counts as well).
 */
int ssh_host_remove_sandbox(struct ssh_conn *c, const char *dir, const char *root);

/* Run argv there, capturing stdout (and stderr for messages); its status or -1. */
int ssh_host_capture(struct ssh_conn *c, const char *const *argv, const char *in, size_t in_len,
		   struct strbuf *out);

#endif

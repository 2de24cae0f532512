#ifndef FETCH_H
#define FETCH_H

#include <git2.h>

#include "sandbox.h"
#include "strbuf.h"

/*
 * Bringing a sandbox's work into the host repository.
 *
 * The clone is untrusted: nothing here opens it as a repository. Its refs
 * are read by hand (no symbolic link followed, names validated, counts and
 * sizes bounded), its own objects are copied aside without following links
 * and read from that copy and from the mirror, never through the clone's
 * alternates. Nothing of the clone's configuration is read; nothing of it
 * runs.
 */

/* Limits on what a sandbox may present. */
#define SANDBOX_MAX_REFS 10000
#define SANDBOX_MAX_REF_FILE (64 * 1024 * 1024)

struct sandbox_ref {
	char *name;	/* "refs/heads/..." */
	git_oid oid;
};

struct sandbox_refs {
	struct sandbox_ref *v;
	size_t nr, alloc;
	char *head_branch;	/* short name of HEAD's branch, if it is on one */
	git_oid head;		/* what HEAD points at (when it resolves) */
	int head_valid;
};

/* Read the branches and HEAD of the clone at clone_path. */
int sandbox_refs_read(const char *clone_path, struct sandbox_refs *out);
void sandbox_refs_clear(struct sandbox_refs *r);
/* The packed-refs parser alone (for tests and fuzzing). */
int sandbox_refs_parse_packed(const char *text, struct sandbox_refs *out, size_t *invalid);
const struct sandbox_ref *sandbox_refs_find(const struct sandbox_refs *r, const char *branch);

struct ssh_opts;
struct fetch_opts {
	int prune;
	int quiet;
	/* Bring the objects only: no ref of the repository moves. */
	int objects_only;
	/* For a sandbox on another host: how to reach it (libgit2's SSH). */
	const struct ssh_opts *ssh;
};

/*
 * Fetch a sandbox's branches to refs/remotes/sand/<name>/<branch>, and a
 * detached HEAD to refs/remotes/sand/<name>/HEAD. Prints what changed, as
 * git fetch does, on stderr. *changed counts the refs that moved. The refs
 * read are left in refs_out when given.
 */
int sandbox_fetch(git_repository *repo, const char *root, const struct sandbox *sb,
		  const struct fetch_opts *o, struct sandbox_refs *refs_out, int *changed);

#endif

#ifndef SERVED_H
#define SERVED_H

#include <git2.h>

#include "fetch.h"
#include "sandbox.h"
#include "strbuf.h"

/*
 * What a plain "git fetch sand/<name>" reads. git would run its
 * upload-pack on the clone, trusting what the sandbox put there (a
 * commondir naming another repository, FIFOs for refs, pack.* settings,
 * tags to follow). Instead the remote's uploadpack is "git-sand
 * upload-pack", which fetches the sandbox as "git sand fetch" does (its
 * objects into the host repository, nothing moved), then serves this: a
 * bare repository of git-sand's own, "<sandbox dir>/served.git", whose
 * refs are the sandbox's branches and HEAD as read and checked by us, and
 * whose objects are the host repository's.
 */

/*
 * Write it afresh for the refs read from the sandbox; tips repo does not
 * have as commits are left out. Its path goes to out. 0, or -1.
 */
int served_repo_write(struct strbuf *out, git_repository *repo, const struct sandbox *sb,
		      const struct sandbox_refs *refs);

/* The command git runs for it, as remote.<name>.uploadpack. */
#define SERVED_UPLOADPACK "git-sand upload-pack"

#endif

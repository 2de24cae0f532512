#ifndef MIRROR_H
#define MIRROR_H

#include <git2.h>

#include "strbuf.h"

/*
 * The per-repository mirror: a bare repository under the state root from
 * which every sandbox of a repository borrows its objects (through its
 * clone's objects/info/alternates), so that no sandbox copies them.
 *
 * It is made once by hard-linking the repository's objects, then refreshed
 * by fetching. The mirror only ever gains objects (it is never pruned while
 * sandboxes use it), so a repository that rewrites history and runs gc
 * cannot take objects away from a sandbox.
 */

/* The mirror's path for a repository: "<root>/mirrors/<base>-<hash>.git". */
void mirror_path(struct strbuf *out, const char *root, const char *commondir);

/*
 * Create or refresh the mirror from the repository, then make sure it has
 * every blob the repository's index names (staged changes) and the stash.
 * Serialised per mirror by a lock that dies with the process.
 */
int mirror_update(git_repository *repo, const char *commondir, const char *mirror);

#endif

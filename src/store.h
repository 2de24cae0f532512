#ifndef STORE_H
#define STORE_H

#include <stddef.h>

#include "sandbox.h"

/*
 * The SQLite store: one database per user under the state root, in WAL
 * mode with a busy timeout, so that any number of short git-sand
 * processes can use it at once. The schema is versioned with
 * PRAGMA user_version and migrated forward on open; a database from a
 * newer git-sand, or one that is not a database, is refused and left as it is.
 */
struct store;

#define STORE_NOT_FOUND 1
#define STORE_EXISTS 2

/* Open (creating if missing) "<root>/sand.db". 0, or -1 with a message. */
int store_open(struct store **out, const char *root);
void store_close(struct store *st);
const char *store_path(const struct store *st);

/*
 * Insert a new sandbox (its id, name, worktree, gitdir, dir, runtime,
 * image, state and options). STORE_EXISTS when the worktree already has a
 * sandbox of that name: the schema enforces it, so racing processes cannot
 * both win.
 */
int store_insert(struct store *st, struct sandbox *sb);

/* Look up by worktree and name. 0, STORE_NOT_FOUND, or -1. */
int store_get(struct store *st, const char *worktree, const char *name, struct sandbox *out);
int store_get_by_id(struct store *st, const char *id, struct sandbox *out);

/*
 * All sandboxes of a worktree (or of every worktree when NULL), ordered by
 * worktree then name. *out is an array of *nr sandboxes for store_free_list.
 */
int store_list(struct store *st, const char *worktree, struct sandbox **out, size_t *nr);
void store_free_list(struct sandbox *list, size_t nr);

/* Update the mutable fields (state, container, image, options) of sb. */
int store_update(struct store *st, struct sandbox *sb);
int store_delete(struct store *st, const char *id);
/*
 * Mark the sandbox's branch deleted (opts.orphaned), touching nothing else
 * of its row: other commands may be changing the rest at the same time.
 */
int store_mark_orphaned(struct store *st, const char *id);

/*
 * Record run->n as the sandbox's latest run, touching nothing else of its
 * row: 0, or STORE_EXISTS when its latest run is no longer run->n - 1
 * (another command started one meanwhile), or -1.
 */
int store_run_begin(struct store *st, const char *id, const struct sandbox_run *run);
/* Record the exit status of run n, if it is still the latest. 0 or -1. */
int store_run_status(struct store *st, const char *id, int n, int status);

#endif

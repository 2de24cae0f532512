#ifndef PATH_H
#define PATH_H

#include <git2.h>

#include "strbuf.h"

/*
 * The state root: $GIT_SAND_HOME, else sand.home, else
 * $XDG_STATE_HOME/git-sand, else ~/.local/state/git-sand.
 * Always absolute. Returns 0 or -1 with a message.
 */
int sand_state_root(struct strbuf *out, git_config *cfg);

/* mkdir -p with mode 0700 for what it creates. Returns 0 or -1 (errno). */
int mkdir_p(const char *path, mode_t mode);

/*
 * Remove a directory tree without following symlinks, staying on its
 * filesystem and inside it (openat/unlinkat). Returns 0 or -1 with a
 * message; a missing path is not an error.
 */
int remove_tree(const char *path);

/*
 * Open the directory dir/rel, going down rel one component ("a/b/c") at a
 * time and following no symbolic link on the way, nor at its end: for
 * what a sandbox can change under us. len: how much of rel to take. A
 * descriptor, or -1 with errno (ELOOP or ENOTDIR where a link or a file
 * is met). dir itself is left open.
 */
int open_dir_beneath(int dir, const char *rel, size_t len);

/*
 * Replace path with a file holding data, of exactly that mode: written
 * beside it, then renamed over it, so that a reader sees the old file or
 * the new, whole. 0, or -1 with a message.
 */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);

/*
 * This program's own file (/proc/self/exe), absolute. 0, or -1 where it
 * cannot be told (no message: callers have a fallback).
 */
int path_self_exe(struct strbuf *out);

/* Whether a and b (followed to their ends) are the same file: 1 or 0. */
int path_same_file(const char *a, const char *b);

/*
 * Whether process pid's namespace of this kind ("user", "net", ...) is
 * ours: 1, or 0 (also where it cannot be told).
 */
int path_ns_is_ours(long pid, const char *kind);

/* Join "dir/name" into out (reset first). */
void path_join(struct strbuf *out, const char *dir, const char *name);

/*
 * A path a sandbox named, as a path inside a worktree: relative, no
 * empty, "." or ".." component, nothing under ".git". 1 when it is one.
 */
int path_valid_in_tree(const char *path);

#endif

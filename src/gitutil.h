#ifndef GITUTIL_H
#define GITUTIL_H

#include <git2.h>

#include "strbuf.h"

/*
 * Where a command runs: the repository it was started in (if any), its
 * configuration as git resolves it, and the paths that key sandboxes.
 */
struct sand_repo {
	git_repository *repo;	/* NULL outside a repository */
	git_config *config;	/* snapshot: repository levels, or global only */
	char *worktree;		/* absolute, no trailing slash; NULL if bare */
	char *gitdir;		/* this worktree's git dir, no trailing slash */
	char *commondir;	/* the repository's common dir, no trailing slash */
};

/*
 * Discover the repository from the environment and cwd as git does
 * (GIT_DIR, GIT_CEILING_DIRECTORIES ...). Not being in a repository is not
 * an error: r->repo stays NULL. Returns 0 or -1 with a message.
 */
int sand_repo_open(struct sand_repo *r);
void sand_repo_clear(struct sand_repo *r);

/*
 * Read a config value. Returns 1 when set, 0 when not, -1 on error.
 * Paths get ~ expanded with config_get_path.
 */
int config_get_str(git_config *cfg, const char *key, struct strbuf *out);
int config_get_path(git_config *cfg, const char *key, struct strbuf *out);
int config_get_bool(git_config *cfg, const char *key, int *out);

/*
 * Parse GIT_CONFIG_PARAMETERS as git writes it for "git -c" ('key'='value'
 * words, or the older 'key=value'); a key without a value is "true".
 * Returns 0, or -1 on a malformed string. Used by sand_repo_open, which
 * gives these settings precedence over every file, as git does.
 */
struct string_list;
int config_parameters_parse(const char *env, struct string_list *keys,
			    struct string_list *values);

/*
 * Where the host's git would read the worktree's file of the index entry
 * e again (its size, mtime, ctime, inode or device not as recorded: git's
 * default core.checkStat), take e's stat data away, so that a git that
 * trusts less of them (core.checkStat=minimal) reads the file too. 1 when
 * they were taken, 0 when e is kept. path is scratch space.
 */
int index_entry_distrust(struct strbuf *path, const char *worktree, git_index_entry *e);

/* Strip trailing slashes (keeping a lone "/"). */
void strip_trailing_slashes(char *path);

#endif

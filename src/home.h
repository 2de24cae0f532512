#ifndef HOME_H
#define HOME_H

#include "agent.h"
#include "string-list.h"

/*
 * What a sandbox carries from the host user's home, into a home of its own
 * (<sandbox dir>/home, mounted at /home/sand with HOME pointing there):
 * copies, never the originals, and only what is documented.
 */
#define SANDBOX_HOME "/home/sand"

struct home_opts {
	const char *host_home;	/* $HOME, or NULL: nothing is carried */
	const char *worktree;	/* the host worktree, as the agent keys it */
	const struct agent *agent;	/* or NULL */
	const struct string_list *dotfiles;
	const struct string_list *agent_paths;	/* sand.agent.<agent>.carry */
	const struct string_list *agent_keys;	/* sand.agent.<agent>.carryKey */
};

/*
 * Fill <dir>/home: the dotfiles (paths under $HOME; .gitconfig is
 * sanitised) and the agent's files. Appends to carried each path copied,
 * as "~/<path>". A dotfile or carry path that is absolute or leaves $HOME
 * is an error; one that does not exist is skipped.
 */
int home_prepare(const char *dir, const struct home_opts *o, struct string_list *carried);

/*
 * Add the agent's files to the existing home of a sandbox (<dir>/home),
 * which the sandbox may have filled with anything: made apart, then moved
 * in without following any link found there. Dotfiles are left alone.
 */
int home_add_agent(const char *dir, const struct home_opts *o, struct string_list *carried);

/* A dotfile path: relative to $HOME, no "..", no empty components. */
int dotfile_path_ok(const char *path);

/*
 * Copy a git config file, dropping every setting that runs a program,
 * names a credential, includes another file or points at the host:
 * include*, credential.*, core.hooksPath, core.sshCommand, core.fsmonitor,
 * core.askPass, "!" aliases, gpg.*, commit/tag.gpgSign, http.*, url.*,
 * sendemail.*, filter.*, diff.*.textconv, diff.external, merge.*.driver,
 * sand.*. Keeps the rest (user.name and user.email among it).
 */
int gitconfig_sanitize(const char *src, const char *dst);
/* Whether gitconfig_sanitize drops this key (lowercase, as libgit2 gives it). */
int gitconfig_key_dropped(const char *key, const char *value);

/*
 * Check KEY=VALUE settings (KEY a shell name, VALUE one line) and write
 * them to path (mode 0600). The keys go to keys; values are never printed,
 * not even in errors.
 */
int env_file_write(const char *path, const struct string_list *env, struct string_list *keys);
/* The checks of env_file_write alone, to run before anything is made. */
int env_check(const struct string_list *env);

#endif

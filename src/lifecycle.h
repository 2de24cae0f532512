#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <git2.h>

#include "runtime.h"
#include "sandbox.h"
#include "store.h"

/*
 * What a sandbox is made of, beyond its row: a clone directory, a
 * container and a remote in the host repository. These functions create,
 * repair and remove those parts; they return 0 or -1 with a message.
 */

/* Where the mirror of the sandbox's repository lives. */
void sandbox_mirror_path(const struct sandbox *sb, const char *root, struct strbuf *out);

/* Create the container from the sandbox's stored options. */
int sandbox_create_container(struct runtime *rt, const char *root, struct sandbox *sb);

/*
 * Make sure the container exists and runs: recreate it from the stored
 * options if it is gone, start it if stopped. Records a new container id.
 * When started is not NULL, sets *started to 1 if it tried to start the
 * container (even if that failed), and leaves it alone otherwise.
 */
int sandbox_ensure_running(struct runtime *rt, struct store *st, const char *root,
			   struct sandbox *sb, int *started);

/* The shell to use: the stored one, else the first of zsh, bash, sh. */
int sandbox_default_shell(struct runtime *rt, struct store *st, struct sandbox *sb,
			  struct strbuf *out);

/*
 * The interactive session in /app: the sandbox's agent (when want_agent and
 * it has one the image can run; else a shell, saying so), or the shell
 * given, or the default shell. Returns its exit status.
 */
int sandbox_session(struct runtime *rt, struct store *st, struct sandbox *sb, const char *shell,
		    int want_agent);

/*
 * The host remote "sand/<name>": its URL is the clone, its branches go to
 * refs/remotes/sand/<name>/. A remote of that name that git-sand did not
 * make is never replaced.
 */
void sandbox_remote_name(const struct sandbox *sb, struct strbuf *out);
/* Fails, touching nothing, if a foreign remote of that name exists. */
int sandbox_remote_check(git_repository *repo, struct store *st, const struct sandbox *sb);
/* The remote's URL: the clone's path, or on another host an ssh:// URL. */
int sandbox_remote_url(const struct sandbox *sb, struct strbuf *out);
int sandbox_remote_add(git_repository *repo, struct store *st, const struct sandbox *sb);
/* git_remote_delete, waiting for the config lock if another process holds it. */
int remote_delete_retry(git_repository *repo, const char *name);
/* Remove the remote and its remote-tracking refs, if it is ours. */
int sandbox_remote_remove(git_repository *repo, const struct sandbox *sb);

/*
 * The lock a command holds while it creates or removes a sandbox (a file
 * beside its directory; it dies with the process). gc leaves a sandbox
 * alone while it is held. 0 with *fd set, SANDBOX_BUSY, or -1.
 */
#define SANDBOX_BUSY 1
int sandbox_lock(const struct sandbox *sb, int *fd);
void sandbox_unlock(const struct sandbox *sb, int fd, int remove);
void sandbox_lock_path(const struct sandbox *sb, struct strbuf *out);
/* Whether a command holds the lock now (without taking or creating it). */
int sandbox_lock_held(const struct sandbox *sb);
/*
 * A sandbox left half-made or half-removed by a command that died: not
 * ready, and nobody holds its lock. Only rm and gc can do anything with it.
 * A command that finished since sb was read leaves it ready (sb->state is
 * brought up to date) or gone: neither is broken.
 */
int sandbox_is_broken(struct store *st, struct sandbox *sb);

/*
 * Remove everything: container, directory, remote, row. Tolerates any of
 * them being gone already. repo may be NULL: then the host repository is
 * opened from the sandbox's record (and skipped if it is gone). With rt
 * NULL, only what is on this machine goes: the container and the files
 * on the sandbox's host are left (rm --forget).
 */
int sandbox_destroy(struct runtime *rt, struct store *st, git_repository *repo,
		    struct sandbox *sb);

#endif

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

/* Create the container from the sandbox's stored options. */
int sandbox_create_container(struct runtime *rt, const char *root, struct sandbox *sb);
/*
 * The same, calling fn(data) while the runtime creates it (see
 * container_spec.meanwhile): the clone must exist, fn may fill it. Its
 * failure fails this; a container made all the same is recorded in sb.
 * how (may be NULL) says more of how it is made; RUNTIME_NO_IMAGE with
 * how->image_unchecked when the image is missing.
 */
struct create_how {
	/* Start it too where that saves a round trip (container_spec.started). */
	unsigned start:1;
	/* Nobody looked for the image (container_spec.image_unchecked). */
	unsigned image_unchecked:1;
	int started;	/* set to 1 when it was started */
};
int sandbox_create_container_while(struct runtime *rt, const char *root, struct sandbox *sb,
				   int (*fn)(void *data), void *data, struct create_how *how);

/*
 * Make sure the container exists and runs: recreate it from the stored
 * options if it is gone, start it if stopped. Records a new container id.
 * When started is not NULL, sets *started to 1 if it tried to start the
 * container (even if that failed), and leaves it alone otherwise.
 */
int sandbox_ensure_running(struct runtime *rt, struct store *st, const char *root,
			   struct sandbox *sb, int *started);

/*
 * The start time of a process of this machine (from /proc), or 0 where it
 * cannot be told: with its pid, it names the container's PID 1 for good.
 */
unsigned long long sandbox_pid_start(long pid);

/*
 * Whether the sandbox's container runs on this machine, told without its
 * runtime: its PID 1 as recorded when it was last seen running still
 * exists, with the same start time. 1 is to be trusted; 0 says nothing
 * (stopped, gone, or never seen running): ask the runtime.
 */
int sandbox_seen_running(const struct sandbox *sb);
/*
 * Record pid as the PID 1 of the sandbox's running container, on this
 * machine, for sandbox_seen_running (in the store, when it changed). Only
 * an optimisation: a failure is not reported.
 */
void sandbox_remember_pid(struct store *st, struct sandbox *sb, long pid);

/* The shell to use: the stored one, else the first of zsh, bash, sh. */
int sandbox_default_shell(struct runtime *rt, struct store *st, struct sandbox *sb,
			  struct strbuf *out);

/*
 * The interactive session in /app: the sandbox's agent (when want_agent and
 * it has one the image can run; else a shell, saying so), or the shell
 * given, or the default shell. Returns its exit status. With use_session
 * and a terminal, it runs in a tmux session in the container (see
 * session.h), when the image has tmux: then 0 once detached.
 */
int sandbox_session(struct runtime *rt, struct store *st, struct sandbox *sb, const char *shell,
		    int want_agent, int use_session);

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

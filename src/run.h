#ifndef RUN_H
#define RUN_H

#include <sys/types.h>

#include "argv.h"
#include "strbuf.h"

/*
 * Running a child process from an argv, never through a shell.
 *
 * By default the child inherits stdin, stdout and stderr. Set out/err to
 * capture them (both may point at the same strbuf), in to feed stdin from a
 * buffer, or no_stdin to give it /dev/null.
 */
struct child {
	struct argv args;
	struct argv env;	/* "KEY=VALUE" to add, "KEY" to unset */
	const char *dir;	/* chdir here first, if set */

	struct strbuf *out;
	struct strbuf *err;
	int out_fd;		/* when > 0 and out is unset: the child's stdout */
	const char *in;		/* fed to stdin when set */
	size_t in_len;
	unsigned no_stdin:1;
	unsigned silent_err:1;	/* stderr to /dev/null when not captured */
	/*
	 * Ignore SIGINT and SIGQUIT in the parent while the child runs, as
	 * system(3) does: for commands whose exit status is the user's.
	 */
	unsigned foreground:1;
	/*
	 * Instead of out: each piece of the child's stdout as it comes, so
	 * that output of any size streams through in constant memory. A
	 * nonzero return stops reading: the child's next write fails (EPIPE).
	 */
	int (*out_cb)(void *data, const char *buf, size_t len);
	void *out_data;
	/*
	 * The most bytes out and err may hold together: past it, the child is
	 * killed and run_child fails naming the limit. 0 means
	 * run_max_output (sand.maxOutput).
	 */
	size_t max_out;
	/*
	 * Start it and do not wait: it runs in a session of its own (git and
	 * the terminal neither wait for it nor signal it), with /dev/null as
	 * its standard streams, so it must report somewhere else (a log).
	 * Nothing can be captured or fed. run_child returns once it has been
	 * started (0), or its failure to start (as for any child).
	 */
	unsigned detach:1;
	/*
	 * As conmon stands between podman exec and its command: the child
	 * runs in a session of its own (no controlling terminal of ours it
	 * could hand on), with pipes, never our descriptors, for its
	 * standard streams: its stdout and stderr copied to ours, our stdin
	 * copied to it (unless no_stdin). SIGINT, SIGQUIT, SIGTERM and
	 * SIGHUP we get are passed on to it. Copying ends when it exits, not
	 * at end of file: what it left running holds no pipe of ours open.
	 * Its stdout goes to out_cb instead when that is set. Nothing else
	 * of the streams (in, out, err, out_fd) nor detach or foreground
	 * goes with it.
	 */
	unsigned relay:1;
	/*
	 * With relay: the child starts the process to wait for and exits at
	 * once, having written that process's pid to this file (as "runc
	 * exec --detach --pid-file" does). We are made a child subreaper
	 * for it, so that the process is ours to wait for once the child has
	 * gone: the relay lasts until it exits, its status is the result,
	 * and the signals we get go to it. The child's own failure (a
	 * status other than 0) is the result otherwise. Linux only: see
	 * run_can_adopt.
	 */
	const char *adopt_pid_file;
	/*
	 * Enter this user namespace, then this mount namespace (descriptors
	 * of their /proc/<pid>/ns files, both valid) before the program
	 * starts, as "nsenter -U -m" would: for rootless podman's runtime,
	 * which runs in the namespaces podman made for the user (see
	 * oci-exec.c). The caller owns the descriptors. Linux only.
	 */
	unsigned join_ns:1;
	int ns_user_fd, ns_mnt_fd;

	/* Set by child_start: the child, and the write end of its stdin. */
	pid_t pid;
	int in_pipe;

	/* Results. */
	int exited;		/* 1 if it exited, 0 if a signal ended it */
	int code;		/* exit code, or the signal number */
	unsigned overflow:1;	/* stopped at max_out */
};

#define CHILD_INIT { .args = ARGV_INIT, .env = ARGV_INIT }

/*
 * Run the child to completion. Returns -1 (with an error message) when it
 * could not be started at all; otherwise its status in the shell's
 * convention: the exit code, or 128 + signal number. A program that is not
 * found gives 127, one that cannot be executed 126, as in a shell; then
 * child->exited is 1 and errno-like detail is in the message.
 */
int run_child(struct child *c);
void child_clear(struct child *c);

/*
 * Run the child as run_child does, and while it runs, call fn(data) here
 * (its result in *fn_ret): for work that does not depend on the child
 * until it ends. What the child writes meanwhile waits in its pipes (a
 * child with more to say than they hold waits for fn to return); a
 * cleanup signal caught meanwhile is passed on to it. Its output is
 * captured or dropped as for run_child (out, err, max_out, in); relay,
 * detach, foreground and out_cb are not for it. Returns as run_child
 * does; when the child could not be started at all (-1), fn has not
 * been called and *fn_ret is 0.
 */
int run_child_while(struct child *c, int (*fn)(void *data), void *data, int *fn_ret);

/*
 * Start the child with a pipe to its stdin, and return without waiting:
 * the caller writes to c->in_pipe, then calls child_finish, which closes
 * it and waits. Its stdout (out_fd) and stderr (silent_err) are set as
 * for run_child, but nothing is captured or fed: in, no_stdin, out, err,
 * out_cb, detach and foreground are not for it. Returns 0 once the
 * program runs, or -1 (with an error message) when it could not be
 * started; then there is nothing to finish.
 */
int child_start(struct child *c);
/*
 * Close the child's stdin and wait for it; a signal that stops us is not
 * passed on (a pager is the user's to quit). Returns as run_child does.
 */
int child_finish(struct child *c);

/*
 * Read the file at path, of at most max bytes, into out as a process in
 * the user and mount namespaces of ns_user_fd and ns_mnt_fd (see
 * join_ns): a child enters them and reads it, not through a symbolic
 * link at its end, only if it is a regular file that user namespace's
 * root owns. 0; or -1 with errno set (ENOENT: no such file; EFBIG: over
 * max; EPERM: anything else) and nothing said, out as it was.
 */
int run_read_in_ns(int ns_user_fd, int ns_mnt_fd, const char *path, size_t max,
		   struct strbuf *out);

/* Whether this system can adopt a process for a relay (adopt_pid_file). */
int run_can_adopt(void);

/*
 * Replace this process by the child's program, as exec does (with its
 * env, dir and no_stdin, and every signal's disposition the default;
 * nothing else of struct child applies). Returns only when it could
 * not, with errno set and no message: the caller says what it meant to
 * run, and exits.
 */
int run_exec(struct child *c);

/*
 * The default limit on what a child's captured output may hold: output
 * that is read whole comes from programs that print little (runtime
 * JSON, a sandbox's answers), and a sandbox must not make the host run
 * out of memory by printing without end. Set from sand.maxOutput.
 */
#define RUN_MAX_OUTPUT_DEFAULT ((size_t)64 << 20)
extern size_t run_max_output;
/* The error for output over limit (the key that raises it), as error(). */
int run_output_too_large(const char *what, size_t limit);

/* Describe how a finished child ended, e.g. "exited with status 3". */
void child_describe(const struct child *c, struct strbuf *out);

/*
 * Start a child's argv with git, for running against the user's repository
 * and our own mirrors only: hooks, fsmonitor and auto-gc off, and none of
 * the caller's GIT_DIR-like environment.
 */
void hardened_git(struct child *c);

/* Search PATH like execvp; returns 1 if found (and sets *out when given). */
int find_in_path(const char *prog, struct strbuf *out);

/*
 * GIT_SAND_TRACE: whether it is on ("1", "true" or an absolute path), and
 * a line written where it says (standard error, or appended to the file).
 */
int trace_enabled(void);
void trace_write(const struct strbuf *line);

#endif

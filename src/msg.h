#ifndef MSG_H
#define MSG_H

/*
 * Messages in git's format: "fatal: ", "error: ", "warning: ", "hint: ",
 * lowercase, no trailing period, user data quoted as '%s'.
 *
 * Modules call error() (which returns -1) and leave the decision to exit to
 * the commands; only cmd_* code and main() call die() and usage_*().
 */

#define FORMAT(n) __attribute__((format(printf, n, n + 1)))

FORMAT(1) __attribute__((noreturn)) void die(const char *fmt, ...);
FORMAT(1) __attribute__((noreturn)) void die_errno(const char *fmt, ...);
FORMAT(1) int error(const char *fmt, ...);
FORMAT(1) int error_errno(const char *fmt, ...);
FORMAT(1) void warning(const char *fmt, ...);
FORMAT(1) void warning_errno(const char *fmt, ...);
FORMAT(1) void hint(const char *fmt, ...);
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
FORMAT(3) __attribute__((noreturn)) void bug_fl(const char *file, int line, const char *fmt, ...);

/* Append libgit2's last error, as "<msg>: <libgit2 message>". */
FORMAT(1) int error_lg2(const char *fmt, ...);
FORMAT(1) __attribute__((noreturn)) void die_lg2(const char *fmt, ...);

/*
 * Run before exiting from die() or on a fatal signal, most recent first.
 * The clean-up of half-made state (a sandbox being created) registers here.
 */
typedef void (*cleanup_fn)(void *data);
void cleanup_push(cleanup_fn fn, void *data);
void cleanup_pop(void);
/* Run the clean-up stack, then exit (after an error() and hint()). */
__attribute__((noreturn)) void exit_after_cleanup(int code);
/*
 * Catch SIGINT, SIGTERM and SIGHUP: the handler only notes the signal (see
 * cleanup_signalled()); the stack runs when the command then dies. SIGPIPE
 * is not caught: main ignores it, so a closed pipe is a write error.
 */
void cleanup_install_signals(void);
/* Nonzero once a fatal signal has been received (the clean-up then runs). */
int cleanup_signalled(void);
/*
 * Hold the signals over a step that must not be cut in half (removing a
 * sandbox, the clean-up itself): they are still noted for
 * cleanup_signalled(), but the processes the step runs ignore them and
 * are not told to stop, and no number of them gives up at once.
 */
void signals_hold(int on);
int signals_held(void);

/*
 * Start each message with the local time ("2026-12-03 18:40:00 "), for
 * a process whose stderr is a log (the hooks' background work).
 */
void msg_timestamps(int on);
/*
 * The calling thread's error(), warning() and the like say nothing: a
 * thread working ahead whose failure is reported later, by doing the
 * work again in the main thread.
 */
void msg_quiet_thread(int on);
struct strbuf;
void msg_add_timestamp(struct strbuf *sb);

/* Exit codes, as git's. */
#define EXIT_FATAL 128
#define EXIT_USAGE 129

#endif

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "msg.h"
#include "strbuf.h"

static int timestamps;
/* A thread whose messages are not wanted (see msg_quiet_thread). */
static __thread int quiet;

void msg_quiet_thread(int on)
{
	quiet = on;
}

void msg_timestamps(int on)
{
	timestamps = on;
}

void msg_add_timestamp(struct strbuf *sb)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) && strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S ", &tm))
		strbuf_addstr(sb, when);
}

__attribute__((format(printf, 2, 0)))
static void vreport(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;

	if (quiet)
		return;
	if (timestamps)
		msg_add_timestamp(&sb);
	strbuf_addstr(&sb, prefix);
	strbuf_vaddf(&sb, fmt, ap);
	if (suffix) {
		strbuf_addstr(&sb, ": ");
		strbuf_addstr(&sb, suffix);
	}
	strbuf_addch(&sb, '\n');
	fflush(stdout);
	/* One write, so concurrent processes' lines do not interleave. */
	if (write(2, sb.buf, sb.len) < 0) {
		/* stderr is gone: nowhere left to report to */
	}
	strbuf_release(&sb);
}

static const char *lg2_message(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

/* The clean-up stack. */
struct cleanup {
	cleanup_fn fn;
	void *data;
};
static struct cleanup *cleanups;
static size_t cleanups_nr, cleanups_alloc;
static volatile sig_atomic_t caught_signal, extra_signals, held;

void cleanup_push(cleanup_fn fn, void *data)
{
	ALLOC_GROW(cleanups, cleanups_nr + 1, cleanups_alloc);
	cleanups[cleanups_nr].fn = fn;
	cleanups[cleanups_nr].data = data;
	cleanups_nr++;
}

void cleanup_pop(void)
{
	if (cleanups_nr)
		cleanups_nr--;
	if (!cleanups_nr) {
		free(cleanups);
		cleanups = NULL;
		cleanups_alloc = 0;
	}
}

static void run_cleanups(void)
{
	/*
	 * What undoes half-made state must not itself be cut in half: from
	 * here on, the signals that asked us to stop are ignored, and so by
	 * the processes the clean-up runs (a terminal's ^C reaches its whole
	 * process group).
	 */
	if (cleanups_nr)
		signals_hold(1);
	while (cleanups_nr) {
		struct cleanup c = cleanups[--cleanups_nr];
		c.fn(c.data);
	}
	free(cleanups);
	cleanups = NULL;
	cleanups_alloc = 0;
}

int cleanup_signalled(void)
{
	return caught_signal;
}

void signals_hold(int on)
{
	held = on;
}

int signals_held(void)
{
	return held;
}

/*
 * A fatal signal only sets a flag: the clean-up (which runs child processes
 * and touches the database) is not async-signal-safe. Long-running steps
 * poll cleanup_signalled(), and the process runner reports it, so the
 * command unwinds through its error path and exits via die().
 */
static void on_signal(int sig)
{
	/*
	 * One ^C often arrives twice: from the terminal to the process
	 * group, and again from git, which passes on to "git sand" the
	 * signals it gets. So only a third gives up at once (the user asked
	 * again), leaving what gc repairs.
	 */
	if (caught_signal && !held && ++extra_signals >= 2) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	if (!caught_signal)
		caught_signal = sig;
}

void cleanup_install_signals(void)
{
	struct sigaction sa;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static __attribute__((noreturn)) void die_now(void)
{
	int sig = caught_signal;

	run_cleanups();
	if (sig) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	exit(EXIT_FATAL);
}

void exit_after_cleanup(int code)
{
	run_cleanups();
	exit(code);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("fatal: ", fmt, ap, NULL);
	va_end(ap);
	die_now();
}

void die_errno(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vreport("fatal: ", fmt, ap, e);
	va_end(ap);
	die_now();
}

void die_lg2(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("fatal: ", fmt, ap, lg2_message());
	va_end(ap);
	die_now();
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, e);
	va_end(ap);
	return -1;
}

int error_lg2(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, lg2_message());
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, NULL);
	va_end(ap);
}

void warning_errno(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, e);
	va_end(ap);
}

void hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("hint: ", fmt, ap, NULL);
	va_end(ap);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	struct strbuf prefix = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&prefix, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vreport(prefix.buf, fmt, ap, NULL);
	va_end(ap);
	strbuf_release(&prefix);
	abort();
}

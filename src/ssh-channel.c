/*
 * Running commands over the connection: an exec channel each, with a
 * terminal when asked (raw mode here, window size changes passed on), and
 * SIGINT, SIGTERM and SIGHUP passed on to the command there.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <libssh2.h>

#include "argv.h"
#include "compat.h"
#include "msg.h"
#include "run.h"
#include "ssh-internal.h"

/*
 * The first line of the command's output is the pid the wrapper printed
 * (see ssh_run); the rest is the command's own.
 */
struct pid_reader {
	struct strbuf line;
	long pid;
	int done;
	int guard_failed;	/* "-" came instead: cmd->guard said no */
};

/* One command being run: its channel, and what is on its way. */
struct run {
	struct ssh_conn *c;
	struct ssh_cmd *cmd;
	LIBSSH2_CHANNEL *ch;
	struct strbuf pending;	/* input not written yet, from off on */
	size_t off;
	int in_done;
	struct pid_reader pr;
	size_t max;		/* the most cmd->out or cmd->err may hold */
	int forwarded;		/* the signal passed on, if one was */
	int cols, rows;		/* the terminal size there, as last sent */
	int want_cols, want_rows; /* a size to send there, when resize */
	int resize;
	uint64_t pid_ms;	/* when the pid became known */
	uint64_t nudge_at;	/* when to send SIGWINCH there, or 0 */
	uint64_t winch_ms;	/* when a SIGWINCH was last sent there */
	const sigset_t *waiting; /* the signal mask while it waits */
};

/* The handlers ssh_run replaces while the command runs, and the mask. */
struct old_handlers {
	struct sigaction winch, intr, term, hup;
	sigset_t mask;
};

static volatile sig_atomic_t got_winch, got_signal;

static void on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * The signals are blocked but while the run waits for the socket (ppoll
 * in start_wait and wait_socket): libssh2 1.10 takes a poll that a
 * signal interrupts for a failed connection, so one that came while a
 * blocking call waited for sshd (the exec's reply, the exit status, a
 * kill sent there) ended the run with an error.
 */
static void handlers_install(struct old_handlers *old)
{
	struct sigaction sa = { 0 };
	sigset_t ours;

	got_winch = got_signal = 0;
	sigemptyset(&ours);
	sigaddset(&ours, SIGWINCH);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGHUP);
	sigprocmask(SIG_BLOCK, &ours, &old->mask);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, &old->winch);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old->intr);
	sigaction(SIGTERM, &sa, &old->term);
	sigaction(SIGHUP, &sa, &old->hup);
}

/* What came while blocked is ours still: the mask goes first. */
static void handlers_restore(const struct old_handlers *old)
{
	sigprocmask(SIG_SETMASK, &old->mask, NULL);
	sigaction(SIGWINCH, &old->winch, NULL);
	sigaction(SIGINT, &old->intr, NULL);
	sigaction(SIGTERM, &old->term, NULL);
	sigaction(SIGHUP, &old->hup, NULL);
}

static struct termios saved_termios;
static int termios_saved;

static void restore_terminal(void *data)
{
	(void)data;
	if (termios_saved) {
		tcsetattr(0, TCSADRAIN, &saved_termios);
		termios_saved = 0;
	}
}

static void window_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (!ioctl(0, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

static const struct { const char *name; int sig; } signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "ABRT", SIGABRT }, { "FPE", SIGFPE }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "WINCH", SIGWINCH },
};

static int signal_number(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (!strcmp(signals[i].name, name))
			return signals[i].sig;
	return SIGTERM;
}

int ssh_failed(struct ssh_conn *c, const char *what)
{
	char *msg = NULL;

	libssh2_session_last_error(c->s, &msg, NULL, 0);
	return error("connection to '%s' failed while %s: %s", c->t.hostname, what,
		     msg && *msg ? msg : "connection lost");
}

/* What to wait for on the socket, as libssh2 asks: reading where it asks nothing. */
static short socket_events(const struct run *r)
{
	int dir = libssh2_session_block_directions(r->c->s);
	short events = 0;

	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND || !dir)
		events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		events |= POLLOUT;
	return events;
}

/*
 * While the command starts, the socket is waited for as libssh2 asks,
 * with the signals let in: 0, or -1 when one came (the run then ends
 * with 128 + it, as it does before the pid is known).
 */
static int start_wait(struct run *r, int *status)
{
	struct pollfd pfd = { .fd = r->c->fd, .events = socket_events(r) };

	/* Each second, the call again: libssh2 gives up on an sshd that never answers. */
	ppoll(&pfd, 1, &(struct timespec){ .tv_sec = 1 }, r->waiting);
	if (!got_signal)
		return 0;
	*status = 128 + got_signal;
	return -1;
}

/* This terminal in raw mode: put back by ssh_run, or by the cleanup handlers when we die. */
static void raw_mode(void)
{
	struct termios raw;

	if (isatty(0) && !tcgetattr(0, &saved_termios)) {
		termios_saved = 1;
		cleanup_push(restore_terminal, NULL);
		raw = saved_termios;
		cfmakeraw(&raw);
		tcsetattr(0, TCSADRAIN, &raw);
	}
}

/*
 * The channel, a terminal there of this one's size when asked, and the
 * command: 0, or -1 with the status to give.
 */
static int start_command(struct run *r, const char *line, int *status)
{
	const char *term = getenv("TERM");
	int rc;

	while (!(r->ch = libssh2_channel_open_session(r->c->s)))
		if (libssh2_session_last_errno(r->c->s) != LIBSSH2_ERROR_EAGAIN)
			return ssh_failed(r->c, "opening a channel");
		else if (start_wait(r, status) < 0)
			return -1;
	if (r->cmd->tty) {
		if (!term)
			term = "xterm";
		window_size(&r->cols, &r->rows);
		while ((rc = libssh2_channel_request_pty_ex(r->ch, term, (unsigned)strlen(term), NULL, 0,
							    r->cols, r->rows, 0, 0)) == LIBSSH2_ERROR_EAGAIN)
			if (start_wait(r, status) < 0)
				return -1;
		if (rc)
			return ssh_failed(r->c, "asking for a terminal");
		raw_mode();
	}
	while ((rc = libssh2_channel_exec(r->ch, line)) == LIBSSH2_ERROR_EAGAIN)
		if (start_wait(r, status) < 0)
			return -1;
	if (rc)
		return ssh_failed(r->c, "starting a command");
	return 0;
}

/*
 * The next input for the command, into r->pending: 1 when some came, 0
 * when none yet, -1 at its end, -2 when cmd->feed failed.
 */
static int read_input(struct run *r)
{
	struct ssh_cmd *cmd = r->cmd;

	strbuf_reset(&r->pending);
	r->off = 0;
	if (cmd->feed) {
		int more = cmd->feed(cmd->feed_data, &r->pending);

		if (more < 0)
			return -2;
		return !more && !r->pending.len ? -1 : 1;
	} else if (cmd->in) {
		if (!cmd->in_len)
			return -1;
		strbuf_add(&r->pending, cmd->in, cmd->in_len);
		cmd->in_len = 0;
		return 1;
	} else if (cmd->in_fd >= 0) {
		struct pollfd pfd = { .fd = cmd->in_fd, .events = POLLIN };
		char buf[16384];
		ssize_t n;

		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		n = read(cmd->in_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n <= 0)
			return -1;
		strbuf_add(&r->pending, buf, (size_t)n);
		return 1;
	}
	return -1;
}

static int send_eof(struct run *r, int progress)
{
	if (libssh2_channel_send_eof(r->ch) == LIBSSH2_ERROR_EAGAIN)
		return progress;
	r->in_done = 1;
	return 1;
}

/* Write what is pending on stdin: 1 if something was written, else 0; -1 on error. */
static int pump_in(struct run *r)
{
	int progress = 0;

	/* Nothing before the guard said yes: the input may be for another try. */
	if (r->cmd->guard && r->pr.pid <= 0)
		return 0;
	while (!r->in_done) {
		ssize_t n;

		if (r->off == r->pending.len) {
			int got = read_input(r);

			if (got == -2)
				return -1;
			if (got == -1)
				return send_eof(r, progress);
			if (!got)
				return progress;
		}
		n = libssh2_channel_write(r->ch, r->pending.buf + r->off, r->pending.len - r->off);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return progress;
		if (n < 0)
			return ssh_failed(r->c, "sending input");
		r->off += (size_t)n;
		progress = 1;
	}
	return progress;
}

static void deliver(struct strbuf *sb, int fd, const char *buf, size_t n)
{
	if (sb)
		strbuf_add(sb, buf, n);
	else if (n)
		write_in_full(fd, buf, n);
}

/*
 * Read what the channel has for one stream; 1 if something came, -1 on
 * error, -2 when sb holds more than r->max. The first line of stdout
 * (pr) is the wrapper's.
 */
static int pump_out(struct run *r, int stream, struct strbuf *sb, int fd,
		    struct pid_reader *pr)
{
	char buf[32768];
	int progress = 0;

	/* At most 1 MiB a pass: output that never stops leaves room for signals. */
	for (int reads = 0; reads < 32; reads++) {
		ssize_t n = libssh2_channel_read_ex(r->ch, stream, buf, sizeof(buf));
		char *nl;

		if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
			return progress;
		if (n < 0)
			return ssh_failed(r->c, "reading output");
		if (sb && sb->len > r->max)
			return -2;
		progress = 1;
		if (!pr || pr->done) {
			deliver(sb, fd, buf, (size_t)n);
			continue;
		}
		strbuf_add(&pr->line, buf, (size_t)n);
		nl = memchr(pr->line.buf, '\n', pr->line.len);
		if (!nl && pr->line.len < 64)
			continue;
		pr->done = 1;
		if (nl && pr->line.buf[0] == '-' && (nl == pr->line.buf + 1 ||
		    (nl == pr->line.buf + 2 && pr->line.buf[1] == '\r'))) {
			pr->guard_failed = 1;
			deliver(sb, fd, nl + 1, pr->line.len - (size_t)(nl + 1 - pr->line.buf));
		} else if (nl && isdigit((unsigned char)pr->line.buf[0])) {
			pr->pid = strtol(pr->line.buf, NULL, 10);
			deliver(sb, fd, nl + 1, pr->line.len - (size_t)(nl + 1 - pr->line.buf));
		} else {
			deliver(sb, fd, pr->line.buf, pr->line.len); /* not ours after all */
		}
	}
	return progress;
}

/*
 * libssh2 (1.10) cannot send a signal over a channel: send it with kill(1)
 * there, on a channel of its own, to the pid the wrapper printed.
 */
static void remote_kill(struct ssh_conn *c, long pid, int sig)
{
	LIBSSH2_CHANNEL *ch;
	struct strbuf line = STRBUF_INIT;
	const char *name = "TERM";
	char buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (signals[i].sig == sig)
			name = signals[i].name;
	strbuf_addf(&line, "kill -s %s %ld", name, pid);
	libssh2_session_set_blocking(c->s, 1);
	libssh2_session_set_timeout(c->s, 5000);
	if ((ch = libssh2_channel_open_session(c->s))) {
		if (!libssh2_channel_exec(ch, line.buf))
			while (libssh2_channel_read(ch, buf, sizeof(buf)) > 0)
				;
		libssh2_channel_close(ch);
		libssh2_channel_wait_closed(ch);
		libssh2_channel_free(ch);
	}
	libssh2_session_set_timeout(c->s, 0);
	libssh2_session_set_blocking(c->s, 0);
	strbuf_release(&line);
}

/* Both outputs: 1 if something came, else 0; -1 when the command is to stop. */
static int pump_outputs(struct run *r)
{
	struct ssh_cmd *cmd = r->cmd;
	int progress = 0, n;

	n = pump_out(r, 0, cmd->out, cmd->out_fd, &r->pr);
	if (n >= 0) {
		progress = n;
		n = pump_out(r, SSH_EXTENDED_DATA_STDERR, cmd->err, cmd->err_fd, NULL);
	}
	if (n == -2) {
		/* Enough: it must not make us hold more. */
		run_output_too_large(cmd->argv[0], r->max);
		if (r->pr.pid > 0)
			remote_kill(r->c, r->pr.pid, SIGKILL);
	}
	return n < 0 ? -1 : progress | n;
}

/*
 * Signals that came while blocked, let in between two passes: output
 * that never stops must not keep a ^C out.
 */
static void let_signals_in(const struct run *r)
{
	sigset_t pending, mask;

	if (sigpending(&pending) ||
	    !(sigismember(&pending, SIGWINCH) || sigismember(&pending, SIGINT) ||
	      sigismember(&pending, SIGTERM) || sigismember(&pending, SIGHUP)))
		return;
	sigprocmask(SIG_SETMASK, r->waiting, &mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

/*
 * The new window size, there. A request libssh2 could not send at once
 * is half sent, and must go before anything else: it is sent again,
 * blocking. One refused because another packet is half sent (input)
 * goes on a later pass.
 *
 * The kernel there signals a size change only when the size changes,
 * and podman exec reads the size before it listens for changes: one
 * that came in between would stay missed. So a size sent before the
 * command's pid was known, or in the second after, is followed a second
 * later by a SIGWINCH to the command itself, which looks again.
 */
static void send_size(struct run *r)
{
	LIBSSH2_SESSION *s = r->c->s;
	int rc = libssh2_channel_request_pty_size(r->ch, r->want_cols, r->want_rows);
	uint64_t now;

	if (rc == LIBSSH2_ERROR_EAGAIN) {
		libssh2_session_set_blocking(s, 1);
		libssh2_session_set_timeout(s, 5000);
		rc = libssh2_channel_request_pty_size(r->ch, r->want_cols, r->want_rows);
		libssh2_session_set_timeout(s, 0);
		libssh2_session_set_blocking(s, 0);
	}
	if (rc == LIBSSH2_ERROR_BAD_USE)
		return;
	r->resize = 0;
	if (rc)
		return;
	r->cols = r->want_cols;
	r->rows = r->want_rows;
	now = monotonic_ms();
	if (!r->pid_ms || now - r->pid_ms < 1000)
		r->nudge_at = now + 1000;
}

/*
 * What happened here while the command runs: a new window size, passed
 * on; a signal, passed on to the command there (with a terminal, ^C went
 * as a byte already). Before its pid is known, ending the channel ends
 * its input and output: -1, with the status to give.
 *
 * A SIGWINCH here with no new size is passed on to the command itself
 * (once a second at most: each is a channel of its own).
 */
static int pass_on_events(struct run *r, int *status)
{
	uint64_t now = monotonic_ms();
	int sig;

	let_signals_in(r);
	if (r->pr.pid > 0 && !r->pid_ms)
		r->pid_ms = now;
	if (got_winch && r->cmd->tty) {
		got_winch = 0;
		window_size(&r->want_cols, &r->want_rows);
		if (r->want_cols != r->cols || r->want_rows != r->rows)
			r->resize = 1;
		else if (!r->nudge_at)
			r->nudge_at = now < r->winch_ms + 1000 ? r->winch_ms + 1000 : now;
	}
	if (r->resize)
		send_size(r);
	if (r->nudge_at && r->pr.pid > 0 && now >= r->nudge_at) {
		r->nudge_at = 0;
		remote_kill(r->c, r->pr.pid, SIGWINCH);
		r->winch_ms = monotonic_ms();
	}
	if (!got_signal)
		return 0;
	sig = got_signal;
	got_signal = 0;
	if (r->pr.pid <= 0) {
		*status = 128 + sig;
		return -1;
	}
	remote_kill(r->c, r->pr.pid, sig);
	r->forwarded = sig;
	return 0;
}

static void wait_socket(struct run *r)
{
	struct ssh_cmd *cmd = r->cmd;
	struct pollfd pfd[2];
	int nfds = 1, ignore;
	long ms = 1000;

	pfd[0] = (struct pollfd){ .fd = r->c->fd, .events = socket_events(r) };
	/* Not while a guard holds the input back: it would be ready at once. */
	if (!r->in_done && cmd->in_fd >= 0 && !cmd->feed && !cmd->in &&
	    r->off == r->pending.len && !(cmd->guard && r->pr.pid <= 0)) {
		pfd[1] = (struct pollfd){ .fd = cmd->in_fd, .events = POLLIN };
		nfds = 2;
	}
	/* At most a second, less where a SIGWINCH is due there. */
	if (r->nudge_at && r->pr.pid > 0) {
		uint64_t now = monotonic_ms();

		ms = r->nudge_at <= now ? 0 : r->nudge_at - now < 1000 ? (long)(r->nudge_at - now) : 1000;
	}
	if (ppoll(pfd, (nfds_t)nfds, &(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 },
		  r->waiting) == 0)
		libssh2_keepalive_send(r->c->s, &ignore);
}

/*
 * Move input and output until the command's output ends: 0, or -1 with
 * the status to give (-1 after an error).
 */
static int exchange(struct run *r, int *status)
{
	libssh2_session_set_blocking(r->c->s, 0);
	for (;;) {
		int in, out;

		if (pass_on_events(r, status) < 0)
			return -1;
		if ((in = pump_in(r)) < 0 || (out = pump_outputs(r)) < 0) {
			*status = -1;
			return -1;
		}
		if (libssh2_channel_eof(r->ch))
			return 0;
		if (!in && !out)
			wait_socket(r);
	}
}

/* Once its output ended: the command's exit status, as a shell gives it. */
static int exit_status(struct run *r)
{
	LIBSSH2_SESSION *s = r->c->s;
	char *signame = NULL;
	int status;

	libssh2_session_set_blocking(s, 1);
	libssh2_session_set_timeout(s, 10000);
	libssh2_channel_close(r->ch);
	libssh2_channel_wait_closed(r->ch);
	libssh2_session_set_timeout(s, 0);
	libssh2_channel_get_exit_signal(r->ch, &signame, NULL, NULL, NULL, NULL, NULL);
	if (signame) {
		status = 128 + signal_number(signame);
		libssh2_free(s, signame);
	} else {
		status = libssh2_channel_get_exit_status(r->ch);
	}
	/*
	 * A runtime's exec may end quietly (status 0) on the signal it got:
	 * it still ended because of it, as a shell would say.
	 */
	if (r->forwarded && !status)
		status = 128 + r->forwarded;
	return status;
}

static void channel_free(struct ssh_conn *c, LIBSSH2_CHANNEL *ch)
{
	libssh2_session_set_blocking(c->s, 1);
	libssh2_session_set_timeout(c->s, 2000);
	libssh2_channel_free(ch);
	libssh2_session_set_timeout(c->s, 0);
}

/* Counted for GIT_SAND_SSH_STATS; "trace: ssh: <argv> (<ms> ms)" for GIT_SAND_TRACE. */
static void channel_trace(struct ssh_conn *c, const struct ssh_cmd *cmd, uint64_t start)
{
	uint64_t ms = monotonic_ms() - start;
	struct strbuf line = STRBUF_INIT;

	c->channels++;
	c->channel_ms += ms;
	if (!trace_enabled())
		return;
	strbuf_addstr(&line, "trace: ssh: ");
	sq_quote_argv(&line, cmd->argv);
	strbuf_addf(&line, " (%llu ms)\n", (unsigned long long)ms);
	trace_write(&line);
	strbuf_release(&line);
}

/*
 * The command runs under a wrapper that prints its pid first, so that a
 * signal can be passed on (see remote_kill); with a guard, that runs
 * first (its quoted words are the wrapper's first argument), and when it
 * does not print "true" the wrapper prints "-" and ends.
 */
static void wrap(const struct ssh_cmd *cmd, struct strbuf *line)
{
	static const char *const wrapper[] = { "sh", "-c", "echo $$ && exec \"$@\"", "sh", NULL };
	const char *guarded[] = {
		"sh", "-c", "test \"$(eval \"$1\" 2>/dev/null)\" = true || { echo -; exit 0; }; shift; "
		"echo $$ && exec \"$@\"", "sh", NULL, NULL
	};
	struct strbuf guard = STRBUF_INIT;

	if (cmd->guard) {
		sq_quote_argv(&guard, cmd->guard);
		guarded[4] = guard.buf;
		sq_quote_argv(line, guarded);
	} else {
		sq_quote_argv(line, wrapper);
	}
	strbuf_addch(line, ' ');
	sq_quote_argv(line, cmd->argv);
	strbuf_release(&guard);
}

/* Where the one shell runs it (see ssh_conn_batch). */
static int for_the_shell(const struct ssh_conn *c, const struct ssh_cmd *cmd)
{
	return c->batch && !cmd->tty && cmd->err && !cmd->guard;
}

void ssh_start(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	int status = SSH_MUX_UNAVAILABLE;

	if (c->bg_status == SSH_IN_BACKGROUND)
		BUG("ssh_start while a command runs in the background");
	cmd->guard_failed = 0;
	c->bg_start = monotonic_ms();
	if (for_the_shell(c, cmd) && !cmd->in && cmd->in_fd < 0 && !cmd->feed)
		status = ssh_mux_start(c, cmd);
	if (!status)
		status = SSH_IN_BACKGROUND;
	else if (status == SSH_MUX_UNAVAILABLE)
		status = ssh_run(c, cmd);
	c->bg_status = status;
}

int ssh_finish(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	int status = c->bg_status;

	if (status != SSH_IN_BACKGROUND)
		return status;
	status = ssh_mux_finish(c, cmd);
	c->bg_status = status;
	channel_trace(c, cmd, c->bg_start);
	return status;
}

int ssh_run(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	struct run r = { .c = c, .cmd = cmd, .pending = STRBUF_INIT,
			 .pr = { .line = STRBUF_INIT },
			 .max = cmd->max_out ? cmd->max_out : run_max_output };
	struct strbuf line = STRBUF_INIT;
	struct old_handlers old;
	uint64_t start = monotonic_ms();
	int status = -1;

	cmd->guard_failed = 0;
	if (for_the_shell(c, cmd)) {
		status = ssh_mux_run(c, cmd);
		if (status != SSH_MUX_UNAVAILABLE) {
			channel_trace(c, cmd, start);
			return status;
		}
		status = -1;
	}
	wrap(cmd, &line);
	handlers_install(&old);
	r.waiting = &old.mask;
	libssh2_session_set_blocking(c->s, 0);
	c->sessions++;
	if (start_command(&r, line.buf, &status) < 0)
		goto done;
	if (!exchange(&r, &status))
		status = exit_status(&r);
	cmd->guard_failed = r.pr.guard_failed;
done:
	handlers_restore(&old);
	if (termios_saved) {
		restore_terminal(NULL);
		cleanup_pop();
	}
	libssh2_session_set_blocking(c->s, 1);
	if (r.ch)
		channel_free(c, r.ch);
	channel_trace(c, cmd, start);
	strbuf_release(&line);
	strbuf_release(&r.pending);
	strbuf_release(&r.pr.line);
	return status;
}

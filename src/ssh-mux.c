/*
 * One shell on the host for many commands (ssh_conn_batch): sshd starts
 * the user's login shell for every exec request, and where that shell's
 * start-up is slow (a ~/.bashrc that runs pyenv, say) each command pays it.
 * Here one exec request starts a fixed POSIX sh script that runs the
 * commands sent to it one after the other, so the start-up is paid once
 * per connection.
 *
 * What goes there, for each command:
 *
 *   <length>\n<the command, quoted by sq_quote_argv>
 *   <length>\n<that many bytes of its input> ... 0\n
 *
 * and what comes back once it ended (its output kept in files there until
 * then, so that the lengths are known):
 *
 *   <exit status> <stdout length> <stderr length>\n<stdout><stderr>
 *
 * One command at a time may run in the background (ssh_mux_start): it is
 * sent as "&" and the quoted command, with no input, and no reply comes;
 * the commands after it run as usual meanwhile, until "wait" (no input
 * either) gets its reply, in the form above, once it ended. A shell that
 * ends (its input closed) waits for it first, so that whatever it made
 * is there to be found and undone once the shell is gone.
 *
 * What comes back is hostile input: the header is parsed strictly, and
 * what the command may make us hold is bounded as for a channel of its
 * own. The script needs "head -c" to read exactly what it is asked for
 * (GNU's and BSD's do); it checks that first, and says "no" when it
 * cannot: then every command gets a channel of its own, as before.
 *
 * Each process the script starts costs a few milliseconds there, so it
 * starts few: a command with no input (most of them) runs without a
 * pipeline, exec'd by its subshell, and one wc measures both outputs; an
 * empty output is not copied. A no-op command went from 37 ms to 12 ms
 * of the shell's time here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "compat.h"
#include "msg.h"
#include "run.h"
#include "ssh-internal.h"

#define MUX_READY "git-sand-mux 1"
#define MUX_NO "git-sand-mux no"
/* Input goes in chunks of at most this much (one "head -c" each there). */
#define MUX_CHUNK (1024 * 1024)
/* Lines the login shell may print before the script's first. */
#define MUX_NOISE (64 * 1024)

const char ssh_mux_script[] =
	"trap 'exit 1' HUP INT PIPE TERM\n"
	"d=$(mktemp -d 2>/dev/null) || { echo '" MUX_NO "'; exit 0; }\n"
	"trap 'test -z \"$b\" || wait \"$b\"; rm -rf \"$d\"' EXIT\n"
	"test \"$(printf abc | { head -c 1 >/dev/null; cat; })\" = bc ||"
	" { echo '" MUX_NO "'; exit 0; }\n"
	"echo '" MUX_READY "'\n"
	"b=\n"
	"while IFS= read -r n; do\n"
	"	case $n in ''|*[!0-9]*) exit 1;; esac\n"
	"	c=$(head -c \"$n\")\n"
	"	IFS= read -r k || exit 1\n"
	"	case $k in ''|*[!0-9]*) exit 1;; esac\n"
	"	f=$d/\n"
	"	case $c in\n"
	"	'&'*)\n"
	"		test \"$k\" -eq 0 && test -z \"$b\" || exit 1\n"
	"		(eval \"exec ${c#?}\") </dev/null >\"$d/bo\" 2>\"$d/be\" &\n"
	"		b=$!\n"
	"		continue;;\n"
	"	wait)\n"
	"		test \"$k\" -eq 0 && test -n \"$b\" || exit 1\n"
	"		wait \"$b\"\n"
	"		s=$? b= f=$d/b;;\n"
	"	*)\n"
	"		if test \"$k\" -eq 0; then\n"
	"			(eval \"exec $c\") </dev/null >\"$d/o\" 2>\"$d/e\"\n"
	"			s=$?\n"
	"		else\n"
	"			rm -f \"$d/s\"\n"
	"			{ head -c \"$k\"; while IFS= read -r k && test \"$k\" -gt 0; do head -c \"$k\"; done; } |\n"
	"			{ (eval \"exec $c\") >\"$d/o\" 2>\"$d/e\"; echo $? >\"$d/s\"; cat >/dev/null; }\n"
	"			read -r s <\"$d/s\" || exit 1\n"
	"		fi;;\n"
	"	esac\n"
	"	test \"$s\" -le 255 || s=$((s & 127 | 128))\n"
	"	wc -c \"${f}o\" \"${f}e\" >\"$d/w\" || exit 1\n"
	"	{ read -r o x; read -r e x; } <\"$d/w\"\n"
	"	echo \"$s $o $e\"\n"
	"	test \"$o\" -eq 0 || head -c \"$o\" <\"${f}o\"\n"
	"	test \"$e\" -eq 0 || head -c \"$e\" <\"${f}e\"\n"
	"done\n";

/* More of the script's output into c->mux_buf: 0, or -1 at its end or on an error. */
static int mux_fill(struct ssh_conn *c)
{
	char buf[32768];
	ssize_t n;

	if (c->mux_off == c->mux_buf.len) {
		strbuf_reset(&c->mux_buf);
		c->mux_off = 0;
	}
	/*
	 * Blocking calls end when a keepalive is due (libssh2 sends it):
	 * a command may take longer than that.
	 */
	do
		n = libssh2_channel_read(c->mux, buf, sizeof(buf));
	while (n == LIBSSH2_ERROR_TIMEOUT);
	if (n < 0)
		return ssh_failed(c, "reading output");
	if (!n)
		return error("the shell on '%s' went away", c->t.hostname);
	strbuf_add(&c->mux_buf, buf, (size_t)n);
	return 0;
}

/* The next line, without its newline, of at most max bytes: 0, or -1. */
static int mux_line(struct ssh_conn *c, struct strbuf *line, size_t max)
{
	strbuf_reset(line);
	for (;;) {
		const char *p = c->mux_buf.buf + c->mux_off;
		size_t left = c->mux_buf.len - c->mux_off;
		const char *nl = memchr(p, '\n', left);
		size_t n = nl ? (size_t)(nl - p) : left;

		strbuf_add(line, p, n);
		c->mux_off += n + !!nl;
		if (line->len > max)
			return error("'%s' sent a line too long", c->t.hostname);
		if (nl)
			return 0;
		if (mux_fill(c) < 0)
			return -1;
	}
}

/* n bytes of output, to sb (when keep) or fd (when >= 0), else nowhere. */
static int mux_take(struct ssh_conn *c, uint64_t n, struct strbuf *sb, int keep, int fd)
{
	while (n) {
		size_t left = c->mux_buf.len - c->mux_off, k;

		if (!left && mux_fill(c) < 0)
			return -1;
		left = c->mux_buf.len - c->mux_off;
		k = left < n ? left : (size_t)n;
		if (sb && keep)
			strbuf_add(sb, c->mux_buf.buf + c->mux_off, k);
		else if (!sb && fd >= 0)
			write_in_full(fd, c->mux_buf.buf + c->mux_off, k);
		c->mux_off += k;
		n -= k;
	}
	return 0;
}

static int mux_write(struct ssh_conn *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = libssh2_channel_write(c->mux, buf, len);

		if (n == LIBSSH2_ERROR_TIMEOUT)
			continue;
		if (n < 0)
			return ssh_failed(c, "sending a command");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "<length>\n<bytes>", the framing of the command and of each input chunk. */
static int mux_frame(struct ssh_conn *c, const char *buf, size_t len)
{
	char head[32];

	snprintf(head, sizeof(head), "%zu\n", len);
	if (mux_write(c, head, strlen(head)) < 0)
		return -1;
	return mux_write(c, buf, len);
}

/* The script's first line: 1 when it runs commands, 0 when it cannot, -1. */
static int mux_greeting(struct ssh_conn *c)
{
	struct strbuf line = STRBUF_INIT;
	size_t seen = 0;
	int ret = -1;

	while (seen <= MUX_NOISE && !mux_line(c, &line, MUX_NOISE)) {
		if (!strcmp(line.buf, MUX_READY) || !strcmp(line.buf, MUX_NO)) {
			ret = !strcmp(line.buf, MUX_READY);
			break;
		}
		seen += line.len + 1;
	}
	strbuf_release(&line);
	return ret;
}

void ssh_mux_close(struct ssh_conn *c)
{
	if (!c->mux)
		return;
	libssh2_session_set_blocking(c->s, 1);
	libssh2_session_set_timeout(c->s, 2000);
	libssh2_channel_send_eof(c->mux);
	libssh2_channel_close(c->mux);
	libssh2_channel_wait_closed(c->mux);
	libssh2_channel_free(c->mux);
	libssh2_session_set_timeout(c->s, 0);
	c->mux = NULL;
	strbuf_release(&c->mux_buf);
	c->mux_off = 0;
}

/* The shell, started on first use: 0 when it runs, -1 when it cannot be used. */
static int mux_start(struct ssh_conn *c)
{
	const char *argv[] = { "exec", "sh", "-c", ssh_mux_script, NULL };
	struct strbuf line = STRBUF_INIT;
	int ok = -1;

	if (c->mux_state)
		return c->mux_state > 0 ? 0 : -1;
	c->mux_state = -1;
	sq_quote_argv(&line, argv);
	libssh2_session_set_blocking(c->s, 1);
	c->sessions++;
	if (!(c->mux = libssh2_channel_open_session(c->s)))
		goto done;
	/* What the login shell says on stderr is of no interest. */
	libssh2_channel_handle_extended_data2(c->mux, LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
	if (libssh2_channel_exec(c->mux, line.buf))
		goto done;
	ok = mux_greeting(c);
done:
	if (ok <= 0) {
		if (trace_enabled()) {
			strbuf_reset(&line);
			strbuf_addf(&line, "trace: ssh: no shell for many commands on '%s'\n",
				    c->t.hostname);
			trace_write(&line);
		}
		ssh_mux_close(c);
	} else {
		c->mux_state = 1;
	}
	strbuf_release(&line);
	return ok > 0 ? 0 : -1;
}

/* One chunk of the input, as it comes: 1 more to come, 0 at its end, -1. */
static int next_input(struct ssh_cmd *cmd, struct strbuf *chunk)
{
	if (cmd->feed) {
		/* A feed fills what it is given up to a piece of its own. */
		struct strbuf piece = STRBUF_INIT;
		int more = 1;

		while (more > 0 && chunk->len < MUX_CHUNK) {
			strbuf_reset(&piece);
			more = cmd->feed(cmd->feed_data, &piece);
			strbuf_addbuf(chunk, &piece);
		}
		strbuf_release(&piece);
		return more;
	}
	if (cmd->in) {
		size_t k = cmd->in_len < MUX_CHUNK ? cmd->in_len : MUX_CHUNK;

		strbuf_add(chunk, cmd->in, k);
		cmd->in += k;
		cmd->in_len -= k;
		return cmd->in_len > 0;
	}
	if (cmd->in_fd >= 0) {
		while (chunk->len < MUX_CHUNK) {
			ssize_t n;

			strbuf_grow(chunk, 65536);
			n = read(cmd->in_fd, chunk->buf + chunk->len, 65536);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return error_errno("cannot read the input of '%s'", cmd->argv[0]);
			if (!n)
				return 0;
			strbuf_setlen(chunk, chunk->len + (size_t)n);
		}
		return 1;
	}
	return 0;
}

/*
 * The command and its input (none with prefix, "&" or "wait"): 0, or -1
 * (then the shell is not to be used again).
 */
static int mux_send(struct ssh_conn *c, struct ssh_cmd *cmd, const char *prefix)
{
	struct strbuf buf = STRBUF_INIT;
	int more = !prefix, ret = -1;

	if (prefix)
		strbuf_addstr(&buf, prefix);
	if (cmd->argv)
		sq_quote_argv(&buf, cmd->argv);
	if (mux_frame(c, buf.buf, buf.len) < 0)
		goto done;
	while (more > 0) {
		strbuf_reset(&buf);
		if ((more = next_input(cmd, &buf)) < 0)
			goto done;
		if (buf.len && mux_frame(c, buf.buf, buf.len) < 0)
			goto done;
	}
	ret = mux_write(c, "0\n", 2);
done:
	strbuf_release(&buf);
	return ret;
}

/* A number of up to 19 digits ending at *end: 0, or -1. */
static int parse_count(const char **p, char end, uint64_t *out)
{
	size_t n = strspn(*p, "0123456789");

	if (!n || n > 19 || (*p)[n] != end)
		return -1;
	*out = strtoull(*p, NULL, 10);
	*p += n + 1;
	return 0;
}

/* "<status> <out> <err>", strictly: 0, or -1. */
static int parse_header(const char *line, int *status, uint64_t *out, uint64_t *err)
{
	uint64_t st;

	if (parse_count(&line, ' ', &st) < 0 || st > 255 || parse_count(&line, ' ', out) < 0 ||
	    parse_count(&line, '\0', err) < 0)
		return -1;
	*status = (int)st;
	return 0;
}

/*
 * The command's status and output, once it ended: its status, or -1; *lost
 * is set when the shell there cannot be followed any more.
 */
static int mux_receive(struct ssh_conn *c, struct ssh_cmd *cmd, int *lost)
{
	size_t max = cmd->max_out ? cmd->max_out : run_max_output;
	struct strbuf line = STRBUF_INIT;
	uint64_t nout, nerr;
	int status = -1, keep_out, keep_err;

	*lost = 1;
	if (mux_line(c, &line, 64) < 0)
		goto done;
	if (parse_header(line.buf, &status, &nout, &nerr) < 0) {
		status = error("'%s' sent a reply that makes no sense", c->t.hostname);
		goto done;
	}
	/* Read to the end whatever the size, so that the next reply is found. */
	keep_out = !cmd->out || cmd->out->len + nout <= max;
	keep_err = !cmd->err || cmd->err->len + nerr <= max;
	if (mux_take(c, nout, cmd->out, keep_out, cmd->out_fd) < 0 ||
	    mux_take(c, nerr, cmd->err, keep_err, cmd->err_fd) < 0) {
		status = -1;
		goto done;
	}
	*lost = 0;
	if (!keep_out || !keep_err)
		status = run_output_too_large(cmd->argv[0], max);
done:
	strbuf_release(&line);
	return status;
}

/* Out of step with the shell there: no more commands through it. */
static void mux_lost(struct ssh_conn *c)
{
	ssh_mux_close(c);
	c->mux_state = -1;
}

int ssh_mux_run(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	int status, lost = 1;

	if (mux_start(c) < 0)
		return SSH_MUX_UNAVAILABLE;
	libssh2_session_set_blocking(c->s, 1);
	status = mux_send(c, cmd, NULL);
	if (!status)
		status = mux_receive(c, cmd, &lost);
	if (lost)
		mux_lost(c);
	return status;
}

int ssh_mux_start(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	if (mux_start(c) < 0)
		return SSH_MUX_UNAVAILABLE;
	libssh2_session_set_blocking(c->s, 1);
	if (mux_send(c, cmd, "&") < 0) {
		mux_lost(c);
		return -1;
	}
	return 0;
}

int ssh_mux_finish(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	struct ssh_cmd wait = *cmd;
	int status, lost = 1;

	if (!c->mux)
		return error("the shell on '%s' went away: whether '%s' did its work there "
			     "is not known", c->t.hostname, cmd->argv[0]);
	libssh2_session_set_blocking(c->s, 1);
	wait.argv = NULL;
	status = mux_send(c, &wait, "wait");
	if (!status)
		status = mux_receive(c, cmd, &lost);
	if (lost)
		mux_lost(c);
	return status;
}

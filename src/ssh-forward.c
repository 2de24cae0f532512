/*
 * Forward connections made to a listening socket here to an address of
 * the SSH host, each through a "direct-tcpip" channel of the connection
 * already open (as 'ssh -L' does), until told to stop. One process, one
 * poll loop: the session is non-blocking, every connection keeps what
 * the other side could not take yet.
 *
 * libssh2 sends one packet at a time: a call that could send only part
 * of one returns EAGAIN, and until that same call is made again, any
 * other that sends fails. So the connection whose call left a packet
 * half-sent owns the session (f->owner) and retries that call alone;
 * the others wait, and no channel is opened or closed meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "ssh-internal.h"

#define FORWARD_CHUNK 32768

enum fwd_op { OP_WRITE, OP_EOF, OP_READ };

struct fwd_conn {
	unsigned long serial;
	int fd;
	LIBSSH2_CHANNEL *ch;
	struct strbuf to_ch, to_fd;	/* read, not written yet */
	size_t to_ch_off, to_fd_off;
	unsigned fd_eof:1, ch_eof:1, eof_sent:1;
	unsigned over:1;	/* to be closed once no packet is half-sent */
};

struct forward {
	struct ssh_conn *c;
	const char *host;
	unsigned port;
	struct fwd_conn *conns;
	size_t nr, alloc;
	unsigned long serial, owner;	/* owner: 0, or the serial of the one */
	enum fwd_op owner_op;
};

/* A socket error: the connection to the host is gone. */
static int lost(struct forward *f, int err)
{
	switch (err) {
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
		return error("lost the connection to '%s'", f->c->t.host);
	}
	return 0;
}

static void conn_free(struct forward *f, struct fwd_conn *fc)
{
	if (fc->ch) {
		libssh2_session_set_blocking(f->c->s, 1);
		libssh2_channel_close(fc->ch);
		libssh2_channel_free(fc->ch);
		libssh2_session_set_blocking(f->c->s, 0);
	}
	close(fc->fd);
	strbuf_release(&fc->to_ch);
	strbuf_release(&fc->to_fd);
}

/*
 * A new connection: its channel opened there, or it is closed at once.
 * -1 when the connection to the host is gone.
 */
static int conn_accept(struct forward *f, int lfd)
{
	struct fwd_conn *fc;
	LIBSSH2_CHANNEL *ch;
	int fd = accept(lfd, NULL, NULL);
	char *msg = NULL;
	int err = 0;

	if (fd < 0)
		return 0;
	libssh2_session_set_blocking(f->c->s, 1);
	ch = libssh2_channel_direct_tcpip_ex(f->c->s, f->host, (int)f->port, "127.0.0.1", 0);
	if (!ch)
		err = libssh2_session_last_error(f->c->s, &msg, NULL, 0);
	libssh2_session_set_blocking(f->c->s, 0);
	if (!ch) {
		close(fd);
		if (lost(f, err))
			return -1;
		warning("'%s' did not connect to %s port %u: %s", f->c->t.host, f->host, f->port,
			msg && *msg ? msg : "refused");
		return 0;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		libssh2_session_set_blocking(f->c->s, 1);
		libssh2_channel_free(ch);
		libssh2_session_set_blocking(f->c->s, 0);
		close(fd);
		return 0;
	}
	ALLOC_GROW(f->conns, f->nr + 1, f->alloc);
	fc = &f->conns[f->nr++];
	memset(fc, 0, sizeof(*fc));
	fc->serial = ++f->serial;
	fc->fd = fd;
	fc->ch = ch;
	libssh2_channel_handle_extended_data2(ch, LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
	strbuf_init(&fc->to_ch, 0);
	strbuf_init(&fc->to_fd, 0);
	return 0;
}

/* Write what is pending for the socket: 1 when all is out, 0 when it must wait, -1. */
static int flush_fd(struct fwd_conn *fc)
{
	while (fc->to_fd_off < fc->to_fd.len) {
		ssize_t n = write(fc->fd, fc->to_fd.buf + fc->to_fd_off,
				  fc->to_fd.len - fc->to_fd_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		fc->to_fd_off += (size_t)n;
	}
	strbuf_reset(&fc->to_fd);
	fc->to_fd_off = 0;
	return 1;
}

/*
 * After a call of fc's that sends (op), returning ret: fc owns the
 * session while a packet is half-sent, and gives it up once it is not.
 */
static void note_send(struct forward *f, struct fwd_conn *fc, enum fwd_op op, ssize_t ret)
{
	int dir = libssh2_session_block_directions(f->c->s);

	if (ret == LIBSSH2_ERROR_EAGAIN && (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)) {
		f->owner = fc->serial;
		f->owner_op = op;
	} else if (f->owner == fc->serial) {
		f->owner = 0;
	}
}

/* The same as flush_fd, for the channel. */
static int flush_ch(struct forward *f, struct fwd_conn *fc)
{
	while (fc->to_ch_off < fc->to_ch.len) {
		ssize_t n = libssh2_channel_write(fc->ch, fc->to_ch.buf + fc->to_ch_off,
						  fc->to_ch.len - fc->to_ch_off);

		note_send(f, fc, OP_WRITE, n);
		if (n == LIBSSH2_ERROR_EAGAIN || !n)
			return 0; /* 0: no window, and nothing read that opens it */
		if (n < 0)
			return -1;
		fc->to_ch_off += (size_t)n;
	}
	strbuf_reset(&fc->to_ch);
	fc->to_ch_off = 0;
	return 1;
}

static int send_eof(struct forward *f, struct fwd_conn *fc)
{
	int r;

	if (!fc->fd_eof || fc->eof_sent || fc->to_ch_off < fc->to_ch.len)
		return 0;
	r = libssh2_channel_send_eof(fc->ch);
	note_send(f, fc, OP_EOF, r);
	if (r < 0 && r != LIBSSH2_ERROR_EAGAIN)
		return -1;
	fc->eof_sent = !r;
	return 0;
}

/* From the channel to the socket: 1 when something moved, 0, -1. */
static int channel_to_fd(struct forward *f, struct fwd_conn *fc)
{
	ssize_t n;
	int r;

	if ((r = flush_fd(fc)) < 0)
		return -1;
	if (!r || fc->ch_eof)
		return 0;
	strbuf_grow(&fc->to_fd, FORWARD_CHUNK);
	n = libssh2_channel_read(fc->ch, fc->to_fd.buf, FORWARD_CHUNK);
	note_send(f, fc, OP_READ, n); /* it may send a window adjustment */
	if (n > 0) {
		strbuf_setlen(&fc->to_fd, (size_t)n);
		return flush_fd(fc) < 0 ? -1 : 1;
	}
	if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
		return -1;
	if (!libssh2_channel_eof(fc->ch))
		return 0;
	fc->ch_eof = 1;
	shutdown(fc->fd, SHUT_WR);
	return 1;
}

/*
 * Move what can be moved now, each way. Returns 1 when something moved,
 * 0 when nothing could, -1 when the connection is over (closed or failed).
 */
static int conn_pump(struct forward *f, struct fwd_conn *fc)
{
	int moved = 0, r;

	/* Its own half-sent packet first, by the same call. */
	if (f->owner == fc->serial) {
		enum fwd_op op = f->owner_op;

		r = op == OP_WRITE ? flush_ch(f, fc) : op == OP_EOF ? send_eof(f, fc) :
		    channel_to_fd(f, fc);
		if (r < 0)
			return -1;
		if (f->owner == fc->serial)
			return 0;
		moved = 1;
	}
	/* Here to there: only once what was read before has gone. */
	if (!f->owner && (r = flush_ch(f, fc)) < 0)
		return -1;
	if (fc->to_ch_off == fc->to_ch.len && !fc->fd_eof) {
		ssize_t n;

		strbuf_grow(&fc->to_ch, FORWARD_CHUNK);
		n = read(fc->fd, fc->to_ch.buf, FORWARD_CHUNK);
		if (n > 0) {
			strbuf_setlen(&fc->to_ch, (size_t)n);
			moved = 1;
			if (!f->owner && flush_ch(f, fc) < 0)
				return -1;
		} else if (!n) {
			fc->fd_eof = 1;
			moved = 1;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return -1;
		}
	}
	if (!f->owner && send_eof(f, fc) < 0)
		return -1;

	/* There to here. */
	if (!f->owner) {
		if ((r = channel_to_fd(f, fc)) < 0)
			return -1;
		moved |= r;
	} else if (flush_fd(fc) < 0) {
		return -1;
	}
	/* Over once both ways are: all sent, all written. */
	if (fc->ch_eof && fc->eof_sent && fc->to_fd_off == fc->to_fd.len && f->owner != fc->serial)
		return -1;
	return moved;
}

/*
 * Wait for the listening socket, the connections or the session (only
 * while a channel reads from it: libssh2 reads the session for channels
 * alone). A second without any sends a keepalive, which also tells when
 * the host has gone. 0, or -1 when it has.
 */
static int wait_any(struct forward *f, int lfd, struct pollfd **pfd, size_t *alloc)
{
	int dir = libssh2_session_block_directions(f->c->s), next, r, timeout = 1000;
	short ssh_ev = dir & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0;
	size_t n = 0;

	ALLOC_GROW(*pfd, f->nr + 2, *alloc);
	/* No new connection while a packet is half-sent: its channel could not open. */
	(*pfd)[n++] = (struct pollfd){ .fd = f->owner ? -1 : lfd, .events = POLLIN };
	n++; /* the session's, below */
	for (size_t i = 0; i < f->nr; i++) {
		struct fwd_conn *fc = &f->conns[i];
		short ev = 0;

		/*
		 * The session only where a call will read it: else what it
		 * has to read (a full window, a keepalive's answer) would
		 * wake us at once, again and again.
		 */
		if (f->owner == fc->serial || fc->to_ch_off < fc->to_ch.len ||
		    (fc->fd_eof && !fc->eof_sent) ||
		    (!fc->ch_eof && fc->to_fd_off == fc->to_fd.len)) {
			ssh_ev |= POLLIN;
			/* Read off the session already, by another channel's call. */
			if (!fc->ch_eof && fc->to_fd_off == fc->to_fd.len &&
			    libssh2_poll_channel_read(fc->ch, 0))
				timeout = 0;
		}

		if (!fc->fd_eof && fc->to_ch_off == fc->to_ch.len)
			ev |= POLLIN;
		if (fc->to_fd_off < fc->to_fd.len)
			ev |= POLLOUT;
		/* Nothing to wait for there: a closed socket would wake us at once. */
		(*pfd)[n++] = (struct pollfd){ .fd = ev ? fc->fd : -1, .events = ev };
	}
	(*pfd)[1] = (struct pollfd){ .fd = ssh_ev ? f->c->fd : -1, .events = ssh_ev };
	if (poll(*pfd, (nfds_t)n, timeout) == 0 && timeout && !f->owner &&
	    (r = libssh2_keepalive_send(f->c->s, &next)) < 0 && r != LIBSSH2_ERROR_EAGAIN)
		return lost(f, r) ? -1 : 0;
	return 0;
}

int ssh_forward(struct ssh_conn *c, int listen_fd, const char *host, unsigned port,
		int (*stop)(void))
{
	struct forward f = { .c = c, .host = host, .port = port };
	struct pollfd *pfd = NULL;
	size_t pfd_alloc = 0;
	int flags = fcntl(listen_fd, F_GETFL), ret = 0;

	if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return error_errno("cannot listen for connections to forward");
	libssh2_keepalive_config(c->s, 1, 30);
	libssh2_session_set_blocking(c->s, 0);
	while (!stop()) {
		int moved = 0;

		if (!f.owner && conn_accept(&f, listen_fd) < 0) {
			ret = -1;
			break;
		}
		for (size_t i = 0; i < f.nr; i++) {
			struct fwd_conn *fc = &f.conns[i];
			int r = fc->over ? -1 : conn_pump(&f, fc);

			if (r < 0 && f.owner == fc->serial) {
				/* Failed with a packet half-sent: nothing more can be sent. */
				ret = error("lost the connection to '%s'", c->t.host);
				goto done;
			}
			if (r < 0 && f.owner) {
				fc->over = 1; /* closing it would send */
			} else if (r < 0) {
				conn_free(&f, fc);
				f.conns[i--] = f.conns[--f.nr];
				moved = 1;
			} else {
				moved |= r;
			}
		}
		if (!moved && wait_any(&f, listen_fd, &pfd, &pfd_alloc) < 0) {
			ret = -1;
			break;
		}
	}
done:
	for (size_t i = 0; i < f.nr; i++)
		conn_free(&f, &f.conns[i]);
	libssh2_session_set_blocking(c->s, 1);
	free(f.conns);
	free(pfd);
	return ret;
}

/*
 * git sand net-proxy: the filter of a sandbox whose network is an
 * allow-list. new and start run it, detached, once the container runs.
 *
 * It opens its listening sockets inside the container's network namespace
 * (on its loopback, the only interface the container has), then goes back
 * to the host's: the sockets keep the namespace they were made in, so the
 * sandbox reaches them while every connection out is made from the host.
 * The sandbox has no other way out; what it sends here is hostile input.
 *
 * One poll() loop, non-blocking sockets, bounded buffers and a bounded
 * number of connections. It speaks HTTP CONNECT and plain HTTP (an
 * absolute-form request line) and decides on the host name the client
 * asked for. Names are resolved here, without holding up the other
 * connections (getaddrinfo_a), for at most RESOLVE_TIMEOUT seconds. An address on the host's loopback or link-local
 * networks (the cloud metadata service among them) is refused whatever
 * name led to it, unless it comes from the test hook's hosts file.
 *
 * It ends when the container's PID 1 is gone, when its rules file is
 * gone (the sandbox was removed), or on SIGTERM.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#endif

#include "lifecycle.h"
#include "msg.h"
#include "net.h"
#include "path.h"

#ifdef __linux__

#define MAX_CONNS 128
#define BUF_SIZE 16384
#define HEAD_MAX 8192
#define HEAD_TIMEOUT 30	/* seconds to send a whole request head */
#define CONNECT_TIMEOUT 15
#define RESOLVE_TIMEOUT 10
#define IDLE_TIMEOUT 600	/* a tunnel with no traffic either way */
#define LOG_MAX (1 << 20)	/* the log is kept under this, and one older */

enum conn_state { C_HEAD, C_RESOLVING, C_CONNECTING, C_TUNNEL, C_CLOSING };

struct buf {
	char data[BUF_SIZE];
	size_t off, len;
};

struct conn {
	int cfd, ufd;
	enum conn_state state;
	struct buf up;		/* client -> upstream (the head first) */
	struct buf down;	/* upstream -> client */
	int c_eof, u_eof, u_shut, c_shut;
	struct addrinfo *ai, *cur;
	int from_hosts_file;
	time_t since;
	char host[256];
	int port;
	int is_connect;
	struct strbuf head;	/* plain HTTP: the head to send once connected */
	char *allowed_by;	/* the reason it was allowed, logged once connecting */
	/*
	 * The name's lookup, running in glibc's threads while resolving
	 * is set: until it ends, the connection cannot be freed (dead is
	 * then set instead, its sockets closed).
	 */
	struct gaicb gai;
	struct addrinfo gai_hints;
	char portstr[8];
	int resolving, dead;
};

static struct conn *conns[MAX_CONNS];
static volatile sig_atomic_t terminated;

struct proxy {
	const char *dir, *name;
	long pid;
	unsigned long long pid_start;
	struct strbuf rules_path, log_path;
	struct string_list rules;
	struct stat rules_st;
	int have_rules;
};

static void on_term(int sig)
{
	(void)sig;
	terminated = 1;
}

/* Read the rules again when the file changed (net allow|deny). */
static int reload_rules(struct proxy *px)
{
	struct stat st;

	if (stat(px->rules_path.buf, &st) < 0)
		return -1;
	if (px->have_rules && st.st_ino == px->rules_st.st_ino &&
	    st.st_mtim.tv_sec == px->rules_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == px->rules_st.st_mtim.tv_nsec && st.st_size == px->rules_st.st_size)
		return 0;
	string_list_clear(&px->rules);
	if (net_rules_read(px->dir, &px->rules) < 0)
		return -1;
	px->rules_st = st;
	px->have_rules = 1;
	return 0;
}

/* The host as it may appear in the log: what a rule could be, else a stand-in. */
static void log_host(struct strbuf *out, const char *host)
{
	size_t n = 0;

	for (const char *p = host; *p && n < 255; p++, n++) {
		unsigned char c = (unsigned char)*p;

		strbuf_addch(out, isalnum(c) || strchr(".-:[]_*", c) ? c : '?');
	}
	if (!n)
		strbuf_addstr(out, "-");
}

static void log_decision(struct proxy *px, int allowed, const char *host, int port,
			 const char *reason)
{
	struct strbuf line = STRBUF_INIT, old = STRBUF_INIT;
	struct stat st;
	int fd;

	if (!stat(px->log_path.buf, &st) && st.st_size > LOG_MAX) {
		strbuf_addf(&old, "%s.1", px->log_path.buf);
		rename(px->log_path.buf, old.buf);
	}
	strbuf_addf(&line, "%lld\t%s\t", (long long)time(NULL), allowed ? "allowed" : "refused");
	log_host(&line, host);
	strbuf_addf(&line, "\t%d\t%s\n", port, reason);
	fd = open(px->log_path.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, line.buf, line.len) < 0) {
			/* nowhere to report it */
		}
		close(fd);
	}
	strbuf_release(&line);
	strbuf_release(&old);
}

static void buf_add(struct buf *b, const char *data, size_t len)
{
	if (b->off && b->off + b->len + len > BUF_SIZE) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (b->off + b->len + len > BUF_SIZE)
		len = BUF_SIZE - b->off - b->len;
	memcpy(b->data + b->off + b->len, data, len);
	b->len += len;
}

static size_t buf_space(struct buf *b)
{
	if (b->off && b->off + b->len == BUF_SIZE) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	return BUF_SIZE - b->off - b->len;
}

/*
 * Read what fits into b, up to max bytes in it; 1 on data, 0 on EOF, -1
 * on error, 2 to try later.
 */
static int buf_read_max(struct buf *b, int fd, size_t max)
{
	size_t space = buf_space(b);
	ssize_t n;

	if (b->len >= max)
		return 2;
	if (space > max - b->len)
		space = max - b->len;

	if (!space)
		return 2;
	n = read(fd, b->data + b->off + b->len, space);
	if (n > 0) {
		b->len += (size_t)n;
		return 1;
	}
	if (!n)
		return 0;
	return errno == EAGAIN || errno == EINTR ? 2 : -1;
}

static int buf_read(struct buf *b, int fd)
{
	return buf_read_max(b, fd, BUF_SIZE);
}

static int buf_write(struct buf *b, int fd)
{
	ssize_t n = send(fd, b->data + b->off, b->len, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	b->off += (size_t)n;
	b->len -= (size_t)n;
	if (!b->len)
		b->off = 0;
	return 0;
}

static void conn_free(struct conn **slot)
{
	struct conn *c = *slot;

	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	if (c->ai)
		freeaddrinfo(c->ai);
	if (c->gai.ar_result)
		freeaddrinfo(c->gai.ar_result);
	strbuf_release(&c->head);
	free(c->allowed_by);
	free(c);
	*slot = NULL;
}

/* Whether its lookup still runs (its result may not be touched yet). */
static int lookup_busy(struct conn *c)
{
	if (!c->resolving)
		return 0;
	if (gai_error(&c->gai) == EAI_INPROGRESS)
		return 1;
	c->resolving = 0;
	return 0;
}

/* Done with it: freed, or its sockets closed until its lookup ends. */
static void conn_retire(struct conn **slot)
{
	struct conn *c = *slot;

	if (!lookup_busy(c)) {
		conn_free(slot);
		return;
	}
	gai_cancel(&c->gai);
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	c->cfd = c->ufd = -1;
	c->dead = 1;
}

/* Answer the client with an error of ours, then close once it is sent. */
static void respond(struct conn *c, int code, const char *status, const char *body)
{
	struct strbuf r = STRBUF_INIT;

	strbuf_addf(&r, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n"
		    "X-Git-Sand: refused\r\n\r\n%s", code, status, strlen(body), body);
	c->down.off = c->down.len = 0;
	buf_add(&c->down, r.buf, r.len);
	c->state = C_CLOSING;
	c->since = time(NULL);
	strbuf_release(&r);
}

static void refuse(struct proxy *px, struct conn *c, const char *host, int port,
		   const char *reason)
{
	struct strbuf body = STRBUF_INIT, h = STRBUF_INIT, why = STRBUF_INIT;

	log_host(&h, host);
	log_decision(px, 0, host, port, reason);
	strbuf_addf(&body, "git-sand: the network filter of sandbox '%s' refused %s:%d: %s.\n",
		    px->name, h.buf, port, reason);
	strbuf_reset(&h);
	strbuf_addf(&h, port == 443 || port == 80 ? "%s" : "%s:%d", host, port);
	if (!net_rule_check(h.buf, &why))
		strbuf_addf(&body, "To allow it, run on the host: git sand net %s allow %s\n",
			    px->name, h.buf);
	respond(c, 403, "Forbidden", body.buf);
	strbuf_release(&body);
	strbuf_release(&h);
	strbuf_release(&why);
}

/* Split "host[:port]" or "[v6]:port" of an authority; -1 if bad. */
static int parse_authority(const char *a, size_t len, int default_port, char *host,
			   size_t host_size, int *port)
{
	const char *colon = NULL, *end = a + len;
	size_t hlen;

	if (len && *a == '[') {
		const char *close = memchr(a, ']', len);

		if (!close)
			return -1;
		if (close + 1 < end && close[1] == ':')
			colon = close + 1;
		else if (close + 1 != end)
			return -1;
		hlen = (size_t)(close + 1 - a);
	} else {
		colon = memchr(a, ':', len);
		hlen = colon ? (size_t)(colon - a) : len;
	}
	if (!hlen || hlen >= host_size)
		return -1;
	memcpy(host, a, hlen);
	host[hlen] = '\0';
	*port = default_port;
	if (colon) {
		long p = 0;

		if (colon + 1 == end || end - colon > 6)
			return -1;
		for (const char *q = colon + 1; q < end; q++) {
			if (!isdigit((unsigned char)*q))
				return -1;
			p = p * 10 + (*q - '0');
		}
		if (p < 1 || p > 65535)
			return -1;
		*port = (int)p;
	}
	if (*port < 1)
		return -1;
	return 0;
}

/* The value of header name in head (lines after the first), or NULL. */
static const char *find_header(const char *head, const char *name, size_t *len)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n");
	const char *found = NULL;

	while (line && line[2] != '\r') {
		const char *start = line + 2, *eol = strstr(start, "\r\n");

		if (!eol)
			break;
		if ((size_t)(eol - start) > nlen && !strncasecmp(start, name, nlen) &&
		    start[nlen] == ':') {
			const char *v = start + nlen + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (found)
				return (*len = 0, "");	/* twice: as forged as can be */
			found = v;
			*len = (size_t)(eol - v);
			while (*len && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
				(*len)--;
		}
		line = eol;
	}
	return found;
}

/* Whether a host given by a hosts file line is the one asked for. */
static int hosts_file_lookup(const char *host, int port, struct addrinfo **out)
{
	const char *file = getenv(NET_HOSTS_ENV);
	struct strbuf buf = STRBUF_INIT;
	char *line, *next, *save;
	int ret = -1;

	if (!file || !*file || strbuf_read_file(&buf, file) < 0)
		goto done;
	for (line = buf.buf; line && *line && ret < 0; line = next) {
		char *addr, *name;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		addr = strtok_r(line, " \t", &save);
		while (addr && (name = strtok_r(NULL, " \t", &save))) {
			if (!strcasecmp(name, host)) {
				struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
							  .ai_socktype = SOCK_STREAM };
				char p[8];

				snprintf(p, sizeof(p), "%d", port);
				if (!getaddrinfo(addr, p, &hints, out))
					ret = 0;
				break;
			}
		}
	}
done:
	strbuf_release(&buf);
	return ret;
}

/* Addresses no name may lead to: the host's loopback, link-local, unspecified. */
static int address_forbidden(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

		return (a >> 24) == 127 || (a >> 24) == 0 || (a >> 16) == 0xa9fe ||
		       (a >> 28) == 0xe || a == 0xffffffff;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			struct sockaddr_in v4 = { .sin_family = AF_INET };

			memcpy(&v4.sin_addr, a->s6_addr + 12, 4);
			return address_forbidden((struct sockaddr *)&v4);
		}
		return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) ||
		       IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MULTICAST(a);
	}
	return 1;
}

/* Start connecting to the next address; -1 when none is left. */
static int connect_next(struct conn *c)
{
	for (; c->cur; c->cur = c->cur->ai_next) {
		if (!c->from_hosts_file && address_forbidden(c->cur->ai_addr))
			continue;
		c->ufd = socket(c->cur->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->ufd < 0)
			continue;
		if (!connect(c->ufd, c->cur->ai_addr, c->cur->ai_addrlen) || errno == EINPROGRESS)
			return 0;
		close(c->ufd);
		c->ufd = -1;
	}
	return -1;
}

/*
 * Plain HTTP: the head sent on, its request line in origin-form, the
 * proxy's own headers dropped and the connection closed after one
 * exchange, so that the next request comes through here again.
 */
static int rewrite_head(struct conn *c, const char *method, const char *path,
			const char *version, const char *head)
{
	const char *line = strstr(head, "\r\n");

	strbuf_addf(&c->head, "%s %s %s\r\n", method, path, version);
	while (line && line[2] != '\r') {
		const char *start = line + 2, *eol = strstr(start, "\r\n");

		if (!eol)
			return -1;
		if (strncasecmp(start, "proxy-", 6) && strncasecmp(start, "connection:", 11) &&
		    strncasecmp(start, "keep-alive:", 11)) {
			strbuf_add(&c->head, start, (size_t)(eol - start));
			strbuf_addstr(&c->head, "\r\n");
		}
		line = eol;
	}
	strbuf_addstr(&c->head, "Connection: close\r\n\r\n");
	return 0;
}

/* Its addresses are known: connect to the first that may be reached. */
static void start_connect(struct proxy *px, struct conn *c)
{
	c->cur = c->ai;
	if (connect_next(c) < 0) {
		log_decision(px, 0, c->host, c->port, "no address it may reach answers");
		respond(c, 502, "Bad Gateway", "git-sand: cannot connect to the host\n");
		return;
	}
	log_decision(px, 1, c->host, c->port, c->allowed_by);
	c->state = C_CONNECTING;
	c->since = time(NULL);
}

/*
 * A plain HTTP request for target (http://host[:port]/path): its server
 * into c, and its head rewritten (see rewrite_head). 0, or -1 once
 * answered.
 */
static int plain_request(struct proxy *px, struct conn *c, const char *method,
			 const char *target, const char *version, const char *headers)
{
	const char *auth, *path, *hv;
	size_t hlen;

	if (strncasecmp(target, "http://", 7)) {
		respond(c, 400, "Bad Request", !strncasecmp(target, "https://", 8) ?
			"git-sand: use CONNECT for https\n" :
			"git-sand: the request line must name the server (http://host/...)\n");
		return -1;
	}
	auth = target + 7;
	path = strchr(auth, '/');
	if (parse_authority(auth, path ? (size_t)(path - auth) : strlen(auth), 80,
			    c->host, sizeof(c->host), &c->port) < 0) {
		respond(c, 400, "Bad Request", "git-sand: no host in the request line\n");
		return -1;
	}
	/* A Host header naming another server is a forgery: refuse it. */
	hv = find_header(headers, "Host", &hlen);
	if (hv) {
		char hh[256];
		int hp;

		if (parse_authority(hv, hlen, 80, hh, sizeof(hh), &hp) < 0 ||
		    strcasecmp(hh, c->host) || hp != c->port) {
			refuse(px, c, c->host, c->port, "its Host header names another server");
			return -1;
		}
	}
	if (rewrite_head(c, method, path ? path : "/", version, headers) < 0) {
		respond(c, 400, "Bad Request", "git-sand: a malformed request head\n");
		return -1;
	}
	return 0;
}

/*
 * The request line of head (NUL-free, ending in CRLF CRLF): the server
 * asked for into c (and for plain HTTP, the head rewritten). 0, or -1
 * once answered.
 */
static int parse_request(struct proxy *px, struct conn *c, char *head)
{
	char *eol = strstr(head, "\r\n"), *sp1, *sp2, version[16];
	const char *target;

	*eol = '\0';
	sp1 = strchr(head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		respond(c, 400, "Bad Request", "git-sand: not an HTTP/1 proxy request\n");
		return -1;
	}
	*sp1 = *sp2 = '\0';
	target = sp1 + 1;
	snprintf(version, sizeof(version), "%.*s", (int)(eol - sp2 - 1), sp2 + 1);
	*eol = '\r';	/* the headers are read from the whole head */
	if (strcmp(head, "CONNECT"))
		return plain_request(px, c, head, target, version, sp2 + 1);
	c->is_connect = 1;
	if (parse_authority(target, strlen(target), 0, c->host, sizeof(c->host), &c->port) < 0 ||
	    !c->port) {
		respond(c, 400, "Bad Request", "git-sand: CONNECT needs host:port\n");
		return -1;
	}
	return 0;
}

/* Look c->host up in the background: a slow resolver must not hold up the others. */
static void start_lookup(struct proxy *px, struct conn *c)
{
	struct gaicb *list[1];
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };

	snprintf(c->portstr, sizeof(c->portstr), "%d", c->port);
	c->gai_hints.ai_socktype = SOCK_STREAM;
	c->gai.ar_name = c->host;
	c->gai.ar_service = c->portstr;
	c->gai.ar_request = &c->gai_hints;
	list[0] = &c->gai;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev) != 0) {
		log_decision(px, 0, c->host, c->port, "its name cannot be looked up");
		respond(c, 502, "Bad Gateway", "git-sand: the host's name cannot be looked up\n");
		return;
	}
	c->resolving = 1;
	c->state = C_RESOLVING;
	c->since = time(NULL);
}

/* A whole request head is in c->up: decide, and connect or refuse. */
static void handle_head(struct proxy *px, struct conn *c, size_t head_len)
{
	char *head = xstrndup(c->up.data + c->up.off, head_len);
	struct strbuf reason = STRBUF_INIT;

	/* A NUL in it would hide the rest from the string functions. */
	if (strlen(head) != head_len) {
		respond(c, 400, "Bad Request", "git-sand: a NUL in the request head\n");
		goto done;
	}
	if (parse_request(px, c, head) < 0)
		goto done;
	if (reload_rules(px) < 0) {
		refuse(px, c, c->host, c->port, "the rules cannot be read");
		goto done;
	}
	if (!net_decide(&px->rules, c->host, c->port, &reason)) {
		refuse(px, c, c->host, c->port, reason.buf);
		goto done;
	}
	/* What came after the head goes on: the tunnel's first bytes, or a body. */
	c->up.off += head_len;
	c->up.len -= head_len;
	c->allowed_by = xstrdup(reason.buf);
	if (hosts_file_lookup(c->host, c->port, &c->ai) == 0) {
		c->from_hosts_file = 1;
		start_connect(px, c);
	} else {
		start_lookup(px, c);
	}
done:
	free(head);
	strbuf_release(&reason);
}

static void connected(struct conn *c)
{
	if (c->is_connect) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

		buf_add(&c->down, ok, sizeof(ok) - 1);
	} else {
		struct buf rest = c->up;

		/* the rewritten head, then what followed the original one */
		c->up.off = c->up.len = 0;
		buf_add(&c->up, c->head.buf, c->head.len);
		buf_add(&c->up, rest.data + rest.off, rest.len);
		strbuf_release(&c->head);
	}
	c->state = C_TUNNEL;
	c->since = time(NULL);
}

/*
 * Each state's round of I/O on a connection after poll (crev and urev:
 * what poll said of the client's and the upstream's sockets, now: the
 * time): 1 when the connection is done with.
 */
static int step_head(struct proxy *px, struct conn *c, short crev, time_t now)
{
	char *end;

	/*
	 * The head, and no more than HEAD_MAX with what follows it: its
	 * rewritten form and the rest must fit in the buffer.
	 */
	if ((crev & (POLLIN | POLLHUP | POLLERR)) && buf_read_max(&c->up, c->cfd, HEAD_MAX) <= 0)
		return 1;
	end = memmem(c->up.data + c->up.off, c->up.len, "\r\n\r\n", 4);
	if (end)
		handle_head(px, c, (size_t)(end + 4 - (c->up.data + c->up.off)));
	else if (c->up.len >= HEAD_MAX)
		respond(c, 431, "Request Header Fields Too Large",
			"git-sand: the request head is too large\n");
	else if (now - c->since > HEAD_TIMEOUT)
		return 1;
	return 0;
}

static int step_resolving(struct proxy *px, struct conn *c, short crev, time_t now)
{
	if (crev & (POLLERR | POLLHUP))
		return 1;	/* the client gave up */
	if (lookup_busy(c)) {
		if (now - c->since > RESOLVE_TIMEOUT) {
			log_decision(px, 0, c->host, c->port, "its name did not resolve in time");
			respond(c, 504, "Gateway Timeout",
				"git-sand: the host's name did not resolve in time\n");
		}
		return 0;
	}
	if (gai_error(&c->gai) != 0) {
		log_decision(px, 0, c->host, c->port, "its name does not resolve");
		respond(c, 502, "Bad Gateway", "git-sand: the host's name does not resolve\n");
		return 0;
	}
	c->ai = c->gai.ar_result;
	c->gai.ar_result = NULL;
	start_connect(px, c);
	return 0;
}

static int step_connecting(struct conn *c, short crev, short urev, time_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (crev & (POLLERR | POLLHUP))
		return 1;	/* the client gave up */
	if (!(urev & (POLLOUT | POLLERR | POLLHUP))) {
		if (now - c->since > CONNECT_TIMEOUT)
			respond(c, 504, "Gateway Timeout", "git-sand: the host does not answer\n");
		return 0;
	}
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		close(c->ufd);
		c->ufd = -1;
		c->cur = c->cur->ai_next;
		if (connect_next(c) < 0)
			respond(c, 502, "Bad Gateway", "git-sand: cannot connect to the host\n");
		return 0;
	}
	connected(c);
	return 0;
}

/* Read what each side has for the other; -1 when a read failed. */
static int tunnel_read(struct conn *c, short crev, short urev)
{
	int r;

	if (!c->c_eof && (crev & (POLLIN | POLLHUP | POLLERR))) {
		r = buf_read(&c->up, c->cfd);
		if (r < 0)
			return -1;
		if (!r)
			c->c_eof = 1;
	}
	if (!c->u_eof && (urev & (POLLIN | POLLHUP | POLLERR))) {
		r = buf_read(&c->down, c->ufd);
		if (r < 0)
			return -1;
		if (!r)
			c->u_eof = 1;
	}
	return 0;
}

static int step_tunnel(struct conn *c, short crev, short urev, time_t now)
{
	if (crev || urev)
		c->since = now;
	if (tunnel_read(c, crev, urev) < 0)
		return 1;
	/* A side closed both ways has nothing more to give or take. */
	if (c->c_eof && (crev & (POLLERR | POLLHUP)))
		return 1;
	if (c->u_eof && (urev & (POLLERR | POLLHUP))) {
		close(c->ufd);
		c->ufd = -1;
		c->up.off = c->up.len = 0;
		c->u_shut = 1;
	}
	if (c->up.len && (urev & POLLOUT) && buf_write(&c->up, c->ufd) < 0)
		return 1;
	if (c->down.len && (crev & POLLOUT) && buf_write(&c->down, c->cfd) < 0)
		return 1;
	if (c->c_eof && !c->up.len && !c->u_shut) {
		shutdown(c->ufd, SHUT_WR);
		c->u_shut = 1;
	}
	if (c->u_eof && !c->down.len && !c->c_shut) {
		shutdown(c->cfd, SHUT_WR);
		c->c_shut = 1;
	}
	if (c->u_shut && c->c_shut)
		return 1;
	return now - c->since > IDLE_TIMEOUT;
}

static int step_closing(struct conn *c, short crev, time_t now)
{
	if (c->ufd >= 0) {
		close(c->ufd);
		c->ufd = -1;
	}
	if (c->down.len && (crev & POLLOUT) && buf_write(&c->down, c->cfd) < 0)
		return 1;
	if (crev & (POLLERR | POLLHUP))
		return 1;
	if (!c->down.len && !c->c_shut) {
		shutdown(c->cfd, SHUT_WR);
		c->c_shut = 1;
	}
	/*
	 * Then read what the client still sends until it closes, so that
	 * closing on unread data (a reset) does not destroy the answer
	 * before the client has read it.
	 */
	if (c->c_shut && (crev & POLLIN)) {
		c->up.off = c->up.len = 0;
		if (buf_read(&c->up, c->cfd) <= 0)
			return 1;
	}
	return now - c->since > (c->c_shut ? 5 : HEAD_TIMEOUT);
}

/* One round of I/O on a connection after poll; 1 when it is done with. */
static int step(struct proxy *px, struct conn *c, short crev, short urev)
{
	time_t now = time(NULL);

	switch (c->state) {
	case C_HEAD:
		return step_head(px, c, crev, now);
	case C_RESOLVING:
		return step_resolving(px, c, crev, now);
	case C_CONNECTING:
		return step_connecting(c, crev, urev, now);
	case C_TUNNEL:
		return step_tunnel(c, crev, urev, now);
	case C_CLOSING:
		return step_closing(c, crev, now);
	}
	return 1;
}

static void accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS && conns[i]; i++)
		;
	if (i == MAX_CONNS) {
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
			"Content-Length: 0\r\nConnection: close\r\n\r\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0) {
			/* it is closed either way */
		}
		close(fd);
		return;
	}
	conns[i] = xcalloc(1, sizeof(*conns[i]));
	conns[i]->cfd = fd;
	conns[i]->ufd = -1;
	conns[i]->since = time(NULL);
	strbuf_init(&conns[i]->head, 0);
}

static short client_events(const struct conn *c)
{
	switch (c->state) {
	case C_HEAD:
		return POLLIN;
	case C_RESOLVING:
	case C_CONNECTING:
		return 0;
	case C_TUNNEL:
		return (short)((!c->c_eof && c->up.len < BUF_SIZE ? POLLIN : 0) |
			       (c->down.len ? POLLOUT : 0));
	case C_CLOSING:
		return c->down.len ? POLLOUT : POLLIN;
	}
	return 0;
}

static short upstream_events(const struct conn *c)
{
	if (c->ufd < 0)
		return 0;
	if (c->state == C_CONNECTING)
		return POLLOUT;
	if (c->state != C_TUNNEL)
		return 0;
	return (short)((!c->u_eof && c->down.len < BUF_SIZE ? POLLIN : 0) |
		       (c->up.len ? POLLOUT : 0));
}

/* A listening socket on the loopback of the namespace we are in. */
static int listen_on(int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(NET_PROXY_PORT);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(NET_PROXY_PORT);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Listen inside the container's network namespace, then come back. */
static int listen_in_container(long pid, int *fds)
{
	struct strbuf path = STRBUF_INIT;
	int self = -1, theirs = -1, ret = -1;

	fds[0] = fds[1] = -1;
	/* The same user namespace as ours, or entering its network namespace is not for us. */
	if (!path_ns_is_ours(pid, "user")) {
		error("the container's network belongs to another user namespace "
		      "(rootless): it cannot be entered from here");
		goto done;
	}
	strbuf_addf(&path, "/proc/%ld/ns/net", pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		error_errno("cannot open '/proc/self/ns/net'");
		goto done;
	}
	theirs = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (theirs < 0) {
		error_errno("cannot open '%s'", path.buf);
		goto done;
	}
	if (setns(theirs, CLONE_NEWNET) < 0) {
		error_errno("cannot enter the container's network namespace");
		goto done;
	}
	fds[0] = listen_on(AF_INET);
	if (fds[0] < 0)
		error_errno("cannot listen on 127.0.0.1:%d in the container", NET_PROXY_PORT);
	/* [::1] where the container has IPv6; without it, 127.0.0.1 is enough. */
	fds[1] = listen_on(AF_INET6);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Not back home: dialling out from there would reach nothing. */
		error_errno("cannot return to the host's network namespace");
		goto done;
	}
	if (fds[0] >= 0)
		ret = 0;
done:
	if (ret < 0) {
		close_fd(&fds[0]);
		close_fd(&fds[1]);
	}
	close_fd(&self);
	close_fd(&theirs);
	strbuf_release(&path);
	return ret;
}

static int write_pid_file(struct proxy *px)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	int ret;

	net_file(&path, px->dir, NET_PID_FILE);
	strbuf_addf(&buf, "%ld %llu %ld %llu\n", (long)getpid(), sandbox_pid_start(getpid()),
		    px->pid, px->pid_start);
	ret = write_file_atomic(path.buf, buf.buf, buf.len, 0600);
	strbuf_release(&path);
	strbuf_release(&buf);
	return ret;
}

/* Our stderr: the proxy log, so that the starter can say why we failed. */
static void log_to_file(const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	net_file(&path, dir, NET_PROXY_LOG_FILE);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	strbuf_release(&path);
}

/*
 * The poll set of one round: the listening sockets, then each live
 * connection's client and upstream sockets (where in pfd: c_at, u_at,
 * -1 for none). Its size; *resolving says whether a lookup is under way.
 */
static nfds_t fill_pollset(struct pollfd *pfd, const int lfd[2], int *c_at, int *u_at,
			   int *resolving)
{
	nfds_t n = 0;

	*resolving = 0;
	for (int i = 0; i < 2; i++) {
		pfd[n].fd = lfd[i];
		pfd[n++].events = POLLIN;
	}
	for (size_t i = 0; i < MAX_CONNS; i++) {
		struct conn *c = conns[i];

		c_at[i] = u_at[i] = -1;
		if (!c || c->dead)
			continue;
		if (c->resolving)
			*resolving = 1;
		c_at[i] = (int)n;
		pfd[n].fd = c->cfd;
		pfd[n++].events = client_events(c);
		if (c->ufd >= 0) {
			u_at[i] = (int)n;
			pfd[n].fd = c->ufd;
			pfd[n++].events = upstream_events(c);
		}
	}
	return n;
}

/* What poll said, to each connection, then new connections accepted. */
static void serve_round(struct proxy *px, const struct pollfd *pfd, const int lfd[2],
			const int *c_at, const int *u_at)
{
	for (size_t i = 0; i < MAX_CONNS; i++) {
		struct conn *c = conns[i];
		short crev, urev;

		if (c && c->dead) {
			if (!lookup_busy(c))
				conn_free(&conns[i]);
			continue;
		}
		if (!c || c_at[i] < 0)
			continue;
		crev = pfd[c_at[i]].revents;
		urev = u_at[i] >= 0 && pfd[u_at[i]].fd == c->ufd ? pfd[u_at[i]].revents : 0;
		if (step(px, c, crev, urev))
			conn_retire(&conns[i]);
	}
	for (int i = 0; i < 2; i++)
		if (lfd[i] >= 0 && (pfd[i].revents & POLLIN))
			accept_one(lfd[i]);
}

/* Ours only: a newer proxy may have written its own since. */
static void remove_pid_file(const char *dir)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	long p = 0;

	net_file(&path, dir, NET_PID_FILE);
	if (!strbuf_read_file(&buf, path.buf) && sscanf(buf.buf, "%ld", &p) == 1 &&
	    p == (long)getpid())
		unlink(path.buf);
	strbuf_release(&path);
	strbuf_release(&buf);
}

int net_proxy_main(const char *sandbox_dir, const char *name, long pid,
		   unsigned long long pid_start)
{
	struct proxy px = { sandbox_dir, name, pid, pid_start, STRBUF_INIT, STRBUF_INIT,
			    STRING_LIST_INIT, { 0 }, 0 };
	struct pollfd *pfd = xcalloc(2 + 2 * MAX_CONNS, sizeof(*pfd));
	struct sigaction sa = { .sa_handler = on_term };
	int lfd[2] = { -1, -1 }, ret = 1;
	time_t last_check = 0;

	/* Nothing of whoever started us stays open (a test's pipes, a terminal). */
	close_range(3, ~0U, 0);
	log_to_file(sandbox_dir);
	msg_timestamps(1);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	net_file(&px.rules_path, sandbox_dir, NET_RULES_FILE);
	net_file(&px.log_path, sandbox_dir, NET_LOG_FILE);
	if (sandbox_pid_start(pid) != pid_start || !pid_start) {
		error("the container's process %ld is gone", pid);
		goto done;
	}
	if (reload_rules(&px) < 0) {
		error_errno("cannot read '%s'", px.rules_path.buf);
		goto done;
	}
	if (listen_in_container(pid, lfd) < 0 || write_pid_file(&px) < 0)
		goto done;
	while (!terminated) {
		time_t now = time(NULL);
		int resolving, c_at[MAX_CONNS], u_at[MAX_CONNS];
		nfds_t n;

		/* Gone with the container, or with the sandbox. */
		if (now != last_check) {
			struct stat st;

			last_check = now;
			if (sandbox_pid_start(pid) != pid_start || stat(px.rules_path.buf, &st) < 0)
				break;
		}
		n = fill_pollset(pfd, lfd, c_at, u_at, &resolving);
		/* A lookup says it is done only when asked: ask often meanwhile. */
		if (poll(pfd, n, resolving ? 50 : 1000) < 0 && errno != EINTR) {
			error_errno("poll");
			goto done;
		}
		serve_round(&px, pfd, lfd, c_at, u_at);
	}
	ret = 0;
done:
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (conns[i] && !lookup_busy(conns[i]))
			conn_free(&conns[i]);	/* the others end with us */
	for (int i = 0; i < 2; i++)
		if (lfd[i] >= 0)
			close(lfd[i]);
	remove_pid_file(sandbox_dir);
	free(pfd);
	strbuf_release(&px.rules_path);
	strbuf_release(&px.log_path);
	string_list_clear(&px.rules);
	return ret;
}

#else /* !__linux__ */

int net_proxy_main(const char *sandbox_dir, const char *name, long pid,
		   unsigned long long pid_start)
{
	(void)sandbox_dir;
	(void)name;
	(void)pid;
	(void)pid_start;
	return error("network allow-lists need Linux network namespaces");
}

#endif

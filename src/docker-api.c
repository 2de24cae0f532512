/*
 * Docker's Engine API on the daemon's socket (see docker-api.h): a
 * small HTTP/1.1 client over a unix socket, for a handful of requests
 * whose answers are JSON, and exec's stream, which the daemon hands over
 * on the same connection ("Upgrade: tcp") in frames of eight-byte
 * headers: the stream (1 stdout, 2 stderr) and the length.
 *
 * Paths carry no API version: the daemon answers in its own, as the
 * fields asked for have been since Docker 1.13, and a daemon that no
 * longer serves an old version would refuse a pinned one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "compat.h"
#include "docker-api.h"
#include "msg.h"
#include "rt-cli.h"
#include "sanitize.h"

/* The most a head or a JSON answer may hold: ps of thousands of containers fits. */
#define HEAD_MAX ((size_t)64 << 10)
#define BODY_MAX ((size_t)32 << 20)

static int digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct conn {
	int fd;
	struct strbuf buf;	/* read and not yet used, from off */
	size_t off;
};

static int docker_config_context(struct strbuf *context)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	struct strbuf path = STRBUF_INIT, json = STRBUF_INIT;
	cJSON *root = NULL;
	int ret = 0;

	if (dir && *dir)
		strbuf_addf(&path, "%s/config.json", dir);
	else if (home && *home)
		strbuf_addf(&path, "%s/.docker/config.json", home);
	else
		goto done;
	if (strbuf_read_file(&json, path.buf) < 0) {
		/* None: the default context. Unreadable: the CLI's to say. */
		ret = errno == ENOENT || errno == ENOTDIR ? 0 : -1;
		goto done;
	}
	root = cJSON_Parse(json.buf);
	if (!cJSON_IsObject(root)) {
		ret = -1;
		goto done;
	}
	if (json_str(root, "currentContext"))
		strbuf_addstr(context, json_str(root, "currentContext"));
done:
	cJSON_Delete(root);
	strbuf_release(&json);
	strbuf_release(&path);
	return ret;
}

int docker_api_enabled = 1;

int docker_api_socket(struct strbuf *path)
{
	const char *host = getenv("DOCKER_HOST"), *context = getenv("DOCKER_CONTEXT");
	struct strbuf current = STRBUF_INIT;
	int ret = DOCKER_API_USE_CLI;

	strbuf_reset(path);
	if (!docker_api_enabled)
		goto done;
	if (host && *host) {
		/* The CLI prefers DOCKER_HOST to any context. */
		if (strncmp(host, "unix://", 7) || host[7] != '/')
			goto done;
		strbuf_addstr(path, host + 7);
		ret = 0;
		goto done;
	}
	if (context && *context) {
		if (strcmp(context, "default"))
			goto done;
	} else if (docker_config_context(&current) < 0 ||
		   (current.len && strcmp(current.buf, "default"))) {
		goto done;
	}
	strbuf_addstr(path, "/var/run/docker.sock");
	ret = 0;
done:
	strbuf_release(&current);
	return ret;
}

/* Connected to the daemon: 0; DOCKER_API_USE_CLI where it cannot be reached. */
static int conn_open(struct conn *k)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct strbuf path = STRBUF_INIT;
	int ret = DOCKER_API_USE_CLI;

	k->fd = -1;
	strbuf_init(&k->buf, 0);
	k->off = 0;
	if (docker_api_socket(&path) < 0 || path.len >= sizeof(sa.sun_path))
		goto done;
	memcpy(sa.sun_path, path.buf, path.len + 1);
	k->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (k->fd < 0)
		goto done;
	while (connect(k->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		close(k->fd);
		k->fd = -1;
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&path);
	return ret;
}

static void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	strbuf_release(&k->buf);
	k->off = 0;
}

/* Read what comes into k->buf: the bytes read, 0 at its end, -1. */
static ssize_t conn_fill(struct conn *k)
{
	ssize_t n;

	/* What has been read goes: a partial line never piles up. */
	if (k->off && k->off >= k->buf.len / 2) {
		memmove(k->buf.buf, k->buf.buf + k->off, k->buf.len - k->off);
		strbuf_setlen(&k->buf, k->buf.len - k->off);
		k->off = 0;
	}
	strbuf_grow(&k->buf, 65536);
	do
		n = read(k->fd, k->buf.buf + k->buf.len, 65536);
	while (n < 0 && errno == EINTR && !(cleanup_signalled() && !signals_held()));
	if (n > 0)
		strbuf_setlen(&k->buf, k->buf.len + n);
	return n;
}

static void add_path_part(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = *s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')
			strbuf_addch(sb, ch);
		else
			strbuf_addf(sb, "%%%02X", ch);
	}
}

static int send_request(struct conn *k, const char *method, const char *path,
			const char *body, int upgrade)
{
	struct strbuf req = STRBUF_INIT;
	int ret;

	if (trace_enabled()) {
		strbuf_addf(&req, "trace: docker api: %s %s\n", method, path);
		trace_write(&req);
		strbuf_reset(&req);
	}
	strbuf_addf(&req, "%s %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: git-sand\r\n",
		    method, path);
	/* One request per connection: an answer then ends, at the latest, with it. */
	strbuf_addstr(&req, upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" :
				      "Connection: close\r\n");
	if (body)
		strbuf_addf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			    strlen(body));
	strbuf_addstr(&req, "\r\n");
	if (body)
		strbuf_addstr(&req, body);
	ret = write_in_full(k->fd, req.buf, req.len);
	strbuf_release(&req);
	if (ret < 0)
		return error_errno("cannot write to the docker daemon");
	return 0;
}

/* A header's value in head (its lines after the status line), or NULL. */
static const char *header(const char *head, const char *name, size_t *len)
{
	size_t nlen = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (!end)
			break;
		if ((size_t)(end - line) > nlen && !strncasecmp(line, name, nlen) &&
		    line[nlen] == ':') {
			const char *v = line + nlen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			*len = (size_t)(end - v);
			return v;
		}
	}
	return NULL;
}

/*
 * The head of the answer into head (status line and headers, ending in
 * "\r\n"), its status into *status: 0, or -1 with a message. Interim
 * answers (1xx but 101, which switches to the stream) are passed over.
 */
static int read_head(struct conn *k, struct strbuf *head, int *status)
{
	const char *end;
	ssize_t n;

again:
	for (;;) {
		end = memmem(k->buf.buf + k->off, k->buf.len - k->off, "\r\n\r\n", 4);
		if (end)
			break;
		if (k->buf.len - k->off > HEAD_MAX)
			return error("the docker daemon's answer has too long a head");
		n = conn_fill(k);
		if (n < 0)
			return error_errno("cannot read from the docker daemon");
		if (!n)
			return error("the docker daemon closed the connection");
	}
	strbuf_reset(head);
	strbuf_add(head, k->buf.buf + k->off, (size_t)(end + 2 - (k->buf.buf + k->off)));
	k->off = (size_t)(end + 4 - k->buf.buf);
	if (strncmp(head->buf, "HTTP/1.", 7) || head->len < 12 || head->buf[8] != ' ' ||
	    !digit(head->buf[9]) || !digit(head->buf[10]) ||
	    !digit(head->buf[11]))
		return error("the docker daemon's answer is not HTTP");
	*status = (head->buf[9] - '0') * 100 + (head->buf[10] - '0') * 10 + (head->buf[11] - '0');
	if (*status / 100 == 1 && *status != 101)
		goto again;
	return 0;
}

/* n bytes of the body into body: 0, or -1 with a message. */
static int read_exactly(struct conn *k, size_t n, struct strbuf *body)
{
	while (k->buf.len - k->off < n) {
		ssize_t got = conn_fill(k);

		if (got < 0)
			return error_errno("cannot read from the docker daemon");
		if (!got)
			return error("the docker daemon's answer ended early");
	}
	strbuf_add(body, k->buf.buf + k->off, n);
	k->off += n;
	return 0;
}

/* A line of a chunked body ("<hex size>[;ext]\r\n"): its size, or -1. */
static long long read_chunk_size(struct conn *k)
{
	const char *p, *eol;
	long long size = 0;
	int digits = 0;

	while (!(eol = memmem(k->buf.buf + k->off, k->buf.len - k->off, "\r\n", 2))) {
		ssize_t got;

		if (k->buf.len - k->off > 1024)
			return error("the docker daemon's answer is not well chunked");
		got = conn_fill(k);
		if (got <= 0)
			return error("the docker daemon's answer ended early");
	}
	for (p = k->buf.buf + k->off; p < eol && isxdigit((unsigned char)*p); p++, digits++) {
		if (digits >= 15)
			return error("the docker daemon's answer is not well chunked");
		size = size * 16 + (digit(*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10);
	}
	if (!digits)
		return error("the docker daemon's answer is not well chunked");
	k->off = (size_t)(eol + 2 - k->buf.buf);
	return size;
}

/* Whether a Transfer-Encoding's last coding is chunked. */
static int chunked(const char *v, size_t len)
{
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len >= 7 && !strncasecmp(v + len - 7, "chunked", 7) &&
	       (len == 7 || v[len - 8] == ',' || v[len - 8] == ' ' || v[len - 8] == '\t');
}

/* After the last chunk: its trailer's lines, up to the empty one. */
static int skip_trailers(struct conn *k)
{
	for (;;) {
		const char *eol = memmem(k->buf.buf + k->off, k->buf.len - k->off, "\r\n", 2);
		ssize_t got;

		if (eol) {
			int empty = eol == k->buf.buf + k->off;

			k->off = (size_t)(eol + 2 - k->buf.buf);
			if (empty)
				return 0;
			continue;
		}
		if (k->buf.len - k->off > HEAD_MAX)
			return error("the docker daemon's answer has too long a trailer");
		got = conn_fill(k);
		if (got <= 0)
			return error("the docker daemon's answer ended early");
	}
}

/*
 * The body of an answer of that status and head into body, at most
 * BODY_MAX: 0, or -1 with a message.
 */
static int read_body(struct conn *k, int status, const char *head, struct strbuf *body)
{
	const char *v;
	size_t len;

	strbuf_reset(body);
	if (status / 100 == 1 || status == 204 || status == 304)
		return 0;
	if ((v = header(head, "Transfer-Encoding", &len)) && chunked(v, len)) {
		for (;;) {
			long long size = read_chunk_size(k);
			struct strbuf crlf = STRBUF_INIT;
			int ret;

			if (size < 0)
				return -1;
			if ((unsigned long long)size > BODY_MAX - body->len)
				return error("the docker daemon's answer is larger than %zu bytes",
					     BODY_MAX);
			if (!size)
				return skip_trailers(k);
			ret = read_exactly(k, (size_t)size, body);
			if (!ret)
				ret = read_exactly(k, 2, &crlf);
			if (!ret && memcmp(crlf.buf, "\r\n", 2))
				ret = error("the docker daemon's answer is not well chunked");
			strbuf_release(&crlf);
			if (ret < 0)
				return -1;
		}
	}
	if ((v = header(head, "Content-Length", &len))) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno || end != v + len || !digit(*v))
			return error("the docker daemon's answer has a bad length");
		if (n > BODY_MAX)
			return error("the docker daemon's answer is larger than %zu bytes", BODY_MAX);
		return read_exactly(k, (size_t)n, body);
	}
	/* Neither: the body ends with the connection. */
	for (;;) {
		ssize_t got;

		strbuf_add(body, k->buf.buf + k->off, k->buf.len - k->off);
		k->off = k->buf.len;
		if (body->len > BODY_MAX)
			return error("the docker daemon's answer is larger than %zu bytes", BODY_MAX);
		got = conn_fill(k);
		if (got < 0)
			return error_errno("cannot read from the docker daemon");
		if (!got)
			return 0;
	}
}

/* The daemon's own words for a failure: its JSON's "message", or the status. */
static void failure_message(struct strbuf *out, int status, const char *body)
{
	cJSON *root = cJSON_Parse(body);
	const char *msg = cJSON_IsObject(root) ? json_str(root, "message") : NULL;

	strbuf_reset(out);
	if (msg && *msg)
		sanitize_str(out, msg, 0);
	else
		strbuf_addf(out, "the daemon answered %d", status);
	cJSON_Delete(root);
}

/*
 * One request on its own connection, its answer's status and body:
 * 0; -1 with a message; DOCKER_API_USE_CLI where the daemon cannot be
 * reached.
 */
static int call(const char *method, const char *path, const char *req_body, int *status,
		struct strbuf *body)
{
	struct conn k;
	struct strbuf head = STRBUF_INIT;
	int ret = conn_open(&k);

	if (ret)
		return ret;
	ret = send_request(&k, method, path, req_body, 0);
	if (!ret)
		ret = read_head(&k, &head, status);
	if (!ret)
		ret = read_body(&k, *status, head.buf, body);
	strbuf_release(&head);
	conn_close(&k);
	return ret;
}

int docker_api_inspect(const char *ctr, struct container_info *out)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT;
	int status, ret;

	memset(out, 0, sizeof(*out));
	strbuf_addstr(&path, "/containers/");
	add_path_part(&path, ctr);
	strbuf_addstr(&path, "/json");
	ret = call("GET", path.buf, NULL, &status, &body);
	if (ret)
		goto done;
	if (status == 404) {
		ret = RUNTIME_NOT_FOUND;
	} else if (status != 200) {
		failure_message(&why, status, body.buf);
		ret = error("docker container inspect failed: %s", why.buf);
	} else {
		/* What "docker container inspect" prints: an array of these. */
		strbuf_addf(&why, "[%s]", body.buf);
		if (oci_parse_inspect(out, why.buf) < 0)
			ret = error("the docker daemon's inspect of '%s' is not what was expected",
				    ctr);
	}
done:
	strbuf_release(&path);
	strbuf_release(&body);
	strbuf_release(&why);
	return ret;
}

int docker_api_list(const char *label_key, struct container_info **out, size_t *nr)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT;
	cJSON *filters = cJSON_CreateObject(), *labels = cJSON_AddArrayToObject(filters, "label");
	char *json;
	int status, ret;

	*out = NULL;
	*nr = 0;
	cJSON_AddItemToArray(labels, cJSON_CreateString(label_key));
	json = cJSON_PrintUnformatted(filters);
	if (!json) {
		ret = error("out of memory");
		goto done;
	}
	strbuf_addstr(&path, "/containers/json?all=1&filters=");
	add_path_part(&path, json);
	ret = call("GET", path.buf, NULL, &status, &body);
	if (ret)
		goto done;
	if (status != 200) {
		failure_message(&why, status, body.buf);
		ret = error("docker ps failed: %s", why.buf);
	} else if (oci_parse_list(out, nr, body.buf, 0) < 0) {
		ret = error("the docker daemon's list of containers is not what was expected");
	} else {
		/* The API names containers as "/name"; ps prints "name". */
		for (size_t i = 0; i < *nr; i++) {
			char *name = (*out)[i].name;

			if (name && name[0] == '/')
				memmove(name, name + 1, strlen(name));
		}
	}
done:
	cJSON_free(json);
	cJSON_Delete(filters);
	strbuf_release(&path);
	strbuf_release(&body);
	strbuf_release(&why);
	return ret;
}

/* The body of exec's create: the process to run, as "docker exec" asks; NULL. */
static char *exec_config(const struct exec_opts *o, const char *const *cmd, int attach_in)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *json;

	cJSON_AddBoolToObject(root, "AttachStdin", attach_in);
	cJSON_AddBoolToObject(root, "AttachStdout", !o->detach);
	cJSON_AddBoolToObject(root, "AttachStderr", !o->detach);
	cJSON_AddBoolToObject(root, "Tty", 0);
	arr = cJSON_AddArrayToObject(root, "Cmd");
	for (; *cmd; cmd++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(*cmd));
	if (o->env && o->env->nr) {
		arr = cJSON_AddArrayToObject(root, "Env");
		for (size_t i = 0; i < o->env->nr; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(o->env->items[i]));
	}
	if (o->workdir)
		cJSON_AddStringToObject(root, "WorkingDir", o->workdir);
	if (o->user)
		cJSON_AddStringToObject(root, "User", o->user);
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return json;
}

/* Where exec's output goes, and how much of it has been kept. */
struct sink {
	struct child *c;
	size_t kept, max;
	unsigned stopped:1;	/* a reader of its output went away */
	unsigned overflow:1;
};

static int sink_put(struct sink *s, int stream, const char *buf, size_t len)
{
	struct child *c = s->c;
	struct strbuf *into = stream == 1 ? c->out : c->err;

	if (stream == 1 && s->stopped)
		return 0;
	if (stream == 1 && c->out_cb) {
		if (c->out_cb(c->out_data, buf, len))
			s->stopped = 1;
		return 0;
	}
	if (into) {
		if (len > s->max - s->kept) {
			s->overflow = 1;
			return -1;
		}
		s->kept += len;
		strbuf_add(into, buf, len);
		return 0;
	}
	if (stream == 2 && c->silent_err)
		return 0;
	if (write_in_full(stream == 1 && c->out_fd > 0 ? c->out_fd : stream, buf, len) < 0) {
		/* Where the CLI would die of SIGPIPE: 128 + SIGPIPE, as from it. */
		if (errno == EPIPE) {
			s->stopped = 1;
			return 0;
		}
		return error_errno("cannot write the command's output");
	}
	return 0;
}

/* Frames of the stream, as far as they have come: 0, or -1. */
struct demux {
	unsigned char head[8];
	size_t have;		/* of head */
	size_t left;		/* of the frame's payload */
	int stream;
};

static int demux_feed(struct demux *d, struct sink *s, const char *buf, size_t len)
{
	while (len) {
		if (d->left) {
			size_t n = len < d->left ? len : d->left;

			if (d->stream && sink_put(s, d->stream, buf, n) < 0)
				return -1;
			buf += n;
			len -= n;
			d->left -= n;
			continue;
		}
		d->head[d->have++] = (unsigned char)*buf++;
		len--;
		if (d->have < sizeof(d->head))
			continue;
		d->have = 0;
		/* 0 would be stdin echoed back: nothing the daemon sends. */
		if (d->head[0] > 2 || d->head[1] || d->head[2] || d->head[3])
			return error("the docker daemon's exec stream is not what was expected");
		d->stream = d->head[0];
		d->left = (size_t)d->head[4] << 24 | (size_t)d->head[5] << 16 |
			  (size_t)d->head[6] << 8 | d->head[7];
	}
	return 0;
}

static volatile sig_atomic_t foreground_signal;

/*
 * Whether a signal told us to stop (128 + it), checked with the signals
 * blocked, and if not, the wait for the stream, in which they are not:
 * one that comes between the two is not missed. The mask is restored
 * as soon as the wait ends, whatever ended it, so that a signal also
 * gets through while the stream is never idle.
 */
static int stopped_or_wait(struct pollfd *p, nfds_t n)
{
	sigset_t stop, waiting;
	int ret;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &waiting);
	if (foreground_signal)
		ret = 128 + foreground_signal;
	else if (cleanup_signalled() && !signals_held())
		ret = 128 + cleanup_signalled();
	else if (ppoll(p, n, NULL, &waiting) < 0)
		ret = errno == EINTR ? 0 : error_errno("poll");
	else
		ret = 0;
	sigprocmask(SIG_SETMASK, &waiting, NULL);
	return ret;
}

/*
 * The exec's stream: input from in (else fd in_fd, else none) to the
 * daemon, output from it into s, until the daemon ends the stream: 0;
 * -1 with a message; 128 + the signal where we were told to stop (the
 * command, as under the CLI, is left to the container's end).
 * Writes to the daemon never block: a command that reads no input must
 * not keep its output from being read.
 */
static int relay_loop(struct conn *k, struct sink *s, const char *in, size_t in_len,
		      int in_fd)
{
	struct demux d = { .have = 0 };
	char ibuf[65536];
	size_t ioff = 0, ilen = 0;
	int in_open = (in && in_len) || in_fd >= 0, ret = 0;

	/* What we printed before goes before the command's output. */
	fflush(NULL);
	/* What came with the head of the answer is the stream's beginning. */
	if (k->buf.len > k->off && demux_feed(&d, s, k->buf.buf + k->off, k->buf.len - k->off) < 0)
		return -1;
	k->off = k->buf.len;
	/* Input asked for and empty: its end, at once. */
	if (in && !in_len)
		shutdown(k->fd, SHUT_WR);
	for (;;) {
		struct pollfd p[2] = { { .fd = k->fd, .events = POLLIN }, { .fd = -1 } };
		const char *pending = in ? in + ioff : ibuf + ioff;
		size_t npending = in ? in_len - ioff : ilen - ioff;

		if (in_open && npending)
			p[0].events |= POLLOUT;
		else if (in_open && !in)
			p[1] = (struct pollfd){ .fd = in_fd, .events = POLLIN };
		ret = stopped_or_wait(p, 2);
		if (ret)
			return ret;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = conn_fill(k);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN)
				return error_errno("cannot read from the docker daemon");
			if (n == 0)
				break;
			if (n > 0) {
				ret = demux_feed(&d, s, k->buf.buf + k->off, (size_t)n);
				k->off = k->buf.len;
				if (ret < 0 || s->stopped)
					return ret;
			}
		}
		if (p[0].revents & POLLOUT) {
			ssize_t n = send(k->fd, pending, npending, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* The daemon took no more input: the command has ended. */
				in_open = 0;
			} else if (n > 0) {
				ioff += (size_t)n;
			}
			if (in && ioff == in_len) {
				in_open = 0;
				shutdown(k->fd, SHUT_WR);
			}
		}
		if (p[1].revents) {
			ssize_t n;

			do
				n = read(in_fd, ibuf, sizeof(ibuf));
			while (n < 0 && errno == EINTR);
			if (n <= 0) {
				in_open = 0;
				shutdown(k->fd, SHUT_WR);
			} else {
				ioff = 0;
				ilen = (size_t)n;
			}
		}
	}
	if (d.have || d.left)
		return error("the docker daemon's exec stream ended in a frame");
	return 0;
}

static void on_foreground_signal(int sig)
{
	if (!foreground_signal)
		foreground_signal = sig;
}

/*
 * In the foreground (struct child's foreground), SIGINT and SIGQUIT are
 * the command's: as the CLI would die of them and we would go on, the
 * stream ends with 128 + the signal, which is not ours.
 */
static int relay(struct conn *k, struct sink *s, const char *in, size_t in_len, int in_fd,
		 int foreground)
{
	struct sigaction fg = { .sa_handler = on_foreground_signal }, old_int, old_quit;
	int ret;

	foreground_signal = 0;
	sigemptyset(&fg.sa_mask);
	/* One ignored (nohup, a shell's background job) stays ignored. */
	sigaction(SIGINT, NULL, &old_int);
	sigaction(SIGQUIT, NULL, &old_quit);
	if (foreground && old_int.sa_handler != SIG_IGN)
		sigaction(SIGINT, &fg, NULL);
	if (foreground && old_quit.sa_handler != SIG_IGN)
		sigaction(SIGQUIT, &fg, NULL);
	ret = relay_loop(k, s, in, in_len, in_fd);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return ret;
}

/* The exec's exit status, once the daemon has seen it: 0..255, or -1. */
static int exec_status(const char *exec_id)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&path, "/exec/%s/json", exec_id);
	/*
	 * The stream ends as the command does; its status may follow a
	 * moment later (at most 10 s, for a daemon on a loaded machine).
	 */
	for (uint64_t end = monotonic_ms() + 10000; monotonic_ms() < end;) {
		cJSON *root;
		const cJSON *running, *code;
		int status, got = call("GET", path.buf, NULL, &status, &body);

		if (got == DOCKER_API_USE_CLI)
			error("cannot reach the docker daemon again");
		if (got)
			goto done;
		if (status != 200) {
			failure_message(&why, status, body.buf);
			error("docker exec failed: %s", why.buf);
			goto done;
		}
		root = cJSON_Parse(body.buf);
		running = cJSON_GetObjectItemCaseSensitive(root, "Running");
		code = cJSON_GetObjectItemCaseSensitive(root, "ExitCode");
		if (cJSON_IsTrue(running)) {
			cJSON_Delete(root);
			sleep_ms(5);
			continue;
		}
		if (cJSON_IsFalse(running) && cJSON_IsNumber(code) && code->valuedouble >= 0 &&
		    code->valuedouble <= 255)
			ret = (int)code->valuedouble;
		else
			error("the docker daemon's exec status is not what was expected");
		cJSON_Delete(root);
		goto done;
	}
	error("the docker daemon did not say how the command ended");
done:
	strbuf_release(&path);
	strbuf_release(&body);
	strbuf_release(&why);
	return ret;
}

/*
 * The daemon would not run the command (no such container, one not
 * running): status 1, as from the CLI, its words where the command's
 * stderr goes.
 */
static int refused(struct child *c, int status, const char *body)
{
	struct strbuf why = STRBUF_INIT;

	failure_message(&why, status, body);
	if (c->err)
		strbuf_addf(c->err, "docker exec failed: %s\n", why.buf);
	else if (!c->silent_err)
		error("docker exec failed: %s", why.buf);
	strbuf_release(&why);
	return 1;
}

static int valid_exec_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= 12 && n <= 128 && !s[n];
}

int docker_api_exec(const char *ctr, const struct exec_opts *o, const char *const *cmd,
		    struct child *c)
{
	static const struct exec_opts none;
	struct conn k = { .fd = -1, .buf = STRBUF_INIT };
	struct strbuf path = STRBUF_INIT, head = STRBUF_INIT, body = STRBUF_INIT;
	struct sink s = { .c = c };
	cJSON *created = NULL;
	char *config = NULL, *exec_id = NULL;
	int attach_in, in_fd, status, ret;

	if (!o)
		o = &none;
	if (o->tty)
		return DOCKER_API_USE_CLI;
	ret = conn_open(&k);
	if (ret)
		return ret;
	ret = -1;
	/* Our stdin is the command's only where asked for and nothing else is fed. */
	in_fd = !c->in && !c->no_stdin && o->interactive && !o->detach ? 0 : -1;
	attach_in = !o->detach && (c->in || in_fd >= 0);
	config = exec_config(o, cmd, attach_in);
	if (!config) {
		error("out of memory");
		goto done;
	}

	strbuf_addstr(&path, "/containers/");
	add_path_part(&path, ctr);
	strbuf_addstr(&path, "/exec");
	if (send_request(&k, "POST", path.buf, config, 0) < 0 ||
	    read_head(&k, &head, &status) < 0 || read_body(&k, status, head.buf, &body) < 0)
		goto done;
	if (status != 201) {
		ret = refused(c, status, body.buf);
		goto done;
	}
	created = cJSON_Parse(body.buf);
	if (!json_str(created, "Id") || !valid_exec_id(json_str(created, "Id"))) {
		error("the docker daemon's exec id is not what was expected");
		goto done;
	}
	exec_id = xstrdup(json_str(created, "Id"));

	/* Started on a connection of its own, which then carries the stream. */
	conn_close(&k);
	if (conn_open(&k)) {
		error("cannot reach the docker daemon again");
		goto done;
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "/exec/%s/start", exec_id);
	if (send_request(&k, "POST", path.buf,
			 o->detach ? "{\"Detach\":true,\"Tty\":false}" : "{\"Detach\":false,\"Tty\":false}",
			 !o->detach) < 0 ||
	    read_head(&k, &head, &status) < 0)
		goto done;
	if (o->detach) {
		if (read_body(&k, status, head.buf, &body) < 0)
			goto done;
		/* Started (0) or not (-1), as runtime_ops.exec says of detach. */
		if (status / 100 == 2)
			ret = 0;
		else
			refused(c, status, body.buf);
		goto done;
	}
	if (status != 101 && status != 200) {
		if (read_body(&k, status, head.buf, &body) < 0)
			goto done;
		ret = refused(c, status, body.buf);
		goto done;
	}
	s.max = c->max_out ? c->max_out : run_max_output;
	ret = relay(&k, &s, c->in, c->in_len, in_fd, c->foreground);
	if (ret < 0 && s.overflow) {
		c->overflow = 1;
		run_output_too_large("docker exec", s.max);
	}
	if (ret)
		goto done;
	if (s.stopped) {
		ret = 128 + SIGPIPE;
		goto done;
	}
	ret = exec_status(exec_id);
done:
	conn_close(&k);
	cJSON_Delete(created);
	cJSON_free(config);
	free(exec_id);
	strbuf_release(&path);
	strbuf_release(&head);
	strbuf_release(&body);
	return ret;
}

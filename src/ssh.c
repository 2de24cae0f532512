/*
 * The SSH connection, on libssh2: TCP connect, the handshake (with the host
 * key checked by ssh-known-hosts.c) and the log-in. Where to connect is
 * ssh-config.c's, running commands ssh-channel.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

#include "compat.h"
#include "msg.h"
#include "run.h"
#include "string-list.h"
#include "ssh-internal.h"

#define CONNECT_TIMEOUT_MS 10000
#define KEEPALIVE_SECONDS 15

/* The key files to log in with: see ssh-internal.h. */
void ssh_key_files(const struct ssh_target *t, const struct ssh_opts *o,
		   struct string_list *out, int *named)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *key = o->identity_file ? o->identity_file : t->identity_file;
	struct strbuf path = STRBUF_INIT;

	*named = key != NULL;
	if (key) {
		char *expanded = ssh_expand_home(key);

		string_list_append(out, expanded);
		free(expanded);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/.ssh/%s", getenv("HOME") ? getenv("HOME") : "",
			    defaults[i]);
		if (!access(path.buf, R_OK))
			string_list_append(out, path.buf);
	}
	strbuf_release(&path);
}

void ssh_opts_clear(struct ssh_opts *o)
{
	free(o->identity_file);
	free(o->known_hosts);
	memset(o, 0, sizeof(*o));
}


/* ---- the connection ---- */

/*
 * SSH is a conversation of small messages: each channel open, exec
 * request and command reply waits for the other side's. With Nagle's
 * algorithm on either end, a small message is held until the one before
 * it is acknowledged, and the peer delays that acknowledgement by up to
 * 40 ms: measured here, a channel open took 46 ms and a connection's
 * log-in 100 ms instead of 7 and 56. So our messages go at once
 * (TCP_NODELAY, as OpenSSH does), and so do our acknowledgements
 * (TCP_QUICKACK, which Linux clears again as it likes: renewed at each
 * read), so that sshd's next message is not held either.
 */
static void tcp_ack_now(int fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)fd;
#endif
}

static ssize_t count_send(libssh2_socket_t fd, const void *buf, size_t len, int flags,
			  void **abstract)
{
	struct ssh_conn *c = *abstract;
	ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);

	if (n > 0)
		c->sent += (uint64_t)n;
	return n < 0 ? -errno : n;
}

static ssize_t count_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
			  void **abstract)
{
	struct ssh_conn *c = *abstract;
	ssize_t n = recv(fd, buf, len, flags);

	if (n > 0) {
		c->received += (uint64_t)n;
		tcp_ack_now(fd);
	}
	return n < 0 ? -errno : n;
}

/*
 * Our messages sent at once (see tcp_ack_now); a host that vanishes (no
 * reset, no answer) noticed within about a minute, not the kernel's two
 * hours.
 */
static void tcp_options(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
#ifdef TCP_KEEPIDLE
	{
		int idle = 15, intvl = 5, cnt = 6;

		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
#endif
#ifdef TCP_USER_TIMEOUT
	{
		unsigned int timeout_ms = 60000;

		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms));
	}
#endif
}

static int tcp_connect(const struct ssh_target *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char port[16];
	int fd = -1, err, saved = 0;

	snprintf(port, sizeof(port), "%d", t->port);
	err = getaddrinfo(t->hostname, port, &hints, &res);
	if (err) {
		error("cannot resolve '%s': %s", t->hostname, gai_strerror(err));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(saved);
		int flags;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			saved = errno;
			goto next;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		err = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
		if (err <= 0) {
			saved = err ? errno : ETIMEDOUT;
			goto next;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &saved, &sl) < 0 || saved)
			goto next;
		fcntl(fd, F_SETFL, flags);
		tcp_options(fd);
		break;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		error_errno("cannot connect to '%s' port %d", t->hostname, t->port);
	}
	return fd;
}

static int auth_agent(struct ssh_conn *c)
{
	LIBSSH2_AGENT *agent = NULL;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int ret = -1;

	if (!getenv("SSH_AUTH_SOCK") || !(agent = libssh2_agent_init(c->s)))
		return -1;
	if (libssh2_agent_connect(agent) || libssh2_agent_list_identities(agent))
		goto done;
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		if (!libssh2_agent_userauth(agent, c->t.user, id)) {
			ret = 0;
			break;
		}
		prev = id;
	}
	libssh2_agent_disconnect(agent);
done:
	libssh2_agent_free(agent);
	return ret;
}

static int auth_key(struct ssh_conn *c, const char *path, int warn)
{
	int err;

	if (access(path, R_OK) < 0) {
		if (warn)
			error_errno("cannot read the key '%s'", path);
		return -1;
	}
	err = libssh2_userauth_publickey_fromfile_ex(c->s, c->t.user,
						     (unsigned)strlen(c->t.user), NULL, path, "");
	if (!err)
		return 0;
	if (warn || err != LIBSSH2_ERROR_AUTHENTICATION_FAILED) {
		char *msg = NULL;

		libssh2_session_last_error(c->s, &msg, NULL, 0);
		if (err == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
		    err == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
			warning("the server did not accept the key '%s'", path);
		else
			warning("cannot use the key '%s': %s (a key with a passphrase must be "
				"added to your ssh-agent)", path, msg ? msg : "unknown error");
	}
	return -1;
}

static int authenticate(struct ssh_conn *c, const struct ssh_opts *o)
{
	const char *methods = libssh2_userauth_list(c->s, c->t.user, (unsigned)strlen(c->t.user));
	struct string_list keys = STRING_LIST_INIT;
	int ret = -1, named;

	if (!methods) {
		if (libssh2_userauth_authenticated(c->s))
			return 0;
		return error("'%s' refused to list its log-in methods", c->t.hostname);
	}
	if (!strstr(methods, "publickey")) {
		error("cannot log in to '%s' as '%s': it offers only %s", c->t.hostname,
		      c->t.user, methods);
		hint("git-sand logs in with your ssh-agent or a key file (sand.identityFile)");
		return -1;
	}
	if (!auth_agent(c))
		return 0;
	ssh_key_files(&c->t, o, &keys, &named);
	for (size_t i = 0; ret && i < keys.nr; i++)
		ret = auth_key(c, keys.items[i], named);
	if (ret) {
		error("cannot log in to '%s' as '%s': no key was accepted", c->t.hostname,
		      c->t.user);
		hint("add your key to ssh-agent, or name it with sand.identityFile");
	}
	string_list_clear(&keys);
	return ret;
}

const struct ssh_target *ssh_conn_target(const struct ssh_conn *c)
{
	return &c->t;
}

void ssh_conn_bytes(const struct ssh_conn *c, uint64_t *sent, uint64_t *received)
{
	*sent = c->sent;
	*received = c->received;
}

void ssh_conn_batch(struct ssh_conn *c)
{
	c->batch = 1;
}

/* The statistics file the benchmarks read (GIT_SAND_SSH_STATS). */
static void write_stats(const struct ssh_conn *c)
{
	const char *path = getenv("GIT_SAND_SSH_STATS");
	FILE *fp;

	if (!path || !*path || !(fp = fopen(path, "a")))
		return;
	fprintf(fp, "%s %llu %llu %u %llu %llu %u\n", c->t.hostname, (unsigned long long)c->sent,
		(unsigned long long)c->received, c->channels, (unsigned long long)c->connect_ms,
		(unsigned long long)c->channel_ms, c->sessions);
	fclose(fp);
}

void ssh_close(struct ssh_conn *c)
{
	if (!c)
		return;
	if (c->s) {
		ssh_mux_close(c);
		libssh2_session_set_blocking(c->s, 1);
		libssh2_session_set_timeout(c->s, 2000);
		libssh2_session_disconnect(c->s, "bye");
		libssh2_session_free(c->s);
	}
	write_stats(c);
	if (c->fd >= 0)
		close(c->fd);
	ssh_target_clear(&c->t);
	free(c);
}

/*
 * The handshake, and the host key it brings checked. known_hosts is read
 * once: for the kinds of key to ask for, then to check the one sent.
 */
static int handshake(struct ssh_conn *c, const struct ssh_opts *o)
{
	struct ssh_known_hosts kh = { NULL, NULL };
	const char *key;
	size_t len;
	int type, ret = -1;

	if (ssh_known_hosts_load(&kh, c->s, o) < 0)
		goto done;
	ssh_known_hosts_prefer(&kh, c->s, &c->t);
	if (libssh2_session_handshake(c->s, c->fd)) {
		char *msg = NULL;

		libssh2_session_last_error(c->s, &msg, NULL, 0);
		error("SSH handshake with '%s' port %d failed: %s", c->t.hostname, c->t.port,
		      msg ? msg : "unknown error");
		goto done;
	}
	key = libssh2_session_hostkey(c->s, &len, &type);
	if (!key) {
		error("'%s' sent no host key", c->t.hostname);
		goto done;
	}
	ret = ssh_known_hosts_check(&kh, &c->t, o, key, len, type,
				    (const unsigned char *)libssh2_hostkey_hash(c->s,
						LIBSSH2_HOSTKEY_HASH_SHA256));
done:
	ssh_known_hosts_release(&kh);
	return ret;
}

int ssh_connect(struct ssh_conn **out, const char *url, const struct ssh_opts *o)
{
	struct ssh_conn *c = xcalloc(1, sizeof(*c));
	static int initialised;
	uint64_t start = monotonic_ms();
	int ret = -1;

	c->fd = -1;
	strbuf_init(&c->mux_buf, 0);
	*out = NULL;
	if (ssh_target_resolve(url, &c->t) < 0)
		goto done;
	if (!initialised) {
		if (libssh2_init(0)) {
			error("cannot initialise libssh2");
			goto done;
		}
		initialised = 1;
	}
	if ((c->fd = tcp_connect(&c->t)) < 0)
		goto done;
	c->s = libssh2_session_init_ex(NULL, NULL, NULL, c);
	if (!c->s) {
		error("cannot start an SSH session: out of memory");
		goto done;
	}
	libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_SEND, (void *)count_send);
	libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_RECV, (void *)count_recv);
	libssh2_session_set_timeout(c->s, 30000);
	if (handshake(c, o) < 0 || authenticate(c, o) < 0)
		goto done;
	libssh2_keepalive_config(c->s, 1, KEEPALIVE_SECONDS);
	libssh2_session_set_timeout(c->s, 0);
	c->connect_ms = monotonic_ms() - start;
	if (trace_enabled()) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "trace: ssh: connected to '%s' port %d (%llu ms)\n",
			    c->t.hostname, c->t.port, (unsigned long long)c->connect_ms);
		trace_write(&line);
		strbuf_release(&line);
	}
	*out = c;
	c = NULL;
	ret = 0;
done:
	if (c) {
		/* Nothing went through it worth counting. */
		if (c->s)
			libssh2_session_free(c->s);
		if (c->fd >= 0)
			close(c->fd);
		ssh_target_clear(&c->t);
		free(c);
	}
	return ret;
}

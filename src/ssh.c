/*
 * The SSH transport, on libssh2: host keys, the connection (log-in), and
 * running commands over it. Where to connect is ssh-config.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <git2.h>
#include <libssh2.h>

#include "argv.h"
#include "compat.h"
#include "msg.h"
#include "string-list.h"
#include "path.h"
#include "run.h"
#include "ssh.h"

#define CONNECT_TIMEOUT_MS 10000
#define KEEPALIVE_SECONDS 15

struct ssh_conn {
	int fd;
	LIBSSH2_SESSION *s;
	struct ssh_target t;
	uint64_t sent, received;
};

/* ---- host keys ---- */

static const char *key_type_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "RSA";
	case LIBSSH2_HOSTKEY_TYPE_DSS: return "DSA";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ECDSA";
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ED25519";
	}
	return "unknown";
}

static int key_type_mask(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/* "SHA256:<base64, unpadded>", as ssh prints fingerprints. */
static void fingerprint(const unsigned char *sha256, struct strbuf *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	strbuf_addstr(out, "SHA256:");
	for (size_t i = 0; i < 32; i += 3) {
		unsigned v = (unsigned)sha256[i] << 16;
		size_t n = 32 - i < 3 ? 32 - i : 3;

		if (n > 1)
			v |= (unsigned)sha256[i + 1] << 8;
		if (n > 2)
			v |= sha256[i + 2];
		for (size_t k = 0; k <= n; k++)
			strbuf_addch(out, b64[(v >> (18 - 6 * k)) & 63]);
	}
}

/*
 * Read a known_hosts file line by line, skipping lines libssh2 cannot use
 * (@cert-authority: certificates are not supported); "@revoked" lines go
 * to revoked.
 */
static void known_hosts_read(LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			     const char *path)
{
	struct strbuf text = STRBUF_INIT;

	if (strbuf_read_file(&text, path) < 0) {
		if (errno != ENOENT)
			warning("cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	for (char *line = text.buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (skip_prefix(line, "@revoked ", (const char **)&line))
			libssh2_knownhost_readline(revoked, line, strlen(line),
						   LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		else if (*line && *line != '#' && *line != '@')
			libssh2_knownhost_readline(kh, line, strlen(line),
						   LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
done:
	strbuf_release(&text);
}

/* The user's known_hosts: where a new key is added. */
static void user_known_hosts(const struct ssh_opts *o, struct strbuf *out)
{
	strbuf_reset(out);
	if (o->known_hosts)
		strbuf_addstr(out, o->known_hosts);
	else
		strbuf_addf(out, "%s/.ssh/known_hosts", getenv("HOME") ? getenv("HOME") : "");
}

/* The user's known_hosts and sand.knownHostsFile, on session s. */
static int known_hosts_load(LIBSSH2_SESSION *s, const struct ssh_opts *o,
			    LIBSSH2_KNOWNHOSTS **kh, LIBSSH2_KNOWNHOSTS **revoked)
{
	struct strbuf path = STRBUF_INIT;

	*kh = libssh2_knownhost_init(s);
	*revoked = libssh2_knownhost_init(s);
	if (!*kh || !*revoked)
		return error("cannot check host keys: out of memory");
	user_known_hosts(o, &path);
	known_hosts_read(*kh, *revoked, path.buf);
	if (o->known_hosts) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/.ssh/known_hosts", getenv("HOME") ? getenv("HOME") : "");
		known_hosts_read(*kh, *revoked, path.buf);
	}
	strbuf_release(&path);
	return 0;
}

static void known_hosts_free(LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked)
{
	if (kh)
		libssh2_knownhost_free(kh);
	if (revoked)
		libssh2_knownhost_free(revoked);
}

static int known_hosts_add(LIBSSH2_KNOWNHOSTS *kh, const struct ssh_target *t,
			   const struct ssh_opts *o, const char *key, size_t len, int type)
{
	struct libssh2_knownhost *entry = NULL;
	struct strbuf name = STRBUF_INIT, path = STRBUF_INIT, line = STRBUF_INIT;
	size_t outlen = 0;
	int fd = -1, ret = -1;

	if (t->port == 22)
		strbuf_addstr(&name, t->hostname);
	else
		strbuf_addf(&name, "[%s]:%d", t->hostname, t->port);
	if (libssh2_knownhost_addc(kh, name.buf, NULL, key, len, NULL, 0,
				   LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
				   key_type_mask(type), &entry) < 0) {
		error("cannot record the host key of '%s'", name.buf);
		goto done;
	}
	strbuf_grow(&line, 8192);
	if (libssh2_knownhost_writeline(kh, entry, line.buf, line.alloc, &outlen,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		error("cannot record the host key of '%s'", name.buf);
		goto done;
	}
	strbuf_setlen(&line, outlen);
	user_known_hosts(o, &path);
	{
		/* ~/.ssh may not exist yet. */
		char *slash = strrchr(path.buf, '/');

		if (slash && slash != path.buf) {
			*slash = '\0';
			mkdir_p(path.buf, 0700);
			*slash = '/';
		}
	}
	fd = open(path.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write_in_full(fd, line.buf, line.len) < 0) {
		error_errno("cannot add the host key to '%s'", path.buf);
		goto done;
	}
	warning("permanently added '%s' (%s) to the list of known hosts in '%s'", name.buf,
		key_type_name(type), path.buf);
	ret = 0;
done:
	if (fd >= 0)
		close(fd);
	strbuf_release(&name);
	strbuf_release(&path);
	strbuf_release(&line);
	return ret;
}

/* The check itself, against known hosts already read. */
static int check_host_key(LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			  const struct ssh_target *t, const struct ssh_opts *o,
			  const char *key, size_t len, int type, const unsigned char *sha256)
{
	struct strbuf fp = STRBUF_INIT, name = STRBUF_INIT;
	int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key_type_mask(type);
	int ret = -1, check;

	fingerprint(sha256, &fp);
	if (t->port == 22)
		strbuf_addstr(&name, t->hostname);
	else
		strbuf_addf(&name, "[%s]:%d", t->hostname, t->port);

	if (libssh2_knownhost_checkp(revoked, t->hostname, t->port, key, len, mask, NULL) ==
	    LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		error("the host key of '%s' (%s %s) is marked as revoked", name.buf,
		      key_type_name(type), fp.buf);
		goto done;
	}
	check = libssh2_knownhost_checkp(kh, t->hostname, t->port, key, len, mask, NULL);
	switch (check) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ret = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		error("the host key of '%s' has CHANGED: it is now %s %s", name.buf,
		      key_type_name(type), fp.buf);
		hint("someone may be intercepting the connection, or the host was reinstalled");
		hint("if you trust the new key, remove the old one with 'ssh-keygen -R \"%s\"'",
		     name.buf);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (o->accept_new) {
			ret = known_hosts_add(kh, t, o, key, len, type);
			break;
		}
		error("the host key of '%s' is unknown: %s key fingerprint is %s", name.buf,
		      key_type_name(type), fp.buf);
		hint("if that is the host's key, run again with --accept-new-host-key, "
		     "or connect once with ssh");
		break;
	default:
		error("cannot check the host key of '%s' (%s %s)", name.buf,
		      key_type_name(type), fp.buf);
		break;
	}
done:
	strbuf_release(&fp);
	strbuf_release(&name);
	return ret;
}

int ssh_hostkey_check(const struct ssh_target *t, const struct ssh_opts *o,
		      const char *key, size_t len, int type, const unsigned char *sha256)
{
	LIBSSH2_KNOWNHOSTS *kh = NULL, *revoked = NULL;
	LIBSSH2_SESSION *s = libssh2_session_init();
	int ret = -1;

	if (!s)
		return error("cannot check host keys: out of memory");
	if (!known_hosts_load(s, o, &kh, &revoked))
		ret = check_host_key(kh, revoked, t, o, key, len, type, sha256);
	known_hosts_free(kh, revoked);
	libssh2_session_free(s);
	return ret;
}

/*
 * Ask first for the kinds of host key that known_hosts holds for this
 * host, as ssh does, so that a host known by one kind of key is not met
 * with another (libssh2's own order differs from OpenSSH's). An entry of
 * a kind is found by checking a key that cannot match: "mismatch" means
 * there is one, hashed names included.
 */
static void prefer_known_key_types(struct ssh_conn *c, LIBSSH2_KNOWNHOSTS *kh)
{
	static const struct { int type; const char *method; } kinds[] = {
		{ LIBSSH2_HOSTKEY_TYPE_ED25519, "ssh-ed25519" },
		{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, "ecdsa-sha2-nistp256" },
		{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, "ecdsa-sha2-nistp384" },
		{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, "ecdsa-sha2-nistp521" },
		{ LIBSSH2_HOSTKEY_TYPE_RSA, "rsa-sha2-512" },
		{ LIBSSH2_HOSTKEY_TYPE_RSA, "rsa-sha2-256" },
		{ LIBSSH2_HOSTKEY_TYPE_RSA, "ssh-rsa" },
	};
	struct strbuf known = STRBUF_INIT, rest = STRBUF_INIT;
	const char **algs = NULL;
	int nr_algs;

	/*
	 * Only names this libssh2 supports: it would strip the others, and
	 * 1.10 does that with an overlapping memcpy.
	 */
	nr_algs = libssh2_session_supported_algs(c->s, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (nr_algs <= 0)
		goto done;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		int supported = 0, have;
		struct strbuf *to;

		for (int k = 0; k < nr_algs && !supported; k++)
			supported = !strcmp(algs[k], kinds[i].method);
		if (!supported)
			continue;
		have = libssh2_knownhost_checkp(kh, c->t.hostname, c->t.port, "-", 1,
						LIBSSH2_KNOWNHOST_TYPE_PLAIN |
						LIBSSH2_KNOWNHOST_KEYENC_RAW |
						key_type_mask(kinds[i].type), NULL) ==
		       LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
		to = have ? &known : &rest;
		strbuf_addf(to, "%s%s", to->len ? "," : "", kinds[i].method);
	}
	/* Nothing known: libssh2's own order. */
	if (known.len) {
		if (rest.len)
			strbuf_addf(&known, ",%s", rest.buf);
		libssh2_session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY, known.buf);
	}
done:
	if (algs)
		libssh2_free(c->s, algs);
	strbuf_release(&known);
	strbuf_release(&rest);
}

/*
 * The key files to log in with, after the agent: the one named
 * (sand.identityFile, else IdentityFile of ~/.ssh/config), else those of
 * ssh's default keys that exist. *named says which it was.
 */
static void key_files(const struct ssh_target *t, const struct ssh_opts *o,
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

/* ---- libgit2's transport ---- */

int ssh_git_credentials(void *out, const char *url, const char *user, unsigned int allowed,
			void *payload)
{
	struct ssh_git_auth *a = payload;
	struct string_list keys = STRING_LIST_INIT;
	int attempt = a->tries++, named, ret = GIT_PASSTHROUGH;

	(void)url;
	if (!user)
		user = a->t.user;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new((git_credential **)out, user);
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH;
	/* First the agent, then the key file(s), each once. */
	if (getenv("SSH_AUTH_SOCK") && attempt-- == 0)
		return git_credential_ssh_key_from_agent((git_credential **)out, user);
	key_files(&a->t, a->o, &keys, &named);
	if (attempt >= 0 && (size_t)attempt < keys.nr)
		ret = git_credential_ssh_key_new((git_credential **)out, user, NULL,
						 keys.items[attempt], NULL);
	string_list_clear(&keys);
	return ret;
}

int ssh_git_certificate(void *cert, int valid, const char *host, void *payload)
{
	git_cert_hostkey *hk = cert;
	struct ssh_git_auth *a = payload;

	(void)valid;
	(void)host;
	if (hk->parent.cert_type != GIT_CERT_HOSTKEY_LIBSSH2 ||
	    !(hk->type & GIT_CERT_SSH_RAW) || !(hk->type & GIT_CERT_SSH_SHA256)) {
		error("cannot check the host key of '%s'", a->t.hostname);
		return GIT_ECERTIFICATE;
	}
	return ssh_hostkey_check(&a->t, a->o, hk->hostkey, hk->hostkey_len, (int)hk->raw_type,
				 hk->hash_sha256) < 0 ? GIT_ECERTIFICATE : 0;
}

/* ---- the connection ---- */

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

	if (n > 0)
		c->received += (uint64_t)n;
	return n < 0 ? -errno : n;
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
		int flags, one = 1;

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
		/*
		 * A host that vanishes (no reset, no answer) is noticed within
		 * about a minute, not the kernel's two hours.
		 */
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
	key_files(&c->t, o, &keys, &named);
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

/* The statistics file the benchmarks read (GIT_SAND_SSH_STATS). */
static void write_stats(const struct ssh_conn *c)
{
	const char *path = getenv("GIT_SAND_SSH_STATS");
	FILE *fp;

	if (!path || !*path || !(fp = fopen(path, "a")))
		return;
	fprintf(fp, "%s %llu %llu\n", c->t.hostname, (unsigned long long)c->sent,
		(unsigned long long)c->received);
	fclose(fp);
}

void ssh_close(struct ssh_conn *c)
{
	if (!c)
		return;
	if (c->s) {
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

int ssh_connect(struct ssh_conn **out, const char *url, const struct ssh_opts *o)
{
	struct ssh_conn *c = xcalloc(1, sizeof(*c));
	LIBSSH2_KNOWNHOSTS *kh = NULL, *revoked = NULL;
	static int initialised;
	const char *key;
	size_t len;
	int type, ret = -1;

	c->fd = -1;
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
	/* Read once: for the kinds of key to ask for, then to check the one sent. */
	if (known_hosts_load(c->s, o, &kh, &revoked) < 0)
		goto done;
	prefer_known_key_types(c, kh);
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
	if (check_host_key(kh, revoked, &c->t, o, key, len, type,
			   (const unsigned char *)libssh2_hostkey_hash(c->s,
						LIBSSH2_HOSTKEY_HASH_SHA256)) < 0 ||
	    authenticate(c, o) < 0)
		goto done;
	libssh2_keepalive_config(c->s, 1, KEEPALIVE_SECONDS);
	libssh2_session_set_timeout(c->s, 0);
	*out = c;
	c = NULL;
	ret = 0;
done:
	known_hosts_free(kh, revoked);
	if (c) {
		/* Nothing went through it worth counting. */
		if (c->s) {
			libssh2_session_free(c->s);
			c->s = NULL;
		}
		if (c->fd >= 0)
			close(c->fd);
		ssh_target_clear(&c->t);
		free(c);
	}
	return ret;
}

/* ---- running commands ---- */

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
	{ "USR2", SIGUSR2 },
};

static int signal_number(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (!strcmp(signals[i].name, name))
			return signals[i].sig;
	return SIGTERM;
}

static int ssh_failed(struct ssh_conn *c, const char *what)
{
	char *msg = NULL;

	libssh2_session_last_error(c->s, &msg, NULL, 0);
	return error("connection to '%s' failed while %s: %s", c->t.hostname, what,
		     msg && *msg ? msg : "connection lost");
}

/* Write what is pending on stdin; 1 if something was written. */
static int pump_in(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, struct ssh_cmd *cmd,
		   struct strbuf *pending, size_t *off, int *in_done, int *err)
{
	int progress = 0;

	while (!*in_done) {
		ssize_t n;

		if (*off == pending->len) {
			strbuf_reset(pending);
			*off = 0;
			if (cmd->feed) {
				int more = cmd->feed(cmd->feed_data, pending);

				if (more < 0) {
					*err = -1;
					return 0;
				}
				if (!more && !pending->len)
					goto eof;
			} else if (cmd->in) {
				if (!cmd->in_len)
					goto eof;
				strbuf_add(pending, cmd->in, cmd->in_len);
				cmd->in_len = 0;
			} else if (cmd->in_fd >= 0) {
				struct pollfd pfd = { .fd = cmd->in_fd, .events = POLLIN };
				char buf[16384];

				if (poll(&pfd, 1, 0) <= 0)
					return progress;
				n = read(cmd->in_fd, buf, sizeof(buf));
				if (n < 0 && (errno == EINTR || errno == EAGAIN))
					return progress;
				if (n <= 0)
					goto eof;
				strbuf_add(pending, buf, (size_t)n);
			} else {
				goto eof;
			}
		}
		n = libssh2_channel_write(ch, pending->buf + *off, pending->len - *off);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return progress;
		if (n < 0) {
			*err = ssh_failed(c, "sending input");
			return 0;
		}
		*off += (size_t)n;
		progress = 1;
	}
	return progress;
eof:
	if (libssh2_channel_send_eof(ch) == LIBSSH2_ERROR_EAGAIN)
		return progress;
	*in_done = 1;
	return 1;
}

/*
 * The first line of the command's output is the pid the wrapper printed
 * (see ssh_run); the rest is the command's own.
 */
struct pid_reader {
	struct strbuf line;
	long pid;
	int done;
};

static void deliver(struct strbuf *sb, int fd, const char *buf, size_t n)
{
	if (sb)
		strbuf_add(sb, buf, n);
	else if (n)
		write_in_full(fd, buf, n);
}

/*
 * Read what the channel has for one stream; 1 if something came, -1 on
 * error, -2 when sb holds more than max.
 */
static int pump_out(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, int stream, struct strbuf *sb,
		    int fd, struct pid_reader *pr, size_t max)
{
	char buf[32768];
	int progress = 0;

	for (;;) {
		ssize_t n = libssh2_channel_read_ex(ch, stream, buf, sizeof(buf));
		char *nl;

		if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
			return progress;
		if (n < 0)
			return ssh_failed(c, "reading output");
		if (sb && sb->len > max)
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
		if (nl && isdigit((unsigned char)pr->line.buf[0])) {
			pr->pid = strtol(pr->line.buf, NULL, 10);
			deliver(sb, fd, nl + 1, pr->line.len - (size_t)(nl + 1 - pr->line.buf));
		} else {
			deliver(sb, fd, pr->line.buf, pr->line.len); /* not ours after all */
		}
	}
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

static int wait_socket(struct ssh_conn *c, struct ssh_cmd *cmd, int in_done,
		       const struct strbuf *pending, size_t off)
{
	struct pollfd pfd[2];
	int dir = libssh2_session_block_directions(c->s), nfds = 1, ignore;

	pfd[0] = (struct pollfd){ .fd = c->fd, .events = 0 };
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND || !dir)
		pfd[0].events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd[0].events |= POLLOUT;
	if (!in_done && cmd->in_fd >= 0 && !cmd->feed && !cmd->in && off == pending->len) {
		pfd[1] = (struct pollfd){ .fd = cmd->in_fd, .events = POLLIN };
		nfds = 2;
	}
	if (poll(pfd, (nfds_t)nfds, 1000) == 0)
		libssh2_keepalive_send(c->s, &ignore);
	return 0;
}

int ssh_run(struct ssh_conn *c, struct ssh_cmd *cmd)
{
	LIBSSH2_CHANNEL *ch = NULL;
	/*
	 * The command runs under a wrapper that prints its pid first, so
	 * that a signal can be passed on (see remote_kill).
	 */
	static const char *const wrapper[] = { "sh", "-c", "echo $$ && exec \"$@\"", "sh", NULL };
	struct strbuf line = STRBUF_INIT, pending = STRBUF_INIT;
	struct sigaction sa = { 0 }, old_winch, old_int, old_term, old_hup;
	struct pid_reader pr = { .line = STRBUF_INIT };
	size_t off = 0, max = cmd->max_out ? cmd->max_out : run_max_output;
	int in_done = 0, err = 0, status = -1, handlers = 0, cols, rows, forwarded = 0;

	sq_quote_argv(&line, wrapper);
	strbuf_addch(&line, ' ');
	sq_quote_argv(&line, cmd->argv);
	libssh2_session_set_blocking(c->s, 1);
	if (!(ch = libssh2_channel_open_session(c->s))) {
		ssh_failed(c, "opening a channel");
		goto done;
	}
	if (cmd->tty) {
		const char *term = getenv("TERM");
		struct termios raw;

		window_size(&cols, &rows);
		if (libssh2_channel_request_pty_ex(ch, term ? term : "xterm",
						   (unsigned)strlen(term ? term : "xterm"), NULL, 0,
						   cols, rows, 0, 0)) {
			ssh_failed(c, "asking for a terminal");
			goto done;
		}
		if (isatty(0) && !tcgetattr(0, &saved_termios)) {
			termios_saved = 1;
			cleanup_push(restore_terminal, NULL);
			raw = saved_termios;
			cfmakeraw(&raw);
			tcsetattr(0, TCSADRAIN, &raw);
		}
	}
	got_winch = got_signal = 0;
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, &old_winch);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	handlers = 1;
	if (libssh2_channel_exec(ch, line.buf)) {
		ssh_failed(c, "starting a command");
		goto done;
	}

	libssh2_session_set_blocking(c->s, 0);
	for (;;) {
		int progress = 0, r;

		if (got_winch && cmd->tty) {
			got_winch = 0;
			window_size(&cols, &rows);
			libssh2_channel_request_pty_size(ch, cols, rows);
		}
		if (got_signal) {
			int sig = got_signal;

			/*
			 * Passed on to the command there (with a terminal, ^C
			 * went as a byte already); before its pid is known,
			 * ending the channel ends its input and output.
			 */
			got_signal = 0;
			if (pr.pid <= 0) {
				status = 128 + sig;
				goto done;
			}
			remote_kill(c, pr.pid, sig);
			forwarded = sig;
		}
		progress |= pump_in(c, ch, cmd, &pending, &off, &in_done, &err);
		if (err)
			goto done;
		for (int k = 0; k < 2; k++) {
			r = k ? pump_out(c, ch, SSH_EXTENDED_DATA_STDERR, cmd->err, cmd->err_fd,
					 NULL, max)
			      : pump_out(c, ch, 0, cmd->out, cmd->out_fd, &pr, max);
			if (r >= 0) {
				progress |= r;
				continue;
			}
			if (r == -2) {
				/* Enough: it must not make us hold more. */
				run_output_too_large(cmd->argv[0], max);
				if (pr.pid > 0)
					remote_kill(c, pr.pid, SIGKILL);
				status = -1;
			}
			goto done;
		}
		if (libssh2_channel_eof(ch))
			break;
		if (!progress)
			wait_socket(c, cmd, in_done, &pending, off);
	}

	libssh2_session_set_blocking(c->s, 1);
	libssh2_session_set_timeout(c->s, 10000);
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	libssh2_session_set_timeout(c->s, 0);
	{
		char *signame = NULL;

		libssh2_channel_get_exit_signal(ch, &signame, NULL, NULL, NULL, NULL, NULL);
		if (signame) {
			status = 128 + signal_number(signame);
			libssh2_free(c->s, signame);
		} else {
			status = libssh2_channel_get_exit_status(ch);
		}
		/*
		 * A runtime's exec may end quietly (status 0) on the signal
		 * it got: it still ended because of it, as a shell would say.
		 */
		if (forwarded && !status)
			status = 128 + forwarded;
	}
done:
	if (handlers) {
		sigaction(SIGWINCH, &old_winch, NULL);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
	}
	if (termios_saved) {
		restore_terminal(NULL);
		cleanup_pop();
	}
	if (ch) {
		libssh2_session_set_blocking(c->s, 1);
		libssh2_session_set_timeout(c->s, 2000);
		libssh2_channel_free(ch);
		libssh2_session_set_timeout(c->s, 0);
	}
	strbuf_release(&line);
	strbuf_release(&pending);
	strbuf_release(&pr.line);
	return status;
}

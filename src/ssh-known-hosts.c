/*
 * Host keys: checked against ~/.ssh/known_hosts and sand.knownHostsFile as
 * OpenSSH checks them (revoked, changed, unknown), new ones added there
 * when the user accepts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "compat.h"
#include "msg.h"
#include "path.h"
#include "ssh-internal.h"

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

/* The host as known_hosts names it: "[host]:port" unless on port 22. */
static void known_hosts_name(const struct ssh_target *t, struct strbuf *out)
{
	if (t->port == 22)
		strbuf_addstr(out, t->hostname);
	else
		strbuf_addf(out, "[%s]:%d", t->hostname, t->port);
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

int ssh_known_hosts_load(struct ssh_known_hosts *kh, LIBSSH2_SESSION *s,
			 const struct ssh_opts *o)
{
	struct strbuf path = STRBUF_INIT;

	kh->kh = libssh2_knownhost_init(s);
	kh->revoked = libssh2_knownhost_init(s);
	if (!kh->kh || !kh->revoked)
		return error("cannot check host keys: out of memory");
	user_known_hosts(o, &path);
	known_hosts_read(kh->kh, kh->revoked, path.buf);
	if (o->known_hosts) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/.ssh/known_hosts", getenv("HOME") ? getenv("HOME") : "");
		known_hosts_read(kh->kh, kh->revoked, path.buf);
	}
	strbuf_release(&path);
	return 0;
}

void ssh_known_hosts_release(struct ssh_known_hosts *kh)
{
	if (kh->kh)
		libssh2_knownhost_free(kh->kh);
	if (kh->revoked)
		libssh2_knownhost_free(kh->revoked);
	kh->kh = kh->revoked = NULL;
}

static int known_hosts_add(LIBSSH2_KNOWNHOSTS *kh, const struct ssh_target *t,
			   const struct ssh_opts *o, const char *key, size_t len, int type)
{
	struct libssh2_knownhost *entry = NULL;
	struct strbuf name = STRBUF_INIT, path = STRBUF_INIT, line = STRBUF_INIT;
	size_t outlen = 0;
	int fd = -1, ret = -1;

	known_hosts_name(t, &name);
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

int ssh_known_hosts_check(const struct ssh_known_hosts *kh, const struct ssh_target *t,
			  const struct ssh_opts *o, const char *key, size_t len, int type,
			  const unsigned char *sha256)
{
	struct strbuf fp = STRBUF_INIT, name = STRBUF_INIT;
	int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key_type_mask(type);
	int ret = -1, check;

	fingerprint(sha256, &fp);
	known_hosts_name(t, &name);

	if (libssh2_knownhost_checkp(kh->revoked, t->hostname, t->port, key, len, mask, NULL) ==
	    LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		error("the host key of '%s' (%s %s) is marked as revoked", name.buf,
		      key_type_name(type), fp.buf);
		goto done;
	}
	check = libssh2_knownhost_checkp(kh->kh, t->hostname, t->port, key, len, mask, NULL);
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
			ret = known_hosts_add(kh->kh, t, o, key, len, type);
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
	struct ssh_known_hosts kh = { NULL, NULL };
	LIBSSH2_SESSION *s = libssh2_session_init();
	int ret = -1;

	if (!s)
		return error("cannot check host keys: out of memory");
	if (!ssh_known_hosts_load(&kh, s, o))
		ret = ssh_known_hosts_check(&kh, t, o, key, len, type, sha256);
	ssh_known_hosts_release(&kh);
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
void ssh_known_hosts_prefer(const struct ssh_known_hosts *kh, LIBSSH2_SESSION *s,
			    const struct ssh_target *t)
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
	nr_algs = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (nr_algs <= 0)
		goto done;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		int supported = 0, have;
		struct strbuf *to;

		for (int k = 0; k < nr_algs && !supported; k++)
			supported = !strcmp(algs[k], kinds[i].method);
		if (!supported)
			continue;
		have = libssh2_knownhost_checkp(kh->kh, t->hostname, t->port, "-", 1,
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
		libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, known.buf);
	}
done:
	if (algs)
		libssh2_free(s, algs);
	strbuf_release(&known);
	strbuf_release(&rest);
}

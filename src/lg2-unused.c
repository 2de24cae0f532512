/*
 * What libgit2 would use for HTTPS, which git-sand never speaks through
 * it: its one remote transport is SSH (fetch.c), whose host keys it
 * checks itself. These stand in for the libraries' own functions.
 *
 * The CA bundle. A libgit2 built with mbedTLS (Debian's) parses the whole
 * bundle in git_libgit2_init, before any option can be set: 7 ms of
 * every command here (two thirds of the init), and more to free it at
 * exit. This reads nothing, so libgit2 keeps an empty chain of trusted
 * certificates: an HTTPS connection, should one ever be made, fails its
 * certificate check rather than being trusted. Linked dynamically, the
 * dynamic linker binds libgit2's call to the function of that name
 * here; linked statically, the Makefile has the linker send it to
 * __wrap_ (ld --wrap). A libgit2 built with OpenSSL or without TLS never
 * calls it. t0001 checks that no bundle is read.
 *
 * GSSAPI. libgit2 uses it only for HTTP's Negotiate authentication; the
 * Kerberos libraries behind it are six shared objects to load for every
 * command. Linked statically, these take their place and refuse, as a
 * GSSAPI with no mechanism would: libgit2 then offers no Negotiate.
 */
#include <stddef.h>
#include <stdint.h>

int __wrap_mbedtls_x509_crt_parse_file(void *chain, const char *path);
int __wrap_mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}

#ifndef GIT_SAND_STATIC_LIBGIT2
int mbedtls_x509_crt_parse_file(void *chain, const char *path);
int mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
	return __wrap_mbedtls_x509_crt_parse_file(chain, path);
}
#else
#include <git2.h>
#include <git2/sys/stream.h>

/*
 * What git_libgit2_init sets up for every command, and git-sand never
 * uses. The Makefile sends libgit2's calls here (ld --wrap) only for the
 * libgit2 these were checked against, 1.5 (Debian 12's); for another,
 * these are not defined and libgit2 runs its own.
 */
#if LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR == 5
/*
 * mbedTLS's set-up: it seeds a random generator from HAVEGE and the
 * CPU's cycle counter and lists the cipher suites, about a millisecond
 * of every command, for TLS that is never spoken. Nothing is set up,
 * and a TLS stream or a CA location is refused, as by a libgit2 built
 * without TLS.
 */
int __wrap_git_mbedtls_stream_global_init(void);
int __wrap_git_mbedtls_stream_global_init(void)
{
	return 0;
}

static int no_tls(void)
{
	git_error_set_str(GIT_ERROR_SSL, "git-sand does not speak TLS through libgit2");
	return -1;
}

int __wrap_git_mbedtls_stream_new(git_stream **out, const char *host, const char *port);
int __wrap_git_mbedtls_stream_new(git_stream **out, const char *host, const char *port)
{
	(void)host;
	(void)port;
	*out = NULL;
	return no_tls();
}

int __wrap_git_mbedtls_stream_wrap(git_stream **out, git_stream *in, const char *host);
int __wrap_git_mbedtls_stream_wrap(git_stream **out, git_stream *in, const char *host)
{
	(void)in;
	(void)host;
	*out = NULL;
	return no_tls();
}

int __wrap_git_mbedtls__set_cert_location(const char *file, const char *path);
int __wrap_git_mbedtls__set_cert_location(const char *file, const char *path)
{
	(void)file;
	(void)path;
	return no_tls();
}

/*
 * libgit2's SSH transport initialises libssh2 (and with it OpenSSL) for
 * every command. libssh2 initialises itself when its first session is
 * made (libssh2_session_init_ex), which is the first thing libgit2's
 * transport and ssh.c do with it; ssh.c also calls libssh2_init first.
 * Nothing is left to clean up at shutdown.
 */
int __wrap_git_transport_ssh_global_init(void);
int __wrap_git_transport_ssh_global_init(void)
{
	return 0;
}
#endif

/* RFC 2744's C bindings, with the opaque types as void pointers. */
typedef uint32_t OM_uint32;
#define GSS_S_COMPLETE 0
#define GSS_S_UNAVAILABLE ((OM_uint32)16 << 16)

struct gss_buffer { size_t length; void *value; };

void *GSS_C_NT_HOSTBASED_SERVICE;

static OM_uint32 refuse(OM_uint32 *minor)
{
	if (minor)
		*minor = 0;
	return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_indicate_mechs(OM_uint32 *minor, void **mechs);
OM_uint32 gss_indicate_mechs(OM_uint32 *minor, void **mechs)
{
	if (mechs)
		*mechs = NULL;
	return refuse(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, const struct gss_buffer *in, const void *type,
			  void **name);
OM_uint32 gss_import_name(OM_uint32 *minor, const struct gss_buffer *in, const void *type,
			  void **name)
{
	if (name)
		*name = NULL;
	return refuse(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, void *cred, void **ctx, void *target,
			       void *mech, OM_uint32 flags, OM_uint32 time, void *bindings,
			       const struct gss_buffer *in, void **actual_mech,
			       struct gss_buffer *out, OM_uint32 *ret_flags, OM_uint32 *time_rec);
OM_uint32 gss_init_sec_context(OM_uint32 *minor, void *cred, void **ctx, void *target,
			       void *mech, OM_uint32 flags, OM_uint32 time, void *bindings,
			       const struct gss_buffer *in, void **actual_mech,
			       struct gss_buffer *out, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
	if (out) {
		out->length = 0;
		out->value = NULL;
	}
	return refuse(minor);
}

/* The status's text: none (an empty buffer, the last message). */
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, const void *mech,
			     OM_uint32 *more, struct gss_buffer *text);
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, const void *mech,
			     OM_uint32 *more, struct gss_buffer *text)
{
	if (more)
		*more = 0;
	if (text) {
		text->length = 0;
		text->value = NULL;
	}
	if (minor)
		*minor = 0;
	return GSS_S_COMPLETE;
}

/* Nothing was ever made, so there is nothing to release. */
OM_uint32 gss_release_buffer(OM_uint32 *minor, struct gss_buffer *buf);
OM_uint32 gss_release_buffer(OM_uint32 *minor, struct gss_buffer *buf)
{
	if (buf) {
		buf->length = 0;
		buf->value = NULL;
	}
	if (minor)
		*minor = 0;
	return GSS_S_COMPLETE;
}

OM_uint32 gss_release_name(OM_uint32 *minor, void **name);
OM_uint32 gss_release_name(OM_uint32 *minor, void **name)
{
	if (name)
		*name = NULL;
	if (minor)
		*minor = 0;
	return GSS_S_COMPLETE;
}

OM_uint32 gss_release_oid_set(OM_uint32 *minor, void **set);
OM_uint32 gss_release_oid_set(OM_uint32 *minor, void **set)
{
	if (set)
		*set = NULL;
	if (minor)
		*minor = 0;
	return GSS_S_COMPLETE;
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, void **ctx, struct gss_buffer *out);
OM_uint32 gss_delete_sec_context(OM_uint32 *minor, void **ctx, struct gss_buffer *out)
{
	if (ctx)
		*ctx = NULL;
	return gss_release_buffer(minor, out);
}
#endif

/*
 * Callbacks for libgit2's own SSH transport (git fetch over ssh://): it
 * checks host keys and logs in as ssh_connect() does. Their signatures are
 * libgit2's own, so that they are set without casts.
 */
#include <stdlib.h>

#include <git2.h>

#include "msg.h"
#include "string-list.h"
#include "ssh-internal.h"

int ssh_git_credentials(git_credential **out, const char *url, const char *user,
			unsigned int allowed, void *payload)
{
	struct ssh_git_auth *a = payload;
	struct string_list keys = STRING_LIST_INIT;
	int attempt = a->tries++, named, ret = GIT_PASSTHROUGH;

	(void)url;
	if (!user)
		user = a->t.user;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH;
	/* First the agent, then the key file(s), each once. */
	if (getenv("SSH_AUTH_SOCK") && attempt-- == 0)
		return git_credential_ssh_key_from_agent(out, user);
	ssh_key_files(&a->t, a->o, &keys, &named);
	if (attempt >= 0 && (size_t)attempt < keys.nr)
		ret = git_credential_ssh_key_new(out, user, NULL,
						 keys.items[attempt], NULL);
	string_list_clear(&keys);
	return ret;
}

int ssh_git_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
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

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "gitutil.h"
#include "msg.h"
#include "sandbox-remote.h"
#include "served.h"

void sandbox_remote_name(const struct sandbox *sb, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, SANDBOX_REMOTE_PREFIX "%s", sb->name);
}

enum remote_owner { REMOTE_ABSENT, REMOTE_OURS, REMOTE_FOREIGN };

/*
 * git locks its config file for every write, and so does libgit2, which
 * fails at once when another process holds the lock: git-sand commands
 * running side by side, or the user's own git. Wait a little and retry,
 * for at most 5 s from the first refusal (*since, 0 before it).
 */
#define LOCK_WAIT_MS 5000

static int locked_retry(int err, uint64_t *since)
{
	struct timespec ts = { 0, 0 };
	uint32_t r;

	if (!*since)
		*since = monotonic_ms();
	if (err != GIT_ELOCKED || monotonic_ms() - *since > LOCK_WAIT_MS)
		return 0;
	git_error_clear();
	if (random_bytes(&r, sizeof(r)) < 0)
		r = (uint32_t)getpid();
	ts.tv_nsec = (long)(1000000 + r % 9000000); /* 1 to 10 ms */
	nanosleep(&ts, NULL);
	return 1;
}

static int remote_create_retry(git_remote **out, git_repository *repo, const char *name,
			       const char *url, const char *spec)
{
	int err;
	uint64_t since = 0;

	do {
		err = git_remote_create_with_fetchspec(out, repo, name, url, spec);
	} while (err < 0 && locked_retry(err, &since));
	return err;
}

int remote_delete_retry(git_repository *repo, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	git_config *cfg = NULL;
	int err;
	uint64_t since = 0;

	do {
		err = git_remote_delete(repo, name);
	} while (err < 0 && locked_retry(err, &since));
	if (err != GIT_ENOTFOUND)
		return err;
	/* No remote, but maybe our mark, left by a new killed between the two. */
	git_error_clear();
	strbuf_addf(&key, "remote.%s.sandbox", name);
	if (!(err = git_repository_config(&cfg, repo))) {
		since = 0;
		do {
			err = git_config_delete_entry(cfg, key.buf);
		} while (err < 0 && locked_retry(err, &since));
	}
	git_config_free(cfg);
	strbuf_release(&key);
	return err;
}

static int config_set_retry(git_repository *repo, const char *key, const char *value)
{
	git_config *cfg = NULL;
	int err;
	uint64_t since = 0;

	if ((err = git_repository_config(&cfg, repo)) < 0)
		return err;
	do {
		err = git_config_set_string(cfg, key, value);
	} while (err < 0 && locked_retry(err, &since));
	git_config_free(cfg);
	return err;
}

/*
 * Who owns the remote "sand/<name>": nobody, git-sand (the sandbox id it
 * was made for goes to owner_id), or the user.
 */
static int remote_owner(git_repository *repo, const struct sandbox *sb, struct strbuf *owner_id)
{
	struct strbuf name = STRBUF_INIT, key = STRBUF_INIT;
	git_remote *remote = NULL;
	git_config *cfg = NULL;
	int err, ret = -1;

	sandbox_remote_name(sb, &name);
	err = git_remote_lookup(&remote, repo, name.buf);
	git_error_clear();
	if (err == GIT_ENOTFOUND) {
		ret = REMOTE_ABSENT;
		goto done;
	}
	/* A remote libgit2 cannot parse still counts as someone's remote. */
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		error_lg2("cannot read the repository's configuration");
		goto done;
	}
	strbuf_addf(&key, "remote.%s.sandbox", name.buf);
	err = config_get_str(cfg, key.buf, owner_id);
	if (err < 0)
		goto done;
	ret = err ? REMOTE_OURS : REMOTE_FOREIGN;
done:
	git_remote_free(remote);
	git_config_free(cfg);
	strbuf_release(&name);
	strbuf_release(&key);
	return ret;
}

int sandbox_remote_check(git_repository *repo, struct store *st, const struct sandbox *sb)
{
	struct strbuf owner = STRBUF_INIT;
	struct sandbox other = { 0 };
	int who = remote_owner(repo, sb, &owner), ret = 0;

	if (who < 0) {
		ret = -1;
	} else if (who == REMOTE_FOREIGN) {
		ret = error("remote 'sand/%s' already exists and was not made by git-sand", sb->name);
	} else if (who == REMOTE_OURS && strcmp(owner.buf, sb->id)) {
		/* Another worktree of this repository may use the name. */
		int found = store_get_by_id(st, owner.buf, &other);

		if (found < 0)
			ret = -1;
		else if (!found)
			ret = error("remote 'sand/%s' belongs to the sandbox of that name in '%s'",
				    sb->name, other.worktree);
	}
	sandbox_clear(&other);
	strbuf_release(&owner);
	return ret;
}

int sandbox_remote_add(git_repository *repo, struct store *st, const struct workspace *ws)
{
	const struct sandbox *sb = ws->sb;
	struct strbuf name = STRBUF_INIT, url = STRBUF_INIT, spec = STRBUF_INIT, key = STRBUF_INIT;
	git_remote *remote = NULL;
	int ret = -1;

	if (sandbox_remote_check(repo, st, sb) < 0)
		goto done;
	sandbox_remote_name(sb, &name);
	/* What is left is ours and stale: replace it. */
	if (remote_delete_retry(repo, name.buf) < 0)
		git_error_clear(); /* absent */
	if (ws->ops->url(ws, &url) < 0)
		goto done;
	strbuf_addf(&spec, "+refs/heads/*:refs/remotes/%s/*", name.buf);
	/* The mark first: whoever sees the remote sees that it is ours. */
	strbuf_addf(&key, "remote.%s.sandbox", name.buf);
	if (config_set_retry(repo, key.buf, sb->id) < 0) {
		error_lg2("cannot mark the remote '%s' as git-sand's", name.buf);
		goto done;
	}
	if (remote_create_retry(&remote, repo, name.buf, url.buf, spec.buf) < 0) {
		error_lg2("cannot add the remote '%s'", name.buf);
		remote_delete_retry(repo, name.buf);
		goto done;
	}
	/*
	 * A plain git fetch of it goes through git-sand (see served.h), and
	 * follows no tag of the sandbox's into the repository's own.
	 */
	strbuf_reset(&key);
	strbuf_addf(&key, "remote.%s.tagOpt", name.buf);
	if (config_set_retry(repo, key.buf, "--no-tags") < 0)
		goto config_failed;
	strbuf_reset(&key);
	strbuf_addf(&key, "remote.%s.uploadpack", name.buf);
	if (ws->ops->local && config_set_retry(repo, key.buf, SERVED_UPLOADPACK) < 0)
		goto config_failed;
	ret = 0;
	goto done;
config_failed:
	error_lg2("cannot configure the remote '%s'", name.buf);
	remote_delete_retry(repo, name.buf);
done:
	git_remote_free(remote);
	strbuf_release(&name);
	strbuf_release(&url);
	strbuf_release(&spec);
	strbuf_release(&key);
	return ret;
}

int sandbox_remote_remove(git_repository *repo, const struct sandbox *sb)
{
	struct strbuf name = STRBUF_INIT, owner = STRBUF_INIT;
	int who = remote_owner(repo, sb, &owner), ret = 0;

	if (who < 0) {
		ret = -1;
	} else if (who == REMOTE_OURS && !strcmp(owner.buf, sb->id)) {
		sandbox_remote_name(sb, &name);
		if (remote_delete_retry(repo, name.buf) < 0)
			ret = error_lg2("cannot remove the remote '%s'", name.buf);
	}
	strbuf_release(&name);
	strbuf_release(&owner);
	return ret;
}

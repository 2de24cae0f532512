#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitutil.h"
#include "hooks.h"
#include "msg.h"
#include "path.h"
#include "sandbox.h"
#include "store.h"

/*
 * reference-transaction ran for every ref of every transaction (a fetch of
 * 1,500 branches started it 3,000 times); orphans are now found when
 * sandboxes are listed (hooks_mark_orphans).
 */
const char *const hooks_retired[] = { "reference-transaction", NULL };

int hooks_dir(struct strbuf *out, git_repository *repo, const char *worktree)
{
	git_config *cfg = NULL;
	int got, ret = -1;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return error_lg2("cannot read the repository's configuration");
	got = config_get_path(cfg, "core.hooksPath", out);
	if (got < 0)
		goto done;
	if (got && out->buf[0] != '/') {
		/* Relative to where hooks run: the top of the worktree. */
		struct strbuf abs = STRBUF_INIT;

		strbuf_addf(&abs, "%s/%s", worktree ? worktree : git_repository_commondir(repo),
			    out->buf);
		strbuf_reset(out);
		strbuf_addbuf(out, &abs);
		strbuf_release(&abs);
	} else if (!got) {
		strbuf_reset(out);
		strbuf_addf(out, "%shooks", git_repository_commondir(repo));
	}
	strip_trailing_slashes(out->buf);
	out->len = strlen(out->buf);
	ret = 0;
done:
	git_config_free(cfg);
	return ret;
}

int hook_is_ours(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int ret;

	strbuf_addf(&path, "%s/%s", dir, name);
	if (strbuf_read_file(&text, path.buf) < 0)
		ret = -1;
	else
		ret = strstr(text.buf, HOOK_MARKER) != NULL;
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

static int write_hook(const char *path, const char *text)
{
	return write_file_atomic(path, text, strlen(text), 0755);
}

/* Whether HEAD names refname, a branch with no commit yet. */
static int is_unborn_head(git_repository *repo, const char *refname)
{
	git_reference *head = NULL;
	int ret = !git_reference_lookup(&head, repo, "HEAD") &&
		  git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
		  !strcmp(git_reference_symbolic_target(head), refname);

	git_reference_free(head);
	git_error_clear();
	return ret;
}

/* Remove our hook dir/name, putting back the one it chained to. */
static int uninstall_one(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT, chained = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&path, "%s/%s", dir, name);
	strbuf_addf(&chained, "%s%s", path.buf, HOOK_CHAINED_SUFFIX);
	if (hook_is_ours(dir, name) != 1)
		goto done;
	if (!access(chained.buf, F_OK)) {
		if (rename(chained.buf, path.buf) < 0)
			ret = error_errno("cannot put back '%s'", chained.buf);
	} else if (unlink(path.buf) < 0) {
		ret = error_errno("cannot remove '%s'", path.buf);
	}
done:
	strbuf_release(&path);
	strbuf_release(&chained);
	return ret;
}

int hooks_install(const char *dir)
{
	struct strbuf path = STRBUF_INIT, chained = STRBUF_INIT;
	int ret = 0;

	if (mkdir_p(dir, 0755) < 0)
		return error_errno("cannot create '%s'", dir);
	for (const struct hook_script *h = hook_scripts; h->name; h++) {
		int ours = hook_is_ours(dir, h->name);

		strbuf_reset(&path);
		strbuf_reset(&chained);
		strbuf_addf(&path, "%s/%s", dir, h->name);
		strbuf_addf(&chained, "%s%s", path.buf, HOOK_CHAINED_SUFFIX);
		if (ours == 0) {
			/* Someone's hook: keep it, and run it from ours. */
			if (!access(chained.buf, F_OK)) {
				ret = error("cannot install '%s': '%s' is in the way", path.buf, chained.buf);
				continue;
			}
			if (rename(path.buf, chained.buf) < 0) {
				ret = error_errno("cannot move '%s' aside", path.buf);
				continue;
			}
		}
		if (write_hook(path.buf, h->text) < 0)
			ret = -1;
	}
	for (const char *const *name = hooks_retired; *name; name++)
		if (uninstall_one(dir, *name) < 0)
			ret = -1;
	strbuf_release(&path);
	strbuf_release(&chained);
	return ret;
}

int hooks_uninstall(const char *dir)
{
	int ret = 0;

	for (const struct hook_script *h = hook_scripts; h->name; h++)
		if (uninstall_one(dir, h->name) < 0)
			ret = -1;
	for (const char *const *name = hooks_retired; *name; name++)
		if (uninstall_one(dir, *name) < 0)
			ret = -1;
	return ret;
}

int branch_to_sandbox_name(const char *branch, struct strbuf *out)
{
	struct strbuf why = STRBUF_INIT;
	int dash = 1, ret;

	strbuf_reset(out);
	for (const char *p = branch; *p && out->len < SANDBOX_NAME_MAX; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
			strbuf_addch(out, c);
			dash = 0;
		} else if (!dash) {
			/* '/', '.', spaces and the rest: one '-' between words. */
			strbuf_addch(out, '-');
			dash = 1;
		}
	}
	while (out->len && out->buf[out->len - 1] == '-')
		strbuf_setlen(out, out->len - 1);
	ret = sandbox_name_check(out->buf, &why);
	strbuf_release(&why);
	return ret;
}

struct match {
	const char *branch;
	int patterns;
	int matched;
};

static int match_one(const git_config_entry *e, void *payload)
{
	struct match *m = payload;

	m->patterns++;
	if (!fnmatch(e->value, m->branch, 0))
		m->matched = 1;
	return 0;
}

int branch_matches(git_config *cfg, const char *branch)
{
	struct match m = { branch, 0, 0 };
	struct strbuf def = STRBUF_INIT;
	int ret;

	if (git_config_get_multivar_foreach(cfg, "sand.autoBranchPattern", NULL, match_one, &m) < 0)
		git_error_clear();
	if (m.patterns)
		return m.matched;
	/* The branch a repository starts on is where work lands, not agents' work. */
	ret = strcmp(branch, "main") && strcmp(branch, "master") &&
	      !(config_get_str(cfg, "init.defaultBranch", &def) > 0 && !strcmp(branch, def.buf));
	strbuf_release(&def);
	return ret;
}

/* The oldest entry of a branch's reflog (libgit2 lists the newest first). */
static int reflog_read_branch(git_reflog **out, git_repository *repo, const char *branch)
{
	struct strbuf ref = STRBUF_INIT;
	int ret;

	strbuf_addf(&ref, "refs/heads/%s", branch);
	ret = git_reflog_read(out, repo, ref.buf);
	strbuf_release(&ref);
	return ret;
}

int branch_just_created(git_repository *repo, const char *branch)
{
	git_reflog *log = NULL;
	const git_reflog_entry *e;
	int ret = 0;

	if (reflog_read_branch(&log, repo, branch) < 0) {
		git_error_clear();
		return 0;
	}
	if (git_reflog_entrycount(log) == 1 && (e = git_reflog_entry_byindex(log, 0)))
		ret = git_oid_is_zero(git_reflog_entry_id_old(e)) && git_reflog_entry_message(e) &&
		      starts_with(git_reflog_entry_message(e), "branch: Created from ");
	git_reflog_free(log);
	return ret;
}

int branch_from_sandbox(git_repository *repo, git_config *cfg, const char *branch)
{
	struct strbuf key = STRBUF_INIT, remote = STRBUF_INIT;
	git_reflog *log = NULL;
	size_t n;
	int ret;

	strbuf_addf(&key, "branch.%s.remote", branch);
	ret = config_get_str(cfg, key.buf, &remote) > 0 &&
	      starts_with(remote.buf, SANDBOX_REMOTE_PREFIX);
	if (!ret && !reflog_read_branch(&log, repo, branch) && (n = git_reflog_entrycount(log))) {
		const char *msg = git_reflog_entry_message(git_reflog_entry_byindex(log, n - 1));
		const char *from;

		ret = msg && skip_prefix(msg, "branch: Created from ", &from) &&
		      (starts_with(from, SANDBOX_REMOTE_PREFIX) ||
		       starts_with(from, SANDBOX_TRACKING_PREFIX));
	}
	git_error_clear();
	git_reflog_free(log);
	strbuf_release(&key);
	strbuf_release(&remote);
	return ret;
}

void hooks_mark_orphans(git_repository *repo, const char *commondir, struct store *st,
			struct sandbox *list, size_t nr)
{
	struct strbuf ref = STRBUF_INIT;

	if (!repo || !commondir)
		return;
	for (size_t i = 0; i < nr; i++) {
		struct sandbox *sb = &list[i];
		git_reference *r = NULL;
		int err;

		if (sb->opts.orphaned || !sb->opts.host_branch || strcmp(sb->gitdir, commondir))
			continue;
		strbuf_reset(&ref);
		strbuf_addf(&ref, "refs/heads/%s", sb->opts.host_branch);
		err = git_reference_lookup(&r, repo, ref.buf);
		git_reference_free(r);
		git_error_clear();
		if (err != GIT_ENOTFOUND || is_unborn_head(repo, ref.buf))
			continue;
		if (!store_mark_orphaned(st, sb->id))
			sb->opts.orphaned = 1;
	}
	strbuf_release(&ref);
}

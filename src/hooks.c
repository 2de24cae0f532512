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

int hooks_dir(git_repository *repo, const char *worktree, struct strbuf *out)
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
	struct strbuf tmp = STRBUF_INIT;
	int fd, ret = -1;
	size_t len = strlen(text);

	strbuf_addf(&tmp, "%s.sand-tmp", path);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fchmod(fd, 0755) < 0) {
		error_errno("cannot write '%s'", tmp.buf);
		if (fd >= 0)
			close(fd);
		unlink(tmp.buf);
		goto done;
	}
	if (close(fd) < 0 || rename(tmp.buf, path) < 0) {
		error_errno("cannot install '%s'", path);
		unlink(tmp.buf);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&tmp);
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
	strbuf_release(&path);
	strbuf_release(&chained);
	return ret;
}

int hooks_uninstall(const char *dir)
{
	struct strbuf path = STRBUF_INIT, chained = STRBUF_INIT;
	int ret = 0;

	for (const struct hook_script *h = hook_scripts; h->name; h++) {
		strbuf_reset(&path);
		strbuf_reset(&chained);
		strbuf_addf(&path, "%s/%s", dir, h->name);
		strbuf_addf(&chained, "%s%s", path.buf, HOOK_CHAINED_SUFFIX);
		if (hook_is_ours(dir, h->name) != 1)
			continue;
		if (!access(chained.buf, F_OK)) {
			if (rename(chained.buf, path.buf) < 0)
				ret = error_errno("cannot put back '%s'", chained.buf);
		} else if (unlink(path.buf) < 0) {
			ret = error_errno("cannot remove '%s'", path.buf);
		}
	}
	strbuf_release(&path);
	strbuf_release(&chained);
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

	if (git_config_get_multivar_foreach(cfg, "sand.autoBranchPattern", NULL, match_one, &m) < 0)
		git_error_clear();
	return m.patterns ? m.matched : 1;
}

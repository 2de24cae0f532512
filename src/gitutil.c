#include <stdlib.h>
#include <string.h>

#include "gitutil.h"
#include "msg.h"

void strip_trailing_slashes(char *path)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
}

static char *canonical(const char *path)
{
	char *real = realpath(path, NULL);
	char *res = real ? real : xstrdup(path);

	strip_trailing_slashes(res);
	return res;
}

int sand_repo_open(struct sand_repo *r)
{
	git_config *cfg = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = git_repository_open_ext(&r->repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL);
	if (err == GIT_ENOTFOUND) {
		r->repo = NULL;
		git_error_clear();
		if (git_config_open_default(&cfg) < 0)
			return error_lg2("cannot read the git configuration");
	} else if (err < 0) {
		return error_lg2("cannot open the repository");
	} else {
		if (git_repository_config(&cfg, r->repo) < 0)
			return error_lg2("cannot read the repository's configuration");
		if (!git_repository_is_bare(r->repo))
			r->worktree = canonical(git_repository_workdir(r->repo));
		r->gitdir = canonical(git_repository_path(r->repo));
		r->commondir = canonical(git_repository_commondir(r->repo));
	}
	err = git_config_snapshot(&r->config, cfg);
	git_config_free(cfg);
	if (err < 0)
		return error_lg2("cannot read the git configuration");
	return 0;
}

void sand_repo_clear(struct sand_repo *r)
{
	git_config_free(r->config);
	git_repository_free(r->repo);
	free(r->worktree);
	free(r->gitdir);
	free(r->commondir);
	memset(r, 0, sizeof(*r));
}

int config_get_str(git_config *cfg, const char *key, struct strbuf *out)
{
	git_buf buf = GIT_BUF_INIT;
	int err;

	if (!cfg)
		return 0;
	err = git_config_get_string_buf(&buf, cfg, key);
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (err < 0)
		return error_lg2("bad config value for '%s'", key);
	strbuf_reset(out);
	strbuf_add(out, buf.ptr, buf.size);
	git_buf_dispose(&buf);
	return 1;
}

int config_get_path(git_config *cfg, const char *key, struct strbuf *out)
{
	git_buf buf = GIT_BUF_INIT;
	int err;

	if (!cfg)
		return 0;
	err = git_config_get_path(&buf, cfg, key);
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (err < 0)
		return error_lg2("bad config value for '%s'", key);
	strbuf_reset(out);
	strbuf_add(out, buf.ptr, buf.size);
	git_buf_dispose(&buf);
	return 1;
}

int config_get_bool(git_config *cfg, const char *key, int *out)
{
	int err;

	if (!cfg)
		return 0;
	err = git_config_get_bool(out, cfg, key);
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (err < 0)
		return error_lg2("bad boolean config value for '%s'", key);
	return 1;
}

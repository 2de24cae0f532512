#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gitutil.h"
#include "msg.h"
#include "string-list.h"
#include <unistd.h>

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

/*
 * One single-quoted word as git's sq_quote_buf() writes it: 'text', with
 * a quote as '\'' and a '!' as '\!'. Advances *p; -1 if malformed.
 */
static int parse_sq(const char **p, struct strbuf *out)
{
	const char *s = *p;

	if (*s++ != '\'')
		return -1;
	for (;;) {
		while (*s && *s != '\'')
			strbuf_addch(out, *s++);
		if (!*s++)
			return -1;
		if (s[0] == '\\' && s[1] && s[2] == '\'') {
			strbuf_addch(out, s[1]);
			s += 3;
			continue;
		}
		*p = s;
		return 0;
	}
}

int config_parameters_parse(const char *env, struct string_list *keys,
			    struct string_list *values)
{
	struct strbuf key = STRBUF_INIT, value = STRBUF_INIT;
	const char *p = env;
	int ret = 0;

	while (!ret && *p) {
		const char *eq;
		int has_value = 1;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		strbuf_reset(&key);
		strbuf_reset(&value);
		if (parse_sq(&p, &key) < 0) {
			ret = -1;
			break;
		}
		if (*p == '=') {
			/* 'key'='value', or 'key'= for a key without a value */
			p++;
			if (*p == '\'')
				ret = parse_sq(&p, &value);
			else
				has_value = 0;
		} else if ((eq = strchr(key.buf, '='))) {
			/* The older 'key=value'. */
			strbuf_addstr(&value, eq + 1);
			strbuf_setlen(&key, (size_t)(eq - key.buf));
		} else {
			has_value = 0;
		}
		if (*p && *p != ' ')
			ret = -1;
		if (!ret) {
			string_list_append(keys, key.buf);
			/* A key without a value is true, as in git. */
			string_list_append(values, has_value ? value.buf : "true");
		}
	}
	strbuf_release(&key);
	strbuf_release(&value);
	return ret;
}

/* Append "[section \"sub\"]\n\tname = \"value\"\n" for one key; -1 if invalid. */
static int config_file_entry(struct strbuf *out, const char *key, const char *value)
{
	const char *dot1 = strchr(key, '.'), *dot2 = strrchr(key, '.');

	if (!dot1 || dot1 == key || !dot2[1])
		return -1;
	for (const char *c = key; c < dot1; c++)
		if (!isalnum((unsigned char)*c) && *c != '-')
			return -1;
	if (!isalpha((unsigned char)dot2[1]))
		return -1;
	for (const char *c = dot2 + 1; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-')
			return -1;
	strbuf_addch(out, '[');
	strbuf_add(out, key, (size_t)(dot1 - key));
	if (dot2 != dot1) {
		strbuf_addstr(out, " \"");
		for (const char *c = dot1 + 1; c < dot2; c++) {
			if (*c == '\n')
				return -1;
			if (*c == '"' || *c == '\\')
				strbuf_addch(out, '\\');
			strbuf_addch(out, *c);
		}
		strbuf_addch(out, '"');
	}
	strbuf_addf(out, "]\n\t%s = \"", dot2 + 1);
	for (const char *c = value; *c; c++) {
		switch (*c) {
		case '\n': strbuf_addstr(out, "\\n"); break;
		case '\t': strbuf_addstr(out, "\\t"); break;
		case '"': strbuf_addstr(out, "\\\""); break;
		case '\\': strbuf_addstr(out, "\\\\"); break;
		default: strbuf_addch(out, *c);
		}
	}
	strbuf_addstr(out, "\"\n");
	return 0;
}

/*
 * What "git -c key=value sand ..." passes on (GIT_CONFIG_PARAMETERS, and
 * GIT_CONFIG_COUNT with GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n>), which
 * libgit2 does not read: added to the snapshot at the highest level, as
 * git gives them precedence over every file.
 */
static int add_command_line_config(git_config **snap)
{
	const char *params = getenv("GIT_CONFIG_PARAMETERS"), *count = getenv("GIT_CONFIG_COUNT");
	struct string_list keys = STRING_LIST_INIT, values = STRING_LIST_INIT;
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT;
	git_config *with = NULL;
	int fd = -1, ret = -1;
	long n = count ? strtol(count, NULL, 10) : 0;

	if ((!params || !*params) && n <= 0)
		return 0;
	if (params && config_parameters_parse(params, &keys, &values) < 0) {
		error("bogus format in GIT_CONFIG_PARAMETERS");
		goto done;
	}
	for (long i = 0; i < n && i < 10000; i++) {
		char name[64];
		const char *k, *v;

		snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%ld", i);
		k = getenv(name);
		snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%ld", i);
		v = getenv(name);
		if (!k || !v) {
			error("missing config key or value %ld of GIT_CONFIG_COUNT", i);
			goto done;
		}
		string_list_append(&keys, k);
		string_list_append(&values, v);
	}
	for (size_t i = 0; i < keys.nr; i++)
		if (config_file_entry(&text, keys.items[i], values.items[i]) < 0) {
			error("invalid config key '%s' given with -c", keys.items[i]);
			goto done;
		}
	/* A private file, gone once read: the snapshot keeps the values. */
	strbuf_addf(&path, "%s/git-sand-config-XXXXXX",
		    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path.buf);
	if (fd < 0 || write(fd, text.buf, text.len) != (ssize_t)text.len) {
		error_errno("cannot hold the -c settings in '%s'", path.buf);
		goto done;
	}
	if (git_config_add_file_ondisk(*snap, path.buf, GIT_CONFIG_LEVEL_APP, NULL, 1) < 0 ||
	    git_config_snapshot(&with, *snap) < 0) {
		error_lg2("cannot read the -c settings");
		goto done;
	}
	git_config_free(*snap);
	*snap = with;
	ret = 0;
done:
	if (fd >= 0) {
		close(fd);
		unlink(path.buf);
	}
	string_list_clear(&keys);
	string_list_clear(&values);
	strbuf_release(&text);
	strbuf_release(&path);
	return ret;
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
	return add_command_line_config(&r->config);
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

int index_entry_distrust(struct strbuf *path, const char *worktree, git_index_entry *e)
{
	struct stat st;

	strbuf_reset(path);
	strbuf_addf(path, "%s/%s", worktree, e->path);
	if (!lstat(path->buf, &st) && (uint32_t)st.st_size == e->file_size &&
	    (uint32_t)st.st_mtim.tv_sec == (uint32_t)e->mtime.seconds &&
	    (uint32_t)st.st_mtim.tv_nsec == e->mtime.nanoseconds &&
	    (uint32_t)st.st_ctim.tv_sec == (uint32_t)e->ctime.seconds &&
	    (uint32_t)st.st_ctim.tv_nsec == e->ctime.nanoseconds &&
	    (uint32_t)st.st_ino == e->ino && (uint32_t)st.st_dev == e->dev)
		return 0;
	memset(&e->ctime, 0, sizeof(e->ctime));
	memset(&e->mtime, 0, sizeof(e->mtime));
	e->dev = e->ino = 0;
	e->file_size = 0;
	return 1;
}

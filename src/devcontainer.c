/*
 * devcontainer.json: found in the worktree, read as JSON with comments,
 * turned into what a sandbox can be made with. See devcontainer.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "devcontainer.h"
#include "home.h"
#include "msg.h"
#include "argv.h"
#include "path.h"
#include "ports.h"
#include "sandbox.h"
#include "sanitize.h"

const char *const devcontainer_command_keys[] = {
#define DC_NAME_(id, key) key,
	DEVCONTAINER_COMMANDS(DC_NAME_)
	NULL
};

const char *const devcontainer_allowable_keys[] = {
	DEVCONTAINER_ALLOWABLE(DC_NAME_)
	NULL
#undef DC_NAME_
};

/* Where a sandbox's workspace is, for ${containerWorkspaceFolder}. */
#define DC_WORKSPACE "/app"

/* The sandbox's record of its devcontainer commands, in its directory. */
#define DC_RECORD "devcontainer.json"

void devcontainer_clear(struct devcontainer *dc)
{
	free(dc->path);
	free(dc->image);
	string_list_clear(&dc->container_env);
	string_list_clear(&dc->remote_env);
	string_list_clear(&dc->ports);
	string_list_clear(&dc->mounts);
	string_list_clear(&dc->run_args);
	for (int i = 0; i < DC_COMMANDS_NR; i++)
		free(dc->commands[i]);
	free(dc->user);
	free(dc->build.dockerfile);
	free(dc->build.context);
	string_list_clear(&dc->build.args);
	free(dc->build.target);
	string_list_clear(&dc->build.options);
	string_list_clear(&dc->ignored);
	string_list_clear(&dc->notes);
	memset(dc, 0, sizeof(*dc));
}

/* A message for the caller to die with, in why. Returns -1. */
FORMAT(2) static int fail(struct strbuf *why, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(why);
	va_start(ap, fmt);
	strbuf_vaddf(why, fmt, ap);
	va_end(ap);
	return -1;
}

FORMAT(2) static int fail_errno(struct strbuf *why, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	strbuf_reset(why);
	va_start(ap, fmt);
	strbuf_vaddf(why, fmt, ap);
	va_end(ap);
	strbuf_addf(why, ": %s", strerror(saved));
	return -1;
}

/* ---- Finding the file ---- */

/* Whether dirfd/name is a regular file, not a link. */
static int is_file_at(int dirfd, const char *name)
{
	struct stat st;

	return !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode);
}

/* The folders of .devcontainer/ holding a devcontainer.json, sorted. */
static void find_folders(int dcdir, struct string_list *out)
{
	int fd = dup(dcdir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = openat(dcdir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (is_file_at(sub, "devcontainer.json"))
			string_list_append(out, e->d_name);
		close(sub);
	}
	closedir(d);
	for (size_t i = 1; i < out->nr; i++)
		for (size_t j = i; j > 0 && strcmp(out->items[j - 1], out->items[j]) > 0; j--) {
			char *t = out->items[j];

			out->items[j] = out->items[j - 1];
			out->items[j - 1] = t;
		}
}

/* path made absolute (from the current directory) and "." and ".." taken out by its text. */
static int path_lexical_abs(const char *path, struct strbuf *out)
{
	struct strbuf in = STRBUF_INIT;
	char *cwd = NULL, *save = NULL;

	strbuf_reset(out);
	if (*path != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return -1;
		strbuf_addf(&in, "%s/", cwd);
		free(cwd);
	}
	strbuf_addstr(&in, path);
	for (char *c = strtok_r(in.buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *slash = strrchr(out->buf, '/');

			strbuf_setlen(out, slash ? (size_t)(slash - out->buf) : 0);
			continue;
		}
		strbuf_addf(out, "/%s", c);
	}
	if (!out->len)
		strbuf_addch(out, '/');
	strbuf_release(&in);
	return 0;
}

int devcontainer_find(struct strbuf *out, const char *worktree, const char *given)
{
	struct string_list folders = STRING_LIST_INIT;
	struct strbuf full = STRBUF_INIT;
	int wt = -1, dcdir = -1, ret = 1;
	size_t wlen = strlen(worktree);

	strbuf_reset(out);
	if (given) {
		/*
		 * The user's own choice; inside the worktree, its path there,
		 * read beneath it like the others. Made absolute by its text
		 * alone: resolving it would follow the links it goes through.
		 */
		if (path_lexical_abs(given, &full) < 0) {
			ret = error_errno("cannot use devcontainer file '%s'", given);
			goto done;
		}
		if (!strncmp(full.buf, worktree, wlen) && full.buf[wlen] == '/')
			strbuf_addstr(out, full.buf + wlen + 1);
		else
			strbuf_addbuf(out, &full);
		ret = 0;
		goto done;
	}
	wt = open(worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wt < 0) {
		ret = error_errno("cannot open '%s'", worktree);
		goto done;
	}
	dcdir = open_dir_beneath(wt, ".devcontainer", strlen(".devcontainer"));
	if (dcdir >= 0 && is_file_at(dcdir, "devcontainer.json")) {
		strbuf_addstr(out, ".devcontainer/devcontainer.json");
		ret = 0;
	} else if (is_file_at(wt, ".devcontainer.json")) {
		strbuf_addstr(out, ".devcontainer.json");
		ret = 0;
	} else if (dcdir >= 0) {
		find_folders(dcdir, &folders);
		if (folders.nr == 1) {
			strbuf_addf(out, ".devcontainer/%s/devcontainer.json", folders.items[0]);
			ret = 0;
		} else if (folders.nr > 1) {
			struct strbuf list = STRBUF_INIT;

			for (size_t i = 0; i < folders.nr; i++)
				strbuf_addf(&list, "%s'.devcontainer/%s/devcontainer.json'",
					    i ? ", " : "", folders.items[i]);
			ret = error("this worktree has %zu devcontainer files: %s", folders.nr,
				    list.buf);
			hint("choose one with '--devcontainer <path>', or none with "
			     "'--no-devcontainer'");
			strbuf_release(&list);
		}
	}
done:
	if (dcdir >= 0)
		close(dcdir);
	if (wt >= 0)
		close(wt);
	string_list_clear(&folders);
	strbuf_release(&full);
	return ret;
}

/*
 * Open path (relative: beneath worktree, following no link; absolute: the
 * user's own, following no link at its end) and read it whole, bounded.
 */
static int read_bounded(struct strbuf *out, const char *worktree, const char *path,
			struct strbuf *why)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int wt = -1, dir = -1, fd = -1, ret = -1;
	struct stat st;

	if (*path == '/') {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	} else {
		wt = open(worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (wt >= 0)
			dir = open_dir_beneath(wt, path, slash ? (size_t)(slash - path) : 0);
		if (dir >= 0)
			fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			fail(why, "cannot read '%s': a symbolic link is on its way", path);
		else
			fail_errno(why, "cannot read '%s'", path);
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fail(why, "cannot read '%s': not a regular file", path);
		goto done;
	}
	if (st.st_size > DEVCONTAINER_MAX_SIZE) {
		fail(why, "'%s' is larger than %d bytes", path, DEVCONTAINER_MAX_SIZE);
		goto done;
	}
	if (strbuf_read_fd(out, fd) < 0) {
		fail_errno(why, "cannot read '%s'", path);
		goto done;
	}
	if (out->len > DEVCONTAINER_MAX_SIZE) {
		fail(why, "'%s' is larger than %d bytes", path, DEVCONTAINER_MAX_SIZE);
		goto done;
	}
	ret = 0;
done:
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	if (wt >= 0)
		close(wt);
	return ret;
}

/* ---- JSON with comments ---- */

static void line_col(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/*
 * Step over s[*i] when it belongs to a JSON string, its quotes and
 * escapes included: 1 when it did, 0 when s[*i] is outside any string.
 */
static int in_string(const char *s, size_t len, size_t *i, int *in_str)
{
	if (*in_str) {
		if (s[*i] == '\\' && *i + 1 < len)
			(*i)++;
		else if (s[*i] == '"')
			*in_str = 0;
		return 1;
	}
	if (s[*i] == '"') {
		*in_str = 1;
		return 1;
	}
	return 0;
}

/*
 * Blank out comments (newlines kept, so that every byte keeps its line
 * and column) and then commas that only a '}' or ']' follows. Strings
 * are left whole, escapes and all. -1 with the position of an unclosed
 * comment in *bad.
 */
static int strip_jsonc(char *s, size_t len, const char **bad)
{
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_string(s, len, &i, &in_str))
			continue;
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
			for (; i < len && s[i] != '\n'; i++)
				s[i] = ' ';
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t start = i;

			for (i += 2; i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'); i++)
				;
			if (i + 1 >= len) {
				*bad = s + start;
				return -1;
			}
			for (size_t j = start; j <= i + 1; j++)
				if (s[j] != '\n')
					s[j] = ' ';
			i++;
		}
	}
	in_str = 0;
	for (size_t i = 0; i < len; i++) {
		if (in_string(s, len, &i, &in_str))
			continue;
		if (s[i] == ',') {
			size_t j = i + 1;

			while (j < len && strchr(" \t\r\n", s[j]))
				j++;
			if (j < len && (s[j] == '}' || s[j] == ']'))
				s[i] = ' ';
		}
	}
	return 0;
}

/* Whether the (comment-free) text ends inside a string, object or array. */
static int truncated(const char *s, size_t len)
{
	int in_str = 0;
	long depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_string(s, len, &i, &in_str))
			continue;
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if (s[i] == '}' || s[i] == ']')
			depth--;
	}
	return in_str || depth > 0 || !len;
}

void *devcontainer_parse_jsonc(const char *text, size_t len, const char *name,
			       struct strbuf *why)
{
	char *buf = xmalloc(len + 1);
	const char *bad = NULL, *end = NULL;
	cJSON *root = NULL;
	int line, col;

	memcpy(buf, text, len);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		line_col(buf, buf + strlen(buf), &line, &col);
		fail(why, "%s:%d:%d: a NUL byte", name, line, col);
		goto done;
	}
	if (strip_jsonc(buf, len, &bad) < 0) {
		line_col(buf, bad, &line, &col);
		fail(why, "%s:%d:%d: a comment is never closed", name, line, col);
		goto done;
	}
	root = cJSON_ParseWithOpts(buf, &end, 1);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		if (!at || at < buf || at > buf + len)
			at = buf + len;
		/*
		 * cJSON points past the end for some errors before it (a
		 * ", }" of two commas): the end only when it is cut short.
		 */
		if (at == buf + len && !truncated(buf, len)) {
			while (at > buf && strchr(" \t\r\n", at[-1]))
				at--;
			if (at > buf)
				at--;
		}
		line_col(buf, at, &line, &col);
		if (at == buf + len)
			fail(why, "%s:%d:%d: the JSON ends too early", name, line, col);
		else
			fail(why, "%s:%d:%d: not valid JSON here", name, line, col);
		goto done;
	}
	if (!cJSON_IsObject(root)) {
		fail(why, "%s: not a JSON object", name);
		cJSON_Delete(root);
		root = NULL;
	}
done:
	free(buf);
	return root;
}

/* ---- The user's allowances ---- */

static int allow_one(struct devcontainer_allow *a, const char *word, const char *where)
{
	const char *var;

	if (skip_prefix(word, "localEnv:", &var) && *var) {
		string_list_append(&a->local_env, var);
		return 0;
	}
	for (int i = 0; i < DC_ALLOW_NR; i++)
		if (!strcmp(word, devcontainer_allowable_keys[i])) {
			a->all[i] = 1;
			return 0;
		}
	return error("%s: cannot allow '%s' (known: mounts, runArgs, privileged, capAdd, "
		     "securityOpt, initializeCommand, build.options, localEnv, localEnv:<VAR>)",
		     where, word);
}

static int allow_words(struct devcontainer_allow *a, const char *value, const char *where)
{
	char *copy = xstrdup(value), *save = NULL;
	int ret = 0;

	for (char *w = strtok_r(copy, " \t,", &save); w && !ret; w = strtok_r(NULL, " \t,", &save))
		ret = allow_one(a, w, where);
	free(copy);
	return ret;
}

struct allow_cb {
	struct devcontainer_allow *a;
	int ret, ignored;
};

static int allow_entry(const git_config_entry *e, void *payload)
{
	struct allow_cb *cb = payload;

	/* Like git's safe.directory: a repository's own config could come with it. */
	if (e->level >= GIT_CONFIG_LEVEL_LOCAL && e->level != GIT_CONFIG_LEVEL_APP) {
		cb->ignored = 1;
		return 0;
	}
	if (e->value && allow_words(cb->a, e->value, "sand.devcontainer.allow") < 0)
		cb->ret = -1;
	return 0;
}

int devcontainer_allow_init(struct devcontainer_allow *a, const struct string_list *cli,
			    git_config *cfg)
{
	struct allow_cb cb = { a, 0, 0 };

	for (size_t i = 0; cli && i < cli->nr; i++)
		if (allow_words(a, cli->items[i], "--devcontainer-allow") < 0)
			return -1;
	if (cfg && git_config_get_multivar_foreach(cfg, "sand.devcontainer.allow", NULL,
						   allow_entry, &cb) < 0)
		git_error_clear();
	if (cb.ignored)
		warning("ignoring sand.devcontainer.allow in the repository's own config; "
			"set it with 'git config --global'");
	return cb.ret;
}

void devcontainer_allow_clear(struct devcontainer_allow *a)
{
	string_list_clear(&a->local_env);
	memset(a, 0, sizeof(*a));
}

/* ---- Reading the file ---- */

struct loader {
	struct devcontainer *dc;
	const struct devcontainer_allow *allow;
	const char *worktree;
	const cJSON *container_env;	/* the file's, for ${containerEnv:VAR} */
	struct strbuf *why;
	int refused;
	struct string_list local_env_refused;
};

static void refuse(struct loader *l, const char *key, const char *why, const char *allow_as)
{
	error("%s: refusing '%s': %s", l->dc->path, key, why);
	if (allow_as)
		hint("allow it with '--devcontainer-allow=%s' or "
		     "'git config --global --add sand.devcontainer.allow %s'", allow_as, allow_as);
	l->refused = 1;
}

static int allowed(const struct loader *l, enum devcontainer_allowable k)
{
	return l->allow && l->allow->all[k];
}

static int local_env_allowed(const struct loader *l, const char *var)
{
	if (allowed(l, DC_ALLOW_LOCAL_ENV))
		return 1;
	for (size_t i = 0; l->allow && i < l->allow->local_env.nr; i++)
		if (!strcmp(l->allow->local_env.items[i], var))
			return 1;
	return 0;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* A stable id for this worktree's devcontainer: its path, hashed. */
static void devcontainer_id(struct strbuf *out, const char *worktree)
{
	struct strbuf what = STRBUF_INIT;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];

	strbuf_addf(&what, "git-sand devcontainer %s", worktree);
	if (git_odb_hash(&oid, what.buf, what.len, GIT_OBJECT_BLOB) < 0) {
		git_error_clear();
		memset(&oid, 0, sizeof(oid));
	}
	git_oid_tostr(hex, sizeof(hex), &oid);
	strbuf_addstr(out, hex);
	strbuf_release(&what);
}

/*
 * Replace the variables of the specification in s. A ${localEnv:...} the
 * user has not allowed is refused (once per variable); ${containerEnv:V}
 * is known only from the file's own containerEnv: unknown, *unknown is
 * set, or without unknown (a command) it becomes ${V} for the shell that
 * runs it in the container. Other ${...} are left as they are, as the
 * reference does.
 */
static void substitute(struct loader *l, const char *key, const char *s, struct strbuf *out,
		       int *unknown)
{
	strbuf_reset(out);
	while (*s) {
		const char *open = strstr(s, "${"), *close, *arg;
		char *var;

		if (!open || !(close = strchr(open, '}'))) {
			strbuf_addstr(out, s);
			break;
		}
		strbuf_add(out, s, (size_t)(open - s));
		var = xstrndup(open + 2, (size_t)(close - open - 2));
		if (skip_prefix(var, "localEnv:", &arg) || skip_prefix(var, "env:", &arg)) {
			char *name = xstrdup(arg), *def = strchr(name, ':');
			const char *v;

			if (def)
				*def++ = '\0';
			if (!local_env_allowed(l, name)) {
				int seen = 0;

				for (size_t i = 0; i < l->local_env_refused.nr; i++)
					seen |= !strcmp(l->local_env_refused.items[i], name);
				if (!seen) {
					struct strbuf why = STRBUF_INIT, as = STRBUF_INIT;

					string_list_append(&l->local_env_refused, name);
					strbuf_addf(&why, "it reads '%s' from this machine's "
						    "environment into the sandbox", name);
					strbuf_addf(&as, "localEnv:%s", name);
					refuse(l, key, why.buf, as.buf);
					strbuf_release(&why);
					strbuf_release(&as);
				}
			} else if ((v = getenv(name))) {
				strbuf_addstr(out, v);
			} else if (def) {
				strbuf_addstr(out, def);
			}
			free(name);
		} else if (skip_prefix(var, "containerEnv:", &arg)) {
			char *name = xstrdup(arg), *def = strchr(name, ':');
			const cJSON *v;

			if (def)
				*def++ = '\0';
			v = cJSON_GetObjectItemCaseSensitive(l->container_env, name);
			if (cJSON_IsString(v))
				strbuf_addstr(out, v->valuestring);
			else if (def)
				strbuf_addstr(out, def);
			else if (unknown)
				*unknown = 1;
			else	/* In a command: its shell in the container knows it. */
				strbuf_addf(out, "${%s}", name);
			free(name);
		} else if (!strcmp(var, "localWorkspaceFolder")) {
			strbuf_addstr(out, l->worktree);
		} else if (!strcmp(var, "localWorkspaceFolderBasename")) {
			strbuf_addstr(out, basename_of(l->worktree));
		} else if (!strcmp(var, "containerWorkspaceFolder")) {
			strbuf_addstr(out, DC_WORKSPACE);
		} else if (!strcmp(var, "containerWorkspaceFolderBasename")) {
			strbuf_addstr(out, basename_of(DC_WORKSPACE));
		} else if (!strcmp(var, "devcontainerId")) {
			devcontainer_id(out, l->worktree);
		} else {
			strbuf_add(out, open, (size_t)(close - open + 1));
		}
		free(var);
		s = close + 1;
	}
}

static int type_error(struct loader *l, const char *key, const char *want)
{
	return fail(l->why, "%s: '%s' must be %s", l->dc->path, key, want);
}

static int env_name_ok(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9'))
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

/* containerEnv or remoteEnv: an object of strings (remoteEnv: null unsets). */
static int read_env(struct loader *l, const cJSON *item, struct string_list *out, int remote)
{
	struct strbuf val = STRBUF_INIT;
	const cJSON *e;

	if (!cJSON_IsObject(item))
		return type_error(l, item->string, "an object of strings");
	cJSON_ArrayForEach(e, item) {
		int unknown = 0;

		if (remote && cJSON_IsNull(e))
			continue;
		if (!cJSON_IsString(e)) {
			strbuf_release(&val);
			return fail(l->why, "%s: '%s.%s' must be a string", l->dc->path, item->string,
				     e->string);
		}
		if (!env_name_ok(e->string))
			return fail(l->why, "%s: '%s': '%s' is not a variable name (letters, "
				    "digits and '_')", l->dc->path, item->string, e->string);
		substitute(l, item->string, e->valuestring, &val, &unknown);
		if (strchr(val.buf, '\n') || strchr(val.buf, '\r')) {
			strbuf_release(&val);
			return fail(l->why, "%s: '%s.%s' holds a newline, which the sandbox's "
				    "environment file cannot carry", l->dc->path, item->string,
				    e->string);
		}
		if (unknown) {
			struct strbuf note = STRBUF_INIT;

			strbuf_addf(&note, "%s: not setting %s '%s': it names a variable of the "
				    "container's that is not known before it runs", l->dc->path,
				    item->string, e->string);
			string_list_append(&l->dc->notes, note.buf);
			strbuf_release(&note);
			continue;
		}
		{
			char *kv = xstrfmt("%s=%s", e->string, val.buf);

			string_list_append(out, kv);
			explicit_bzero(kv, strlen(kv));
			free(kv);
		}
	}
	strbuf_release(&val);
	return 0;
}

/* Letters, digits and . _ - / : @ +, not starting with '-': a name, no option. */
static int image_name_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 512)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-/:@+", *s)))
			return 0;
	return 1;
}

/*
 * A port the file publishes by a spec: on the loopback only. Another
 * address would open the sandbox to the network, which is the user's to
 * choose (--publish), not the repository's.
 */
static int add_port_spec(struct loader *l, const char *key, const char *spec)
{
	struct port_map m;
	struct strbuf why = STRBUF_INIT;

	if (port_spec_parse(&m, spec, &why) < 0) {
		fail(l->why, "%s: '%s': invalid port '%s': %s", l->dc->path, key, spec, why.buf);
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	if (m.ip_given && strcmp(m.ip, "127.0.0.1") && strcmp(m.ip, "::1"))
		return fail(l->why, "%s: '%s': '%s' would publish the sandbox's port on %s; "
			    "it publishes on 127.0.0.1 only ('--publish' publishes elsewhere)",
			    l->dc->path, key, spec, m.ip);
	string_list_append(&l->dc->ports, spec);
	return 0;
}

/* forwardPorts (numbers, or "host:port" of other services) and appPort. */
static int read_ports(struct loader *l, const cJSON *item)
{
	const cJSON *e;
	int app = !strcmp(item->string, "appPort");

	if (app && !cJSON_IsArray(item)) {
		if (cJSON_IsNumber(item)) {
			char *spec = xstrfmt("%d", item->valueint);

			string_list_append(&l->dc->ports, spec);
			free(spec);
		} else if (cJSON_IsString(item)) {
			return add_port_spec(l, item->string, item->valuestring);
		} else {
			return type_error(l, item->string, "a port, a string or an array of them");
		}
		return 0;
	}
	if (!cJSON_IsArray(item))
		return type_error(l, item->string, "an array of ports");
	cJSON_ArrayForEach(e, item) {
		if (cJSON_IsNumber(e)) {
			char *spec = xstrfmt("%d", e->valueint);

			string_list_append(&l->dc->ports, spec);
			free(spec);
		} else if (cJSON_IsString(e) && app) {
			if (add_port_spec(l, item->string, e->valuestring) < 0)
				return -1;
		} else if (cJSON_IsString(e)) {
			struct strbuf note = STRBUF_INIT;

			strbuf_addf(&note, "%s: not forwarding '%s': a sandbox publishes only "
				    "its own ports", l->dc->path, e->valuestring);
			string_list_append(&l->dc->notes, note.buf);
			strbuf_release(&note);
		} else {
			return type_error(l, item->string, "an array of ports");
		}
	}
	return 0;
}

/* A lifecycle command: a string, an array of strings, or an object of those. */
static int check_command(struct loader *l, const char *key, const cJSON *c, int nested)
{
	const cJSON *e;

	if (cJSON_IsString(c))
		return 0;
	if (cJSON_IsArray(c)) {
		if (!cJSON_GetArraySize(c))
			return fail(l->why, "%s: '%s' is an empty array", l->dc->path, key);
		cJSON_ArrayForEach(e, c)
			if (!cJSON_IsString(e))
				return type_error(l, key, "a string, an array of strings or an "
						  "object of those");
		return 0;
	}
	if (cJSON_IsObject(c) && !nested) {
		cJSON_ArrayForEach(e, c)
			if (check_command(l, key, e, 1) < 0)
				return -1;
		return 0;
	}
	return type_error(l, key, "a string, an array of strings or an object of those");
}

/* Every string in the command with its variables replaced. */
static void substitute_tree(struct loader *l, const char *key, cJSON *c)
{
	cJSON *e;

	if (cJSON_IsString(c)) {
		struct strbuf val = STRBUF_INIT;

		substitute(l, key, c->valuestring, &val, NULL);
		cJSON_SetValuestring(c, val.buf);
		strbuf_release(&val);
		return;
	}
	cJSON_ArrayForEach(e, c)
		substitute_tree(l, key, e);
}

/*
 * An array of strings, each passed on as what, after prefix, its variables
 * replaced as the reference does (one naming a variable of the container's
 * is passed as it is written, as the reference passes it).
 */
static int read_strings(struct loader *l, const cJSON *item, const char *prefix)
{
	struct strbuf val = STRBUF_INIT;
	const cJSON *e;
	int ret = 0;

	if (!cJSON_IsArray(item))
		return type_error(l, item->string, "an array of strings");
	cJSON_ArrayForEach(e, item) {
		int unknown = 0;
		char *arg;

		if (!cJSON_IsString(e)) {
			ret = type_error(l, item->string, "an array of strings");
			break;
		}
		substitute(l, item->string, e->valuestring, &val, &unknown);
		arg = xstrfmt("%s%s", prefix, unknown ? e->valuestring : val.buf);
		string_list_append(&l->dc->run_args, arg);
		free(arg);
	}
	strbuf_release(&val);
	return ret;
}

/* One of mounts: "source=a,target=b[,type=bind][,readonly]" or an object. */
static int read_mount(struct loader *l, const cJSON *m)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, type = STRBUF_INIT, val = STRBUF_INIT;
	int ro = 0, ret = -1;

	if (cJSON_IsString(m)) {
		char *copy = xstrdup(m->valuestring), *save = NULL;

		for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(f, '=');
			const char *k = f, *v = eq ? eq + 1 : "";

			if (eq)
				*eq = '\0';
			if (!strcmp(k, "source") || !strcmp(k, "src"))
				strbuf_addstr(&src, v);
			else if (!strcmp(k, "target") || !strcmp(k, "dst") ||
				 !strcmp(k, "destination"))
				strbuf_addstr(&dst, v);
			else if (!strcmp(k, "type"))
				strbuf_addstr(&type, v);
			else if (!strcmp(k, "readonly") || !strcmp(k, "ro"))
				ro = !eq || !strcmp(v, "true") || !strcmp(v, "1");
		}
		free(copy);
	} else if (cJSON_IsObject(m)) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "source");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "target");
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(m, "type");

		if (cJSON_IsString(s))
			strbuf_addstr(&src, s->valuestring);
		if (cJSON_IsString(t))
			strbuf_addstr(&dst, t->valuestring);
		if (cJSON_IsString(ty))
			strbuf_addstr(&type, ty->valuestring);
	} else {
		type_error(l, "mounts", "an array of strings or objects");
		goto done;
	}
	if (type.len && strcmp(type.buf, "bind")) {
		fail(l->why, "%s: 'mounts': only bind mounts are supported, not '%s'", l->dc->path,
		      type.buf);
		goto done;
	}
	substitute(l, "mounts", src.buf, &val, NULL);
	strbuf_reset(&src);
	strbuf_addbuf(&src, &val);
	substitute(l, "mounts", dst.buf, &val, NULL);
	strbuf_reset(&dst);
	strbuf_addbuf(&dst, &val);
	{
		struct strbuf spec = STRBUF_INIT, why = STRBUF_INIT;
		struct mount_spec ms;

		strbuf_addf(&spec, "%s:%s%s", src.buf, dst.buf, ro ? ":ro" : "");
		if (mount_spec_parse(spec.buf, &ms, &why) < 0) {
			fail(l->why, "%s: invalid mount '%s': %s", l->dc->path, spec.buf, why.buf);
		} else {
			mount_spec_clear(&ms);
			string_list_append(&l->dc->mounts, spec.buf);
			ret = 0;
		}
		strbuf_release(&spec);
		strbuf_release(&why);
	}
done:
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&type);
	strbuf_release(&val);
	return ret;
}

/* Keys that do not change the container: their absence of effect is no loss. */
static const char *const silent_keys[] = { "name", "$schema", "customizations", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/*
 * A path the file names for its build, relative to the file's folder,
 * into out: relative to the worktree, and never out of it (a path of
 * this machine is not the repository's to name).
 */
static int build_path(struct loader *l, const char *key, const char *path, char **out)
{
	struct strbuf val = STRBUF_INIT, res = STRBUF_INIT;
	const char *slash = strrchr(l->dc->path, '/');
	char *copy, *save = NULL;
	int ret = 0;

	substitute(l, key, path, &val, NULL);
	if (*val.buf == '/') {
		ret = fail(l->why, "%s: '%s': '%s' is a path of this machine, not one in the "
			   "repository", l->dc->path, key, val.buf);
		goto done;
	}
	if (slash)
		strbuf_add(&res, l->dc->path, (size_t)(slash - l->dc->path));
	copy = xstrfmt("%s", val.buf);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *up = strrchr(res.buf, '/');

			if (!res.len || (*l->dc->path == '/' && up == res.buf)) {
				ret = fail(l->why, "%s: '%s': '%s' is outside the worktree",
					   l->dc->path, key, val.buf);
				break;
			}
			strbuf_setlen(&res, up ? (size_t)(up - res.buf) : 0);
			continue;
		}
		if (res.len)
			strbuf_addch(&res, '/');
		strbuf_addstr(&res, c);
	}
	free(copy);
	if (!ret) {
		free(*out);
		*out = strbuf_detach(&res, NULL);
	}
done:
	strbuf_release(&val);
	strbuf_release(&res);
	return ret;
}

/* build.options that change nothing but how the runtime works. */
static const char *const safe_build_options[] = {
	"--no-cache", "--pull", "--pull=never", "--pull=missing", "--pull=always",
	"--pull=newer", "--quiet", "-q", "--network=none", "--rm", "--force-rm", NULL
};

static int read_build(struct loader *l, const cJSON *item)
{
	struct devcontainer_build *b = &l->dc->build;
	struct strbuf val = STRBUF_INIT;
	const cJSON *e;
	int ret = 0;

	if (!cJSON_IsObject(item))
		return type_error(l, "build", "an object");
	l->dc->has_build = 1;
	cJSON_ArrayForEach(e, item) {
		const char *k = e->string;

		if (!strcmp(k, "dockerfile") || !strcmp(k, "context")) {
			if (!cJSON_IsString(e))
				ret = type_error(l, "build.dockerfile' and 'build.context", "strings");
			else
				ret = build_path(l, k, e->valuestring,
						 *k == 'c' ? &b->context : &b->dockerfile);
		} else if (!strcmp(k, "args")) {
			const cJSON *a;

			if (!cJSON_IsObject(e))
				return type_error(l, "build.args", "an object of strings");
			cJSON_ArrayForEach(a, e) {
				char *kv;

				if (!cJSON_IsString(a) || !env_name_ok(a->string))
					return fail(l->why, "%s: 'build.args': '%s' must be a name of "
						    "letters, digits and '_' with a string", l->dc->path,
						    a->string);
				substitute(l, "build.args", a->valuestring, &val, NULL);
				kv = xstrfmt("%s=%s", a->string, val.buf);
				string_list_append(&b->args, kv);
				free(kv);
			}
		} else if (!strcmp(k, "target")) {
			if (!cJSON_IsString(e))
				return type_error(l, "build.target", "a string");
			free(b->target);
			b->target = xstrdup(e->valuestring);
		} else if (!strcmp(k, "options")) {
			const cJSON *o;

			if (!cJSON_IsArray(e))
				return type_error(l, "build.options", "an array of strings");
			cJSON_ArrayForEach(o, e) {
				if (!cJSON_IsString(o))
					return type_error(l, "build.options", "an array of strings");
				if (!in_list(safe_build_options, o->valuestring) &&
				    !allowed(l, DC_ALLOW_BUILD_OPTIONS)) {
					struct strbuf why = STRBUF_INIT;

					strbuf_addf(&why, "'%s' is not one of the options known to "
						    "be harmless to this machine", o->valuestring);
					refuse(l, "build.options", why.buf, "build.options");
					strbuf_release(&why);
					continue;
				}
				string_list_append(&b->options, o->valuestring);
			}
		} else {
			char *full = xstrfmt("build.%s", k);

			string_list_append(&l->dc->ignored, full);
			free(full);
		}
		if (ret)
			break;
	}
	strbuf_release(&val);
	return ret;
}


FORMAT(2) static void note(struct loader *l, const char *fmt, ...)
{
	struct strbuf n = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&n, "%s: ", l->dc->path);
	va_start(ap, fmt);
	strbuf_vaddf(&n, fmt, ap);
	va_end(ap);
	string_list_append(&l->dc->notes, n.buf);
	strbuf_release(&n);
}

/*
 * The keys of the file, one reader each (or one for a few that go
 * together). A reader is given the key's item; its name is item->string.
 */
static int read_image(struct loader *l, const cJSON *item)
{
	struct strbuf val = STRBUF_INIT;
	int ret = 0;

	if (!cJSON_IsString(item) || !*item->valuestring)
		return type_error(l, item->string, "a string");
	substitute(l, item->string, item->valuestring, &val, NULL);
	/* It goes to the runtime's command line: an option there is not an image. */
	if (!image_name_ok(val.buf))
		ret = fail(l->why, "%s: 'image': '%s' is not an image name", l->dc->path,
			   val.buf);
	else
		l->dc->image = strbuf_detach(&val, NULL);
	strbuf_release(&val);
	return ret;
}

static int read_container_env(struct loader *l, const cJSON *item)
{
	return read_env(l, item, &l->dc->container_env, 0);
}

static int read_remote_env(struct loader *l, const cJSON *item)
{
	return read_env(l, item, &l->dc->remote_env, 1);
}

int devcontainer_user_ok(const char *user)
{
	/* A user name as useradd takes one, or uid[:gid]: never an option. */
	size_t len = strlen(user), colon = strcspn(user, ":");

	if (!len || len > 32)
		return 0;
	if (user[colon]) {
		if (strspn(user, "0123456789") != colon || !colon ||
		    strspn(user + colon + 1, "0123456789") != len - colon - 1 || colon + 1 == len)
			return 0;
		return 1;
	}
	if (!isalnum((unsigned char)*user) && *user != '_')
		return 0;
	return strspn(user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-") == len;
}

/* containerUser and remoteUser: remoteUser runs the commands, as here. */
static int read_user(struct loader *l, const cJSON *item)
{
	int remote = !strcmp(item->string, "remoteUser");

	if (!cJSON_IsString(item))
		return type_error(l, item->string, "a string");
	if (!devcontainer_user_ok(item->valuestring))
		return fail(l->why, "%s: '%s' is not a user name or uid[:gid]: '%s'",
			    l->dc->path, item->string, item->valuestring);
	if (l->dc->user && l->dc->user_is_remote && !remote)
		return 0;
	free(l->dc->user);
	l->dc->user = xstrdup(item->valuestring);
	l->dc->user_is_remote = remote;
	return 0;
}

static int read_workspace_folder(struct loader *l, const cJSON *item)
{
	struct strbuf val = STRBUF_INIT;

	if (!cJSON_IsString(item))
		return type_error(l, item->string, "a string");
	substitute(l, item->string, item->valuestring, &val, NULL);
	if (strcmp(val.buf, DC_WORKSPACE))
		note(l, "workspaceFolder '%s' is %s in a sandbox", val.buf, DC_WORKSPACE);
	strbuf_release(&val);
	return 0;
}

static int read_workspace_mount(struct loader *l, const cJSON *item)
{
	if (!cJSON_IsString(item))
		return type_error(l, item->string, "a string");
	/* The usual one mounts the worktree: a sandbox has its clone there instead. */
	if (!strstr(item->valuestring, "source=${localWorkspaceFolder}") &&
	    !strstr(item->valuestring, "src=${localWorkspaceFolder}"))
		refuse(l, item->string, "a sandbox mounts its own clone of this worktree at /app, "
		       "and nothing else in its place", NULL);
	return 0;
}

static int read_mounts(struct loader *l, const cJSON *item)
{
	const char *key = item->string;
	const cJSON *m;

	if (!cJSON_IsArray(item))
		return type_error(l, key, "an array");
	if (!cJSON_GetArraySize(item))
		return 0;
	if (!allowed(l, DC_ALLOW_MOUNTS)) {
		refuse(l, key, "it mounts paths of this machine into the sandbox", key);
		return 0;
	}
	cJSON_ArrayForEach(m, item)
		if (read_mount(l, m) < 0)
			return -1;
	return 0;
}

/*
 * The container's name is git-sand's: each sandbox's own (a second
 * sandbox of the same file would fail on a name in use), by which a
 * sandbox whose create was cut short before its id was recorded finds
 * its container. "--name N" and "--name=N" among run_args from index
 * from on are dropped, with a note.
 */
static void drop_name(struct loader *l, size_t from)
{
	struct string_list *args = &l->dc->run_args;
	size_t to = from;

	for (size_t i = from; i < args->nr; i++) {
		const char *a = args->items[i];

		if (!strcmp(a, "--name") || starts_with(a, "--name=")) {
			int with_value = !strcmp(a, "--name") && i + 1 < args->nr;

			struct strbuf shown = STRBUF_INIT;

			sanitize_str(&shown, a, 0);
			if (with_value) {
				strbuf_addch(&shown, ' ');
				sanitize_str(&shown, args->items[i + 1], 0);
			}
			note(l, "runArgs: ignoring '%s': git-sand names the container", shown.buf);
			strbuf_release(&shown);
			free(args->items[i]);
			if (with_value)
				free(args->items[++i]);
			continue;
		}
		args->items[to++] = args->items[i];
	}
	args->nr = to;
}

static int read_run_args(struct loader *l, const cJSON *item)
{
	const char *key = item->string;
	size_t from = l->dc->run_args.nr;
	int ret;

	if (!cJSON_IsArray(item))
		return type_error(l, key, "an array of strings");
	if (!cJSON_GetArraySize(item))
		return 0;
	if (!allowed(l, DC_ALLOW_RUN_ARGS)) {
		refuse(l, key, "it passes options of its choosing to the runtime", key);
		return 0;
	}
	ret = read_strings(l, item, "");
	drop_name(l, from);
	return ret;
}

static int read_privileged(struct loader *l, const cJSON *item)
{
	const char *key = item->string;

	if (!cJSON_IsBool(item))
		return type_error(l, key, "true or false");
	if (cJSON_IsFalse(item))
		return 0;
	if (!allowed(l, DC_ALLOW_PRIVILEGED)) {
		refuse(l, key, "a privileged container can reach this machine's devices", key);
		return 0;
	}
	string_list_append(&l->dc->run_args, "--privileged");
	return 0;
}

/* capAdd and securityOpt: runtime options that loosen the sandbox. */
static int read_cap_add_security_opt(struct loader *l, const cJSON *item)
{
	const char *key = item->string;
	int cap = !strcmp(key, "capAdd");

	if (!cJSON_IsArray(item))
		return type_error(l, key, "an array of strings");
	if (!cJSON_GetArraySize(item))
		return 0;
	if (!allowed(l, cap ? DC_ALLOW_CAP_ADD : DC_ALLOW_SECURITY_OPT)) {
		refuse(l, key, cap ? "it gives the sandbox more privileges" :
		       "it weakens the sandbox's confinement", key);
		return 0;
	}
	return read_strings(l, item, cap ? "--cap-add=" : "--security-opt=");
}

static int read_init(struct loader *l, const cJSON *item)
{
	if (!cJSON_IsBool(item))
		return type_error(l, item->string, "true or false");
	if (cJSON_IsFalse(item))
		note(l, "%s: false: a sandbox always runs an init as PID 1", item->string);
	return 0;
}

static int read_initialize_command(struct loader *l, const cJSON *item)
{
	const char *key = item->string;

	if (!allowed(l, DC_ALLOW_INITIALIZE))
		refuse(l, key, "it runs on this machine, outside the sandbox", key);
	else
		note(l, "not running %s: nothing from the file runs on this "
		     "machine, even allowed", key);
	return 0;
}

/* dockerComposeFile, service and runServices. */
static int read_compose(struct loader *l, const cJSON *item)
{
	return fail(l->why, "%s: '%s': configurations based on Docker Compose are not supported",
		    l->dc->path, item->string);
}

/* dockerFile and context: the older spelling of build.dockerfile and build.context. */
static int read_old_build(struct loader *l, const cJSON *item)
{
	const char *key = item->string;

	if (!cJSON_IsString(item))
		return type_error(l, key, "a string");
	l->dc->has_build = 1;
	return build_path(l, key, item->valuestring,
			  !strcmp(key, "context") ? &l->dc->build.context :
			  &l->dc->build.dockerfile);
}

static const struct key_reader {
	const char *key;
	int (*read)(struct loader *l, const cJSON *item);
} key_readers[] = {
	{ "image", read_image },
	{ "containerEnv", read_container_env },
	{ "remoteEnv", read_remote_env },
	{ "forwardPorts", read_ports },
	{ "appPort", read_ports },
	{ "containerUser", read_user },
	{ "remoteUser", read_user },
	{ "workspaceFolder", read_workspace_folder },
	{ "workspaceMount", read_workspace_mount },
	{ "mounts", read_mounts },
	{ "runArgs", read_run_args },
	{ "privileged", read_privileged },
	{ "capAdd", read_cap_add_security_opt },
	{ "securityOpt", read_cap_add_security_opt },
	{ "init", read_init },
	{ "initializeCommand", read_initialize_command },
	{ "dockerComposeFile", read_compose },
	{ "service", read_compose },
	{ "runServices", read_compose },
	{ "build", read_build },
	{ "dockerFile", read_old_build },
	{ "context", read_old_build },
};

static int read_key(struct loader *l, cJSON *item)
{
	const char *key = item->string;

	for (int i = 0; i < DC_COMMANDS_NR; i++)
		if (!strcmp(key, devcontainer_command_keys[i])) {
			if (check_command(l, key, item, 0) < 0)
				return -1;
			substitute_tree(l, key, item);
			l->dc->commands[i] = cJSON_PrintUnformatted(item);
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(key_readers); i++)
		if (!strcmp(key, key_readers[i].key))
			return key_readers[i].read(l, item);
	if (!in_list(silent_keys, key))
		string_list_append(&l->dc->ignored, key);
	return 0;
}

int devcontainer_load(struct devcontainer *dc, const char *worktree, const char *path,
		      const struct devcontainer_allow *allow, struct strbuf *why)
{
	struct loader l = { dc, allow, worktree, NULL, why, 0, STRING_LIST_INIT };
	struct strbuf text = STRBUF_INIT;
	cJSON *root = NULL, *item;
	int ret = -1;

	free(dc->path);
	dc->path = xstrdup(path);
	strbuf_reset(why);
	if (read_bounded(&text, worktree, path, why) < 0)
		goto done;
	root = devcontainer_parse_jsonc(text.buf, text.len, path, why);
	if (!root)
		goto done;
	l.container_env = cJSON_GetObjectItemCaseSensitive(root, "containerEnv");
	if (!cJSON_IsObject(l.container_env))
		l.container_env = NULL;
	cJSON_ArrayForEach(item, root)
		if (read_key(&l, item) < 0)
			goto done;
	if (dc->has_build && !dc->build.dockerfile) {
		fail(why, "%s: 'build' names no 'dockerfile'", path);
		goto done;
	}
	if (dc->has_build && !dc->build.context) {
		/* The default context, ".": the file's own folder. */
		const char *slash = strrchr(path, '/');

		dc->build.context = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	}
	if (l.refused) {
		hint("'--no-devcontainer' makes the sandbox without it");
		fail(why, "cannot use '%s' as it is", path);
		goto done;
	}
	ret = 0;
done:
	string_list_clear(&l.local_env_refused);
	cJSON_Delete(root);
	strbuf_release(&text);
	return ret;
}

void devcontainer_warn(const struct devcontainer *dc)
{
	struct strbuf keys = STRBUF_INIT;

	for (size_t i = 0; i < dc->ignored.nr; i++)
		strbuf_addf(&keys, "%s'%s'", i ? ", " : "", dc->ignored.items[i]);
	if (dc->ignored.nr)
		warning("%s: not supported, ignored: %s", dc->path, keys.buf);
	for (size_t i = 0; i < dc->notes.nr; i++)
		warning("%s", dc->notes.items[i]);
	strbuf_release(&keys);
}

/* ---- Lifecycle commands ---- */

int devcontainer_save(const struct devcontainer *dc, const struct sandbox *sb)
{
	cJSON *obj = cJSON_CreateObject();
	struct strbuf path = STRBUF_INIT;
	char *text = NULL;
	int ret = -1;

	cJSON_AddStringToObject(obj, "file", dc->path);
	for (int i = 0; i < DC_COMMANDS_NR; i++) {
		cJSON *c = dc->commands[i] ? cJSON_Parse(dc->commands[i]) : NULL;

		if (c)
			cJSON_AddItemToObject(obj, devcontainer_command_keys[i], c);
	}
	if (dc->container_env.nr || dc->remote_env.nr) {
		cJSON *names = cJSON_AddArrayToObject(obj, "env");
		const struct string_list *lists[] = { &dc->container_env, &dc->remote_env };

		/* Names only: the values are in the sandbox's env file. */
		for (size_t l = 0; l < 2; l++)
			for (size_t i = 0; i < lists[l]->nr; i++) {
				const char *kv = lists[l]->items[i];
				char *name = xstrndup(kv, strcspn(kv, "="));

				cJSON_AddItemToArray(names, cJSON_CreateString(name));
				free(name);
			}
	}
	if (dc->user)
		cJSON_AddStringToObject(obj, "user", dc->user);
	if (dc->run_args.nr) {
		cJSON *args = cJSON_AddArrayToObject(obj, "runArgs");

		for (size_t i = 0; i < dc->run_args.nr; i++)
			cJSON_AddItemToArray(args, cJSON_CreateString(dc->run_args.items[i]));
	}
	text = cJSON_Print(obj);
	path_join(&path, sb->dir, DC_RECORD);
	if (text && !write_file_atomic(path.buf, text, strlen(text), 0600))
		ret = 0;
	free(text);
	cJSON_Delete(obj);
	strbuf_release(&path);
	return ret;
}

/*
 * The recorded value of key (JSON text) into *out, NULL where the record
 * or the key is not there: 0, or -1 where the record cannot be read.
 */
static int record_value(const struct sandbox *sb, const char *key, char **out)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	cJSON *root = NULL;
	const cJSON *c;
	int fd, ret = -1;

	*out = NULL;
	path_join(&path, sb->dir, DC_RECORD);
	fd = open(path.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -1;
		goto done;
	}
	if (strbuf_read_fd(&text, fd) >= 0 && text.len <= DEVCONTAINER_MAX_SIZE)
		root = cJSON_Parse(text.buf);
	close(fd);
	if (!cJSON_IsObject(root))
		goto done;
	c = cJSON_GetObjectItemCaseSensitive(root, key);
	if (c && !(*out = cJSON_PrintUnformatted(c)))
		goto done;
	ret = 0;
done:
	cJSON_Delete(root);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

/* The recorded value of key (JSON text), or NULL when there is none. */
static char *recorded(const struct sandbox *sb, const char *key)
{
	char *text;

	record_value(sb, key, &text);
	return text;
}

/* Append to the setup log, never through a link. */
static void log_append(const struct sandbox *sb, const char *data, size_t len)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	path_join(&path, sb->dir, "setup.log");
	fd = open(path.buf, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		while (len) {
			ssize_t n = write(fd, data, len);

			if (n <= 0)
				break;
			data += n;
			len -= (size_t)n;
		}
		close(fd);
	}
	strbuf_release(&path);
}

/* A command's argv in the container: a string by /bin/sh -c, an array as it is. */
static void command_argv(struct string_list *args, const cJSON *c)
{
	const cJSON *e;

	if (cJSON_IsString(c)) {
		string_list_append(args, "/bin/sh");
		string_list_append(args, "-c");
		string_list_append(args, c->valuestring);
	} else {
		cJSON_ArrayForEach(e, c)
			string_list_append(args, e->valuestring);
	}
}

/*
 * Run a fixed script with args in the container, its output (stdout and
 * stderr) appended to the setup log between lines naming what ran.
 * Returns the script's status, or -1.
 */
static int run_logged(struct runtime *rt, const struct sandbox *sb, const char *user,
		      const char *what, const struct string_list *args)
{
	struct exec_opts as = { .user = user };
	struct strbuf out = STRBUF_INIT, head = STRBUF_INIT;
	const char **argv = xcalloc(args->nr + 1, sizeof(*argv));
	int status;

	for (size_t n = 0; n < args->nr; n++)
		argv[n] = args->items[n];
	if (isatty(2))
		fprintf(stderr, "Running %s...\n", what);
	strbuf_addf(&head, "[%s]\n", what);
	log_append(sb, head.buf, head.len);
	status = rt->ops->exec_capture(rt, sb->container, &as, argv, &out);
	log_append(sb, out.buf, out.len);
	strbuf_reset(&head);
	strbuf_addf(&head, "[%s exited with status %d]\n", what, status);
	log_append(sb, head.buf, head.len);
	free(argv);
	strbuf_release(&out);
	strbuf_release(&head);
	return status;
}

/* One command (string or array). */
static int run_one(struct runtime *rt, const struct sandbox *sb, const char *user,
		   const char *what, const cJSON *c)
{
	/* A fixed script: the command is its arguments, stderr with stdout. */
	struct string_list args = STRING_LIST_INIT;
	int status;

	string_list_append(&args, "/bin/sh");
	string_list_append(&args, "-c");
	string_list_append(&args, "exec \"$@\" 2>&1");
	string_list_append(&args, "sh");
	command_argv(&args, c);
	status = run_logged(rt, sb, user, what, &args);
	string_list_clear(&args);
	if (status != 0)
		return error("%s failed (status %d) in sandbox '%s'", what, status, sb->name);
	return 0;
}

/*
 * The entries of an object, all at once as the specification says, in one
 * exec (so it is the same on every transport): each entry's arguments are
 * its name, its argc and its argv. Each runs in a subshell that keeps only
 * its own argv, its output in a file of its own; once all have ended,
 * each output is printed whole between lines naming it, in order. The
 * status is the index (from 1) of the first that failed, or 0; past
 * DC_PARALLEL_MAX entries, DC_PARALLEL_MAX + 1 says "one of the rest".
 */
#define DC_PARALLEL_MAX 100
static const char parallel_script[] =
	"d=$(mktemp -d 2>/dev/null) || { d=/tmp/.git-sand-lc.$$; mkdir -m 700 \"$d\"; } || exit 125\n"
	"i=0; pids=\n"
	"while [ $# -gt 0 ]; do\n"
	"  i=$((i+1)); printf '%s' \"$1\" >\"$d/$i.name\"; n=$2; shift 2\n"
	"  ( t=$#; j=0\n"
	"    for a do if [ $j -lt $n ]; then set -- \"$@\" \"$a\"; fi; j=$((j+1)); done\n"
	"    shift $t; exec \"$@\" ) >\"$d/$i.out\" 2>&1 </dev/null &\n"
	"  pids=\"$pids $!\"; shift $n\n"
	"done\n"
	"rc=0; k=0\n"
	"for p in $pids; do\n"
	"  k=$((k+1)); wait $p; s=$?; name=$(cat \"$d/$k.name\")\n"
	"  printf '[%s]\\n' \"$name\"; cat \"$d/$k.out\"\n"
	"  printf '[%s exited with status %d]\\n' \"$name\" $s\n"
	"  if [ $s -ne 0 ] && [ $rc -eq 0 ]; then rc=$k; [ $rc -le 100 ] || rc=101; fi\n"
	"done\n"
	"rm -rf \"$d\"; exit $rc\n";

static int run_parallel(struct runtime *rt, const struct sandbox *sb, const char *user,
			const char *key, const cJSON *c)
{
	struct string_list args = STRING_LIST_INIT, names = STRING_LIST_INIT;
	const cJSON *e;
	int status, ret = 0;

	string_list_append(&args, "/bin/sh");
	string_list_append(&args, "-c");
	string_list_append(&args, parallel_script);
	string_list_append(&args, "sh");
	cJSON_ArrayForEach(e, c) {
		char *what = xstrfmt("%s '%s'", key, e->string);
		struct string_list one = STRING_LIST_INIT;
		char n[32];

		command_argv(&one, e);
		snprintf(n, sizeof(n), "%zu", one.nr);
		string_list_append(&args, what);
		string_list_append(&args, n);
		for (size_t i = 0; i < one.nr; i++)
			string_list_append(&args, one.items[i]);
		string_list_append(&names, what);
		string_list_clear(&one);
		free(what);
	}
	status = run_logged(rt, sb, user, key, &args);
	if (status > 0 && (size_t)status <= names.nr && status <= DC_PARALLEL_MAX)
		ret = error("%s failed in sandbox '%s'", names.items[status - 1], sb->name);
	else if (status != 0)
		ret = error("%s failed (status %d) in sandbox '%s'", key, status, sb->name);
	string_list_clear(&args);
	string_list_clear(&names);
	return ret;
}

int devcontainer_run(struct runtime *rt, const struct sandbox *sb,
		     const struct devcontainer *dc, enum devcontainer_command which)
{
	const char *key = devcontainer_command_keys[which];
	char *text = dc ? xstrdup_or_null(dc->commands[which]) : recorded(sb, key);
	cJSON *c = text ? cJSON_Parse(text) : NULL;
	char *user = NULL;
	int ret = 0;

	if (!c)
		goto done;
	user = dc ? xstrdup_or_null(dc->user) : devcontainer_user(sb);
	if (!cJSON_IsObject(c))
		ret = run_one(rt, sb, user, key, c);
	else if (cJSON_GetArraySize(c))
		ret = run_parallel(rt, sb, user, key, c);
	if (ret)
		hint("'git sand logs --setup %s' shows its output", sb->name);
done:
	cJSON_Delete(c);
	free(user);
	free(text);
	return ret;
}

char *devcontainer_user(const struct sandbox *sb)
{
	char *text = recorded(sb, "user");
	cJSON *u = text ? cJSON_Parse(text) : NULL;
	char *ret = NULL;

	if (cJSON_IsString(u) && devcontainer_user_ok(u->valuestring))
		ret = xstrdup(u->valuestring);
	else if (text)
		error("the devcontainer record of sandbox '%s' is damaged", sb->name);
	cJSON_Delete(u);
	free(text);
	return ret;
}

int devcontainer_exec_capture(struct runtime *rt, const struct sandbox *sb,
			      const char *const *argv, struct strbuf *out)
{
	char *user = devcontainer_user(sb);
	struct exec_opts eo = { .user = user };
	int ret = rt->ops->exec_capture(rt, sb->container, &eo, argv, out);

	free(user);
	return ret;
}

/* Whether dst is path or beneath it. */
static int path_within(const char *dst, const char *path)
{
	size_t len = strlen(path);

	return !strncmp(dst, path, len) && (!dst[len] || dst[len] == '/');
}

/*
 * Every file beneath /app (its .git included) and the home, links not
 * followed, as root: the user's login group when only a name is given.
 * A mount of the user's own (--mount, mounts, runArgs) in those would
 * have its host files given away too, so none may be there.
 */
static const char own_script[] =
	"u=$1; case $u in *:*) ;; *) g=$(id -g -- \"$u\") && u=$(id -u -- \"$u\"):$g || exit 1;; esac\n"
	"echo \"$u\"\n"
	"for d in /app /home/sand; do\n"
	"  [ -d \"$d\" ] || continue\n"
	"  find \"$d\" \\( ! -user \"${u%:*}\" -o ! -group \"${u#*:}\" \\) "
	"-exec chown -h -- \"$u\" {} + 2>/dev/null || chown -R -h -- \"$u\" \"$d\" || exit 1\n"
	"done\n";

/* Where the ids of user in image are remembered under root. */
static void owner_path(struct strbuf *out, const char *root, const char *image, const char *user)
{
	struct strbuf key = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;

	strbuf_addf(&key, "%s%c%s", image, 0, user);
	git_odb_hash(&id, key.buf, key.len, GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &id);
	strbuf_addf(out, "%s/users/%s", root, hex);
	strbuf_release(&key);
}

/* "<uid>:<gid>" and nothing else (a newline at the end), neither 0:0. */
static int parse_owner(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	if (!isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	u = strtoul(s, &end, 10);
	if (*end != ':' || !isdigit((unsigned char)end[1]))
		return 0;
	g = strtoul(end + 1, &end, 10);
	if (errno || (*end && strcmp(end, "\n")) || u > 65534 * 65536UL || g > 65534 * 65536UL ||
	    (!u && !g))
		return 0;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 1;
}

int devcontainer_owner(const char *root, const char *image, const char *user, uid_t *uid,
		       gid_t *gid)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int ret;

	if (strchr(user, ':'))
		return parse_owner(user, uid, gid);
	owner_path(&path, root, image, user);
	ret = strbuf_read_file(&text, path.buf) >= 0 && text.len < 64 &&
	      parse_owner(text.buf, uid, gid);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

/* Check that no mount of the user's own would be given away with /app. */
static int own_check(const struct sandbox *sb, const char *user)
{
	struct string_list args = STRING_LIST_INIT;
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < sb->opts.mounts.nr && !ret; i++) {
		struct mount_spec m = { 0 };

		if (mount_spec_parse(sb->opts.mounts.items[i], &m, &why) == 0 &&
		    (path_within(m.dst, "/app") || path_within(m.dst, SANDBOX_HOME)))
			ret = error("cannot run as '%s': the mount at '%s' would be theirs too",
				    user, m.dst);
		mount_spec_clear(&m);
	}
	if (!ret && (devcontainer_run_args(sb, &args) < 0 || args.nr))
		ret = error("cannot run as '%s' with runArgs: what they mount would be "
			    "theirs too", user);
	string_list_clear(&args);
	strbuf_release(&why);
	return ret;
}

int devcontainer_own(struct runtime *rt, const struct sandbox *sb, const char *user,
		     const char *root)
{
	const char *argv[] = { "/bin/sh", "-c", own_script, "sh", user, NULL };
	struct exec_opts as_root = { .user = "0:0" };
	struct strbuf out = STRBUF_INIT, path = STRBUF_INIT;
	char *slash;
	uid_t uid;
	gid_t gid;
	int status, made;

	if (own_check(sb, user) < 0)
		return -1;
	status = rt->ops->exec_capture(rt, sb->container, &as_root, argv, &out);
	if (status != 0) {
		strbuf_release(&out);
		return error("cannot give /app to '%s' in sandbox '%s' (status %d)", user,
			     sb->name, status);
	}
	/* The sandbox's answer: only ever a choice of base (see devcontainer_owner). */
	if (!sb->host && !strchr(user, ':') && out.len < 64 && parse_owner(out.buf, &uid, &gid)) {
		owner_path(&path, root, sb->image, user);
		strbuf_reset(&out);
		strbuf_addf(&out, "%lu:%lu\n", (unsigned long)uid, (unsigned long)gid);
		slash = strrchr(path.buf, '/');
		*slash = '\0';
		made = mkdir_p(path.buf, 0755);
		*slash = '/';
		if (made < 0 || write_file_atomic(path.buf, out.buf, out.len, 0644) < 0)
			warning("cannot remember the ids of '%s' in '%s'", user, path.buf);
	}
	strbuf_release(&out);
	strbuf_release(&path);
	return 0;
}

/* The recorded runtime options into out: 0, or -1 (no message) where damaged. */
static int recorded_run_args(const struct sandbox *sb, struct string_list *out)
{
	char *text;
	int ret = record_value(sb, "runArgs", &text);
	cJSON *args = text ? cJSON_Parse(text) : NULL;
	const cJSON *e;

	if (text && !cJSON_IsArray(args))
		ret = -1;
	cJSON_ArrayForEach(e, args) {
		if (!cJSON_IsString(e)) {
			ret = -1;
			break;
		}
		string_list_append(out, e->valuestring);
	}
	cJSON_Delete(args);
	free(text);
	return ret;
}

int devcontainer_run_args(const struct sandbox *sb, struct string_list *out)
{
	if (recorded_run_args(sb, out) < 0)
		return error("the devcontainer record of sandbox '%s' is damaged", sb->name);
	return 0;
}

int devcontainer_names_container(const struct sandbox *sb)
{
	struct string_list args = STRING_LIST_INIT;
	int ret = recorded_run_args(sb, &args);

	for (size_t i = 0; !ret && i < args.nr; i++)
		if (!strcmp(args.items[i], "--name") || starts_with(args.items[i], "--name="))
			ret = 1;
	string_list_clear(&args);
	return ret;
}

/* ---- Building the image ---- */

/* The most entries of a build context hashed: a context, not a disk. */
#define DC_CONTEXT_MAX_ENTRIES 200000
#define DC_CONTEXT_MAX_DEPTH 64

/* Open rel (relative to the worktree, beneath it; or absolute) as a directory. */
static int open_build_dir(const char *worktree, const char *rel)
{
	int wt, fd, saved;

	if (*rel == '/')
		return open(rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	wt = open(worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wt < 0)
		return -1;
	fd = open_dir_beneath(wt, rel, strlen(rel));
	saved = errno;
	close(wt);
	errno = saved;
	return fd;
}

static int hash_buf(struct strbuf *out, const void *data, size_t len)
{
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];

	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		return error_lg2("cannot hash");
	git_oid_tostr(hex, sizeof(hex), &oid);
	strbuf_addstr(out, hex);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One line per entry of the directory, sorted, recursively: its mode, its
 * path and what it holds (a file's content hashed, a link's target as
 * text, never followed). The .git of the context's top is left out: it
 * changes with every git command and is the repository's, not the build's.
 */
static int hash_tree(int dir, const char *prefix, int depth, size_t *count,
		     struct strbuf *manifest)
{
	struct string_list names = STRING_LIST_INIT;
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT;
	int fd = dup(dir), ret = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return error_errno("cannot read the build context at '%s'", *prefix ? prefix : ".");
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (depth || strcmp(e->d_name, ".git")))
			string_list_append(&names, e->d_name);
	closedir(d);
	qsort(names.items, names.nr, sizeof(*names.items), cmp_str);
	for (size_t i = 0; i < names.nr && !ret; i++) {
		const char *name = names.items[i];
		struct stat st;

		strbuf_reset(&path);
		strbuf_addf(&path, "%s%s%s", prefix, *prefix ? "/" : "", name);
		if (++*count > DC_CONTEXT_MAX_ENTRIES || depth >= DC_CONTEXT_MAX_DEPTH) {
			ret = error("the build context has more than %d entries or %d levels",
				    DC_CONTEXT_MAX_ENTRIES, DC_CONTEXT_MAX_DEPTH);
			break;
		}
		if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = error_errno("cannot read '%s' of the build context", path.buf);
			break;
		}
		strbuf_addf(manifest, "%o %s ", (unsigned)st.st_mode, path.buf);
		strbuf_reset(&data);
		if (S_ISREG(st.st_mode)) {
			int f = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

			if (f < 0 || strbuf_read_fd(&data, f) < 0) {
				ret = error_errno("cannot read '%s' of the build context", path.buf);
			} else {
				ret = hash_buf(manifest, data.buf, data.len);
			}
			if (f >= 0)
				close(f);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t n;

			/* Grown until the whole target fits: a cut one would hash as another. */
			for (size_t size = PATH_MAX;; size *= 2) {
				strbuf_grow(&data, size);
				n = readlinkat(dir, name, data.buf, data.alloc - 1);
				if (n < 0 || (size_t)n < data.alloc - 1 || size > 1024 * 1024)
					break;
			}
			if (n < 0)
				ret = error_errno("cannot read '%s' of the build context", path.buf);
			else
				strbuf_add(manifest, data.buf, (size_t)n);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			strbuf_addstr(manifest, "\n");
			if (sub < 0) {
				ret = error_errno("cannot read '%s' of the build context", path.buf);
				break;
			}
			ret = hash_tree(sub, path.buf, depth + 1, count, manifest);
			close(sub);
			continue;
		}
		strbuf_addch(manifest, '\n');
	}
	string_list_clear(&names);
	strbuf_release(&path);
	strbuf_release(&data);
	return ret;
}

/* The Dockerfile's text, read beneath the worktree without following a link. */
static int read_dockerfile(struct strbuf *out, const char *worktree, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	int ret = read_bounded(out, worktree, path, &why);

	if (ret < 0)
		error("%s", why.buf);
	strbuf_release(&why);
	return ret;
}

/* "<worktree>/<rel>", or rel when absolute; the worktree for "". */
static void build_abs(struct strbuf *out, const char *worktree, const char *rel)
{
	strbuf_reset(out);
	if (*rel == '/')
		strbuf_addstr(out, rel);
	else if (*rel)
		strbuf_addf(out, "%s/%s", worktree, rel);
	else
		strbuf_addstr(out, worktree);
}

/*
 * The name of the image the build makes, into image: a hash of all that
 * goes into it (the Dockerfile, its target, args and options, and every
 * entry of its context), so that an image already built is used again.
 */
static int build_image_name(struct strbuf *image, const struct devcontainer_build *b,
			    const char *worktree)
{
	struct strbuf manifest = STRBUF_INIT, text = STRBUF_INIT, hash = STRBUF_INIT;
	size_t count = 0;
	int dir = -1, ret = -1;

	if (read_dockerfile(&text, worktree, b->dockerfile) < 0)
		goto done;
	strbuf_addf(&manifest, "git-sand devcontainer build 1\ndockerfile %s ", b->dockerfile);
	if (hash_buf(&manifest, text.buf, text.len) < 0)
		goto done;
	strbuf_addf(&manifest, "\ntarget %s\n", b->target ? b->target : "");
	for (size_t i = 0; i < b->args.nr; i++)
		strbuf_addf(&manifest, "arg %s\n", b->args.items[i]);
	for (size_t i = 0; i < b->options.nr; i++)
		strbuf_addf(&manifest, "option %s\n", b->options.items[i]);
	strbuf_addf(&manifest, "context %s\n", b->context);
	dir = open_build_dir(worktree, b->context);
	if (dir < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			error("cannot use the build context '%s': a symbolic link is on its way",
			      *b->context ? b->context : ".");
		else
			error_errno("cannot use the build context '%s'", *b->context ? b->context : ".");
		goto done;
	}
	if (hash_tree(dir, "", 0, &count, &manifest) < 0 || hash_buf(&hash, manifest.buf,
								      manifest.len) < 0)
		goto done;
	strbuf_reset(image);
	strbuf_addf(image, "%s%.24s", DEVCONTAINER_IMAGE_PREFIX, hash.buf);
	ret = 0;
done:
	if (dir >= 0)
		close(dir);
	strbuf_release(&manifest);
	strbuf_release(&text);
	strbuf_release(&hash);
	return ret;
}

int devcontainer_build_image(struct runtime *rt, const struct devcontainer *dc,
			     const char *worktree, int progress, struct strbuf *image)
{
	const struct devcontainer_build *b = &dc->build;
	struct strbuf file = STRBUF_INIT, context = STRBUF_INIT, err = STRBUF_INIT;
	struct argv args = ARGV_INIT;
	int ret = -1, status;

	if (!rt->ops->build || rt->ssh) {
		error("a devcontainer.json's image is built only on this machine");
		goto done;
	}
	if (build_image_name(image, b, worktree) < 0)
		goto done;
	status = rt->ops->image_exists(rt, image->buf);
	if (status < 0)
		goto done;
	if (status > 0) {
		ret = 0;
		goto done;
	}
	build_abs(&file, worktree, b->dockerfile);
	build_abs(&context, worktree, b->context);
	argv_pushl(&args, "--file", file.buf, "--tag", image->buf, NULL);
	argv_pushf(&args, "--label=io.git-sand.devcontainer=%s", dc->path);
	for (size_t i = 0; i < b->args.nr; i++)
		argv_pushl(&args, "--build-arg", b->args.items[i], NULL);
	if (b->target)
		argv_pushl(&args, "--target", b->target, NULL);
	for (size_t i = 0; i < b->options.nr; i++)
		argv_push(&args, b->options.items[i]);
	argv_push(&args, context.buf);
	if (progress)
		fprintf(stderr, "Building image '%s' from '%s' with %s...\n", image->buf,
			b->dockerfile, rt->program);
	status = rt->ops->build(rt, (const char *const *)argv_vec(&args), progress, &err);
	if (status != 0) {
		strbuf_trim(&err);
		if (status > 0 && err.len)
			error("%s build failed (status %d): %s", rt->program, status, err.buf);
		else
			error("%s build failed (status %d)%s", rt->program, status,
			      progress ? ": its reason is above" : "");
		goto done;
	}
	ret = 0;
done:
	argv_clear(&args);
	strbuf_release(&file);
	strbuf_release(&context);
	strbuf_release(&err);
	return ret;
}

void devcontainer_show(const struct sandbox *sb,
		       void (*line)(void *data, const char *key, const char *value), void *data)
{
	static const char *const keys[] = { "file", "env", "user", "runArgs", NULL };
	struct strbuf text = STRBUF_INIT;

	for (const char *const *k = keys; *k; k++) {
		char *json = recorded(sb, *k);
		cJSON *v = json ? cJSON_Parse(json) : NULL;
		const cJSON *e, *arr = cJSON_IsArray(v) ? v : NULL;

		strbuf_reset(&text);
		if (cJSON_IsString(v))
			strbuf_addstr(&text, v->valuestring);
		cJSON_ArrayForEach(e, arr)
			if (cJSON_IsString(e))
				strbuf_addf(&text, "%s%s", text.len ? ", " : "", e->valuestring);
		if (text.len) {
			char *key = xstrfmt("devcontainer%s%s", strcmp(*k, "file") ? "." : "",
					    strcmp(*k, "file") ? *k : "");

			line(data, key, text.buf);
			free(key);
		}
		cJSON_Delete(v);
		free(json);
	}
	for (int i = 0; i < DC_COMMANDS_NR; i++) {
		char *json = recorded(sb, devcontainer_command_keys[i]);

		if (json) {
			char *key = xstrfmt("devcontainer.%s", devcontainer_command_keys[i]);

			line(data, key, json);
			free(key);
		}
		free(json);
	}
	strbuf_release(&text);
}

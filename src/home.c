#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <git2.h>

#include "agent.h"
#include "copy.h"
#include "home.h"
#include "msg.h"
#include "path.h"

int dotfile_path_ok(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (const char *s = p; *s; ) {
		const char *end = strchrnul(s, '/');
		size_t len = (size_t)(end - s);

		if (!len || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		s = *end ? end + 1 : end;
	}
	return 1;
}

static int make_parents(const char *path)
{
	struct strbuf dir = STRBUF_INIT;
	char *slash;
	int ret = 0;

	strbuf_addstr(&dir, path);
	slash = strrchr(dir.buf, '/');
	if (slash) {
		*slash = '\0';
		if (mkdir_p(dir.buf, 0700) < 0)
			ret = error_errno("cannot create '%s'", dir.buf);
	}
	strbuf_release(&dir);
	return ret;
}

static int list_has(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int string_list_has(const struct string_list *l, const char *s)
{
	for (size_t i = 0; l && i < l->nr; i++)
		if (!strcmp(l->items[i], s))
			return 1;
	return 0;
}

static void add_carried(struct string_list *carried, const char *rel)
{
	struct strbuf name = STRBUF_INIT;

	strbuf_addf(&name, "~/%s", rel);
	if (!string_list_has(carried, name.buf))
		string_list_append(carried, name.buf);
	strbuf_release(&name);
}

/* Write json to path (a home of ours: its parents made, no link followed), mode 0600. */
static int write_json(const char *path, const cJSON *json)
{
	char *printed = cJSON_Print(json);
	size_t len = printed ? strlen(printed) : 0;
	int fd = -1, ret = 0;

	if (make_parents(path) < 0) {
		ret = -1;
		goto done;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !printed || write(fd, printed, len) != (ssize_t)len) {
		ret = error_errno("cannot write '%s'", path);
		goto done;
	}
	ret = close(fd) < 0 ? error_errno("cannot write '%s'", path) : 0;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	cJSON_free(printed);
	return ret;
}

/*
 * The agent's JSON file with only the top-level keys it needs, and those
 * the user added (keys). For Claude, "projects" is reduced to this
 * worktree's entry, re-keyed to /app, without its MCP servers unless
 * "mcpServers" is among keys.
 */
static int carry_json(const char *host_home, const char *home, const char *worktree,
		      const struct agent_json *aj, const struct string_list *keys,
		      struct string_list *carried)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, text = STRBUF_INIT;
	cJSON *root = NULL, *out = NULL, *item;
	int ret = 0;

	strbuf_addf(&src, "%s/%s", host_home, aj->path);
	if (strbuf_read_file(&text, src.buf) < 0)
		goto done; /* none: nothing to carry */
	root = cJSON_Parse(text.buf);
	if (!cJSON_IsObject(root)) {
		warning("'%s' is not a JSON object; not carried", src.buf);
		goto done;
	}
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(item, root) {
		const char *key = item->string;

		if (aj->project && !strcmp(key, "projects"))
			continue;
		if (aj->keep ? !list_has(aj->keep, key) : list_has(aj->drop, key))
			if (!string_list_has(keys, key))
				continue;
		cJSON_AddItemToObject(out, key, cJSON_Duplicate(item, 1));
	}
	if (aj->project) {
		cJSON *projects = cJSON_GetObjectItemCaseSensitive(root, "projects");
		cJSON *mine = cJSON_IsObject(projects) ?
			cJSON_GetObjectItemCaseSensitive(projects, worktree) : NULL;
		cJSON *to = cJSON_AddObjectToObject(out, "projects");

		if (cJSON_IsObject(mine)) {
			mine = cJSON_Duplicate(mine, 1);
			if (!string_list_has(keys, "mcpServers"))
				cJSON_DeleteItemFromObjectCaseSensitive(mine, "mcpServers");
			cJSON_AddItemToObject(to, "/app", mine);
		}
	}
	strbuf_addf(&dst, "%s/%s", home, aj->path);
	if (!(ret = write_json(dst.buf, out)))
		add_carried(carried, aj->path);
done:
	cJSON_Delete(root);
	cJSON_Delete(out);
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&text);
	return ret;
}

/* Copy $HOME/<rel> to <home>/<rel>: a file or a directory; absent is fine. */
static int carry(const char *host_home, const char *home, const char *rel,
		 struct string_list *carried)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	strbuf_addf(&src, "%s/%s", host_home, rel);
	strbuf_addf(&dst, "%s/%s", home, rel);
	if (stat(src.buf, &st) < 0)
		goto done;
	if ((ret = make_parents(dst.buf)) < 0)
		goto done;
	if (S_ISDIR(st.st_mode)) {
		ret = copy_directory(src.buf, dst.buf);
	} else if (S_ISREG(st.st_mode)) {
		ret = !strcmp(rel, ".gitconfig") ? gitconfig_sanitize(src.buf, dst.buf) :
			copy_file(src.buf, dst.buf, COPY_FOLLOW);
	} else {
		goto done;
	}
	if (!ret)
		add_carried(carried, rel);
done:
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/*
 * Claude Code's hooks that write ~/.git-sand/agent-state in the sandbox
 * (see agent-run.h): "waiting" when it stops for its user (a turn ended,
 * or it asks a permission), "working" when it is given a prompt or uses a
 * tool, nothing once the session ends. They run in the sandbox, as the
 * agent's own commands; the host only reads the word they leave.
 */
#define REPORT_PATH "\"$HOME/.git-sand/agent-state\""
#define REPORT(word) \
	"mkdir -p \"$HOME/.git-sand\" && echo " word " >" REPORT_PATH ".new && " \
	"mv -f " REPORT_PATH ".new " REPORT_PATH

static const struct {
	const char *event, *matcher, *command;
} state_hooks[] = {
	{ "UserPromptSubmit", NULL, REPORT("working") },
	{ "PostToolUse", "*", REPORT("working") },
	{ "Notification", NULL, REPORT("waiting") },
	{ "Stop", NULL, REPORT("waiting") },
	{ "SessionEnd", NULL, "rm -f " REPORT_PATH },
};

/* Add state_hooks to <home>/<settings>, which the user's copy may already hold. */
static int give_state_hooks(const char *home, const char *settings)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	cJSON *root = NULL, *hooks;
	int ret = 0;

	strbuf_addf(&path, "%s/%s", home, settings);
	if (strbuf_read_file(&text, path.buf) >= 0)
		root = cJSON_Parse(text.buf);
	else
		root = cJSON_CreateObject();
	hooks = cJSON_GetObjectItemCaseSensitive(root, "hooks");
	if (!hooks && cJSON_IsObject(root))
		hooks = cJSON_AddObjectToObject(root, "hooks");
	if (!cJSON_IsObject(hooks)) {
		warning("'~/%s' has no usable \"hooks\"; 'git sand ls' will not see the agent wait",
			settings);
		goto done;
	}
	for (size_t i = 0; i < ARRAY_SIZE(state_hooks); i++) {
		cJSON *list = cJSON_GetObjectItemCaseSensitive(hooks, state_hooks[i].event);
		cJSON *group = cJSON_CreateObject(), *cmds, *cmd;

		if (!list)
			list = cJSON_AddArrayToObject(hooks, state_hooks[i].event);
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(group);
			continue;
		}
		if (state_hooks[i].matcher)
			cJSON_AddStringToObject(group, "matcher", state_hooks[i].matcher);
		cmds = cJSON_AddArrayToObject(group, "hooks");
		cmd = cJSON_CreateObject();
		cJSON_AddStringToObject(cmd, "type", "command");
		cJSON_AddStringToObject(cmd, "command", state_hooks[i].command);
		cJSON_AddItemToArray(cmds, cmd);
		cJSON_AddItemToArray(list, group);
	}
	ret = write_json(path.buf, root);
done:
	cJSON_Delete(root);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

/* The agent's files: what it needs, then what the user added. */
static int carry_agent(const char *home, const struct home_opts *o, struct string_list *carried)
{
	const struct agent *agent = o->agent;

	for (const char *const *p = agent->paths; *p; p++)
		if (carry(o->host_home, home, *p, carried) < 0)
			return -1;
	if (agent->json && carry_json(o->host_home, home, o->worktree, agent->json,
				      o->agent_keys, carried) < 0)
		return -1;
	/* Last: a path the user names is carried whole, whatever the above did. */
	for (size_t i = 0; o->agent_paths && i < o->agent_paths->nr; i++)
		if (carry(o->host_home, home, o->agent_paths->items[i], carried) < 0)
			return -1;
	return 0;
}

int home_prepare(const char *dir, const struct home_opts *o, struct string_list *carried)
{
	struct strbuf home = STRBUF_INIT;
	int ret = -1;

	for (size_t i = 0; o->dotfiles && i < o->dotfiles->nr; i++)
		if (!dotfile_path_ok(o->dotfiles->items[i])) {
			error("dotfile '%s' is not a path inside your home directory",
			      o->dotfiles->items[i]);
			goto done;
		}
	if (o->agent && agent_carry_check(o->agent, o->agent_paths) < 0)
		goto done;
	strbuf_addf(&home, "%s/home", dir);
	if (mkdir_p(home.buf, 0700) < 0) {
		error_errno("cannot create '%s'", home.buf);
		goto done;
	}
	if (!o->host_home)
		goto ok; /* no $HOME: nothing to carry */
	for (size_t i = 0; o->dotfiles && i < o->dotfiles->nr; i++)
		if (carry(o->host_home, home.buf, o->dotfiles->items[i], carried) < 0)
			goto done;
	if (o->agent && carry_agent(home.buf, o, carried) < 0)
		goto done;
ok:
	if (o->agent && o->agent->hooks_settings &&
	    give_state_hooks(home.buf, o->agent->hooks_settings) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&home);
	return ret;
}

static int move_entries(DIR *d, int dst_dir, struct strbuf *rel);

/*
 * Move src_dir/name into dst_dir/name: a directory is merged into the one
 * there, a file replaces what is there. The destination is the sandbox's:
 * no link in it is followed (a link is replaced, or refused where a
 * directory is wanted).
 */
static int move_into(int src_dir, int dst_dir, const char *name, struct strbuf *rel)
{
	size_t len = rel->len;
	struct stat st;
	DIR *d = NULL;
	int s = -1, t = -1, ret = -1;

	if (rel->len)
		strbuf_addch(rel, '/');
	strbuf_addstr(rel, name);
	if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		error_errno("cannot read '%s'", rel->buf);
		goto done;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (renameat(src_dir, name, dst_dir, name) < 0)
			error_errno("cannot put '~/%s' in the sandbox's home", rel->buf);
		else
			ret = 0;
		goto done;
	}
	if (mkdirat(dst_dir, name, 0700) < 0 && errno != EEXIST) {
		error_errno("cannot create '~/%s' in the sandbox's home", rel->buf);
		goto done;
	}
	t = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t < 0) {
		error_errno("'~/%s' in the sandbox's home is not a directory", rel->buf);
		goto done;
	}
	s = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0 || !(d = fdopendir(s))) {
		error_errno("cannot read '%s'", rel->buf);
		goto done;
	}
	s = -1; /* the DIR owns it now */
	ret = move_entries(d, t, rel);
done:
	if (d)
		closedir(d);
	if (s >= 0)
		close(s);
	if (t >= 0)
		close(t);
	strbuf_setlen(rel, len);
	return ret;
}

/* Move every entry of the directory d into the directory open at dst_dir. */
static int move_entries(DIR *d, int dst_dir, struct strbuf *rel)
{
	struct dirent *de;

	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    move_into(dirfd(d), dst_dir, de->d_name, rel) < 0)
			return -1;
	return 0;
}

int home_add_agent(const char *dir, const struct home_opts *o, struct string_list *carried)
{
	struct strbuf staging = STRBUF_INIT, home = STRBUF_INIT, rel = STRBUF_INIT;
	DIR *d = NULL;
	int h = -1, ret = -1;

	if (agent_carry_check(o->agent, o->agent_paths) < 0)
		goto done;
	strbuf_addf(&home, "%s/home", dir);
	h = open(home.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (h < 0) {
		error_errno("cannot open the sandbox's home '%s'", home.buf);
		goto done;
	}
	/* Made apart, where the sandbox cannot reach, then moved in. */
	strbuf_addf(&staging, "%s/home.carry", dir);
	if (remove_tree(staging.buf) < 0)
		goto done;
	if (mkdir(staging.buf, 0700) < 0) {
		error_errno("cannot create '%s'", staging.buf);
		goto done;
	}
	if (o->host_home && carry_agent(staging.buf, o, carried) < 0)
		goto done;
	if (o->agent->hooks_settings && give_state_hooks(staging.buf, o->agent->hooks_settings) < 0)
		goto done;
	if (!(d = opendir(staging.buf))) {
		error_errno("cannot read '%s'", staging.buf);
		goto done;
	}
	ret = move_entries(d, h, &rel);
done:
	if (d)
		closedir(d);
	if (h >= 0)
		close(h);
	if (staging.len && remove_tree(staging.buf) < 0)
		ret = -1;
	strbuf_release(&staging);
	strbuf_release(&home);
	strbuf_release(&rel);
	return ret;
}

int gitconfig_key_dropped(const char *key, const char *value)
{
	static const char *const prefixes[] = {
		"include.", "includeif.", "credential.", "gpg.", "http.", "url.",
		"sendemail.", "filter.", "sand.", NULL
	};
	static const char *const exact[] = {
		"core.hookspath", "core.sshcommand", "core.fsmonitor", "core.askpass",
		"commit.gpgsign", "tag.gpgsign", "diff.external", "user.signingkey", NULL
	};
	size_t len = strlen(key);

	for (const char *const *p = prefixes; *p; p++)
		if (starts_with(key, *p))
			return 1;
	for (const char *const *p = exact; *p; p++)
		if (!strcmp(key, *p))
			return 1;
	if (starts_with(key, "alias.") && value && value[0] == '!')
		return 1;
	if (starts_with(key, "diff.") && len > 9 && !strcmp(key + len - 9, ".textconv"))
		return 1;
	if ((starts_with(key, "diff.") || starts_with(key, "merge.")) &&
	    (len > 7 && (!strcmp(key + len - 7, ".driver") || !strcmp(key + len - 8, ".command"))))
		return 1;
	return 0;
}

struct sanitizer {
	git_config *out;
	int failed;
};

static int keep_entry(const git_config_entry *e, void *payload)
{
	struct sanitizer *s = payload;

	if (e->include_depth > 0 || gitconfig_key_dropped(e->name, e->value))
		return 0;
	/* Append, so that multi-valued keys keep every value. */
	if (git_config_set_multivar(s->out, e->name, "^$a", e->value ? e->value : "") < 0)
		s->failed = 1;
	return 0;
}

int gitconfig_sanitize(const char *src, const char *dst)
{
	git_config *in = NULL, *out = NULL;
	struct sanitizer s = { NULL, 0 };
	int ret = -1, fd;

	/* Start from an empty file, then add what is kept. */
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) < 0) {
		error_errno("cannot create '%s'", dst);
		goto done;
	}
	if (git_config_new(&in) < 0 ||
	    git_config_add_file_ondisk(in, src, GIT_CONFIG_LEVEL_APP, NULL, 0) < 0 ||
	    git_config_open_ondisk(&out, dst) < 0) {
		error_lg2("cannot read '%s'", src);
		goto done;
	}
	s.out = out;
	if (git_config_foreach(in, keep_entry, &s) < 0 || s.failed) {
		error_lg2("cannot write '%s'", dst);
		goto done;
	}
	ret = 0;
done:
	git_config_free(in);
	git_config_free(out);
	return ret;
}

static int valid_env_key(const char *k, size_t len)
{
	if (!len || !((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return 1;
}

int env_check(const struct string_list *env)
{
	for (size_t i = 0; i < env->nr; i++) {
		const char *kv = env->items[i], *eq = strchr(kv, '=');

		/* Name the key only: the value may be a secret. */
		if (!eq || !valid_env_key(kv, (size_t)(eq - kv)))
			return error("--env wants KEY=VALUE with a KEY of letters, digits and '_' "
				     "(argument %zu)", i + 1);
		if (strchr(eq + 1, '\n') || strchr(eq + 1, '\r'))
			return error("the value of --env %.*s holds a newline, which an environment "
				     "file cannot carry", (int)(eq - kv), kv);
	}
	return 0;
}

int env_file_write(const char *path, const struct string_list *env, struct string_list *keys)
{
	struct strbuf text = STRBUF_INIT;
	int fd, ret = -1;

	if (env_check(env) < 0)
		goto done;
	for (size_t i = 0; i < env->nr; i++) {
		const char *kv = env->items[i], *eq = strchr(kv, '=');

		strbuf_addf(&text, "%s\n", kv);
		{
			char *key = xstrndup(kv, (size_t)(eq - kv));
			string_list_append(keys, key);
			free(key);
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text.buf, text.len) != (ssize_t)text.len || close(fd) < 0) {
		error_errno("cannot write '%s'", path);
		goto done;
	}
	ret = 0;
done:
	/* The values were in here: do not leave them in freed memory. */
	if (text.alloc)
		explicit_bzero(text.buf, text.alloc);
	strbuf_release(&text);
	return ret;
}

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <git2.h>

#include "agent.h"
#include "clone.h"
#include "msg.h"
#include "path.h"

static const char *const claude_paths[] = {
	".claude/settings.json", ".claude/.credentials.json", ".claude/CLAUDE.md",
	".claude/agents", ".claude/commands", NULL
};
static const char *const codex_paths[] = { ".codex/auth.json", ".codex/config.toml", NULL };
static const char *const gemini_paths[] = {
	".gemini/settings.json", ".gemini/oauth_creds.json", ".gemini/google_accounts.json",
	".gemini/GEMINI.md", NULL
};
static const char *const opencode_paths[] = {
	".local/share/opencode/auth.json", ".config/opencode", NULL
};

static const struct agent agents[] = {
	{ "claude", "claude", claude_paths },
	{ "codex", "codex", codex_paths },
	{ "gemini", "gemini", gemini_paths },
	{ "opencode", "opencode", opencode_paths },
};

const struct agent *agent_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(agents); i++)
		if (!strcmp(agents[i].name, name))
			return &agents[i];
	return NULL;
}

const char *agent_names(void)
{
	return "claude, codex, gemini, opencode";
}

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

/* ~/.claude.json, with only this project's entry, re-keyed to /app. */
static int carry_claude_json(const char *host_home, const char *home, const char *worktree,
			     struct string_list *carried)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, text = STRBUF_INIT;
	cJSON *root = NULL, *projects, *mine = NULL;
	char *out = NULL;
	int fd, ret = 0;

	strbuf_addf(&src, "%s/.claude.json", host_home);
	if (strbuf_read_file(&text, src.buf) < 0)
		goto done; /* none: nothing to carry */
	root = cJSON_Parse(text.buf);
	if (!cJSON_IsObject(root)) {
		warning("'%s' is not a JSON object; not carried", src.buf);
		goto done;
	}
	projects = cJSON_DetachItemFromObjectCaseSensitive(root, "projects");
	if (cJSON_IsObject(projects))
		mine = cJSON_DetachItemFromObjectCaseSensitive(projects, worktree);
	cJSON_Delete(projects);
	projects = cJSON_AddObjectToObject(root, "projects");
	if (mine)
		cJSON_AddItemToObject(projects, "/app", mine);
	out = cJSON_Print(root);
	strbuf_addf(&dst, "%s/.claude.json", home);
	fd = open(dst.buf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !out || write(fd, out, strlen(out)) != (ssize_t)strlen(out) || close(fd) < 0) {
		ret = error_errno("cannot write '%s'", dst.buf);
		goto done;
	}
	string_list_append(carried, "~/.claude.json");
done:
	cJSON_free(out);
	cJSON_Delete(root);
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&text);
	return ret;
}

/* Copy $HOME/<rel> to <home>/<rel>: a file or a directory; absent is fine. */
static int carry(const char *host_home, const char *home, const char *rel,
		 struct string_list *carried)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, name = STRBUF_INIT;
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
	if (!ret) {
		strbuf_addf(&name, "~/%s", rel);
		string_list_append(carried, name.buf);
	}
done:
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&name);
	return ret;
}

int home_prepare(const char *dir, const char *host_home, const char *worktree,
		 const struct agent *agent, const struct string_list *dotfiles,
		 struct string_list *carried)
{
	struct strbuf home = STRBUF_INIT;
	int ret = -1;

	for (size_t i = 0; dotfiles && i < dotfiles->nr; i++)
		if (!dotfile_path_ok(dotfiles->items[i])) {
			error("dotfile '%s' is not a path inside your home directory",
			      dotfiles->items[i]);
			goto done;
		}
	strbuf_addf(&home, "%s/home", dir);
	if (mkdir_p(home.buf, 0700) < 0) {
		error_errno("cannot create '%s'", home.buf);
		goto done;
	}
	if (!host_home)
		goto ok; /* no $HOME: nothing to carry */
	for (size_t i = 0; dotfiles && i < dotfiles->nr; i++)
		if (carry(host_home, home.buf, dotfiles->items[i], carried) < 0)
			goto done;
	if (agent) {
		for (const char *const *p = agent->paths; *p; p++)
			if (carry(host_home, home.buf, *p, carried) < 0)
				goto done;
		if (!strcmp(agent->name, "claude") &&
		    carry_claude_json(host_home, home.buf, worktree, carried) < 0)
			goto done;
	}
ok:
	ret = 0;
done:
	strbuf_release(&home);
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

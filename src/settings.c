#include <stdlib.h>
#include <string.h>

#include "gitutil.h"
#include "msg.h"
#include "settings.h"

const char *const settings_keys[] = {
	"runtime", "image", "agent", "cpus", "memory", "network", "envFile", "mount",
	"dotfiles", "sshAgent", "setup", "host", "remoteRoot", "publish", "pull", "devcontainer",
	"allow", "workspace", NULL
};

static const char *level_name(git_config_level_t level)
{
	switch (level) {
	case GIT_CONFIG_LEVEL_PROGRAMDATA: return "programdata";
	case GIT_CONFIG_LEVEL_SYSTEM: return "system";
	case GIT_CONFIG_LEVEL_XDG: return "xdg";
	case GIT_CONFIG_LEVEL_GLOBAL: return "global";
	case GIT_CONFIG_LEVEL_LOCAL: return "local";
	case GIT_CONFIG_LEVEL_APP: return "command";
	default: return "config";
	}
}

struct has_any {
	int found;
};

static int count_entry(const git_config_entry *e, void *payload)
{
	((struct has_any *)payload)->found = 1;
	return 0;
}

int settings_init(struct settings *s, git_config *cfg, const char *profile)
{
	struct strbuf sb = STRBUF_INIT, re = STRBUF_INIT;
	struct has_any any = { 0 };
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	if (profile) {
		s->profile = xstrdup(profile);
	} else if (config_get_str(cfg, "sand.profile", &sb) > 0 && sb.len) {
		s->profile = strbuf_detach(&sb, NULL);
	}
	if (s->profile) {
		/* Regexp-quote nothing: profile names are checked to be plain. */
		for (const char *p = s->profile; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
				ret = error("invalid profile name '%s'", s->profile);
				goto done;
			}
		strbuf_addf(&re, "^sand\\.profile\\.%s\\.", s->profile);
		if (git_config_foreach_match(cfg, re.buf, count_entry, &any) < 0)
			git_error_clear();
		if (!any.found)
			ret = error("no profile named '%s' (no sand.profile.%s.* settings)",
				    s->profile, s->profile);
	}
done:
	strbuf_release(&sb);
	strbuf_release(&re);
	return ret;
}

void settings_clear(struct settings *s)
{
	free(s->profile);
	memset(s, 0, sizeof(*s));
}

/* Look one key up, with the level it came from. */
static char *lookup(git_config *cfg, const char *name, struct strbuf *origin)
{
	git_config_entry *e = NULL;
	char *val = NULL;

	if (git_config_get_entry(&e, cfg, name) < 0) {
		git_error_clear();
		return NULL;
	}
	val = xstrdup(e->value ? e->value : "");
	if (origin) {
		strbuf_reset(origin);
		strbuf_addf(origin, "%s (%s)", name, level_name(e->level));
	}
	git_config_entry_free(e);
	return val;
}

char *settings_get(struct settings *s, const char *key, const char *cli, struct strbuf *origin)
{
	struct strbuf name = STRBUF_INIT;
	char *val = NULL;

	if (cli) {
		if (origin) {
			strbuf_reset(origin);
			strbuf_addstr(origin, "command line");
		}
		return xstrdup(cli);
	}
	if (s->profile) {
		strbuf_addf(&name, "sand.profile.%s.%s", s->profile, key);
		val = lookup(s->cfg, name.buf, origin);
	}
	if (!val) {
		strbuf_reset(&name);
		strbuf_addf(&name, "sand.%s", key);
		val = lookup(s->cfg, name.buf, origin);
	}
	if (!val && origin) {
		strbuf_reset(origin);
		strbuf_addstr(origin, "default");
	}
	strbuf_release(&name);
	return val;
}

int settings_get_bool(struct settings *s, const char *key, int cli, int *out,
		      struct strbuf *origin)
{
	char *val;
	int ret = 0;

	if (cli >= 0) {
		*out = cli;
		if (origin) {
			strbuf_reset(origin);
			strbuf_addstr(origin, "command line");
		}
		return 0;
	}
	val = settings_get(s, key, NULL, origin);
	if (!val)
		return 0;
	if (git_config_parse_bool(out, val) < 0) {
		git_error_clear();
		ret = error("bad boolean value '%s' for sand.%s", val, key);
	}
	free(val);
	return ret;
}

static int add_to_list(const git_config_entry *e, void *payload)
{
	string_list_append(payload, e->value ? e->value : "");
	return 0;
}

static int get_multi(git_config *cfg, const char *name, struct string_list *out,
		     struct strbuf *origin)
{
	if (git_config_get_multivar_foreach(cfg, name, NULL, add_to_list, out) < 0)
		git_error_clear();
	if (out->nr && origin) {
		strbuf_reset(origin);
		strbuf_addstr(origin, name);
	}
	return out->nr > 0;
}

void settings_get_list(struct settings *s, const char *key, const struct string_list *cli,
		       struct string_list *out, struct strbuf *origin)
{
	struct strbuf name = STRBUF_INIT;

	if (cli && cli->nr) {
		for (size_t i = 0; i < cli->nr; i++)
			string_list_append(out, cli->items[i]);
		if (origin) {
			strbuf_reset(origin);
			strbuf_addstr(origin, "command line");
		}
		return;
	}
	if (s->profile) {
		strbuf_addf(&name, "sand.profile.%s.%s", s->profile, key);
		if (get_multi(s->cfg, name.buf, out, origin))
			goto done;
	}
	strbuf_reset(&name);
	strbuf_addf(&name, "sand.%s", key);
	if (!get_multi(s->cfg, name.buf, out, origin) && origin) {
		strbuf_reset(origin);
		strbuf_addstr(origin, "default");
	}
done:
	strbuf_release(&name);
}

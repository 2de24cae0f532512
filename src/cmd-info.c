/* show: one sandbox in full; config: the settings a new sandbox would get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "devcontainer.h"
#include "hooks.h"
#include "msg.h"
#include "net.h"
#include "ports.h"
#include "settings.h"

#define SHOW_USAGE "git sand show [--json] <name>"
#define CONFIG_USAGE "git sand config [--profile <profile>] [--json]"

static const char *const show_usage[] = { SHOW_USAGE, NULL };
static const char *const config_usage[] = { CONFIG_USAGE, NULL };

/* Where show's lines go: aligned text, or one JSON object. */
struct show_out {
	cJSON *json;	/* NULL: text */
};

/* A line, left out when there is no value. */
static void line(void *data, const char *key, const char *value)
{
	struct show_out *out = data;

	if (!value || !*value)
		return;
	if (out->json)
		cJSON_AddStringToObject(out->json, key, value);
	else
		printf("%-10s %s\n", key, value);
}

static void list_line(struct show_out *out, const char *key, const struct string_list *l)
{
	struct strbuf sb = STRBUF_INIT;

	if (out->json) {
		cJSON *arr;

		if (!l->nr)
			return;
		arr = cJSON_AddArrayToObject(out->json, key);
		for (size_t i = 0; i < l->nr; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(l->items[i]));
		return;
	}
	for (size_t i = 0; i < l->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", l->items[i]);
	line(out, key, sb.buf);
	strbuf_release(&sb);
}

/* "80/tcp -> 127.0.0.1:8080, ...", and where those addresses are. */
static void ports_line(struct show_out *out, const struct sandbox *sb)
{
	struct strbuf sb_line = STRBUF_INIT;

	if (out->json) {
		/* As stored: the whole mapping, "127.0.0.1:8080:80/tcp". */
		list_line(out, "ports", &sb->opts.ports);
		return;
	}
	ports_describe_list(&sb_line, &sb->opts.ports, ", ");
	if (sb_line.len && sb->host)
		strbuf_addf(&sb_line, " (on %s)", sb->host);
	line(out, "ports", sb_line.buf);
	strbuf_release(&sb_line);
}

int cmd_show(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int json = 0;
	const struct option options[] = {
		OPT_BOOL(0, "json", &json, "print one JSON object"),
		OPT_END(),
	};
	struct show_out out = { NULL };
	struct sandbox sb = { 0 };
	struct strbuf clone = STRBUF_INIT;

	argc = parse_options_or_usage(argc, argv, options, show_usage, 0);
	if (argc != 1)
		usage_with_options(show_usage, options);
	ctx_lookup(ctx, argv[0], &sb);
	hooks_mark_orphans(ctx->r.repo, ctx->r.commondir, ctx_store(ctx), &sb, 1);
	sandbox_clone_path(&sb, &clone);
	if (json)
		out.json = cJSON_CreateObject();
	line(&out, "sandbox", sb.name);
	line(&out, "id", sb.id);
	line(&out, "state", sandbox_state_name(sb.state));
	line(&out, "worktree", sb.worktree);
	line(&out, "clone", clone.buf);
	line(&out, "host", sb.host);
	line(&out, "branch", sb.opts.host_branch);
	line(&out, "runtime", sb.runtime);
	line(&out, "image", sb.image);
	line(&out, "container", sb.container);
	line(&out, "profile", sb.opts.profile);
	line(&out, "agent", sb.opts.agent);
	line(&out, "cpus", sb.opts.cpus);
	line(&out, "memory", sb.opts.memory);
	line(&out, "network", sb.opts.network);
	if (net_is_allow(sb.opts.network)) {
		struct string_list rules = STRING_LIST_INIT;

		/* as it is now: net allow|deny change it */
		if (!net_rules_read(sb.dir, &rules))
			list_line(&out, "rules", &rules);
		string_list_clear(&rules);
	}
	list_line(&out, "mounts", &sb.opts.mounts);
	ports_line(&out, &sb);
	list_line(&out, json ? "env_files" : "env files", &sb.opts.env_files);
	/* Names only: values are never stored, and so never shown. */
	list_line(&out, "env", &sb.opts.env_keys);
	list_line(&out, "carries", &sb.opts.carried);
	line(&out, "ssh-agent", sb.opts.ssh_agent ? "forwarded" : NULL);
	line(&out, "orphaned", sb.opts.orphaned ? "yes: its branch was deleted" : NULL);
	devcontainer_show(&sb, line, &out);
	if (out.json) {
		char *text = cJSON_Print(out.json);

		printf("%s\n", text);
		free(text);
		cJSON_Delete(out.json);
	}
	sandbox_clear(&sb);
	strbuf_release(&clone);
	return 0;
}

/* Where config's rows go: aligned text, or one JSON object. */
struct config_out {
	cJSON *json;	/* NULL: text */
};

/* A row: one value, or a list (when list is given). */
static void config_row(struct config_out *out, const char *key, const char *value,
		       const struct string_list *list, const char *origin)
{
	struct strbuf text = STRBUF_INIT;

	if (out->json) {
		cJSON *row = cJSON_AddObjectToObject(out->json, key);

		if (list) {
			cJSON *arr = cJSON_AddArrayToObject(row, "value");

			for (size_t i = 0; i < list->nr; i++)
				cJSON_AddItemToArray(arr, cJSON_CreateString(list->items[i]));
		} else if (value) {
			cJSON_AddStringToObject(row, "value", value);
		} else {
			cJSON_AddNullToObject(row, "value");
		}
		cJSON_AddStringToObject(row, "origin", origin);
		return;
	}
	if (list)
		for (size_t i = 0; i < list->nr; i++)
			strbuf_addf(&text, "%s%s", i ? ", " : "", list->items[i]);
	else if (value)
		strbuf_addstr(&text, value);
	printf("%-10s %-32s %s\n", key, text.len ? text.buf : "-", origin);
	strbuf_release(&text);
}

/*
 * The devcontainer.json new would read, as new reads it (what it refuses
 * said, not fatal here). 1 when one is read into dc.
 */
static int config_devcontainer(struct cmd_ctx *ctx, struct settings *set,
			       struct devcontainer *dc)
{
	struct devcontainer_allow allow = DEVCONTAINER_ALLOW_INIT;
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT;
	char *mode = settings_get(set, "devcontainer", NULL, NULL);
	int ret = 0;

	if (!ctx->r.worktree || (mode && !strcmp(mode, "never")) ||
	    devcontainer_find(&path, ctx->r.worktree, NULL) != 0)
		goto done;
	if (devcontainer_allow_init(&allow, NULL, ctx->r.config) < 0 ||
	    devcontainer_load(dc, ctx->r.worktree, path.buf, &allow, &why) < 0) {
		if (why.len)
			warning("%s: a new sandbox cannot be made with it", why.buf);
		goto done;
	}
	ret = 1;
done:
	devcontainer_allow_clear(&allow);
	strbuf_release(&path);
	strbuf_release(&why);
	free(mode);
	return ret;
}

/* The names of KEY=VALUE settings: their values may be secrets. */
static void env_names(struct string_list *out, const struct string_list *env)
{
	for (size_t i = 0; i < env->nr; i++) {
		const char *eq = strchr(env->items[i], '=');
		char *name = xstrndup(env->items[i], eq ? (size_t)(eq - env->items[i]) :
				      strlen(env->items[i]));

		string_list_append(out, name);
		free(name);
	}
}

/* The rows of what only the devcontainer file sets. */
static void config_devcontainer_rows(struct config_out *out, const struct devcontainer *dc)
{
	struct string_list names = STRING_LIST_INIT;

	config_row(out, "devcontainer.file", dc->path, NULL, "found in the worktree");
	env_names(&names, &dc->container_env);
	env_names(&names, &dc->remote_env);
	if (names.nr)
		config_row(out, "devcontainer.env", NULL, &names, dc->path);
	if (dc->user)
		config_row(out, "devcontainer.user", dc->user, NULL, dc->path);
	if (dc->run_args.nr)
		config_row(out, "devcontainer.runArgs", NULL, &dc->run_args, dc->path);
	for (int i = 0; i < DC_COMMANDS_NR; i++)
		if (dc->commands[i]) {
			char *key = xstrfmt("devcontainer.%s", devcontainer_command_keys[i]);

			config_row(out, key, dc->commands[i], NULL, dc->path);
			free(key);
		}
	string_list_clear(&names);
}

/* What config was asked for on its command line. */
struct config_opts {
	const char *profile;
	int json;
};

/* Each setting a new sandbox would get, with where it comes from. */
static void config_print(struct cmd_ctx *ctx, struct settings *set,
			 const struct config_opts *opts)
{
	struct config_out out = { NULL };
	struct devcontainer dc = DEVCONTAINER_INIT;
	struct strbuf origin = STRBUF_INIT;
	int have_dc;

	if (opts->json)
		out.json = cJSON_CreateObject();
	have_dc = config_devcontainer(ctx, set, &dc);
	if (set->profile)
		config_row(&out, "profile", set->profile, NULL,
			   opts->profile ? "command line" : "sand.profile");
	for (const char *const *k = settings_keys; *k; k++) {
		if (!strcmp(*k, "mount") || !strcmp(*k, "envFile") || !strcmp(*k, "dotfiles") ||
		    !strcmp(*k, "publish") || !strcmp(*k, "allow")) {
			struct string_list l = STRING_LIST_INIT;
			const struct string_list *more = NULL;

			settings_get_list(set, *k, NULL, &l, &origin);
			if (!l.nr && !strcmp(*k, "dotfiles"))
				string_list_append(&l, ".gitconfig");
			/* What new adds from the devcontainer file, after. */
			if (have_dc && !strcmp(*k, "publish"))
				more = &dc.ports;
			else if (have_dc && !strcmp(*k, "mount"))
				more = &dc.mounts;
			if (more && more->nr) {
				for (size_t i = 0; i < more->nr; i++)
					string_list_append(&l, more->items[i]);
				if (!strcmp(origin.buf, "default"))
					strbuf_reset(&origin);
				else
					strbuf_addstr(&origin, ", ");
				strbuf_addstr(&origin, dc.path);
			}
			config_row(&out, *k, NULL, &l, origin.buf);
			string_list_clear(&l);
		} else if (have_dc && !strcmp(*k, "image") && (dc.image || dc.has_build)) {
			/* The file's image comes before the settings'. */
			char *built = dc.has_build ? xstrfmt("%s<hash> (built from %s)",
							     DEVCONTAINER_IMAGE_PREFIX,
							     dc.build.dockerfile) : NULL;

			config_row(&out, *k, built ? built : dc.image, NULL, dc.path);
			free(built);
		} else {
			char *v = settings_get(set, *k, NULL, &origin);

			if (!v && !strcmp(*k, "image"))
				v = xstrdup(RUNTIME_DEFAULT_IMAGE);
			else if (!v && !strcmp(*k, "pull"))
				v = xstrdup("missing");
			else if (!v && !strcmp(*k, "devcontainer"))
				v = xstrdup("auto");
			config_row(&out, *k, v, NULL, origin.buf);
			free(v);
		}
	}
	if (have_dc)
		config_devcontainer_rows(&out, &dc);
	if (out.json) {
		char *text = cJSON_Print(out.json);

		printf("%s\n", text);
		free(text);
		cJSON_Delete(out.json);
	}
	devcontainer_clear(&dc);
	strbuf_release(&origin);
}

int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct config_opts opts = { NULL };
	const struct option options[] = {
		OPT_STRING(0, "profile", &opts.profile, "profile",
			   "as with 'git sand new --profile'"),
		OPT_BOOL(0, "json", &opts.json,
			 "print one JSON object, each setting's value and origin"),
		OPT_END(),
	};
	struct settings set;

	argc = parse_options_or_usage(argc, argv, options, config_usage, 0);
	if (argc)
		usage_with_options(config_usage, options);
	if (settings_init(&set, ctx->r.config, opts.profile) < 0)
		die("cannot read the settings");
	config_print(ctx, &set, &opts);
	settings_clear(&set);
	return 0;
}

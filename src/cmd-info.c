/* show: one sandbox in full; config: the settings a new sandbox would get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "hooks.h"
#include "msg.h"
#include "net.h"
#include "ports.h"
#include "settings.h"

#define SHOW_USAGE "git sand show <name>"
#define CONFIG_USAGE "git sand config [--profile <profile>]"

static const char *const show_usage[] = { SHOW_USAGE, NULL };
static const char *const config_usage[] = { CONFIG_USAGE, NULL };

static void line(const char *key, const char *value)
{
	if (value && *value)
		printf("%-10s %s\n", key, value);
}

static void list_line(const char *key, const struct string_list *l)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", l->items[i]);
	line(key, sb.buf);
	strbuf_release(&sb);
}

/* "80/tcp -> 127.0.0.1:8080, ...", and where those addresses are. */
static void ports_line(const struct sandbox *sb)
{
	struct strbuf sb_line = STRBUF_INIT;

	ports_describe_list(&sb_line, &sb->opts.ports, ", ");
	if (sb_line.len && sb->host)
		strbuf_addf(&sb_line, " (on %s)", sb->host);
	line("ports", sb_line.buf);
	strbuf_release(&sb_line);
}

int cmd_show(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = { OPT_END() };
	struct sandbox sb = { 0 };
	struct strbuf clone = STRBUF_INIT;

	argc = parse_options_or_usage(argc, argv, options, show_usage, 0);
	if (argc != 1)
		usage_with_options(show_usage, options);
	ctx_lookup(ctx, argv[0], &sb);
	hooks_mark_orphans(ctx->r.repo, ctx->r.commondir, ctx_store(ctx), &sb, 1);
	sandbox_clone_path(&sb, &clone);
	line("sandbox", sb.name);
	line("id", sb.id);
	line("state", sandbox_state_name(sb.state));
	line("worktree", sb.worktree);
	line("clone", clone.buf);
	line("host", sb.host);
	line("branch", sb.opts.host_branch);
	line("runtime", sb.runtime);
	line("image", sb.image);
	line("container", sb.container);
	line("profile", sb.opts.profile);
	line("agent", sb.opts.agent);
	line("cpus", sb.opts.cpus);
	line("memory", sb.opts.memory);
	line("network", sb.opts.network);
	if (net_is_allow(sb.opts.network)) {
		struct string_list rules = STRING_LIST_INIT;

		/* as it is now: net allow|deny change it */
		if (!net_rules_read(sb.dir, &rules))
			list_line("rules", &rules);
		string_list_clear(&rules);
	}
	list_line("mounts", &sb.opts.mounts);
	ports_line(&sb);
	list_line("env files", &sb.opts.env_files);
	/* Names only: values are never stored, and so never shown. */
	list_line("env", &sb.opts.env_keys);
	list_line("carries", &sb.opts.carried);
	line("ssh-agent", sb.opts.ssh_agent ? "forwarded" : NULL);
	line("orphaned", sb.opts.orphaned ? "yes: its branch was deleted" : NULL);
	sandbox_clear(&sb);
	strbuf_release(&clone);
	return 0;
}

int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *profile = NULL;
	const struct option options[] = {
		OPT_STRING(0, "profile", &profile, "profile", "as with 'git sand new --profile'"),
		OPT_END(),
	};
	struct settings set;
	struct strbuf origin = STRBUF_INIT, value = STRBUF_INIT;

	argc = parse_options_or_usage(argc, argv, options, config_usage, 0);
	if (argc)
		usage_with_options(config_usage, options);
	if (settings_init(&set, ctx->r.config, profile) < 0)
		die("cannot read the settings");
	if (set.profile)
		printf("%-10s %-32s %s\n", "profile", set.profile, profile ? "command line" : "sand.profile");
	for (const char *const *k = settings_keys; *k; k++) {
		strbuf_reset(&value);
		if (!strcmp(*k, "mount") || !strcmp(*k, "envFile") || !strcmp(*k, "dotfiles") ||
		    !strcmp(*k, "publish") || !strcmp(*k, "allow")) {
			struct string_list l = STRING_LIST_INIT;

			settings_get_list(&set, *k, NULL, &l, &origin);
			for (size_t i = 0; i < l.nr; i++)
				strbuf_addf(&value, "%s%s", i ? ", " : "", l.items[i]);
			if (!l.nr && !strcmp(*k, "dotfiles"))
				strbuf_addstr(&value, ".gitconfig");
			string_list_clear(&l);
		} else {
			char *v = settings_get(&set, *k, NULL, &origin);

			if (v)
				strbuf_addstr(&value, v);
			else if (!strcmp(*k, "image"))
				strbuf_addstr(&value, RUNTIME_DEFAULT_IMAGE);
			else if (!strcmp(*k, "pull"))
				strbuf_addstr(&value, "missing");
			free(v);
		}
		printf("%-10s %-32s %s\n", *k, value.len ? value.buf : "-", origin.buf);
	}
	settings_clear(&set);
	strbuf_release(&origin);
	strbuf_release(&value);
	return 0;
}

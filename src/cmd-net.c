/*
 * net: a sandbox's allow-list and its filter's recent decisions, and
 * changes to the list while it runs. net-proxy: the filter itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "msg.h"
#include "net.h"
#include "sandbox-lock.h"
#include "sanitize.h"

#define NET_USAGE "git sand net [--json] [-n <count>] [<name>]"
#define NET_CHANGE_USAGE "git sand net <name> (allow | deny) <host>..."
#define NET_PROXY_USAGE "git sand net-proxy <dir> <name> <pid> <pid-start>"

static const char *const net_usage[] = { NET_USAGE, NET_CHANGE_USAGE, NULL };
static const char *const net_proxy_usage[] = { NET_PROXY_USAGE, NULL };

#define NET_DECISIONS_DEFAULT 20

static void format_time(struct strbuf *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (localtime_r(&tt, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		strbuf_addstr(out, buf);
	else
		strbuf_addf(out, "%lld", (long long)t);
}

static void print_human(const struct sandbox *sb, const struct string_list *rules,
			const struct net_decision *d, size_t nr, long proxy)
{
	struct strbuf t = STRBUF_INIT;

	printf("network    %s", sb->opts.network ? sb->opts.network : "(the runtime's default)");
	if (net_is_allow(sb->opts.network)) {
		if (proxy)
			printf(" (filter running, pid %ld)", proxy);
		else
			printf(" (filter not running: the sandbox is stopped)");
	}
	printf("\n");
	if (!net_is_allow(sb->opts.network))
		goto done;
	printf("\nrules:\n");
	if (!rules->nr)
		printf("\t(none: nothing is allowed)\n");
	for (size_t i = 0; i < rules->nr; i++) {
		const char *r = rules->items[i];

		if (*r == '!')
			printf("\tdeny  %s\n", sanitized(r + 1));
		else
			printf("\tallow %s\n", sanitized(r));
	}
	printf("\nrecent decisions:\n");
	if (!nr)
		printf("\t(none yet)\n");
	for (size_t i = 0; i < nr; i++) {
		strbuf_reset(&t);
		format_time(&t, d[i].time);
		/* one at a time: sanitized() reuses its buffer */
		printf("\t%s  %-7s  %s", t.buf, d[i].allowed ? "allowed" : "refused",
		       sanitized(d[i].host));
		printf(":%d  %s\n", d[i].port, sanitized(d[i].reason));
	}
done:
	strbuf_release(&t);
}

static void print_json(const struct sandbox *sb, const struct string_list *rules,
		       const struct net_decision *d, size_t nr, long proxy)
{
	cJSON *o = cJSON_CreateObject(), *list, *it;
	char *s;

	if (!o)
		die("out of memory");
	cJSON_AddStringToObject(o, "name", sb->name);
	if (sb->opts.network)
		cJSON_AddStringToObject(o, "network", sb->opts.network);
	else
		cJSON_AddNullToObject(o, "network");
	if (net_is_allow(sb->opts.network)) {
		it = cJSON_AddObjectToObject(o, "filter");
		cJSON_AddBoolToObject(it, "running", proxy > 0);
		if (proxy > 0)
			cJSON_AddNumberToObject(it, "pid", (double)proxy);
		list = cJSON_AddArrayToObject(o, "allow");
		for (size_t i = 0; i < rules->nr; i++)
			if (*rules->items[i] != '!')
				cJSON_AddItemToArray(list, cJSON_CreateString(rules->items[i]));
		list = cJSON_AddArrayToObject(o, "deny");
		for (size_t i = 0; i < rules->nr; i++)
			if (*rules->items[i] == '!')
				cJSON_AddItemToArray(list, cJSON_CreateString(rules->items[i] + 1));
		list = cJSON_AddArrayToObject(o, "decisions");
		for (size_t i = 0; i < nr; i++) {
			it = cJSON_CreateObject();
			cJSON_AddNumberToObject(it, "time", (double)d[i].time);
			cJSON_AddStringToObject(it, "decision", d[i].allowed ? "allowed" : "refused");
			cJSON_AddStringToObject(it, "host", d[i].host);
			cJSON_AddNumberToObject(it, "port", d[i].port);
			cJSON_AddStringToObject(it, "reason", d[i].reason);
			cJSON_AddItemToArray(list, it);
		}
	}
	s = cJSON_PrintUnformatted(o);
	if (!s)
		die("out of memory");
	printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}

static int net_show(struct cmd_ctx *ctx, const char *name, int json, int count)
{
	struct string_list rules = STRING_LIST_INIT;
	struct net_decision *d = NULL;
	struct sandbox sb = { 0 };
	size_t nr = 0;
	long proxy = 0;

	ctx_lookup(ctx, name, &sb);
	if (net_is_allow(sb.opts.network)) {
		if (net_rules_read(sb.dir, &rules) < 0 ||
		    net_log_read(sb.dir, (size_t)count, &d, &nr) < 0)
			die("cannot read the network rules of sandbox '%s'", sb.name);
		proxy = net_proxy_running(sb.dir);
	}
	if (json)
		print_json(&sb, &rules, d, nr, proxy);
	else
		print_human(&sb, &rules, d, nr, proxy);
	net_decisions_free(d, nr);
	string_list_clear(&rules);
	sandbox_clear(&sb);
	return 0;
}

static int net_change(struct cmd_ctx *ctx, const char *name, int allow, int argc,
		      const char **argv)
{
	struct string_list rules = STRING_LIST_INIT;
	struct strbuf why = STRBUF_INIT;
	struct sandbox sb = { 0 };
	int lock = -1, changed = 0;

	for (int i = 0; i < argc; i++)
		if (net_rule_check(argv[i], &why) < 0)
			die("invalid rule '%s': %s", argv[i], why.buf);
	ctx_lookup(ctx, name, &sb);
	if (!net_is_allow(sb.opts.network)) {
		error("sandbox '%s' has no allow-list: its network is '%s'", sb.name,
		      sb.opts.network ? sb.opts.network : "the runtime's default");
		hint("make one with 'git sand new --network allow'");
		die("cannot change the rules of sandbox '%s'", sb.name);
	}
	ctx_require_ready(ctx, &sb);
	/* One change at a time: each reads the rules, changes them and writes them. */
	if (sandbox_lock(&sb, &lock) != 0)
		die("cannot change the rules of sandbox '%s'", sb.name);
	if (net_rules_read(sb.dir, &rules) < 0)
		die("cannot read the rules of sandbox '%s'", sb.name);
	for (int i = 0; i < argc; i++)
		changed |= net_rules_change(&rules, argv[i], allow);
	if (changed && net_rules_write(sb.dir, &rules) < 0)
		die("cannot change the rules of sandbox '%s'", sb.name);
	sandbox_unlock(&sb, lock, 0);
	string_list_clear(&rules);
	strbuf_release(&why);
	sandbox_clear(&sb);
	return 0;
}

int cmd_net(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int json = 0, count = NET_DECISIONS_DEFAULT;
	const struct option options[] = {
		OPT_BOOL(0, "json", &json, "JSON output (stable)"),
		OPT_INTEGER('n', "count", &count, "count", "how many recent decisions to show"),
		OPT_END(),
	};

	argc = parse_options_or_usage(argc, argv, options, net_usage, 0);
	if (argc >= 2) {
		int allow = !strcmp(argv[1], "allow");

		if ((!allow && strcmp(argv[1], "deny")) || argc < 3)
			usage_with_options(net_usage, options);
		if (json)
			die("options '--json' and '%s' cannot be used together", argv[1]);
		return net_change(ctx, argv[0], allow, argc - 2, argv + 2);
	}
	if (count < 0)
		die("option '--count' takes a number from 0");
	return net_show(ctx, argc ? argv[0] : NULL, json, count);
}

int cmd_net_proxy(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = { OPT_END() };
	char *end;
	long pid;
	unsigned long long start;

	(void)ctx;
	argc = parse_options_or_usage(argc, argv, options, net_proxy_usage, 0);
	if (argc != 4)
		usage_with_options(net_proxy_usage, options);
	errno = 0;
	pid = strtol(argv[2], &end, 10);
	if (errno || *end || pid <= 0)
		die("invalid pid '%s'", argv[2]);
	start = strtoull(argv[3], &end, 10);
	if (errno || *end || !start)
		die("invalid start time '%s'", argv[3]);
	return net_proxy_main(argv[0], argv[1], pid, start);
}

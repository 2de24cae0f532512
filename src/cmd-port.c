/*
 * port: a sandbox's published ports, listed, added and removed; and the
 * checks "new --publish" shares: no two sandboxes recording one host
 * port, and on this machine, host ports free (chosen where none is given).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "lifecycle.h"
#include "msg.h"
#include "ports.h"
#include "sandbox-lock.h"

#define PORT_USAGE_LIST "git sand port <name> [--json]"
#define PORT_USAGE_ADD "git sand port <name> add <spec>..."
#define PORT_USAGE_RM "git sand port <name> rm <spec>..."

static const char *const port_usage[] = {
	PORT_USAGE_LIST, PORT_USAGE_ADD, PORT_USAGE_RM, NULL
};

/* A chosen host port that clashes with a recorded one is chosen again, this many times. */
#define PORT_CHOOSE_TRIES 16

static int same_host(const struct sandbox *a, const struct sandbox *b)
{
	return a->host ? b->host && !strcmp(a->host, b->host) : !b->host;
}

/* The recorded mappings of every sandbox on that host (NULL: here) but self. */
static int recorded_ports(struct cmd_ctx *ctx, const struct sandbox *self,
			  struct port_map **out, char ***owners, size_t *nr)
{
	struct sandbox *list = NULL;
	struct strbuf why = STRBUF_INIT;
	size_t n = 0, alloc = 0;

	*out = NULL;
	*owners = NULL;
	if (store_list(ctx_store(ctx), NULL, &list, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct sandbox *sb = &list[i];

		if (!strcmp(sb->id, self->id) || !same_host(sb, self))
			continue;
		for (size_t j = 0; j < sb->opts.ports.nr; j++) {
			struct port_map m;

			if (port_spec_parse(&m, sb->opts.ports.items[j], &why) < 0)
				continue; /* said when that sandbox's container is made */
			if (*nr == alloc) {
				alloc = alloc ? 2 * alloc : 8;
				*out = realloc(*out, alloc * sizeof(**out));
				*owners = realloc(*owners, alloc * sizeof(**owners));
				if (!*out || !*owners)
					die("out of memory");
			}
			(*out)[*nr] = m;
			(*owners)[(*nr)++] = xstrfmt("'%s' (of '%s')", sb->name, sb->worktree);
		}
	}
	store_free_list(list, n);
	strbuf_release(&why);
	return 0;
}

/* The first of maps[0..nr) other than skip that clashes with m, or -1. */
static long find_clash(const struct port_map *m, const struct port_map *maps, size_t nr,
		       const struct port_map *skip)
{
	for (size_t i = 0; i < nr; i++)
		if (&maps[i] != skip && port_map_clash(m, &maps[i]))
			return (long)i;
	return -1;
}

static void clash_error(const struct port_map *m, const char *spec, const char *whose)
{
	struct strbuf addr = STRBUF_INIT;

	port_map_address(&addr, m);
	if (whose)
		error("cannot publish '%s': %s/%s is published by sandbox %s", spec, addr.buf,
		      port_proto_name(m->proto), whose);
	else
		error("cannot publish '%s': %s/%s is published twice", spec, addr.buf,
		      port_proto_name(m->proto));
	strbuf_release(&addr);
}

/* Parse the specs into maps; refuse what the sandbox cannot publish. */
static int parse_specs(const struct sandbox *sb, const char *network,
		       const struct string_list *specs, struct port_map *maps)
{
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	if (network && (!strcmp(network, "none") || !strcmp(network, "host") ||
			!strcmp(network, "allow"))) {
		error("cannot publish ports with network '%s'", network);
		hint("give the sandbox a network of its own, e.g. '--network=bridge' with podman");
		goto done;
	}
	for (size_t i = 0; i < specs->nr; i++) {
		if (port_spec_parse(&maps[i], specs->items[i], &why) < 0) {
			error("invalid port '%s': %s", specs->items[i], why.buf);
			goto done;
		}
		if (sb->host && !maps[i].host_port) {
			error("cannot publish '%s': a sandbox on '%s' needs its host port given",
			      specs->items[i], sb->host);
			hint("e.g. '%s:%u:%u'", maps[i].ip, maps[i].container_port,
			     maps[i].container_port);
			goto done;
		}
	}
	ret = 0;
done:
	strbuf_release(&why);
	return ret;
}

/*
 * On this machine: check that the host ports given are free, and choose
 * those not given (the first nr of maps; all of them are the sandbox's,
 * theirs the other sandboxes'). A stopped sandbox holds no port but has
 * one recorded: a chosen port that clashes with one is chosen again.
 */
static int choose_ports(struct port_map *maps, size_t nr, size_t all,
			const struct port_map *theirs, size_t nr_theirs,
			const struct string_list *specs)
{
	struct strbuf why = STRBUF_INIT;
	int *given = xcalloc(nr + 1, sizeof(*given)), ret = -1;

	for (size_t i = 0; i < nr; i++)
		given[i] = maps[i].host_port != 0;
	if (ports_bind_check(maps, nr, &why) < 0) {
		error("cannot publish: %s", why.buf);
		goto done;
	}
	for (size_t i = 0; i < nr; i++) {
		int tries = 0;

		while (!given[i] && (find_clash(&maps[i], theirs, nr_theirs, NULL) >= 0 ||
				     find_clash(&maps[i], maps, all, &maps[i]) >= 0)) {
			maps[i].host_port = 0;
			if (++tries > PORT_CHOOSE_TRIES) {
				error("cannot publish '%s': no free host port found", specs->items[i]);
				goto done;
			}
			if (ports_bind_check(&maps[i], 1, &why) < 0) {
				error("cannot publish '%s': %s", specs->items[i], why.buf);
				goto done;
			}
		}
	}
	ret = 0;
done:
	free(given);
	strbuf_release(&why);
	return ret;
}

int ctx_ports_prepare(struct cmd_ctx *ctx, const struct sandbox *sb, const char *network,
		      const struct string_list *specs, struct string_list *out)
{
	struct port_map *maps = xcalloc(specs->nr + sb->opts.ports.nr + 1, sizeof(*maps));
	struct port_map *theirs = NULL;
	char **owners = NULL;
	struct strbuf why = STRBUF_INIT, spec = STRBUF_INIT;
	size_t nr_theirs = 0, nr = specs->nr, all;
	int ret = -1;

	if (!specs->nr) {
		ret = 0;
		goto done;
	}
	if (parse_specs(sb, network, specs, maps) < 0)
		goto done;
	/* Its own, after the new ones: those are checked against them too. */
	all = nr;
	for (size_t i = 0; i < sb->opts.ports.nr; i++)
		if (!port_spec_parse(&maps[all], sb->opts.ports.items[i], &why))
			all++;
	if (recorded_ports(ctx, sb, &theirs, &owners, &nr_theirs) < 0)
		goto done;
	/* The ports given: a clash is an error, before anything else. */
	for (size_t i = 0; i < nr; i++) {
		long c;

		if (!maps[i].host_port)
			continue;
		if (find_clash(&maps[i], maps, all, &maps[i]) >= 0) {
			clash_error(&maps[i], specs->items[i], NULL);
			goto done;
		}
		if ((c = find_clash(&maps[i], theirs, nr_theirs, NULL)) >= 0) {
			clash_error(&maps[i], specs->items[i], owners[c]);
			goto done;
		}
	}
	/* On this machine: free, and chosen where none is given. */
	if (!sb->host && choose_ports(maps, nr, all, theirs, nr_theirs, specs) < 0)
		goto done;
	for (size_t i = 0; i < nr; i++) {
		strbuf_reset(&spec);
		port_map_format(&spec, &maps[i]);
		string_list_append(out, spec.buf);
	}
	ret = 0;
done:
	for (size_t i = 0; i < nr_theirs; i++)
		free(owners[i]);
	free(owners);
	free(theirs);
	free(maps);
	strbuf_release(&why);
	strbuf_release(&spec);
	return ret;
}

/* "port <name> add|rm": what to do, parsed. */
enum port_action { PORT_LIST, PORT_ADD, PORT_RM };

struct port_opts {
	const char *name;
	enum port_action action;
	int json;
	struct string_list specs;
};

static void parse_port(int argc, const char **argv, struct port_opts *o)
{
	const struct option options[] = {
		OPT_BOOL(0, "json", &o->json, "JSON output (stable)"),
		OPT_END(),
	};

	argc = parse_options_or_usage(argc, argv, options, port_usage, 0);
	if (argc < 1)
		usage_with_options(port_usage, options);
	o->name = argv[0];
	if (argc == 1) {
		o->action = PORT_LIST;
		return;
	}
	if (!strcmp(argv[1], "add")) {
		o->action = PORT_ADD;
	} else if (!strcmp(argv[1], "rm")) {
		o->action = PORT_RM;
	} else {
		error("unknown subcommand: '%s'", argv[1]);
		usage_with_options(port_usage, options);
	}
	if (argc < 3)
		usage_with_options(port_usage, options);
	if (o->json)
		die("option '--json' is only for listing the ports");
	for (int i = 2; i < argc; i++)
		string_list_append(&o->specs, argv[i]);
}

static void print_ports(const struct sandbox *sb, int json)
{
	struct strbuf line = STRBUF_INIT, why = STRBUF_INIT;
	cJSON *arr = json ? cJSON_CreateArray() : NULL;

	for (size_t i = 0; i < sb->opts.ports.nr; i++) {
		struct port_map m;

		if (port_spec_parse(&m, sb->opts.ports.items[i], &why) < 0)
			continue;
		if (arr) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddNumberToObject(o, "port", m.container_port);
			cJSON_AddStringToObject(o, "protocol", port_proto_name(m.proto));
			cJSON_AddStringToObject(o, "host_ip", m.ip);
			cJSON_AddNumberToObject(o, "host_port", m.host_port);
			if (sb->host)
				cJSON_AddStringToObject(o, "host", sb->host);
			else
				cJSON_AddNullToObject(o, "host");
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		strbuf_reset(&line);
		port_map_describe(&line, &m);
		if (sb->host)
			strbuf_addf(&line, " on %s", sb->host);
		puts(line.buf);
	}
	if (arr) {
		char *s = cJSON_Print(arr);

		if (!s)
			die("out of memory");
		puts(s);
		cJSON_free(s);
		cJSON_Delete(arr);
	} else if (sb->host && sb->opts.ports.nr) {
		fflush(stdout);
		hint("these addresses are on '%s', not on this machine: reach them there, "
		     "or from here with 'git sand forward %s <port>'", sb->host, sb->name);
	}
	strbuf_release(&line);
	strbuf_release(&why);
}

/* rm: take out every mapping a spec names; each spec must name one. */
static int remove_ports(struct sandbox *sb, const struct string_list *specs)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < specs->nr && !ret; i++) {
		struct port_map spec;
		size_t kept = 0, nr = sb->opts.ports.nr;

		if (port_spec_parse(&spec, specs->items[i], &why) < 0) {
			ret = error("invalid port '%s': %s", specs->items[i], why.buf);
			break;
		}
		for (size_t j = 0; j < nr; j++) {
			struct port_map m;
			char *item = sb->opts.ports.items[j];

			if (!port_spec_parse(&m, item, &why) && port_map_matches(&m, &spec)) {
				free(item);
				continue;
			}
			sb->opts.ports.items[kept++] = item;
		}
		sb->opts.ports.nr = kept;
		if (kept == nr)
			ret = error("sandbox '%s' publishes no port that matches '%s'", sb->name,
				    specs->items[i]);
	}
	strbuf_release(&why);
	return ret;
}

/*
 * The runtimes publish ports only when a container is made: make it
 * again, from the same workspace, and start it if it ran.
 */
static int recreate_container(struct cmd_ctx *ctx, struct runtime *rt, struct sandbox *sb)
{
	struct container_info ci = { 0 };
	int found, running, ret = -1;

	found = sb->container ? rt->ops->inspect(rt, sb->container, &ci) : RUNTIME_NOT_FOUND;
	if (found < 0)
		goto done;
	running = !found && ci.state == CONTAINER_RUNNING;
	if (running)
		warning("the container of sandbox '%s' is made again to change its ports: "
			"the processes running in it stop, its files stay", sb->name);
	signals_hold(1);
	if (!found && rt->ops->remove(rt, sb->container) < 0) {
		signals_hold(0);
		goto done;
	}
	sb->opts.pid = 0;
	sb->opts.pid_start = 0;
	if (sandbox_create_container(rt, ctx->root.buf, sb) < 0 || store_update(ctx->store, sb) < 0) {
		signals_hold(0);
		goto done;
	}
	signals_hold(0);
	if (running && sandbox_ensure_running(rt, ctx->store, ctx->root.buf, sb, NULL) < 0)
		goto done;
	ret = 0;
done:
	container_info_clear(&ci);
	return ret;
}

static int change_ports(struct cmd_ctx *ctx, struct sandbox *sb, const struct port_opts *o)
{
	struct string_list added = STRING_LIST_INIT;
	struct sandbox fresh = { 0 };
	struct runtime rt;
	int have_rt = 0, fd = -1, lock, ret = -1;

	lock = sandbox_lock(sb, &fd);
	if (lock) {
		if (lock > 0)
			error("sandbox '%s' is being changed by another command", sb->name);
		goto done;
	}
	/* What another command changed before we held the lock counts. */
	if (store_get_by_id(ctx_store(ctx), sb->id, &fresh) != 0) {
		error("sandbox '%s' is gone", sb->name);
		goto done;
	}
	sandbox_clear(sb);
	*sb = fresh;
	if (ctx_sandbox_runtime(ctx, &rt, sb) < 0)
		goto done;
	have_rt = 1;
	if (o->action == PORT_ADD) {
		if (ctx_ports_prepare(ctx, sb, sb->opts.network, &o->specs, &added) < 0)
			goto done;
		for (size_t i = 0; i < added.nr; i++)
			string_list_append(&sb->opts.ports, added.items[i]);
	} else if (remove_ports(sb, &o->specs) < 0) {
		goto done;
	}
	cleanup_install_signals();
	if (recreate_container(ctx, &rt, sb) < 0) {
		error("could not make the container of sandbox '%s' again", sb->name);
		goto done;
	}
	ret = 0;
done:
	if (fd >= 0)
		sandbox_unlock(sb, fd, 1);
	if (have_rt)
		runtime_clear(&rt);
	string_list_clear(&added);
	return ret;
}

int cmd_port(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct port_opts o = { .specs = STRING_LIST_INIT };
	struct sandbox sb = { 0 };
	int ret = 0;

	parse_port(argc, argv, &o);
	ctx_lookup(ctx, o.name, &sb);
	if (o.action != PORT_LIST) {
		ctx_require_ready(ctx, &sb);
		if (change_ports(ctx, &sb, &o) < 0)
			ret = EXIT_FATAL;
		if (cleanup_signalled())
			die("interrupted");
	}
	if (!ret)
		print_ports(&sb, o.json);
	sandbox_clear(&sb);
	string_list_clear(&o.specs);
	return ret;
}

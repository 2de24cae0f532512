/*
 * forward: reach a port that a sandbox on an SSH host publishes there
 * from this machine, through the SSH connection git-sand already makes
 * (as 'ssh -L' would), until ^C.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"
#include "msg.h"
#include "ports.h"
#include "ssh.h"

#define FORWARD_USAGE "git sand forward <name> [<ip>:][<local-port>:]<port>[/tcp]"

static const char *const forward_usage[] = { FORWARD_USAGE, NULL };

struct forward_opts {
	const char *name, *spec;
	struct port_map local;	/* ip and host_port: this machine's end (0: the same port) */
};

static void parse_forward(int argc, const char **argv, struct forward_opts *o)
{
	const struct option options[] = { OPT_END() };
	struct strbuf why = STRBUF_INIT;

	argc = parse_options_or_usage(argc, argv, options, forward_usage, 0);
	if (argc != 2)
		usage_with_options(forward_usage, options);
	o->name = argv[0];
	o->spec = argv[1];
	if (port_spec_parse(&o->local, o->spec, &why) < 0)
		die("invalid port '%s': %s", o->spec, why.buf);
	if (o->local.proto != PORT_TCP)
		die("cannot forward '%s': SSH forwards TCP ports only", o->spec);
	strbuf_release(&why);
}

/* The sandbox's mapping of the port forwarded; 0, or -1 when it publishes none. */
static int find_mapping(const struct sandbox *sb, const struct port_map *want, struct port_map *out)
{
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	for (size_t i = 0; ret && i < sb->opts.ports.nr; i++)
		if (!port_spec_parse(out, sb->opts.ports.items[i], &why) &&
		    out->container_port == want->container_port && out->proto == want->proto)
			ret = 0;
	strbuf_release(&why);
	return ret;
}

/* A socket listening on ip:port here; -1 with a message. */
static int listen_on(const struct port_map *local)
{
	struct strbuf addr = STRBUF_INIT;
	unsigned port;
	int fd = port_map_bind(local, &port), e;

	if (fd >= 0 && !listen(fd, 16))
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	port_map_address(&addr, local);
	error("cannot listen on %s: %s", addr.buf, strerror(e));
	if (e == EADDRINUSE)
		hint("give another port of this machine: 'git sand forward <name> "
		     "<local-port>:%u'", local->container_port);
	strbuf_release(&addr);
	return -1;
}

static int forward(struct cmd_ctx *ctx, const struct sandbox *sb, struct forward_opts *o)
{
	struct port_map there;
	struct strbuf here = STRBUF_INIT, far = STRBUF_INIT;
	struct ssh_conn *conn = NULL;
	const char *target;
	int fd = -1, ret = -1;

	if (find_mapping(sb, &o->local, &there) < 0) {
		error("sandbox '%s' publishes no port %u/tcp", sb->name, o->local.container_port);
		hint("publish it with 'git sand port %s add %u'", sb->name, o->local.container_port);
		goto done;
	}
	port_map_address(&far, &there);
	if (!sb->host) {
		error("sandbox '%s' is on this machine: its port %u/tcp is reached at %s", sb->name,
		      there.container_port, far.buf);
		goto done;
	}
	if (!o->local.host_port)
		o->local.host_port = there.host_port;
	/* What the host connects to: its own end of the mapping. */
	target = !strcmp(there.ip, "0.0.0.0") ? "127.0.0.1" : !strcmp(there.ip, "::") ? "::1" :
		 there.ip;
	/* The port here first: it is quicker to find taken than a host to reach. */
	if ((fd = listen_on(&o->local)) < 0)
		goto done;
	if (ctx_ssh_connect(ctx, sb->host, 0, &conn) < 0) {
		error("cannot reach '%s', the host of sandbox '%s'", sb->host, sb->name);
		goto done;
	}
	port_map_address(&here, &o->local);
	fprintf(stderr, "Forwarding %s to port %u/tcp of sandbox '%s' (%s on %s); ^C stops\n",
		here.buf, there.container_port, sb->name, far.buf, sb->host);
	cleanup_install_signals();
	ret = ssh_forward(conn, fd, target, there.host_port, cleanup_signalled);
done:
	if (fd >= 0)
		close(fd);
	if (conn)
		ssh_close(conn);
	strbuf_release(&here);
	strbuf_release(&far);
	return ret;
}

int cmd_forward(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct forward_opts o = { 0 };
	struct sandbox sb = { 0 };
	int ret;

	parse_forward(argc, argv, &o);
	ctx_lookup(ctx, o.name, &sb);
	ctx_require_ready(ctx, &sb);
	ret = forward(ctx, &sb, &o);
	sandbox_clear(&sb);
	if (ret < 0)
		die("cannot forward port '%s' of sandbox '%s'", o.spec, o.name);
	return 0;
}

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ports.h"

const char *port_proto_name(enum port_proto proto)
{
	return proto == PORT_UDP ? "udp" : "tcp";
}

/* A port number: 1 to 65535, decimal digits only. */
static int parse_port(const char *s, size_t len, const char *what, unsigned *out,
		      struct strbuf *why)
{
	unsigned long v = 0;

	if (!len) {
		strbuf_addf(why, "no %s", what);
		return -1;
	}
	if (memchr(s, '-', len)) {
		strbuf_addstr(why, "port ranges are not supported: publish each port on its own");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			strbuf_addf(why, "'%.*s' is not a %s", (int)len, s, what);
			return -1;
		}
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (!v) {
		strbuf_addf(why, "%s 0 is not a port", what);
		if (!strcmp(what, "host port"))
			strbuf_addstr(why, " (leave it out to have one chosen)");
		return -1;
	}
	if (v > 65535) {
		strbuf_addf(why, "%s '%.*s' is out of range (1-65535)", what, (int)len, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* A numeric address, stored in its canonical form. */
static int parse_ip(const char *s, size_t len, int v6, struct port_map *out, struct strbuf *why)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char *ip = xstrndup(s, len);
	int family = v6 ? AF_INET6 : AF_INET, ret = 0;

	if (!len) {
		strbuf_addstr(why, "empty host address");
		ret = -1;
	} else if (inet_pton(family, ip, addr) != 1 ||
		   !inet_ntop(family, addr, out->ip, sizeof(out->ip))) {
		strbuf_addf(why, "'%s' is not an IPv%d address", ip, v6 ? 6 : 4);
		ret = -1;
	} else {
		out->ip_given = 1;
	}
	free(ip);
	return ret;
}

static int looks_ipv4(const char *s, size_t len)
{
	return len && memchr(s, '.', len) != NULL;
}

int port_spec_parse(struct port_map *out, const char *spec, struct strbuf *why)
{
	const char *slash = strrchr(spec, '/'), *p = spec, *end, *colon, *colon2;
	struct port_map m = { .proto = PORT_TCP };

	strbuf_reset(why);
	end = slash ? slash : spec + strlen(spec);
	if (slash) {
		if (!strcmp(slash + 1, "tcp")) {
			m.proto = PORT_TCP;
		} else if (!strcmp(slash + 1, "udp")) {
			m.proto = PORT_UDP;
		} else {
			strbuf_addf(why, "unknown protocol '%s' (tcp or udp)", slash + 1);
			return -1;
		}
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (!close) {
			strbuf_addstr(why, "no ']' after the IPv6 address");
			return -1;
		}
		if (parse_ip(p + 1, (size_t)(close - p - 1), 1, &m, why) < 0)
			return -1;
		if (close + 1 >= end || close[1] != ':') {
			strbuf_addstr(why, "no container port after the address");
			return -1;
		}
		p = close + 2;
		/* What follows: [<host-port>:]<container-port>. */
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			strbuf_addstr(why, "too many ':'");
			return -1;
		}
		if (colon) {
			if (colon > p && parse_port(p, (size_t)(colon - p), "host port",
						    &m.host_port, why) < 0)
				return -1;
			p = colon + 1;
		}
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		colon2 = colon ? memchr(colon + 1, ':', (size_t)(end - colon - 1)) : NULL;
		if (colon2 && memchr(colon2 + 1, ':', (size_t)(end - colon2 - 1))) {
			strbuf_addstr(why, "an IPv6 address goes in brackets, as in '[::1]:8080:80'");
			return -1;
		}
		if (colon2) {
			/* <ip>:[<host-port>]:<container-port> */
			if (parse_ip(p, (size_t)(colon - p), 0, &m, why) < 0)
				return -1;
			if (colon2 > colon + 1 &&
			    parse_port(colon + 1, (size_t)(colon2 - colon - 1), "host port",
				       &m.host_port, why) < 0)
				return -1;
			p = colon2 + 1;
		} else if (colon && looks_ipv4(p, (size_t)(colon - p))) {
			/* <ip>:<container-port>: the host port is chosen. */
			if (parse_ip(p, (size_t)(colon - p), 0, &m, why) < 0)
				return -1;
			p = colon + 1;
		} else if (colon) {
			if (colon > p && parse_port(p, (size_t)(colon - p), "host port",
						    &m.host_port, why) < 0)
				return -1;
			p = colon + 1;
		}
	}
	if (parse_port(p, (size_t)(end - p), "container port", &m.container_port, why) < 0)
		return -1;
	if (!m.ip_given)
		strcpy(m.ip, PORT_DEFAULT_IP);
	*out = m;
	return 0;
}

void port_map_address(struct strbuf *out, const struct port_map *m)
{
	if (strchr(m->ip, ':'))
		strbuf_addf(out, "[%s]", m->ip);
	else
		strbuf_addstr(out, m->ip);
	strbuf_addch(out, ':');
	if (m->host_port)
		strbuf_addf(out, "%u", m->host_port);
}

void port_map_format(struct strbuf *out, const struct port_map *m)
{
	port_map_address(out, m);
	strbuf_addf(out, ":%u/%s", m->container_port, port_proto_name(m->proto));
}

void port_map_describe(struct strbuf *out, const struct port_map *m)
{
	strbuf_addf(out, "%u/%s -> ", m->container_port, port_proto_name(m->proto));
	port_map_address(out, m);
}

void ports_describe_list(struct strbuf *out, const struct string_list *stored, const char *sep)
{
	struct strbuf why = STRBUF_INIT;
	size_t start = out->len;

	for (size_t i = 0; i < stored->nr; i++) {
		struct port_map m;

		if (port_spec_parse(&m, stored->items[i], &why) < 0)
			continue;
		if (out->len > start)
			strbuf_addstr(out, sep);
		port_map_describe(out, &m);
	}
	strbuf_release(&why);
}

static int is_wildcard(const char *ip)
{
	return !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::");
}

int port_map_clash(const struct port_map *a, const struct port_map *b)
{
	if (a->proto != b->proto || !a->host_port || a->host_port != b->host_port)
		return 0;
	return !strcmp(a->ip, b->ip) || is_wildcard(a->ip) || is_wildcard(b->ip);
}

int port_map_matches(const struct port_map *m, const struct port_map *spec)
{
	return m->container_port == spec->container_port && m->proto == spec->proto &&
	       (!spec->host_port || m->host_port == spec->host_port) &&
	       (!spec->ip_given || !strcmp(m->ip, spec->ip));
}

int port_map_bind(const struct port_map *m, unsigned *port_out)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int v6 = strchr(m->ip, ':') != NULL, one = 1, fd, saved;

	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)m->host_port);
		if (inet_pton(AF_INET6, m->ip, &sin6->sin6_addr) != 1)
			return errno = EINVAL, -1;
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)m->host_port);
		if (inet_pton(AF_INET, m->ip, &sin->sin_addr) != 1)
			return errno = EINVAL, -1;
		len = sizeof(*sin);
	}
	fd = socket(v6 ? AF_INET6 : AF_INET,
		    (m->proto == PORT_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A port a closed connection still waits on is free to listen on. */
	if (m->proto == PORT_TCP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*port_out = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			  ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

int ports_bind_check(struct port_map *maps, size_t nr, struct strbuf *why)
{
	int *fds = xcalloc(nr ? nr : 1, sizeof(*fds)), ret = 0;
	size_t held = 0;

	strbuf_reset(why);
	for (size_t i = 0; i < nr; i++) {
		unsigned port = 0;
		int fd = port_map_bind(&maps[i], &port);

		if (fd < 0) {
			struct strbuf addr = STRBUF_INIT;

			port_map_address(&addr, &maps[i]);
			if (!maps[i].host_port)
				strbuf_addstr(&addr, "0");
			if (errno == EADDRINUSE)
				strbuf_addf(why, "%s/%s is already in use on this machine", addr.buf,
					    port_proto_name(maps[i].proto));
			else
				strbuf_addf(why, "cannot bind %s/%s: %s", addr.buf,
					    port_proto_name(maps[i].proto), strerror(errno));
			strbuf_release(&addr);
			ret = -1;
			break;
		}
		fds[held++] = fd;
		if (!maps[i].host_port)
			maps[i].host_port = port;
	}
	for (size_t i = 0; i < held; i++)
		close(fds[i]);
	free(fds);
	return ret;
}

#ifndef PORTS_H
#define PORTS_H

#include <stddef.h>

#include "strbuf.h"
#include "string-list.h"

/*
 * Published ports: a port of the container reached at an address and
 * port of the machine it runs on. A spec is written as
 *
 *   [<ip>:][<host-port>:]<container-port>[/tcp|/udp]
 *
 * with an IPv6 address in brackets ("[::1]:8080:80"). The address is
 * 127.0.0.1 unless one is given (0.0.0.0 or "[::]" for every interface,
 * only when asked); a host port left out (or empty, "127.0.0.1::80") is
 * chosen when the sandbox is made, so that what is recorded is always
 * the whole mapping. Ranges ("8000-8010") are refused: each port is
 * published on its own, so that each can be listed and removed.
 */
enum port_proto {
	PORT_TCP,
	PORT_UDP,
};

struct port_map {
	char ip[64];		/* numeric, canonical (inet_ntop), no brackets */
	unsigned host_port;	/* 0 until chosen */
	unsigned container_port;
	enum port_proto proto;
	int ip_given;		/* the spec named the address */
};

#define PORT_DEFAULT_IP "127.0.0.1"

const char *port_proto_name(enum port_proto proto);

/* Parse a spec. 0, or -1 with the reason in why (the spec not quoted). */
int port_spec_parse(struct port_map *out, const char *spec, struct strbuf *why);
/* As stored and passed to the runtime: "127.0.0.1:8080:80/tcp", "[::1]::80/udp". */
void port_map_format(struct strbuf *out, const struct port_map *m);
/* For people: "80/tcp -> 127.0.0.1:8080". */
void port_map_describe(struct strbuf *out, const struct port_map *m);
/* The stored mappings, each described, separated by sep (those that do not parse left out). */
void ports_describe_list(struct strbuf *out, const struct string_list *stored, const char *sep);
/* "127.0.0.1:8080", "[::1]:8080": the host's end. */
void port_map_address(struct strbuf *out, const struct port_map *m);

/* Whether two mappings would want the same host port (same protocol, overlapping addresses). */
int port_map_clash(const struct port_map *a, const struct port_map *b);
/*
 * Whether a spec given to "port rm" names the mapping: the same
 * container port and protocol, and the address and host port when the
 * spec gives them.
 */
int port_map_matches(const struct port_map *m, const struct port_map *spec);

/*
 * Bind a socket to the mapping's address and host port (0: any), on this
 * machine; the port it got in *port_out. The socket, or -1 with errno.
 */
int port_map_bind(const struct port_map *m, unsigned *port_out);

/*
 * On this machine: choose a free host port for every mapping that has
 * none, by binding its address with port 0 and reading back the port the
 * system gave (all of them held until every one is chosen, so that no
 * two get the same); and check that the others are free. 0, or -1 with
 * the reason in why, naming the address that is taken.
 */
int ports_bind_check(struct port_map *maps, size_t nr, struct strbuf *why);

#endif

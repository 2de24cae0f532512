/* Published port specs: every form that parses, every one refused, and choosing a port. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ports.h"
#include "unit.h"

/* spec parses, and is stored as expect. */
static void parses(const char *spec, const char *expect)
{
	struct port_map m;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;

	if (check_int(port_spec_parse(&m, spec, &why), ==, 0, "'%s' parses (%s)", spec, why.buf)) {
		port_map_format(&out, &m);
		check_str(out.buf, expect, "'%s' is stored as '%s'", spec, expect);
	}
	strbuf_release(&why);
	strbuf_release(&out);
}

/* spec is refused, with a reason that contains reason. */
static void refused(const char *spec, const char *reason)
{
	struct port_map m;
	struct strbuf why = STRBUF_INIT;

	check_int(port_spec_parse(&m, spec, &why), ==, -1, "'%s' is refused", spec);
	TEST(strstr(why.buf, reason), "'%s': the reason '%s' says '%s'", spec, why.buf, reason);
	strbuf_release(&why);
}

static void describes(const char *spec, const char *expect)
{
	struct port_map m;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;

	port_spec_parse(&m, spec, &why);
	port_map_describe(&out, &m);
	check_str(out.buf, expect, "'%s' is shown as '%s'", spec, expect);
	strbuf_release(&why);
	strbuf_release(&out);
}

static int clash(const char *a, const char *b)
{
	struct port_map ma, mb;
	struct strbuf why = STRBUF_INIT;

	port_spec_parse(&ma, a, &why);
	port_spec_parse(&mb, b, &why);
	strbuf_release(&why);
	return port_map_clash(&ma, &mb);
}

static int matches(const char *mapping, const char *spec)
{
	struct port_map m, s;
	struct strbuf why = STRBUF_INIT;

	port_spec_parse(&m, mapping, &why);
	port_spec_parse(&s, spec, &why);
	strbuf_release(&why);
	return port_map_matches(&m, &s);
}

static void choosing(void)
{
	struct port_map maps[3];
	struct strbuf why = STRBUF_INIT;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd;

	port_spec_parse(&maps[0], "80", &why);
	port_spec_parse(&maps[1], "81", &why);
	port_spec_parse(&maps[2], "53/udp", &why);
	check_int(ports_bind_check(maps, 3, &why), ==, 0, "free ports are chosen (%s)", why.buf);
	TEST(maps[0].host_port && maps[1].host_port && maps[2].host_port, "each got one");
	TEST(maps[0].host_port != maps[1].host_port, "no two the same");

	/* A port something listens on is named as taken. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		unit_skip("cannot listen on 127.0.0.1");
	} else {
		maps[0].host_port = ntohs(sin.sin_port);
		check_int(ports_bind_check(maps, 1, &why), ==, -1, "a port in use is refused");
		TEST(strstr(why.buf, "already in use"), "and said so: %s", why.buf);
	}
	if (fd >= 0)
		close(fd);
	strbuf_release(&why);
}

int main(void)
{
	parses("80", "127.0.0.1::80/tcp");
	parses("80/tcp", "127.0.0.1::80/tcp");
	parses("53/udp", "127.0.0.1::53/udp");
	parses("8080:80", "127.0.0.1:8080:80/tcp");
	parses(":80", "127.0.0.1::80/tcp");
	parses("127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp");
	parses("127.0.0.1::80/udp", "127.0.0.1::80/udp");
	parses("127.0.0.2:80", "127.0.0.2::80/tcp");
	parses("0.0.0.0:8080:80", "0.0.0.0:8080:80/tcp");
	parses("[::1]:8080:80", "[::1]:8080:80/tcp");
	parses("[::1]::80/udp", "[::1]::80/udp");
	parses("[::1]:80", "[::1]::80/tcp");
	parses("[0:0::1]:8080:80", "[::1]:8080:80/tcp");
	parses("[::]:8080:80", "[::]:8080:80/tcp");
	parses("65535:1", "127.0.0.1:65535:1/tcp");

	refused("", "no container port");
	refused("/tcp", "no container port");
	refused("0", "container port 0 is not a port");
	refused("65536", "out of range (1-65535)");
	refused("99999999999999999999", "out of range");
	refused("0:80", "host port 0 is not a port (leave it out");
	refused("65536:80", "host port '65536' is out of range");
	refused("80/sctp", "unknown protocol 'sctp' (tcp or udp)");
	refused("80/TCP", "unknown protocol");
	refused("80/", "unknown protocol");
	refused("8000-8010", "port ranges are not supported");
	refused("8000-8010:8000-8010", "port ranges are not supported");
	refused("http", "'http' is not a container port");
	refused("+80", "is not a container port");
	refused("80:", "no container port");
	refused("localhost:8080:80", "'localhost' is not an IPv4 address");
	refused("127.0.0.1:", "no container port");
	refused("1.2.3:80", "'1.2.3' is not an IPv4 address");
	refused("::1:8080:80", "IPv6 address goes in brackets");
	refused("::80", "empty host address");
	refused("[::1:8080:80", "no ']'");
	refused("[::1]", "no container port after the address");
	refused("[::1]8080:80", "no container port after the address");
	refused("[1.2.3.4]:80", "not an IPv6 address");
	refused("[::1]:1:2:3", "too many ':'");
	refused("a:b:c", "'a' is not an IPv4 address");
	refused("1:2:3:4", "IPv6 address goes in brackets");

	describes("127.0.0.1:8080:80", "80/tcp -> 127.0.0.1:8080");
	describes("[::1]:8080:53/udp", "53/udp -> [::1]:8080");

	TEST(clash("8080:80", "8080:81"), "the same host port clashes");
	TEST(!clash("8080:80", "8080:80/udp"), "not across protocols");
	TEST(!clash("8080:80", "127.0.0.2:8080:80"), "not across addresses");
	TEST(clash("0.0.0.0:8080:80", "127.0.0.2:8080:80"), "every interface covers each");
	TEST(!clash("80", "80"), "ports not chosen yet do not");

	TEST(matches("127.0.0.1:8080:80/tcp", "80"), "rm by the container port");
	TEST(matches("127.0.0.1:8080:80/tcp", "8080:80"), "rm by both ports");
	TEST(!matches("127.0.0.1:8080:80/tcp", "8081:80"), "not another host port");
	TEST(!matches("127.0.0.1:8080:80/tcp", "80/udp"), "not another protocol");
	TEST(!matches("0.0.0.0:8080:80/tcp", "127.0.0.1::80"), "not another address, when given");

	choosing();
	return unit_done();
}

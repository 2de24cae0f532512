/* Network allow-lists: which rules are taken, what they allow, how they change. */
#include <string.h>

#include "net.h"
#include "unit.h"

static void rule_ok(const char *rule)
{
	struct strbuf why = STRBUF_INIT;

	check_int(net_rule_check(rule, &why), ==, 0, "'%s' is a rule (%s)", rule, why.buf);
	strbuf_release(&why);
}

static void rule_refused(const char *rule, const char *reason)
{
	struct strbuf why = STRBUF_INIT;

	check_int(net_rule_check(rule, &why), ==, -1, "'%s' is refused", rule);
	TEST(strstr(why.buf, reason), "'%s': the reason '%s' says '%s'", rule, why.buf, reason);
	strbuf_release(&why);
}

/* rules (a NULL-terminated list): host:port gets expect, reason containing what. */
static void decides(const char *const *rules, const char *host, int port, int expect,
		    const char *what)
{
	struct string_list l = STRING_LIST_INIT;
	struct strbuf reason = STRBUF_INIT;

	for (; *rules; rules++)
		string_list_append(&l, *rules);
	check_int(net_decide(&l, host, port, &reason), ==, expect, "%s:%d is %s (%s)", host,
		  port, expect ? "allowed" : "refused", reason.buf);
	TEST(strstr(reason.buf, what), "%s:%d: the reason '%s' says '%s'", host, port,
	     reason.buf, what);
	string_list_clear(&l);
	strbuf_release(&reason);
}

static void joined(const struct string_list *l, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", l->items[i]);
	check_str(sb.buf, expect, "the rules are '%s'", expect);
	strbuf_release(&sb);
}

int main(void)
{
	static const char *const rules[] = {
		"example.com", "api.example.org:8443", "*.cdn.example.net", "@npm",
		"!bad.cdn.example.net", NULL
	};
	struct string_list l = STRING_LIST_INIT;

	rule_ok("example.com");
	rule_ok("Example.COM.");
	rule_ok("example.com:8080");
	rule_ok("*.example.com");
	rule_ok("@claude");
	rule_ok("!@github");
	rule_ok("!host.example");
	rule_refused("1.2.3.4", "an IP address");
	rule_refused("127.1", "an IP address");
	rule_refused("0x7f000001", "an IP address");
	rule_refused("[::1]", "an IP address");
	rule_refused("::1", "");
	rule_refused("example.com:0", "port");
	rule_refused("example.com:65536", "port");
	rule_refused("example.com:http", "port");
	rule_refused("@nosuch", "no set");
	rule_refused("exa mple.com", "not a host name");
	rule_refused("a..b", "not a host name");
	rule_refused("", "not a host name");
	rule_refused("*.", "not a host name");

	decides(rules, "example.com", 443, 1, "allowed by 'example.com'");
	decides(rules, "EXAMPLE.com.", 80, 1, "example.com");
	decides(rules, "example.com", 8080, 0, "port 8080 is not allowed");
	decides(rules, "www.example.com", 443, 0, "not in the rules");
	decides(rules, "api.example.org", 8443, 1, "api.example.org:8443");
	decides(rules, "api.example.org", 443, 0, "port 443 is not allowed");
	decides(rules, "a.cdn.example.net", 443, 1, "*.cdn.example.net");
	decides(rules, "a.b.cdn.example.net", 443, 1, "*.cdn.example.net");
	decides(rules, "cdn.example.net", 443, 0, "not in the rules");
	decides(rules, "xcdn.example.net", 443, 0, "not in the rules");
	decides(rules, "bad.cdn.example.net", 443, 0, "denied");
	decides(rules, "registry.npmjs.org", 443, 1, "'@npm' (registry.npmjs.org)");
	decides(rules, "127.0.0.1", 443, 0, "an IP address");
	decides(rules, "2130706433", 443, 0, "an IP address");
	decides(rules, "[::1]", 443, 0, "an IP address");
	decides(rules, "example.com/x", 443, 0, "not a host name");

	check_int(net_rules_change(&l, "Example.com", 1), ==, 1, "allow adds");
	check_int(net_rules_change(&l, "example.com", 1), ==, 0, "allow again changes nothing");
	check_int(net_rules_change(&l, "*.example.com", 1), ==, 1, "a wildcard is added");
	check_int(net_rules_change(&l, "example.com", 0), ==, 1, "deny drops it");
	joined(&l, "*.example.com");
	check_int(net_rules_change(&l, "a.example.com", 0), ==, 1,
		  "deny of a host a wildcard allows adds a denial");
	joined(&l, "*.example.com !a.example.com");
	check_int(net_rules_change(&l, "a.example.com", 1), ==, 1, "allow lifts the denial");
	joined(&l, "*.example.com a.example.com");
	check_int(net_rules_change(&l, "@npm", 1), ==, 1, "a set is added");
	check_int(net_rules_change(&l, "@npm", 0), ==, 1, "and dropped");
	check_int(net_rules_change(&l, "nothere.org", 0), ==, 0, "deny of a host never allowed");
	string_list_clear(&l);
	return unit_done();
}

#ifndef NET_H
#define NET_H

#include <stdint.h>

#include "strbuf.h"
#include "string-list.h"

struct sandbox;

/*
 * Network allow-lists (--network allow): the sandbox's container gets no
 * network but its loopback; a filtering proxy of ours (git sand
 * net-proxy, see net-proxy.c) listens on that loopback, at
 * NET_PROXY_PORT, and dials out from the host's network only to the
 * names the rules allow. Its files live in "<sandbox dir>/net/": the
 * rules, its pid file and its log of decisions. None of them is in the
 * container's reach.
 */

/* The network mode that asks for it. */
#define NET_ALLOW_MODE "allow"
/* Where the proxy listens inside the container (127.0.0.1 and [::1]). */
#define NET_PROXY_PORT 3128
/*
 * A test hook, read from the environment only: a file in /etc/hosts'
 * form that the proxy consults before the host's resolver, so that tests
 * can give names to servers on 127.0.0.1 without editing /etc/hosts.
 */
#define NET_HOSTS_ENV "GIT_SAND_NET_HOSTS"

/* What the container's environment gets: the proxy variables, NULL-terminated. */
extern const char *const net_proxy_env[];

/* Whether a sandbox's network is an allow-list. */
int net_is_allow(const char *network);

/*
 * A rule as given: "<host>[:<port>]", "*.<domain>[:<port>]" (subdomains
 * of domain, not domain itself), "@<set>" (a named set, see
 * net_set_hosts) or any of these after '!' (a denial, which wins over
 * every allowance). A host is lowercase letters, digits, '-' and '.',
 * and not an IP address. 0, or -1 with the reason in why.
 */
int net_rule_check(const char *rule, struct strbuf *why);
/* The rule in its canonical form (lowercase, no trailing dot). */
void net_rule_normalize(struct strbuf *out, const char *rule);

/* The named sets' names, "claude, codex, ..." for messages. */
const char *net_set_names(void);
/* The hosts of set name, NULL-terminated; NULL for a set that is none. */
const char *const *net_set_hosts(const char *name);

/*
 * The decision for a request for host:port (host as the client gave it).
 * 1 for allowed, 0 for refused; reason says which rule allowed it, or why
 * not ("not in the rules", "an IP address"...).
 */
int net_decide(const struct string_list *rules, const char *host, int port,
	       struct strbuf *reason);

/* The files: "<dir>/net", and "<dir>/net/<name>". */
void net_dir(struct strbuf *out, const char *sandbox_dir);
void net_file(struct strbuf *out, const char *sandbox_dir, const char *name);
#define NET_RULES_FILE "rules"
#define NET_PID_FILE "proxy.pid"
#define NET_LOG_FILE "log"
#define NET_PROXY_LOG_FILE "proxy.log"

/* Read the rules (one a line); a missing file is no rules. 0, or -1. */
int net_rules_read(const char *sandbox_dir, struct string_list *out);
/* Write them, whole (atomically: the proxy may be reading). 0, or -1. */
int net_rules_write(const char *sandbox_dir, const struct string_list *rules);
/*
 * Change the rules: allow adds host (and drops a denial of it), deny
 * drops it (and, when a set or wildcard still allows it, adds a
 * denial). Returns 1 when they changed, 0 when not.
 */
int net_rules_change(struct string_list *rules, const char *rule, int allow);

/* A decision as logged. Strings are owned. */
struct net_decision {
	int64_t time;
	int allowed;
	char *host;
	int port;
	char *reason;
};
/* The latest max decisions, oldest first. 0, or -1 with a message. */
int net_log_read(const char *sandbox_dir, size_t max, struct net_decision **out, size_t *nr);
void net_decisions_free(struct net_decision *list, size_t nr);

/*
 * The proxy of a sandbox on this machine whose container's PID 1 is pid
 * (started at pid_start): running already, else started now and waited
 * for until it listens. 0, or -1 with a message (and its log's last line).
 */
int net_proxy_ensure(const struct sandbox *sb, long pid, unsigned long long pid_start);
/* Its pid, when it runs (0 when not). */
long net_proxy_running(const char *sandbox_dir);
/* End it, if it runs. 0, or -1 with a message. */
int net_proxy_stop(const char *sandbox_dir);
/*
 * End it if the container it serves is gone (it ends itself then, within
 * a second; this is for one that could not). Returns 1 if it ended one.
 */
int net_proxy_reap(const char *sandbox_dir);

/*
 * Whether this machine can enforce an allow-list for runtime rt_name
 * (NULL: not known yet) and a sandbox on host (on an SSH host: never). 0, or -1 with an error and a hint saying why not.
 */
int net_check_enforceable(const char *rt_name, const char *host);

/* The proxy itself: git sand net-proxy <sandbox dir> <name> <pid> <pid start>. */
int net_proxy_main(const char *sandbox_dir, const char *name, long pid,
		   unsigned long long pid_start);

#endif

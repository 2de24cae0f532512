/*
 * Network allow-lists: the rules, the named sets, the files a sandbox's
 * proxy reads and writes, and starting and ending that proxy. The proxy
 * itself is in net-proxy.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle.h"
#include "msg.h"
#include "net.h"
#include "path.h"
#include "run.h"
#include "sandbox.h"

#define PROXY_URL "http://127.0.0.1:3128"
const char *const net_proxy_env[] = {
	"HTTP_PROXY=" PROXY_URL, "HTTPS_PROXY=" PROXY_URL,
	"http_proxy=" PROXY_URL, "https_proxy=" PROXY_URL,
	"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
	NULL
};

int net_is_allow(const char *network)
{
	return network && !strcmp(network, NET_ALLOW_MODE);
}

/*
 * The named sets. Each agent's is what it needs to log in and work, from
 * its vendor's own list of hosts to let through a firewall or proxy:
 *   claude:   Claude Code's "network access requirements" and the
 *             firewall of its reference devcontainer (init-firewall.sh)
 *   codex:    the OpenAI API, and ChatGPT sign-in (auth.openai.com)
 *   gemini:   Gemini CLI's API and Code Assist endpoints, Google sign-in
 *   opencode: opencode.ai and models.dev (its model list), and the
 *             providers it is most often used with
 * The common ones are each registry's documented hosts.
 */
#define NET_SETS(_) \
	_("claude", "api.anthropic.com", "claude.ai", "console.anthropic.com", \
	  "statsig.anthropic.com", "statsig.com", "sentry.io") \
	_("codex", "api.openai.com", "auth.openai.com", "chatgpt.com") \
	_("gemini", "generativelanguage.googleapis.com", "cloudcode-pa.googleapis.com", \
	  "oauth2.googleapis.com", "accounts.google.com", "www.googleapis.com") \
	_("opencode", "opencode.ai", "models.dev", "api.anthropic.com", "api.openai.com", \
	  "openrouter.ai") \
	_("npm", "registry.npmjs.org") \
	_("pypi", "pypi.org", "files.pythonhosted.org") \
	_("debian", "deb.debian.org", "security.debian.org") \
	_("github", "github.com", "api.github.com", "codeload.github.com", \
	  "*.githubusercontent.com")

struct net_set {
	const char *name;
	const char *const *hosts;
};

#define NET_SET_ENTRY(name, ...) { name, (const char *const[]){ __VA_ARGS__, NULL } },
static const struct net_set net_sets[] = { NET_SETS(NET_SET_ENTRY) };
#undef NET_SET_ENTRY

const char *net_set_names(void)
{
	return "claude, codex, gemini, opencode, npm, pypi, debian, github";
}

const char *const *net_set_hosts(const char *name)
{
	for (size_t i = 0; i < sizeof(net_sets) / sizeof(*net_sets); i++)
		if (!strcmp(net_sets[i].name, name))
			return net_sets[i].hosts;
	return NULL;
}

/*
 * Whether a host is an IP address in any form a resolver takes: dotted,
 * bracketed v6, or a last label of digits or hex ("127.1", "0x7f000001").
 */
static int is_ip_literal(const char *host)
{
	const char *last = strrchr(host, '.');
	unsigned char v6[16];

	if (*host == '[' || strchr(host, ':') || inet_pton(AF_INET6, host, v6) == 1)
		return 1;
	last = last ? last + 1 : host;
	if (!*last)
		return 0;
	if ((last[0] == '0' && (last[1] == 'x' || last[1] == 'X')))
		return 1;
	for (; *last; last++)
		if (!isdigit((unsigned char)*last))
			return 0;
	return 1;
}

/* A host name: labels of letters, digits and '-', dot-separated. */
static int host_name_ok(const char *host, size_t len)
{
	size_t label = 0;

	if (!len || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c == '.') {
			if (!label)
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* Split "host[:port]": the host's length, and the port (0: none). -1 if bad. */
static int split_port(const char *s, size_t *host_len, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	*port = 0;
	*host_len = strlen(s);
	if (!colon)
		return 0;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p < 1 || p > 65535 || !isdigit((unsigned char)colon[1]))
		return -1;
	*host_len = (size_t)(colon - s);
	*port = (int)p;
	return 0;
}

int net_rule_check(const char *rule, struct strbuf *why)
{
	struct strbuf norm = STRBUF_INIT;
	const char *host;
	size_t len;
	int port, ret = -1;
	char *h = NULL;

	net_rule_normalize(&norm, rule);
	host = norm.buf;
	if (*host == '!')
		host++;
	if (*host == '@') {
		if (!net_set_hosts(host + 1))
			strbuf_addf(why, "no set is named '%s' (known: %s)", host + 1,
				    net_set_names());
		else
			ret = 0;
		goto done;
	}
	if (*host == '[' || strchr(host, ':') != strrchr(host, ':')) {
		strbuf_addstr(why, "an IP address: the rules name hosts");
		goto done;
	}
	if (split_port(host, &len, &port) < 0) {
		strbuf_addstr(why, "the port is not a number from 1 to 65535");
		goto done;
	}
	if (len > 2 && !strncmp(host, "*.", 2)) {
		host += 2;
		len -= 2;
	}
	h = xstrndup(host, len);
	if (is_ip_literal(h))
		strbuf_addstr(why, "an IP address: the rules name hosts");
	else if (!host_name_ok(h, len))
		strbuf_addstr(why, "not a host name, '*.<domain>' or '@<set>'");
	else
		ret = 0;
done:
	free(h);
	strbuf_release(&norm);
	return ret;
}

void net_rule_normalize(struct strbuf *out, const char *rule)
{
	strbuf_reset(out);
	for (const char *p = rule; *p; p++)
		strbuf_addch(out, tolower((unsigned char)*p));
	/* "example.com." and "example.com.:443" name example.com */
	for (size_t i = 0; i < out->len; i++)
		if (out->buf[i] == '.' && (i + 1 == out->len || out->buf[i + 1] == ':')) {
			memmove(out->buf + i, out->buf + i + 1, out->len - i);
			out->len--;
			break;
		}
}

/* Whether one allowance (not a set, not a denial) covers host:port. */
static int rule_matches(const char *rule, const char *host, int port)
{
	size_t len, hlen = strlen(host);
	int rport;

	if (split_port(rule, &len, &rport) < 0)
		return 0;
	/* port -1: any (to tell "not this port" from "not this host") */
	if (port >= 0 && (rport ? port != rport : port != 80 && port != 443))
		return 0;
	if (len > 2 && !strncmp(rule, "*.", 2))
		/* subdomains only: "x.example.com", not "example.com" */
		return hlen > len - 1 && !strncmp(host + hlen - (len - 1), rule + 1, len - 1);
	return hlen == len && !strncmp(host, rule, len);
}

/* The rule (or the set's rule) that covers host:port, or NULL. */
static const char *find_rule(const struct string_list *rules, int denial, const char *host,
			     int port, const char **set)
{
	*set = NULL;
	for (size_t i = 0; i < rules->nr; i++) {
		const char *r = rules->items[i];

		if ((*r == '!') != denial)
			continue;
		if (denial)
			r++;
		if (*r == '@') {
			const char *const *hosts = net_set_hosts(r + 1);

			for (; hosts && *hosts; hosts++)
				if (rule_matches(*hosts, host, port)) {
					*set = r;
					return *hosts;
				}
		} else if (rule_matches(r, host, port)) {
			return r;
		}
	}
	return NULL;
}

int net_decide(const struct string_list *rules, const char *host, int port,
	       struct strbuf *reason)
{
	struct strbuf h = STRBUF_INIT;
	const char *rule, *set;
	int ret = 0;

	strbuf_reset(reason);
	net_rule_normalize(&h, host);
	if (is_ip_literal(h.buf)) {
		strbuf_addstr(reason, "an IP address, not a host name");
	} else if (!host_name_ok(h.buf, h.len)) {
		strbuf_addstr(reason, "not a host name");
	} else if ((rule = find_rule(rules, 1, h.buf, port, &set))) {
		strbuf_addf(reason, "denied by '!%s'", set ? set + 1 : rule);
	} else if ((rule = find_rule(rules, 0, h.buf, port, &set))) {
		if (set)
			strbuf_addf(reason, "allowed by '%s' (%s)", set, rule);
		else
			strbuf_addf(reason, "allowed by '%s'", rule);
		ret = 1;
	} else if (find_rule(rules, 0, h.buf, -1, &set)) {
		strbuf_addf(reason, "port %d is not allowed", port);
	} else {
		strbuf_addstr(reason, "not in the rules");
	}
	strbuf_release(&h);
	return ret;
}

void net_dir(struct strbuf *out, const char *sandbox_dir)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/net", sandbox_dir);
}

void net_file(struct strbuf *out, const char *sandbox_dir, const char *name)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/net/%s", sandbox_dir, name);
}

int net_rules_read(const char *sandbox_dir, struct string_list *out)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	int ret = 0;
	char *line, *next;

	net_file(&path, sandbox_dir, NET_RULES_FILE);
	if (strbuf_read_file(&buf, path.buf) < 0) {
		if (errno != ENOENT)
			ret = error_errno("cannot read '%s'", path.buf);
		goto done;
	}
	for (line = buf.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line)
			string_list_append(out, line);
	}
done:
	strbuf_release(&path);
	strbuf_release(&buf);
	return ret;
}

int net_rules_write(const char *sandbox_dir, const struct string_list *rules)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	int ret;

	net_dir(&path, sandbox_dir);
	if (mkdir_p(path.buf, 0700) < 0) {
		ret = error_errno("cannot create '%s'", path.buf);
		goto done;
	}
	for (size_t i = 0; i < rules->nr; i++)
		strbuf_addf(&buf, "%s\n", rules->items[i]);
	net_file(&path, sandbox_dir, NET_RULES_FILE);
	ret = write_file_atomic(path.buf, buf.buf, buf.len, 0600);
done:
	strbuf_release(&path);
	strbuf_release(&buf);
	return ret;
}

static void list_remove(struct string_list *l, size_t i)
{
	free(l->items[i]);
	memmove(l->items + i, l->items + i + 1, (l->nr - i - 1) * sizeof(*l->items));
	l->nr--;
}

int net_rules_change(struct string_list *rules, const char *rule, int allow)
{
	struct strbuf norm = STRBUF_INIT, denial = STRBUF_INIT, reason = STRBUF_INIT;
	const char *r;
	int changed = 0, port;
	long i;
	size_t len;

	net_rule_normalize(&norm, rule);
	r = norm.buf;
	strbuf_addf(&denial, "!%s", r);
	if (allow) {
		if ((i = string_list_find(rules, denial.buf)) >= 0) {
			list_remove(rules, (size_t)i);
			changed = 1;
		}
		if (string_list_find(rules, r) < 0) {
			string_list_append(rules, r);
			changed = 1;
		}
		goto done;
	}
	if ((i = string_list_find(rules, r)) >= 0) {
		list_remove(rules, (size_t)i);
		changed = 1;
	}
	/* Still allowed by a set or a wildcard: deny it outright. */
	/* A set or a wildcard goes only by being dropped. */
	if (*r == '@' || *r == '*' || split_port(r, &len, &port) < 0)
		goto done;
	{
		char *host = xstrndup(r, len);
		int still = port ? net_decide(rules, host, port, &reason) :
			(net_decide(rules, host, 443, &reason) || net_decide(rules, host, 80, &reason));

		if (still && string_list_find(rules, denial.buf) < 0) {
			string_list_append(rules, denial.buf);
			changed = 1;
		}
		free(host);
	}
done:
	strbuf_release(&norm);
	strbuf_release(&denial);
	strbuf_release(&reason);
	return changed;
}

/* One line of the log: "<time>\t<allowed|refused>\t<host>\t<port>\t<reason>". */
static int parse_decision(char *line, struct net_decision *d)
{
	char *f[5], *end;
	int n = 0;

	for (char *p = line; n < 5; ) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != 5)
		return -1;
	memset(d, 0, sizeof(*d));
	d->time = strtoll(f[0], &end, 10);
	if (*end)
		return -1;
	d->allowed = !strcmp(f[1], "allowed");
	d->port = atoi(f[3]);
	d->host = xstrdup(f[2]);
	d->reason = xstrdup(f[4]);
	return 0;
}

static void read_log_lines(const char *path, struct string_list *lines)
{
	struct strbuf buf = STRBUF_INIT;
	char *line, *next;

	if (strbuf_read_file(&buf, path) < 0) {
		strbuf_release(&buf);
		return;
	}
	for (line = buf.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (!next)
			break; /* a line being written */
		*next++ = '\0';
		string_list_append(lines, line);
	}
	strbuf_release(&buf);
}

int net_log_read(const char *sandbox_dir, size_t max, struct net_decision **out, size_t *nr)
{
	struct string_list lines = STRING_LIST_INIT;
	struct strbuf path = STRBUF_INIT;
	size_t first;

	*out = NULL;
	*nr = 0;
	net_file(&path, sandbox_dir, NET_LOG_FILE ".1");
	read_log_lines(path.buf, &lines);
	net_file(&path, sandbox_dir, NET_LOG_FILE);
	read_log_lines(path.buf, &lines);
	first = lines.nr > max ? lines.nr - max : 0;
	*out = xcalloc(lines.nr - first + 1, sizeof(**out));
	for (size_t i = first; i < lines.nr; i++)
		if (!parse_decision(lines.items[i], &(*out)[*nr]))
			(*nr)++;
	string_list_clear(&lines);
	strbuf_release(&path);
	return 0;
}

void net_decisions_free(struct net_decision *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(list[i].host);
		free(list[i].reason);
	}
	free(list);
}

/*
 * The pid file: "<proxy pid> <its start> <container pid> <its start>",
 * written by the proxy once it listens.
 */
struct proxy_pid {
	long pid;
	unsigned long long start;
	long cpid;
	unsigned long long cstart;
};

static int read_pid_file(const char *sandbox_dir, struct proxy_pid *p)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	net_file(&path, sandbox_dir, NET_PID_FILE);
	if (!strbuf_read_file(&buf, path.buf) &&
	    sscanf(buf.buf, "%ld %llu %ld %llu", &p->pid, &p->start, &p->cpid, &p->cstart) == 4 &&
	    p->pid > 0 && p->start)
		ret = 0;
	strbuf_release(&path);
	strbuf_release(&buf);
	return ret;
}

/*
 * That process, and not a zombie: one that has ended but that no parent
 * has reaped yet (ours is reparented to whatever PID 1 is, which may
 * take its time) is gone as far as we care.
 */
static int alive(long pid, unsigned long long start)
{
	struct strbuf path = STRBUF_INIT, stat = STRBUF_INIT;
	const char *p;
	int ret = 0;

	if (pid <= 0 || !start || sandbox_pid_start(pid) != start)
		return 0;
	strbuf_addf(&path, "/proc/%ld/stat", pid);
	if (!strbuf_read_file(&stat, path.buf) && (p = strrchr(stat.buf, ')')))
		ret = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	strbuf_release(&path);
	strbuf_release(&stat);
	return ret;
}

long net_proxy_running(const char *sandbox_dir)
{
	struct proxy_pid p;

	if (read_pid_file(sandbox_dir, &p) < 0 || !alive(p.pid, p.start))
		return 0;
	return p.pid;
}

/* SIGTERM, then SIGKILL if it is still there after a second. */
static void end_process(long pid, unsigned long long start)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	kill((pid_t)pid, SIGTERM);
	for (int i = 0; i < 50 && alive(pid, start); i++)
		nanosleep(&ts, NULL);
	if (alive(pid, start))
		kill((pid_t)pid, SIGKILL);
}

int net_proxy_stop(const char *sandbox_dir)
{
	struct strbuf path = STRBUF_INIT;
	struct proxy_pid p;

	if (!read_pid_file(sandbox_dir, &p) && alive(p.pid, p.start))
		end_process(p.pid, p.start);
	net_file(&path, sandbox_dir, NET_PID_FILE);
	unlink(path.buf);
	strbuf_release(&path);
	return 0;
}

int net_proxy_reap(const char *sandbox_dir)
{
	struct proxy_pid p;

	if (read_pid_file(sandbox_dir, &p) < 0 || !alive(p.pid, p.start) ||
	    alive(p.cpid, p.cstart))
		return 0;
	net_proxy_stop(sandbox_dir);
	return 1;
}

/* The last line of the proxy's own log: why it did not start. */
static void proxy_log_tail(const char *sandbox_dir, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	char *nl;

	net_file(&path, sandbox_dir, NET_PROXY_LOG_FILE);
	if (!strbuf_read_file(out, path.buf)) {
		strbuf_rtrim(out);
		if ((nl = strrchr(out->buf, '\n'))) {
			size_t skip = (size_t)(nl + 1 - out->buf);

			memmove(out->buf, nl + 1, out->len - skip + 1);
			out->len -= skip;
		}
	}
	strbuf_release(&path);
}

int net_proxy_ensure(const struct sandbox *sb, long pid, unsigned long long pid_start)
{
	struct strbuf self = STRBUF_INIT, path = STRBUF_INIT, why = STRBUF_INIT;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct child c = CHILD_INIT;
	struct proxy_pid p;
	int ret = -1;

	if (!read_pid_file(sb->dir, &p) && alive(p.pid, p.start)) {
		if (p.cpid == pid && p.cstart == pid_start)
			return 0;
		/* one for a container that is gone: it is about to end anyway */
		end_process(p.pid, p.start);
	}
	net_file(&path, sb->dir, NET_PID_FILE);
	unlink(path.buf);
	if (path_self_exe(&self) < 0) {
		strbuf_reset(&self);
		strbuf_addstr(&self, "git-sand");
	}
	argv_pushl(&c.args, self.buf, "net-proxy", sb->dir, sb->name, NULL);
	argv_pushf(&c.args, "%ld", pid);
	argv_pushf(&c.args, "%llu", pid_start);
	c.dir = "/";
	c.detach = 1;
	if (run_child(&c) != 0) {
		error("cannot start the network filter of sandbox '%s'", sb->name);
		goto done;
	}
	/* It writes its pid file once it listens, or says in its log why not. */
	for (int i = 0; i < 250; i++) {
		if (!read_pid_file(sb->dir, &p)) {
			ret = 0;
			goto done;
		}
		nanosleep(&ts, NULL);
	}
	proxy_log_tail(sb->dir, &why);
	error("the network filter of sandbox '%s' did not start%s%s", sb->name,
	      why.len ? ": " : "", why.buf);
done:
	child_clear(&c);
	strbuf_release(&self);
	strbuf_release(&path);
	strbuf_release(&why);
	return ret;
}

int net_check_enforceable(const char *rt_name, const char *host)
{
	if (host) {
		error("network '%s' cannot be enforced on another host", NET_ALLOW_MODE);
		hint("its filter runs beside the container, on this machine; use a sandbox here");
		return -1;
	}
	if (rt_name && !strcmp(rt_name, "container")) {
		error("network '%s' cannot be enforced with Apple's container", NET_ALLOW_MODE);
		hint("its containers run in VMs whose network a process here cannot enter; "
		     "use '--network none' or the default");
		return -1;
	}
#ifndef __linux__
	error("network '%s' needs Linux network namespaces", NET_ALLOW_MODE);
	return -1;
#else
	if (rt_name && !strcmp(rt_name, "podman") && geteuid() != 0) {
		error("network '%s' cannot be enforced with rootless podman", NET_ALLOW_MODE);
		hint("its containers' network belongs to a user namespace this process "
		     "cannot enter; run as root, or use docker");
		return -1;
	}
	return 0;
#endif
}

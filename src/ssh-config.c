/*
 * Where to connect: "ssh://[user@]host[:port]" URLs, and what ssh_config(5)
 * adds to them (Host entries, Include). Pure parsing: no network here.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg.h"
#include "ssh.h"

void ssh_target_clear(struct ssh_target *t)
{
	free(t->host);
	free(t->hostname);
	free(t->user);
	free(t->identity_file);
	memset(t, 0, sizeof(*t));
}

static int valid_host(const char *h)
{
	if (!*h || *h == '-' || strlen(h) > 253)
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr("-._:", *h))
			return 0;
	return 1;
}

static int valid_user(const char *u)
{
	if (!*u || *u == '-' || strlen(u) > 64)
		return 0;
	for (; *u; u++)
		if (!isalnum((unsigned char)*u) && !strchr("-._", *u))
			return 0;
	return 1;
}

static int parse_port(const char *s, int *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

int ssh_url_parse(const char *url, struct ssh_target *t, struct strbuf *why)
{
	const char *rest = url, *at, *host, *colon;
	char *hostpart = NULL;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	skip_prefix(url, "ssh://", &rest);
	if (strchr(rest, '/') && strcmp(strchr(rest, '/'), "/")) {
		strbuf_addstr(why, "a host URL has no path");
		goto done;
	}
	hostpart = xstrndup(rest, strcspn(rest, "/"));
	host = hostpart;
	if ((at = strchr(host, '@'))) {
		t->user = xstrndup(host, (size_t)(at - host));
		host = at + 1;
		if (!valid_user(t->user)) {
			strbuf_addf(why, "invalid user name '%s'", t->user);
			goto done;
		}
	}
	if (*host == '[') {
		const char *close = strchr(host, ']');

		if (!close) {
			strbuf_addstr(why, "unclosed '[' in the host");
			goto done;
		}
		t->host = xstrndup(host + 1, (size_t)(close - host - 1));
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon) {
			strbuf_addstr(why, "unexpected text after ']'");
			goto done;
		}
	} else {
		colon = strchr(host, ':');
		t->host = colon ? xstrndup(host, (size_t)(colon - host)) : xstrdup(host);
	}
	if (colon && parse_port(colon + 1, &t->port) < 0) {
		strbuf_addf(why, "invalid port '%s'", colon + 1);
		goto done;
	}
	if (!valid_host(t->host)) {
		strbuf_addf(why, "invalid host name '%s'", t->host);
		goto done;
	}
	ret = 0;
done:
	free(hostpart);
	if (ret)
		ssh_target_clear(t);
	return ret;
}

/* "~/x" to "$HOME/x". */
char *ssh_expand_home(const char *v)
{
	const char *home = getenv("HOME");
	struct strbuf sb = STRBUF_INIT;

	if (v[0] == '~' && v[1] == '/' && home) {
		strbuf_addstr(&sb, home);
		strbuf_addstr(&sb, v + 1);
		return strbuf_detach(&sb, NULL);
	}
	return xstrdup(v);
}

/* Whether a Host line's patterns match: one positive match, no negated one. */
static int host_matches(char *patterns, const char *host)
{
	char *save = NULL;
	int match = 0;

	for (char *p = strtok_r(patterns, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		int neg = *p == '!';

		if (fnmatch(p + neg, host, FNM_CASEFOLD) == 0) {
			if (neg)
				return 0;
			match = 1;
		}
	}
	return match;
}

/* HostName's %h and %% tokens. */
static char *expand_hostname(const char *v, const char *host)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *v; v++) {
		if (v[0] == '%' && v[1] == 'h') {
			strbuf_addstr(&sb, host);
			v++;
		} else if (v[0] == '%' && v[1] == '%') {
			strbuf_addch(&sb, '%');
			v++;
		} else {
			strbuf_addch(&sb, *v);
		}
	}
	return strbuf_detach(&sb, NULL);
}

#define MAX_INCLUDE_DEPTH 16

static int config_read(struct ssh_target *t, const char *path, int depth, int *active);

/*
 * Include: each word a path or a glob, relative ones under ~/.ssh, read in
 * the block it appears in (its Host lines do not change that block's).
 */
static int config_include(struct ssh_target *t, char *words, int depth, int active)
{
	const char *home = getenv("HOME") ? getenv("HOME") : "";
	int ret = 0;

	char *save = NULL;

	for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		struct strbuf pattern = STRBUF_INIT;
		glob_t g;

		if (w[0] == '~' && w[1] == '/')
			strbuf_addf(&pattern, "%s%s", home, w + 1);
		else if (*w == '/')
			strbuf_addstr(&pattern, w);
		else
			strbuf_addf(&pattern, "%s/.ssh/%s", home, w);
		if (!glob(pattern.buf, 0, NULL, &g)) {
			for (size_t i = 0; !ret && i < g.gl_pathc; i++) {
				int inner = active;

				ret = config_read(t, g.gl_pathv[i], depth + 1, &inner);
			}
			globfree(&g);
		}
		strbuf_release(&pattern);
		if (ret)
			break;
	}
	return ret;
}

static int config_read(struct ssh_target *t, const char *path, int depth, int *active)
{
	struct strbuf text = STRBUF_INIT;
	int ret = 0;

	if (depth > MAX_INCLUDE_DEPTH)
		return error("'%s': too many nested Include directives", path);
	if (strbuf_read_file(&text, path) < 0) {
		if (errno != ENOENT)
			ret = error_errno("cannot read '%s'", path);
		goto done;
	}
	for (char *line = text.buf, *next; line && *line; line = next) {
		char *key, *val, *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		key = line;
		val = key + strcspn(key, " \t=");
		if (*val)
			*val++ = '\0';
		val += strspn(val, " \t=");
		end = val + strlen(val);
		while (end > val && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*val == '"' && end > val + 1 && end[-1] == '"') {
			*--end = '\0';
			val++;
		}
		if (!strcasecmp(key, "Host")) {
			*active = host_matches(val, t->host);
			continue;
		}
		if (!strcasecmp(key, "Match")) {
			/* Not understood: its settings are not applied. */
			*active = 0;
			continue;
		}
		if (!*active)
			continue;
		if (!strcasecmp(key, "Include")) {
			if ((ret = config_include(t, val, depth, *active)) < 0)
				break;
			continue;
		}
		/* The first value obtained wins, as in ssh. */
		if (!strcasecmp(key, "HostName") && !t->hostname)
			t->hostname = expand_hostname(val, t->host);
		else if (!strcasecmp(key, "User") && !t->user && valid_user(val))
			t->user = xstrdup(val);
		else if (!strcasecmp(key, "Port") && !t->port)
			parse_port(val, &t->port);
		else if (!strcasecmp(key, "IdentityFile") && !t->identity_file)
			t->identity_file = ssh_expand_home(val);
	}
done:
	strbuf_release(&text);
	return ret;
}

int ssh_config_apply(struct ssh_target *t, const char *config_path)
{
	struct passwd *pw;
	int active = 1, ret = 0;

	if (config_path)
		ret = config_read(t, config_path, 0, &active);
	if (t->hostname && !valid_host(t->hostname)) {
		ret = error("invalid HostName '%s' for '%s' in '%s'", t->hostname, t->host,
			    config_path);
		free(t->hostname);
		t->hostname = NULL;
	}
	if (!t->hostname)
		t->hostname = xstrdup(t->host);
	if (!t->port)
		t->port = 22;
	if (!t->user) {
		const char *u = getenv("USER");

		if ((!u || !valid_user(u)) && (pw = getpwuid(getuid())))
			u = pw->pw_name;
		t->user = xstrdup(u && valid_user(u) ? u : "root");
	}
	return ret;
}

void ssh_target_url(const struct ssh_target *t, int resolved, struct strbuf *out)
{
	const char *host = resolved ? t->hostname : t->host;
	int bracket = strchr(host, ':') != NULL;

	strbuf_addf(out, "ssh://%s@%s%s%s", t->user, bracket ? "[" : "", host, bracket ? "]" : "");
	if (t->port != 22)
		strbuf_addf(out, ":%d", t->port);
}

int ssh_target_resolve(const char *url, struct ssh_target *t)
{
	struct strbuf why = STRBUF_INIT, cfg = STRBUF_INIT;
	int ret;

	if ((ret = ssh_url_parse(url, t, &why)) < 0) {
		error("invalid host '%s': %s", url, why.buf);
	} else {
		strbuf_addf(&cfg, "%s/.ssh/config", getenv("HOME") ? getenv("HOME") : "");
		ret = ssh_config_apply(t, cfg.buf);
	}
	strbuf_release(&why);
	strbuf_release(&cfg);
	return ret;
}

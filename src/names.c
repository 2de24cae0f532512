#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gitutil.h"
#include "msg.h"
#include "sandbox.h"

int sandbox_name_check(const char *name, struct strbuf *why)
{
	size_t len = strlen(name);

	if (!len) {
		strbuf_addstr(why, "a name cannot be empty");
		return -1;
	}
	if (len > SANDBOX_NAME_MAX) {
		strbuf_addf(why, "a name is at most %d characters", SANDBOX_NAME_MAX);
		return -1;
	}
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) {
		strbuf_addstr(why, "a name starts with a lowercase letter or a digit");
		return -1;
	}
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_')
			continue;
		strbuf_addstr(why, "a name may contain only lowercase letters, digits, '-', '.' and '_'");
		return -1;
	}
	if (strstr(name, "..")) {
		strbuf_addstr(why, "a name cannot contain '..'");
		return -1;
	}
	if (name[len - 1] == '.' || (len >= 5 && !strcmp(name + len - 5, ".lock"))) {
		strbuf_addstr(why, "a name cannot end with '.' or '.lock'");
		return -1;
	}
	return 0;
}

static const char *const adjectives[] = {
	"amber", "bold", "brave", "brisk", "calm", "clever", "cosy", "crisp",
	"eager", "fair", "fleet", "fond", "gentle", "glad", "grand", "happy",
	"hardy", "jolly", "keen", "kind", "lively", "lucky", "mellow", "merry",
	"mild", "neat", "nimble", "noble", "plucky", "proud", "quick", "quiet",
	"rapid", "ready", "sharp", "shiny", "sleek", "snug", "spry", "steady",
	"sunny", "swift", "tidy", "true", "vivid", "warm", "wise", "witty",
};

static const char *const nouns[] = {
	"badger", "beaver", "bison", "crane", "dingo", "eagle", "egret", "falcon",
	"ferret", "finch", "gecko", "heron", "ibex", "koala", "lemur", "lynx",
	"marmot", "marten", "mink", "moose", "newt", "ocelot", "orca", "otter",
	"owl", "panda", "petrel", "pika", "puffin", "quail", "raven", "robin",
	"seal", "shrew", "sloth", "stoat", "swan", "tapir", "tern", "toad",
	"trout", "vole", "walrus", "weasel", "wombat", "wren", "yak", "zebra",
};

static uint32_t random_u32(void)
{
	uint32_t v = 0;

	if (random_bytes(&v, sizeof(v)) < 0)
		v = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	return v;
}

void sandbox_name_generate(struct strbuf *out)
{
	uint32_t r = random_u32();

	strbuf_reset(out);
	strbuf_addf(out, "%s-%s", adjectives[r % ARRAY_SIZE(adjectives)],
		    nouns[(r >> 8) % ARRAY_SIZE(nouns)]);
}

int sandbox_new_id(struct strbuf *out)
{
	unsigned char raw[8];

	if (random_bytes(raw, sizeof(raw)) < 0)
		return error_errno("cannot read random bytes");
	strbuf_reset(out);
	for (size_t i = 0; i < sizeof(raw); i++)
		strbuf_addf(out, "%02x", raw[i]);
	return 0;
}

static int path_is_clean_absolute(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (const char *s = p; *s; s++) {
		if (*s == ',' || *s == ':' || *s == '\n' || (unsigned char)*s < 0x20)
			return 0;
		if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (!s[3] || s[3] == '/'))
			return 0;
	}
	return 1;
}

int mount_spec_parse(const char *spec, struct mount_spec *out, struct strbuf *why)
{
	const char *c1 = strchr(spec, ':'), *c2;

	memset(out, 0, sizeof(*out));
	if (!c1) {
		strbuf_addstr(why, "expected SRC:DST[:ro]");
		return -1;
	}
	c2 = strchr(c1 + 1, ':');
	if (c2 && strcmp(c2 + 1, "ro") && strcmp(c2 + 1, "rw")) {
		strbuf_addf(why, "unknown mount option '%s' (expected 'ro' or 'rw')", c2 + 1);
		return -1;
	}
	out->src = xstrndup(spec, (size_t)(c1 - spec));
	out->dst = c2 ? xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : xstrdup(c1 + 1);
	out->readonly = c2 && !strcmp(c2 + 1, "ro");
	strip_trailing_slashes(out->src);
	strip_trailing_slashes(out->dst);
	if (!path_is_clean_absolute(out->src) || !path_is_clean_absolute(out->dst)) {
		strbuf_addstr(why, "both paths must be absolute, without '..', ',' or ':'");
		goto fail;
	}
	if (!strcmp(out->dst, "/") || !strcmp(out->dst, "/app") || starts_with(out->dst, "/app/") ||
	    !strcmp(out->dst, "/run/git-origin-ro")) {
		strbuf_addf(why, "'%s' is reserved in the sandbox", out->dst);
		goto fail;
	}
	return 0;
fail:
	mount_spec_clear(out);
	return -1;
}

void mount_spec_clear(struct mount_spec *m)
{
	free(m->src);
	free(m->dst);
	m->src = m->dst = NULL;
}

#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "session.h"

static const char *const kind_names[] = {
#define SESSION_KIND_NAME(id, name) [id] = name,
	SESSION_KINDS(SESSION_KIND_NAME)
#undef SESSION_KIND_NAME
};

const char *session_kind_name(enum session_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "unknown";
}

int session_mode_parse(const char *value, enum session_mode *out)
{
	if (!strcmp(value, "auto"))
		*out = SESSION_AUTO;
	else if (!strcmp(value, "never"))
		*out = SESSION_NEVER;
	else
		return error("invalid value '%s' for sand.session (auto or never)", value);
	return 0;
}

int session_available(struct runtime *rt, const struct sandbox *sb)
{
	/* A fixed script. */
	static const char *const probe[] = { "sh", "-c", "command -v " SESSION_PROGRAM, NULL };
	struct strbuf out = STRBUF_INIT;
	int status = rt->ops->exec_capture(rt, sb->container, probe, &out);

	strbuf_release(&out);
	return status < 0 ? -1 : status == 0;
}

/*
 * "tmux -u -L git-sand": a server of our own (its socket in the
 * container's /tmp), UTF-8 whatever the locale; then our settings, which
 * come after the user's ~/.tmux.conf: no status line, a short escape
 * time (agents read Esc), and the detach key.
 */
static void tmux_argv(struct argv *args)
{
	argv_pushl(args, SESSION_PROGRAM, "-u", "-L", "git-sand", "start-server", ";",
		   "set-option", "-g", "status", "off", ";",
		   "set-option", "-s", "escape-time", "10", ";",
		   "bind-key", "-n", SESSION_DETACH_KEY, "detach-client", ";", NULL);
}

static int attached(struct runtime *rt, const struct sandbox *sb, struct argv *args)
{
	struct exec_opts eo = { .workdir = "/app", .interactive = 1, .tty = 1 };
	int ret = rt->ops->exec(rt, sb->container, &eo, (const char *const *)argv_vec(args));

	argv_clear(args);
	return ret;
}

/*
 * -D and -d detach the clients already there: a terminal that went away
 * without a word (a lost SSH connection, a killed podman exec) leaves its
 * tmux client in the container attached, and its size would stay the
 * session's.
 */
int session_open(struct runtime *rt, const struct sandbox *sb, enum session_kind kind,
		 const char *const *cmd)
{
	struct argv args = ARGV_INIT;

	tmux_argv(&args);
	argv_pushl(&args, "new-session", "-A", "-D", "-s", session_kind_name(kind), "-c", "/app",
		   "--", NULL);
	argv_pushv(&args, cmd);
	return attached(rt, sb, &args);
}

int session_attach(struct runtime *rt, const struct sandbox *sb)
{
	struct argv args = ARGV_INIT;

	tmux_argv(&args);
	argv_pushl(&args, "attach-session", "-d", NULL);
	return attached(rt, sb, &args);
}

int session_exists(struct runtime *rt, const struct sandbox *sb)
{
	const char *const cmd[] = { SESSION_PROGRAM, "-L", "git-sand", "list-sessions", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = rt->ops->exec_capture(rt, sb->container, cmd, &out);

	strbuf_release(&out);
	return status == 0;
}

#include <string.h>
#include <unistd.h>

#include "devcontainer.h"
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
	int status = rt->ops->exec_capture(rt, sb->container, NULL, probe, &out);

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
	char *user = devcontainer_user(sb);
	struct exec_opts eo = { .workdir = "/app", .user = user, .interactive = 1, .tty = 1 };
	int ret = rt->ops->exec(rt, sb->container, &eo, (const char *const *)argv_vec(args));

	free(user);
	argv_clear(args);
	return ret;
}

/*
 * Fixed scripts: the kind is their first argument. The first runs the
 * command and leaves its exit status where the second finds it once the
 * client is back: "detached" while the session goes on.
 */
static const char wrapper[] =
	"k=$1; shift; f=/tmp/git-sand-session-$k.status; rm -f \"$f\"; "
	"\"$@\"; s=$?; echo \"$s\" >\"$f\"; exit \"$s\"";
static const char outcome[] =
	SESSION_PROGRAM " -u -L git-sand has-session -t \"$1\" 2>/dev/null && "
	"{ echo detached; exit 0; }; cat \"/tmp/git-sand-session-$1.status\"";

/* The exit status the wrapper left: 0 to 255, or -1. */
static int parse_status(const struct strbuf *out)
{
	int v = 0;
	size_t len = out->len;

	if (len && out->buf[len - 1] == '\n')
		len--;
	if (len < 1 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (out->buf[i] < '0' || out->buf[i] > '9')
			return -1;
		v = v * 10 + (out->buf[i] - '0');
	}
	return v > 255 ? -1 : v;
}

int session_open(struct runtime *rt, const struct sandbox *sb, enum session_kind kind,
		 const char *const *cmd, int *detached)
{
	const char *check[] = { "sh", "-c", outcome, "sh", session_kind_name(kind), NULL };
	struct strbuf out = STRBUF_INIT;
	struct argv args = ARGV_INIT;
	int ret, status;

	*detached = 0;
	/*
	 * -D (and attach's -d) detaches the clients already there: a
	 * terminal that went away without a word (a lost SSH connection, a
	 * killed podman exec) leaves its tmux client in the container
	 * attached, and its size would stay the session's.
	 */
	tmux_argv(&args);
	argv_pushl(&args, "new-session", "-A", "-D", "-s", session_kind_name(kind), "-c", "/app",
		   "--", "sh", "-c", wrapper, "sand-session", session_kind_name(kind), NULL);
	argv_pushv(&args, cmd);
	ret = attached(rt, sb, &args);
	if (ret < 0)
		goto done;
	/* The sandbox's own answer: only the status is taken from it. */
	if (devcontainer_exec_capture(rt, sb, check, &out) < 0)
		goto done;
	if (!strcmp(out.buf, "detached\n"))
		*detached = 1;
	else if ((status = parse_status(&out)) >= 0)
		ret = status;
done:
	strbuf_release(&out);
	return ret;
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
	const char *const cmd[] = { SESSION_PROGRAM, "-u", "-L", "git-sand", "list-sessions", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = devcontainer_exec_capture(rt, sb, cmd, &out);

	strbuf_release(&out);
	return status == 0;
}

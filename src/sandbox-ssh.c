/*
 * SSH into a sandbox over the runtime's exec channel: its keys, its
 * ssh_config block, and the sshd -i that serves one connection.
 */
#include <ctype.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devcontainer.h"
#include "msg.h"
#include "path.h"
#include "run.h"
#include "sandbox-ssh.h"
#include "ssh.h"

#define USER_KEY "id_ed25519"
#define HOST_KEY "ssh_host_ed25519_key"

void sandbox_ssh_path(struct strbuf *out, const struct sandbox *sb, const char *file)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/ssh%s%s", sb->dir, *file ? "/" : "", file);
}

void sandbox_ssh_host(struct strbuf *out, const struct sandbox *sb)
{
	const char *base = sb->worktree ? strrchr(sb->worktree, '/') : NULL;
	size_t start;

	base = base ? base + 1 : sb->worktree ? sb->worktree : "";
	strbuf_reset(out);
	strbuf_addf(out, "%s.", sb->name);
	start = out->len;
	/* A DNS label: lowercase letters, digits and single dashes inside. */
	for (const char *p = base; *p && out->len - start < 63; p++) {
		int c = tolower((unsigned char)*p);

		if (!isalnum(c) || c > 127)
			c = '-';
		if (c == '-' && (out->len == start || out->buf[out->len - 1] == '-'))
			continue;
		strbuf_addch(out, c);
	}
	while (out->len > start && out->buf[out->len - 1] == '-')
		out->len--;
	out->buf[out->len] = '\0';
	if (out->len == start)
		strbuf_addstr(out, "repo");
	strbuf_addstr(out, ".sand");
}

static int keygen(const struct sandbox *sb, const char *file)
{
	struct child c = CHILD_INIT;
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, comment = STRBUF_INIT;
	int ret = 0, status;

	sandbox_ssh_path(&path, sb, file);
	if (!access(path.buf, F_OK))
		goto done;
	strbuf_addf(&comment, "git-sand %s %s", sb->name, file);
	argv_pushl(&c.args, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment.buf,
		   "-f", path.buf, NULL);
	c.no_stdin = 1;
	c.err = &err;
	c.out = &err;
	status = run_child(&c);
	if (status != 0) {
		strbuf_trim(&err);
		if (status == 127)
			ret = error("ssh-keygen is needed to make the keys of sandbox '%s' "
				    "(install OpenSSH's client)", sb->name);
		else if (status > 0)
			ret = error("ssh-keygen failed for '%s': %s", path.buf, err.buf);
		else
			ret = -1;
		unlink(path.buf);
	}
done:
	child_clear(&c);
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&comment);
	return ret;
}

/* The one line of a public key file, trimmed; -1 with a message. */
static int read_public(struct strbuf *out, const struct sandbox *sb, const char *file)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	sandbox_ssh_path(&path, sb, file);
	strbuf_addstr(&path, ".pub");
	strbuf_reset(out);
	if (strbuf_read_file(out, path.buf) < 0)
		ret = error_errno("cannot read '%s'", path.buf);
	strbuf_trim(out);
	if (!ret && (!out->len || strchr(out->buf, '\n')))
		ret = error("'%s' is not a public key", path.buf);
	strbuf_release(&path);
	return ret;
}

int sandbox_ssh_keys(const struct sandbox *sb, const char *alias)
{
	struct strbuf path = STRBUF_INIT, pub = STRBUF_INIT, line = STRBUF_INIT;
	int ret = -1;

	sandbox_ssh_path(&path, sb, "");
	if (mkdir_p(path.buf, 0700) < 0) {
		error_errno("cannot create '%s'", path.buf);
		goto done;
	}
	if (keygen(sb, USER_KEY) < 0 || keygen(sb, HOST_KEY) < 0 ||
	    read_public(&pub, sb, HOST_KEY) < 0)
		goto done;
	/* "<alias> <type> <key>": the comment is left out. */
	strbuf_addf(&line, "%s ", alias);
	{
		const char *sp = strchr(pub.buf, ' ');
		const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;

		strbuf_add(&line, pub.buf, sp2 ? (size_t)(sp2 - pub.buf) : pub.len);
	}
	strbuf_addch(&line, '\n');
	sandbox_ssh_path(&path, sb, "known_hosts");
	ret = write_file_atomic(path.buf, line.buf, line.len, 0600);
done:
	strbuf_release(&path);
	strbuf_release(&pub);
	strbuf_release(&line);
	return ret;
}

/*
 * The user a devcontainer.json made the sandbox's commands run as, where
 * sshd can log that user in: by name (sshd knows no uid[:gid]). NULL
 * when none.
 */
static char *login_user(const struct sandbox *sb)
{
	char *user = devcontainer_user(sb);

	if (user && (strchr(user, ':') || !user[strspn(user, "0123456789")])) {
		free(user);
		user = NULL;
	}
	return user;
}

/* The user sshd lets in: the one the container's commands run as. */
static void ssh_user(struct strbuf *out, const struct sandbox *sb)
{
	struct passwd *pw;
	char *user = login_user(sb);

	strbuf_reset(out);
	if (user) {
		strbuf_addstr(out, user);
		free(user);
		return;
	}
	if (sb->host) {
		struct ssh_target t = { 0 };
		struct strbuf why = STRBUF_INIT;

		if (!ssh_url_parse(sb->host, &t, &why) && t.user)
			strbuf_addstr(out, t.user);
		ssh_target_clear(&t);
		strbuf_release(&why);
		if (out->len)
			return;
	} else if (getuid() == 0) {
		/* Run as root, the runtime leaves the image's user: root in ours. */
		strbuf_addstr(out, "root");
		return;
	}
	/* Rootless podman (keep-id) and docker --user: this user, by name. */
	pw = getpwuid(getuid());
	strbuf_addstr(out, pw && pw->pw_name ? pw->pw_name : "root");
}

/* A file name for ssh_config: in double quotes, each '%' doubled (ssh expands tokens). */
static void config_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '%')
			strbuf_addch(out, '%');
		strbuf_addch(out, *s);
	}
	strbuf_addch(out, '"');
}

/* A word of ProxyCommand, which sh -c runs: single-quoted, '%' doubled. */
static void proxy_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(out, "'\\''");
		else if (*s == '%')
			strbuf_addstr(out, "%%");
		else
			strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

void sandbox_ssh_block(struct strbuf *out, const struct sandbox *sb, const char *self,
		       const char *root)
{
	struct strbuf alias = STRBUF_INIT, user = STRBUF_INIT, path = STRBUF_INIT;

	sandbox_ssh_host(&alias, sb);
	ssh_user(&user, sb);
	strbuf_addf(out, "Host %s\n", alias.buf);
	strbuf_addf(out, "\tHostName %s\n", alias.buf);
	strbuf_addf(out, "\tHostKeyAlias %s\n", alias.buf);
	strbuf_addf(out, "\tUser %s\n", user.buf);
	strbuf_addstr(out, "\tProxyCommand ");
	proxy_quote(out, self);
	strbuf_addstr(out, " ssh-proxy ");
	proxy_quote(out, root);
	strbuf_addf(out, " %s\n", sb->id);
	strbuf_addstr(out, "\tUserKnownHostsFile ");
	sandbox_ssh_path(&path, sb, "known_hosts");
	config_quote(out, path.buf);
	strbuf_addstr(out, "\n\tStrictHostKeyChecking yes\n\tIdentityFile ");
	sandbox_ssh_path(&path, sb, USER_KEY);
	config_quote(out, path.buf);
	strbuf_addstr(out, "\n\tIdentitiesOnly yes\n");
	strbuf_addf(out, "\tForwardAgent %s\n", sb->opts.ssh_agent ? "yes" : "no");
	strbuf_release(&alias);
	strbuf_release(&user);
	strbuf_release(&path);
}

/*
 * sshd's configuration: only the sandbox's key, no passwords; every
 * session starts in /app (ForceCommand runs what was asked, sftp's
 * server included, from there) with the sandbox's HOME.
 */
static void sshd_config(struct strbuf *out, const struct sandbox *sb)
{
	strbuf_addf(out,
		    "# Written by git-sand for sandbox '%s'; only 'sshd -i' reads it.\n"
		    "HostKey " SANDBOX_SSHD_DIR "/" HOST_KEY "\n"
		    "AuthorizedKeysFile " SANDBOX_SSHD_DIR "/authorized_keys\n"
		    "AuthenticationMethods publickey\n"
		    "PasswordAuthentication no\n"
		    "KbdInteractiveAuthentication no\n"
		    "PermitRootLogin prohibit-password\n"
		    "StrictModes no\n"
		    "AllowAgentForwarding %s\n"
		    "AllowTcpForwarding local\n"
		    "X11Forwarding no\n"
		    "PermitTunnel no\n"
		    "PrintMotd no\n"
		    "PrintLastLog no\n"
		    "LogLevel ERROR\n"
		    "SetEnv HOME=/home/sand\n"
		    "ForceCommand cd /app 2>/dev/null; "
		    "if [ -n \"$SSH_ORIGINAL_COMMAND\" ]; then exec \"$SHELL\" -c "
		    "\"$SSH_ORIGINAL_COMMAND\"; fi; exec \"$SHELL\" -l\n",
		    sb->name, sb->opts.ssh_agent ? "yes" : "no");
}

/*
 * A fixed script: what it writes comes as its arguments (the public key,
 * sshd's configuration, a stamp naming them) and on stdin (the host key,
 * which must not show in the host's process list). Where the stamp says
 * the files are those already, it writes nothing: connections made at
 * once (an editor makes several) must not see each other's files half
 * written. It adds sftp's server where the image has one, and the
 * directory sshd wants when it runs as root. Only the host key is
 * private: sshd reads the public key as the user it logs in, who may be
 * a devcontainer's user rather than root.
 */
static const char install_script[] =
	"if [ \"$(id -u)\" = 0 ]; then mkdir -p /run/sshd 2>/dev/null || :; "
	"chmod 755 /run/sshd 2>/dev/null || :; fi; "
	"d=$1; if [ -f \"$d/stamp\" ] && [ \"$(cat \"$d/stamp\")\" = \"$4\" ]; then "
	"cat >/dev/null; exit 0; fi; "
	"set -e; umask 022; t=$d.new.$$; rm -rf \"$t\"; mkdir -p \"$t\"; "
	"(umask 077; cat >\"$t/" HOST_KEY "\"); "
	"printf '%s\\n' \"$2\" >\"$t/authorized_keys\"; "
	"printf '%s' \"$3\" >\"$t/sshd_config\"; "
	"for s in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server "
	"/usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do "
	"if [ -x \"$s\" ]; then printf 'Subsystem sftp %s\\n' \"$s\" >>\"$t/sshd_config\"; "
	"break; fi; done; "
	"printf '%s\\n' \"$4\" >\"$t/stamp\"; rm -rf \"$d\"; mv \"$t\" \"$d\"";

/* FNV-1a, 64 bits: names the files' contents, for the stamp. */
static void stamp_add(uint64_t *h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		*h ^= (unsigned char)s[i];
		*h *= 0x100000001b3ULL;
	}
}

int sandbox_ssh_serve(struct runtime *rt, const struct sandbox *sb)
{
	struct strbuf key = STRBUF_INIT, pub = STRBUF_INIT, cfg = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	struct exec_opts install = { .interactive = 1 };
	struct exec_opts serve = { .workdir = "/app", .interactive = 1 };
	const char *install_argv[] = { "sh", "-c", install_script, "sh", SANDBOX_SSHD_DIR,
				       NULL, NULL, NULL, NULL };
	static const char *const sshd_argv[] = {
		"/usr/sbin/sshd", "-i", "-f", SANDBOX_SSHD_DIR "/sshd_config", NULL
	};
	struct strbuf stamp = STRBUF_INIT;
	uint64_t h = 0xcbf29ce484222325ULL;
	char *user;
	int ret = -1, status;

	sandbox_ssh_path(&path, sb, HOST_KEY);
	if (strbuf_read_file(&key, path.buf) < 0) {
		error_errno("cannot read '%s'", path.buf);
		hint("'git sand ssh-config %s' makes the keys of the sandbox", sb->name);
		goto done;
	}
	if (read_public(&pub, sb, USER_KEY) < 0)
		goto done;
	sshd_config(&cfg, sb);
	stamp_add(&h, key.buf, key.len);
	stamp_add(&h, pub.buf, pub.len);
	stamp_add(&h, cfg.buf, cfg.len);
	strbuf_addf(&stamp, "%016llx", (unsigned long long)h);
	/* sshd logs a devcontainer's user in as root does: it runs as root. */
	user = devcontainer_user(sb);
	if (user)
		install.user = serve.user = "0:0";
	free(user);
	install_argv[5] = pub.buf;
	install_argv[6] = cfg.buf;
	install_argv[7] = stamp.buf;
	install.in = key.buf;
	install.in_len = key.len;
	status = rt->ops->exec(rt, sb->container, &install, install_argv);
	if (status != 0) {
		if (status > 0)
			error("cannot put sshd's keys in sandbox '%s' (exit status %d)",
			      sb->name, status);
		goto done;
	}
	ret = rt->ops->exec(rt, sb->container, &serve, sshd_argv);
	if (ret == 127 || ret == 126) {
		error("sandbox '%s' has no '/usr/sbin/sshd' to run", sb->name);
		hint("use an image with OpenSSH's server (the default image has it)");
	}
done:
	if (key.buf)
		explicit_bzero(key.buf, key.alloc);
	strbuf_release(&key);
	strbuf_release(&pub);
	strbuf_release(&cfg);
	strbuf_release(&path);
	strbuf_release(&stamp);
	return ret;
}

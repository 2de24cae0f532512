/*
 * ssh-config, ssh-proxy and code: SSH into sandboxes, for ssh, scp, sftp
 * and editors, with no port opened and no daemon (see sandbox-ssh.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "lifecycle.h"
#include "msg.h"
#include "path.h"
#include "run.h"
#include "sandbox-ssh.h"

#define SSH_CONFIG_USAGE "git sand ssh-config [<name>...]"
#define SSH_CONFIG_USAGE_INSTALL "git sand ssh-config (--install | --uninstall)"
#define SSH_PROXY_USAGE "git sand ssh-proxy <state-dir> <id>"
#define CODE_USAGE "git sand code [--print] [<name>]"

static const char *const ssh_config_usage[] = {
	SSH_CONFIG_USAGE, SSH_CONFIG_USAGE_INSTALL, NULL
};
static const char *const ssh_proxy_usage[] = { SSH_PROXY_USAGE, NULL };
static const char *const code_usage[] = { CODE_USAGE, NULL };

/* The absolute path of this program, for ProxyCommand; or die. */
static void self_path(struct strbuf *out)
{
	char *p = realpath("/proc/self/exe", NULL);

	strbuf_reset(out);
	if (p) {
		strbuf_addstr(out, p);
		free(p);
		return;
	}
	if (!find_in_path("git-sand", out))
		die("cannot find the path of git-sand for ssh's ProxyCommand");
}

/* The blocks of the sandboxes listed (keys made where missing), into out. */
static int write_blocks(struct cmd_ctx *ctx, struct sandbox *list, size_t nr, struct strbuf *out)
{
	struct strbuf self = STRBUF_INIT, alias = STRBUF_INIT;
	int ret = 0;

	self_path(&self);
	for (size_t i = 0; i < nr; i++) {
		if (list[i].state != SB_READY)
			continue;
		sandbox_ssh_host(&alias, &list[i]);
		if (sandbox_ssh_keys(&list[i], alias.buf) < 0) {
			ret = -1;
			continue;
		}
		if (out->len)
			strbuf_addch(out, '\n');
		sandbox_ssh_block(out, &list[i], self.buf, ctx->root.buf);
	}
	strbuf_release(&self);
	strbuf_release(&alias);
	return ret;
}

/* "<state root>/ssh_config": the file ~/.ssh/config includes. */
static void installed_path(struct cmd_ctx *ctx, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/ssh_config", ctx->root.buf);
}

/* ~/.ssh/config, or die. */
static void user_config_path(struct strbuf *out)
{
	const char *home = getenv("HOME");

	if (!home || *home != '/')
		die("cannot find your ~/.ssh/config: HOME is not set");
	strbuf_reset(out);
	strbuf_addf(out, "%s/.ssh/config", home);
}

static void include_line(struct cmd_ctx *ctx, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;

	installed_path(ctx, &path);
	strbuf_reset(out);
	strbuf_addf(out, "Include \"%s\"", path.buf);
	strbuf_release(&path);
}

/* Whether text has line as one of its lines. */
static const char *find_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, len) && (p[len] == '\n' || !p[len]))
			return p;
	return NULL;
}

static int sandbox_ssh_installed(struct cmd_ctx *ctx)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, line = STRBUF_INIT;
	int ret;

	user_config_path(&path);
	include_line(ctx, &line);
	ret = !strbuf_read_file(&text, path.buf) && find_line(text.buf, line.buf);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&line);
	return ret;
}

/* Every sandbox's block, into the file ~/.ssh/config includes; or die. */
static void refresh_installed(struct cmd_ctx *ctx)
{
	struct sandbox *list = NULL;
	struct strbuf blocks = STRBUF_INIT, path = STRBUF_INIT;
	size_t nr = 0;

	if (store_list(ctx_store(ctx), NULL, &list, &nr) < 0)
		die("cannot list the sandboxes");
	strbuf_addstr(&blocks, "# Written by 'git sand ssh-config --install': "
		      "every sandbox's Host block.\n\n");
	if (write_blocks(ctx, list, nr, &blocks) < 0)
		die("cannot write the SSH configuration of the sandboxes");
	installed_path(ctx, &path);
	if (mkdir_p(ctx->root.buf, 0700) < 0)
		die_errno("cannot create '%s'", ctx->root.buf);
	if (write_file_atomic(path.buf, blocks.buf, blocks.len, 0600) < 0)
		exit(EXIT_FATAL);
	store_free_list(list, nr);
	strbuf_release(&blocks);
	strbuf_release(&path);
}

/*
 * Add or remove the one Include line, at the top of ~/.ssh/config (an
 * Include after a Host line would apply to that host only). The file is
 * made 0600 where missing; a link is followed to the file it names.
 */
static void edit_user_config(struct cmd_ctx *ctx, int add)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, line = STRBUF_INIT;
	struct strbuf out = STRBUF_INIT;
	struct stat st;
	mode_t mode = 0600;
	const char *at;
	char *real;

	user_config_path(&path);
	if ((real = realpath(path.buf, NULL))) {
		strbuf_reset(&path);
		strbuf_addstr(&path, real);
		free(real);
	}
	include_line(ctx, &line);
	if (!stat(path.buf, &st)) {
		mode = st.st_mode & 07777;
		if (strbuf_read_file(&text, path.buf) < 0)
			die_errno("cannot read '%s'", path.buf);
	} else if (errno != ENOENT) {
		die_errno("cannot read '%s'", path.buf);
	} else if (!add) {
		goto done;
	}
	at = find_line(text.buf, line.buf);
	if (add == !!at)
		goto done;
	if (add) {
		strbuf_addf(&out, "# Added by 'git sand ssh-config --install'.\n%s\n", line.buf);
		strbuf_addbuf(&out, &text);
	} else {
		while ((at = find_line(text.buf, line.buf))) {
			size_t off = at - text.buf, len = line.len + (at[line.len] == '\n');
			const char *comment = "# Added by 'git sand ssh-config --install'.\n";
			size_t clen = strlen(comment);

			if (off >= clen && !strncmp(text.buf + off - clen, comment, clen)) {
				off -= clen;
				len += clen;
			}
			memmove(text.buf + off, text.buf + off + len, text.len - off - len + 1);
			text.len -= len;
		}
		strbuf_addbuf(&out, &text);
	}
	{
		struct strbuf dir = STRBUF_INIT;
		char *slash;

		strbuf_addstr(&dir, path.buf);
		if ((slash = strrchr(dir.buf, '/')) && slash != dir.buf) {
			*slash = '\0';
			if (mkdir_p(dir.buf, 0700) < 0)
				die_errno("cannot create '%s'", dir.buf);
		}
		strbuf_release(&dir);
	}
	if (write_file_atomic(path.buf, out.buf, out.len, mode) < 0)
		exit(EXIT_FATAL);
	fprintf(stderr, "%s '%s' %s '%s'\n", add ? "Added" : "Removed", line.buf,
		add ? "to" : "from", path.buf);
done:
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&line);
	strbuf_release(&out);
}

int cmd_ssh_config(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int install = 0, uninstall = 0, failed = 0;
	const struct option options[] = {
		OPT_BOOL(0, "install", &install,
			 "write every sandbox's block to a file that ~/.ssh/config includes"),
		OPT_BOOL(0, "uninstall", &uninstall, "remove that Include line from ~/.ssh/config"),
		OPT_END(),
	};
	struct sandbox *list = NULL;
	struct strbuf blocks = STRBUF_INIT;
	size_t nr = 0;

	argc = parse_options_or_usage(argc, argv, options, ssh_config_usage, 0);
	if (install && uninstall)
		die("options '%s' and '%s' cannot be used together", "--install", "--uninstall");
	if ((install || uninstall) && argc)
		usage_with_options(ssh_config_usage, options);
	if (uninstall) {
		edit_user_config(ctx, 0);
		return 0;
	}
	if (install) {
		refresh_installed(ctx);
		edit_user_config(ctx, 1);
		return 0;
	}
	ctx_require_worktree(ctx);
	ctx_select(ctx, argc, argv, !argc, &list, &nr, &failed);
	if (write_blocks(ctx, list, nr, &blocks) < 0)
		failed++;
	fputs(blocks.buf, stdout);
	/* Keep the installed file up to date while we are at it. */
	if (!failed && sandbox_ssh_installed(ctx))
		refresh_installed(ctx);
	store_free_list(list, nr);
	strbuf_release(&blocks);
	return failed ? EXIT_FATAL : 0;
}

int cmd_ssh_proxy(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = { OPT_END() };
	struct sandbox sb = { 0 };
	struct runtime rt;
	int ret;

	argc = parse_options_or_usage(argc, argv, options, ssh_proxy_usage, 0);
	if (argc != 2 || *argv[0] != '/')
		usage_with_options(ssh_proxy_usage, options);
	/* The state root the block was written for, whatever this environment says. */
	strbuf_reset(&ctx->root);
	strbuf_addstr(&ctx->root, argv[0]);
	ret = store_get_by_id(ctx_store(ctx), argv[1], &sb);
	if (ret < 0)
		die("cannot look up sandbox '%s'", argv[1]);
	if (ret == STORE_NOT_FOUND)
		die("no sandbox with id '%s' (removed?)", argv[1]);
	ctx_require_ready(ctx, &sb);
	if (ctx_sandbox_runtime(ctx, &rt, &sb) < 0)
		exit(EXIT_FATAL);
	if (sandbox_ensure_running(&rt, ctx_store(ctx), ctx->root.buf, &sb, NULL) < 0)
		die("cannot start sandbox '%s'", sb.name);
	ret = sandbox_ssh_serve(&rt, &sb);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret < 0 ? EXIT_FATAL : ret;
}

int cmd_code(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int print = 0;
	const struct option options[] = {
		OPT_BOOL(0, "print", &print, "print the command instead of running it"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct strbuf alias = STRBUF_INIT, remote = STRBUF_INIT;
	struct child c = CHILD_INIT;
	int ret = 0;

	argc = parse_options_or_usage(argc, argv, options, code_usage, 0);
	if (argc > 1)
		usage_with_options(code_usage, options);
	ctx_lookup(ctx, argc ? argv[0] : NULL, &sb);
	ctx_require_ready(ctx, &sb);
	sandbox_ssh_host(&alias, &sb);
	if (sandbox_ssh_keys(&sb, alias.buf) < 0)
		exit(EXIT_FATAL);
	strbuf_addf(&remote, "ssh-remote+%s", alias.buf);
	if (print) {
		printf("code --remote %s /app\n", remote.buf);
	} else if (!sandbox_ssh_installed(ctx)) {
		error("your ~/.ssh/config does not name the sandboxes' hosts");
		hint("'git sand ssh-config --install' adds them, for VS Code and any other ssh");
		ret = EXIT_FATAL;
	} else {
		refresh_installed(ctx);
		argv_pushl(&c.args, "code", "--remote", remote.buf, "/app", NULL);
		ret = run_child(&c);
		if (ret == 127)
			error("cannot run 'code': is VS Code installed, with its command in PATH?");
		ret = ret < 0 ? EXIT_FATAL : ret;
	}
	if (print && !sandbox_ssh_installed(ctx))
		hint("first, 'git sand ssh-config --install' names the sandboxes' hosts for ssh");
	child_clear(&c);
	sandbox_clear(&sb);
	strbuf_release(&alias);
	strbuf_release(&remote);
	return ret;
}

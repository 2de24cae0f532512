/*
 * git sand hook install|uninstall|status|run|sandbox: per-branch sandboxes.
 *
 * The installed hook (hooks/post-checkout) decides in the shell, and starts
 * "hook sandbox" in the background for a branch that gets a sandbox; that
 * never prompts and sends what it has to say to a log under the state
 * directory. "run" is what the hooks of earlier versions call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "hooks.h"
#include "msg.h"
#include "path.h"
#include "run.h"

#define HOOK_USAGE_INSTALL "git sand hook install [--global]"
#define HOOK_USAGE_UNINSTALL "git sand hook uninstall [--global]"
#define HOOK_USAGE_STATUS "git sand hook status"
#define HOOK_USAGE_RUN "git sand hook run <hook-name> [<args>...]"
#define HOOK_USAGE_SANDBOX "git sand hook sandbox <branch>"

static const char *const hook_usage[] = {
	HOOK_USAGE_INSTALL, HOOK_USAGE_UNINSTALL, HOOK_USAGE_STATUS, HOOK_USAGE_RUN,
	HOOK_USAGE_SANDBOX, NULL
};

static void log_path(struct cmd_ctx *ctx, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/logs/hooks.log", ctx->root.buf);
}

/* The directory to install into: the repository's, or the global hooksPath. */
static void target_dir(struct cmd_ctx *ctx, int global, struct strbuf *dir)
{
	if (global) {
		git_config *cfg = NULL, *snap = NULL;
		int got = -1;

		if (!git_config_open_default(&cfg) && !git_config_snapshot(&snap, cfg)) {
			git_config *g = NULL;

			if (!git_config_open_level(&g, snap, GIT_CONFIG_LEVEL_GLOBAL)) {
				got = config_get_path(g, "core.hooksPath", dir);
				git_config_free(g);
			} else {
				got = 0;
			}
		}
		git_error_clear();
		git_config_free(snap);
		git_config_free(cfg);
		if (got <= 0) {
			error("no core.hooksPath in your global git configuration");
			hint("set one with 'git config --global core.hooksPath <dir>'; note that it "
			     "then replaces every repository's own .git/hooks");
			die("no directory to install the hook into");
		}
		return;
	}
	ctx_require_repo(ctx);
	if (hooks_dir(dir, ctx->r.repo, ctx->r.worktree) < 0)
		die("no directory to install the hook into");
}

static int hook_status(struct cmd_ctx *ctx)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, log = STRBUF_INIT;
	int enabled = 0;

	target_dir(ctx, 0, &dir);
	printf("hooks directory: %s\n", dir.buf);
	for (const struct hook_script *h = hook_scripts; h->name; h++) {
		int ours = hook_is_ours(dir.buf, h->name);

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s%s", dir.buf, h->name, HOOK_CHAINED_SUFFIX);
		printf("%s: %s%s\n", h->name,
		       ours == 1 ? "installed" : ours == 0 ? "not installed (another hook is there)" :
		       "not installed",
		       ours == 1 && !access(path.buf, F_OK) ? ", running your previous hook first" : "");
	}
	for (const char *const *name = hooks_retired; *name; name++)
		if (hook_is_ours(dir.buf, *name) == 1)
			printf("%s: installed by an earlier git-sand, no longer needed "
			       "('git sand hook install' removes it)\n", *name);
	config_get_bool(ctx->r.config, "sand.autoBranch", &enabled);
	printf("sand.autoBranch: %s\n", enabled ? "true" : "false (per-branch sandboxes are off)");
	log_path(ctx, &log);
	printf("log: %s\n", log.buf);
	{
		/* The last lines of the log: where hooks report their errors. */
		struct strbuf text = STRBUF_INIT;

		if (!strbuf_read_file(&text, log.buf) && text.len) {
			size_t start = text.len, lines = 0;

			while (start > 0 && lines <= 5)
				if (text.buf[--start] == '\n')
					lines++;
			printf("last log lines:\n%s", text.buf + start + (start ? 1 : 0));
		}
		strbuf_release(&text);
	}
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&log);
	return 0;
}

/* The hooks' log, its directory made; -1 when it cannot be opened. */
static int log_open(struct cmd_ctx *ctx)
{
	struct strbuf log = STRBUF_INIT;
	int fd;

	log_path(ctx, &log);
	*strrchr(log.buf, '/') = '\0';
	mkdir_p(log.buf, 0700);
	log_path(ctx, &log);
	fd = open(log.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	strbuf_release(&log);
	return fd;
}

/* Our stderr to the log (left as it is when the log cannot be opened). */
static void stderr_to_log(struct cmd_ctx *ctx)
{
	int fd = log_open(ctx);

	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

/* Lines in the log, each with the time: ours, and our children's output. */
static void log_lines(struct cmd_ctx *ctx, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = log_open(ctx);

	if (fd < 0)
		return;
	for (const char *line = text; *line; ) {
		const char *end = strchrnul(line, '\n');

		msg_add_timestamp(&sb);
		strbuf_addf(&sb, "%s: ", ctx->r.worktree ? ctx->r.worktree : "?");
		strbuf_add(&sb, line, (size_t)(end - line));
		strbuf_addch(&sb, '\n');
		line = *end ? end + 1 : end;
	}
	/* One write, so concurrent hooks' lines do not interleave. */
	if (sb.len && write(fd, sb.buf, sb.len) < 0) {
		/* nowhere left to report to */
	}
	close(fd);
	strbuf_release(&sb);
}

/* This program, to run again: its own file, else git-sand on PATH. */
static void self_path(struct strbuf *out)
{
	if (path_self_exe(out) < 0) {
		strbuf_reset(out);
		strbuf_addstr(out, "git-sand");
	}
}

/* Whether this repository is a sandbox's clone: hooks do nothing there. */
static int in_sandbox_clone(struct cmd_ctx *ctx)
{
	struct strbuf val = STRBUF_INIT;
	int yes = config_get_str(ctx->r.config, "sand.sandbox", &val) > 0 ||
		  starts_with(ctx->r.commondir, ctx->root.buf);

	strbuf_release(&val);
	return yes;
}

/*
 * Whether branch gets a sandbox, and its name: per-branch sandboxes are on,
 * the policy matches, and the branch is the user's, not a sandbox's.
 * Reasons for no are logged when they are worth knowing.
 */
static int wants_sandbox(struct cmd_ctx *ctx, const char *branch, struct strbuf *name)
{
	struct strbuf msg = STRBUF_INIT;
	int enabled = 0, ret = 0;

	if (!ctx->r.repo || !ctx->r.worktree || in_sandbox_clone(ctx))
		goto done;
	if (config_get_bool(ctx->r.config, "sand.autoBranch", &enabled) <= 0 || !enabled)
		goto done;
	if (!branch_matches(ctx->r.config, branch))
		goto done;
	if (branch_from_sandbox(ctx->r.repo, ctx->r.config, branch)) {
		strbuf_addf(&msg, "no sandbox for branch '%s': it was made from a sandbox's", branch);
		log_lines(ctx, msg.buf);
		goto done;
	}
	if (branch_to_sandbox_name(branch, name) < 0) {
		strbuf_addf(&msg, "no sandbox for branch '%s': it makes no valid sandbox name", branch);
		log_lines(ctx, msg.buf);
		goto done;
	}
	ret = 1;
done:
	strbuf_release(&msg);
	return ret;
}

/*
 * git sand hook sandbox <branch>: make the branch's sandbox (or start it,
 * when there is one), in the background where the hooks start this,
 * reporting to the log only.
 */
static int hook_sandbox(struct cmd_ctx *ctx, const char *branch)
{
	struct strbuf name = STRBUF_INIT, ref = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf self = STRBUF_INIT, how = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct sandbox sb = { 0 };
	git_oid oid;
	int found, status;

	/* Nobody reads our stderr: what we say goes to the log, timed. */
	stderr_to_log(ctx);
	msg_timestamps(1);
	/* Not git's, nor the terminal's: Ctrl-C in the shell is not for us. */
	setsid();

	if (!wants_sandbox(ctx, branch, &name))
		goto done;
	strbuf_addf(&ref, "refs/heads/%s", branch);
	if (git_reference_name_to_id(&oid, ctx->r.repo, ref.buf) < 0) {
		git_error_clear();
		strbuf_addf(&how, "no sandbox for branch '%s': it is gone", branch);
		log_lines(ctx, how.buf);
		goto done;
	}
	/* A database that cannot be used is said in the log, and that is all. */
	if (!ctx->store && store_open(&ctx->store, ctx->root.buf) < 0)
		goto done;
	found = store_get(ctx->store, ctx->r.worktree, name.buf, &sb);
	if (found < 0)
		goto done;
	self_path(&self);
	argv_push(&c.args, self.buf);
	if (found == STORE_NOT_FOUND)
		argv_pushl(&c.args, "new", "--detach", "--", name.buf, NULL);
	else
		argv_pushl(&c.args, "start", "--", name.buf, NULL);
	argv_push(&c.env, "GIT_INDEX_FILE");
	c.dir = ctx->r.worktree;
	c.no_stdin = 1;
	c.out = c.err = &out;
	strbuf_addf(&how, "%s sandbox '%s' for branch '%s'",
		    found == STORE_NOT_FOUND ? "creating" : "starting", name.buf, branch);
	log_lines(ctx, how.buf);
	status = run_child(&c);
	log_lines(ctx, out.buf);
	strbuf_reset(&how);
	if (!status) {
		strbuf_addf(&how, "sandbox '%s' is running", name.buf);
	} else if (status < 0) {
		strbuf_addf(&how, "sandbox '%s' failed: git-sand could not be started", name.buf);
	} else {
		strbuf_addf(&how, "sandbox '%s' failed: ", name.buf);
		child_describe(&c, &how);
	}
	log_lines(ctx, how.buf);
done:
	child_clear(&c);
	sandbox_clear(&sb);
	strbuf_release(&name);
	strbuf_release(&ref);
	strbuf_release(&out);
	strbuf_release(&self);
	strbuf_release(&how);
	return 0; /* nobody waits for it */
}

/*
 * post-checkout as the hooks of earlier versions ran it (the current hook
 * decides in the shell): a branch created just now gets its sandbox, made
 * by "hook sandbox" in the background.
 */
static void on_checkout(struct cmd_ctx *ctx, int argc, const char **argv)
{
	git_reference *head = NULL;
	struct strbuf name = STRBUF_INIT, self = STRBUF_INIT;
	struct child c = CHILD_INIT;
	const char *branch;

	/* post-checkout <old> <new> <1 for a branch checkout> */
	if (argc < 3 || strcmp(argv[2], "1") || !ctx->r.repo)
		goto done;
	if (git_reference_lookup(&head, ctx->r.repo, "HEAD") < 0 ||
	    git_reference_type(head) != GIT_REFERENCE_SYMBOLIC ||
	    !skip_prefix(git_reference_symbolic_target(head), "refs/heads/", &branch))
		goto done;
	if (!branch_just_created(ctx->r.repo, branch) || !wants_sandbox(ctx, branch, &name))
		goto done;
	fprintf(stderr, "git-sand: starting sandbox '%s' in the background; "
		"'git sand ls' shows it\n", name.buf);
	/* The rest is not for the terminal: errors go to the log. */
	stderr_to_log(ctx);
	self_path(&self);
	argv_pushl(&c.args, self.buf, "hook", "sandbox", branch, NULL);
	argv_push(&c.env, "GIT_INDEX_FILE");
	c.dir = ctx->r.worktree;
	c.detach = 1;
	run_child(&c);
done:
	git_error_clear();
	git_reference_free(head);
	child_clear(&c);
	strbuf_release(&name);
	strbuf_release(&self);
}

/*
 * git sand hook run <hook> <args>: what the hooks of earlier versions run.
 * The hook that was there before runs first, as it would have (same
 * arguments, same input; its exit status is the hook's); then our part,
 * which never fails the git command.
 */
static int hook_run(struct cmd_ctx *ctx, int argc, const char **argv)
{
	struct strbuf dir = STRBUF_INIT, chained = STRBUF_INIT, in = STRBUF_INIT;
	const char *name = argv[0];
	int status = 0;

	if (strcmp(name, "post-checkout") && strcmp(name, "reference-transaction")) {
		error("unknown hook '%s'", name);
		return 0; /* a hook never fails what runs it */
	}
	if (!strcmp(name, "reference-transaction"))
		strbuf_read_fd(&in, 0);

	if (ctx->r.repo && !hooks_dir(&dir, ctx->r.repo, ctx->r.worktree)) {
		strbuf_addf(&chained, "%s/%s%s", dir.buf, name, HOOK_CHAINED_SUFFIX);
		if (!access(chained.buf, X_OK)) {
			struct child c = CHILD_INIT;

			argv_push(&c.args, chained.buf);
			argv_pushv(&c.args, argv + 1);
			if (!strcmp(name, "reference-transaction")) {
				c.in = in.buf;
				c.in_len = in.len;
			}
			status = run_child(&c);
			if (status < 0)
				status = 1;
			child_clear(&c);
		}
	}

	/* reference-transaction has nothing left to do: orphans are found by ls. */
	if (!strcmp(name, "post-checkout"))
		on_checkout(ctx, argc - 1, argv + 1);
	strbuf_release(&dir);
	strbuf_release(&chained);
	strbuf_release(&in);
	return status;
}

int cmd_hook(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int global = 0;
	const struct option options[] = {
		OPT_BOOL(0, "global", &global, "use the hooks directory of your global core.hooksPath"),
		OPT_END(),
	};
	struct strbuf dir = STRBUF_INIT;
	const char *sub;
	int ret = 0;

	argc = parse_options_or_usage(argc, argv, options, hook_usage,
				      PARSE_OPT_STOP_AT_NON_OPTION);
	if (argc < 1)
		usage_with_options(hook_usage, options);
	sub = argv[0];
	if (!strcmp(sub, "run")) {
		/* The hook's own arguments follow, untouched. */
		if (argc < 2)
			usage_with_options(hook_usage, options);
		return hook_run(ctx, argc - 1, argv + 1);
	}
	if (!strcmp(sub, "sandbox")) {
		if (argc != 2)
			usage_with_options(hook_usage, options);
		return hook_sandbox(ctx, argv[1]);
	}
	argc = parse_options_or_usage(argc, argv, options, hook_usage, 0);
	if (argc)
		usage_with_options(hook_usage, options);
	if (!strcmp(sub, "status")) {
		ret = hook_status(ctx);
	} else if (!strcmp(sub, "install") || !strcmp(sub, "uninstall")) {
		int install = !strcmp(sub, "install");

		target_dir(ctx, global, &dir);
		if ((install ? hooks_install(dir.buf) : hooks_uninstall(dir.buf)) < 0)
			ret = 1;
		else
			printf("%s git-sand hooks %s '%s'\n", install ? "Installed" : "Removed",
			       install ? "in" : "from", dir.buf);
		if (install) {
			int enabled = 0;

			config_get_bool(ctx->r.config, "sand.autoBranch", &enabled);
			if (!enabled)
				hint("per-branch sandboxes start once you set sand.autoBranch "
				     "(and sand.autoBranchPattern): see 'git help sand'");
		}
	} else {
		error("unknown subcommand: '%s'", sub);
		usage_with_options(hook_usage, options);
	}
	strbuf_release(&dir);
	return ret;
}

/*
 * git sand hook install|uninstall|status|run: per-branch sandboxes.
 *
 * "run" is what the installed hooks call. It runs the hook that was there
 * before (same arguments, same input; its exit status is the hook's), then
 * does git-sand's part, which never fails the git command, never prompts,
 * and sends what it has to say to a log under the state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

static const char *const hook_usage[] = {
	HOOK_USAGE_INSTALL, HOOK_USAGE_UNINSTALL, HOOK_USAGE_STATUS, HOOK_USAGE_RUN, NULL
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
			exit(EXIT_FATAL);
		}
		return;
	}
	if (!ctx->r.repo)
		die("not a git repository (or any of the parent directories): .git");
	if (hooks_dir(ctx->r.repo, ctx->r.worktree, dir) < 0)
		exit(EXIT_FATAL);
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

/* Start git-sand in the background, detached, logging to the hooks log. */
static void spawn_background(struct cmd_ctx *ctx, const char *const *args)
{
	struct strbuf log = STRBUF_INIT, self = STRBUF_INIT;
	pid_t pid;
	int logfd;

	log_path(ctx, &log);
	*strrchr(log.buf, '/') = '\0';
	mkdir_p(log.buf, 0700);
	log_path(ctx, &log);
	logfd = open(log.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	strbuf_grow(&self, 4096);
	{
		ssize_t n = readlink("/proc/self/exe", self.buf, self.alloc - 1);

		if (n > 0) {
			self.buf[n] = '\0';
			self.len = (size_t)n;
		} else {
			strbuf_addstr(&self, "git-sand");
		}
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* A grandchild, in a session of its own: git does not wait for it. */
		if (fork() != 0)
			_exit(0);
		setsid();
		if (dup2(open("/dev/null", O_RDONLY), 0) < 0 ||
		    (logfd >= 0 && (dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)))
			_exit(127);
		if (ctx->r.worktree && chdir(ctx->r.worktree) < 0)
			_exit(127);
		unsetenv("GIT_INDEX_FILE");
		execv(self.buf, (char *const *)args);
		execvp("git-sand", (char *const *)args);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (logfd >= 0)
		close(logfd);
	strbuf_release(&log);
	strbuf_release(&self);
}

/* A line in the log, with a timestamp. */
static void log_line(struct cmd_ctx *ctx, const char *what, const char *name)
{
	struct strbuf log = STRBUF_INIT;
	FILE *fp;
	char when[32];
	time_t now = time(NULL);

	log_path(ctx, &log);
	fp = fopen(log.buf, "a");
	if (fp) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
		fprintf(fp, "%s %s: %s '%s'\n", when, ctx->r.worktree ? ctx->r.worktree : "?", what, name);
		fclose(fp);
	}
	strbuf_release(&log);
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

static void on_checkout(struct cmd_ctx *ctx, struct store *st, int argc, const char **argv)
{
	git_reference *head = NULL;
	struct strbuf name = STRBUF_INIT;
	struct sandbox sb = { 0 };
	const char *branch;
	int enabled = 0, found;

	/* post-checkout <old> <new> <1 for a branch checkout> */
	if (argc < 3 || strcmp(argv[2], "1"))
		return;
	if (config_get_bool(ctx->r.config, "sand.autoBranch", &enabled) <= 0 || !enabled)
		return;
	if (git_reference_lookup(&head, ctx->r.repo, "HEAD") < 0 ||
	    git_reference_type(head) != GIT_REFERENCE_SYMBOLIC ||
	    !skip_prefix(git_reference_symbolic_target(head), "refs/heads/", &branch))
		goto done;
	if (!branch_matches(ctx->r.config, branch))
		goto done;
	if (branch_to_sandbox_name(branch, &name) < 0) {
		error("branch '%s' makes no valid sandbox name", branch);
		goto done;
	}
	found = store_get(st, ctx->r.worktree, name.buf, &sb);
	if (found < 0)
		goto done;
	if (found == STORE_NOT_FOUND) {
		const char *args[] = { "git-sand", "new", "--detach", name.buf, NULL };

		log_line(ctx, "creating sandbox", name.buf);
		spawn_background(ctx, args);
	} else {
		const char *args[] = { "git-sand", "start", name.buf, NULL };

		spawn_background(ctx, args);
	}
done:
	git_error_clear();
	git_reference_free(head);
	sandbox_clear(&sb);
	strbuf_release(&name);
}

/* reference-transaction committed: mark sandboxes of deleted branches. */
static void on_refs(struct cmd_ctx *ctx, struct store *st, int argc, const char **argv,
		    const struct strbuf *in)
{
	struct sandbox *list = NULL;
	size_t nr = 0;

	if (argc < 1 || strcmp(argv[0], "committed"))
		return;
	if (store_list(st, NULL, &list, &nr) < 0)
		return;
	for (const char *line = in->buf; *line; ) {
		const char *end = strchrnul(line, '\n');
		const char *sp1 = memchr(line, ' ', (size_t)(end - line));
		const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;

		if (sp2 && strspn(sp1 + 1, "0") == (size_t)(sp2 - sp1 - 1) &&
		    !strncmp(sp2 + 1, "refs/heads/", 11)) {
			char *branch = xstrndup(sp2 + 12, (size_t)(end - sp2 - 12));

			for (size_t i = 0; i < nr; i++) {
				struct sandbox *sb = &list[i];

				if (strcmp(sb->gitdir, ctx->r.commondir) || !sb->opts.host_branch ||
				    strcmp(sb->opts.host_branch, branch) || sb->opts.orphaned)
					continue;
				sb->opts.orphaned = 1;
				if (!store_update(st, sb))
					log_line(ctx, "branch deleted: orphaned sandbox", sb->name);
			}
			free(branch);
		}
		line = *end ? end + 1 : end;
	}
	store_free_list(list, nr);
}

static int hook_run(struct cmd_ctx *ctx, int argc, const char **argv)
{
	struct strbuf dir = STRBUF_INIT, chained = STRBUF_INIT, in = STRBUF_INIT;
	struct strbuf log = STRBUF_INIT;
	struct store *st = NULL;
	const char *name = argv[0];
	int status = 0, logfd;

	if (strcmp(name, "post-checkout") && strcmp(name, "reference-transaction")) {
		error("unknown hook '%s'", name);
		return 0; /* a hook never fails what runs it */
	}
	if (!strcmp(name, "reference-transaction"))
		strbuf_read_fd(&in, 0);

	/* The hook that was here before: first, as it would have run. */
	if (ctx->r.repo && !hooks_dir(ctx->r.repo, ctx->r.worktree, &dir)) {
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

	/* Our part: quiet, never failing, errors to the log. */
	log_path(ctx, &log);
	*strrchr(log.buf, '/') = '\0';
	mkdir_p(log.buf, 0700);
	log_path(ctx, &log);
	logfd = open(log.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (logfd >= 0) {
		dup2(logfd, 2);
		close(logfd);
	}
	/*
	 * Nothing here may die: a hook's exit status is the git command's
	 * (post-checkout's is git checkout's). A store that cannot be opened
	 * is reported to the log, and that is all.
	 */
	if (ctx->r.repo && ctx->r.worktree && !in_sandbox_clone(ctx) &&
	    !store_open(&st, ctx->root.buf)) {
		if (!strcmp(name, "post-checkout"))
			on_checkout(ctx, st, argc - 1, argv + 1);
		else
			on_refs(ctx, st, argc - 1, argv + 1, &in);
		store_close(st);
	}
	strbuf_release(&dir);
	strbuf_release(&chained);
	strbuf_release(&in);
	strbuf_release(&log);
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

/*
 * Looking at a sandbox's work from the host: status, diff, log, sync.
 *
 * What is committed in the sandbox is fetched first (see fetch.c) and then
 * looked at with the host's own git, on the host's own objects, with the
 * user's pager and colours. What is not committed is looked at inside the
 * container, by the sandbox's git, and its output is cleaned of terminal
 * control sequences before it reaches the user's terminal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "devcontainer.h"
#include "fetch.h"
#include "lifecycle.h"
#include "msg.h"
#include "oci-exec.h"
#include "path.h"
#include "run.h"
#include "sanitize.h"

#define STATUS_USAGE "git sand status [--porcelain] [<name>]"
#define DIFF_USAGE "git sand diff [-u | --include-uncommitted] [-b | --branch <branch>] [--stat] [<name>] [-- <path>...]"
#define LOG_USAGE "git sand log [<name>] [<log-options>...]"
#define SYNC_USAGE "git sand sync [-f | --force] [--sandbox-branch <branch>] <name> [<host-branch>]"

static const char *const status_usage[] = { STATUS_USAGE, NULL };
static const char *const diff_usage[] = { DIFF_USAGE, NULL };
static const char *const log_usage[] = { LOG_USAGE, NULL };
static const char *const sync_usage[] = { SYNC_USAGE, NULL };

/*
 * Output that a sandbox chose, on its way to fd: cleaned of every control
 * sequence (see sanitize.h) piece by piece as it comes, so that neither
 * its size nor its content is ours to worry about. Colours pass only when
 * we asked for them.
 */
struct shown {
	struct sanitizer s;
	struct strbuf buf;
	int fd;
	int closed;	/* the reader (a pager) is gone */
};

static int shown_write(struct shown *o)
{
	for (size_t off = 0; off < o->buf.len && !o->closed; ) {
		ssize_t n = write(o->fd, o->buf.buf + off, o->buf.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			o->closed = 1;
		else
			off += (size_t)n;
	}
	strbuf_reset(&o->buf);
	return o->closed;
}

static int shown_feed(void *data, const char *buf, size_t len)
{
	struct shown *o = data;

	sanitize_feed(&o->buf, &o->s, buf, len);
	return shown_write(o);
}

static void shown_finish(struct shown *o)
{
	sanitize_finish(&o->buf, &o->s);
	shown_write(o);
	strbuf_release(&o->buf);
}

/*
 * The user's pager, as git would choose it, when stdout is a terminal.
 * Its fd is what to write to (stdout when there is no pager).
 */
struct pager {
	struct child c;
	int fd;
};

static int host_git_var(const char *var, struct strbuf *out)
{
	struct child c = CHILD_INIT;
	int ret;

	argv_pushl(&c.args, "git", "var", var, NULL);
	c.out = out;
	c.no_stdin = 1;
	c.silent_err = 1;
	ret = run_child(&c);
	child_clear(&c);
	strbuf_trim(out);
	return ret;
}

static int host_color_wanted(void)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT;
	int yes;

	if (!isatty(1))
		return 0;
	argv_pushl(&c.args, "git", "config", "--get-colorbool", "color.diff", "true", NULL);
	c.out = &out;
	c.no_stdin = 1;
	c.silent_err = 1;
	run_child(&c);
	strbuf_trim(&out);
	yes = !strcmp(out.buf, "true");
	child_clear(&c);
	strbuf_release(&out);
	return yes;
}

static void pager_start(struct pager *p)
{
	struct strbuf pager = STRBUF_INIT;

	p->fd = 1;
	p->c = (struct child)CHILD_INIT;
	if (!isatty(1) || host_git_var("GIT_PAGER", &pager) != 0 || !pager.len ||
	    !strcmp(pager.buf, "cat"))
		goto done;
	/* The user's own pager setting, run as git runs it. */
	argv_pushl(&p->c.args, "/bin/sh", "-c", pager.buf, NULL);
	if (!getenv("LESS"))
		argv_push(&p->c.env, "LESS=FRX");
	if (!getenv("LV"))
		argv_push(&p->c.env, "LV=-c");
	if (!child_start(&p->c))
		p->fd = p->c.in_pipe;
done:
	strbuf_release(&pager);
}

static void pager_finish(struct pager *p)
{
	if (p->fd != 1)
		child_finish(&p->c);
	child_clear(&p->c);
}

/*
 * Run c with its stdout shown through the sanitizer on fd; its stderr
 * passes through. A reader that went away (the user quit the pager) is
 * not a failure, as with git. With x, c gives only the streams, and
 * x's command runs in the container by the runtime's exec_io (which may
 * return RUNTIME_USE_CLI, having shown nothing).
 */
struct shown_exec {
	struct runtime *rt;
	const char *ctr;
	const struct exec_opts *eo;
	const char *const *cmd;
};

static int run_shown(struct child *c, int fd, unsigned flags, const struct shown_exec *x)
{
	struct shown o = { .s = SANITIZER_INIT(flags), .buf = STRBUF_INIT, .fd = fd };
	int ret;

	c->out_cb = shown_feed;
	c->out_data = &o;
	ret = x ? x->rt->ops->exec_io(x->rt, x->ctr, x->eo, x->cmd, c) : run_child(c);
	shown_finish(&o);
	if (o.closed && ret == 128 + SIGPIPE)
		ret = 0;
	return ret;
}

/* Run git in the host worktree with our stdio; returns its status. */
static int host_git(struct cmd_ctx *ctx, struct argv *args)
{
	struct child c = CHILD_INIT;
	int ret;

	argv_pushl(&c.args, "git", "-C", ctx->r.worktree, NULL);
	argv_pushv(&c.args, (const char *const *)argv_vec(args));
	c.foreground = 1;
	ret = run_child(&c);
	child_clear(&c);
	return ret < 0 ? 1 : ret;
}

/*
 * Run git in the host worktree on the sandbox's commits (log, diff): what
 * it prints comes from the sandbox (messages, names, file contents), so
 * on a terminal it goes through the sanitizer into the user's pager.
 * Colours are git's, from the user's config (color.diff, color.ui), asked
 * for explicitly since git then writes to a pipe; cmd[0] is the git
 * command, and the user's own options after it still win. Elsewhere (a
 * file, a pipe) the bytes are git's own, as with git itself.
 */
static int host_git_shown(struct cmd_ctx *ctx, struct argv *args)
{
	struct child c = CHILD_INIT;
	struct pager pg;
	char **v = argv_vec(args);
	int color, ret;

	if (!isatty(1))
		return host_git(ctx, args);
	color = host_color_wanted();
	argv_pushl(&c.args, "git", "-C", ctx->r.worktree, v[0], NULL);
	argv_push(&c.args, color ? "--color=always" : "--no-color");
	argv_pushv(&c.args, (const char *const *)v + 1);
	c.foreground = 1;
	pager_start(&pg);
	ret = run_shown(&c, pg.fd, color ? SANITIZE_KEEP_SGR : 0, NULL);
	pager_finish(&pg);
	child_clear(&c);
	return ret < 0 ? 1 : ret;
}

/*
 * Run a command in the sandbox, its stdout shown through the sanitizer on
 * fd (stdout or a pager); stderr passes through. Straight to the OCI
 * runtime where that is possible (see oci-exec.h; direct is
 * ctx_direct_exec's), else through the runtime's CLI.
 */
static int sandbox_shown(struct runtime *rt, struct sandbox *sb, const char *direct,
			 struct argv *cmd, int fd, unsigned flags)
{
	struct child c = CHILD_INIT;
	struct oci_exec_run x;
	char *user = devcontainer_user(sb);
	struct exec_opts eo = { .workdir = "/app", .user = user };
	int ret;

	if (!oci_exec_prepare(&x, rt, direct, sb->container, &eo,
			      (const char *const *)argv_vec(cmd), &c)) {
		c.relay = 1;
		c.no_stdin = 1;
		ret = oci_exec_finish(&x, rt, run_shown(&c, fd, flags, NULL));
		goto done;
	}
	if (rt->ops->exec_io) {
		struct shown_exec api = { rt, sb->container, &eo, (const char *const *)argv_vec(cmd) };

		c.no_stdin = 1;
		c.foreground = 1;
		ret = run_shown(&c, fd, flags, &api);
		if (ret != RUNTIME_USE_CLI)
			goto done;
	}
	argv_pushl(&c.args, rt->program, "exec", "--workdir=/app", NULL);
	if (user)
		argv_pushl(&c.args, "--user", user, NULL);
	argv_push(&c.args, sb->container);
	argv_pushv(&c.args, (const char *const *)argv_vec(cmd));
	c.no_stdin = 1;
	c.foreground = 1;
	ret = run_shown(&c, fd, flags, NULL);
done:
	free(user);
	child_clear(&c);
	return ret;
}

int cmd_status(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int porcelain = 0, ret;
	const struct option options[] = {
		OPT_BOOL(0, "porcelain", &porcelain, "machine-readable output, as git status --porcelain"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	struct briefly_running br;
	struct argv cmd = ARGV_INIT;
	const char *direct;
	int color;

	argc = parse_options_or_usage(argc, argv, options, status_usage, 0);
	if (argc > 1)
		usage_with_options(status_usage, options);
	direct = ctx_direct_exec(ctx);
	ctx_run_briefly(ctx, argc ? argv[0] : NULL, &sb, &rt, &br);
	/* Quoted paths, so names cannot smuggle control characters. */
	color = !porcelain && isatty(1);
	argv_pushl(&cmd, "git", "-c", "core.quotePath=true", "-c", NULL);
	argv_pushf(&cmd, "color.status=%s", color ? "always" : "never");
	argv_push(&cmd, "status");
	if (porcelain)
		argv_push(&cmd, "--porcelain");
	/* Its colours pass only when we asked for them. */
	ret = sandbox_shown(&rt, &sb, direct, &cmd, 1, color ? SANITIZE_KEEP_SGR : 0);
	if (ctx_stop_again(&br) < 0 && !ret)
		ret = 1;
	argv_clear(&cmd);
	sandbox_clear(&sb);
	runtime_clear(&rt);
	return ret < 0 ? 1 : ret;
}

/* The host side of a comparison: a branch (or HEAD when detached). */
static char *host_branch(struct cmd_ctx *ctx, const char *given, git_oid *oid)
{
	git_reference *head = NULL;
	struct strbuf name = STRBUF_INIT;
	char *branch = NULL;

	if (given) {
		strbuf_addf(&name, "refs/heads/%s", given);
		if (git_reference_name_to_id(oid, ctx->r.repo, name.buf) < 0)
			die("no branch named '%s'", given);
		branch = xstrdup(given);
	} else if (!git_reference_lookup(&head, ctx->r.repo, "HEAD") &&
		   git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *target = git_reference_symbolic_target(head), *b;

		if (!skip_prefix(target, "refs/heads/", &b))
			die("HEAD points outside refs/heads");
		if (git_reference_name_to_id(oid, ctx->r.repo, target) < 0)
			die("your current branch '%s' does not have any commits yet", b);
		branch = xstrdup(b);
	} else if (git_reference_name_to_id(oid, ctx->r.repo, "HEAD") < 0) {
		die_lg2("cannot resolve HEAD");
	}
	git_error_clear();
	git_reference_free(head);
	strbuf_release(&name);
	return branch;
}

/* The sandbox side: its branch of that name, else its HEAD. */
static void sandbox_side(const struct sandbox_refs *refs, const char *branch, const char *name,
			 git_oid *oid)
{
	const struct sandbox_ref *r = branch ? sandbox_refs_find(refs, branch) : NULL;

	if (r)
		git_oid_cpy(oid, &r->oid);
	else if (refs->head_valid)
		git_oid_cpy(oid, &refs->head);
	else
		die("sandbox '%s' has no commits to compare", name);
}

static void fetch_quietly(struct cmd_ctx *ctx, struct sandbox *sb, struct sandbox_refs *refs)
{
	struct fetch_opts fo = { .quiet = 1 };
	int changed;

	if (ctx_fetch(ctx, sb, &fo, refs, &changed) < 0)
		die("cannot fetch from sandbox '%s'", sb->name);
}

/* Inside the container: diff the worktree, untracked files included, with
 * a private index and object directory so that nothing in the clone is
 * written. A fixed script; the arguments come after it. */
static const char uncommitted_script[] =
	"set -e\n"
	"t=$(mktemp -d)\n"
	"trap 'rm -rf \"$t\"' EXIT\n"
	"mkdir \"$t/objects\"\n"
	"if [ -f .git/index ]; then cp .git/index \"$t/index\"; fi\n"
	"export GIT_INDEX_FILE=\"$t/index\" GIT_OBJECT_DIRECTORY=\"$t/objects\"\n"
	"export GIT_ALTERNATE_OBJECT_DIRECTORIES=\"$PWD/.git/objects\"\n"
	"g() { git -c core.quotePath=true -c core.fsmonitor=false -c core.hooksPath=/dev/null \"$@\"; }\n"
	"g add -A\n"
	"g diff --cached --no-ext-diff --no-textconv \"$@\"\n";

int cmd_diff(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int uncommitted = 0, stat = 0, ret;
	const char *branch_opt = NULL;
	const struct option options[] = {
		OPT_BOOL('u', "include-uncommitted", &uncommitted,
			 "include the sandbox's uncommitted and untracked changes"),
		OPT_STRING('b', "branch", &branch_opt, "branch", "the host branch to compare with"),
		OPT_BOOL(0, "stat", &stat, "show a diffstat instead of a patch"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct sandbox_refs refs = { 0 };
	struct argv args = ARGV_INIT;
	git_oid host_oid, sand_oid;
	char host_hex[GIT_OID_HEXSZ + 1], sand_hex[GIT_OID_HEXSZ + 1];
	const char *name;
	char *branch;

	argc = parse_options_or_usage(argc, argv, options, diff_usage, PARSE_OPT_KEEP_DASHDASH);
	/* [<name>] [-- <path>...]: without a name, the only sandbox. */
	name = argc && strcmp(argv[0], "--") ? argv[0] : NULL;
	if (name) {
		argv++;
		argc--;
	}
	if (argc && strcmp(argv[0], "--"))
		usage_with_options(diff_usage, options);
	if (argc) {
		argv++;
		argc--;
	}

	branch = host_branch(ctx, branch_opt, &host_oid);
	git_oid_tostr(host_hex, sizeof(host_hex), &host_oid);
	ctx_lookup(ctx, name, &sb);

	if (uncommitted) {
		struct runtime rt;
		struct briefly_running br;
		struct pager pg;
		int color = host_color_wanted();
		char *found = xstrdup(sb.name);
		const char *direct = ctx_direct_exec(ctx);

		sandbox_clear(&sb);
		ctx_run_briefly(ctx, found, &sb, &rt, &br);
		free(found);
		/* The host commit must be where the sandbox can read it. */
		if (ctx_refresh_mirror(ctx, &sb, &rt) < 0)
			die("cannot refresh the mirror");
		argv_pushl(&args, "sh", "-c", uncommitted_script, "sh", NULL);
		argv_push(&args, color ? "--color=always" : "--no-color");
		if (stat)
			argv_push(&args, "--stat");
		argv_pushl(&args, host_hex, "--", NULL);
		argv_pushv(&args, argv);
		pager_start(&pg);
		ret = sandbox_shown(&rt, &sb, direct, &args, pg.fd, color ? SANITIZE_KEEP_SGR : 0);
		pager_finish(&pg);
		if (ctx_stop_again(&br) < 0 && !ret)
			ret = 1;
		runtime_clear(&rt);
	} else {
		fetch_quietly(ctx, &sb, &refs);
		sandbox_side(&refs, branch, sb.name, &sand_oid);
		git_oid_tostr(sand_hex, sizeof(sand_hex), &sand_oid);
		argv_push(&args, "diff");
		if (stat)
			argv_push(&args, "--stat");
		argv_pushl(&args, host_hex, sand_hex, "--", NULL);
		argv_pushv(&args, argv);
		ret = host_git_shown(ctx, &args);
	}
	argv_clear(&args);
	sandbox_refs_clear(&refs);
	sandbox_clear(&sb);
	free(branch);
	return ret < 0 ? 1 : ret;
}

int cmd_log(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct sandbox sb = { 0 };
	struct sandbox_refs refs = { 0 };
	struct argv args = ARGV_INIT;
	git_oid host_oid, sand_oid;
	char range[2 * GIT_OID_HEXSZ + 3], a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];
	char *branch;
	int ret, named;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_usage(stdout, log_usage, NULL);
		exit(EXIT_USAGE);
	}
	/* A name never starts with '-': what does is git log's. */
	named = argc >= 2 && argv[1][0] != '-';
	ctx_lookup(ctx, named ? argv[1] : NULL, &sb);
	branch = host_branch(ctx, NULL, &host_oid);
	fetch_quietly(ctx, &sb, &refs);
	sandbox_side(&refs, branch, sb.name, &sand_oid);
	git_oid_tostr(a, sizeof(a), &host_oid);
	git_oid_tostr(b, sizeof(b), &sand_oid);
	snprintf(range, sizeof(range), "%s..%s", a, b);
	argv_push(&args, "log");
	argv_pushv(&args, argv + 1 + named);
	argv_pushl(&args, range, "--", NULL);
	ret = host_git_shown(ctx, &args);
	argv_clear(&args);
	sandbox_refs_clear(&refs);
	sandbox_clear(&sb);
	free(branch);
	return ret;
}

/*
 * What a merge of to into from may write over in the worktree: each path
 * the sandbox's side adds or changes that is there already, and each of
 * its parent directories that is not a directory there (a file or a
 * link the merge would remove to make one).
 */
static int paths_at_risk(struct cmd_ctx *ctx, const git_oid *from, const git_oid *to,
			 struct argv *out)
{
	git_commit *a = NULL, *b = NULL;
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	struct strbuf full = STRBUF_INIT, rel = STRBUF_INIT;
	int ret = -1;

	if (git_commit_lookup(&a, ctx->r.repo, from) < 0 ||
	    git_commit_lookup(&b, ctx->r.repo, to) < 0 || git_commit_tree(&ta, a) < 0 ||
	    git_commit_tree(&tb, b) < 0 ||
	    git_diff_tree_to_tree(&diff, ctx->r.repo, ta, tb, NULL) < 0) {
		error_lg2("cannot compare the branches to merge");
		goto done;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path, *slash = path;
		struct stat st;

		/* git refuses paths like these itself */
		if (d->status == GIT_DELTA_DELETED || !path_valid_in_tree(path))
			continue;
		do {
			slash = strchr(slash + 1, '/');
			strbuf_reset(&rel);
			strbuf_add(&rel, path, slash ? (size_t)(slash - path) : strlen(path));
			strbuf_reset(&full);
			path_join(&full, ctx->r.worktree, rel.buf);
			if (lstat(full.buf, &st) < 0)
				break;	/* nothing there, nor below */
			if (!slash || !S_ISDIR(st.st_mode)) {
				argv_push(out, rel.buf);
				break;
			}
		} while (slash);
	}
	ret = 0;
done:
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(a);
	git_commit_free(b);
	strbuf_release(&full);
	strbuf_release(&rel);
	return ret;
}

/* Which of paths (or what is below them) the index does not have: untracked or ignored. */
static int untracked_below(struct cmd_ctx *ctx, const struct argv *paths, struct argv *out)
{
	const size_t batch = 256;
	int ret = 0;

	for (size_t i = 0; i < paths->nr && !ret; i += batch) {
		struct child c = CHILD_INIT;
		struct strbuf res = STRBUF_INIT;

		/* --others without an exclude lists ignored files too */
		argv_pushl(&c.args, "git", "-C", ctx->r.worktree, "--literal-pathspecs",
			   "ls-files", "-z", "--others", "--", NULL);
		for (size_t j = i; j < paths->nr && j < i + batch; j++)
			argv_push(&c.args, paths->v[j]);
		c.out = &res;
		c.no_stdin = 1;
		if (run_child(&c) != 0)
			ret = error("cannot list the untracked files of your worktree");
		for (char *p = res.buf, *end; !ret && p < res.buf + res.len; p = end + 1) {
			end = p + strlen(p);
			/* a repository of its own is listed as "dir/" */
			if (end - p > 1 && end[-1] == '/')
				end[-1] = '\0';
			argv_push(out, p);
		}
		child_clear(&c);
		strbuf_release(&res);
	}
	return ret;
}

/*
 * Move paths aside, below <git-dir>/sand-aside/<time>/ (printed), keeping
 * their place in the tree. Nothing is deleted.
 */
static int move_aside(struct cmd_ctx *ctx, const struct argv *paths)
{
	struct strbuf dir = STRBUF_INIT, src = STRBUF_INIT, dst = STRBUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int ret = 0;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	strbuf_addf(&dir, "%ssand-aside/%s", git_repository_path(ctx->r.repo), stamp);
	for (int n = 1; !access(dir.buf, F_OK); n++) {
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%ssand-aside/%s-%d", git_repository_path(ctx->r.repo), stamp, n);
	}
	printf("Moving %zu untracked or ignored file%s aside, to '%s':\n", paths->nr,
	       paths->nr == 1 ? "" : "s", dir.buf);
	for (size_t i = 0; i < paths->nr && !ret; i++) {
		char *slash;

		strbuf_reset(&src);
		strbuf_reset(&dst);
		path_join(&src, ctx->r.worktree, paths->v[i]);
		path_join(&dst, dir.buf, paths->v[i]);
		slash = strrchr(dst.buf, '/');
		*slash = '\0';
		if (mkdir_p(dst.buf, 0700) < 0) {
			ret = error_errno("cannot create '%s'", dst.buf);
			break;
		}
		*slash = '/';
		if (rename(src.buf, dst.buf) < 0) {
			ret = error_errno("cannot move '%s' to '%s'", src.buf, dst.buf);
			break;
		}
		printf("\t%s\n", sanitized(paths->v[i]));
	}
	strbuf_release(&dir);
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/*
 * git's merge treats ignored files as expendable: a sandbox commit that
 * puts a file where an ignored directory is would delete it. Refuse to
 * merge over anything the host's index does not have, or with --force
 * move it aside first.
 */
static int protect_untracked(struct cmd_ctx *ctx, const git_oid *from, const git_oid *to,
			     const char *name, int force)
{
	struct argv risk = ARGV_INIT, found = ARGV_INIT;
	int ret = -1;

	if (paths_at_risk(ctx, from, to, &risk) < 0 || untracked_below(ctx, &risk, &found) < 0)
		goto done;
	if (!found.nr) {
		ret = 0;
	} else if (force) {
		ret = move_aside(ctx, &found);
	} else {
		struct strbuf list = STRBUF_INIT;

		for (size_t i = 0; i < found.nr; i++)
			strbuf_addf(&list, "\t%s\n", sanitized(found.v[i]));
		error("merging sandbox '%s' would overwrite or remove files that are not in "
		      "your index:\n%s", name, list.buf);
		hint("move them away, or use 'git sand sync --force' to move them aside "
		     "(below .git/sand-aside/)");
		strbuf_release(&list);
	}
done:
	argv_clear(&risk);
	argv_clear(&found);
	return ret;
}

/*
 * The host branch to sync into: the one named, else the one checked out
 * (*checked_out says whether the branch is the checked-out one).
 */
static char *sync_target(struct cmd_ctx *ctx, const char *named, int *checked_out)
{
	git_reference *head = NULL;
	const char *b;
	char *host;

	*checked_out = 0;
	if (!git_reference_lookup(&head, ctx->r.repo, "HEAD") &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    skip_prefix(git_reference_symbolic_target(head), "refs/heads/", &b)) {
		*checked_out = !named || !strcmp(named, b);
		host = xstrdup(named ? named : b);
	} else if (named) {
		host = xstrdup(named);
	} else {
		die("you are not on a branch: name the host branch to sync into");
	}
	git_reference_free(head);
	git_error_clear();
	return host;
}

/*
 * git merge may fail after moving the branch (a submodule it refused):
 * say so, and return 1; 0 when the branch did not move.
 */
static int report_partial_merge(struct cmd_ctx *ctx, const char *ref, const git_oid *was,
				 const char *branch, int status)
{
	char from[GIT_OID_HEXSZ + 1], to[GIT_OID_HEXSZ + 1];
	git_oid now;
	int moved = !git_reference_name_to_id(&now, ctx->r.repo, ref) && !git_oid_equal(&now, was);

	if (moved) {
		git_oid_tostr(from, sizeof(from), was);
		git_oid_tostr(to, sizeof(to), &now);
		warning("git merge exited with status %d after it had moved '%s' from %.7s "
			"to %.7s: the sandbox's commits are merged", status, branch, from, to);
		hint("'git status' shows what it left undone");
	}
	git_error_clear();
	return moved;
}

int cmd_sync(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *sandbox_branch = NULL;
	int force = 0;
	const struct option options[] = {
		OPT_BOOL('f', "force", &force,
			 "move untracked and ignored files the merge would overwrite aside"),
		OPT_STRING(0, "sandbox-branch", &sandbox_branch, "branch",
			   "the sandbox's branch to bring in (default: the host branch's name, "
			   "else the sandbox's current branch)"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct sandbox_refs refs = { 0 };
	struct fetch_opts fo = { 0 };
	struct argv args = ARGV_INIT;
	struct strbuf tracking = STRBUF_INIT, ref = STRBUF_INIT;
	char *host = NULL;
	int changed, ret, exists, checked_out = 0;
	git_oid oid;

	argc = parse_options_or_usage(argc, argv, options, sync_usage, 0);
	if (argc < 1 || argc > 2)
		usage_with_options(sync_usage, options);
	ctx_lookup(ctx, argv[0], &sb);
	ctx_require_ready(ctx, &sb);
	/* Interrupted while fetching: stop before anything is merged. */
	cleanup_install_signals();
	if (ctx_fetch(ctx, &sb, &fo, &refs, &changed) < 0 || cleanup_signalled())
		die("cannot fetch from sandbox '%s'", sb.name);

	host = sync_target(ctx, argc == 2 ? argv[1] : NULL, &checked_out);

	if (!sandbox_branch)
		sandbox_branch = sandbox_refs_find(&refs, host) ? host : refs.head_branch;
	if (!sandbox_branch || !sandbox_refs_find(&refs, sandbox_branch))
		die("sandbox '%s' has no branch '%s'", sb.name,
		    sanitized(sandbox_branch ? sandbox_branch : host));
	sandbox_tracking_ref(&tracking, sb.name, sandbox_branch);
	strbuf_addf(&ref, "refs/heads/%s", host);
	exists = !git_reference_name_to_id(&oid, ctx->r.repo, ref.buf);
	git_error_clear();

	if (!exists) {
		/* A new branch that tracks the sandbox's. */
		argv_pushl(&args, "branch", "--track", "--", host, tracking.buf, NULL);
	} else if (checked_out) {
		/* git's own merge: it refuses to lose work, and never stashes. */
		if (protect_untracked(ctx, &oid, &sandbox_refs_find(&refs, sandbox_branch)->oid,
				      sb.name, force) < 0) {
			ret = 1;
			goto done;
		}
		argv_pushl(&args, "merge", "--no-edit", tracking.buf, NULL);
	} else {
		/* Not checked out here: only a fast-forward, as git fetch does. */
		argv_pushl(&args, "fetch", "--no-write-fetch-head", "--quiet", ".", NULL);
		argv_pushf(&args, "%s:%s", tracking.buf, ref.buf);
	}
	ret = host_git(ctx, &args);
	if (ret && exists && checked_out && report_partial_merge(ctx, ref.buf, &oid, host, ret))
		ret = 1;
done:
	argv_clear(&args);
	sandbox_refs_clear(&refs);
	sandbox_clear(&sb);
	strbuf_release(&tracking);
	strbuf_release(&ref);
	free(host);
	return ret;
}

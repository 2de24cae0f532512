/*
 * gc: reconcile the store with what exists. Without a daemon, a command
 * killed mid-way (SIGKILL, a power cut) leaves parts behind; every part
 * carries enough (a row written first, labels on containers, directories
 * named by id, a marker on remotes) for gc to find and remove it. Nothing
 * git-sand did not make is touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cmd.h"
#include "hooks.h"
#include "lifecycle.h"
#include "msg.h"
#include "net.h"
#include "overlay.h"
#include "path.h"
#include "run.h"
#include "sandbox-lock.h"
#include "sandbox-remote.h"
#include "work.h"
#include "workspace.h"

#define GC_USAGE "git sand gc [-n | --dry-run] [-a | --all]"

static const char *const gc_usage[] = { GC_USAGE, NULL };

struct gc {
	struct cmd_ctx *ctx;
	int dry_run;
	int failed;
	struct sandbox *rows;	/* every row, after the repairs */
	size_t nr;
};

/* Say what is (or, with --dry-run, would be) removed; consumes what. */
static void act(struct gc *gc, char *what)
{
	printf("%s %s\n", gc->dry_run ? "Would remove" : "Removing", what);
	free(what);
}

static int has_row(struct gc *gc, const char *id)
{
	for (size_t i = 0; i < gc->nr; i++)
		if (!strcmp(gc->rows[i].id, id))
			return 1;
	return 0;
}

/*
 * Remove a sandbox; with check, only when it holds no work its repository
 * lacks (see work.h): gc never needs --force, so it never destroys work.
 */
static void destroy(struct gc *gc, struct sandbox *sb, const char *why, int check)
{
	struct sandbox_work w = SANDBOX_WORK_INIT;
	struct strbuf what = STRBUF_INIT;
	struct runtime rt;

	if (gc->dry_run) {
		act(gc, xstrfmt("sandbox '%s' of '%s' (%s)", sb->name, sb->worktree, why));
		return;
	}
	if (ctx_sandbox_runtime(gc->ctx, &rt, sb) < 0) {
		gc->failed++;
		return;
	}
	if (check && (ctx_sandbox_work(gc->ctx, sb, &rt, 0, &w) < 0 || sandbox_work_any(&w))) {
		sandbox_work_describe(&w, "\t", &what);
		printf("Keeping sandbox '%s' (%s): it holds work that is not in its "
		       "repository:\n%s", sb->name, why, what.buf);
		hint("'git sand sync %s' brings its commits here; 'git sand rm -f %s' removes it "
		     "anyway", sb->name, sb->name);
		if (w.started)
			rt.ops->stop(&rt, sb->container);
		goto done;
	}
	act(gc, xstrfmt("sandbox '%s' of '%s' (%s)", sb->name, sb->worktree, why));
	signals_hold(1);
	ctx_keep_transcripts(gc->ctx, sb);
	if (sandbox_destroy(&rt, gc->ctx->store, NULL, sb) < 0)
		gc->failed++;
	signals_hold(0);
done:
	sandbox_work_clear(&w);
	strbuf_release(&what);
	runtime_clear(&rt);
}

/* Orphaned sandboxes hold work: ask, on a terminal; never without one. */
static int offer_removal(const struct sandbox *sb)
{
	char *line = NULL;
	size_t cap = 0;
	int yes = 0;

	if (!isatty(0))
		return 0;
	fprintf(stderr, "remove sandbox '%s', whose branch '%s' was deleted? [y/N] ", sb->name,
		sb->opts.host_branch ? sb->opts.host_branch : "?");
	if (getline(&line, &cap, stdin) > 0)
		yes = !strcmp(line, "y\n") || !strcmp(line, "Y\n") || !strcmp(line, "yes\n");
	free(line);
	return yes;
}

/* Rows: half-made ones whose maker died, ready ones whose clone is gone. */
static void gc_rows(struct gc *gc, int all)
{
	struct sandbox *list;
	size_t nr;
	struct strbuf clone = STRBUF_INIT;
	struct workspace ws;

	if (store_list(ctx_store(gc->ctx), NULL, &list, &nr) < 0)
		die("cannot list sandboxes");
	hooks_mark_orphans(gc->ctx->r.repo, gc->ctx->r.commondir, gc->ctx->store, list, nr);
	for (size_t i = 0; i < nr; i++) {
		struct sandbox *sb = &list[i];
		int fd, lock;

		if (!all && (!gc->ctx->r.commondir || strcmp(sb->gitdir, gc->ctx->r.commondir)))
			continue;
		lock = sandbox_lock(sb, &fd);
		if (lock == SANDBOX_BUSY)
			continue; /* a live command is working on it */
		if (lock < 0) {
			gc->failed++;
			continue;
		}
		sandbox_clone_path(sb, &clone);
		workspace_of(&ws, sb, gc->ctx->root.buf, NULL);
		if (sb->state != SB_READY)
			destroy(gc, sb, sb->state == SB_CREATING ?
				"left half-made" : "left half-removed", 0);
		else if (!ws.ops->clone_present(&ws))
			destroy(gc, sb, "its clone is gone", 0);
		else if (sb->opts.orphaned && !gc->dry_run && offer_removal(sb))
			destroy(gc, sb, "its branch was deleted", 1);
		else if (sb->opts.orphaned)
			printf("Keeping sandbox '%s': its branch '%s' was deleted "
			       "('git sand rm %s' removes it)\n", sb->name,
			       sb->opts.host_branch ? sb->opts.host_branch : "?", sb->name);
		else if (access(sb->worktree, F_OK) < 0)
			printf("Keeping sandbox '%s': its worktree '%s' is gone, "
			       "but its work is still in '%s'\n", sb->name, sb->worktree, clone.buf);
		sandbox_unlock(sb, fd, 1);
	}
	store_free_list(list, nr);
	strbuf_release(&clone);
	if (store_list(gc->ctx->store, NULL, &gc->rows, &gc->nr) < 0)
		die("cannot list sandboxes");
}

/* Whether gc should ask this runtime: the default one, or one a row uses. */
static int runtime_in_use(struct gc *gc, const char *name)
{
	struct runtime rt;
	char *configured = ctx_config(gc->ctx, "sand.runtime");
	int used;

	used = configured ? !strcmp(configured, name) :
		!runtime_select(&rt, NULL) && !strcmp(rt.ops->name, name);
	if (!configured)
		runtime_clear(&rt);
	git_error_clear();
	free(configured);
	for (size_t i = 0; i < gc->nr && !used; i++)
		used = !strcmp(gc->rows[i].runtime, name);
	return used;
}

/* Containers labelled by this state root whose sandbox has no row. */
static void gc_containers(struct gc *gc)
{
	for (size_t r = 0; runtime_names[r]; r++) {
		struct runtime rt;
		struct container_info *list;
		size_t nr;

		if (!find_in_path(runtime_names[r], NULL) || !runtime_in_use(gc, runtime_names[r]) ||
		    runtime_select(&rt, runtime_names[r]) < 0)
			continue;
		if (rt.ops->list(&rt, LABEL_ID, &list, &nr) < 0) {
			gc->failed++;
			runtime_clear(&rt);
			continue;
		}
		for (size_t i = 0; i < nr; i++) {
			struct container_info *ci = &list[i];

			if (!ci->home || strcmp(ci->home, gc->ctx->root.buf) ||
			    !ci->sandbox_id || has_row(gc, ci->sandbox_id))
				continue;
			act(gc, xstrfmt("container '%s' (no sandbox has it)", ci->name ? ci->name : ci->id));
			if (!gc->dry_run && rt.ops->remove(&rt, ci->id) < 0)
				gc->failed++;
		}
		container_info_list_free(list, nr);
		runtime_clear(&rt);
	}
}

/*
 * Call fn for each entry of <state>/sandboxes but the dot ones, with its
 * name and its path (fn may change the path: it is made again for each).
 */
static void each_sandbox_dir(struct gc *gc,
			     void (*fn)(struct gc *gc, const char *name, struct strbuf *path))
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&dir, "%s/sandboxes", gc->ctx->root.buf);
	d = opendir(dir.buf);
	if (!d)
		goto done;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		path_join(&path, dir.buf, de->d_name);
		fn(gc, de->d_name, &path);
	}
	closedir(d);
done:
	strbuf_release(&dir);
	strbuf_release(&path);
}

/*
 * A network filter that outlived its container or its sandbox: each ends
 * itself within a second of either, so this is one that could not.
 */
static void gc_filter(struct gc *gc, const char *name, struct strbuf *path)
{
	long pid = net_proxy_running(path->buf);

	if (!pid)
		return;
	if (has_row(gc, name)) {
		if (!gc->dry_run && net_proxy_reap(path->buf))
			act(gc, xstrfmt("network filter %ld of '%s' (its container is gone)",
					pid, path->buf));
		return;
	}
	act(gc, xstrfmt("network filter %ld of '%s' (no sandbox has it)", pid, path->buf));
	if (!gc->dry_run)
		net_proxy_stop(path->buf);
}

/* A directory under sandboxes/ that no row names, or a stale lock. */
static void gc_dir(struct gc *gc, const char *name, struct strbuf *path)
{
	struct sandbox fake = { 0 };
	size_t len = strlen(name);
	int fd, lock;

	if (len > 5 && !strcmp(name + len - 5, ".lock")) {
		/* A lock whose sandbox is gone, and that nobody holds. */
		strbuf_setlen(path, path->len - 5);
		fake.dir = path->buf; /* all the lock needs */
		if (access(path->buf, F_OK) < 0 && sandbox_lock(&fake, &fd) == 0)
			sandbox_unlock(&fake, fd, !gc->dry_run);
		return;
	}
	if (has_row(gc, name))
		return;
	fake.dir = path->buf;
	lock = sandbox_lock(&fake, &fd);
	if (lock == SANDBOX_BUSY)
		return;
	act(gc, xstrfmt("directory '%s' (no sandbox has it)", path->buf));
	if (!gc->dry_run && remove_tree(path->buf) < 0)
		gc->failed++;
	if (lock == 0)
		sandbox_unlock(&fake, fd, !gc->dry_run);
}

/* Mirrors that no sandbox reads from. */
static void gc_mirrors(struct gc *gc)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, want = STRBUF_INIT;
	struct strbuf lock = STRBUF_INIT;
	DIR *d;
	struct dirent *de;

	strbuf_addf(&dir, "%s/mirrors", gc->ctx->root.buf);
	d = opendir(dir.buf);
	if (!d)
		goto done;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		int needed = 0, fd;

		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".git"))
			continue;
		path_join(&path, dir.buf, de->d_name);
		for (size_t i = 0; i < gc->nr && !needed; i++) {
			sandbox_mirror_path(&gc->rows[i], gc->ctx->root.buf, &want);
			needed = !strcmp(want.buf, path.buf);
		}
		if (needed)
			continue;
		/* new holds this lock while it makes or refreshes the mirror. */
		strbuf_reset(&lock);
		strbuf_addf(&lock, "%s.lock", path.buf);
		fd = open(lock.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		act(gc, xstrfmt("mirror '%s' (no sandbox reads it)", path.buf));
		if (!gc->dry_run) {
			if (remove_tree(path.buf) < 0)
				gc->failed++;
			unlink(lock.buf);
		}
		close(fd);
	}
	closedir(d);
done:
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&want);
	strbuf_release(&lock);
}

/* The base trees of overlay workspaces that no sandbox, of any repository, uses. */
static void gc_bases(struct gc *gc)
{
	struct string_list used = STRING_LIST_INIT;
	struct sandbox *list = NULL;
	size_t nr = 0;

	if (store_list(ctx_store(gc->ctx), NULL, &list, &nr) < 0) {
		gc->failed++;
		return;
	}
	for (size_t i = 0; i < nr; i++)
		if (list[i].opts.base)
			string_list_append(&used, list[i].opts.base);
	if (overlay_gc_bases(gc->ctx->root.buf, &used, gc->dry_run) < 0)
		gc->failed++;
	string_list_clear(&used);
	store_free_list(list, nr);
}

/* In this repository: the sand/<name> remotes git-sand made for sandboxes now gone. */
static void gc_remotes(struct gc *gc)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	struct string_list gone = STRING_LIST_INIT;

	if (!gc->ctx->r.repo)
		return;
	if (git_repository_config_snapshot(&cfg, gc->ctx->r.repo) < 0 ||
	    git_config_iterator_glob_new(&it, cfg, "^remote\\.sand/.*\\.sandbox$") < 0) {
		error_lg2("cannot read the repository's configuration");
		gc->failed++;
		goto done;
	}
	while (!git_config_next(&e, it)) {
		const char *name = e->name + strlen("remote.");
		size_t len = strlen(name) - strlen(".sandbox");

		if (has_row(gc, e->value))
			continue;
		{
			char *remote = xstrndup(name, len);
			string_list_append(&gone, remote);
			free(remote);
		}
	}
	git_error_clear();
	for (size_t i = 0; i < gone.nr; i++) {
		act(gc, xstrfmt("remote '%s' (its sandbox is gone)", gone.items[i]));
		if (!gc->dry_run && remote_delete_retry(gc->ctx->r.repo, gone.items[i]) < 0) {
			error_lg2("cannot remove remote '%s'", gone.items[i]);
			gc->failed++;
		}
	}
done:
	string_list_clear(&gone);
	git_config_iterator_free(it);
	git_config_free(cfg);
}

int cmd_gc(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int dry_run = 0, all = 0;
	const struct option options[] = {
		OPT_BOOL('n', "dry-run", &dry_run, "only say what would be removed"),
		OPT_BOOL('a', "all", &all, "repair the sandboxes of every repository"),
		OPT_END(),
	};
	struct gc gc = { ctx, 0, 0, NULL, 0 };

	argc = parse_options_or_usage(argc, argv, options, gc_usage, 0);
	if (argc)
		usage_with_options(gc_usage, options);
	if (!all)
		ctx_require_repo(ctx);
	gc.dry_run = dry_run;
	gc_rows(&gc, all);
	gc_containers(&gc);
	each_sandbox_dir(&gc, gc_filter);
	each_sandbox_dir(&gc, gc_dir);
	gc_mirrors(&gc);
	gc_bases(&gc);
	gc_remotes(&gc);
	store_free_list(gc.rows, gc.nr);
	return gc.failed ? 1 : 0;
}

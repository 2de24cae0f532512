/*
 * git sand rm: as careful as git branch -d. A sandbox that holds work the
 * repository does not have (see work.h) is kept unless --force; what
 * --force removes is fetched first and printed, so that it can be brought
 * back as a deleted branch can.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "lifecycle.h"
#include "msg.h"
#include "sandbox-lock.h"
#include "sanitize.h"
#include "work.h"

#define RM_USAGE "git sand rm [-f | --force] [--forget] (<name>... | --all)"

static const char *const rm_usage[] = {
	RM_USAGE,
	"",
	"A sandbox that holds commits or uncommitted changes this repository",
	"lacks is refused; --force removes it, keeping that work here first and",
	"printing where each branch was. See WORK SAFETY in 'git help sand'.",
	NULL
};

struct rm_opts {
	int force;
	int forget;
};

static void refuse(const struct sandbox *sb, const struct sandbox_work *w, int known)
{
	struct strbuf what = STRBUF_INIT;

	if (!known) {
		error("cannot tell whether sandbox '%s' holds work that is not in this repository",
		      sb->name);
		hint("'git sand rm -f %s' removes it anyway, keeping what can be kept", sb->name);
		return;
	}
	sandbox_work_describe(w, "\t", &what);
	error("sandbox '%s' holds work that is not in this repository:", sb->name);
	fputs(what.buf, stderr);
	if (w->nr)
		hint("'git sand sync %s' merges its commits into a branch here; 'git sand fetch %s' "
		     "shows them as sand/%s/<branch>", sb->name, sb->name, sb->name);
	if (w->changes)
		hint("commit them inside ('git sand shell %s'), or look at them with "
		     "'git sand diff -u %s'", sb->name, sb->name);
	hint("'git sand rm -f %s' removes it anyway, keeping its commits in this repository",
	     sb->name);
	strbuf_release(&what);
}

/* ", branch 'main' was 1a2b3c4": where a tip was, abbreviated as git would. */
static void add_tip(struct strbuf *line, git_repository *repo, const struct work_tip *t)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_object *obj = NULL;
	git_buf abbrev = { 0 };

	git_oid_tostr(hex, 8, &t->oid);
	if (repo && !git_object_lookup(&obj, repo, &t->oid, GIT_OBJECT_ANY) &&
	    !git_object_short_id(&abbrev, obj))
		snprintf(hex, sizeof(hex), "%s", abbrev.ptr);
	git_error_clear();
	if (!strcmp(t->branch, SANDBOX_WIP_BRANCH))
		strbuf_addf(line, ", uncommitted changes were %s", hex);
	else if (!strcmp(t->branch, "HEAD"))
		strbuf_addf(line, ", detached HEAD was %s", hex);
	else
		strbuf_addf(line, ", branch '%s' was %s", sanitized(t->branch), hex);
	git_buf_dispose(&abbrev);
	git_object_free(obj);
}

/* "Removed sandbox 'x' (branch 'main' was 1a2b3c4)", as git branch -D says it. */
static void report_removed(struct cmd_ctx *ctx, const struct sandbox *sb,
			   const struct sandbox_work *w)
{
	struct strbuf tips = STRBUF_INIT;

	/* Branches first, the saved uncommitted changes last. */
	for (size_t i = 0; i < w->nr; i++)
		if (strcmp(w->tips[i].branch, SANDBOX_WIP_BRANCH))
			add_tip(&tips, ctx->r.repo, &w->tips[i]);
	for (size_t i = 0; i < w->nr; i++)
		if (!strcmp(w->tips[i].branch, SANDBOX_WIP_BRANCH))
			add_tip(&tips, ctx->r.repo, &w->tips[i]);
	if (tips.len)
		printf("Removed sandbox '%s' (%s)\n", sb->name, tips.buf + 2);
	else
		printf("Removed sandbox '%s'\n", sb->name);
	strbuf_release(&tips);
}

static int rm_one(struct cmd_ctx *ctx, struct sandbox *sb, const struct rm_opts *o)
{
	struct sandbox_work w = SANDBOX_WORK_INIT;
	struct runtime rt = { 0 };
	int lock, fd = -1, ret = -1;

	if (!o->forget && ctx_sandbox_runtime(ctx, &rt, sb) < 0) {
		if (sb->host)
			hint("if '%s' is gone for good, 'git sand rm --forget %s' removes "
			     "what is on this machine", sb->host, sb->name);
		goto done;
	}
	lock = sandbox_lock(sb, &fd);
	if (lock == SANDBOX_BUSY) {
		error("sandbox '%s' is being created or removed by another command", sb->name);
		goto done;
	}
	if (lock < 0)
		goto done;
	/*
	 * A half-made sandbox holds nothing yet, a half-removed one was
	 * looked at by the rm that began removing it; --forget leaves the
	 * work where it is.
	 */
	if (sb->state == SB_READY && !o->forget) {
		int known = !ctx_sandbox_work(ctx, sb, &rt, o->force, &w);

		if (cleanup_signalled())
			goto unlock;
		if (!o->force && (!known || sandbox_work_any(&w))) {
			refuse(sb, &w, known);
			/* As it was found: stopped, if it was. */
			if (w.started)
				rt.ops->stop(&rt, sb->container);
			goto unlock;
		}
		if (!known)
			warning("removing sandbox '%s' although not all of its work could be kept",
				sb->name);
	}
	/* Once begun, removal finishes: a signal now stops the next one. */
	signals_hold(1);
	if (!o->forget)
		ctx_keep_transcripts(ctx, sb);
	ret = sandbox_destroy(o->forget ? NULL : &rt, ctx->store, ctx->r.repo, sb);
	signals_hold(0);
	if (ret < 0)
		error("could not remove sandbox '%s' completely", sb->name);
	else if (o->forget)
		printf("Forgot sandbox '%s'%s%s%s\n", sb->name,
		       sb->host ? " (its container and files are still on '" : "",
		       sb->host ? sb->host : "", sb->host ? "')" : "");
	else
		report_removed(ctx, sb, &w);
unlock:
	sandbox_unlock(sb, fd, !ret);
done:
	sandbox_work_clear(&w);
	runtime_clear(&rt);
	return ret;
}

int cmd_rm(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct rm_opts o = { 0 };
	int all = 0, failed = 0;
	const struct option options[] = {
		OPT_BOOL('a', "all", &all, "every sandbox of this worktree"),
		OPT_BOOL('f', "force", &o.force,
			 "remove sandboxes that hold work this repository lacks (it is kept here)"),
		OPT_BOOL(0, "forget", &o.forget,
			 "remove only what is on this machine (for a host gone for good)"),
		OPT_END(),
	};
	struct sandbox *list;
	size_t nr;

	argc = parse_options_or_usage(argc, argv, options, rm_usage, 0);
	if ((!argc && !all) || (argc && all))
		usage_with_options(rm_usage, options);
	ctx_select(ctx, argc, argv, all, &list, &nr, &failed);
	cleanup_install_signals();
	for (size_t i = 0; i < nr && !cleanup_signalled(); i++)
		if (rm_one(ctx, &list[i], &o) < 0)
			failed++;
	store_free_list(list, nr);
	if (cleanup_signalled())
		die("interrupted");
	return failed ? 1 : 0;
}

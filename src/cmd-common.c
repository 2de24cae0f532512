#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fetch.h"
#include "hooks.h"
#include "lifecycle.h"
#include "docker-api.h"
#include "msg.h"
#include "net.h"
#include "oci-exec.h"
#include "transcript.h"
#include "odb-safe.h"
#include "run.h"
#include "sandbox-lock.h"
#include "session.h"
#include "ssh.h"
#include "work.h"
#include "workspace.h"

void usage_with_options(const char *const *usage, const struct option *opts)
{
	print_usage(stderr, usage, opts);
	exit(EXIT_USAGE);
}

int parse_options_or_usage(int argc, const char **argv, const struct option *opts,
			   const char *const *usage, int flags)
{
	int n = parse_options(argc, argv, opts, flags);

	if (n == PARSE_OPT_HELP) {
		print_usage(stdout, usage, opts);
		exit(EXIT_USAGE);
	}
	if (n < 0)
		usage_with_options(usage, opts);
	return n;
}

void ctx_require_repo(struct cmd_ctx *ctx)
{
	if (!ctx->r.repo)
		die("not a git repository (or any of the parent directories): .git");
}

void ctx_require_worktree(struct cmd_ctx *ctx)
{
	ctx_require_repo(ctx);
	if (!ctx->r.worktree)
		die("this operation must be run in a work tree");
}

struct store *ctx_store(struct cmd_ctx *ctx)
{
	if (!ctx->store && store_open(&ctx->store, ctx->root.buf) < 0)
		die("cannot use the git-sand database");
	return ctx->store;
}

int ctx_check_name(const char *name)
{
	struct strbuf why = STRBUF_INIT, fixed = STRBUF_INIT;
	int ret = 0;

	if (sandbox_name_check(name, &why) < 0) {
		ret = error("invalid sandbox name '%s': %s", name, why.buf);
		/* What the hooks would make of it as a branch name: Foo, feature/x. */
		if (!branch_to_sandbox_name(name, &fixed) && strcmp(fixed.buf, name))
			hint("did you mean '%s'?", fixed.buf);
	}
	strbuf_release(&why);
	strbuf_release(&fixed);
	return ret;
}

/* After an error about a name: the sandboxes there are, as hints. */
static void hint_sandboxes(struct sandbox *list, size_t nr)
{
	if (!nr) {
		hint("this worktree has no sandboxes; make one with 'git sand new'");
		return;
	}
	hint("the sandboxes of this worktree are:");
	for (size_t i = 0; i < nr; i++)
		hint("  %s", list[i].name);
}

static void list_sandboxes(struct cmd_ctx *ctx, struct sandbox **list, size_t *nr)
{
	if (store_list(ctx_store(ctx), ctx->r.worktree, list, nr) < 0)
		die("cannot list sandboxes");
}

static void hint_worktree_sandboxes(struct cmd_ctx *ctx)
{
	struct sandbox *list;
	size_t nr;

	list_sandboxes(ctx, &list, &nr);
	hint_sandboxes(list, nr);
	store_free_list(list, nr);
}

/* This worktree's only sandbox, for a command given no name; or die. */
static void lookup_only(struct cmd_ctx *ctx, struct sandbox *out)
{
	struct sandbox *list;
	size_t nr;

	list_sandboxes(ctx, &list, &nr);
	if (nr == 1) {
		*out = list[0];
		free(list);
		return;
	}
	if (!nr) {
		error("this worktree has no sandboxes");
		hint("make one with 'git sand new'");
	} else {
		error("this worktree has %zu sandboxes: name one", nr);
		hint_sandboxes(list, nr);
	}
	store_free_list(list, nr);
	die("no sandbox to act on");
}

void ctx_lookup(struct cmd_ctx *ctx, const char *name, struct sandbox *out)
{
	int ret;

	if (!name) {
		lookup_only(ctx, out);
		return;
	}
	if (ctx_check_name(name) < 0)
		die("no sandbox to act on");
	ret = store_get(ctx_store(ctx), ctx->r.worktree, name, out);
	if (ret < 0)
		die("cannot look up sandbox '%s'", name);
	if (ret == STORE_NOT_FOUND) {
		error("no sandbox named '%s' in this worktree", name);
		hint_worktree_sandboxes(ctx);
		exit(EXIT_FATAL);
	}
}

static void read_limit(struct cmd_ctx *ctx, const char *key, size_t *out)
{
	int64_t v;
	int err;

	if (!ctx->r.config)
		return;
	err = git_config_get_int64(&v, ctx->r.config, key);
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		return;
	}
	if (err < 0 || v <= 0 || (uint64_t)v > SIZE_MAX)
		die("bad value for '%s': a size in bytes (k, m and g suffixes allowed) is needed",
		    key);
	*out = (size_t)v;
}

void ctx_read_limits(struct cmd_ctx *ctx)
{
	char *pull;

	read_limit(ctx, "sand.maxOutput", &run_max_output);
	read_limit(ctx, "sand.maxObjectSize", &safe_object_max);
	if (!ctx->r.config)
		return;
	/* sand.exec=cli: docker's CLI too, never its daemon's API. */
	docker_api_enabled = !!ctx_direct_exec(ctx);
	pull = ctx_config(ctx, "sand.pull");
	if (pull && pull_policy_parse(&runtime_pull_policy, pull) < 0)
		die("invalid pull policy '%s' in sand.pull (known: %s)", pull, PULL_POLICIES);
	free(pull);
}

void ctx_runtime(struct runtime *rt, const char *name)
{
	if (runtime_select(rt, name) < 0)
		die("no container runtime to run sandboxes with");
}

char *ctx_config(struct cmd_ctx *ctx, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	int got = config_get_str(ctx->r.config, key, &sb);

	if (got < 0)
		die("cannot read '%s'", key);
	if (!got) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

const char *ctx_direct_exec(struct cmd_ctx *ctx)
{
	char *value = ctx_config(ctx, "sand.exec");
	enum oci_exec_mode mode = OCI_EXEC_AUTO;

	if (value && oci_exec_mode_parse(&mode, value) < 0)
		die("invalid value '%s' for sand.exec (known: %s)", value, OCI_EXEC_MODES);
	free(value);
	return mode == OCI_EXEC_AUTO ? ctx->root.buf : NULL;
}

int ctx_use_session(struct cmd_ctx *ctx, int no_session)
{
	char *value = no_session ? NULL : ctx_config(ctx, "sand.session");
	enum session_mode mode = SESSION_AUTO;

	if (value && session_mode_parse(value, &mode) < 0)
		exit(EXIT_FATAL);
	free(value);
	return !no_session && mode == SESSION_AUTO;
}

/*
 * The sandboxes a command names, or with --all every one of this worktree.
 * Unknown names are reported and counted in *failed; the others returned.
 */
void ctx_select(struct cmd_ctx *ctx, int argc, const char **argv, int all,
			     struct sandbox **out, size_t *nr, int *failed)
{
	struct store *st = ctx_store(ctx);
	size_t alloc = 0;
	int unknown = 0;

	*out = NULL;
	*nr = 0;
	if (all) {
		list_sandboxes(ctx, out, nr);
		return;
	}
	if (!argc) {
		*out = xcalloc(1, sizeof(**out));
		lookup_only(ctx, *out);
		*nr = 1;
		return;
	}
	for (int i = 0; i < argc; i++) {
		int ret;

		if (ctx_check_name(argv[i]) < 0) {
			(*failed)++;
			continue;
		}
		ALLOC_GROW(*out, *nr + 1, alloc);
		ret = store_get(st, ctx->r.worktree, argv[i], &(*out)[*nr]);
		if (ret < 0)
			die("cannot look up sandbox '%s'", argv[i]);
		if (ret == STORE_NOT_FOUND) {
			error("no sandbox named '%s' in this worktree", argv[i]);
			unknown++;
			(*failed)++;
			continue;
		}
		(*nr)++;
	}
	if (unknown)
		hint_worktree_sandboxes(ctx);
}

void ctx_ssh_opts(struct cmd_ctx *ctx, struct ssh_opts *o)
{
	struct strbuf v = STRBUF_INIT;

	memset(o, 0, sizeof(*o));
	if (config_get_path(ctx->r.config, "sand.identityFile", &v) > 0)
		o->identity_file = strbuf_detach(&v, NULL);
	strbuf_reset(&v);
	if (config_get_path(ctx->r.config, "sand.knownHostsFile", &v) > 0)
		o->known_hosts = strbuf_detach(&v, NULL);
	strbuf_release(&v);
}

static int fetch_into(struct cmd_ctx *ctx, git_repository *repo, const struct sandbox *sb,
		      struct fetch_opts *fo, struct sandbox_refs *refs, int *changed)
{
	struct ssh_opts so;
	int ret;

	ctx_ssh_opts(ctx, &so);
	fo->ssh = &so;
	ret = sandbox_fetch(repo, ctx->root.buf, sb, fo, refs, changed);
	fo->ssh = NULL;
	ssh_opts_clear(&so);
	return ret;
}

int ctx_fetch(struct cmd_ctx *ctx, const struct sandbox *sb, struct fetch_opts *fo,
	      struct sandbox_refs *refs, int *changed)
{
	return fetch_into(ctx, ctx->r.repo, sb, fo, refs, changed);
}

int ctx_sandbox_work(struct cmd_ctx *ctx, struct sandbox *sb, struct runtime *rt, int save,
		     struct sandbox_work *out)
{
	struct fetch_opts fo = { .quiet = 1 };
	struct sandbox_refs refs = { 0 };
	git_repository *repo = ctx->r.repo, *own = NULL;
	int changed, ret = 0;

	/* Uncommitted changes are asked of the sandbox's git: it must run. */
	if (sandbox_ensure_running(rt, ctx_store(ctx), ctx->root.buf, sb, &out->started) < 0) {
		ret = -1;
	} else {
		if (sandbox_work_changes(out, rt, sb) < 0)
			ret = -1;
		if (save && out->changes && sandbox_work_save_changes(rt, sb) < 0)
			ret = -1;
	}
	/* Commits are fetched, into the repository the sandbox was made from. */
	if (!repo || strcmp(ctx->r.commondir, sb->gitdir)) {
		if (git_repository_open_ext(&own, sb->gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH,
					    NULL) < 0) {
			ret = error_lg2("cannot open '%s', the repository of sandbox '%s'",
					sb->gitdir, sb->name);
			goto done;
		}
		repo = own;
	}
	if (fetch_into(ctx, repo, sb, &fo, &refs, &changed) < 0 ||
	    sandbox_work_commits(out, repo, sb, &refs) < 0)
		ret = -1;
done:
	sandbox_refs_clear(&refs);
	git_repository_free(own);
	return ret;
}

int ctx_ssh_connect(struct cmd_ctx *ctx, const char *host, int accept_new,
		    struct ssh_conn **out)
{
	struct ssh_opts o;
	int ret;

	ctx_ssh_opts(ctx, &o);
	o.accept_new = accept_new;
	ret = ssh_connect(out, host, &o);
	ssh_opts_clear(&o);
	return ret;
}

int ctx_sandbox_runtime(struct cmd_ctx *ctx, struct runtime *rt, const struct sandbox *sb)
{
	struct ssh_conn *conn = NULL;

	if (!sb->host)
		return runtime_select(rt, sb->runtime);
	memset(rt, 0, sizeof(*rt));
	if (ctx_ssh_connect(ctx, sb->host, 0, &conn) < 0)
		return error("cannot reach '%s', the host of sandbox '%s'", sb->host, sb->name);
	if (runtime_select_remote(rt, sb->runtime, conn) < 0) {
		runtime_clear(rt);
		return -1;
	}
	return 0;
}

/*
 * Why a sandbox cannot be used now, in why; 0 when it can after all (the
 * command that was making it finished meanwhile). *broken says whether
 * the command died (see sandbox_is_broken).
 */
static int not_ready(struct cmd_ctx *ctx, struct sandbox *sb, struct strbuf *why, int *broken)
{
	if (sb->state == SB_READY)
		return 0;
	*broken = sandbox_is_broken(ctx_store(ctx), sb);
	if (sb->state == SB_READY)
		return 0;
	if (*broken)
		strbuf_addf(why, "sandbox '%s' is broken: the command that was %s it was killed",
			    sb->name, sb->state == SB_CREATING ? "making" : "removing");
	else
		strbuf_addf(why, "sandbox '%s' is %s, not ready", sb->name,
			    sandbox_state_name(sb->state));
	return 1;
}

#define BROKEN_HINT "'git sand rm %s' or 'git sand gc' removes it"

int ctx_check_ready(struct cmd_ctx *ctx, struct sandbox *sb)
{
	struct strbuf why = STRBUF_INIT;
	int broken = 0, ret = 0;

	if (not_ready(ctx, sb, &why, &broken)) {
		ret = error("%s", why.buf);
		if (broken)
			hint(BROKEN_HINT, sb->name);
	}
	strbuf_release(&why);
	return ret;
}

void ctx_require_ready(struct cmd_ctx *ctx, struct sandbox *sb)
{
	struct strbuf why = STRBUF_INIT;
	int broken = 0;

	if (!not_ready(ctx, sb, &why, &broken)) {
		strbuf_release(&why);
		return;
	}
	if (broken)
		hint(BROKEN_HINT, sb->name);
	die("%s", why.buf);
}

static void prepare_running(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
			    struct runtime *rt, int *started)
{
	ctx_lookup(ctx, name, sb);
	ctx_require_ready(ctx, sb);
	if (ctx_sandbox_runtime(ctx, rt, sb) < 0)
		die("cannot reach the runtime of sandbox '%s'", sb->name);
	if (sandbox_ensure_running(rt, ctx_store(ctx), ctx->root.buf, sb, started) < 0)
		die("cannot start sandbox '%s'", sb->name);
}

int ctx_prepare_maybe_running(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
			      struct runtime *rt)
{
	ctx_lookup(ctx, name, sb);
	ctx_require_ready(ctx, sb);
	if (ctx_sandbox_runtime(ctx, rt, sb) < 0)
		die("cannot reach the runtime of sandbox '%s'", sb->name);
	/* A network filter runs here, for containers of this machine only. */
	if (sb->host && sb->container && !net_is_allow(sb->opts.network))
		return 1;
	ctx_ensure_running(ctx, sb, rt);
	return 0;
}

void ctx_ensure_running(struct cmd_ctx *ctx, struct sandbox *sb, struct runtime *rt)
{
	if (sandbox_ensure_running(rt, ctx_store(ctx), ctx->root.buf, sb, NULL) < 0)
		die("cannot start sandbox '%s'", sb->name);
}

void ctx_prepare_running(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
			 struct runtime *rt)
{
	prepare_running(ctx, name, sb, rt, NULL);
}

static int stop_again(struct briefly_running *br)
{
	if (!br->started)
		return 0;
	br->started = 0;
	if (br->rt->ops->stop(br->rt, br->sb->container) < 0)
		return error("sandbox '%s' was started for this command and is still running",
			     br->sb->name);
	return 0;
}

static void stop_again_cleanup(void *data)
{
	stop_again(data);
}

void ctx_run_briefly(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
		     struct runtime *rt, struct briefly_running *br)
{
	br->rt = rt;
	br->sb = sb;
	br->started = 0;
	/* A signal, like die(), then stops it on the way out. */
	cleanup_install_signals();
	cleanup_push(stop_again_cleanup, br);
	prepare_running(ctx, name, sb, rt, &br->started);
}

int ctx_stop_again(struct briefly_running *br)
{
	int ret;

	cleanup_pop();
	ret = stop_again(br);
	if (cleanup_signalled())
		die("interrupted");
	return ret;
}

int ctx_refresh_mirror(struct cmd_ctx *ctx, const struct sandbox *sb, struct runtime *rt)
{
	struct workspace ws;

	workspace_of(&ws, sb, ctx->root.buf, rt->ssh);
	return ws.ops->mirror_refresh(&ws, ctx->r.repo, ctx->r.commondir);
}

/* Whether sb's mirror (here, or on its host) is in done already. */
static int mirror_done(const struct string_list *done, const struct sandbox *sb)
{
	return string_list_find(done, workspace_mirror_key(sb)) >= 0;
}

int ctx_refresh_mirror_once(struct cmd_ctx *ctx, struct string_list *done,
			    const struct sandbox *sb, struct runtime *rt)
{
	if (mirror_done(done, sb))
		return 0;
	string_list_append(done, workspace_mirror_key(sb));
	return ctx_refresh_mirror(ctx, sb, rt);
}

int ctx_refresh_mirrors(struct cmd_ctx *ctx, const struct sandbox *list, size_t nr)
{
	struct string_list done = STRING_LIST_INIT;
	int failed = 0;

	for (size_t i = 0; i < nr; i++) {
		struct runtime rt = { 0 };

		if (mirror_done(&done, &list[i]))
			continue;
		if (list[i].host && ctx_sandbox_runtime(ctx, &rt, &list[i]) < 0) {
			failed++;
			continue;
		}
		if (ctx_refresh_mirror_once(ctx, &done, &list[i], &rt) < 0)
			failed++;
		runtime_clear(&rt);
	}
	string_list_clear(&done);
	return failed ? -1 : 0;
}

void ctx_keep_transcripts(struct cmd_ctx *ctx, const struct sandbox *sb)
{
	struct strbuf kept = STRBUF_INIT;
	int ret = transcript_keep(ctx->root.buf, sb, &kept);

	if (ret > 0) {
		fprintf(stderr, "Kept the agent's transcripts of sandbox '%s' in '%s'\n", sb->name,
			kept.buf);
	} else if (ret < 0) {
		warning("the agent's transcripts of sandbox '%s' were not kept", sb->name);
	}
	strbuf_release(&kept);
}

/*
 * git sand upload-pack <clone>: what git runs, as the remote's
 * uploadpack, for a plain "git fetch sand/<name>". It fetches the
 * sandbox as "git sand fetch" does (objects only: git moves the refs),
 * then lets git's upload-pack serve a repository of git-sand's own that
 * holds just the sandbox's branches (see served.h). Nothing of the clone
 * is opened by git.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fetch.h"
#include "msg.h"
#include "run.h"
#include "served.h"

#define UPLOAD_PACK_USAGE "git sand upload-pack <clone>"

static const char *const upload_pack_usage[] = {
	UPLOAD_PACK_USAGE,
	"",
	"Run by git for 'git fetch sand/<name>' (remote.sand/<name>.uploadpack),",
	"not by people: see SECURITY in 'git help sand'.",
	NULL
};

/* The sandbox on this machine whose clone is at path. */
static void find_by_clone(struct cmd_ctx *ctx, const char *path, struct sandbox *out)
{
	char *want = realpath(path, NULL);
	struct strbuf clone = STRBUF_INIT;
	struct sandbox *list;
	size_t nr;
	int found = 0;

	if (!want)
		die_errno("cannot use '%s'", path);
	if (store_list(ctx_store(ctx), NULL, &list, &nr) < 0)
		die("cannot list sandboxes");
	for (size_t i = 0; i < nr && !found; i++) {
		if (list[i].host)
			continue;
		sandbox_clone_path(&list[i], &clone);
		if (!strcmp(clone.buf, want)) {
			*out = list[i];
			memset(&list[i], 0, sizeof(list[i]));
			found = 1;
		}
	}
	store_free_list(list, nr);
	strbuf_release(&clone);
	if (!found)
		die("'%s' is not the clone of a sandbox on this machine", path);
	free(want);
}

int cmd_upload_pack(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct option options[] = { OPT_END() };
	struct fetch_opts fo = { .quiet = 1, .objects_only = 1 };
	struct sandbox_refs refs = { 0 };
	struct strbuf served = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct sandbox sb = { 0 };
	git_repository *repo = NULL;
	int changed, ret;

	argc = parse_options_or_usage(argc, argv, options, upload_pack_usage, 0);
	if (argc != 1)
		usage_with_options(upload_pack_usage, options);
	find_by_clone(ctx, argv[0], &sb);
	ctx_require_ready(ctx, &sb);
	if (git_repository_open_ext(&repo, sb.gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		die_lg2("cannot open '%s', the repository of sandbox '%s'", sb.gitdir, sb.name);
	if (sandbox_fetch(repo, ctx->root.buf, &sb, &fo, &refs, &changed) < 0)
		die("cannot fetch from sandbox '%s'", sb.name);
	if (served_repo_write(&served, repo, &sb, &refs) < 0)
		die("cannot serve sandbox '%s'", sb.name);

	hardened_git(&c);
	argv_pushl(&c.args, "upload-pack", "--strict", served.buf, NULL);
	ret = run_child(&c);

	child_clear(&c);
	strbuf_release(&served);
	sandbox_refs_clear(&refs);
	git_repository_free(repo);
	sandbox_clear(&sb);
	if (ret < 0)
		die("cannot serve the sandbox's repository");
	return ret;
}

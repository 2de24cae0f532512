#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compat.h"
#include "msg.h"
#include "path.h"
#include "served.h"

/* Whether repo has oid, as a commit. */
static int have_commit(git_repository *repo, const git_oid *oid)
{
	git_commit *c = NULL;
	int yes = !git_commit_lookup(&c, repo, oid);

	git_commit_free(c);
	git_error_clear();
	return yes;
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct sandbox_ref *)a)->name, ((const struct sandbox_ref *)b)->name);
}

/* packed-refs for the branches repo has, sorted as git wants them. */
static void packed_refs(git_repository *repo, const struct sandbox_refs *refs, struct strbuf *out)
{
	struct sandbox_ref *v = xcalloc(refs->nr + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < refs->nr; i++)
		if (have_commit(repo, &refs->v[i].oid))
			v[n++] = refs->v[i];
	qsort(v, n, sizeof(*v), cmp_ref);
	strbuf_addstr(out, "# pack-refs with: peeled fully-peeled sorted \n");
	for (size_t i = 0; i < n; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &v[i].oid);
		strbuf_addf(out, "%s %s\n", hex, v[i].name);
	}
	free(v);
}

/* HEAD: the sandbox's branch, or its detached commit, or an unborn main. */
static void head_file(git_repository *repo, const struct sandbox_refs *refs, struct strbuf *out)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (refs->head_branch)
		strbuf_addf(out, "ref: refs/heads/%s\n", refs->head_branch);
	else if (refs->head_valid && have_commit(repo, &refs->head))
		strbuf_addf(out, "%s\n", git_oid_tostr(hex, sizeof(hex), &refs->head));
	else
		strbuf_addstr(out, "ref: refs/heads/main\n");
}

/* Write text as the file name of the repository at dir. */
static int write_in(const char *dir, const char *name, const struct strbuf *text)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	strbuf_addf(&path, "%s/%s", dir, name);
	ret = write_file_atomic(path.buf, text->buf, text->len, 0600);
	strbuf_release(&path);
	return ret;
}

int served_repo_write(struct strbuf *out, git_repository *repo, const struct sandbox *sb,
		      const struct sandbox_refs *refs)
{
	/*
	 * git's pack-objects, run by upload-pack there, would hold ten
	 * objects of up to 512 MiB each at once to find deltas among them:
	 * as our own fetch does (fetch.c), it looks for deltas only among
	 * objects of at most 16 MiB, in at most 32 MiB of them at once.
	 */
	static const char config[] =
		"[core]\n\trepositoryformatversion = 0\n\tbare = true\n"
		"\tbigFileThreshold = 16m\n"
		"[pack]\n\twindowMemory = 32m\n\tdeltaCacheSize = 16m\n";
	struct strbuf text = STRBUF_INIT, dir = STRBUF_INIT;
	const char *const subdirs[] = { "", "/objects", "/objects/info", "/refs", "/refs/heads",
					"/refs/tags" };
	int ret = -1;

	strbuf_reset(out);
	strbuf_addf(out, "%s/served.git", sb->dir);
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s%s", out->buf, subdirs[i]);
		if (mkdir(dir.buf, 0700) < 0 && errno != EEXIST) {
			error_errno("cannot create '%s'", dir.buf);
			goto done;
		}
	}
	/* Its objects are the repository's, which now has the sandbox's. */
	strbuf_addf(&text, "%sobjects\n", git_repository_commondir(repo));
	if (write_in(out->buf, "objects/info/alternates", &text) < 0)
		goto done;
	strbuf_reset(&text);
	strbuf_addstr(&text, config);
	if (write_in(out->buf, "config", &text) < 0)
		goto done;
	strbuf_reset(&text);
	packed_refs(repo, refs, &text);
	if (write_in(out->buf, "packed-refs", &text) < 0)
		goto done;
	strbuf_reset(&text);
	head_file(repo, refs, &text);
	if (write_in(out->buf, "HEAD", &text) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&text);
	strbuf_release(&dir);
	return ret;
}

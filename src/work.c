#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "devcontainer.h"
#include "msg.h"
#include "path.h"
#include "sandbox-remote.h"
#include "sanitize.h"
#include "work.h"

void sandbox_work_clear(struct sandbox_work *w)
{
	for (size_t i = 0; i < w->nr; i++)
		free(w->tips[i].branch);
	free(w->tips);
	w->tips = NULL;
	w->nr = w->alloc = 0;
	w->changes = -1;
	w->started = 0;
}

int sandbox_work_any(const struct sandbox_work *w)
{
	return w->nr || w->changes != 0;
}

/*
 * The commits every ref of the host points at, but the sandbox's own
 * remote-tracking refs (they go with it), and HEAD when it is detached.
 */
static int host_tips(git_repository *repo, const struct sandbox *sb, git_oid **out, size_t *nr)
{
	struct strbuf own = STRBUF_INIT;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_oid *v = NULL;
	size_t n = 0, alloc = 0;
	int err, ret = -1;

	sandbox_tracking_prefix(&own, sb->name);
	if (git_reference_iterator_new(&it, repo) < 0)
		goto lg2_failed;
	while (!(err = git_reference_next(&ref, it))) {
		git_object *obj = NULL;

		if (!starts_with(git_reference_name(ref), own.buf) &&
		    !git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT)) {
			ALLOC_GROW(v, n + 1, alloc);
			git_oid_cpy(&v[n++], git_object_id(obj));
		}
		git_object_free(obj);
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER)
		goto lg2_failed;
	if (git_repository_head_detached(repo) == 1) {
		git_oid head;

		if (!git_reference_name_to_id(&head, repo, "HEAD")) {
			ALLOC_GROW(v, n + 1, alloc);
			git_oid_cpy(&v[n++], &head);
		}
	}
	git_error_clear();
	*out = v;
	*nr = n;
	v = NULL;
	ret = 0;
	goto done;
lg2_failed:
	error_lg2("cannot read the refs of this repository");
done:
	free(v);
	git_reference_iterator_free(it);
	strbuf_release(&own);
	return ret;
}

/* How many commits from tip no host tip reaches; -1 when tip is not here. */
static long count_unreached(git_repository *repo, const git_oid *tip, const git_oid *hide,
			    size_t nr_hide)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	long n = -1;
	int err;

	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, tip) < 0)
		goto done;
	for (size_t i = 0; i < nr_hide; i++)
		if (git_revwalk_hide(walk, &hide[i]) < 0)
			git_error_clear(); /* a ref to a missing commit hides nothing */
	n = 0;
	while (!(err = git_revwalk_next(&oid, walk)))
		n++;
	if (err != GIT_ITEROVER)
		n = -1;
done:
	git_error_clear();
	git_revwalk_free(walk);
	return n;
}

static void add_tip(struct sandbox_work *w, const char *branch, const git_oid *oid, long commits)
{
	ALLOC_GROW(w->tips, w->nr + 1, w->alloc);
	w->tips[w->nr].branch = xstrdup(branch);
	git_oid_cpy(&w->tips[w->nr].oid, oid);
	w->tips[w->nr].commits = (size_t)commits;
	w->nr++;
}

int sandbox_work_commits(struct sandbox_work *out, git_repository *repo,
			 const struct sandbox *sb, const struct sandbox_refs *refs)
{
	git_oid *hide = NULL;
	size_t nr_hide = 0;

	if (host_tips(repo, sb, &hide, &nr_hide) < 0)
		return -1;
	for (size_t i = 0; i < refs->nr; i++) {
		long n = count_unreached(repo, &refs->v[i].oid, hide, nr_hide);

		/*
		 * A tip that is not here is one fetch skipped (it warned):
		 * nothing of it could be kept anyway.
		 */
		if (n > 0)
			add_tip(out, refs->v[i].name + strlen("refs/heads/"), &refs->v[i].oid, n);
	}
	if (refs->head_valid && !refs->head_branch) {
		long n = count_unreached(repo, &refs->head, hide, nr_hide);

		if (n > 0)
			add_tip(out, "HEAD", &refs->head, n);
	}
	free(hide);
	return 0;
}

/*
 * Fixed scripts, run by the sandbox's own shell and git inside its
 * container: nothing of the user's or the sandbox's is in them. A sandbox
 * can make them lie or fail, which only ever puts its own work at risk,
 * or refuses a removal without --force.
 */
static const char changes_script[] =
	"t=; command -v timeout >/dev/null 2>&1 && t='timeout 300'\n"
	"cd /app || exit 3\n"
	"tmp=$(mktemp -d) || exit 3\n"
	"trap 'rm -rf \"$tmp\"' EXIT\n"
	"index=$(git rev-parse --git-path index) || exit 3\n"
	"! test -f \"$index\" || cp \"$index\" \"$tmp/index\" || exit 3\n"
	"export GIT_INDEX_FILE=\"$tmp/index\"\n"
	"$t git add -A . || exit 3\n"
	"base=$(git rev-parse -q --verify 'HEAD^{tree}') || "
	"base=$(git hash-object -t tree /dev/null) || exit 3\n"
	"exec git diff-index --cached --raw -z --no-renames --no-abbrev \"$base\"\n";

static const char save_script[] =
	"t=; command -v timeout >/dev/null 2>&1 && t='timeout 300'\n"
	"cd /app || exit 3\n"
	"test -n \"$($t git status --porcelain --untracked-files=all)\" || exit 0\n"
	"tmp=$(mktemp -d) || exit 3\n"
	"trap 'rm -rf \"$tmp\"' EXIT\n"
	"index=$(git rev-parse --git-path index) || exit 3\n"
	"! test -f \"$index\" || cp \"$index\" \"$tmp/index\" || exit 3\n"
	"export GIT_INDEX_FILE=\"$tmp/index\"\n"
	"$t git add -A . && tree=$(git write-tree) || exit 3\n"
	"set --\n"
	"head=$(git rev-parse -q --verify HEAD) && set -- -p \"$head\"\n"
	"export GIT_AUTHOR_NAME=git-sand GIT_AUTHOR_EMAIL=git-sand@localhost\n"
	"export GIT_COMMITTER_NAME=git-sand GIT_COMMITTER_EMAIL=git-sand@localhost\n"
	"c=$(git commit-tree \"$tree\" \"$@\" -m 'Uncommitted changes, saved by git sand rm') "
	"|| exit 3\n"
	"git update-ref refs/heads/" SANDBOX_WIP_BRANCH " \"$c\"\n";

/* The directory holding path's last component under root; no link followed. */
static int open_parent(int root, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	return open_dir_beneath(root, path, (size_t)(*base - path));
}

static int hash_fd(int fd, size_t size, git_oid *out)
{
	void *map;
	int ret;

	if (!size)
		return git_odb_hash(out, "", 0, GIT_OBJECT_BLOB);
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	ret = git_odb_hash(out, map, size, GIT_OBJECT_BLOB);
	munmap(map, size);
	return ret;
}

/*
 * Whether the host worktree open at root has at path what the sandbox
 * has (mode 0: nothing). Only the kind of file and its content count.
 */
static int host_has(int root, const char *path, unsigned mode, const git_oid *oid)
{
	const char *base;
	struct stat st;
	git_oid here;
	int dfd = open_parent(root, path, &base), fd = -1, same = 0;

	if (dfd < 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		same = !mode;
		goto done;
	}
	if (mode == 0160000) {
		same = 1; /* a submodule's work is in its own repository */
	} else if (mode == 0120000 && S_ISLNK(st.st_mode)) {
		struct strbuf target = STRBUF_INIT;

		strbuf_grow(&target, (size_t)st.st_size + 1);
		same = readlinkat(dfd, base, target.buf, (size_t)st.st_size + 1) == st.st_size &&
		       !git_odb_hash(&here, target.buf, (size_t)st.st_size, GIT_OBJECT_BLOB) &&
		       git_oid_equal(&here, oid);
		strbuf_release(&target);
	} else if ((mode & 0170000) == 0100000 && S_ISREG(st.st_mode)) {
		fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		same = fd >= 0 && !hash_fd(fd, (size_t)st.st_size, &here) &&
		       git_oid_equal(&here, oid);
	}
done:
	git_error_clear();
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return same;
}

/*
 * Count the entries of "git diff-index --raw -z" (from the sandbox) whose
 * content the host worktree does not have: ":<mode> <mode> <oid> <oid>
 * <status>\0<path>\0" each. -1 when the text is not that.
 */
static long count_changes(const struct strbuf *raw, int root)
{
	const char *p = raw->buf, *end = raw->buf + raw->len;
	long n = 0;

	while (p < end) {
		const char *meta_end = memchr(p, '\0', (size_t)(end - p)), *path, *path_end;
		unsigned src_mode, dst_mode;
		char src_hex[GIT_OID_HEXSZ + 1], dst_hex[GIT_OID_HEXSZ + 1];
		git_oid oid;

		if (!meta_end || (path_end = memchr(meta_end + 1, '\0',
						     (size_t)(end - meta_end - 1))) == NULL)
			return -1;
		path = meta_end + 1;
		if (sscanf(p, ":%6o %6o %40[0-9a-f] %40[0-9a-f] %*[ADMTUX]", &src_mode,
			   &dst_mode, src_hex, dst_hex) < 4 ||
		    strlen(dst_hex) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, dst_hex) < 0 ||
		    !path_valid_in_tree(path))
			return -1;
		if (!host_has(root, path, dst_mode, &oid))
			n++;
		p = path_end + 1;
	}
	return n;
}

int sandbox_work_changes(struct sandbox_work *out, struct runtime *rt, const struct sandbox *sb)
{
	const char *const argv[] = { "sh", "-c", changes_script, NULL };
	struct strbuf raw = STRBUF_INIT;
	int status, root = -1, ret = -1;
	long n;

	status = devcontainer_exec_capture(rt, sb, argv, &raw);
	if (status < 0)
		goto done;
	if (status) {
		error("cannot ask the git of sandbox '%s' what is not committed", sb->name);
		goto done;
	}
	/* Changes count only where your worktree lacks them: it was copied. */
	root = open(sb->worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	n = count_changes(&raw, root);
	if (n < 0) {
		error("sandbox '%s' described its uncommitted changes in a way git does not",
		      sb->name);
		goto done;
	}
	out->changes = n;
	ret = 0;
done:
	if (root >= 0)
		close(root);
	strbuf_release(&raw);
	return ret;
}

int sandbox_work_save_changes(struct runtime *rt, const struct sandbox *sb)
{
	const char *const argv[] = { "sh", "-c", save_script, NULL };
	struct strbuf res = STRBUF_INIT;
	int status = devcontainer_exec_capture(rt, sb, argv, &res);

	strbuf_release(&res);
	if (status < 0)
		return -1;
	if (status)
		return error("cannot save the uncommitted changes of sandbox '%s'", sb->name);
	return 0;
}

void sandbox_work_describe(const struct sandbox_work *w, const char *indent, struct strbuf *out)
{
	for (size_t i = 0; i < w->nr; i++) {
		const struct work_tip *t = &w->tips[i];

		strbuf_addstr(out, indent);
		if (!strcmp(t->branch, "HEAD"))
			strbuf_addstr(out, "a detached HEAD");
		else
			strbuf_addf(out, "branch '%s'", sanitized(t->branch));
		strbuf_addf(out, ": %zu commit%s not in this repository\n", t->commits,
			    t->commits == 1 ? "" : "s");
	}
	if (w->changes > 0)
		strbuf_addf(out, "%s%ld uncommitted change%s that your worktree does not have\n",
			    indent, w->changes, w->changes == 1 ? "" : "s");
	else if (w->changes < 0)
		strbuf_addf(out, "%suncommitted changes that could not be counted\n", indent);
}

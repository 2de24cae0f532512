#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "gitutil.h"
#include "msg.h"
#include "overlay.h"
#include "path.h"
#include "string-list.h"

/* The time every file of a new base is given (see age_tree). */
static struct timespec base_time[2];

static int age_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return utimensat(AT_FDCWD, path, base_time, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 0;
}

/*
 * Date the files of a base checked out just now a few seconds back: an
 * index written in the same second as a file would take it for racily
 * clean, and git would read it again (see git's racy-git.txt).
 */
static int age_tree(const char *dir)
{
	base_time[0].tv_sec = base_time[1].tv_sec = time(NULL) - 5;
	if (nftw(dir, age_one, 16, FTW_PHYS) < 0)
		return error_errno("cannot date the files of '%s'", dir);
	return 0;
}

static void checkout_progress(const char *path, size_t done, size_t total, void *data)
{
	(void)path;
	(void)data;
	fprintf(stderr, "\rChecking out the base tree: %3u%% (%zu/%zu)%s",
		total ? (unsigned)(done * 100 / total) : 100u, done, total,
		done == total ? ", done.\n" : "");
}

/*
 * The base of tree_id under root, made if missing (checked out apart,
 * then renamed into place: a concurrent maker's is as good): its path in
 * out. 0, or -1 with a message.
 */
static int tree_base(git_repository *repo, const char *root, const git_oid *tree_id,
		     int progress, struct strbuf *out)
{
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	struct strbuf tmp = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_tree *tree = NULL;
	struct stat st;
	int ret = -1;

	git_oid_tostr(hex, sizeof(hex), tree_id);
	strbuf_reset(out);
	strbuf_addf(out, "%s/" OVERLAY_BASES "/%s", root, hex);
	/* Used again: gc leaves a base touched in the last hour alone. */
	if (!lstat(out->buf, &st) && S_ISDIR(st.st_mode))
		return utimensat(AT_FDCWD, out->buf, NULL, AT_SYMLINK_NOFOLLOW) < 0 ?
			error_errno("cannot use the base tree '%s'", out->buf) : 0;
	strbuf_addf(&tmp, "%s/" OVERLAY_BASES "/.tmp-%s-%ld", root, hex, (long)getpid());
	if (remove_tree(tmp.buf) < 0)
		goto done;
	if (mkdir_p(tmp.buf, 0755) < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		goto done;
	}
	if (git_tree_lookup(&tree, repo, tree_id) < 0) {
		error_lg2("cannot read the tree of HEAD");
		goto done;
	}
	/* Written apart: the repository's own index and worktree stay as they are. */
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
			       GIT_CHECKOUT_DONT_WRITE_INDEX;
	co.target_directory = tmp.buf;
	if (progress)
		co.progress_cb = checkout_progress;
	if (git_checkout_tree(repo, (git_object *)tree, &co) < 0) {
		error_lg2("cannot check out the base tree %s", hex);
		goto done;
	}
	if (age_tree(tmp.buf) < 0)
		goto done;
	if (rename(tmp.buf, out->buf) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
		error_errno("cannot put the base tree in '%s'", out->buf);
		goto done;
	}
	ret = 0;
done:
	/* What is left is ours, or a copy another command put in place first. */
	if (remove_tree(tmp.buf) < 0)
		ret = -1;
	git_tree_free(tree);
	strbuf_release(&tmp);
	return ret;
}

/*
 * Make the directories of rel's parents in upper with the modes they have
 * in the worktree. 1 when made, 0 when one of them is not a directory in
 * upper (a file or a whiteout there hides what the base has below it), -1
 * on error.
 */
static int upper_parents(const char *worktree, const char *upper, const char *rel)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	const char *slash;
	int ret = 1;

	for (const char *p = rel; (slash = strchr(p, '/')); p = slash + 1) {
		struct stat st;
		size_t len = (size_t)(slash - rel);

		strbuf_reset(&src);
		strbuf_reset(&dst);
		strbuf_addf(&src, "%s/%.*s", worktree, (int)len, rel);
		strbuf_addf(&dst, "%s/%.*s", upper, (int)len, rel);
		if (!lstat(dst.buf, &st)) {
			if (!S_ISDIR(st.st_mode)) {
				ret = 0;
				break;
			}
			continue;
		}
		if (lstat(src.buf, &st) < 0) {
			if (errno != ENOENT) {
				ret = error_errno("cannot read '%s'", src.buf);
				break;
			}
			/*
			 * Gone from the worktree, directory and all: a
			 * whiteout hides it whole, rather than an empty
			 * directory of whiteouts that the sandbox would see.
			 */
			if (mknod(dst.buf, S_IFCHR | 0600, makedev(0, 0)) < 0)
				ret = error_errno("cannot hide '%s' in the sandbox", dst.buf);
			else
				ret = 0;
			break;
		}
		if (!S_ISDIR(st.st_mode))
			st.st_mode = 0755;
		if (mkdir(dst.buf, st.st_mode & 07777) < 0) {
			ret = error_errno("cannot create '%s'", dst.buf);
			break;
		}
	}
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/* Copy the symbolic link src, of size bytes, to dst (replaced). */
static int copy_link(const char *src, const char *dst, off_t size, const char *rel)
{
	struct strbuf link = STRBUF_INIT;
	ssize_t n;
	int ret = 0;

	strbuf_grow(&link, (size_t)size + 1);
	n = readlink(src, link.buf, (size_t)size + 1);
	if (n != size) {
		ret = error("cannot read the link '%s'", rel);
		goto done;
	}
	strbuf_setlen(&link, (size_t)n);
	if ((unlink(dst) < 0 && errno != ENOENT) || symlink(link.buf, dst) < 0)
		ret = error_errno("cannot copy the link '%s'", rel);
done:
	strbuf_release(&link);
	return ret;
}

/* What goes into an upper layer, and what was copied. */
struct upper {
	git_tree *head;
	const char *worktree, *dir;
	size_t files, bytes;
};

/* The worktree's rel into upper, or a whiteout where the worktree has none. */
static int upper_add(struct upper *u, const char *rel)
{
	git_tree *head = u->head;
	const char *worktree = u->worktree, *upper = u->dir;
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	git_tree_entry *in_head = NULL;
	struct stat st;
	int ret = upper_parents(worktree, upper, rel);

	if (ret <= 0)
		goto done;
	ret = 0;
	strbuf_addf(&src, "%s/%s", worktree, rel);
	strbuf_addf(&dst, "%s/%s", upper, rel);
	if (lstat(src.buf, &st) < 0) {
		if (errno != ENOENT || git_tree_entry_bypath(&in_head, head, rel) < 0) {
			git_error_clear();
			goto done; /* in neither: nothing to hide */
		}
		if (mknod(dst.buf, S_IFCHR | 0600, makedev(0, 0)) < 0 && errno != EEXIST)
			ret = error_errno("cannot hide '%s' in the sandbox", rel);
	} else if (S_ISREG(st.st_mode)) {
		ret = copy_file(src.buf, dst.buf, COPY_TIMES);
		u->files++;
		u->bytes += (size_t)st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		ret = copy_link(src.buf, dst.buf, st.st_size, rel);
	} else if (S_ISDIR(st.st_mode)) {
		/* One status does not look into: a repository of its own, whole. */
		ret = copy_tree(src.buf, dst.buf, 0);
	} else {
		warning("skipping '%s': not a file, directory or symbolic link", rel);
	}
done:
	git_tree_entry_free(in_head);
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/*
 * The subdirectories of the worktree's directory rel (ending in '/', or
 * empty for the top) into dirs, as paths relative to the worktree; their
 * .git left out. 1 when rel has no entries at all, 0 when it has some,
 * -1 on error.
 */
static int read_subdirs(const char *worktree, const char *rel, struct string_list *dirs)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	DIR *dir;
	int fd, empty = 1;

	strbuf_addf(&path, "%s/%s", worktree, rel);
	fd = open(path.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		strbuf_release(&path);
		/* Gone or replaced since status read it: not a directory to carry. */
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 :
			error_errno("cannot read the directory '%s'", rel);
	}
	while ((de = readdir(dir))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		empty = 0;
		if (!strcmp(de->d_name, ".git"))
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    !fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode))
			de->d_type = DT_DIR;
		if (de->d_type != DT_DIR)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s%s/", rel, de->d_name);
		string_list_append(dirs, path.buf);
	}
	closedir(dir);
	strbuf_release(&path);
	return empty;
}

/*
 * The worktree's empty directories that neither the base nor the upper
 * layer has: status names no directory, and a copy would carry them.
 * Only directories are read (no file is looked at), one at a time.
 */
static int add_empty_dirs(struct upper *u, const char *base)
{
	struct string_list todo = STRING_LIST_INIT;
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	string_list_append(&todo, "");
	while (todo.nr && !ret) {
		char *rel = todo.items[--todo.nr];
		int empty = read_subdirs(u->worktree, rel, &todo);

		if (empty < 0 || cleanup_signalled()) {
			ret = -1;
		} else if (empty && *rel) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", base, rel);
			if (lstat(path.buf, &st) < 0 && upper_parents(u->worktree, u->dir, rel) < 0)
				ret = -1;
		}
		free(rel);
	}
	string_list_clear(&todo);
	strbuf_release(&path);
	return ret;
}

/*
 * The working trees of the submodules, whole: the base has an empty
 * directory where each is, and status does not look inside them. Their
 * repositories are in the clone's .git/modules, as for a copy.
 */
static int add_submodules(struct upper *u, git_repository *repo)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	git_index *index = NULL;
	int ret = -1;

	if (git_repository_index(&index, repo) < 0) {
		error_lg2("cannot read the index");
		goto done;
	}
	for (size_t i = 0, n = git_index_entrycount(index); i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		struct stat st;
		int made;

		if (e->mode != GIT_FILEMODE_COMMIT || GIT_INDEX_ENTRY_STAGE(e))
			continue;
		strbuf_reset(&src);
		strbuf_reset(&dst);
		strbuf_addf(&src, "%s/%s", u->worktree, e->path);
		strbuf_addf(&dst, "%s/%s", u->dir, e->path);
		if (lstat(src.buf, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		made = upper_parents(u->worktree, u->dir, e->path);
		if (!made)
			continue; /* under a file of the upper layer, which hides it */
		if (made < 0 || copy_tree(src.buf, dst.buf, 0) < 0)
			goto done;
		if (chmod(dst.buf, st.st_mode & 07777) < 0) {
			error_errno("cannot copy the submodule '%s'", e->path);
			goto done;
		}
	}
	ret = 0;
done:
	git_index_free(index);
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

static int add_delta_paths(struct upper *u, const git_diff_delta *d)
{
	if (!d)
		return 0;
	if (upper_add(u, d->old_file.path) < 0)
		return -1;
	if (strcmp(d->old_file.path, d->new_file.path))
		return upper_add(u, d->new_file.path);
	return 0;
}

/*
 * Ignored files (node_modules, build output) that are many or large go
 * into the base rather than into every sandbox's upper layer: a base
 * then holds the tree and those files, and is named by both, so that
 * the sandboxes made while they stay as they are share it.
 */
#define SHARED_IGNORED_FILES 1000
#define SHARED_IGNORED_BYTES (16 << 20)

/* The worktree's ignored files, and what names them. */
struct ignored {
	size_t files, bytes;
	git_oid id;	/* of their paths and stat data */
};

static int is_ignored(const git_status_entry *e)
{
	return (e->status & GIT_STATUS_IGNORED) && e->index_to_workdir;
}

/*
 * Count the ignored files of list, and name them by their paths, modes,
 * sizes, times and inodes: a file written or replaced since changes the
 * name (its ctime moves), so a base is never taken for files it lacks.
 */
static int ignored_scan(struct ignored *ig, git_status_list *list, const char *worktree)
{
	struct strbuf path = STRBUF_INIT, names = STRBUF_INIT;
	int ret = -1;

	memset(ig, 0, sizeof(*ig));
	for (size_t i = 0, n = git_status_list_entrycount(list); i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const char *rel;
		struct stat st;

		if (!is_ignored(e))
			continue;
		rel = e->index_to_workdir->new_file.path;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", worktree, rel);
		if (lstat(path.buf, &st) < 0) {
			if (errno == ENOENT)
				continue; /* gone since: the upper layer will not have it either */
			error_errno("cannot read '%s'", path.buf);
			goto done;
		}
		ig->files++;
		ig->bytes += S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
		strbuf_add(&names, rel, strlen(rel) + 1);
		strbuf_addf(&names, "%o %lld %lld.%09ld %lld.%09ld %llu\n", (unsigned)st.st_mode,
			    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			    st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
			    (unsigned long long)st.st_ino);
	}
	if (git_odb_hash(&ig->id, names.buf, names.len, GIT_OBJECT_BLOB) < 0) {
		error_lg2("cannot name the ignored files");
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&path);
	strbuf_release(&names);
	return ret;
}

/*
 * Make dst a tree of hard links to the files of src, a base: the new
 * base costs directories and links, not a checkout. A file of a base is
 * never written (an overlay copies it up first), so sharing it is safe.
 */
static int link_tree(struct strbuf *src, struct strbuf *dst)
{
	size_t src_len = src->len, dst_len = dst->len;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (!(d = opendir(src->buf)))
		return error_errno("cannot read '%s'", src->buf);
	while (!ret && (de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_setlen(src, src_len);
		strbuf_setlen(dst, dst_len);
		strbuf_addf(src, "/%s", de->d_name);
		strbuf_addf(dst, "/%s", de->d_name);
		if (lstat(src->buf, &st) < 0)
			ret = error_errno("cannot read '%s'", src->buf);
		else if (!S_ISDIR(st.st_mode))
			ret = linkat(AT_FDCWD, src->buf, AT_FDCWD, dst->buf, 0) < 0 ?
				error_errno("cannot link '%s'", dst->buf) : 0;
		else if (mkdir(dst->buf, st.st_mode & 07777) < 0)
			ret = error_errno("cannot create '%s'", dst->buf);
		else
			ret = link_tree(src, dst);
	}
	closedir(d);
	strbuf_setlen(src, src_len);
	strbuf_setlen(dst, dst_len);
	return ret;
}

/*
 * Make the parents of rel in the new base dir directories, replacing
 * what the tree has there (a file or a link the worktree has made a
 * directory of; only a link of ours goes, never what it points at).
 */
static int base_parents(const char *worktree, const char *dir, const char *rel)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	const char *slash;
	int ret = 0;

	for (const char *p = rel; !ret && (slash = strchr(p, '/')); p = slash + 1) {
		int len = (int)(slash - rel);
		struct stat st;

		strbuf_reset(&src);
		strbuf_reset(&dst);
		strbuf_addf(&src, "%s/%.*s", worktree, len, rel);
		strbuf_addf(&dst, "%s/%.*s", dir, len, rel);
		if (!lstat(dst.buf, &st) && S_ISDIR(st.st_mode))
			continue;
		if (lstat(src.buf, &st) < 0 || !S_ISDIR(st.st_mode))
			st.st_mode = 0755;
		if ((unlink(dst.buf) < 0 && errno != ENOENT) ||
		    mkdir(dst.buf, st.st_mode & 07777) < 0)
			ret = error_errno("cannot create '%s'", dst.buf);
	}
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/* The worktree's ignored file rel into the new base dir. */
static int base_add(const char *worktree, const char *dir, const char *rel)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	struct stat st;
	int ret = base_parents(worktree, dir, rel);

	strbuf_addf(&src, "%s/%s", worktree, rel);
	strbuf_addf(&dst, "%s/%s", dir, rel);
	if (ret < 0 || lstat(src.buf, &st) < 0)
		goto done; /* gone since, as ignored_scan allows */
	/* Never written through: dst may be a link to a file of another base. */
	if (unlink(dst.buf) < 0 && errno != ENOENT && errno != EISDIR)
		ret = error_errno("cannot replace '%s'", dst.buf);
	else if (S_ISREG(st.st_mode))
		ret = copy_file(src.buf, dst.buf, COPY_TIMES);
	else if (S_ISLNK(st.st_mode))
		ret = copy_link(src.buf, dst.buf, st.st_size, rel);
	else if (S_ISDIR(st.st_mode) && mkdir(dst.buf, st.st_mode & 07777) < 0 && errno != EEXIST)
		ret = error_errno("cannot create '%s'", dst.buf);
done:
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/*
 * The base of the tree whose base is bases/tree_hex, with the ignored
 * files of list too, made if missing as tree_base makes its own: its
 * path in out.
 */
static int ignored_base(const char *root, const char *tree_hex, const struct ignored *ig,
			git_status_list *list, const char *worktree, int progress,
			struct strbuf *out)
{
	struct strbuf src = STRBUF_INIT, tmp = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	struct stat st;
	int ret = -1;

	git_oid_tostr(hex, sizeof(hex), &ig->id);
	strbuf_reset(out);
	strbuf_addf(out, "%s/" OVERLAY_BASES "/%s-%s", root, tree_hex, hex);
	if (!lstat(out->buf, &st) && S_ISDIR(st.st_mode))
		return utimensat(AT_FDCWD, out->buf, NULL, AT_SYMLINK_NOFOLLOW) < 0 ?
			error_errno("cannot use the base tree '%s'", out->buf) : 0;
	strbuf_addf(&src, "%s/" OVERLAY_BASES "/%s", root, tree_hex);
	strbuf_addf(&tmp, "%s/" OVERLAY_BASES "/.tmp-%s-%s-%ld", root, tree_hex, hex,
		    (long)getpid());
	if (remove_tree(tmp.buf) < 0)
		goto done;
	if (mkdir(tmp.buf, 0755) < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		goto done;
	}
	if (link_tree(&src, &tmp) < 0)
		goto done;
	for (size_t i = 0, n = git_status_list_entrycount(list); i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);

		if (cleanup_signalled() ||
		    (is_ignored(e) && base_add(worktree, tmp.buf, e->index_to_workdir->new_file.path) < 0))
			goto done;
	}
	if (progress)
		fprintf(stderr, "Sharing ignored files: %zu (%.1f MiB), done.\n", ig->files,
			(double)ig->bytes / (1024.0 * 1024.0));
	if (rename(tmp.buf, out->buf) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
		error_errno("cannot put the base tree in '%s'", out->buf);
		goto done;
	}
	ret = 0;
done:
	if (remove_tree(tmp.buf) < 0)
		ret = -1;
	strbuf_release(&src);
	strbuf_release(&tmp);
	return ret;
}

/* The owner nftw gives a base's files (see owned_base). */
static struct overlay_owner base_owner;

static int own_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, base_owner.uid, base_owner.gid) < 0 ? -1 : 0;
}

/*
 * The base owned by o made of the one at base (copied, the copy's files
 * then given to o, links not followed; made once, shared as the others):
 * its path replaces base. 0, or -1 with a message.
 */
static int owned_base(const char *root, const struct overlay_owner *o, struct strbuf *base)
{
	struct strbuf owned = STRBUF_INIT, tmp = STRBUF_INIT;
	struct stat st;
	int ret = -1;

	strbuf_addf(&owned, "%s-u%lu.%lu", base->buf, (unsigned long)o->uid,
		    (unsigned long)o->gid);
	if (!lstat(owned.buf, &st) && S_ISDIR(st.st_mode)) {
		if (utimensat(AT_FDCWD, owned.buf, NULL, AT_SYMLINK_NOFOLLOW) < 0) {
			error_errno("cannot use the base tree '%s'", owned.buf);
			goto done;
		}
		goto use;
	}
	strbuf_addf(&tmp, "%s/" OVERLAY_BASES "/.tmp-%s-%ld", root, strrchr(owned.buf, '/') + 1,
		    (long)getpid());
	if (remove_tree(tmp.buf) < 0 || copy_tree(base->buf, tmp.buf, 0) < 0)
		goto done;
	base_owner = *o;
	if (chmod(tmp.buf, 0755) < 0 || nftw(tmp.buf, own_one, 16, FTW_PHYS) < 0) {
		error_errno("cannot give the files of '%s' to %lu:%lu", tmp.buf,
			    (unsigned long)o->uid, (unsigned long)o->gid);
		goto done;
	}
	if (rename(tmp.buf, owned.buf) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
		error_errno("cannot put the base tree in '%s'", owned.buf);
		goto done;
	}
use:
	strbuf_reset(base);
	strbuf_add(base, owned.buf, owned.len);
	ret = 0;
done:
	if (tmp.len && remove_tree(tmp.buf) < 0)
		ret = -1;
	strbuf_release(&owned);
	strbuf_release(&tmp);
	return ret;
}

/* Everything status knows of, ignored files one by one. */
static int worktree_status(git_status_list **list, git_repository *repo)
{
	git_status_options so = GIT_STATUS_OPTIONS_INIT;

	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		   GIT_STATUS_OPT_INCLUDE_IGNORED | GIT_STATUS_OPT_RECURSE_IGNORED_DIRS |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	if (git_status_list_new(list, repo, &so) < 0)
		return error_lg2("cannot read the worktree's status");
	return 0;
}

/* The base to share: the tree's own, or with the ignored files where they weigh. */
static int choose_base(git_repository *repo, const char *root, const git_oid *tree,
		       git_status_list *list, const char *worktree, int progress,
		       struct strbuf *base, int *shared)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct ignored ig;

	*shared = 0;
	if (tree_base(repo, root, tree, progress, base) < 0 ||
	    ignored_scan(&ig, list, worktree) < 0)
		return -1;
	if (ig.files < SHARED_IGNORED_FILES && ig.bytes < SHARED_IGNORED_BYTES)
		return 0;
	*shared = 1;
	git_oid_tostr(hex, sizeof(hex), tree);
	return ignored_base(root, hex, &ig, list, worktree, progress, base);
}

int overlay_layers(git_repository *repo, const char *root, const char *worktree,
		   const char *upper, const struct overlay_owner *owner, int progress,
		   struct strbuf *base)
{
	struct upper u = { NULL, worktree, upper, 0, 0 };
	git_status_list *list = NULL;
	git_object *head = NULL;
	git_tree *tree = NULL;
	int shared, ret = -1;

	if (git_revparse_single(&head, repo, "HEAD^{tree}") < 0 ||
	    git_tree_lookup(&tree, repo, git_object_id(head)) < 0) {
		error_lg2("cannot read the tree of HEAD");
		goto done;
	}
	if (worktree_status(&list, repo) < 0 ||
	    choose_base(repo, root, git_object_id(head), list, worktree, progress, base,
			&shared) < 0 ||
	    (owner && owned_base(root, owner, base) < 0))
		goto done;
	if (mkdir(upper, 0755) < 0) {
		error_errno("cannot create '%s'", upper);
		goto done;
	}
	u.head = tree;
	for (size_t i = 0, n = git_status_list_entrycount(list); i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);

		if (cleanup_signalled() || add_delta_paths(&u, e->head_to_index) < 0)
			goto done;
		if (shared && is_ignored(e))
			continue; /* in the base */
		if (add_delta_paths(&u, e->index_to_workdir) < 0)
			goto done;
	}
	if (add_submodules(&u, repo) < 0 || add_empty_dirs(&u, base->buf) < 0)
		goto done;
	if (progress)
		fprintf(stderr, "Copying files: %zu (%.1f MiB), done.\n", u.files,
			(double)u.bytes / (1024.0 * 1024.0));
	ret = 0;
done:
	git_status_list_free(list);
	git_tree_free(tree);
	git_object_free(head);
	return ret;
}

/* Whether rel is in upper, as a file, a link or a whiteout. */
static int in_upper(struct strbuf *path, const char *upper, const char *rel)
{
	struct stat st;

	strbuf_reset(path);
	strbuf_addf(path, "%s/%s", upper, rel);
	return !lstat(path->buf, &st);
}

int overlay_index_restat(const char *index_path, const char *worktree, const char *base,
			 const char *upper)
{
	struct strbuf path = STRBUF_INIT;
	git_index *index = NULL;
	int ret = -1;

	if (git_index_open(&index, index_path) < 0) {
		error_lg2("cannot read the sandbox's index");
		goto done;
	}
	for (size_t i = 0, n = git_index_entrycount(index); i < n; i++) {
		/*
		 * Changed in place: only the stat data, which nothing in
		 * the index is sorted or hashed by. git_index_add would
		 * drop the cache of trees the host's index carries, and
		 * the first status inside would then compare every tree.
		 */
		git_index_entry *e = (git_index_entry *)git_index_get_byindex(index, i);
		struct stat st;

		if (GIT_INDEX_ENTRY_STAGE(e))
			continue;
		if (in_upper(&path, upper, e->path)) {
			/*
			 * Changed: the upper layer's copy has the mtime and
			 * size of the worktree's file, and the sandbox's git
			 * trusts only those (core.checkStat=minimal). Where
			 * the host's git would not trust the index (a change
			 * that kept them, seen by ctime or inode), no stat
			 * data: git inside reads the file too.
			 */
			index_entry_distrust(&path, worktree, e);
		} else {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", base, e->path);
			if (lstat(path.buf, &st) < 0 || (uint32_t)st.st_size != e->file_size)
				continue; /* not the base's: git reads it again, as it must */
			e->mtime.seconds = (int32_t)st.st_mtim.tv_sec;
			e->mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
			e->ctime.seconds = (int32_t)st.st_ctim.tv_sec;
			e->ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
			e->ino = (uint32_t)st.st_ino;
			e->dev = (uint32_t)st.st_dev;
		}
	}
	if (git_index_write(index) < 0) {
		error_lg2("cannot write the sandbox's index");
		goto done;
	}
	ret = 0;
done:
	git_index_free(index);
	strbuf_release(&path);
	return ret;
}

/*
 * Remove dir/name, first renamed aside under a name no new command takes
 * (a leading dot): a command that takes the base as gc removes it then
 * fails loudly on a missing base rather than mounting half of one, and
 * what a removal cut short leaves is never taken again.
 */
static int remove_aside(const struct strbuf *dir, const char *name, const struct strbuf *path)
{
	struct strbuf aside = STRBUF_INIT;
	int ret = 0;

	if (*name != '.') {
		strbuf_addf(&aside, "%s/.gc-%s-%ld", dir->buf, name, (long)getpid());
		if (rename(path->buf, aside.buf) < 0)
			ret = error_errno("cannot remove the base tree '%s'", path->buf);
	}
	if (!ret)
		ret = remove_tree(aside.len ? aside.buf : path->buf);
	strbuf_release(&aside);
	return ret;
}

int overlay_gc_bases(const char *root, const struct string_list *used, int dry_run)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int n = 0;

	strbuf_addf(&dir, "%s/" OVERLAY_BASES, root);
	if (!(d = opendir(dir.buf))) {
		n = errno == ENOENT ? 0 : error_errno("cannot read '%s'", dir.buf);
		strbuf_release(&dir);
		return n;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int in_use = 0;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		for (size_t i = 0; i < used->nr && !in_use; i++)
			in_use = !strcmp(used->items[i], path.buf);
		/*
		 * One made or taken by a command now, which has not recorded
		 * its sandbox yet: left an hour.
		 */
		if (in_use || lstat(path.buf, &st) < 0 || st.st_mtime > time(NULL) - 3600)
			continue;
		printf("%s base tree '%s' (no sandbox uses it)\n",
		       dry_run ? "Would remove" : "Removing", path.buf);
		if (!dry_run && remove_aside(&dir, de->d_name, &path) < 0)
			continue;
		n++;
	}
	closedir(d);
	strbuf_release(&dir);
	strbuf_release(&path);
	return n;
}

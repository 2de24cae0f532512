#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/fs.h>
#endif
#ifdef __APPLE__
#include <sys/clonefile.h>
#endif
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clone.h"
#include "gitutil.h"
#include "msg.h"
#include "path.h"
#include "run.h"

void mirror_path(struct strbuf *out, const char *root, const char *commondir)
{
	const char *base = strrchr(commondir, '/');
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];
	struct strbuf name = STRBUF_INIT;

	/* "/src/proj/.git" -> "proj"; "/srv/proj.git" -> "proj". */
	strbuf_addstr(&name, commondir);
	if (base && !strcmp(base, "/.git")) {
		strbuf_setlen(&name, (size_t)(base - commondir));
		base = strrchr(name.buf, '/');
	}
	base = base ? strrchr(name.buf, '/') + 1 : name.buf;
	git_odb_hash(&oid, commondir, strlen(commondir), GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &oid);
	strbuf_reset(out);
	strbuf_addf(out, "%s/mirrors/", root);
	for (const char *p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;
		/* Keep the readable part of the name tame. */
		strbuf_addch(out, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_');
	}
	strbuf_addf(out, "-%.12s.git", hex);
	strbuf_release(&name);
}

void hardened_git(struct child *c)
{
	argv_pushl(&c->args, "git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
		   "-c", "gc.auto=0", "-c", "maintenance.auto=false",
		   "-c", "fetch.writeFetchHead=false", "-c", "protocol.file.allow=always", NULL);
	argv_pushl(&c->env, "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
		   "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
		   "GIT_TERMINAL_PROMPT=0", NULL);
}

static int run_git_quiet(struct child *c, const char *what)
{
	struct strbuf err = STRBUF_INIT;
	int status, ret = 0;

	c->err = &err;
	c->no_stdin = 1;
	c->out = &err;
	status = run_child(c);
	if (status != 0) {
		strbuf_trim(&err);
		ret = error("%s failed%s%s", what, err.len ? ": " : "", err.buf);
	}
	c->out = c->err = NULL; /* they pointed here */
	strbuf_release(&err);
	return ret;
}

/* Copy into the mirror every object the host index names that it lacks. */
static int copy_index_objects(git_repository *host, git_odb *dst)
{
	git_index *index = NULL;
	git_odb *src = NULL;
	int ret = -1;

	if (git_repository_index(&index, host) < 0 || git_repository_odb(&src, host) < 0) {
		error_lg2("cannot read the host repository's index");
		goto done;
	}
	for (size_t i = 0, n = git_index_entrycount(index); i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		git_odb_object *obj = NULL;
		git_oid written;

		if (!e || (e->mode & 0170000) == 0160000 || git_odb_exists(dst, &e->id))
			continue;
		if (git_odb_read(&obj, src, &e->id) < 0) {
			/* An index can name what the odb lacks (intent-to-add). */
			git_error_clear();
			continue;
		}
		if (git_odb_write(&written, dst, git_odb_object_data(obj), git_odb_object_size(obj),
				  git_odb_object_type(obj)) < 0) {
			git_odb_object_free(obj);
			error_lg2("cannot copy a staged object into the mirror");
			goto done;
		}
		git_odb_object_free(obj);
	}
	ret = 0;
done:
	git_odb_free(src);
	git_index_free(index);
	return ret;
}

/*
 * The mirror is refreshed from the repository named on the command line:
 * the path that git clone --mirror recorded as its origin is not needed,
 * and every sandbox can read the mirror's config.
 */
static int forget_origin(git_repository *m)
{
	static const char *const keys[] = { "remote.origin.url", "remote.origin.fetch",
					     "remote.origin.mirror" };
	git_config *cfg = NULL;
	int ret = 0;

	if (git_repository_config(&cfg, m) < 0)
		return error_lg2("cannot read the mirror's configuration");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int err = git_config_delete_multivar(cfg, keys[i], ".*");

		if (err < 0 && err != GIT_ENOTFOUND)
			ret = error_lg2("cannot edit the mirror's configuration");
	}
	git_error_clear();
	git_config_free(cfg);
	return ret;
}

int mirror_update(git_repository *host, const char *commondir, const char *mirror)
{
	struct strbuf lock = STRBUF_INIT, tmp = STRBUF_INIT, dir = STRBUF_INIT;
	struct child c = CHILD_INIT;
	git_repository *m = NULL;
	git_odb *odb = NULL;
	int fd = -1, ret = -1;
	struct stat st;

	strbuf_addstr(&dir, mirror);
	*strrchr(dir.buf, '/') = '\0';
	if (mkdir_p(dir.buf, 0700) < 0) {
		error_errno("cannot create '%s'", dir.buf);
		goto done;
	}
	strbuf_addf(&lock, "%s.lock", mirror);
	fd = open(lock.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		error_errno("cannot lock the mirror '%s'", lock.buf);
		goto done;
	}

	if (lstat(mirror, &st) < 0) {
		/*
		 * First use: a local clone hard-links the host's objects, so it
		 * costs no space and no packing. Made aside, then renamed, so a
		 * half-made mirror is never seen.
		 */
		strbuf_addf(&tmp, "%s.tmp", mirror);
		if (remove_tree(tmp.buf) < 0)
			goto done;
		hardened_git(&c);
		argv_pushl(&c.args, "clone", "--mirror", "--quiet", "--", commondir, tmp.buf, NULL);
		if (run_git_quiet(&c, "creating the repository mirror") < 0) {
			remove_tree(tmp.buf);
			goto done;
		}
		if (rename(tmp.buf, mirror) < 0) {
			error_errno("cannot rename '%s' to '%s'", tmp.buf, mirror);
			remove_tree(tmp.buf);
			goto done;
		}
	} else {
		/* Fetch every ref, as the mirror was cloned. */
		hardened_git(&c);
		argv_pushl(&c.args, "-C", mirror, "fetch", "--quiet", "--no-tags", "--",
			   commondir, "+refs/*:refs/*", NULL);
		if (run_git_quiet(&c, "refreshing the repository mirror") < 0)
			goto done;
	}

	if (git_repository_open_bare(&m, mirror) < 0 || git_repository_odb(&odb, m) < 0) {
		error_lg2("cannot open the mirror '%s'", mirror);
		goto done;
	}
	if (forget_origin(m) < 0 || copy_index_objects(host, odb) < 0)
		goto done;
	ret = 0;
done:
	git_odb_free(odb);
	git_repository_free(m);
	if (fd >= 0)
		close(fd); /* releases the lock */
	child_clear(&c);
	strbuf_release(&lock);
	strbuf_release(&tmp);
	strbuf_release(&dir);
	return ret;
}

int copy_file_fd(int src, int dst, off_t size)
{
	off_t done = 0;
	char *buf = NULL;
	int ret = -1;

#ifdef FICLONE
	if (!ioctl(dst, FICLONE, src))
		return 0;
#endif
#ifdef __linux__
	while (done < size) {
		ssize_t n = copy_file_range(src, NULL, dst, NULL, (size_t)(size - done), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
#endif
	if (done >= size)
		return 0;
	/* Not supported across these filesystems, or the file changed. */
	if (lseek(src, done, SEEK_SET) < 0 || lseek(dst, done, SEEK_SET) < 0)
		return -1;
	buf = xmalloc(1 << 16);
	for (;;) {
		ssize_t n = read(src, buf, 1 << 16), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (!n)
			break;
		while (w < n) {
			ssize_t k = write(dst, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				goto out;
			w += k;
		}
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

struct copier {
	int progress;
	int snapshot;	/* regular files and directories only: skip the rest */
	int link;	/* hard-link regular files where possible */
	size_t files;
	size_t bytes;
	struct timespec last;
	int failed;
};

static void show_progress(struct copier *cp, int done)
{
	struct timespec now;

	if (!cp->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!done && (now.tv_sec - cp->last.tv_sec) * 1000000000L +
	    (now.tv_nsec - cp->last.tv_nsec) < 100000000L)
		return;
	cp->last = now;
	fprintf(stderr, "\rCopying files: %zu (%.1f MiB)%s", cp->files,
		(double)cp->bytes / (1024.0 * 1024.0), done ? ", done.\n" : "");
}

static int copy_one(struct copier *cp, int sdir, int ddir, const char *name,
		    const struct stat *st, const char *path);

/* Copy the contents of directory sfd into dfd; path names sfd for messages. */
static int copy_dir(struct copier *cp, int sfd, int dfd, const char *path, int top)
{
	DIR *d = fdopendir(sfd);
	struct dirent *de;
	struct strbuf sub = STRBUF_INIT;
	int ret = 0;

	if (!d) {
		close(sfd);
		return error_errno("cannot read directory '%s'", path);
	}
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (top && !strcmp(de->d_name, ".git"))
			continue; /* the clone gets a .git of its own */
		if (cleanup_signalled()) {
			ret = error("interrupted");
			break;
		}
		strbuf_reset(&sub);
		strbuf_addf(&sub, "%s%s%s", path, *path ? "/" : "", de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed while we copy */
			ret = error_errno("cannot stat '%s'", sub.buf);
			break;
		}
		if (copy_one(cp, dirfd(d), dfd, de->d_name, &st, sub.buf) < 0) {
			ret = -1;
			break;
		}
	}
	if (!ret && errno)
		ret = error_errno("cannot read directory '%s'", path);
	closedir(d);
	strbuf_release(&sub);
	return ret;
}

static int copy_one(struct copier *cp, int sdir, int ddir, const char *name,
		    const struct stat *st, const char *path)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int sfd = -1, dfd = -1, ret = -1;

	if (S_ISREG(st->st_mode) && cp->link &&
	    !linkat(sdir, name, ddir, name, 0)) {
		struct stat now;

		/*
		 * linkat links a symbolic link itself if one was swapped in:
		 * check what we linked. Our directory is private, and an
		 * inode's type cannot change, so this check cannot race.
		 */
		if (fstatat(ddir, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(now.st_mode)) {
			unlinkat(ddir, name, 0);
			error("'%s' changed while it was being copied", path);
			goto done;
		}
		cp->files++;
	} else if (S_ISREG(st->st_mode)) {
		struct stat now;

		/* Non-blocking, and checked again: it may have changed since. */
		sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (sfd < 0) {
			error_errno("cannot open '%s'", path);
			goto done;
		}
		if (fstat(sfd, &now) < 0 || !S_ISREG(now.st_mode)) {
			error("'%s' changed while it was being copied", path);
			goto done;
		}
#ifdef __APPLE__
		/* APFS: a copy-on-write clone, with the file's metadata. */
		if (!fclonefileat(sfd, ddir, name, 0)) {
			utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW);
			cp->files++;
			cp->bytes += (size_t)st->st_size;
			show_progress(cp, 0);
			ret = 0;
			goto done;
		}
#endif
		dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dfd < 0) {
			error_errno("cannot create '%s' in the sandbox", path);
			goto done;
		}
		if (copy_file_fd(sfd, dfd, st->st_size) < 0) {
			error_errno("cannot copy '%s'", path);
			goto done;
		}
		if (fchmod(dfd, st->st_mode & 07777) < 0 || futimens(dfd, times) < 0) {
			error_errno("cannot set the mode or times of '%s'", path);
			goto done;
		}
		cp->files++;
		cp->bytes += (size_t)st->st_size;
		show_progress(cp, 0);
	} else if (S_ISLNK(st->st_mode) && !cp->snapshot) {
		struct strbuf target = STRBUF_INIT;
		ssize_t n;

		strbuf_grow(&target, (size_t)st->st_size + 1);
		n = readlinkat(sdir, name, target.buf, target.alloc - 1);
		if (n < 0 || (size_t)n >= target.alloc - 1) {
			strbuf_release(&target);
			error_errno("cannot read the link '%s'", path);
			goto done;
		}
		target.buf[n] = '\0';
		target.len = (size_t)n;
		if (symlinkat(target.buf, ddir, name) < 0) {
			strbuf_release(&target);
			error_errno("cannot create the link '%s' in the sandbox", path);
			goto done;
		}
		strbuf_release(&target);
		utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW);
		cp->files++;
	} else if (S_ISDIR(st->st_mode)) {
		if (mkdirat(ddir, name, 0700) < 0) {
			error_errno("cannot create directory '%s' in the sandbox", path);
			goto done;
		}
		sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0 || dfd < 0) {
			error_errno("cannot open directory '%s'", path);
			goto done;
		}
		ret = copy_dir(cp, sfd, dfd, path, 0);
		sfd = -1; /* copy_dir owns it */
		if (ret < 0)
			goto done;
		ret = -1;
		if (fchmod(dfd, st->st_mode & 07777) < 0 || futimens(dfd, times) < 0) {
			error_errno("cannot set the mode or times of '%s'", path);
			goto done;
		}
	} else if (!cp->snapshot) {
		warning("skipping '%s': not a file, directory or symbolic link", path);
	}
	/* A snapshot neither follows nor copies links and special files. */
	ret = 0;
done:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static int copy_tree_fd(struct copier *cp, int sfd, const char *dst, int top)
{
	int dfd, ret;

	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		close(sfd);
		return error_errno("cannot open '%s'", dst);
	}
	ret = copy_dir(cp, sfd, dfd, "", top);
	close(dfd);
	if (!ret)
		show_progress(cp, 1);
	else if (cp->progress)
		fputc('\n', stderr);
	return ret;
}

static int copy_tree(const char *src, const char *dst, int progress, int top)
{
	struct copier cp = { .progress = progress };
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (sfd < 0)
		return error_errno("cannot open '%s'", src);
	return copy_tree_fd(&cp, sfd, dst, top);
}

int copy_directory(const char *src, const char *dst)
{
	if (mkdir(dst, 0700) < 0 && errno != EEXIST)
		return error_errno("cannot create '%s'", dst);
	return copy_tree(src, dst, 0, 0);
}

int snapshot_tree(int sfd, const char *dst)
{
	struct copier cp = { .snapshot = 1, .link = 1 };

	if (mkdir(dst, 0700) < 0) {
		close(sfd);
		return error_errno("cannot create '%s'", dst);
	}
	return copy_tree_fd(&cp, sfd, dst, 0);
}

int copy_file(const char *src, const char *dst, unsigned flags)
{
	struct stat st;
	int sfd = -1, dfd = -1, ret = -1;

	sfd = open(src, O_RDONLY | O_CLOEXEC | (flags & COPY_FOLLOW ? 0 : O_NOFOLLOW));
	if (sfd < 0) {
		ret = errno == ENOENT && (flags & COPY_MISSING_OK) ? 0 :
			error_errno("cannot open '%s'", src);
		goto done;
	}
	if (fstat(sfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = error("'%s' is not a regular file", src);
		goto done;
	}
	dfd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777);
	if (dfd < 0 || copy_file_fd(sfd, dfd, st.st_size) < 0 || fchmod(dfd, st.st_mode & 0777) < 0) {
		error_errno("cannot copy '%s'", src);
		goto done;
	}
	if (flags & COPY_TIMES) {
		struct timespec times[2] = { st.st_atim, st.st_mtim };
		futimens(dfd, times);
	}
	ret = 0;
done:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

/* Copy a file from the host git dir, if it exists; keep its mtime. */
static int copy_git_file(const char *srcdir, const char *name, const char *dstdir)
{
	struct strbuf s = STRBUF_INIT, d = STRBUF_INIT;
	int ret;

	path_join(&s, srcdir, name);
	path_join(&d, dstdir, name);
	ret = copy_file(s.buf, d.buf, COPY_TIMES | COPY_MISSING_OK);
	strbuf_release(&s);
	strbuf_release(&d);
	return ret;
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return error_errno("cannot create '%s'", path);
	w = write(fd, data, len);
	if (w != (ssize_t)len || close(fd) < 0) {
		if (w >= 0 && w != (ssize_t)len)
			errno = ENOSPC;
		return error_errno("cannot write '%s'", path);
	}
	return 0;
}

struct ref_line {
	char *name;
	git_oid oid;
};

static int cmp_ref_line(const void *a, const void *b)
{
	return strcmp(((const struct ref_line *)a)->name, ((const struct ref_line *)b)->name);
}

/*
 * Write the clone's refs as one packed-refs file: branches, tags and the
 * stash as on the host, and origin's remote-tracking branches (the mirror
 * has the host's branches).
 */
static int write_refs(git_repository *host, const char *dest_git, const char *new_branch)
{
	git_oid head;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	struct ref_line *lines = NULL;
	size_t nr = 0, alloc = 0;
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	int err, ret = -1;

	if (git_reference_iterator_new(&it, host) < 0) {
		error_lg2("cannot read the host repository's refs");
		goto done;
	}
	while (!(err = git_reference_next(&ref, it))) {
		const char *name = git_reference_name(ref), *rest;
		const git_oid *oid = git_reference_target(ref);

		if (oid && (starts_with(name, "refs/heads/") || starts_with(name, "refs/tags/") ||
			    !strcmp(name, "refs/stash"))) {
			ALLOC_GROW(lines, nr + 1, alloc);
			lines[nr].name = xstrdup(name);
			git_oid_cpy(&lines[nr].oid, oid);
			nr++;
			if (skip_prefix(name, "refs/heads/", &rest)) {
				ALLOC_GROW(lines, nr + 1, alloc);
				lines[nr].name = xstrfmt("refs/remotes/origin/%s", rest);
				git_oid_cpy(&lines[nr].oid, oid);
				nr++;
			}
		}
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER) {
		error_lg2("cannot read the host repository's refs");
		goto done;
	}
	git_error_clear();
	if (new_branch && !git_reference_name_to_id(&head, host, "HEAD")) {
		ALLOC_GROW(lines, nr + 1, alloc);
		lines[nr].name = xstrfmt("refs/heads/%s", new_branch);
		git_oid_cpy(&lines[nr].oid, &head);
		nr++;
	}
	git_error_clear();
	if (nr)
		qsort(lines, nr, sizeof(*lines), cmp_ref_line);
	strbuf_addstr(&sb, "# pack-refs with: sorted \n");
	for (size_t i = 0; i < nr; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &lines[i].oid);
		strbuf_addf(&sb, "%s %s\n", hex, lines[i].name);
	}
	path_join(&path, dest_git, "packed-refs");
	ret = write_file(path.buf, sb.buf, sb.len, 0644);
done:
	for (size_t i = 0; i < nr; i++)
		free(lines[i].name);
	free(lines);
	git_reference_iterator_free(it);
	strbuf_release(&sb);
	strbuf_release(&path);
	return ret;
}

/*
 * The clone's HEAD: the host worktree's, symbolic or detached. Sets
 * *branch to the checked-out branch's short name (or NULL when detached).
 */
static int write_head(git_repository *host, const char *dest_git, const char *new_branch,
		      char **branch)
{
	git_reference *head = NULL;
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	const char *short_name;
	int ret = -1;

	*branch = NULL;
	if (git_reference_lookup(&head, host, "HEAD") < 0) {
		error_lg2("cannot read HEAD");
		goto done;
	}
	if (new_branch) {
		strbuf_addf(&sb, "ref: refs/heads/%s\n", new_branch);
	} else if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *target = git_reference_symbolic_target(head);

		strbuf_addf(&sb, "ref: %s\n", target);
		if (skip_prefix(target, "refs/heads/", &short_name))
			*branch = xstrdup(short_name);
	} else {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), git_reference_target(head));
		strbuf_addf(&sb, "%s\n", hex);
	}
	path_join(&path, dest_git, "HEAD");
	ret = write_file(path.buf, sb.buf, sb.len, 0644);
done:
	git_reference_free(head);
	strbuf_release(&sb);
	strbuf_release(&path);
	return ret;
}

/*
 * The settings a clone keeps from the host: only those that change how
 * the working tree and index are read, and who commits. Nothing that names
 * a program, a credential, a path on the host or an include.
 */
static const char *const kept_config[] = {
	"core.autocrlf", "core.eol", "core.safecrlf", "core.ignorecase",
	"core.precomposeunicode", "core.symlinks", "core.filemode", "core.quotepath",
	"extensions.objectformat", "user.name", "user.email",
};

/*
 * Submodules the host has initialised are initialised in the clone too,
 * with the URL .gitmodules gives (never a host path from .git/config).
 */
struct submodule_copy {
	git_config *cfg;
	int failed;
};

static int copy_submodule(git_submodule *sm, const char *name, void *payload)
{
	struct submodule_copy *sc = payload;
	struct strbuf key = STRBUF_INIT;
	unsigned int status = 0;
	const char *url = git_submodule_url(sm);

	if (git_submodule_location(&status, sm) < 0 || !url ||
	    !(status & GIT_SUBMODULE_STATUS_IN_CONFIG)) {
		git_error_clear();
		goto done;
	}
	strbuf_addf(&key, "submodule.%s.url", name);
	if (git_config_set_string(sc->cfg, key.buf, url) < 0)
		sc->failed = 1;
	strbuf_reset(&key);
	strbuf_addf(&key, "submodule.%s.active", name);
	if (git_config_set_bool(sc->cfg, key.buf, 1) < 0)
		sc->failed = 1;
done:
	strbuf_release(&key);
	return 0;
}

/*
 * What the sandbox's git runs for a fetch or pull from origin, in the
 * container (never on the host, which reads none of the clone's config):
 * a word on how fresh origin is, then git's own upload-pack, to which git
 * appends the path. Sandbox names are [a-z0-9._-]: safe in double quotes.
 */
static void origin_upload_pack(struct strbuf *out, const char *name)
{
	strbuf_addf(out,
		    "printf >&2 '%%s\\n' "
		    "\"hint: origin is a read-only copy of the host repository, refreshed on the\" "
		    "\"hint: host by 'git sand sync-host %s' (and by 'git sand start')\"; "
		    "git-upload-pack", name);
}

static int write_config(const struct clone_opts *o, const char *dest_git, const char *branch)
{
	git_config *host_cfg = NULL, *cfg = NULL;
	struct strbuf path = STRBUF_INIT, val = STRBUF_INIT, key = STRBUF_INIT;
	int ret = -1;

	if (git_repository_config_snapshot(&host_cfg, o->host) < 0) {
		error_lg2("cannot read the host repository's configuration");
		goto done;
	}
	path_join(&path, dest_git, "config");
	if (git_config_open_ondisk(&cfg, path.buf) < 0) {
		error_lg2("cannot open '%s'", path.buf);
		goto done;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kept_config); i++) {
		int got = config_get_str(host_cfg, kept_config[i], &val);

		if (got < 0)
			goto done;
		if (got && git_config_set_string(cfg, kept_config[i], val.buf) < 0)
			goto lg2_failed;
	}
	/*
	 * The clone's files are copies: their inode and ctime differ from
	 * what the host index recorded. Have git trust size and mtime, so the
	 * first status does not re-read the whole tree.
	 */
	if (git_config_set_string(cfg, "core.checkStat", "minimal") < 0 ||
	    git_config_set_string(cfg, "remote.origin.url", o->origin_url) < 0 ||
	    /*
	     * Pushing reaches the read-only mount and our pre-push hook,
	     * which says why it is refused; the mount is what refuses it.
	     */
	    git_config_set_string(cfg, "remote.origin.pushurl", o->origin_url) < 0 ||
	    git_config_set_string(cfg, "remote.origin.fetch",
				  "+refs/heads/*:refs/remotes/origin/*") < 0 ||
	    /* So that git-sand's hooks, if they get in here, know to do nothing. */
	    (o->sandbox_id && git_config_set_string(cfg, "sand.sandbox", o->sandbox_id) < 0) ||
	    /*
	     * The status hints would say to "git push", which is refused
	     * here; git has no switch for that hint alone.
	     */
	    git_config_set_bool(cfg, "advice.statusHints", 0) < 0)
		goto lg2_failed;
	if (o->sandbox_name) {
		strbuf_reset(&val);
		origin_upload_pack(&val, o->sandbox_name);
		if (git_config_set_string(cfg, "remote.origin.uploadpack", val.buf) < 0)
			goto lg2_failed;
	}
	{
		struct submodule_copy sc = { cfg, 0 };

		if (git_submodule_foreach(o->host, copy_submodule, &sc) < 0)
			git_error_clear(); /* a broken .gitmodules: no submodules */
		if (sc.failed)
			goto lg2_failed;
	}
	if (branch) {
		strbuf_addf(&key, "branch.%s.remote", branch);
		if (git_config_set_string(cfg, key.buf, "origin") < 0)
			goto lg2_failed;
		strbuf_reset(&key);
		strbuf_addf(&key, "branch.%s.merge", branch);
		strbuf_reset(&val);
		strbuf_addf(&val, "refs/heads/%s", branch);
		if (git_config_set_string(cfg, key.buf, val.buf) < 0)
			goto lg2_failed;
	}
	ret = 0;
	goto done;
lg2_failed:
	error_lg2("cannot write the sandbox's git configuration");
done:
	git_config_free(cfg);
	git_config_free(host_cfg);
	strbuf_release(&path);
	strbuf_release(&val);
	strbuf_release(&key);
	return ret;
}

static const char pre_push_hook[] =
	"#!/bin/sh\n"
	"# Installed by git-sand: this sandbox cannot push to the host.\n"
	"echo >&2 \"error: pushing from a git-sand sandbox is disabled\"\n"
	"echo >&2 \"hint: commit here; on the host, 'git sand fetch' or 'git sand sync' brings your work back\"\n"
	"exit 1\n";

int clone_workspace(const struct clone_opts *o)
{
	struct strbuf git = STRBUF_INIT, p = STRBUF_INIT, alt = STRBUF_INIT;
	git_repository *clone = NULL;
	git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	char *branch = NULL;
	int ret = -1;

	if (mkdir(o->dest, 0755) < 0) {
		error_errno("cannot create '%s'", o->dest);
		goto done;
	}
	if (!o->no_worktree && copy_tree(o->worktree, o->dest, o->progress, 1) < 0)
		goto done;

	path_join(&git, o->dest, ".git");
	init.flags = GIT_REPOSITORY_INIT_NO_REINIT | GIT_REPOSITORY_INIT_MKDIR;
	init.workdir_path = o->dest;
	if (git_repository_init_ext(&clone, git.buf, &init) < 0) {
		error_lg2("cannot initialise the sandbox's repository");
		goto done;
	}

	/* Borrow objects from the mirror. */
	strbuf_addf(&alt, "%s\n", o->alternates);
	path_join(&p, git.buf, "objects/info/alternates");
	if (write_file(p.buf, alt.buf, alt.len, 0644) < 0)
		goto done;

	if (write_refs(o->host, git.buf, o->branch) < 0 ||
	    write_head(o->host, git.buf, o->branch, &branch) < 0 ||
	    write_config(o, git.buf, branch) < 0)
		goto done;

	/* The index and what git keeps beside it, as they are on the host. */
	if (copy_git_file(o->gitdir, "index", git.buf) < 0 ||
	    copy_git_file(o->commondir, "info/exclude", git.buf) < 0)
		goto done;

	/* Submodules keep their repositories in the common dir. */
	path_join(&p, o->commondir, "modules");
	if (!access(p.buf, F_OK)) {
		struct strbuf d = STRBUF_INIT;

		path_join(&d, git.buf, "modules");
		ret = mkdir(d.buf, 0755) < 0 ? error_errno("cannot create '%s'", d.buf) :
			copy_tree(p.buf, d.buf, 0, 0);
		strbuf_release(&d);
		if (ret < 0)
			goto done;
		ret = -1;
	}

	path_join(&p, git.buf, "hooks");
	mkdir(p.buf, 0755);
	path_join(&p, git.buf, "hooks/pre-push");
	if (write_file(p.buf, pre_push_hook, sizeof(pre_push_hook) - 1, 0755) < 0)
		goto done;
	ret = 0;
done:
	free(branch);
	git_repository_free(clone);
	strbuf_release(&git);
	strbuf_release(&p);
	strbuf_release(&alt);
	return ret;
}

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#include "copy.h"
#include "msg.h"
#include "strbuf.h"

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
};

/*
 * The mode a copy gets: the source's, but in a snapshot of what a sandbox
 * made, no set-id or sticky bit, and directories that we may enter and
 * change (so that the copy can be removed).
 */
static mode_t snapshot_mode(const struct copier *cp, mode_t mode, int dir)
{
	if (!cp->snapshot)
		return mode & 07777;
	return dir ? 0700 | (mode & 0755) : mode & 0777;
}

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

/* One entry of a directory being copied, and where it goes. */
struct entry {
	int sdir, ddir;		/* the directories it is in, and is copied to */
	const char *name;	/* its name in both */
	const struct stat *st;
	const char *path;	/* from the top of the copy, for messages */
};

static int copy_entry(struct copier *cp, const struct entry *e);

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
		struct entry e = { dirfd(d), dfd, de->d_name, &st, NULL };

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
		e.path = sub.buf;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed while we copy */
			ret = error_errno("cannot stat '%s'", sub.buf);
			break;
		}
		if (copy_entry(cp, &e) < 0) {
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

static void count_file(struct copier *cp, const struct stat *st)
{
	cp->files++;
	cp->bytes += (size_t)st->st_size;
	show_progress(cp, 0);
}

/*
 * Hard-link a regular file: 1 if linked, 0 if it could not be (copy it),
 * -1 on error.
 */
static int link_file(struct copier *cp, const struct entry *e)
{
	struct stat now;

	if (linkat(e->sdir, e->name, e->ddir, e->name, 0) < 0)
		return 0;
	/*
	 * linkat links a symbolic link itself if one was swapped in: check
	 * what we linked. Our directory is private, and an inode's type
	 * cannot change, so this check cannot race.
	 */
	if (fstatat(e->ddir, e->name, &now, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(now.st_mode)) {
		unlinkat(e->ddir, e->name, 0);
		return error("'%s' changed while it was being copied", e->path);
	}
	cp->files++;
	return 1;
}

static int copy_regular(struct copier *cp, const struct entry *e)
{
	struct timespec times[2] = { e->st->st_atim, e->st->st_mtim };
	struct stat now;
	int sfd, dfd = -1, ret = -1;

	/* Non-blocking, and checked again: it may have changed since. */
	sfd = openat(e->sdir, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (sfd < 0)
		return error_errno("cannot open '%s'", e->path);
	if (fstat(sfd, &now) < 0 || !S_ISREG(now.st_mode)) {
		error("'%s' changed while it was being copied", e->path);
		goto done;
	}
#ifdef __APPLE__
	/* APFS: a copy-on-write clone, with the file's metadata. */
	if (!fclonefileat(sfd, e->ddir, e->name, 0)) {
		utimensat(e->ddir, e->name, times, AT_SYMLINK_NOFOLLOW);
		count_file(cp, e->st);
		ret = 0;
		goto done;
	}
#endif
	dfd = openat(e->ddir, e->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dfd < 0) {
		error_errno("cannot create '%s' in the sandbox", e->path);
		goto done;
	}
	if (copy_file_fd(sfd, dfd, e->st->st_size) < 0) {
		error_errno("cannot copy '%s'", e->path);
		goto done;
	}
	if (fchmod(dfd, snapshot_mode(cp, e->st->st_mode, 0)) < 0 || futimens(dfd, times) < 0) {
		error_errno("cannot set the mode or times of '%s'", e->path);
		goto done;
	}
	count_file(cp, e->st);
	ret = 0;
done:
	close(sfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static int copy_symlink(struct copier *cp, const struct entry *e)
{
	struct timespec times[2] = { e->st->st_atim, e->st->st_mtim };
	struct strbuf target = STRBUF_INIT;
	ssize_t n;
	int ret = -1;

	strbuf_grow(&target, (size_t)e->st->st_size + 1);
	n = readlinkat(e->sdir, e->name, target.buf, target.alloc - 1);
	if (n < 0 || (size_t)n >= target.alloc - 1) {
		error_errno("cannot read the link '%s'", e->path);
		goto done;
	}
	target.buf[n] = '\0';
	target.len = (size_t)n;
	if (symlinkat(target.buf, e->ddir, e->name) < 0) {
		error_errno("cannot create the link '%s' in the sandbox", e->path);
		goto done;
	}
	utimensat(e->ddir, e->name, times, AT_SYMLINK_NOFOLLOW);
	cp->files++;
	ret = 0;
done:
	strbuf_release(&target);
	return ret;
}

static int copy_subdir(struct copier *cp, const struct entry *e)
{
	struct timespec times[2] = { e->st->st_atim, e->st->st_mtim };
	int sfd, dfd, ret = -1;

	if (mkdirat(e->ddir, e->name, 0700) < 0)
		return error_errno("cannot create directory '%s' in the sandbox", e->path);
	sfd = openat(e->sdir, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dfd = openat(e->ddir, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || dfd < 0) {
		error_errno("cannot open directory '%s'", e->path);
		if (sfd >= 0)
			close(sfd);
		goto done;
	}
	if (copy_dir(cp, sfd, dfd, e->path, 0) < 0)
		goto done; /* copy_dir owns sfd */
	if (fchmod(dfd, snapshot_mode(cp, e->st->st_mode, 1)) < 0 || futimens(dfd, times) < 0) {
		error_errno("cannot set the mode or times of '%s'", e->path);
		goto done;
	}
	ret = 0;
done:
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static int copy_entry(struct copier *cp, const struct entry *e)
{
	mode_t mode = e->st->st_mode;

	if (S_ISREG(mode)) {
		int linked = cp->link ? link_file(cp, e) : 0;

		return linked ? (linked < 0 ? -1 : 0) : copy_regular(cp, e);
	}
	if (S_ISDIR(mode))
		return copy_subdir(cp, e);
	/* A snapshot neither follows nor copies links and special files. */
	if (cp->snapshot)
		return 0;
	if (S_ISLNK(mode))
		return copy_symlink(cp, e);
	warning("skipping '%s': not a file, directory or symbolic link", e->path);
	return 0;
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

int copy_tree(const char *src, const char *dst, unsigned flags)
{
	struct copier cp = { .progress = !!(flags & COPY_PROGRESS) };
	int sfd;

	if (mkdir(dst, 0700) < 0 && errno != EEXIST)
		return error_errno("cannot create '%s'", dst);
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return error_errno("cannot open '%s'", src);
	return copy_tree_fd(&cp, sfd, dst, !!(flags & COPY_NO_DOT_GIT));
}

int copy_directory(const char *src, const char *dst)
{
	return copy_tree(src, dst, 0);
}

int snapshot_tree(int sfd, const char *dst, unsigned flags)
{
	struct copier cp = { .snapshot = 1, .link = !!(flags & SNAPSHOT_LINK) };

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

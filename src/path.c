#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "compat.h"
#include "gitutil.h"
#include "msg.h"
#include "path.h"
#include "string-list.h"

static int make_absolute(struct strbuf *sb, const char *what)
{
	char *cwd;

	if (sb->buf[0] == '/')
		return 0;
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return error_errno("cannot determine the current directory for %s", what);
	{
		struct strbuf abs = STRBUF_INIT;

		strbuf_addf(&abs, "%s/%s", cwd, sb->buf);
		strbuf_reset(sb);
		strbuf_addbuf(sb, &abs);
		strbuf_release(&abs);
	}
	free(cwd);
	return 0;
}

int sand_state_root(struct strbuf *out, git_config *cfg)
{
	const char *env;
	const char *what = "GIT_SAND_HOME";
	int got;

	strbuf_reset(out);
	if ((env = getenv("GIT_SAND_HOME")) && *env) {
		strbuf_addstr(out, env);
	} else if ((got = config_get_path(cfg, "sand.home", out)) < 0) {
		return -1;
	} else if (got && out->len) {
		what = "sand.home";
	} else if ((env = getenv("XDG_STATE_HOME")) && *env == '/') {
		/* XDG says a relative value is invalid and must be ignored. */
		strbuf_reset(out);
		strbuf_addf(out, "%s/git-sand", env);
		what = "XDG_STATE_HOME";
	} else if ((env = getenv("HOME")) && *env) {
		strbuf_reset(out);
		strbuf_addf(out, "%s/.local/state/git-sand", env);
		what = "HOME";
	} else {
		return error("cannot find the state directory: set GIT_SAND_HOME or HOME");
	}
	if (make_absolute(out, what) < 0)
		return -1;
	strip_trailing_slashes(out->buf);
	out->len = strlen(out->buf);
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	strbuf_addstr(&sb, path);
	for (char *p = sb.buf + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(sb.buf, mode) < 0 && errno != EEXIST) {
				ret = -1;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	if (!ret) {
		struct stat st;

		if (stat(path, &st) < 0) {
			ret = -1;
		} else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			ret = -1;
		}
	}
	strbuf_release(&sb);
	return ret;
}

void path_join(struct strbuf *out, const char *dir, const char *name)
{
	strbuf_reset(out);
	strbuf_addstr(out, dir);
	if (!out->len || out->buf[out->len - 1] != '/')
		strbuf_addch(out, '/');
	strbuf_addstr(out, name);
}

/*
 * Where a directory entry lives: its inode, and the mount it is on. Two
 * directories of one filesystem can still be two mounts (a bind mount):
 * the mount id tells them apart where the kernel gives one (statx).
 */
struct place {
	dev_t dev;
	ino_t ino;
	uint64_t mnt;
	int has_mnt;
	mode_t mode;
};

static int place_of(int dirfd, const char *name, struct place *out)
{
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
	struct stat st;

	memset(out, 0, sizeof(*out));
#ifdef STATX_MNT_ID
	{
		struct statx sx;

		if (!statx(dirfd, name, flags | AT_NO_AUTOMOUNT,
			   STATX_TYPE | STATX_INO | STATX_MNT_ID, &sx)) {
			out->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
			out->ino = sx.stx_ino;
			out->mnt = sx.stx_mnt_id;
			out->has_mnt = !!(sx.stx_mask & STATX_MNT_ID);
			out->mode = sx.stx_mode;
			return 0;
		}
		if (errno != ENOSYS)
			return -1;
	}
#endif
	if (fstatat(dirfd, name, &st, flags) < 0)
		return -1;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->mode = st.st_mode;
	return 0;
}

static int same_mount(const struct place *a, const struct place *b)
{
	return a->dev == b->dev && (!a->has_mnt || !b->has_mnt || a->mnt == b->mnt);
}

/* One directory on the way down: its name in its parent, and what it is. */
struct level {
	char *name;
	struct place place;
	struct string_list kept;	/* entries that could not be removed */
};

static int kept(const struct level *l, const char *name)
{
	for (size_t i = 0; i < l->kept.nr; i++)
		if (!strcmp(l->kept.items[i], name))
			return 1;
	return 0;
}

/*
 * Remove what is not a directory in the directory open at fd, and find a
 * subdirectory to go down into (*next, owned by the caller), skipping
 * those kept. Directories on another mount are kept, never entered.
 */
static int empty_files(int fd, struct level *l, const struct place *root, const char *path,
		       char **next)
{
	int dfd = dup(fd), ret = 0;
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	*next = NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return error_errno("cannot read directory '%s'", path);
	}
	rewinddir(d);
	while (!*next && (errno = 0, de = readdir(d))) {
		struct place p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || kept(l, de->d_name))
			continue;
		if (place_of(fd, de->d_name, &p) < 0) {
			if (errno != ENOENT)
				ret = error_errno("cannot stat '%s/%s'", path, de->d_name);
			continue;
		}
		if (!S_ISDIR(p.mode)) {
			if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
				ret = error_errno("cannot remove '%s/%s'", path, de->d_name);
				string_list_append(&l->kept, de->d_name);
			}
		} else if (!same_mount(&p, root)) {
			ret = error("not removing '%s/%s': it is another filesystem or mount",
				    path, de->d_name);
			string_list_append(&l->kept, de->d_name);
		} else {
			*next = xstrdup(de->d_name);
		}
	}
	if (!*next && errno)
		ret = error_errno("cannot read directory '%s'", path);
	closedir(d);
	return ret;
}

/*
 * Go down into name (in the directory open at *fd): one descriptor held,
 * whatever the depth. 0, or -1 when it cannot be entered (then kept).
 */
static int go_down(int *fd, struct level **levels, size_t *nr, size_t *alloc,
		   const struct place *root, struct strbuf *path, char *name)
{
	struct level *up = &(*levels)[*nr - 1];
	struct place p;
	int sub;

	/* A directory may be read-only (git makes objects dirs so). */
	fchmodat(*fd, name, 0700, 0);
	sub = openat(*fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0 || place_of(sub, "", &p) < 0 || !same_mount(&p, root)) {
		int ret = error_errno("cannot enter '%s/%s'", path->buf, name);

		if (sub >= 0)
			close(sub);
		string_list_append(&up->kept, name);
		free(name);
		return ret;
	}
	ALLOC_GROW(*levels, *nr + 1, *alloc);
	memset(&(*levels)[*nr], 0, sizeof(**levels));
	(*levels)[*nr].name = name;
	(*levels)[*nr].place = p;
	(*nr)++;
	close(*fd);
	*fd = sub;
	strbuf_addf(path, "/%s", name);
	return 0;
}

/*
 * Back up from an emptied directory to its parent, and remove it. The
 * parent must be the directory we came down from: a tree moved under us
 * stops the removal (-2) rather than lead it elsewhere.
 */
static int go_up(int *fd, struct level *levels, size_t *nr, struct strbuf *path)
{
	struct level *l = &levels[*nr - 1], *up = &levels[*nr - 2];
	struct place p;
	int parent = openat(*fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret = 0;

	if (parent < 0 || place_of(parent, "", &p) < 0 || p.dev != up->place.dev ||
	    p.ino != up->place.ino) {
		if (parent >= 0)
			close(parent);
		error("'%s' moved while it was being removed", path->buf);
		return -2;
	}
	close(*fd);
	*fd = parent;
	strbuf_setlen(path, path->len - strlen(l->name) - 1);
	if (unlinkat(parent, l->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		ret = error_errno("cannot remove '%s/%s'", path->buf, l->name);
		string_list_append(&up->kept, l->name);
	}
	free(l->name);
	string_list_clear(&l->kept);
	(*nr)--;
	return ret;
}

int remove_tree(const char *path)
{
	struct strbuf where = STRBUF_INIT;
	struct level *levels = NULL;
	size_t nr = 0, alloc = 0;
	struct stat st;
	int fd, ret = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : error_errno("cannot stat '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return error_errno("cannot remove '%s'", path);
		return 0;
	}
	chmod(path, 0700);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ALLOC_GROW(levels, 1, alloc);
	memset(levels, 0, sizeof(*levels));
	if (fd < 0 || place_of(fd, "", &levels[0].place) < 0) {
		ret = error_errno("cannot open '%s'", path);
		goto done;
	}
	nr = 1;
	strbuf_addstr(&where, path);
	/* Depth first, without recursion: any depth a sandbox can build. */
	for (;;) {
		char *next;

		if (empty_files(fd, &levels[nr - 1], &levels[0].place, where.buf, &next) < 0)
			ret = -1;
		if (next) {
			if (go_down(&fd, &levels, &nr, &alloc, &levels[0].place, &where, next) < 0)
				ret = -1;
		} else if (nr > 1) {
			int up = go_up(&fd, levels, &nr, &where);

			if (up < 0)
				ret = -1;
			if (up == -2)
				break;
		} else {
			break;
		}
	}
	if (!ret && rmdir(path) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", path);
done:
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < nr; i++) {
		free(levels[i].name);
		string_list_clear(&levels[i].kept);
	}
	free(levels);
	strbuf_release(&where);
	return ret;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, ret = -1;

	strbuf_addf(&tmp, "%s.tmp-%d", path, (int)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		goto done;
	}
	/* The mode asked for, whatever the umask (hooks must be executable). */
	if (write_in_full(fd, data, len) < 0 || fchmod(fd, mode) < 0) {
		error_errno("cannot write '%s'", tmp.buf);
		close(fd);
		unlink(tmp.buf);
		goto done;
	}
	if (close(fd) < 0) {
		error_errno("cannot write '%s'", tmp.buf);
		unlink(tmp.buf);
		goto done;
	}
	if (rename(tmp.buf, path) < 0) {
		error_errno("cannot rename '%s' to '%s'", tmp.buf, path);
		unlink(tmp.buf);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&tmp);
	return ret;
}

int open_dir_beneath(int dir, const char *rel, size_t len)
{
	struct strbuf part = STRBUF_INIT;
	const char *end = rel + len;
	int fd = dup(dir), saved;

	while (fd >= 0 && rel < end) {
		size_t n = strcspn(rel, "/");
		int next;

		if (n > (size_t)(end - rel))
			n = (size_t)(end - rel);
		strbuf_reset(&part);
		strbuf_add(&part, rel, n);
		next = n ? openat(fd, part.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : fd;
		if (next != fd) {
			saved = errno;
			close(fd);
			errno = saved;
		}
		fd = next;
		rel += n + (rel + n < end);
	}
	strbuf_release(&part);
	return fd;
}

int path_valid_in_tree(const char *path)
{
	const char *p = path;

	if (!*p || *p == '/' || strlen(p) > 4096)
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 4 && !strncasecmp(p, ".git", 4)))
			return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

int path_self_exe(struct strbuf *out)
{
	strbuf_reset(out);
	for (size_t size = 256;; size *= 2) {
		ssize_t n;

		strbuf_grow(out, size);
		n = readlink("/proc/self/exe", out->buf, out->alloc - 1);
		if (n <= 0)
			return -1;
		if ((size_t)n < out->alloc - 1) {
			strbuf_setlen(out, (size_t)n);
			return 0;
		}
	}
}

int path_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int path_ns_is_ours(long pid, const char *kind)
{
	struct strbuf self = STRBUF_INIT, theirs = STRBUF_INIT;
	int ret;

	strbuf_addf(&self, "/proc/self/ns/%s", kind);
	strbuf_addf(&theirs, "/proc/%ld/ns/%s", pid, kind);
	ret = path_same_file(self.buf, theirs.buf);
	strbuf_release(&self);
	strbuf_release(&theirs);
	return ret;
}

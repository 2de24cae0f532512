#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitutil.h"
#include "msg.h"
#include "path.h"

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

int sand_state_root(git_config *cfg, struct strbuf *out)
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

/* Empty the directory open at fd (which this consumes), then return. */
static int remove_contents(int fd, dev_t dev, const char *path)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(fd);
		return error_errno("cannot read directory '%s'", path);
	}
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			ret = error_errno("cannot stat '%s/%s'", path, de->d_name);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			struct strbuf sub = STRBUF_INIT;
			int sfd;

			path_join(&sub, path, de->d_name);
			if (st.st_dev != dev) {
				ret = error("not removing '%s': it is another filesystem", sub.buf);
				strbuf_release(&sub);
				continue;
			}
			/* A directory may be read-only (git makes objects dirs so). */
			fchmodat(dirfd(d), de->d_name, 0700, 0);
			sfd = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0)
				ret = error_errno("cannot open '%s'", sub.buf);
			else if (remove_contents(sfd, dev, sub.buf) < 0)
				ret = -1;
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				ret = error_errno("cannot remove '%s'", sub.buf);
			strbuf_release(&sub);
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			ret = error_errno("cannot remove '%s/%s'", path, de->d_name);
		}
	}
	if (errno)
		ret = error_errno("cannot read directory '%s'", path);
	closedir(d);
	return ret;
}

int remove_tree(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : error_errno("cannot stat '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return error_errno("cannot remove '%s'", path);
		return 0;
	}
	chmod(path, 0700);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno("cannot open '%s'", path);
	if (remove_contents(fd, st.st_dev, path) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return error_errno("cannot remove '%s'", path);
	return 0;
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

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "msg.h"
#include "path.h"
#include "sandbox-lock.h"

void sandbox_lock_path(const struct sandbox *sb, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s.lock", sb->dir);
}

int sandbox_lock(const struct sandbox *sb, int *fd_out)
{
	struct strbuf path = STRBUF_INIT;
	int fd, ret = 0;

	*fd_out = -1;
	sandbox_lock_path(sb, &path);
	*strrchr(path.buf, '/') = '\0';
	if (mkdir_p(path.buf, 0700) < 0) {
		ret = error_errno("cannot create '%s'", path.buf);
		goto done;
	}
	sandbox_lock_path(sb, &path);
	fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = error_errno("cannot open '%s'", path.buf);
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		ret = errno == EWOULDBLOCK ? SANDBOX_BUSY :
			error_errno("cannot lock '%s'", path.buf);
		goto done;
	}
	*fd_out = fd;
done:
	strbuf_release(&path);
	return ret;
}

int sandbox_lock_held(const struct sandbox *sb)
{
	struct strbuf path = STRBUF_INIT;
	int fd, held = 0;

	sandbox_lock_path(sb, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	strbuf_release(&path);
	return held;
}

int sandbox_is_broken(struct store *st, struct sandbox *sb)
{
	struct sandbox now = { 0 };
	int broken = 0;

	if (sb->state == SB_READY || sandbox_lock_held(sb))
		return 0;
	/*
	 * The row was read before we looked at the lock: the command may
	 * have finished in between. Only a row still half-made now, with
	 * nobody holding its lock, is broken.
	 */
	if (store_get_by_id(st, sb->id, &now) == 0) {
		if (now.state != SB_READY)
			broken = 1;
		else
			sb->state = now.state;
	}
	sandbox_clear(&now);
	return broken;
}

void sandbox_unlock(const struct sandbox *sb, int fd, int remove)
{
	struct strbuf path = STRBUF_INIT;

	if (fd < 0)
		return;
	if (remove) {
		sandbox_lock_path(sb, &path);
		unlink(path.buf);
	}
	close(fd);
	strbuf_release(&path);
}

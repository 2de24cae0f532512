#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __APPLE__
#include <uuid/uuid.h>
#endif
#ifdef __linux__
#include <sys/random.h>
#endif

#include "compat.h"
#include "strbuf.h"

#ifdef __APPLE__
char *sand_strchrnul(const char *s, int c)
{
	while (*s && *s != (char)c)
		s++;
	return (char *)s;
}
#endif

int pipe_cloexec(int fds[2])
{
#ifdef __linux__
	return pipe2(fds, O_CLOEXEC);
#else
	if (pipe(fds) < 0)
		return -1;
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0) {
		int saved = errno;

		close(fds[0]);
		close(fds[1]);
		errno = saved;
		return -1;
	}
	return 0;
#endif
}

int random_bytes(void *buf, size_t len)
{
#ifdef __linux__
	ssize_t n;

	do {
		n = getrandom(buf, len, 0);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
#else
	/* getentropy gives at most 256 bytes at a time. */
	for (size_t off = 0; off < len; off += 256) {
		size_t n = len - off < 256 ? len - off : 256;

		if (getentropy((char *)buf + off, n) < 0)
			return -1;
	}
	return 0;
#endif
}

int write_in_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void machine_id(struct strbuf *out)
{
	static const char *const files[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
	struct strbuf id = STRBUF_INIT;
	char host[256];

#ifdef __APPLE__
	{
		uuid_t uuid;
		struct timespec wait = { 1, 0 };
		uuid_string_t text;

		if (!gethostuuid(uuid, &wait)) {
			uuid_unparse(uuid, text);
			strbuf_addstr(out, text);
			return;
		}
	}
#endif
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		strbuf_reset(&id);
		if (!strbuf_read_file(&id, files[i])) {
			strbuf_trim(&id);
			if (id.len) {
				strbuf_addbuf(out, &id);
				strbuf_release(&id);
				return;
			}
		}
	}
	strbuf_release(&id);
	if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		strbuf_addstr(out, host);
	}
}

void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

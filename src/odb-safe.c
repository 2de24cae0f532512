#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "odb-safe.h"
#include "strbuf.h"

struct safe_loose {
	git_odb_backend parent;
	int dirfd;
};

/* Open "xx/yyyy..." below the objects directory, following no link. */
static int open_object(struct safe_loose *b, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1], dir[3];
	int dfd, fd;

	git_oid_tostr(hex, sizeof(hex), oid);
	memcpy(dir, hex, 2);
	dir[2] = '\0';
	dfd = openat(b->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, hex + 2, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	close(dfd);
	return fd;
}

static int parse_type(const char *s, size_t len, git_object_t *type)
{
	static const struct { const char *name; git_object_t type; } types[] = {
		{ "commit", GIT_OBJECT_COMMIT }, { "tree", GIT_OBJECT_TREE },
		{ "blob", GIT_OBJECT_BLOB }, { "tag", GIT_OBJECT_TAG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strlen(types[i].name) == len && !memcmp(types[i].name, s, len)) {
			*type = types[i].type;
			return 0;
		}
	return -1;
}

/*
 * Inflate a loose object. With header_only, stop after "<type> <size>\0".
 * Returns 0, or -1 with a libgit2 error set.
 */
int safe_loose_parse(git_odb_backend *be, const unsigned char *raw, size_t rawlen,
		     int header_only, void **data, size_t *len_out, git_object_t *type_out)
{
	unsigned char head[64];
	unsigned char *out = NULL;
	z_stream z;
	size_t size = 0, hlen;
	git_object_t type;
	int zret, ret = -1, zinit = 0;
	char *sp, *end;

	if (rawlen > (size_t)UINT32_MAX)
		goto corrupt;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		goto corrupt;
	zinit = 1;
	z.next_in = (unsigned char *)raw;
	z.avail_in = (uInt)rawlen;
	z.next_out = head;
	z.avail_out = sizeof(head);
	zret = inflate(&z, Z_SYNC_FLUSH);
	if (zret != Z_OK && zret != Z_STREAM_END)
		goto corrupt;
	hlen = sizeof(head) - z.avail_out;
	end = memchr(head, '\0', hlen);
	sp = memchr(head, ' ', hlen);
	if (!end || !sp || sp > end || parse_type((char *)head, (size_t)(sp - (char *)head), &type))
		goto corrupt;
	for (char *p = sp + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || size > SAFE_LOOSE_MAX / 10)
			goto corrupt;
		size = size * 10 + (size_t)(*p - '0');
	}
	if (size > SAFE_LOOSE_MAX || end == sp + 1)
		goto corrupt;
	*type_out = type;
	*len_out = size;
	if (header_only) {
		ret = 0;
		goto done;
	}

	out = git_odb_backend_data_alloc(be, size + 1);
	if (!out)
		goto done;
	{
		size_t have = hlen - (size_t)(end + 1 - (char *)head);

		if (have > size)
			goto corrupt;
		memcpy(out, end + 1, have);
		z.next_out = out + have;
		z.avail_out = (uInt)(size - have);
		while (zret != Z_STREAM_END && z.avail_out) {
			zret = inflate(&z, Z_FINISH);
			if (zret != Z_OK && zret != Z_STREAM_END && zret != Z_BUF_ERROR)
				goto corrupt;
			if (zret == Z_BUF_ERROR && !z.avail_in)
				goto corrupt;
		}
		if (z.avail_out || (zret != Z_STREAM_END && inflate(&z, Z_FINISH) != Z_STREAM_END))
			goto corrupt;
	}
	out[size] = '\0';
	*data = out;
	out = NULL;
	ret = 0;
	goto done;
corrupt:
	git_error_set(GIT_ERROR_ODB, "corrupt loose object in the sandbox");
	ret = -1;
done:
	if (out)
		git_odb_backend_data_free(be, out);
	if (zinit)
		inflateEnd(&z);
	return ret;
}

static int read_loose(struct safe_loose *b, const git_oid *oid, int header_only,
		      void **data, size_t *len_out, git_object_t *type_out)
{
	struct strbuf raw = STRBUF_INIT;
	struct stat st;
	int fd, ret;

	fd = open_object(b, oid);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return GIT_ENOTFOUND;
		git_error_set(GIT_ERROR_ODB, "cannot open a sandbox object: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return GIT_ENOTFOUND;
	}
	if (strbuf_read_fd(&raw, fd) < 0) {
		close(fd);
		strbuf_release(&raw);
		git_error_set(GIT_ERROR_ODB, "cannot read a sandbox object: %s", strerror(errno));
		return -1;
	}
	close(fd);
	ret = safe_loose_parse(&b->parent, (const unsigned char *)raw.buf, raw.len, header_only,
			       data, len_out, type_out);
	strbuf_release(&raw);
	return ret;
}

static int safe_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be,
		     const git_oid *oid)
{
	return read_loose((struct safe_loose *)be, oid, 0, data, len, type);
}

static int safe_read_header(size_t *len, git_object_t *type, git_odb_backend *be,
			    const git_oid *oid)
{
	return read_loose((struct safe_loose *)be, oid, 1, NULL, len, type);
}

static int safe_exists(git_odb_backend *be, const git_oid *oid)
{
	int fd = open_object((struct safe_loose *)be, oid);
	struct stat st;
	int found;

	if (fd < 0)
		return 0;
	found = !fstat(fd, &st) && S_ISREG(st.st_mode);
	close(fd);
	return found;
}

static void safe_free(git_odb_backend *be)
{
	struct safe_loose *b = (struct safe_loose *)be;

	close(b->dirfd);
	free(b);
}

int safe_loose_backend_new(git_odb_backend **out, int objects_fd)
{
	struct safe_loose *b = xcalloc(1, sizeof(*b));

	if (git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(b);
		return -1;
	}
	b->dirfd = fcntl(objects_fd, F_DUPFD_CLOEXEC, 3);
	if (b->dirfd < 0) {
		free(b);
		git_error_set(GIT_ERROR_OS, "cannot duplicate a file descriptor");
		return -1;
	}
	b->parent.read = safe_read;
	b->parent.read_header = safe_read_header;
	b->parent.exists = safe_exists;
	b->parent.free = safe_free;
	*out = &b->parent;
	return 0;
}

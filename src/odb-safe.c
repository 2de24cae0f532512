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

size_t safe_object_max = SAFE_OBJECT_MAX_DEFAULT;

/* The error for an object over the limit (oid may be NULL), as -1. */
static int too_large(const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1] = "";

	if (oid)
		git_oid_tostr(hex, sizeof(hex), oid);
	git_error_set(GIT_ERROR_ODB,
		      "an object %s%sin the sandbox is larger than %zu bytes (sand.maxObjectSize); "
		      "raise the limit with 'git config sand.maxObjectSize <size>'",
		      hex, oid ? " " : "", safe_object_max);
	return -1;
}

/*
 * The most bytes a loose object of safe_object_max bytes can take:
 * deflate at worst adds 5 bytes per 16 KiB stored block, plus its header.
 */
static size_t loose_file_max(void)
{
	return safe_object_max + safe_object_max / 1024 + 4096;
}

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
 * Where a loose object's bytes come from: all in memory (raw), or read
 * from fd a chunk at a time, so that reading an object never holds its
 * compressed bytes beside the inflated ones. At most max bytes are taken.
 */
struct loose_src {
	const unsigned char *raw;
	size_t rawlen;
	int fd;
	struct strbuf buf;
	size_t total, max;
};

#define LOOSE_CHUNK 65536

/*
 * More input for z. 1 when there is some, 0 at the end of the source (or
 * past max bytes: *over is then set), -1 on a read error (with a libgit2
 * error).
 */
static int more_input(struct loose_src *s, z_stream *z, int *over)
{
	size_t want;
	ssize_t n;

	if (s->raw) {
		if (s->total)
			return 0;
		s->total = s->rawlen;
		z->next_in = (unsigned char *)s->raw;
		z->avail_in = (uInt)s->rawlen;
		return s->rawlen > 0;
	}
	if (s->total >= s->max) {
		*over = 1;
		return 0;
	}
	want = s->max - s->total < LOOSE_CHUNK ? s->max - s->total : LOOSE_CHUNK;
	strbuf_grow(&s->buf, want);
	do
		n = read(s->fd, s->buf.buf, want);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		git_error_set(GIT_ERROR_ODB, "cannot read a sandbox object: %s", strerror(errno));
		return -1;
	}
	s->total += (size_t)n;
	z->next_in = (unsigned char *)s->buf.buf;
	z->avail_in = (uInt)n;
	return n > 0;
}

/* "<type> <size>\0" at the start of head; *end is past its NUL. 0, -1 corrupt, -2 too large. */
static int parse_header(const unsigned char *head, size_t hlen, git_object_t *type,
			size_t *size, size_t *hdrlen)
{
	const char *h = (const char *)head, *end = memchr(h, '\0', hlen), *sp = memchr(h, ' ', hlen);

	*size = 0;
	if (!end || !sp || sp > end || parse_type(h, (size_t)(sp - h), type) || end == sp + 1)
		return -1;
	for (const char *p = sp + 1; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (*size > safe_object_max / 10 + 1)
			return -2;
		*size = *size * 10 + (size_t)(*p - '0');
	}
	if (*size > safe_object_max)
		return -2;
	*hdrlen = (size_t)(end + 1 - h);
	return 0;
}

/*
 * Inflate the rest of a loose object into the left bytes at pos. Once
 * the object is all out, inflate may still have to read the end of the
 * stream, with no room for output. zret: what inflate returned last. 0, -1 when corrupt, -2 on a read
 * error (with a libgit2 error set).
 */
static int inflate_rest(z_stream *z, int zret, struct loose_src *s, unsigned char *pos,
			size_t left, int *over)
{
	int got;

	z->avail_out = 0;
	while (zret != Z_STREAM_END) {
		if (!z->avail_out && left) {
			uInt n = left > UINT32_MAX ? UINT32_MAX : (uInt)left;

			z->next_out = pos;
			z->avail_out = n;
			pos += n;
			left -= n;
		}
		if (!z->avail_in) {
			if ((got = more_input(s, z, over)) < 0)
				return -2;
			if (!got)
				return -1;
		}
		zret = inflate(z, Z_NO_FLUSH);
		if (zret != Z_OK && zret != Z_STREAM_END && zret != Z_BUF_ERROR)
			return -1;
		if (zret == Z_BUF_ERROR && z->avail_in)
			return -1; /* more output than the header said */
	}
	return z->avail_out || left ? -1 : 0;
}

/*
 * Inflate a loose object from s. With header_only, stop after
 * "<type> <size>\0". *over is set when the source had more than its
 * max bytes. Returns 0, or -1 with a libgit2 error set.
 */
static int inflate_loose(git_odb_backend *be, struct loose_src *s, int header_only,
			 void **data, size_t *len_out, git_object_t *type_out, int *over)
{
	unsigned char head[64];
	unsigned char *out = NULL, *pos;
	z_stream z;
	size_t size = 0, hlen = 0, hdrlen, left;
	git_object_t type;
	int zret = Z_OK, ret = -1, zinit = 0, got;

	*over = 0;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		goto corrupt;
	zinit = 1;
	/* The header, in the first bytes of the inflated stream. */
	z.next_out = head;
	z.avail_out = sizeof(head);
	while (!memchr(head, '\0', hlen) && z.avail_out && zret != Z_STREAM_END) {
		if (!z.avail_in) {
			if ((got = more_input(s, &z, over)) < 0)
				goto done;
			if (!got)
				break;
		}
		zret = inflate(&z, Z_SYNC_FLUSH);
		if ((zret != Z_OK && zret != Z_STREAM_END && zret != Z_BUF_ERROR) ||
		    (zret == Z_BUF_ERROR && z.avail_in))
			goto corrupt;
		hlen = sizeof(head) - z.avail_out;
	}
	switch (parse_header(head, hlen, &type, &size, &hdrlen)) {
	case -2:
		ret = too_large(NULL);
		goto done;
	case -1:
		goto corrupt;
	}
	*type_out = type;
	*len_out = size;
	if (header_only) {
		ret = 0;
		goto done;
	}

	out = git_odb_backend_data_alloc(be, size + 1);
	if (!out)
		goto done;
	if (hlen - hdrlen > size)
		goto corrupt;
	memcpy(out, head + hdrlen, hlen - hdrlen);
	pos = out + (hlen - hdrlen);
	left = size - (hlen - hdrlen);
	switch (inflate_rest(&z, zret, s, pos, left, over)) {
	case -2:
		goto done;
	case -1:
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

int safe_loose_parse(git_odb_backend *be, const unsigned char *raw, size_t rawlen,
		     int header_only, void **data, size_t *len_out, git_object_t *type_out)
{
	struct loose_src s = { .raw = raw, .rawlen = rawlen, .fd = -1 };
	int over;

	if (rawlen > (size_t)UINT32_MAX) {
		git_error_set(GIT_ERROR_ODB, "corrupt loose object in the sandbox");
		return -1;
	}
	return inflate_loose(be, &s, header_only, data, len_out, type_out, &over);
}

static int read_loose(struct safe_loose *b, const git_oid *oid, int header_only,
		      void **data, size_t *len_out, git_object_t *type_out)
{
	/* The header is in the first bytes; a file may grow while read. */
	struct loose_src s = { .fd = -1, .buf = STRBUF_INIT,
			       .max = header_only ? 4096 : loose_file_max() };
	struct stat st;
	int over, ret;

	s.fd = open_object(b, oid);
	if (s.fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return GIT_ENOTFOUND;
		git_error_set(GIT_ERROR_ODB, "cannot open a sandbox object: %s", strerror(errno));
		return -1;
	}
	if (fstat(s.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(s.fd);
		return GIT_ENOTFOUND;
	}
	if ((size_t)st.st_size > loose_file_max()) {
		close(s.fd);
		return too_large(oid);
	}
	ret = inflate_loose(&b->parent, &s, header_only, data, len_out, type_out, &over);
	if (ret < 0 && over && !header_only)
		ret = too_large(oid);
	close(s.fd);
	strbuf_release(&s.buf);
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

/* The limit on another backend: the header first, then the object. */
struct safe_limit {
	git_odb_backend parent;
	git_odb_backend *inner;
};

static int limit_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be,
		      const git_oid *oid)
{
	git_odb_backend *in = ((struct safe_limit *)be)->inner;
	size_t size;
	git_object_t t;
	int ret = in->read_header(&size, &t, in, oid);

	if (ret < 0)
		return ret;
	if (size > safe_object_max)
		return too_large(oid);
	return in->read(data, len, type, in, oid);
}

static int limit_read_header(size_t *len, git_object_t *type, git_odb_backend *be,
			     const git_oid *oid)
{
	git_odb_backend *in = ((struct safe_limit *)be)->inner;

	return in->read_header(len, type, in, oid);
}

static int limit_exists(git_odb_backend *be, const git_oid *oid)
{
	git_odb_backend *in = ((struct safe_limit *)be)->inner;

	return in->exists(in, oid);
}

static int limit_refresh(git_odb_backend *be)
{
	git_odb_backend *in = ((struct safe_limit *)be)->inner;

	return in->refresh ? in->refresh(in) : 0;
}

static void limit_free(git_odb_backend *be)
{
	struct safe_limit *b = (struct safe_limit *)be;

	b->inner->free(b->inner);
	free(b);
}

int safe_limit_backend_new(git_odb_backend **out, git_odb_backend *inner)
{
	struct safe_limit *b = xcalloc(1, sizeof(*b));

	if (!inner->read || !inner->read_header || !inner->exists ||
	    git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(b);
		git_error_set(GIT_ERROR_ODB, "cannot limit this object backend");
		return -1;
	}
	b->inner = inner;
	b->parent.read = limit_read;
	b->parent.read_header = limit_read_header;
	b->parent.exists = limit_exists;
	b->parent.refresh = limit_refresh;
	b->parent.free = limit_free;
	*out = &b->parent;
	return 0;
}

/*
 * A pack as it arrives, followed entry by entry, only as far as needed
 * to check each object's size: its entry header (the size of the object,
 * or of the delta), and for a delta the size it declares for its result,
 * in the first bytes of its data. The data is inflated into a small
 * buffer and thrown away: git's packs say where an entry ends only by
 * the end of its zlib stream.
 */
enum pack_state { PACK_HEADER, PACK_ENTRY, PACK_BASE, PACK_DATA, PACK_TRAILER };

#define PACK_OBJ_OFS_DELTA 6
#define PACK_OBJ_REF_DELTA 7

struct pack_check {
	enum pack_state state;
	unsigned char head[20];	/* the pack's header, or a delta's two sizes */
	size_t headlen;
	uint32_t entries;	/* entries not yet read */
	int type, shift;
	size_t size;		/* of the entry's data, as its header says */
	size_t inflated;
	size_t base_left;	/* bytes of a REF_DELTA's base still to skip */
	int delta_checked;
	z_stream z;
	int zinit;
};

static int pack_corrupt(void)
{
	git_error_set(GIT_ERROR_ODB, "corrupt pack from the sandbox");
	return -1;
}

/* A delta's result size, once the first bytes of its data are in. 1 when known. */
static int delta_result_size(const unsigned char *p, size_t len, size_t *out)
{
	size_t i = 0, n;

	for (int which = 0; which < 2; which++) {
		int shift = 0;

		n = 0;
		do {
			if (i >= len)
				return 0;
			if (shift > 56)
				return -1;
			n |= (size_t)(p[i] & 0x7f) << shift;
			shift += 7;
		} while (p[i++] & 0x80);
	}
	*out = n;
	return 1;
}

static int pack_entry_done(struct pack_check *c)
{
	inflateEnd(&c->z);
	c->zinit = 0;
	c->state = --c->entries ? PACK_ENTRY : PACK_TRAILER;
	c->headlen = 0;
	return 0;
}

/* Inflate what there is of the entry's data; *used is what it took. */
static int pack_data(struct pack_check *c, const unsigned char *p, size_t len, size_t *used)
{
	unsigned char out[16384];
	int zret;

	c->z.next_in = (unsigned char *)p;
	c->z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	do {
		size_t got;

		c->z.next_out = out;
		c->z.avail_out = sizeof(out);
		zret = inflate(&c->z, Z_NO_FLUSH);
		if (zret != Z_OK && zret != Z_STREAM_END && zret != Z_BUF_ERROR)
			return pack_corrupt();
		got = sizeof(out) - c->z.avail_out;
		c->inflated += got;
		if (c->inflated > c->size)
			return pack_corrupt();
		if (c->type >= PACK_OBJ_OFS_DELTA && !c->delta_checked) {
			size_t result, take = sizeof(c->head) - c->headlen;
			int known;

			memcpy(c->head + c->headlen, out, got < take ? got : take);
			c->headlen += got < take ? got : take;
			known = delta_result_size(c->head, c->headlen, &result);
			if (known < 0 || (!known && c->headlen == sizeof(c->head)))
				return pack_corrupt();
			if (known && result > safe_object_max)
				return too_large(NULL);
			c->delta_checked = known;
		}
	} while (zret != Z_STREAM_END && c->z.avail_in && zret != Z_BUF_ERROR);
	*used = (size_t)(c->z.next_in - p);
	if (zret != Z_STREAM_END)
		return 0;
	if (c->type >= PACK_OBJ_OFS_DELTA && !c->delta_checked)
		return pack_corrupt();
	return pack_entry_done(c);
}

/* One byte of an entry's header. */
static int pack_entry_byte(struct pack_check *c, unsigned char b)
{
	if (!c->headlen++) {
		c->type = (b >> 4) & 7;
		c->size = b & 15;
		c->shift = 4;
	} else {
		/* No bit may fall off the top: the size only grows as it is read. */
		if (c->shift > 57)
			return pack_corrupt();
		c->size |= (size_t)(b & 0x7f) << c->shift;
		c->shift += 7;
	}
	if (c->size > safe_object_max)
		return too_large(NULL);
	if (b & 0x80)
		return 0;
	if (c->type == 0 || c->type == 5)
		return pack_corrupt();
	c->state = c->type >= PACK_OBJ_OFS_DELTA ? PACK_BASE : PACK_DATA;
	c->base_left = c->type == PACK_OBJ_REF_DELTA ? GIT_OID_RAWSZ : 0;
	c->headlen = 0;
	c->inflated = 0;
	c->delta_checked = 0;
	memset(&c->z, 0, sizeof(c->z));
	if (inflateInit(&c->z) != Z_OK)
		return pack_corrupt();
	c->zinit = 1;
	return 0;
}

/* One byte of a delta's base: a REF_DELTA's object name, an OFS_DELTA's offset. */
static void pack_base_byte(struct pack_check *c, unsigned char b)
{
	if (c->type == PACK_OBJ_REF_DELTA ? !--c->base_left : !(b & 0x80))
		c->state = PACK_DATA;
}

static int pack_check_feed(struct pack_check *c, const unsigned char *p, size_t len)
{
	while (len) {
		size_t used = 1;
		int ret = 0;

		switch (c->state) {
		case PACK_HEADER:
			c->head[c->headlen++] = *p;
			if (c->headlen < 12)
				break;
			if (memcmp(c->head, "PACK", 4))
				return pack_corrupt();
			c->entries = (uint32_t)c->head[8] << 24 | (uint32_t)c->head[9] << 16 |
				     (uint32_t)c->head[10] << 8 | c->head[11];
			c->state = c->entries ? PACK_ENTRY : PACK_TRAILER;
			c->headlen = 0;
			break;
		case PACK_ENTRY:
			ret = pack_entry_byte(c, *p);
			break;
		case PACK_BASE:
			pack_base_byte(c, *p);
			break;
		case PACK_DATA:
			ret = pack_data(c, p, len, &used);
			break;
		case PACK_TRAILER:
			return 0;
		}
		if (ret < 0)
			return ret;
		if (!used && c->state == PACK_DATA)
			return pack_corrupt(); /* zlib can go no further */
		p += used;
		len -= used;
	}
	return 0;
}

struct checked_writepack {
	git_odb_writepack parent;
	git_odb_writepack *inner;
	struct pack_check check;
};

static int checked_append(git_odb_writepack *wp, const void *data, size_t size,
			  git_indexer_progress *stats)
{
	struct checked_writepack *w = (struct checked_writepack *)wp;

	if (pack_check_feed(&w->check, data, size) < 0)
		return -1;
	return w->inner->append(w->inner, data, size, stats);
}

static int checked_commit(git_odb_writepack *wp, git_indexer_progress *stats)
{
	struct checked_writepack *w = (struct checked_writepack *)wp;

	if (w->check.state != PACK_TRAILER)
		return pack_corrupt();
	return w->inner->commit(w->inner, stats);
}

static void checked_writepack_free(git_odb_writepack *wp)
{
	struct checked_writepack *w = (struct checked_writepack *)wp;

	if (w->check.zinit)
		inflateEnd(&w->check.z);
	w->inner->free(w->inner);
	free(w);
}

struct safe_pack_writer {
	git_odb_backend parent;
	git_odb_backend *inner;
};

static int writer_writepack(git_odb_writepack **out, git_odb_backend *be, git_odb *odb,
			    git_indexer_progress_cb progress_cb, void *payload)
{
	git_odb_backend *in = ((struct safe_pack_writer *)be)->inner;
	struct checked_writepack *w = xcalloc(1, sizeof(*w));

	if (in->writepack(&w->inner, in, odb, progress_cb, payload) < 0) {
		free(w);
		return -1;
	}
	w->parent.backend = be;
	w->parent.append = checked_append;
	w->parent.commit = checked_commit;
	w->parent.free = checked_writepack_free;
	*out = &w->parent;
	return 0;
}

static void writer_free(git_odb_backend *be)
{
	struct safe_pack_writer *b = (struct safe_pack_writer *)be;

	b->inner->free(b->inner);
	free(b);
}

int safe_pack_writer_new(git_odb_backend **out, git_odb_backend *inner)
{
	struct safe_pack_writer *b = xcalloc(1, sizeof(*b));

	if (!inner->writepack || git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(b);
		git_error_set(GIT_ERROR_ODB, "cannot check the packs of this object backend");
		return -1;
	}
	b->inner = inner;
	b->parent.writepack = writer_writepack;
	b->parent.free = writer_free;
	*out = &b->parent;
	return 0;
}

/*
 * odb-safe: the packs a sandbox on an SSH host sends are checked object by
 * object as they arrive: no entry, and no delta's result, larger than
 * sand.maxObjectSize, whatever the sizes of the pieces they come in. And
 * the loose reader streams a file larger than one read.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <zlib.h>

#include "odb-safe.h"
#include "strbuf.h"
#include "unit.h"

/* A writer of packs that takes everything: what safe_pack_writer wraps. */
struct fake_wp {
	git_odb_writepack parent;
	size_t got;
};

static int fake_append(git_odb_writepack *wp, const void *data, size_t len,
		       git_indexer_progress *stats)
{
	(void)data;
	(void)stats;
	((struct fake_wp *)wp)->got += len;
	return 0;
}

static int fake_commit(git_odb_writepack *wp, git_indexer_progress *stats)
{
	(void)wp;
	(void)stats;
	return 0;
}

static void fake_wp_free(git_odb_writepack *wp)
{
	free(wp);
}

static int fake_writepack(git_odb_writepack **out, git_odb_backend *be, git_odb *odb,
			  git_indexer_progress_cb cb, void *payload)
{
	struct fake_wp *wp = calloc(1, sizeof(*wp));

	(void)odb;
	(void)cb;
	(void)payload;
	wp->parent.backend = be;
	wp->parent.append = fake_append;
	wp->parent.commit = fake_commit;
	wp->parent.free = fake_wp_free;
	*out = &wp->parent;
	return 0;
}

static void fake_free(git_odb_backend *be)
{
	free(be);
}

static void pack_start(struct strbuf *p, unsigned char entries)
{
	strbuf_add(p, "PACK\0\0\0\2\0\0\0", 11);
	strbuf_addch(p, entries);
}

static void entry_header(struct strbuf *p, int type, size_t size)
{
	unsigned char c = (unsigned char)(type << 4 | (size & 15));

	for (size >>= 4; size; size >>= 7) {
		strbuf_addch(p, c | 0x80);
		c = size & 0x7f;
	}
	strbuf_addch(p, c);
}

static void add_varint(struct strbuf *p, size_t n)
{
	for (; n >= 0x80; n >>= 7)
		strbuf_addch(p, (int)(n & 0x7f) | 0x80);
	strbuf_addch(p, (int)n);
}

static void add_deflated(struct strbuf *p, const void *data, size_t len)
{
	uLongf n = compressBound(len);

	strbuf_grow(p, n);
	compress((Bytef *)p->buf + p->len, &n, data, len);
	strbuf_setlen(p, p->len + n);
}

/* A delta of a base of base_size bytes, to a result of result_size. */
static void add_delta(struct strbuf *p, int type, size_t base_size, size_t result_size)
{
	struct strbuf d = STRBUF_INIT;

	add_varint(&d, base_size);
	add_varint(&d, result_size);
	strbuf_addch(&d, 0x91);	/* copy from offset 0, one length byte */
	strbuf_addch(&d, 0);
	strbuf_addch(&d, 100);
	entry_header(p, type, d.len);
	if (type == 7)
		strbuf_add(p, "01234567890123456789", 20);	/* the base's name */
	else
		strbuf_addch(p, 0x7f);	/* an offset back */
	add_deflated(p, d.buf, d.len);
	strbuf_release(&d);
}

static void add_blob(struct strbuf *p, size_t size)
{
	char *data = calloc(1, size);

	entry_header(p, 3, size);
	add_deflated(p, data, size);
	free(data);
}

/* Feed pack to a checked writer, in pieces of step bytes (0: whole), then commit. */
static int feed(git_odb_backend *w, const struct strbuf *pack, size_t step)
{
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats = { 0 };
	int ret = 0;

	if (w->writepack(&wp, w, NULL, NULL, NULL) < 0)
		return -2;
	for (size_t off = 0; off < pack->len && !ret; off += step ? step : pack->len) {
		size_t n = step && pack->len - off > step ? step : pack->len - off;

		ret = wp->append(wp, pack->buf + off, n, &stats);
	}
	if (!ret)
		ret = wp->commit(wp, &stats);
	wp->free(wp);
	return ret;
}

static int names_setting(void)
{
	const git_error *e = git_error_last();

	return e && strstr(e->message, "larger than 100000 bytes (sand.maxObjectSize)") &&
	       strstr(e->message, "git config sand.maxObjectSize");
}

static void test_packs(void)
{
	git_odb_backend *fake = calloc(1, sizeof(*fake)), *w = NULL;
	struct strbuf p = STRBUF_INIT;
	static const size_t steps[] = { 0, 1, 7, 4096 };

	git_odb_init_backend(fake, GIT_ODB_BACKEND_VERSION);
	fake->writepack = fake_writepack;
	fake->free = fake_free;
	check_int(safe_pack_writer_new(&w, fake), ==, 0, "a checked writer of packs");
	safe_object_max = 100000;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t s = steps[i];

		strbuf_reset(&p);
		pack_start(&p, 4);
		add_blob(&p, 1000);
		add_blob(&p, 100000);
		add_delta(&p, 7, 1000, 99999);
		add_delta(&p, 6, 1000, 2000);
		strbuf_add(&p, "01234567890123456789", 20);
		check_int(feed(w, &p, s), ==, 0, "objects within the limit pass (pieces of %zu)", s);

		strbuf_reset(&p);
		pack_start(&p, 2);
		add_blob(&p, 1000);
		entry_header(&p, 3, 100001);
		git_error_clear();
		check_int(feed(w, &p, s), ==, -1,
			  "an entry over the limit is refused from its header (pieces of %zu)", s);
		TEST(names_setting(), "naming the limit and the setting");

		strbuf_reset(&p);
		pack_start(&p, 1);
		add_delta(&p, 7, 1000, 300000);
		strbuf_add(&p, "01234567890123456789", 20);
		git_error_clear();
		check_int(feed(w, &p, s), ==, -1,
			  "a small ref-delta to 300000 bytes is refused (pieces of %zu)", s);
		TEST(names_setting(), "naming the limit and the setting");

		strbuf_reset(&p);
		pack_start(&p, 2);
		add_blob(&p, 1000);
		add_delta(&p, 6, 1000, (size_t)1 << 40);
		strbuf_add(&p, "01234567890123456789", 20);
		git_error_clear();
		check_int(feed(w, &p, s), ==, -1,
			  "a small ofs-delta to 1 TiB is refused (pieces of %zu)", s);
		TEST(names_setting(), "naming the limit and the setting");
	}

	strbuf_reset(&p);
	pack_start(&p, 2);
	add_blob(&p, 1000);
	check_int(feed(w, &p, 0), ==, -1, "a pack cut short is refused");
	strbuf_reset(&p);
	strbuf_add(&p, "PACX\0\0\0\2\0\0\0\0", 12);
	check_int(feed(w, &p, 0), ==, -1, "and one that is no pack");
	strbuf_reset(&p);
	pack_start(&p, 1);
	strbuf_add(&p, "\x8f\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	check_int(feed(w, &p, 0), ==, -1, "and a size of more than 64 bits");

	safe_object_max = SAFE_OBJECT_MAX_DEFAULT;
	strbuf_release(&p);
	w->free(w);
}

/* A loose object of 300000 bytes, read from its file in several reads. */
static void test_loose_stream(void)
{
	struct strbuf raw = STRBUF_INIT, path = STRBUF_INIT;
	size_t size = 300000;
	unsigned char *data = malloc(size);
	git_odb_backend *be = NULL;
	git_oid oid;
	void *out = NULL;
	size_t len = 0;
	git_object_t type;
	int fd, dfd;

	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	git_odb_hash(&oid, data, size, GIT_OBJECT_BLOB);
	strbuf_addf(&raw, "blob %zu", size);
	strbuf_addch(&raw, '\0');
	strbuf_add(&raw, data, size);
	{
		uLongf n = compressBound(raw.len);
		unsigned char *z = malloc(n);
		char hex[GIT_OID_HEXSZ + 1];

		compress2(z, &n, (Bytef *)raw.buf, raw.len, 0);	/* stored: larger than a read */
		git_oid_tostr(hex, sizeof(hex), &oid);
		strbuf_addf(&path, "%s/%.2s", unit_tmpdir(), hex);
		mkdir(path.buf, 0700);
		strbuf_addf(&path, "/%s", hex + 2);
		fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		check_int(write(fd, z, n), ==, (long long)n, "a loose object of %lu bytes", n);
		close(fd);
		free(z);
	}
	dfd = open(unit_tmpdir(), O_RDONLY | O_DIRECTORY);
	check_int(safe_loose_backend_new(&be, dfd), ==, 0, "a backend on it");
	close(dfd);
	check_int(be->read(&out, &len, &type, be, &oid), ==, 0, "is read");
	check_int(len, ==, size, "whole");
	TEST(out && !memcmp(out, data, size), "as it was written");
	git_odb_backend_data_free(be, out);
	check_int(be->read_header(&len, &type, be, &oid), ==, 0, "its header alone");
	check_int(len, ==, size, "with its size");

	safe_object_max = 100000;
	git_error_clear();
	check_int(be->read(&out, &len, &type, be, &oid), ==, -1, "over a lower limit: refused");
	TEST(names_setting(), "naming the setting");
	safe_object_max = SAFE_OBJECT_MAX_DEFAULT;

	be->free(be);
	unlink(path.buf);
	*strrchr(path.buf, '/') = '\0';
	rmdir(path.buf);
	strbuf_release(&path);
	strbuf_release(&raw);
	free(data);
}

int main(void)
{
	git_libgit2_init();
	test_packs();
	test_loose_stream();
	git_libgit2_shutdown();
	return unit_done();
}

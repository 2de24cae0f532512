#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "msg.h"
#include "tar.h"

#define BLOCK 512
#define PIECE (256 * 1024)

static struct tar_entry *new_entry(struct tar_stream *t, const char *name)
{
	struct tar_entry *e;

	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	e = &t->v[t->nr++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	return e;
}

void tar_add_data(struct tar_stream *t, const char *name, const char *data, size_t len,
		  mode_t mode)
{
	struct tar_entry *e = new_entry(t, name);

	e->data = xmalloc(len + 1);
	memcpy(e->data, data, len);
	e->data_len = len;
	e->size = (off_t)len;
	e->mode = S_IFREG | (mode & 07777);
	e->mtime = time(NULL);
}

void tar_add_whiteout(struct tar_stream *t, const char *name)
{
	struct tar_entry *e = new_entry(t, name);

	e->mode = S_IFCHR;
	e->mtime = time(NULL);
}

static int add_dir(struct tar_stream *t, struct strbuf *src, struct strbuf *name, size_t rel_at,
		   int (*skip)(void *, const char *, const struct stat *), void *data)
{
	DIR *d = opendir(src->buf);
	struct dirent *de;
	size_t slen = src->len, nlen = name->len;
	int ret = 0;

	if (!d)
		return error_errno("cannot open '%s'", src->buf);
	while (!ret && (errno = 0, de = readdir(d))) {
		struct stat st;
		struct tar_entry *e;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_setlen(src, slen);
		strbuf_setlen(name, nlen);
		strbuf_addf(src, "/%s", de->d_name);
		strbuf_addf(name, "%s%s", nlen ? "/" : "", de->d_name);
		if (lstat(src->buf, &st) < 0) {
			ret = error_errno("cannot read '%s'", src->buf);
			break;
		}
		if (skip && skip(data, src->buf + rel_at, &st))
			continue;
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
			warning("skipping '%s': not a file, directory or symbolic link", src->buf);
			continue;
		}
		e = new_entry(t, name->buf);
		e->mode = st.st_mode;
		e->mtime = st.st_mtime;
		if (S_ISREG(st.st_mode)) {
			e->src = xstrdup(src->buf);
			e->size = st.st_size;
		} else if (S_ISLNK(st.st_mode)) {
			struct strbuf target = STRBUF_INIT;
			ssize_t n;

			strbuf_grow(&target, (size_t)st.st_size + 1);
			n = readlink(src->buf, target.buf, target.alloc - 1);
			if (n < 0 || (size_t)n >= target.alloc - 1) {
				strbuf_release(&target);
				ret = error_errno("cannot read the link '%s'", src->buf);
				break;
			}
			strbuf_setlen(&target, (size_t)n);
			e->src = strbuf_detach(&target, NULL);
		} else {
			size_t at = t->nr;

			ret = add_dir(t, src, name, rel_at, skip, data);
			if (!ret && t->nr == at && t->drop_empty_dir &&
			    t->drop_empty_dir(data, src->buf + rel_at)) {
				free(t->v[--t->nr].name);
			}
		}
	}
	if (!ret && errno)
		ret = error_errno("cannot read '%s'", src->buf);
	strbuf_setlen(src, slen);
	strbuf_setlen(name, nlen);
	closedir(d);
	return ret;
}

int tar_add_tree(struct tar_stream *t, const char *src, const char *prefix,
		 int (*skip)(void *data, const char *rel, const struct stat *st), void *data)
{
	struct strbuf s = STRBUF_INIT, name = STRBUF_INIT;
	int ret;

	strbuf_addstr(&s, src);
	strbuf_addstr(&name, prefix);
	ret = add_dir(t, &s, &name, s.len + 1, skip, data);
	strbuf_release(&s);
	strbuf_release(&name);
	return ret;
}

/* A pax record "<len> key=value\n", whose length counts its own digits. */
static void pax_record(struct strbuf *out, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;

	while (snprintf(NULL, 0, "%zu", len) + body > len)
		len++;
	strbuf_addf(out, "%zu %s=%s\n", len, key, value);
}

/* A number in a header field: width - 1 octal digits and a NUL (clamped). */
static void octal(char *field, size_t width, unsigned long long v)
{
	unsigned long long max = (1ULL << (3 * (width - 1))) - 1;
	char buf[32];

	snprintf(buf, sizeof(buf), "%0*llo", (int)width - 1, v < max ? v : max);
	memcpy(field, buf, width);
}

static void header(struct strbuf *out, const char *name, const char *link, char type,
		   mode_t mode, unsigned long long size, time_t mtime)
{
	unsigned char h[BLOCK] = { 0 };
	unsigned sum = 0;

	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	/*
	 * No setuid or setgid bit: tar -x there makes the files the user's
	 * there (root, often), not the owner's here.
	 */
	octal((char *)h + 100, 8, mode & (S_ISVTX | 0777));
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, mtime > 0 ? (unsigned long long)mtime : 0);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	/* Device numbers: 0/0, what a whiteout is (the only device written). */
	octal((char *)h + 329, 8, 0);
	octal((char *)h + 337, 8, 0);
	for (size_t i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	strbuf_add(out, h, BLOCK);
}

static void pad(struct strbuf *out, unsigned long long size)
{
	size_t n = (size_t)((BLOCK - size % BLOCK) % BLOCK);

	strbuf_grow(out, n);
	memset(out->buf + out->len, 0, n);
	strbuf_setlen(out, out->len + n);
}

static void entry_header(struct strbuf *out, const struct tar_entry *e)
{
	const char *link = S_ISLNK(e->mode) ? e->src : NULL;
	unsigned long long size = S_ISREG(e->mode) ? (unsigned long long)e->size : 0;
	char type = S_ISDIR(e->mode) ? '5' : S_ISLNK(e->mode) ? '2' : S_ISCHR(e->mode) ? '3' : '0';
	struct strbuf pax = STRBUF_INIT;

	if (strlen(e->name) >= 100)
		pax_record(&pax, "path", e->name);
	if (link && strlen(link) >= 100)
		pax_record(&pax, "linkpath", link);
	if (size >= 077777777777ULL) {
		char num[32];

		snprintf(num, sizeof(num), "%llu", size);
		pax_record(&pax, "size", num);
	}
	if (pax.len) {
		header(out, "././@PaxHeader", NULL, 'x', 0644, pax.len, e->mtime);
		strbuf_addbuf(out, &pax);
		pad(out, pax.len);
	}
	header(out, e->name, link, type, e->mode, size >= 077777777777ULL ? 0 : size, e->mtime);
	strbuf_release(&pax);
}

int tar_stream_feed(void *data, struct strbuf *out)
{
	struct tar_stream *t = data;
	struct stat st;

	while (out->len < PIECE) {
		struct tar_entry *e;

		if (t->finished)
			return 0;
		if (t->cur == t->nr) {
			/* The end: two zero blocks. */
			pad(out, 0);
			strbuf_grow(out, 2 * BLOCK);
			memset(out->buf + out->len, 0, 2 * BLOCK);
			strbuf_setlen(out, out->len + 2 * BLOCK);
			t->finished = 1;
			return 1;
		}
		e = &t->v[t->cur];
		if (!t->header_done) {
			entry_header(out, e);
			t->header_done = 1;
			t->left = S_ISREG(e->mode) ? e->size : 0;
			if (t->left && e->src) {
				t->fd = open(e->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
					     O_NONBLOCK);
				if (t->fd < 0) {
					error_errno("cannot open '%s'", e->src);
					return -1;
				}
				/* The header promised this size: a file that grew is not cut. */
				if (fstat(t->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
				    st.st_size != e->size) {
					error("'%s' changed while it was being sent", e->src);
					return -1;
				}
			}
			t->files++;
			continue;
		}
		if (t->left > 0) {
			size_t want = (size_t)(t->left < PIECE ? t->left : PIECE);
			ssize_t n;

			strbuf_grow(out, want);
			if (e->data) {
				n = (ssize_t)want;
				memcpy(out->buf + out->len, e->data + (e->size - t->left), want);
			} else {
				n = read(t->fd, out->buf + out->len, want);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					error_errno("cannot read '%s'", e->src);
					return -1;
				}
				if (n == 0) {
					/* It shrank while we read it: the size is promised. */
					error("'%s' changed while it was being sent", e->src);
					return -1;
				}
			}
			strbuf_setlen(out, out->len + (size_t)n);
			t->left -= n;
			t->bytes += (size_t)n;
			continue;
		}
		if (t->fd >= 0) {
			close(t->fd);
			t->fd = -1;
		}
		if (S_ISREG(e->mode))
			pad(out, (unsigned long long)e->size);
		t->header_done = 0;
		t->cur++;
	}
	return 1;
}

void tar_append(struct tar_stream *t, struct tar_stream *from)
{
	for (size_t i = 0; i < from->nr; i++) {
		ALLOC_GROW(t->v, t->nr + 1, t->alloc);
		t->v[t->nr++] = from->v[i];
	}
	free(from->v);
	from->v = NULL;
	from->nr = from->alloc = 0;
}

void tar_stream_clear(struct tar_stream *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		free(t->v[i].name);
		free(t->v[i].src);
		free(t->v[i].data);
	}
	free(t->v);
	if (t->fd >= 0)
		close(t->fd);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

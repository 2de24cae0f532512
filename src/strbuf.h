#ifndef STRBUF_H
#define STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "compat.h"

/*
 * A growable, always NUL-terminated byte buffer, after git's strbuf.
 * buf is never NULL: an empty strbuf points at a shared empty string until
 * something is added, so it can be printed or compared without checks.
 * Allocation failure aborts the process (there is nothing sane to return).
 */
struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
__attribute__((format(printf, 2, 3)))
void strbuf_addf(struct strbuf *sb, const char *fmt, ...);
__attribute__((format(printf, 2, 0)))
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

void strbuf_rtrim(struct strbuf *sb);
void strbuf_trim(struct strbuf *sb);
int strbuf_starts_with(const struct strbuf *sb, const char *prefix);

/* Read all of fd; returns bytes read or -1 (errno set). */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd);
/* Read a whole file; returns 0 or -1 (errno set). */
int strbuf_read_file(struct strbuf *sb, const char *path);

/* Allocation helpers that never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup, passing NULL through. */
char *xstrdup_or_null(const char *s);
__attribute__((format(printf, 1, 2)))
char *xstrfmt(const char *fmt, ...);

/* Grow an array of nr+1 elements, doubling, as git's ALLOC_GROW. */
#define ALLOC_GROW(x, nr, alloc) \
	do { \
		if ((nr) > (alloc)) { \
			(alloc) = (alloc) ? (alloc) * 2 : 8; \
			if ((alloc) < (nr)) \
				(alloc) = (nr); \
			(x) = xrealloc((x), (alloc) * sizeof(*(x))); \
		} \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int starts_with(const char *s, const char *prefix);
/* If s starts with prefix, set *out past it and return 1. */
int skip_prefix(const char *s, const char *prefix, const char **out);

#endif

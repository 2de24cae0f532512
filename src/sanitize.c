#include <string.h>

#include "sanitize.h"

/* The longest colour sequence we let through, ESC included. */
#define SGR_MAX 64

static int is_unsafe_codepoint(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The length of the UTF-8 sequence at p (at most avail bytes) and its code
 * point: > 0 when valid, 0 when p may start one that is cut short, -1
 * when it is not UTF-8.
 */
static int utf8_seq(const unsigned char *p, size_t avail, unsigned *cp)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	int need;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return -1;
	}
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= avail)
			return 0;
		if (p[i] < lo || p[i] > hi)
			return -1;
		*cp = (*cp << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

/*
 * The length of a colour sequence at p: > 0 when it is one, 0 when it may
 * be one cut short, -1 when it is not.
 */
static int sgr_seq(const char *p, size_t avail)
{
	size_t i;

	if (avail < 2)
		return 0;
	if (p[1] != '[')
		return -1;
	for (i = 2; i < avail && i < SGR_MAX; i++) {
		if (p[i] == 'm')
			return (int)i + 1;
		if (!((p[i] >= '0' && p[i] <= '9') || p[i] == ';' || p[i] == ':'))
			return -1;
	}
	return i < SGR_MAX ? 0 : -1;
}

/* Filter buf; returns how much of it was used (the rest is cut short). */
static size_t filter(unsigned flags, const char *buf, size_t len, int final, struct strbuf *out)
{
	size_t i = 0, plain = 0;

	while (i < len) {
		unsigned char c = (unsigned char)buf[i];
		unsigned cp;
		int n;

		if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t') {
			i++;
			continue;
		}
		strbuf_add(out, buf + plain, i - plain);
		if (c == 0x1b && (flags & SANITIZE_KEEP_SGR)) {
			n = sgr_seq(buf + i, len - i);
			if (!n && !final)
				return i;
			if (n > 0) {
				strbuf_add(out, buf + i, (size_t)n);
				i += (size_t)n;
				plain = i;
				continue;
			}
		}
		if (c < 0x20) {
			strbuf_addch(out, '^');
			strbuf_addch(out, c + 0x40);
			n = 1;
		} else if (c == 0x7f) {
			strbuf_addstr(out, "^?");
			n = 1;
		} else {
			n = utf8_seq((const unsigned char *)buf + i, len - i, &cp);
			if (!n && !final)
				return i;
			if (n > 0 && is_unsafe_codepoint(cp)) {
				strbuf_addf(out, "<U+%04X>", cp);
			} else if (n > 0) {
				strbuf_add(out, buf + i, (size_t)n);
			} else if (c <= 0x9f) {
				strbuf_addf(out, "\\x%02x", c);
				n = 1;
			} else {
				strbuf_addch(out, c);
				n = 1;
			}
		}
		i += (size_t)n;
		plain = i;
	}
	strbuf_add(out, buf + plain, i - plain);
	return i;
}

void sanitize_feed(struct strbuf *out, struct sanitizer *s, const char *buf, size_t len)
{
	size_t used;

	if (s->held.len) {
		strbuf_add(&s->held, buf, len);
		buf = s->held.buf;
		len = s->held.len;
	}
	used = filter(s->flags, buf, len, 0, out);
	if (used == len) {
		strbuf_reset(&s->held);
	} else if (buf == s->held.buf) {
		memmove(s->held.buf, s->held.buf + used, len - used);
		strbuf_setlen(&s->held, len - used);
	} else {
		strbuf_add(&s->held, buf + used, len - used);
	}
}

void sanitize_finish(struct strbuf *out, struct sanitizer *s)
{
	filter(s->flags, s->held.buf, s->held.len, 1, out);
	strbuf_release(&s->held);
}

void sanitize_str(struct strbuf *out, const char *str, unsigned flags)
{
	filter(flags, str, strlen(str), 1, out);
}

const char *sanitized(const char *str)
{
	static struct strbuf buf = STRBUF_INIT;

	strbuf_reset(&buf);
	sanitize_str(&buf, str, 0);
	return buf.buf;
}

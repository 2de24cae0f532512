#ifndef SANITIZE_H
#define SANITIZE_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Text a sandbox chose (branch names, commit messages, the output of its
 * git) made safe to show on a terminal: every control character that can
 * move the cursor, set a title, query the terminal or reorder what is
 * shown becomes visible text instead.
 *
 *   C0 controls other than newline and tab, and DEL   "^[", "^M", "^?"
 *   C1 controls encoded in UTF-8 (U+0080-U+009F)      "<U+009B>"
 *   bidi overrides and isolates (U+202A-U+202E,
 *   U+2066-U+2069)                                    "<U+202E>"
 *   bytes 0x80-0x9f that are not part of UTF-8        "\x9b"
 *
 * Everything else passes unchanged, including other bytes that are not
 * UTF-8 (text in Latin-1 stays readable on such a terminal). With
 * SANITIZE_KEEP_SGR, colour sequences (ESC '[' digits/';'/':' 'm', which
 * set colours and attributes only) pass too: for output where we asked
 * for colour. Nothing else of an escape sequence passes, ever.
 *
 * The filter works on a stream: a sequence or a character cut between
 * two chunks is held back (a few bytes at most) until the next one.
 */
#define SANITIZE_KEEP_SGR 1

struct sanitizer {
	unsigned flags;
	struct strbuf held;
};
#define SANITIZER_INIT(flags) { (flags), STRBUF_INIT }

void sanitize_feed(struct strbuf *out, struct sanitizer *s, const char *buf, size_t len);
/* The end of the stream: what was held back is shown as it is. */
void sanitize_finish(struct strbuf *out, struct sanitizer *s);

/* One string, whole: for names in messages. */
void sanitize_str(struct strbuf *out, const char *s, unsigned flags);
/* The same into a buffer of its own (static, reused by the next call). */
const char *sanitized(const char *s);

#endif

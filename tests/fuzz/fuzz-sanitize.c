/*
 * Fuzz the terminal sanitizer: whatever comes in, nothing that can move
 * the cursor or start a sequence goes out (colour aside, when kept), and
 * cutting the stream changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_safe(const struct strbuf *out, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)out->buf;

	for (size_t i = 0; i < out->len; i++) {
		if (p[i] == 0x1b) {
			size_t j = i + 2;

			/* only a whole colour sequence, and only when kept */
			if (!(flags & SANITIZE_KEEP_SGR) || i + 1 >= out->len || p[i + 1] != '[')
				__builtin_trap();
			while (j < out->len && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' ||
						p[j] == ':'))
				j++;
			if (j >= out->len || p[j] != 'm')
				__builtin_trap();
			i = j;
		} else if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f) {
			__builtin_trap();
		} else if (p[i] == 0xc2 && i + 1 < out->len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			__builtin_trap();	/* C1 as UTF-8 */
		} else if (p[i] == 0xe2 && i + 2 < out->len &&
			   ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa && p[i + 2] <= 0xae) ||
			    (p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9))) {
			__builtin_trap();	/* bidi */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size && (data[0] & 1) ? SANITIZE_KEEP_SGR : 0;
	size_t cut = size ? data[size - 1] % (size + 1) : 0;
	struct sanitizer s = SANITIZER_INIT(flags);
	struct strbuf whole = STRBUF_INIT, parts = STRBUF_INIT;
	char *str = strndup((const char *)data, size);

	sanitize_str(&whole, str, flags);
	check_safe(&whole, flags);
	/* the stream, cut in two, as far as the first NUL */
	size = strlen(str);
	if (cut > size)
		cut = size;
	sanitize_feed(&parts, &s, str, cut);
	sanitize_feed(&parts, &s, str + cut, size - cut);
	sanitize_finish(&parts, &s);
	if (strcmp(whole.buf, parts.buf))
		__builtin_trap();
	free(str);
	strbuf_release(&whole);
	strbuf_release(&parts);
	return 0;
}

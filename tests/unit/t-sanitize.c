/*
 * sanitize: what a sandbox's text becomes on the way to a terminal, and
 * that cutting a stream anywhere changes nothing.
 */
#include <string.h>

#include "sanitize.h"
#include "unit.h"

static void check_one(const char *in, unsigned flags, const char *want, const char *what)
{
	struct strbuf out = STRBUF_INIT;

	sanitize_str(&out, in, flags);
	check_str(out.buf, want, "%s", what);
	strbuf_release(&out);
}

/* Every way of cutting in into two chunks gives what one chunk gives. */
static void check_cuts(const char *in, unsigned flags, const char *what)
{
	struct strbuf whole = STRBUF_INIT;
	size_t len = strlen(in);
	int same = 1;

	sanitize_str(&whole, in, flags);
	for (size_t cut = 0; cut <= len; cut++) {
		struct sanitizer s = SANITIZER_INIT(flags);
		struct strbuf out = STRBUF_INIT;

		sanitize_feed(&out, &s, in, cut);
		/* and byte by byte after the cut */
		for (size_t i = cut; i < len; i++)
			sanitize_feed(&out, &s, in + i, 1);
		sanitize_finish(&out, &s);
		if (strcmp(out.buf, whole.buf))
			same = 0;
		strbuf_release(&out);
	}
	TEST(same, "%s: the same wherever the stream is cut", what);
	strbuf_release(&whole);
}

int main(void)
{
	check_one("plain text\n\twith tab", 0, "plain text\n\twith tab", "text, newline and tab pass");
	check_one("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", 0,
		  "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", "UTF-8 text passes");
	check_one("a\x1b]0;title\x07z", 0, "a^[]0;title^Gz", "OSC title sequence escaped");
	check_one("\x1b[2J\x1b[H", 0, "^[[2J^[[H", "clear screen escaped");
	check_one("\x1b[31mred\x1b[m", 0, "^[[31mred^[[m", "colour escaped unless asked for");
	check_one("\x1b[31mred\x1b[m", SANITIZE_KEEP_SGR, "\x1b[31mred\x1b[m", "colour kept when asked for");
	check_one("\x1b[38:2:1:2:3m", SANITIZE_KEEP_SGR, "\x1b[38:2:1:2:3m", "24-bit colour kept");
	check_one("\x1b[2J\x1b[1;1H", SANITIZE_KEEP_SGR, "^[[2J^[[1;1H",
		  "cursor movement escaped even with colour");
	check_one("\x1b[?1049h", SANITIZE_KEEP_SGR, "^[[?1049h", "private mode escaped with colour");
	check_one("\x1b", SANITIZE_KEEP_SGR, "^[", "lone ESC at the end escaped");
	check_one("\x1b[31", SANITIZE_KEEP_SGR, "^[[31", "unterminated colour escaped");
	check_one("a\rb\bc\x7f", 0, "a^Mb^Hc^?", "CR, BS and DEL escaped");
	check_one("x\xc2\x9b" "2Jy", 0, "x<U+009B>2Jy", "C1 CSI as UTF-8 escaped");
	check_one("x\xc2\x9d" "0;t\xc2\x9c", 0, "x<U+009D>0;t<U+009C>", "C1 OSC as UTF-8 escaped");
	check_one("x\x9b" "2J\x9dy", 0, "x\\x9b2J\\x9dy", "raw C1 bytes escaped");
	check_one("\xc3\x9b", 0, "\xc3\x9b", "0x9b inside a UTF-8 character passes");
	check_one("a\xe2\x80\xaeZYX", 0, "a<U+202E>ZYX", "right-to-left override escaped");
	check_one("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", 0,
		  "<U+202A><U+202B><U+202C><U+202D>", "every bidi embedding escaped");
	check_one("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 0,
		  "<U+2066><U+2067><U+2068><U+2069>", "every bidi isolate escaped");
	check_one("\xe9t\xe9", 0, "\xe9t\xe9", "Latin-1 bytes pass");
	check_one("\xc0\x9b", 0, "\xc0\\x9b", "overlong lead byte is not UTF-8");
	check_one("\xe2\x80", 0, "\xe2\\x80", "a character cut short at the end");
	check_one("\xed\xa0\x80", 0, "\xed\xa0\\x80", "surrogates are not UTF-8");

	check_cuts("a\x1b[31mred\x1b[0m\xc2\x9b\xe2\x80\xae\xf0\x9f\x98\x80\x9b\x1b]x\x07",
		   SANITIZE_KEEP_SGR, "mixed, colour kept");
	check_cuts("a\x1b[31mred\x1b[0m\xc2\x9b\xe2\x80\xae\xf0\x9f\x98\x80\x9b\x1b]x\x07", 0,
		   "mixed");
	check_cuts("\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23;24m",
		   SANITIZE_KEEP_SGR, "a colour sequence too long to keep");
	check_str(sanitized("b\xe2\x80\xae"), "b<U+202E>", "sanitized() for one name");
	return unit_done();
}

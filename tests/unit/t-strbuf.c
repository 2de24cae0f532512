#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "strbuf.h"
#include "unit.h"

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct argv a = ARGV_INIT;
	char *s;
	size_t len;

	check_str(sb.buf, "", "an empty strbuf is an empty string");
	strbuf_addstr(&sb, "hello");
	strbuf_addch(&sb, ' ');
	strbuf_addf(&sb, "%s %d", "world", 42);
	check_str(sb.buf, "hello world 42", "add, addch and addf append");
	check_int(sb.len, ==, 14, "len follows");

	strbuf_reset(&sb);
	for (int i = 0; i < 10000; i++)
		strbuf_addch(&sb, 'x');
	check_int(sb.len, ==, 10000, "it grows past any initial size");
	TEST(sb.buf[10000] == '\0', "and stays NUL-terminated");

	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s", "a long formatted string that exceeds the initial sixty-four bytes of room");
	check_str(sb.buf, "a long formatted string that exceeds the initial sixty-four bytes of room",
		  "addf retries with room for long output");

	strbuf_reset(&sb);
	strbuf_addstr(&sb, " \t padded \n");
	strbuf_trim(&sb);
	check_str(sb.buf, "padded", "trim removes leading and trailing space");

	strbuf_reset(&sb);
	strbuf_add(&sb, "a\0b", 3);
	check_int(sb.len, ==, 3, "add keeps embedded NULs");
	s = strbuf_detach(&sb, &len);
	check_int(len, ==, 3, "detach returns the length");
	TEST(!memcmp(s, "a\0b", 4), "detach hands over the bytes");
	check_str(sb.buf, "", "a detached strbuf is empty again");
	free(s);

	strbuf_release(&sb);
	check_str(sb.buf, "", "release leaves an empty strbuf");

	TEST(argv_vec(&a)[0] == NULL, "an empty argv is NULL-terminated");
	argv_push(&a, "git");
	argv_pushl(&a, "-c", "x=y", NULL);
	argv_pushf(&a, "--name=%s", "box");
	check_int(a.nr, ==, 4, "argv counts what was pushed");
	check_str(a.v[3], "--name=box", "pushf formats");
	TEST(a.v[4] == NULL, "argv stays NULL-terminated");
	argv_pop(&a);
	check_int(a.nr, ==, 3, "pop removes the last");
	TEST(a.v[3] == NULL, "and keeps the terminator");
	argv_clear(&a);
	check_int(a.nr, ==, 0, "clear empties it");

	check_int(skip_prefix("refs/heads/main", "refs/heads/", (const char **)&s), ==, 1,
		  "skip_prefix matches");
	check_str(s, "main", "and points past the prefix");
	return unit_done();
}

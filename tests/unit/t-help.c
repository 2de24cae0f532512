#include <stddef.h>
#include <string.h>

#include "help.h"
#include "parse-options.h"
#include "strbuf.h"
#include "unit.h"

static void test_distance(void)
{
	check_int(help_distance("", ""), ==, 0, "nothing to nothing");
	check_int(help_distance("ls", "ls"), ==, 0, "a word to itself");
	check_int(help_distance("", "abc"), ==, 3, "three insertions");
	check_int(help_distance("abc", ""), ==, 3, "three deletions");
	check_int(help_distance("lsit", "ls"), ==, 2, "two deletions");
	check_int(help_distance("sl", "ls"), ==, 1, "a swap of neighbours is one edit");
	check_int(help_distance("stauts", "status"), ==, 1, "a swap inside a word");
	check_int(help_distance("rn", "rm"), ==, 2, "a replacement is two edits");
	check_int(help_distance("ab", "ba") , ==, help_distance("ba", "ab"), "swaps are symmetric");
	check_int(help_distance("ca", "abc"), ==, 3, "no edit of a swapped pair (optimal alignment)");
}

static void test_similar(void)
{
	static const char *const names[] = {
		"agent", "config", "diff", "exec", "fetch", "gc", "hook", "log", "ls",
		"new", "rm", "show", "shell", "start", "status", "stop", "sync",
		"sync-host", "version",
	};
	size_t out[ARRAY_SIZE(names)], n;

	n = help_similar(out, "lsit", names, ARRAY_SIZE(names));
	TEST(n == 1 && !strcmp(names[out[0]], "ls"), "lsit: ls");
	n = help_similar(out, "stauts", names, ARRAY_SIZE(names));
	TEST(n == 1 && !strcmp(names[out[0]], "status"), "stauts: status");
	n = help_similar(out, "st", names, ARRAY_SIZE(names));
	TEST(n == 3 && !strcmp(names[out[0]], "start") && !strcmp(names[out[1]], "status") &&
	     !strcmp(names[out[2]], "stop"), "st: every command it begins, in order");
	n = help_similar(out, "synchost", names, ARRAY_SIZE(names));
	TEST(n == 1 && !strcmp(names[out[0]], "sync-host"), "synchost: sync-host");
	check_int(help_similar(out, "bogus", names, ARRAY_SIZE(names)), ==, 0, "bogus: nothing");
	check_int(help_similar(out, "rn", names, ARRAY_SIZE(names)), ==, 0,
		  "rn: nothing (too far for so short a word)");
	check_int(help_similar(out, "", names, ARRAY_SIZE(names)), ==, 0, "the empty word: nothing");
}

int main(void)
{
	test_distance();
	test_similar();
	return unit_done();
}

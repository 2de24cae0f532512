#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "parse-options.h"
#include "sandbox.h"
#include "unit.h"

static int name_ok(const char *n)
{
	struct strbuf why = STRBUF_INIT;
	int ok = sandbox_name_check(n, &why) == 0;

	TEST(ok == !why.len, "a rejected name says why");
	strbuf_release(&why);
	return ok;
}

static void test_names(void)
{
	static const char *const good[] = {
		"a", "0", "agent-1", "a.b", "a_b", "x1-y2.z3",
		"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123",
	};
	static const char *const bad[] = {
		"", "A", "-rf", "../x", "a/b", ".hidden", "_x", "x..y", "x.", "x.lock",
		"a b", "a\tb", "caf\xc3\xa9", "x:y", "x~1", "x^", "x@{0}", "x*",
		"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
	};
	struct strbuf gen = STRBUF_INIT;

	TEST(!name_ok("a\nb"), "a name with a newline is rejected");
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		TEST(name_ok(good[i]), "'%s' is a valid name", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		TEST(!name_ok(bad[i]), "'%s' is rejected", bad[i]);
	for (int i = 0; i < 50; i++) {
		sandbox_name_generate(&gen);
		if (!name_ok(gen.buf))
			break;
	}
	TEST(name_ok(gen.buf), "generated names are valid ('%s')", gen.buf);
	strbuf_release(&gen);
}

static void test_mounts(void)
{
	struct mount_spec m;
	struct strbuf why = STRBUF_INIT;

	check_int(mount_spec_parse("/src:/dst", &m, &why), ==, 0, "SRC:DST parses");
	check_str(m.src, "/src", "source");
	check_str(m.dst, "/dst", "destination");
	check_int(m.readonly, ==, 0, "read-write by default");
	mount_spec_clear(&m);
	check_int(mount_spec_parse("/a/b/:/c:ro", &m, &why), ==, 0, "SRC:DST:ro parses");
	check_str(m.src, "/a/b", "trailing slashes are dropped");
	check_int(m.readonly, ==, 1, "ro is read-only");
	mount_spec_clear(&m);

	static const char *const bad[] = {
		"/a", "rel:/b", "/a:rel", "/a:/b:rx", "/a/../etc:/b", "/a:/b/..", "/a,b:/c",
		"/a:/app", "/a:/app/x", "/a:/", "/a:/run/git-origin-ro", "", ":", "/a:/b:ro:x",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&why);
		TEST(mount_spec_parse(bad[i], &m, &why) < 0 && why.len,
		     "mount '%s' is rejected with a reason", bad[i]);
	}
	strbuf_release(&why);
}

static void test_opts_json(void)
{
	struct sandbox_opts o = { 0 }, back = { 0 };
	char *json;

	o.cpus = xstrdup("2");
	o.network = xstrdup("none");
	string_list_append(&o.mounts, "/a:/b:ro");
	string_list_append(&o.env_files, "/x/env");
	o.branch = 1;
	json = sandbox_opts_to_json(&o);
	check_int(sandbox_opts_from_json(&back, json), ==, 0, "options round-trip through JSON");
	check_str(back.cpus, "2", "cpus");
	check_str(back.memory, NULL, "an unset option stays unset");
	check_str(back.network, "none", "network");
	check_int(back.mounts.nr, ==, 1, "mounts");
	check_str(back.mounts.items[0], "/a:/b:ro", "mount");
	check_str(back.env_files.items[0], "/x/env", "env file");
	check_int(back.branch, ==, 1, "branch");
	free(json);
	sandbox_opts_clear(&back);

	static const char *const bad[] = {
		"", "[]", "{", "{\"cpus\": 2}", "{\"mounts\": \"x\"}", "{\"mounts\": [1]}", "null",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sandbox_opts b = { 0 };
		TEST(sandbox_opts_from_json(&b, bad[i]) < 0, "bad options '%s' are an error", bad[i]);
		sandbox_opts_clear(&b);
	}
	{
		struct sandbox_opts b = { 0 };
		TEST(sandbox_opts_from_json(&b, "{\"future\": {\"x\": 1}, \"cpus\": \"1\"}") == 0 &&
		     b.cpus && !strcmp(b.cpus, "1"), "unknown keys are ignored");
		sandbox_opts_clear(&b);
	}
	sandbox_opts_clear(&o);
}

static void test_parse_options(void)
{
	int flag = 0, num = 0;
	const char *str = NULL;
	struct string_list list = STRING_LIST_INIT;
	const struct option opts[] = {
		OPT_BOOL('f', "flag", &flag, "a flag"),
		OPT_STRING('s', "string", &str, "s", "a string"),
		OPT_LIST('l', "list", &list, "l", "a list"),
		OPT_INTEGER('n', "number", &num, "n", "a number"),
		OPT_END(),
	};
	const char *argv1[] = { "cmd", "-f", "pos1", "--string=a", "-lx", "--list", "y",
				"--numb", "7", "pos2", "--", "--flag", NULL };
	const char *argv2[] = { "cmd", "--no-flag", "-fs", "val", NULL };
	const char *argv3[] = { "cmd", "--bogus", NULL };
	const char *argv4[] = { "cmd", "-h", NULL };
	const char *argv5[] = { "cmd", "name", "-f", NULL };
	const char *argv6[] = { "cmd", "--number=x", NULL };
	int n;

	n = parse_options(12, argv1, opts, 0);
	check_int(n, ==, 3, "options are removed, arguments kept");
	check_str(argv1[0], "pos1", "first argument");
	check_str(argv1[2], "--flag", "everything after -- is an argument");
	check_int(flag, ==, 1, "a short flag");
	check_str(str, "a", "--opt=value");
	check_int(list.nr, ==, 2, "a list collects every value");
	check_str(list.items[0], "x", "-lvalue");
	check_str(list.items[1], "y", "--list value");
	check_int(num, ==, 7, "an unambiguous prefix of a long option");

	n = parse_options(4, argv2, opts, 0);
	check_int(n, ==, 0, "a cluster of short options");
	check_int(flag, ==, 1, "the last of --no-flag and -f wins");
	check_str(str, "val", "a clustered option takes the next argument");

	check_int(parse_options(2, argv3, opts, 0), ==, PARSE_OPT_ERROR, "an unknown option");
	check_int(parse_options(2, argv4, opts, 0), ==, PARSE_OPT_HELP, "-h asks for help");
	flag = 0;
	n = parse_options(3, argv5, opts, PARSE_OPT_STOP_AT_NON_OPTION);
	check_int(n, ==, 2, "stopping at the first non-option");
	check_int(flag, ==, 0, "leaves later options alone");
	check_int(parse_options(2, argv6, opts, 0), ==, PARSE_OPT_ERROR, "a bad number");
	string_list_clear(&list);
}

static void test_branch_names(void)
{
	static const char *const cases[][2] = {
		{ "agent/x", "agent-x" },
		{ "agent/Fix #1", "agent-fix-1" },
		{ "feature/Big.Thing", "feature-big-thing" },
		{ "a_b", "a_b" },
		{ "--x--", "x" },
		{ "UPPER", "upper" },
	};
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		TEST(branch_to_sandbox_name(cases[i][0], &out) == 0, "branch '%s' maps", cases[i][0]);
		check_str(out.buf, cases[i][1], "to '%s'", cases[i][1]);
	}
	TEST(branch_to_sandbox_name("///", &out) < 0, "a branch with no letters maps to nothing");
	{
		struct strbuf lng = STRBUF_INIT;

		for (int i = 0; i < 100; i++)
			strbuf_addstr(&lng, "long");
		TEST(branch_to_sandbox_name(lng.buf, &out) == 0 && out.len <= SANDBOX_NAME_MAX,
		     "a long branch name is cut to a valid length");
		strbuf_release(&lng);
	}
	strbuf_release(&out);
}

int main(void)
{
	test_names();
	test_mounts();
	test_opts_json();
	test_parse_options();
	test_branch_names();
	return unit_done();
}

/* devcontainer.json: the JSON-with-comments reader, and what a file turns into. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "devcontainer.h"
#include "unit.h"

/* text parses, and its value of key is the string expect. */
static void parses(const char *text, const char *key, const char *expect)
{
	struct strbuf why = STRBUF_INIT;
	cJSON *root = devcontainer_parse_jsonc(text, strlen(text), "f.json", &why);
	const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, key) : NULL;

	if (TEST(root, "'%s' parses (%s)", text, why.buf))
		check_str(cJSON_IsString(v) ? v->valuestring : "(not a string)", expect,
			  "'%s': %s is '%s'", text, key, expect);
	cJSON_Delete(root);
	strbuf_release(&why);
}

/* text is refused, saying expect. */
static void refused(const char *text, size_t len, const char *expect)
{
	struct strbuf why = STRBUF_INIT;
	cJSON *root = devcontainer_parse_jsonc(text, len, "f.json", &why);

	TEST(!root, "'%s' is refused", text);
	check_str(why.buf, expect, "'%s': the reason", text);
	cJSON_Delete(root);
	strbuf_release(&why);
}

static void test_jsonc(void)
{
	parses("{\"a\": \"b\"}", "a", "b");
	parses("// first\n{\"a\": /* in */ \"b\" // after\n}", "a", "b");
	parses("{\"a\": \"// not a comment\"}", "a", "// not a comment");
	parses("{\"a\": \"/* nor this */\"}", "a", "/* nor this */");
	parses("{\"a\": \"quote \\\" // still in\"}", "a", "quote \" // still in");
	parses("{\"a\": \"back\\\\\", \"b\": \"x\" // c\n}", "b", "x");
	parses("{\"a\": \"b\",}", "a", "b");
	parses("{\"l\": [1, 2,], \"a\": \"b\", }", "a", "b");
	parses("{\"a\": \"b\", /* c */ }", "a", "b");
	parses("{\"a\": \",}\"}", "a", ",}");
	parses("{\"a\": \"b\"}\n// the end", "a", "b");
	refused("{\"a\": \"b\" /* open", 17, "f.json:1:11: a comment is never closed");
	refused("{\n  \"a\": 1 2\n}", 14, "f.json:2:10: not valid JSON here");
	refused("{\"a\": ", 6, "f.json:1:7: the JSON ends too early");
	refused("[1, 2]", 6, "f.json: not a JSON object");
	refused("{\"a\": \"b\"}\0{}", 13, "f.json:1:11: a NUL byte");
	refused("{\"a\": 1,,}", 10, "f.json:1:10: not valid JSON here");
	refused("{\"a\": \"b", 8, "f.json:1:8: not valid JSON here");
	refused("{\"a\": [1", 8, "f.json:1:9: the JSON ends too early");
	refused("{\"a\": 1} x", 10, "f.json:1:10: not valid JSON here");
	refused("{\"a\": 'b'}", 10, "f.json:1:7: not valid JSON here");
}

/* Write text to <tmp>/.devcontainer.json and load it. */
static int load(struct devcontainer *dc, const char *text, const struct devcontainer_allow *a,
		struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	FILE *fp;
	int ret;

	strbuf_addf(&path, "%s/.devcontainer.json", unit_tmpdir());
	fp = fopen(path.buf, "w");
	fputs(text, fp);
	fclose(fp);
	ret = devcontainer_load(dc, unit_tmpdir(), ".devcontainer.json", a, why);
	strbuf_release(&path);
	return ret;
}

static void test_load(void)
{
	struct devcontainer dc = DEVCONTAINER_INIT;
	struct devcontainer_allow allow = DEVCONTAINER_ALLOW_INIT;
	struct string_list cli = STRING_LIST_INIT;
	struct strbuf why = STRBUF_INIT;

	check_int(load(&dc, "{ \"image\": \"img\", \"containerEnv\": { \"A\": \"${containerWorkspaceFolder}\" },"
		       " \"postStartCommand\": [\"a\", \"${containerWorkspaceFolderBasename}\"],"
		       " \"features\": {}, \"customizations\": {}, \"forwardPorts\": [80, \"db:1\"] }",
		       NULL, &why), ==, 0, "a plain file loads (%s)", why.buf);
	check_str(dc.image, "img", "its image");
	check_int(dc.container_env.nr, ==, 1, "one variable");
	check_str(dc.container_env.items[0], "A=/app", "${containerWorkspaceFolder} is /app");
	check_str(dc.commands[DC_POST_START], "[\"a\",\"app\"]", "the command, variables replaced");
	TEST(!dc.commands[DC_ON_CREATE], "no onCreateCommand");
	check_int(dc.ignored.nr, ==, 1, "one key ignored (customizations silently)");
	check_str(dc.ignored.nr ? dc.ignored.items[0] : "", "features", "features ignored");
	check_int(dc.ports.nr, ==, 1, "one port");
	check_int(dc.notes.nr, ==, 1, "one note, for the port of another service");
	devcontainer_clear(&dc);
	check_int(load(&dc, "{ \"containerEnv\": { \"A\": \"x\" }, \"onCreateCommand\": "
		       "\"echo ${containerEnv:A} ${containerEnv:PATH}\" }", NULL, &why), ==, 0,
		  "containerEnv in a command (%s)", why.buf);
	check_str(dc.commands[DC_ON_CREATE], "\"echo x ${PATH}\"",
		  "the file's variable replaced, the container's left to its shell");
	devcontainer_clear(&dc);

	check_int(load(&dc, "{ \"privileged\": true, \"capAdd\": [\"NET_ADMIN\"] }", NULL, &why),
		  ==, -1, "privileged is refused");
	check_str(why.buf, "cannot use '.devcontainer.json' as it is", "the reason");
	devcontainer_clear(&dc);

	string_list_append(&cli, "privileged capAdd");
	TEST(!devcontainer_allow_init(&allow, &cli, NULL), "allowances parse");
	check_int(load(&dc, "{ \"privileged\": true, \"capAdd\": [\"NET_ADMIN\"] }", &allow, &why),
		  ==, 0, "allowed, it loads");
	check_int(dc.run_args.nr, ==, 2, "two runtime options");
	check_str(dc.run_args.nr > 1 ? dc.run_args.items[1] : "", "--cap-add=NET_ADMIN",
		  "capAdd is --cap-add");
	devcontainer_clear(&dc);
	devcontainer_allow_clear(&allow);
	string_list_clear(&cli);

	string_list_append(&cli, "runArgs");
	TEST(!devcontainer_allow_init(&allow, &cli, NULL), "allowances parse");
	check_int(load(&dc, "{ \"runArgs\": [\"--label=ws=${containerWorkspaceFolder}\", "
		       "\"--label=${containerEnv:HOME}\"] }", &allow, &why), ==, 0,
		  "runArgs allowed, it loads (%s)", why.buf);
	check_str(dc.run_args.nr > 0 ? dc.run_args.items[0] : "", "--label=ws=/app",
		  "a variable of runArgs replaced, as the reference does");
	check_str(dc.run_args.nr > 1 ? dc.run_args.items[1] : "", "--label=${containerEnv:HOME}",
		  "one of the container's passed as it is written");
	devcontainer_clear(&dc);
	check_int(load(&dc, "{ \"runArgs\": [\"--name\", \"dev\", \"--cap-add=X\", \"--name=dev2\", "
		       "\"--label=a\", \"--name\"] }", &allow, &why), ==, 0,
		  "runArgs with --name load (%s)", why.buf);
	check_int(dc.run_args.nr, ==, 2, "--name and its value dropped, each way");
	check_str(dc.run_args.nr > 0 ? dc.run_args.items[0] : "", "--cap-add=X", "the rest kept");
	check_str(dc.run_args.nr > 1 ? dc.run_args.items[1] : "", "--label=a", "in order");
	check_int(dc.notes.nr, ==, 3, "a note for each");
	check_str(dc.notes.nr ? dc.notes.items[0] : "",
		  ".devcontainer.json: runArgs: ignoring '--name dev': git-sand names the container",
		  "the note says which");
	devcontainer_clear(&dc);
	devcontainer_allow_clear(&allow);
	string_list_clear(&cli);

	check_int(load(&dc, "{ \"build\": { \"dockerfile\": \"../x\" } }", NULL, &why), ==, -1,
		  "a Dockerfile out of the worktree is refused");
	check_str(why.buf, ".devcontainer.json: 'dockerfile': '../x' is outside the worktree",
		  "the reason");
	devcontainer_clear(&dc);

	check_int(load(&dc, "{ \"build\": { \"dockerfile\": \"d/Dockerfile\" } }", NULL, &why), ==, 0,
		  "a build loads (%s)", why.buf);
	check_str(dc.build.dockerfile, "d/Dockerfile", "the Dockerfile, from the worktree");
	check_str(dc.build.context, "", "the context, by default the file's folder");
	devcontainer_clear(&dc);

	check_int(load(&dc, "{ \"containerEnv\": { \"1A\": \"x\" } }", NULL, &why), ==, -1,
		  "a bad variable name is refused");
	devcontainer_clear(&dc);
	strbuf_release(&why);
}

static void test_user_names(void)
{
	const char *ok[] = { "dev", "vscode", "node", "_apt", "a.b-c_d", "1000", "1000:1000", "0:0" };
	const char *bad[] = { "", "-u", "--privileged", "root:", ":0", "dev:dev", "a b",
			      "a/b", "1000:x", "$(id)", "abcdefghijklmnopqrstuvwxyz0123456" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		TEST(devcontainer_user_ok(ok[i]), "user '%s' is taken", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		TEST(!devcontainer_user_ok(bad[i]), "user '%s' is refused", bad[i]);
}

int main(void)
{
	test_jsonc();
	test_load();
	test_user_names();
	return unit_done();
}

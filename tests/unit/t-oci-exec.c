/*
 * The process spec of a direct exec, from a container's config.json;
 * what podman's files tell of a container.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci-exec.h"
#include "unit.h"

#define PROC(user, env) PROC_CAPS(user, env, "\"CAP_KILL\"")
#define PROC_CAPS(user, env, eff) "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":" user "," \
	"\"args\":[\"/run/podman-init\",\"--\",\"sleep\",\"infinity\"],\"env\":" env "," \
	"\"cwd\":\"/app\",\"terminal\":true,\"consoleSize\":{\"height\":1,\"width\":2}," \
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[" eff "]," \
	"\"inheritable\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}," \
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}]," \
	"\"noNewPrivileges\":true,\"apparmorProfile\":\"containers-default\"," \
	"\"selinuxLabel\":\"system_u:system_r:container_t:s0\",\"oomScoreAdj\":5}," \
	"\"root\":{\"path\":\"/x\"},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"}}}"

#define ROOT "{\"uid\":0,\"gid\":0,\"umask\":18,\"additionalGids\":[10,11]}"
#define KEEP_ID "{\"uid\":1000,\"gid\":1001,\"umask\":18,\"additionalGids\":[1001]}"
#define ENV "[\"PATH=/usr/bin:/bin\",\"TERM=xterm\",\"HOME=/root\"]"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER "f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		unit_skip("cannot write a file");
	free(path);
}

static void remove_file(const char *dir, const char *name)
{
	char *path = xstrfmt("%s/%s", dir, name);

	unlink(path);
	free(path);
}

static void storage_init(struct oci_storage *os, int transient)
{
	memset(os, 0, sizeof(*os));
	os->root = xstrfmt("%s/state", unit_tmpdir());
	os->graphroot = xstrfmt("%s/graph", unit_tmpdir());
	os->driver = xstrdup("overlay");
	os->transient = transient;
}

/* oci_container_gone over lists of containers (volatile NULL: none). */
static int gone(const char *dir, const char *list, const char *volatile_list, const char *ctr,
		const char *name)
{
	struct oci_storage os;
	int ret;

	storage_init(&os, 0);
	write_file(dir, "containers.json", list);
	if (volatile_list)
		write_file(dir, "volatile-containers.json", volatile_list);
	else
		remove_file(dir, "volatile-containers.json");
	ret = oci_container_gone(&os, ctr, name);
	/* Read once: what the files say after does not change the answer. */
	write_file(dir, "containers.json", "{");
	check_int(oci_container_gone(&os, ctr, name), ==, ret, "the lists are read once");
	oci_storage_clear(&os);
	return ret;
}

static void storage_tests(void)
{
	struct oci_storage os = { 0 };
	char *state = xstrfmt("%s/state", unit_tmpdir());
	char *graph = xstrfmt("%s/graph", unit_tmpdir());
	char *dir = xstrfmt("%s/overlay-containers", graph);
	char *list = xstrfmt("%s/containers.json", dir);

	if (mkdir(state, 0700) || mkdir(graph, 0700) || mkdir(dir, 0700))
		unit_skip("cannot make directories");
	TEST(gone(dir, "[]", NULL, ID, "sand-x-01234567") == 1, "in no list: gone");
	TEST(gone(dir, "[{\"id\":\"" OTHER "\",\"names\":[\"other\"]}]", "[]", ID,
		  "sand-x-01234567") == 1,
	     "others in the lists: gone");
	TEST(gone(dir, "[]", NULL, NULL, "sand-x-01234567") == 1, "no id recorded, no such name: gone");
	TEST(!gone(dir, "[{\"id\":\"" ID "\"}]", NULL, ID, "sand-x-01234567"), "its id listed");
	TEST(!gone(dir, "[{\"id\":\"" OTHER "\",\"names\":[\"sand-x-01234567\"]}]", NULL, NULL,
		   "sand-x-01234567"),
	     "its name listed");
	TEST(!gone(dir, "[]", "[{\"id\":\"" ID "\",\"names\":[]}]", ID, "n"),
	     "its id in the volatile list");
	TEST(!gone(dir, "[]", "{", ID, "n"), "a volatile list that cannot be read");
	TEST(!gone(dir, "[{\"id\":7}]", NULL, ID, "n"), "an id that is not a string");
	TEST(!gone(dir, "[{\"id\":\"a\",\"names\":[3]}]", NULL, ID, "n"), "a name that is not a string");
	TEST(!gone(dir, "{\"id\":\"a\"}", NULL, ID, "n"), "not a list");
	TEST(!gone(dir, "", NULL, ID, "n"), "an empty file");
	TEST(!gone(dir, "[]", NULL, "0123", "n"), "a short id");
	TEST(!gone(dir, "[]", NULL, "../../" ID, "n"), "an id that is a path");
	write_file(state, ID, "{}");
	TEST(!gone(dir, "[]", NULL, ID, "n"), "the runtime holds state of it (it runs)");
	remove_file(state, ID);

	remove_file(dir, "containers.json");
	write_file(graph, "elsewhere.json", "[]");
	if (symlink("../elsewhere.json", list))
		unit_skip("cannot make a symbolic link");
	storage_init(&os, 0);
	TEST(!oci_container_gone(&os, ID, "n"), "a list through a symbolic link tells nothing");
	oci_storage_clear(&os);
	remove_file(dir, "containers.json");
	write_file(dir, "containers.json", "[]");
	storage_init(&os, 1);
	TEST(!oci_container_gone(&os, ID, "n"), "transient_store: the lists are elsewhere");
	oci_storage_clear(&os);
	TEST(!oci_container_gone(&os, ID, "n"), "storage that did not load tells nothing");
	free(list);
	free(dir);
	free(graph);
	free(state);
}

int main(void)
{
	const char *const cmd[] = { "git", "status", NULL };
	struct strbuf out = STRBUF_INIT;
	const struct oci_keep_id keep_id = { 1000, 1001 }, other = { 1002, 1001 };

	TEST(!oci_exec_process(&out, PROC(ROOT, ENV), "/tmp", cmd, NULL), "root's process is copied");
	check_str(out.buf,
		  "{\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[10,11]},"
		  "\"env\":[\"PATH=/usr/bin:/bin\",\"TERM=xterm\",\"HOME=/root\"],"
		  "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
		  "\"permitted\":[\"CAP_KILL\"]},"
		  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
		  "\"noNewPrivileges\":true,\"apparmorProfile\":\"containers-default\","
		  "\"selinuxLabel\":\"system_u:system_r:container_t:s0\",\"oomScoreAdj\":5,"
		  "\"cwd\":\"/tmp\",\"args\":[\"git\",\"status\"],\"terminal\":false}",
		  "command, directory and no terminal; no umask, no inheritable caps");

	strbuf_reset(&out);
	TEST(!oci_exec_process(&out, PROC_CAPS(ROOT, ENV, ""), NULL, cmd, &keep_id),
	     "root, rootless");
	TEST(strstr(out.buf, "\"effective\":[\"CAP_KILL\"]") != NULL,
	     "root's effective capabilities are its bounding set");

	strbuf_reset(&out);
	TEST(!oci_exec_process(&out, PROC(ROOT, ENV), NULL, cmd, NULL), "no workdir");
	TEST(strstr(out.buf, "\"cwd\":\"/app\"") != NULL, "the container's directory is kept");

	strbuf_reset(&out);
	TEST(!oci_exec_process(&out, PROC_CAPS(KEEP_ID, ENV, "\"CAP_CHOWN\""), NULL, cmd, &keep_id),
	     "keep-id's user is copied");
	check_str(out.buf,
		  "{\"user\":{\"uid\":1000,\"gid\":1001},"
		  "\"env\":[\"PATH=/usr/bin:/bin\",\"TERM=xterm\",\"HOME=/root\"],\"cwd\":\"/app\","
		  "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"permitted\":[\"CAP_CHOWN\"],"
		  "\"inheritable\":[\"CAP_CHOWN\"],\"ambient\":[\"CAP_CHOWN\"],"
		  "\"effective\":[\"CAP_CHOWN\"]},"
		  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
		  "\"noNewPrivileges\":true,\"apparmorProfile\":\"containers-default\","
		  "\"selinuxLabel\":\"system_u:system_r:container_t:s0\",\"oomScoreAdj\":5,"
		  "\"args\":[\"git\",\"status\"],\"terminal\":false}",
		  "uid:gid with no additional group; its effective caps in every set but bounding");

	strbuf_reset(&out);
	TEST(oci_exec_process(&out, PROC(KEEP_ID, ENV), NULL, cmd, NULL) < 0,
	     "another user than root is the CLI's (rootful)");
	TEST(oci_exec_process(&out, PROC(KEEP_ID, ENV), NULL, cmd, &other) < 0,
	     "a user other than keep-id's is the CLI's (rootless)");
	TEST(oci_exec_process(&out, PROC("{\"uid\":1000,\"gid\":1000}", ENV), NULL, cmd, &keep_id) < 0,
	     "keep-id's uid with another gid is the CLI's");
	TEST(!oci_exec_process(&out, PROC("{\"uid\":1000,\"gid\":1001}", ENV), NULL, cmd, &keep_id),
	     "keep-id's user with no additional group");
	strbuf_reset(&out);
	TEST(oci_exec_process(&out, PROC("{\"uid\":1000,\"gid\":1001,\"additionalGids\":[1001,100]}", ENV),
			      NULL, cmd, &keep_id) < 0,
	     "keep-id's user with a group added (--group-add) is the CLI's");
	TEST(oci_exec_process(&out, PROC("{\"uid\":1000,\"gid\":1001,\"additionalGids\":[100]}", ENV),
			      NULL, cmd, &keep_id) < 0,
	     "keep-id's user with another group only is the CLI's");
	TEST(oci_exec_process(&out, PROC("{\"uid\":1000,\"gid\":1001,\"additionalGids\":1001}", ENV),
			      NULL, cmd, &keep_id) < 0,
	     "additionalGids not a list");
	TEST(oci_exec_process(&out, PROC(ROOT, "[\"PATH=/bin\"]"), NULL, cmd, NULL) < 0,
	     "no HOME: the CLI's, which works it out");
	TEST(oci_exec_process(&out, PROC(ROOT, "[1]"), NULL, cmd, NULL) < 0, "env of numbers");
	TEST(oci_exec_process(&out, PROC("{\"uid\":\"0\",\"gid\":0}", ENV), NULL, cmd, NULL) < 0,
	     "a uid that is a string");
	TEST(oci_exec_process(&out, "{\"process\":[]}", NULL, cmd, NULL) < 0, "process not an object");
	TEST(oci_exec_process(&out, "[", NULL, cmd, NULL) < 0, "not JSON");
	TEST(oci_exec_process(&out, "{}", NULL, cmd, NULL) < 0, "no process");
	TEST(!out.len, "nothing written on failure");

	TEST(oci_cgroup_common("/a/b/c", "/a/b/d\n") == 4, "cgroups: the parent they share");
	TEST(oci_cgroup_common("/a/b", "/a/bc") == 2, "cgroups: whole names only");
	TEST(oci_cgroup_common("/a/b", "/a/b\n1:x:/") == 4, "cgroups: the same one");
	TEST(oci_cgroup_common("/a", "/") == 0, "cgroups: the root");
	TEST(oci_cgroup_common("/user.slice/user-1.slice/user@1.service/app.slice/x.scope",
			       "/user.slice/user-1.slice/session-3.scope") == 24,
	     "cgroups: a login session's scope and the user's service");
	storage_tests();
	strbuf_release(&out);
	return unit_done();
}

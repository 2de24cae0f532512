/* The process spec of a direct exec, from a container's config.json. */
#include <string.h>

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
	strbuf_release(&out);
	return unit_done();
}

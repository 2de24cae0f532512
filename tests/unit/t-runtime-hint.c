/* The hints for runtime failures we know, matched against their real messages. */
#include <string.h>

#include "runtime.h"
#include "unit.h"

static const struct {
	const char *runtime, *message, *hint_has;
} cases[] = {
	/* podman with runc, on a machine that grants no CAP_SYS_RESOURCE. */
	{ "podman", "Error: unable to start container \"3f2a\": error setting rlimit type 7: "
	  "operation not permitted: OCI permission denied", "default_ulimits" },
	/* podman with crun. */
	{ "podman", "Error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: "
	  "OCI permission denied", "README.md" },
	/* docker with its default ulimits over the hard limit. */
	{ "docker", "Error response from daemon: failed to create task for container: "
	  "failed to create shim task: OCI runtime create failed: runc create failed: "
	  "unable to start container process: error during container init: error setting "
	  "rlimit type 7: operation not permitted: unknown", "daemon.json" },
	{ "podman", "Error: crun: creating cgroup directory `/sys/fs/cgroup/machine.slice/"
	  "libpod-3f2a.scope`: No such file or directory: OCI runtime attempted to invoke a "
	  "command that was not found", "runtime = \"runc\"" },
	{ "podman", "Error: crun: writing file `/sys/fs/cgroup/cgroup.subtree_control`: "
	  "Operation not supported: OCI runtime error", "runc" },
	{ "podman", "Error: crun: opening file `memory.max` for writing: No such file or "
	  "directory: cgroup: OCI runtime error", "runc" },
	{ "podman", "Error: cannot find UID/GID for user sam: no subuid ranges found for "
	  "user \"sam\" in /etc/subuid - check rootless mode in man pages.", "--add-subuids" },
	{ "podman", "Error: writing blob: adding layer with blob \"sha256:1f\": processing "
	  "tar file(potentially insufficient UIDs or GIDs available in user namespace "
	  "(requested 0:42 for /etc/gshadow): Check /etc/subuid and /etc/subgid if configured "
	  "locally and run \"podman system migrate\": lchown /etc/gshadow: invalid argument): "
	  "exit status 1", "subordinate ids" },
	{ "podman", "Error: command required for rootless mode with multiple IDs: exec: "
	  "\"newuidmap\": executable file not found in $PATH", "newuidmap" },
	{ "docker", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
	  "Is the docker daemon running?", "start docker's daemon" },
	{ "docker", "permission denied while trying to connect to the Docker daemon socket at "
	  "unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/images/"
	  "json\": dial unix /var/run/docker.sock: connect: permission denied", "docker group" },
	{ "container", "Error: XPC connection error: Connection invalid. Ensure container "
	  "services are running with `container system start`", "container system start" },
	/* Not ours to explain. */
	{ "podman", "Error: no-such: image not known", NULL },
	{ "docker", "Error response from daemon: No such container: x", NULL },
	{ "podman", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
	  "Is the docker daemon running?", NULL },
	{ "docker", "Error: cannot find UID/GID for user sam: no subuid ranges found", NULL },
};

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *h = runtime_known_failure(cases[i].runtime, cases[i].message);

		if (!cases[i].hint_has)
			TEST(!h, "no hint for %s: %.40s...", cases[i].runtime, cases[i].message);
		else
			TEST(h && strstr(h, cases[i].hint_has),
			     "the hint for %s: %.40s... says '%s'", cases[i].runtime,
			     cases[i].message, cases[i].hint_has);
	}
	TEST(!runtime_known_failure("podman", NULL), "no message, no hint");
	return unit_done();
}

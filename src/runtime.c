#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "run.h"
#include "runtime.h"
#include "ssh.h"

extern const struct runtime_ops podman_ops, docker_ops, apple_container_ops;

/* In the order detection tries them: Apple's own first on macOS. */
#ifdef __APPLE__
static const struct runtime_ops *const backends[] = {
	&apple_container_ops, &podman_ops, &docker_ops
};
const char *const runtime_names[] = { "container", "podman", "docker", NULL };
#else
static const struct runtime_ops *const backends[] = {
	&podman_ops, &docker_ops, &apple_container_ops
};
const char *const runtime_names[] = { "podman", "docker", "container", NULL };
#endif

const char *container_state_name(enum container_state s)
{
	switch (s) {
	case CONTAINER_MISSING: return "missing";
	case CONTAINER_CREATED: return "created";
	case CONTAINER_RUNNING: return "running";
	case CONTAINER_STOPPED: return "stopped";
	}
	return "unknown";
}

void container_info_clear(struct container_info *ci)
{
	free(ci->id);
	free(ci->name);
	free(ci->sandbox_id);
	free(ci->home);
	memset(ci, 0, sizeof(*ci));
}

void container_info_list_free(struct container_info *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		container_info_clear(&list[i]);
	free(list);
}

int runtime_select(struct runtime *rt, const char *name)
{
	memset(rt, 0, sizeof(*rt));
	if (name && *name) {
		for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
			if (strcmp(backends[i]->name, name))
				continue;
			if (!find_in_path(name, NULL))
				return error("runtime '%s' is not installed (no '%s' in PATH): "
					     "install it, or choose another with --runtime or sand.runtime",
					     name, name);
			rt->ops = backends[i];
			rt->program = xstrdup(name);
			rt->uid = getuid();
			rt->gid = getgid();
			rt->have_user = 1;
			return 0;
		}
		return error("unknown runtime '%s' (known: podman, docker, container)", name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (find_in_path(backends[i]->name, NULL)) {
			rt->ops = backends[i];
			rt->program = xstrdup(backends[i]->name);
			rt->uid = getuid();
			rt->gid = getgid();
			rt->have_user = 1;
			return 0;
		}
	}
#ifdef __APPLE__
	return error("no container runtime found: install Apple's container "
		     "(https://github.com/apple/container), or podman, or set sand.runtime");
#else
	return error("no container runtime found: install podman (apt-get install podman) "
		     "or docker, or set sand.runtime");
#endif
}

/* A fixed script: who we are there, and which of the two CLIs it has. */
static const char *const remote_probe[] = {
	"sh", "-c", "id -u && id -g && for r in podman docker; do "
	"command -v $r >/dev/null && echo $r && exit 0; done; echo none", NULL
};

static int probe_remote(struct runtime *rt, char *found, size_t len)
{
	struct strbuf out = STRBUF_INIT;
	struct ssh_cmd cmd = SSH_CMD_INIT;
	char name[16];
	int ret = 0;

	cmd.argv = remote_probe;
	cmd.out = &out;
	if (ssh_run(rt->ssh, &cmd) != 0 ||
	    sscanf(out.buf, "%lu\n%lu\n%15s", &rt->uid, &rt->gid, name) != 3)
		ret = error("cannot run commands on '%s'", ssh_conn_target(rt->ssh)->host);
	else
		rt->have_user = 1;
	if (!ret)
		snprintf(found, len, "%s", name);
	strbuf_release(&out);
	return ret;
}

int runtime_user(struct runtime *rt)
{
	char found[16];

	if (rt->have_user)
		return 0;
	return probe_remote(rt, found, sizeof(found));
}

/* The backend named (podman or docker) for a host. */
static int remote_backend(struct runtime *rt, const char *name, const char *host)
{
	if (!strcmp(name, "none"))
		return error("no container runtime found on '%s': install podman or "
			     "docker there", host);
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (strcmp(backends[i]->name, name))
			continue;
		if (backends[i] == &apple_container_ops)
			return error("runtime '%s' cannot drive sandboxes on another machine", name);
		rt->ops = backends[i];
		rt->program = xstrdup(name);
		return 0;
	}
	return error("unknown runtime '%s' (known: podman, docker)", name);
}

int runtime_select_remote(struct runtime *rt, const char *name, struct ssh_conn *conn)
{
	char found[16] = "";

	memset(rt, 0, sizeof(*rt));
	rt->ssh = conn;
	/* A runtime named (as every sandbox's is): no round trip to ask. */
	if (!name || !*name) {
		if (probe_remote(rt, found, sizeof(found)) < 0)
			return -1;
		name = found;
	}
	return remote_backend(rt, name, ssh_conn_target(conn)->host);
}

int runtime_select_remote_probed(struct runtime *rt, const char *name, struct ssh_conn *conn,
				 unsigned long uid, unsigned long gid, const char *found)
{
	memset(rt, 0, sizeof(*rt));
	rt->ssh = conn;
	rt->uid = uid;
	rt->gid = gid;
	rt->have_user = 1;
	return remote_backend(rt, name && *name ? name : found, ssh_conn_target(conn)->host);
}

void runtime_clear(struct runtime *rt)
{
	ssh_close(rt->ssh);
	free(rt->program);
	memset(rt, 0, sizeof(*rt));
}

enum pull_policy runtime_pull_policy = PULL_MISSING;

int pull_policy_parse(enum pull_policy *out, const char *s)
{
#define PULL_NAME_(e, n) n,
	static const char *const names[] = { PULL_POLICY_LIST(PULL_NAME_) };
#undef PULL_NAME_

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum pull_policy)i;
			return 0;
		}
	return -1;
}

/*
 * As docker and podman read a reference: the part before the first "/"
 * is a registry when it has a "." or a ":" ("quay.io/x", "127.0.0.1:5000/x",
 * "localhost:5000/x"). "localhost/x" is podman's name for an image built
 * here, and a bare "debian" each runtime resolves its own way.
 */
int image_names_registry(const char *image)
{
	const char *slash = strchr(image, '/');

	if (!slash || slash == image)
		return 0;
	for (const char *p = image; p < slash; p++)
		if (*p == '.' || *p == ':')
			return 1;
	return 0;
}

static void hint_missing_image(const struct runtime *rt, const char *image, int registry,
			       enum pull_policy policy)
{
	if (!strcmp(image, RUNTIME_DEFAULT_IMAGE))
		hint("build it with 'make image' in git-sand's source or 'git sand image build', "
		     "or choose another with --image or sand.image");
	else if (registry && policy == PULL_NEVER)
		hint("pull it with '%s pull %s', or let git sand pull it with --pull=missing",
		     rt->program, image);
	else if (registry)
		hint("%s cannot pull images", rt->program);
	else if (!starts_with(image, "localhost/"))
		hint("name its registry (as in 'docker.io/library/%s') to have it pulled, "
		     "or build it", image);
	else
		hint("build it, or choose another with --image or sand.image");
}

/* The runtime's reason: the last line it wrote that says anything. */
static void last_line(struct strbuf *out, struct strbuf *err)
{
	char *end;

	strbuf_trim(err);
	end = strrchr(err->buf, '\n');
	strbuf_addstr(out, end ? end + 1 : err->buf);
}

int runtime_ensure_image(struct runtime *rt, const char *image, enum pull_policy policy,
			 int progress)
{
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	int registry = image_names_registry(image), status, ret = 0;

	if (policy != PULL_ALWAYS || !registry || !rt->ops->pull) {
		ret = rt->ops->image_exists(rt, image);
		if (ret != 0)
			return ret < 0 ? -1 : 0;
		if (!registry || policy == PULL_NEVER || !rt->ops->pull) {
			ret = error("image '%s' is not available to %s", image, rt->program);
			hint_missing_image(rt, image, registry, policy);
			return ret;
		}
	}
	/* Over SSH the CLI's progress would not reach a terminal. */
	progress = progress && !rt->ssh;
	if (progress)
		fprintf(stderr, "Pulling '%s' with %s...\n", image, rt->program);
	status = rt->ops->pull(rt, image, progress, &err);
	if (status > 0) {
		last_line(&why, &err);
		if (!why.len)
			strbuf_addf(&why, "%s pull exited with status %d%s", rt->program, status,
				    progress ? " (its reason is above)" : "");
		ret = error("cannot pull image '%s' with %s: %s", image, rt->program, why.buf);
		runtime_hint(rt, err.buf);
	} else if (status < 0) {
		ret = error("cannot pull image '%s' with %s", image, rt->program);
	}
	strbuf_release(&err);
	strbuf_release(&why);
	return ret;
}

/*
 * The failures a runtime reports in its own words that we know how to
 * fix. Every string of match must occur (in any case); the first entry
 * that matches gives the hint.
 */
#define README_RESTRICTED "see \"podman on restricted machines\" in git-sand's README.md"
#define SUBUID_FIX "'usermod --add-subuids 100000-165535 --add-subgids 100000-165535 <user>' " \
	"as root (apt-get install uidmap), then 'podman system migrate'"
static const struct known_failure {
	const char *runtime;	/* NULL: any */
	const char *match[2];
	const char *hint;
} known_failures[] = {
	{ "docker", { "rlimit", NULL },
	  "docker may not raise the container's ulimits here: set \"default-ulimits\" at or "
	  "below your hard limits ('ulimit -Hn', 'ulimit -Hu') in /etc/docker/daemon.json, "
	  "then restart dockerd" },
	{ NULL, { "rlimit", NULL },
	  "the runtime may not raise the container's ulimits here: set default_ulimits at or "
	  "below your hard limits ('ulimit -Hn', 'ulimit -Hu') in containers.conf, as "
	  "tests/containers.conf does; " README_RESTRICTED },
	{ NULL, { "crun", "cgroup" },
	  "crun cannot use this machine's cgroups: set runtime = \"runc\" under [engine] in "
	  "containers.conf (apt-get install runc); " README_RESTRICTED },
	{ "podman", { "subuid", NULL },
	  "rootless podman needs subordinate ids for your user: " SUBUID_FIX },
	{ "podman", { "insufficient uids or gids", NULL },
	  "rootless podman needs more subordinate ids for your user: " SUBUID_FIX },
	{ "podman", { "not enough ids", NULL },
	  "rootless podman needs more subordinate ids for your user: " SUBUID_FIX },
	{ "podman", { "newuidmap", NULL },
	  "rootless podman needs newuidmap and subordinate ids for your user: " SUBUID_FIX },
	{ "docker", { "permission denied while trying to connect to the docker", NULL },
	  "your user may not use docker's socket: add it to the docker group ('usermod "
	  "-aG docker <user>' as root, then log in again), or use podman (--runtime podman)" },
	{ "docker", { "is the docker daemon running", NULL },
	  "start docker's daemon ('systemctl start docker' as root), set DOCKER_HOST to where "
	  "it listens, or use podman (--runtime podman)" },
	{ "container", { "container system start", NULL },
	  "start it with 'container system start'" },
	{ "container", { "XPC connection", NULL },
	  "start it with 'container system start'" },
};

const char *runtime_known_failure(const char *runtime, const char *err)
{
	for (size_t i = 0; err && i < ARRAY_SIZE(known_failures); i++) {
		const struct known_failure *f = &known_failures[i];

		if (f->runtime && (!runtime || strcmp(f->runtime, runtime)))
			continue;
		if (!strcasestr(err, f->match[0]) ||
		    (f->match[1] && !strcasestr(err, f->match[1])))
			continue;
		return f->hint;
	}
	return NULL;
}

void runtime_hint(const struct runtime *rt, const char *err)
{
	const char *h = runtime_known_failure(rt->ops ? rt->ops->name : NULL, err);

	if (h)
		hint("%s", h);
}

/*
 * exec straight to the OCI runtime. "podman exec" starts podman (tens of
 * milliseconds of its own start-up), a conmon to hold the exec session,
 * then runc or crun, and a "podman exec cleanup" after; the runtime's own
 * exec costs about half of that. For a container of podman whose runtime
 * is runc or crun, we run
 *
 *   <runtime> --root <state root> --log <file> --log-format json \
 *	exec --process <spec> <full id>
 *
 * with the process spec podman's exec would give (oci_exec_process): the
 * container's own, from the config.json podman wrote for it, with our
 * command and directory. Namespaces, cgroup, seccomp and the rest of the
 * container the runtime takes from its own state, as for podman's exec.
 * Without -d, the runtime passes the standard streams it has to the
 * command, passes signals on and exits with its status (128+N for signal
 * N). The streams it has are pipes we copy to and from ours, as conmon
 * does for podman (run.c's relay), so that the command never holds our
 * terminal and what it leaves running in the background does not keep
 * our output open.
 *
 * Rootless podman runs its runtime inside the user and mount namespaces
 * it made for the user, which its pause process holds (its pid in
 * <podman's runtime dir>/libpod/tmp/pause.pid), and keeps the runtime's
 * state under that runtime dir; the container's config.json is in a
 * directory only those namespaces may read. We enter them as podman does
 * before it runs the runtime: a child reads config.json there (run.c's
 * run_read_in_ns), and the runtime runs there (run.c's join_ns). Where
 * the pause process is not there (podman makes it again on its next
 * command), or is not what it should be (open_podman_ns), or the
 * container's cgroup is out of our reach (cgroup_reachable), exec takes
 * the CLI.
 *
 * podman is asked about itself (podman info) once, and what it said is
 * kept in <state root>/oci-runtime.json, with what it depends on (which
 * podman, CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, and info_key's
 * variables and files). A record naming what is gone (the runtime, its
 * state root, a container's files) is dropped: that exec takes the CLI,
 * the next asks podman again.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/pidfd.h>
#include <sys/vfs.h>
#endif

#include <cjson/cJSON.h>

#include "msg.h"
#include "oci-exec.h"
#include "path.h"
#include "run.h"
#include "rt-cli.h"

#define CACHE_NAME "oci-runtime.json"
/* podman's config.json holds the seccomp profile: tens of KiB. */
#define CONFIG_MAX ((size_t)16 << 20)
#define SMALL_MAX ((size_t)1 << 20)
#define CONTAINER_ID_LEN 64

int oci_exec_mode_parse(enum oci_exec_mode *out, const char *s)
{
	if (!strcmp(s, "auto"))
		*out = OCI_EXEC_AUTO;
	else if (!strcmp(s, "cli"))
		*out = OCI_EXEC_CLI;
	else
		return -1;
	return 0;
}

/* What podman said about itself, and what that depends on. */
struct oci_info {
	char *podman;		/* the podman in PATH that said it */
	char *conf;		/* CONTAINERS_CONF then ("" unset) */
	char *storage_conf;	/* CONTAINERS_STORAGE_CONF then */
	char *xdg;		/* XDG_RUNTIME_DIR then, which rootless podman's dir follows */
	char *depends;		/* what else its answers depend on (info_key) */
	int usable;		/* runc or crun, and all of the below known */
	int rootless;
	char *rundir;		/* rootless: podman's runtime dir */
	char *runtime;		/* "runc", "crun" */
	char *path;		/* its binary */
	char *root;		/* its state root */
	char *graphroot;	/* podman's storage */
	char *driver;		/* its driver: "overlay" */
	int transient;		/* its list of containers kept elsewhere (transient_store) */
};

static void oci_info_clear(struct oci_info *in)
{
	free(in->podman);
	free(in->conf);
	free(in->storage_conf);
	free(in->xdg);
	free(in->depends);
	free(in->rundir);
	free(in->runtime);
	free(in->path);
	free(in->root);
	free(in->graphroot);
	free(in->driver);
	memset(in, 0, sizeof(*in));
}

static const char *env_or_empty(const char *name)
{
	const char *v = getenv(name);
	return v ? v : "";
}

/* One line of info_key: a file's identity and age, or that it is not there. */
static void key_file(struct strbuf *key, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		strbuf_addf(key, "file %s -\n", path);
	else
		strbuf_addf(key, "file %s %llu %llu %lld.%09ld\n", path,
			    (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/*
 * What else podman's answers depend on, one line each: which podman
 * answers (a remote service: CONTAINER_HOST, CONTAINER_CONNECTION), the
 * variables that override its storage and configuration, the files it
 * reads them from (changed, they may name another storage) and,
 * rootless, where the user's are (HOME, XDG_DATA_HOME, XDG_CONFIG_HOME).
 */
static char *info_key(int rootless)
{
	static const char *const vars[] = {
		"CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINERS_CONF_OVERRIDE",
		"STORAGE_DRIVER", "STORAGE_OPTS", NULL
	};
	static const char *const user_vars[] = { "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", NULL };
	static const char *const files[] = {
		"/usr/share/containers/storage.conf", "/etc/containers/storage.conf",
		"/usr/share/containers/containers.conf", "/etc/containers/containers.conf",
		"/etc/containers/containers.conf.d", NULL
	};
	static const char *const user_files[] = {
		"storage.conf", "containers.conf", "containers.conf.d", NULL
	};
	struct strbuf key = STRBUF_INIT, dir = STRBUF_INIT, path = STRBUF_INIT;
	const char *v;

	for (const char *const *n = vars; *n; n++)
		if ((v = getenv(*n)))
			strbuf_addf(&key, "%s=%s\n", *n, v);
	for (const char *const *f = files; *f; f++)
		key_file(&key, *f);
	if ((v = getenv("CONTAINERS_CONF")) && *v)
		key_file(&key, v);
	if ((v = getenv("CONTAINERS_STORAGE_CONF")) && *v)
		key_file(&key, v);
	if (rootless) {
		for (const char *const *n = user_vars; *n; n++)
			if ((v = getenv(*n)))
				strbuf_addf(&key, "%s=%s\n", *n, v);
		if ((v = getenv("XDG_CONFIG_HOME")) && *v)
			strbuf_addf(&dir, "%s/containers", v);
		else if ((v = getenv("HOME")) && *v)
			strbuf_addf(&dir, "%s/.config/containers", v);
		for (const char *const *f = user_files; dir.len && *f; f++) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", dir.buf, *f);
			key_file(&key, path.buf);
		}
	}
	strbuf_release(&dir);
	strbuf_release(&path);
	return strbuf_detach(&key, NULL);
}

/*
 * A whole file of at most max bytes, not through a symbolic link; with
 * owned, only one the user owns (root, for rootful podman's files).
 * 0, or -1 (errno set; EFBIG over max).
 */
static int read_bounded(struct strbuf *out, const char *path, size_t max, int owned)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto done;
	if (!S_ISREG(st.st_mode) || (owned && st.st_uid != geteuid())) {
		errno = EPERM;
		goto done;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto done;
	}
	for (;;) {
		ssize_t n;

		strbuf_grow(out, 8192);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto done;
		if (!n)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
		if (out->len > max) {
			errno = EFBIG;
			goto done;
		}
	}
	ret = 0;
done:
	close(fd);
	return ret;
}

static int plain_name(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int absolute_path(const char *s)
{
	return s && s[0] == '/' && !strstr(s, "/../") && !strchr(s, '\n');
}

static char *json_dup(const cJSON *obj, const char *key)
{
	return dup_or_null(cJSON_IsObject(obj) ? json_str(obj, key) : NULL);
}

/*
 * From "podman info --format json": the OCI runtime, whether podman runs
 * rootless, its storage. The runtime's state root is its own default,
 * where podman (which passes no --root) leaves it: for root, under /run;
 * rootless, under podman's runtime dir (probe_rundir).
 */
static int parse_info(struct oci_info *in, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *host, *store, *rt, *sec, *rootless, *transient, *remote;
	int ret = -1;

	if (!cJSON_IsObject(root))
		goto done;
	host = cJSON_GetObjectItemCaseSensitive(root, "host");
	store = cJSON_GetObjectItemCaseSensitive(root, "store");
	rt = cJSON_IsObject(host) ? cJSON_GetObjectItemCaseSensitive(host, "ociRuntime") : NULL;
	sec = cJSON_IsObject(host) ? cJSON_GetObjectItemCaseSensitive(host, "security") : NULL;
	rootless = cJSON_IsObject(sec) ? cJSON_GetObjectItemCaseSensitive(sec, "rootless") : NULL;
	remote = cJSON_IsObject(host) ? cJSON_GetObjectItemCaseSensitive(host, "serviceIsRemote") : NULL;
	in->runtime = json_dup(rt, "name");
	in->path = json_dup(rt, "path");
	in->graphroot = json_dup(store, "graphRoot");
	in->driver = json_dup(store, "graphDriverName");
	/* podman 4.4 on; under it, containers.json is not in graphRoot. */
	transient = cJSON_IsObject(store) ? cJSON_GetObjectItemCaseSensitive(store, "transientStore") : NULL;
	if (!cJSON_IsBool(rootless) || !in->runtime || (transient && !cJSON_IsBool(transient)))
		goto done;
	ret = 0;
	in->rootless = cJSON_IsTrue(rootless);
	in->transient = cJSON_IsTrue(transient);
	/* A podman service elsewhere: its files are not ours to read. */
	in->usable = !cJSON_IsTrue(remote) && absolute_path(in->path) && absolute_path(in->graphroot) &&
		     plain_name(in->driver) &&
		     (!strcmp(in->runtime, "runc") || !strcmp(in->runtime, "crun"));
	if (in->usable && !in->rootless)
		in->root = xstrfmt("/run/%s", in->runtime);
done:
	cJSON_Delete(root);
	return ret;
}

static void cache_path(struct strbuf *out, const char *state_root)
{
	strbuf_addf(out, "%s/" CACHE_NAME, state_root);
}

static int read_cache(struct oci_info *in, const char *state_root)
{
	struct strbuf path = STRBUF_INIT, json = STRBUF_INIT;
	cJSON *root = NULL;
	int ret = -1;

	cache_path(&path, state_root);
	if (read_bounded(&json, path.buf, SMALL_MAX, 0) < 0)
		goto done;
	root = cJSON_Parse(json.buf);
	if (!cJSON_IsObject(root))
		goto done;
	in->podman = json_dup(root, "podman");
	in->conf = json_dup(root, "containers_conf");
	in->storage_conf = json_dup(root, "storage_conf");
	in->xdg = json_dup(root, "xdg_runtime_dir");
	in->depends = json_dup(root, "depends");
	in->transient = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "transient"));
	in->usable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "usable"));
	in->rootless = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "rootless"));
	in->rundir = json_dup(root, "rundir");
	in->runtime = json_dup(root, "runtime");
	in->path = json_dup(root, "path");
	in->root = json_dup(root, "root");
	in->graphroot = json_dup(root, "graphroot");
	in->driver = json_dup(root, "driver");
	if (!in->podman || !in->conf || !in->storage_conf || !in->xdg || !in->depends)
		goto done;
	if (in->usable && !(absolute_path(in->path) && absolute_path(in->root) &&
			    absolute_path(in->graphroot) && plain_name(in->driver) &&
			    (!in->rootless || absolute_path(in->rundir))))
		goto done;
	ret = 0;
done:
	if (ret < 0)
		oci_info_clear(in);
	cJSON_Delete(root);
	strbuf_release(&path);
	strbuf_release(&json);
	return ret;
}

static void drop_cache(const char *state_root)
{
	struct strbuf path = STRBUF_INIT;

	cache_path(&path, state_root);
	unlink(path.buf);
	strbuf_release(&path);
}

/* Written whole or not at all; a failure only costs the next exec a probe. */
static void write_cache(const struct oci_info *in, const char *state_root)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	cJSON *root = cJSON_CreateObject();
	char *json = NULL;
	size_t len;
	int fd = -1;

	cJSON_AddStringToObject(root, "podman", in->podman);
	cJSON_AddStringToObject(root, "containers_conf", in->conf);
	cJSON_AddStringToObject(root, "storage_conf", in->storage_conf);
	cJSON_AddStringToObject(root, "xdg_runtime_dir", in->xdg);
	cJSON_AddStringToObject(root, "depends", in->depends);
	cJSON_AddBoolToObject(root, "usable", in->usable);
	if (in->usable) {
		cJSON_AddBoolToObject(root, "rootless", in->rootless);
		if (in->rootless)
			cJSON_AddStringToObject(root, "rundir", in->rundir);
		cJSON_AddStringToObject(root, "runtime", in->runtime);
		cJSON_AddStringToObject(root, "path", in->path);
		cJSON_AddStringToObject(root, "root", in->root);
		cJSON_AddStringToObject(root, "graphroot", in->graphroot);
		cJSON_AddStringToObject(root, "driver", in->driver);
		cJSON_AddBoolToObject(root, "transient", in->transient);
	}
	json = cJSON_PrintUnformatted(root);
	if (!json)
		goto done;
	len = strlen(json);
	cache_path(&path, state_root);
	strbuf_addf(&tmp, "%s.XXXXXX", path.buf);
	fd = mkstemp(tmp.buf);
	if (fd < 0)
		goto done;
	if (write(fd, json, len) != (ssize_t)len || close(fd) < 0 ||
	    rename(tmp.buf, path.buf) < 0)
		unlink(tmp.buf);
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	free(json);
	cJSON_Delete(root);
	strbuf_release(&path);
	strbuf_release(&tmp);
}

/* "podman <verb> <args>", its output into out: 0, or -1 (no message). */
static int ask_podman(struct runtime *rt, struct strbuf *out, const char *verb, ...)
{
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *arg;
	va_list ap;
	int ret;

	rt_child_init(rt, &c, verb);
	va_start(ap, verb);
	while ((arg = va_arg(ap, const char *)))
		argv_push(&c.args, arg);
	va_end(ap);
	c.max_out = SMALL_MAX;
	ret = rt_run(rt, &c, out, &err) == 0 ? 0 : -1;
	strbuf_release(&err);
	child_clear(&c);
	return ret;
}

/* Ask podman (podman info): 0, or -1 when it would not say (no message). */
static int probe_info(struct runtime *rt, struct oci_info *in)
{
	struct strbuf out = STRBUF_INIT;
	int ret = -1;

	if (!ask_podman(rt, &out, "info", "--format", "json", NULL) && !parse_info(in, out.buf))
		ret = 0;
	strbuf_release(&out);
	return ret;
}

/*
 * Rootless: the runtime dir podman uses (XDG_RUNTIME_DIR, or its own
 * choice where that is unset), as podman sets it for what it runs; the
 * runtime's state root is in it. 0, or -1 (no message).
 */
static int probe_rundir(struct runtime *rt, struct oci_info *in)
{
	struct strbuf out = STRBUF_INIT;
	int ret = -1;

	if (ask_podman(rt, &out, "unshare", "printenv", "XDG_RUNTIME_DIR", NULL) < 0)
		goto done;
	strbuf_trim(&out);
	if (!absolute_path(out.buf))
		goto done;
	in->rundir = strbuf_detach(&out, NULL);
	in->root = xstrfmt("%s/%s", in->rundir, in->runtime);
	ret = 0;
done:
	strbuf_release(&out);
	return ret;
}

/*
 * The record kept, if it was said by the podman at podman (its path)
 * with the settings of now: 0, or -1 (in cleared).
 */
static int cached_info(struct oci_info *in, const char *state_root, const char *podman)
{
	char *depends;
	int same;

	if (read_cache(in, state_root) < 0)
		return -1;
	depends = info_key(in->rootless);
	same = !strcmp(in->podman, podman) && !strcmp(in->conf, env_or_empty("CONTAINERS_CONF")) &&
	       !strcmp(in->storage_conf, env_or_empty("CONTAINERS_STORAGE_CONF")) &&
	       (!in->rootless || !strcmp(in->xdg, env_or_empty("XDG_RUNTIME_DIR"))) &&
	       !strcmp(in->depends, depends);
	free(depends);
	if (same)
		return 0;
	oci_info_clear(in);
	return -1;
}

/*
 * What podman said about itself: the record kept, if it was said by the
 * same podman with the same settings, else asked again and kept.
 */
static int load_info(struct runtime *rt, const char *state_root, struct oci_info *in)
{
	struct strbuf podman = STRBUF_INIT;
	const char *conf = env_or_empty("CONTAINERS_CONF");
	const char *storage_conf = env_or_empty("CONTAINERS_STORAGE_CONF");
	int ret = -1;

	if (!find_in_path(rt->program, &podman))
		goto done;
	if (!cached_info(in, state_root, podman.buf)) {
		ret = 0;
		goto done;
	}
	if (probe_info(rt, in) < 0) {
		oci_info_clear(in);
		goto done;
	}
	/* As for podman info: a failure is not kept, the next exec asks again. */
	if (in->usable && in->rootless && probe_rundir(rt, in) < 0) {
		oci_info_clear(in);
		goto done;
	}
	in->podman = strbuf_detach(&podman, NULL);
	in->conf = xstrdup(conf);
	in->storage_conf = xstrdup(storage_conf);
	in->xdg = xstrdup(env_or_empty("XDG_RUNTIME_DIR"));
	in->depends = info_key(in->rootless);
	write_cache(in, state_root);
	ret = 0;
done:
	strbuf_release(&podman);
	return ret;
}

static int full_id(const char *ctr)
{
	size_t n = 0;

	for (; ctr[n]; n++)
		if (!((ctr[n] >= '0' && ctr[n] <= '9') || (ctr[n] >= 'a' && ctr[n] <= 'f')))
			return 0;
	return n == CONTAINER_ID_LEN;
}

/* Replace (or add) key in obj; obj takes item. */
static void json_set(cJSON *obj, const char *key, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, item);
}

/* A copy of caps' list named from (an empty one if it has none) as to. */
static void caps_copy(cJSON *caps, const char *from, const char *to)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(caps, from);
	cJSON *copy = cJSON_IsArray(list) ? cJSON_Duplicate(list, 1) : cJSON_CreateArray();

	json_set(caps, to, copy);
}

/* The user of keep_id: its uid and gid, the numbers of spec_user. */
static int is_keep_id(const cJSON *spec_user, const struct oci_keep_id *keep_id)
{
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(spec_user, "uid");
	const cJSON *gid = cJSON_GetObjectItemCaseSensitive(spec_user, "gid");

	return keep_id && keep_id->uid && cJSON_IsNumber(uid) && cJSON_IsNumber(gid) &&
	       uid->valuedouble == (double)keep_id->uid && gid->valuedouble == (double)keep_id->gid;
}

/*
 * No additional group but the primary one, which podman's create gives a
 * keep-id container's process and its exec (podman 4.3's, which t1010
 * compares with) does not. Groups a container was made with (--group-add
 * among a devcontainer's runArgs) are in both, with no way to tell them
 * from that one here: the CLI's.
 */
static int only_primary_gid(const cJSON *spec_user)
{
	const cJSON *gid = cJSON_GetObjectItemCaseSensitive(spec_user, "gid");
	const cJSON *gids = cJSON_GetObjectItemCaseSensitive(spec_user, "additionalGids"), *g;

	if (!gids)
		return 1;
	if (!cJSON_IsArray(gids))
		return 0;
	cJSON_ArrayForEach(g, gids)
		if (!cJSON_IsNumber(g) || g->valuedouble != gid->valuedouble)
			return 0;
	return 1;
}

/*
 * As podman's exec builds it (libpod, prepareProcessExec): a copy of the
 * container's process with our command and directory, no terminal, no
 * umask (podman's exec sets none), and HOME already in its environment
 * (else podman's exec looks it up in the container's files: the CLI's).
 * The user and capabilities, for the two users whose exec podman works
 * out without reading the container's /etc/passwd and /etc/group:
 *
 * - root, as podman resolved it for the container (uid, gid, additional
 *   groups); capabilities effective and permitted as the bounding set,
 *   none inheritable.
 * - with keep_id (rootless), the user "<uid>:<gid>" that podman's
 *   --userns=keep-id gives a container: those numbers, with no
 *   additional group (an explicit group rules them out), where it was
 *   made with none of its own; its effective capabilities also
 *   permitted, inheritable and ambient.
 *
 * Any other user is the CLI's.
 */
int oci_exec_process(struct strbuf *out, const char *config_json, const char *workdir,
		     const char *const *cmd, const struct oci_keep_id *keep_id)
{
	cJSON *root = cJSON_Parse(config_json), *proc = NULL, *user, *uid, *env, *it, *caps, *args;
	char *json = NULL;
	int has_home = 0, ret = -1, n = 0, as_root;

	if (!cJSON_IsObject(root))
		goto done;
	proc = cJSON_DetachItemFromObjectCaseSensitive(root, "process");
	if (!cJSON_IsObject(proc))
		goto done;
	user = cJSON_GetObjectItemCaseSensitive(proc, "user");
	uid = cJSON_IsObject(user) ? cJSON_GetObjectItemCaseSensitive(user, "uid") : NULL;
	if (!cJSON_IsNumber(uid) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(user, "gid")))
		goto done;
	as_root = uid->valuedouble == 0;
	if (!as_root && (!is_keep_id(user, keep_id) || !only_primary_gid(user)))
		goto done;
	cJSON_DeleteItemFromObjectCaseSensitive(user, "umask");
	cJSON_DeleteItemFromObjectCaseSensitive(user, "username");
	if (!as_root)
		cJSON_DeleteItemFromObjectCaseSensitive(user, "additionalGids");
	env = cJSON_GetObjectItemCaseSensitive(proc, "env");
	if (!cJSON_IsArray(env))
		goto done;
	cJSON_ArrayForEach(it, env) {
		if (!cJSON_IsString(it))
			goto done;
		if (starts_with(it->valuestring, "HOME="))
			has_home = 1;
	}
	if (!has_home)
		goto done;
	caps = cJSON_GetObjectItemCaseSensitive(proc, "capabilities");
	if (caps && !cJSON_IsObject(caps))
		goto done;
	if (caps && as_root) {
		cJSON_DeleteItemFromObjectCaseSensitive(caps, "inheritable");
		caps_copy(caps, "bounding", "effective");
		caps_copy(caps, "bounding", "permitted");
	} else if (caps) {
		caps_copy(caps, "effective", "permitted");
		caps_copy(caps, "effective", "inheritable");
		caps_copy(caps, "effective", "ambient");
		caps_copy(caps, "effective", "effective");
	}
	if (workdir)
		json_set(proc, "cwd", cJSON_CreateString(workdir));
	else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(proc, "cwd")))
		goto done;
	while (cmd[n])
		n++;
	if (!n)
		goto done;
	args = cJSON_CreateStringArray(cmd, n);
	if (!args)
		goto done;
	json_set(proc, "args", args);
	json_set(proc, "terminal", cJSON_CreateFalse());
	cJSON_DeleteItemFromObjectCaseSensitive(proc, "consoleSize");
	json = cJSON_PrintUnformatted(proc);
	if (!json)
		goto done;
	strbuf_addstr(out, json);
	ret = 0;
done:
	free(json);
	cJSON_Delete(proc);
	cJSON_Delete(root);
	return ret;
}

/*
 * A new file of ours under the state root, holding data: 0, or -1
 * (no message: the CLI needs no such file).
 */
static int write_temp(struct strbuf *path, const char *state_root, const struct strbuf *data)
{
	int fd;

	strbuf_addf(path, "%s/exec-XXXXXX", state_root);
	fd = mkstemp(path->buf);
	if (fd < 0) {
		strbuf_reset(path);
		return -1;
	}
	if ((data->len && write(fd, data->buf, data->len) != (ssize_t)data->len) || close(fd) < 0) {
		unlink(path->buf);
		strbuf_reset(path);
		return -1;
	}
	return 0;
}

/*
 * Whether the runtime failed itself (then its log has an error, and it
 * exited 255, which a command may too), before the command ran: podman's
 * status for the same failure into *status.
 */
static int runtime_failed(const char *log, int *status)
{
	struct strbuf text = STRBUF_INIT;
	int ret = 0;

	if (read_bounded(&text, log, SMALL_MAX, 0) < 0 || !strstr(text.buf, "\"level\":\"error\""))
		goto done;
	ret = 1;
	if (strstr(text.buf, "executable file not found") ||
	    strstr(text.buf, "no such file or directory"))
		*status = 127;
	else if (strstr(text.buf, "permission denied"))
		*status = 126;
	else
		*status = -1;
done:
	strbuf_release(&text);
	return ret;
}

static int dir_exists(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

int oci_storage_load(struct oci_storage *out, const char *program, const char *state_root)
{
	struct oci_info in = { 0 };
	struct strbuf podman = STRBUF_INIT;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (strcmp(program, "podman") || !find_in_path(program, &podman) ||
	    cached_info(&in, state_root, podman.buf) < 0 || !in.usable || !dir_exists(in.root))
		goto done;
	out->root = xstrdup(in.root);
	out->graphroot = xstrdup(in.graphroot);
	out->driver = xstrdup(in.driver);
	out->transient = in.transient;
	ret = 0;
done:
	oci_info_clear(&in);
	strbuf_release(&podman);
	return ret;
}

int oci_container_stopped(const struct oci_storage *os, const char *ctr)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	if (!os->root || !full_id(ctr))
		goto done;
	strbuf_addf(&path, "%s/%s", os->root, ctr);
	if (access(path.buf, F_OK) == 0 || errno != ENOENT)
		goto done;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s-containers/%s/userdata", os->graphroot, os->driver, ctr);
	ret = dir_exists(path.buf);
done:
	strbuf_release(&path);
	return ret;
}

/*
 * One of the storage's lists of containers (name) into os->known: 0, or
 * -1 (no message); a list that is not there is empty where optional.
 */
static int storage_list_read(struct oci_storage *os, const char *name, int optional)
{
	struct strbuf path = STRBUF_INIT, json = STRBUF_INIT;
	cJSON *root = NULL, *c;
	int ret = -1;

	strbuf_addf(&path, "%s/%s-containers/%s", os->graphroot, os->driver, name);
	if (read_bounded(&json, path.buf, CONFIG_MAX, 1) < 0) {
		ret = optional && errno == ENOENT ? 0 : -1;
		goto done;
	}
	root = cJSON_Parse(json.buf);
	if (!cJSON_IsArray(root))
		goto done;
	cJSON_ArrayForEach(c, root) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
		const cJSON *names = cJSON_GetObjectItemCaseSensitive(c, "names"), *n;

		if (!cJSON_IsString(id) || (names && !cJSON_IsArray(names)))
			goto done;
		string_list_append(&os->known, id->valuestring);
		cJSON_ArrayForEach(n, names) {
			if (!cJSON_IsString(n))
				goto done;
			string_list_append(&os->known, n->valuestring);
		}
	}
	ret = 0;
done:
	cJSON_Delete(root);
	strbuf_release(&json);
	strbuf_release(&path);
	return ret;
}

/*
 * Read podman's lists of its storage's containers into os->known, once:
 * containers.json, and volatile-containers.json where podman 4.4 on
 * keeps those it need not keep across a reboot (--rm). Lists that
 * cannot be read whole tell nothing: 0, or -1 (no message).
 */
static int storage_list(struct oci_storage *os)
{
	if (!os->listed && os->root && !os->transient)
		os->listed = storage_list_read(os, "containers.json", 0) < 0 ||
			     storage_list_read(os, "volatile-containers.json", 1) < 0 ? -1 : 1;
	if (os->listed < 0)
		string_list_clear(&os->known);
	return os->listed > 0 ? 0 : -1;
}

int oci_container_gone(struct oci_storage *os, const char *ctr, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	if ((ctr && !full_id(ctr)) || storage_list(os) < 0)
		goto done;
	if (ctr) {
		/* Nor any state of it in its runtime's (a running one has). */
		strbuf_addf(&path, "%s/%s", os->root, ctr);
		if (access(path.buf, F_OK) == 0 || errno != ENOENT ||
		    string_list_find(&os->known, ctr) >= 0)
			goto done;
	}
	ret = string_list_find(&os->known, name) < 0;
done:
	strbuf_release(&path);
	return ret;
}

void oci_storage_clear(struct oci_storage *os)
{
	free(os->root);
	free(os->graphroot);
	free(os->driver);
	string_list_clear(&os->known);
	memset(os, 0, sizeof(*os));
}

#ifdef __linux__
static int same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The directory is ours and no one else may write in it. */
static int own_dir(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & 022);
}

/*
 * Rootless: podman's pause process, named by pause.pid in podman's
 * runtime dir. Its user and mount namespaces into fds, once they are
 * those podman runs the runtime in:
 *
 * - a user namespace this user made, whose parent is ours: not ours,
 *   and not a keep-id container's (a level further down);
 * - our pid and network namespaces, which podman's pause process keeps
 *   and a container's process (even a runtime's, before its pivot_root)
 *   does not;
 * - a mount namespace of that user namespace, whose root is ours and
 *   where the state root (where the runtime's files are) is ours: not a
 *   container's, whose files are the sandbox's (the child that enters
 *   it checks its root again: run.c's enter_ns);
 * - all of one process: it is still there once they are open (pid_t
 *   numbers are reused).
 *
 * 0, or -1 (no message; fds closed).
 */
static int open_podman_ns(const struct oci_info *in, const char *state_root, int fds[2])
{
	struct strbuf path = STRBUF_INIT, pid = STRBUF_INIT;
	int self = -1, parent = -1, owner_ns = -1, pidfd = -1, ret = -1;
	char *real_root = realpath(state_root, NULL);
	uid_t owner;
	long n;

	if (!real_root || !own_dir(in->rundir))
		goto done;
	strbuf_addf(&path, "%s/libpod/tmp/pause.pid", in->rundir);
	if (read_bounded(&pid, path.buf, 64, 1) < 0)
		goto done;
	strbuf_trim(&pid);
	if (!pid.len || pid.len > 9 || strspn(pid.buf, "0123456789") != pid.len ||
	    (n = atol(pid.buf)) < 2)
		goto done;
	pidfd = pidfd_open((pid_t)n, 0);
	if (pidfd < 0)
		goto done;
	strbuf_reset(&path);
	strbuf_addf(&path, "/proc/%s/ns/user", pid.buf);
	fds[0] = open(path.buf, O_RDONLY | O_CLOEXEC);
	strbuf_reset(&path);
	strbuf_addf(&path, "/proc/%s/ns/mnt", pid.buf);
	fds[1] = open(path.buf, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0 || self < 0)
		goto done;
	if (ioctl(fds[0], NS_GET_OWNER_UID, &owner) < 0 || owner != geteuid())
		goto done;
	parent = ioctl(fds[0], NS_GET_PARENT);
	owner_ns = ioctl(fds[1], NS_GET_USERNS);
	if (parent < 0 || !same_file(parent, self) || owner_ns < 0 || !same_file(owner_ns, fds[0]) ||
	    !path_ns_is_ours(n, "pid") || !path_ns_is_ours(n, "net"))
		goto done;
	strbuf_reset(&path);
	strbuf_addf(&path, "/proc/%s/root", pid.buf);
	if (!path_same_file(path.buf, "/"))
		goto done;
	strbuf_addstr(&path, real_root);
	if (!path_same_file(path.buf, real_root))
		goto done;
	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
		goto done;
	ret = 0;
done:
	if (ret < 0) {
		close_fd(&fds[0]);
		close_fd(&fds[1]);
	}
	close_fd(&owner_ns);
	close_fd(&parent);
	close_fd(&self);
	close_fd(&pidfd);
	free(real_root);
	strbuf_release(&path);
	strbuf_release(&pid);
	return ret;
}

#endif

size_t oci_cgroup_common(const char *a, const char *b)
{
	size_t common = 0;

	for (size_t i = 0;; i++) {
		int end_a = !a[i] || a[i] == '\n', end_b = !b[i] || b[i] == '\n';

		if ((end_a || a[i] == '/') && (end_b || b[i] == '/'))
			common = i;
		if (end_a || end_b || a[i] != b[i])
			return common;
	}
}

#ifdef __linux__
/* The mount point of the cgroup v2 hierarchy that holds path, or NULL. */
static const char *cgroup2_mount(const char *path)
{
	static const char *const mounts[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct statfs fs;

	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		const char *rest;

		if (skip_prefix(path, mounts[i], &rest) && *rest == '/' &&
		    !statfs(mounts[i], &fs) && fs.f_type == CGROUP2_SUPER_MAGIC)
			return mounts[i];
	}
	return NULL;
}

/* Whether text, lines of numbers, has pid as one of them. */
static int lists_pid(const char *text, long pid)
{
	char *end;

	while (*text) {
		long n = strtol(text, &end, 10);

		if (end != text && (*end == '\n' || !*end) && n == pid)
			return 1;
		text = strchrnul(text, '\n');
		if (*text)
			text++;
	}
	return 0;
}

/*
 * Our cgroup v2 path, from /proc/self/cgroup's "0::" line, into out, if
 * it is the path below mnt (a cgroup namespace of our own shows another
 * root): its cgroup.procs lists us. 0, or -1.
 */
static int own_cgroup(struct strbuf *out, const char *mnt)
{
	struct strbuf text = STRBUF_INIT, procs = STRBUF_INIT;
	const char *line;
	int ret = -1;

	if (read_bounded(&text, "/proc/self/cgroup", SMALL_MAX, 0) < 0)
		goto done;
	for (line = text.buf; *line;) {
		const char *end = strchrnul(line, '\n');

		if (starts_with(line, "0::/")) {
			strbuf_add(out, line + 3, (size_t)(end - line - 3));
			break;
		}
		line = *end ? end + 1 : end;
	}
	if (!out->len || strstr(out->buf, "/../"))
		goto done;
	strbuf_addf(&procs, "%s%s/cgroup.procs", mnt, out->buf);
	strbuf_reset(&text);
	if (read_bounded(&text, procs.buf, CONFIG_MAX, 0) < 0 || !lists_pid(text.buf, (long)getpid()))
		goto done;
	ret = 0;
done:
	if (ret < 0)
		strbuf_reset(out);
	strbuf_release(&text);
	strbuf_release(&procs);
	return ret;
}

/*
 * Rootless, cgroup v2: whether the runtime, run from here, can put the
 * command in the container's cgroup, as podman's can (it moves its
 * conmon into a systemd scope of the user's first). Moving a process
 * takes write access to cgroup.procs in the cgroup it goes to and in the
 * closest one holding both that and ours. From the runtime's state of
 * the container (runc's state.json, the user's file):
 *
 * - no cgroup v2 path there, or none made (on cgroup v1 a rootless
 *   container has none): nothing to put the command in;
 * - else both cgroup.procs writable by us.
 *
 * 1, or 0 (the CLI), also where the state cannot be read: crun keeps no
 * state.json, so its rootless containers take the CLI.
 */
static int cgroup_reachable(const struct oci_info *in, const char *ctr)
{
	struct strbuf path = STRBUF_INIT, state = STRBUF_INIT, ours = STRBUF_INIT;
	cJSON *json = NULL;
	const cJSON *paths;
	const char *theirs, *mnt;
	struct stat st;
	int ret = 0;

	strbuf_addf(&path, "%s/%s/state.json", in->root, ctr);
	if (read_bounded(&state, path.buf, CONFIG_MAX, 1) < 0)
		goto done;
	json = cJSON_Parse(state.buf);
	if (!cJSON_IsObject(json))
		goto done;
	paths = cJSON_GetObjectItemCaseSensitive(json, "cgroup_paths");
	if (paths && !cJSON_IsObject(paths))
		goto done;
	theirs = paths ? json_str(paths, "") : NULL;
	/* runc's view of the hierarchy, which is ours: it runs from here. */
	if (!theirs) {
		ret = 1;
		goto done;
	}
	if (lstat(theirs, &st) < 0) {
		ret = errno == ENOENT;
		goto done;
	}
	if (!S_ISDIR(st.st_mode) || !(mnt = cgroup2_mount(theirs)) || strstr(theirs, "/../") ||
	    own_cgroup(&ours, mnt) < 0)
		goto done;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/cgroup.procs", theirs);
	if (access(path.buf, W_OK) < 0)
		goto done;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s%.*s/cgroup.procs", mnt,
		    (int)oci_cgroup_common(theirs + strlen(mnt), ours.buf), ours.buf);
	ret = !access(path.buf, W_OK);
done:
	cJSON_Delete(json);
	strbuf_release(&path);
	strbuf_release(&state);
	strbuf_release(&ours);
	return ret;
}
#else
static int open_podman_ns(const struct oci_info *in, const char *state_root, int fds[2])
{
	(void)in;
	(void)state_root;
	(void)fds;
	return -1;
}

static int cgroup_reachable(const struct oci_info *in, const char *ctr)
{
	(void)in;
	(void)ctr;
	return 0;
}
#endif

/* Run c in podman's namespaces, as x holds them (rootless), or as it is. */
static void in_podman_ns(struct child *c, const struct oci_exec_run *x)
{
	if (x->ns_fd[0] < 0)
		return;
	c->join_ns = 1;
	c->ns_user_fd = x->ns_fd[0];
	c->ns_mnt_fd = x->ns_fd[1];
}

/*
 * The container's config.json, root's file (rootful); rootless, read in
 * podman's namespaces, where its directory may be read, and owned there
 * by root. 0, or -1 (errno set, no message).
 */
static int read_config(struct strbuf *out, const char *path, const struct oci_exec_run *x)
{
	if (x->ns_fd[0] < 0)
		return read_bounded(out, path, CONFIG_MAX, 1);
	return run_read_in_ns(x->ns_fd[0], x->ns_fd[1], path, CONFIG_MAX, out);
}

int oci_exec_prepare(struct oci_exec_run *x, struct runtime *rt, const char *state_root,
		     const char *ctr, const struct exec_opts *o, const char *const *cmd,
		     struct child *c)
{
	struct oci_info in = { 0 };
	struct strbuf path = STRBUF_INIT, config = STRBUF_INIT, spec = STRBUF_INIT;
	struct strbuf empty = STRBUF_INIT;
	struct oci_keep_id keep_id = { getuid(), getgid() };
	int ret = OCI_EXEC_USE_CLI;

	strbuf_init(&x->spec_file, 0);
	strbuf_init(&x->log_file, 0);
	strbuf_init(&x->pid_file, 0);
	x->ns_fd[0] = x->ns_fd[1] = -1;
	if (!state_root || strcmp(rt->ops->name, "podman") || rt->ssh || !run_can_adopt() ||
	    o->tty || o->detach || o->user || (o->env && o->env->nr) || !full_id(ctr))
		goto done;
	if (load_info(rt, state_root, &in) < 0 || !in.usable || in.rootless != (geteuid() != 0))
		goto done;
	if (in.rootless && open_podman_ns(&in, state_root, x->ns_fd) < 0)
		goto done;
	/* The runtime, its state and the container's files: else ask podman again. */
	strbuf_addf(&path, "%s/%s", in.root, ctr);
	if (access(in.path, X_OK) < 0 || !dir_exists(path.buf)) {
		drop_cache(state_root);
		goto done;
	}
	if (in.rootless && !cgroup_reachable(&in, ctr))
		goto done;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s-containers/%s/userdata/config.json", in.graphroot, in.driver,
		    ctr);
	errno = 0;
	if (read_config(&config, path.buf, x) < 0) {
		if (errno == ENOENT)
			drop_cache(state_root);
		goto done;
	}
	if (oci_exec_process(&spec, config.buf, o->workdir, cmd, in.rootless ? &keep_id : NULL) < 0)
		goto done;
	if (write_temp(&x->spec_file, state_root, &spec) < 0 ||
	    write_temp(&x->log_file, state_root, &empty) < 0 ||
	    write_temp(&x->pid_file, state_root, &empty) < 0)
		goto done;
	/*
	 * As conmon runs it: detached, so that the runtime is gone once the
	 * command runs (it would wait for whatever the command leaves
	 * running to close its output), and we, its parent by adoption, wait
	 * for the command itself.
	 */
	argv_pushl(&c->args, in.path, "--root", in.root, "--log", x->log_file.buf,
		   "--log-format", "json", "exec", "--detach", "--pid-file", x->pid_file.buf,
		   "--process", x->spec_file.buf, ctr, NULL);
	c->adopt_pid_file = x->pid_file.buf;
	in_podman_ns(c, x);
	ret = 0;
done:
	if (ret)
		oci_exec_finish(x, rt, 0);
	oci_info_clear(&in);
	strbuf_release(&path);
	strbuf_release(&config);
	strbuf_release(&spec);
	return ret;
}

int oci_exec_finish(struct oci_exec_run *x, struct runtime *rt, int status)
{
	if (status == 255 && x->log_file.len && runtime_failed(x->log_file.buf, &status) &&
	    status < 0)
		/*
		 * It said why on stderr; the command did not run. As podman
		 * would have: its status for its own errors.
		 */
		status = rt->ops->own_error_status;
	if (x->spec_file.len)
		unlink(x->spec_file.buf);
	if (x->log_file.len)
		unlink(x->log_file.buf);
	if (x->pid_file.len)
		unlink(x->pid_file.buf);
	strbuf_release(&x->spec_file);
	strbuf_release(&x->log_file);
	strbuf_release(&x->pid_file);
	close_fd(&x->ns_fd[0]);
	close_fd(&x->ns_fd[1]);
	return status;
}

int oci_exec(struct runtime *rt, const char *state_root, const char *ctr,
	     const struct exec_opts *o, const char *const *cmd)
{
	struct oci_exec_run x;
	struct child c = CHILD_INIT;
	int ret;

	/* Input from a buffer is the CLI's. */
	if (o->in)
		return OCI_EXEC_USE_CLI;
	ret = oci_exec_prepare(&x, rt, state_root, ctr, o, cmd, &c);
	if (ret)
		goto done;
	/*
	 * Our streams copied through pipes, as conmon does for podman exec:
	 * the command never holds our terminal, nor, once it has exited,
	 * what it started in the background any pipe of ours.
	 */
	c.relay = 1;
	c.no_stdin = !o->interactive;
	ret = oci_exec_finish(&x, rt, run_child(&c));
done:
	child_clear(&c);
	return ret;
}

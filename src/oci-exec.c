/*
 * exec straight to the OCI runtime. "podman exec" starts podman (tens of
 * milliseconds of its own start-up), a conmon to hold the exec session,
 * then runc or crun, and a "podman exec cleanup" after; the runtime's own
 * exec costs about half of that. For a container of rootful podman whose
 * runtime is runc or crun, we run
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
 * podman is asked about itself (podman info) once, and what it said is
 * kept in <state root>/oci-runtime.json, with what it depends on (which
 * podman, CONTAINERS_CONF, CONTAINERS_STORAGE_CONF). A record naming
 * what is gone (the runtime, its state root, a container's files) is
 * dropped: that exec takes the CLI, the next asks podman again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "msg.h"
#include "oci-exec.h"
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
	int usable;		/* rootful, runc or crun */
	char *runtime;		/* "runc", "crun" */
	char *path;		/* its binary */
	char *root;		/* its state root */
	char *graphroot;	/* podman's storage */
	char *driver;		/* its driver: "overlay" */
};

static void oci_info_clear(struct oci_info *in)
{
	free(in->podman);
	free(in->conf);
	free(in->storage_conf);
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

/*
 * A whole file of at most max bytes, not through a symbolic link; with
 * root_owned, only one root owns. 0, or -1 (errno set; EFBIG over max).
 */
static int read_bounded(struct strbuf *out, const char *path, size_t max, int root_owned)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto done;
	if (!S_ISREG(st.st_mode) || (root_owned && st.st_uid != 0)) {
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
 * rootless, its storage. The runtime's state root is its own default for
 * root, where podman (which passes no --root) leaves it.
 */
static int parse_info(struct oci_info *in, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *host, *store, *rt, *sec, *rootless;
	int ret = -1;

	if (!cJSON_IsObject(root))
		goto done;
	host = cJSON_GetObjectItemCaseSensitive(root, "host");
	store = cJSON_GetObjectItemCaseSensitive(root, "store");
	rt = cJSON_IsObject(host) ? cJSON_GetObjectItemCaseSensitive(host, "ociRuntime") : NULL;
	sec = cJSON_IsObject(host) ? cJSON_GetObjectItemCaseSensitive(host, "security") : NULL;
	rootless = cJSON_IsObject(sec) ? cJSON_GetObjectItemCaseSensitive(sec, "rootless") : NULL;
	in->runtime = json_dup(rt, "name");
	in->path = json_dup(rt, "path");
	in->graphroot = json_dup(store, "graphRoot");
	in->driver = json_dup(store, "graphDriverName");
	if (!cJSON_IsBool(rootless) || !in->runtime)
		goto done;
	ret = 0;
	in->usable = cJSON_IsFalse(rootless) && absolute_path(in->path) &&
		     absolute_path(in->graphroot) && plain_name(in->driver);
	if (!strcmp(in->runtime, "runc"))
		in->root = xstrdup("/run/runc");
	else if (!strcmp(in->runtime, "crun"))
		in->root = xstrdup("/run/crun");
	else
		in->usable = 0;
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
	in->usable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "usable"));
	in->runtime = json_dup(root, "runtime");
	in->path = json_dup(root, "path");
	in->root = json_dup(root, "root");
	in->graphroot = json_dup(root, "graphroot");
	in->driver = json_dup(root, "driver");
	if (!in->podman || !in->conf || !in->storage_conf)
		goto done;
	if (in->usable && !(absolute_path(in->path) && absolute_path(in->root) &&
			    absolute_path(in->graphroot) && plain_name(in->driver)))
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
	cJSON_AddBoolToObject(root, "usable", in->usable);
	if (in->usable) {
		cJSON_AddStringToObject(root, "runtime", in->runtime);
		cJSON_AddStringToObject(root, "path", in->path);
		cJSON_AddStringToObject(root, "root", in->root);
		cJSON_AddStringToObject(root, "graphroot", in->graphroot);
		cJSON_AddStringToObject(root, "driver", in->driver);
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

/* Ask podman (podman info): 0, or -1 when it would not say (no message). */
static int probe_info(struct runtime *rt, struct oci_info *in)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int ret = -1;

	rt_child_init(rt, &c, "info");
	argv_pushl(&c.args, "--format", "json", NULL);
	c.max_out = SMALL_MAX;
	if (rt_run(rt, &c, &out, &err) == 0 && parse_info(in, out.buf) == 0)
		ret = 0;
	strbuf_release(&out);
	strbuf_release(&err);
	child_clear(&c);
	return ret;
}

/*
 * The record kept, if it was said by the podman at podman (its path)
 * with the settings of now: 0, or -1 (in cleared).
 */
static int cached_info(struct oci_info *in, const char *state_root, const char *podman)
{
	if (read_cache(in, state_root) < 0)
		return -1;
	if (!strcmp(in->podman, podman) && !strcmp(in->conf, env_or_empty("CONTAINERS_CONF")) &&
	    !strcmp(in->storage_conf, env_or_empty("CONTAINERS_STORAGE_CONF")))
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
	in->podman = strbuf_detach(&podman, NULL);
	in->conf = xstrdup(conf);
	in->storage_conf = xstrdup(storage_conf);
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

/*
 * As podman's exec builds it (libpod, prepareProcessExec): a copy of the
 * container's process with our command and directory, no terminal; the
 * user as podman resolved it for the container (uid, gid, additional
 * groups: podman's exec sets no umask); the inheritable capabilities
 * dropped, as podman drops them. Only for root in the container with a
 * HOME in its environment: for any other user podman's exec works out
 * capabilities and HOME anew, which the CLI is left to do.
 */
int oci_exec_process(struct strbuf *out, const char *config_json, const char *workdir,
		     const char *const *cmd)
{
	cJSON *root = cJSON_Parse(config_json), *proc = NULL, *user, *uid, *env, *it, *caps, *args;
	char *json = NULL;
	int has_home = 0, ret = -1, n = 0;

	if (!cJSON_IsObject(root))
		goto done;
	proc = cJSON_DetachItemFromObjectCaseSensitive(root, "process");
	if (!cJSON_IsObject(proc))
		goto done;
	user = cJSON_GetObjectItemCaseSensitive(proc, "user");
	uid = cJSON_IsObject(user) ? cJSON_GetObjectItemCaseSensitive(user, "uid") : NULL;
	if (!cJSON_IsNumber(uid) || uid->valuedouble != 0)
		goto done;
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(user, "gid")))
		goto done;
	cJSON_DeleteItemFromObjectCaseSensitive(user, "umask");
	cJSON_DeleteItemFromObjectCaseSensitive(user, "username");
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
	cJSON_DeleteItemFromObjectCaseSensitive(caps, "inheritable");
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
	if (strcmp(program, "podman") || geteuid() != 0 || !find_in_path(program, &podman) ||
	    cached_info(&in, state_root, podman.buf) < 0 || !in.usable || !dir_exists(in.root))
		goto done;
	out->root = xstrdup(in.root);
	out->graphroot = xstrdup(in.graphroot);
	out->driver = xstrdup(in.driver);
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

void oci_storage_clear(struct oci_storage *os)
{
	free(os->root);
	free(os->graphroot);
	free(os->driver);
	memset(os, 0, sizeof(*os));
}

int oci_exec_prepare(struct oci_exec_run *x, struct runtime *rt, const char *state_root,
		     const char *ctr, const struct exec_opts *o, const char *const *cmd,
		     struct child *c)
{
	struct oci_info in = { 0 };
	struct strbuf path = STRBUF_INIT, config = STRBUF_INIT, spec = STRBUF_INIT;
	struct strbuf empty = STRBUF_INIT;
	int ret = OCI_EXEC_USE_CLI;

	strbuf_init(&x->spec_file, 0);
	strbuf_init(&x->log_file, 0);
	strbuf_init(&x->pid_file, 0);
	if (!state_root || strcmp(rt->ops->name, "podman") || rt->ssh || geteuid() != 0 ||
	    !run_can_adopt() ||
	    o->tty || o->detach || o->user || (o->env && o->env->nr) || !full_id(ctr))
		goto done;
	if (load_info(rt, state_root, &in) < 0 || !in.usable)
		goto done;
	/* The runtime, its state and the container's files: else ask podman again. */
	strbuf_addf(&path, "%s/%s", in.root, ctr);
	if (access(in.path, X_OK) < 0 || !dir_exists(path.buf)) {
		drop_cache(state_root);
		goto done;
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s-containers/%s/userdata/config.json", in.graphroot, in.driver,
		    ctr);
	if (read_bounded(&config, path.buf, CONFIG_MAX, 1) < 0) {
		if (errno == ENOENT)
			drop_cache(state_root);
		goto done;
	}
	if (oci_exec_process(&spec, config.buf, o->workdir, cmd) < 0)
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

/*
 * The podman and docker backends: one CLI family, so one implementation
 * with the few differences (listing format, flags for the user) keyed on
 * the flavour.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "docker-api.h"
#include "msg.h"
#include "ports.h"
#include "run.h"
#include "rt-cli.h"
#include "runtime.h"

static int is_docker(const struct runtime *rt)
{
	return !strcmp(rt->ops->name, "docker");
}

static int not_found_message(const struct strbuf *err)
{
	return strcasestr(err->buf, "no such container") ||
	       strcasestr(err->buf, "no container with name or id");
}

static int oci_create(struct runtime *rt, const struct container_spec *s, struct strbuf *id_out)
{
	struct child c = CHILD_INIT;

	if (runtime_user(rt) < 0)
		return -1;
	if (s->started && rt->ssh) {
		rt_child_init(rt, &c, "run");
		argv_push(&c.args, "--detach");
	} else {
		rt_child_init(rt, &c, "create");
	}
	argv_pushl(&c.args, "--name", s->name, "--hostname", s->hostname,
		   "--init", "--stop-timeout", "3", "--workdir", s->workdir, NULL);
	/*
	 * What no sandbox needs: device nodes (a /dev/zero planted in the
	 * clone), raw sockets, the audit log. See SECURITY in the manual.
	 */
	if (s->image_unchecked)
		argv_push(&c.args, "--pull=never");
	argv_pushl(&c.args, "--cap-drop=MKNOD", "--cap-drop=NET_RAW", "--cap-drop=AUDIT_WRITE",
		   NULL);
	for (size_t i = 0; i < s->nr_labels; i++)
		argv_pushf(&c.args, "--label=%s=%s", s->labels[i].key, s->labels[i].value);
	for (size_t i = 0; i < s->nr_binds; i++) {
		const struct bind *b = &s->binds[i];

		if (b->upper && is_docker(rt)) {
			child_clear(&c);
			return error("docker cannot mount an overlay workspace");
		}
		if (b->upper)
			argv_pushf(&c.args, "--volume=%s:%s:O,upperdir=%s,workdir=%s", b->src,
				   b->dst, b->upper, b->work);
		else
			argv_pushf(&c.args, "--volume=%s:%s%s", b->src, b->dst,
				   b->readonly ? ":ro" : "");
	}
	if (s->cpus)
		argv_pushf(&c.args, "--cpus=%s", s->cpus);
	if (s->memory)
		argv_pushf(&c.args, "--memory=%s", s->memory);
	if (s->network)
		argv_pushf(&c.args, "--network=%s", s->network);
	for (size_t i = 0; i < s->nr_ports; i++) {
		struct strbuf spec = STRBUF_INIT;

		port_map_format(&spec, &s->ports[i]);
		argv_pushf(&c.args, "--publish=%s", spec.buf);
		strbuf_release(&spec);
	}
	for (size_t i = 0; s->env_files && i < s->env_files->nr; i++)
		argv_pushf(&c.args, "--env-file=%s", s->env_files->items[i]);
	for (size_t i = 0; s->env && i < s->env->nr; i++)
		argv_pushf(&c.args, "--env=%s", s->env->items[i]);
	if (rt->uid != 0) {
		/*
		 * Files the sandbox writes must be the host user's. Rootless
		 * podman maps the user's uid into the container as itself;
		 * docker runs as root unless told which user to be.
		 */
		if (is_docker(rt))
			argv_pushf(&c.args, "--user=%lu:%lu", rt->uid, rt->gid);
		else
			argv_push(&c.args, "--userns=keep-id");
	}
	for (size_t i = 0; s->extra_args && i < s->extra_args->nr; i++)
		argv_push(&c.args, s->extra_args->items[i]);
	argv_push(&c.args, s->image);
	argv_pushv(&c.args, s->command);

	return rt_create_run(rt, &c, s, NULL, id_out);
}

static int oci_remove(struct runtime *rt, const char *ctr)
{
	const char *args[] = { "--force", ctr, NULL };
	return rt_simple(rt, "rm", args, 1);
}

static enum container_state parse_state(const char *s)
{
	if (!s)
		return CONTAINER_STOPPED;
	if (!strcasecmp(s, "running"))
		return CONTAINER_RUNNING;
	if (!strcasecmp(s, "created") || !strcasecmp(s, "configured") ||
	    !strcasecmp(s, "initialized"))
		return CONTAINER_CREATED;
	return CONTAINER_STOPPED;
}

int oci_parse_inspect(struct container_info *out, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *obj, *state, *config;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	obj = cJSON_IsArray(root) ? cJSON_GetArrayItem(root, 0) : NULL;
	if (!cJSON_IsObject(obj))
		goto done;
	state = cJSON_GetObjectItemCaseSensitive(obj, "State");
	config = cJSON_GetObjectItemCaseSensitive(obj, "Config");
	out->id = dup_or_null(json_str(obj, "Id"));
	out->name = dup_or_null(json_str(obj, "Name"));
	out->state = parse_state(cJSON_IsObject(state) ? json_str(state, "Status") : NULL);
	if (cJSON_IsObject(state)) {
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(state, "Pid");

		if (cJSON_IsNumber(pid) && pid->valuedouble > 0 && pid->valuedouble < 1e9)
			out->pid = (long)pid->valuedouble;
	}
	if (cJSON_IsObject(config))
		out->sandbox_id = label_value(cJSON_GetObjectItemCaseSensitive(config, "Labels"),
					      LABEL_ID);
	ret = out->id ? 0 : -1;
done:
	if (ret < 0)
		container_info_clear(out);
	cJSON_Delete(root);
	return ret;
}

static int oci_inspect(struct runtime *rt, const char *ctr, struct container_info *out)
{
	struct child c = CHILD_INIT;
	struct strbuf json = STRBUF_INIT;
	int ret;

	memset(out, 0, sizeof(*out));
	rt_child_init(rt, &c, "container");
	argv_pushl(&c.args, "inspect", ctr, NULL);
	ret = rt_run_output(rt, &c, "container inspect", 1, &json);
	if (!ret && oci_parse_inspect(out, json.buf) < 0)
		ret = error("%s container inspect printed unexpected output", rt->program);
	strbuf_release(&json);
	return ret;
}

static void add_listed(const cJSON *obj, struct container_info **list, size_t *nr,
		       size_t *alloc)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(obj, "Names");
	const char *id = json_str(obj, "Id");
	struct container_info *ci;

	if (!id)
		id = json_str(obj, "ID");
	if (!id)
		return;
	ALLOC_GROW(*list, *nr + 1, *alloc);
	ci = &(*list)[(*nr)++];
	memset(ci, 0, sizeof(*ci));
	ci->id = xstrdup(id);
	if (cJSON_IsArray(names) && cJSON_IsString(cJSON_GetArrayItem(names, 0)))
		ci->name = xstrdup(cJSON_GetArrayItem(names, 0)->valuestring);
	else if (cJSON_IsString(names))
		ci->name = xstrdup(names->valuestring);
	ci->state = parse_state(json_str(obj, "State"));
	{
		/* podman's ps says PID 1's pid (docker's does not). */
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(obj, "Pid");

		if (ci->state == CONTAINER_RUNNING && cJSON_IsNumber(pid) &&
		    pid->valuedouble > 0 && pid->valuedouble < 1e9)
			ci->pid = (long)pid->valuedouble;
	}
	ci->sandbox_id = label_value(cJSON_GetObjectItemCaseSensitive(obj, "Labels"), LABEL_ID);
	ci->home = label_value(cJSON_GetObjectItemCaseSensitive(obj, "Labels"), LABEL_HOME);
}

int oci_parse_list(struct container_info **out, size_t *nr, const char *json, int docker)
{
	struct container_info *list = NULL;
	size_t n = 0, alloc = 0;

	*out = NULL;
	*nr = 0;
	if (docker) {
		/* docker: one JSON object per line. */
		for (const char *line = json; *line; ) {
			const char *end = strchrnul(line, '\n');
			char *one = xstrndup(line, (size_t)(end - line));
			cJSON *obj = cJSON_Parse(one);

			if (cJSON_IsObject(obj))
				add_listed(obj, &list, &n, &alloc);
			cJSON_Delete(obj);
			free(one);
			line = *end ? end + 1 : end;
		}
	} else {
		/* podman: one JSON array. */
		cJSON *root = cJSON_Parse(json), *it;

		if (!cJSON_IsArray(root)) {
			cJSON_Delete(root);
			return -1;
		}
		cJSON_ArrayForEach(it, root)
			if (cJSON_IsObject(it))
				add_listed(it, &list, &n, &alloc);
		cJSON_Delete(root);
	}
	*out = list;
	*nr = n;
	return 0;
}

static int oci_list(struct runtime *rt, const char *label_key,
		    struct container_info **out, size_t *nr)
{
	struct child c = CHILD_INIT;
	struct strbuf json = STRBUF_INIT;
	int ret;

	*out = NULL;
	*nr = 0;
	rt_child_init(rt, &c, "ps");
	argv_pushl(&c.args, "--all", "--no-trunc", NULL);
	argv_pushf(&c.args, "--filter=label=%s", label_key);
	argv_push(&c.args, is_docker(rt) ? "--format={{json .}}" : "--format=json");
	ret = rt_run_output(rt, &c, "ps", 0, &json);
	if (!ret && oci_parse_list(out, nr, json.buf, is_docker(rt)) < 0)
		ret = error("%s ps printed unexpected output", rt->program);
	strbuf_release(&json);
	return ret;
}

static int oci_image_exists(struct runtime *rt, const char *image)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status;

	rt_child_init(rt, &c, "image");
	argv_pushl(&c.args, "inspect", "--format", "{{.Id}}", image, NULL);
	status = rt_run(rt, &c, &out, &err);
	/* Anything but "no such image" (a daemon down) is the runtime's failure. */
	if (status > 0 && !rt_image_missing(&err))
		status = rt_failed(rt, &c, "image inspect", status);
	strbuf_release(&out);
	strbuf_release(&err);
	child_clear(&c);
	if (status < 0)
		return -1;
	return status == 0;
}

static int oci_pull(struct runtime *rt, const char *image, int progress, struct strbuf *err)
{
	static const char *const verb[] = { "pull", NULL };
	return rt_pull(rt, verb, "--quiet", image, progress, err);
}

const struct runtime_ops podman_ops = {
	.name = "podman",
	.create = oci_create,
	.start = rt_start,
	.stop = rt_stop,
	.remove = oci_remove,
	.exec = rt_exec,
	.exec_capture = rt_exec_capture,
	.not_found = not_found_message,
	.own_error_status = 125,
	.inspect = oci_inspect,
	.list = oci_list,
	.image_exists = oci_image_exists,
	.pull = oci_pull,
	.build = rt_build,
};

/*
 * docker on this machine: exec, inspect and ps asked of the daemon
 * itself where that reaches the daemon the CLI would (docker-api.h),
 * else the CLI's. Over SSH, always the CLI there.
 */
static int docker_exec_io(struct runtime *rt, const char *ctr, const struct exec_opts *o,
			  const char *const *cmd, struct child *io)
{
	return rt->ssh ? RUNTIME_USE_CLI : docker_api_exec(ctr, o, cmd, io);
}

static int docker_exec(struct runtime *rt, const char *ctr, const struct exec_opts *o,
		       const char *const *cmd)
{
	struct child c = CHILD_INIT;
	int ret;

	if (o && o->in) {
		c.in = o->in;
		c.in_len = o->in_len;
	}
	c.no_stdin = !o || !o->interactive;
	c.foreground = 1;
	ret = docker_exec_io(rt, ctr, o, cmd, &c);
	if (ret == RUNTIME_USE_CLI)
		ret = rt_exec(rt, ctr, o, cmd);
	return ret;
}

static int docker_exec_capture(struct runtime *rt, const char *ctr, const struct exec_opts *o,
			       const char *const *cmd, struct strbuf *out)
{
	struct exec_opts only = { 0 };
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret;

	/* As rt_exec_capture: of o, only the user and directory; stderr dropped. */
	if (o) {
		only.user = o->user;
		only.workdir = o->workdir;
	}
	c.out = out;
	c.err = &err;
	c.no_stdin = 1;
	ret = docker_exec_io(rt, ctr, &only, cmd, &c);
	strbuf_release(&err);
	if (ret == RUNTIME_USE_CLI)
		ret = rt_exec_capture(rt, ctr, o, cmd, out);
	return ret;
}

static int docker_inspect(struct runtime *rt, const char *ctr, struct container_info *out)
{
	int ret = rt->ssh ? RUNTIME_USE_CLI : docker_api_inspect(ctr, out);

	return ret == RUNTIME_USE_CLI ? oci_inspect(rt, ctr, out) : ret;
}

static int docker_list(struct runtime *rt, const char *label_key,
		       struct container_info **out, size_t *nr)
{
	int ret = rt->ssh ? RUNTIME_USE_CLI : docker_api_list(label_key, out, nr);

	return ret == RUNTIME_USE_CLI ? oci_list(rt, label_key, out, nr) : ret;
}

const struct runtime_ops docker_ops = {
	.name = "docker",
	.create = oci_create,
	.start = rt_start,
	.stop = rt_stop,
	.remove = oci_remove,
	.exec = docker_exec,
	.exec_capture = docker_exec_capture,
	.exec_io = docker_exec_io,
	.not_found = not_found_message,
	.own_error_status = 125,
	.inspect = docker_inspect,
	.list = docker_list,
	.image_exists = oci_image_exists,
	.pull = oci_pull,
	.build = rt_build,
};

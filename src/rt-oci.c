/*
 * The podman and docker backends: one CLI family, so one implementation
 * with the few differences (listing format, flags for the user) keyed on
 * the flavour.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "msg.h"
#include "run.h"
#include "rt-cli.h"
#include "runtime.h"

static int is_docker(const struct runtime *rt)
{
	return !strcmp(rt->ops->name, "docker");
}

/* Report a failed runtime command with the last line(s) of its stderr. */
int rt_failed(struct runtime *rt, struct child *c, const char *verb, int status)
{
	struct strbuf how = STRBUF_INIT;
	int ret;

	if (c->err && c->err->len) {
		strbuf_trim(c->err);
		ret = error("%s %s failed: %s", rt->program, verb, c->err->buf);
	} else {
		if (status >= 0)
			child_describe(c, &how);
		else
			strbuf_addstr(&how, "could not run");
		ret = error("%s %s failed: %s", rt->program, verb, how.buf);
	}
	strbuf_release(&how);
	return ret;
}

static int not_found_message(const struct strbuf *err)
{
	return strcasestr(err->buf, "no such container") ||
	       strcasestr(err->buf, "no container with name or id");
}

/*
 * Run "<program> <args>" capturing stdout (into out, when given) and
 * stderr. Returns the exit status, or -1 if it could not run.
 */
int rt_run(struct runtime *rt, struct child *c, struct strbuf *out, struct strbuf *err)
{
	c->out = out;
	c->err = err;
	c->no_stdin = 1;
	return run_child(c);
}

void rt_child_init(struct runtime *rt, struct child *c, const char *verb)
{
	argv_push(&c->args, rt->program);
	argv_push(&c->args, verb);
}

static int oci_create(struct runtime *rt, const struct container_spec *s, struct strbuf *id_out)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status, ret = -1;

	rt_child_init(rt, &c, "create");
	argv_pushl(&c.args, "--name", s->name, "--hostname", s->hostname,
		   "--init", "--stop-timeout", "3", "--workdir", s->workdir, NULL);
	for (size_t i = 0; i < s->nr_labels; i++)
		argv_pushf(&c.args, "--label=%s=%s", s->labels[i].key, s->labels[i].value);
	for (size_t i = 0; i < s->nr_binds; i++)
		argv_pushf(&c.args, "--volume=%s:%s%s", s->binds[i].src, s->binds[i].dst,
			   s->binds[i].readonly ? ":ro" : "");
	if (s->cpus)
		argv_pushf(&c.args, "--cpus=%s", s->cpus);
	if (s->memory)
		argv_pushf(&c.args, "--memory=%s", s->memory);
	if (s->network)
		argv_pushf(&c.args, "--network=%s", s->network);
	for (size_t i = 0; s->env_files && i < s->env_files->nr; i++)
		argv_pushf(&c.args, "--env-file=%s", s->env_files->items[i]);
	if (getuid() != 0) {
		/*
		 * Files the sandbox writes must be the host user's. Rootless
		 * podman maps the user's uid into the container as itself;
		 * docker runs as root unless told which user to be.
		 */
		if (is_docker(rt))
			argv_pushf(&c.args, "--user=%u:%u", (unsigned)getuid(), (unsigned)getgid());
		else
			argv_push(&c.args, "--userns=keep-id");
	}
	argv_push(&c.args, s->image);
	argv_pushv(&c.args, s->command);

	status = rt_run(rt, &c, &out, &err);
	if (status != 0) {
		rt_failed(rt, &c, "create", status);
		goto done;
	}
	strbuf_trim(&out);
	/* The id is the last line (docker may print warnings first). */
	{
		const char *nl = strrchr(out.buf, '\n');
		const char *id = nl ? nl + 1 : out.buf;

		for (const char *p = id; *p; p++)
			if (!isxdigit((unsigned char)*p)) {
				error("%s create printed an unexpected id '%s'", rt->program, id);
				goto done;
			}
		if (!*id) {
			error("%s create printed no container id", rt->program);
			goto done;
		}
		strbuf_reset(id_out);
		strbuf_addstr(id_out, id);
	}
	ret = 0;
done:
	strbuf_release(&out);
	strbuf_release(&err);
	child_clear(&c);
	return ret;
}

static int simple(struct runtime *rt, const char *verb, const char *const *args,
		  int missing_ok)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status, ret = 0;

	rt_child_init(rt, &c, verb);
	argv_pushv(&c.args, args);
	status = rt_run(rt, &c, &out, &err);
	if (status != 0) {
		if (status > 0 && not_found_message(&err))
			ret = missing_ok ? 0 : error("container '%s' does not exist",
						      c.args.v[c.args.nr - 1]);
		else
			ret = rt_failed(rt, &c, verb, status);
	}
	strbuf_release(&out);
	strbuf_release(&err);
	child_clear(&c);
	return ret;
}

static int oci_start(struct runtime *rt, const char *ctr)
{
	const char *args[] = { ctr, NULL };
	return simple(rt, "start", args, 0);
}

static int oci_stop(struct runtime *rt, const char *ctr)
{
	const char *args[] = { "--time", "3", ctr, NULL };
	return simple(rt, "stop", args, 0);
}

static int oci_remove(struct runtime *rt, const char *ctr)
{
	const char *args[] = { "--force", ctr, NULL };
	return simple(rt, "rm", args, 1);
}

static void exec_args(struct runtime *rt, struct child *c, const char *ctr,
		      const struct exec_opts *o, const char *const *cmd)
{
	rt_child_init(rt, c, "exec");
	if (o && o->interactive)
		argv_push(&c->args, "--interactive");
	if (o && o->tty)
		argv_push(&c->args, "--tty");
	if (o && o->workdir)
		argv_pushf(&c->args, "--workdir=%s", o->workdir);
	if (o && o->user)
		argv_pushf(&c->args, "--user=%s", o->user);
	for (size_t i = 0; o && o->env && i < o->env->nr; i++)
		argv_pushf(&c->args, "--env=%s", o->env->items[i]);
	argv_push(&c->args, ctr);
	argv_pushv(&c->args, cmd);
}

static int oci_exec(struct runtime *rt, const char *ctr, const struct exec_opts *o,
		    const char *const *cmd)
{
	struct child c = CHILD_INIT;
	int status;

	exec_args(rt, &c, ctr, o, cmd);
	c.foreground = 1;
	if (!o || !o->interactive)
		c.no_stdin = 1;
	status = run_child(&c);
	child_clear(&c);
	return status;
}

static int oci_exec_capture(struct runtime *rt, const char *ctr, const char *const *cmd,
			    struct strbuf *out)
{
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	int status;

	exec_args(rt, &c, ctr, NULL, cmd);
	status = rt_run(rt, &c, out, &err);
	if (status < 0 || status == 125)
		status = rt_failed(rt, &c, "exec", status);
	strbuf_release(&err);
	child_clear(&c);
	return status;
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

const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A label's value from a JSON object of labels, or docker's "k=v,k=v". */
char *label_value(const cJSON *labels, const char *key)
{
	if (cJSON_IsObject(labels))
		return dup_or_null(json_str(labels, key));
	if (cJSON_IsString(labels)) {
		size_t klen = strlen(key);

		for (const char *p = labels->valuestring; p && *p; ) {
			const char *end = strchrnul(p, ',');

			if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=')
				return xstrndup(p + klen + 1, (size_t)(end - p) - klen - 1);
			p = *end ? end + 1 : end;
		}
	}
	return NULL;
}

int oci_parse_inspect(const char *json, struct container_info *out)
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
	struct strbuf json = STRBUF_INIT, err = STRBUF_INIT;
	int status, ret = -1;

	memset(out, 0, sizeof(*out));
	rt_child_init(rt, &c, "container");
	argv_pushl(&c.args, "inspect", ctr, NULL);
	status = rt_run(rt, &c, &json, &err);
	if (status > 0 && not_found_message(&err)) {
		ret = RUNTIME_NOT_FOUND;
		goto done;
	}
	if (status != 0) {
		rt_failed(rt, &c, "container inspect", status);
		goto done;
	}
	if (oci_parse_inspect(json.buf, out) < 0) {
		error("%s container inspect printed unexpected output", rt->program);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&json);
	strbuf_release(&err);
	child_clear(&c);
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
	ci->sandbox_id = label_value(cJSON_GetObjectItemCaseSensitive(obj, "Labels"), LABEL_ID);
	ci->home = label_value(cJSON_GetObjectItemCaseSensitive(obj, "Labels"), LABEL_HOME);
}

int oci_parse_list(const char *json, int docker, struct container_info **out, size_t *nr)
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
	struct strbuf json = STRBUF_INIT, err = STRBUF_INIT;
	int status, ret = -1;

	*out = NULL;
	*nr = 0;
	rt_child_init(rt, &c, "ps");
	argv_pushl(&c.args, "--all", "--no-trunc", NULL);
	argv_pushf(&c.args, "--filter=label=%s", label_key);
	argv_push(&c.args, is_docker(rt) ? "--format={{json .}}" : "--format=json");
	status = rt_run(rt, &c, &json, &err);
	if (status != 0) {
		rt_failed(rt, &c, "ps", status);
		goto done;
	}
	if (oci_parse_list(json.buf, is_docker(rt), out, nr) < 0) {
		error("%s ps printed unexpected output", rt->program);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&json);
	strbuf_release(&err);
	child_clear(&c);
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
	strbuf_release(&out);
	strbuf_release(&err);
	child_clear(&c);
	if (status < 0)
		return -1;
	return status == 0;
}

#define OCI_OPS(n) { \
	.name = n, \
	.create = oci_create, \
	.start = oci_start, \
	.stop = oci_stop, \
	.remove = oci_remove, \
	.exec = oci_exec, \
	.exec_capture = oci_exec_capture, \
	.inspect = oci_inspect, \
	.list = oci_list, \
	.image_exists = oci_image_exists, \
}

const struct runtime_ops podman_ops = OCI_OPS("podman");
const struct runtime_ops docker_ops = OCI_OPS("docker");

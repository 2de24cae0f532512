/*
 * The backend for Apple's "container" CLI (macOS 26, Apple silicon): one
 * lightweight VM per container. Its commands and JSON, as its command
 * reference documents them:
 *
 *   container create --name N --label k=v --mount type=bind,source=S,target=D[,readonly]
 *                    --workdir D [--cpus N] [--memory M] [--network N]
 *                    [--publish [IP:]HOST-PORT:PORT[/PROTO]]
 *                    [--env-file F] [--user U] IMAGE CMD...   prints the id (= N)
 *   container start ID; container stop --time 3 ID; container delete --force ID
 *   container exec [--interactive] [--tty] [--workdir D] [--user U] [--env K=V] ID CMD...
 *   container inspect ID                    a JSON array of snapshots
 *   container list --all --format json      a JSON array of snapshots:
 *       { "status": "running"|"stopped"|"stopping"|"unknown",
 *         "configuration": { "id": ..., "labels": { ... }, ... }, "networks": [...] }
 *   container image list --format json      [{ "reference": ..., ... }]
 *
 * When its system service is not running, every command fails and says
 * to run "container system start": we say so too.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg.h"
#include "ports.h"
#include "rt-cli.h"

static int system_down(const struct strbuf *err)
{
	return strcasestr(err->buf, "container system start") ||
	       strcasestr(err->buf, "XPC connection");
}

static int not_found(const struct strbuf *err)
{
	return strcasestr(err->buf, "not found") != NULL;
}

static int apple_create(struct runtime *rt, const struct container_spec *s, struct strbuf *id_out)
{
	struct child c = CHILD_INIT;

	/* Its CLI has other options: a devcontainer's are podman's and docker's. */
	if (s->extra_args && s->extra_args->nr)
		return error("the devcontainer options allowed ('%s' ...) are not supported by "
			     "Apple's container", s->extra_args->items[0]);
	rt_child_init(rt, &c, "create");
	argv_pushl(&c.args, "--name", s->name, NULL);
	for (size_t i = 0; i < s->nr_labels; i++) {
		argv_push(&c.args, "--label");
		argv_pushf(&c.args, "%s=%s", s->labels[i].key, s->labels[i].value);
	}
	for (size_t i = 0; i < s->nr_binds; i++) {
		if (s->binds[i].upper) {
			child_clear(&c);
			return error("Apple's container cannot mount an overlay workspace");
		}
		argv_push(&c.args, "--mount");
		argv_pushf(&c.args, "type=bind,source=%s,target=%s%s", s->binds[i].src,
			   s->binds[i].dst, s->binds[i].readonly ? ",readonly" : "");
	}
	argv_pushl(&c.args, "--workdir", s->workdir, NULL);
	if (s->cpus)
		argv_pushl(&c.args, "--cpus", s->cpus, NULL);
	if (s->memory)
		argv_pushl(&c.args, "--memory", s->memory, NULL);
	if (s->network)
		argv_pushl(&c.args, "--network", s->network, NULL);
	for (size_t i = 0; i < s->nr_ports; i++) {
		struct strbuf spec = STRBUF_INIT;

		port_map_format(&spec, &s->ports[i]);
		argv_pushl(&c.args, "--publish", spec.buf, NULL);
		strbuf_release(&spec);
	}
	for (size_t i = 0; s->env_files && i < s->env_files->nr; i++)
		argv_pushl(&c.args, "--env-file", s->env_files->items[i], NULL);
	for (size_t i = 0; s->env && i < s->env->nr; i++)
		argv_pushl(&c.args, "--env", s->env->items[i], NULL);
	if (rt->uid != 0) {
		/* Files the sandbox writes must be the host user's. */
		argv_push(&c.args, "--user");
		argv_pushf(&c.args, "%lu:%lu", rt->uid, rt->gid);
	}
	argv_push(&c.args, s->image);
	argv_pushv(&c.args, s->command);

	return rt_create_run(rt, &c, s, s->name, id_out); /* the id is the name given */
}

static int apple_remove(struct runtime *rt, const char *ctr)
{
	const char *args[] = { "--force", ctr, NULL };
	return rt_simple(rt, "delete", args, 1);
}

static enum container_state apple_state(const char *s)
{
	if (s && !strcmp(s, "running"))
		return CONTAINER_RUNNING;
	return CONTAINER_STOPPED; /* "stopped", "stopping", "unknown" */
}

/* One snapshot: { "status": ..., "configuration": { "id": ..., "labels": {...} } }. */
static int parse_snapshot(const cJSON *snap, struct container_info *ci)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(snap, "configuration");
	const cJSON *labels;

	memset(ci, 0, sizeof(*ci));
	if (!cJSON_IsObject(snap) || !cJSON_IsObject(config) || !json_str(config, "id"))
		return -1;
	ci->id = xstrdup(json_str(config, "id"));
	ci->name = xstrdup(ci->id);
	ci->state = apple_state(json_str(snap, "status"));
	labels = cJSON_GetObjectItemCaseSensitive(config, "labels");
	if (cJSON_IsObject(labels)) {
		ci->sandbox_id = label_value(labels, LABEL_ID);
		ci->home = label_value(labels, LABEL_HOME);
	}
	return 0;
}

int apple_parse_list(struct container_info **out, size_t *nr, const char *json,
		     const char *label_key)
{
	cJSON *root = cJSON_Parse(json), *it;
	struct container_info *list = NULL;
	size_t n = 0, alloc = 0;

	*out = NULL;
	*nr = 0;
	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(it, root) {
		const cJSON *config = cJSON_GetObjectItemCaseSensitive(it, "configuration");
		const cJSON *labels = cJSON_IsObject(config) ?
			cJSON_GetObjectItemCaseSensitive(config, "labels") : NULL;

		/* The CLI has no label filter: filter here. */
		if (label_key && !cJSON_GetObjectItemCaseSensitive(labels, label_key))
			continue;
		ALLOC_GROW(list, n + 1, alloc);
		if (!parse_snapshot(it, &list[n]))
			n++;
	}
	cJSON_Delete(root);
	*out = list;
	*nr = n;
	return 0;
}

int apple_parse_inspect(struct container_info *out, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (cJSON_IsArray(root) && cJSON_GetArraySize(root) > 0)
		ret = parse_snapshot(cJSON_GetArrayItem(root, 0), out);
	else if (cJSON_IsObject(root))
		ret = parse_snapshot(root, out);
	else if (cJSON_IsArray(root))
		ret = RUNTIME_NOT_FOUND; /* an empty array: no such container */
	cJSON_Delete(root);
	return ret;
}

static int apple_inspect(struct runtime *rt, const char *ctr, struct container_info *out)
{
	struct child c = CHILD_INIT;
	struct strbuf json = STRBUF_INIT;
	int ret;

	memset(out, 0, sizeof(*out));
	rt_child_init(rt, &c, "inspect");
	argv_push(&c.args, ctr);
	ret = rt_run_output(rt, &c, "inspect", 1, &json);
	if (!ret && (ret = apple_parse_inspect(out, json.buf)) < 0)
		error("container inspect printed unexpected output");
	strbuf_release(&json);
	return ret;
}

static int apple_list(struct runtime *rt, const char *label_key, struct container_info **out,
		      size_t *nr)
{
	struct child c = CHILD_INIT;
	struct strbuf json = STRBUF_INIT;
	int ret;

	*out = NULL;
	*nr = 0;
	rt_child_init(rt, &c, "list");
	argv_pushl(&c.args, "--all", "--format", "json", NULL);
	ret = rt_run_output(rt, &c, "list", 0, &json);
	if (!ret && apple_parse_list(out, nr, json.buf, label_key) < 0)
		ret = error("container list printed unexpected output");
	strbuf_release(&json);
	return ret;
}

/* Whether a listed reference names the image ("x:1" is "docker.io/library/x:1"). */
static int same_image(const char *reference, const char *image)
{
	size_t rl = strlen(reference), il = strlen(image);

	if (!strcmp(reference, image))
		return 1;
	return rl > il && reference[rl - il - 1] == '/' && !strcmp(reference + rl - il, image);
}

static int apple_image_exists(struct runtime *rt, const char *image)
{
	struct child c = CHILD_INIT;
	struct strbuf json = STRBUF_INIT;
	cJSON *root = NULL, *it;
	int ret = -1;

	rt_child_init(rt, &c, "image");
	argv_pushl(&c.args, "list", "--format", "json", NULL);
	if (rt_run_output(rt, &c, "image list", 0, &json) < 0)
		goto done;
	root = cJSON_Parse(json.buf);
	if (!cJSON_IsArray(root)) {
		error("container image list printed unexpected output");
		goto done;
	}
	ret = 0;
	cJSON_ArrayForEach(it, root) {
		const char *ref = json_str(it, "reference");

		if (ref && same_image(ref, image))
			ret = 1;
	}
done:
	cJSON_Delete(root);
	strbuf_release(&json);
	return ret;
}

static int apple_pull(struct runtime *rt, const char *image, int progress, struct strbuf *err)
{
	static const char *const verb[] = { "image", "pull", NULL };
	return rt_pull(rt, verb, NULL, image, progress, err);
}

const struct runtime_ops apple_container_ops = {
	.name = "container",
	.create = apple_create,
	.start = rt_start,
	.stop = rt_stop,
	.remove = apple_remove,
	.exec = rt_exec,
	.exec_capture = rt_exec_capture,
	.not_found = not_found,
	.system_down = system_down,
	.inspect = apple_inspect,
	.list = apple_list,
	.image_exists = apple_image_exists,
	.pull = apple_pull,
	.build = rt_build,
};

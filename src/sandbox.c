#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "msg.h"
#include "sandbox.h"

void sandbox_opts_clear(struct sandbox_opts *o)
{
	free(o->cpus);
	free(o->memory);
	free(o->network);
	free(o->shell);
	free(o->host_branch);
	free(o->agent);
	free(o->profile);
	free(o->base);
	free(o->run.agent);
	string_list_clear(&o->env_keys);
	string_list_clear(&o->carried);
	string_list_clear(&o->mounts);
	string_list_clear(&o->ports);
	string_list_clear(&o->env_files);
	memset(o, 0, sizeof(*o));
}

static const char *const state_names[] = {
#define SANDBOX_STATE_NAME(id, name) [id] = name,
	SANDBOX_STATES(SANDBOX_STATE_NAME)
#undef SANDBOX_STATE_NAME
};

const char *sandbox_state_name(enum sandbox_state state)
{
	return (size_t)state < ARRAY_SIZE(state_names) ? state_names[state] : "unknown";
}

int sandbox_state_parse(const char *name, enum sandbox_state *out)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(name, state_names[i])) {
			*out = (enum sandbox_state)i;
			return 0;
		}
	return -1;
}

void sandbox_clear(struct sandbox *sb)
{
	free(sb->id);
	free(sb->name);
	free(sb->worktree);
	free(sb->gitdir);
	free(sb->dir);
	free(sb->runtime);
	free(sb->image);
	free(sb->container);
	free(sb->host);
	free(sb->host_root);
	sandbox_opts_clear(&sb->opts);
	memset(sb, 0, sizeof(*sb));
}

void sandbox_work_dir(const struct sandbox *sb, struct strbuf *out)
{
	strbuf_reset(out);
	if (sb->host)
		strbuf_addf(out, "%s/sandboxes/%s", sb->host_root, sb->id);
	else
		strbuf_addstr(out, sb->dir);
}

void sandbox_clone_path(const struct sandbox *sb, struct strbuf *out)
{
	sandbox_work_dir(sb, out);
	strbuf_addstr(out, "/app");
}

void sandbox_container_name(const struct sandbox *sb, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "sand-%s-%.8s", sb->name, sb->id);
}

void sandbox_tracking_prefix(struct strbuf *out, const char *name)
{
	strbuf_reset(out);
	strbuf_addf(out, SANDBOX_TRACKING_PREFIX "%s/", name);
}

void sandbox_tracking_ref(struct strbuf *out, const char *name, const char *branch)
{
	sandbox_tracking_prefix(out, name);
	strbuf_addstr(out, branch);
}

static void add_str(cJSON *obj, const char *key, const char *val)
{
	if (val)
		cJSON_AddStringToObject(obj, key, val);
}

static void add_list(cJSON *obj, const char *key, const struct string_list *l)
{
	cJSON *arr;

	if (!l->nr)
		return;
	arr = cJSON_AddArrayToObject(obj, key);
	for (size_t i = 0; i < l->nr; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(l->items[i]));
}

static cJSON *run_object(const struct sandbox_run *r)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		die("out of memory");
	cJSON_AddNumberToObject(obj, "n", r->n);
	cJSON_AddNumberToObject(obj, "started", (double)r->started);
	add_str(obj, "agent", r->agent);
	if (r->status >= 0)
		cJSON_AddNumberToObject(obj, "status", r->status);
	if (r->pid1 > 0) {
		cJSON_AddNumberToObject(obj, "pid1", (double)r->pid1);
		cJSON_AddNumberToObject(obj, "pid1_start", (double)r->pid1_start);
	}
	return obj;
}

static char *print_json(cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj), *res;

	cJSON_Delete(obj);
	if (!s)
		die("out of memory");
	res = xstrdup(s);
	cJSON_free(s);
	return res;
}

char *sandbox_run_to_json(const struct sandbox_run *r)
{
	return print_json(run_object(r));
}

char *sandbox_opts_to_json(const struct sandbox_opts *o)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		die("out of memory");
	add_str(obj, "cpus", o->cpus);
	add_str(obj, "memory", o->memory);
	add_str(obj, "network", o->network);
	add_str(obj, "shell", o->shell);
	add_str(obj, "host_branch", o->host_branch);
	if (o->orphaned)
		cJSON_AddBoolToObject(obj, "orphaned", 1);
	add_list(obj, "mounts", &o->mounts);
	add_list(obj, "ports", &o->ports);
	add_list(obj, "env_files", &o->env_files);
	add_str(obj, "agent", o->agent);
	add_str(obj, "profile", o->profile);
	add_str(obj, "base", o->base);
	add_list(obj, "env_keys", &o->env_keys);
	add_list(obj, "carried", &o->carried);
	if (o->ssh_agent)
		cJSON_AddBoolToObject(obj, "ssh_agent", 1);
	if (o->setup_done)
		cJSON_AddBoolToObject(obj, "setup_done", 1);
	if (o->neutral_mirror)
		cJSON_AddBoolToObject(obj, "neutral_mirror", 1);
	if (o->branch)
		cJSON_AddBoolToObject(obj, "branch", 1);
	if (o->pid > 0) {
		cJSON_AddNumberToObject(obj, "pid", (double)o->pid);
		cJSON_AddNumberToObject(obj, "pid_start", (double)o->pid_start);
	}
	if (o->run.n > 0)
		cJSON_AddItemToObject(obj, "run", run_object(&o->run));
	return print_json(obj);
}

static int get_str(const cJSON *obj, const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return error("sandbox options: '%s' is not a string", key);
	free(*out);
	*out = xstrdup(v->valuestring);
	return 0;
}

static int get_list(const cJSON *obj, const char *key, struct string_list *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *it;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return error("sandbox options: '%s' is not a list", key);
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || !it->valuestring)
			return error("sandbox options: '%s' holds a non-string", key);
		string_list_append(out, it->valuestring);
	}
	return 0;
}

static int get_number(const cJSON *obj, const char *key, double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max)
		return error("sandbox options: '%s' is not a number in range", key);
	*out = v->valuedouble;
	return 0;
}

static int get_run(const cJSON *obj, struct sandbox_run *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "run");
	double n = 0, started = 0, status = -1, pid1 = 0, pid1_start = 0;

	r->status = -1;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return error("sandbox options: 'run' is not an object");
	if (get_number(v, "n", 1e9, &n) || get_number(v, "started", 1e15, &started) ||
	    get_number(v, "status", 255, &status) || get_number(v, "pid1", 1e9, &pid1) ||
	    get_number(v, "pid1_start", 1e18, &pid1_start) || get_str(v, "agent", &r->agent))
		return -1;
	r->n = (int)n;
	r->started = (int64_t)started;
	r->status = (int)status;
	r->pid1 = (long)pid1;
	r->pid1_start = (unsigned long long)pid1_start;
	return 0;
}

int sandbox_opts_from_json(struct sandbox_opts *o, const char *json)
{
	cJSON *obj = cJSON_Parse(json);
	const cJSON *b;
	int ret = -1;

	if (!obj || !cJSON_IsObject(obj)) {
		error("sandbox options: not a JSON object");
		goto done;
	}
	if (get_str(obj, "cpus", &o->cpus) || get_str(obj, "memory", &o->memory) ||
	    get_str(obj, "network", &o->network) || get_str(obj, "shell", &o->shell) ||
	    get_str(obj, "host_branch", &o->host_branch) ||
	    get_str(obj, "agent", &o->agent) || get_str(obj, "profile", &o->profile) ||
	    get_str(obj, "base", &o->base) ||
	    get_list(obj, "env_keys", &o->env_keys) || get_list(obj, "carried", &o->carried) ||
	    get_list(obj, "mounts", &o->mounts) || get_list(obj, "ports", &o->ports) || get_list(obj, "env_files", &o->env_files) ||
	    get_run(obj, &o->run))
		goto done;
	b = cJSON_GetObjectItemCaseSensitive(obj, "branch");
	o->branch = cJSON_IsTrue(b);
	o->orphaned = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "orphaned"));
	o->ssh_agent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "ssh_agent"));
	o->setup_done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "setup_done"));
	o->neutral_mirror = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "neutral_mirror"));
	b = cJSON_GetObjectItemCaseSensitive(obj, "pid");
	if (cJSON_IsNumber(b) && b->valuedouble > 0 && b->valuedouble < 1e9) {
		const cJSON *start = cJSON_GetObjectItemCaseSensitive(obj, "pid_start");

		o->pid = (long)b->valuedouble;
		o->pid_start = cJSON_IsNumber(start) && start->valuedouble > 0 ?
			(unsigned long long)start->valuedouble : 0;
	}
	ret = 0;
done:
	cJSON_Delete(obj);
	return ret;
}

/*
 * What the command-line backends share: running "<program> <verb> ...",
 * reporting its failures, the verbs that take just a container, exec, and
 * reading JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "rt-cli.h"
#include "ssh.h"

void rt_child_init(struct runtime *rt, struct child *c, const char *verb)
{
	argv_push(&c->args, rt->program);
	argv_push(&c->args, verb);
}

static void ssh_cmd_of(struct ssh_cmd *cmd, struct child *c, int tty, int interactive,
		       const char *const *guard)
{
	cmd->argv = (const char *const *)argv_vec(&c->args);
	cmd->out = c->out;
	cmd->err = c->err;
	cmd->max_out = c->max_out;
	cmd->tty = tty;
	cmd->in_fd = interactive && !c->in ? 0 : -1;
	cmd->in = c->in;
	cmd->in_len = c->in_len;
	cmd->guard = guard;
}

/*
 * The transport: the child's argv runs here, or on the runtime's host
 * (quoted there by ssh_run, and nowhere else).
 */
static int transport_run(struct runtime *rt, struct child *c, int tty, int interactive,
			 const char *const *guard)
{
	struct ssh_cmd cmd = SSH_CMD_INIT;
	int status;

	if (!rt->ssh)
		return run_child(c);
	ssh_cmd_of(&cmd, c, tty, interactive, guard);
	status = ssh_run(rt->ssh, &cmd);
	return cmd.guard_failed ? RUNTIME_NOT_RUNNING : status;
}

/*
 * The same, with fn(data) run here meanwhile (on a host without the one
 * shell, after it: see ssh_start), its result in *fn_ret.
 */
static int transport_run_while(struct runtime *rt, struct child *c, int (*fn)(void *data),
			       void *data, int *fn_ret)
{
	struct ssh_cmd cmd = SSH_CMD_INIT;

	if (!rt->ssh)
		return run_child_while(c, fn, data, fn_ret);
	ssh_cmd_of(&cmd, c, 0, 0, NULL);
	ssh_start(rt->ssh, &cmd);
	*fn_ret = fn(data);
	return ssh_finish(rt->ssh, &cmd);
}

int rt_run(struct runtime *rt, struct child *c, struct strbuf *out, struct strbuf *err)
{
	c->out = out;
	c->err = err;
	c->no_stdin = 1;
	return transport_run(rt, c, 0, 0, NULL);
}

int rt_failed(struct runtime *rt, struct child *c, const char *verb, int status)
{
	struct strbuf how = STRBUF_INIT;
	int ret;

	if (c->err && rt->ops->system_down && rt->ops->system_down(c->err)) {
		ret = error("the %s system service is not running", rt->program);
		hint("start it with '%s system start'", rt->program);
	} else if (c->err && c->err->len) {
		strbuf_trim(c->err);
		ret = error("%s %s failed: %s", rt->program, verb, c->err->buf);
		runtime_hint(rt, c->err->buf);
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

int rt_run_output(struct runtime *rt, struct child *c, const char *verb, int missing_ok,
		  struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	int status = rt_run(rt, c, out, &err), ret = 0;

	if (status > 0 && missing_ok && !(rt->ops->system_down && rt->ops->system_down(&err)) &&
	    rt->ops->not_found(&err))
		ret = RUNTIME_NOT_FOUND;
	else if (status != 0)
		ret = rt_failed(rt, c, verb, status);
	strbuf_release(&err);
	child_clear(c);
	return ret;
}

/*
 * Run c (a pull or a build): on a terminal with its progress, which the
 * CLI draws itself (docker on stdout, which is not ours to write on: new
 * -d prints the name there), so both streams go to our stderr; else with
 * its output captured, its errors in err. Its exit status.
 */
static int run_showing_progress(struct runtime *rt, struct child *c, int progress,
				struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	int status;

	if (progress && !rt->ssh) {
		c->no_stdin = 1;
		c->out_fd = 2;
		status = run_child(c);
	} else {
		status = rt_run(rt, c, &out, err);
	}
	strbuf_release(&out);
	child_clear(c);
	return status;
}

int rt_pull(struct runtime *rt, const char *const *verb, const char *quiet, const char *image,
	    int progress, struct strbuf *err)
{
	struct child c = CHILD_INIT;

	argv_push(&c.args, rt->program);
	argv_pushv(&c.args, verb);
	if (!progress && quiet)
		argv_push(&c.args, quiet);
	argv_push(&c.args, image);
	return run_showing_progress(rt, &c, progress, err);
}

int rt_build(struct runtime *rt, const char *const *args, int progress, struct strbuf *err)
{
	struct child c = CHILD_INIT;

	rt_child_init(rt, &c, "build");
	argv_pushv(&c.args, args);
	return run_showing_progress(rt, &c, progress, err);
}

int rt_simple(struct runtime *rt, const char *verb, const char *const *args, int missing_ok)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT;
	size_t last = 0;
	int ret;

	rt_child_init(rt, &c, verb);
	argv_pushv(&c.args, args);
	ret = rt_run_output(rt, &c, verb, 1, &out);
	if (ret == RUNTIME_NOT_FOUND) {
		while (args[last + 1])
			last++;
		ret = missing_ok ? 0 : error("container '%s' does not exist", args[last]);
	}
	strbuf_release(&out);
	return ret;
}

int rt_created_id(struct runtime *rt, struct strbuf *out, const char *fallback,
		  struct strbuf *id_out)
{
	const char *id;

	/* The last line: docker may print warnings first. */
	strbuf_trim(out);
	id = strrchr(out->buf, '\n') ? strrchr(out->buf, '\n') + 1 : out->buf;
	if (!*id)
		id = fallback;
	if (!id || !*id)
		return error("%s create printed no container id", rt->program);
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return error("%s create printed an unexpected id '%s'", rt->program, id);
	strbuf_reset(id_out);
	strbuf_addstr(id_out, id);
	return 0;
}

/*
 * What a runtime that did its work said on stderr is a warning the user
 * should see: "Resource limits are not supported and ignored on cgroups
 * V1 rootless systems" means --cpus and --memory did nothing. A few
 * lines of it, each as a warning of ours.
 */
static void pass_on_warnings(const struct runtime *rt, const char *verb, const struct strbuf *err)
{
	const char *p = err->buf, *end = err->buf + err->len;

	for (int n = 0; p < end && n < 5; ) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len >= 9 && !strncasecmp(p, "warning: ", 9)) {
			p += 9;
			len -= 9;
		}
		if (len) {
			warning("%s %s: %.*s", rt->program, verb, (int)len, p);
			n++;
		}
		p += len + (eol ? 1 : 0);
	}
}

/*
 * Run the create, and spec->meanwhile while it runs (see
 * transport_run_while). Its status, and the meanwhile's result in
 * *meanwhile.
 */
static int create_meanwhile(struct runtime *rt, struct child *c,
			    const struct container_spec *spec, int *meanwhile)
{
	c->no_stdin = 1;
	*meanwhile = 0;
	if (!spec->meanwhile)
		return transport_run(rt, c, 0, 0, NULL);
	return transport_run_while(rt, c, spec->meanwhile, spec->meanwhile_data, meanwhile);
}

/*
 * A "run" that failed may have made the container (its start failed):
 * found by its name, and ours only if it carries our sandbox's id.
 */
static void find_made(struct runtime *rt, const struct container_spec *spec,
		      struct strbuf *id_out)
{
	struct container_info ci = { 0 };
	const char *ours = NULL;

	for (size_t i = 0; i < spec->nr_labels; i++)
		if (!strcmp(spec->labels[i].key, LABEL_ID))
			ours = spec->labels[i].value;
	if (ours && !rt->ops->inspect(rt, spec->name, &ci) && ci.id && ci.sandbox_id &&
	    !strcmp(ci.sandbox_id, ours)) {
		strbuf_reset(id_out);
		strbuf_addstr(id_out, ci.id);
	}
	container_info_clear(&ci);
}

int rt_image_missing(const struct strbuf *err)
{
	return strcasestr(err->buf, "image not known") || strcasestr(err->buf, "no such image") ||
	       strcasestr(err->buf, "no such object");
}

int rt_create_run(struct runtime *rt, struct child *c, const struct container_spec *spec,
		  const char *fallback, struct strbuf *id_out)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	/* Made and started in one command (see container_spec.started). */
	int run = spec->started && rt->ssh;
	const char *verb = run ? "run" : "create";
	int status, meanwhile, ret;

	c->out = &out;
	c->err = &err;
	status = create_meanwhile(rt, c, spec, &meanwhile);
	if (status > 0 && spec->image_unchecked && rt_image_missing(&err)) {
		ret = RUNTIME_NO_IMAGE;
	} else if (status != 0) {
		ret = rt_failed(rt, c, verb, status);
		if (run)
			find_made(rt, spec, id_out);
	} else {
		pass_on_warnings(rt, verb, &err);
		ret = rt_created_id(rt, &out, fallback, id_out);
		if (run && !ret)
			*spec->started = 1;
	}
	if (meanwhile < 0)
		ret = -1;
	strbuf_release(&out);
	strbuf_release(&err);
	child_clear(c);
	return ret;
}

int rt_start(struct runtime *rt, const char *ctr)
{
	const char *args[] = { ctr, NULL };
	return rt_simple(rt, "start", args, 0);
}

int rt_stop(struct runtime *rt, const char *ctr)
{
	/* Three seconds' grace: the init in the container passes SIGTERM on. */
	const char *args[] = { "--time", "3", ctr, NULL };
	return rt_simple(rt, "stop", args, 0);
}

/* "<program> exec [flags] <ctr> <cmd>...": the flags both CLIs document. */
static void exec_argv(struct runtime *rt, struct child *c, const char *ctr,
		      const struct exec_opts *o, const char *const *cmd)
{
	rt_child_init(rt, c, "exec");
	if (o && o->interactive)
		argv_push(&c->args, "--interactive");
	if (o && o->tty)
		argv_push(&c->args, "--tty");
	if (o && o->detach)
		argv_push(&c->args, "--detach");
	if (o && o->workdir)
		argv_pushl(&c->args, "--workdir", o->workdir, NULL);
	if (o && o->user)
		argv_pushl(&c->args, "--user", o->user, NULL);
	for (size_t i = 0; o && o->env && i < o->env->nr; i++)
		argv_pushl(&c->args, "--env", o->env->items[i], NULL);
	argv_push(&c->args, ctr);
	argv_pushv(&c->args, cmd);
}

int rt_exec(struct runtime *rt, const char *ctr, const struct exec_opts *o,
	    const char *const *cmd)
{
	/* Both CLIs say so of a running container. */
	const char *const running[] = {
		rt->program, "container", "inspect", "--format", "{{.State.Running}}", ctr, NULL
	};
	struct child c = CHILD_INIT;
	int status;

	exec_argv(rt, &c, ctr, o, cmd);
	if (o && o->detach) {
		/* podman prints the exec session's id: not ours to show. */
		struct strbuf out = STRBUF_INIT;

		status = rt_run_output(rt, &c, "exec --detach", 0, &out);
		strbuf_release(&out);
		return status;
	}
	if (o && o->last && !rt->ssh && !o->in && !o->if_running) {
		c.no_stdin = !o->interactive;
		run_exec(&c);
		status = errno == ENOENT ? 127 : 126;
		error_errno("cannot run '%s'", rt->program);
		child_clear(&c);
		return status;
	}
	c.foreground = 1;
	if (o && o->in) {
		c.in = o->in;
		c.in_len = o->in_len;
	} else if (!o || !o->interactive) {
		c.no_stdin = 1;
	}
	status = transport_run(rt, &c, o && o->tty, o && o->interactive,
			       o && o->if_running ? running : NULL);
	child_clear(&c);
	return status;
}

int rt_exec_capture(struct runtime *rt, const char *ctr, const struct exec_opts *o,
		    const char *const *cmd, struct strbuf *out)
{
	struct exec_opts only = { 0 };
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	int status;

	if (o) {
		only.user = o->user;
		only.workdir = o->workdir;
	}
	exec_argv(rt, &c, ctr, &only, cmd);
	status = rt_run(rt, &c, out, &err);
	if (status < 0 || (rt->ops->own_error_status && status == rt->ops->own_error_status))
		status = rt_failed(rt, &c, "exec", status);
	strbuf_release(&err);
	child_clear(&c);
	return status;
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


#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent-run.h"
#include "cmd.h"
#include "devcontainer.h"
#include "fetch.h"
#include "hooks.h"
#include "lifecycle.h"
#include "msg.h"
#include "oci-exec.h"
#include "ports.h"
#include "sandbox-lock.h"
#include "workspace.h"

#define LS_USAGE "git sand ls [-a | --all] [-l | --long] [--porcelain [-z] | --json]"

static const char *const ls_usage[] = { LS_USAGE, NULL };

struct row {
	struct sandbox *sb;
	const char *status;
	char *display;	/* status as people see it, when it differs */
	char *clone;
	enum agent_run_state run_state;	/* of its latest run */
	int run_status;
	char *state;	/* "idle", "running", "waiting", "exited <status>", "lost" */
	int ahead;	/* commits its branch is ahead of the host's, as fetched; -1: not known */
	int unfetched;	/* its branch has moved since the host fetched it */
	char *branch;	/* "main +3", as the table shows it */
	int clone_state;	/* 1 present, 0 missing, -1 not looked at yet */
};

/*
 * Ask each runtime in use, on each host, once for all of git-sand's
 * containers there.
 */
struct runtime_view {
	const char *name;
	const char *host;	/* NULL: this machine */
	struct sandbox *first;	/* one of its sandboxes, to connect with */
	int ok, unreachable;
	struct container_info *list;
	size_t nr;
	struct runtime rt;	/* while it is to be asked */
	int asking;
};

static int same_host(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct runtime_view *view_of(struct sandbox *sb, struct runtime_view *views, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(views[i].name, sb->runtime) && same_host(views[i].host, sb->host))
			return &views[i];
	return NULL;
}

static const char *row_status(struct cmd_ctx *ctx, struct row *row,
			      struct runtime_view *views, size_t nviews)
{
	struct sandbox *sb = row->sb;
	struct runtime_view *v = view_of(sb, views, nviews);
	struct store *st = ctx_store(ctx);
	struct workspace ws;

	if (sb->state != SB_READY)
		return sandbox_is_broken(st, sb) ? "broken" : sandbox_state_name(sb->state);
	if (v && v->unreachable)
		return "unreachable";
	if (row->clone_state < 0) {
		workspace_of(&ws, sb, ctx->root.buf, NULL);
		row->clone_state = ws.ops->clone_present(&ws);
	}
	if (!row->clone_state)
		return "missing clone";
	if (!v || !v->ok)
		return "unknown";
	for (size_t i = 0; i < v->nr; i++) {
		const struct container_info *ci = &v->list[i];

		if (!ci->sandbox_id || strcmp(ci->sandbox_id, sb->id))
			continue;
		/* So that the next ls, or exec, need not ask the runtime. */
		if (!v->host && ci->state == CONTAINER_RUNNING && ci->pid > 0 &&
		    sb->container && ci->id && !strcmp(ci->id, sb->container))
			sandbox_remember_pid(st, sb, ci->pid);
		return ci->state == CONTAINER_RUNNING ? "running" : "stopped";
	}
	return "missing container";
}

static void format_age(struct strbuf *out, int64_t created)
{
	int64_t d = (int64_t)time(NULL) - created;

	if (d < 0)
		d = 0;
	if (d < 60)
		strbuf_addf(out, "%llds", (long long)d);
	else if (d < 3600)
		strbuf_addf(out, "%lldm", (long long)(d / 60));
	else if (d < 86400)
		strbuf_addf(out, "%lldh", (long long)(d / 3600));
	else
		strbuf_addf(out, "%lldd", (long long)(d / 86400));
}

static void print_porcelain(struct row *rows, size_t nr, int nul)
{
	int eol = nul ? '\0' : '\n';

	for (size_t i = 0; i < nr; i++) {
		struct sandbox *sb = rows[i].sb;

		if (i)
			putchar(eol);
		printf("sandbox %s%c", sb->name, eol);
		printf("id %s%c", sb->id, eol);
		printf("worktree %s%c", sb->worktree, eol);
		printf("status %s%c", rows[i].status, eol);
		printf("runtime %s%c", sb->runtime, eol);
		printf("image %s%c", sb->image, eol);
		if (sb->container)
			printf("container %s%c", sb->container, eol);
		printf("clone %s%c", rows[i].clone, eol);
		if (sb->host)
			printf("host %s%c", sb->host, eol);
		printf("created %lld%c", (long long)sb->created, eol);
		if (sb->opts.host_branch)
			printf("branch %s%c", sb->opts.host_branch, eol);
		if (rows[i].ahead >= 0)
			printf("ahead %d%c", rows[i].ahead, eol);
		if (rows[i].unfetched)
			printf("unfetched%c", eol);
		if (sb->opts.orphaned)
			printf("orphaned%c", eol);
		if (sb->opts.agent)
			printf("agent %s%c", sb->opts.agent, eol);
		printf("state %s%c", rows[i].state, eol);
		if (sb->opts.run.n)
			printf("run %d%c", sb->opts.run.n, eol);
	}
}

/* A path for people: C-quoted, as git quotes, when it holds odd bytes. */
static void print_path(const char *path)
{
	int plain = 1;

	for (const char *p = path; *p && plain; p++)
		plain = (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f &&
			(unsigned char)*p < 0x80;
	if (plain) {
		fputs(path, stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\%03o", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* "ports": its published ports, as "port" shows them. */
static void add_ports_json(cJSON *o, const struct sandbox *sb)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "ports");
	struct strbuf why = STRBUF_INIT;

	for (size_t i = 0; i < sb->opts.ports.nr; i++) {
		struct port_map m;
		cJSON *p;

		if (port_spec_parse(&m, sb->opts.ports.items[i], &why) < 0)
			continue;
		p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "port", m.container_port);
		cJSON_AddStringToObject(p, "protocol", port_proto_name(m.proto));
		cJSON_AddStringToObject(p, "host_ip", m.ip);
		cJSON_AddNumberToObject(p, "host_port", m.host_port);
		cJSON_AddItemToArray(arr, p);
	}
	strbuf_release(&why);
}

static void print_json(struct row *rows, size_t nr)
{
	cJSON *arr = cJSON_CreateArray();
	char *s;

	for (size_t i = 0; i < nr; i++) {
		struct sandbox *sb = rows[i].sb;
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", sb->name);
		cJSON_AddStringToObject(o, "id", sb->id);
		cJSON_AddStringToObject(o, "worktree", sb->worktree);
		cJSON_AddStringToObject(o, "status", rows[i].status);
		cJSON_AddStringToObject(o, "runtime", sb->runtime);
		cJSON_AddStringToObject(o, "image", sb->image);
		if (sb->container)
			cJSON_AddStringToObject(o, "container", sb->container);
		else
			cJSON_AddNullToObject(o, "container");
		cJSON_AddStringToObject(o, "clone", rows[i].clone);
		if (sb->host)
			cJSON_AddStringToObject(o, "host", sb->host);
		else
			cJSON_AddNullToObject(o, "host");
		cJSON_AddNumberToObject(o, "created", (double)sb->created);
		if (sb->opts.host_branch)
			cJSON_AddStringToObject(o, "branch", sb->opts.host_branch);
		else
			cJSON_AddNullToObject(o, "branch");
		if (rows[i].ahead >= 0)
			cJSON_AddNumberToObject(o, "ahead", rows[i].ahead);
		else
			cJSON_AddNullToObject(o, "ahead");
		cJSON_AddBoolToObject(o, "unfetched", rows[i].unfetched);
		cJSON_AddBoolToObject(o, "orphaned", sb->opts.orphaned);
		if (sb->opts.agent)
			cJSON_AddStringToObject(o, "agent", sb->opts.agent);
		else
			cJSON_AddNullToObject(o, "agent");
		cJSON_AddStringToObject(o, "state", agent_run_state_name(rows[i].run_state));
		if (sb->opts.run.n)
			cJSON_AddNumberToObject(o, "run", sb->opts.run.n);
		else
			cJSON_AddNullToObject(o, "run");
		if (rows[i].run_state == RUN_EXITED || rows[i].run_state == RUN_LOST)
			cJSON_AddNumberToObject(o, "exit_status", rows[i].run_status);
		else
			cJSON_AddNullToObject(o, "exit_status");
		add_ports_json(o, sb);
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_Print(arr);
	if (!s)
		die("out of memory");
	puts(s);
	cJSON_free(s);
	cJSON_Delete(arr);
}

/* The table's column widths; 0 for a column not shown. */
struct widths {
	size_t name, status, image, host, agent, state, clone, branch;
	int ports;	/* a PORTS column */
};

static void grow(size_t *w, const char *s)
{
	size_t n = strlen(s);

	*w = n > *w ? n : *w;
}

static void table_widths(struct widths *w, struct row *rows, size_t nr, int lng)
{
	*w = (struct widths){ .name = 4, .status = 6, .image = 5, .state = 5, .clone = 5,
			      .branch = 6 };
	for (size_t i = 0; i < nr; i++) {
		const struct sandbox *sb = rows[i].sb;

		if (!rows[i].display)
			rows[i].display = xstrdup(rows[i].status);
		grow(&w->name, sb->name);
		grow(&w->status, rows[i].display);
		grow(&w->image, sb->image);
		if (sb->host)
			grow(&w->host, sb->host);
		if (sb->opts.agent || sb->opts.run.n || rows[i].run_state != RUN_IDLE)
			grow(&w->agent, sb->opts.agent ? sb->opts.agent : "-");
		grow(&w->state, rows[i].state);
		grow(&w->clone, rows[i].clone);
		grow(&w->branch, rows[i].branch);
		w->ports |= sb->opts.ports.nr > 0;
	}
	/* A PORTS column, last, only in the long format and when some sandbox publishes any. */
	w->ports &= lng;
	if (w->agent && w->agent < 5)
		w->agent = 5;
	/* BRANCH goes with the agents' columns, and in the long format. */
	if (!w->agent && !lng)
		w->branch = 0;
	/* A HOST column only when some sandbox is on another machine. */
	if (w->host && w->host < 4)
		w->host = 4;
}

/*
 * "AGENT  STATE  BRANCH  " and a row's, when some sandbox listed has an
 * agent or a run; "BRANCH  " alone in the long format.
 */
static void agent_columns(struct strbuf *out, const struct row *row, const struct widths *w)
{
	if (w->agent && !row)
		strbuf_addf(out, "%-*s  %-*s  ", (int)w->agent, "AGENT", (int)w->state, "STATE");
	else if (w->agent)
		strbuf_addf(out, "%-*s  %-*s  ", (int)w->agent,
			    row->sb->opts.agent ? row->sb->opts.agent : "-", (int)w->state,
			    row->state);
	if (w->branch)
		strbuf_addf(out, "%-*s  ", (int)w->branch, row ? row->branch : "BRANCH");
}

static void print_header(const struct widths *w, int lng)
{
	struct strbuf cols = STRBUF_INIT;

	agent_columns(&cols, NULL, w);
	printf("%-*s  %-*s  %s%-*s  %s%s%-*s%s%*s%s\n", (int)w->name, "NAME", (int)w->status,
	       "STATUS", cols.buf, (int)w->image, "IMAGE", w->host ? "AGE  " : "AGE",
	       w->host ? "  " : "", lng ? (int)w->host : 0, w->host ? "HOST" : "",
	       lng ? "  CLONE" : "", w->ports ? (int)w->clone - 5 : 0, "",
	       w->ports ? "  PORTS" : "");
	strbuf_release(&cols);
}

static void print_row(const struct row *row, const struct widths *w, int lng)
{
	const struct sandbox *sb = row->sb;
	struct strbuf age = STRBUF_INIT, cols = STRBUF_INIT, ports = STRBUF_INIT;

	format_age(&age, sb->created);
	agent_columns(&cols, row, w);
	printf("%-*s  %-*s  %s%-*s  %s", (int)w->name, sb->name, (int)w->status, row->display,
	       cols.buf, (int)w->image, sb->image, w->host ? "" : age.buf);
	if (w->host)
		printf("%-5s  %-*s", age.buf, lng ? (int)w->host : 0, sb->host ? sb->host : "-");
	if (lng) {
		fputs("  ", stdout);
		print_path(row->clone);
	}
	if (w->ports) {
		ports_describe_list(&ports, &sb->opts.ports, ", ");
		printf("%*s  %s", (int)(w->clone - strlen(row->clone)), "",
		       ports.len ? ports.buf : "-");
	}
	putchar('\n');
	strbuf_release(&age);
	strbuf_release(&cols);
	strbuf_release(&ports);
}

static void print_table(struct row *rows, size_t nr, int all, int lng)
{
	struct widths w;

	table_widths(&w, rows, nr, lng);
	for (size_t i = 0; i < nr; i++) {
		const char *worktree = rows[i].sb->worktree;
		int new_group = all && (!i || strcmp(rows[i - 1].sb->worktree, worktree));

		if (new_group) {
			fputs(i ? "\n" : "", stdout);
			print_path(worktree);
			fputs(":\n", stdout);
		}
		if (!i || new_group)
			print_header(&w, lng);
		print_row(&rows[i], &w, lng);
	}
}

/*
 * What the store and this machine's files tell of sb's container, where
 * it is not seen running: stopped, or gone (CONTAINER_MISSING), as
 * podman's own files say; -1 they cannot tell. os is read on first use.
 */
static int state_from_files(struct cmd_ctx *ctx, struct oci_storage *os, int *loaded,
			    const char *runtime, const struct sandbox *sb)
{
	struct strbuf name = STRBUF_INIT;
	int ret = -1;

	/* One that did not load tells nothing. */
	if (!(*loaded)++)
		oci_storage_load(os, runtime, ctx->root.buf);
	if (sb->container && oci_container_stopped(os, sb->container))
		return CONTAINER_STOPPED;
	/*
	 * A new or start killed before it recorded the id left our name,
	 * unless runArgs (recorded by an older git-sand) gave it theirs.
	 */
	sandbox_container_name(sb, &name);
	if (!devcontainer_names_container(sb) && oci_container_gone(os, sb->container, name.buf))
		ret = CONTAINER_MISSING;
	strbuf_release(&name);
	return ret;
}

/*
 * A view of this machine needs no runtime when the store and this
 * machine's files already tell each of its sandboxes' containers: seen
 * running (see sandbox_seen_running), or stopped or gone as podman's own
 * files say (state_from_files). Its list is then made from those, and ls
 * costs no "podman ps". A container running unseen, or one those files
 * cannot tell, is the runtime's to tell.
 */
static int view_from_proc(struct cmd_ctx *ctx, struct runtime_view *v, struct sandbox *list,
			  size_t nr, struct runtime_view *views, size_t nviews)
{
	struct oci_storage os = { 0 };
	size_t n = 0, alloc = 0;
	int ret = 0, loaded = 0;

	if (v->host)
		return 0;
	for (size_t i = 0; i < nr; i++) {
		struct sandbox *sb = &list[i];
		struct container_info *ci;
		int state = CONTAINER_RUNNING;

		if (view_of(sb, views, nviews) != v || sb->state != SB_READY)
			continue;
		if (!sb->container || !sandbox_seen_running(sb))
			state = state_from_files(ctx, &os, &loaded, v->name, sb);
		if (state < 0) {
			container_info_list_free(v->list, n);
			v->list = NULL;
			goto done;
		}
		if (state == CONTAINER_MISSING)
			continue;	/* not in the list: a missing container */
		ALLOC_GROW(v->list, n + 1, alloc);
		ci = &v->list[n++];
		memset(ci, 0, sizeof(*ci));
		ci->id = xstrdup(sb->container);
		ci->sandbox_id = xstrdup(sb->id);
		ci->state = state;
		ci->pid = state == CONTAINER_RUNNING ? sb->opts.pid : 0;
	}
	v->nr = n;
	v->ok = 1;
	ret = 1;
done:
	oci_storage_clear(&os);
	return ret;
}

/* Ask every view being asked whose runtime is on this machine (a thread's). */
static void *list_local(void *data)
{
	struct runtime_view *views = data;

	for (struct runtime_view *v = views; v->name; v++)
		if (v->asking && !v->host)
			v->ok = v->rt.ops->list(&v->rt, LABEL_ID, &v->list, &v->nr) == 0;
	return NULL;
}

/*
 * One view per runtime and host in use, each listing its containers once;
 * those of this machine start being asked (in *thread, when *started),
 * so that ls does its own work while the runtime answers: views_finish
 * waits. Returns 1 when a host could not be reached (said on stderr),
 * else 0. views has room for one more than nr, left zeroed.
 */
static int views_start(struct cmd_ctx *ctx, struct sandbox *list, size_t nr,
		       struct runtime_view *views, size_t *nviews_out,
		       pthread_t *thread, int *started)
{
	size_t nviews = 0;
	int ret = 0;

	for (size_t i = 0; i < nr; i++) {
		if (view_of(&list[i], views, nviews))
			continue;
		views[nviews].name = list[i].runtime;
		views[nviews].host = list[i].host;
		views[nviews].first = &list[i];
		nviews++;
	}
	for (size_t v = 0; v < nviews; v++) {
		if (view_from_proc(ctx, &views[v], list, nr, views, nviews))
			continue;
		if (ctx_sandbox_runtime(ctx, &views[v].rt, views[v].first) < 0) {
			/* Said once for the host; then once per sandbox there. */
			views[v].unreachable = views[v].host != NULL;
			for (size_t i = 0; views[v].unreachable && i < nr; i++)
				if (view_of(&list[i], views, nviews) == &views[v] && &list[i] != views[v].first)
					error("cannot reach '%s', the host of sandbox '%s'",
					      list[i].host, list[i].name);
			ret = views[v].unreachable ? 1 : ret;
			continue;
		}
		views[v].asking = 1;
	}
	*nviews_out = nviews;
	*started = !pthread_create(thread, NULL, list_local, views);
	return ret;
}

/* The answers of every view asked (those of other hosts asked now). */
static void views_finish(struct runtime_view *views, size_t nviews, pthread_t thread,
			 int started)
{
	if (started)
		pthread_join(thread, NULL);
	else
		list_local(views);
	for (size_t v = 0; v < nviews; v++) {
		if (!views[v].asking)
			continue;
		if (views[v].host)
			views[v].ok = views[v].rt.ops->list(&views[v].rt, LABEL_ID, &views[v].list,
							   &views[v].nr) == 0;
		runtime_clear(&views[v].rt);
		views[v].asking = 0;
	}
}

/*
 * The state of its latest run, the container's state as listed helping,
 * and what the agent says of itself.
 */
static void run_state(struct cmd_ctx *ctx, struct row *row)
{
	int running = -1;

	if (!strcmp(row->status, "running"))
		running = 1;
	else if (!strcmp(row->status, "stopped") || !strcmp(row->status, "missing container"))
		running = 0;
	row->run_state = agent_run_state(ctx_store(ctx), row->sb, running, &row->run_status);
	row->run_state = agent_shown_state(row->sb, row->run_state, running);
	if (row->run_state == RUN_EXITED)
		row->state = xstrfmt("exited %d", row->run_status);
	else
		row->state = xstrdup(agent_run_state_name(row->run_state));
}

/* Whether the clone's own branch is at another commit than tip, what the host fetched. */
static int moved_since_fetch(const struct row *row, const char *branch, const git_oid *tip)
{
	struct sandbox_refs refs;
	const struct sandbox_ref *ref;
	int moved;

	if (row->sb->host || (strcmp(row->status, "running") && strcmp(row->status, "stopped")))
		return 0;
	if (sandbox_refs_read(row->clone, &refs) < 0)
		return 0;
	ref = sandbox_refs_find(&refs, branch);
	moved = ref && !git_oid_equal(&ref->oid, tip);
	sandbox_refs_clear(&refs);
	return moved;
}

/*
 * How many commits the sandbox's branch, as last fetched, is ahead of the
 * host branch it started from, for the sandboxes of this repository; and
 * whether the sandbox has moved it since.
 */
static void branch_ahead(struct cmd_ctx *ctx, struct row *row)
{
	const struct sandbox *sb = row->sb;
	const char *branch = sb->opts.host_branch;
	struct strbuf ref = STRBUF_INIT;
	git_oid theirs, ours;
	size_t ahead, behind;

	row->ahead = -1;
	if (!branch || !ctx->r.repo || !ctx->r.commondir || strcmp(sb->gitdir, ctx->r.commondir))
		goto done;
	strbuf_addf(&ref, "refs/heads/%s", branch);
	if (git_reference_name_to_id(&ours, ctx->r.repo, ref.buf) < 0)
		goto done;
	strbuf_reset(&ref);
	sandbox_tracking_ref(&ref, sb->name, branch);
	if (git_reference_name_to_id(&theirs, ctx->r.repo, ref.buf) < 0) {
		/* Never fetched: has it moved from where the host is? */
		row->unfetched = moved_since_fetch(row, branch, &ours);
		goto done;
	}
	if (git_graph_ahead_behind(&ahead, &behind, ctx->r.repo, &theirs, &ours) < 0)
		goto done;
	row->ahead = ahead > INT_MAX ? INT_MAX : (int)ahead;
	row->unfetched = moved_since_fetch(row, branch, &theirs);
done:
	git_error_clear();
	if (!branch)
		row->branch = xstrdup("-");
	else if (row->ahead < 0)
		row->branch = xstrfmt("%s%s", branch, row->unfetched ? " *" : "");
	else
		row->branch = xstrfmt("%s +%d%s", branch, row->ahead, row->unfetched ? "*" : "");
	strbuf_release(&ref);
}

/*
 * What a row needs of this machine alone, whatever the runtimes say: its
 * clone's path, and whether the clone is there.
 */
static void rows_prepare(struct cmd_ctx *ctx, struct row *rows, struct sandbox *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		struct strbuf clone = STRBUF_INIT;
		struct workspace ws;

		sandbox_clone_path(&list[i], &clone);
		rows[i].sb = &list[i];
		rows[i].clone = strbuf_detach(&clone, NULL);
		rows[i].clone_state = -1;
		if (list[i].state == SB_READY && !list[i].host) {
			workspace_of(&ws, &list[i], ctx->root.buf, NULL);
			rows[i].clone_state = ws.ops->clone_present(&ws);
		}
	}
}

static void fill_rows(struct cmd_ctx *ctx, struct row *rows, size_t nr,
		      struct runtime_view *views, size_t nviews)
{
	for (size_t i = 0; i < nr; i++) {
		rows[i].status = row_status(ctx, &rows[i], views, nviews);
		if (rows[i].sb->opts.orphaned) {
			/* People see it in the status; scripts get the orphaned flag. */
			rows[i].display = xstrfmt("%s, orphaned", rows[i].status);
		}
		run_state(ctx, &rows[i]);
		branch_ahead(ctx, &rows[i]);
	}
}

static void hint_broken(const struct row *rows, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(rows[i].status, "broken")) {
			fflush(stdout);
			hint("a broken sandbox was left half-made or half-removed by a command "
			     "that was killed; 'git sand gc' removes it");
			break;
		}
}

int cmd_ls(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int all = 0, lng = 0, porcelain = 0, json = 0, nul = 0;
	const struct option options[] = {
		OPT_BOOL('a', "all", &all, "sandboxes of every worktree"),
		OPT_BOOL('l', "long", &lng, "also show BRANCH and the clone's path"),
		OPT_BOOL(0, "porcelain", &porcelain, "machine-readable output (stable)"),
		OPT_BOOL(0, "json", &json, "JSON output (stable)"),
		OPT_BOOL('z', NULL, &nul, "with --porcelain, end lines with NUL"),
		OPT_END(),
	};
	struct sandbox *list = NULL;
	struct runtime_view *views;
	struct row *rows;
	size_t nr, nviews = 0;
	pthread_t thread;
	int ret, started;

	argc = parse_options_or_usage(argc, argv, options, ls_usage, 0);
	if (argc)
		usage_with_options(ls_usage, options);
	if (porcelain && json)
		die("options '--porcelain' and '--json' cannot be used together");
	if (nul && !porcelain)
		die("option '-z' needs '--porcelain'");
	if (!all)
		ctx_require_worktree(ctx);
	if (store_list(ctx_store(ctx), all ? NULL : ctx->r.worktree, &list, &nr) < 0)
		die("cannot list sandboxes");

	/* The runtimes asked first; our own work done while they answer. */
	views = xcalloc(nr + 1, sizeof(*views));
	ret = views_start(ctx, list, nr, views, &nviews, &thread, &started);
	hooks_mark_orphans(ctx->r.repo, ctx->r.commondir, ctx_store(ctx), list, nr);
	rows = xcalloc(nr ? nr : 1, sizeof(*rows));
	rows_prepare(ctx, rows, list, nr);
	views_finish(views, nviews, thread, started);
	fill_rows(ctx, rows, nr, views, nviews);
	if (json)
		print_json(rows, nr);
	else if (porcelain)
		print_porcelain(rows, nr, nul);
	else
		print_table(rows, nr, all, lng);
	hint_broken(rows, nr);

	for (size_t i = 0; i < nr; i++) {
		free(rows[i].clone);
		free(rows[i].display);
		free(rows[i].state);
		free(rows[i].branch);
	}
	free(rows);
	for (size_t v = 0; v < nviews; v++)
		container_info_list_free(views[v].list, views[v].nr);
	free(views);
	store_free_list(list, nr);
	return ret;
}

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-run.h"
#include "agent.h"
#include "compat.h"
#include "devcontainer.h"
#include "gitutil.h"
#include "home.h"
#include "image.h"
#include "lifecycle.h"
#include "msg.h"
#include "net.h"
#include "overlay.h"
#include "path.h"
#include "ports.h"
#include "sandbox-remote.h"
#include "session.h"
#include "ssh.h"
#include "workspace.h"

/*
 * A container spec being filled, and what its strings point into: all of
 * it freed by container_parts_clear.
 */
struct container_parts {
	struct container_spec spec;
	struct strbuf name, clone, mirror, home, envfile, upper, work, gitdir;
	struct mount_spec *mounts;
	size_t nr_mounts;
	struct port_map *ports;
	struct string_list env, env_files, extra_args;
};

#define CONTAINER_PARTS_INIT { .name = STRBUF_INIT, .clone = STRBUF_INIT, \
	.mirror = STRBUF_INIT, .home = STRBUF_INIT, .envfile = STRBUF_INIT, \
	.upper = STRBUF_INIT, .work = STRBUF_INIT, .gitdir = STRBUF_INIT, \
	.env = STRING_LIST_INIT, .env_files = STRING_LIST_INIT, .extra_args = STRING_LIST_INIT }

static void container_parts_clear(struct container_parts *p)
{
	for (size_t i = 0; i < p->nr_mounts; i++)
		mount_spec_clear(&p->mounts[i]);
	free(p->mounts);
	free(p->ports);
	free(p->spec.binds);
	string_list_clear(&p->env);
	string_list_clear(&p->env_files);
	string_list_clear(&p->extra_args);
	strbuf_release(&p->name);
	strbuf_release(&p->clone);
	strbuf_release(&p->mirror);
	strbuf_release(&p->home);
	strbuf_release(&p->envfile);
	strbuf_release(&p->upper);
	strbuf_release(&p->work);
	strbuf_release(&p->gitdir);
}

static void add_bind(struct container_parts *p, const char *src, const char *dst, int ro)
{
	p->spec.binds[p->spec.nr_binds++] = (struct bind){ src, dst, ro, NULL, NULL };
}

/*
 * /app: the clone, or for an overlay workspace its base under the
 * sandbox's upper layer, with the clone's .git beside (see overlay.h).
 */
static void add_app(struct container_parts *p, const struct sandbox *sb)
{
	struct strbuf dir = STRBUF_INIT;

	if (!sb->opts.base) {
		add_bind(p, p->clone.buf, "/app", 0);
		return;
	}
	/* Where its files are: here, or on its host. */
	sandbox_work_dir(sb, &dir);
	strbuf_addf(&p->upper, "%s/" OVERLAY_UPPER, dir.buf);
	strbuf_addf(&p->work, "%s/" OVERLAY_WORK, dir.buf);
	strbuf_release(&dir);
	strbuf_addf(&p->gitdir, "%s/.git", p->clone.buf);
	p->spec.binds[p->spec.nr_binds++] =
		(struct bind){ sb->opts.base, "/app", 0, p->upper.buf, p->work.buf };
	add_bind(p, p->gitdir.buf, "/app/.git", 0);
}

/* The user's own mounts (--mount), checked again: the row is input too. */
static int add_user_mounts(struct container_parts *p, const struct sandbox *sb)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	p->mounts = xcalloc(sb->opts.mounts.nr + 1, sizeof(*p->mounts));
	for (size_t i = 0; i < sb->opts.mounts.nr; i++) {
		struct mount_spec *m = &p->mounts[p->nr_mounts];

		strbuf_reset(&why);
		if (mount_spec_parse(sb->opts.mounts.items[i], m, &why) < 0) {
			ret = error("invalid mount '%s': %s", sb->opts.mounts.items[i], why.buf);
			break;
		}
		p->nr_mounts++;
		add_bind(p, m->src, m->dst, m->readonly);
	}
	strbuf_release(&why);
	return ret;
}

/* Its published ports, checked again: the row is input too. */
static int add_ports(struct container_parts *p, const struct sandbox *sb)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	p->ports = xcalloc(sb->opts.ports.nr + 1, sizeof(*p->ports));
	for (size_t i = 0; i < sb->opts.ports.nr; i++) {
		struct port_map *m = &p->ports[p->spec.nr_ports];

		if (port_spec_parse(m, sb->opts.ports.items[i], &why) < 0 || !m->host_port) {
			ret = error("invalid published port '%s': %s", sb->opts.ports.items[i],
				    why.len ? why.buf : "no host port");
			break;
		}
		p->spec.nr_ports++;
	}
	p->spec.ports = p->ports;
	strbuf_release(&why);
	return ret;
}

/*
 * Its own home, with the copies it carries (see agent.c), the host's
 * ssh-agent when asked for (and only on this machine), and its env files.
 */
static int add_home_and_env(struct container_parts *p, const struct workspace *ws)
{
	const struct sandbox *sb = ws->sb;
	const char *agent_sock = getenv("SSH_AUTH_SOCK");
	struct strbuf work = STRBUF_INIT;

	sandbox_work_dir(sb, &work);
	strbuf_addf(&p->home, "%s/home", work.buf);
	if (ws->ops->has(ws, "home")) {
		add_bind(p, p->home.buf, SANDBOX_HOME, 0);
		string_list_append(&p->env, "HOME=" SANDBOX_HOME);
	}
	if (sb->opts.ssh_agent && ws->ops->local) {
		if (!agent_sock || *agent_sock != '/' || access(agent_sock, F_OK) < 0) {
			strbuf_release(&work);
			return error("--ssh-agent: no ssh-agent socket (SSH_AUTH_SOCK) to forward");
		}
		add_bind(p, agent_sock, "/run/host-ssh-agent.sock", 0);
		string_list_append(&p->env, "SSH_AUTH_SOCK=/run/host-ssh-agent.sock");
	}
	for (size_t i = 0; i < sb->opts.env_files.nr; i++)
		string_list_append(&p->env_files, sb->opts.env_files.items[i]);
	/* --env values live in a file of the sandbox's, never in the store. */
	strbuf_addf(&p->envfile, "%s/env", work.buf);
	if (ws->ops->has(ws, "env"))
		string_list_append(&p->env_files, p->envfile.buf);
	strbuf_release(&work);
	return 0;
}

int sandbox_create_container(struct runtime *rt, const char *root, struct sandbox *sb)
{
	return sandbox_create_container_while(rt, root, sb, NULL, NULL, NULL);
}

int sandbox_create_container_while(struct runtime *rt, const char *root, struct sandbox *sb,
				   int (*fn)(void *data), void *data, struct create_how *how)
{
	static const char *const pid1[] = { "sleep", "infinity", NULL };
	/*
	 * On an overlay, the kernel builds a dentry and an inode of the
	 * mount's own for each path the first time it is looked up there,
	 * and a container's mount is new: the first git status inside would
	 * pay for all of them. The first process looks /app up once, in
	 * the background of whatever runs first (du -x stays on the
	 * overlay: the clone's .git is a mount of its own), then waits.
	 */
	static const char *const pid1_overlay[] = {
		"sh", "-c", "du -sx /app >/dev/null 2>&1; exec sleep infinity", NULL
	};
	struct container_parts p = CONTAINER_PARTS_INIT;
	struct container_spec *spec = &p.spec;
	struct workspace ws;
	struct strbuf id = STRBUF_INIT;
	int ret = -1;

	workspace_of(&ws, sb, root, rt->ssh);
	sandbox_container_name(sb, &p.name);
	sandbox_clone_path(sb, &p.clone);
	ws.ops->mirror_path(&ws, &p.mirror);

	spec->name = p.name.buf;
	spec->hostname = sb->name;
	spec->image = sb->image;
	spec->workdir = "/app";
	spec->labels[spec->nr_labels++] = (struct label){ LABEL_ID, sb->id };
	spec->labels[spec->nr_labels++] = (struct label){ LABEL_NAME, sb->name };
	spec->labels[spec->nr_labels++] = (struct label){ LABEL_WORKTREE, sb->worktree };
	spec->labels[spec->nr_labels++] = (struct label){ LABEL_HOME, ws.root };
	spec->binds = xcalloc(6 + sb->opts.mounts.nr, sizeof(*spec->binds));
	add_app(&p, sb);
	/*
	 * As origin, where the clone's alternates name it; a clone made
	 * before that names its path here, which the sandbox then sees.
	 */
	add_bind(&p, p.mirror.buf, WORKSPACE_ORIGIN, 1);
	if (!sb->opts.neutral_mirror)
		add_bind(&p, p.mirror.buf, p.mirror.buf, 1);
	if (add_user_mounts(&p, sb) < 0 || add_home_and_env(&p, &ws) < 0 || add_ports(&p, sb) < 0)
		goto done;
	spec->cpus = sb->opts.cpus;
	spec->memory = sb->opts.memory;
	spec->network = sb->opts.network;
	if (net_is_allow(sb->opts.network)) {
		/*
		 * An allow-list: no network but the loopback, where the
		 * filter listens (see net.h). The variables only point the
		 * way; leaving them out opens nothing.
		 */
		spec->network = "none";
		for (const char *const *v = net_proxy_env; *v; v++)
			string_list_append(&p.env, *v);
	}
	spec->env_files = &p.env_files;
	spec->env = &p.env;
	spec->command = sb->opts.base ? pid1_overlay : pid1;
	if (devcontainer_run_args(sb, &p.extra_args) < 0)
		goto done;
	spec->extra_args = &p.extra_args;
	spec->meanwhile = fn;
	spec->meanwhile_data = data;
	spec->started = how && how->start ? &how->started : NULL;
	spec->image_unchecked = how && how->image_unchecked;

	ret = rt->ops->create(rt, spec, &id);
	/* Made, even where fn failed: it is the undo's to remove. */
	if (id.len) {
		free(sb->container);
		sb->container = strbuf_detach(&id, NULL);
	}
done:
	container_parts_clear(&p);
	strbuf_release(&id);
	return ret;
}

/*
 * The start time of a process (field 22 of /proc/<pid>/stat), or 0 where
 * there is no /proc (macOS, whose containers run in VMs anyway).
 */
unsigned long long sandbox_pid_start(long pid)
{
	struct strbuf path = STRBUF_INIT, stat = STRBUF_INIT;
	unsigned long long start = 0;
	const char *p;

	strbuf_addf(&path, "/proc/%ld/stat", pid);
	if (!strbuf_read_file(&stat, path.buf) && (p = strrchr(stat.buf, ')'))) {
		/* Fields after the command name; starttime is the 20th of them. */
		for (int field = 2; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		start = strtoull(p, NULL, 10);
	}
	strbuf_release(&path);
	strbuf_release(&stat);
	return start;
}

/*
 * Whether the container is running, told without running the runtime's
 * CLI (which costs tens of milliseconds): its PID 1, recorded when it was
 * last seen running, still exists with the same start time. Only a yes
 * is trusted; anything else asks the runtime.
 */
int sandbox_seen_running(const struct sandbox *sb)
{
	return sb->opts.pid > 0 && sb->opts.pid_start &&
	       sandbox_pid_start(sb->opts.pid) == sb->opts.pid_start;
}

void sandbox_remember_pid(struct store *st, struct sandbox *sb, long pid)
{
	unsigned long long start = pid > 0 ? sandbox_pid_start(pid) : 0;

	if (!start || (pid == sb->opts.pid && start == sb->opts.pid_start))
		return;
	sb->opts.pid = pid;
	sb->opts.pid_start = start;
	store_update(st, sb); /* only an optimisation: failure is harmless */
}

/*
 * An allow-list's filter, for a container running on this machine: it
 * ends with the container, so each start starts it again.
 */
static int ensure_filter(struct sandbox *sb)
{
	if (!net_is_allow(sb->opts.network))
		return 0;
	if (sb->host || !sb->opts.pid || !sb->opts.pid_start)
		return error("the network filter of sandbox '%s' cannot run: its container's "
			     "process is unknown", sb->name);
	return net_proxy_ensure(sb, sb->opts.pid, sb->opts.pid_start);
}

int sandbox_ensure_running(struct runtime *rt, struct store *st, const char *root,
			   struct sandbox *sb, int *started)
{
	struct container_info ci = { 0 };
	struct strbuf clone = STRBUF_INIT;
	struct workspace ws;
	int ret = -1, found;

	workspace_of(&ws, sb, root, rt->ssh);
	if (ws.ops->local && sandbox_seen_running(sb))
		return ensure_filter(sb);
	if (!ws.ops->clone_present(&ws)) {
		sandbox_clone_path(sb, &clone);
		error("the clone of sandbox '%s' is missing ('%s')", sb->name, clone.buf);
		goto done;
	}
	found = sb->container ? rt->ops->inspect(rt, sb->container, &ci) : RUNTIME_NOT_FOUND;
	if (found < 0)
		goto done;
	if (found == RUNTIME_NOT_FOUND) {
		/* One made by a start killed before it recorded the id has our name. */
		struct strbuf name = STRBUF_INIT;

		sandbox_container_name(sb, &name);
		found = rt->ops->remove(rt, name.buf);
		strbuf_release(&name);
		if (found < 0 ||
		    runtime_ensure_image(rt, sb->image, runtime_pull_policy, isatty(2)) < 0 ||
		    sandbox_create_container(rt, root, sb) < 0 ||
		    store_update(st, sb) < 0)
			goto done;
		ci.state = CONTAINER_CREATED;
	}
	if (ci.state != CONTAINER_RUNNING) {
		/* Set before: a start cut short may still have started it. */
		if (started)
			*started = 1;
		/* What the agent said of itself was of the last time it ran. */
		if ((ws.ops->local && agent_report_clear(sb) < 0) ||
		    rt->ops->start(rt, sb->container) < 0)
			goto done;
		/* On every start; its failure is told, and the sandbox is still there to use. */
		devcontainer_run(rt, sb, NULL, DC_POST_START);
		container_info_clear(&ci);
		if (rt->ops->inspect(rt, sb->container, &ci) != 0)
			memset(&ci, 0, sizeof(ci));
	}
	/* The pid is only meaningful where the container runs on this machine. */
	if (ws.ops->local)
		sandbox_remember_pid(st, sb, ci.pid);
	if (ensure_filter(sb) < 0)
		goto done;
	ret = 0;
done:
	container_info_clear(&ci);
	strbuf_release(&clone);
	return ret;
}

int sandbox_default_shell(struct runtime *rt, struct store *st, struct sandbox *sb,
			  struct strbuf *out)
{
	/* A fixed script: nothing from the user or the sandbox is in it. */
	static const char *const probe[] = {
		"sh", "-c", "for s in zsh bash sh; do command -v $s && exit 0; done; exit 1", NULL
	};
	int status;

	strbuf_reset(out);
	if (sb->opts.shell) {
		strbuf_addstr(out, sb->opts.shell);
		return 0;
	}
	status = rt->ops->exec_capture(rt, sb->container, NULL, probe, out);
	strbuf_trim(out);
	if (status != 0 || !out->len || strchr(out->buf, '\n')) {
		strbuf_reset(out);
		strbuf_addstr(out, "/bin/sh");
		return 0;
	}
	sb->opts.shell = xstrdup(out->buf);
	/* Remembering it only saves a probe next time. */
	store_update(st, sb);
	return 0;
}

/*
 * Open the session in tmux when asked for and the image has it; say so
 * when it has not. -2 when it is not to be (the caller runs cmd itself).
 */
static int in_session(struct runtime *rt, struct sandbox *sb, enum session_kind kind,
		      const char *const *cmd)
{
	int ret = session_available(rt, sb), detached;

	if (ret < 0)
		return -2;
	if (!ret) {
		fprintf(stderr, "The image '%s' has no %s: the %s ends with this terminal "
			"(sand.session).\n", sb->image ? sb->image : "", SESSION_PROGRAM,
			session_kind_name(kind));
		return -2;
	}
	if (isatty(2))
		fprintf(stderr, "In session '%s' of sandbox '%s': %s detaches, "
			"'git sand attach %s' comes back.\n", session_kind_name(kind), sb->name,
			SESSION_DETACH_KEY_SHOWN, sb->name);
	ret = session_open(rt, sb, kind, cmd, &detached);
	if (detached && isatty(2))
		fprintf(stderr, "Detached; 'git sand attach %s' returns to it.\n", sb->name);
	return ret;
}

int sandbox_session(struct runtime *rt, struct store *st, struct sandbox *sb, const char *shell,
		    int want_agent, int use_session)
{
	struct exec_opts eo = { .workdir = "/app", .interactive = 1, .tty = isatty(0) };
	const struct agent *agent = want_agent && sb->opts.agent ? agent_find(sb->opts.agent) : NULL;
	struct strbuf cmd = STRBUF_INIT, found = STRBUF_INIT;
	const char *argv[] = { NULL, NULL };
	int ret = -2;

	/* Told when it fails, and the session opened all the same. */
	devcontainer_run(rt, sb, NULL, DC_POST_ATTACH);
	if (agent) {
		/* A fixed script; the agent's name is its argument. */
		const char *probe[] = { "sh", "-c", "command -v \"$1\"", "sh", agent->command, NULL };

		if (rt->ops->exec_capture(rt, sb->container, NULL, probe, &found) == 0) {
			strbuf_addstr(&cmd, agent->command);
			/* An agent may take many seconds to draw its first screen. */
			if (isatty(2))
				fprintf(stderr, "Starting %s in sandbox '%s'...\n",
					agent->command, sb->name);
		} else {
			fprintf(stderr, "The image '%s' has no '%s' command: opening a shell "
				"instead.\n", sb->image ? sb->image : "", agent->command);
			image_hint_agent(sb->image, agent->name);
			agent = NULL;
		}
	}
	if (!agent) {
		if (shell)
			strbuf_addstr(&cmd, shell);
		else
			sandbox_default_shell(rt, st, sb, &cmd);
	}
	argv[0] = cmd.buf;
	/* A session needs a terminal to attach to; without one, as ever. */
	if (use_session && isatty(0) && isatty(1))
		ret = in_session(rt, sb, agent ? SESSION_AGENT : SESSION_SHELL, argv);
	if (ret == -2) {
		char *user = devcontainer_user(sb);

		eo.user = user;
		ret = rt->ops->exec(rt, sb->container, &eo, argv);
		free(user);
	}
	strbuf_release(&cmd);
	strbuf_release(&found);
	return ret < 0 ? 1 : ret;
}

int sandbox_destroy(struct runtime *rt, struct store *st, git_repository *repo,
		    struct sandbox *sb)
{
	git_repository *own = NULL;
	int ret = 0;

	sb->state = SB_REMOVING;
	if (store_update(st, sb) < 0)
		return -1;

	if (net_is_allow(sb->opts.network))
		net_proxy_stop(sb->dir);
	if (rt) {
		/*
		 * A new killed between create and recording the id left a
		 * container with no id in the row: it still has our name.
		 */
		struct strbuf name = STRBUF_INIT;

		if (!sb->container)
			sandbox_container_name(sb, &name);
		if (rt->ops->remove(rt, sb->container ? sb->container : name.buf) < 0)
			ret = -1;
		strbuf_release(&name);
	}
	/*
	 * Not under a container that may still run: an overlay's base there
	 * could go with it. The row stays for rm or gc to try again.
	 */
	if (ret < 0)
		return ret;
	if (rt) {
		struct workspace ws;

		workspace_of(&ws, sb, NULL, rt->ssh);
		if (ws.ops->remove(&ws) < 0)
			ret = -1;
	}
	if (remove_tree(sb->dir) < 0)
		ret = -1;
	if (!repo) {
		if (git_repository_open_ext(&own, sb->gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
			git_error_clear(); /* the repository is gone: so is its remote */
		repo = own;
	}
	if (repo && sandbox_remote_remove(repo, sb) < 0)
		ret = -1;
	git_repository_free(own);
	/* The row goes last, and only once the rest is gone: gc can retry. */
	if (!ret && store_delete(st, sb->id) < 0)
		ret = -1;
	return ret;
}

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "clone.h"
#include "compat.h"
#include "gitutil.h"
#include "home.h"
#include "lifecycle.h"
#include "msg.h"
#include "path.h"
#include "remote.h"
#include "served.h"
#include "ssh.h"

#define ORIGIN_RO "/run/git-origin-ro"

void sandbox_mirror_path(const struct sandbox *sb, const char *root, struct strbuf *out)
{
	struct strbuf key = STRBUF_INIT;

	if (!sb->host) {
		mirror_path(out, root, sb->gitdir);
		return;
	}
	/*
	 * On a host that several machines use, a repository at the same
	 * path on two of them is not the same repository.
	 */
	machine_id(&key);
	strbuf_addf(&key, ":%s", sb->gitdir);
	mirror_path(out, sb->remote_root, key.buf);
	strbuf_release(&key);
}

int sandbox_create_container(struct runtime *rt, const char *root, struct sandbox *sb)
{
	static const char *const pid1[] = { "sleep", "infinity", NULL };
	struct container_spec spec = { 0 };
	struct strbuf name = STRBUF_INIT, clone = STRBUF_INIT, mirror = STRBUF_INIT;
	struct strbuf id = STRBUF_INIT, why = STRBUF_INIT;
	struct mount_spec *mounts = xcalloc(sb->opts.mounts.nr + 1, sizeof(*mounts));
	struct strbuf home = STRBUF_INIT, envfile = STRBUF_INIT, work = STRBUF_INIT;
	struct string_list env = STRING_LIST_INIT, env_files = STRING_LIST_INIT;
	const char *agent_sock = getenv("SSH_AUTH_SOCK");
	size_t nr_mounts = 0;
	int ret = -1;

	sandbox_container_name(sb, &name);
	sandbox_clone_path(sb, &clone);
	sandbox_mirror_path(sb, root, &mirror);

	spec.name = name.buf;
	spec.hostname = sb->name;
	spec.image = sb->image;
	spec.workdir = "/app";
	spec.labels[spec.nr_labels++] = (struct label){ LABEL_ID, sb->id };
	spec.labels[spec.nr_labels++] = (struct label){ LABEL_NAME, sb->name };
	spec.labels[spec.nr_labels++] = (struct label){ LABEL_WORKTREE, sb->worktree };
	spec.labels[spec.nr_labels++] = (struct label){ LABEL_HOME, sb->host ? sb->remote_root : root };
	spec.binds = xcalloc(5 + sb->opts.mounts.nr, sizeof(*spec.binds));
	spec.binds[spec.nr_binds++] = (struct bind){ clone.buf, "/app", 0 };
	/*
	 * As origin, where the clone's alternates name it; a clone made
	 * before that names its path here, which the sandbox then sees.
	 */
	spec.binds[spec.nr_binds++] = (struct bind){ mirror.buf, ORIGIN_RO, 1 };
	if (!sb->opts.neutral_mirror)
		spec.binds[spec.nr_binds++] = (struct bind){ mirror.buf, mirror.buf, 1 };
	for (size_t i = 0; i < sb->opts.mounts.nr; i++) {
		struct mount_spec *m = &mounts[nr_mounts];

		strbuf_reset(&why);
		if (mount_spec_parse(sb->opts.mounts.items[i], m, &why) < 0) {
			error("invalid mount '%s': %s", sb->opts.mounts.items[i], why.buf);
			goto done;
		}
		nr_mounts++;
		spec.binds[spec.nr_binds++] = (struct bind){ m->src, m->dst, m->readonly };
	}
	/*
	 * Its own home, with the copies it carries (see agent.c). On another
	 * host, new always sends one.
	 */
	sandbox_work_dir(sb, &work);
	strbuf_addf(&home, "%s/home", work.buf);
	if (sb->host || !access(home.buf, F_OK)) {
		spec.binds[spec.nr_binds++] = (struct bind){ home.buf, SANDBOX_HOME, 0 };
		string_list_append(&env, "HOME=" SANDBOX_HOME);
	}
	/* The host's ssh-agent, only when asked for (and only here). */
	if (sb->opts.ssh_agent && !sb->host) {
		if (!agent_sock || *agent_sock != '/' || access(agent_sock, F_OK) < 0) {
			error("--ssh-agent: no ssh-agent socket (SSH_AUTH_SOCK) to forward");
			goto done;
		}
		spec.binds[spec.nr_binds++] = (struct bind){ agent_sock, "/run/host-ssh-agent.sock", 0 };
		string_list_append(&env, "SSH_AUTH_SOCK=/run/host-ssh-agent.sock");
	}
	for (size_t i = 0; i < sb->opts.env_files.nr; i++)
		string_list_append(&env_files, sb->opts.env_files.items[i]);
	/* --env values live in a file of the sandbox's, never in the store. */
	strbuf_addf(&envfile, "%s/env", work.buf);
	if (sb->host ? sb->opts.env_keys.nr > 0 : !access(envfile.buf, F_OK))
		string_list_append(&env_files, envfile.buf);
	spec.cpus = sb->opts.cpus;
	spec.memory = sb->opts.memory;
	spec.network = sb->opts.network;
	spec.env_files = &env_files;
	spec.env = &env;
	spec.command = pid1;

	if (rt->ops->create(rt, &spec, &id) < 0)
		goto done;
	free(sb->container);
	sb->container = strbuf_detach(&id, NULL);
	ret = 0;
done:
	for (size_t i = 0; i < nr_mounts; i++)
		mount_spec_clear(&mounts[i]);
	free(mounts);
	free(spec.binds);
	string_list_clear(&env);
	string_list_clear(&env_files);
	strbuf_release(&home);
	strbuf_release(&envfile);
	strbuf_release(&work);
	strbuf_release(&name);
	strbuf_release(&clone);
	strbuf_release(&mirror);
	strbuf_release(&id);
	strbuf_release(&why);
	return ret;
}

/*
 * The start time of a process (field 22 of /proc/<pid>/stat), or 0 where
 * there is no /proc (macOS, whose containers run in VMs anyway).
 */
static unsigned long long process_start(long pid)
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
static int seen_running(const struct sandbox *sb)
{
	return sb->opts.pid > 0 && sb->opts.pid_start &&
	       process_start(sb->opts.pid) == sb->opts.pid_start;
}

static void remember_pid(struct store *st, struct sandbox *sb, long pid)
{
	unsigned long long start = pid > 0 ? process_start(pid) : 0;

	if (!start || (pid == sb->opts.pid && start == sb->opts.pid_start))
		return;
	sb->opts.pid = pid;
	sb->opts.pid_start = start;
	store_update(st, sb); /* only an optimisation: failure is harmless */
}

int sandbox_ensure_running(struct runtime *rt, struct store *st, const char *root,
			   struct sandbox *sb, int *started)
{
	struct container_info ci = { 0 };
	struct strbuf clone = STRBUF_INIT;
	int ret = -1, found;

	if (!sb->host && seen_running(sb))
		return 0;
	sandbox_clone_path(sb, &clone);
	if (!sb->host && access(clone.buf, F_OK) < 0) {
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
		if (found < 0 || sandbox_create_container(rt, root, sb) < 0 ||
		    store_update(st, sb) < 0)
			goto done;
		ci.state = CONTAINER_CREATED;
	}
	if (ci.state != CONTAINER_RUNNING) {
		/* Set before: a start cut short may still have started it. */
		if (started)
			*started = 1;
		if (rt->ops->start(rt, sb->container) < 0)
			goto done;
		container_info_clear(&ci);
		if (rt->ops->inspect(rt, sb->container, &ci) != 0)
			memset(&ci, 0, sizeof(ci));
	}
	/* The pid is only meaningful where the container runs on this machine. */
	if (!sb->host)
		remember_pid(st, sb, ci.pid);
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
	status = rt->ops->exec_capture(rt, sb->container, probe, out);
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

int sandbox_session(struct runtime *rt, struct store *st, struct sandbox *sb, const char *shell,
		    int want_agent)
{
	struct exec_opts eo = { .workdir = "/app", .interactive = 1, .tty = isatty(0) };
	const struct agent *agent = want_agent && sb->opts.agent ? agent_find(sb->opts.agent) : NULL;
	struct strbuf cmd = STRBUF_INIT, found = STRBUF_INIT;
	const char *argv[] = { NULL, NULL };
	int ret;

	if (agent) {
		/* A fixed script; the agent's name is its argument. */
		const char *probe[] = { "sh", "-c", "command -v \"$1\"", "sh", agent->command, NULL };

		if (rt->ops->exec_capture(rt, sb->container, probe, &found) == 0) {
			strbuf_addstr(&cmd, agent->command);
			/* An agent may take many seconds to draw its first screen. */
			if (isatty(2))
				fprintf(stderr, "Starting %s in sandbox '%s'...\n",
					agent->command, sb->name);
		} else {
			fprintf(stderr, "The image has no '%s' command: opening a shell instead.\n",
				agent->command);
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
	ret = rt->ops->exec(rt, sb->container, &eo, argv);
	strbuf_release(&cmd);
	strbuf_release(&found);
	return ret < 0 ? 1 : ret;
}

void sandbox_remote_name(const struct sandbox *sb, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "sand/%s", sb->name);
}

enum remote_owner { REMOTE_ABSENT, REMOTE_OURS, REMOTE_FOREIGN };

/*
 * git locks its config file for every write, and so does libgit2, which
 * fails at once when another process holds the lock: git-sand commands
 * running side by side, or the user's own git. Wait a little and retry.
 */
#define LOCK_RETRIES 300

static int locked_retry(int err, int *attempt)
{
	struct timespec ts = { 0, 0 };
	uint32_t r;

	if (err != GIT_ELOCKED || ++*attempt > LOCK_RETRIES)
		return 0;
	git_error_clear();
	if (random_bytes(&r, sizeof(r)) < 0)
		r = (uint32_t)getpid();
	ts.tv_nsec = (long)(1000000 + r % 9000000); /* 1 to 10 ms */
	nanosleep(&ts, NULL);
	return 1;
}

static int remote_create_retry(git_remote **out, git_repository *repo, const char *name,
			       const char *url, const char *spec)
{
	int err, attempt = 0;

	do {
		err = git_remote_create_with_fetchspec(out, repo, name, url, spec);
	} while (err < 0 && locked_retry(err, &attempt));
	return err;
}

int remote_delete_retry(git_repository *repo, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	git_config *cfg = NULL;
	int err, attempt = 0;

	do {
		err = git_remote_delete(repo, name);
	} while (err < 0 && locked_retry(err, &attempt));
	if (err != GIT_ENOTFOUND)
		return err;
	/* No remote, but maybe our mark, left by a new killed between the two. */
	git_error_clear();
	strbuf_addf(&key, "remote.%s.sandbox", name);
	if (!(err = git_repository_config(&cfg, repo))) {
		attempt = 0;
		do {
			err = git_config_delete_entry(cfg, key.buf);
		} while (err < 0 && locked_retry(err, &attempt));
	}
	git_config_free(cfg);
	strbuf_release(&key);
	return err;
}

static int config_set_retry(git_repository *repo, const char *key, const char *value)
{
	git_config *cfg = NULL;
	int err, attempt = 0;

	if ((err = git_repository_config(&cfg, repo)) < 0)
		return err;
	do {
		err = git_config_set_string(cfg, key, value);
	} while (err < 0 && locked_retry(err, &attempt));
	git_config_free(cfg);
	return err;
}

/*
 * Who owns the remote "sand/<name>": nobody, git-sand (the sandbox id it
 * was made for goes to owner_id), or the user.
 */
static int remote_owner(git_repository *repo, const struct sandbox *sb, struct strbuf *owner_id)
{
	struct strbuf name = STRBUF_INIT, key = STRBUF_INIT;
	git_remote *remote = NULL;
	git_config *cfg = NULL;
	int err, ret = -1;

	sandbox_remote_name(sb, &name);
	err = git_remote_lookup(&remote, repo, name.buf);
	git_error_clear();
	if (err == GIT_ENOTFOUND) {
		ret = REMOTE_ABSENT;
		goto done;
	}
	/* A remote libgit2 cannot parse still counts as someone's remote. */
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		error_lg2("cannot read the repository's configuration");
		goto done;
	}
	strbuf_addf(&key, "remote.%s.sandbox", name.buf);
	err = config_get_str(cfg, key.buf, owner_id);
	if (err < 0)
		goto done;
	ret = err ? REMOTE_OURS : REMOTE_FOREIGN;
done:
	git_remote_free(remote);
	git_config_free(cfg);
	strbuf_release(&name);
	strbuf_release(&key);
	return ret;
}

int sandbox_remote_check(git_repository *repo, struct store *st, const struct sandbox *sb)
{
	struct strbuf owner = STRBUF_INIT;
	struct sandbox other = { 0 };
	int who = remote_owner(repo, sb, &owner), ret = 0;

	if (who < 0) {
		ret = -1;
	} else if (who == REMOTE_FOREIGN) {
		ret = error("remote 'sand/%s' already exists and was not made by git-sand", sb->name);
	} else if (who == REMOTE_OURS && strcmp(owner.buf, sb->id)) {
		/* Another worktree of this repository may use the name. */
		int found = store_get_by_id(st, owner.buf, &other);

		if (found < 0)
			ret = -1;
		else if (!found)
			ret = error("remote 'sand/%s' belongs to the sandbox of that name in '%s'",
				    sb->name, other.worktree);
	}
	sandbox_clear(&other);
	strbuf_release(&owner);
	return ret;
}

int sandbox_remote_url(const struct sandbox *sb, struct strbuf *out)
{
	struct ssh_target t;
	struct strbuf why = STRBUF_INIT, clone = STRBUF_INIT;
	int ret = 0;

	strbuf_reset(out);
	sandbox_clone_path(sb, &clone);
	if (!sb->host) {
		strbuf_addbuf(out, &clone);
	} else if (ssh_url_parse(sb->host, &t, &why) < 0) {
		ret = error("sandbox '%s' has an invalid host '%s': %s", sb->name, sb->host, why.buf);
	} else {
		/* As the user named it: their own ssh resolves an alias. */
		int bracket = strchr(t.host, ':') != NULL;

		strbuf_addf(out, "ssh://%s%s%s%s%s", t.user ? t.user : "", t.user ? "@" : "",
			    bracket ? "[" : "", t.host, bracket ? "]" : "");
		if (t.port)
			strbuf_addf(out, ":%d", t.port);
		strbuf_addbuf(out, &clone);
		ssh_target_clear(&t);
	}
	strbuf_release(&why);
	strbuf_release(&clone);
	return ret;
}

int sandbox_remote_add(git_repository *repo, struct store *st, const struct sandbox *sb)
{
	struct strbuf name = STRBUF_INIT, url = STRBUF_INIT, spec = STRBUF_INIT, key = STRBUF_INIT;
	git_remote *remote = NULL;
	int ret = -1;

	if (sandbox_remote_check(repo, st, sb) < 0)
		goto done;
	sandbox_remote_name(sb, &name);
	/* What is left is ours and stale: replace it. */
	if (remote_delete_retry(repo, name.buf) < 0)
		git_error_clear(); /* absent */
	if (sandbox_remote_url(sb, &url) < 0)
		goto done;
	strbuf_addf(&spec, "+refs/heads/*:refs/remotes/%s/*", name.buf);
	/* The mark first: whoever sees the remote sees that it is ours. */
	strbuf_addf(&key, "remote.%s.sandbox", name.buf);
	if (config_set_retry(repo, key.buf, sb->id) < 0) {
		error_lg2("cannot mark the remote '%s' as git-sand's", name.buf);
		goto done;
	}
	if (remote_create_retry(&remote, repo, name.buf, url.buf, spec.buf) < 0) {
		error_lg2("cannot add the remote '%s'", name.buf);
		remote_delete_retry(repo, name.buf);
		goto done;
	}
	/*
	 * A plain git fetch of it goes through git-sand (see served.h), and
	 * follows no tag of the sandbox's into the repository's own.
	 */
	strbuf_reset(&key);
	strbuf_addf(&key, "remote.%s.tagOpt", name.buf);
	if (config_set_retry(repo, key.buf, "--no-tags") < 0)
		goto config_failed;
	strbuf_reset(&key);
	strbuf_addf(&key, "remote.%s.uploadpack", name.buf);
	if (!sb->host && config_set_retry(repo, key.buf, SERVED_UPLOADPACK) < 0)
		goto config_failed;
	ret = 0;
	goto done;
config_failed:
	error_lg2("cannot configure the remote '%s'", name.buf);
	remote_delete_retry(repo, name.buf);
done:
	git_remote_free(remote);
	strbuf_release(&name);
	strbuf_release(&url);
	strbuf_release(&spec);
	strbuf_release(&key);
	return ret;
}

int sandbox_remote_remove(git_repository *repo, const struct sandbox *sb)
{
	struct strbuf name = STRBUF_INIT, owner = STRBUF_INIT;
	int who = remote_owner(repo, sb, &owner), ret = 0;

	if (who < 0) {
		ret = -1;
	} else if (who == REMOTE_OURS && !strcmp(owner.buf, sb->id)) {
		sandbox_remote_name(sb, &name);
		if (remote_delete_retry(repo, name.buf) < 0)
			ret = error_lg2("cannot remove the remote '%s'", name.buf);
	}
	strbuf_release(&name);
	strbuf_release(&owner);
	return ret;
}

void sandbox_lock_path(const struct sandbox *sb, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s.lock", sb->dir);
}

int sandbox_lock(const struct sandbox *sb, int *fd_out)
{
	struct strbuf path = STRBUF_INIT;
	int fd, ret = 0;

	*fd_out = -1;
	sandbox_lock_path(sb, &path);
	*strrchr(path.buf, '/') = '\0';
	if (mkdir_p(path.buf, 0700) < 0) {
		ret = error_errno("cannot create '%s'", path.buf);
		goto done;
	}
	sandbox_lock_path(sb, &path);
	fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = error_errno("cannot open '%s'", path.buf);
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		ret = errno == EWOULDBLOCK ? SANDBOX_BUSY :
			error_errno("cannot lock '%s'", path.buf);
		goto done;
	}
	*fd_out = fd;
done:
	strbuf_release(&path);
	return ret;
}

int sandbox_lock_held(const struct sandbox *sb)
{
	struct strbuf path = STRBUF_INIT;
	int fd, held = 0;

	sandbox_lock_path(sb, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	strbuf_release(&path);
	return held;
}

int sandbox_is_broken(struct store *st, struct sandbox *sb)
{
	struct sandbox now = { 0 };
	int broken = 0;

	if (!strcmp(sb->state, "ready") || sandbox_lock_held(sb))
		return 0;
	/*
	 * The row was read before we looked at the lock: the command may
	 * have finished in between. Only a row still half-made now, with
	 * nobody holding its lock, is broken.
	 */
	if (store_get_by_id(st, sb->id, &now) == 0) {
		if (strcmp(now.state, "ready")) {
			broken = 1;
		} else {
			free(sb->state);
			sb->state = xstrdup(now.state);
		}
	}
	sandbox_clear(&now);
	return broken;
}

void sandbox_unlock(const struct sandbox *sb, int fd, int remove)
{
	struct strbuf path = STRBUF_INIT;

	if (fd < 0)
		return;
	if (remove) {
		sandbox_lock_path(sb, &path);
		unlink(path.buf);
	}
	close(fd);
	strbuf_release(&path);
}

int sandbox_destroy(struct runtime *rt, struct store *st, git_repository *repo,
		    struct sandbox *sb)
{
	git_repository *own = NULL;
	int ret = 0;

	free(sb->state);
	sb->state = xstrdup("removing");
	if (store_update(st, sb) < 0)
		return -1;

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
	if (rt && sb->host) {
		struct strbuf work = STRBUF_INIT;

		sandbox_work_dir(sb, &work);
		if (!rt->ssh || remote_remove_dir(rt->ssh, work.buf) < 0)
			ret = -1;
		strbuf_release(&work);
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

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "clone.h"
#include "cmd.h"
#include "home.h"
#include "lifecycle.h"
#include "msg.h"
#include "path.h"
#include "remote.h"
#include "settings.h"
#include "ssh.h"
#include "work.h"

#define NEW_USAGE \
	"git sand new [<name>] [-d | --detach] [--rm] [-b | --branch] [-i | --image <image>]\n" \
	"                    [-s | --shell <cmd>] [-a | --agent <agent>] [--profile <profile>]\n" \
	"                    [--runtime <runtime>] [--cpus <n>] [--memory <size>] [--network <mode>]\n" \
	"                    [--mount <src>:<dst>[:ro]]... [-e | --env-file <file>]... [--env <key>=<value>]...\n" \
	"                    [--[no-]ssh-agent] [--host <ssh-url>] [--accept-new-host-key]"

static const char *const new_usage[] = { NEW_USAGE, NULL };

#define DEFAULT_IMAGE "localhost/git-sand-default:latest"

/* What a failing or interrupted new must take apart again. */
struct undo {
	struct cmd_ctx *ctx;
	struct runtime *rt;
	struct sandbox *sb;
	int have_row;
	int lock;
};

static void undo_new(void *data)
{
	struct undo *u = data;

	if (!u->have_row) {
		sandbox_unlock(u->sb, u->lock, 1);
		u->lock = -1;
		return;
	}
	if (sandbox_destroy(u->rt, u->ctx->store, u->ctx->r.repo, u->sb) < 0) {
		warning("could not remove everything sandbox '%s' had made; "
			"'git sand gc' will", u->sb->name);
		sandbox_unlock(u->sb, u->lock, 0);
	} else {
		sandbox_unlock(u->sb, u->lock, 1);
	}
	u->have_row = 0;
}

/* new --rm, on leaving the session: remove the sandbox unless it holds work. */
static int rm_on_exit(struct cmd_ctx *ctx, struct runtime *rt, struct sandbox *sb)
{
	struct sandbox_work w = SANDBOX_WORK_INIT;
	struct strbuf what = STRBUF_INIT;
	int known = !ctx_sandbox_work(ctx, sb, rt, 0, &w), fd = -1, lock, ret = 0;

	if (!known || sandbox_work_any(&w)) {
		sandbox_work_describe(&w, "\t", &what);
		fprintf(stderr, "Kept sandbox '%s': it holds work that is not in this repository:\n%s",
			sb->name, what.buf);
		hint("'git sand sync %s' brings its commits here; 'git sand shell %s' returns to it; "
		     "'git sand rm -f %s' removes it anyway", sb->name, sb->name, sb->name);
		goto done;
	}
	lock = sandbox_lock(sb, &fd);
	if (lock) {
		ret = lock < 0 ? -1 : error("sandbox '%s' is being removed by another command",
					    sb->name);
		goto done;
	}
	signals_hold(1);
	if (sandbox_destroy(rt, ctx->store, ctx->r.repo, sb) < 0)
		ret = error("could not remove sandbox '%s' completely", sb->name);
	else
		fprintf(stderr, "Removed sandbox '%s': it held no work.\n", sb->name);
	signals_hold(0);
	sandbox_unlock(sb, fd, !ret);
done:
	sandbox_work_clear(&w);
	strbuf_release(&what);
	return ret;
}

static void check_env_file(const char *path, struct string_list *out)
{
	char *abs = realpath(path, NULL);
	struct stat st;

	if (!abs || stat(abs, &st) < 0)
		die_errno("cannot use env file '%s'", path);
	if (!S_ISREG(st.st_mode))
		die("env file '%s' is not a regular file", path);
	if (access(abs, R_OK) < 0)
		die_errno("cannot read env file '%s'", path);
	string_list_append(out, abs);
	free(abs);
}

/* On another host, the source is a path there: only its form is checked. */
static void check_mount(const char *spec, int remote)
{
	struct mount_spec m;
	struct strbuf why = STRBUF_INIT;
	struct stat st;

	if (mount_spec_parse(spec, &m, &why) < 0)
		die("invalid mount '%s': %s", spec, why.buf);
	if (!remote && stat(m.src, &st) < 0)
		die_errno("invalid mount '%s': cannot use '%s'", spec, m.src);
	mount_spec_clear(&m);
	strbuf_release(&why);
}

static void check_host_branch(struct cmd_ctx *ctx, const char *name)
{
	git_reference *ref = NULL;
	struct strbuf refname = STRBUF_INIT;
	int valid = 0;

	strbuf_addf(&refname, "refs/heads/%s", name);
	if (git_reference_name_is_valid(&valid, refname.buf) < 0 || !valid)
		die("'%s' is not a valid branch name", name);
	if (!git_reference_lookup(&ref, ctx->r.repo, refname.buf)) {
		git_reference_free(ref);
		die("a branch named '%s' already exists", name);
	}
	git_error_clear();
	strbuf_release(&refname);
}

/* Insert the row, generating names until one is free when none was given. */
static void claim_name(struct cmd_ctx *ctx, struct sandbox *sb, const char *given)
{
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;

	for (int tries = 0; ; tries++) {
		int ret;

		if (given) {
			strbuf_addstr(&name, given);
		} else {
			sandbox_name_generate(&name);
			if (tries >= 8)
				strbuf_addf(&name, "-%d", tries);
		}
		if (sandbox_name_check(name.buf, &why) < 0)
			die("invalid sandbox name '%s': %s", name.buf, why.buf);
		free(sb->name);
		sb->name = xstrdup(name.buf);
		ret = store_insert(ctx_store(ctx), sb);
		if (ret < 0)
			die("cannot record the new sandbox");
		if (!ret)
			break;
		if (given) {
			error("sandbox '%s' already exists in this worktree", given);
			hint("use 'git sand shell %s' to open a shell in it", given);
			exit_after_cleanup(EXIT_FATAL);
		}
		if (tries > 64)
			die("cannot find a free sandbox name: give one");
		strbuf_reset(&name);
	}
	strbuf_release(&name);
	strbuf_release(&why);
}

/* Whether sand.<key> or the profile's is set at all (even to nothing). */
static int has_config(struct settings *set, const char *key)
{
	struct strbuf origin = STRBUF_INIT;
	char *v = settings_get(set, key, NULL, &origin);
	int has = v != NULL;

	free(v);
	strbuf_release(&origin);
	return has;
}

/*
 * The setup command (sand.setup), run once inside the new sandbox, in
 * /app, by its shell: it is the user's own command for the sandbox. Its
 * output goes to <dir>/setup.log; its failure is reported, not fatal.
 */
static void run_setup(struct runtime *rt, struct sandbox *sb, const char *setup)
{
	struct strbuf log = STRBUF_INIT, out = STRBUF_INIT;
	const char *cmd[] = { "sh", "-c", setup, NULL };
	FILE *fp;
	int status;

	strbuf_addf(&log, "%s/setup.log", sb->dir);
	if (isatty(2))
		fprintf(stderr, "Running the setup command (output in %s)...\n", log.buf);
	status = rt->ops->exec_capture(rt, sb->container, cmd, &out);
	fp = fopen(log.buf, "w");
	if (fp) {
		fwrite(out.buf, 1, out.len, fp);
		fprintf(fp, "[setup exited with status %d]\n", status);
		fclose(fp);
	}
	if (status != 0)
		warning("the setup command failed (status %d); see '%s'", status, log.buf);
	sb->opts.setup_done = 1;
	strbuf_release(&log);
	strbuf_release(&out);
}

/*
 * On another host, the env files (--env-file) are copied with the
 * sandbox (into env.d/), and its record names the copies there.
 */
static int remote_env_files(struct sandbox *sb)
{
	struct strbuf work = STRBUF_INIT, dst = STRBUF_INIT;
	int ret = 0;

	sandbox_work_dir(sb, &work);
	for (size_t i = 0; !ret && i < sb->opts.env_files.nr; i++) {
		strbuf_reset(&dst);
		strbuf_addf(&dst, "%s/env.d", sb->dir);
		if (mkdir_p(dst.buf, 0700) < 0) {
			ret = error_errno("cannot create '%s'", dst.buf);
			break;
		}
		strbuf_addf(&dst, "/%zu", i);
		if (copy_file(sb->opts.env_files.items[i], dst.buf, COPY_FOLLOW) < 0) {
			ret = -1;
			break;
		}
		free(sb->opts.env_files.items[i]);
		sb->opts.env_files.items[i] = xstrfmt("%s/env.d/%zu", work.buf, i);
	}
	strbuf_release(&work);
	strbuf_release(&dst);
	return ret;
}

/*
 * Send what was made here (the .git, the home, env files) and the changed
 * files of the working tree to the sandbox's directory on its host; then
 * nothing of it (secrets included) stays here.
 */
static int send_workspace(struct cmd_ctx *ctx, struct runtime *rt, struct sandbox *sb)
{
	static const char *const parts[] = { "app", "home", "env", "env.d" };
	struct remote_workspace w = { 0 };
	struct strbuf work = STRBUF_INIT, staging = STRBUF_INIT, p = STRBUF_INIT;
	int ret;

	sandbox_work_dir(sb, &work);
	/* Only the parts: the directory also holds logs that stay here. */
	strbuf_addf(&staging, "%s/send", sb->dir);
	ret = mkdir(staging.buf, 0700) < 0 ? error_errno("cannot create '%s'", staging.buf) : 0;
	for (size_t i = 0; !ret && i < ARRAY_SIZE(parts); i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", sb->dir, parts[i]);
		if (!access(p.buf, F_OK)) {
			struct strbuf to = STRBUF_INIT;

			strbuf_addf(&to, "%s/%s", staging.buf, parts[i]);
			if (rename(p.buf, to.buf) < 0)
				ret = error_errno("cannot move '%s'", p.buf);
			strbuf_release(&to);
		}
	}
	w.repo = ctx->r.repo;
	w.worktree = ctx->r.worktree;
	w.staging = staging.buf;
	w.dest = work.buf;
	w.progress = isatty(2);
	if (!ret)
		ret = remote_workspace_send(rt->ssh, &w);
	if (remove_tree(staging.buf) < 0 && !ret)
		ret = -1;
	strbuf_release(&work);
	strbuf_release(&staging);
	strbuf_release(&p);
	return ret;
}

int cmd_new(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int detach = 0, rm = 0, branch = 0, ssh_agent = -1, accept_new = 0, ret;
	const char *image = NULL, *shell = NULL, *runtime = NULL, *agent_opt = NULL;
	const char *cpus = NULL, *memory = NULL, *network = NULL, *profile = NULL;
	const char *host_opt = NULL;
	struct string_list mounts_opt = STRING_LIST_INIT, env_files_opt = STRING_LIST_INIT;
	struct string_list mounts = STRING_LIST_INIT, env_files = STRING_LIST_INIT;
	struct string_list env = STRING_LIST_INIT, dotfiles = STRING_LIST_INIT;
	struct string_list agent_paths = STRING_LIST_INIT, agent_keys = STRING_LIST_INIT;
	struct settings set;
	const struct agent *agent = NULL;
	char *agent_name, *setup = NULL;
	const struct option options[] = {
		OPT_BOOL('d', "detach", &detach, "create and start it, but open no shell"),
		OPT_BOOL(0, "rm", &rm, "remove the sandbox when the shell exits, unless it holds work"),
		OPT_BOOL('b', "branch", &branch, "create and check out a branch named after the sandbox"),
		OPT_STRING('i', "image", &image, "image", "container image (sand.image)"),
		OPT_STRING('s', "shell", &shell, "cmd", "shell to open (default: zsh, bash or sh)"),
		OPT_STRING('a', "agent", &agent_opt, "agent",
			   "start a coding agent: claude, codex, gemini or opencode (sand.agent)"),
		OPT_STRING(0, "profile", &profile, "profile", "use the settings of sand.profile.<profile>.*"),
		OPT_STRING(0, "runtime", &runtime, "runtime", "podman, docker or container (sand.runtime)"),
		OPT_STRING(0, "cpus", &cpus, "n", "CPU limit (sand.cpus)"),
		OPT_STRING(0, "memory", &memory, "size", "memory limit, e.g. 4g (sand.memory)"),
		OPT_STRING(0, "network", &network, "mode", "none, host, or the runtime's default (sand.network)"),
		OPT_LIST(0, "mount", &mounts_opt, "src:dst[:ro]", "also bind-mount a host path (sand.mount)"),
		OPT_LIST('e', "env-file", &env_files_opt, "file",
			 "read environment variables from a file (sand.envFile)"),
		OPT_LIST(0, "env", &env, "key=value", "set an environment variable (never stored)"),
		OPT_SET_INT(0, "ssh-agent", &ssh_agent, "forward your ssh-agent (sand.sshAgent)", 1),
		OPT_STRING(0, "host", &host_opt, "ssh-url",
			   "make it on another machine, ssh://[user@]host[:port] (sand.host)"),
		OPT_BOOL(0, "accept-new-host-key", &accept_new,
			 "trust and record the host's key if it is not known yet"),
		OPT_END(),
	};
	struct sandbox sb = { 0 };
	struct runtime rt;
	struct undo undo = { ctx, &rt, &sb, 0, -1 };
	struct strbuf id = STRBUF_INIT, path = STRBUF_INIT, mirror = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT, alternates = STRBUF_INIT;
	struct clone_opts co = { 0 };
	char *rt_name, *host = NULL, *remote_root = NULL;

	argc = parse_options_or_usage(argc, argv, options, new_usage, 0);
	if (settings_init(&set, ctx->r.config, profile) < 0)
		exit(EXIT_FATAL);
	settings_get_list(&set, "mount", &mounts_opt, &mounts, NULL);
	settings_get_list(&set, "envFile", &env_files_opt, &env_files, NULL);
	settings_get_list(&set, "dotfiles", NULL, &dotfiles, NULL);
	if (!dotfiles.nr && !has_config(&set, "dotfiles"))
		string_list_append(&dotfiles, ".gitconfig");
	/* An empty value (sand.dotfiles = "") carries nothing. */
	for (size_t i = dotfiles.nr; i-- > 0; )
		if (!*dotfiles.items[i]) {
			free(dotfiles.items[i]);
			memmove(dotfiles.items + i, dotfiles.items + i + 1,
				(dotfiles.nr - i - 1) * sizeof(*dotfiles.items));
			dotfiles.nr--;
		}
	agent_name = settings_get(&set, "agent", agent_opt, NULL);
	if (agent_name && *agent_name && !(agent = agent_find(agent_name)))
		die("unknown agent '%s' (known: %s)", agent_name, agent_names());
	if (agent) {
		agent_extras(&set, agent, &agent_paths, &agent_keys);
		if (agent_carry_check(agent, &agent_paths) < 0)
			exit(EXIT_FATAL);
	}
	if (settings_get_bool(&set, "sshAgent", ssh_agent, &ssh_agent, NULL) < 0)
		exit(EXIT_FATAL);
	setup = settings_get(&set, "setup", NULL, NULL);
	if (argc > 1)
		usage_with_options(new_usage, options);
	if (detach && rm)
		die("options '--detach' and '--rm' cannot be used together");
	if (argc == 1 && ctx_check_name(argv[0]) < 0)
		exit(EXIT_FATAL);
	if (branch && argc == 1)
		check_host_branch(ctx, argv[0]);
	host = settings_get(&set, "host", host_opt, NULL);
	if (host && !*host) {
		free(host); /* sand.host = "": here */
		host = NULL;
	}
	if (host) {
		struct ssh_target t;

		if (ssh_url_parse(host, &t, &why) < 0)
			die("invalid host '%s': %s", host, why.buf);
		ssh_target_clear(&t);
		if (ssh_agent > 0)
			die("options '--ssh-agent' and '--host' cannot be used together");
	}
	for (size_t i = 0; i < mounts.nr; i++)
		check_mount(mounts.items[i], host != NULL);

	/* Everything the user gave is checked before anything is made. */
	rt_name = settings_get(&set, "runtime", runtime, NULL);
	if (host) {
		struct ssh_conn *conn;
		char *root = settings_get(&set, "remoteRoot", NULL, NULL);

		if (ctx_ssh_connect(ctx, host, accept_new, &conn) < 0)
			die("cannot connect to '%s'", host);
		if (runtime_select_remote(&rt, rt_name, conn) < 0)
			exit(EXIT_FATAL);
		if (remote_root_resolve(rt.ssh, root, &path) < 0)
			exit(EXIT_FATAL);
		remote_root = strbuf_detach(&path, NULL);
		free(root);
	} else {
		ctx_runtime(&rt, rt_name);
	}
	free(rt_name);

	sb.image = settings_get(&set, "image", image, NULL);
	if (!sb.image)
		sb.image = xstrdup(DEFAULT_IMAGE);
	sb.opts.cpus = settings_get(&set, "cpus", cpus, NULL);
	sb.opts.memory = settings_get(&set, "memory", memory, NULL);
	sb.opts.network = settings_get(&set, "network", network, NULL);
	sb.opts.ssh_agent = ssh_agent > 0;
	if (sb.opts.ssh_agent && (!getenv("SSH_AUTH_SOCK") || access(getenv("SSH_AUTH_SOCK"), F_OK)))
		die("--ssh-agent: no ssh-agent socket to forward (SSH_AUTH_SOCK is not set or gone)");
	if (agent)
		sb.opts.agent = xstrdup(agent->name);
	if (set.profile)
		sb.opts.profile = xstrdup(set.profile);
	if (shell)
		sb.opts.shell = xstrdup(shell);
	for (size_t i = 0; i < env_files.nr; i++)
		check_env_file(env_files.items[i], &sb.opts.env_files);
	if (env_check(&env) < 0)
		exit(EXIT_FATAL);
	for (size_t i = 0; i < dotfiles.nr; i++)
		if (!dotfile_path_ok(dotfiles.items[i]))
			die("dotfile '%s' is not a path inside your home directory",
			    dotfiles.items[i]);
	for (size_t i = 0; i < mounts.nr; i++)
		string_list_append(&sb.opts.mounts, mounts.items[i]);
	sb.opts.branch = branch;
	{
		/* The host branch it is made from: when it is deleted, the
		 * sandbox is marked orphaned (see the hooks). */
		git_reference *head = NULL;
		const char *b;

		if (!git_reference_lookup(&head, ctx->r.repo, "HEAD") &&
		    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
		    skip_prefix(git_reference_symbolic_target(head), "refs/heads/", &b))
			sb.opts.host_branch = xstrdup(b);
		git_reference_free(head);
		git_error_clear();
	}

	ret = rt.ops->image_exists(&rt, sb.image);
	if (ret < 0)
		exit(EXIT_FATAL);
	if (!ret) {
		error("image '%s' is not available to %s", sb.image, rt.program);
		if (!strcmp(sb.image, DEFAULT_IMAGE))
			hint("build it with 'make image', or choose one with --image or sand.image");
		exit(EXIT_FATAL);
	}

	if (sandbox_new_id(&id) < 0)
		exit(EXIT_FATAL);
	sb.id = strbuf_detach(&id, NULL);
	sb.worktree = xstrdup(ctx->r.worktree);
	sb.gitdir = xstrdup(ctx->r.commondir);
	strbuf_addf(&path, "%s/sandboxes/%s", ctx->root.buf, sb.id);
	sb.dir = strbuf_detach(&path, NULL);
	sb.runtime = xstrdup(rt.ops->name);
	sb.state = xstrdup("creating");
	sb.host = host;
	sb.remote_root = remote_root;
	host = remote_root = NULL;

	/*
	 * The row comes first: from here on, whatever exists is known, and a
	 * failure, a signal or a kill leaves something rm or gc can finish.
	 */
	cleanup_install_signals();
	/* Held until the sandbox is made: gc leaves a locked one alone. */
	if (sandbox_lock(&sb, &undo.lock) != 0)
		die("cannot lock the new sandbox");
	cleanup_push(undo_new, &undo);
	claim_name(ctx, &sb, argc == 1 ? argv[0] : NULL);
	undo.have_row = 1;
	if (branch && argc == 0)
		check_host_branch(ctx, sb.name);

	if (sandbox_remote_check(ctx->r.repo, ctx->store, &sb) < 0)
		die("cannot create sandbox '%s'", sb.name);
	if (mkdir_p(sb.dir, 0700) < 0)
		die_errno("cannot create '%s'", sb.dir);
	/* Its home: dotfiles and the agent's files, copied. */
	{
		struct home_opts ho = { getenv("HOME"), sb.worktree, agent, &dotfiles,
					&agent_paths, &agent_keys };

		if (home_prepare(sb.dir, &ho, &sb.opts.carried) < 0)
			die("cannot create sandbox '%s'", sb.name);
	}
	if (env.nr) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/env", sb.dir);
		if (env_file_write(path.buf, &env, &sb.opts.env_keys) < 0)
			die("cannot create sandbox '%s'", sb.name);
	}

	if (sb.host && remote_env_files(&sb) < 0)
		die("cannot create sandbox '%s'", sb.name);

	sandbox_mirror_path(&sb, ctx->root.buf, &mirror);
	if (sb.host) {
		if (isatty(2))
			fprintf(stderr, "Sending what '%s' lacks of the history...\n", sb.host);
		if (remote_mirror_push(rt.ssh, ctx->r.repo, mirror.buf, sb.dir) < 0)
			die("cannot create sandbox '%s'", sb.name);
	} else if (mirror_update(ctx->r.repo, ctx->r.commondir, mirror.buf) < 0) {
		die("cannot create sandbox '%s'", sb.name);
	}
	if (cleanup_signalled())
		die("interrupted");

	/* On another host: the .git is made here, then sent with the files. */
	strbuf_reset(&path);
	if (sb.host)
		strbuf_addf(&path, "%s/app", sb.dir);
	else
		sandbox_clone_path(&sb, &path);
	co.no_worktree = sb.host != NULL;
	co.host = ctx->r.repo;
	co.worktree = ctx->r.worktree;
	co.gitdir = ctx->r.gitdir;
	co.commondir = ctx->r.commondir;
	co.dest = path.buf;
	/* On another host, git there reads the clone through its alternates. */
	sb.opts.neutral_mirror = !sb.host;
	if (sb.host)
		strbuf_addf(&alternates, "%s/objects", mirror.buf);
	else
		strbuf_addstr(&alternates, "/run/git-origin-ro/objects");
	co.alternates = alternates.buf;
	co.origin_url = "/run/git-origin-ro";
	co.branch = branch ? sb.name : NULL;
	co.sandbox_id = sb.id;
	co.sandbox_name = sb.name;
	co.progress = isatty(2);
	if (clone_workspace(&co) < 0)
		die("cannot create sandbox '%s'", sb.name);
	if (sb.host && send_workspace(ctx, &rt, &sb) < 0)
		die("cannot create sandbox '%s'", sb.name);

	if (sandbox_create_container(&rt, ctx->root.buf, &sb) < 0 ||
	    store_update(ctx->store, &sb) < 0 ||
	    rt.ops->start(&rt, sb.container) < 0)
		die("cannot create sandbox '%s'", sb.name);
	if (cleanup_signalled())
		die("interrupted");
	if (sandbox_remote_add(ctx->r.repo, ctx->store, &sb) < 0)
		die("cannot create sandbox '%s'", sb.name);

	if (setup)
		run_setup(&rt, &sb, setup);
	free(sb.state);
	sb.state = xstrdup("ready");
	if (store_update(ctx->store, &sb) < 0)
		die("cannot create sandbox '%s'", sb.name);
	cleanup_pop();
	undo.have_row = 0;
	sandbox_unlock(&sb, undo.lock, 1);

	if (detach) {
		printf("%s\n", sb.name);
		ret = 0;
		goto done;
	}
	if (rm)
		fprintf(stderr, "Created sandbox '%s'; it is removed when you leave it, "
			"unless it holds work this repository lacks.\n", sb.name);
	else
		fprintf(stderr, "Created sandbox '%s'; 'git sand shell %s' returns to it.\n",
			sb.name, sb.name);
	ret = sandbox_session(&rt, ctx->store, &sb, shell, 1);
	if (rm && rm_on_exit(ctx, &rt, &sb) < 0)
		ret = ret ? ret : 1;
done:
	sandbox_clear(&sb);
	runtime_clear(&rt);
	string_list_clear(&mounts);
	string_list_clear(&env_files);
	string_list_clear(&mounts_opt);
	string_list_clear(&env_files_opt);
	string_list_clear(&dotfiles);
	string_list_clear(&agent_paths);
	string_list_clear(&agent_keys);
	/* --env values: do not leave them in freed memory. */
	for (size_t i = 0; i < env.nr; i++)
		explicit_bzero(env.items[i], strlen(env.items[i]));
	string_list_clear(&env);
	settings_clear(&set);
	free(agent_name);
	free(setup);
	free(host);
	free(remote_root);
	strbuf_release(&path);
	strbuf_release(&mirror);
	strbuf_release(&alternates);
	strbuf_release(&why);
	return ret;
}

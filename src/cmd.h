#ifndef CMD_H
#define CMD_H

#include "gitutil.h"
#include "parse-options.h"
#include "runtime.h"
#include "sandbox.h"
#include "store.h"
#include "strbuf.h"

/*
 * What every command gets: the repository it runs in (if any), the state
 * root and, opened on first use, the store. Command code (cmd_*) may die;
 * the modules it calls only return errors.
 */
struct cmd_ctx {
	struct sand_repo r;
	struct strbuf root;
	struct store *store;
};

/* The command runs only inside a git work tree (checked before it starts). */
#define NEEDS_WORKTREE (1 << 0)

typedef int (*cmd_fn)(int argc, const char **argv, struct cmd_ctx *ctx);

struct cmd_struct {
	const char *name;
	cmd_fn fn;
	unsigned flags;
	const char *help;
};

int cmd_agent(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_code(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_attach(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_diff(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_exec(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_export_session(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_fetch(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_gc(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_hook(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_image(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_log(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_forward(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_logs(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_ls(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_net(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_net_proxy(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_new(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_port(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_rm(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_show(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_run(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_shell(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_ssh_config(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_ssh_proxy(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_start(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_status(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_stop(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_sync(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_sync_host(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_upload_pack(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_wait(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_version(int argc, const char **argv, struct cmd_ctx *ctx);

extern const char git_sand_version[];

/*
 * parse_options, then: -h prints the usage on stdout and exits 129; a bad
 * option prints it on stderr and exits 129.
 */
int parse_options_or_usage(int argc, const char **argv, const struct option *opts,
			   const char *const *usage, int flags);
__attribute__((noreturn))
void usage_with_options(const char *const *usage, const struct option *opts);

/* Die unless the command runs inside a repository with a working tree. */
void ctx_require_repo(struct cmd_ctx *ctx);
void ctx_require_worktree(struct cmd_ctx *ctx);
struct store *ctx_store(struct cmd_ctx *ctx);
/*
 * 0 for a valid sandbox name; else -1, after an error and, for a name
 * such as 'Foo' or 'feature/x', a hint with the one the hooks would make.
 */
int ctx_check_name(const char *name);
/*
 * Find this worktree's sandbox of that name, or die saying so (and
 * listing the sandboxes there are). With no name (NULL), the worktree's
 * only sandbox; where it has none or several, die saying so.
 */
void ctx_lookup(struct cmd_ctx *ctx, const char *name, struct sandbox *out);
/*
 * The sandboxes a command names, or with all every one of this worktree,
 * or with neither names nor all the only one (as ctx_lookup(NULL)).
 * Unknown or invalid names are reported and counted in *failed.
 */
void ctx_select(struct cmd_ctx *ctx, int argc, const char **argv, int all,
		struct sandbox **out, size_t *nr, int *failed);
/*
 * 0 when the sandbox is ready for use; else -1, saying what it is (being
 * made or removed by another command, or broken: see sandbox_is_broken).
 */
int ctx_check_ready(struct cmd_ctx *ctx, struct sandbox *sb);
/* The same, or die. */
void ctx_require_ready(struct cmd_ctx *ctx, struct sandbox *sb);
/*
 * Whether new, shell and agent open their session in tmux: not with
 * --no-session (no_session) nor sand.session=never. Dies on a bad value.
 */
int ctx_use_session(struct cmd_ctx *ctx, int no_session);
/*
 * Where commands that run something in a sandbox may start it through
 * the OCI runtime directly (see oci-exec.h): the state root to give
 * oci_exec, or NULL with sand.exec=cli. Dies on a bad value.
 */
const char *ctx_direct_exec(struct cmd_ctx *ctx);
/*
 * As ctx_prepare_running, but for a sandbox on an SSH host whose running
 * the command can ask itself (exec's if_running, in its own round trip):
 * then 1, and the container may not run; else 0, and it runs.
 */
int ctx_prepare_maybe_running(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
			      struct runtime *rt);
/* Make sure the container of a sandbox prepared so runs; or die. */
void ctx_ensure_running(struct cmd_ctx *ctx, struct sandbox *sb, struct runtime *rt);
/* Look a sandbox up, get its runtime, and make sure it runs; or die. */
void ctx_prepare_running(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
			 struct runtime *rt);
/*
 * The same, for a command that only looks at the sandbox (status,
 * diff -u): if it had to start it, ctx_stop_again stops it once the
 * command is done, and so does the clean-up if the command dies or is
 * interrupted first, so that the sandbox is left as it was found.
 */
struct briefly_running {
	struct runtime *rt;
	struct sandbox *sb;
	int started;
};
void ctx_run_briefly(struct cmd_ctx *ctx, const char *name, struct sandbox *sb,
		     struct runtime *rt, struct briefly_running *br);
/* 0, or -1 with a message; dies if a signal came meanwhile. */
int ctx_stop_again(struct briefly_running *br);
/*
 * Refresh the mirror a sandbox of this repository reads from (one per
 * repository, here or on the sandbox's host, reached through rt), so
 * that git pull inside sees the host's commits.
 */
int ctx_refresh_mirror(struct cmd_ctx *ctx, const struct sandbox *sb, struct runtime *rt);
/*
 * The same, unless done already in this command (done lists the mirrors
 * refreshed: "" for here, else the host).
 */
int ctx_refresh_mirror_once(struct cmd_ctx *ctx, struct string_list *done,
			    const struct sandbox *sb, struct runtime *rt);
/* The same for a list: each mirror once (here, and on each host). */
int ctx_refresh_mirrors(struct cmd_ctx *ctx, const struct sandbox *list, size_t nr);
/*
 * Connect to a sandbox host (sand.identityFile, sand.knownHostsFile).
 * 0, or -1 with a message.
 */
struct ssh_conn;
struct ssh_opts;
struct fetch_opts;
struct sandbox_refs;
/* sandbox_fetch, with what it needs to reach a sandbox on another host. */
int ctx_fetch(struct cmd_ctx *ctx, const struct sandbox *sb, struct fetch_opts *fo,
	      struct sandbox_refs *refs, int *changed);
/*
 * Before a sandbox is removed: keep its agent's transcripts (see
 * transcript.h), saying where on stderr. A failure is a warning: the
 * removal goes on.
 */
void ctx_keep_transcripts(struct cmd_ctx *ctx, const struct sandbox *sb);
/*
 * The work sandbox sb holds that its repository lacks (see work.h), its
 * commits fetched on the way, so that they are in the repository's
 * objects whatever happens next. With save, its uncommitted changes are
 * first saved as a commit inside (and so fetched too). Starts the
 * container if it is stopped. 0, or -1 with a message when something
 * could not be told (what could be is in out).
 */
struct sandbox_work;
int ctx_sandbox_work(struct cmd_ctx *ctx, struct sandbox *sb, struct runtime *rt, int save,
		     struct sandbox_work *out);
/*
 * New published ports (specs as given) for sandbox sb, which has those
 * of sb->opts.ports: each parsed; none with a network that publishes
 * nothing; none another sandbox on the same host has recorded; on this
 * machine, each free, and chosen where none is given (on an SSH host, a
 * host port must be given). Appends them, whole, to out. 0, or -1 with
 * a message quoting the spec.
 */
int ctx_ports_prepare(struct cmd_ctx *ctx, const struct sandbox *sb, const char *network,
		      const struct string_list *specs, struct string_list *out);
void ctx_ssh_opts(struct cmd_ctx *ctx, struct ssh_opts *o);
int ctx_ssh_connect(struct cmd_ctx *ctx, const char *host, int accept_new,
		    struct ssh_conn **out);
/*
 * The runtime of a sandbox, where it runs: here, or on its host over SSH.
 * 0, or -1 with a message (the host cannot be reached...).
 */
int ctx_sandbox_runtime(struct cmd_ctx *ctx, struct runtime *rt, const struct sandbox *sb);
/* The runtime a sandbox was made with, or die naming what is missing. */
void ctx_runtime(struct runtime *rt, const char *name);
/* A config value for a sand.* key, or NULL. The result is owned by the caller. */
char *ctx_config(struct cmd_ctx *ctx, const char *key);
/*
 * The limits on what a sandbox may make a host-side command hold in
 * memory: sand.maxOutput (captured output of a command) and
 * sand.maxObjectSize (one object read from the sandbox). Also sand.pull,
 * for containers made again (runtime_pull_policy).
 */
void ctx_read_limits(struct cmd_ctx *ctx);

/*
 * The prompt of --prompt text or --prompt-file file (not both), checked
 * (see agent_prompt_check), into out; or die. Neither leaves out empty.
 */
void ctx_prompt(struct strbuf *out, const char *text, const char *file);
/*
 * Give the running sandbox sb's agent the task prompt (a run, see
 * agent-run.h); or die. With detach, return 0 once it is started; else
 * show its output until it ends and return its exit status.
 */
int ctx_run_task(struct cmd_ctx *ctx, struct runtime *rt, struct sandbox *sb, const char *prompt,
		 int detach);
/*
 * Wait for the latest runs of the sandboxes to end (with any: for one,
 * printing its name), polling; give up after timeout seconds (-1: never).
 * Returns the exit status to exit with: the first non-zero status of
 * those runs (with any, that of the one that ended), a lost run counting
 * as AGENT_RUN_LOST_STATUS; AGENT_RUN_TIMEOUT_STATUS on timeout; 130
 * when interrupted (after cleanup_install_signals).
 */
int ctx_wait_runs(struct cmd_ctx *ctx, struct sandbox *list, size_t nr, int any, long timeout);

#endif

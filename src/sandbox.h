#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdint.h>

#include "strbuf.h"
#include "string-list.h"

/*
 * Its lifecycle: a row is written in state "creating" before anything
 * else exists; "ready" once clone, container and remote exist; "removing"
 * while rm takes it apart. A row left in "creating" or "removing" by a
 * killed process is what gc repairs. One list gives the enum and the
 * names the store and the user see.
 */
#define SANDBOX_STATES(_) \
	_(SB_CREATING, "creating") \
	_(SB_READY, "ready") \
	_(SB_REMOVING, "removing")

enum sandbox_state {
#define SANDBOX_STATE_ENUM(id, name) id,
	SANDBOX_STATES(SANDBOX_STATE_ENUM)
#undef SANDBOX_STATE_ENUM
};

const char *sandbox_state_name(enum sandbox_state state);
/* The state of that name; -1 for a name that is none. */
int sandbox_state_parse(const char *name, enum sandbox_state *out);

/* A sandbox as the store records it. Strings are owned (NULL when unset). */
struct sandbox {
	char *id;		/* 16 hex digits, random, never reused */
	char *name;		/* unique per worktree; see sandbox_name_check() */
	char *worktree;		/* absolute path of the host worktree */
	char *gitdir;		/* the host repository's common git dir */
	char *dir;		/* the sandbox's own directory under the state root */
	char *runtime;		/* "podman", "docker" */
	char *image;
	char *container;	/* the runtime's container id, once created */
	enum sandbox_state state;
	/*
	 * A sandbox on another machine: the host's "ssh://[user@]host[:port]"
	 * as given, and the absolute state root there. dir stays on this
	 * machine (its lock, logs); the clone, home and container are there.
	 */
	char *host;
	char *host_root;
	struct sandbox_opts {
		char *cpus;
		char *memory;
		char *network;
		char *shell;	/* the shell found in the image, once known */
		struct string_list mounts;	/* SRC:DST[:ro] as given */
		/*
		 * Published ports, whole: "<ip>:<host-port>:<port>/<proto>"
		 * (see ports.h), the host port chosen when none was given.
		 */
		struct string_list ports;
		struct string_list env_files;	/* absolute paths */
		int branch;	/* -b: a branch named after the sandbox */
		/*
		 * The container's PID 1 as last seen running, and its start
		 * time, so that exec can tell it still runs without asking
		 * the runtime (see sandbox_ensure_running).
		 */
		long pid;
		unsigned long long pid_start;
		char *host_branch;	/* the host branch it was made from */
		int orphaned;		/* that branch has been deleted */
		char *agent;		/* --agent: claude, codex, gemini, opencode */
		char *profile;		/* the profile it was made with */
		struct string_list env_keys;	/* names given with --env (values: never) */
		struct string_list carried;	/* "~/..." copied into its home */
		int ssh_agent;		/* forward the host's ssh-agent */
		int setup_done;		/* the setup command has run */
		/*
		 * Its clone borrows objects from the mirror where the container
		 * sees it as origin, not at its path on the host (which older
		 * sandboxes' clones name, and so still get mounted).
		 */
		int neutral_mirror;
		/*
		 * An overlay workspace: the base tree its /app lies on
		 * (<root>/bases/<tree>); NULL for a copied clone.
		 */
		char *base;
		/*
		 * Its latest run (git sand run, new --prompt): number (0:
		 * none yet), start, agent, exit status once known (-1 until
		 * then), and the container's PID 1 when it started (a run
		 * whose PID 1 is gone without a status is lost).
		 */
		struct sandbox_run {
			int n;
			int64_t started;
			char *agent;
			int status;
			long pid1;
			unsigned long long pid1_start;
		} run;
	} opts;
	int64_t created;	/* seconds since the epoch */
	int64_t updated;
};

void sandbox_clear(struct sandbox *sb);

/*
 * The directory that holds its clone and home where its container runs:
 * dir, or "<remote_root>/sandboxes/<id>" on its host.
 */
void sandbox_work_dir(const struct sandbox *sb, struct strbuf *out);
/* The clone inside it: "<work dir>/app". */
void sandbox_clone_path(const struct sandbox *sb, struct strbuf *out);
/* The container's name: "sand-<name>-<id prefix>". */
void sandbox_container_name(const struct sandbox *sb, struct strbuf *out);

/*
 * Its names in the host repository: the remote "sand/<name>" (see
 * sandbox_remote_name()) and the remote-tracking refs its branches are
 * fetched to, "refs/remotes/sand/<name>/<branch>". Written here and
 * nowhere else.
 */
#define SANDBOX_REMOTE_PREFIX "sand/"
#define SANDBOX_TRACKING_PREFIX "refs/remotes/" SANDBOX_REMOTE_PREFIX
/* "refs/remotes/sand/<name>/" */
void sandbox_tracking_prefix(struct strbuf *out, const char *name);
/* "refs/remotes/sand/<name>/<branch>" */
void sandbox_tracking_ref(struct strbuf *out, const char *name, const char *branch);

/*
 * The options as a JSON object, and back. The parser treats its input as
 * untrusted: unknown keys are ignored, wrong types are errors.
 */
char *sandbox_opts_to_json(const struct sandbox_opts *o);
int sandbox_opts_from_json(struct sandbox_opts *o, const char *json);
void sandbox_opts_clear(struct sandbox_opts *o);
/* A run as the JSON object stored under "run" (the caller frees it). */
char *sandbox_run_to_json(const struct sandbox_run *r);

/* 16 random hex digits. Returns 0 or -1 with a message. */
int sandbox_new_id(struct strbuf *out);

/*
 * Names: lowercase letters, digits, '-', '.', '_', starting with a letter
 * or digit, at most 63 characters, and a valid git remote name component
 * (no "..", no ".lock" suffix, not ending in '.'). Returns 0, or -1 with
 * the reason in why.
 */
#define SANDBOX_NAME_MAX 63
int sandbox_name_check(const char *name, struct strbuf *why);
/* A short readable name such as "brave-otter"; seeded from urandom. */
void sandbox_name_generate(struct strbuf *out);

/*
 * A mount spec "SRC:DST[:ro]" with absolute paths (no ".." components, no
 * ':' or ',' in either). Returns 0 or -1 with the reason in why.
 */
struct mount_spec {
	char *src;
	char *dst;
	int readonly;
};
int mount_spec_parse(const char *spec, struct mount_spec *out, struct strbuf *why);
void mount_spec_clear(struct mount_spec *m);

#endif

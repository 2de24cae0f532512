#ifndef RUNTIME_H
#define RUNTIME_H

#include <stddef.h>

#include "argv.h"
#include "strbuf.h"
#include "string-list.h"

/*
 * The container ops layer: a small table of operations per backend.
 * A backend builds argument vectors for its CLI and parses its JSON output
 * (as untrusted input); it never goes through a shell.
 */

struct port_map;

struct container_spec {
	const char *name;	/* the container's name */
	const char *hostname;
	const char *image;
	const char *workdir;
	struct label { const char *key, *value; } labels[5];
	size_t nr_labels;
	/*
	 * With upper (and work), src is the read-only lower layer of an
	 * overlay mounted at dst, its writes going to upper (see overlay.h).
	 */
	struct bind { const char *src, *dst; int readonly; const char *upper, *work; } *binds;
	size_t nr_binds;
	const char *cpus, *memory, *network;
	const struct port_map *ports;	/* published, each with its host port */
	size_t nr_ports;
	const struct string_list *env_files;
	const struct string_list *env;	/* KEY=VALUE, not secret (HOME ...) */
	const char *const *command;	/* PID 1's command, NULL-terminated */
	/* Options of the CLI's create the user allowed a devcontainer.json (argv elements). */
	const struct string_list *extra_args;
	/*
	 * When set, called while the CLI creates the container: for what
	 * the container needs only once it starts (the files of a bind
	 * mount's source, which must exist already), or does not need at
	 * all (the mirror's refresh on another host: while the CLI runs
	 * there in the background of the one shell, else after it, see
	 * ssh_start). Its failure (< 0) fails the create, which still
	 * gives the id of a container it made.
	 */
	int (*meanwhile)(void *data);
	void *meanwhile_data;
	/*
	 * When set, start it too where that saves a round trip and a start-up
	 * of the CLI (on another host: "run --detach" for "create" then
	 * "start"), and set *started to 1 when it did (the container runs).
	 */
	int *started;
	/*
	 * Nobody looked for the image: the create does, and fails with
	 * RUNTIME_NO_IMAGE (no message) when it is missing (podman's
	 * --pull=never), for the caller to pull it as its policy says.
	 */
	unsigned image_unchecked:1;
};

enum container_state {
	CONTAINER_MISSING,
	CONTAINER_CREATED,	/* created, never started */
	CONTAINER_RUNNING,
	CONTAINER_STOPPED,	/* exited, paused, anything else */
};

const char *container_state_name(enum container_state s);

struct container_info {
	char *id;
	char *name;
	char *sandbox_id;	/* from the label, when present */
	char *home;		/* the state root that made it (label) */
	enum container_state state;
	long pid;		/* PID 1's pid on this machine, when running */
};
void container_info_clear(struct container_info *ci);

struct exec_opts {
	const char *workdir;
	const char *user;		/* "uid:gid", or NULL for the image's */
	unsigned interactive:1;		/* -i: keep stdin open */
	unsigned tty:1;			/* -t: allocate a terminal */
	/*
	 * -d: start it in the container and return at once, its output
	 * dropped (it must write to a file); 0 once started, or -1.
	 */
	unsigned detach:1;
	const struct string_list *env;	/* KEY=VALUE */
	/* Fed to the command's stdin instead of ours, when set. */
	const char *in;
	size_t in_len;
	/*
	 * On an SSH host: only if the container is running, asked in the
	 * same round trip; else RUNTIME_NOT_RUNNING, nothing run.
	 */
	unsigned if_running:1;
	/*
	 * Nothing is left to do after it: on this machine, the runtime's
	 * program may take this process's place (its status is then ours,
	 * and signals reach it with no process of ours between).
	 */
	unsigned last:1;
};

struct runtime;
struct child;

struct runtime_ops {
	const char *name;
	/*
	 * Create a container; its id goes to id_out (also when
	 * spec->meanwhile failed, if the container was made).
	 */
	int (*create)(struct runtime *rt, const struct container_spec *spec, struct strbuf *id_out);
	int (*start)(struct runtime *rt, const char *ctr);
	int (*stop)(struct runtime *rt, const char *ctr);
	/* Remove (forcefully); a container that does not exist is success. */
	int (*remove)(struct runtime *rt, const char *ctr);
	/*
	 * Run a command with the caller's stdio; returns its status as a
	 * shell would (127 not found, 128+N killed by signal N), or -1.
	 */
	int (*exec)(struct runtime *rt, const char *ctr, const struct exec_opts *o,
		    const char *const *cmd);
	/*
	 * Optional: exec without the runtime's CLI, with the streams
	 * run_child would give io (in, out, err, out_cb, no_stdin,
	 * max_out); or RUNTIME_USE_CLI, having run nothing and said
	 * nothing, where that cannot be done.
	 */
	int (*exec_io)(struct runtime *rt, const char *ctr, const struct exec_opts *o,
		       const char *const *cmd, struct child *io);
	/*
	 * Run a command and capture its stdout; returns its status or -1.
	 * Of o (NULL for none), only user and workdir apply.
	 */
	int (*exec_capture)(struct runtime *rt, const char *ctr, const struct exec_opts *o,
			    const char *const *cmd, struct strbuf *out);
	/* 0, or STORE-style 1 when the container does not exist, or -1. */
	int (*inspect)(struct runtime *rt, const char *ctr, struct container_info *out);
	/* Every container carrying the label key (one call to the runtime). */
	int (*list)(struct runtime *rt, const char *label_key,
		    struct container_info **out, size_t *nr);
	/* 1 if present locally, 0 if not, -1 on error. */
	int (*image_exists)(struct runtime *rt, const char *image);
	/*
	 * Pull an image from its registry. With progress, the CLI draws its
	 * own on our stderr (its stdout too goes there); without, its stderr
	 * goes to err. Returns the CLI's status, or -1 when it could not run.
	 */
	int (*pull)(struct runtime *rt, const char *image, int progress, struct strbuf *err);
	/*
	 * "<program> build <args>...": with progress, the CLI's output on
	 * our stderr; without, its stderr goes to err. Its status, or -1.
	 */
	int (*build)(struct runtime *rt, const char *const *args, int progress, struct strbuf *err);

	/* How to read the CLI's errors: "no such container", "not running". */
	int (*not_found)(const struct strbuf *err);
	int (*system_down)(const struct strbuf *err);	/* optional */
	int own_error_status;	/* the exit status of its own errors, or 0 */
};

struct ssh_conn;

struct runtime {
	const struct runtime_ops *ops;
	char *program;	/* the CLI to run, from PATH: "podman", "docker", "container" */
	/*
	 * The transport: NULL runs the CLI here (fork and exec), else on the
	 * host at the other end of this connection (owned by the runtime).
	 */
	struct ssh_conn *ssh;
	/*
	 * The user the CLI runs as, there: whose files the sandbox must
	 * write. Known at once here; asked for on first use over SSH.
	 */
	unsigned long uid, gid;
	int have_user;
};

#define RUNTIME_NOT_FOUND 1
/* exec_io: not for the runtime's own way here; take its CLI. */
#define RUNTIME_USE_CLI (-2)
/* exec with if_running: the container was not running, nothing ran. */
#define RUNTIME_NOT_RUNNING (-3)
/* create with image_unchecked: the image is not there, nothing was made. */
#define RUNTIME_NO_IMAGE (-4)

/*
 * Pick the runtime: the name given (from --runtime or sand.runtime), else
 * the first installed in the order of runtime_names (podman, docker, then
 * Apple's container; on macOS, container first). Its CLI is the program
 * of that name found in PATH; no setting names another. Returns 0 or -1
 * with a message naming what to install or set.
 */
int runtime_select(struct runtime *rt, const char *name);
/*
 * The same on another machine, over an SSH connection (which the runtime
 * then owns, even on failure): the name given, else the first of podman
 * and docker installed there. Apple's container runs only locally.
 */
int runtime_select_remote(struct runtime *rt, const char *name, struct ssh_conn *conn);
/*
 * The same with what a probe of the host already found (ssh_host_probe):
 * its user and group ids there, and the runtime installed ("none").
 */
int runtime_select_remote_probed(struct runtime *rt, const char *name, struct ssh_conn *conn,
				 unsigned long uid, unsigned long gid, const char *found);
void runtime_clear(struct runtime *rt);
/* Make sure rt->uid and rt->gid are known; 0 or -1 with a message. */
int runtime_user(struct runtime *rt);
/* The names of the known runtimes, for messages and completion. */
extern const char *const runtime_names[];

void container_info_list_free(struct container_info *list, size_t nr);

/*
 * The parsers of the podman/docker backends, for tests and fuzzing: the
 * output of "container inspect" (0, or -1 when it is not what was
 * expected) and of "ps" (podman: a JSON array; docker: an object a line).
 */
int oci_parse_inspect(struct container_info *out, const char *json);
int oci_parse_list(struct container_info **out, size_t *nr, const char *json, int docker);
/* The same for Apple's container: snapshots; label_key filters (NULL: all). */
int apple_parse_inspect(struct container_info *out, const char *json);
int apple_parse_list(struct container_info **out, size_t *nr, const char *json,
		     const char *label_key);

/*
 * The image a sandbox runs when none is chosen: built here by "make image"
 * or "git sand image build" (images/default/), never pulled.
 */
#define RUNTIME_DEFAULT_IMAGE "localhost/git-sand-default:latest"

/* When to pull an image from its registry (--pull, sand.pull). */
#define PULL_POLICY_LIST(X) \
	X(MISSING, "missing")	/* only when it is not here: the default */ \
	X(ALWAYS, "always")	/* every time a container is made from it */ \
	X(NEVER, "never")	/* never: a missing image is an error */
#define PULL_ENUM_(e, n) PULL_##e,
enum pull_policy { PULL_POLICY_LIST(PULL_ENUM_) };
#undef PULL_ENUM_
/* The names, for messages and completion: "missing, always, never". */
#define PULL_POLICIES "missing, always, never"
/* A name into out: 0, or -1 (no message). */
int pull_policy_parse(enum pull_policy *out, const char *s);
/*
 * The policy for containers made again from a sandbox's image (start,
 * and any command that finds its container gone): sand.pull, or start's
 * --pull. new has its own (--pull, the profile's sand.pull).
 */
extern enum pull_policy runtime_pull_policy;
/* Whether the image names a registry it can be pulled from ("host.x/..."). */
int image_names_registry(const char *image);
/*
 * Make sure the image is there before a container is made from it:
 * pulled by the runtime as the policy says (its progress shown when
 * progress is set). 0, or -1 having said why in one line (the runtime's
 * reason in it), with a hint on how to get it (the default image: build
 * it).
 */
int runtime_ensure_image(struct runtime *rt, const char *image, enum pull_policy policy,
			 int progress);

/*
 * After a runtime's own error message: a hint for the failures we know
 * (rlimits, crun and cgroups, missing subuids, docker's daemon or socket,
 * Apple's system service). Prints nothing for any other message.
 */
void runtime_hint(const struct runtime *rt, const char *err);
/* The hint for the runtime (by its name; NULL: any) and message, or NULL. */
const char *runtime_known_failure(const char *runtime, const char *err);

/* The label keys git-sand puts on its containers. */
#define LABEL_ID "io.git-sand.id"
#define LABEL_WORKTREE "io.git-sand.worktree"
#define LABEL_NAME "io.git-sand.name"
#define LABEL_HOME "io.git-sand.home"

#endif

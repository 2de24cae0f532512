#ifndef DEVCONTAINER_H
#define DEVCONTAINER_H

#include <git2.h>

#include "runtime.h"
#include "sandbox.h"
#include "strbuf.h"
#include "string-list.h"

/*
 * A repository's devcontainer.json (the Development Containers
 * specification), read as what it is: a file from a clone, untrusted.
 * It is JSON with comments and trailing commas; what git-sand takes from
 * it is the image, the container's environment, its published ports and
 * its lifecycle commands, which run inside the sandbox and never here.
 * Keys that would reach the host (mounts, privileges, host commands,
 * host paths, the host's environment) are refused unless the user allows
 * them on the command line or in their own git config.
 */

/* The file's largest size: a description, not data. */
#define DEVCONTAINER_MAX_SIZE (1024 * 1024)

/* The lifecycle commands, in the order the specification runs them. */
#define DEVCONTAINER_COMMANDS(X) \
	X(DC_ON_CREATE, "onCreateCommand") \
	X(DC_UPDATE_CONTENT, "updateContentCommand") \
	X(DC_POST_CREATE, "postCreateCommand") \
	X(DC_POST_START, "postStartCommand") \
	X(DC_POST_ATTACH, "postAttachCommand")

enum devcontainer_command {
#define DC_ENUM_(id, key) id,
	DEVCONTAINER_COMMANDS(DC_ENUM_)
#undef DC_ENUM_
	DC_COMMANDS_NR
};

extern const char *const devcontainer_command_keys[];

/*
 * What may be allowed (--devcontainer-allow, sand.devcontainer.allow):
 * each the key that asks for it, and what allowing it does.
 */
#define DEVCONTAINER_ALLOWABLE(X) \
	X(DC_ALLOW_MOUNTS, "mounts") \
	X(DC_ALLOW_WORKSPACE_MOUNT, "workspaceMount") \
	X(DC_ALLOW_RUN_ARGS, "runArgs") \
	X(DC_ALLOW_PRIVILEGED, "privileged") \
	X(DC_ALLOW_CAP_ADD, "capAdd") \
	X(DC_ALLOW_SECURITY_OPT, "securityOpt") \
	X(DC_ALLOW_INITIALIZE, "initializeCommand") \
	X(DC_ALLOW_BUILD_OPTIONS, "build.options") \
	X(DC_ALLOW_LOCAL_ENV, "localEnv")

enum devcontainer_allowable {
#define DC_ENUM_(id, key) id,
	DEVCONTAINER_ALLOWABLE(DC_ENUM_)
#undef DC_ENUM_
	DC_ALLOW_NR
};

extern const char *const devcontainer_allowable_keys[];

struct devcontainer {
	char *path;		/* as the user sees it: relative to the worktree */
	char *image;
	struct string_list container_env;	/* KEY=VALUE, variables replaced */
	struct string_list remote_env;
	struct string_list ports;		/* publish specs */
	struct string_list mounts;		/* SRC:DST[:ro], once allowed */
	struct string_list run_args;		/* for the runtime's create, once allowed */
	char *commands[DC_COMMANDS_NR];		/* each a JSON value, or NULL */
	/* remoteUser, else containerUser: a name or uid[:gid], checked */
	char *user;
	unsigned user_is_remote:1;
	/*
	 * build (or the older dockerFile and context): paths relative to
	 * the worktree (absolute for a file outside it), checked to stay in it.
	 */
	struct devcontainer_build {
		char *dockerfile;
		char *context;
		struct string_list args;	/* KEY=VALUE */
		char *target;
		struct string_list options;
	} build;
	int has_build;
	struct string_list ignored;		/* keys not supported, for the warning */
	struct string_list notes;		/* warnings of their own, one a line */
};

#define DEVCONTAINER_INIT { .container_env = STRING_LIST_INIT, .remote_env = STRING_LIST_INIT, \
	.ports = STRING_LIST_INIT, .mounts = STRING_LIST_INIT, .run_args = STRING_LIST_INIT, \
	.ignored = STRING_LIST_INIT, .notes = STRING_LIST_INIT, \
	.build = { .args = STRING_LIST_INIT, .options = STRING_LIST_INIT } }

void devcontainer_clear(struct devcontainer *dc);

/*
 * Which file: the one given (a path, relative to the current directory),
 * else .devcontainer/devcontainer.json, .devcontainer.json, or the one
 * .devcontainer/<folder>/devcontainer.json. Its path relative to the
 * worktree goes to out; 0 when there is one, 1 when none, -1 with a
 * message (several folders: a hint names them).
 */
int devcontainer_find(struct strbuf *out, const char *worktree, const char *given);

/*
 * Read a file of JSON with comments into a cJSON tree (returned as void *
 * to keep cJSON out of this header): comments and trailing commas are
 * taken out by a lexer that keeps strings whole, then the rest is strict
 * JSON. NULL with the reason in why, naming name:line:column.
 */
void *devcontainer_parse_jsonc(const char *text, size_t len, const char *name,
			       struct strbuf *why);

/* The user's allowances: the command line's and the global ones. */
struct devcontainer_allow {
	int all[DC_ALLOW_NR];
	struct string_list local_env;	/* "localEnv:<VAR>": only those */
};

#define DEVCONTAINER_ALLOW_INIT { .local_env = STRING_LIST_INIT }

/*
 * Add what cli and cfg allow. sand.devcontainer.allow is read from the
 * user's own config only (global, system, the command line), never the
 * repository's: a repository handed over whole could carry it (a warning
 * says it is ignored there). -1 with a message for a key unknown.
 */
int devcontainer_allow_init(struct devcontainer_allow *a, const struct string_list *cli,
			    git_config *cfg);
void devcontainer_allow_clear(struct devcontainer_allow *a);

/*
 * Read the file (relative to worktree, opened without following a link
 * out of it) into dc: 0, or -1 with the message to die with in why (each
 * key refused has had its error and hint printed already).
 */
int devcontainer_load(struct devcontainer *dc, const char *worktree, const char *path,
		      const struct devcontainer_allow *allow, struct strbuf *why);

/* The one warning naming what was not taken, and the notes. */
void devcontainer_warn(const struct devcontainer *dc);

/*
 * Record what is used again later (postStartCommand, postAttachCommand,
 * the runtime options allowed) in the sandbox's directory, where it is
 * read back from: the file may have changed since. 0 or -1 with a message.
 */
int devcontainer_save(const struct devcontainer *dc, const struct sandbox *sb);

/*
 * Run one lifecycle command inside the sandbox's container, in /app, its
 * output appended to the setup log (<dir>/setup.log). From dc when given,
 * else from what devcontainer_save recorded. 0 when it ran well or there
 * is none, -1 with a message naming it.
 */
int devcontainer_run(struct runtime *rt, const struct sandbox *sb,
		     const struct devcontainer *dc, enum devcontainer_command which);

/*
 * The user the sandbox's commands run as (remoteUser, else containerUser),
 * as recorded: NULL when none (the image's user). Checked again when read.
 */
char *devcontainer_user(const struct sandbox *sb);

/*
 * The runtime's exec_capture of argv, as that user: what reads or writes
 * /app (its git above all, which refuses a repository another user owns)
 * or that user's tmux runs so.
 */
int devcontainer_exec_capture(struct runtime *rt, const struct sandbox *sb,
			      const char *const *argv, struct strbuf *out);

/* Whether a user's name (or uid[:gid]) is one git-sand passes on. */
int devcontainer_user_ok(const char *user);

/*
 * Give the user the sandbox's commands run as /app and its home, as
 * root in the container (a fixed script, the user its argument), only
 * what is not theirs already. The ids it used are remembered under root
 * (for that image and user) for devcontainer_owner. 0 or -1 with a
 * message.
 */
int devcontainer_own(struct runtime *rt, const struct sandbox *sb, const char *user,
		     const char *root);

/*
 * The ids of user in image: given ("uid:gid"), or as an earlier sandbox
 * of that image found them. 1 when known, else 0. They only choose which
 * files are the user's to begin with: devcontainer_own gives the user
 * whatever is not, so a stale answer costs time, never correctness.
 */
int devcontainer_owner(const char *root, const char *image, const char *user, uid_t *uid,
		       gid_t *gid);

/*
 * The runtime options the user allowed it (runArgs, privileged, capAdd,
 * securityOpt), as recorded: each one argument of the runtime's create.
 * 0 (none recorded: nothing added) or -1 with a message.
 */
int devcontainer_run_args(const struct sandbox *sb, struct string_list *out);

/*
 * Whether those options name the container (--name), which then is not
 * the name git-sand gives it: 1, 0, or -1 (no message) where the record
 * is damaged.
 */
int devcontainer_names_container(const struct sandbox *sb);

/*
 * For show: what the sandbox recorded of its devcontainer.json, one
 * line(key, value) each: the file, its environment's names, the runtime
 * options allowed, each lifecycle command (as JSON).
 */
void devcontainer_show(const struct sandbox *sb,
		       void (*line)(void *data, const char *key, const char *value), void *data);

/* The image's name for a build: "localhost/git-sand-dc-<hash>". */
#define DEVCONTAINER_IMAGE_PREFIX "localhost/git-sand-dc-"

/*
 * The image the file's build makes, built now unless there already is
 * one of that hash (of the Dockerfile, the context's names, modes and
 * contents, links not followed, and the build's arguments, target and
 * options): its name in image. With progress, the runtime's output is
 * shown. 0, or -1 with a message.
 */
int devcontainer_build_image(struct runtime *rt, const struct devcontainer *dc,
			     const char *worktree, int progress, struct strbuf *image);

#endif

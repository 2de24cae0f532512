#ifndef OCI_EXEC_H
#define OCI_EXEC_H

#include "runtime.h"
#include "string-list.h"

/*
 * exec without the runtime's CLI: for a container of podman (rootful or
 * rootless) whose OCI runtime is runc or crun, "git sand exec" runs that
 * runtime's own exec (see oci-exec.c), at about half the cost of
 * "podman exec".
 */

/* sand.exec: how exec reaches a container. */
#define OCI_EXEC_MODES "auto, cli"
enum oci_exec_mode {
	OCI_EXEC_AUTO,	/* straight to the OCI runtime where that is possible */
	OCI_EXEC_CLI,	/* always through the runtime's CLI */
};
/* A name into out: 0, or -1 (no message). */
int oci_exec_mode_parse(enum oci_exec_mode *out, const char *s);

/* What oci_exec returns when this way does not apply: take the CLI. */
#define OCI_EXEC_USE_CLI (-2)

/*
 * Run cmd in the container ctr (its full id) with its OCI runtime, as
 * rt->ops->exec would through the CLI, and return the same: the command's
 * status (127 not found, 126 not executable, 128+N killed by signal N),
 * or -1 with a message. Returns OCI_EXEC_USE_CLI, having run nothing and
 * said nothing, where it cannot give exactly what the CLI would: another
 * runtime than podman, an SSH host, a runtime other than runc or crun,
 * rootless podman whose namespaces are not there to enter, a terminal
 * (-t), a detached command, a user or environment of the caller's, a
 * container podman's files do not describe as expected.
 *
 * What podman says about itself (its OCI runtime, where it keeps its
 * containers) is asked once and kept under state_root; that record is
 * dropped, to be asked again, when what it names is gone.
 */
int oci_exec(struct runtime *rt, const char *state_root, const char *ctr,
	     const struct exec_opts *o, const char *const *cmd);

/*
 * The same in two steps, for a caller that sets up the child itself (its
 * standard streams): put in c's argv the runtime's exec of cmd, as
 * oci_exec would run it, with c's adopt_pid_file (so c must be run with
 * relay, see run.h), and return 0; or return
 * OCI_EXEC_USE_CLI as oci_exec does, c untouched. Then, once c has run,
 * oci_exec_finish gives its status as oci_exec would from what run_child
 * returned, and removes the files the runtime read. x holds those files
 * in between. state_root NULL (sand.exec=cli) always gives the CLI.
 */
struct child;
struct oci_exec_run {
	struct strbuf spec_file, log_file, pid_file;
	int ns_fd[2];		/* rootless: podman's user and mount namespaces */
};
int oci_exec_prepare(struct oci_exec_run *x, struct runtime *rt, const char *state_root,
		     const char *ctr, const struct exec_opts *o, const char *const *cmd,
		     struct child *c);
int oci_exec_finish(struct oci_exec_run *x, struct runtime *rt, int status);

/*
 * The process spec a podman exec of cmd in workdir (NULL: the
 * container's) would give, from the container's OCI config.json (as
 * untrusted input), into out: 0; or -1 when config_json is not what podman
 * writes for a container whose exec this can copy (no message). keep_id
 * (rootless podman; NULL otherwise): the user whose uid and gid
 * --userns=keep-id makes the container's user.
 */
struct oci_keep_id {
	unsigned long uid, gid;
};
int oci_exec_process(struct strbuf *out, const char *config_json, const char *workdir,
		     const char *const *cmd, const struct oci_keep_id *keep_id);

/*
 * The length of the longest path two cgroup paths ("/a/b", ended by the
 * end of the string or a newline) share, in whole names: the closest
 * cgroup that holds both ("/a/b" and "/a/bc": "/a", 2; "/" and "/a": 0).
 */
size_t oci_cgroup_common(const char *a, const char *b);

/*
 * Where podman with runc or crun keeps its containers, from what
 * it said of itself to an earlier exec (kept under state_root): podman
 * is never run here. oci_storage_load: 0, or -1 (no message) where
 * program (the runtime's name) is not such a podman or said nothing yet.
 */
struct oci_storage {
	char *root;		/* the OCI runtime's state */
	char *graphroot;	/* podman's storage, and its driver */
	char *driver;
	int transient;		/* its lists of containers elsewhere */
	/* The ids and names of the storage's containers, read once: 1 read, -1 unreadable. */
	struct string_list known;
	int listed;
};
int oci_storage_load(struct oci_storage *out, const char *program, const char *state_root);
void oci_storage_clear(struct oci_storage *os);

/*
 * Whether container ctr (its full id) is there and not running, as
 * podman's own files tell: its storage is there, and its OCI runtime
 * holds no state of it (podman has the runtime make that state when it
 * starts the container, and delete it once the container has stopped).
 * 1 it is stopped, 0 these files cannot tell (ask podman). os may be
 * one that did not load (then 0).
 */
int oci_container_stopped(const struct oci_storage *os, const char *ctr);

/*
 * Whether podman has no container that is ctr (a full id, or NULL where
 * none was recorded) or is named name, as podman's own files tell:
 * podman makes a container's storage, under the container's id and
 * name, before the container, and removes it with the container; its
 * lists of them (containers.json, and volatile-containers.json for
 * those made with --rm) have neither, and its OCI runtime holds no
 * state of ctr. 1 it has none, 0 these files cannot tell (one is
 * there, a list cannot be read, or podman keeps its lists elsewhere
 * with transient_store: ask podman). os may be one that did not load
 * (then 0).
 */
int oci_container_gone(struct oci_storage *os, const char *ctr, const char *name);

#endif

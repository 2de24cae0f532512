#ifndef DOCKER_API_H
#define DOCKER_API_H

/*
 * Docker's Engine API, spoken to the daemon's socket on this machine,
 * for what git-sand asks of docker most often: exec (exec, status, diff,
 * the probes), inspect and ps. The docker CLI spends 60 ms or more of
 * its own on each call before the daemon is asked anything
 * (bench/README-exec.md); this asks the daemon itself.
 *
 * Only where the CLI would reach the same daemon: DOCKER_HOST naming a
 * unix socket, or no DOCKER_HOST and the default context. Anything else
 * (tcp://, ssh://, a context of the user's), a daemon that cannot be
 * reached and a terminal (-t) are left to the CLI, which says what is
 * wrong as its users know it: each function then returns
 * DOCKER_API_USE_CLI, having done nothing and said nothing.
 */
#include "run.h"
#include "runtime.h"

#define DOCKER_API_USE_CLI RUNTIME_USE_CLI

/* 0 where sand.exec is "cli": the CLI for everything. */
extern int docker_api_enabled;

/*
 * The daemon's socket as the docker CLI here would find it, into path:
 * 0, or DOCKER_API_USE_CLI where the CLI would go elsewhere.
 */
int docker_api_socket(struct strbuf *path);

/*
 * Run cmd in the container ctr as "docker exec" would, with the streams
 * run_child would give c: c->in fed as its stdin (else ours, where
 * o->interactive), its stdout to c->out or c->out_cb (else c->out_fd,
 * else ours), its stderr to c->err (else ours, unless c->silent_err),
 * both within c->max_out; with c->foreground, a SIGINT or SIGQUIT ends
 * it as it would end the CLI, not us. c's argv, env, dir, detach and
 * relay are not for it. Returns the
 * command's status as the daemon gives it (126 and 127 where it could
 * not start it), 128 + SIGPIPE where out_cb or our stdout stopped
 * taking its output (or ours of stderr), 128 + the signal where one
 * told us to stop (cleanup_signalled), 1 where the daemon would not
 * run it (no such container, not running: the daemon's words in c->err
 * where that is set), -1 with a message, or DOCKER_API_USE_CLI. With
 * o->detach: 0 once started, or -1.
 */
int docker_api_exec(const char *ctr, const struct exec_opts *o, const char *const *cmd,
		    struct child *c);

/* As runtime_ops.inspect and .list, or DOCKER_API_USE_CLI. */
int docker_api_inspect(const char *ctr, struct container_info *out);
int docker_api_list(const char *label_key, struct container_info **out, size_t *nr);

#endif

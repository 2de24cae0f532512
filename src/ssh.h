#ifndef SSH_H
#define SSH_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/*
 * The SSH transport (libssh2): a connection to a host that runs the
 * sandboxes of git-sand, and commands run there. Where to connect is
 * ssh-config.c's, host keys ssh-known-hosts.c's, the connection and log-in
 * ssh.c's, running commands ssh-channel.c's, libgit2's callbacks
 * ssh-transport.c's. Commands are argument
 * vectors, quoted for the remote login shell by sq_quote_argv() and by
 * nothing else.
 *
 * Host keys are checked against ~/.ssh/known_hosts and sand.knownHostsFile:
 * an unknown key is refused unless accept_new is set (then it is added, as
 * OpenSSH's StrictHostKeyChecking=accept-new does), a changed one always.
 * Logging in uses the user's ssh-agent, then key files.
 */

/* Where to connect, from "ssh://[user@]host[:port]" and ~/.ssh/config. */
struct ssh_target {
	char *host;		/* as the user gave it (maybe an alias) */
	char *hostname;		/* what to connect to (HostName) */
	char *user;
	int port;
	char *identity_file;	/* IdentityFile of the matching Host entry */
};

/*
 * Parse an "ssh://[user@]host[:port]" URL (a bare host is accepted too)
 * into t; nothing else (no path, no options) is allowed. Returns 0, or -1
 * with the reason in why.
 */
int ssh_url_parse(const char *url, struct ssh_target *t, struct strbuf *why);
/*
 * Fill in what the URL left unset from the first matching Host entries of
 * an ssh_config(5) file (HostName, Port, User, IdentityFile), then the
 * defaults (port 22, the local user name). A missing file is no error.
 */
int ssh_config_apply(struct ssh_target *t, const char *config_path);
void ssh_target_clear(struct ssh_target *t);
/* Both: the URL, then the user's ~/.ssh/config. 0, or -1 with a message. */
int ssh_target_resolve(const char *url, struct ssh_target *t);
/* "~/x" with $HOME for "~"; a new string. */
char *ssh_expand_home(const char *path);
/* "ssh://user@host:port" with the host as given, for git remotes. */
void ssh_target_url(const struct ssh_target *t, int resolved, struct strbuf *out);

struct ssh_opts {
	char *identity_file;	/* sand.identityFile */
	char *known_hosts;	/* sand.knownHostsFile */
	int accept_new;		/* --accept-new-host-key */
};
void ssh_opts_clear(struct ssh_opts *o);

/*
 * Check a host key (type: LIBSSH2_HOSTKEY_TYPE_*; sha256: its 32-byte
 * digest) for the target. Returns 0 when it is known (or was unknown and
 * has been added because o->accept_new), else -1 with an error that gives
 * the fingerprint.
 */
int ssh_hostkey_check(const struct ssh_target *t, const struct ssh_opts *o,
		      const char *key, size_t len, int type, const unsigned char *sha256);

struct ssh_conn;

/* Connect and log in. Returns 0, or -1 with a message. */
int ssh_connect(struct ssh_conn **out, const char *url, const struct ssh_opts *o);
void ssh_close(struct ssh_conn *c);
const struct ssh_target *ssh_conn_target(const struct ssh_conn *c);

/*
 * Run a command on the host. Its stdin is the buffer in (in_len bytes),
 * else in_fd when >= 0, else empty; its stdout and stderr go to out/err
 * when given, else to out_fd/err_fd. Returns its exit status as a shell
 * gives it (128 + N when signal N ended it), or -1 when the connection
 * failed (with a message).
 */
struct ssh_cmd {
	const char *const *argv;
	const char *in;
	size_t in_len;
	int in_fd;
	struct strbuf *out, *err;
	int out_fd, err_fd;
	/* The most out or err may hold (0: run_max_output); then -1. */
	size_t max_out;
	/*
	 * A terminal on the host for an interactive command: this side's
	 * terminal is put in raw mode, window size changes are passed on.
	 */
	unsigned tty:1;
	/* Feed stdin from a function instead (e.g. a tar stream): -1 stops. */
	int (*feed)(void *data, struct strbuf *buf);
	void *feed_data;
	/*
	 * Run the command only if this one, run first there in the same
	 * round trip, prints "true": else nothing else runs, no input is
	 * sent, the status is 0 and guard_failed is set.
	 */
	const char *const *guard;
	unsigned guard_failed:1;
};
#define SSH_CMD_INIT { .in_fd = -1, .out_fd = 1, .err_fd = 2 }
int ssh_run(struct ssh_conn *c, struct ssh_cmd *cmd);

/*
 * Start cmd (no input) and return at once, where the one shell of
 * ssh_conn_batch runs it: it runs there in the background while the
 * commands after it run as usual; ssh_finish waits for its end and gives
 * its status and output as ssh_run would. Where there is no such shell,
 * ssh_start runs it to its end (nothing then runs meanwhile), and
 * ssh_finish gives what it gave. One at a time on a connection; every
 * ssh_start is followed by its ssh_finish.
 */
void ssh_start(struct ssh_conn *c, struct ssh_cmd *cmd);
int ssh_finish(struct ssh_conn *c, struct ssh_cmd *cmd);

/*
 * From now on, run the commands of c whose error output is captured
 * (cmd->err) and that have no terminal through one shell on the host, one
 * after the other, instead of a channel each: sshd starts the user's
 * login shell once for them all. Their output comes when they end. Where
 * the host's shell tools cannot do it, each still gets a channel.
 */
void ssh_conn_batch(struct ssh_conn *c);

/*
 * Forward each connection made to listen_fd (a listening TCP socket here)
 * to host:port as the SSH host sees it, through a channel of c, as
 * 'ssh -L' does, until stop() returns nonzero. A connection the host
 * cannot make is closed with a warning. Returns 0, or -1 with a message.
 */
int ssh_forward(struct ssh_conn *c, int listen_fd, const char *host, unsigned port,
		int (*stop)(void));

/*
 * Callbacks for libgit2's own SSH transport (git fetch over ssh://), so
 * that it checks host keys and logs in as ssh_connect does: a
 * git_credential_acquire_cb and a git_transport_certificate_check_cb,
 * whose payload is a struct ssh_git_auth.
 */
struct git_credential;
struct git_cert;
struct ssh_git_auth {
	struct ssh_target t;	/* resolved */
	const struct ssh_opts *o;
	int tries;
};
int ssh_git_credentials(struct git_credential **out, const char *url, const char *user,
			unsigned int allowed, void *payload);
int ssh_git_certificate(struct git_cert *cert, int valid, const char *host, void *payload);

/* Bytes that went through the connection's socket, each way. */
void ssh_conn_bytes(const struct ssh_conn *c, uint64_t *sent, uint64_t *received);

#endif

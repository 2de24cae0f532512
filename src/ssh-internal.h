#ifndef SSH_INTERNAL_H
#define SSH_INTERNAL_H

/*
 * What the parts of the SSH transport share, and nothing else includes:
 * the connection (ssh.c), the host keys (ssh-known-hosts.c), the channels
 * (ssh-channel.c) and libgit2's callbacks (ssh-transport.c).
 */
#include <stdint.h>

#include <libssh2.h>

#include "ssh.h"

struct string_list;

struct ssh_conn {
	int fd;
	LIBSSH2_SESSION *s;
	struct ssh_target t;
	uint64_t sent, received;
	/* For GIT_SAND_SSH_STATS: the commands run, and milliseconds spent. */
	unsigned channels;
	uint64_t connect_ms, channel_ms;
	/* Exec requests made: each starts the user's login shell there. */
	unsigned sessions;
	/* ssh_conn_batch: the one shell for many commands (ssh-mux.c). */
	unsigned batch:1;
	int mux_state;		/* 0 not tried yet, 1 running, -1 not to be used */
	LIBSSH2_CHANNEL *mux;
	struct strbuf mux_buf;	/* its output read ahead, from mux_off on */
	size_t mux_off;
	/* ssh_start's command: its status once known, or SSH_IN_BACKGROUND. */
	int bg_status;
	uint64_t bg_start;
};

/* ---- ssh-known-hosts.c ---- */

/* The known keys, and those marked "@revoked". */
struct ssh_known_hosts {
	LIBSSH2_KNOWNHOSTS *kh, *revoked;
};

/*
 * Read the user's known_hosts and sand.knownHostsFile for session s.
 * Returns 0, or -1 with a message; kh is to be released either way.
 */
/* error() naming the connection, what failed, and libssh2's last error. */
int ssh_failed(struct ssh_conn *c, const char *what);

int ssh_known_hosts_load(struct ssh_known_hosts *kh, LIBSSH2_SESSION *s,
			 const struct ssh_opts *o);
void ssh_known_hosts_release(struct ssh_known_hosts *kh);
/* ssh_hostkey_check(), against known hosts already read. */
int ssh_known_hosts_check(const struct ssh_known_hosts *kh, const struct ssh_target *t,
			  const struct ssh_opts *o, const char *key, size_t len, int type,
			  const unsigned char *sha256);
/* Ask session s first for the kinds of host key known for t, as ssh does. */
void ssh_known_hosts_prefer(const struct ssh_known_hosts *kh, LIBSSH2_SESSION *s,
			    const struct ssh_target *t);

/* ---- ssh-mux.c ---- */

#define SSH_MUX_UNAVAILABLE (-2)
#define SSH_IN_BACKGROUND (-3)
/* The script of that shell (sh -c runs it; the unit tests too). */
extern const char ssh_mux_script[];
/*
 * Run cmd (no terminal) through the connection's one shell for many
 * commands, started on first use: its status, -1 on an error, or
 * SSH_MUX_UNAVAILABLE when there is no such shell (then it was not run).
 */
int ssh_mux_run(struct ssh_conn *c, struct ssh_cmd *cmd);
/*
 * Start cmd (no terminal, no input) in the background of that shell: 0,
 * -1 on an error, or SSH_MUX_UNAVAILABLE. ssh_mux_finish then waits for
 * it and gives what ssh_mux_run would have (no SSH_MUX_UNAVAILABLE).
 */
int ssh_mux_start(struct ssh_conn *c, struct ssh_cmd *cmd);
int ssh_mux_finish(struct ssh_conn *c, struct ssh_cmd *cmd);
void ssh_mux_close(struct ssh_conn *c);

/* ---- ssh.c ---- */

/*
 * The key files to log in with, after the agent: the one named
 * (sand.identityFile, else IdentityFile of ~/.ssh/config), else those of
 * ssh's default keys that exist. *named says which it was.
 */
void ssh_key_files(const struct ssh_target *t, const struct ssh_opts *o,
		   struct string_list *out, int *named);

#endif

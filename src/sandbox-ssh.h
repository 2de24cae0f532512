#ifndef SANDBOX_SSH_H
#define SANDBOX_SSH_H

#include "runtime.h"
#include "sandbox.h"
#include "strbuf.h"

/*
 * SSH into a sandbox with no port and no daemon: ssh's ProxyCommand runs
 * "git sand ssh-proxy", which runs "sshd -i" in the container over the
 * runtime's exec channel. The keys are the sandbox's own, made here with
 * ssh-keygen and kept in <sandbox dir>/ssh (removed with it): a user key
 * that never enters the sandbox, and a host key that is pinned in a
 * known_hosts file beside it.
 */

/* Where the container's sshd finds its host key, authorized key and config. */
#define SANDBOX_SSHD_DIR "/home/sand/.git-sand/sshd"

/* "<name>.<repo>.sand", repo the worktree's directory name made a DNS label. */
void sandbox_ssh_host(struct strbuf *out, const struct sandbox *sb);
/* "<sandbox dir>/ssh/<file>" (file may be ""). */
void sandbox_ssh_path(struct strbuf *out, const struct sandbox *sb, const char *file);
/*
 * Make the sandbox's keys where it has none (ssh-keygen), and write its
 * known_hosts for the host name alias. 0, or -1 with a message.
 */
int sandbox_ssh_keys(const struct sandbox *sb, const char *alias);
/*
 * The Host block of ssh_config for the sandbox, its ProxyCommand running
 * self (the absolute path of git-sand) with root (the state root).
 */
void sandbox_ssh_block(struct strbuf *out, const struct sandbox *sb, const char *self,
		       const char *root);
/*
 * Put the host key, the authorized key and sshd's configuration in the
 * running container, then run "sshd -i" there on our stdin and stdout.
 * Returns sshd's exit status, or -1 with a message.
 */
int sandbox_ssh_serve(struct runtime *rt, const struct sandbox *sb);

#endif

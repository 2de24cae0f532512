#ifndef SANDBOX_LOCK_H
#define SANDBOX_LOCK_H

#include "sandbox.h"
#include "store.h"

/*
 * The lock a command holds while it creates or removes a sandbox (a file
 * beside its directory; it dies with the process). gc leaves a sandbox
 * alone while it is held. 0 with *fd set, SANDBOX_BUSY, or -1.
 */
#define SANDBOX_BUSY 1
int sandbox_lock(const struct sandbox *sb, int *fd);
void sandbox_unlock(const struct sandbox *sb, int fd, int remove);
void sandbox_lock_path(const struct sandbox *sb, struct strbuf *out);
/* Whether a command holds the lock now (without taking or creating it). */
int sandbox_lock_held(const struct sandbox *sb);
/*
 * A sandbox left half-made or half-removed by a command that died: not
 * ready, and nobody holds its lock. Only rm and gc can do anything with it.
 * A command that finished since sb was read leaves it ready (sb->state is
 * brought up to date) or gone: neither is broken.
 */
int sandbox_is_broken(struct store *st, struct sandbox *sb);

#endif

#ifndef SANDBOX_REMOTE_H
#define SANDBOX_REMOTE_H

#include <git2.h>

#include "sandbox.h"
#include "store.h"
#include "workspace.h"

/*
 * The host remote "sand/<name>": its URL is the clone, its branches go to
 * refs/remotes/sand/<name>/. A remote of that name that git-sand did not
 * make is never replaced.
 */
void sandbox_remote_name(const struct sandbox *sb, struct strbuf *out);
/* Fails, touching nothing, if a foreign remote of that name exists. */
int sandbox_remote_check(git_repository *repo, struct store *st, const struct sandbox *sb);
/* Add it for ws's sandbox, with the workspace's URL for its clone. */
int sandbox_remote_add(git_repository *repo, struct store *st, const struct workspace *ws);
/* git_remote_delete, waiting for the config lock if another process holds it. */
int remote_delete_retry(git_repository *repo, const char *name);
/* Remove the remote and its remote-tracking refs, if it is ours. */
int sandbox_remote_remove(git_repository *repo, const struct sandbox *sb);

#endif

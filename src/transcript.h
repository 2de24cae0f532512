#ifndef TRANSCRIPT_H
#define TRANSCRIPT_H

#include "sandbox.h"
#include "strbuf.h"

/*
 * An agent's transcripts: the session files it writes in its sandbox's
 * home (agent->transcripts under <sandbox dir>/home), kept when the
 * sandbox is removed and copied out by export-session. The home is the
 * sandbox's to fill: it is read one directory at a time, never following
 * a link, and only regular files and directories are taken.
 */

/*
 * Before a sandbox on this machine is removed: move its agent's
 * transcripts to <root>/transcripts/<name>.<id> (hard links: they cost no
 * space). 1 when kept (the directory in kept), 0 when there were none (or
 * the sandbox is on another host, or has no agent), -1 with a message.
 */
int transcript_keep(const char *root, const struct sandbox *sb, struct strbuf *kept);

/*
 * Copy a sandbox's agent's transcripts into dst, which must not exist:
 * copies, not links, since the sandbox may still write to its own. 0, or
 * -1 with a message (none yet, no agent, another host).
 */
int transcript_export(const struct sandbox *sb, const char *dst);

#endif

#ifndef SESSION_H
#define SESSION_H

#include "runtime.h"
#include "sandbox.h"

/*
 * Sessions that outlive the terminal: the interactive shell or agent
 * runs inside tmux in the container, whose server goes on when the
 * client (podman exec, and ssh to a remote host) goes away. A sandbox
 * has at most one session of each kind, named after it ("shell",
 * "agent"); shell and agent reattach to theirs, attach to the one used
 * last. tmux rather than dtach or abduco: it keeps the screen, so a
 * reattached shell shows what happened meanwhile, and most images have
 * it or can install it from their distribution.
 *
 * Everything reaches tmux as an argv, through the runtime's exec; the
 * session names are fixed, and the command is the caller's argv.
 */

#define SESSION_PROGRAM "tmux"
/* The key that detaches (tmux's name for it), besides tmux's own C-b d. */
#define SESSION_DETACH_KEY "C-\\"
#define SESSION_DETACH_KEY_SHOWN "Ctrl-\\"

#define SESSION_KINDS(_) \
	_(SESSION_SHELL, "shell") \
	_(SESSION_AGENT, "agent")

enum session_kind {
#define SESSION_KIND_ENUM(id, name) id,
	SESSION_KINDS(SESSION_KIND_ENUM)
#undef SESSION_KIND_ENUM
};

const char *session_kind_name(enum session_kind kind);

/* sand.session */
enum session_mode { SESSION_AUTO, SESSION_NEVER };
/* The mode a value of sand.session names: 0, or -1 with a message. */
int session_mode_parse(const char *value, enum session_mode *out);

/* 1 when the container has tmux, 0 when not, -1 with a message. */
int session_available(struct runtime *rt, const struct sandbox *sb);

/*
 * Run cmd (NULL-terminated) in the sandbox's session of that kind,
 * attached to the terminal: the session made, or joined when it exists
 * (then cmd is not run again). Returns the command's exit status once
 * it has ended, 0 with *detached set when the session goes on, or -1.
 */
int session_open(struct runtime *rt, const struct sandbox *sb, enum session_kind kind,
		 const char *const *cmd, int *detached);

/* Attach to the session used last: as session_open. */
int session_attach(struct runtime *rt, const struct sandbox *sb);

/* 1 when the sandbox has a session (any kind), 0 when not. */
int session_exists(struct runtime *rt, const struct sandbox *sb);

#endif

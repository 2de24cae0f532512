#ifndef AGENT_RUN_H
#define AGENT_RUN_H

#include <stddef.h>

#include "agent.h"
#include "runtime.h"
#include "sandbox.h"
#include "store.h"

/*
 * Headless runs: a sandbox's agent given a task (a prompt) in its batch
 * mode, started detached inside the container by a fixed wrapper script
 * that writes the agent's output to a log and its exit status to a file
 * in the sandbox's home, <home>/.git-sand/runs/<n>/{log,status}. The host
 * reads both as hostile input: following no link, regular files only, at
 * most sand.maxOutput of a log, the status parsed strictly, the output
 * shown through the terminal sanitizer. The store records the latest run
 * (opts.run) and, once someone has seen it, its exit status.
 */

/* Where the container sees its runs. */
#define AGENT_RUN_DIR "/.git-sand/runs"

/* The most a prompt may hold: one argument of a program (Linux: 128 KiB). */
#define AGENT_PROMPT_MAX ((size_t)128 * 1024 - 1)

/* The status wait gives a lost run, and a timeout. */
#define AGENT_RUN_LOST_STATUS 255
#define AGENT_RUN_TIMEOUT_STATUS 124

#define AGENT_RUN_STATES(_) \
	_(RUN_IDLE, "idle") \
	_(RUN_RUNNING, "running") \
	_(RUN_WAITING, "waiting") \
	_(RUN_EXITED, "exited") \
	_(RUN_LOST, "lost")

enum agent_run_state {
#define AGENT_RUN_STATE_ENUM(id, name) id,
	AGENT_RUN_STATES(AGENT_RUN_STATE_ENUM)
#undef AGENT_RUN_STATE_ENUM
};

const char *agent_run_state_name(enum agent_run_state state);

/* A prompt we pass on: not empty, no NUL, not an option, not too long. 0 or -1. */
int agent_prompt_check(const char *prompt, size_t len);
/* The prompt of --prompt-file ("-": standard input), checked, into out. 0 or -1. */
int agent_prompt_read(struct strbuf *out, const char *path);

/*
 * Start run opts.run.n + 1 of sb, whose container runs: recorded in the
 * store, then the agent started in its batch mode, detached. 0, or -1
 * with a message (the image lacks the agent, a run is going on, the
 * sandbox is on another host...).
 */
int agent_run_start(struct runtime *rt, struct store *st, struct sandbox *sb,
		    const struct agent *agent, const char *prompt);

/*
 * The state of sb's latest run, and its exit status when it has one
 * (a lost run: AGENT_RUN_LOST_STATUS). A status seen for the first time
 * is recorded. container_running: 1, 0, or -1 when not known.
 */
enum agent_run_state agent_run_state(struct store *st, struct sandbox *sb,
				     int container_running, int *status);

/*
 * What the agent says it is doing: one word, "waiting" (for its user) or
 * "working", in ~/.git-sand/agent-state inside the sandbox. The hooks
 * git-sand gives Claude Code write it (see home.c); anything else in the
 * sandbox may. It is the sandbox's word, so it only ever colours what
 * the host shows: no run is taken to have ended because of it.
 */
#define AGENT_REPORT_DIR ".git-sand"
#define AGENT_REPORT_FILE "agent-state"

enum agent_report { REPORT_NONE, REPORT_WAITING, REPORT_WORKING };

/* What the file says; REPORT_NONE for no file, another host, or anything else. */
enum agent_report agent_report_read(const struct sandbox *sb);
/* Remove the file, before the container starts (it may tell of an earlier one). 0 or -1. */
int agent_report_clear(const struct sandbox *sb);
/*
 * The state to show for sb, whose latest run is in state: RUN_WAITING
 * when the agent says it waits for input, RUN_RUNNING when it says it
 * works, both only while the container runs (container_running 1) and
 * no run has ended.
 */
enum agent_run_state agent_shown_state(const struct sandbox *sb, enum agent_run_state state,
				       int container_running);

/*
 * Print the log of sb's latest run on stdout through the sanitizer (the
 * last sand.maxOutput bytes of it at most); with follow, go on until the
 * run ends. 0, or -1 with a message.
 */
int agent_run_print_log(struct store *st, struct sandbox *sb, int follow);

/* Print <dir>/setup.log the same way; 1 when there is none. */
int agent_run_print_setup_log(const struct sandbox *sb);

/* Sleep for ms milliseconds (the polling interval of -f and wait). */
void agent_run_sleep(unsigned ms);
#define AGENT_RUN_POLL_MS 200

#endif

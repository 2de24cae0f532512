#ifndef AGENT_H
#define AGENT_H

#include "string-list.h"

/*
 * An agent's JSON file, carried with some of its top-level keys: those in
 * keep (when set), else all but those in drop.
 */
struct agent_json {
	const char *path;		/* under $HOME */
	const char *const *keep;
	const char *const *drop;
	int project;	/* "projects": this worktree's entry only, as /app */
};

struct agent {
	const char *name;	/* as given to --agent */
	const char *command;	/* what starts it in the sandbox */
	/*
	 * Its batch mode: the arguments between the command and the prompt
	 * ("claude -p <prompt>"), for a run that needs no terminal.
	 */
	const char *const *batch;
	const char *const *paths;	/* under $HOME: files or directories */
	const char *transcripts;	/* under $HOME: the directory of its session files */
	const struct agent_json *json;	/* or NULL */
	/*
	 * Under $HOME: its settings file that takes Claude Code's "hooks",
	 * which git-sand gives the hooks that tell the host whether the
	 * agent waits for its user (see agent_report_read); or NULL.
	 */
	const char *hooks_settings;
};

/* The agent of that name, or NULL. */
const struct agent *agent_find(const char *name);
/* "claude, codex, gemini, opencode", for messages. */
const char *agent_names(void);

/*
 * What the user adds to what the agent carries: sand.agent.<agent>.carry
 * (paths under $HOME) and sand.agent.<agent>.carryKey (keys of its JSON
 * file), the profile's first.
 */
struct settings;
void agent_extras(struct settings *set, const struct agent *agent, struct string_list *paths,
		  struct string_list *keys);

/* The checks of sand.agent.<agent>.carry paths, to run before anything is made. */
int agent_carry_check(const struct agent *agent, const struct string_list *paths);

#endif

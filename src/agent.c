#include <string.h>

#include "agent.h"
#include "home.h"
#include "msg.h"
#include "settings.h"
#include "strbuf.h"

/*
 * What each agent needs to start logged in and set up as on the host,
 * and nothing more: the rest (MCP servers with their tokens, history,
 * caches) is carried only when the user asks for it, with
 * sand.agent.<agent>.carry (paths) and sand.agent.<agent>.carryKey (keys
 * of the agent's JSON file). The manual's AGENTS section lists the same.
 */
static const char *const claude_paths[] = {
	".claude/settings.json", ".claude/.credentials.json", ".claude/CLAUDE.md",
	".claude/agents", ".claude/commands", NULL
};
/* ~/.claude.json is Claude Code's state: only these of its keys are needed. */
static const char *const claude_json_keep[] = {
	"hasCompletedOnboarding", "lastOnboardingVersion", "oauthAccount", "primaryApiKey", NULL
};
static const struct agent_json claude_json = { ".claude.json", claude_json_keep, NULL, 1 };

static const char *const codex_paths[] = { ".codex/auth.json", NULL };

static const char *const gemini_paths[] = {
	".gemini/oauth_creds.json", ".gemini/google_accounts.json", ".gemini/GEMINI.md", NULL
};
/* Gemini's settings are needed (its log-in method), its MCP servers are not. */
static const char *const gemini_json_drop[] = { "mcpServers", NULL };
static const struct agent_json gemini_json = { ".gemini/settings.json", NULL, gemini_json_drop, 0 };

static const char *const opencode_paths[] = { ".local/share/opencode/auth.json", NULL };

/* Batch modes: the prompt is the last argument (see the manual's RUNS). */
static const char *const claude_batch[] = { "-p", NULL };
static const char *const codex_batch[] = { "exec", NULL };
static const char *const gemini_batch[] = { "-p", NULL };
static const char *const opencode_batch[] = { "run", NULL };

/* Interactive command, batch arguments, files carried, transcripts. */
static const struct agent agents[] = {
	{ "claude", "claude", claude_batch, claude_paths, ".claude/projects", &claude_json,
	  ".claude/settings.json" },
	{ "codex", "codex", codex_batch, codex_paths, ".codex/sessions", NULL },
	{ "gemini", "gemini", gemini_batch, gemini_paths, ".gemini/tmp", &gemini_json },
	{ "opencode", "opencode", opencode_batch, opencode_paths, ".local/share/opencode/storage",
	  NULL },
};

const struct agent *agent_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(agents); i++)
		if (!strcmp(agents[i].name, name))
			return &agents[i];
	return NULL;
}

const char *agent_names(void)
{
	return "claude, codex, gemini, opencode";
}

void agent_extras(struct settings *set, const struct agent *agent, struct string_list *paths,
		  struct string_list *keys)
{
	struct strbuf key = STRBUF_INIT;

	strbuf_addf(&key, "agent.%s.carry", agent->name);
	settings_get_list(set, key.buf, NULL, paths, NULL);
	strbuf_addstr(&key, "Key");
	settings_get_list(set, key.buf, NULL, keys, NULL);
	strbuf_release(&key);
}

int agent_carry_check(const struct agent *agent, const struct string_list *paths)
{
	for (size_t i = 0; paths && i < paths->nr; i++)
		if (!dotfile_path_ok(paths->items[i]))
			return error("sand.agent.%s.carry: '%s' is not a path inside your home "
				     "directory", agent->name, paths->items[i]);
	return 0;
}

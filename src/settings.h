#ifndef SETTINGS_H
#define SETTINGS_H

#include <git2.h>

#include "strbuf.h"
#include "string-list.h"

/*
 * Settings for a new sandbox, from three places in this order: the
 * command line, the profile (sand.profile.<name>.<key>, chosen with
 * --profile or sand.profile), and plain sand.<key>. For a list, the first
 * place that has any value gives all of them.
 */
struct settings {
	git_config *cfg;
	char *profile;		/* NULL when none */
};

/*
 * Choose the profile: the one given, else sand.profile. A profile that
 * has no keys at all is an error (a typo would otherwise go unnoticed).
 */
int settings_init(struct settings *s, git_config *cfg, const char *profile);
void settings_clear(struct settings *s);

/*
 * The value of a setting; cli wins when set. Returns a new string or
 * NULL; where it came from goes to origin when given ("--image",
 * "sand.profile.x.image (global)", "sand.image (local)", "default").
 */
char *settings_get(struct settings *s, const char *key, const char *cli, struct strbuf *origin);
int settings_get_bool(struct settings *s, const char *key, int cli, int *out,
		      struct strbuf *origin);
/* A list: cli when it has items, else the profile's, else sand.<key>'s. */
void settings_get_list(struct settings *s, const char *key, const struct string_list *cli,
		       struct string_list *out, struct strbuf *origin);

/* The keys a profile may set, for "git sand config" and the manual. */
extern const char *const settings_keys[];

#endif

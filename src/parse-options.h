#ifndef PARSE_OPTIONS_H
#define PARSE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "string-list.h"

/*
 * A small option parser in the manner of git's parse-options: each command
 * declares a table of options and a NULL-terminated usage array, and the
 * same table prints the help.
 */

enum opt_type {
	OPT_T_END,
	OPT_T_GROUP,
	OPT_T_BOOL,	/* int: 1 when given, 0 with --no-<name> */
	OPT_T_STRING,	/* const char *: the last one given wins */
	OPT_T_LIST,	/* struct string_list: every one given, in order */
	OPT_T_INT,	/* int, decimal */
	OPT_T_SET,	/* int: set to defval */
};

struct option {
	enum opt_type type;
	int short_name;
	const char *long_name;
	void *value;
	const char *argh;
	const char *help;
	int defval;
};

#define OPT_END() { OPT_T_END }
#define OPT_GROUP(h) { OPT_T_GROUP, 0, NULL, NULL, NULL, (h) }
#define OPT_BOOL(s, l, v, h) { OPT_T_BOOL, (s), (l), (v), NULL, (h) }
#define OPT_STRING(s, l, v, a, h) { OPT_T_STRING, (s), (l), (v), (a), (h) }
#define OPT_LIST(s, l, v, a, h) { OPT_T_LIST, (s), (l), (v), (a), (h) }
#define OPT_INTEGER(s, l, v, a, h) { OPT_T_INT, (s), (l), (v), (a), (h) }
#define OPT_SET_INT(s, l, v, h, i) { OPT_T_SET, (s), (l), (v), NULL, (h), (i) }

enum parse_opt_flags {
	/* Stop at the first non-option argument (for "exec <name> <cmd>..."). */
	PARSE_OPT_STOP_AT_NON_OPTION = 1 << 0,
	/* Keep the "--" separator in the remaining arguments. */
	PARSE_OPT_KEEP_DASHDASH = 1 << 1,
};

#define PARSE_OPT_HELP (-2)
#define PARSE_OPT_ERROR (-1)

/*
 * Parse argv[1..argc-1] (argv[0] is the command name). Recognised options
 * are removed; the remaining arguments are moved to argv[0..] and their
 * number is returned. On a bad option, prints an error and returns
 * PARSE_OPT_ERROR; on -h, returns PARSE_OPT_HELP. Does not exit.
 */
int parse_options(int argc, const char **argv, const struct option *opts, int flags);

/* Print usage and option help to the stream. */
void print_usage(FILE *fp, const char *const *usage, const struct option *opts);

#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "parse-options.h"
#include "strbuf.h"

static int takes_arg(const struct option *o)
{
	return o->type == OPT_T_STRING || o->type == OPT_T_LIST || o->type == OPT_T_INT;
}

static void opt_name(const struct option *o, int is_short, struct strbuf *sb)
{
	if (is_short)
		strbuf_addf(sb, "switch `%c'", o->short_name);
	else
		strbuf_addf(sb, "option `%s'", o->long_name);
}

static int set_value(const struct option *o, int is_short, int negated, const char *arg)
{
	struct strbuf name = STRBUF_INIT;
	int ret = 0;

	switch (o->type) {
	case OPT_T_BOOL:
		*(int *)o->value = !negated;
		break;
	case OPT_T_SET:
		*(int *)o->value = negated ? 0 : o->defval;
		break;
	case OPT_T_STRING:
		*(const char **)o->value = negated ? NULL : arg;
		break;
	case OPT_T_LIST:
		if (negated)
			string_list_clear(o->value);
		else
			string_list_append(o->value, arg);
		break;
	case OPT_T_INT: {
		char *end;
		long v;

		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < INT_MIN || v > INT_MAX) {
			opt_name(o, is_short, &name);
			ret = error("%s expects a numerical value", name.buf);
			break;
		}
		*(int *)o->value = (int)v;
		break;
	}
	default:
		BUG("option type %d cannot take a value", (int)o->type);
	}
	strbuf_release(&name);
	return ret;
}

static const struct option *find_short(const struct option *opts, int c)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->type != OPT_T_GROUP && opts->short_name == c)
			return opts;
	return NULL;
}

/*
 * Find a long option; accept an unambiguous prefix, as git does.
 * *negated is set for "--no-<name>" of a negatable option.
 */
static const struct option *find_long(const struct option *opts, const char *name,
				      size_t len, int *negated, int *ambiguous)
{
	const struct option *found = NULL;
	int nr_found = 0;

	*negated = 0;
	*ambiguous = 0;
	for (const struct option *o = opts; o->type != OPT_T_END; o++) {
		size_t olen;

		if (!o->long_name)
			continue;
		olen = strlen(o->long_name);
		if (olen == len && !strncmp(o->long_name, name, len))
			return o;
		if (o->type != OPT_T_INT && len > 3 && !strncmp(name, "no-", 3) &&
		    olen == len - 3 && !strncmp(o->long_name, name + 3, len - 3)) {
			*negated = 1;
			return o;
		}
		if (len < olen && !strncmp(o->long_name, name, len)) {
			found = o;
			nr_found++;
		}
	}
	if (nr_found > 1) {
		*ambiguous = 1;
		return NULL;
	}
	return found;
}

/*
 * "--name", "--name=value", "--name value", "--no-name" at argv[*i];
 * *i moves past a value taken from the next argument. Returns 0,
 * PARSE_OPT_HELP or PARSE_OPT_ERROR.
 */
static int parse_long_opt(int argc, const char **argv, int *i, const struct option *opts)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	int negated, ambiguous;
	const struct option *o = find_long(opts, name, len, &negated, &ambiguous);

	if (!o && len == 4 && !strncmp(name, "help", 4))
		return PARSE_OPT_HELP;
	if (ambiguous)
		return error("ambiguous option: %.*s", (int)len, name);
	if (!o)
		return error("unknown option `%.*s'", (int)len, name);
	if (takes_arg(o) && !negated) {
		const char *val;

		if (eq) {
			val = eq + 1;
		} else if (*i + 1 < argc) {
			val = argv[++*i];
		} else {
			return error("option `%s' requires a value", o->long_name);
		}
		if (set_value(o, 0, 0, val))
			return PARSE_OPT_ERROR;
	} else {
		if (eq)
			return error("option `%s' takes no value", o->long_name);
		if (set_value(o, 0, negated, NULL))
			return PARSE_OPT_ERROR;
	}
	return 0;
}

/*
 * A cluster of short options at argv[*i]: -abc, -ovalue, -o value; *i
 * moves past a value taken from the next argument. Returns 0,
 * PARSE_OPT_HELP or PARSE_OPT_ERROR.
 */
static int parse_short_opts(int argc, const char **argv, int *i, const struct option *opts)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct option *o = find_short(opts, (unsigned char)*p);

		if (!o) {
			if (*p == 'h')
				return PARSE_OPT_HELP;
			return error("unknown switch `%c'", *p);
		}
		if (takes_arg(o)) {
			const char *val;

			if (p[1]) {
				val = p + 1;
			} else if (*i + 1 < argc) {
				val = argv[++*i];
			} else {
				return error("switch `%c' requires a value", *p);
			}
			if (set_value(o, 1, 0, val))
				return PARSE_OPT_ERROR;
			break;
		}
		if (set_value(o, 1, 0, NULL))
			return PARSE_OPT_ERROR;
	}
	return 0;
}

int parse_options(int argc, const char **argv, const struct option *opts, int flags)
{
	int out = 0, i, ret;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (arg[0] != '-' || !arg[1]) {
			if (flags & PARSE_OPT_STOP_AT_NON_OPTION)
				break;
			argv[out++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			if (!(flags & PARSE_OPT_KEEP_DASHDASH))
				i++;
			break;
		}
		if (arg[1] == '-')
			ret = parse_long_opt(argc, argv, &i, opts);
		else
			ret = parse_short_opts(argc, argv, &i, opts);
		if (ret)
			return ret;
	}
	for (; i < argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	return out;
}

void print_usage(FILE *fp, const char *const *usage, const struct option *opts)
{
	fprintf(fp, "usage: %s\n", *usage);
	while (*++usage && **usage)
		fprintf(fp, "   or: %s\n", *usage);
	/* After an empty string, as in git: lines of explanation. */
	if (*usage) {
		fputc('\n', fp);
		while (*++usage)
			fprintf(fp, "    %s\n", *usage);
	}
	if (opts && opts->type != OPT_T_END)
		fputc('\n', fp);
	for (; opts && opts->type != OPT_T_END; opts++) {
		struct strbuf sb = STRBUF_INIT;

		if (opts->type == OPT_T_GROUP) {
			fprintf(fp, "\n%s\n", opts->help);
			continue;
		}
		strbuf_addstr(&sb, "    ");
		if (opts->short_name)
			strbuf_addf(&sb, "-%c", opts->short_name);
		if (opts->short_name && opts->long_name)
			strbuf_addstr(&sb, ", ");
		if (opts->long_name)
			strbuf_addf(&sb, "--%s", opts->long_name);
		if (takes_arg(opts))
			strbuf_addf(&sb, opts->long_name ? "=<%s>" : " <%s>", opts->argh);
		if (sb.len >= 26) {
			fprintf(fp, "%s\n%26s%s\n", sb.buf, "", opts->help);
		} else {
			fprintf(fp, "%-26s%s\n", sb.buf, opts->help);
		}
		strbuf_release(&sb);
	}
	fputc('\n', fp);
}

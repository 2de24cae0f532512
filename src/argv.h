#ifndef ARGV_H
#define ARGV_H

#include <stddef.h>

/*
 * A NULL-terminated argument vector that owns its strings, for building
 * the argv of a child process (never a shell string).
 */
struct argv {
	char **v;
	size_t nr;
	size_t alloc;
};

#define ARGV_INIT { NULL, 0, 0 }

void argv_push(struct argv *a, const char *arg);
__attribute__((format(printf, 2, 3)))
void argv_pushf(struct argv *a, const char *fmt, ...);
/* Push every argument of a NULL-terminated list. */
void argv_pushl(struct argv *a, ...) __attribute__((sentinel));
void argv_pushv(struct argv *a, const char *const *args);
void argv_pop(struct argv *a);
void argv_clear(struct argv *a);
/* argv->v for passing to execvp: never NULL, always NULL-terminated. */
char **argv_vec(struct argv *a);

/*
 * Quote an argument vector for a POSIX shell, as the one way a command
 * line is made for a shell we do not control (the login shell of a remote
 * host): each argument in single quotes, a quote inside as '\'', a '!' as
 * \! (for csh), separated by spaces. Appends to out.
 */
struct strbuf;
void sq_quote_argv(struct strbuf *out, const char *const *args);

#endif

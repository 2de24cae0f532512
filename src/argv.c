#include <stdarg.h>
#include <stdlib.h>

#include "argv.h"
#include "strbuf.h"

static void push_owned(struct argv *a, char *s)
{
	ALLOC_GROW(a->v, a->nr + 2, a->alloc);
	a->v[a->nr++] = s;
	a->v[a->nr] = NULL;
}

void argv_push(struct argv *a, const char *arg)
{
	push_owned(a, xstrdup(arg));
}

void argv_pushf(struct argv *a, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	push_owned(a, strbuf_detach(&sb, NULL));
}

void argv_pushl(struct argv *a, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, a);
	while ((s = va_arg(ap, const char *)))
		argv_push(a, s);
	va_end(ap);
}

void argv_pushv(struct argv *a, const char *const *args)
{
	for (; *args; args++)
		argv_push(a, *args);
}

void argv_pop(struct argv *a)
{
	if (!a->nr)
		return;
	free(a->v[--a->nr]);
	a->v[a->nr] = NULL;
}

void argv_clear(struct argv *a)
{
	for (size_t i = 0; i < a->nr; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->nr = a->alloc = 0;
}

char **argv_vec(struct argv *a)
{
	if (!a->v) {
		ALLOC_GROW(a->v, 1, a->alloc);
		a->v[0] = NULL;
	}
	return a->v;
}

void sq_quote_argv(struct strbuf *out, const char *const *args)
{
	for (size_t i = 0; args[i]; i++) {
		if (i)
			strbuf_addch(out, ' ');
		strbuf_addch(out, '\'');
		for (const char *p = args[i]; *p; p++) {
			if (*p == '\'' || *p == '!') {
				/* Close the quote, add it escaped, reopen. */
				strbuf_addstr(out, "'\\");
				strbuf_addch(out, *p);
				strbuf_addch(out, '\'');
			} else {
				strbuf_addch(out, *p);
			}
		}
		strbuf_addch(out, '\'');
	}
}

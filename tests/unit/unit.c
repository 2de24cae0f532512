#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "unit.h"

static int count, failed;
static char *tmpdir;

static void vresult(int ok, const char *fmt, va_list ap)
{
	count++;
	if (!ok)
		failed++;
	printf("%sok %d - ", ok ? "" : "not ", count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

int unit_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("# %s:%d: check failed: %s\n", file, line, expr);
	return ok;
}

int unit_check_int(long long a, const char *op, long long b, const char *file,
		   int line, const char *fmt, ...)
{
	va_list ap;
	int ok;

	if (!strcmp(op, "=="))
		ok = a == b;
	else if (!strcmp(op, "!="))
		ok = a != b;
	else if (!strcmp(op, "<"))
		ok = a < b;
	else if (!strcmp(op, "<="))
		ok = a <= b;
	else if (!strcmp(op, ">"))
		ok = a > b;
	else if (!strcmp(op, ">="))
		ok = a >= b;
	else
		abort();

	va_start(ap, fmt);
	vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("# %s:%d: %lld %s %lld is false\n", file, line, a, op, b);
	return ok;
}

int unit_check_str(const char *a, const char *b, const char *file, int line,
		   const char *fmt, ...)
{
	int ok = (!a && !b) || (a && b && !strcmp(a, b));
	va_list ap;

	va_start(ap, fmt);
	vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("# %s:%d: got '%s', want '%s'\n", file, line, a ? a : "(null)",
		       b ? b : "(null)");
	return ok;
}

const char *unit_tmpdir(void)
{
	if (!tmpdir) {
		char tmpl[] = "/tmp/git-sand-unit.XXXXXX";

		if (!mkdtemp(tmpl)) {
			perror("mkdtemp");
			exit(1);
		}
		tmpdir = strdup(tmpl);
	}
	return tmpdir;
}

void unit_skip(const char *why)
{
	printf("ok %d # skip %s\n", ++count, why);
}

int unit_done(void)
{
	printf("1..%d\n", count);
	if (tmpdir) {
		remove_tree(tmpdir);
		free(tmpdir);
	}
	return failed ? 1 : 0;
}

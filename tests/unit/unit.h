#ifndef UNIT_H
#define UNIT_H

/*
 * A tiny TAP harness for C unit tests: each check prints "ok N - what" or
 * "not ok N - what" with the values that differed; unit_done() prints the
 * plan and returns the exit status.
 */
#define TEST(expr, ...) unit_check(!!(expr), __FILE__, __LINE__, #expr, __VA_ARGS__)
/* Each operand is evaluated once: check_int(run(...), ==, 0, ...) runs it once. */
#define check_int(a, op, b, ...) \
	unit_check_int((long long)(a), #op, (long long)(b), __FILE__, __LINE__, __VA_ARGS__)
#define check_str(a, b, ...) unit_check_str((a), (b), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((format(printf, 5, 6)))
int unit_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...);
__attribute__((format(printf, 6, 7)))
int unit_check_int(long long a, const char *op, long long b, const char *file,
		   int line, const char *fmt, ...);
__attribute__((format(printf, 5, 6)))
int unit_check_str(const char *a, const char *b, const char *file, int line,
		   const char *fmt, ...);
int unit_done(void);
/* Report a check that cannot run here. */
void unit_skip(const char *why);

/* A fresh empty directory for this test program; removed by unit_done. */
const char *unit_tmpdir(void);

#endif

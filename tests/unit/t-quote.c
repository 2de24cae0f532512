/*
 * sq_quote_argv: what it makes, and that every shell we may meet on a
 * remote host turns it back into exactly the arguments it was given.
 */
#include <string.h>

#include "argv.h"
#include "run.h"
#include "unit.h"

static const char *const hard[] = {
	"", "plain", "a b", "it's", "'", "''", "!", "a!b", "!!", "$HOME", "${PATH}",
	"`id`", "$(id)", "\\", "\\'", "\"", "\"'\"", "new\nline", "tab\there", "*", "?",
	"[a]", "~", "~root", "-n", "-e", "--", "a;b|c&d>e<f", "#comment", "%s", "\xc3\xbc",
	" leading", "trailing ", "\x01\x7f", "=", "a=b", NULL,
};

/* Run "printf '%s\0' <quoted>" with the shell given; compare what it prints. */
static void round_trip(const char *shell)
{
	struct child c = CHILD_INIT;
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	size_t i = 0;
	const char *p, *end;
	int same = 1;

	if (!find_in_path(shell, NULL)) {
		unit_skip(shell);
		return;
	}
	strbuf_addstr(&line, "printf '%s\\0' ");
	sq_quote_argv(&line, hard);
	argv_push(&c.args, shell);
	if (!strcmp(shell, "busybox"))
		argv_push(&c.args, "sh");
	argv_pushl(&c.args, "-c", line.buf, NULL);
	c.out = &out;
	check_int(run_child(&c), ==, 0, "%s runs the quoted line", shell);
	for (p = out.buf, end = out.buf + out.len; p < end; p += strlen(p) + 1, i++)
		if (!hard[i] || strcmp(p, hard[i])) {
			same = 0;
			break;
		}
	TEST(same && !hard[i], "%s gives back every argument unchanged (%zu of them)", shell, i);
	child_clear(&c);
	strbuf_release(&line);
	strbuf_release(&out);
}

int main(void)
{
	struct strbuf out = STRBUF_INIT;

	{
		const char *args[] = { "git", "a b", NULL };
		sq_quote_argv(&out, args);
		check_str(out.buf, "'git' 'a b'", "arguments are single-quoted, space-separated");
	}
	{
		const char *args[] = { "it's", "!", "", NULL };
		strbuf_reset(&out);
		sq_quote_argv(&out, args);
		check_str(out.buf, "'it'\\''s' ''\\!'' ''",
			  "a quote and a '!' are closed, escaped and reopened; empty stays");
	}
	{
		const char *args[] = { NULL };
		strbuf_reset(&out);
		strbuf_addstr(&out, "x");
		sq_quote_argv(&out, args);
		check_str(out.buf, "x", "no arguments append nothing");
	}
	round_trip("sh");
	round_trip("dash");
	round_trip("bash");
	round_trip("zsh");
	round_trip("busybox");
	strbuf_release(&out);
	return unit_done();
}

#include <signal.h>
#include <string.h>

#include "run.h"
#include "unit.h"

static int run(struct child *c, const char *const *args)
{
	argv_pushv(&c->args, args);
	return run_child(c);
}

int main(void)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	{
		struct child c = CHILD_INIT;
		const char *args[] = { "printf", "%s\\n", "a b", "$HOME;rm", NULL };
		c.out = &out;
		check_int(run(&c, args), ==, 0, "a child runs and exits 0");
		check_str(out.buf, "a b\n$HOME;rm\n", "arguments reach it verbatim, no shell");
		TEST(c.exited && c.code == 0, "the exit is reported as an exit");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
		strbuf_reset(&out);
		c.out = &out;
		c.err = &err;
		check_int(run(&c, args), ==, 3, "the exit status is returned");
		check_str(out.buf, "out\n", "stdout is captured");
		check_str(err.buf, "err\n", "stderr is captured apart");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "sh", "-c", "kill -TERM $$", NULL };
		check_int(run(&c, args), ==, 128 + SIGTERM, "death by signal is 128 + N");
		TEST(!c.exited && c.code == SIGTERM, "and reported as the signal");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "git-sand-no-such-program", NULL };
		c.silent_err = 1;
		check_int(run(&c, args), ==, 127, "a missing program is 127, as in a shell");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "cat", NULL };
		static char big[300000];

		memset(big, 'z', sizeof(big));
		strbuf_reset(&out);
		c.in = big;
		c.in_len = sizeof(big);
		c.out = &out;
		check_int(run(&c, args), ==, 0, "stdin can be fed from a buffer");
		check_int(out.len, ==, sizeof(big), "larger than a pipe's buffer, without deadlock");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "sh", "-c", "echo $GIT_SAND_UNIT; pwd", NULL };
		strbuf_reset(&out);
		argv_push(&c.env, "GIT_SAND_UNIT=set");
		c.dir = "/";
		c.out = &out;
		check_int(run(&c, args), ==, 0, "env and dir");
		check_str(out.buf, "set\n/\n", "the child gets the environment and directory");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "true", NULL };
		strbuf_reset(&err);
		c.dir = "/nonexistent/dir";
		c.err = &err;
		check_int(run(&c, args), ==, 127, "a bad directory fails the child");
		child_clear(&c);
	}
	TEST(find_in_path("sh", NULL), "find_in_path finds sh");
	TEST(!find_in_path("git-sand-no-such-program", NULL), "and not what is not there");

	strbuf_release(&out);
	strbuf_release(&err);
	return unit_done();
}

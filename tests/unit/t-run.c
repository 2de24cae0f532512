#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "unit.h"

static int count_bytes(void *data, const char *buf, size_t len)
{
	*(size_t *)data += len;
	return 0;
}

static int enough(void *data, const char *buf, size_t len)
{
	return 1;
}

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
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "sh", "-c", "yes 0123456789abcdef", NULL };
		strbuf_reset(&out);
		c.out = &out;
		c.max_out = 100000;
		check_int(run(&c, args), ==, -1, "output without end fails the capture");
		TEST(c.overflow, "and says it stopped at the limit");
		TEST(out.len <= 100001, "holding no more than the limit (%zu bytes)", out.len);
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "sh", "-c", "echo out; echo err >&2", NULL };
		strbuf_reset(&out);
		c.out = &out;
		c.err = &out;
		c.max_out = 8;
		check_int(run(&c, args), ==, 0, "output as large as the limit is whole");
		check_int(out.len, ==, 8, "both streams count");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "head", "-c", "3000000", "/dev/zero", NULL };
		size_t n = 0;
		c.out_cb = count_bytes;
		c.out_data = &n;
		c.max_out = 1000;
		check_int(run(&c, args), ==, 0, "streamed output has no limit");
		check_int(n, ==, 3000000, "every byte is handed over");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "yes", NULL };
		c.out_cb = enough;
		check_int(run(&c, args), ==, 128 + SIGPIPE,
			  "a stream that stops reading stops the child");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		struct strbuf file = STRBUF_INIT, got = STRBUF_INIT;
		/* It waits for the file "go", which we write once run_child returned. */
		const char *script =
			"while ! test -e go; do sleep 0.05; done; "
			"sid=$(ps -o sid= -p $$ | tr -d ' '); "
			"fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); "
			"{ echo \"$fds\"; test \"$sid\" = $$ && echo leader; } >out.tmp && mv out.tmp out";
		const char *args[] = { "sh", "-c", script, NULL };
		struct timespec pause = { 0, 50 * 1000 * 1000 };
		int fd;

		c.dir = unit_tmpdir();
		c.detach = 1;
		check_int(run(&c, args), ==, 0, "a detached child is started");
		strbuf_addf(&file, "%s/go", unit_tmpdir());
		fd = open(file.buf, O_WRONLY | O_CREAT, 0600);
		TEST(fd >= 0 && !close(fd), "and run_child returns without waiting for it");
		strbuf_reset(&file);
		strbuf_addf(&file, "%s/out", unit_tmpdir());
		for (int i = 0; i < 200 && access(file.buf, F_OK); i++)
			nanosleep(&pause, NULL);
		strbuf_read_file(&got, file.buf);
		check_str(got.buf, "/dev/null\n/dev/null\n/dev/null\nleader\n",
			  "it has /dev/null for stdin, stdout and stderr, and a session of its own");
		child_clear(&c);
		strbuf_release(&file);
		strbuf_release(&got);
	}
	{
		struct child c = CHILD_INIT;
		const char *args[] = { "git-sand-no-such-program", NULL };
		c.detach = 1;
		strbuf_reset(&err);
		check_int(run(&c, args), ==, 127, "a detached child that cannot start is still 127");
		child_clear(&c);
	}
	TEST(find_in_path("sh", NULL), "find_in_path finds sh");
	TEST(!find_in_path("git-sand-no-such-program", NULL), "and not what is not there");

	strbuf_release(&out);
	strbuf_release(&err);
	return unit_done();
}

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
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

/* Create an empty file: 0, or -1. */
static int write_file_or_fail(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A file in the test's directory, read whole. */
static void read_tmp(struct strbuf *out, const char *name)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/%s", unit_tmpdir(), name);
	strbuf_reset(out);
	strbuf_read_file(out, path.buf);
	strbuf_release(&path);
}

/* child_start and child_finish: a child we write to. */
static void test_start_finish(void)
{
	struct strbuf got = STRBUF_INIT;

	{
		struct child c = CHILD_INIT;
		const char *msg = "to the child\n";

		argv_pushl(&c.args, "sh", "-c", "cat >started.out; exit 5", NULL);
		c.dir = unit_tmpdir();
		check_int(child_start(&c), ==, 0, "child_start starts a child");
		TEST(c.pid > 0 && c.in_pipe > 2, "and gives a pipe to its stdin");
		TEST(fcntl(c.in_pipe, F_GETFD) & FD_CLOEXEC,
		     "which no other child inherits (close-on-exec)");
		check_int(write(c.in_pipe, msg, strlen(msg)), ==, strlen(msg), "we write to it");
		check_int(child_finish(&c), ==, 5, "child_finish closes it, waits, returns the status");
		TEST(c.exited && c.code == 5 && c.in_pipe < 0, "and reports the exit");
		read_tmp(&got, "started.out");
		check_str(got.buf, msg, "the child read what we wrote, then the end");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;

		argv_pushl(&c.args, "sh", "-c", "kill -TERM $$", NULL);
		check_int(child_start(&c), ==, 0, "a child that dies");
		check_int(child_finish(&c), ==, 128 + SIGTERM, "is 128 + N from child_finish");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;
		struct strbuf path = STRBUF_INIT;

		strbuf_addf(&path, "%s/out_fd.out", unit_tmpdir());
		c.out_fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		argv_pushl(&c.args, "cat", NULL);
		check_int(child_start(&c), ==, 0, "a started child's stdout can be out_fd");
		check_int(write(c.in_pipe, "x", 1), ==, 1, "fed");
		check_int(child_finish(&c), ==, 0, "and finished");
		close(c.out_fd);
		read_tmp(&got, "out_fd.out");
		check_str(got.buf, "x", "its output went to out_fd");
		child_clear(&c);
		strbuf_release(&path);
	}
	{
		struct child c = CHILD_INIT;

		argv_pushl(&c.args, "git-sand-no-such-program", NULL);
		check_int(child_start(&c), ==, -1, "child_start fails when the program cannot start");
		TEST(c.exited && c.code == 127 && c.in_pipe < 0, "with 127 and nothing to finish");
		child_clear(&c);
	}
	strbuf_release(&got);
}

/* What the test does while the child runs: it has started, and waits for us. */
static int meanwhile(void *data)
{
	struct strbuf path = STRBUF_INIT;
	int *calls = data, ret;

	(*calls)++;
	strbuf_addf(&path, "%s/while.go", unit_tmpdir());
	ret = write_file_or_fail(path.buf);
	strbuf_release(&path);
	return ret;
}

/* run_child_while: the child and our work at once. */
static void test_while(void)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int calls = 0, fn_ret = 7;

	{
		struct child c = CHILD_INIT;

		/* It waits for the file that only meanwhile writes. */
		argv_pushl(&c.args, "sh", "-c",
			   "while ! test -f while.go; do sleep 0.01; done; "
			   "head -c 200000 /dev/zero; echo done >&2; exit 4", NULL);
		c.dir = unit_tmpdir();
		c.out = &out;
		c.err = &err;
		check_int(run_child_while(&c, meanwhile, &calls, &fn_ret), ==, 4,
			  "run_child_while returns the child's status");
		TEST(calls == 1 && fn_ret == 0, "having called fn once, while the child ran");
		check_int(out.len, ==, 200000, "output larger than a pipe holds is all captured");
		check_str(err.buf, "done\n", "and its stderr");
		child_clear(&c);
	}
	{
		struct child c = CHILD_INIT;

		calls = 0;
		argv_pushl(&c.args, "git-sand-no-such-program", NULL);
		c.silent_err = 1;
		check_int(run_child_while(&c, meanwhile, &calls, &fn_ret), ==, 127,
			  "a program that cannot start is 127");
		TEST(calls == 1 && fn_ret == 0, "and fn still ran (the fork did)");
		child_clear(&c);
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

/*
 * Standard streams closed when we started: pipes and /dev/null take
 * their numbers, and must still become the child's streams.
 */
static void test_closed_stdfds(void)
{
	struct strbuf err = STRBUF_INIT;
	int saved[3], status_err, status_null;

	{
		struct child c = CHILD_INIT;

		fflush(NULL);
		for (int i = 0; i < 3; i++)
			saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
		close(1);
		close(2);
		/* The stderr pipe gets 1 and 2: its write end is already 2. */
		argv_pushl(&c.args, "sh", "-c", "echo e >&2", NULL);
		c.err = &err;
		status_err = run_child(&c);
		child_clear(&c);

		close(0);
		/* The status pipe takes 0 and 1: /dev/null gets 2. */
		c = (struct child)CHILD_INIT;
		argv_pushl(&c.args, "sh", "-c", "echo e >&2", NULL);
		c.silent_err = 1;
		status_null = run_child(&c);
		child_clear(&c);
		for (int i = 0; i < 3; i++) {
			dup2(saved[i], i);
			close(saved[i]);
		}
	}
	check_int(status_err, ==, 0, "with stdout and stderr closed, a captured stderr works");
	check_str(err.buf, "e\n", "and holds what the child wrote");
	check_int(status_null, ==, 0, "with all three closed, silent_err gives a stderr that works");
	strbuf_release(&err);
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
	test_start_finish();
	test_while();
	test_closed_stdfds();
	TEST(find_in_path("sh", NULL), "find_in_path finds sh");
	TEST(!find_in_path("git-sand-no-such-program", NULL), "and not what is not there");

	strbuf_release(&out);
	strbuf_release(&err);
	return unit_done();
}

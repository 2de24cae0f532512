/*
 * docker-api.c against a daemon of the test's own: a process on a unix
 * socket that answers each request in turn with bytes given here, as a
 * real dockerd would or as a broken or hostile one might, and logs the
 * requests it got.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "docker-api.h"
#include "msg.h"
#include "unit.h"

struct answer {
	const char *bytes;
	size_t len;		/* 0: strlen(bytes) */
	unsigned close:1;	/* then end the connection */
	unsigned slow:1;	/* a byte per write */
	unsigned echo:1;	/* then read to EOF, and send that back in a stdout frame */
	unsigned flood:1;	/* then stdout frames, 64 MiB of them or until the client goes */
};

static pid_t daemon_pid;

/* One request's head and body from fd, its first line and body into log. */
static int read_request(int fd, FILE *log)
{
	struct strbuf req = STRBUF_INIT;
	const char *end, *cl;
	size_t body = 0;
	char ch;

	while (!(end = strstr(req.buf, "\r\n\r\n"))) {
		if (read(fd, &ch, 1) != 1) {
			strbuf_release(&req);
			return -1;
		}
		strbuf_addch(&req, ch);
	}
	if ((cl = strcasestr(req.buf, "\r\nContent-Length: ")))
		body = strtoul(cl + 18, NULL, 10);
	fprintf(log, "%.*s\n", (int)strcspn(req.buf, "\r"), req.buf);
	while (body--) {
		if (read(fd, &ch, 1) != 1)
			break;
		fputc(ch, log);
	}
	fputc('\n', log);
	fflush(log);
	strbuf_release(&req);
	return 0;
}

static void frame(struct strbuf *out, int stream, const char *data, size_t len)
{
	unsigned char head[8] = { (unsigned char)stream, 0, 0, 0, (unsigned char)(len >> 24),
				  (unsigned char)(len >> 16), (unsigned char)(len >> 8),
				  (unsigned char)len };

	strbuf_add(out, head, sizeof(head));
	strbuf_add(out, data, len);
}

static void serve(int lfd, const struct answer *a, size_t n, const char *log_path)
{
	FILE *log = fopen(log_path, "w");
	int fd = -1;

	/* Not the handler of a test that catches it. */
	signal(SIGTERM, SIG_DFL);
	for (size_t i = 0; i < n; ) {
		size_t len = a[i].len ? a[i].len : strlen(a[i].bytes);

		if (fd < 0 && (fd = accept(lfd, NULL, NULL)) < 0)
			_exit(1);
		if (read_request(fd, log) < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (a[i].slow) {
			for (size_t j = 0; j < len; j++)
				if (write_in_full(fd, a[i].bytes + j, 1) < 0)
					break;
		} else if (write_in_full(fd, a[i].bytes, len) < 0) {
			/* the client went away: so be it */
		}
		if (a[i].echo) {
			struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
			char buf[4096];
			ssize_t got;

			while ((got = read(fd, buf, sizeof(buf))) > 0)
				strbuf_add(&in, buf, (size_t)got);
			frame(&out, 1, in.buf, in.len);
			if (write_in_full(fd, out.buf, out.len) < 0) {
				/* as above */
			}
		}
		if (a[i].flood) {
			struct strbuf out = STRBUF_INIT;
			char block[4096];

			memset(block, 'f', sizeof(block));
			frame(&out, 1, block, sizeof(block));
			for (int j = 0; j < 16384; j++)
				if (write_in_full(fd, out.buf, out.len) < 0)
					break;
			strbuf_release(&out);
		}
		if (a[i].close) {
			close(fd);
			fd = -1;
		}
		i++;
	}
	fclose(log);
	_exit(0);
}

static char *sock_path, *log_path;

static void daemon_start(const struct answer *a, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct strbuf host = STRBUF_INIT;
	int lfd;

	unlink(sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0) {
		perror("daemon");
		exit(1);
	}
	daemon_pid = fork();
	if (!daemon_pid)
		serve(lfd, a, n, log_path);
	close(lfd);
	strbuf_addf(&host, "unix://%s", sock_path);
	setenv("DOCKER_HOST", host.buf, 1);
	strbuf_release(&host);
}

static void daemon_stop(struct strbuf *log)
{
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	strbuf_reset(log);
	strbuf_read_file(log, log_path);
}

static const char created[] =
	"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
	"Transfer-Encoding: chunked\r\n\r\n"
	"a\r\n{\"Id\":\"abc\r\n"
	"0f;ext=1\r\ndef0123456789\"}\r\n"
	"0\r\n\r\n";
static const char upgraded[] =
	"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
	"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
static const char running[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n"
	"{\"Running\":true,\"ExitCode\":0}";
static const char exited7[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n"
	"{\"Running\":false,\"ExitCode\":7}";

static int exec_with(const struct answer *a, size_t n, struct child *c, struct strbuf *log)
{
	const char *cmd[] = { "sh", "-c", "x", NULL };
	struct exec_opts o = { .workdir = "/app" };
	int ret;

	daemon_start(a, n);
	ret = docker_api_exec("c1", &o, cmd, c);
	daemon_stop(log);
	return ret;
}

static void test_exec(void)
{
	struct strbuf stream = STRBUF_INIT, log = STRBUF_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct child c = CHILD_INIT;

	strbuf_addstr(&stream, upgraded);
	frame(&stream, 1, "hello ", 6);
	frame(&stream, 2, "warn\n", 5);
	frame(&stream, 1, "world\n", 6);
	{
		struct answer a[] = {
			{ created },
			{ stream.buf, stream.len, .close = 1, .slow = 1 },
			{ running, .close = 1 },
			{ exited7, .close = 1 },
		};

		c.out = &out;
		c.err = &err;
		c.no_stdin = 1;
		check_int(exec_with(a, 4, &c, &log), ==, 7, "the exit code, once no longer running");
	}
	check_str(out.buf, "hello world\n", "stdout, from frames that came a byte at a time");
	check_str(err.buf, "warn\n", "stderr apart");
	TEST(strstr(log.buf, "POST /containers/c1/exec HTTP/1.1\n"), "the exec made: %s", log.buf);
	TEST(strstr(log.buf, "\"Cmd\":[\"sh\",\"-c\",\"x\"]"), "its command");
	TEST(strstr(log.buf, "\"WorkingDir\":\"/app\""), "its directory");
	TEST(strstr(log.buf, "\"AttachStdin\":false"), "no input asked for");
	TEST(strstr(log.buf, "POST /exec/abcdef0123456789/start HTTP/1.1\n"),
	     "started by the id the chunked answer gave");
	TEST(strstr(log.buf, "GET /exec/abcdef0123456789/json HTTP/1.1\n"), "its status asked");
	strbuf_release(&stream);
	strbuf_release(&log);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_input(void)
{
	struct strbuf log = STRBUF_INIT, out = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct answer a[] = {
		{ created },
		{ upgraded, .echo = 1, .close = 1 },
		{ exited7, .close = 1 },
	};

	c.in = "input\n";
	c.in_len = 6;
	c.out = &out;
	check_int(exec_with(a, 3, &c, &log), ==, 7, "with input");
	check_str(out.buf, "input\n", "the input reached the daemon, and its end too");
	TEST(strstr(log.buf, "\"AttachStdin\":true"), "input asked for");
	strbuf_release(&log);
	strbuf_release(&out);
}

/* A stream as given after the upgrade: the result of the exec. */
static int exec_stream(const char *bytes, size_t len, size_t max_out, struct child *c)
{
	struct strbuf stream = STRBUF_INIT, log = STRBUF_INIT, out = STRBUF_INIT;
	int ret;

	strbuf_addstr(&stream, upgraded);
	strbuf_add(&stream, bytes, len);
	{
		struct answer a[] = {
			{ created },
			{ stream.buf, stream.len, .close = 1 },
			{ exited7, .close = 1 },
		};

		c->out = &out;
		c->max_out = max_out;
		ret = exec_with(a, 3, c, &log);
	}
	strbuf_release(&stream);
	strbuf_release(&log);
	strbuf_release(&out);
	return ret;
}

static void test_hostile_streams(void)
{
	struct child c = CHILD_INIT;
	struct strbuf s = STRBUF_INIT;
	char big[200];

	check_int(exec_stream("\5\0\0\0\0\0\0\1x", 9, 0, &c), ==, -1, "a frame of no stream");
	check_int(exec_stream("\1\1\0\0\0\0\0\1x", 9, 0, &c), ==, -1, "a frame head's padding");
	check_int(exec_stream("\1\0\0\0\0\0\0\5ab", 10, 0, &c), ==, -1,
		  "a stream that ends in a frame");
	check_int(exec_stream("\1\0\0", 3, 0, &c), ==, -1, "a stream that ends in a head");

	memset(big, 'y', sizeof(big));
	strbuf_add(&s, "\1\0\0\0\x40\0\0\0", 8);
	strbuf_add(&s, big, sizeof(big));
	c = (struct child)CHILD_INIT;
	check_int(exec_stream(s.buf, s.len, 100, &c), ==, -1, "output past max_out");
	TEST(c.overflow, "said to be over the limit");
	strbuf_release(&s);
}

/*
 * HTTP as a daemon or a proxy before it may speak it: an interim answer
 * first, a body whose length only the connection's end gives, a chunked
 * one with a trailer.
 */
static void test_http(void)
{
	struct strbuf stream = STRBUF_INIT, log = STRBUF_INIT, out = STRBUF_INIT;
	struct child c = CHILD_INIT;

	strbuf_addstr(&stream, upgraded);
	frame(&stream, 1, "ok\n", 3);
	{
		struct answer a[] = {
			{ "HTTP/1.1 100 Continue\r\n\r\n"
			  "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n"
			  "{\"Id\":\"abcdef0123456789\"}", .close = 1 },
			{ stream.buf, stream.len, .close = 1 },
			{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, Chunked\r\n\r\n"
			  "1e\r\n{\"Running\":false,\"ExitCode\":3}\r\n"
			  "0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n", .close = 1 },
		};

		c.out = &out;
		c.no_stdin = 1;
		check_int(exec_with(a, 3, &c, &log), ==, 3,
			  "past a 100, a body to the end, chunks with a trailer");
	}
	check_str(out.buf, "ok\n", "the stream after them");
	TEST(strstr(log.buf, "POST /exec/abcdef0123456789/start HTTP/1.1\n"),
	     "started on a connection of its own: %s", log.buf);
	strbuf_release(&stream);
	strbuf_release(&log);
	strbuf_release(&out);
}

/* stdout to a descriptor of the caller's, stderr silenced. */
static void test_fds(void)
{
	struct strbuf stream = STRBUF_INIT, log = STRBUF_INIT, got = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	struct child c = CHILD_INIT;
	int fd;

	strbuf_addf(&path, "%s/out", unit_tmpdir());
	fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	strbuf_addstr(&stream, upgraded);
	frame(&stream, 2, "noise\n", 6);
	frame(&stream, 1, "data\n", 5);
	{
		struct answer a[] = {
			{ created },
			{ stream.buf, stream.len, .close = 1 },
			{ exited7, .close = 1 },
		};

		c.out_fd = fd;
		c.silent_err = 1;
		c.no_stdin = 1;
		check_int(exec_with(a, 3, &c, &log), ==, 7, "to a descriptor");
	}
	close(fd);
	strbuf_read_file(&got, path.buf);
	check_str(got.buf, "data\n", "stdout there, stderr nowhere");
	strbuf_release(&stream);
	strbuf_release(&log);
	strbuf_release(&got);
	strbuf_release(&path);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/*
 * A ^C (SIGINT) in the foreground while the command runs: the stream is
 * left, and 128 + the signal said, as from a CLI that died of it. The
 * ^C comes every 50 ms until the exec returns (one before its handler
 * is there, as under valgrind, is let go by ours).
 */
static void test_signalled(void)
{
	struct strbuf log = STRBUF_INIT, out = STRBUF_INIT;
	struct child c = CHILD_INIT;
	/* The stream's head, then nothing: the command runs on. */
	struct answer a[] = { { created }, { upgraded, .echo = 1, .close = 1 } };
	struct sigaction ours = { .sa_handler = ignore_signal }, old;
	pid_t parent = getpid(), killer;

	sigaction(SIGINT, &ours, &old);
	killer = fork();
	if (!killer) {
		for (int i = 0; i < 1200; i++) {
			usleep(50 * 1000);
			kill(parent, SIGINT);
		}
		_exit(0);
	}
	c.out = &out;
	c.no_stdin = 1;
	c.foreground = 1;
	daemon_start(a, 2);
	{
		const char *cmd[] = { "sleep", "60", NULL };
		struct exec_opts o = { .interactive = 1 };

		check_int(docker_api_exec("c1", &o, cmd, &c), ==, 128 + SIGINT,
			  "128 + SIGINT, the command's");
	}
	kill(killer, SIGKILL);
	waitpid(killer, NULL, 0);
	sigaction(SIGINT, &old, NULL);
	check_int(cleanup_signalled(), ==, 0, "not ours");
	daemon_stop(&log);
	TEST(!strstr(log.buf, "/json"), "no status asked for: %s", log.buf);
	strbuf_release(&log);
	strbuf_release(&out);
}

static int slow_reader(void *data, const char *buf, size_t len)
{
	(void)data;
	(void)buf;
	(void)len;
	usleep(1000);
	return 0;
}

/*
 * Told to stop (SIGTERM) while the stream never pauses: the daemon
 * writes faster than the reader takes it, so there is always something
 * to read when we look, and the signal must still get through.
 */
static void test_signalled_busy(void)
{
	struct strbuf log = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct answer a[] = {
		{ created },
		{ upgraded, .flood = 1, .close = 1 },
		{ exited7, .close = 1 },
	};
	pid_t parent = getpid(), killer;
	const char *cmd[] = { "yes", NULL };
	struct exec_opts o = { .workdir = "/app" };

	cleanup_install_signals();
	killer = fork();
	if (!killer) {
		usleep(200 * 1000);
		kill(parent, SIGTERM);
		_exit(0);
	}
	c.out_cb = slow_reader;
	c.no_stdin = 1;
	daemon_start(a, 3);
	check_int(docker_api_exec("c1", &o, cmd, &c), ==, 128 + SIGTERM,
		  "128 + SIGTERM, the stream still flowing");
	daemon_stop(&log);
	waitpid(killer, NULL, 0);
	strbuf_release(&log);
}

/* An answer of that status line with a JSON body, into sb. */
static const char *json_answer(struct strbuf *sb, const char *status, const char *body)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", status, strlen(body), body);
	return sb->buf;
}

static void test_refusals(void)
{
	struct strbuf log = STRBUF_INIT, sb = STRBUF_INIT, err = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct answer one[1] = { { NULL } };
	struct answer start_refused[] = {
		{ created },
		{ "HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n{}", .close = 1 },
	};

	c.no_stdin = 1;
	one[0].bytes = json_answer(&sb, "201 Created", "{\"Id\":\"../../x\"}");
	check_int(exec_with(one, 1, &c, &log), ==, -1, "an exec id that is not hex");
	TEST(!strstr(log.buf, "/start"), "nothing started with it: %s", log.buf);
	one[0].bytes = json_answer(&sb, "404 Not Found",
				   "{\"message\":\"No such container: \\u001b[2J\"}");
	check_int(exec_with(one, 1, &c, &log), ==, 1, "no such container: 1, as from the CLI");
	one[0].bytes = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	one[0].close = 1;
	check_int(exec_with(one, 1, &c, &log), ==, -1, "a chunk of no size");
	one[0].bytes = "SSH-2.0-OpenSSH\r\n\r\n";
	check_int(exec_with(one, 1, &c, &log), ==, -1, "an answer that is not HTTP");
	one[0].bytes = "HTTP/1.1 201 Created\r\nContent-Length: 99999999999\r\n\r\n";
	check_int(exec_with(one, 1, &c, &log), ==, -1, "a body too large to read");
	check_int(exec_with(start_refused, 2, &c, &log), ==, 1, "a start refused");
	c.err = &err;
	one[0].bytes = json_answer(&sb, "409 Conflict",
				   "{\"message\":\"container c1 is not running\"}");
	check_int(exec_with(one, 1, &c, &log), ==, 1, "not running, its stderr captured");
	check_str(err.buf, "docker exec failed: container c1 is not running\n",
		  "the daemon's words where the command's stderr goes");
	strbuf_release(&log);
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void test_list(void)
{
	static const char body[] =
		"[{\"Id\":\"0123abcd\",\"Names\":[\"/sand-one\"],\"State\":\"running\","
		"\"Labels\":{\"io.git-sand.id\":\"00000000000000aa\"}},"
		"{\"Id\":\"4567ef01\",\"Names\":[\"/\"],\"State\":\"exited\",\"Labels\":{}}]";
	struct strbuf answer = STRBUF_INIT, log = STRBUF_INIT;
	struct container_info *list = NULL;
	size_t nr = 0;

	strbuf_addf(&answer, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
		    strlen(body), body);
	{
		struct answer a[] = { { answer.buf, .close = 1 } };

		daemon_start(a, 1);
		check_int(docker_api_list("io.git-sand.id", &list, &nr), ==, 0, "list");
		daemon_stop(&log);
	}
	check_int(nr, ==, 2, "both listed");
	if (nr == 2) {
		check_str(list[0].name, "sand-one", "the name as ps prints it");
		check_str(list[0].sandbox_id, "00000000000000aa", "the label");
		check_int(list[0].state, ==, CONTAINER_RUNNING, "running");
		check_str(list[1].name, "", "a bare slash");
		check_int(list[1].state, ==, CONTAINER_STOPPED, "exited");
	}
	TEST(strstr(log.buf, "GET /containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.git-sand.id%22%5D%7D "),
	     "the filter, escaped: %s", log.buf);
	for (size_t i = 0; i < nr; i++)
		container_info_clear(&list[i]);
	free(list);
	strbuf_release(&answer);
	strbuf_release(&log);
}

static void write_config(const char *dir, const char *json)
{
	struct strbuf path = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&path, "%s/config.json", dir);
	f = fopen(path.buf, "w");
	fputs(json, f);
	fclose(f);
	strbuf_release(&path);
}

static void test_socket(void)
{
	struct strbuf path = STRBUF_INIT;

	setenv("DOCKER_CONFIG", unit_tmpdir(), 1);
	unsetenv("DOCKER_CONTEXT");
	setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
	check_int(docker_api_socket(&path), ==, DOCKER_API_USE_CLI, "tcp: the CLI's");
	setenv("DOCKER_HOST", "unix://relative", 1);
	check_int(docker_api_socket(&path), ==, DOCKER_API_USE_CLI, "a relative socket");
	setenv("DOCKER_HOST", "unix:///run/d.sock", 1);
	setenv("DOCKER_CONTEXT", "elsewhere", 1);
	check_int(docker_api_socket(&path), ==, 0, "DOCKER_HOST wins over a context");
	check_str(path.buf, "/run/d.sock", "its path");
	unsetenv("DOCKER_HOST");
	check_int(docker_api_socket(&path), ==, DOCKER_API_USE_CLI, "a context: the CLI's");
	setenv("DOCKER_CONTEXT", "default", 1);
	check_int(docker_api_socket(&path), ==, 0, "the default context");
	check_str(path.buf, "/var/run/docker.sock", "the default socket");
	unsetenv("DOCKER_CONTEXT");
	check_int(docker_api_socket(&path), ==, 0, "no config.json");
	write_config(unit_tmpdir(), "{\"currentContext\":\"remote\"}");
	check_int(docker_api_socket(&path), ==, DOCKER_API_USE_CLI, "the config's context");
	write_config(unit_tmpdir(), "{\"currentContext\":\"default\",\"auths\":{}}");
	check_int(docker_api_socket(&path), ==, 0, "the config's default context");
	write_config(unit_tmpdir(), "{not json");
	check_int(docker_api_socket(&path), ==, DOCKER_API_USE_CLI, "a config the CLI must read");
	docker_api_enabled = 0;
	setenv("DOCKER_HOST", "unix:///run/d.sock", 1);
	check_int(docker_api_socket(&path), ==, DOCKER_API_USE_CLI, "sand.exec=cli");
	docker_api_enabled = 1;
	strbuf_release(&path);
}

int main(void)
{
	struct strbuf s = STRBUF_INIT;

	signal(SIGPIPE, SIG_IGN);
	/* A client and a daemon waiting on each other: a failure, not a hang. */
	alarm(120);
	strbuf_addf(&s, "%s/d.sock", unit_tmpdir());
	sock_path = strbuf_detach(&s, NULL);
	strbuf_addf(&s, "%s/requests", unit_tmpdir());
	log_path = strbuf_detach(&s, NULL);
	unsetenv("DOCKER_CONTEXT");

	test_exec();
	test_input();
	test_hostile_streams();
	test_refusals();
	test_list();
	test_socket();
	test_http();
	test_fds();
	test_signalled();
	/* Last: the signal it catches stays noted. */
	test_signalled_busy();

	unlink(sock_path);
	free(sock_path);
	free(log_path);
	return unit_done();
}

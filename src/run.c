#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#ifdef __linux__
#include <sched.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "msg.h"
#include "run.h"

size_t run_max_output = RUN_MAX_OUTPUT_DEFAULT;

int run_output_too_large(const char *what, size_t limit)
{
	error("the output of '%s' is larger than %zu bytes: stopped reading it", what, limit);
	hint("raise the limit with 'git config sand.maxOutput <size>'");
	return -1;
}

void child_clear(struct child *c)
{
	argv_clear(&c->args);
	argv_clear(&c->env);
}

void hardened_git(struct child *c)
{
	argv_pushl(&c->args, "git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
		   "-c", "gc.auto=0", "-c", "maintenance.auto=false",
		   "-c", "fetch.writeFetchHead=false", "-c", "protocol.file.allow=always", NULL);
	argv_pushl(&c->env, "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
		   "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
		   "GIT_TERMINAL_PROMPT=0", NULL);
}

int find_in_path(const char *prog, struct strbuf *out)
{
	const char *path = getenv("PATH");
	struct strbuf sb = STRBUF_INIT;
	int found = 0;

	if (strchr(prog, '/')) {
		found = !access(prog, X_OK);
		if (found && out)
			strbuf_addstr(out, prog);
		return found;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path && !found) {
		const char *end = strchrnul(path, ':');
		struct stat st;

		strbuf_reset(&sb);
		if (end == path)
			strbuf_addch(&sb, '.');
		else
			strbuf_add(&sb, path, (size_t)(end - path));
		strbuf_addf(&sb, "/%s", prog);
		if (!stat(sb.buf, &st) && S_ISREG(st.st_mode) && !access(sb.buf, X_OK)) {
			found = 1;
			if (out)
				strbuf_addbuf(out, &sb);
		}
		path = *end ? end + 1 : end;
	}
	strbuf_release(&sb);
	return found;
}

static void child_setenv(struct argv *env)
{
	for (size_t i = 0; i < env->nr; i++) {
		char *eq = strchr(env->v[i], '=');

		if (!eq) {
			unsetenv(env->v[i]);
		} else {
			*eq = '\0';
			setenv(env->v[i], eq + 1, 1);
			*eq = '=';
		}
	}
}

/* In the child, after fork: report failure to the parent through errfd. */
static __attribute__((noreturn)) void child_fail(int errfd, int stage)
{
	int msg[2] = { stage, errno };

	if (write(errfd, msg, sizeof(msg)) < 0) {
		/* the parent sees a short read */
	}
	_exit(127);
}

static int open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* Read what fd has into sb, within max bytes; -1 at the end, 1 over max. */
static int pump_capture(int fd, struct strbuf *sb, size_t used, size_t max)
{
	size_t room = max > used ? max - used : 0, want;
	ssize_t r;

	strbuf_grow(sb, 8192);
	want = sb->alloc - sb->len - 1;
	if (want > room + 1)
		want = room + 1;	/* one byte more tells it is over */
	r = read(fd, sb->buf + sb->len, want);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (r <= 0)
		return -1;
	sb->len += (size_t)r;
	sb->buf[sb->len] = '\0';
	return (size_t)r > room;
}

static int pump_stream(struct child *c, int fd)
{
	char buf[65536];
	ssize_t r = read(fd, buf, sizeof(buf));

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (r <= 0)
		return -1;
	return c->out_cb(c->out_data, buf, (size_t)r) ? -1 : 0;
}

static void pump(struct child *c, pid_t pid, int infd, int outfd, int errfd)
{
	struct pollfd pfd[3];
	size_t in_off = 0, max = c->max_out ? c->max_out : run_max_output;
	int forwarded = 0;

	for (;;) {
		int n = 0, out_i = -1, err_i = -1, in_i = -1;

		if (outfd >= 0) {
			pfd[n] = (struct pollfd){ outfd, POLLIN, 0 };
			out_i = n++;
		}
		if (errfd >= 0) {
			pfd[n] = (struct pollfd){ errfd, POLLIN, 0 };
			err_i = n++;
		}
		if (infd >= 0) {
			pfd[n] = (struct pollfd){ infd, POLLOUT, 0 };
			in_i = n++;
		}
		if (!n)
			break;
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno != EINTR)
				break;
			/* We were told to stop: pass it on, then drain. */
			if (cleanup_signalled() && !signals_held() && !forwarded++)
				kill(pid, SIGTERM);
			continue;
		}
		if (in_i >= 0 && pfd[in_i].revents) {
			ssize_t w = 0;

			if (pfd[in_i].revents & POLLOUT)
				w = write(infd, c->in + in_off, c->in_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0 || in_off == c->in_len) {
				close(infd);
				infd = -1;
			}
		}
		for (int k = 0; k < 2; k++) {
			int i = k ? err_i : out_i;
			int *fd = k ? &errfd : &outfd;
			struct strbuf *sb = k ? c->err : c->out;
			size_t used = (c->out ? c->out->len : 0) +
				      (c->err && c->err != c->out ? c->err->len : 0);
			int r;

			if (i < 0 || !pfd[i].revents)
				continue;
			r = !k && c->out_cb ? pump_stream(c, *fd) : pump_capture(*fd, sb, used, max);
			if (r > 0 && !c->overflow) {
				/* Enough: it must not make us hold more. */
				c->overflow = 1;
				kill(pid, SIGKILL);
			}
			if (r) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	if (infd >= 0)
		close(infd);
}

/* The pipes between us and a child; -1 where there is none. */
struct pipes {
	int in[2];	/* to its stdin */
	int out[2];	/* from its stdout */
	int err[2];	/* from its stderr, when apart from stdout */
	int status[2];	/* why it could not start (see child_fail), or EOF at exec */
};

#define PIPES_INIT { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } }

static void pipes_close(struct pipes *p)
{
	for (int i = 0; i < 2; i++) {
		close_fd(&p->in[i]);
		close_fd(&p->out[i]);
		close_fd(&p->err[i]);
		close_fd(&p->status[i]);
	}
}

static int pipes_open(const struct child *c, struct pipes *p, int in)
{
	if ((in && pipe_cloexec(p->in)) ||
	    ((c->out || c->out_cb) && pipe_cloexec(p->out)) ||
	    (c->err && c->err != c->out && pipe_cloexec(p->err)) ||
	    pipe_cloexec(p->status))
		return error_errno("cannot create a pipe");
	return 0;
}

/*
 * In the child, before its standard streams are replaced: fd, or when it
 * is one of them (they were closed when we started, so a pipe or
 * /dev/null took the number), a copy above them, so that no dup2 onto
 * 0-2 replaces a descriptor still to be used, and every dup2 makes a new
 * descriptor (which, unlike the one it copies, is not closed at exec).
 */
static int above_std(int fd, int errfd)
{
	int copy;

	if (fd < 0)
		child_fail(errfd, 1);
	if (fd > 2)
		return fd;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		child_fail(errfd, 1);
	return copy;
}

static void child_reset_signals(void)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	/* A step that must finish: a terminal's ^C must not stop it. */
	if (signals_held()) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
	}
}

/*
 * Enter a user namespace, then a mount namespace, as "nsenter -U -m":
 * one whose root is ours (setns puts us at the top of its mounts, which
 * a process that shows our root may have pivoted away from).
 */
static int enter_ns(int user_fd, int mnt_fd)
{
#ifdef __linux__
	struct stat before, after;

	if (stat("/", &before) < 0 || setns(user_fd, CLONE_NEWUSER) < 0 ||
	    setns(mnt_fd, CLONE_NEWNS) < 0 || stat("/", &after) < 0)
		return -1;
	if (before.st_dev != after.st_dev || before.st_ino != after.st_ino) {
		errno = EPERM;
		return -1;
	}
	return 0;
#else
	(void)user_fd;
	(void)mnt_fd;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * A grandchild in a session of its own: the parent reaps this child at
 * once, and the status pipe still says whether the grandchild could exec.
 */
static void child_detach(int errfd)
{
	pid_t grandchild = fork();

	if (grandchild < 0)
		child_fail(errfd, 1);
	if (grandchild > 0)
		_exit(0);
	setsid();
}

/* In the child: its stdin, stdout and stderr, as c asks. */
static void child_stdio(const struct child *c, const struct pipes *p, int errfd)
{
	int in = -1, out = -1, err = -1;

	if (c->detach) {
		in = out = err = above_std(open_null(O_RDWR), errfd);
	} else if (c->relay) {
		in = above_std(p->in[0] >= 0 ? p->in[0] : open_null(O_RDONLY), errfd);
		out = above_std(p->out[1], errfd);
		err = above_std(p->err[1], errfd);
	} else {
		if (p->in[0] >= 0)
			in = above_std(p->in[0], errfd);
		else if (c->no_stdin)
			in = above_std(open_null(O_RDONLY), errfd);
		if (c->out || c->out_cb)
			out = above_std(p->out[1], errfd);
		else if (c->out_fd > 0)
			out = above_std(c->out_fd, errfd);
		if (c->err && c->err == c->out)
			err = out;
		else if (c->err)
			err = above_std(p->err[1], errfd);
		else if (c->silent_err)
			err = above_std(open_null(O_WRONLY), errfd);
	}
	if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) ||
	    (err >= 0 && dup2(err, 2) < 0))
		child_fail(errfd, 1);
}

static __attribute__((noreturn)) void child_exec(struct child *c, struct pipes *p, char **argv)
{
	int errfd = above_std(p->status[1], p->status[1]);

	child_reset_signals();
	if (c->detach)
		child_detach(errfd);
	if (c->relay)
		setsid();
	/* The streams first: in the namespaces entered next, only the program is looked up. */
	child_stdio(c, p, errfd);
	if (c->join_ns && enter_ns(c->ns_user_fd, c->ns_mnt_fd) < 0)
		child_fail(errfd, 4);
	if (c->dir && chdir(c->dir) < 0)
		child_fail(errfd, 2);
	child_setenv(&c->env);
	execvp(argv[0], argv);
	child_fail(errfd, 3);
}

/*
 * GIT_SAND_TRACE: each program we run, as "trace: run: <argv>" on stderr
 * ("1" or "true") or appended to the file it names (an absolute path), so
 * that a user or a test can see which way a command went.
 */
int trace_enabled(void)
{
	const char *how = getenv("GIT_SAND_TRACE");

	return how && *how && strcmp(how, "0") && strcasecmp(how, "false");
}

void trace_write(const struct strbuf *line)
{
	const char *how = getenv("GIT_SAND_TRACE");
	int fd;

	if (!trace_enabled())
		return;
	fd = how[0] == '/' ? open(how, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)
			   : 2;
	if (fd >= 0 && write(fd, line->buf, line->len) < 0) {
		/* a trace that cannot be written is not the command's failure */
	}
	if (fd > 2)
		close(fd);
}

static void trace_run(char **argv)
{
	struct strbuf line = STRBUF_INIT;

	if (!trace_enabled())
		return;
	strbuf_addstr(&line, "trace: run: ");
	sq_quote_argv(&line, (const char *const *)argv);
	strbuf_addch(&line, '\n');
	trace_write(&line);
	strbuf_release(&line);
}

/* Fork and exec the child; in the parent, close the child's ends of p. */
static pid_t spawn(struct child *c, struct pipes *p, char **argv)
{
	pid_t pid;

	trace_run(argv);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_errno("cannot fork to run '%s'", argv[0]);
		return -1;
	}
	if (!pid)
		child_exec(c, p, argv);
	close_fd(&p->status[1]);
	close_fd(&p->in[0]);
	close_fd(&p->out[1]);
	close_fd(&p->err[1]);
	/* A child that stops reading must not kill us as we write to it. */
	signal(SIGPIPE, SIG_IGN);
	return pid;
}

/* What child_fail wrote: a full record if the child could not start. */
static ssize_t read_start(int fd, int failed[2])
{
	ssize_t got;

	do {
		got = read(fd, failed, 2 * sizeof(*failed));
	} while (got < 0 && errno == EINTR);
	return got;
}

/*
 * Reap the child. With forward, a cleanup signal that interrupts the
 * wait is passed on to it (once), as SIGTERM.
 */
static int wait_child(pid_t pid, int *status, int forward, const char *name)
{
	int forwarded = 0;

	for (;;) {
		pid_t w = waitpid(pid, status, 0);

		if (w == pid)
			return 0;
		if (w < 0 && errno == EINTR) {
			/* We were told to stop: pass it on, then wait. */
			if (forward && cleanup_signalled() && !signals_held() && !forwarded++)
				kill(pid, SIGTERM);
			continue;
		}
		return error_errno("waitpid for '%s' failed", name);
	}
}

/* The child's status in the shell's convention, from what wait and the status pipe said. */
static int child_result(struct child *c, int status, const int failed[2], ssize_t got)
{
	const char *name = argv_vec(&c->args)[0];

	if (got == (ssize_t)(2 * sizeof(*failed))) {
		errno = failed[1];
		c->exited = 1;
		if (failed[0] == 3) {
			c->code = errno == ENOENT ? 127 : 126;
			error_errno("cannot run '%s'", name);
		} else if (failed[0] == 2) {
			c->code = 127;
			error_errno("cannot change to '%s'", c->dir);
		} else if (failed[0] == 4) {
			c->code = 127;
			error_errno("cannot enter the namespaces to run '%s' in", name);
		} else {
			c->code = 127;
			error_errno("cannot set up the standard streams of '%s'", name);
		}
		/* A program that could not start is still a status, as in sh. */
		return c->code;
	}
	if (c->overflow) {
		c->exited = !WIFSIGNALED(status);
		c->code = c->exited ? WEXITSTATUS(status) : WTERMSIG(status);
		return run_output_too_large(name, c->max_out ? c->max_out : run_max_output);
	}
	if (WIFEXITED(status)) {
		c->exited = 1;
		c->code = WEXITSTATUS(status);
		return c->code;
	}
	if (WIFSIGNALED(status)) {
		c->code = WTERMSIG(status);
		return 128 + c->code;
	}
	BUG("waitpid returned a status that is neither exit nor signal");
}

static void child_begin(struct child *c)
{
	if (!argv_vec(&c->args)[0])
		BUG("running a child with an empty argv");
	c->exited = 0;
	c->code = 0;
	c->overflow = 0;
	c->pid = 0;
	c->in_pipe = -1;
}

/* The signals a relayed child gets from us (see struct child's relay). */
static const int relayed_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
static volatile sig_atomic_t relay_pending;

static void relay_catch(int sig)
{
	relay_pending = sig;
}

/*
 * Copy what is in *from to the descriptor to (stdout: to c's out_cb when
 * it has one); at its end, or when to cannot take it (a reader that went
 * away: the child then gets EPIPE), close it. With drain, only what is
 * there now, a bounded amount.
 */
static void relay_out(struct child *c, int *from, int to, int drain)
{
	char buf[65536];

	for (int rounds = 0; *from >= 0 && rounds < (drain ? 64 : 1); rounds++) {
		ssize_t r = read(*from, buf, sizeof(buf));
		int failed;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r > 0 && to == 1 && c->out_cb)
			failed = c->out_cb(c->out_data, buf, (size_t)r) != 0;
		else
			failed = r > 0 && write_in_full(to, buf, (size_t)r) < 0;
		if (r <= 0 || failed)
			close_fd(from);
	}
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int run_can_adopt(void)
{
	int fd = pidfd_of(getpid());

	if (fd < 0)
		return 0;
	close(fd);
#ifdef PR_SET_CHILD_SUBREAPER
	return 1;
#else
	return 0;
#endif
}

/* What a relay copies, and its stdin's buffer. */
struct relay {
	struct child *c;	/* its out_cb */
	int src;		/* our stdin, until its end */
	int in, out, err;	/* the pipes to and from the child */
	char inbuf[8192];
	size_t inlen, inoff;
};

/*
 * Copy between our streams and the child's until the process of pidfd
 * exits (where there is no pidfd, until both output pipes end). Signals
 * we get go to target, once it is known (> 0); until then they wait.
 */
static void relay_until(struct relay *r, int pidfd, pid_t target)
{
	for (;;) {
		struct pollfd pfd[5];
		int n = 0, out_i = -1, err_i = -1, in_i = -1, src_i = -1, pid_i = -1;

		if (relay_pending && target > 0) {
			kill(target, relay_pending);
			relay_pending = 0;
		}
		if (pidfd < 0 && r->out < 0 && r->err < 0)
			return;
		if (r->out >= 0) {
			pfd[n] = (struct pollfd){ r->out, POLLIN, 0 };
			out_i = n++;
		}
		if (r->err >= 0) {
			pfd[n] = (struct pollfd){ r->err, POLLIN, 0 };
			err_i = n++;
		}
		if (r->in >= 0 && r->inoff < r->inlen) {
			pfd[n] = (struct pollfd){ r->in, POLLOUT, 0 };
			in_i = n++;
		} else if (r->in >= 0 && r->src >= 0) {
			pfd[n] = (struct pollfd){ r->src, POLLIN, 0 };
			src_i = n++;
		}
		if (pidfd >= 0) {
			pfd[n] = (struct pollfd){ pidfd, POLLIN, 0 };
			pid_i = n++;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;	/* a signal: passed on at the top */
		if (pid_i >= 0 && pfd[pid_i].revents)
			return;
		if (out_i >= 0 && pfd[out_i].revents)
			relay_out(r->c, &r->out, 1, 0);
		if (err_i >= 0 && pfd[err_i].revents)
			relay_out(r->c, &r->err, 2, 0);
		if (src_i >= 0 && pfd[src_i].revents) {
			ssize_t got = read(r->src, r->inbuf, sizeof(r->inbuf));

			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				/* Its end of input. */
				r->src = -1;
				close_fd(&r->in);
			} else {
				r->inlen = (size_t)got;
				r->inoff = 0;
			}
		}
		if (in_i >= 0 && pfd[in_i].revents) {
			ssize_t w = write(r->in, r->inbuf + r->inoff, r->inlen - r->inoff);

			if (w < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (w < 0) {
				/* It reads no more: neither do we. */
				r->src = -1;
				close_fd(&r->in);
			} else if ((r->inoff += (size_t)w) == r->inlen) {
				r->inoff = r->inlen = 0;
			}
		}
	}
}

/* What the pipes hold already, then the end of the relay. */
static void relay_end(struct relay *r)
{
	for (int k = 0; k < 2; k++) {
		int *fd = k ? &r->err : &r->out;

		if (*fd >= 0) {
			fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
			relay_out(r->c, fd, k ? 2 : 1, 1);
		}
		close_fd(fd);
	}
	close_fd(&r->in);
}

/* The pid the child wrote to its pid file, or -1. */
static pid_t read_pid_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *end;
	long pid = -1;

	if (!strbuf_read_file(&sb, path)) {
		pid = strtol(sb.buf, &end, 10);
		if (end == sb.buf || (*end && *end != '\n') || pid <= 1 || pid > 1L << 30)
			pid = -1;
	}
	strbuf_release(&sb);
	return (pid_t)pid;
}

/*
 * With adopt_pid_file: the child has started the process to wait for
 * and exited, having written its pid there; we, a child subreaper, are
 * that process's parent now. Relay until it exits; its status is ours.
 */
static int relay_adopted(struct child *c, struct relay *r, const char *name)
{
	pid_t pid = read_pid_file(c->adopt_pid_file);
	int pidfd, status = 0;

	if (pid < 0)
		return error("'%s' left no pid in '%s'", name, c->adopt_pid_file);
	pidfd = pidfd_of(pid);
	if (pidfd < 0)
		return error_errno("cannot wait for the process '%s' started", name);
	relay_until(r, pidfd, pid);
	close(pidfd);
	for (;;) {
		pid_t w = waitpid(pid, &status, 0);

		if (w == pid)
			break;
		if (w < 0 && errno == EINTR) {
			if (relay_pending)
				kill(pid, relay_pending);
			relay_pending = 0;
			continue;
		}
		return error_errno("cannot wait for the process '%s' started", name);
	}
	return child_result(c, status, NULL, 0);
}

static int run_relayed(struct child *c)
{
	struct pipes p = PIPES_INIT;
	struct relay r = { .c = c, .src = -1, .in = -1, .out = -1, .err = -1 };
	struct sigaction catch, old[ARRAY_SIZE(relayed_signals)];
	int failed[2] = { 0, 0 };
	int status = 0, ret = -1, pidfd = -1, was_reaper = 0;
	ssize_t got;
	pid_t pid;
	char **argv = argv_vec(&c->args);

	child_begin(c);
	if (c->in || c->out || c->err || c->out_fd > 0 || c->detach || c->foreground)
		BUG("a relayed child has its streams relayed, nothing else");
	if ((!c->no_stdin && pipe_cloexec(p.in)) || pipe_cloexec(p.out) || pipe_cloexec(p.err) ||
	    pipe_cloexec(p.status)) {
		error_errno("cannot create a pipe");
		goto done;
	}
#ifdef PR_SET_CHILD_SUBREAPER
	if (c->adopt_pid_file) {
		int on = 0;

		if (prctl(PR_GET_CHILD_SUBREAPER, &on) == 0)
			was_reaper = on;
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
			error_errno("cannot adopt the process '%s' starts", argv[0]);
			goto done;
		}
	}
#else
	if (c->adopt_pid_file)
		BUG("adopt_pid_file where there are no child subreapers");
#endif
	memset(&catch, 0, sizeof(catch));
	catch.sa_handler = relay_catch;
	sigemptyset(&catch.sa_mask);
	relay_pending = 0;
	for (size_t i = 0; i < ARRAY_SIZE(relayed_signals); i++)
		sigaction(relayed_signals[i], &catch, &old[i]);

	pid = spawn(c, &p, argv);
	if (pid < 0)
		goto restore;
	r.in = p.in[1];
	r.out = p.out[0];
	r.err = p.err[0];
	p.in[1] = p.out[0] = p.err[0] = -1; /* the relay's now */
	r.src = r.in >= 0 ? 0 : -1;
	if (r.in >= 0)
		fcntl(r.in, F_SETFL, fcntl(r.in, F_GETFL) | O_NONBLOCK);
	pidfd = pidfd_of(pid);
	if (c->adopt_pid_file && pidfd < 0) {
		error_errno("cannot wait for '%s'", argv[0]);
		kill(pid, SIGKILL);
	}
	/* Signals go to it, unless it is to start the one that gets them. */
	relay_until(&r, pidfd, c->adopt_pid_file ? 0 : pid);
	close_fd(&pidfd);
	got = read_start(p.status[0], failed);
	if (wait_child(pid, &status, 0, argv[0]) < 0) {
		relay_end(&r);
		goto restore;
	}
	ret = child_result(c, status, failed, got);
	if (c->adopt_pid_file && ret == 0)
		ret = relay_adopted(c, &r, argv[0]);
	relay_end(&r);
restore:
	for (size_t i = 0; i < ARRAY_SIZE(relayed_signals); i++)
		sigaction(relayed_signals[i], &old[i], NULL);
#ifdef PR_SET_CHILD_SUBREAPER
	if (c->adopt_pid_file && !was_reaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0);
#endif
done:
	pipes_close(&p);
	return ret;
}

/*
 * Run c to completion; with fn, call it once c has started and before
 * its output is read (what it writes meanwhile waits in the pipes).
 */
static int run_with(struct child *c, int (*fn)(void *data), void *data, int *fn_ret)
{
	struct pipes p = PIPES_INIT;
	struct sigaction ign, old_int, old_quit;
	int failed[2] = { 0, 0 };
	int status = 0, ret = -1;
	ssize_t got;
	pid_t pid;
	char **argv = argv_vec(&c->args);

	child_begin(c);
	if (c->detach && (c->in || c->out || c->err || c->out_fd > 0 || c->foreground))
		BUG("a detached child has no standard streams to capture or feed");
	if (pipes_open(c, &p, c->in != NULL) < 0)
		goto done;
	if (c->foreground) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGINT, &ign, &old_int);
		sigaction(SIGQUIT, &ign, &old_quit);
	}

	pid = spawn(c, &p, argv);
	if (pid < 0)
		goto restore;
	if (p.in[1] >= 0)
		fcntl(p.in[1], F_SETFL, fcntl(p.in[1], F_GETFL) | O_NONBLOCK);
	if (fn) {
		*fn_ret = fn(data);
		/* We were told to stop meanwhile: pass it on, as pump does. */
		if (cleanup_signalled() && !signals_held())
			kill(pid, SIGTERM);
	}
	pump(c, pid, p.in[1], p.out[0], p.err[0]);
	p.in[1] = p.out[0] = p.err[0] = -1; /* pump closed them */

	got = read_start(p.status[0], failed);
	if (wait_child(pid, &status, 1, argv[0]) < 0)
		goto restore;
	ret = child_result(c, status, failed, got);
restore:
	if (c->foreground) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
	}
done:
	pipes_close(&p);
	return ret;
}

int run_child(struct child *c)
{
	if (c->relay)
		return run_relayed(c);
	return run_with(c, NULL, NULL, NULL);
}

int run_child_while(struct child *c, int (*fn)(void *data), void *data, int *fn_ret)
{
	if (c->relay || c->detach || c->foreground || c->out_cb)
		BUG("run_child_while runs a child whose output it captures");
	*fn_ret = 0;
	return run_with(c, fn, data, fn_ret);
}

int child_start(struct child *c)
{
	struct pipes p = PIPES_INIT;
	int failed[2] = { 0, 0 };
	int status = 0, ret = -1;
	pid_t pid;
	char **argv = argv_vec(&c->args);

	child_begin(c);
	if (c->in || c->no_stdin || c->out || c->err || c->out_cb || c->detach || c->foreground)
		BUG("child_start gives the child a pipe for stdin, and captures nothing");
	if (pipes_open(c, &p, 1) < 0)
		goto done;
	pid = spawn(c, &p, argv);
	if (pid < 0)
		goto done;
	/* It execs (EOF) or says why it could not. */
	if (read_start(p.status[0], failed) == (ssize_t)sizeof(failed)) {
		if (!wait_child(pid, &status, 0, argv[0]))
			child_result(c, status, failed, sizeof(failed));
		goto done;
	}
	c->pid = pid;
	c->in_pipe = p.in[1];
	p.in[1] = -1;
	ret = 0;
done:
	pipes_close(&p);
	return ret;
}

int child_finish(struct child *c)
{
	int status = 0, ret = -1;

	if (c->pid <= 0)
		BUG("child_finish without a started child");
	close_fd(&c->in_pipe);
	/*
	 * What reads our output (a pager) is the user's to quit: a signal
	 * that stops us is not passed on to it.
	 */
	if (!wait_child(c->pid, &status, 0, argv_vec(&c->args)[0]))
		ret = child_result(c, status, NULL, 0);
	c->pid = 0;
	return ret;
}

int run_exec(struct child *c)
{
	char **argv = argv_vec(&c->args);

	if (!argv[0])
		BUG("run_exec with an empty argv");
	if (c->join_ns)
		BUG("run_exec cannot enter namespaces: this process would stay in them");
	if (c->dir && chdir(c->dir) < 0)
		return -1;
	if (c->no_stdin) {
		int fd = open_null(O_RDONLY);

		if (fd < 0 || dup2(fd, 0) < 0)
			return -1;
		close(fd);
	}
	trace_run(argv);
	fflush(NULL);
	/* What we ignore (SIGPIPE, once a child has run) it would ignore too. */
	child_reset_signals();
	child_setenv(&c->env);
	execvp(argv[0], argv);
	return -1;
}

void child_describe(const struct child *c, struct strbuf *out)
{
	if (c->exited)
		strbuf_addf(out, "exited with status %d", c->code);
	else
		strbuf_addf(out, "killed by signal %d (%s)", c->code, strsignal(c->code));
}

/* The child's exit codes of run_read_in_ns. */
enum { READ_NS_OK, READ_NS_ENOENT, READ_NS_EPERM, READ_NS_EFBIG };

/* In the child: path's bytes to fd; system calls only. */
static __attribute__((noreturn)) void read_in_ns_child(int user_fd, int mnt_fd, const char *path,
							 size_t max, int fd)
{
	char buf[8192];
	struct stat st;
	size_t total = 0;
	ssize_t n;
	int in;

	child_reset_signals();
	if (enter_ns(user_fd, mnt_fd) < 0)
		_exit(READ_NS_EPERM);
	in = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		_exit(errno == ENOENT ? READ_NS_ENOENT : READ_NS_EPERM);
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		_exit(READ_NS_EPERM);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			_exit(READ_NS_EPERM);
		total += (size_t)n;
		if (total > max)
			_exit(READ_NS_EFBIG);
		if (write_in_full(fd, buf, (size_t)n) < 0)
			_exit(READ_NS_EPERM);
	}
	_exit(READ_NS_OK);
}

int run_read_in_ns(int ns_user_fd, int ns_mnt_fd, const char *path, size_t max,
		   struct strbuf *out)
{
	int fds[2], status, ret = -1, err = EPERM;
	size_t start = out->len;
	pid_t pid;

	if (pipe_cloexec(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		errno = err;
		return -1;
	}
	if (!pid) {
		close(fds[0]);
		read_in_ns_child(ns_user_fd, ns_mnt_fd, path, max, fds[1]);
	}
	close(fds[1]);
	for (;;) {
		int r = pump_capture(fds[0], out, out->len - start, max);

		if (r < 0)
			break;
		if (r > 0) {
			err = EFBIG;
			break;
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			goto done;
	if (err == EFBIG)
		goto done;
	if (WIFEXITED(status) && WEXITSTATUS(status) == READ_NS_OK)
		ret = 0;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == READ_NS_ENOENT)
		err = ENOENT;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == READ_NS_EFBIG)
		err = EFBIG;
done:
	if (ret < 0) {
		strbuf_setlen(out, start);
		errno = err;
	}
	return ret;
}

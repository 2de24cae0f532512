#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int run_child(struct child *c)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int status_pipe[2] = { -1, -1 };
	struct sigaction ign, old_int, old_quit;
	int failed[2] = { 0, 0 };
	int status = 0, ret = -1, forwarded = 0;
	ssize_t got;
	pid_t pid;
	char **argv = argv_vec(&c->args);

	if (!argv[0])
		BUG("run_child with an empty argv");
	if (c->detach && (c->in || c->out || c->err || c->out_fd > 0 || c->foreground))
		BUG("a detached child has no standard streams to capture or feed");
	c->exited = 0;
	c->code = 0;
	c->overflow = 0;

	if ((c->in && pipe_cloexec(in)) ||
	    ((c->out || c->out_cb) && pipe_cloexec(out)) ||
	    (c->err && c->err != c->out && pipe_cloexec(err)) ||
	    pipe_cloexec(status_pipe)) {
		error_errno("cannot create a pipe");
		goto done;
	}

	if (c->foreground) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGINT, &ign, &old_int);
		sigaction(SIGQUIT, &ign, &old_quit);
	}

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_errno("cannot fork to run '%s'", argv[0]);
		goto restore;
	}
	if (!pid) {
		int fd;
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

		if (c->detach) {
			/*
			 * A grandchild in a session of its own: the parent reaps
			 * this child at once, and the status pipe still says
			 * whether the grandchild could exec.
			 */
			pid_t grandchild = fork();

			if (grandchild < 0)
				child_fail(status_pipe[1], 1);
			if (grandchild > 0)
				_exit(0);
			setsid();
			fd = open_null(O_RDWR);
			if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
				child_fail(status_pipe[1], 1);
		} else if (c->in) {
			fd = in[0];
		} else if (c->no_stdin) {
			fd = open_null(O_RDONLY);
		} else {
			fd = 0;
		}
		if (fd < 0 || (fd != 0 && dup2(fd, 0) < 0))
			child_fail(status_pipe[1], 1);
		if ((c->out || c->out_cb) && dup2(out[1], 1) < 0)
			child_fail(status_pipe[1], 1);
		if (!c->out && !c->out_cb && c->out_fd > 0 && dup2(c->out_fd, 1) < 0)
			child_fail(status_pipe[1], 1);
		if (c->err) {
			if (dup2(c->err == c->out ? out[1] : err[1], 2) < 0)
				child_fail(status_pipe[1], 1);
		} else if (c->silent_err) {
			fd = open_null(O_WRONLY);
			if (fd < 0 || dup2(fd, 2) < 0)
				child_fail(status_pipe[1], 1);
		}
		if (c->dir && chdir(c->dir) < 0)
			child_fail(status_pipe[1], 2);
		child_setenv(&c->env);
		execvp(argv[0], argv);
		child_fail(status_pipe[1], 3);
	}

	close(status_pipe[1]);
	status_pipe[1] = -1;
	if (in[0] >= 0) {
		close(in[0]);
		in[0] = -1;
	}
	if (out[1] >= 0) {
		close(out[1]);
		out[1] = -1;
	}
	if (err[1] >= 0) {
		close(err[1]);
		err[1] = -1;
	}
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);

	pump(c, pid, in[1], out[0], err[0]);
	in[1] = out[0] = err[0] = -1;

	do {
		got = read(status_pipe[0], failed, sizeof(failed));
	} while (got < 0 && errno == EINTR);

	for (;;) {
		pid_t w = waitpid(pid, &status, 0);

		if (w == pid)
			break;
		if (w < 0 && errno == EINTR) {
			/* We were told to stop: pass it on, then wait. */
			if (cleanup_signalled() && !signals_held() && !forwarded++)
				kill(pid, SIGTERM);
			continue;
		}
		error_errno("waitpid for '%s' failed", argv[0]);
		goto restore;
	}

	if (got == (ssize_t)sizeof(failed)) {
		errno = failed[1];
		c->exited = 1;
		if (failed[0] == 3) {
			c->code = errno == ENOENT ? 127 : 126;
			ret = error_errno("cannot run '%s'", argv[0]);
		} else if (failed[0] == 2) {
			c->code = 127;
			ret = error_errno("cannot change to '%s'", c->dir);
		} else {
			c->code = 127;
			ret = error_errno("cannot set up the standard streams of '%s'", argv[0]);
		}
		/* A program that could not start is still a status, as in sh. */
		ret = c->code;
		goto restore;
	}

	if (c->overflow) {
		c->exited = !WIFSIGNALED(status);
		c->code = c->exited ? WEXITSTATUS(status) : WTERMSIG(status);
		ret = run_output_too_large(argv[0], c->max_out ? c->max_out : run_max_output);
	} else if (WIFEXITED(status)) {
		c->exited = 1;
		c->code = WEXITSTATUS(status);
		ret = c->code;
	} else if (WIFSIGNALED(status)) {
		c->code = WTERMSIG(status);
		ret = 128 + c->code;
	} else {
		BUG("waitpid returned a status that is neither exit nor signal");
	}

restore:
	if (c->foreground) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
	}
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (status_pipe[i] >= 0)
			close(status_pipe[i]);
	}
	return ret;
}

void child_describe(const struct child *c, struct strbuf *out)
{
	if (c->exited)
		strbuf_addf(out, "exited with status %d", c->code);
	else
		strbuf_addf(out, "killed by signal %d (%s)", c->code, strsignal(c->code));
}

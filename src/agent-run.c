#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devcontainer.h"
#include "agent-run.h"
#include "home.h"
#include "lifecycle.h"
#include "msg.h"
#include "path.h"
#include "run.h"
#include "sanitize.h"

static const char *const state_names[] = {
#define AGENT_RUN_STATE_NAME(id, name) [id] = name,
	AGENT_RUN_STATES(AGENT_RUN_STATE_NAME)
#undef AGENT_RUN_STATE_NAME
};

const char *agent_run_state_name(enum agent_run_state state)
{
	return (size_t)state < ARRAY_SIZE(state_names) ? state_names[state] : "unknown";
}

void agent_run_sleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int agent_prompt_check(const char *prompt, size_t len)
{
	if (!len)
		return error("the prompt is empty");
	if (memchr(prompt, '\0', len))
		return error("the prompt holds a NUL byte");
	if (len > AGENT_PROMPT_MAX)
		return error("the prompt is too long (%zu bytes; at most %zu)", len, AGENT_PROMPT_MAX);
	/* The agents would read it as one of their options. */
	if (*prompt == '-')
		return error("the prompt starts with '-'");
	return 0;
}

int agent_prompt_read(struct strbuf *out, const char *path)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : 0, ret = -1;
	struct stat st;

	strbuf_reset(out);
	if (fd < 0)
		return error_errno("cannot open prompt file '%s'", path);
	if (fd && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		error("prompt file '%s' is not a regular file", path);
		goto done;
	}
	if (fd && (size_t)st.st_size > AGENT_PROMPT_MAX) {
		error("the prompt is too long (%lld bytes; at most %zu)", (long long)st.st_size,
		      AGENT_PROMPT_MAX);
		goto done;
	}
	if (strbuf_read_fd(out, fd) < 0) {
		error_errno("cannot read prompt file '%s'", path);
		goto done;
	}
	ret = agent_prompt_check(out->buf, out->len);
done:
	if (fd > 0)
		close(fd);
	return ret;
}

/*
 * Open <home>/<rel>/<name> of the sandbox, from its home down, following
 * no link: 1 (a regular file, in *fd_out), 0 when it or a directory above
 * it does not exist, -1 (errno set) when something there is not what the
 * sandbox was to leave (a link, a FIFO, a directory).
 */
static int open_home_file(const struct sandbox *sb, const char *rel, const char *name,
			  int *fd_out)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int dir, top, fd, ret = -1;

	*fd_out = -1;
	strbuf_addf(&path, "home/%s", rel);
	top = open(sb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = top < 0 ? -1 : open_dir_beneath(top, path.buf, path.len);
	if (top >= 0) {
		int e = errno;

		close(top);
		errno = e;
	}
	fd = dir < 0 ? -1 : openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				   O_NOCTTY);
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -1;
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		goto done;
	}
	*fd_out = fd;
	ret = 1;
done:
	if (dir >= 0) {
		int e = errno;

		close(dir);
		errno = e;
	}
	strbuf_release(&path);
	return ret;
}

static int open_run_file(const struct sandbox *sb, int n, const char *name, int *fd_out)
{
	struct strbuf rel = STRBUF_INIT;
	int ret;

	strbuf_addf(&rel, ".git-sand/runs/%d", n);
	ret = open_home_file(sb, rel.buf, name, fd_out);
	strbuf_release(&rel);
	return ret;
}

enum agent_report agent_report_read(const struct sandbox *sb)
{
	char buf[16];
	ssize_t len;
	int fd;

	if (sb->host || open_home_file(sb, AGENT_REPORT_DIR, AGENT_REPORT_FILE, &fd) <= 0)
		return REPORT_NONE;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 7 && !memcmp(buf, "waiting", 7))
		return REPORT_WAITING;
	if (len == 7 && !memcmp(buf, "working", 7))
		return REPORT_WORKING;
	return REPORT_NONE;
}

int agent_report_clear(const struct sandbox *sb)
{
	struct strbuf path = STRBUF_INIT;
	int top, dir = -1, ret = 0;

	if (sb->host)
		return 0;
	strbuf_addstr(&path, "home/" AGENT_REPORT_DIR);
	top = open(sb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top >= 0)
		dir = open_dir_beneath(top, path.buf, path.len);
	if (dir >= 0 && unlinkat(dir, AGENT_REPORT_FILE, 0) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '~/%s/%s' of sandbox '%s'", AGENT_REPORT_DIR,
				  AGENT_REPORT_FILE, sb->name);
	if (dir >= 0)
		close(dir);
	if (top >= 0)
		close(top);
	strbuf_release(&path);
	return ret;
}

enum agent_run_state agent_shown_state(const struct sandbox *sb, enum agent_run_state state,
				       int container_running)
{
	enum agent_report report;

	if (container_running != 1 || (state != RUN_IDLE && state != RUN_RUNNING))
		return state;
	report = agent_report_read(sb);
	if (report == REPORT_WAITING)
		return RUN_WAITING;
	return report == REPORT_WORKING ? RUN_RUNNING : state;
}

/*
 * The exit status the wrapper wrote: 1 to 3 digits and a newline, at
 * most 255. 1 when read, 0 when there is none yet, -1 when what is
 * there is not a status (then *status is AGENT_RUN_LOST_STATUS).
 */
static int read_status(const struct sandbox *sb, int n, int *status)
{
	char buf[8];
	ssize_t len;
	int fd, got = open_run_file(sb, n, "status", &fd), v = 0;

	*status = AGENT_RUN_LOST_STATUS;
	if (got <= 0)
		return got;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len < 1 || len > 3)
		return -1;
	for (ssize_t i = 0; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		v = v * 10 + (buf[i] - '0');
	}
	if (v > 255)
		return -1;
	*status = v;
	return 1;
}

static int pid1_gone(const struct sandbox_run *r)
{
	return r->pid1 > 0 && r->pid1_start && sandbox_pid_start(r->pid1) != r->pid1_start;
}

enum agent_run_state agent_run_state(struct store *st, struct sandbox *sb,
				     int container_running, int *status)
{
	struct sandbox_run *r = &sb->opts.run;
	int got;

	*status = 0;
	if (!r->n)
		return RUN_IDLE;
	if (r->status >= 0) {
		*status = r->status;
		return RUN_EXITED;
	}
	if (sb->host)
		return RUN_RUNNING; /* never started: see agent_run_start */
	got = read_status(sb, r->n, status);
	if (got) {
		if (got < 0)
			warning("run %d of sandbox '%s' left no valid exit status; counted as %d",
				r->n, sb->name, *status);
		r->status = *status;
		store_run_status(st, sb->id, r->n, r->status); /* others can read it again */
		return RUN_EXITED;
	}
	if (!container_running || pid1_gone(r)) {
		*status = AGENT_RUN_LOST_STATUS;
		return RUN_LOST;
	}
	return RUN_RUNNING;
}

/* A fixed script: the run's directory, then the agent's argv ("$@"), prompt last. */
static const char run_wrapper[] =
	"d=$1; shift; mkdir -p \"$d\" && : >\"$d/log\" || exit 1; "
	"\"$@\" </dev/null >>\"$d/log\" 2>&1; "
	"echo $? >\"$d/status.new\" && mv -f \"$d/status.new\" \"$d/status\"";

static int check_home(const struct sandbox *sb)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	strbuf_addf(&path, "%s/home", sb->dir);
	if (lstat(path.buf, &st) < 0 || !S_ISDIR(st.st_mode))
		ret = error("sandbox '%s' has no home of its own ('%s'), where its runs are kept",
			    sb->name, path.buf);
	strbuf_release(&path);
	return ret;
}

/* The container's PID 1 and its start time, where they can be told. */
static void pid1_of(struct runtime *rt, const struct sandbox *sb, struct sandbox_run *run)
{
	struct container_info ci = { 0 };

	if (sb->opts.pid > 0 && sb->opts.pid_start &&
	    sandbox_pid_start(sb->opts.pid) == sb->opts.pid_start) {
		run->pid1 = sb->opts.pid;
		run->pid1_start = sb->opts.pid_start;
		return;
	}
	if (!rt->ops->inspect(rt, sb->container, &ci) && ci.state == CONTAINER_RUNNING &&
	    ci.pid > 0) {
		run->pid1 = ci.pid;
		run->pid1_start = sandbox_pid_start(ci.pid);
	}
	container_info_clear(&ci);
}

int agent_run_start(struct runtime *rt, struct store *st, struct sandbox *sb,
		    const struct agent *agent, const char *prompt)
{
	const char *probe[] = { "sh", "-c", "command -v \"$1\"", "sh", agent->command, NULL };
	struct exec_opts eo = { .workdir = "/app", .detach = 1 };
	struct sandbox_run run = { 0 };
	char *user = NULL;
	struct strbuf found = STRBUF_INIT, dir = STRBUF_INIT;
	struct argv args = ARGV_INIT;
	int status, ret = -1;

	if (sb->host) {
		error("sandbox '%s' is on '%s': runs are only supported on this machine", sb->name,
		      sb->host);
		goto done;
	}
	if (check_home(sb) < 0)
		goto done;
	if (agent_run_state(st, sb, -1, &status) == RUN_RUNNING) {
		error("sandbox '%s' is still running its task (run %d)", sb->name, sb->opts.run.n);
		hint("'git sand wait %s' waits for it to end", sb->name);
		goto done;
	}
	if (rt->ops->exec_capture(rt, sb->container, NULL, probe, &found) != 0) {
		error("the image of sandbox '%s' has no '%s' command", sb->name, agent->command);
		goto done;
	}

	run.n = sb->opts.run.n + 1;
	run.started = (int64_t)time(NULL);
	run.agent = (char *)agent->name;
	run.status = -1;
	pid1_of(rt, sb, &run);
	status = store_run_begin(st, sb->id, &run);
	if (status == STORE_EXISTS)
		error("another command started a run in sandbox '%s' meanwhile", sb->name);
	if (status)
		goto done;
	free(sb->opts.run.agent);
	sb->opts.run = run;
	sb->opts.run.agent = xstrdup(agent->name);

	strbuf_addf(&dir, "%s%s/%d", SANDBOX_HOME, AGENT_RUN_DIR, run.n);
	argv_pushl(&args, "sh", "-c", run_wrapper, "sand-run", dir.buf, agent->command, NULL);
	argv_pushv(&args, agent->batch);
	argv_push(&args, prompt);
	user = devcontainer_user(sb);
	eo.user = user;
	if (rt->ops->exec(rt, sb->container, &eo, (const char *const *)argv_vec(&args)) != 0) {
		/* Recorded as ended, so that wait and ls do not wait for it. */
		sb->opts.run.status = AGENT_RUN_LOST_STATUS;
		store_run_status(st, sb->id, run.n, AGENT_RUN_LOST_STATUS);
		error("cannot start '%s' in sandbox '%s'", agent->command, sb->name);
		goto done;
	}
	ret = 0;
done:
	free(user);
	strbuf_release(&found);
	strbuf_release(&dir);
	argv_clear(&args);
	return ret;
}

/* Write what the sanitizer made of it; -1 once stdout is gone. */
static int emit(struct strbuf *shown)
{
	int ret = 0;

	if (shown->len && (fwrite(shown->buf, 1, shown->len, stdout) != shown->len ||
			   fflush(stdout)))
		ret = -1;
	strbuf_reset(shown);
	return ret;
}

/*
 * Print what fd holds from *offset on (at most *left bytes more), moving
 * both on. -1 when stdout is gone.
 */
static int print_from(int fd, off_t *offset, size_t *left, struct sanitizer *san)
{
	struct strbuf shown = STRBUF_INIT;
	char buf[16384];
	struct stat st;
	int ret = 0;

	/* A log cut short by its writer: go on from its new end. */
	if (!fstat(fd, &st) && st.st_size < *offset)
		*offset = st.st_size;
	while (*left) {
		ssize_t n = pread(fd, buf, *left < sizeof(buf) ? *left : sizeof(buf), *offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*offset += n;
		*left -= (size_t)n;
		sanitize_feed(&shown, san, buf, (size_t)n);
		if ((ret = emit(&shown)) < 0)
			break;
	}
	strbuf_release(&shown);
	return ret;
}

/* Where to start: the last max bytes, saying so when that skips some. */
static off_t start_offset(int fd, size_t max, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || (size_t)st.st_size <= max)
		return 0;
	warning("%s holds %lld bytes: showing the last %zu (sand.maxOutput)", what,
		(long long)st.st_size, max);
	return st.st_size - (off_t)max;
}

int agent_run_print_log(struct store *st, struct sandbox *sb, int follow)
{
	struct sanitizer san = SANITIZER_INIT(isatty(1) ? SANITIZE_KEEP_SGR : 0);
	struct strbuf shown = STRBUF_INIT, what = STRBUF_INIT;
	size_t left = run_max_output;
	off_t offset = 0;
	int started = 0, ret = 0;

	if (sb->host)
		return error("sandbox '%s' is on '%s': runs are only supported on this machine",
			     sb->name, sb->host);
	if (!sb->opts.run.n)
		return error("sandbox '%s' has had no run", sb->name);
	strbuf_addf(&what, "the log of run %d of sandbox '%s'", sb->opts.run.n, sb->name);
	for (;;) {
		int status, fd, got;
		/* Told before reading: what the run wrote before it ended is read after. */
		enum agent_run_state state = agent_run_state(st, sb, -1, &status);

		got = open_run_file(sb, sb->opts.run.n, "log", &fd);
		if (got < 0) {
			ret = error("%s is not a regular file", what.buf);
			break;
		}
		if (got) {
			if (!started)
				offset = start_offset(fd, run_max_output, what.buf);
			started = 1;
			ret = print_from(fd, &offset, &left, &san);
			close(fd);
			if (ret < 0)
				break;
			if (!left) {
				ret = error("%s is over sand.maxOutput (%zu bytes): stopped there",
					    what.buf, run_max_output);
				break;
			}
		}
		if (!follow || state != RUN_RUNNING || cleanup_signalled())
			break;
		agent_run_sleep(AGENT_RUN_POLL_MS);
	}
	sanitize_finish(&shown, &san);
	if (emit(&shown) < 0 && !ret)
		ret = -1;
	strbuf_release(&shown);
	strbuf_release(&what);
	return ret;
}

int agent_run_print_setup_log(const struct sandbox *sb)
{
	struct sanitizer san = SANITIZER_INIT(isatty(1) ? SANITIZE_KEEP_SGR : 0);
	struct strbuf path = STRBUF_INIT, shown = STRBUF_INIT;
	size_t left = run_max_output;
	off_t offset;
	int fd, ret = 0;
	struct stat st;

	strbuf_addf(&path, "%s/setup.log", sb->dir);
	fd = open(path.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = errno == ENOENT ? 1 : error_errno("cannot open '%s'", path.buf);
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = error("'%s' is not a regular file", path.buf);
		goto done;
	}
	offset = start_offset(fd, run_max_output, path.buf);
	ret = print_from(fd, &offset, &left, &san);
	sanitize_finish(&shown, &san);
	if (emit(&shown) < 0)
		ret = -1;
done:
	if (fd >= 0)
		close(fd);
	strbuf_release(&path);
	strbuf_release(&shown);
	return ret;
}

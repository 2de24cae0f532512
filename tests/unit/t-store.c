#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "path.h"
#include "store.h"
#include "unit.h"

static void fill(struct sandbox *sb, const char *id, const char *name, const char *wt)
{
	memset(sb, 0, sizeof(*sb));
	sb->id = xstrdup(id);
	sb->name = xstrdup(name);
	sb->worktree = xstrdup(wt);
	sb->gitdir = xstrfmt("%s/.git", wt);
	sb->dir = xstrfmt("/state/%s", id);
	sb->runtime = xstrdup("podman");
	sb->image = xstrdup("img");
	sb->state = SB_CREATING;
	sb->opts.cpus = xstrdup("2");
}

static int file_equals(const char *path, const char *data, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	int eq = !strbuf_read_file(&sb, path) && sb.len == len && !memcmp(sb.buf, data, len);

	strbuf_release(&sb);
	return eq;
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void test_basic(const char *root)
{
	struct store *st;
	struct sandbox sb, got, *list;
	size_t nr;

	check_int(store_open(&st, root), ==, 0, "a missing database is created");
	fill(&sb, "0000000000000001", "alpha", "/wt/one");
	check_int(store_insert(st, &sb), ==, 0, "a sandbox is recorded");
	sandbox_clear(&sb);
	fill(&sb, "0000000000000002", "alpha", "/wt/one");
	check_int(store_insert(st, &sb), ==, STORE_EXISTS, "a name is unique per worktree");
	sandbox_clear(&sb);
	fill(&sb, "0000000000000003", "alpha", "/wt/two");
	check_int(store_insert(st, &sb), ==, 0, "another worktree may use the name");
	sandbox_clear(&sb);

	check_int(store_get(st, "/wt/one", "alpha", &got), ==, 0, "lookup by worktree and name");
	check_str(got.id, "0000000000000001", "finds the right one");
	check_str(got.opts.cpus, "2", "with its options");
	got.state = SB_READY;
	got.container = xstrdup("abc");
	check_int(store_update(st, &got), ==, 0, "update");
	sandbox_clear(&got);
	check_int(store_get_by_id(st, "0000000000000001", &got), ==, 0, "lookup by id");
	check_str(sandbox_state_name(got.state), "ready", "the update is stored");
	check_int(sandbox_state_parse("removing", &got.state), ==, 0, "a state's name parses");
	check_int(got.state, ==, SB_REMOVING, "to that state");
	check_int(sandbox_state_parse("Ready", &got.state), ==, -1, "no other name does");
	check_str(got.container, "abc", "the container id is stored");
	sandbox_clear(&got);
	check_int(store_get(st, "/wt/one", "nope", &got), ==, STORE_NOT_FOUND, "not found");

	check_int(store_list(st, "/wt/one", &list, &nr), ==, 0, "list a worktree");
	check_int(nr, ==, 1, "only its sandboxes");
	store_free_list(list, nr);
	check_int(store_list(st, NULL, &list, &nr), ==, 0, "list all");
	check_int(nr, ==, 2, "every worktree's sandboxes");
	store_free_list(list, nr);

	check_int(store_delete(st, "0000000000000003"), ==, 0, "delete");
	check_int(store_get(st, "/wt/two", "alpha", &got), ==, STORE_NOT_FOUND, "deleted rows are gone");
	store_close(st);
}

/* A run is recorded once per number, its status beside it, nothing else touched. */
static void test_runs(const char *root)
{
	struct store *st;
	struct sandbox sb, got;
	struct sandbox_run run = { .n = 1, .started = 1700000000, .agent = "claude",
				   .status = -1, .pid1 = 42, .pid1_start = 123456 };

	check_int(store_open(&st, root), ==, 0, "open");
	fill(&sb, "00000000000000r1", "runner", "/wt/runs");
	check_int(store_insert(st, &sb), ==, 0, "a sandbox to run in");
	check_int(store_run_begin(st, sb.id, &run), ==, 0, "run 1 is recorded");
	check_int(store_run_begin(st, sb.id, &run), ==, STORE_EXISTS, "only once");
	check_int(store_get(st, "/wt/runs", "runner", &got), ==, 0, "read back");
	check_int(got.opts.run.n, ==, 1, "its number");
	check_int(got.opts.run.status, ==, -1, "no status yet");
	check_str(got.opts.run.agent, "claude", "its agent");
	check_int(got.opts.run.pid1, ==, 42, "the container's PID 1");
	check_str(got.opts.cpus, "2", "the other options are kept");
	sandbox_clear(&got);
	check_int(store_run_status(st, sb.id, 2, 9), ==, 0, "the status of another run...");
	check_int(store_get(st, "/wt/runs", "runner", &got), ==, 0, "read back");
	check_int(got.opts.run.status, ==, -1, "...is not recorded");
	sandbox_clear(&got);
	check_int(store_run_status(st, sb.id, 1, 3), ==, 0, "the status of run 1");
	check_int(store_get(st, "/wt/runs", "runner", &got), ==, 0, "read back");
	check_int(got.opts.run.status, ==, 3, "is recorded");
	sandbox_clear(&got);
	run.n = 2;
	check_int(store_run_begin(st, sb.id, &run), ==, 0, "run 2 follows");
	check_int(store_get(st, "/wt/runs", "runner", &got), ==, 0, "read back");
	check_int(got.opts.run.n, ==, 2, "the latest run");
	check_int(got.opts.run.status, ==, -1, "without the old status");
	check_int(sandbox_opts_from_json(&got.opts, "{\"run\":{\"n\":1,\"status\":256}}"), ==, -1,
		  "a status out of range is refused");
	check_int(sandbox_opts_from_json(&got.opts, "{\"run\":[1]}"), ==, -1,
		  "a run that is not an object is refused");
	sandbox_clear(&got);
	sandbox_clear(&sb);
	store_close(st);
}

/* Many processes race to insert the same name: exactly one wins. */
static void test_race(const char *root)
{
	enum { N = 8 };
	pid_t pids[N];
	int wins = 0, losses = 0, other = 0;
	struct store *st;
	struct sandbox *list;
	size_t nr;
	int go[2];

	if (pipe(go) < 0)
		abort();
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (!pids[i]) {
			struct store *s;
			struct sandbox sb;
			char id[17], c;
			int ret;

			close(go[1]);
			snprintf(id, sizeof(id), "%016x", 0x100 + i);
			fill(&sb, id, "racer", "/wt/race");
			if (store_open(&s, root) < 0)
				_exit(3);
			/* Everyone starts at once. */
			if (read(go[0], &c, 1) < 0)
				_exit(4);
			ret = store_insert(s, &sb);
			store_close(s);
			sandbox_clear(&sb);
			_exit(ret == 0 ? 0 : ret == STORE_EXISTS ? 1 : 2);
		}
	}
	close(go[0]);
	close(go[1]);
	for (int i = 0; i < N; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			wins++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			losses++;
		else
			other++;
	}
	check_int(wins, ==, 1, "of %d racing processes, exactly one wins the name", N);
	check_int(losses, ==, N - 1, "the others are told it exists");
	check_int(other, ==, 0, "none fails otherwise");
	check_int(store_open(&st, root), ==, 0, "the database is intact after the race");
	check_int(store_list(st, "/wt/race", &list, &nr), ==, 0, "and readable");
	check_int(nr, ==, 1, "with one row for the name");
	store_free_list(list, nr);
	store_close(st);
}

static void test_garbage(const char *base)
{
	struct strbuf root = STRBUF_INIT, db = STRBUF_INIT;
	static const char junk[] = "this is not a database, it is a file full of words\n";
	struct store *st;

	strbuf_addf(&root, "%s/garbage", base);
	mkdir_p(root.buf, 0700);
	strbuf_addf(&db, "%s/sand.db", root.buf);
	write_bytes(db.buf, junk, sizeof(junk) - 1);
	check_int(store_open(&st, root.buf), ==, -1, "a file that is not a database is refused");
	TEST(file_equals(db.buf, junk, sizeof(junk) - 1), "and left unchanged");
	strbuf_release(&root);
	strbuf_release(&db);
}

static void test_newer(const char *base)
{
	struct strbuf root = STRBUF_INIT, db = STRBUF_INIT, before = STRBUF_INIT;
	struct store *st;
	sqlite3 *raw;

	strbuf_addf(&root, "%s/newer", base);
	check_int(store_open(&st, root.buf), ==, 0, "create a database");
	store_close(st);
	strbuf_addf(&db, "%s/sand.db", root.buf);
	sqlite3_open(db.buf, &raw);
	sqlite3_exec(raw, "PRAGMA user_version = 999; PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(raw);
	strbuf_read_file(&before, db.buf);
	check_int(store_open(&st, root.buf), ==, -1, "a database from a newer schema is refused");
	TEST(file_equals(db.buf, before.buf, before.len), "and left unchanged");
	strbuf_release(&root);
	strbuf_release(&db);
	strbuf_release(&before);
}

static void test_readonly(const char *base)
{
	struct strbuf root = STRBUF_INIT, db = STRBUF_INIT;
	struct store *st;

	if (getuid() == 0) {
		/* root writes through file modes; the immutable flag needs chattr. */
		unit_skip("read-only files as root (the shell tests use chattr)");
		return;
	}
	strbuf_addf(&root, "%s/readonly", base);
	check_int(store_open(&st, root.buf), ==, 0, "create a database");
	store_close(st);
	strbuf_addf(&db, "%s/sand.db", root.buf);
	chmod(db.buf, 0444);
	check_int(store_open(&st, root.buf), ==, -1, "a read-only database is refused");
	chmod(db.buf, 0644);
	strbuf_release(&root);
	strbuf_release(&db);
}

int main(void)
{
	const char *tmp = unit_tmpdir();
	struct strbuf root = STRBUF_INIT;

	strbuf_addf(&root, "%s/state", tmp);
	test_basic(root.buf);
	test_race(root.buf);
	test_runs(root.buf);
	test_garbage(tmp);
	test_newer(tmp);
	test_readonly(tmp);
	strbuf_release(&root);
	return unit_done();
}

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "msg.h"
#include "path.h"
#include "store.h"

struct store {
	sqlite3 *db;
	char *path;
};

/*
 * Schema migrations: migrations[i] takes user_version i to i + 1.
 * Append only; never edit a released step.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE sandboxes ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT NOT NULL,"
	"  worktree TEXT NOT NULL,"
	"  gitdir TEXT NOT NULL,"
	"  dir TEXT NOT NULL,"
	"  runtime TEXT NOT NULL,"
	"  image TEXT NOT NULL,"
	"  container TEXT,"
	"  state TEXT NOT NULL CHECK (state IN ('creating', 'ready', 'removing')),"
	"  options TEXT NOT NULL DEFAULT '{}',"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  UNIQUE (worktree, name)"
	");"
	"CREATE INDEX sandboxes_gitdir ON sandboxes (gitdir);",
	/* 1 -> 2: sandboxes on other machines (ssh://...) */
	"ALTER TABLE sandboxes ADD COLUMN host TEXT;"
	"ALTER TABLE sandboxes ADD COLUMN remote_root TEXT;",
};

#define SCHEMA_VERSION ((int)ARRAY_SIZE(migrations))

static int db_error(struct store *st, const char *what)
{
	return error("%s: %s (database '%s')", what, sqlite3_errmsg(st->db), st->path);
}

static int exec_sql(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, what);
	return 0;
}

static int get_user_version(struct store *st, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK) {
		db_error(st, "cannot read the database");
		goto done;
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		db_error(st, "cannot read the database");
		goto done;
	}
	*out = sqlite3_column_int(stmt, 0);
	ret = 0;
done:
	sqlite3_finalize(stmt);
	return ret;
}

static int check_version(struct store *st, int *version)
{
	if (get_user_version(st, version) < 0)
		return -1;
	if (*version > SCHEMA_VERSION)
		return error("database '%s' has schema version %d, newer than this git-sand "
			     "understands (%d): upgrade git-sand", st->path, *version, SCHEMA_VERSION);
	return 0;
}

static int migrate(struct store *st, int version)
{
	int ret = -1;

	if (version == SCHEMA_VERSION)
		return 0;

	if (exec_sql(st, "BEGIN IMMEDIATE", "cannot lock the database") < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (get_user_version(st, &version) < 0)
		goto rollback;
	for (; version < SCHEMA_VERSION; version++) {
		char pragma[64];

		if (exec_sql(st, migrations[version], "cannot upgrade the database") < 0)
			goto rollback;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (exec_sql(st, pragma, "cannot upgrade the database") < 0)
			goto rollback;
	}
	if (exec_sql(st, "COMMIT", "cannot upgrade the database") < 0)
		goto rollback;
	return 0;
rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int store_open(struct store **out, const char *root)
{
	struct store *st = xcalloc(1, sizeof(*st));
	struct strbuf path = STRBUF_INIT;
	int rc, version;

	*out = NULL;
	if (mkdir_p(root, 0700) < 0) {
		error_errno("cannot create the state directory '%s'", root);
		goto fail;
	}
	path_join(&path, root, "sand.db");
	st->path = strbuf_detach(&path, NULL);

	rc = sqlite3_open_v2(st->path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (st->db)
			db_error(st, "cannot open the database");
		else
			error("cannot open the database '%s': out of memory", st->path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		error("database '%s' is read-only", st->path);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/*
	 * Every command opens the store once: SQLite would make its WAL and
	 * shared-memory files at each open and remove them at each close
	 * (a few ms). They stay instead; journal_size_limit below empties
	 * the WAL once checkpointed, so no old row lingers in it.
	 */
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	/*
	 * Read before writing anything: a file that is not a database, or one
	 * from a newer git-sand, fails here and is left as it is.
	 */
	if (exec_sql(st, "PRAGMA schema_version", "cannot read the database") < 0 ||
	    check_version(st, &version) < 0 ||
	    exec_sql(st, "PRAGMA journal_mode = WAL", "cannot set up the database") < 0 ||
	    exec_sql(st, "PRAGMA foreign_keys = ON", "cannot set up the database") < 0 ||
	    exec_sql(st, "PRAGMA synchronous = NORMAL", "cannot set up the database") < 0 ||
	    exec_sql(st, "PRAGMA journal_size_limit = 0", "cannot set up the database") < 0 ||
	    migrate(st, version) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

static void bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, i);
}

static char *col_text(sqlite3_stmt *stmt, int i)
{
	const unsigned char *s = sqlite3_column_text(stmt, i);
	return s ? xstrdup((const char *)s) : NULL;
}

#define SELECT_COLUMNS \
	"SELECT id, name, worktree, gitdir, dir, runtime, image, container, state, " \
	"options, created, updated, host, remote_root FROM sandboxes "

static int row_to_sandbox(sqlite3_stmt *stmt, struct sandbox *sb)
{
	const unsigned char *opts;

	memset(sb, 0, sizeof(*sb));
	sb->id = col_text(stmt, 0);
	sb->name = col_text(stmt, 1);
	sb->worktree = col_text(stmt, 2);
	sb->gitdir = col_text(stmt, 3);
	sb->dir = col_text(stmt, 4);
	sb->runtime = col_text(stmt, 5);
	sb->image = col_text(stmt, 6);
	sb->container = col_text(stmt, 7);
	if (sandbox_state_parse((const char *)sqlite3_column_text(stmt, 8), &sb->state) < 0)
		return error("sandbox '%s' has an unknown state in the database", sb->name);
	sb->created = sqlite3_column_int64(stmt, 10);
	sb->updated = sqlite3_column_int64(stmt, 11);
	sb->host = col_text(stmt, 12);
	sb->host_root = col_text(stmt, 13);
	opts = sqlite3_column_text(stmt, 9);
	if (opts && sandbox_opts_from_json(&sb->opts, (const char *)opts) < 0) {
		error("sandbox '%s' has unreadable options in the database", sb->name);
		return -1;
	}
	return 0;
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return db_error(st, "cannot query the database");
	return 0;
}

int store_insert(struct store *st, struct sandbox *sb)
{
	sqlite3_stmt *stmt = NULL;
	char *opts = sandbox_opts_to_json(&sb->opts);
	int rc, ret = -1;

	sb->created = sb->updated = (int64_t)time(NULL);
	if (prepare(st, "INSERT INTO sandboxes (id, name, worktree, gitdir, dir, runtime, "
			"image, container, state, options, created, updated, host, remote_root) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13)", &stmt) < 0)
		goto done;
	bind_text(stmt, 1, sb->id);
	bind_text(stmt, 2, sb->name);
	bind_text(stmt, 3, sb->worktree);
	bind_text(stmt, 4, sb->gitdir);
	bind_text(stmt, 5, sb->dir);
	bind_text(stmt, 6, sb->runtime);
	bind_text(stmt, 7, sb->image);
	bind_text(stmt, 8, sb->container);
	bind_text(stmt, 9, sandbox_state_name(sb->state));
	bind_text(stmt, 10, opts);
	sqlite3_bind_int64(stmt, 11, sb->created);
	bind_text(stmt, 12, sb->host);
	bind_text(stmt, 13, sb->host_root);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		ret = STORE_EXISTS;
	else
		db_error(st, "cannot record the sandbox");
done:
	sqlite3_finalize(stmt);
	free(opts);
	return ret;
}

static int get_one(struct store *st, sqlite3_stmt *stmt, struct sandbox *out)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return db_error(st, "cannot read the database");
	if (row_to_sandbox(stmt, out) < 0) {
		sandbox_clear(out);
		return -1;
	}
	return 0;
}

int store_get(struct store *st, const char *worktree, const char *name, struct sandbox *out)
{
	sqlite3_stmt *stmt = NULL;
	int ret;

	if (prepare(st, SELECT_COLUMNS "WHERE worktree = ?1 AND name = ?2", &stmt) < 0)
		return -1;
	bind_text(stmt, 1, worktree);
	bind_text(stmt, 2, name);
	ret = get_one(st, stmt, out);
	sqlite3_finalize(stmt);
	return ret;
}

int store_get_by_id(struct store *st, const char *id, struct sandbox *out)
{
	sqlite3_stmt *stmt = NULL;
	int ret;

	if (prepare(st, SELECT_COLUMNS "WHERE id = ?1", &stmt) < 0)
		return -1;
	bind_text(stmt, 1, id);
	ret = get_one(st, stmt, out);
	sqlite3_finalize(stmt);
	return ret;
}

void store_free_list(struct sandbox *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		sandbox_clear(&list[i]);
	free(list);
}

int store_list(struct store *st, const char *worktree, struct sandbox **out, size_t *nr)
{
	sqlite3_stmt *stmt = NULL;
	struct sandbox *list = NULL;
	size_t n = 0, alloc = 0;
	int rc, ret = -1;

	*out = NULL;
	*nr = 0;
	if (prepare(st, worktree ?
		    SELECT_COLUMNS "WHERE worktree = ?1 ORDER BY worktree, name" :
		    SELECT_COLUMNS "ORDER BY worktree, name", &stmt) < 0)
		return -1;
	if (worktree)
		bind_text(stmt, 1, worktree);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ALLOC_GROW(list, n + 1, alloc);
		if (row_to_sandbox(stmt, &list[n]) < 0) {
			sandbox_clear(&list[n]);
			continue; /* reported; list the others */
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		db_error(st, "cannot read the database");
		store_free_list(list, n);
		goto done;
	}
	*out = list;
	*nr = n;
	ret = 0;
done:
	sqlite3_finalize(stmt);
	return ret;
}

int store_update(struct store *st, struct sandbox *sb)
{
	sqlite3_stmt *stmt = NULL;
	char *opts = sandbox_opts_to_json(&sb->opts);
	int ret = -1;

	sb->updated = (int64_t)time(NULL);
	if (prepare(st, "UPDATE sandboxes SET state = ?2, container = ?3, image = ?4, "
			"options = ?5, updated = ?6 WHERE id = ?1", &stmt) < 0)
		goto done;
	bind_text(stmt, 1, sb->id);
	bind_text(stmt, 2, sandbox_state_name(sb->state));
	bind_text(stmt, 3, sb->container);
	bind_text(stmt, 4, sb->image);
	bind_text(stmt, 5, opts);
	sqlite3_bind_int64(stmt, 6, sb->updated);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		db_error(st, "cannot update the sandbox");
	else
		ret = 0;
done:
	sqlite3_finalize(stmt);
	free(opts);
	return ret;
}

int store_mark_orphaned(struct store *st, const char *id)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (prepare(st, "UPDATE sandboxes SET options = json_set(options, '$.orphaned', json('true')), "
			"updated = ?2 WHERE id = ?1", &stmt) < 0)
		return -1;
	bind_text(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, (int64_t)time(NULL));
	if (sqlite3_step(stmt) != SQLITE_DONE)
		db_error(st, "cannot update the sandbox");
	else
		ret = 0;
	sqlite3_finalize(stmt);
	return ret;
}

int store_run_begin(struct store *st, const char *id, const struct sandbox_run *run)
{
	sqlite3_stmt *stmt = NULL;
	char *json = sandbox_run_to_json(run);
	int ret = -1;

	if (prepare(st, "UPDATE sandboxes SET options = json_set(options, '$.run', json(?2)), "
			"updated = ?3 WHERE id = ?1 AND "
			"coalesce(json_extract(options, '$.run.n'), 0) = ?4", &stmt) < 0)
		goto done;
	bind_text(stmt, 1, id);
	bind_text(stmt, 2, json);
	sqlite3_bind_int64(stmt, 3, (int64_t)time(NULL));
	sqlite3_bind_int(stmt, 4, run->n - 1);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		db_error(st, "cannot record the run");
	else
		ret = sqlite3_changes(st->db) ? 0 : STORE_EXISTS;
done:
	sqlite3_finalize(stmt);
	free(json);
	return ret;
}

int store_run_status(struct store *st, const char *id, int n, int status)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (prepare(st, "UPDATE sandboxes SET options = json_set(options, '$.run.status', ?2) "
			"WHERE id = ?1 AND json_extract(options, '$.run.n') = ?3", &stmt) < 0)
		return -1;
	bind_text(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, status);
	sqlite3_bind_int(stmt, 3, n);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		db_error(st, "cannot record the run's status");
	else
		ret = 0;
	sqlite3_finalize(stmt);
	return ret;
}

int store_delete(struct store *st, const char *id)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (prepare(st, "DELETE FROM sandboxes WHERE id = ?1", &stmt) < 0)
		return -1;
	bind_text(stmt, 1, id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		db_error(st, "cannot delete the sandbox");
	else
		ret = 0;
	sqlite3_finalize(stmt);
	return ret;
}

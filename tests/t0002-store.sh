#!/bin/sh
test_description='the store: created on first use, bad databases refused and left alone'
. ./test-lib.sh

db="$GIT_SAND_HOME/sand.db"

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'the first command creates the database, in WAL mode' '
	(cd repo && git sand ls) &&
	test_path_is_file "$db" &&
	echo wal >expect &&
	sqlite3 "$db" "PRAGMA journal_mode" >actual &&
	test_cmp expect actual &&
	sqlite3 "$db" "PRAGMA user_version" >version &&
	test "$(cat version)" -ge 1
'

test_expect_success 'a database that is garbage: fatal, 128, unchanged' '
	cp "$db" good.db &&
	rm -f "$db"-wal "$db"-shm &&
	echo "not a database at all, just some words" >"$db" &&
	cp "$db" before &&
	(cd repo && test_expect_code 128 git sand ls 2>../err) &&
	test_grep "^fatal: cannot use the git-sand database" err &&
	test_grep "file is not a database" err &&
	test_cmp before "$db"
'

test_expect_success 'a database from a newer git-sand: fatal, 128, unchanged' '
	cp good.db "$db" &&
	sqlite3 "$db" "PRAGMA journal_mode = DELETE; PRAGMA user_version = 999" >/dev/null &&
	cp "$db" before &&
	(cd repo && test_expect_code 128 git sand ls 2>../err) &&
	test_grep "schema version 999, newer than" err &&
	test_cmp before "$db"
'

test_expect_success 'a read-only database: fatal, 128, unchanged' '
	cp good.db "$db" &&
	rm -f "$db"-wal "$db"-shm &&
	(cd repo && git sand ls) &&
	cp "$db" before &&
	if test "$(id -u)" = 0
	then
		chattr +i "$db" &&
		test_when_finished "chattr -i \"$db\""
	else
		chmod a-w "$db" &&
		test_when_finished "chmod u+w \"$db\""
	fi &&
	(cd repo && test_expect_code 128 git sand ls 2>../err) &&
	test_grep "read-only" err &&
	test_cmp before "$db"
'

test_expect_success 'a database of schema 1 is upgraded in place, its rows kept' '
	mkdir old-state &&
	sqlite3 old-state/sand.db "
		CREATE TABLE sandboxes (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,
		  worktree TEXT NOT NULL, gitdir TEXT NOT NULL, dir TEXT NOT NULL,
		  runtime TEXT NOT NULL, image TEXT NOT NULL, container TEXT,
		  state TEXT NOT NULL CHECK (state IN ('"'creating'"', '"'ready'"', '"'removing'"')),
		  options TEXT NOT NULL DEFAULT '"'{}'"', created INTEGER NOT NULL,
		  updated INTEGER NOT NULL, UNIQUE (worktree, name));
		CREATE INDEX sandboxes_gitdir ON sandboxes (gitdir);
		INSERT INTO sandboxes VALUES ('"'0123456789abcdef'"', '"'old'"', '"'$TRASH_DIRECTORY/repo'"',
		  '"'$TRASH_DIRECTORY/repo/.git'"', '"'$TRASH_DIRECTORY/old-state/sandboxes/x'"',
		  '"'no-such-runtime'"', '"'img'"', NULL, '"'ready'"', '"'{}'"', 1, 1);
		PRAGMA user_version = 1;" &&
	(cd repo && GIT_SAND_HOME=$TRASH_DIRECTORY/old-state git sand ls --porcelain >../ls 2>/dev/null;
		true) &&
	test_grep "^sandbox old$" ls &&
	! test_grep "^host " ls &&
	sqlite3 old-state/sand.db "PRAGMA user_version" >version &&
	echo 2 >expect && test_cmp expect version &&
	sqlite3 old-state/sand.db "SELECT name, host IS NULL FROM sandboxes" >rows &&
	echo "old|1" >expect && test_cmp expect rows
'

test_expect_success 'a state root that cannot be created: fatal, 128' '
	echo file >not-a-dir &&
	(cd repo && GIT_SAND_HOME=$TRASH_DIRECTORY/not-a-dir/state test_expect_code 128 git sand ls 2>../err) &&
	test_grep "cannot create the state directory" err
'

test_done

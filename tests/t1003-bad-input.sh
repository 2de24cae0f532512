#!/bin/sh
test_description='bad input and hostile environments: a clear message, the right code, nothing half-made'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-fake-podman.sh"
test_require_podman

# Mounting a small tmpfs needs root (and a kernel that lets us).
if test "$(id -u)" = 0 && mkdir -p mnt-probe && mount -t tmpfs -o size=1m tmpfs mnt-probe 2>/dev/null
then
	umount mnt-probe
	test_set_prereq MOUNT
fi
rmdir mnt-probe 2>/dev/null

test_expect_success PODMAN 'setup' '
	test_create_repo repo &&
	(cd repo && head -c 3000000 /dev/urandom >big.bin && git add big.bin && git commit -q -m big)
'

test_expect_success PODMAN,MOUNT 'a full disk during the clone: a clear error, nothing left' '
	mkdir small &&
	mount -t tmpfs -o size=2m tmpfs small &&
	test_when_finished "umount \"$TRASH_DIRECTORY/small\"" &&
	(
		cd repo &&
		GIT_SAND_HOME=$TRASH_DIRECTORY/small &&
		export GIT_SAND_HOME &&
		test_expect_code 128 git sand new -d full 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep -i "no space left on device" err &&
	test_line_count = 0 rows &&
	ls small/sandboxes >dirs &&
	test_line_count = 0 dirs &&
	podman ps -aq --filter label=io.git-sand.home=$TRASH_DIRECTORY/small >ctrs &&
	test_line_count = 0 ctrs
'

test_expect_success PODMAN,MOUNT 'a state root on another filesystem works (no hard links there)' '
	mkdir other-fs &&
	mount -t tmpfs -o size=64m tmpfs other-fs &&
	test_when_finished "umount \"$TRASH_DIRECTORY/other-fs\"" &&
	(
		cd repo &&
		GIT_SAND_HOME=$TRASH_DIRECTORY/other-fs &&
		export GIT_SAND_HOME &&
		git sand new -d elsewhere &&
		git sand exec elsewhere git log --format=%s >../log &&
		git sand exec elsewhere sh -c "git -c user.name=a -c user.email=b commit -q --allow-empty -m there" &&
		git sand fetch elsewhere &&
		git sand rm -f elsewhere
	) &&
	test_grep "^big$" log
'

test_expect_success PODMAN 'a database locked for a while by another process is waited for' '
	(cd repo && git sand ls) &&
	(sqlite3 "$GIT_SAND_HOME/sand.db" "BEGIN EXCLUSIVE; SELECT 1;" ".shell sleep 2" "COMMIT;" >/dev/null &) &&
	sleep 0.3 &&
	(cd repo && git sand new -d waited && git sand rm -f waited)
'

test_expect_success PODMAN 'a bare repository is refused by new' '
	git clone -q --bare repo bare.git &&
	(cd bare.git && test_expect_code 128 git sand new -d x 2>../err) &&
	test_grep "must be run in a work tree" err
'

test_expect_success PODMAN 'a missing runtime names what to install or set' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --runtime=docker-not-here x 2>../err1 &&
		PATH=/nonexistent:$SRC_DIRECTORY && export PATH &&
		test_expect_code 128 "$SRC_DIRECTORY/git-sand" new -d x 2>../err2
	) &&
	test_grep "unknown runtime .docker-not-here." err1 &&
	test_grep "install podman" err2
'

test_expect_success PODMAN 'a runtime whose create hangs, then is killed: gc finds nothing left behind it' '
	pid=$(start_hung_new create hung) &&
	kill -KILL $pid &&
	(cd repo && git sand gc >../out) &&
	nothing_left
'

test_done

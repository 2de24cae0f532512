#!/bin/sh
test_description='every failure that exits with status 128 says fatal: last'
. ./test-lib.sh

# fatal_last <file>: its last line is the fatal: one, and the only one.
fatal_last () {
	test "$(grep -c "^fatal: " "$1")" = 1 &&
	tail -n 1 "$1" | grep "^fatal: " >/dev/null ||
	{ echo >&4 "$1 does not end in one fatal: line:"; cat "$1" >&4; return 1; }
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'no sandbox to act on, or an invalid name' '
	(
		cd repo &&
		test_expect_code 128 git sand status 2>../none &&
		test_expect_code 128 git sand shell Feature/X 2>../badname
	) &&
	test_grep "^error: this worktree has no sandboxes\$" none &&
	fatal_last none &&
	test_grep "^error: invalid sandbox name" badname &&
	fatal_last badname
'

test_expect_success 'new: an invalid name, runtime, --env, profile or pull policy' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d Foo 2>../name &&
		test_expect_code 128 git sand new -d --runtime bogus 2>../runtime &&
		PATH=/nonexistent test_expect_code 128 "$SRC_DIRECTORY/git-sand" new -d \
			--runtime docker 2>../notinstalled &&
		test_expect_code 128 git sand new -d --env "=x" 2>../env &&
		test_expect_code 128 git sand new -d --profile nosuch 2>../profile &&
		test_expect_code 128 git sand new -d --pull sometimes 2>../pull
	) &&
	test_grep "^error: unknown runtime .bogus." runtime &&
	test_grep "^error: runtime .docker. is not installed" notinstalled &&
	test_grep "no profile named .nosuch." profile &&
	for f in name runtime notinstalled env profile pull
	do
		fatal_last $f || return 1
	done
'

test_expect_success 'config with a profile that is not there' '
	(cd repo && test_expect_code 128 git sand config --profile nosuch 2>../err) &&
	test_grep "no profile named .nosuch." err &&
	fatal_last err
'

test_expect_success 'hook install --global without core.hooksPath' '
	(cd repo && test_expect_code 128 git sand hook install --global 2>../err) &&
	test_grep "^error: no core.hooksPath" err &&
	fatal_last err
'

test_expect_success 'an unusable state directory' '
	echo file >not-a-dir &&
	(cd repo && GIT_SAND_HOME=$TRASH_DIRECTORY/not-a-dir/x test_expect_code 128 git sand ls 2>../err) &&
	fatal_last err
'

test_done

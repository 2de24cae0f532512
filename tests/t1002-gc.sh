#!/bin/sh
test_description='gc repairs what killed commands leave behind, and touches nothing else'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-fake-podman.sh"
test_require_podman

test_expect_success PODMAN 'setup' '
	test_create_repo repo
'

test_expect_success PODMAN 'a new killed while creating the container: gc removes the rest' '
	pid=$(start_hung_new create k1) &&
	kill -KILL $pid &&
	(cd repo && git sand ls --porcelain >../rows 2>../err) &&
	test_grep "^status broken$" rows &&
	test_grep "^hint: .*git sand gc" err &&
	(cd repo && test_must_fail git sand shell k1 2>../err) &&
	test_grep "sandbox .k1. is broken" err &&
	(cd repo && git sand gc >../out) &&
	test_grep "^Removing sandbox .k1. .*(left half-made)" out &&
	nothing_left
'

test_expect_success PODMAN 'a new killed while starting the container: gc removes the container too' '
	pid=$(start_hung_new start k2) &&
	kill -KILL $pid &&
	podman ps -a -q --filter label=io.git-sand.name=k2 --filter "label=io.git-sand.home=$GIT_SAND_HOME" >ctrs &&
	test_line_count = 1 ctrs &&
	(cd repo && git sand gc) &&
	nothing_left
'

test_expect_success PODMAN 'gc leaves alone a sandbox that a live command is making' '
	pid=$(start_hung_new start busy) &&
	(cd repo && git sand gc && git sand ls --porcelain >../rows) &&
	test_grep "^sandbox busy$" rows &&
	kill -TERM $pid &&
	test "$(wait_new_status)" = 143 &&
	nothing_left
'

test_expect_success PODMAN 'a container, directory and remote whose row is gone' '
	(
		cd repo &&
		git sand new -d orphan &&
		git remote add sand/mine /somewhere &&
		sqlite3 "$GIT_SAND_HOME/sand.db" "DELETE FROM sandboxes WHERE name = '\''orphan'\''" &&
		git sand gc --dry-run >../dry &&
		podman ps -a -q --filter label=io.git-sand.name=orphan --filter "label=io.git-sand.home=$GIT_SAND_HOME" >../ctrs &&
		git config remote.sand/orphan.url &&
		git sand gc >../out &&
		git config remote.sand/mine.url &&
		git remote remove sand/mine
	) &&
	test_line_count = 1 ctrs &&
	test_grep "^Would remove container" dry &&
	test_grep "^Would remove directory" dry &&
	test_grep "^Would remove remote .sand/orphan." dry &&
	test_grep "^Removing container" out &&
	test_grep "^Removing directory" out &&
	test_grep "^Removing remote .sand/orphan." out &&
	! grep "sand/mine" out &&
	nothing_left
'

test_expect_success PODMAN 'a sandbox whose clone vanished is removed' '
	(
		cd repo &&
		git sand new -d vanish &&
		clone=$(git sand ls --porcelain | sed -n "s/^clone //p") &&
		rm -rf "$clone" &&
		git sand gc >../out
	) &&
	test_grep "its clone is gone" out &&
	nothing_left
'

test_expect_success PODMAN 'a mirror no sandbox reads is removed' '
	(cd repo && git sand new -d m && git sand rm -f m) &&
	ls "$GIT_SAND_HOME/mirrors" | grep "\.git$" >mirrors &&
	test_line_count = 1 mirrors &&
	(cd repo && git sand gc >../out) &&
	test_grep "^Removing mirror" out &&
	ls "$GIT_SAND_HOME/mirrors" >mirrors &&
	! grep "\.git$" mirrors
'

test_expect_success PODMAN 'gc keeps what is in use, and says so for a lost worktree' '
	(
		cd repo &&
		git worktree add -q ../wt &&
		cd ../wt &&
		git sand new -d kept
	) &&
	rm -rf wt &&
	(cd repo && git sand gc --all >../out && git sand ls --all --porcelain >../rows) &&
	test_grep "^Keeping sandbox .kept.: its worktree .* is gone" out &&
	test_grep "^sandbox kept$" rows &&
	! grep "^Removing" out
'

test_expect_success PODMAN 'gc outside a repository needs --all' '
	mkdir -p outside &&
	(cd outside && GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY test_expect_code 128 git sand gc 2>../err) &&
	test_grep "not a git repository" err
'

test_done

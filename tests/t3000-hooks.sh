#!/bin/sh
test_description='per-branch sandboxes from git hooks'
. ./test-lib.sh
test_require_podman --optional

# Wait (bounded) until ls shows sandbox $1 with status $2.
wait_for_status () {
	i=0
	while test $i -lt 300
	do
		if git sand ls --porcelain | awk -v n="$1" '$1 == "sandbox" { s = $2 } $1 == "status" && s == n { print $2 }' | grep -qx "$2"
		then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo >&4 "sandbox $1 never reached status $2"
	git sand ls >&4
	cat "$GIT_SAND_HOME/logs/hooks.log" >&4
	return 1
}

test_expect_success 'setup' '
	test_create_repo repo &&
	cat >user-hook <<-EOF &&
	#!/bin/sh
	echo "user hook: \$*" >>"$TRASH_DIRECTORY/user-hook.log"
	EOF
	cat >refusing-hook <<-\EOF &&
	#!/bin/sh
	cat >/dev/null
	test "$1" = prepared && exit 1
	exit 0
	EOF
	chmod +x user-hook refusing-hook
'

test_expect_success 'install puts the hooks into .git/hooks; twice is harmless' '
	(
		cd repo &&
		git sand hook install &&
		test -x .git/hooks/post-checkout &&
		test -x .git/hooks/reference-transaction &&
		cp .git/hooks/post-checkout ../first &&
		git sand hook install &&
		test_cmp ../first .git/hooks/post-checkout &&
		test_path_is_missing .git/hooks/post-checkout.sand-chained &&
		git sand hook status >../status
	) &&
	test_grep "^post-checkout: installed$" status &&
	test_grep "^sand.autoBranch: false" status
'

test_expect_success 'uninstall removes them' '
	(
		cd repo &&
		git sand hook uninstall &&
		test_path_is_missing .git/hooks/post-checkout &&
		test_path_is_missing .git/hooks/reference-transaction
	)
'

test_expect_success 'a user hook is chained: it still runs, with the same arguments' '
	(
		cd repo &&
		cp ../user-hook .git/hooks/post-checkout &&
		cp .git/hooks/post-checkout ../before &&
		git sand hook install &&
		test_path_is_file .git/hooks/post-checkout.sand-chained &&
		git checkout -q -b topic &&
		git checkout -q main
	) &&
	test_grep "^user hook: [0-9a-f]* [0-9a-f]* 1$" user-hook.log &&
	test_line_count = 2 user-hook.log
'

test_expect_success 'uninstall restores the user hook byte for byte' '
	(
		cd repo &&
		git sand hook uninstall &&
		test_cmp ../before .git/hooks/post-checkout &&
		test_path_is_missing .git/hooks/post-checkout.sand-chained &&
		rm .git/hooks/post-checkout
	)
'

test_expect_success 'a failing user reference-transaction hook still fails what it guards' '
	(
		cd repo &&
		cp ../refusing-hook .git/hooks/reference-transaction &&
		test_must_fail git branch refused &&
		git sand hook install &&
		test_must_fail git branch refused2 &&
		test_must_fail git rev-parse --verify refs/heads/refused2 &&
		git sand hook uninstall &&
		rm .git/hooks/reference-transaction
	)
'

test_expect_success 'install into core.hooksPath' '
	(
		cd repo &&
		git config core.hooksPath my-hooks &&
		git sand hook install &&
		test -x my-hooks/post-checkout &&
		test_path_is_missing .git/hooks/post-checkout &&
		git sand hook uninstall &&
		test_path_is_missing my-hooks/post-checkout &&
		git config --unset core.hooksPath
	)
'

test_expect_success 'hook install --global needs a global core.hooksPath' '
	(cd repo && test_expect_code 128 git sand hook install --global 2>../err) &&
	test_grep "no core.hooksPath in your global" err &&
	git config --global core.hooksPath "$TRASH_DIRECTORY/global-hooks" &&
	(cd repo && git sand hook install --global && git sand hook uninstall --global) &&
	git config --global --unset core.hooksPath &&
	test_path_is_missing global-hooks/post-checkout
'

test_expect_success 'setup per-branch sandboxes' '
	(
		cd repo &&
		git config sand.autoBranch true &&
		git sand hook install
	)
'

test_expect_success PODMAN 'a matching branch gets a sandbox in the background; others do not' '
	(
		cd repo &&
		git config sand.autoBranchPattern "agent/*" &&
		git switch -q -c other &&
		echo file >f.t && git add f.t && git commit -q -m f &&
		echo changed >f.t &&
		git checkout -- f.t &&
		git switch -q -c agent/x &&
		wait_for_status agent-x running &&
		git sand ls --porcelain >../rows &&
		git sand exec agent-x git symbolic-ref --short HEAD >../branch
	) &&
	echo agent/x >expect &&
	test_cmp expect branch &&
	! grep "^sandbox other$" rows &&
	grep "creating sandbox" "$GIT_SAND_HOME/logs/hooks.log" >created &&
	test_line_count = 1 created
'

test_expect_success PODMAN 'switching back to the branch starts its stopped sandbox' '
	(
		cd repo &&
		git sand stop agent-x &&
		git switch -q main &&
		git switch -q agent/x &&
		wait_for_status agent-x running
	)
'

test_expect_success PODMAN 'deleting the branch marks its sandbox orphaned' '
	(
		cd repo &&
		git switch -q main &&
		git branch -D agent/x &&
		git sand ls --porcelain >../rows &&
		git sand ls >../human &&
		git sand gc </dev/null >../gc
	) &&
	test_grep "^orphaned$" rows &&
	test_grep "^agent-x  *running, orphaned" human &&
	test_grep "^Keeping sandbox .agent-x.: its branch .agent/x. was deleted" gc
'

test_expect_success PODMAN 'hooks copied into a sandbox clone do nothing there' '
	(
		cd repo &&
		clone=$(git sand ls --porcelain | sed -n "s/^clone //p" | head -1) &&
		cp .git/hooks/post-checkout .git/hooks/reference-transaction "$clone/.git/hooks/" &&
		git -C "$clone" config sand.autoBranch true &&
		# Its objects are where its container mounts the mirror.
		GIT_ALTERNATE_OBJECT_DIRECTORIES=$(echo "$GIT_SAND_HOME"/mirrors/*.git)/objects &&
		export GIT_ALTERNATE_OBJECT_DIRECTORIES &&
		git -C "$clone" switch -q -c agent/inside &&
		sleep 1 &&
		git sand ls --all --porcelain >../rows
	) &&
	! grep "agent-inside" rows
'

test_expect_success 'a broken database or a missing git-sand never fails a checkout' '
	(
		cd repo &&
		git switch -q main &&
		mv "$GIT_SAND_HOME/sand.db" "$GIT_SAND_HOME/sand.db.saved" &&
		echo garbage >"$GIT_SAND_HOME/sand.db" &&
		git switch -q -c agent/broken &&
		git switch -q main &&
		git branch -D -q agent/broken &&
		git switch -q -c agent/broken2 &&
		git switch -q main &&
		rm -f "$GIT_SAND_HOME/sand.db" &&
		mv "$GIT_SAND_HOME/sand.db.saved" "$GIT_SAND_HOME/sand.db" &&
		cp ../user-hook .git/hooks/post-checkout.sand-chained &&
		: >../user-hook.log &&
		PATH=$(echo "$PATH" | tr ":" "\n" | grep -v "^$SRC_DIRECTORY\$" | paste -sd: -) &&
		git switch -q agent/broken2 &&
		rm .git/hooks/post-checkout.sand-chained &&
		git switch -q main
	) &&
	test_grep "^user hook: " user-hook.log
'

test_expect_success PODMAN 'cleanup' '
	(cd repo && git sand rm -f --all && git sand hook uninstall)
'

test_done

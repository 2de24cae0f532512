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

# Wait (bounded) until the hooks' log has $2 (default 1) lines matching $1.
wait_for_log () {
	i=0
	while test $i -lt 300
	do
		test "$(grep -c "$1" "$GIT_SAND_HOME/logs/hooks.log" 2>/dev/null)" -ge "${2:-1}" &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo >&4 "the hooks log never said ${2:-1} times: $1"
	cat "$GIT_SAND_HOME/logs/hooks.log" >&4
	return 1
}

# PATH without git-sand: as if it had been uninstalled.
path_without_git_sand () {
	echo "$PATH" | tr ":" "\n" | grep -v -e "^$SRC_DIRECTORY\$" -e "/wrap\$" | paste -sd: -
}

# Every git-sand the hooks start by name goes through this wrapper, which
# writes its arguments to sand-calls: how tests count processes.
PATH="$TRASH_DIRECTORY/wrap:$PATH"

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
	mkdir wrap &&
	cat >wrap/git-sand <<-EOF &&
	#!/bin/sh
	echo "\$*" >>"$TRASH_DIRECTORY/sand-calls"
	exec "$SRC_DIRECTORY/git-sand" "\$@"
	EOF
	chmod +x user-hook refusing-hook wrap/git-sand
'

test_expect_success 'install puts post-checkout into .git/hooks; twice is harmless' '
	(
		cd repo &&
		git sand hook install &&
		test -x .git/hooks/post-checkout &&
		test_path_is_missing .git/hooks/reference-transaction &&
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
		test_path_is_missing .git/hooks/post-checkout
	)
'

test_expect_success 'install and uninstall remove the reference-transaction hook of an earlier git-sand' '
	(
		cd repo &&
		printf "#!/bin/sh\n# git-sand hook: an earlier one\nexit 0\n" >.git/hooks/reference-transaction &&
		chmod +x .git/hooks/reference-transaction &&
		cp ../refusing-hook .git/hooks/reference-transaction.sand-chained &&
		git sand hook status >../status &&
		git sand hook install &&
		test_cmp ../refusing-hook .git/hooks/reference-transaction &&
		test_path_is_missing .git/hooks/reference-transaction.sand-chained &&
		cp .git/hooks/post-checkout .git/hooks/reference-transaction &&
		git sand hook uninstall &&
		test_path_is_missing .git/hooks/reference-transaction &&
		test_path_is_missing .git/hooks/post-checkout
	) &&
	test_grep "^reference-transaction: installed by an earlier git-sand" status
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

test_expect_success 'the exit status of the chained hook is the hook'\''s' '
	(
		cd repo &&
		printf "#!/bin/sh\nexit 3\n" >.git/hooks/post-checkout.sand-chained &&
		chmod +x .git/hooks/post-checkout.sand-chained &&
		test_must_fail git checkout -q topic &&
		PATH=$(path_without_git_sand) &&
		test_must_fail git checkout -q main &&
		cp ../before .git/hooks/post-checkout.sand-chained
	)
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

test_expect_success 'a user reference-transaction hook is left alone, and still guards' '
	(
		cd repo &&
		cp ../refusing-hook .git/hooks/reference-transaction &&
		git sand hook install &&
		test_cmp ../refusing-hook .git/hooks/reference-transaction &&
		test_must_fail git branch refused &&
		test_must_fail git rev-parse --verify refs/heads/refused &&
		git sand hook uninstall &&
		test_cmp ../refusing-hook .git/hooks/reference-transaction &&
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
		git sand hook install &&
		git switch -q -c other &&
		git commit -q --allow-empty -m other &&
		git switch -q main
	)
'

test_expect_success 'with sand.autoBranch off, nothing starts git-sand' '
	(
		cd repo &&
		: >../sand-calls &&
		git switch -q -c agent/off 2>../err &&
		git commit -q --allow-empty -m off &&
		git switch -q main &&
		git branch -q -D agent/off
	) &&
	test_line_count = 0 sand-calls &&
	test_line_count = 0 err
'

test_expect_success 'switching to a branch that exists, or committing, starts no git-sand' '
	(
		cd repo &&
		git config sand.autoBranch true &&
		: >../sand-calls &&
		git switch -q other 2>../err &&
		git commit -q --allow-empty -m on-other &&
		git checkout -q main 2>>../err &&
		git checkout -q other -- one.t &&
		git branch made-not-switched &&
		git branch -D -q made-not-switched
	) &&
	test_line_count = 0 sand-calls &&
	test_line_count = 0 err
'

test_expect_success 'the default branch gets no sandbox unless a pattern says so' '
	(
		cd repo &&
		git config init.defaultBranch trunk &&
		: >../sand-calls &&
		git switch -q -c trunk 2>../err &&
		git switch -q -c master 2>>../err &&
		git switch -q main &&
		git branch -q -D trunk master &&
		# A runtime that does not exist: the sandbox fails, quickly.
		git config sand.runtime no-such-runtime &&
		git config sand.autoBranchPattern "*" &&
		git switch -q -c trunk 2>../err-pattern &&
		wait_for_log "sandbox .trunk. failed" &&
		git switch -q main &&
		git branch -q -D trunk &&
		git config --unset sand.autoBranchPattern &&
		git config --unset sand.runtime
	) &&
	test_line_count = 0 err &&
	test_grep "^git-sand: starting sandbox .trunk. in the background" err-pattern &&
	echo "hook sandbox trunk" >expect &&
	test_cmp expect sand-calls
'

test_expect_success 'a new branch says which sandbox starts, and the log is timed throughout' '
	(
		cd repo &&
		# A runtime that does not exist: the sandbox fails, quickly.
		git config sand.runtime no-such-runtime &&
		: >../sand-calls &&
		git switch -q -c "Agent/Fix_#1.Z" 2>../err &&
		wait_for_log "sandbox .agent-fix_-1-z. failed" &&
		git switch -q main &&
		git branch -q -D "Agent/Fix_#1.Z" &&
		git config --unset sand.runtime
	) &&
	echo "git-sand: starting sandbox '\''agent-fix_-1-z'\'' in the background; '\''git sand ls'\'' shows it" >expect &&
	test_cmp expect err &&
	echo "hook sandbox Agent/Fix_#1.Z" >expect &&
	test_cmp expect sand-calls &&
	test_grep ": creating sandbox .agent-fix_-1-z. for branch .Agent/Fix_#1.Z.$" "$GIT_SAND_HOME/logs/hooks.log" &&
	test_grep "unknown runtime .no-such-runtime." "$GIT_SAND_HOME/logs/hooks.log" &&
	! grep -v "^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] " \
		"$GIT_SAND_HOME/logs/hooks.log"
'

test_expect_success 'a hook of an earlier git-sand still works, through git sand hook run' '
	(
		cd repo &&
		git config sand.runtime no-such-runtime &&
		cp .git/hooks/post-checkout ../current-hook &&
		printf "#!/bin/sh\n# git-sand hook: an earlier one\nexec git sand hook run post-checkout \"\$@\"\n" \
			>.git/hooks/post-checkout &&
		git switch -q -c legacy 2>../err &&
		wait_for_log "sandbox .legacy. failed" &&
		git switch -q main 2>>../err &&
		git branch -q -D legacy &&
		cp ../current-hook .git/hooks/post-checkout &&
		git config --unset sand.runtime
	) &&
	echo "git-sand: starting sandbox '\''legacy'\'' in the background; '\''git sand ls'\'' shows it" >expect &&
	test_cmp expect err
'

test_expect_success 'setup a sandbox-like remote with many branches' '
	git init -q sandlike &&
	(
		cd sandlike &&
		test_commit evil &&
		for i in $(seq 1 300)
		do
			echo "create refs/heads/agent/b$i HEAD" || return 1
		done >refs &&
		echo "create refs/heads/agent/evil HEAD" >>refs &&
		git update-ref --stdin <refs
	) &&
	(cd repo && git remote add sand/evil ../sandlike)
'

test_expect_success 'a fetch of many branches from a sandbox starts no git-sand' '
	(
		cd repo &&
		git config sand.autoBranchPattern "agent/*" &&
		: >../sand-calls &&
		git fetch -q sand/evil 2>../err &&
		git for-each-ref refs/remotes/sand/evil >../fetched &&
		git sand ls --porcelain >../rows
	) &&
	test_line_count = 302 fetched &&
	test_line_count = 1 sand-calls &&
	test_grep "^ls --porcelain$" sand-calls &&
	test_line_count = 0 err &&
	test_line_count = 0 rows
'

test_expect_success 'a branch named by a sandbox, checked out, gets no sandbox' '
	(
		cd repo &&
		: >../sand-calls &&
		git switch -q agent/evil 2>../err &&
		git switch -q -c agent/evil2 --no-track sand/evil/agent/b1 2>>../err &&
		git switch -q main &&
		git sand hook sandbox agent/evil &&
		git sand ls --porcelain >../rows &&
		git branch -q -D agent/evil agent/evil2
	) &&
	test_line_count = 0 err &&
	test_line_count = 0 rows &&
	test_grep "no sandbox for branch .agent/evil.: it was made from a sandbox" \
		"$GIT_SAND_HOME/logs/hooks.log" &&
	test_line_count = 2 sand-calls
'

test_expect_success PODMAN 'a matching branch gets a sandbox in the background; others do not' '
	(
		cd repo &&
		git switch -q -c plain &&
		echo file >f.t && git add f.t && git commit -q -m f &&
		echo changed >f.t &&
		git checkout -- f.t &&
		git switch -q -c agent/x 2>../err &&
		wait_for_status agent-x running &&
		git sand ls --porcelain >../rows &&
		git sand exec agent-x git symbolic-ref --short HEAD >../branch
	) &&
	echo agent/x >expect &&
	test_cmp expect branch &&
	test_grep "^git-sand: starting sandbox .agent-x. in the background" err &&
	! grep "^sandbox plain$" rows &&
	grep "creating sandbox .agent-x." "$GIT_SAND_HOME/logs/hooks.log" >created &&
	test_line_count = 1 created
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

test_expect_success PODMAN 'a branch made again under that name gets nothing new' '
	(
		cd repo &&
		git switch -q -c agent/x 2>../err &&
		wait_for_log "sandbox .agent-x. is running" 2 &&
		git switch -q main &&
		git sand ls --porcelain >../rows
	) &&
	grep "^sandbox " rows >names &&
	test_line_count = 1 names
'

test_expect_success PODMAN 'hooks copied into a sandbox clone do nothing there' '
	(
		cd repo &&
		clone=$(git sand ls --porcelain | sed -n "s/^clone //p" | head -1) &&
		cp .git/hooks/post-checkout "$clone/.git/hooks/" &&
		git -C "$clone" config sand.autoBranch true &&
		# Its objects are where its container mounts the mirror.
		GIT_ALTERNATE_OBJECT_DIRECTORIES=$(echo "$GIT_SAND_HOME"/mirrors/*.git)/objects &&
		export GIT_ALTERNATE_OBJECT_DIRECTORIES &&
		: >../sand-calls &&
		git -C "$clone" switch -q -c agent/inside &&
		git -C "$clone" switch -q -c agent/inside2 &&
		git sand ls --all --porcelain >../rows
	) &&
	! grep "agent-inside" rows &&
	test_line_count = 1 sand-calls
'

test_expect_success 'a broken database or a missing git-sand never fails a checkout' '
	(
		cd repo &&
		git switch -q main &&
		mv "$GIT_SAND_HOME/sand.db" "$GIT_SAND_HOME/sand.db.saved" &&
		echo garbage >"$GIT_SAND_HOME/sand.db" &&
		git switch -q -c agent/broken &&
		git sand hook sandbox agent/broken &&
		# the hook'\''s git-sand, in the background, and ours
		wait_for_log "cannot read the database" 2 &&
		rm -f "$GIT_SAND_HOME/sand.db" &&
		mv "$GIT_SAND_HOME/sand.db.saved" "$GIT_SAND_HOME/sand.db" &&
		git switch -q main &&
		git branch -D -q agent/broken &&
		cp ../user-hook .git/hooks/post-checkout.sand-chained &&
		: >../user-hook.log &&
		PATH=$(path_without_git_sand) &&
		git switch -q -c agent/broken2 &&
		git switch -q main &&
		rm .git/hooks/post-checkout.sand-chained &&
		git branch -D -q agent/broken2
	) &&
	test_grep "^user hook: " user-hook.log &&
	test_line_count = 2 user-hook.log
'

test_expect_success PODMAN 'cleanup' '
	(cd repo && git sand rm -f --all && git sand hook uninstall)
'

test_done

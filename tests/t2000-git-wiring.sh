#!/bin/sh
test_description='fetch, status, diff, log, sync and sync-host bring sandbox work back'
. ./test-lib.sh
test_require_podman

# Where status can go straight to the OCI runtime (see t1010).
if test "$TEST_RUNTIME" = podman && test "$(id -u)" = 0 &&
	podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.Security.Rootless}}' 2>/dev/null |
	grep -Eq '^(runc|crun) false$'
then
	test_set_prereq DIRECT
fi

# A checksum of every file in a directory tree: content, mode and mtime.
tree_sum () {
	(cd "$1" && find . -printf '%p %m %T@ %s %l\n' | sort &&
	 find . -type f -exec sha1sum {} + | sort)
}

test_expect_success PODMAN 'setup' '
	test_create_repo repo &&
	(
		cd repo &&
		git sand new -d alpha &&
		in_sandbox alpha "git config user.name Agent && git config user.email agent@example.com"
	)
'

test_expect_success PODMAN 'fetch brings a sandbox commit to refs/remotes/sand/<name>/<branch>' '
	(
		cd repo &&
		in_sandbox alpha "echo three >three.t && git add three.t && git commit -q -m three" &&
		in_sandbox alpha "git rev-parse HEAD" >../expect &&
		git sand fetch alpha 2>../err &&
		git rev-parse refs/remotes/sand/alpha/main >../actual &&
		git cat-file -e "$(cat ../actual)^{tree}"
	) &&
	test_cmp expect actual &&
	test_grep "^From .*/app$" err &&
	test_grep "^ \* \[new branch\] *main *-> sand/alpha/main$" err
'

test_expect_success PODMAN 'a second fetch with nothing new prints nothing and succeeds' '
	(cd repo && git sand fetch alpha 2>../err) &&
	test_line_count = 0 err
'

test_expect_success PODMAN 'fetch reports a fast-forward as git fetch does' '
	(
		cd repo &&
		in_sandbox alpha "echo four >four.t && git add four.t && git commit -q -m four" &&
		git sand fetch alpha 2>../err
	) &&
	test_grep "^   [0-9a-f]*\.\.[0-9a-f]* *main *-> sand/alpha/main$" err
'

test_expect_success PODMAN 'sand/<name>/HEAD follows the sandbox branch' '
	(
		cd repo &&
		git symbolic-ref refs/remotes/sand/alpha/HEAD >../actual
	) &&
	echo refs/remotes/sand/alpha/main >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'a detached HEAD is fetched as sand/<name>/HEAD' '
	(
		cd repo &&
		in_sandbox alpha "git checkout -q --detach && git commit -q --allow-empty -m detached" &&
		in_sandbox alpha "git rev-parse HEAD" >../expect &&
		git sand fetch alpha &&
		git rev-parse refs/remotes/sand/alpha/HEAD >../actual &&
		in_sandbox alpha "git checkout -q main"
	) &&
	test_cmp expect actual
'

test_expect_success PODMAN 'fetch --prune removes refs of deleted branches' '
	(
		cd repo &&
		in_sandbox alpha "git branch topic" &&
		git sand fetch alpha &&
		git rev-parse --verify refs/remotes/sand/alpha/topic &&
		in_sandbox alpha "git branch -D topic" &&
		git sand fetch alpha &&
		git rev-parse --verify refs/remotes/sand/alpha/topic &&
		git sand fetch --prune alpha 2>../err &&
		test_must_fail git rev-parse --verify refs/remotes/sand/alpha/topic
	) &&
	test_grep "^ - \[deleted\] *(none) *-> sand/alpha/topic$" err
'

test_expect_success PODMAN 'plain git fetch and git pull of sand/<name> work' '
	(
		cd repo &&
		in_sandbox alpha "git commit -q --allow-empty -m plain" &&
		git fetch -q sand/alpha &&
		in_sandbox alpha "git rev-parse HEAD" >../expect &&
		git rev-parse sand/alpha/main >../actual
	) &&
	test_cmp expect actual
'

test_expect_success PODMAN 'log shows the sandbox commits the host branch lacks' '
	(cd repo && git sand log alpha --format=%s >../actual) &&
	printf "plain\nfour\nthree\n" >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'status shows the sandbox worktree as git status does' '
	(
		cd repo &&
		in_sandbox alpha "echo changed >>one.t && echo new >untracked.t" &&
		git sand status --porcelain alpha >../actual
	) &&
	printf " M one.t\n?? untracked.t\n" >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN,DIRECT 'status goes straight to the runtime and prints what the CLI way prints' '
	. "$TEST_DIRECTORY/lib-fake-podman.sh" &&
	make_fake_podman exec fail &&
	(
		cd repo &&
		git -c sand.exec=cli sand status alpha >../cli &&
		git -c sand.exec=cli sand status --porcelain alpha >../cli-porcelain &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" &&
		git sand status alpha >../direct &&
		git sand status --porcelain alpha >../direct-porcelain &&
		test_must_fail git -c sand.exec=cli sand status alpha 2>../err
	) &&
	test_grep "exec exploded" err &&
	test_grep "untracked.t" cli &&
	test_cmp cli direct &&
	test_cmp cli-porcelain direct-porcelain
'

test_expect_success PODMAN 'diff compares the host branch with the sandbox branch' '
	(cd repo && git sand diff --stat alpha >../actual) &&
	test_grep "three.t *| 1 +" actual &&
	test_grep "four.t *| 1 +" actual &&
	! grep untracked.t actual &&
	(cd repo && git sand diff alpha -- three.t >../patch) &&
	test_grep "^+three$" patch &&
	! grep four.t patch
'

test_expect_success PODMAN 'diff -u adds uncommitted and untracked work, and leaves the clone as it was' '
	clone=$(cd repo && sandbox_field alpha clone) &&
	tree_sum "$clone" >before &&
	(cd repo && git sand diff -u alpha >../patch) &&
	tree_sum "$clone" >after &&
	test_cmp before after &&
	test_grep "^+changed$" patch &&
	test_grep "^+new$" patch &&
	test_grep "^+three$" patch
'

test_expect_success PODMAN 'status and diff -u leave a stopped sandbox stopped, a running one running' '
	(
		cd repo &&
		git sand stop alpha &&
		git sand status --porcelain alpha >../actual &&
		sandbox_field alpha status >../states &&
		git sand diff -u alpha >../patch &&
		sandbox_field alpha status >>../states &&
		git sand start alpha &&
		git sand status alpha >/dev/null &&
		git sand diff -u alpha >/dev/null &&
		sandbox_field alpha status >>../states
	) &&
	printf " M one.t\n?? untracked.t\n" >expect &&
	test_cmp expect actual &&
	test_grep "^+changed$" patch &&
	printf "stopped\nstopped\nrunning\n" >expect &&
	test_cmp expect states
'

test_expect_success PODMAN 'an interrupted status still stops the sandbox it started' '
	. "$TEST_DIRECTORY/lib-fake-podman.sh" &&
	(cd repo && git sand stop alpha) &&
	pid=$(
		GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=sand.exec GIT_CONFIG_VALUE_0=cli &&
		export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0 &&
		start_hung exec hang status alpha
	) &&
	kill -TERM $pid &&
	test "$(wait_new_status)" = 143 &&
	(cd repo && sandbox_field alpha status) >states &&
	echo stopped >expect &&
	test_cmp expect states
'

# Straight to the runtime, there is no podman exec to hang: the sandbox's
# own git hangs instead, on an fsmonitor hook that never answers.
test_expect_success PODMAN 'an interrupted status straight to the runtime stops it too' '
	clone=$(cd repo && sandbox_field alpha clone) &&
	test_when_finished "git -C \"$clone\" config --unset core.fsmonitor; rm -f \"$clone/.git/hang-reached\"" &&
	cat >hang-hook <<-\EOF &&
	#!/bin/sh
	echo $$ >/app/.git/hang-reached
	exec sleep 30
	EOF
	(
		cd repo &&
		in_sandbox alpha "cat >.git/hang-hook && chmod +x .git/hang-hook &&
			git config core.fsmonitor /app/.git/hang-hook" <../hang-hook &&
		git sand stop alpha
	) &&
	rm -f new-pid new-status "$clone/.git/hang-reached" &&
	(
		cd repo || exit 1
		setsid git-sand status alpha >../hung-out 2>../err &
		echo $! >../new-pid
		wait $!
		echo $? >../new-status
	) >/dev/null 2>&1 &
	i=0 &&
	while ! test -f "$clone/.git/hang-reached" && test $i -lt 400
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	test -f "$clone/.git/hang-reached" &&
	kill -TERM $(cat new-pid) &&
	test "$(wait_new_status)" = 143 &&
	(cd repo && sandbox_field alpha status) >states &&
	echo stopped >expect &&
	test_cmp expect states
'

test_expect_success PODMAN 'diff -u and log go through the pager on a terminal' '
	cat >pager <<-EOF &&
	#!/bin/sh
	cat >>"$TRASH_DIRECTORY/paged"
	EOF
	chmod +x pager &&
	(
		cd repo &&
		GIT_PAGER="$TRASH_DIRECTORY/pager" &&
		export GIT_PAGER &&
		script -qec "git sand diff -u alpha" /dev/null >/dev/null &&
		script -qec "git sand log alpha --format=%s" /dev/null >/dev/null
	) &&
	esc=$(printf "\033") &&
	sed "s/$esc\[[0-9;]*m//g" paged >plain &&
	test_grep "^+new$" plain &&
	test_grep "^three$" plain &&
	test_grep "$esc\[32m" paged
'

test_expect_success PODMAN 'sync fast-forwards the checked-out host branch' '
	(
		cd repo &&
		git sand sync alpha &&
		git rev-parse HEAD >../actual &&
		git rev-parse sand/alpha/main >../expect &&
		git status --porcelain >../status
	) &&
	test_cmp expect actual &&
	test_line_count = 0 status
'

test_expect_success PODMAN 'sync merges diverged work and keeps the host commit' '
	(
		cd repo &&
		test_commit host-side &&
		in_sandbox alpha "echo more >more.t && git add more.t && git commit -q -m more" &&
		git sand sync alpha &&
		git rev-parse HEAD^1 >../parent1 &&
		git log -1 --format=%s HEAD^2 >../parent2 &&
		test_path_is_file more.t &&
		test_path_is_file host-side.t
	) &&
	echo more >expect &&
	test_cmp expect parent2
'

test_expect_success PODMAN 'sync refuses to overwrite uncommitted host changes' '
	(
		cd repo &&
		in_sandbox alpha "echo sandbox >conflict.t && git add conflict.t && git commit -q -m conflict" &&
		echo "my precious work" >conflict.t &&
		test_must_fail git sand sync alpha &&
		echo "my precious work" >../expect &&
		cp conflict.t ../actual &&
		rm conflict.t
	) &&
	test_cmp expect actual
'

test_expect_success PODMAN 'sync into a branch that is not checked out only fast-forwards' '
	(
		cd repo &&
		git branch other sand/alpha/main~1 &&
		git sand sync alpha other &&
		git rev-parse other >../actual &&
		git rev-parse sand/alpha/main >../expect
	) &&
	test_cmp expect actual
'

test_expect_success PODMAN 'sync creates a missing host branch tracking the sandbox' '
	(
		cd repo &&
		in_sandbox alpha "git checkout -q -b feature && git commit -q --allow-empty -m feature" &&
		git sand sync alpha feature &&
		git rev-parse feature >../actual &&
		git rev-parse sand/alpha/feature >../expect &&
		git config branch.feature.remote >../tracking &&
		git config branch.feature.merge >>../tracking &&
		in_sandbox alpha "git checkout -q main"
	) &&
	test_cmp expect actual &&
	printf "sand/alpha\nrefs/heads/feature\n" >expect &&
	test_cmp expect tracking
'

test_expect_success PODMAN 'a host commit reaches the sandbox through sync-host and git pull' '
	(
		cd repo &&
		git sand new -d gamma &&
		test_commit for-the-sandbox &&
		test_must_fail git sand exec gamma cat for-the-sandbox.t &&
		git sand sync-host gamma &&
		in_sandbox gamma "git pull -q --ff-only" &&
		in_sandbox gamma "cat for-the-sandbox.t" >../actual &&
		git sand rm -f gamma
	) &&
	echo for-the-sandbox >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'the sandbox git neither advises a push nor hides a stale origin' '
	(
		cd repo &&
		git sand new -d epsilon &&
		in_sandbox epsilon "echo e >e.t && git add e.t &&
			git -c user.name=S -c user.email=s@example.com commit -qm e &&
			git status" >../status &&
		in_sandbox epsilon "git pull --no-rebase" >../pull 2>&1 &&
		git sand rm -f epsilon
	) &&
	test_grep "^Your branch is ahead of .origin/main. by 1 commit\.$" status &&
	! grep "git push" status &&
	test_grep "^Already up to date\.$" pull &&
	test_grep "^hint: origin is a read-only copy of the host repository" pull &&
	test_grep "^hint: host by .git sand sync-host epsilon." pull
'

test_expect_success PODMAN 'start refreshes the mirror too' '
	(
		cd repo &&
		git sand new -d delta &&
		git sand stop delta &&
		test_commit while-stopped &&
		git sand start delta &&
		in_sandbox delta "git pull -q --ff-only && cat while-stopped.t" >../actual &&
		git sand rm -f delta
	) &&
	echo while-stopped >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'fetch --all fetches every sandbox of the worktree' '
	(
		cd repo &&
		git sand new -d beta &&
		in_sandbox beta "git -c user.name=a -c user.email=b commit -q --allow-empty -m beta" &&
		git sand fetch --all 2>../err &&
		git rev-parse --verify refs/remotes/sand/beta/main
	) &&
	test_grep "sand/beta/main" err
'

test_expect_success PODMAN 'rm removes the remote-tracking refs' '
	(
		cd repo &&
		git sand rm -f alpha beta &&
		git for-each-ref refs/remotes/sand >../refs
	) &&
	test_line_count = 0 refs
'

test_expect_success PODMAN 'a repository that borrows its objects (clone --shared): the sandbox has them all' '
	git clone -q --shared repo borrowed &&
	test_path_is_file borrowed/.git/objects/info/alternates &&
	(
		cd borrowed &&
		git sand new -d lend &&
		in_sandbox lend "git status --porcelain && git log --format=%s" >../log &&
		in_sandbox lend "echo lent >lent.t && git add lent.t &&
			git -c user.name=A -c user.email=a@example.com commit -q -m lent" &&
		git sand fetch lend &&
		git log -1 --format=%s sand/lend/main >../actual &&
		git sand rm -f lend
	) &&
	git -C borrowed log --format=%s >expect &&
	test_cmp expect log &&
	echo lent >expect &&
	test_cmp expect actual
'

test_done

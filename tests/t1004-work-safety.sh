#!/bin/sh
test_description='rm, new --rm, gc and interrupts never lose the work of a sandbox'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-fake-podman.sh"
test_require_podman
if command -v script >/dev/null 2>&1
then
	test_set_prereq SCRIPT
fi

commit_inside () {
	in_sandbox "$1" "echo $2 >$2 && git add $2 && git -c user.name=A -c user.email=a@b commit -q -m $2"
}

test_expect_success PODMAN 'setup: a worktree with changes of its own' '
	test_create_repo repo &&
	(
		cd repo &&
		echo base >tracked &&
		echo "*.o" >.gitignore &&
		git add tracked .gitignore &&
		git commit -q -m base &&
		echo "host change" >>tracked &&
		echo "host file" >host-untracked &&
		mkdir dir && ln -s ../tracked dir/link
	)
'

test_expect_success PODMAN 'a new sandbox holds no work: the changes it copied are the worktree'"'"'s' '
	(
		cd repo &&
		git sand new -d fresh &&
		in_sandbox fresh "echo built >x.o" &&
		git sand rm fresh >../out
	) &&
	test_grep "^Removed sandbox .fresh.$" out
'

test_expect_success PODMAN 'rm refuses a sandbox with commits the repository lacks, and says what' '
	(
		cd repo &&
		git sand new -d c1 &&
		commit_inside c1 one &&
		commit_inside c1 two &&
		test_expect_code 1 git sand rm c1 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "^error: sandbox .c1. holds work that is not in this repository" err &&
	test_grep "branch .main.: 2 commits not in this repository" err &&
	test_grep "^hint: .git sand sync c1." err &&
	test_grep "^hint: .git sand rm -f c1." err &&
	test_grep "^sandbox c1$" rows
'

test_expect_success PODMAN 'fetched commits are still work: their refs go with the sandbox' '
	(
		cd repo &&
		git sand fetch c1 &&
		test_expect_code 1 git sand rm c1 2>../err
	) &&
	test_grep "2 commits not in this repository" err
'

test_expect_success PODMAN 'once merged into a branch here, rm removes it' '
	(
		cd repo &&
		git branch kept-c1 sand/c1/main &&
		git sand rm c1 >../out &&
		git branch -D kept-c1
	) &&
	test_grep "^Removed sandbox .c1.$" out
'

# A file of the worktree deleted inside is no work if it was untracked
# (the worktree has it), and is if it was tracked (the deletion is).
test_expect_success PODMAN 'rm refuses uncommitted, staged and untracked changes, not ignored files' '
	(
		cd repo &&
		git sand new -d u1 &&
		in_sandbox u1 "echo new >untracked-inside && echo more >>tracked && echo junk >y.o" &&
		test_expect_code 1 git sand rm u1 2>../err &&
		git sand new -d u2 &&
		in_sandbox u2 "rm dir/link .gitignore && echo s >staged && git add staged" &&
		test_expect_code 1 git sand rm u2 2>../err2 &&
		git sand new -d u3 &&
		in_sandbox u3 "echo only-ignored >z.o" &&
		git sand rm u3
	) &&
	test_grep "2 uncommitted changes that your worktree does not have" err &&
	test_grep "2 uncommitted changes that your worktree does not have" err2
'

test_expect_success PODMAN 'a commit on a detached HEAD is work too' '
	(
		cd repo &&
		git sand new -d det &&
		in_sandbox det "git checkout -q --detach" &&
		commit_inside det lone &&
		test_expect_code 1 git sand rm det 2>../err
	) &&
	test_grep "a detached HEAD: 1 commit not in this repository" err
'

test_expect_success PODMAN 'rm -f keeps the work in the repository and prints where it was' '
	(
		cd repo &&
		commit_inside u1 committed-in-u1 &&
		git sand rm -f u1 >../out &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "^Removed sandbox .u1. (branch .main. was [0-9a-f]*, uncommitted changes were [0-9a-f]*)$" out &&
	! grep "^sandbox u1$" rows &&
	tip=$(sed -n "s/.*branch .main. was \([0-9a-f]*\).*/\1/p" out) &&
	wip=$(sed -n "s/.*uncommitted changes were \([0-9a-f]*\).*/\1/p" out) &&
	(
		cd repo &&
		git branch rescued "$tip" &&
		git show rescued:committed-in-u1 >../committed &&
		git show "$wip:untracked-inside" >../untracked &&
		git show "$wip:tracked" >../tracked &&
		! git cat-file -e "$wip:y.o" &&
		git branch -D rescued
	) &&
	echo committed-in-u1 >expect && test_cmp expect committed &&
	echo new >expect && test_cmp expect untracked &&
	printf "base\nhost change\nmore\n" >expect && test_cmp expect tracked
'

test_expect_success PODMAN 'rm --all removes what holds no work and keeps the rest' '
	(
		cd repo &&
		git sand new -d empty1 &&
		test_expect_code 1 git sand rm --all >../out 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "^Removed sandbox .empty1.$" out &&
	test_grep "sandbox .u2. holds work" err &&
	test_grep "sandbox .det. holds work" err &&
	test_grep "^sandbox u2$" rows &&
	test_grep "^sandbox det$" rows &&
	! grep "^sandbox empty1$" rows
'

test_expect_success PODMAN 'a stopped sandbox is started to be asked, its work counts, and it is stopped again' '
	(
		cd repo &&
		git sand stop det &&
		test_expect_code 1 git sand rm det 2>../err &&
		git sand ls --porcelain >../rows &&
		git sand rm -f det u2 >../out
	) &&
	sed -n "/^sandbox det$/,/^$/p" rows >det-row &&
	test_grep "^status stopped$" det-row &&
	test_grep "detached HEAD: 1 commit" err &&
	test_grep "^Removed sandbox .det. (detached HEAD was [0-9a-f]*)$" out
'

test_expect_success PODMAN 'new --rm removes a sandbox that holds no work' '
	(
		cd repo &&
		git sand new --rm -s /bin/true r1 </dev/null 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "it is removed when you leave it, unless it holds work" err &&
	test_grep "^Removed sandbox .r1.: it held no work" err &&
	! grep "git sand shell r1. returns" err &&
	test_line_count = 0 rows
'

test_expect_success PODMAN 'new --rm keeps a sandbox that holds work, and says how to get it' '
	(
		cd repo &&
		cat >make-work <<-\EOF &&
		#!/bin/sh
		cd /app && echo made >made-inside &&
		git add made-inside && git -c user.name=A -c user.email=a@b commit -q -m made
		EOF
		chmod +x make-work &&
		git sand new --rm -s /app/make-work r2 </dev/null 2>../err &&
		git sand ls --porcelain >../rows &&
		git sand rm -f r2 &&
		rm make-work
	) &&
	test_grep "^Kept sandbox .r2.: it holds work" err &&
	test_grep "branch .main.: 1 commit" err &&
	test_grep "^hint: .git sand sync r2." err &&
	test_grep "^sandbox r2$" rows
'

test_expect_success PODMAN,SCRIPT 'gc offers an orphaned sandbox, but keeps it while it holds work' '
	(
		cd repo &&
		git checkout -q -b topic &&
		git sand new -d orph &&
		commit_inside orph in-orph &&
		git checkout -q main &&
		sqlite3 "$GIT_SAND_HOME/sand.db" \
			"UPDATE sandboxes SET options = json_set(options, '\''$.orphaned'\'', json('\''true'\'')) WHERE name = '\''orph'\''" &&
		echo y | script -qec "git sand gc" /dev/null >../out &&
		git sand ls --porcelain >../rows &&
		git sand rm -f orph
	) &&
	test_grep "Keeping sandbox .orph. (its branch was deleted): it holds work" out &&
	test_grep "^sandbox orph$" rows
'

test_expect_success PODMAN 'SIGINT while rm asks the sandbox: nothing is removed' '
	(cd repo && git sand new -d ask1) &&
	pid=$(start_hung exec hang rm ask1) &&
	kill -INT -$pid &&
	test "$(wait_new_status)" = 130 &&
	(cd repo && git sand ls --porcelain >../rows) &&
	test_grep "^sandbox ask1$" rows &&
	test_grep "^status running$" rows &&
	(cd repo && git sand rm ask1)
'

test_expect_success PODMAN 'SIGTERM and SIGHUP while rm removes: the removal finishes' '
	(cd repo && git sand new -d gone1) &&
	pid=$(start_hung rm slow rm gone1) &&
	kill -TERM -$pid &&
	kill -HUP -$pid &&
	test "$(wait_new_status)" = 143 &&
	test_grep "^Removed sandbox .gone1.$" hung-out &&
	nothing_left
'

test_expect_success PODMAN 'a killed rm leaves a broken sandbox that rm finishes' '
	(cd repo && git sand new -d half) &&
	pid=$(start_hung rm hang rm half) &&
	kill -KILL $pid &&
	kill -KILL $(cat fake-reached) &&
	(cd repo && git sand ls --porcelain >../rows 2>../err) &&
	test_grep "^status broken$" rows &&
	(cd repo && git sand rm half >../out) &&
	test_grep "^Removed sandbox .half.$" out &&
	nothing_left
'

test_expect_success PODMAN 'rm of a half-made sandbox removes a container whose id was never recorded' '
	pid=$(start_hung create done-then-hang new -d noid) &&
	kill -KILL $pid &&
	kill -KILL $(cat fake-reached) &&
	podman ps -a -q --filter label=io.git-sand.name=noid --filter "label=io.git-sand.home=$GIT_SAND_HOME" >ctrs &&
	test_line_count = 1 ctrs &&
	(cd repo && git sand rm noid) &&
	nothing_left
'

test_expect_success PODMAN 'a start killed before it recorded a new container: the next start repairs it' '
	(cd repo && git sand new -d re1 && podman rm -f "$(git sand ls --porcelain | sed -n "s/^container //p")") &&
	pid=$(start_hung create done-then-hang start re1) &&
	kill -KILL $pid &&
	kill -KILL $(cat fake-reached) &&
	(cd repo && git sand start re1 && git sand exec re1 -- true && git sand rm re1) &&
	nothing_left
'

test_expect_success PODMAN 'a ^C at many moments of new (git passes it on: it comes twice) leaves nothing' '
	(
		cd repo &&
		i=0 &&
		while test $i -lt 3000
		do
			echo $i >big-$i && i=$((i + 1)) || return 1
		done
	) &&
	for delay in 0 0.1 0.2 0.3 0.45 0.6 0.8 1.0
	do
		(cd repo && exec setsid git sand new -d irq >/dev/null 2>&1) &
		pid=$! &&
		sleep $delay &&
		{ kill -INT -$pid 2>/dev/null || :; } &&
		i=0 &&
		while kill -0 $pid 2>/dev/null && test $i -lt 1200; do sleep 0.05; i=$((i + 1)); done &&
		! kill -0 $pid 2>/dev/null &&
		(cd repo && git sand ls --porcelain >../rows) &&
		if grep "^sandbox irq$" rows
		then
			# It finished before the ^C: a whole sandbox, which goes.
			test_grep "^status running$" rows &&
			(cd repo && git sand rm irq >/dev/null)
		fi &&
		nothing_left || return 1
	done
'

test_done

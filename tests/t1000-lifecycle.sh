#!/bin/sh
test_description='new, exec, ls, stop, start and rm against real podman'
. ./test-lib.sh
test_require_podman

test_expect_success PODMAN 'setup: a worktree with every kind of change' '
	test_create_repo repo &&
	(
		cd repo &&
		printf "build/\n*.o\n" >.gitignore &&
		git add .gitignore && git commit -q -m ignore &&
		echo modified >>one.t &&
		echo staged >two.t && git add two.t &&
		echo untracked >new.t &&
		mkdir -p build && echo ignored >build/out.o &&
		echo exe >run.sh && chmod +x run.sh &&
		ln -s one.t link &&
		# Old mtimes, so no entry is racily clean: then a status that
		# trusts the copied stat data has nothing to refresh.
		for i in $(seq 1 100); do echo $i >file$i.c || return 1; done &&
		git add file*.c &&
		find . -path ./.git -prune -o -exec touch -h -d "2020-01-01 00:00:00" {} + &&
		git status >/dev/null &&
		git diff --cached >../host-cached &&
		git status --porcelain >../host-status
	)
'

test_expect_success PODMAN 'new --detach creates, starts and names the sandbox' '
	(cd repo && git sand new -d alpha >../out) &&
	echo alpha >expect &&
	test_cmp expect out &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test_grep "^status running$" ls
'

test_expect_success PODMAN 'the sandbox has the staged, unstaged, untracked and ignored files' '
	(
		cd repo &&
		git sand exec alpha cat one.t two.t new.t build/out.o >../contents &&
		git sand exec alpha git status --porcelain >../sandbox-status &&
		git sand exec alpha git diff --cached >../sandbox-cached &&
		git sand exec alpha sh -c "test -x run.sh && test -L link && test \$(readlink link) = one.t"
	) &&
	printf "one\nmodified\nstaged\nuntracked\nignored\n" >expect &&
	test_cmp expect contents &&
	test_cmp host-status sandbox-status &&
	test_cmp host-cached sandbox-cached
'

test_expect_success PODMAN 'a fifo or socket in the worktree is skipped with a warning' '
	(
		cd repo &&
		mkfifo pipe &&
		test_when_finished "rm -f pipe" &&
		git sand new -d fifo 2>../err &&
		test_must_fail git sand exec fifo test -e pipe &&
		git sand rm -f fifo
	) &&
	# An overlay workspace carries what git sees, and git sees no FIFO.
	if test -d state/bases
	then
		! grep pipe err
	else
		test_grep "^warning: skipping .pipe.: not a file, directory or symbolic link" err
	fi
'

test_expect_success PODMAN 'the clone borrows objects and has the host branches' '
	(
		cd repo &&
		clone=$(sandbox_field alpha clone) &&
		test_path_is_file "$clone/.git/objects/info/alternates" &&
		git rev-parse HEAD >../expect &&
		git -C "$clone" rev-parse HEAD >../actual &&
		git sand exec alpha git rev-parse origin/main >>../actual &&
		git rev-parse HEAD >>../expect
	) &&
	test_cmp expect actual
'

scan_count () {
	sed -n "s/.*refresh\/sum_scan:\([0-9]*\).*/\1/p" "$1"
}

test_expect_success PODMAN 'the first git status in a new sandbox re-reads no more than the host' '
	(
		cd repo &&
		GIT_OPTIONAL_LOCKS=0 GIT_TRACE2_PERF=$TRASH_DIRECTORY/host-perf git status >/dev/null &&
		git sand new -d fresh &&
		clone=$(sandbox_field fresh clone) &&
		! test -f "$clone/one.t" ||
		test "$(stat -c %Y one.t)" = "$(stat -c %Y "$clone/one.t")" &&
		git sand exec fresh sh -c "GIT_TRACE2_PERF=/tmp/perf git status >/dev/null && cat /tmp/perf" >../perf &&
		git sand rm -f fresh
	) &&
	test_grep "refresh/sum_lstat:[1-9]" perf &&
	test "$(scan_count perf)" -le "$(scan_count host-perf)"
'

test_expect_success PODMAN 'a file written in the sandbox is not in the host tree' '
	(
		cd repo &&
		git sand exec alpha sh -c "echo inside >inside.t" &&
		test_path_is_missing inside.t &&
		clone=$(sandbox_field alpha clone) &&
		# A copy holds it; an overlay workspace, its upper layer.
		test_path_is_file "$clone/inside.t" ||
		test_path_is_file "$(dirname "$clone")/upper/inside.t"
	)
'

test_expect_success PODMAN 'exec passes the exit status through' '
	(
		cd repo &&
		git sand exec alpha true &&
		test_expect_code 3 git sand exec alpha sh -c "exit 3" &&
		# docker exec says 126 for any command it cannot start, this one too.
		if test "$TEST_RUNTIME" = docker
		then
			test_expect_code 126 git sand exec alpha no-such-command
		else
			test_expect_code 127 git sand exec alpha no-such-command
		fi
	)
'

test_expect_success PODMAN 'exec passes stdin with -i' '
	(
		cd repo &&
		echo hello | git sand exec -i alpha cat >../out
	) &&
	echo hello >expect &&
	test_cmp expect out
'

test_expect_success PODMAN 'exec passes stdin that is not a terminal without -i, as ssh does' '
	(
		cd repo &&
		echo hello | git sand exec alpha cat >../out &&
		git sand exec alpha -- cat <../out >../out2
	) &&
	echo hello >expect &&
	test_cmp expect out &&
	test_cmp expect out2
'

test_expect_success PODMAN 'exec: stdin at its end or closed is an empty input, and harms nothing' '
	(
		cd repo &&
		git sand exec alpha wc -c </dev/null >../out &&
		git sand exec alpha wc -c <&- >>../out &&
		# podman exec --interactive on a closed stdin kills the container.
		git sand exec -i alpha wc -c <&- >>../out &&
		test "$(sandbox_field alpha status)" = running
	) &&
	printf "0\n0\n0\n" >expect &&
	test_cmp expect out
'

test_expect_success PODMAN 'exec ends with its command, not with the end of its input' '
	mkfifo stdin-held &&
	{ (cd repo && git sand exec alpha echo ran <../stdin-held >../out) & } &&
	pid=$! &&
	# A writer that stays: the input never ends.
	exec 7>stdin-held &&
	wait $pid &&
	exec 7>&- &&
	echo ran >expect &&
	test_cmp expect out
'

test_expect_success PODMAN 'exec accepts -- before the command' '
	(cd repo && git sand exec alpha -- sh -c "echo \$0" x >../out) &&
	echo x >expect &&
	test_cmp expect out
'

test_expect_success PODMAN 'the host repository gained the remote sand/alpha' '
	(
		cd repo &&
		git config remote.sand/alpha.url >../url &&
		git config remote.sand/alpha.fetch >../fetch
	) &&
	test_grep "/app$" url &&
	echo "+refs/heads/*:refs/remotes/sand/alpha/*" >expect &&
	test_cmp expect fetch
'

test_expect_success PODMAN 'a name already in use is refused with a hint' '
	(cd repo && test_expect_code 128 git sand new -d alpha 2>../err) &&
	test_grep "already exists" err &&
	test_grep "^hint: .*git sand shell alpha" err
'

test_expect_success PODMAN 'stop and start are idempotent' '
	(
		cd repo &&
		git sand stop alpha &&
		git sand stop alpha &&
		test "$(sandbox_field alpha status)" = stopped &&
		git sand start alpha &&
		git sand start alpha &&
		test "$(sandbox_field alpha status)" = running
	)
'

test_expect_success PODMAN 'exec starts a stopped sandbox' '
	(
		cd repo &&
		git sand stop alpha &&
		git sand exec alpha true &&
		test "$(sandbox_field alpha status)" = running
	)
'

test_expect_success PODMAN 'start recreates a missing container' '
	(
		cd repo &&
		"$TEST_RUNTIME" rm -f "$(sandbox_field alpha container)" &&
		test "$(sandbox_field alpha status)" = "missing" &&
		git sand start alpha &&
		test "$(sandbox_field alpha status)" = running &&
		git sand exec alpha cat inside.t
	)
'

test_expect_success PODMAN 'ls shows a missing clone' '
	(
		cd repo &&
		git sand new -d beta &&
		clone=$(sandbox_field beta clone) &&
		mv "$clone" "$clone.away" &&
		git sand ls >../ls &&
		mv "$clone.away" "$clone"
	) &&
	test_grep "^beta  *missing clone" ls
'

test_expect_success PODMAN 'new without a name picks a readable one' '
	(cd repo && git sand new -d >../name) &&
	test_grep -E "^[a-z]+-[a-z]+$" name &&
	(cd repo && git sand rm -f "$(cat ../name)")
'

test_expect_success PODMAN 'ls --json and --porcelain describe the same sandboxes' '
	(
		cd repo &&
		git sand ls --json >../json &&
		git sand ls --porcelain >../porcelain
	) &&
	test_grep "\"name\":	\"alpha\"" json &&
	test_grep "^sandbox beta$" porcelain
'

test_expect_success PODMAN 'ls --all groups by worktree, and works from anywhere' '
	git sand ls --all >out &&
	test_grep "^$TRASH_DIRECTORY/repo:$" out &&
	test_grep "^alpha " out
'

test_expect_success PODMAN 'rm leaves no container, directory, remote or row' '
	(
		cd repo &&
		ctr=$(sandbox_field alpha container) &&
		dir=$(dirname "$(sandbox_field alpha clone)") &&
		git sand rm -f alpha beta &&
		! test_container_exists "$ctr" &&
		test_path_is_missing "$dir" &&
		test_must_fail git config remote.sand/alpha.url &&
		git sand ls --porcelain >../out
	) &&
	test_line_count = 0 out
'

test_expect_success PODMAN 'rm of an unknown name reports it and removes the rest' '
	(
		cd repo &&
		git sand new -d gamma &&
		test_expect_code 1 git sand rm -f nosuch gamma 2>../err &&
		git sand ls --porcelain >../out
	) &&
	test_grep "no sandbox named .nosuch." err &&
	test_line_count = 0 out
'

test_expect_success PODMAN 'rm without -f and without a terminal does not ask' '
	(
		cd repo &&
		git sand new -d delta &&
		git sand rm delta </dev/null
	)
'

test_expect_success PODMAN 'invalid names are rejected before anything is made' '
	(
		cd repo &&
		for n in ../x A a/b "" - x..y x.lock 0123456789012345678901234567890123456789012345678901234567890123
		do
			test_expect_code 128 git sand new -d "$n" 2>>../err || return 1
		done &&
		test_expect_code 129 git sand new -d -rf &&
		git sand ls --porcelain >../out
	) &&
	test_line_count = 0 out &&
	test_path_is_missing "$GIT_SAND_HOME/sandboxes/"* &&
	test_grep "invalid sandbox name" err
'

test_expect_success PODMAN 'a failing new (missing image) leaves nothing behind' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d -i localhost/no-such-image:1 eps 2>../err &&
		git sand ls --porcelain >../out &&
		test_must_fail git config remote.sand/eps.url
	) &&
	test_grep "image .localhost/no-such-image:1. is not available" err &&
	test_line_count = 0 out
'

test_expect_success PODMAN 'a failing new (runtime error) leaves nothing behind' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --memory=bogus zeta 2>../err &&
		git sand ls --porcelain >../out &&
		test_must_fail git config remote.sand/zeta.url
	) &&
	test_grep "$TEST_RUNTIME create failed" err &&
	test_line_count = 0 out &&
	ls "$GIT_SAND_HOME/sandboxes" >dirs &&
	test_line_count = 0 dirs &&
	"$TEST_RUNTIME" ps -a --filter label=io.git-sand.name=zeta --filter "label=io.git-sand.home=$GIT_SAND_HOME" -q >ctrs &&
	test_line_count = 0 ctrs
'

test_expect_success PODMAN 'a bad mount is refused before anything is made' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --mount relative:/x eta 2>../err &&
		test_expect_code 128 git sand new -d --mount /nonexistent:/x eta 2>>../err &&
		test_expect_code 128 git sand new -d --mount /tmp:/app eta 2>>../err &&
		test_expect_code 128 git sand new -d --mount /tmp:/x:rx eta 2>>../err &&
		git sand ls --porcelain >../out
	) &&
	test_line_count = 4 err &&
	test_line_count = 0 out
'

test_expect_success PODMAN 'a mount and an env file reach the container' '
	mkdir shared && echo data >shared/file &&
	echo "SECRET_VALUE=s3cr3t" >env.list &&
	(
		cd repo &&
		git sand new -d --mount "$TRASH_DIRECTORY/shared:/shared:ro" -e ../env.list theta &&
		git sand exec theta cat /shared/file >../out &&
		git sand exec theta sh -c "echo \$SECRET_VALUE" >>../out &&
		test_must_fail git sand exec theta sh -c "echo x >/shared/file" &&
		git sand rm -f theta
	) &&
	printf "data\ns3cr3t\n" >expect &&
	test_cmp expect out &&
	! grep -r s3cr3t "$GIT_SAND_HOME"
'

test_expect_success PODMAN 'a missing env file is refused' '
	(cd repo && test_expect_code 128 git sand new -d -e ../nope.env iota 2>../err) &&
	test_grep "env file" err
'

test_expect_success PODMAN 'new -b checks out a branch named after the sandbox' '
	(
		cd repo &&
		git sand new -d -b kappa &&
		git sand exec kappa git symbolic-ref HEAD >../out &&
		test_must_fail git rev-parse --verify refs/heads/kappa &&
		git branch kappa &&
		test_expect_code 128 git sand new -d -b kappa 2>../err &&
		git sand rm -f kappa
	) &&
	echo refs/heads/kappa >expect &&
	test_cmp expect out &&
	test_grep "already exists" err
'

test_expect_success PODMAN 'push from the sandbox to origin is refused' '
	(
		cd repo &&
		git sand new -d lambda &&
		git sand exec lambda git -c user.name=a -c user.email=a@b commit -q --allow-empty -m inside &&
		test_must_fail git sand exec lambda git push origin HEAD 2>../err &&
		git sand rm -f lambda
	) &&
	test_grep "pushing from a git-sand sandbox is disabled" err
'

test_expect_success PODMAN 'a linked worktree makes a working sandbox' '
	(
		cd repo &&
		git worktree add -q ../wt &&
		cd ../wt &&
		echo wt >wt.t &&
		git sand new -d mu &&
		git sand exec mu cat wt.t >../out &&
		git sand exec mu git status --porcelain >>../out &&
		git sand rm -f mu
	) &&
	printf "wt\n?? wt.t\n" >expect &&
	test_cmp expect out
'

test_expect_success PODMAN 'a repository with a submodule makes a working sandbox' '
	test_create_repo subproject &&
	test_create_repo super &&
	(
		cd super &&
		git -c protocol.file.allow=always submodule add -q ../subproject sub &&
		git commit -q -m "add sub" &&
		echo changed >sub/one.t &&
		git sand new -d withsub &&
		git sand exec withsub git submodule status >../sub-status &&
		git sand exec withsub git -C sub status --porcelain >../sub-porcelain &&
		git sand exec withsub git -C sub log --format=%s >../sub-log &&
		git sand rm -f withsub
	) &&
	test_grep "^ [0-9a-f]* sub " sub-status &&
	echo " M one.t" >expect &&
	test_cmp expect sub-porcelain &&
	printf "two\none\n" >expect &&
	test_cmp expect sub-log
'

test_expect_success PODMAN 'a repository with no commits yet, at a path with spaces, a newline and UTF-8' '
	dir=$(printf "%s/we ird/new\nline \303\251" "$TRASH_DIRECTORY") &&
	mkdir -p "$dir" &&
	(
		cd "$dir" &&
		git init -q &&
		echo first >f &&
		git sand new -d unborn &&
		git sand exec unborn cat f >"$TRASH_DIRECTORY/out" &&
		git sand exec unborn git status --porcelain >>"$TRASH_DIRECTORY/out" &&
		git add f && git commit -q -m first &&
		git sand new -d born &&
		git sand exec born git log --format=%s >>"$TRASH_DIRECTORY/out" &&
		git sand ls --porcelain -z >"$TRASH_DIRECTORY/z" &&
		git sand ls --all >"$TRASH_DIRECTORY/human" &&
		git sand rm -f unborn born &&
		git sand ls --porcelain >"$TRASH_DIRECTORY/rows"
	) &&
	printf "first\n?? f\nfirst\n" >expect &&
	test_cmp expect out &&
	test_line_count = 0 rows &&
	grep -qz "^worktree $dir\$" z &&
	test_grep -F "\"$TRASH_DIRECTORY/we ird/new\\nline \\303\\251\":" human
'

test_expect_success PODMAN 'a command without a name, where the worktree has no sandbox, says so' '
	test_create_repo solo &&
	(
		cd solo &&
		test_expect_code 128 git sand status 2>../err &&
		test_expect_code 128 git sand shell nosuch 2>../err2
	) &&
	test_grep "^error: this worktree has no sandboxes\$" err &&
	test_grep "^hint: make one with .git sand new.\$" err &&
	test_grep "^error: no sandbox named .nosuch. in this worktree\$" err2 &&
	test_grep "^hint: this worktree has no sandboxes; make one with .git sand new.\$" err2
'

test_expect_success PODMAN 'with one sandbox, shell, status, diff, log, fetch, agent and exec -- need no name' '
	(
		cd solo &&
		git sand new -d only &&
		git sand exec -- sh -c "echo inside >>one.t && git -c user.name=a -c user.email=b commit -qam inside && echo dirty >two.t" &&
		git sand exec -w / -- pwd >../exec-out &&
		git sand status --porcelain >../status-out &&
		git sand fetch 2>../fetch-err &&
		git rev-parse --verify -q sand/only/main &&
		git sand log --format=%s >../log-out &&
		git sand log >../log-plain &&
		git sand diff --stat >../diff-out &&
		git sand diff -u -- two.t >../diff-path &&
		echo "echo shell-in-\$PWD" | git sand shell >../shell-out &&
		test_expect_code 128 git sand agent 2>../agent-err &&
		test_expect_code 128 git sand exec echo hi 2>../exec-err
	) &&
	echo / >expect && test_cmp expect exec-out &&
	echo " M two.t" >expect && test_cmp expect status-out &&
	test_grep "sand/only/main" fetch-err &&
	echo inside >expect && test_cmp expect log-out &&
	test_grep "^    inside\$" log-plain &&
	test_grep "one.t | 1 +" diff-out &&
	test_grep "^+dirty" diff-path &&
	! grep one.t diff-path &&
	echo shell-in-/app >expect && test_cmp expect shell-out &&
	test_grep "sandbox .only. has no agent" agent-err &&
	# Without --, the first word is the name.
	test_grep "^error: no sandbox named .echo." exec-err &&
	test_grep "^hint:   only\$" exec-err
'

test_expect_success PODMAN 'with several sandboxes, a command without a name, or with one not there, lists them' '
	(
		cd solo &&
		git sand new -d second &&
		test_expect_code 128 git sand shell 2>../err &&
		test_expect_code 128 git sand exec -- true 2>>../err &&
		test_expect_code 128 git sand fetch 2>>../err &&
		test_expect_code 128 git sand log 2>>../err &&
		test_expect_code 128 git sand shell nosuch 2>../err2 &&
		test_expect_code 1 git sand stop nosuch second 2>../err3 &&
		git sand rm -f only second
	) &&
	test $(grep -c "^error: this worktree has 2 sandboxes: name one\$" err) = 4 &&
	test $(grep -c "^hint: the sandboxes of this worktree are:\$" err) = 4 &&
	test $(grep -c "^hint:   only\$" err) = 4 &&
	test $(grep -c "^hint:   second\$" err) = 4 &&
	cat >expect <<-\EOF &&
	error: no sandbox named '"'"'nosuch'"'"' in this worktree
	hint: the sandboxes of this worktree are:
	hint:   only
	hint:   second
	EOF
	test_cmp expect err2 &&
	test_cmp expect err3
'

if command -v script >/dev/null 2>&1
then
	test_set_prereq SCRIPT
fi

test_expect_success PODMAN,SCRIPT 'new opens an interactive shell on a terminal; --rm removes it after' '
	(
		cd repo &&
		printf "echo inside-\$(hostname)\nexit 7\n" >../typed &&
		script -qec "git sand new --rm -s sh tty1" /dev/null <../typed >../session;
		echo $? >../status &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "inside-tty1" session &&
	echo 7 >expect &&
	test_cmp expect status &&
	test_line_count = 0 rows
'

test_expect_success PODMAN,SCRIPT 'shell on a terminal: a tty inside, the exit status outside' '
	(
		cd repo &&
		git sand new -d tty2 &&
		printf "test -t 0 && echo has-a-tty\nexit 5\n" >../typed &&
		script -qec "git sand shell -s sh tty2" /dev/null <../typed >../session;
		echo $? >../status &&
		git sand rm -f tty2
	) &&
	test_grep "has-a-tty" session &&
	echo 5 >expect &&
	test_cmp expect status
'

test_expect_success PODMAN,SCRIPT 'rm on a terminal does not ask: a sandbox without work just goes' '
	(
		cd repo &&
		git sand new -d asked &&
		script -qec "git sand rm asked" /dev/null </dev/null >../out &&
		git sand ls --porcelain >../rows
	) &&
	! grep "\[y/N\]" out &&
	test_grep "Removed sandbox .asked." out &&
	! grep "^sandbox asked" rows
'

test_expect_success PODMAN,SCRIPT 'progress on stderr only when it is a terminal' '
	(
		cd repo &&
		script -qec "git sand new -d prog1" /dev/null >../tty-out &&
		git sand new -d prog2 2>../notty-err &&
		git sand rm -f prog1 prog2
	) &&
	test_grep "Copying files: [0-9]* (.* MiB), done\." tty-out &&
	! grep "Copying files" notty-err
'

# Rootless podman on cgroup v1 cannot limit resources: it says so, and
# so must we.
if test "$TEST_RUNTIME" = podman && test "$(id -u)" != 0 &&
	! test -e /sys/fs/cgroup/cgroup.controllers
then
	test_set_prereq NO_LIMITS
else
	test_set_prereq LIMITS
fi

test_expect_success PODMAN,NO_LIMITS 'where the runtime cannot limit resources, new says so' '
	(
		cd repo &&
		git -c sand.cpus=1 -c sand.memory=256m sand new -d limits 2>../err &&
		git sand rm -f limits
	) &&
	test_grep "^warning: podman create: Resource limits are not supported and ignored" err
'

test_expect_success PODMAN,LIMITS 'the configured cpus, memory and network reach the container' '
	(
		cd repo &&
		git config sand.cpus 1 &&
		git config sand.memory 256m &&
		git sand new -d limits &&
		ctr=$(git sand ls --porcelain | awk "\$1 == \"sandbox\" { s = \$2 } \$1 == \"container\" && s == \"limits\" { print \$2 }") &&
		"$TEST_RUNTIME" container inspect --format "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.NetworkMode}}" "$ctr" >../actual &&
		git sand rm -f limits &&
		git config --unset sand.cpus &&
		git config --unset sand.memory
	) &&
	echo "1000000000 268435456 none" >expect &&
	test_cmp expect actual
'

test_done

#!/bin/sh
test_description='docker: exec, status and ls ask the daemon itself, and give what the CLI gives'
. ./test-lib.sh

# Against docker only (tests/run-docker.sh, "make test-docker"): under
# podman there is no docker daemon of the tests' to ask.
if test "$TEST_RUNTIME" = docker
then
	test_require_podman
	test_set_prereq DOCKER
fi

# What a process can tell of how it was started (see t1010).
probe='grep -E "^(Umask|Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp[_a-z]*):" /proc/self/status
cat /proc/self/cgroup
cat /proc/self/oom_score_adj
ulimit -a
env | sort
pwd'

test_expect_success DOCKER 'setup: a sandbox' '
	test_create_repo repo &&
	(cd repo && git sand new -d api >/dev/null) &&
	ctr=$(cd repo && sandbox_field api container) &&
	test -n "$ctr" &&
	echo "$ctr" >ctr
'

test_expect_success DOCKER 'exec asks the daemon, not the docker CLI' '
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec api true
	) &&
	test_grep "docker api: POST /containers/$(cat ctr)/exec" trace &&
	test_grep "docker api: POST /exec/[0-9a-f]*/start" trace &&
	! grep "run: .docker." trace
'

test_expect_success DOCKER 'the process is the one docker exec makes' '
	(cd repo && git sand exec api sh -c "$probe" >../api </dev/null) &&
	docker exec -i --workdir /app "$(cat ctr)" sh -c "$probe" >cli </dev/null &&
	test_grep "^CapEff:" api &&
	test_grep "^/app$" api &&
	test_cmp cli api &&
	(cd repo && git sand exec -w /tmp api sh -c "$probe" >../api </dev/null) &&
	docker exec -i --workdir /tmp "$(cat ctr)" sh -c "$probe" >cli </dev/null &&
	test_grep "^/tmp$" api &&
	test_cmp cli api
'

test_expect_success DOCKER 'exit statuses are the CLI'"'"'s' '
	for cmd in "exit 3" "kill -TERM \$\$" "exec /nonexistent" "exec /etc/passwd"
	do
		(cd repo && git sand exec api sh -c "$cmd" 2>../api.err)
		api=$?
		(cd repo && git -c sand.exec=cli sand exec api sh -c "$cmd" 2>../cli.err)
		cli=$?
		echo "$cmd: $api $cli" &&
		test "$api" = "$cli" &&
		test_cmp cli.err api.err || return 1
	done &&
	(cd repo && git sand exec api no-such-program >../api.out 2>&1)
	api=$? &&
	(cd repo && git -c sand.exec=cli sand exec api no-such-program >../cli.out 2>&1)
	cli=$? &&
	test "$api" = "$cli" &&
	test "$api" -ge 126 &&
	test_cmp cli.out api.out
'

test_expect_success DOCKER 'stdin, stdout and stderr pass through, apart' '
	printf "in\n" >in &&
	(cd repo && git sand exec api sh -c "cat; echo out; echo err >&2" <../in >../out 2>../err) &&
	printf "in\nout\n" >expect &&
	test_cmp expect out &&
	echo err >expect &&
	test_cmp expect err
'

test_expect_success DOCKER 'a command that writes before it reads holds nothing up' '
	# 3 MB out before any of 2 MB in is read: neither side may wait on the other.
	head -c 2000000 /dev/zero >big-in &&
	(
		cd repo &&
		timeout 120 git sand exec api sh -c "head -c 3000000 /dev/zero; wc -c" <../big-in >../big-out
	) &&
	test "$(wc -c <big-out)" = 3000008 &&
	tail -c 8 big-out | tr -d "\0" >count &&
	echo 2000000 >expect &&
	test_cmp expect count
'

test_expect_success DOCKER 'a reader that goes away stops the command'"'"'s output' '
	(cd repo && timeout 60 git sand exec api yes | head -n 2 >../two) &&
	printf "y\ny\n" >expect &&
	test_cmp expect two
'

# A ^C is the command's, as under the CLI: it ends the exec with 130, and
# git-sand says nothing of its own.
test_expect_success DOCKER 'a SIGINT ends exec as it would end the CLI' '
	rm -f pid st out
	(
		cd repo || exit 1
		env --default-signal=INT git-sand exec api sh -c "echo started; exec sleep 30" \
			>../out 2>../err </dev/null &
		echo $! >../pid
		wait $!
		echo $? >../st
	) &
	i=0 &&
	while ! test -s out && test $i -lt 400
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	test_grep started out &&
	kill -INT $(cat pid) &&
	i=0 &&
	while ! test -s st && test $i -lt 400
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	echo 130 >expect &&
	test_cmp expect st &&
	test_cmp /dev/null err
'

test_expect_success DOCKER 'input that is not a terminal goes to the command, and ends' '
	(cd repo && git sand exec api wc -l <../in >../count) &&
	echo 1 >expect &&
	test_cmp expect count &&
	(cd repo && git sand exec api cat </dev/null >../empty) &&
	test_path_is_file empty &&
	! test -s empty
'

test_expect_success DOCKER 'status streams through the daemon as the CLI way shows it' '
	(cd repo && echo change >>one.t && git sand exec api sh -c "echo change >>one.t") &&
	rm -f trace &&
	(cd repo && GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand status api >../api) &&
	! grep "run: .docker." trace &&
	(cd repo && git -c sand.exec=cli sand status api >../cli) &&
	test_grep "modified: *one.t" api &&
	test_cmp cli api
'

test_expect_success DOCKER 'sand.exec=cli takes the docker CLI' '
	rm -f trace &&
	(cd repo && GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git -c sand.exec=cli sand exec api true) &&
	test_grep "run: .docker. .exec." trace &&
	! grep "docker api:" trace
'

test_expect_success DOCKER 'a DOCKER_HOST that is no unix socket, or a context, is the CLI'"'"'s' '
	rm -f trace &&
	(
		cd repo &&
		DOCKER_HOST=tcp://127.0.0.1:1 GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
			git sand exec api true 2>../err
		test $? != 0
	) &&
	test_grep "run: .docker. .exec." trace &&
	! grep "docker api:" trace &&
	rm -f trace &&
	(
		cd repo &&
		# DOCKER_HOST, when set, wins over a context, as in the CLI.
		env -u DOCKER_HOST DOCKER_CONTEXT=elsewhere GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
			git sand exec api true 2>../err
		test $? != 0
	) &&
	test_grep "run: .docker. .exec." trace &&
	! grep "docker api:" trace
'

test_expect_success DOCKER 'a daemon that cannot be reached leaves it to the CLI, which says so' '
	rm -f trace &&
	(
		cd repo &&
		DOCKER_HOST=unix://$TRASH_DIRECTORY/no.sock GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
			git sand exec api true 2>../err
		test $? != 0
	) &&
	test_grep "run: .docker. .exec." trace &&
	test_grep "no.sock" err
'

test_expect_success DOCKER 'ls asks the daemon, not docker ps, for a stopped sandbox' '
	(cd repo && git sand stop api) &&
	rm -f trace &&
	(cd repo && GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand ls --porcelain >../ls) &&
	test_grep "^status stopped$" ls &&
	! grep "run: .docker." trace &&
	(cd repo && git -c sand.exec=cli sand ls --porcelain >../ls-cli) &&
	test_cmp ls-cli ls
'

test_expect_success DOCKER 'a stopped sandbox is started for exec, which then runs' '
	(cd repo && git sand exec api echo again >../out) &&
	echo again >expect &&
	test_cmp expect out
'

test_expect_success DOCKER 'a container removed behind git-sand'"'"'s back' '
	docker rm -f "$(cat ctr)" >/dev/null &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test_grep "^status missing container$" ls &&
	(cd repo && git sand rm -f api)
'

test_done

#!/bin/sh
test_description='headless runs: new --prompt, run, logs, wait, --count, ls states'
. ./test-lib.sh
test_require_podman

# The agent stand-in, mounted as /usr/bin/claude: it prints its arguments
# one a line between brackets, and what the prompt asks: "exit=N" exits
# with N, "hold" waits for /tmp/go first, "esc" prints escape sequences.
test_expect_success PODMAN 'setup: a stand-in agent' '
	test_create_repo repo &&
	mkdir fakebin &&
	cat >fakebin/claude <<-\EOF &&
	#!/bin/sh
	for a in "$@"; do printf "[%s]\n" "$a"; done
	echo "cwd $PWD"
	case "$*" in *esc*) printf "title\033]0;pwned\007 clear\033[2J red\033[31mred\033[0m\n" ;; esac
	case "$*" in *hold*) i=0; while test ! -e /tmp/go && test $i -lt 600; do sleep 0.1; i=$((i+1)); done ;; esac
	echo "to stderr" >&2
	case "$*" in *exit=*) s=${*##*exit=}; exit "${s%%[!0-9]*}" ;; esac
	exit 0
	EOF
	chmod +x fakebin/claude &&
	git -C repo config sand.mount "$TRASH_DIRECTORY/fakebin/claude:/usr/bin/claude:ro" &&
	git -C repo config sand.agent claude
'

test_expect_success PODMAN 'new --prompt: the agent gets the prompt verbatim, in its batch mode' '
	cat >prompt <<-\EOF &&
	Fix "the bug" in it'"'"'s $(whoami) `id` $HOME; exit=0
	  second line	with a tab \n *
	EOF
	(
		cd repo &&
		git sand new one --prompt-file ../prompt >../out 2>../err
	) &&
	{
		echo "[-p]" &&
		printf "[" && cat prompt && echo "]" &&
		echo "cwd /app" &&
		echo "to stderr"
	} >expect &&
	test_cmp expect out &&
	(cd repo && git sand logs one >../logs) &&
	test_cmp expect logs
'

test_expect_success PODMAN 'the exit status is the agent'"'"'s, and recorded' '
	(
		cd repo &&
		test_expect_code 3 git sand run one --prompt "exit=3" >../out &&
		git sand ls --porcelain >../rows &&
		git sand ls >../table &&
		git sand ls --json >../json &&
		test_expect_code 3 git sand wait one
	) &&
	test_grep "^agent claude$" rows &&
	test_grep "^state exited 3$" rows &&
	test_grep "^run 2$" rows &&
	test_grep "^one  *running  *claude  *exited 3 " table &&
	test_grep "\"state\":	\"exited\"" json &&
	test_grep "\"exit_status\":	3" json &&
	test_grep "\"run\":	2" json
'

test_expect_success PODMAN 'run -d returns at once; logs -f follows until the end; wait' '
	(
		cd repo &&
		git sand run -d one --prompt "hold exit=5" 2>../err &&
		sandbox_field one state >../st &&
		test_expect_code 124 git sand wait --timeout 1 one &&
		{ git sand logs -f one >../follow & } &&
		sleep 1 &&
		in_sandbox one "touch /tmp/go" &&
		test_expect_code 5 git sand wait one &&
		wait &&
		sandbox_field one state >>../st
	) &&
	printf "running\nexited\n" >expect &&
	test_cmp expect st &&
	test_grep "^Started run 3 of claude in sandbox .one." err &&
	test_grep "^\[hold exit=5\]$" follow &&
	test_grep "^to stderr$" follow
'

test_expect_success PODMAN 'a second run while one runs is refused' '
	(
		cd repo &&
		in_sandbox one "rm -f /tmp/go" &&
		git sand run -d one --prompt "hold" 2>/dev/null &&
		test_expect_code 128 git sand run one --prompt "again" 2>../err &&
		in_sandbox one "touch /tmp/go" &&
		git sand wait one
	) &&
	test_grep "^error: sandbox .one. is still running its task (run 4)" err
'

test_expect_success PODMAN 'escape sequences in the output are shown harmless' '
	(cd repo && git sand run one --prompt "esc" >../out) &&
	test_grep "title^\[\]0;pwned^G clear^\[\[2J red^\[\[31mred" out &&
	! grep "$(printf "\033")" out
'

test_expect_success PODMAN 'bad prompts and options' '
	(
		cd repo &&
		test_expect_code 128 git sand run one --prompt "" 2>../err1 &&
		test_expect_code 128 git sand run one --prompt "--help" 2>../err2 &&
		test_expect_code 129 git sand run one 2>../err3 &&
		test_expect_code 128 git sand run one --prompt a --prompt-file ../prompt 2>../err4 &&
		test_expect_code 128 git sand new -d --count 2 2>../err5 &&
		test_expect_code 128 git sand new -d --agent "" --prompt x 2>../err6 &&
		test_expect_code 128 git sand wait --timeout soon one 2>../err7 &&
		test_expect_code 128 git sand logs --setup one 2>../err8
	) &&
	test_grep "^error: the prompt is empty" err1 &&
	test_grep "^error: the prompt starts with .-." err2 &&
	test_grep "^usage: git sand run" err3 &&
	test_grep "options .--prompt. and .--prompt-file. cannot be used together" err4 &&
	test_grep "option .--count. needs .--prompt. or .--prompt-file." err5 &&
	test_grep "option .--prompt. needs an agent" err6 &&
	test_grep "invalid timeout .soon." err7 &&
	test_grep "has no setup log" err8
'

test_expect_success PODMAN 'a sandbox with no run: idle, and logs says so' '
	(
		cd repo &&
		git -c sand.agent= sand new -d quiet &&
		sandbox_field quiet state >../st &&
		test_expect_code 128 git sand logs quiet 2>../err &&
		test_expect_code 128 git sand run quiet --prompt x 2>../err2
	) &&
	echo idle >expect &&
	test_cmp expect st &&
	test_grep "has had no run" err &&
	test_grep "sandbox .quiet. has no agent" err2
'

test_expect_success PODMAN 'new --count makes n sandboxes with the same task; wait --any' '
	(
		cd repo &&
		git sand new -d --count 3 best --prompt "hold exit=7" >../names 2>/dev/null &&
		test_expect_code 124 git sand wait --any --timeout 1 best-1 best-2 best-3 &&
		in_sandbox best-2 "touch /tmp/go" &&
		test_expect_code 7 git sand wait --any best-1 best-2 best-3 >../first &&
		in_sandbox best-1 "touch /tmp/go" &&
		in_sandbox best-3 "touch /tmp/go" &&
		test_expect_code 7 git sand wait best-1 best-2 best-3 &&
		for n in 1 2 3; do git sand logs best-$n; done >../logs
	) &&
	printf "best-1\nbest-2\nbest-3\n" >expect &&
	test_cmp expect names &&
	echo best-2 >expect &&
	test_cmp expect first &&
	grep -c "^\[hold exit=7\]$" logs >count &&
	echo 3 >expect &&
	test_cmp expect count
'

test_expect_success PODMAN 'new --count without -d waits for the runs' '
	(
		cd repo &&
		git sand new --count 2 fg --prompt "exit=0" >../names 2>../err
	) &&
	printf "fg-1\nfg-2\n" >expect &&
	test_cmp expect names &&
	test_grep "Waiting for the 2 runs" err
'

test_expect_success PODMAN 'a stopped sandbox: its run is lost' '
	(
		cd repo &&
		in_sandbox one "rm -f /tmp/go" &&
		git sand run -d one --prompt "hold" 2>/dev/null &&
		git sand stop one &&
		sandbox_field one state >../st &&
		test_expect_code 255 git sand wait --timeout 20 one
	) &&
	echo lost >expect &&
	test_cmp expect st
'

test_expect_success PODMAN 'logs follow no link and open no FIFO the sandbox made' '
	echo "host secret" >secret &&
	mkdir -p hostdir/1 &&
	echo "host secret" >hostdir/1/log &&
	(
		cd repo &&
		git sand new -d evil --prompt "exit=0" >/dev/null 2>&1 &&
		git sand wait evil &&
		in_sandbox evil "cd /home/sand/.git-sand/runs/1 && rm log && ln -s \"$TRASH_DIRECTORY/secret\" log" &&
		test_expect_code 1 git sand logs evil >../out1 2>../err1 &&
		in_sandbox evil "cd /home/sand/.git-sand/runs/1 && rm log && mkfifo log" &&
		test_expect_code 1 timeout 20 git sand logs -f evil >../out2 2>../err2 &&
		in_sandbox evil "cd /home/sand/.git-sand && rm -r runs && ln -s \"$TRASH_DIRECTORY/hostdir\" runs" &&
		test_expect_code 1 git sand logs evil >../out3 2>../err3
	) &&
	! grep "host secret" out1 out2 out3 &&
	test_grep "log of run 1 of sandbox .evil. is not a regular file" err1 &&
	test_grep "log of run 1 of sandbox .evil. is not a regular file" err2 &&
	test_grep "log of run 1 of sandbox .evil. is not a regular file" err3
'

test_expect_success PODMAN 'a status the sandbox forged is refused, counted as 255' '
	(
		cd repo &&
		in_sandbox evil "rm /home/sand/.git-sand/runs" &&
		git sand run -d evil --prompt "hold" 2>/dev/null &&
		in_sandbox evil "mkdir -p /home/sand/.git-sand/runs/2 && echo 999 >/home/sand/.git-sand/runs/2/status" &&
		test_expect_code 255 git sand wait evil 2>../err &&
		in_sandbox evil "touch /tmp/go"
	) &&
	test_grep "run 2 of sandbox .evil. left no valid exit status" err
'

test_expect_success PODMAN 'logs --setup shows the setup command'"'"'s output' '
	(
		cd repo &&
		git -c sand.setup="echo setting up; printf \"\\033[2J\"" sand new -d su &&
		git sand logs --setup su >../out
	) &&
	test_grep "^setting up$" out &&
	test_grep "^^\[\[2J\[setup exited with status 0\]$" out
'

test_expect_success PODMAN 'cleanup' '
	(cd repo && git sand rm -f --all)
'

test_done

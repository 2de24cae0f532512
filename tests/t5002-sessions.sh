#!/bin/sh
test_description='sessions: shell in tmux in the container, detach, attach, a lost terminal'
. ./test-lib.sh
test_require_podman

if ! command -v tmux >/dev/null 2>&1
then
	skip_all='tmux is not installed here (it drives the terminal)'
	say "1..0 # SKIP $skip_all"
	test_exit_ 0
fi

# The user's terminal is a window of a tmux of our own on this machine
# (the driver): keys are typed with send-keys, the screen read with
# capture-pane. Its windows run in repo.
DRV="tmux -L t5002-$$"
# The driver goes at the end, whatever way it comes (then test-lib's check).
trap 'code_=$?; $DRV kill-server 2>/dev/null; (exit $code_); test_at_exit_' EXIT

# term <window> <command>: open a terminal running the command.
term () {
	$DRV new-session -d -s "$1" -x 100 -y 30 -c "$TRASH_DIRECTORY/repo" \
		"$2; echo \$? >\"$TRASH_DIRECTORY/$1.status\""
}

# until_ok <command>: run it until it succeeds, 150 times at most.
until_ok () {
	i=0
	while ! eval "$1"
	do
		i=$((i + 1))
		test $i -lt 150 || { echo >&2 "never: $1"; return 1; }
		sleep 0.2
	done
}

screen_has () {
	$DRV capture-pane -p -t "$1" 2>/dev/null | grep -q "$2"
}

ctr_tmux () {
	(cd "$TRASH_DIRECTORY/repo" && git sand exec one tmux -u -L git-sand "$@")
}

test_expect_success PODMAN 'setup' '
	git config --global sand.session auto &&
	# The driver stays up between its terminals (none racing its exit).
	$DRV start-server \; set-option -s exit-empty off &&
	test_create_repo repo &&
	mkdir empty &&
	(cd repo && git sand new -d one && git sand new -d bare --mount "$TRASH_DIRECTORY/empty:/usr/local/bin:ro")
'

test_expect_success PODMAN 'shell runs in a session; the key detaches, the shell goes on' '
	rm -f t1.status &&
	term t1 "git sand shell one" &&
	until_ok "ctr_tmux has-session -t shell 2>/dev/null" &&
	until_ok "screen_has t1 \"#\\|\\\$\"" &&
	$DRV send-keys -t t1 "echo \$\$ >/tmp/shpid; echo typed-\$((6*7)) | tee /tmp/typed" Enter &&
	until_ok "(cd repo && git sand exec one test -s /tmp/typed)" &&
	$DRV send-keys -t t1 "C-\\" &&
	until_ok "test -f t1.status" &&
	echo 0 >expect &&
	test_cmp expect t1.status &&
	ctr_tmux list-sessions >sessions &&
	test_grep "^shell:" sessions &&
	(cd repo && git sand exec one sh -c "kill -0 \$(cat /tmp/shpid)") &&
	(cd repo && git sand exec one cat /tmp/typed) >typed &&
	echo typed-42 >expect &&
	test_cmp expect typed
'

test_expect_success PODMAN 'attach shows the session again' '
	term t2 "git sand attach one" &&
	until_ok "screen_has t2 typed-42" &&
	$DRV send-keys -t t2 "echo again-\$((1+1))" Enter &&
	until_ok "screen_has t2 again-2"
'

test_expect_success PODMAN 'a terminal that goes away loses nothing' '
	pid=$($DRV display-message -p -t t2 "#{pane_pid}") &&
	# The terminal hangs up: the client on this machine gets SIGHUP.
	$DRV kill-session -t t2 &&
	until_ok "! kill -0 $pid 2>/dev/null" &&
	(cd repo && git sand exec one sh -c "kill -0 \$(cat /tmp/shpid)") &&
	rm -f t3.status &&
	term t3 "git sand attach one" &&
	until_ok "screen_has t3 again-2" &&
	# The client the lost terminal left in the container is detached.
	until_ok "test \$(ctr_tmux list-clients | wc -l) = 1" &&
	$DRV send-keys -t t3 "exit" Enter &&
	until_ok "test -f t3.status" &&
	echo 0 >expect &&
	test_cmp expect t3.status &&
	test_must_fail ctr_tmux has-session -t shell 2>/dev/null
'

test_expect_success PODMAN 'attach without a session says so' '
	rm -f t4.status &&
	term t4 "git sand attach one 2>\"$TRASH_DIRECTORY/err\"" &&
	until_ok "test -f t4.status" &&
	echo 128 >expect &&
	test_cmp expect t4.status &&
	test_grep "^error: sandbox .one. has no session$" err &&
	test_grep "^hint: .git sand shell one. opens a shell" err
'

test_expect_success PODMAN 'a shell that ends in its session: its exit status is ours' '
	rm -f t9.status &&
	term t9 "git sand shell one" &&
	until_ok "ctr_tmux has-session -t shell 2>/dev/null" &&
	until_ok "screen_has t9 \"#\\|\\\$\"" &&
	$DRV send-keys -t t9 "exit 6" Enter &&
	until_ok "test -f t9.status" &&
	echo 6 >expect &&
	test_cmp expect t9.status
'

test_expect_success PODMAN 'attach needs a terminal' '
	(cd repo && test_must_fail git sand attach one </dev/null 2>../err) &&
	test_grep "attach needs a terminal" err
'

test_expect_success PODMAN '--no-session and sand.session=never: as before' '
	rm -f t5.status &&
	term t5 "git sand shell --no-session one" &&
	until_ok "screen_has t5 \"#\\|\\\$\"" &&
	$DRV send-keys -t t5 "exit 4" Enter &&
	until_ok "test -f t5.status" &&
	echo 4 >expect &&
	test_cmp expect t5.status &&
	test_must_fail ctr_tmux has-session 2>/dev/null &&
	git -C repo config sand.session never &&
	rm -f t6.status &&
	term t6 "git sand shell one" &&
	until_ok "screen_has t6 \"#\\|\\\$\"" &&
	$DRV send-keys -t t6 "exit 5" Enter &&
	until_ok "test -f t6.status" &&
	echo 5 >expect &&
	test_cmp expect t6.status &&
	git -C repo config sand.session bogus &&
	(cd repo && test_must_fail git sand shell one </dev/null 2>../err) &&
	test_grep "invalid value .bogus. for sand.session" err &&
	git -C repo config --unset sand.session
'

test_expect_success PODMAN 'an image without tmux: the shell as before, with a notice' '
	rm -f t7.status &&
	term t7 "git sand shell bare 2>\"$TRASH_DIRECTORY/err\"" &&
	until_ok "screen_has t7 \"#\\|\\\$\"" &&
	$DRV send-keys -t t7 "exit 3" Enter &&
	until_ok "test -f t7.status" &&
	echo 3 >expect &&
	test_cmp expect t7.status &&
	test_grep "has no tmux: the shell ends with this terminal" err &&
	rm -f t8.status &&
	term t8 "git sand attach bare 2>\"$TRASH_DIRECTORY/err\"" &&
	until_ok "test -f t8.status" &&
	test_grep "^error: sandbox .bare. has no session: its image has no tmux$" err &&
	test_grep "^hint: " err
'

test_expect_success PODMAN 'the agent runs in a session of its own' '
	mkdir fakebin &&
	cat >fakebin/claude <<-\EOF &&
	#!/bin/sh
	echo "agent-ready-$((2*21))"
	read -r line
	echo "agent-got-$line"
	exit 9
	EOF
	chmod +x fakebin/claude &&
	(cd repo && git sand new -d --agent claude \
		--mount "$TRASH_DIRECTORY/fakebin/claude:/usr/bin/claude:ro" ag) &&
	rm -f a1.status a2.status &&
	term a1 "git sand agent ag" &&
	until_ok "screen_has a1 agent-ready-42" &&
	$DRV send-keys -t a1 "C-\\" &&
	until_ok "test -f a1.status" &&
	(cd repo && git sand exec ag tmux -u -L git-sand has-session -t agent) &&
	term a2 "git sand attach ag" &&
	until_ok "screen_has a2 agent-ready-42" &&
	$DRV send-keys -t a2 "hello" Enter &&
	until_ok "test -f a2.status" &&
	test_must_fail git -C repo sand exec ag tmux -u -L git-sand has-session -t agent
'

test_expect_success PODMAN 'cleanup' '
	(cd repo && git sand rm -f one bare ag)
'

test_done

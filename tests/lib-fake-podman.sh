# Helpers for tests that need podman to misbehave at one step: a podman
# in front of the real one that hangs or fails at one verb, and a way to
# start "git sand new" against it in the background.

# make_fake_podman <verb> <hang | slow | done-then-hang | fail>: write
# bin-fake/podman (slow: a second's pause, then the real podman;
# done-then-hang: the real podman, then a hang before it answers).
make_fake_podman () {
	mkdir -p bin-fake &&
	real=$(command -v "$TEST_RUNTIME") &&
	if test "$2" = hang
	then
		action="echo \$\$ >\"$TRASH_DIRECTORY/fake-reached\"; exec sleep 30"
	elif test "$2" = slow
	then
		action="echo \$\$ >\"$TRASH_DIRECTORY/fake-reached\"; sleep 1"
	elif test "$2" = done-then-hang
	then
		action="\"$real\" \"\$@\" >/dev/null || exit 1
		echo \$\$ >\"$TRASH_DIRECTORY/fake-reached\"; exec sleep 30"
	else
		action="echo >&2 \"Error: $1 exploded\"; exit 125"
	fi &&
	cat >bin-fake/podman <<-EOS &&
	#!/bin/sh
	if test "\$1" = "$1"
	then
		$action
	fi
	exec "$real" "\$@"
	EOS
	chmod +x bin-fake/podman &&
	{ test "$TEST_RUNTIME" = podman || cp bin-fake/podman "bin-fake/$TEST_RUNTIME"; }
}

# start_hung <verb> <hang | slow | done-then-hang> <args>...: run
# "git-sand <args>" in the background, in a process group of its own (as a
# terminal's job), with podman misbehaving at <verb> as make_fake_podman
# says; once it is there, print git-sand's pid. Its output goes to
# hung-out and err, its exit status to new-status when it ends.
start_hung () {
	verb=$1 how=$2
	shift 2
	rm -f fake-reached new-pid new-status
	make_fake_podman "$verb" "$how" || return 1
	(
		cd repo || exit 1
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" setsid git-sand "$@" >../hung-out 2>../err &
		echo $! >../new-pid
		wait $!
		echo $? >../new-status
	) >/dev/null 2>&1 &
	i=0
	# At most 60 s, for a loaded machine or a sanitizer's build.
	while ! { test -f fake-reached && test -f new-pid; } && test $i -lt 1200
	do
		sleep 0.05
		i=$((i + 1))
	done
	test -f fake-reached && cat new-pid
}

# start_hung_new <verb> <name>: "git sand new -d <name>", podman hanging at <verb>.
start_hung_new () {
	start_hung "$1" hang new -d "$2"
}

# wait_new_status: wait for the background command to end; print its status.
wait_new_status () {
	i=0
	while ! test -s new-status && test $i -lt 1200
	do
		sleep 0.05
		i=$((i + 1))
	done
	cat new-status
}

# nothing_left: no row, remote, directory or container of this script's
# state directory is left.
nothing_left () {
	(
		cd repo &&
		git sand ls --porcelain >../rows &&
		{ git config --get-regexp "^remote\.sand/" >../remotes || :; }
	) &&
	test_line_count = 0 rows &&
	test_line_count = 0 remotes &&
	ls "$GIT_SAND_HOME/sandboxes" >dirs &&
	test_line_count = 0 dirs &&
	"$TEST_RUNTIME" ps -a -q --filter "label=io.git-sand.home=$GIT_SAND_HOME" >ctrs &&
	test_line_count = 0 ctrs
}

#!/bin/sh
test_description='an interrupted or failing new removes everything it made'
. ./test-lib.sh
test_require_podman

# A podman that hangs in one verb, so that new can be interrupted there.
# It records its pid so the test knows when new has reached that point.
make_slow_podman () {
	mkdir -p slow-bin &&
	real=$(command -v podman) &&
	cat >slow-bin/podman <<-EOS &&
	#!/bin/sh
	if test "\$1" = "$1"
	then
		echo \$\$ >"$TRASH_DIRECTORY/slow-reached"
		exec sleep 30
	fi
	exec "$real" "\$@"
	EOS
	chmod +x slow-bin/podman
}

nothing_left () {
	(
		cd repo &&
		git sand ls --porcelain >../rows &&
		git config --get-regexp "^remote\.sand/" >../remotes
		true
	) &&
	test_line_count = 0 rows &&
	test_line_count = 0 remotes &&
	ls "$GIT_SAND_HOME/sandboxes" >dirs &&
	test_line_count = 0 dirs &&
	podman ps -a -q --filter "label=io.git-sand.name=$1" >ctrs &&
	test_line_count = 0 ctrs
}

interrupt_new () {
	signal=$1 verb=$2 name=$3
	rm -f slow-reached slow-bin/podman new-pid new-status
	make_slow_podman "$verb" || return 1
	(
		cd repo || exit 1
		PATH="$TRASH_DIRECTORY/slow-bin:$PATH" git-sand new -d "$name" >/dev/null 2>../err &
		echo $! >../new-pid
		wait $!
		echo $? >../new-status
	) &
	i=0 &&
	while ! { test -f slow-reached && test -f new-pid; } && test $i -lt 200
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	test -f slow-reached &&
	kill -$signal "$(cat new-pid)" &&
	wait &&
	cat new-status
}

test_expect_success PODMAN 'setup' '
	test_create_repo repo
'

test_expect_success PODMAN 'SIGTERM while the container is being created' '
	status=$(interrupt_new TERM create term1) &&
	test "$status" = 143 &&
	nothing_left term1
'

test_expect_success PODMAN 'SIGINT while the container is being started' '
	status=$(interrupt_new INT start int1) &&
	test "$status" = 130 &&
	nothing_left int1
'

test_expect_success PODMAN 'SIGTERM while the image is being checked' '
	status=$(interrupt_new TERM image img1) &&
	test "$status" = 143 &&
	nothing_left img1
'

make_failing_podman () {
	mkdir -p fail-bin &&
	real=$(command -v podman) &&
	cat >fail-bin/podman <<-EOS &&
	#!/bin/sh
	if test "\$1" = "$1"
	then
		echo >&2 "Error: $1 exploded"
		exit 125
	fi
	exec "$real" "\$@"
	EOS
	chmod +x fail-bin/podman
}

test_expect_success PODMAN 'a runtime that fails midway (start) leaves nothing' '
	make_failing_podman start &&
	(cd repo && PATH="$TRASH_DIRECTORY/fail-bin:$PATH" test_expect_code 128 git sand new -d midway 2>../err) &&
	test_grep "start exploded" err &&
	nothing_left midway
'

test_expect_success PODMAN 'the name is free again afterwards' '
	(cd repo && git sand new -d term1 && git sand rm -f term1)
'

test_done

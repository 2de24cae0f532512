#!/bin/sh
test_description='exec straight to the OCI runtime gives what podman exec gives'
. ./test-lib.sh
test_require_podman

# The fast way is for podman with runc or crun, rootful or rootless
# (tests/run-rootless.sh runs this script as a user); elsewhere exec
# takes the CLI, which the other scripts test.
if test "$TEST_RUNTIME" = podman &&
	podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null | grep -Eq '^(runc|crun)$'
then
	test_set_prereq DIRECT
	test "$(id -u)" = 0 || test_set_prereq ROOTLESS
fi

# traced_status <repo> <sandbox> <file>: the sandbox's status as ls tells
# it into file, and the programs ls ran into trace.
traced_status () {
	rm -f trace &&
	(cd "$1" && GIT_SAND_TRACE=$TRASH_DIRECTORY/trace sandbox_field "$2" status) >"$3"
}

# What a process can tell of how it was started: credentials,
# capabilities, no_new_privs, seccomp, LSM label, umask, cgroup, OOM
# score, limits, environment (no variable differs between the two ways)
# and directory.
probe='grep -E "^(Umask|Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp[_a-z]*):" /proc/self/status
cat /proc/self/cgroup
cat /proc/self/attr/current 2>/dev/null || echo no-lsm
cat /proc/self/oom_score_adj
ulimit -a
env | sort
pwd'

test_expect_success DIRECT 'setup: a sandbox' '
	test_create_repo repo &&
	(cd repo && git sand new -d fast >/dev/null) &&
	ctr=$(cd repo && sandbox_field fast container) &&
	test -n "$ctr" &&
	echo "$ctr" >ctr
'

test_expect_success DIRECT 'exec runs the OCI runtime itself, not podman exec' '
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true
	) &&
	test_grep "exec.*--process.*$(cat ctr)" trace &&
	! grep "'\''podman'\'' '\''exec'\''" trace
'

test_expect_success DIRECT 'podman is asked about itself once, not on every exec' '
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true
	) &&
	! grep "podman.*info" trace &&
	test_path_is_file "$GIT_SAND_HOME/oci-runtime.json"
'

test_expect_success DIRECT 'the process is the one podman exec makes' '
	(cd repo && git sand exec fast sh -c "$probe" >../fast-app </dev/null) &&
	podman exec -i --workdir /app "$(cat ctr)" sh -c "$probe" >cli </dev/null &&
	test_grep "^CapEff:" fast-app &&
	test_grep "^Seccomp:" fast-app &&
	test_grep "^PATH=" fast-app &&
	test_grep "^/app$" fast-app &&
	test_cmp cli fast-app
'

test_expect_success DIRECT 'the same with --workdir' '
	(cd repo && git sand exec -w /tmp fast sh -c "$probe" >../fast </dev/null) &&
	podman exec -i --workdir /tmp "$(cat ctr)" sh -c "$probe" >cli </dev/null &&
	test_grep "^/tmp$" fast &&
	test_cmp cli fast
'

test_expect_success ROOTLESS 'rootless: the runtime runs in podman'"'"'s namespaces' '
	test_grep "\"rootless\":true" "$GIT_SAND_HOME/oci-runtime.json" &&
	rundir=$(sed -n "s|.*\"rundir\":\"\([^\"]*\)\".*|\1|p" "$GIT_SAND_HOME/oci-runtime.json") &&
	test_path_is_file "$rundir/libpod/tmp/pause.pid" &&
	echo "$rundir" >rundir &&
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true
	) &&
	test_grep "^trace: run: .*runc.* .--root. .$(cat rundir)/runc. .*--process.*$(cat ctr)" trace
'

# fake_pause <pid>: podman's pause.pid names pid until the test ends.
# The podman exec the test leads to may make a pause process of its own
# and name it there: that one is stopped, and the real one named again.
fake_pause () {
	pause=$(cat rundir)/libpod/tmp/pause.pid &&
	cp "$pause" pause.pid.saved &&
	test_when_finished "restore_pause $1" &&
	echo "$1" >pause.pid.fake &&
	mv pause.pid.fake "$pause"
}

restore_pause () {
	made=$(cat "$pause") &&
	cp pause.pid.saved "$pause" &&
	if test "$made" != "$1" && test "$made" != "$(cat pause.pid.saved)" &&
		test "$(cat "/proc/$made/comm" 2>/dev/null)" = catatonit
	then
		kill "$made"
	fi
}

test_expect_success ROOTLESS 'rootless: a pause.pid naming a container'"'"'s process is not followed' '
	podman inspect --format "{{.State.Pid}}" "$(cat ctr)" >pid &&
	fake_pause "$(cat pid)" &&
	rm -f trace &&
	(
		cd repo &&
		# podman itself may fail with such a pause.pid: only our way counts.
		{ GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true || :; }
	) &&
	test_grep "'\''podman'\'' '\''exec'\''" trace &&
	! grep -e "--process" trace
'

test_expect_success ROOTLESS 'rootless: a pause.pid naming a process outside podman'"'"'s namespaces is not followed' '
	sleep 30 &
	sleeper=$! &&
	test_when_finished "kill $sleeper 2>/dev/null || :" &&
	fake_pause $sleeper &&
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast sh -c "$probe" >../via-cli </dev/null
	) &&
	test_grep "'\''podman'\'' '\''exec'\''" trace &&
	! grep -e "--process" trace &&
	test_cmp fast-app via-cli
'

test_expect_success ROOTLESS 'rootless: no pause process, the CLI' '
	fake_pause 999999999 &&
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true
	) &&
	test_grep "'\''podman'\'' '\''exec'\''" trace &&
	! grep -e "--process" trace
'

# A sandbox whose devcontainer.json's runArgs add a group: podman's exec
# gives that group, which for keep-id's user config.json cannot tell from
# the primary group podman's create adds (such an exec takes the CLI).
test_expect_success DIRECT 'setup: a sandbox whose runArgs add a group' '
	test_create_repo own &&
	mkdir own/.devcontainer &&
	printf "{ \"image\": \"%s\", \"runArgs\": [\"--group-add=100\"] }" \
		"$TEST_IMAGE" >own/.devcontainer/devcontainer.json &&
	(cd own && git sand new -d --devcontainer-allow=runArgs own >/dev/null)
'

test_expect_success DIRECT 'a sandbox made with a group added: podman exec'"'"'s groups' '
	(
		cd own &&
		rm -f ../trace &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec own id -G >../groups-sand </dev/null &&
		podman exec "$(sandbox_field own container)" id -G >../groups-podman </dev/null
	) &&
	test_grep "\b100\b" groups-podman &&
	test_cmp groups-podman groups-sand &&
	if test_have_prereq ROOTLESS
	then
		test_grep "'\''podman'\'' '\''exec'\''" trace
	else
		test_grep "exec.*--process" trace
	fi
'

test_expect_success DIRECT 'sand.exec=cli takes podman exec' '
	rm -f trace &&
	(
		cd repo &&
		git -c sand.exec=cli sand exec fast true &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git -c sand.exec=cli sand exec fast sh -c "$probe" \
			>../cli </dev/null
	) &&
	test_grep "'\''podman'\'' '\''exec'\''" trace &&
	! grep -e "--process" trace &&
	test_cmp cli fast-app
'

test_expect_success DIRECT 'an unknown sand.exec is an error' '
	(
		cd repo &&
		test_expect_code 128 git -c sand.exec=fast sand exec fast true 2>../err
	) &&
	test_grep "^fatal: invalid value .fast. for sand.exec (known: auto, cli)$" err
'

test_expect_success DIRECT 'exit statuses pass through as with podman exec' '
	(
		cd repo &&
		test_expect_code 7 git sand exec fast sh -c "exit 7" &&
		test_expect_code 255 git sand exec fast sh -c "exit 255" &&
		test_expect_code 143 git sand exec fast sh -c "kill -TERM \$\$" &&
		test_expect_code 137 git sand exec fast sh -c "kill -KILL \$\$" &&
		test_expect_code 127 git sand exec fast no-such-command &&
		test_expect_code 126 git sand exec fast /etc/passwd
	) &&
	test_expect_code 143 podman exec "$(cat ctr)" sh -c "kill -TERM \$\$" &&
	test_expect_code 126 podman exec "$(cat ctr)" /etc/passwd
'

test_expect_success DIRECT 'stdin, stdout and stderr pass through' '
	(
		cd repo &&
		printf "one\ntwo\n" | git sand exec fast sh -c "cat; echo err >&2" >../out 2>../err &&
		git sand exec fast sh -c "cat; echo end" </dev/null >../out2
	) &&
	printf "one\ntwo\n" >expect &&
	test_cmp expect out &&
	echo err >expect &&
	test_cmp expect err &&
	echo end >expect &&
	test_cmp expect out2
'

test_expect_success DIRECT 'a signal to the command reaches it' '
	git -C repo sand exec fast sh -c "trap \"echo got-term; exit 3\" TERM; echo \$\$ >/tmp/pid; while :; do sleep 1; done" >out &
	bg=$! &&
	for i in $(seq 1 50)
	do
		git -C repo sand exec fast test -s /tmp/pid && break
		sleep 0.2
	done &&
	git -C repo sand exec fast sh -c "kill -TERM \$(cat /tmp/pid)" &&
	wait_status=0 &&
	{ wait $bg || wait_status=$?; } &&
	test "$wait_status" = 3 &&
	test_grep got-term out
'

test_expect_success DIRECT 'an interrupt to git sand exec reaches the command' '
	git -C repo sand exec fast sh -c "trap \"echo got-int; exit 5\" INT; echo ready; while :; do sleep 1; done" >out &
	bg=$! &&
	for i in $(seq 1 100)
	do
		grep -q ready out && break
		sleep 0.1
	done &&
	pkill -INT -P $bg -x git-sand &&
	wait_status=0 &&
	{ wait $bg || wait_status=$?; } &&
	test "$wait_status" = 5 &&
	test_grep got-int out
'

test_expect_success DIRECT 'what the command leaves running keeps no output of ours open' '
	(
		cd repo &&
		timeout 20 sh -c "git sand exec fast sh -c \"sleep 30 & echo started\" | cat" >../out
	) &&
	echo started >expect &&
	test_cmp expect out
'

test_expect_success DIRECT 'the command gets no terminal of ours, as with podman exec' '
	probe_tty="test -t 0 && echo in-tty; test -t 1 && echo out-tty; test -t 2 && echo err-tty; cat /dev/tty 2>/dev/null || echo no-ctty" &&
	(
		cd repo &&
		script -qec "git sand exec fast sh -c \"$probe_tty\"" /dev/null </dev/null >../fast-tty &&
		script -qec "podman exec $(cat ../ctr) sh -c \"$probe_tty\"" /dev/null </dev/null >../cli-tty
	) &&
	tr -d "\r" <fast-tty >fast &&
	tr -d "\r" <cli-tty >cli &&
	echo no-ctty >expect &&
	test_cmp expect fast &&
	test_cmp cli fast
'

test_expect_success DIRECT 'a record naming what is gone is asked again; meanwhile the CLI' '
	sed "s|\"root\":\"[^\"]*\"|\"root\":\"/nonexistent\"|" "$GIT_SAND_HOME/oci-runtime.json" >cache &&
	mv cache "$GIT_SAND_HOME/oci-runtime.json" &&
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true
	) &&
	test_grep "'\''podman'\'' '\''exec'\''" trace &&
	test_grep "podman.*info" trace &&
	test_grep -e "--process" trace &&
	! grep /nonexistent "$GIT_SAND_HOME/oci-runtime.json"
'

test_expect_success DIRECT 'a record of another CONTAINERS_CONF is not used' '
	rm -f trace &&
	cp "$CONTAINERS_CONF" other.conf &&
	(
		cd repo &&
		CONTAINERS_CONF=$TRASH_DIRECTORY/other.conf \
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand exec fast true
	) &&
	test_grep "podman.*info" trace &&
	test_grep other.conf "$GIT_SAND_HOME/oci-runtime.json"
'

test_expect_success DIRECT 'exec -t takes podman exec' '
	rm -f trace &&
	(
		cd repo &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
		script -qec "git sand exec -t fast true" /dev/null </dev/null >/dev/null
	) &&
	test_grep "'\''podman'\'' '\''exec'\''.*--tty" trace
'

test_expect_success DIRECT 'no file is left behind in the state root' '
	! ls "$GIT_SAND_HOME" | grep "^exec-"
'

test_expect_success PODMAN 'ls asks no runtime when every container is seen running' '
	(
		cd repo &&
		git sand new -d other >/dev/null &&
		rm -f ../trace &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand ls --porcelain >../ls1 &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand ls --porcelain >../ls2
	) &&
	test "$(grep -c " .ps. " trace)" = 1 &&
	test_cmp ls1 ls2 &&
	test "$(grep -c "^status running$" ls2)" = 2
'

test_expect_success PODMAN 'a stopped container: podman'"'"'s own files tell' '
	(
		cd repo &&
		# An exec keeps what podman said of itself, for ls to read.
		git sand exec fast true &&
		git sand stop other &&
		rm -f ../trace &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand ls --porcelain >../ls &&
		sandbox_field other status >../status-stopped
	) &&
	echo stopped >expect &&
	test_cmp expect status-stopped &&
	if test_have_prereq DIRECT
	then
		! grep " .ps. " trace
	else
		test_grep " .ps. " trace
	fi
'

test_expect_success DIRECT 'a record made before podman'"'"'s configuration changed is not used to tell' '
	cp "$CONTAINERS_CONF" changed.conf &&
	(
		cd repo &&
		CONTAINERS_CONF=$TRASH_DIRECTORY/changed.conf git sand exec fast true &&
		rm -f ../trace &&
		CONTAINERS_CONF=$TRASH_DIRECTORY/changed.conf GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
			sandbox_field other status >../status-conf &&
		! grep " .ps. " ../trace &&
		touch -d "2001-01-01" ../changed.conf &&
		rm -f ../trace &&
		CONTAINERS_CONF=$TRASH_DIRECTORY/changed.conf GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
			sandbox_field other status >>../status-conf &&
		test_grep " .ps. " ../trace &&
		# The record for the tests'"'"' own configuration again.
		git sand exec fast true
	) &&
	printf "stopped\nstopped\n" >expect &&
	test_cmp expect status-conf
'

test_expect_success DIRECT 'a record of another podman is not used to tell' '
	mkdir -p other-podman &&
	{ echo "#!/bin/sh" && echo "exec $(command -v podman) \"\$@\""; } >other-podman/podman &&
	chmod +x other-podman/podman &&
	rm -f trace &&
	(
		cd repo &&
		PATH=$TRASH_DIRECTORY/other-podman:$PATH \
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace git sand ls --porcelain >../ls
	) &&
	test_grep " .ps. " trace &&
	awk "\$1 == \"sandbox\" { s = \$2 } s == \"other\" && \$1 == \"status\" { print \$2 }" ls >status &&
	echo stopped >expect &&
	test_cmp expect status
'

test_expect_success DIRECT 'a container started behind git-sand'"'"'s back is podman'"'"'s to tell' '
	(
		cd repo &&
		podman start "$(sandbox_field other container)" >/dev/null &&
		rm -f ../trace &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace sandbox_field other status >../status-started &&
		rm -f ../trace2 &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace2 sandbox_field other status >../status-again
	) &&
	test_grep " .ps. " trace &&
	! grep " .ps. " trace2 &&
	echo running >expect &&
	test_cmp expect status-started &&
	test_cmp expect status-again
'

test_expect_success PODMAN 'a removed container: podman'"'"'s own files tell' '
	(
		cd repo &&
		"$TEST_RUNTIME" rm -f "$(sandbox_field fast container)" >/dev/null &&
		rm -f ../trace &&
		GIT_SAND_TRACE=$TRASH_DIRECTORY/trace sandbox_field fast status >../status-gone &&
		git sand rm -f other
	) &&
	if test_have_prereq DIRECT
	then
		! grep " .ps. " trace
	else
		test_grep " .ps. " trace
	fi &&
	echo missing >expect &&
	test_cmp expect status-gone
'

# A new or start killed between podman's create and recording the id
# leaves a row with no container, and perhaps a container of its name.
# (Each test here takes the sandbox fast as the one before left it.)
test_expect_success DIRECT 'no container recorded, none of its name: podman'"'"'s files tell' '
	sqlite3 "$GIT_SAND_HOME/sand.db" \
		"UPDATE sandboxes SET container = NULL WHERE name = '"'fast'"'" &&
	test -z "$(cd repo && sandbox_field fast container)" &&
	traced_status repo fast status-none &&
	! grep " .ps. " trace &&
	echo missing >expect &&
	test_cmp expect status-none
'

test_expect_success DIRECT 'a container of its name, not recorded, is podman'"'"'s to tell' '
	id=$(cd repo && sandbox_field fast id) &&
	image=$(cd repo && sandbox_field fast image) &&
	podman create -q --name "sand-fast-$(printf %.8s "$id")" \
		--label io.git-sand.id="$id" "$image" true >made &&
	test_when_finished "podman rm -f \"\$(cat made)\" >/dev/null" &&
	traced_status repo fast status-made &&
	test_grep " .ps. " trace &&
	echo stopped >expect &&
	test_cmp expect status-made
'

# A sandbox made before git-sand dropped --name from runArgs may have
# its container under that name: its record says so.
test_expect_success DIRECT 'no container recorded where runArgs name it: podman'"'"'s to tell' '
	own=$(cd own && sandbox_field own container) &&
	ours=$(podman inspect --format "{{.Name}}" "$own") &&
	dir=$(sqlite3 "$GIT_SAND_HOME/sand.db" "SELECT dir FROM sandboxes WHERE name = '"'own'"'") &&
	test_grep "\"--group-add=100\"" "$dir/devcontainer.json" &&
	cp "$dir/devcontainer.json" record.saved &&
	test_when_finished "cp record.saved \"$dir/devcontainer.json\"" &&
	sed "s/\"--group-add=100\"/&,\"--name=t1010-own-$$\"/" record.saved >"$dir/devcontainer.json" &&
	podman rename "$own" "t1010-own-$$" &&
	test_when_finished "podman rename \"$own\" \"$ours\"" &&
	sqlite3 "$GIT_SAND_HOME/sand.db" \
		"UPDATE sandboxes SET container = NULL WHERE name = '"'own'"'" &&
	test_when_finished "sqlite3 \"\$GIT_SAND_HOME/sand.db\" \"UPDATE sandboxes SET container = '\''$own'\'' WHERE name = '\''own'\''\"" &&
	traced_status own own status-own &&
	test_grep " .ps. " trace &&
	echo running >expect &&
	test_cmp expect status-own
'

test_expect_success DIRECT 'remove the sandbox with a group added' '
	test -n "$own" &&
	(cd own && git sand rm -f own) &&
	! podman container exists "$own"
'

test_expect_success DIRECT 'a record made with another CONTAINER_CONNECTION is not used to tell' '
	(
		cd repo &&
		rm -f ../trace &&
		CONTAINER_CONNECTION=t1010-none GIT_SAND_TRACE=$TRASH_DIRECTORY/trace \
			git sand ls --porcelain >../ls 2>../err
	) &&
	test_grep " .ps. " trace
'

# podman's storage, as the record of podman's answers names it, pointed
# at lists the test writes: containers.json, then volatile-containers.json
# beside it. fast has no container recorded (above).
storage_says () {
	mkdir -p "storage/$driver-containers" &&
	rm -f "storage/$driver-containers/"*.json &&
	printf "%s" "$1" >"storage/$driver-containers/containers.json" &&
	if test $# -gt 1
	then
		printf "%s" "$2" >"storage/$driver-containers/volatile-containers.json"
	fi &&
	traced_status repo fast status-list &&
	echo missing >expect &&
	test_cmp expect status-list
}

test_expect_success DIRECT 'lists of podman'"'"'s containers that cannot tell: podman asked' '
	record=$GIT_SAND_HOME/oci-runtime.json &&
	cp "$record" record.saved &&
	test_when_finished "cp record.saved \"$record\"" &&
	driver=$(sed -n "s/.*\"driver\":[[:space:]]*\"\([a-z0-9]*\)\".*/\1/p" "$record") &&
	test -n "$driver" &&
	sed "s|\"graphroot\":[^,]*|\"graphroot\": \"$TRASH_DIRECTORY/storage\"|" record.saved >"$record" &&
	name=sand-fast-$(cd repo && sandbox_field fast id | cut -c1-8) &&
	storage_says "[]" &&
	! grep " .ps. " trace &&
	storage_says "[]" "[{\"id\": \"x\", \"names\": []}]" &&
	! grep " .ps. " trace &&
	for list in "[{\"id\": 1}]" "[{\"id\": \"a\", \"names\": \"b\"}]" "{" "" \
		"[{\"id\": \"x\", \"names\": [\"$name\"]}]"
	do
		storage_says "$list" &&
		test_grep " .ps. " trace &&
		storage_says "[]" "$list" &&
		test_grep " .ps. " trace || return 1
	done &&
	# Not through a symbolic link.
	echo "[]" >elsewhere.json &&
	storage_says "[]" &&
	ln -sf "$TRASH_DIRECTORY/elsewhere.json" "storage/$driver-containers/containers.json" &&
	traced_status repo fast status-list &&
	test_grep " .ps. " trace &&
	# podman 4.4 and on with transient_store keeps its lists elsewhere.
	sed "s|\"graphroot\":[^,]*|\"graphroot\": \"$TRASH_DIRECTORY/storage\"|; s|\"transient\":false|\"transient\":true|" \
		record.saved >"$record" &&
	test_grep "\"transient\":true" "$record" &&
	storage_says "[]" &&
	test_grep " .ps. " trace
'

test_expect_success DIRECT,!ROOTLESS 'a list of podman'"'"'s containers that is not root'"'"'s tells nothing' '
	record=$GIT_SAND_HOME/oci-runtime.json &&
	driver=$(sed -n "s/.*\"driver\":[[:space:]]*\"\([a-z0-9]*\)\".*/\1/p" "$record") &&
	cp "$record" record.saved &&
	test_when_finished "cp record.saved \"$record\"" &&
	sed "s|\"graphroot\":[^,]*|\"graphroot\": \"$TRASH_DIRECTORY/storage\"|" record.saved >"$record" &&
	storage_says "[]" &&
	! grep " .ps. " trace &&
	chown nobody "storage/$driver-containers/containers.json" &&
	traced_status repo fast status-list &&
	test_grep " .ps. " trace
'

test_expect_success DIRECT 'cleanup' '
	(cd repo && git sand rm -f fast)
'

test_done

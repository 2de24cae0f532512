# test-lib.sh: a small TAP test library in the manner of git's t/test-lib.sh.
#
# A test script sets test_description, sources this file, then runs
# test_expect_success blocks and ends with test_done. Each script runs in a
# trash directory of its own (tests/trash.<script>), with a reset
# environment: LANG=C, TZ=UTC, its own HOME and GIT_SAND_HOME, and fixed
# author and committer identities and dates.
#
# Options: -v/--verbose shows the commands' output; -i/--immediate stops at
# the first failure; -d/--debug keeps the trash directory.

TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=$(basename "$0" .sh)
SRC_DIRECTORY=$(cd "$TEST_DIRECTORY/.." && pwd)
TRASH_DIRECTORY="$TEST_DIRECTORY/trash.$TEST_NAME"

verbose= immediate= debug=
for arg
do
	case "$arg" in
	-v|--verbose) verbose=t ;;
	-i|--immediate) immediate=t ;;
	-d|--debug) debug=t ;;
	esac
done

# A reset environment.
LANG=C LC_ALL=C TZ=UTC
export LANG LC_ALL TZ
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_CEILING_DIRECTORIES \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT \
	XDG_CONFIG_HOME XDG_STATE_HOME GIT_SAND_HOME EDITOR VISUAL PAGER GIT_PAGER
GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL='committer@example.com'
GIT_AUTHOR_DATE='1112354055 +0200' GIT_COMMITTER_DATE='1112354055 +0200'
GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 GIT_PAGER=cat PAGER=cat
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_AUTHOR_DATE GIT_COMMITTER_DATE GIT_CONFIG_NOSYSTEM GIT_TERMINAL_PROMPT \
	GIT_PAGER PAGER

# The git-sand under test comes first in PATH, so "git sand" runs it.
PATH="$SRC_DIRECTORY:$PATH"
export PATH

# Sanitizer builds: leaks in third-party libraries are not ours.
# Which suppressions matched is not our output: tests read stderr whole.
LSAN_OPTIONS="suppressions=$TEST_DIRECTORY/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

# podman on this kind of machine needs runc and ulimits it may set.
: "${CONTAINERS_CONF:=$TEST_DIRECTORY/containers.conf}"
export CONTAINERS_CONF
TEST_IMAGE=localhost/git-sand-test:latest
export TEST_IMAGE
# The runtime the sandboxes run on: podman, or docker with
# GIT_SAND_TEST_RUNTIME=docker (and DOCKER_HOST pointing at a dockerd, as
# tests/run-docker.sh sets up). Scripts that talk to it themselves run
# "$TEST_RUNTIME ..." with the verbs both CLIs share.
TEST_RUNTIME=${GIT_SAND_TEST_RUNTIME:-podman}
case "$TEST_RUNTIME" in
podman|docker) ;;
*) echo "Bail out! GIT_SAND_TEST_RUNTIME must be podman or docker"; exit 1 ;;
esac
export TEST_RUNTIME

# Rootless podman keeps its images and containers under the user's home,
# in files owned by subordinate ids that the user cannot remove: under the
# real home, where every script shares the test image, not the trash's.
if test "$TEST_RUNTIME" = podman && test "$(id -u)" != 0 && test -z "${XDG_DATA_HOME:-}"
then
	XDG_DATA_HOME="$HOME/.local/share"
	export XDG_DATA_HOME
fi

rm -rf "$TRASH_DIRECTORY" || exit 1
mkdir -p "$TRASH_DIRECTORY/home" || exit 1
HOME="$TRASH_DIRECTORY/home"
GIT_SAND_HOME="$TRASH_DIRECTORY/state"
export HOME GIT_SAND_HOME
git config --global init.defaultBranch main
git config --global sand.image "$TEST_IMAGE"
git config --global sand.network none
test "$TEST_RUNTIME" = podman || git config --global sand.runtime "$TEST_RUNTIME"
# Sessions (tmux, which the image has) where a test asks for them
# (t5002): the others type into a shell on a terminal and read its exit
# status, which a session does not pass on.
git config --global sand.session never
cd "$TRASH_DIRECTORY" || exit 1

if test -n "$verbose"
then
	exec 4>&2 3>&1
else
	exec 4>/dev/null 3>/dev/null
fi

test_count=0 test_failed=0 test_fixed=0 test_broken=0
test_prereqs=" "
test_cleanup=:

say () { printf '%s\n' "$*"; }
say_comment () { printf '%s\n' "$*" | sed 's/^/# /'; }

# As in git's test-lib: a script that exits before test_done (an error
# outside any test, a typo, a helper that exits) is a failure, not a pass
# with fewer tests. Whatever way it ends, the sshd it started is stopped.
GIT_EXIT_OK=
test_exit_ () {
	GIT_EXIT_OK=t
	exit "$1"
}
test_at_exit_ () {
	code=$?
	! command -v stop_sshd >/dev/null 2>&1 || stop_sshd
	test_unlock_dc_images
	test -n "$GIT_EXIT_OK" && exit $code
	say "Bail out! the script ended (status $code) before test_done"
	exit 1
}
trap 'test_at_exit_' EXIT

test_set_prereq () { test_prereqs="$test_prereqs$1 "; }

test_have_prereq () {
	for p in $(printf '%s' "$1" | tr ',' ' ')
	do
		case "$p" in
		!*) case "$test_prereqs" in *" ${p#!} "*) return 1 ;; esac ;;
		*) case "$test_prereqs" in *" $p "*) ;; *) return 1 ;; esac ;;
		esac
	done
	return 0
}

test_when_finished () {
	test_cleanup="{ $*
	} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup"
}

test_run_ () {
	test_cleanup=:
	# As git's: no test reads the input of whoever runs the tests.
	eval <"/dev/null" >&3 2>&4 "$1"
	eval_ret=$?
	eval >&3 2>&4 "$test_cleanup"
	return $eval_ret
}

test_skip_ () {
	if test $# -eq 2 && ! test_have_prereq "$1"
	then
		test_count=$((test_count + 1))
		say "ok $test_count # skip $2 (missing $1)"
		return 0
	fi
	return 1
}

test_expect_success () {
	test "$#" = 3 && { prereq=$1; shift; } || prereq=
	test "$#" = 2 || { say "Bail out! bug in test script: test_expect_success needs 2 or 3 arguments"; test_exit_ 1; }
	if test -n "$prereq" && test_skip_ "$prereq" "$1"
	then
		return 0
	fi
	test_count=$((test_count + 1))
	if test_run_ "$2"
	then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1"
		say_comment "$2"
		if test -n "$immediate"
		then
			say "Bail out! stopped at the first failure (--immediate)"
			test_exit_ 1
		fi
	fi
}

test_expect_failure () {
	test "$#" = 3 && { prereq=$1; shift; } || prereq=
	if test -n "$prereq" && test_skip_ "$prereq" "$1"
	then
		return 0
	fi
	test_count=$((test_count + 1))
	if test_run_ "$2"
	then
		test_fixed=$((test_fixed + 1))
		say "ok $test_count - $1 # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		say "not ok $test_count - $1 # TODO known breakage"
	fi
}

# Fail unless the command fails normally: not by a signal, not because it
# was not found (127) or could not run (126).
test_must_fail () {
	"$@"
	exit_code=$?
	if test $exit_code -eq 0
	then
		echo >&4 "test_must_fail: command succeeded: $*"
		return 1
	elif test $exit_code -gt 129 && test $exit_code -le 192
	then
		echo >&4 "test_must_fail: died by signal $((exit_code - 128)): $*"
		return 1
	elif test $exit_code -eq 127 || test $exit_code -eq 126
	then
		echo >&4 "test_must_fail: command not found or not runnable: $*"
		return 1
	fi
	return 0
}

test_expect_code () {
	want=$1
	shift
	"$@"
	exit_code=$?
	if test $exit_code -ne "$want"
	then
		echo >&4 "test_expect_code: command exited with $exit_code, we wanted $want: $*"
		return 1
	fi
	return 0
}

test_cmp () {
	diff -u "$@" >&4
}

test_path_is_file () { test -f "$1" || { echo >&4 "file $1 does not exist"; return 1; }; }
test_path_is_dir () { test -d "$1" || { echo >&4 "directory $1 does not exist"; return 1; }; }
test_path_is_missing () {
	if test -e "$1" || test -L "$1"
	then
		echo >&4 "path $1 exists"
		return 1
	fi
}
test_line_count () {
	n=$(wc -l <"$3" | tr -d ' ')
	test "$n" "$1" "$2" || { echo >&4 "test_line_count: $3 has $n lines, not $1 $2"; cat "$3" >&4; return 1; }
}
test_grep () {
	grep "$@" || { echo >&4 "test_grep: no match for: $*"; return 1; }
}

test_commit () {
	echo "$1" >"$1.t" && git add "$1.t" && git commit -q -m "$1"
}

# Remove the containers this script's sandboxes made, whatever state they
# were left in.
test_cleanup_containers_ () {
	command -v "$TEST_RUNTIME" >/dev/null 2>&1 || return 0
	if test "$TEST_RUNTIME" = docker
	then
		format='{{.ID}} {{.Label "io.git-sand.worktree"}}'
	else
		format='{{.ID}} {{index .Labels "io.git-sand.worktree"}}'
	fi
	ids=$("$TEST_RUNTIME" ps -aq --filter "label=io.git-sand.worktree" \
		--format "$format" 2>/dev/null |
		while read -r id wt
		do
			case "$wt" in "$TRASH_DIRECTORY"*) echo "$id" ;; esac
		done)
	test -z "$ids" || "$TEST_RUNTIME" rm -f $ids >/dev/null 2>&1
}

# test_container_exists <container>: whether the runtime has it.
test_container_exists () {
	"$TEST_RUNTIME" container inspect "$1" >/dev/null 2>&1
}

test_done () {
	test_cleanup_containers_
	! command -v stop_sshd >/dev/null 2>&1 || stop_sshd
	say "1..$test_count"
	if test "$test_failed" -gt 0
	then
		say "# failed $test_failed among $test_count test(s)"
		test_exit_ 1
	fi
	test -n "$debug" || { cd "$TEST_DIRECTORY" && chmod -R u+w "$TRASH_DIRECTORY" 2>/dev/null; rm -rf "$TRASH_DIRECTORY"; }
	test_exit_ 0
}

# Containers. PODMAN is set only when the runtime under test (podman, or
# $GIT_SAND_TEST_RUNTIME) really runs a container here, from an image the
# tests build locally. Where CI is set, a machine that cannot is a
# failure, not a skip: a green run must mean containers ran.
# The image exists and is of the version build.sh makes.
test_image_current () {
	want=$(sed -n 's/^version=//p' "$TEST_DIRECTORY/image/build.sh") &&
	have=$("$TEST_RUNTIME" image inspect --format \
		'{{index .Config.Labels "io.git-sand.test-image"}}' "$TEST_IMAGE" 2>/dev/null) &&
	test "$have" = "$want"
}

# test_lock_dc_images: hold, until test_unlock_dc_images or the script's
# end, the lock of the scripts that build images from devcontainer files
# (named by their contents, in the one store of images) and count or
# remove them: t1008 and t1009, which prove may run side by side. A
# process of its own holds it, so that no child of ours (a container's
# conmon) keeps it after us.
test_lock_dc_images () {
	rm -f "$TRASH_DIRECTORY/.dc-lock-held" &&
	(
		flock -w 1200 9 || exit 1
		: >"$TRASH_DIRECTORY/.dc-lock-held"
		while kill -0 $$ 2>/dev/null
		do
			sleep 1 9>&-
		done
	) 9>"$TEST_DIRECTORY/.dc-images.lock" </dev/null >/dev/null 2>&1 &
	dc_lock_pid=$!
	while ! test -f "$TRASH_DIRECTORY/.dc-lock-held"
	do
		kill -0 $dc_lock_pid 2>/dev/null || return 1
		sleep 0.1
	done
}

test_unlock_dc_images () {
	test -z "${dc_lock_pid:-}" || { kill $dc_lock_pid; wait $dc_lock_pid; } 2>/dev/null
	dc_lock_pid=
}

test_require_podman () {
	rt=$TEST_RUNTIME
	if ! command -v "$rt" >/dev/null 2>&1
	then
		reason="$rt is not installed"
	elif test "$rt" = docker && ! docker info >&4 2>&4
	then
		reason="no docker daemon answers (tests/run-docker.sh starts one)"
	elif ! (flock 9 && { test_image_current ||
		"$TEST_DIRECTORY/image/build.sh" "$rt" "$TEST_IMAGE"; }) \
		9>"$TEST_DIRECTORY/.image.lock" >&4 2>&4
	then
		reason="cannot build the test image"
	elif ! "$rt" run --rm --network none "$TEST_IMAGE" true >&4 2>&4
	then
		reason="$rt cannot run a container here (see tests/containers.conf)"
	else
		test_set_prereq PODMAN
		return 0
	fi
	if test -n "${CI:-}"
	then
		say "Bail out! $reason, and CI is set"
		test_exit_ 1
	fi
	# With --optional, only the tests that need PODMAN are skipped.
	test "${1:-}" = --optional && return 0
	say "1..0 # SKIP $reason"
	test_exit_ 0
}

# The reference implementation of devcontainer.json, npm's
# @devcontainers/cli (install-deps.sh installs it): $DEVCONTAINER_CLI, else
# devcontainer in PATH, with node to read its JSON. Sets the prerequisite
# DEVCONTAINER_CLI; where CI is set, a machine without it is a failure.
test_require_devcontainer_cli () {
	DEVCONTAINER_CLI=${DEVCONTAINER_CLI:-$(command -v devcontainer 2>/dev/null || :)}
	if test -n "$DEVCONTAINER_CLI" && command -v node >/dev/null 2>&1 &&
		"$DEVCONTAINER_CLI" --version >&4 2>&4
	then
		test_set_prereq DEVCONTAINER_CLI
		return 0
	fi
	if test -n "${CI:-}"
	then
		say "Bail out! devcontainer (npm's @devcontainers/cli, see install-deps.sh) does not run here, and CI is set"
		test_exit_ 1
	fi
}

# sandbox_field <name> <key>: a value from "git sand ls --porcelain".
sandbox_field () {
	git sand ls --porcelain | awk -v n="$1" -v k="$2" '$1 == "sandbox" { s = $2 } $1 == k && s == n { print $2 }'
}

# in_sandbox <name> <shell command>: run it in the sandbox's /app.
in_sandbox () {
	name=$1
	shift
	git sand exec "$name" sh -c "$*"
}

# A repository to make sandboxes from: "repo" with two commits.
test_create_repo () {
	git init -q "$1" &&
	(
		cd "$1" &&
		test_commit one &&
		test_commit two
	)
}

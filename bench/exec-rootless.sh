#!/bin/sh
# Benchmark: bench/exec.sh as a user who is not root, with rootless
# podman, as most people run git-sand: the user tests/run-rootless.sh
# makes (GIT_SAND_TEST_USER, default git-sand-ci), its scratch area in
# that user's home. Run as root, after "make" (and once
# tests/run-rootless.sh, which makes the user and its subordinate ids).
#
# usage: bench/exec-rootless.sh [runs]
set -eu
cd "$(dirname "$0")/.."
user=${GIT_SAND_TEST_USER:-git-sand-ci}
if ! home=$(getent passwd "$user" | cut -d: -f6) || test -z "$home"; then
	echo "exec-rootless.sh: no user '$user' (tests/run-rootless.sh makes it)" >&2
	exit 1
fi
# The tree is read where it is: it must be readable by that user.
su_env="env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS"
$su_env su "$user" -s /bin/sh -c 'BENCH_WORK=$1/bench-work exec sh "$0/bench/exec.sh" "$2"' \
	"$(pwd)" "$home" "${1:-20}"

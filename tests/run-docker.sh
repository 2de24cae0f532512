#!/bin/sh
# Run test scripts against docker: start a dockerd of our own (see
# lib-dockerd.sh), run the scripts given (default: the core ones) with
# GIT_SAND_TEST_RUNTIME=docker, stop it. As root. Where CI is set, a
# dockerd that cannot start is a failure; elsewhere, a skip.
#
# usage: tests/run-docker.sh [<script>...]
cd "$(dirname "$0")" || exit 1
. ./lib-dockerd.sh

test $# -gt 0 || set -- t1000-lifecycle.sh t2000-git-wiring.sh t1013-docker-api.sh

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 ||
	test "$(id -u)" != 0
then
	echo "run-docker.sh: dockerd and docker, run as root, are needed"
	test -z "${CI:-}" || exit 1
	exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/git-sand-dockerd.XXXXXX") || exit 1
trap 'stop_dockerd' EXIT
trap 'exit 130' INT TERM HUP
if ! start_dockerd "$dir"
then
	echo "run-docker.sh: cannot start dockerd"
	test -z "${CI:-}" || exit 1
	exit 0
fi
GIT_SAND_TEST_RUNTIME=docker
export GIT_SAND_TEST_RUNTIME
${PROVE:-prove} ${PROVE_OPTS:-} "$@"

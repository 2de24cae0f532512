#!/bin/sh
# Benchmark: git-sand against the docker CLI, in the same run, pair by
# pair, as medians and ratios: "git sand exec <name> true" against
# "docker exec <ctr> true" (git-sand asks the daemon's Engine API
# itself), the same the CLI way (sand.exec=cli), "git sand status"
# against "docker exec ... git status", and "git sand ls" with a
# stopped sandbox (the daemon must be asked) against "docker ps".
# As root, with a dockerd of its own (tests/lib-dockerd.sh: no
# iptables, no bridge, vfs storage, its state in a temporary
# directory). See bench/README-exec.md.
#
# usage: bench/exec-docker.sh [runs]     (BENCH_WORK=dir to work elsewhere)
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/lib-dockerd.sh"
runs=${1:-20}
repo=$WORK/exec-docker-repo

dir=$(mktemp -d "${TMPDIR:-/tmp}/git-sand-bench-dockerd.XXXXXX")
trap 'stop_dockerd' EXIT
trap 'exit 130' INT TERM HUP
start_dockerd "$dir" || exit 1
podman save "$IMAGE" | docker load >/dev/null
GIT_SAND_HOME=$WORK/state-docker
export GIT_SAND_HOME

rm -rf "$repo"
git init -q "$repo"
cd "$repo"
git commit -q --allow-empty -m init
git sand new -d --runtime docker -i "$IMAGE" --network none bench-docker >/dev/null
ctr=$(git sand ls --porcelain | awk '$1 == "container" { print $2; exit }')
git sand exec bench-docker true

set -- $(pairs "$runs" git sand exec bench-docker true -- docker exec "$ctr" true)
echo "git sand exec true:      $1 ms; docker exec true: $2 ms; ratio $3 (the daemon's API)"
set -- $(pairs "$runs" git -c sand.exec=cli sand exec bench-docker true -- docker exec "$ctr" true)
echo "sand.exec=cli:           $1 ms; docker exec true: $2 ms; overhead $(( $1 - $2 )) ms, ratio $3"
set -- $(pairs "$runs" git sand status bench-docker -- docker exec -w /app "$ctr" git status)
echo "git sand status:         $1 ms; docker exec git status: $2 ms; ratio $3 (target <= 1.2)"
git sand stop bench-docker >/dev/null
set -- $(pairs "$runs" git sand ls -- docker ps -a --filter label=io.git-sand.id --format json)
echo "git sand ls, stopped:    $1 ms; docker ps: $2 ms; ratio $3 (the daemon asked)"
set -- $(pairs "$runs" git -c sand.exec=cli sand ls -- docker ps -a --filter label=io.git-sand.id --format json)
echo "ls, sand.exec=cli:       $1 ms; docker ps: $2 ms; ratio $3"
git sand rm -f bench-docker >/dev/null

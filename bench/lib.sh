# Helpers for the benchmarks: a scratch area, timing in milliseconds, and
# the environment the tests use (so podman works on restricted machines).
set -eu
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
WORK=${BENCH_WORK:-$BENCH_DIR/work}
mkdir -p "$WORK"
PATH="$SRC_DIR:$PATH"
: "${CONTAINERS_CONF:=$SRC_DIR/tests/containers.conf}"
GIT_SAND_HOME=$WORK/state
IMAGE=${BENCH_IMAGE:-localhost/git-sand-test:latest}
export PATH CONTAINERS_CONF GIT_SAND_HOME
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

if ! podman image exists "$IMAGE"; then
	"$SRC_DIR/tests/image/build.sh" podman "$IMAGE"
fi

now_ns () { date +%s%N; }

# ms <command...>: run it, print the milliseconds it took on stdout.
ms () {
	t0=$(now_ns)
	"$@" >/dev/null 2>&1
	t1=$(now_ns)
	echo $(( (t1 - t0) / 1000000 ))
}

# median of the numbers on stdin
median () {
	sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

ratio () {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.2f", a / b }'
}

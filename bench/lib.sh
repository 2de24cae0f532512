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

# pairs <runs> <command A> -- <command B>: "<median A> <median B> <median of A/B>",
# run pair by pair (A B A B ...), so that a drift of the machine hits both.
pairs () {
	n=$1
	shift
	a= b=
	while test "$1" != --; do a="$a $1"; shift; done
	shift
	b=$*
	for i in $(seq 1 "$n"); do
		ta=$(ms $a)
		tb=$(ms $b)
		echo "$ta $tb"
	done | awk '{ a[NR] = $1; b[NR] = $2; r[NR] = ($2 > 0) ? $1 / $2 : 0 }
	function med(x, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
	}
	END { printf "%d %d %.2f\n", med(a, NR), med(b, NR), med(r, NR) }'
}

ratio () {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.2f", a / b }'
}

# bench_repo <dir>: the benchmark repository (made once): 320 MB of
# history, 5,000 source files, and some work in progress.
bench_repo () {
	repo=$1
	if ! test -d "$repo/.git"; then
		echo "building the benchmark repository (once)..." >&2
		git init -q "$repo"
		(
			cd "$repo"
			# History: 320 MB of incompressible data, added then removed.
			for i in $(seq 1 40); do
				head -c 8M /dev/urandom >blob-$i.bin
				git add blob-$i.bin
				git commit -q -m "blob $i"
			done
			git rm -q blob-*.bin
			git commit -q -m "drop the blobs"
			# The working tree: 5,000 source files in 100 directories.
			for d in $(seq 1 100); do
				mkdir -p src/d$d
				for f in $(seq 1 50); do
					printf 'file %d/%d\n%s\n' $d $f "$(head -c 1500 /dev/urandom | base64 -w 76)" >src/d$d/f$f.c
				done
			done
			git add src
			git commit -q -m "sources"
			git gc -q
			# Work in progress, as a sandbox would get it.
			echo change >>src/d1/f1.c
			echo new >untracked.txt
		)
	fi
}

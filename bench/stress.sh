#!/bin/sh
# Stress: 16 "git sand new" at once in one repository (named and unnamed),
# with ls, fetch, stop and start alongside; then 50 "new"s interrupted
# with SIGINT at random moments, which must leave nothing behind without
# any gc; then 50 killed with SIGKILL, whose half-made sandboxes ls must
# show as broken and one "git sand gc" must clear. Prints what is left
# over (must be 0) and exits non-zero if anything is.
#
# usage: bench/stress.sh [kills]
. "$(dirname "$0")/lib.sh"
kills=${1:-50}
repo=$WORK/stress-repo
export GIT_SAND_HOME=$WORK/stress-state

rm -rf "$repo"
git init -q "$repo"
cd "$repo"
for i in $(seq 1 200); do echo "$i" >"f$i"; done
git add . && git commit -q -m base
git config sand.image "$IMAGE"
git config sand.network none
git sand rm -f --all >/dev/null 2>&1 || true

echo "16 concurrent new (8 named, 8 unnamed), with ls, fetch, stop and start alongside"
pids=
for i in $(seq 1 8); do
	git sand new -d "named-$i" >"$WORK/new-named-$i.out" 2>&1 & pids="$pids $!"
	git sand new -d >"$WORK/new-anon-$i.out" 2>&1 & pids="$pids $!"
done
side_failures=0
for i in $(seq 1 5); do
	git sand ls >/dev/null 2>&1 || side_failures=$((side_failures + 1))
	git sand ls --all --json >/dev/null 2>&1 || side_failures=$((side_failures + 1))
	sleep 0.2
done
failed=0
for p in $pids; do
	wait "$p" || failed=$((failed + 1))
done
names=$(git sand ls --porcelain | sed -n 's/^sandbox //p' | sort)
n=$(echo "$names" | grep -c . || true)
distinct=$(echo "$names" | sort -u | grep -c . || true)
ctrs=$(podman ps -aq --filter "label=io.git-sand.home=$GIT_SAND_HOME" | sort -u | wc -l)
remotes=$(git remote | grep -c '^sand/' || true)
git sand fetch --all >/dev/null 2>&1 || side_failures=$((side_failures + 1))
git sand stop --all >/dev/null 2>&1 || side_failures=$((side_failures + 1))
git sand start --all >/dev/null 2>&1 || side_failures=$((side_failures + 1))
echo "  new that failed: $failed of 16; sandboxes: $n, distinct names: $distinct, containers: $ctrs, remotes: $remotes"
echo "  ls/fetch/stop/start that failed alongside: $side_failures"
test "$failed" = 0 && test "$n" = 16 && test "$distinct" = 16 && test "$ctrs" = 16 &&
	test "$remotes" = 16 && test "$side_failures" = 0 || { echo "FAILED"; cat "$WORK"/new-*.out | grep -v '^[a-z0-9-]*$' | head; exit 1; }
git sand rm -f --all >/dev/null

# What is left that no complete sandbox owns: rows not running or stopped,
# directories and containers beyond one per complete sandbox, locks, and
# remotes beyond one per complete sandbox.
leftovers () {
	complete=$(git sand ls --all --porcelain | grep -c '^status \(running\|stopped\)$' || true)
	rows=$(git sand ls --all --porcelain | grep -c '^sandbox ' || true)
	dirs=$(ls "$GIT_SAND_HOME/sandboxes" 2>/dev/null | grep -vc '\.lock$' || true)
	locks=$(ls "$GIT_SAND_HOME/sandboxes" 2>/dev/null | grep -c '\.lock$' || true)
	ctrs=$(podman ps -aq --filter "label=io.git-sand.home=$GIT_SAND_HOME" | wc -l)
	remotes=$(git remote | grep -c '^sand/' || true)
	rows=$((rows - complete)) dirs=$((dirs - complete)) ctrs=$((ctrs - complete))
	remotes=$((remotes - complete))
	left=$((rows + dirs + locks + ctrs + remotes))
	echo "  leftovers: $left (rows $rows, directories $dirs, locks $locks, containers $ctrs, remotes $remotes; complete sandboxes $complete)"
}

# random_sleep <ms>: sleep 0 to <ms> milliseconds.
random_sleep () {
	sleep "$(od -An -N2 -tu2 /dev/urandom | awk -v m="$1" '{ printf "%.3f", ($1 % m) / 1000 }')"
}

echo "$kills new interrupted with SIGINT at random moments (a terminal's ^C: the whole process group), no gc"
for i in $(seq 1 "$kills"); do
	setsid git-sand new -d "i$i" >/dev/null 2>&1 &
	pid=$!
	# 0 to 1500 ms: before the row, mid-copy, mid-create, after start.
	random_sleep 1500
	kill -INT "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
leftovers
interrupted_left=$left
git sand rm -f --all >/dev/null 2>&1 || true

echo "$kills new killed with SIGKILL at random moments, then one gc"
for i in $(seq 1 "$kills"); do
	git-sand new -d "k$i" >/dev/null 2>&1 &
	pid=$!
	# 0 to 600 ms: before the row, mid-clone, mid-create, after start.
	random_sleep 600
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
half=$(git sand ls --porcelain | grep -c '^status \(creating\|removing\)$' || true)
broken=$(git sand ls --porcelain | grep -c '^status broken$' || true)
echo "  rows ls shows as broken: $broken; as creating or removing with nobody at work: $half"
git sand gc >"$WORK/gc.out" 2>&1 || true
echo "  gc removed: $(grep -c '^Removing' "$WORK/gc.out" || true) things"
leftovers
killed_left=$left
# Whatever finished before its kill is a complete sandbox: remove those.
git sand rm -f --all >/dev/null 2>&1 || true
test "$interrupted_left" = 0 && test "$killed_left" = 0 && test "$half" = 0

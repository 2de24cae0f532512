#!/bin/sh
# Stress: 16 "git sand new" at once in one repository (named and unnamed),
# with ls, fetch, stop and start alongside; then 50 "new"s killed with
# SIGKILL at random moments, followed by "git sand gc". Prints what is
# left over after gc (must be 0) and exits non-zero if anything is.
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

echo "$kills new killed with SIGKILL at random moments, then gc"
for i in $(seq 1 "$kills"); do
	git-sand new -d "k$i" >/dev/null 2>&1 &
	pid=$!
	# 0 to 600 ms: before the row, mid-clone, mid-create, after start.
	sleep "0.$(od -An -N2 -tu2 /dev/urandom | tr -d ' ' | awk '{ printf "%03d", $1 % 600 }')"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
git sand gc >"$WORK/gc.out" 2>&1 || true
# Whatever finished before its kill is a complete sandbox: remove those.
git sand rm -f --all >/dev/null 2>&1 || true
git sand gc >>"$WORK/gc.out" 2>&1 || true

rows=$(git sand ls --all --porcelain | grep -c '^sandbox ' || true)
dirs=$(ls "$GIT_SAND_HOME/sandboxes" 2>/dev/null | grep -vc '\.lock$' || true)
locks=$(ls "$GIT_SAND_HOME/sandboxes" 2>/dev/null | grep -c '\.lock$' || true)
ctrs=$(podman ps -aq --filter "label=io.git-sand.home=$GIT_SAND_HOME" | wc -l)
remotes=$(git remote | grep -c '^sand/' || true)
left=$((rows + dirs + locks + ctrs + remotes))
echo "  gc removed: $(grep -c '^Removing' "$WORK/gc.out" || true) things"
echo "  leftovers: $left (rows $rows, directories $dirs, locks $locks, containers $ctrs, remotes $remotes)"
test "$left" = 0

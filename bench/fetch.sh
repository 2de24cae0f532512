#!/bin/sh
# Benchmark: "git sand fetch" of 100 new sandbox commits against plain
# "git fetch" of the same commits from the same clone, in the same run.
#
# usage: bench/fetch.sh [runs]
. "$(dirname "$0")/lib.sh"
runs=${1:-5}
repo=$WORK/fetch-repo

rm -rf "$repo"
git init -q "$repo"
cd "$repo"
for d in $(seq 1 20); do
	mkdir -p d$d
	for f in $(seq 1 50); do echo "$d $f" >d$d/f$f; done
done
git add . && git commit -q -m base
git sand rm -f --all >/dev/null 2>&1 || true
git sand new -d -i "$IMAGE" --network none f >/dev/null
git sand exec f sh -c 'git config user.name a; git config user.email a@b
	i=0; while [ $i -lt 100 ]; do i=$((i + 1)); echo "$i" >>d$((i % 20 + 1))/f$i; git add -A; git commit -q -m "c$i"; done'

packs () { ls .git/objects/pack/*.pack 2>/dev/null | sort; }
before=$(packs)
# Undo a fetch: its refs and the pack it wrote.
reset () {
	for r in $(git for-each-ref --format='%(refname)' refs/remotes/sand/f); do
		git update-ref --no-deref -d "$r"
	done
	for p in $(packs); do
		echo "$before" | grep -qx "$p" || rm -f "${p%.pack}".*
	done
}

g=$(for i in $(seq 1 "$runs"); do
	reset
	ms git -c fetch.unpackLimit=1 fetch -q sand/f
done | median)
s=$(for i in $(seq 1 "$runs"); do
	reset
	ms git sand fetch -q f
done | median)
reset
echo "git fetch sand/f:   $g ms (median of $runs)"
echo "git sand fetch f:   $s ms (median of $runs)"
echo "ratio sand/git:     $(ratio "$s" "$g")    (target <= 1.0)"
test -n "${BENCH_KEEP:-}" || git sand rm -f f >/dev/null

#!/bin/sh
# Benchmark: what the per-branch hooks add to "git switch -c", against the
# same repository without them, in the same run (target: at most 50 ms).
#
# usage: bench/hooks.sh [runs]
. "$(dirname "$0")/lib.sh"
runs=${1:-10}
repo=$WORK/hooks-repo

rm -rf "$repo"
git init -q "$repo"
cd "$repo"
git commit -q --allow-empty -m base
git config sand.image "$IMAGE"
git config sand.network none

switch_ms () {
	for i in $(seq 1 "$runs"); do
		ms git switch -q -c "$1-$i"
		git switch -q - >/dev/null 2>&1
	done | median
}

plain=$(switch_ms plain)
git sand hook install >/dev/null 2>&1
git config sand.autoBranch true
git config sand.autoBranchPattern 'agent/*'
nomatch=$(switch_ms other)
match=$(switch_ms agent/b)
echo "git switch -c, no hooks:                        $plain ms"
echo "with the hooks, branch not matching the policy: $nomatch ms (+$((nomatch - plain)) ms)"
echo "with the hooks, branch that gets a sandbox:     $match ms (+$((match - plain)) ms; made in the background)"
# Let the background sandboxes finish, then clean up.
i=0
while test $i -lt 300 && test "$(git sand ls --porcelain | grep -c '^status running')" -lt "$runs"; do
	sleep 0.2
	i=$((i + 1))
done
echo "sandboxes made by the hooks: $(git sand ls --porcelain | grep -c '^status running') of $runs"
git sand rm -f --all >/dev/null 2>&1
git sand hook uninstall >/dev/null

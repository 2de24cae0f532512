#!/bin/sh
# Benchmark: "git sand new --detach" against "git worktree add" of the same
# commit, in the same run, on a repository with >= 5,000 files and >= 300 MB
# of history; the sandbox's disk footprint against the working tree's; the
# overhead of "git sand exec" over "podman exec"; "git sand ls" with 200
# sandboxes.
#
# usage: bench/new.sh [runs]     (BENCH_WORK=dir to work elsewhere)
. "$(dirname "$0")/lib.sh"
runs=${1:-5}
repo=$WORK/repo

bench_repo "$repo"
cd "$repo"
git sand rm -f --all >/dev/null 2>&1 || true
files=$(git ls-files | wc -l)
history_mb=$(du -sm .git/objects | cut -f1)
tree_kb=$(du -sk --exclude=.git . | cut -f1)
echo "repository: $files files, $history_mb MB of objects, working tree $tree_kb KB"

# A first new creates the mirror (hard links): shown apart.
first=$(ms git sand new -d -i "$IMAGE" --network none warmup)
git sand rm -f warmup >/dev/null

wt=$(for i in $(seq 1 "$runs"); do
	ms git worktree add -q --detach "$WORK/wt" HEAD
	git worktree remove --force "$WORK/wt"
done | median)
sand=$(for i in $(seq 1 "$runs"); do
	ms git sand new -d -i "$IMAGE" --network none b$i
done | median)
echo "git worktree add:      $wt ms (median of $runs)"
echo "git sand new --detach: $sand ms (median of $runs; the first new, which makes the mirror: $first ms)"
echo "ratio new/worktree:    $(ratio "$sand" "$wt")    (target <= 1.0)"

dir=$(git sand ls --porcelain | awk '$1 == "sandbox" && $2 == "b1" { s = 1 } s && $1 == "clone" { print $2; exit }')
sandbox_kb=$(du -sk "$(dirname "$dir")" | cut -f1)
# du counts a hard-linked file once per invocation: the mirror's own cost.
mirror=$(ls -d "$GIT_SAND_HOME"/mirrors/repo-*.git)
mirror_kb=$(du -sk .git "$mirror" | tail -1 | cut -f1)
echo "sandbox footprint:     $sandbox_kb KB vs working tree $tree_kb KB: $(ratio "$sandbox_kb" "$tree_kb")x (target <= 1.1)"
echo "mirror, shared by all sandboxes of the repository, beyond the host's .git: $mirror_kb KB"

ctr=$(git sand ls --porcelain | awk '$1 == "sandbox" && $2 == "b1" { s = 1 } s && $1 == "container" { print $2; exit }')
pe=$(for i in $(seq 1 20); do ms podman exec "$ctr" true; done | median)
se=$(for i in $(seq 1 20); do ms git sand exec b1 true; done | median)
echo "podman exec true:      $pe ms; git sand exec true: $se ms; overhead $((se - pe)) ms (target <= 15)"

# ls with 200 sandboxes: the real ones plus rows for the rest (their
# containers are missing, which ls must still report).
db=$GIT_SAND_HOME/sand.db
have=$(git sand ls --porcelain | grep -c '^sandbox ')
sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $((200 - have)))
	INSERT INTO sandboxes (id, name, worktree, gitdir, dir, runtime, image, state, created, updated)
	SELECT printf('%016x', 4096 + i), 'fake-' || i, '$(pwd)', '$(git rev-parse --git-common-dir | xargs realpath)',
	       '$GIT_SAND_HOME/sandboxes/fake-' || i, 'podman', '$IMAGE', 'ready', strftime('%s'), strftime('%s') FROM n"
echo "sandboxes listed:      $(git sand ls --porcelain | grep -c '^sandbox ')"
pps=$(for i in $(seq 1 10); do ms podman ps -a --filter label=io.git-sand.id --format json; done | median)
sls=$(for i in $(seq 1 10); do ms git sand ls; done | median)
echo "git sand ls:           $sls ms (target < 50); of which podman ps alone takes $pps ms"
sqlite3 "$db" "DELETE FROM sandboxes WHERE name LIKE 'fake-%'"
git sand rm -f --all >/dev/null

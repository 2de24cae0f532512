#!/bin/sh
# Benchmark: what a new sandbox costs with each kind of workspace, against
# "git worktree add" of the same commit in the same run: "new -d
# --workspace copy" (the whole working tree copied), "new -d --workspace
# overlay" the first time a tree is used (its base is checked out) and
# after (only the changes are copied), and each sandbox's own disk use.
#
# usage: bench/workspace.sh [runs] [<repository>]
#   Without a repository: a synthetic one of 80,000 files (made once),
#   with 20 changed files, an untracked one and an ignored tree of
#   20,000 files.
#   With one (a clone of git/git, say), its worktree as it is.
. "$(dirname "$0")/lib.sh"
runs=${1:-5}
repo=${2:-$WORK/big}

if test $# -lt 2 && ! test -d "$repo/.git"
then
	echo "building the 80,000-file repository (once)..." >&2
	git init -q "$repo"
	(
		cd "$repo"
		for d in $(seq 1 400)
		do
			mkdir -p src/d$d
			for f in $(seq 1 200)
			do
				echo "file $d/$f" >src/d$d/f$f.c
			done
		done
		git add src
		git commit -q -m "80,000 files"
		# 20 changed files, an untracked one, and an ignored tree of
		# 20,000 files (a node_modules).
		for d in $(seq 1 20); do echo change >>src/d$d/f$d.c; done
		echo new >untracked.txt
		echo "node_modules/" >.git/info/exclude
		for p in $(seq 1 100)
		do
			mkdir -p node_modules/p$p
			for f in $(seq 1 200); do echo "module $p/$f" >node_modules/p$p/m$f.js; done
		done
	)
fi

cd "$repo"
git sand rm -f --all >/dev/null 2>&1 || true
files=$(git ls-files | wc -l)
tree_kb=$(du -sk --exclude=.git . | cut -f1)
echo "repository: $files files, working tree $tree_kb KB"

# The mirror, made by a first new of either kind, is shared: not counted.
git sand new -d -i "$IMAGE" --network none --workspace copy warmup >/dev/null
git sand rm -f warmup >/dev/null
rm -rf "$GIT_SAND_HOME/bases"

wt=$(for i in $(seq 1 "$runs"); do
	ms git worktree add -q --detach "$WORK/wt" HEAD
	git worktree remove --force "$WORK/wt"
done | median)

# new_ms <kind> <name>: one new, in ms.
new_ms () {
	ms git sand new -d -i "$IMAGE" --network none --workspace "$1" "$2"
}

copy=$(for i in $(seq 1 "$runs"); do new_ms copy c$i; done | median)
first=$(new_ms overlay first)
overlay=$(for i in $(seq 1 "$runs"); do new_ms overlay o$i; done | median)

# sandbox_kb <name>: the disk its own directory takes (the base is shared).
sandbox_kb () {
	clone=$(git sand ls --porcelain | awk -v n="$1" '$1 == "sandbox" { s = $2 } s == n && $1 == "clone" { print $2 }')
	du -sk "$(dirname "$clone")" | cut -f1
}
# The first git status inside a sandbox, against the host's.
host_status=$(for i in $(seq 1 "$runs"); do ms git status --porcelain; done | median)
inside_status () {
	git sand new -d -i "$IMAGE" --network none --workspace "$1" "$2" >/dev/null
	ms git sand exec "$2" git status --porcelain
}
copy_status=$(for i in $(seq 1 "$runs"); do inside_status copy s$i; done | median)
overlay_status=$(for i in $(seq 1 "$runs"); do inside_status overlay t$i; done | median)
# The first status of an overlay sandbox a few seconds after new (an
# agent takes that long to start): its first process has looked up /app.
settle=${BENCH_SETTLE:-5}
settled_status=$(for i in $(seq 1 "$runs"); do
	git sand new -d -i "$IMAGE" --network none --workspace overlay u$i >/dev/null
	sleep "$settle"
	ms git sand exec u$i git status --porcelain
done | median)
# The same sandboxes' second status: the overlay mount's paths looked up once already.
overlay_again=$(for i in $(seq 1 "$runs"); do ms git sand exec t$i git status --porcelain; done | median)
true_exec=$(ms git sand exec t1 true)
copy_kb=$(sandbox_kb c1)
overlay_kb=$(sandbox_kb o1)
base_kb=$(du -sk "$GIT_SAND_HOME"/bases | cut -f1)
git sand rm -f --all >/dev/null

echo "git worktree add:                 $wt ms (median of $runs)"
echo "new -d --workspace copy:          $copy ms; ratio to worktree add: $(ratio "$copy" "$wt")"
echo "new -d --workspace overlay, first of its tree (checks out the base): $first ms; ratio: $(ratio "$first" "$wt")"
echo "new -d --workspace overlay, after: $overlay ms; ratio to worktree add: $(ratio "$overlay" "$wt"); to copy: $(ratio "$overlay" "$copy")"
echo "disk per sandbox: copy $copy_kb KB, overlay $overlay_kb KB ($(ratio "$overlay_kb" "$copy_kb") of it); the shared base: $base_kb KB"
echo "first git status inside (exec included; an exec of true: $true_exec ms): copy $copy_status ms, overlay $overlay_status ms; host $host_status ms; ratios $(ratio "$copy_status" "$host_status"), $(ratio "$overlay_status" "$host_status"); less the exec: $(ratio $((overlay_status - true_exec)) "$host_status")"
echo "first git status inside an overlay $settle s after new: $settled_status ms; ratio $(ratio "$settled_status" "$host_status"); less the exec: $(ratio $((settled_status - true_exec)) "$host_status")"
echo "second git status inside an overlay: $overlay_again ms; ratio $(ratio "$overlay_again" "$host_status"); less the exec: $(ratio $((overlay_again - true_exec)) "$host_status") (bench/overlay-stat.sh shows where the first one's time goes)"

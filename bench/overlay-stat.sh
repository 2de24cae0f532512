#!/bin/sh
# Benchmark: where the first "git status" in an overlay sandbox spends the
# time it takes beyond the host's. A fresh overlay mount of a sandbox's
# base and upper layer (as podman mounts it: lowerdir, upperdir, workdir),
# made here with mount(8), is walked with lstat on every path (GNU find
# -printf %s) and read by git status (this machine's git, the sandbox's
# .git), first on the new mount (cold), then again (warm); the same on the
# base itself, on a copied workspace, and on the host's worktree. Needs
# root (mount -t overlay), as overlay workspaces do.
#
# usage: bench/overlay-stat.sh [runs] [<repository>]
#   Without a repository: the one bench/workspace.sh builds ($WORK/big).
. "$(dirname "$0")/lib.sh"
runs=${1:-3}
repo=${2:-$WORK/big}
test -d "$repo/.git" || { echo "no repository at $repo: run bench/workspace.sh first" >&2; exit 1; }
cd "$repo"
git sand rm -f ostat-o ostat-c >/dev/null 2>&1 || true
git sand new -d -i "$IMAGE" --network none --workspace overlay ostat-o >/dev/null
git sand new -d -i "$IMAGE" --network none --workspace copy ostat-c >/dev/null
clone_of () { git sand ls --porcelain | awk -v n="$1" '$1 == "sandbox" { s = $2 } s == n && $1 == "clone" { print $2 }'; }
odir=$(dirname "$(clone_of ostat-o)")
cdir=$(dirname "$(clone_of ostat-c)")
ctr=$(git sand ls --porcelain | awk '$1 == "sandbox" { s = $2 } s == "ostat-o" && $1 == "container" { print $2 }')
base=$(podman exec "$ctr" cat /proc/mounts | sed -n 's|.* /app overlay .*lowerdir=\([^,]*\),.*|\1|p')
mirror=$(ls -d "$GIT_SAND_HOME"/mirrors/"$(basename "$repo")"-*.git | head -1)
export GIT_ALTERNATE_OBJECT_DIRECTORIES="$mirror/objects"
T=$WORK/ostat
walk () { find "$1" -path "$1/.git" -prune -o -printf '%s\n' >/dev/null; }
# st <gitdir> <worktree>: "real-ms cpu-ms" of git status
st () {
	/usr/bin/time -f "%e %U %S" git --git-dir="$1" --work-tree="$2" status --porcelain 2>&1 >/dev/null |
	tail -1 | awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}
: >"$WORK/ostat.txt"
for i in $(seq 1 "$runs"); do
	rm -rf "$T"; mkdir -p "$T/mnt" "$T/work"; cp -a "$odir/upper" "$T/upper"
	mount -t overlay overlay -o "lowerdir=$base,upperdir=$T/upper,workdir=$T/work,uuid=on" "$T/mnt"
	echo "walk-cold $(ms walk "$T/mnt")" >>"$WORK/ostat.txt"
	echo "walk-warm $(ms walk "$T/mnt")" >>"$WORK/ostat.txt"
	umount "$T/mnt"
	mount -t overlay overlay -o "lowerdir=$base,upperdir=$T/upper,workdir=$T/work,uuid=on" "$T/mnt"
	echo "status-cold $(st "$odir/app/.git" "$T/mnt")" >>"$WORK/ostat.txt"
	echo "status-warm $(st "$odir/app/.git" "$T/mnt")" >>"$WORK/ostat.txt"
	umount "$T/mnt"
	echo "walk-base $(ms walk "$base")" >>"$WORK/ostat.txt"
	echo "walk-copy $(ms walk "$cdir/app")" >>"$WORK/ostat.txt"
	echo "walk-host $(ms walk "$repo")" >>"$WORK/ostat.txt"
	echo "status-copy $(st "$cdir/app/.git" "$cdir/app")" >>"$WORK/ostat.txt"
	echo "status-host $(st "$repo/.git" "$repo")" >>"$WORK/ostat.txt"
done
rm -rf "$T"
git sand rm -f ostat-o ostat-c >/dev/null
paths=$(find "$base" | wc -l)
# med <key> <field>: the median of that column
med () { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$WORK/ostat.txt" | median; }
echo "paths in the tree: $paths; medians of $runs runs, same run"
echo "lstat of every path: new overlay mount $(med walk-cold 2) ms, again $(med walk-warm 2) ms; base $(med walk-base 2) ms, copy $(med walk-copy 2) ms, host $(med walk-host 2) ms"
echo "  the first walk of a mount costs $(( ($(med walk-cold 2) - $(med walk-warm 2)) * 1000000 / paths )) ns a path more than the next"
echo "git status (real/cpu ms): new overlay mount $(med status-cold 2)/$(med status-cold 3), again $(med status-warm 2)/$(med status-warm 3); copy $(med status-copy 2)/$(med status-copy 3); host $(med status-host 2)/$(med status-host 3)"
echo "  ratios to the host (real): first $(ratio "$(med status-cold 2)" "$(med status-host 2)"), again $(ratio "$(med status-warm 2)" "$(med status-host 2)"), copy $(ratio "$(med status-copy 2)" "$(med status-host 2)")"
echo "  (cpu): first $(ratio "$(med status-cold 3)" "$(med status-host 3)"), again $(ratio "$(med status-warm 3)" "$(med status-host 3)"), copy $(ratio "$(med status-copy 3)" "$(med status-host 3)")"

#!/bin/sh
# What "git sand new --host" sends over SSH, and how long it takes, for the
# benchmark repository (320 MB of history, 5,000 files): the first new to
# a host (the mirror there is made), then a second one after a commit.
# The bytes are counted on the socket (GIT_SAND_SSH_STATS). References in
# the same run: the size of the history, and the time of a local
# "git worktree add" of the same commit, and of "ssh host true". Then
# three news of the same tree and three after a commit each, each paired
# with a worktree add right before it (the ratios of those pairs are the
# fair ones: a worktree add's time varies with the disk from run to run).
#
# The "remote" host is this machine, through an sshd started here on
# 127.0.0.1 (as the tests do); needs openssh-server.
#
# BENCH_BEFORE=<a git-sand binary>: the same news again (after another
# commit) with that binary, for a before/after in the same run.
# BENCH_PLAIN_SHELL=1: the sshd runs in a mount namespace of its own where
# the user's ~/.bashrc is empty, so that the login shell of each session
# starts as a plain one would (nothing on the machine is changed).
#
# Also a remote exec: "git sand exec <name> true" against
# "ssh host podman exec <container> true", both a fresh connection.
. "$(dirname "$0")/lib.sh"

repo=$WORK/repo
bench_repo "$repo"

# The tests' sshd harness, outside the test library.
TRASH_DIRECTORY=$WORK/ssh
say () { echo "$@" >&2; }
test_set_prereq () { :; }
rm -rf "$TRASH_DIRECTORY"
mkdir -p "$TRASH_DIRECTORY"
HOME=$TRASH_DIRECTORY/home
export HOME
mkdir -p "$HOME"
exec 4>&2
if test -n "${BENCH_PLAIN_SHELL:-}"
then
	passwd_home=$(getent passwd "$(id -un)" | cut -d: -f6)
	SSHD_PROGRAM=$WORK/plain-sshd
	cat >"$SSHD_PROGRAM" <<-EOF
	#!/bin/sh
	exec unshare -m sh -c 'mount --bind /dev/null "\$0/.bashrc" && exec /usr/sbin/sshd "\$@"' \
		"$passwd_home" "\$@"
	EOF
	chmod +x "$SSHD_PROGRAM"
	export SSHD_PROGRAM
fi
. "$SRC_DIR/tests/lib-sshd.sh"
test_require_sshd
start_sshd
trap stop_sshd EXIT
sshd_trust_host_key

cd "$repo"
git sand rm -f --all >/dev/null 2>&1 || true
git config sand.remoteRoot "$WORK/remote-root"
rm -rf "$WORK/remote-root"
history_mb=$(du -sm .git/objects | cut -f1)

sent () { awk '{ s += $2 } END { printf "%d", s }' "$1"; }
# Connections, commands run over them, exec requests (each a login shell
# there), and the milliseconds they took (see GIT_SAND_SSH_STATS).
channels () {
	awk '{ n++; c += $4; s += $7; ms += $5 + $6 } END { printf "%d connection(s), %d commands, %d session(s), %d ms in them", n, c, s, ms }' "$1"
}

stats=$WORK/ssh-stats
rm -f "$stats".*
t1=$(GIT_SAND_SSH_STATS=$stats.1 ms git sand new -d --host "$SSHD_URL" -i "$IMAGE" --network none first)
echo "// bench $$" >>src/d2/f2.c
git commit -q -am "a change after the first sandbox"
# The first new wrote 330 MB there: written back now, not during the second.
sync
rm -f "$WORK/trace.2"
t2=$(GIT_SAND_SSH_STATS=$stats.2 GIT_SAND_TRACE=$WORK/trace.2 ms git sand new -d --host "$SSHD_URL" -i "$IMAGE" --network none second)
b1=$(sent "$stats.1")
b2=$(sent "$stats.2")
# 3 news, the first traced, each after a local "git worktree add" of
# the same commit (removed again), so that both see the same machine,
# with the disk's dirty pages written back before each (sync): of the
# same tree (an overlay's base is there already), or with "commit", each
# after a commit of its own (the base of the tree before is there, the
# new commit's objects are sent). Prints the median new, the median
# worktree add, the median of the ratios, and the pairs.
wt_add () {
	rm -rf "$WORK/wt"
	sync
	ms git worktree add -q --detach "$WORK/wt" HEAD
	git worktree remove --force "$WORK/wt"
	# What it wrote written back before the new.
	sync
}
paired_news () {
	bin=$1 name=$2 how=${3:-}
	rm -f "$WORK/pairs.t" "$WORK/trace.$name"
	for i in 1 2 3
	do
		if test "$how" = commit
		then
			echo "// bench $name$i $$" >>src/d2/f2.c
			git commit -q -am "bench: $name$i"
		fi
		tw=$(wt_add)
		trace=
		test $i != 1 || trace=$WORK/trace.$name
		tn=$(GIT_SAND_TRACE=$trace ms "$bin" new -d --host "$SSHD_URL" -i "$IMAGE" --network none $name$i)
		echo "$tn $tw"
	done >"$WORK/pairs.t"
	test "$how" != commit || git reset -q --soft HEAD~3
	echo "$(cut -d' ' -f1 "$WORK/pairs.t" | median) $(cut -d' ' -f2 "$WORK/pairs.t" | median)" \
		"$(awk '{ printf "%.2f\n", $1 / ($2 ? $2 : 1) }' "$WORK/pairs.t" | sort -n | sed -n 2p)" \
		"($(awk '{ printf "%s%d/%d", (NR > 1 ? " " : ""), $1, $2 }' "$WORK/pairs.t"))"
}
t2s=$(paired_news git-sand same)
t2c=$(paired_news git-sand commit commit)
if test -n "${BENCH_BEFORE:-}"
then
	echo "// bench before $$" >>src/d2/f2.c
	git commit -q -am "a change for the binary before"
	t3=$(GIT_SAND_SSH_STATS=$stats.3 ms "$BENCH_BEFORE" new -d --host "$SSHD_URL" -i "$IMAGE" --network none third)
	t3s=$(paired_news "$BENCH_BEFORE" bsame)
	t3c=$(paired_news "$BENCH_BEFORE" bcommit commit)
fi
# The disk a sandbox takes there (its directory: clone, upper layer, home).
sandbox_kb () {
	id=$(git sand ls --porcelain | awk -v n="$1" '$1 == "sandbox" { s = $2 } $1 == "id" && s == n { print $2 }')
	du -sk "$WORK/remote-root/sandboxes/$id" | cut -f1
}
kb2=$(sandbox_kb second)
kb2s=$(sandbox_kb same1)
test -z "${BENCH_BEFORE:-}" || kb3=$(sandbox_kb third)
bases_kb=$(du -sk "$WORK/remote-root/bases" 2>/dev/null | cut -f1)

# One command over a fresh connection with OpenSSH's client: what a
# connection and one session there (the login shell's start-up) cost.
# (ssh reads ~/.ssh of the passwd entry, not $HOME: the files are named.)
ossh () {
	ssh -o BatchMode=yes -o IdentitiesOnly=yes -i "$HOME/.ssh/id_ed25519" \
		-o UserKnownHostsFile="$HOME/.ssh/known_hosts" -p "$SSHD_PORT" "$(id -un)@127.0.0.1" "$@"
}
tssh=$(ms ossh true)

# A remote exec, against OpenSSH's client running podman exec there.
ctr=$(git sand ls --porcelain | awk '$1 == "sandbox" { s = $2 } $1 == "container" && s == "second" { print $2 }')
# The median of 5, taken in turns.
median5 () {
	sort -n | sed -n 3p
}
git sand exec second true
texec=$(GIT_SAND_SSH_STATS=$stats.4 ms git sand exec second true)
tpexec=$(ms ossh podman exec "$ctr" true)
texecb=
for i in 1 2 3 4 5
do
	# (in a subshell each: ms sets t0 and t1)
	(GIT_SAND_SSH_STATS=$stats.6 ms git sand exec second true) >>"$WORK/exec.a"
	(ms ossh podman exec "$ctr" true) >>"$WORK/exec.p"
	test -z "${BENCH_BEFORE:-}" ||
	(GIT_SAND_SSH_STATS=$stats.5 ms "$BENCH_BEFORE" exec second true) >>"$WORK/exec.b"
done
echo "exec samples (ms): git sand: $(echo $(cat "$WORK/exec.a")); ssh podman exec: $(echo $(cat "$WORK/exec.p"))${BENCH_BEFORE:+; before: $(echo $(cat "$WORK/exec.b"))}" >"$WORK/exec.samples"
texec=$(median5 <"$WORK/exec.a")
tpexec=$(median5 <"$WORK/exec.p")
test -z "${BENCH_BEFORE:-}" || texecb=$(median5 <"$WORK/exec.b")
rm -f "$WORK/exec.a" "$WORK/exec.p" "$WORK/exec.b"

tw=$(wt_add)

git sand rm -f first second same1 same2 same3 commit1 commit2 commit3 >/dev/null
git reset -q --soft HEAD~1
if test -n "${BENCH_BEFORE:-}"
then
	git sand rm -f third bsame1 bsame2 bsame3 bcommit1 bcommit2 bcommit3 >/dev/null
	git reset -q --soft HEAD~1
fi
git restore --staged --worktree src/d2/f2.c
# The work in progress as it was: not staged (the commits above took it).
git reset -q
git config --unset sand.remoteRoot
echo "history: $history_mb MB of objects"
echo "first new --host:  $(ratio "$b1" 1048576) MB sent, $t1 ms ($(channels "$stats.1"))"
echo "second new --host: $(ratio "$b2" 1048576) MB sent, $t2 ms ($(channels "$stats.2"))"
awk -v a="$b2" -v b="$b1" 'BEGIN { printf "second/first bytes:        %.4f\n", a / b }'
awk -v a="$b2" -v b="$history_mb" 'BEGIN { printf "second bytes/history:      %.4f\n", a / (b * 1048576) }'
echo "second new / worktree add: $(ratio "$t2" "$tw") (time; worktree add: $tw ms, local)"
# Its steps there, with their milliseconds (GIT_SAND_TRACE).
awk '/^trace: ssh: '\''/ { w = $3 " " $4 } w != "" && / ms\)$/ { print "  " w " ... " substr($(NF - 1), 2) " ms"; w = "" }' "$WORK/trace.2"
echo "second new / ssh host true: $(ratio "$t2" "$tssh") (time; ssh host true: $tssh ms)"
set -- $t2s
n=$1 w=$2 r=$3
shift 3
echo "a new of the same tree, median of 3: $n ms; worktree add before each: $w ms; ratio $r (target <= 3) $*"
steps () {
	awk '/^trace: ssh: '\''/ { w = $3 " " $4 } w != "" && / ms\)$/ { print "  " w " ... " substr($(NF - 1), 2) " ms"; w = "" }' "$1"
}
steps "$WORK/trace.same"
set -- $t2c
n=$1 w=$2 r=$3
shift 3
echo "a new after a commit, median of 3: $n ms; worktree add before each: $w ms; ratio $r (target <= 3) $*"
echo "disk there: second $kb2 KB, same tree $kb2s KB; bases ${bases_kb:-0} KB"
if test -n "${BENCH_BEFORE:-}"
then
	echo "before ($BENCH_BEFORE), a new after one more commit: $t3 ms ($(channels "$stats.3"))"
	echo "  before / worktree add: $(ratio "$t3" "$tw"); before / ssh host true: $(ratio "$t3" "$tssh")"
	set -- $t3s
	n=$1 w=$2 r=$3
	shift 3
	echo "before, a new of the same tree, median of 3: $n ms; worktree add before each: $w ms; ratio $r $*"
	steps "$WORK/trace.bsame"
	set -- $t3c
	n=$1 w=$2 r=$3
	shift 3
	echo "before, a new after a commit, median of 3: $n ms; worktree add before each: $w ms; ratio $r $*"
	echo "before, disk there: $kb3 KB"
fi
echo "exec true (median of 5): $texec ms ($(channels "$stats.4")); ssh host podman exec: $tpexec ms"
cat "$WORK/exec.samples"
# Each: commands, sessions, connect ms, commands ms.
per_conn () {
	awk '{ printf "%s%d %d %d %d", (NR > 1 ? ", " : ""), $4, $7, $5, $6 }' "$1"
}
echo "exec samples (commands sessions connect-ms commands-ms): $(per_conn "$stats.6")"
echo "exec / ssh host podman exec: $(ratio "$texec" "$tpexec")"
if test -n "${BENCH_BEFORE:-}"
then
	echo "before: exec true: $texecb ms ($(head -1 "$stats.5" | channels /dev/stdin)); / ssh host podman exec: $(ratio "$texecb" "$tpexec")"
fi

#!/bin/sh
# What "git sand new --host" sends over SSH, and how long it takes, for the
# benchmark repository (320 MB of history, 5,000 files): the first new to
# a host (the mirror there is made), then a second one after a commit.
# The bytes are counted on the socket (GIT_SAND_SSH_STATS). References in
# the same run: the size of the history, and the time of a local
# "git worktree add" of the same commit, and of "ssh host true".
#
# The "remote" host is this machine, through an sshd started here on
# 127.0.0.1 (as the tests do); needs openssh-server.
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
# Connections, commands run over them (one channel each), and the
# milliseconds they took (see GIT_SAND_SSH_STATS).
channels () {
	awk '{ n++; c += $4; ms += $5 + $6 } END { printf "%d connection(s), %d commands, %d ms in them", n, c, ms }' "$1"
}

stats=$WORK/ssh-stats
rm -f "$stats".*
t1=$(GIT_SAND_SSH_STATS=$stats.1 ms git sand new -d --host "$SSHD_URL" -i "$IMAGE" --network none first)
echo "// bench $$" >>src/d2/f2.c
git commit -q -am "a change after the first sandbox"
t2=$(GIT_SAND_SSH_STATS=$stats.2 ms git sand new -d --host "$SSHD_URL" -i "$IMAGE" --network none second)
b1=$(sent "$stats.1")
b2=$(sent "$stats.2")

# One command over a fresh connection with OpenSSH's client: what a
# connection and one session there (the login shell's start-up) cost.
# (ssh reads ~/.ssh of the passwd entry, not $HOME: the files are named.)
tssh=$(ms ssh -o BatchMode=yes -o IdentitiesOnly=yes -i "$HOME/.ssh/id_ed25519" \
	-o UserKnownHostsFile="$HOME/.ssh/known_hosts" -p "$SSHD_PORT" "$(id -un)@127.0.0.1" true)

rm -rf "$WORK/wt"
tw=$(ms git worktree add -q --detach "$WORK/wt" HEAD)
git worktree remove --force "$WORK/wt"

git sand rm -f first second >/dev/null
git reset -q --soft HEAD~1
git restore --staged --worktree src/d2/f2.c
git config --unset sand.remoteRoot
echo "history: $history_mb MB of objects"
echo "first new --host:  $(ratio "$b1" 1048576) MB sent, $t1 ms ($(channels "$stats.1"))"
echo "second new --host: $(ratio "$b2" 1048576) MB sent, $t2 ms ($(channels "$stats.2"))"
awk -v a="$b2" -v b="$b1" 'BEGIN { printf "second/first bytes:        %.4f\n", a / b }'
awk -v a="$b2" -v b="$history_mb" 'BEGIN { printf "second bytes/history:      %.4f\n", a / (b * 1048576) }'
echo "second new / worktree add: $(ratio "$t2" "$tw") (time; worktree add: $tw ms, local)"
echo "second new / ssh host true: $(ratio "$t2" "$tssh") (time; ssh host true: $tssh ms)"

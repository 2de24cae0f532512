#!/bin/sh
# Benchmark: "git sand exec <name> true" against "podman exec <ctr> true"
# and against the OCI runtime's own "runc exec <ctr> true", in the same
# run, pair by pair (A B A B ...: a drift of the machine's speed hits
# both), as medians and ratios. Also git-sand's own start-up: the same
# exec with a "podman" that does nothing (sand.exec=cli), and the CLI
# way against podman exec. See bench/README-exec.md for where the time
# goes.
#
# usage: bench/exec.sh [runs]     (BENCH_WORK=dir to work elsewhere)
. "$(dirname "$0")/lib.sh"
runs=${1:-20}
repo=$WORK/exec-repo

if ! test -d "$repo/.git"; then
	git init -q "$repo"
	git -C "$repo" commit -q --allow-empty -m init
fi
cd "$repo"
git sand rm -f bench-exec >/dev/null 2>&1 || true
git sand new -d -i "$IMAGE" --network none bench-exec >/dev/null
ctr=$(git sand ls --porcelain | awk '$1 == "sandbox" && $2 == "bench-exec" { s = 1 } s && $1 == "container" { print $2; exit }')
runtime=$(podman info --format '{{.Host.OCIRuntime.Path}}')
git sand exec bench-exec true	# podman's info, asked once
# The runtime as podman runs it: rootless, with its state under podman's
# runtime dir, in the namespaces podman's pause process holds.
name=$(basename "$runtime")
set -- "$runtime"
rundir=$(sed -n 's|.*"rundir":"\([^"]*\)".*|\1|p' "$GIT_SAND_HOME/oci-runtime.json")
if test -n "$rundir"; then
	set -- nsenter -U -m --preserve-credentials -t "$(cat "$rundir/libpod/tmp/pause.pid")" \
		"$runtime" --root "$rundir/$name"
	echo "rootless podman: $name run as podman runs it, in its namespaces (nsenter)"
fi
runtime_exec="$*"

set -- $(pairs "$runs" git sand exec bench-exec true -- podman exec "$ctr" true)
echo "git sand exec true:    $1 ms; podman exec true: $2 ms; ratio $3 (target <= 0.6)"
set -- $(pairs "$runs" git sand exec bench-exec true -- $runtime_exec exec "$ctr" true)
echo "git sand exec true:    $1 ms; $name exec true: $2 ms; ratio $3"
set -- $(pairs "$runs" $runtime_exec exec "$ctr" true -- podman exec "$ctr" true)
echo "$name exec true:        $1 ms; podman exec true: $2 ms; ratio $3"
set -- $(pairs "$runs" git -c sand.exec=cli sand exec bench-exec true -- podman exec "$ctr" true)
echo "sand.exec=cli:         $1 ms; podman exec true: $2 ms; overhead $(( $1 - $2 )) ms, ratio $3 (target: overhead <= 10)"

# git-sand's own start-up: the CLI way with a podman that does nothing.
fake=$WORK/fake-podman
mkdir -p "$fake"
ln -sf /bin/true "$fake/podman"
own=$(for i in $(seq 1 "$runs"); do PATH=$fake:$PATH ms git -c sand.exec=cli sand exec bench-exec true; done | median)
gitonly=$(for i in $(seq 1 "$runs"); do ms git -c sand.exec=cli version; done | median)
echo "git sand exec's own part (podman doing nothing): $own ms, of which git's dispatch about $gitonly ms"
# What every "git sand <command>" pays before git-sand starts: git's own
# dispatch to an external command, with a git-<command> that is /bin/true,
# against /bin/true. It bounds from below what the CLI way can add to the
# runtime's exec.
mkdir -p "$WORK/git-floor"
ln -sf /bin/true "$WORK/git-floor/git-sand-floor"
PATH=$WORK/git-floor:$PATH
set -- $(pairs "$runs" git sand-floor -- /bin/true)
echo "git's dispatch alone:  git sand-floor $1 ms; /bin/true $2 ms: $(( $1 - $2 )) ms before any git-sand code runs"

# status: git sand status against git status run by podman exec (the
# direct way, then the CLI way).
set -- $(pairs "$runs" git sand status bench-exec -- podman exec "$ctr" git -C /app status)
echo "git sand status:       $1 ms; podman exec git -C /app status: $2 ms; ratio $3 (target <= 1.2)"
set -- $(pairs "$runs" git -c sand.exec=cli sand status bench-exec -- podman exec "$ctr" git -C /app status)
echo "status, sand.exec=cli: $1 ms; podman exec git -C /app status: $2 ms; ratio $3 (the CLI way)"

# ls: with its sandboxes running and seen so (no podman ps), then with 200
# sandboxes, the rest rows with no container recorded (a new killed before
# it recorded one): podman's list of its storage's containers tells.
git sand exec bench-exec true
set -- $(pairs "$runs" git sand ls -- podman ps -a --filter label=io.git-sand.id --format json)
echo "git sand ls, running:  $1 ms; podman ps: $2 ms; ratio $3 (no podman ps: the store and /proc know)"
db=$GIT_SAND_HOME/sand.db
have=$(git sand ls --porcelain | grep -c '^sandbox ')
sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $((200 - have)))
	INSERT INTO sandboxes (id, name, worktree, gitdir, dir, runtime, image, state, created, updated)
	SELECT printf('%016x', 4096 + i), 'fake-' || i, '$(pwd)', '$(git rev-parse --git-common-dir | xargs realpath)',
	       '$GIT_SAND_HOME/sandboxes/fake-' || i, 'podman', '$IMAGE', 'ready', strftime('%s'), strftime('%s') FROM n"
set -- $(pairs "$runs" git sand ls -- podman ps -a --filter label=io.git-sand.id --format json)
echo "git sand ls, 200:      $1 ms; podman ps: $2 ms; over it by $(( $1 - $2 )) ms, ratio $3 (target: over by <= 10; rows with no container: podman's files tell)"

# The same 200 rows, each with a container of its own, stopped as
# "git sand stop" leaves them (podman create makes them in that state
# too), and a clone: podman's own files tell, where an exec has asked
# podman about itself (above).
ids=$(sqlite3 "$db" "SELECT id FROM sandboxes WHERE name LIKE 'fake-%'")
for id in $ids; do
	ctr=$(podman create -q --label io.git-sand.id="$id" --network none "$IMAGE" true) || exit 1
	sqlite3 "$db" "UPDATE sandboxes SET container = '$ctr' WHERE id = '$id'"
	mkdir -p "$(sqlite3 "$db" "SELECT dir FROM sandboxes WHERE id = '$id'")/app"
done
git sand stop bench-exec >/dev/null
stopped=$(git sand ls --porcelain | grep -c '^status stopped$')
set -- $(pairs "$runs" git sand ls -- podman ps -a --filter label=io.git-sand.id --format json)
echo "git sand ls, 200 stopped: $1 ms; podman ps: $2 ms; ratio $3 ($stopped rows stopped; podman's files tell)"
podman rm -f $(sqlite3 "$db" "SELECT container FROM sandboxes WHERE name LIKE 'fake-%'") >/dev/null
for id in $ids; do
	rm -rf "$(sqlite3 "$db" "SELECT dir FROM sandboxes WHERE id = '$id'")"
done
sqlite3 "$db" "DELETE FROM sandboxes WHERE name LIKE 'fake-%'"

git sand rm -f bench-exec >/dev/null

#!/bin/sh
# Run test scripts as a user who is not root, with rootless podman, as
# most people run git-sand. As root: make the user (GIT_SAND_TEST_USER,
# default git-sand-ci) and its subordinate uid and gid ranges where it has
# none, copy this built tree where that user owns it, and run the scripts
# given (default: the core ones) there as that user. Where CI is set,
# what cannot be set up is a failure; elsewhere, a skip.
#
# usage: tests/run-rootless.sh [<script>...]
cd "$(dirname "$0")/.." || exit 1
user=${GIT_SAND_TEST_USER:-git-sand-ci}

test $# -gt 0 || set -- t1000-lifecycle.sh t2000-git-wiring.sh t1002-gc.sh

skip () {
	echo "run-rootless.sh: $*"
	test -z "${CI:-}" || exit 1
	exit 0
}

test "$(id -u)" = 0 || skip "run as root: it makes the user to run the tests as"
command -v podman >/dev/null 2>&1 || skip "podman is not installed"
command -v newuidmap >/dev/null 2>&1 || skip "newuidmap is missing (apt-get install uidmap)"

if ! id -u "$user" >/dev/null 2>&1
then
	useradd --create-home --shell /bin/sh "$user" || skip "cannot make the user '$user'"
fi

# 65536 subordinate ids each, after the last range given to anyone.
for f in /etc/subuid /etc/subgid
do
	grep -q "^$user:" "$f" 2>/dev/null && continue
	next=$(awk -F: 'BEGIN { n = 100000 } $2 + $3 > n { n = $2 + $3 } END { print n }' \
		"$f" 2>/dev/null)
	echo "$user:${next:-100000}:65536" >>"$f" || skip "cannot write '$f'"
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/git-sand-rootless.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM HUP
chmod 755 "$dir"
# The tree as built, without what earlier test runs left.
tar --exclude='./tests/trash*' --exclude='./tests/.image.lock' -cf - . |
	tar -C "$dir" -xf - || exit 1
chown -R "$user:" "$dir" || exit 1

# su keeps the environment (CI, PROVE_OPTS' settings) but HOME and the
# user's names; the scripts are its arguments, never part of a command line.
env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS su "$user" -s /bin/sh -c 'cd "$0/tests" && exec ${PROVE:-prove} ${PROVE_OPTS:-} "$@"' \
	"$dir" "$@"

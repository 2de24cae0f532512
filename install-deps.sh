#!/bin/sh
# Install what git-sand needs to build, test and run, from the
# distribution's packages (Debian 12 / Ubuntu 22.04 or later). Run as root,
# or it uses sudo.
set -eu
packages="build-essential pkg-config git libgit2-dev libsqlite3-dev libcjson-dev
	libssh2-1-dev zlib1g-dev strace podman runc catatonit busybox-static sqlite3 asciidoctor
	openssh-server openssh-client procps bash-completion docker-registry curl
	e2fsprogs util-linux debootstrap valgrind clang libclang-rt-14-dev tmux docker.io
	uidmap slirp4netns"
# The reference implementation of devcontainer.json, whose reading the
# tests compare with git-sand's (tests/t1009-devcontainer.sh): npm's
# @devcontainers/cli, at this version. It needs node 20 or later.
devcontainer_cli=0.89.0
missing=
for p in $packages
do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
# node and npm from Debian when there are none (another node with its
# own npm, as from NodeSource, is used as it is).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
sudo=
test "$(id -u)" -eq 0 || sudo=sudo
if test -n "$missing"
then
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends $missing
fi
if test "$(devcontainer --version 2>/dev/null)" != "$devcontainer_cli"
then
	$sudo npm install -g --no-fund --no-audit "@devcontainers/cli@$devcontainer_cli"
	test "$(devcontainer --version)" = "$devcontainer_cli" || {
		echo "error: devcontainer $devcontainer_cli does not run here (node $(node --version) is older than 20?)" >&2
		exit 1
	}
fi

#!/bin/sh
# Install what git-sand needs to build, test and run, from the
# distribution's packages (Debian 12 / Ubuntu 22.04 or later). Run as root,
# or it uses sudo.
set -eu
packages="build-essential pkg-config git libgit2-dev libsqlite3-dev libcjson-dev
	libssh2-1-dev zlib1g-dev podman runc catatonit busybox-static sqlite3 asciidoctor
	openssh-server openssh-client procps bash-completion docker-registry curl
	e2fsprogs util-linux debootstrap valgrind clang libclang-rt-14-dev tmux docker.io
	uidmap slirp4netns"
missing=
for p in $packages
do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
test -z "$missing" && exit 0
sudo=
test "$(id -u)" -eq 0 || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends $missing

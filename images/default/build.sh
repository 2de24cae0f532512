#!/bin/sh
# Build the default sandbox image.
#
# usage: images/default/build.sh [<runtime> [<image>]]
#
# Tries the Containerfile's registry base first; where no registry is
# reachable, bootstraps a minimal Debian base from the package archive with
# debootstrap (root needed), imports it, and builds on that instead.
set -eu
runtime=${1:-podman}
image=${2:-localhost/git-sand-default:latest}
here=$(cd "$(dirname "$0")" && pwd)
base=localhost/git-sand-base:bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

build () {
	# The host network: the build reaches Debian's archive, nothing else.
	"$runtime" build --network host -t "$image" "$@" "$here"
}

if build 2>/dev/null
then
	exit 0
fi
echo >&2 "build.sh: the registry base is not reachable; bootstrapping one from $mirror"
if ! "$runtime" image exists "$base" 2>/dev/null
then
	command -v debootstrap >/dev/null ||
		{ echo >&2 "build.sh: needs debootstrap (apt-get install debootstrap)"; exit 1; }
	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
	debootstrap --variant=minbase bookworm "$root" "$mirror" >&2
	rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
	tar -C "$root" -cf - . | "$runtime" import - "$base" >/dev/null
fi
build --build-arg "BASE=$base"

#!/bin/sh
# Build the small image the tests run sandboxes in, from this machine's own
# busybox and git (no registry needed): busybox for a shell and coreutils,
# git with its helpers and the libraries they link, and tmux (for the
# sessions of shell and agent) with its terminfo, when this machine has it.
# tmux goes alone in /usr/local/bin, so that a test can hide it.
#
# usage: tests/image/build.sh <runtime> <image-name>
set -eu
# What the image holds: test-lib.sh builds it again when this changes.
# 2: tmux.
version=3
runtime=${1:-podman}
image=${2:-localhost/git-sand-test:latest}

busybox=$(command -v busybox) || { echo >&2 "build.sh: busybox is needed (apt-get install busybox-static)"; exit 1; }
git=$(command -v git)
gitcore=$(git --exec-path)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp's 0700 would be the image's /, which no user but root may enter.
chmod 755 "$root"

mkdir -p "$root/bin" "$root/usr/bin" "$root/etc" "$root/tmp" "$root/root" \
	"$root/app" "$root/run" "$root/usr/share" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cp "$git" "$root/usr/bin/git"
mkdir -p "$root$gitcore"
# git-core is mostly hard links to git: tar keeps them hard links.
tar -C / -cf - "${gitcore#/}" | tar -C "$root" -xf -
[ -d /usr/share/git-core ] && cp -a /usr/share/git-core "$root/usr/share/"

# OpenSSH's server and sftp's, where this machine has them: git sand
# ssh-proxy runs "sshd -i" in the sandbox (root's needs /run/sshd and the
# privilege separation user).
sshd=; sftp=
if [ -x /usr/sbin/sshd ]; then
	sshd=/usr/sbin/sshd
	mkdir -p "$root/usr/sbin" "$root/run/sshd"
	cp /usr/sbin/sshd "$root/usr/sbin/sshd"
	if [ -x /usr/lib/openssh/sftp-server ]; then
		sftp=/usr/lib/openssh/sftp-server
		mkdir -p "$root/usr/lib/openssh"
		cp "$sftp" "$root$sftp"
	fi
fi

tmux=$(command -v tmux || :)
if [ -n "$tmux" ]; then
	mkdir -p "$root/usr/local/bin" "$root/usr/share/terminfo"
	cp "$tmux" "$root/usr/local/bin/tmux"
	for t in x/xterm x/xterm-256color s/screen s/screen-256color t/tmux t/tmux-256color \
		d/dumb v/vt100 l/linux; do
		for dir in /lib/terminfo /usr/share/terminfo; do
			[ -f "$dir/$t" ] || continue
			mkdir -p "$root/usr/share/terminfo/${t%/*}"
			cp -L "$dir/$t" "$root/usr/share/terminfo/$t"
			break
		done
	done
	# tmux wants a UTF-8 locale to exist (glibc's C.UTF-8 is a file).
	if [ -d /usr/lib/locale/C.utf8 ]; then
		mkdir -p "$root/usr/lib/locale"
		cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
	fi
fi

# The shared libraries git, its helpers, sshd and tmux need, with the loader.
for bin in "$git" "$gitcore"/git-remote-http "$gitcore"/git-http-fetch $sshd $sftp $tmux; do
	[ -x "$bin" ] || continue
	ldd "$bin" 2>/dev/null | awk '/=>/ { print $3 } !/=>/ && /^\t\// { print $1 }'
done | sort -u | while read -r lib; do
	[ -n "$lib" ] || continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
ln -s usr/lib "$root/lib" 2>/dev/null || true
if [ -d /lib64 ] && [ ! -e "$root/lib64" ]; then
	mkdir -p "$root/lib64"
	cp -L /lib64/ld-linux-*.so.* "$root/lib64/" 2>/dev/null || true
fi

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
sshd:x:101:65534::/run/sshd:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP

q=; [ "$runtime" = podman ] && q=--quiet
tar -C "$root" -cf - . | "$runtime" import $q \
	--change 'CMD ["/bin/sh"]' --change "LABEL io.git-sand.test-image=$version" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
	- "$image" >/dev/null

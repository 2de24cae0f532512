#!/bin/sh
test_description='a hostile sandbox cannot make a fetch hold more than 256 MiB'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-sshd.sh"
test_require_podman
if test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null 2>&1
then
	test_set_prereq SSHD
fi

. "$TEST_DIRECTORY/lib-memory.sh"

test_expect_success PODMAN 'setup: a sandbox with many objects, each under the limit' '
	test_create_repo repo &&
	(
		cd repo &&
		git sand new -d box &&
		git sand exec box git config user.name x &&
		git sand exec box git config user.email x@x &&
		git sand exec box sh -c "for i in 1 2 3 4 5 6; do
			head -c 60000000 /dev/urandom >large\$i.t || exit; done &&
			git add large*.t && git commit -q -m large"
	)
'

test_expect_success PODMAN 'fetch writes 360 MB of loose objects in bounded memory' '
	(
		cd repo &&
		measure ../loose git sand fetch box &&
		for i in 1 2 3 4 5 6
		do
			git cat-file -e sand/box/main:large$i.t || return 1
		done
	) &&
	under_256m loose.time
'

test_expect_success PODMAN 'plain git fetch of 360 MB more stays under 256 MiB, in every process' '
	(
		cd repo &&
		before=$(git rev-parse sand/box/main) &&
		git sand exec box sh -c "for i in 1 2 3 4 5 6; do
			head -c 60000000 /dev/urandom >large\$i.t || exit; done &&
			git add large*.t && git commit -q -m larger" &&
		measure ../plain git fetch -q sand/box &&
		for i in 1 2 3 4 5 6
		do
			git cat-file -e sand/box/main:large$i.t || return 1
		done &&
		test "$(git rev-parse sand/box/main^)" = "$before"
	) &&
	under_256m plain.time
'

test_expect_success SSHD 'setup: a sandbox on an SSH host' '
	start_sshd &&
	sshd_trust_host_key &&
	git config --global sand.remoteRoot "$TRASH_DIRECTORY/remote-root" &&
	(
		cd repo &&
		git sand new -d --host "$SSHD_URL" far &&
		git sand exec far git config user.name x &&
		git sand exec far git config user.email x@x &&
		git sand exec far sh -c "head -c 300000 /dev/urandom >mid.t &&
			git add mid.t && git commit -q -m mid"
	)
'

test_expect_success SSHD 'fetch over SSH refuses an object over sand.maxObjectSize' '
	(
		cd repo &&
		test_must_fail git -c sand.maxObjectSize=100k sand fetch far 2>../err &&
		test_must_fail git rev-parse -q --verify sand/far/main &&
		git sand fetch far &&
		git cat-file -e sand/far/main:mid.t
	) &&
	test_grep "larger than 102400 bytes (sand.maxObjectSize)" err &&
	test_grep "git config sand.maxObjectSize" err
'

test_expect_success SSHD 'fetch over SSH refuses a small delta whose result is over the limit' '
	(
		cd repo &&
		before=$(git rev-parse sand/far/main) &&
		# mid.t, which the host has, and 20 bytes more: a thin delta of it
		git sand exec far sh -c "cp mid.t mid2.t && echo 0123456789abcdefghi >>mid2.t &&
			git add mid2.t && git commit -q -m mid2 && git repack -adq" &&
		test_must_fail git -c sand.maxObjectSize=200k sand fetch far 2>../err &&
		test "$(git rev-parse sand/far/main)" = "$before" &&
		git sand fetch far &&
		git cat-file -e sand/far/main:mid2.t
	) &&
	test_grep "larger than 204800 bytes (sand.maxObjectSize)" err
'

test_expect_success SSHD 'fetch over SSH of many large objects stays under 256 MiB' '
	(
		cd repo &&
		# packed as it is added, so that git there sends it as it is
		git sand exec far sh -c "for i in 1 2 3 4 5 6; do
			head -c 60000000 /dev/urandom >large\$i.t || exit; done &&
			git -c core.bigFileThreshold=1m add large*.t && git commit -q -m large" &&
		measure ../far git sand fetch far &&
		for i in 1 2 3 4 5 6
		do
			git cat-file -e sand/far/main:large$i.t || return 1
		done
	) &&
	under_256m far.time
'

test_expect_success SSHD 'cleanup: the SSH sandbox and sshd' '
	(cd repo && git sand rm -f far) &&
	stop_sshd
'

test_done

#!/bin/sh
test_description='sandboxes on another machine over SSH, through a real sshd on 127.0.0.1'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-sshd.sh"
# Sanitizer builds: full stacks through libgit2 (built without frame
# pointers), so that the suppression of its SSH connect leak can match.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export ASAN_OPTIONS
test_require_podman
test_require_sshd

remote_root="$TRASH_DIRECTORY/remote-root"

test_expect_success SSHD 'setup: an sshd, and a worktree with every kind of change' '
	start_sshd &&
	git config --global sand.remoteRoot "$remote_root" &&
	test_create_repo repo &&
	(
		cd repo &&
		printf "build/\n" >.gitignore &&
		# Some history worth not sending twice: 3 MB that does not compress.
		for i in 1 2 3
		do
			head -c 1000000 /dev/urandom >blob$i.bin &&
			git add blob$i.bin && git commit -q -m "blob $i" || return 1
		done &&
		for i in $(seq 1 50); do echo $i >f$i.c || return 1; done &&
		git add . && git commit -q -m base &&
		echo modified >>f1.c &&
		echo staged >f2.c && git add f2.c &&
		echo untracked >new.t &&
		mkdir -p build && echo ignored >build/out.o &&
		echo exe >run.sh && chmod +x run.sh &&
		ln -s f3.c link &&
		rm f4.c &&
		find . -path ./.git -prune -o -exec touch -h -d "2020-01-01 00:00:00" {} + &&
		git status --porcelain >../host-status
	)
'

test_expect_success SSHD 'an unknown host key is refused, with its fingerprint; nothing is made' '
	fp1=$(ssh-keygen -l -E sha256 -f sshd/host_key.pub | cut -d" " -f2) &&
	fp2=$(ssh-keygen -l -E sha256 -f sshd/host_key_ecdsa.pub | cut -d" " -f2) &&
	(cd repo && test_expect_code 128 git sand new -d --host "$SSHD_URL" alpha 2>../err) &&
	test_grep "host key of .\[127.0.0.1\]:$SSHD_PORT. is unknown" err &&
	grep -q -F -e "ED25519 key fingerprint is $fp1" -e "ECDSA key fingerprint is $fp2" err &&
	test_grep "^fatal: cannot connect to" err &&
	test_grep "accept-new-host-key" err &&
	test_path_is_missing "$HOME/.ssh/known_hosts" &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test ! -s ls &&
	test_path_is_missing "$remote_root"
'

test_expect_success SSHD 'a changed host key is refused, even with --accept-new-host-key' '
	ssh-keygen -q -t ed25519 -N "" -f other_key &&
	printf "[127.0.0.1]:%s %s\n" "$SSHD_PORT" "$(cut -d" " -f1,2 other_key.pub)" \
		>"$HOME/.ssh/known_hosts" &&
	(cd repo && test_expect_code 128 git sand new -d --accept-new-host-key \
		--host "$SSHD_URL" alpha 2>../err) &&
	test_grep "has CHANGED" err &&
	test_grep "ssh-keygen -R" err &&
	rm "$HOME/.ssh/known_hosts"
'

test_expect_success SSHD 'a key the server does not accept is refused' '
	ssh-keygen -q -t ed25519 -N "" -f wrong_key &&
	sshd_trust_host_key &&
	git -C repo config sand.identityFile "$TRASH_DIRECTORY/wrong_key" &&
	(cd repo && test_expect_code 128 git sand new -d --host "$SSHD_URL" alpha 2>../err) &&
	git -C repo config --unset sand.identityFile &&
	test_grep "cannot log in to .127.0.0.1. as .$(id -un).: no key was accepted" err &&
	rm "$HOME/.ssh/known_hosts"
'

test_expect_success SSHD 'new --accept-new-host-key records the key and makes the sandbox there' '
	(cd repo && GIT_SAND_SSH_STATS="$TRASH_DIRECTORY/stats1" \
		git sand new -d --accept-new-host-key --host "$SSHD_URL" alpha >../out 2>../err) &&
	test_grep "permanently added .\[127.0.0.1\]:$SSHD_PORT." err &&
	grep -e "$(cut -d" " -f2 sshd/host_key.pub)" -e "$(cut -d" " -f2 sshd/host_key_ecdsa.pub)" \
		"$HOME/.ssh/known_hosts" &&
	echo alpha >expect && test_cmp expect out &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test_grep "^status running$" ls &&
	test_grep "^host $SSHD_URL$" ls &&
	id=$(awk "\$1 == \"id\" { print \$2 }" ls) &&
	(cd repo && git sand show alpha >../show) &&
	test_grep "^host  *$SSHD_URL$" show &&
	test_path_is_dir "$remote_root/sandboxes/$id/app/.git" &&
	# Nothing of the workspace stays on this side.
	test_path_is_missing "$GIT_SAND_HOME/sandboxes/$id/app" &&
	test_path_is_missing "$GIT_SAND_HOME/sandboxes/$id/home"
'

test_expect_success SSHD 'the kind of key known_hosts holds is asked for, hashed names too' '
	cp "$HOME/.ssh/known_hosts" known_hosts.saved &&
	for key in host_key host_key_ecdsa
	do
		printf "[127.0.0.1]:%s %s\n" "$SSHD_PORT" "$(cut -d" " -f1,2 sshd/$key.pub)" \
			>"$HOME/.ssh/known_hosts" &&
		ssh-keygen -q -H -f "$HOME/.ssh/known_hosts" 2>/dev/null &&
		! grep -q 127.0.0.1 "$HOME/.ssh/known_hosts" &&
		(cd repo && git sand exec alpha true) || return 1
	done &&
	cp known_hosts.saved "$HOME/.ssh/known_hosts"
'

test_expect_success SSHD 'a host key marked @revoked is refused' '
	cp "$HOME/.ssh/known_hosts" known_hosts.saved &&
	printf "@revoked [127.0.0.1]:%s %s\n" "$SSHD_PORT" "$(cut -d" " -f1,2 sshd/host_key.pub)" \
		>>"$HOME/.ssh/known_hosts" &&
	sshd_trust_host_key &&
	(cd repo && test_expect_code 128 git sand exec alpha true 2>../err) &&
	test_grep "is marked as revoked" err &&
	cp known_hosts.saved "$HOME/.ssh/known_hosts"
'

test_expect_success SSHD 'the sandbox has the changed files, and the same status as the host' '
	(
		cd repo &&
		git sand exec alpha cat f1.c f2.c new.t build/out.o run.sh >../contents &&
		git sand exec alpha sh -c "test -x run.sh && test -L link && ! test -e f4.c" &&
		git sand exec alpha git status --porcelain >../sandbox-status
	) &&
	printf "1\nmodified\nstaged\nuntracked\nignored\nexe\n" >expect &&
	test_cmp expect contents &&
	test_cmp host-status sandbox-status
'

test_expect_success SSHD 'unchanged files were checked out there, not sent' '
	(cd repo && git sand exec alpha cat f10.c >../f10) &&
	echo 10 >expect && test_cmp expect f10 &&
	# What went out: far less than the files and history would be.
	test -s stats1
'

test_expect_success SSHD 'exec passes the status, stdin, stdout and stderr through' '
	(
		cd repo &&
		test_expect_code 3 git sand exec alpha sh -c "exit 3" &&
		echo through-stdin | git sand exec -i alpha cat >../piped &&
		git sand exec alpha sh -c "echo out; echo err >&2" >../out 2>../err
	) &&
	echo through-stdin >expect && test_cmp expect piped &&
	echo out >expect && test_cmp expect out &&
	echo err >expect && test_cmp expect err
'

test_expect_success SSHD 'exec there passes stdin that is not a terminal without -i; an ended or closed one is empty' '
	(
		cd repo &&
		echo no-option | git sand exec alpha cat >../piped &&
		git sand exec alpha wc -c </dev/null >>../piped &&
		git sand exec alpha wc -c <&- >>../piped &&
		git sand exec -i alpha wc -c <&- >>../piped &&
		test "$(sandbox_field alpha status)" = running
	) &&
	printf "no-option\n0\n0\n0\n" >expect &&
	test_cmp expect piped
'

test_expect_success SSHD 'exec -i streams megabytes both ways intact' '
	head -c 5000000 /dev/urandom >big &&
	(cd repo && git sand exec -i alpha cat <../big >../big-back) &&
	cmp big big-back
'

test_expect_success SSHD 'a signal to exec reaches the runtime'"'"'s exec there, as it does here' '
	(
		cd repo || exit 1
		# git-sand itself, not git in front of it.
		# A marker of this script: another may run a podman exec too.
		git-sand exec alpha sh -c "echo ready-$$; while :; do sleep 1; done" >../sig-out 2>&1 &
		pid=$! &&
		for i in $(seq 1 600); do grep -qs ready-$$ ../sig-out && break; sleep 0.1; done &&
		grep -q ready-$$ ../sig-out &&
		pgrep -f "^podman exec .*echo ready-$$;" >../before &&
		kill -TERM $pid &&
		test_expect_code 143 wait $pid
	) &&
	test -s before &&
	# The podman exec there ended with it: none is left running.
	for i in $(seq 1 300); do pgrep -f "^podman exec .*echo ready-$$;" >after || break; sleep 0.1; done &&
	test ! -s after
'

test_expect_success SSHD 'a signal reaches exec there while its output never stops' '
	(
		cd repo || exit 1
		git-sand exec alpha yes >/dev/null 2>&1 &
		pid=$!
		# Not for ever: a run that kept the signal out is killed, and fails.
		{ sleep 60; kill -KILL $pid 2>/dev/null; } >/dev/null 2>&1 3>&- 4>&- &
		watchdog=$!
		sleep 1 &&
		kill -TERM $pid &&
		{ wait $pid; status=$?; } &&
		kill $watchdog &&
		test $status = 143
	)
'

test_expect_success SSHD 'exec -t gets a terminal there, of this one'"'"'s size' '
	(cd repo && script -qec "stty cols 91 rows 17; git sand exec -t alpha sh -c \"test -t 0 && test -t 1 && stty size && exit 5\"; echo status=\$?" /dev/null | tr -d "\\000\\r" >../out) &&
	test_grep "17 91$" out &&
	test_grep "^status=5" out
'

test_expect_success SSHD 'exec -t follows this terminal'"'"'s size changes' '
	# The size changes while the command there waits for it (at most
	# 20 s); the signal is sent again until the command ends, in case
	# the first came before git-sand was ready for it.
	cat >resize.sh <<-\EOF &&
	stty cols 80 rows 24
	git-sand exec -t alpha sh -c "i=0; while test \"\$(stty size)\" = \"24 80\" && test \$i -lt 20; do sleep 1; i=\$((i + 1)); done; stty size" </dev/tty &
	sleep 1
	stty cols 100 rows 30
	for i in 1 2 3 4 5 6 7 8 9 10
	do
		kill -WINCH $! 2>/dev/null || break
		sleep 1
	done
	wait $!
	EOF
	(cd repo && script -qec "sh ../resize.sh" /dev/null | tr -d "\\000\\r" >../out) &&
	test_grep "30 100$" out
'

test_expect_success SSHD 'exec, with a terminal or not, is not disturbed by signals while it starts' '
	# SIGWINCH as fast as a shell sends it, from before git-sand starts
	# to after it ends: one that came while libssh2 waited for sshd used
	# to end the run.
	cat >winch.sh <<-\EOF &&
	stty cols 80 rows 24
	git-sand exec -t alpha sh -c "stty size; exit 6" </dev/tty &
	pid=$!
	while kill -WINCH $pid 2>/dev/null; do :; done
	wait $pid
	echo status=$?
	git-sand exec alpha sh -c "echo no-tty; exit 7" &
	pid=$!
	while kill -WINCH $pid 2>/dev/null; do :; done
	wait $pid
	echo status=$?
	EOF
	(cd repo && script -qec "sh ../winch.sh" /dev/null | tr -d "\\000\\r" >../out) &&
	test_grep "24 80$" out &&
	test_grep "^status=6$" out &&
	test_grep "^no-tty$" out &&
	test_grep "^status=7$" out
'

test_expect_success SSHD 'shell runs the shell there and returns its status' '
	(cd repo && printf "echo in-shell; exit 4\n" | test_expect_code 4 git sand shell alpha >../out) &&
	test_grep "^in-shell" out
'

test_expect_success SSHD 'the remote is an ssh:// URL that plain git fetch can use' '
	(
		cd repo &&
		git config remote.sand/alpha.url >../url &&
		git sand exec alpha sh -c "echo inside >inside.t && git add inside.t && git -c user.name=S -c user.email=s@x commit -q -m inside" &&
		GIT_SSH_COMMAND="ssh -o BatchMode=yes -F /dev/null -o UserKnownHostsFile=$HOME/.ssh/known_hosts -i $HOME/.ssh/id_ed25519" git fetch -q sand/alpha &&
		git log -1 --format=%s refs/remotes/sand/alpha/main >../subject
	) &&
	id=$(cd repo && sandbox_field alpha id) &&
	echo "$SSHD_URL$(cd "$remote_root" && pwd -P)/sandboxes/$id/app" >expect &&
	test_cmp expect url &&
	echo inside >expect && test_cmp expect subject
'

test_expect_success SSHD 'git sand fetch, log and sync bring the work back' '
	(
		cd repo &&
		git sand exec alpha sh -c "echo more >>inside.t && git -c user.name=S -c user.email=s@x commit -q -am more" &&
		git sand fetch alpha 2>../fetch-err &&
		git sand log alpha --format=%s >../log &&
		git stash -q -u &&
		git sand sync alpha &&
		git log -1 --format=%s >../synced
	) &&
	test_grep "main" fetch-err &&
	test_grep "^more$" log &&
	echo more >expect && test_cmp expect synced
'

test_expect_success SSHD 'status and diff -u run in the container there' '
	(
		cd repo &&
		git sand exec alpha sh -c "echo wip >wip.t" &&
		git sand status alpha >../status &&
		git sand diff -u alpha --stat >../diffstat
	) &&
	test_grep "wip.t" status &&
	test_grep "wip.t" diffstat
'

test_expect_success SSHD 'sync-host sends the host'"'"'s new commits to the mirror there' '
	(
		cd repo &&
		git checkout -q -b host-side &&
		test_commit host-side &&
		git sand sync-host alpha &&
		git checkout -q main &&
		git sand exec alpha git fetch -q origin &&
		git sand exec alpha git log -1 --format=%s origin/host-side >../subject
	) &&
	echo host-side >expect && test_cmp expect subject
'

sent () {
	awk "{ s += \$2 } END { print s }" "$1"
}

test_expect_success SSHD 'a second new sends the new objects and the changed files only' '
	(cd repo && test_commit after-alpha &&
		GIT_SAND_SSH_STATS="$TRASH_DIRECTORY/stats2" git sand new -d --host "$SSHD_URL" beta) &&
	first=$(sent stats1) && second=$(sent stats2) &&
	echo "first new sent $first bytes, the second $second" >&3 &&
	test "$first" -gt 3000000 &&
	test "$second" -lt 300000 &&
	# One connection; one command each for the probe (who, runtime, state
	# root), the mirror refs, the pack with the ref updates, the
	# workspace, and podman run (create and start, the image looked for
	# by it); all through one shell there (one exec request: the login
	# shell starts once).
	test_line_count = 1 stats2 &&
	echo "5 1" >expect && awk "{ print \$4, \$7 }" stats2 >commands &&
	test_cmp expect commands &&
	(cd repo && git sand exec beta cat after-alpha.t f10.c >../contents) &&
	printf "after-alpha\n10\n" >expect && test_cmp expect contents
'

test_expect_success SSHD 'the mirror there never collects garbage; a mirror that would is set again' '
	mirror=$(echo "$remote_root"/mirrors/repo-*.git) &&
	test_path_is_dir "$mirror" &&
	echo 0 >expect &&
	git --git-dir="$mirror" config gc.auto >actual &&
	test_cmp expect actual &&
	git --git-dir="$mirror" config --unset gc.auto &&
	(cd repo && test_commit gc-auto && git sand new -d --host "$SSHD_URL" gcauto &&
		git sand exec gcauto cat gc-auto.t >../contents && git sand rm -f gcauto) &&
	git --git-dir="$mirror" config gc.auto >actual &&
	test_cmp expect actual &&
	echo gc-auto >expect && test_cmp expect contents
'

# Each file under $1 but .git: its path, kind, and mode or target or sum.
listing () {
	(
		cd "$1" &&
		find . -path ./.git -prune -o ! -name . -print | LC_ALL=C sort |
		while read -r p
		do
			if test -L "$p"
			then
				echo "$p link $(readlink "$p")"
			elif test -d "$p"
			then
				echo "$p dir"
			else
				echo "$p file $(stat -c %a "$p") $(cksum <"$p")"
			fi
		done
	)
}

test_expect_success SSHD 'new --workspace copy there: /app is the worktree file for file, its status the same' '
	(cd repo && git sand new -d --host "$SSHD_URL" --workspace copy betacopy) &&
	id=$(cd repo && sandbox_field betacopy id) &&
	test_path_is_missing "$remote_root/sandboxes/$id/upper" &&
	listing repo >here &&
	listing "$remote_root/sandboxes/$id/app" >there &&
	test_cmp here there &&
	(cd repo && git status --porcelain >../host-status2 &&
		git sand exec betacopy git status --porcelain >../sandbox-status2) &&
	test_cmp host-status2 sandbox-status2 &&
	# The index there has the stat data of the files checked out there.
	app="$remote_root/sandboxes/$id/app" &&
	git -C "$app" ls-files --debug f10.c >debug &&
	test_grep "ino: $(stat -c %i "$app/f10.c")\$" debug &&
	(cd repo && git sand rm -f betacopy)
'

test_expect_success SSHD 'a new with no changed tracked file: its index is fresh without a refresh' '
	test_create_repo clean &&
	(
		cd clean &&
		for i in 1 2 3; do echo $i >c$i.c || return 1; done &&
		echo exe >run.sh && chmod +x run.sh && ln -s c1.c link &&
		git add . && git commit -q -m clean &&
		echo untracked >new.t &&
		git status --porcelain >../clean-status &&
		GIT_SAND_TRACE="$TRASH_DIRECTORY/clean-trace" \
			git sand new -d --host "$SSHD_URL" --workspace copy clean &&
		git sand exec clean git status --porcelain >../clean-there
	) &&
	test_cmp clean-status clean-there &&
	! grep " .refresh. (" clean-trace &&
	# Used, or read again only for its age: the mirror, new there, took
	# more than 2 s to make on a loaded machine.
	grep -e "the working tree read ahead: used$" \
		-e "the working tree read ahead: read again, [0-9]* ms old$" clean-trace &&
	id=$(cd clean && sandbox_field clean id) &&
	app="$remote_root/sandboxes/$id/app" &&
	listing clean >here && listing "$app" >there && test_cmp here there &&
	for f in c1.c c2.c c3.c run.sh link
	do
		git -C "$app" ls-files --debug $f >debug &&
		test_grep "ino: $(stat -c %i "$app/$f")\$" debug || return 1
	done &&
	(cd clean && git sand rm -f clean)
'

# The files of an upper layer but directories and the .git mount point.
upper_files () {
	(cd "$1" && find . ! -type d ! -path ./.git | LC_ALL=C sort)
}

test_expect_success SSHD 'overlay there: one base per tree, shared; the upper layer holds the changes' '
	test_create_repo ov &&
	(
		cd ov &&
		printf "build/\n" >.gitignore &&
		for i in 1 2 3 4 5 6; do echo $i >o$i.c || return 1; done &&
		mkdir -p d/e && echo deep >d/e/deep.c && echo kept >d/kept.c &&
		git add . && git commit -q -m base &&
		echo modified >>o1.c &&
		echo staged >o2.c && git add o2.c &&
		git rm -q --cached o3.c &&
		rm o4.c &&
		git rm -q o5.c &&
		rm -r d/e &&
		echo untracked >new.t &&
		mkdir build && echo ignored >build/out.o &&
		git status --porcelain --ignored >../ov-status &&
		git sand new -d --host "$SSHD_URL" --workspace overlay ov1 &&
		git sand new -d --host "$SSHD_URL" ov2
	) &&
	tree=$(git -C ov rev-parse HEAD^{tree}) &&
	test_path_is_dir "$remote_root/bases/$tree" &&
	test_path_is_file "$remote_root/bases/$tree.index" &&
	echo 6 >expect && test_cmp expect "$remote_root/bases/$tree/o6.c" &&
	for n in ov1 ov2
	do
		id=$(cd ov && sandbox_field $n id) &&
		ctr=$(cd ov && sandbox_field $n container) &&
		podman inspect --format "{{json .Mounts}}" "$ctr" >mounts &&
		grep -F "\"lowerdir=$remote_root/bases/$tree\"" mounts &&
		grep -F "\"upperdir=$remote_root/sandboxes/$id/upper\"" mounts &&
		echo .git >expect && ls -A "$remote_root/sandboxes/$id/app" >actual &&
		test_cmp expect actual &&
		upper_files "$remote_root/sandboxes/$id/upper" >upper.$n || return 1
	done &&
	cat >expect <<-\EOF &&
	./build/out.o
	./d/e
	./new.t
	./o1.c
	./o2.c
	./o3.c
	./o4.c
	./o5.c
	EOF
	test_cmp expect upper.ov1 &&
	test_cmp expect upper.ov2 &&
	up="$remote_root/sandboxes/$(cd ov && sandbox_field ov1 id)/upper" &&
	for w in d/e o4.c o5.c
	do
		test -c "$up/$w" && test "$(stat -c %t.%T "$up/$w")" = 0.0 || return 1
	done
'

test_expect_success SSHD 'overlay there: the status inside is the host'"'"'s; staged and deleted files are right' '
	(
		cd ov &&
		git sand exec ov1 git status --porcelain --ignored >../ov-there &&
		git sand exec ov1 sh -c "cat o1.c o2.c o3.c new.t build/out.o d/kept.c &&
			! test -e o4.c && ! test -e o5.c && ! test -e d/e && git diff --cached --stat" \
			>../ov-contents
	) &&
	test_cmp ov-status ov-there &&
	cat >expect <<-\EOF &&
	1
	modified
	staged
	3
	untracked
	ignored
	kept
	 o2.c | 2 +-
	 o3.c | 1 -
	 o5.c | 1 -
	 3 files changed, 1 insertion(+), 3 deletions(-)
	EOF
	test_cmp expect ov-contents
'

test_expect_success SSHD 'overlay there: the index has the base files'"'"' stat data' '
	id=$(cd ov && sandbox_field ov2 id) &&
	tree=$(git -C ov rev-parse HEAD^{tree}) &&
	git --git-dir="$remote_root/sandboxes/$id/app/.git" ls-files --debug o6.c >debug &&
	test_grep "ino: $(stat -c %i "$remote_root/bases/$tree/o6.c")\$" debug &&
	test_grep "mtime: $(stat -c %Y "$remote_root/bases/$tree/o6.c"):" debug &&
	# Not racily clean: the index is younger than the base files.
	test "$(stat -c %Y "$remote_root/sandboxes/$id/app/.git/index")" -gt \
		"$(stat -c %Y "$remote_root/bases/$tree/o6.c")"
'

test_expect_success SSHD 'overlay there: a sandbox cannot change the base' '
	tree=$(git -C ov rev-parse HEAD^{tree}) &&
	base="$remote_root/bases/$tree" &&
	cksum "$base/o6.c" "$base/.gitignore" "$base/d/kept.c" >before &&
	(
		cd ov &&
		git sand exec ov1 sh -c "rm o6.c && echo rewritten >.gitignore && echo more >>d/kept.c" &&
		git sand exec ov2 cat o6.c .gitignore d/kept.c >../ov2-contents
	) &&
	printf "6\nbuild/\nkept\n" >expect &&
	test_cmp expect ov2-contents &&
	cksum "$base/o6.c" "$base/.gitignore" "$base/d/kept.c" >after &&
	test_cmp before after
'

test_expect_success SSHD 'overlay there: commit inside, fetch brings it back; stop and start keep the upper layer' '
	(
		cd ov &&
		git sand exec ov1 sh -c "git add -A . && git -c user.name=S -c user.email=s@x commit -q -m inside" &&
		git sand fetch ov1 2>/dev/null &&
		git sand log ov1 --format=%s >../ov-log &&
		git sand stop ov1 && git sand start ov1 &&
		git sand exec ov1 sh -c "! test -e o6.c && cat .gitignore && git status --porcelain" \
			>../ov-after
	) &&
	test_grep "^inside$" ov-log &&
	echo rewritten >expect && test_cmp expect ov-after
'

test_expect_success SSHD 'overlay there: rm removes the upper layer, and leaves the base to the other' '
	id=$(cd ov && sandbox_field ov1 id) &&
	tree=$(git -C ov rev-parse HEAD^{tree}) &&
	echo $tree >expect &&
	test_cmp expect "$remote_root/sandboxes/$id/base" &&
	# A base of a tree no sandbox there names (one left by a killed
	# new), and what is not a base: the first goes with the next rm.
	unused=$(echo unused | git hash-object --stdin) &&
	mkdir "$remote_root/bases/$unused" "$remote_root/bases/not-a-tree" &&
	(cd ov && git sand rm -f ov1) &&
	test_path_is_missing "$remote_root/sandboxes/$id" &&
	test_path_is_missing "$remote_root/bases/$unused" &&
	test_path_is_dir "$remote_root/bases/not-a-tree" &&
	test_path_is_dir "$remote_root/bases/$tree" &&
	test_path_is_file "$remote_root/bases/$tree.index" &&
	(cd ov && git sand exec ov2 cat o6.c >../o6) &&
	echo 6 >expect && test_cmp expect o6
'

test_expect_success SSHD 'overlay there: an intent-to-add entry makes a copy, or fails --workspace overlay' '
	(
		cd ov &&
		echo later >ita.t && git add -N ita.t &&
		test_must_fail git sand new -d --host "$SSHD_URL" --workspace overlay ita 2>../err &&
		git sand new -d --host "$SSHD_URL" ita2 2>../err2 &&
		git sand exec ita2 git status --porcelain >../ita-there &&
		git status --porcelain >../ita-here &&
		git rm -q --cached ita.t && rm ita.t &&
		git sand rm -f ita2 ov2
	) &&
	test_grep "cannot make an overlay workspace for sandbox .ita.: the index has" err &&
	test_grep "hint: sandbox .ita2. has a copy of the worktree" err2 &&
	test_cmp ita-here ita-there &&
	# The last sandbox of that tree there is gone, and so is its base.
	tree=$(git -C ov rev-parse HEAD^{tree}) &&
	test_path_is_missing "$remote_root/bases/$tree" &&
	test_path_is_missing "$remote_root/bases/$tree.index" &&
	test_path_is_dir "$remote_root/bases/not-a-tree"
'

test_expect_success SSHD 'overlay there: after a commit, the base of a near tree there serves' '
	(
		cd ov &&
		git sand new -d --host "$SSHD_URL" before-commit &&
		git add -A . && git commit -q -m next &&
		echo later >>o6.c &&
		echo again >o7.c && git add o7.c &&
		git rm -q --cached o1.c &&
		git status --porcelain --ignored >../near-here &&
		{ git diff HEAD && git diff --cached; } >../near-diff-here &&
		GIT_SAND_TRACE="$TRASH_DIRECTORY/near-trace" \
			git sand new -d --host "$SSHD_URL" near &&
		git sand exec near git status --porcelain --ignored >../near-there &&
		git sand exec near sh -c "git diff HEAD && git diff --cached" >../near-diff-there
	) &&
	old=$(git -C ov rev-parse HEAD~1^{tree}) &&
	new=$(git -C ov rev-parse HEAD^{tree}) &&
	id=$(cd ov && sandbox_field near id) &&
	echo $old >expect &&
	test_cmp expect "$remote_root/sandboxes/$id/base" &&
	test_path_is_missing "$remote_root/bases/$new" &&
	test_grep "the working tree read ahead: used" near-trace &&
	# Read while the connection is made.
	sed -n -e "s/.*read ahead of the connection, for the base of $old\$/scan/p" \
		-e "s/^trace: ssh: connected to .*/connected/p" near-trace >order &&
	printf "%s\n" scan connected >expect &&
	test_cmp expect order &&
	# The base is there: the workspace goes first, then the mirror is
	# brought up to date while podman makes and starts the container
	# (its line, written when it ended, comes last).
	sed -n -e "s/.*tar -x -o -f -.*/workspace/p" -e "s/.*for-each-ref.*/refs/p" \
		-e "s/.*index-pack --stdin.*/pack/p" -e "s/^trace: ssh: .podman. .run. .*/run/p" \
		near-trace >order &&
	printf "%s\n" workspace refs pack run >expect &&
	test_cmp expect order &&
	test_cmp near-here near-there &&
	test_cmp near-diff-here near-diff-there &&
	(cd ov && git sand rm -f before-commit) &&
	test_path_is_dir "$remote_root/bases/$old" &&
	(cd ov && git sand rm -f near) &&
	test_path_is_missing "$remote_root/bases/$old"
'

test_expect_success SSHD 'overlay there: a base the store knows but the host lost is made after the mirror'"'"'s refresh' '
	(
		cd ov &&
		git sand new -d --host "$SSHD_URL" lost1 &&
		test_commit lost-base &&
		git status --porcelain --ignored >../lost-here
	) &&
	old=$(git -C ov rev-parse HEAD~1^{tree}) &&
	# The host loses the mirror and the bases behind our back.
	rm -rf "$remote_root/bases" "$remote_root/mirrors" &&
	(
		cd ov &&
		GIT_SAND_TRACE="$TRASH_DIRECTORY/lost-trace" \
			git sand new -d --host "$SSHD_URL" lost2 &&
		git sand exec lost2 git status --porcelain --ignored >../lost-there &&
		git sand exec lost2 cat lost-base.t >../lost-file
	) &&
	test_grep "no base of $old or no mirror there: the mirror.s refresh first" lost-trace &&
	test_path_is_dir "$remote_root/bases/$old" &&
	test_cmp lost-here lost-there &&
	echo lost-base >expect && test_cmp expect lost-file &&
	# The mirror alone lost, the base kept: the container mounts the
	# mirror, which is made first.
	rm -rf "$remote_root/mirrors" &&
	(
		cd ov &&
		test_commit lost-mirror &&
		GIT_SAND_TRACE="$TRASH_DIRECTORY/lost-trace2" \
			git sand new -d --host "$SSHD_URL" lost3 &&
		git sand exec lost3 cat lost-mirror.t >../lost-file &&
		git sand exec lost3 git log -1 --format=%s >../lost-log
	) &&
	test_grep "no base of $old or no mirror there" lost-trace2 &&
	echo lost-mirror >expect && test_cmp expect lost-file &&
	test_cmp expect lost-log &&
	(cd ov && git sand rm -f lost1 lost2 lost3)
'

test_expect_success SSHD 'overlay there: a mirror refresh that fails while the container starts leaves nothing' '
	(cd ov && git sand new -d --host "$SSHD_URL" keep1 && test_commit refused-pack) &&
	git=$(command -v git) &&
	cat >sshd/bin/git <<-EOF &&
	#!/bin/sh
	case " \$* " in
	*" index-pack "*) echo "index-pack: made up refusal" >&2; exit 1 ;;
	esac
	exec "$git" "\$@"
	EOF
	chmod +x sshd/bin/git &&
	test_when_finished "rm -f sshd/bin/git" &&
	ls "$remote_root/sandboxes" >before &&
	(cd ov && GIT_SAND_TRACE="$TRASH_DIRECTORY/refused-trace" \
		test_expect_code 128 git sand new -d --host "$SSHD_URL" refused 2>../err) &&
	rm sshd/bin/git &&
	test_grep "index-pack: made up refusal" err &&
	# The container was made, while the history was refused.
	test_grep "^trace: ssh: .podman. .run." refused-trace &&
	podman ps -a --format "{{.Names}}" >names &&
	! grep "^sand-refused-" names &&
	ls "$remote_root/sandboxes" >after &&
	test_cmp before after &&
	(cd ov && git sand ls --porcelain >../ls && git sand rm -f keep1) &&
	! grep "^sandbox refused$" ls
'

test_expect_success SSHD 'overlay there: an unborn branch beside sandboxes there gets a copy, and no error' '
	test_create_repo unb &&
	(
		cd unb &&
		echo one >one.c && git add one.c && git commit -q -m one &&
		git sand new -d --host "$SSHD_URL" born &&
		git checkout -q --orphan unborn &&
		git status --porcelain >../unborn-here &&
		git sand new -d --host "$SSHD_URL" unborn1 2>../unborn-err &&
		git sand exec unborn1 git status --porcelain >../unborn-there &&
		git sand rm -f born unborn1
	) &&
	! grep -e "^error:" -e "^fatal:" unborn-err &&
	test_cmp unborn-here unborn-there
'

test_expect_success SSHD 'overlay there: a change the base'"'"'s stat data would hide, a file become a directory' '
	test_create_repo ov3 &&
	(
		cd ov3 &&
		echo aaaa >same.c && echo file >d && echo other >o.c &&
		git add . && git commit -q -m base &&
		git sand new -d --host "$SSHD_URL" --workspace overlay ov3a
	) &&
	base="$remote_root/bases/$(git -C ov3 rev-parse HEAD^{tree})" &&
	(
		cd ov3 &&
		# The same size and second as the base file: only a read of
		# the file tells the change.
		echo bbbb >same.c &&
		touch -d "@$(stat -c %Y "$base/same.c")" same.c &&
		# A file of the tree become a directory whose one file is
		# staged, then deleted here: an empty directory over the file.
		git rm -q --cached d && rm d && mkdir d && echo x >d/x &&
		git add d/x && rm d/x &&
		echo "#!/bin/sh" >suid && chmod 4755 suid &&
		git status --porcelain >../ov3-status &&
		git sand new -d --host "$SSHD_URL" --workspace overlay ov3b &&
		git sand exec ov3b git status --porcelain >../ov3-there &&
		git sand exec ov3b sh -c "test -d d && cat same.c" >../ov3-same
	) &&
	test_cmp ov3-status ov3-there &&
	echo bbbb >expect && test_cmp expect ov3-same &&
	id=$(cd ov3 && sandbox_field ov3b id) &&
	echo 755 >expect &&
	stat -c %a "$remote_root/sandboxes/$id/upper/suid" >actual &&
	test_cmp expect actual &&
	(cd ov3 && git sand rm -f ov3a ov3b) &&
	test_path_is_missing "$base"
'

test_expect_success SSHD 'overlay there: a repository that checks out otherwise than a base gets a copy' '
	test_create_repo crlf &&
	(
		cd crlf &&
		echo text >t.c && git add t.c && git commit -q -m base &&
		git config core.autocrlf true &&
		test_must_fail git sand new -d --host "$SSHD_URL" --workspace overlay crlf1 2>../err &&
		git sand new -d --host "$SSHD_URL" crlf2 2>../err2 &&
		git sand exec crlf2 git status --porcelain >../crlf-there &&
		git sand rm -f crlf2
	) &&
	test_grep "cannot make an overlay workspace for sandbox .crlf1.: core.autocrlf" err &&
	test_grep "hint: sandbox .crlf2. has a copy of the worktree" err2 &&
	! test -s crlf-there
'

test_expect_success SSHD 'a run whose start fails there: the container it made is removed, nothing left' '
	# A podman that makes the container, then fails to start it.
	podman=$(command -v podman) &&
	cat >sshd/bin/podman <<-EOF &&
	#!/bin/sh
	if test "\$1" = run
	then
		shift 2
		"$podman" create "\$@" >/dev/null || exit 125
		echo "Error: cannot start the container: made up" >&2
		exit 126
	fi
	exec "$podman" "\$@"
	EOF
	chmod +x sshd/bin/podman &&
	ls "$remote_root/sandboxes" >before &&
	(cd repo && test_expect_code 128 git sand new -d --host "$SSHD_URL" nostart 2>../err) &&
	rm sshd/bin/podman &&
	test_grep "podman run failed: Error: cannot start the container: made up" err &&
	podman ps -a --format "{{.Names}}" >names &&
	! grep "^sand-nostart-" names &&
	ls "$remote_root/sandboxes" >after &&
	test_cmp before after &&
	(cd repo && git sand ls --porcelain >../ls) &&
	! test_grep "^sandbox nostart$" ls
'

test_expect_success SSHD 'a missing image there: said so as before, after the run looked; nothing left' '
	ls "$remote_root/sandboxes" >before &&
	(cd repo && test_expect_code 128 git sand new -d --host "$SSHD_URL" \
		-i localhost/git-sand-none:latest noimage 2>../err) &&
	test_grep "image .localhost/git-sand-none:latest. is not available to podman" err &&
	ls "$remote_root/sandboxes" >after &&
	test_cmp before after &&
	(cd repo && git sand ls --porcelain >../ls) &&
	! test_grep "^sandbox noimage$" ls
'

test_expect_success SSHD 'a workspace of megabytes goes through the one shell intact' '
	# More than a piece of the tar stream, and than a chunk of the shell.
	head -c 3000000 /dev/urandom >repo/big.bin &&
	(cd repo && git sand new -d --host "$SSHD_URL" big &&
		git sand exec big sha1sum big.bin >../there &&
		sha1sum big.bin >../here && git sand rm -f big && rm big.bin) &&
	test_cmp here there
'

test_expect_success SSHD 'where head -c reads more than asked, each command has a channel' '
	# A head that takes all its input: the shell for many commands
	# cannot frame its input, says so, and is not used.
	cat >sshd/bin/head <<-\EOF &&
	#!/bin/sh
	case "$1" in
	-c) cat >/dev/null ;;
	*) exec /usr/bin/head "$@" ;;
	esac
	EOF
	chmod +x sshd/bin/head &&
	(cd repo && test_commit no-mux &&
		GIT_SAND_SSH_STATS="$TRASH_DIRECTORY/stats3" git sand new -d --host "$SSHD_URL" nomux) &&
	rm sshd/bin/head &&
	echo "5 6" >expect && awk "{ print \$4, \$7 }" stats3 >commands &&
	test_cmp expect commands &&
	(cd repo && git sand exec nomux cat no-mux.t >../contents && git sand rm -f nomux) &&
	echo no-mux >expect && test_cmp expect contents
'

test_expect_success SSHD 'news side by side to one host all succeed' '
	(
		cd repo && test_commit side-by-side || exit 1
		git sand new -d --host "$SSHD_URL" p1 >/dev/null 2>../p1.err &
		p1=$!
		git sand new -d --host "$SSHD_URL" p2 >/dev/null 2>../p2.err &
		p2=$!
		git sand new -d --host "$SSHD_URL" p3 >/dev/null 2>../p3.err &
		p3=$!
		wait $p1 && wait $p2 && wait $p3 &&
		for n in p1 p2 p3
		do
			git sand exec $n cat side-by-side.t || return 1
		done >../side &&
		git sand rm -f p1 p2 p3
	) &&
	test $(grep -c side-by-side side) = 3
'

test_expect_success SSHD 'sand.host (in a profile) chooses the host; ls shows it' '
	git -C repo config sand.profile.far.host "$SSHD_URL" &&
	(cd repo && git sand new -d --profile far gamma && git sand new -d here) &&
	(cd repo && git sand ls >../table && git sand ls --json >../json) &&
	test_grep "^gamma .*$SSHD_URL" table &&
	test_grep "^here .* -$" table &&
	test_grep "\"host\":.*\"$SSHD_URL\"" json
'

test_expect_success SSHD 'runs are refused for a sandbox on another host, saying so' '
	(
		cd repo &&
		test_expect_code 128 git sand run gamma --prompt "do it" 2>../err &&
		test_expect_code 128 git sand new -d --host "$SSHD_URL" --agent claude --prompt x far2 2>../err2 &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "^fatal: sandbox .gamma. is on .*: runs are only supported on this machine" err &&
	test_grep "options .--prompt. and .--host. cannot be used together" err2 &&
	! grep "^sandbox far2$" rows
'

test_expect_success SSHD 'stop and start reach the container there' '
	(cd repo && git sand stop gamma && sandbox_field gamma status >../st1 &&
		git sand start gamma && sandbox_field gamma status >../st2) &&
	echo stopped >expect && test_cmp expect st1 &&
	echo running >expect && test_cmp expect st2
'

test_expect_success SSHD 'exec there is one session; a stopped container is started, its input kept' '
	(cd repo && GIT_SAND_SSH_STATS="$TRASH_DIRECTORY/exec-stats" git sand exec gamma true) &&
	# One command (the runtime asked whether it runs in the same round
	# trip), one session.
	echo "1 1" >expect && awk "{ print \$4, \$7 }" exec-stats >commands &&
	test_cmp expect commands &&
	(cd repo && git sand stop gamma) &&
	echo kept >input &&
	(cd repo && GIT_SAND_SSH_STATS="$TRASH_DIRECTORY/exec-stats2" \
		git sand exec gamma cat <../input >../output) &&
	test_cmp input output &&
	(cd repo && sandbox_field gamma status >../st) &&
	echo running >expect && test_cmp expect st &&
	test_line_count = 1 exec-stats2 &&
	test "$(awk "{ print \$4 }" exec-stats2)" -gt 2
'

test_expect_success SSHD 'an unreachable host: ls, stop and rm say so per sandbox and go on' '
	stop_sshd &&
	(
		cd repo &&
		test_expect_code 1 git sand ls --porcelain >../ls 2>../err &&
		test_expect_code 1 git sand stop gamma here 2>../stop-err &&
		test_expect_code 1 git sand rm -f gamma 2>../rm-err &&
		sandbox_field here status >../here
	) &&
	test_grep "cannot connect to .127.0.0.1. port $SSHD_PORT" err &&
	test_grep "cannot reach .$SSHD_URL., the host of sandbox .beta." err &&
	awk "\$1 == \"status\" { print \$2 }" ls | sort | uniq -c >counts &&
	test_grep "1 running" counts &&
	test_grep "3 unreachable" counts &&
	test_grep "the host of sandbox .gamma." stop-err &&
	test_grep "the host of sandbox .gamma." rm-err &&
	test_grep "git sand rm --forget gamma" rm-err &&
	echo stopped >expect && test_cmp expect here &&
	restart_sshd &&
	# Nothing happened to it while its host was away.
	(cd repo && sandbox_field gamma status >../gamma) &&
	echo running >expect && test_cmp expect gamma
'

test_expect_success SSHD 'rm removes the container, the directory there and the remote' '
	id=$(cd repo && sandbox_field gamma id) &&
	ctr=$(cd repo && sandbox_field gamma container) &&
	(cd repo && git sand rm -f gamma) &&
	test_path_is_missing "$remote_root/sandboxes/$id" &&
	test_must_fail podman container exists "$ctr" &&
	test_must_fail git -C repo config remote.sand/gamma.url
'

test_expect_success SSHD 'a connection dropped during new: a clear error, and gc repairs' '
	# A tar there that cuts the connection under it.
	cat >sshd/bin/tar <<-\EOF &&
	#!/bin/sh
	p=$PPID
	while test "$p" -gt 1 && test "$(ps -o comm= -p $p)" != sshd
	do
		p=$(ps -o ppid= -p $p)
	done
	kill -9 $p
	sleep 5
	EOF
	chmod +x sshd/bin/tar &&
	(cd repo && test_expect_code 128 git sand new -d --host "$SSHD_URL" delta 2>../err) &&
	rm sshd/bin/tar &&
	test_grep "connection to .127.0.0.1. failed\|cannot unpack" err &&
	test_grep "^fatal: cannot create sandbox .delta." err &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test_grep "^sandbox delta$" ls &&
	id=$(cd repo && sandbox_field delta id) &&
	(cd repo && git sand gc) &&
	(cd repo && git sand ls --porcelain >../ls) &&
	! test_grep "^sandbox delta$" ls &&
	test_path_is_missing "$remote_root/sandboxes/$id" &&
	test_path_is_missing "$GIT_SAND_HOME/sandboxes/$id"
'

test_expect_success SSHD 'rm --forget a sandbox whose host is gone: only what is here goes' '
	(cd repo && git sand new -d --host "$SSHD_URL" epsilon) &&
	id=$(cd repo && sandbox_field epsilon id) &&
	stop_sshd &&
	(cd repo && git sand rm -f --forget epsilon >../out) &&
	restart_sshd &&
	test_grep "Forgot sandbox .epsilon. (its container and files are still on" out &&
	(cd repo && git sand ls --porcelain >../ls) &&
	! test_grep "^sandbox epsilon$" ls &&
	test_must_fail git -C repo config remote.sand/epsilon.url &&
	test_path_is_missing "$GIT_SAND_HOME/sandboxes/$id" &&
	# What was there stays there, as said.
	test_path_is_dir "$remote_root/sandboxes/$id" &&
	rm -rf "$remote_root/sandboxes/$id" &&
	podman rm -f "$(podman ps -aq --filter label=io.git-sand.id=$id)" >/dev/null
'

test_expect_success SSHD 'a port published there needs its host port given; nothing is made' '
	(cd repo && test_expect_code 128 git sand new -d --host "$SSHD_URL" --network bridge -p 8080 zeta 2>../err) &&
	test_grep "^error: cannot publish .8080.: a sandbox on .$SSHD_URL. needs its host port given" err &&
	(cd repo && git sand ls --porcelain >../ls) &&
	! test_grep "^sandbox zeta$" ls
'

# free_ports <n>: n ports of 127.0.0.1 that no one listens on now, all
# different.
free_ports () {
	python3 -c "import socket, sys
s = [socket.socket() for i in range(int(sys.argv[1]))]
for x in s: x.bind((\"127.0.0.1\", 0))
print(\" \".join(str(x.getsockname()[1]) for x in s))" "$1"
}

test_expect_success SSHD 'a port published there: made there, and port says where' '
	published=$(free_ports 1) &&
	(
		cd repo &&
		git sand new -d --host "$SSHD_URL" --network bridge -p 127.0.0.1:$published:8080 zeta &&
		git sand port zeta >../ports 2>../err &&
		git sand port zeta --json >../json &&
		git sand exec zeta sh -c "mkdir -p /tmp/www && echo there >/tmp/www/index.html && httpd -p 8080 -h /tmp/www" &&
		# That host is this machine here: its 127.0.0.1 is ours.
		for i in 1 2 3 4 5 6 7 8 9 10
		do
			timeout 5 busybox wget -q -O - http://127.0.0.1:$published/ >../page 2>/dev/null && break
			sleep 0.5
		done &&
		git sand rm -f zeta
	) &&
	echo "8080/tcp -> 127.0.0.1:$published on $SSHD_URL" >expect &&
	test_cmp expect ports &&
	test_grep "^hint: these addresses are on .$SSHD_URL., not on this machine" err &&
	tr -d " \t\n" <json >flat &&
	test_grep "\"host\":\"$SSHD_URL\"" flat &&
	echo there >expect &&
	test_cmp expect page
'

test_expect_success SSHD 'forward: a port published there is reached here, until stopped' '
	ports=$(free_ports 2) &&
	published=${ports% *} &&
	here=${ports#* } &&
	(
		cd repo &&
		git sand new -d --host "$SSHD_URL" --network bridge -p 127.0.0.1:$published:8080 eta &&
		git sand exec eta sh -c "mkdir -p /tmp/www && echo far >/tmp/www/index.html && httpd -p 8080 -h /tmp/www" &&
		{ git sand forward eta $here:8080 2>../fwd-err & } &&
		pid=$! &&
		# Several connections, one after another, through one forward.
		for n in 1 2 3
		do
			for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
			do
				timeout 5 busybox wget -q -O - http://127.0.0.1:$here/ >../page$n 2>/dev/null && break
				sleep 0.5
			done
		done &&
		kill -TERM $pid &&
		# git, told to stop, passes it on, waits, and dies of it itself.
		{ wait $pid; test $? = 143; } &&
		git sand rm -f eta
	) &&
	echo far >expect &&
	test_cmp expect page1 &&
	test_cmp expect page2 &&
	test_cmp expect page3 &&
	test_grep "^Forwarding 127.0.0.1:$here to port 8080/tcp of sandbox .eta. (127.0.0.1:$published on $SSHD_URL)" fwd-err
'

test_expect_success SSHD 'rm --all leaves nothing there' '
	(cd repo && git sand rm -f --all) &&
	ls "$remote_root/sandboxes" >left &&
	test ! -s left
'

test_done

#!/bin/sh
test_description='a hostile sandbox cannot make host-side commands run its code or read outside it'
. ./test-lib.sh
test_require_podman

# Everything here plays the sandbox's part by writing into its clone from
# the host, as a process in the container could. A marker file on the host
# that only host-side execution could create tells whether anything ran;
# a secret on the host that must never show up tells whether anything was
# read.

marker="$TRASH_DIRECTORY/PWNED"
secret_text="TOP-SECRET-HOST-DATA"

# Run the host-side commands on a sandbox; they may fail, but cleanly, and
# nothing may run or leak.
check_commands () {
	name=$1
	for cmd in "fetch" "status" "diff -u" "diff" "log"
	do
		git sand $cmd $name >>../out 2>>../err
		code=$?
		case $code in
		0|1|128) ;;
		*) echo >&4 "git sand $cmd $name exited $code"; return 1 ;;
		esac
	done &&
	test_path_is_missing "$marker" &&
	! grep -q "$secret_text" ../out ../err &&
	! git grep -q "$secret_text" $(git rev-list --all) -- 2>/dev/null
}

test_expect_success PODMAN 'setup' '
	printf "#!/bin/sh\\ntouch \\"%s\\"\\ncat\\n" "$marker" >evil &&
	chmod +x evil &&
	mkdir evil-hooks &&
	for h in pre-commit post-checkout post-merge reference-transaction pre-push \
		fsmonitor-watchman post-index-change pre-auto-gc
	do
		cp evil evil-hooks/$h || return 1
	done &&
	echo "$secret_text" >secret &&
	printf "[core]\\n\\tfsmonitor = %s\\n" "$TRASH_DIRECTORY/evil" >host-config &&
	git init -q other &&
	(cd other && echo "$secret_text" >s.t && git add s.t && git commit -q -m secret) &&
	test_create_repo repo &&
	(cd repo && git sand new -d box && git sand exec box git config user.name x &&
	 git sand exec box git config user.email x@x &&
	 git sand exec box sh -c "echo work >work.t && git add work.t && git commit -q -m work")
'

test_expect_success PODMAN 'program settings in the clone config' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		git config -f "$clone/.git/config" core.fsmonitor "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" core.hooksPath "$TRASH_DIRECTORY/evil-hooks" &&
		git config -f "$clone/.git/config" uploadpack.packObjectsHook "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" diff.external "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" core.sshCommand "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" filter.evil.clean "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" filter.evil.smudge "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" diff.evil.textconv "$TRASH_DIRECTORY/evil" &&
		git config -f "$clone/.git/config" include.path "$TRASH_DIRECTORY/host-config" &&
		printf "* filter=evil diff=evil\\n" >"$clone/.gitattributes" &&
		cp ../evil-hooks/* "$clone/.git/hooks/" &&
		git sand exec box sh -c "git add .gitattributes 2>/dev/null; git commit -q -m attrs 2>/dev/null; true" &&
		check_commands box &&
		git fetch -q sand/box &&
		test_path_is_missing "$marker"
	)
'

test_expect_success PODMAN '.git/config replaced by a link to a host file' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		mv "$clone/.git/config" "$clone/.git/config.real" &&
		ln -s "$TRASH_DIRECTORY/host-config" "$clone/.git/config" &&
		check_commands box &&
		rm "$clone/.git/config" &&
		mv "$clone/.git/config.real" "$clone/.git/config"
	)
'

test_expect_success PODMAN '.git/objects replaced by a link to another host repository' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		secret_commit=$(git -C ../other rev-parse HEAD) &&
		mv "$clone/.git/objects" "$clone/.git/objects.real" &&
		ln -s "$TRASH_DIRECTORY/other/.git/objects" "$clone/.git/objects" &&
		echo "$secret_commit" >"$clone/.git/refs/heads/steal" &&
		test_must_fail git sand fetch box 2>../err &&
		test_must_fail git cat-file -e "$secret_commit" &&
		rm "$clone/.git/objects" "$clone/.git/refs/heads/steal" &&
		mv "$clone/.git/objects.real" "$clone/.git/objects"
	) &&
	test_grep "objects" err
'

test_expect_success PODMAN 'alternates rewritten to point at another host repository' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		secret_commit=$(git -C ../other rev-parse HEAD) &&
		cp "$clone/.git/objects/info/alternates" ../alternates.saved &&
		echo "$TRASH_DIRECTORY/other/.git/objects" >>"$clone/.git/objects/info/alternates" &&
		echo "$secret_commit" >"$clone/.git/refs/heads/steal" &&
		git sand fetch box 2>../err &&
		test_must_fail git cat-file -e "$secret_commit" &&
		test_must_fail git rev-parse --verify refs/remotes/sand/box/steal &&
		rm "$clone/.git/refs/heads/steal" &&
		cp ../alternates.saved "$clone/.git/objects/info/alternates"
	) &&
	test_grep "steal.*missing or not a commit" err
'

test_expect_success PODMAN 'refs with .. and other bad names are ignored' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		head=$(git -C "$clone" rev-parse HEAD) &&
		cp "$clone/.git/packed-refs" ../packed.saved &&
		printf "%s refs/heads/../../../../etc/passwd\\n%s refs/heads/a..b\\n%s refs/heads/ok\\n" \
			"$head" "$head" "$head" >>"$clone/.git/packed-refs" &&
		git sand fetch box 2>../err &&
		git rev-parse --verify refs/remotes/sand/box/ok &&
		git for-each-ref --format="%(refname)" refs/remotes/sand/box >../refs &&
		cp ../packed.saved "$clone/.git/packed-refs"
	) &&
	test_grep "ignored 2 invalid refs" err &&
	! grep "\.\." refs &&
	test_path_is_missing "$TRASH_DIRECTORY/repo/.git/etc"
'

test_expect_success PODMAN 'a ref to a missing object is skipped with a warning' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		echo 0123456789012345678901234567890123456789 >"$clone/.git/refs/heads/ghost" &&
		git sand fetch box 2>../err &&
		test_must_fail git rev-parse --verify refs/remotes/sand/box/ghost &&
		rm "$clone/.git/refs/heads/ghost"
	) &&
	test_grep "ghost.*missing or not a commit" err
'

test_expect_success PODMAN 'a loose ref that is a link to a host file is not read' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		ln -s "$TRASH_DIRECTORY/secret" "$clone/.git/refs/heads/linked" &&
		git sand fetch box 2>../err &&
		test_must_fail git rev-parse --verify refs/remotes/sand/box/linked &&
		rm "$clone/.git/refs/heads/linked"
	) &&
	! grep "$secret_text" err
'

test_expect_success PODMAN 'loose objects and fan-out directories that are links are not followed' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		secret_commit=$(git -C ../other rev-parse HEAD) &&
		fan=$(echo "$secret_commit" | cut -c1-2) &&
		rest=$(echo "$secret_commit" | cut -c3-) &&
		echo "$secret_commit" >"$clone/.git/refs/heads/steal" &&
		if test -d "$clone/.git/objects/$fan"
		then
			ln -s "$TRASH_DIRECTORY/other/.git/objects/$fan/$rest" "$clone/.git/objects/$fan/$rest"
		else
			ln -s "$TRASH_DIRECTORY/other/.git/objects/$fan" "$clone/.git/objects/$fan"
		fi &&
		git sand fetch box 2>../err &&
		test_must_fail git cat-file -e "$secret_commit" &&
		rm -f "$clone/.git/refs/heads/steal" "$clone/.git/objects/$fan/$rest" &&
		{ test -d "$clone/.git/objects/$fan" || rm -f "$clone/.git/objects/$fan"; }
	) &&
	test_grep "steal.*missing or not a commit" err
'

test_expect_success PODMAN 'a huge number of refs fails cleanly' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		head=$(git -C "$clone" rev-parse HEAD) &&
		cp "$clone/.git/packed-refs" ../packed.saved &&
		awk -v h="$head" "BEGIN { for (i = 0; i < 20000; i++) printf \"%s refs/heads/many/%d\\n\", h, i }" \
			>>"$clone/.git/packed-refs" &&
		test_expect_code 1 git sand fetch box 2>../err &&
		cp ../packed.saved "$clone/.git/packed-refs"
	) &&
	test_grep "more than 10000 branches" err
'

test_expect_success PODMAN 'a working-tree link to a host secret does not leak it' '
	(
		cd repo &&
		git sand exec box sh -c "ln -s \"\$1\" leak && git add leak && git commit -q -m leak" \
			sh "$TRASH_DIRECTORY/secret" &&
		check_commands box &&
		git sand sync box &&
		test -L leak &&
		git sand diff -u box >../out &&
		! grep "$secret_text" ../out
	)
'

test_expect_success PODMAN 'a branch nested deeper than ref directories go is ignored' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		head=$(git -C "$clone" rev-parse HEAD) &&
		cp "$clone/.git/packed-refs" ../packed.saved &&
		deep=$(printf "d/%.0s" $(seq 1 101))leaf &&
		long=$(printf "x%.0s" $(seq 1 300)) &&
		printf "%s refs/heads/%s\n%s refs/heads/%s\n%s refs/heads/shallow\n" \
			"$head" "$deep" "$head" "$long" "$head" >>"$clone/.git/packed-refs" &&
		git sand fetch box 2>../err &&
		git rev-parse --verify refs/remotes/sand/box/shallow &&
		git for-each-ref --format="%(refname)" refs/remotes/sand/box >../refs &&
		cp ../packed.saved "$clone/.git/packed-refs"
	) &&
	test_grep "ignored 2 invalid refs" err &&
	! grep "/d/d/d/" refs &&
	! grep xxxxxxxxxx refs
'

test_expect_success PODMAN 'a tree 1,500 directories deep, read-only ones among them, is removed' '
	(
		cd repo &&
		git sand new -d deep &&
		clone=$(sandbox_field deep clone) &&
		git sand exec deep -- sh -c "mkdir -p \$(printf \"d/%.0s\" \$(seq 1 1500)) && chmod 555 d/d/d" &&
		git sand rm -f deep &&
		test_path_is_missing "$clone"
	)
'

test_expect_success PODMAN 'plain git fetch goes through git-sand: no commondir, FIFO or tag of the sandbox counts' '
	git init -q private &&
	git -C private commit -q --allow-empty -m private &&
	git -C private branch private-branch &&
	(
		cd repo &&
		git sand new -d plain &&
		clone=$(sandbox_field plain clone) &&
		git sand exec plain -- sh -c "cd /app && git checkout -q -b side &&
			git -c user.name=A -c user.email=a@b commit -q --allow-empty -m side &&
			git tag v9.9.9" &&
		echo "$TRASH_DIRECTORY/private/.git" >"$clone/.git/commondir" &&
		mkfifo "$clone/.git/refs/heads/fifo" &&
		git config -f "$clone/.git/config" pack.window 1000000 &&
		git config -f "$clone/.git/config" pack.depth 100000 &&
		timeout 60 git fetch sand/plain 2>../err &&
		git for-each-ref --format="%(refname)" refs/remotes/sand/plain >../refs &&
		git tag >../tags &&
		rm "$clone/.git/commondir" "$clone/.git/refs/heads/fifo" &&
		git sand rm -f plain
	) &&
	test_grep "refs/remotes/sand/plain/side" refs &&
	! grep private refs &&
	! grep v9.9.9 tags
'

test_expect_success PODMAN 'the containers cannot make device nodes, use raw sockets or write the audit log' '
	(cd repo && git sand exec box -- sh -c "grep ^CapEff /proc/self/status") >caps &&
	eff=$(sed -n "s/^CapEff:[[:space:]]*//p" caps) &&
	test -n "$eff" &&
	test $(( (0x$eff >> 27) & 1 )) = 0 &&
	test $(( (0x$eff >> 13) & 1 )) = 0 &&
	test $(( (0x$eff >> 29) & 1 )) = 0 &&
	(cd repo && test_must_fail git sand exec box -- mknod /tmp/zero c 1 5)
'

test_expect_success PODMAN 'the sandbox reads no host path in its git or its mount points' '
	(
		cd repo &&
		git sand new -d paths &&
		git sand exec paths -- sh -c "cat /app/.git/objects/info/alternates \
			/run/git-origin-ro/config; cut -d\" \" -f5 /proc/self/mountinfo" >../seen &&
		git sand fetch paths &&
		git sand rm -f paths
	) &&
	test_grep "^/run/git-origin-ro/objects$" seen &&
	! grep -F "$TRASH_DIRECTORY" seen
'

test_expect_success PODMAN 'rm follows no link out of the clone' '
	(
		cd repo &&
		clone=$(sandbox_field box clone) &&
		ln -s "$TRASH_DIRECTORY/other" "$clone/dirlink" &&
		ln -s "$TRASH_DIRECTORY/secret" "$clone/.git/objects/linked" &&
		rm -rf "$clone/.git/objects/pack" &&
		ln -s "$TRASH_DIRECTORY/other/.git/objects/pack" "$clone/.git/objects/pack" &&
		git sand rm -f box
	) &&
	test_path_is_file secret &&
	test_path_is_file other/s.t &&
	git -C other rev-parse HEAD &&
	test_path_is_missing "$marker"
'

test_done

#!/bin/sh
test_description='overlay workspaces: a shared base tree, an upper layer per sandbox'
. ./test-lib.sh
test_require_podman

if test "$TEST_RUNTIME" = podman && test "$(id -u)" = 0
then
	test_set_prereq OVERLAY
fi

# sandbox_dir <name>: its directory under the state root.
sandbox_dir () {
	dirname "$(sandbox_field "$1" clone)"
}

test_expect_success PODMAN,OVERLAY 'setup: a worktree with changes of every kind' '
	test_create_repo repo &&
	(
		cd repo &&
		mkdir -p d sub deep/er &&
		printf "1\n" >d/f1 && printf "2\n" >d/f2 && printf "3\n" >d/f3 &&
		printf "x\n" >sub/y && printf "keep\n" >gone &&
		printf "#!/bin/sh\n" >run.sh && chmod +x run.sh &&
		printf "e\n" >deep/er/est &&
		ln -s d/f1 link &&
		printf "*.log\n" >.gitignore &&
		git add . &&
		git commit -q -m base &&
		printf "mod\n" >>d/f1 &&
		printf "staged\n" >d/f2 && git add d/f2 &&
		rm gone && rm -r sub &&
		chmod -x run.sh &&
		rm link && ln -s d/f3 link &&
		printf "new\n" >untracked &&
		printf "ignored\n" >build.log &&
		git status --porcelain --ignored | sort >../host-status
	)
'

test_expect_success PODMAN,OVERLAY 'new makes an overlay: the base is shared, the upper holds the changes' '
	(
		cd repo &&
		git sand new -d one &&
		git sand new -d two
	) &&
	(cd repo && sandbox_dir one) >dir1 &&
	(cd repo && sandbox_dir two) >dir2 &&
	ls state/bases >bases &&
	test_line_count = 1 bases &&
	d1=$(cat dir1) &&
	test -c "$d1/upper/gone" &&
	test -c "$d1/upper/sub" &&
	test -f "$d1/upper/d/f1" && test -f "$d1/upper/d/f2" &&
	test -f "$d1/upper/untracked" && test -f "$d1/upper/build.log" &&
	test -h "$d1/upper/link" &&
	! test -e "$d1/upper/d/f3" && ! test -e "$d1/upper/deep" &&
	test "$(ls "$d1/app")" = "" &&
	test -d "$d1/app/.git"
'

test_expect_success PODMAN,OVERLAY 'inside, the worktree is the host'"'"'s, byte for byte and by git status' '
	(
		cd repo &&
		in_sandbox one "git status --porcelain --ignored | sort" >../inside-status &&
		in_sandbox one "cat d/f1 d/f2 d/f3 untracked build.log; readlink link; test ! -e gone; test ! -x run.sh" >../inside
	) &&
	test_cmp host-status inside-status &&
	printf "1\nmod\nstaged\n3\nnew\nignored\nd/f3\n" >expect &&
	test_cmp expect inside
'

test_expect_success PODMAN,OVERLAY 'the sandbox cannot change the base, nor the other sandbox' '
	base=$(ls -d state/bases/*) &&
	(cd "$base" && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | sed "s/  */ /g") >before &&
	(cd "$base" && find . -type f -print0 | sort -z | xargs -0 cat) >before-data &&
	(
		cd repo &&
		in_sandbox one "echo evil >d/f3; chmod 777 d deep/er; rm -rf deep run.sh .gitignore;
			mv d/f1 moved; ln -sf /etc/passwd d/f2; mkfifo fifo; rm link; mkdir link;
			chown 1:1 d/f3" &&
		in_sandbox two "cat d/f3 deep/er/est run.sh .gitignore; readlink link" >../two
	) &&
	(cd "$base" && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | sed "s/  */ /g") >after &&
	(cd "$base" && find . -type f -print0 | sort -z | xargs -0 cat) >after-data &&
	test_cmp before after &&
	test_cmp before-data after-data &&
	printf "3\ne\n#!/bin/sh\n*.log\nd/f3\n" >expect &&
	test_cmp expect two
'

test_expect_success PODMAN,OVERLAY 'the upper layer survives stop and start, and a container made again' '
	(
		cd repo &&
		in_sandbox one "echo kept >kept" &&
		git sand stop one &&
		git sand start one &&
		in_sandbox one "cat kept" >../kept1 &&
		"$TEST_RUNTIME" rm -f "$(sandbox_field one container)" >/dev/null &&
		git sand start one &&
		in_sandbox one "cat kept" >../kept2
	) &&
	echo kept >expect &&
	test_cmp expect kept1 &&
	test_cmp expect kept2
'

# Root in a rootful sandbox can make a setuid-root program in its upper
# layer, on this machine's disk: no other user of the host may reach it.
test_expect_success PODMAN,OVERLAY 'a setuid program made inside is out of other users'"'"' reach' '
	d1=$(cat dir1) &&
	(cd repo && in_sandbox one "cp /bin/busybox suid && chmod 4755 suid") &&
	test -u "$d1/upper/suid" &&
	test "$(stat -c %a:%u "$d1")" = 700:0 &&
	test_must_fail setpriv --reuid=nobody --regid=nogroup --clear-groups \
		test -e "$d1/upper/suid" &&
	(cd repo && in_sandbox one "rm suid")
'

test_expect_success PODMAN,OVERLAY 'commits and fetch work as with a copy' '
	(
		cd repo &&
		in_sandbox two "git add -A && git -c user.name=A -c user.email=a@example.com commit -q -m inside" &&
		git sand fetch two 2>/dev/null &&
		git show --stat --format=%s sand/two/main >../shown
	) &&
	test_grep "^inside$" shown &&
	test_grep "untracked" shown
'

test_expect_success PODMAN,OVERLAY 'rm takes the upper layer; gc takes a base no sandbox uses, once it is an hour old' '
	d1=$(cat dir1) &&
	(
		cd repo &&
		git sand rm -f one two 2>/dev/null &&
		git sand gc >../gc1 &&
		touch -d "2 hours ago" ../state/bases/* &&
		git sand gc -n >../gc2 &&
		git sand gc >../gc3
	) &&
	! test -e "$d1" &&
	! grep "base tree" gc1 &&
	test_grep "^Would remove base tree" gc2 &&
	test_grep "^Removing base tree" gc3 &&
	test "$(ls state/bases)" = ""
'

# tree_cache <index>: the index's cache of trees (its TREE extension),
# without the checksum that ends the file.
tree_cache () {
	perl -0777 -ne 'print $1 if /TREE(.*).{20}\z/s' "$1"
}

test_expect_success PODMAN,OVERLAY 'the index inside keeps the host'"'"'s cache of trees' '
	test_create_repo cached &&
	(
		cd cached &&
		git write-tree >/dev/null &&
		echo more >>one.t &&
		git sand new -d ct &&
		tree_cache "$(sandbox_dir ct)/app/.git/index" >../actual &&
		in_sandbox ct "git status --porcelain" >../ct-status &&
		git sand rm -f ct 2>/dev/null &&
		touch -d "2 hours ago" ../state/bases/* &&
		git sand gc >/dev/null
	) &&
	test "$(ls state/bases)" = "" &&
	tree_cache cached/.git/index >expect &&
	test -s expect &&
	test_cmp expect actual &&
	echo " M one.t" >expect-status &&
	test_cmp expect-status ct-status
'

test_expect_success PODMAN 'workspace copy, and bad kinds' '
	(
		cd repo &&
		git sand new -d --workspace copy copied &&
		test_expect_code 128 git sand new -d --workspace bogus nope 2>../err &&
		git -c sand.workspace=copy sand new -d copied2 &&
		in_sandbox copied "cat d/f1 untracked" >../copied &&
		git sand rm -f copied copied2 2>/dev/null
	) &&
	! test -d state/bases/* &&
	test_grep "invalid workspace kind .bogus." err &&
	printf "1\nmod\nnew\n" >expect &&
	test_cmp expect copied
'

# listing <dir>: every path under it (not itself: its .git is new) but .git, with its type, mode, size,
# mtime and link target, sorted.
listing () {
	(cd "$1" && find . -mindepth 1 -path ./.git -prune -o -printf "%p %y %m %s %T@ %l\n" | sort)
}

test_expect_success PODMAN 'workspace copy: the copy, made as the container is created, carries every file' '
	test_create_repo copyall &&
	test_when_finished "git -C copyall sand rm -f allcopy" &&
	(
		cd copyall &&
		mkdir -p a/b/c "odd dir" empty &&
		printf "1\n" >a/f && printf "2\n" >a/b/g && printf "3\n" >a/b/c/h &&
		printf "s\n" >"odd dir/sp ace" && printf "x\n" >.hidden &&
		head -c 300000 /dev/urandom >big.bin &&
		printf "#!/bin/sh\n" >run.sh && chmod 755 run.sh &&
		ln -s a/f link && ln -s nowhere dangling &&
		printf "*.log\n" >.gitignore &&
		git add . && git commit -q -m all &&
		printf "mod\n" >>a/f &&
		printf "staged\n" >a/b/g && git add a/b/g &&
		git rm -q a/b/c/h &&
		chmod 600 .hidden &&
		printf "new\n" >untracked && printf "ig\n" >a/build.log &&
		git sand new -d --workspace copy allcopy &&
		git status --porcelain --ignored >../copyall-host &&
		in_sandbox allcopy "git status --porcelain --ignored" >../copyall-inside &&
		sandbox_field allcopy clone >../copyall-clone
	) &&
	listing copyall >expect &&
	listing "$(cat copyall-clone)" >actual &&
	test_cmp expect actual &&
	diff -r --no-dereference -x .git copyall "$(cat copyall-clone)" &&
	test_cmp copyall-host copyall-inside
'

test_expect_success PODMAN,!OVERLAY 'overlay asked for where it cannot be made says why' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --workspace overlay nope 2>../err
	) &&
	test_grep "cannot make an overlay workspace for sandbox .nope.: only rootful podman" err
'

test_expect_success PODMAN,OVERLAY 'a submodule'"'"'s working tree is carried whole, its repository in .git' '
	test_create_repo subproject &&
	(
		cd repo &&
		git -c protocol.file.allow=always submodule add -q ../subproject sub2 &&
		git commit -q -m "add sub2" &&
		echo changed >sub2/one.t &&
		git sand new -d --workspace overlay withsub &&
		dir=$(dirname "$(sandbox_field withsub clone)") &&
		test -f "$dir/upper/sub2/one.t" &&
		in_sandbox withsub "git -C sub2 status --porcelain; git submodule status" >../sub &&
		git sand rm -f withsub 2>/dev/null
	) &&
	test_grep "^ M one.t" sub &&
	test_grep "^ [0-9a-f]* sub2 " sub
'

test_expect_success PODMAN,OVERLAY 'setup: a worktree of tricky shapes (file and directory swapped, odd names, ignored directories, staged then reverted)' '
	test_create_repo shapes &&
	(
		cd shapes &&
		mkdir -p fromdir/in gonedir/a ign &&
		printf "f\n" >tofile && printf "x\n" >fromdir/in/x &&
		printf "y\n" >gonedir/a/y && printf "z\n" >gonedir/z &&
		printf "dash\n" >./-dash && printf "nl\n" >"$(printf "new\nline")" &&
		printf "same\n" >reverted && printf "ab\n" >samesize &&
		printf "ign/\n" >.gitignore &&
		git add . && git commit -q -m base &&
		rm tofile && mkdir tofile && printf "t\n" >tofile/t &&
		rm -r fromdir && printf "now a file\n" >fromdir &&
		rm -r gonedir &&
		printf "dash2\n" >./-dash &&
		printf "nl2\n" >"$(printf "new\nline")" &&
		printf "other\n" >reverted && git add reverted && printf "same\n" >reverted &&
		mkdir -p ign/deep && printf "i\n" >ign/deep/file &&
		git status --porcelain --ignored | sort >../shapes-host &&
		git sand new -d shapes
	)
'

test_expect_success PODMAN,OVERLAY 'tricky shapes: the files inside are the worktree'"'"'s' '
	(
		cd shapes &&
		in_sandbox shapes "cat tofile/t fromdir ./-dash \"\$(printf \"new\\nline\")\" ign/deep/file reverted samesize"
	) >shapes-files &&
	printf "t\nnow a file\ndash2\nnl2\ni\nsame\nab\n" >expect &&
	test_cmp expect shapes-files &&
	(cd shapes && in_sandbox shapes "git status --porcelain --ignored | sort") >shapes-inside &&
	test_cmp shapes-host shapes-inside
'

# The host's worktree no longer has gonedir: the sandbox must not have
# it either, not even as an empty directory (a build that tests for the
# directory would see what the worktree does not have).
test_expect_success PODMAN,OVERLAY 'a deleted directory is not left empty inside' '
	(cd shapes && in_sandbox shapes "test ! -e gonedir && test ! -e fromdir/in")
'

# The sandbox's git compares only mtime and size (core.checkStat=minimal):
# a change the index's stat data from the host cannot see (same size, same
# mtime, another inode) must still show inside as it does on the host.
test_expect_success PODMAN,OVERLAY 'a change of the same size and mtime as the index says is seen inside' '
	(
		cd shapes &&
		printf "cd\n" >samesize && touch -d "1 minute ago" samesize &&
		git add samesize && touch -r samesize ../stamp && sleep 1 &&
		printf "ab\n" >samesize && touch -r ../stamp samesize &&
		rm -f ../stamp &&
		git status --porcelain --ignored | sort >../same-host &&
		git sand new -d same &&
		in_sandbox same "git status --porcelain --ignored | sort" >../same-inside
	) &&
	test_grep "^MM samesize" same-host &&
	test_cmp same-host same-inside
'

# status names no empty directory, and does not look into a repository
# that is not a submodule: the overlay carries both as a copy does.
test_expect_success PODMAN,OVERLAY 'empty directories and a repository of its own are carried as by a copy' '
	test_create_repo dirs &&
	test_when_finished "git -C dirs sand rm -f ov cp >/dev/null 2>&1" &&
	(
		cd dirs &&
		mkdir -p empty deep/er/est &&
		git init -q nested &&
		mkdir nested/sub && printf "n\n" >nested/n && printf "m\n" >nested/sub/m &&
		git sand new -d ov &&
		git sand new -d --workspace copy cp &&
		in_sandbox ov "find . -path ./.git -prune -o -print | sort" >../dirs-ov &&
		in_sandbox cp "find . -path ./.git -prune -o -print | sort" >../dirs-cp &&
		in_sandbox ov "git -C nested status --porcelain" >../nested-status
	) &&
	test_cmp dirs-cp dirs-ov &&
	test_grep "^\./empty$" dirs-ov &&
	test_grep "^\./deep/er/est$" dirs-ov &&
	test_grep "^\./nested/sub/m$" dirs-ov &&
	test_grep "^\./nested/\.git/HEAD$" dirs-ov &&
	printf "?? n\n?? sub/\n" >expect &&
	test_cmp expect nested-status
'

test_expect_success PODMAN,OVERLAY 'cleanup: the shapes sandboxes and their base' '
	(
		cd shapes &&
		git sand rm -f shapes same 2>/dev/null &&
		touch -d "2 hours ago" ../state/bases/* &&
		git sand gc >/dev/null
	) &&
	test "$(ls state/bases)" = ""
'

# The same with a copied workspace: the copy keeps the file's mtime, the
# clone keeps the host's index, and git inside trusts mtime and size only
# (core.checkStat=minimal). The clone's index loses the stat data of each
# entry the host's git would not trust, so git inside reads that file.
test_expect_success PODMAN 'workspace copy: a change of the same size and mtime as the index says is seen inside' '
	test_create_repo samecopy &&
	test_when_finished "git -C samecopy sand rm -f samecopy >/dev/null 2>&1" &&
	(
		cd samecopy &&
		printf "ab\n" >samesize && git add samesize && git commit -q -m base &&
		printf "cd\n" >samesize && touch -d "1 minute ago" samesize &&
		git add samesize && touch -r samesize ../stamp && sleep 1 &&
		printf "ab\n" >samesize && touch -r ../stamp samesize &&
		rm -f ../stamp &&
		git status --porcelain >../samecopy-host &&
		git sand new -d --workspace copy samecopy &&
		in_sandbox samecopy "git status --porcelain" >../samecopy-inside
	) &&
	test_grep "^MM samesize" samecopy-host &&
	test_cmp samecopy-host samecopy-inside
'

test_expect_success PODMAN,OVERLAY 'setup: a worktree with many ignored files, one of them once tracked' '
	test_create_repo heavy &&
	(
		cd heavy &&
		mkdir -p gen &&
		printf "tracked\n" >gen/out.txt &&
		printf "node_modules/\ngen/\n" >.gitignore &&
		git add -f . &&
		git commit -q -m "with gen/out.txt" &&
		git rm -q --cached gen/out.txt &&
		printf "made here\n" >gen/out.txt &&
		for d in $(seq 1 11)
		do
			mkdir -p node_modules/p$d &&
			for f in $(seq 1 100)
			do
				echo "$d/$f" >node_modules/p$d/f$f.js || return 1
			done
		done &&
		ln -s p1/f1.js node_modules/main.js &&
		printf "changed\n" >>.gitignore &&
		git status --porcelain --ignored | sort >../heavy-status
	)
'

test_expect_success PODMAN,OVERLAY 'many ignored files go into one base that the sandboxes share' '
	rm -rf state/bases &&
	(
		cd heavy &&
		git sand new -d h1 &&
		git sand new -d h2 &&
		sandbox_dir h1 >../hdir1 &&
		in_sandbox h1 "git status --porcelain --ignored | sort" >../h1-status &&
		in_sandbox h2 "cat gen/out.txt node_modules/p11/f100.js node_modules/main.js" >../h2-files
	) &&
	ls state/bases >bases &&
	test_line_count = 2 bases &&
	tree=$(git -C heavy rev-parse HEAD^{tree}) &&
	test "$(sed -n 1p bases)" = "$tree" &&
	test_grep "^$tree-[0-9a-f]\{40\}$" bases &&
	test "$(cat state/bases/$tree/gen/out.txt)" = tracked &&
	test "$(cat state/bases/$tree-*/gen/out.txt)" = "made here" &&
	test -h state/bases/$tree-*/node_modules/main.js &&
	! test -e "$(cat hdir1)/upper/node_modules" &&
	find "$(cat hdir1)/upper" ! -name .git -type f >upper-files &&
	test_line_count = 2 upper-files &&
	test -f "$(cat hdir1)/upper/.gitignore" &&
	test_cmp heavy-status h1-status &&
	printf "made here\n11/100\n1/1\n" >expect &&
	test_cmp expect h2-files
'

test_expect_success PODMAN,OVERLAY 'a sandbox changes neither shared base nor its neighbour' '
	tree=$(git -C heavy rev-parse HEAD^{tree}) &&
	(cd state/bases && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s |
		sed "s/  */ /g" | cut -d" " -f1,3-) >before &&
	(cd state/bases && find . -type f -print0 | sort -z | xargs -0 cat) >before-data &&
	(
		cd heavy &&
		in_sandbox h1 "echo evil >gen/out.txt; echo evil >>node_modules/p1/f1.js;
			rm -rf node_modules/p2; chmod 600 node_modules/p3/f3.js" &&
		in_sandbox h2 "cat gen/out.txt node_modules/p1/f1.js node_modules/p2/f2.js" >../h2-after
	) &&
	(cd state/bases && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s |
		sed "s/  */ /g" | cut -d" " -f1,3-) >after &&
	(cd state/bases && find . -type f -print0 | sort -z | xargs -0 cat) >after-data &&
	test_cmp before after &&
	test_cmp before-data after-data &&
	printf "made here\n1/1\n2/2\n" >expect &&
	test_cmp expect h2-after
'

test_expect_success PODMAN,OVERLAY 'ignored files changed on the host make a new base; gc takes the old ones' '
	(
		cd heavy &&
		echo newer >node_modules/p5/f5.js &&
		git sand new -d h3 &&
		in_sandbox h3 "cat node_modules/p5/f5.js" >../h3-file &&
		in_sandbox h1 "cat node_modules/p5/f5.js" >../h1-file
	) &&
	echo newer >expect && test_cmp expect h3-file &&
	echo 5/5 >expect && test_cmp expect h1-file &&
	ls state/bases >bases &&
	test_line_count = 3 bases &&
	(
		cd heavy &&
		git sand rm -f h1 h2 2>/dev/null &&
		touch -d "2 hours ago" ../state/bases/* &&
		git sand gc >../gc-out &&
		in_sandbox h3 "cat node_modules/p5/f5.js" >../h3-again &&
		git sand rm -f h3 2>/dev/null
	) &&
	echo newer >expect && test_cmp expect h3-again &&
	test_grep "^Removing base tree" gc-out &&
	ls state/bases >bases &&
	test_line_count = 1 bases
'

test_expect_success PODMAN,OVERLAY 'where the default copies, it says so once' '
	test_when_finished "rm -rf \"$TRASH_DIRECTORY/st,ate\"" &&
	(
		cd repo &&
		GIT_SAND_HOME="$TRASH_DIRECTORY/st,ate" &&
		export GIT_SAND_HOME &&
		git sand new -d --workspace copy n0 2>../err0 &&
		git sand new -d n1 2>../err1 &&
		git sand new -d n2 2>../err2 &&
		git sand rm -f n0 n1 n2 2>/dev/null
	) &&
	! grep "^hint:" err0 &&
	test_grep "^hint: sandbox .n1. has a copy of the worktree, not an overlay: its state directory has .,. or .:. in its path$" err1 &&
	test_grep "^hint: see WORKSPACES in git-sand(1); this is said once$" err1 &&
	! grep "^hint:" err2 &&
	test -f "st,ate/notices/workspace-copy-path"
'

test_expect_success PODMAN 'gc names the bases directory it cannot read' '
	rm -rf state/bases &&
	>state/bases &&
	test_when_finished "rm -f state/bases" &&
	(cd repo && test_must_fail git sand gc 2>../err) &&
	test_grep "cannot read .*/state/bases.: Not a directory" err
'

test_done

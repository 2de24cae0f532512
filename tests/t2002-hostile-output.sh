#!/bin/sh
test_description='what a hostile sandbox prints cannot drive the terminal or exhaust the host'
. ./test-lib.sh
test_require_podman

# The sandbox's part is played from inside it (git sand exec) or by
# writing into its clone from the host, as a process in the container could.

# Bytes that must never reach a terminal from a sandbox: C0 controls other
# than newline and tab, DEL, and 0x80-0x9f (C1 controls, raw or as part of
# the UTF-8 of U+0080-U+009F and of the bidi controls; the texts here use
# no other character whose UTF-8 has such a byte). A terminal's own
# carriage returns (script(1)) and our colours are taken out first.
terminal_safe () {
	tr -d "\\r" <"$1" | sed "s/$(printf "\\033")\\[[0-9;]*m//g" >"$1.plain" &&
	LC_ALL=C tr -d "\\n\\t\\040-\\176\\240-\\377" <"$1.plain" >"$1.bad" &&
	if test -s "$1.bad"
	then
		echo >&4 "$1 has control bytes:" && od -c "$1.bad" | head -5 >&4
		return 1
	fi
}

# on_terminal <file> <command>: run it with a terminal for stdout.
on_terminal () {
	out=$1
	shift
	script -qec "$*" /dev/null >"$out" 2>&1
}

esc=$(printf "\\033")
c1_csi=$(printf "\\302\\233")
c1_osc=$(printf "\\302\\235")
rlo=$(printf "\\342\\200\\256")
lri=$(printf "\\342\\201\\246")
raw_csi=$(printf "\\233")

test_expect_success PODMAN 'setup: a sandbox whose names and messages carry controls' '
	test_create_repo repo &&
	(
		cd repo &&
		git sand new -d box &&
		git sand exec box git config user.name "x${esc}]0;pwned" &&
		git sand exec box git config user.email x@x &&
		git sand exec box sh -c "printf \"title ${esc}]0;pwned\\\\007 clear ${esc}[2J${esc}[H osc${c1_osc}0;t bidi${rlo}gnp.exe ${lri}x raw\\\\2332J\\\\n\" >evil.t" &&
		git sand exec box git add evil.t &&
		git sand exec box git commit -q -F evil.t &&
		git sand exec box git checkout -q -b "csi${c1_csi}2J" &&
		git sand exec box git branch "bidi${rlo}txt.exe" &&
		# not through exec: its arguments are made UTF-8 on the way
		clone=$(sandbox_field box clone) &&
		git -C "$clone" rev-parse HEAD >"$clone/.git/refs/heads/raw${raw_csi}2J"
	)
'

test_expect_success PODMAN 'fetch shows branch names with controls escaped' '
	(cd repo && git sand fetch box 2>../err) &&
	terminal_safe err &&
	test_grep "csi<U+009B>2J" err &&
	test_grep "bidi<U+202E>txt.exe" err &&
	test_grep "raw\\\\x9b2J" err
'

test_expect_success PODMAN 'log on a terminal escapes the commit message and author' '
	(cd repo && on_terminal ../out git sand log box --format=%an%n%B) &&
	terminal_safe out &&
	test_grep "^x^\\[\\]0;pwned" out.plain &&
	test_grep "clear ^\\[\\[2J^\\[\\[H" out.plain &&
	# host git gives the message, not UTF-8, as Latin-1 in UTF-8
	test_grep "osc<U+009D>0;t bidi<U+202E>gnp.exe <U+2066>x raw<U+009B>2J" out.plain
'

test_expect_success PODMAN 'log on a terminal keeps the colours of the user config' '
	(cd repo && git config color.diff always &&
	 on_terminal ../out "git sand log box --format=\"%C(red)%s\"") &&
	test_grep "$esc\\[31mtitle ^\\[\\]0;pwned" out &&
	(cd repo && git config color.diff false &&
	 on_terminal ../out "git sand log box --format=\"%C(red)%s\"") &&
	! grep -q "$esc" out &&
	terminal_safe out
'

test_expect_success PODMAN 'log into a file or pipe gives git'\''s bytes, as git does' '
	(cd repo && git sand log box --format=%B >../out) &&
	grep -q "$esc\\]0;pwned" out
'

test_expect_success PODMAN 'diff on a terminal escapes the content' '
	(cd repo && on_terminal ../out git sand diff box) &&
	terminal_safe out &&
	test_grep "+title ^\\[\\]0;pwned^G clear" out.plain
'

test_expect_success PODMAN 'diff on a terminal goes through the pager, escaped' '
	(cd repo && GIT_PAGER="cat; echo PAGED" &&
	 export GIT_PAGER && on_terminal ../out git sand diff box) &&
	terminal_safe out &&
	test_grep "PAGED" out &&
	test_grep "+title ^\\[\\]0;pwned" out
'

test_expect_success PODMAN 'status and diff -u escape what the sandbox'\''s git prints' '
	(
		cd repo &&
		git sand exec box sh -c "echo more >>evil.t" &&
		on_terminal ../status git sand status box &&
		on_terminal ../diff git sand diff -u box &&
		git sand status --porcelain box >../porcelain
	) &&
	terminal_safe status &&
	test_grep "csi<U+009B>2J" status &&
	terminal_safe diff &&
	test_grep "^+more" diff.plain &&
	terminal_safe porcelain
'

test_expect_success PODMAN 'status keeps colours only when it asked for them' '
	(
		cd repo &&
		git sand exec box sh -c "cp /usr/bin/git /usr/bin/git.real &&
			printf \"#!/bin/sh\\nprintf \\\"${esc}[31mred${esc}[m ${esc}[2J\\\\\\\\n\\\"\\n\" >/usr/bin/git" &&
		on_terminal ../tty git sand status box &&
		git sand status box >../notty &&
		git sand exec box mv /usr/bin/git.real /usr/bin/git
	) &&
	test_grep "$esc\\[31mred$esc\\[m ^\\[\\[2J" tty &&
	test_grep "^^\\[\\[31mred^\\[\\[m ^\\[\\[2J" notty
'

. "$TEST_DIRECTORY/lib-memory.sh"

test_expect_success PODMAN 'setup: a sandbox whose git prints without end' '
	(
		cd repo &&
		git sand new -d flood &&
		git sand exec flood sh -c "cp /usr/bin/git /usr/bin/git.real &&
			printf \"#!/bin/sh\\nyes 0123456789abcdef0123456789abcdef | head -c 400000000\\n\" >/usr/bin/git"
	)
'

test_expect_success PODMAN 'status streams a flood in bounded memory' '
	(cd repo && measure ../status git sand status flood >../out) &&
	test "$(wc -c <out)" -eq 400000000 &&
	under_256m status.time
'

test_expect_success PODMAN 'diff -u streams a flood in bounded memory' '
	(cd repo && measure ../diff git sand diff -u flood >/dev/null) &&
	under_256m diff.time
'

test_expect_success PODMAN 'rm refuses when the sandbox floods its answer, in bounded memory' '
	(cd repo && test_must_fail measure ../rm git sand rm flood 2>../err) &&
	under_256m rm.time &&
	test_grep "larger than 67108864 bytes" err &&
	test_grep "sand.maxOutput" err &&
	(cd repo && git sand ls >../ls) &&
	test_grep "^flood " ls
'

test_expect_success PODMAN 'sand.maxOutput sets the limit' '
	(cd repo && test_must_fail git -c sand.maxOutput=1k sand rm flood 2>../err) &&
	test_grep "larger than 1024 bytes" err &&
	(cd repo && test_must_fail git -c sand.maxOutput=lots sand ls 2>../err) &&
	test_grep "bad value for .sand.maxOutput." err
'

test_expect_success PODMAN 'cleanup: the flood sandbox' '
	(cd repo && git sand exec flood mv /usr/bin/git.real /usr/bin/git &&
	 git sand rm -f flood)
'

# plant_object <name> <file>: the sandbox commits <name>, then its loose
# object is replaced by <file>'s content.
plant_object () {
	git sand exec box sh -c "echo small >$1 && git add $1 && git commit -q -m $1" &&
	clone=$(sandbox_field box clone) &&
	oid=$(git sand exec box git rev-parse HEAD:$1) &&
	obj="$clone/.git/objects/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-)" &&
	rm -f "$obj" &&
	cat "$2" >"$obj"
}

test_expect_success PODMAN 'sand.maxObjectSize sets the limit, for packed objects too' '
	(
		cd repo &&
		git sand exec box git checkout -q -b packed main &&
		git sand exec box sh -c "head -c 300000 /dev/urandom >packed.t && git add packed.t &&
			git commit -q -m packed && git repack -q -a -d" &&
		test_must_fail git -c sand.maxObjectSize=100k sand fetch box 2>../err &&
		git sand fetch box &&
		git cat-file -e sand/box/packed:packed.t
	) &&
	test_grep "larger than 102400 bytes (sand.maxObjectSize)" err
'

test_expect_success PODMAN 'an object just under the limit is fetched in bounded memory' '
	(
		cd repo &&
		git sand exec box git checkout -q -b large main &&
		git sand exec box git branch -D packed &&
		git sand exec box sh -c "head -c 60000000 /dev/urandom >large.t && git add large.t &&
			git commit -q -m large" &&
		measure ../large git sand fetch box &&
		git cat-file -e sand/box/large:large.t
	) &&
	under_256m large.time
'

test_expect_success PODMAN 'a loose object claiming 1.9 GB is refused before inflating it' '
	(
		cd repo &&
		git sand exec box git checkout -q -b big-claim main &&
		git sand exec box git branch -D large &&
		# zlib, a first stored block: the header alone, claiming 1.9 GB
		printf "\\170\\001\\000\\020\\000\\357\\377blob 1900000000\\000" >../claim &&
		plant_object claim.t ../claim &&
		test_must_fail measure ../claim git sand fetch box 2>../err
	) &&
	under_256m claim.time &&
	test_grep "larger than 67108864 bytes (sand.maxObjectSize)" err
'

test_expect_success PODMAN 'a sparse 3 GB loose object is refused without reading it' '
	(
		cd repo &&
		git sand exec box git checkout -q -b sparse main &&
		git sand exec box git branch -D big-claim &&
		truncate -s 3G ../sparse &&
		plant_object sparse.t ../sparse &&
		rm ../sparse &&
		test_must_fail measure ../sparse git sand fetch box 2>../err
	) &&
	under_256m sparse.time &&
	test_grep "sand.maxObjectSize" err
'

test_expect_success PODMAN 'setup: a repository with ignored files, and its sandbox' '
	test_create_repo srepo &&
	(
		cd srepo &&
		printf "build/\\ncache\\n" >.gitignore &&
		git add .gitignore &&
		git commit -q -m ignore &&
		mkdir build &&
		echo precious >build/keep.o &&
		echo precious >cache &&
		git sand new -d sbox &&
		git sand exec sbox git config user.name x &&
		git sand exec sbox git config user.email x@x
	)
'

test_expect_success PODMAN 'sync refuses to replace an ignored directory with a file' '
	(
		cd srepo &&
		git sand exec sbox sh -c "rm -rf build && echo file >build && git add -f build &&
			git commit -q -m build-file" &&
		before=$(git rev-parse HEAD) &&
		test_expect_code 1 git sand sync sbox 2>../err &&
		test "$(git rev-parse HEAD)" = "$before" &&
		test_path_is_file build/keep.o
	) &&
	test_grep "not in your index" err &&
	test_grep "	build/keep.o" err &&
	test_grep "sync --force" err
'

test_expect_success PODMAN 'sync refuses to put a directory where an ignored file is' '
	(
		cd srepo &&
		git sand exec sbox sh -c "git reset -q --hard HEAD~1 && rm -f cache && mkdir cache &&
			echo x >cache/x && git add -f cache/x && git commit -q -m cache-dir" &&
		test_expect_code 1 git sand sync sbox 2>../err &&
		echo precious >expect &&
		test_cmp expect cache
	) &&
	test_grep "^	cache$" err
'

test_expect_success PODMAN 'sync --force moves them aside, then merges' '
	(
		cd srepo &&
		git sand sync --force sbox >../out &&
		test_path_is_file cache/x &&
		aside=$(sed -n "s/^Moving 1 untracked or ignored file aside, to .\\(.*\\).:$/\\1/p" ../out) &&
		test -n "$aside" &&
		echo precious >expect &&
		test_cmp expect "$aside/cache" &&
		case "$aside" in "$(pwd)/.git/sand-aside/"*) ;; *) false ;; esac
	) &&
	test_grep "^	cache$" out
'

# A git that makes the merge it is asked for, then fails as git does when
# a submodule refuses: what sync must still report.
write_failing_merge_git () {
	mkdir -p fakebin &&
	cat >fakebin/git <<-EOF &&
	#!/bin/sh
	"$(command -v git)" "\$@" || exit
	for a in "\$@"; do test "\$a" = merge && exit 128; done
	exit 0
	EOF
	chmod +x fakebin/git
}

test_expect_success PODMAN 'sync says what was done when git merge fails after moving the branch' '
	write_failing_merge_git &&
	(
		cd srepo &&
		git sand exec sbox sh -c "echo more >>cache/x && git commit -q -a -m more" &&
		before=$(git rev-parse HEAD) &&
		# git-sand itself: git would put its exec-path, and its git, first
		test_expect_code 1 env PATH="$TRASH_DIRECTORY/fakebin:$PATH" git-sand sync sbox 2>../err &&
		test "$(git rev-parse HEAD)" != "$before"
	) &&
	test_grep "exited with status 128 after it had moved .main. from" err &&
	test_grep "commits are merged" err
'

test_done

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
		test_when_finished "git sand exec box mv /usr/bin/git.real /usr/bin/git" &&
		on_terminal ../tty git sand status box &&
		git sand status box >../notty
	) &&
	test_grep "$esc\\[31mred$esc\\[m ^\\[\\[2J" tty &&
	test_grep "^^\\[\\[31mred^\\[\\[m ^\\[\\[2J" notty
'

test_done

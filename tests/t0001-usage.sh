#!/bin/sh
test_description='command line: usage, unknown commands and options, version, repository discovery'
. ./test-lib.sh

test_expect_success 'setup' '
	test_create_repo repo &&
	mkdir -p repo/sub/dir
'

test_expect_success 'no arguments lists the commands and exits 129' '
	test_expect_code 129 git sand >out &&
	test_grep "^usage: git sand" out &&
	test_grep "^   new " out &&
	test_grep "^   rm " out
'

test_expect_success '-h lists the commands and exits 129' '
	test_expect_code 129 git sand -h >out &&
	test_grep "These are the git sand commands" out
'

test_expect_success 'an unknown command is named, exit 129' '
	test_expect_code 129 git sand bogus 2>err &&
	test_grep "^error: .bogus. is not a git sand command" err
'

test_expect_success 'a mistyped command: the most similar ones, as git lists them' '
	test_expect_code 129 git sand lsit 2>err &&
	printf "%s\n" "error: '"'"'lsit'"'"' is not a git sand command. See '"'"'git sand -h'"'"'" >expect &&
	printf "\nThe most similar command is\n\tls\n" >>expect &&
	test_cmp expect err &&
	test_expect_code 129 git sand st 2>err &&
	printf "\nThe most similar commands are\n\tstart\n\tstatus\n\tstop\n" >expect &&
	sed 1d err >actual &&
	test_cmp expect actual &&
	test_expect_code 129 git sand xyzzy 2>err &&
	test_line_count = 1 err
'

test_expect_success 'an invalid sandbox name: the one the hooks would make is suggested' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d Foo 2>../err1 &&
		test_expect_code 128 git sand new -d feature/x 2>../err2 &&
		test_expect_code 128 git sand shell Feature/X 2>../err3 &&
		test_expect_code 128 git sand new -d -- -x- 2>../err4
	) &&
	test_grep "^error: invalid sandbox name .Foo.: " err1 &&
	test_grep "^hint: did you mean .foo.?" err1 &&
	test_grep "^hint: did you mean .feature-x.?" err2 &&
	test_grep "^hint: did you mean .feature-x.?" err3 &&
	test_grep "^error: invalid sandbox name .-x-." err4 &&
	test_grep "^hint: did you mean .x.?" err4
'

test_expect_success 'a name with nothing to make of it gets no suggestion' '
	(cd repo && test_expect_code 128 git sand new -d ... 2>../err) &&
	test_grep "^error: invalid sandbox name" err &&
	! grep "^hint:" err
'

test_expect_success 'an unknown global option is named, exit 129' '
	test_expect_code 129 git sand --bogus 2>err &&
	test_grep "unknown option .--bogus." err &&
	test_grep "^usage: " err
'

for cmd in new run shell agent attach show config exec ls logs wait export-session port forward ssh-config code stop start rm fetch status diff log sync sync-host gc hook image version
do
	test_expect_success "$cmd -h prints its usage on stdout and exits 129" '
		(cd repo && test_expect_code 129 git sand $cmd -h >../out 2>../err) &&
		test_grep "^usage: git sand $cmd" out &&
		test_line_count = 0 err
	'
done

test_expect_success 'ssh-config: --install and --uninstall together, or with names' '
	(cd repo && test_expect_code 128 git sand ssh-config --install --uninstall 2>../err) &&
	test_grep "options .--install. and .--uninstall. cannot be used together" err &&
	(cd repo && test_expect_code 129 git sand ssh-config --install box 2>../err) &&
	test_grep "^usage: git sand ssh-config" err
'

test_expect_success 'ssh-proxy wants an absolute state directory and an id; code one name' '
	test_expect_code 129 git sand ssh-proxy 2>err &&
	test_grep "^usage: git sand ssh-proxy" err &&
	test_expect_code 129 git sand ssh-proxy state 0123456789abcdef 2>err &&
	test_grep "^usage: git sand ssh-proxy" err &&
	(cd repo && test_expect_code 129 git sand code a b 2>../err) &&
	test_grep "^usage: git sand code" err
'

test_expect_success 'ssh-proxy names an id it does not know' '
	test_expect_code 128 git sand ssh-proxy "$GIT_SAND_HOME" 0123456789abcdef 2>err &&
	test_grep "^fatal: no sandbox with id .0123456789abcdef." err
'

test_expect_success '-h works outside a repository too' '
	test_expect_code 129 git sand new -h >out &&
	test_grep "^usage: git sand new" out
'

test_expect_success 'an unknown option of a command: error, usage, exit 129' '
	(cd repo && test_expect_code 129 git sand ls --bogus 2>../err) &&
	test_grep "^error: unknown option .bogus." err &&
	test_grep "^usage: git sand ls" err
'

test_expect_success 'an unknown switch of a command: error, usage, exit 129' '
	(cd repo && test_expect_code 129 git sand rm -q 2>../err) &&
	test_grep "^error: unknown switch .q." err
'

test_expect_success 'a missing option value is a usage error' '
	(cd repo && test_expect_code 129 git sand new --image 2>../err) &&
	test_grep "requires a value" err
'

test_expect_success 'too many arguments is a usage error' '
	(cd repo && test_expect_code 129 git sand ls extra 2>../err) &&
	test_grep "^usage: git sand ls" err
'

test_expect_success 'conflicting options are named' '
	(cd repo && test_expect_code 129 git sand ls --porcelain --json 2>../err ||
	 test_expect_code 128 git sand ls --porcelain --json 2>../err) &&
	test_grep "options .--porcelain. and .--json. cannot be used together" err
'

test_expect_success '--version and version print the version' '
	git sand --version >a &&
	git sand version >b &&
	test_cmp a b &&
	test_grep "^git-sand version [0-9a-g]" a
'

test_expect_success 'output that cannot be written is a fatal error' '
	test_expect_code 128 git sand version >/dev/full 2>err &&
	test_grep "^fatal: write failure on standard output" err
'

test_expect_success 'outside a repository, commands that need one die with 128' '
	mkdir -p outside &&
	(
		GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY &&
		export GIT_CEILING_DIRECTORIES &&
		cd outside &&
		test_expect_code 128 git sand ls 2>../err &&
		test_expect_code 128 git sand new x 2>>../err &&
		test_expect_code 128 git sand rm x 2>>../err
	) &&
	test_grep "^fatal: not a git repository" err &&
	test_line_count = 3 err
'

test_expect_success 'outside a repository, ls --all and version work' '
	(
		GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY &&
		export GIT_CEILING_DIRECTORIES &&
		cd outside &&
		git sand ls --all >../out &&
		git sand version
	)
'

test_expect_success 'works from a subdirectory and with -C' '
	(cd repo/sub/dir && git sand ls --porcelain >../../../out1) &&
	git sand -C repo/sub ls --porcelain >out2 &&
	test_cmp out1 out2
'

test_expect_success 'a bare repository is refused where a worktree is needed' '
	git clone -q --bare repo bare.git &&
	(cd bare.git && test_expect_code 128 git sand ls 2>../err) &&
	test_grep "must be run in a work tree" err
'

test_expect_success 'the state root: GIT_SAND_HOME, then sand.home, then XDG_STATE_HOME, then HOME' '
	(
		cd repo &&
		git sand ls &&
		test_path_is_file "$GIT_SAND_HOME/sand.db" &&
		unset GIT_SAND_HOME &&
		git config sand.home "$TRASH_DIRECTORY/from-config" &&
		git sand ls &&
		test_path_is_file "$TRASH_DIRECTORY/from-config/sand.db" &&
		git config --unset sand.home &&
		XDG_STATE_HOME=$TRASH_DIRECTORY/xdg git sand ls &&
		test_path_is_file "$TRASH_DIRECTORY/xdg/git-sand/sand.db" &&
		git sand ls &&
		test_path_is_file "$HOME/.local/state/git-sand/sand.db"
	)
'

test_expect_success 'sand.home is read from the global config too' '
	(
		cd repo &&
		unset GIT_SAND_HOME &&
		git config --global sand.home "~/global-state" &&
		test_when_finished "git config --global --unset sand.home" &&
		git sand ls &&
		test_path_is_file "$HOME/global-state/sand.db"
	)
'


# src/lg2-unused.c stands in for the function libgit2's mbedTLS build
# reads the CA bundle with, so that git_libgit2_init parses no
# certificates: bound to it by the dynamic linker, or by ld --wrap when
# libgit2 is linked in statically. libgit2 still looks for the bundle;
# it must not open it.
sand_bin=$(command -v git-sand)
if command -v strace >/dev/null 2>&1 &&
	strace -f -o /dev/null true 2>/dev/null
then
	test_set_prereq STRACE
elif test -n "${CI:-}"
then
	say "Bail out! strace (see install-deps.sh) does not run here, and CI is set"
	exit 1
fi
# Linked statically (the Makefile's default), libgit2's TLS set-up is
# not run at all (ld --wrap), so it does not even look for the bundle.
if ldd "$sand_bin" 2>/dev/null | grep -q libgit2
then
	ldd "$sand_bin" 2>/dev/null | grep -q libmbedx509 && test_set_prereq LG2_MBEDTLS
else
	test_set_prereq LG2_STATIC
fi

test_expect_success STRACE,LG2_MBEDTLS 'libgit2 reads no CA bundle at start-up' '
	(
		cd repo &&
		# LeakSanitizer cannot run under ptrace.
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -e trace=%file -o trace git sand ls &&
		grep -E "stat.*/certs/" trace &&
		! grep -E "open.*/certs/" trace
	)
'

test_expect_success STRACE,LG2_STATIC 'libgit2 sets up no TLS at start-up' '
	(
		cd repo &&
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -e trace=%file -o trace git sand ls &&
		test_grep "sand.db" trace &&
		! grep -E "/certs/|ca-certificates" trace
	)
'

test_done

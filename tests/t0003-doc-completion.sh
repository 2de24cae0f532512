#!/bin/sh
test_description='the manual, the usage texts and the completions agree'
. ./test-lib.sh
test_require_podman --optional

adoc="$SRC_DIRECTORY/Documentation/git-sand.adoc"
bash_completion="$SRC_DIRECTORY/completions/git-sand.bash"
commands="new shell agent show config exec ls stop start rm fetch status diff log sync sync-host gc hook version"

# The SYNOPSIS of the manual, without its markup, one trimmed line each.
sed -n '/^SYNOPSIS$/,/^DESCRIPTION$/p' "$adoc" | sed -e "s/'//g" -e 's/^ *//' >synopsis
# The OPTIONS section.
sed -n '/^OPTIONS$/,/^CONFIGURATION$/p' "$adoc" >options-section

usage_lines () {
	git sand "$1" -h | sed -n -e '/^$/q' -e 's/^usage: //p' -e 's/^   or: //p' -e 's/^  *//p'
}

long_options () {
	git sand "$1" -h | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z-]*\).*/--\2/p' | sort
}

test_expect_success 'the main usage is the first SYNOPSIS line' '
	test_expect_code 129 git sand -h >out &&
	sed -n "s/^usage: //p" out >usage &&
	grep -Fx -f usage synopsis
'

for cmd in $commands
do
	test_expect_success "the usage of '$cmd' is in the SYNOPSIS, verbatim" '
		usage_lines $cmd >usage &&
		test -s usage &&
		while read -r line
		do
			grep -Fxq -- "$line" synopsis || { echo >&4 "not in SYNOPSIS: $line"; return 1; }
		done <usage
	'

	test_expect_success "every option of '$cmd' is in the manual's OPTIONS" '
		long_options $cmd >opts &&
		while read -r opt
		do
			grep -q -- "^$opt\( .*\)\{0,1\}::\$" options-section ||
			{ echo >&4 "$opt of $cmd is not in OPTIONS"; return 1; }
		done <opts
	'

	test_expect_success "bash completion offers exactly the options of '$cmd'" '
		long_options $cmd >expect &&
		var=$(echo "$cmd" | tr - _) &&
		grep -q "^__git_sand_opts_$var=" "$bash_completion" &&
		sed -n "s/^__git_sand_opts_$var=\"\(.*\)\"\$/\1/p" "$bash_completion" |
		tr " " "\n" | sed -e "s/=\$//" -e "/^\$/d" | sort >actual &&
		test_cmp expect actual
	'
done

test_expect_success 'every command is in the manual, the bash, zsh and fish completions' '
	for cmd in $commands
	do
		grep -q "^$cmd\( \|::\)" "$adoc" || grep -q "^$cmd (" "$adoc" ||
			{ echo >&4 "$cmd is not in COMMANDS"; return 1; }
		grep -q "\b$cmd\b" "$SRC_DIRECTORY/completions/_git-sand" &&
		grep -q "\-a $cmd " "$SRC_DIRECTORY/completions/git-sand.fish" || return 1
	done &&
	grep -Fx "__git_sand_commands=\"$commands\"" "$bash_completion"
'

test_expect_success 'every sand.* key the code reads is documented' '
	{
		grep -ho "\"sand\.[a-zA-Z][a-zA-Z]*\"" "$SRC_DIRECTORY"/src/*.c | tr -d "\"" &&
		# The keys a profile may set are also plain sand.<key> settings.
		sed -n "/^const char \*const settings_keys/,/};/p" "$SRC_DIRECTORY/src/settings.c" |
		grep -o "\"[a-zA-Z]*\"" | tr -d "\"" | sed "s/^/sand./"
	} | grep -v "^sand\.db\$" | sort -u >keys &&
	test -s keys &&
	while read -r key
	do
		grep -q "^$key::" "$adoc" || { echo >&4 "$key is not in CONFIGURATION"; return 1; }
	done <keys
'

if test -f /usr/share/bash-completion/completions/git && command -v bash >/dev/null
then
	test_set_prereq BASH_COMPLETION
fi

complete () {
	"$TEST_DIRECTORY/complete.bash" "$@" >actual 2>&4
}

test_expect_success BASH_COMPLETION 'bash completes git sand sh<TAB>' '
	complete git sand she &&
	echo "shell " >expect &&
	test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'bash completes git sand new --<TAB>' '
	complete git sand new --de &&
	echo "--detach " >expect &&
	test_cmp expect actual &&
	complete git sand new --ru &&
	echo "--runtime=" >expect &&
	test_cmp expect actual &&
	complete git sand new --runtime=p &&
	echo "podman " >expect &&
	test_cmp expect actual
'

test_expect_success BASH_COMPLETION,PODMAN 'bash completes sandbox names after shell' '
	test_create_repo repo &&
	(
		cd repo &&
		git sand new -d box-one &&
		git sand new -d box-two &&
		"$TEST_DIRECTORY/complete.bash" git sand shell box >../actual &&
		"$TEST_DIRECTORY/complete.bash" git sand exec box-one "" >../after-name
	) &&
	printf "box-one \nbox-two \n" >expect &&
	test_cmp expect actual &&
	test_line_count = 0 after-name
'

test_done

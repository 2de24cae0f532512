#!/bin/sh
test_description='the manual, the usage texts and the completions agree'
. ./test-lib.sh
test_require_podman --optional

adoc="$SRC_DIRECTORY/Documentation/git-sand.adoc"
bash_completion="$SRC_DIRECTORY/completions/git-sand.bash"
commands="new run shell agent attach show config exec ls logs wait export-session port net forward ssh-config code stop start rm fetch status diff log sync sync-host gc hook image version"

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

test_expect_success 'the agents the code knows are those of the completions and the manual' '
	test_create_repo agents &&
	(cd agents && test_expect_code 128 git sand new -d --agent bogus 2>../err) &&
	sed -n "s/.*(known: \(.*\))\$/\1/p" err | sed "s/, /\n/g" >expect &&
	test_line_count = 4 expect &&
	sed -n "s/^__git_sand_agents=\"\(.*\)\"\$/\1/p" "$bash_completion" | tr " " "\n" >actual &&
	test_cmp expect actual &&
	# new --agent and agent --agent: each the whole list.
	grep "(-a --agent)" "$SRC_DIRECTORY/completions/_git-sand" >lines &&
	test_line_count = 2 lines &&
	sed -n "s/.*:agent:(\(.*\))[^)]*\$/\1/p" lines | tr " " "\n" | sort -u >actual &&
	test_cmp expect actual &&
	# new --agent, agent --agent and image build --agent.
	sed -n "s/.*-l agent -x -a .\([a-z ]*\). .*/\1/p" "$SRC_DIRECTORY/completions/git-sand.fish" >lines &&
	test_line_count = 3 lines &&
	tr " " "\n" <lines | sort -u >actual &&
	test_cmp expect actual &&
	manual=$(sed -n "/^--agent <agent>::\$/,/^\$/p" "$adoc" | tr -d "\n\t") &&
	while read -r agent
	do
		case "$manual" in
		*"\`$agent\`"*) ;;
		*) echo >&4 "$agent is not in the manual"; return 1 ;;
		esac
	done <expect
'

test_expect_success BASH_COMPLETION 'bash completes the agents after -a and --agent of new and agent' '
	complete git sand new -a "" &&
	printf "claude \ncodex \ngemini \nopencode \n" >expect &&
	test_cmp expect actual &&
	complete git sand new --agent c &&
	printf "claude \ncodex \n" >expect &&
	test_cmp expect actual &&
	complete git sand new --agent=o &&
	echo "opencode " >expect &&
	test_cmp expect actual &&
	complete git sand agent -a co &&
	echo "codex " >expect &&
	test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'bash completes image build, its agents and runtimes' '
	complete git sand image "" &&
	echo "build " >expect &&
	test_cmp expect actual &&
	complete git sand image build --agent c &&
	printf "claude \ncodex \n" >expect &&
	test_cmp expect actual &&
	complete git sand image build --agent claude --runtime "" &&
	printf "podman \ndocker \n" >expect &&
	test_cmp expect actual &&
	complete git sand image build --agent claude "" &&
	test_line_count = 0 actual
'

test_expect_success BASH_COMPLETION 'bash completes git log'"'"'s options after log' '
	complete git sand log box --onel &&
	echo "--oneline " >expect &&
	test_cmp expect actual &&
	complete git sand log --pretty=fu &&
	printf "full \nfuller \n" >expect &&
	test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'bash offers -- after exec <name>, and before a command with none' '
	complete git sand exec box "" &&
	echo "-- " >expect &&
	test_cmp expect actual &&
	complete git sand exec -t - &&
	printf "%s\n" "--interactive " "--tty " "--workdir=" "-- " >expect &&
	test_cmp expect actual &&
	complete git sand exec box -- "" &&
	test_line_count = 0 actual
'

test_expect_success BASH_COMPLETION,PODMAN 'bash completes --image from the runtime'"'"'s local images' '
	complete git sand new --image localhost/git-sand-t &&
	echo "$TEST_IMAGE " >expect &&
	test_cmp expect actual &&
	complete git sand new -d --image=localhost/git-sand-t &&
	test_cmp expect actual &&
	# bash splits the word at ":", and replaces only what follows it.
	complete git sand new -i localhost/git-sand-test : la &&
	echo "latest " >expect &&
	test_cmp expect actual &&
	# A runtime that is not installed offers nothing, and says nothing.
	if ! command -v docker >/dev/null
	then
		complete git sand new --runtime=docker --image "" &&
		test_line_count = 0 actual
	fi
'

test_expect_success BASH_COMPLETION,PODMAN 'bash completes sandbox names after shell' '
	test_create_repo repo &&
	(
		cd repo &&
		git sand new -d box-one &&
		git sand new -d box-two &&
		"$TEST_DIRECTORY/complete.bash" git sand shell box >../actual &&
		"$TEST_DIRECTORY/complete.bash" git sand exec -i box >../exec-names &&
		"$TEST_DIRECTORY/complete.bash" git sand exec box-one "" >../after-name &&
		"$TEST_DIRECTORY/complete.bash" git sand status box-one "" >../status-after-name
	) &&
	printf "box-one \nbox-two \n" >expect &&
	test_cmp expect actual &&
	test_cmp expect exec-names &&
	echo "-- " >expect &&
	test_cmp expect after-name &&
	test_line_count = 0 status-after-name
'

test_done

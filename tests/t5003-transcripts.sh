#!/bin/sh
test_description='an agent'"'"'s transcripts: kept when its sandbox goes, exported on demand'
. ./test-lib.sh
test_require_podman

# The agent stand-in, mounted as /usr/bin/claude: it writes a transcript
# where Claude Code keeps its sessions, as a batch run of it would.
test_expect_success PODMAN 'setup: a stand-in agent that writes a transcript' '
	test_create_repo repo &&
	mkdir fakebin &&
	cat >fakebin/claude <<-\EOF &&
	#!/bin/sh
	mkdir -p "$HOME/.claude/projects/-app" &&
	printf "{\"prompt\": \"%s\"}\n" "$*" >>"$HOME/.claude/projects/-app/session.jsonl"
	EOF
	chmod +x fakebin/claude &&
	git -C repo config sand.mount "$TRASH_DIRECTORY/fakebin/claude:/usr/bin/claude:ro" &&
	git -C repo config sand.agent claude &&
	(cd repo && git sand new one --prompt "first task" >/dev/null)
'

test_expect_success PODMAN 'export-session copies the transcripts out' '
	(cd repo && git sand export-session one ../out) &&
	echo "{\"prompt\": \"-p first task\"}" >expect &&
	test_cmp expect out/-app/session.jsonl
'

test_expect_success PODMAN 'export-session: an existing directory, a sandbox without transcripts, usage' '
	(
		cd repo &&
		test_expect_code 128 git sand export-session one ../out 2>../err-exists &&
		git sand new -d --agent claude quiet &&
		test_expect_code 128 git sand export-session quiet ../q 2>../err-none &&
		git sand rm quiet 2>../err-rm &&
		test_expect_code 129 git sand export-session one 2>../err-usage
	) &&
	test_grep "^error: .../out. already exists" err-exists &&
	test_grep "^fatal: cannot export the transcripts of sandbox .one." err-exists &&
	test_grep "^error: the agent of sandbox .quiet. has written no transcripts (~/.claude/projects)" err-none &&
	! test_grep "transcripts" err-rm &&
	test_path_is_missing q &&
	test_grep "^usage: git sand export-session" err-usage
'

test_expect_success PODMAN 'the copy is the exporter'"'"'s: the sandbox writing on changes nothing in it' '
	(cd repo && git sand run one --prompt "second task" >/dev/null) &&
	test_cmp expect out/-app/session.jsonl
'

test_expect_success PODMAN 'rm keeps the transcripts, and says where' '
	(cd repo && git sand rm one 2>../err) &&
	kept="$GIT_SAND_HOME/transcripts/$(ls "$GIT_SAND_HOME/transcripts" | grep "^one\.")" &&
	test_grep "^Kept the agent.s transcripts of sandbox .one. in .$kept.\$" err &&
	{
		echo "{\"prompt\": \"-p first task\"}" &&
		echo "{\"prompt\": \"-p second task\"}"
	} >expect &&
	test_cmp expect "$kept/-app/session.jsonl"
'

test_expect_success PODMAN 'a hostile sandbox: links in its transcripts are not followed, nor kept' '
	echo secret >host-secret &&
	(
		cd repo &&
		git sand new -d --agent claude evil &&
		git sand exec evil sh -c "mkdir -p ~/.claude/projects/p &&
			echo ok >~/.claude/projects/p/real.jsonl &&
			ln -s $TRASH_DIRECTORY/host-secret ~/.claude/projects/p/link.jsonl &&
			ln -s / ~/.claude/projects/root &&
			mkfifo ~/.claude/projects/p/fifo" &&
		git sand export-session evil ../evil-out 2>../err-export &&
		git sand rm evil 2>../err-rm
	) &&
	echo ok >expect &&
	test_cmp expect evil-out/p/real.jsonl &&
	test_path_is_missing evil-out/p/link.jsonl &&
	test_path_is_missing evil-out/root &&
	test_path_is_missing evil-out/p/fifo &&
	kept="$GIT_SAND_HOME/transcripts/$(ls "$GIT_SAND_HOME/transcripts" | grep "^evil\.")" &&
	test_cmp expect "$kept/p/real.jsonl" &&
	test_path_is_missing "$kept/p/link.jsonl" &&
	test_path_is_missing "$kept/root"
'

test_expect_success PODMAN 'a transcript directory that is a link is not followed' '
	(
		cd repo &&
		git sand new -d --agent claude sly &&
		git sand exec sly sh -c "mkdir -p ~/.claude && rm -rf ~/.claude/projects &&
			ln -s /etc ~/.claude/projects" &&
		test_expect_code 128 git sand export-session sly ../sly-out 2>../err &&
		git sand rm sly 2>../err-rm
	) &&
	test_grep "has written no transcripts" err &&
	test_path_is_missing sly-out &&
	! test_grep "Kept" err-rm
'

test_done

#!/bin/sh
test_description='agents, dotfiles, environment, profiles, ssh-agent and setup'
. ./test-lib.sh
test_require_podman

test_expect_success PODMAN 'setup: a home with agent files, and secrets no agent needs' '
	mkdir -p "$HOME/.claude/agents" "$HOME/.claude/cache" "$HOME/.codex" "$HOME/.ssh" "$HOME/.aws" &&
	echo "{\"theme\":\"dark\"}" >"$HOME/.claude/settings.json" &&
	echo "{\"token\":\"claude-cred\"}" >"$HOME/.claude/.credentials.json" &&
	echo "reviewer" >"$HOME/.claude/agents/reviewer.md" &&
	echo "cached" >"$HOME/.claude/cache/blob" &&
	echo "history" >"$HOME/.codex/history.jsonl" &&
	echo "{}" >"$HOME/.codex/auth.json" &&
	echo "[mcp_servers.db]" >"$HOME/.codex/config.toml" &&
	echo "PRIVATE KEY" >"$HOME/.ssh/id_rsa" &&
	echo "aws-secret" >"$HOME/.aws/credentials" &&
	test_create_repo repo &&
	cat >"$HOME/.claude.json" <<-EOF &&
	{"userID":"u1","hasCompletedOnboarding":true,"oauthAccount":{"emailAddress":"me@example.com"},
	 "mcpServers":{"db":{"command":"pg-mcp","env":{"PGPASSWORD":"db-s3cr3t"}}},
	 "projects":{"$TRASH_DIRECTORY/repo":{"allowedTools":["mine"],
	  "mcpServers":{"local":{"env":{"TOKEN":"local-s3cr3t"}}}},
	 "/elsewhere":{"allowedTools":["other"]}}}
	EOF
	mkdir fakebin &&
	cat >fakebin/claude <<-\EOF &&
	#!/bin/sh
	echo "fake claude in $PWD, home $HOME"
	EOF
	chmod +x fakebin/claude
'

test_expect_success PODMAN 'claude: exactly the documented files, and the project re-keyed to /app' '
	(
		cd repo &&
		git sand new -d --agent claude cl &&
		in_sandbox cl "cd /home/sand && find . -type f | sort" >../files &&
		in_sandbox cl "cat /home/sand/.claude.json" >../claude.json &&
		git sand show cl >../show
	) &&
	cat >claude-files <<-\EOF &&
	./.claude.json
	./.claude/.credentials.json
	./.claude/agents/reviewer.md
	./.claude/settings.json
	./.gitconfig
	EOF
	test_cmp claude-files files &&
	test_grep "\"/app\"" claude.json &&
	test_grep "mine" claude.json &&
	test_grep "\"hasCompletedOnboarding\":.true" claude.json &&
	test_grep "me@example.com" claude.json &&
	! grep "elsewhere\|userID\|mcpServers\|s3cr3t" claude.json &&
	test_grep "^carries .*~/.claude/.credentials.json" show &&
	! grep "claude-cred" show
'

test_expect_success PODMAN 'sand.agent.<agent>.carry and .carryKey add paths and keys' '
	test_when_finished "git -C repo config --remove-section sand.agent.claude" &&
	(
		cd repo &&
		git config sand.agent.claude.carry .claude/cache &&
		git config sand.agent.claude.carryKey mcpServers &&
		git config --add sand.agent.claude.carryKey userID &&
		git sand new -d --agent claude more &&
		in_sandbox more "cat /home/sand/.claude/cache/blob /home/sand/.claude.json" >../out &&
		git config sand.agent.claude.carry ../.ssh &&
		test_expect_code 128 git sand new -d --agent claude outside 2>../err
	) &&
	test_grep "^cached$" out &&
	test_grep "db-s3cr3t" out &&
	test_grep "local-s3cr3t" out &&
	test_grep "\"userID\"" out &&
	test_grep "sand.agent.claude.carry: .\.\./\.ssh. is not a path inside your home directory" err
'

test_expect_success PODMAN 'gemini: its settings without their MCP servers' '
	mkdir -p "$HOME/.gemini" &&
	echo "{\"token\":\"g\"}" >"$HOME/.gemini/oauth_creds.json" &&
	cat >"$HOME/.gemini/settings.json" <<-\EOF &&
	{"selectedAuthType":"oauth-personal","mcpServers":{"db":{"env":{"PW":"gem-s3cr3t"}}}}
	EOF
	(
		cd repo &&
		git sand new -d --agent gemini gem &&
		in_sandbox gem "cd /home/sand && find .gemini -type f | sort && cat .gemini/settings.json" >../out
	) &&
	test_grep "^.gemini/oauth_creds.json$" out &&
	test_grep "oauth-personal" out &&
	! grep "mcpServers\|gem-s3cr3t" out
'

test_expect_success PODMAN 'codex gets its auth only; its config when asked' '
	(
		cd repo &&
		git sand new -d --agent codex cx &&
		in_sandbox cx "cd /home/sand && find . -type f | sort" >../files &&
		git -c sand.agent.codex.carry=.codex/config.toml sand new -d --agent codex cx2 &&
		in_sandbox cx2 "cd /home/sand && find . -type f | sort" >../files2
	) &&
	printf "./.codex/auth.json\\n./.gitconfig\\n" >expect &&
	test_cmp expect files &&
	printf "./.codex/auth.json\\n./.codex/config.toml\\n./.gitconfig\\n" >expect &&
	test_cmp expect files2
'

test_expect_success PODMAN 'the agent starts instead of a shell, or a shell when the image lacks it' '
	(
		cd repo &&
		echo "echo in-the-shell" | git sand new --agent claude nocl >../out 2>../err &&
		echo "echo shell-again" | git sand agent nocl >>../out 2>>../err &&
		git sand new -d --agent claude --mount "$TRASH_DIRECTORY/fakebin/claude:/usr/bin/claude:ro" hascl &&
		git sand agent hascl </dev/null >../agent-out
	) &&
	test_grep "in-the-shell" out &&
	test_grep "shell-again" out &&
	test_grep "has no .claude. command: opening a shell instead" err &&
	test_grep "fake claude in /app, home /home/sand" agent-out
'

test_expect_success PODMAN 'an image without the agent: which image has it, how to build it' '
	test_grep "^The image .$TEST_IMAGE. has no .claude. command" err &&
	test_grep "^hint: .localhost/git-sand-agents:latest. has it, once built with .git sand image build --agent claude.;\$" err &&
	test_grep "^hint: use it with .git sand new -i localhost/git-sand-agents:latest., or for every new sandbox\$" err &&
	test_grep "^hint: with .git config --global sand.image localhost/git-sand-agents:latest.\$" err &&
	test $(grep -c "^hint: " err) = 6
'

if command -v script >/dev/null 2>&1
then
	test_set_prereq SCRIPT
fi

test_expect_success PODMAN,SCRIPT 'on a terminal, the agent is announced before it starts' '
	(
		cd repo &&
		script -qec "git sand agent hascl" /dev/null </dev/null >../tty-out &&
		git sand agent hascl </dev/null >/dev/null 2>../notty-err
	) &&
	test_grep "^Starting claude in sandbox .hascl.\.\.\." tty-out &&
	test_grep "fake claude in /app" tty-out &&
	test_line_count = 0 notty-err
'

test_expect_success PODMAN 'agent --agent gives a sandbox made without one its agent' '
	(
		cd repo &&
		git sand new -d --mount "$TRASH_DIRECTORY/fakebin/claude:/usr/bin/claude:ro" plain &&
		test_expect_code 128 git sand agent plain </dev/null 2>../err &&
		test_expect_code 128 git sand agent --agent nosuch plain 2>../err2 &&
		git sand agent --agent claude plain </dev/null >../agent-out &&
		git sand show plain >../show &&
		in_sandbox plain "cd /home/sand && find . -type f | sort" >../files
	) &&
	test_grep "^error: sandbox .plain. has no agent$" err &&
	test_grep "^hint: .git sand agent --agent <agent> plain. gives it one" err &&
	test_grep "unknown agent .nosuch." err2 &&
	test_grep "fake claude in /app, home /home/sand" agent-out &&
	test_grep "^agent  *claude$" show &&
	test_grep "^carries .*~/.claude/.credentials.json" show &&
	test_cmp claude-files files
'

test_expect_success PODMAN 'agent --agent follows no link the sandbox put in its home' '
	mkdir victim &&
	echo "mine" >victim.json &&
	(
		cd repo &&
		git sand new -d linked1 &&
		in_sandbox linked1 "ln -s \"$TRASH_DIRECTORY/victim.json\" /home/sand/.claude.json" &&
		git sand agent --agent claude linked1 </dev/null >/dev/null 2>&1 &&
		in_sandbox linked1 "test -f /home/sand/.claude.json && test ! -h /home/sand/.claude.json" &&
		git sand new -d linked2 &&
		in_sandbox linked2 "ln -s \"$TRASH_DIRECTORY/victim\" /home/sand/.claude" &&
		test_expect_code 128 git sand agent --agent claude linked2 </dev/null 2>../err &&
		git sand show linked2 >../show
	) &&
	echo mine >expect &&
	test_cmp expect victim.json &&
	ls victim >victim-files &&
	test_line_count = 0 victim-files &&
	test_grep "\.claude. in the sandbox.s home is not a directory" err &&
	! grep "^agent" show
'

test_expect_success PODMAN 'the carried .gitconfig is sanitised' '
	cat >"$HOME/included" <<-\EOF &&
	[credential]
		helper = included-helper
	EOF
	cat >>"$HOME/.gitconfig" <<-EOF &&
	[user]
		name = Host User
		email = host@example.com
		signingKey = ABC
	[alias]
		st = status
		evil = !rm -rf /
	[credential]
		helper = store
	[include]
		path = $HOME/included
	[includeIf "gitdir:/"]
		path = $HOME/included
	[core]
		hooksPath = /host/hooks
		sshCommand = ssh -i /host/key
		fsmonitor = /host/monitor
		editor = vi
	[gpg]
		program = /host/gpg
	[commit]
		gpgSign = true
	[url "https://token@example.com/"]
		insteadOf = https://example.com/
	[init]
		defaultBranch = main
	[sand]
		dummy = x
	EOF
	(
		cd repo &&
		git sand new -d gc &&
		in_sandbox gc "cat /home/sand/.gitconfig" >../sanitized &&
		in_sandbox gc "git config --global user.name" >../name
	) &&
	echo "Host User" >expect &&
	test_cmp expect name &&
	git config -f sanitized --list >list &&
	test_grep "^user.email=host@example.com$" list &&
	test_grep "^alias.st=status$" list &&
	test_grep "^core.editor=vi$" list &&
	! grep -i "helper\|include\|hookspath\|sshcommand\|fsmonitor\|gpg\|signingkey\|alias.evil\|insteadof\|^sand\." list
'

test_expect_success PODMAN 'a dotfile outside the home is refused, nothing made' '
	(
		cd repo &&
		git config sand.dotfiles ../outside &&
		test_expect_code 128 git sand new -d dot 2>../err &&
		git config --unset sand.dotfiles &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "dotfile .\\.\\./outside. is not a path inside your home directory" err &&
	! grep "^sandbox dot$" rows
'

test_expect_success PODMAN '--env values reach the container and nothing else' '
	(
		cd repo &&
		git sand new -d --env API_TOKEN=hunter2-s3cr3t --env MODE=x envy &&
		in_sandbox envy "echo \$API_TOKEN \$MODE" >../out &&
		git sand ls --json >../json &&
		git sand ls --porcelain >../porcelain &&
		git sand show envy >../show &&
		git sand stop envy && git sand start envy &&
		in_sandbox envy "echo \$API_TOKEN" >>../out
	) &&
	printf "hunter2-s3cr3t x\\nhunter2-s3cr3t\\n" >expect &&
	test_cmp expect out &&
	test_grep "^env  *API_TOKEN, MODE$" show &&
	! grep -a "hunter2" "$GIT_SAND_HOME/sand.db" "$GIT_SAND_HOME"/sand.db-* json porcelain show 2>/dev/null &&
	! grep -ra "hunter2" "$GIT_SAND_HOME/logs" 2>/dev/null
'

test_expect_success PODMAN 'a bad --env names the key, never the value' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --env "K=line1
line2-s3cr3t" bad 2>../err
	) &&
	test_grep "value of --env K holds a newline" err &&
	! grep "s3cr3t" err
'

test_expect_success PODMAN 'profiles: the command line, then the profile, then sand.*' '
	(
		cd repo &&
		git config sand.cpus 1 &&
		git config sand.profile.big.cpus 2 &&
		git config sand.profile.big.memory 512m &&
		git sand config >../plain &&
		git sand config --profile big >../big &&
		git sand new -d --profile big p1 &&
		git sand new -d --profile big --cpus 1 p2 &&
		git config sand.profile big &&
		git sand new -d p3 &&
		git sand show p1 >../show1 && git sand show p2 >../show2 && git sand show p3 >../show3 &&
		test_expect_code 128 git sand new -d --profile nosuch p4 2>../err &&
		git config --unset sand.profile
	) &&
	test_grep "^cpus  *1  *sand.cpus (local)$" plain &&
	test_grep "^cpus  *2  *sand.profile.big.cpus (local)$" big &&
	test_grep "^memory  *512m  *sand.profile.big.memory (local)$" big &&
	test_grep "^cpus  *2$" show1 &&
	test_grep "^cpus  *1$" show2 &&
	test_grep "^profile  *big$" show3 &&
	test_grep "^cpus  *2$" show3 &&
	test_grep "no profile named .nosuch." err
'

test_expect_success 'git -c settings come first, as in git' '
	(
		cd repo &&
		git config sand.image from-file &&
		git -c sand.image=from-c sand config >../c1 &&
		git -c sand.image=first -c sand.image=last sand config >../c2 &&
		GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=sand.cpus GIT_CONFIG_VALUE_0=3 \
			git sand config >../c3 &&
		git -c "sand.profile.far.host=ssh://build" sand config --profile far >../c4 &&
		git config --unset sand.image
	) &&
	test_grep "^image  *from-c  *sand.image (command)$" c1 &&
	test_grep "^image  *last  *sand.image (command)$" c2 &&
	test_grep "^cpus  *3  *sand.cpus (command)$" c3 &&
	test_grep "^host  *ssh://build  *sand.profile.far.host (command)$" c4
'

test_expect_success PODMAN 'no ssh-agent unless asked for' '
	(
		cd repo &&
		git sand new -d noagent &&
		in_sandbox noagent "test -z \"\$SSH_AUTH_SOCK\" && test ! -e /run/host-ssh-agent.sock"
	)
'

if command -v ssh-agent >/dev/null 2>&1
then
	test_set_prereq SSH_AGENT
fi

test_expect_success PODMAN,SSH_AGENT '--ssh-agent forwards the socket' '
	eval "$(ssh-agent -a "$TRASH_DIRECTORY/agent.sock" -s)" >/dev/null &&
	test_when_finished "kill $SSH_AGENT_PID" &&
	(
		cd repo &&
		git sand new -d --ssh-agent withagent &&
		in_sandbox withagent "test -S /run/host-ssh-agent.sock && echo \$SSH_AUTH_SOCK" >../out
	) &&
	echo /run/host-ssh-agent.sock >expect &&
	test_cmp expect out
'

test_expect_success PODMAN 'the setup command runs once, not on every start; its failure is not fatal' '
	(
		cd repo &&
		git config sand.setup "echo ran >>/app/.setup-count" &&
		git sand new -d su &&
		git sand stop su && git sand start su &&
		in_sandbox su "wc -l <.setup-count" >../count &&
		git config sand.setup "exit 9" &&
		git sand new -d sufail 2>../err &&
		git config --unset sand.setup
	) &&
	echo 1 >expect &&
	test_cmp expect count &&
	test_grep "setup command failed (status 9)" err
'

test_expect_success PODMAN 'rm removes the copies' '
	(
		cd repo &&
		dir=$(git sand ls --porcelain | sed -n "s/^clone //p" | head -1) &&
		git sand rm -f --all &&
		test_path_is_missing "$(dirname "$dir")/home"
	)
'

test_done

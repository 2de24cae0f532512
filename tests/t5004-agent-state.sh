#!/bin/sh
test_description='ls: what the agent says of itself (its hooks), and how far its branch is ahead'
. ./test-lib.sh
test_require_podman

# The agent stand-in, mounted as /usr/bin/claude. Like Claude Code, it runs
# the hooks of ~/.claude/settings.json at its events, each command with a
# shell: the prompt "ask" asks a permission (Notification), waits for
# /tmp/go, then uses a tool (PostToolUse) and ends its turn (Stop).
test_expect_success PODMAN 'setup: a stand-in agent that runs its hooks' '
	test_create_repo repo &&
	mkdir fakebin &&
	cat >fakebin/claude <<-\EOF &&
	#!/bin/sh
	hooks () {
		awk -v ev="$1" '\''
			/^\t\t"[A-Za-z]+":/ { inside = index($0, "\"" ev "\":") > 0 }
			inside && /"command":/ {
				sub(/^[^:]*"command":[ \t]*"/, ""); sub(/"$/, "")
				gsub(/\\"/, "\""); print
			}'\'' "$HOME/.claude/settings.json" |
		while read -r cmd; do sh -c "$cmd"; done
	}
	hooks UserPromptSubmit
	case "$*" in *ask*)
		hooks Notification
		i=0; while test ! -e /tmp/go && test $i -lt 600; do sleep 0.1; i=$((i+1)); done
		hooks PostToolUse ;;
	esac
	echo done
	hooks Stop
	EOF
	chmod +x fakebin/claude &&
	git -C repo config sand.mount "$TRASH_DIRECTORY/fakebin/claude:/usr/bin/claude:ro" &&
	git -C repo config sand.agent claude
'

# wait_for_state <name> <state>: poll ls, at most 10 s.
wait_for_state () {
	i=0
	while test "$(sandbox_field "$1" state)" != "$2" && test $i -lt 50
	do
		sleep 0.2
		i=$((i + 1))
	done
	test "$(sandbox_field "$1" state)" = "$2"
}

test_expect_success PODMAN 'the hooks join those the user carries, which stay' '
	mkdir -p "$HOME/.claude" &&
	cat >"$HOME/.claude/settings.json" <<-\EOF &&
	{ "model": "opus",
	  "hooks": { "Stop": [ { "hooks": [ { "type": "command", "command": "echo mine >/tmp/mine" } ] } ] } }
	EOF
	(
		cd repo &&
		git sand new -d one &&
		in_sandbox one "cat ~/.claude/settings.json" >../settings
	) &&
	test_grep "\"model\":	\"opus\"" settings &&
	test_grep "echo mine >/tmp/mine" settings &&
	test_grep "echo waiting >" settings &&
	test_grep "\"SessionEnd\":" settings &&
	test_grep "\"command\":	\"rm -f \\\\\"\$HOME/.git-sand/agent-state" settings &&
	test "$(grep -c "agent-state.*agent-state" settings)" = 4
'

test_expect_success PODMAN 'a run that asks its user shows waiting, then runs on' '
	(
		cd repo &&
		git sand run -d one --prompt "ask" 2>/dev/null &&
		wait_for_state one waiting &&
		git sand ls >../table &&
		git sand ls --json >../json &&
		in_sandbox one "touch /tmp/go" &&
		git sand wait one &&
		sandbox_field one state >../st &&
		in_sandbox one "cat /tmp/mine ~/.git-sand/agent-state" >../after
	) &&
	test_grep "^one  *running  *claude  *waiting " table &&
	test_grep "\"state\":	\"waiting\"" json &&
	echo exited >expect &&
	test_cmp expect st &&
	printf "mine\nwaiting\n" >expect &&
	test_cmp expect after
'

test_expect_success PODMAN 'with no run, the agent'"'"'s word is shown while it runs; start forgets it' '
	(
		cd repo &&
		git sand new -d two &&
		sandbox_field two state >../st &&
		in_sandbox two "mkdir -p ~/.git-sand && echo working >~/.git-sand/agent-state" &&
		sandbox_field two state >>../st &&
		in_sandbox two "echo waiting >~/.git-sand/agent-state" &&
		sandbox_field two state >>../st &&
		git sand stop two &&
		sandbox_field two state >>../st &&
		git sand start two &&
		sandbox_field two state >>../st &&
		in_sandbox two "test ! -e ~/.git-sand/agent-state"
	) &&
	printf "idle\nrunning\nwaiting\nidle\nidle\n" >expect &&
	test_cmp expect st
'

test_expect_success PODMAN 'what the sandbox writes there is only ever a word: anything else is ignored' '
	(
		cd repo &&
		in_sandbox two "printf \"waiting\\nand more\" >~/.git-sand/agent-state" &&
		sandbox_field two state >../st &&
		in_sandbox two "rm ~/.git-sand/agent-state && ln -s /etc/passwd ~/.git-sand/agent-state" &&
		sandbox_field two state >>../st &&
		in_sandbox two "rm ~/.git-sand/agent-state && mkfifo ~/.git-sand/agent-state" &&
		sandbox_field two state >>../st &&
		in_sandbox two "rm -r ~/.git-sand && ln -s /tmp ~/.git-sand && echo waiting >/tmp/agent-state" &&
		sandbox_field two state >>../st &&
		in_sandbox two "rm ~/.git-sand"
	) &&
	printf "idle\nidle\nidle\nidle\n" >expect &&
	test_cmp expect st
'

test_expect_success PODMAN 'BRANCH: commits ahead as fetched, and * for what is not fetched yet' '
	(
		cd repo &&
		branch=$(git symbolic-ref --short HEAD) &&
		commit="git -c user.name=A -c user.email=a@example.com commit -q --allow-empty" &&
		git sand ls >../t0 &&
		in_sandbox two "$commit -m a && $commit -m b" &&
		git sand ls >../t1 &&
		git sand ls --porcelain >../p1 &&
		git sand fetch two 2>/dev/null &&
		git sand ls >../t2 &&
		git sand ls --porcelain >../p2 &&
		git sand ls --json >../j2 &&
		in_sandbox two "$commit -m c" &&
		git sand ls >../t3 &&
		git commit -q --allow-empty -m host &&
		git sand ls >../t4 &&
		echo "$branch" >../branch
	) &&
	b=$(cat branch) &&
	test_grep "^two  *running  *claude  *idle  *$b  " t0 &&
	test_grep "^two  *running  *claude  *idle  *$b \*  " t1 &&
	test_grep "^unfetched$" p1 &&
	test_grep "^two  *running  *claude  *idle  *$b +2  " t2 &&
	test_grep "^ahead 2$" p2 &&
	! grep "^unfetched$" p2 &&
	test_grep "\"ahead\":	2" j2 &&
	test_grep "\"unfetched\":	false" j2 &&
	test_grep "^two .* $b +2\*  " t3 &&
	test_grep "^two .* $b +2\*  " t4
'

test_expect_success PODMAN 'BRANCH shows in the long format without agents' '
	(
		cd repo &&
		git -c sand.agent= sand new -d plain &&
		git sand rm -f one two &&
		git sand ls >../short &&
		git sand ls -l >../long
	) &&
	! grep BRANCH short &&
	test_grep "^NAME  *STATUS  *BRANCH  *IMAGE" long
'

test_expect_success PODMAN 'cleanup' '
	(cd repo && git sand rm -f --all)
'

test_done

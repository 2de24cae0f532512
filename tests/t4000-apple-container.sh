#!/bin/sh
test_description='the Apple container backend issues exactly the documented commands'
. ./test-lib.sh

# No Mac here: tests/fake-container/container stands in for Apple's CLI and
# refuses anything outside its documented contract (see that file).
FAKE_CONTAINER_STATE=$TRASH_DIRECTORY/fake-state
export FAKE_CONTAINER_STATE
PATH="$TEST_DIRECTORY/fake-container:$PATH"
mkdir -p "$FAKE_CONTAINER_STATE"
echo localhost/sandbox:1 >"$FAKE_CONTAINER_STATE/images"
calls="$FAKE_CONTAINER_STATE/calls.log"

test_expect_success 'setup' '
	test_create_repo repo &&
	git -C repo config sand.runtime container &&
	git -C repo config sand.image localhost/sandbox:1
'

test_expect_success 'new: image list, then create and start with the documented flags' '
	(
		cd repo &&
		: >"$calls" &&
		git sand new -d --cpus 2 --memory 1G box &&
		cp "$calls" ../actual &&
		id=$(sandbox_field box id) &&
		ctr=$(sandbox_field box container) &&
		clone=$(sandbox_field box clone) &&
		mirror=$(ls -d "$GIT_SAND_HOME"/mirrors/*.git) &&
		cat >../expect <<-EOF &&
		image list --format json
		create --name sand-box-$(echo $id | cut -c1-8) --label io.git-sand.id=$id --label io.git-sand.name=box --label io.git-sand.worktree=$TRASH_DIRECTORY/repo --label io.git-sand.home=$GIT_SAND_HOME --mount type=bind,source=$clone,target=/app --mount type=bind,source=$mirror,target=/run/git-origin-ro,readonly --mount type=bind,source=$(dirname "$clone")/home,target=/home/sand --workdir /app --cpus 2 --memory 1G --network none --env HOME=/home/sand localhost/sandbox:1 sleep infinity
		start $ctr
		EOF
		test "$ctr" = "sand-box-$(echo $id | cut -c1-8)"
	) &&
	test_cmp expect actual
'

test_expect_success 'ls asks the CLI once, and reads its JSON' '
	(
		cd repo &&
		: >"$calls" &&
		git sand ls --porcelain >../ls
	) &&
	echo "list --all --format json" >expect &&
	test_cmp expect "$calls" &&
	test_grep "^status running$" ls
'

test_expect_success 'exec: the documented flags, the status passed through' '
	(
		cd repo &&
		ctr=$(sandbox_field box container) &&
		: >"$calls" &&
		git sand exec box cat one.t >../out &&
		test_expect_code 3 git sand exec box sh -c "exit 3" &&
		test_expect_code 127 git sand exec box no-such-command &&
		echo hi | git sand exec -i box cat >>../out &&
		grep "^exec" "$calls" >../exec-calls &&
		cat >../expect <<-EOF
		exec --interactive --workdir /app $ctr cat one.t
		exec --interactive --workdir /app $ctr sh -c exit 3
		exec --interactive --workdir /app $ctr no-such-command
		exec --interactive --workdir /app $ctr cat
		EOF
	) &&
	test_cmp expect exec-calls &&
	printf "one\\nhi\\n" >expect &&
	test_cmp expect out
'

test_expect_success 'shell opens the given shell with stdin kept open' '
	(
		cd repo &&
		ctr=$(sandbox_field box container) &&
		: >"$calls" &&
		echo "echo from-shell" | git sand shell -s sh box >../out &&
		grep "^exec" "$calls" >../exec-calls &&
		echo "exec --interactive --workdir /app $ctr sh" >../expect
	) &&
	test_cmp expect exec-calls &&
	echo from-shell >expect &&
	test_cmp expect out
'

test_expect_success 'stop and start' '
	(
		cd repo &&
		ctr=$(sandbox_field box container) &&
		: >"$calls" &&
		git sand stop box &&
		test "$(sandbox_field box status)" = stopped &&
		git sand start box &&
		test "$(sandbox_field box status)" = running &&
		grep -v "^list\\|^inspect" "$calls" >../actual &&
		printf "stop --time 3 %s\\nstart %s\\n" "$ctr" "$ctr" >../expect
	) &&
	test_cmp expect actual
'

test_expect_success 'a container that vanished is recreated by start' '
	(
		cd repo &&
		ctr=$(sandbox_field box container) &&
		rm -f "$FAKE_CONTAINER_STATE/containers/$ctr".* &&
		test "$(sandbox_field box status)" = "missing" &&
		: >"$calls" &&
		git sand start box &&
		test "$(sandbox_field box status)" = running &&
		grep -c "^create " "$calls" >../count
	) &&
	echo 1 >expect &&
	test_cmp expect count
'

test_expect_success 'rm: delete --force, and nothing left' '
	(
		cd repo &&
		ctr=$(sandbox_field box container) &&
		: >"$calls" &&
		git sand rm -f box &&
		grep "^delete" "$calls" >../actual &&
		echo "delete --force $ctr" >../expect &&
		git sand ls --porcelain >../rows
	) &&
	test_cmp expect actual &&
	test_line_count = 0 rows &&
	ls "$FAKE_CONTAINER_STATE/containers" >left &&
	test_line_count = 0 left
'

test_expect_success 'a missing image: a clear error, nothing made' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d -i localhost/absent:1 nope 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "image .localhost/absent:1. is not available to container" err &&
	test_line_count = 0 rows
'

test_expect_success 'the system service not running: says to start it, nothing made' '
	touch "$FAKE_CONTAINER_STATE/system-stopped" &&
	test_when_finished "rm -f \"$FAKE_CONTAINER_STATE/system-stopped\"" &&
	(
		cd repo &&
		test_expect_code 128 git sand new -d down 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "container system service is not running" err &&
	test_grep "^hint: start it with .container system start." err &&
	test_line_count = 0 rows
'

test_expect_success 'a CLI that fails midway (create refused): nothing left' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --memory lots bad 2>../err &&
		git sand ls --porcelain >../rows
	) &&
	test_grep "container create failed: Error: invalid memory" err &&
	test_line_count = 0 rows
'

test_expect_success 'a sandbox made with the fake CLI works with git: fetch back' '
	(
		cd repo &&
		git sand new -d work &&
		git sand exec work sh -c "git -c user.name=a -c user.email=b commit -q --allow-empty -m inside" &&
		git sand fetch work &&
		git log -1 --format=%s sand/work/main >../actual &&
		git sand rm -f work
	) &&
	echo inside >expect &&
	test_cmp expect actual
'

test_expect_success 'new --publish: each mapping whole, as --publish; port add makes it again' '
	(
		cd repo &&
		: >"$calls" &&
		git sand new -d --network default -p 127.0.0.1:18080:80 -p 53/udp pub &&
		grep "^create" "$calls" >../create &&
		ctr=$(sandbox_field pub container) &&
		git sand port pub >../ports &&
		: >"$calls" &&
		git sand port pub add 127.0.0.1:18443:443 2>../err &&
		sed "s/ .*//" "$calls" >../verbs &&
		cat "$FAKE_CONTAINER_STATE/containers/$ctr.ports" >../recorded &&
		git sand port pub rm 53/udp 2>/dev/null &&
		cat "$FAKE_CONTAINER_STATE/containers/$ctr.ports" >../after-rm &&
		git sand rm -f pub
	) &&
	test_grep -- "--network default --publish 127\.0\.0\.1:18080:80/tcp --publish 127\.0\.0\.1:[0-9]*:53/udp --env" create &&
	test_grep "^80/tcp -> 127\.0\.0\.1:18080\$" ports &&
	test_grep "^53/udp -> 127\.0\.0\.1:[0-9]*\$" ports &&
	printf "%s\n" inspect delete create inspect start inspect >expect &&
	test_cmp expect verbs &&
	test_grep "^warning: the container of sandbox .pub. is made again" err &&
	test_grep "^127\.0\.0\.1:18080:80/tcp 127\.0\.0\.1:[0-9]*:53/udp 127\.0\.0\.1:18443:443/tcp\$" recorded &&
	test_grep "^127\.0\.0\.1:18080:80/tcp 127\.0\.0\.1:18443:443/tcp\$" after-rm
'

test_done

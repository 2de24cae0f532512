#!/bin/sh
test_description='published ports: new --publish, port, port add and rm, clashes, against real podman'
. ./test-lib.sh
test_require_podman

# fetch_page <port>: the page a server in a sandbox serves there, on 127.0.0.1
# (busybox wget -T crashes on some versions: timeout(1) instead).
fetch_page () {
	for i in 1 2 3 4 5 6 7 8 9 10
	do
		timeout 5 busybox wget -q -O - "http://127.0.0.1:$1/" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}

# serve <sandbox> <port> <text>: busybox httpd in the sandbox, serving text.
serve () {
	git sand exec "$1" sh -c "mkdir -p /tmp/www$2 && echo $3 >/tmp/www$2/index.html && httpd -p $2 -h /tmp/www$2"
}

# host_port <sandbox> <container-port>: where "git sand port" says it is.
host_port () {
	git sand port "$1" | sed -n "s|^$2/tcp -> 127\.0\.0\.1:\([0-9]*\)\$|\1|p"
}

if python3 -c "import socket" 2>/dev/null
then
	test_set_prereq PYTHON3
fi

test_expect_success 'setup: a repository whose sandboxes have a network' '
	test_create_repo repo &&
	# The tests default to no network at all: nothing is published there.
	git -C repo config sand.network bridge
'

for spec in 0 65536 80/sctp 8000-8010 ::1:8080:80 localhost:8080:80 http 0:80
do
	test_expect_success "new refuses the port '$spec', saying why, and makes nothing" '
		(cd repo && test_expect_code 128 git sand new -d -p "$spec" bad 2>../err) &&
		test_grep "^fatal: invalid port .$spec.: " err &&
		(cd repo && git sand ls --porcelain >../ls) &&
		test_line_count = 0 ls
	'
done

test_expect_success 'a range is refused as such, an unbracketed IPv6 address too' '
	(cd repo && test_must_fail git sand new -d -p 8000-8010:8000-8010 bad 2>../err) &&
	test_grep "port ranges are not supported" err &&
	(cd repo && test_must_fail git sand new -d -p ::1:8080:80 bad 2>../err) &&
	test_grep "an IPv6 address goes in brackets" err
'

test_expect_success 'no ports where the network publishes none' '
	(cd repo && test_expect_code 128 git sand new -d --network=none -p 80 bad 2>../err) &&
	test_grep "^error: cannot publish ports with network .none." err &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test_line_count = 0 ls
'

test_expect_success PODMAN 'new --publish: a server inside is reached on 127.0.0.1' '
	(
		cd repo &&
		git sand new -d -p 8080 web &&
		git sand port web >../ports &&
		serve web 8080 hello-8080 &&
		port=$(host_port web 8080) &&
		test -n "$port" &&
		fetch_page $port >../page
	) &&
	test_line_count = 1 ports &&
	test_grep "^8080/tcp -> 127\.0\.0\.1:[0-9][0-9]*\$" ports &&
	echo hello-8080 >expect &&
	test_cmp expect page
'

test_expect_success PODMAN 'the port is published on 127.0.0.1 only, as recorded' '
	(cd repo && git sand ls --porcelain >../ls && host_port web 8080 >../port) &&
	ctr=$(awk "\$1 == \"container\" { print \$2 }" ls) &&
	podman port "$ctr" >actual &&
	echo "8080/tcp -> 127.0.0.1:$(cat port)" >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'port --json' '
	(cd repo && git sand port web --json >../json && host_port web 8080 >../port) &&
	tr -d " \t\n" <json >flat &&
	echo "[{\"port\":8080,\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_port\":$(cat port),\"host\":null}]" >expect &&
	echo >>flat &&
	test_cmp expect flat
'

test_expect_success PODMAN 'show and ls -l and ls --json show the mappings' '
	(
		cd repo &&
		git sand show web >../show &&
		git sand ls -l >../ls &&
		git sand ls --json >../json &&
		host_port web 8080 >../port
	) &&
	port=$(cat port) &&
	test_grep "^ports  *8080/tcp -> 127\.0\.0\.1:$port\$" show &&
	test_grep "^NAME .* PORTS\$" ls &&
	test_grep "^web .* 8080/tcp -> 127\.0\.0\.1:$port\$" ls &&
	tr -d " \t\n" <json >flat &&
	test_grep "\"ports\":\[{\"port\":8080,\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_port\":$port}\]" flat
'

test_expect_success PODMAN 'ls without -l has no PORTS column' '
	(cd repo && git sand ls >../ls) &&
	! grep PORTS ls
'

test_expect_success PODMAN 'a host port another sandbox publishes: an error, and nothing made' '
	(
		cd repo &&
		port=$(host_port web 8080) &&
		test_expect_code 128 git sand new -d -p $port:80 other 2>../err &&
		git sand ls --porcelain >../ls
	) &&
	test_grep "^error: cannot publish .[0-9]*:80.: 127\.0\.0\.1:[0-9]*/tcp is published by sandbox .web." err &&
	! grep "^sandbox other" ls
'

test_expect_success PODMAN 'the same host port twice: an error' '
	(cd repo && test_expect_code 128 git sand new -d -p 127.0.0.1:47801:80 -p 47801:81 twice 2>../err) &&
	test_grep "47801/tcp is published twice" err
'

test_expect_success PODMAN,PYTHON3 'a host port something else holds: an error naming it' '
	python3 -c "
import socket, sys, time
s = socket.socket()
s.bind((\"127.0.0.1\", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
time.sleep(60)
" >held &
	pid=$! &&
	test_when_finished "kill $pid" &&
	for i in $(seq 1 150); do test -s held && break; sleep 0.2; done &&
	port=$(cat held) &&
	test -n "$port" &&
	(cd repo && test_expect_code 128 git sand port web add $port:81 2>../err) &&
	test_grep "^error: cannot publish: 127\.0\.0\.1:$port/tcp is already in use on this machine" err &&
	(cd repo && git sand port web >../ports) &&
	test_line_count = 1 ports
'

test_expect_success PODMAN 'port add on a running sandbox: made again, the new port reached' '
	(
		cd repo &&
		git sand port web add 8081 2>../err >../ports &&
		test "$(sandbox_field web status)" = running &&
		serve web 8081 hello-8081 &&
		fetch_page $(host_port web 8081) >../page
	) &&
	test_grep "^warning: the container of sandbox .web. is made again to change its ports" err &&
	test_line_count = 2 ports &&
	test_grep "^8081/tcp -> 127\.0\.0\.1:" ports &&
	echo hello-8081 >expect &&
	test_cmp expect page
'

test_expect_success PODMAN 'the workspace is kept when the container is made again' '
	(
		cd repo &&
		git sand exec web sh -c "echo kept >kept.txt" &&
		git sand port web add 8082/udp 2>/dev/null >/dev/null &&
		git sand exec web cat kept.txt >../kept
	) &&
	echo kept >expect &&
	test_cmp expect kept
'

test_expect_success PODMAN 'port rm: the mapping goes, and the port is no longer reached' '
	(
		cd repo &&
		old=$(host_port web 8081) &&
		git sand port web rm 8081 2>../err >../ports &&
		serve web 8081 again &&
		! timeout 5 busybox wget -q -O - "http://127.0.0.1:$old/" 2>/dev/null &&
		git sand port web rm 8082/udp 2>/dev/null >/dev/null &&
		git sand port web >../ports
	) &&
	test_line_count = 1 ports &&
	test_grep "^8080/tcp" ports
'

test_expect_success PODMAN 'port rm of a port it does not publish: an error' '
	(cd repo && test_expect_code 128 git sand port web rm 9999 2>../err) &&
	test_grep "^error: sandbox .web. publishes no port that matches .9999." err
'

test_expect_success PODMAN 'forward: a sandbox here needs none, and says where its port is' '
	(cd repo && test_expect_code 128 git sand forward web 8080 2>../err && host_port web 8080 >../port) &&
	test_grep "^error: sandbox .web. is on this machine: its port 8080/tcp is reached at 127\.0\.0\.1:$(cat port)\$" err &&
	test_grep "^fatal: cannot forward port .8080. of sandbox .web." err
'

test_expect_success PODMAN 'forward: a port not published, a UDP port, a bad spec' '
	(
		cd repo &&
		test_expect_code 128 git sand forward web 9999 2>../err-none &&
		test_expect_code 128 git sand forward web 8080/udp 2>../err-udp &&
		test_expect_code 128 git sand forward web 80-90 2>../err-bad &&
		test_expect_code 129 git sand forward web 2>../err-usage
	) &&
	test_grep "^error: sandbox .web. publishes no port 9999/tcp" err-none &&
	test_grep "^hint: publish it with .git sand port web add 9999." err-none &&
	test_grep "^fatal: cannot forward .8080/udp.: SSH forwards TCP ports only" err-udp &&
	test_grep "^fatal: invalid port .80-90.: " err-bad &&
	test_grep "^usage: git sand forward" err-usage
'

test_expect_success PODMAN 'a stopped sandbox keeps its ports when started again' '
	(
		cd repo &&
		port=$(host_port web 8080) &&
		git sand stop web &&
		git sand start web &&
		serve web 8080 back &&
		fetch_page $port >../page
	) &&
	echo back >expect &&
	test_cmp expect page
'

test_expect_success PODMAN 'sand.publish and profiles' '
	(
		cd repo &&
		git -c sand.publish=9000 -c sand.publish=9001/udp sand new -d cfg &&
		git sand port cfg >../cfg &&
		git config sand.profile.webdev.publish 3000 &&
		git sand new -d --profile webdev prof &&
		git sand port prof >../prof &&
		git sand rm -f cfg prof
	) &&
	test_line_count = 2 cfg &&
	test_grep "^9000/tcp -> 127\.0\.0\.1:" cfg &&
	test_grep "^9001/udp -> 127\.0\.0\.1:" cfg &&
	test_line_count = 1 prof &&
	test_grep "^3000/tcp -> 127\.0\.0\.1:" prof
'

test_expect_success 'port: usage' '
	(
		cd repo &&
		test_expect_code 129 git sand port 2>../err1 &&
		test_expect_code 129 git sand port web bogus 80 2>../err2 &&
		test_expect_code 129 git sand port web add 2>../err3
	) &&
	test_grep "^usage: git sand port <name>" err1 &&
	test_grep "^error: unknown subcommand: .bogus." err2 &&
	test_grep "^usage: " err3
'

test_expect_success PODMAN 'port add refuses a bad spec, and changes nothing' '
	(
		cd repo &&
		test_expect_code 128 git sand port web add 80/sctp 2>../err &&
		git sand port web >../ports
	) &&
	test_grep "^error: invalid port .80/sctp.: unknown protocol" err &&
	test_line_count = 1 ports
'

test_expect_success PODMAN 'rm removes the sandbox: its ports are free for another' '
	(
		cd repo &&
		port=$(host_port web 8080) &&
		git sand rm -f web &&
		git sand new -d -p $port:8080 web2 &&
		serve web2 8080 second &&
		fetch_page $port >../page &&
		git sand rm -f web2
	) &&
	echo second >expect &&
	test_cmp expect page
'

test_done

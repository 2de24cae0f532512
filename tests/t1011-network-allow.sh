#!/bin/sh
test_description='network allow-lists: only the allowed name answers, whatever the sandbox tries'
. ./test-lib.sh
test_require_podman

# Every destination is a server this script starts on the host's 127.0.0.1
# or ::1, given names by the filter's test hook (GIT_SAND_NET_HOSTS, a file
# in /etc/hosts form read before the host's resolver): nothing here is
# sent anywhere else. The container has no route but its loopback.

# Rootless podman's containers have a network no process outside their
# user namespace can enter: there, an allow-list is refused, saying why.
if test "$TEST_RUNTIME" = podman && test "$(id -u)" != 0
then
	test_expect_success 'rootless podman: an allow-list is refused, saying why' '
		test_create_repo repo &&
		(cd repo && test_expect_code 128 git sand new -d --network allow \
			--allow example.com bad 2>../err) &&
		test_grep "^error: network .allow. cannot be enforced with rootless podman" err &&
		test_grep "^hint: " err
	'
	test_done
fi

if command -v python3 >/dev/null 2>&1 && python3 -c "import http.server" 2>/dev/null
then
	test_set_prereq PYTHON3
else
	say "1..0 # SKIP python3 is needed for the servers"
	test_exit_ 0
fi

cat >serve.py <<\EOF
import http.server, os, socket, sys
name, portfile, fam, addr = sys.argv[1:5]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (name + " " + self.headers.get("Host", "-") + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if fam == "6" else socket.AF_INET
srv = S((addr, 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF

server_pids=
# start_server <text> <name of its port file> <4|6> <address>
start_server () {
	python3 serve.py "$1" "$2" "$3" "$4" </dev/null >/dev/null 2>&1 &
	server_pids="$server_pids $!"
	for i in $(seq 300)
	do
		test -s "$2" && return 0
		sleep 0.1
	done
	return 1
}
test_at_exit_servers () {
	for p in $server_pids
	do
		kill "$p" 2>/dev/null
	done
}
trap 'test_at_exit_servers; test_at_exit_' EXIT

# fetch <sandbox> <url> [<wget options>]: what the sandbox gets through its proxy.
fetch () {
	sb=$1 url=$2
	shift 2
	git sand exec "$sb" timeout 10 wget -q -O - "$@" "$url"
}

# raw <sandbox> <request>: the proxy's answer to a request typed by hand.
raw () {
	git sand exec "$1" sh -c "printf '$2' | timeout 10 nc 127.0.0.1 3128"
}

# running <pid>: the process runs (a zombie that PID 1 has not reaped yet does not).
running () {
	test -r "/proc/$1/stat" && ! sed "s/.*) //" "/proc/$1/stat" | grep -q "^[ZX]"
}

# proxy_pid <sandbox>: the filter's pid, if it runs.
proxy_pid () {
	git sand net "$1" --json | sed -n 's/.*"running":true,"pid":\([0-9]*\).*/\1/p'
}

test_expect_success 'setup: servers on the host, and names for them' '
	start_server allowed allowed.port 4 127.0.0.1 &&
	start_server refused refused.port 4 127.0.0.1 &&
	start_server allowed6 allowed6.port 6 ::1 &&
	start_server refused6 refused6.port 6 ::1 &&
	A=$(cat allowed.port) R=$(cat refused.port) &&
	A6=$(cat allowed6.port) R6=$(cat refused6.port) &&
	cat >hosts <<-EOF &&
	127.0.0.1 allowed.test refused.test
	::1 allowed6.test refused6.test
	EOF
	GIT_SAND_NET_HOSTS=$PWD/hosts &&
	export GIT_SAND_NET_HOSTS &&
	test_create_repo repo
'
A=$(cat allowed.port) R=$(cat refused.port)
A6=$(cat allowed6.port) R6=$(cat refused6.port)
GIT_SAND_NET_HOSTS=$PWD/hosts
export GIT_SAND_NET_HOSTS

test_expect_success 'an allow-list where it cannot be enforced is refused' '
	(cd repo && test_expect_code 128 git sand new -d --network allow \
		--allow "1.2.3.4" bad 2>../err) &&
	test_grep "^error: invalid rule .1.2.3.4.: an IP address" err &&
	(cd repo && test_expect_code 128 git sand new -d --network allow \
		--allow "@nosuch" bad 2>../err) &&
	test_grep "no set is named .nosuch." err &&
	(cd repo && test_expect_code 128 git sand new -d --network allow \
		--host ssh://nobody@127.0.0.1:1 bad 2>../err) &&
	test_grep "^error: network .allow. cannot be enforced on another host" err &&
	test_grep "^hint: " err &&
	(cd repo && test_expect_code 128 git sand new -d --network allow -p 80 bad 2>../err) &&
	test_grep "cannot publish ports with network .allow." err &&
	(cd repo && git sand ls --porcelain >../ls) &&
	test_line_count = 0 ls
'

test_expect_success 'new --network allow: the container has only its loopback' '
	(cd repo && git sand new -d --network allow --allow "allowed.test:$A" \
		--allow "allowed6.test:$A6" box >../out) &&
	(cd repo && git sand exec box ip -o link >../links) &&
	cut -d: -f2 links | tr -d " " >names &&
	echo lo >expect &&
	test_cmp expect names &&
	(cd repo && git sand exec box ip route >../routes) &&
	test_line_count = 0 routes &&
	(cd repo && git sand exec box env >../env) &&
	test_grep "^HTTP_PROXY=http://127.0.0.1:3128\$" env &&
	test_grep "^https_proxy=http://127.0.0.1:3128\$" env &&
	test -n "$(cd repo && proxy_pid box)"
'

test_expect_success 'the allowed name answers, by plain HTTP and through CONNECT' '
	(cd repo && fetch box "http://allowed.test:$A/") >out &&
	echo "allowed allowed.test:$A" >expect &&
	test_cmp expect out &&
	(cd repo && raw box "CONNECT allowed.test:$A HTTP/1.1\r\nHost: allowed.test:$A\r\n\r\nGET / HTTP/1.0\r\nHost: allowed.test:$A\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 200 Connection established" out &&
	test_grep "^allowed allowed.test:$A" out
'

test_expect_success 'the refused server by name: a 403 that names git-sand and the rule to add' '
	(cd repo && test_must_fail fetch box "http://refused.test:$R/" -S 2>../err) &&
	(cd repo && raw box "GET http://refused.test:$R/ HTTP/1.1\r\nHost: refused.test:$R\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403 Forbidden" out &&
	test_grep "git-sand: the network filter of sandbox .box. refused refused.test:$R: not in the rules" out &&
	test_grep "git sand net box allow refused.test" out &&
	! grep "^refused" out
'

test_expect_success 'by IP literal, by another port, through CONNECT: refused' '
	(cd repo && raw box "GET http://127.0.0.1:$A/ HTTP/1.1\r\nHost: 127.0.0.1:$A\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out && test_grep "an IP address" out &&
	(cd repo && raw box "GET http://2130706433:$A/ HTTP/1.1\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out &&
	(cd repo && raw box "GET http://allowed.test:$R/ HTTP/1.1\r\nHost: allowed.test:$R\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out && test_grep "port $R is not allowed" out &&
	(cd repo && raw box "CONNECT refused.test:$R HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out &&
	(cd repo && raw box "CONNECT 127.0.0.1:$R HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out &&
	! grep "^refused" out
'

test_expect_success 'a forged Host header is refused' '
	(cd repo && raw box "GET http://allowed.test:$A/ HTTP/1.1\r\nHost: refused.test:$R\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out &&
	test_grep "its Host header names another server" out &&
	(cd repo && raw box "GET http://allowed.test:$A/ HTTP/1.1\r\nHost: allowed.test:$A\r\nHost: refused.test:$R\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out &&
	! grep "^refused" out
'

test_expect_success 'over IPv6: the allowed name answers, the refused one and [::1] do not' '
	(cd repo && fetch box "http://allowed6.test:$A6/") >out &&
	echo "allowed6 allowed6.test:$A6" >expect &&
	test_cmp expect out &&
	(cd repo && raw box "GET http://refused6.test:$R6/ HTTP/1.1\r\nHost: refused6.test:$R6\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out &&
	(cd repo && raw box "CONNECT [::1]:$R6 HTTP/1.1\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 403" out && test_grep "an IP address" out &&
	(cd repo && test_must_fail git sand exec box sh -c \
		"printf \"GET / HTTP/1.0\r\n\r\n\" | timeout 5 nc ::1 $R6" >../out) &&
	! grep "^refused" out
'

test_expect_success 'what is not a proxy request is refused, and the filter lives on' '
	(cd repo && raw box "GET / HTTP/1.1\r\nHost: allowed.test:$A\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 400" out &&
	(cd repo && raw box "GET https://allowed.test:$A/ HTTP/1.1\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 400" out && test_grep "use CONNECT" out &&
	(cd repo && raw box "GET http://allowed.test:$A/ HTTP/1.1\r\nX: \\000\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 400" out &&
	(cd repo && git sand exec box sh -c \
		"{ printf \"GET http://allowed.test:$A/ HTTP/1.1\r\n\"; yes xxxxxxxxxxxxxxx | head -c 20000; } | timeout 10 nc 127.0.0.1 3128") >out &&
	test_grep "^HTTP/1.1 431" out &&
	(cd repo && fetch box "http://allowed.test:$A/") >out &&
	test_grep "^allowed" out
'

test_expect_success 'the proxy variables removed, nothing is reachable directly' '
	(cd repo && test_must_fail git sand exec box env -u http_proxy -u HTTP_PROXY \
		timeout 10 wget -q -O - "http://allowed.test:$A/" >../out) &&
	(cd repo && test_must_fail git sand exec box env -u http_proxy -u HTTP_PROXY \
		timeout 10 wget -q -O - "http://127.0.0.1:$R/" >../out) &&
	! grep "^refused" out &&
	! grep "^allowed" out
'

test_expect_success 'raw DNS answers nothing (the container has no route to send it on)' '
	(cd repo && git sand exec box ip route >../routes) &&
	test_line_count = 0 routes &&
	(cd repo && test_must_fail git sand exec box timeout 10 nslookup allowed.test >../out 2>&1) &&
	(cd repo && test_must_fail git sand exec box timeout 10 nslookup refused.test 127.0.0.1 >../out 2>&1) &&
	! grep "^Address.*127.0.0.1" out
'

test_expect_success 'git sand net shows the rules and the decisions' '
	(cd repo && git sand net box) >out &&
	test_grep "^network    allow (filter running, pid [0-9]*)" out &&
	test_grep "allow allowed.test:$A\$" out &&
	test_grep "allowed  allowed.test:$A  allowed by .allowed.test:$A." out &&
	test_grep "refused  refused.test:$R  not in the rules" out &&
	test_grep "refused  allowed.test:$R  port $R is not allowed" out &&
	(cd repo && git sand net --json box) >json &&
	python3 -c "import json,sys; d=json.load(open(\"json\")); assert d[\"network\"] == \"allow\"; assert any(x[\"decision\"] == \"refused\" and x[\"host\"] == \"refused.test\" for x in d[\"decisions\"])"
'

test_expect_success 'net allow opens a name on the running sandbox, net deny closes it' '
	pid=$(cd repo && proxy_pid box) &&
	(cd repo && git sand net box allow "refused.test:$R") &&
	(cd repo && fetch box "http://refused.test:$R/") >out &&
	echo "refused refused.test:$R" >expect &&
	test_cmp expect out &&
	(cd repo && git sand net box deny "refused.test:$R") &&
	(cd repo && test_must_fail fetch box "http://refused.test:$R/") &&
	(cd repo && git sand net box deny "allowed.test:$A") &&
	(cd repo && test_must_fail fetch box "http://allowed.test:$A/") &&
	(cd repo && git sand net box allow "allowed.test:$A") &&
	(cd repo && fetch box "http://allowed.test:$A/") &&
	test "$(cd repo && proxy_pid box)" = "$pid" &&
	(cd repo && test_expect_code 128 git sand net box allow 10.0.0.1 2>../err) &&
	test_grep "an IP address" err
'

# localhost is in /etc/hosts: resolving it asks no DNS server.
test_expect_success 'an allowed name that resolves to the host loopback reaches nothing' '
	grep -q "^127\.0\.0\.1[	 ].*localhost" /etc/hosts &&
	(cd repo && git sand net box allow "localhost:$A") &&
	(cd repo && raw box "GET http://localhost:$A/ HTTP/1.1\r\nHost: localhost:$A\r\n\r\n") >out &&
	test_grep "^HTTP/1.1 502" out &&
	! grep "^allowed" out &&
	(cd repo && git sand net box) >out &&
	test_grep "refused  localhost:$A  no address it may reach answers" out &&
	(cd repo && git sand net box deny "localhost:$A")
'

test_expect_success 'a set denied outright stays denied, a wildcard matches subdomains only' '
	(cd repo && git sand net box allow "*.test:$A") &&
	(cd repo && git sand net box deny "allowed.test:$A") &&
	(cd repo && git sand net box) >out &&
	test_grep "deny  allowed.test:$A" out &&
	(cd repo && test_must_fail fetch box "http://allowed.test:$A/") &&
	(cd repo && git sand net box allow "allowed.test:$A") &&
	(cd repo && fetch box "http://allowed.test:$A/")
'

test_expect_success 'stop ends the filter, start brings it back' '
	pid=$(cd repo && proxy_pid box) &&
	test -n "$pid" &&
	(cd repo && git sand stop box) &&
	! running "$pid" &&
	(cd repo && git sand net box) >out &&
	test_grep "filter not running" out &&
	(cd repo && git sand start box) &&
	new=$(cd repo && proxy_pid box) &&
	test -n "$new" && test "$new" != "$pid" &&
	(cd repo && fetch box "http://allowed.test:$A/") >out &&
	test_grep "^allowed" out
'

test_expect_success 'the filter ends with its container; gc reaps one that could not' '
	pid=$(cd repo && proxy_pid box) &&
	"$TEST_RUNTIME" stop -t 1 "$(cd repo && sandbox_field box container)" >/dev/null &&
	for i in $(seq 30); do running "$pid" || break; sleep 0.2; done &&
	! running "$pid" &&
	(cd repo && git sand start box) &&
	pid=$(cd repo && proxy_pid box) &&
	kill -STOP "$pid" &&
	"$TEST_RUNTIME" stop -t 1 "$(cd repo && sandbox_field box container)" >/dev/null &&
	(cd repo && git sand gc) >out &&
	test_grep "network filter $pid" out &&
	for i in $(seq 30); do running "$pid" || break; sleep 0.2; done &&
	! running "$pid"
'

test_expect_success 'rm leaves no filter' '
	(cd repo && git sand start box) &&
	pid=$(cd repo && proxy_pid box) &&
	test -n "$pid" &&
	(cd repo && git sand rm -f box) &&
	! running "$pid"
'

test_expect_success 'an agent brings its set; --allow alone asks for an allow-list' '
	(cd repo && git sand new -d --allow "allowed.test:$A" -a claude agentbox) &&
	(cd repo && git sand net agentbox) >out &&
	test_grep "allow @claude" out &&
	test_grep "allow allowed.test:$A" out &&
	(cd repo && git sand show agentbox) >out &&
	test_grep "^network *allow" out &&
	test_grep "^rules *allowed.test:$A, @claude" out &&
	(cd repo && git sand rm -f agentbox)
'

test_expect_success 'a sandbox without an allow-list says so' '
	(cd repo && git sand new -d plain) &&
	(cd repo && git sand net plain) >out &&
	test_grep "^network    none" out &&
	(cd repo && test_expect_code 128 git sand net plain allow example.com 2>../err) &&
	test_grep "has no allow-list" err &&
	(cd repo && git sand rm -f plain)
'

test_expect_success 'nothing is left running' '
	! pgrep -f "git-sand net-proxy $GIT_SAND_HOME" >/dev/null
'

test_done

# An OpenSSH server for the tests of the SSH transport: started by the
# test script on 127.0.0.1 on a free port, as its own process with its own
# config, host key and authorized key (all under the trash directory), and
# stopped by test_done. The "remote" machine is this one, reached only
# through it.
#
# start_sshd sets SSHD_PORT and SSHD_URL (ssh://root@127.0.0.1:PORT), and
# gives the test's HOME a key (~/.ssh/id_ed25519) the server accepts; the
# server's host keys (ed25519 and ecdsa) are in $SSHD_DIR/host_key.pub and
# host_key_ecdsa.pub, and not yet known to the client (sshd_trust_host_key
# adds the ed25519 one to ~/.ssh/known_hosts).
#
# Where CI is set, a missing sshd fails the script instead of skipping it.

# lsan.supp names a function of libgit2's SSH transport
# (git_remote_connect_ext) that the frame-pointer unwinder may not reach
# through libgit2's own frames; the slower unwinder always does. Only
# here, where libgit2 connects over SSH: it costs time.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export ASAN_OPTIONS

SSHD_DIR="$TRASH_DIRECTORY/sshd"

test_require_sshd () {
	if test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null 2>&1
	then
		test_set_prereq SSHD
		return 0
	fi
	if test -n "${CI:-}"
	then
		say "Bail out! sshd (openssh-server) is not installed, and CI is set"
		test_exit_ 1
	fi
	say "1..0 # SKIP sshd (openssh-server) is not installed"
	test_exit_ 0
}

start_sshd () {
	mkdir -p "$SSHD_DIR" "$HOME/.ssh" &&
	chmod 700 "$HOME/.ssh" &&
	ssh-keygen -q -t ed25519 -N "" -C test-host -f "$SSHD_DIR/host_key" &&
	ssh-keygen -q -t ecdsa -N "" -C test-host -f "$SSHD_DIR/host_key_ecdsa" &&
	ssh-keygen -q -t ed25519 -N "" -C test-user -f "$HOME/.ssh/id_ed25519" &&
	# The podman configuration of the tests reaches the remote commands.
	# $SSHD_DIR/bin comes first in PATH there: tests put tools in it.
	mkdir -p "$SSHD_DIR/bin" &&
	printf "environment=\"CONTAINERS_CONF=%s\",environment=\"PATH=%s\" %s\n" \
		"$CONTAINERS_CONF" "$SSHD_DIR/bin:$PATH" "$(cat "$HOME/.ssh/id_ed25519.pub")" \
		>"$SSHD_DIR/authorized_keys" &&
	cat >"$SSHD_DIR/sshd_config" <<-CONF &&
	ListenAddress 127.0.0.1
	HostKey $SSHD_DIR/host_key
	HostKey $SSHD_DIR/host_key_ecdsa
	AuthorizedKeysFile $SSHD_DIR/authorized_keys
	PidFile $SSHD_DIR/sshd.pid
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	PermitRootLogin prohibit-password
	PermitUserEnvironment CONTAINERS_CONF,PATH
	AllowUsers $(id -un)
	LogLevel ERROR
	CONF
	mkdir -p /run/sshd 2>/dev/null
	# A free port: try some until one is ours.
	run_sshd_
}

# Start it again (after stop_sshd) on the same port, or on a free one.
run_sshd_ () {
	for try in 1 2 3 4 5 6 7 8 9 10
	do
		test -n "${1:-}" || SSHD_PORT=$(( 20000 + ($$ * 7 + try * 997) % 30000 ))
		rm -f "$SSHD_DIR/sshd.pid"
		"${SSHD_PROGRAM:-/usr/sbin/sshd}" -D -e -f "$SSHD_DIR/sshd_config" -p "$SSHD_PORT" \
			>/dev/null 2>"$SSHD_DIR/log" &
		SSHD_PID=$!
		# At most 30 s; sshd ends at once where the port is taken.
		for wait in $(seq 1 300)
		do
			test -s "$SSHD_DIR/sshd.pid" && break
			kill -0 $SSHD_PID 2>/dev/null || break
			sleep 0.1
		done
		if test -s "$SSHD_DIR/sshd.pid" && kill -0 $SSHD_PID 2>/dev/null
		then
			SSHD_URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT"
			export SSHD_PORT SSHD_URL SSHD_PID
			# Also when the script stops early: see test_at_exit_.
			return 0
		fi
		kill $SSHD_PID 2>/dev/null
		wait $SSHD_PID 2>/dev/null
	done
	cat "$SSHD_DIR/log" >&4
	return 1
}

restart_sshd () {
	run_sshd_ same-port
}

stop_sshd () {
	test -n "${SSHD_PID:-}" || return 0
	kill $SSHD_PID 2>/dev/null
	wait $SSHD_PID 2>/dev/null
	SSHD_PID=
}

# Add the server's host key to the client's known_hosts, as ssh would.
sshd_trust_host_key () {
	printf "[127.0.0.1]:%s %s\n" "$SSHD_PORT" "$(cut -d" " -f1,2 "$SSHD_DIR/host_key.pub")" \
		>>"$HOME/.ssh/known_hosts"
}

#!/bin/sh
test_description='ssh-config, ssh-proxy and code: the real OpenSSH client into real sandboxes'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-sshd.sh"
test_require_podman

# An image with sshd and sftp-server in it (the tests' image, built again
# with them where this machine has OpenSSH's server).
SSH_IMAGE=localhost/sshd-git-sand-test:latest
if command -v ssh >/dev/null && test -x /usr/sbin/sshd &&
	(flock 9 && { podman image exists "$SSH_IMAGE" ||
		"$TEST_DIRECTORY/image/build.sh" podman "$SSH_IMAGE"; }) \
		9>"$TEST_DIRECTORY/.image-sshd.lock" >&4 2>&4
then
	test_set_prereq SSHD
fi
test -x /usr/lib/openssh/sftp-server && command -v sftp >/dev/null && test_set_prereq SFTP

test_expect_success SSHD 'setup: a sandbox from an image with sshd' '
	test_create_repo repo &&
	git -C repo config sand.image "$SSH_IMAGE" &&
	(cd repo && git sand new -d box) &&
	(cd repo && git sand ssh-config >../config) &&
	test_grep "^Host box\.repo\.sand\$" config &&
	test_grep "StrictHostKeyChecking yes" config &&
	test_grep "ForwardAgent no" config
'

test_expect_success SSHD 'the keys are the sandbox'"'"'s, private ones 0600' '
	id=$(cd repo && sandbox_field box id) &&
	test -n "$id" &&
	dir="$GIT_SAND_HOME/sandboxes/$id" &&
	test_path_is_file "$dir/ssh/id_ed25519" &&
	test_path_is_file "$dir/ssh/ssh_host_ed25519_key" &&
	test "$(stat -c %a "$dir/ssh/id_ed25519")" = 600 &&
	test "$(stat -c %a "$dir/ssh/ssh_host_ed25519_key")" = 600 &&
	test_grep "^box\.repo\.sand ssh-ed25519 " "$dir/ssh/known_hosts"
'

test_expect_success SSHD 'ssh -F: a command runs in /app, asking nothing' '
	ssh -F config -o BatchMode=yes box.repo.sand pwd </dev/null >out 2>err &&
	echo /app >expect &&
	test_cmp expect out
'

test_expect_success SSHD 'connections made at once each get a whole sshd' '
	for i in 1 2 3 4
	do
		ssh -F config -o BatchMode=yes box.repo.sand pwd </dev/null >out$i 2>&1 &
	done &&
	wait &&
	echo /app >expect &&
	for i in 1 2 3 4
	do
		test_cmp expect out$i || return 1
	done
'

test_expect_success SSHD 'the user key never enters the sandbox' '
	(cd repo && git sand exec box sh -c "grep -rl PRIVATE /home/sand/.git-sand || :") >found &&
	test_grep "ssh_host_ed25519_key" found &&
	! grep -q "id_ed25519\$" found
'

test_expect_success SSHD 'scp copies a file in and out' '
	echo payload >file &&
	scp -F config -o BatchMode=yes file box.repo.sand:/app/copied </dev/null &&
	(cd repo && git sand exec box cat /app/copied) >in &&
	test_cmp file in &&
	scp -F config -o BatchMode=yes box.repo.sand:/app/copied back </dev/null &&
	test_cmp file back
'

test_expect_success SSHD,SFTP 'sftp starts in /app' '
	printf "pwd\nget copied via-sftp\n" >batch &&
	sftp -F config -o BatchMode=yes -b batch box.repo.sand >out &&
	test_grep "Remote working directory: /app" out &&
	test_cmp file via-sftp
'

test_expect_success SSHD 'ssh -L reaches a server listening on 127.0.0.1 inside' '
	(cd repo && git sand exec box sh -c \
		"mkdir -p /tmp/www && echo inside >/tmp/www/index.html && httpd -p 127.0.0.1:8088 -h /tmp/www") &&
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	{ ssh -F config -o BatchMode=yes -o ExitOnForwardFailure=yes -N \
		-L 127.0.0.1:$port:127.0.0.1:8088 box.repo.sand </dev/null & } &&
	pid=$! &&
	test_when_finished "kill $pid || :" &&
	# Until ssh listens: the proxy command, sshd there and the key
	# exchange first (at most 60 s, less if ssh gave up).
	for i in $(seq 1 120)
	do
		timeout 5 busybox wget -q -O page "http://127.0.0.1:$port/" 2>/dev/null && break
		kill -0 $pid || break
		sleep 0.5
	done &&
	echo inside >expect &&
	test_cmp expect page
'

test_expect_success SSHD '--install adds one Include line at the top, once; --uninstall removes it' '
	mkdir -p "$HOME/.ssh" &&
	printf "Host other\n\tUser someone\n" >"$HOME/.ssh/config" &&
	(cd repo && git sand ssh-config --install) &&
	(cd repo && git sand ssh-config --install) &&
	grep -c "^Include " "$HOME/.ssh/config" >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	sed -n 2p "$HOME/.ssh/config" >line &&
	test_grep "^Include \"$GIT_SAND_HOME/ssh_config\"\$" line &&
	test_grep "^Host box\.repo\.sand\$" "$GIT_SAND_HOME/ssh_config" &&
	test "$(stat -c %a "$GIT_SAND_HOME/ssh_config")" = 600 &&
	# ssh finds ~ in the password file, not in HOME: -F names it.
	ssh -F "$HOME/.ssh/config" -o BatchMode=yes box.repo.sand pwd </dev/null >out &&
	echo /app >expect &&
	test_cmp expect out &&
	(cd repo && git sand ssh-config --uninstall) &&
	printf "Host other\n\tUser someone\n" >expect &&
	test_cmp expect "$HOME/.ssh/config"
'

test_expect_success SSHD '--install makes ~/.ssh/config 0600 where there is none' '
	rm -rf "$HOME/.ssh" &&
	(cd repo && git sand ssh-config --install) &&
	test "$(stat -c %a "$HOME/.ssh/config")" = 600 &&
	(cd repo && git sand ssh-config --uninstall)
'

test_expect_success SSHD 'code --print names the host' '
	(cd repo && git sand code --print box) >out &&
	echo "code --remote ssh-remote+box.repo.sand /app" >expect &&
	test_cmp expect out
'

test_expect_success SSHD 'the keys go with the sandbox' '
	id=$(cd repo && sandbox_field box id) &&
	dir="$GIT_SAND_HOME/sandboxes/$id" &&
	test_path_is_dir "$dir/ssh" &&
	(cd repo && git sand rm -f box) &&
	test_path_is_missing "$dir/ssh"
'

test_expect_success SSHD 'a devcontainer.json'"'"'s remoteUser is who ssh logs in as' '
	test_lock_dc_images &&
	test_when_finished test_unlock_dc_images &&
	test_create_repo dcrepo &&
	mkdir dcrepo/.devcontainer &&
	printf "FROM %s\nRUN echo dev:x:1234:1234::/home/dev:/bin/sh >>/etc/passwd && echo dev:x:1234: >>/etc/group\n" \
		"$SSH_IMAGE" >dcrepo/.devcontainer/Dockerfile &&
	cat >dcrepo/.devcontainer/devcontainer.json <<-\EOF &&
	{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev" }
	EOF
	(cd dcrepo && git sand new -d usr && git sand ssh-config usr >../dc-config) &&
	image=$(cd dcrepo && sandbox_field usr image) &&
	test_when_finished "podman rmi -f $image >/dev/null 2>&1" &&
	test_grep "^	User dev\$" dc-config &&
	ssh -F dc-config -o BatchMode=yes usr.dcrepo.sand "id -un; pwd; echo \$HOME; touch made; stat -c %U made" \
		</dev/null >out &&
	printf "dev\n/app\n/home/sand\ndev\n" >expect &&
	test_cmp expect out &&
	(cd dcrepo && git sand rm -f usr)
'

test_expect_success SSHD 'a sandbox on an SSH host is reached the same way' '
	start_sshd &&
	(cd repo && git sand new -d --accept-new-host-key --host "$SSHD_URL" far) &&
	(cd repo && git sand ssh-config far >../far-config) &&
	test_grep "^Host far\.repo\.sand\$" far-config &&
	ssh -F far-config -o BatchMode=yes far.repo.sand "pwd; echo from-far >marker" </dev/null >out &&
	echo /app >expect &&
	test_cmp expect out &&
	(cd repo && git sand exec far cat /app/marker) >marker &&
	echo from-far >expect &&
	test_cmp expect marker &&
	(cd repo && git sand rm -f far)
'

test_done

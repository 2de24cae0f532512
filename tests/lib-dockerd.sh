# A dockerd of the tests' own, for running the test scripts against docker
# (GIT_SAND_TEST_RUNTIME=docker): started as root with what this kind of
# machine needs (no iptables, no bridge: the tests' sandboxes use
# --network none; the vfs storage driver, which works on any filesystem),
# its state in a directory of its own, and its socket in DOCKER_HOST.

# start_dockerd <dir>: start it with its state under <dir>; wait until it
# answers. Sets and exports DOCKER_HOST. 0, or 1 with its log on stderr.
start_dockerd () {
	dockerd_dir=$1
	mkdir -p "$dockerd_dir" || return 1
	dockerd --iptables=false --ip6tables=false --bridge=none \
		--storage-driver="${GIT_SAND_TEST_DOCKER_STORAGE:-vfs}" \
		--data-root "$dockerd_dir/data" --exec-root "$dockerd_dir/exec" \
		--host "unix://$dockerd_dir/docker.sock" --pidfile "$dockerd_dir/docker.pid" \
		>"$dockerd_dir/log" 2>&1 &
	dockerd_pid=$!
	DOCKER_HOST=unix://$dockerd_dir/docker.sock
	export DOCKER_HOST
	i=0
	while ! docker info >/dev/null 2>&1
	do
		if test $i -ge 300 || ! kill -0 $dockerd_pid 2>/dev/null
		then
			echo >&2 "dockerd did not start; its log:"
			cat >&2 "$dockerd_dir/log"
			stop_dockerd
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# stop_dockerd: stop the one start_dockerd started, its containers with
# it, and remove its state.
stop_dockerd () {
	test -n "${dockerd_pid:-}" || return 0
	kill -TERM "$dockerd_pid" 2>/dev/null
	i=0
	while kill -0 "$dockerd_pid" 2>/dev/null && test $i -lt 200
	do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$dockerd_pid" 2>/dev/null
	dockerd_pid=
	# vfs leaves plain directories; a mount left behind must not be followed.
	grep -q " $dockerd_dir/" /proc/mounts 2>/dev/null &&
		grep " $dockerd_dir/" /proc/mounts | awk '{ print $2 }' | sort -r |
		while read -r m; do umount "$m" 2>/dev/null; done
	rm -rf "$dockerd_dir"
}

#!/bin/sh
test_description='images: pulled by policy from a registry, hints for a missing one'
. ./test-lib.sh
test_require_podman

# A registry of our own on 127.0.0.1 (Debian's docker-registry): nothing
# here talks to any other address.
if command -v docker-registry >/dev/null 2>&1 && command -v curl >/dev/null 2>&1
then
	test_set_prereq REGISTRY
elif test -n "${CI:-}"
then
	say "Bail out! docker-registry (or curl) is not installed, and CI is set"
	test_exit_ 1
fi

# start_registry: on a free port of 127.0.0.1; sets REG to its address,
# and points podman at a registries.conf of ours that lets it talk plain
# HTTP to it (never the machine's own configuration).
start_registry () {
	mkdir -p registry &&
	for try in 0 1 2 3 4 5 6 7
	do
		port=$(( 20000 + ($$ * 7 + try * 131) % 30000 ))
		cat >registry/config.yml <<-EOF &&
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $TRASH_DIRECTORY/registry/data
		http:
		  addr: 127.0.0.1:$port
		EOF
		docker-registry serve registry/config.yml >registry/log 2>&1 &
		echo $! >registry/pid
		i=0
		while test $i -lt 50 && kill -0 "$(cat registry/pid)" 2>/dev/null
		do
			if curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1
			then
				REG=127.0.0.1:$port
				cat >registries.conf <<-EOF
				[[registry]]
				location = "$REG"
				insecure = true
				EOF
				CONTAINERS_REGISTRIES_CONF=$TRASH_DIRECTORY/registries.conf
				export CONTAINERS_REGISTRIES_CONF REG
				return 0
			fi
			sleep 0.2
			i=$((i + 1))
		done
		kill "$(cat registry/pid)" 2>/dev/null
	done
	cat registry/log >&4
	return 1
}

stop_registry () {
	test -f registry/pid && kill "$(cat registry/pid)" 2>/dev/null
	rm -f registry/pid
}

# push_image <local image> <name in the registry>
push_image () {
	podman push --quiet --tls-verify=false "$1" "$REG/$2" >&4 2>&4
}

# Whatever way the script ends: no registry left running, no image left.
rm_images () {
	test -z "${REG:-}" || podman rmi -f "$REG/git-sand-test:1" >/dev/null 2>&1
	podman rmi -f localhost/git-sand-newer:1 >/dev/null 2>&1
	stop_registry
}
trap 'code=$?; rm_images; (exit $code); test_at_exit_' EXIT

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'an unknown --pull or sand.pull is fatal before anything is made' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --pull=sometimes 2>../err &&
		test_expect_code 128 git -c sand.pull=bogus sand new -d 2>../err2 &&
		test_expect_code 128 git sand start --pull=bogus --all 2>../err3 &&
		git sand ls --porcelain >../out
	) &&
	test_grep "^fatal: invalid pull policy .sometimes. (known: missing, always, never)\$" err &&
	test_grep "^fatal: invalid pull policy .bogus." err2 &&
	test_grep "^fatal: invalid pull policy .bogus." err3 &&
	test_line_count = 0 out
'

test_expect_success 'git sand config shows sand.pull, missing by default' '
	(
		cd repo &&
		git sand config >../c1 &&
		git -c sand.pull=never sand config >../c2
	) &&
	test_grep "^pull  *missing  *default\$" c1 &&
	test_grep "^pull  *never  *sand.pull (command)\$" c2
'

test_expect_success 'a missing default image says how to build it, and is fatal' '
	if podman image exists localhost/git-sand-default:latest
	then
		say_comment "the default image is built here: skipped" && return 0
	fi &&
	(
		cd repo &&
		test_expect_code 128 git sand new -d -i localhost/git-sand-default:latest 2>../err
	) &&
	test_grep "^error: image .localhost/git-sand-default:latest. is not available to podman\$" err &&
	test_grep "^hint: build it with .make image. in git-sand.s source or .git sand image build." err &&
	test_grep "^fatal: cannot make a sandbox from image .localhost/git-sand-default:latest.\$" err
'

test_expect_success 'a missing image without a registry is not pulled, and says how it could be' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d -i no-such-image-here:1 2>../err
	) &&
	test_grep "^error: image .no-such-image-here:1. is not available to podman\$" err &&
	test_grep "^hint: name its registry (as in .docker.io/library/no-such-image-here:1.)" err &&
	! grep "Pulling" err &&
	test_grep "^fatal: " err
'

test_expect_success REGISTRY 'start a registry on 127.0.0.1 holding the test image' '
	start_registry &&
	push_image "$TEST_IMAGE" git-sand-test:1 &&
	! podman image exists "$REG/git-sand-test:1"
'

test_expect_success REGISTRY '--pull=never does not pull a missing image, and says how to' '
	(
		cd repo &&
		test_expect_code 128 git sand new -d --pull=never -i "$REG/git-sand-test:1" 2>../err &&
		git sand ls --porcelain >../out
	) &&
	test_grep "^error: image .$REG/git-sand-test:1. is not available to podman\$" err &&
	test_grep "^hint: pull it with .podman pull $REG/git-sand-test:1., or let git sand pull it with --pull=missing" err &&
	test_grep "^fatal: " err &&
	test_line_count = 0 out &&
	! podman image exists "$REG/git-sand-test:1"
'

test_expect_success REGISTRY 'a missing image that names a registry is pulled before the sandbox is made' '
	(
		cd repo &&
		git sand new -d -i "$REG/git-sand-test:1" pulled >../name 2>../err &&
		git sand exec pulled git rev-parse --is-inside-work-tree >../inside
	) &&
	echo pulled >expect &&
	test_cmp expect name &&
	echo true >expect &&
	test_cmp expect inside &&
	podman image exists "$REG/git-sand-test:1" &&
	# Off a terminal, quietly: no progress.
	test_line_count = 0 err
'

if command -v script >/dev/null 2>&1
then
	test_set_prereq SCRIPT
fi

test_expect_success REGISTRY,SCRIPT 'on a terminal, the runtime shows its progress there; stdout stays the name' '
	podman rmi -f "$REG/git-sand-test:1" >&4 2>&4 &&
	(
		cd repo &&
		script -qec "git sand new -d -i $REG/git-sand-test:1 onterm >../name" /dev/null \
			</dev/null >../session
	) &&
	echo onterm >expect &&
	test_cmp expect name &&
	test_grep "Pulling .$REG/git-sand-test:1. with podman" session &&
	test_grep "Writing manifest" session
'

test_expect_success REGISTRY 'a sandbox whose container and image are gone pulls it again on start' '
	(
		cd repo &&
		ctr=$(sandbox_field pulled container) &&
		podman rm -f "$ctr" >&4 2>&4 &&
		podman rm -f "$(sandbox_field onterm container)" >&4 2>&4 &&
		podman rmi -f "$REG/git-sand-test:1" >&4 2>&4 &&
		test_must_fail git sand start --pull=never pulled 2>../err &&
		git sand start pulled &&
		git sand exec pulled true
	) &&
	test_grep "^error: image .$REG/git-sand-test:1. is not available to podman\$" err &&
	podman image exists "$REG/git-sand-test:1"
'

test_expect_success REGISTRY 'missing keeps the image it has; always gets the registry'"'"'s newest' '
	mkdir -p newer &&
	echo second >newer/marker &&
	printf "FROM %s\nCOPY marker /marker\n" "$TEST_IMAGE" >newer/Containerfile &&
	podman build --quiet --network none -t localhost/git-sand-newer:1 newer >&4 2>&4 &&
	push_image localhost/git-sand-newer:1 git-sand-test:1 &&
	(
		cd repo &&
		git sand new -d -i "$REG/git-sand-test:1" kept &&
		test_must_fail git sand exec kept test -f /marker &&
		git -c sand.pull=always sand new -d -i "$REG/git-sand-test:1" fresh &&
		git sand exec fresh cat /marker >../marker
	) &&
	test_cmp newer/marker marker
'

test_expect_success REGISTRY 'a failed pull says so in one line with the runtime'"'"'s reason' '
	(
		cd repo &&
		git sand ls --porcelain >../before &&
		test_expect_code 128 git sand new -d -i "$REG/no-such-image:1" 2>../err &&
		git sand ls --porcelain >../after
	) &&
	grep "^error: " err >errors &&
	test_line_count = 1 errors &&
	test_grep "^error: cannot pull image .$REG/no-such-image:1. with podman: .*\(manifest unknown\|not found\)" errors &&
	test_grep "^fatal: cannot make a sandbox from image .$REG/no-such-image:1.\$" err &&
	test_cmp before after
'

test_expect_success REGISTRY 'stop the registry' '
	rm_images
'

# fake_runtime <name> <verb> <message>: bin-fake/<name> says <message> on
# stderr and fails at <verb> (any verb for "*"), and runs the real one
# (when installed) for every other.
fake_runtime () {
	mkdir -p bin-fake &&
	real=$(PATH=$(echo "$PATH" | sed "s|$TRASH_DIRECTORY/bin-fake:||") command -v "$1" || echo false) &&
	printf "%s\n" "$3" >"bin-fake/$1.msg" &&
	cat >"bin-fake/$1" <<-EOS &&
	#!/bin/sh
	case "\$1" in
	$2) cat >&2 "$TRASH_DIRECTORY/bin-fake/$1.msg"; exit 125 ;;
	esac
	exec "$real" "\$@"
	EOS
	chmod +x "bin-fake/$1"
}

# Known failures, each as its runtime words it: the hint comes after it.
test_expect_success 'rlimits podman may not set: a hint at the README and containers.conf' '
	fake_runtime podman start "Error: unable to start container \"3f2a\": error setting rlimit type 7: operation not permitted: OCI permission denied" &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d rl 2>../err
	) &&
	test_grep "^error: podman start failed: .*error setting rlimit type 7" err &&
	test_grep "^hint: .*default_ulimits.*containers.conf.*podman on restricted machines.*README.md" err &&
	test_grep "^fatal: cannot create sandbox .rl.\$" err &&
	test "$(grep -n "^error: podman start" err | cut -d: -f1)" -lt "$(grep -n "^hint: " err | cut -d: -f1)"
'

test_expect_success 'crun and cgroups: a hint at runc' '
	fake_runtime podman create "Error: crun: creating cgroup directory \`/sys/fs/cgroup/machine.slice/libpod-3f2a.scope\`: No such file or directory: OCI runtime attempted to invoke a command that was not found" &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d cg 2>../err
	) &&
	test_grep "^error: podman create failed: Error: crun" err &&
	test_grep "^hint: crun cannot use this machine.s cgroups: set runtime = \"runc\"" err &&
	test_grep "^fatal: " err
'

test_expect_success 'rootless podman without subuids: a hint at usermod' '
	fake_runtime podman create "Error: cannot find UID/GID for user u: no subuid ranges found for user \"u\" in /etc/subuid - check rootless mode in man pages." &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d su 2>../err
	) &&
	test_grep "^hint: rootless podman needs subordinate ids.*--add-subuids" err &&
	test_grep "^fatal: " err
'

test_expect_success 'docker without its daemon: not "no image", but the daemon, and how to start it' '
	fake_runtime docker "*" "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d --runtime docker dd 2>../err
	) &&
	! grep "is not available" err &&
	test_grep "^error: docker image inspect failed: Cannot connect to the Docker daemon" err &&
	test_grep "^hint: start docker.s daemon" err &&
	test_grep "^fatal: " err
'

test_expect_success 'docker socket permission denied: a hint at the docker group' '
	fake_runtime docker "*" "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/images/json\": dial unix /var/run/docker.sock: connect: permission denied" &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d --runtime docker dp 2>../err
	) &&
	test_grep "^hint: your user may not use docker.s socket: add it to the docker group" err &&
	! grep "^hint: start docker" err &&
	test_grep "^fatal: " err
'

test_expect_success 'Apple container without its system service: a hint at container system start' '
	fake_runtime container "*" "Error: XPC connection error: Connection invalid. Ensure container services are running with \`container system start\`" &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d --runtime container ap 2>../err
	) &&
	test_grep "^error: the container system service is not running" err &&
	test_grep "^hint: start it with .container system start.\$" err &&
	test "$(grep -c "^hint: " err)" = 1 &&
	test_grep "^fatal: " err
'

test_done

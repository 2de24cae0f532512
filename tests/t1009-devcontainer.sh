#!/bin/sh
test_description='devcontainer.json: found, parsed with comments, refused where it reaches the host, its commands run in the sandbox, a corpus read as the reference reads it'
. ./test-lib.sh
test_require_podman --optional

SQ="'"

# write_dc <repo> <path> <json>: a devcontainer file in the repository.
write_dc () {
	mkdir -p "$(dirname "$1/$2")" &&
	printf '%s\n' "$3" >"$1/$2"
}

# sandbox_field_in <repo> <name> <key>
sandbox_field_in () {
	(cd "$1" && sandbox_field "$2" "$3")
}

# The number of sandboxes of the worktree.
nr_sandboxes () {
	(cd "$1" && git sand ls --porcelain) | grep -c "^sandbox " || :
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'an error names the file, the line and the column' '
	write_dc repo .devcontainer/devcontainer.json "{
	// a comment
	\"image\": \"x\" \"y\"
}" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json:3:15: not valid JSON here$" err &&
	test "$(nr_sandboxes repo)" = 0
'

test_expect_success 'an unclosed comment is named where it opens' '
	write_dc repo .devcontainer/devcontainer.json "{
  \"image\": \"x\" /* never
}" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json:2:16: a comment is never closed$" err
'

test_expect_success 'a JSON that ends early is told so' '
	write_dc repo .devcontainer/devcontainer.json "{ \"image\": " &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json:2:1: the JSON ends too early$" err
'

test_expect_success 'a value of the wrong type is named' '
	write_dc repo .devcontainer/devcontainer.json "{ \"image\": 3 }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json: .image. must be a string$" err &&
	write_dc repo .devcontainer/devcontainer.json "{ \"postCreateCommand\": [1] }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json: .postCreateCommand. must be a string, an array" err
'

test_expect_success 'a file larger than a mebibyte is refused' '
	{
		printf "{\"x\": \"" &&
		head -c 1100000 /dev/zero | tr "\0" a &&
		printf "\"}\n"
	} >repo/.devcontainer/devcontainer.json &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .\.devcontainer/devcontainer.json. is larger than 1048576 bytes$" err
'

test_expect_success 'a devcontainer directory that is a link out of the worktree is not followed' '
	rm -rf repo/.devcontainer &&
	mkdir outside &&
	write_dc . outside/devcontainer.json "{ \"image\": \"x\" }" &&
	ln -s ../outside repo/.devcontainer &&
	(cd repo && test_expect_code 128 git sand new -d --devcontainer .devcontainer/devcontainer.json bad 2>../err) &&
	test_grep "a symbolic link is on its way" err &&
	rm repo/.devcontainer
'

test_expect_success 'a file that is a link is not read' '
	mkdir repo/.devcontainer &&
	ln -s ../../outside/devcontainer.json repo/.devcontainer/devcontainer.json &&
	(cd repo && test_expect_code 128 git sand new -d --devcontainer .devcontainer/devcontainer.json bad 2>../err) &&
	test_grep "a symbolic link is on its way" err &&
	rm -r repo/.devcontainer
'

test_expect_success 'several folders: refused, with a hint to choose' '
	write_dc repo .devcontainer/one/devcontainer.json "{}" &&
	write_dc repo .devcontainer/two/devcontainer.json "{}" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^error: this worktree has 2 devcontainer files: .\.devcontainer/one/devcontainer.json., .\.devcontainer/two/devcontainer.json.$" err &&
	test_grep "^hint: choose one with .--devcontainer <path>." err
'

test_expect_success 'options that cannot go together, and a bad sand.devcontainer' '
	(cd repo && test_expect_code 128 git sand new -d --no-devcontainer --devcontainer x bad 2>../err) &&
	test_grep "^fatal: options .--devcontainer. and .--no-devcontainer. cannot be used together$" err &&
	(cd repo && test_expect_code 128 git -c sand.devcontainer=sometimes sand new -d bad 2>../err) &&
	test_grep "^fatal: bad value .sometimes. for sand.devcontainer (known: auto, never)$" err &&
	rm -r repo/.devcontainer
'

for key in \
	'"mounts": ["source=/etc,target=/host-etc,type=bind"]' \
	'"runArgs": ["--pid=host"]' \
	'"privileged": true' \
	'"capAdd": ["SYS_ADMIN"]' \
	'"securityOpt": ["seccomp=unconfined"]' \
	'"initializeCommand": "touch /tmp/pwned"'
do
	name=${key%%\"\:*}
	name=${name#\"}
	test_expect_success "'$name' is refused, saying how to allow it" '
		write_dc repo .devcontainer.json "{ \"image\": \"$TEST_IMAGE\", $key }" &&
		(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
		test_grep "^error: .devcontainer.json: refusing .$name.: " err &&
		test_grep "^hint: allow it with .--devcontainer-allow=$name. or .git config --global --add sand.devcontainer.allow $name.$" err &&
		test_grep "^fatal: cannot use .\.devcontainer.json. as it is$" err &&
		test "$(nr_sandboxes repo)" = 0
	'
done

test_expect_success 'the host environment is not read unless allowed' '
	write_dc repo .devcontainer.json "{ \"containerEnv\": { \"A\": \"\${localEnv:SECRET}\" } }" &&
	(cd repo && SECRET=s3 test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^error: .devcontainer.json: refusing .containerEnv.: it reads .SECRET. from this machine.s environment into the sandbox$" err &&
	test_grep "^hint: allow it with .--devcontainer-allow=localEnv:SECRET." err
'

test_expect_success 'the repository cannot allow it itself' '
	git -C repo config sand.devcontainer.allow initializeCommand &&
	write_dc repo .devcontainer.json "{ \"initializeCommand\": \"touch /tmp/pwned\" }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^warning: ignoring sand.devcontainer.allow in the repository.s own config" err &&
	test_grep "^error: .devcontainer.json: refusing .initializeCommand." err &&
	git -C repo config --unset sand.devcontainer.allow
'

test_expect_success 'a compose-based file and a Dockerfile build are refused with a reason' '
	write_dc repo .devcontainer.json "{ \"dockerComposeFile\": \"c.yml\", \"service\": \"app\" }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer.json: .dockerComposeFile.: configurations based on Docker Compose are not supported$" err
'

test_expect_success 'workspaceMount of something else than the worktree is refused' '
	write_dc repo .devcontainer.json "{ \"workspaceMount\": \"source=/srv,target=/app,type=bind\" }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^error: .devcontainer.json: refusing .workspaceMount.: a sandbox mounts its own clone" err
'

test_expect_success 'an image that would be an option, a port on every interface: refused' '
	write_dc repo .devcontainer.json "{ \"image\": \"--privileged\" }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer.json: .image.: .--privileged. is not an image name$" err &&
	write_dc repo .devcontainer.json "{ \"appPort\": [\"0.0.0.0:8080:80\"] }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer.json: .appPort.: .0.0.0.0:8080:80. would publish the sandbox.s port on 0.0.0.0; it publishes on 127.0.0.1 only" err
'

test_expect_success 'an unknown allowance is an error' '
	write_dc repo .devcontainer.json "{}" &&
	(cd repo && test_expect_code 128 git sand new -d --devcontainer-allow=everything bad 2>../err) &&
	test_grep "^error: --devcontainer-allow: cannot allow .everything." err
'

test_expect_success 'never: the file is not read at all' '
	write_dc repo .devcontainer.json "{ broken" &&
	(cd repo && test_expect_code 128 git sand new -d --no-devcontainer --image=no/such:image bad 2>../err) &&
	! test_grep "devcontainer" err &&
	(cd repo && test_expect_code 128 git -c sand.devcontainer=never sand new -d --image=no/such:image bad 2>../err) &&
	! test_grep "devcontainer" err
'

test_expect_success PODMAN 'image, environment, variables, the unknown keys in one warning' '
	rm -rf repo/.devcontainer.json repo/.devcontainer &&
	write_dc repo .devcontainer/devcontainer.json "{
	// The image of the tests, and comments and trailing commas as real files have them.
	\"name\": \"demo\",
	\"image\": \"$TEST_IMAGE\", /* a comment, \"with quotes\" */
	\"containerEnv\": {
		\"GREETING\": \"hello // not a comment\",
		\"WS\": \"\${containerWorkspaceFolder}:\${containerWorkspaceFolderBasename}\",
		\"LOCAL\": \"\${localWorkspaceFolderBasename}\",
		\"ID\": \"\${devcontainerId}\",
		\"FROM_HOST\": \"\${localEnv:DC_TEST_VAR:fallback}\",
	},
	\"remoteEnv\": {
		\"BOTH\": \"\${containerEnv:GREETING}!\",
		\"UNKNOWN\": \"\${containerEnv:PATH}:/opt/bin\",
	},
	\"features\": { \"ghcr.io/devcontainers/features/node:1\": {} },
	\"hostRequirements\": { \"cpus\": 2 },
	\"customizations\": { \"vscode\": { \"extensions\": [\"x\"] } },
}" &&
	(
		cd repo &&
		git -c sand.image=no/such:image sand new -d --devcontainer-allow=localEnv:DC_TEST_VAR dc 2>../err &&
		git sand exec dc sh -c "echo \"\$GREETING|\$WS|\$LOCAL|\$FROM_HOST|\$BOTH|\${UNKNOWN-unset}\"" >../actual &&
		git sand exec dc sh -c "echo \$ID" >../id
	) &&
	echo "hello // not a comment|/app:app|repo|fallback|hello // not a comment!|unset" >expect &&
	test_cmp expect actual &&
	test_grep "^[0-9a-f]\{40\}$" id &&
	test_grep "^warning: .devcontainer/devcontainer.json: not supported, ignored: .features., .hostRequirements.$" err &&
	test_grep "^warning: .devcontainer/devcontainer.json: not setting remoteEnv .UNKNOWN.: it names a variable of the container.s that is not known before it runs$" err &&
	! test_grep "customizations" err
'

# The reference implementation (npm's @devcontainers/cli): it needs no
# network to read a configuration; it asks the runtime for containers it
# made.
test_require_devcontainer_cli

test_expect_success PODMAN,DEVCONTAINER_CLI 'the environment is what the reference reads' '
	rm -rf ref &&
	test_create_repo ref &&
	write_dc ref .devcontainer/devcontainer.json "{
	// As real files have them: comments, trailing commas, variables.
	\"image\": \"$TEST_IMAGE\", /* here */
	\"workspaceFolder\": \"/app\",
	\"containerEnv\": {
		\"GREETING\": \"hello // not a comment /* nor this */\",
		\"WS\": \"\${containerWorkspaceFolder}:\${containerWorkspaceFolderBasename}\",
		\"LOCAL\": \"\${localWorkspaceFolderBasename}\",
		\"LOCAL_PATH\": \"\${localWorkspaceFolder}/x\",
		\"FROM_HOST\": \"\${localEnv:DC_TEST_VAR}\",
		\"DEFAULTED\": \"\${localEnv:DC_TEST_UNSET:fallback}\",
		\"LEFT\": \"\${nosuch}\",
		\"QUOTES\": \"a \\\"quoted\\\" word, and a comma,\",
	},
}" &&
	(
		cd ref &&
		DC_TEST_VAR=from-host "$DEVCONTAINER_CLI" read-configuration --docker-path "$TEST_RUNTIME" \
			--workspace-folder . >../ref.json 2>../ref.err &&
		DC_TEST_VAR=from-host git sand new -d --devcontainer-allow=localEnv rf &&
		node -e "for (const k in require(\"../ref.json\").configuration.containerEnv) console.log(k)" >../keys &&
		node -e "for (const [k, v] of Object.entries(require(\"../ref.json\").configuration.containerEnv)) console.log(k + \"=\" + v)" >../expect &&
		git sand exec rf env >../env &&
		while read -r k
		do
			grep "^$k=" ../env || return 1
		done <../keys >../actual &&
		git sand rm -f rf
	) &&
	test_line_count = 8 keys &&
	test_cmp expect actual
'

test_expect_success PODMAN 'an allowed host variable is read; --env wins over the file' '
	(
		cd repo &&
		DC_TEST_VAR=from-host git sand new -d --env GREETING=mine \
			--devcontainer-allow=localEnv dc2 2>../err &&
		git sand exec dc2 sh -c "echo \"\$GREETING|\$FROM_HOST\"" >../actual &&
		git sand rm -f dc2
	) &&
	echo "mine|from-host" >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'the lifecycle commands run in order, in the sandbox, each form' '
	git -C repo sand rm -f dc &&
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"onCreateCommand\": \"echo onCreate \$(pwd) >>/tmp/order\",
	\"updateContentCommand\": [\"sh\", \"-c\", \"echo updateContent >>/tmp/order\"],
	\"postCreateCommand\": {
		\"first\": \"echo postCreate-first >>/tmp/order\",
		\"second\": [\"sh\", \"-c\", \"echo postCreate-second >>/tmp/order; echo to the log\"],
	},
	\"postStartCommand\": \"echo postStart >>/tmp/order\",
	\"postAttachCommand\": \"echo postAttach >>/tmp/order\",
}" &&
	(
		cd repo &&
		git sand new -d lc &&
		git sand exec lc cat /tmp/order >../actual &&
		git sand logs --setup lc >../log
	) &&
	cat >expect <<-\EOF &&
	onCreate /app
	updateContent
	postCreate-both
	postCreate-both
	postStart
	EOF
	sed "s/^postCreate-\(first\|second\)$/postCreate-both/" actual >actual.both &&
	test_cmp expect actual.both &&
	sed -n "3,4p" actual | sort >actual.post &&
	printf "%s\n" postCreate-first postCreate-second >expect.post &&
	test_cmp expect.post actual.post &&
	test_grep "^\[postCreateCommand .second.\]$" log &&
	test_grep "^to the log$" log &&
	test_grep "^\[postStartCommand exited with status 0\]$" log &&
	test_path_is_missing repo/order
'

test_expect_success PODMAN 'postStartCommand runs again on start; postAttachCommand on shell' '
	(
		cd repo &&
		git sand stop lc &&
		git sand start lc &&
		git sand exec lc cat /tmp/order >../actual &&
		echo exit | git sand shell lc &&
		git sand exec lc tail -n 1 /tmp/order >../attached
	) &&
	test "$(grep -c "^postStart$" actual)" = 2 &&
	test "$(grep -c "^onCreate" actual)" = 1 &&
	test "$(grep -c "^postCreate-first$" actual)" = 1 &&
	echo postAttach >expect &&
	test_cmp expect attached
'

test_expect_success PODMAN 'show tells what the sandbox took from the file' '
	(cd repo && git sand show lc >../show) &&
	test_grep "^devcontainer \.devcontainer/devcontainer\.json$" show &&
	test_grep "^devcontainer.onCreateCommand \"echo onCreate \$(pwd) >>/tmp/order\"$" show &&
	test_grep "^devcontainer.postCreateCommand {\"first\":" show &&
	test_grep "^devcontainer.postAttachCommand \"echo postAttach >>/tmp/order\"$" show &&
	(cd repo && git sand show --json lc >../show.json) &&
	if command -v python3 >/dev/null
	then
		python3 -c "import json; d = json.load(open(\"show.json\")); print(d[\"sandbox\"], d[\"devcontainer\"], json.loads(d[\"devcontainer.postStartCommand\"]))" >actual &&
		echo "lc .devcontainer/devcontainer.json echo postStart >>/tmp/order" >expect &&
		test_cmp expect actual
	fi
'

test_expect_success PODMAN 'the entries of an object run at once, each logged with its name' '
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"postCreateCommand\": {
		\"ping\": \"touch /tmp/ping; i=0; while ! test -e /tmp/pong && test \$i -lt 60; do sleep 1; i=\$((i+1)); done; test -e /tmp/pong && echo ping saw pong\",
		\"pong\": [\"sh\", \"-c\", \"touch /tmp/pong; i=0; while ! test -e /tmp/ping && test \$i -lt 60; do sleep 1; i=\$((i+1)); done; test -e /tmp/ping && echo pong saw ping\"],
	},
}" &&
	(
		cd repo &&
		git sand new -d both &&
		git sand logs --setup both >../log &&
		git sand rm -f both
	) &&
	cat >expect <<-\EOF &&
	[postCreateCommand]
	[postCreateCommand '\''ping'\'']
	ping saw pong
	[postCreateCommand '\''ping'\'' exited with status 0]
	[postCreateCommand '\''pong'\'']
	pong saw ping
	[postCreateCommand '\''pong'\'' exited with status 0]
	[postCreateCommand exited with status 0]
	EOF
	test_cmp expect log
'

test_expect_success PODMAN 'one entry of an object failing fails the step, naming it' '
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"postCreateCommand\": {
		\"good\": \"echo fine\",
		\"bad\": [\"sh\", \"-c\", \"echo broken; exit 4\"],
		\"also-good\": \"true\",
	},
}" &&
	(cd repo && test_expect_code 128 git sand new -d halfbad 2>../err) &&
	test_grep "^error: postCreateCommand .bad. failed in sandbox .halfbad.$" err &&
	test_grep "^fatal: cannot create sandbox .halfbad.$" err &&
	! (cd repo && git sand ls --porcelain) | grep "^sandbox halfbad$"
'

test_expect_success PODMAN 'a failing command fails new, naming it, and leaves nothing' '
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"postCreateCommand\": \"echo broken; exit 3\",
}" &&
	(cd repo && test_expect_code 128 git sand new -d failing 2>../err) &&
	test_grep "^error: postCreateCommand failed (status 3) in sandbox .failing.$" err &&
	test_grep "^hint: .git sand logs --setup failing. shows its output$" err &&
	test_grep "^fatal: cannot create sandbox .failing.$" err &&
	! (cd repo && git sand ls --porcelain) | grep "^sandbox failing$"
'

test_expect_success PODMAN 'allowed: mounts bind what the file names, runArgs go to the runtime as they are' '
	mkdir shared &&
	echo shared >shared/file &&
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"mounts\": [\"source=$TRASH_DIRECTORY/shared,target=/shared,type=bind,readonly\"],
	\"runArgs\": [\"--label=io.git-sand.test=from-runargs\"],
	\"initializeCommand\": \"touch $TRASH_DIRECTORY/pwned\",
}" &&
	(
		cd repo &&
		git -c sand.devcontainer.allow="runArgs initializeCommand" sand new -d \
			--devcontainer-allow=mounts al 2>../err &&
		git sand exec al cat /shared/file >../actual &&
		test_must_fail git sand exec al sh -c "echo x >/shared/file" &&
		ctr=$(sandbox_field al container) &&
		$TEST_RUNTIME container inspect --format "{{index .Config.Labels \"io.git-sand.test\"}}" "$ctr" >../label
	) &&
	echo shared >expect &&
	test_cmp expect actual &&
	echo from-runargs >expect &&
	test_cmp expect label &&
	test_path_is_missing pwned &&
	test_grep "^warning: .devcontainer/devcontainer.json: not running initializeCommand: nothing from the file runs on this machine, even allowed$" err
'

test_expect_success PODMAN 'a container made again keeps the allowed runArgs' '
	(
		cd repo &&
		ctr=$(sandbox_field al container) &&
		$TEST_RUNTIME rm -f "$ctr" >/dev/null &&
		git sand start al &&
		ctr=$(sandbox_field al container) &&
		$TEST_RUNTIME container inspect --format "{{index .Config.Labels \"io.git-sand.test\"}}" "$ctr" >../label &&
		git sand rm -f al
	) &&
	echo from-runargs >expect &&
	test_cmp expect label
'

test_expect_success PODMAN 'runArgs do not name the container: each sandbox of the file has its own' '
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"runArgs\": [\"--name\", \"t1009-fixed-$$\", \"--label=io.git-sand.test=kept\"]
}" &&
	test_when_finished "git -C repo sand rm -f n1 n2 >/dev/null 2>&1" &&
	(
		cd repo &&
		git sand new -d --devcontainer-allow=runArgs n1 2>../err &&
		git sand new -d --devcontainer-allow=runArgs n2 &&
		for n in n1 n2
		do
			$TEST_RUNTIME container inspect --format "{{.Name}} {{index .Config.Labels \"io.git-sand.test\"}}" \
				"$(sandbox_field $n container)" || return 1
		done >../names
	) &&
	test_grep "^warning: .devcontainer/devcontainer.json: runArgs: ignoring .--name t1009-fixed-$$.: git-sand names the container$" err &&
	sed -n "s/^\/\{0,1\}\(sand-n[12]\)-[0-9a-f]\{8\} kept$/\1/p" names >actual &&
	printf "sand-n1\nsand-n2\n" >expect &&
	test_cmp expect actual
'

test_expect_success PODMAN 'forwardPorts and appPort are published' '
	write_dc repo .devcontainer/devcontainer.json "{
	\"image\": \"$TEST_IMAGE\",
	\"forwardPorts\": [8080, \"db:5432\"],
	\"appPort\": \"127.0.0.1::9090\",
}" &&
	(
		cd repo &&
		git sand new -d --network=bridge pt 2>../err &&
		git sand port pt >../ports &&
		git sand rm -f pt
	) &&
	test_grep "^8080/tcp -> 127\.0\.0\.1:" ports &&
	test_grep "^9090/tcp -> 127\.0\.0\.1:" ports &&
	test_grep "^warning: .devcontainer/devcontainer.json: not forwarding .db:5432.: a sandbox publishes only its own ports$" err
'

test_expect_success PODMAN 'with no network, ports are not published, and new says so' '
	(cd repo && git sand new -d np 2>../err && git sand rm -f np) &&
	test_grep "^warning: .devcontainer/devcontainer.json: not publishing its ports: the sandbox has no network" err
'

test_expect_success PODMAN '--image wins over the file' '
	write_dc repo .devcontainer/devcontainer.json "{ \"image\": \"no/such:image\" }" &&
	(cd repo && git sand new -d --image "$TEST_IMAGE" im && git sand rm -f im)
'

# dc_images: the images built from devcontainer files, by name.
dc_images () {
	$TEST_RUNTIME images --format "{{.Repository}}" | grep "^localhost/git-sand-dc-" | sort
}

test_expect_success PODMAN 'setup: the images built from devcontainer files are ours to the end' '
	test_lock_dc_images
'

test_expect_success PODMAN 'a Dockerfile is built, with its args, from its context' '
	rm -rf repo/.devcontainer &&
	write_dc repo .devcontainer/Dockerfile "FROM $TEST_IMAGE
ARG GREETING=none
COPY hello.txt /hello.txt
RUN echo \"\$GREETING\" >/greeting && cat /proc/sys/kernel/random/uuid >/built" &&
	echo hello >repo/.devcontainer/hello.txt &&
	ln -s /etc/passwd repo/.devcontainer/link &&
	write_dc repo .devcontainer/devcontainer.json "{
	\"build\": {
		\"dockerfile\": \"Dockerfile\",
		\"args\": { \"GREETING\": \"hi from \${containerWorkspaceFolder}\" },
		\"options\": [\"--network=none\"],
	},
}" &&
	(
		cd repo &&
		git sand new -d b1 &&
		git sand exec b1 cat /greeting /hello.txt /built >../first
	) &&
	test_grep "^hi from /app$" first &&
	test_grep "^hello$" first &&
	dc_images >images &&
	test_line_count = 1 images &&
	test "$(sandbox_field_in repo b1 image)" = "$(cat images)"
'

test_expect_success PODMAN 'a second new builds nothing; a change to the context builds again' '
	(
		cd repo &&
		git sand new -d b2 &&
		git sand exec b2 cat /greeting /hello.txt /built >../second
	) &&
	test_cmp first second &&
	dc_images >images &&
	test_line_count = 1 images &&
	echo changed >repo/.devcontainer/hello.txt &&
	(
		cd repo &&
		git sand new -d b3 &&
		git sand exec b3 cat /hello.txt >../third
	) &&
	echo changed >expect &&
	test_cmp expect third &&
	dc_images >images &&
	test_line_count = 2 images &&
	(cd repo && git sand rm -f b1 b2 b3)
'

test_expect_success PODMAN 'image build --devcontainer builds ahead, and new uses it' '
	echo ahead >repo/.devcontainer/hello.txt &&
	(
		cd repo &&
		git sand image build --devcontainer >../out &&
		git sand image build --devcontainer >../again &&
		git sand new -d b4 2>../err &&
		git sand exec b4 cat /hello.txt >../fourth &&
		sandbox_field b4 image >../image &&
		git sand rm -f b4
	) &&
	test_grep "^Built .localhost/git-sand-dc-[0-9a-f]*.$" out &&
	test_cmp out again &&
	echo "Built '"'"'$(cat image)'"'"'" >expect &&
	test_cmp expect out &&
	echo ahead >expect &&
	test_cmp expect fourth &&
	(cd repo && test_expect_code 128 git sand image build --devcontainer --agent claude 2>../err) &&
	test_grep "^fatal: options .--devcontainer. and .--agent. cannot be used together$" err
'

test_expect_success 'a build outside the worktree or with an unknown option is refused' '
	write_dc repo .devcontainer/devcontainer.json "{ \"build\": { \"dockerfile\": \"Dockerfile\", \"context\": \"../..\" } }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json: .context.: .\.\./\.\.. is outside the worktree$" err &&
	write_dc repo .devcontainer/devcontainer.json "{ \"build\": { \"dockerfile\": \"/etc/Dockerfile\" } }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json: .dockerfile.: ./etc/Dockerfile. is a path of this machine" err &&
	write_dc repo .devcontainer/devcontainer.json "{ \"build\": { \"dockerfile\": \"Dockerfile\", \"options\": [\"--volume=/:/host\"] } }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^error: .devcontainer/devcontainer.json: refusing .build.options.: .--volume=/:/host. is not one of the options known to be harmless" err &&
	test_grep "^hint: allow it with .--devcontainer-allow=build.options." err
'

test_expect_success PODMAN 'a Dockerfile that is a link is not read' '
	mv repo/.devcontainer/Dockerfile repo/Dockerfile.real &&
	ln -s ../Dockerfile.real repo/.devcontainer/Dockerfile &&
	write_dc repo .devcontainer/devcontainer.json "{ \"build\": { \"dockerfile\": \"Dockerfile\" } }" &&
	(cd repo && test_expect_code 128 git sand new -d bad 2>../err) &&
	test_grep "^error: cannot read .\.devcontainer/Dockerfile.: a symbolic link is on its way$" err &&
	test_grep "^fatal: cannot build the image of .\.devcontainer/devcontainer.json.$" err
'

test_expect_success 'config shows what comes from the file, with its origin' '
	rm -rf repo/.devcontainer repo/.devcontainer.json &&
	write_dc repo .devcontainer.json "{
	\"image\": \"from/devcontainer:1\",
	\"containerEnv\": { \"TOKEN\": \"secret-value\" },
	\"forwardPorts\": [3000],
	\"postCreateCommand\": [\"make\", \"setup\"],
}" &&
	(
		cd repo &&
		git sand config >../config &&
		git sand config --json >../config.json &&
		git -c sand.devcontainer=never sand config >../never
	) &&
	test_grep "^image  *from/devcontainer:1  *\.devcontainer\.json$" config &&
	test_grep "^publish  *3000  *\.devcontainer\.json$" config &&
	test_grep "^devcontainer  *auto  *default$" config &&
	test_grep "^devcontainer.file \.devcontainer\.json  *found in the worktree$" config &&
	test_grep "^devcontainer.env TOKEN  *\.devcontainer\.json$" config &&
	test_grep "^devcontainer.postCreateCommand \[\"make\",\"setup\"\]  *\.devcontainer\.json$" config &&
	! test_grep "secret-value" config &&
	test_grep "^image  *$TEST_IMAGE  *sand.image (global)$" never &&
	! test_grep "^devcontainer\." never &&
	if command -v python3 >/dev/null
	then
		python3 -c "import json,sys; d = json.load(open(\"config.json\")); print(d[\"image\"][\"value\"], d[\"image\"][\"origin\"], d[\"publish\"][\"value\"], d[\"devcontainer.env\"][\"value\"])" >actual &&
		echo "from/devcontainer:1 .devcontainer.json [${SQ}3000${SQ}] [${SQ}TOKEN${SQ}]" >expect &&
		test_cmp expect actual
	fi
'

test_expect_success 'config warns of a file new could not use' '
	write_dc repo .devcontainer.json "{ \"privileged\": true }" &&
	(cd repo && git sand config >../config 2>../err) &&
	test_grep "^error: .devcontainer.json: refusing .privileged." err &&
	test_grep "^warning: cannot use .\.devcontainer.json. as it is: a new sandbox cannot be made with it$" err &&
	! test_grep "^devcontainer\." config
'

# The corpus: devcontainer.json files in the shapes real projects use,
# each read by the reference and by git-sand and compared
# (devcontainer-compare.js says where git-sand differs by design). Here
# rather than in a script of their own: the cleanup below counts every
# image built from a devcontainer file.
CORPUS="$TEST_DIRECTORY/devcontainer-corpus"
COMPARE="$TEST_DIRECTORY/devcontainer-compare.js"

# corpus_repo <case>: a repository of the corpus's folder <case>, named so
# (${localWorkspaceFolderBasename} is the case's name).
corpus_repo () {
	rm -rf "$1" &&
	cp -R "$CORPUS/$1" "$1" &&
	git init -q "$1" &&
	git -C "$1" add -A &&
	git -C "$1" commit -q -m "$1"
}

# The devcontainer file of the worktree, as git-sand finds it.
dc_file () {
	if test -f "$1/.devcontainer/devcontainer.json"
	then
		echo "$1/.devcontainer/devcontainer.json"
	else
		echo "$1/.devcontainer.json"
	fi
}

# read_reference <case>: ref.json, the reference's reading of the file
# with its workspaceFolder made /app, where git-sand has its workspace
# (a difference by design: see DEVCONTAINERS in the manual).
read_reference () {
	f=$(dc_file "$1") &&
	if grep -q "\"workspaceFolder\":" "$f"
	then
		sed "s|\"workspaceFolder\": \"[^\"]*\"|\"workspaceFolder\": \"/app\"|" "$f"
	else
		sed "0,/^{\$/s||{ \"workspaceFolder\": \"/app\",|" "$f"
	fi >"$1.ref-config.json" &&
	grep -q "\"workspaceFolder\": \"/app\"" "$1.ref-config.json" &&
	"$DEVCONTAINER_CLI" read-configuration --docker-path "$TEST_RUNTIME" \
		--workspace-folder "$PWD/$1" --override-config "$PWD/$1.ref-config.json" \
		>"$1.ref.json" 2>"$1.ref.err" &&
	node -e "require(\"$PWD/$1.ref.json\").configuration" &&
	node "$COMPARE" reference "$1.ref.json" "$PWD/$1" >"$1.expect"
}

# read_git_sand <case> [<sandbox> [<allowed>]]: git-sand's reading, from
# config --json (with sand.devcontainer.allow <allowed>) and, when a
# sandbox is named, its environment.
read_git_sand () {
	(cd "$1" && git -c sand.devcontainer.allow="${3:-}" sand config --json) >"$1.config.json" &&
	if test -n "${2:-}"
	then
		(cd "$1" && git sand exec "$2" cat /proc/self/environ) >"$1.environ"
	else
		: >"$1.environ"
	fi &&
	node "$COMPARE" git-sand "$1.config.json" "$1.environ" "$1.ref.json" >"$1.actual"
}

test_expect_success DEVCONTAINER_CLI 'image only, comments and trailing commas: the same image' '
	corpus_repo image-only &&
	read_reference image-only &&
	read_git_sand image-only &&
	echo "image mcr.microsoft.com/devcontainers/base:bookworm" >expect &&
	test_cmp expect image-only.expect &&
	test_cmp image-only.expect image-only.actual
'

test_expect_success DEVCONTAINER_CLI 'every lifecycle form: the same commands, the workspace being /app' '
	corpus_repo lifecycle &&
	read_reference lifecycle &&
	read_git_sand lifecycle &&
	test_line_count = 6 lifecycle.expect &&
	test_grep "^updateContentCommand \[\"git\",\"-C\",\"/app\"," lifecycle.expect &&
	test_grep "^postStartCommand \"echo started in app >>/tmp/log\"" lifecycle.expect &&
	test_cmp lifecycle.expect lifecycle.actual
'

test_expect_success PODMAN,DEVCONTAINER_CLI 'the variables: the same environment in the sandbox' '
	corpus_repo variables &&
	DC_CORPUS_VAR="from the host" read_reference variables &&
	(
		cd variables &&
		DC_CORPUS_VAR="from the host" git sand new -d --image "$TEST_IMAGE" \
			--devcontainer-allow=localEnv vars 2>../vars.err
	) &&
	DC_CORPUS_VAR="from the host" read_git_sand variables vars localEnv &&
	git -C variables sand rm -f vars &&
	cat >expect <<-EOF &&
	env DEFAULTED=the default
	env FROM_HOST=from the host
	env GOFLAGS=-mod=mod
	env GOPATH=/go
	env LOCAL_SRC=$PWD/variables/src
	env PATH (left out)
	env PROJECT=variables
	env SRC=/app/src
	env URL=http://localhost:8080/a//b
	image mcr.microsoft.com/devcontainers/go:1.22
	EOF
	test_cmp expect variables.expect &&
	test_cmp variables.expect variables.actual &&
	test_grep "not setting remoteEnv .PATH." vars.err
'

test_expect_success DEVCONTAINER_CLI 'the variables: a host variable is refused unless allowed' '
	(cd variables && test_expect_code 128 git sand new -d --image "$TEST_IMAGE" refused 2>../err) &&
	test_grep "refusing .containerEnv.: it reads .DC_CORPUS_VAR." err &&
	test_grep "refusing .containerEnv.: it reads .DC_CORPUS_UNSET." err
'

test_expect_success PODMAN,DEVCONTAINER_CLI 'a Dockerfile with arguments and a target: built as the reference reads it' '
	corpus_repo dockerfile &&
	DC_BASE=$TEST_IMAGE read_reference dockerfile &&
	(
		cd dockerfile &&
		DC_BASE=$TEST_IMAGE git sand new -d --devcontainer-allow=localEnv built 2>../built.err &&
		git sand exec built cat /variant /tools /stage >../built
	) &&
	DC_BASE=$TEST_IMAGE read_git_sand dockerfile built localEnv &&
	git -C dockerfile sand rm -f built &&
	printf "%s\n" "env STAGE=dev" "image built from .devcontainer/Dockerfile" >expect &&
	test_cmp expect dockerfile.expect &&
	test_cmp dockerfile.expect dockerfile.actual &&
	node -e "const b = require(\"$PWD/dockerfile.ref.json\").configuration.build;
		console.log(b.args.VARIANT); console.log(b.args.TOOLS); console.log(b.target)" >expect &&
	test_cmp expect built
'

test_expect_success PODMAN,DEVCONTAINER_CLI 'features: read by the reference, named in git-sand'"$SQ"'s warning' '
	corpus_repo features &&
	read_reference features &&
	read_git_sand features &&
	test_cmp features.expect features.actual &&
	node -e "for (const f in require(\"$PWD/features.ref.json\").configuration.features) console.log(f)" >names &&
	test_line_count = 2 names &&
	# remoteUser is honoured, and the test image has no user "node"
	# (a feature would have made it): /app cannot be given to it.
	(cd features && test_expect_code 128 git sand new -d --image "$TEST_IMAGE" feat 2>../feat.err) &&
	test_grep "^error: cannot give /app to $SQ"node"$SQ in sandbox $SQ"feat"$SQ" feat.err &&
	test_grep "^warning: .devcontainer/devcontainer.json: not supported, ignored: $SQ"features"$SQ$" feat.err
'

test_expect_success DEVCONTAINER_CLI 'what reaches the host: the reference reads it, git-sand refuses each key' '
	corpus_repo refused &&
	read_reference refused &&
	for k in privileged runArgs capAdd securityOpt initializeCommand
	do
		node -e "if (!(\"$k\" in require(\"$PWD/refused.ref.json\").configuration)) process.exit(1)" || return 1
	done &&
	(cd refused && test_expect_code 128 git sand new -d --image "$TEST_IMAGE" r 2>../err) &&
	for k in privileged runArgs capAdd securityOpt initializeCommand
	do
		test_grep "^error: .devcontainer/devcontainer.json: refusing $SQ$k$SQ" err &&
		test_grep "^hint: allow it with $SQ--devcontainer-allow=$k$SQ" err || return 1
	done &&
	test "$(git -C refused sand ls --porcelain | grep -c "^sandbox ")" = 0
'

# Allowed, privileged, capAdd and securityOpt are options of the runtime
# for git-sand, with runArgs, in the order of the file.
test_expect_success DEVCONTAINER_CLI 'what reaches the host, allowed: the same arguments to the runtime' '
	(cd refused && git -c sand.devcontainer.allow="runArgs privileged capAdd securityOpt initializeCommand" \
		sand config --json) >refused.config.json &&
	node -e "const c = require(\"$PWD/refused.ref.json\").configuration;
		console.log(JSON.stringify([].concat(c.privileged ? [\"--privileged\"] : [], c.runArgs,
			c.capAdd.map((a) => \"--cap-add=\" + a),
			c.securityOpt.map((o) => \"--security-opt=\" + o))))" >expect &&
	node -e "console.log(JSON.stringify(require(\"$PWD/refused.config.json\")[\"devcontainer.runArgs\"].value))" >actual &&
	test_cmp expect actual &&
	test_grep "\"project=refused\"" actual
'

test_expect_success DEVCONTAINER_CLI 'a missing comma: the reference reads past it, git-sand names the place' '
	corpus_repo invalid-json &&
	read_reference invalid-json &&
	test_grep "^postCreateCommand \"make\"$" invalid-json.expect &&
	(cd invalid-json && test_expect_code 128 git sand new -d --image "$TEST_IMAGE" bad 2>../err) &&
	test_grep "^fatal: .devcontainer/devcontainer.json:3:2: not valid JSON here$" err
'

test_expect_success DEVCONTAINER_CLI 'Docker Compose: the reference reads it, git-sand refuses it with the reason' '
	corpus_repo compose &&
	read_reference compose &&
	node -e "console.log(require(\"$PWD/compose.ref.json\").configuration.service)" >actual &&
	echo app >expect &&
	test_cmp expect actual &&
	(cd compose && test_expect_code 128 git sand new -d --image "$TEST_IMAGE" c 2>../err) &&
	test_grep "$SQ"dockerComposeFile"$SQ: configurations based on Docker Compose are not supported" err
'

test_expect_success PODMAN 'cleanup: the images built' '
	(cd repo && git sand ls --porcelain | sed -n "s/^sandbox //p" | xargs -r git sand rm -f) &&
	dc_images | xargs -r $TEST_RUNTIME rmi -f >/dev/null 2>&1 &&
	dc_images >images &&
	test_line_count = 0 images
'

test_expect_success PODMAN 'remoteUser: the commands run as that user, who owns /app and the home' '
	test_when_finished "dc_images | xargs -r $TEST_RUNTIME rmi -f >/dev/null" &&
	rm -rf repo/.devcontainer &&
	write_dc repo .devcontainer/Dockerfile "FROM $TEST_IMAGE
RUN echo dev:x:1234:1234::/home/dev:/bin/sh >>/etc/passwd && echo dev:x:1234: >>/etc/group" &&
	write_dc repo .devcontainer/devcontainer.json "{
	\"build\": { \"dockerfile\": \"Dockerfile\" },
	\"containerUser\": \"root\",
	\"remoteUser\": \"dev\",
	\"postCreateCommand\": {
		\"who\": \"id -un >/app/created-by\",
		\"home\": [\"touch\", \"/home/sand/mine\"],
	},
	\"postStartCommand\": \"id -un >/tmp/started-by\",
}" &&
	(
		cd repo &&
		git sand new -d usr 2>../err &&
		git sand exec usr sh -c "id -un; id -g; cat /app/created-by /tmp/started-by; touch /app/new-file && git -c user.name=dev -c user.email=dev@example.com commit -q --allow-empty -m as-dev && echo wrote; stat -c %U /home/sand/mine /app/.git/HEAD" >../actual &&
		echo "id -un; exit" | git sand shell usr >../shell 2>&1 &&
		git sand show usr >../show &&
		git sand config >../config &&
		git sand status --porcelain usr >../status &&
		test_must_fail git sand rm usr 2>../rm.err &&
		git sand rm -f usr 2>>../rm.err
	) &&
	test_grep "^?? new-file$" status &&
	test_grep "holds work that is not in this repository" rm.err &&
	! grep -e "cannot ask" -e "not all of its work" rm.err &&
	cat >expect <<-\EOF &&
	dev
	1234
	dev
	dev
	wrote
	dev
	dev
	EOF
	test_cmp expect actual &&
	test_grep "^devcontainer.user dev$" show &&
	test_grep "^devcontainer.user dev  *\.devcontainer/devcontainer\.json$" config &&
	test_grep "^dev$" shell &&
	! grep "not running as" err
'

if test "$TEST_RUNTIME" = podman && test "$(id -u)" = 0
then
	test_set_prereq OVERLAY
fi

test_expect_success PODMAN,OVERLAY 'remoteUser: a later sandbox starts from a base that is the user'"'"'s' '
	test_when_finished "dc_images | xargs -r $TEST_RUNTIME rmi -f >/dev/null" &&
	rm -rf repo/.devcontainer &&
	write_dc repo .devcontainer/Dockerfile "FROM $TEST_IMAGE
RUN echo dev:x:1234:1234::/home/sand:/bin/sh >>/etc/passwd && echo dev:x:1234: >>/etc/group" &&
	write_dc repo .devcontainer/devcontainer.json "{ \"build\": { \"dockerfile\": \"Dockerfile\" }, \"remoteUser\": \"dev\" }" &&
	(
		cd repo &&
		echo tracked >tracked.txt &&
		git add tracked.txt &&
		git commit -q -m tracked &&
		git sand new -d --workspace overlay own1 &&
		git sand new -d --workspace overlay own2 &&
		git sand exec own2 sh -c "stat -c %U /app/tracked.txt; echo mine >>/app/tracked.txt; stat -c %U /app/tracked.txt" >../owners &&
		git sand status --porcelain own2 >../status
	) &&
	printf "dev\ndev\n" >expect &&
	test_cmp expect owners &&
	test_grep "^ M tracked.txt$" status &&
	ls "$GIT_SAND_HOME/bases" >bases &&
	test_grep -e "-u1234\.1234$" bases &&
	owned=$(grep -e "-u1234\.1234$" bases) &&
	test "$(stat -c %u:%g "$GIT_SAND_HOME/bases/$owned/tracked.txt")" = 1234:1234 &&
	echo tracked >expect &&
	test_cmp expect "$GIT_SAND_HOME/bases/$owned/tracked.txt" &&
	dir1=$(cd repo && sandbox_field own1 clone) &&
	dir2=$(cd repo && sandbox_field own2 clone) &&
	# The first copied the file up to give it to dev; the second only what it wrote.
	test_path_is_file "${dir1%/app}/upper/one.t" &&
	test_path_is_missing "${dir2%/app}/upper/one.t" &&
	(cd repo && git sand rm -f own1 own2)
'

test_expect_success PODMAN 'a user name that could be an option is refused' '
	write_dc repo .devcontainer/devcontainer.json "{ \"image\": \"$TEST_IMAGE\", \"remoteUser\": \"--privileged\" }" &&
	(cd repo && test_must_fail git sand new -d badusr 2>../err) &&
	test_grep "remoteUser. is not a user name or uid\[:gid\]: .--privileged.$" err
'

test_done

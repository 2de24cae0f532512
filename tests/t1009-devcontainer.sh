#!/bin/sh
test_description='devcontainer.json: found, parsed with comments, refused where it reaches the host, its commands run in the sandbox'
. ./test-lib.sh
test_require_podman --optional

# write_dc <repo> <path> <json>: a devcontainer file in the repository.
write_dc () {
	mkdir -p "$(dirname "$1/$2")" &&
	printf '%s\n' "$3" >"$1/$2"
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

test_done

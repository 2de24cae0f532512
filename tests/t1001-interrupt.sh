#!/bin/sh
test_description='an interrupted or failing new removes everything it made'
. ./test-lib.sh
. "$TEST_DIRECTORY/lib-fake-podman.sh"
test_require_podman

test_expect_success PODMAN 'setup' '
	test_create_repo repo
'

test_expect_success PODMAN 'SIGTERM while the container is being created' '
	pid=$(start_hung_new create term1) &&
	kill -TERM $pid &&
	test "$(wait_new_status)" = 143 &&
	nothing_left
'

test_expect_success PODMAN 'SIGINT while the container is being started' '
	pid=$(start_hung_new start int1) &&
	kill -INT $pid &&
	test "$(wait_new_status)" = 130 &&
	nothing_left
'

test_expect_success PODMAN 'SIGTERM while the image is being checked' '
	pid=$(start_hung_new image img1) &&
	kill -TERM $pid &&
	test "$(wait_new_status)" = 143 &&
	nothing_left
'

test_expect_success PODMAN 'a runtime that fails midway (start) leaves nothing' '
	make_fake_podman start fail &&
	(cd repo && PATH="$TRASH_DIRECTORY/bin-fake:$PATH" test_expect_code 128 git sand new -d midway 2>../err) &&
	test_grep "start exploded" err &&
	nothing_left
'

# A copied workspace is filled while the runtime creates the container:
# either failing, or a signal meanwhile, must still take both apart.
test_expect_success PODMAN 'a copy workspace: a create that fails as the files are copied leaves nothing' '
	make_fake_podman create fail &&
	(
		cd repo &&
		PATH="$TRASH_DIRECTORY/bin-fake:$PATH" \
			test_expect_code 128 git sand new -d --workspace copy cfail 2>../err
	) &&
	test_grep "create exploded" err &&
	nothing_left
'

test_expect_success PODMAN 'a copy workspace: a copy that fails as the container is created leaves nothing' '
	mv repo/.git/info/exclude exclude.saved &&
	test_when_finished "rmdir repo/.git/info/exclude && mv exclude.saved repo/.git/info/exclude" &&
	mkdir repo/.git/info/exclude &&
	(
		cd repo &&
		GIT_SAND_TRACE="$TRASH_DIRECTORY/trace" \
			test_expect_code 128 git sand new -d --workspace copy cfail2 2>../err
	) &&
	test_grep "exclude. is not a regular file" err &&
	test_grep "run: .* .create. " trace &&
	nothing_left
'

test_expect_success PODMAN 'a copy workspace: SIGTERM while the container is being created' '
	pid=$(start_hung create hang new -d --workspace copy cterm) &&
	kill -TERM $pid &&
	test "$(wait_new_status)" = 143 &&
	nothing_left
'

test_expect_success PODMAN 'the name is free again afterwards' '
	(cd repo && git sand new -d term1 && git sand rm -f term1)
'

test_done

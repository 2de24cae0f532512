#!/bin/sh
test_description='every fuzz target survives its corpus: the seeds and every input that once crashed it'
. ./test-lib.sh

for target in names opts-json runtime-json packed-refs loose ssh-config config-params sanitize
do
	test_expect_success "fuzz corpus of $target" '
		"$TEST_DIRECTORY/fuzz/replay-$target" "$TEST_DIRECTORY/fuzz/corpus/$target" >out &&
		test_grep "^replayed [1-9]" out
	'
done

test_done

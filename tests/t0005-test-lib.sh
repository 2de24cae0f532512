#!/bin/sh
test_description='the test library: a script that ends early fails'
. ./test-lib.sh

# A test script of its own, in a directory of its own, using this library.
write_script_ () {
	mkdir -p lib &&
	cp "$TEST_DIRECTORY/test-lib.sh" lib/ &&
	{
		echo "test_description=\"$1\"" &&
		echo ". ./test-lib.sh" &&
		cat
	} >"lib/$1.sh"
}

test_expect_success 'a script that reaches test_done passes' '
	write_script_ t-done <<-\EOF &&
	test_expect_success "one" "true"
	test_done
	EOF
	(cd lib && sh ./t-done.sh >../out) &&
	test_grep "^1..1$" out
'

test_expect_success 'a script that exits before test_done fails, and says so' '
	write_script_ t-early <<-\EOF &&
	test_expect_success "one" "true"
	exit 0
	test_done
	EOF
	(cd lib && test_expect_code 1 sh ./t-early.sh >../out) &&
	test_grep "^ok 1 - one$" out &&
	test_grep "^Bail out! the script ended (status 0) before test_done" out
'

test_expect_success 'a test body that exits the script fails it' '
	write_script_ t-body <<-\EOF &&
	test_expect_success "exits" "exit 0"
	test_done
	EOF
	(cd lib && test_expect_code 1 sh ./t-body.sh >../out) &&
	test_grep "^Bail out!" out
'

test_done

#!/bin/sh
# Test lint: every shell test is executable, named tNNNN-*.sh, and no two
# share a number.
cd "$(dirname "$0")" || exit 1
ret=0
for t in t[0-9]*.sh
do
	case "$t" in
	t[0-9][0-9][0-9][0-9]-*.sh) ;;
	*) echo >&2 "tests/$t: test scripts are named tNNNN-<topic>.sh"; ret=1 ;;
	esac
	test -x "$t" || { echo >&2 "tests/$t: not executable"; ret=1; }
done
dups=$(ls t[0-9][0-9][0-9][0-9]-*.sh 2>/dev/null | cut -c1-5 | sort | uniq -d)
for d in $dups
do
	echo >&2 "tests: more than one test numbered $d:" $(ls $d-*.sh)
	ret=1
done
exit $ret

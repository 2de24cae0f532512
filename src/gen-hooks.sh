#!/bin/sh
# Turn the hook programs in hooks/ into a C table (src/hook-scripts.c).
set -eu
echo '/* Generated from hooks/ by src/gen-hooks.sh: do not edit. */'
echo '#include "hooks.h"'
echo
echo 'const struct hook_script hook_scripts[] = {'
for f in "$@"
do
	printf '\t{ "%s",\n' "$(basename "$f")"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t  "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
done
echo '	{ NULL, NULL },'
echo '};'

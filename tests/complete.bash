#!/bin/bash
# Drive bash completion the way bash does: load git's completion and
# ours, set COMP_WORDS and COMP_CWORD, call git's entry point, print
# COMPREPLY one per line.  usage: complete.bash <word>...  (the last one is
# completed; give '' to complete an empty word)
git_completion=${GIT_COMPLETION:-/usr/share/bash-completion/completions/git}
. "$git_completion" || exit 1
. "$(dirname "$0")/../completions/git-sand.bash" || exit 1
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
__git_wrap__git_main git "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"

# bash completion for git-sand.
#
# git's own completion (git-completion.bash) calls _git_sand for
# "git sand <TAB>"; this file only defines it. Sandbox names come from
# "git sand ls --porcelain".

__git_sand_commands="new shell agent show config exec ls stop start rm fetch status diff log sync sync-host gc hook version"

# Options of each command, as its -h prints them (tests keep them in step).
__git_sand_opts_new="--detach --rm --branch --image= --shell= --agent= --profile= --runtime= --cpus= --memory= --network= --mount= --env-file= --env= --ssh-agent --host= --accept-new-host-key"
__git_sand_opts_agent="--agent="
__git_sand_opts_show=""
__git_sand_opts_config="--profile="
__git_sand_opts_shell="--shell="
__git_sand_opts_exec="--interactive --tty --workdir="
__git_sand_opts_ls="--all --long --porcelain --json"
__git_sand_opts_stop="--all"
__git_sand_opts_start="--all"
__git_sand_opts_rm="--all --force --forget"
__git_sand_opts_fetch="--all --prune --quiet"
__git_sand_opts_status="--porcelain"
__git_sand_opts_diff="--include-uncommitted --branch= --stat"
__git_sand_opts_log=""
__git_sand_opts_sync="--force --sandbox-branch="
__git_sand_opts_sync_host="--all"
__git_sand_opts_gc="--dry-run --all"
__git_sand_opts_hook="--global"
__git_sand_opts_version="--build-options"

__git_sand_names ()
{
	git sand ls --porcelain 2>/dev/null | sed -n 's/^sandbox //p'
}

_git_sand ()
{
	local subcommand opts
	subcommand="$(__git_find_on_cmdline "$__git_sand_commands")"
	if [ -z "$subcommand" ]; then
		case "$cur" in
		-*) __gitcomp "--version --help -C" ;;
		*) __gitcomp "$__git_sand_commands" ;;
		esac
		return
	fi

	case "$cur" in
	--runtime=*)
		__gitcomp "podman docker container" "" "${cur#--runtime=}"
		return
		;;
	--network=*)
		__gitcomp "none host" "" "${cur#--network=}"
		return
		;;
	--agent=*)
		__gitcomp "claude codex gemini opencode" "" "${cur#--agent=}"
		return
		;;
	--env-file=*|--mount=*|--image=*|--shell=*|--cpus=*|--memory=*|--workdir=*)
		return
		;;
	--branch=*|--sandbox-branch=*)
		__git_complete_refs --cur="${cur#*=}"
		return
		;;
	-*)
		eval "opts=\$__git_sand_opts_${subcommand//-/_}"
		__gitcomp "$opts"
		return
		;;
	esac

	case "$prev" in
	-e|--env-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-i|--image|-s|--shell|--cpus|--memory|--mount|-w|--workdir)
		return
		;;
	-b|--branch|--sandbox-branch)
		[ "$subcommand" = diff ] || [ "$subcommand" = sync ] && __git_complete_refs
		return
		;;
	--runtime)
		__gitcomp "podman docker container"
		return
		;;
	--agent)
		__gitcomp "claude codex gemini opencode"
		return
		;;
	--network)
		__gitcomp "none host"
		return
		;;
	esac

	case "$subcommand" in
	hook)
		__gitcomp "install uninstall status"
		;;
	sync)
		# A sandbox, then a host branch.
		if __git_sand_has_name; then
			__git_complete_refs
		else
			__gitcomp_nl "$(__git_sand_names)"
		fi
		;;
	log)
		__git_sand_has_name || __gitcomp_nl "$(__git_sand_names)"
		;;
	shell|agent|show|exec|stop|start|rm|fetch|status|diff|sync-host)
		# exec takes one name, then the command.
		if [ "$subcommand" != stop ] && [ "$subcommand" != start ] &&
		   [ "$subcommand" != agent ] && [ "$subcommand" != show ] &&
		   [ "$subcommand" != rm ] && [ "$subcommand" != fetch ] &&
		   [ "$subcommand" != sync-host ] && __git_sand_has_name; then
			return
		fi
		__gitcomp_nl "$(__git_sand_names)"
		;;
	esac
}

# Whether a sandbox name already follows the subcommand on the command line.
__git_sand_has_name ()
{
	local i seen=
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		-b|--branch|--sandbox-branch|-w|--workdir|-s|--shell) ((i++)) ;;
		-*) ;;
		*)
			if [ -n "$seen" ]; then
				return 0
			fi
			[ "${words[i]}" = "$subcommand" ] && seen=1
			;;
		esac
	done
	return 1
}

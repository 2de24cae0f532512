# bash completion for git-sand.
#
# git's own completion (git-completion.bash) calls _git_sand for
# "git sand <TAB>", after loading this file (installed as
# .../bash-completion/completions/git-sand) with the bash-completion
# package's loader; this file only defines it. Sandbox names come from
# "git sand ls --porcelain".

__git_sand_commands="new run shell agent attach show config exec ls logs wait export-session port net forward ssh-config code stop start rm fetch status diff log sync sync-host gc hook image version"

# Options of each command, as its -h prints them (tests keep them in step).
__git_sand_opts_new="--detach --rm --branch --image= --shell= --agent= --profile= --runtime= --cpus= --memory= --network= --allow= --mount= --env-file= --env= --publish= --ssh-agent --host= --accept-new-host-key --prompt= --prompt-file= --no-session --count= --pull= --workspace= --devcontainer= --no-devcontainer --devcontainer-allow="
__git_sand_opts_run="--detach --prompt= --prompt-file="
__git_sand_opts_logs="--follow --setup"
__git_sand_opts_wait="--any --timeout= --all"
__git_sand_opts_agent="--agent= --no-session"
__git_sand_opts_attach=""
__git_sand_opts_show="--json"
__git_sand_opts_config="--profile= --json"
__git_sand_opts_shell="--shell= --no-session"
__git_sand_opts_exec="--interactive --tty --workdir="
__git_sand_opts_ls="--all --long --porcelain --json"
__git_sand_opts_port="--json"
__git_sand_opts_net="--json --count="
__git_sand_opts_forward=""
__git_sand_opts_export_session=""
__git_sand_opts_ssh_config="--install --uninstall"
__git_sand_opts_code="--print"
__git_sand_opts_stop="--all"
__git_sand_devcontainer_allow="mounts runArgs privileged capAdd securityOpt initializeCommand build.options localEnv"
__git_sand_opts_start="--all --pull="
__git_sand_opts_rm="--all --force --forget"
__git_sand_opts_fetch="--all --prune --quiet"
__git_sand_opts_status="--porcelain"
__git_sand_opts_diff="--include-uncommitted --branch= --stat"
__git_sand_opts_log=""
__git_sand_opts_sync="--force --sandbox-branch="
__git_sand_opts_sync_host="--all"
__git_sand_opts_gc="--dry-run --all"
__git_sand_opts_hook="--global"
__git_sand_opts_image="--agent= --runtime= --devcontainer"
__git_sand_opts_version="--build-options"


# The coding agents of "new --agent" and "agent --agent" (see src/agent.c).
__git_sand_agents="claude codex gemini opencode"

__git_sand_names ()
{
	__git sand ls --porcelain | sed -n 's/^sandbox //p'
}

# The images of the runtime "new" would use (--runtime, else sand.runtime,
# else the first of podman and docker installed): quietly, and only where
# that runtime is installed.
__git_sand_images ()
{
	local rt="" i
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		--runtime=*) rt="${words[i]#--runtime=}" ;;
		--runtime) rt="${words[i+1]}" ;;
		esac
	done
	[ -n "$rt" ] || rt="$(__git config --get sand.runtime)"
	if [ -z "$rt" ]; then
		for i in podman docker; do
			if command -v "$i" >/dev/null 2>&1; then
				rt=$i
				break
			fi
		done
	fi
	case "$rt" in
	podman|docker)
		command -v "$rt" >/dev/null 2>&1 &&
		"$rt" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>'
		;;
	esac
}

# Complete an image name from the value typed so far ($1). Readline
# replaces only what follows its last ':', so that much comes off.
__git_sand_complete_image ()
{
	local cur_="$1" colon="" c list=""
	case "$cur_" in *:*) colon="${cur_%:*}:" ;; esac
	while IFS= read -r c; do
		case "$c" in
		"$cur_"*) list="$list${c#"$colon"}"$'\n' ;;
		esac
	done < <(__git_sand_images)
	__gitcomp_nl "$list" "" "${cur_#"$colon"}"
}

# The words after the subcommand, up to the one being completed, that
# are neither options nor their values, one a line ("--" included).
__git_sand_args ()
{
	local i seen=
	for ((i = 1; i < cword; i++)); do
		if [ -z "$seen" ]; then
			[ "${words[i]}" = "$subcommand" ] && seen=1
			continue
		fi
		case "$subcommand,${words[i]}" in
		*,--)
			echo "--"
			;;
		new,-i|new,--image|new,-a|new,--agent|new,-s|new,--shell|new,-e|new,--env-file|\
		new,--runtime|new,--cpus|new,--memory|new,--network|new,--mount|new,--env|\
		new,-p|new,--publish|new,--profile|new,--host|new,--pull|new,--workspace|start,--pull|\
		new,--devcontainer|new,--devcontainer-allow|config,--profile|shell,-s|shell,--shell|agent,-a|agent,--agent|\
		exec,-w|exec,--workdir|diff,-b|diff,--branch|sync,--sandbox-branch|\
		new,--prompt|new,--prompt-file|new,--count|run,--prompt|run,--prompt-file|wait,--timeout|\
		image,--agent|image,--runtime)
			((i++))
			;;
		*,-*)
			;;
		*)
			echo "${words[i]}"
			;;
		esac
	done
}

_git_sand ()
{
	local subcommand opts args
	subcommand="$(__git_find_on_cmdline "$__git_sand_commands")"
	if [ -z "$subcommand" ]; then
		case "$cur" in
		-*) __gitcomp "--version --help -C" ;;
		*) __gitcomp "$__git_sand_commands" ;;
		esac
		return
	fi
	args="$(__git_sand_args)"

	case "$cur" in
	--runtime=*)
		__gitcomp "podman docker container" "" "${cur#--runtime=}"
		return
		;;
	--network=*)
		__gitcomp "none host" "" "${cur#--network=}"
		return
		;;
	--pull=*)
		__gitcomp "missing always never" "" "${cur#--pull=}"
		return
		;;
	--workspace=*)
		__gitcomp "auto overlay copy" "" "${cur#--workspace=}"
		return
		;;
	--agent=*)
		__gitcomp "$__git_sand_agents" "" "${cur#--agent=}"
		return
		;;
	--image=*)
		__git_sand_complete_image "${cur#--image=}"
		return
		;;
	--env-file=*|--mount=*|--shell=*|--cpus=*|--memory=*|--workdir=*|--prompt=*|--count=*|\
	--timeout=*|--publish=*)
		return
		;;
	--prompt-file=*)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "${cur#--prompt-file=}"))
		return
		;;
	--devcontainer=*)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "${cur#--devcontainer=}"))
		return
		;;
	--devcontainer-allow=*)
		__gitcomp "$__git_sand_devcontainer_allow" "" "${cur#--devcontainer-allow=}"
		return
		;;
	--branch=*|--sandbox-branch=*)
		__git_complete_refs --cur="${cur#*=}"
		return
		;;
	esac

	# An option's value in the next word. Which options take one depends
	# on the command: -i is --image for new, --interactive for exec.
	case "$subcommand,$prev" in
	new,-a|new,--agent|agent,-a|agent,--agent|image,--agent)
		__gitcomp "$__git_sand_agents"
		return
		;;
	new,-i|new,--image)
		__git_sand_complete_image "$cur"
		return
		;;
	new,--devcontainer-allow)
		__gitcomp "$__git_sand_devcontainer_allow"
		return
		;;
	new,-e|new,--env-file|new,--prompt-file|run,--prompt-file|new,--devcontainer)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	new,--runtime)
		__gitcomp "podman docker container"
		return
		;;
	image,--runtime)
		__gitcomp "podman docker"
		return
		;;
	new,--network)
		__gitcomp "none host"
		return
		;;
	new,--pull|start,--pull)
		__gitcomp "missing always never"
		return
		;;
	new,--workspace)
		__gitcomp "auto overlay copy"
		return
		;;
	diff,-b|diff,--branch|sync,--sandbox-branch)
		__git_complete_refs
		return
		;;
	new,-s|new,--shell|shell,-s|shell,--shell|new,--cpus|new,--memory|new,--mount|\
	new,--env|new,--profile|new,--host|config,--profile|exec,-w|exec,--workdir|\
	new,--prompt|new,--count|run,--prompt|wait,--timeout|\
	new,-p|new,--publish)
		return
		;;
	esac

	# After the sandbox (or none), log takes git log's options: git's
	# completion knows them.
	if [ "$subcommand" = log ] && declare -F _git_log >/dev/null; then
		case "$cur,$prev" in
		-*|*,-L|*,-G|*,-S)
			_git_log
			return
			;;
		esac
	fi

	# exec: [<options>] [<name>] -- <command>...; "--" after the name, or
	# instead of it for the worktree's only sandbox. What follows is the
	# command's, left to the shell.
	if [ "$subcommand" = exec ]; then
		case "$args" in
		"")
			case "$cur" in
			-*)
				__gitcomp "$__git_sand_opts_exec"
				[[ "--" == "$cur"* ]] && COMPREPLY+=("-- ")
				;;
			*)
				__gitcomp_nl "$(__git_sand_names)"
				;;
			esac
			;;
		*$'\n'*|--)
			;;
		*)
			[[ "--" == "$cur"* ]] && COMPREPLY=("-- ")
			;;
		esac
		return
	fi

	case "$cur" in
	-*)
		eval "opts=\$__git_sand_opts_${subcommand//-/_}"
		# As git's own hides --no-* until "--no" is typed: the
		# devcontainer options until "--dev" is, so that --de<TAB>
		# is still --detach.
		case "$cur" in
		--dev*) ;;
		*)
			opts=" $opts "
			opts=${opts// --devcontainer= / }
			opts=${opts// --devcontainer-allow= / }
			;;
		esac
		__gitcomp "$opts"
		return
		;;
	esac

	case "$subcommand" in
	hook)
		[ -z "$args" ] && __gitcomp "install uninstall status"
		;;
	port)
		# A sandbox, then add or rm; what follows is a port spec.
		case "$args" in
		"") __gitcomp_nl "$(__git_sand_names)" ;;
		*$'\n'*) ;;
		*) __gitcomp "add rm" ;;
		esac
		;;
	net)
		# A sandbox, then allow or deny; what follows is a host.
		case "$args" in
		"") __gitcomp_nl "$(__git_sand_names)" ;;
		*$'\n'*) ;;
		*) __gitcomp "allow deny" ;;
		esac
		;;
	image)
		[ -z "$args" ] && __gitcomp "build"
		;;
	sync)
		# A sandbox, then a host branch.
		if [ -n "$args" ]; then
			__git_complete_refs
		else
			__gitcomp_nl "$(__git_sand_names)"
		fi
		;;
	export-session)
		# A sandbox, then a new directory.
		if [ -z "$args" ]; then
			__gitcomp_nl "$(__git_sand_names)"
		else
			compopt -o dirnames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
		fi
		;;
	forward)
		# A sandbox, then a port spec.
		[ -z "$args" ] && __gitcomp_nl "$(__git_sand_names)"
		;;
	ssh-config)
		# Any number of sandboxes.
		__gitcomp_nl "$(__git_sand_names)"
		;;
	shell|agent|attach|show|status|diff|log|run|logs|code)
		# One sandbox (then, for diff, paths after "--").
		[ -z "$args" ] && __gitcomp_nl "$(__git_sand_names)"
		;;
	stop|start|rm|fetch|sync-host|wait)
		__gitcomp_nl "$(__git_sand_names)"
		;;
	esac
}

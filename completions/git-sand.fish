# fish completion for git-sand ("git sand ...").

function __git_sand_needs_command
    set -l cmd (commandline -opc)
    test (count $cmd) -eq 2; and test "$cmd[2]" = sand
end

function __git_sand_using
    set -l cmd (commandline -opc)
    test (count $cmd) -ge 3; and test "$cmd[2]" = sand; and contains -- $cmd[3] $argv
end

function __git_sand_names
    git sand ls --porcelain 2>/dev/null | string replace -r -f '^sandbox ' ''
end

# The local images of sand.runtime, else of the first of podman and docker
# installed; nothing where it is not installed.
function __git_sand_images
    set -l rt (git config --get sand.runtime 2>/dev/null)
    if test -z "$rt"
        for r in podman docker
            if type -q $r
                set rt $r
                break
            end
        end
    end
    contains -- "$rt" podman docker; and type -q $rt; or return
    $rt images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | string match -v '*<none>*'
end

# git log's options, as fish completes them for git log.
function __git_sand_log_options
    set -l tok (commandline -ct)
    string match -q -- '-*' $tok; and complete -C "git log $tok"
end

complete -c git -n __git_sand_needs_command -f -a new -d 'Create a sandbox and open a shell'
complete -c git -n __git_sand_needs_command -f -a run -d 'Give the agent a task to run without you'
complete -c git -n __git_sand_needs_command -f -a shell -d 'Open a shell in a sandbox'
complete -c git -n __git_sand_needs_command -f -a agent -d 'Start the coding agent again'
complete -c git -n __git_sand_needs_command -f -a attach -d 'Reattach to a session'
complete -c git -n __git_sand_needs_command -f -a show -d 'Show a sandbox'
complete -c git -n __git_sand_needs_command -f -a config -d 'Settings for new sandboxes'
complete -c git -n __git_sand_needs_command -f -a exec -d 'Run a command in a sandbox'
complete -c git -n __git_sand_needs_command -f -a ls -d 'List sandboxes'
complete -c git -n __git_sand_needs_command -f -a logs -d 'Output of the latest run'
complete -c git -n __git_sand_needs_command -f -a wait -d 'Wait for runs to end'
complete -c git -n __git_sand_needs_command -f -a port -d 'List, publish or withdraw ports'
complete -c git -n __git_sand_needs_command -f -a net -d 'Show or change what a sandbox\'s network allows'
complete -c git -n __git_sand_needs_command -f -a export-session -d 'Copy out an agent\'s transcripts'
complete -c git -n __git_sand_needs_command -f -a forward -d 'Reach a port a sandbox on another host publishes'
complete -c git -n __git_sand_needs_command -f -a ssh-config -d 'Print or install ssh_config blocks'
complete -c git -n __git_sand_needs_command -f -a code -d 'Open VS Code on a sandbox'
complete -c git -n __git_sand_needs_command -f -a stop -d 'Stop sandboxes'
complete -c git -n __git_sand_needs_command -f -a start -d 'Start sandboxes'
complete -c git -n __git_sand_needs_command -f -a rm -d 'Remove sandboxes'
complete -c git -n __git_sand_needs_command -f -a fetch -d 'Fetch sandbox branches'
complete -c git -n __git_sand_needs_command -f -a status -d 'Status of a sandbox worktree'
complete -c git -n __git_sand_needs_command -f -a diff -d 'Compare a host branch with a sandbox'
complete -c git -n __git_sand_needs_command -f -a log -d 'Sandbox commits the host lacks'
complete -c git -n __git_sand_needs_command -f -a sync -d 'Merge a sandbox branch into a host branch'
complete -c git -n __git_sand_needs_command -f -a sync-host -d 'Refresh the mirror'
complete -c git -n __git_sand_needs_command -f -a gc -d 'Repair what interrupted commands left'
complete -c git -n __git_sand_needs_command -f -a hook -d 'Per-branch sandbox hooks'
complete -c git -n '__git_sand_using hook' -f -a 'install uninstall status'
complete -c git -n '__git_sand_using hook' -l global -d 'Use the global core.hooksPath'
complete -c git -n __git_sand_needs_command -f -a image -d 'Build the default or the agents image'
complete -c git -n '__git_sand_using image' -f -a build
complete -c git -n '__git_sand_using image' -l agent -x -a 'claude codex gemini opencode' -d 'Add this coding agent'
complete -c git -n '__git_sand_using image' -l runtime -x -a 'podman docker' -d 'Container runtime'
complete -c git -n '__git_sand_using image' -l devcontainer -d "Build the image of the worktree's devcontainer.json"
complete -c git -n __git_sand_needs_command -f -a version -d 'Print the version'
complete -c git -n '__git_sand_using gc' -s n -l dry-run -d 'Only say what would be removed'
complete -c git -n '__git_sand_using gc' -s a -l all -d 'Every repository'

complete -c git -n '__git_sand_using new' -s a -l agent -x -a 'claude codex gemini opencode' -d 'Coding agent'
complete -c git -n '__git_sand_using agent' -s a -l agent -x -a 'claude codex gemini opencode' -d 'Give it this agent first'
complete -c git -n '__git_sand_using new config' -l profile -x -d 'Settings profile'
complete -c git -n '__git_sand_using new' -l env -x -d 'KEY=VALUE'
complete -c git -n '__git_sand_using new' -l ssh-agent -d 'Forward the ssh-agent'
complete -c git -n '__git_sand_using new' -l no-ssh-agent -d 'Do not forward the ssh-agent'
complete -c git -n '__git_sand_using new' -l devcontainer -r -F -d 'Use this devcontainer.json'
complete -c git -n '__git_sand_using new' -l no-devcontainer -d 'Use no devcontainer.json'
complete -c git -n '__git_sand_using new' -l devcontainer-allow -x -a 'mounts runArgs privileged capAdd securityOpt initializeCommand build.options localEnv' -d 'Let the devcontainer.json use a key'
complete -c git -n '__git_sand_using new' -l host -x -d 'Make it on another machine (ssh://[user@]host[:port])'
complete -c git -n '__git_sand_using new' -l accept-new-host-key -d 'Trust an unknown host key'
complete -c git -n '__git_sand_using new shell agent' -l no-session -d 'In no session to come back to'
complete -c git -n '__git_sand_using shell agent attach show exec export-session port net forward ssh-config code stop start rm fetch status diff log sync sync-host run logs wait' -f -a '(__git_sand_names)'
complete -c git -n '__git_sand_using new run' -l prompt -x -d 'The task for the agent, run without a terminal'
complete -c git -n '__git_sand_using new run' -l prompt-file -r -F -d 'The task, from a file'
complete -c git -n '__git_sand_using new' -l count -x -d 'Make n sandboxes with the same task'
complete -c git -n '__git_sand_using run' -s d -l detach -d 'Return once it has started'
complete -c git -n '__git_sand_using logs' -s f -l follow -d 'Go on until the run ends'
complete -c git -n '__git_sand_using logs' -l setup -d 'Output of the setup command'
complete -c git -n '__git_sand_using wait' -l any -d 'Until one run ends'
complete -c git -n '__git_sand_using wait' -l timeout -x -d 'Give up after that many seconds'
complete -c git -n '__git_sand_using wait' -s a -l all -d 'Every sandbox that has had a run'
complete -c git -n '__git_sand_using port' -l json -d 'JSON output'
complete -c git -n '__git_sand_using net' -l json -d 'JSON output'
complete -c git -n '__git_sand_using net' -s n -l count -x -d 'Recent decisions to show'
complete -c git -n '__git_sand_using net' -f -a 'allow deny' -d 'Open or close a host'
complete -c git -n '__git_sand_using new' -l allow -x -a '@claude @codex @gemini @opencode @npm @pypi @debian @github' -d 'With --network allow: a host it may reach'
complete -c git -n '__git_sand_using ssh-config' -l install -d 'Include every block from ~/.ssh/config'
complete -c git -n '__git_sand_using ssh-config' -l uninstall -d 'Remove that Include line'
complete -c git -n '__git_sand_using code' -l print -d 'Print the command instead'
complete -c git -n '__git_sand_using port' -f -a 'add rm' -d 'Publish or withdraw a port'
complete -c git -n '__git_sand_using new' -s p -l publish -x -d '[IP:][HOST-PORT:]PORT[/PROTO]'
complete -c git -n '__git_sand_using fetch' -s p -l prune -d 'Delete refs of deleted branches'
complete -c git -n '__git_sand_using fetch' -s q -l quiet -d 'Print only errors'
complete -c git -n '__git_sand_using status' -l porcelain -d 'Machine-readable output'
complete -c git -n '__git_sand_using diff' -s u -l include-uncommitted -d 'Include uncommitted work'
complete -c git -n '__git_sand_using diff' -s b -l branch -x -a '(__fish_git_branches)' -d 'Host branch'
complete -c git -n '__git_sand_using diff' -l stat -d 'Show a diffstat'
complete -c git -n '__git_sand_using sync' -l sandbox-branch -x -d 'Sandbox branch'
complete -c git -n '__git_sand_using sync' -s f -l force -d 'Move untracked files in the way aside'
complete -c git -n '__git_sand_using log' -f -a '(__git_sand_log_options)'

complete -c git -n '__git_sand_using new' -s d -l detach -d 'Open no shell'
complete -c git -n '__git_sand_using new' -l rm -d 'Remove when the shell exits'
complete -c git -n '__git_sand_using new' -s b -l branch -d 'Create a branch named after the sandbox'
complete -c git -n '__git_sand_using new' -s i -l image -x -a '(__git_sand_images)' -d 'Container image'
complete -c git -n '__git_sand_using new shell' -s s -l shell -r -d 'Shell to run'
complete -c git -n '__git_sand_using new' -l runtime -x -a 'podman docker container' -d 'Container runtime'
complete -c git -n '__git_sand_using new' -l cpus -x -d 'CPU limit'
complete -c git -n '__git_sand_using new' -l memory -x -d 'Memory limit'
complete -c git -n '__git_sand_using new' -l network -x -a 'none host allow' -d 'Network mode'
complete -c git -n '__git_sand_using new' -l mount -x -d 'SRC:DST[:ro]'
complete -c git -n '__git_sand_using new start' -l pull -x -a 'missing always never' -d 'When to pull the image'
complete -c git -n '__git_sand_using new' -l workspace -x -a 'auto overlay copy' -d 'How /app is made'
complete -c git -n '__git_sand_using new' -s e -l env-file -r -F -d 'Environment file'
complete -c git -n '__git_sand_using exec' -s i -l interactive -d 'Pass stdin even from a terminal'
complete -c git -n '__git_sand_using exec' -s t -l tty -d 'Allocate a terminal'
complete -c git -n '__git_sand_using exec' -s w -l workdir -x -d 'Working directory'
complete -c git -n '__git_sand_using ls' -s a -l all -d 'Every worktree'
complete -c git -n '__git_sand_using ls' -s l -l long -d 'Show clone paths'
complete -c git -n '__git_sand_using ls' -l porcelain -d 'Machine-readable output'
complete -c git -n '__git_sand_using ls' -l json -d 'JSON output'
complete -c git -n '__git_sand_using config show' -l json -d 'JSON output'
complete -c git -n '__git_sand_using stop start rm fetch sync-host' -s a -l all -d 'Every sandbox of this worktree'
complete -c git -n '__git_sand_using rm' -s f -l force -d 'Do not ask'
complete -c git -n '__git_sand_using rm' -l forget -d 'Remove only what is on this machine'
complete -c git -n '__git_sand_using version' -l build-options -d 'Print library versions'

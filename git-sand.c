/*
 * git-sand: disposable container sandboxes for a git worktree.
 *
 * main() handles the global options, finds the repository and the state
 * root, and dispatches to a cmd_* function from the table below.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "cmd.h"
#include "help.h"
#include "msg.h"
#include "path.h"
#include "run.h"

static const struct cmd_struct commands[] = {
	{ "agent", cmd_agent, NEEDS_WORKTREE, "Start a sandbox's coding agent again" },
	{ "attach", cmd_attach, NEEDS_WORKTREE, "Reattach to a sandbox's session" },
	{ "code", cmd_code, NEEDS_WORKTREE, "Open VS Code on a sandbox, over SSH" },
	{ "config", cmd_config, 0, "Show the settings a new sandbox would get, and where from" },
	{ "diff", cmd_diff, NEEDS_WORKTREE, "Show changes between a host branch and a sandbox" },
	{ "exec", cmd_exec, NEEDS_WORKTREE, "Run a command in a sandbox" },
	{ "export-session", cmd_export_session, NEEDS_WORKTREE, "Copy out a sandbox agent's transcripts" },
	{ "fetch", cmd_fetch, NEEDS_WORKTREE, "Fetch a sandbox's branches into sand/<name>/*" },
	{ "forward", cmd_forward, NEEDS_WORKTREE, "Reach a port a sandbox on another host publishes" },
	{ "gc", cmd_gc, 0, "Repair and remove what interrupted commands left behind" },
	{ "hook", cmd_hook, 0, "Install, remove or inspect the per-branch sandbox hooks" },
	{ "image", cmd_image, 0, "Build the default image, or one with coding agents" },
	{ "log", cmd_log, NEEDS_WORKTREE, "Show the sandbox's commits the host branch lacks" },
	{ "logs", cmd_logs, NEEDS_WORKTREE, "Show the output of a sandbox's latest run" },
	{ "ls", cmd_ls, 0, "List sandboxes" },
	{ "net", cmd_net, NEEDS_WORKTREE, "Show or change what a sandbox's network allows" },
	{ "net-proxy", cmd_net_proxy, 0, "Filter a sandbox's network (new and start run it)" },
	{ "new", cmd_new, NEEDS_WORKTREE, "Create a sandbox from this worktree and open a shell" },
	{ "port", cmd_port, NEEDS_WORKTREE, "List, publish or withdraw a sandbox's ports" },
	{ "rm", cmd_rm, NEEDS_WORKTREE, "Remove sandboxes" },
	{ "run", cmd_run, NEEDS_WORKTREE, "Give a sandbox's agent a task to run without you" },
	{ "show", cmd_show, NEEDS_WORKTREE, "Show a sandbox: its options, what it carries" },
	{ "shell", cmd_shell, NEEDS_WORKTREE, "Open an interactive shell in a sandbox" },
	{ "ssh-config", cmd_ssh_config, 0, "Print or install ssh_config blocks for sandboxes" },
	{ "ssh-proxy", cmd_ssh_proxy, 0, "Run a sandbox's sshd over exec (ssh runs it)" },
	{ "start", cmd_start, NEEDS_WORKTREE, "Start sandboxes" },
	{ "status", cmd_status, NEEDS_WORKTREE, "Show the status of a sandbox's worktree" },
	{ "stop", cmd_stop, NEEDS_WORKTREE, "Stop sandboxes" },
	{ "sync", cmd_sync, NEEDS_WORKTREE, "Fetch, then merge a sandbox's branch into a host branch" },
	{ "sync-host", cmd_sync_host, NEEDS_WORKTREE, "Refresh the mirror sandboxes pull host work from" },
	{ "upload-pack", cmd_upload_pack, 0, "Serve a sandbox's branches to git fetch (git runs it)" },
	{ "version", cmd_version, 0, "Print the version" },
	{ "wait", cmd_wait, NEEDS_WORKTREE, "Wait for sandboxes' runs to end" },
};

static const char *const git_sand_usage[] = {
	"git sand [-C <path>] [--version] [-h | --help] <command> [<args>]",
	NULL
};

static void print_commands(FILE *fp)
{
	size_t width = 0;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strlen(commands[i].name) > width)
			width = strlen(commands[i].name);
	print_usage(fp, git_sand_usage, NULL);
	fprintf(fp, "These are the git sand commands:\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(fp, "   %-*s  %s\n", (int)width, commands[i].name, commands[i].help);
	fprintf(fp, "\n'git sand <command> -h' shows a command's options; "
		"'git help sand' shows the manual.\n");
}

/*
 * As git does: a closed stdin, stdout or stderr is /dev/null, so that no
 * file we open takes its number, and the commands we run (podman exec
 * --interactive among them) see an empty input instead of none.
 */
static void sanitize_stdfds(void)
{
	int fd;

	do {
		fd = open("/dev/null", O_RDWR);
	} while (fd >= 0 && fd <= 2);
	if (fd < 0)
		die_errno("cannot open '/dev/null'");
	close(fd);
}

/* As git says it, with the commands most like the one typed. */
static void unknown_command(const char *typed)
{
	const char *names[ARRAY_SIZE(commands)];
	size_t similar[ARRAY_SIZE(commands)], n;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	error("'%s' is not a git sand command. See 'git sand -h'", typed);
	n = help_similar(similar, typed, names, ARRAY_SIZE(commands));
	if (!n)
		return;
	fprintf(stderr, "\n%s\n", n == 1 ? "The most similar command is" :
		"The most similar commands are");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "\t%s\n", names[similar[i]]);
}

static __attribute__((noreturn)) void open_manual(void)
{
	struct child c = CHILD_INIT;

	argv_pushl(&c.args, "git", "help", "sand", NULL);
	run_exec(&c);
	die_errno("cannot run 'git help sand'");
}

/*
 * The options before the command: -C <dir>, -h, --help and --version.
 * Returns -1 to go on with the command in (*argv)[0], else the exit code.
 */
static int handle_global_options(int *argcp, const char ***argvp)
{
	int argc = *argcp;
	const char **argv = *argvp;

	while (argc > 0 && argv[0][0] == '-') {
		const char *a = argv[0];

		if (!strcmp(a, "--version")) {
			argv[0] = "version";
			break;
		} else if (!strcmp(a, "-h")) {
			print_commands(stdout);
			return EXIT_USAGE;
		} else if (!strcmp(a, "--help")) {
			open_manual();
		} else if (!strcmp(a, "-C")) {
			if (argc < 2) {
				error("option '-C' requires a value");
				print_usage(stderr, git_sand_usage, NULL);
				return EXIT_USAGE;
			}
			if (*argv[1] && chdir(argv[1]) < 0)
				die_errno("cannot change to '%s'", argv[1]);
			argv += 2;
			argc -= 2;
		} else {
			error("unknown option '%s'", a);
			print_usage(stderr, git_sand_usage, NULL);
			return EXIT_USAGE;
		}
	}
	*argcp = argc;
	*argvp = argv;
	return -1;
}

static const struct cmd_struct *find_command(const char *name)
{
	const struct cmd_struct *cmd = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			cmd = &commands[i];
	return cmd;
}

/* libgit2, the repository around us as cmd needs it, the state root. */
static void setup_context(struct cmd_ctx *ctx, const struct cmd_struct *cmd,
			  int argc, const char **argv)
{
	if (git_libgit2_init() < 0)
		die("cannot initialise libgit2");
	/* The host's own repositories are trusted; clones are never opened for their config. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 1);
	/*
	 * libgit2 reads packs through mappings of up to 1 GiB each, 8 GiB in
	 * all, and what it has read of them counts in our memory until they
	 * are unmapped: indexing the pack of a fetch, it would hold all of it.
	 * Smaller windows, and few at once: no command here needs more.
	 */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)16 << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)64 << 20);

	if (sand_repo_open(&ctx->r) < 0)
		die("cannot open the repository");
	/* Let -h work anywhere, as git's commands do. */
	if ((cmd->flags & NEEDS_WORKTREE) &&
	    !(argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))))
		ctx_require_worktree(ctx);
	if (sand_state_root(&ctx->root, ctx->r.config) < 0)
		die("cannot use git-sand's state directory");
	ctx_read_limits(ctx);
}

static void teardown_context(struct cmd_ctx *ctx)
{
	store_close(ctx->store);
	sand_repo_clear(&ctx->r);
	strbuf_release(&ctx->root);
	git_libgit2_shutdown();
}

int main(int argc, const char **argv)
{
	const struct cmd_struct *cmd;
	struct cmd_ctx ctx = { .root = STRBUF_INIT };
	int ret;

	/* A closed pipe (git sand ls | head) is a write error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	sanitize_stdfds();

	argv++;
	argc--;
	if ((ret = handle_global_options(&argc, &argv)) >= 0)
		return ret;
	if (argc < 1) {
		print_commands(stdout);
		return EXIT_USAGE;
	}
	if (!(cmd = find_command(argv[0]))) {
		unknown_command(argv[0]);
		return EXIT_USAGE;
	}

	setup_context(&ctx, cmd, argc, argv);
	ret = cmd->fn(argc, argv, &ctx);
	teardown_context(&ctx);

	/* As git does: output that could not be written is an error... */
	errno = 0;
	if ((fflush(stdout) || ferror(stdout)) && errno != EPIPE) {
		if (!errno)
			errno = EIO;
		die_errno("write failure on standard output");
	}
	/* ...except to a reader that went away (git sand ls | head). */
	return ret;
}

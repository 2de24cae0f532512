/*
 * git sand image build: build the default image, or the agents image on
 * it, with the build files git-sand came with (see image.h), for users
 * who have no checkout to run "make image" in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "devcontainer.h"
#include "image.h"
#include "msg.h"
#include "run.h"

#define IMAGE_USAGE_BUILD "git sand image build [--agent <agent>]... [--runtime <runtime>]"
#define IMAGE_USAGE_BUILD_DC "git sand image build --devcontainer [--runtime <runtime>]"

static const char *const image_usage[] = { IMAGE_USAGE_BUILD, IMAGE_USAGE_BUILD_DC, NULL };

struct build_opts {
	struct string_list agents;	/* each once, in the order given */
	const char *runtime;
	int devcontainer;
};

/*
 * image build --devcontainer: the image new would build from this
 * worktree's devcontainer.json, built now (or found built).
 */
static int image_build_devcontainer(struct cmd_ctx *ctx, const struct build_opts *o)
{
	struct devcontainer dc = DEVCONTAINER_INIT;
	struct devcontainer_allow allow = DEVCONTAINER_ALLOW_INIT;
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT, image = STRBUF_INIT;
	struct runtime rt;
	char *configured = NULL;
	int found;

	if (!ctx->r.worktree)
		die("'git sand image build --devcontainer' builds the image of a worktree's "
		    "devcontainer.json: run it in one");
	found = devcontainer_find(&path, ctx->r.worktree, NULL);
	if (found < 0)
		die("cannot choose a devcontainer file");
	if (found > 0)
		die("this worktree has no devcontainer.json");
	if (devcontainer_allow_init(&allow, NULL, ctx->r.config) < 0)
		die("cannot use these devcontainer allowances");
	if (devcontainer_load(&dc, ctx->r.worktree, path.buf, &allow, &why) < 0)
		die("%s", why.buf);
	devcontainer_warn(&dc);
	if (!dc.has_build)
		die("'%s' builds no image: it names '%s'", path.buf, dc.image ? dc.image : "none");
	if (!o->runtime)
		configured = ctx_config(ctx, "sand.runtime");
	ctx_runtime(&rt, o->runtime ? o->runtime : configured);
	if (devcontainer_build_image(&rt, &dc, ctx->r.worktree, isatty(2), &image) < 0)
		die("cannot build the image of '%s'", path.buf);
	printf("Built '%s'\n", image.buf);
	runtime_clear(&rt);
	devcontainer_clear(&dc);
	devcontainer_allow_clear(&allow);
	strbuf_release(&path);
	strbuf_release(&why);
	strbuf_release(&image);
	free(configured);
	return 0;
}

static int image_build(struct cmd_ctx *ctx, const struct build_opts *o)
{
	const char *image = o->agents.nr ? IMAGE_AGENTS : IMAGE_DEFAULT;
	struct child c = CHILD_INIT;
	struct strbuf dir = STRBUF_INIT, how = STRBUF_INIT;
	struct runtime rt;
	char *configured = NULL;
	int status;

	if (!o->runtime)
		configured = ctx_config(ctx, "sand.runtime");
	ctx_runtime(&rt, o->runtime ? o->runtime : configured);
	if (strcmp(rt.ops->name, "podman") && strcmp(rt.ops->name, "docker"))
		die("'git sand image build' builds with podman or docker, not '%s'", rt.ops->name);
	if (image_files_dir(&dir) < 0)
		die("cannot find the image's build files");

	image_build_args(&c.args, dir.buf, rt.program, &o->agents);
	/* The build's output is the user's to read, and so is ^C. */
	c.foreground = 1;
	status = run_child(&c);
	if (status < 0)
		die("cannot build '%s'", image);
	if (status) {
		child_describe(&c, &how);
		die("the build of '%s' failed: '%s' %s", image, c.args.v[0], how.buf);
	}
	printf("Built '%s'\n", image);
	if (o->agents.nr) {
		hint("new sandboxes get it with 'git sand new -i %s', or once for all", image);
		hint("with 'git config --global sand.image %s'", image);
	}
	child_clear(&c);
	runtime_clear(&rt);
	strbuf_release(&dir);
	strbuf_release(&how);
	free(configured);
	return 0;
}

int cmd_image(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct build_opts o = { .agents = STRING_LIST_INIT };
	struct string_list given = STRING_LIST_INIT;
	const struct option options[] = {
		OPT_LIST(0, "agent", &given, "agent",
			 "add that agent (claude, codex, gemini, opencode; repeatable)"),
		OPT_STRING(0, "runtime", &o.runtime, "runtime", "podman or docker (sand.runtime)"),
		OPT_BOOL(0, "devcontainer", &o.devcontainer,
			 "build the image of this worktree's devcontainer.json instead"),
		OPT_END(),
	};
	int ret;

	argc = parse_options_or_usage(argc, argv, options, image_usage,
				      PARSE_OPT_STOP_AT_NON_OPTION);
	if (argc < 1)
		usage_with_options(image_usage, options);
	if (strcmp(argv[0], "build")) {
		error("unknown subcommand: '%s'", argv[0]);
		usage_with_options(image_usage, options);
	}
	argc = parse_options_or_usage(argc, argv, options, image_usage, 0);
	if (argc)
		usage_with_options(image_usage, options);
	if (o.devcontainer && given.nr)
		die("options '--devcontainer' and '--agent' cannot be used together");
	if (o.devcontainer) {
		ret = image_build_devcontainer(ctx, &o);
		string_list_clear(&given);
		return ret;
	}
	for (size_t i = 0; i < given.nr; i++) {
		const struct agent *agent = agent_find(given.items[i]);

		if (!agent)
			die("unknown agent '%s' (known: %s)", given.items[i], agent_names());
		if (string_list_find(&o.agents, agent->name) < 0)
			string_list_append(&o.agents, agent->name);
	}
	ret = image_build(ctx, &o);
	string_list_clear(&given);
	string_list_clear(&o.agents);
	return ret;
}

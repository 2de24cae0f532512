/*
 * The images git-sand builds: where their build files are, the build
 * script's command line, and what to tell a user whose image lacks an
 * agent. The images themselves are images/default/build.sh's business.
 */
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "image.h"
#include "msg.h"
#include "path.h"

/* Where "make install" puts the build files (the Makefile says). */
#ifndef GIT_SAND_IMAGES_DIR
#define GIT_SAND_IMAGES_DIR "/usr/local/share/git-sand/images"
#endif

static int has_build_script(const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	int ok;

	strbuf_addf(&path, "%s/default/build.sh", dir);
	ok = !access(path.buf, X_OK);
	strbuf_release(&path);
	return ok;
}

int image_files_dir(struct strbuf *out)
{
	static const char *const beside[] = { "images", "../share/git-sand/images" };
	struct strbuf exe = STRBUF_INIT;
	int ret = 0;

	if (!path_self_exe(&exe)) {
		char *slash = strrchr(exe.buf, '/');

		strbuf_setlen(&exe, slash ? (size_t)(slash - exe.buf) : 0);
		for (size_t i = 0; exe.len && i < ARRAY_SIZE(beside); i++) {
			path_join(out, exe.buf, beside[i]);
			if (has_build_script(out->buf))
				goto done;
		}
	}
	strbuf_reset(out);
	strbuf_addstr(out, GIT_SAND_IMAGES_DIR);
	if (!has_build_script(out->buf))
		ret = error("cannot find git-sand's image files: no default/build.sh in '%s' "
			    "nor beside '%s'", GIT_SAND_IMAGES_DIR, exe.len ? exe.buf : "git-sand");
done:
	strbuf_release(&exe);
	return ret;
}

void image_build_args(struct argv *out, const char *dir, const char *program,
		      const struct string_list *agents)
{
	argv_pushf(out, "%s/default/build.sh", dir);
	for (size_t i = 0; agents && i < agents->nr; i++)
		argv_pushl(out, "--agent", agents->items[i], NULL);
	argv_push(out, program);
}

void image_hint_agent(const char *image, const char *agent)
{
	if (image && !strcmp(image, IMAGE_AGENTS)) {
		hint("'%s' was built without it: build it again with", IMAGE_AGENTS);
		hint("'git sand image build --agent %s' (one --agent for each agent it should have)",
		     agent);
		return;
	}
	hint("'%s' has it, once built with 'git sand image build --agent %s';", IMAGE_AGENTS,
	     agent);
	hint("use it with 'git sand new -i %s', or for every new sandbox", IMAGE_AGENTS);
	hint("with 'git config --global sand.image %s'", IMAGE_AGENTS);
}

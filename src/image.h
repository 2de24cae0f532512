#ifndef IMAGE_H
#define IMAGE_H

#include "strbuf.h"
#include "string-list.h"

/*
 * The images git-sand builds (images/default/build.sh names the same):
 * the default one, and the agents image on it.
 */
#define IMAGE_DEFAULT "localhost/git-sand-default:latest"
#define IMAGE_AGENTS "localhost/git-sand-agents:latest"

/*
 * Where the image build files are (default/build.sh, its Containerfile
 * and the agents' pinned versions): the images/ directory beside this
 * program in its build tree, else ../share/git-sand/images from its
 * directory (an installed tree moved elsewhere), else the directory
 * "make install" put them in. 0, or -1 with a message.
 */
int image_files_dir(struct strbuf *out);

/*
 * The build script's command line, for program (the runtime's CLI) and
 * the agents to add: <dir>/default/build.sh [--agent <agent>]... <program>.
 */
struct argv;
void image_build_args(struct argv *out, const char *dir, const char *program,
		      const struct string_list *agents);

/*
 * The hints for a sandbox whose image lacks an agent's command: which
 * image has it, how to build and use it.
 */
void image_hint_agent(const char *image, const char *agent);

#endif

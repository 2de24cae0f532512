#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "copy.h"
#include "msg.h"
#include "path.h"
#include "transcript.h"

/*
 * The agent's transcript directory of the sandbox, opened without
 * following any link: a descriptor, -2 when there is none (not written,
 * or not a directory), -1 with a message.
 */
static int transcript_open(const struct sandbox *sb, const struct agent *agent)
{
	struct strbuf rel = STRBUF_INIT;
	int top, fd, e;

	strbuf_addf(&rel, "home/%s", agent->transcripts);
	top = open(sb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = top < 0 ? -1 : open_dir_beneath(top, rel.buf, rel.len);
	e = errno;
	if (top >= 0)
		close(top);
	strbuf_release(&rel);
	if (fd >= 0)
		return fd;
	if (e == ENOENT || e == ENOTDIR || e == ELOOP)
		return -2;
	errno = e;
	return error_errno("cannot open the transcripts of sandbox '%s'", sb->name);
}

/* The sandbox's agent, if it has one whose transcripts we know. */
static const struct agent *transcript_agent(const struct sandbox *sb)
{
	const struct agent *agent = sb->opts.agent ? agent_find(sb->opts.agent) : NULL;

	return agent && agent->transcripts ? agent : NULL;
}

int transcript_keep(const char *root, const struct sandbox *sb, struct strbuf *kept)
{
	const struct agent *agent = transcript_agent(sb);
	struct stat st;
	int fd;

	strbuf_reset(kept);
	if (sb->host || !agent)
		return 0;
	fd = transcript_open(sb, agent);
	if (fd < 0)
		return fd == -2 ? 0 : -1;
	strbuf_addf(kept, "%s/transcripts", root);
	if (mkdir(kept->buf, 0700) < 0 && errno != EEXIST) {
		close(fd);
		return error_errno("cannot create '%s'", kept->buf);
	}
	strbuf_addf(kept, "/%s.%s", sb->name, sb->id);
	/*
	 * An interrupted removal kept them before it took anything apart:
	 * what is left now could only be less.
	 */
	if (!lstat(kept->buf, &st)) {
		close(fd);
		return 1;
	}
	/* What was kept before a failure stays: it is all there is. */
	if (snapshot_tree(fd, kept->buf, SNAPSHOT_LINK) < 0)
		return error("cannot keep all the transcripts of sandbox '%s' (what was "
			     "kept is in '%s')", sb->name, kept->buf);
	return 1;
}

int transcript_export(const struct sandbox *sb, const char *dst)
{
	const struct agent *agent = transcript_agent(sb);
	struct stat st;
	int fd;

	if (!lstat(dst, &st))
		return error("'%s' already exists", dst);
	if (errno != ENOENT)
		return error_errno("cannot use '%s'", dst);
	if (sb->host)
		return error("the transcripts of sandbox '%s' are on '%s'", sb->name, sb->host);
	if (!agent)
		return error("sandbox '%s' has no agent", sb->name);
	fd = transcript_open(sb, agent);
	if (fd == -2)
		return error("the agent of sandbox '%s' has written no transcripts (~/%s)",
			     sb->name, agent->transcripts);
	if (fd < 0)
		return -1;
	/* What was copied before a failure stays, for the user to look at. */
	if (snapshot_tree(fd, dst, 0) < 0)
		return error("cannot export all the transcripts of sandbox '%s'", sb->name);
	return 0;
}

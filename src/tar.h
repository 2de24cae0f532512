#ifndef TAR_H
#define TAR_H

#include <sys/stat.h>

#include "strbuf.h"

/*
 * A tar (POSIX ustar, with pax headers for long names and big files)
 * writer that produces the archive piece by piece, for streaming it over
 * a channel without a temporary file. Entries are added first (cheap:
 * names and lstat data), the content read as the stream is pulled.
 */
struct tar_entry {
	char *name;		/* path inside the archive */
	char *src;		/* file to read (regular) or link target (symlink) */
	char *data;		/* or the content itself, when src is NULL */
	size_t data_len;
	mode_t mode;		/* S_IFREG/S_IFDIR/S_IFLNK | permissions */
	off_t size;
	time_t mtime;
};

struct tar_stream {
	struct tar_entry *v;
	size_t nr, alloc;
	/* Where the stream is. */
	size_t cur;
	int fd;
	off_t left, padding;
	int header_done, finished;
	size_t files, bytes;	/* what went out, for the caller's report */
	/*
	 * Where given, called by tar_add_tree for each directory under
	 * which nothing was added, with skip's data and its relative path:
	 * 1 leaves the directory out as well.
	 */
	int (*drop_empty_dir)(void *data, const char *rel);
};

#define TAR_STREAM_INIT { .fd = -1 }

/*
 * Add a directory tree found at src (directories, regular files, links as
 * links; nothing else) under the archive prefix; no link is followed.
 * skip, when given, is called with each path relative to src and its
 * lstat data and returns 1 to leave it out (a directory: with its tree).
 */
int tar_add_tree(struct tar_stream *t, const char *src, const char *prefix,
		 int (*skip)(void *data, const char *rel, const struct stat *st), void *data);
/* Add one file from memory. */
void tar_add_data(struct tar_stream *t, const char *name, const char *data, size_t len,
		  mode_t mode);
/*
 * Add a whiteout for name: a character device 0/0, which an overlay's
 * upper layer holds for a path its lower layer has and the mount does
 * not show (tar -x run as root makes it).
 */
void tar_add_whiteout(struct tar_stream *t, const char *name);
/*
 * Append the next piece of the archive to out. Returns 1 while there is
 * more, 0 at the end (after the final blocks), -1 on error (a message).
 */
int tar_stream_feed(void *tar_stream, struct strbuf *out);
/* Move the entries of from (not yet fed) to the end of t's. */
void tar_append(struct tar_stream *t, struct tar_stream *from);
void tar_stream_clear(struct tar_stream *t);

#endif

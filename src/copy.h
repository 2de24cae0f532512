#ifndef COPY_H
#define COPY_H

#include <sys/types.h>

/*
 * Copying files and trees of files: copy-on-write where the filesystem
 * offers it (FICLONE, clonefile, copy_file_range), else read and write.
 */

/* The flags of copy_file. */
#define COPY_FOLLOW (1 << 0)		/* src may be a symbolic link (the user's own files) */
#define COPY_TIMES (1 << 1)		/* keep its access and modification times */
#define COPY_MISSING_OK (1 << 2)	/* a missing src is not an error */
/* The flags of copy_tree. */
#define COPY_PROGRESS (1 << 3)		/* count files and bytes on stderr */
#define COPY_NO_DOT_GIT (1 << 4)	/* leave out src's own .git (at its top only) */

/*
 * Copy a regular file with its mode (COPY_FOLLOW, COPY_TIMES,
 * COPY_MISSING_OK), replacing dst.
 */
int copy_file(const char *src, const char *dst, unsigned flags);

/*
 * Copy the tree of files under directory src into directory dst, which is
 * created (0700) if missing: regular files, directories and symbolic links
 * (as links), with their modes and times; anything else is skipped with a
 * warning. Nothing in dst may have the name of what is copied. Flags:
 * COPY_PROGRESS, COPY_NO_DOT_GIT. Stops, failing, when a cleanup signal
 * comes (see msg.h), leaving what it copied for the caller to remove.
 */
int copy_tree(const char *src, const char *dst, unsigned flags);

/* copy_tree(src, dst, 0). */
int copy_directory(const char *src, const char *dst);

/*
 * Copy the directory open at sfd (which this consumes) into dst, which it
 * creates: regular files and directories only, never following or copying
 * a symbolic link, so what is read from a sandbox cannot lead outside it.
 * With SNAPSHOT_LINK, files are hard-linked where the filesystem allows
 * (same inode, so the copy costs nothing; only for what nobody writes to
 * any more), else copied.
 */
#define SNAPSHOT_LINK (1 << 0)
int snapshot_tree(int sfd, const char *dst, unsigned flags);

/* Copy one regular file: FICLONE, else copy_file_range, else read/write. */
int copy_file_fd(int src, int dst, off_t size);

#endif

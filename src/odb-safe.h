#ifndef ODB_SAFE_H
#define ODB_SAFE_H

#include <git2.h>
#include <git2/sys/odb_backend.h>

/*
 * A read-only object backend for the loose objects of an untrusted
 * repository. It reads through a directory file descriptor, one path
 * component at a time with O_NOFOLLOW, so no symbolic link the sandbox
 * plants (in place of an object, or of one of the 256 fan-out
 * directories) is ever followed, and nothing needs to be copied first.
 * Objects are size-checked against their header and hashed by libgit2.
 *
 * objects_fd is duplicated; the caller keeps its own.
 */
int safe_loose_backend_new(git_odb_backend **out, int objects_fd);

/*
 * The parser alone (for tests and fuzzing): inflate raw loose-object bytes;
 * the data is allocated for be. 0, or -1 with a libgit2 error.
 */
int safe_loose_parse(git_odb_backend *be, const unsigned char *raw, size_t rawlen,
		     int header_only, void **data, size_t *len, git_object_t *type);

/*
 * The largest object a sandbox may hand the host (sand.maxObjectSize):
 * every object is read whole into memory by libgit2, so a small file that
 * inflates to gigabytes (or a sparse one) must be refused before that.
 * Checked against the object's header, before anything is inflated, by
 * both backends here. Past it, reading fails with a libgit2 error that
 * names the setting.
 */
#define SAFE_OBJECT_MAX_DEFAULT ((size_t)64 << 20)
extern size_t safe_object_max;

/*
 * A wrapper of another read-only backend (the sandbox's packs) that
 * refuses objects larger than safe_object_max, asking for the header
 * first. It takes over inner.
 */
int safe_limit_backend_new(git_odb_backend **out, git_odb_backend *inner);

/*
 * A backend that only writes packs, through inner's writepack (the host's
 * packs), checking each object of a pack as it arrives: no entry larger
 * than safe_object_max, and no delta whose result would be, from their
 * headers, before libgit2's indexer holds any of it. For the packs a
 * sandbox on an SSH host sends; add it above the repository's own
 * backends. It takes over inner.
 */
int safe_pack_writer_new(git_odb_backend **out, git_odb_backend *inner);

#endif

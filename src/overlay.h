#ifndef OVERLAY_H
#define OVERLAY_H

#include <git2.h>
#include <sys/types.h>

#include "string-list.h"
#include "strbuf.h"

/*
 * Overlay workspaces: a sandbox's /app is an overlay mount of a read-only
 * base tree, the checkout of the worktree's HEAD tree shared by every
 * sandbox made from that tree on this machine (<root>/bases/<tree id>),
 * under an upper layer of its own (<sandbox dir>/upper) that starts with
 * the worktree's differences from that tree (modified, staged, untracked
 * and ignored files, and a whiteout for each deleted one) and takes every
 * write. Its .git is the clone's, as for a copied workspace, mounted at
 * /app/.git beside the overlay, so that the host reads it as before.
 *
 * The kernel keeps the base as it is whatever the sandbox does: writes go
 * to a copy in the upper layer. A new sandbox costs the checkout once per
 * tree, then only what the user changed.
 */
#define OVERLAY_BASES "bases"
#define OVERLAY_UPPER "upper"
#define OVERLAY_WORK "overlay-work"
/* On a host: the tree an overlay sandbox's directory uses as its base. */
#define OVERLAY_BASE_REF "base"

/*
 * Who owns the files of a base, where not root: the user a devcontainer
 * makes the sandbox's commands run as. Given /app at start, a sandbox
 * would otherwise copy every file of the base up to its upper layer.
 */
struct overlay_owner {
	uid_t uid;
	gid_t gid;
};

/*
 * The layers of an overlay workspace for the worktree of repo: the base
 * of its HEAD tree under root, made if missing (checked out apart, then
 * renamed into place: a concurrent maker's is as good), its path in base;
 * and upper, made and filled with the worktree's differences from that
 * tree: files as they are there (regular files with their modes and
 * times, symbolic links as links), a whiteout for each path of the tree
 * the worktree no longer has.
 *
 * Where the ignored files are many or large (node_modules, build
 * output), they go into a base of their own instead, the tree's base
 * with them added (hard links to the tree's files, copies of theirs),
 * named by the tree and by the ignored files' paths and stat data:
 * the sandboxes made while those stay as they are share it. With an
 * owner, the base is a copy of that one whose files are the owner's
 * (named by it, shared as well). With progress, counts what was copied
 * on stderr. 0, or -1 with a message.
 */
int overlay_layers(git_repository *repo, const char *root, const char *worktree,
		   const char *upper, const struct overlay_owner *owner, int progress,
		   struct strbuf *base);

/*
 * Give the entries of the index at index_path that the upper layer does
 * not hold the size and times of their files in base: the host's index
 * recorded those of the host's files, and a clean entry is the base's
 * file, byte for byte. Those it holds keep the host's, unless the host's
 * git would not trust them (worktree is the host's). So the first git
 * status in the sandbox re-reads no more than one on the host would.
 * 0, or -1 with a message.
 */
int overlay_index_restat(const char *index_path, const char *worktree, const char *base,
			 const char *upper);

/*
 * Remove the bases under root whose paths are not in used; with dry_run,
 * only name them. The number removed (or that would be), or -1.
 */
int overlay_gc_bases(const char *root, const struct string_list *used, int dry_run);

#endif

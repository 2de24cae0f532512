#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone.h"
#include "copy.h"
#include "gitutil.h"
#include "msg.h"
#include "path.h"


/* Copy a file from the host git dir, if it exists; keep its mtime. */
static int copy_git_file(const char *srcdir, const char *name, const char *dstdir)
{
	struct strbuf s = STRBUF_INIT, d = STRBUF_INIT;
	int ret;

	path_join(&s, srcdir, name);
	path_join(&d, dstdir, name);
	ret = copy_file(s.buf, d.buf, COPY_TIMES | COPY_MISSING_OK);
	strbuf_release(&s);
	strbuf_release(&d);
	return ret;
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return error_errno("cannot create '%s'", path);
	w = write(fd, data, len);
	if (w != (ssize_t)len || close(fd) < 0) {
		if (w >= 0 && w != (ssize_t)len)
			errno = ENOSPC;
		return error_errno("cannot write '%s'", path);
	}
	return 0;
}

struct ref_line {
	char *name;
	git_oid oid;
};

static int cmp_ref_line(const void *a, const void *b)
{
	return strcmp(((const struct ref_line *)a)->name, ((const struct ref_line *)b)->name);
}

/*
 * Write the clone's refs as one packed-refs file: branches, tags and the
 * stash as on the host, and origin's remote-tracking branches (the mirror
 * has the host's branches).
 */
static int write_refs(git_repository *repo, const char *dest_git, const char *new_branch)
{
	git_oid head;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	struct ref_line *lines = NULL;
	size_t nr = 0, alloc = 0;
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	int err, ret = -1;

	if (git_reference_iterator_new(&it, repo) < 0) {
		error_lg2("cannot read the host repository's refs");
		goto done;
	}
	while (!(err = git_reference_next(&ref, it))) {
		const char *name = git_reference_name(ref), *rest;
		const git_oid *oid = git_reference_target(ref);

		if (oid && (starts_with(name, "refs/heads/") || starts_with(name, "refs/tags/") ||
			    !strcmp(name, "refs/stash"))) {
			ALLOC_GROW(lines, nr + 1, alloc);
			lines[nr].name = xstrdup(name);
			git_oid_cpy(&lines[nr].oid, oid);
			nr++;
			if (skip_prefix(name, "refs/heads/", &rest)) {
				ALLOC_GROW(lines, nr + 1, alloc);
				lines[nr].name = xstrfmt("refs/remotes/origin/%s", rest);
				git_oid_cpy(&lines[nr].oid, oid);
				nr++;
			}
		}
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER) {
		error_lg2("cannot read the host repository's refs");
		goto done;
	}
	git_error_clear();
	if (new_branch && !git_reference_name_to_id(&head, repo, "HEAD")) {
		ALLOC_GROW(lines, nr + 1, alloc);
		lines[nr].name = xstrfmt("refs/heads/%s", new_branch);
		git_oid_cpy(&lines[nr].oid, &head);
		nr++;
	}
	git_error_clear();
	if (nr)
		qsort(lines, nr, sizeof(*lines), cmp_ref_line);
	strbuf_addstr(&sb, "# pack-refs with: sorted \n");
	for (size_t i = 0; i < nr; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &lines[i].oid);
		strbuf_addf(&sb, "%s %s\n", hex, lines[i].name);
	}
	path_join(&path, dest_git, "packed-refs");
	ret = write_file(path.buf, sb.buf, sb.len, 0644);
done:
	for (size_t i = 0; i < nr; i++)
		free(lines[i].name);
	free(lines);
	git_reference_iterator_free(it);
	strbuf_release(&sb);
	strbuf_release(&path);
	return ret;
}

/*
 * The clone's HEAD: the host worktree's, symbolic or detached. Sets
 * *branch to the checked-out branch's short name (or NULL when detached).
 */
static int write_head(git_repository *repo, const char *dest_git, const char *new_branch,
		      char **branch)
{
	git_reference *head = NULL;
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	const char *short_name;
	int ret = -1;

	*branch = NULL;
	if (git_reference_lookup(&head, repo, "HEAD") < 0) {
		error_lg2("cannot read HEAD");
		goto done;
	}
	if (new_branch) {
		strbuf_addf(&sb, "ref: refs/heads/%s\n", new_branch);
	} else if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *target = git_reference_symbolic_target(head);

		strbuf_addf(&sb, "ref: %s\n", target);
		if (skip_prefix(target, "refs/heads/", &short_name))
			*branch = xstrdup(short_name);
	} else {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), git_reference_target(head));
		strbuf_addf(&sb, "%s\n", hex);
	}
	path_join(&path, dest_git, "HEAD");
	ret = write_file(path.buf, sb.buf, sb.len, 0644);
done:
	git_reference_free(head);
	strbuf_release(&sb);
	strbuf_release(&path);
	return ret;
}

/*
 * The settings a clone keeps from the host: only those that change how
 * the working tree and index are read, and who commits. Nothing that names
 * a program, a credential, a path on the host or an include.
 */
static const char *const kept_config[] = {
	"core.autocrlf", "core.eol", "core.safecrlf", "core.ignorecase",
	"core.precomposeunicode", "core.symlinks", "core.filemode", "core.quotepath",
	"extensions.objectformat", "user.name", "user.email",
};

/*
 * Submodules the host has initialised are initialised in the clone too,
 * with the URL .gitmodules gives (never a host path from .git/config).
 */
struct submodule_copy {
	git_config *cfg;
	int failed;
};

static int copy_submodule(git_submodule *sm, const char *name, void *payload)
{
	struct submodule_copy *sc = payload;
	struct strbuf key = STRBUF_INIT;
	unsigned int status = 0;
	const char *url = git_submodule_url(sm);

	if (git_submodule_location(&status, sm) < 0 || !url ||
	    !(status & GIT_SUBMODULE_STATUS_IN_CONFIG)) {
		git_error_clear();
		goto done;
	}
	strbuf_addf(&key, "submodule.%s.url", name);
	if (git_config_set_string(sc->cfg, key.buf, url) < 0)
		sc->failed = 1;
	strbuf_reset(&key);
	strbuf_addf(&key, "submodule.%s.active", name);
	if (git_config_set_bool(sc->cfg, key.buf, 1) < 0)
		sc->failed = 1;
done:
	strbuf_release(&key);
	return 0;
}

static int copy_submodules(git_repository *repo, git_config *cfg)
{
	struct submodule_copy sc = { cfg, 0 };

	if (git_submodule_foreach(repo, copy_submodule, &sc) < 0)
		git_error_clear(); /* a broken .gitmodules: no submodules */
	return sc.failed ? -1 : 0;
}

/* The checked-out branch tracks origin's, as after git clone. */
static int track_origin(git_config *cfg, const char *branch)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&key, "branch.%s.remote", branch);
	if (git_config_set_string(cfg, key.buf, "origin") < 0)
		goto done;
	strbuf_reset(&key);
	strbuf_addf(&key, "branch.%s.merge", branch);
	strbuf_addf(&val, "refs/heads/%s", branch);
	if (git_config_set_string(cfg, key.buf, val.buf) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

/*
 * What the sandbox's git runs for a fetch or pull from origin, in the
 * container (never on the host, which reads none of the clone's config):
 * a word on how fresh origin is, then git's own upload-pack, to which git
 * appends the path. Sandbox names are [a-z0-9._-]: safe in double quotes.
 */
static void origin_upload_pack(struct strbuf *out, const char *name)
{
	strbuf_addf(out,
		    "printf >&2 '%%s\\n' "
		    "\"hint: origin is a read-only copy of the host repository, refreshed on the\" "
		    "\"hint: host by 'git sand sync-host %s' (and by 'git sand start')\"; "
		    "git-upload-pack", name);
}

static int write_config(const struct clone_opts *o, const char *dest_git, const char *branch)
{
	git_config *host_cfg = NULL, *cfg = NULL;
	struct strbuf path = STRBUF_INIT, val = STRBUF_INIT;
	int ret = -1;

	if (git_repository_config_snapshot(&host_cfg, o->repo) < 0) {
		error_lg2("cannot read the host repository's configuration");
		goto done;
	}
	path_join(&path, dest_git, "config");
	if (git_config_open_ondisk(&cfg, path.buf) < 0) {
		error_lg2("cannot open '%s'", path.buf);
		goto done;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kept_config); i++) {
		int got = config_get_str(host_cfg, kept_config[i], &val);

		if (got < 0)
			goto done;
		if (got && git_config_set_string(cfg, kept_config[i], val.buf) < 0)
			goto lg2_failed;
	}
	/*
	 * The clone's files are copies: their inode and ctime differ from
	 * what the host index recorded. Have git trust size and mtime, so the
	 * first status does not re-read the whole tree.
	 */
	if (git_config_set_string(cfg, "core.checkStat", "minimal") < 0 ||
	    git_config_set_string(cfg, "remote.origin.url", o->origin_url) < 0 ||
	    /*
	     * Pushing reaches the read-only mount and our pre-push hook,
	     * which says why it is refused; the mount is what refuses it.
	     */
	    git_config_set_string(cfg, "remote.origin.pushurl", o->origin_url) < 0 ||
	    git_config_set_string(cfg, "remote.origin.fetch",
				  "+refs/heads/*:refs/remotes/origin/*") < 0 ||
	    /* So that git-sand's hooks, if they get in here, know to do nothing. */
	    (o->sandbox_id && git_config_set_string(cfg, "sand.sandbox", o->sandbox_id) < 0) ||
	    /*
	     * The status hints would say to "git push", which is refused
	     * here; git has no switch for that hint alone.
	     */
	    git_config_set_bool(cfg, "advice.statusHints", 0) < 0)
		goto lg2_failed;
	if (o->sandbox_name) {
		strbuf_reset(&val);
		origin_upload_pack(&val, o->sandbox_name);
		if (git_config_set_string(cfg, "remote.origin.uploadpack", val.buf) < 0)
			goto lg2_failed;
	}
	if (copy_submodules(o->repo, cfg) < 0 || (branch && track_origin(cfg, branch) < 0))
		goto lg2_failed;
	ret = 0;
	goto done;
lg2_failed:
	error_lg2("cannot write the sandbox's git configuration");
done:
	git_config_free(cfg);
	git_config_free(host_cfg);
	strbuf_release(&path);
	strbuf_release(&val);
	return ret;
}

/*
 * The copies keep the worktree's sizes and mtimes, and git in the sandbox
 * trusts only those (core.checkStat=minimal). An entry whose file the
 * host's git would read again (a change that kept size and mtime, seen by
 * its ctime or inode) loses its stat data, so that git inside reads the
 * file too. The index is rewritten only where an entry changed.
 */
static int distrust_changed(const char *gitdir, const char *worktree)
{
	struct strbuf path = STRBUF_INIT;
	git_index *index = NULL;
	size_t changed = 0;
	int ret = -1;

	path_join(&path, gitdir, "index");
	if (access(path.buf, F_OK)) {
		ret = 0;
		goto done;
	}
	if (git_index_open(&index, path.buf) < 0)
		goto lg2_failed;
	for (size_t i = 0, n = git_index_entrycount(index); i < n; i++) {
		/* In place, as overlay_index_restat does: the tree cache stays. */
		git_index_entry *e = (git_index_entry *)git_index_get_byindex(index, i);

		if (!GIT_INDEX_ENTRY_STAGE(e) && e->mode != GIT_FILEMODE_COMMIT)
			changed += index_entry_distrust(&path, worktree, e);
	}
	if (changed && git_index_write(index) < 0)
		goto lg2_failed;
	ret = 0;
	goto done;
lg2_failed:
	error_lg2("cannot update the stat data of the sandbox's index");
done:
	git_index_free(index);
	strbuf_release(&path);
	return ret;
}

static const char pre_push_hook[] =
	"#!/bin/sh\n"
	"# Installed by git-sand: this sandbox cannot push to the host.\n"
	"echo >&2 \"error: pushing from a git-sand sandbox is disabled\"\n"
	"echo >&2 \"hint: commit here; on the host, 'git sand fetch' or 'git sand sync' brings your work back\"\n"
	"exit 1\n";

int clone_workspace(const struct clone_opts *o)
{
	struct strbuf git = STRBUF_INIT, p = STRBUF_INIT, alt = STRBUF_INIT;
	git_repository *clone = NULL;
	git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	char *branch = NULL;
	int ret = -1;

	if (!o->dest_made && mkdir(o->dest, 0755) < 0) {
		error_errno("cannot create '%s'", o->dest);
		goto done;
	}
	if (!o->no_worktree &&
	    copy_tree(o->worktree, o->dest, COPY_NO_DOT_GIT | (o->progress ? COPY_PROGRESS : 0)) < 0)
		goto done;

	path_join(&git, o->dest, ".git");
	init.flags = GIT_REPOSITORY_INIT_NO_REINIT | GIT_REPOSITORY_INIT_MKDIR;
	init.workdir_path = o->dest;
	if (git_repository_init_ext(&clone, git.buf, &init) < 0) {
		error_lg2("cannot initialise the sandbox's repository");
		goto done;
	}

	/* Borrow objects from the mirror. */
	strbuf_addf(&alt, "%s\n", o->alternates);
	path_join(&p, git.buf, "objects/info/alternates");
	if (write_file(p.buf, alt.buf, alt.len, 0644) < 0)
		goto done;

	if (write_refs(o->repo, git.buf, o->branch) < 0 ||
	    write_head(o->repo, git.buf, o->branch, &branch) < 0 ||
	    write_config(o, git.buf, branch) < 0)
		goto done;

	/* The index and what git keeps beside it, as they are on the host. */
	if (copy_git_file(o->gitdir, "index", git.buf) < 0 ||
	    copy_git_file(o->commondir, "info/exclude", git.buf) < 0 ||
	    (!o->no_worktree && distrust_changed(git.buf, o->worktree) < 0))
		goto done;

	/* Submodules keep their repositories in the common dir. */
	path_join(&p, o->commondir, "modules");
	if (!access(p.buf, F_OK)) {
		struct strbuf d = STRBUF_INIT;

		path_join(&d, git.buf, "modules");
		ret = mkdir(d.buf, 0755) < 0 ? error_errno("cannot create '%s'", d.buf) :
			copy_tree(p.buf, d.buf, 0);
		strbuf_release(&d);
		if (ret < 0)
			goto done;
		ret = -1;
	}

	path_join(&p, git.buf, "hooks");
	mkdir(p.buf, 0755);
	path_join(&p, git.buf, "hooks/pre-push");
	if (write_file(p.buf, pre_push_hook, sizeof(pre_push_hook) - 1, 0755) < 0)
		goto done;
	ret = 0;
done:
	free(branch);
	git_repository_free(clone);
	strbuf_release(&git);
	strbuf_release(&p);
	strbuf_release(&alt);
	return ret;
}

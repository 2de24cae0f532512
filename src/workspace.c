#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone.h"
#include "mirror.h"
#include "compat.h"
#include "copy.h"
#include "msg.h"
#include "overlay.h"
#include "path.h"
#include "ssh-host.h"
#include "workspace.h"

/* ---- on this machine ---- */

static void local_mirror_path(const struct workspace *ws, struct strbuf *out)
{
	mirror_path(out, ws->root, ws->sb->gitdir);
}

static int local_mirror_refresh(const struct workspace *ws, git_repository *repo,
				const char *commondir)
{
	struct strbuf mirror = STRBUF_INIT;
	int ret;

	local_mirror_path(ws, &mirror);
	ret = mirror_update(repo, commondir, mirror.buf);
	strbuf_release(&mirror);
	return ret;
}

static void fill_clone_opts(struct clone_opts *co, const struct sandbox *sb,
			    const struct populate_opts *o)
{
	co->repo = o->repo;
	co->worktree = o->worktree;
	co->gitdir = o->gitdir;
	co->commondir = o->commondir;
	co->origin_url = WORKSPACE_ORIGIN;
	co->branch = o->branch;
	co->sandbox_id = sb->id;
	co->sandbox_name = sb->name;
	co->progress = o->progress;
}

/*
 * The files of an overlay workspace: the base of HEAD's tree (shared),
 * the upper layer with the worktree's differences, the overlay's own
 * working directory. The clone holds only the .git.
 */
static int overlay_populate(const struct workspace *ws, struct sandbox *sb,
			    const struct populate_opts *o)
{
	struct strbuf base = STRBUF_INIT, path = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&path, "%s/" OVERLAY_UPPER, sb->dir);
	if (overlay_layers(o->repo, ws->root, o->worktree, path.buf, o->owner, o->progress,
			   &base) < 0)
		goto done;
	free(sb->opts.base);
	sb->opts.base = strbuf_detach(&base, NULL);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/" OVERLAY_WORK, sb->dir);
	if (mkdir(path.buf, 0700) < 0) {
		error_errno("cannot create '%s'", path.buf);
		goto done;
	}
	strbuf_reset(&path);
	sandbox_clone_path(sb, &path);
	strbuf_addstr(&path, "/.git/index");
	if (!access(path.buf, F_OK)) {
		struct strbuf upper = STRBUF_INIT;

		strbuf_addf(&upper, "%s/" OVERLAY_UPPER, sb->dir);
		ret = overlay_index_restat(path.buf, o->worktree, sb->opts.base, upper.buf);
		strbuf_release(&upper);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&base);
	strbuf_release(&path);
	return ret;
}

static int local_populate(const struct workspace *ws, struct sandbox *sb,
			  const struct populate_opts *o)
{
	struct clone_opts co = { 0 };
	struct strbuf dest = STRBUF_INIT;
	int ret = -1;

	sandbox_clone_path(sb, &dest);
	fill_clone_opts(&co, sb, o);
	co.dest = dest.buf;
	/* The clone names the mirror where the container mounts it. */
	co.alternates = WORKSPACE_ORIGIN "/objects";
	co.no_worktree = o->overlay;
	co.dest_made = o->dest_made;
	sb->opts.neutral_mirror = 1;
	if (clone_workspace(&co) < 0 || (o->overlay && overlay_populate(ws, sb, o) < 0))
		goto done;
	ret = 0;
done:
	strbuf_release(&dest);
	return ret;
}

static int local_prepare(const struct workspace *ws, struct sandbox *sb,
			 struct populate_opts *o)
{
	struct strbuf dest = STRBUF_INIT;
	int ret = 0;

	(void)ws;
	if (o->overlay)
		return 0;
	sandbox_clone_path(sb, &dest);
	if (mkdir(dest.buf, 0755) < 0) {
		ret = error_errno("cannot create '%s'", dest.buf);
	} else {
		sb->opts.neutral_mirror = 1;
		o->dest_made = 1;
		ret = 1;
	}
	strbuf_release(&dest);
	return ret;
}

static int local_has(const struct workspace *ws, const char *part)
{
	struct strbuf path = STRBUF_INIT;
	int has;

	strbuf_addf(&path, "%s/%s", ws->sb->dir, part);
	has = !access(path.buf, F_OK);
	strbuf_release(&path);
	return has;
}

static int local_clone_present(const struct workspace *ws)
{
	struct strbuf clone = STRBUF_INIT;
	int present;

	sandbox_clone_path(ws->sb, &clone);
	present = !access(clone.buf, F_OK);
	strbuf_release(&clone);
	return present;
}

static int local_url(const struct workspace *ws, struct strbuf *out)
{
	strbuf_reset(out);
	sandbox_clone_path(ws->sb, out);
	return 0;
}

/* Everything it has is in sb->dir. */
static int local_remove(const struct workspace *ws)
{
	(void)ws;
	return 0;
}

static const struct workspace_ops local_ops = {
	.name = "local",
	.local = 1,
	.mirror_path = local_mirror_path,
	.mirror_refresh = local_mirror_refresh,
	.populate = local_populate,
	.prepare = local_prepare,
	.has = local_has,
	.clone_present = local_clone_present,
	.url = local_url,
	.remove = local_remove,
};

/* ---- on an SSH host ---- */

static void ssh_mirror_path(const struct workspace *ws, struct strbuf *out)
{
	struct strbuf key = STRBUF_INIT;

	/*
	 * On a host that several machines use, a repository at the same
	 * path on two of them is not the same repository.
	 */
	machine_id(&key);
	strbuf_addf(&key, ":%s", ws->sb->gitdir);
	mirror_path(out, ws->root, key.buf);
	strbuf_release(&key);
}

static int need_connection(const struct workspace *ws)
{
	if (ws->ssh)
		return 0;
	return error("sandbox '%s' is on '%s': no connection to it", ws->sb->name, ws->sb->host);
}

static int ssh_mirror_refresh(const struct workspace *ws, git_repository *repo,
			      const char *commondir)
{
	struct strbuf mirror = STRBUF_INIT;
	int ret;

	(void)commondir;
	if (need_connection(ws) < 0)
		return -1;
	ssh_mirror_path(ws, &mirror);
	/* The pack on its way waits here, under the state root. */
	ret = ssh_host_mirror_push(ws->ssh, repo, mirror.buf, ws->here);
	strbuf_release(&mirror);
	return ret;
}

/*
 * The env files (--env-file) are copied with the sandbox (into env.d/),
 * and its record names the copies there.
 */
static int copy_env_files(struct sandbox *sb)
{
	struct strbuf work = STRBUF_INIT, dst = STRBUF_INIT;
	int ret = 0;

	sandbox_work_dir(sb, &work);
	for (size_t i = 0; !ret && i < sb->opts.env_files.nr; i++) {
		strbuf_reset(&dst);
		strbuf_addf(&dst, "%s/env.d", sb->dir);
		if (mkdir_p(dst.buf, 0700) < 0) {
			ret = error_errno("cannot create '%s'", dst.buf);
			break;
		}
		strbuf_addf(&dst, "/%zu", i);
		if (copy_file(sb->opts.env_files.items[i], dst.buf, COPY_FOLLOW) < 0) {
			ret = -1;
			break;
		}
		free(sb->opts.env_files.items[i]);
		sb->opts.env_files.items[i] = xstrfmt("%s/env.d/%zu", work.buf, i);
	}
	strbuf_release(&work);
	strbuf_release(&dst);
	return ret;
}

/* Move the parts made in sb->dir into staging (logs and the lock stay). */
static int stage_parts(const struct sandbox *sb, const char *staging)
{
	static const char *const parts[] = { "app", "home", "env", "env.d" };
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
	int ret = mkdir(staging, 0700) < 0 ? error_errno("cannot create '%s'", staging) : 0;

	for (size_t i = 0; !ret && i < ARRAY_SIZE(parts); i++) {
		strbuf_reset(&from);
		strbuf_addf(&from, "%s/%s", sb->dir, parts[i]);
		if (access(from.buf, F_OK) < 0)
			continue;
		strbuf_reset(&to);
		strbuf_addf(&to, "%s/%s", staging, parts[i]);
		if (rename(from.buf, to.buf) < 0)
			ret = error_errno("cannot move '%s'", from.buf);
	}
	strbuf_release(&from);
	strbuf_release(&to);
	return ret;
}

/* An overlay's base there: the tree's, under bases (recorded in sb). */
static void ssh_overlay_base(const struct workspace *ws, struct sandbox *sb, const char *hex,
			     struct strbuf *bases)
{
	strbuf_addf(bases, "%s/" OVERLAY_BASES, ws->root);
	free(sb->opts.base);
	sb->opts.base = xstrfmt("%s/%s", bases->buf, hex);
}

/*
 * The .git is made here, then sent with the home, the env files and the
 * changed files of the working tree (for an overlay, those that differ
 * from HEAD's tree, into its upper layer); then nothing of it (secrets
 * included) stays here. git there checks out the rest, reading the
 * clone's objects through its alternates: the mirror's path there.
 */
static int ssh_populate(const struct workspace *ws, struct sandbox *sb,
			const struct populate_opts *o)
{
	struct clone_opts co = { 0 };
	struct ssh_host_send_opts send = { 0 };
	struct strbuf dest = STRBUF_INIT, mirror = STRBUF_INIT, alternates = STRBUF_INIT;
	struct strbuf work = STRBUF_INIT, staging = STRBUF_INIT, bases = STRBUF_INIT;
	int ret = -1;

	if (need_connection(ws) < 0 || copy_env_files(sb) < 0)
		goto done;
	if (o->overlay)
		ssh_overlay_base(ws, sb, o->base_tree, &bases);
	strbuf_addf(&dest, "%s/app", sb->dir);
	ssh_mirror_path(ws, &mirror);
	strbuf_addf(&alternates, "%s/objects", mirror.buf);
	fill_clone_opts(&co, sb, o);
	co.dest = dest.buf;
	co.alternates = alternates.buf;
	co.no_worktree = 1;
	sb->opts.neutral_mirror = 0;
	if (clone_workspace(&co) < 0)
		goto done;

	strbuf_addf(&staging, "%s/send", sb->dir);
	sandbox_work_dir(sb, &work);
	send.repo = o->repo;
	send.worktree = o->worktree;
	send.staging = staging.buf;
	send.dest = work.buf;
	send.bases = o->overlay ? bases.buf : NULL;
	send.tree = o->overlay ? o->base_tree : NULL;
	send.scan = o->scan;
	send.progress = o->progress;
	send.mirror_first = o->mirror_first;
	send.mirror_data = o->mirror_data;
	send.mirror = mirror.buf;
	ret = stage_parts(sb, staging.buf);
	if (!ret)
		ret = ssh_host_send(ws->ssh, &send);
	if (remove_tree(staging.buf) < 0)
		ret = -1;
done:
	strbuf_release(&dest);
	strbuf_release(&mirror);
	strbuf_release(&alternates);
	strbuf_release(&work);
	strbuf_release(&staging);
	strbuf_release(&bases);
	return ret;
}

/* new always sends a home; an env file only when --env gave values. */
/* The files go over the connection that the runtime's create would use. */
static int ssh_prepare(const struct workspace *ws, struct sandbox *sb, struct populate_opts *o)
{
	(void)ws;
	(void)sb;
	(void)o;
	return 0;
}

/*
 * The working tree is read (a few tens of milliseconds for thousands of
 * files) while the mirror's refresh waits on the host.
 */
static int ssh_read_ahead(const struct workspace *ws, struct sandbox *sb,
			  struct populate_opts *o)
{
	const char *tree = o->overlay ? o->base_tree : NULL;

	(void)ws;
	(void)sb;
	/* Read ahead of the connection already (see new), of that tree. */
	if (o->scan && ssh_host_scan_keep(o->scan, tree))
		return 0;
	ssh_host_scan_free(o->scan);
	o->scan = ssh_host_scan_start(o->worktree, tree);
	return 0;
}

void workspace_read_ahead_clear(struct populate_opts *o)
{
	ssh_host_scan_free(o->scan);
	o->scan = NULL;
}

static int ssh_has(const struct workspace *ws, const char *part)
{
	if (!strcmp(part, "home"))
		return 1;
	return !strcmp(part, "env") && ws->sb->opts.env_keys.nr > 0;
}

static int ssh_clone_present(const struct workspace *ws)
{
	(void)ws;
	return 1;
}

static int ssh_url(const struct workspace *ws, struct strbuf *out)
{
	const struct sandbox *sb = ws->sb;
	struct ssh_target t;
	struct strbuf why = STRBUF_INIT;
	int bracket;

	strbuf_reset(out);
	if (ssh_url_parse(sb->host, &t, &why) < 0) {
		error("sandbox '%s' has an invalid host '%s': %s", sb->name, sb->host, why.buf);
		strbuf_release(&why);
		return -1;
	}
	/* As the user named it: their own ssh resolves an alias. */
	bracket = strchr(t.host, ':') != NULL;
	strbuf_addf(out, "ssh://%s%s%s%s%s", t.user ? t.user : "", t.user ? "@" : "",
		    bracket ? "[" : "", t.host, bracket ? "]" : "");
	if (t.port)
		strbuf_addf(out, ":%d", t.port);
	sandbox_clone_path(sb, &why);
	strbuf_addbuf(out, &why);
	ssh_target_clear(&t);
	strbuf_release(&why);
	return 0;
}

static int ssh_remove(const struct workspace *ws)
{
	struct strbuf work = STRBUF_INIT;
	int ret;

	if (need_connection(ws) < 0)
		return -1;
	sandbox_work_dir(ws->sb, &work);
	ret = ssh_host_remove_sandbox(ws->ssh, work.buf, ws->sb->opts.base ? ws->root : NULL);
	strbuf_release(&work);
	return ret;
}

static const struct workspace_ops ssh_ops = {
	.name = "ssh",
	.local = 0,
	.mirror_path = ssh_mirror_path,
	.mirror_refresh = ssh_mirror_refresh,
	.populate = ssh_populate,
	.prepare = ssh_prepare,
	.read_ahead = ssh_read_ahead,
	.has = ssh_has,
	.clone_present = ssh_clone_present,
	.url = ssh_url,
	.remove = ssh_remove,
};

void workspace_of(struct workspace *ws, const struct sandbox *sb, const char *root,
		  struct ssh_conn *ssh)
{
	ws->sb = sb;
	ws->here = root;
	ws->ssh = ssh;
	if (sb->host) {
		ws->ops = &ssh_ops;
		ws->root = sb->host_root;
	} else {
		ws->ops = &local_ops;
		ws->root = root;
	}
}

const char *workspace_mirror_key(const struct sandbox *sb)
{
	return sb->host ? sb->host : "";
}

void sandbox_mirror_path(const struct sandbox *sb, const char *root, struct strbuf *out)
{
	struct workspace ws;

	workspace_of(&ws, sb, root, NULL);
	strbuf_reset(out);
	ws.ops->mirror_path(&ws, out);
}

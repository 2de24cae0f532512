#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "copy.h"
#include "fetch.h"
#include "lifecycle.h"
#include "msg.h"
#include "odb-safe.h"
#include "path.h"
#include "sanitize.h"
#include "ssh.h"
#include "workspace.h"

#define MAX_LOOSE_REF 4096
#define MAX_REF_DEPTH 32

void sandbox_refs_clear(struct sandbox_refs *r)
{
	for (size_t i = 0; i < r->nr; i++)
		free(r->v[i].name);
	free(r->v);
	free(r->head_branch);
	memset(r, 0, sizeof(*r));
}

const struct sandbox_ref *sandbox_refs_find(const struct sandbox_refs *r, const char *branch)
{
	for (size_t i = 0; i < r->nr; i++) {
		const char *b;

		if (skip_prefix(r->v[i].name, "refs/heads/", &b) && !strcmp(b, branch))
			return &r->v[i];
	}
	return NULL;
}

/*
 * Read a small regular file below dirfd without following links; at most
 * max bytes. 1 when read, 0 when absent, -1 on error (with a message).
 */
static int read_small(int dirfd, const char *name, size_t max, struct strbuf *out,
		      const char *what)
{
	struct stat st;
	int fd, ret = -1;

	strbuf_reset(out);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_errno("cannot open %s in the sandbox", what);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error("%s in the sandbox is not a regular file", what);
		goto done;
	}
	if ((size_t)st.st_size > max) {
		error("%s in the sandbox is too large (%lld bytes)", what, (long long)st.st_size);
		goto done;
	}
	if (strbuf_read_fd(out, fd) < 0 || out->len > max) {
		error_errno("cannot read %s in the sandbox", what);
		goto done;
	}
	ret = 1;
done:
	close(fd);
	return ret;
}

static int parse_oid(git_oid *oid, const char *hex, size_t len)
{
	if (len != GIT_OID_HEXSZ)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	return git_oid_fromstrn(oid, hex, len) < 0 ? -1 : 0;
}

/*
 * A branch name we take from a sandbox: valid to git, and within bounds
 * that every tool that stores it as a file copes with (git's and
 * libgit2's ref directories: MAX_REF_DEPTH levels, NAME_MAX a component;
 * libgit2 stops iterating refs deeper than that, silently).
 */
static int valid_branch_ref(const char *name)
{
	int valid = 0, depth = 0;

	if (!starts_with(name, "refs/heads/") || strlen(name) > 1024 ||
	    !strcmp(name, "refs/heads/HEAD"))
		return 0;
	for (const char *p = name; *p; depth++) {
		size_t n = strcspn(p, "/");

		if (n > NAME_MAX || depth > MAX_REF_DEPTH)
			return 0;
		p += n + !!p[n];
	}
	if (git_reference_name_is_valid(&valid, name) < 0) {
		git_error_clear();
		return 0;
	}
	return valid;
}

struct ref_reader {
	struct sandbox_refs *refs;
	size_t invalid;
};

/* Add or replace (loose refs win over packed ones). */
static int add_ref(struct ref_reader *rr, const char *name, const git_oid *oid)
{
	struct sandbox_refs *r = rr->refs;

	if (!starts_with(name, "refs/heads/"))
		return 0; /* tags, remote-tracking refs: not fetched */
	if (!valid_branch_ref(name)) {
		rr->invalid++;
		return 0;
	}
	for (size_t i = 0; i < r->nr; i++)
		if (!strcmp(r->v[i].name, name)) {
			git_oid_cpy(&r->v[i].oid, oid);
			return 0;
		}
	if (r->nr >= SANDBOX_MAX_REFS)
		return error("the sandbox has more than %d branches", SANDBOX_MAX_REFS);
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	r->v[r->nr].name = xstrdup(name);
	git_oid_cpy(&r->v[r->nr].oid, oid);
	r->nr++;
	return 0;
}

static int parse_packed(struct ref_reader *rr, char *buf)
{
	int ret = 0;

	for (char *line = buf; *line && !ret; ) {
		char *end = strchrnul(line, '\n');
		char save = *end;
		git_oid oid;

		*end = '\0';
		if (*line != '#' && *line != '^') {
			char *sp = strchr(line, ' ');

			if (!sp || parse_oid(&oid, line, (size_t)(sp - line)) < 0)
				rr->invalid++;
			else
				ret = add_ref(rr, sp + 1, &oid);
		}
		*end = save;
		line = *end ? end + 1 : end;
	}
	return ret;
}

int sandbox_refs_parse_packed(const char *text, struct sandbox_refs *out, size_t *invalid)
{
	struct ref_reader rr = { out, 0 };
	char *copy = xstrdup(text);
	int ret = parse_packed(&rr, copy);

	free(copy);
	*invalid = rr.invalid;
	return ret;
}

static int read_packed(struct ref_reader *rr, int gitfd)
{
	struct strbuf buf = STRBUF_INIT;
	int ret = read_small(gitfd, "packed-refs", SANDBOX_MAX_REF_FILE, &buf, "packed-refs");

	if (ret > 0)
		ret = parse_packed(rr, buf.buf);
	strbuf_release(&buf);
	return ret;
}

/* Walk a loose refs directory (dirfd is consumed). */
static int read_loose(struct ref_reader *rr, int fd, struct strbuf *prefix, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct strbuf content = STRBUF_INIT;
	size_t len = prefix->len;
	int ret = 0;

	if (!d) {
		close(fd);
		return error_errno("cannot read '%s' in the sandbox", prefix->buf);
	}
	if (depth > MAX_REF_DEPTH) {
		closedir(d);
		return error("refs nested too deep in the sandbox");
	}
	while (!ret && (errno = 0, de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue; /* ".", "..", and names git would refuse */
		strbuf_setlen(prefix, len);
		strbuf_addstr(prefix, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				continue;
			strbuf_addch(prefix, '/');
			ret = read_loose(rr, sub, prefix, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			git_oid oid;
			int got = read_small(dirfd(d), de->d_name, MAX_LOOSE_REF, &content, "a ref");

			if (got < 0) {
				rr->invalid++;
				continue;
			}
			strbuf_rtrim(&content);
			if (got && !parse_oid(&oid, content.buf, content.len))
				ret = add_ref(rr, prefix->buf, &oid);
			else if (got && !starts_with(content.buf, "ref: "))
				rr->invalid++;
		} else {
			rr->invalid++; /* links and the like are not refs here */
		}
	}
	strbuf_setlen(prefix, len);
	closedir(d);
	strbuf_release(&content);
	return ret;
}

static int open_git_dir(const char *clone_path, int *out)
{
	int cfd = open(clone_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int gfd;

	if (cfd < 0)
		return error_errno("cannot open the clone '%s'", clone_path);
	gfd = openat(cfd, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(cfd);
	if (gfd < 0)
		return error_errno("the clone '%s' has no .git directory", clone_path);
	*out = gfd;
	return 0;
}

int sandbox_refs_read(const char *clone_path, struct sandbox_refs *out)
{
	struct ref_reader rr = { out, 0 };
	struct strbuf head = STRBUF_INIT, prefix = STRBUF_INIT;
	int gitfd = -1, fd, ret = -1;
	const char *target;

	memset(out, 0, sizeof(*out));
	if (open_git_dir(clone_path, &gitfd) < 0)
		goto done;
	if (read_packed(&rr, gitfd) < 0)
		goto done;
	fd = openat(gitfd, "refs/heads", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		/* "refs" itself must not be a link either. */
		int rfd = openat(gitfd, "refs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (rfd < 0) {
			close(fd);
			error("'refs' in the sandbox is not a directory");
			goto done;
		}
		close(rfd);
		strbuf_addstr(&prefix, "refs/heads/");
		if (read_loose(&rr, fd, &prefix, 0) < 0)
			goto done;
	}
	if (read_small(gitfd, "HEAD", MAX_LOOSE_REF, &head, "HEAD") < 0)
		goto done;
	strbuf_rtrim(&head);
	if (skip_prefix(head.buf, "ref: refs/heads/", &target)) {
		const struct sandbox_ref *ref;
		struct strbuf full = STRBUF_INIT;

		strbuf_addf(&full, "refs/heads/%s", target);
		if (valid_branch_ref(full.buf)) {
			out->head_branch = xstrdup(target);
			if ((ref = sandbox_refs_find(out, target))) {
				git_oid_cpy(&out->head, &ref->oid);
				out->head_valid = 1;
			}
		}
		strbuf_release(&full);
	} else if (!parse_oid(&out->head, head.buf, head.len)) {
		out->head_valid = 1;
	}
	if (rr.invalid)
		warning("ignored %zu invalid ref%s in the sandbox", rr.invalid,
			rr.invalid == 1 ? "" : "s");
	ret = 0;
done:
	if (gitfd >= 0)
		close(gitfd);
	if (ret < 0)
		sandbox_refs_clear(out);
	strbuf_release(&head);
	strbuf_release(&prefix);
	return ret;
}

/* Read objects from the packs of a sandbox's objects directory, within the limit. */
static int add_packs(git_odb *odb, const char *dir)
{
	git_odb_backend *pack = NULL, *limited = NULL;

	if (git_odb_backend_pack(&pack, dir) < 0 || safe_limit_backend_new(&limited, pack) < 0 ||
	    git_odb_add_alternate(odb, limited, 0) < 0) {
		if (limited)
			limited->free(limited);
		else if (pack)
			pack->free(pack);
		return error_lg2("cannot read packs from '%s'", dir);
	}
	return 0;
}

/* Read objects from dir's loose objects and packs (never its alternates). */
static int add_object_dir(git_odb *odb, const char *dir)
{
	git_odb_backend *loose = NULL, *pack = NULL;

	if (git_odb_backend_loose(&loose, dir, -1, 0, 0, 0) < 0 ||
	    git_odb_add_alternate(odb, loose, 0) < 0)
		goto fail;
	loose = NULL;
	if (git_odb_backend_pack(&pack, dir) < 0 || git_odb_add_alternate(odb, pack, 0) < 0)
		goto fail;
	return 0;
fail:
	if (loose)
		loose->free(loose);
	if (pack)
		pack->free(pack);
	return error_lg2("cannot read objects from '%s'", dir);
}

struct update {
	const char *branch;	/* short name, or "HEAD" */
	const git_oid *oid;
};

static void short_hex(char *buf, const git_oid *oid)
{
	git_oid_tostr(buf, 8, oid);
}

/* One line of git fetch's report; the names are the sandbox's. */
static void report(int *header, const char *url, const char *flag, const char *summary,
		   const char *from, const char *to, const char *suffix, int quiet)
{
	struct strbuf f = STRBUF_INIT, t = STRBUF_INIT;

	if (quiet)
		return;
	if (!*header) {
		fprintf(stderr, "From %s\n", url);
		*header = 1;
	}
	sanitize_str(&f, from, 0);
	sanitize_str(&t, to, 0);
	fprintf(stderr, " %s %-17s %-10s -> %s%s\n", flag, summary, f.buf, t.buf, suffix);
	strbuf_release(&f);
	strbuf_release(&t);
}

static int update_ref(git_repository *repo, const char *name, const struct update *u,
		      const char *url, int *header, int quiet, int *changed)
{
	struct strbuf ref = STRBUF_INIT, shortname = STRBUF_INIT, msg = STRBUF_INIT;
	git_reference *old = NULL, *created = NULL;
	git_oid old_oid;
	int had, ret = -1;

	sandbox_tracking_ref(&ref, name, u->branch);
	strbuf_addf(&shortname, SANDBOX_REMOTE_PREFIX "%s/%s", name, u->branch);
	had = git_reference_lookup(&old, repo, ref.buf) == 0 &&
	      git_reference_type(old) == GIT_REFERENCE_DIRECT;
	git_error_clear();
	if (had)
		git_oid_cpy(&old_oid, git_reference_target(old));
	if (had && git_oid_equal(&old_oid, u->oid)) {
		ret = 0;
		goto done;
	}
	strbuf_addf(&msg, "git sand fetch %s: %s", name, had ? "fast-forward" : "storing head");
	if (git_reference_create(&created, repo, ref.buf, u->oid, 1, msg.buf) < 0) {
		error_lg2("cannot update '%s'", ref.buf);
		goto done;
	}
	(*changed)++;
	if (!had) {
		report(header, url, "*", strcmp(u->branch, "HEAD") ? "[new branch]" : "[new ref]",
		       u->branch, shortname.buf, "", quiet);
	} else {
		char a[8], b[8], range[32];
		int ff = git_graph_descendant_of(repo, u->oid, &old_oid) == 1;

		git_error_clear();
		short_hex(a, &old_oid);
		short_hex(b, u->oid);
		snprintf(range, sizeof(range), "%s%s%s", a, ff ? ".." : "...", b);
		report(header, url, ff ? " " : "+", range, u->branch, shortname.buf,
		       ff ? "" : "  (forced update)", quiet);
	}
	ret = 0;
done:
	git_reference_free(old);
	git_reference_free(created);
	strbuf_release(&ref);
	strbuf_release(&shortname);
	strbuf_release(&msg);
	return ret;
}

/* Delete sand/<name>/<b> refs whose branch the sandbox no longer has. */
static int prune(git_repository *repo, const char *name, const struct sandbox_refs *refs,
		 const char *url, int *header, int quiet, int *changed)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	struct strbuf glob = STRBUF_INIT, prefix = STRBUF_INIT;
	int err, ret = 0;

	sandbox_tracking_prefix(&prefix, name);
	strbuf_addf(&glob, "%s*", prefix.buf);
	if (git_reference_iterator_glob_new(&it, repo, glob.buf) < 0) {
		ret = error_lg2("cannot list '%s'", glob.buf);
		goto done;
	}
	while (!(err = git_reference_next(&ref, it))) {
		const char *branch = git_reference_name(ref) + prefix.len;

		if (strcmp(branch, "HEAD") && !sandbox_refs_find(refs, branch)) {
			struct strbuf shortname = STRBUF_INIT;

			strbuf_addf(&shortname, SANDBOX_REMOTE_PREFIX "%s/%s", name, branch);
			if (git_reference_delete(ref) < 0) {
				ret = error_lg2("cannot delete '%s'", git_reference_name(ref));
			} else {
				(*changed)++;
				report(header, url, "-", "[deleted]", "(none)", shortname.buf, "", quiet);
			}
			strbuf_release(&shortname);
		}
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER)
		ret = error_lg2("cannot list '%s'", glob.buf);
	git_error_clear();
done:
	git_reference_iterator_free(it);
	strbuf_release(&glob);
	strbuf_release(&prefix);
	return ret;
}

/* Point sand/<name>/HEAD at the sandbox's branch, as origin/HEAD does. */
static int update_head_symref(git_repository *repo, const char *name, const char *branch,
			      int *changed)
{
	struct strbuf ref = STRBUF_INIT, target = STRBUF_INIT;
	git_reference *old = NULL, *created = NULL;
	int ret = 0;

	sandbox_tracking_ref(&ref, name, "HEAD");
	sandbox_tracking_ref(&target, name, branch);
	if (!git_reference_lookup(&old, repo, ref.buf) &&
	    git_reference_type(old) == GIT_REFERENCE_SYMBOLIC &&
	    !strcmp(git_reference_symbolic_target(old), target.buf))
		goto done;
	git_error_clear();
	if (git_reference_symbolic_create(&created, repo, ref.buf, target.buf, 1,
					  "git sand fetch: HEAD") < 0)
		ret = error_lg2("cannot update '%s'", ref.buf);
	else
		(*changed)++;
done:
	git_reference_free(old);
	git_reference_free(created);
	strbuf_release(&ref);
	strbuf_release(&target);
	return ret;
}

/*
 * Hide what the host already has. Every ref is tried; one that does not
 * resolve to a commit (a dangling symbolic ref, a tag of a tree) is no
 * reason to fail a fetch.
 */
static int hide_host_refs(git_repository *repo, git_revwalk *walk)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	int err;

	if (git_reference_iterator_new(&it, repo) < 0)
		return -1;
	while (!(err = git_reference_next(&ref, it))) {
		git_object *obj = NULL;

		if (!git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT))
			git_revwalk_hide(walk, git_object_id(obj));
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	git_error_clear();
	return err == GIT_ITEROVER ? 0 : -1;
}

static int fetched(const struct update *u, size_t nr, const char *branch)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(u[i].branch, branch))
			return 1;
	return 0;
}

/*
 * Where a sandbox's clone is read from. On this machine, by code of our
 * own: its refs by hand, its loose objects through odb-safe.c, its packs
 * from a snapshot made without following links, never its alternates. On
 * an SSH host, by libgit2's transport from git's upload-pack there, which
 * runs nothing here.
 */
enum fetch_source_kind { FETCH_SOURCE_LOCAL, FETCH_SOURCE_SSH };

struct fetch_source {
	enum fetch_source_kind kind;
	const struct sandbox *sb;
	struct strbuf clone;	/* the clone's path, here or on the host */
	struct strbuf url;	/* what stands for the clone in what is printed */
	/* FETCH_SOURCE_LOCAL */
	struct strbuf mirror;	/* the mirror's objects directory */
	struct strbuf snap;	/* the snapshot of the clone's packs, while fetching */
	/* FETCH_SOURCE_SSH */
	const struct ssh_opts *ssh;
};

static int fetch_source_init(struct fetch_source *src, const char *root,
			     const struct sandbox *sb, const struct fetch_opts *o)
{
	struct workspace ws;

	memset(src, 0, sizeof(*src));
	strbuf_init(&src->clone, 0);
	strbuf_init(&src->url, 0);
	strbuf_init(&src->mirror, 0);
	strbuf_init(&src->snap, 0);
	src->sb = sb;
	sandbox_clone_path(sb, &src->clone);
	strbuf_addbuf(&src->url, &src->clone);
	/* Read here with code of our own, or there by libgit2 over SSH. */
	workspace_of(&ws, sb, root, NULL);
	if (ws.ops->local) {
		src->kind = FETCH_SOURCE_LOCAL;
		ws.ops->mirror_path(&ws, &src->mirror);
		strbuf_addstr(&src->mirror, "/objects");
		return 0;
	}
	src->kind = FETCH_SOURCE_SSH;
	src->ssh = o->ssh;
	if (!src->ssh)
		return error("sandbox '%s' is on '%s': no way to reach it", sb->name, sb->host);
	return 0;
}

static void fetch_source_clear(struct fetch_source *src)
{
	if (src->snap.len)
		remove_tree(src->snap.buf);
	strbuf_release(&src->clone);
	strbuf_release(&src->url);
	strbuf_release(&src->mirror);
	strbuf_release(&src->snap);
}

/*
 * The directory of this fetch's own files, removed when it ends: a
 * snapshot of the clone's packs, and the settings of the pack builder.
 */
static int local_scratch(struct fetch_source *src)
{
	strbuf_addf(&src->snap, "%s/fetch.%d", src->sb->dir, (int)getpid());
	if (remove_tree(src->snap.buf) < 0 || mkdir(src->snap.buf, 0700) < 0)
		return error_errno("cannot create '%s'", src->snap.buf);
	return 0;
}

/* The clone's packs, from a snapshot of their directory (packfd, consumed). */
static int local_add_packs(struct fetch_source *src, git_odb *odb, int packfd)
{
	struct strbuf objects = STRBUF_INIT, packdir = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&objects, "%s/objects", src->snap.buf);
	strbuf_addf(&packdir, "%s/pack", objects.buf);
	if (mkdir(objects.buf, 0700) < 0) {
		close(packfd);
		error_errno("cannot create '%s'", objects.buf);
		goto done;
	}
	if (snapshot_tree(packfd, packdir.buf, SNAPSHOT_LINK) < 0 || add_packs(odb, objects.buf) < 0)
		goto done;
	ret = 0;
done:
	strbuf_release(&objects);
	strbuf_release(&packdir);
	return ret;
}

/*
 * The sandbox's own objects, readable from odb: loose ones read in place
 * through a directory descriptor that follows no link, packs from hard
 * links (or copies) made without following any, and the mirror's. Never
 * the clone's alternates.
 */
static int local_add_objects(struct fetch_source *src, git_odb *odb)
{
	git_odb_backend *loose = NULL;
	int gitfd = -1, objfd = -1, packfd, ret = -1;

	if (open_git_dir(src->clone.buf, &gitfd) < 0 || local_scratch(src) < 0)
		goto done;
	objfd = openat(gitfd, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (objfd < 0) {
		error_errno("cannot open the objects of sandbox '%s'", src->sb->name);
		goto done;
	}
	if (safe_loose_backend_new(&loose, objfd) < 0 || git_odb_add_alternate(odb, loose, 0) < 0) {
		if (loose)
			loose->free(loose);
		error_lg2("cannot read the objects of sandbox '%s'", src->sb->name);
		goto done;
	}
	packfd = openat(objfd, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (packfd >= 0 && local_add_packs(src, odb, packfd) < 0)
		goto done;
	if (!access(src->mirror.buf, F_OK) && add_object_dir(odb, src->mirror.buf) < 0)
		goto done;
	ret = 0;
done:
	if (objfd >= 0)
		close(objfd);
	if (gitfd >= 0)
		close(gitfd);
	return ret;
}

/*
 * What libgit2's pack builder may hold at once. By default it keeps a
 * window of ten objects of up to 512 MiB each, whole, to find deltas
 * among them, with no limit on their total, and up to 256 MiB of deltas:
 * a sandbox of many objects, each under sand.maxObjectSize, would have it
 * hold them all. It reads these settings from the repository's
 * configuration: they are layered, above the user's, on our own
 * repository object for this fetch. (libgit2 1.5 reads its
 * core.bigFileThreshold, past which an object is stored whole, from
 * pack.deltaCacheSize.)
 */
static const char pack_settings[] =
	"[pack]\n"
	"\twindowMemory = 32m\n"
	"\tdeltaCacheSize = 16m\n"
	"[core]\n"
	"\tbigFileThreshold = 16m\n";

static int limit_pack_builder(const struct fetch_source *src, git_repository *repo)
{
	struct strbuf path = STRBUF_INIT;
	git_config *cfg = NULL;
	int ret = -1;

	strbuf_addf(&path, "%s/pack-settings", src->snap.buf);
	if (write_file_atomic(path.buf, pack_settings, strlen(pack_settings), 0600) < 0)
		goto done;
	if (git_repository_config(&cfg, repo) < 0 ||
	    git_config_add_file_ondisk(cfg, path.buf, GIT_CONFIG_LEVEL_APP, repo, 1) < 0) {
		error_lg2("cannot set up the pack builder");
		goto done;
	}
	ret = 0;
done:
	git_config_free(cfg);
	strbuf_release(&path);
	return ret;
}

/* Write into repo, as one pack, what the tips need that the host lacks. */
static int local_import(const struct fetch_source *src, git_repository *repo,
			const struct update *tips, size_t nr)
{
	struct strbuf packdir = STRBUF_INIT;
	git_revwalk *walk = NULL;
	git_packbuilder *pb = NULL;
	int ret = -1;

	if (limit_pack_builder(src, repo) < 0)
		return -1;
	if (git_revwalk_new(&walk, repo) < 0)
		goto done;
	for (size_t i = 0; i < nr; i++)
		if (git_revwalk_push(walk, tips[i].oid) < 0)
			goto done;
	if (nr && hide_host_refs(repo, walk) < 0)
		goto done;
	if (git_packbuilder_new(&pb, repo) < 0)
		goto done;
	if (nr && git_packbuilder_insert_walk(pb, walk) < 0)
		goto done;
	if (git_packbuilder_object_count(pb) > 0) {
		strbuf_addf(&packdir, "%s/objects/pack", git_repository_commondir(repo));
		if (git_packbuilder_write(pb, packdir.buf, 0, NULL, NULL) < 0)
			goto done;
	}
	ret = 0;
done:
	if (ret < 0)
		error_lg2("cannot fetch from sandbox '%s'", src->sb->name);
	git_packbuilder_free(pb);
	git_revwalk_free(walk);
	strbuf_release(&packdir);
	return ret;
}

/* One ref upload-pack advertised, validated as those read from a clone here are. */
static int add_advertised(struct sandbox_refs *refs, const git_remote_head *h, size_t *invalid)
{
	const char *b;

	if (!strcmp(h->name, "HEAD")) {
		git_oid_cpy(&refs->head, &h->oid);
		refs->head_valid = !git_oid_is_zero(&h->oid);
		if (h->symref_target && skip_prefix(h->symref_target, "refs/heads/", &b) &&
		    valid_branch_ref(h->symref_target))
			refs->head_branch = xstrdup(b);
		return 0;
	}
	if (!starts_with(h->name, "refs/heads/"))
		return 0;
	if (!valid_branch_ref(h->name)) {
		(*invalid)++;
		return 0;
	}
	if (refs->nr >= SANDBOX_MAX_REFS)
		return error("the sandbox has more than %d branches", SANDBOX_MAX_REFS);
	ALLOC_GROW(refs->v, refs->nr + 1, refs->alloc);
	refs->v[refs->nr].name = xstrdup(h->name);
	git_oid_cpy(&refs->v[refs->nr].oid, &h->oid);
	refs->nr++;
	return 0;
}

static int read_advertised(struct sandbox_refs *refs, git_remote *remote,
			   const struct sandbox *sb)
{
	const git_remote_head **heads;
	size_t n, invalid = 0;

	if (git_remote_ls(&heads, &n, remote) < 0)
		return error_lg2("cannot fetch from sandbox '%s' on '%s'", sb->name, sb->host);
	for (size_t i = 0; i < n; i++)
		if (add_advertised(refs, heads[i], &invalid) < 0)
			return -1;
	if (invalid)
		warning("sandbox '%s': %zu branches with invalid names were skipped", sb->name,
			invalid);
	return 0;
}

/*
 * The packs the download writes into repo go through a check of every
 * object's size (sand.maxObjectSize) as they arrive, before libgit2's
 * indexer holds any of them: a writer of our own above repo's backends.
 */
static int check_downloaded_objects(git_repository *repo)
{
	struct strbuf dir = STRBUF_INIT;
	git_odb *odb = NULL;
	git_odb_backend *pack = NULL, *writer = NULL;
	int ret = -1;

	strbuf_addf(&dir, "%sobjects", git_repository_commondir(repo));
	if (git_repository_odb(&odb, repo) < 0 || git_odb_backend_pack(&pack, dir.buf) < 0)
		goto done;
	if (safe_pack_writer_new(&writer, pack) < 0) {
		pack->free(pack);
		goto done;
	}
	if (git_odb_add_backend(odb, writer, 100) < 0) {
		writer->free(writer);
		goto done;
	}
	ret = 0;
done:
	if (ret < 0)
		error_lg2("cannot write objects into '%s'", dir.buf);
	git_odb_free(odb);
	strbuf_release(&dir);
	return ret;
}

/*
 * A sandbox on another host: its refs as upload-pack there advertises
 * them, and their objects downloaded into repo by libgit2's SSH transport,
 * which checks the host key and logs in as ssh_connect does. Nothing runs
 * here.
 */
static int download_remote(struct fetch_source *src, git_repository *repo,
			   struct sandbox_refs *refs)
{
	const struct sandbox *sb = src->sb;
	struct ssh_git_auth auth = { .o = src->ssh };
	git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	char *specs[] = { "refs/heads/*:refs/heads/*", "HEAD" };
	git_strarray refspecs = { specs, 2 };
	git_remote *remote = NULL;
	int ret = -1;

	if (ssh_target_resolve(sb->host, &auth.t) < 0 || check_downloaded_objects(repo) < 0)
		goto done;
	strbuf_reset(&src->url);
	ssh_target_url(&auth.t, 1, &src->url);
	strbuf_addbuf(&src->url, &src->clone);

	cb.credentials = ssh_git_credentials;
	cb.certificate_check = ssh_git_certificate;
	cb.payload = &auth;
	fo.callbacks = cb;
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (git_remote_create_anonymous(&remote, repo, src->url.buf) < 0 ||
	    git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0)
		goto lg2_failed;
	if (read_advertised(refs, remote, sb) < 0)
		goto done;
	/* A HEAD on a branch is fetched with the branch. */
	if (refs->head_branch || !refs->head_valid)
		refspecs.count = 1;
	if (git_remote_download(remote, &refspecs, &fo) < 0)
		goto lg2_failed;
	ret = 0;
	goto done;
lg2_failed:
	error_lg2("cannot fetch from sandbox '%s' on '%s'", sb->name, sb->host);
done:
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	ssh_target_clear(&auth.t);
	return ret;
}

/* The sandbox's refs into refs, and their objects readable from repo. */
static int source_read(struct fetch_source *src, git_repository *repo, struct sandbox_refs *refs)
{
	git_odb *odb = NULL;
	int ret;

	if (src->kind == FETCH_SOURCE_SSH)
		return download_remote(src, repo, refs);
	if (sandbox_refs_read(src->clone.buf, refs) < 0)
		return -1;
	if (git_repository_odb(&odb, repo) < 0)
		return error_lg2("cannot open the repository");
	ret = local_add_objects(src, odb);
	git_odb_free(odb);
	return ret;
}

/* Into repo, what the tips need; downloaded objects are there already. */
static int source_import(struct fetch_source *src, git_repository *repo,
			 const struct update *tips, size_t nr)
{
	if (src->kind == FETCH_SOURCE_SSH)
		return 0;
	return local_import(src, repo, tips, nr);
}

/* Whether a tip is a commit we can read; if not, say why it is skipped. */
static int tip_is_commit(git_repository *repo, const char *name, const char *branch,
			 const git_oid *oid)
{
	git_commit *commit = NULL;
	const git_error *e;
	char hex[GIT_OID_HEXSZ + 1];
	int err = git_commit_lookup(&commit, repo, oid);

	git_commit_free(commit);
	if (!err)
		return 1;
	e = git_error_last();
	git_oid_tostr(hex, sizeof(hex), oid);
	if (err == GIT_ENOTFOUND || !e)
		warning("sandbox '%s': '%s' points at %s, which is missing or not a commit; "
			"skipped", name, sanitized(branch), hex);
	else
		warning("sandbox '%s': '%s' points at %s, which cannot be read: %s; skipped",
			name, sanitized(branch), hex, e->message);
	git_error_clear();
	return 0;
}

/* The tips to fetch: every branch, and HEAD when it is detached. */
static void choose_tips(git_repository *repo, const char *name,
			const struct sandbox_refs *refs, struct update **out, size_t *nr)
{
	struct update *tips = xcalloc(refs->nr + 1, sizeof(*tips));

	*nr = 0;
	for (size_t i = 0; i <= refs->nr; i++) {
		const git_oid *oid;
		const char *branch;

		if (i < refs->nr) {
			oid = &refs->v[i].oid;
			branch = refs->v[i].name + strlen("refs/heads/");
		} else if (refs->head_valid && !refs->head_branch) {
			oid = &refs->head;
			branch = "HEAD";
		} else {
			break;
		}
		if (!tip_is_commit(repo, name, branch, oid))
			continue;
		tips[*nr].branch = branch;
		tips[*nr].oid = oid;
		(*nr)++;
	}
	*out = tips;
}

/*
 * Collect the sandbox's tips: read its refs, make their objects readable
 * from repo, keep the tips that are commits, and bring into repo what
 * they need.
 */
static int collect_tips(struct fetch_source *src, git_repository *repo,
			struct sandbox_refs *refs, struct update **tips, size_t *nr)
{
	if (source_read(src, repo, refs) < 0)
		return -1;
	choose_tips(repo, src->sb->name, refs, tips, nr);
	return source_import(src, repo, *tips, *nr);
}

/* Update the host's refs (refs/remotes/sand/<name>/...), as git fetch would. */
static int update_refs(git_repository *repo, const struct fetch_source *src,
		       const struct sandbox_refs *refs, const struct update *tips, size_t nr,
		       const struct fetch_opts *o, int *changed)
{
	const char *name = src->sb->name, *url = src->url.buf;
	int header = 0;

	for (size_t i = 0; i < nr; i++)
		if (update_ref(repo, name, &tips[i], url, &header, o->quiet, changed) < 0)
			return -1;
	if (refs->head_branch && fetched(tips, nr, refs->head_branch) &&
	    update_head_symref(repo, name, refs->head_branch, changed) < 0)
		return -1;
	if (o->prune && prune(repo, name, refs, url, &header, o->quiet, changed) < 0)
		return -1;
	return 0;
}

int sandbox_fetch(git_repository *host, const char *root, const struct sandbox *sb,
		  const struct fetch_opts *o, struct sandbox_refs *refs_out, int *changed)
{
	struct fetch_source src;
	struct sandbox_refs refs = { 0 };
	struct update *tips = NULL;
	size_t nr = 0;
	git_repository *repo = NULL;
	int ret = -1;

	*changed = 0;
	if (fetch_source_init(&src, root, sb, o) < 0)
		goto done;
	/*
	 * A repository object of our own for the host, so that the sandbox's
	 * object directories added to its odb do not outlive this fetch.
	 */
	if (git_repository_open_ext(&repo, git_repository_path(host),
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		error_lg2("cannot open the repository");
		goto done;
	}
	if (collect_tips(&src, repo, &refs, &tips, &nr) < 0)
		goto done;
	if (!o->objects_only && update_refs(repo, &src, &refs, tips, nr, o, changed) < 0)
		goto done;
	ret = 0;
done:
	free(tips);
	git_repository_free(repo);
	fetch_source_clear(&src);
	if (refs_out && !ret)
		*refs_out = refs;
	else
		sandbox_refs_clear(&refs);
	return ret;
}

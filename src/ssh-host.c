#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "overlay.h"
#include "path.h"
#include "run.h"
#include "ssh-host.h"
#include "string-list.h"
#include "tar.h"

#define HOST_RETRY (-2)
/* What the overlay's script says where a base expected there is not. */
#define NO_BASE "git-sand: no base there"

/*
 * Run cmd there with its standard error captured; when it fails, say
 * "on <host>: <what> failed (status N): <its error output>". With
 * retry_on, a failure whose error output holds it is quiet, and
 * HOST_RETRY. Returns the command's status, or -1 (connection lost).
 */
static int host_run(struct ssh_conn *c, struct ssh_cmd *cmd, const char *what,
		      const char *retry_on)
{
	struct strbuf err = STRBUF_INIT;
	int status;

	cmd->err = &err;
	status = ssh_run(c, cmd);
	cmd->err = NULL;
	strbuf_trim(&err);
	if (status > 0 && retry_on && strstr(err.buf, retry_on))
		status = HOST_RETRY;
	else if (status > 0)
		error("on '%s': %s failed (status %d)%s%s", ssh_conn_target(c)->host, what,
		      status, err.len ? ": " : "", err.buf);
	strbuf_release(&err);
	return status;
}

int ssh_host_capture(struct ssh_conn *c, const char *const *argv, const char *in, size_t in_len,
		   struct strbuf *out)
{
	struct ssh_cmd cmd = SSH_CMD_INIT;

	cmd.argv = argv;
	cmd.in = in;
	cmd.in_len = in_len;
	cmd.out = out;
	return host_run(c, &cmd, argv[0] && !strcmp(argv[0], "sh") ? "a command" : argv[0],
			  NULL);
}

/* A path we put in mounts and scripts: absolute, one line, no ':' or ','. */
static int tame_path(const char *p)
{
	return *p == '/' && !strpbrk(p, ":,\n\r\t\\");
}

/* A number of up to 9 digits, the whole line: 0, or -1. */
static int parse_id(const char *line, unsigned long *out)
{
	size_t n = strspn(line, "0123456789");

	if (!n || n > 9 || line[n])
		return -1;
	*out = strtoul(line, NULL, 10);
	return 0;
}

/* The probe's four lines (hostile): uid, gid, runtime, root. */
static int parse_probe(char *text, struct ssh_host_facts *f)
{
	char *line[4];

	for (int i = 0; i < 4; i++) {
		char *nl = strchr(text, '\n');

		if (!nl)
			return -1;
		*nl = '\0';
		line[i] = text;
		text = nl + 1;
	}
	if (*text || parse_id(line[0], &f->uid) < 0 || parse_id(line[1], &f->gid) < 0 ||
	    strlen(line[2]) >= sizeof(f->runtime) || !*line[2] ||
	    strspn(line[2], "abcdefghijklmnopqrstuvwxyz") != strlen(line[2]))
		return -1;
	memcpy(f->runtime, line[2], strlen(line[2]) + 1);
	strbuf_reset(&f->root);
	strbuf_addstr(&f->root, line[3]);
	return 0;
}

int ssh_host_probe(struct ssh_conn *c, const char *configured, struct ssh_host_facts *f)
{
	/* A fixed script: the root is its argument. */
	const char *argv[] = {
		"sh", "-c", "id -u && id -g && r=none && for p in podman docker; do "
		"if command -v $p >/dev/null; then r=$p; break; fi; done && echo $r && "
		"mkdir -p -- \"$1\" && chmod 700 -- \"$1\" && cd -- \"$1\" && pwd -P",
		"sh", configured ? configured : SSH_HOST_ROOT_DEFAULT, NULL
	};
	struct strbuf out = STRBUF_INIT;
	int ret = -1;

	if (ssh_host_capture(c, argv, NULL, 0, &out) != 0)
		goto done;
	if (parse_probe(out.buf, f) < 0) {
		error("cannot run commands on '%s': unexpected answer", ssh_conn_target(c)->host);
		goto done;
	}
	if (!tame_path(f->root.buf)) {
		error("the state root on '%s' is at '%s': git-sand needs an absolute path "
		      "without ':', ',' or '\\' (set sand.remoteRoot)", ssh_conn_target(c)->host,
		      f->root.buf);
		goto done;
	}
	ret = 0;
done:
	strbuf_release(&out);
	return ret;
}

/* ---- the mirror ---- */

static int hex_oid(git_oid *oid, const char *hex, size_t len)
{
	if (len != GIT_OID_HEXSZ)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", hex[i]))
			return -1;
	return git_oid_fromstrn(oid, hex, len);
}

struct mirror_refs {
	struct { char *name; git_oid oid; } *v;
	size_t nr, alloc;
};

static void mirror_refs_clear(struct mirror_refs *r)
{
	for (size_t i = 0; i < r->nr; i++)
		free(r->v[i].name);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* "<oid> <refname>" lines, as for-each-ref printed them; bad lines are refused. */
static int parse_refs(char *text, struct mirror_refs *out)
{
	for (char *line = text, *next; line && *line; line = next) {
		char *sp;
		int valid = 0;
		git_oid oid;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		sp = strchr(line, ' ');
		if (!sp || hex_oid(&oid, line, (size_t)(sp - line)) < 0 ||
		    git_reference_name_is_valid(&valid, sp + 1) < 0 || !valid ||
		    strncmp(sp + 1, "refs/", 5))
			return error("unexpected reference line from the mirror: '%s'", line);
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr].name = xstrdup(sp + 1);
		out->v[out->nr].oid = oid;
		out->nr++;
	}
	return 0;
}

static const git_oid *mirror_ref(const struct mirror_refs *r, const char *name)
{
	for (size_t i = 0; i < r->nr; i++)
		if (!strcmp(r->v[i].name, name))
			return &r->v[i].oid;
	return NULL;
}

/* The refs a mirror carries: all but what git-sand fetched from sandboxes. */
static int pushed_ref(const char *name)
{
	return !strncmp(name, "refs/", 5) && strncmp(name, "refs/remotes/sand/", 18);
}

/* A line for "git pack-objects --revs": "<oid>", or "^<oid>" to leave out. */
static void add_rev(struct strbuf *revs, const char *prefix, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), oid);
	strbuf_addf(revs, "%s%s\n", prefix, hex);
}

/*
 * Pack what the revs reach into fd, with the host's own git: it sends the
 * objects of its packs as they are (libgit2's packbuilder would compress
 * every one again). Returns the number of objects, or -1.
 */
static long pack_objects(git_repository *repo, const struct strbuf *revs, int fd)
{
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	unsigned char head[12];
	long count = -1;
	int status;

	hardened_git(&c);
	argv_pushl(&c.args, "--git-dir", git_repository_commondir(repo), "pack-objects",
		   "--revs", "--stdout", "-q", NULL);
	c.in = revs->buf;
	c.in_len = revs->len;
	c.out_fd = fd;
	c.err = &err;
	status = run_child(&c);
	if (status) {
		strbuf_trim(&err);
		error("git pack-objects failed%s%s", err.len ? ": " : "", err.buf);
	} else if (lseek(fd, 0, SEEK_SET) < 0 || read(fd, head, sizeof(head)) != sizeof(head) ||
		   memcmp(head, "PACK", 4) || lseek(fd, 0, SEEK_SET) < 0) {
		error("git pack-objects wrote no pack");
	} else {
		count = (long)head[8] << 24 | (long)head[9] << 16 | (long)head[10] << 8 | head[11];
	}
	child_clear(&c);
	strbuf_release(&err);
	return count;
}

/* Blobs the index has and HEAD's tree does not: staged changes. */
static int add_staged(git_repository *repo, struct strbuf *revs)
{
	git_index *index = NULL;
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_diff *diff = NULL;
	git_odb *odb = NULL;
	int ret = -1;

	if (git_repository_index(&index, repo) < 0 || git_repository_odb(&odb, repo) < 0)
		goto done;
	if (!git_revparse_single(&head, repo, "HEAD^{tree}"))
		tree = (git_tree *)head;
	git_error_clear();
	if (git_diff_tree_to_index(&diff, repo, tree, index, NULL) < 0)
		goto done;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if (d->new_file.mode == GIT_FILEMODE_COMMIT || git_oid_is_zero(&d->new_file.id) ||
		    !git_odb_exists(odb, &d->new_file.id))
			continue;
		add_rev(revs, "", &d->new_file.id);
	}
	ret = 0;
done:
	git_diff_free(diff);
	git_object_free(head);
	git_odb_free(odb);
	git_index_free(index);
	return ret;
}


/*
 * What to send: revs for pack_objects (our tips, minus what the mirror
 * has) and the update-ref commands that make the mirror's refs ours.
 */
static int mirror_plan(git_repository *repo, const struct mirror_refs *theirs,
		       struct strbuf *revs, struct strbuf *updates)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	int err, ret = -1;

	if (git_repository_odb(&odb, repo) < 0 || git_reference_iterator_new(&it, repo) < 0)
		goto lg2_failed;
	while (!(err = git_reference_next(&ref, it))) {
		const char *name = git_reference_name(ref);
		const git_oid *oid = git_reference_target(ref), *have;
		char hex[GIT_OID_HEXSZ + 1];

		/* Not a broken ref of the host's, not one it already has. */
		if (oid && pushed_ref(name) && git_odb_exists(odb, oid) &&
		    !((have = mirror_ref(theirs, name)) && git_oid_equal(have, oid))) {
			add_rev(revs, "", oid);
			git_oid_tostr(hex, sizeof(hex), oid);
			strbuf_addf(updates, "update %s %s\n", name, hex);
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (err != GIT_ITEROVER)
		goto lg2_failed;
	for (size_t i = 0; i < theirs->nr; i++) {
		git_oid oid;

		/* What it has is left out of the pack... */
		if (git_odb_exists(odb, &theirs->v[i].oid))
			add_rev(revs, "^", &theirs->v[i].oid);
		/* ...and refs the host no longer has go (their objects stay). */
		if (git_reference_name_to_id(&oid, repo, theirs->v[i].name) < 0 ||
		    !pushed_ref(theirs->v[i].name))
			strbuf_addf(updates, "delete %s\n", theirs->v[i].name);
		git_error_clear();
	}
	if (add_staged(repo, revs) < 0)
		goto lg2_failed;
	ret = 0;
	goto done;
lg2_failed:
	error_lg2("cannot list what to send");
done:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_odb_free(odb);
	return ret;
}

/*
 * Ref updates that go as an argument of the index-pack command (below
 * Linux's limit for one argument); more go by a command of their own.
 */
#define UPDATES_IN_ARGV 65536
/* What the script says when the pack went in but not the refs. */
#define REFS_AGAIN "git-sand: the refs are to be updated again"

/*
 * Pack revs into a file under tmpdir and index it into the mirror there;
 * with the ref updates in the same command when they are few (then
 * *updated is set). A fixed script: the mirror and the updates are its
 * arguments.
 */
static int mirror_send_pack(struct ssh_conn *c, git_repository *repo, const char *mirror,
			    const struct strbuf *revs, const struct strbuf *updates,
			    const char *tmpdir, int *updated)
{
	const char *index_pack[] = {
		"sh", "-c", "git --git-dir=\"$1\" index-pack --stdin && "
		"{ test -z \"$2\" || printf '%s' \"$2\" | git --git-dir=\"$1\" update-ref --stdin || "
		"{ echo " REFS_AGAIN " >&2; exit 1; }; }",
		"sh", mirror, "", NULL
	};
	struct ssh_cmd cmd = SSH_CMD_INIT;
	struct strbuf pack = STRBUF_INIT, out = STRBUF_INIT;
	int fd, ret = -1, status;
	long count;

	*updated = 0;
	strbuf_addf(&pack, "%s/push-%d.pack", tmpdir, (int)getpid());
	fd = open(pack.buf, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno("cannot create '%s'", pack.buf);
		goto done;
	}
	unlink(pack.buf);
	if ((count = pack_objects(repo, revs, fd)) < 0)
		goto done;
	if (count > 0) {
		if (updates->len < UPDATES_IN_ARGV)
			index_pack[5] = updates->buf;
		cmd.argv = index_pack;
		cmd.in_fd = fd;
		cmd.out = &out;
		status = host_run(c, &cmd, "sending the history", REFS_AGAIN);
		/* A ref lock lost to another new: the refs are retried alone. */
		if (status && status != HOST_RETRY)
			goto done;
		*updated = !status && *index_pack[5];
	}
	ret = 0;
done:
	if (fd >= 0)
		close(fd);
	strbuf_release(&pack);
	strbuf_release(&out);
	return ret;
}

/*
 * Another new may be updating the same refs there (to the same values):
 * git's ref locks make one of us fail; try again (25 tries, 200 ms apart).
 */
static int mirror_update_refs(struct ssh_conn *c, const char *mirror,
			      const struct strbuf *updates)
{
	const char *update_ref[] = { "git", "--git-dir", mirror, "update-ref", "--stdin", NULL };
	struct strbuf out = STRBUF_INIT;
	int err = 0;

	for (int attempt = 0; updates->len; attempt++) {
		struct ssh_cmd cmd = SSH_CMD_INIT;
		struct timespec ts = { 0, 200000000 };

		cmd.argv = update_ref;
		cmd.in = updates->buf;
		cmd.in_len = updates->len;
		strbuf_reset(&out);
		cmd.out = &out;
		err = host_run(c, &cmd, "updating the mirror's refs", attempt < 25 ? "lock" : NULL);
		if (err != HOST_RETRY)
			break;
		nanosleep(&ts, NULL);
	}
	strbuf_release(&out);
	return err ? -1 : 0;
}

int ssh_host_mirror_push(struct ssh_conn *c, git_repository *repo, const char *mirror,
			 const char *tmpdir)
{
	/*
	 * A fixed script; the mirror's path is its argument. It is made
	 * where it is not there, or lacks gc.auto 0 (nothing there may
	 * prune what the sandboxes' clones borrow): a git less where it is.
	 */
	const char *list[] = {
		"sh", "-c", "{ test -f \"$1/HEAD\" && "
		"test \"$(git --git-dir=\"$1\" config gc.auto)\" = 0; } || "
		"{ git init -q --bare -- \"$1\" >/dev/null && "
		"{ git --git-dir=\"$1\" config gc.auto 0 2>/dev/null || :; }; } && "
		"git --git-dir=\"$1\" for-each-ref --format='%(objectname) %(refname)'",
		"sh", mirror, NULL
	};
	struct mirror_refs theirs = { 0 };
	struct strbuf out = STRBUF_INIT, updates = STRBUF_INIT, revs = STRBUF_INIT;
	int ret = -1, updated;

	if (!tame_path(mirror))
		return error("unusable mirror path '%s'", mirror);
	if (ssh_host_capture(c, list, NULL, 0, &out) != 0 || parse_refs(out.buf, &theirs) < 0 ||
	    mirror_plan(repo, &theirs, &revs, &updates) < 0 ||
	    mirror_send_pack(c, repo, mirror, &revs, &updates, tmpdir, &updated) < 0 ||
	    (!updated && mirror_update_refs(c, mirror, &updates) < 0))
		goto done;
	ret = 0;
done:
	mirror_refs_clear(&theirs);
	strbuf_release(&out);
	strbuf_release(&updates);
	strbuf_release(&revs);
	return ret;
}

/* ---- the workspace ---- */

struct worktree_filter {
	git_index *index;	/* NULL: no index file, send everything */
	struct timespec index_mtime;
	struct strbuf checkout;	/* NUL-separated paths to check out there */
	int sent_tracked;	/* a file the index has is sent (changed) */
	/* An overlay: what differs from the tree goes, nothing is checked out. */
	git_tree *tree;
	struct string_list staged;	/* the index's changes to the tree, sorted */
	struct strbuf info;	/* the sandbox's index entries, for --index-info */
};

/*
 * Whether the file's lstat data are what the index recorded (git's own
 * test for "unchanged"), and not racily so.
 */
static int stat_matches(const struct worktree_filter *f, const git_index_entry *e,
			const struct stat *st)
{
	if (e->flags_extended & (GIT_INDEX_ENTRY_INTENT_TO_ADD | GIT_INDEX_ENTRY_SKIP_WORKTREE))
		return 0;
	if ((S_ISLNK(st->st_mode) ? GIT_FILEMODE_LINK :
	     (st->st_mode & 0111) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB) != e->mode ||
	    e->file_size != (uint32_t)st->st_size ||
	    e->mtime.seconds != (int32_t)st->st_mtim.tv_sec ||
	    e->mtime.nanoseconds != (uint32_t)st->st_mtim.tv_nsec)
		return 0;
	/* Racy: changed within the index's own timestamp. */
	return st->st_mtim.tv_sec < f->index_mtime.tv_sec ||
	       (st->st_mtim.tv_sec == f->index_mtime.tv_sec &&
		st->st_mtim.tv_nsec < f->index_mtime.tv_nsec);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_staged(const struct worktree_filter *f, const char *rel)
{
	return f->staged.nr &&
	       bsearch(&rel, f->staged.items, f->staged.nr, sizeof(char *), cmp_str) != NULL;
}

/* A line of "git update-index -z --index-info" for e: no stat data. */
static void add_index_info(struct strbuf *info, unsigned int mode, const git_oid *id,
			   const char *path)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	strbuf_addf(info, "%o %s\t%s", mode, hex, path);
	strbuf_addch(info, '\0');
}

/*
 * Leave out what the other side can check out itself (or, for an
 * overlay, what its base has): a file the index has, unchanged (and the
 * tree's). The top .git is never sent. A file of the index sent to an
 * overlay's upper layer gets an entry without stat data there: the
 * base's could match the upper file's (the same size and second), and
 * git there must read it.
 */
static int unchanged(void *data, const char *rel, const struct stat *st)
{
	struct worktree_filter *f = data;
	const git_index_entry *e;

	if (!strcmp(rel, ".git"))
		return 1;
	if (S_ISDIR(st->st_mode) || !f->index)
		return 0;
	e = git_index_get_bypath(f->index, rel, 0);
	if (!e)
		return 0;
	if (!stat_matches(f, e, st)) {
		f->sent_tracked = 1;
		if (f->tree)
			add_index_info(&f->info, e->mode, &e->id, e->path);
		return 0;
	}
	if (f->tree)
		return !is_staged(f, rel);
	strbuf_addstr(&f->checkout, rel);
	strbuf_addch(&f->checkout, '\0');
	return 1;
}

/* An overlay's upper layer: a directory the base has need not be sent empty. */
static int in_base(void *data, const char *rel)
{
	struct worktree_filter *f = data;
	git_tree_entry *te = NULL;
	int found;

	found = !git_tree_entry_bypath(&te, f->tree, rel) &&
		git_tree_entry_type(te) == GIT_OBJECT_TREE;
	git_tree_entry_free(te);
	git_error_clear();
	return found;
}

int ssh_host_overlay_index_ok(git_repository *repo, const char **why)
{
	git_index *index = NULL;
	int ok = 0;

	*why = "cannot read the index";
	if (git_repository_index(&index, repo) < 0) {
		git_error_clear();
		return 0;
	}
	*why = "the index has conflicts";
	if (git_index_has_conflicts(index))
		goto done;
	*why = "the index has intent-to-add, skip-worktree or assume-unchanged entries";
	for (size_t i = 0; i < git_index_entrycount(index); i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);

		if ((e->flags & GIT_INDEX_ENTRY_VALID) ||
		    (e->flags_extended &
		     (GIT_INDEX_ENTRY_INTENT_TO_ADD | GIT_INDEX_ENTRY_SKIP_WORKTREE)))
			goto done;
	}
	*why = NULL;
	ok = 1;
done:
	git_index_free(index);
	return ok;
}

/*
 * The index's changes to the tree, as "git update-index -z --index-info"
 * takes them (a mode of 0 removes the path), and their paths, sorted.
 */
static int staged_changes(git_repository *repo, struct worktree_filter *f)
{
	git_diff *diff = NULL;
	git_oid zero = { { 0 } };
	int ret = 0;

	if (!f->index)
		return 0;
	if (git_diff_tree_to_index(&diff, repo, f->tree, f->index, NULL) < 0)
		return error_lg2("cannot compare the index with HEAD");
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if (d->status == GIT_DELTA_CONFLICTED) {
			ret = error("the index has a conflict at '%s'", d->new_file.path);
			break;
		}
		if (d->status == GIT_DELTA_DELETED)
			add_index_info(&f->info, 0, &zero, d->old_file.path);
		else
			add_index_info(&f->info, d->new_file.mode, &d->new_file.id,
				       d->new_file.path);
		string_list_append(&f->staged, d->new_file.path);
		if (strcmp(d->old_file.path, d->new_file.path))
			string_list_append(&f->staged, d->old_file.path);
	}
	if (f->staged.nr)
		qsort(f->staged.items, f->staged.nr, sizeof(char *), cmp_str);
	git_diff_free(diff);
	return ret;
}

struct whiteouts {
	struct tar_stream *tar;
	struct strbuf path, name;
	size_t root_len;
	int failed;	/* said already */
};

/*
 * A whiteout in upper for each path of the tree that the worktree lacks;
 * below a path that is not a directory here, nothing (upper's own file
 * or whiteout hides all of it).
 */
static int whiteout_cb(const char *root, const git_tree_entry *te, void *data)
{
	struct whiteouts *w = data;
	const char *name = git_tree_entry_name(te);
	struct stat st;

	/* What git would not check out, the base does not have. */
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || !strcasecmp(name, ".git") ||
	    strchr(name, '/'))
		return 1;
	strbuf_setlen(&w->path, w->root_len);
	strbuf_addf(&w->path, "%s%s", root, name);
	if (lstat(w->path.buf, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			w->failed = error_errno("cannot read '%s'", w->path.buf);
			return -1;
		}
		strbuf_reset(&w->name);
		strbuf_addf(&w->name, OVERLAY_UPPER "/%s%s", root, name);
		tar_add_whiteout(w->tar, w->name.buf);
		return 1;
	}
	return git_tree_entry_type(te) == GIT_OBJECT_TREE && !S_ISDIR(st.st_mode);
}

static int add_whiteouts(struct tar_stream *tar, git_tree *tree, const char *worktree)
{
	struct whiteouts w = { tar, STRBUF_INIT, STRBUF_INIT, 0, 0 };
	int ret;

	strbuf_addf(&w.path, "%s/", worktree);
	w.root_len = w.path.len;
	ret = git_tree_walk(tree, GIT_TREEWALK_PRE, whiteout_cb, &w);
	if (ret < 0 && !w.failed)
		error_lg2("cannot list the tree of HEAD");
	git_error_clear();
	strbuf_release(&w.path);
	strbuf_release(&w.name);
	return ret < 0 ? -1 : 0;
}

/*
 * The overlay's part of the tar: the worktree's differences from the
 * tree in upper, its whiteouts, and the staged changes for the index.
 */
static int add_overlay(struct tar_stream *tar, struct worktree_filter *f,
		       git_repository *repo, const char *worktree, const char *tree)
{
	git_oid oid;
	struct strbuf ref = STRBUF_INIT;

	if (git_oid_fromstr(&oid, tree) < 0 || git_tree_lookup(&f->tree, repo, &oid) < 0)
		return error_lg2("cannot read the tree %s", tree);
	tar->drop_empty_dir = in_base;
	if (staged_changes(repo, f) < 0 ||
	    tar_add_tree(tar, worktree, OVERLAY_UPPER, unchanged, f) < 0 ||
	    add_whiteouts(tar, f->tree, worktree) < 0)
		return -1;
	tar->drop_empty_dir = NULL;
	tar_add_data(tar, ".sand-staged", f->info.buf, f->info.len, 0600);
	strbuf_addf(&ref, "%s\n", tree);
	tar_add_data(tar, OVERLAY_BASE_REF, ref.buf, ref.len, 0644);
	strbuf_release(&ref);
	return 0;
}

/*
 * A fixed script: unpack, then check out from the mirror what was not
 * sent, recording the stat data of what it wrote in the index (-u);
 * those of the files sent (tracked ones changed here), when there are
 * any ($2), by a refresh of the whole index.
 */
static const char copy_script[] =
	"set -e; mkdir -p -- \"$1\"; cd -- \"$1\"; tar -x -o -f -; cd app; "
	"git checkout-index -u -z --stdin <../.sand-checkout; rm -f ../.sand-checkout; "
	"test -z \"$2\" || git update-index -q --refresh >/dev/null || :";

/* A base is checked out, and its stat data taken, as git's defaults would. */
#define BASE_GIT "git -c core.autocrlf=false -c core.eol=lf -c core.symlinks=true "

/*
 * A fixed script for an overlay: unpack (with the sandbox's "base", the
 * tree it uses, which keeps the base from ssh_host_remove_sandbox); look
 * for the base of the tree ($4) in the bases' directory ($3) under their
 * lock, after that. Without one: check it out apart, with its index (the
 * files' stat data), as git's defaults would whatever the configuration
 * there (new refuses an overlay to a repository whose own would check
 * out otherwise), and rename it into place (a concurrent maker's is as
 * good); a failure leaves nothing. The files written in the last second
 * of the checkout are dated a few seconds back and their stat data taken
 * again (git would take an entry of the second its index is written in
 * for racily clean, and read the file again: git counts whole seconds).
 * That index is the sandbox's, with the entries sent applied. Without it
 * (another maker's not yet in place), the tree alone: git there reads
 * the files once.
 * $5 "base": the mirror ($6) may lack the tree's objects yet, or be
 * missing (the container mounts it), so where the base or the mirror is
 * missing, stop (status 3, NO_BASE) before making the base; "rest": what
 * such a run left is carried on, with no input (nothing is unpacked).
 */
static const char overlay_script[] =
	"set -e; mkdir -p -- \"$1\"; cd -- \"$1\"; test \"$5\" = rest || tar -x -o -f -; "
	"mkdir -p -- upper overlay-work \"$3\"; GIT_DIR=\"$PWD/app/.git\"; export GIT_DIR; "
	"b=\"$3/$4\"; found=; { flock 9; if test -d \"$b\"; then found=1; fi; } 9>>\"$3/.lock\"; "
	"if test \"$5\" = base && { test -z \"$found\" || ! test -f \"$6/HEAD\"; }; then "
	"echo '" NO_BASE "' >&2; exit 3; fi; "
	"if test -z \"$found\"; then "
	"t=$(mktemp -d \"$3/.new-XXXXXX\"); trap 'rm -rf -- \"$t\" \"$t.index\"' EXIT; "
	"chmod 755 \"$t\"; export GIT_INDEX_FILE=\"$t.index\"; git read-tree \"$4\"; "
	BASE_GIT "--work-tree=\"$t\" checkout-index -a -u; m=$(date +%s); "
	"find \"$t\" -newermt \"@$m\" -exec touch -h -d \"@$((m - 5))\" -- {} +; "
	BASE_GIT "--work-tree=\"$t\" update-index -q --refresh >/dev/null || :; "
	"unset GIT_INDEX_FILE; "
	"if mv -T -- \"$t\" \"$b\" 2>/dev/null; then mv -f -- \"$t.index\" \"$b.index\"; fi; "
	"rm -rf -- \"$t\" \"$t.index\"; trap - EXIT; fi; "
	"cp -- \"$b.index\" app/.git/index 2>/dev/null || git read-tree \"$4\"; "
	"git update-index -z --index-info <.sand-staged; rm -f .sand-staged";

/* The stat data of repo's index; st_ino 0 where it has none. */
static void index_stat(git_repository *repo, struct stat *st)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/index", git_repository_path(repo));
	if (stat(path.buf, st) < 0)
		memset(st, 0, sizeof(*st));
	strbuf_release(&path);
}

/*
 * The working tree's part of the tar (see ssh_host_scan_start), with
 * the index as *index_st found it; *refresh set where git there must
 * refresh a copy's index (a tracked file sent, or no index here).
 */
static int scan_worktree(struct tar_stream *tar, git_repository *repo, const char *worktree,
			 const char *tree, struct stat *index_st, int *refresh)
{
	struct worktree_filter f = { .checkout = STRBUF_INIT, .staged = STRING_LIST_INIT,
				     .info = STRBUF_INIT };
	int ret = -1;

	index_stat(repo, index_st);
	if (index_st->st_ino) {
		f.index_mtime = index_st->st_mtim;
		if (git_repository_index(&f.index, repo) < 0) {
			error_lg2("cannot read the index");
			goto done;
		}
	}
	if (tree) {
		if (add_overlay(tar, &f, repo, worktree, tree) < 0)
			goto done;
	} else {
		if (tar_add_tree(tar, worktree, "app", unchanged, &f) < 0)
			goto done;
		tar_add_data(tar, ".sand-checkout", f.checkout.buf, f.checkout.len, 0600);
		*refresh = f.sent_tracked || !f.index;
	}
	ret = 0;
done:
	git_index_free(f.index);
	git_tree_free(f.tree);
	strbuf_release(&f.checkout);
	string_list_clear(&f.staged);
	strbuf_release(&f.info);
	return ret;
}

/* A read-ahead older than this is read again: the snapshot stays as fresh as before. */
#define SCAN_MAX_AGE_MS 2000

struct ssh_host_scan {
	struct tar_stream tar;
	char *worktree, *tree;
	struct stat index;	/* as the scan found it */
	struct timespec done;	/* when it ended (CLOCK_MONOTONIC) */
	int refresh, ret;
	pthread_t thread;
	int running;
};

static void *scan_thread(void *data)
{
	struct ssh_host_scan *s = data;
	git_repository *repo = NULL;

	/* A failure is said when ssh_host_send reads the tree again. */
	msg_quiet_thread(1);
	/* As the command opened it (see sand_repo_open). */
	if (git_repository_open_ext(&repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0)
		s->ret = -1;
	else
		s->ret = scan_worktree(&s->tar, repo, s->worktree, s->tree, &s->index,
				       &s->refresh);
	git_repository_free(repo);
	clock_gettime(CLOCK_MONOTONIC, &s->done);
	return NULL;
}

struct ssh_host_scan *ssh_host_scan_start(const char *worktree, const char *tree)
{
	struct ssh_host_scan *s;
	pthread_attr_t attr;
	sigset_t all, old;

	if (!(git_libgit2_features() & GIT_FEATURE_THREADS))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->tar = (struct tar_stream)TAR_STREAM_INIT;
	s->worktree = xstrdup(worktree);
	s->tree = tree ? xstrdup(tree) : NULL;
	/* The walks recurse: glibc's stack, whatever the libc's default. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t)8 << 20);
	/* Signals are the main thread's (see cleanup_signalled). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->running = !pthread_create(&s->thread, &attr, scan_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (!s->running) {
		ssh_host_scan_free(s);
		return NULL;
	}
	return s;
}

static void scan_wait(struct ssh_host_scan *s)
{
	if (s->running)
		pthread_join(s->thread, NULL);
	s->running = 0;
}

/* Milliseconds since s ended (waited for). */
static long scan_age_ms(const struct ssh_host_scan *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - s->done.tv_sec) * 1000 + (now.tv_nsec - s->done.tv_nsec) / 1000000;
}

int ssh_host_scan_keep(struct ssh_host_scan *s, const char *tree)
{
	scan_wait(s);
	return s->ret >= 0 && !tree == !s->tree && (!tree || !strcmp(tree, s->tree)) &&
	       scan_age_ms(s) <= SCAN_MAX_AGE_MS / 2;
}

/* Whether the read-ahead read the tree and the index that are sent now. */
static int scan_matches(struct ssh_host_scan *s, const struct ssh_host_send_opts *w)
{
	struct stat st;

	if (s->ret < 0 || !w->tree != !s->tree || (w->tree && strcmp(w->tree, s->tree)))
		return 0;
	index_stat(w->repo, &st);
	return st.st_ino == s->index.st_ino && st.st_dev == s->index.st_dev &&
	       st.st_size == s->index.st_size &&
	       st.st_mtim.tv_sec == s->index.st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == s->index.st_mtim.tv_nsec &&
	       st.st_ctim.tv_sec == s->index.st_ctim.tv_sec &&
	       st.st_ctim.tv_nsec == s->index.st_ctim.tv_nsec;
}

/* GIT_SAND_TRACE: whether the read-ahead was used (1), too old (-1) or not the same (0). */
static void trace_read_ahead(struct ssh_host_scan *s, int current)
{
	struct strbuf line = STRBUF_INIT;

	if (!trace_enabled())
		return;
	strbuf_addstr(&line, "trace: ssh: the working tree read ahead: ");
	if (current > 0)
		strbuf_addstr(&line, "used\n");
	else if (current < 0)
		strbuf_addf(&line, "read again, %ld ms old\n", scan_age_ms(s));
	else
		strbuf_addstr(&line, "read again, not the same\n");
	trace_write(&line);
	strbuf_release(&line);
}

/*
 * Whether the read-ahead still stands for what is sent now: it read the
 * same tree and the same index, lately; else the tree is read again
 * (and a failure then said in its place). Traced, with why not.
 */
static int scan_current(struct ssh_host_scan *s, const struct ssh_host_send_opts *w)
{
	int current;

	scan_wait(s);
	current = scan_matches(s, w);
	if (current && scan_age_ms(s) > SCAN_MAX_AGE_MS)
		current = -1;
	trace_read_ahead(s, current);
	return current > 0;
}

void ssh_host_scan_free(struct ssh_host_scan *s)
{
	if (!s)
		return;
	scan_wait(s);
	tar_stream_clear(&s->tar);
	free(s->worktree);
	free(s->tree);
	free(s);
}

/*
 * An overlay sent ahead of the mirror's refresh whose base was not there
 * after all: the mirror brought up to date, then the base made.
 */
static int base_after_mirror(struct ssh_conn *c, const struct ssh_host_send_opts *w,
			     const char **script, const char *what)
{
	struct ssh_cmd cmd = SSH_CMD_INIT;
	struct strbuf out = STRBUF_INIT;
	int ret;

	if (trace_enabled()) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "trace: ssh: no base of %s or no mirror there: "
			    "the mirror's refresh first\n", w->tree);
		trace_write(&line);
		strbuf_release(&line);
	}
	if (w->mirror_first(w->mirror_data) < 0)
		return -1;
	script[8] = "rest";
	cmd.argv = script;
	cmd.out = &out;
	ret = host_run(c, &cmd, what, NULL) ? -1 : 0;
	strbuf_release(&out);
	return ret;
}

int ssh_host_send(struct ssh_conn *c, const struct ssh_host_send_opts *w)
{
	const char *script[] = { "sh", "-c", copy_script, "sh", w->dest, "", "", "", "", "", NULL };
	struct tar_stream tar = TAR_STREAM_INIT;
	struct ssh_host_scan now = { .tar = TAR_STREAM_INIT }, *scan = w->scan;
	struct ssh_cmd cmd = SSH_CMD_INIT;
	struct strbuf out = STRBUF_INIT, what = STRBUF_INIT;
	int ret = -1;

	if (!tame_path(w->dest))
		return error("unusable sandbox path '%s'", w->dest);
	if (w->tree && !tame_path(w->bases))
		return error("unusable path '%s' for the bases", w->bases);
	if (w->mirror_first && !tame_path(w->mirror))
		return error("unusable mirror path '%s'", w->mirror);
	if (scan && !scan_current(scan, w))
		scan = NULL;
	if (!scan) {
		scan = &now;
		now.ret = scan_worktree(&now.tar, w->repo, w->worktree, w->tree, &now.index,
					&now.refresh);
	}
	/* staging first, then the working tree's part. */
	if (scan->ret < 0 || tar_add_tree(&tar, w->staging, "", NULL, NULL) < 0)
		goto done;
	tar_append(&tar, &scan->tar);
	if (w->tree) {
		script[2] = overlay_script;
		script[6] = w->bases;
		script[7] = w->tree;
		if (w->mirror_first) {
			script[8] = "base";
			script[9] = w->mirror;
		}
	} else if (scan->refresh) {
		script[5] = "refresh";
	}
	cmd.argv = script;
	cmd.feed = tar_stream_feed;
	cmd.feed_data = &tar;
	cmd.out = &out;
	strbuf_addf(&what, "unpacking the sandbox in '%s'", w->dest);
	switch (host_run(c, &cmd, what.buf, w->tree && w->mirror_first ? NO_BASE : NULL)) {
	case 0:
		break;
	case HOST_RETRY:
		if (!base_after_mirror(c, w, script, what.buf))
			break;
		/* fallthrough */
	default:
		goto done;
	}
	if (w->progress && w->tree)
		fprintf(stderr, "Sent %zu files (%zu bytes); the rest is the base of its tree.\n",
			tar.files, tar.bytes);
	else if (w->progress)
		fprintf(stderr, "Sent %zu files (%zu bytes), checked out the rest there.\n",
			tar.files, tar.bytes);
	ret = 0;
done:
	tar_stream_clear(&now.tar);
	tar_stream_clear(&tar);
	strbuf_release(&out);
	strbuf_release(&what);
	return ret;
}

/*
 * A fixed script: remove the sandbox's directory ($1); then, under the
 * bases' lock, each base in the bases' directory ($2) that no sandbox's
 * "base" under $3 names (the names of trees only: nothing else there is
 * touched), first renamed aside, so that no half-removed base is ever
 * taken for one; with what an earlier removal or a killed new left: the
 * renamed, an index without its base, a checkout over a day old.
 */
static const char remove_script[] =
	"set -e; rm -rf -- \"$1\"; cd -- \"$2\" 2>/dev/null || exit 0; exec 9>>.lock; flock 9; "
	"for b in *; do case $b in *[!0-9a-f]*) continue;; esac; test -d \"$b\" || continue; "
	"grep -qsxF -- \"$b\" \"$3\"/*/" OVERLAY_BASE_REF " && continue; "
	"mv -T -- \"$b\" \".gone-$b-$$\"; rm -f -- \"$b.index\"; done; "
	"for i in *.index; do test ! -f \"$i\" || test -d \"${i%.index}\" || rm -f -- \"$i\"; done; "
	"exec 9>&-; rm -rf -- .gone-*; "
	"find . -maxdepth 1 -name '.new-*' -mmin +1440 -exec rm -rf -- {} +";

int ssh_host_remove_sandbox(struct ssh_conn *c, const char *dir, const char *root)
{
	struct strbuf bases = STRBUF_INIT, sandboxes = STRBUF_INIT, out = STRBUF_INIT;
	const char *rm[] = { "rm", "-rf", "--", dir, NULL };
	const char *script[] = { "sh", "-c", remove_script, "sh", dir, NULL, NULL, NULL };
	int ret = -1;

	if (!tame_path(dir) || !strcmp(dir, "/") || (root && !tame_path(root))) {
		error("refusing to remove '%s' there", dir);
		goto done;
	}
	if (root) {
		strbuf_addf(&bases, "%s/" OVERLAY_BASES, root);
		strbuf_addf(&sandboxes, "%s/sandboxes", root);
		script[5] = bases.buf;
		script[6] = sandboxes.buf;
	}
	ret = ssh_host_capture(c, root ? script : rm, NULL, 0, &out) == 0 ? 0 : -1;
done:
	strbuf_release(&bases);
	strbuf_release(&sandboxes);
	strbuf_release(&out);
	return ret;
}

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitutil.h"
#include "mirror.h"
#include "msg.h"
#include "path.h"
#include "run.h"

void mirror_path(struct strbuf *out, const char *root, const char *commondir)
{
	const char *base = strrchr(commondir, '/');
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];
	struct strbuf name = STRBUF_INIT;

	/* "/src/proj/.git" -> "proj"; "/srv/proj.git" -> "proj". */
	strbuf_addstr(&name, commondir);
	if (base && !strcmp(base, "/.git")) {
		strbuf_setlen(&name, (size_t)(base - commondir));
		base = strrchr(name.buf, '/');
	}
	base = base ? strrchr(name.buf, '/') + 1 : name.buf;
	git_odb_hash(&oid, commondir, strlen(commondir), GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &oid);
	strbuf_reset(out);
	strbuf_addf(out, "%s/mirrors/", root);
	for (const char *p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;
		/* Keep the readable part of the name tame. */
		strbuf_addch(out, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_');
	}
	strbuf_addf(out, "-%.12s.git", hex);
	strbuf_release(&name);
}

static int run_git_quiet(struct child *c, const char *what)
{
	struct strbuf err = STRBUF_INIT;
	int status, ret = 0;

	c->err = &err;
	c->no_stdin = 1;
	c->out = &err;
	status = run_child(c);
	if (status != 0) {
		strbuf_trim(&err);
		ret = error("%s failed%s%s", what, err.len ? ": " : "", err.buf);
	}
	c->out = c->err = NULL; /* they pointed here */
	strbuf_release(&err);
	return ret;
}

/* Copy into the mirror every object the host index names that it lacks. */
static int copy_index_objects(git_repository *repo, git_odb *dst)
{
	git_index *index = NULL;
	git_odb *src = NULL;
	int ret = -1;

	if (git_repository_index(&index, repo) < 0 || git_repository_odb(&src, repo) < 0) {
		error_lg2("cannot read the host repository's index");
		goto done;
	}
	for (size_t i = 0, n = git_index_entrycount(index); i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		git_odb_object *obj = NULL;
		git_oid written;

		if (!e || (e->mode & 0170000) == 0160000 || git_odb_exists(dst, &e->id))
			continue;
		if (git_odb_read(&obj, src, &e->id) < 0) {
			/* An index can name what the odb lacks (intent-to-add). */
			git_error_clear();
			continue;
		}
		if (git_odb_write(&written, dst, git_odb_object_data(obj), git_odb_object_size(obj),
				  git_odb_object_type(obj)) < 0) {
			git_odb_object_free(obj);
			error_lg2("cannot copy a staged object into the mirror");
			goto done;
		}
		git_odb_object_free(obj);
	}
	ret = 0;
done:
	git_odb_free(src);
	git_index_free(index);
	return ret;
}

/*
 * The mirror is refreshed from the repository named on the command line:
 * the path that git clone --mirror recorded as its origin is not needed,
 * and every sandbox can read the mirror's config.
 */
static int forget_origin(git_repository *m)
{
	static const char *const keys[] = { "remote.origin.url", "remote.origin.fetch",
					     "remote.origin.mirror" };
	git_config *cfg = NULL;
	int ret = 0;

	if (git_repository_config(&cfg, m) < 0)
		return error_lg2("cannot read the mirror's configuration");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int err = git_config_delete_multivar(cfg, keys[i], ".*");

		if (err < 0 && err != GIT_ENOTFOUND)
			ret = error_lg2("cannot edit the mirror's configuration");
	}
	git_error_clear();
	git_config_free(cfg);
	return ret;
}

int mirror_update(git_repository *repo, const char *commondir, const char *mirror)
{
	struct strbuf lock = STRBUF_INIT, tmp = STRBUF_INIT, dir = STRBUF_INIT;
	struct child c = CHILD_INIT;
	git_repository *m = NULL;
	git_odb *odb = NULL;
	int fd = -1, ret = -1;
	struct stat st;

	strbuf_addstr(&dir, mirror);
	*strrchr(dir.buf, '/') = '\0';
	if (mkdir_p(dir.buf, 0700) < 0) {
		error_errno("cannot create '%s'", dir.buf);
		goto done;
	}
	strbuf_addf(&lock, "%s.lock", mirror);
	fd = open(lock.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		error_errno("cannot lock the mirror '%s'", lock.buf);
		goto done;
	}

	if (lstat(mirror, &st) < 0) {
		/*
		 * First use: a local clone hard-links the host's objects, so it
		 * costs no space and no packing. Made aside, then renamed, so a
		 * half-made mirror is never seen. A repository that borrows
		 * objects (a clone made with --shared or --reference) would
		 * lend the mirror its alternates, paths of this machine that no
		 * sandbox sees: --dissociate packs what they lend instead.
		 */
		strbuf_addf(&tmp, "%s.tmp", mirror);
		if (remove_tree(tmp.buf) < 0)
			goto done;
		hardened_git(&c);
		argv_pushl(&c.args, "clone", "--mirror", "--dissociate", "--quiet", "--", commondir,
			   tmp.buf, NULL);
		if (run_git_quiet(&c, "creating the repository mirror") < 0) {
			remove_tree(tmp.buf);
			goto done;
		}
		if (rename(tmp.buf, mirror) < 0) {
			error_errno("cannot rename '%s' to '%s'", tmp.buf, mirror);
			remove_tree(tmp.buf);
			goto done;
		}
	} else {
		/* Fetch every ref, as the mirror was cloned. */
		hardened_git(&c);
		argv_pushl(&c.args, "-C", mirror, "fetch", "--quiet", "--no-tags", "--",
			   commondir, "+refs/*:refs/*", NULL);
		if (run_git_quiet(&c, "refreshing the repository mirror") < 0)
			goto done;
	}

	if (git_repository_open_bare(&m, mirror) < 0 || git_repository_odb(&odb, m) < 0) {
		error_lg2("cannot open the mirror '%s'", mirror);
		goto done;
	}
	if (forget_origin(m) < 0 || copy_index_objects(repo, odb) < 0)
		goto done;
	ret = 0;
done:
	git_odb_free(odb);
	git_repository_free(m);
	if (fd >= 0)
		close(fd); /* releases the lock */
	child_clear(&c);
	strbuf_release(&lock);
	strbuf_release(&tmp);
	strbuf_release(&dir);
	return ret;
}

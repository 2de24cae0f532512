#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "strbuf.h"
#include "unit.h"

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
}

/* A chain of depth directories under dir, each holding a file. */
static int make_deep(const char *dir, int depth)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	for (int i = 0; fd >= 0 && i < depth; i++) {
		int sub, f;

		if (mkdirat(fd, "d", 0755) < 0 || (sub = openat(fd, "d", O_RDONLY | O_DIRECTORY)) < 0) {
			close(fd);
			return -1;
		}
		f = openat(sub, "f", O_WRONLY | O_CREAT, 0644);
		if (f >= 0)
			close(f);
		if (i % 7 == 0)
			fchmod(sub, 0555); /* read-only, as git makes objects dirs */
		close(fd);
		fd = sub;
	}
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int main(void)
{
	struct strbuf tree = STRBUF_INIT, outside = STRBUF_INIT, path = STRBUF_INIT;
	struct rlimit rl;
	struct stat st;

	strbuf_addf(&tree, "%s/tree", unit_tmpdir());
	strbuf_addf(&outside, "%s/outside", unit_tmpdir());
	mkdir(outside.buf, 0755);
	strbuf_addf(&path, "%s/keep", outside.buf);
	write_file(path.buf, "mine\n");

	/* Links are removed, never followed. */
	mkdir(tree.buf, 0755);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/link", tree.buf);
	TEST(!symlink(outside.buf, path.buf), "a link out of the tree");
	check_int(remove_tree(tree.buf), ==, 0, "a tree with a link to a directory outside goes");
	TEST(lstat(tree.buf, &st) < 0 && errno == ENOENT, "all of it");
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/keep", outside.buf);
	TEST(!access(path.buf, F_OK), "what the link pointed at stays");

	/* Deeper than there are descriptors, with read-only directories. */
	mkdir(tree.buf, 0755);
	TEST(!make_deep(tree.buf, 1500), "a tree 1,500 directories deep");
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	check_int(remove_tree(tree.buf), ==, 0, "goes with 64 descriptors at most");
	TEST(lstat(tree.buf, &st) < 0 && errno == ENOENT, "every level of it");
	check_int(remove_tree(tree.buf), ==, 0, "a missing tree is no error");

	/*
	 * A bind mount inside (the same filesystem, another mount): never
	 * entered. Only where we may make one, in a mount namespace of our own.
	 */
	mkdir(tree.buf, 0755);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/mnt", tree.buf);
	mkdir(path.buf, 0755);
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(outside.buf, path.buf, "none", MS_BIND, NULL) < 0) {
		unit_skip("no bind mount here (needs CAP_SYS_ADMIN)");
	} else {
		check_int(remove_tree(tree.buf), ==, -1, "a tree with a bind mount inside is refused");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/keep", outside.buf);
		TEST(!access(path.buf, F_OK), "and the mounted directory keeps its files");
		TEST(!stat(outside.buf, &st) && (st.st_mode & 07777) == 0755,
		     "and its mode");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/mnt", tree.buf);
		umount(path.buf);
		check_int(remove_tree(tree.buf), ==, 0, "once unmounted, it goes");
	}

	strbuf_release(&tree);
	strbuf_release(&outside);
	strbuf_release(&path);
	return unit_done();
}

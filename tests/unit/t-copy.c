#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "strbuf.h"
#include "unit.h"

static const char *at(struct strbuf *sb, const char *name)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s/%s", unit_tmpdir(), name);
	return sb->buf;
}

static void write_at(const char *name, const char *data, mode_t mode)
{
	struct strbuf p = STRBUF_INIT;
	int fd = open(at(&p, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data) || close(fd) < 0)
		perror(p.buf);
	strbuf_release(&p);
}

static void read_at(struct strbuf *out, const char *name)
{
	struct strbuf p = STRBUF_INIT;

	strbuf_reset(out);
	strbuf_read_file(out, at(&p, name));
	strbuf_release(&p);
}

static int exists(const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int ret = !lstat(at(&p, name), &st);

	strbuf_release(&p);
	return ret;
}

static void make_source(void)
{
	struct strbuf p = STRBUF_INIT;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	mkdir(at(&p, "src"), 0755);
	mkdir(at(&p, "src/sub"), 0750);
	mkdir(at(&p, "src/.git"), 0755);
	mkdir(at(&p, "src/sub/.git"), 0755);
	write_at("src/run", "#!/bin/sh\n", 0755);
	write_at("src/sub/file", "data\n", 0640);
	write_at("src/.git/HEAD", "ref: refs/heads/main\n", 0644);
	write_at("src/sub/.git/HEAD", "ref: refs/heads/sub\n", 0644);
	if (symlink("run", at(&p, "src/link")) < 0)
		perror(p.buf);
	utimensat(AT_FDCWD, at(&p, "src/run"), old, 0);
	strbuf_release(&p);
}

static mode_t mode_of(const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st = { 0 };

	lstat(at(&p, name), &st);
	strbuf_release(&p);
	return st.st_mode;
}

static void test_copy_tree(void)
{
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT, got = STRBUF_INIT;
	struct stat st;
	char target[16] = "";

	check_int(copy_tree(at(&p, "src"), at(&q, "dst"), COPY_NO_DOT_GIT), ==, 0,
		  "copy_tree copies a tree into a directory it creates");
	read_at(&got, "dst/sub/file");
	check_str(got.buf, "data\n", "files, in subdirectories too");
	check_int(mode_of("dst/run") & 07777, ==, 0755, "with their mode");
	check_int(mode_of("dst/sub") & 07777, ==, 0750, "directories with theirs");
	TEST(!lstat(at(&p, "dst/run"), &st) && st.st_mtim.tv_sec == 1000000000,
	     "and their modification time");
	TEST(S_ISLNK(mode_of("dst/link")) && readlink(at(&p, "dst/link"), target,
						       sizeof(target) - 1) == 3 &&
	     !strcmp(target, "run"), "a symbolic link is copied as a link");
	TEST(!exists("dst/.git"), "COPY_NO_DOT_GIT leaves out the top .git");
	TEST(exists("dst/sub/.git/HEAD"), "but not one further down");

	check_int(copy_tree(at(&p, "src"), at(&q, "all"), 0), ==, 0, "without flags");
	read_at(&got, "all/.git/HEAD");
	check_str(got.buf, "ref: refs/heads/main\n", "the .git is copied too");

	check_int(copy_tree(at(&p, "src"), at(&q, "dst"), 0), ==, -1,
		  "copying onto what is there fails");
	read_at(&got, "dst/sub/file");
	check_str(got.buf, "data\n", "and overwrites nothing");
	check_int(copy_tree(at(&p, "no-such-dir"), at(&q, "none"), 0), ==, -1,
		  "a missing source fails");
	strbuf_release(&p);
	strbuf_release(&q);
	strbuf_release(&got);
}

/* COPY_PROGRESS counts on stderr, which we read from a file. */
static void test_progress(void)
{
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT, got = STRBUF_INIT;
	int saved, fd, ret;

	fflush(stderr);
	saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
	fd = open(at(&p, "progress"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fd, 2);
	close(fd);
	ret = copy_tree(at(&p, "src"), at(&q, "shown"), COPY_PROGRESS | COPY_NO_DOT_GIT);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	check_int(ret, ==, 0, "COPY_PROGRESS");
	read_at(&got, "progress");
	TEST(strstr(got.buf, "Copying files: 4 (") && strstr(got.buf, ", done.\n"),
	     "shows the count of files, then done");
	strbuf_release(&p);
	strbuf_release(&q);
	strbuf_release(&got);
}

static void test_snapshot(void)
{
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT;
	struct stat a, b;
	int sfd = open(at(&p, "src"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	check_int(snapshot_tree(sfd, at(&q, "snap"), SNAPSHOT_LINK), ==, 0, "snapshot_tree");
	TEST(!stat(at(&p, "src/sub/file"), &a) && !stat(at(&q, "snap/sub/file"), &b) &&
	     a.st_ino == b.st_ino, "hard-links regular files");
	TEST(!exists("snap/link"), "and leaves out symbolic links");

	sfd = open(at(&p, "src"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check_int(snapshot_tree(sfd, at(&q, "snap-copy"), 0), ==, 0, "snapshot_tree, copying");
	TEST(!stat(at(&p, "src/sub/file"), &a) && !stat(at(&q, "snap-copy/sub/file"), &b) &&
	     a.st_ino != b.st_ino && a.st_size == b.st_size, "without SNAPSHOT_LINK, copies");
	TEST(!exists("snap-copy/link"), "and leaves out symbolic links too");
	strbuf_release(&p);
	strbuf_release(&q);
}

static void test_copy_file(void)
{
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT, got = STRBUF_INIT;

	check_int(copy_file(at(&p, "src/link"), at(&q, "one"), 0), ==, -1,
		  "copy_file does not follow a link");
	check_int(copy_file(at(&p, "src/link"), at(&q, "one"), COPY_FOLLOW), ==, 0,
		  "unless told to");
	read_at(&got, "one");
	check_str(got.buf, "#!/bin/sh\n", "what it points at is copied");
	check_int(mode_of("one") & 0777, ==, 0755, "with its mode");
	check_int(copy_file(at(&p, "missing"), at(&q, "two"), COPY_MISSING_OK), ==, 0,
		  "COPY_MISSING_OK: a missing file is no error");
	TEST(!exists("two"), "and nothing is made");
	strbuf_release(&p);
	strbuf_release(&q);
	strbuf_release(&got);
}

int main(void)
{
	make_source();
	test_copy_tree();
	test_progress();
	test_snapshot();
	test_copy_file();
	return unit_done();
}

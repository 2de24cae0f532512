/*
 * odb-safe: objects larger than sand.maxObjectSize are refused from their
 * header, before anything is inflated, loose or packed.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "odb-safe.h"
#include "unit.h"

/* zlib, a first stored block holding "blob 1900000000\0" and no more. */
static const unsigned char claim[] = "\170\001\000\020\000\357\377blob 1900000000";

int main(void)
{
	git_odb_backend *be = NULL;
	void *data = NULL;
	size_t len = 0;
	git_object_t type;
	int fd = open(unit_tmpdir(), O_RDONLY | O_DIRECTORY);

	git_libgit2_init();
	check_int(safe_loose_backend_new(&be, fd), ==, 0, "a backend on an empty directory");
	close(fd);

	check_int(safe_loose_parse(be, claim, sizeof(claim), 1, NULL, &len, &type), ==, -1,
		  "a header claiming 1.9 GB is refused");
	TEST(git_error_last() && strstr(git_error_last()->message, "sand.maxObjectSize"),
	     "naming the setting: %s", git_error_last() ? git_error_last()->message : "");
	git_error_clear();
	check_int(safe_loose_parse(be, claim, sizeof(claim), 0, &data, &len, &type), ==, -1,
		  "and not read either");

	safe_object_max = (size_t)2 << 30;
	check_int(safe_loose_parse(be, claim, sizeof(claim), 1, NULL, &len, &type), ==, 0,
		  "a raised limit lets the header through");
	check_int(len, ==, 1900000000, "with its size");
	check_int(safe_loose_parse(be, claim, sizeof(claim), 0, &data, &len, &type), ==, -1,
		  "the object itself is cut short: corrupt");
	TEST(git_error_last() && strstr(git_error_last()->message, "corrupt"), "said so");
	safe_object_max = SAFE_OBJECT_MAX_DEFAULT;

	be->free(be);
	git_libgit2_shutdown();
	return unit_done();
}

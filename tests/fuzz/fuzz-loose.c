/* Fuzz the reader of a sandbox's loose objects (hostile input). */
#include <fcntl.h>
#include <stdint.h>

#include <git2.h>
#include <unistd.h>

#include "odb-safe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	git_libgit2_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static git_odb_backend *be;
	void *out = NULL;
	size_t len;
	git_object_t type;

	if (!be) {
		int fd = open("/", O_RDONLY | O_DIRECTORY);

		if (fd < 0 || safe_loose_backend_new(&be, fd) < 0)
			__builtin_trap();
		close(fd);
	}
	if (!safe_loose_parse(be, data, size, 1, NULL, &len, &type) && len > safe_object_max)
		__builtin_trap();
	if (!safe_loose_parse(be, data, size, 0, &out, &len, &type))
		git_odb_backend_data_free(be, out);
	git_error_clear();
	return 0;
}

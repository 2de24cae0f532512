/*
 * Run a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer:
 * how "make test" replays the seed corpus and every input that once
 * crashed a target (tests/fuzz/corpus/<target>/).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined by the targets that need setting up (libgit2), as libFuzzer has it. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path) < 0) {
		perror(path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)sb.buf, sb.len);
	strbuf_release(&sb);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 0, count = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			ret |= run_file(argv[i]);
			count++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d))) {
			char *path;

			if (de->d_name[0] == '.')
				continue;
			path = xstrfmt("%s/%s", argv[i], de->d_name);
			ret |= run_file(path);
			count++;
			free(path);
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d input%s\n", count, count == 1 ? "" : "s");
	return ret;
}

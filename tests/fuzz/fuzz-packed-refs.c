/* Fuzz the reader of a sandbox's packed-refs (hostile input). */
#include <stdint.h>

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	git_libgit2_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct sandbox_refs refs = { 0 };
	size_t invalid;

	sandbox_refs_parse_packed(s, &refs, &invalid);
	for (size_t i = 0; i < refs.nr; i++) {
		/* Only valid branch names come out; never anything with "..". */
		if (strncmp(refs.v[i].name, "refs/heads/", 11) || strstr(refs.v[i].name, ".."))
			__builtin_trap();
	}
	if (refs.nr > SANDBOX_MAX_REFS)
		__builtin_trap();
	sandbox_refs_clear(&refs);
	free(s);
	return 0;
}

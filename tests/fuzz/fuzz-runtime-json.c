/* Fuzz the parsers of podman's and docker's JSON output. */
#include <stdint.h>
#include <stdlib.h>

#include "runtime.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct container_info ci, *list;
	size_t nr;

	if (!oci_parse_inspect(&ci, s))
		container_info_clear(&ci);
	for (int docker = 0; docker < 2; docker++) {
		if (!oci_parse_list(&list, &nr, s, docker)) {
			for (size_t i = 0; i < nr; i++)
				if (!list[i].id)
					__builtin_trap();
			container_info_list_free(list, nr);
		}
	}
	if (!apple_parse_inspect(&ci, s))
		container_info_clear(&ci);
	if (!apple_parse_list(&list, &nr, s, LABEL_ID)) {
		for (size_t i = 0; i < nr; i++)
			if (!list[i].id)
				__builtin_trap();
		container_info_list_free(list, nr);
	}
	free(s);
	return 0;
}

/* Fuzz the store's option records (JSON), and their round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct sandbox_opts o = { 0 }, back = { 0 };

	if (!sandbox_opts_from_json(&o, s)) {
		char *json = sandbox_opts_to_json(&o);

		/* What was read is written back and read again the same. */
		if (sandbox_opts_from_json(&back, json) ||
		    back.mounts.nr != o.mounts.nr || back.branch != o.branch ||
		    (o.cpus && (!back.cpus || strcmp(o.cpus, back.cpus))))
			__builtin_trap();
		free(json);
	}
	sandbox_opts_clear(&o);
	sandbox_opts_clear(&back);
	free(s);
	return 0;
}

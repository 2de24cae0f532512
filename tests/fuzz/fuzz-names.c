/* Fuzz the parsers of names and specs from the command line and hooks. */
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "sandbox.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct strbuf why = STRBUF_INIT, name = STRBUF_INIT;
	struct mount_spec m;
	char *nl;

	if (!sandbox_name_check(s, &why) && strlen(s) > SANDBOX_NAME_MAX)
		__builtin_trap();
	strbuf_reset(&why);
	if (!mount_spec_parse(s, &m, &why)) {
		if (m.src[0] != '/' || m.dst[0] != '/')
			__builtin_trap();
		mount_spec_clear(&m);
	}
	/* A branch name always maps to a valid sandbox name, or to none. */
	if (!branch_to_sandbox_name(s, &name)) {
		strbuf_reset(&why);
		if (sandbox_name_check(name.buf, &why))
			__builtin_trap();
	}
	/* "pattern\nbranch": the hook policy's glob. */
	if ((nl = strchr(s, '\n'))) {
		*nl = '\0';
		(void)fnmatch(s, nl + 1, 0);
	}
	strbuf_release(&why);
	strbuf_release(&name);
	free(s);
	return 0;
}

/* Fuzz the reader of GIT_CONFIG_PARAMETERS ("git -c" settings). */
#include <stdint.h>
#include <stdlib.h>

#include "gitutil.h"
#include "strbuf.h"
#include "string-list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct string_list keys = STRING_LIST_INIT, values = STRING_LIST_INIT;
	char *s = xstrndup((const char *)data, size);

	if (!config_parameters_parse(s, &keys, &values) && keys.nr != values.nr)
		__builtin_trap();
	string_list_clear(&keys);
	string_list_clear(&values);
	free(s);
	return 0;
}

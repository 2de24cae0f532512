/* GIT_CONFIG_PARAMETERS, as "git -c" writes it, parsed back. */
#include <string.h>

#include "gitutil.h"
#include "string-list.h"
#include "unit.h"

static void parses(const char *env, const char *k1, const char *v1, const char *k2,
		   const char *v2)
{
	struct string_list keys = STRING_LIST_INIT, values = STRING_LIST_INIT;

	check_int(config_parameters_parse(env, &keys, &values), ==, 0, "[%s] parses", env);
	check_int(keys.nr, ==, k2 ? 2 : 1, "[%s]: number of settings", env);
	if (keys.nr >= 1) {
		check_str(keys.items[0], k1, "[%s]: first key", env);
		check_str(values.items[0], v1, "[%s]: first value", env);
	}
	if (k2 && keys.nr >= 2) {
		check_str(keys.items[1], k2, "[%s]: second key", env);
		check_str(values.items[1], v2, "[%s]: second value", env);
	}
	string_list_clear(&keys);
	string_list_clear(&values);
}

static void refused(const char *env)
{
	struct string_list keys = STRING_LIST_INIT, values = STRING_LIST_INIT;

	check_int(config_parameters_parse(env, &keys, &values), ==, -1, "[%s] is refused", env);
	string_list_clear(&keys);
	string_list_clear(&values);
}

int main(void)
{
	parses("'sand.image'='x'", "sand.image", "x", NULL, NULL);
	parses("'sand.image'='x' 'sand.cpus'='2'", "sand.image", "x", "sand.cpus", "2");
	parses(" 'sand.image=old style'", "sand.image", "old style", NULL, NULL);
	parses("'sand.sshagent'=", "sand.sshagent", "true", NULL, NULL);
	parses("'sand.sshagent'", "sand.sshagent", "true", NULL, NULL);
	parses("'sand.image'=''", "sand.image", "", NULL, NULL);
	parses("'sand.setup'='echo '\\''hi'\\''; echo a'\\!'b'", "sand.setup",
	       "echo 'hi'; echo a!b", NULL, NULL);
	parses("'sand.profile.A b.host'='ssh://h'", "sand.profile.A b.host", "ssh://h", NULL, NULL);
	refused("sand.image=x");
	refused("'sand.image'='x");
	refused("'sand.image'=x");
	refused("'a'='b'c");
	return unit_done();
}

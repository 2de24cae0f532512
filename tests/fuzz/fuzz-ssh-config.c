/*
 * Fuzz the host URL parser and the ssh_config(5) reader: the first line is
 * the URL, the rest the config file. What comes out must be usable as it
 * is: a host that cannot pass for an option, a port in range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssh.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char config_path[] = "/tmp/fuzz-ssh-config-XXXXXX";

static void remove_config(void)
{
	unlink(config_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf why = STRBUF_INIT;
	struct ssh_target t;
	char *s = xstrndup((const char *)data, size), *nl = strchr(s, '\n');
	static int fd = -1;

	if (fd < 0) {
		fd = mkstemp(config_path);
		if (fd < 0)
			abort();
		atexit(remove_config);
		/* Include paths are relative to $HOME/.ssh: keep them nowhere. */
		setenv("HOME", "/nonexistent", 1);
	}
	if (nl)
		*nl++ = '\0';
	if (ftruncate(fd, 0) < 0 || pwrite(fd, nl ? nl : "", nl ? strlen(nl) : 0, 0) < 0)
		abort();
	if (!ssh_url_parse(s, &t, &why)) {
		if (!t.host || !*t.host || t.host[0] == '-' || (t.user && t.user[0] == '-'))
			__builtin_trap();
		ssh_config_apply(&t, config_path);
		if (!t.hostname || t.hostname[0] == '-' || t.port < 1 || t.port > 65535 ||
		    !t.user || t.user[0] == '-')
			__builtin_trap();
		ssh_target_clear(&t);
	}
	strbuf_release(&why);
	free(s);
	return 0;
}

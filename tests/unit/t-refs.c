#include <string.h>

#include <git2.h>

#include "fetch.h"
#include "strbuf.h"
#include "unit.h"

#define OID "0123456789abcdef0123456789abcdef01234567"

/* A packed-refs line for refs/heads/<branch>. */
static void add_line(struct strbuf *text, const char *branch)
{
	strbuf_addf(text, OID " refs/heads/%s\n", branch);
}

int main(void)
{
	struct strbuf text = STRBUF_INIT, name = STRBUF_INIT;
	struct sandbox_refs refs = { 0 };
	size_t invalid = 0;

	git_libgit2_init();
	strbuf_addstr(&text, "# pack-refs with: peeled fully-peeled sorted\n");
	add_line(&text, "main");
	for (int i = 0; i < 30; i++)
		strbuf_addstr(&name, "d/");
	strbuf_addstr(&name, "leaf");
	add_line(&text, name.buf);	/* 33 components with refs/heads: fine */
	strbuf_reset(&name);
	for (int i = 0; i < 101; i++)
		strbuf_addstr(&name, "d/");
	strbuf_addstr(&name, "leaf");
	add_line(&text, name.buf);	/* deeper than any ref directory copes with */
	strbuf_reset(&name);
	for (int i = 0; i < 300; i++)
		strbuf_addch(&name, 'x');
	add_line(&text, name.buf);	/* a component longer than a file name */
	add_line(&text, "bad..name");

	check_int(sandbox_refs_parse_packed(text.buf, &refs, &invalid), ==, 0,
		  "packed-refs with odd names still parses");
	check_int(refs.nr, ==, 2, "the two branches within bounds are taken");
	TEST(sandbox_refs_find(&refs, "main") != NULL, "main is one");
	check_int(invalid, ==, 3, "too deep, too long a component, and invalid to git are skipped");

	sandbox_refs_clear(&refs);
	strbuf_release(&text);
	strbuf_release(&name);
	git_libgit2_shutdown();
	return unit_done();
}

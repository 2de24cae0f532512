#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "string-list.h"

void string_list_append(struct string_list *l, const char *s)
{
	ALLOC_GROW(l->items, l->nr + 1, l->alloc);
	l->items[l->nr++] = xstrdup(s);
}

long string_list_find(const struct string_list *l, const char *s)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->items[i], s))
			return (long)i;
	return -1;
}

void string_list_clear(struct string_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->nr = l->alloc = 0;
}

#ifndef STRING_LIST_H
#define STRING_LIST_H

#include <stddef.h>

/*
 * A growable list of owned strings, kept in the order they were added
 * (the values of a repeated option, the keys of a configuration list).
 */
struct string_list {
	char **items;
	size_t nr, alloc;
};
#define STRING_LIST_INIT { NULL, 0, 0 }

/* Append a copy of s. */
void string_list_append(struct string_list *l, const char *s);

/* The index of the first item equal to s, or -1. */
long string_list_find(const struct string_list *l, const char *s);

/* Free every item and the array; the list is empty and reusable after. */
void string_list_clear(struct string_list *l);

#endif

#include <stdlib.h>
#include <string.h>

#include "help.h"
#include "strbuf.h"

#define COST_INDEL 1
#define COST_REPLACE 2
#define COST_SWAP 1

static size_t min2(size_t a, size_t b)
{
	return a < b ? a : b;
}

size_t help_distance(const char *from, const char *to)
{
	size_t n = strlen(from), m = strlen(to), ret;
	/* Three rows of the table: two back (for swaps), one back, this one. */
	size_t *back2 = xcalloc(m + 1, sizeof(size_t));
	size_t *back1 = xcalloc(m + 1, sizeof(size_t));
	size_t *row = xcalloc(m + 1, sizeof(size_t));

	for (size_t j = 0; j <= m; j++)
		back1[j] = j * COST_INDEL;
	for (size_t i = 1; i <= n; i++) {
		size_t *t;

		row[0] = i * COST_INDEL;
		for (size_t j = 1; j <= m; j++) {
			size_t c = back1[j - 1] + (from[i - 1] == to[j - 1] ? 0 : COST_REPLACE);

			c = min2(c, back1[j] + COST_INDEL);	/* from[i - 1] deleted */
			c = min2(c, row[j - 1] + COST_INDEL);	/* to[j - 1] inserted */
			if (i > 1 && j > 1 && from[i - 1] == to[j - 2] && from[i - 2] == to[j - 1])
				c = min2(c, back2[j - 2] + COST_SWAP);
			row[j] = c;
		}
		t = back2;
		back2 = back1;
		back1 = row;
		row = t;
	}
	ret = back1[m];
	free(back2);
	free(back1);
	free(row);
	return ret;
}

size_t help_similar(size_t *out, const char *typed, const char *const *names, size_t nr)
{
	size_t len = strlen(typed), best = (size_t)-1, found = 0;
	size_t *dist;

	if (!len || !nr)
		return 0;
	dist = xcalloc(nr, sizeof(*dist));
	for (size_t i = 0; i < nr; i++) {
		/* The start of a name is as good as the name: "stat", "st". */
		dist[i] = !strncmp(names[i], typed, len) ? 0 : help_distance(typed, names[i]);
		best = min2(best, dist[i]);
	}
	/*
	 * Close enough: at most three edits, and at most about half the word
	 * typed ("lsit" is 'ls', "rn" is nothing in particular).
	 */
	if (best == 0 || (best <= 3 && 2 * best <= len + 1))
		for (size_t i = 0; i < nr; i++)
			if (dist[i] == best)
				out[found++] = i;
	free(dist);
	return found;
}

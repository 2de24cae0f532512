#ifndef HELP_H
#define HELP_H

#include <stddef.h>

/*
 * "Did you mean?" for a mistyped command, in the manner of git's help.c
 * (whose code this is not).
 */

/*
 * The cost of turning from into to, counting each character inserted or
 * deleted as 1, each one replaced as 2 and each swap of two neighbours as 1
 * (the optimal string alignment form of Damerau-Levenshtein).
 */
size_t help_distance(const char *from, const char *to);

/*
 * Which of names[0..nr) the user most likely meant by typed: a name it
 * begins, else the closest, if close enough. Their indexes go to out
 * (room for nr), in the order of names; returns how many (0: none is).
 */
size_t help_similar(size_t *out, const char *typed, const char *const *names, size_t nr);

#endif

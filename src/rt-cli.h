#ifndef RT_CLI_H
#define RT_CLI_H

/*
 * What the command-line backends (podman and docker, Apple's container)
 * share: running "<program> <verb> ..." with its output captured, and
 * reading its JSON. Internal to the backends.
 */
#include <cjson/cJSON.h>

#include "run.h"
#include "runtime.h"

/* Start an argv with "<program> <verb>". */
void rt_child_init(struct runtime *rt, struct child *c, const char *verb);
/* Run it with stdout in out (when given) and stderr in err; its status or -1. */
int rt_run(struct runtime *rt, struct child *c, struct strbuf *out, struct strbuf *err);
/* Say that "<program> <verb>" failed, with its stderr; returns -1. */
int rt_failed(struct runtime *rt, struct child *c, const char *verb, int status);

const char *json_str(const cJSON *obj, const char *key);
char *dup_or_null(const char *s);
/* A label's value from a JSON object of labels, or docker's "k=v,k=v". */
char *label_value(const cJSON *labels, const char *key);

#endif

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
/*
 * Say that "<program> <verb>" failed, with its stderr (or, when the
 * backend can tell its service is down, how to start it); returns -1.
 */
int rt_failed(struct runtime *rt, struct child *c, const char *verb, int status);
/*
 * "<program> <verb...> [<quiet>] <image>": with progress, on the terminal
 * (its stdout and stderr both on our stderr); else quiet, its stderr in
 * err. Its status, or -1.
 */
int rt_pull(struct runtime *rt, const char *const *verb, const char *quiet, const char *image,
	    int progress, struct strbuf *err);
/* "<program> build <args>...", shown or captured as rt_pull does. */
int rt_build(struct runtime *rt, const char *const *args, int progress, struct strbuf *err);
/* "<program> <verb> <args>", a missing container being success when missing_ok. */
int rt_simple(struct runtime *rt, const char *verb, const char *const *args, int missing_ok);
/*
 * The container id "create" printed (its last line; fallback when it
 * printed none), checked to be a plain identifier, into id_out.
 */
int rt_created_id(struct runtime *rt, struct strbuf *out, const char *fallback,
		  struct strbuf *id_out);
/*
 * Run the argv built in c (which this clears) for its output, into out.
 * Returns 0; RUNTIME_NOT_FOUND when missing_ok and the CLI says there is
 * no such container; or -1, having said that "<program> <verb>" failed.
 */
int rt_run_output(struct runtime *rt, struct child *c, const char *verb, int missing_ok,
		  struct strbuf *out);
/*
 * Run the "create" argv built in c (which this clears) from spec, calling
 * spec->meanwhile as it runs, and read the id it printed (fallback when it
 * printed none) into id_out; 0, or -1 when either failed, or
 * RUNTIME_NO_IMAGE (see container_spec.image_unchecked). A "run" (see
 * container_spec.started) that failed gives the id of the container it
 * made, found by its name and sandbox id.
 */
int rt_create_run(struct runtime *rt, struct child *c, const struct container_spec *spec,
		  const char *fallback, struct strbuf *id_out);
/* Whether the CLI's error output says the image is not there. */
int rt_image_missing(const struct strbuf *err);
/* "start <ctr>" and "stop --time 3 <ctr>", as both CLI families spell them. */
int rt_start(struct runtime *rt, const char *ctr);
int rt_stop(struct runtime *rt, const char *ctr);
/* The exec operations, for backends whose exec takes the documented flags. */
int rt_exec(struct runtime *rt, const char *ctr, const struct exec_opts *o,
	    const char *const *cmd);
int rt_exec_capture(struct runtime *rt, const char *ctr, const struct exec_opts *o,
		    const char *const *cmd, struct strbuf *out);

const char *json_str(const cJSON *obj, const char *key);
char *dup_or_null(const char *s);
/* A label's value from a JSON object of labels, or docker's "k=v,k=v". */
char *label_value(const cJSON *labels, const char *key);

#endif

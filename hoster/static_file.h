/* static_file: the handler for files under the root: resolve beneath the
 * root, cache policy (content_addressed.h), conditional and range
 * decisions, then the body from the worker's cache, from memory, or by
 * sendfile, answered through respond.h. */
#ifndef DCN_STATIC_FILE_H
#define DCN_STATIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct request;

void static_file_respond(struct request *r);

/* Answers r with a body held in memory that was read from a file with
 * stat st (validators, conditional and range decisions as for a file;
 * revalidated, never "immutable"). */
struct stat;
void static_file_send_memory(struct request *r, const char *body, const struct stat *st);

#endif

/*
 * A command in Redis' wire form (RESP), queued on a hiredis connection: what
 * redisAppendCommandArgv does, without formatting each argument's header through
 * sds' printf (a batch's commit carries hundreds of arguments). Private to the store
 * layer.
 */
#ifndef CFD_STORE_RESP_H
#define CFD_STORE_RESP_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* Queues the command of argc arguments (argv[i], lens[i] bytes; lens NULL: strings) on
 * rc's output buffer;
 * redisGetReply() sends it and reads its reply.
 * @returns REDIS_OK, or REDIS_ERR (out of memory; rc->err set). */
int cfd_resp_append(redisContext *rc, int argc, const char *const *argv,
                    const size_t *lens);

#endif

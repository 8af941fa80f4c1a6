/*
 * Read-only views of the store for operators; see include/confirmd/inspect.h.
 */
#include "confirmd/inspect.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"

struct cfd_inspect {
    redisContext *rc;
    char *prefix;
};

/* Fills errstr from a failed reply or connection. @returns CFD_ERR_IO for a lost
 * connection, CFD_ERR otherwise. */
static cfd_err fail(cfd_inspect *in, redisReply *r, const char *what, char *errstr,
                    size_t errstr_size)
{
    bool lost = r == NULL;

    if (!r)
        snprintf(errstr, errstr_size, "redis %s: %s", what,
                 in->rc->errstr[0] ? in->rc->errstr : "connection lost");
    else if (r->type == REDIS_REPLY_ERROR)
        snprintf(errstr, errstr_size, "redis %s: %s", what, r->str);
    else
        snprintf(errstr, errstr_size, "redis %s: unexpected reply type %d", what, r->type);
    freeReplyObject(r);
    return lost ? CFD_ERR_IO : CFD_ERR;
}

/* Runs one command that must not fail (AUTH, SELECT). */
static cfd_err run_ok(cfd_inspect *in, redisReply *r, const char *what, char *errstr,
                      size_t errstr_size)
{
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(in, r, what, errstr,
                    errstr_size); /* the reply never holds the password */
    freeReplyObject(r);
    return CFD_OK;
}

cfd_inspect *cfd_inspect_new(const cfd_store_opts *o, char *errstr, size_t errstr_size)
{
    int64_t ms = o->timeout_ms > 0 ? o->timeout_ms : 2000;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    bool unix_socket = o->unix_socket && *o->unix_socket;
    cfd_inspect *in = cfd_xcalloc(1, sizeof(*in));

    in->prefix = cfd_xstrdup(o->key_prefix);
    in->rc = unix_socket ? redisConnectUnixWithTimeout(o->unix_socket, tv)
                         : redisConnectWithTimeout(o->host, o->port, tv);
    if (!in->rc || in->rc->err) {
        snprintf(errstr, errstr_size, "redis connect %s:%d: %s",
                 unix_socket ? o->unix_socket : o->host, o->port,
                 in->rc ? in->rc->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(in->rc, tv);
    if (o->password && *o->password &&
        run_ok(in,
               o->user && *o->user
                   ? redisCommand(in->rc, "AUTH %s %s", o->user, o->password)
                   : redisCommand(in->rc, "AUTH %s", o->password),
               "AUTH", errstr, errstr_size))
        goto fail;
    if (o->db &&
        run_ok(in, redisCommand(in->rc, "SELECT %d", o->db), "SELECT", errstr, errstr_size))
        goto fail;
    return in;
fail:
    cfd_inspect_destroy(in);
    return NULL;
}

void cfd_inspect_destroy(cfd_inspect *in)
{
    if (!in)
        return;
    if (in->rc)
        redisFree(in->rc);
    free(in->prefix);
    free(in);
}

/* Reads the replies of n pipelined commands; keeps them in out[] (freed by the caller
 * with replies_free) and @returns CFD_OK when every one came. */
static cfd_err replies(cfd_inspect *in, size_t n, redisReply **out, const char *what,
                       char *errstr, size_t errstr_size)
{
    cfd_err err = CFD_OK;

    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        if (!err && redisGetReply(in->rc, (void **)&out[i]) != REDIS_OK)
            err = fail(in, NULL, what, errstr, errstr_size);
    }
    return err;
}

static void replies_free(redisReply **r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        freeReplyObject(r[i]);
}

cfd_err cfd_inspect_partitions(cfd_inspect *in, int32_t *n, char *errstr,
                               size_t errstr_size)
{
    redisReply *r[CFD_INSPECT_MAX_PARTS];
    cfd_err err;

    *n = 0;
    for (int32_t p = 0; p < CFD_INSPECT_MAX_PARTS; p++)
        redisAppendCommand(in->rc, "EXISTS %s:{p%" PRId32 "}:meta", in->prefix, p);
    err = replies(in, CFD_INSPECT_MAX_PARTS, r, "EXISTS meta", errstr, errstr_size);
    for (int32_t p = 0; !err && p < CFD_INSPECT_MAX_PARTS; p++)
        if (r[p]->type == REDIS_REPLY_INTEGER && r[p]->integer > 0)
            *n = p + 1;
    replies_free(r, CFD_INSPECT_MAX_PARTS);
    return err;
}

cfd_err cfd_inspect_find(cfd_inspect *in, const char *order, int32_t nparts, int32_t *part,
                         cfd_blob *state, char *errstr, size_t errstr_size)
{
    redisReply **r;
    cfd_err err;

    *part = -1;
    state->data = NULL;
    state->len = 0;
    if (nparts <= 0)
        return CFD_OK;
    r = cfd_xmalloc(sizeof(*r) * (size_t)nparts);
    for (int32_t p = 0; p < nparts; p++)
        redisAppendCommand(in->rc, "GET %s:{p%" PRId32 "}:wo:%s", in->prefix, p, order);
    err = replies(in, (size_t)nparts, r, "GET state", errstr, errstr_size);
    for (int32_t p = 0; !err && p < nparts && *part < 0; p++) {
        if (r[p]->type != REDIS_REPLY_STRING)
            continue;
        *part = p;
        state->len = r[p]->len;
        state->data = cfd_xmalloc(r[p]->len + 1);
        memcpy(state->data, r[p]->str, r[p]->len);
    }
    replies_free(r, (size_t)nparts);
    free(r);
    return err;
}

/* Splits "<prefix>:{p<N>}:wo:<order>" into N and the order. @returns false otherwise. */
static bool parse_state_key(const cfd_inspect *in, const char *key, int32_t *part,
                            const char **order)
{
    size_t pl = strlen(in->prefix);
    char *end;
    long p;

    if (strncmp(key, in->prefix, pl) != 0 || strncmp(key + pl, ":{p", 3) != 0)
        return false;
    p = strtol(key + pl + 3, &end, 10);
    if (end == key + pl + 3 || p < 0 || p > INT32_MAX || strncmp(end, "}:wo:", 5) != 0)
        return false;
    *part = (int32_t)p;
    *order = end + 5;
    return true;
}

/* Reads the states of one SCAN page's keys and calls fn. @returns nonzero to stop. */
static cfd_err states_of_page(cfd_inspect *in, const redisReply *keys,
                              cfd_inspect_state_fn fn, void *ctx, int *stop, char *errstr,
                              size_t errstr_size)
{
    redisReply **r = cfd_xmalloc(sizeof(*r) * (keys->elements ? keys->elements : 1));
    cfd_err err;

    for (size_t i = 0; i < keys->elements; i++)
        redisAppendCommand(in->rc, "GET %b", keys->element[i]->str,
                           (size_t)keys->element[i]->len);
    err = replies(in, keys->elements, r, "GET state", errstr, errstr_size);
    for (size_t i = 0; !err && !*stop && i < keys->elements; i++) {
        int32_t part;
        const char *order;

        /* Gone since the SCAN, or a key of another shape that matched the pattern. */
        if (r[i]->type == REDIS_REPLY_STRING &&
            parse_state_key(in, keys->element[i]->str, &part, &order))
            *stop = fn(part, order, r[i]->str, r[i]->len, ctx);
    }
    replies_free(r, keys->elements);
    free(r);
    return err;
}

/* Copies s into out, escaping the characters glob-style patterns treat specially. */
static void glob_escape(const char *s, char *out, size_t n)
{
    size_t k = 0;

    for (; *s && k + 2 < n; s++) {
        if (strchr("*?[]\\", *s))
            out[k++] = '\\';
        out[k++] = *s;
    }
    out[k] = '\0';
}

cfd_err cfd_inspect_states(cfd_inspect *in, cfd_inspect_state_fn fn, void *ctx,
                           char *errstr, size_t errstr_size)
{
    char pattern[512], prefix[256], cursor[32] = "0";
    cfd_err err = CFD_OK;
    int stop = 0;

    glob_escape(in->prefix, prefix, sizeof(prefix));
    snprintf(pattern, sizeof(pattern), "%s:{p*}:wo:*", prefix);
    do {
        redisReply *r =
            redisCommand(in->rc, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);

        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY)
            return fail(in, r, "SCAN", errstr, errstr_size);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        err = states_of_page(in, r->element[1], fn, ctx, &stop, errstr, errstr_size);
        freeReplyObject(r);
    } while (!err && !stop && strcmp(cursor, "0") != 0);
    return err;
}

cfd_err cfd_inspect_timers(cfd_inspect *in, int32_t part, cfd_inspect_timer **timers,
                           size_t *n, char *errstr, size_t errstr_size)
{
    redisReply *r = redisCommand(in->rc, "ZRANGE %s:{p%" PRId32 "}:timers 0 -1 WITHSCORES",
                                 in->prefix, part);

    *timers = NULL;
    *n = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return fail(in, r, "ZRANGE timers", errstr, errstr_size);
    *timers = cfd_xcalloc(r->elements / 2 + 1, sizeof(**timers));
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        (*timers)[*n].order = cfd_xstrdup(r->element[i]->str ? r->element[i]->str : "");
        (*timers)[*n].at_ms =
            strtoll(r->element[i + 1]->str ? r->element[i + 1]->str : "0", NULL, 10);
        (*n)++;
    }
    freeReplyObject(r);
    return CFD_OK;
}

void cfd_inspect_timers_free(cfd_inspect_timer *timers, size_t n)
{
    for (size_t i = 0; timers && i < n; i++)
        free(timers[i].order);
    free(timers);
}

cfd_err cfd_inspect_meta_get(cfd_inspect *in, int32_t part, cfd_inspect_meta *out,
                             char *errstr, size_t errstr_size)
{
    redisReply *r[2];
    cfd_err err;

    memset(out, 0, sizeof(*out));
    redisAppendCommand(in->rc, "HMGET %s:{p%" PRId32 "}:meta epoch owner", in->prefix,
                       part);
    redisAppendCommand(in->rc, "HLEN %s:{p%" PRId32 "}:outbox", in->prefix, part);
    err = replies(in, 2, r, "HMGET meta", errstr, errstr_size);
    if (!err && (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements != 2 ||
                 r[1]->type != REDIS_REPLY_INTEGER)) {
        err = fail(in, r[0], "HMGET meta", errstr, errstr_size);
        r[0] = NULL;
    }
    if (!err) {
        if (r[0]->element[0]->type == REDIS_REPLY_STRING)
            out->epoch = strtoll(r[0]->element[0]->str, NULL, 10);
        if (r[0]->element[1]->type == REDIS_REPLY_STRING)
            snprintf(out->owner, sizeof(out->owner), "%s", r[0]->element[1]->str);
        out->outbox = r[1]->integer;
    }
    replies_free(r, 2);
    return err;
}

cfd_err cfd_inspect_sim_clock(cfd_inspect *in, int64_t *now_ms, char *errstr,
                              size_t errstr_size)
{
    redisReply *r = redisCommand(in->rc, "GET %s:clock", in->prefix);

    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        return fail(in, r, "GET clock", errstr, errstr_size);
    *now_ms = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return CFD_OK;
}

cfd_err cfd_inspect_outbox(cfd_inspect *in, int32_t part, size_t max, cfd_outbox_fn fn,
                           void *ctx, char *errstr, size_t errstr_size)
{
    char cursor[32] = "0";
    size_t given = 0;

    do {
        redisReply *r = redisCommand(in->rc, "HSCAN %s:{p%" PRId32 "}:outbox %s COUNT 500",
                                     in->prefix, part, cursor);

        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY)
            return fail(in, r, "HSCAN outbox", errstr, errstr_size);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i + 1 < r->element[1]->elements && given < max;
             i += 2, given++) {
            const redisReply *id = r->element[1]->element[i],
                             *f = r->element[1]->element[i + 1];
            fn(id->str, f->str, f->len, ctx);
        }
        freeReplyObject(r);
    } while (given < max && strcmp(cursor, "0") != 0);
    return CFD_OK;
}

cfd_err cfd_inspect_applied(cfd_inspect *in, int32_t part, const char *topic,
                            int64_t *offset, char *errstr, size_t errstr_size)
{
    redisReply *r =
        redisCommand(in->rc, "HGET %s:{p%" PRId32 "}:meta off:%s", in->prefix, part, topic);

    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        return fail(in, r, "HGET offset", errstr, errstr_size);
    *offset = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    return CFD_OK;
}

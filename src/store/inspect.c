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
#include "conn.h"

struct cfd_inspect {
    redisContext *rc; /* one Redis; NULL on a cluster */
    cfd_cluster *cl;  /* a Redis Cluster's router; NULL on one Redis */
    char *prefix;
};

/* Fills errstr from a failed reply (NULL: the connection failed), frees it.
 * @returns as cfd_conn_error(). */
static cfd_err fail(cfd_inspect *in, redisReply *r, const char *what, char *errstr,
                    size_t errstr_size)
{
    cfd_err err = cfd_conn_error(in->rc, r, what, errstr, errstr_size);
    freeReplyObject(r);
    return err;
}

cfd_inspect *cfd_inspect_new(const cfd_store_opts *o, char *errstr, size_t errstr_size)
{
    cfd_inspect *in = cfd_xcalloc(1, sizeof(*in));
    cfd_err err;

    in->prefix = cfd_xstrdup(o->key_prefix);
    if (o->cluster ? !(in->cl = cfd_conn_cluster(o, &err, errstr, errstr_size))
                   : cfd_conn_open(o, &in->rc, errstr, errstr_size) != CFD_OK) {
        cfd_inspect_destroy(in);
        return NULL;
    }
    return in;
}

void cfd_inspect_destroy(cfd_inspect *in)
{
    if (!in)
        return;
    if (in->rc)
        redisFree(in->rc);
    cfd_cluster_destroy(in->cl);
    free(in->prefix);
    free(in);
}

/* Sends n commands on keys of key's slot as one pipeline, to the one Redis or to the
 * slot's master (redirections followed), and reads their replies into r[] (freed by
 * the caller). @returns CFD_OK with every reply set, or the error (every r[i] NULL). */
static cfd_err exec(cfd_inspect *in, const char *key, const cfd_cluster_cmd *cmds, size_t n,
                    redisReply **r, const char *what, char *errstr, size_t errstr_size)
{
    char err_in[400];

    if (!in->cl)
        return cfd_conn_pipeline(in->rc, cmds, n, r, what, errstr, errstr_size);
    if (cfd_cluster_pipeline(in->cl, cfd_cluster_key_slot(key, strlen(key)), cmds, n, NULL,
                             r, err_in, sizeof(err_in)) == CFD_OK)
        return CFD_OK;
    snprintf(errstr, errstr_size, "redis %s: %s", what, err_in);
    return CFD_ERR_IO;
}

/* exec() of one command of argc NUL-terminated arguments, its key argv[1].
 * @returns the reply (free it), or NULL with *err set and errstr filled. */
static redisReply *exec1(cfd_inspect *in, int argc, const char **argv, cfd_err *err,
                         const char *what, char *errstr, size_t errstr_size)
{
    cfd_cluster_cmd cmd = {.argc = argc, .argv = argv};
    redisReply *r = NULL;

    *err = exec(in, argv[1], &cmd, 1, &r, what, errstr, errstr_size);
    return r;
}

static void replies_free(redisReply **r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        freeReplyObject(r[i]);
}

/*
 * Sends cmd (a command name) on the key "<prefix>:{p<N>}:<suffix>" of every partition N
 * of [0, n) and reads the replies into r[N] (freed by the caller): one pipeline on one
 * Redis; on a cluster one call per partition, each to its slot's master.
 * @returns CFD_OK with every reply set, or the error.
 */
static cfd_err each_part(cfd_inspect *in, const char *cmd, int32_t n, const char *suffix,
                         redisReply **r, const char *what, char *errstr, size_t errstr_size)
{
    char(*keys)[512] = cfd_xmalloc(sizeof(*keys) * (size_t)n);
    const char *(*argv)[2] = cfd_xmalloc(sizeof(*argv) * (size_t)n);
    cfd_cluster_cmd *cmds = cfd_xmalloc(sizeof(*cmds) * (size_t)n);
    cfd_err err = CFD_OK;

    for (int32_t p = 0; p < n; p++) {
        snprintf(keys[p], sizeof(keys[p]), "%s:{p%" PRId32 "}:%s", in->prefix, p, suffix);
        argv[p][0] = cmd;
        argv[p][1] = keys[p];
        cmds[p] = (cfd_cluster_cmd){.argc = 2, .argv = argv[p]};
        r[p] = NULL;
    }
    if (!in->cl)
        err = cfd_conn_pipeline(in->rc, cmds, (size_t)n, r, what, errstr, errstr_size);
    for (int32_t p = 0; in->cl && p < n && !err; p++)
        err = exec(in, keys[p], &cmds[p], 1, &r[p], what, errstr, errstr_size);
    if (err) {
        replies_free(r, (size_t)n);
        memset(r, 0, sizeof(*r) * (size_t)n);
    }
    free(keys);
    free(argv);
    free(cmds);
    return err;
}

cfd_err cfd_inspect_partitions(cfd_inspect *in, int32_t *n, char *errstr,
                               size_t errstr_size)
{
    redisReply *r[CFD_INSPECT_MAX_PARTS];
    cfd_err err;

    *n = 0;
    err = each_part(in, "EXISTS", CFD_INSPECT_MAX_PARTS, "meta", r, "EXISTS meta", errstr,
                    errstr_size);
    for (int32_t p = 0; !err && p < CFD_INSPECT_MAX_PARTS; p++)
        if (r[p]->type == REDIS_REPLY_INTEGER && r[p]->integer > 0)
            *n = p + 1;
    replies_free(r, CFD_INSPECT_MAX_PARTS);
    return err;
}

cfd_err cfd_inspect_find(cfd_inspect *in, const char *order, int32_t nparts, int32_t *part,
                         cfd_blob *state, char *errstr, size_t errstr_size)
{
    char suffix[480];
    redisReply **r;
    cfd_err err;

    *part = -1;
    state->data = NULL;
    state->len = 0;
    if (nparts <= 0)
        return CFD_OK;
    snprintf(suffix, sizeof(suffix), "wo:%s", order);
    r = cfd_xmalloc(sizeof(*r) * (size_t)nparts);
    err = each_part(in, "GET", nparts, suffix, r, "GET state", errstr, errstr_size);
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

/* A pass over the stored keys of one kind: "<prefix>:{p<N>}:<kind>:<name>". */
typedef struct key_scan {
    const char *kind; /* "wo": work-order states; "city": the city rule's */
    cfd_inspect_state_fn fn;
    void *ctx;
    int stop; /* fn's nonzero answer */
} key_scan;

/* Splits "<prefix>:{p<N>}:<kind>:<name>" into N and the name. @returns false
 * otherwise. */
static bool parse_state_key(const cfd_inspect *in, const char *kind, const char *key,
                            int32_t *part, const char **name)
{
    size_t pl = strlen(in->prefix), kl = strlen(kind);
    char *end;
    long p;

    if (strncmp(key, in->prefix, pl) != 0 || strncmp(key + pl, ":{p", 3) != 0)
        return false;
    p = strtol(key + pl + 3, &end, 10);
    if (end == key + pl + 3 || p < 0 || p > INT32_MAX || strncmp(end, "}:", 2) != 0 ||
        strncmp(end + 2, kind, kl) != 0 || end[2 + kl] != ':')
        return false;
    *part = (int32_t)p;
    *name = end + 3 + kl;
    return true;
}

/* Reads the states of one SCAN page's keys on c, the node that listed them, and calls
 * ks->fn. */
static cfd_err states_of_page(cfd_inspect *in, redisContext *c, const redisReply *keys,
                              key_scan *ks, char *errstr, size_t errstr_size)
{
    size_t n = keys->elements ? keys->elements : 1;
    redisReply **r = cfd_xmalloc(sizeof(*r) * n);
    const char *(*argv)[2] = cfd_xmalloc(sizeof(*argv) * n);
    size_t(*lens)[2] = cfd_xmalloc(sizeof(*lens) * n);
    cfd_cluster_cmd *cmds = cfd_xmalloc(sizeof(*cmds) * n);
    cfd_err err;

    for (size_t i = 0; i < keys->elements; i++) {
        argv[i][0] = "GET";
        lens[i][0] = 3;
        argv[i][1] = keys->element[i]->str;
        lens[i][1] = keys->element[i]->len;
        cmds[i] = (cfd_cluster_cmd){.argc = 2, .argv = argv[i], .lens = lens[i]};
    }
    err = cfd_conn_pipeline(c, cmds, keys->elements, r, "GET state", errstr, errstr_size);
    for (size_t i = 0; !err && !ks->stop && i < keys->elements; i++) {
        int32_t part;
        const char *name;

        /* Gone since the SCAN (or moved by a slot migration meanwhile), or a key of
         * another shape that matched the pattern. */
        if (r[i]->type == REDIS_REPLY_STRING &&
            parse_state_key(in, ks->kind, keys->element[i]->str, &part, &name))
            ks->stop = ks->fn(part, name, r[i]->str, r[i]->len, ks->ctx);
    }
    if (!err)
        replies_free(r, keys->elements);
    free(r);
    free(argv);
    free(lens);
    free(cmds);
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

/* The states of every key of c's keyspace that matches pattern (a SCAN of one node). */
static cfd_err states_of_node(cfd_inspect *in, redisContext *c, const char *pattern,
                              key_scan *ks, char *errstr, size_t errstr_size)
{
    char cursor[32] = "0";
    cfd_err err = CFD_OK;

    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);

        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            err = cfd_conn_error(c, r, "SCAN", errstr, errstr_size);
            freeReplyObject(r);
            return err;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        err = states_of_page(in, c, r->element[1], ks, errstr, errstr_size);
        freeReplyObject(r);
    } while (!err && !ks->stop && strcmp(cursor, "0") != 0);
    return err;
}

/* The states of every key of ks->kind of every partition: one Redis' keyspace, or
 * every master's of a cluster. */
static cfd_err states_of_kind(cfd_inspect *in, key_scan *ks, char *errstr,
                              size_t errstr_size)
{
    char pattern[512], prefix[256], addr[64], done[CFD_CLUSTER_SLOTS / 64][64];
    size_t n_done = 0;
    cfd_err err = CFD_OK;

    glob_escape(in->prefix, prefix, sizeof(prefix));
    snprintf(pattern, sizeof(pattern), "%s:{p*}:%s:*", prefix, ks->kind);
    if (!in->cl)
        return states_of_node(in, in->rc, pattern, ks, errstr, errstr_size);
    /* A cluster: every master's keyspace, each reached through a slot it serves. */
    for (int slot = 0; slot < CFD_CLUSTER_SLOTS && !err && !ks->stop; slot++) {
        bool seen = false;
        cfd_cluster_slot_master(in->cl, slot, addr, sizeof(addr));
        for (size_t i = 0; i < n_done && !seen; i++)
            seen = strcmp(done[i], addr) == 0;
        if (seen || !*addr || n_done == sizeof(done) / sizeof(done[0]))
            continue;
        snprintf(done[n_done++], sizeof(done[0]), "%s", addr);
        char err_in[400];
        redisContext *c = cfd_cluster_conn_for_slot(in->cl, slot, err_in, sizeof(err_in));
        if (!c) {
            snprintf(errstr, errstr_size, "redis SCAN: %s", err_in);
            return CFD_ERR_IO;
        }
        if ((err = states_of_node(in, c, pattern, ks, errstr, errstr_size)) == CFD_ERR_IO)
            cfd_cluster_failed(in->cl, c);
    }
    return err;
}

cfd_err cfd_inspect_states(cfd_inspect *in, cfd_inspect_state_fn fn, void *ctx,
                           char *errstr, size_t errstr_size)
{
    key_scan ks = {.kind = "wo", .fn = fn, .ctx = ctx};
    return states_of_kind(in, &ks, errstr, errstr_size);
}

cfd_err cfd_inspect_city_states(cfd_inspect *in, cfd_inspect_state_fn fn, void *ctx,
                                char *errstr, size_t errstr_size)
{
    key_scan ks = {.kind = "city", .fn = fn, .ctx = ctx};
    return states_of_kind(in, &ks, errstr, errstr_size);
}

cfd_err cfd_inspect_timers(cfd_inspect *in, int32_t part, cfd_inspect_timer **timers,
                           size_t *n, char *errstr, size_t errstr_size)
{
    char key[512];
    cfd_err err;

    *timers = NULL;
    *n = 0;
    snprintf(key, sizeof(key), "%s:{p%" PRId32 "}:timers", in->prefix, part);
    const char *argv[] = {"ZRANGE", key, "0", "-1", "WITHSCORES"};
    redisReply *r = exec1(in, 5, argv, &err, "ZRANGE timers", errstr, errstr_size);
    if (err)
        return err;
    if (r->type != REDIS_REPLY_ARRAY)
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
    char meta[512], outbox[512];
    redisReply *r[2];
    cfd_err err;

    memset(out, 0, sizeof(*out));
    snprintf(meta, sizeof(meta), "%s:{p%" PRId32 "}:meta", in->prefix, part);
    snprintf(outbox, sizeof(outbox), "%s:{p%" PRId32 "}:outbox", in->prefix, part);
    const char *hmget[] = {"HMGET", meta, "epoch", "owner"}, *hlen[] = {"HLEN", outbox};
    cfd_cluster_cmd cmds[2] = {{.argc = 4, .argv = hmget}, {.argc = 2, .argv = hlen}};
    if ((err = exec(in, meta, cmds, 2, r, "HMGET meta", errstr, errstr_size)))
        return err;
    if (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements != 2 ||
        r[1]->type != REDIS_REPLY_INTEGER) {
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
    char key[512];
    cfd_err err;

    snprintf(key, sizeof(key), "%s:clock", in->prefix);
    const char *argv[] = {"GET", key};
    redisReply *r = exec1(in, 2, argv, &err, "GET clock", errstr, errstr_size);
    if (err)
        return err;
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)
        return fail(in, r, "GET clock", errstr, errstr_size);
    *now_ms = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return CFD_OK;
}

cfd_err cfd_inspect_outbox(cfd_inspect *in, int32_t part, size_t max, cfd_outbox_fn fn,
                           void *ctx, char *errstr, size_t errstr_size)
{
    char key[512], cursor[32] = "0";
    size_t given = 0;
    cfd_err err;

    snprintf(key, sizeof(key), "%s:{p%" PRId32 "}:outbox", in->prefix, part);
    do {
        const char *argv[] = {"HSCAN", key, cursor, "COUNT", "500"};
        redisReply *r = exec1(in, 5, argv, &err, "HSCAN outbox", errstr, errstr_size);

        if (err)
            return err;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
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
    char key[512], field[512];
    cfd_err err;

    snprintf(key, sizeof(key), "%s:{p%" PRId32 "}:meta", in->prefix, part);
    snprintf(field, sizeof(field), "off:%s", topic);
    const char *argv[] = {"HGET", key, field};
    redisReply *r = exec1(in, 3, argv, &err, "HGET offset", errstr, errstr_size);
    if (err)
        return err;
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)
        return fail(in, r, "HGET offset", errstr, errstr_size);
    *offset = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    return CFD_OK;
}

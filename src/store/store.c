/*
 * The Redis store: connection, scripts, reads and the atomic batch commit.
 * See include/confirmd/store.h for the key layout and the guarantees.
 */
#include "confirmd/store.h"

#include "confirmd/alloc.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cfd_scripts.h"
#include "confirmd/cluster.h"
#include "confirmd/log.h"
#include "conn.h"
#include "resp.h"

#define MOD "store"

struct cfd_store {
    redisContext *rc;  /* NULL while a reconnect failed */
    cfd_store_opts co; /* how to connect: strings owned (copied) */
    char *host;
    char *unix_socket;
    char *user;
    char *password;
    char *cluster_seeds;
    int64_t timeout_ms;
    char *prefix;
    char apply_sha[41];
    char claim_sha[41];
    /* On a Redis Cluster only (rc is then NULL): */
    cfd_cluster *cl;
    char (*masters)[64]; /* per partition: its master ("host:port") as last checked */
    size_t n_masters;
    cfd_cluster_how part_how;   /* a partition's calls: MOVED refused (part_check) */
    cfd_cluster_how commit_how; /* and a commit's: WAIT for replicas too */
    cfd_histogram round_trips;  /* every call's round trip, failed ones too */
    /* Commits sent ahead (cfd_store_commit_send), oldest first: DONE ones (reply read,
     * not yet taken by cfd_store_commit_wait), then either SENT ones (replies on
     * their way) or RESEND ones (their connection failed; cfd_store_resend). */
    struct pend *pend;
    size_t n_pend, cap_pend;
};

typedef enum { PEND_SENT, PEND_RESEND, PEND_DONE } pend_state;

typedef struct pend {
    cfd_txn *tx;
    pend_state state;
    cfd_err err; /* PEND_DONE: the commit's result, errstr why */
    char errstr[256];
} pend;

/* A growable argv of binary-safe strings. */
typedef struct argv_buf {
    char **v;
    size_t *len;
    size_t n, cap;
} argv_buf;

struct cfd_txn {
    int32_t part;
    int64_t epoch;
    argv_buf keys;    /* KEYS[5..] */
    argv_buf ops;     /* ops part of ARGV */
    argv_buf offs;    /* (topic, offset) pairs */
    size_t n_writes;  /* ops other than offsets */
    int64_t next_due; /* the earliest instant a timer or park window it sets is due */
};

static void argv_push(argv_buf *a, const void *data, size_t len)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = cfd_xrealloc(a->v, a->cap * sizeof(*a->v));
        a->len = cfd_xrealloc(a->len, a->cap * sizeof(*a->len));
    }
    char *copy = cfd_xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    a->v[a->n] = copy;
    a->len[a->n] = len;
    a->n++;
}

static void argv_pushs(argv_buf *a, const char *s)
{
    argv_push(a, s, strlen(s));
}

static void argv_pushf(argv_buf *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void argv_pushf(argv_buf *a, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    argv_push(a, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void argv_clear(argv_buf *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

static void argv_free(argv_buf *a)
{
    argv_clear(a);
    free(a->v);
    free(a->len);
    memset(a, 0, sizeof(*a));
}

void cfd_blobs_clear(cfd_blob *blobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(blobs[i].data);
        blobs[i].data = NULL;
        blobs[i].len = 0;
    }
}

/* Key of part: "<prefix>:{p<N>}:<suffix>". */
static void key_of(const cfd_store *st, int32_t part, const char *suffix, const char *order,
                   char *out, size_t n)
{
    if (order)
        snprintf(out, n, "%s:{p%" PRId32 "}:%s:%s", st->prefix, part, suffix, order);
    else
        snprintf(out, n, "%s:{p%" PRId32 "}:%s", st->prefix, part, suffix);
}

/* Fills errstr from a failed reply or connection and classifies the failure: FENCED
 * (a newer owner claimed the partition), else as cfd_conn_error(). */
static cfd_err reply_error(cfd_store *st, redisReply *r, const char *what, char *errstr,
                           size_t errstr_size)
{
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "FENCED", 6) == 0) {
        snprintf(errstr, errstr_size, "redis %s: %s", what, r->str);
        return CFD_ERR_FENCED;
    }
    return cfd_conn_error(st->rc, r, what, errstr, errstr_size);
}

/* The slot of part's keys ({p<N>}), or of the simulated clock's key when part < 0. */
static int route_slot(const cfd_store *st, int32_t part)
{
    char key[256];
    if (part < 0)
        snprintf(key, sizeof(key), "%s:clock", st->prefix);
    else
        snprintf(key, sizeof(key), "{p%" PRId32 "}", part);
    return cfd_cluster_key_slot(key, strlen(key));
}

/* The master part was last checked on, grown on demand ("" when never). */
static char *part_master(cfd_store *st, int32_t part)
{
    if ((size_t)part >= st->n_masters) {
        size_t n = (size_t)part + 64;
        st->masters = cfd_xrealloc(st->masters, n * sizeof(*st->masters));
        memset(st->masters + st->n_masters, 0, (n - st->n_masters) * sizeof(*st->masters));
        st->n_masters = n;
    }
    return st->masters[part];
}

/*
 * Cluster: fails when part's slot has another master in the map than when part was
 * last checked (a failover, or a slot moved), so the caller reconnects and checks what
 * that master kept before writing there (cfd_store_reconnect() takes the map's masters
 * as checked). The first call of a partition takes its master as it is.
 * @returns CFD_OK or CFD_ERR_IO.
 */
static cfd_err part_check(cfd_store *st, int32_t part, int slot, char *errstr,
                          size_t errstr_size)
{
    char now[64];
    if (part < 0)
        return CFD_OK;
    cfd_cluster_slot_master(st->cl, slot, now, sizeof(now));
    char *known = part_master(st, part);
    if (!*known)
        snprintf(known, sizeof(*st->masters), "%s", now);
    if (strcmp(known, now) == 0)
        return CFD_OK;
    snprintf(errstr, errstr_size,
             "redis cluster: partition %" PRId32 " (slot %d) moved from %s to %s", part,
             slot, known, *now ? now : "no master");
    return CFD_ERR_IO;
}

static void replies_free(redisReply **replies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        freeReplyObject(replies[i]);
        replies[i] = NULL;
    }
}

/* --- commits sent ahead ------------------------------------------------------------ */

/* @returns the result of a commit's reply r (errstr says why when not CFD_OK). */
static cfd_err commit_result(cfd_store *st, int32_t part, redisReply *r, char *errstr,
                             size_t errstr_size)
{
    if (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) {
        if (strcmp(r->str, "APPLIED") == 0)
            cfd_debug(MOD, "partition %" PRId32 ": batch already applied, skipped", part);
        return CFD_OK;
    }
    return reply_error(st, r, "apply", errstr, errstr_size);
}

/* The connection goes, and with it the replies of the commits sent on it: they are
 * sent again (cfd_store_resend) before anything else runs. */
static void pend_lost(cfd_store *st)
{
    for (size_t i = 0; i < st->n_pend; i++)
        if (st->pend[i].state == PEND_SENT)
            st->pend[i].state = PEND_RESEND;
}

/* @returns true when commits wait to be sent again (they are the newest entries). */
static bool pend_resend_waits(const cfd_store *st)
{
    return st->n_pend && st->pend[st->n_pend - 1].state == PEND_RESEND;
}

/* Refuses a call while commits wait to be sent again: it would read or write without
 * them. @returns CFD_OK, or CFD_ERR_IO (the caller's retry reconnects and resends). */
static cfd_err pend_guard(const cfd_store *st, const char *what, char *errstr,
                          size_t errstr_size)
{
    if (!pend_resend_waits(st))
        return CFD_OK;
    snprintf(errstr, errstr_size,
             "redis %s: batches committed on a lost connection wait to be sent again",
             what);
    return CFD_ERR_IO;
}

/* Reads the replies of the commits sent ahead, in order. A lost connection, or a reply
 * that calls for the commit again (a transient answer, NOSCRIPT), drops the connection:
 * what was sent after that commit ran without it, and that commit and those after it
 * wait to be sent again. @returns CFD_OK or CFD_ERR_IO. */
static cfd_err pend_read(cfd_store *st, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < st->n_pend; i++) {
        pend *e = &st->pend[i];
        void *r = NULL;
        cfd_err err;
        if (e->state != PEND_SENT)
            continue;
        if (redisGetReply(st->rc, &r) != REDIS_OK) {
            err = reply_error(st, NULL, "apply", errstr, errstr_size);
        } else if (((redisReply *)r)->type == REDIS_REPLY_ERROR &&
                   strncmp(((redisReply *)r)->str, "NOSCRIPT", 8) == 0) {
            snprintf(errstr, errstr_size, "redis apply: %s", ((redisReply *)r)->str);
            err = CFD_ERR_IO;
        } else if ((err = commit_result(st, e->tx->part, r, e->errstr,
                                        sizeof(e->errstr))) == CFD_ERR_IO) {
            snprintf(errstr, errstr_size, "%s", e->errstr);
        }
        freeReplyObject(r);
        if (err == CFD_ERR_IO) {
            snprintf(e->errstr, sizeof(e->errstr), "%s", errstr);
            pend_lost(st);
            redisFree(st->rc);
            st->rc = NULL;
            return CFD_ERR_IO;
        }
        e->err = err;
        e->state = PEND_DONE;
    }
    return CFD_OK;
}

/*
 * Sends n commands on keys of part (part < 0: the simulated clock) as one pipeline and
 * reads their replies (freed by the caller). On a cluster they go to the master of
 * part's slot as how says (the router follows ASK and NOSCRIPT; MOVED for the clock
 * only: for a partition it fails the call, so the caller checks the new master before
 * writing there); what names the call in errstr.
 * @returns CFD_OK with every replies[i] set, or CFD_ERR_IO (all NULL).
 */
static cfd_err pipeline_exec(cfd_store *st, int32_t part, const cfd_cluster_how *how,
                             const cfd_cluster_cmd *cmds, size_t n, redisReply **replies,
                             const char *what, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (!st->cl) {
        if (!st->rc)
            return reply_error(st, NULL, what, errstr, errstr_size);
        /* Sent behind the commits sent ahead, whose replies come first. */
        cfd_conn_append(st->rc, cmds, n);
        if (pend_read(st, errstr, errstr_size))
            return CFD_ERR_IO;
        return cfd_conn_read(st->rc, n, replies, what, errstr, errstr_size);
    }
    int slot = route_slot(st, part);
    char err_in[400];
    /* Opening the slot's connection reads the map first when it is stale. */
    if (!cfd_cluster_conn_for_slot(st->cl, slot, err_in, sizeof(err_in)))
        goto io;
    if (part_check(st, part, slot, errstr, errstr_size))
        return CFD_ERR_IO;
    if (cfd_cluster_pipeline(st->cl, slot, cmds, n, part < 0 ? NULL : how, replies, err_in,
                             sizeof(err_in)))
        goto io;
    /* The map read again during the call moved the slot: the commands may have run
     * on the new master; fail all the same (they can be repeated), so the caller
     * checks. */
    if (part_check(st, part, slot, errstr, errstr_size)) {
        replies_free(replies, n);
        return CFD_ERR_IO;
    }
    return CFD_OK;
io:
    snprintf(errstr, errstr_size, "redis %s: %s", what, err_in);
    return CFD_ERR_IO;
}

/* pipeline_exec(), its round trip timed (st->round_trips). */
static cfd_err timed_exec(cfd_store *st, int32_t part, const cfd_cluster_how *how,
                          const cfd_cluster_cmd *cmds, size_t n, redisReply **replies,
                          const char *what, char *errstr, size_t errstr_size)
{
    double started = cfd_histogram_clock();
    cfd_err err = pipeline_exec(st, part, how, cmds, n, replies, what, errstr, errstr_size);
    cfd_histogram_observe(&st->round_trips, cfd_histogram_clock() - started);
    return err;
}

/* timed_exec(), refused while commits wait to be sent again (pend_guard). */
static cfd_err store_exec_how(cfd_store *st, int32_t part, const cfd_cluster_how *how,
                              const cfd_cluster_cmd *cmds, size_t n, redisReply **replies,
                              const char *what, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (pend_guard(st, what, errstr, errstr_size))
        return CFD_ERR_IO;
    return timed_exec(st, part, how, cmds, n, replies, what, errstr, errstr_size);
}

/* store_exec_how() with a partition's reads and plain writes (no WAIT). */
static cfd_err store_exec(cfd_store *st, int32_t part, const cfd_cluster_cmd *cmds,
                          size_t n, redisReply **replies, const char *what, char *errstr,
                          size_t errstr_size)
{
    return store_exec_how(st, part, &st->part_how, cmds, n, replies, what, errstr,
                          errstr_size);
}

/* store_exec() of one command of argc NUL-terminated arguments.
 * @returns CFD_OK with *r set, or CFD_ERR_IO. */
static cfd_err store_exec1(cfd_store *st, int32_t part, int argc, const char *const *argv,
                           redisReply **r, const char *what, char *errstr,
                           size_t errstr_size)
{
    cfd_cluster_cmd cmd = {.argc = argc, .argv = argv};
    return store_exec(st, part, &cmd, 1, r, what, errstr, errstr_size);
}

static cfd_err load_script(cfd_store *st, const char *body, char sha[41], char *errstr,
                           size_t errstr_size)
{
    redisReply *r = redisCommand(st->rc, "SCRIPT LOAD %s", body);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        cfd_err err = reply_error(st, r, "SCRIPT LOAD", errstr, errstr_size);
        freeReplyObject(r);
        return err;
    }
    memcpy(sha, r->str, 40);
    sha[40] = '\0';
    freeReplyObject(r);
    return CFD_OK;
}

/* One EVALSHA: "EVALSHA <sha> <numkeys>", the keys (filled in place by the caller),
 * then the script's ARGV (borrowed, not copied). */
typedef struct script_call {
    const char **argv;
    size_t *lens;
    size_t n, n_keys;
    char (*keys)[512];
    char nkeys_s[24];
} script_call;

/* Readies a call of n_keys keys and n_args arguments; the caller fills c->keys. */
static void call_begin(script_call *c, size_t n_keys, size_t n_args)
{
    c->argv = cfd_xmalloc(sizeof(char *) * (3 + n_keys + n_args));
    c->lens = cfd_xmalloc(sizeof(size_t) * (3 + n_keys + n_args));
    c->keys = cfd_xmalloc(sizeof(*c->keys) * (n_keys ? n_keys : 1));
    c->n_keys = n_keys;
    snprintf(c->nkeys_s, sizeof(c->nkeys_s), "%zu", n_keys);
    c->n = 3 + n_keys; /* EVALSHA, sha and keys are set by call_run */
}

static void call_arg(script_call *c, const char *s, size_t len)
{
    c->argv[c->n] = s;
    c->lens[c->n++] = len;
}

/* Sets the call's EVALSHA, sha, key count and keys. */
static void call_head(script_call *c, const char *sha)
{
    c->argv[0] = "EVALSHA";
    c->lens[0] = 7;
    c->argv[1] = sha;
    c->lens[1] = 40;
    c->argv[2] = c->nkeys_s;
    c->lens[2] = strlen(c->nkeys_s);
    for (size_t i = 0; i < c->n_keys; i++) {
        c->argv[3 + i] = c->keys[i];
        c->lens[3 + i] = strlen(c->keys[i]);
    }
}

/* Sends the call on st->rc and waits for its reply, behind those of the commits sent
 * ahead. @returns it, or NULL (the connection failed or was dropped). */
static redisReply *call_send(cfd_store *st, const script_call *c)
{
    void *r = NULL;
    char ignored[256];
    if (cfd_resp_append(st->rc, (int)c->n, c->argv, c->lens) != REDIS_OK ||
        pend_read(st, ignored, sizeof(ignored)) || redisGetReply(st->rc, &r) != REDIS_OK)
        return NULL;
    return r;
}

/* Sends the call on part's keys into *r (freed by the caller); when Redis restarted
 * without its script cache, loads the script (body) again and sends once more (on a
 * cluster the router does). @returns CFD_OK or CFD_ERR_IO. */
static cfd_err call_run(cfd_store *st, int32_t part, script_call *c, const char *body,
                        char sha[41], redisReply **r, char *errstr, size_t errstr_size)
{
    call_head(c, sha);
    if (st->cl) {
        cfd_cluster_cmd cmd = {.argc = (int)c->n, .argv = c->argv, .lens = c->lens};
        /* WAIT on the same connection: the outputs go out only once a replica has
         * the batch (or, APPLIED, the batch committed by an earlier try). */
        return timed_exec(st, part, &st->commit_how, &cmd, 1, r, "apply", errstr,
                          errstr_size);
    }
    if (!st->rc)
        return reply_error(st, NULL, "apply", errstr, errstr_size);
    *r = call_send(st, c);
    if (*r && (*r)->type == REDIS_REPLY_ERROR && strncmp((*r)->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(*r);
        *r = NULL;
        if (load_script(st, body, sha, errstr, errstr_size) == CFD_OK)
            *r = call_send(st, c);
    }
    return *r ? CFD_OK : reply_error(st, NULL, "apply", errstr, errstr_size);
}

static void call_free(script_call *c)
{
    free(c->argv);
    free(c->lens);
    free(c->keys);
}

static cfd_err connect_once(cfd_store *st, char *errstr, size_t errstr_size)
{
    cfd_err err;

    pend_lost(st);
    if (st->rc)
        redisFree(st->rc);
    st->rc = NULL;
    if ((err = cfd_conn_open(&st->co, &st->rc, errstr, errstr_size)) ||
        (err = load_script(st, cfd_script_apply, st->apply_sha, errstr, errstr_size)))
        return err;
    return load_script(st, cfd_script_claim, st->claim_sha, errstr, errstr_size);
}

/* Cluster: reads the slot map from the seeds and registers the scripts with the
 * router, which loads them on every master. */
static cfd_err cluster_open(cfd_store *st, const cfd_store_opts *opts, char *errstr,
                            size_t errstr_size)
{
    cfd_err err;
    if (opts->cluster_wait_replicas > 0 &&
        (opts->cluster_wait_timeout_ms <= 0 ||
         opts->cluster_wait_timeout_ms >= st->timeout_ms)) {
        snprintf(errstr, errstr_size,
                 "redis.cluster_wait_timeout (%" PRId64 " ms) must be above 0 and below "
                 "redis.timeout "
                 "(%" PRId64 " ms), or the connection times out before WAIT answers",
                 opts->cluster_wait_timeout_ms, st->timeout_ms);
        return CFD_ERR_CONFIG;
    }
    st->part_how = (cfd_cluster_how){.refuse_moved = true};
    st->commit_how = (cfd_cluster_how){.refuse_moved = true,
                                       .wait_replicas = opts->cluster_wait_replicas,
                                       .wait_timeout_ms = opts->cluster_wait_timeout_ms};
    if (!(st->cl = cfd_conn_cluster(&st->co, &err, errstr, errstr_size)))
        return err;
    /* CFD_ERR_IO with a SHA1: a master unreachable now gets the script when reached. */
    err = cfd_cluster_script_add(st->cl, cfd_script_apply, st->apply_sha, errstr,
                                 errstr_size);
    if (err == CFD_ERR || !st->apply_sha[0])
        return err ? err : CFD_ERR;
    err = cfd_cluster_script_add(st->cl, cfd_script_claim, st->claim_sha, errstr,
                                 errstr_size);
    if (err == CFD_ERR || !st->claim_sha[0])
        return err ? err : CFD_ERR;
    return CFD_OK;
}

cfd_store *cfd_store_new(const cfd_store_opts *opts, char *errstr, size_t errstr_size)
{
    cfd_store *st = cfd_xcalloc(1, sizeof(*st));
    st->host = cfd_xstrdup(opts->host);
    st->unix_socket = cfd_xstrdup(opts->unix_socket ? opts->unix_socket : "");
    st->user = cfd_xstrdup(opts->user ? opts->user : "");
    st->password = cfd_xstrdup(opts->password ? opts->password : "");
    st->cluster_seeds = cfd_xstrdup(opts->cluster_seeds ? opts->cluster_seeds : "");
    st->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 2000;
    st->prefix = cfd_xstrdup(opts->key_prefix);
    st->co = *opts;
    st->co.host = st->host;
    st->co.unix_socket = st->unix_socket;
    st->co.user = st->user;
    st->co.password = st->password;
    st->co.cluster_seeds = st->cluster_seeds;
    st->co.timeout_ms = st->timeout_ms;
    st->co.key_prefix = st->prefix;
    if (opts->cluster ? cluster_open(st, opts, errstr, errstr_size)
                      : connect_once(st, errstr, errstr_size)) {
        cfd_store_destroy(st);
        return NULL;
    }
    return st;
}

void cfd_store_destroy(cfd_store *st)
{
    if (!st)
        return;
    if (st->rc)
        redisFree(st->rc);
    cfd_cluster_destroy(st->cl);
    free(st->cluster_seeds);
    free(st->masters);
    free(st->pend);
    free(st->host);
    free(st->unix_socket);
    free(st->user);
    free(st->password);
    free(st->prefix);
    free(st);
}

cfd_histogram cfd_store_round_trips(const cfd_store *st)
{
    return st->round_trips;
}

cfd_err cfd_store_reconnect(cfd_store *st, char *errstr, size_t errstr_size)
{
    if (!st->cl)
        return connect_once(st, errstr, errstr_size);
    if (cfd_cluster_refresh(st->cl, errstr, errstr_size))
        return CFD_ERR_IO;
    /* The caller now checks what the partitions' masters kept. */
    for (size_t p = 0; p < st->n_masters; p++)
        if (st->masters[p][0])
            cfd_cluster_slot_master(st->cl, route_slot(st, (int32_t)p), st->masters[p],
                                    sizeof(*st->masters));
    return CFD_OK;
}

cfd_err cfd_store_set_sim_clock(cfd_store *st, int64_t now_ms, char *errstr,
                                size_t errstr_size)
{
    char key[256], now_s[24];
    snprintf(key, sizeof(key), "%s:clock", st->prefix);
    snprintf(now_s, sizeof(now_s), "%lld", (long long)now_ms);
    const char *argv[] = {now_ms > 0 ? "SET" : "DEL", key, now_s};
    redisReply *r = NULL;
    cfd_err err =
        store_exec1(st, -1, now_ms > 0 ? 3 : 2, argv, &r, "set clock", errstr, errstr_size);
    if (!err && r->type == REDIS_REPLY_ERROR)
        err = reply_error(st, r, "set clock", errstr, errstr_size);
    freeReplyObject(r);
    return err;
}

cfd_err cfd_store_sim_clock(cfd_store *st, int64_t *now_ms, char *errstr,
                            size_t errstr_size)
{
    char key[256];
    snprintf(key, sizeof(key), "%s:clock", st->prefix);
    const char *argv[] = {"GET", key};
    redisReply *r = NULL;
    cfd_err err = store_exec1(st, -1, 2, argv, &r, "GET clock", errstr, errstr_size);
    if (!err && r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)
        err = reply_error(st, r, "GET clock", errstr, errstr_size);
    if (!err)
        *now_ms = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return err;
}

cfd_err cfd_store_claim(cfd_store *st, int32_t part, const char *owner, int64_t *epoch,
                        char *errstr, size_t errstr_size)
{
    char meta[256];
    key_of(st, part, "meta", NULL, meta, sizeof(meta));
    const char *argv[] = {"EVALSHA", st->claim_sha, "1", meta, owner};
    redisReply *r = NULL;
    cfd_err err = store_exec1(st, part, 5, argv, &r, "claim", errstr, errstr_size);
    if (!err && r->type != REDIS_REPLY_INTEGER)
        err = reply_error(st, r, "claim", errstr, errstr_size);
    if (!err)
        *epoch = r->integer;
    freeReplyObject(r);
    return err;
}

cfd_err cfd_store_applied_offset(cfd_store *st, int32_t part, const char *topic,
                                 int64_t *offset, char *errstr, size_t errstr_size)
{
    char meta[256], field[512];
    key_of(st, part, "meta", NULL, meta, sizeof(meta));
    snprintf(field, sizeof(field), "off:%s", topic);
    const char *argv[] = {"HGET", meta, field};
    cfd_cluster_cmd cmd = {.argc = 3, .argv = argv};
    redisReply *r = NULL;
    /* Not refused while commits wait to be sent again: it is what the worker reads to
     * check, before sending them, that Redis kept what it confirmed. */
    cfd_err err = pipeline_exec(st, part, &st->part_how, &cmd, 1, &r, "HGET offset", errstr,
                                errstr_size);
    if (!err && r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)
        err = reply_error(st, r, "HGET offset", errstr, errstr_size);
    if (!err)
        *offset = r->type == REDIS_REPLY_NIL ? -1 : strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    return err;
}

/* Copies a multi-bulk reply of strings into a blob array. */
static cfd_blob *blobs_from_array(const redisReply *r, size_t *n)
{
    cfd_blob *items = cfd_xmalloc(sizeof(*items) * (r->elements ? r->elements : 1));
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        items[i].len = e->type == REDIS_REPLY_STRING ? e->len : 0;
        items[i].data = cfd_xmalloc(items[i].len + 1);
        if (items[i].len)
            memcpy(items[i].data, e->str, items[i].len);
    }
    *n = r->elements;
    return items;
}

/* A pipeline of commands of one key each: {verb, key, up to 3 arguments}. */
typedef struct key_cmds {
    cfd_cluster_cmd *cmds;
    const char *(*argv)[5];
    redisReply **replies;
} key_cmds;

static void key_cmds_init(key_cmds *k, size_t n)
{
    k->cmds = cfd_xmalloc(sizeof(*k->cmds) * (n ? n : 1));
    k->argv = cfd_xmalloc(sizeof(*k->argv) * (n ? n : 1));
    k->replies = cfd_xcalloc(n ? n : 1, sizeof(*k->replies));
}

/* Command i becomes "verb key a1 a2 a3", without the trailing NULL arguments. */
static void key_cmds_set(key_cmds *k, size_t i, const char *verb, const char *key,
                         const char *a1, const char *a2, const char *a3)
{
    const char *args[] = {verb, key, a1, a2, a3};
    int argc = 2;
    while (argc < 5 && args[argc])
        argc++;
    memcpy(k->argv[i], args, sizeof(args));
    k->cmds[i] = (cfd_cluster_cmd){.argc = argc, .argv = k->argv[i]};
}

static void key_cmds_free(key_cmds *k, size_t n)
{
    replies_free(k->replies, n);
    free(k->replies);
    free(k->argv);
    free(k->cmds);
}

/* An MGET of the states and a ZMSCORE of the orders in the park index, pipelined; then,
 * only when some order is in the index, an LRANGE of each such order's park list. A
 * GET and an LRANGE per order before, the LRANGE nearly always empty, cost Redis
 * about 2.5 times the CPU at 8 orders a batch (a Lua script reading the same, 4.5). */
cfd_err cfd_store_load(cfd_store *st, int32_t part, const char *const *orders, size_t n,
                       cfd_blob *states, cfd_blob **parked, size_t *n_parked, char *errstr,
                       size_t errstr_size)
{
    for (size_t i = 0; i < n; i++) {
        states[i] = (cfd_blob){NULL, 0};
        parked[i] = NULL;
        n_parked[i] = 0;
    }
    if (n == 0)
        return CFD_OK;
    const char **argv = cfd_xmalloc(sizeof(char *) * (2 * n + 3));
    char(*keys)[512] = cfd_xmalloc(sizeof(*keys) * (n + 1));
    bool *in_index = cfd_xcalloc(n, sizeof(bool));
    redisReply *r[2] = {NULL, NULL};
    size_t n_indexed = 0;
    key_cmds lr;
    cfd_err err = CFD_OK;

    key_cmds_init(&lr, n);
    /* argv: MGET <keys...>, then ZMSCORE <parkidx> <orders...> */
    const char **zargv = argv + n + 1;
    argv[0] = "MGET";
    key_of(st, part, "parkidx", NULL, keys[n], sizeof(keys[n]));
    zargv[0] = "ZMSCORE";
    zargv[1] = keys[n];
    for (size_t i = 0; i < n; i++) {
        key_of(st, part, "wo", orders[i], keys[i], sizeof(keys[i]));
        argv[1 + i] = keys[i];
        zargv[2 + i] = orders[i];
    }
    cfd_cluster_cmd first[2] = {{.argc = (int)n + 1, .argv = argv},
                                {.argc = (int)n + 2, .argv = zargv}};
    if ((err = store_exec(st, part, first, 2, r, "load", errstr, errstr_size)))
        goto out;
    for (size_t k = 0; k < 2; k++)
        if (r[k]->type != REDIS_REPLY_ARRAY || r[k]->elements != n) {
            err =
                reply_error(st, r[k], k ? "ZMSCORE parkidx" : "MGET", errstr, errstr_size);
            goto out;
        }
    for (size_t i = 0; i < n; i++) {
        const redisReply *s = r[0]->element[i];
        if (s->type == REDIS_REPLY_STRING) {
            states[i].data = cfd_xmalloc(s->len ? s->len : 1);
            memcpy(states[i].data, s->str, s->len);
            states[i].len = s->len;
        }
        in_index[i] = r[1]->element[i]->type != REDIS_REPLY_NIL;
        if (in_index[i]) {
            /* keys[i] is free again: it becomes the order's park list. */
            key_of(st, part, "park", orders[i], keys[i], sizeof(keys[i]));
            key_cmds_set(&lr, n_indexed++, "LRANGE", keys[i], "0", "-1", NULL);
        }
    }
    if (n_indexed && (err = store_exec(st, part, lr.cmds, n_indexed, lr.replies,
                                       "LRANGE parked", errstr, errstr_size)))
        goto out;
    for (size_t i = 0, j = 0; i < n && j < n_indexed; i++) {
        if (!in_index[i])
            continue;
        const redisReply *l = lr.replies[j++];
        if (l->type == REDIS_REPLY_ARRAY && l->elements)
            parked[i] = blobs_from_array(l, &n_parked[i]);
        else if (l->type != REDIS_REPLY_ARRAY && !err)
            err = reply_error(st, (redisReply *)l, "LRANGE parked", errstr, errstr_size);
    }
out:
    if (err) {
        cfd_blobs_clear(states, n);
        for (size_t i = 0; i < n; i++) {
            cfd_blobs_clear(parked[i], n_parked[i]);
            free(parked[i]);
            parked[i] = NULL;
            n_parked[i] = 0;
        }
    }
    key_cmds_free(&lr, n);
    freeReplyObject(r[0]);
    freeReplyObject(r[1]);
    free(in_index);
    free(keys);
    free(argv);
    return err;
}

cfd_err cfd_store_get(cfd_store *st, int32_t part, const char *const *kinds,
                      const char *const *names, size_t n, cfd_blob *out, char *errstr,
                      size_t errstr_size)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (cfd_blob){NULL, 0};
    if (n == 0)
        return CFD_OK;
    /* One MGET: the keys share the partition's slot. */
    char(*keys)[512] = cfd_xmalloc(sizeof(*keys) * n);
    const char **argv = cfd_xmalloc(sizeof(char *) * (n + 1));
    argv[0] = "MGET";
    for (size_t i = 0; i < n; i++) {
        key_of(st, part, kinds[i], names[i], keys[i], sizeof(keys[i]));
        argv[i + 1] = keys[i];
    }
    redisReply *r = NULL;
    cfd_err err =
        store_exec1(st, part, (int)(n + 1), argv, &r, "MGET", errstr, errstr_size);
    if (!err && (r->type != REDIS_REPLY_ARRAY || r->elements != n))
        err = reply_error(st, r, "MGET", errstr, errstr_size);
    for (size_t i = 0; i < n && !err; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING) {
            out[i].data = cfd_xmalloc(e->len ? e->len : 1);
            memcpy(out[i].data, e->str, e->len);
            out[i].len = e->len;
        } else if (e->type != REDIS_REPLY_NIL) {
            err = reply_error(st, (redisReply *)e, "MGET", errstr, errstr_size);
        }
    }
    if (err)
        cfd_blobs_clear(out, n);
    freeReplyObject(r);
    free(argv);
    free(keys);
    return err;
}

/* Runs one command on part's keys that answers an array, into *r (freed by the
 * caller). @returns CFD_OK, or an error with errstr filled (*r NULL). */
static cfd_err exec_array(cfd_store *st, int32_t part, int argc, const char *const *argv,
                          redisReply **r, const char *what, char *errstr,
                          size_t errstr_size)
{
    cfd_err err = store_exec1(st, part, argc, argv, r, what, errstr, errstr_size);
    if (!err && (*r)->type != REDIS_REPLY_ARRAY) {
        err = reply_error(st, *r, what, errstr, errstr_size);
        freeReplyObject(*r);
        *r = NULL;
    }
    return err;
}

cfd_err cfd_store_get_parked(cfd_store *st, int32_t part, const char *order,
                             cfd_blob **items, size_t *n, char *errstr, size_t errstr_size)
{
    char key[512];
    key_of(st, part, "park", order, key, sizeof(key));
    const char *argv[] = {"LRANGE", key, "0", "-1"};
    redisReply *r = NULL;
    cfd_err err = exec_array(st, part, 4, argv, &r, "LRANGE parked", errstr, errstr_size);
    if (err)
        return err;
    *items = blobs_from_array(r, n);
    freeReplyObject(r);
    return CFD_OK;
}

cfd_err cfd_store_due(cfd_store *st, int32_t part, cfd_due_kind kind, int64_t now_ms,
                      size_t max, char ***orders, size_t *n, char *errstr,
                      size_t errstr_size)
{
    char key[256], now_s[24], max_s[24];
    key_of(st, part,
           kind == CFD_DUE_PARKED ? "parkidx"
           : kind == CFD_DUE_CITY ? "ctimers"
                                  : "timers",
           NULL, key, sizeof(key));
    snprintf(now_s, sizeof(now_s), "%lld", (long long)now_ms);
    snprintf(max_s, sizeof(max_s), "%llu", (unsigned long long)max);
    const char *argv[] = {"ZRANGEBYSCORE", key, "-inf", now_s, "LIMIT", "0", max_s};
    redisReply *r = NULL;
    cfd_err err = exec_array(st, part, 7, argv, &r, "ZRANGEBYSCORE", errstr, errstr_size);
    if (err)
        return err;
    *n = r->elements;
    *orders = cfd_xmalloc(sizeof(char *) * (r->elements ? r->elements : 1));
    for (size_t i = 0; i < r->elements; i++)
        (*orders)[i] = cfd_xstrdup(
            r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "");
    freeReplyObject(r);
    return CFD_OK;
}

cfd_err cfd_store_outbox_scan(cfd_store *st, int32_t part, cfd_outbox_fn fn, void *ctx,
                              char *errstr, size_t errstr_size)
{
    char key[256];
    char cursor[32] = "0";
    key_of(st, part, "outbox", NULL, key, sizeof(key));
    do {
        const char *argv[] = {"HSCAN", key, cursor, "COUNT", "500"};
        redisReply *r = NULL;
        cfd_err err =
            exec_array(st, part, 5, argv, &r, "HSCAN outbox", errstr, errstr_size);
        if (err)
            return err;
        if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            err = reply_error(st, r, "HSCAN outbox", errstr, errstr_size);
            freeReplyObject(r);
            return err;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        const redisReply *kv = r->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2)
            fn(kv->element[i]->str, kv->element[i + 1]->str, kv->element[i + 1]->len, ctx);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return CFD_OK;
}

cfd_err cfd_store_outbox_remove(cfd_store *st, int32_t part, const char *const *ids,
                                size_t n, char *errstr, size_t errstr_size)
{
    if (n == 0)
        return CFD_OK;
    char key[256];
    key_of(st, part, "outbox", NULL, key, sizeof(key));
    const char **argv = cfd_xmalloc(sizeof(char *) * (n + 2));
    argv[0] = "HDEL";
    argv[1] = key;
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = ids[i];
    redisReply *r = NULL;
    cfd_err err =
        store_exec1(st, part, (int)(n + 2), argv, &r, "HDEL outbox", errstr, errstr_size);
    free(argv);
    if (!err && r->type != REDIS_REPLY_INTEGER)
        err = reply_error(st, r, "HDEL outbox", errstr, errstr_size);
    freeReplyObject(r);
    return err;
}

/* --- transactions ------------------------------------------------------------------ */

cfd_txn *cfd_txn_new(void)
{
    return cfd_xcalloc(1, sizeof(cfd_txn));
}

void cfd_txn_destroy(cfd_txn *tx)
{
    if (!tx)
        return;
    argv_free(&tx->keys);
    argv_free(&tx->ops);
    argv_free(&tx->offs);
    free(tx);
}

/* Keeps the earliest instant the transaction makes due. */
static void txn_due(cfd_txn *tx, int64_t due_ms)
{
    if (due_ms > 0 && due_ms < tx->next_due)
        tx->next_due = due_ms;
}

int64_t cfd_txn_next_due(const cfd_txn *tx)
{
    return tx->next_due;
}

void cfd_txn_begin(cfd_txn *tx, int32_t part, int64_t epoch)
{
    argv_clear(&tx->keys);
    argv_clear(&tx->ops);
    argv_clear(&tx->offs);
    tx->part = part;
    tx->epoch = epoch;
    tx->n_writes = 0;
    tx->next_due = INT64_MAX;
}

bool cfd_txn_is_empty(const cfd_txn *tx)
{
    return tx->n_writes == 0;
}

size_t cfd_txn_size(const cfd_txn *tx)
{
    return tx->n_writes;
}

void cfd_txn_offset(cfd_txn *tx, const char *topic, int64_t offset)
{
    for (size_t i = 0; i < tx->offs.n; i += 2) {
        if (strcmp(tx->offs.v[i], topic) == 0) {
            if (strtoll(tx->offs.v[i + 1], NULL, 10) < offset) {
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "%" PRId64, offset);
                free(tx->offs.v[i + 1]);
                tx->offs.v[i + 1] = cfd_xstrdup(buf);
                tx->offs.len[i + 1] = (size_t)n;
            }
            return;
        }
    }
    argv_pushs(&tx->offs, topic);
    argv_pushf(&tx->offs, "%" PRId64, offset);
}

/* Adds a key for KEYS[] and returns its 1-based index as the script sees it. */
static size_t txn_key(cfd_txn *tx, const char *key)
{
    argv_pushs(&tx->keys, key);
    return tx->keys.n + 4;
}

/* The store is needed only for the key prefix; transactions are built before commit,
 * so keys are stored relative ("wo:<order>") and prefixed at commit time. */
void cfd_txn_put(cfd_txn *tx, const char *kind, const char *name, const void *buf,
                 size_t len)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "%s:%s", kind, name);
    size_t k = txn_key(tx, rel);
    argv_pushs(&tx->ops, "S");
    argv_pushf(&tx->ops, "%zu", k);
    argv_push(&tx->ops, buf, len);
    tx->n_writes++;
}

void cfd_txn_del(cfd_txn *tx, const char *kind, const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "%s:%s", kind, name);
    size_t k = txn_key(tx, rel);
    argv_pushs(&tx->ops, "D");
    argv_pushf(&tx->ops, "%zu", k);
    tx->n_writes++;
}

void cfd_txn_put_state(cfd_txn *tx, const char *order, const void *buf, size_t len)
{
    cfd_txn_put(tx, "wo", order, buf, len);
}

void cfd_txn_outbox(cfd_txn *tx, const char *id, const void *frame, size_t len)
{
    argv_pushs(&tx->ops, "O");
    argv_pushs(&tx->ops, id);
    argv_push(&tx->ops, frame, len);
    tx->n_writes++;
}

void cfd_txn_park(cfd_txn *tx, const char *order, const void *frame, size_t len,
                  int64_t expire_at_ms)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "park:%s", order);
    size_t k = txn_key(tx, rel);
    argv_pushs(&tx->ops, "P");
    argv_pushf(&tx->ops, "%zu", k);
    argv_push(&tx->ops, frame, len);
    argv_pushf(&tx->ops, "%" PRId64, expire_at_ms);
    argv_pushs(&tx->ops, order);
    tx->n_writes++;
    txn_due(tx, expire_at_ms);
}

void cfd_txn_unpark(cfd_txn *tx, const char *order)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "park:%s", order);
    size_t k = txn_key(tx, rel);
    argv_pushs(&tx->ops, "U");
    argv_pushf(&tx->ops, "%zu", k);
    argv_pushs(&tx->ops, order);
    tx->n_writes++;
}

void cfd_txn_timer(cfd_txn *tx, const char *order, int64_t due_ms)
{
    argv_pushs(&tx->ops, "T");
    argv_pushs(&tx->ops, order);
    argv_pushf(&tx->ops, "%" PRId64, due_ms > 0 ? due_ms : 0);
    tx->n_writes++;
    txn_due(tx, due_ms);
}

void cfd_txn_city_timer(cfd_txn *tx, const char *key, int64_t due_ms)
{
    size_t k = txn_key(tx, "ctimers");
    argv_pushs(&tx->ops, "Z");
    argv_pushf(&tx->ops, "%zu", k);
    argv_pushs(&tx->ops, key);
    argv_pushf(&tx->ops, "%" PRId64, due_ms > 0 ? due_ms : 0);
    tx->n_writes++;
    txn_due(tx, due_ms);
}

/* Readies the apply script's call of tx in c (call_free() it); epoch_s and noff_s
 * (24 bytes each) hold two of its arguments. */
static void commit_call(cfd_store *st, const cfd_txn *tx, script_call *c, char *epoch_s,
                        char *noff_s)
{
    call_begin(c, 4 + tx->keys.n, 2 + tx->offs.n + tx->ops.n);
    key_of(st, tx->part, "meta", NULL, c->keys[0], sizeof(c->keys[0]));
    key_of(st, tx->part, "outbox", NULL, c->keys[1], sizeof(c->keys[1]));
    key_of(st, tx->part, "parkidx", NULL, c->keys[2], sizeof(c->keys[2]));
    key_of(st, tx->part, "timers", NULL, c->keys[3], sizeof(c->keys[3]));
    for (size_t i = 0; i < tx->keys.n; i++)
        key_of(st, tx->part, tx->keys.v[i], NULL, c->keys[4 + i], sizeof(c->keys[4 + i]));
    snprintf(epoch_s, 24, "%" PRId64, tx->epoch);
    snprintf(noff_s, 24, "%zu", tx->offs.n / 2);
    call_arg(c, epoch_s, strlen(epoch_s));
    call_arg(c, noff_s, strlen(noff_s));
    for (size_t i = 0; i < tx->offs.n; i++)
        call_arg(c, tx->offs.v[i], tx->offs.len[i]);
    for (size_t i = 0; i < tx->ops.n; i++)
        call_arg(c, tx->ops.v[i], tx->ops.len[i]);
}

/* Commits tx now, waiting for its reply. */
static cfd_err commit_now(cfd_store *st, cfd_txn *tx, char *errstr, size_t errstr_size)
{
    script_call c;
    char epoch_s[24], noff_s[24];
    commit_call(st, tx, &c, epoch_s, noff_s);
    redisReply *r = NULL;
    cfd_err err = call_run(st, tx->part, &c, cfd_script_apply, st->apply_sha, &r, errstr,
                           errstr_size);
    if (!err)
        err = commit_result(st, tx->part, r, errstr, errstr_size);
    freeReplyObject(r);
    call_free(&c);
    return err;
}

cfd_err cfd_store_commit(cfd_store *st, cfd_txn *tx, char *errstr, size_t errstr_size)
{
    if (pend_guard(st, "apply", errstr, errstr_size))
        return CFD_ERR_IO;
    return commit_now(st, tx, errstr, errstr_size);
}

void cfd_store_commit_send(cfd_store *st, cfd_txn *tx)
{
    if (st->n_pend == st->cap_pend) {
        st->cap_pend = st->cap_pend ? 2 * st->cap_pend : 16;
        st->pend = cfd_xrealloc(st->pend, st->cap_pend * sizeof(*st->pend));
    }
    /* Behind commits that wait to be sent again, it waits with them. */
    bool behind = pend_resend_waits(st);
    pend *e = &st->pend[st->n_pend++];
    *e = (pend){.tx = tx, .state = PEND_RESEND};
    if (st->cl) {
        /* The router waits for each reply (and WAITs for a replica). */
        if (!behind &&
            (e->err = commit_now(st, tx, e->errstr, sizeof(e->errstr))) != CFD_ERR_IO)
            e->state = PEND_DONE;
    } else if (st->rc && !behind) {
        script_call c;
        char epoch_s[24], noff_s[24];
        commit_call(st, tx, &c, epoch_s, noff_s);
        call_head(&c, st->apply_sha);
        /* Written now, so that Redis runs it while the caller goes on (a failed
         * write shows when its reply is read). */
        int done = 0;
        if (cfd_resp_append(st->rc, (int)c.n, c.argv, c.lens) == REDIS_OK) {
            e->state = PEND_SENT;
            while (!done && redisBufferWrite(st->rc, &done) == REDIS_OK)
                ;
        }
        call_free(&c);
    }
}

cfd_err cfd_store_commit_wait(cfd_store *st, cfd_txn *tx, char *errstr, size_t errstr_size)
{
    if (!st->n_pend || st->pend[0].tx != tx) {
        snprintf(errstr, errstr_size,
                 "redis apply: that batch is not the oldest sent ahead");
        return CFD_ERR;
    }
    pend *e = &st->pend[0];
    if (e->state == PEND_SENT && pend_read(st, errstr, errstr_size))
        return CFD_ERR_IO;
    if (e->state == PEND_RESEND) {
        /* Why it did not go through, when its own reply said. */
        if (e->errstr[0])
            snprintf(errstr, errstr_size, "%s", e->errstr);
        else
            snprintf(errstr, errstr_size,
                     "redis apply: partition %" PRId32 "'s batch waits to be sent again "
                     "(connection lost before its reply)",
                     tx->part);
        return CFD_ERR_IO;
    }
    cfd_err err = e->err;
    if (err)
        snprintf(errstr, errstr_size, "%s", e->errstr);
    memmove(&st->pend[0], &st->pend[1], (st->n_pend - 1) * sizeof(*st->pend));
    st->n_pend--;
    return err;
}

cfd_err cfd_store_resend(cfd_store *st, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < st->n_pend; i++) {
        pend *e = &st->pend[i];
        if (e->state != PEND_RESEND)
            continue;
        cfd_err err = commit_now(st, e->tx, e->errstr, sizeof(e->errstr));
        if (err == CFD_ERR_IO) {
            snprintf(errstr, errstr_size, "%s", e->errstr);
            return err;
        }
        e->err = err;
        e->state = PEND_DONE;
    }
    return CFD_OK;
}

cfd_err cfd_store_next_due(cfd_store *st, int32_t part, int64_t *at_ms, char *errstr,
                           size_t errstr_size)
{
    static const char *const sets[] = {"timers", "ctimers", "parkidx"};
    enum { N_SETS = sizeof(sets) / sizeof(sets[0]) };
    char keys[N_SETS][256];
    key_cmds z;
    *at_ms = INT64_MAX;
    key_cmds_init(&z, N_SETS);
    for (size_t i = 0; i < N_SETS; i++) {
        key_of(st, part, sets[i], NULL, keys[i], sizeof(keys[i]));
        key_cmds_set(&z, i, "ZRANGE", keys[i], "0", "0", "WITHSCORES");
    }
    cfd_err err =
        store_exec(st, part, z.cmds, N_SETS, z.replies, "ZRANGE", errstr, errstr_size);
    for (size_t i = 0; i < N_SETS && !err; i++) {
        const redisReply *r = z.replies[i];
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[1]->type == REDIS_REPLY_STRING) {
            int64_t at = strtoll(r->element[1]->str, NULL, 10);
            if (at < *at_ms)
                *at_ms = at;
        } else if (r->type != REDIS_REPLY_ARRAY) {
            err = reply_error(st, (redisReply *)r, "ZRANGE", errstr, errstr_size);
        }
    }
    key_cmds_free(&z, N_SETS);
    return err;
}

/*
 * The Redis store against a real redis-server: claims and fencing, the atomic batch
 * commit and its replay skip, outbox, park lists, timers, frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/config.h"
#include "confirmd/store.h"
#include "harness.h"

typedef struct fixture {
    h_env *env;
    cfd_config *cfg;
    cfd_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char errstr[256], port[64];
    f->env = h_env_new("store");
    if (!f->env || h_redis_start(f->env))
        return -1;
    f->cfg = cfd_config_new();
    snprintf(port, sizeof(port), "redis.port=%d", h_redis_port(f->env));
    if (cfd_config_set_pair(f->cfg, port, errstr, sizeof(errstr)))
        return -1;
    const cfd_store_opts opts = cfd_config_store_opts(f->cfg);
    f->st = cfd_store_new(&opts, errstr, sizeof(errstr));
    if (!f->st)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cfd_store_destroy(f->st);
    cfd_config_destroy(f->cfg);
    h_env_destroy(f->env);
    free(f);
    return 0;
}

typedef struct scan {
    int n;
    char ids[8][64];
} scan;

static void on_entry(const char *id, const void *frame, size_t len, void *ctx)
{
    scan *s = ctx;
    cfd_output_kind kind;
    const char *key;
    size_t klen, plen;
    const void *payload;
    assert_int_equal(
        cfd_frame_output_parse(frame, len, &kind, &key, &klen, &payload, &plen), CFD_OK);
    assert_int_equal(kind, CFD_OUT_ALERT);
    assert_memory_equal(key, "WO-1", 4);
    assert_memory_equal(payload, "alert-bytes", plen);
    snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", id);
}

/* Claims part for owner "t". @returns the epoch. */
static int64_t claim(fixture *f, int32_t part)
{
    char errstr[256];
    int64_t epoch = 0;
    assert_int_equal(cfd_store_claim(f->st, part, "t", &epoch, errstr, sizeof(errstr)),
                     CFD_OK);
    return epoch;
}

/* Loads n (at most 4) orders of part and checks each one's state (want_states[i],
 * NULL: none) and how many frames it has parked. */
static void load_check(fixture *f, int32_t part, const char *const *orders, size_t n,
                       const char *const *want_states, const size_t *want_parked)
{
    cfd_blob states[4];
    cfd_blob *parked[4];
    size_t n_parked[4];
    char errstr[256];
    assert_true(n <= 4);
    assert_int_equal(cfd_store_load(f->st, part, orders, n, states, parked, n_parked,
                                    errstr, sizeof(errstr)),
                     CFD_OK);
    for (size_t i = 0; i < n; i++) {
        if (want_states[i]) {
            assert_int_equal(states[i].len, strlen(want_states[i]));
            assert_memory_equal(states[i].data, want_states[i], states[i].len);
        } else {
            assert_null(states[i].data);
        }
        assert_int_equal(n_parked[i], want_parked[i]);
        for (size_t k = 0; k < n_parked[i]; k++) /* frames "f0", "f1", ... in order */
            assert_true(parked[i][k].len == 2 && parked[i][k].data[1] == (char)('0' + k));
        cfd_blobs_clear(parked[i], n_parked[i]);
        free(parked[i]);
    }
    cfd_blobs_clear(states, n);
}

/* A batch is written whole, once: a replay of the same offsets changes nothing. */
static void test_commit_and_replay(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t epoch = 0, off = 0;
    cfd_txn *tx = cfd_txn_new();
    size_t flen;

    assert_int_equal(cfd_store_claim(f->st, 3, "test", &epoch, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_true(epoch > 1700000000000LL); /* never below Redis' clock in ms */
    assert_int_equal(cfd_store_applied_offset(f->st, 3, "ev", &off, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(off, -1);

    void *frame = cfd_frame_output(CFD_OUT_ALERT, "WO-1", "alert-bytes", 11, &flen);
    cfd_txn_begin(tx, 3, epoch);
    cfd_txn_offset(tx, "ev", 41);
    cfd_txn_offset(tx, "ev", 42); /* the highest offset of the batch wins */
    cfd_txn_put_state(tx, "WO-1", "state-v1", 8);
    cfd_txn_outbox(tx, "alert/x", frame, flen);
    cfd_txn_timer(tx, "WO-1", 5000);
    assert_int_equal(cfd_txn_size(tx), 3);
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);

    /* The same offsets again (a lost reply, retried) are skipped whole. */
    cfd_txn_begin(tx, 3, epoch);
    cfd_txn_offset(tx, "ev", 42);
    cfd_txn_put_state(tx, "WO-1", "state-v2", 8);
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);

    const char *orders[] = {"WO-1", "WO-none"}, *want[] = {"state-v1", NULL};
    load_check(f, 3, orders, 2, want, (const size_t[]){0, 0});
    assert_int_equal(cfd_store_applied_offset(f->st, 3, "ev", &off, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(off, 42);

    scan s = {0};
    assert_int_equal(cfd_store_outbox_scan(f->st, 3, on_entry, &s, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], "alert/x");
    const char *ids[] = {"alert/x"};
    assert_int_equal(cfd_store_outbox_remove(f->st, 3, ids, 1, errstr, sizeof(errstr)),
                     CFD_OK);
    s.n = 0;
    cfd_store_outbox_scan(f->st, 3, on_entry, &s, errstr, sizeof(errstr));
    assert_int_equal(s.n, 0);

    char **due = NULL;
    size_t n_due = 0;
    assert_int_equal(cfd_store_due(f->st, 3, CFD_DUE_TIMER, 4999, 10, &due, &n_due, errstr,
                                   sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(n_due, 0);
    cfd_strv_free(due, n_due);
    assert_int_equal(cfd_store_due(f->st, 3, CFD_DUE_TIMER, 5000, 10, &due, &n_due, errstr,
                                   sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(n_due, 1);
    assert_string_equal(due[0], "WO-1");
    cfd_strv_free(due, n_due);
    free(frame);
    cfd_txn_destroy(tx);
}

/* A newer claim fences the older epoch: its writes are refused and change nothing. */
static void test_fencing(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t old_epoch = 0, new_epoch = 0, off = 0;
    cfd_txn *tx = cfd_txn_new();
    assert_int_equal(cfd_store_claim(f->st, 5, "a", &old_epoch, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(cfd_store_claim(f->st, 5, "b", &new_epoch, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_true(new_epoch > old_epoch);
    cfd_txn_begin(tx, 5, old_epoch);
    cfd_txn_offset(tx, "ev", 7);
    cfd_txn_put_state(tx, "WO-Z", "zombie", 6);
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_ERR_FENCED);
    assert_int_equal(cfd_store_applied_offset(f->st, 5, "ev", &off, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(off, -1);
    cfd_txn_destroy(tx);
}

/* Park lists keep their frames in order; the index expires by the first one parked. */
static void test_park(void **state)
{
    fixture *f = *state;
    char errstr[256], topic[64];
    int64_t epoch = claim(f, 1);
    cfd_txn *tx = cfd_txn_new();
    size_t flen;
    cfd_txn_begin(tx, 1, epoch);
    for (int i = 0; i < 2; i++) {
        cfd_parked_ref ref = {.topic = "confirmd.events",
                              .partition = 1,
                              .offset = 10 + i,
                              .expire_at_ms = 1000 + i,
                              .payload = "ev",
                              .payload_len = 2};
        void *fr = cfd_frame_parked(&ref, &flen);
        cfd_txn_park(tx, "WO-P", fr, flen, ref.expire_at_ms);
        free(fr);
    }
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);
    cfd_blob *items = NULL;
    size_t n = 0;
    assert_int_equal(
        cfd_store_get_parked(f->st, 1, "WO-P", &items, &n, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(n, 2);
    cfd_parked_ref back;
    assert_int_equal(
        cfd_frame_parked_parse(items[1].data, items[1].len, &back, topic, sizeof(topic)),
        CFD_OK);
    assert_string_equal(back.topic, "confirmd.events");
    assert_int_equal(back.offset, 11);
    assert_int_equal(back.expire_at_ms, 1001);
    assert_int_equal(back.payload_len, 2);
    cfd_blobs_clear(items, n);
    free(items);
    char **due = NULL;
    size_t n_due = 0;
    assert_int_equal(cfd_store_due(f->st, 1, CFD_DUE_PARKED, 1000, 10, &due, &n_due, errstr,
                                   sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(n_due, 1); /* NX: the first park's expiry holds */
    cfd_strv_free(due, n_due);
    cfd_txn_begin(tx, 1, epoch);
    cfd_txn_unpark(tx, "WO-P");
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(
        cfd_store_get_parked(f->st, 1, "WO-P", &items, &n, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(n, 0);
    free(items);
    cfd_txn_destroy(tx);
}

/* @returns how many times Redis ran cmd since the last CONFIG RESETSTAT. */
static long long calls_of(redisContext *rc, const char *cmd)
{
    redisReply *r = redisCommand(rc, "INFO commandstats");
    char needle[64];
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", cmd);
    const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, needle) : NULL;
    long long n = p ? strtoll(p + strlen(needle), NULL, 10) : 0;
    freeReplyObject(r);
    return n;
}

static void command(redisContext *rc, const char *cmd)
{
    redisReply *r = redisCommand(rc, cmd);
    assert_true(r && r->type != REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

/* A batch's load reads every state in one command and a park list only for an order
 * the park index names (parked path), none for the others (not-parked path). */
static void test_load_reads_indexed_park_lists(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t epoch = claim(f, 4);
    redisContext *rc = h_redis_connect(f->env);
    cfd_txn *tx = cfd_txn_new();
    cfd_txn_begin(tx, 4, epoch);
    cfd_txn_offset(tx, "ev", 1);
    cfd_txn_put_state(tx, "WO-S", "state", 5);
    cfd_txn_park(tx, "WO-P", "f0", 2, 1000);
    cfd_txn_park(tx, "WO-P", "f1", 2, 1001);
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);

    const char *orders[] = {"WO-S", "WO-P", "WO-none"}, *want[] = {"state", NULL, NULL};
    command(rc, "CONFIG RESETSTAT");
    load_check(f, 4, orders, 3, want, (const size_t[]){0, 2, 0});
    assert_int_equal(calls_of(rc, "mget"), 1);
    assert_int_equal(calls_of(rc, "zmscore"), 1);
    assert_int_equal(calls_of(rc, "lrange"), 1); /* WO-P's list only */

    cfd_txn_begin(tx, 4, epoch);
    cfd_txn_offset(tx, "ev", 2);
    cfd_txn_unpark(tx, "WO-P");
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);
    command(rc, "CONFIG RESETSTAT");
    load_check(f, 4, orders, 3, want, (const size_t[]){0, 0, 0});
    assert_int_equal(calls_of(rc, "lrange"), 0); /* nothing parked: no list read */
    cfd_txn_destroy(tx);
    redisFree(rc);
}

/* A batch's writes of one kind go to Redis as one command each (states, outputs,
 * timers set, timers dropped), in the order the batch wrote them where it matters: a
 * timer set then dropped, or dropped then set, and a key written then deleted, or
 * deleted then written, end as written last; more writes than one command takes are
 * split. */
static void test_commit_groups_writes(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t epoch = claim(f, 6);
    redisContext *rc = h_redis_connect(f->env);
    cfd_txn *tx = cfd_txn_new();
    enum { N = 2500 }; /* 5 000 arguments of MSET: split */
    cfd_txn_begin(tx, 6, epoch);
    cfd_txn_offset(tx, "ev", 1);
    for (int i = 0; i < N; i++) {
        char wo[32], out[32];
        snprintf(wo, sizeof(wo), "WO-%04d", i);
        snprintf(out, sizeof(out), "out/%04d", i);
        cfd_txn_put_state(tx, wo, wo, strlen(wo));
        cfd_txn_outbox(tx, out, "frame", 5);
        cfd_txn_timer(tx, wo, 1000 + i);
    }
    cfd_txn_timer(tx, "WO-0001", 0); /* set, then dropped */
    cfd_txn_timer(tx, "WO-0002", 0); /* set, dropped, set again */
    cfd_txn_timer(tx, "WO-0002", 7777);
    cfd_txn_put(tx, "obj", "O-1", "v1", 2); /* written, then deleted */
    cfd_txn_del(tx, "obj", "O-1");
    cfd_txn_del(tx, "obj", "O-2"); /* deleted, then written */
    cfd_txn_put(tx, "obj", "O-2", "v2", 2);
    command(rc, "CONFIG RESETSTAT");
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);
    long long msets = calls_of(rc, "mset"), zadds = calls_of(rc, "zadd");
    assert_true(msets >= 2 && msets <= 4); /* split at the bound, and around the DELs */
    assert_true(zadds >= 2 && zadds <= 4);
    assert_true(calls_of(rc, "hset") <= 5); /* the offsets and the outputs */

    redisReply *r = redisCommand(rc, "ZCARD cfd:{p6}:timers");
    assert_int_equal(r->integer, N - 1);
    freeReplyObject(r);
    r = redisCommand(rc, "ZSCORE cfd:{p6}:timers WO-0002");
    assert_string_equal(r->str, "7777");
    freeReplyObject(r);
    r = redisCommand(rc, "ZSCORE cfd:{p6}:timers WO-2499");
    assert_string_equal(r->str, "3499");
    freeReplyObject(r);
    r = redisCommand(rc, "HLEN cfd:{p6}:outbox");
    assert_int_equal(r->integer, N);
    freeReplyObject(r);
    r = redisCommand(rc, "EXISTS cfd:{p6}:obj:O-1");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    r = redisCommand(rc, "GET cfd:{p6}:obj:O-2");
    assert_string_equal(r->str, "v2");
    freeReplyObject(r);
    const char *orders[] = {"WO-0000", "WO-2499"}, *want[] = {"WO-0000", "WO-2499"};
    load_check(f, 6, orders, 2, want, (const size_t[]){0, 0});
    cfd_txn_destroy(tx);
    redisFree(rc);
}

/* Redis restarts between calls: the first call after reports an I/O error, a reconnect
 * brings it back, and the script cache is reloaded on demand. */
static void test_reconnect(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t epoch = 0;
    assert_int_equal(h_redis_restart(f->env), 0);
    cfd_err err = cfd_store_claim(f->st, 2, "t", &epoch, errstr, sizeof(errstr));
    assert_int_equal(err, CFD_ERR_IO);
    assert_int_equal(cfd_store_reconnect(f->st, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_claim(f->st, 2, "t", &epoch, errstr, sizeof(errstr)),
                     CFD_OK);
    cfd_txn *tx = cfd_txn_new();
    cfd_txn_begin(tx, 2, epoch);
    cfd_txn_offset(tx, "ev", 1);
    assert_int_equal(cfd_store_commit(f->st, tx, errstr, sizeof(errstr)), CFD_OK);
    cfd_txn_destroy(tx);
}

/* A batch of part at epoch: offset off of "ev", and WO-<part>'s state value. */
static void ahead_batch(cfd_txn *tx, int32_t part, int64_t epoch, int64_t off,
                        const char *value)
{
    char order[16];
    snprintf(order, sizeof(order), "WO-%d", (int)part);
    cfd_txn_begin(tx, part, epoch);
    cfd_txn_offset(tx, "ev", off);
    cfd_txn_put_state(tx, order, value, strlen(value));
}

/* Commits sent ahead: three partitions' batches queued without waiting, a read sent
 * behind them sees their writes, and their results come back oldest first (one of
 * them fenced); a result taken out of order is refused. */
static void test_commits_sent_ahead(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t epoch[3], stale = 0;
    cfd_txn *tx[3];
    for (int i = 0; i < 3; i++) {
        tx[i] = cfd_txn_new();
        assert_int_equal(
            cfd_store_claim(f->st, 10 + i, "t", &epoch[i], errstr, sizeof(errstr)), CFD_OK);
    }
    /* partition 12 claimed again: its first epoch is a zombie's */
    stale = epoch[2];
    assert_int_equal(cfd_store_claim(f->st, 12, "u", &epoch[2], errstr, sizeof(errstr)),
                     CFD_OK);
    ahead_batch(tx[0], 10, epoch[0], 5, "ten");
    ahead_batch(tx[1], 11, epoch[1], 6, "eleven");
    ahead_batch(tx[2], 12, stale, 7, "zombie");
    for (int i = 0; i < 3; i++)
        cfd_store_commit_send(f->st, tx[i]);
    /* behind the commits: sees partition 10's */
    const char *orders[] = {"WO-10"}, *want[] = {"ten"};
    load_check(f, 10, orders, 1, want, (const size_t[]){0});
    assert_int_equal(cfd_store_commit_wait(f->st, tx[1], errstr, sizeof(errstr)), CFD_ERR);
    assert_int_equal(cfd_store_commit_wait(f->st, tx[0], errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_commit_wait(f->st, tx[1], errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_commit_wait(f->st, tx[2], errstr, sizeof(errstr)),
                     CFD_ERR_FENCED);
    const char *orders11[] = {"WO-11"}, *want11[] = {"eleven"};
    load_check(f, 11, orders11, 1, want11, (const size_t[]){0});
    const char *orders12[] = {"WO-12"}, *want12[] = {NULL};
    load_check(f, 12, orders12, 1, want12, (const size_t[]){0});
    for (int i = 0; i < 3; i++)
        cfd_txn_destroy(tx[i]);
}

/* The connection is lost with commits in flight (Redis restarted, its data kept): their
 * results and every other call fail with an I/O error until, after a reconnect, they
 * are sent again; a batch Redis already had is answered APPLIED, not written twice.
 * Then the script cache flushed under commits in flight: NOSCRIPT takes the same way. */
static void test_commits_ahead_lost_connection(void **state)
{
    fixture *f = *state;
    char errstr[256];
    int64_t epoch = claim(f, 20), off = -1;
    cfd_txn *first = cfd_txn_new(), *second = cfd_txn_new();
    redisContext *rc = h_redis_connect(f->env);
    assert_non_null(rc);
    ahead_batch(first, 20, epoch, 1, "v1");
    cfd_store_commit_send(f->st, first);
    assert_int_equal(cfd_store_commit_wait(f->st, first, errstr, sizeof(errstr)), CFD_OK);

    /* one applied, its reply lost; one not sent before the loss */
    ahead_batch(first, 20, epoch, 1, "v1-again");
    ahead_batch(second, 20, epoch, 2, "v2");
    cfd_store_commit_send(f->st, first);
    command(rc, "SAVE");
    redisFree(rc);
    assert_int_equal(h_redis_restart(f->env), 0);
    cfd_store_commit_send(f->st, second);
    assert_int_equal(cfd_store_commit_wait(f->st, first, errstr, sizeof(errstr)),
                     CFD_ERR_IO);
    const char *orders[] = {"WO-20"}, *want_v2[] = {"v2"};
    cfd_blob st1[1];
    cfd_blob *pk[1];
    size_t npk[1];
    assert_int_equal(
        cfd_store_load(f->st, 20, orders, 1, st1, pk, npk, errstr, sizeof(errstr)),
        CFD_ERR_IO); /* it would read without them */
    assert_int_equal(cfd_store_reconnect(f->st, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(
        cfd_store_load(f->st, 20, orders, 1, st1, pk, npk, errstr, sizeof(errstr)),
        CFD_ERR_IO); /* reconnected, not yet sent again */
    assert_int_equal(
        cfd_store_applied_offset(f->st, 20, "ev", &off, errstr, sizeof(errstr)),
        CFD_OK); /* the check before sending them is allowed */
    assert_int_equal(off, 1);
    assert_int_equal(cfd_store_resend(f->st, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_commit_wait(f->st, first, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_commit_wait(f->st, second, errstr, sizeof(errstr)), CFD_OK);
    load_check(f, 20, orders, 1, want_v2, (const size_t[]){0});
    assert_int_equal(
        cfd_store_applied_offset(f->st, 20, "ev", &off, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(off, 2);

    /* the script cache flushed while a commit is on its way */
    rc = h_redis_connect(f->env);
    command(rc, "SCRIPT FLUSH");
    ahead_batch(first, 20, epoch, 3, "v3");
    cfd_store_commit_send(f->st, first);
    assert_int_equal(cfd_store_commit_wait(f->st, first, errstr, sizeof(errstr)),
                     CFD_ERR_IO);
    assert_non_null(strstr(errstr, "NOSCRIPT"));
    assert_int_equal(cfd_store_reconnect(f->st, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_resend(f->st, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_commit_wait(f->st, first, errstr, sizeof(errstr)), CFD_OK);
    const char *want_v3[] = {"v3"};
    load_check(f, 20, orders, 1, want_v3, (const size_t[]){0});
    redisFree(rc);
    cfd_txn_destroy(first);
    cfd_txn_destroy(second);
}

/* redis.unix_socket, the fastest local path: the store connects through it, claims a
 * partition and commits a batch. */
static void test_unix_socket(void **state)
{
    (void)state;
    char errstr[256], sock[600], opt[700];
    int64_t epoch = 0, off = -1;
    h_env *env = h_env_new("store-unix");
    assert_non_null(env);
    snprintf(sock, sizeof(sock), "%s/redis.sock", h_env_dir(env));
    const char *args[] = {"--unixsocket", sock, NULL};
    assert_int_equal(h_redis_start_args(env, args), 0);
    cfd_config *cfg = cfd_config_new();
    snprintf(opt, sizeof(opt), "redis.unix_socket=%s", sock);
    assert_int_equal(cfd_config_set_pair(cfg, opt, errstr, sizeof(errstr)), 0);
    assert_int_equal(cfd_config_set_pair(cfg, "redis.port=1", errstr, sizeof(errstr)), 0);
    const cfd_store_opts opts = cfd_config_store_opts(cfg);
    cfd_store *st = cfd_store_new(&opts, errstr, sizeof(errstr));
    if (!st)
        fail_msg("unix socket: %s", errstr);
    assert_int_equal(cfd_store_claim(st, 2, "test", &epoch, errstr, sizeof(errstr)),
                     CFD_OK);
    cfd_txn *tx = cfd_txn_new();
    cfd_txn_begin(tx, 2, epoch);
    cfd_txn_offset(tx, "ev", 7);
    cfd_txn_put_state(tx, "WO-U", "state", 5);
    assert_int_equal(cfd_store_commit(st, tx, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(cfd_store_applied_offset(st, 2, "ev", &off, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(off, 7);
    cfd_txn_destroy(tx);
    cfd_store_destroy(st);
    cfd_config_destroy(cfg);
    h_env_destroy(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fencing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_reads_indexed_park_lists, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_groups_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commits_sent_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commits_ahead_lost_connection, setup,
                                        teardown),
        cmocka_unit_test(test_unix_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Redis outages under a live worker. Redis, not Kafka, holds what was applied, so:
 *  - while Redis is away the worker pauses: it writes nothing, emits nothing, skips
 *    nothing, and resumes where it stopped when Redis is back;
 *  - when Redis comes back with less than it acknowledged (appendfsync everysec and
 *    a crash: up to about a second of writes gone), state and applied offsets roll
 *    back together; the worker must notice, leave (exit 3, fenced) rather than write
 *    on top, and its successor reprocesses from Kafka, re-emitting with the same ids.
 * Every record is compared with what the domain core computes from the events alone.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_events.h"
#include "harness_orders.h"

#define PARTS 8
#define MAX_ORDERS 120

/* Simulated time pinned before every deadline: the events alone decide the alerts. */
static const char *const worker_args[] = {"worker.clock=simulated", NULL};

typedef struct workload {
    h_event ev[MAX_ORDERS][H_ORDER_EVENTS];
    h_expect exp[MAX_ORDERS];
    int n_orders;
    int produced; /* messages produced to confirmd.events */
    uint64_t seed;
} workload;

static int setup(void **state)
{
    h_env *env = h_env_new("redis-outage");
    if (!env || h_redis_start(env) || h_broker_start(env, NULL) ||
        h_set_sim_clock(env, H_WL_T0))
        return -1;
    *state = env;
    return 0;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static workload *workload_new(const char *prefix, int n_orders, uint64_t seed)
{
    workload *wl = calloc(1, sizeof(*wl));
    assert_non_null(wl);
    wl->n_orders = n_orders;
    wl->seed = seed;
    for (int i = 0; i < n_orders; i++) {
        char wo[32];
        snprintf(wo, sizeof(wo), "%s%03d", prefix, i);
        assert_int_equal(h_order_events(wo, (unsigned)i, H_WL_T0 + i * 60000LL, wl->ev[i]),
                         0);
        assert_int_equal(h_oracle(wl->ev[i], H_ORDER_EVENTS, &wl->exp[i]), 0);
    }
    return wl;
}

static void workload_free(workload *wl)
{
    for (int i = 0; i < wl->n_orders; i++) {
        h_expect_clear(&wl->exp[i]);
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&wl->ev[i][k]);
    }
    free(wl);
}

/* Produces orders [from, to), each followed by one bad message; waits for delivery. */
static void produce_orders(h_env *env, workload *wl, int from, int to)
{
    uint8_t bad[512];
    size_t len;
    for (int i = from; i < to; i++) {
        for (int k = 0; k < H_ORDER_EVENTS; k++) {
            h_out_msg m = {wl->ev[i][k].wo, wl->ev[i][k].buf, wl->ev[i][k].len, NULL};
            assert_int_equal(h_produce_async(env, "confirmd.events", &m), 0);
        }
        h_poison_kind kind = (h_poison_kind)(h_rand(&wl->seed) % H_POISON_KINDS);
        assert_int_equal(
            h_poison(&wl->seed, kind, wl->ev[0], H_ORDER_EVENTS, bad, sizeof(bad), &len),
            0);
        h_out_msg m = {wl->ev[i][0].wo, bad, len, NULL};
        assert_int_equal(h_produce_async(env, "confirmd.events", &m), 0);
        wl->produced += H_ORDER_EVENTS + 1;
    }
    assert_int_equal(h_flush(env, 30000), 0);
}

/* Checks Redis state, the records, alerts and dead-letter topics against the oracle. */
static void check_all(h_env *env, workload *wl, const char *what)
{
    h_out_report recs, alerts;
    h_dl_report dl;
    assert_int_equal(h_wait_redis_records(env, wl->exp, (size_t)wl->n_orders, PARTS, 60000),
                     0);
    assert_int_equal(h_check_records_topic(env, "confirmd.records", wl->exp,
                                           (size_t)wl->n_orders, 30000, &recs),
                     0);
    assert_int_equal(h_check_alerts_topic(env, "confirmd.alerts", wl->exp,
                                          (size_t)wl->n_orders, 30000, &alerts),
                     0);
    assert_int_equal(h_dl_check(env, "confirmd.events", wl->produced, NULL,
                                "confirmd.deadletter", 30000, &dl),
                     0);
    printf("%s: records %d (distinct %d, duplicates by id %d, missing %d, unexpected %d, "
           "wrong %d); alerts %d (distinct %d, duplicates %d, missing %d); dead letters %d "
           "for %d bad (duplicates %d, missing %d, unexpected %d, wrong %d)\n",
           what, recs.messages, recs.distinct, recs.duplicates, recs.missing,
           recs.unexpected, recs.wrong, alerts.messages, alerts.distinct, alerts.duplicates,
           alerts.missing, dl.dead_letters, dl.bad, dl.duplicates, dl.missing,
           dl.unexpected, dl.wrong);
    assert_int_equal(recs.distinct, wl->n_orders);
    assert_int_equal(recs.missing + recs.unexpected + recs.wrong, 0);
    assert_int_equal(alerts.missing + alerts.unexpected, 0);
    assert_int_equal(dl.bad, wl->produced / (H_ORDER_EVENTS + 1));
    assert_int_equal(dl.missing + dl.unexpected + dl.wrong, 0);
}

/* @returns how many messages the topic holds, reading for at most timeout_ms. */
static int count_topic(h_env *env, const char *topic, int timeout_ms)
{
    h_consumer *c = h_consume_open(env, topic);
    assert_non_null(c);
    int n = h_consume_until(c, INT32_MAX, timeout_ms, NULL, NULL);
    h_consume_close(c);
    return n;
}

/* Redis stops cleanly (AOF flushed) while events keep coming, then comes back: the
 * worker waits, emits nothing meanwhile, then applies everything exactly once. */
static void test_stop_and_restart(void **state)
{
    h_env *env = *state;
    workload *wl = workload_new("WO-S", 40, 0x5106ULL);
    int64_t t0 = h_now_ms();
    pid_t w = h_worker_start(env, worker_args);
    assert_true(w > 0);

    produce_orders(env, wl, 0, 20);
    assert_int_equal(h_wait_redis_records(env, wl->exp, 20, PARTS, 60000), 0);
    int recs_before = count_topic(env, "confirmd.records", 3000);
    int dls_before = count_topic(env, "confirmd.deadletter", 3000);
    assert_int_equal(recs_before, 20);
    assert_int_equal(dls_before, 20);

    assert_int_equal(h_redis_stop(env), 0);
    produce_orders(env, wl, 20, 40);
    pause_ms(5000);
    /* Paused: nothing was emitted for the events sent during the outage. */
    assert_true(h_worker_alive(env, w));
    assert_int_equal(count_topic(env, "confirmd.records", 2000), recs_before);
    assert_int_equal(count_topic(env, "confirmd.deadletter", 2000), dls_before);
    assert_true(h_file_count(h_worker_log_path(env, 0), "retrying in") > 0);

    assert_int_equal(h_redis_start(env), 0);
    check_all(env, wl, "stop/restart");
    assert_true(h_worker_alive(env, w));
    assert_int_equal(
        h_wait_file_contains(h_worker_log_path(env, 0), "redis reconnected", 1000), 0);
    assert_int_equal(h_pii_hits(h_worker_log_path(env, 0)), 0);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    printf("stop/restart: %lld ms\n", (long long)(h_now_ms() - t0));
    workload_free(wl);
}

/* @returns the path of redis' newest incremental AOF file in dir (Redis 7 keeps a
 * base file and incremental ones under appendonlydir/). */
static void newest_incr_aof(const char *dir, char *out, size_t n)
{
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/appendonlydir", dir);
    DIR *d = opendir(sub);
    long best = -1;
    struct dirent *e;
    assert_non_null(d);
    out[0] = '\0';
    while ((e = readdir(d))) {
        const char *p = strstr(e->d_name, ".incr.aof");
        const char *dot = strstr(e->d_name, ".aof.");
        if (!p || !dot || p[9] != '\0')
            continue;
        long seq = strtol(dot + 5, NULL, 10);
        if (seq > best) {
            best = seq;
            snprintf(out, n, "%s/%s", sub, e->d_name);
        }
    }
    closedir(d);
    assert_true(best >= 0);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The worker's fate after Redis came back: still running, or fenced (exit 3) and
 * replaced by a new one. @returns the running worker. */
static pid_t survive_or_replace(h_env *env, pid_t w, bool *fenced)
{
    int code = h_worker_wait_exit(env, w, 15000);
    *fenced = code == 3;
    if (code == -1)
        return w; /* still running: it continued */
    assert_int_equal(code, 3);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 0), "fenced", 1000), 0);
    pid_t next = h_worker_start(env, worker_args);
    assert_true(next > 0);
    return next;
}

/*
 * Redis is killed (SIGKILL) mid-stream with appendfsync everysec. When lose_tail is
 * set, the AOF is also cut back to its size a second before the kill: what a machine
 * crash does to writes that were acknowledged but not yet fsynced.
 */
static void kill_mid_stream(h_env *env, bool lose_tail, const char *what)
{
    workload *wl = workload_new(lose_tail ? "WO-L" : "WO-K", 90, 0x4b11ULL + lose_tail);
    int64_t t0 = h_now_ms();
    char aof[700];
    long cut = -1;
    bool fenced = false;
    pid_t w = h_worker_start(env, worker_args);
    assert_true(w > 0);

    produce_orders(env, wl, 0, 10);
    assert_int_equal(h_wait_redis_records(env, wl->exp, 10, PARTS, 60000), 0);
    pause_ms(1500); /* the claims are fsynced by now */
    newest_incr_aof(h_env_dir(env), aof, sizeof(aof));
    for (int i = 10; i < 60; i += 2) {
        if (i == 30)
            cut = file_size(aof); /* about a second before the kill */
        produce_orders(env, wl, i, i + 2);
        pause_ms(40);
    }
    assert_int_equal(h_redis_kill(env), 0);
    long size = file_size(aof);
    if (lose_tail) {
        assert_true(cut > 0 && size > cut);
        assert_int_equal(truncate(aof, cut), 0);
        printf("%s: AOF cut from %ld to %ld bytes\n", what, size, cut);
    }
    assert_int_equal(h_redis_start(env), 0);
    produce_orders(env, wl, 60, 90);

    w = survive_or_replace(env, w, &fenced);
    printf("%s: the worker %s\n", what,
           fenced ? "was fenced (exit 3) and replaced" : "continued");
    if (lose_tail)
        assert_true(fenced); /* it must not write on top of a rolled-back state */
    check_all(env, wl, what);
    for (int i = 0; i < 2; i++)
        assert_int_equal(h_pii_hits(h_worker_log_path(env, i)), 0);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    printf("%s: %lld ms\n", what, (long long)(h_now_ms() - t0));
    workload_free(wl);
}

static void test_kill9(void **state)
{
    kill_mid_stream(*state, false, "kill -9");
}

static void test_kill9_lost_second(void **state)
{
    kill_mid_stream(*state, true, "kill -9, last second lost");
}

/* @returns how many keys match pattern in Redis. */
static long long count_keys(h_env *env, const char *pattern)
{
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *r =
        redisCommand(rc, "EVAL %s 0 %s", "return #redis.call('KEYS', ARGV[1])", pattern);
    assert_non_null(r);
    long long n = r->integer;
    freeReplyObject(r);
    redisFree(rc);
    return n;
}

/* Redis lost everything (restarted without persistence, an empty replica promoted)
 * while the group's committed offsets remain. By default the next worker consumes
 * nothing of those partitions and exits with status 4, saying what to do; with
 * worker.on_state_loss=replay it rebuilds every record from the earliest offsets. */
static void test_state_lost(void **state)
{
    h_env *env = *state;
    workload *wl = workload_new("WO-SL", 24, 0x51A7E105ULL);
    const char *replay[] = {"worker.clock=simulated", "worker.on_state_loss=replay", NULL};

    produce_orders(env, wl, 0, wl->n_orders);
    pid_t w = h_worker_start(env, worker_args);
    assert_true(w > 0);
    check_all(env, wl, "before the loss");
    pause_ms(3000); /* the delivered batches' offsets are committed to Kafka */
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);

    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    freeReplyObject(redisCommand(rc, "FLUSHALL"));
    redisFree(rc);
    assert_int_equal(h_set_sim_clock(env, H_WL_T0), 0);

    w = h_worker_start(env, worker_args);
    assert_true(w > 0);
    assert_int_equal(h_worker_wait_exit(env, w, 60000), 4);
    assert_true(h_file_count(h_worker_log_path(env, 1), "redis lost its data") > 0);
    assert_true(h_file_count(h_worker_log_path(env, 1), "worker.on_state_loss=replay") > 0);
    assert_int_equal(count_keys(env, "cfd:*:wo:*"), 0); /* nothing consumed */

    w = h_worker_start(env, replay);
    assert_true(w > 0);
    check_all(env, wl, "replayed");
    assert_true(h_file_count(h_worker_log_path(env, 2), "rebuilding it from the earliest") >
                0);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    workload_free(wl);
}

/* Redis up but busy (a script running past busy-reply-threshold answers every other
 * client BUSY, as LOADING does after a restart): the worker waits and retries like
 * for a lost connection instead of stopping, then applies everything exactly once. */
static void test_redis_busy(void **state)
{
    h_env *env = *state;
    workload *wl = workload_new("WO-B", 40, 0xB05EULL);
    pid_t w = h_worker_start(env, worker_args);
    assert_true(w > 0);
    produce_orders(env, wl, 0, 20);
    assert_int_equal(h_wait_redis_records(env, wl->exp, 20, PARTS, 60000), 0);

    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    freeReplyObject(redisCommand(rc, "CONFIG SET busy-reply-threshold 100"));
    pid_t busy = fork();
    assert_true(busy >= 0);
    if (busy == 0) {
        /* A script that spins for 3 s: from 100 ms on, everybody else gets BUSY. */
        redisReply *r = redisCommand(
            rc, "EVAL %s 0",
            "local t = redis.call('TIME') "
            "while true do local n = redis.call('TIME') "
            "if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 3000000 then break end end "
            "return 1");
        _exit(r && r->type == REDIS_REPLY_INTEGER ? 0 : 1);
    }
    pause_ms(300);
    produce_orders(env, wl, 20, 40);
    int status = 0;
    assert_int_equal(waitpid(busy, &status, 0), busy);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    redisFree(rc);

    check_all(env, wl, "after BUSY");
    assert_true(h_worker_alive(env, w));
    assert_true(h_file_count(h_worker_log_path(env, 0), "BUSY") > 0);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    workload_free(wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_and_restart, setup, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_kill9, setup, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_kill9_lost_second, setup, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_state_lost, setup, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_redis_busy, setup, h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Poison input through one live worker: ten thousand bad messages (random bytes,
 * truncated events, protobuf of the wrong shape, events missing a field they need,
 * enum values out of range) interleaved with the events of real work orders and of
 * orders that never open. Every bad message must reach the dead-letter topic once per
 * offset, every real order's record must be exactly what the domain core computes
 * from its events alone, and the worker must still be consuming afterwards. Text that
 * is not UTF-8 in any string field is refused the same way, naming the field, and a
 * newline in a work order forges no line of the log.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness_events.h"
#include "harness_orders.h"

#define N_POISON 10000
#define N_ORDERS 40
#define N_ORPHANS 100
#define PARTS 8 /* confirmd.events partitions, the broker's default */
#define SEED 0xC0FFEE7ULL

/* One message of the storm, in production order. */
typedef struct storm_msg {
    char key[32];
    uint8_t *buf;
    size_t len;
} storm_msg;

static int setup(void **state)
{
    h_env *env = h_env_new("poison");
    if (!env || h_redis_start(env) || h_broker_start(env, NULL))
        return -1;
    *state = env;
    return 0;
}

static void test_poison_storm(void **state)
{
    h_env *env = *state;
    static h_event goods[N_ORDERS][H_ORDER_EVENTS];
    static h_expect expect[N_ORDERS + 1];
    static storm_msg storm[N_POISON + N_ORPHANS + N_ORDERS * H_ORDER_EVENTS];
    size_t next_ev[N_ORDERS] = {0};
    size_t n_storm = 0, left_poison = N_POISON, left_orphan = N_ORPHANS;
    size_t left_good = N_ORDERS * H_ORDER_EVENTS;
    int per_kind[H_POISON_KINDS] = {0};
    uint64_t seed = SEED;
    int64_t t_start = h_now_ms();
    /* Simulated time, pinned before every deadline: the events alone decide the
     * alerts. It moves past the park window once the real orders are done. */
    const char *args[] = {"worker.clock=simulated", "worker.park_window=10min", NULL};

    assert_int_equal(h_set_sim_clock(env, H_WL_T0), 0);
    pid_t w = h_worker_start(env, args);
    assert_true(w > 0);

    for (int i = 0; i < N_ORDERS; i++) {
        char wo[32];
        snprintf(wo, sizeof(wo), "WO-P%03d", i);
        assert_int_equal(h_order_events(wo, (unsigned)i, H_WL_T0 + i * 60000LL, goods[i]),
                         0);
        assert_int_equal(h_oracle(goods[i], H_ORDER_EVENTS, &expect[i]), 0);
        assert_true(expect[i].complete);
    }

    /* Interleave at random; each order's events keep their order. */
    while (left_poison + left_orphan + left_good > 0) {
        uint64_t r = h_rand(&seed) % (left_poison + left_orphan + left_good);
        storm_msg *m = &storm[n_storm++];
        if (r < left_good) {
            size_t o;
            do
                o = h_rand(&seed) % N_ORDERS;
            while (next_ev[o] == H_ORDER_EVENTS);
            h_event *ev = &goods[o][next_ev[o]++];
            snprintf(m->key, sizeof(m->key), "%s", ev->wo);
            m->buf = malloc(ev->len);
            memcpy(m->buf, ev->buf, ev->len);
            m->len = ev->len;
            left_good--;
        } else if (r < left_good + left_orphan) {
            /* A well-formed milestone of an order that never opens: parked, then
             * dead-lettered when the window passes. */
            h_event ev;
            char json[512];
            size_t k = N_ORPHANS - left_orphan--;
            snprintf(json, sizeof(json),
                     "{\"event_id\":\"ORPHAN-%zu-arr\",\"work_order\":\"ORPHAN-%zu\","
                     "\"event_time_ms\":%lld,\"arrived_on_site\":{}}",
                     k, k, (long long)H_WL_T0);
            assert_int_equal(h_event_encode(json, &ev), 0);
            snprintf(m->key, sizeof(m->key), "ORPHAN-%zu", k);
            m->buf = ev.buf;
            m->len = ev.len;
        } else {
            h_poison_kind kind = (h_poison_kind)(h_rand(&seed) % H_POISON_KINDS);
            m->buf = malloc(512);
            assert_int_equal(h_poison(&seed, kind, &goods[0][0], N_ORDERS * H_ORDER_EVENTS,
                                      m->buf, 512, &m->len),
                             0);
            snprintf(m->key, sizeof(m->key), "bad%d-%zu", (int)kind, left_poison);
            per_kind[kind]++;
            left_poison--;
        }
    }
    for (size_t i = 0; i < n_storm; i++) {
        h_out_msg om = {storm[i].key, storm[i].buf, storm[i].len, NULL};
        assert_int_equal(h_produce_async(env, "confirmd.events", &om), 0);
    }
    assert_int_equal(h_flush(env, 60000), 0);
    printf("poison: produced %zu messages (random %d, truncated %d, wrong shape %d, "
           "missing field %d, bad enum %d, orphans %d, good %d) in %lld ms\n",
           n_storm, per_kind[0], per_kind[1], per_kind[2], per_kind[3], per_kind[4],
           N_ORPHANS, N_ORDERS * H_ORDER_EVENTS, (long long)(h_now_ms() - t_start));

    /* Every real order's state in Redis is the oracle's, byte for byte. */
    assert_int_equal(h_wait_redis_records(env, expect, N_ORDERS, PARTS, 120000), 0);
    assert_int_equal(h_set_sim_clock(env, H_WL_T0 + 24 * 3600 * 1000LL), 0);

    /* Every bad message has its dead letter, once per offset. */
    h_dl_report dl;
    assert_int_equal(h_dl_check(env, "confirmd.events", (int)n_storm, "ORPHAN-",
                                "confirmd.deadletter", 120000, &dl),
                     0);
    printf("poison: input %d, bad %d, dead letters %d (distinct offsets %d, duplicates "
           "by id %d), missing %d, unexpected %d, wrong %d\n",
           dl.input, dl.bad, dl.dead_letters, dl.distinct, dl.duplicates, dl.missing,
           dl.unexpected, dl.wrong);
    assert_int_equal(dl.bad, N_POISON + N_ORPHANS);
    assert_int_equal(dl.distinct, dl.bad);
    assert_int_equal(dl.missing, 0);
    assert_int_equal(dl.unexpected, 0);
    assert_int_equal(dl.wrong, 0);

    /* The completed records and alerts are the oracle's too. */
    h_out_report recs, alerts;
    assert_int_equal(
        h_check_records_topic(env, "confirmd.records", expect, N_ORDERS, 30000, &recs), 0);
    assert_int_equal(
        h_check_alerts_topic(env, "confirmd.alerts", expect, N_ORDERS, 30000, &alerts), 0);
    printf("poison: records %d (distinct %d, duplicates %d, missing %d, unexpected %d, "
           "wrong %d); alerts %d (distinct %d, duplicates %d, missing %d, unexpected %d)\n",
           recs.messages, recs.distinct, recs.duplicates, recs.missing, recs.unexpected,
           recs.wrong, alerts.messages, alerts.distinct, alerts.duplicates, alerts.missing,
           alerts.unexpected);
    assert_int_equal(recs.distinct, N_ORDERS);
    assert_int_equal(recs.missing + recs.unexpected + recs.wrong, 0);
    assert_int_equal(alerts.missing + alerts.unexpected, 0);

    /* After the storm the worker still consumes: one more order goes through. */
    h_event after[H_ORDER_EVENTS];
    assert_int_equal(h_order_events("WO-AFTER", 7, H_WL_T0, after), 0);
    assert_int_equal(h_oracle(after, H_ORDER_EVENTS, &expect[N_ORDERS]), 0);
    for (int i = 0; i < H_ORDER_EVENTS; i++) {
        h_out_msg om = {after[i].wo, after[i].buf, after[i].len, NULL};
        assert_int_equal(h_produce_async(env, "confirmd.events", &om), 0);
    }
    assert_int_equal(h_flush(env, 10000), 0);
    assert_int_equal(h_wait_redis_records(env, &expect[N_ORDERS], 1, PARTS, 30000), 0);
    assert_int_equal(
        h_check_records_topic(env, "confirmd.records", expect, N_ORDERS + 1, 30000, &recs),
        0);
    assert_int_equal(recs.distinct, N_ORDERS + 1);
    assert_int_equal(recs.missing + recs.unexpected + recs.wrong, 0);
    assert_true(h_worker_alive(env, w));

    /* No customer's name, contact, phone or address in the worker's log. */
    assert_true(h_file_count(h_worker_log_path(env, 0), "") >= 0); /* the log exists */
    assert_int_equal(h_pii_hits(h_worker_log_path(env, 0)), 0);

    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    printf("poison: done in %lld ms\n", (long long)(h_now_ms() - t_start));

    for (int i = 0; i < H_ORDER_EVENTS; i++)
        h_event_clear(&after[i]);
    for (int i = 0; i <= N_ORDERS; i++)
        h_expect_clear(&expect[i]);
    for (int i = 0; i < N_ORDERS; i++)
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&goods[i][k]);
    for (size_t i = 0; i < n_storm; i++)
        free(storm[i].buf);
}

/* Overwrites the placeholder "@@@@" in buf with 4 bytes of bad text: the protobuf
 * lengths stay right, only the text is no longer UTF-8. */
static void spoil_text(uint8_t *buf, size_t len, const char bad[4])
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(buf + i, "@@@@", 4) == 0) {
            memcpy(buf + i, bad, 4);
            return;
        }
    }
    fail_msg("no placeholder in the event");
}

/* Events whose text is not UTF-8, each in another field: each becomes a dead letter
 * INVALID_VALUE that names the field and carries the original bytes, never the bad
 * text in one of its own string fields; the order's good events still apply. */
static void test_invalid_utf8(void **state)
{
    h_env *env = *state;
    static const struct {
        const char *id, *json, *bad, *field, *work_order;
    } cases[] = {
        {"EV-U8-1", "\"work_order\":\"WO-@@@@\",\"accepted\":{}", "\xed\xa0\x80!",
         "work_order", NULL},
        {"EV-U8-2",
         "\"work_order\":\"WO-U8\",\"fault_report\":{\"customer\":"
         "{\"name\":\"客户@@@@\",\"tier\":\"TIER_A\"}}",
         "\xc0\xaf\xc0\xaf", "fault_report.customer.name", "WO-U8"},
        {"EV-U8-3",
         "\"work_order\":\"WO-U8\",\"arrived_on_site\":{\"engineers\":"
         "[\"李强\",\"@@@@\"]}",
         "\xf4\x90\x80\x80", "arrived_on_site.engineers[1]", "WO-U8"},
        {"EV-U8-4",
         "\"work_order\":\"WO-U8\",\"diagnosed\":{\"cause\":"
         "\"CAUSE_OTHER\",\"cause_other\":\"断@@@@\"}",
         "\xe6\x96\xad\xe6", "diagnosed.cause_other", "WO-U8"},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    char *originals[N];
    h_collected dls, recs;

    for (size_t i = 0; i < N; i++) {
        size_t len;
        uint8_t *buf = h_event_pb(&len, "{\"event_id\":\"%s\",\"event_time_ms\":%lld,%s}",
                                  cases[i].id, (long long)H_WL_T0, cases[i].json);
        spoil_text(buf, len, cases[i].bad);
        assert_int_equal(h_produce(env, "confirmd.events", "WO-U8", buf, len), 0);
        originals[i] = h_base64(buf, len);
        free(buf);
    }
    h_send_full_order(env, "WO-U8", "TIER_A", 0, H_WL_T0, 30);
    pid_t w = h_worker_start(env, NULL);
    assert_true(w > 0);

    h_collect(env, "confirmd.deadletter", "DeadLetter", N, 30000, &dls);
    assert_int_equal(dls.n, N);
    for (size_t i = 0; i < N; i++) {
        json_object *dl = h_find_by(&dls, "event_id", cases[i].id);
        if (!dl)
            fail_msg("no dead letter for %s", cases[i].id);
        assert_string_equal(h_jstr(dl, "reason"), "DEAD_LETTER_INVALID_VALUE");
        const char *detail = h_jstr(dl, "detail");
        if (!detail || !strstr(detail, cases[i].field) || !strstr(detail, "UTF-8"))
            fail_msg("%s: detail '%s' does not name %s", cases[i].id, detail,
                     cases[i].field);
        assert_string_equal(h_jstr(dl, "original"), originals[i]);
        if (cases[i].work_order)
            assert_string_equal(h_jstr(dl, "work_order"), cases[i].work_order);
        else
            assert_null(h_jstr(dl, "work_order"));
        free(originals[i]);
    }
    /* The good events around them went through. */
    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 30000, &recs);
    assert_int_equal(recs.n, 1);
    assert_string_equal(h_jstr(recs.items[0], "work_order"), "WO-U8");
    assert_int_equal(h_pii_hits(h_worker_log_path(env, 0)), 0);
    assert_true(h_worker_alive(env, w));
    h_collected_free(&dls);
    h_collected_free(&recs);
}

/* A work order holding a newline forges no line, neither in the worker's log nor in
 * `confirmctl tail --pretty`: the value is shown escaped, on its own line. */
static void test_log_forgery(void **state)
{
    h_env *env = *state;
    static const char forged[] = "2026-01-01T00:00:00.000Z ERROR [main] forged";
    char cmd[1024], out[4096] = "";

    /* No event id: a dead letter, whose log line names the work order. */
    h_send_json(env,
                "{\"work_order\":\"WO-NL\\n%s\",\"event_time_ms\":%lld,\"accepted\":{}}",
                forged, (long long)H_WL_T0);
    pid_t w = h_worker_start(env, NULL);
    assert_true(w > 0);
    const char *log = h_worker_log_path(env, 0);
    assert_int_equal(
        h_wait_file_contains(log, "WO-NL\\n2026-01-01T00:00:00.000Z ERROR", 30000), 0);
    assert_int_equal(h_file_count(log, forged), 1);
    assert_int_equal(h_file_count(log, "dead letter"), 1);

    snprintf(
        cmd, sizeof(cmd),
        "%s/confirmctl tail -b %s -t confirmd.deadletter --from-beginning -n 1 --pretty",
        CFD_BIN_DIR, h_bootstrap(env));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    if (!strstr(out, "WO-NL\\n2026-01-01T00:00:00.000Z ERROR") ||
        strchr(out, '\n') != out + n - 1)
        fail_msg("confirmctl printed '%s'", out);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
}

/* worker.log_format = json: every line of the worker's log is one JSON object with the
 * keys ts, level, module and msg, and the forged work order stays inside its msg. */
static void test_log_json(void **state)
{
    h_env *env = *state;
    static const char *const json_log[] = {"worker.log_format=json", NULL};
    h_send_json(
        env,
        "{\"work_order\":\"WO-NL\\n\\\"x\\\"\",\"event_time_ms\":%lld,\"accepted\":{}}",
        (long long)H_WL_T0);
    pid_t w = h_worker_start(env, json_log);
    assert_true(w > 0);
    const char *log = h_worker_log_path(env, 0);
    assert_int_equal(h_wait_file_contains(log, "dead letter", 30000), 0);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);

    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[8192];
    int lines = 0, dead = 0;
    while (fgets(line, sizeof(line), f)) {
        json_object *o = json_tokener_parse(line);
        if (!o)
            fail_msg("not a JSON object: %s", line);
        assert_non_null(h_jstr(o, "ts"));
        assert_non_null(h_jstr(o, "level"));
        assert_non_null(h_jstr(o, "module"));
        const char *msg = h_jstr(o, "msg");
        assert_non_null(msg);
        if (strstr(msg, "dead letter")) {
            dead++;
            assert_non_null(strstr(msg, "WO-NL\\n\"x\""));
            assert_string_equal(h_jstr(o, "level"), "WARN");
        }
        json_object_put(o);
        lines++;
    }
    fclose(f);
    assert_true(lines > 3);
    assert_int_equal(dead, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_poison_storm, setup, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_log_forgery, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_log_json, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Rebalances and crashes move work between workers without losing or doubling it:
 * a stream of work orders is applied while workers join, one is killed with SIGKILL
 * mid-stream and another takes its partitions over. Every order must end with exactly
 * its expected record and alerts; an output seen twice must be the same bytes.
 * The workers run on the simulated clock pinned at T0, before every deadline: the
 * events alone decide the alerts, not when a partition happens to be caught up with
 * only part of a wave (on the system clock, a year later, a tick then finds the
 * restoration overdue and sends a breach that the restoration retracts).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/codec.h"
#include "harness_events.h"
#include "harness_orders.h"

#define N_ORDERS 160
#define N_STEPS 9
#define N_WAVES 4

/* Event k of order i; orders with i % 4 == 0 arrive 3 h after acceptance (AA: 2 h). */
static uint8_t *order_event(int i, int k, size_t *len)
{
    char wo[32];
    int64_t t = H_T0 + (int64_t)i * H_MIN;
    int late = i % 4 == 0 ? 180 : 60;
    snprintf(wo, sizeof(wo), "WO-R-%03d", i);
    switch (k) {
    case 0:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-0\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"fault_report\":{\"customer\":{\"tier\":\"TIER_AA\",\"name\":\"某某公司\","
            "\"contact_phone\":\"13811112222\"},\"network\":{\"circuit_id\":\"C-%d\"}}}",
            wo, wo, (long long)t, i);
    case 1:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-1\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"accepted\":{}}",
            wo, wo, (long long)(t + H_MIN));
    case 2:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-2\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"dispatched\":{\"contractor\":\"Acme\"}}",
            wo, wo, (long long)(t + 2 * H_MIN));
    case 3:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-3\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"customer_contacted\":{}}",
            wo, wo, (long long)(t + 5 * H_MIN));
    case 4:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-4\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"arrived_on_site\":{}}",
            wo, wo, (long long)(t + (1 + late) * H_MIN));
    case 5:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-5\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"diagnosed\":{\"cause\":\"CAUSE_OPERATOR_EQUIPMENT\"}}",
            wo, wo, (long long)(t + (5 + late) * H_MIN));
    case 6:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-6\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"service_restored\":{\"result\":\"RESULT_RESTORED\"}}",
            wo, wo, (long long)(t + (20 + late) * H_MIN));
    case 7:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-7\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"confirmation_signed\":{\"satisfaction\":4}}",
            wo, wo, (long long)(t + (25 + late) * H_MIN));
    default:
        return h_event_pb(
            len,
            "{\"event_id\":\"%s-8\",\"work_order\":\"%s\",\"event_time_ms\":%lld,"
            "\"closed\":{}}",
            wo, wo, (long long)(t + (26 + late) * H_MIN));
    }
}

/* Produces wave w: its orders' events, interleaved step by step across the orders. */
static void send_wave(h_env *env, int w)
{
    int per = N_ORDERS / N_WAVES;
    h_out_msg *msgs = calloc((size_t)per * N_STEPS, sizeof(*msgs));
    uint8_t **bufs = calloc((size_t)per * N_STEPS, sizeof(*bufs));
    char(*keys)[32] = calloc((size_t)per, sizeof(*keys));
    size_t n = 0;
    for (int i = 0; i < per; i++)
        snprintf(keys[i], sizeof(keys[i]), "WO-R-%03d", w * per + i);
    for (int k = 0; k < N_STEPS; k++) {
        for (int i = 0; i < per; i++) {
            size_t len;
            bufs[n] = order_event(w * per + i, k, &len);
            msgs[n] = (h_out_msg){.key = keys[i], .value = bufs[n], .len = len};
            n++;
        }
    }
    assert_int_equal(h_produce_batch(env, "confirmd.events", msgs, n), 0);
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(msgs);
    free(keys);
}

/* Every output id seen, with a digest of its bytes. */
typedef struct seen {
    char *id[4096];
    uint64_t digest[4096];
    int n, copies, conflicts;
} seen;

static uint64_t fnv(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ULL;
    return h;
}

static int seen_cb(const h_msg *m, void *opaque)
{
    seen *s = opaque;
    uint64_t d = fnv(m->value, m->value_len);
    assert_non_null(m->id);
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->id[i], m->id) == 0) {
            s->copies++;
            if (s->digest[i] != d)
                s->conflicts++;
            return 0;
        }
    }
    assert_true(s->n < 4096);
    s->id[s->n] = strdup(m->id);
    s->digest[s->n++] = d;
    return 0;
}

static bool seen_has(const seen *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->id[i], id) == 0)
            return true;
    return false;
}

/* Prints each id seen that is not fmt of 0, step, 2 * step... below n: on a failure,
 * the log tells which output was not expected. */
static void print_unexpected(const seen *s, const char *fmt, int n, int step)
{
    char id[128];
    for (int i = 0; i < s->n; i++) {
        bool expected = false;
        for (int k = 0; k < n && !expected; k += step) {
            snprintf(id, sizeof(id), fmt, k);
            expected = strcmp(id, s->id[i]) == 0;
        }
        if (!expected)
            printf("unexpected output: %s\n", s->id[i]);
    }
}

static void seen_free(seen *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->id[i]);
}

/* Reads a topic until `distinct` different ids were seen (or the timeout). */
static void read_ids(h_env *env, const char *topic, int distinct, int timeout_ms, seen *s)
{
    h_consumer *c = h_consume_open(env, topic);
    int64_t until = h_now_ms() + timeout_ms;
    assert_non_null(c);
    while (s->n < distinct && h_now_ms() < until)
        h_consume_until(c, distinct - s->n, 1000, seen_cb, s);
    /* Drain what else is there, to count copies. */
    h_consume_until(c, 1 << 20, 1500, seen_cb, s);
    h_consume_close(c);
}

static void test_rebalance_and_kill(void **state)
{
    h_env *env = *state;
    seen recs = {0}, alerts = {0};
    char id[128];

    assert_int_equal(h_set_sim_clock(env, H_T0), 0);
    pid_t a = h_worker_start(env, h_simulated_clock);
    assert_true(a > 0);
    send_wave(env, 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 0), "record WO", 30000),
                     0);
    pid_t b = h_worker_start(
        env, h_simulated_clock); /* joins: a rebalance splits the partitions */
    assert_true(b > 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 1), "claimed", 30000), 0);
    /* Both own partitions now; A dies while it works on wave 1, without a goodbye. */
    send_wave(env, 1);
    assert_int_equal(h_worker_kill(env, a, SIGKILL), 0);
    send_wave(env, 2);
    pid_t c = h_worker_start(env, h_simulated_clock);
    assert_true(c > 0);
    send_wave(env, 3);

    read_ids(env, "confirmd.records", N_ORDERS, 120000, &recs);
    read_ids(env, "confirmd.alerts", N_ORDERS / 4, 20000, &alerts);
    printf("records: %d distinct, %d extra copies; alerts: %d distinct, %d extra copies\n",
           recs.n, recs.copies, alerts.n, alerts.copies);

    /* Exactly one completed record per order, each the version of all 9 events. */
    print_unexpected(&recs, "rec/WO-R-%03d/v9", N_ORDERS, 1);
    print_unexpected(&alerts, "alert/WO-R-%03d/METRIC_ON_SITE/100/ALERT_KIND_BREACH",
                     N_ORDERS, 4);
    assert_int_equal(recs.n, N_ORDERS);
    for (int i = 0; i < N_ORDERS; i++) {
        snprintf(id, sizeof(id), "rec/WO-R-%03d/v9", i);
        assert_true(seen_has(&recs, id));
    }
    /* Exactly the expected on-site breaches. */
    assert_int_equal(alerts.n, N_ORDERS / 4);
    for (int i = 0; i < N_ORDERS; i += 4) {
        snprintf(id, sizeof(id), "alert/WO-R-%03d/METRIC_ON_SITE/100/ALERT_KIND_BREACH", i);
        assert_true(seen_has(&alerts, id));
    }
    /* Redelivery is allowed only as the same bytes under the same id. */
    assert_int_equal(recs.conflicts, 0);
    assert_int_equal(alerts.conflicts, 0);

    /* And the state in Redis: every order at version 9, nothing parked. */
    redisContext *rc = h_redis_connect(env);
    redisReply *r = redisCommand(rc, "KEYS cfd:*:wo:WO-R-*");
    assert_int_equal((int)r->elements, N_ORDERS);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *g = redisCommand(rc, "GET %s", r->element[i]->str);
        cfd_record *rec = NULL;
        char errstr[256];
        assert_int_equal(
            cfd_codec_state_decode(g->str, g->len, &rec, errstr, sizeof(errstr)), CFD_OK);
        assert_int_equal(rec->version, 9);
        assert_int_equal(rec->state, CFD_STATE_CLOSED);
        cfd_record_destroy(rec);
        freeReplyObject(g);
    }
    freeReplyObject(r);
    r = redisCommand(rc, "KEYS cfd:*:park:*");
    assert_int_equal((int)r->elements, 0);
    freeReplyObject(r);
    redisFree(rc);
    seen_free(&recs);
    seen_free(&alerts);
}

#define EVENT_PARTS 8 /* confirmd.events, on either broker */

/* Waits until the group has committed every offset of confirmd.events. */
static void wait_all_committed(h_env *env, int timeout_ms)
{
    int64_t ends[EVENT_PARTS], done[EVENT_PARTS];
    int64_t until = h_now_ms() + timeout_ms;
    assert_int_equal(h_topic_ends(env, "confirmd.events", ends, EVENT_PARTS, 10000), 0);
    for (;;) {
        int behind = 0;
        assert_int_equal(h_group_committed(env, "confirmd.events", done, EVENT_PARTS), 0);
        for (int p = 0; p < EVENT_PARTS; p++)
            behind += ends[p] > 0 && done[p] != ends[p];
        if (behind == 0)
            return;
        if (h_now_ms() >= until)
            fail_msg("%d partitions of confirmd.events not committed to their end", behind);
        usleep(200 * 1000);
    }
}

/* The group's last member leaves (SIGTERM) and the group stays empty while events
 * arrive; a new member then resumes exactly where the last one stopped: everything
 * the first applied was committed when it left, nothing is applied or sent twice. */
static void test_group_emptied_then_rejoined(void **state)
{
    h_env *env = *state;
    seen recs = {0};
    char id[128];

    assert_int_equal(h_set_sim_clock(env, H_T0), 0);
    pid_t a = h_worker_start(env, h_simulated_clock);
    assert_true(a > 0);
    send_wave(env, 0);
    wait_all_committed(env, 60000);
    assert_int_equal(h_worker_kill(env, a, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, a, 20000), 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 0), "released", 1000), 0);

    send_wave(env, 1); /* nobody in the group */
    pid_t b = h_worker_start(env, h_simulated_clock);
    assert_true(b > 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 1), "claimed", 30000), 0);
    wait_all_committed(env, 60000);

    read_ids(env, "confirmd.records", N_ORDERS / 2, 30000, &recs);
    assert_int_equal(recs.n, N_ORDERS / 2);
    for (int i = 0; i < N_ORDERS / 2; i++) {
        snprintf(id, sizeof(id), "rec/WO-R-%03d/v9", i);
        assert_true(seen_has(&recs, id));
    }
    /* A clean hand-over replays nothing: each record exactly once. */
    assert_int_equal(recs.copies, 0);
    /* The newcomer found wave 0 done: it applied only wave 1's orders. */
    for (int i = 0; i < N_ORDERS / 2; i++) {
        snprintf(id, sizeof(id), "record WO-R-%03d ", i);
        assert_int_equal(h_file_count(h_worker_log_path(env, 1), id),
                         i < N_ORDERS / 4 ? 0 : 1);
    }
    seen_free(&recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rebalance_and_kill, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_group_emptied_then_rejoined,
                                        h_setup_redis_broker, h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

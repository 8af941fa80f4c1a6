/*
 * The whole pipe on real parts: events produced to the embedded broker, applied by
 * confirmd workers against a real redis-server, records, alerts and dead letters
 * read back from their topics.
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
#include <json-c/json.h>

#include "confirmd/clock.h"
#include "confirmd/codec.h"
#include "harness_events.h"
#include "harness_orders.h"

#define T0 H_T0
#define MIN H_MIN

/* --- tests ------------------------------------------------------------------------------ */

/* An AAA gold order done in time and an AA order whose engineer arrives late: two
 * completed records, one on-site breach alert, nothing else. */
static void test_records_and_breach(void **state)
{
    h_env *env = *state;
    h_collected recs, alerts;

    h_send_full_order(env, "WO-A", "TIER_AAA", 1, T0, 50);
    h_send_full_order(env, "WO-B", "TIER_AA", 0, T0, 160);
    assert_true(h_worker_start(env, NULL) > 0);

    h_collect(env, "confirmd.records", "ConfirmationRecord", 2, 30000, &recs);
    assert_int_equal(recs.n, 2);
    json_object *a = h_find_by(&recs, "work_order", "WO-A");
    json_object *b = h_find_by(&recs, "work_order", "WO-B");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(h_jstr(a, "state"), "STATE_CLOSED");
    assert_string_equal(h_jstr(a, "cause"), "CAUSE_TRANSMISSION_LINE");
    assert_string_equal(h_jstr(a, "result"), "RESULT_RESTORED");
    assert_string_equal(h_jstr(a, "customer.tier"), "TIER_AAA");
    assert_string_equal(h_jstr(a, "customer_opinion"), "satisfied");
    assert_string_equal(h_jstr(a, "version"), "9");
    assert_int_equal(json_object_array_length(json_object_object_get(a, "timeline")), 9);
    assert_string_equal(h_jstr(h_sla_of(a, "METRIC_CONTACT"), "status"),
                        "METRIC_STATUS_MET");
    assert_string_equal(h_jstr(h_sla_of(a, "METRIC_ON_SITE"), "status"),
                        "METRIC_STATUS_MET");
    assert_string_equal(h_jstr(h_sla_of(a, "METRIC_RESTORATION"), "status"),
                        "METRIC_STATUS_MET");
    /* AA: on site within 2 h of acceptance; the engineer came after 2 h 40 min. */
    assert_string_equal(h_jstr(h_sla_of(b, "METRIC_ON_SITE"), "status"),
                        "METRIC_STATUS_BREACHED");
    char deadline[32];
    snprintf(deadline, sizeof(deadline), "%lld", (long long)(T0 + 1 * MIN + 120 * MIN));
    assert_string_equal(h_jstr(h_sla_of(b, "METRIC_ON_SITE"), "deadline_ms"), deadline);
    assert_string_equal(h_jstr(h_sla_of(b, "METRIC_CONTACT"), "status"),
                        "METRIC_STATUS_MET");

    /* One breach (WO-B on site) and the gold notification of WO-A's acceptance. */
    h_collect(env, "confirmd.alerts", "SlaAlert", 10, 4000, &alerts);
    assert_int_equal(alerts.n, 2);
    assert_int_equal(h_count_by(&alerts, "kind", "ALERT_KIND_BREACH"), 1);
    json_object *br = h_find_by(&alerts, "kind", "ALERT_KIND_BREACH");
    assert_string_equal(h_jstr(br, "work_order"), "WO-B");
    assert_string_equal(h_jstr(br, "metric"), "METRIC_ON_SITE");
    json_object *gold = h_find_by(&alerts, "kind", "ALERT_KIND_GOLD_NOTIFICATION");
    assert_non_null(gold);
    assert_string_equal(h_jstr(gold, "work_order"), "WO-A");
    assert_string_equal(h_jstr(gold, "recipients"), "RECIPIENT_DEPARTMENT_LEADER");
    /* Alerts never carry customer names, phones or addresses. */
    for (int i = 0; i < alerts.n; i++) {
        const char *text = json_object_to_json_string(alerts.items[i]);
        assert_null(strstr(text, "13800000000"));
        assert_null(strstr(text, "王经理"));
    }

    /* And neither does the worker's log. */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "grep -c -e 13800000000 -e 王经理 -e 双桂街道 %s",
             h_worker_log_path(env, 0));
    FILE *p = popen(cmd, "r");
    int hits = -1;
    assert_int_equal(fscanf(p, "%d", &hits), 1);
    pclose(p);
    assert_int_equal(hits, 0);
    h_collected_free(&recs);
    h_collected_free(&alerts);
}

/* Garbage, a missing field and an impossible transition each become a dead letter
 * with its reason, and the partition keeps moving. */
static void test_bad_input(void **state)
{
    h_env *env = *state;
    h_collected dls, recs;

    assert_int_equal(h_produce(env, "confirmd.events", "WO-C", "\xff\x01garbage", 9), 0);
    h_send_json(env, "{\"work_order\":\"WO-C\",\"event_time_ms\":%lld,\"accepted\":{}}",
                (long long)T0); /* no event_id */
    /* A report that names no circuit opens nothing: the field is named. */
    h_send_json(env,
                "{\"event_id\":\"WO-C0-rep\",\"work_order\":\"WO-C0\","
                "\"event_time_ms\":%lld,\"fault_report\":{\"customer\":"
                "{\"tier\":\"TIER_A\"},\"problem_description\":\"down\"}}",
                (long long)T0);
    h_send_full_order(env, "WO-C", "TIER_A", 0, T0, 30);
    /* Arrival after close: CLOSED -> ARRIVED is not a transition the lifecycle has;
     * neither is a reopen: after close a returning fault is a new work order. */
    h_send_ms(env, "WO-C", "WO-C-late-arrival", T0 + 500 * MIN, "arrived_on_site", "{}");
    h_send_ms(env, "WO-C", "WO-C-reopen", T0 + 600 * MIN, "reopened",
              "{\"reason\":\"fault returned\"}");
    assert_true(h_worker_start(env, NULL) > 0);

    h_collect(env, "confirmd.deadletter", "DeadLetter", 5, 30000, &dls);
    assert_int_equal(dls.n, 5);
    assert_int_equal(h_count_by(&dls, "reason", "DEAD_LETTER_UNDECODABLE"), 1);
    assert_int_equal(h_count_by(&dls, "reason", "DEAD_LETTER_MISSING_FIELD"), 2);
    int named = 0;
    for (int i = 0; i < dls.n; i++) {
        const char *detail = h_jstr(dls.items[i], "detail");
        named += detail && strstr(detail, "missing field fault_report.network.circuit_id");
    }
    assert_int_equal(named, 1);
    assert_int_equal(h_count_by(&dls, "reason", "DEAD_LETTER_INVALID_TRANSITION"), 2);
    json_object *tr = h_find_by(&dls, "event_id", "WO-C-late-arrival");
    assert_non_null(tr);
    assert_string_equal(h_jstr(tr, "reason"), "DEAD_LETTER_INVALID_TRANSITION");
    assert_non_null(
        strstr(h_jstr(tr, "detail"), "STATE_CLOSED -> MILESTONE_ARRIVED_ON_SITE"));
    assert_string_equal(h_jstr(tr, "topic"), "confirmd.events");
    assert_non_null(h_jstr(tr, "original"));
    json_object *reo = h_find_by(&dls, "event_id", "WO-C-reopen");
    assert_non_null(reo);
    assert_string_equal(h_jstr(reo, "reason"), "DEAD_LETTER_INVALID_TRANSITION");
    assert_non_null(strstr(h_jstr(reo, "detail"), "STATE_CLOSED -> MILESTONE_REOPENED"));

    /* The order itself completed and stays closed. */
    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 10000, &recs);
    assert_int_equal(recs.n, 1);
    assert_string_equal(h_jstr(recs.items[0], "state"), "STATE_CLOSED");
    assert_string_equal(h_jstr(recs.items[0], "work_order"), "WO-C");
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *r = redisCommand(rc, "KEYS cfd:*:wo:WO-C");
    assert_int_equal((int)r->elements, 1);
    redisReply *g = redisCommand(rc, "GET %s", r->element[0]->str);
    cfd_record *rec = NULL;
    char errstr[256];
    assert_int_equal(cfd_codec_state_decode(g->str, g->len, &rec, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(rec->state, CFD_STATE_CLOSED);
    assert_int_equal(rec->version, 9);
    cfd_record_destroy(rec);
    freeReplyObject(g);
    freeReplyObject(r);
    redisFree(rc);
    h_collected_free(&dls);
    h_collected_free(&recs);
}

/* @returns how many outputs still wait in the outboxes once they are all delivered
 * or timeout_ms passed. */
static long long outbox_left(h_env *env, int timeout_ms)
{
    redisContext *rc = h_redis_connect(env);
    int64_t until = h_now_ms() + timeout_ms;
    long long left = -1;
    assert_non_null(rc);
    for (;;) {
        redisReply *r =
            redisCommand(rc, "EVAL %s 0",
                         "local n = 0 for _, k in "
                         "ipairs(redis.call('KEYS', 'cfd:*:outbox')) do n = n + "
                         "redis.call('HLEN', k) end return n");
        left = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        freeReplyObject(r);
        if (left == 0 || h_now_ms() >= until)
            break;
        usleep(100 * 1000);
    }
    redisFree(rc);
    return left;
}

/* An output the broker keeps refusing (more times than the producer retries at once)
 * is produced again a while later by the same worker, not left in the outbox until a
 * rebalance; then it leaves the outbox. */
static void test_output_refused_then_delivered(void **state)
{
    h_env *env = *state;
    h_collected dls;
    char reply[256];
    if (h_broker_is_kafka())
        skip(); /* injected Produce errors are the embedded broker's */
    assert_int_equal(h_produce(env, "confirmd.events", "WO-R", "\xff\x02refused", 9), 0);
    /* Produce (API key 0) fails 8 times with an error the producer does not retry
     * (TOPIC_AUTHORIZATION_FAILED: an ACL an operator may fix): 5 tries at once, then
     * later ones. */
    assert_int_equal(h_broker_ctl(env, "request-errors 0 29 8", reply, sizeof(reply)), 0);
    assert_true(h_worker_start(env, NULL) > 0);
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 40000, &dls);
    assert_int_equal(dls.n, 1);
    assert_string_equal(h_jstr(dls.items[0], "reason"), "DEAD_LETTER_UNDECODABLE");
    h_collected_free(&dls);
    assert_int_equal(
        h_wait_file_contains(h_worker_log_path(env, 0), "trying again later", 5000), 0);
    /* Delivered by the worker that consumed it: no second claim of any partition. */
    assert_int_equal(h_file_count(h_worker_log_path(env, 0), "claimed (epoch"), 8);
    assert_int_equal(outbox_left(env, 10000), 0);
}

/* Waits up to 20 s until order wo's park list in Redis holds n events.
 * @returns how many it holds at the end. */
static long long wait_parked(redisContext *rc, const char *wo, long long n)
{
    int64_t until = h_now_ms() + 20000;
    long long parked = 0;
    while (h_now_ms() < until && parked < n) {
        redisReply *r = redisCommand(rc, "EVAL %s 0 %s",
                                     "local k=redis.call('KEYS','cfd:*:park:' .. ARGV[1]) "
                                     "if #k==0 then return 0 end "
                                     "return redis.call('LLEN',k[1])",
                                     wo);
        parked = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
        if (parked < n)
            usleep(100000);
    }
    return parked;
}

/* Milestones that arrive before the report are parked, then applied when the order
 * opens; a replayed event (same id) changes nothing. */
static void test_parking_and_duplicates(void **state)
{
    h_env *env = *state;
    h_collected recs;
    assert_true(h_worker_start(env, NULL) > 0);

    h_send_ms(env, "WO-D", "WO-D-acc", T0 + MIN, "accepted", "{}");
    h_send_ms(env, "WO-D", "WO-D-con", T0 + 5 * MIN, "customer_contacted", "{}");
    /* Wait until the worker parked them durably, in a batch of its own. */
    redisContext *rc = h_redis_connect(env);
    assert_int_equal(wait_parked(rc, "WO-D", 2), 2);

    h_send_report(env, "WO-D", "WO-D-rep", T0, "TIER_AAA", 0);
    h_send_ms(env, "WO-D", "WO-D-con", T0 + 5 * MIN, "customer_contacted",
              "{}"); /* replay */
    h_send_ms(env, "WO-D", "WO-D-res", T0 + 60 * MIN, "service_restored",
              "{\"result\":\"RESULT_RESTORED\",\"remote\":true}");
    h_send_ms(env, "WO-D", "WO-D-clo", T0 + 70 * MIN, "closed", "{}");

    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 20000, &recs);
    assert_int_equal(recs.n, 1);
    json_object *d = recs.items[0];
    assert_string_equal(h_jstr(d, "version"), "5"); /* the replay is not counted */
    assert_string_equal(h_jstr(d, "state"), "STATE_CLOSED");
    char acc[32];
    snprintf(acc, sizeof(acc), "%lld", (long long)(T0 + MIN));
    assert_string_equal(h_jstr(d, "accepted_at_ms"), acc);
    assert_string_equal(h_jstr(h_sla_of(d, "METRIC_CONTACT"), "status"),
                        "METRIC_STATUS_MET");

    redisReply *r = redisCommand(rc, "KEYS cfd:*:park*");
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *z = redisCommand(rc, "TYPE %s", r->element[i]->str);
        /* Only the (empty) index may remain; the order's list is gone. */
        assert_string_not_equal(z->str, "list");
        freeReplyObject(z);
    }
    freeReplyObject(r);
    redisFree(rc);
    h_collected_free(&recs);
}

/* A park-list entry that does not parse (written by hand, or damaged) is not dropped:
 * it becomes a dead letter holding the whole entry, and the order moves on. */
static void test_unreadable_parked_frame(void **state)
{
    h_env *env = *state;
    h_collected dls;
    assert_true(h_worker_start(env, NULL) > 0);
    h_send_ms(env, "WO-U", "WO-U-acc", T0 + MIN, "accepted", "{}");
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    assert_int_equal(wait_parked(rc, "WO-U", 1), 1);
    redisReply *r = redisCommand(rc, "EVAL %s 0 %b",
                                 "local k=redis.call('KEYS','cfd:*:park:WO-U') "
                                 "return redis.call('RPUSH',k[1],ARGV[1])",
                                 "\x01\x02torn", (size_t)6);
    assert_non_null(r);
    assert_int_equal(r->integer, 2);
    freeReplyObject(r);
    redisFree(rc);

    h_send_report(env, "WO-U", "WO-U-rep", T0, "TIER_AAA", 0);
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 20000, &dls);
    assert_int_equal(dls.n, 1);
    json_object *d = dls.items[0];
    assert_string_equal(h_jstr(d, "reason"), "DEAD_LETTER_UNDECODABLE");
    assert_string_equal(h_jstr(d, "work_order"), "WO-U");
    assert_string_equal(h_jstr(d, "original"), "AQJ0b3Ju"); /* base64 of the entry */
    assert_non_null(strstr(h_jstr(d, "detail"), "park list"));
    h_collected_free(&dls);
    /* The log names the entry (no customer data), once. */
    assert_int_equal(
        h_wait_file_contains(h_worker_log_path(env, 0), "unreadable entry 1", 5000), 0);
    assert_int_equal(h_file_count(h_worker_log_path(env, 0), "unreadable entry"), 1);
}

/* A 1.5 MB message is dead-lettered with its first worker.deadletter_max_original
 * bytes, its length and its SHA-256: the dead letter fits the topic, the partition
 * moves on. */
static void test_oversized_input(void **state)
{
    h_env *env = *state;
    h_collected dls;
    size_t big = 1500000;
    uint8_t *buf = malloc(big);
    assert_non_null(buf);
    for (size_t i = 0; i < big; i++)
        buf[i] = (uint8_t)(0xff - i % 7); /* no Event */
    /* On Apache Kafka the input topic takes it (an operator raised its limit) while
     * the dead-letter topic keeps the 1 MB default: the dead letter must be smaller. */
    assert_int_equal(h_producer_set(env, "message.max.bytes", "2000000"), 0);
    assert_int_equal(h_topic_config(env, "confirmd.events", "max.message.bytes", "2000000"),
                     0);
    /* The broker applies a topic's new limit shortly after it acknowledged it: until
     * then it refuses the message (Message size too large). */
    int64_t until = h_now_ms() + 15000;
    while (h_produce(env, "confirmd.events", "WO-BIG", buf, big) != 0) {
        if (h_now_ms() > until)
            fail_msg("the broker kept refusing a 1.5 MB message on confirmd.events");
        usleep(500 * 1000);
    }
    free(buf);
    h_send_full_order(env, "WO-BIG", "TIER_A", 0, T0, 30); /* same partition, after it */
    assert_true(h_worker_start(env, NULL) > 0);
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 30000, &dls);
    assert_int_equal(dls.n, 1);
    json_object *d = dls.items[0];
    assert_string_equal(h_jstr(d, "reason"), "DEAD_LETTER_UNDECODABLE");
    assert_string_equal(h_jstr(d, "original_length"), "1500000");
    assert_int_equal(strlen(h_jstr(d, "original")), 4 * (65536 + 2) / 3); /* base64 */
    assert_non_null(h_jstr(d, "original_sha256"));
    h_collected_free(&dls);
    h_collected recs;
    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 20000, &recs);
    assert_int_equal(recs.n, 1);
    h_collected_free(&recs);
    assert_int_equal(outbox_left(env, 10000), 0);
}

/* An output larger than the producer may send (here a record over a 1000-byte
 * message.max.bytes) is refused for good: a dead letter of reason OUTPUT_REFUSED takes
 * its place under its id, and it leaves the outbox instead of being retried for ever. */
static void test_output_refused_for_good(void **state)
{
    h_env *env = *state;
    const char *args[] = {"kafka.producer.message.max.bytes=1000",
                          "worker.deadletter_max_original=400", NULL};
    h_collected dls;
    char text[1501];
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    /* A report with a long description; the full order's own report then repeats its
     * event id and is dropped as a duplicate. */
    h_send_json(
        env,
        "{\"event_id\":\"WO-HUGE-rep\",\"work_order\":\"WO-HUGE\",\"event_time_ms\":%lld,"
        "\"fault_report\":{\"customer\":{\"tier\":\"TIER_A\",\"city\":\"Chongqing\"},"
        "\"network\":{\"circuit_id\":\"CQ-WO-HUGE\"},\"problem_description\":\"%s\"}}",
        (long long)T0, text);
    h_send_full_order(env, "WO-HUGE", "TIER_A", 0, T0, 30);
    assert_true(h_worker_start(env, args) > 0);
    json_object *d = NULL;
    int64_t until = h_now_ms() + 30000;
    while (!d && h_now_ms() < until) {
        h_collect(env, "confirmd.deadletter", "DeadLetter", 64, 2000, &dls);
        for (int i = 0; !d && i < dls.n; i++)
            if (strcmp(h_jstr(dls.items[i], "topic"), "confirmd.records") == 0)
                d = json_object_get(dls.items[i]);
        h_collected_free(&dls);
    }
    assert_non_null(d);
    assert_string_equal(h_jstr(d, "reason"), "DEAD_LETTER_OUTPUT_REFUSED");
    assert_string_equal(h_jstr(d, "offset"), "-1");
    assert_non_null(strstr(h_jstr(d, "detail"), "rec/WO-HUGE/v"));
    assert_true(atoll(h_jstr(d, "original_length")) > 1000);
    assert_int_equal(strlen(h_jstr(d, "original")), 4 * (400 + 2) / 3);
    json_object_put(d);
    assert_int_equal(outbox_left(env, 10000), 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 0),
                                          "a dead letter takes its place", 1000),
                     0);
}

/* A worker stopped while the broker refuses its outputs says so: the log names how
 * many wait in the outbox, and the exit status is 5, not 0. Refused outputs are given
 * up at once on a stop: worker.drain_timeout (here 1 s) bounds the wait for outputs
 * still in flight, so the stop takes well under the default 10 s either way. */
static void test_stop_with_undelivered(void **state)
{
    h_env *env = *state;
    char reply[256];
    static const char *const args[] = {"worker.drain_timeout=1s", NULL};
    if (h_broker_is_kafka())
        skip(); /* injected Produce errors are the embedded broker's */
    assert_int_equal(h_produce(env, "confirmd.events", "WO-S", "\xff\x03stuck", 8), 0);
    assert_int_equal(h_broker_ctl(env, "request-errors 0 29 100000", reply, sizeof(reply)),
                     0);
    pid_t w = h_worker_start(env, args);
    assert_true(w > 0);
    assert_int_equal(
        h_wait_file_contains(h_worker_log_path(env, 0), "trying again later", 30000), 0);
    int64_t stop_at = cfd_monotonic_ms();
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 30000), 5);
    int64_t took = cfd_monotonic_ms() - stop_at;
    if (took > 8000)
        fail_msg("stopped %lld ms after SIGTERM, worker.drain_timeout is 1 s",
                 (long long)took);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 0),
                                          "outputs not delivered: they wait in the outbox",
                                          1000),
                     0);
    assert_true(outbox_left(env, 0) > 0);
}

/* A milestone for an order that never opens goes to the dead-letter topic once the
 * park window has passed. */
static void test_park_window_expiry(void **state)
{
    h_env *env = *state;
    const char *args[] = {"worker.park_window=2s", NULL};
    h_collected dls;
    assert_true(h_worker_start(env, args) > 0);
    h_send_ms(env, "WO-NEVER", "WO-NEVER-arr", T0, "arrived_on_site", "{}");
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 30000, &dls);
    assert_int_equal(dls.n, 1);
    assert_string_equal(h_jstr(dls.items[0], "reason"), "DEAD_LETTER_UNKNOWN_WORK_ORDER");
    assert_string_equal(h_jstr(dls.items[0], "work_order"), "WO-NEVER");
    assert_non_null(h_jstr(dls.items[0], "original"));
    h_collected_free(&dls);
}

/* The engineer's acceptance names no contractor: the dispatch's contractor stays on
 * the completed record, so its penalty points can be summed per contractor. */
static void test_contractor_kept(void **state)
{
    h_env *env = *state;
    h_collected recs;

    h_send_full_order(env, "WO-K", "TIER_AA", 0, T0, 30);
    h_send_ms(env, "WO-K", "WO-K-eng", T0 + 3 * MIN, "engineer_accepted",
              "{\"engineer_id\":\"E42\"}");
    assert_true(h_worker_start(env, NULL) > 0);
    /* Completed at v9 (unless one batch took all ten events), then at v10 with the
     * acceptance that was produced after the close. */
    h_collect(env, "confirmd.records", "ConfirmationRecord", 2, 15000, &recs);
    assert_true(recs.n >= 1);
    assert_non_null(h_find_by(&recs, "version", "10"));
    for (int i = 0; i < recs.n; i++) {
        assert_non_null(h_jstr(recs.items[i], "contractor"));
        assert_string_equal(h_jstr(recs.items[i], "contractor"), "Acme Maintenance");
    }
    h_collected_free(&recs);
}

/* The seed's absent customer: the engineer at the door at the agreed time, nobody
 * home, gone after 5 min. The absence is applied after the arrival, not parked; the
 * short wait costs the contractor 5 points; the second appointment has priority and
 * the order completes with every event applied. */
static void send_customer_appointment(h_env *env, const char *eid, int64_t t, int64_t at)
{
    char body[128];
    snprintf(body, sizeof(body),
             "{\"appointment_time_ms\":%lld,"
             "\"requested_by_customer\":true}",
             (long long)at);
    h_send_ms(env, "WO-AB", eid, t, "appointment_set", body);
}

static void test_customer_absent_after_arrival(void **state)
{
    h_env *env = *state;
    h_collected recs;

    h_send_report(env, "WO-AB", "WO-AB-rep", T0, "TIER_AA", 0);
    h_send_ms(env, "WO-AB", "WO-AB-acc", T0 + 1 * MIN, "accepted", "{}");
    h_send_ms(env, "WO-AB", "WO-AB-dis", T0 + 2 * MIN, "dispatched",
              "{\"contractor\":\"Acme Maintenance\"}");
    h_send_ms(env, "WO-AB", "WO-AB-con", T0 + 6 * MIN, "customer_contacted", "{}");
    send_customer_appointment(env, "WO-AB-apt1", T0 + 10 * MIN, T0 + 60 * MIN);
    h_send_ms(env, "WO-AB", "WO-AB-arr1", T0 + 58 * MIN, "arrived_on_site",
              "{\"engineers\":[\"E42\"]}");
    h_send_ms(env, "WO-AB", "WO-AB-abs", T0 + 63 * MIN, "customer_absent", "{}");
    send_customer_appointment(env, "WO-AB-apt2", T0 + 70 * MIN, T0 + 100 * MIN);
    h_send_ms(env, "WO-AB", "WO-AB-arr2", T0 + 98 * MIN, "arrived_on_site",
              "{\"engineers\":[\"E42\"]}");
    h_send_ms(env, "WO-AB", "WO-AB-dia", T0 + 105 * MIN, "diagnosed",
              "{\"cause\":\"CAUSE_TRANSMISSION_LINE\",\"onsite_findings\":\"fiber cut\"}");
    h_send_ms(env, "WO-AB", "WO-AB-res", T0 + 120 * MIN, "service_restored",
              "{\"result\":\"RESULT_RESTORED\"}");
    h_send_ms(env, "WO-AB", "WO-AB-sig", T0 + 125 * MIN, "confirmation_signed",
              "{\"customer_signature\":\"王\",\"engineer_signature\":\"E42\"}");
    h_send_ms(env, "WO-AB", "WO-AB-clo", T0 + 130 * MIN, "closed", "{}");
    assert_true(h_worker_start(env, NULL) > 0);

    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 30000, &recs);
    assert_int_equal(recs.n, 1);
    json_object *r = recs.items[0];
    assert_string_equal(h_jstr(r, "state"), "STATE_CLOSED");
    assert_string_equal(h_jstr(r, "version"), "13"); /* nothing left parked */
    assert_string_equal(h_jstr(r, "customer_absences"), "1");
    assert_string_equal(h_jstr(r, "priority_appointment"), "true");
    json_object *vs = json_object_object_get(r, "violations");
    int short_waits = 0;
    for (size_t i = 0; vs && i < json_object_array_length(vs); i++) {
        json_object *v = json_object_array_get_idx(vs, i);
        if (strcmp(h_jstr(v, "code"), "VIOLATION_BROKEN_COMMITMENT") == 0) {
            assert_string_equal(h_jstr(v, "detail"),
                                "waited 5 min for the absent customer");
            assert_string_equal(h_jstr(v, "points"), "5");
            short_waits++;
        }
    }
    assert_int_equal(short_waits, 1);
    h_collected_free(&recs);

    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *k = redisCommand(rc, "KEYS cfd:*:park:WO-AB");
    assert_int_equal((int)k->elements, 0);
    freeReplyObject(k);
    redisFree(rc);
}

/* "Only after" the window: an event parked at T is kept at T + 24 h exactly and
 * dead-lettered once the clock passes it. */
static void test_park_window_edge(void **state)
{
    h_env *env = *state;
    const int64_t now = T0 + 7 * 24 * 60 * MIN, window = 24 * 60 * MIN;
    h_collected dls;
    assert_int_equal(h_set_sim_clock(env, now), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_send_ms(env, "WO-EDGE", "WO-EDGE-acc", T0, "accepted", "{}");
    assert_true(h_wait_zset(env, "parkidx", "WO-EDGE") == now + window);

    h_consumer *dl = h_consume_open(env, "confirmd.deadletter");
    assert_non_null(dl);
    assert_int_equal(h_set_sim_clock(env, now + window), 0);
    h_msg m;
    assert_int_equal(h_consume(dl, 2000, &m), 0); /* several ticks at the edge: kept */
    h_consume_close(dl);
    assert_int_equal(h_set_sim_clock(env, now + window + 1), 0);
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 30000, &dls);
    assert_int_equal(dls.n, 1);
    assert_string_equal(h_jstr(dls.items[0], "reason"), "DEAD_LETTER_UNKNOWN_WORK_ORDER");
    assert_string_equal(h_jstr(dls.items[0], "event_id"), "WO-EDGE-acc");
    h_collected_free(&dls);
}

/* A worker whose partition was claimed by someone else is fenced: it writes nothing
 * more and exits with status 3. */
static void test_fencing(void **state)
{
    h_env *env = *state;
    pid_t w = h_worker_start(env, NULL);
    assert_true(w > 0);
    h_send_full_order(env, "WO-E", "TIER_AA", 0, T0, 30);
    h_collected recs;
    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 30000, &recs);
    assert_int_equal(recs.n, 1);
    h_collected_free(&recs);

    /* Another owner takes every partition (as a new group member would). */
    redisContext *rc = h_redis_connect(env);
    redisReply *r = redisCommand(rc, "KEYS cfd:*:meta");
    for (size_t i = 0; i < r->elements; i++)
        freeReplyObject(redisCommand(rc, "HINCRBY %s epoch 1", r->element[i]->str));
    freeReplyObject(r);
    h_send_full_order(env, "WO-F", "TIER_AA", 0, T0, 30);
    assert_int_equal(h_worker_wait_exit(env, w, 30000), 3);
    r = redisCommand(rc, "KEYS cfd:*:wo:WO-F");
    assert_int_equal((int)r->elements, 0); /* the fenced batch wrote nothing */
    freeReplyObject(r);
    redisFree(rc);
}

/* Input the brokers deleted before the worker read it (retention: the embedded broker
 * keeps 5 MB of a partition) is reported as lost, loudly, and the partition goes on
 * from the earliest offset they still hold. */
static void test_input_deleted_unread(void **state)
{
    h_env *env = *state;
    if (h_broker_is_kafka())
        skip(); /* the embedded broker's 5 MB limit deletes it here */
    const char *args[] = {"worker.deadletter_max_original=64", NULL};
    pid_t w = h_worker_start(env, args);
    assert_true(w > 0);
    h_send_full_order(env, "WO-G", "TIER_AA", 0, T0, 30);
    h_collected got;
    h_collect(env, "confirmd.records", "ConfirmationRecord", 1, 30000, &got);
    assert_int_equal(got.n, 1);
    h_collected_free(&got);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);

    /* 6 MB more on WO-G's partition while no worker runs: the oldest go, among them
     * the offset the worker resumes at. */
    size_t size = 20000;
    uint8_t *junk = malloc(size);
    assert_non_null(junk);
    memset(junk, 0xff, size); /* no Event: each left is a dead letter */
    for (int i = 0; i < 300; i++)
        assert_int_equal(h_produce(env, "confirmd.events", "WO-G", junk, size), 0);
    free(junk);

    w = h_worker_start(env, args);
    assert_true(w > 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 1),
                                          "were deleted before they were read", 30000),
                     0);
    assert_int_equal(h_file_count(h_worker_log_path(env, 1), "input messages lost"), 1);
    /* It goes on: what the brokers still hold is read (dead letters here). */
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 30000, &got);
    assert_true(got.n >= 1);
    h_collected_free(&got);
    assert_true(h_worker_alive(env, w));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records_and_breach, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_bad_input, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_output_refused_then_delivered,
                                        h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_parking_and_duplicates, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_park_window_expiry, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_unreadable_parked_frame, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_oversized_input, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_output_refused_for_good, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_stop_with_undelivered, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_park_window_edge, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_contractor_kept, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_customer_absent_after_arrival,
                                        h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_fencing, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_input_deleted_unread, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

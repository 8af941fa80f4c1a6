/*
 * NOC alarms through the real broker and Redis: the inventory is loaded from its
 * topic; a major alarm on a customer's circuit opens a work order whose restoration
 * clock starts at the alarm; a storm of repeats and flapping open nothing more; a clear
 * is recorded as evidence; an alarm on an unknown object is a dead letter; after the
 * order completes, the next major alarm opens a new one, flagged as a repeat fault;
 * two workers applying a work order's events while its alarms are re-keyed to it lose
 * no update; a customer's report joins the order a port's alarm opened on its circuit;
 * a storm over many objects of one customer opens one order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/alarm_codec.h"
#include "confirmd/codec.h"
#include "harness_events.h"

#define T0 H_T0
#define MIN H_MIN

static void send_circuit(h_env *env, const char *object, const char *tier)
{
    h_send_typed(
        env, "confirmd.inventory", "Circuit", object,
        "{\"object_id\":\"%s\",\"circuit_id\":\"CIR-%s\",\"service\":\"internet\","
        "\"customer\":{\"name\":\"重庆某某物流\",\"contact_phone\":\"13700000000\","
        "\"tier\":\"%s\",\"city\":\"Chongqing\",\"customer_id\":\"K-%s\"}}",
        object, object, tier, object);
}

/* A batch of n alarm messages (raise or clear) of one alarm id, asynchronously. */
static void send_alarms(h_env *env, const char *object, const char *alarm_id, int64_t t,
                        const char *severity, int cleared, int n)
{
    for (int i = 0; i < n; i++) {
        char json[512], errstr[256];
        uint8_t *buf = NULL;
        size_t len = 0;
        snprintf(json, sizeof(json),
                 "{\"alarm_id\":\"%s\",\"network_object\":\"%s\",\"severity\":\"%s\","
                 "\"cleared\":%s,\"event_time_ms\":%lld,\"text\":\"LOS on line side\"}",
                 alarm_id, object, severity, cleared ? "true" : "false",
                 (long long)(t + i * 1000));
        if (cfd_json_to_pb("Alarm", json, &buf, &len, errstr, sizeof(errstr)))
            fail_msg("%s", errstr);
        h_out_msg m = {.key = object, .value = buf, .len = len};
        assert_int_equal(h_produce_async(env, "confirmd.alarms", &m), 0);
        free(buf);
    }
    assert_int_equal(h_flush(env, 20000), 0);
}

/* How many keys "cfd:{pN}:<kind>:<pattern>" Redis holds, over all partitions. */
static int count_keys(h_env *env, const char *kind, const char *pattern)
{
    redisContext *rc = h_redis_connect(env);
    redisReply *r = redisCommand(rc, "KEYS cfd:*:%s:%s", kind, pattern);
    int n = r ? (int)r->elements : -1;
    freeReplyObject(r);
    redisFree(rc);
    return n;
}

/* The work orders whose state is in Redis and whose id matches pattern. */
static int count_orders(h_env *env, const char *pattern)
{
    return count_keys(env, "wo", pattern);
}

/* Reads the record state of wo from Redis (NULL when absent). */
static cfd_record *load_record(h_env *env, const char *wo)
{
    redisContext *rc = h_redis_connect(env);
    redisReply *r = redisCommand(rc, "KEYS cfd:*:wo:%s", wo);
    cfd_record *rec = NULL;
    if (r && r->elements == 1) {
        redisReply *g = redisCommand(rc, "GET %s", r->element[0]->str);
        char errstr[256];
        if (g && g->type == REDIS_REPLY_STRING)
            assert_int_equal(
                cfd_codec_state_decode(g->str, g->len, &rec, errstr, sizeof(errstr)),
                CFD_OK);
        freeReplyObject(g);
    }
    freeReplyObject(r);
    redisFree(rc);
    return rec;
}

/* Waits until wo's record satisfies pred (bounded). */
static cfd_record *wait_record(h_env *env, const char *wo, bool (*pred)(const cfd_record *),
                               int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    while (h_now_ms() < until) {
        cfd_record *rec = load_record(env, wo);
        if (rec && pred(rec))
            return rec;
        cfd_record_destroy(rec);
        usleep(100 * 1000);
    }
    fail_msg("work order %s never reached the expected state", wo);
    return NULL;
}

static bool opened(const cfd_record *r)
{
    return r->state != CFD_STATE_NONE;
}
static bool closed_or_cancelled(const cfd_record *r)
{
    return r->state == CFD_STATE_CLOSED || r->state == CFD_STATE_CANCELLED;
}
static bool has_alarm(const cfd_record *r)
{
    return r->n_linked_alarms > 0;
}
static bool two_reports(const cfd_record *r)
{
    int n = 0;
    for (size_t i = 0; i < r->n_timeline; i++)
        n += r->timeline[i].milestone == CFD_MS_REPORTED;
    return n == 2;
}

/* How many alarm states exist for an object (0 or 1). */
static int count_alarm_states(h_env *env, const char *object)
{
    return count_keys(env, "alm", object);
}
static bool has_clear(const cfd_record *r)
{
    return r->version >= 3;
}
static bool closed(const cfd_record *r)
{
    return r->state == CFD_STATE_CLOSED;
}

/* One alarm opens one order; its storm and its flapping open nothing more. */
static void test_alarm_opens_one_order(void **state)
{
    h_env *env = *state;
    send_circuit(env, "OBJ-1", "TIER_AAA");
    assert_true(h_worker_start(env, NULL) > 0);

    send_alarms(env, "OBJ-1", "A-1", T0, "ALARM_SEVERITY_CRITICAL", 0, 1);
    cfd_record *rec = wait_record(env, "ALM-A-1", opened, 30000);
    /* The restoration clock starts at the alarm. */
    assert_int_equal(rec->sla[CFD_METRIC_RESTORATION].start_ms, T0);
    assert_int_equal(rec->first_alarm_at_ms, T0);
    assert_string_equal(rec->circuit_id, "CIR-OBJ-1");
    assert_int_equal(rec->customer.tier, CFD_TIER_AAA);
    /* Decided on the customer's coordinator, which the completion frees. */
    assert_string_equal(rec->alarm_object, "customer:K-OBJ-1");
    cfd_record_destroy(rec);

    /* A storm: the same alarm 1000 times. */
    send_alarms(env, "OBJ-1", "A-1", T0 + MIN, "ALARM_SEVERITY_CRITICAL", 0, 1000);
    /* Flapping: cleared and raised again and again. */
    for (int i = 0; i < 5; i++) {
        send_alarms(env, "OBJ-1", "A-1", T0 + (10 + 2 * i) * MIN, "ALARM_SEVERITY_CRITICAL",
                    1, 1);
        send_alarms(env, "OBJ-1", "A-1", T0 + (11 + 2 * i) * MIN, "ALARM_SEVERITY_CRITICAL",
                    0, 1);
    }
    rec = wait_record(env, "ALM-A-1", has_clear, 30000);
    /* The report, the alarm and its first clear: nothing from the repeats. */
    assert_int_equal(rec->version, 3);
    assert_int_equal(rec->n_linked_alarms, 1);
    assert_string_equal(rec->linked_alarms[0], "A-1");
    cfd_record_destroy(rec);
    assert_int_equal(count_orders(env, "ALM-*"), 1);
}

/* A storm over many objects of one customer: every object's alarms (and their repeats)
 * go to the customer's coordinator, which opens one order for them all; another
 * customer's object opens its own, and so does a new alarm of the customer after the
 * storm window. */
static void test_customer_storm(void **state)
{
    h_env *env = *state;
    const char *objs[] = {"S-PORT-1", "S-PORT-2", "S-NE-3", "S-NE-4", "S-NE-5"};
    for (int i = 0; i < 5; i++)
        h_send_typed(env, "confirmd.inventory", "Circuit", objs[i],
                     "{\"object_id\":\"%s\",\"circuit_id\":\"CIR-S\",\"customer\":"
                     "{\"tier\":\"TIER_A\",\"customer_id\":\"K-STORM\"}}",
                     objs[i]);
    send_circuit(env, "OBJ-OTHER", "TIER_A");
    assert_true(h_worker_start(env, NULL) > 0);
    assert_true(h_worker_start(env, NULL) > 0);
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "ST-%d", i);
        send_alarms(env, objs[i], id, T0 + i * 1000, "ALARM_SEVERITY_CRITICAL", 0, 50);
    }
    send_alarms(env, "OBJ-OTHER", "OT-1", T0, "ALARM_SEVERITY_MAJOR", 0, 1);
    cfd_record_destroy(wait_record(env, "ALM-OT-1", opened, 30000));
    /* One order for the customer, whichever alarm reached the coordinator first. */
    int64_t until = h_now_ms() + 30000;
    cfd_record *rec = NULL;
    while (h_now_ms() < until) {
        for (int i = 0; i < 4 && !rec; i++) {
            char wo[32];
            snprintf(wo, sizeof(wo), "ALM-ST-%d", i);
            rec = load_record(env, wo);
        }
        if (rec && rec->n_linked_alarms == 4)
            break;
        cfd_record_destroy(rec);
        rec = NULL;
        usleep(200 * 1000);
    }
    assert_non_null(rec);
    assert_int_equal(rec->n_linked_alarms, 4);
    assert_string_equal(rec->alarm_object, "customer:K-STORM");
    cfd_record_destroy(rec);
    assert_int_equal(count_orders(env, "ALM-ST-*"), 1);
    assert_int_equal(count_orders(env, "ALM-*"), 2);

    /* 40 min later (the storm window is 30 min): a fault of its own on its object. */
    send_alarms(env, objs[4], "ST-LATE", T0 + 40 * MIN, "ALARM_SEVERITY_CRITICAL", 0, 3);
    rec = wait_record(env, "ALM-ST-LATE", opened, 30000);
    assert_string_equal(rec->alarm_object, "S-NE-5");
    cfd_record_destroy(rec);
    assert_int_equal(count_orders(env, "ALM-ST-*"), 2);
}

/* Alarms on objects not in the inventory are dead letters with the reason. */
static void test_unknown_object(void **state)
{
    h_env *env = *state;
    h_collected dls;
    assert_true(h_worker_start(env, NULL) > 0);
    send_alarms(env, "OBJ-NOWHERE", "A-9", T0, "ALARM_SEVERITY_MAJOR", 0, 1);
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 30000, &dls);
    assert_int_equal(dls.n, 1);
    assert_string_equal(h_jstr(dls.items[0], "reason"),
                        "DEAD_LETTER_UNKNOWN_NETWORK_OBJECT");
    assert_string_equal(h_jstr(dls.items[0], "topic"), "confirmd.alarms");
    assert_non_null(strstr(h_jstr(dls.items[0], "detail"), "OBJ-NOWHERE"));
    h_collected_free(&dls);
    assert_int_equal(count_orders(env, "ALM-*"), 0);
}

/* The circuit's object binds to an order (or to none: NULL) within 20 s. */
static bool wait_bound(h_env *env, const char *object, const char *wo)
{
    int64_t until = h_now_ms() + 20000;
    while (h_now_ms() < until) {
        redisContext *rc = h_redis_connect(env);
        redisReply *r = redisCommand(rc, "KEYS cfd:*:alm:%s", object);
        bool ok = false;
        if (r && r->elements == 1) {
            redisReply *g = redisCommand(rc, "GET %s", r->element[0]->str);
            cfd_alarm_state *st = NULL;
            char errstr[128];
            if (g && g->type == REDIS_REPLY_STRING &&
                cfd_codec_alarm_state_decode(g->str, g->len, &st, errstr, sizeof(errstr)) ==
                    CFD_OK) {
                ok = wo ? st->work_order && strcmp(st->work_order, wo) == 0
                        : !st->work_order;
                cfd_alarm_state_destroy(st);
            }
            freeReplyObject(g);
        }
        freeReplyObject(r);
        redisFree(rc);
        if (ok)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

/* A customer calls about circuit at t: the hotline opens order cust; the report joins
 * alm, the order an alarm opened first (cust cancelled, alm's clock kept at T0, its
 * alarm object the object whose alarm opened it). */
static void expect_report_joins(h_env *env, const char *cust_wo, const char *circuit,
                                const char *contact, int64_t t, const char *alm_wo,
                                const char *alarm_object)
{
    h_send_json(
        env,
        "{\"event_id\":\"%s-rep\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
        "\"event_time_ms\":%lld,\"fault_report\":{\"customer\":{\"tier\":\"TIER_AA\","
        "\"contact_person\":\"%s\"},\"network\":{\"circuit_id\":\"%s\"},"
        "\"problem_description\":\"down\"}}",
        cust_wo, cust_wo, (long long)t, contact, circuit);
    cfd_record *cust = wait_record(env, cust_wo, closed_or_cancelled, 30000);
    assert_int_equal(cust->state, CFD_STATE_CANCELLED);
    assert_non_null(strstr(cust->cancel_reason, alm_wo));
    cfd_record_destroy(cust);
    cfd_record *alm = wait_record(env, alm_wo, two_reports, 30000);
    /* The report's fields joined; the restoration clock kept the alarm's start. */
    assert_string_equal(alm->customer.contact_person, contact);
    assert_int_equal(alm->reported_at_ms, T0);
    assert_int_equal(alm->sla[CFD_METRIC_RESTORATION].start_ms, T0);
    assert_string_equal(alm->alarm_object, alarm_object);
    cfd_record_destroy(alm);
}

/* While the alarm stage keeps linking new alarms to an order, a second worker applies
 * the field events of the same order: with the alarms re-keyed to the order's
 * partition, one owner applies both streams and no update is lost. After the order
 * closes, the next major alarm on the object opens a new order, a repeat fault. */
static void test_two_workers_and_reopen(void **state)
{
    h_env *env = *state;
    char wo[] = "ALM-B-0";
    send_circuit(env, "OBJ-2", "TIER_AA");
    send_circuit(env, "OBJ-3", "TIER_AA");
    assert_true(h_worker_start(env, NULL) > 0);
    assert_true(h_worker_start(env, NULL) > 0);
    send_alarms(env, "OBJ-2", "B-0", T0, "ALARM_SEVERITY_MAJOR", 0, 1);
    cfd_record_destroy(wait_record(env, wo, opened, 30000));

    /* 40 more alarm ids on the object, interleaved with the field's milestones. */
    const char *steps[] = {"accepted", "dispatched", "customer_contacted",
                           "arrived_on_site"};
    for (int i = 1; i <= 40; i++) {
        char id[16];
        snprintf(id, sizeof(id), "B-%d", i);
        send_alarms(env, "OBJ-2", id, T0 + i * 1000, "ALARM_SEVERITY_MINOR", 0, 1);
        if (i % 10 == 0) {
            char eid[32];
            snprintf(eid, sizeof(eid), "%s-f%d", wo, i / 10);
            h_send_ms(env, wo, eid, T0 + (i / 10) * MIN, steps[i / 10 - 1], "{}");
        }
    }
    h_send_ms(env, wo, "ALM-B-0-dia", T0 + 30 * MIN, "diagnosed",
              "{\"cause\":\"CAUSE_TRANSMISSION_LINE\"}");
    h_send_ms(env, wo, "ALM-B-0-res", T0 + 40 * MIN, "service_restored",
              "{\"result\":\"RESULT_NEEDS_OBSERVATION\"}");
    h_send_ms(env, wo, "ALM-B-0-sig", T0 + 45 * MIN, "confirmation_signed", "{}");
    h_send_ms(env, wo, "ALM-B-0-clo", T0 + 50 * MIN, "closed", "{}");
    cfd_record *rec = wait_record(env, wo, closed, 60000);
    /* Every alarm and every milestone is there: 1 report + 41 alarms + 8 milestones. */
    int64_t until = h_now_ms() + 30000;
    while (rec->n_linked_alarms < 41 && h_now_ms() < until) {
        cfd_record_destroy(rec);
        usleep(200 * 1000);
        rec = load_record(env, wo);
    }
    assert_int_equal(rec->n_linked_alarms, 41);
    assert_int_equal(rec->version, 1 + 41 + 8);
    cfd_record_destroy(rec);

    /* The closed notice travels back to the object: wait until it is free again. */
    assert_true(wait_bound(env, "customer:K-OBJ-2", NULL));
    /* A new major alarm opens a new order, naming the earlier one (its result was
     * "needs further observation"): a repeat fault. */
    send_alarms(env, "OBJ-2", "B-NEW", T0 + 2 * 60 * MIN, "ALARM_SEVERITY_MAJOR", 0, 1);
    rec = wait_record(env, "ALM-B-NEW", opened, 30000);
    assert_non_null(rec->previous_work_order);
    assert_string_equal(rec->previous_work_order, wo);
    cfd_record_destroy(rec);
}

/* A customer report on a circuit whose alarm opened an order first joins it: the
 * customer's own order is cancelled, the clock keeps the alarm's earlier start. And
 * the other way round: a circuit the customer reported first binds the circuit's later
 * alarms to the customer's order, so no second order is opened. */
static void test_customer_report_joins(void **state)
{
    h_env *env = *state;
    /* Circuit-level objects: the object is the circuit. */
    h_send_typed(env, "confirmd.inventory", "Circuit", "CIR-J",
                 "{\"object_id\":\"CIR-J\",\"circuit_id\":\"CIR-J\","
                 "\"customer\":{\"tier\":\"TIER_AA\",\"customer_id\":\"K-J\"}}");
    h_send_typed(env, "confirmd.inventory", "Circuit", "CIR-K",
                 "{\"object_id\":\"CIR-K\",\"circuit_id\":\"CIR-K\","
                 "\"customer\":{\"tier\":\"TIER_AA\",\"customer_id\":\"K-K\"}}");
    assert_true(h_worker_start(env, NULL) > 0);

    send_alarms(env, "CIR-J", "J-1", T0, "ALARM_SEVERITY_CRITICAL", 0, 1);
    cfd_record_destroy(wait_record(env, "ALM-J-1", opened, 30000));
    /* The customer calls 20 min later; the hotline opens its own order. */
    expect_report_joins(env, "WO-CUST-1", "CIR-J", "李工", T0 + 20 * MIN, "ALM-J-1",
                        "customer:K-J");

    /* CIR-K: the customer is first; the alarm that follows joins the customer's order. */
    h_send_json(
        env,
        "{\"event_id\":\"WO-CUST-2-rep\",\"work_order\":\"WO-CUST-2\","
        "\"source\":\"SOURCE_CUSTOMER\",\"event_time_ms\":%lld,\"fault_report\":"
        "{\"customer\":{\"tier\":\"TIER_AA\"},\"network\":{\"circuit_id\":\"CIR-K\"}}}",
        (long long)T0);
    cfd_record_destroy(wait_record(env, "WO-CUST-2", opened, 30000));
    /* The report notice travels to the circuit's object first: wait for it. */
    int64_t until = h_now_ms() + 20000;
    while (count_alarm_states(env, "CIR-K") == 0 && h_now_ms() < until)
        usleep(100 * 1000);
    send_alarms(env, "CIR-K", "K-1", T0 + 5 * MIN, "ALARM_SEVERITY_CRITICAL", 0, 1);
    cfd_record *k = wait_record(env, "WO-CUST-2", has_alarm, 30000);
    assert_string_equal(k->linked_alarms[0], "K-1");
    assert_int_equal(k->first_alarm_at_ms, T0 + 5 * MIN);
    cfd_record_destroy(k);
    assert_int_equal(count_orders(env, "ALM-K-*"), 0);
}

/* An alarm on a port of the circuit (object id != circuit id) opens the order; the
 * circuit learns of it, so the customer's report on the circuit joins it; when the
 * order completes, port and circuit are both free again. */
static void test_port_alarm_report_joins(void **state)
{
    h_env *env = *state;
    h_send_typed(env, "confirmd.inventory", "Circuit", "PTN-7/1/3",
                 "{\"object_id\":\"PTN-7/1/3\",\"circuit_id\":\"CIR-P\","
                 "\"customer\":{\"tier\":\"TIER_AA\",\"customer_id\":\"K-P\"}}");
    assert_true(h_worker_start(env, NULL) > 0);
    send_alarms(env, "PTN-7/1/3", "P-1", T0, "ALARM_SEVERITY_CRITICAL", 0, 1);
    cfd_record_destroy(wait_record(env, "ALM-P-1", opened, 30000));
    assert_true(wait_bound(env, "CIR-P", "ALM-P-1"));
    expect_report_joins(env, "WO-CUST-P", "CIR-P", "王工", T0 + 10 * MIN, "ALM-P-1",
                        "customer:K-P");

    /* Cancelled by the NOC: both objects are free again. */
    h_send_json(env,
                "{\"event_id\":\"ALM-P-1-can\",\"work_order\":\"ALM-P-1\","
                "\"source\":\"SOURCE_OPERATOR\",\"event_time_ms\":%lld,"
                "\"cancelled\":{\"reason\":\"restored before dispatch\"}}",
                (long long)(T0 + 20 * MIN));
    assert_true(wait_bound(env, "customer:K-P", NULL));
    assert_true(wait_bound(env, "CIR-P", NULL));
}

/* A customer's report on a circuit whose last order ended "needs further observation"
 * two days before: the service links the new order to it (a repeat fault), as it does
 * for an order an alarm opens; the caller names nothing. */
static bool linked_to_first(const cfd_record *r)
{
    return r->previous_work_order && strcmp(r->previous_work_order, "WO-RF-1") == 0;
}

static void send_customer_report(h_env *env, const char *wo, const char *circuit, int64_t t)
{
    h_send_json(
        env,
        "{\"event_id\":\"%s-rep\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
        "\"event_time_ms\":%lld,\"fault_report\":{\"customer\":{\"tier\":\"TIER_AA\"},"
        "\"network\":{\"circuit_id\":\"%s\"}}}",
        wo, wo, (long long)t, circuit);
}

static void test_customer_report_repeat_fault(void **state)
{
    h_env *env = *state;
    assert_true(h_worker_start(env, NULL) > 0);
    send_customer_report(env, "WO-RF-1", "CIR-R", T0);
    assert_true(wait_bound(env, "CIR-R", "WO-RF-1"));
    h_send_ms(env, "WO-RF-1", "WO-RF-1-acc", T0 + MIN, "accepted", "{}");
    h_send_ms(env, "WO-RF-1", "WO-RF-1-res", T0 + 60 * MIN, "service_restored",
              "{\"result\":\"RESULT_NEEDS_OBSERVATION\",\"remote\":true}");
    h_send_ms(env, "WO-RF-1", "WO-RF-1-clo", T0 + 70 * MIN, "closed", "{}");
    cfd_record_destroy(wait_record(env, "WO-RF-1", closed, 30000));
    assert_true(wait_bound(env, "CIR-R", NULL)); /* the completion freed the circuit */

    send_customer_report(env, "WO-RF-2", "CIR-R", T0 + 2 * 24 * 60 * MIN);
    cfd_record *rec = wait_record(env, "WO-RF-2", linked_to_first, 30000);
    assert_int_equal(rec->state, CFD_STATE_REPORTED);
    cfd_record_destroy(rec);
}

/* A worker starting on a backlog of inventory and alarms: no alarm is looked up before
 * the inventory has caught up, so none is taken for an unknown object. */
static void test_backlog_waits_for_inventory(void **state)
{
    h_env *env = *state;
    enum { N = 120 };
    /* The inventory as one message set per record, the alarms as a few large ones: the
     * mock broker returns one message set per partition and fetch, so the first fetch
     * brings a partition's alarms with only the first of its inventory records. */
    for (int i = 0; i < N; i++) {
        char obj[32];
        snprintf(obj, sizeof(obj), "BL-%03d", i);
        h_send_typed(env, "confirmd.inventory", "Circuit", obj,
                     "{\"object_id\":\"%s\",\"circuit_id\":\"%s\",\"customer\":"
                     "{\"tier\":\"TIER_A\"}}",
                     obj, obj);
    }
    for (int i = 0; i < N; i++) {
        char obj[32], json[256], errstr[128];
        uint8_t *buf = NULL;
        size_t len = 0;
        snprintf(obj, sizeof(obj), "BL-%03d", i);
        snprintf(json, sizeof(json),
                 "{\"alarm_id\":\"BLA-%03d\",\"network_object\":\"%s\","
                 "\"severity\":\"ALARM_SEVERITY_MAJOR\",\"event_time_ms\":%lld}",
                 i, obj, (long long)(T0 + i * 1000));
        assert_int_equal(cfd_json_to_pb("Alarm", json, &buf, &len, errstr, sizeof(errstr)),
                         CFD_OK);
        h_out_msg m = {.key = obj, .value = buf, .len = len};
        assert_int_equal(h_produce_async(env, "confirmd.alarms", &m), 0);
        free(buf);
    }
    assert_int_equal(h_flush(env, 20000), 0);
    assert_true(h_worker_start(env, NULL) > 0);
    int64_t until = h_now_ms() + 60000;
    while (count_orders(env, "ALM-BLA-*") < N && h_now_ms() < until)
        usleep(200 * 1000);
    assert_int_equal(count_orders(env, "ALM-BLA-*"), N);
    h_collected dls;
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 2000, &dls);
    assert_int_equal(dls.n, 0);
    h_collected_free(&dls);
}

/* --- TMF642 alarms (worker.tmf642_alarms_topic) --------------------------------------- */

#define TMF642_TOPIC "confirmd.tmf642-alarms"

/* The broker's default topics and the TMF642 alarms, co-partitioned with the events. */
static int setup_tmf642(void **state)
{
    h_env *env = h_env_new("it");
    if (!env || h_redis_start(env) ||
        h_broker_start(env,
                       "confirmd.events:8,confirmd.records:4,confirmd.alerts:4,"
                       "confirmd.deadletter:4,confirmd.incidents:4,confirmd.alarms:8,"
                       "confirmd.inventory:8,confirmd.city-reports:8," TMF642_TOPIC ":8")) {
        h_env_destroy(env);
        return -1;
    }
    *state = env;
    return 0;
}

/* t_ms as an ISO 8601 date-time in Shanghai's offset, as an NMS in China writes it. */
static const char *tmf642_time(int64_t t_ms, char *buf, size_t size)
{
    time_t t = (time_t)((t_ms + 8 * 3600000LL) / 1000);
    struct tm tm;
    char sec[32];
    gmtime_r(&t, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03d+08:00", sec, (int)((t_ms + 8 * 3600000LL) % 1000));
    return buf;
}

/* One TMF642 alarm, written by hand from the TMF642 Alarm fields: state is "raised",
 * "updated" or "cleared"; the raise was at raised, the change (update or clear) at t. */
static void send_tmf642(h_env *env, const char *object, const char *alarm_id,
                        int64_t raised, int64_t t, const char *severity, const char *state)
{
    char json[1024], t_raised[40], t_now[40], extra[128] = "";
    tmf642_time(raised, t_raised, sizeof(t_raised));
    tmf642_time(t, t_now, sizeof(t_now));
    if (strcmp(state, "cleared") == 0)
        snprintf(extra, sizeof(extra), ",\"alarmClearedTime\":\"%s\"", t_now);
    else if (strcmp(state, "updated") == 0)
        snprintf(extra, sizeof(extra), ",\"alarmChangedTime\":\"%s\"", t_now);
    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"href\":\"/tmf-api/alarmManagement/v4/alarm/%s\","
             "\"@type\":\"Alarm\",\"alarmType\":\"communicationsAlarm\","
             "\"perceivedSeverity\":\"%s\",\"probableCause\":\"lossOfSignal\","
             "\"specificProblem\":\"LOS on line side\",\"state\":\"%s\","
             "\"ackState\":\"unacknowledged\",\"alarmRaisedTime\":\"%s\"%s,"
             "\"sourceSystemId\":\"nms-1\",\"alarmedObject\":{\"id\":\"%s\","
             "\"@referredType\":\"Resource\"}}",
             alarm_id, alarm_id, severity, state, t_raised, extra, object);
    assert_int_equal(h_produce(env, TMF642_TOPIC, object, json, strlen(json)), 0);
}

/* The record of wo as an order opened by the alarms of object: what the same alarms
 * must give whatever their form, object and alarm id replaced by placeholders. */
static void record_summary(const cfd_record *r, const char *object, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(
        buf, size,
        "state %d version %llu linked %zu first alarm %lld restoration %lld "
        "tier %d object %s circuit %s;",
        (int)r->state, (unsigned long long)r->version, r->n_linked_alarms,
        (long long)r->first_alarm_at_ms, (long long)r->sla[CFD_METRIC_RESTORATION].start_ms,
        (int)r->customer.tier,
        strcmp(r->alarm_object, object) == 0 ? "OBJ" : r->alarm_object,
        strstr(r->circuit_id, object) ? "CIR-OBJ" : r->circuit_id);
    for (size_t i = 0; i < r->n_timeline && n < size; i++)
        n += (size_t)snprintf(
            buf + n, size - n, " %d@%lld/%d", (int)r->timeline[i].milestone,
            (long long)r->timeline[i].event_time_ms, (int)r->timeline[i].source);
}

/* TMF642 alarms open, repeat and clear work orders exactly as the same alarms in
 * protobuf do: a raise, its repeats (updates) and its clear on one object each. */
static void test_tmf642_as_protobuf(void **state)
{
    h_env *env = *state;
    const char *const args[] = {"worker.tmf642_alarms_topic=" TMF642_TOPIC,
                                "worker.alarms_by_customer=false", NULL};
    send_circuit(env, "OBJ-PB", "TIER_AAA");
    send_circuit(env, "OBJ-TMF", "TIER_AAA");
    assert_true(h_worker_start(env, args) > 0);

    send_alarms(env, "OBJ-PB", "A-PB", T0, "ALARM_SEVERITY_CRITICAL", 0, 1);
    send_tmf642(env, "OBJ-TMF", "A-TMF", T0, T0, "critical", "raised");
    cfd_record_destroy(wait_record(env, "ALM-A-PB", opened, 30000));
    cfd_record_destroy(wait_record(env, "ALM-A-TMF", opened, 30000));
    for (int i = 0; i < 3; i++) {
        send_alarms(env, "OBJ-PB", "A-PB", T0 + (1 + i) * MIN, "ALARM_SEVERITY_CRITICAL", 0,
                    1);
        send_tmf642(env, "OBJ-TMF", "A-TMF", T0, T0 + (1 + i) * MIN, "critical", "updated");
    }
    send_alarms(env, "OBJ-PB", "A-PB", T0 + 30 * MIN, "ALARM_SEVERITY_CRITICAL", 1, 1);
    send_tmf642(env, "OBJ-TMF", "A-TMF", T0, T0 + 30 * MIN, "critical", "cleared");
    /* A clear said the other way, again: already cleared, nothing more. */
    send_alarms(env, "OBJ-PB", "A-PB", T0 + 31 * MIN, "ALARM_SEVERITY_CRITICAL", 1, 1);
    send_tmf642(env, "OBJ-TMF", "A-TMF", T0, T0 + 31 * MIN, "cleared", "updated");

    cfd_record *pb = wait_record(env, "ALM-A-PB", has_clear, 30000);
    cfd_record *tmf = wait_record(env, "ALM-A-TMF", has_clear, 30000);
    char want[2048], got[2048];
    record_summary(pb, "OBJ-PB", want, sizeof(want));
    record_summary(tmf, "OBJ-TMF", got, sizeof(got));
    assert_string_equal(got, want);
    assert_int_equal(tmf->version, 3); /* the report, the alarm, its clear */
    assert_string_equal(tmf->linked_alarms[0], "A-TMF");
    assert_int_equal(tmf->first_alarm_at_ms, T0);
    cfd_record_destroy(pb);
    cfd_record_destroy(tmf);
    assert_int_equal(count_orders(env, "ALM-*"), 2);
}

/* A TMF642 alarm missing a field or with a bad time is a dead letter naming it. */
static void test_tmf642_dead_letters(void **state)
{
    h_env *env = *state;
    const char *const args[] = {"worker.tmf642_alarms_topic=" TMF642_TOPIC, NULL};
    static const char no_object[] =
        "{\"id\":\"A-BAD\",\"perceivedSeverity\":\"major\",\"state\":\"raised\","
        "\"alarmRaisedTime\":\"2025-11-25T12:00:00+08:00\"}";
    static const char bad_time[] =
        "{\"id\":\"A-BAD\",\"perceivedSeverity\":\"major\",\"alarmRaisedTime\":"
        "\"25/11/2025 12:00\",\"alarmedObject\":{\"id\":\"OBJ-1\"}}";
    h_collected dls;
    send_circuit(env, "OBJ-1", "TIER_A");
    assert_true(h_worker_start(env, args) > 0);
    assert_int_equal(h_produce(env, TMF642_TOPIC, "OBJ-1", no_object, strlen(no_object)),
                     0);
    assert_int_equal(h_produce(env, TMF642_TOPIC, "OBJ-1", bad_time, strlen(bad_time)), 0);
    h_collect(env, "confirmd.deadletter", "DeadLetter", 2, 30000, &dls);
    assert_int_equal(dls.n, 2);
    json_object *missing = h_find_by(&dls, "reason", "DEAD_LETTER_MISSING_FIELD");
    json_object *invalid = h_find_by(&dls, "reason", "DEAD_LETTER_INVALID_VALUE");
    assert_non_null(missing);
    assert_non_null(invalid);
    assert_string_equal(h_jstr(missing, "topic"), TMF642_TOPIC);
    assert_string_equal(h_jstr(missing, "detail"), "missing field alarmedObject.id");
    assert_string_equal(h_jstr(invalid, "detail"),
                        "alarmRaisedTime: not an ISO 8601 date-time with offset: "
                        "\"25/11/2025 12:00\"");
    h_collected_free(&dls);
    assert_int_equal(count_orders(env, "ALM-*"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alarm_opens_one_order, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_customer_storm, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_unknown_object, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_two_workers_and_reopen, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_customer_report_joins, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_customer_report_repeat_fault,
                                        h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_port_alarm_report_joins, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_backlog_waits_for_inventory,
                                        h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_tmf642_as_protobuf, setup_tmf642,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_tmf642_dead_letters, setup_tmf642,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

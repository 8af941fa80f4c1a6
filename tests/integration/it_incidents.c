/*
 * Severe faults through the real broker and Redis, on the simulated clock
 * (worker.clock=simulated): an important customer's full interruption opens an
 * incident once 30 min pass with no further event (Incident OPEN and a SEVERE_FAULT
 * alert to the NOC duty manager); the restoration closes it; a later diagnosis of
 * customer equipment updates it (excluded from the assessment, the incident stands).
 * A non-diamond cross-city rental waits 8 h, not 30 min. A critical alarm on an
 * important customer's circuit opens one the same way. Three ordinary customers of
 * one city and service reporting within 30 min, on orders two workers share, open
 * exactly one city incident when the fault outlasts 30 min from the third report; a
 * fourth customer joins it, another city does not, and the restorations close it. The
 * city key's timer survives SIGKILL of its owner. A busy city's settled reports are
 * stored apart from its head, and a late report of their time is judged with them.
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

#include "confirmd/city_codec.h"
#include "confirmd/codec.h"
#include "harness_events.h"
#include "harness_orders.h"

#define T0 H_T0
#define MIN H_MIN

/* Waits until the worker has stored the inventory record of object. */
static void wait_object(h_env *env, const char *object)
{
    redisContext *rc = h_redis_connect(env);
    int64_t until = h_now_ms() + 30000;
    bool found = false;
    while (!found && h_now_ms() < until) {
        redisReply *r = redisCommand(rc, "KEYS cfd:*:obj:%s", object);
        found = r && r->type == REDIS_REPLY_ARRAY && r->elements == 1;
        freeReplyObject(r);
        if (!found)
            usleep(100 * 1000);
    }
    redisFree(rc);
    assert_true(found);
}

/* The next message of c decoded as type whose field equals value; fails on timeout. */
static json_object *next_of(h_consumer *c, const char *type, const char *field,
                            const char *value, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    while (h_now_ms() < until) {
        h_msg m;
        if (h_consume(c, 200, &m) != 1)
            continue;
        char errstr[256];
        char *json = cfd_pb_to_json(type, m.value, m.value_len, errstr, sizeof(errstr));
        h_msg_clear(&m);
        assert_non_null(json);
        json_object *o = json_tokener_parse(json);
        free(json);
        const char *v = h_jstr(o, field);
        if (v && strcmp(v, value) == 0)
            return o;
        json_object_put(o);
    }
    fail_msg("no %s with %s=%s within %d ms", type, field, value, timeout_ms);
    return NULL;
}

/* No message of c within ms. */
static void expect_none(h_consumer *c, int ms)
{
    h_msg m;
    int got = h_consume(c, ms, &m);
    if (got == 1) {
        char errstr[256];
        char *json =
            cfd_pb_to_json("Incident", m.value, m.value_len, errstr, sizeof(errstr));
        h_msg_clear(&m);
        fail_msg("unexpected incident: %s", json ? json : errstr);
    }
    assert_int_equal(got, 0);
}

static void expect_incident(json_object *o, const char *status, const char *version)
{
    assert_non_null(o);
    assert_string_equal(h_jstr(o, "status"), status);
    assert_string_equal(h_jstr(o, "version"), version);
    assert_string_equal(h_jstr(o, "kind"), "INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION");
}

static const char *ms(char *buf, int64_t t)
{
    snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

/* Open at 30 min with no event, closed by the restoration, updated by the finding. */
static void test_open_close_update(void **state)
{
    h_env *env = *state;
    char b[32];
    assert_int_equal(h_set_sim_clock(env, T0), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *inc = h_consume_open(env, "confirmd.incidents");
    h_consumer *al = h_consume_open(env, "confirmd.alerts");
    assert_non_null(inc);
    assert_non_null(al);
    h_send_important_report(env, "WO-S1", "IMPORTANCE_PROVINCE_LEVEL", 0);
    assert_true(h_wait_timer(env, "WO-S1") == T0 + 30 * MIN + 1);

    assert_int_equal(h_set_sim_clock(env, T0 + 29 * MIN), 0);
    expect_none(inc, 1500);
    assert_int_equal(h_set_sim_clock(env, T0 + 31 * MIN), 0);
    int64_t t = h_now_ms();
    json_object *o = next_of(inc, "Incident", "incident_id", "INC-WO-S1", 5000);
    printf("incident opened %lld ms after the clock passed the threshold\n",
           (long long)(h_now_ms() - t));
    expect_incident(o, "INCIDENT_STATUS_OPEN", "1");
    assert_string_equal(h_jstr(o, "customer_id"), "K-WO-S1");
    assert_string_equal(h_jstr(o, "city"), "Chongqing");
    assert_string_equal(h_jstr(o, "importance"), "IMPORTANCE_PROVINCE_LEVEL");
    assert_string_equal(h_jstr(o, "started_at_ms"), ms(b, T0));
    assert_string_equal(h_jstr(o, "threshold_ms"), ms(b, 30 * MIN));
    assert_string_equal(h_jstr(o, "opened_at_ms"), ms(b, T0 + 30 * MIN));
    assert_string_equal(h_jstr(o, "ownership_unclear"), "true");
    assert_null(h_jstr(o, "excluded_from_assessment")); /* false: not on the wire */
    json_object_put(o);
    o = next_of(al, "SlaAlert", "kind", "ALERT_KIND_SEVERE_FAULT", 5000);
    assert_string_equal(h_jstr(o, "alert_id"), "WO-S1/SEVERE_FAULT");
    assert_string_equal(h_jstr(o, "recipients"), "RECIPIENT_NOC_DUTY_MANAGER");
    assert_null(strstr(h_jstr(o, "message"), "银行")); /* never the customer's name */
    json_object_put(o);

    /* Restored at 50 min: closed. */
    assert_int_equal(h_set_sim_clock(env, T0 + 50 * MIN), 0);
    h_send_ms(env, "WO-S1", "WO-S1-res", T0 + 50 * MIN, "service_restored",
              "{\"result\":\"RESULT_RESTORED\"}");
    o = next_of(inc, "Incident", "incident_id", "INC-WO-S1", 10000);
    expect_incident(o, "INCIDENT_STATUS_CLOSED", "2");
    assert_string_equal(h_jstr(o, "closed_at_ms"), ms(b, T0 + 50 * MIN));
    json_object_put(o);

    /* Found to be the customer's equipment: excluded from the assessment only. */
    h_send_ms(env, "WO-S1", "WO-S1-dia", T0 + 60 * MIN, "diagnosed",
              "{\"cause\":\"CAUSE_CUSTOMER_EQUIPMENT\"}");
    o = next_of(inc, "Incident", "incident_id", "INC-WO-S1", 10000);
    expect_incident(o, "INCIDENT_STATUS_UPDATE", "3");
    assert_string_equal(h_jstr(o, "excluded_from_assessment"), "true");
    assert_string_equal(h_jstr(o, "closed_at_ms"), ms(b, T0 + 50 * MIN));
    json_object_put(o);
    expect_none(inc, 1500);
    h_consume_close(inc);
    h_consume_close(al);
}

/* A non-diamond cross-city rental is severe after 8 h, not 30 min. */
static void test_rental_waits_8h(void **state)
{
    h_env *env = *state;
    assert_int_equal(h_set_sim_clock(env, T0), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *inc = h_consume_open(env, "confirmd.incidents");
    assert_non_null(inc);
    h_send_important_report(env, "WO-S2", "IMPORTANCE_CROSS_CITY", 1);
    assert_true(h_wait_timer(env, "WO-S2") == T0 + 8 * 60 * MIN + 1);
    assert_int_equal(h_set_sim_clock(env, T0 + 31 * MIN), 0);
    expect_none(inc, 2000);
    assert_int_equal(h_set_sim_clock(env, T0 + 8 * 60 * MIN + MIN), 0);
    json_object *o = next_of(inc, "Incident", "incident_id", "INC-WO-S2", 10000);
    expect_incident(o, "INCIDENT_STATUS_OPEN", "1");
    assert_string_equal(h_jstr(o, "threshold_ms"), "28800000");
    json_object_put(o);
    h_consume_close(inc);
}

/* A critical alarm on an important customer's circuit (the class from the inventory)
 * is a full interruption: the incident opens at 30 min. */
static void test_alarm_opened(void **state)
{
    h_env *env = *state;
    assert_int_equal(h_set_sim_clock(env, T0), 0);
    h_send_typed(
        env, "confirmd.inventory", "Circuit", "OBJ-S3",
        "{\"object_id\":\"OBJ-S3\",\"circuit_id\":\"CIR-S3\",\"service\":\"internet\","
        "\"importance\":\"IMPORTANCE_CROSS_PROVINCE\",\"customer\":{\"name\":"
        "\"某某物流\",\"city\":\"Chongqing\",\"customer_id\":\"K-S3\"}}");
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *inc = h_consume_open(env, "confirmd.incidents");
    assert_non_null(inc);
    wait_object(env, "OBJ-S3"); /* an alarm on an object not loaded yet is dead-lettered */
    h_send_typed(env, "confirmd.alarms", "Alarm", "OBJ-S3",
                 "{\"alarm_id\":\"A-S3\",\"network_object\":\"OBJ-S3\","
                 "\"severity\":\"ALARM_SEVERITY_CRITICAL\",\"event_time_ms\":%lld,"
                 "\"text\":\"LOS\"}",
                 (long long)T0);
    assert_true(h_wait_timer(env, "ALM-A-S3") > 0);
    assert_int_equal(h_set_sim_clock(env, T0 + 31 * MIN), 0);
    json_object *o = next_of(inc, "Incident", "incident_id", "INC-ALM-A-S3", 10000);
    expect_incident(o, "INCIDENT_STATUS_OPEN", "1");
    assert_string_equal(h_jstr(o, "importance"), "IMPORTANCE_CROSS_PROVINCE");
    assert_string_equal(h_jstr(o, "customer_id"), "K-S3");
    json_object_put(o);
    h_consume_close(inc);
}

static void expect_city(json_object *o, const char *status, const char *version,
                        size_t n_orders)
{
    assert_non_null(o);
    assert_string_equal(h_jstr(o, "kind"), "INCIDENT_KIND_MULTI_CUSTOMER_CITY");
    assert_string_equal(h_jstr(o, "status"), status);
    assert_string_equal(h_jstr(o, "version"), version);
    json_object *orders = NULL;
    assert_true(json_object_object_get_ex(o, "work_orders", &orders));
    assert_int_equal(json_object_array_length(orders), n_orders);
}

static void test_city_incident(void **state)
{
    h_env *env = *state;
    char b[32];
    const char *id = "INC-Chongqing|internet|1764044400000"; /* third report T0 + 20 min */
    assert_int_equal(h_set_sim_clock(env, T0), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *inc = h_consume_open(env, "confirmd.incidents");
    h_consumer *al = h_consume_open(env, "confirmd.alerts");
    assert_non_null(inc);
    assert_non_null(al);
    /* Three customers within 30 min, and one in another city. */
    h_send_city_report(env, "WO-C1", "Chongqing", T0);
    h_send_city_report(env, "WO-C2", "Chongqing", T0 + 10 * MIN);
    h_send_city_report(env, "WO-X1", "Chengdu", T0 + 12 * MIN);
    h_send_city_report(env, "WO-C3", "Chongqing", T0 + 20 * MIN);
    assert_true(h_wait_zset(env, "ctimers", "Chongqing|internet") == T0 + 50 * MIN + 1);
    assert_int_equal(h_set_sim_clock(env, T0 + 50 * MIN), 0);
    expect_none(inc, 1500); /* exactly 30 min after the third report is not more */

    assert_int_equal(h_set_sim_clock(env, T0 + 51 * MIN), 0);
    json_object *o = next_of(inc, "Incident", "incident_id", id, 10000);
    expect_city(o, "INCIDENT_STATUS_OPEN", "1", 3);
    assert_string_equal(h_jstr(o, "city"), "Chongqing");
    assert_string_equal(h_jstr(o, "service"), "internet");
    assert_string_equal(h_jstr(o, "started_at_ms"), ms(b, T0));
    assert_string_equal(h_jstr(o, "opened_at_ms"), ms(b, T0 + 50 * MIN));
    assert_string_equal(h_jstr(o, "ownership_unclear"), "true");
    json_object_put(o);
    o = next_of(al, "SlaAlert", "kind", "ALERT_KIND_SEVERE_FAULT", 10000);
    assert_string_equal(h_jstr(o, "alert_id"),
                        "INC-Chongqing|internet|1764044400000/SEVERE_FAULT");
    assert_null(strstr(h_jstr(o, "message"), "超市")); /* never a customer's name */
    json_object_put(o);
    expect_none(inc, 1500); /* exactly one */

    /* confirmctl breaches lists it, with its members. */
    static char out[1 << 16];
    assert_int_equal(h_ctl(env, out, sizeof(out), "breaches --json"), 0);
    json_object *doc = json_tokener_parse(out), *city = NULL;
    assert_non_null(doc);
    assert_true(json_object_object_get_ex(doc, "city_incidents", &city));
    assert_int_equal(json_object_array_length(city), 1);
    json_object *ci = json_object_array_get_idx(city, 0);
    assert_string_equal(h_jstr(ci, "incident_id"), id);
    assert_string_equal(h_jstr(ci, "opened_at_ms"), ms(b, T0 + 50 * MIN));
    json_object *members = NULL;
    assert_true(json_object_object_get_ex(ci, "work_orders", &members));
    assert_int_equal(json_object_array_length(members), 3);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(members, 0)),
                        "WO-C1");
    json_object_put(doc);
    assert_int_equal(h_ctl(env, out, sizeof(out), "breaches"), 0);
    assert_non_null(strstr(out, "1 open city-wide severe faults"));
    assert_non_null(strstr(out, id));
    assert_null(strstr(out, "超市"));

    /* A fourth customer joins. */
    h_send_city_report(env, "WO-C4", "Chongqing", T0 + 52 * MIN);
    o = next_of(inc, "Incident", "incident_id", id, 10000);
    expect_city(o, "INCIDENT_STATUS_UPDATE", "2", 4);
    json_object_put(o);

    /* Restored one by one: closed with the last. */
    const char *orders[] = {"WO-C1", "WO-C2", "WO-C3", "WO-C4"};
    for (int i = 0; i < 4; i++) {
        char eid[32];
        snprintf(eid, sizeof(eid), "%s-res", orders[i]);
        h_send_ms(env, orders[i], eid, T0 + (60 + i) * MIN, "service_restored",
                  "{\"result\":\"RESULT_RESTORED\"}");
    }
    o = next_of(inc, "Incident", "incident_id", id, 10000);
    expect_city(o, "INCIDENT_STATUS_CLOSED", "3", 4);
    assert_string_equal(h_jstr(o, "closed_at_ms"), ms(b, T0 + 63 * MIN));
    json_object_put(o);
    expect_none(inc, 1500);
    h_consume_close(inc);
    h_consume_close(al);
}

/* The city key's state and timer live in Redis with its partition: after SIGKILL of
 * the only worker, its successor opens the incident, once. */
static void test_city_timer_survives_kill(void **state)
{
    h_env *env = *state;
    const char *id = "INC-Wanzhou|internet|1764044400000";
    assert_int_equal(h_set_sim_clock(env, T0), 0);
    pid_t a = h_worker_start(env, h_simulated_clock);
    assert_true(a > 0);
    h_send_city_report(env, "WO-K1", "Wanzhou", T0);
    h_send_city_report(env, "WO-K2", "Wanzhou", T0 + 5 * MIN);
    h_send_city_report(env, "WO-K3", "Wanzhou", T0 + 20 * MIN);
    assert_true(h_wait_zset(env, "ctimers", "Wanzhou|internet") == T0 + 50 * MIN + 1);
    assert_int_equal(h_worker_kill(env, a, SIGKILL), 0);
    assert_true(h_worker_wait_exit(env, a, 5000) >= 0);

    h_consumer *inc = h_consume_open(env, "confirmd.incidents");
    assert_non_null(inc);
    assert_int_equal(h_set_sim_clock(env, T0 + 51 * MIN), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    json_object *o = next_of(inc, "Incident", "incident_id", id, 30000);
    expect_city(o, "INCIDENT_STATUS_OPEN", "1", 3);
    json_object_put(o);
    expect_none(inc, 2000);
    h_consume_close(inc);
}

/* The decoded state of the one key matching pattern ("cfd:*:city:Fuling*"), NULL when
 * there is none. */
static cfd_city_state *stored_city(h_env *env, const char *pattern)
{
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *keys = redisCommand(rc, "KEYS %s", pattern);
    cfd_city_state *st = NULL;
    assert_non_null(keys);
    assert_true(keys->elements <= 1);
    if (keys->elements == 1) {
        char errstr[256];
        redisReply *g = redisCommand(rc, "GET %s", keys->element[0]->str);
        assert_non_null(g);
        assert_int_equal(g->type, REDIS_REPLY_STRING);
        assert_int_equal(
            cfd_codec_city_state_decode(g->str, g->len, &st, errstr, sizeof(errstr)),
            CFD_OK);
        freeReplyObject(g);
    }
    freeReplyObject(keys);
    redisFree(rc);
    return st;
}

/* A busy city: 170 faults of one customer, one every 2 min, each restored within a
 * minute (one customer makes no window, however the partitions' reports interleave).
 * Its reports more than an hour old settle into a part of their own, so each report
 * rewrites a small head; then late reports of two other customers at T0 + 11 and 13 min
 * (and a third at 15), unrestored, are judged with the settled reports of their time:
 * the window starts at the first order, its third customer the one at 13 min, and every
 * later report joins the incident. */
static void test_city_settled_part(void **state)
{
    h_env *env = *state;
    char wo[32], eid[48];
    const int n = 170;
    assert_int_equal(h_set_sim_clock(env, T0), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *inc = h_consume_open(env, "confirmd.incidents");
    assert_non_null(inc);
    for (int i = 0; i < n; i++) {
        snprintf(wo, sizeof(wo), "WO-F%03d", i);
        snprintf(eid, sizeof(eid), "%s-res", wo);
        h_send_city_report_of(env, wo, "K-FULING-1", "Fuling", T0 + 2 * i * MIN);
        h_send_ms(env, wo, eid, T0 + (2 * i + 1) * MIN, "service_restored",
                  "{\"result\":\"RESULT_RESTORED\"}");
    }
    /* Every report applied (the head knows the last restoration, the two parts hold
     * every order; the orders' partitions reach the key in any order) and some
     * settled: read again until a batch is not in between the two reads. */
    cfd_city_state *head = NULL, *settled = NULL;
    for (int tries = 0; tries < 300; tries++) {
        cfd_city_state_destroy(head);
        cfd_city_state_destroy(settled);
        head = stored_city(env, "cfd:*:city:Fuling*");
        settled = stored_city(env, "cfd:*:city-settled:Fuling*");
        if (head && settled && cfd_city_as_of(head) == T0 + (2 * (n - 1) + 1) * MIN &&
            head->n_settled == settled->n_reports &&
            head->n_reports + settled->n_reports == (size_t)n)
            break;
        usleep(100 * 1000);
    }
    assert_non_null(head);
    assert_int_equal(cfd_city_as_of(head), T0 + (2 * (n - 1) + 1) * MIN);
    assert_non_null(settled);
    printf("busy city: %zu reports in its head, %zu settled (%u by the head's count), "
           "settled before %lld min\n",
           head->n_reports, settled->n_reports, head->n_settled,
           (long long)((head->settled_before - T0) / MIN));
    assert_int_equal(head->n_reports + settled->n_reports, n);
    assert_int_equal(head->n_settled, settled->n_reports);
    assert_true(settled->n_reports >= CFD_CITY_SETTLE_AT_LEAST);
    assert_true(head->n_reports < CFD_CITY_SETTLE_AT_LEAST + 40);
    assert_string_equal(settled->reports[0].work_order, "WO-F000");
    assert_false(head->open);
    expect_none(inc, 1000);
    cfd_city_state_destroy(head);
    cfd_city_state_destroy(settled);

    /* Three late reports of T0 + 11, 13 and 15 min, unrestored. Judged on the head
     * alone they would open a window of their own, its third at T0 + 15 min. */
    h_send_city_report(env, "WO-L1", "Fuling", T0 + 11 * MIN);
    h_send_city_report(env, "WO-L2", "Fuling", T0 + 13 * MIN);
    h_send_city_report(env, "WO-L3", "Fuling", T0 + 15 * MIN);
    json_object *o = next_of(inc, "Incident", "incident_id",
                             "INC-Fuling|internet|1764043980000", 20000); /* T0 + 13 min */
    assert_non_null(o);
    assert_string_equal(h_jstr(o, "status"), "INCIDENT_STATUS_OPEN");
    json_object *orders = NULL;
    assert_true(json_object_object_get_ex(o, "work_orders", &orders));
    /* Every report joined, the later late ones too when they came in a batch after. */
    assert_true(json_object_array_length(orders) >= (size_t)n + 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(orders, 0)),
                        "WO-F000");
    char b[32];
    assert_string_equal(h_jstr(o, "started_at_ms"), ms(b, T0));
    json_object_put(o);
    /* Open, the key is whole again: its settled part is gone, the head holds all. */
    for (int tries = 0; tries < 100; tries++) {
        head = stored_city(env, "cfd:*:city:Fuling*");
        if (head && head->n_reports == (size_t)n + 3)
            break;
        cfd_city_state_destroy(head);
        head = NULL;
        usleep(100 * 1000);
    }
    assert_non_null(head);
    assert_true(head->open);
    assert_int_equal(head->n_reports, n + 3);
    assert_int_equal(head->n_settled, 0);
    assert_null(stored_city(env, "cfd:*:city-settled:Fuling*"));
    cfd_city_state_destroy(head);
    h_consume_close(inc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_close_update, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_rental_waits_8h, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_alarm_opened, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_city_incident, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_city_timer_survives_kill, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_city_settled_part, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

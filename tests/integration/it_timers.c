/*
 * Real-time SLA alerting: durable timers fire warnings, breaches and escalations on
 * time for work orders that receive no further event; they survive SIGKILL of the
 * owning worker; a late milestone retracts a breach already sent. Time is the
 * simulated clock (worker.clock=simulated), driven through Redis as
 * `confirmctl clock` does, so hours of SLA time pass in seconds on the same code path
 * that fires timers in production.
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

#define T0 H_T0
#define MIN H_MIN

/* Opens an AAA work order accepted at T0 + 1 min: contact due T0 + 16 min, on site
 * T0 + 61 min, restoration (from the report) T0 + 4 h. */
static void open_order(h_env *env, const char *wo)
{
    char e[64];
    snprintf(e, sizeof(e), "%s-rep", wo);
    h_send_report(env, wo, e, T0, "TIER_AAA", 0); /* not gold: no notification alert */
    snprintf(e, sizeof(e), "%s-acc", wo);
    h_send_ms(env, wo, e, T0 + MIN, "accepted", "{}");
}

/* Waits for the next alert (skipping those not about wo); fails on timeout. */
static json_object *next_alert(h_consumer *c, const char *wo, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    while (h_now_ms() < until) {
        h_msg m;
        if (h_consume(c, 200, &m) != 1)
            continue;
        char errstr[256];
        char *json =
            cfd_pb_to_json("SlaAlert", m.value, m.value_len, errstr, sizeof(errstr));
        h_msg_clear(&m);
        assert_non_null(json);
        json_object *o = json_tokener_parse(json);
        free(json);
        if (strcmp(h_jstr(o, "work_order"), wo) == 0)
            return o;
        json_object_put(o);
    }
    fail_msg("no alert for %s within %d ms", wo, timeout_ms);
    return NULL;
}

static void expect(json_object *a, const char *kind, const char *metric, const char *pct)
{
    assert_non_null(a);
    assert_string_equal(h_jstr(a, "kind"), kind);
    assert_string_equal(h_jstr(a, "metric"), metric);
    assert_string_equal(h_jstr(a, "threshold_pct"), pct);
}

/* With no further event, the warnings and the breach come when the clock passes them,
 * each within a second, then the escalation. */
static void test_fire_on_time(void **state)
{
    h_env *env = *state;
    assert_int_equal(h_set_sim_clock(env, T0 + MIN), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *c = h_consume_open(env, "confirmd.alerts");
    open_order(env, "WO-T1");
    h_wait_timer(env, "WO-T1");

    /* 50 % of the 15 min contact duty: T0 + 1 min + 7.5 min. */
    assert_int_equal(h_set_sim_clock(env, T0 + MIN + 7 * MIN), 0);
    int64_t t;
    h_msg none;
    assert_int_equal(h_consume(c, 1500, &none), 0); /* nothing is due yet */
    assert_int_equal(h_set_sim_clock(env, T0 + MIN + 8 * MIN), 0);
    t = h_now_ms();
    json_object *a = next_alert(c, "WO-T1", 5000);
    int64_t lateness = h_now_ms() - t;
    expect(a, "ALERT_KIND_WARNING", "METRIC_CONTACT", "50");
    assert_string_equal(h_jstr(a, "recipients"), "RECIPIENT_ENGINEER");
    json_object_put(a);
    printf("warning fired %lld ms after the clock passed its due time\n",
           (long long)lateness);
    assert_true(lateness <= 1000);

    /* Past the deadline: the 80 % warning is overtaken, only the breach goes out. */
    assert_int_equal(h_set_sim_clock(env, T0 + 17 * MIN), 0);
    t = h_now_ms();
    a = next_alert(c, "WO-T1", 5000);
    lateness = h_now_ms() - t;
    expect(a, "ALERT_KIND_BREACH", "METRIC_CONTACT", "100");
    assert_string_equal(h_jstr(a, "alert_id"), "WO-T1/METRIC_CONTACT/100");
    /* Each step one level higher: the breach is the third, whatever was overtaken. */
    assert_string_equal(h_jstr(a, "recipients"), "RECIPIENT_DEPARTMENT_LEADER");
    char deadline[32];
    snprintf(deadline, sizeof(deadline), "%lld", (long long)(T0 + 16 * MIN));
    assert_string_equal(h_jstr(a, "deadline_ms"), deadline);
    json_object_put(a);
    printf("breach fired %lld ms after the clock passed its due time\n",
           (long long)lateness);
    assert_true(lateness <= 1000);

    /* 30 min after the breach: escalation to the NOC duty manager, the top. */
    assert_int_equal(h_set_sim_clock(env, T0 + 47 * MIN), 0);
    a = next_alert(c, "WO-T1", 5000);
    expect(a, "ALERT_KIND_ESCALATION", "METRIC_CONTACT", "101");
    assert_string_equal(h_jstr(a, "recipients"), "RECIPIENT_NOC_DUTY_MANAGER");
    json_object_put(a);
    h_consume_close(c);
}

/* The timers live in Redis with the partition: after SIGKILL of the owner, the worker
 * that takes the partition over fires them. */
static void test_survive_kill(void **state)
{
    h_env *env = *state;
    assert_int_equal(h_set_sim_clock(env, T0 + MIN), 0);
    pid_t a = h_worker_start(env, h_simulated_clock);
    assert_true(a > 0);
    open_order(env, "WO-T2");
    h_wait_timer(env, "WO-T2");
    assert_int_equal(h_worker_kill(env, a, SIGKILL), 0);
    assert_true(h_worker_wait_exit(env, a, 5000) >= 0);

    pid_t b = h_worker_start(env, h_simulated_clock);
    assert_true(b > 0);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 1), "claimed", 30000), 0);
    h_consumer *c = h_consume_open(env, "confirmd.alerts");
    assert_int_equal(h_set_sim_clock(env, T0 + 17 * MIN), 0);
    json_object *al = next_alert(c, "WO-T2", 20000);
    expect(al, "ALERT_KIND_BREACH", "METRIC_CONTACT", "100");
    json_object_put(al);
    h_consume_close(c);
    /* It was the new owner that fired it. */
    assert_int_equal(
        h_wait_file_contains(h_worker_log_path(env, 1),
                             "alert ALERT_KIND_BREACH METRIC_CONTACT for WO-T2", 5000),
        0);
}

/* A late milestone showing the duty was met in time retracts the breach, under the
 * same alert id; the timer then has nothing more to fire for that duty. */
static void test_retraction(void **state)
{
    h_env *env = *state;
    assert_int_equal(h_set_sim_clock(env, T0 + MIN), 0);
    assert_true(h_worker_start(env, h_simulated_clock) > 0);
    h_consumer *c = h_consume_open(env, "confirmd.alerts");
    open_order(env, "WO-T3");
    h_wait_timer(env, "WO-T3");
    assert_int_equal(h_set_sim_clock(env, T0 + 17 * MIN), 0);
    json_object *a = next_alert(c, "WO-T3", 5000);
    expect(a, "ALERT_KIND_BREACH", "METRIC_CONTACT", "100");
    json_object_put(a);

    /* The field app was offline: the customer had been called at T0 + 10 min. */
    h_send_ms(env, "WO-T3", "WO-T3-con", T0 + 10 * MIN, "customer_contacted", "{}");
    a = next_alert(c, "WO-T3", 10000);
    expect(a, "ALERT_KIND_RETRACTED", "METRIC_CONTACT", "100");
    assert_string_equal(h_jstr(a, "alert_id"), "WO-T3/METRIC_CONTACT/100");
    json_object_put(a);

    /* Long after: the contact duty escalates no more; the on-site one breaches. */
    assert_int_equal(h_set_sim_clock(env, T0 + 62 * MIN), 0);
    a = next_alert(c, "WO-T3", 5000);
    assert_string_equal(h_jstr(a, "metric"), "METRIC_ON_SITE");
    json_object_put(a);
    h_consume_close(c);
}

/* A stored state that does not decode is never dropped by the timer path: the worker
 * logs it, stops (exit status 1) and leaves the state and its timer for an operator,
 * as the event path does. */
static void test_unreadable_state_stops(void **state)
{
    h_env *env = *state;
    assert_int_equal(h_set_sim_clock(env, T0 + MIN), 0);
    pid_t w = h_worker_start(env, h_simulated_clock);
    assert_true(w > 0);
    open_order(env, "WO-T4");
    int64_t due = h_wait_timer(env, "WO-T4");
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);

    /* Bytes that are no WorkOrderState, then the clock past the timer's instant. */
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    static const char corrupt[] =
        "local ks = redis.call('KEYS', 'cfd:*:wo:' .. ARGV[1]) "
        "for _, k in ipairs(ks) do redis.call('SET', k, ARGV[2]) end return #ks";
    redisReply *r =
        redisCommand(rc, "EVAL %s 0 %s %b", corrupt, "WO-T4", "\xff\xff\x01", (size_t)3);
    assert_non_null(r);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    assert_int_equal(h_set_sim_clock(env, due + MIN), 0);

    w = h_worker_start(env, h_simulated_clock);
    assert_true(w > 0);
    assert_int_equal(h_worker_wait_exit(env, w, 30000), 1);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 1),
                                          "work order WO-T4: stored state unreadable",
                                          1000),
                     0);
    /* Left as it was: the timer still due, the bytes untouched. */
    assert_int_equal(h_wait_timer(env, "WO-T4"), due);
    r = redisCommand(rc, "EVAL %s 0 %s",
                     "local ks = redis.call('KEYS', 'cfd:*:wo:' .. "
                     "ARGV[1]) return redis.call('GET', ks[1])",
                     "WO-T4");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_memory_equal(r->str, "\xff\xff\x01", 3);
    freeReplyObject(r);
    redisFree(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fire_on_time, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_survive_kill, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_retraction, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_unreadable_state_stops, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

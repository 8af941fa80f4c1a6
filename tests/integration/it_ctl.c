/*
 * confirmctl's views of the store (show, open, ...) against a real redis-server that a
 * worker filled from the embedded broker, on the simulated clock: the right orders,
 * deadlines, time left, verdicts and points, and no customer data unless asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/frame.h"
#include "harness_events.h"
#include "harness_orders.h"

#define T0 H_T0 /* 2025-11-25T12:00:00+08:00 */
#define MIN H_MIN

/* h_ctl() with printf-style ARGS. @returns its exit status. */
static int ctl(h_env *env, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ctl(h_env *env, char *out, size_t n, const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    return h_ctl(env, out, n, args);
}

/* confirmctl ARGS --json, parsed; fails the test unless it exits 0 with JSON. */
static json_object *ctl_json(h_env *env, const char *args)
{
    static char out[1 << 20];
    assert_int_equal(ctl(env, out, sizeof(out), "%s --json", args), 0);
    json_object *o = json_tokener_parse(out);
    if (!o)
        fail_msg("confirmctl %s --json printed '%s'", args, out);
    return o;
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v;
    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_string(v);
}

/* The duty of metric in a show --json document. */
static json_object *duty(json_object *doc, const char *metric)
{
    json_object *arr;
    assert_true(json_object_object_get_ex(doc, "duties", &arr));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *d = json_object_array_get_idx(arr, i);
        if (strcmp(jstr(d, "metric"), metric) == 0)
            return d;
    }
    fail_msg("no duty %s", metric);
    return NULL;
}

static void assert_no_customer_data(const char *out)
{
    assert_null(strstr(out, H_CUSTOMER_NAME));
    assert_null(strstr(out, H_CUSTOMER_CONTACT));
    assert_null(strstr(out, H_CUSTOMER_PHONE));
    assert_null(strstr(out, H_CUSTOMER_ADDRESS));
}

static void test_show(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    h_ctl_feed(env);
    assert_int_equal(h_set_sim_clock(env, T0 + 20 * MIN), 0);

    /* Text: the duties at the simulated clock, no customer data. */
    assert_int_equal(ctl(env, out, sizeof(out), "show WO-C1"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "METRIC_CONTACT           MET             "
                                "2025-11-25T12:16:00+08:00"));
    assert_non_null(strstr(out, "METRIC_ON_SITE           RUNNING         "
                                "2025-11-25T13:01:00+08:00  41m00s"));
    assert_non_null(strstr(out, "METRIC_RESTORATION       PAUSED"));
    assert_non_null(strstr(out, "contractor    Acme Maintenance"));
    assert_non_null(strstr(out, "2025-11-25T12:05:00+08:00  MILESTONE_CUSTOMER_CONTACTED"));
    assert_no_customer_data(out);

    /* --explain: the pause with its reason and evidence, the start and why. */
    assert_int_equal(ctl(env, out, sizeof(out), "show --explain WO-C1"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "pause      2025-11-25T12:10:00+08:00 -> (open)  "
                                "PAUSE_CUSTOMER, pause p1"));
    assert_non_null(strstr(out, "evidence \"customer asked to wait, ticket T-99\""));
    assert_non_null(strstr(out, "at the acceptance (tier limits count from 受理)"));
    assert_no_customer_data(out);

    /* --customer shows them on purpose. */
    assert_int_equal(ctl(env, out, sizeof(out), "show --customer WO-C1"), 0);
    assert_non_null(strstr(out, H_CUSTOMER_NAME));
    assert_non_null(strstr(out, H_CUSTOMER_PHONE));

    /* JSON: the restoration deadline moves on with the open pause (10 min of it). */
    json_object *doc = ctl_json(env, "show --explain WO-C1");
    const char *text = json_object_to_json_string(doc);
    assert_no_customer_data(text);
    assert_int_equal(jint(doc, "now_ms"), T0 + 20 * MIN);
    json_object *d = duty(doc, "METRIC_ON_SITE");
    assert_string_equal(jstr(d, "state"), "RUNNING");
    assert_int_equal(jint(d, "deadline_ms"), T0 + 61 * MIN);
    assert_int_equal(jint(d, "left_ms"), 41 * MIN);
    d = duty(doc, "METRIC_RESTORATION");
    assert_string_equal(jstr(d, "state"), "PAUSED");
    assert_int_equal(jint(d, "deadline_ms"), T0 + 4 * 60 * MIN + 10 * MIN);
    assert_int_equal(jint(d, "paused_ms"), 10 * MIN);
    json_object_put(doc);

    /* The closed order: the late arrival, its verdict and its points. */
    doc = ctl_json(env, "show --explain WO-C3");
    d = duty(doc, "METRIC_ON_SITE");
    assert_string_equal(jstr(d, "state"), "MET_LATE");
    assert_int_equal(jint(d, "deadline_ms"), T0 + 61 * MIN);
    assert_int_equal(jint(d, "actual_ms"), T0 + 91 * MIN);
    assert_int_equal(jint(d, "points"), 15);
    json_object *viol;
    assert_true(json_object_object_get_ex(d, "violations", &viol));
    assert_int_equal(json_object_array_length(viol), 1);
    assert_string_equal(jstr(json_object_array_get_idx(viol, 0), "code"),
                        "VIOLATION_LATE_ARRIVAL");
    json_object_put(doc);

    /* Later: WO-C2's contact deadline passed with no event: overdue at the clock. */
    assert_int_equal(h_set_sim_clock(env, T0 + 40 * MIN), 0);
    doc = ctl_json(env, "show WO-C2");
    d = duty(doc, "METRIC_CONTACT");
    assert_string_equal(jstr(d, "state"), "OVERDUE");
    assert_int_equal(jint(d, "left_ms"), -9 * MIN);
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "show WO-NONE"), 1);
    assert_int_equal(ctl(env, out, sizeof(out), "show --help"), 0);
    assert_non_null(strstr(out, "--explain"));
}

/* The open orders, most urgent first, with their timers; filters; closed ones left out. */
static void test_open(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    h_ctl_feed(env);
    assert_int_equal(h_set_sim_clock(env, T0 + 20 * MIN), 0);
    int64_t c1_next = h_wait_timer_after(env, "WO-C1", T0 + 20 * MIN);
    int64_t c2_next = h_wait_timer_after(env, "WO-C2", T0 + 20 * MIN);

    json_object *doc = ctl_json(env, "open");
    json_object *arr;
    assert_true(json_object_object_get_ex(doc, "open", &arr));
    assert_int_equal(json_object_array_length(arr), 2);
    json_object *first = json_object_array_get_idx(arr, 0);
    json_object *second = json_object_array_get_idx(arr, 1);
    /* WO-C2's contact (T0 + 31 min) comes before WO-C1's arrival (T0 + 61 min). */
    h_assert_next_duty(first, "WO-C2", "METRIC_CONTACT", T0 + 31 * MIN, 11 * MIN, c2_next);
    assert_string_equal(jstr(second, "work_order"), "WO-C1");
    assert_string_equal(jstr(second, "metric"), "METRIC_ON_SITE");
    assert_int_equal(jint(second, "deadline_ms"), T0 + 61 * MIN);
    assert_int_equal(jint(second, "next_sla_ms"), c1_next);
    assert_string_equal(jstr(second, "contractor"), "Acme Maintenance");
    json_object_put(doc);

    doc = ctl_json(env, "open --tier AA");
    assert_true(json_object_object_get_ex(doc, "open", &arr));
    assert_int_equal(json_object_array_length(arr), 1);
    assert_string_equal(jstr(json_object_array_get_idx(arr, 0), "work_order"), "WO-C2");
    json_object_put(doc);
    doc = ctl_json(env, "open --contractor 'Acme Maintenance' --city Chongqing");
    assert_true(json_object_object_get_ex(doc, "open", &arr));
    assert_int_equal(json_object_array_length(arr), 1);
    assert_string_equal(jstr(json_object_array_get_idx(arr, 0), "work_order"), "WO-C1");
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "open"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "2 open work orders at 2025-11-25T12:20:00+08:00"));
    char *c2 = strstr(out, "WO-C2"), *c1 = strstr(out, "WO-C1");
    assert_true(c2 && c1 && c2 < c1);
    assert_null(strstr(out, "WO-C3"));
    assert_no_customer_data(out);
}

/* The element of array key whose work_order is wo and, when metric is not NULL, whose
 * metric is metric; fails the test when there is none. */
static json_object *row_of(json_object *doc, const char *key, const char *wo,
                           const char *metric)
{
    json_object *arr;
    assert_true(json_object_object_get_ex(doc, key, &arr));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *m;
        if (strcmp(jstr(e, "work_order"), wo) == 0 &&
            (!metric || (json_object_object_get_ex(e, "metric", &m) &&
                         strcmp(json_object_get_string(m), metric) == 0)))
            return e;
    }
    fail_msg("no %s of %s %s", key, wo, metric ? metric : "");
    return NULL;
}

static size_t count_of(json_object *doc, const char *key)
{
    json_object *arr;
    assert_true(json_object_object_get_ex(doc, key, &arr));
    return json_object_array_length(arr);
}

/* Breaches of open orders at the clock, with the alerts the worker sent for them. */
static void test_breaches(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    h_ctl_feed(env);

    /* T0 + 40 min: WO-C2's contact (due T0 + 31 min) is overdue; the worker sent the
     * breach. WO-C3's late arrival is a closed order's: not current. */
    assert_int_equal(h_set_sim_clock(env, T0 + 40 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 40 * MIN);
    json_object *doc = ctl_json(env, "breaches");
    assert_int_equal(count_of(doc, "breaches"), 1);
    json_object *b = row_of(doc, "breaches", "WO-C2", "METRIC_CONTACT");
    assert_string_equal(jstr(b, "kind"), "OVERDUE");
    assert_int_equal(jint(b, "deadline_ms"), T0 + 31 * MIN);
    assert_int_equal(jint(b, "late_ms"), 9 * MIN);
    assert_string_equal(jstr(b, "last_alert"), "BREACH");
    assert_string_equal(jstr(b, "last_recipient"), "RECIPIENT_DEPARTMENT_LEADER");
    assert_int_equal(jint(b, "next_escalation_ms"), T0 + 61 * MIN + 1);
    json_object_put(doc);

    /* T0 + 62 min: WO-C2 escalated to the top of the chain; WO-C1 missed its arrival. */
    assert_int_equal(h_set_sim_clock(env, T0 + 62 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 62 * MIN);
    h_wait_timer_after(env, "WO-C1", T0 + 62 * MIN);
    doc = ctl_json(env, "breaches");
    assert_int_equal(count_of(doc, "breaches"), 2);
    json_object *arr;
    assert_true(json_object_object_get_ex(doc, "breaches", &arr));
    assert_string_equal(jstr(json_object_array_get_idx(arr, 0), "work_order"), "WO-C2");
    b = row_of(doc, "breaches", "WO-C2", "METRIC_CONTACT");
    assert_string_equal(jstr(b, "last_alert"), "ESCALATION_1");
    assert_string_equal(jstr(b, "last_recipient"), "RECIPIENT_NOC_DUTY_MANAGER");
    assert_int_equal(jint(b, "next_escalation_ms"), 0);
    b = row_of(doc, "breaches", "WO-C1", "METRIC_ON_SITE");
    assert_string_equal(jstr(b, "kind"), "OVERDUE");
    assert_int_equal(jint(b, "late_ms"), MIN);
    assert_string_equal(jstr(b, "last_alert"), "BREACH");
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "breaches"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "2 breaches and escalations of open work orders at "
                                "2025-11-25T13:02:00+08:00"));
    assert_non_null(strstr(out, "ESCALATION_1 to RECIPIENT_NOC_DUTY_MANAGER"));
    assert_no_customer_data(out);
}

/* The month's points per contractor and per item, from the records. */
static void test_assessment(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    h_ctl_feed(env);

    /* WO-C3: the late arrival (15) and two items missing when it closed (5 each). */
    json_object *doc = ctl_json(env, "assessment --month 2025-11");
    assert_int_equal(jint(doc, "points"), 25);
    assert_int_equal(count_of(doc, "contractors"), 1);
    json_object *arr, *c, *items, *late, *list;
    assert_true(json_object_object_get_ex(doc, "contractors", &arr));
    c = json_object_array_get_idx(arr, 0);
    assert_string_equal(jstr(c, "contractor"), "Acme Maintenance");
    assert_int_equal(jint(c, "points"), 25);
    assert_int_equal(jint(c, "records"), 1);
    assert_true(json_object_object_get_ex(c, "items", &items));
    assert_true(json_object_object_get_ex(items, "VIOLATION_LATE_ARRIVAL", &late));
    assert_int_equal(jint(late, "count"), 1);
    assert_int_equal(jint(late, "points"), 15);
    assert_true(json_object_object_get_ex(items, "VIOLATION_NONCONFORMING_RECORD", &late));
    assert_int_equal(jint(late, "count"), 2);
    assert_int_equal(jint(late, "points"), 10);
    assert_true(json_object_object_get_ex(c, "violation_list", &list));
    assert_int_equal(json_object_array_length(list), 3);
    json_object *v = json_object_array_get_idx(list, 0);
    assert_string_equal(jstr(v, "work_order"), "WO-C3");
    assert_string_equal(jstr(v, "code"), "VIOLATION_LATE_ARRIVAL");
    assert_int_equal(jint(v, "at_ms"), T0 + 61 * MIN);
    assert_string_equal(jstr(v, "detail"), "on site 30 min after the deadline");
    json_object_put(doc);

    doc = ctl_json(env, "assessment --month 2025-12");
    assert_int_equal(jint(doc, "points"), 0);
    assert_int_equal(count_of(doc, "contractors"), 0);
    json_object_put(doc);
    doc = ctl_json(env, "assessment --month 2025-11 --contractor Other");
    assert_int_equal(count_of(doc, "contractors"), 0);
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "assessment --month 2025-11"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "Acme Maintenance: 25 points, 3 violations in 1 records"));
    assert_non_null(strstr(out, "VIOLATION_LATE_ARRIVAL                1 x     15 points"));
    assert_non_null(strstr(out, "VIOLATION_NONCONFORMING_RECORD        2 x     10 points"));
    assert_non_null(strstr(out, "closed without engineer_signature"));
    assert_non_null(strstr(out, "assessment 2025-11: 1 contractors, 25 points"));
    assert_int_equal(ctl(env, out, sizeof(out), "assessment --month 2025-13"), 2);
    assert_int_equal(ctl(env, out, sizeof(out), "assessment"), 2);
}

/* Nothing waits once the worker delivered; an output left by a worker that died before
 * its delivery report is listed with its partition, kind and key. */
static void test_outbox(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    pid_t w = h_ctl_feed(env);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);

    json_object *doc = ctl_json(env, "outbox");
    assert_int_equal(jint(doc, "total"), 0);
    assert_int_equal(count_of(doc, "partitions"), 8);
    json_object_put(doc);

    size_t len;
    void *frame = cfd_frame_output(CFD_OUT_ALERT, "WO-C2", "0123456789", 10, &len);
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *r = redisCommand(
        rc, "HSET cfd:{p5}:outbox alert/WO-C2/METRIC_CONTACT/100 %b", frame, len);
    assert_non_null(r);
    freeReplyObject(r);
    redisFree(rc);
    free(frame);

    doc = ctl_json(env, "outbox");
    assert_int_equal(jint(doc, "total"), 1);
    json_object *parts, *p5, *outs, *o;
    assert_true(json_object_object_get_ex(doc, "partitions", &parts));
    p5 = json_object_array_get_idx(parts, 5);
    assert_int_equal(jint(p5, "outbox"), 1);
    assert_true(jint(p5, "epoch") > 0);
    assert_true(json_object_object_get_ex(p5, "outputs", &outs));
    assert_int_equal(json_object_array_length(outs), 1);
    o = json_object_array_get_idx(outs, 0);
    assert_string_equal(jstr(o, "id"), "alert/WO-C2/METRIC_CONTACT/100");
    assert_string_equal(jstr(o, "kind"), "alert");
    assert_string_equal(jstr(o, "key"), "WO-C2");
    assert_int_equal(jint(o, "bytes"), 10);
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "outbox"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "partition   5       1 waiting"));
    assert_non_null(strstr(out, "1 outputs waiting in 8 partitions"));
}

/* Caught up: no lag; events the stopped worker has not applied: the lag of their
 * partition. */
static void test_lag(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    char args[256];
    pid_t w = h_ctl_feed(env);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    snprintf(args, sizeof(args), "lag -b %s", h_bootstrap(env));

    json_object *doc = ctl_json(env, args);
    assert_int_equal(jint(doc, "total"), 0);
    json_object_put(doc);

    doc = ctl_json(env, "show WO-C2");
    int64_t part = jint(doc, "partition");
    json_object_put(doc);
    h_send_ms(env, "WO-C2", "c2-dis", T0 + 2 * MIN, "dispatched", "{}");
    h_send_ms(env, "WO-C2", "c2-con", T0 + 3 * MIN, "customer_contacted", "{}");

    doc = ctl_json(env, args);
    assert_int_equal(jint(doc, "total"), 2);
    json_object *arr;
    assert_true(json_object_object_get_ex(doc, "partitions", &arr));
    bool seen = false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (strcmp(jstr(e, "topic"), "confirmd.events") != 0 ||
            jint(e, "partition") != part)
            continue;
        assert_int_equal(jint(e, "lag"), 2);
        assert_int_equal(jint(e, "high_watermark"), jint(e, "applied") + 3);
        seen = true;
    }
    assert_true(seen);
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "%s", args), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "total lag 2"));
}

int main(int argc, char **argv)
{
    /* A test's name as the argument runs that test alone. */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_show, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_open, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_breaches, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_assessment, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_outbox, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_lag, h_setup_redis_broker, h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * One SLA duty at the worker's clock (src/domain/duty.c): its state then, the time
 * left, the deadline an open pause pushes on, and the audit trail's pauses and points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/due.h"
#include "confirmd/duty.h"
#include "domain_fixture.h"

#define MIN (60LL * 1000)
#define T0 1764043200000LL

static void apply(cfd_record *rec, const cfd_policy *pol, cfd_event ev)
{
    char errstr[128];
    cfd_apply_outcome out;
    assert_int_equal(cfd_record_apply(rec, &ev, pol, &out, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(out, CFD_APPLY_CHANGED);
}

/* An AAA order reported at T0, accepted at T0 + 1 min (contact due T0 + 16 min, on
 * site T0 + 61 min, restoration T0 + 4 h); contacted at contacted_at when not 0; a
 * customer's pause of the restoration from T0 + 30 min when paused. */
static cfd_record *aaa_order(const cfd_policy *pol, int64_t contacted_at, bool paused)
{
    cfd_event pau = fx_event("e4", "WO-1", CFD_MS_CLOCK_PAUSED, T0 + 30 * MIN);
    pau.pause.pause_id = "p1";
    pau.pause.reason = CFD_PAUSE_CUSTOMER;
    pau.pause.evidence = "call log 10:32";
    cfd_record *rec = cfd_record_new();
    apply(rec, pol, fx_report("e1", "WO-1", T0, CFD_TIER_AAA, 0));
    apply(rec, pol, fx_event("e2", "WO-1", CFD_MS_ACCEPTED, T0 + MIN));
    if (contacted_at)
        apply(rec, pol, fx_event("e3", "WO-1", CFD_MS_CUSTOMER_CONTACTED, contacted_at));
    if (paused)
        apply(rec, pol, pau);
    return rec;
}

typedef struct duty_case {
    const char *name;
    int64_t contacted_at; /* 0: not yet */
    bool paused;
    cfd_metric metric;
    int64_t now;
    cfd_duty_state state;
    int64_t deadline;
    int64_t left;
    int32_t points;
    size_t n_pauses;
} duty_case;

static const duty_case cases[] = {
    {"contact running: 6 min left", 0, false, CFD_METRIC_CONTACT, T0 + 10 * MIN,
     CFD_DUTY_RUNNING, T0 + 16 * MIN, 6 * MIN, 0, 0},
    {"contact at its deadline: still running", 0, false, CFD_METRIC_CONTACT, T0 + 16 * MIN,
     CFD_DUTY_RUNNING, T0 + 16 * MIN, 0, 0, 0},
    {"contact past its deadline with no event: overdue at the clock", 0, false,
     CFD_METRIC_CONTACT, T0 + 20 * MIN, CFD_DUTY_OVERDUE, T0 + 16 * MIN, -4 * MIN, 0, 0},
    {"contact made in time: met, whatever the clock", T0 + 10 * MIN, false,
     CFD_METRIC_CONTACT, T0 + 5 * 60 * MIN, CFD_DUTY_MET, T0 + 16 * MIN, 0, 0, 0},
    {"contact made late: met late", T0 + 20 * MIN, false, CFD_METRIC_CONTACT, T0 + 30 * MIN,
     CFD_DUTY_MET_LATE, T0 + 16 * MIN, 0, 0, 0},
    {"on site overdue at the clock", 0, false, CFD_METRIC_ON_SITE, T0 + 70 * MIN,
     CFD_DUTY_OVERDUE, T0 + 61 * MIN, -9 * MIN, 0, 0},
    {"restoration paused by the customer: the deadline moves with the clock", 0, true,
     CFD_METRIC_RESTORATION, T0 + 90 * MIN, CFD_DUTY_PAUSED, T0 + 4 * 60 * MIN + 60 * MIN,
     4 * 60 * MIN - 30 * MIN, 0, 1},
    {"the pause does not stop the contact clock", 0, true, CFD_METRIC_CONTACT,
     T0 + 35 * MIN, CFD_DUTY_OVERDUE, T0 + 16 * MIN, -19 * MIN, 0, 0},
    {"cause: no arrival, pending", 0, false, CFD_METRIC_CAUSE_IDENTIFIED, T0 + 10 * MIN,
     CFD_DUTY_PENDING, 0, 0, 0, 0},
    {"a clock earlier than the latest event: judged at the event", T0 + 20 * MIN, false,
     CFD_METRIC_ON_SITE, T0, CFD_DUTY_RUNNING, T0 + 61 * MIN, 41 * MIN, 0, 0},
};

static void test_cases(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const duty_case *c = &cases[i];
        cfd_record *rec = aaa_order(&pol, c->contacted_at, c->paused);
        cfd_duty d;
        cfd_duty_judge(rec, &pol, c->metric, c->now, &d);
        printf("%s\n", c->name);
        assert_string_equal(cfd_duty_state_name(d.state), cfd_duty_state_name(c->state));
        assert_int_equal(d.deadline_ms, c->deadline);
        assert_int_equal(d.left_ms, c->left);
        assert_int_equal(d.points, c->points);
        assert_int_equal(d.n_pauses, c->n_pauses);
        assert_non_null(d.rule);
        cfd_record_destroy(rec);
    }
}

/* The pause is told with its reason and evidence; the wait it caused is counted. */
static void test_pause_trail(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_record *rec = aaa_order(&pol, T0 + 5 * MIN, true);
    cfd_duty d;
    cfd_duty_judge(rec, &pol, CFD_METRIC_RESTORATION, T0 + 50 * MIN, &d);
    assert_int_equal(d.n_pauses, 1);
    assert_int_equal(d.pauses[0].start_ms, T0 + 30 * MIN);
    assert_int_equal(d.pauses[0].end_ms, 0);
    assert_non_null(d.pauses[0].pause);
    assert_int_equal(d.pauses[0].pause->reason, CFD_PAUSE_CUSTOMER);
    assert_string_equal(d.pauses[0].pause->evidence, "call log 10:32");
    assert_int_equal(d.paused_ms, 20 * MIN);
    assert_string_equal(d.start_why,
                        "the fault report (before any alarm: whichever came first)");
    cfd_duty_judge(rec, &pol, CFD_METRIC_CONTACT, T0 + 50 * MIN, &d);
    assert_string_equal(d.start_why, "the acceptance (tier limits count from 受理)");
    cfd_record_destroy(rec);
}

/* A late arrival's points belong to the on-site duty. */
static void test_points(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_record *rec = aaa_order(&pol, T0 + 5 * MIN, false);
    apply(rec, &pol, fx_event("e5", "WO-1", CFD_MS_ARRIVED_ON_SITE, T0 + 90 * MIN));
    cfd_duty d;
    cfd_duty_judge(rec, &pol, CFD_METRIC_ON_SITE, T0 + 100 * MIN, &d);
    assert_int_equal(d.state, CFD_DUTY_MET_LATE);
    assert_true(cfd_duty_is_breach(d.state));
    assert_int_equal(d.actual_ms, T0 + 90 * MIN);
    assert_int_equal(d.points, pol.points.late_arrival);
    cfd_duty_judge(rec, &pol, CFD_METRIC_CONTACT, T0 + 100 * MIN, &d);
    assert_int_equal(d.points, 0);
    assert_false(cfd_duty_is_breach(d.state));
    cfd_record_destroy(rec);
}

/* The steps the worker sent (as cfd_due_collect marks them) and the next escalation. */
static void test_escalation(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_alert alerts[8];
    cfd_duty d;
    cfd_policy_defaults(&pol);
    cfd_record *rec = aaa_order(&pol, 0, false);
    const int64_t deadline = T0 + 16 * MIN;

    cfd_duty_judge(rec, &pol, CFD_METRIC_CONTACT, T0 + 10 * MIN, &d);
    assert_int_equal(d.last_step, -1);
    assert_int_equal(d.next_escalation_ms, 0);
    assert_true(cfd_due_collect(rec, &pol, T0 + 17 * MIN, alerts, 8) > 0);
    cfd_duty_judge(rec, &pol, CFD_METRIC_CONTACT, T0 + 20 * MIN, &d);
    assert_int_equal(d.state, CFD_DUTY_OVERDUE);
    assert_int_equal(d.last_step, CFD_STEP_BREACH);
    assert_int_equal(d.last_recipient, CFD_RECIPIENT_DEPARTMENT_LEADER);
    assert_int_equal(d.next_escalation_ms, deadline + 1 + pol.escalation_ms);
    assert_true(cfd_due_collect(rec, &pol, deadline + 1 + pol.escalation_ms, alerts, 8) >
                0);
    cfd_duty_judge(rec, &pol, CFD_METRIC_CONTACT, T0 + 60 * MIN, &d);
    assert_int_equal(d.last_step, CFD_STEP_BREACH + 1);
    assert_int_equal(d.last_recipient, CFD_RECIPIENT_NOC_DUTY_MANAGER);
    assert_int_equal(d.next_escalation_ms, 0); /* the top of the chain */
    assert_false(d.retracted);
    cfd_record_destroy(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_pause_trail),
        cmocka_unit_test(test_points),
        cmocka_unit_test(test_escalation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

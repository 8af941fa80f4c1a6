/*
 * Time-driven SLA alerts (src/domain/due.c): which alert is due when, to whom, and
 * the next instant the worker's timer must wake for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/due.h"

#define MIN (60LL * 1000)
#define T0 1764043200000LL

/* An AAA order reported at T0 and accepted at T0 + 1 min: contact due T0 + 16 min,
 * on site T0 + 61 min, restoration T0 + 4 h. With contacted_at, the call is made. */
static cfd_record *aaa_order(const cfd_policy *pol, int64_t contacted_at)
{
    char errstr[128];
    cfd_apply_outcome out;
    cfd_event rep = {.event_id = "e1",
                     .work_order = "WO-1",
                     .event_time_ms = T0,
                     .kind = CFD_MS_REPORTED};
    rep.report.customer.tier = CFD_TIER_AAA;
    rep.report.circuit_id = "CQ-1";
    cfd_event acc = {.event_id = "e2",
                     .work_order = "WO-1",
                     .event_time_ms = T0 + MIN,
                     .kind = CFD_MS_ACCEPTED};
    cfd_event con = {.event_id = "e3",
                     .work_order = "WO-1",
                     .event_time_ms = contacted_at,
                     .kind = CFD_MS_CUSTOMER_CONTACTED};
    cfd_record *rec = cfd_record_new();
    assert_int_equal(cfd_record_apply(rec, &rep, pol, &out, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_int_equal(cfd_record_apply(rec, &acc, pol, &out, errstr, sizeof(errstr)),
                     CFD_OK);
    if (contacted_at)
        assert_int_equal(cfd_record_apply(rec, &con, pol, &out, errstr, sizeof(errstr)),
                         CFD_OK);
    return rec;
}

typedef struct due_case {
    const char *name;
    int64_t now;         /* when the timer fires */
    cfd_alert_kind kind; /* first alert expected, NONE for none */
    cfd_metric metric;
    int32_t pct;
    cfd_recipient to;
    int64_t next_after; /* cfd_due_next after collecting */
} due_case;

static const due_case cases[] = {
    {"before the first warning: nothing", T0 + 8 * MIN, CFD_ALERT_NONE, 0, 0, 0,
     T0 + MIN + 7 * MIN + 30000},
    {"contact 50 % at 7.5 min after acceptance", T0 + 9 * MIN, CFD_ALERT_WARNING,
     CFD_METRIC_CONTACT, 50, CFD_RECIPIENT_ENGINEER, T0 + MIN + 12 * MIN},
    {"contact 80 % at 12 min", T0 + 14 * MIN, CFD_ALERT_WARNING, CFD_METRIC_CONTACT, 50,
     CFD_RECIPIENT_ENGINEER, T0 + 16 * MIN + 1},
    {"at the deadline itself: met, nothing new beyond warnings", T0 + 16 * MIN,
     CFD_ALERT_WARNING, CFD_METRIC_CONTACT, 50, CFD_RECIPIENT_ENGINEER, T0 + 16 * MIN + 1},
    {"after the deadline: breach to the department leader, warnings skipped", T0 + 17 * MIN,
     CFD_ALERT_BREACH, CFD_METRIC_CONTACT, 100, CFD_RECIPIENT_DEPARTMENT_LEADER,
     T0 + 31 * MIN /* the on-site duty's 50 % comes before the escalation */},
    {"31 min after: breach and escalation together", T0 + 47 * MIN, CFD_ALERT_BREACH,
     CFD_METRIC_CONTACT, 100, CFD_RECIPIENT_DEPARTMENT_LEADER,
     T0 + 49 * MIN /* on-site 80 % */},
};

/* Each case collects once at its instant; checks the first alert and the next timer. */
static void test_due_table(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const due_case *c = &cases[i];
        cfd_record *rec = aaa_order(&pol, 0);
        cfd_alert out[16];
        size_t n = cfd_due_collect(rec, &pol, c->now, out, 16);
        if (c->kind == CFD_ALERT_NONE) {
            assert_int_equal(n, 0);
        } else {
            assert_true(n >= 1);
            assert_int_equal(out[0].kind, c->kind);
            assert_int_equal(out[0].metric, c->metric);
            assert_int_equal(out[0].threshold_pct, c->pct);
            assert_int_equal(out[0].recipients, c->to);
            assert_int_equal(out[0].fired_at_ms, c->now);
            assert_string_equal(out[0].work_order, "WO-1");
        }
        if (c->next_after != cfd_due_next(rec, &pol))
            fail_msg("case '%s': next due %lld, expected %lld", c->name,
                     (long long)cfd_due_next(rec, &pol), (long long)c->next_after);
        cfd_record_destroy(rec);
    }
}

/* Collected alerts are remembered: a second collect at the same instant yields none,
 * and a sequence of ticks yields each fact once, in order. */
static void test_each_fact_once(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_record *rec = aaa_order(&pol, 0);
    cfd_alert out[16];
    int warnings = 0, breaches = 0, escalations = 0;
    for (int64_t t = T0; t <= T0 + 10 * 60 * MIN; t += MIN) {
        size_t n = cfd_due_collect(rec, &pol, t, out, 16);
        for (size_t i = 0; i < n; i++) {
            if (out[i].metric != CFD_METRIC_CONTACT)
                continue;
            warnings += out[i].kind == CFD_ALERT_WARNING;
            breaches += out[i].kind == CFD_ALERT_BREACH;
            escalations += out[i].kind == CFD_ALERT_ESCALATION;
        }
        assert_int_equal(cfd_due_collect(rec, &pol, t, out, 16), 0);
    }
    assert_int_equal(warnings, 2);
    assert_int_equal(breaches, 1);
    assert_int_equal(escalations, pol.n_chain - 3); /* one per level above the breach */
    cfd_record_destroy(rec);
}

/* Each step of one duty goes one level higher than the step before it, along the
 * policy's chain; there is no step past its top. */
typedef struct climb_case {
    const char *name;
    cfd_recipient chain[CFD_CHAIN_MAX];
    int n_chain;
    cfd_alert_kind kinds[CFD_CHAIN_MAX]; /* the contact duty's alerts, in order */
    int n_alerts;
} climb_case;

#define ENG CFD_RECIPIENT_ENGINEER
#define TL CFD_RECIPIENT_TEAM_LEADER
#define DL CFD_RECIPIENT_DEPARTMENT_LEADER
#define NOC CFD_RECIPIENT_NOC_DUTY_MANAGER
#define W CFD_ALERT_WARNING

static const climb_case climb_cases[] = {
    {"default: engineer, team leader, department leader, NOC duty manager",
     {ENG, TL, DL, NOC},
     4,
     {W, W, CFD_ALERT_BREACH, CFD_ALERT_ESCALATION},
     4},
    {"a chain of three: warnings, breach, no escalation",
     {TL, DL, NOC},
     3,
     {W, W, CFD_ALERT_BREACH},
     3},
};

static void test_recipients_climb(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(climb_cases) / sizeof(climb_cases[0]); i++) {
        const climb_case *c = &climb_cases[i];
        cfd_policy pol;
        cfd_policy_defaults(&pol);
        memcpy(pol.chain, c->chain, sizeof(pol.chain));
        pol.n_chain = c->n_chain;
        cfd_policy_seal(&pol);
        assert_int_equal(cfd_policy_validate(&pol, NULL, 0), CFD_OK);
        cfd_record *rec = aaa_order(&pol, 0);
        cfd_alert out[16];
        int n = 0;

        print_message("case: %s\n", c->name);
        for (int64_t t = T0; t <= T0 + 10 * 60 * MIN; t += MIN) {
            size_t k = cfd_due_collect(rec, &pol, t, out, 16);
            for (size_t j = 0; j < k; j++) {
                if (out[j].metric != CFD_METRIC_CONTACT)
                    continue;
                assert_true(n < c->n_alerts);
                assert_int_equal(out[j].kind, c->kinds[n]);
                assert_int_equal(out[j].recipients, c->chain[n]);
                n++;
            }
        }
        assert_int_equal(n, c->n_alerts);
        cfd_record_destroy(rec);
    }
}

/* 「如不能准确定位故障原因,涉及专业并行介入处理」: an AAA order whose cause is still
 * unknown at the policy's point of the cause duty (default its first warning) calls in
 * the specialists of every discipline, once, an alert of its own. */
typedef struct parallel_case {
    const char *name;
    cfd_tier tier;
    bool terminal;     /* a terminal complaint: the standard duties */
    int diagnosed_min; /* 0: not yet */
    int pct;           /* pol.aaa_parallel_pct; 0 the first warning */
    int64_t now;
    bool want;
    int64_t due; /* the instant cfd_due_next names before collecting */
} parallel_case;

/* Arrival at T0 + 10 min: the cause duty (2 h) runs from there. */
static const parallel_case parallel_cases[] = {
    {"AAA, cause unknown at the first warning", CFD_TIER_AAA, false, 0, 0, T0 + 70 * MIN,
     true, T0 + 70 * MIN},
    {"AAA, before that point: nothing yet", CFD_TIER_AAA, false, 0, 0, T0 + 69 * MIN, false,
     T0 + 70 * MIN},
    {"AAA, the point configured at 80 %", CFD_TIER_AAA, false, 0, 80, T0 + 106 * MIN, true,
     T0 + 106 * MIN},
    {"AAA, cause found in time: nothing", CFD_TIER_AAA, false, 40, 0, T0 + 70 * MIN, false,
     0},
    {"AA: not a rule of its tier", CFD_TIER_AA, false, 0, 0, T0 + 70 * MIN, false, 0},
    {"AAA terminal complaint: ordinary level", CFD_TIER_AAA, true, 0, 0, T0 + 70 * MIN,
     false, 0},
};

static void apply_at(cfd_record *rec, const cfd_policy *pol, cfd_event ev)
{
    cfd_apply_outcome out;
    char errstr[128];
    if (cfd_record_apply(rec, &ev, pol, &out, errstr, sizeof(errstr)) != CFD_OK)
        fail_msg("%s: %s", ev.event_id, errstr);
}

/* The first due instant of the parallel call-in, from cfd_due_next's answers while
 * the other duties' alerts are collected away. */
static int64_t parallel_due(cfd_record *rec, const cfd_policy *pol, int64_t until)
{
    cfd_alert out[16];
    for (int64_t next = cfd_due_next(rec, pol); next != 0 && next <= until;
         next = cfd_due_next(rec, pol)) {
        cfd_record probe = *rec; /* shallow: only alerts_sent changes */
        size_t n = cfd_due_collect(&probe, pol, next, out, 16);
        for (size_t i = 0; i < n; i++)
            if (out[i].kind == CFD_ALERT_PARALLEL_SPECIALISTS)
                return next;
        if (probe.alerts_sent == rec->alerts_sent)
            break; /* an instant of another kind (a severe fault): not ours */
        rec->alerts_sent = probe.alerts_sent;
    }
    return 0;
}

static void test_aaa_parallel_specialists(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parallel_cases) / sizeof(parallel_cases[0]); i++) {
        const parallel_case *c = &parallel_cases[i];
        cfd_policy pol;
        cfd_policy_defaults(&pol);
        pol.aaa_parallel_pct = c->pct;
        cfd_policy_seal(&pol);
        cfd_record *rec = cfd_record_new();
        cfd_event ev = {.event_id = "e1",
                        .work_order = "WO-P",
                        .event_time_ms = T0,
                        .kind = CFD_MS_REPORTED};
        ev.report.customer.tier = c->tier;
        ev.report.circuit_id = "CQ-1";
        ev.report.terminal_complaint = c->terminal;

        print_message("case: %s\n", c->name);
        apply_at(rec, &pol, ev);
        apply_at(rec, &pol,
                 (cfd_event){.event_id = "e2",
                             .work_order = "WO-P",
                             .event_time_ms = T0 + MIN,
                             .kind = CFD_MS_ACCEPTED});
        apply_at(rec, &pol,
                 (cfd_event){.event_id = "e3",
                             .work_order = "WO-P",
                             .event_time_ms = T0 + 10 * MIN,
                             .kind = CFD_MS_ARRIVED_ON_SITE});
        if (c->diagnosed_min) {
            ev = (cfd_event){.event_id = "e4",
                             .work_order = "WO-P",
                             .event_time_ms = T0 + c->diagnosed_min * MIN,
                             .kind = CFD_MS_DIAGNOSED};
            ev.diagnosis.cause = CFD_CAUSE_TRANSMISSION_LINE;
            apply_at(rec, &pol, ev);
        }
        uint64_t sent = rec->alerts_sent;
        assert_int_equal(parallel_due(rec, &pol, T0 + 10 * 60 * MIN), c->due);
        rec->alerts_sent = sent;

        cfd_alert out[16];
        size_t n = cfd_due_collect(rec, &pol, c->now, out, 16);
        int found = 0;
        for (size_t k = 0; k < n; k++) {
            if (out[k].kind != CFD_ALERT_PARALLEL_SPECIALISTS)
                continue;
            found++;
            assert_int_equal(out[k].recipients, CFD_RECIPIENT_ALL_SPECIALISTS);
            assert_string_equal(out[k].alert_id, "WO-P/PARALLEL_SPECIALISTS");
            assert_int_equal(out[k].fired_at_ms, c->now);
        }
        assert_int_equal(found, c->want ? 1 : 0);
        /* Once only. */
        n = c->want ? cfd_due_collect(rec, &pol, c->now + 60 * MIN, out, 16) : 0;
        for (size_t k = 0; k < n; k++)
            assert_int_not_equal(out[k].kind, CFD_ALERT_PARALLEL_SPECIALISTS);
        cfd_record_destroy(rec);
    }
}

/* A duty met in time has nothing due; its timer moves on to the next duty. */
static void test_met_duty_is_silent(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_record *rec = aaa_order(&pol, T0 + 5 * MIN);
    cfd_alert out[16];
    size_t n = cfd_due_collect(rec, &pol, T0 + 20 * MIN, out, 16);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(out[i].metric, CFD_METRIC_CONTACT);
    /* On site (1 h from T0 + 1 min): its 50 % warning at T0 + 31 min is next. */
    assert_int_equal(cfd_due_next(rec, &pol), T0 + 31 * MIN);
    cfd_record_destroy(rec);
}

/* Alert ids name the fact (order, metric, threshold), never the instant it fired. */
static void test_ids_are_deterministic(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_record *a = aaa_order(&pol, 0), *b = aaa_order(&pol, 0);
    cfd_alert x[16], y[16];
    size_t n = cfd_due_collect(a, &pol, T0 + 17 * MIN, x, 16);
    size_t m = cfd_due_collect(b, &pol, T0 + 18 * MIN, y, 16);
    assert_int_equal(n, m);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(x[i].alert_id, y[i].alert_id);
    assert_string_equal(x[0].alert_id, "WO-1/METRIC_CONTACT/100");
    cfd_record_destroy(a);
    cfd_record_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_table),
        cmocka_unit_test(test_each_fact_once),
        cmocka_unit_test(test_recipients_climb),
        cmocka_unit_test(test_aaa_parallel_specialists),
        cmocka_unit_test(test_met_duty_is_silent),
        cmocka_unit_test(test_ids_are_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

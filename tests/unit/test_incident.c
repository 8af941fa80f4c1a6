/*
 * Severe faults of important customers (src/domain/incident.c): who is important, the
 * threshold, when a full interruption is severe, the Incident transitions and the
 * instant the timer must wake for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/due.h"
#include "confirmd/incident.h"

#define MIN (60LL * 1000)
#define HOUR (60 * MIN)
#define T0 1764043200000LL

/* The customer and the facts of one case; times are offsets from T0, 0 = none. */
typedef struct facts {
    cfd_importance importance;
    bool diamond, rental, full;
    int64_t diagnosed, diagnosed2; /* offsets of a first and a second diagnosis */
    cfd_cause cause, cause2;
    int64_t restored;
} facts;

static void apply_ok(cfd_record *rec, const cfd_event *ev, const cfd_policy *pol)
{
    char errstr[128];
    cfd_apply_outcome out;
    assert_int_equal(cfd_record_apply(rec, ev, pol, &out, errstr, sizeof(errstr)), CFD_OK);
    assert_int_equal(out, CFD_APPLY_CHANGED);
}

static void diagnose(cfd_record *rec, const char *id, int64_t t, cfd_cause cause,
                     const cfd_policy *pol)
{
    cfd_event ev = {
        .event_id = id, .work_order = "WO-1", .event_time_ms = t, .kind = CFD_MS_DIAGNOSED};
    ev.diagnosis.cause = cause;
    ev.diagnosis.cause_other = cause == CFD_CAUSE_OTHER ? "third-party works" : NULL;
    apply_ok(rec, &ev, pol);
}

static void restore(cfd_record *rec, int64_t t, const cfd_policy *pol)
{
    cfd_event ev = {.event_id = "e-res",
                    .work_order = "WO-1",
                    .event_time_ms = t,
                    .kind = CFD_MS_SERVICE_RESTORED};
    ev.restoration.result = CFD_RESULT_RESTORED;
    apply_ok(rec, &ev, pol);
}

/* A work order reported at T0 (general urgency: no SLA instant within hours). */
static cfd_record *order(const facts *f, const cfd_policy *pol)
{
    cfd_event rep = {.event_id = "e-rep",
                     .work_order = "WO-1",
                     .event_time_ms = T0,
                     .kind = CFD_MS_REPORTED};
    rep.report.customer.customer_id = "C-1";
    rep.report.circuit_id = "CQ-1";
    rep.report.customer.city = "Chongqing";
    rep.report.customer.affected_service = "internet";
    rep.report.customer.importance = f->importance;
    rep.report.customer.diamond = f->diamond;
    rep.report.customer.cross_city_rental = f->rental;
    rep.report.full_interruption = f->full;
    cfd_record *rec = cfd_record_new();
    apply_ok(rec, &rep, pol);
    if (f->diagnosed)
        diagnose(rec, "e-dia", T0 + f->diagnosed, f->cause, pol);
    if (f->diagnosed2)
        diagnose(rec, "e-dia2", T0 + f->diagnosed2, f->cause2, pol);
    if (f->restored)
        restore(rec, T0 + f->restored, pol);
    return rec;
}

typedef struct judge_case {
    const char *name;
    facts f;
    int64_t at; /* offset from T0 */
    bool important;
    int64_t threshold;
    bool severe, unclear, excluded;
} judge_case;

#define PROV CFD_IMPORTANCE_PROVINCE_LEVEL
#define DIAM CFD_IMPORTANCE_CITY_DIAMOND
#define XPROV CFD_IMPORTANCE_CROSS_PROVINCE
#define XCITY CFD_IMPORTANCE_CROSS_CITY
#define ORD CFD_IMPORTANCE_ORDINARY
#define CUST_EQ CFD_CAUSE_CUSTOMER_EQUIPMENT
#define CUST_NET CFD_CAUSE_CUSTOMER_NETWORK
#define LINE CFD_CAUSE_TRANSMISSION_LINE

static const judge_case cases[] = {
    {"province-level, down 31 min",
     {PROV, .full = true},
     31 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"city diamond", {DIAM, .full = true}, 31 * MIN, true, 30 * MIN, true, true, false},
    {"cross-province line",
     {XPROV, .full = true},
     31 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"cross-city line", {XCITY, .full = true}, 31 * MIN, true, 30 * MIN, true, true, false},
    {"diamond flag alone",
     {ORD, .diamond = true, .full = true},
     31 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"exactly 30 min: not more than",
     {PROV, .full = true},
     30 * MIN,
     true,
     30 * MIN,
     false,
     true,
     false},
    {"cross-city rental, non-diamond: not at 31 min",
     {XCITY, .rental = true, .full = true},
     31 * MIN,
     true,
     8 * HOUR,
     false,
     true,
     false},
    {"cross-city rental, non-diamond: at 8 h 1 min",
     {XCITY, .rental = true, .full = true},
     8 * HOUR + MIN,
     true,
     8 * HOUR,
     true,
     true,
     false},
    {"cross-city rental of a diamond: 30 min",
     {XCITY, .diamond = true, .rental = true, .full = true},
     31 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"rental of a city-diamond class: 30 min",
     {DIAM, .rental = true, .full = true},
     31 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"restored in time: none",
     {PROV, .full = true, .restored = 29 * MIN},
     2 * HOUR,
     true,
     30 * MIN,
     false,
     true,
     false},
    {"restored exactly at 30 min: none",
     {PROV, .full = true, .restored = 30 * MIN},
     2 * HOUR,
     true,
     30 * MIN,
     false,
     true,
     false},
    {"restored late: severe",
     {PROV, .full = true, .restored = 45 * MIN},
     45 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"operator's cause: severe, clear",
     {PROV, .full = true, .diagnosed = 10 * MIN, .cause = LINE},
     31 * MIN,
     true,
     30 * MIN,
     true,
     false,
     false},
    {"cause other: unclear, severe",
     {PROV, .full = true, .diagnosed = 10 * MIN, .cause = CFD_CAUSE_OTHER},
     31 * MIN,
     true,
     30 * MIN,
     true,
     true,
     false},
    {"customer equipment known before: none",
     {PROV, .full = true, .diagnosed = 10 * MIN, .cause = CUST_EQ},
     31 * MIN,
     true,
     30 * MIN,
     false,
     false,
     true},
    {"customer network known before: none",
     {PROV, .full = true, .diagnosed = 10 * MIN, .cause = CUST_NET},
     31 * MIN,
     true,
     30 * MIN,
     false,
     false,
     true},
    {"customer equipment found later: severe, excluded",
     {PROV, .full = true, .diagnosed = 40 * MIN, .cause = CUST_EQ},
     41 * MIN,
     true,
     30 * MIN,
     true,
     false,
     true},
    {"customer's, then the operator's after all: severe",
     {PROV, .full = true, .diagnosed = 10 * MIN, .cause = CUST_EQ, .diagnosed2 = 50 * MIN,
      .cause2 = LINE},
     51 * MIN,
     true,
     30 * MIN,
     true,
     false,
     false},
    {"not a full interruption: none",
     {PROV, .full = false},
     2 * HOUR,
     true,
     30 * MIN,
     false,
     true,
     false},
    {"ordinary customer: none",
     {ORD, .full = true},
     2 * HOUR,
     false,
     30 * MIN,
     false,
     true,
     false},
};

static void test_judge_table(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const judge_case *c = &cases[i];
        cfd_record *rec = order(&c->f, &pol);
        cfd_incident_view v;
        cfd_incident_judge(rec, T0 + c->at, &v);
        if (v.important != c->important || v.threshold_ms != c->threshold ||
            v.severe != c->severe || v.ownership_unclear != c->unclear ||
            v.excluded != c->excluded)
            fail_msg("%s: important %d threshold %lld severe %d unclear %d excluded %d",
                     c->name, v.important, (long long)v.threshold_ms, v.severe,
                     v.ownership_unclear, v.excluded);
        assert_int_equal(v.started_at_ms, T0);
        cfd_record_destroy(rec);
    }
}

/* Opened with no new event, closed by the restoration, updated by a later finding of
 * customer equipment; each transition once, with the next version. */
static void test_transitions(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    facts f = {PROV, .full = true};
    cfd_record *rec = order(&f, &pol);
    cfd_incident inc[3];
    cfd_alert alert;
    bool has_alert;

    assert_int_equal(cfd_incident_collect(rec, T0 + 30 * MIN, inc, &alert, &has_alert), 0);
    assert_false(has_alert);
    assert_int_equal(cfd_incident_collect(rec, T0 + 31 * MIN, inc, &alert, &has_alert), 1);
    assert_string_equal(inc[0].incident_id, "INC-WO-1");
    assert_int_equal(inc[0].kind, CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION);
    assert_int_equal(inc[0].status, CFD_INCIDENT_OPEN);
    assert_int_equal(inc[0].version, 1);
    assert_string_equal(inc[0].work_order, "WO-1");
    assert_string_equal(inc[0].customer_id, "C-1");
    assert_string_equal(inc[0].city, "Chongqing");
    assert_string_equal(inc[0].service, "internet");
    assert_int_equal(inc[0].importance, PROV);
    assert_true(inc[0].started_at_ms == T0 && inc[0].threshold_ms == 30 * MIN);
    assert_true(inc[0].opened_at_ms == T0 + 30 * MIN && inc[0].closed_at_ms == 0);
    assert_true(inc[0].ownership_unclear);
    assert_false(inc[0].excluded_from_assessment);
    assert_true(has_alert);
    assert_int_equal(alert.kind, CFD_ALERT_SEVERE_FAULT);
    assert_int_equal(alert.recipients, CFD_RECIPIENT_NOC_DUTY_MANAGER);
    assert_string_equal(alert.alert_id, "WO-1/SEVERE_FAULT");
    assert_true(alert.fired_at_ms == T0 + 31 * MIN);
    /* The rule that opened it, and when the service decided it (not the threshold). */
    assert_int_equal(inc[0].rule, CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER);
    assert_true(inc[0].decided_at_ms == T0 + 31 * MIN);
    assert_null(strstr(alert.message, "Acme")); /* no names */
    assert_int_equal(cfd_incident_collect(rec, T0 + 40 * MIN, inc, &alert, &has_alert), 0);
    assert_int_equal(cfd_incident_next(rec), 0);

    restore(rec, T0 + 50 * MIN, &pol);
    assert_int_equal(cfd_incident_collect(rec, T0 + 50 * MIN, inc, &alert, &has_alert), 1);
    assert_false(has_alert);
    assert_int_equal(inc[0].status, CFD_INCIDENT_CLOSED);
    assert_int_equal(inc[0].version, 2);
    assert_true(inc[0].decided_at_ms == T0 + 50 * MIN);
    assert_true(inc[0].closed_at_ms == T0 + 50 * MIN);

    diagnose(rec, "e-dia", T0 + 60 * MIN, CUST_EQ, &pol);
    assert_int_equal(cfd_incident_collect(rec, T0 + 60 * MIN, inc, &alert, &has_alert), 1);
    assert_int_equal(inc[0].status, CFD_INCIDENT_UPDATE);
    assert_int_equal(inc[0].version, 3);
    assert_true(inc[0].excluded_from_assessment);
    assert_false(inc[0].ownership_unclear);
    assert_true(inc[0].closed_at_ms == T0 + 50 * MIN); /* still closed */
    assert_int_equal(cfd_incident_collect(rec, T0 + 61 * MIN, inc, &alert, &has_alert), 0);
    cfd_record_destroy(rec);
}

/* Each severe-fault rule names itself: the 30 min rule of important customers and the
 * 8 h rule of non-diamond city-level cross-city circuit rentals. */
static void test_rule_named(void **state)
{
    static const struct {
        const char *name;
        facts f;
        int64_t at;
        cfd_incident_rule want;
    } rule_cases[] = {
        {"province-level: the 30 min rule",
         {PROV, .full = true},
         31 * MIN,
         CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER},
        {"non-diamond cross-city rental: the 8 h rule",
         {XCITY, .rental = true, .full = true},
         8 * HOUR + MIN,
         CFD_INCIDENT_RULE_CROSS_CITY_RENTAL},
        {"diamond cross-city rental: the 30 min rule",
         {XCITY, .diamond = true, .rental = true, .full = true},
         31 * MIN,
         CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER},
    };
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
        cfd_record *rec = order(&rule_cases[i].f, &pol);
        cfd_incident inc[3];
        cfd_alert alert;
        bool has_alert;
        print_message("case: %s\n", rule_cases[i].name);
        assert_int_equal(
            cfd_incident_collect(rec, T0 + rule_cases[i].at, inc, &alert, &has_alert), 1);
        assert_int_equal(inc[0].kind, CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION);
        assert_int_equal(inc[0].rule, rule_cases[i].want);
        assert_true(inc[0].decided_at_ms == T0 + rule_cases[i].at);
        cfd_record_destroy(rec);
    }
}

/* A backlog: the restoration arrives late with nothing fired yet; judged at its time,
 * the incident opens and closes at once. */
/* The names are the schema's (confirmd.v1.IncidentKind, IncidentRule, IncidentStatus). */
static void test_names(void **state)
{
    (void)state;
    assert_string_equal(cfd_incident_kind_name(CFD_INCIDENT_MULTI_CUSTOMER_CITY),
                        "INCIDENT_KIND_MULTI_CUSTOMER_CITY");
    assert_string_equal(
        cfd_incident_kind_name(CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION),
        "INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION");
    assert_string_equal(cfd_incident_rule_name(CFD_INCIDENT_RULE_CROSS_CITY_RENTAL),
                        "INCIDENT_RULE_CROSS_CITY_RENTAL");
    assert_string_equal(cfd_incident_rule_name(CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER),
                        "INCIDENT_RULE_IMPORTANT_CUSTOMER");
    assert_string_equal(cfd_incident_rule_name(CFD_INCIDENT_RULE_MULTI_CUSTOMER_CITY),
                        "INCIDENT_RULE_MULTI_CUSTOMER_CITY");
    assert_string_equal(cfd_incident_status_name(CFD_INCIDENT_CLOSED),
                        "INCIDENT_STATUS_CLOSED");
    assert_string_equal(cfd_incident_kind_name((cfd_incident_kind)9), "?");
    assert_string_equal(cfd_incident_rule_name((cfd_incident_rule)9), "?");
}

static void test_backlog_open_and_close(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    facts f = {XPROV, .full = true, .restored = 45 * MIN};
    cfd_record *rec = order(&f, &pol);
    cfd_incident inc[3];
    cfd_alert alert;
    bool has_alert;
    assert_int_equal(
        cfd_incident_collect(rec, cfd_record_as_of(rec), inc, &alert, &has_alert), 2);
    assert_int_equal(inc[0].status, CFD_INCIDENT_OPEN);
    assert_int_equal(inc[1].status, CFD_INCIDENT_CLOSED);
    assert_int_equal(inc[1].version, 2);
    assert_true(inc[1].closed_at_ms == T0 + 45 * MIN);
    assert_true(has_alert);
    cfd_record_destroy(rec);
}

/* The timer wakes just after the threshold; for a rental only after 8 h; never for an
 * order restored in time, an ordinary customer or one known to be the customer's. */
static void test_next(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    static const struct {
        facts f;
        int64_t next; /* offset from T0 + 1 ms; -1: none */
    } nc[] = {
        {{PROV, .full = true}, 30 * MIN},
        {{XCITY, .rental = true, .full = true}, 8 * HOUR},
        {{PROV, .full = true, .restored = 20 * MIN}, -1},
        {{PROV, .full = true, .diagnosed = 10 * MIN, .cause = CUST_NET}, -1},
        {{ORD, .full = true}, -1},
        {{PROV, .full = false}, -1},
    };
    for (size_t i = 0; i < sizeof(nc) / sizeof(nc[0]); i++) {
        cfd_record *rec = order(&nc[i].f, &pol);
        int64_t want = nc[i].next < 0 ? 0 : T0 + nc[i].next + 1;
        if (cfd_incident_next(rec) != want)
            fail_msg("case %zu: next %lld, want %lld", i, (long long)cfd_incident_next(rec),
                     (long long)want);
        /* The general urgency's SLA instants are hours away: the incident's is first. */
        if (want)
            assert_true(cfd_due_next(rec, &pol) == want);
        cfd_record_destroy(rec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge_table), cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_rule_named),  cmocka_unit_test(test_backlog_open_and_close),
        cmocka_unit_test(test_next),        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for src/domain/record.c: cfd_record_apply and the record it builds.
 * The property test at the end checks the central promise of record.h: the same set
 * of events, in any arrival order and with duplicates, gives the same record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "confirmd/codec.h"
#include "confirmd/record.h"
#include "domain_fixture.h"

static cfd_policy pol;

static int setup(void **state)
{
    (void)state;
    cfd_policy_defaults(&pol);
    return 0;
}

static void apply_expect(cfd_record *rec, const cfd_event *ev, cfd_apply_outcome want)
{
    cfd_apply_outcome got = (cfd_apply_outcome)-1;
    char err[160] = "";

    if (cfd_record_apply(rec, ev, &pol, &got, err, sizeof(err)) != CFD_OK)
        fail_msg("apply %s failed: %s", ev->event_id, err);
    assert_int_equal(got, want);
}

/* ---- record comparison, field by field -------------------------------------------- */

static void eq_str(const char *field, const char *a, const char *b)
{
    if (a == NULL && b == NULL)
        return;
    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        fail_msg("%s: \"%s\" != \"%s\"", field, a ? a : "(null)", b ? b : "(null)");
}

static void eq_int(const char *field, int64_t a, int64_t b)
{
    if (a != b)
        fail_msg("%s: %lld != %lld", field, (long long)a, (long long)b);
}

static void eq_strv(const char *field, char **a, size_t na, char **b, size_t nb)
{
    char name[64];

    eq_int(field, (int64_t)na, (int64_t)nb);
    for (size_t i = 0; i < na; i++) {
        snprintf(name, sizeof(name), "%s[%zu]", field, i);
        eq_str(name, a[i], b[i]);
    }
}

#define EQ_STR(f) eq_str(#f, a->f, b->f)
#define EQ_INT(f) eq_int(#f, (int64_t)a->f, (int64_t)b->f)

static void records_equal(const cfd_record *a, const cfd_record *b)
{
    char name[64];

    EQ_STR(work_order);
    EQ_STR(issuing_unit);
    EQ_STR(customer.name);
    EQ_STR(customer.contact_person);
    EQ_STR(customer.contact_phone);
    EQ_STR(customer.address);
    EQ_STR(customer.affected_service);
    EQ_STR(customer.city);
    EQ_STR(customer.customer_id);
    EQ_INT(customer.tier);
    EQ_INT(customer.gold);
    eq_strv("engineers", a->engineers, a->n_engineers, b->engineers, b->n_engineers);
    eq_strv("assisting_staff", a->assisting_staff, a->n_assisting_staff, b->assisting_staff,
            b->n_assisting_staff);
    EQ_INT(arrival_time_ms);
    EQ_INT(service_end_time_ms);
    EQ_STR(circuit_id);
    EQ_STR(access_point);
    EQ_STR(equipment);
    EQ_STR(problem_description);
    EQ_STR(onsite_findings);
    EQ_INT(cause);
    EQ_STR(cause_other);
    EQ_INT(result);
    EQ_STR(result_other);
    EQ_STR(customer_opinion);
    EQ_STR(customer_signature);
    EQ_INT(customer_signed_at_ms);
    EQ_STR(engineer_signature);
    EQ_STR(corrective_actions);
    EQ_INT(satisfaction);
    EQ_STR(suggestions);
    EQ_INT(state);
    EQ_INT(urgency);
    EQ_STR(contractor);
    EQ_INT(reported_at_ms);
    EQ_INT(accepted_at_ms);
    EQ_INT(first_alarm_at_ms);
    EQ_INT(appointment_time_ms);
    EQ_INT(appointment_by_customer);
    EQ_INT(remote_restoration);
    EQ_INT(workaround);
    EQ_STR(cancel_reason);
    EQ_INT(n_timeline);
    for (size_t i = 0; i < a->n_timeline; i++) {
        snprintf(name, sizeof(name), "timeline[%zu]", i);
        eq_int(name, a->timeline[i].milestone, b->timeline[i].milestone);
        eq_int(name, a->timeline[i].event_time_ms, b->timeline[i].event_time_ms);
        eq_str(name, a->timeline[i].event_id, b->timeline[i].event_id);
        eq_int(name, a->timeline[i].source, b->timeline[i].source);
    }
    for (int m = 0; m < CFD_METRIC_COUNT; m++) {
        const cfd_sla_result *x = &a->sla[m], *y = &b->sla[m];

        snprintf(name, sizeof(name), "sla[%s]", cfd_metric_name((cfd_metric)m));
        eq_int(name, x->metric, y->metric);
        eq_int(name, x->target_ms, y->target_ms);
        eq_int(name, x->start_ms, y->start_ms);
        eq_int(name, x->deadline_ms, y->deadline_ms);
        eq_int(name, x->actual_ms, y->actual_ms);
        eq_int(name, x->paused_ms, y->paused_ms);
        eq_int(name, x->status, y->status);
    }
    eq_strv("linked_alarms", a->linked_alarms, a->n_linked_alarms, b->linked_alarms,
            b->n_linked_alarms);
    EQ_INT(version);
    EQ_INT(penalty_points);
    EQ_STR(policy_version);
    EQ_INT(alerts_sent);
    EQ_INT(emitted_version);
}

/* ---- single behaviours -------------------------------------------------------------- */

static void test_open_copies_report(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event ev = fx_report("r1", "WO-1", FX_T0, CFD_TIER_AA, CFD_URGENCY_UNSPECIFIED);

    (void)state;
    ev.report.customer.gold = true;
    ev.report.access_point = ""; /* "" is absent */
    apply_expect(rec, &ev, CFD_APPLY_CHANGED);
    assert_int_equal(rec->state, CFD_STATE_REPORTED);
    assert_string_equal(rec->work_order, "WO-1");
    assert_string_equal(rec->issuing_unit, "Liangping branch");
    assert_string_equal(rec->customer.name, "Acme Logistics");
    assert_string_equal(rec->customer.city, "Chongqing");
    assert_int_equal(rec->customer.tier, CFD_TIER_AA);
    assert_true(rec->customer.gold);
    assert_null(rec->access_point);
    assert_null(rec->customer.address);
    assert_string_equal(rec->circuit_id, "CQ-LP-0001");
    assert_int_equal(rec->reported_at_ms, FX_T0);
    assert_int_equal(rec->version, 1);
    assert_int_equal(rec->n_timeline, 1);
    assert_string_equal(rec->timeline[0].event_id, "r1");
    assert_int_equal(rec->timeline[0].source, CFD_SOURCE_CUSTOMER);
    assert_string_equal(rec->policy_version, pol.version);
    cfd_record_destroy(rec);
}

/* The record owns its strings: the event's buffers may be reused at once. */
static void test_no_pointer_into_event(void **state)
{
    cfd_record *rec = cfd_record_new();
    char id[16] = "r1", wo[16] = "WO-2", name[32] = "Acme", eng[16] = "eng-7";
    const char *engineers[] = {eng};
    cfd_event ev = fx_report(id, wo, FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);
    cfd_event arr;

    (void)state;
    ev.report.customer.name = name;
    apply_expect(rec, &ev, CFD_APPLY_CHANGED);
    memset(name, 'x', sizeof(name) - 1);
    memset(id, 'y', sizeof(id) - 1);
    memset(wo, 'z', sizeof(wo) - 1);
    arr = fx_event("a1", "WO-2", CFD_MS_ARRIVED_ON_SITE, FX_T0 + FX_MIN);
    arr.arrival.engineers = engineers;
    arr.arrival.n_engineers = 1;
    apply_expect(rec, &arr, CFD_APPLY_CHANGED);
    memset(eng, 'w', sizeof(eng) - 1);
    assert_string_equal(rec->customer.name, "Acme");
    assert_string_equal(rec->work_order, "WO-2");
    assert_string_equal(rec->timeline[0].event_id, "r1");
    assert_int_equal(rec->n_engineers, 1);
    assert_string_equal(rec->engineers[0], "eng-7");
    cfd_record_destroy(rec);
}

static void test_park_and_duplicate(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event acc = fx_event("a1", "WO-3", CFD_MS_ACCEPTED, FX_T0 + FX_MIN);
    cfd_event alarm = fx_event("n1", "WO-3", CFD_MS_ALARM, FX_T0 - FX_MIN);
    cfd_event rep = fx_report("r1", "WO-3", FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);

    (void)state;
    apply_expect(rec, &acc, CFD_APPLY_PARK);
    apply_expect(rec, &alarm, CFD_APPLY_PARK);
    assert_int_equal(rec->state, CFD_STATE_NONE);
    assert_int_equal(rec->n_timeline, 0);
    assert_null(rec->work_order);

    apply_expect(rec, &rep, CFD_APPLY_CHANGED);
    apply_expect(rec, &rep, CFD_APPLY_DUPLICATE);
    apply_expect(rec, &acc, CFD_APPLY_CHANGED);
    apply_expect(rec, &alarm, CFD_APPLY_CHANGED);
    apply_expect(rec, &acc, CFD_APPLY_DUPLICATE);
    assert_int_equal(rec->version, 3);
    assert_int_equal(rec->state, CFD_STATE_ACCEPTED);
    /* The alarm came first in time: the timeline starts with it. */
    assert_string_equal(rec->timeline[0].event_id, "n1");
    assert_int_equal(rec->first_alarm_at_ms, FX_T0 - FX_MIN);
    assert_int_equal(rec->accepted_at_ms, FX_T0 + FX_MIN);
    cfd_record_destroy(rec);
}

typedef struct {
    const char *name;
    cfd_milestone history[8]; /* applied at T0, T0+1min, ... */
    cfd_milestone next;
    int64_t next_at_min; /* minutes after T0 */
    cfd_err want;        /* CFD_OK means parked: a predecessor may still come */
    const char *errstr;
} reject_case;

static const reject_case reject_cases[] = {
    {"arrival after close",
     {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED},
     CFD_MS_ARRIVED_ON_SITE,
     10,
     CFD_ERR_TRANSITION,
     "STATE_CLOSED -> MILESTONE_ARRIVED_ON_SITE"},
    {"signature before a visit",
     {CFD_MS_REPORTED, CFD_MS_ACCEPTED},
     CFD_MS_CONFIRMATION_SIGNED,
     10,
     CFD_OK,
     "STATE_ACCEPTED -> MILESTONE_CONFIRMATION_SIGNED"},
    {"close before restoration",
     {CFD_MS_REPORTED, CFD_MS_ARRIVED_ON_SITE},
     CFD_MS_CLOSED,
     10,
     CFD_OK,
     "STATE_ON_SITE -> MILESTONE_CLOSED"},
    {"cancel after cancel",
     {CFD_MS_REPORTED, CFD_MS_CANCELLED},
     CFD_MS_CANCELLED,
     10,
     CFD_ERR_TRANSITION,
     "STATE_CANCELLED -> MILESTONE_CANCELLED"},
    {"report after close",
     {CFD_MS_REPORTED, CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED},
     CFD_MS_REPORTED,
     10,
     CFD_ERR_TRANSITION,
     "STATE_CLOSED -> MILESTONE_REPORTED"},
    {"reopen before restoration",
     {CFD_MS_REPORTED, CFD_MS_ACCEPTED},
     CFD_MS_REOPENED,
     10,
     CFD_OK,
     "STATE_ACCEPTED -> MILESTONE_REOPENED"},
    /* After close a returning fault is a new work order, never a reopen. */
    {"reopen after close",
     {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED},
     CFD_MS_REOPENED,
     10,
     CFD_ERR_TRANSITION,
     "STATE_CLOSED -> MILESTONE_REOPENED"},
    {"reopen after cancel",
     {CFD_MS_REPORTED, CFD_MS_CANCELLED},
     CFD_MS_REOPENED,
     10,
     CFD_ERR_TRANSITION,
     "STATE_CANCELLED -> MILESTONE_REOPENED"},
    /* A late cancel sorted before the close breaks the close that follows it. */
    {"late cancel before close",
     {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED},
     CFD_MS_CANCELLED,
     2,
     CFD_ERR_TRANSITION,
     "STATE_CANCELLED -> MILESTONE_CLOSED at later event h3"},
    /* A late arrival sorted before a signature that is already parked is fine, but a
     * late signature sorted before the arrival waits for a visit. */
    {"late signature before arrival",
     {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_ARRIVED_ON_SITE},
     CFD_MS_CONFIRMATION_SIGNED,
     1,
     CFD_OK,
     "STATE_ACCEPTED -> MILESTONE_CONFIRMATION_SIGNED"},
};

static void test_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
        const reject_case *c = &reject_cases[i];
        cfd_record *rec = cfd_record_new();
        static const char *const ids[] = {"h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7"};
        cfd_apply_outcome out = CFD_APPLY_CHANGED;
        cfd_event ev;
        char err[160] = "";
        uint32_t version;
        cfd_state st;

        print_message("case: %s\n", c->name);
        for (size_t k = 0; k < 8 && c->history[k] != CFD_MS_NONE; k++) {
            ev = fx_event(ids[k], "WO-R", c->history[k], FX_T0 + (int64_t)k * FX_MIN);
            apply_expect(rec, &ev, CFD_APPLY_CHANGED);
        }
        version = rec->version;
        st = rec->state;
        ev = fx_event("new", "WO-R", c->next, FX_T0 + c->next_at_min * FX_MIN + 30000);
        assert_int_equal(cfd_record_apply(rec, &ev, &pol, &out, err, sizeof(err)), c->want);
        if (c->want == CFD_OK)
            assert_int_equal(out, CFD_APPLY_PARK);
        assert_string_equal(err, c->errstr);
        assert_int_equal(rec->version, version);
        assert_int_equal(rec->n_timeline, version);
        assert_int_equal(rec->state, st);
        for (size_t k = 0; k < rec->n_timeline; k++)
            assert_string_not_equal(rec->timeline[k].event_id, "new");
        cfd_record_destroy(rec);
    }
}

static void test_other_work_order(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event rep = fx_report("r1", "WO-4", FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);
    cfd_event acc = fx_event("a1", "WO-5", CFD_MS_ACCEPTED, FX_T0 + FX_MIN);
    cfd_event bad = fx_event("", "WO-4", CFD_MS_ACCEPTED, FX_T0 + FX_MIN);
    cfd_apply_outcome out;
    char err[128];

    (void)state;
    apply_expect(rec, &rep, CFD_APPLY_CHANGED);
    assert_int_equal(cfd_record_apply(rec, &acc, &pol, &out, err, sizeof(err)),
                     CFD_ERR_INVALID_VALUE);
    assert_int_equal(cfd_record_apply(rec, &bad, &pol, &out, err, sizeof(err)),
                     CFD_ERR_MISSING_FIELD);
    assert_string_equal(err, "missing field event_id");
    assert_int_equal(rec->version, 1);
    cfd_record_destroy(rec);
}

/* Payload fields come from the latest event of their kind, whatever arrives last. */
static void test_latest_payload_wins(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event rep = fx_report("r1", "WO-6", FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);
    cfd_event d_late = fx_event("d2", "WO-6", CFD_MS_DIAGNOSED, FX_T0 + 30 * FX_MIN);
    cfd_event d_early = fx_event("d1", "WO-6", CFD_MS_DIAGNOSED, FX_T0 + 20 * FX_MIN);
    cfd_event disp = fx_event("x1", "WO-6", CFD_MS_DISPATCHED, FX_T0 + 2 * FX_MIN);
    cfd_event redisp = fx_event("x2", "WO-6", CFD_MS_DISPATCHED, FX_T0 + 3 * FX_MIN);

    (void)state;
    d_late.diagnosis.cause = CFD_CAUSE_OTHER;
    d_late.diagnosis.cause_other = "rodents";
    d_late.diagnosis.onsite_findings = NULL;
    d_early.diagnosis.cause = CFD_CAUSE_CUSTOMER_NETWORK;
    redisp.dispatch.contractor = "Contractor Two";
    apply_expect(rec, &rep, CFD_APPLY_CHANGED);
    apply_expect(rec, &redisp, CFD_APPLY_CHANGED);
    apply_expect(rec, &disp, CFD_APPLY_CHANGED);
    apply_expect(rec, &d_late, CFD_APPLY_CHANGED);
    apply_expect(rec, &d_early, CFD_APPLY_CHANGED);
    assert_int_equal(rec->cause, CFD_CAUSE_OTHER);
    assert_string_equal(rec->cause_other, "rodents");
    assert_null(rec->onsite_findings); /* the latest replaces the whole payload */
    assert_string_equal(rec->contractor, "Contractor Two");
    assert_int_equal(rec->state, CFD_STATE_DIAGNOSED);
    cfd_record_destroy(rec);
}

/* A milestone sets only what it carries: the engineer's acceptance names no contractor,
 * so it leaves the dispatch's, whatever the arrival order. */
typedef struct carry_step {
    const char *id;
    cfd_milestone kind;
    int at_min;
    const char *contractor; /* dispatched only */
} carry_step;

typedef struct carry_case {
    const char *name;
    carry_step steps[4]; /* in arrival order, after the report */
    const char *want_contractor;
} carry_case;

static const carry_case carry_cases[] = {
    {"engineer accepts after the dispatch",
     {{"d1", CFD_MS_DISPATCHED, 2, "Contractor One"},
      {"e1", CFD_MS_ENGINEER_ACCEPTED, 3, NULL}},
     "Contractor One"},
    {"engineer acceptance arrives first",
     {{"e1", CFD_MS_ENGINEER_ACCEPTED, 3, NULL},
      {"d1", CFD_MS_DISPATCHED, 2, "Contractor One"}},
     "Contractor One"},
    {"re-dispatch after the acceptance names the new contractor",
     {{"d1", CFD_MS_DISPATCHED, 2, "Contractor One"},
      {"e1", CFD_MS_ENGINEER_ACCEPTED, 3, NULL},
      {"d2", CFD_MS_DISPATCHED, 4, "Contractor Two"},
      {"e2", CFD_MS_ENGINEER_ACCEPTED, 5, NULL}},
     "Contractor Two"},
    {"acceptance alone", {{"e1", CFD_MS_ENGINEER_ACCEPTED, 3, NULL}}, NULL},
    {"a re-dispatch naming no contractor keeps it",
     {{"d1", CFD_MS_DISPATCHED, 2, "Contractor One"}, {"d2", CFD_MS_DISPATCHED, 4, NULL}},
     "Contractor One"},
    {"... whatever the arrival order",
     {{"d2", CFD_MS_DISPATCHED, 4, NULL}, {"d1", CFD_MS_DISPATCHED, 2, "Contractor One"}},
     "Contractor One"},
};

static void test_milestone_sets_only_what_it_carries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(carry_cases) / sizeof(carry_cases[0]); i++) {
        const carry_case *c = &carry_cases[i];
        cfd_record *rec = cfd_record_new();
        cfd_event ev =
            fx_report("r1", "WO-C1", FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);

        print_message("case: %s\n", c->name);
        apply_expect(rec, &ev, CFD_APPLY_CHANGED);
        for (size_t k = 0; k < 4 && c->steps[k].id != NULL; k++) {
            const carry_step *s = &c->steps[k];

            ev = fx_event(s->id, "WO-C1", s->kind, FX_T0 + s->at_min * FX_MIN);
            ev.dispatch.contractor = s->contractor;
            apply_expect(rec, &ev, CFD_APPLY_CHANGED);
        }
        eq_str("contractor", rec->contractor, c->want_contractor);
        cfd_record_destroy(rec);
    }
}

/* The customer absent at the door after the arrival: applied, not parked; the second
 * appointment gets priority and the next visit goes on from there. */
typedef struct absent_case {
    const char *name;
    cfd_milestone steps[8]; /* after report and acceptance, 10 min apart */
    cfd_state want_state;
    int32_t want_absences;
    bool want_priority;
} absent_case;

static const absent_case absent_cases[] = {
    {"absent after the arrival",
     {CFD_MS_ARRIVED_ON_SITE, CFD_MS_CUSTOMER_ABSENT},
     CFD_STATE_CUSTOMER_ABSENT,
     1,
     false},
    {"second appointment after it has priority",
     {CFD_MS_ARRIVED_ON_SITE, CFD_MS_CUSTOMER_ABSENT, CFD_MS_APPOINTMENT_SET},
     CFD_STATE_APPOINTED,
     1,
     true},
    {"second visit goes on to the close",
     {CFD_MS_ARRIVED_ON_SITE, CFD_MS_CUSTOMER_ABSENT, CFD_MS_APPOINTMENT_SET,
      CFD_MS_ARRIVED_ON_SITE, CFD_MS_DIAGNOSED, CFD_MS_SERVICE_RESTORED,
      CFD_MS_CONFIRMATION_SIGNED, CFD_MS_CLOSED},
     CFD_STATE_CLOSED,
     1,
     true},
    {"unreachable after the arrival: completed with the reason",
     {CFD_MS_ARRIVED_ON_SITE, CFD_MS_CUSTOMER_ABSENT, CFD_MS_SIGNATURE_WAIVED,
      CFD_MS_CLOSED},
     CFD_STATE_CLOSED,
     1,
     false},
};

static void test_customer_absent_at_the_door(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(absent_cases) / sizeof(absent_cases[0]); i++) {
        const absent_case *c = &absent_cases[i];
        cfd_record *rec = cfd_record_new();
        static const char *const ids[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
        cfd_event ev =
            fx_report("r1", "WO-AB", FX_T0, CFD_TIER_AA, CFD_URGENCY_UNSPECIFIED);

        print_message("case: %s\n", c->name);
        apply_expect(rec, &ev, CFD_APPLY_CHANGED);
        ev = fx_event("a1", "WO-AB", CFD_MS_ACCEPTED, FX_T0 + FX_MIN);
        apply_expect(rec, &ev, CFD_APPLY_CHANGED);
        for (size_t k = 0; k < 8 && c->steps[k] != CFD_MS_NONE; k++) {
            ev = fx_event(ids[k], "WO-AB", c->steps[k],
                          FX_T0 + (int64_t)(k + 1) * 10 * FX_MIN);
            ev.visit.reason = CFD_WAIVER_UNREACHABLE;
            apply_expect(rec, &ev, CFD_APPLY_CHANGED);
        }
        assert_int_equal(rec->state, c->want_state);
        assert_int_equal(rec->customer_absences, c->want_absences);
        assert_int_equal(rec->priority_appointment, c->want_priority);
        cfd_record_destroy(rec);
    }
}

/* A repeat fault linked by the service (its own event) names the earlier order, and a
 * later report (which does not carry it) never takes it away, in any arrival order. */
typedef struct repeat_case {
    const char *name;
    const char *report_prev; /* the opening report's previous_work_order */
    const char *linked;      /* the service's REPEAT_FAULT; NULL none */
    bool second_report;      /* a second report (the customer calls again), later */
    const char *want;
} repeat_case;

static cfd_record *replay(const cfd_event *const *stream, size_t n);

static const repeat_case repeat_cases[] = {
    {"linked by the service", NULL, "WO-EARLIER", true, "WO-EARLIER"},
    {"the caller's link stays without the service's", "WO-CALLER", NULL, false,
     "WO-CALLER"},
    {"the service's link wins over the caller's", "WO-CALLER", "WO-EARLIER", false,
     "WO-EARLIER"},
    {"no link", NULL, NULL, true, NULL},
};

/* Replays evs[0..n) (n <= 3) in every arrival order: the string field `name` at
 * offset off of each record must be want. */
static void str_in_every_order(const cfd_event *evs, size_t n, const char *name, size_t off,
                               const char *want)
{
    static const size_t perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                       {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};

    for (size_t p = 0; p < 6; p++) {
        const cfd_event *stream[3];
        size_t k = 0;
        cfd_record *rec;

        for (size_t j = 0; j < 3; j++)
            if (perms[p][j] < n)
                stream[k++] = &evs[perms[p][j]];
        rec = replay(stream, k);
        eq_str(name, *(char **)((char *)rec + off), want);
        cfd_record_destroy(rec);
    }
}

static void test_repeat_fault_linked(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(repeat_cases) / sizeof(repeat_cases[0]); i++) {
        const repeat_case *c = &repeat_cases[i];
        cfd_event evs[3];
        size_t n = 0;

        print_message("case: %s\n", c->name);
        evs[n] = fx_report("r1", "WO-RF", FX_T0, CFD_TIER_AA, CFD_URGENCY_UNSPECIFIED);
        evs[n++].report.previous_work_order = c->report_prev;
        if (c->linked != NULL) {
            evs[n] = fx_event("l1", "WO-RF", CFD_MS_REPEAT_FAULT, FX_T0);
            evs[n++].repeat.previous_work_order = c->linked;
        }
        if (c->second_report)
            evs[n++] = fx_report("r2", "WO-RF", FX_T0 + 30 * FX_MIN, CFD_TIER_AA,
                                 CFD_URGENCY_UNSPECIFIED);
        str_in_every_order(evs, n, "previous_work_order",
                           offsetof(cfd_record, previous_work_order), c->want);
    }
}

/* The issuing unit (出具单位) is the report's, unless an operator accepts the order
 * for another unit: the latest acceptance that names one wins, in any arrival order. */
typedef struct unit_case {
    const char *name;
    const char *accepted_for[2]; /* units named by two acceptances (NULL: none) */
    const char *want;
} unit_case;

static const unit_case unit_cases[] = {
    {"the report's unit", {NULL, NULL}, "Liangping branch"},
    {"accepted for another unit", {"Wanzhou branch", NULL}, "Wanzhou branch"},
    {"a later acceptance naming none keeps it", {"Wanzhou branch", NULL}, "Wanzhou branch"},
    {"the latest acceptance naming one wins",
     {"Wanzhou branch", "Kaizhou branch"},
     "Kaizhou branch"},
};

static void test_issuing_unit_of_acceptance(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(unit_cases) / sizeof(unit_cases[0]); i++) {
        const unit_case *c = &unit_cases[i];
        cfd_event evs[3];

        print_message("case: %s\n", c->name);
        evs[0] = fx_report("r1", "WO-IU", FX_T0, CFD_TIER_AA, CFD_URGENCY_UNSPECIFIED);
        evs[1] = fx_event("a1", "WO-IU", CFD_MS_ACCEPTED, FX_T0 + FX_MIN);
        evs[1].accept.issuing_unit = c->accepted_for[0];
        evs[2] = fx_event("a2", "WO-IU", CFD_MS_ACCEPTED, FX_T0 + 2 * FX_MIN);
        evs[2].accept.issuing_unit = c->accepted_for[1];
        str_in_every_order(evs, 3, "issuing_unit", offsetof(cfd_record, issuing_unit),
                           c->want);
    }
}

static void test_derived_fields(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event evs[] = {
        fx_report("r1", "WO-7", FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED),
        fx_event("n1", "WO-7", CFD_MS_ALARM, FX_T0 - 20 * FX_MIN),
        fx_event("n2", "WO-7", CFD_MS_ALARM, FX_T0 - 10 * FX_MIN),
        fx_event("n3", "WO-7", CFD_MS_ALARM, FX_T0 + 5 * FX_MIN),
        fx_event("a1", "WO-7", CFD_MS_ACCEPTED, FX_T0 + 1 * FX_MIN),
        fx_event("o1", "WO-7", CFD_MS_ARRIVED_ON_SITE, FX_T0 + 40 * FX_MIN),
        fx_event("o2", "WO-7", CFD_MS_ARRIVED_ON_SITE, FX_T0 + 50 * FX_MIN),
        fx_event("s1", "WO-7", CFD_MS_SERVICE_RESTORED, FX_T0 + 90 * FX_MIN),
        fx_event("g1", "WO-7", CFD_MS_CONFIRMATION_SIGNED, FX_T0 + 100 * FX_MIN),
        fx_event("g2", "WO-7", CFD_MS_CONFIRMATION_SIGNED, FX_T0 + 105 * FX_MIN),
        fx_event("c1", "WO-7", CFD_MS_CLOSED, FX_T0 + 120 * FX_MIN),
    };

    (void)state;
    evs[1].alarm.alarm_id = "ALM-9";
    evs[1].alarm.cleared = true; /* a clear does not start the clock */
    evs[2].alarm.alarm_id = "ALM-3";
    evs[3].alarm.alarm_id = "ALM-9";
    evs[7].restoration.workaround = true;
    evs[7].restoration.remote = true;
    evs[9].signature.satisfaction = 4;
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        apply_expect(rec, &evs[i], CFD_APPLY_CHANGED);
    assert_int_equal(rec->state, CFD_STATE_CLOSED);
    assert_int_equal(rec->first_alarm_at_ms, FX_T0 - 10 * FX_MIN);
    assert_int_equal(rec->n_linked_alarms, 2);
    assert_string_equal(rec->linked_alarms[0], "ALM-3");
    assert_string_equal(rec->linked_alarms[1], "ALM-9");
    assert_int_equal(rec->arrival_time_ms, FX_T0 + 40 * FX_MIN);
    assert_int_equal(rec->customer_signed_at_ms, FX_T0 + 105 * FX_MIN);
    assert_int_equal(rec->satisfaction, 4);
    assert_int_equal(rec->service_end_time_ms, FX_T0 + 120 * FX_MIN);
    assert_true(rec->workaround);
    assert_true(rec->remote_restoration);
    assert_int_equal(rec->version, 11);
    assert_int_equal(cfd_record_as_of(rec), FX_T0 + 120 * FX_MIN);
    assert_true(cfd_record_is_complete(rec));
    assert_true(cfd_record_needs_emit(rec));
    rec->emitted_version = rec->version;
    assert_false(cfd_record_needs_emit(rec));
    cfd_record_destroy(rec);
}

static void test_close_end_time_and_cancel(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event rep = fx_report("r1", "WO-8", FX_T0, CFD_TIER_A, CFD_URGENCY_UNSPECIFIED);
    cfd_event res = fx_event("s1", "WO-8", CFD_MS_SERVICE_RESTORED, FX_T0 + FX_HOUR);
    cfd_event clo = fx_event("c1", "WO-8", CFD_MS_CLOSED, FX_T0 + 2 * FX_HOUR);
    cfd_event reo = fx_event("z1", "WO-8", CFD_MS_REOPENED, FX_T0 + 80 * FX_MIN);
    cfd_event can = fx_event("x1", "WO-8", CFD_MS_CANCELLED, FX_T0 + 4 * FX_HOUR);
    cfd_record *rec2 = cfd_record_new();

    (void)state;
    clo.close.service_end_time_ms = FX_T0 + 90 * FX_MIN;
    can.change.reason = "duplicate report";
    apply_expect(rec, &rep, CFD_APPLY_CHANGED);
    assert_false(cfd_record_is_complete(rec));
    assert_false(cfd_record_needs_emit(rec));
    apply_expect(rec, &res, CFD_APPLY_CHANGED);
    apply_expect(rec, &clo, CFD_APPLY_CHANGED);
    assert_int_equal(rec->service_end_time_ms, FX_T0 + 90 * FX_MIN);
    assert_true(cfd_record_needs_emit(rec));
    cfd_record_destroy(rec);

    /* The fault returns before the close: reopened, then cancelled. */
    apply_expect(rec2, &rep, CFD_APPLY_CHANGED);
    apply_expect(rec2, &res, CFD_APPLY_CHANGED);
    apply_expect(rec2, &reo, CFD_APPLY_CHANGED);
    assert_int_equal(rec2->state, CFD_STATE_REOPENED);
    assert_false(cfd_record_is_complete(rec2));
    apply_expect(rec2, &can, CFD_APPLY_CHANGED);
    assert_int_equal(rec2->state, CFD_STATE_CANCELLED);
    assert_string_equal(rec2->cancel_reason, "duplicate report");
    assert_true(cfd_record_needs_emit(rec2));
    cfd_record_destroy(rec2);
}

/* ---- property: arrival order and duplicates do not matter ------------------------- */

enum variant {
    V_NONE,
    V_CLEARED,     /* alarm: a clear */
    V_ALARM2,      /* alarm: another alarm id */
    V_ALT,         /* a later event of the kind with different payload */
    V_BY_CUSTOMER, /* appointment the customer asked for */
    V_REMOTE,      /* restoration done remotely, by a workaround */
    V_URGENT,      /* report: non-tiered, urgent */
    V_AA,          /* report: AA, gold */
    V_STANDARD,    /* report: standard tier */
    V_CANCEL,      /* cancellation with a reason */
    V_CLOSE_END,   /* close with an explicit service end */
    V_REPAUSE,     /* pause: the same pause id reported again, later */
    V_SPECIAL,     /* report: tier A, special fault, a repeat of an earlier order */
    V_AT_DOOR,     /* absence: after the arrival, the note gives only the leaving time */
};

typedef struct spec {
    const char *id;
    cfd_milestone kind;
    int at_min; /* minutes after the work order's base time */
    enum variant v;
} spec;

#define MAX_EVENTS 24

typedef struct scenario {
    const char *wo;
    spec events[MAX_EVENTS];
} scenario;

static const scenario scenarios[] = {
    {"WO-P1", /* AAA full visit, alarms before the report, late and repeated events */
     {{"n0", CFD_MS_ALARM, -10, V_CLEARED},
      {"n1", CFD_MS_ALARM, -5, V_NONE},
      {"r0", CFD_MS_REPORTED, 0, V_NONE},
      {"a0", CFD_MS_ACCEPTED, 2, V_NONE},
      {"d0", CFD_MS_DISPATCHED, 3, V_NONE},
      {"e0", CFD_MS_ENGINEER_ACCEPTED, 4, V_NONE},
      {"r1", CFD_MS_REPORTED, 5, V_ALT},
      {"k0", CFD_MS_CUSTOMER_CONTACTED, 10, V_NONE},
      {"t0", CFD_MS_DEPARTED, 20, V_NONE},
      {"o0", CFD_MS_ARRIVED_ON_SITE, 50, V_NONE},
      {"d1", CFD_MS_DISPATCHED, 55, V_ALT},
      {"g0", CFD_MS_DIAGNOSED, 60, V_NONE},
      {"g1", CFD_MS_DIAGNOSED, 70, V_ALT},
      {"s0", CFD_MS_SERVICE_RESTORED, 120, V_NONE},
      {"f0", CFD_MS_CONFIRMATION_SIGNED, 130, V_NONE},
      {"c0", CFD_MS_CLOSED, 140, V_CLOSE_END}}},
    {"WO-P2", /* AA gold, appointment asked by the customer */
     {{"r0", CFD_MS_REPORTED, 0, V_AA},
      {"a0", CFD_MS_ACCEPTED, 1, V_NONE},
      {"k0", CFD_MS_CUSTOMER_CONTACTED, 20, V_NONE},
      {"p0", CFD_MS_APPOINTMENT_SET, 25, V_BY_CUSTOMER},
      {"t0", CFD_MS_DEPARTED, 150, V_NONE},
      {"o0", CFD_MS_ARRIVED_ON_SITE, 170, V_NONE},
      {"s0", CFD_MS_SERVICE_RESTORED, 200, V_NONE},
      {"f0", CFD_MS_CONFIRMATION_SIGNED, 210, V_ALT},
      {"c0", CFD_MS_CLOSED, 220, V_NONE}}},
    {"WO-P3", /* urgent, non-tiered, restored remotely; the alarm repeats */
     {{"n0", CFD_MS_ALARM, -30, V_ALARM2},
      {"r0", CFD_MS_REPORTED, 0, V_URGENT},
      {"a0", CFD_MS_ACCEPTED, 5, V_NONE},
      {"n1", CFD_MS_ALARM, 10, V_ALARM2},
      {"s0", CFD_MS_SERVICE_RESTORED, 60, V_REMOTE},
      {"c0", CFD_MS_CLOSED, 70, V_NONE}}},
    {"WO-P4", /* cancelled; an alarm after the cancel is informational */
     {{"r0", CFD_MS_REPORTED, 0, V_NONE},
      {"a0", CFD_MS_ACCEPTED, 3, V_NONE},
      {"d0", CFD_MS_DISPATCHED, 5, V_NONE},
      {"x0", CFD_MS_CANCELLED, 30, V_CANCEL},
      {"n0", CFD_MS_ALARM, 40, V_NONE}}},
    {"WO-P5", /* standard tier, restored, the fault returns before the close: reopened,
               * visited again, closed */
     {{"r0", CFD_MS_REPORTED, 0, V_STANDARD},
      {"a0", CFD_MS_ACCEPTED, 1, V_NONE},
      {"o0", CFD_MS_ARRIVED_ON_SITE, 30, V_NONE},
      {"s0", CFD_MS_SERVICE_RESTORED, 60, V_NONE},
      {"z0", CFD_MS_REOPENED, 100, V_NONE},
      {"d0", CFD_MS_DISPATCHED, 105, V_ALT},
      {"o1", CFD_MS_ARRIVED_ON_SITE, 130, V_ALT},
      {"s1", CFD_MS_SERVICE_RESTORED, 150, V_REMOTE},
      {"f0", CFD_MS_CONFIRMATION_SIGNED, 160, V_NONE},
      {"c1", CFD_MS_CLOSED, 170, V_CLOSE_END}}},
    {"WO-P6", /* AAA, arrival far too late: breached on site */
     {{"r0", CFD_MS_REPORTED, 0, V_NONE},
      {"a0", CFD_MS_ACCEPTED, 1, V_NONE},
      {"k0", CFD_MS_CUSTOMER_CONTACTED, 30, V_NONE},
      {"o0", CFD_MS_ARRIVED_ON_SITE, 200, V_NONE},
      {"s0", CFD_MS_SERVICE_RESTORED, 300, V_NONE},
      {"c0", CFD_MS_CLOSED, 310, V_NONE}}},
    {"WO-P7", /* AA gold: rescheduled at short notice, customer absent, second
               * appointment, a part handled twice, typed pauses (one reported twice,
               * one retroactive), signature refused, event report after the close */
     {{"r0", CFD_MS_REPORTED, 0, V_AA},
      {"n0", CFD_MS_ALARM, 30, V_NONE},
      {"a0", CFD_MS_ACCEPTED, 1, V_NONE},
      {"k0", CFD_MS_CUSTOMER_CONTACTED, 10, V_NONE},
      {"p0", CFD_MS_APPOINTMENT_SET, 15, V_NONE},
      {"q0", CFD_MS_APPOINTMENT_RESCHEDULED, 100, V_NONE},
      {"t0", CFD_MS_DEPARTED, 200, V_NONE},
      {"b0", CFD_MS_CUSTOMER_ABSENT, 245, V_NONE},
      {"p1", CFD_MS_APPOINTMENT_SET, 260, V_BY_CUSTOMER},
      {"o0", CFD_MS_ARRIVED_ON_SITE, 390, V_NONE},
      {"x0", CFD_MS_PART_REPLACED, 400, V_NONE},
      {"u0", CFD_MS_CLOCK_PAUSED, 405, V_NONE},
      {"u1", CFD_MS_CLOCK_PAUSED, 407, V_REPAUSE},
      {"u2", CFD_MS_CLOCK_PAUSED, 410, V_ALT},
      {"g0", CFD_MS_DIAGNOSED, 415, V_NONE},
      {"x1", CFD_MS_PART_REPLACED, 420, V_ALT},
      {"v0", CFD_MS_CLOCK_RESUMED, 430, V_NONE},
      {"v1", CFD_MS_CLOCK_RESUMED, 450, V_ALT},
      {"s0", CFD_MS_SERVICE_RESTORED, 460, V_NONE},
      {"w0", CFD_MS_SIGNATURE_WAIVED, 470, V_NONE},
      {"c0", CFD_MS_CLOSED, 480, V_NONE},
      {"y0", CFD_MS_EVENT_REPORT_SUBMITTED, 2000, V_NONE}}},
    {"WO-P8", /* A, special, a repeat fault: customer unreachable, closed with the
               * reason and the visit note; a part reported before the visit */
     {{"r0", CFD_MS_REPORTED, 0, V_SPECIAL},
      {"a0", CFD_MS_ACCEPTED, 2, V_NONE},
      {"x0", CFD_MS_PART_REPLACED, 50, V_NONE},
      {"b0", CFD_MS_CUSTOMER_ABSENT, 60, V_ALT},
      {"w0", CFD_MS_SIGNATURE_WAIVED, 90, V_ALT},
      {"c0", CFD_MS_CLOSED, 100, V_NONE}}},
    {"WO-P9", /* AA: at the door at the agreed time, nobody home; a second
               * appointment the customer asks for, then the visit */
     {{"r0", CFD_MS_REPORTED, 0, V_AA},
      {"a0", CFD_MS_ACCEPTED, 1, V_NONE},
      {"p0", CFD_MS_APPOINTMENT_SET, 10, V_NONE},
      {"o0", CFD_MS_ARRIVED_ON_SITE, 175, V_NONE},
      {"b0", CFD_MS_CUSTOMER_ABSENT, 185, V_AT_DOOR},
      {"p1", CFD_MS_APPOINTMENT_SET, 190, V_BY_CUSTOMER},
      {"o1", CFD_MS_ARRIVED_ON_SITE, 370, V_ALT},
      {"g0", CFD_MS_DIAGNOSED, 380, V_NONE},
      {"s0", CFD_MS_SERVICE_RESTORED, 400, V_NONE},
      {"c0", CFD_MS_CONFIRMATION_SIGNED, 410, V_NONE},
      {"z0", CFD_MS_CLOSED, 420, V_NONE}}},
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* An event and the storage its id points into; never copied once built. */
typedef struct built {
    char id[48];
    cfd_event ev;
} built;

static built pool[N_SCENARIOS][MAX_EVENTS];
static size_t pool_n[N_SCENARIOS];

static const char *const engineers_a[] = {"eng-1", "", "eng-2"};
static const char *const engineers_b[] = {"eng-9"};
static const char *const staff[] = {"helper-1"};

static void build_event(built *b, const char *wo, const spec *s, int64_t base)
{
    snprintf(b->id, sizeof(b->id), "%s:%s", wo, s->id);
    b->ev = fx_event(b->id, wo, s->kind, base + s->at_min * FX_MIN);
    switch (s->kind) {
    case CFD_MS_REPORTED:
        if (s->v == V_ALT)
            b->ev.report.problem_description = "line down again, second call";
        if (s->v == V_URGENT) {
            b->ev.report.customer.tier = CFD_TIER_UNSPECIFIED;
            b->ev.report.urgency = CFD_URGENCY_URGENT;
        }
        if (s->v == V_AA) {
            b->ev.report.customer.tier = CFD_TIER_AA;
            b->ev.report.customer.gold = true;
        }
        if (s->v == V_STANDARD)
            b->ev.report.customer.tier = CFD_TIER_STANDARD;
        if (s->v == V_SPECIAL) {
            b->ev.report.customer.tier = CFD_TIER_A;
            b->ev.report.special = true;
            b->ev.report.previous_work_order = "WO-P3";
        }
        break;
    case CFD_MS_APPOINTMENT_RESCHEDULED:
        b->ev.appointment.time_ms = base + 240 * FX_MIN;
        b->ev.appointment.reason = "engineer delayed";
        break;
    case CFD_MS_CUSTOMER_ABSENT:
        b->ev.visit.note.visit_time_ms = s->v == V_AT_DOOR ? 0 : b->ev.event_time_ms;
        b->ev.visit.note.leaving_time_ms =
            b->ev.event_time_ms + (s->v == V_ALT ? 20 : 10) * FX_MIN;
        b->ev.visit.note.contact = s->v == V_ALT ? "400-000-0001" : NULL;
        b->ev.visit.note_left = s->v == V_ALT;
        break;
    case CFD_MS_SIGNATURE_WAIVED:
        b->ev.visit.reason = s->v == V_ALT ? CFD_WAIVER_UNREACHABLE : CFD_WAIVER_REFUSED;
        b->ev.visit.detail = s->v == V_ALT ? "no answer on three calls" : "refused to sign";
        if (s->v == V_ALT) {
            b->ev.visit.note.visit_time_ms = b->ev.event_time_ms - 5 * FX_MIN;
            b->ev.visit.note.leaving_time_ms = b->ev.event_time_ms;
            b->ev.visit.note.contact = "400-000-0002";
        }
        break;
    case CFD_MS_PART_REPLACED:
        b->ev.part.name = "optical module";
        b->ev.part.material_number = "MAT-0042";
        b->ev.part.serial_number = "HW20230415A0012";
        b->ev.part.quantity = s->v == V_ALT ? 2 : 0;
        b->ev.part.category = CFD_EQUIPMENT_COMPONENT;
        b->ev.part.fault_types =
            s->v == V_ALT ? CFD_PART_FAULT_BIT(CFD_PART_FAULT_MECHANICAL)
                          : CFD_PART_FAULT_BIT(CFD_PART_FAULT_FUNCTION_DEFECT) |
                                CFD_PART_FAULT_BIT(CFD_PART_FAULT_APPEARANCE_DEFECT);
        b->ev.part.preliminary_cause = "laser ageing";
        b->ev.part.responsible = CFD_RESPONSIBLE_SUPPLIER;
        b->ev.part.supplier_name = "Vendor A";
        break;
    case CFD_MS_CLOCK_PAUSED:
        b->ev.reported_by = "noc-op-1";
        b->ev.pause.pause_id = s->v == V_ALT ? "p2" : "p1";
        b->ev.pause.reason = s->v == V_ALT ? CFD_PAUSE_INTERCONNECTION : CFD_PAUSE_CUSTOMER;
        b->ev.pause.evidence =
            s->v == V_REPAUSE ? "second report" : "customer asked to wait";
        b->ev.pause.metrics =
            s->v == V_ALT ? 1u << CFD_METRIC_CONTACT | 1u << CFD_METRIC_RESTORATION : 0;
        b->ev.pause.start_ms = b->ev.event_time_ms - (s->v == V_REPAUSE ? 2 : 5) * FX_MIN;
        break;
    case CFD_MS_CLOCK_RESUMED:
        b->ev.pause.pause_id = s->v == V_ALT ? "p2" : "p1";
        b->ev.pause.end_ms = s->v == V_ALT ? b->ev.event_time_ms - 10 * FX_MIN : 0;
        break;
    case CFD_MS_EVENT_REPORT_SUBMITTED:
        b->ev.event_report.report_id = "RPT-7";
        break;
    case CFD_MS_DISPATCHED:
        if (s->v == V_ALT)
            b->ev.dispatch.contractor = "Contractor Two";
        break;
    case CFD_MS_ARRIVED_ON_SITE:
        b->ev.arrival.engineers = s->v == V_ALT ? engineers_b : engineers_a;
        b->ev.arrival.n_engineers = s->v == V_ALT ? 1 : 3;
        b->ev.arrival.assisting_staff = staff;
        b->ev.arrival.n_assisting_staff = s->v == V_ALT ? 0 : 1;
        break;
    case CFD_MS_APPOINTMENT_SET:
        b->ev.appointment.time_ms =
            base + (s->v == V_BY_CUSTOMER && s->at_min > 100 ? 380 : 180) * FX_MIN;
        b->ev.appointment.requested_by_customer = s->v == V_BY_CUSTOMER;
        break;
    case CFD_MS_DIAGNOSED:
        if (s->v == V_ALT) {
            b->ev.diagnosis.cause = CFD_CAUSE_OTHER;
            b->ev.diagnosis.cause_other = "construction work nearby";
        }
        break;
    case CFD_MS_SERVICE_RESTORED:
        b->ev.restoration.remote = s->v == V_REMOTE;
        b->ev.restoration.workaround = s->v == V_REMOTE;
        break;
    case CFD_MS_CONFIRMATION_SIGNED:
        if (s->v == V_ALT) {
            b->ev.signature.customer_opinion = "fine";
            b->ev.signature.engineer_signature = "eng-1";
            b->ev.signature.corrective_actions = "replace patch cord";
            b->ev.signature.suggestions = "faster please";
            b->ev.signature.satisfaction = 3;
        }
        break;
    case CFD_MS_CLOSED:
        if (s->v == V_CLOSE_END)
            b->ev.close.service_end_time_ms = base + (s->at_min - 5) * FX_MIN;
        break;
    case CFD_MS_CANCELLED:
        b->ev.change.reason = "duplicate report";
        break;
    case CFD_MS_ALARM:
        b->ev.alarm.cleared = s->v == V_CLEARED;
        b->ev.alarm.alarm_id = s->v == V_ALARM2    ? "ALM-2"
                               : s->v == V_CLEARED ? "ALM-0"
                                                   : "ALM-1";
        break;
    default:
        break;
    }
}

static void build_pool(void)
{
    for (size_t w = 0; w < N_SCENARIOS; w++) {
        int64_t base = FX_T0 + (int64_t)w * 24 * FX_HOUR;
        size_t n = 0;

        while (n < MAX_EVENTS && scenarios[w].events[n].id != NULL) {
            build_event(&pool[w][n], scenarios[w].wo, &scenarios[w].events[n], base);
            n++;
        }
        pool_n[w] = n;
    }
}

/* Re-applies parked events until none applies any more, as the worker does after
 * every change. @returns how many are still parked. */
static size_t drain_parked(cfd_record *rec, const cfd_event **parked, size_t n_parked)
{
    bool progress = true;

    while (progress && n_parked > 0) {
        progress = false;
        for (size_t k = 0; k < n_parked;) {
            cfd_apply_outcome out;
            char err[160] = "";

            if (cfd_record_apply(rec, parked[k], &pol, &out, err, sizeof(err)) != CFD_OK)
                fail_msg("re-apply %s: %s", parked[k]->event_id, err);
            if (out == CFD_APPLY_PARK) {
                k++;
                continue;
            }
            progress = progress || out == CFD_APPLY_CHANGED;
            parked[k] = parked[--n_parked];
        }
    }
    return n_parked;
}

/* Applies a stream as a worker would: parks what cannot apply yet (before the opening
 * event, or before a milestone it needs) and re-applies the parked after a change. */
static cfd_record *replay(const cfd_event *const *stream, size_t n)
{
    cfd_record *rec = cfd_record_new();
    const cfd_event *parked[4 * MAX_EVENTS];
    size_t n_parked = 0;

    assert_non_null(rec);
    for (size_t i = 0; i < n; i++) {
        cfd_apply_outcome out;
        char err[160] = "";

        if (cfd_record_apply(rec, stream[i], &pol, &out, err, sizeof(err)) != CFD_OK)
            fail_msg("apply %s: %s", stream[i]->event_id, err);
        if (out == CFD_APPLY_PARK) {
            assert_true(n_parked < sizeof(parked) / sizeof(parked[0]));
            parked[n_parked++] = stream[i];
        } else if (out == CFD_APPLY_CHANGED) {
            n_parked = drain_parked(rec, parked, n_parked);
        }
    }
    if (n_parked > 0)
        fail_msg("%zu events still parked, first %s", n_parked, parked[0]->event_id);
    return rec;
}

/* xorshift64*: deterministic, so a failure replays the same way. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static int by_time(const void *x, const void *y)
{
    const cfd_event *a = *(const cfd_event *const *)x, *b = *(const cfd_event *const *)y;

    if (a->event_time_ms != b->event_time_ms)
        return a->event_time_ms < b->event_time_ms ? -1 : 1;
    return strcmp(a->event_id, b->event_id);
}

/* Hand-checked facts of the side-path scenarios. */
static void check_side_paths(const cfd_record *p7, const cfd_record *p8)
{
    int64_t b7 = FX_T0 + 6 * 24 * FX_HOUR, b8 = FX_T0 + 7 * 24 * FX_HOUR;
    int32_t sum = 0;
    int codes[CFD_VIOLATION_COUNT] = {0};

    assert_int_equal(p7->state, CFD_STATE_CLOSED);
    assert_int_equal(p7->reschedules, 1);
    assert_int_equal(p7->customer_absences, 1);
    assert_true(p7->priority_appointment);
    assert_true(p7->appointment_by_customer);
    assert_int_equal(p7->appointment_time_ms, b7 + 380 * FX_MIN);
    assert_int_equal(p7->signature_waiver, CFD_WAIVER_REFUSED);
    assert_string_equal(p7->signature_waiver_detail, "refused to sign");
    /* A part handled twice is reported once per handling, in handling order. */
    assert_int_equal(p7->n_parts, 2);
    assert_string_equal(p7->parts[0].event_id, "WO-P7:x0");
    assert_int_equal(p7->parts[0].quantity, 1);
    assert_int_equal(p7->parts[1].quantity, 2);
    assert_int_equal(p7->parts[0].manufactured_on, 20230415);
    assert_int_equal(p7->parts[0].age_in_service_days, 998); /* 2023-04-15 .. 2026-01-07 */
    assert_int_equal(p7->parts[1].fault_types,
                     CFD_PART_FAULT_BIT(CFD_PART_FAULT_MECHANICAL));
    /* The later report of pause p1 wins; p2 was entered with its own end. */
    assert_int_equal(p7->n_pauses, 2);
    assert_string_equal(p7->pauses[0].pause_id, "p1");
    assert_string_equal(p7->pauses[0].evidence, "second report");
    assert_string_equal(p7->pauses[0].reported_by, "noc-op-1");
    assert_int_equal(p7->pauses[0].start_ms, b7 + 405 * FX_MIN);
    assert_int_equal(p7->pauses[0].end_ms, b7 + 430 * FX_MIN);
    assert_int_equal(p7->pauses[1].end_ms, b7 + 440 * FX_MIN);
    assert_int_equal(p7->pauses[1].reason, CFD_PAUSE_INTERCONNECTION);
    assert_true(p7->sla[CFD_METRIC_RESTORATION].paused_ms > 0);
    assert_int_equal(p7->sla[CFD_METRIC_EVENT_REPORT].status, CFD_MST_BREACHED);
    for (size_t i = 0; i < p7->n_violations; i++) {
        sum += p7->violations[i].points;
        codes[p7->violations[i].code]++;
    }
    assert_int_equal(p7->penalty_points, sum);
    /* reschedule notice 80 min before the agreed time, a 10 min wait */
    assert_int_equal(codes[CFD_VIOLATION_BROKEN_COMMITMENT], 2);
    assert_int_equal(codes[CFD_VIOLATION_EVENT_REPORT_LATE], 1);

    assert_int_equal(p8->state, CFD_STATE_CLOSED);
    assert_true(p8->special);
    assert_string_equal(p8->previous_work_order, "WO-P3");
    assert_int_equal(p8->signature_waiver, CFD_WAIVER_UNREACHABLE);
    assert_string_equal(p8->visit_note.contact, "400-000-0002");
    assert_int_equal(p8->visit_note.visit_time_ms, b8 + 85 * FX_MIN);
    assert_int_equal(p8->sla[CFD_METRIC_ON_SITE].actual_ms, b8 + 60 * FX_MIN);
}

/* Hand-checked facts of the in-order records, so the property compares against
 * something known to be right. */
static void check_references(cfd_record *const *ref)
{
    const cfd_record *p1 = ref[0], *p2 = ref[1], *p3 = ref[2], *p4 = ref[3], *p5 = ref[4],
                     *p6 = ref[5];
    int64_t b1 = FX_T0, b2 = FX_T0 + 24 * FX_HOUR, b3 = FX_T0 + 48 * FX_HOUR,
            b5 = FX_T0 + 96 * FX_HOUR, b6 = FX_T0 + 120 * FX_HOUR;

    assert_int_equal(p1->state, CFD_STATE_CLOSED);
    assert_int_equal(p1->version, 16);
    assert_string_equal(p1->problem_description, "line down again, second call");
    assert_string_equal(p1->contractor, "Contractor Two");
    assert_int_equal(p1->cause, CFD_CAUSE_OTHER);
    assert_int_equal(p1->first_alarm_at_ms, b1 - 5 * FX_MIN);
    assert_int_equal(p1->n_linked_alarms, 2);
    assert_int_equal(p1->n_engineers, 2);
    assert_int_equal(p1->service_end_time_ms, b1 + 135 * FX_MIN);
    /* AAA: contact by accept + 15 min, on site by accept + 1 h, restoration from the
     * alarm (before the report) + 4 h. */
    assert_int_equal(p1->sla[CFD_METRIC_CONTACT].deadline_ms, b1 + 17 * FX_MIN);
    assert_int_equal(p1->sla[CFD_METRIC_CONTACT].status, CFD_MST_MET);
    assert_int_equal(p1->sla[CFD_METRIC_ON_SITE].deadline_ms, b1 + 62 * FX_MIN);
    assert_int_equal(p1->sla[CFD_METRIC_ON_SITE].status, CFD_MST_MET);
    assert_int_equal(p1->sla[CFD_METRIC_RESTORATION].start_ms, b1 - 5 * FX_MIN);
    assert_int_equal(p1->sla[CFD_METRIC_RESTORATION].deadline_ms, b1 + 235 * FX_MIN);

    assert_int_equal(p2->customer.tier, CFD_TIER_AA);
    assert_true(p2->appointment_by_customer);
    assert_int_equal(p2->sla[CFD_METRIC_ON_SITE].deadline_ms, b2 + 180 * FX_MIN);
    assert_int_equal(p2->sla[CFD_METRIC_ON_SITE].status, CFD_MST_MET);
    assert_int_equal(p2->satisfaction, 3);

    assert_int_equal(p3->sla[CFD_METRIC_ON_SITE].status, CFD_MST_NOT_APPLICABLE);
    assert_int_equal(p3->sla[CFD_METRIC_RESTORATION].start_ms, b3 - 30 * FX_MIN);
    assert_int_equal(p3->sla[CFD_METRIC_CONTACT].start_ms, b3); /* urgent: the report */
    assert_int_equal(p3->n_linked_alarms, 1);
    assert_true(p3->remote_restoration);

    assert_int_equal(p4->state, CFD_STATE_CANCELLED);
    assert_int_equal(p4->sla[CFD_METRIC_CONTACT].status, CFD_MST_NOT_APPLICABLE);
    assert_string_equal(p4->cancel_reason, "duplicate report");

    assert_int_equal(p5->state, CFD_STATE_CLOSED);
    assert_int_equal(p5->arrival_time_ms, b5 + 30 * FX_MIN);
    assert_int_equal(p5->n_engineers, 1);
    assert_string_equal(p5->engineers[0], "eng-9");
    assert_int_equal(p5->n_assisting_staff, 0);
    assert_int_equal(p5->service_end_time_ms, b5 + 165 * FX_MIN);

    assert_int_equal(p6->sla[CFD_METRIC_CONTACT].status, CFD_MST_BREACHED);
    assert_int_equal(p6->sla[CFD_METRIC_ON_SITE].deadline_ms, b6 + 61 * FX_MIN);
    assert_int_equal(p6->sla[CFD_METRIC_ON_SITE].status, CFD_MST_BREACHED);
    assert_int_equal(p6->sla[CFD_METRIC_RESTORATION].status, CFD_MST_BREACHED);

    check_side_paths(ref[6], ref[7]);

    /* WO-P9: the absence after the arrival is applied; 20 min at the door is enough. */
    assert_int_equal(ref[8]->state, CFD_STATE_CLOSED);
    assert_int_equal(ref[8]->customer_absences, 1);
    assert_true(ref[8]->priority_appointment);
    assert_int_equal(ref[8]->arrival_time_ms, FX_T0 + 8 * 24 * FX_HOUR + 175 * FX_MIN);
    for (size_t i = 0; i < ref[8]->n_violations; i++)
        assert_int_not_equal(ref[8]->violations[i].code, CFD_VIOLATION_BROKEN_COMMITMENT);
}

/* The byte-identical check: the encoded WorkOrderState covers every field, the side
 * paths, parts, pauses and violations included. */
static void state_bytes_equal(const cfd_record *a, const cfd_record *b)
{
    uint8_t *x, *y;
    size_t nx, ny;

    cfd_codec_state_encode(a, &x, &nx);
    cfd_codec_state_encode(b, &y, &ny);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx);
    free(x);
    free(y);
}

static void shuffle(const cfd_event **v, size_t n, uint64_t *seed)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(seed, i);
        const cfd_event *t = v[i - 1];

        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Fills stream with scenario w's events in a random order. @returns their number. */
static size_t shuffled_stream(size_t w, const cfd_event **stream, uint64_t *seed)
{
    for (size_t i = 0; i < pool_n[w]; i++)
        stream[i] = &pool[w][i].ev;
    shuffle(stream, pool_n[w], seed);
    return pool_n[w];
}

#define PERMUTATIONS_PER_ORDER 1000

static void test_any_order_same_record(void **state)
{
    cfd_record *ref[N_SCENARIOS];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    size_t runs = 0;

    (void)state;
    build_pool();
    for (size_t w = 0; w < N_SCENARIOS; w++) {
        const cfd_event *in_order[MAX_EVENTS];

        for (size_t i = 0; i < pool_n[w]; i++)
            in_order[i] = &pool[w][i].ev;
        qsort(in_order, pool_n[w], sizeof(in_order[0]), by_time);
        ref[w] = replay(in_order, pool_n[w]);
        assert_int_equal(ref[w]->version, pool_n[w]);
    }
    check_references(ref);

    for (size_t w = 0; w < N_SCENARIOS; w++) {
        for (int p = 0; p < PERMUTATIONS_PER_ORDER; p++) {
            const cfd_event *stream[3 * MAX_EVENTS];
            size_t n, dups = rng_below(&seed, 6);
            cfd_record *rec;

            n = shuffled_stream(w, stream, &seed);
            /* Redeliveries: copies of random events, somewhere after the original. */
            for (size_t d = 0; d < dups; d++) {
                size_t from = rng_below(&seed, n);
                const cfd_event *copy = stream[from];
                size_t at = from + 1 + rng_below(&seed, n - from);

                memmove(&stream[at + 1], &stream[at], (n - at) * sizeof(stream[0]));
                stream[at] = copy;
                n++;
            }
            rec = replay(stream, n);
            records_equal(rec, ref[w]);
            state_bytes_equal(rec, ref[w]);
            cfd_record_destroy(rec);
            runs++;
        }
    }
    print_message("%zu arrival orders, each byte-identical to the in-order record\n", runs);
    assert_true(runs >= 8000);
    for (size_t w = 0; w < N_SCENARIOS; w++)
        cfd_record_destroy(ref[w]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_copies_report),
        cmocka_unit_test(test_no_pointer_into_event),
        cmocka_unit_test(test_park_and_duplicate),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_other_work_order),
        cmocka_unit_test(test_latest_payload_wins),
        cmocka_unit_test(test_milestone_sets_only_what_it_carries),
        cmocka_unit_test(test_customer_absent_at_the_door),
        cmocka_unit_test(test_repeat_fault_linked),
        cmocka_unit_test(test_issuing_unit_of_acceptance),
        cmocka_unit_test(test_derived_fields),
        cmocka_unit_test(test_close_end_time_and_cancel),
        cmocka_unit_test(test_any_order_same_record),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

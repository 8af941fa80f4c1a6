/*
 * Unit tests for src/domain/assessment.c and src/domain/part.c: the violations of a
 * record with their penalty points, the sums per contractor per month, the serial
 * number's date, repeat faults, and policy pinning / re-evaluation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "confirmd/assessment.h"
#include "domain_fixture.h"

static cfd_policy pol;

static int setup(void **state)
{
    (void)state;
    cfd_policy_defaults(&pol);
    return 0;
}

enum aflag {
    A_NONE,
    A_AA,           /* report: tier AA */
    A_BY_CUSTOMER,  /* appointment / reschedule the customer asked for */
    A_REMOTE,       /* restoration: remote */
    A_FULL_FORM,    /* signature: customer and engineer signatures */
    A_WORKAROUND,   /* restoration: a temporary fix, permanent fix agreed for arg */
    A_NON_STANDARD, /* complaint: caused by non-standard work */
    A_PROMISED,     /* part replaced: promised for arg */
    A_AT_DOOR,      /* customer absent: the note gives only the leaving time, arg (0:
                      no note at all) */
};

typedef struct astep {
    cfd_milestone kind;
    int at; /* minutes after FX_T0 */
    enum aflag flag;
    int arg; /* appointment time / leaving time, minutes after FX_T0 */
} astep;

typedef struct acase {
    const char *name;
    astep steps[10];
    cfd_violation_code code; /* NONE: no violation at all */
    int count;               /* violations of that code */
    int32_t points;          /* the record's penalty points */
} acase;

#define S(k, t)                \
    {                          \
        .kind = (k), .at = (t) \
    }
#define SF(k, t, f, a)                                  \
    {                                                   \
        .kind = (k), .at = (t), .flag = (f), .arg = (a) \
    }
#define OPEN(tier) SF(CFD_MS_REPORTED, 0, tier, 0), S(CFD_MS_ACCEPTED, 0)

static const acase acases[] = {
    {"late arrival: the on-site deadline missed costs 15",
     {OPEN(A_NONE), S(CFD_MS_ARRIVED_ON_SITE, 70)},
     CFD_VIOLATION_LATE_ARRIVAL,
     1,
     15},
    {"late arrival: after the agreed appointment costs 15",
     {OPEN(A_AA), SF(CFD_MS_APPOINTMENT_SET, 5, A_NONE, 60), S(CFD_MS_ARRIVED_ON_SITE, 70)},
     CFD_VIOLATION_LATE_ARRIVAL,
     1,
     15},
    {"arrival before the appointment: no violation",
     {OPEN(A_AA), SF(CFD_MS_APPOINTMENT_SET, 5, A_NONE, 60), S(CFD_MS_ARRIVED_ON_SITE, 55)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"cause not found in time: 10 for a started day",
     {OPEN(A_NONE), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_DIAGNOSED, 151)},
     CFD_VIOLATION_CAUSE_NOT_FOUND,
     1,
     10},
    {"cause not found in time: 20 for two started days",
     {OPEN(A_NONE), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_DIAGNOSED, 150 + 1441)},
     CFD_VIOLATION_CAUSE_NOT_FOUND,
     1,
     20},
    {"cause still not found: judged at the latest event",
     {OPEN(A_NONE), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_ALARM, 160)},
     CFD_VIOLATION_CAUSE_NOT_FOUND,
     1,
     10},
    {"event report late: 5 per started day",
     {OPEN(A_NONE), S(CFD_MS_DIAGNOSED, 30), SF(CFD_MS_SERVICE_RESTORED, 60, A_REMOTE, 0),
      S(CFD_MS_EVENT_REPORT_SUBMITTED, 60 + 3 * 1440 + 1)},
     CFD_VIOLATION_EVENT_REPORT_LATE,
     1,
     15},
    {"event report within a day: no violation",
     {OPEN(A_NONE), S(CFD_MS_DIAGNOSED, 30), SF(CFD_MS_SERVICE_RESTORED, 60, A_REMOTE, 0),
      S(CFD_MS_EVENT_REPORT_SUBMITTED, 600)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"closed without cause and signatures: 5 per missing item",
     {OPEN(A_NONE), SF(CFD_MS_SERVICE_RESTORED, 60, A_REMOTE, 0), S(CFD_MS_CLOSED, 70)},
     CFD_VIOLATION_NONCONFORMING_RECORD,
     3,
     15},
    {"a waived signature completes the form: only the cause is missing",
     {OPEN(A_NONE), SF(CFD_MS_SERVICE_RESTORED, 60, A_REMOTE, 0),
      S(CFD_MS_SIGNATURE_WAIVED, 65), S(CFD_MS_CLOSED, 70)},
     CFD_VIOLATION_NONCONFORMING_RECORD,
     1,
     5},
    /* Restored remotely: no visit, nobody to sign; a visited order cannot say so. */
    {"restored remotely, closed without signature: only the cause is missing",
     {OPEN(A_NONE), SF(CFD_MS_SERVICE_RESTORED, 60, A_REMOTE, 0),
      SF(CFD_MS_SIGNATURE_WAIVED, 65, A_REMOTE, 0), S(CFD_MS_CLOSED, 70)},
     CFD_VIOLATION_NONCONFORMING_RECORD,
     1,
     5},
    {"visited, then waived as remote: both signatures are missing",
     {OPEN(A_NONE), SF(CFD_MS_ARRIVED_ON_SITE, 30, A_FULL_FORM, 0), S(CFD_MS_DIAGNOSED, 35),
      S(CFD_MS_SERVICE_RESTORED, 40), SF(CFD_MS_SIGNATURE_WAIVED, 45, A_REMOTE, 0),
      S(CFD_MS_CLOSED, 50)},
     CFD_VIOLATION_NONCONFORMING_RECORD,
     2,
     10},
    {"a visited order closed without engineers and findings",
     {OPEN(A_NONE), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_SERVICE_RESTORED, 40),
      SF(CFD_MS_CONFIRMATION_SIGNED, 45, A_FULL_FORM, 0), S(CFD_MS_CLOSED, 50)},
     CFD_VIOLATION_NONCONFORMING_RECORD,
     3,
     15},
    {"a complete form: no violation",
     {OPEN(A_NONE), SF(CFD_MS_ARRIVED_ON_SITE, 30, A_FULL_FORM, 0), S(CFD_MS_DIAGNOSED, 35),
      S(CFD_MS_SERVICE_RESTORED, 40), SF(CFD_MS_CONFIRMATION_SIGNED, 45, A_FULL_FORM, 0),
      S(CFD_MS_CLOSED, 50)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"cancelled: the form is not judged",
     {OPEN(A_NONE), S(CFD_MS_CANCELLED, 5)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"reschedule notice under 2 h: a broken service commitment, 5",
     {OPEN(A_AA), SF(CFD_MS_APPOINTMENT_SET, 5, A_NONE, 180),
      SF(CFD_MS_APPOINTMENT_RESCHEDULED, 100, A_NONE, 240)},
     CFD_VIOLATION_BROKEN_COMMITMENT,
     1,
     5},
    {"reschedule notice of exactly 2 h: fine",
     {OPEN(A_AA), SF(CFD_MS_APPOINTMENT_SET, 5, A_NONE, 180),
      SF(CFD_MS_APPOINTMENT_RESCHEDULED, 60, A_NONE, 240)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"reschedule the customer asked for: fine",
     {OPEN(A_AA), SF(CFD_MS_APPOINTMENT_SET, 5, A_NONE, 180),
      SF(CFD_MS_APPOINTMENT_RESCHEDULED, 170, A_BY_CUSTOMER, 240)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"absent customer: waiting under 15 min breaks the commitment",
     {OPEN(A_AA), SF(CFD_MS_CUSTOMER_ABSENT, 50, A_NONE, 60)},
     CFD_VIOLATION_BROKEN_COMMITMENT,
     1,
     5},
    {"absent customer: waiting 15 min is fine",
     {OPEN(A_AA), SF(CFD_MS_CUSTOMER_ABSENT, 50, A_NONE, 65)},
     CFD_VIOLATION_NONE,
     0,
     0},
    /* 「须在门口等候至少15分钟」 after the arrival at the agreed time. */
    {"absent after the arrival: 5 min at the door breaks the commitment",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 60),
      SF(CFD_MS_CUSTOMER_ABSENT, 65, A_AT_DOOR, 0)},
     CFD_VIOLATION_BROKEN_COMMITMENT,
     1,
     5},
    {"absent after the arrival: 20 min at the door is fine",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 60),
      SF(CFD_MS_CUSTOMER_ABSENT, 80, A_AT_DOOR, 0)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"absent after the arrival: the note's leaving time counts from the arrival",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 60),
      SF(CFD_MS_CUSTOMER_ABSENT, 62, A_AT_DOOR, 78)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"absent after the arrival: leaving 10 min after it is too early",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 60),
      SF(CFD_MS_CUSTOMER_ABSENT, 75, A_AT_DOOR, 70)},
     CFD_VIOLATION_BROKEN_COMMITMENT,
     1,
     5},
    {"second visit absent again: its wait counts from its own arrival",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 60),
      SF(CFD_MS_CUSTOMER_ABSENT, 80, A_AT_DOOR, 0),
      SF(CFD_MS_APPOINTMENT_SET, 85, A_NONE, 150), S(CFD_MS_ARRIVED_ON_SITE, 145),
      SF(CFD_MS_CUSTOMER_ABSENT, 150, A_AT_DOOR, 0)},
     CFD_VIOLATION_BROKEN_COMMITMENT,
     1,
     5},
    {"complaint caused by non-standard work: 15 each",
     {OPEN(A_AA), SF(CFD_MS_COMPLAINT, 30, A_NON_STANDARD, 0),
      SF(CFD_MS_COMPLAINT, 40, A_NON_STANDARD, 0)},
     CFD_VIOLATION_COMPLAINT,
     2,
     30},
    {"complaint not about the work: no violation",
     {OPEN(A_AA), S(CFD_MS_COMPLAINT, 30)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"temporary fix, permanent fix a started day late: 10",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_DIAGNOSED, 40),
      SF(CFD_MS_SERVICE_RESTORED, 60, A_WORKAROUND, 120), S(CFD_MS_SERVICE_RESTORED, 121)},
     CFD_VIOLATION_TEMPORARY_FIX_LATE,
     1,
     10},
    {"temporary fix, still no permanent fix 2 days past the agreed time: 30",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_DIAGNOSED, 40),
      SF(CFD_MS_SERVICE_RESTORED, 60, A_WORKAROUND, 120),
      S(CFD_MS_EVENT_REPORT_SUBMITTED, 70), S(CFD_MS_COMPLAINT, 120 + 2 * 24 * 60 + 1)},
     CFD_VIOLATION_TEMPORARY_FIX_LATE,
     1,
     30},
    {"temporary fix made permanent in time: no violation",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_DIAGNOSED, 40),
      SF(CFD_MS_SERVICE_RESTORED, 60, A_WORKAROUND, 120), S(CFD_MS_SERVICE_RESTORED, 110)},
     CFD_VIOLATION_NONE,
     0,
     0},
    {"part a day and a minute later than promised: 10 per started day, 20",
     {OPEN(A_AA), S(CFD_MS_ARRIVED_ON_SITE, 30), S(CFD_MS_DIAGNOSED, 40),
      SF(CFD_MS_PART_REPLACED, 60 + 24 * 60 + 1, A_PROMISED, 60)},
     CFD_VIOLATION_PARTS_LATE,
     1,
     20},
    {"part on time: no violation",
     {OPEN(A_AA), SF(CFD_MS_PART_REPLACED, 50, A_PROMISED, 60)},
     CFD_VIOLATION_NONE,
     0,
     0},
};

static cfd_event make_event(const astep *s, const char *id, const char *wo)
{
    cfd_event ev = fx_event(id, wo, s->kind, FX_T0 + s->at * FX_MIN);

    if (s->kind == CFD_MS_REPORTED && s->flag == A_AA)
        ev.report.customer.tier = CFD_TIER_AA;
    if (s->kind == CFD_MS_APPOINTMENT_SET || s->kind == CFD_MS_APPOINTMENT_RESCHEDULED) {
        ev.appointment.time_ms = FX_T0 + s->arg * FX_MIN;
        ev.appointment.requested_by_customer = s->flag == A_BY_CUSTOMER;
    }
    if (s->kind == CFD_MS_SERVICE_RESTORED) {
        ev.restoration.remote = s->flag == A_REMOTE;
        ev.restoration.workaround = s->flag == A_WORKAROUND;
        if (s->flag == A_WORKAROUND)
            ev.restoration.permanent_fix_due_ms = FX_T0 + s->arg * FX_MIN;
    }
    if (s->kind == CFD_MS_COMPLAINT)
        ev.complaint.non_standard_work = s->flag == A_NON_STANDARD;
    if (s->kind == CFD_MS_PART_REPLACED) {
        ev.part.name = "optical module";
        ev.part.category = CFD_EQUIPMENT_COMPONENT;
        if (s->flag == A_PROMISED)
            ev.part_promised_at_ms = FX_T0 + s->arg * FX_MIN;
    }
    static const char *const engineers[] = {"eng-1"};

    if (s->kind == CFD_MS_ARRIVED_ON_SITE && s->flag == A_FULL_FORM) {
        ev.arrival.engineers = engineers;
        ev.arrival.n_engineers = 1;
    }
    if (s->kind == CFD_MS_CONFIRMATION_SIGNED && s->flag == A_FULL_FORM)
        ev.signature.engineer_signature = "eng-1";
    if (s->kind == CFD_MS_CUSTOMER_ABSENT && s->flag != A_AT_DOOR)
        ev.visit.note.visit_time_ms = ev.event_time_ms;
    if (s->kind == CFD_MS_CUSTOMER_ABSENT && s->arg != 0)
        ev.visit.note.leaving_time_ms = FX_T0 + s->arg * FX_MIN;
    if (s->kind == CFD_MS_SIGNATURE_WAIVED)
        ev.visit.reason =
            s->flag == A_REMOTE ? CFD_WAIVER_REMOTE_RESTORATION : CFD_WAIVER_REFUSED;
    return ev;
}

static cfd_record *build(const astep *steps, size_t max, const char *wo)
{
    cfd_record *rec = cfd_record_new();
    char ids[16][8];

    for (size_t k = 0; k < max && steps[k].kind != CFD_MS_NONE; k++) {
        cfd_event ev;
        cfd_apply_outcome out;
        char err[128] = "";

        snprintf(ids[k], sizeof(ids[k]), "e%zu", k);
        ev = make_event(&steps[k], ids[k], wo);
        if (cfd_record_apply(rec, &ev, &pol, &out, err, sizeof(err)) != CFD_OK)
            fail_msg("step %zu: %s", k, err);
        assert_int_equal(out, CFD_APPLY_CHANGED);
    }
    return rec;
}

static void test_violation_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(acases) / sizeof(acases[0]); i++) {
        const acase *c = &acases[i];
        cfd_record *rec = build(c->steps, 10, "WO-V");
        int n = 0;
        int32_t sum = 0;

        print_message("case: %s\n", c->name);
        for (size_t k = 0; k < rec->n_violations; k++) {
            print_message("  %s %d \"%s\"\n", cfd_violation_name(rec->violations[k].code),
                          (int)rec->violations[k].points, rec->violations[k].detail);
            n += rec->violations[k].code == c->code;
            sum += rec->violations[k].points;
            if (c->code != CFD_VIOLATION_NONE)
                assert_int_equal(rec->violations[k].code, c->code);
        }
        if (c->code == CFD_VIOLATION_NONE)
            assert_int_equal(rec->n_violations, 0);
        else
            assert_int_equal(n, c->count);
        assert_int_equal(rec->penalty_points, c->points);
        assert_int_equal(sum, c->points);
        cfd_record_destroy(rec);
    }
}

/* The points are the policy's: a contract with other figures judges with them. */
static void test_points_from_policy(void **state)
{
    static const astep late[] = {OPEN(A_NONE), S(CFD_MS_ARRIVED_ON_SITE, 70)};
    cfd_policy saved = pol;
    cfd_record *rec;

    (void)state;
    pol.points.late_arrival = 20;
    cfd_policy_seal(&pol);
    rec = build(late, 3, "WO-W");
    assert_int_equal(rec->penalty_points, 20);
    assert_string_equal(rec->violations[0].detail, "on site 10 min after the deadline");
    assert_int_equal(rec->violations[0].metric, CFD_METRIC_ON_SITE);
    assert_int_equal(rec->violations[0].at_ms, FX_T0 + 60 * FX_MIN);
    cfd_record_destroy(rec);
    pol = saved;
}

/* Sums per contractor per month, in the operator's local month. */
static void test_monthly_sums(void **state)
{
    /* 2026-01-31 17:00 UTC is 2026-02-01 01:00 in UTC+8: February. */
    const int64_t jan31_17utc = FX_T0 + (30 * 24 + 8) * FX_HOUR;
    static const astep late[] = {OPEN(A_NONE), S(CFD_MS_DISPATCHED, 1),
                                 S(CFD_MS_ARRIVED_ON_SITE, 70)};
    cfd_record *a = build(late, 4, "WO-M1"), *b = build(late, 4, "WO-M2");
    cfd_record *c = build(late, 4, "WO-M3");
    cfd_assessment *as = cfd_assessment_new(), *as2 = cfd_assessment_new();
    const cfd_assessment_row *row;

    (void)state;
    free(c->contractor);
    c->contractor = strdup("Contractor Two");
    b->violations[0].at_ms = jan31_17utc;
    /* Any order of the records gives the same rows. */
    cfd_assessment_add(as, a, &pol);
    cfd_assessment_add(as, b, &pol);
    cfd_assessment_add(as, c, &pol);
    cfd_assessment_add(as2, c, &pol);
    cfd_assessment_add(as2, b, &pol);
    cfd_assessment_add(as2, a, &pol);
    assert_int_equal(as->n_rows, 3);
    assert_int_equal(as2->n_rows, 3);
    for (size_t i = 0; i < as->n_rows; i++) {
        assert_string_equal(as->rows[i].contractor, as2->rows[i].contractor);
        assert_int_equal(as->rows[i].points, as2->rows[i].points);
        assert_int_equal(as->rows[i].month, as2->rows[i].month);
    }
    row = cfd_assessment_find(as, "Contractor One", 2026, 1);
    assert_non_null(row);
    assert_int_equal(row->points, 15);
    assert_int_equal(row->violations, 1);
    assert_int_equal(row->records, 1);
    assert_int_equal(row->by_code[CFD_VIOLATION_LATE_ARRIVAL], 1);
    assert_int_equal(row->points_by_code[CFD_VIOLATION_LATE_ARRIVAL], 15);
    row = cfd_assessment_find(as, "Contractor One", 2026, 2);
    assert_non_null(row);
    assert_int_equal(row->points, 15);
    row = cfd_assessment_find(as, "Contractor Two", 2026, 1);
    assert_non_null(row);
    assert_int_equal(row->points, 15);
    assert_null(cfd_assessment_find(as, "Contractor Two", 2026, 2));
    assert_null(cfd_assessment_find(as, NULL, 2026, 1));
    int y, m;
    cfd_assessment_month_of(&pol, jan31_17utc, &y, &m);
    assert_int_equal(y * 100 + m, 202602);
    cfd_assessment_month_of(&pol, jan31_17utc - FX_HOUR * 8 - 1, &y, &m);
    assert_int_equal(y * 100 + m, 202601);
    cfd_assessment_destroy(as);
    cfd_assessment_destroy(as2);
    cfd_assessment_destroy(NULL);
    cfd_record_destroy(a);
    cfd_record_destroy(b);
    cfd_record_destroy(c);
}

/* Serial numbers: vendor letters, then the date; the default format is YYYYMMDD. */
static void test_serial_date(void **state)
{
    static const struct {
        const char *name, *serial;
        cfd_serial_date fmt;
        int32_t want;
    } cases[] = {
        {"YYYYMMDD after a vendor prefix", "HW20230415A0012", CFD_SERIAL_DATE_YYYYMMDD,
         20230415},
        {"YYMM after a vendor prefix", "ZTE2304-0001", CFD_SERIAL_DATE_YYMM, 20230401},
        {"leap day", "HW20240229X", CFD_SERIAL_DATE_YYYYMMDD, 20240229},
        {"not a leap year", "HW20230229X", CFD_SERIAL_DATE_YYYYMMDD, 0},
        {"month 13", "HW20231301", CFD_SERIAL_DATE_YYYYMMDD, 0},
        {"no vendor prefix", "20230415", CFD_SERIAL_DATE_YYYYMMDD, 0},
        {"too few digits", "HW202304", CFD_SERIAL_DATE_YYYYMMDD, 0},
        {"serials carry no date", "HW20230415", CFD_SERIAL_DATE_NONE, 0},
        {"no serial", NULL, CFD_SERIAL_DATE_YYYYMMDD, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(cfd_part_serial_date(cases[i].serial, cases[i].fmt),
                         cases[i].want);
    }
    /* 2023-04-15 to 2026-01-01 09:00 UTC: 992 whole days. */
    assert_int_equal(cfd_part_age_days(20230415, FX_T0), 992);
    assert_int_equal(cfd_part_age_days(20260101, FX_T0), 0);
    assert_int_equal(cfd_part_age_days(20260102, FX_T0), -1);
    assert_int_equal(cfd_part_age_days(0, FX_T0), -1);
}

/* The part's age in service is computed at its handling, under the policy's format. */
static void test_part_on_record(void **state)
{
    static const astep open_only[] = {OPEN(A_NONE)};
    cfd_record *rec = build(open_only, 2, "WO-PT");
    cfd_event part = fx_event("pt", "WO-PT", CFD_MS_PART_REPLACED, FX_T0 + FX_HOUR);
    cfd_event later = fx_event("pt0", "WO-PT", CFD_MS_PART_REPLACED, FX_T0 + 30 * FX_MIN);
    cfd_apply_outcome out;

    (void)state;
    part.part.name = "fan";
    part.part.serial_number = "DL20250101Z";
    later.part.name = "fan";
    later.part.serial_number = "DL20990101Z"; /* made after it was handled: unknown */
    assert_int_equal(cfd_record_apply(rec, &part, &pol, &out, NULL, 0), CFD_OK);
    assert_int_equal(cfd_record_apply(rec, &later, &pol, &out, NULL, 0), CFD_OK);
    assert_int_equal(rec->n_parts, 2);
    assert_string_equal(rec->parts[0].event_id, "pt0"); /* handling order */
    assert_int_equal(rec->parts[0].manufactured_on, 0);
    assert_int_equal(rec->parts[1].manufactured_on, 20250101);
    assert_int_equal(rec->parts[1].age_in_service_days, 365);
    assert_int_equal(rec->parts[1].quantity, 1); /* 0 is read as 1 */
    cfd_record_destroy(rec);
}

/* Needs further observation: a new fault on the same circuit within 7 days repeats. */
static void test_repeat_fault(void **state)
{
    static const struct {
        const char *name;
        cfd_result result;
        const char *circuit;
        int days_after;
        bool want;
    } cases[] = {
        {"same circuit after 6 days: repeat", CFD_RESULT_NEEDS_OBSERVATION, "CQ-LP-0001", 6,
         true},
        {"same circuit after 7 days: repeat", CFD_RESULT_NEEDS_OBSERVATION, "CQ-LP-0001", 7,
         true},
        {"same circuit after 8 days: new fault", CFD_RESULT_NEEDS_OBSERVATION, "CQ-LP-0001",
         8, false},
        {"other circuit: new fault", CFD_RESULT_NEEDS_OBSERVATION, "CQ-LP-0002", 1, false},
        {"earlier one restored: not watched", CFD_RESULT_RESTORED, "CQ-LP-0001", 1, false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_record earlier = {0};

        print_message("case: %s\n", cases[i].name);
        earlier.circuit_id = (char *)"CQ-LP-0001";
        earlier.result = cases[i].result;
        earlier.service_end_time_ms = FX_T0;
        assert_int_equal(cfd_record_is_repeat_of(&earlier, cases[i].circuit,
                                                 FX_T0 + cases[i].days_after * 24 * FX_HOUR,
                                                 &pol),
                         cases[i].want);
    }
    assert_false(cfd_record_is_repeat_of(NULL, "x", FX_T0, &pol));
}

/* A running order keeps the figures it was opened under; re-evaluation is explicit. */
static void test_policy_pinning(void **state)
{
    static const astep open_only[] = {OPEN(A_NONE)};
    cfd_record *rec = build(open_only, 2, "WO-PIN");
    cfd_policy stricter = pol;
    cfd_event alarm = fx_event("n", "WO-PIN", CFD_MS_ALARM, FX_T0 + 12 * FX_MIN);
    cfd_apply_outcome out;
    char opened_under[17];

    (void)state;
    strcpy(opened_under, pol.version);
    stricter.tier[CFD_TIER_AAA].contact_ms = 10 * FX_MIN;
    cfd_policy_seal(&stricter);
    assert_string_not_equal(stricter.version, pol.version);
    /* A new event under the new policy: the record keeps its 15 min. */
    assert_int_equal(cfd_record_apply(rec, &alarm, &stricter, &out, NULL, 0), CFD_OK);
    assert_string_equal(rec->policy_version, opened_under);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].target_ms, 15 * FX_MIN);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].status, CFD_MST_RUNNING);
    /* On demand, it moves to the new figures and says so. */
    assert_int_equal(cfd_record_reevaluate(rec, &stricter), CFD_OK);
    assert_string_equal(rec->policy_version, stricter.version);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].target_ms, 10 * FX_MIN);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].status, CFD_MST_BREACHED);
    /* And back: re-evaluation is a pure function of the record and the policy. */
    assert_int_equal(cfd_record_reevaluate(rec, &pol), CFD_OK);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].status, CFD_MST_RUNNING);
    assert_int_equal(cfd_record_reevaluate(NULL, &pol), CFD_ERR);
    cfd_record_destroy(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_violation_table), cmocka_unit_test(test_points_from_policy),
        cmocka_unit_test(test_monthly_sums),    cmocka_unit_test(test_serial_date),
        cmocka_unit_test(test_part_on_record),  cmocka_unit_test(test_repeat_fault),
        cmocka_unit_test(test_policy_pinning),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * Unit tests for src/domain/sla.c through cfd_record_apply: every deadline below is
 * computed by hand from shared/DOMAIN.md's figures.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "confirmd/record.h"
#include "domain_fixture.h"

enum flag {
    F_NONE,
    F_AA,          /* report: tier AA */
    F_URGENT,      /* report: non-tiered, urgent */
    F_GENERAL,     /* report: non-tiered, no urgency (general) */
    F_BY_CUSTOMER, /* appointment the customer asked for, at arg minutes */
    F_BY_OPERATOR, /* appointment the operator set, at arg minutes */
    F_REMOTE,      /* restored remotely */
    F_CLEARED,     /* alarm clear */
};

typedef struct step {
    cfd_milestone kind;
    int at_min; /* minutes after FX_T0 */
    enum flag flag;
    int arg;
} step;

#define ZERO INT_MIN /* expected time 0 ("not yet") */

typedef struct expect {
    cfd_metric_status status;
    int start_min, deadline_min, actual_min;
} expect;

typedef struct sla_case {
    const char *name;
    step steps[10];
    expect contact, onsite, restoration;
} sla_case;

#define RUN CFD_MST_RUNNING
#define MET CFD_MST_MET
#define BRE CFD_MST_BREACHED
#define PEN CFD_MST_PENDING
#define NA CFD_MST_NOT_APPLICABLE

static const sla_case cases[] = {
    {"AAA accepted: clocks from acceptance",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 2, F_NONE, 0}},
     {RUN, 2, 17, ZERO},
     {RUN, 2, 62, ZERO},
     {RUN, 0, 240, ZERO}},
    {"AAA not accepted: contact and on site pending",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}},
     {PEN, ZERO, ZERO, ZERO},
     {PEN, ZERO, ZERO, ZERO},
     {RUN, 0, 240, ZERO}},
    {"AAA contact 20 min after acceptance: breached, arrival in time",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 20, F_NONE, 0},
      {CFD_MS_ARRIVED_ON_SITE, 60, F_NONE, 0}},
     {BRE, 0, 15, 20},
     {MET, 0, 60, 60},
     {RUN, 0, 240, ZERO}},
    {"AAA nothing happens: a later event shows the breach",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_ALARM, 16, F_NONE, 0}},
     {BRE, 0, 15, ZERO},
     {RUN, 0, 60, ZERO},
     {RUN, 0, 240, ZERO}},
    {"exactly at the deadline is met",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 15, F_NONE, 0}},
     {MET, 0, 15, 15},
     {RUN, 0, 60, ZERO},
     {RUN, 0, 240, ZERO}},
    {"AA: 30 min / 2 h / 8 h",
     {{CFD_MS_REPORTED, 0, F_AA, 0},
      {CFD_MS_ACCEPTED, 10, F_NONE, 0},
      {CFD_MS_SERVICE_RESTORED, 400, F_NONE, 0}},
     {BRE, 10, 40, ZERO},
     {BRE, 10, 130, ZERO},
     {MET, 0, 480, 400}},
    {"urgent counts from the report, not the acceptance",
     {{CFD_MS_REPORTED, 0, F_URGENT, 0},
      {CFD_MS_ACCEPTED, 60, F_NONE, 0},
      {CFD_MS_ALARM, 200, F_NONE, 0}},
     {BRE, 0, 120, ZERO},
     {RUN, 0, 240, ZERO},
     {RUN, 0, 480, ZERO}},
    {"general: 24 h / 48 h / 48 h from the report",
     {{CFD_MS_REPORTED, 0, F_GENERAL, 0}},
     {RUN, 0, 1440, ZERO},
     {RUN, 0, 2880, ZERO},
     {RUN, 0, 2880, ZERO}},
    {"restoration starts at an alarm before the report",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ALARM, -30, F_NONE, 0},
      {CFD_MS_ACCEPTED, 5, F_NONE, 0}},
     {RUN, 5, 20, ZERO},
     {RUN, 5, 65, ZERO},
     {RUN, -30, 210, ZERO}},
    {"an alarm clear does not start the restoration clock",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ALARM, -30, F_CLEARED, 0}},
     {PEN, ZERO, ZERO, ZERO},
     {PEN, ZERO, ZERO, ZERO},
     {RUN, 0, 240, ZERO}},
    {"the customer's appointment replaces the on-site deadline",
     {{CFD_MS_REPORTED, 0, F_AA, 0},
      {CFD_MS_ACCEPTED, 1, F_NONE, 0},
      {CFD_MS_APPOINTMENT_SET, 5, F_BY_CUSTOMER, 300},
      {CFD_MS_ARRIVED_ON_SITE, 290, F_NONE, 0}},
     /* and the wait for it does not count toward restoration: paused from its
      * agreement to the arrival, 5..290, the engineer being early */
     {BRE, 1, 31, ZERO},
     {MET, 1, 300, 290},
     {RUN, 0, 765, ZERO}},
    {"the operator's appointment does not",
     {{CFD_MS_REPORTED, 0, F_AA, 0},
      {CFD_MS_ACCEPTED, 1, F_NONE, 0},
      {CFD_MS_APPOINTMENT_SET, 5, F_BY_OPERATOR, 300},
      {CFD_MS_ARRIVED_ON_SITE, 290, F_NONE, 0}},
     {BRE, 1, 31, ZERO},
     {BRE, 1, 121, 290},
     {RUN, 0, 480, ZERO}},
    {"remote restoration: no visit owed",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 5, F_NONE, 0},
      {CFD_MS_SERVICE_RESTORED, 100, F_REMOTE, 0}},
     {MET, 0, 15, 5},
     {NA, 0, 60, ZERO},
     {MET, 0, 240, 100}},
    {"remote restoration after an arrival still judges the arrival",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_ARRIVED_ON_SITE, 70, F_NONE, 0},
      {CFD_MS_SERVICE_RESTORED, 100, F_REMOTE, 0}},
     {BRE, 0, 15, ZERO},
     {BRE, 0, 60, 70},
     {MET, 0, 240, 100}},
    {"cancelled: open clocks stop, met ones stay",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 5, F_NONE, 0},
      {CFD_MS_CANCELLED, 300, F_NONE, 0}},
     {MET, 0, 15, 5},
     {NA, 0, 60, ZERO},
     {NA, 0, 240, ZERO}},
    {"the first arrival counts",
     {{CFD_MS_REPORTED, 0, F_NONE, 0},
      {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_ARRIVED_ON_SITE, 90, F_NONE, 0},
      {CFD_MS_ARRIVED_ON_SITE, 50, F_NONE, 0}},
     {BRE, 0, 15, ZERO},
     {MET, 0, 60, 50},
     {RUN, 0, 240, ZERO}},
};

static int64_t at(int min)
{
    return min == ZERO ? 0 : FX_T0 + (int64_t)min * FX_MIN;
}

static void check(const cfd_sla_result *r, cfd_metric m, int64_t target, const expect *want)
{
    print_message("  %s\n", cfd_metric_name(m));
    assert_int_equal(r->metric, m);
    assert_int_equal(r->target_ms, target);
    assert_int_equal(r->status, want->status);
    assert_int_equal(r->start_ms, at(want->start_min));
    assert_int_equal(r->deadline_ms, at(want->deadline_min));
    assert_int_equal(r->actual_ms, at(want->actual_min));
    /* Paused time is what moved the deadline (no pause here but the appointment). */
    if (want->deadline_min != ZERO && r->deadline_ms - r->start_ms != target &&
        m == CFD_METRIC_RESTORATION)
        assert_true(r->paused_ms > 0);
}

static void test_sla_table(void **state)
{
    cfd_policy pol;

    (void)state;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const sla_case *c = &cases[i];
        cfd_record *rec = cfd_record_new();
        char ids[10][8];
        const cfd_sla_limits *lim;

        print_message("case: %s\n", c->name);
        for (size_t k = 0; k < 10 && c->steps[k].kind != CFD_MS_NONE; k++) {
            const step *s = &c->steps[k];
            cfd_event ev;
            cfd_apply_outcome out;
            char err[128] = "";

            snprintf(ids[k], sizeof(ids[k]), "e%zu", k);
            ev = fx_event(ids[k], "WO-S", s->kind, at(s->at_min));
            if (s->flag == F_AA)
                ev.report.customer.tier = CFD_TIER_AA;
            if (s->flag == F_URGENT || s->flag == F_GENERAL) {
                ev.report.customer.tier = CFD_TIER_UNSPECIFIED;
                ev.report.urgency =
                    s->flag == F_URGENT ? CFD_URGENCY_URGENT : CFD_URGENCY_UNSPECIFIED;
            }
            if (s->flag == F_BY_CUSTOMER || s->flag == F_BY_OPERATOR) {
                ev.appointment.time_ms = at(s->arg);
                ev.appointment.requested_by_customer = s->flag == F_BY_CUSTOMER;
            }
            ev.restoration.remote = s->flag == F_REMOTE;
            ev.alarm.cleared = s->flag == F_CLEARED;
            if (cfd_record_apply(rec, &ev, &pol, &out, err, sizeof(err)) != CFD_OK)
                fail_msg("step %zu: %s", k, err);
            assert_int_equal(out, CFD_APPLY_CHANGED);
        }
        lim = cfd_policy_limits(&pol, rec->customer.tier, rec->urgency, NULL);
        check(&rec->sla[CFD_METRIC_CONTACT], CFD_METRIC_CONTACT, lim->contact_ms,
              &c->contact);
        check(&rec->sla[CFD_METRIC_ON_SITE], CFD_METRIC_ON_SITE, lim->onsite_ms,
              &c->onsite);
        check(&rec->sla[CFD_METRIC_RESTORATION], CFD_METRIC_RESTORATION,
              lim->restoration_ms, &c->restoration);
        cfd_record_destroy(rec);
    }
}

/* The clocks follow the policy the caller passes: a stricter AAA contact limit. */
static void test_policy_figures_used(void **state)
{
    cfd_policy pol;
    cfd_record *rec = cfd_record_new();
    cfd_event rep = fx_report("r", "WO-S2", FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);
    cfd_event acc = fx_event("a", "WO-S2", CFD_MS_ACCEPTED, FX_T0 + FX_MIN);
    cfd_apply_outcome out;

    (void)state;
    cfd_policy_defaults(&pol);
    pol.tier[CFD_TIER_AAA].contact_ms = 10 * FX_MIN;
    cfd_policy_seal(&pol);
    assert_int_equal(cfd_record_apply(rec, &rep, &pol, &out, NULL, 0), CFD_OK);
    assert_int_equal(cfd_record_apply(rec, &acc, &pol, &out, NULL, 0), CFD_OK);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].deadline_ms, FX_T0 + 11 * FX_MIN);
    assert_string_equal(rec->policy_version, pol.version);
    cfd_record_destroy(rec);
}

/* ---- pauses, quiet hours, the new duties and the timer instants ------------------- */

enum xflag {
    X_NONE,
    X_A,            /* report: tier A */
    X_AA,           /* report: tier AA */
    X_STANDARD,     /* report: tier standard */
    X_URGENT,       /* report: non-tiered urgent */
    X_GENERAL,      /* report: non-tiered general */
    X_SPECIAL,      /* report: AAA, special fault */
    X_REMOTE,       /* restoration: remote */
    X_CUSTOMER_NET, /* diagnosis: the customer's own network */
    X_BY_CUSTOMER,  /* appointment the customer asked for, at .to minutes */
    X_TERMINAL,     /* report: AAA, a complaint about a terminal (phone, handset) */
};

typedef struct xstep {
    cfd_milestone kind;
    int at; /* minutes after FX_T0 */
    enum xflag flag;
    int from, to;     /* pause: start / resume end minutes (ZERO: event time) */
    uint32_t metrics; /* pause: metrics; 0 restoration only */
} xstep;

typedef struct xcase {
    const char *name;
    xstep steps[8];
    cfd_metric metric;
    cfd_metric_status status;
    int start, deadline, actual, paused; /* minutes; ZERO = 0 */
    int next_warning, breach_at;         /* minutes; ZERO = 0 */
} xcase;

#define REP(t, fl)                                       \
    {                                                    \
        .kind = CFD_MS_REPORTED, .at = (t), .flag = (fl) \
    }
#define EV(k, t)               \
    {                          \
        .kind = (k), .at = (t) \
    }
#define PAUSE(t, a, m)                                                      \
    {                                                                       \
        .kind = CFD_MS_CLOCK_PAUSED, .at = (t), .from = (a), .metrics = (m) \
    }
#define RESUME(t, b)                                       \
    {                                                      \
        .kind = CFD_MS_CLOCK_RESUMED, .at = (t), .to = (b) \
    }
#define APPT(t, b)                                                                  \
    {                                                                               \
        .kind = CFD_MS_APPOINTMENT_SET, .at = (t), .flag = X_BY_CUSTOMER, .to = (b) \
    }
#define BIT(m) (1u << (m))

static const xcase xcases[] = {
    {.name = "typed pause stops the restoration clock",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), PAUSE(10, ZERO, 0),
               RESUME(70, ZERO)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 300,
     .actual = ZERO,
     .paused = 60,
     .next_warning = 180,
     .breach_at = 300},
    {.name = "pause entered retroactively with its own start and end",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_ALARM, 100),
               PAUSE(100, 20, 0), RESUME(100, 50)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 270,
     .actual = ZERO,
     .paused = 30,
     .next_warning = 150,
     .breach_at = 270},
    {.name = "open pause: running, no breach timer",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), PAUSE(30, ZERO, 0)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 240,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "pause defaults to restoration only: contact keeps counting",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), PAUSE(5, ZERO, 0), RESUME(65, ZERO)},
     .metric = CFD_METRIC_CONTACT,
     .status = BRE,
     .start = 0,
     .deadline = 15,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "pause naming the contact metric moves its deadline",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0),
               PAUSE(5, ZERO, BIT(CFD_METRIC_CONTACT)), RESUME(65, ZERO),
               EV(CFD_MS_CUSTOMER_CONTACTED, 70)},
     .metric = CFD_METRIC_CONTACT,
     .status = MET,
     .start = 0,
     .deadline = 75,
     .actual = 70,
     .paused = 60,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "quiet hours: A contact due 12:00 local moves to 14:30",
     .steps = {REP(-420, X_A), EV(CFD_MS_ACCEPTED, -420)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = -420,
     .deadline = -150,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = -285,
     .breach_at = -150},
    {.name = "quiet hours: standard contact due 22:00 local moves to 08:30 next day",
     .steps = {REP(300, X_STANDARD), EV(CFD_MS_ACCEPTED, 300)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = 300,
     .deadline = 2370,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 1335,
     .breach_at = 2370},
    {.name = "quiet hours: general contact moves too",
     .steps = {REP(-300, X_GENERAL)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = -300,
     .deadline = 1290,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 495,
     .breach_at = 1290},
    {.name = "quiet hours: AAA contact never moves",
     .steps = {REP(-315, X_NONE), EV(CFD_MS_ACCEPTED, -315), EV(CFD_MS_ALARM, -305)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = -315,
     .deadline = -300,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = -303,
     .breach_at = -300},
    {.name = "quiet hours: AA contact never moves",
     .steps = {REP(-330, X_AA), EV(CFD_MS_ACCEPTED, -330)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = -330,
     .deadline = -300,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = -315,
     .breach_at = -300},
    {.name = "quiet hours: urgent contact never moves",
     .steps = {REP(-420, X_URGENT)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = -420,
     .deadline = -300,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = -360,
     .breach_at = -300},
    {.name = "quiet hours never move the on-site deadline",
     .steps = {REP(-540, X_A), EV(CFD_MS_ACCEPTED, -540)},
     .metric = CFD_METRIC_ON_SITE,
     .status = RUN,
     .start = -540,
     .deadline = -300,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = -420,
     .breach_at = -300},
    {.name = "cause identified within 2 h of the arrival (ordinary)",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_ARRIVED_ON_SITE, 30),
               EV(CFD_MS_DIAGNOSED, 100)},
     .metric = CFD_METRIC_CAUSE_IDENTIFIED,
     .status = MET,
     .start = 30,
     .deadline = 150,
     .actual = 100,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "cause identified: a visit the customer missed does not start it",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_ARRIVED_ON_SITE, 30),
               EV(CFD_MS_CUSTOMER_ABSENT, 45), EV(CFD_MS_ARRIVED_ON_SITE, 200),
               EV(CFD_MS_DIAGNOSED, 250)},
     .metric = CFD_METRIC_CAUSE_IDENTIFIED,
     .status = MET,
     .start = 200,
     .deadline = 320,
     .actual = 250,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "cause identified: special fault has 24 h",
     .steps = {REP(0, X_SPECIAL), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_ARRIVED_ON_SITE, 30)},
     .metric = CFD_METRIC_CAUSE_IDENTIFIED,
     .status = RUN,
     .start = 30,
     .deadline = 1470,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 750,
     .breach_at = 1470},
    {.name = "cause identified: pending until the arrival",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0)},
     .metric = CFD_METRIC_CAUSE_IDENTIFIED,
     .status = PEN,
     .start = ZERO,
     .deadline = ZERO,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "cause identified: remote fault counts from the acceptance",
     .steps = {REP(0, X_NONE),
               EV(CFD_MS_ACCEPTED, 0),
               {.kind = CFD_MS_SERVICE_RESTORED, .at = 60, .flag = X_REMOTE}},
     .metric = CFD_METRIC_CAUSE_IDENTIFIED,
     .status = RUN,
     .start = 0,
     .deadline = 120,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 96,
     .breach_at = 120},
    {.name = "event report within 1 day of the restoration (ordinary): late",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_SERVICE_RESTORED, 60),
               EV(CFD_MS_EVENT_REPORT_SUBMITTED, 1560)},
     .metric = CFD_METRIC_EVENT_REPORT,
     .status = BRE,
     .start = 60,
     .deadline = 1500,
     .actual = 1560,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "event report: special fault has 3 days",
     .steps = {REP(0, X_SPECIAL), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_SERVICE_RESTORED, 60),
               EV(CFD_MS_EVENT_REPORT_SUBMITTED, 2060)},
     .metric = CFD_METRIC_EVENT_REPORT,
     .status = MET,
     .start = 60,
     .deadline = 4380,
     .actual = 2060,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "customer's own network: restoration not attributable",
     .steps = {REP(0, X_NONE),
               EV(CFD_MS_ACCEPTED, 0),
               EV(CFD_MS_ARRIVED_ON_SITE, 30),
               {.kind = CFD_MS_DIAGNOSED, .at = 40, .flag = X_CUSTOMER_NET},
               EV(CFD_MS_ALARM, 300)},
     .metric = CFD_METRIC_RESTORATION,
     .status = NA,
     .start = 0,
     .deadline = 240,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    /* The appointment's wait runs to the appointment or the arrival, whichever is
     * first; an explicit pause over the same time counts once. */
    {.name = "appointment wait ends at an early arrival",
     .steps = {REP(0, X_AA), EV(CFD_MS_ACCEPTED, 1), APPT(5, 300),
               EV(CFD_MS_ARRIVED_ON_SITE, 290), EV(CFD_MS_ALARM, 400)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 765,
     .actual = ZERO,
     .paused = 285,
     .next_warning = 525,
     .breach_at = 765},
    {.name = "appointment wait ends at the appointment when the engineer is late",
     .steps = {REP(0, X_AA), EV(CFD_MS_ACCEPTED, 1), APPT(5, 300),
               EV(CFD_MS_ARRIVED_ON_SITE, 320), EV(CFD_MS_ALARM, 400)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 775,
     .actual = ZERO,
     .paused = 295,
     .next_warning = 535,
     .breach_at = 775},
    {.name = "appointment wait and a pause within it count once",
     .steps = {REP(0, X_AA), EV(CFD_MS_ACCEPTED, 1), APPT(5, 300), PAUSE(100, ZERO, 0),
               RESUME(200, ZERO), EV(CFD_MS_ARRIVED_ON_SITE, 290), EV(CFD_MS_ALARM, 400)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 765,
     .actual = ZERO,
     .paused = 285,
     .next_warning = 525,
     .breach_at = 765},
    {.name = "appointment wait and a pause past the arrival: their union counts",
     .steps = {REP(0, X_AA), EV(CFD_MS_ACCEPTED, 1), APPT(5, 300), PAUSE(250, ZERO, 0),
               RESUME(350, ZERO), EV(CFD_MS_ARRIVED_ON_SITE, 290), EV(CFD_MS_ALARM, 400)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 825,
     .actual = ZERO,
     .paused = 345,
     .next_warning = 585,
     .breach_at = 825},
    /* 「属于电话、手机等终端类故障投诉…均按照普通级业务的相关要求处理」 */
    {.name = "terminal complaint of an AAA customer: standard contact duty",
     .steps = {REP(0, X_TERMINAL), EV(CFD_MS_ACCEPTED, 2)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = 2,
     .deadline = 1442,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 722,
     .breach_at = 1442},
    {.name = "terminal complaint of an AAA customer: standard restoration duty",
     .steps = {REP(0, X_TERMINAL), EV(CFD_MS_ACCEPTED, 2)},
     .metric = CFD_METRIC_RESTORATION,
     .status = RUN,
     .start = 0,
     .deadline = 2880,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 1440,
     .breach_at = 2880},
    {.name = "customer absent: the visit counts as on site",
     .steps = {REP(0, X_NONE), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_CUSTOMER_ABSENT, 50)},
     .metric = CFD_METRIC_ON_SITE,
     .status = MET,
     .start = 0,
     .deadline = 60,
     .actual = 50,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = ZERO},
    {.name = "timers: next warning at 80 % once 50 % passed",
     .steps = {REP(0, X_AA), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_ALARM, 16)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = 0,
     .deadline = 30,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = 24,
     .breach_at = 30},
    {.name = "timers: past both warnings only the breach remains",
     .steps = {REP(0, X_AA), EV(CFD_MS_ACCEPTED, 0), EV(CFD_MS_ALARM, 25)},
     .metric = CFD_METRIC_CONTACT,
     .status = RUN,
     .start = 0,
     .deadline = 30,
     .actual = ZERO,
     .paused = ZERO,
     .next_warning = ZERO,
     .breach_at = 30},
};

static void test_extended_table(void **state)
{
    cfd_policy pol;

    (void)state;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(xcases) / sizeof(xcases[0]); i++) {
        const xcase *c = &xcases[i];
        cfd_record *rec = cfd_record_new();
        char ids[8][8];
        const cfd_sla_result *r;

        print_message("case: %s\n", c->name);
        for (size_t k = 0; k < 8 && c->steps[k].kind != CFD_MS_NONE; k++) {
            const xstep *s = &c->steps[k];
            cfd_event ev;
            cfd_apply_outcome out;
            char err[128] = "";

            snprintf(ids[k], sizeof(ids[k]), "e%zu", k);
            ev = fx_event(ids[k], "WO-X", s->kind, at(s->at));
            switch (s->flag) {
            case X_A:
                ev.report.customer.tier = CFD_TIER_A;
                break;
            case X_AA:
                ev.report.customer.tier = CFD_TIER_AA;
                break;
            case X_STANDARD:
                ev.report.customer.tier = CFD_TIER_STANDARD;
                break;
            case X_URGENT:
            case X_GENERAL:
                ev.report.customer.tier = CFD_TIER_UNSPECIFIED;
                ev.report.urgency =
                    s->flag == X_URGENT ? CFD_URGENCY_URGENT : CFD_URGENCY_GENERAL;
                break;
            case X_SPECIAL:
                ev.report.special = true;
                break;
            case X_REMOTE:
                ev.restoration.remote = true;
                break;
            case X_CUSTOMER_NET:
                ev.diagnosis.cause = CFD_CAUSE_CUSTOMER_NETWORK;
                break;
            case X_TERMINAL:
                ev.report.terminal_complaint = true;
                break;
            case X_BY_CUSTOMER:
                ev.appointment.time_ms = at(s->to);
                ev.appointment.requested_by_customer = true;
                break;
            default:
                break;
            }
            if (s->kind == CFD_MS_CLOCK_PAUSED || s->kind == CFD_MS_CLOCK_RESUMED) {
                ev.pause.pause_id = "p1";
                ev.pause.reason = CFD_PAUSE_CUSTOMER;
                ev.pause.evidence = "customer asked to wait";
                ev.pause.metrics = s->metrics;
                ev.pause.start_ms = s->kind == CFD_MS_CLOCK_PAUSED ? at(s->from) : 0;
                ev.pause.end_ms = s->kind == CFD_MS_CLOCK_RESUMED ? at(s->to) : 0;
            }
            if (cfd_record_apply(rec, &ev, &pol, &out, err, sizeof(err)) != CFD_OK)
                fail_msg("step %zu: %s", k, err);
            assert_int_equal(out, CFD_APPLY_CHANGED);
        }
        r = &rec->sla[c->metric];
        print_message("  got status %d start %lld deadline %lld actual %lld paused %lld "
                      "warn %lld breach %lld (min)\n",
                      r->status, (long long)(r->start_ms - FX_T0) / FX_MIN,
                      (long long)(r->deadline_ms - FX_T0) / FX_MIN,
                      (long long)(r->actual_ms - FX_T0) / FX_MIN,
                      (long long)r->paused_ms / FX_MIN,
                      (long long)(r->next_warning_ms - FX_T0) / FX_MIN,
                      (long long)(r->breach_at_ms - FX_T0) / FX_MIN);
        assert_int_equal(r->metric, c->metric);
        assert_int_equal(r->status, c->status);
        assert_int_equal(r->start_ms, at(c->start));
        assert_int_equal(r->deadline_ms, at(c->deadline));
        assert_int_equal(r->actual_ms, at(c->actual));
        assert_int_equal(r->paused_ms, c->paused == ZERO ? 0 : c->paused * FX_MIN);
        assert_int_equal(r->next_warning_ms, at(c->next_warning));
        assert_int_equal(r->breach_at_ms, at(c->breach_at));
        cfd_record_destroy(rec);
    }
}

/* The operator's time zone is a fixed offset: quiet hours follow it. */
static void test_quiet_end_offsets(void **state)
{
    static const struct {
        const char *name;
        int offset_min;
        int at_min;   /* after FX_T0 = 2026-01-01 09:00 UTC */
        int want_min; /* ZERO: unchanged */
    } qcases[] = {
        {"UTC+8 17:00 local is not quiet", 480, 0, ZERO},
        {"UTC+8 12:00 local moves to 14:30", 480, -300, -150},
        {"UTC+8 14:29 local moves to 14:30", 480, -151, -150},
        {"UTC+8 14:30 local is not quiet", 480, -150, ZERO},
        {"UTC+8 21:00 local moves to 08:30 next day", 480, 240, 930},
        {"UTC+8 03:00 local moves to 08:30 same day", 480, 600, 930},
        {"UTC 12:00 is quiet under offset 0", 0, 180, 330},
    };
    cfd_policy pol;

    (void)state;
    cfd_policy_defaults(&pol);
    for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
        int64_t t = at(qcases[i].at_min);

        print_message("case: %s\n", qcases[i].name);
        pol.utc_offset_min = qcases[i].offset_min;
        assert_int_equal(cfd_policy_quiet_end(&pol, t),
                         qcases[i].want_min == ZERO ? t : at(qcases[i].want_min));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sla_table),
        cmocka_unit_test(test_extended_table),
        cmocka_unit_test(test_quiet_end_offsets),
        cmocka_unit_test(test_policy_figures_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

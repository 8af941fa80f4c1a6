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
     {RUN, 2, 17, ZERO}, {RUN, 2, 62, ZERO}, {RUN, 0, 240, ZERO}},
    {"AAA not accepted: contact and on site pending",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}},
     {PEN, ZERO, ZERO, ZERO}, {PEN, ZERO, ZERO, ZERO}, {RUN, 0, 240, ZERO}},
    {"AAA contact 20 min after acceptance: breached, arrival in time",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 20, F_NONE, 0}, {CFD_MS_ARRIVED_ON_SITE, 60, F_NONE, 0}},
     {BRE, 0, 15, 20}, {MET, 0, 60, 60}, {RUN, 0, 240, ZERO}},
    {"AAA nothing happens: a later event shows the breach",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_NOC_ALARM, 16, F_NONE, 0}},
     {BRE, 0, 15, ZERO}, {RUN, 0, 60, ZERO}, {RUN, 0, 240, ZERO}},
    {"exactly at the deadline is met",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 15, F_NONE, 0}},
     {MET, 0, 15, 15}, {RUN, 0, 60, ZERO}, {RUN, 0, 240, ZERO}},
    {"AA: 30 min / 2 h / 8 h",
     {{CFD_MS_REPORTED, 0, F_AA, 0}, {CFD_MS_ACCEPTED, 10, F_NONE, 0},
      {CFD_MS_SERVICE_RESTORED, 400, F_NONE, 0}},
     {BRE, 10, 40, ZERO}, {BRE, 10, 130, ZERO}, {MET, 0, 480, 400}},
    {"urgent counts from the report, not the acceptance",
     {{CFD_MS_REPORTED, 0, F_URGENT, 0}, {CFD_MS_ACCEPTED, 60, F_NONE, 0},
      {CFD_MS_NOC_ALARM, 200, F_NONE, 0}},
     {BRE, 0, 120, ZERO}, {RUN, 0, 240, ZERO}, {RUN, 0, 480, ZERO}},
    {"general: 24 h / 48 h / 48 h from the report",
     {{CFD_MS_REPORTED, 0, F_GENERAL, 0}},
     {RUN, 0, 1440, ZERO}, {RUN, 0, 2880, ZERO}, {RUN, 0, 2880, ZERO}},
    {"restoration starts at an alarm before the report",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_NOC_ALARM, -30, F_NONE, 0},
      {CFD_MS_ACCEPTED, 5, F_NONE, 0}},
     {RUN, 5, 20, ZERO}, {RUN, 5, 65, ZERO}, {RUN, -30, 210, ZERO}},
    {"an alarm clear does not start the restoration clock",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_NOC_ALARM, -30, F_CLEARED, 0}},
     {PEN, ZERO, ZERO, ZERO}, {PEN, ZERO, ZERO, ZERO}, {RUN, 0, 240, ZERO}},
    {"the customer's appointment replaces the on-site deadline",
     {{CFD_MS_REPORTED, 0, F_AA, 0}, {CFD_MS_ACCEPTED, 1, F_NONE, 0},
      {CFD_MS_APPOINTMENT_SET, 5, F_BY_CUSTOMER, 300},
      {CFD_MS_ARRIVED_ON_SITE, 290, F_NONE, 0}},
     {BRE, 1, 31, ZERO}, {MET, 1, 300, 290}, {RUN, 0, 480, ZERO}},
    {"the operator's appointment does not",
     {{CFD_MS_REPORTED, 0, F_AA, 0}, {CFD_MS_ACCEPTED, 1, F_NONE, 0},
      {CFD_MS_APPOINTMENT_SET, 5, F_BY_OPERATOR, 300},
      {CFD_MS_ARRIVED_ON_SITE, 290, F_NONE, 0}},
     {BRE, 1, 31, ZERO}, {BRE, 1, 121, 290}, {RUN, 0, 480, ZERO}},
    {"remote restoration: no visit owed",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 5, F_NONE, 0},
      {CFD_MS_SERVICE_RESTORED, 100, F_REMOTE, 0}},
     {MET, 0, 15, 5}, {NA, 0, 60, ZERO}, {MET, 0, 240, 100}},
    {"remote restoration after an arrival still judges the arrival",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_ARRIVED_ON_SITE, 70, F_NONE, 0},
      {CFD_MS_SERVICE_RESTORED, 100, F_REMOTE, 0}},
     {BRE, 0, 15, ZERO}, {BRE, 0, 60, 70}, {MET, 0, 240, 100}},
    {"cancelled: open clocks stop, met ones stay",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_CUSTOMER_CONTACTED, 5, F_NONE, 0}, {CFD_MS_CANCELLED, 300, F_NONE, 0}},
     {MET, 0, 15, 5}, {NA, 0, 60, ZERO}, {NA, 0, 240, ZERO}},
    {"the first arrival counts",
     {{CFD_MS_REPORTED, 0, F_NONE, 0}, {CFD_MS_ACCEPTED, 0, F_NONE, 0},
      {CFD_MS_ARRIVED_ON_SITE, 90, F_NONE, 0}, {CFD_MS_ARRIVED_ON_SITE, 50, F_NONE, 0}},
     {BRE, 0, 15, ZERO}, {MET, 0, 60, 50}, {RUN, 0, 240, ZERO}},
};

static int64_t at(int min)
{
    return min == ZERO ? 0 : FX_T0 + (int64_t)min * FX_MIN;
}

static void check(const cfd_sla_result *r, cfd_metric m, int64_t target,
                  const expect *want)
{
    print_message("  %s\n", cfd_metric_name(m));
    assert_int_equal(r->metric, m);
    assert_int_equal(r->target_ms, target);
    assert_int_equal(r->status, want->status);
    assert_int_equal(r->start_ms, at(want->start_min));
    assert_int_equal(r->deadline_ms, at(want->deadline_min));
    assert_int_equal(r->actual_ms, at(want->actual_min));
    assert_int_equal(r->paused_ms, 0);
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
                ev.report.urgency = s->flag == F_URGENT ? CFD_URGENCY_URGENT
                                                        : CFD_URGENCY_UNSPECIFIED;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sla_table),
        cmocka_unit_test(test_policy_figures_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

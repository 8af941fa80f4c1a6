/* Unit tests for src/domain/types.c: the names of the domain enumerations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "confirmd/types.h"

typedef enum {
    STATE,
    MILESTONE,
    METRIC,
    TIER,
    ALERT_KIND,
    ERR,
    PAUSE_REASON,
    RECIPIENT,
    DL_REASON
} name_fn;

typedef struct {
    name_fn fn;
    int value;
    const char *want;
} name_case;

static const name_case cases[] = {
    {STATE, CFD_STATE_NONE, "STATE_NONE"},
    {STATE, CFD_STATE_REPORTED, "STATE_REPORTED"},
    {STATE, CFD_STATE_ON_SITE, "STATE_ON_SITE"},
    {STATE, CFD_STATE_CLOSED, "STATE_CLOSED"},
    {STATE, CFD_STATE_CANCELLED, "STATE_CANCELLED"},
    {STATE, CFD_STATE_REOPENED, "STATE_REOPENED"},
    {STATE, CFD_STATE_CUSTOMER_ABSENT, "STATE_CUSTOMER_ABSENT"},
    {STATE, CFD_STATE_SIGNATURE_WAIVED, "STATE_SIGNATURE_WAIVED"},
    {STATE, CFD_STATE_COUNT, "?"},
    {STATE, -1, "?"},
    {MILESTONE, CFD_MS_NONE, "MILESTONE_NONE"},
    {MILESTONE, CFD_MS_REPORTED, "MILESTONE_REPORTED"},
    {MILESTONE, CFD_MS_ARRIVED_ON_SITE, "MILESTONE_ARRIVED_ON_SITE"},
    {MILESTONE, CFD_MS_CONFIRMATION_SIGNED, "MILESTONE_CONFIRMATION_SIGNED"},
    {MILESTONE, CFD_MS_ALARM, "MILESTONE_NOC_ALARM"},
    {MILESTONE, CFD_MS_APPOINTMENT_RESCHEDULED, "MILESTONE_APPOINTMENT_RESCHEDULED"},
    {MILESTONE, CFD_MS_CUSTOMER_ABSENT, "MILESTONE_CUSTOMER_ABSENT"},
    {MILESTONE, CFD_MS_SIGNATURE_WAIVED, "MILESTONE_SIGNATURE_WAIVED"},
    {MILESTONE, CFD_MS_PART_REPLACED, "MILESTONE_PART_REPLACED"},
    {MILESTONE, CFD_MS_CLOCK_PAUSED, "MILESTONE_CLOCK_PAUSED"},
    {MILESTONE, CFD_MS_CLOCK_RESUMED, "MILESTONE_CLOCK_RESUMED"},
    {MILESTONE, CFD_MS_EVENT_REPORT_SUBMITTED, "MILESTONE_EVENT_REPORT_SUBMITTED"},
    {MILESTONE, CFD_MS_COUNT, "?"},
    {METRIC, CFD_METRIC_CONTACT, "METRIC_CONTACT"},
    {METRIC, CFD_METRIC_ON_SITE, "METRIC_ON_SITE"},
    {METRIC, CFD_METRIC_RESTORATION, "METRIC_RESTORATION"},
    {METRIC, CFD_METRIC_CAUSE_IDENTIFIED, "METRIC_CAUSE_IDENTIFIED"},
    {METRIC, CFD_METRIC_EVENT_REPORT, "METRIC_EVENT_REPORT"},
    {METRIC, CFD_METRIC_COUNT, "?"},
    {TIER, CFD_TIER_UNSPECIFIED, "TIER_UNSPECIFIED"},
    {TIER, CFD_TIER_AAA, "TIER_AAA"},
    {TIER, CFD_TIER_AA, "TIER_AA"},
    {TIER, CFD_TIER_A, "TIER_A"},
    {TIER, CFD_TIER_STANDARD, "TIER_STANDARD"},
    {TIER, 99, "?"},
    {ALERT_KIND, CFD_ALERT_BREACH, "ALERT_KIND_BREACH"},
    {ALERT_KIND, CFD_ALERT_RETRACTED, "ALERT_KIND_RETRACTED"},
    {ALERT_KIND, CFD_ALERT_SEVERE_FAULT, "ALERT_KIND_SEVERE_FAULT"},
    {ALERT_KIND, CFD_ALERT_PARALLEL_SPECIALISTS, "ALERT_KIND_PARALLEL_SPECIALISTS"},
    {ALERT_KIND, 8, "?"},
    {ERR, CFD_OK, "CFD_OK"},
    {ERR, CFD_ERR_TRANSITION, "CFD_ERR_TRANSITION"},
    {ERR, CFD_ERR_CONFIG, "CFD_ERR_CONFIG"},
    {ERR, CFD_ERR_UNKNOWN_OBJECT, "CFD_ERR_UNKNOWN_OBJECT"},
    {ERR, CFD_ERR_STATE_LOST, "CFD_ERR_STATE_LOST"},
    {ERR, CFD_ERR_UNDELIVERED, "CFD_ERR_UNDELIVERED"},
    {ERR, CFD_ERR_REFUSED, "CFD_ERR_REFUSED"},
    {ERR, -14, "?"},
    {ERR, 1, "?"},
    {PAUSE_REASON, CFD_PAUSE_CUSTOMER, "PAUSE_CUSTOMER"},
    {PAUSE_REASON, CFD_PAUSE_APPOINTMENT, "PAUSE_APPOINTMENT"},
    {PAUSE_REASON, 4, "?"},
    {RECIPIENT, CFD_RECIPIENT_TEAM_LEADER, "RECIPIENT_TEAM_LEADER"},
    {RECIPIENT, CFD_RECIPIENT_ALL_SPECIALISTS, "RECIPIENT_ALL_SPECIALISTS"},
    {RECIPIENT, 6, "?"},
    {DL_REASON, CFD_DL_NONE, "DEAD_LETTER_REASON_UNSPECIFIED"},
    {DL_REASON, CFD_DL_OUTPUT_REFUSED, "DEAD_LETTER_OUTPUT_REFUSED"},
    {DL_REASON, CFD_DL_REASONS, "?"},
};

static const char *call(name_fn fn, int v)
{
    switch (fn) {
    case STATE:
        return cfd_state_name((cfd_state)v);
    case MILESTONE:
        return cfd_milestone_name((cfd_milestone)v);
    case METRIC:
        return cfd_metric_name((cfd_metric)v);
    case TIER:
        return cfd_tier_name((cfd_tier)v);
    case ALERT_KIND:
        return cfd_alert_kind_name((cfd_alert_kind)v);
    case ERR:
        return cfd_err_name((cfd_err)v);
    case PAUSE_REASON:
        return cfd_pause_reason_name((cfd_pause_reason)v);
    case RECIPIENT:
        return cfd_recipient_name((cfd_recipient)v);
    case DL_REASON:
        return cfd_dl_reason_name((cfd_dl_reason)v);
    }
    return NULL;
}

static void test_names_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(call(cases[i].fn, cases[i].value), cases[i].want);
}

/* Every in-range value has a real name: nothing was left out of a table. */
static void test_every_value_named(void **state)
{
    (void)state;
    for (int s = 0; s < CFD_STATE_COUNT; s++)
        assert_string_not_equal(cfd_state_name((cfd_state)s), "?");
    for (int m = 0; m < CFD_MS_COUNT; m++)
        assert_string_not_equal(cfd_milestone_name((cfd_milestone)m), "?");
    for (int e = CFD_ERR_UNKNOWN_OBJECT; e <= CFD_OK; e++)
        assert_string_not_equal(cfd_err_name((cfd_err)e), "?");
    for (int k = CFD_ALERT_NONE; k <= CFD_ALERT_PARALLEL_SPECIALISTS; k++)
        assert_string_not_equal(cfd_alert_kind_name((cfd_alert_kind)k), "?");
    for (int r = 0; r < CFD_DL_REASONS; r++)
        assert_string_not_equal(cfd_dl_reason_name((cfd_dl_reason)r), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_table),
        cmocka_unit_test(test_every_value_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

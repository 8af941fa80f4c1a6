/* Unit tests for src/domain/policy.c: defaults, version digest, validation, limits. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "confirmd/policy.h"

#define MIN (60LL * 1000)
#define HOUR (60 * MIN)

typedef struct {
    cfd_tier tier;
    cfd_urgency urgency;
    int64_t contact, onsite, restoration;
    bool from_report;
} limits_case;

/* The figures of shared/DOMAIN.md, written out by hand. */
static const limits_case limits_cases[] = {
    {CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED, 15 * MIN, 1 * HOUR, 4 * HOUR, false},
    {CFD_TIER_AA, CFD_URGENCY_UNSPECIFIED, 30 * MIN, 2 * HOUR, 8 * HOUR, false},
    {CFD_TIER_A, CFD_URGENCY_GENERAL, 2 * HOUR, 4 * HOUR, 12 * HOUR, false},
    {CFD_TIER_STANDARD, CFD_URGENCY_URGENT, 24 * HOUR, 48 * HOUR, 48 * HOUR, false},
    {CFD_TIER_UNSPECIFIED, CFD_URGENCY_URGENT, 2 * HOUR, 4 * HOUR, 8 * HOUR, true},
    {CFD_TIER_UNSPECIFIED, CFD_URGENCY_GENERAL, 24 * HOUR, 48 * HOUR, 48 * HOUR, true},
    {CFD_TIER_UNSPECIFIED, CFD_URGENCY_UNSPECIFIED, 24 * HOUR, 48 * HOUR, 48 * HOUR, true},
};

static void test_default_limits(void **state)
{
    cfd_policy p;

    (void)state;
    cfd_policy_defaults(&p);
    assert_int_equal(p.warn_pct[0], 50);
    assert_int_equal(p.warn_pct[1], 80);
    for (size_t i = 0; i < sizeof(limits_cases) / sizeof(limits_cases[0]); i++) {
        const limits_case *c = &limits_cases[i];
        bool from_report = !c->from_report;
        const cfd_sla_limits *l = cfd_policy_limits(&p, c->tier, c->urgency, &from_report);

        assert_non_null(l);
        assert_int_equal(l->contact_ms, c->contact);
        assert_int_equal(l->onsite_ms, c->onsite);
        assert_int_equal(l->restoration_ms, c->restoration);
        assert_int_equal(from_report, c->from_report);
    }
    assert_int_equal(cfd_policy_validate(&p, NULL, 0), CFD_OK);
}

static void test_version_digest(void **state)
{
    cfd_policy p, q;
    char before[17];

    (void)state;
    cfd_policy_defaults(&p);
    cfd_policy_defaults(&q);
    assert_int_equal(strlen(p.version), 16);
    for (int i = 0; i < 16; i++)
        assert_true(isxdigit((unsigned char)p.version[i]) &&
                    !isupper((unsigned char)p.version[i]));
    assert_string_equal(p.version, q.version);

    strcpy(before, p.version);
    p.tier[CFD_TIER_AA].restoration_ms += 1;
    cfd_policy_seal(&p);
    assert_string_not_equal(p.version, before);
    p.tier[CFD_TIER_AA].restoration_ms -= 1;
    cfd_policy_seal(&p);
    assert_string_equal(p.version, before);

    p.warn_pct[1] = 90;
    cfd_policy_seal(&p);
    assert_string_not_equal(p.version, before);

    /* The unused row does not count. */
    q.tier[CFD_TIER_UNSPECIFIED].contact_ms = 12345;
    cfd_policy_seal(&q);
    assert_string_equal(q.version, before);
}

typedef struct {
    const char *name;
    int64_t *(*figure)(cfd_policy *p);
    int64_t value;
    const char *errstr;
} bad_limit_case;

static int64_t *aaa_contact(cfd_policy *p)
{
    return &p->tier[CFD_TIER_AAA].contact_ms;
}
static int64_t *a_onsite(cfd_policy *p)
{
    return &p->tier[CFD_TIER_A].onsite_ms;
}
static int64_t *urgent_restoration(cfd_policy *p)
{
    return &p->urgent.restoration_ms;
}
static int64_t *general_contact(cfd_policy *p)
{
    return &p->general.contact_ms;
}

static const bad_limit_case bad_limits[] = {
    {"aaa contact 0", aaa_contact, 0, "sla.aaa.contact must be positive"},
    {"a onsite negative", a_onsite, -1, "sla.a.onsite must be positive"},
    {"urgent restoration 0", urgent_restoration, 0,
     "sla.urgent.restoration must be positive"},
    {"general contact 0", general_contact, 0, "sla.general.contact must be positive"},
};

static void test_validate_limits(void **state)
{
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++) {
        cfd_policy p;

        cfd_policy_defaults(&p);
        *bad_limits[i].figure(&p) = bad_limits[i].value;
        assert_int_equal(cfd_policy_validate(&p, err, sizeof(err)), CFD_ERR_INVALID_VALUE);
        assert_string_equal(err, bad_limits[i].errstr);
    }
}

static void test_validate_warnings(void **state)
{
    static const struct {
        int w0, w1;
        cfd_err want;
    } cases[] = {
        {50, 80, CFD_OK},
        {1, 99, CFD_OK},
        {0, 80, CFD_ERR_INVALID_VALUE},
        {80, 50, CFD_ERR_INVALID_VALUE},
        {50, 50, CFD_ERR_INVALID_VALUE},
        {50, 100, CFD_ERR_INVALID_VALUE},
        {-10, 80, CFD_ERR_INVALID_VALUE},
    };
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_policy p;

        cfd_policy_defaults(&p);
        p.warn_pct[0] = cases[i].w0;
        p.warn_pct[1] = cases[i].w1;
        assert_int_equal(cfd_policy_validate(&p, err, sizeof(err)), cases[i].want);
        if (cases[i].want != CFD_OK)
            assert_non_null(strstr(err, "sla.warn_pct"));
    }
}

/* Every other default of shared/DOMAIN.md, by name. */
static void test_other_defaults(void **state)
{
    cfd_policy p;

    (void)state;
    cfd_policy_defaults(&p);
    assert_int_equal(p.cause_ms[CFD_ORDINARY], 2 * HOUR); /* cause identified */
    assert_int_equal(p.cause_ms[CFD_SPECIAL], 24 * HOUR);
    assert_int_equal(p.event_report_ms[CFD_ORDINARY], 24 * HOUR); /* event report */
    assert_int_equal(p.event_report_ms[CFD_SPECIAL], 72 * HOUR);
    assert_int_equal(p.utc_offset_min, 480); /* Asia/Shanghai */
    assert_int_equal(p.n_quiet, 2);
    assert_int_equal(p.quiet[0].start_min, 12 * 60); /* 12:00-14:30 */
    assert_int_equal(p.quiet[0].end_min, 14 * 60 + 30);
    assert_int_equal(p.quiet[1].start_min, 21 * 60); /* 21:00-08:30 */
    assert_int_equal(p.quiet[1].end_min, 8 * 60 + 30);
    /* AAA, AA and urgent are emergencies; A, standard and general move. */
    assert_false(p.tier[CFD_TIER_AAA].contact_quiet_moves);
    assert_false(p.tier[CFD_TIER_AA].contact_quiet_moves);
    assert_true(p.tier[CFD_TIER_A].contact_quiet_moves);
    assert_true(p.tier[CFD_TIER_STANDARD].contact_quiet_moves);
    assert_false(p.urgent.contact_quiet_moves);
    assert_true(p.general.contact_quiet_moves);
    assert_int_equal(p.reschedule_notice_ms, 2 * HOUR); /* seed fact */
    assert_int_equal(p.absent_wait_ms, 15 * MIN);       /* seed fact */
    assert_int_equal(p.observation_window_ms, 7 * 24 * HOUR);
    assert_int_equal(p.points.late_arrival, 15);
    assert_int_equal(p.points.cause_late_per_day, 10);
    assert_int_equal(p.points.event_report_late_per_day, 5);
    assert_int_equal(p.points.nonconforming_per_item, 5);
    assert_int_equal(p.points.broken_commitment, 5);
    assert_int_equal(p.serial_date, CFD_SERIAL_DATE_YYYYMMDD);
    /* Each step of a duty one level higher: warning, warning, breach, escalation. */
    assert_int_equal(p.n_chain, 4);
    assert_int_equal(p.chain[0], CFD_RECIPIENT_ENGINEER);
    assert_int_equal(p.chain[1], CFD_RECIPIENT_TEAM_LEADER);
    assert_int_equal(p.chain[2], CFD_RECIPIENT_DEPARTMENT_LEADER);
    assert_int_equal(p.chain[3], CFD_RECIPIENT_NOC_DUTY_MANAGER);
}

/* Every figure is in the version: changing any one changes it. */
static void test_version_covers_everything(void **state)
{
    static const char *const cases[] = {
        "cause special",       "event report ordinary",
        "utc offset",          "quiet window",
        "quiet move",          "reschedule notice",
        "absent wait",         "observation window",
        "late arrival points", "serial format",
        "recipient chain",     "AAA parallel point",
    };
    cfd_policy base;

    (void)state;
    cfd_policy_defaults(&base);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_policy p = base;

        print_message("case: %s\n", cases[i]);
        switch (i) {
        case 0:
            p.cause_ms[CFD_SPECIAL] += 1;
            break;
        case 1:
            p.event_report_ms[CFD_ORDINARY] += 1;
            break;
        case 2:
            p.utc_offset_min = 420;
            break;
        case 3:
            p.quiet[0].end_min += 1;
            break;
        case 4:
            p.tier[CFD_TIER_A].contact_quiet_moves = false;
            break;
        case 5:
            p.reschedule_notice_ms += 1;
            break;
        case 6:
            p.absent_wait_ms += 1;
            break;
        case 7:
            p.observation_window_ms += 1;
            break;
        case 8:
            p.points.late_arrival += 1;
            break;
        case 9:
            p.serial_date = CFD_SERIAL_DATE_YYMM;
            break;
        case 10:
            p.n_chain = 3;
            break;
        default:
            p.aaa_parallel_pct = 80;
            break;
        }
        cfd_policy_seal(&p);
        assert_string_not_equal(p.version, base.version);
    }
}

static void test_validate_other_figures(void **state)
{
    static const char *const names[] = {
        "cause 0",
        "event report 0",
        "offset +15 h",
        "quiet window past midnight",
        "empty quiet window",
        "negative wait",
        "negative points",
        "serial format 7",
        "chain not climbing",
        "chain too short",
        "AAA parallel point past 100 %",
    };
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cfd_policy p;

        print_message("case: %s\n", names[i]);
        cfd_policy_defaults(&p);
        switch (i) {
        case 0:
            p.cause_ms[CFD_ORDINARY] = 0;
            break;
        case 1:
            p.event_report_ms[CFD_SPECIAL] = 0;
            break;
        case 2:
            p.utc_offset_min = 15 * 60;
            break;
        case 3:
            p.quiet[1].end_min = 1440;
            break;
        case 4:
            p.quiet[0].end_min = p.quiet[0].start_min;
            break;
        case 5:
            p.absent_wait_ms = -1;
            break;
        case 6:
            p.points.broken_commitment = -5;
            break;
        case 7:
            p.serial_date = (cfd_serial_date)7;
            break;
        case 8:
            p.chain[1] = CFD_RECIPIENT_ENGINEER;
            break;
        case 9:
            p.n_chain = 2;
            break;
        default:
            p.aaa_parallel_pct = 101;
            break;
        }
        assert_int_equal(cfd_policy_validate(&p, err, sizeof(err)), CFD_ERR_INVALID_VALUE);
        assert_true(strlen(err) > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_defaults),
        cmocka_unit_test(test_version_covers_everything),
        cmocka_unit_test(test_validate_other_figures),
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_version_digest),
        cmocka_unit_test(test_validate_limits),
        cmocka_unit_test(test_validate_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

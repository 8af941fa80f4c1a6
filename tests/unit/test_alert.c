/* Unit tests for src/domain/alert.c: breach alerts, retractions, ids and bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "confirmd/record.h"
#include "domain_fixture.h"

static cfd_policy pol;

static int setup(void **state)
{
    (void)state;
    cfd_policy_defaults(&pol);
    return 0;
}

static void apply_ok(cfd_record *rec, const cfd_event *ev)
{
    cfd_apply_outcome out;
    char err[128] = "";

    if (cfd_record_apply(rec, ev, &pol, &out, err, sizeof(err)) != CFD_OK)
        fail_msg("apply %s: %s", ev->event_id, err);
    assert_int_equal(out, CFD_APPLY_CHANGED);
}

/* An AAA order reported and accepted at FX_T0. */
static cfd_record *open_aaa(const char *wo)
{
    cfd_record *rec = cfd_record_new();
    cfd_event rep = fx_report("r", wo, FX_T0, CFD_TIER_AAA, CFD_URGENCY_UNSPECIFIED);
    cfd_event acc = fx_event("a", wo, CFD_MS_ACCEPTED, FX_T0);

    cfd_alert gold;

    rep.report.customer.gold = true;
    apply_ok(rec, &rep);
    apply_ok(rec, &acc);
    /* The gold notification comes first and once; the tests below are about SLAs. */
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0, &gold, 1), 1);
    assert_int_equal(gold.kind, CFD_ALERT_GOLD_NOTIFICATION);
    return rec;
}

static void test_make_id(void **state)
{
    static const struct {
        const char *wo;
        cfd_metric metric;
        int pct;
        const char *want;
    } cases[] = {
        {"WO-1", CFD_METRIC_ON_SITE, 100, "WO-1/METRIC_ON_SITE/100"},
        {"WO-1", CFD_METRIC_CONTACT, 80, "WO-1/METRIC_CONTACT/80"},
        {"CQ-2026-000017", CFD_METRIC_RESTORATION, 50,
         "CQ-2026-000017/METRIC_RESTORATION/50"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_alert a = {.work_order = cases[i].wo,
                       .metric = cases[i].metric,
                       .threshold_pct = cases[i].pct,
                       .kind = CFD_ALERT_BREACH};
        cfd_alert b = a;

        cfd_alert_make_id(&a);
        assert_string_equal(a.alert_id, cases[i].want);
        b.kind = CFD_ALERT_RETRACTED; /* the kind is not part of the id */
        cfd_alert_make_id(&b);
        assert_string_equal(b.alert_id, a.alert_id);
    }
}

static void test_bits_distinct(void **state)
{
    uint64_t seen = 0;

    (void)state;
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        for (int s = 0; s < CFD_ALERT_SLOT_COUNT; s++) {
            uint64_t bit = cfd_alert_bit((cfd_metric)m, (cfd_alert_slot)s);

            assert_int_not_equal(bit, 0);
            assert_int_equal(bit & (bit - 1), 0); /* exactly one bit */
            assert_int_equal(seen & bit, 0);
            seen |= bit;
        }
    assert_int_equal(cfd_alert_bit(CFD_METRIC_NONE, CFD_ALERT_SLOT_BREACH), 0);
    assert_int_equal(cfd_alert_bit((cfd_metric)CFD_METRIC_COUNT, CFD_ALERT_SLOT_BREACH), 0);
    assert_int_equal(cfd_alert_bit(CFD_METRIC_CONTACT, CFD_ALERT_SLOT_COUNT), 0);
}

static void test_breach_met_late(void **state)
{
    cfd_record *rec = open_aaa("WO-A");
    cfd_event con = fx_event("c", "WO-A", CFD_MS_CUSTOMER_CONTACTED, FX_T0 + 20 * FX_MIN);
    cfd_alert out[4];
    int64_t now = FX_T0 + 21 * FX_MIN;

    (void)state;
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, now, out, 4), 0);
    apply_ok(rec, &con);
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, now, out, 4), 1);
    assert_int_equal(out[0].kind, CFD_ALERT_BREACH);
    assert_string_equal(out[0].alert_id, "WO-A/METRIC_CONTACT/100");
    assert_string_equal(out[0].work_order, "WO-A");
    assert_int_equal(out[0].metric, CFD_METRIC_CONTACT);
    assert_int_equal(out[0].threshold_pct, 100);
    assert_int_equal(out[0].deadline_ms, FX_T0 + 15 * FX_MIN);
    assert_int_equal(out[0].actual_ms, FX_T0 + 20 * FX_MIN);
    assert_int_equal(out[0].fired_at_ms, now);
    /* The breach is the duty's third step: the chain's third level. */
    assert_int_equal(out[0].recipients, CFD_RECIPIENT_DEPARTMENT_LEADER);
    assert_int_equal(out[0].tier, CFD_TIER_AAA);
    assert_true(out[0].gold);
    assert_string_equal(out[0].city, "Chongqing");
    assert_string_equal(out[0].circuit_id, "CQ-LP-0001");
    assert_string_equal(out[0].message, "AAA work order WO-A: contact deadline "
                                        "2026-01-01 09:15 UTC breached (contacted 5 min "
                                        "late)");
    /* Confidential customer data never goes into an alert. */
    assert_null(strstr(out[0].message, "Acme"));
    assert_null(strstr(out[0].message, "13800000000"));
    assert_true(rec->alerts_sent &
                cfd_alert_bit(CFD_METRIC_CONTACT, CFD_ALERT_SLOT_BREACH));
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, now, out, 4), 0);
    cfd_record_destroy(rec);
}

/* A breach seen from a later event is retracted by a late arrival, under the same id. */
static void test_breach_then_retraction(void **state)
{
    cfd_record *rec = open_aaa("WO-B");
    cfd_event con = fx_event("c", "WO-B", CFD_MS_CUSTOMER_CONTACTED, FX_T0 + 5 * FX_MIN);
    cfd_event alarm = fx_event("n", "WO-B", CFD_MS_ALARM, FX_T0 + 70 * FX_MIN);
    cfd_event arr = fx_event("o", "WO-B", CFD_MS_ARRIVED_ON_SITE, FX_T0 + 50 * FX_MIN);
    cfd_alert out[4];
    char breach_id[160];

    (void)state;
    apply_ok(rec, &con);
    apply_ok(rec, &alarm);
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0 + 71 * FX_MIN, out, 4), 1);
    assert_int_equal(out[0].kind, CFD_ALERT_BREACH);
    assert_int_equal(out[0].metric, CFD_METRIC_ON_SITE);
    assert_int_equal(out[0].actual_ms, 0);
    assert_string_equal(out[0].message, "AAA work order WO-B: on-site deadline "
                                        "2026-01-01 10:00 UTC breached (not arrived "
                                        "yet)");
    strcpy(breach_id, out[0].alert_id);

    apply_ok(rec, &arr);
    assert_int_equal(rec->sla[CFD_METRIC_ON_SITE].status, CFD_MST_MET);
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0 + 80 * FX_MIN, out, 4), 1);
    assert_int_equal(out[0].kind, CFD_ALERT_RETRACTED);
    assert_string_equal(out[0].alert_id, breach_id);
    assert_string_equal(out[0].alert_id, "WO-B/METRIC_ON_SITE/100");
    assert_int_equal(out[0].actual_ms, FX_T0 + 50 * FX_MIN);
    assert_int_equal(out[0].fired_at_ms, FX_T0 + 80 * FX_MIN);
    assert_string_equal(out[0].message, "AAA work order WO-B: on-site breach retracted "
                                        "(arrived 2026-01-01 09:50 UTC, deadline "
                                        "2026-01-01 10:00 UTC)");
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0 + 90 * FX_MIN, out, 4), 0);
    cfd_record_destroy(rec);
}

/* A met metric without an earlier breach is never "retracted". */
static void test_no_retraction_without_breach(void **state)
{
    cfd_record *rec = open_aaa("WO-C");
    cfd_event con = fx_event("c", "WO-C", CFD_MS_CUSTOMER_CONTACTED, FX_T0 + 5 * FX_MIN);
    cfd_alert out[4];

    (void)state;
    apply_ok(rec, &con);
    assert_int_equal(rec->sla[CFD_METRIC_CONTACT].status, CFD_MST_MET);
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0, out, 4), 0);
    assert_int_equal(rec->alerts_sent, CFD_ALERT_BIT_GOLD);
    cfd_record_destroy(rec);
}

/* With room for one alert, the rest wait for the next call; none is lost. */
static void test_max_respected(void **state)
{
    cfd_record *rec = open_aaa("WO-D");
    cfd_event alarm = fx_event("n", "WO-D", CFD_MS_ALARM, FX_T0 + 5 * FX_HOUR);
    cfd_alert out[1];
    cfd_metric seen[3];

    (void)state;
    apply_ok(rec, &alarm); /* contact, on site and restoration all breached */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0, out, 1), 1);
        assert_int_equal(out[0].kind, CFD_ALERT_BREACH);
        seen[i] = out[0].metric;
    }
    assert_int_equal(seen[0], CFD_METRIC_CONTACT);
    assert_int_equal(seen[1], CFD_METRIC_ON_SITE);
    assert_int_equal(seen[2], CFD_METRIC_RESTORATION);
    assert_string_equal(out[0].message, "AAA work order WO-D: restoration deadline "
                                        "2026-01-01 13:00 UTC breached (not restored "
                                        "yet)");
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0, out, 1), 0);
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0, out, 0), 0);
    cfd_record_destroy(rec);
}

/* Urgency classes are named in the message by class, not by tier. */
static void test_message_for_urgent(void **state)
{
    cfd_record *rec = cfd_record_new();
    cfd_event rep = fx_report("r", "WO-E", FX_T0, CFD_TIER_UNSPECIFIED, CFD_URGENCY_URGENT);
    cfd_event con = fx_event("c", "WO-E", CFD_MS_CUSTOMER_CONTACTED, FX_T0 + 121 * FX_MIN);
    cfd_alert out[4];

    (void)state;
    apply_ok(rec, &rep);
    apply_ok(rec, &con);
    assert_int_equal(cfd_record_collect_alerts(rec, &pol, FX_T0, out, 4), 1);
    assert_string_equal(out[0].message, "urgent work order WO-E: contact deadline "
                                        "2026-01-01 11:00 UTC breached (contacted 1 min "
                                        "late)");
    cfd_record_destroy(rec);
}

/* 「金牌集团客户」: AAA gold notifies the department leader, AA gold the team leader,
 * once, at acceptance; A, standard and non-gold orders notify nobody. */
static void test_gold_notification(void **state)
{
    static const struct {
        const char *name;
        cfd_tier tier;
        bool gold, accepted;
        cfd_recipient want; /* NONE: no notification */
        const char *message;
    } cases[] = {
        {"AAA gold accepted: department leader", CFD_TIER_AAA, true, true,
         CFD_RECIPIENT_DEPARTMENT_LEADER,
         "AAA gold work order WO-G accepted 2026-01-01 09:05 UTC: notify the network "
         "department leader"},
        {"AA gold accepted: team leader", CFD_TIER_AA, true, true,
         CFD_RECIPIENT_TEAM_LEADER,
         "AA gold work order WO-G accepted 2026-01-01 09:05 UTC: notify the team leader"},
        {"AAA gold not accepted yet: nothing", CFD_TIER_AAA, true, false,
         CFD_RECIPIENT_NONE, NULL},
        {"A gold: no dispatch", CFD_TIER_A, true, true, CFD_RECIPIENT_NONE, NULL},
        {"standard gold: no dispatch", CFD_TIER_STANDARD, true, true, CFD_RECIPIENT_NONE,
         NULL},
        {"AAA not gold: nothing", CFD_TIER_AAA, false, true, CFD_RECIPIENT_NONE, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_record *rec = cfd_record_new();
        cfd_event rep =
            fx_report("r", "WO-G", FX_T0, cases[i].tier, CFD_URGENCY_UNSPECIFIED);
        cfd_event acc = fx_event("a", "WO-G", CFD_MS_ACCEPTED, FX_T0 + 5 * FX_MIN);
        cfd_alert out[4];
        size_t n;

        print_message("case: %s\n", cases[i].name);
        rep.report.customer.gold = cases[i].gold;
        apply_ok(rec, &rep);
        if (cases[i].accepted)
            apply_ok(rec, &acc);
        n = cfd_record_collect_alerts(rec, &pol, FX_T0 + 6 * FX_MIN, out, 4);
        if (cases[i].want == CFD_RECIPIENT_NONE) {
            assert_int_equal(n, 0);
        } else {
            assert_int_equal(n, 1);
            assert_int_equal(out[0].kind, CFD_ALERT_GOLD_NOTIFICATION);
            assert_int_equal(out[0].recipients, cases[i].want);
            assert_int_equal(out[0].metric, CFD_METRIC_NONE);
            assert_string_equal(out[0].alert_id, "WO-G/GOLD_NOTIFICATION");
            assert_int_equal(out[0].actual_ms, FX_T0 + 5 * FX_MIN);
            assert_true(out[0].gold);
            assert_string_equal(out[0].message, cases[i].message);
            assert_null(strstr(out[0].message, "Acme"));
            /* once */
            assert_int_equal(
                cfd_record_collect_alerts(rec, &pol, FX_T0 + 7 * FX_MIN, out, 4), 0);
        }
        cfd_record_destroy(rec);
    }
}

/* The new duties alert like the others: a late cause identification. */
static void test_breach_new_metrics(void **state)
{
    cfd_record *rec = open_aaa("WO-F");
    cfd_event arr = fx_event("o", "WO-F", CFD_MS_ARRIVED_ON_SITE, FX_T0 + 30 * FX_MIN);
    cfd_event dia = fx_event("g", "WO-F", CFD_MS_DIAGNOSED, FX_T0 + 200 * FX_MIN);
    cfd_alert out[8];
    size_t n;
    bool seen = false;

    (void)state;
    apply_ok(rec, &arr);
    apply_ok(rec, &dia);
    n = cfd_record_collect_alerts(rec, &pol, FX_T0 + 201 * FX_MIN, out, 8);
    for (size_t i = 0; i < n; i++)
        if (out[i].metric == CFD_METRIC_CAUSE_IDENTIFIED) {
            seen = true;
            assert_string_equal(out[i].alert_id, "WO-F/METRIC_CAUSE_IDENTIFIED/100");
            assert_string_equal(out[i].message,
                                "AAA work order WO-F: cause identification deadline "
                                "2026-01-01 11:30 UTC breached (identified 50 min late)");
        }
    assert_true(seen);
    cfd_record_destroy(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_id),
        cmocka_unit_test(test_bits_distinct),
        cmocka_unit_test(test_breach_met_late),
        cmocka_unit_test(test_breach_then_retraction),
        cmocka_unit_test(test_no_retraction_without_breach),
        cmocka_unit_test(test_max_respected),
        cmocka_unit_test(test_message_for_urgent),
        cmocka_unit_test(test_gold_notification),
        cmocka_unit_test(test_breach_new_metrics),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * What alarms mean for work orders (src/domain/alarm.c) and the alarm codec
 * (src/codec/alarm_codec.c): a table of alarm sequences on one object and what each step
 * decides, the events an opening produces, and the stored state's round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/alarm_codec.h"
#include "confirmd/codec.h"

#define T0 1764043200000LL
#define MIN (60LL * 1000)

typedef struct step {
    const char *alarm_id;
    cfd_alarm_severity sev;
    bool cleared;
    const char *closed_wo; /* a notice */
    cfd_alarm_action want;
    const char *want_wo;  /* the object's open order after the step, NULL none */
    const char *reported; /* a customer's report notice for this order */
    const char *opened;   /* another object of the circuit opened this order */
} step;

typedef struct seq_case {
    const char *name;
    step steps[8];
} seq_case;

#define MAJ CFD_ALARM_MAJOR
#define CRIT CFD_ALARM_CRITICAL
#define MIN_SEV CFD_ALARM_MINOR

static const seq_case cases[] = {
    {"a major alarm opens an order; its repeats change nothing",
     {{"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL},
      {"a1", MAJ, false, NULL, CFD_ALARM_IGNORE, "ALM-a1", NULL, NULL},
      {"a1", CRIT, false, NULL, CFD_ALARM_IGNORE, "ALM-a1", NULL, NULL}}},
    {"a minor alarm with no order opens nothing; with one, it links",
     {{"m1", MIN_SEV, false, NULL, CFD_ALARM_IGNORE, NULL, NULL, NULL},
      {"c1", CRIT, false, NULL, CFD_ALARM_OPEN, "ALM-c1", NULL, NULL},
      {"m2", MIN_SEV, false, NULL, CFD_ALARM_LINK, "ALM-c1", NULL, NULL}}},
    {"a second alarm id on the object joins the open order",
     {{"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL},
      {"a2", CRIT, false, NULL, CFD_ALARM_LINK, "ALM-a1", NULL, NULL}}},
    {"flapping: the first clear is evidence, later cycles change nothing",
     {{"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL},
      {"a1", MAJ, true, NULL, CFD_ALARM_CLEAR, "ALM-a1", NULL, NULL},
      {"a1", MAJ, false, NULL, CFD_ALARM_IGNORE, "ALM-a1", NULL, NULL},
      {"a1", MAJ, true, NULL, CFD_ALARM_IGNORE, "ALM-a1", NULL, NULL}}},
    {"a clear of an alarm never linked is nothing",
     {{"x1", MAJ, true, NULL, CFD_ALARM_IGNORE, NULL, NULL, NULL}}},
    {"the order completed: the object is free, the next major alarm opens anew",
     {{"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL},
      {"n1", 0, false, "ALM-a1", CFD_ALARM_FREED, NULL, NULL, NULL},
      {"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL}}},
    {"a customer's report joins the order an alarm opened first",
     {{"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL},
      {"r1", 0, false, NULL, CFD_ALARM_JOIN, "ALM-a1", "WO-C", NULL},
      {"r1", 0, false, NULL, CFD_ALARM_JOIN, "ALM-a1", "WO-C", NULL}}},
    {"a customer's report first: the circuit's alarms join its order",
     {{"r1", 0, false, NULL, CFD_ALARM_ADOPT, "WO-C", "WO-C", NULL},
      {"r1", 0, false, NULL, CFD_ALARM_IGNORE, "WO-C", "WO-C", NULL},
      {"a1", CRIT, false, NULL, CFD_ALARM_LINK, "WO-C", NULL, NULL},
      {"n1", 0, false, "WO-C", CFD_ALARM_FREED, NULL, NULL, NULL}}},
    {"a port's alarm opened an order: the circuit binds to it, a report joins it",
     {{"o1", 0, false, NULL, CFD_ALARM_ADOPT, "ALM-p1", NULL, "ALM-p1"},
      {"o1", 0, false, NULL, CFD_ALARM_IGNORE, "ALM-p1", NULL, "ALM-p1"},
      {"r1", 0, false, NULL, CFD_ALARM_JOIN, "ALM-p1", "WO-C", NULL},
      {"a1", CRIT, false, NULL, CFD_ALARM_LINK, "ALM-p1", NULL, NULL},
      {"n1", 0, false, "ALM-p1", CFD_ALARM_FREED, NULL, NULL, NULL}}},
    {"a customer's order first: a port's order does not take the circuit over",
     {{"r1", 0, false, NULL, CFD_ALARM_ADOPT, "WO-C", "WO-C", NULL},
      {"o1", 0, false, NULL, CFD_ALARM_IGNORE, "WO-C", NULL, "ALM-p1"}}},
    {"a report notice sent again after its order completed changes nothing",
     {{"r1", 0, false, NULL, CFD_ALARM_ADOPT, "WO-C", "WO-C", NULL},
      {"n1", 0, false, "WO-C", CFD_ALARM_FREED, NULL, NULL, NULL},
      {"r1", 0, false, NULL, CFD_ALARM_IGNORE, NULL, "WO-C", NULL},
      {"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL}}},
    {"the completion overtakes the report notice: the object stays free",
     {{"n1", 0, false, "WO-C", CFD_ALARM_IGNORE, NULL, NULL, NULL},
      {"r1", 0, false, NULL, CFD_ALARM_IGNORE, NULL, "WO-C", NULL}}},
    {"an opened notice sent again after its order completed changes nothing",
     {{"o1", 0, false, NULL, CFD_ALARM_ADOPT, "ALM-p1", NULL, "ALM-p1"},
      {"n1", 0, false, "ALM-p1", CFD_ALARM_FREED, NULL, NULL, NULL},
      {"o1", 0, false, NULL, CFD_ALARM_IGNORE, NULL, NULL, "ALM-p1"}}},
    {"a notice for another order is stale",
     {{"a1", MAJ, false, NULL, CFD_ALARM_OPEN, "ALM-a1", NULL, NULL},
      {"n1", 0, false, "ALM-zz", CFD_ALARM_IGNORE, "ALM-a1", NULL, NULL}}},
};

static void test_decide_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        cfd_alarm_state *st = cfd_alarm_state_new();
        for (size_t i = 0; i < 8 && cases[c].steps[i].alarm_id; i++) {
            const step *s = &cases[c].steps[i];
            cfd_alarm a = {.alarm_id = s->alarm_id,
                           .network_object = "OBJ",
                           .severity = s->sev,
                           .cleared = s->cleared,
                           .event_time_ms = T0 + (int64_t)i * MIN,
                           .closed_work_order = s->closed_wo,
                           .reported_work_order = s->reported,
                           .opened_work_order = s->opened};
            cfd_alarm_action got = cfd_alarm_decide(st, &a);
            if (got != s->want)
                fail_msg("case '%s' step %zu: action %d, expected %d", cases[c].name, i,
                         (int)got, (int)s->want);
            if (s->want_wo)
                assert_string_equal(st->work_order, s->want_wo);
            else
                assert_null(st->work_order);
        }
        cfd_alarm_state_destroy(st);
    }
}

/* An alarm raised before the last order completed but decided after its completion
 * notice (it came the longer way, through the customer's coordinator) is linked to
 * that order, whatever its severity; one raised after opens a new order. */
static void test_late_alarm(void **state)
{
    (void)state;
    cfd_alarm_state *st = cfd_alarm_state_new();
    cfd_alarm open = {.alarm_id = "a1",
                      .network_object = "customer:K",
                      .severity = MAJ,
                      .event_time_ms = T0};
    cfd_alarm done = {.alarm_id = "closed-ALM-a1",
                      .network_object = "customer:K",
                      .event_time_ms = T0 + 50 * MIN,
                      .closed_work_order = "ALM-a1"};
    cfd_alarm late = {.alarm_id = "a7",
                      .network_object = "customer:K",
                      .severity = CFD_ALARM_MINOR,
                      .event_time_ms = T0 + 10 * MIN};
    cfd_alarm after = {.alarm_id = "a8",
                       .network_object = "customer:K",
                       .severity = CRIT,
                       .event_time_ms = T0 + 60 * MIN};
    cfd_event evs[2];
    char ids[2][160];
    cfd_circuit c = {.object_id = "OBJ", .circuit_id = "CIR"};
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    assert_int_equal(cfd_alarm_decide(st, &open), CFD_ALARM_OPEN);
    assert_int_equal(cfd_alarm_decide(st, &done), CFD_ALARM_FREED);
    assert_int_equal(cfd_alarm_decide(st, &late), CFD_ALARM_LATE);
    assert_null(st->work_order);
    assert_int_equal(cfd_alarm_events(st, &late, &c, CFD_ALARM_LATE, &pol, evs, ids), 1);
    assert_string_equal(evs[0].work_order, "ALM-a1");
    assert_string_equal(evs[0].event_id, "alm-a7-raise");
    assert_int_equal(cfd_alarm_decide(st, &after), CFD_ALARM_OPEN);
    assert_string_equal(st->work_order, "ALM-a8");

    /* The storm window of the open order (opened at T0 + 60 min; default 30 min). */
    cfd_alarm storm = {.alarm_id = "a9",
                       .network_object = "OBJ-2",
                       .severity = MAJ,
                       .event_time_ms = T0 + 90 * MIN,
                       .coordinator = "customer:K"};
    assert_false(cfd_alarm_declines(st, &storm, &pol)); /* exactly 30 min: still in it */
    storm.event_time_ms++;
    assert_true(cfd_alarm_declines(st, &storm, &pol));
    cfd_alarm repeat = after; /* an alarm already linked is never sent back */
    repeat.event_time_ms = T0 + 200 * MIN;
    assert_false(cfd_alarm_declines(st, &repeat, &pol));
    storm.cleared = true; /* nor a clear */
    assert_false(cfd_alarm_declines(st, &storm, &pol));
    pol.customer_storm_window_ms = 2 * 60 * MIN;
    storm.cleared = false;
    assert_false(cfd_alarm_declines(st, &storm, &pol));
    cfd_alarm_state_destroy(st);
}

/* An opening yields the fault report built from the inventory, then the alarm; a
 * repeat fault names the order completed within the observation window. */
static void test_open_events(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_circuit c = {.object_id = "OBJ", .circuit_id = "CIR-9", .access_point = "AP"};
    c.customer.tier = CFD_TIER_AA;
    c.customer.city = "Chongqing";
    c.importance = CFD_IMPORTANCE_CROSS_CITY;
    c.cross_city_rental = true;
    cfd_alarm_state *st = cfd_alarm_state_new();
    cfd_alarm a = {.alarm_id = "a1",
                   .network_object = "OBJ",
                   .severity = CRIT,
                   .event_time_ms = T0,
                   .text = "LOS"};
    cfd_event ev[2];
    char ids[2][160];

    assert_int_equal(cfd_alarm_decide(st, &a), CFD_ALARM_OPEN);
    assert_int_equal(cfd_alarm_events(st, &a, &c, CFD_ALARM_OPEN, &pol, ev, ids), 2);
    assert_int_equal(ev[0].kind, CFD_MS_REPORTED);
    assert_string_equal(ev[0].work_order, "ALM-a1");
    assert_string_equal(ev[0].event_id, "alm-open-a1");
    assert_int_equal(ev[0].event_time_ms, T0);
    assert_int_equal(ev[0].source, CFD_SOURCE_NOC);
    assert_string_equal(ev[0].report.circuit_id, "CIR-9");
    assert_int_equal(ev[0].report.customer.tier, CFD_TIER_AA);
    assert_string_equal(ev[0].report.alarm_object, "OBJ");
    assert_null(ev[0].report.previous_work_order);
    /* The circuit's class fills the customer block; a critical alarm is 全阻. */
    assert_int_equal(ev[0].report.customer.importance, CFD_IMPORTANCE_CROSS_CITY);
    assert_true(ev[0].report.customer.cross_city_rental);
    assert_false(ev[0].report.customer.diamond);
    assert_true(ev[0].report.full_interruption);
    assert_int_equal(ev[1].kind, CFD_MS_ALARM);
    assert_string_equal(ev[1].event_id, "alm-a1-raise");
    assert_int_equal(ev[1].alarm.severity, CRIT);

    /* Completed "needs further observation", then a new alarm two days later: within
     * 7 days, a repeat fault. */
    cfd_alarm notice = {.alarm_id = "n",
                        .network_object = "OBJ",
                        .event_time_ms = T0 + MIN,
                        .closed_work_order = "ALM-a1",
                        .closed_needs_observation = true,
                        .closed_watched_from_ms = T0 + MIN};
    assert_int_equal(cfd_alarm_decide(st, &notice), CFD_ALARM_FREED);
    cfd_alarm b = {.alarm_id = "b1",
                   .network_object = "OBJ",
                   .severity = MAJ,
                   .event_time_ms = T0 + 2 * 24 * 60 * MIN};
    assert_int_equal(cfd_alarm_decide(st, &b), CFD_ALARM_OPEN);
    assert_int_equal(cfd_alarm_events(st, &b, &c, CFD_ALARM_OPEN, &pol, ev, ids), 2);
    assert_string_equal(ev[0].report.previous_work_order, "ALM-a1");
    assert_false(ev[0].report.full_interruption); /* major, not critical */

    /* Freed again, and a new alarm ten days later: not a repeat any more. */
    notice.closed_work_order = "ALM-b1";
    notice.event_time_ms = notice.closed_watched_from_ms = b.event_time_ms + MIN;
    assert_int_equal(cfd_alarm_decide(st, &notice), CFD_ALARM_FREED);
    cfd_alarm d = {.alarm_id = "d1",
                   .network_object = "OBJ",
                   .severity = MAJ,
                   .event_time_ms = notice.event_time_ms + 10 * 24 * 60 * MIN};
    assert_int_equal(cfd_alarm_decide(st, &d), CFD_ALARM_OPEN);
    cfd_alarm_events(st, &d, &c, CFD_ALARM_OPEN, &pol, ev, ids);
    assert_null(ev[0].report.previous_work_order);
    cfd_alarm_state_destroy(st);
}

/* 「需要进一步观察」: a new fault on the circuit within the observation window of an order
 * that ended "needs further observation" is a repeat fault, linked by the service
 * whatever opened it: an alarm (in its fault report) or a customer's report (an event
 * of its own to the customer's order). */
typedef struct repeat_case {
    const char *name;
    bool needs_observation; /* the completed order's result */
    int days_after;         /* the new fault, after the watch began */
    bool by_report;         /* a customer's report opened it, else an alarm */
    const char *want;       /* the earlier order named, or NULL */
} repeat_case;

static const repeat_case repeat_cases[] = {
    {"alarm 2 days after a watched order: repeat", true, 2, false, "ALM-a1"},
    {"alarm after a restored order: a new fault", false, 2, false, NULL},
    {"report 2 days after a watched order: linked by the service", true, 2, true, "ALM-a1"},
    {"report exactly 7 days after: still a repeat", true, 7, true, "ALM-a1"},
    {"report 8 days after: a new fault", true, 8, true, NULL},
    {"report after a restored order: a new fault", false, 2, true, NULL},
};

static void test_repeat_fault_linked(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_circuit c = {.object_id = "CIR", .circuit_id = "CIR"};
    for (size_t i = 0; i < sizeof(repeat_cases) / sizeof(repeat_cases[0]); i++) {
        const repeat_case *rc = &repeat_cases[i];
        cfd_alarm_state *st = cfd_alarm_state_new();
        cfd_event ev[2];
        char ids[2][160];
        int64_t watched = T0 + 60 * MIN, t = watched + rc->days_after * 24 * 60 * MIN;

        print_message("case: %s\n", rc->name);
        cfd_alarm a = {.alarm_id = "a1",
                       .network_object = "CIR",
                       .severity = MAJ,
                       .event_time_ms = T0};
        assert_int_equal(cfd_alarm_decide(st, &a), CFD_ALARM_OPEN);
        cfd_alarm done = {.alarm_id = "closed-ALM-a1",
                          .network_object = "CIR",
                          .event_time_ms = watched + MIN,
                          .closed_work_order = "ALM-a1",
                          .closed_needs_observation = rc->needs_observation,
                          .closed_watched_from_ms = watched};
        assert_int_equal(cfd_alarm_decide(st, &done), CFD_ALARM_FREED);
        if (rc->by_report) {
            cfd_alarm rep = {.alarm_id = "report-WO-C2",
                             .network_object = "CIR",
                             .event_time_ms = t,
                             .reported_work_order = "WO-C2"};
            assert_int_equal(cfd_alarm_decide(st, &rep), CFD_ALARM_ADOPT);
            size_t n = cfd_alarm_events(st, &rep, NULL, CFD_ALARM_ADOPT, &pol, ev, ids);
            assert_int_equal(n, rc->want ? 1 : 0);
            if (rc->want) {
                assert_int_equal(ev[0].kind, CFD_MS_REPEAT_FAULT);
                assert_string_equal(ev[0].work_order, "WO-C2");
                assert_string_equal(ev[0].event_id, "repeat-WO-C2");
                assert_int_equal(ev[0].event_time_ms, t);
                assert_string_equal(ev[0].repeat.previous_work_order, rc->want);
                /* It travels through the events topic like the others. */
                uint8_t *buf = NULL;
                size_t len = 0;
                char errstr[128];
                cfd_decoded_event de;
                assert_int_equal(cfd_codec_event_encode(&ev[0], &buf, &len), CFD_OK);
                assert_int_equal(
                    cfd_codec_event_decode(buf, len, &de, errstr, sizeof(errstr)), CFD_OK);
                assert_int_equal(de.ev.kind, CFD_MS_REPEAT_FAULT);
                assert_string_equal(de.ev.repeat.previous_work_order, rc->want);
                cfd_codec_event_release(&de);
                free(buf);
            }
        } else {
            cfd_alarm b = {.alarm_id = "b1",
                           .network_object = "CIR",
                           .severity = MAJ,
                           .event_time_ms = t};
            assert_int_equal(cfd_alarm_decide(st, &b), CFD_ALARM_OPEN);
            assert_int_equal(cfd_alarm_events(st, &b, &c, CFD_ALARM_OPEN, &pol, ev, ids),
                             2);
            if (rc->want)
                assert_string_equal(ev[0].report.previous_work_order, rc->want);
            else
                assert_null(ev[0].report.previous_work_order);
        }
        cfd_alarm_state_destroy(st);
    }
}

/* The synthesized events go through the codec and come back as the same events. */
static void test_event_encode_roundtrip(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    cfd_circuit c = {.object_id = "OBJ", .circuit_id = "CIR-9"};
    c.customer.tier = CFD_TIER_AAA;
    c.customer.gold = true;
    c.diamond = true;
    cfd_alarm_state *st = cfd_alarm_state_new();
    cfd_alarm a = {.alarm_id = "a1",
                   .network_object = "OBJ",
                   .severity = MAJ,
                   .event_time_ms = T0,
                   .text = "LOS"};
    cfd_event ev[2];
    char ids[2][160], errstr[128];
    assert_int_equal(cfd_alarm_decide(st, &a), CFD_ALARM_OPEN);
    size_t n = cfd_alarm_events(st, &a, &c, CFD_ALARM_OPEN, &pol, ev, ids);
    for (size_t i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        cfd_decoded_event de;
        assert_int_equal(cfd_codec_event_encode(&ev[i], &buf, &len), CFD_OK);
        assert_int_equal(cfd_codec_event_decode(buf, len, &de, errstr, sizeof(errstr)),
                         CFD_OK);
        assert_int_equal(de.ev.kind, ev[i].kind);
        assert_string_equal(de.ev.event_id, ev[i].event_id);
        assert_string_equal(de.ev.work_order, "ALM-a1");
        if (de.ev.kind == CFD_MS_REPORTED) {
            assert_true(de.ev.report.customer.gold);
            assert_true(de.ev.report.customer.diamond);
            assert_false(de.ev.report.full_interruption);
            assert_string_equal(de.ev.report.alarm_object, "OBJ");
        } else {
            assert_string_equal(de.ev.alarm.alarm_id, "a1");
        }
        cfd_codec_event_release(&de);
        free(buf);
    }
    cfd_alarm_state_destroy(st);
}

static void test_state_roundtrip(void **state)
{
    (void)state;
    cfd_alarm_state *st = cfd_alarm_state_new(), *back = NULL;
    char errstr[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *ids[] = {"z9", "a1", "m5"};
    for (int i = 0; i < 3; i++) {
        cfd_alarm a = {.alarm_id = ids[i],
                       .network_object = "OBJ",
                       .severity = MAJ,
                       .event_time_ms = T0 + i};
        cfd_alarm_decide(st, &a);
    }
    cfd_alarm clr = {.alarm_id = "m5",
                     .network_object = "OBJ",
                     .cleared = true,
                     .event_time_ms = T0 + 9};
    cfd_alarm_decide(st, &clr);
    cfd_codec_alarm_state_encode(st, &buf, &len);
    assert_int_equal(cfd_codec_alarm_state_decode(buf, len, &back, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_string_equal(back->work_order, "ALM-z9");
    assert_int_equal(back->n_alarm_ids, 3);
    assert_string_equal(back->alarm_ids[0], "a1"); /* kept sorted: canonical bytes */
    assert_string_equal(back->alarm_ids[2], "z9");
    assert_int_equal(back->n_cleared_ids, 1);
    assert_string_equal(back->cleared_ids[0], "m5");
    assert_int_equal(back->opened_at_ms, T0);
    assert_null(back->opened_on);
    free(buf);
    cfd_alarm_state_destroy(st);
    cfd_alarm_state_destroy(back);

    /* A circuit bound by a port's opened notice keeps the port. */
    st = cfd_alarm_state_new();
    cfd_alarm opened = {.alarm_id = "opened-ALM-p1",
                        .network_object = "CIR",
                        .event_time_ms = T0,
                        .opened_work_order = "ALM-p1",
                        .opened_on = "PTN-1/2"};
    assert_int_equal(cfd_alarm_decide(st, &opened), CFD_ALARM_ADOPT);
    cfd_codec_alarm_state_encode(st, &buf, &len);
    assert_int_equal(cfd_codec_alarm_state_decode(buf, len, &back, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_string_equal(back->work_order, "ALM-p1");
    assert_string_equal(back->opened_on, "PTN-1/2");
    cfd_alarm freed = {.alarm_id = "closed-ALM-p1",
                       .network_object = "CIR",
                       .event_time_ms = T0 + 1,
                       .closed_work_order = "ALM-p1",
                       .closed_needs_observation = true,
                       .closed_watched_from_ms = T0};
    assert_int_equal(cfd_alarm_decide(back, &freed), CFD_ALARM_FREED);
    assert_null(back->opened_on);
    free(buf);
    /* The completed order's watch survives storage. */
    cfd_codec_alarm_state_encode(back, &buf, &len);
    cfd_alarm_state_destroy(st);
    st = back;
    assert_int_equal(cfd_codec_alarm_state_decode(buf, len, &back, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_string_equal(back->last_work_order, "ALM-p1");
    assert_true(back->last_needs_observation);
    assert_int_equal(back->last_watched_from_ms, T0);
    free(buf);
    cfd_alarm_state_destroy(st);
    cfd_alarm_state_destroy(back);
    /* Garbage is refused, not misread. */
    assert_int_equal(
        cfd_codec_alarm_state_decode("\xff\xff\xff", 3, &back, errstr, sizeof(errstr)),
        CFD_ERR_DECODE);
}

/* An object with no order of its own forwards a major alarm once per storm window:
 * repeats stay with it, a clear, a raise after the clear, another severity, a repeat
 * after the window and minor alarms go on to the coordinator. */
static void test_forwards_once_per_window(void **state)
{
    (void)state;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    const int64_t window = pol.customer_storm_window_ms;
    cfd_alarm_state *st = cfd_alarm_state_new(), *back = NULL;
    bool changed;
    cfd_alarm a = {
        .alarm_id = "a1", .network_object = "OBJ", .severity = MAJ, .event_time_ms = T0};
    assert_true(cfd_alarm_forwards(st, &a, &pol, &changed));
    assert_true(changed);
    for (int i = 1; i <= 50; i++) {
        a.event_time_ms = T0 + i * 1000;
        assert_false(cfd_alarm_forwards(st, &a, &pol, &changed));
        assert_false(changed); /* nothing to store */
    }
    assert_int_equal(st->repeats, 0);
    /* Escalated: the coordinator hears it. Then its repeats stay again. */
    a.severity = CRIT;
    assert_true(cfd_alarm_forwards(st, &a, &pol, &changed));
    assert_false(cfd_alarm_forwards(st, &a, &pol, &changed));
    /* A repeat older than the last forward (it came the longer way) goes on. */
    a.event_time_ms = T0 - 1;
    assert_true(cfd_alarm_forwards(st, &a, &pol, &changed));
    /* The window counts from the last forward. */
    a.event_time_ms = T0 + 50 * 1000 + window;
    assert_false(cfd_alarm_forwards(st, &a, &pol, &changed));
    a.event_time_ms = T0 + 50 * 1000 + window + 1;
    assert_true(cfd_alarm_forwards(st, &a, &pol, &changed));
    const int64_t last = a.event_time_ms;
    /* Another alarm of the object, and a minor one (never kept: it may link later). */
    cfd_alarm b = {
        .alarm_id = "b2", .network_object = "OBJ", .severity = MAJ, .event_time_ms = last};
    assert_true(cfd_alarm_forwards(st, &b, &pol, &changed));
    cfd_alarm m = {.alarm_id = "m3",
                   .network_object = "OBJ",
                   .severity = CFD_ALARM_MINOR,
                   .event_time_ms = last};
    for (int i = 0; i < 3; i++) {
        assert_true(cfd_alarm_forwards(st, &m, &pol, &changed));
        assert_false(changed);
    }
    assert_int_equal(st->n_forwarded, 2);
    /* Stored and read back, sorted by id. */
    char errstr[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_alarm_state_encode(st, &buf, &len);
    assert_int_equal(cfd_codec_alarm_state_decode(buf, len, &back, errstr, sizeof(errstr)),
                     CFD_OK);
    free(buf);
    assert_int_equal(back->n_forwarded, 2);
    assert_string_equal(back->forwarded[0].alarm_id, "a1");
    assert_int_equal(back->forwarded[0].severity, CRIT);
    assert_int_equal(back->forwarded[0].at_ms, last);
    assert_string_equal(back->forwarded[1].alarm_id, "b2");
    /* A clear goes on and forgets; the raise after it goes on too (flapping is the
     * coordinator's to count). */
    a.cleared = true;
    a.event_time_ms = last + 1000;
    assert_true(cfd_alarm_forwards(back, &a, &pol, &changed));
    assert_true(changed);
    assert_true(cfd_alarm_forwards(back, &a, &pol, &changed)); /* a clear again */
    assert_false(changed);
    a.cleared = false;
    a.event_time_ms = last + 2000;
    assert_true(cfd_alarm_forwards(back, &a, &pol, &changed));
    assert_false(cfd_alarm_forwards(back, &a, &pol, &changed));
    /* Forwarded alarms whose window closed are dropped. */
    cfd_alarm c = {.alarm_id = "c4",
                   .network_object = "OBJ",
                   .severity = MAJ,
                   .event_time_ms = last + 2000 + window + 1};
    assert_true(cfd_alarm_forwards(back, &c, &pol, &changed));
    assert_int_equal(back->n_forwarded, 1);
    assert_string_equal(back->forwarded[0].alarm_id, "c4");
    /* An order of its own (here a report on it): the list is forgotten. */
    cfd_alarm report = {.alarm_id = "report-WO-1",
                        .network_object = "OBJ",
                        .event_time_ms = c.event_time_ms,
                        .reported_work_order = "WO-1"};
    assert_int_equal(cfd_alarm_decide(back, &report), CFD_ALARM_ADOPT);
    assert_int_equal(back->n_forwarded, 0);
    cfd_alarm_state_destroy(st);
    cfd_alarm_state_destroy(back);
}

/* Id lists stored out of order (not by confirmd) are sorted when read: the rules
 * search them. */
static void test_state_unsorted_ids(void **state)
{
    (void)state;
    cfd_alarm_state *st = cfd_alarm_state_new(), *back = NULL;
    char errstr[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    st->work_order = strdup("ALM-z");
    const char *ids[] = {"z", "b", "q", "a"};
    st->alarm_ids = calloc(4, sizeof(char *));
    for (int i = 0; i < 4; i++)
        st->alarm_ids[i] = strdup(ids[i]);
    st->n_alarm_ids = 4;
    st->forwarded = calloc(2, sizeof(cfd_forwarded));
    st->forwarded[0] = (cfd_forwarded){strdup("f9"), MAJ, T0};
    st->forwarded[1] = (cfd_forwarded){strdup("f1"), CRIT, T0 + 1};
    st->n_forwarded = 2;
    cfd_codec_alarm_state_encode(st, &buf, &len);
    assert_int_equal(cfd_codec_alarm_state_decode(buf, len, &back, errstr, sizeof(errstr)),
                     CFD_OK);
    free(buf);
    for (int i = 0; i < 4; i++) {
        cfd_alarm a = {.alarm_id = ids[i],
                       .network_object = "OBJ",
                       .severity = MAJ,
                       .event_time_ms = T0};
        assert_int_equal(cfd_alarm_decide(back, &a), CFD_ALARM_IGNORE); /* linked */
    }
    assert_string_equal(back->alarm_ids[0], "a");
    assert_string_equal(back->alarm_ids[3], "z");
    assert_string_equal(back->forwarded[0].alarm_id, "f1");
    assert_int_equal(back->forwarded[0].severity, CRIT);
    assert_string_equal(back->forwarded[1].alarm_id, "f9");
    cfd_alarm_state_destroy(st);
    cfd_alarm_state_destroy(back);
}

static void test_validate(void **state)
{
    (void)state;
    char errstr[128];
    cfd_alarm ok = {.alarm_id = "a", .network_object = "o", .event_time_ms = 1};
    assert_int_equal(cfd_alarm_validate(&ok, errstr, sizeof(errstr)), CFD_OK);
    cfd_alarm no_obj = {.alarm_id = "a", .event_time_ms = 1};
    assert_int_equal(cfd_alarm_validate(&no_obj, errstr, sizeof(errstr)),
                     CFD_ERR_MISSING_FIELD);
    assert_string_equal(errstr, "missing field network_object");
    cfd_alarm no_time = {.alarm_id = "a", .network_object = "o"};
    assert_int_equal(cfd_alarm_validate(&no_time, errstr, sizeof(errstr)),
                     CFD_ERR_MISSING_FIELD);
    assert_string_equal(errstr, "missing field event_time_ms");
}

/* Which objects hear of a completed order, under which ids. */
static void test_completion_notices(void **state)
{
    (void)state;
    cfd_record *rec = cfd_record_new();
    cfd_alarm_notice out[2];
    rec->version = 7;
    rec->result = CFD_RESULT_NEEDS_OBSERVATION;
    rec->service_end_time_ms = 5000;
    assert_int_equal(cfd_alarm_completion_notices(rec, "WO-1", out), 0); /* unbound */

    rec->circuit_id = strdup("CIRCUIT-1"); /* a customer's report on the circuit */
    assert_int_equal(cfd_alarm_completion_notices(rec, "WO-1", out), 1);
    assert_string_equal(out[0].notice.network_object, "CIRCUIT-1");
    assert_string_equal(out[0].id, "notice/WO-1/v7");
    assert_string_equal(out[0].notice.alarm_id, "closed-WO-1-v7");
    assert_string_equal(out[0].notice.closed_work_order, "WO-1");
    assert_true(out[0].notice.closed_needs_observation);
    assert_int_equal(out[0].notice.closed_watched_from_ms, 5000);

    rec->alarm_object = strdup("PORT-9"); /* a port's alarm opened it: both hear */
    assert_int_equal(cfd_alarm_completion_notices(rec, "WO-1", out), 2);
    assert_string_equal(out[0].notice.network_object, "PORT-9");
    assert_string_equal(out[1].notice.network_object, "CIRCUIT-1");
    assert_string_equal(out[1].id, "notice/WO-1/v7/circuit");
    assert_ptr_equal(out[1].notice.alarm_id, out[1].alarm_id);
    cfd_record_destroy(rec);
}

/* The circuit hears of an order another of its objects' alarms opened; a customer's
 * report on a circuit is told to the alarm stage unless an alarm opened it. */
static void test_opened_and_report_notices(void **state)
{
    (void)state;
    cfd_alarm_notice n;
    assert_false(cfd_alarm_opened_notice("C-1", "C-1", "WO-2", 10, &n)); /* itself */
    assert_false(cfd_alarm_opened_notice("", "PORT-1", "WO-2", 10, &n));
    assert_false(cfd_alarm_opened_notice(NULL, "PORT-1", "WO-2", 10, &n));
    assert_true(cfd_alarm_opened_notice("C-1", "PORT-1", "WO-2", 10, &n));
    assert_string_equal(n.notice.network_object, "C-1");
    assert_string_equal(n.notice.opened_on, "PORT-1");
    assert_string_equal(n.notice.opened_work_order, "WO-2");
    assert_string_equal(n.id, "notice/opened/WO-2");
    assert_int_equal(n.notice.event_time_ms, 10);

    cfd_event ev = {.event_id = "e1", .work_order = "WO-3", .event_time_ms = 20};
    assert_false(cfd_alarm_report_notice(&ev, "WO-3", "x", 1, &n)); /* no circuit */
    ev.report.circuit_id = "C-1";
    assert_true(cfd_alarm_report_notice(&ev, "WO-3", "x", 1, &n));
    assert_string_equal(n.notice.network_object, "C-1");
    assert_string_equal(n.notice.reported_work_order, "WO-3");
    assert_string_equal(n.id, "notice/report/WO-3");
    assert_int_equal(n.notice.report_len, 1);
    ev.report.alarm_object = "PORT-1"; /* an alarm opened it: nothing to tell */
    assert_false(cfd_alarm_report_notice(&ev, "WO-3", "x", 1, &n));
}

/* A customer's report joins the alarm-opened order; its own order is cancelled. */
static void test_join_events(void **state)
{
    (void)state;
    cfd_alarm_state *st = cfd_alarm_state_new();
    st->work_order = strdup("WO-ALARM");
    cfd_alarm a = {.alarm_id = "report-WO-CUST",
                   .network_object = "C-1",
                   .reported_work_order = "WO-CUST"};
    cfd_event report = {.event_id = "r1",
                        .work_order = "WO-CUST",
                        .event_time_ms = 30,
                        .kind = CFD_MS_REPORTED};
    cfd_alarm_join j;
    cfd_alarm_join_events(st, &a, &report, &j);
    assert_string_equal(j.joined.work_order, "WO-ALARM");
    assert_string_equal(j.joined.event_id, "join-r1");
    assert_string_equal(j.joined.report.alarm_object, "C-1");
    assert_int_equal(j.joined.event_time_ms, 30);
    assert_string_equal(j.cancel.work_order, "WO-CUST");
    assert_string_equal(j.cancel.event_id, "joined-WO-CUST");
    assert_int_equal(j.cancel.kind, CFD_MS_CANCELLED);
    assert_int_equal(j.cancel.source, CFD_SOURCE_NOC);
    assert_non_null(strstr(j.cancel.change.reason, "WO-ALARM"));
    st->opened_on = strdup("PORT-1"); /* a port's alarm opened it */
    cfd_alarm_join_events(st, &a, &report, &j);
    assert_string_equal(j.joined.report.alarm_object, "PORT-1");
    cfd_alarm_state_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_late_alarm),
        cmocka_unit_test(test_open_events),
        cmocka_unit_test(test_repeat_fault_linked),
        cmocka_unit_test(test_event_encode_roundtrip),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_forwards_once_per_window),
        cmocka_unit_test(test_state_unsorted_ids),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_completion_notices),
        cmocka_unit_test(test_opened_and_report_notices),
        cmocka_unit_test(test_join_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

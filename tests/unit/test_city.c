/*
 * The multi-customer city rule of severe faults (src/domain/city.c) and its codec
 * (src/codec/city.c): which orders take part, the 30 min window of 3 customers, the
 * lasting check 30 min after the third report, joining, exclusion, closing, a second
 * incident of the same key, replays and arrival order, pruning and the round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/alloc.h"
#include "confirmd/city.h"
#include "confirmd/city_codec.h"
#include "confirmd/v1/incident.pb-c.h"

#define MIN (60LL * 1000)
#define T0 1764043200000LL

/* A report of order wo by customer cust at T0 + at_min; ended/at offsets, 0 = none. */
static cfd_city_report rep(const char *wo, const char *cust, int64_t at_min,
                           int64_t ended_min, uint32_t version)
{
    cfd_city_report r = {.city = "Chongqing",
                         .service = "internet",
                         .work_order = (char *)wo,
                         .customer_id = (char *)cust,
                         .reported_at_ms = T0 + at_min * MIN,
                         .ended_at_ms = ended_min ? T0 + ended_min * MIN : 0,
                         .ownership_unclear = true,
                         .record_version = version};
    return r;
}

static void merge(cfd_city_state *st, cfd_city_report r)
{
    assert_true(cfd_city_merge(st, &r));
}

static void test_report_of(void **state)
{
    (void)state;
    cfd_record *rec = cfd_record_new();
    cfd_city_report r;
    rec->work_order = strdup("WO-1");
    rec->version = 4;
    rec->full_interruption = true;
    rec->reported_at_ms = T0;
    rec->customer.city = strdup("Chongqing");
    rec->customer.affected_service = strdup("internet");
    rec->customer.customer_id = strdup("C-1");
    assert_true(cfd_city_report_of(rec, &r));
    assert_string_equal(r.city, "Chongqing");
    assert_string_equal(r.service, "internet");
    assert_string_equal(r.work_order, "WO-1");
    assert_string_equal(r.customer_id, "C-1");
    assert_int_equal(r.reported_at_ms, T0);
    assert_int_equal(r.ended_at_ms, 0);
    assert_true(r.ownership_unclear);
    assert_false(r.excluded);
    assert_int_equal(r.record_version, 4);

    /* Restored, and found to be the customer's own equipment. */
    rec->restored_at_ms = T0 + 50 * MIN;
    rec->cause = CFD_CAUSE_CUSTOMER_EQUIPMENT;
    assert_true(cfd_city_report_of(rec, &r));
    assert_int_equal(r.ended_at_ms, T0 + 50 * MIN);
    assert_false(r.ownership_unclear);
    assert_true(r.excluded);

    /* An important customer has its own rule. */
    rec->customer.importance = CFD_IMPORTANCE_PROVINCE_LEVEL;
    assert_false(cfd_city_report_of(rec, &r));
    rec->customer.importance = CFD_IMPORTANCE_ORDINARY;
    rec->customer.diamond = true;
    assert_false(cfd_city_report_of(rec, &r));
    rec->customer.diamond = false;
    /* Service still usable in part: not "unusable". */
    rec->full_interruption = false;
    assert_false(cfd_city_report_of(rec, &r));
    rec->full_interruption = true;
    /* No city: no key. */
    free((char *)rec->customer.city); /* the record owns it */
    rec->customer.city = NULL;
    assert_false(cfd_city_report_of(rec, &r));
    cfd_record_destroy(rec);
}

/* Three customers within 30 min: severe just after 30 min from the third report. */
static void test_three_within_window(void **state)
{
    (void)state;
    cfd_city_state *st = cfd_city_state_new();
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    merge(st, rep("WO-A", "C-A", 0, 0, 1));
    merge(st, rep("WO-B", "C-B", 12, 0, 1));
    assert_int_equal(cfd_city_next(st), 0); /* two customers are no window */
    merge(st, rep("WO-C", "C-C", 30, 0, 1));
    int64_t due = T0 + 60 * MIN + 1;
    assert_int_equal(cfd_city_next(st), due);
    /* Exactly 30 min after the third report is not "more than". */
    assert_int_equal(cfd_city_collect(st, due - 1, out, &alert, &has_alert), 0);
    assert_false(has_alert);
    assert_int_equal(cfd_city_collect(st, due, out, &alert, &has_alert), 1);
    assert_int_equal(out[0].kind, CFD_INCIDENT_MULTI_CUSTOMER_CITY);
    assert_int_equal(out[0].status, CFD_INCIDENT_OPEN);
    assert_string_equal(out[0].incident_id, "INC-Chongqing|internet|1764045000000");
    assert_int_equal(out[0].n_work_orders, 3);
    assert_string_equal(out[0].work_orders[0], "WO-A");
    assert_string_equal(out[0].work_orders[2], "WO-C");
    assert_null(out[0].work_order);
    assert_string_equal(out[0].city, "Chongqing");
    assert_string_equal(out[0].service, "internet");
    assert_int_equal(out[0].started_at_ms, T0);
    assert_int_equal(out[0].opened_at_ms, T0 + 60 * MIN);
    assert_int_equal(out[0].threshold_ms, CFD_CITY_LASTING_MS);
    assert_true(out[0].ownership_unclear);
    assert_int_equal(out[0].version, 1);
    assert_int_equal(out[0].rule, CFD_INCIDENT_RULE_MULTI_CUSTOMER_CITY);
    assert_int_equal(out[0].decided_at_ms, due);
    assert_true(has_alert);
    assert_int_equal(alert.kind, CFD_ALERT_SEVERE_FAULT);
    assert_int_equal(alert.recipients, CFD_RECIPIENT_NOC_DUTY_MANAGER);
    assert_string_equal(alert.alert_id,
                        "INC-Chongqing|internet|1764045000000/SEVERE_FAULT");
    assert_non_null(
        strstr(alert.message, "3 group customers without internet in Chongqing"));
    /* Opened once: a second look says nothing, and no timer is pending. */
    assert_int_equal(cfd_city_collect(st, due + MIN, out, &alert, &has_alert), 0);
    assert_int_equal(cfd_city_next(st), 0);
    cfd_city_state_destroy(st);
}

/* Reports further apart than 30 min, or the same customer twice, make no window. */
static void test_no_window(void **state)
{
    (void)state;
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    cfd_city_state *st = cfd_city_state_new();
    merge(st, rep("WO-A", "C-A", 0, 0, 1));
    merge(st, rep("WO-B", "C-B", 20, 0, 1));
    merge(st, rep("WO-C", "C-C", 31, 0, 1)); /* 31 min after the first */
    assert_int_equal(cfd_city_next(st), 0);
    assert_int_equal(cfd_city_collect(st, T0 + 24 * 60 * MIN, out, &alert, &has_alert), 0);
    cfd_city_state_destroy(st);

    st = cfd_city_state_new();
    merge(st, rep("WO-A", "C-A", 0, 0, 1));
    merge(st, rep("WO-A2", "C-A", 5, 0, 1)); /* the same customer calls again */
    merge(st, rep("WO-B", "C-B", 10, 0, 1));
    assert_int_equal(cfd_city_next(st), 0);
    assert_int_equal(cfd_city_collect(st, T0 + 24 * 60 * MIN, out, &alert, &has_alert), 0);
    /* Orders without a customer id count as their own customers. */
    merge(st, rep("WO-X", NULL, 15, 0, 1));
    assert_int_equal(cfd_city_next(st), T0 + 45 * MIN + 1);
    cfd_city_state_destroy(st);
}

/* A busy city: thousands of short faults, each of its own customer, within every
 * window make no incident (none lasts), and a lasting fault among them makes one. The
 * rule stops counting reporters at the third: counting every pair of a window's
 * reports took minutes here. */
static void test_busy_city(void **state)
{
    (void)state;
    enum { N = 3000 };
    char wo[32], cust[32];
    cfd_city_state *st = cfd_city_state_new();
    for (int i = 0; i < N; i++) {
        snprintf(wo, sizeof(wo), "WO-%04d", i);
        snprintf(cust, sizeof(cust), "C-%04d", i);
        cfd_city_report r = rep(wo, cust, 0, 0, 1);
        r.reported_at_ms = T0 + i * 1000LL;
        r.ended_at_ms = r.reported_at_ms + MIN;
        merge(st, r);
    }
    assert_int_equal(cfd_city_next(st), 0);
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    assert_int_equal(cfd_city_collect(st, T0 + 24 * 60 * MIN, out, &alert, &has_alert), 0);
    cfd_city_report r = rep("WO-LAST", "C-LAST", 0, 0, 1);
    r.reported_at_ms = T0 + N * 1000LL;
    merge(st, r);
    int64_t due = T0 + N * 1000LL + CFD_CITY_LASTING_MS + 1;
    assert_int_equal(cfd_city_next(st), due);
    assert_int_equal(cfd_city_collect(st, due, out, &alert, &has_alert), 1);
    assert_int_equal(out[0].status, CFD_INCIDENT_OPEN);
    assert_true(has_alert);
    cfd_city_state_destroy(st);
}

/* The rule as DOMAIN.md states it, by brute force over every window: the instant
 * after which the first window of 3 customers' reports within 30 min lasts more than
 * 30 min from its third report (0: none). Reports sorted by time, then order. */
static int64_t severe_after(cfd_city_report *v, size_t n)
{
    for (size_t last = 0; last < n; last++) {
        size_t first = 0, distinct = 0;
        while (v[last].reported_at_ms - v[first].reported_at_ms > CFD_CITY_WINDOW_MS)
            first++;
        for (size_t i = first; i <= last; i++) {
            const char *wi = v[i].customer_id ? v[i].customer_id : v[i].work_order;
            bool again = false;
            for (size_t j = first; j < i; j++)
                again |=
                    strcmp(wi, v[j].customer_id ? v[j].customer_id : v[j].work_order) == 0;
            distinct += !again;
        }
        if (distinct < CFD_CITY_CUSTOMERS)
            continue;
        int64_t until = v[last].reported_at_ms + CFD_CITY_LASTING_MS;
        for (size_t i = first; i <= last; i++)
            if (v[i].ended_at_ms == 0 || v[i].ended_at_ms > until)
                return until + 1;
    }
    return 0;
}

static int by_report_time(const void *a, const void *b)
{
    const cfd_city_report *x = a, *y = b;
    if (x->reported_at_ms != y->reported_at_ms)
        return x->reported_at_ms < y->reported_at_ms ? -1 : 1;
    return strcmp(x->work_order, y->work_order);
}

/* Random cities against the brute force: few customers calling many times, orders
 * without a customer id, faults ended or not, reports at the same instant. */
static void test_random_against_brute_force(void **state)
{
    (void)state;
    static const char *const custs[] = {"C-1", "C-2", "C-3", "C-4", NULL};
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    char wos[64][16];
    int severe = 0;
    for (int trial = 0; trial < 2000; trial++) {
        cfd_city_report v[64];
        size_t n = 1 + (size_t)(seed >> 33) % 40;
        int n_custs = 1 + (int)((seed >> 20) % 5);
        cfd_city_state *st = cfd_city_state_new();
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            snprintf(wos[i], sizeof(wos[i]), "WO-%02zu", i);
            const char *cust = custs[(seed >> 40) % (uint64_t)n_custs];
            if ((seed >> 45) % 5 == 0)
                cust = NULL;
            v[i] = rep(wos[i], cust, 0, 0, 1);
            v[i].reported_at_ms = T0 + (int64_t)((seed >> 13) % 400) * MIN;
            if ((seed >> 50) % 5)
                v[i].ended_at_ms = v[i].reported_at_ms + (int64_t)((seed >> 7) % 90) * MIN;
            merge(st, v[i]);
        }
        qsort(v, n, sizeof(v[0]), by_report_time);
        int64_t want = severe_after(v, n);
        severe += want != 0;
        if (cfd_city_next(st) != want)
            fail_msg("trial %d: %zu reports: next %lld, brute force %lld", trial, n,
                     (long long)cfd_city_next(st), (long long)want);
        cfd_city_state_destroy(st);
    }
    /* Both outcomes, each often. */
    printf("random cities: %d of 2000 severe\n", severe);
    assert_in_range(severe, 200, 1800);
}

typedef struct ended_case {
    const char *name;
    int64_t ended[3]; /* minutes from T0, 0 = not ended */
    bool severe;
} ended_case;

/* Lasting more than 30 min from the third report (at T0 + 10 min): any order of the
 * window not ended by T0 + 40 min. */
static void test_lasting(void **state)
{
    (void)state;
    static const ended_case cases[] = {
        {"none ended", {0, 0, 0}, true},
        {"all ended before", {20, 25, 39}, false},
        {"the last ended exactly at 30 min", {20, 25, 40}, false},
        {"one ended just after", {20, 25, 41}, true},
        {"one still on", {20, 0, 39}, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const ended_case *c = &cases[i];
        cfd_incident out[3];
        cfd_alert alert;
        bool has_alert;
        cfd_city_state *st = cfd_city_state_new();
        merge(st, rep("WO-A", "C-A", 0, c->ended[0], 1));
        merge(st, rep("WO-B", "C-B", 5, c->ended[1], 1));
        merge(st, rep("WO-C", "C-C", 10, c->ended[2], 1));
        size_t n = cfd_city_collect(st, T0 + 60 * MIN, out, &alert, &has_alert);
        if (c->severe != (n > 0 && out[0].status == CFD_INCIDENT_OPEN))
            fail_msg("%s: severe %d, got %zu messages", c->name, c->severe, n);
        /* Opened late (a backlog), an incident whose orders all ended closes at once. */
        if (c->severe && c->ended[0] && c->ended[1] && c->ended[2]) {
            assert_int_equal(n, 2);
            assert_int_equal(out[1].status, CFD_INCIDENT_CLOSED);
        }
        cfd_city_state_destroy(st);
    }
}

/* Joining customers, exclusion from the assessment, closing; replays change nothing. */
static void test_join_exclude_close(void **state)
{
    (void)state;
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    cfd_city_state *st = cfd_city_state_new();
    merge(st, rep("WO-A", "C-A", 0, 0, 1));
    merge(st, rep("WO-B", "C-B", 5, 0, 1));
    merge(st, rep("WO-C", "C-C", 10, 0, 1));
    assert_int_equal(cfd_city_collect(st, T0 + 41 * MIN, out, &alert, &has_alert), 1);

    /* A fourth customer joins; a replay of an older version is ignored. */
    merge(st, rep("WO-D", "C-D", 45, 0, 2));
    cfd_city_report old = rep("WO-D", "C-D", 45, 50, 1);
    assert_false(cfd_city_merge(st, &old));
    assert_int_equal(cfd_city_collect(st, T0 + 46 * MIN, out, &alert, &has_alert), 1);
    assert_int_equal(out[0].status, CFD_INCIDENT_UPDATE);
    assert_int_equal(out[0].n_work_orders, 4);
    assert_int_equal(out[0].version, 2);
    assert_false(has_alert);
    /* A report of another key is not taken. */
    cfd_city_report other = rep("WO-E", "C-E", 45, 0, 1);
    other.city = "Chengdu";
    assert_false(cfd_city_merge(st, &other));

    /* Every member found to be the customer's own fault: excluded, and it stands. */
    static const struct {
        const char *wo, *cust;
        int64_t at;
    } m[] = {
        {"WO-A", "C-A", 0}, {"WO-B", "C-B", 5}, {"WO-C", "C-C", 10}, {"WO-D", "C-D", 45}};
    for (size_t i = 0; i < 4; i++) {
        cfd_city_report r = rep(m[i].wo, m[i].cust, m[i].at, 0, 3);
        r.excluded = true;
        r.ownership_unclear = false;
        merge(st, r);
        assert_int_equal(cfd_city_collect(st, T0 + 50 * MIN, out, &alert, &has_alert),
                         i == 3);
    }
    assert_true(out[0].excluded_from_assessment);
    assert_false(out[0].ownership_unclear);
    assert_int_equal(out[0].status, CFD_INCIDENT_UPDATE);

    /* Closed when the fault ended for every member, at the last end. */
    for (size_t i = 0; i < 4; i++) {
        cfd_city_report r = rep(m[i].wo, m[i].cust, m[i].at, 90 - (int64_t)i, 4);
        r.excluded = true;
        merge(st, r);
        assert_int_equal(cfd_city_collect(st, T0 + 100 * MIN, out, &alert, &has_alert),
                         i == 3);
    }
    assert_int_equal(out[0].status, CFD_INCIDENT_CLOSED);
    assert_int_equal(out[0].closed_at_ms, T0 + 90 * MIN);
    assert_int_equal(out[0].version, 4);
    assert_int_equal(cfd_city_collect(st, T0 + 200 * MIN, out, &alert, &has_alert), 0);

    /* Later reports of the key make a new incident; the old members do not count. */
    merge(st, rep("WO-F", "C-F", 300, 0, 1));
    merge(st, rep("WO-G", "C-G", 305, 0, 1));
    assert_int_equal(cfd_city_next(st), 0);
    merge(st, rep("WO-H", "C-H", 310, 0, 1));
    assert_int_equal(cfd_city_collect(st, T0 + 341 * MIN, out, &alert, &has_alert), 1);
    assert_int_equal(out[0].status, CFD_INCIDENT_OPEN);
    assert_int_equal(out[0].version, 1);
    assert_int_equal(out[0].n_work_orders, 3);
    assert_string_equal(out[0].work_orders[0], "WO-F");
    assert_int_equal(st->incidents, 2);
    cfd_city_state_destroy(st);
}

/* The same reports in any arrival order, with replays, give the same incident. */
static void test_arrival_order(void **state)
{
    (void)state;
    enum { N = 6, RUNS = 300 };
    cfd_city_report all[N] = {
        rep("WO-1", "C-1", 0, 0, 1),  rep("WO-2", "C-2", 40, 0, 1),
        rep("WO-3", "C-3", 50, 0, 1), rep("WO-4", "C-4", 55, 120, 2),
        rep("WO-5", "C-5", 65, 0, 1), rep("WO-6", "C-2", 66, 0, 1),
    };
    uint8_t *want = NULL;
    size_t want_len = 0;
    srand(7);
    for (int run = 0; run < RUNS; run++) {
        size_t idx[2 * N];
        for (size_t i = 0; i < 2 * N; i++)
            idx[i] = i % N; /* every report twice */
        for (size_t i = 2 * N - 1; i > 0; i--) {
            size_t j = (size_t)rand() % (i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        cfd_city_state *st = cfd_city_state_new();
        for (size_t i = 0; i < 2 * N; i++)
            cfd_city_merge(st, &all[idx[i]]);
        cfd_incident out[3];
        cfd_alert alert;
        bool has_alert;
        size_t n = cfd_city_collect(st, T0 + 200 * MIN, out, &alert, &has_alert);
        /* The window WO-2, WO-3, WO-4 (third at 55 min); WO-5 and WO-6 join, WO-1 is
         * before the window. */
        assert_int_equal(n, 1);
        assert_string_equal(out[0].incident_id, "INC-Chongqing|internet|1764046500000");
        assert_int_equal(out[0].n_work_orders, 5);
        uint8_t *buf = NULL;
        size_t len = 0;
        cfd_codec_city_state_encode(st, &buf, &len);
        if (!want) {
            want = buf;
            want_len = len;
        } else {
            assert_int_equal(len, want_len);
            assert_memory_equal(buf, want, len);
            free(buf);
        }
        cfd_city_state_destroy(st);
    }
    free(want);
}

/* Pruning counts in event time, from the key's latest report or end, never the clock:
 * the same reports keep the same reports whenever they are replayed. */
static void test_prune(void **state)
{
    (void)state;
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    cfd_city_state *st = cfd_city_state_new();
    int64_t day = 24 * 60;
    merge(st, rep("WO-A", "C-A", 0, 0, 1));  /* never ended: dropped after 7 days */
    merge(st, rep("WO-B", "C-B", 0, 60, 1)); /* ended: dropped 7 days after */
    merge(st, rep("WO-C", "C-C", 6 * day, 0, 1));
    assert_int_equal(cfd_city_prune(st), 0);
    /* A report 7 days and 61 min after the first moves the key's time on. */
    merge(st, rep("WO-F", "C-F", 7 * day + 61, 0, 1));
    assert_int_equal(cfd_city_prune(st), 2);
    assert_int_equal(st->n_reports, 2);
    assert_string_equal(st->reports[0].work_order, "WO-C");
    /* Members of an open incident stay, however old. */
    merge(st, rep("WO-D", "C-D", 6 * day + 1, 0, 1));
    merge(st, rep("WO-E", "C-E", 6 * day + 2, 0, 1));
    assert_int_equal(
        cfd_city_collect(st, T0 + (6 * day + 40) * MIN, out, &alert, &has_alert), 1);
    merge(st, rep("WO-G", "C-G", 30 * day, 0, 1)); /* joins the open incident too */
    assert_int_equal(cfd_city_prune(st), 0);
    assert_int_equal(st->n_reports, 5);
    cfd_city_state_destroy(st);
}

/* What a worker's batch does with a key: merge its reports, judge at the key's own
 * time, prune. */
static size_t city_batch(cfd_city_state *st, const cfd_city_report *r, size_t n,
                         char log[][120], size_t n_log)
{
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    for (size_t i = 0; i < n; i++)
        cfd_city_merge(st, &r[i]);
    size_t k = cfd_city_collect(st, cfd_city_as_of(st), out, &alert, &has_alert);
    for (size_t i = 0; i < k; i++)
        snprintf(log[n_log++], 120, "%s %s v%u members %zu closed %lld", out[i].incident_id,
                 cfd_incident_status_name(out[i].status), (unsigned)out[i].version,
                 out[i].n_work_orders, (long long)out[i].closed_at_ms);
    cfd_city_prune(st);
    return n_log;
}

/* A month-old outage replayed one report per batch (a backlog, a rebuild: the clock is
 * a month later) opens and closes the same incident as when all its reports share one
 * batch. */
static void test_replay_month_old(void **state)
{
    (void)state;
    const cfd_city_report scenario[] = {
        rep("WO-A", "C-A", 0, 0, 1),   rep("WO-B", "C-B", 10, 0, 1),
        rep("WO-C", "C-C", 20, 0, 1),  rep("WO-A", "C-A", 0, 90, 2),
        rep("WO-B", "C-B", 10, 95, 2), rep("WO-C", "C-C", 20, 100, 2),
    };
    const size_t n = sizeof(scenario) / sizeof(scenario[0]);
    char one[8][120], all[8][120];
    size_t n_one = 0, n_all;

    cfd_city_state *st = cfd_city_state_new();
    for (size_t i = 0; i < n; i++)
        n_one = city_batch(st, &scenario[i], 1, one, n_one);
    cfd_city_state_destroy(st);

    /* All at once: the reports of the first three, then the ends. */
    st = cfd_city_state_new();
    n_all = city_batch(st, scenario, 3, all, 0);
    n_all = city_batch(st, scenario + 3, 3, all, n_all);
    cfd_city_state_destroy(st);

    assert_int_equal(n_one, 2);
    assert_int_equal(n_all, n_one);
    for (size_t i = 0; i < n_one; i++)
        assert_string_equal(one[i], all[i]);
    char want[120];
    snprintf(want, sizeof(want),
             "INC-Chongqing|internet|%lld INCIDENT_STATUS_OPEN v1 members 3 closed 0",
             (long long)(T0 + 20 * MIN));
    assert_string_equal(one[0], want);
    snprintf(want, sizeof(want),
             "INC-Chongqing|internet|%lld INCIDENT_STATUS_CLOSED v2 members 3 closed %lld",
             (long long)(T0 + 20 * MIN), (long long)(T0 + 100 * MIN));
    assert_string_equal(one[1], want);
}

static void test_codec(void **state)
{
    (void)state;
    char errstr[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_city_report in = rep("WO-A", "C-A", 5, 40, 7), out;
    in.excluded = true;
    cfd_codec_city_report_encode(&in, &buf, &len);
    assert_int_equal(cfd_codec_city_report_decode(buf, len, &out, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_true(cfd_city_report_same(&in, &out));
    assert_int_equal(out.record_version, 7);
    cfd_city_report_clear(&out);
    free(buf);

    cfd_city_report bad = rep("WO-A", "C-A", 5, 0, 1);
    bad.service = NULL;
    cfd_codec_city_report_encode(&bad, &buf, &len);
    assert_int_equal(cfd_codec_city_report_decode(buf, len, &out, errstr, sizeof(errstr)),
                     CFD_ERR_MISSING_FIELD);
    assert_string_equal(errstr, "city report without service");
    free(buf);
    assert_int_equal(
        cfd_codec_city_report_decode("\xff\xff\xff", 3, &out, errstr, sizeof(errstr)),
        CFD_ERR_DECODE);

    /* A state with an open incident survives the round trip byte for byte. */
    cfd_incident incs[3];
    cfd_alert alert;
    bool has_alert;
    cfd_city_state *st = cfd_city_state_new(), *back = NULL;
    merge(st, rep("WO-A", "C-A", 0, 0, 1));
    merge(st, rep("WO-B", NULL, 5, 0, 1));
    merge(st, rep("WO-C", "C-C", 10, 0, 1));
    assert_int_equal(cfd_city_collect(st, T0 + 41 * MIN, incs, &alert, &has_alert), 1);
    cfd_codec_city_state_encode(st, &buf, &len);
    assert_int_equal(cfd_codec_city_state_decode(buf, len, &back, errstr, sizeof(errstr)),
                     CFD_OK);
    assert_true(back->open);
    assert_int_equal(back->n_reports, 3);
    assert_null(back->reports[1].customer_id);
    assert_string_equal(back->incident_id, st->incident_id);
    uint8_t *again = NULL;
    size_t again_len = 0;
    cfd_codec_city_state_encode(back, &again, &again_len);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, buf, len);
    /* Its reports name neither city nor service (the state's own, not rewritten with
     * each report); a state written when they did decodes to the same state. */
    Confirmd__V1__CityState *pb = confirmd__v1__city_state__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_int_equal(pb->n_reports, 3);
    for (size_t i = 0; i < pb->n_reports; i++) {
        assert_string_equal(pb->reports[i]->city, "");
        assert_string_equal(pb->reports[i]->service, "");
        pb->reports[i]->city = "Chongqing";
        pb->reports[i]->service = "internet dedicated line";
    }
    uint8_t *old = cfd_xmalloc(confirmd__v1__city_state__get_packed_size(pb));
    size_t old_len = confirmd__v1__city_state__pack(pb, old);
    assert_true(old_len > len + 3 * 30);
    for (size_t i = 0; i < pb->n_reports; i++)
        pb->reports[i]->city = pb->reports[i]->service = NULL; /* not the decoder's */
    confirmd__v1__city_state__free_unpacked(pb, NULL);
    cfd_city_state *from_old = NULL;
    assert_int_equal(
        cfd_codec_city_state_decode(old, old_len, &from_old, errstr, sizeof(errstr)),
        CFD_OK);
    assert_null(from_old->reports[0].city);
    assert_null(from_old->reports[2].service);
    uint8_t *from_old_buf = NULL;
    size_t from_old_len = 0;
    cfd_codec_city_state_encode(from_old, &from_old_buf, &from_old_len);
    assert_int_equal(from_old_len, len);
    assert_memory_equal(from_old_buf, buf, len);
    free(old);
    free(from_old_buf);
    cfd_city_state_destroy(from_old);
    /* The decoded state goes on as the original would: a fourth customer joins. */
    merge(back, rep("WO-D", "C-D", 20, 0, 1));
    assert_int_equal(cfd_city_collect(back, T0 + 50 * MIN, incs, &alert, &has_alert), 1);
    assert_int_equal(incs[0].status, CFD_INCIDENT_UPDATE);
    assert_int_equal(incs[0].version, 2);
    free(buf);
    free(again);
    cfd_city_state_destroy(st);
    cfd_city_state_destroy(back);
}

/* When a batch must read a key's settled part: only for what could change a window
 * with a settled report in it. */
static void test_needs_settled(void **state)
{
    (void)state;
    char wo[16];
    cfd_city_state *st = cfd_city_state_new();
    /* 300 orders, one a minute, each ended 5 min later. */
    for (int i = 0; i < 300; i++) {
        snprintf(wo, sizeof(wo), "WO-%03d", i);
        merge(st, rep(wo, NULL, i, i + 5, 1));
    }
    bool rewrite;
    assert_false(cfd_city_needs_settled(st, NULL, 0)); /* nothing settled yet */
    cfd_city_state *settled = cfd_city_settle(st, false, &rewrite);
    assert_non_null(settled);
    assert_true(rewrite);
    /* Settled: the ended reports a window's span and the lasting time (and a minute)
     * before the latest report. */
    assert_int_equal(st->settled_before, T0 + (299 - 61) * MIN);
    assert_int_equal(settled->n_reports, 238);
    assert_int_equal(st->n_settled, 238);
    assert_int_equal(st->n_reports, 62);
    assert_int_equal(cfd_city_as_of(st), T0 + 304 * MIN);

    cfd_city_report r = rep("WO-NEW", "C-NEW", 299, 0, 1);
    assert_false(cfd_city_needs_settled(st, &r, 1)); /* a new report of now */
    r = rep("WO-NEW", "C-NEW", 299 - 61 + 29, 0, 1);
    assert_true(cfd_city_needs_settled(st, &r, 1)); /* late: within 30 min of them */
    r = rep("WO-NEW", "C-NEW", 299 - 61 + 31, 0, 1);
    assert_false(cfd_city_needs_settled(st, &r, 1));
    r = rep("WO-100", NULL, 100, 104, 2);
    assert_true(cfd_city_needs_settled(st, &r, 1)); /* a settled order's new version */
    /* WO-240, in the head within 30 min of the settled ones: its end earlier changes
     * nothing there; any other change may. */
    r = rep("WO-240", NULL, 240, 243, 2);
    assert_false(cfd_city_needs_settled(st, &r, 1));
    r = rep("WO-240", NULL, 230, 243, 2); /* reported earlier (an alarm found) */
    assert_true(cfd_city_needs_settled(st, &r, 1));
    r = rep("WO-240", "C-OTHER", 240, 243, 2); /* another customer */
    assert_true(cfd_city_needs_settled(st, &r, 1));
    r = rep("WO-240", NULL, 240, 250, 2); /* ended later */
    assert_true(cfd_city_needs_settled(st, &r, 1));
    r = rep("WO-240", NULL, 240, 0, 2); /* not ended after all */
    assert_true(cfd_city_needs_settled(st, &r, 1));
    /* Over the cap with its settled part: pruning must see them all. */
    cfd_city_report many[CFD_CITY_MAX_REPORTS];
    for (size_t i = 0; i < CFD_CITY_MAX_REPORTS; i++)
        many[i] = rep("WO-NEW", "C-NEW", 299, 0, 1);
    assert_false(cfd_city_needs_settled(st, many, CFD_CITY_MAX_REPORTS - 300));
    assert_true(cfd_city_needs_settled(st, many, CFD_CITY_MAX_REPORTS - 299));

    /* Joined, the key is whole again, as before the split. */
    cfd_city_join(st, settled);
    assert_int_equal(st->n_reports, 300);
    assert_int_equal(st->n_settled, 0);
    assert_int_equal(cfd_city_as_of(st), T0 + 304 * MIN);
    for (int i = 0; i < 300; i++) {
        snprintf(wo, sizeof(wo), "WO-%03d", i);
        assert_string_equal(st->reports[i].work_order, wo);
    }
    cfd_city_state_destroy(st);
}

/* --- a busy key stored in two parts (head and settled part) -------------------------- */

typedef struct stream_ev {
    int64_t arrive; /* when it reaches the key's owner (event time, lateness added) */
    size_t seq;     /* order of generation: ties keep it */
    cfd_city_report r;
} stream_ev;

static int by_arrival(const void *a, const void *b)
{
    const stream_ev *x = a, *y = b;
    if (x->arrive != y->arrive)
        return x->arrive < y->arrive ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* What the stage keeps in Redis for one key: the head and its settled part, encoded. */
typedef struct stored_key {
    uint8_t *head, *settled;
    size_t head_len, settled_len;
    int joins, splits;
} stored_key;

static cfd_city_state *decode_part(const uint8_t *buf, size_t len)
{
    char errstr[256];
    cfd_city_state *st = NULL;
    if (!buf)
        return cfd_city_state_new();
    assert_int_equal(cfd_codec_city_state_decode(buf, len, &st, errstr, sizeof(errstr)),
                     CFD_OK);
    return st;
}

/* Writes head (and, when whole, its settled part after a split) as the stage does. */
static void store_parts(stored_key *k, cfd_city_state *head, bool joined)
{
    bool rewrite;
    cfd_city_state *settled = cfd_city_settle(head, joined, &rewrite);
    if (rewrite) {
        free(k->settled);
        k->settled = NULL;
    }
    if (settled) {
        cfd_codec_city_state_encode(settled, &k->settled, &k->settled_len);
        cfd_city_state_destroy(settled);
        k->splits++;
    }
    free(k->head);
    cfd_codec_city_state_encode(head, &k->head, &k->head_len);
}

static void assert_same_incidents(const cfd_incident *a, size_t na, const cfd_incident *b,
                                  size_t nb, const char *when)
{
    if (na != nb)
        fail_msg("%s: %zu incident messages whole, %zu in two parts", when, na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].incident_id, b[i].incident_id);
        assert_int_equal(a[i].status, b[i].status);
        assert_int_equal(a[i].version, b[i].version);
        assert_int_equal(a[i].started_at_ms, b[i].started_at_ms);
        assert_int_equal(a[i].closed_at_ms, b[i].closed_at_ms);
        assert_int_equal(a[i].excluded_from_assessment, b[i].excluded_from_assessment);
        assert_int_equal(a[i].n_work_orders, b[i].n_work_orders);
        for (size_t m = 0; m < a[i].n_work_orders; m++)
            assert_string_equal(a[i].work_orders[m], b[i].work_orders[m]);
    }
}

/* A key judged whole (one state, as before the split) and a key stored in two parts,
 * read and written as the city stage does, get the same reports and the same ticks:
 * they must send the same incident messages, wait for the same instant and, joined,
 * hold the same reports. Busy keys of hours of orders, some reports hours late, some
 * orders' report times moving earlier, ends and exclusions arriving later. */
static void test_settled_part_changes_nothing(void **state)
{
    (void)state;
    static const char *const custs[] = {"C-1", "C-2", "C-3", "C-4", "C-5", "C-6"};
    uint64_t seed = 0x2545f4914f6cdd1dULL;
#define RND(n)                                                        \
    ((seed = seed * 6364136223846793005ULL + 1442695040888963407ULL), \
     (int64_t)((seed >> 33) % (uint64_t)(n)))
    int joins = 0, splits = 0, opened = 0;
    size_t calm_whole = 0, calm_head = 0; /* reports written per batch in calm cities */
    for (int trial = 0; trial < 45; trial++) {
        /* A calm city, where 1 fault in 2 000 lasts long or has its end reported late,
         * or a stormy one, where 1 in 4 does, or never ends (its incident, once open,
         * takes every further report until all have ended). */
        bool calm = trial % 3 != 0;
        int64_t odd = calm ? 2000 : 4;
        size_t n_orders = calm ? 400 + (size_t)RND(600) : 100 + (size_t)RND(300);
        size_t n_ev = 0;
        int64_t span = (calm ? 12 + RND(12) : 6 + RND(30)) * 60 * MIN;
        int n_custs = 3 + (int)RND(4);
        stream_ev *evs = calloc(n_orders * 3 + 1, sizeof(*evs));
        char(*wos)[16] = calloc(n_orders + 1, sizeof(*wos));
        for (size_t o = 0; o < n_orders; o++) {
            snprintf(wos[o], sizeof(wos[o]), "WO-%04zu", o);
            const char *cust = RND(6) ? custs[RND(n_custs)] : NULL;
            cfd_city_report r = rep(wos[o], cust, 0, 0, 1);
            r.reported_at_ms = T0 + RND(span);
            r.ownership_unclear = RND(2);
            int64_t late = RND(8) ? 0 : RND(240) * MIN;
            evs[n_ev] = (stream_ev){r.reported_at_ms + late, n_ev, r};
            n_ev++;
            if (calm || RND(odd)) { /* it ends, maybe reported earlier by an alarm */
                r.record_version = 2;
                if (!RND(10))
                    r.reported_at_ms -= RND(40) * MIN;
                r.ended_at_ms = r.reported_at_ms + (RND(odd) ? RND(25) : RND(150)) * MIN;
                late = RND(calm ? odd : 8) ? 0 : RND(240) * MIN;
                evs[n_ev] = (stream_ev){r.ended_at_ms + late, n_ev, r};
                n_ev++;
                if (!RND(8)) { /* then found not to be the operator's */
                    r.record_version = 3;
                    r.excluded = true;
                    r.ownership_unclear = false;
                    evs[n_ev] = (stream_ev){r.ended_at_ms + RND(300) * MIN, n_ev, r};
                    n_ev++;
                }
            }
        }
        qsort(evs, n_ev, sizeof(*evs), by_arrival);

        cfd_city_state *whole = cfd_city_state_new();
        stored_key k = {0};
        char when[96];
        for (size_t at = 0; at < n_ev;) {
            size_t n = 1 + (size_t)RND(4);
            if (at + n > n_ev)
                n = n_ev - at;
            cfd_city_report batch[4];
            for (size_t i = 0; i < n; i++)
                batch[i] = evs[at + i].r;
            at += n;
            cfd_incident a[3], b[3];
            cfd_alert alert;
            bool has_a, has_b;
            /* A batch. */
            for (size_t i = 0; i < n; i++)
                cfd_city_merge(whole, &batch[i]);
            size_t na = cfd_city_collect(whole, cfd_city_as_of(whole), a, &alert, &has_a);
            cfd_city_state *head = decode_part(k.head, k.head_len);
            bool joined = cfd_city_needs_settled(head, batch, n);
            if (joined) {
                cfd_city_join(head, decode_part(k.settled, k.settled_len));
                k.joins++;
            }
            for (size_t i = 0; i < n; i++)
                cfd_city_merge(head, &batch[i]);
            size_t nb = cfd_city_collect(head, cfd_city_as_of(head), b, &alert, &has_b);
            snprintf(when, sizeof(when), "trial %d, batch at %zu", trial, at);
            assert_same_incidents(a, na, b, nb, when);
            assert_int_equal(has_a, has_b);
            opened += has_a;
            cfd_city_prune(whole);
            cfd_city_prune(head);
            assert_int_equal(cfd_city_next(whole), cfd_city_next(head));
            store_parts(&k, head, joined);
            assert_int_equal(cfd_city_as_of(whole), cfd_city_as_of(head));
            if (calm) {
                calm_head += head->n_reports;
                calm_whole += whole->n_reports;
            }
            cfd_city_state_destroy(head);
            /* Now and then a tick: in a calm city at its time (a timer due), in a stormy one
             * up to two hours later (a backlog applied long after). */
            if (!RND(3)) {
                int64_t now = cfd_city_as_of(whole) + RND(calm ? 5 : 120) * MIN;
                na = cfd_city_collect(whole, now, a, &alert, &has_a);
                head = decode_part(k.head, k.head_len);
                nb = cfd_city_collect(head, now, b, &alert, &has_b);
                opened += has_a;
                snprintf(when, sizeof(when), "trial %d, tick after %zu", trial, at);
                assert_same_incidents(a, na, b, nb, when);
                cfd_city_prune(whole);
                cfd_city_prune(head);
                store_parts(&k, head, false);
                cfd_city_state_destroy(head);
            }
        }
        /* Joined, the two parts hold what the whole state holds. */
        cfd_city_state *head = decode_part(k.head, k.head_len);
        cfd_city_join(head, decode_part(k.settled, k.settled_len));
        assert_int_equal(head->n_reports, whole->n_reports);
        for (size_t i = 0; i < whole->n_reports; i++) {
            const cfd_city_report *x = &whole->reports[i], *y = &head->reports[i];
            assert_string_equal(x->work_order, y->work_order);
            assert_int_equal(x->record_version, y->record_version);
            assert_int_equal(x->reported_at_ms, y->reported_at_ms);
            assert_int_equal(x->ended_at_ms, y->ended_at_ms);
            assert_int_equal(x->incident, y->incident);
        }
        assert_int_equal(head->incidents, whole->incidents);
        joins += k.joins;
        splits += k.splits;
        cfd_city_state_destroy(head);
        cfd_city_state_destroy(whole);
        free(k.head);
        free(k.settled);
        free(evs);
        free(wos);
    }
#undef RND
    printf("two-part keys: %d joins, %d splits, %d incidents opened; in calm cities a "
           "batch wrote %zu reports whole, %zu in the head\n",
           joins, splits, opened, calm_whole, calm_head);
    assert_true(joins > 1000);
    assert_true(splits > 1000);
    assert_true(opened > 10);
    assert_true(calm_head * 2 < calm_whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_of),
        cmocka_unit_test(test_three_within_window),
        cmocka_unit_test(test_no_window),
        cmocka_unit_test(test_busy_city),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_lasting),
        cmocka_unit_test(test_join_exclude_close),
        cmocka_unit_test(test_arrival_order),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_replay_month_old),
        cmocka_unit_test(test_codec),
        cmocka_unit_test(test_needs_settled),
        cmocka_unit_test(test_settled_part_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for src/app/metrics.c: histogram buckets, the Prometheus text rendering,
 * publishing a snapshot (a copy) and readiness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/metrics.h"

static void assert_has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing: %s\nin:\n%s", line, text);
}

static void test_histogram(void **state)
{
    static const struct {
        double seconds;
        size_t bucket;
    } cases[] = {
        {-1, 0},
        {0, 0},
        {0.0005, 0},
        {0.0006, 1},
        {0.001, 1},
        {0.003, 3},
        {0.5, 9},
        {0.75, 10},
        {10, CFD_HIST_BOUNDS - 1},
        {11, CFD_HIST_BOUNDS},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_histogram h = {0};
        cfd_histogram_observe(&h, cases[i].seconds);
        if (h.counts[cases[i].bucket] != 1)
            fail_msg("%g s: not in bucket %zu", cases[i].seconds, cases[i].bucket);
        assert_int_equal(h.count, 1);
    }
}

static void test_format(void **state)
{
    (void)state;
    const cfd_metrics_topic topics[] = {{"confirmd.events", 7}, {"we\"ird\\\n", 1}};
    const cfd_metrics_lag lag[] = {{"confirmd.events", 3, 12}};
    cfd_metrics_snapshot s = {.stats = {.applied = 5, .alerts = 2, .batches = 4},
                              .topics = topics,
                              .n_topics = 2,
                              .lag = lag,
                              .n_lag = 1,
                              .assignments = 1,
                              .partitions_owned = 8,
                              .undelivered = 3};
    s.stats.dead_letters_by_reason[CFD_DL_INVALID_TRANSITION] = 2;
    s.stats
        .alerts_by[CFD_ALERT_BREACH][CFD_METRIC_ON_SITE][CFD_RECIPIENT_DEPARTMENT_LEADER] =
        2;
    s.stats.incidents_by[CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION][CFD_INCIDENT_OPEN] =
        1;
    s.stats.claims = 8;
    cfd_histogram_observe(&s.delivery_seconds, 0.004);
    cfd_histogram_observe(&s.commit_seconds, 0.002);
    cfd_histogram_observe(&s.commit_seconds, 0.2);
    size_t len = 0;
    char *text = cfd_metrics_format(&s, &len);
    assert_int_equal(strlen(text), len);

    assert_has(text, "# HELP confirmd_events_consumed_total ");
    assert_has(text, "# TYPE confirmd_events_consumed_total counter\n");
    assert_has(text, "\nconfirmd_events_consumed_total{topic=\"confirmd.events\"} 7\n");
    assert_has(text, "\nconfirmd_events_consumed_total{topic=\"we\\\"ird\\\\\\n\"} 1\n");
    assert_has(text, "\nconfirmd_events_applied_total 5\n");
    assert_has(
        text,
        "\nconfirmd_dead_letters_total{reason=\"DEAD_LETTER_INVALID_TRANSITION\"} 2\n");
    assert_has(text,
               "\nconfirmd_dead_letters_total{reason=\"DEAD_LETTER_OUTPUT_REFUSED\"} 0\n");
    assert_has(text,
               "\nconfirmd_alerts_total{kind=\"ALERT_KIND_BREACH\",metric=\"METRIC_ON_"
               "SITE\",level=\"RECIPIENT_DEPARTMENT_LEADER\"} 2\n");
    assert_null(strstr(text, "ALERT_KIND_WARNING")); /* label sets never seen: absent */
    assert_has(text, "\nconfirmd_incidents_total{kind=\"INCIDENT_KIND_IMPORTANT_CUSTOMER_"
                     "INTERRUPTION\",status=\"INCIDENT_STATUS_OPEN\"} 1\n");
    assert_has(text,
               "\nconfirmd_incidents_total{kind=\"INCIDENT_KIND_MULTI_CUSTOMER_CITY\","
               "status=\"INCIDENT_STATUS_CLOSED\"} 0\n");
    assert_has(text, "\nconfirmd_fencing_events_total{event=\"claim\"} 8\n");
    assert_has(text, "\nconfirmd_fencing_events_total{event=\"fenced\"} 0\n");
    assert_has(text,
               "\nconfirmd_producer_delivery_duration_seconds_bucket{le=\"0.005\"} 1\n");
    assert_has(text, "\nconfirmd_redis_round_trip_duration_seconds_count 0\n");
    assert_has(text, "\nconfirmd_rebalances_total{event=\"assign\"} 1\n");
    assert_has(text, "\nconfirmd_rebalances_total{event=\"revoke\"} 0\n");
    assert_has(text, "# TYPE confirmd_partitions_owned gauge\n");
    assert_has(text, "\nconfirmd_partitions_owned 8\n");
    assert_has(text, "\nconfirmd_outputs_undelivered 3\n");
    assert_has(
        text, "\nconfirmd_consumer_lag_messages{topic=\"confirmd.events\",partition=\"3\"} "
              "12\n");
    assert_has(text, "# TYPE confirmd_redis_commit_duration_seconds histogram\n");
    assert_has(text, "\nconfirmd_redis_commit_duration_seconds_bucket{le=\"0.001\"} 0\n");
    assert_has(text, "\nconfirmd_redis_commit_duration_seconds_bucket{le=\"0.0025\"} 1\n");
    assert_has(text, "\nconfirmd_redis_commit_duration_seconds_bucket{le=\"0.25\"} 2\n");
    assert_has(text, "\nconfirmd_redis_commit_duration_seconds_bucket{le=\"+Inf\"} 2\n");
    assert_has(text, "\nconfirmd_redis_commit_duration_seconds_sum 0.202000\n");
    assert_has(text, "\nconfirmd_redis_commit_duration_seconds_count 2\n");
    assert_has(text, "\nconfirmd_timer_lateness_seconds_count 0\n");
    assert_int_equal(text[len - 1], '\n');
    free(text);
}

static void test_publish_and_ready(void **state)
{
    (void)state;
    char why[200];
    cfd_metrics *m = cfd_metrics_new();
    assert_false(cfd_metrics_ready(m, 1000, 30000, why, sizeof(why)));
    assert_string_equal(why, "the worker has not started its loop");

    char topic[32] = "confirmd.events";
    cfd_metrics_topic topics[] = {{topic, 4}};
    cfd_metrics_lag lag[] = {{topic, 0, 1}, {topic, 1, 0}};
    cfd_metrics_snapshot s = {.topics = topics,
                              .n_topics = 1,
                              .lag = lag,
                              .n_lag = 2,
                              .redis_ok = true,
                              .loop_mono_ms = 1000};
    cfd_metrics_publish(m, &s);
    assert_false(cfd_metrics_ready(m, 1000, 30000, why, sizeof(why)));
    assert_string_equal(why, "no partitions assigned");

    s.partitions_owned = 2;
    cfd_metrics_publish(m, &s);
    assert_true(cfd_metrics_ready(m, 31000, 30000, why, sizeof(why)));
    assert_false(cfd_metrics_ready(m, 31001, 30000, why, sizeof(why)));
    assert_string_equal(why, "the worker's loop has not run for 30001 ms");

    s.redis_ok = false;
    cfd_metrics_publish(m, &s);
    assert_false(cfd_metrics_ready(m, 1000, 30000, why, sizeof(why)));
    assert_string_equal(why, "redis did not answer the worker's last call");

    /* The published snapshot is a copy: the worker's strings may change after. */
    strcpy(topic, "mutated");
    size_t len;
    char *text = cfd_metrics_render(m, &len);
    assert_has(text, "confirmd_events_consumed_total{topic=\"confirmd.events\"} 4\n");
    assert_has(
        text,
        "confirmd_consumer_lag_messages{topic=\"confirmd.events\",partition=\"1\"} 0\n");
    assert_null(strstr(text, "mutated"));
    free(text);
    cfd_metrics_destroy(m);
    cfd_metrics_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_publish_and_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

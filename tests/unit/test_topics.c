/*
 * Unit tests for src/app/topics.c: the topics a configuration names (names, partition
 * counts, replication, configs, stages turned off) and the check of a topic that
 * already exists against what is asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/config.h"
#include "confirmd/topics.h"

#ifndef CFD_SOURCE_DIR
#error "CFD_SOURCE_DIR must name the source tree"
#endif

#define MAX_WANT 10

/* One expected topic: "name:configs", '*' after the name when co-partitioned. */
typedef struct want_set {
    const char *pairs[4]; /* --set overrides */
    cfd_topic_opts opts;
    const char *topics[MAX_WANT]; /* "confirmd.inventory*:cleanup.policy=compact" */
} want_set;

static const cfd_topic_opts defaults = {
    .partitions = 8, .replication = -1, .min_insync = 0};

static const want_set set_cases[] = {
    /* The built-in defaults: every topic of the worker, in the order of the keys. */
    {{NULL},
     {8, -1, 0},
     {"confirmd.events*:-", "confirmd.records:-", "confirmd.alerts:-",
      "confirmd.deadletter:-", "confirmd.incidents:-", "confirmd.alarms*:-",
      "confirmd.inventory*:cleanup.policy=compact", "confirmd.city-reports*:-"}},
    /* Stages off: no topic. */
    {{"worker.alarms_topic=", "worker.inventory_topic=", "worker.city_reports_topic="},
     {8, -1, 0},
     {"confirmd.events*:-", "confirmd.records:-", "confirmd.alerts:-",
      "confirmd.deadletter:-", "confirmd.incidents:-"}},
    /* Several input topics, split as the worker splits them; a name given twice is one. */
    {{"worker.input_topics= a , b,,c", "worker.records_topic=b", "worker.alerts_topic=out",
      "worker.deadletter_topic=out"},
     {3, 3, 2},
     {"a*:min.insync.replicas=2", "b*:min.insync.replicas=2", "c*:min.insync.replicas=2",
      "out:min.insync.replicas=2", "confirmd.incidents:min.insync.replicas=2",
      "confirmd.alarms*:min.insync.replicas=2",
      "confirmd.inventory*:cleanup.policy=compact,min.insync.replicas=2",
      "confirmd.city-reports*:min.insync.replicas=2"}},
    /* TMF642 alarms on: co-partitioned like the protobuf alarms. */
    {{"worker.tmf642_alarms_topic=confirmd.tmf642-alarms"},
     {8, -1, 0},
     {"confirmd.events*:-", "confirmd.records:-", "confirmd.alerts:-",
      "confirmd.deadletter:-", "confirmd.incidents:-", "confirmd.alarms*:-",
      "confirmd.tmf642-alarms*:-", "confirmd.inventory*:cleanup.policy=compact",
      "confirmd.city-reports*:-"}},
    {{"worker.inventory_topic=inv", "worker.alarms_topic="},
     {1, -1, 1},
     {"confirmd.events*:min.insync.replicas=1", "confirmd.records:min.insync.replicas=1",
      "confirmd.alerts:min.insync.replicas=1", "confirmd.deadletter:min.insync.replicas=1",
      "confirmd.incidents:min.insync.replicas=1",
      "inv*:cleanup.policy=compact,min.insync.replicas=1",
      "confirmd.city-reports*:min.insync.replicas=1"}},
};

static void assert_set(const cfd_topic_set *set, const want_set *c, size_t ci)
{
    size_t n = 0;
    while (n < MAX_WANT && c->topics[n])
        n++;
    if (set->n != n)
        fail_msg("case %zu: %zu topics, want %zu", ci, set->n, n);
    for (size_t i = 0; i < n; i++) {
        const cfd_topic_spec *s = &set->specs[i];
        char got[512], configs[256];
        snprintf(got, sizeof(got), "%s%s:%s", s->name, s->copartitioned ? "*" : "",
                 cfd_topic_spec_configs(s, configs, sizeof(configs)));
        if (strcmp(got, c->topics[i]) != 0)
            fail_msg("case %zu topic %zu: %s, want %s", ci, i, got, c->topics[i]);
        assert_int_equal(s->partitions, c->opts.partitions);
        assert_int_equal(s->replication, c->opts.replication);
        assert_non_null(s->key);
    }
}

static void test_set_from_config(void **state)
{
    (void)state;
    for (size_t ci = 0; ci < sizeof(set_cases) / sizeof(set_cases[0]); ci++) {
        char err[512];
        cfd_config *cfg = cfd_config_new();
        for (size_t k = 0; k < 4 && set_cases[ci].pairs[k]; k++)
            assert_int_equal(
                cfd_config_set_pair(cfg, set_cases[ci].pairs[k], err, sizeof(err)), CFD_OK);
        cfd_topic_set *set = cfd_topic_set_new(cfg, &set_cases[ci].opts, err, sizeof(err));
        if (!set)
            fail_msg("case %zu: %s", ci, err);
        assert_set(set, &set_cases[ci], ci);
        cfd_topic_set_destroy(set);
        cfd_config_destroy(cfg);
    }
    cfd_topic_set_destroy(NULL);
}

/* The shipped configuration file names the same topics as the built-in defaults. */
static void test_set_from_shipped_file(void **state)
{
    char err[512];
    (void)state;
    cfd_config *cfg = cfd_config_new();
    assert_int_equal(
        cfd_config_load_file(cfg, CFD_SOURCE_DIR "/config/confirmd.ini", err, sizeof(err)),
        CFD_OK);
    cfd_topic_set *set = cfd_topic_set_new(cfg, &defaults, err, sizeof(err));
    assert_non_null(set);
    assert_set(set, &set_cases[0], 0);
    assert_string_equal(set->specs[6].key, "worker.inventory_topic");
    cfd_topic_set_destroy(set);
    cfd_config_destroy(cfg);
}

static void test_set_bad_opts(void **state)
{
    static const struct {
        cfd_topic_opts opts;
        const char *err;
    } cases[] = {
        {{0, -1, 0}, "partitions: 0 is out of range 1..100000"},
        {{100001, -1, 0}, "partitions: 100001 is out of range 1..100000"},
        {{8, 0, 0},
         "replication factor: 0 is out of range 1..32767 (or -1, the broker's "
         "default)"},
        {{8, -2, 0},
         "replication factor: -2 is out of range 1..32767 (or -1, the broker's "
         "default)"},
        {{8, 3, 4}, "min.insync.replicas: 4 is out of range 1..3 (the replication factor)"},
        {{8, -1, -1}, "min.insync.replicas: -1 is out of range 1..32767"},
    };
    (void)state;
    cfd_config *cfg = cfd_config_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        assert_null(cfd_topic_set_new(cfg, &cases[i].opts, err, sizeof(err)));
        assert_string_equal(err, cases[i].err);
    }
    cfd_config_destroy(cfg);
}

/* What the cluster has, against a spec of 8 partitions with the given replication and
 * configs (inventory: compact, and min.insync.replicas=2 when min_isr). */
static void test_check(void **state)
{
    static const struct {
        int replication;
        bool min_isr;
        cfd_topic_seen seen;
        cfd_topic_state want;
        const char *why;
    } cases[] = {
        {-1, false, {false, 0, 0, {NULL}}, CFD_TOPIC_MISSING, ""},
        {-1, false, {true, 8, 1, {"compact"}}, CFD_TOPIC_EXISTS, ""},
        /* Unknown configs (a broker without DescribeConfigs) are not held against it. */
        {-1, false, {true, 8, 3, {NULL}}, CFD_TOPIC_EXISTS, ""},
        {3, true, {true, 8, 3, {"compact", "2"}}, CFD_TOPIC_EXISTS, ""},
        {-1,
         false,
         {true, 12, 1, {"compact"}},
         CFD_TOPIC_DIFFERS,
         "12 partitions, 8 asked (the input, alarms, inventory and city-reports topics "
         "share "
         "one count)"},
        {3,
         false,
         {true, 8, 1, {"compact"}},
         CFD_TOPIC_DIFFERS,
         "replication factor 1, 3 asked"},
        {-1,
         false,
         {true, 8, 1, {"delete"}},
         CFD_TOPIC_DIFFERS,
         "cleanup.policy=delete, compact asked"},
        {-1,
         true,
         {true, 4, 3, {"delete", "1"}},
         CFD_TOPIC_DIFFERS,
         "4 partitions, 8 asked (the input, alarms, inventory and city-reports topics "
         "share "
         "one count); cleanup.policy=delete, compact asked; min.insync.replicas=1, 2 "
         "asked"},
        /* The broker's default replication cannot carry min.insync.replicas. */
        {-1,
         true,
         {true, 8, 1, {"compact", "2"}},
         CFD_TOPIC_DIFFERS,
         "replication factor 1 is below min.insync.replicas=2: every write with acks=all "
         "(the worker's) would be refused"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512], why[512];
        cfd_config *cfg = cfd_config_new();
        cfd_topic_opts opts = {8, cases[i].replication, cases[i].min_isr ? 2 : 0};
        cfd_topic_set *set = cfd_topic_set_new(cfg, &opts, err, sizeof(err));
        assert_non_null(set);
        const cfd_topic_spec *inventory = &set->specs[6];
        assert_string_equal(inventory->name, "confirmd.inventory");
        cfd_topic_state got = cfd_topic_check(inventory, &cases[i].seen, why, sizeof(why));
        if (got != cases[i].want || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu: state %d \"%s\", want %d \"%s\"", i, (int)got, why,
                     (int)cases[i].want, cases[i].why);
        /* A short buffer cuts the text, never the verdict. */
        assert_int_equal(cfd_topic_check(inventory, &cases[i].seen, why, 4), cases[i].want);
        cfd_topic_set_destroy(set);
        cfd_config_destroy(cfg);
    }
}

/* An output topic's partition count is not tied to the input topic's: one made with
 * another count exists as asked. */
static void test_check_output_topic(void **state)
{
    char err[512], why[512];
    cfd_topic_seen seen = {true, 4, 1, {NULL}};
    (void)state;
    cfd_config *cfg = cfd_config_new();
    cfd_topic_set *set = cfd_topic_set_new(cfg, &defaults, err, sizeof(err));
    assert_string_equal(set->specs[1].name, "confirmd.records");
    assert_int_equal(cfd_topic_check(&set->specs[1], &seen, why, sizeof(why)),
                     CFD_TOPIC_EXISTS);
    assert_string_equal(why, "");
    cfd_topic_set_destroy(set);
    cfd_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_from_config),
        cmocka_unit_test(test_set_from_shipped_file),
        cmocka_unit_test(test_set_bad_opts),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_output_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The consumer guide (docs/CONSUMERS.md) on real parts: after a scenario through a
 * worker, every output carries the "type" header of its topic's message; the guide's
 * Python consumer prints the scenario's MTTR per tier, dropping a re-sent alert by its
 * id; kcat with protoc --decode prints a record; confirmctl tail prints proto3 JSON,
 * which confirmctl produce takes back as the same messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "confirmd/codec.h"
#include "harness_events.h"

#define T0 H_T0
#define MIN H_MIN

/* Every output topic and the message its outputs carry. */
static const struct {
    const char *topic, *type;
} outputs[] = {
    {"confirmd.records", "confirmd.v1.ConfirmationRecord"},
    {"confirmd.alerts", "confirmd.v1.SlaAlert"},
    {"confirmd.deadletter", "confirmd.v1.DeadLetter"},
    {"confirmd.incidents", "confirmd.v1.Incident"},
    {"confirmd.events", "confirmd.v1.Event"},
    {"confirmd.alarms", "confirmd.v1.Alarm"},
    {"confirmd.city-reports", "confirmd.v1.CityReport"},
};

/* Runs cmd through the shell; its stdout (at most size - 1 bytes) goes to out.
 * @returns its exit status, or -1. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    print_message("$ %s\n%s", cmd, out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* @returns how many times needle occurs in text. */
static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Five orders of three tiers, one of them amended after its close, and one message
 * that is no event: records, alerts, a dead letter and completion notices. MTTR
 * (report to restoration) is 30 min + the arrival: AAA 80 and 70, AA 190 and 130,
 * A 60; the AA order at 160 min breaches its on-site duty (2 h from acceptance). */
static void run_scenario(h_env *env)
{
    h_send_full_order(env, "WO-AAA-1", "TIER_AAA", 1, T0, 50);
    h_send_full_order(env, "WO-AAA-2", "TIER_AAA", 0, T0, 40);
    h_send_full_order(env, "WO-AA-1", "TIER_AA", 0, T0, 160);
    h_send_full_order(env, "WO-AA-2", "TIER_AA", 0, T0, 100);
    h_send_full_order(env, "WO-A-1", "TIER_A", 0, T0, 30);
    h_send_ms(env, "WO-AAA-1", "WO-AAA-1-erp", T0 + 300 * MIN, "event_report_submitted",
              "{\"report_id\":\"ER-1\"}");
    assert_int_equal(h_produce(env, "confirmd.events", "WO-X", "\xff\x01garbage", 9), 0);
    assert_true(h_worker_start(env, NULL) > 0);

    h_collected recs, alerts, dls;
    h_collect(env, "confirmd.records", "ConfirmationRecord", 6, 60000, &recs);
    assert_int_equal(recs.n, 6);
    h_collect(env, "confirmd.alerts", "SlaAlert", 2, 30000, &alerts);
    assert_int_equal(alerts.n, 2); /* the breach and WO-AAA-1's gold notification */
    h_collect(env, "confirmd.deadletter", "DeadLetter", 1, 30000, &dls);
    assert_int_equal(dls.n, 1);
    h_collected_free(&recs);
    h_collected_free(&alerts);
    h_collected_free(&dls);
}

/* Every message an output id marks (the worker's, not the test's inputs) has the
 * "type" of its topic and decodes as it; records, alerts, dead letters and notices
 * were all seen. */
static void test_type_header(void **state)
{
    h_env *env = *state;
    run_scenario(env);
    int typed[sizeof(outputs) / sizeof(outputs[0])] = {0};
    for (size_t t = 0; t < sizeof(outputs) / sizeof(outputs[0]); t++) {
        h_consumer *c = h_consume_open(env, outputs[t].topic);
        assert_non_null(c);
        h_msg m = {0};
        while (h_consume(c, 2000, &m) == 1) {
            if (m.id) {
                char errstr[256];
                if (!m.type || strcmp(m.type, outputs[t].type) != 0)
                    fail_msg("%s output %s: type %s, not %s", outputs[t].topic, m.id,
                             m.type ? m.type : "(none)", outputs[t].type);
                char *json =
                    cfd_pb_to_json(m.type, m.value, m.value_len, errstr, sizeof(errstr));
                if (!json)
                    fail_msg("%s output %s: %s", outputs[t].topic, m.id, errstr);
                free(json);
                typed[t]++;
            }
            h_msg_clear(&m);
        }
        h_consume_close(c);
    }
    assert_int_equal(typed[0], 6);
    assert_int_equal(typed[1], 2);
    assert_int_equal(typed[2], 1);
    assert_true(typed[5] >= 5); /* a completion notice per order, on its circuit */
}

/* The guide's examples against the scenario's outputs. */
static void test_examples(void **state)
{
    h_env *env = *state;
    char cmd[2048], out[16384];
    run_scenario(env);

    /* A re-sent alert (same id and bytes, as an outbox re-send after a crash): the
     * consumer counts it once. */
    h_consumer *c = h_consume_open(env, "confirmd.alerts");
    h_msg m = {0}, breach = {0};
    while (h_consume(c, 2000, &m) == 1) {
        if (m.id && strstr(m.id, "BREACH") && !breach.id)
            breach = m;
        else
            h_msg_clear(&m);
    }
    h_consume_close(c);
    assert_non_null(breach.id);
    char path[512];
    snprintf(path, sizeof(path), "%s/breach.bin", h_env_dir(env));
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(breach.value, 1, breach.value_len, f), breach.value_len);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "kcat -P -b %s -t confirmd.alerts -k '%s' -H 'id=%s' "
             "-H 'type=%s' %s",
             h_bootstrap(env), breach.key, breach.id, breach.type, path);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    h_msg_clear(&breach);

    snprintf(cmd, sizeof(cmd),
             "PYTHONPATH=%s/python %s %s/docs/examples/mttr_by_tier.py "
             "-b %s --idle 5",
             CFD_BIN_DIR, CFD_PYTHON3, CFD_SOURCE_DIR, h_bootstrap(env));
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_string_equal(out, "TIER_AAA orders=2 mttr_min=75.0 breaches=0\n"
                             "TIER_AA orders=2 mttr_min=160.0 breaches=1\n"
                             "TIER_A orders=1 mttr_min=60.0 breaches=0\n");

    snprintf(cmd, sizeof(cmd),
             "PATH=%s:$PATH %s/docs/examples/kcat_decode.sh %s "
             "%s/confirmd-v1.desc",
             CFD_PROTOC_DIR, CFD_SOURCE_DIR, h_bootstrap(env), CFD_BIN_DIR);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "type=confirmd.v1.ConfirmationRecord"));
    assert_non_null(strstr(out, "work_order: \"WO-"));
    assert_non_null(strstr(out, "state: STATE_CLOSED"));
    assert_non_null(strstr(out, "tier: TIER_A"));

    /* confirmctl tail: proto3 JSON, decoded by the "type" header. */
    snprintf(cmd, sizeof(cmd),
             "%s/confirmctl tail -b %s -t confirmd.records "
             "--from-beginning -n 1 --json=proto3 --meta",
             CFD_BIN_DIR, h_bootstrap(env));
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\"type\":\"confirmd.v1.ConfirmationRecord\""));
    assert_non_null(strstr(out, "\"workOrder\":\"WO-"));
    assert_non_null(strstr(out, "\"reportedAtMs\":\"1764043200000\""));
    assert_non_null(strstr(out, "\"state\":\"STATE_CLOSED\""));

    /* ... which is what Python's protobuf library prints of the same message. */
    snprintf(cmd, sizeof(cmd),
             "%s/confirmctl tail -b %s -t confirmd.records "
             "--from-beginning -n 6 --json=proto3 | PYTHONPATH=%s/python %s -c '%s'",
             CFD_BIN_DIR, h_bootstrap(env), CFD_BIN_DIR, CFD_PYTHON3,
             "import json, sys\n"
             "from google.protobuf import json_format\n"
             "from confirmd.v1 import record_pb2\n"
             "for line in sys.stdin:\n"
             "    rec = json_format.Parse(line, record_pb2.ConfirmationRecord())\n"
             "    same = json.loads(json_format.MessageToJson(rec)) == json.loads(line)\n"
             "    print(rec.work_order, rec.version, same)\n");
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_int_equal(count_of(out, " True\n"), 6);

    /* ... and which confirmctl produce takes back: the records tailed as proto3 JSON,
     * produced to their topic again, are the worker's records byte for byte, keyed by
     * their work orders (the copies carry no "id" header: the worker's do). */
    snprintf(cmd, sizeof(cmd),
             "%s/confirmctl tail -b %s -t confirmd.records --from-beginning -n 6 "
             "--json=proto3 | %s/confirmctl produce -b %s -t confirmd.records "
             "--type ConfirmationRecord",
             CFD_BIN_DIR, h_bootstrap(env), CFD_BIN_DIR, h_bootstrap(env));
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    h_msg worker[6] = {0}, copies[6] = {0};
    size_t n_worker = 0, n_copies = 0;
    c = h_consume_open(env, "confirmd.records");
    while (h_consume(c, 2000, &m) == 1) {
        h_msg *slot = m.id ? (n_worker < 6 ? &worker[n_worker++] : NULL)
                           : (n_copies < 6 ? &copies[n_copies++] : NULL);
        assert_non_null(slot);
        *slot = m;
    }
    h_consume_close(c);
    assert_int_equal(n_worker, 6);
    assert_int_equal(n_copies, 6);
    for (size_t i = 0; i < n_copies; i++) {
        bool same = false;
        for (size_t k = 0; k < n_worker && !same; k++)
            same = worker[k].value_len == copies[i].value_len &&
                   memcmp(worker[k].value, copies[i].value, copies[i].value_len) == 0 &&
                   worker[k].key && copies[i].key &&
                   strcmp(worker[k].key, copies[i].key) == 0;
        if (!same)
            fail_msg("record copy %zu (key %s) is none of the worker's records", i,
                     copies[i].key ? copies[i].key : "(none)");
    }
    for (size_t i = 0; i < 6; i++) {
        h_msg_clear(&worker[i]);
        h_msg_clear(&copies[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_type_header, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_examples, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Kafka security on Apache Kafka (label kafka only): a cluster with a SASL_SSL listener
 * whose certificate a test CA signed. A worker configured through an INI file with the
 * documented kafka.* keys applies an order and publishes its record; confirmctl lists
 * topics, produces and tails through the same listener with -X. A wrong password, or a
 * CA that did not sign the brokers' certificate, stops the worker within seconds with
 * exit status 6 and a clear log line, and confirmctl with exit status 1 and a clear
 * message. No password ever reaches a log or confirmctl's output, even at debug level.
 *
 * The mechanism is SCRAM-SHA-512 with librdkafka 2.6.1 or later; older ones (Debian
 * bookworm's 2.0.2) send a SCRAM client-final nonce that Kafka 4 refuses, so they log
 * in with PLAIN, which TLS protects the same way; test_scram_old_librdkafka checks that
 * refusal is what such a worker reports.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "harness_events.h"
#include "harness_orders.h"

#define USER "confirmd"
#define PW "Sasl-pw-5c81e2"      /* the account's password */
#define WRONG_PW "wrong-pw-93d7" /* a password the brokers do not know */
#define EXIT_REFUSED 6           /* confirmd's exit status for a refused login */
#define REFUSED_LINE "SASL login or TLS handshake failed"
#define CTL_REFUSED "SASL login or TLS handshake with the brokers failed"
#define SCRAM_OK_VERSION 0x020601ff /* librdkafka 2.6.1 */

typedef struct sec_state {
    h_env *env;
    char other_ca[600]; /* a CA that did not sign the brokers' certificate */
    int nctl;           /* confirmctl runs so far, for their output files */
} sec_state;

static const char *mechanism(void)
{
    return rd_kafka_version() >= SCRAM_OK_VERSION ? "SCRAM-SHA-512" : "PLAIN";
}

static int setup(void **state)
{
    static sec_state st;
    memset(&st, 0, sizeof(st));
    if (!h_broker_is_kafka()) {
        fprintf(stderr, "it_kafka_security needs Apache Kafka (CFD_TEST_BROKER=kafka)\n");
        return -1;
    }
    st.env = h_env_new("ksec");
    if (!st.env || h_redis_start(st.env) || h_broker_sasl_ssl(st.env, USER, PW) ||
        h_broker_start(st.env, NULL) || !h_bootstrap_sasl(st.env) ||
        h_tls_ca(st.env, "other", st.other_ca, sizeof(st.other_ca)))
        return -1;
    fprintf(stderr, "SASL_SSL at %s, mechanism %s (librdkafka %s)\n",
            h_bootstrap_sasl(st.env), mechanism(), rd_kafka_version_str());
    *state = &st;
    return 0;
}

static int teardown(void **state)
{
    sec_state *st = *state;
    h_env_destroy(st->env);
    return 0;
}

/* Fails the test when the file at path holds a password. */
static void assert_no_secret(const char *path)
{
    assert_int_equal(h_file_count(path, PW), 0);
    assert_int_equal(h_file_count(path, WRONG_PW), 0);
}

/* Writes an INI file for the worker, as an operator would (mode 0600), and uses it
 * for the next workers. */
static void worker_ini(sec_state *st, const char *mech, const char *password,
                       const char *ca)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/worker.ini", h_env_dir(st->env));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[kafka]\n"
            "security.protocol = SASL_SSL\n"
            "sasl.mechanisms = %s\n"
            "sasl.username = " USER "\n"
            "sasl.password = %s\n"
            "ssl.ca.location = %s\n",
            mech, password, ca);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    h_env_set_worker_config(st->env, path);
}

/* Starts a worker on the SASL_SSL listener with the INI file of worker_ini().
 * *idx is set to its log's index. */
static pid_t worker_start(sec_state *st, int *idx)
{
    char bs[1100];
    const char *args[] = {bs, "worker.log_level=debug", NULL};
    *idx = 0;
    while (h_file_count(h_worker_log_path(st->env, *idx), "") >= 0)
        (*idx)++;
    snprintf(bs, sizeof(bs), "kafka.bootstrap.servers=%s", h_bootstrap_sasl(st->env));
    pid_t w = h_worker_start(st->env, args);
    assert_true(w > 0);
    return w;
}

/* Prints a file to stdout, for a failing check. */
static void show(const char *path)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "cat %s", path);
    if (system(cmd) != 0)
        printf("(no %s)\n", path);
}

/* Starts a worker whose login must be refused: it must exit with status 6 within 30 s,
 * its log holding REFUSED_LINE and want. */
static void expect_worker_refused(sec_state *st, const char *want)
{
    int idx;
    int64_t t0 = h_now_ms();
    pid_t w = worker_start(st, &idx);
    int rc = h_worker_wait_exit(st->env, w, 30000);
    const char *log = h_worker_log_path(st->env, idx);
    if (rc != EXIT_REFUSED || h_file_count(log, REFUSED_LINE) < 1 ||
        h_file_count(log, want) < 1) {
        show(log);
        fail_msg("worker: exit status %d (want %d), \"%s\" and \"%s\" expected in its log",
                 rc, EXIT_REFUSED, REFUSED_LINE, want);
    }
    printf("worker refused (\"%s\"), exit %d after %.1f s\n", want, rc,
           (double)(h_now_ms() - t0) / 1000.0);
    assert_no_secret(log);
}

/* Runs confirmctl ARGS -b <SASL_SSL> -X <security settings> under a 60 s timeout, its
 * output (stdout and stderr) to a file whose path is copied to out.
 * @returns its exit status. */
static int ctl(sec_state *st, char *out, size_t n, const char *mech, const char *password,
               const char *ca, const char *args)
{
    char cmd[4096];
    snprintf(out, n, "%s/ctl-%d.out", h_env_dir(st->env), st->nctl++);
    snprintf(cmd, sizeof(cmd),
             "timeout 60 %s/confirmctl %s -b %s -X security.protocol=SASL_SSL "
             "-X sasl.mechanisms=%s -X sasl.username=" USER " -X sasl.password=%s "
             "-X kafka.ssl.ca.location=%s >%s 2>&1",
             CFD_BIN_DIR, args, h_bootstrap_sasl(st->env), mech, password, ca, out);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* confirmctl args must fail with status 1 within 30 s, saying CTL_REFUSED and want. */
static void expect_ctl_refused(sec_state *st, const char *password, const char *ca,
                               const char *args, const char *want)
{
    char out[600];
    int64_t t0 = h_now_ms();
    int rc = ctl(st, out, sizeof(out), mechanism(), password, ca, args);
    int64_t took = h_now_ms() - t0;
    if (rc != 1 || took > 30000 || h_file_count(out, CTL_REFUSED) != 1 ||
        h_file_count(out, want) < 1) {
        show(out);
        fail_msg("confirmctl %s: exit status %d after %lld ms (want 1 within 30 s) with "
                 "\"%s\" and \"%s\"",
                 args, rc, (long long)took, CTL_REFUSED, want);
    }
    printf("confirmctl %s refused, exit 1 after %.1f s\n", args, (double)took / 1000.0);
    assert_no_secret(out);
}

/* The worker logs in through SASL_SSL, applies an order and publishes its record. */
static void test_worker(void **state)
{
    sec_state *st = *state;
    h_collected recs;
    int idx;

    worker_ini(st, mechanism(), PW, h_tls_ca_path(st->env));
    h_send_full_order(st->env, "WO-SASL1", "TIER_AA", 0, H_T0, 40);
    pid_t w = worker_start(st, &idx);
    h_collect(st->env, "confirmd.records", "ConfirmationRecord", 1, 60000, &recs);
    if (recs.n != 1)
        show(h_worker_log_path(st->env, idx));
    assert_int_equal(recs.n, 1);
    assert_string_equal(h_jstr(recs.items[0], "work_order"), "WO-SASL1");
    assert_string_equal(h_jstr(recs.items[0], "state"), "STATE_CLOSED");
    h_collected_free(&recs);
    assert_int_equal(h_worker_kill(st->env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(st->env, w, 30000), 0);
    const char *log = h_worker_log_path(st->env, idx);
    assert_true(h_file_count(log, "partition 0 claimed") > 0);
    assert_int_equal(h_file_count(log, "ERROR"), 0);
    assert_no_secret(log);
}

/* Writes one event for confirmctl produce; copies "produce -t confirmd.events FILE"
 * to args. */
static void produce_args(sec_state *st, char *args, size_t n)
{
    char events[600];
    snprintf(events, sizeof(events), "%s/ctl-events.jsonl", h_env_dir(st->env));
    FILE *f = fopen(events, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"work_order\":\"WO-CTL\",\"event_id\":\"WO-CTL-acc\",\"event_time_ms\":%lld,"
            "\"accepted\":{\"operator_id\":\"op7\"}}\n",
            (long long)H_T0);
    fclose(f);
    snprintf(args, n, "produce -t confirmd.events %s", events);
}

/* confirmctl lists the topics, produces and tails through the SASL_SSL listener. */
static void test_confirmctl(void **state)
{
    sec_state *st = *state;
    char out[600], args[1000];
    const char *ca = h_tls_ca_path(st->env);

    assert_int_equal(ctl(st, out, sizeof(out), mechanism(), PW, ca, "topics list"), 0);
    assert_int_equal(h_file_count(out, "confirmd.events "), 1);
    assert_no_secret(out);

    produce_args(st, args, sizeof(args));
    assert_int_equal(ctl(st, out, sizeof(out), mechanism(), PW, ca, args), 0);
    assert_int_equal(h_file_count(out, "produced 1 events"), 1);
    assert_no_secret(out);

    assert_int_equal(
        ctl(st, out, sizeof(out), mechanism(), PW, ca,
            "tail -t confirmd.records --from-beginning -n 1 --timeout-ms 20000"),
        0);
    assert_int_equal(h_file_count(out, "WO-SASL1"), 1);
    assert_no_secret(out);
}

/* A wrong password: the worker stops with status 6, confirmctl with 1, both saying why. */
static void test_wrong_password(void **state)
{
    sec_state *st = *state;
    const char *ca = h_tls_ca_path(st->env);
    char args[1000];

    worker_ini(st, mechanism(), WRONG_PW, ca);
    expect_worker_refused(st, "Authentication failed");
    expect_ctl_refused(st, WRONG_PW, ca, "topics list", "Authentication failed");
    produce_args(st, args, sizeof(args));
    expect_ctl_refused(st, WRONG_PW, ca, args, "Authentication failed");
    expect_ctl_refused(st, WRONG_PW, ca, "tail -t confirmd.records --timeout-ms 40000",
                       "Authentication failed");
}

/* A CA that did not sign the brokers' certificate: the TLS handshake fails. */
static void test_untrusted_certificate(void **state)
{
    sec_state *st = *state;

    worker_ini(st, mechanism(), PW, st->other_ca);
    expect_worker_refused(st, "certificate verify failed");
    expect_ctl_refused(st, PW, st->other_ca, "topics list", "certificate verify failed");
    expect_ctl_refused(st, PW, st->other_ca, "tail -t confirmd.records --timeout-ms 40000",
                       "certificate verify failed");
}

/* librdkafka before 2.6.1 cannot log in to Kafka 4 with SCRAM, even with the right
 * password: the worker reports that refusal like any other (docs/OPERATIONS.md). */
static void test_scram_old_librdkafka(void **state)
{
    sec_state *st = *state;

    if (rd_kafka_version() >= SCRAM_OK_VERSION)
        skip(); /* test_worker logged in with SCRAM-SHA-512 */
    worker_ini(st, "SCRAM-SHA-512", PW, h_tls_ca_path(st->env));
    expect_worker_refused(st, "invalid credentials with SASL mechanism SCRAM-SHA-512");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker),
        cmocka_unit_test(test_confirmctl),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_untrusted_certificate),
        cmocka_unit_test(test_scram_old_librdkafka),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

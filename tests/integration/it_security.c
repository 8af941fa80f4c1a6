/*
 * Redis authentication: a worker logs in as an ACL user restricted to its key prefix,
 * works, and never writes its password to the log, even at debug level; a worker with
 * a wrong password, or none, stops at start-up with a clear error and exit status 1.
 * (TLS and SASL to Kafka are librdkafka's, set through kafka.* keys: the mock broker
 * cannot test them; kafka.it_kafka_security does, on Apache Kafka.)
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness_events.h"
#include "harness_orders.h"

#define PARTS 8
#define DEFAULT_PW "Dflt-pw-7f3a9c" /* requirepass: the default user */
#define ACL_PW "Acl-only-pw-b81e52" /* user cfd: keys cfd:*, no @dangerous */
#define KAFKA_PW "Kafka-pw-4d20e1"  /* passed through, unused by the mock */

static int setup(void **state)
{
    const char *const redis_args[] = {
        "--requirepass", DEFAULT_PW,      "--user", "cfd",         "on", ">" ACL_PW,
        "~cfd:*",        "resetchannels", "+@all",  "-@dangerous", NULL};
    h_env *env = h_env_new("security");
    if (!env || h_redis_start_args(env, redis_args) || h_broker_start(env, NULL) ||
        h_set_sim_clock(env, H_WL_T0))
        return -1;
    *state = env;
    return 0;
}

/* Fails the test when the log at path holds any of the secrets. */
static void assert_no_secret(const char *path)
{
    assert_int_equal(h_file_count(path, DEFAULT_PW), 0);
    assert_int_equal(h_file_count(path, ACL_PW), 0);
    assert_int_equal(h_file_count(path, "wrong-pw-"), 0);
    assert_int_equal(h_file_count(path, KAFKA_PW), 0);
}

/* The ACL user, given in a config file (not on the command line, where any local
 * user could read it), processes orders; debug logging shows no secret. */
static void test_acl_user(void **state)
{
    h_env *env = *state;
    char path[600];
    h_event ev[2][H_ORDER_EVENTS];
    h_expect exp[2];
    const char *args[] = {"worker.clock=simulated", "worker.log_level=debug", NULL};

    snprintf(path, sizeof(path), "%s/worker.ini", h_env_dir(env));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[redis]\nuser = cfd\npassword = %s\n[kafka]\nsasl.username = cfd\n"
            "sasl.password = %s\n",
            ACL_PW, KAFKA_PW);
    fclose(f);
    h_env_set_worker_config(env, path);
    pid_t w = h_worker_start(env, args);
    assert_true(w > 0);
    for (int i = 0; i < 2; i++) {
        char wo[32];
        snprintf(wo, sizeof(wo), "WO-SEC%d", i);
        assert_int_equal(h_order_events(wo, (unsigned)(i * 9), H_WL_T0, ev[i]), 0);
        assert_int_equal(h_oracle(ev[i], H_ORDER_EVENTS, &exp[i]), 0);
        for (int k = 0; k < H_ORDER_EVENTS; k++) {
            h_out_msg m = {ev[i][k].wo, ev[i][k].buf, ev[i][k].len, NULL};
            assert_int_equal(h_produce_async(env, "confirmd.events", &m), 0);
        }
    }
    assert_int_equal(h_flush(env, 10000), 0);
    assert_int_equal(h_wait_redis_records(env, exp, 2, PARTS, 60000), 0);

    /* The worker really is the restricted user: redis lists its connection as cfd. */
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *r = redisCommand(rc, "CLIENT LIST");
    assert_non_null(r);
    assert_non_null(strstr(r->str, "user=cfd"));
    freeReplyObject(r);
    redisFree(rc);

    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    const char *log = h_worker_log_path(env, 0);
    assert_true(h_file_count(log, " DEBUG ") > 0); /* debug logging was on */
    assert_no_secret(log);
    for (int i = 0; i < 2; i++) {
        h_expect_clear(&exp[i]);
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&ev[i][k]);
    }
}

/* Starts a worker with extra --set arguments and expects it to stop at start-up with
 * exit status 1 and a log line holding want. @returns the log path. */
static const char *expect_startup_failure(h_env *env, const char *const *args,
                                          const char *want)
{
    int idx = 0;
    while (h_file_count(h_worker_log_path(env, idx), "") >= 0)
        idx++; /* the next worker's log */
    pid_t w = h_worker_start(env, args);
    assert_true(w > 0);
    assert_int_equal(h_worker_wait_exit(env, w, 30000), 1);
    const char *log = h_worker_log_path(env, idx);
    if (h_file_count(log, want) < 1) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "cat %s", log);
        if (system(cmd) != 0)
            printf("(no log)\n");
        fail_msg("no \"%s\" in the log of a worker that failed to start", want);
    }
    assert_true(h_file_count(log, "start-up failed") >= 1);
    return log;
}

static void test_wrong_password(void **state)
{
    h_env *env = *state;
    const char *acl[] = {"worker.log_level=debug", "redis.user=cfd",
                         "redis.password=wrong-pw-1", NULL};
    const char *dflt[] = {"worker.log_level=debug", "redis.password=wrong-pw-2", NULL};
    const char *none[] = {"worker.log_level=debug", NULL};
    assert_no_secret(expect_startup_failure(env, acl, "WRONGPASS"));
    assert_no_secret(expect_startup_failure(env, dflt, "WRONGPASS"));
    assert_no_secret(expect_startup_failure(env, none, "NOAUTH"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acl_user, setup, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_wrong_password, setup, h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

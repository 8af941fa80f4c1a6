/*
 * Signals a supervisor or logrotate sends a running worker: SIGHUP reopens the log file
 * (after a rotation the worker writes to the new file) or, with none configured, is
 * logged and ignored; either way the worker stays up and keeps applying events.
 * SIGTERM still stops it cleanly afterwards.
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

/* One order through the worker: its record is the n-th on the records topic. */
static void order_applied(h_env *env, const char *wo, int n)
{
    h_collected recs;
    h_send_full_order(env, wo, "TIER_A", 0, H_T0, 30);
    h_collect(env, "confirmd.records", "ConfirmationRecord", n, 30000, &recs);
    assert_int_equal(recs.n, n);
    assert_non_null(h_find_by(&recs, "work_order", wo));
    h_collected_free(&recs);
}

/* Without a log file, SIGHUP is logged and changes nothing. */
static void test_sighup_without_log_file(void **state)
{
    h_env *env = *state;
    pid_t w = h_worker_start(env, NULL);
    const char *log = h_worker_log_path(env, 0);

    assert_true(w > 0);
    order_applied(env, "WO-HUP-1", 1);
    assert_int_equal(h_worker_kill(env, w, SIGHUP), 0);
    assert_int_equal(
        h_wait_file_contains(log, "SIGHUP: no log file configured, ignored", 10000), 0);
    assert_true(h_worker_alive(env, w));
    order_applied(env, "WO-HUP-2", 2);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
}

/* With worker.log_file, SIGHUP after a rotation (the file renamed away) makes the
 * worker write to a new file of the configured name. */
static void test_sighup_reopens_log_file(void **state)
{
    h_env *env = *state;
    char path[512], rotated[520], set[560];

    snprintf(path, sizeof(path), "%s/confirmd.log", h_env_dir(env));
    snprintf(rotated, sizeof(rotated), "%s.1", path);
    snprintf(set, sizeof(set), "worker.log_file=%s", path);
    const char *args[] = {set, NULL};
    pid_t w = h_worker_start(env, args);
    assert_true(w > 0);
    assert_int_equal(h_wait_file_contains(path, "consuming", 30000), 0);
    order_applied(env, "WO-HUP-3", 1);

    assert_int_equal(rename(path, rotated), 0);
    assert_int_equal(h_worker_kill(env, w, SIGHUP), 0);
    assert_int_equal(h_wait_file_contains(path, "SIGHUP: log file reopened", 10000), 0);
    assert_true(h_worker_alive(env, w));
    order_applied(env, "WO-HUP-4", 2);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    /* What came after the rotation went to the new file only. */
    assert_int_equal(h_wait_file_contains(path, "stopped:", 1000), 0);
    assert_int_equal(h_wait_file_contains(rotated, "stopped:", 1000), -1);
    assert_int_equal(h_wait_file_contains(rotated, "consuming", 1000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sighup_without_log_file, h_setup_redis_broker,
                                        h_teardown_env),
        cmocka_unit_test_setup_teardown(test_sighup_reopens_log_file, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

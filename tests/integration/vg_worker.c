/*
 * A worker under valgrind: start, apply a few events (records, an alert, a dead
 * letter), then SIGTERM. The clean shutdown must free everything: valgrind runs with
 * --leak-check=full --error-exitcode=1, so any leak or memory error fails the exit
 * code. Valgrind cannot run ASan binaries: the confirmd given must be a plain build.
 *
 *   vg_worker VALGRIND CONFIRMD      exit 77 (skipped) when either is missing
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_orders.h"

#define PARTS 8
#define N_ORDERS 3

static const char *valgrind_bin, *confirmd_bin;

static void test_worker_under_valgrind(void **state)
{
    (void)state;
    h_env *env = h_env_new("valgrind");
    h_event ev[N_ORDERS][H_ORDER_EVENTS];
    h_expect exp[N_ORDERS];
    /* confirmd links jemalloc: memcheck watches its malloc and free, not only libc's. */
    const char *wrapper[] = {valgrind_bin,
                             "--leak-check=full",
                             "--error-exitcode=1",
                             "--track-fds=no",
                             "--num-callers=30",
                             "--soname-synonyms=somalloc=*jemalloc*",
                             NULL};
    const char *args[] = {"worker.clock=simulated", NULL};
    uint8_t bad[] = {0xff, 0x01, 'g', 'a', 'r', 'b', 'a', 'g', 'e'};
    int64_t t0 = h_now_ms();

    assert_non_null(env);
    assert_int_equal(h_redis_start(env), 0);
    assert_int_equal(h_broker_start(env, NULL), 0);
    assert_int_equal(h_set_sim_clock(env, H_WL_T0), 0);
    pid_t w = h_worker_start_cmd(env, wrapper, confirmd_bin, args);
    assert_true(w > 0);
    for (int i = 0; i < N_ORDERS; i++) {
        char wo[32];
        snprintf(wo, sizeof(wo), "WO-VG%d", i);
        /* variant 9: late arrival, so a breach alert goes out too */
        assert_int_equal(h_order_events(wo, (unsigned)(i * 9), H_WL_T0, ev[i]), 0);
        assert_int_equal(h_oracle(ev[i], H_ORDER_EVENTS, &exp[i]), 0);
        for (int k = 0; k < H_ORDER_EVENTS; k++) {
            h_out_msg m = {ev[i][k].wo, ev[i][k].buf, ev[i][k].len, NULL};
            assert_int_equal(h_produce_async(env, "confirmd.events", &m), 0);
        }
    }
    h_out_msg m = {"WO-VG0", bad, sizeof(bad), NULL};
    assert_int_equal(h_produce_async(env, "confirmd.events", &m), 0);
    assert_int_equal(h_flush(env, 10000), 0);

    /* Valgrind runs the worker some 20 times slower: generous, bounded waits. */
    assert_int_equal(h_wait_redis_records(env, exp, N_ORDERS, PARTS, 180000), 0);
    h_out_report recs;
    assert_int_equal(
        h_check_records_topic(env, "confirmd.records", exp, N_ORDERS, 60000, &recs), 0);
    assert_int_equal(recs.distinct, N_ORDERS);
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    int code = h_worker_wait_exit(env, w, 180000);
    const char *log = h_worker_log_path(env, 0);
    printf("valgrind: worker exit code %d after %lld ms; %d leak summary line(s), "
           "%d \"ERROR SUMMARY: 0 errors\" line(s)\n",
           code, (long long)(h_now_ms() - t0), h_file_count(log, "LEAK SUMMARY"),
           h_file_count(log, "ERROR SUMMARY: 0 errors"));
    if (code != 0) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "tail -n 80 %s", log);
        if (system(cmd) != 0)
            printf("(no log)\n");
    }
    assert_int_equal(code, 0);
    assert_int_equal(h_file_count(log, "ERROR SUMMARY: 0 errors"), 1);
    for (int i = 0; i < N_ORDERS; i++) {
        h_expect_clear(&exp[i]);
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&ev[i][k]);
    }
    h_env_destroy(env);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_under_valgrind),
    };
    if (argc != 3 || access(argv[1], X_OK) != 0 || access(argv[2], X_OK) != 0) {
        printf("vg_worker: valgrind or a plain (non-ASan) confirmd is missing: skipped\n");
        return 77;
    }
    valgrind_bin = argv[1];
    confirmd_bin = argv[2];
    return cmocka_run_group_tests(tests, NULL, NULL);
}

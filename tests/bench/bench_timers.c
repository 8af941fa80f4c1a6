/*
 * Timer lateness under load: Redis holds OPEN open work orders (AAA, accepted, not yet
 * contacted), each with its durable SLA timer; SAMPLE of them are due within a few
 * seconds of wall-clock time, the rest far later. One worker on the system clock fires
 * them; the bench reads the alerts and prints how late each warning was against its
 * due instant (p50/p99/max), and the Redis memory the timers and states use. The alerts
 * are read with b_reader_open() (fetches wait 10 ms at most).
 *
 *   bench_timers [OPEN [SAMPLE]]      defaults: 100000 open, 2000 due soon
 *
 * Not a test: it measures. Run by scripts/bench.sh (also with 1000000).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "harness_events.h"

#define PARTITIONS 8

static long long redis_bytes(redisContext *rc, const char *pattern_fmt)
{
    long long total = 0;
    for (int p = 0; p < PARTITIONS; p++) {
        char key[64];
        snprintf(key, sizeof(key), pattern_fmt, p);
        redisReply *r = redisCommand(rc, "MEMORY USAGE %s SAMPLES 0", key);
        if (r && r->type == REDIS_REPLY_INTEGER)
            total += r->integer;
        freeReplyObject(r);
    }
    return total;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_timers [OPEN [SAMPLE]]");
        return 0;
    }
    int open = argc > 1 ? atoi(argv[1]) : 100000;
    int sample = argc > 2 ? atoi(argv[2]) : 2000;
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    if (sample > open)
        sample = open;

    h_env *env = h_env_new("bench-timers");
    if (!env || h_redis_start(env) || h_broker_start(env, NULL)) {
        fprintf(stderr, "bench: cannot start redis or the broker\n");
        return 1;
    }
    redisContext *rc = h_redis_connect(env);
    int64_t t_load = h_now_ms();
    /* Load first, then place the window after the worker's first assignment (~3 s). */
    int64_t est_load_ms = (int64_t)open / 40;
    int64_t window_start = b_wall_ms() + est_load_ms + 8000, window_ms = 10000;
    printf("loading %d open work orders with timers (%d due within %lld s)...\n", open,
           sample, (long long)(window_ms / 1000));
    if (b_timers_load(rc, &pol, PARTITIONS, open, sample, window_start, window_ms)) {
        fprintf(stderr, "bench: redis load failed\n");
        return 1;
    }
    printf("loaded in %.1f s\n", (h_now_ms() - t_load) / 1000.0);
    if (b_wall_ms() + 5000 > window_start) {
        fprintf(stderr, "bench: loading took too long for the window; use fewer orders\n");
        return 1;
    }
    long long timers_b = redis_bytes(rc, "cfd:{p%d}:timers");
    redisReply *r = redisCommand(rc, "INFO memory");
    long long used = 0;
    const char *p = r && r->str ? strstr(r->str, "used_memory:") : NULL;
    if (p)
        used = strtoll(p + strlen("used_memory:"), NULL, 10);
    freeReplyObject(r);

    const char *args[] = {getenv("CFD_BENCH_DEBUG") ? "worker.log_level=debug"
                                                    : "worker.log_level=warn",
                          NULL};
    pid_t w = h_worker_start(env, args);
    rd_kafka_t *c = b_reader_open(env, "confirmd.alerts");
    int64_t *late = calloc((size_t)sample, sizeof(int64_t));
    int n = 0;
    int64_t until = window_start + window_ms + 15000;
    while (n < sample && b_wall_ms() < until) {
        rd_kafka_message_t *m = b_reader_next(c, 200);
        if (!m)
            continue;
        int64_t lateness = b_warning_lateness(m, NULL);
        rd_kafka_message_destroy(m);
        if (lateness != INT64_MIN)
            late[n++] = lateness;
    }
    b_reader_close(c);
    if (n == 0) {
        fprintf(stderr, "bench: no alert arrived\n");
        return 1;
    }
    b_quantile(late, (size_t)n, 0.5); /* sorts */
    printf("open timers %d: %d warnings fired; lateness due -> alert consumed: "
           "p50 %lld ms, p99 %lld ms, max %lld ms\n",
           open, n, (long long)late[n / 2], (long long)late[(n * 99) / 100],
           (long long)late[n - 1]);
    printf("redis: timers %.1f MiB (%.0f B per timer), all data %.1f MiB\n",
           timers_b / 1048576.0, (double)timers_b / open, used / 1048576.0);
    printf("ROW\tSLA timer lateness p50\t%lld\tms\tdue -> alert read, %d open timers, %d "
           "due in %lld s\n",
           (long long)late[n / 2], open, sample, (long long)(window_ms / 1000));
    printf("ROW\tSLA timer lateness p99\t%lld\tms\t%d of %d warnings read\n",
           (long long)late[(n * 99) / 100], n, sample);
    printf("ROW\tredis bytes per timer\t%.0f\tB\tMEMORY USAGE of the timer zsets / %d\n",
           (double)timers_b / open, open);
    free(late);
    redisFree(rc);
    h_worker_kill(env, w, SIGTERM);
    h_worker_wait_exit(env, w, 20000);
    h_env_destroy(env);
    return n == sample ? 0 : 1;
}

/*
 * End-to-end throughput of one worker: a backlog of milestone events is loaded into
 * the embedded broker (or Apache Kafka: scripts/bench.sh --kafka), then one confirmd
 * worker applies it against a real
 * redis-server with AOF on (appendfsync everysec). Prints events/s from the first
 * applied batch to the last, the worker's peak memory and Redis' memory.
 *
 *   bench_pipeline [ORDERS [PARTITIONS]]      defaults: 20000 orders, 16 partitions
 *
 * Not a test: it asserts nothing about speed, it measures. Run by scripts/bench.sh.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_events.h"

#define STEPS 9

static const char *const payloads[STEPS] = {
    NULL, "\"accepted\":{}", "\"dispatched\":{\"contractor\":\"Acme\"}",
    "\"customer_contacted\":{}", "\"arrived_on_site\":{\"engineers\":[\"E1\"]}",
    "\"diagnosed\":{\"cause\":\"CAUSE_TRANSMISSION_LINE\"}",
    "\"service_restored\":{\"result\":\"RESULT_RESTORED\"}",
    "\"confirmation_signed\":{\"satisfaction\":5}", "\"closed\":{}"};

static uint8_t *event(int i, int k, size_t *len) {
    int64_t t = H_T0 + (int64_t)(i % 1000) * H_MIN + (int64_t)k * 7 * H_MIN;
    if (k == 0)
        return h_event_pb(len,
                          "{\"event_id\":\"B%d-0\",\"work_order\":\"WO-B%07d\","
                          "\"event_time_ms\":%lld,\"fault_report\":{\"customer\":"
                          "{\"tier\":\"TIER_AA\"},\"network\":{\"circuit_id\":\"C%d\"}}}",
                          i, i, (long long)t, i);
    return h_event_pb(len, "{\"event_id\":\"B%d-%d\",\"work_order\":\"WO-B%07d\","
                           "\"event_time_ms\":%lld,%s}",
                      i, k, i, (long long)t, payloads[k]);
}

/* @returns the sum over partitions of (applied offset + 1) of the events topic. */
static long long applied(redisContext *rc, int partitions) {
    long long sum = 0;
    for (int p = 0; p < partitions; p++) {
        redisReply *r = redisCommand(rc, "HGET cfd:{p%d}:meta off:confirmd.events", p);
        if (r && r->type == REDIS_REPLY_STRING)
            sum += strtoll(r->str, NULL, 10) + 1;
        freeReplyObject(r);
    }
    return sum;
}

static long status_kb(pid_t pid, const char *field) {
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = strtol(line + strlen(field) + 1, NULL, 10);
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    int orders = argc > 1 ? atoi(argv[1]) : 20000;
    int partitions = argc > 2 ? atoi(argv[2]) : 16;
    char topics[256];
    long long total = (long long)orders * STEPS;
    h_env *env = h_env_new("bench");

    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_pipeline [ORDERS [PARTITIONS]]");
        return 0;
    }
    snprintf(topics, sizeof(topics),
             "confirmd.events:%d,confirmd.records:%d,confirmd.alerts:4,confirmd.deadletter:4",
             partitions, partitions);
    if (!env || h_redis_start(env) || h_broker_start(env, topics)) {
        fprintf(stderr, "bench: cannot start redis or the broker\n");
        return 1;
    }
    printf("loading %lld events (%d work orders x %d milestones) into %d partitions...\n",
           total, orders, STEPS, partitions);
    int64_t t_load = h_now_ms();
    for (int k = 0; k < STEPS; k++) {
        for (int i = 0; i < orders; i++) {
            char key[32];
            size_t len;
            uint8_t *buf = event(i, k, &len);
            snprintf(key, sizeof(key), "WO-B%07d", i);
            h_out_msg m = {.key = key, .value = buf, .len = len};
            if (h_produce_async(env, "confirmd.events", &m)) {
                fprintf(stderr, "bench: produce failed\n");
                return 1;
            }
            free(buf);
        }
    }
    if (h_flush(env, 60000)) {
        fprintf(stderr, "bench: delivery failed\n");
        return 1;
    }
    printf("loaded in %.1f s\n", (h_now_ms() - t_load) / 1000.0);

    const char *args[] = {"worker.log_level=warn", NULL};
    pid_t w = h_worker_start(env, args);
    redisContext *rc = h_redis_connect(env);
    int64_t first = 0, last = 0, deadline = h_now_ms() + 600000;
    long long done = 0;
    long peak_kb = 0;
    while (h_now_ms() < deadline) {
        done = applied(rc, partitions);
        long kb = status_kb(w, "VmHWM:");
        if (kb > peak_kb)
            peak_kb = kb;
        if (done > 0 && !first)
            first = h_now_ms();
        if (done >= total) {
            last = h_now_ms();
            break;
        }
        usleep(20000);
    }
    if (!last) {
        fprintf(stderr, "bench: only %lld of %lld events applied in time\n", done, total);
        return 1;
    }
    redisReply *r = redisCommand(rc, "INFO memory");
    long long redis_mem = 0;
    const char *p = r && r->str ? strstr(r->str, "used_memory:") : NULL;
    if (p)
        redis_mem = strtoll(p + strlen("used_memory:"), NULL, 10);
    freeReplyObject(r);
    redisFree(rc);

    double secs = (last - first) / 1000.0;
    printf("applied %lld events in %.2f s: %.0f events/s (one worker, AOF everysec)\n", total,
           secs, secs > 0 ? total / secs : 0.0);
    printf("worker peak RSS %.1f MiB; redis used_memory %.1f MiB for %d work orders\n",
           peak_kb / 1024.0, redis_mem / 1048576.0, orders);
    h_worker_kill(env, w, SIGTERM);
    h_worker_wait_exit(env, w, 20000);
    h_env_destroy(env);
    return 0;
}

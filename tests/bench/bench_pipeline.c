/*
 * End-to-end throughput of one worker: the seeded workload of common.h (the same
 * bytes as bench_bare's: work orders with full milestone sequences, a tenth still
 * open, some late, out of order or delivered twice) is loaded into the embedded broker
 * (or Apache Kafka: scripts/bench.sh --kafka), then one confirmd worker applies the
 * backlog against a real redis-server with AOF on (appendfsync everysec).
 *
 *   bench_pipeline [ORDERS [PARTITIONS]]      defaults: 20000 orders, 16 partitions
 *
 * Prints events/s from the first applied batch to the last (every message counts,
 * duplicates included), the CPU time per event of the worker (from its start, so its
 * start and group join are included) and of redis-server, the worker's memory, and
 * Redis' bytes: per work order overall (INFO used_memory before and after), and per
 * state key of an open and of a completed order (MEMORY USAGE of a sample).
 *
 * Not a test: it asserts nothing about speed, it measures. Run by scripts/bench.sh.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define SAMPLE 200

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

/* @returns the mean MEMORY USAGE of the state keys of up to SAMPLE orders that are
 * (complete) or are not (!complete) complete, 0 when none was found. */
static double state_bytes(redisContext *rc, const b_workload *wl, int partitions,
                          bool complete) {
    long long sum = 0;
    int n = 0;
    for (int i = 0; i < wl->n_orders && n < SAMPLE; i++) {
        if ((wl->orders[i].n_events == H_ORDER_EVENTS) != complete)
            continue;
        for (int p = 0; p < partitions; p++) {
            redisReply *r = redisCommand(rc, "MEMORY USAGE cfd:{p%d}:wo:%s SAMPLES 0", p,
                                         wl->orders[i].ev[0].wo);
            bool found = r && r->type == REDIS_REPLY_INTEGER;
            if (found) {
                sum += r->integer;
                n++;
            }
            freeReplyObject(r);
            if (found)
                break;
        }
    }
    return n ? (double)sum / n : 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_pipeline [ORDERS [PARTITIONS]]");
        return 0;
    }
    int orders = argc > 1 ? atoi(argv[1]) : 20000;
    int partitions = argc > 2 ? atoi(argv[2]) : 16;
    char topics[256];
    b_workload *wl = b_workload_new(orders, H_WL_T0, 60000, 14);
    h_env *env = h_env_new("bench");

    snprintf(topics, sizeof(topics),
             "confirmd.events:%d,confirmd.records:%d,confirmd.alerts:4,confirmd.deadletter:4",
             partitions, partitions);
    if (!wl || !env || h_redis_start(env) || h_broker_start(env, topics)) {
        fprintf(stderr, "bench: cannot start redis or the broker\n");
        return 1;
    }
    long long total = (long long)wl->n_msgs;
    printf("loading %lld events (%d work orders: %d complete, %d open; %d out of order, "
           "%d with an event twice) into %d partitions...\n",
           total, orders, wl->complete, wl->open, wl->reordered, wl->duplicated, partitions);
    int64_t t_load = h_now_ms();
    if (b_workload_load(env, "confirmd.events", wl, 0, wl->n_msgs)) {
        fprintf(stderr, "bench: delivery failed\n");
        return 1;
    }
    printf("loaded in %.1f s\n", (double)(h_now_ms() - t_load) / 1000.0);

    redisContext *rc = h_redis_connect(env);
    pid_t redis_pid = (pid_t)b_redis_info(rc, "process_id");
    long long mem0 = b_redis_info(rc, "used_memory");
    const char *args[] = {"worker.log_level=warn", NULL};
    int64_t rcpu0 = b_cpu_us(redis_pid);
    pid_t w = h_worker_start(env, args);
    int64_t first = 0, last = 0, deadline = h_now_ms() + 600000, wcpu = 0, rcpu = 0;
    long long done = 0;
    long start_kb = 0;
    while (h_now_ms() < deadline) {
        done = applied(rc, partitions);
        if (done > 0 && !first) {
            first = h_now_ms();
            start_kb = b_status_kb(w, "VmRSS");
        }
        if (done >= total) {
            last = h_now_ms();
            wcpu = b_cpu_us(w);
            rcpu = b_cpu_us(redis_pid) - rcpu0;
            break;
        }
        usleep(10000);
    }
    if (!last) {
        fprintf(stderr, "bench: only %lld of %lld events applied in time\n", done, total);
        return 1;
    }
    long end_kb = b_status_kb(w, "VmRSS"), peak_kb = b_status_kb(w, "VmHWM");
    long long mem1 = b_redis_info(rc, "used_memory");
    double open_b = state_bytes(rc, wl, partitions, false);
    double done_b = state_bytes(rc, wl, partitions, true);
    redisFree(rc);

    double secs = (double)(last - first) / 1000.0, rate = secs > 0 ? (double)total / secs : 0;
    printf("applied %lld events in %.2f s: %.0f events/s (one worker, AOF everysec)\n", total,
           secs, rate);
    printf("CPU per event: worker %.1f us, redis-server %.1f us\n", (double)wcpu / (double)total,
           (double)rcpu / (double)total);
    printf("worker RSS %.1f MiB at the first batch, %.1f MiB at the end, peak %.1f MiB; "
           "redis +%.1f MiB for %d work orders\n",
           start_kb / 1024.0, end_kb / 1024.0, peak_kb / 1024.0,
           (double)(mem1 - mem0) / 1048576.0, orders);
    b_row("confirmd throughput", rate, "events/s",
          "one worker, backlog of %lld events, %d orders, %d partitions", total, orders,
          partitions);
    b_row("confirmd CPU, worker", (double)wcpu / (double)total, "us/event",
          "from its start: start and group join included");
    b_row("confirmd CPU, redis", (double)rcpu / (double)total, "us/event", "redis-server");
    b_row("redis bytes per work order", (double)(mem1 - mem0) / orders, "B",
          "used_memory growth / orders: states, outbox, parked, timers, offsets");
    b_row("redis bytes per open record", open_b, "B", "MEMORY USAGE of a state key");
    b_row("redis bytes per completed record", done_b, "B", "MEMORY USAGE of a state key");
    b_row("worker RSS at the first batch", start_kb / 1024.0, "MiB", "VmRSS");
    b_row("worker peak RSS, backlog", peak_kb / 1024.0, "MiB", "VmHWM");
    h_worker_kill(env, w, SIGTERM);
    h_worker_wait_exit(env, w, 20000);
    h_env_destroy(env);
    b_workload_free(wl);
    return 0;
}

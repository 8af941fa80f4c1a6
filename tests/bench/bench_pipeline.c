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
 * state key of an open and of a completed order (MEMORY USAGE of a sample). Then
 * Redis loses its data (FLUSHALL) and a worker with worker.on_state_loss = replay
 * rebuilds every state from the events topic: records rebuilt per second.
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

/* @returns the mean MEMORY USAGE of the state keys of up to SAMPLE orders that are
 * (complete) or are not (!complete) complete, 0 when none was found. */
static double state_bytes(redisContext *rc, const b_workload *wl, int partitions,
                          bool complete)
{
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

typedef struct run {
    int64_t first, last; /* when the first and the last batch were applied */
    int64_t wcpu, rcpu;  /* CPU time of the worker (from its start) and of redis-server */
    long start_kb;       /* the worker's RSS at its first batch */
} run;

/* Starts a worker with extra args and waits (10 minutes at most) until it applied
 * total events. @returns its pid, or -1 (reason on stderr). */
static pid_t run_worker(h_env *env, redisContext *rc, pid_t redis_pid, int partitions,
                        long long total, const char *const *args, run *r)
{
    int64_t rcpu0 = b_cpu_us(redis_pid), deadline = h_now_ms() + 600000;
    long long done = 0;
    pid_t w = h_worker_start(env, args);
    memset(r, 0, sizeof(*r));
    while (w > 0 && h_now_ms() < deadline) {
        done = b_applied(rc, "confirmd.events", partitions);
        if (done > 0 && !r->first) {
            r->first = h_now_ms();
            r->start_kb = b_status_kb(w, "VmRSS");
        }
        if (done >= total) {
            r->last = h_now_ms();
            r->wcpu = b_cpu_us(w);
            r->rcpu = b_cpu_us(redis_pid) - rcpu0;
            return w;
        }
        usleep(10000);
    }
    fprintf(stderr, "bench: only %lld of %lld events applied in time\n", done, total);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_pipeline [ORDERS [PARTITIONS]]");
        return 0;
    }
    int orders = argc > 1 ? atoi(argv[1]) : 20000;
    int partitions = argc > 2 ? atoi(argv[2]) : 16;
    char topics[256];
    b_workload *wl = b_workload_new(orders, 0, H_WL_T0, 60000, 14);
    h_env *env = h_env_new("bench");

    snprintf(
        topics, sizeof(topics),
        "confirmd.events:%d,confirmd.records:%d,confirmd.alerts:4,confirmd.deadletter:4",
        partitions, partitions);
    if (!wl || !env || h_redis_start(env) || h_broker_start(env, topics)) {
        fprintf(stderr, "bench: cannot start redis or the broker\n");
        return 1;
    }
    long long total = (long long)wl->n_msgs;
    printf("loading %lld events (%d work orders: %d complete, %d open; %d out of order, "
           "%d with an event twice) into %d partitions...\n",
           total, orders, wl->complete, wl->open, wl->reordered, wl->duplicated,
           partitions);
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
    run r;
    pid_t w = run_worker(env, rc, redis_pid, partitions, total, args, &r);
    if (w < 0)
        return 1;
    long end_kb = b_status_kb(w, "VmRSS"), peak_kb = b_status_kb(w, "VmHWM");
    long long mem1 = b_redis_info(rc, "used_memory");
    double open_b = state_bytes(rc, wl, partitions, false);
    double done_b = state_bytes(rc, wl, partitions, true);

    int64_t wcpu = r.wcpu, rcpu = r.rcpu;
    long start_kb = r.start_kb;
    double secs = (double)(r.last - r.first) / 1000.0,
           rate = secs > 0 ? (double)total / secs : 0;
    printf("applied %lld events in %.2f s: %.0f events/s (one worker, AOF everysec)\n",
           total, secs, rate);
    printf("CPU per event: worker %.1f us, redis-server %.1f us\n",
           (double)wcpu / (double)total, (double)rcpu / (double)total);
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

    /* Replay: Redis loses everything; a worker told to rebuild reads the events topic
     * again from its start. */
    redisReply *fl = redisCommand(rc, "FLUSHALL");
    freeReplyObject(fl);
    const char *replay[] = {"worker.log_level=warn", "worker.on_state_loss=replay", NULL};
    w = run_worker(env, rc, redis_pid, partitions, total, replay, &r);
    if (w < 0)
        return 1;
    secs = (double)(r.last - r.first) / 1000.0;
    printf("replay: %d work orders rebuilt from %lld events in %.2f s\n", orders, total,
           secs);
    b_row("replay", secs > 0 ? orders / secs : 0, "records/s",
          "states rebuilt from the events topic after Redis lost them; %.0f events/s",
          secs > 0 ? (double)total / secs : 0);
    h_worker_kill(env, w, SIGTERM);
    h_worker_wait_exit(env, w, 20000);
    redisFree(rc);
    h_env_destroy(env);
    b_workload_free(wl);
    return 0;
}

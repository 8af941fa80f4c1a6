/*
 * End-to-end throughput of one worker: the seeded workload of common.h (the same
 * bytes as bench_bare's: work orders with full milestone sequences, a tenth still
 * open, some late, out of order or delivered twice) is loaded into the embedded broker
 * (or Apache Kafka: scripts/bench.sh --kafka), then one confirmd worker applies the
 * backlog against a real redis-server with AOF on (appendfsync everysec).
 *
 *   bench_pipeline [--cluster] [ORDERS [PARTITIONS]]   defaults: 20000 orders, 16
 *                                                      partitions
 *
 * --cluster: a Redis Cluster of 3 masters and 3 replicas instead (h_cluster_start(),
 * AOF as above), the worker with redis.cluster on and the default WAIT for one replica
 * after each commit; Redis' CPU is that of all six nodes, its memory the masters'.
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

#define NODES_MAX 8

/* The Redis side: the masters (one redis-server, or a cluster's) and every node's pid. */
typedef struct redis_side {
    redisContext *masters[NODES_MAX];
    int n_masters;
    pid_t pids[NODES_MAX];
    int n_pids;
} redis_side;

/* Connects to every master and reads every node's pid. @returns 0 or -1. */
static int redis_side_open(h_env *env, bool cluster, redis_side *rs)
{
    memset(rs, 0, sizeof(*rs));
    if ((rs->n_masters = h_redis_masters(env, rs->masters, NODES_MAX)) <= 0)
        return -1;
    for (int i = 0; i < (cluster ? h_cluster_size(env) : 1) && i < NODES_MAX; i++) {
        redisContext *c = cluster ? h_cluster_connect(env, i) : h_redis_connect(env);
        if (!c)
            return -1;
        rs->pids[rs->n_pids++] = (pid_t)b_redis_info(c, "process_id");
        redisFree(c);
    }
    return 0;
}

static void redis_side_close(redis_side *rs)
{
    for (int m = 0; m < rs->n_masters; m++)
        redisFree(rs->masters[m]);
    rs->n_masters = 0;
}

/* @returns the CPU time of every node, in microseconds. */
static int64_t redis_cpu_us(const redis_side *rs)
{
    int64_t sum = 0;
    for (int i = 0; i < rs->n_pids; i++)
        sum += b_cpu_us(rs->pids[i]);
    return sum;
}

/* @returns the sum of the masters' INFO field. */
static long long masters_info(const redis_side *rs, const char *field)
{
    long long sum = 0;
    for (int m = 0; m < rs->n_masters; m++)
        sum += b_redis_info(rs->masters[m], field);
    return sum;
}

/* @returns the events applied: each partition's offset counts on its master only (the
 * others answer MOVED). */
static long long applied(const redis_side *rs, int partitions)
{
    long long sum = 0;
    for (int m = 0; m < rs->n_masters; m++)
        sum += b_applied(rs->masters[m], "confirmd.events", partitions);
    return sum;
}

/* @returns the mean MEMORY USAGE of the state keys of up to SAMPLE orders that are
 * (complete) or are not (!complete) complete, 0 when none was found. */
static double state_bytes(const redis_side *rs, const b_workload *wl, int partitions,
                          bool complete)
{
    long long sum = 0;
    int n = 0;
    for (int i = 0; i < wl->n_orders && n < SAMPLE; i++) {
        if ((wl->orders[i].n_events == H_ORDER_EVENTS) != complete)
            continue;
        bool found = false;
        for (int p = 0; p < partitions && !found; p++) {
            for (int m = 0; m < rs->n_masters && !found; m++) {
                redisReply *r =
                    redisCommand(rs->masters[m], "MEMORY USAGE cfd:{p%d}:wo:%s SAMPLES 0",
                                 p, wl->orders[i].ev[0].wo);
                if ((found = r && r->type == REDIS_REPLY_INTEGER)) {
                    sum += r->integer;
                    n++;
                }
                freeReplyObject(r);
            }
        }
    }
    return n ? (double)sum / n : 0;
}

typedef struct run {
    int64_t first, last; /* when the first and the last batch were applied */
    int64_t wcpu, rcpu;  /* CPU time of the worker (from its start) and of Redis' nodes */
    long start_kb;       /* the worker's RSS at its first batch */
} run;

/* Starts a worker with extra args and waits (10 minutes at most) until it applied
 * total events. @returns its pid, or -1 (reason on stderr). */
static pid_t run_worker(h_env *env, const redis_side *rs, int partitions, long long total,
                        const char *const *args, run *r)
{
    int64_t rcpu0 = redis_cpu_us(rs), deadline = h_now_ms() + 600000;
    long long done = 0;
    pid_t w = b_worker_start(env, args);
    memset(r, 0, sizeof(*r));
    while (w > 0 && h_now_ms() < deadline) {
        done = applied(rs, partitions);
        if (done > 0 && !r->first) {
            r->first = h_now_ms();
            r->start_kb = b_status_kb(w, "VmRSS");
        }
        if (done >= total) {
            r->last = h_now_ms();
            r->wcpu = b_cpu_us(w);
            r->rcpu = redis_cpu_us(rs) - rcpu0;
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
        puts("usage: bench_pipeline [--cluster] [ORDERS [PARTITIONS]]\n"
             "CFD_BENCH_WRAPPER=\"valgrind --tool=callgrind\" runs the workers under that "
             "command.");
        return 0;
    }
    bool cluster = argc > 1 && strcmp(argv[1], "--cluster") == 0;
    if (cluster) {
        argc--;
        argv++;
    }
    int orders = argc > 1 ? atoi(argv[1]) : 20000;
    int partitions = argc > 2 ? atoi(argv[2]) : 16;
    const char *redis_kind = cluster ? "Redis Cluster 3+3" : "one redis-server";
    char topics[512];
    b_workload *wl = b_workload_new(orders, 0, H_WL_T0, 60000, 14);
    h_env *env = h_env_new("bench");

    b_worker_topics(topics, sizeof(topics), partitions);
    if (!wl || !env || (cluster ? h_cluster_start(env, 3, 1) : h_redis_start(env)) ||
        h_broker_start(env, topics)) {
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

    redis_side rs;
    if (redis_side_open(env, cluster, &rs)) {
        fprintf(stderr, "bench: redis unreachable\n");
        return 1;
    }
    long long mem0 = masters_info(&rs, "used_memory");
    const char *args[] = {"worker.log_level=warn", NULL};
    run r;
    pid_t w = run_worker(env, &rs, partitions, total, args, &r);
    if (w < 0)
        return 1;
    long end_kb = b_status_kb(w, "VmRSS"), peak_kb = b_status_kb(w, "VmHWM");
    long long mem1 = masters_info(&rs, "used_memory");
    double open_b = state_bytes(&rs, wl, partitions, false);
    double done_b = state_bytes(&rs, wl, partitions, true);

    int64_t wcpu = r.wcpu, rcpu = r.rcpu;
    long start_kb = r.start_kb;
    double secs = (double)(r.last - r.first) / 1000.0,
           rate = secs > 0 ? (double)total / secs : 0;
    printf("applied %lld events in %.2f s: %.0f events/s (one worker, %s, AOF everysec)\n",
           total, secs, rate, redis_kind);
    printf("CPU per event: worker %.1f us, redis-server%s %.1f us\n",
           (double)wcpu / (double)total, cluster ? "s (all nodes)" : "",
           (double)rcpu / (double)total);
    printf("worker RSS %.1f MiB at the first batch, %.1f MiB at the end, peak %.1f MiB; "
           "redis +%.1f MiB for %d work orders\n",
           start_kb / 1024.0, end_kb / 1024.0, peak_kb / 1024.0,
           (double)(mem1 - mem0) / 1048576.0, orders);
    b_row(cluster ? "confirmd throughput, cluster" : "confirmd throughput", rate,
          "events/s", "one worker, %s, backlog of %lld events, %d orders, %d partitions",
          redis_kind, total, orders, partitions);
    b_row("confirmd CPU, worker", (double)wcpu / (double)total, "us/event",
          "from its start: start and group join included");
    b_row("confirmd CPU, redis", (double)rcpu / (double)total, "us/event", "%s",
          redis_kind);
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
    for (int m = 0; m < rs.n_masters; m++) /* a replica follows its master */
        freeReplyObject(redisCommand(rs.masters[m], "FLUSHALL"));
    const char *replay[] = {"worker.log_level=warn", "worker.on_state_loss=replay", NULL};
    w = run_worker(env, &rs, partitions, total, replay, &r);
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
    if (b_broker_dropped(env, 2))
        return 1;
    redis_side_close(&rs);
    h_env_destroy(env);
    b_workload_free(wl);
    return 0;
}

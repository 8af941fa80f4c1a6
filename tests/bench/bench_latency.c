/*
 * Event -> output latency at a fixed offered load, and the worker's memory over that
 * time (a soak): the seeded workload of common.h (work orders of recent hours, a tenth
 * still open, some late, out of order or delivered twice) is produced at RATE events/s
 * for SECONDS while one worker applies it, after WARM_SECONDS at the same load that are
 * not measured (a broker just started serves its first seconds of a load slowly: on a
 * fresh Apache Kafka node, records whose events were sent in the first 2 s came up to
 * 0.8 s late, and set p99). For each order that completes, the latency is from the
 * moment the message that completed its set of events was handed to the producer (its
 * linger, 5 ms, included) to the moment its record is read from confirmd.records here
 * (b_reader_open(): fetches wait 10 ms at most), on one monotonic clock.
 *
 *   bench_latency [RATE [SECONDS [KEY=VALUE...]]]   defaults: 5000 events/s for 20 s;
 *                                                  KEY=VALUE: worker settings (--set)
 *
 * Prints p50/p99/max, the load actually offered, CPU per event of the worker and of
 * redis-server under that load, and the worker's RSS after a warm-up order and at the
 * end (scripts/bench.sh --soak 600 runs it for 10 minutes); and for each 5 s of the
 * run, p99 and the broker's CPU: the embedded broker (librdkafka's mock cluster) finds
 * a fetch's offset by walking the partition's log from its start, and returns one
 * produce request's messages per partition and fetch, so its CPU grows with its logs
 * (up to 5 MB a partition) and the latency with it. Not a test: it measures.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define PARTITIONS 16
#define CHUNK_SECONDS 30
#define WARM_SECONDS 3
#define SLICE_SECONDS 5 /* the run's latency and broker CPU are also shown per slice */

/* The workload is built CHUNK_SECONDS of load at a time (a 10-minute soak's would not
 * fit in memory at once); building one pauses the feed briefly, and the load catches
 * up. Orders are numbered across chunks. */
typedef struct feed {
    b_workload *wl;   /* the chunk being sent */
    size_t at;        /* its next message */
    int base;         /* the number of its first order */
    int per_chunk;    /* orders per chunk */
    int64_t *sent_at; /* per order: when its completing message was sent, -1 once read */
    int64_t *lat;     /* latencies measured */
    int64_t *lat_at;  /* when each was sent, from the start of the measure */
    int cap;          /* orders sent_at and lat hold */
} feed;

static int feed_next(feed *f, int64_t t0, int64_t span)
{
    if (f->wl)
        f->base += f->wl->n_orders;
    b_workload_free(f->wl);
    f->wl = b_workload_new(f->per_chunk, f->base, t0, span / f->per_chunk,
                           33 + (uint64_t)f->base);
    f->at = 0;
    int cap = f->base + f->per_chunk;
    int64_t *s = realloc(f->sent_at, (size_t)cap * sizeof(int64_t));
    int64_t *l = s ? realloc(f->lat, (size_t)cap * sizeof(int64_t)) : NULL;
    int64_t *la = l ? realloc(f->lat_at, (size_t)cap * sizeof(int64_t)) : NULL;
    if (s)
        f->sent_at = s;
    if (l)
        f->lat = l;
    if (!f->wl || !s || !l || !la)
        return -1;
    f->lat_at = la;
    memset(&f->sent_at[f->cap], 0, (size_t)(cap - f->cap) * sizeof(int64_t));
    f->cap = cap;
    return 0;
}

/* Waits up to timeout_ms for a record. @returns the index of the work order named in
 * its id "rec/WO-L-<n>/v<version>", -1 for another, -2 when none came. */
static int read_record(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_message_t *m = b_reader_next(rk, timeout_ms);
    rd_kafka_headers_t *hdrs;
    const void *id = NULL;
    size_t len = 0;
    char buf[128];
    int n = -1;
    if (!m)
        return -2;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, "id", &id, &len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        id && len < sizeof(buf)) {
        memcpy(buf, id, len);
        buf[len] = '\0';
        if (sscanf(buf, "rec/WO-L-%d/", &n) != 1)
            n = -1;
    }
    rd_kafka_message_destroy(m);
    return n;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_latency [RATE [SECONDS [KEY=VALUE...]]]");
        return 0;
    }
    int rate = argc > 1 ? atoi(argv[1]) : 5000;
    int seconds = argc > 2 ? atoi(argv[2]) : 20;
    if (rate <= 0 || seconds <= 0) {
        fprintf(stderr, "bench_latency: RATE and SECONDS must be positive\n");
        return 2;
    }
    int total_s = seconds + WARM_SECONDS;
    size_t n_msgs = (size_t)rate * (size_t)total_s, n_warm = 0;
    /* One chunk when it fits: building one pauses the feed (and this reader). */
    feed f = {.per_chunk =
                  rate * (total_s < CHUNK_SECONDS ? total_s : CHUNK_SECONDS) / 8 + 1};
    char topics[512];
    b_worker_topics(topics, sizeof(topics), PARTITIONS);
    h_env *env = h_env_new("bench-latency");
    int64_t span = 4 * 3600000LL; /* the orders' events happen in the last hours */
    h_event warm[H_ORDER_EVENTS];
    if (h_order_events("WO-WARM", 0, b_wall_ms() - span, warm) || !env ||
        h_redis_start(env) || h_broker_start(env, topics)) {
        fprintf(stderr, "bench_latency: cannot start redis or the broker\n");
        return 1;
    }
    const char **args = calloc((size_t)argc + 2, sizeof(*args));
    int n_args = 0;
    args[n_args++] = "worker.log_level=warn";
    for (int i = 3; i < argc; i++)
        args[n_args++] = argv[i];
    pid_t w = h_worker_start(env, args);
    rd_kafka_t *c = b_reader_open(env, "confirmd.records");
    if (!c) {
        fprintf(stderr, "bench_latency: cannot open the reader\n");
        return 1;
    }
    redisContext *rc = h_redis_connect(env);
    pid_t redis_pid = (pid_t)b_redis_info(rc, "process_id");

    /* Warm up: one whole order through the worker. */
    for (int k = 0; k < H_ORDER_EVENTS; k++) {
        h_out_msg m = {.key = warm[k].wo, .value = warm[k].buf, .len = warm[k].len};
        h_produce_async(env, "confirmd.events", &m);
    }
    h_flush(env, 30000);
    int64_t warm_until = h_now_ms() + 60000;
    while (read_record(c, 100) == -2 && h_now_ms() < warm_until)
        ;
    if (h_now_ms() >= warm_until) {
        fprintf(stderr, "bench_latency: the warm-up order got no record\n");
        return 1;
    }
    long start_kb = b_status_kb(w, "VmRSS");
    int64_t wcpu0 = 0, rcpu0 = 0, aofrw0 = 0;

    size_t n_lat = 0, sent = 0, expected = 0;
    /* The broker's CPU time at each second of the run (the embedded broker's grows with
     * its partitions' logs, see main()'s end). */
    pid_t broker_pid = h_broker_pid(env, 1);
    int64_t *bcpu = calloc((size_t)total_s + 2, sizeof(int64_t));
    int n_bcpu = 0;
    printf("offering %d events/s for %d s, the first %d s not measured (%zu events)...\n",
           rate, total_s, WARM_SECONDS, n_msgs);
    int64_t t0 = h_now_ms(), t_measure = 0, end = 0, deadline = 0;
    for (;;) {
        int64_t now = h_now_ms();
        size_t due = (size_t)((now - t0) * rate / 1000);
        if (n_bcpu <= total_s && now - t0 >= n_bcpu * 1000LL)
            bcpu[n_bcpu++] = b_cpu_us(broker_pid);
        if (!t_measure && now - t0 >= WARM_SECONDS * 1000) {
            t_measure = now;
            n_warm = sent;
            wcpu0 = b_cpu_us(w);
            rcpu0 = b_cpu_us(redis_pid);
            aofrw0 = b_redis_info(rc, "aof_rewrites");
        }
        for (; sent < n_msgs && sent < due; sent++) {
            if ((!f.wl || f.at == f.wl->n_msgs) &&
                feed_next(&f, b_wall_ms() - span, span)) {
                fprintf(stderr, "bench_latency: cannot build the workload\n");
                return 1;
            }
            const b_msg *bm = &f.wl->msgs[f.at++];
            h_out_msg m = {.key = bm->key, .value = bm->buf, .len = bm->len};
            if (h_produce_async(env, "confirmd.events", &m)) {
                fprintf(stderr, "bench_latency: produce failed\n");
                return 1;
            }
            if (bm->completes && t_measure) {
                f.sent_at[f.base + bm->order] = h_now_ms();
                expected++;
            }
        }
        if (sent == n_msgs && !end) {
            end = h_now_ms();
            deadline = end + 30000;
        }
        int got = 0, o;
        while ((o = read_record(c, 0)) != -2) {
            if (o >= 0 && o < f.cap && f.sent_at[o] > 0) {
                f.lat_at[n_lat] = f.sent_at[o] - t_measure;
                f.lat[n_lat++] = h_now_ms() - f.sent_at[o];
                f.sent_at[o] = -1; /* counted once */
            }
            got++;
        }
        if (end && (n_lat == expected || h_now_ms() > deadline))
            break;
        if (!got)
            usleep(500);
    }
    int64_t wcpu = b_cpu_us(w) - wcpu0, rcpu = b_cpu_us(redis_pid) - rcpu0;
    /* Redis rewrites its AOF (a fork, and the dataset written out) whenever the file
     * has grown by 64 MB since the last: every few seconds at this load. */
    int64_t aofrw = b_redis_info(rc, "aof_rewrites") - aofrw0;
    long end_kb = b_status_kb(w, "VmRSS");
    size_t n_measured = n_msgs - n_warm; /* what the CPU figures are per */
    double offered =
        (double)n_measured * 1000.0 / (double)(end - t_measure > 0 ? end - t_measure : 1);
    h_flush(env, 30000);
    /* Per slice of the measure: p99 of the records whose events were sent in it, and
     * the broker's CPU then. */
    int n_slices = seconds / SLICE_SECONDS;
    int64_t *slice = malloc((n_lat + 1) * sizeof(int64_t));
    double first_cpu = 0, last_cpu = 0;
    printf("by %d s of the run (events sent in it): latency p99 ms, broker CPU %%:",
           SLICE_SECONDS);
    for (int k = 0; k < n_slices && slice; k++) {
        size_t n = 0;
        for (size_t i = 0; i < n_lat; i++)
            if (f.lat_at[i] / 1000 / SLICE_SECONDS == k)
                slice[n++] = f.lat[i];
        int a = WARM_SECONDS + k * SLICE_SECONDS, z = a + SLICE_SECONDS;
        double cpu = z < n_bcpu && bcpu[a] >= 0
                         ? (double)(bcpu[z] - bcpu[a]) / (SLICE_SECONDS * 1e4)
                         : -1;
        if (k == 0)
            first_cpu = cpu;
        last_cpu = cpu;
        printf(" %" PRId64 " (%.0f)", b_quantile(slice, n, 0.99), cpu);
    }
    printf("\n");
    free(slice);
    free(bcpu);
    int64_t p50 = b_quantile(f.lat, n_lat, 0.50), p99 = b_quantile(f.lat, n_lat, 0.99);
    int64_t max = n_lat ? f.lat[n_lat - 1] : 0;
    printf("offered %.0f events/s for %.1f s; %zu of %zu completed orders' records read: "
           "latency p50 %" PRId64 " ms, p99 %" PRId64 " ms, max %" PRId64 " ms\n",
           offered, (double)(end - t_measure) / 1000.0, n_lat, expected, p50, p99, max);
    printf(
        "CPU per event under this load: worker %.1f us, redis-server %.1f us; worker RSS "
        "%.1f MiB after warm-up, %.1f MiB at the end\n",
        (double)wcpu / (double)n_measured, (double)rcpu / (double)n_measured,
        start_kb / 1024.0, end_kb / 1024.0);
    b_row("latency p50", (double)p50, "ms",
          "event completing an order -> its record read; %.0f events/s offered, after %d s",
          offered, WARM_SECONDS);
    b_row("latency p99", (double)p99, "ms",
          "%zu of %zu records; redis rewrote its AOF %lld times", n_lat, expected,
          (long long)aofrw);
    b_row("latency max", (double)max, "ms",
          "worker with its defaults (fetch.wait.max.ms 10 ms)");
    b_row("CPU at fixed load, worker", (double)wcpu / (double)n_measured, "us/event",
          "small batches at %.0f events/s", offered);
    b_row("CPU at fixed load, redis", (double)rcpu / (double)n_measured, "us/event",
          "redis-server");
    b_row("broker CPU, first 5 s", first_cpu, "%", "of a core, at the fixed load");
    b_row("broker CPU, last 5 s", last_cpu, "%",
          "of a core: the embedded broker's grows with its partitions' logs");
    b_row("worker RSS at start", start_kb / 1024.0, "MiB", "VmRSS after a warm-up order");
    b_row("worker RSS after soak", end_kb / 1024.0, "MiB",
          "VmRSS after %.0f s at %.0f events/s", (double)(end - t0) / 1000.0, offered);
    redisFree(rc);
    b_reader_close(c);
    h_worker_kill(env, w, SIGTERM);
    h_worker_wait_exit(env, w, 20000);
    h_env_destroy(env);
    free(args);
    free(f.sent_at);
    free(f.lat);
    free(f.lat_at);
    b_workload_free(f.wl);
    for (int k = 0; k < H_ORDER_EVENTS; k++)
        h_event_clear(&warm[k]);
    return n_lat == expected ? 0 : 1;
}

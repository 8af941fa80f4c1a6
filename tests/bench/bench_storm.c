/*
 * An alarm storm: the inventory holds OBJECTS network objects of OBJECTS / 100
 * customers (customer coordination on, as by default: a customer's alarms are decided
 * together, so its storm opens one work order); ALARMS alarm messages on them (each
 * object's alarm raised again and again, cleared every tenth time) wait in the alarms
 * topic when one worker starts. Meanwhile Redis holds 2 000 unrelated open work orders
 * (b_timers_load()) whose SLA warnings fall due while the storm is absorbed.
 *
 *   bench_storm [ALARMS [OBJECTS]]      defaults: 1000000 alarms on 10000 objects
 *
 * Prints the time to absorb the storm (from the first alarm applied until the alarms
 * topic and the events topic, where the alarm stage's notices and work-order events
 * go, are applied to their ends and stay so for a second), and how late the unrelated
 * warnings were (due -> alert read, p50/p99/max), with how many were read before the
 * storm was absorbed (the others fell due during it too, unless it was absorbed within
 * 3 s of the worker's start, but fired after it). Not a test: it measures. Run by
 * scripts/bench.sh. CFD_BENCH_WRAPPER as for bench_pipeline.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "confirmd/codec.h"

/* The embedded broker keeps at most 5 MB of a partition (librdkafka's mock cluster,
 * not configurable) and drops the oldest beyond: the storm and the notices it forwards
 * into the alarms topic (about twice its alarms) must fit. A power of two of partitions
 * with at most 8 000 alarms each does (128 for a million), at least 8. On Apache Kafka
 * the topics' retention holds them all anyway. */
#define MAX_PARTITIONS 128
static int partitions = 8;
#define PER_CUSTOMER 100
#define SAMPLE 2000

static int produce_json(h_env *env, const char *topic, const char *type, const char *key,
                        const char *json)
{
    char errstr[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_json_to_pb(type, json, &buf, &len, errstr, sizeof(errstr))) {
        fprintf(stderr, "bench_storm: %s: %s\n", type, errstr);
        return -1;
    }
    h_out_msg m = {.key = key, .value = buf, .len = len};
    int rc = h_produce_async(env, topic, &m);
    free(buf);
    return rc;
}

/* The unrelated warnings, read on a thread of their own: the main loop's progress
 * checks (the watermarks of every partition, one round trip each) take long on a
 * loaded broker, and an alert is timed when it arrives, not when the loop comes round
 * to read it. */
typedef struct warnings {
    rd_kafka_t *c;
    pthread_mutex_t mu;
    int64_t late[SAMPLE];
    int n, during; /* read; of those, before the storm was absorbed */
    bool absorbed; /* set by the main loop */
    atomic_bool stop;
} warnings;

static void *read_warnings(void *arg)
{
    warnings *wr = arg;
    while (!atomic_load(&wr->stop)) {
        rd_kafka_message_t *m = b_reader_next(wr->c, 20);
        if (!m)
            continue;
        int64_t lateness = b_warning_lateness(m, "WO-T");
        rd_kafka_message_destroy(m);
        pthread_mutex_lock(&wr->mu);
        if (lateness != INT64_MIN && wr->n < SAMPLE) {
            wr->late[wr->n++] = lateness;
            wr->during += !wr->absorbed;
        }
        pthread_mutex_unlock(&wr->mu);
    }
    return NULL;
}

/* @returns the sum of topic's high watermarks, -1 when they cannot be read. */
static long long ends(h_env *env, const char *topic)
{
    int64_t e[MAX_PARTITIONS];
    long long sum = 0;
    if (h_topic_ends(env, topic, e, partitions, 5000))
        return -1;
    for (int p = 0; p < partitions; p++)
        sum += e[p];
    return sum;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_storm [ALARMS [OBJECTS]]");
        return 0;
    }
    long alarms = argc > 1 ? atol(argv[1]) : 1000000;
    int objects = argc > 2 ? atoi(argv[2]) : 10000;
    if (alarms < 1 || objects < 1) {
        fprintf(stderr, "bench_storm: ALARMS and OBJECTS must be positive\n");
        return 2;
    }
    h_env *env = h_env_new("bench-storm");
    while (partitions < MAX_PARTITIONS && (long)partitions * 8000 < alarms)
        partitions *= 2;
    char topics[512];
    snprintf(topics, sizeof(topics),
             "confirmd.events:%d,confirmd.alarms:%d,confirmd.inventory:%d,"
             "confirmd.city-reports:%d,confirmd.records:4,confirmd.alerts:4,"
             "confirmd.deadletter:4,confirmd.incidents:4",
             partitions, partitions, partitions, partitions);
    if (!env || h_redis_start(env) || h_broker_start(env, topics)) {
        fprintf(stderr, "bench_storm: cannot start redis or the broker\n");
        return 1;
    }
    char json[512], obj[32];
    for (int o = 0; o < objects; o++) {
        snprintf(obj, sizeof(obj), "NE-%05d", o);
        snprintf(
            json, sizeof(json),
            "{\"object_id\":\"%s\",\"circuit_id\":\"CIR-%05d\",\"service\":\"internet\","
            "\"customer\":{\"tier\":\"TIER_A\",\"customer_id\":\"K-%04d\"}}",
            obj, o, o / PER_CUSTOMER);
        if (produce_json(env, "confirmd.inventory", "Circuit", obj, json))
            return 1;
    }
    printf("loading %ld alarms on %d objects of %d customers into %d partitions...\n",
           alarms, objects, (objects + PER_CUSTOMER - 1) / PER_CUSTOMER, partitions);
    int64_t t_load = h_now_ms(), storm_t0 = b_wall_ms() - 600000;
    for (long i = 0; i < alarms; i++) {
        int o = (int)(i % objects);
        long k = i / objects;
        snprintf(obj, sizeof(obj), "NE-%05d", o);
        snprintf(json, sizeof(json),
                 "{\"alarm_id\":\"SA-%05d\",\"network_object\":\"%s\",\"severity\":"
                 "\"ALARM_SEVERITY_CRITICAL\",\"cleared\":%s,\"event_time_ms\":%lld,"
                 "\"text\":\"LOS on line side\"}",
                 o, obj, k % 10 == 9 ? "true" : "false", (long long)(storm_t0 + k * 1000));
        if (produce_json(env, "confirmd.alarms", "Alarm", obj, json))
            return 1;
    }
    if (h_flush(env, 300000)) {
        fprintf(stderr, "bench_storm: loading failed\n");
        return 1;
    }
    printf("loaded in %.1f s\n", (double)(h_now_ms() - t_load) / 1000.0);

    /* The unrelated orders' warnings fall due from 3 s after the worker starts, over
     * 10 s: while the storm is absorbed, unless it is absorbed sooner. */
    redisContext *rc = h_redis_connect(env);
    cfd_policy pol;
    cfd_policy_defaults(&pol);
    int64_t window_start = b_wall_ms() + 3000, window_ms = 10000;
    static warnings wr;
    wr.c = b_reader_open(env, "confirmd.alerts");
    if (!wr.c ||
        b_timers_load(rc, &pol, partitions, SAMPLE, SAMPLE, window_start, window_ms)) {
        fprintf(stderr, "bench_storm: cannot load the timers\n");
        return 1;
    }
    pthread_mutex_init(&wr.mu, NULL);
    pthread_t reader;
    if (pthread_create(&reader, NULL, read_warnings, &wr)) {
        fprintf(stderr, "bench_storm: cannot start the alert reader\n");
        return 1;
    }
    const char *args[] = {"worker.log_level=warn", "worker.alarms_by_customer=true", NULL};
    pid_t w = b_worker_start(env, args);
    int64_t first = 0, done = 0, until = h_now_ms() + 900000;
    long long total = alarms + objects;
    int64_t window_end = window_start + window_ms + 15000; /* wall clock */
    for (;;) {
        pthread_mutex_lock(&wr.mu);
        wr.absorbed = done != 0;
        int n = wr.n;
        pthread_mutex_unlock(&wr.mu);
        if (h_now_ms() >= until || (done && h_now_ms() >= done + 1000 &&
                                    (n >= SAMPLE || b_wall_ms() >= window_end)))
            break;
        usleep(50 * 1000);
        if (!h_worker_alive(env, w)) {
            fprintf(stderr,
                    "bench_storm: the worker exited before the storm was absorbed "
                    "(its log is in the test directory: CFD_KEEP_TMP=1 keeps it)\n");
            return 1;
        }
        long long a = b_applied(rc, "confirmd.alarms", partitions) +
                      b_applied(rc, "confirmd.inventory", partitions);
        if (a > objects && !first)
            first = h_now_ms();
        bool caught_up =
            a >= total && a >= ends(env, "confirmd.alarms") + objects &&
            b_applied(rc, "confirmd.events", partitions) >= ends(env, "confirmd.events");
        if (caught_up && !done)
            done = h_now_ms();
        else if (!caught_up && done && h_now_ms() < done + 1000)
            done = 0; /* more notices came: not absorbed yet */
    }
    atomic_store(&wr.stop, true);
    pthread_join(reader, NULL);
    b_reader_close(wr.c);
    int64_t *late = wr.late;
    int n = wr.n, during = wr.during;
    if (!done || !first) {
        fprintf(stderr, "bench_storm: the storm was not absorbed in time\n");
        return 1;
    }
    /* Alarms the broker dropped before the worker read them were never absorbed. */
    if (b_broker_dropped(env, 1))
        return 1;
    redisReply *r = redisCommand(rc, "KEYS cfd:*:wo:ALM-*");
    long orders = r && r->type == REDIS_REPLY_ARRAY ? (long)r->elements : -1;
    freeReplyObject(r);
    redisFree(rc);
    int64_t p50 = b_quantile(late, (size_t)n, 0.5), p99 = b_quantile(late, (size_t)n, 0.99);
    int64_t max = n ? late[n - 1] : 0;
    double secs = (double)(done - first) / 1000.0;
    printf(
        "storm of %ld alarms absorbed in %.1f s (%.0f alarms/s), %ld work orders opened; "
        "unrelated warnings: %d read (%d before it was absorbed), lateness p50 %" PRId64
        " ms, p99 %" PRId64 " ms, max %" PRId64 " ms\n",
        alarms, secs, secs > 0 ? (double)alarms / secs : 0.0, orders, n, during, p50, p99,
        max);
    b_row("alarm storm absorbed", secs, "s",
          "%ld alarms on %d objects, %d partitions, customer coordination on; %ld orders "
          "opened",
          alarms, objects, partitions, orders);
    b_row("SLA lateness in the storm p50", (double)p50, "ms",
          "unrelated warnings; %d of %d read before it was absorbed", during, n);
    b_row("SLA lateness in the storm p99", (double)p99, "ms", "max %" PRId64 " ms", max);
    h_worker_kill(env, w, SIGTERM);
    h_worker_wait_exit(env, w, 20000);
    h_env_destroy(env);
    return n == SAMPLE ? 0 : 1;
}

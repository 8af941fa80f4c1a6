/*
 * The bare pipe: the ceiling of this machine with these parts. The same workload bytes
 * as bench_pipeline go through librdkafka and hiredis with none of confirmd's logic:
 * a consumer in a group polls up to 500 messages (the worker's batch size), groups
 * them by partition, stores each partition's batch with one EVALSHA of a small Lua
 * script (each message under its work order's key, and the partition's offset), all
 * partitions' calls pipelined in one round trip; then produces one output per message
 * with the idempotent producer (confirmd's producer settings: acks all, one request
 * in flight) and commits a poll's offsets once all its outputs are delivered.
 * Redis is the harness's (AOF, appendfsync everysec), the broker the harness's too.
 *
 *   bench_bare [ORDERS [PARTITIONS]]      defaults: 20000 orders, 16 partitions
 *
 * Prints messages/s from the first message consumed to the last batch stored (as
 * bench_pipeline counts from its first to its last batch applied; the time to the last
 * commit is printed too), and the CPU time per message of this process (its clients'
 * threads included) and of redis-server, to the last commit. Not a test: it measures.
 * Run by scripts/bench.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "common.h"

#define IN_TOPIC "confirmd.events"
#define OUT_TOPIC "confirmd.records"
#define POLL_MAX 500
#define MAX_PARTS 64
#define RING 64

static const char script[] = "for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end\n"
                             "redis.call('HSET', KEYS[1], 'off', ARGV[1])\n"
                             "return #KEYS - 1\n";

/* The outputs of one poll and the offsets to commit once they are all delivered. */
typedef struct group {
    long pending;
    int64_t next[MAX_PARTS]; /* next offset to consume per partition; -1: none */
} group;

typedef struct pipe_state {
    group ring[RING];
    int head, tail; /* groups in use: [tail, head) modulo RING */
    long delivered, failed;
} pipe_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pipe_state *ps = opaque;
    group *g = m->_private;
    (void)rk;
    if (m->err) {
        ps->failed++;
        fprintf(stderr, "bench_bare: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
    ps->delivered++;
    if (g)
        g->pending--;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *const *kv, void *opaque)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (; kv[0]; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench_bare: %s\n", errstr);
            exit(1);
        }
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "bench_bare: %s\n", errstr);
        exit(1);
    }
    return rk;
}

/* Commits the offsets of every leading group whose outputs were all delivered. */
static void commit_delivered(rd_kafka_t *consumer, pipe_state *ps, bool sync)
{
    int64_t next[MAX_PARTS];
    bool any = false;
    for (int p = 0; p < MAX_PARTS; p++)
        next[p] = -1;
    while (ps->tail != ps->head && ps->ring[ps->tail].pending == 0) {
        for (int p = 0; p < MAX_PARTS; p++)
            if (ps->ring[ps->tail].next[p] >= 0) {
                next[p] = ps->ring[ps->tail].next[p];
                any = true;
            }
        ps->tail = (ps->tail + 1) % RING;
    }
    if (!any)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int p = 0; p < MAX_PARTS; p++)
        if (next[p] >= 0)
            rd_kafka_topic_partition_list_add(l, IN_TOPIC, p)->offset = next[p];
    rd_kafka_resp_err_t err = rd_kafka_commit(consumer, l, sync ? 0 : 1);
    if (err)
        fprintf(stderr, "bench_bare: commit: %s\n", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Stores one poll's messages, one EVALSHA per partition, pipelined. */
static void store(redisContext *rc, const char *sha, rd_kafka_message_t **msgs, int n)
{
    static const char *argv[2 * POLL_MAX + 5]; /* EVALSHA sha n meta keys offset values */
    static size_t argl[2 * POLL_MAX + 5];
    static char keys[POLL_MAX][96], meta[MAX_PARTS][32], offs[MAX_PARTS][24];
    int calls = 0;
    for (int p = 0; p < MAX_PARTS; p++) {
        int m = 0, last = -1;
        for (int i = 0; i < n; i++)
            m += msgs[i]->partition == p;
        if (!m)
            continue;
        /* EVALSHA sha numkeys meta key... offset value... */
        int a = 0, kbase = 4, vbase = 4 + m + 1;
        argv[0] = "EVALSHA";
        argv[1] = sha;
        char nk[16];
        snprintf(nk, sizeof(nk), "%d", m + 1);
        argv[2] = nk;
        snprintf(meta[p], sizeof(meta[p]), "bare:{p%d}:meta", p);
        argv[3] = meta[p];
        for (int i = 0; i < n; i++) {
            if (msgs[i]->partition != p)
                continue;
            snprintf(keys[i], sizeof(keys[i]), "bare:{p%d}:wo:%.*s", p,
                     (int)msgs[i]->key_len, (const char *)msgs[i]->key);
            argv[kbase + a] = keys[i];
            argv[vbase + a] = msgs[i]->payload;
            argl[vbase + a] = msgs[i]->len;
            a++;
            last = i;
        }
        snprintf(offs[p], sizeof(offs[p]), "%" PRId64, msgs[last]->offset);
        argv[kbase + m] = offs[p];
        for (int k = 0; k < vbase; k++)
            argl[k] = strlen(argv[k]);
        redisAppendCommandArgv(rc, vbase + m, argv, argl);
        calls++;
    }
    for (; calls; calls--) {
        redisReply *r = NULL;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK || !r ||
            r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "bench_bare: redis: %s\n", r ? r->str : rc->errstr);
            exit(1);
        }
        freeReplyObject(r);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_bare [ORDERS [PARTITIONS]]");
        return 0;
    }
    int orders = argc > 1 ? atoi(argv[1]) : 20000;
    int partitions = argc > 2 ? atoi(argv[2]) : 16;
    char topics[256], group_id[160];
    if (partitions < 1 || partitions > MAX_PARTS) {
        fprintf(stderr, "bench_bare: 1 to %d partitions\n", MAX_PARTS);
        return 2;
    }
    b_workload *wl = b_workload_new(orders, 0, H_WL_T0, 60000, 14);
    h_env *env = h_env_new("bench-bare");
    snprintf(topics, sizeof(topics), IN_TOPIC ":%d," OUT_TOPIC ":%d", partitions,
             partitions);
    if (!wl || !env || h_redis_start(env) || h_broker_start(env, topics)) {
        fprintf(stderr, "bench_bare: cannot start redis or the broker\n");
        return 1;
    }
    printf("loading %zu messages (%d work orders) into %d partitions...\n", wl->n_msgs,
           orders, partitions);
    if (b_workload_load(env, IN_TOPIC, wl, 0, wl->n_msgs)) {
        fprintf(stderr, "bench_bare: loading failed\n");
        return 1;
    }

    redisContext *rc = h_redis_connect(env);
    redisReply *r = redisCommand(rc, "SCRIPT LOAD %s", script);
    if (!r || r->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "bench_bare: SCRIPT LOAD failed\n");
        return 1;
    }
    char sha[48];
    snprintf(sha, sizeof(sha), "%s", r->str);
    freeReplyObject(r);
    pid_t redis_pid = (pid_t)b_redis_info(rc, "process_id");

    pipe_state *ps = calloc(1, sizeof(*ps));
    snprintf(group_id, sizeof(group_id), "%s-bare", h_worker_group(env));
    const char *pconf[] = {"bootstrap.servers",
                           h_bootstrap(env),
                           "enable.idempotence",
                           "true",
                           "acks",
                           "all",
                           "max.in.flight.requests.per.connection",
                           "1",
                           "linger.ms",
                           "5",
                           "batch.num.messages",
                           "10000",
                           NULL};
    const char *cconf[] = {"bootstrap.servers",
                           h_bootstrap(env),
                           "group.id",
                           group_id,
                           "auto.offset.reset",
                           "earliest",
                           "enable.auto.commit",
                           "false",
                           "enable.auto.offset.store",
                           "false",
                           "partition.assignment.strategy",
                           "range",
                           NULL};
    int64_t cpu0 = b_cpu_us(getpid()), rcpu0 = b_cpu_us(redis_pid);
    rd_kafka_t *prod = client(RD_KAFKA_PRODUCER, pconf, ps);
    /* The idempotent producer gets its producer id first (most of a second on the
     * embedded broker): one output before the pipe starts, as in a running service. */
    if (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(OUT_TOPIC), RD_KAFKA_V_VALUE("warm-up", 7),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ||
        rd_kafka_flush(prod, 30000) || ps->failed) {
        fprintf(stderr, "bench_bare: the producer is not ready\n");
        return 1;
    }
    rd_kafka_t *cons = client(RD_KAFKA_CONSUMER, cconf, ps);
    rd_kafka_poll_set_consumer(cons);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, IN_TOPIC, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(cons, sub);
    rd_kafka_topic_partition_list_destroy(sub);

    rd_kafka_message_t *msgs[POLL_MAX];
    long consumed = 0, total = (long)wl->n_msgs;
    int64_t first = 0, stored = 0, deadline = h_now_ms() + 600000;
    while ((consumed < total || ps->tail != ps->head) && h_now_ms() < deadline) {
        int n = 0;
        while (n < POLL_MAX) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, n ? 0 : 20);
            if (!m)
                break;
            if (m->err) {
                rd_kafka_message_destroy(m);
                continue;
            }
            msgs[n++] = m;
        }
        if (n) {
            if (!first)
                first = h_now_ms();
            while ((ps->head + 1) % RING == ps->tail) { /* every group in flight */
                rd_kafka_poll(prod, 5);
                commit_delivered(cons, ps, false);
            }
            group *g = &ps->ring[ps->head];
            g->pending = n;
            for (int p = 0; p < MAX_PARTS; p++)
                g->next[p] = -1;
            ps->head = (ps->head + 1) % RING;
            store(rc, sha, msgs, n);
            stored = h_now_ms();
            for (int i = 0; i < n; i++) {
                rd_kafka_message_t *m = msgs[i];
                if (m->partition >= 0 && m->partition < MAX_PARTS)
                    g->next[m->partition] = m->offset + 1;
                while (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(OUT_TOPIC),
                                         RD_KAFKA_V_KEY(m->key, m->key_len),
                                         RD_KAFKA_V_VALUE(m->payload, m->len),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_OPAQUE(g),
                                         RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    rd_kafka_poll(prod, 5);
                rd_kafka_message_destroy(m);
            }
            consumed += n;
        }
        rd_kafka_poll(prod, 0);
        commit_delivered(cons, ps, consumed == total && ps->tail != ps->head);
    }
    int64_t committed = h_now_ms();
    int64_t cpu = b_cpu_us(getpid()) - cpu0, rcpu = b_cpu_us(redis_pid) - rcpu0;
    if (consumed < total || ps->failed) {
        fprintf(stderr, "bench_bare: %ld of %ld messages piped, %ld deliveries failed\n",
                consumed, total, ps->failed);
        return 1;
    }
    double secs = (double)(stored - first) / 1000.0;
    double rate = secs > 0 ? (double)total / secs : 0;
    printf("bare pipe: %ld messages stored in %.2f s (%.2f s to the last commit): %.0f "
           "msgs/s; CPU per message: this process %.1f us, redis-server %.1f us\n",
           total, secs, (double)(committed - first) / 1000.0, rate,
           (double)cpu / (double)total, (double)rcpu / (double)total);
    b_row(
        "bare pipe throughput", rate, "msgs/s",
        "consume, 1 EVALSHA per partition batch, produce, commit after delivery; %ld msgs",
        total);
    b_row("bare pipe CPU, client", (double)cpu / (double)total, "us/msg",
          "this process, librdkafka threads included");
    b_row("bare pipe CPU, redis", (double)rcpu / (double)total, "us/msg", "redis-server");

    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    rd_kafka_flush(prod, 10000);
    rd_kafka_destroy(prod);
    free(ps);
    redisFree(rc);
    h_env_destroy(env);
    b_workload_free(wl);
    return 0;
}

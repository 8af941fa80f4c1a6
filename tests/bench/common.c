/*
 * What the benchmarks share; see common.h.
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/codec.h"
#include "confirmd/due.h"
#include "harness_events.h"

#define MAX_SEQ (H_ORDER_EVENTS + 1)
#define IN_FLIGHT 256

/* An order's delivery sequence: indices into its events. */
typedef struct seq {
    int at[MAX_SEQ];
    int n;
} seq;

static void seq_move(seq *s, int from, int to)
{
    int v = s->at[from];
    if (from < to)
        memmove(&s->at[from], &s->at[from + 1], (size_t)(to - from) * sizeof(int));
    else
        memmove(&s->at[to + 1], &s->at[to], (size_t)(from - to) * sizeof(int));
    s->at[to] = v;
}

/* Decides how order o reaches the topic (events: 0 report, 1 acceptance, 2 dispatch,
 * 3 contact, 4 arrival, 5 diagnosis, 6 restoration, 7 signature, 8 close). The
 * reorderings are those the chaos test proves leave the record unchanged. */
static void plan(b_workload *wl, b_order *o, seq *s, uint64_t *seed)
{
    unsigned r = (unsigned)(h_rand(seed) % 100);
    o->n_events = r < 10 ? 2 + (int)(h_rand(seed) % 6) : H_ORDER_EVENTS;
    s->n = o->n_events;
    for (int k = 0; k < s->n; k++)
        s->at[k] = k;
    if (o->n_events < H_ORDER_EVENTS) {
        wl->open++;
        return;
    }
    wl->complete++;
    r = (unsigned)(h_rand(seed) % 100);
    if (r < 8) {
        seq_move(s, 0, 1); /* the acceptance before the report: parked, then opened */
    } else if (r < 16) {
        int k = 1 + (int)(h_rand(seed) % 6), t = s->at[k];
        s->at[k] = s->at[k + 1];
        s->at[k + 1] = t;
    } else if (r < 22) {
        seq_move(s, 8, 6); /* the close before the restoration: parked for it */
    }
    wl->reordered += r < 22;
    if (h_rand(seed) % 100 < 8) { /* one event again, later */
        int from = (int)(h_rand(seed) % (uint64_t)s->n);
        int at = from + 1 + (int)(h_rand(seed) % (uint64_t)(s->n - from));
        memmove(&s->at[at + 1], &s->at[at], (size_t)(s->n - at) * sizeof(int));
        s->at[at] = s->at[from];
        s->n++;
        wl->duplicated++;
    }
}

b_workload *b_workload_new(int n, int first, int64_t t0, int64_t step_ms, uint64_t seed)
{
    b_workload *wl = calloc(1, sizeof(*wl));
    seq *seqs = calloc((size_t)(n > 0 ? n : 1), sizeof(seq));
    if (!wl || !seqs || n <= 0)
        goto fail;
    wl->n_orders = n;
    wl->orders = calloc((size_t)n, sizeof(b_order));
    wl->msgs = calloc((size_t)n * MAX_SEQ, sizeof(b_msg));
    if (!wl->orders || !wl->msgs)
        goto fail;
    for (int i = 0; i < n; i++) {
        char wo[32];
        snprintf(wo, sizeof(wo), "WO-L-%07d", first + i);
        if (h_order_events(wo, (unsigned)i, t0 + i * step_ms, wl->orders[i].ev))
            goto fail;
        plan(wl, &wl->orders[i], &seqs[i], &seed);
    }
    /* Interleave the orders in flight, each keeping its own sequence. */
    int live[IN_FLIGHT], next[IN_FLIGHT], nlive = 0, admitted = 0;
    unsigned sent[IN_FLIGHT];
    while (nlive || admitted < n) {
        while (nlive < IN_FLIGHT && admitted < n) {
            live[nlive] = admitted++;
            next[nlive] = 0;
            sent[nlive++] = 0;
        }
        int j = (int)(h_rand(&seed) % (uint64_t)nlive), i = live[j];
        b_order *o = &wl->orders[i];
        const h_event *e = &o->ev[seqs[i].at[next[j]]];
        unsigned before = sent[j];
        sent[j] |= 1u << seqs[i].at[next[j]];
        wl->msgs[wl->n_msgs++] =
            (b_msg){.key = e->wo,
                    .buf = e->buf,
                    .len = e->len,
                    .order = i,
                    .completes = o->n_events == H_ORDER_EVENTS && before != sent[j] &&
                                 sent[j] == (1u << H_ORDER_EVENTS) - 1};
        if (++next[j] == seqs[i].n) {
            live[j] = live[--nlive];
            next[j] = next[nlive];
            sent[j] = sent[nlive];
        }
    }
    free(seqs);
    return wl;
fail:
    fprintf(stderr, "bench: cannot build the workload\n");
    free(seqs);
    b_workload_free(wl);
    return NULL;
}

void b_workload_free(b_workload *wl)
{
    if (!wl)
        return;
    for (int i = 0; wl->orders && i < wl->n_orders; i++)
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&wl->orders[i].ev[k]);
    free(wl->orders);
    free(wl->msgs);
    free(wl);
}

int b_workload_load(h_env *env, const char *topic, const b_workload *wl, size_t from,
                    size_t to)
{
    for (size_t i = from; i < to && i < wl->n_msgs; i++) {
        h_out_msg m = {
            .key = wl->msgs[i].key, .value = wl->msgs[i].buf, .len = wl->msgs[i].len};
        if (h_produce_async(env, topic, &m))
            return -1;
    }
    return h_flush(env, 120000) == 0 ? 0 : -1;
}

int64_t b_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t b_cpu_us(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is field 3, utime
     * and stime are fields 14 and 15. */
    char *p = strrchr(buf, ')');
    unsigned long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                     &stime) != 2)
        return -1;
    return (int64_t)((utime + stime) * 1000000ULL /
                     (unsigned long long)sysconf(_SC_CLK_TCK));
}

long b_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t len = strlen(field);
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, len) == 0 && line[len] == ':')
            kb = strtol(line + len + 1, NULL, 10);
    fclose(f);
    return kb;
}

long long b_redis_info(redisContext *rc, const char *field)
{
    redisReply *r = redisCommand(rc, "INFO");
    long long v = -1;
    char needle[128];
    snprintf(needle, sizeof(needle), "\n%s:", field);
    const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, needle) : NULL;
    if (p)
        v = strtoll(p + strlen(needle), NULL, 10);
    freeReplyObject(r);
    return v;
}

/* An opened, accepted AAA order: its contact duty's 50 % warning is due at due_ms. */
static cfd_record *make_order(const cfd_policy *pol, int i, int64_t due_ms)
{
    char wo[32], e1[40], e2[40], errstr[128];
    cfd_apply_outcome out;
    /* Contact: 15 min from acceptance; 50 % is 7.5 min after it. */
    int64_t accepted = due_ms - 450000;
    snprintf(wo, sizeof(wo), "WO-T%07d", i);
    snprintf(e1, sizeof(e1), "%s-rep", wo);
    snprintf(e2, sizeof(e2), "%s-acc", wo);
    cfd_event rep = {.event_id = e1,
                     .work_order = wo,
                     .event_time_ms = accepted - 60000,
                     .kind = CFD_MS_REPORTED};
    rep.report.customer.tier = CFD_TIER_AAA;
    rep.report.circuit_id = "C-1";
    cfd_event acc = {.event_id = e2,
                     .work_order = wo,
                     .event_time_ms = accepted,
                     .kind = CFD_MS_ACCEPTED};
    cfd_record *rec = cfd_record_new();
    if (cfd_record_apply(rec, &rep, pol, &out, errstr, sizeof(errstr)) ||
        cfd_record_apply(rec, &acc, pol, &out, errstr, sizeof(errstr))) {
        fprintf(stderr, "bench: cannot build order %d: %s\n", i, errstr);
        exit(1);
    }
    return rec;
}

int b_timers_load(redisContext *rc, const cfd_policy *pol, int partitions, int open,
                  int sample, int64_t window_start, int64_t window_ms)
{
    int pending = 0;
    for (int i = 0; i < open; i++) {
        /* The sample is spread over the window; the rest are due in a day or more. */
        int64_t due = i < sample ? window_start + (int64_t)i * window_ms / sample
                                 : window_start + 86400000LL + i;
        cfd_record *rec = make_order(pol, i, due);
        uint8_t *buf = NULL;
        size_t len = 0;
        int p = i % partitions;
        cfd_codec_state_encode(rec, &buf, &len);
        redisAppendCommand(rc, "SET cfd:{p%d}:wo:%s %b", p, rec->work_order, buf, len);
        redisAppendCommand(rc, "ZADD cfd:{p%d}:timers %lld %s", p,
                           (long long)cfd_due_next(rec, pol), rec->work_order);
        pending += 2;
        free(buf);
        cfd_record_destroy(rec);
        if (pending >= 2000 || i == open - 1) {
            for (; pending; pending--) {
                redisReply *r = NULL;
                if (redisGetReply(rc, (void **)&r) != REDIS_OK)
                    return -1;
                freeReplyObject(r);
            }
        }
    }
    return 0;
}

int64_t b_warning_lateness(const rd_kafka_message_t *m, const char *prefix)
{
    char errstr[128];
    int64_t got = b_wall_ms(), late = INT64_MIN;
    char *json = cfd_pb_to_json("SlaAlert", m->payload, m->len, errstr, sizeof(errstr));
    json_object *o = json ? json_tokener_parse(json) : NULL;
    free(json);
    if (!o)
        return INT64_MIN;
    const char *kind = h_jstr(o, "kind"), *dl = h_jstr(o, "deadline_ms");
    const char *wo = h_jstr(o, "work_order");
    if (kind && strcmp(kind, "ALERT_KIND_WARNING") == 0 && dl &&
        (!prefix || (wo && strncmp(wo, prefix, strlen(prefix)) == 0)))
        /* The 50 % warning of a 15 min duty is due 7.5 min before the deadline;
         * lateness is measured from that instant (wall clock) to arrival here. */
        late = got - (strtoll(dl, NULL, 10) - 450000);
    json_object_put(o);
    return late;
}

int b_broker_dropped(h_env *env, int n)
{
    int resets = 0;
    for (int i = 0; i < n; i++) {
        int k = h_file_count(h_worker_log_path(env, i), "Offset out of range");
        resets += k > 0 ? k : 0;
    }
    if (resets)
        fprintf(stderr,
                "bench: the broker dropped input before the worker read it (%d offset "
                "resets in the workers' logs): the workload does not fit its retention\n",
                resets);
    return resets;
}

long long b_applied(redisContext *rc, const char *topic, int partitions)
{
    /* Pipelined, one round trip: the bench asks often and must cost Redis little of
     * what it measures. */
    long long sum = 0;
    for (int p = 0; p < partitions; p++)
        redisAppendCommand(rc, "HGET cfd:{p%d}:meta off:%s", p, topic);
    for (int p = 0; p < partitions; p++) {
        redisReply *r = NULL;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK)
            return -1;
        if (r->type == REDIS_REPLY_STRING)
            sum += strtoll(r->str, NULL, 10) + 1;
        freeReplyObject(r);
    }
    return sum;
}

rd_kafka_t *b_reader_open(h_env *env, const char *topic)
{
    static int readers;
    char errstr[256], group[160];
    snprintf(group, sizeof(group), "%s-reader-%d", h_worker_group(env), ++readers);
    const char *kv[] = {"bootstrap.servers",
                        h_bootstrap(env),
                        "group.id",
                        group,
                        "auto.offset.reset",
                        "earliest",
                        "enable.auto.commit",
                        "false",
                        "fetch.wait.max.ms",
                        "10",
                        NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (int i = 0; kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench: reader: %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "bench: reader: %s\n", errstr);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

rd_kafka_message_t *b_reader_next(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, timeout_ms);
    if (m && m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "bench: reader: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return NULL;
    }
    return m;
}

void b_reader_close(rd_kafka_t *rk)
{
    if (!rk)
        return;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void b_row(const char *measure, double value, const char *unit, const char *note_fmt, ...)
{
    char note[256];
    va_list ap;
    va_start(ap, note_fmt);
    vsnprintf(note, sizeof(note), note_fmt, ap);
    va_end(ap);
    if (value >= 100 || value <= -100)
        printf("ROW\t%s\t%.0f\t%s\t%s\n", measure, value, unit, note);
    else
        printf("ROW\t%s\t%.3g\t%s\t%s\n", measure, value, unit, note);
    fflush(stdout);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int64_t b_quantile(int64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    size_t i = (size_t)(q * (double)n);
    return v[i >= n ? n - 1 : i];
}

void b_worker_topics(char *buf, size_t n, int partitions)
{
    snprintf(buf, n,
             "confirmd.events:%d,confirmd.alarms:%d,confirmd.inventory:%d,"
             "confirmd.city-reports:%d,confirmd.records:%d,confirmd.alerts:4,"
             "confirmd.deadletter:4",
             partitions, partitions, partitions, partitions, partitions);
}

pid_t b_worker_start(h_env *env, const char *const *args)
{
    const char *wrapper = getenv("CFD_BENCH_WRAPPER");
    const char *words[32];
    char buf[1024];
    size_t n = 0;
    if (!wrapper || !*wrapper)
        return h_worker_start(env, args);
    snprintf(buf, sizeof(buf), "%s", wrapper);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n + 1 < 32;
         w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    words[n] = NULL;
    return h_worker_start_cmd(env, words, NULL, args);
}

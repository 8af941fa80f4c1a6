/*
 * The consumer: polling, handing each partition's messages to the app, rebalances,
 * seeks, committed offsets. See include/confirmd/consumer.h.
 */
#include "confirmd/consumer.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/clock.h"
#include "confirmd/log.h"

/* Kafka's committed offsets of held partitions are written at most this often: they
 * are a hint (Redis holds where each partition resumes), and a commit per poll, a few
 * milliseconds apart at a steady load, queued up at Apache Kafka's group coordinator
 * until the heartbeats behind them on its connection timed the session out.
 * Revocations commit at once. */
#define COMMIT_EVERY_MS 1000

/* The highest offset of one topic's partition that may be committed. */
typedef struct mark {
    int64_t offset; /* -1: none */
    bool held;      /* in the current assignment */
    bool dirty;     /* not committed yet */
} mark;

struct cfd_consumer {
    rd_kafka_t *rk;
    cfd_consumer_cbs cbs;
    volatile sig_atomic_t *stop;
    const char *mod;
    char **topics; /* subscribed, in the app's order */
    size_t n_topics;
    size_t cap;                /* messages per poll */
    rd_kafka_message_t **msgs; /* one poll's messages */
    cfd_msg *group;            /* one partition's of them */
    bool *done;                /* msgs[i] handed over already */
    mark *marks;               /* [partition * n_topics + topic index] */
    size_t n_marks;
    int64_t committed_mono; /* when held marks were last committed */
};

static size_t topic_index(const cfd_consumer *c, const char *topic)
{
    for (size_t t = 0; t < c->n_topics; t++)
        if (strcmp(c->topics[t], topic) == 0)
            return t;
    return SIZE_MAX;
}

static mark *mark_of(cfd_consumer *c, size_t t, int32_t part)
{
    if (part < 0 || t >= c->n_topics)
        return NULL;
    size_t i = (size_t)part * c->n_topics + t, had = c->n_marks;
    c->marks = cfd_xgrow(c->marks, &c->n_marks, i + 1, sizeof(mark));
    for (size_t k = had; k < c->n_marks; k++)
        c->marks[k].offset = -1;
    return &c->marks[i];
}

/* Commits the marks not committed yet: of the partitions being revoked (revoked),
 * else of those held. */
static void commit_marks(cfd_consumer *c, bool revoked)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t i = 0; i < c->n_marks; i++) {
        mark *m = &c->marks[i];
        if (!m->dirty || m->held == revoked || m->offset < 0)
            continue;
        if (!l)
            l = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(l, c->topics[i % c->n_topics],
                                          (int32_t)(i / c->n_topics))
            ->offset = m->offset + 1;
        m->dirty = false;
    }
    if (!l)
        return;
    /* Held: asynchronously, the loop goes on. Revoked: before they go (the next owner
     * reads it as the group's position). */
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, l, revoked ? 0 : 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cfd_warn(c->mod, "offset commit: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* parts as the app sees them (topic names borrowed from parts). */
static cfd_topic_part *parts_in(cfd_consumer *c, const rd_kafka_topic_partition_list_t *l)
{
    cfd_topic_part *v = cfd_xcalloc((size_t)l->cnt + 1, sizeof(*v));
    for (int i = 0; i < l->cnt; i++)
        v[i] = (cfd_topic_part){.topic = l->elems[i].topic,
                                .topic_index = topic_index(c, l->elems[i].topic),
                                .partition = l->elems[i].partition,
                                .offset = l->elems[i].offset};
    return v;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    cfd_consumer *c = opaque;
    cfd_topic_part *v = parts_in(c, parts);
    size_t n = (size_t)parts->cnt;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (c->cbs.assign(c->cbs.ctx, v, n) == 0) {
            for (size_t i = 0; i < n; i++) {
                parts->elems[i].offset = v[i].offset == CFD_OFFSET_COMMITTED
                                             ? RD_KAFKA_OFFSET_INVALID
                                             : v[i].offset;
                mark *m = mark_of(c, v[i].topic_index, v[i].partition);
                if (m)
                    *m = (mark){.offset = -1, .held = true};
            }
            rd_kafka_resp_err_t kerr = rd_kafka_assign(rk, parts);
            if (kerr)
                cfd_error(c->mod, "assign: %s", rd_kafka_err2str(kerr));
            c->cbs.assigned(c->cbs.ctx, v, n);
        }
        free(v);
        return;
    }
    c->cbs.revoke(c->cbs.ctx, v, n);
    for (size_t i = 0; i < n; i++) {
        mark *m = mark_of(c, v[i].topic_index, v[i].partition);
        if (m)
            m->held = false;
    }
    commit_marks(c, true); /* what was done before they go, while still a member */
    free(v);
    rd_kafka_assign(rk, NULL);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    cfd_consumer *c = opaque;
    (void)rk;
    cfd_kafka_report(c->cbs.error, c->cbs.ctx, err, reason);
}

static void consumer_conf(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
}

/* The topics are one partition space (partition N of each goes to one member, the
 * range assignor's way): refuses to start when the brokers report two of them with
 * different partition counts. A topic the brokers do not report yet (created on first
 * use), or metadata that does not come within 2 s, is not checked: a warning says so.
 * @returns true (errstr filled) when they differ. */
static bool partitions_differ(cfd_consumer *c, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 1, NULL, &md, 2000);
    if (err) {
        cfd_warn(c->mod,
                 "could not check that the input topics share one partition count: %s",
                 rd_kafka_err2str(err));
        return false;
    }
    const char *first = NULL;
    int first_n = 0;
    bool differ = false;
    for (size_t i = 0; i < c->n_topics && !differ; i++)
        for (int k = 0; k < md->topic_cnt; k++) {
            const struct rd_kafka_metadata_topic *t = &md->topics[k];
            if (strcmp(t->topic, c->topics[i]) != 0 || t->err || t->partition_cnt <= 0)
                continue;
            if (!first) {
                first = c->topics[i];
                first_n = t->partition_cnt;
            } else if (t->partition_cnt != first_n) {
                snprintf(errstr, errstr_size,
                         "the input topics must share one partition count (partition N of "
                         "each is one partition of the work): %s has %d, %s has %d "
                         "(confirmctl topics create makes them so)",
                         first, first_n, c->topics[i], t->partition_cnt);
                differ = true;
            }
        }
    rd_kafka_metadata_destroy(md);
    return differ;
}

cfd_consumer *cfd_consumer_new(const cfd_consumer_opts *opts, const cfd_consumer_cbs *cbs,
                               char *errstr, size_t errstr_size)
{
    cfd_consumer *c = cfd_xcalloc(1, sizeof(*c));

    c->cbs = *cbs;
    c->stop = opts->stop;
    c->mod = opts->log_module;
    c->cap = opts->max_messages ? opts->max_messages : 1;
    c->msgs = cfd_xcalloc(c->cap, sizeof(*c->msgs));
    c->topics = cfd_xcalloc(opts->n_topics + 1, sizeof(char *));
    for (size_t i = 0; i < opts->n_topics; i++)
        c->topics[c->n_topics++] = cfd_xstrdup(opts->topics[i]);
    c->group = cfd_xcalloc(c->cap, sizeof(*c->group));
    c->done = cfd_xcalloc(c->cap, sizeof(*c->done));
    if (!(c->rk = cfd_kafka_new(opts->kafka, CFD_KAFKA_CONSUMER, c, consumer_conf, errstr,
                                errstr_size)))
        goto fail;
    rd_kafka_poll_set_consumer(c->rk);
    if (partitions_differ(c, errstr, errstr_size))
        goto fail;
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)opts->n_topics);
    for (size_t i = 0; i < opts->n_topics; i++)
        rd_kafka_topic_partition_list_add(topics, opts->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        char names[512] = "";
        for (size_t i = 0, at = 0; i < opts->n_topics && at < sizeof(names); i++)
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? "," : "",
                                   opts->topics[i]);
        snprintf(errstr, errstr_size, "subscribe %s: %s", names, rd_kafka_err2str(err));
        goto fail;
    }
    return c;
fail:
    cfd_consumer_destroy(c);
    return NULL;
}

void cfd_consumer_destroy(cfd_consumer *c)
{
    if (!c)
        return;
    if (c->rk)
        rd_kafka_destroy(c->rk);
    for (size_t i = 0; i < c->n_topics; i++)
        free(c->topics[i]);
    free(c->topics);
    free(c->msgs);
    free(c->group);
    free(c->done);
    free(c->marks);
    free(c);
}

/* Hands the n messages of one poll to the app, one partition at a time. */
static cfd_err dispatch(cfd_consumer *c, size_t n)
{
    cfd_err err = CFD_OK;
    memset(c->done, 0, n * sizeof(*c->done));
    for (size_t i = 0; i < n && !err; i++) {
        if (c->done[i])
            continue;
        int32_t part = c->msgs[i]->partition;
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (c->done[j] || c->msgs[j]->partition != part)
                continue;
            rd_kafka_message_t *m = c->msgs[j];
            const char *topic = rd_kafka_topic_name(m->rkt);
            c->done[j] = true;
            c->group[k++] = (cfd_msg){.topic = topic,
                                      .topic_index = topic_index(c, topic),
                                      .partition = part,
                                      .offset = m->offset,
                                      .key = m->key,
                                      .key_len = m->key_len,
                                      .payload = m->payload,
                                      .len = m->len};
        }
        err = c->cbs.batch(c->cbs.ctx, part, c->group, k);
    }
    return err;
}

cfd_err cfd_consumer_poll(cfd_consumer *c, int timeout_ms)
{
    size_t n = 0;
    while (n < c->cap) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, n ? 0 : timeout_ms);
        if (!m)
            break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                cfd_warn(c->mod, "consume: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        c->msgs[n++] = m;
    }
    cfd_err err = dispatch(c, n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_message_destroy(c->msgs[i]);
    int64_t now = cfd_monotonic_ms();
    if (now - c->committed_mono >= COMMIT_EVERY_MS) {
        commit_marks(c, false);
        c->committed_mono = now;
    }
    return err;
}

int64_t cfd_consumer_behind(cfd_consumer *c, const char *topic, int32_t part,
                            int64_t applied)
{
    int64_t lo = -1, hi = -1;
    /* Until the first fetch response the cached high watermark is
     * RD_KAFKA_OFFSET_INVALID, not an error: that, too, is "nothing known yet". */
    if (rd_kafka_get_watermark_offsets(c->rk, topic, part, &lo, &hi) || hi < 0)
        return -1;
    return applied + 1 < hi ? hi - applied - 1 : 0;
}

int cfd_consumer_earliest(cfd_consumer *c, const char *topic, int32_t part, int64_t *lo,
                          char *errstr, size_t errstr_size)
{
    int64_t hi = -1;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(c->rk, topic, part, lo, &hi, 2000);
    if (!err)
        return 0;
    snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(err));
    return -1;
}

int cfd_consumer_seek(cfd_consumer *c, const char *topic, int32_t part, int64_t offset,
                      char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, part)->offset = offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 5000);
    /* A partition's own failure is in the list, not in e. */
    rd_kafka_resp_err_t perr = l->elems[0].err;
    if (!e && perr)
        snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(perr));
    else if (e)
        snprintf(errstr, errstr_size, "%s", rd_kafka_error_string(e));
    rd_kafka_topic_partition_list_destroy(l);
    if (!e)
        return perr ? -1 : 0;
    rd_kafka_error_destroy(e);
    return -1;
}

int cfd_consumer_committed(cfd_consumer *c, cfd_topic_part *parts, size_t n, char *errstr,
                           size_t errstr_size)
{
    rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, parts[i].topic, parts[i].partition);
    /* The coordinator may be moving or the broker failing requests for a while: ask
     * again with backoff before giving up. */
    for (int64_t backoff = 100; n && !*c->stop; backoff *= 2) {
        kerr = rd_kafka_committed(c->rk, l, 10000);
        if (!kerr || backoff > 6400)
            break;
        cfd_warn(c->mod,
                 "reading the group's committed offsets: %s; retrying in %" PRId64 " ms",
                 rd_kafka_err2str(kerr), backoff);
        cfd_sleep_ms(backoff);
    }
    for (size_t i = 0; !kerr && i < n; i++)
        parts[i].offset =
            l->elems[i].err || l->elems[i].offset < 0 ? -1 : l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    if (kerr)
        snprintf(errstr, errstr_size, "reading the group's committed offsets: %s",
                 rd_kafka_err2str(kerr));
    return kerr ? -1 : 0;
}

void cfd_consumer_done(cfd_consumer *c, size_t topic_index, int32_t part, int64_t offset)
{
    mark *m = mark_of(c, topic_index, part);
    if (m && m->held && offset > m->offset) {
        m->offset = offset;
        m->dirty = true;
    }
}

void cfd_consumer_close(cfd_consumer *c)
{
    rd_kafka_consumer_close(c->rk);
}

/*
 * The input topics read for a replay (confirmctl what-if and rebuild, confirmctl.h):
 * a consumer without a group (librdkafka's simple consumer), every partition started
 * by hand at an offset of its own and read up to the high watermark it had at the
 * start. It joins no group, commits
 * nothing and produces nothing, so the live worker, its group and its outputs never
 * see it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/config.h"
#include "confirmd/kafka.h"
#include "confirmctl.h"

#define CTL_INPUT_MAX_TOPICS 16
#define CTL_INPUT_IDLE_MS 30000 /* no message for this long before the end: give up */

rd_kafka_t *ctl_config_client(const cfd_config *cfg, rd_kafka_type_t type,
                              const char *const *set)
{
    char errstr[512];
    const cfd_kafka_opts kopts = cfd_config_kafka_opts(cfg);
    rd_kafka_conf_t *conf =
        cfd_kafka_conf_new(&kopts, CFD_KAFKA_ADMIN, errstr, sizeof errstr);
    rd_kafka_t *rk;

    if (!conf)
        goto fail;
    for (size_t i = 0; set && set[i]; i += 2)
        if (rd_kafka_conf_set(conf, set[i], set[i + 1], errstr, sizeof errstr)) {
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
    if ((rk = rd_kafka_new(type, conf, errstr, sizeof errstr)))
        return rk;
    rd_kafka_conf_destroy(conf); /* still ours on failure */
fail:
    fprintf(stderr, "confirmctl: %s\n", errstr);
    return NULL;
}

int ctl_topic_partitions(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int n = -1;

    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

/*
 * Adds every partition of topic that holds messages to parts, at the offset the brokers
 * give for from_ms (when they give one: some answer only for the ends), else at the
 * oldest retained; the high watermark goes in the element's opaque (as an intptr_t).
 * @returns 0 or -1 (said on stderr).
 */
static int ctl_input_add_topic(rd_kafka_t *rk, const char *topic, int64_t from_ms,
                               rd_kafka_topic_partition_list_t *parts)
{
    int np = ctl_topic_partitions(rk, topic);
    if (np < 0) {
        fprintf(stderr, "confirmctl: %s: no metadata from the brokers\n", topic);
        return -1;
    }
    for (int32_t p = 0; p < np; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (err) {
            fprintf(stderr, "confirmctl: %s[%d]: %s\n", topic, p, rd_kafka_err2str(err));
            return -1;
        }
        if (hi <= lo)
            continue;
        int64_t start = lo;
        if (from_ms > 0) {
            rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(q, topic, p)->offset = from_ms;
            if (!rd_kafka_offsets_for_times(rk, q, 10000) && !q->elems[0].err &&
                q->elems[0].offset > lo)
                start = q->elems[0].offset < hi ? q->elems[0].offset : hi;
            rd_kafka_topic_partition_list_destroy(q);
        }
        if (start >= hi)
            continue;
        rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(parts, topic, p);
        e->offset = start;
        e->opaque = (void *)(intptr_t)hi;
    }
    return 0;
}

/* @returns the element of parts for (topic, partition), or NULL. */
static rd_kafka_topic_partition_t *ctl_input_elem(rd_kafka_topic_partition_list_t *parts,
                                                  const char *topic, int32_t partition)
{
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition == partition &&
            strcmp(parts->elems[i].topic, topic) == 0)
            return &parts->elems[i];
    return NULL;
}

/* Consumes the assigned partitions until each reached its high watermark. */
static int ctl_input_consume(rd_kafka_queue_t *q, rd_kafka_topic_partition_list_t *parts,
                             int64_t from_ms, int64_t to_ms, ctl_input_fn fn, void *ctx,
                             ctl_input_stats *st)
{
    int left = parts->cnt;
    int64_t idle_since = ctl_mono_ms();

    while (left > 0) {
        if (ctl_stop) {
            fprintf(stderr, "confirmctl: interrupted\n");
            return -1;
        }
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 500);
        if (!m) {
            if (ctl_refused() || ctl_mono_ms() - idle_since > CTL_INPUT_IDLE_MS) {
                fprintf(stderr, "confirmctl: %d partitions not read to their end\n", left);
                return -1;
            }
            continue;
        }
        idle_since = ctl_mono_ms();
        if (m->err) {
            bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
            if (!eof)
                fprintf(stderr, "confirmctl: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (!eof)
                return -1;
            continue;
        }
        rd_kafka_topic_partition_t *e =
            ctl_input_elem(parts, rd_kafka_topic_name(m->rkt), m->partition);
        int64_t hi = e ? (int64_t)(intptr_t)e->opaque : 0;
        if (e && e->offset >= 0 && m->offset < hi) {
            rd_kafka_timestamp_type_t tstype;
            int64_t ts = rd_kafka_message_timestamp(m, &tstype);
            if ((from_ms > 0 && ts < from_ms) || (to_ms > 0 && ts >= to_ms)) {
                st->out_of_period++;
            } else {
                st->messages++;
                fn(m->payload, m->len, ctx);
            }
            if (m->offset + 1 >= hi) {
                e->offset = -1; /* done */
                left--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    return 0;
}

int ctl_input_read(const cfd_config *cfg, int64_t from_ms, int64_t to_ms, ctl_input_fn fn,
                   void *ctx, ctl_input_stats *st)
{
    /* No group.id: the simple consumer, partitions started one by one; nothing is
     * committed or stored. A start offset retention removed since it was read: from the
     * oldest left (the messages before it are gone either way). */
    static const char *const set[] = {"enable.auto.commit",
                                      "false",
                                      "enable.auto.offset.store",
                                      "false",
                                      "auto.offset.reset",
                                      "earliest",
                                      NULL};
    char *topics[CTL_INPUT_MAX_TOPICS];
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    rd_kafka_t *rk = ctl_config_client(cfg, RD_KAFKA_CONSUMER, set);
    rd_kafka_queue_t *q = rk ? rd_kafka_queue_new(rk) : NULL;
    rd_kafka_topic_t **rkts = NULL;
    size_t nt = cfd_kafka_topic_names(cfg->input_topics, topics, CTL_INPUT_MAX_TOPICS);
    int rc = -1, started = 0;

    memset(st, 0, sizeof(*st));
    if (nt > CTL_INPUT_MAX_TOPICS)
        nt = CTL_INPUT_MAX_TOPICS;
    if (!rk)
        goto out;
    for (size_t t = 0; t < nt; t++)
        if (ctl_input_add_topic(rk, topics[t], from_ms, parts))
            goto out;
    st->partitions = (uint32_t)parts->cnt;
    rkts = cfd_xcalloc((size_t)parts->cnt + 1, sizeof(*rkts));
    for (; started < parts->cnt; started++) {
        rd_kafka_topic_partition_t *e = &parts->elems[started];
        rkts[started] = rd_kafka_topic_new(rk, e->topic, NULL);
        if (rd_kafka_consume_start_queue(rkts[started], e->partition, e->offset, q)) {
            fprintf(stderr, "confirmctl: %s[%d]: %s\n", e->topic, (int)e->partition,
                    rd_kafka_err2str(rd_kafka_last_error()));
            rd_kafka_topic_destroy(rkts[started]);
            goto out;
        }
        e->offset = 0; /* from here on: the offset is "not done" */
    }
    if (ctl_input_consume(q, parts, from_ms, to_ms, fn, ctx, st))
        goto out;
    rc = 0;
out:
    for (int i = 0; i < started; i++) {
        rd_kafka_consume_stop(rkts[i], parts->elems[i].partition);
        rd_kafka_topic_destroy(rkts[i]);
    }
    free(rkts);
    for (size_t t = 0; t < nt; t++)
        free(topics[t]);
    rd_kafka_topic_partition_list_destroy(parts);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    return rc;
}

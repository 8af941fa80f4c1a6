/*
 * The producer: producing outputs, delivery reports, the retry queue, replacing what
 * is refused for good, and the per-partition batches whose delivery allows a commit.
 * See include/confirmd/producer.h.
 */
#include "confirmd/producer.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/clock.h"
#include "confirmd/log.h"

#define DR_MAX_TRIES 5
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000

/* A batch whose outputs are in flight. */
typedef struct pending_batch {
    uint64_t seq;
    size_t pending; /* outputs not yet delivered, +1 until the batch is closed */
    int64_t offs[CFD_PRODUCER_MAX_OFFSETS];
} pending_batch;

/* What the producer knows of one partition. */
typedef struct prod_part {
    bool held;
    uint32_t incarnation; /* of the claim: reports of earlier claims are ignored */
    pending_batch *fifo;
    size_t fifo_head, fifo_len, fifo_cap;
    uint64_t next_seq;
} prod_part;

/* Where one kind goes. */
typedef struct out_topic {
    int kind;
    rd_kafka_topic_t *rkt; /* NULL: no such output */
    char *type;            /* the "type" header, owned; NULL: none */
} out_topic;

/* Opaque of one produced output, freed by the delivery report. */
typedef struct dr_ctx {
    const out_topic *to; /* where it was last produced, borrowed from the producer */
    int32_t part;
    uint32_t incarnation;
    uint64_t seq; /* 0: a re-sent outbox entry, not tied to a batch */
    int tries;
    int refused; /* replacements that took its place so far (see replace_refused) */
    char id[];
} dr_ctx;

/* An output whose delivery failed for good (or that the producer refused): produced
 * again at due_ms while its partition stays with the same claim, so it is never left
 * waiting in the outbox for the next rebalance. */
typedef struct retry_msg {
    const out_topic *to; /* borrowed from the producer */
    void *key, *payload; /* owned copies */
    size_t key_len, len;
    dr_ctx *dc;     /* owned until produced again */
    int64_t due_ms; /* monotonic */
} retry_msg;

struct cfd_producer {
    rd_kafka_t *rk;
    cfd_producer_cbs cbs;
    out_topic *topics;
    size_t n_topics;
    const out_topic *deadletter; /* one of topics: where replacements go */
    out_topic stray; /* the dead-letter topic with no "type": where unknown kinds go */
    size_t n_offsets;
    volatile sig_atomic_t *stop;
    const char *mod;
    prod_part *parts;
    size_t n_parts;
    size_t undelivered; /* outputs given up at stop */
    retry_msg *retries; /* outputs to produce again later, see retry_msg */
    size_t n_retries, cap_retries;
};

static prod_part *part_get(cfd_producer *p, int32_t part)
{
    p->parts = cfd_xgrow(p->parts, &p->n_parts, (size_t)part + 1, sizeof(prod_part));
    return &p->parts[part];
}

static const out_topic *topic_of(const cfd_producer *p, int kind)
{
    for (size_t i = 0; i < p->n_topics; i++)
        if (p->topics[i].kind == kind)
            return &p->topics[i];
    return &p->stray;
}

/* Takes r (and what it owns) into the retry queue. */
static void push_retry(cfd_producer *p, const retry_msg *r)
{
    if (p->n_retries == p->cap_retries) {
        p->cap_retries = p->cap_retries ? p->cap_retries * 2 : 16;
        p->retries = cfd_xrealloc(p->retries, p->cap_retries * sizeof(retry_msg));
    }
    p->retries[p->n_retries++] = *r;
}

/* When dc's output is tried again: backing off with its failures. */
static int64_t retry_due(const dr_ctx *dc)
{
    int later = dc->tries - DR_MAX_TRIES; /* failures after the immediate ones */
    int shift = later < 0 ? 0 : later > 5 ? 5 : later;
    int64_t delay = (int64_t)RETRY_FIRST_MS << shift;
    return cfd_monotonic_ms() + (delay > RETRY_MAX_MS ? RETRY_MAX_MS : delay);
}

/* Queues a copy of an output for cfd_producer_retry. */
static void retry_later(cfd_producer *p, const out_topic *to, const void *key,
                        size_t key_len, const void *payload, size_t len, dr_ctx *dc)
{
    retry_msg r = {
        .to = to, .key_len = key_len, .len = len, .dc = dc, .due_ms = retry_due(dc)};
    r.key = key_len ? cfd_xmalloc(key_len) : NULL;
    if (key_len)
        memcpy(r.key, key, key_len);
    r.payload = cfd_xmalloc(len ? len : 1);
    memcpy(r.payload, payload, len);
    push_retry(p, &r);
}

/* Produces one output to `to` with its headers: "id", and "type" (the message's full
 * protobuf name) when the kind has one. */
static rd_kafka_resp_err_t produce_dc(cfd_producer *p, const out_topic *to, const void *key,
                                      size_t key_len, const void *payload, size_t len,
                                      dr_ctx *dc)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);
    rd_kafka_header_add(hdrs, "id", -1, dc->id, -1);
    if (to->type)
        rd_kafka_header_add(hdrs, "type", -1, to->type, -1);
    dc->to = to;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_RKT(to->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key_len ? key : NULL, key_len),
        RD_KAFKA_V_VALUE((void *)payload, len), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_OPAQUE(dc), RD_KAFKA_V_END);
    if (err) /* on success the message took the headers */
        rd_kafka_headers_destroy(hdrs);
    return err;
}

/* True for a refusal of the message itself that no retry can change: too large for
 * the producer's or the topic's limit, or a record the broker finds invalid. */
static bool refused_for_good(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

/*
 * Puts, in place of an output refused for good, what the app builds from it (a dead
 * letter) on the dead-letter topic under the output's id and key: its delivery takes
 * the output out of the outbox and lets its batch commit, so no partition waits for
 * ever. Should that be refused too, the second replacement carries no bytes of it; a
 * third refusal is retried like any other failed delivery. Takes dc.
 */
static void replace_refused(cfd_producer *p, const out_topic *to, const void *key,
                            size_t key_len, const void *payload, size_t len, dr_ctx *dc,
                            rd_kafka_resp_err_t why)
{
    char detail[512];
    snprintf(detail, sizeof(detail), "output %s to %s (%zu bytes) refused for good: %s",
             dc->id, rd_kafka_topic_name(to->rkt), len, rd_kafka_err2str(why));
    cfd_error(p->mod, "%s; a dead letter takes its place", detail);
    for (;;) {
        cfd_producer_refusal r = {.id = dc->id,
                                  .topic = rd_kafka_topic_name(to->rkt),
                                  .payload = payload,
                                  .len = len,
                                  .detail = detail,
                                  .bare = dc->refused > 0};
        uint8_t *buf = NULL;
        size_t blen = 0;
        dc->refused++;
        p->cbs.replace(p->cbs.ctx, &r, &buf, &blen);
        rd_kafka_resp_err_t err = produce_dc(p, p->deadletter, key, key_len, buf, blen, dc);
        if (err && refused_for_good(err) && dc->refused < 2) {
            free(buf);
            continue;
        }
        if (err)
            retry_later(p, p->deadletter, key, key_len, buf, blen, dc);
        free(buf);
        return;
    }
}

void cfd_producer_retry(cfd_producer *p)
{
    if (p->n_retries == 0)
        return;
    int64_t now = cfd_monotonic_ms();
    retry_msg *v = p->retries;
    size_t n = p->n_retries;
    p->retries = NULL;
    p->n_retries = p->cap_retries = 0;
    for (size_t i = 0; i < n; i++) {
        retry_msg *r = &v[i];
        prod_part *pp = part_get(p, r->dc->part);
        bool ours = pp->held && (r->dc->seq == 0 || pp->incarnation == r->dc->incarnation);
        if (!ours) {
            free(r->dc); /* the partition's next owner re-sends it from the outbox */
        } else if (r->due_ms > now) {
            push_retry(p, r);
            continue;
        } else {
            rd_kafka_resp_err_t err =
                produce_dc(p, r->to, r->key, r->key_len, r->payload, r->len, r->dc);
            if (err && refused_for_good(err) && r->dc->refused < 2) {
                replace_refused(p, r->to, r->key, r->key_len, r->payload, r->len, r->dc,
                                err);
            } else if (err) {
                r->dc->tries++;
                r->due_ms = retry_due(r->dc);
                cfd_warn(p->mod, "producing %s again: %s", r->dc->id,
                         rd_kafka_err2str(err));
                push_retry(p, r);
                continue;
            }
        }
        free(r->key);
        free(r->payload);
    }
    free(v);
}

/* @returns part's open batch seq, or NULL when it is not in flight under this claim. */
static pending_batch *batch_find(prod_part *pp, uint64_t seq)
{
    if (pp->fifo_len == 0)
        return NULL;
    uint64_t first = pp->fifo[pp->fifo_head].seq;
    if (seq < first || seq - first >= pp->fifo_len)
        return NULL;
    return &pp->fifo[(pp->fifo_head + (seq - first)) % pp->fifo_cap];
}

/* Marks one output of batch seq delivered and hands back the offsets of the batches
 * now delivered, in order. */
static void batch_delivered(cfd_producer *p, int32_t part, prod_part *pp, uint64_t seq)
{
    pending_batch *b = batch_find(pp, seq);
    if (!b)
        return;
    if (b->pending)
        b->pending--;
    while (pp->fifo_len && pp->fifo[pp->fifo_head].pending == 0) {
        p->cbs.batch_delivered(p->cbs.ctx, part, pp->fifo[pp->fifo_head].offs);
        pp->fifo_head = (pp->fifo_head + 1) % pp->fifo_cap;
        pp->fifo_len--;
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    cfd_producer *p = opaque;
    dr_ctx *dc = m->_private;
    (void)rk;
    if (m->err && refused_for_good(m->err) && dc->refused < 2 && !*p->stop) {
        replace_refused(p, dc->to, m->key, m->key_len, m->payload, m->len, dc, m->err);
        return;
    }
    if (m->err) {
        if (++dc->tries < DR_MAX_TRIES && !*p->stop) {
            cfd_warn(p->mod, "delivery of %s failed (%s); producing again", dc->id,
                     rd_kafka_err2str(m->err));
            if (produce_dc(p, dc->to, m->key, m->key_len, m->payload, m->len, dc) == 0)
                return;
        }
        /* Still in the outbox, the batch uncommitted in Kafka: produced again in a
         * while (or, after a rebalance, by the partition's next owner). */
        if (*p->stop) {
            free(dc);
            p->undelivered++;
            return;
        }
        cfd_error(p->mod,
                  "delivery of %s failed %d times: %s (kept in the outbox; trying "
                  "again later)",
                  dc->id, dc->tries, rd_kafka_err2str(m->err));
        retry_later(p, dc->to, m->key, m->key_len, m->payload, m->len, dc);
        return;
    }
    int64_t latency_us = rd_kafka_message_latency(m);
    p->cbs.delivered(p->cbs.ctx, dc->part, dc->id,
                     latency_us < 0 ? -1 : (double)latency_us / 1e6);
    prod_part *pp = part_get(p, dc->part);
    if (dc->seq && pp->held && pp->incarnation == dc->incarnation)
        batch_delivered(p, dc->part, pp, dc->seq);
    free(dc);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    cfd_producer *p = opaque;
    (void)rk;
    cfd_kafka_report(p->cbs.error, p->cbs.ctx, err, reason);
}

void cfd_producer_send(cfd_producer *p, int32_t part, uint64_t batch, const char *id,
                       int kind, const void *key, size_t key_len, const void *payload,
                       size_t len)
{
    prod_part *pp = part_get(p, part);
    size_t idlen = strlen(id);
    dr_ctx *dc = cfd_xmalloc(sizeof(*dc) + idlen + 1);
    dc->part = part;
    dc->incarnation = batch ? pp->incarnation : 0;
    dc->seq = batch;
    dc->tries = 0;
    dc->refused = 0;
    memcpy(dc->id, id, idlen + 1);
    pending_batch *b = batch ? batch_find(pp, batch) : NULL;
    if (b)
        b->pending++;
    const out_topic *to = topic_of(p, kind);
    for (;;) {
        rd_kafka_resp_err_t err = produce_dc(p, to, key, key_len, payload, len, dc);
        if (!err)
            return;
        if (refused_for_good(err)) {
            replace_refused(p, to, key, key_len, payload, len, dc, err);
            return;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* It stays in the outbox, and is produced again in a while. */
            cfd_error(p->mod, "produce %s: %s; trying again later", id,
                      rd_kafka_err2str(err));
            retry_later(p, to, key, key_len, payload, len, dc);
            return;
        }
        rd_kafka_poll(p->rk, 10); /* let deliveries drain the queue */
    }
}

uint64_t cfd_producer_batch_begin(cfd_producer *p, int32_t part, const int64_t *offs)
{
    prod_part *pp = part_get(p, part);
    if (pp->fifo_len == pp->fifo_cap) {
        size_t cap = pp->fifo_cap ? pp->fifo_cap * 2 : 16;
        pending_batch *f = cfd_xmalloc(cap * sizeof(*f));
        for (size_t i = 0; i < pp->fifo_len; i++)
            f[i] = pp->fifo[(pp->fifo_head + i) % pp->fifo_cap];
        free(pp->fifo);
        pp->fifo = f;
        pp->fifo_head = 0;
        pp->fifo_cap = cap;
    }
    pending_batch *b = &pp->fifo[(pp->fifo_head + pp->fifo_len) % pp->fifo_cap];
    b->seq = ++pp->next_seq;
    b->pending = 1; /* held until the batch is closed */
    for (size_t t = 0; t < CFD_PRODUCER_MAX_OFFSETS; t++)
        b->offs[t] = offs && t < p->n_offsets ? offs[t] : -1;
    pp->fifo_len++;
    return b->seq;
}

void cfd_producer_batch_end(cfd_producer *p, int32_t part, uint64_t batch)
{
    batch_delivered(p, part, part_get(p, part), batch);
}

void cfd_producer_claim(cfd_producer *p, int32_t part, uint32_t incarnation)
{
    prod_part *pp = part_get(p, part);
    free(pp->fifo);
    *pp = (prod_part){.held = true, .incarnation = incarnation};
}

void cfd_producer_release(cfd_producer *p, int32_t part)
{
    prod_part *pp = part_get(p, part);
    pp->held = false;
    pp->fifo_len = 0;
}

void cfd_producer_poll(cfd_producer *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
}

void cfd_producer_flush(cfd_producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms);
}

size_t cfd_producer_undelivered(const cfd_producer *p)
{
    return p->undelivered + p->n_retries + (size_t)rd_kafka_outq_len(p->rk);
}

static void producer_conf(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
}

cfd_producer *cfd_producer_new(const cfd_producer_opts *opts, const cfd_producer_cbs *cbs,
                               char *errstr, size_t errstr_size)
{
    cfd_producer *p = cfd_xcalloc(1, sizeof(*p));

    p->cbs = *cbs;
    p->n_offsets = opts->n_offsets;
    p->stop = opts->stop;
    p->mod = opts->log_module;
    if (opts->n_offsets > CFD_PRODUCER_MAX_OFFSETS) {
        snprintf(errstr, errstr_size, "producer: %zu offsets per batch, at most %d",
                 opts->n_offsets, CFD_PRODUCER_MAX_OFFSETS);
        goto fail;
    }
    if (!(p->rk = cfd_kafka_new(opts->kafka, CFD_KAFKA_PRODUCER, p, producer_conf, errstr,
                                errstr_size)))
        goto fail;
    p->topics = cfd_xcalloc(opts->n_topics ? opts->n_topics : 1, sizeof(out_topic));
    for (size_t i = 0; i < opts->n_topics; i++) {
        const cfd_producer_topic *t = &opts->topics[i];
        p->topics[p->n_topics++] =
            (out_topic){.kind = t->kind,
                        .rkt = t->name ? rd_kafka_topic_new(p->rk, t->name, NULL) : NULL,
                        .type = t->type ? cfd_xstrdup(t->type) : NULL};
        if (t->kind == opts->deadletter_kind && p->topics[i].rkt)
            p->deadletter = &p->topics[i];
    }
    if (!p->deadletter) {
        snprintf(errstr, errstr_size, "producer: no dead-letter topic");
        goto fail;
    }
    p->stray = (out_topic){.kind = opts->deadletter_kind, .rkt = p->deadletter->rkt};
    return p;
fail:
    cfd_producer_destroy(p);
    return NULL;
}

void cfd_producer_destroy(cfd_producer *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_topics; i++) {
        if (p->topics[i].rkt)
            rd_kafka_topic_destroy(p->topics[i].rkt);
        free(p->topics[i].type);
    }
    free(p->topics);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    for (size_t i = 0; i < p->n_retries; i++) {
        free(p->retries[i].key);
        free(p->retries[i].payload);
        free(p->retries[i].dc);
    }
    free(p->retries);
    for (size_t i = 0; i < p->n_parts; i++)
        free(p->parts[i].fifo);
    free(p->parts);
    free(p);
}

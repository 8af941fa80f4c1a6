/*
 * The worker loop: consume, apply per partition batch, commit to Redis, produce,
 * commit offsets once delivered. See include/confirmd/worker.h for the guarantee.
 */
#include "confirmd/worker.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/codec.h"
#include "confirmd/due.h"
#include "confirmd/kafka.h"
#include "confirmd/log.h"
#include "confirmd/record.h"
#include "confirmd/store.h"

#define MOD "worker"
#define MAX_TOPICS 8
#define DR_MAX_TRIES 5
#define PARK_SWEEP_MS 1000
#define TIMER_TICK_MS 200 /* alerts fire within this of their due time */
#define TIMER_BATCH 256

/* A batch whose outputs are in flight. */
typedef struct pending_batch {
    uint64_t seq;
    size_t pending;             /* outputs not yet delivered */
    int64_t offs[MAX_TOPICS];   /* highest offset per input topic, -1 none */
} pending_batch;

/* What this worker knows of one partition number (all input topics share it). */
typedef struct slot {
    bool owned;
    int64_t epoch;
    uint32_t incarnation;        /* bumped on every claim: stale reports are ignored */
    int64_t applied[MAX_TOPICS]; /* highest applied offset per input topic */
    pending_batch *fifo;
    size_t fifo_head, fifo_len, fifo_cap;
    uint64_t next_seq;
    int64_t commit[MAX_TOPICS];  /* highest offset safe to commit, -1 none */
    bool commit_dirty;
    char **hdel;                 /* delivered output ids to drop from the outbox */
    size_t n_hdel, cap_hdel;
    int64_t next_sweep_ms;
    int64_t next_tick_ms;
} slot;

/* Opaque of one produced output, freed by the delivery report. */
typedef struct dr_ctx {
    int32_t part;
    uint32_t incarnation;
    uint64_t seq; /* 0: a re-sent outbox entry, not tied to a batch */
    int tries;
    char id[];
} dr_ctx;

/* An output decided during a batch, produced after the batch is durable. */
typedef struct output {
    char *id;
    cfd_output_kind kind;
    char *key;
    uint8_t *payload;
    size_t len;
} output;

/* An event waiting in an order's park list: for the order to open, or for a milestone
 * it needs (a signature waits for the visit). */
typedef struct parked_ev {
    cfd_parked_ref ref;     /* payload borrowed from a message or a loaded frame */
    char topic[256];
    cfd_decoded_event de;
    bool in_redis;          /* already in the Redis list */
    bool done;              /* applied, dropped as duplicate, or dead-lettered */
} parked_ev;

/* One work order touched by a batch. */
typedef struct item {
    const char *order; /* borrowed from a decoded event */
    cfd_record *rec;   /* NULL while the order has no opening event */
    bool dirty;
    bool rewrite_park; /* an event left the Redis park list: write the list anew */
    bool was_complete; /* the record was complete before the latest change */
    cfd_blob *frames;  /* park list as loaded (keeps payloads alive) */
    size_t n_frames;
    parked_ev *parked;
    size_t n_parked, cap_parked;
} item;

struct cfd_worker {
    const cfd_config *cfg;
    const cfd_policy *pol;
    cfd_clock clock;
    volatile sig_atomic_t *stop;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_topic_t *out_records, *out_alerts, *out_deadletter;
    cfd_store *store;
    cfd_txn *tx;
    char *topics[MAX_TOPICS];
    size_t n_topics;
    slot *slots;
    size_t n_slots;
    char owner[160];
    cfd_err fatal; /* set from a callback; makes run() return */
    cfd_worker_stats stats;
    bool simulated;  /* worker.clock = simulated: now comes from Redis */
    int64_t sim_now; /* the simulated clock's last reading (0: not set yet) */
    /* per-batch scratch, reused */
    output *outs;
    size_t n_outs, cap_outs;
};

/* --- small helpers ------------------------------------------------------------------ */

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("confirmd: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

static int topic_index(const cfd_worker *w, const char *topic) {
    for (size_t i = 0; i < w->n_topics; i++)
        if (strcmp(w->topics[i], topic) == 0)
            return (int)i;
    return -1;
}

static slot *slot_get(cfd_worker *w, int32_t part) {
    if (part < 0)
        return NULL;
    if ((size_t)part >= w->n_slots) {
        size_t n = (size_t)part + 1;
        w->slots = xrealloc(w->slots, n * sizeof(slot));
        memset(w->slots + w->n_slots, 0, (n - w->n_slots) * sizeof(slot));
        w->n_slots = n;
    }
    return &w->slots[part];
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/*
 * After a reconnect: checks that Redis still holds every offset this worker applied.
 * A Redis that lost acknowledged writes (appendfsync everysec, then a crash) rolled
 * state and offsets back together, and writing on top would skip the lost events for
 * good: the worker must leave instead, so its successor resumes at Redis' offsets.
 * A failed read proves nothing; the next command fails too and comes back here.
 * @returns false when Redis is behind this worker.
 */
static bool redis_kept_applied(cfd_worker *w) {
    char errstr[512];
    for (size_t p = 0; p < w->n_slots; p++) {
        slot *s = &w->slots[p];
        for (size_t t = 0; s->owned && t < w->n_topics; t++) {
            int64_t off = -1;
            if (s->applied[t] < 0 ||
                cfd_store_applied_offset(w->store, (int32_t)p, w->topics[t], &off, errstr,
                                         sizeof(errstr)))
                continue;
            if (off < s->applied[t]) {
                cfd_error(MOD, "redis lost writes: %s[%zu] applied offset is %" PRId64
                               ", this worker applied up to %" PRId64,
                          w->topics[t], p, off, s->applied[t]);
                return false;
            }
        }
    }
    return true;
}

/*
 * Decides whether a Redis call that returned err should be tried again: while Redis
 * is unreachable the worker waits with capped exponential backoff and reconnects, so
 * an outage pauses consumption and never skips an event. *backoff starts at 0.
 * @returns true to call again.
 */
static bool redis_retry(cfd_worker *w, cfd_err err, int64_t *backoff, char *errstr,
                        size_t errstr_size) {
    if (err != CFD_ERR_IO || *w->stop)
        return false;
    *backoff = *backoff ? *backoff * 2 : 50;
    if (*backoff > w->cfg->redis_retry_max_ms)
        *backoff = w->cfg->redis_retry_max_ms;
    w->stats.redis_retries++;
    cfd_warn(MOD, "%s; retrying in %" PRId64 " ms", errstr, *backoff);
    sleep_ms(*backoff);
    rd_kafka_poll(w->producer, 0);
    if (cfd_store_reconnect(w->store, errstr, errstr_size) == CFD_OK) {
        cfd_info(MOD, "redis reconnected");
        if (!redis_kept_applied(w)) {
            w->fatal = CFD_ERR_FENCED;
            return false;
        }
    }
    return true;
}

/* --- outputs ------------------------------------------------------------------------ */

static void outs_add(cfd_worker *w, const char *id, cfd_output_kind kind, const char *key,
                     uint8_t *payload, size_t len) {
    if (w->n_outs == w->cap_outs) {
        w->cap_outs = w->cap_outs ? w->cap_outs * 2 : 64;
        w->outs = xrealloc(w->outs, w->cap_outs * sizeof(output));
    }
    w->outs[w->n_outs++] = (output){.id = xstrdup(id), .kind = kind,
                                    .key = xstrdup(key), .payload = payload, .len = len};
}

static void outs_clear(cfd_worker *w) {
    for (size_t i = 0; i < w->n_outs; i++) {
        free(w->outs[i].id);
        free(w->outs[i].key);
        free(w->outs[i].payload);
    }
    w->n_outs = 0;
}

static rd_kafka_topic_t *out_topic(cfd_worker *w, cfd_output_kind kind) {
    return kind == CFD_OUT_RECORD ? w->out_records
           : kind == CFD_OUT_ALERT ? w->out_alerts : w->out_deadletter;
}

/* Produces one output; its delivery report updates the batch of seq. */
static void produce(cfd_worker *w, int32_t part, uint32_t incarnation, uint64_t seq,
                    const char *id, cfd_output_kind kind, const char *key, size_t key_len,
                    const void *payload, size_t len) {
    size_t idlen = strlen(id);
    dr_ctx *dc = xrealloc(NULL, sizeof(*dc) + idlen + 1);
    dc->part = part;
    dc->incarnation = incarnation;
    dc->seq = seq;
    dc->tries = 0;
    memcpy(dc->id, id, idlen + 1);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            w->producer, RD_KAFKA_V_RKT(out_topic(w, kind)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key_len ? key : NULL, key_len),
            RD_KAFKA_V_VALUE((void *)payload, len),
            RD_KAFKA_V_HEADER("id", dc->id, (ssize_t)idlen), RD_KAFKA_V_OPAQUE(dc),
            RD_KAFKA_V_END);
        if (!err)
            return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* It stays in the outbox and goes out again at the next claim. */
            cfd_error(MOD, "produce %s: %s", id, rd_kafka_err2str(err));
            free(dc);
            return;
        }
        rd_kafka_poll(w->producer, 10); /* let deliveries drain the queue */
    }
}

/* Marks one output of batch seq delivered and advances what may be committed. */
static void batch_delivered(cfd_worker *w, slot *s, uint64_t seq) {
    if (s->fifo_len == 0)
        return;
    uint64_t first = s->fifo[s->fifo_head].seq;
    if (seq < first || seq - first >= s->fifo_len)
        return;
    pending_batch *b = &s->fifo[(s->fifo_head + (seq - first)) % s->fifo_cap];
    if (b->pending)
        b->pending--;
    while (s->fifo_len && s->fifo[s->fifo_head].pending == 0) {
        pending_batch *h = &s->fifo[s->fifo_head];
        for (size_t t = 0; t < w->n_topics; t++) {
            if (h->offs[t] > s->commit[t]) {
                s->commit[t] = h->offs[t];
                s->commit_dirty = true;
            }
        }
        s->fifo_head = (s->fifo_head + 1) % s->fifo_cap;
        s->fifo_len--;
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    cfd_worker *w = opaque;
    dr_ctx *dc = m->_private;
    (void)rk;
    if (m->err) {
        if (++dc->tries < DR_MAX_TRIES && !*w->stop) {
            cfd_warn(MOD, "delivery of %s failed (%s); producing again", dc->id,
                     rd_kafka_err2str(m->err));
            if (rd_kafka_producev(w->producer, RD_KAFKA_V_RKT(m->rkt),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(m->key, m->key_len),
                                  RD_KAFKA_V_VALUE(m->payload, m->len),
                                  RD_KAFKA_V_HEADER("id", dc->id, -1),
                                  RD_KAFKA_V_OPAQUE(dc), RD_KAFKA_V_END) == 0)
                return;
        }
        /* Left in the outbox: the batch stays uncommitted in Kafka and the output is
         * re-sent by whoever claims the partition next. */
        cfd_error(MOD, "delivery of %s failed for good: %s (kept in the outbox)", dc->id,
                  rd_kafka_err2str(m->err));
        free(dc);
        return;
    }
    slot *s = slot_get(w, dc->part);
    if (s->n_hdel == s->cap_hdel) {
        s->cap_hdel = s->cap_hdel ? s->cap_hdel * 2 : 64;
        s->hdel = xrealloc(s->hdel, s->cap_hdel * sizeof(char *));
    }
    s->hdel[s->n_hdel++] = xstrdup(dc->id);
    if (dc->seq && s->owned && s->incarnation == dc->incarnation)
        batch_delivered(w, s, dc->seq);
    free(dc);
}

/* Drops delivered outputs from the outboxes (one HDEL per partition). */
static void flush_hdel(cfd_worker *w) {
    char errstr[512];
    for (size_t p = 0; p < w->n_slots; p++) {
        slot *s = &w->slots[p];
        if (!s->n_hdel)
            continue;
        cfd_err err;
        int64_t backoff = 0;
        do
            err = cfd_store_outbox_remove(w->store, (int32_t)p, (const char *const *)s->hdel, s->n_hdel, errstr, sizeof(errstr));
        while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            return;
        for (size_t i = 0; i < s->n_hdel; i++)
            free(s->hdel[i]);
        s->n_hdel = 0;
    }
}

/* Commits, as a hint for tools and lag metrics, what is durable and delivered. */
static void commit_offsets(cfd_worker *w) {
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t p = 0; p < w->n_slots; p++) {
        slot *s = &w->slots[p];
        if (!s->owned || !s->commit_dirty)
            continue;
        for (size_t t = 0; t < w->n_topics; t++) {
            if (s->commit[t] < 0)
                continue;
            if (!l)
                l = rd_kafka_topic_partition_list_new(8);
            rd_kafka_topic_partition_list_add(l, w->topics[t], (int32_t)p)->offset =
                s->commit[t] + 1;
        }
        s->commit_dirty = false;
    }
    if (!l)
        return;
    rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, l, 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cfd_warn(MOD, "offset commit: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Produces the outputs of a durable batch and tracks it until they are delivered. */
static void batch_produce(cfd_worker *w, int32_t part, slot *s, const int64_t *offs) {
    if (s->fifo_len == s->fifo_cap) {
        size_t cap = s->fifo_cap ? s->fifo_cap * 2 : 16;
        pending_batch *f = xrealloc(NULL, cap * sizeof(*f));
        for (size_t i = 0; i < s->fifo_len; i++)
            f[i] = s->fifo[(s->fifo_head + i) % s->fifo_cap];
        free(s->fifo);
        s->fifo = f;
        s->fifo_head = 0;
        s->fifo_cap = cap;
    }
    pending_batch *b = &s->fifo[(s->fifo_head + s->fifo_len) % s->fifo_cap];
    b->seq = ++s->next_seq;
    b->pending = w->n_outs + 1; /* +1 held until every output is handed over */
    for (size_t t = 0; t < MAX_TOPICS; t++)
        b->offs[t] = offs ? offs[t] : -1;
    s->fifo_len++;
    for (size_t i = 0; i < w->n_outs; i++) {
        output *o = &w->outs[i];
        produce(w, part, s->incarnation, b->seq, o->id, o->kind, o->key, strlen(o->key),
                o->payload, o->len);
    }
    batch_delivered(w, s, b->seq);
}

/* --- deciding outputs ----------------------------------------------------------------- */

static void add_output(cfd_worker *w, const char *id, cfd_output_kind kind,
                       const char *key, uint8_t *payload, size_t len) {
    size_t flen;
    void *frame = cfd_frame_output(kind, key, payload, len, &flen);
    cfd_txn_outbox(w->tx, id, frame, flen);
    free(frame);
    outs_add(w, id, kind, key, payload, len);
}

static void dead_letter(cfd_worker *w, const char *topic, int32_t part, int64_t offset,
                        const void *bytes, size_t len, cfd_err why, const char *detail,
                        const char *order, const char *event_id) {
    cfd_dead_letter dl = {.original = bytes, .original_len = len, .topic = topic,
                          .partition = part, .offset = offset,
                          .reason = cfd_codec_dl_reason(why), .detail = detail,
                          .work_order = order, .event_id = event_id,
                          .dead_at_ms = cfd_clock_now(&w->clock)};
    uint8_t *buf = NULL;
    size_t blen = 0;
    char id[512];

    /* The detail names fields and states, never customer data. */
    cfd_warn(MOD, "dead letter %s[%" PRId32 "]@%" PRId64 " work order %s: %s", topic, part,
             offset, order ? order : "-", detail);
    if (cfd_codec_dead_letter_encode(&dl, &buf, &blen)) {
        cfd_error(MOD, "cannot encode dead letter for %s@%" PRId64, topic, offset);
        return;
    }
    snprintf(id, sizeof(id), "dl/%s/%" PRId32 "/%" PRId64, topic, part, offset);
    add_output(w, id, CFD_OUT_DEAD_LETTER, order ? order : "", buf, blen);
    w->stats.dead_letters++;
}

/* Queues one alert; its output id is the alert id plus its kind, so a breach and its
 * retraction are two outputs about one alert. */
static void emit_alert(cfd_worker *w, const item *it, const cfd_alert *a) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_alert_encode(a, &buf, &len))
        return;
    snprintf(id, sizeof(id), "alert/%s/%s", a->alert_id, cfd_alert_kind_name(a->kind));
    cfd_info(MOD, "alert %s %s work order %s", cfd_alert_kind_name(a->kind),
             a->metric ? cfd_metric_name(a->metric) : "-", it->order);
    add_output(w, id, CFD_OUT_ALERT, it->order, buf, len);
    w->stats.alerts++;
}

/* Queues the record as completed, under the id of its version. */
static void emit_record(cfd_worker *w, item *it) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_record_encode(it->rec, &buf, &len))
        return;
    snprintf(id, sizeof(id), "rec/%s/v%" PRIu32, it->order, it->rec->version);
    cfd_info(MOD, "record %s v%" PRIu32 " %s", it->order, it->rec->version,
             cfd_state_name(it->rec->state));
    add_output(w, id, CFD_OUT_RECORD, it->order, buf, len);
    it->rec->emitted_version = it->rec->version;
    w->stats.records++;
}

/* Queues the alerts a change calls for, and the record when this change completed
 * the order: called after every change, so a completion is never hidden by a reopen
 * later in the same batch. Amendments of an already completed record (late parts, an
 * event report) are collapsed into one record per batch by process_batch. */
static void emit_outputs(cfd_worker *w, item *it) {
    cfd_alert alerts[32];
    size_t n = cfd_record_collect_alerts(it->rec, cfd_clock_now(&w->clock), alerts,
                                         sizeof(alerts) / sizeof(alerts[0]));
    for (size_t i = 0; i < n; i++)
        emit_alert(w, it, &alerts[i]);
    bool complete = cfd_record_is_complete(it->rec);
    if (complete && !it->was_complete && cfd_record_needs_emit(it->rec))
        emit_record(w, it);
    it->was_complete = complete;
}

/* Queues the order's state and its next SLA instant (its durable timer) for the
 * batch's write. */
static void store_state(cfd_worker *w, item *it) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_state_encode(it->rec, &buf, &len) == CFD_OK) {
        cfd_txn_put_state(w->tx, it->order, buf, len);
        free(buf);
    }
    cfd_txn_timer(w->tx, it->order, cfd_due_next(it->rec, w->pol));
}

/* --- applying a batch ------------------------------------------------------------------ */

typedef struct batch {
    rd_kafka_message_t **msgs;
    size_t n;
    cfd_decoded_event *de;
    item *items;
    size_t n_items;
    size_t *item_of; /* message index -> item index, SIZE_MAX when undecodable */
} batch;

static size_t item_find(batch *b, const char *order) {
    for (size_t i = 0; i < b->n_items; i++)
        if (strcmp(b->items[i].order, order) == 0)
            return i;
    return SIZE_MAX;
}

static parked_ev *park_add(item *it) {
    if (it->n_parked == it->cap_parked) {
        it->cap_parked = it->cap_parked ? it->cap_parked * 2 : 4;
        it->parked = xrealloc(it->parked, it->cap_parked * sizeof(parked_ev));
    }
    parked_ev *p = &it->parked[it->n_parked++];
    memset(p, 0, sizeof(*p));
    return p;
}

/*
 * Applies one event to its order. An event the record cannot take yet is parked;
 * every change retries what is parked, until nothing more applies.
 * @returns true when the event left the park (applied, duplicate or dead-lettered).
 */
static bool apply_event(cfd_worker *w, item *it, const cfd_event *ev,
                        const cfd_parked_ref *src) {
    char errstr[256];
    cfd_apply_outcome outcome = CFD_APPLY_PARK;
    cfd_err err = CFD_OK;

    if (!it->rec && cfd_event_opens_order(ev)) {
        if (!(it->rec = cfd_record_new()))
            abort();
    }
    if (it->rec) {
        err = cfd_record_apply(it->rec, ev, w->pol, &outcome, errstr, sizeof(errstr));
        if (it->rec->state == CFD_STATE_NONE) { /* the opening event was refused */
            cfd_record_destroy(it->rec);
            it->rec = NULL;
        }
    } else {
        snprintf(errstr, sizeof(errstr), "work order not open yet");
    }
    if (err) {
        dead_letter(w, src->topic, src->partition, src->offset, src->payload,
                    src->payload_len, err, errstr, ev->work_order, ev->event_id);
        return true;
    }
    switch (outcome) {
    case CFD_APPLY_CHANGED:
        it->dirty = true;
        w->stats.applied++;
        emit_outputs(w, it);
        return true;
    case CFD_APPLY_DUPLICATE:
        cfd_debug(MOD, "duplicate event %s for work order %s dropped", ev->event_id,
                  ev->work_order);
        w->stats.duplicates++;
        return true;
    case CFD_APPLY_PARK:
        break;
    }
    cfd_info(MOD, "work order %s: event %s parked (%s)", ev->work_order, ev->event_id,
             errstr);
    return false;
}

/* Retries the parked events of an order after a change, until none applies. */
static void drain_parked(cfd_worker *w, item *it) {
    bool progress = true;
    while (progress && it->rec) {
        progress = false;
        for (size_t k = 0; k < it->n_parked; k++) {
            parked_ev *p = &it->parked[k];
            if (p->done)
                continue;
            bool dirty_before = it->dirty;
            it->dirty = false;
            if (apply_event(w, it, &p->de.ev, &p->ref)) {
                p->done = true;
                if (p->in_redis)
                    it->rewrite_park = true;
            }
            progress |= it->dirty;
            it->dirty |= dirty_before;
        }
    }
}

/* Applies message i of the batch to its order. */
static void apply_message(cfd_worker *w, batch *b, size_t i, int32_t part, int64_t now) {
    rd_kafka_message_t *m = b->msgs[i];
    item *it = &b->items[b->item_of[i]];
    cfd_parked_ref src = {.topic = rd_kafka_topic_name(m->rkt), .partition = part,
                          .offset = m->offset,
                          .expire_at_ms = now + w->cfg->park_window_ms,
                          .payload = m->payload, .payload_len = m->len};
    bool dirty_before = it->dirty;
    it->dirty = false;
    if (!apply_event(w, it, &b->de[i].ev, &src)) {
        parked_ev *p = park_add(it);
        p->ref = src;
        snprintf(p->topic, sizeof(p->topic), "%s", src.topic);
        p->ref.topic = p->topic;
        p->de = b->de[i]; /* the item takes the decoded event over */
        memset(&b->de[i], 0, sizeof(b->de[i]));
        w->stats.parked++;
    }
    if (it->dirty)
        drain_parked(w, it);
    it->dirty |= dirty_before;
}

/* Writes the order's park list: appends new entries, or rewrites it when some left. */
static void store_parked(cfd_worker *w, item *it) {
    size_t flen;
    if (it->rewrite_park)
        cfd_txn_unpark(w->tx, it->order);
    for (size_t k = 0; k < it->n_parked; k++) {
        parked_ev *p = &it->parked[k];
        if (p->done || (p->in_redis && !it->rewrite_park))
            continue;
        void *frame = cfd_frame_parked(&p->ref, &flen);
        cfd_txn_park(w->tx, it->order, frame, flen, p->ref.expire_at_ms);
        free(frame);
    }
}

static void item_free(item *it) {
    cfd_record_destroy(it->rec);
    for (size_t k = 0; k < it->n_parked; k++)
        cfd_codec_event_release(&it->parked[k].de);
    free(it->parked);
    cfd_blobs_clear(it->frames, it->n_frames);
    free(it->frames);
}

static void batch_free(batch *b) {
    for (size_t i = 0; i < b->n; i++)
        cfd_codec_event_release(&b->de[i]);
    for (size_t i = 0; i < b->n_items; i++)
        item_free(&b->items[i]);
    free(b->de);
    free(b->items);
    free(b->item_of);
}

/* Decodes every message and groups the good ones by work order. */
static void batch_decode(cfd_worker *w, batch *b, int32_t part) {
    char errstr[256];
    b->de = calloc(b->n, sizeof(*b->de));
    b->items = calloc(b->n, sizeof(*b->items));
    b->item_of = calloc(b->n, sizeof(*b->item_of));
    if (!b->de || !b->items || !b->item_of)
        abort();
    for (size_t i = 0; i < b->n; i++) {
        rd_kafka_message_t *m = b->msgs[i];
        b->item_of[i] = SIZE_MAX;
        cfd_err err = cfd_codec_event_decode(m->payload, m->len, &b->de[i], errstr,
                                             sizeof(errstr));
        if (err) {
            char wo[128], eid[128];
            cfd_codec_event_ids(m->payload, m->len, wo, sizeof(wo), eid, sizeof(eid));
            dead_letter(w, rd_kafka_topic_name(m->rkt), part, m->offset, m->payload,
                        m->len, err, errstr, *wo ? wo : NULL, *eid ? eid : NULL);
            continue;
        }
        const char *order = b->de[i].ev.work_order;
        size_t k = item_find(b, order);
        if (k == SIZE_MAX) {
            k = b->n_items++;
            b->items[k].order = order;
        }
        b->item_of[i] = k;
    }
}

/* Turns an order's loaded park list into parked events. */
static void item_load_parked(cfd_worker *w, item *it) {
    char errstr[256];
    for (size_t k = 0; k < it->n_frames; k++) {
        parked_ev *p = park_add(it);
        p->in_redis = true;
        if (cfd_frame_parked_parse(it->frames[k].data, it->frames[k].len, &p->ref, p->topic,
                                   sizeof(p->topic))) {
            cfd_error(MOD, "work order %s: unreadable parked frame dropped", it->order);
            p->done = true;
            it->rewrite_park = true;
            continue;
        }
        cfd_err err = cfd_codec_event_decode(p->ref.payload, p->ref.payload_len, &p->de,
                                             errstr, sizeof(errstr));
        if (err) {
            dead_letter(w, p->topic, p->ref.partition, p->ref.offset, p->ref.payload,
                        p->ref.payload_len, err, errstr, it->order, NULL);
            p->done = true;
            it->rewrite_park = true;
        }
    }
}

/* Loads the items' records and park lists in one round trip. */
static cfd_err batch_load(cfd_worker *w, batch *b, int32_t part) {
    char errstr[512];
    size_t n = b->n_items;
    const char **orders = calloc(n + 1, sizeof(char *));
    cfd_blob *states = calloc(n + 1, sizeof(cfd_blob));
    cfd_blob **frames = calloc(n + 1, sizeof(cfd_blob *));
    size_t *n_frames = calloc(n + 1, sizeof(size_t));
    cfd_err err;
    int64_t backoff = 0;
    if (!orders || !states || !frames || !n_frames)
        abort();
    for (size_t i = 0; i < n; i++)
        orders[i] = b->items[i].order;
    do
        err = cfd_store_load(w->store, part, orders, n, states, frames, n_frames, errstr,
                             sizeof(errstr));
    while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    for (size_t i = 0; !err && i < n; i++) {
        item *it = &b->items[i];
        it->frames = frames[i];
        it->n_frames = n_frames[i];
        frames[i] = NULL; /* the item owns them now */
        n_frames[i] = 0;
        if (states[i].data &&
            cfd_codec_state_decode(states[i].data, states[i].len, &it->rec, errstr,
                                   sizeof(errstr))) {
            /* Refuse to overwrite what we cannot read: stop for an operator. */
            cfd_error(MOD, "work order %s: stored state unreadable: %s", it->order,
                      errstr);
            err = CFD_ERR;
        }
        it->was_complete = it->rec && cfd_record_is_complete(it->rec);
        item_load_parked(w, it);
    }
    cfd_blobs_clear(states, n);
    for (size_t i = 0; i < n; i++) {
        cfd_blobs_clear(frames[i], n_frames[i]);
        free(frames[i]);
    }
    free(states);
    free(frames);
    free(n_frames);
    free(orders);
    return err;
}

/* Commits the batch's transaction (retrying while Redis is away) and produces. */
static cfd_err batch_commit(cfd_worker *w, int32_t part, slot *s, const int64_t *offs) {
    char errstr[512];
    cfd_err err;
    int64_t backoff = 0;
    do
        err = cfd_store_commit(w->store, w->tx, errstr, sizeof(errstr));
    while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    if (err) {
        cfd_error(MOD, "partition %" PRId32 ": %s", part, errstr);
        return err;
    }
    w->stats.batches++;
    batch_produce(w, part, s, offs);
    return CFD_OK;
}

/* Applies a partition's batch; see the file comment of worker.h. */
static cfd_err process_batch(cfd_worker *w, int32_t part, rd_kafka_message_t **msgs,
                             size_t n) {
    slot *s = slot_get(w, part);
    batch b = {.msgs = msgs, .n = n};
    int64_t offs[MAX_TOPICS];
    int64_t now = cfd_clock_now(&w->clock);
    cfd_err err;

    for (size_t t = 0; t < MAX_TOPICS; t++)
        offs[t] = -1;
    outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    batch_decode(w, &b, part);
    if ((err = batch_load(w, &b, part)))
        goto out;
    /* An order whose opening event was parked behind a missing predecessor, or that
     * opened in another batch, may have parked events ready to go. */
    for (size_t k = 0; k < b.n_items; k++)
        drain_parked(w, &b.items[k]);
    for (size_t i = 0; i < n; i++) {
        int t = topic_index(w, rd_kafka_topic_name(msgs[i]->rkt));
        if (t >= 0 && msgs[i]->offset > offs[t])
            offs[t] = msgs[i]->offset;
        if (b.item_of[i] != SIZE_MAX)
            apply_message(w, &b, i, part, now);
    }
    for (size_t k = 0; k < b.n_items; k++) {
        item *it = &b.items[k];
        store_parked(w, it);
        if (!it->dirty)
            continue;
        if (cfd_record_needs_emit(it->rec))
            emit_record(w, it);
        store_state(w, it);
    }
    for (size_t t = 0; t < w->n_topics; t++)
        if (offs[t] >= 0)
            cfd_txn_offset(w->tx, w->topics[t], offs[t]);
    if ((err = batch_commit(w, part, s, offs)))
        goto out;
    w->stats.events += n;
    for (size_t t = 0; t < w->n_topics; t++)
        if (offs[t] > s->applied[t])
            s->applied[t] = offs[t];
out:
    batch_free(&b);
    outs_clear(w);
    return err;
}

/* Dead-letters parked events whose window has passed; keeps the others parked. */
static cfd_err sweep_parked(cfd_worker *w, int32_t part, slot *s) {
    char errstr[512];
    char **orders = NULL;
    size_t n = 0;
    int64_t now = cfd_clock_now(&w->clock);
    int64_t backoff = 0;
    cfd_err err;
    do
        err = cfd_store_due(w->store, part, CFD_DUE_PARKED, now, 64, &orders, &n, errstr,
                                   sizeof(errstr));
    while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    if (err || n == 0)
        goto out;
    outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    for (size_t i = 0; i < n; i++) {
        item it = {.order = orders[i]};
        cfd_blob state = {0};
        char detail[300];
        backoff = 0;
        do
            err = cfd_store_load(w->store, part, (const char *const *)&orders[i], 1, &state,
                                 &it.frames, &it.n_frames, errstr, sizeof(errstr));
        while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            goto out;
        bool opened = state.data != NULL;
        snprintf(detail, sizeof(detail), "%s within %" PRId64 " s",
                 opened ? "a milestone it needs did not arrive"
                            : "unknown work order: no opening event",
                 w->cfg->park_window_ms / 1000);
        cfd_blobs_clear(&state, 1);
        item_load_parked(w, &it);
        for (size_t k = 0; k < it.n_parked; k++) {
            parked_ev *p = &it.parked[k];
            if (p->done || p->ref.expire_at_ms > now)
                continue;
            dead_letter(w, p->topic, p->ref.partition, p->ref.offset, p->ref.payload,
                        p->ref.payload_len, opened ? CFD_ERR_TRANSITION
                        : CFD_ERR_UNKNOWN_ORDER, detail, orders[i], p->de.ev.event_id);
            p->done = true;
        }
        it.rewrite_park = true;
        store_parked(w, &it);
        item_free(&it);
    }
    err = batch_commit(w, part, s, NULL);
out:
    outs_clear(w);
    cfd_strv_free(orders, n);
    return err;
}

/* True when the worker has applied everything the broker had for part: only then
 * may a timer fire, or a backlog of events that met their duties would first raise
 * false alarms (which a retraction would then have to take back). */
static bool caught_up(cfd_worker *w, int32_t part, const slot *s) {
    for (size_t t = 0; t < w->n_topics; t++) {
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(w->consumer, w->topics[t], part, &lo, &hi))
            continue;
        if (hi >= 0 && s->applied[t] + 1 < hi)
            return false;
    }
    return true;
}

/* Emits the time-driven alerts of the orders whose timers are due, and moves their
 * timers to the next instant. One atomic write per tick, like a batch of events. */
static cfd_err fire_timers(cfd_worker *w, int32_t part, slot *s, int64_t now) {
    char errstr[512];
    char **orders = NULL;
    size_t n = 0;
    int64_t backoff = 0;
    cfd_err err;
    do
        err = cfd_store_due(w->store, part, CFD_DUE_TIMER, now, TIMER_BATCH, &orders, &n,
                            errstr, sizeof(errstr));
    while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    if (err || n == 0)
        goto out;
    batch b = {.items = calloc(n, sizeof(item)), .n_items = n};
    cfd_blob *states = calloc(n, sizeof(cfd_blob));
    cfd_blob **frames = calloc(n, sizeof(cfd_blob *));
    size_t *n_frames = calloc(n, sizeof(size_t));
    if (!b.items || !states || !frames || !n_frames)
        abort();
    backoff = 0;
    do
        err = cfd_store_load(w->store, part, (const char *const *)orders, n, states, frames,
                             n_frames, errstr, sizeof(errstr));
    while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    for (size_t i = 0; !err && i < n; i++) {
        item *it = &b.items[i];
        cfd_alert alerts[32];
        it->order = orders[i];
        it->frames = frames[i]; /* freed with the item */
        it->n_frames = n_frames[i];
        if (!states[i].data ||
            cfd_codec_state_decode(states[i].data, states[i].len, &it->rec, errstr,
                                   sizeof(errstr))) {
            cfd_txn_timer(w->tx, it->order, 0); /* nothing to time any more */
            continue;
        }
        size_t k = cfd_due_collect(it->rec, w->pol, now, alerts,
                                   sizeof(alerts) / sizeof(alerts[0]));
        for (size_t j = 0; j < k; j++)
            emit_alert(w, it, &alerts[j]);
        store_state(w, it);
    }
    if (!err)
        err = batch_commit(w, part, s, NULL);
    cfd_blobs_clear(states, n);
    free(states);
    free(frames);
    free(n_frames);
    batch_free(&b);
out:
    outs_clear(w);
    cfd_strv_free(orders, n);
    return err;
}

/* --- partition ownership ---------------------------------------------------------------- */

static void resend_one(const char *id, const void *frame, size_t len, void *ctx) {
    void **args = ctx;
    cfd_worker *w = args[0];
    int32_t part = *(int32_t *)args[1];
    cfd_output_kind kind;
    const char *key;
    size_t klen, plen;
    const void *payload;
    if (cfd_frame_output_parse(frame, len, &kind, &key, &klen, &payload, &plen)) {
        cfd_error(MOD, "partition %" PRId32 ": unreadable outbox entry %s", part, id);
        return;
    }
    produce(w, part, 0, 0, id, kind, key, klen, payload, plen);
}

/* Claims the partitions of a new assignment and positions them at Redis' offsets. */
static void on_assign(cfd_worker *w, rd_kafka_topic_partition_list_t *parts) {
    char errstr[512];
    cfd_err err = CFD_OK;
    int64_t backoff;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        slot *s = slot_get(w, tp->partition);
        int t = topic_index(w, tp->topic);
        if (!s->owned) {
            int64_t epoch = 0;
            backoff = 0;
            do
                err = cfd_store_claim(w->store, tp->partition, w->owner, &epoch, errstr,
                                      sizeof(errstr));
            while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
            if (err)
                goto fail;
            free(s->fifo);
            memset(s, 0, offsetof(slot, hdel));
            s->owned = true;
            s->epoch = epoch;
            s->incarnation = (uint32_t)epoch;
            for (size_t k = 0; k < MAX_TOPICS; k++)
                s->applied[k] = s->commit[k] = -1;
            cfd_info(MOD, "partition %" PRId32 " claimed (epoch %" PRId64 ")",
                     tp->partition, epoch);
        }
        int64_t off = -1;
        backoff = 0;
        do
            err = cfd_store_applied_offset(w->store, tp->partition, tp->topic, &off,
                                           errstr, sizeof(errstr));
        while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            goto fail;
        if (t >= 0)
            s->applied[t] = off;
        /* Redis, not Kafka, says what was applied: resume right after it. */
        tp->offset = off >= 0 ? off + 1 : RD_KAFKA_OFFSET_INVALID;
    }
    rd_kafka_resp_err_t kerr = rd_kafka_assign(w->consumer, parts);
    if (kerr)
        cfd_error(MOD, "assign: %s", rd_kafka_err2str(kerr));
    for (int i = 0; i < parts->cnt; i++) {
        int32_t part = parts->elems[i].partition;
        void *args[2] = {w, &part};
        bool first = true;
        for (int j = 0; j < i; j++)
            if (parts->elems[j].partition == part)
                first = false;
        if (!first)
            continue;
        backoff = 0;
        do
            err = cfd_store_outbox_scan(w->store, part, resend_one, args, errstr,
                                        sizeof(errstr));
        while (redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            goto fail;
    }
    return;
fail:
    cfd_error(MOD, "assignment: %s", errstr);
    if (!w->fatal)
        w->fatal = err ? err : CFD_ERR;
}

static void on_revoke(cfd_worker *w, rd_kafka_topic_partition_list_t *parts) {
    /* Hand over cleanly: outputs delivered and dropped from the outbox. What is still
     * in flight stays in the outbox, and the next owner sends it again. */
    rd_kafka_flush(w->producer, 10000);
    flush_hdel(w);
    for (int i = 0; i < parts->cnt; i++) {
        slot *s = slot_get(w, parts->elems[i].partition);
        if (s->owned)
            cfd_info(MOD, "partition %" PRId32 " released", parts->elems[i].partition);
        s->owned = false;
        s->fifo_len = 0;
    }
    rd_kafka_assign(w->consumer, NULL);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    cfd_worker *w = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(w, parts);
    else
        on_revoke(w, parts);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    cfd_worker *w = opaque;
    (void)rk;
    cfd_error(MOD, "kafka: %s: %s", rd_kafka_err2name(err), reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        w->fatal = CFD_ERR;
}

/* --- the clock ------------------------------------------------------------------------ */

static int64_t sim_now_ms(void *ctx) {
    cfd_worker *w = ctx;
    /* Until a rehearsal sets the clock, simulated time is the system's. */
    return w->sim_now ? w->sim_now : cfd_clock_system().now_ms(NULL);
}

/* Reads the simulated clock once per loop, so every decision of a loop sees one now. */
static void refresh_sim_clock(cfd_worker *w) {
    char errstr[256];
    int64_t now = 0;
    if (cfd_store_sim_clock(w->store, &now, errstr, sizeof(errstr)) == CFD_OK) {
        if (now && now != w->sim_now)
            cfd_debug(MOD, "simulated clock at %" PRId64, now);
        w->sim_now = now;
    }
}

/* --- life cycle -------------------------------------------------------------------- */

cfd_worker *cfd_worker_new(const cfd_config *cfg, const cfd_policy *pol, cfd_clock clock,
                           volatile sig_atomic_t *stop, char *errstr, size_t errstr_size) {
    cfd_worker *w = calloc(1, sizeof(*w));
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *topics = NULL;
    char host[64] = "host";

    if (!w) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    w->cfg = cfg;
    w->pol = pol;
    w->clock = clock;
    w->stop = stop;
    if (strcmp(cfg->clock, "simulated") == 0) {
        w->simulated = true;
        w->clock = (cfd_clock){.now_ms = sim_now_ms, .ctx = w};
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(w->owner, sizeof(w->owner), "%s/%d", host, (int)getpid());

    topics = cfd_kafka_topic_list(cfg->input_topics);
    if (topics->cnt == 0 || topics->cnt > MAX_TOPICS) {
        snprintf(errstr, errstr_size, "worker.input_topics: give 1 to %d topics",
                 MAX_TOPICS);
        goto fail;
    }
    for (int i = 0; i < topics->cnt; i++)
        w->topics[w->n_topics++] = xstrdup(topics->elems[i].topic);

    if (!(w->store = cfd_store_new(cfg, errstr, errstr_size)))
        goto fail;
    if (!(w->tx = cfd_txn_new()))
        goto fail;

    if (!(conf = cfd_kafka_conf_new(cfg, CFD_KAFKA_PRODUCER, errstr, errstr_size)))
        goto fail;
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (!(w->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size)))
        goto fail;
    conf = NULL; /* rd_kafka_new took it */
    w->out_records = rd_kafka_topic_new(w->producer, cfg->records_topic, NULL);
    w->out_alerts = rd_kafka_topic_new(w->producer, cfg->alerts_topic, NULL);
    w->out_deadletter = rd_kafka_topic_new(w->producer, cfg->deadletter_topic, NULL);

    if (!(conf = cfd_kafka_conf_new(cfg, CFD_KAFKA_CONSUMER, errstr, errstr_size)))
        goto fail;
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (!(w->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size)))
        goto fail;
    conf = NULL;
    rd_kafka_poll_set_consumer(w->consumer);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(w->consumer, topics);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe %s: %s", cfg->input_topics,
                 rd_kafka_err2str(err));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(topics);
    return w;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (topics)
        rd_kafka_topic_partition_list_destroy(topics);
    cfd_worker_destroy(w);
    return NULL;
}

/* Dispatches one poll's messages to their partitions' batches. */
static cfd_err dispatch(cfd_worker *w, rd_kafka_message_t **msgs, size_t n) {
    rd_kafka_message_t **group = malloc(sizeof(*group) * (n ? n : 1));
    bool *done = calloc(n ? n : 1, sizeof(bool));
    cfd_err err = CFD_OK;
    if (!group || !done)
        abort();
    for (size_t i = 0; i < n && !err; i++) {
        if (done[i])
            continue;
        int32_t part = msgs[i]->partition;
        slot *s = slot_get(w, part);
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (done[j] || msgs[j]->partition != part)
                continue;
            done[j] = true;
            int t = topic_index(w, rd_kafka_topic_name(msgs[j]->rkt));
            /* Not ours any more, or already applied (an overlap after a seek). */
            if (!s->owned || t < 0 || msgs[j]->offset <= s->applied[t])
                continue;
            group[k++] = msgs[j];
        }
        if (k)
            err = process_batch(w, part, group, k);
    }
    free(group);
    free(done);
    return err;
}

cfd_err cfd_worker_run(cfd_worker *w) {
    size_t cap = (size_t)w->cfg->batch_size;
    rd_kafka_message_t **msgs = calloc(cap, sizeof(*msgs));
    cfd_err err = CFD_OK;
    if (!msgs)
        abort();
    cfd_info(MOD, "consuming %s as %s", w->cfg->input_topics, w->owner);
    while (!*w->stop && !w->fatal && !err) {
        size_t n = 0;
        int timeout = (int)w->cfg->poll_timeout_ms;
        while (n < cap) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(w->consumer, n ? 0 : timeout);
            if (!m)
                break;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    cfd_warn(MOD, "consume: %s", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            msgs[n++] = m;
        }
        err = dispatch(w, msgs, n);
        for (size_t i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
        rd_kafka_poll(w->producer, 0);
        flush_hdel(w);
        commit_offsets(w);
        int64_t mono = cfd_monotonic_ms();
        if (w->simulated)
            refresh_sim_clock(w);
        int64_t now = cfd_clock_now(&w->clock);
        for (size_t p = 0; p < w->n_slots && !err; p++) {
            slot *s = &w->slots[p];
            if (!s->owned)
                continue;
            if (mono >= s->next_tick_ms && caught_up(w, (int32_t)p, s)) {
                s->next_tick_ms = mono + TIMER_TICK_MS;
                err = fire_timers(w, (int32_t)p, s, now);
            }
            if (!err && mono >= s->next_sweep_ms) {
                s->next_sweep_ms = mono + PARK_SWEEP_MS;
                err = sweep_parked(w, (int32_t)p, s);
            }
        }
    }
    if (w->fatal == CFD_ERR_FENCED || (!err && w->fatal))
        err = w->fatal;
    if (err == CFD_ERR_FENCED)
        cfd_error(MOD, "fenced: another worker owns a partition this one held, or redis "
                       "lost writes; restart to rejoin the group");
    free(msgs);
    cfd_info(MOD, "stopping: leaving the group");
    rd_kafka_consumer_close(w->consumer);
    rd_kafka_flush(w->producer, 10000);
    flush_hdel(w);
    return err;
}

cfd_worker_stats cfd_worker_get_stats(const cfd_worker *w) { return w->stats; }

void cfd_worker_destroy(cfd_worker *w) {
    if (!w)
        return;
    if (w->consumer)
        rd_kafka_destroy(w->consumer);
    if (w->out_records)
        rd_kafka_topic_destroy(w->out_records);
    if (w->out_alerts)
        rd_kafka_topic_destroy(w->out_alerts);
    if (w->out_deadletter)
        rd_kafka_topic_destroy(w->out_deadletter);
    if (w->producer)
        rd_kafka_destroy(w->producer);
    for (size_t p = 0; p < w->n_slots; p++) {
        free(w->slots[p].fifo);
        for (size_t i = 0; i < w->slots[p].n_hdel; i++)
            free(w->slots[p].hdel[i]);
        free(w->slots[p].hdel);
    }
    free(w->slots);
    for (size_t i = 0; i < w->n_topics; i++)
        free(w->topics[i]);
    outs_clear(w);
    free(w->outs);
    cfd_txn_destroy(w->tx);
    cfd_store_destroy(w->store);
    free(w);
}

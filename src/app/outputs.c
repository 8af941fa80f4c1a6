/*
 * The worker's outputs: the outbox entries a batch writes, producing them once the
 * batch is durable, delivery reports, outbox clean-up and the offsets they allow to
 * commit.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/log.h"
#include "confirmd/city_codec.h"
#include "confirmd/noc_codec.h"
#include "worker_int.h"

#define MOD "worker"

static void outs_add(cfd_worker *w, const char *id, cfd_output_kind kind, const char *key,
                     uint8_t *payload, size_t len) {
    if (w->n_outs == w->cap_outs) {
        w->cap_outs = w->cap_outs ? w->cap_outs * 2 : 64;
        w->outs = wk_realloc(w->outs, w->cap_outs * sizeof(output));
    }
    w->outs[w->n_outs++] = (output){.id = wk_strdup(id), .kind = kind,
                                    .key = wk_strdup(key), .payload = payload, .len = len};
}

void wk_outs_clear(cfd_worker *w) {
    for (size_t i = 0; i < w->n_outs; i++) {
        free(w->outs[i].id);
        free(w->outs[i].key);
        free(w->outs[i].payload);
    }
    w->n_outs = 0;
}

static rd_kafka_topic_t *out_topic(cfd_worker *w, cfd_output_kind kind) {
    switch (kind) {
    case CFD_OUT_RECORD: return w->out_records;
    case CFD_OUT_ALERT: return w->out_alerts;
    case CFD_OUT_EVENT: return w->out_events;
    case CFD_OUT_NOTICE: return w->out_notices;
    case CFD_OUT_INCIDENT: return w->out_incidents;
    case CFD_OUT_CITY: return w->out_city;
    default: return w->out_deadletter;
    }
}

#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000

/* Takes r (and what it owns) into the retry queue. */
static void push_retry(cfd_worker *w, const retry_msg *r) {
    if (w->n_retries == w->cap_retries) {
        w->cap_retries = w->cap_retries ? w->cap_retries * 2 : 16;
        w->retries = wk_realloc(w->retries, w->cap_retries * sizeof(retry_msg));
    }
    w->retries[w->n_retries++] = *r;
}

/* When dc's output is tried again: backing off with its failures. */
static int64_t retry_due(const dr_ctx *dc) {
    int later = dc->tries - DR_MAX_TRIES; /* failures after the immediate ones */
    int shift = later < 0 ? 0 : later > 5 ? 5 : later;
    int64_t delay = (int64_t)RETRY_FIRST_MS << shift;
    return cfd_monotonic_ms() + (delay > RETRY_MAX_MS ? RETRY_MAX_MS : delay);
}

/* Queues a copy of an output for wk_retry_outputs. */
static void retry_later(cfd_worker *w, rd_kafka_topic_t *rkt, const void *key,
                        size_t key_len, const void *payload, size_t len, dr_ctx *dc) {
    retry_msg r = {.rkt = rkt, .key_len = key_len, .len = len, .dc = dc,
                   .due_ms = retry_due(dc)};
    r.key = key_len ? wk_realloc(NULL, key_len) : NULL;
    if (key_len)
        memcpy(r.key, key, key_len);
    r.payload = wk_realloc(NULL, len ? len : 1);
    memcpy(r.payload, payload, len);
    push_retry(w, &r);
}

static rd_kafka_resp_err_t produce_dc(cfd_worker *w, rd_kafka_topic_t *rkt, const void *key,
                                      size_t key_len, const void *payload, size_t len,
                                      dr_ctx *dc) {
    return rd_kafka_producev(w->producer, RD_KAFKA_V_RKT(rkt),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key_len ? key : NULL, key_len),
                             RD_KAFKA_V_VALUE((void *)payload, len),
                             RD_KAFKA_V_HEADER("id", dc->id, -1), RD_KAFKA_V_OPAQUE(dc),
                             RD_KAFKA_V_END);
}

void wk_retry_outputs(cfd_worker *w) {
    if (w->n_retries == 0)
        return;
    int64_t now = cfd_monotonic_ms();
    retry_msg *v = w->retries;
    size_t n = w->n_retries;
    w->retries = NULL;
    w->n_retries = w->cap_retries = 0;
    for (size_t i = 0; i < n; i++) {
        retry_msg *r = &v[i];
        slot *s = wk_slot_get(w, r->dc->part);
        bool ours = s->owned && (r->dc->seq == 0 || s->incarnation == r->dc->incarnation);
        if (!ours) {
            free(r->dc); /* the partition's next owner re-sends it from the outbox */
        } else if (r->due_ms > now) {
            push_retry(w, r);
            continue;
        } else {
            rd_kafka_resp_err_t err =
                produce_dc(w, r->rkt, r->key, r->key_len, r->payload, r->len, r->dc);
            if (err) {
                r->dc->tries++;
                r->due_ms = retry_due(r->dc);
                cfd_warn(MOD, "producing %s again: %s", r->dc->id, rd_kafka_err2str(err));
                push_retry(w, r);
                continue;
            }
        }
        free(r->key);
        free(r->payload);
    }
    free(v);
}

void wk_retries_free(cfd_worker *w) {
    for (size_t i = 0; i < w->n_retries; i++) {
        free(w->retries[i].key);
        free(w->retries[i].payload);
        free(w->retries[i].dc);
    }
    free(w->retries);
    w->retries = NULL;
    w->n_retries = w->cap_retries = 0;
}

/* Produces one output; its delivery report updates the batch of seq. */
static void produce(cfd_worker *w, int32_t part, uint32_t incarnation, uint64_t seq,
                    const char *id, cfd_output_kind kind, const char *key, size_t key_len,
                    const void *payload, size_t len) {
    size_t idlen = strlen(id);
    dr_ctx *dc = wk_realloc(NULL, sizeof(*dc) + idlen + 1);
    dc->part = part;
    dc->incarnation = incarnation;
    dc->seq = seq;
    dc->tries = 0;
    memcpy(dc->id, id, idlen + 1);
    for (;;) {
        rd_kafka_resp_err_t err = produce_dc(w, out_topic(w, kind), key, key_len, payload,
                                             len, dc);
        if (!err)
            return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* It stays in the outbox, and is produced again in a while. */
            cfd_error(MOD, "produce %s: %s; trying again later", id, rd_kafka_err2str(err));
            retry_later(w, out_topic(w, kind), key, key_len, payload, len, dc);
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

void wk_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    cfd_worker *w = opaque;
    dr_ctx *dc = m->_private;
    (void)rk;
    if (m->err) {
        if (++dc->tries < DR_MAX_TRIES && !*w->stop) {
            cfd_warn(MOD, "delivery of %s failed (%s); producing again", dc->id,
                     rd_kafka_err2str(m->err));
            if (produce_dc(w, m->rkt, m->key, m->key_len, m->payload, m->len, dc) == 0)
                return;
        }
        /* Still in the outbox, the batch uncommitted in Kafka: produced again in a
         * while (or, after a rebalance, by the partition's next owner). */
        if (*w->stop) {
            free(dc);
            return;
        }
        cfd_error(MOD, "delivery of %s failed %d times: %s (kept in the outbox; trying "
                       "again later)", dc->id, dc->tries, rd_kafka_err2str(m->err));
        retry_later(w, m->rkt, m->key, m->key_len, m->payload, m->len, dc);
        return;
    }
    slot *s = wk_slot_get(w, dc->part);
    if (s->n_hdel == s->cap_hdel) {
        s->cap_hdel = s->cap_hdel ? s->cap_hdel * 2 : 64;
        s->hdel = wk_realloc(s->hdel, s->cap_hdel * sizeof(char *));
    }
    s->hdel[s->n_hdel++] = wk_strdup(dc->id);
    if (dc->seq && s->owned && s->incarnation == dc->incarnation)
        batch_delivered(w, s, dc->seq);
    free(dc);
}

/* Drops delivered outputs from the outboxes (one HDEL per partition). */
void wk_flush_hdel(cfd_worker *w) {
    char errstr[512];
    for (size_t p = 0; p < w->n_slots; p++) {
        slot *s = &w->slots[p];
        if (!s->n_hdel)
            continue;
        cfd_err err;
        int64_t backoff = 0;
        do
            err = cfd_store_outbox_remove(w->store, (int32_t)p, (const char *const *)s->hdel, s->n_hdel, errstr, sizeof(errstr));
        while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            return;
        for (size_t i = 0; i < s->n_hdel; i++)
            free(s->hdel[i]);
        s->n_hdel = 0;
    }
}

/* Commits, as a hint for tools and lag metrics, what is durable and delivered. */
void wk_commit_offsets(cfd_worker *w) {
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
void wk_batch_produce(cfd_worker *w, int32_t part, slot *s, const int64_t *offs) {
    if (s->fifo_len == s->fifo_cap) {
        size_t cap = s->fifo_cap ? s->fifo_cap * 2 : 16;
        pending_batch *f = wk_realloc(NULL, cap * sizeof(*f));
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

void wk_add_output(cfd_worker *w, const char *id, cfd_output_kind kind,
                       const char *key, uint8_t *payload, size_t len) {
    size_t flen;
    void *frame = cfd_frame_output(kind, key, payload, len, &flen);
    cfd_txn_outbox(w->tx, id, frame, flen);
    free(frame);
    outs_add(w, id, kind, key, payload, len);
}

void wk_dead_letter(cfd_worker *w, const char *topic, int32_t part, int64_t offset,
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
    wk_add_output(w, id, CFD_OUT_DEAD_LETTER, order ? order : "", buf, blen);
    w->stats.dead_letters++;
}

/* Queues one alert; its output id is the alert id plus its kind, so a breach and its
 * retraction are two outputs about one alert. */
void wk_emit_alert(cfd_worker *w, const char *key, const cfd_alert *a) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_alert_encode(a, &buf, &len))
        return;
    snprintf(id, sizeof(id), "alert/%s/%s", a->alert_id, cfd_alert_kind_name(a->kind));
    cfd_info(MOD, "alert %s %s for %s", cfd_alert_kind_name(a->kind),
             a->metric ? cfd_metric_name(a->metric) : "-", key);
    wk_add_output(w, id, CFD_OUT_ALERT, key, buf, len);
    w->stats.alerts++;
}

/* Queues the record as completed, under the id of its version. */
void wk_emit_record(cfd_worker *w, item *it) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_record_encode(it->rec, &buf, &len))
        return;
    snprintf(id, sizeof(id), "rec/%s/v%" PRIu32, it->order, it->rec->version);
    cfd_info(MOD, "record %s v%" PRIu32 " %s", it->order, it->rec->version,
             cfd_state_name(it->rec->state));
    wk_add_output(w, id, CFD_OUT_RECORD, it->order, buf, len);
    it->rec->emitted_version = it->rec->version;
    w->stats.records++;
}

/* Queues an Incident under the id of its version: each change is one fact. */
static void emit_incident(cfd_worker *w, const char *key, const cfd_incident *inc) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_incident_encode(inc, &buf, &len))
        return;
    snprintf(id, sizeof(id), "inc/%s/v%" PRIu32, inc->incident_id, inc->version);
    if (inc->n_work_orders)
        cfd_info(MOD, "incident %s %s v%" PRIu32 ": %zu work orders", inc->incident_id,
                 cfd_incident_status_name(inc->status), inc->version, inc->n_work_orders);
    else
        cfd_info(MOD, "incident %s %s v%" PRIu32 " work order %s", inc->incident_id,
                 cfd_incident_status_name(inc->status), inc->version, key);
    wk_add_output(w, id, CFD_OUT_INCIDENT, inc->incident_id, buf, len);
}

void wk_emit_incidents(cfd_worker *w, const char *key, const cfd_incident *incs, size_t n,
                       const cfd_alert *alert) {
    for (size_t i = 0; i < n; i++)
        emit_incident(w, key, &incs[i]);
    if (alert)
        wk_emit_alert(w, key, alert);
}

/* Queues r (version set by the caller) to the city reports topic, keyed by its key. */
static void city_report_out(cfd_worker *w, const cfd_city_report *r) {
    char id[400], key[300];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_city_report_encode(r, &buf, &len))
        return;
    cfd_city_key(r->city, r->service, key, sizeof(key));
    snprintf(id, sizeof(id), "city/%s/%s/v%" PRIu32, key, r->work_order, r->record_version);
    wk_add_output(w, id, CFD_OUT_CITY, key, buf, len);
}

void wk_emit_city_report(cfd_worker *w, item *it) {
    cfd_city_report now;
    bool in = it->rec && cfd_city_report_of(it->rec, &now);
    if (!w->out_city || (!in && !it->in_city))
        return;
    if (it->in_city && (!in || strcmp(now.city, it->city.city) != 0 ||
                        strcmp(now.service, it->city.service) != 0)) {
        /* Out of its former key (another city or service, or no longer taking part):
         * there, its fault counts as ended now. */
        cfd_city_report gone = it->city;
        if (!gone.ended_at_ms)
            gone.ended_at_ms = cfd_record_as_of(it->rec);
        gone.record_version = it->rec->version;
        city_report_out(w, &gone);
    } else if (in && it->in_city && cfd_city_report_same(&now, &it->city)) {
        return; /* nothing the rule reads changed */
    }
    if (in)
        city_report_out(w, &now);
    /* What the key now has: a second change in this batch compares with it. */
    cfd_city_report_clear(&it->city);
    it->in_city = in && cfd_city_report_copy(&it->city, &now);
}

void wk_resend_one(const char *id, const void *frame, size_t len, void *ctx) {
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


void wk_emit_alarm_notice(cfd_worker *w, const char *id, const cfd_alarm *notice) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!w->out_notices || cfd_codec_alarm_encode(notice, &buf, &len))
        return;
    wk_add_output(w, id, CFD_OUT_NOTICE,
                  notice->coordinator ? notice->coordinator : notice->network_object, buf, len);
}

void wk_emit_notice(cfd_worker *w, const item *it) {
    const cfd_record *rec = it->rec;
    char alarm_id[200], id[240];
    /* Keyed by the object the order is bound to: the one whose alarm opened it, or the
     * circuit a customer reported on (see wk_emit_report_notice); and the circuit too
     * when a port's or a piece of equipment's alarm opened it (see
     * wk_emit_opened_notice). */
    const char *object = rec->alarm_object ? rec->alarm_object : rec->circuit_id;
    if (!object)
        return;
    snprintf(alarm_id, sizeof(alarm_id), "closed-%s-v%" PRIu32, it->order, rec->version);
    cfd_alarm notice = {.alarm_id = alarm_id, .network_object = object,
                        .event_time_ms = cfd_record_as_of(rec),
                        .closed_work_order = it->order,
                        .closed_needs_observation = rec->result == CFD_RESULT_NEEDS_OBSERVATION,
                        .closed_watched_from_ms = rec->service_end_time_ms
                                                      ? rec->service_end_time_ms
                                                      : rec->restored_at_ms};
    snprintf(id, sizeof(id), "notice/%s/v%" PRIu32, it->order, rec->version);
    wk_emit_alarm_notice(w, id, &notice);
    if (rec->alarm_object && rec->circuit_id && strcmp(rec->alarm_object, rec->circuit_id)) {
        notice.network_object = rec->circuit_id;
        snprintf(id, sizeof(id), "notice/%s/v%" PRIu32 "/circuit", it->order, rec->version);
        wk_emit_alarm_notice(w, id, &notice);
    }
}

void wk_emit_opened_notice(cfd_worker *w, const char *circuit, const char *object,
                           const char *order, int64_t t) {
    char alarm_id[200], id[240];
    snprintf(alarm_id, sizeof(alarm_id), "opened-%s", order);
    cfd_alarm notice = {.alarm_id = alarm_id, .network_object = circuit,
                        .event_time_ms = t, .opened_work_order = order, .opened_on = object};
    snprintf(id, sizeof(id), "notice/opened/%s", order);
    wk_emit_alarm_notice(w, id, &notice);
}

void wk_emit_report_notice(cfd_worker *w, const item *it, const cfd_event *ev,
                           const void *bytes, size_t len) {
    char alarm_id[200], id[240];
    const char *circuit = ev->report.circuit_id;
    if (!circuit || ev->report.alarm_object)
        return;
    snprintf(alarm_id, sizeof(alarm_id), "report-%s", it->order);
    cfd_alarm notice = {.alarm_id = alarm_id, .network_object = circuit,
                        .event_time_ms = ev->event_time_ms, .reported_work_order = it->order,
                        .report = bytes, .report_len = len};
    snprintf(id, sizeof(id), "notice/report/%s", it->order);
    wk_emit_alarm_notice(w, id, &notice);
}

/*
 * The worker's outputs: the outbox entries a batch writes, handing them to the
 * producer once the batch is durable, and what its reports mean here: outbox clean-up,
 * the offsets they allow to commit, the dead letter that replaces a refused output.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/alloc.h"
#include "confirmd/log.h"
#include "confirmd/city_codec.h"
#include "confirmd/alarm_codec.h"
#include "worker_int.h"

#define MOD "worker"

static void outs_add(cfd_worker *w, const char *id, cfd_output_kind kind, const char *key,
                     uint8_t *payload, size_t len) {
    if (w->n_outs == w->cap_outs) {
        w->cap_outs = w->cap_outs ? w->cap_outs * 2 : 64;
        w->outs = cfd_xrealloc(w->outs, w->cap_outs * sizeof(output));
    }
    w->outs[w->n_outs++] = (output){.id = cfd_xstrdup(id), .kind = kind,
                                    .key = cfd_xstrdup(key), .payload = payload, .len = len};
}

void wk_outs_clear(cfd_worker *w) {
    for (size_t i = 0; i < w->n_outs; i++) {
        free(w->outs[i].id);
        free(w->outs[i].key);
        free(w->outs[i].payload);
    }
    w->n_outs = 0;
    w->batch_failed = false;
}

void wk_batch_fail(cfd_worker *w, const char *what, const char *name) {
    cfd_error(MOD, "cannot encode the %s of %s: the batch is not committed", what, name);
    w->batch_failed = true;
}

/* A delivered output leaves its partition's outbox (in wk_flush_hdel, one HDEL a
 * partition). */
static void on_delivered(void *ctx, int32_t part, const char *id) {
    slot *s = wk_slot_get(ctx, part);
    if (s->n_hdel == s->cap_hdel) {
        s->cap_hdel = s->cap_hdel ? s->cap_hdel * 2 : 64;
        s->hdel = cfd_xrealloc(s->hdel, s->cap_hdel * sizeof(char *));
    }
    s->hdel[s->n_hdel++] = cfd_xstrdup(id);
}

/* A batch of part is delivered, and every one before it: its offsets may be committed. */
static void on_batch_delivered(void *ctx, int32_t part, const int64_t *offs) {
    cfd_worker *w = ctx;
    slot *s = wk_slot_get(w, part);
    for (size_t t = 0; t < w->n_topics; t++) {
        if (offs[t] > s->commit[t]) {
            s->commit[t] = offs[t];
            s->commit_dirty = true;
        }
    }
}

/*
 * What takes the place of an output refused for good: a dead letter saying so
 * (DEAD_LETTER_OUTPUT_REFUSED: the output's topic, id and the broker's error, its first
 * worker.deadletter_max_original bytes, length and SHA-256; none of its bytes when
 * such a dead letter was refused already).
 */
static void replace_refused(void *ctx, const cfd_producer_refusal *r, uint8_t **buf,
                            size_t *len) {
    cfd_worker *w = ctx;
    cfd_dead_letter dl = {.original = r->payload, .original_len = r->len, .topic = r->topic,
                          .partition = -1, .offset = -1, .reason = CFD_DL_OUTPUT_REFUSED,
                          .detail = r->detail, .dead_at_ms = cfd_clock_now(&w->clock),
                          .max_original = r->bare ? 0
                                                  : (size_t)w->cfg->deadletter_max_original};
    cfd_codec_dead_letter_encode(&dl, buf, len);
}

cfd_producer *wk_producer_new(cfd_worker *w, const cfd_kafka_opts *kafka, char *errstr,
                              size_t errstr_size) {
    const cfd_config *cfg = w->cfg;
    const cfd_producer_topic topics[] = {
        {CFD_OUT_RECORD, cfg->records_topic},
        {CFD_OUT_ALERT, cfg->alerts_topic},
        {CFD_OUT_DEAD_LETTER, cfg->deadletter_topic},
        {CFD_OUT_INCIDENT, cfg->incidents_topic},
        {CFD_OUT_EVENT, w->topics[0]},      /* re-keyed events: the first input topic */
        {CFD_OUT_NOTICE, w->alarms_t >= 0 ? cfg->alarms_topic : NULL},
        {CFD_OUT_CITY, w->city_t >= 0 ? cfg->city_reports_topic : NULL},
    };
    const cfd_producer_opts opts = {
        .kafka = kafka, .topics = topics, .n_topics = sizeof(topics) / sizeof(topics[0]),
        .deadletter_kind = CFD_OUT_DEAD_LETTER, .n_offsets = w->n_topics, .stop = w->stop,
        .log_module = MOD};
    const cfd_producer_cbs cbs = {.ctx = w, .delivered = on_delivered,
                                  .batch_delivered = on_batch_delivered,
                                  .replace = replace_refused, .error = wk_kafka_error};
    return cfd_producer_new(&opts, &cbs, errstr, errstr_size);
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
    cfd_consumer_commit(w->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
}

void wk_batch_produce(cfd_worker *w, int32_t part, const int64_t *offs) {
    uint64_t b = cfd_producer_batch_begin(w->producer, part, offs);
    for (size_t i = 0; i < w->n_outs; i++) {
        output *o = &w->outs[i];
        cfd_producer_send(w->producer, part, b, o->id, o->kind, o->key, strlen(o->key),
                          o->payload, o->len);
    }
    cfd_producer_batch_end(w->producer, part, b);
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

/* Queues dl under the output id id. */
static void dead_letter_out(cfd_worker *w, const char *id, cfd_dead_letter *dl) {
    uint8_t *buf = NULL;
    size_t blen = 0;
    char key[300];
    dl->dead_at_ms = cfd_clock_now(&w->clock);
    dl->max_original = (size_t)w->cfg->deadletter_max_original;
    /* The detail names fields and states, never customer data. */
    cfd_warn(MOD, "dead letter %s[%" PRId32 "]@%" PRId64 " work order %s: %s", dl->topic,
             dl->partition, dl->offset, dl->work_order ? dl->work_order : "-", dl->detail);
    cfd_codec_dead_letter_encode(dl, &buf, &blen);
    /* Without a work order, keyed by where it came from: spread and compacted the
     * same way every time, never a null key. */
    snprintf(key, sizeof(key), "%s/%" PRId32, dl->topic, dl->partition);
    wk_add_output(w, id, CFD_OUT_DEAD_LETTER,
                  dl->work_order && *dl->work_order ? dl->work_order : key, buf, blen);
    w->stats.dead_letters++;
}

void wk_dead_letter(cfd_worker *w, const char *topic, int32_t part, int64_t offset,
                    const void *bytes, size_t len, cfd_err why, const char *detail,
                    const char *order, const char *event_id) {
    cfd_dead_letter dl = {.original = bytes, .original_len = len, .topic = topic,
                          .partition = part, .offset = offset,
                          .reason = cfd_codec_dl_reason(why), .detail = detail,
                          .work_order = order, .event_id = event_id};
    char id[512];
    snprintf(id, sizeof(id), "dl/%s/%" PRId32 "/%" PRId64, topic, part, offset);
    dead_letter_out(w, id, &dl);
}

void wk_dead_letter_parked(cfd_worker *w, int32_t part, const char *order, size_t index,
                           const void *frame, size_t len) {
    char detail[300], id[512];
    snprintf(detail, sizeof(detail), "unreadable entry %zu of the park list of work order "
                                     "%s (the whole entry is in original)", index, order);
    cfd_dead_letter dl = {.original = frame, .original_len = len, .topic = w->topics[0],
                          .partition = part, .offset = -1,
                          .reason = cfd_codec_dl_reason(CFD_ERR_DECODE), .detail = detail,
                          .work_order = order};
    snprintf(id, sizeof(id), "dl/park/%s/%" PRId32 "/%zu", order, part, index);
    dead_letter_out(w, id, &dl);
}

/* Queues one alert; its output id is the alert id plus its kind, so a breach and its
 * retraction are two outputs about one alert. */
void wk_emit_alert(cfd_worker *w, const char *key, const cfd_alert *a) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_alert_encode(a, &buf, &len);
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
    cfd_codec_record_encode(it->rec, &buf, &len);
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
    cfd_codec_incident_encode(inc, &buf, &len);
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
    cfd_codec_city_report_encode(r, &buf, &len);
    cfd_city_key(r->city, r->service, key, sizeof(key));
    snprintf(id, sizeof(id), "city/%s/%s/v%" PRIu32, key, r->work_order, r->record_version);
    wk_add_output(w, id, CFD_OUT_CITY, key, buf, len);
}

void wk_emit_city_report(cfd_worker *w, item *it) {
    cfd_city_report now;
    bool in = it->rec && cfd_city_report_of(it->rec, &now);
    if (w->city_t < 0 || (!in && !it->in_city))
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
    cfd_producer_send(w->producer, part, 0, id, kind, key, klen, payload, plen);
}


void wk_emit_alarm_notice(cfd_worker *w, const char *id, const cfd_alarm *notice) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (w->alarms_t < 0)
        return;
    cfd_codec_alarm_encode(notice, &buf, &len);
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

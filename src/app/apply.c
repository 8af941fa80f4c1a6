/*
 * Applying a partition's batch of events, the park lists, the park-window sweep and
 * the SLA timers: everything that decides what a batch writes to Redis.
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
#include "worker_int.h"
#include "confirmd/due.h"
#include "confirmd/incident.h"

#define MOD "worker"

/* Queues the Incident messages of the order's severe fault that now calls for, and its
 * SEVERE_FAULT alert when it opens. The event path judges at the latest event time (a
 * backlog restored late still opens and closes it), the timer path at the clock. */
static void emit_incidents(cfd_worker *w, item *it, int64_t now) {
    cfd_incident incs[3];
    cfd_alert alert;
    bool has_alert;
    size_t n = cfd_incident_collect(it->rec, now, incs, &alert, &has_alert);
    wk_emit_incidents(w, it->order, incs, n, has_alert ? &alert : NULL);
}

/* Queues the alerts a change calls for, and the record when this change completed
 * the order: called after every change, so a completion is never hidden by a reopen
 * later in the same batch. Amendments of an already completed record (late parts, an
 * event report) are collapsed into one record per batch by wk_process_batch. */
static void emit_outputs(cfd_worker *w, item *it) {
    cfd_alert alerts[32];
    size_t n = cfd_record_collect_alerts(it->rec, w->pol, cfd_clock_now(&w->clock), alerts,
                                         sizeof(alerts) / sizeof(alerts[0]));
    for (size_t i = 0; i < n; i++)
        wk_emit_alert(w, it->order, &alerts[i]);
    emit_incidents(w, it, cfd_record_as_of(it->rec));
    bool complete = cfd_record_is_complete(it->rec);
    if (complete && !it->was_complete && cfd_record_needs_emit(it->rec)) {
        wk_emit_record(w, it);
        wk_emit_notice(w, it); /* the object's next major alarm opens a new order */
    }
    it->was_complete = complete;
}

/* Queues the order's state and its next SLA instant (its durable timer) for the
 * batch's write. */
static void store_state(cfd_worker *w, item *it) {
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_state_encode(it->rec, &buf, &len);
    cfd_txn_put_state(w->tx, it->order, buf, len);
    free(buf);
    cfd_txn_timer(w->tx, it->order, cfd_due_next(it->rec, w->pol));
}

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
        it->parked = cfd_xrealloc(it->parked, it->cap_parked * sizeof(parked_ev));
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

    bool opening = !it->rec && cfd_event_opens_order(ev);
    if (opening)
        it->rec = cfd_record_new();
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
        wk_dead_letter(w, src->topic, src->partition, src->offset, src->payload,
                    src->payload_len, err, errstr, ev->work_order, ev->event_id);
        return true;
    }
    switch (outcome) {
    case CFD_APPLY_CHANGED:
        it->dirty = true;
        w->stats.applied++;
        if (opening)
            wk_emit_report_notice(w, it, ev, src->payload, src->payload_len);
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
    cfd_city_report_clear(&it->city);
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
    b->de = cfd_xcalloc(b->n, sizeof(*b->de));
    b->items = cfd_xcalloc(b->n, sizeof(*b->items));
    b->item_of = cfd_xcalloc(b->n, sizeof(*b->item_of));
    for (size_t i = 0; i < b->n; i++) {
        rd_kafka_message_t *m = b->msgs[i];
        b->item_of[i] = SIZE_MAX;
        cfd_err err = cfd_codec_event_decode(m->payload, m->len, &b->de[i], errstr,
                                             sizeof(errstr));
        if (err) {
            char wo[128], eid[128];
            cfd_codec_event_ids(m->payload, m->len, wo, sizeof(wo), eid, sizeof(eid));
            wk_dead_letter(w, rd_kafka_topic_name(m->rkt), part, m->offset, m->payload,
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
static void item_load_parked(cfd_worker *w, int32_t part, item *it) {
    char errstr[256];
    for (size_t k = 0; k < it->n_frames; k++) {
        parked_ev *p = park_add(it);
        p->in_redis = true;
        if (cfd_frame_parked_parse(it->frames[k].data, it->frames[k].len, &p->ref, p->topic,
                                   sizeof(p->topic))) {
            wk_dead_letter_parked(w, part, it->order, k,
                                  it->frames[k].data, it->frames[k].len);
            p->done = true;
            it->rewrite_park = true;
            continue;
        }
        cfd_err err = cfd_codec_event_decode(p->ref.payload, p->ref.payload_len, &p->de,
                                             errstr, sizeof(errstr));
        if (err) {
            wk_dead_letter(w, p->topic, p->ref.partition, p->ref.offset, p->ref.payload,
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
    const char **orders = cfd_xcalloc(n + 1, sizeof(char *));
    cfd_blob *states = cfd_xcalloc(n + 1, sizeof(cfd_blob));
    cfd_blob **frames = cfd_xcalloc(n + 1, sizeof(cfd_blob *));
    size_t *n_frames = cfd_xcalloc(n + 1, sizeof(size_t));
    cfd_err err;
    int64_t backoff = 0;
    for (size_t i = 0; i < n; i++)
        orders[i] = b->items[i].order;
    do
        err = cfd_store_load(w->store, part, orders, n, states, frames, n_frames, errstr,
                             sizeof(errstr));
    while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    for (size_t i = 0; !err && i < n; i++) {
        item *it = &b->items[i];
        it->frames = frames[i];
        it->n_frames = n_frames[i];
        frames[i] = NULL; /* the item owns them now */
        n_frames[i] = 0;
        if (states[i].data &&
            cfd_codec_state_decode(states[i].data, states[i].len, &it->rec, errstr,
                                   sizeof(errstr))) {
            err = wk_state_unreadable(w, "work order", it->order, errstr);
        }
        it->was_complete = it->rec && cfd_record_is_complete(it->rec);
        cfd_city_report city;
        it->in_city = it->rec && cfd_city_report_of(it->rec, &city) &&
                      cfd_city_report_copy(&it->city, &city);
        item_load_parked(w, part, it);
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
cfd_err wk_batch_commit(cfd_worker *w, int32_t part, const int64_t *offs) {
    char errstr[512];
    cfd_err err;
    int64_t backoff = 0;
    if (w->batch_failed) {
        /* Stop loudly rather than count its input applied without all it decided;
         * the partition's next owner replays it from Redis' applied offset. */
        cfd_error(MOD, "partition %" PRId32 ": a batch whose outputs could not all be "
                       "built is not committed; stopping", part);
        return CFD_ERR;
    }
    do
        err = cfd_store_commit(w->store, w->tx, errstr, sizeof(errstr));
    while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    if (err) {
        cfd_error(MOD, "partition %" PRId32 ": %s", part, errstr);
        return err;
    }
    w->stats.batches++;
    wk_batch_produce(w, part, offs);
    return CFD_OK;
}

/* True when the batch holds alarms of part but the inventory of part is not caught up
 * yet (a worker starting on a backlog): looked up now, they would be dead-lettered as
 * unknown objects that are only not loaded yet. */
static bool alarms_wait_for_inventory(cfd_worker *w, int32_t part, const slot *s,
                                      rd_kafka_message_t **msgs, size_t n) {
    int64_t inv = -1;
    bool alarms = false;
    if (w->alarms_t < 0 || w->inventory_t < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        int t = wk_topic_index(w, rd_kafka_topic_name(msgs[i]->rkt));
        alarms |= t == w->alarms_t;
        if (t == w->inventory_t && msgs[i]->offset > inv)
            inv = msgs[i]->offset;
    }
    /* Without the inventory partition (no such topic) there is nothing to wait for. */
    if (!alarms || !s->assigned[w->inventory_t])
        return false;
    if (s->applied[w->inventory_t] > inv)
        inv = s->applied[w->inventory_t];
    /* Behind, or not fetched at all yet (its position is still being resolved). */
    return cfd_consumer_behind(w->consumer, w->topics[w->inventory_t], part, inv) != 0;
}

void wk_alarms_seek_back(cfd_worker *w, int32_t part, slot *s, int64_t offset) {
    const char *topic = w->topics[w->alarms_t];
    char errstr[512];
    if (cfd_consumer_seek(w->consumer, topic, part, offset, errstr, sizeof(errstr))) {
        if (!s->alarms_reseek)
            cfd_warn(MOD, "seek %s[%" PRId32 "] back to %" PRId64 " for alarms waiting for "
                          "the inventory: %s; holding its alarms until a seek succeeds",
                     topic, part, offset, errstr);
        s->alarms_reseek = offset + 1;
        return;
    }
    if (s->alarms_reseek)
        cfd_info(MOD, "seek %s[%" PRId32 "] back to %" PRId64 " done", topic, part, offset);
    else
        cfd_debug(MOD, "alarms %s[%" PRId32 "] wait for the inventory to catch up", topic,
                  part);
    s->alarms_reseek = 0;
}

/* Applies a partition's batch; see the file comment of worker.h. */
cfd_err wk_process_batch(cfd_worker *w, int32_t part, rd_kafka_message_t **msgs,
                         size_t n) {
    slot *s = wk_slot_get(w, part);
    rd_kafka_message_t **evs = cfd_xcalloc(n + 1, sizeof(*evs)), **noc = cfd_xcalloc(n + 1, sizeof(*noc));
    rd_kafka_message_t **city = cfd_xcalloc(n + 1, sizeof(*city));
    size_t n_evs = 0, n_noc = 0, n_city = 0;
    int64_t offs[MAX_TOPICS];
    int64_t now = cfd_clock_now(&w->clock);
    batch b = {0};
    cfd_err err = CFD_OK;

    for (size_t t = 0; t < MAX_TOPICS; t++)
        offs[t] = -1;
    bool defer = alarms_wait_for_inventory(w, part, s, msgs, n);
    int64_t first_deferred = -1;
    for (size_t i = 0; i < n; i++) {
        int t = wk_topic_index(w, rd_kafka_topic_name(msgs[i]->rkt));
        if (defer && t == w->alarms_t) {
            if (first_deferred < 0 || msgs[i]->offset < first_deferred)
                first_deferred = msgs[i]->offset;
            continue;
        }
        if (t >= 0 && msgs[i]->offset > offs[t])
            offs[t] = msgs[i]->offset;
        if (t == w->alarms_t || t == w->inventory_t)
            noc[n_noc++] = msgs[i];
        else if (t == w->city_t)
            city[n_city++] = msgs[i];
        else
            evs[n_evs++] = msgs[i];
    }
    if (first_deferred >= 0)
        wk_alarms_seek_back(w, part, s, first_deferred);
    wk_outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    /* Alarms and inventory first: their events go out through Kafka anyway. */
    if (n_noc && (err = wk_noc_batch(w, part, noc, n_noc)))
        goto out;
    if (n_city && (err = wk_city_batch(w, part, city, n_city)))
        goto out;
    b = (batch){.msgs = evs, .n = n_evs};
    batch_decode(w, &b, part);
    if ((err = batch_load(w, &b, part)))
        goto out;
    /* An order whose opening event was parked behind a missing predecessor, or that
     * opened in another batch, may have parked events ready to go. */
    for (size_t k = 0; k < b.n_items; k++)
        drain_parked(w, &b.items[k]);
    for (size_t i = 0; i < n_evs; i++)
        if (b.item_of[i] != SIZE_MAX)
            apply_message(w, &b, i, part, now);
    for (size_t k = 0; k < b.n_items; k++) {
        item *it = &b.items[k];
        store_parked(w, it);
        if (!it->dirty)
            continue;
        if (cfd_record_needs_emit(it->rec))
            wk_emit_record(w, it);
        wk_emit_city_report(w, it);
        store_state(w, it);
    }
    for (size_t t = 0; t < w->n_topics; t++)
        if (offs[t] >= 0)
            cfd_txn_offset(w->tx, w->topics[t], offs[t]);
    if ((err = wk_batch_commit(w, part, offs)))
        goto out;
    w->stats.events += n;
    for (size_t t = 0; t < w->n_topics; t++)
        if (offs[t] > s->applied[t])
            s->applied[t] = offs[t];
out:
    batch_free(&b);
    wk_outs_clear(w);
    free(evs);
    free(noc);
    free(city);
    return err;
}

cfd_err wk_due(cfd_worker *w, int32_t part, cfd_due_kind kind, int64_t now, size_t max,
               char ***names, size_t *n) {
    char errstr[512];
    int64_t backoff = 0;
    cfd_err err;
    do
        err = cfd_store_due(w->store, part, kind, now, max, names, n, errstr, sizeof(errstr));
    while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    if (err) {
        *names = NULL;
        *n = 0;
    }
    return err;
}

/* Dead-letters parked events whose window has passed; keeps the others parked. */
cfd_err wk_sweep_parked(cfd_worker *w, int32_t part, slot *s) {
    char errstr[512];
    char **orders = NULL;
    size_t n = 0;
    int64_t now = cfd_clock_now(&w->clock);
    int64_t backoff;
    cfd_err err = wk_due(w, part, CFD_DUE_PARKED, now, 64, &orders, &n);
    if (err || n == 0)
        goto out;
    wk_outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    for (size_t i = 0; i < n; i++) {
        item it = {.order = orders[i]};
        cfd_blob state = {0};
        char detail[300];
        backoff = 0;
        do
            err = cfd_store_load(w->store, part, (const char *const *)&orders[i], 1, &state,
                                 &it.frames, &it.n_frames, errstr, sizeof(errstr));
        while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            goto out;
        bool opened = state.data != NULL;
        snprintf(detail, sizeof(detail), "%s within %" PRId64 " s",
                 opened ? "a milestone it needs did not arrive"
                            : "unknown work order: no opening event",
                 w->cfg->park_window_ms / 1000);
        cfd_blobs_clear(&state, 1);
        item_load_parked(w, part, &it);
        for (size_t k = 0; k < it.n_parked; k++) {
            parked_ev *p = &it.parked[k];
            if (p->done || p->ref.expire_at_ms >= now) /* only after the window */
                continue;
            wk_dead_letter(w, p->topic, p->ref.partition, p->ref.offset, p->ref.payload,
                        p->ref.payload_len, opened ? CFD_ERR_TRANSITION
                        : CFD_ERR_UNKNOWN_ORDER, detail, orders[i], p->de.ev.event_id);
            p->done = true;
        }
        it.rewrite_park = true;
        store_parked(w, &it);
        item_free(&it);
    }
    err = wk_batch_commit(w, part, NULL);
out:
    wk_outs_clear(w);
    cfd_strv_free(orders, n);
    return err;
}

/* Emits the time-driven alerts of the orders whose timers are due, and moves their
 * timers to the next instant. One atomic write per tick, like a batch of events. */
cfd_err wk_fire_timers(cfd_worker *w, int32_t part, slot *s, int64_t now) {
    char errstr[512];
    char **orders = NULL;
    size_t n = 0;
    int64_t backoff = 0;
    cfd_err err = wk_due(w, part, CFD_DUE_TIMER, now, TIMER_BATCH, &orders, &n);
    if (err || n == 0)
        goto out;
    batch b = {.items = cfd_xcalloc(n, sizeof(item)), .n_items = n};
    cfd_blob *states = cfd_xcalloc(n, sizeof(cfd_blob));
    cfd_blob **frames = cfd_xcalloc(n, sizeof(cfd_blob *));
    size_t *n_frames = cfd_xcalloc(n, sizeof(size_t));
    do
        err = cfd_store_load(w->store, part, (const char *const *)orders, n, states, frames,
                             n_frames, errstr, sizeof(errstr));
    while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    wk_outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    for (size_t i = 0; i < n; i++) {
        b.items[i].order = orders[i];
        b.items[i].frames = frames[i]; /* freed with the item */
        b.items[i].n_frames = n_frames[i];
    }
    for (size_t i = 0; !err && i < n; i++) {
        item *it = &b.items[i];
        cfd_alert alerts[32];
        if (!states[i].data) {
            cfd_txn_timer(w->tx, it->order, 0); /* nothing to time any more */
            continue;
        }
        if (cfd_codec_state_decode(states[i].data, states[i].len, &it->rec, errstr,
                                   sizeof(errstr))) {
            err = wk_state_unreadable(w, "work order", it->order, errstr);
            continue;
        }
        size_t k = cfd_due_collect(it->rec, w->pol, now, alerts,
                                   sizeof(alerts) / sizeof(alerts[0]));
        for (size_t j = 0; j < k; j++)
            wk_emit_alert(w, it->order, &alerts[j]);
        emit_incidents(w, it, now);
        store_state(w, it);
    }
    if (!err)
        err = wk_batch_commit(w, part, NULL);
    cfd_blobs_clear(states, n);
    free(states);
    free(frames);
    free(n_frames);
    batch_free(&b);
out:
    wk_outs_clear(w);
    cfd_strv_free(orders, n);
    return err;
}


/*
 * The events stage: a partition's fault reports, dispatch and field events applied to
 * their work orders' records (the domain core, cfd_record_apply), the park lists of
 * events that wait for their order or a milestone, the park-window sweep, and the SLA
 * timers.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/due.h"
#include "confirmd/incident.h"
#include "confirmd/kafka.h"
#include "confirmd/log.h"
#include "confirmd/name_index.h"
#include "confirmd/text.h"
#include "emit.h"
#include "stage.h"

#define MOD "worker"
#define TIMER_BATCH 256 /* orders whose timers one tick fires, at most */
#define SWEEP_BATCH 64  /* orders whose park windows one tick closes, at most */

/* An event waiting in an order's park list: for the order to open, or for a milestone
 * it needs (a signature waits for the visit). */
typedef struct parked_ev {
    cfd_parked_ref ref; /* payload borrowed from a message or a loaded frame */
    char topic[256];
    cfd_decoded_event de;
    bool in_redis; /* already in the Redis list */
    bool done;     /* applied, dropped as duplicate, or dead-lettered */
} parked_ev;

/* One work order touched by a batch. */
typedef struct item {
    const char *order; /* borrowed from a decoded event */
    cfd_record *rec;   /* NULL while the order has no opening event */
    bool dirty;
    bool rewrite_park;    /* an event left the Redis park list: write the list anew */
    bool was_complete;    /* the record was complete before the latest change */
    cfd_city_report city; /* what the city rule had of the order, as loaded (owned) */
    bool in_city;         /* the order took part in the city rule, as loaded */
    uint8_t *packed;      /* rec's ConfirmationRecord as last packed (see item_packed) */
    size_t packed_len;
    uint32_t packed_version; /* rec->version when packed */
    cfd_blob *frames;        /* park list as loaded (keeps payloads alive) */
    size_t n_frames;
    parked_ev *parked;
    size_t n_parked, cap_parked;
} item;

/* Queues the Incident messages of the order's severe fault that now calls for, and its
 * SEVERE_FAULT alert when it opens. The event path judges at the latest event time (a
 * backlog restored late still opens and closes it), the timer path at the clock. */
static void emit_incidents(cfd_batch *b, item *it, int64_t now)
{
    cfd_incident incs[3];
    cfd_alert alert;
    bool has_alert;
    size_t n = cfd_incident_collect(it->rec, now, incs, &alert, &has_alert);
    cfd_emit_incidents(b, it->order, incs, n, has_alert ? &alert : NULL);
}

/* @returns the order's record packed as a ConfirmationRecord, packed again only when
 * its version moved: within a batch of events the record changes only by applied
 * events, each of which counts in its version, so the record a batch emits and the
 * state it stores are packed once. (A timer batch changes SLA results without a new
 * version, and packs once, at its end.) */
static const uint8_t *item_packed(item *it, size_t *len)
{
    if (!it->packed || it->packed_version != it->rec->version) {
        free(it->packed);
        cfd_codec_record_encode(it->rec, &it->packed, &it->packed_len);
        it->packed_version = it->rec->version;
    }
    *len = it->packed_len;
    return it->packed;
}

static void emit_record(cfd_batch *b, item *it)
{
    size_t len;
    const uint8_t *packed = item_packed(it, &len);
    cfd_emit_record(b, it->order, it->rec, packed, len);
}

/* Queues the alerts a change calls for, and the record when this change completed
 * the order: called after every change, so a completion is never hidden by a reopen
 * later in the same batch. Amendments of an already completed record (late parts, an
 * event report) are collapsed into one record per batch by event_batch. */
static void emit_outputs(cfd_batch *b, item *it)
{
    cfd_alert alerts[32];
    size_t n = cfd_record_collect_alerts(it->rec, b->env->pol, cfd_batch_now(b), alerts,
                                         sizeof(alerts) / sizeof(alerts[0]));
    for (size_t i = 0; i < n; i++)
        cfd_emit_alert(b, it->order, &alerts[i]);
    emit_incidents(b, it, cfd_record_as_of(it->rec));
    bool complete = cfd_record_is_complete(it->rec);
    if (complete && !it->was_complete && cfd_record_needs_emit(it->rec)) {
        emit_record(b, it);
        cfd_emit_completion_notice(b, it->order, it->rec);
    }
    it->was_complete = complete;
}

/* Queues the order's state and its next SLA instant (its durable timer) for the
 * batch's write. */
static void store_state(cfd_batch *b, item *it)
{
    uint8_t *buf = NULL;
    size_t len = 0, packed_len;
    const uint8_t *packed = item_packed(it, &packed_len);
    cfd_codec_state_encode_packed(it->rec, packed, packed_len, &buf, &len);
    cfd_txn_put_state(b->tx, it->order, buf, len);
    free(buf);
    cfd_txn_timer(b->tx, it->order, cfd_due_next(it->rec, b->env->pol));
}

/* The orders a batch touches. */
typedef struct orders {
    const cfd_msg *msgs;
    size_t n;
    cfd_decoded_event *de;
    item *items;
    size_t n_items;
    cfd_name_index item_named; /* work order -> item index */
    size_t *item_of;           /* message index -> item index, SIZE_MAX when undecodable */
} orders;

static parked_ev *park_add(item *it)
{
    if (it->n_parked == it->cap_parked) {
        it->cap_parked = it->cap_parked ? it->cap_parked * 2 : 4;
        it->parked = cfd_xrealloc(it->parked, it->cap_parked * sizeof(parked_ev));
    }
    parked_ev *p = &it->parked[it->n_parked++];
    memset(p, 0, sizeof(*p));
    return p;
}

/* Dead-letters the event a parked reference (or a message) points at. */
static void dead_letter_parked_ref(cfd_batch *b, const cfd_parked_ref *r, cfd_err why,
                                   const char *detail, const char *order,
                                   const char *event_id)
{
    cfd_msg m = {.topic = r->topic,
                 .partition = r->partition,
                 .offset = r->offset,
                 .payload = r->payload,
                 .len = r->payload_len};
    cfd_batch_dead_letter(b, &m, why, detail, order, event_id);
}

/*
 * Applies one event to its order. An event the record cannot take yet is parked;
 * every change retries what is parked, until nothing more applies.
 * @returns true when the event left the park (applied, duplicate or dead-lettered).
 */
static bool apply_event(cfd_batch *b, item *it, const cfd_event *ev,
                        const cfd_parked_ref *src)
{
    char errstr[256];
    cfd_apply_outcome outcome;
    cfd_err err;

    bool opening;
    err = cfd_record_offer(&it->rec, ev, b->env->pol, &outcome, &opening, errstr,
                           sizeof(errstr));
    if (err) {
        dead_letter_parked_ref(b, src, err, errstr, ev->work_order, ev->event_id);
        return true;
    }
    switch (outcome) {
    case CFD_APPLY_CHANGED:
        it->dirty = true;
        b->env->stats->applied++;
        if (opening)
            cfd_emit_report_notice(b, it->order, ev, src->payload, src->payload_len);
        emit_outputs(b, it);
        return true;
    case CFD_APPLY_DUPLICATE:
        cfd_debug(MOD, "duplicate event %s for work order %s dropped", ev->event_id,
                  ev->work_order);
        b->env->stats->duplicates++;
        return true;
    case CFD_APPLY_PARK:
        break;
    }
    cfd_info(MOD, "work order %s: event %s parked (%s)", ev->work_order, ev->event_id,
             errstr);
    return false;
}

/* Retries the parked events of an order after a change, until none applies. */
static void drain_parked(cfd_batch *b, item *it)
{
    bool progress = true;
    while (progress && it->rec) {
        progress = false;
        for (size_t k = 0; k < it->n_parked; k++) {
            parked_ev *p = &it->parked[k];
            if (p->done)
                continue;
            bool dirty_before = it->dirty;
            it->dirty = false;
            if (apply_event(b, it, &p->de.ev, &p->ref)) {
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
static void apply_message(cfd_batch *bt, orders *b, size_t i, int64_t now)
{
    const cfd_msg *m = &b->msgs[i];
    item *it = &b->items[b->item_of[i]];
    cfd_parked_ref src = {.topic = m->topic,
                          .partition = m->partition,
                          .offset = m->offset,
                          .expire_at_ms = now + bt->env->cfg->park_window_ms,
                          .payload = m->payload,
                          .payload_len = m->len};
    bool dirty_before = it->dirty;
    it->dirty = false;
    if (!apply_event(bt, it, &b->de[i].ev, &src)) {
        parked_ev *p = park_add(it);
        p->ref = src;
        cfd_text_copy(p->topic, sizeof(p->topic), src.topic);
        p->ref.topic = p->topic;
        p->de = b->de[i]; /* the item takes the decoded event over */
        memset(&b->de[i], 0, sizeof(b->de[i]));
        bt->env->stats->parked++;
    }
    if (it->dirty)
        drain_parked(bt, it);
    it->dirty |= dirty_before;
}

/* Writes the order's park list: appends new entries, or rewrites it when some left. */
static void store_parked(cfd_batch *b, item *it)
{
    size_t flen;
    if (it->rewrite_park)
        cfd_txn_unpark(b->tx, it->order);
    for (size_t k = 0; k < it->n_parked; k++) {
        parked_ev *p = &it->parked[k];
        if (p->done || (p->in_redis && !it->rewrite_park))
            continue;
        void *frame = cfd_frame_parked(&p->ref, &flen);
        cfd_txn_park(b->tx, it->order, frame, flen, p->ref.expire_at_ms);
        free(frame);
    }
}

static void item_free(item *it)
{
    cfd_record_destroy(it->rec);
    free(it->packed);
    cfd_city_report_clear(&it->city);
    for (size_t k = 0; k < it->n_parked; k++)
        cfd_codec_event_release(&it->parked[k].de);
    free(it->parked);
    cfd_blobs_clear(it->frames, it->n_frames);
    free(it->frames);
}

static void orders_free(orders *b)
{
    for (size_t i = 0; i < b->n; i++)
        cfd_codec_event_release(&b->de[i]);
    for (size_t i = 0; i < b->n_items; i++)
        item_free(&b->items[i]);
    free(b->de);
    free(b->items);
    free(b->item_of);
    cfd_name_index_free(&b->item_named);
}

/* Decodes every message and groups the good ones by work order. */
static void orders_decode(cfd_batch *bt, orders *b)
{
    char errstr[256];
    b->de = cfd_xcalloc(b->n + 1, sizeof(*b->de));
    b->items = cfd_xcalloc(b->n + 1, sizeof(*b->items));
    b->item_of = cfd_xcalloc(b->n + 1, sizeof(*b->item_of));
    for (size_t i = 0; i < b->n; i++) {
        const cfd_msg *m = &b->msgs[i];
        b->item_of[i] = SIZE_MAX;
        cfd_err err =
            cfd_codec_event_decode(m->payload, m->len, &b->de[i], errstr, sizeof(errstr));
        if (err) {
            char wo[128], eid[128];
            cfd_codec_event_ids(m->payload, m->len, wo, sizeof(wo), eid, sizeof(eid));
            cfd_batch_dead_letter(bt, m, err, errstr, *wo ? wo : NULL, *eid ? eid : NULL);
            continue;
        }
        const char *order = b->de[i].ev.work_order;
        size_t k = cfd_name_index_get(&b->item_named, order);
        if (k == SIZE_MAX) {
            k = b->n_items++;
            b->items[k].order = order;
            cfd_name_index_put(&b->item_named, order, k);
        }
        b->item_of[i] = k;
    }
}

/* Dead-letters entry k of the order's loaded park list, which does not parse. */
static void dead_letter_park_entry(cfd_batch *b, const item *it, size_t k)
{
    char *topic = NULL; /* where it came from is unknown: named after the first input */
    cfd_kafka_topic_names(b->env->cfg->input_topics, &topic, 1);
    cfd_batch_dead_letter_parked(b, topic ? topic : "", it->order, k, it->frames[k].data,
                                 it->frames[k].len);
    free(topic);
}

/* Turns an order's loaded park list into parked events. */
static void item_load_parked(cfd_batch *b, item *it)
{
    char errstr[256];
    for (size_t k = 0; k < it->n_frames; k++) {
        parked_ev *p = park_add(it);
        p->in_redis = true;
        if (cfd_frame_parked_parse(it->frames[k].data, it->frames[k].len, &p->ref, p->topic,
                                   sizeof(p->topic))) {
            dead_letter_park_entry(b, it, k);
            p->done = true;
            it->rewrite_park = true;
            continue;
        }
        cfd_err err = cfd_codec_event_decode(p->ref.payload, p->ref.payload_len, &p->de,
                                             errstr, sizeof(errstr));
        if (err) {
            dead_letter_parked_ref(b, &p->ref, err, errstr, it->order, NULL);
            p->done = true;
            it->rewrite_park = true;
        }
    }
}

/* Loads the items' records and park lists in one round trip (retrying while Redis is
 * away); a record that does not decode stops the batch (cfd_batch_unreadable). */
static cfd_err items_load(cfd_batch *b, item *items, size_t n)
{
    char errstr[512];
    const char **names = cfd_xcalloc(n + 1, sizeof(char *));
    cfd_blob *states = cfd_xcalloc(n + 1, sizeof(cfd_blob));
    cfd_blob **frames = cfd_xcalloc(n + 1, sizeof(cfd_blob *));
    size_t *n_frames = cfd_xcalloc(n + 1, sizeof(size_t));
    cfd_err err;
    for (size_t i = 0; i < n; i++)
        names[i] = items[i].order;
    CFD_REDIS(b->env, err, errstr,
              cfd_store_load(b->env->store, b->part, names, n, states, frames, n_frames,
                             errstr, sizeof(errstr)));
    for (size_t i = 0; !err && i < n; i++) {
        item *it = &items[i];
        it->frames = frames[i];
        it->n_frames = n_frames[i];
        frames[i] = NULL; /* the item owns them now */
        n_frames[i] = 0;
        if (states[i].data && cfd_codec_state_decode(states[i].data, states[i].len,
                                                     &it->rec, errstr, sizeof(errstr)))
            err = cfd_batch_unreadable(b, "work order", it->order, errstr);
    }
    cfd_blobs_clear(states, n);
    for (size_t i = 0; i < n; i++) {
        cfd_blobs_clear(frames[i], n_frames[i]);
        free(frames[i]);
    }
    free(states);
    free(frames);
    free(n_frames);
    free(names);
    return err;
}

/* Loads the batch's orders, with what the city rule had of each and their parked
 * events. */
static cfd_err orders_load(cfd_batch *bt, orders *b)
{
    cfd_err err = items_load(bt, b->items, b->n_items);
    for (size_t i = 0; !err && i < b->n_items; i++) {
        item *it = &b->items[i];
        it->was_complete = it->rec && cfd_record_is_complete(it->rec);
        cfd_city_report city;
        it->in_city = it->rec && cfd_city_report_of(it->rec, &city) &&
                      cfd_city_report_copy(&it->city, &city);
        item_load_parked(bt, it);
    }
    return err;
}

/* Queues what the city rule must hear of the order's change (see
 * cfd_city_report_changes), and remembers what the rule now has of it. */
static void emit_city_reports(cfd_batch *b, item *it)
{
    cfd_city_report out[2], now;
    size_t n = cfd_city_report_changes(it->rec, &it->city, it->in_city, out);
    for (size_t k = 0; k < n; k++)
        cfd_emit_city_report(b, &out[k]);
    if (!n)
        return;
    /* What the key now has: a second change in this batch compares with it. */
    cfd_city_report_clear(&it->city);
    it->in_city = it->rec && cfd_city_report_of(it->rec, &now) &&
                  cfd_city_report_copy(&it->city, &now);
}

static cfd_err event_batch(cfd_batch *bt, const cfd_msg *msgs, size_t n)
{
    int64_t now = cfd_batch_now(bt);
    orders b = {.msgs = msgs, .n = n};
    cfd_err err;
    orders_decode(bt, &b);
    if ((err = orders_load(bt, &b)))
        goto out;
    /* An order whose opening event was parked behind a missing predecessor, or that
     * opened in another batch, may have parked events ready to go. */
    for (size_t k = 0; k < b.n_items; k++)
        drain_parked(bt, &b.items[k]);
    for (size_t i = 0; i < n; i++)
        if (b.item_of[i] != SIZE_MAX)
            apply_message(bt, &b, i, now);
    for (size_t k = 0; k < b.n_items; k++) {
        item *it = &b.items[k];
        store_parked(bt, it);
        if (!it->dirty)
            continue;
        if (cfd_record_needs_emit(it->rec))
            emit_record(bt, it);
        emit_city_reports(bt, it);
        store_state(bt, it);
    }
out:
    orders_free(&b);
    return err;
}

/* The orders of a partition that are due (their timers or park windows), loaded. */
typedef struct due_orders {
    char **names;
    item *items;
    size_t n;
} due_orders;

/* Loads the orders of kind due at now, at most max. */
static cfd_err due_load(cfd_batch *b, cfd_due_kind kind, int64_t now, size_t max,
                        due_orders *d)
{
    cfd_err err = cfd_batch_due(b, kind, now, max, &d->names, &d->n);
    d->items = cfd_xcalloc(d->n + 1, sizeof(item));
    for (size_t i = 0; i < d->n; i++)
        d->items[i].order = d->names[i];
    return err || !d->n ? err : items_load(b, d->items, d->n);
}

static void due_free(due_orders *d)
{
    for (size_t i = 0; i < d->n; i++)
        item_free(&d->items[i]);
    free(d->items);
    cfd_strv_free(d->names, d->n);
}

/* Dead-letters parked events whose window has passed; keeps the others parked. */
static cfd_err sweep_parked(cfd_batch *b, int64_t now)
{
    due_orders d = {0};
    cfd_err err = due_load(b, CFD_DUE_PARKED, now, SWEEP_BATCH, &d);
    for (size_t i = 0; !err && i < d.n; i++) {
        item *it = &d.items[i];
        char detail[300];
        bool opened = it->rec != NULL;
        snprintf(detail, sizeof(detail), "%s within %" PRId64 " s",
                 opened ? "a milestone it needs did not arrive"
                        : "unknown work order: no opening event",
                 b->env->cfg->park_window_ms / 1000);
        item_load_parked(b, it);
        for (size_t k = 0; k < it->n_parked; k++) {
            parked_ev *p = &it->parked[k];
            if (p->done || p->ref.expire_at_ms >= now) /* only after the window */
                continue;
            dead_letter_parked_ref(b, &p->ref,
                                   opened ? CFD_ERR_TRANSITION : CFD_ERR_UNKNOWN_ORDER,
                                   detail, it->order, p->de.ev.event_id);
            p->done = true;
        }
        it->rewrite_park = true;
        store_parked(b, it);
    }
    due_free(&d);
    return err;
}

/* Emits the time-driven alerts of the orders whose timers are due, and moves their
 * timers to the next instant. */
static cfd_err fire_timers(cfd_batch *b, int64_t now)
{
    due_orders d = {0};
    cfd_err err = due_load(b, CFD_DUE_TIMER, now, TIMER_BATCH, &d);
    for (size_t i = 0; !err && i < d.n; i++) {
        item *it = &d.items[i];
        cfd_alert alerts[32];
        if (!it->rec) {
            cfd_txn_timer(b->tx, it->order, 0); /* nothing to time any more */
            continue;
        }
        size_t k = cfd_due_collect(it->rec, b->env->pol, now, alerts,
                                   sizeof(alerts) / sizeof(alerts[0]));
        for (size_t j = 0; j < k; j++)
            cfd_emit_alert(b, it->order, &alerts[j]);
        emit_incidents(b, it, now);
        store_state(b, it);
    }
    due_free(&d);
    return err;
}

static cfd_err event_tick(cfd_batch *b, int64_t now)
{
    cfd_err err = fire_timers(b, now);
    return err ? err : sweep_parked(b, now);
}

static size_t event_topics(const cfd_config *cfg, char **names, size_t max)
{
    return cfd_kafka_topic_names(cfg->input_topics, names, max);
}

const cfd_stage cfd_event_stage = {
    .name = "events", .topics = event_topics, .batch = event_batch, .tick = event_tick};

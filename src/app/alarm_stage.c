/*
 * The alarm stage: inventory records and NOC alarms of a partition, the alarms as
 * confirmd.v1.Alarm or, on worker.tmf642_alarms_topic, as TMF642 JSON (both decode
 * to one cfd_alarm and are decided alike). Alarms are keyed by network object; what
 * they mean for work orders (cfd_alarm_decide) becomes events produced to the events
 * topic keyed by work order, so only the owner of a work order's partition ever
 * advances its record (no two workers race on one).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/log.h"
#include "confirmd/alarm_codec.h"
#include "confirmd/name_index.h"
#include "emit.h"
#include "stage.h"

#define MOD "alarm"

/* One network object touched by the batch. */
typedef struct obj {
    const char *id;         /* borrowed from a decoded message */
    cfd_blob circuit_bytes; /* inventory record: loaded, or set by this batch */
    bool circuit_set;       /* this batch wrote or deleted the record */
    cfd_decoded_circuit circuit;
    bool circuit_decoded;
    cfd_alarm_state *state; /* loaded or new; NULL until an alarm needs it */
    bool state_loaded;
    bool dirty;
} obj;

/* The inventory record a forwarded alarm carries, decoded: a storm forwards the same
 * object's record again and again, and each is decoded once per batch. */
typedef struct fwd_circuit {
    const uint8_t *bytes; /* the record as forwarded, borrowed from a decoded alarm */
    size_t len;
    cfd_decoded_circuit dc;
} fwd_circuit;

typedef struct objects {
    obj *objs;
    size_t n_objs;
    cfd_name_index obj_named;  /* object id -> index in objs */
    cfd_decoded_alarm *alarms; /* per message; pb NULL when not an alarm */
    size_t *obj_of;
    fwd_circuit *fwd; /* the forwarded records decoded so far, by origin object */
    size_t n_fwd;
    cfd_name_index fwd_named; /* origin object id -> index in fwd */
} objects;

static obj *obj_get(objects *nb, const char *id)
{
    size_t k = cfd_name_index_get(&nb->obj_named, id);
    if (k != SIZE_MAX)
        return &nb->objs[k];
    obj *o = &nb->objs[nb->n_objs];
    memset(o, 0, sizeof(*o));
    o->id = id;
    cfd_name_index_put(&nb->obj_named, id, nb->n_objs++);
    return o;
}

static void objects_free(objects *nb, size_t n)
{
    for (size_t i = 0; i < nb->n_objs; i++) {
        obj *o = &nb->objs[i];
        free(o->circuit_bytes.data);
        cfd_codec_circuit_release(&o->circuit);
        cfd_alarm_state_destroy(o->state);
    }
    for (size_t i = 0; i < nb->n_fwd; i++)
        cfd_codec_circuit_release(&nb->fwd[i].dc);
    for (size_t i = 0; i < n; i++)
        cfd_codec_alarm_release(&nb->alarms[i]);
    free(nb->objs);
    free(nb->alarms);
    free(nb->obj_of);
    cfd_name_index_free(&nb->obj_named);
    free(nb->fwd);
    cfd_name_index_free(&nb->fwd_named);
}

/* The events an alarm calls for, as outputs to the events topic; c is the inventory
 * record of the alarm's object (NULL for a customer's report notice). */
static void emit_events(cfd_batch *b, obj *o, const cfd_alarm *a, const cfd_circuit *c,
                        cfd_alarm_action act)
{
    cfd_event evs[2];
    char ids[2][160];
    size_t n = cfd_alarm_events(o->state, a, c, act, b->env->pol, evs, ids);
    for (size_t i = 0; i < n; i++)
        cfd_emit_event(b, &evs[i]);
    if (act != CFD_ALARM_OPEN)
        return;
    cfd_info(MOD, "alarm %s on %s opened work order %s", a->alarm_id, a->network_object,
             o->state->work_order);
    /* Decided elsewhere than on the circuit itself (a port's or a piece of equipment's
     * alarm, or the customer's coordinator): the circuit learns of the order too. */
    cfd_emit_opened_notice(b, c->circuit_id, o->id, o->state->work_order, a->event_time_ms);
}

/* A customer's report on a circuit whose alarm already opened an order: the report
 * joins that order (keeping the earlier clock start), its own order is cancelled. */
static void emit_join(cfd_batch *b, obj *o, const cfd_alarm *a)
{
    char errstr[256];
    cfd_decoded_event de;
    cfd_alarm_join join;
    if (cfd_codec_event_decode(a->report, a->report_len, &de, errstr, sizeof(errstr))) {
        cfd_error(MOD, "report notice for %s unreadable: %s", a->reported_work_order,
                  errstr);
        return;
    }
    cfd_alarm_join_events(o->state, a, &de.ev, &join);
    cfd_emit_event(b, &join.joined);
    cfd_emit_event(b, &join.cancel);
    cfd_info(MOD, "work order %s joins %s (circuit %s)", a->reported_work_order,
             o->state->work_order, a->network_object);
    cfd_codec_event_release(&de);
}

/* What the rules decide for a (an alarm, or a notice when c is NULL) on o's state. */
static void apply_decided(cfd_batch *b, obj *o, const cfd_alarm *a, const cfd_circuit *c)
{
    cfd_alarm_action act = cfd_alarm_decide(o->state, a);
    if (act == CFD_ALARM_IGNORE) {
        o->dirty = true; /* the repeat count moved */
        return;
    }
    o->dirty = true;
    if (act == CFD_ALARM_FREED)
        cfd_info(MOD, "object %s: work order %s completed", a->network_object,
                 a->closed_work_order);
    else if (act == CFD_ALARM_JOIN)
        emit_join(b, o, a);
    else if (c || act == CFD_ALARM_ADOPT) /* ADOPT: a repeat-fault link, if any */
        emit_events(b, o, a, c, act);
}

/* Forwards an alarm on o (of customer_id) to the customer's coordinator, with o's
 * inventory record, under an id of its input position. */
static void forward(cfd_batch *b, const cfd_msg *m, const obj *o, const cfd_alarm *a,
                    const char *customer_id)
{
    char coordinator[200], id[400];
    cfd_alarm fwd = *a;
    cfd_alarm_coordinator(customer_id, coordinator, sizeof(coordinator));
    fwd.coordinator = coordinator;
    fwd.circuit = o->circuit_bytes.data;
    fwd.circuit_len = o->circuit_bytes.len;
    snprintf(id, sizeof(id), "fwd/%s/%" PRId32 "/%" PRId64, m->topic, m->partition,
             m->offset);
    cfd_emit_alarm(b, id, &fwd);
}

/* @returns the inventory record forwarded alarm a carries, decoded (once per batch for
 * each object and record), or NULL when it does not decode (errstr says why). */
static const cfd_circuit *forwarded_circuit(objects *nb, const cfd_alarm *a, char *errstr,
                                            size_t errstr_size)
{
    const char *object = a->network_object ? a->network_object : "";
    size_t k = cfd_name_index_get(&nb->fwd_named, object);
    fwd_circuit *f = k == SIZE_MAX ? NULL : &nb->fwd[k];
    cfd_decoded_circuit dc;
    if (f && f->len == a->circuit_len && (!f->len || !memcmp(f->bytes, a->circuit, f->len)))
        return &f->dc.c;
    if (cfd_codec_circuit_decode(a->circuit, a->circuit_len, &dc, errstr, errstr_size))
        return NULL;
    if (f) {
        cfd_codec_circuit_release(&f->dc); /* the object's record changed */
    } else {
        f = &nb->fwd[nb->n_fwd];
        cfd_name_index_put(&nb->fwd_named, object, nb->n_fwd++);
    }
    *f = (fwd_circuit){a->circuit, a->circuit_len, dc};
    return &f->dc.c;
}

/* Decides one alarm message against its object (or, forwarded, its coordinator). */
static void apply_alarm(cfd_batch *b, objects *nb, const cfd_msg *m, obj *o,
                        const cfd_alarm *a)
{
    char errstr[256];
    bool notice = a->closed_work_order != NULL || a->reported_work_order != NULL ||
                  a->opened_work_order != NULL;
    const cfd_circuit *c = NULL;
    if (!notice && a->coordinator) {
        if (!(c = forwarded_circuit(nb, a, errstr, sizeof(errstr)))) {
            cfd_batch_dead_letter(b, m, CFD_ERR_UNKNOWN_OBJECT, errstr, NULL, a->alarm_id);
            return;
        }
    } else if (!notice) {
        if (!o->circuit_bytes.data) {
            snprintf(errstr, sizeof(errstr),
                     "unknown network object %s: not in the inventory", a->network_object);
            cfd_batch_dead_letter(b, m, CFD_ERR_UNKNOWN_OBJECT, errstr, NULL, a->alarm_id);
            return;
        }
        if (!o->circuit_decoded) {
            if (cfd_codec_circuit_decode(o->circuit_bytes.data, o->circuit_bytes.len,
                                         &o->circuit, errstr, sizeof(errstr))) {
                cfd_batch_dead_letter(b, m, CFD_ERR_UNKNOWN_OBJECT, errstr, NULL,
                                      a->alarm_id);
                return;
            }
            o->circuit_decoded = true;
        }
        c = &o->circuit.c;
        /* The object has no order of its own: the customer's coordinator decides, so
         * that a storm over many objects of one customer opens one order. */
        const char *customer = c->customer.customer_id;
        if (customer && *customer && b->env->cfg->alarm_by_customer && !a->declined &&
            !(o->state && o->state->work_order)) {
            bool changed;
            if (!o->state)
                o->state = cfd_alarm_state_new();
            if (cfd_alarm_forwards(o->state, a, b->env->pol, &changed))
                forward(b, m, o, a, customer);
            o->dirty |= changed;
            return;
        }
    }
    if (!o->state)
        o->state = cfd_alarm_state_new();
    if (a->coordinator && !notice && cfd_alarm_declines(o->state, a, b->env->pol)) {
        /* Too long after the customer's order opened to be the same storm. */
        char id[400];
        cfd_alarm back = *a;
        back.coordinator = NULL;
        back.circuit = NULL;
        back.circuit_len = 0;
        back.declined = true;
        snprintf(id, sizeof(id), "decl/%s/%" PRId32 "/%" PRId64, m->topic, m->partition,
                 m->offset);
        cfd_emit_alarm(b, id, &back);
    } else {
        apply_decided(b, o, a, c);
    }
}

static bool is_inventory(const cfd_batch *b, const cfd_msg *m)
{
    return strcmp(m->topic, b->env->cfg->inventory_topic) == 0;
}

static bool is_tmf642(const cfd_batch *b, const cfd_msg *m)
{
    const char *tmf642 = b->env->cfg->tmf642_alarms_topic;
    return *tmf642 && strcmp(m->topic, tmf642) == 0;
}

/* Decodes the messages and loads their objects' records and alarm states. */
static cfd_err objects_load(cfd_batch *b, objects *nb, const cfd_msg *msgs, size_t n,
                            char **keep, size_t *n_keep)
{
    char errstr[512];
    const char **kinds = cfd_xcalloc(2 * n + 1, sizeof(char *));
    const char **names = cfd_xcalloc(2 * n + 1, sizeof(char *));
    cfd_blob *blobs = cfd_xcalloc(2 * n + 1, sizeof(cfd_blob));
    cfd_err err = CFD_OK;
    for (size_t i = 0; i < n; i++) {
        const cfd_msg *m = &msgs[i];
        nb->obj_of[i] = SIZE_MAX;
        if (is_inventory(b, m)) {
            /* Keyed by object id: a tombstone (no value) has only its key. */
            if (!m->key || !m->key_len)
                continue;
            char *id = cfd_xstrndup(m->key, m->key_len);
            keep[(*n_keep)++] = id; /* lives as long as the batch */
            nb->obj_of[i] = (size_t)(obj_get(nb, id) - nb->objs);
            continue;
        }
        cfd_err derr = is_tmf642(b, m)
                           ? cfd_codec_tmf642_decode(m->payload, m->len, &nb->alarms[i],
                                                     errstr, sizeof(errstr))
                           : cfd_codec_alarm_decode(m->payload, m->len, &nb->alarms[i],
                                                    errstr, sizeof(errstr));
        if (derr) {
            cfd_batch_dead_letter(b, m, derr, errstr, NULL, NULL);
            continue;
        }
        /* A forwarded alarm is decided on its customer's coordinator. */
        const cfd_alarm *a = &nb->alarms[i].a;
        nb->obj_of[i] =
            (size_t)(obj_get(nb, a->coordinator ? a->coordinator : a->network_object) -
                     nb->objs);
    }
    for (size_t k = 0; k < nb->n_objs; k++) {
        kinds[2 * k] = "obj";
        kinds[2 * k + 1] = "alm";
        names[2 * k] = names[2 * k + 1] = nb->objs[k].id;
    }
    CFD_REDIS(b->env, err, errstr,
              cfd_store_get(b->env->store, b->part, kinds, names, 2 * nb->n_objs, blobs,
                            errstr, sizeof(errstr)));
    for (size_t k = 0; !err && k < nb->n_objs; k++) {
        obj *o = &nb->objs[k];
        o->circuit_bytes = blobs[2 * k];
        blobs[2 * k].data = NULL;
        if (blobs[2 * k + 1].data &&
            cfd_codec_alarm_state_decode(blobs[2 * k + 1].data, blobs[2 * k + 1].len,
                                         &o->state, errstr, sizeof(errstr))) {
            err = cfd_batch_unreadable(b, "network object", o->id, errstr);
        }
    }
    cfd_blobs_clear(blobs, 2 * nb->n_objs);
    free(blobs);
    free(kinds);
    free(names);
    return err;
}

/* Applies an inventory record (checked, then kept as given) or its deletion to o. */
static void apply_inventory(cfd_batch *b, const cfd_msg *m, obj *o)
{
    char errstr[256];
    if (m->len) {
        cfd_decoded_circuit dc;
        cfd_err derr =
            cfd_codec_circuit_decode(m->payload, m->len, &dc, errstr, sizeof(errstr));
        if (derr) {
            cfd_batch_dead_letter(b, m, derr, errstr, NULL, NULL);
            return;
        }
        cfd_codec_circuit_release(&dc);
    }
    free(o->circuit_bytes.data);
    o->circuit_bytes = (cfd_blob){NULL, 0};
    if (m->len) {
        o->circuit_bytes.data = cfd_xmalloc(m->len);
        memcpy(o->circuit_bytes.data, m->payload, m->len);
        o->circuit_bytes.len = m->len;
    }
    cfd_codec_circuit_release(&o->circuit);
    o->circuit_decoded = false;
    o->circuit_set = true;
}

/*
 * A worker starting on a backlog may fetch alarms before the inventory they refer to:
 * looked up now, they would be dead-lettered as unknown objects that are only not
 * loaded yet. While the inventory of the partition is behind (this batch's inventory
 * included), the batch's alarms are deferred: consumed again later.
 * @returns the number of messages kept, the others deferred.
 */
static size_t defer_alarms(cfd_batch *b, cfd_msg *msgs, size_t n)
{
    const char *inventory = b->env->cfg->inventory_topic;
    int64_t inv = -1;
    bool alarms = false;
    if (!*inventory)
        return n;
    for (size_t i = 0; i < n; i++) {
        if (!is_inventory(b, &msgs[i]))
            alarms = true;
        else if (msgs[i].offset > inv)
            inv = msgs[i].offset;
    }
    if (!alarms || cfd_batch_caught_up(b, inventory, inv))
        return n;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_inventory(b, &msgs[i]))
            msgs[k++] = msgs[i];
        else
            cfd_batch_defer(b, &msgs[i]);
    }
    return k;
}

static cfd_err alarm_batch(cfd_batch *b, const cfd_msg *in, size_t n)
{
    cfd_msg *msgs = cfd_xcalloc(n + 1, sizeof(*msgs));
    memcpy(msgs, in, n * sizeof(*msgs));
    n = defer_alarms(b, msgs, n);
    objects nb = {.objs = cfd_xcalloc(n + 1, sizeof(obj)),
                  .alarms = cfd_xcalloc(n + 1, sizeof(cfd_decoded_alarm)),
                  .obj_of = cfd_xcalloc(n + 1, sizeof(size_t)),
                  .fwd = cfd_xcalloc(n + 1, sizeof(fwd_circuit))};
    char **keep =
        cfd_xcalloc(n + 1, sizeof(char *)); /* object ids copied from message keys */
    size_t n_keep = 0;
    cfd_err err = objects_load(b, &nb, msgs, n, keep, &n_keep);
    /* The inventory first, so that alarms of this batch see its changes. */
    for (size_t i = 0; !err && i < n; i++)
        if (nb.obj_of[i] != SIZE_MAX && is_inventory(b, &msgs[i]))
            apply_inventory(b, &msgs[i], &nb.objs[nb.obj_of[i]]);
    for (size_t i = 0; !err && i < n; i++)
        if (nb.obj_of[i] != SIZE_MAX && !is_inventory(b, &msgs[i]))
            apply_alarm(b, &nb, &msgs[i], &nb.objs[nb.obj_of[i]], &nb.alarms[i].a);
    for (size_t k = 0; !err && k < nb.n_objs; k++) {
        obj *o = &nb.objs[k];
        if (o->circuit_set) {
            if (o->circuit_bytes.data)
                cfd_txn_put(b->tx, "obj", o->id, o->circuit_bytes.data,
                            o->circuit_bytes.len);
            else
                cfd_txn_del(b->tx, "obj", o->id);
        }
        if (o->dirty) {
            uint8_t *buf = NULL;
            size_t len = 0;
            cfd_codec_alarm_state_encode(o->state, &buf, &len);
            cfd_txn_put(b->tx, "alm", o->id, buf, len);
            free(buf);
        }
    }
    objects_free(&nb, n);
    for (size_t j = 0; j < n_keep; j++)
        free(keep[j]);
    free(keep);
    free(msgs);
    return err;
}

static size_t alarm_topics(const cfd_config *cfg, char **names, size_t max)
{
    size_t n = 0;
    if (*cfg->alarms_topic && n++ < max)
        names[n - 1] = cfd_xstrdup(cfg->alarms_topic);
    if (*cfg->inventory_topic && n++ < max)
        names[n - 1] = cfd_xstrdup(cfg->inventory_topic);
    if (*cfg->tmf642_alarms_topic && n++ < max)
        names[n - 1] = cfd_xstrdup(cfg->tmf642_alarms_topic);
    return n;
}

const cfd_stage cfd_alarm_stage = {
    .name = "alarms", .topics = alarm_topics, .batch = alarm_batch, .tick = NULL};

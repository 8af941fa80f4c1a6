/*
 * The replay engine (include/confirmd/replay.h): work orders by name index, each with
 * its record and the decoded events it parked, driven by cfd_record_offer as the event
 * stage drives it; the tally judges duties with cfd_duty_judge_all.
 */
#include "confirmd/replay.h"

#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/duty.h"
#include "confirmd/name_index.h"

/* One work order: its record (NULL until opened) and the events waiting for it. */
typedef struct rorder {
    char *order;
    cfd_record *rec;
    cfd_decoded_event *parked;
    size_t n_parked, cap_parked;
} rorder;

struct cfd_replay {
    const cfd_policy *pol;
    char *only;
    rorder *orders; /* in the order first seen */
    size_t n, cap;
    cfd_name_index named; /* order -> index into orders */
    size_t *opened;       /* indexes of orders with a record, in the order they opened */
    size_t n_opened;
    cfd_replay_stats st;
};

static rorder *order_get(cfd_replay *r, const char *order)
{
    size_t k = cfd_name_index_get(&r->named, order);
    if (k != SIZE_MAX)
        return &r->orders[k];
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->orders = cfd_xrealloc(r->orders, r->cap * sizeof(*r->orders));
        r->opened = cfd_xrealloc(r->opened, r->cap * sizeof(*r->opened));
    }
    rorder *o = &r->orders[r->n];
    memset(o, 0, sizeof(*o));
    o->order = cfd_xstrdup(order); /* the index key: realloc of orders leaves it */
    cfd_name_index_put(&r->named, o->order, r->n++);
    return o;
}

cfd_replay *cfd_replay_new(const cfd_policy *pol, const char *only)
{
    cfd_replay *r = cfd_xcalloc(1, sizeof(*r));
    r->pol = pol;
    r->only = only ? cfd_xstrdup(only) : NULL;
    return r;
}

void cfd_replay_destroy(cfd_replay *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->n; k++) {
        rorder *o = &r->orders[k];
        cfd_record_destroy(o->rec);
        for (size_t i = 0; i < o->n_parked; i++)
            cfd_codec_event_release(&o->parked[i]);
        free(o->parked);
        free(o->order);
    }
    free(r->orders);
    free(r->opened);
    cfd_name_index_free(&r->named);
    free(r->only);
    free(r);
}

/* Offers ev to its order. @returns true when it left (or never entered) the park:
 * applied, a duplicate or rejected; *changed when it changed the record. */
static bool offer(cfd_replay *r, rorder *o, const cfd_event *ev, bool *changed,
                  cfd_err *err, char *errstr, size_t errstr_size)
{
    cfd_apply_outcome outcome;
    bool opened;

    *changed = false;
    *err = cfd_record_offer(&o->rec, ev, r->pol, &outcome, &opened, errstr, errstr_size);
    if (opened)
        r->opened[r->n_opened++] = (size_t)(o - r->orders);
    if (*err) {
        r->st.rejected++;
        return true;
    }
    if (outcome == CFD_APPLY_PARK)
        return false;
    if (outcome == CFD_APPLY_DUPLICATE) {
        r->st.duplicates++;
        return true;
    }
    r->st.applied++;
    if (ev->event_time_ms > r->st.latest_ms)
        r->st.latest_ms = ev->event_time_ms;
    *changed = true;
    return true;
}

/* Retries the order's parked events after a change until none applies, as the event
 * stage does (an event can unlock another parked one). */
static void drain(cfd_replay *r, rorder *o)
{
    char errstr[256];
    bool progress = true, changed;
    cfd_err err;

    while (progress && o->rec) {
        progress = false;
        for (size_t i = 0; i < o->n_parked;) {
            if (!offer(r, o, &o->parked[i].ev, &changed, &err, errstr, sizeof(errstr))) {
                i++;
                continue;
            }
            cfd_codec_event_release(&o->parked[i]);
            o->parked[i] = o->parked[--o->n_parked];
            progress |= changed;
        }
    }
}

cfd_err cfd_replay_add(cfd_replay *r, const void *buf, size_t len, char *errstr,
                       size_t errstr_size)
{
    cfd_decoded_event de;
    bool changed;
    cfd_err err;

    memset(&de, 0, sizeof(de));
    if ((err = cfd_codec_event_decode(buf, len, &de, errstr, errstr_size))) {
        r->st.undecodable++;
        return err;
    }
    if (r->only && strcmp(r->only, de.ev.work_order) != 0) {
        r->st.skipped++;
        cfd_codec_event_release(&de);
        return CFD_OK;
    }
    rorder *o = order_get(r, de.ev.work_order);
    if (!offer(r, o, &de.ev, &changed, &err, errstr, errstr_size)) {
        if (o->n_parked == o->cap_parked) {
            o->cap_parked = o->cap_parked ? o->cap_parked * 2 : 4;
            o->parked = cfd_xrealloc(o->parked, o->cap_parked * sizeof(*o->parked));
        }
        o->parked[o->n_parked++] = de; /* the order takes the decoded event over */
        return CFD_OK;
    }
    cfd_codec_event_release(&de);
    if (changed)
        drain(r, o);
    return err;
}

cfd_replay_stats cfd_replay_stats_get(const cfd_replay *r)
{
    cfd_replay_stats st = r->st;
    st.parked = 0;
    for (size_t k = 0; k < r->n; k++)
        st.parked += r->orders[k].n_parked;
    return st;
}

size_t cfd_replay_count(const cfd_replay *r)
{
    return r->n_opened;
}

const cfd_record *cfd_replay_at(const cfd_replay *r, size_t i)
{
    return i < r->n_opened ? r->orders[r->opened[i]].rec : NULL;
}

const cfd_record *cfd_replay_find(const cfd_replay *r, const char *order)
{
    size_t k = cfd_name_index_get(&r->named, order);
    return k == SIZE_MAX ? NULL : r->orders[k].rec;
}

/* Adds one judged order to t. */
static void tally_add(cfd_replay_tally *t, const cfd_record *rec,
                      const cfd_duty all[CFD_METRIC_COUNT])
{
    t->orders++;
    t->points += rec->penalty_points;
    for (int m = 1; m < CFD_METRIC_COUNT; m++) {
        switch (all[m].state) {
        case CFD_DUTY_MET:
            t->met++;
            break;
        case CFD_DUTY_MET_LATE:
        case CFD_DUTY_OVERDUE:
            t->breached++;
            break;
        case CFD_DUTY_RUNNING:
        case CFD_DUTY_PAUSED:
            t->open++;
            break;
        case CFD_DUTY_PENDING:
        case CFD_DUTY_NOT_APPLICABLE:
            break;
        }
    }
}

/* @returns the tally of key in *groups, added when new. */
static cfd_replay_tally *group_of(cfd_replay_group **groups, size_t *n, const char *key)
{
    const cfd_replay_group *found = cfd_replay_group_find(*groups, *n, key);
    if (found)
        return &(*groups)[found - *groups].t;
    *groups = cfd_xrealloc(*groups, (*n + 1) * sizeof(**groups));
    cfd_replay_group *g = &(*groups)[(*n)++];
    memset(g, 0, sizeof(*g));
    g->key = cfd_xstrdup(key);
    return &g->t;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const cfd_replay_group *)a)->key, ((const cfd_replay_group *)b)->key);
}

void cfd_replay_summarize(const cfd_replay *r, int64_t at_ms, cfd_replay_summary *out)
{
    cfd_duty all[CFD_METRIC_COUNT];

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < r->n_opened; i++) {
        const cfd_record *rec = cfd_replay_at(r, i);
        cfd_duty_judge_all(rec, r->pol, at_ms, all);
        tally_add(&out->total, rec, all);
        tally_add(group_of(&out->tiers, &out->n_tiers, cfd_tier_name(rec->customer.tier)),
                  rec, all);
        tally_add(group_of(&out->contractors, &out->n_contractors,
                           rec->contractor ? rec->contractor : ""),
                  rec, all);
    }
    if (out->n_tiers)
        qsort(out->tiers, out->n_tiers, sizeof(*out->tiers), by_key);
    if (out->n_contractors)
        qsort(out->contractors, out->n_contractors, sizeof(*out->contractors), by_key);
}

void cfd_replay_summary_clear(cfd_replay_summary *s)
{
    for (size_t i = 0; i < s->n_tiers; i++)
        free(s->tiers[i].key);
    for (size_t i = 0; i < s->n_contractors; i++)
        free(s->contractors[i].key);
    free(s->tiers);
    free(s->contractors);
    memset(s, 0, sizeof(*s));
}

const cfd_replay_group *cfd_replay_group_find(const cfd_replay_group *groups, size_t n,
                                              const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(groups[i].key, key) == 0)
            return &groups[i];
    return NULL;
}

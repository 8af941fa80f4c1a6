/*
 * What an alarm means for work orders; see include/confirmd/alarm.h.
 */
#include "confirmd/alarm.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/text.h"

cfd_alarm_state *cfd_alarm_state_new(void)
{
    return cfd_xcalloc(1, sizeof(cfd_alarm_state));
}

static void forget_forwarded(cfd_alarm_state *st)
{
    for (size_t i = 0; i < st->n_forwarded; i++)
        free(st->forwarded[i].alarm_id);
    free(st->forwarded);
    st->forwarded = NULL;
    st->n_forwarded = 0;
}

void cfd_alarm_state_destroy(cfd_alarm_state *st)
{
    if (!st)
        return;
    free(st->work_order);
    cfd_strv_free(st->alarm_ids, st->n_alarm_ids);
    cfd_strv_free(st->cleared_ids, st->n_cleared_ids);
    free(st->last_work_order);
    free(st->opened_on);
    forget_forwarded(st);
    free(st);
}

static bool empty(const char *s)
{
    return !s || !*s;
}

void cfd_alarm_coordinator(const char *customer_id, char *buf, size_t size)
{
    snprintf(buf, size, "customer:%s", customer_id ? customer_id : "");
}

cfd_err cfd_alarm_validate(const cfd_alarm *a, char *errstr, size_t errstr_size)
{
    const char *missing = empty(a->network_object) ? "network_object"
                          : empty(a->alarm_id)     ? "alarm_id"
                          : a->event_time_ms <= 0  ? "event_time_ms"
                                                   : NULL;
    if (missing) {
        snprintf(errstr, errstr_size, "missing field %s", missing);
        return CFD_ERR_MISSING_FIELD;
    }
    if ((int)a->severity < CFD_ALARM_UNSPECIFIED || (int)a->severity > CFD_ALARM_CRITICAL) {
        snprintf(errstr, errstr_size, "severity %d out of range", (int)a->severity);
        return CFD_ERR_INVALID_VALUE;
    }
    return CFD_OK;
}

/* v is sorted (add_sorted). */
static bool has(char *const *v, size_t n, const char *s)
{
    bool found;
    cfd_sorted_find(v, n, sizeof(*v), 0, s, &found);
    return found;
}

/* Inserts s keeping v sorted (so the stored state is canonical). */
static void add_sorted(char ***v, size_t *n, const char *s)
{
    char **nv = cfd_xrealloc(*v, (*n + 1) * sizeof(char *));
    char *copy = cfd_xstrdup(s);
    size_t i = *n;
    while (i > 0 && strcmp(nv[i - 1], s) > 0) {
        nv[i] = nv[i - 1];
        i--;
    }
    nv[i] = copy;
    *v = nv;
    (*n)++;
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = cfd_text_dup(s);
}

/* True when order is the object's last completed order: a notice about it that comes
 * after its completion (re-sent from an outbox after a crash, or overtaken by the
 * completion) must not bind the object to it again. */
static bool completed_already(const cfd_alarm_state *st, const char *order)
{
    return st->last_work_order && strcmp(st->last_work_order, order) == 0;
}

/* Makes the completed order of notice a the object's last one. */
static void remember_completed(cfd_alarm_state *st, const cfd_alarm *a)
{
    set_str(&st->last_work_order, a->closed_work_order);
    st->last_closed_at_ms = a->event_time_ms;
    st->last_needs_observation = a->closed_needs_observation;
    st->last_watched_from_ms = a->closed_watched_from_ms;
}

static cfd_alarm_action decide_notice(cfd_alarm_state *st, const cfd_alarm *a)
{
    if (!st->work_order && a->event_time_ms >= st->last_closed_at_ms) {
        /* Completed before the notice that would have bound it arrived: remember it,
         * so that notice changes nothing when it comes. */
        remember_completed(st, a);
        return CFD_ALARM_IGNORE;
    }
    /* A notice for an order the object has already moved on from changes nothing. */
    if (!st->work_order || strcmp(st->work_order, a->closed_work_order) != 0)
        return CFD_ALARM_IGNORE;
    remember_completed(st, a);
    set_str(&st->work_order, NULL);
    set_str(&st->opened_on, NULL);
    cfd_strv_free(st->alarm_ids, st->n_alarm_ids);
    cfd_strv_free(st->cleared_ids, st->n_cleared_ids);
    st->alarm_ids = st->cleared_ids = NULL;
    st->n_alarm_ids = st->n_cleared_ids = 0;
    st->opened_at_ms = 0;
    forget_forwarded(st);
    return CFD_ALARM_FREED;
}

/* An order opened by an alarm on another object of this circuit. Where the circuit
 * already has an open order (a customer reported first), both orders stay: which one
 * the field works is the NOC's call, not a rule's. */
static cfd_alarm_action decide_opened(cfd_alarm_state *st, const cfd_alarm *a)
{
    if (st->work_order || completed_already(st, a->opened_work_order))
        return CFD_ALARM_IGNORE;
    set_str(&st->work_order, a->opened_work_order);
    forget_forwarded(st);
    set_str(&st->opened_on, empty(a->opened_on) ? NULL : a->opened_on);
    st->opened_at_ms = a->event_time_ms;
    return CFD_ALARM_ADOPT;
}

static cfd_alarm_action decide_report(cfd_alarm_state *st, const cfd_alarm *a)
{
    if ((st->work_order && strcmp(st->work_order, a->reported_work_order) == 0) ||
        completed_already(st, a->reported_work_order))
        return CFD_ALARM_IGNORE; /* a replay of the notice, or a late one */
    if (st->work_order)
        return CFD_ALARM_JOIN;
    set_str(&st->work_order, a->reported_work_order);
    forget_forwarded(st);
    st->opened_at_ms = a->event_time_ms;
    return CFD_ALARM_ADOPT;
}

bool cfd_alarm_declines(const cfd_alarm_state *st, const cfd_alarm *a,
                        const cfd_policy *pol)
{
    return st->work_order && !a->cleared && empty(a->closed_work_order) &&
           empty(a->reported_work_order) && empty(a->opened_work_order) &&
           !has(st->alarm_ids, st->n_alarm_ids, a->alarm_id) &&
           a->event_time_ms - st->opened_at_ms > pol->customer_storm_window_ms;
}

/* Drops the forwarded alarms whose window closed before t (none could keep a repeat at
 * t or later), so the list stays as short as the storm. */
static void prune_forwarded(cfd_alarm_state *st, int64_t t, int64_t window)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n_forwarded; i++) {
        if (t - st->forwarded[i].at_ms > window)
            free(st->forwarded[i].alarm_id);
        else
            st->forwarded[k++] = st->forwarded[i];
    }
    st->n_forwarded = k;
}

bool cfd_alarm_forwards(cfd_alarm_state *st, const cfd_alarm *a, const cfd_policy *pol,
                        bool *changed)
{
    int64_t window = pol->customer_storm_window_ms;
    bool found;
    size_t i = cfd_sorted_find(st->forwarded, st->n_forwarded, sizeof(*st->forwarded),
                               offsetof(cfd_forwarded, alarm_id), a->alarm_id, &found);
    cfd_forwarded *f = found ? &st->forwarded[i] : NULL;
    *changed = false;
    if (a->cleared) {
        if (f) {
            free(f->alarm_id);
            memmove(f, f + 1, (st->n_forwarded - i - 1) * sizeof(*f));
            st->n_forwarded--;
            *changed = true;
        }
        return true;
    }
    if (a->severity < CFD_ALARM_MAJOR)
        return true; /* the coordinator may link it once an order is open */
    if (f && f->severity == a->severity && a->event_time_ms >= f->at_ms &&
        a->event_time_ms - f->at_ms <= window)
        return false; /* nothing to store: a storm costs the object no write */
    *changed = true;
    if (f) {
        if (a->event_time_ms >= f->at_ms || f->severity != a->severity) {
            f->severity = a->severity;
            f->at_ms = a->event_time_ms;
        }
    } else {
        st->forwarded =
            cfd_xrealloc(st->forwarded, (st->n_forwarded + 1) * sizeof(*st->forwarded));
        memmove(&st->forwarded[i + 1], &st->forwarded[i],
                (st->n_forwarded - i) * sizeof(*st->forwarded));
        st->forwarded[i] =
            (cfd_forwarded){cfd_xstrdup(a->alarm_id), a->severity, a->event_time_ms};
        st->n_forwarded++;
    }
    prune_forwarded(st, a->event_time_ms, window);
    return true;
}

cfd_alarm_action cfd_alarm_decide(cfd_alarm_state *st, const cfd_alarm *a)
{
    if (!empty(a->closed_work_order))
        return decide_notice(st, a);
    if (!empty(a->reported_work_order))
        return decide_report(st, a);
    if (!empty(a->opened_work_order))
        return decide_opened(st, a);
    bool linked = st->work_order && has(st->alarm_ids, st->n_alarm_ids, a->alarm_id);
    if (a->cleared) {
        if (!linked || has(st->cleared_ids, st->n_cleared_ids, a->alarm_id)) {
            st->repeats++;
            return CFD_ALARM_IGNORE;
        }
        add_sorted(&st->cleared_ids, &st->n_cleared_ids, a->alarm_id);
        return CFD_ALARM_CLEAR;
    }
    if (linked) {
        /* A storm of repeats, or flapping (raised again after its clear): the order
         * already knows this alarm; never a second order for it. */
        st->repeats++;
        return CFD_ALARM_IGNORE;
    }
    if (st->work_order) {
        add_sorted(&st->alarm_ids, &st->n_alarm_ids, a->alarm_id);
        return CFD_ALARM_LINK;
    }
    /* Raised before the last order completed, and arriving after its completion
     * notice (a longer way round, e.g. through the customer's coordinator): it is that
     * order's alarm, not a new fault. */
    if (st->last_work_order && a->event_time_ms < st->last_closed_at_ms)
        return CFD_ALARM_LATE;
    if (a->severity < CFD_ALARM_MAJOR) {
        st->repeats++;
        return CFD_ALARM_IGNORE;
    }
    /* Deterministic: a replay of the alarm opens the same order. */
    char wo[160];
    snprintf(wo, sizeof(wo), "ALM-%s", a->alarm_id);
    set_str(&st->work_order, wo);
    forget_forwarded(st);
    st->opened_at_ms = a->event_time_ms;
    add_sorted(&st->alarm_ids, &st->n_alarm_ids, a->alarm_id);
    return CFD_ALARM_OPEN;
}

/* Starts *ev as the alarm side's event `kind` (source NOC) of order wo at t, named id. */
static void alarm_event_start(cfd_event *ev, const char *id, const char *wo,
                              cfd_milestone kind, int64_t t)
{
    memset(ev, 0, sizeof(*ev));
    ev->event_id = id;
    ev->work_order = wo;
    ev->source = CFD_SOURCE_NOC;
    ev->event_time_ms = t;
    ev->reported_by = "noc";
    ev->kind = kind;
}

/* The alarm as an event of order wo. */
static void alarm_event(cfd_event *ev, const char *wo, const cfd_alarm *a, char id[160])
{
    snprintf(id, 160, "alm-%s-%s", a->alarm_id, a->cleared ? "clear" : "raise");
    alarm_event_start(ev, id, wo, CFD_MS_ALARM, a->event_time_ms);
    ev->alarm.alarm_id = a->alarm_id;
    ev->alarm.network_object = a->network_object;
    ev->alarm.severity = a->severity;
    ev->alarm.cleared = a->cleared;
    ev->alarm.text = a->text;
}

const char *cfd_alarm_repeat_of(const cfd_alarm_state *st, int64_t t_ms,
                                const cfd_policy *pol)
{
    if (!st->last_work_order || !st->last_needs_observation ||
        !cfd_policy_in_observation(pol, st->last_watched_from_ms, t_ms))
        return NULL;
    return st->last_work_order;
}

size_t cfd_alarm_events(const cfd_alarm_state *st, const cfd_alarm *a, const cfd_circuit *c,
                        cfd_alarm_action action, const cfd_policy *pol, cfd_event out[2],
                        char ids[2][160])
{
    size_t n = 0;
    if (action == CFD_ALARM_OPEN) {
        cfd_event *ev = &out[n];
        snprintf(ids[n], 160, "alm-open-%s", a->alarm_id);
        /* At the alarm's time: the restoration clock starts there. */
        alarm_event_start(ev, ids[n], st->work_order, CFD_MS_REPORTED, a->event_time_ms);
        ev->report.issuing_unit = "NOC monitoring";
        ev->report.customer = c->customer;
        /* The circuit's own class fills what the customer block leaves unset. */
        if (ev->report.customer.importance == CFD_IMPORTANCE_ORDINARY)
            ev->report.customer.importance = c->importance;
        ev->report.customer.diamond |= c->diamond;
        ev->report.customer.cross_city_rental |= c->cross_city_rental;
        /* A critical alarm: the service is down for all its users (全阻). */
        ev->report.full_interruption = a->severity == CFD_ALARM_CRITICAL;
        ev->report.circuit_id = c->circuit_id;
        ev->report.access_point = c->access_point;
        ev->report.equipment = c->equipment;
        ev->report.problem_description = a->text; /* the NOC's own words */
        /* The object whose state holds the order: the coordinator for a forwarded
         * alarm; the completion notice goes there. */
        ev->report.alarm_object = a->coordinator ? a->coordinator : a->network_object;
        ev->report.previous_work_order = cfd_alarm_repeat_of(st, a->event_time_ms, pol);
        n++;
    }
    /* A customer's report opened the circuit's order: the service links it. */
    const char *earlier = cfd_alarm_repeat_of(st, a->event_time_ms, pol);
    if (action == CFD_ALARM_ADOPT && !empty(a->reported_work_order) && earlier) {
        snprintf(ids[n], 160, "repeat-%s", a->reported_work_order);
        alarm_event_start(&out[n], ids[n], a->reported_work_order, CFD_MS_REPEAT_FAULT,
                          a->event_time_ms);
        out[n].repeat.previous_work_order = earlier;
        n++;
    }
    if (action == CFD_ALARM_OPEN || action == CFD_ALARM_LINK || action == CFD_ALARM_CLEAR) {
        alarm_event(&out[n], st->work_order, a, ids[n]);
        n++;
    } else if (action == CFD_ALARM_LATE) {
        alarm_event(&out[n], st->last_work_order, a, ids[n]);
        n++;
    }
    return n;
}

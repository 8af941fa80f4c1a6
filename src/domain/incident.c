/*
 * Severe faults of important customers; see include/confirmd/incident.h.
 */
#include "confirmd/incident.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool cfd_incident_is_important(const cfd_customer *c)
{
    return c->importance != CFD_IMPORTANCE_ORDINARY || c->diamond || c->cross_city_rental;
}

static bool is_diamond(const cfd_customer *c)
{
    return c->diamond || c->importance == CFD_IMPORTANCE_CITY_DIAMOND;
}

int64_t cfd_incident_threshold(const cfd_customer *c)
{
    return c->cross_city_rental && !is_diamond(c) ? CFD_INCIDENT_RENTAL_THRESHOLD_MS
                                                  : CFD_INCIDENT_THRESHOLD_MS;
}

/* Customer equipment or the customer's own network: not the operator's fault. */
static bool customer_caused(cfd_cause c)
{
    return c == CFD_CAUSE_CUSTOMER_EQUIPMENT || c == CFD_CAUSE_CUSTOMER_NETWORK;
}

/* The cause known at t: that of the latest diagnosis at or before it. */
static cfd_cause cause_at(const cfd_record *rec, int64_t t)
{
    cfd_cause c = CFD_CAUSE_UNSPECIFIED;

    for (size_t i = 0; i < rec->n_timeline && rec->timeline[i].event_time_ms <= t; i++)
        if (rec->timeline[i].milestone == CFD_MS_DIAGNOSED)
            c = rec->timeline[i].cause;
    return c;
}

/* When the order closed or was cancelled (its latest such event); 0 while open. */
static int64_t completed_at(const cfd_record *rec)
{
    if (!cfd_record_is_complete(rec))
        return 0;
    for (size_t i = rec->n_timeline; i > 0; i--) {
        cfd_milestone m = rec->timeline[i - 1].milestone;

        if (m == CFD_MS_CLOSED || m == CFD_MS_CANCELLED)
            return rec->timeline[i - 1].event_time_ms;
    }
    return cfd_record_as_of(rec);
}

void cfd_incident_judge(const cfd_record *rec, int64_t now_ms, cfd_incident_view *v)
{
    int64_t report = rec->reported_at_ms, alarm = rec->first_alarm_at_ms;

    memset(v, 0, sizeof(*v));
    v->important = cfd_incident_is_important(&rec->customer);
    v->threshold_ms = cfd_incident_threshold(&rec->customer);
    v->rule = v->threshold_ms == CFD_INCIDENT_RENTAL_THRESHOLD_MS
                  ? CFD_INCIDENT_RULE_CROSS_CITY_RENTAL
                  : CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER;
    /* The restoration clock's start: the report or the first alarm, whichever first. */
    v->started_at_ms = report == 0                      ? alarm
                       : (alarm == 0 || report < alarm) ? report
                                                        : alarm;
    v->ended_at_ms = rec->restored_at_ms ? rec->restored_at_ms : completed_at(rec);
    v->ownership_unclear =
        rec->cause == CFD_CAUSE_UNSPECIFIED || rec->cause == CFD_CAUSE_OTHER;
    v->excluded = customer_caused(rec->cause);
    if (!v->important || !rec->full_interruption || v->started_at_ms == 0)
        return;
    v->opens_at_ms = v->started_at_ms + v->threshold_ms;
    /* "More than" the threshold: restored exactly at it is in time. */
    if (now_ms <= v->opens_at_ms || (v->ended_at_ms && v->ended_at_ms <= v->opens_at_ms))
        return;
    /* Not the operator's fault, known when the threshold passed and still so: no
     * severe fault. Found only later, it excludes the incident from the assessment. */
    if (customer_caused(cause_at(rec, v->opens_at_ms)) && v->excluded)
        return;
    v->severe = true;
}

int64_t cfd_incident_next(const cfd_record *rec)
{
    cfd_incident_view v;

    if (rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_OPEN)
        return 0;
    cfd_incident_judge(rec, 0, &v);
    if (v.opens_at_ms == 0)
        return 0;
    /* Just after the threshold, as a breach just after its deadline. */
    cfd_incident_judge(rec, v.opens_at_ms + 1, &v);
    return v.severe && v.ended_at_ms == 0 ? v.opens_at_ms + 1 : 0;
}

const char *cfd_incident_kind_name(cfd_incident_kind k)
{
    switch (k) {
    case CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION:
        return "INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION";
    case CFD_INCIDENT_MULTI_CUSTOMER_CITY:
        return "INCIDENT_KIND_MULTI_CUSTOMER_CITY";
    default:
        return "INCIDENT_KIND_UNSPECIFIED";
    }
}

const char *cfd_incident_status_name(cfd_incident_status s)
{
    switch (s) {
    case CFD_INCIDENT_OPEN:
        return "INCIDENT_STATUS_OPEN";
    case CFD_INCIDENT_UPDATE:
        return "INCIDENT_STATUS_UPDATE";
    case CFD_INCIDENT_CLOSED:
        return "INCIDENT_STATUS_CLOSED";
    default:
        return "?";
    }
}

static void fill(cfd_incident *inc, cfd_record *rec, const cfd_incident_view *v,
                 cfd_incident_status status, int64_t now_ms)
{
    bool closed = rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_CLOSED;

    memset(inc, 0, sizeof(*inc));
    snprintf(inc->incident_id, sizeof(inc->incident_id), "INC-%s",
             rec->work_order ? rec->work_order : "");
    inc->kind = CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION;
    inc->rule = v->rule;
    inc->decided_at_ms = now_ms;
    inc->status = status;
    inc->work_order = rec->work_order;
    inc->customer_id = rec->customer.customer_id;
    inc->city = rec->customer.city;
    inc->service = rec->customer.affected_service;
    inc->tier = rec->customer.tier;
    inc->importance = rec->customer.importance;
    inc->started_at_ms = v->started_at_ms;
    inc->threshold_ms = v->threshold_ms;
    inc->opened_at_ms = v->opens_at_ms;
    inc->closed_at_ms = closed ? v->ended_at_ms : 0;
    inc->ownership_unclear = v->ownership_unclear;
    inc->excluded_from_assessment = v->excluded;
    inc->version = ++rec->incident_version;
}

/* How people name the class: "province-level", "cross-city rental". */
static const char *importance_label(const cfd_customer *c)
{
    switch (c->importance) {
    case CFD_IMPORTANCE_PROVINCE_LEVEL:
        return "province-level";
    case CFD_IMPORTANCE_CITY_DIAMOND:
        return "city diamond";
    case CFD_IMPORTANCE_CROSS_PROVINCE:
        return "cross-province line";
    case CFD_IMPORTANCE_CROSS_CITY:
        return "cross-city line";
    default:
        break;
    }
    return c->diamond ? "diamond" : "cross-city rental";
}

void cfd_incident_alert_init(cfd_alert *a, const char *owner, const char *city,
                             int64_t deadline_ms, int64_t now_ms, int64_t since_ms,
                             char *since, size_t since_size)
{
    time_t secs = (time_t)(since_ms / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL ||
        strftime(since, since_size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(since, since_size, "%lld ms", (long long)since_ms);
    memset(a, 0, sizeof(*a));
    a->kind = CFD_ALERT_SEVERE_FAULT;
    a->work_order = owner;
    a->metric = CFD_METRIC_NONE;
    a->deadline_ms = deadline_ms;
    a->fired_at_ms = now_ms;
    a->recipients = CFD_RECIPIENT_NOC_DUTY_MANAGER;
    a->city = city;
    cfd_alert_make_id(a);
}

/* The SMS-by-level notification: facts only, never names, phones or addresses. */
static void severe_alert(cfd_alert *a, const cfd_record *rec, const cfd_incident_view *v,
                         int64_t now_ms)
{
    char since[48];

    cfd_incident_alert_init(a, rec->work_order, rec->customer.city, v->opens_at_ms, now_ms,
                            v->started_at_ms, since, sizeof(since));
    a->tier = rec->customer.tier;
    a->gold = rec->customer.gold;
    a->circuit_id = rec->circuit_id;
    snprintf(
        a->message, sizeof(a->message),
        "severe fault INC-%s: %s customer %s fully interrupted since %s, over %lld min%s",
        rec->work_order ? rec->work_order : "?", importance_label(&rec->customer),
        rec->customer.customer_id ? rec->customer.customer_id : "?", since,
        (long long)(v->threshold_ms / 60000),
        v->ownership_unclear ? " (cause not known yet)" : "");
}

size_t cfd_incident_collect(cfd_record *rec, int64_t now_ms, cfd_incident out[3],
                            cfd_alert *alert, bool *has_alert)
{
    cfd_incident_view v;
    size_t n = 0;

    *has_alert = false;
    cfd_incident_judge(rec, now_ms, &v);
    if (!(rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_OPEN)) {
        if (!v.severe)
            return 0;
        rec->alerts_sent |= CFD_ALERT_BIT_INCIDENT_OPEN;
        if (v.excluded)
            rec->alerts_sent |= CFD_ALERT_BIT_INCIDENT_EXCLUDED;
        fill(&out[n++], rec, &v, CFD_INCIDENT_OPEN, now_ms);
        severe_alert(alert, rec, &v, now_ms);
        *has_alert = true;
    } else if (v.excluded != !!(rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_EXCLUDED)) {
        rec->alerts_sent ^= CFD_ALERT_BIT_INCIDENT_EXCLUDED;
        fill(&out[n++], rec, &v, CFD_INCIDENT_UPDATE, now_ms);
    }
    /* Once opened the incident stands: a restoration (even one a late event dates
     * before the threshold) closes it. */
    if (!(rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_CLOSED) && v.ended_at_ms != 0) {
        rec->alerts_sent |= CFD_ALERT_BIT_INCIDENT_CLOSED;
        fill(&out[n++], rec, &v, CFD_INCIDENT_CLOSED, now_ms);
    }
    return n;
}

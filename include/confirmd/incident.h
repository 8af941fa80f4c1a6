/*
 * Severe faults (严重故障, major incidents) of important customers: when one is, and
 * the Incident messages its changes call for.
 *
 * Important customers are province-level group customers, city-level diamond
 * customers and cross-province / cross-city dedicated-line customers (a customer block
 * with any importance class, the diamond flag or the cross-city rental flag). Their
 * fully interrupted service (全阻) is severe once it stays unrestored for more than the
 * threshold: 30 min, or 8 h for a non-diamond city-level cross-city circuit rental,
 * counted from the restoration clock's start (the report or the first alarm). A fault
 * that is not the operator's (customer equipment or network) is no severe fault when
 * that was known when the threshold passed; found later, it only excludes the incident
 * from the assessment: the incident stands. An unknown cause counts as the operator's.
 *
 *   not opened, severe at now                -> OPEN (and a SEVERE_FAULT alert)
 *   opened, restored or the order completed  -> CLOSED
 *   opened, excluded_from_assessment changed -> UPDATE (also after CLOSED)
 *
 * Pure core: the caller passes "now" (the latest event time on the event path, the
 * clock on the timer path). rec->alerts_sent remembers what was sent, so each
 * transition is emitted once; the id is "INC-<work order>" and every message has the
 * next rec->incident_version.
 */
#ifndef CONFIRMD_INCIDENT_H
#define CONFIRMD_INCIDENT_H

#include "confirmd/record.h"

#define CFD_INCIDENT_THRESHOLD_MS (30 * 60 * 1000LL)
#define CFD_INCIDENT_RENTAL_THRESHOLD_MS (8 * 60 * 60 * 1000LL)

/* Values as confirmd.v1.IncidentKind. */
typedef enum cfd_incident_kind {
    CFD_INCIDENT_KIND_UNSPECIFIED = 0,
    CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION = 1,
    CFD_INCIDENT_MULTI_CUSTOMER_CITY = 2, /* see confirmd/city.h */
} cfd_incident_kind;
#define CFD_INCIDENT_KINDS (CFD_INCIDENT_MULTI_CUSTOMER_CITY + 1)

/* Which severe-fault rule opened an incident (values as confirmd.v1.IncidentRule). */
typedef enum cfd_incident_rule {
    CFD_INCIDENT_RULE_UNSPECIFIED = 0,
    CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER = 1,  /* full interruption over 30 min */
    CFD_INCIDENT_RULE_CROSS_CITY_RENTAL = 2,   /* non-diamond city-level rental: 8 h */
    CFD_INCIDENT_RULE_MULTI_CUSTOMER_CITY = 3, /* 3 ordinary customers of one city */
} cfd_incident_rule;

/* Values as confirmd.v1.IncidentStatus. */
typedef enum cfd_incident_status {
    CFD_INCIDENT_STATUS_UNSPECIFIED = 0,
    CFD_INCIDENT_OPEN = 1,
    CFD_INCIDENT_UPDATE = 2,
    CFD_INCIDENT_CLOSED = 3,
} cfd_incident_status;
#define CFD_INCIDENT_STATUSES (CFD_INCIDENT_CLOSED + 1)

/* What the rules say of a record at an instant. */
typedef struct cfd_incident_view {
    bool important;
    cfd_incident_rule rule; /* the rule whose threshold applies */
    int64_t threshold_ms;
    int64_t started_at_ms;  /* the restoration clock's start; 0 not started */
    int64_t opens_at_ms;    /* started_at_ms + threshold_ms; 0 when not applicable */
    int64_t ended_at_ms;    /* restoration, or completion; 0 while interrupted */
    bool severe;            /* the interruption outlasted the threshold, judged at now */
    bool ownership_unclear; /* cause unknown or "other": the operator's until found */
    bool excluded;          /* found not to be the operator's fault */
} cfd_incident_view;

/* One message for the incidents topic; strings point into the record. */
typedef struct cfd_incident {
    char incident_id[160];
    cfd_incident_kind kind;
    cfd_incident_rule rule;
    cfd_incident_status status;
    const char *work_order;         /* the one order, or NULL when work_orders is set */
    const char *const *work_orders; /* MULTI_CUSTOMER_CITY: the member orders */
    size_t n_work_orders;
    const char *customer_id, *city, *service;
    cfd_tier tier;
    cfd_importance importance;
    int64_t started_at_ms, threshold_ms, opened_at_ms, closed_at_ms;
    bool ownership_unclear;
    bool excluded_from_assessment;
    uint32_t version;
    int64_t decided_at_ms; /* when the service decided this message (the "now" passed) */
} cfd_incident;

/* @returns true for an important customer (see the file comment). */
bool cfd_incident_is_important(const cfd_customer *c);

/* @returns how long a full interruption of c's service may last before it is severe. */
int64_t cfd_incident_threshold(const cfd_customer *c);

/* Judges rec at now_ms into *v. Pure. */
void cfd_incident_judge(const cfd_record *rec, int64_t now_ms, cfd_incident_view *v);

/*
 * @returns the instant after which cfd_incident_collect would open rec's incident with
 *          no further event (the threshold passing unrestored), or 0 when none is
 *          pending (opened already, restored, not severe on what is known).
 */
int64_t cfd_incident_next(const cfd_record *rec);

/*
 * The Incident messages rec calls for at now_ms, at most 3 (OPEN, UPDATE, CLOSED in
 * that order), and into *alert the SEVERE_FAULT alert (to the NOC duty manager) when
 * it opens (*has_alert set). Marks them sent in rec (alerts_sent, incident_version).
 * @returns how many were written to out.
 */
size_t cfd_incident_collect(cfd_record *rec, int64_t now_ms, cfd_incident out[3],
                            cfd_alert *alert, bool *has_alert);

/*
 * Fills what every SEVERE_FAULT alert has (the rest zero, the message empty): for owner
 * (a work order, or a city incident's id: the alert id is "<owner>/SEVERE_FAULT"), due
 * at deadline_ms, fired at now_ms, to the NOC duty manager; and since_ms written into
 * since as "YYYY-MM-DD HH:MM UTC" for the message.
 */
void cfd_incident_alert_init(cfd_alert *a, const char *owner, const char *city,
                             int64_t deadline_ms, int64_t now_ms, int64_t since_ms,
                             char *since, size_t since_size);

/* @returns "INCIDENT_STATUS_OPEN" etc.; "?" when out of range. */
const char *cfd_incident_status_name(cfd_incident_status s);
/* @returns "INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION" etc.; "?" when out of range. */
const char *cfd_incident_kind_name(cfd_incident_kind k);

/* @returns "INCIDENT_RULE_IMPORTANT_CUSTOMER" etc.; "?" when out of range. */
const char *cfd_incident_rule_name(cfd_incident_rule r);

#endif

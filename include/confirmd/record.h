/*
 * The confirmation record of one work order and the lifecycle that advances it.
 *
 * Pure core: no I/O, no clock. The record is a function of the *set* of events applied
 * to it: the timeline is kept sorted by (event time, event id); the lifecycle state
 * and the SLA results are recomputed from it by a fold, and the payload fields of a
 * milestone kind come from the latest event of that kind. Applying the same set in any
 * arrival order gives the same record.
 */
#ifndef CONFIRMD_RECORD_H
#define CONFIRMD_RECORD_H

#include "confirmd/event.h"
#include "confirmd/policy.h"

typedef struct cfd_timeline_entry {
    cfd_milestone milestone;
    int64_t event_time_ms;
    char *event_id;
    cfd_source source;
    /* The few payload facts that rules judge per event, not per latest event. */
    int64_t appointment_time_ms; /* appointment set / rescheduled: the agreed time */
    bool by_customer;            /* appointment set / rescheduled: customer asked */
    int64_t waited_ms;           /* customer absent: leaving - visit time when the
                                    note gives both; 0 otherwise */
    int64_t left_at_ms;          /* customer absent: the note's leaving time when it
                                    gives no visit time (the wait then counts from
                                    the arrival); 0 none */
    cfd_cause cause;             /* diagnosed: the cause found then */
    bool full_interruption;      /* fault report: it said 全阻 */
    int64_t due_ms;              /* restored with a workaround: the agreed permanent
                                    fix; part replaced: when it was promised */
    bool workaround;             /* restored: only a temporary fix */
    bool non_standard;           /* complaint: caused by non-standard work */
    bool named;                  /* it named the party its kind sets: accepted, the
                                    issuing unit; dispatched, the contractor */
} cfd_timeline_entry;

typedef struct cfd_sla_result {
    cfd_metric metric;
    int64_t target_ms;
    int64_t start_ms;
    int64_t deadline_ms;
    int64_t actual_ms;
    int64_t paused_ms;
    cfd_metric_status status;
    int64_t next_warning_ms; /* running and not paused: next warning instant, else 0 */
    int64_t breach_at_ms;    /* running and not paused: the deadline, else 0 */
} cfd_sla_result;

/* One handling of a part (after-sales form); strings owned by the record. */
typedef struct cfd_part_record {
    char *event_id;
    int64_t handled_at_ms;
    char *name, *material_number, *serial_number;
    int32_t quantity;
    cfd_equipment_category category;
    uint32_t fault_types; /* CFD_PART_FAULT_BIT() set */
    char *preliminary_cause;
    cfd_responsible responsible;
    char *supplier_name;
    char *description;
    int32_t manufactured_on;     /* YYYYMMDD from the serial; 0 unknown */
    int32_t age_in_service_days; /* at handling, when manufactured_on is known */
} cfd_part_record;

/* A pause of SLA clocks, merged from its ClockPaused / ClockResumed events; for each
 * side the latest event (time, id) wins, so the merge does not depend on arrival. */
typedef struct cfd_pause {
    char *pause_id;
    cfd_pause_reason reason;
    char *reported_by;
    char *evidence;
    uint32_t metrics; /* bits 1u << cfd_metric; 0 = restoration only */
    int64_t start_ms; /* 0 while only the resume is known */
    int64_t end_ms;   /* 0 while open */
    char *paused_event_id, *resumed_event_id;
} cfd_pause;

#define CFD_VIOLATION_DETAIL 96
#define CFD_MAX_VIOLATIONS 32

/* A violation of the contractor assessment; recomputed with the SLA. */
typedef struct cfd_violation {
    cfd_violation_code code;
    int32_t points;
    char detail[CFD_VIOLATION_DETAIL];
    int64_t at_ms; /* decides the assessment month */
    cfd_metric metric;
} cfd_violation;

typedef struct cfd_visit_note {
    int64_t visit_time_ms, leaving_time_ms;
    char *contact;
} cfd_visit_note;

/* Every string is owned by the record (NULL = absent); cfd_record_destroy frees them. */
typedef struct cfd_record {
    /* Paper form. */
    char *work_order;
    char *issuing_unit;
    cfd_customer customer; /* owned copies (cfd_customer_copy) */
    char **engineers;
    size_t n_engineers;
    char **assisting_staff;
    size_t n_assisting_staff;
    int64_t arrival_time_ms;
    int64_t service_end_time_ms;
    char *circuit_id, *access_point, *equipment;
    char *problem_description;
    char *onsite_findings;
    cfd_cause cause;
    char *cause_other;
    cfd_result result;
    char *result_other;
    char *customer_opinion;
    char *customer_signature;
    int64_t customer_signed_at_ms;
    char *engineer_signature;
    char *corrective_actions;
    int32_t satisfaction;
    char *suggestions;

    /* What confirmd adds. */
    cfd_state state;
    cfd_urgency urgency;
    char *contractor;
    int64_t reported_at_ms;
    int64_t accepted_at_ms;
    int64_t first_alarm_at_ms;
    int64_t appointment_time_ms;
    bool appointment_by_customer;
    bool remote_restoration;
    bool workaround;
    char *cancel_reason;
    cfd_timeline_entry *timeline; /* sorted by (event_time_ms, event_id) */
    size_t n_timeline;
    cfd_sla_result sla[CFD_METRIC_COUNT]; /* indexed by cfd_metric; [0] unused */
    char **linked_alarms;                 /* sorted, unique */
    size_t n_linked_alarms;
    uint32_t version;       /* number of distinct events applied */
    int32_t penalty_points; /* sum of violations[].points */
    char *policy_version;

    /* Side paths and the assessment. */
    bool special;
    char *previous_work_order; /* a repeat fault of this earlier order */
    char *alarm_object;        /* the network object whose alarm opened it */
    cfd_part_record *parts;    /* sorted by (handled_at_ms, event_id) */
    size_t n_parts;
    cfd_pause *pauses; /* sorted by pause_id */
    size_t n_pauses;
    cfd_violation violations[CFD_MAX_VIOLATIONS]; /* sorted by (at, code, detail) */
    size_t n_violations; /* further ones are dropped (never seen so far) */
    int32_t customer_absences;
    bool priority_appointment; /* an appointment made after an absence */
    int32_t reschedules;
    cfd_waiver signature_waiver;
    char *signature_waiver_detail;
    cfd_visit_note visit_note; /* from the latest absence or waiver */
    char *event_report_id;
    int64_t event_report_at_ms;
    int64_t diagnosed_at_ms;
    int64_t restored_at_ms;
    bool full_interruption;  /* 全阻: any of its fault reports said so (a customer's
                                      report joining an alarm's order may not) */
    bool terminal_complaint; /* about a terminal, not the line: the standard
                                      duties whatever the tier (latest report) */

    /* Worker bookkeeping, kept in Redis but not part of the emitted record. */
    uint64_t alerts_sent;      /* bits: see cfd_alert_bit() */
    uint32_t emitted_version;  /* last version sent to the records topic */
    uint32_t incident_version; /* version of the last Incident sent (incident.h) */
} cfd_record;

/* @returns a zeroed record (never NULL, see confirmd/alloc.h). */
cfd_record *cfd_record_new(void);

/* Frees rec and every string it owns. NULL-safe. */
void cfd_record_destroy(cfd_record *rec);

/* What cfd_record_apply did. */
typedef enum cfd_apply_outcome {
    CFD_APPLY_CHANGED = 0, /* the event was applied; version went up */
    CFD_APPLY_DUPLICATE,   /* its event id is already in the timeline: no change */
    CFD_APPLY_PARK,        /* not applicable yet: no opening event, or a milestone it
                              needs (the visit before a signature, the restoration
                              before a close) is missing; errstr then names the
                              transition. Park it and re-apply parked events after
                              every change; dead-letter it when the window expires. */
} cfd_apply_outcome;

/*
 * Applies one validated event to rec under policy pol. An empty record (state
 * CFD_STATE_NONE) accepts only an opening event; anything else is CFD_APPLY_PARK.
 * On error rec is unchanged and errstr says why; an illegal transition reads
 * "STATE_CLOSED -> MILESTONE_ARRIVED_ON_SITE". An event is judged at its place in time
 * (the timeline is re-folded): when the fold then fails at a closed or cancelled state,
 * there or at any later entry, the event is rejected (CFD_ERR_TRANSITION); when it fails
 * in an open state, a predecessor is missing and the outcome is CFD_APPLY_PARK.
 * Policy pinning: a record opened under another policy version than pol keeps the
 * targets it was judged by (its SLA results' target_ms); the other figures come from
 * pol. cfd_record_reevaluate() moves it to pol explicitly.
 * @returns CFD_OK with *outcome set, or CFD_ERR_TRANSITION / CFD_ERR_INVALID_VALUE
 * (another work order) / CFD_ERR_MISSING_FIELD (event fails cfd_event_validate).
 */
cfd_err cfd_record_apply(cfd_record *rec, const cfd_event *ev, const cfd_policy *pol,
                         cfd_apply_outcome *outcome, char *errstr, size_t errstr_size);

/*
 * cfd_record_apply for an order that may have no record yet (*rec NULL): an event that
 * opens the order creates the record, which is freed again (*rec back to NULL) when that
 * event was refused; any other event of an order not open yet is CFD_APPLY_PARK with
 * errstr "work order not open yet". *opened tells whether this event created the record.
 * The worker's event stage and the replay engine (confirmd/replay.h) share it.
 * @returns as cfd_record_apply.
 */
cfd_err cfd_record_offer(cfd_record **rec, const cfd_event *ev, const cfd_policy *pol,
                         cfd_apply_outcome *outcome, bool *opened, char *errstr,
                         size_t errstr_size);

/*
 * Re-judges rec's SLA results and violations under pol and pins pol's version: the
 * explicit way to move a running work order to new figures. Pure apart from rec.
 * @returns CFD_OK, or CFD_ERR (rec or pol is NULL).
 */
cfd_err cfd_record_reevaluate(cfd_record *rec, const cfd_policy *pol);

/*
 * Whether a fault reported on circuit_id at reported_at_ms is a repeat of earlier:
 * earlier's result was "needs further observation", on the same circuit, and the new
 * report falls within pol's observation window after earlier's service end (or its
 * restoration). The NOC stage applies the same rule from the circuit's last completed
 * order (include/confirmd/alarm.h). @returns true for a repeat fault.
 */
bool cfd_record_is_repeat_of(const cfd_record *earlier, const char *circuit_id,
                             int64_t reported_at_ms, const cfd_policy *pol);

/*
 * Reads the manufacturing date of a serial number in format fmt: a vendor prefix of
 * ASCII letters, then the date's digits (YYYYMMDD, or YYMM meaning the 1st of that
 * month in 20YY). @returns the date as YYYYMMDD, or 0 when it carries no valid date.
 */
int32_t cfd_part_serial_date(const char *serial, cfd_serial_date fmt);

/* @returns the whole days from the (UTC) date yyyymmdd to at_ms; -1 when at_ms is
 * before it or the date is 0. */
int32_t cfd_part_age_days(int32_t yyyymmdd, int64_t at_ms);

/* @returns true when the lifecycle allows the milestone m in state s. */
bool cfd_lifecycle_is_valid(cfd_state s, cfd_milestone m);

/* @returns the state after milestone m in state s (s itself for informational ones). */
cfd_state cfd_lifecycle_next(cfd_state s, cfd_milestone m);

/* @returns true for CLOSED and CANCELLED: the record is complete. */
bool cfd_record_is_complete(const cfd_record *rec);

/* @returns true when a completed record has changes not yet emitted. */
bool cfd_record_needs_emit(const cfd_record *rec);

/* The instant the core considers "now" for event-driven SLA checks: the latest event
 * time applied. Pure, so that records do not depend on arrival time. */
int64_t cfd_record_as_of(const cfd_record *rec);

/* An alert the core asks the worker to emit. Strings point into the record. */
typedef struct cfd_alert {
    char alert_id[160];
    cfd_alert_kind kind;
    const char *work_order;
    cfd_metric metric;
    int32_t threshold_pct;
    int64_t deadline_ms;
    int64_t fired_at_ms;
    int64_t actual_ms;
    cfd_recipient recipients;
    cfd_tier tier;
    bool gold;
    const char *city;
    const char *circuit_id;
    char message[256];
} cfd_alert;

/*
 * Alerts that the record's current SLA results call for and that were not yet emitted
 * (breaches, and retractions of breaches a late event disproved, both to the breach's
 * level of pol's recipient chain), fired at now_ms;
 * and once per record, the gold notification of an accepted AAA gold order (to the
 * network department leader) or AA gold order (to the team leader).
 * Marks them in rec->alerts_sent, so a second call returns none.
 * @returns how many were written to out (at most max).
 */
size_t cfd_record_collect_alerts(cfd_record *rec, const cfd_policy *pol, int64_t now_ms,
                                 cfd_alert *out, size_t max);

/*
 * Builds the deterministic alert id "<work order>/<metric name>/<pct>" into a->alert_id
 * from a->work_order, a->metric and a->threshold_pct. The kind is left out on purpose:
 * a retraction carries the same id as the breach it retracts. Record-level alerts
 * (metric NONE) are named by kind instead: "<work order>/GOLD_NOTIFICATION",
 * "<work order>/SEVERE_FAULT".
 */
void cfd_alert_make_id(cfd_alert *a);

/* Slots of rec->alerts_sent per metric: which alerts of that metric were emitted. */
typedef enum cfd_alert_slot {
    CFD_ALERT_SLOT_WARNING_1 = 0, /* first warning, policy warn_pct[0] */
    CFD_ALERT_SLOT_WARNING_2,     /* second warning, policy warn_pct[1] */
    CFD_ALERT_SLOT_BREACH,
    CFD_ALERT_SLOT_RETRACTED, /* the breach was retracted */
    CFD_ALERT_SLOT_ESCALATION_1,
    CFD_ALERT_SLOT_ESCALATION_2,
    CFD_ALERT_SLOT_ESCALATION_3,
    CFD_ALERT_SLOT_COUNT, /* at most 8 */
} cfd_alert_slot;

/* @returns the bit of rec->alerts_sent for (metric, slot); 0 when out of range. */
uint64_t cfd_alert_bit(cfd_metric metric, cfd_alert_slot slot);

/* Record-level alerts use the slots of metric NONE (bits 0..7), which no metric has. */
#define CFD_ALERT_BIT_GOLD (1ULL << 0)
/* Severe fault (include/confirmd/incident.h): opened, closed, and whether the last
 * Incident sent said excluded_from_assessment. */
#define CFD_ALERT_BIT_INCIDENT_OPEN (1ULL << 1)
#define CFD_ALERT_BIT_INCIDENT_CLOSED (1ULL << 2)
#define CFD_ALERT_BIT_INCIDENT_EXCLUDED (1ULL << 3)
/* AAA, cause still unknown: the specialists of every discipline were called in. */
#define CFD_ALERT_BIT_PARALLEL (1ULL << 4)

#endif

/*
 * One SLA duty of a record as an operator or a disputing contractor sees it at an
 * instant (the worker's clock): its state then and the time left, and the audit trail
 * behind it: the rule, where its clock started and why, the pauses that stopped it,
 * the deadline, the instant it was met, the verdict and the penalty points.
 *
 * Pure core: the caller passes "now"; the record is not changed.
 */
#ifndef CONFIRMD_DUTY_H
#define CONFIRMD_DUTY_H

#include "confirmd/record.h"

/* A duty's state at an instant. */
typedef enum cfd_duty_state {
    CFD_DUTY_PENDING = 0,    /* its clock has not started */
    CFD_DUTY_RUNNING,        /* counting, the deadline still ahead */
    CFD_DUTY_PAUSED,         /* started, not counting right now */
    CFD_DUTY_OVERDUE,        /* past its deadline and not met yet: a breach */
    CFD_DUTY_MET,            /* met at or before its deadline */
    CFD_DUTY_MET_LATE,       /* met after its deadline: a breach */
    CFD_DUTY_NOT_APPLICABLE, /* owed no more (remote restoration, customer's cause,
                                cancelled order) */
} cfd_duty_state;

#define CFD_DUTY_MAX_PAUSES 16

/* One stretch of time a duty's clock did not count. */
typedef struct cfd_duty_pause {
    int64_t start_ms;
    int64_t end_ms;         /* 0: still open at the instant judged */
    const cfd_pause *pause; /* the record's pause; NULL for the wait for an appointment
                               the customer asked for */
} cfd_duty_pause;

typedef struct cfd_duty {
    cfd_metric metric;
    cfd_duty_state state;
    int64_t target_ms;         /* the allowed time, as the record was judged */
    int64_t start_ms;          /* 0 while pending */
    int64_t deadline_ms;       /* at the instant judged (an open pause pushes it on) */
    int64_t actual_ms;         /* when it was met; 0 not yet */
    int64_t paused_ms;         /* time not counted, overlaps once */
    int64_t left_ms;           /* running or paused: deadline - now; overdue: negative */
    bool appointment_deadline; /* the customer's appointment replaced the limit */
    const char *rule;          /* what the duty is, in words (static text) */
    const char *start_why;     /* what started its clock (static text) */
    int32_t points;            /* penalty points of the record's violations of this duty */
    /* Alerts of the duty the worker sent (the record's alerts_sent): the highest step
     * of the policy's chain reached (-1 none; 0, 1 the warnings, 2 the breach, 3.. the
     * escalations) and who heard it; whether the breach was retracted; and when the
     * next escalation is due while the duty is overdue (0: none left). */
    int last_step;
    cfd_recipient last_recipient;
    bool retracted;
    int64_t next_escalation_ms;
    size_t n_pauses;
    cfd_duty_pause pauses[CFD_DUTY_MAX_PAUSES]; /* by start; further ones are left out */
} cfd_duty;

/*
 * Judges duty m of rec under pol at now_ms (at the record's latest event time when
 * now_ms is earlier, and for a completed record, which owes nothing more as time
 * passes) into *out.
 */
void cfd_duty_judge(const cfd_record *rec, const cfd_policy *pol, cfd_metric m,
                    int64_t now_ms, cfd_duty *out);

/*
 * Judges every duty of rec at now_ms into all[] (indexed by metric, all[NONE] zeroed).
 * @returns the duty still owed (running, paused or overdue) with the nearest deadline,
 * CFD_METRIC_NONE when none is owed.
 */
cfd_metric cfd_duty_judge_all(const cfd_record *rec, const cfd_policy *pol, int64_t now_ms,
                              cfd_duty all[CFD_METRIC_COUNT]);

/* Names step of the policy's chain ("WARNING_1", "BREACH", "ESCALATION_1"...; "-" for
 * none, step < 0) into buf. @returns buf. */
const char *cfd_duty_step_name(int step, char *buf, size_t size);

/* @returns true for the states that are a breach (overdue, met late). */
bool cfd_duty_is_breach(cfd_duty_state s);

/* @returns "PENDING", "RUNNING", "PAUSED", "OVERDUE", "MET", "MET_LATE" or
 * "NOT_APPLICABLE". */
const char *cfd_duty_state_name(cfd_duty_state s);

#endif

/*
 * Time-driven SLA alerts: what a running duty calls for as time passes with no new
 * event (warnings at fractions of the allowed time, the breach at the deadline, and
 * escalations to the next level of recipients after it), and the next instant at which
 * that happens, which the worker keeps as a durable timer.
 *
 * Pure core: the caller passes "now". Event-driven alerts (a duty met late, a breach a
 * late event disproved) come from cfd_record_collect_alerts; both share the record's
 * alerts_sent bits, so one fact is alerted once whichever path sees it first.
 */
#ifndef CONFIRMD_DUE_H
#define CONFIRMD_DUE_H

#include "confirmd/record.h"

/* Escalation slots after a breach; each goes one level of the policy's recipient
 * chain higher, so only the levels above the breach's are used (one by default). */
#define CFD_ESCALATION_STEPS 3

/*
 * @returns the earliest instant after which cfd_due_collect would emit an alert not yet
 *          sent for rec, or cfd_incident_collect would open its severe fault
 *          (include/confirmd/incident.h), or 0 when nothing is pending (every duty met,
 *          not started, or the order complete).
 */
int64_t cfd_due_next(const cfd_record *rec, const cfd_policy *pol);

/*
 * Alerts due at now_ms for the running duties of rec: the two warnings, the breach and
 * the escalations every pol->escalation_ms after the deadline, each to the next level
 * of pol->chain (by default ENGINEER, TEAM_LEADER, DEPARTMENT_LEADER, then
 * NOC_DUTY_MANAGER); and once for an AAA order whose cause is still unknown at
 * pol->aaa_parallel_pct of the cause duty, the call-in of every discipline's
 * specialists (CFD_ALERT_PARALLEL_SPECIALISTS). Marks them in rec->alerts_sent.
 * @returns how many were written to out (at most max).
 */
size_t cfd_due_collect(cfd_record *rec, const cfd_policy *pol, int64_t now_ms,
                       cfd_alert *out, size_t max);

#endif

/*
 * One SLA duty at an instant, with its audit trail; see include/confirmd/duty.h.
 */
#include "confirmd/duty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla.h"

static const char *const rules[CFD_METRIC_COUNT] = {
    [CFD_METRIC_CONTACT] = "contact the customer within the limit",
    [CFD_METRIC_ON_SITE] = "be on site within the limit (or by the customer's appointment)",
    [CFD_METRIC_RESTORATION] = "restore the service within the limit, pauses not counted",
    [CFD_METRIC_CAUSE_IDENTIFIED] = "identify the cause within the limit",
    [CFD_METRIC_EVENT_REPORT] = "submit the event report within the limit",
};

/* What starts each clock (sla.c, cfd_sla_judge_at). */
static const char *start_why(const cfd_record *rec, const cfd_policy *pol, cfd_metric m)
{
    bool from_report = false;

    cfd_policy_limits(pol, cfd_sla_duty_tier(rec), rec->urgency, &from_report);
    switch (m) {
    case CFD_METRIC_CONTACT:
    case CFD_METRIC_ON_SITE:
        return from_report ? "the fault report (urgency class: counts from receipt)"
                           : "the acceptance (tier limits count from 受理)";
    case CFD_METRIC_RESTORATION:
        if (rec->first_alarm_at_ms != 0 &&
            (rec->reported_at_ms == 0 || rec->first_alarm_at_ms < rec->reported_at_ms))
            return "the first NOC alarm (before any report: whichever came first)";
        return "the fault report (before any alarm: whichever came first)";
    case CFD_METRIC_CAUSE_IDENTIFIED:
        for (size_t i = 0; i < rec->n_timeline; i++)
            if (rec->timeline[i].milestone == CFD_MS_ARRIVED_ON_SITE)
                return "the arrival of the visit the customer did not miss";
        return "the duty start (handled without a visit)";
    case CFD_METRIC_EVENT_REPORT:
        return "the service restoration";
    default:
        return "";
    }
}

static int by_pause_start(const void *x, const void *y)
{
    const cfd_duty_pause *a = x, *b = y;

    return (a->start_ms > b->start_ms) - (a->start_ms < b->start_ms);
}

static void collect_pauses(const cfd_record *rec, cfd_metric m, cfd_duty *out)
{
    int64_t from, until;

    for (size_t i = 0; i < rec->n_pauses && out->n_pauses < CFD_DUTY_MAX_PAUSES; i++) {
        const cfd_pause *p = &rec->pauses[i];

        if (p->start_ms != 0 && cfd_sla_pause_concerns(p, m))
            out->pauses[out->n_pauses++] = (cfd_duty_pause){p->start_ms, p->end_ms, p};
    }
    if (m == CFD_METRIC_RESTORATION && out->n_pauses < CFD_DUTY_MAX_PAUSES &&
        cfd_sla_appointment_wait(rec, &from, &until))
        out->pauses[out->n_pauses++] = (cfd_duty_pause){from, until, NULL};
    qsort(out->pauses, out->n_pauses, sizeof(out->pauses[0]), by_pause_start);
}

static cfd_duty_state state_of(const cfd_sla_result *r, int64_t at)
{
    switch (r->status) {
    case CFD_MST_PENDING:
    case CFD_MST_UNSPECIFIED:
        return CFD_DUTY_PENDING;
    case CFD_MST_MET:
        return CFD_DUTY_MET;
    case CFD_MST_NOT_APPLICABLE:
        return CFD_DUTY_NOT_APPLICABLE;
    case CFD_MST_BREACHED:
        return r->actual_ms != 0 ? CFD_DUTY_MET_LATE : CFD_DUTY_OVERDUE;
    case CFD_MST_RUNNING:
        break;
    }
    if (at > r->deadline_ms)
        return CFD_DUTY_OVERDUE;
    /* judge_clock leaves the breach instant at 0 while the clock is paused. */
    return r->breach_at_ms == 0 ? CFD_DUTY_PAUSED : CFD_DUTY_RUNNING;
}

/* The steps of the duty's chain that were sent, and the next escalation. */
static void judge_steps(const cfd_record *rec, const cfd_policy *pol, cfd_duty *out)
{
    static const cfd_alert_slot slots[] = {
        CFD_ALERT_SLOT_WARNING_1,    CFD_ALERT_SLOT_WARNING_2,
        CFD_ALERT_SLOT_BREACH,       CFD_ALERT_SLOT_ESCALATION_1,
        CFD_ALERT_SLOT_ESCALATION_2, CFD_ALERT_SLOT_ESCALATION_3,
    };
    const int n = (int)(sizeof(slots) / sizeof(slots[0]));

    out->last_step = -1;
    for (int k = 0; k < n; k++)
        if (rec->alerts_sent & cfd_alert_bit(out->metric, slots[k]))
            out->last_step = k;
    if (out->last_step >= 0)
        out->last_recipient = cfd_policy_step_recipient(pol, out->last_step);
    out->retracted =
        (rec->alerts_sent & cfd_alert_bit(out->metric, CFD_ALERT_SLOT_RETRACTED)) != 0;
    if (out->state != CFD_DUTY_OVERDUE)
        return;
    /* due.c: escalation k is due escalation_ms * k after the breach instant. */
    for (int k = out->last_step < CFD_STEP_BREACH ? 1
                                                  : out->last_step - CFD_STEP_BREACH + 1;
         k < n - CFD_STEP_BREACH; k++) {
        if (cfd_policy_step_recipient(pol, CFD_STEP_BREACH + k) == CFD_RECIPIENT_NONE)
            break;
        out->next_escalation_ms = out->deadline_ms + 1 + (int64_t)k * pol->escalation_ms;
        break;
    }
}

void cfd_duty_judge(const cfd_record *rec, const cfd_policy *pol, cfd_metric m,
                    int64_t now_ms, cfd_duty *out)
{
    cfd_sla_result sla[CFD_METRIC_COUNT];
    cfd_policy scratch;
    int64_t as_of = cfd_record_as_of(rec);
    int64_t at = cfd_record_is_complete(rec) || now_ms < as_of ? as_of : now_ms;
    const cfd_sla_result *r;

    memset(out, 0, sizeof(*out));
    out->metric = m;
    out->last_step = -1;
    if (m <= CFD_METRIC_NONE || m >= CFD_METRIC_COUNT)
        return;
    cfd_sla_judge_at(rec, cfd_record_pinned_policy(rec, pol, &scratch), at, sla);
    r = &sla[m];
    out->state = state_of(r, at);
    out->target_ms = r->target_ms;
    out->start_ms = r->start_ms;
    out->deadline_ms = r->deadline_ms;
    out->actual_ms = r->actual_ms;
    out->paused_ms = r->paused_ms;
    if (out->state == CFD_DUTY_RUNNING || out->state == CFD_DUTY_PAUSED ||
        out->state == CFD_DUTY_OVERDUE)
        out->left_ms = r->deadline_ms - at;
    out->appointment_deadline = m == CFD_METRIC_ON_SITE && rec->appointment_by_customer &&
                                rec->appointment_time_ms != 0;
    out->rule = rules[m];
    out->start_why = r->start_ms != 0 ? start_why(rec, pol, m) : "not started";
    for (size_t i = 0; i < rec->n_violations; i++)
        if (rec->violations[i].metric == m)
            out->points += rec->violations[i].points;
    collect_pauses(rec, m, out);
    judge_steps(rec, pol, out);
}

cfd_metric cfd_duty_judge_all(const cfd_record *rec, const cfd_policy *pol, int64_t now_ms,
                              cfd_duty all[CFD_METRIC_COUNT])
{
    cfd_metric nearest = CFD_METRIC_NONE;

    memset(&all[CFD_METRIC_NONE], 0, sizeof(all[CFD_METRIC_NONE]));
    for (int m = CFD_METRIC_NONE + 1; m < CFD_METRIC_COUNT; m++) {
        const cfd_duty *d = &all[m];
        cfd_duty_judge(rec, pol, (cfd_metric)m, now_ms, &all[m]);
        if (d->state != CFD_DUTY_RUNNING && d->state != CFD_DUTY_PAUSED &&
            d->state != CFD_DUTY_OVERDUE)
            continue;
        if (nearest == CFD_METRIC_NONE || d->deadline_ms < all[nearest].deadline_ms)
            nearest = (cfd_metric)m;
    }
    return nearest;
}

const char *cfd_duty_step_name(int step, char *buf, size_t size)
{
    if (step < 0)
        snprintf(buf, size, "-");
    else if (step < CFD_STEP_BREACH)
        snprintf(buf, size, "WARNING_%d", step + 1);
    else if (step == CFD_STEP_BREACH)
        snprintf(buf, size, "BREACH");
    else
        snprintf(buf, size, "ESCALATION_%d", step - CFD_STEP_BREACH);
    return buf;
}

bool cfd_duty_is_breach(cfd_duty_state s)
{
    return s == CFD_DUTY_OVERDUE || s == CFD_DUTY_MET_LATE;
}

const char *cfd_duty_state_name(cfd_duty_state s)
{
    static const char *const names[] = {
        [CFD_DUTY_PENDING] = "PENDING",
        [CFD_DUTY_RUNNING] = "RUNNING",
        [CFD_DUTY_PAUSED] = "PAUSED",
        [CFD_DUTY_OVERDUE] = "OVERDUE",
        [CFD_DUTY_MET] = "MET",
        [CFD_DUTY_MET_LATE] = "MET_LATE",
        [CFD_DUTY_NOT_APPLICABLE] = "NOT_APPLICABLE",
    };

    return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

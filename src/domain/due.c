/*
 * Time-driven SLA alerts and the next instant they are due; see include/confirmd/due.h.
 */
#include "confirmd/due.h"

#include <stdio.h>
#include <string.h>

#include "confirmd/incident.h"
#include "sla.h"

/* One instant a running duty may call for an alert. */
typedef struct due_point {
    cfd_alert_slot slot;
    cfd_alert_kind kind;
    int32_t pct;
    cfd_recipient to;
    int64_t at;
} due_point;

/* The points of metric m in time order; @returns how many. */
static size_t due_points(const cfd_record *rec, const cfd_policy *pol, int m,
                         due_point *pts)
{
    const cfd_sla_result *r = &rec->sla[m];
    size_t n = 0;
    if (r->status != CFD_MST_RUNNING && r->status != CFD_MST_BREACHED)
        return 0;
    if (r->actual_ms || !r->deadline_ms || cfd_record_is_complete(rec))
        return 0;
    /* A clock that is paused right now moves no deadline closer: the event that
     * resumes it recomputes the timer. */
    if (r->status == CFD_MST_RUNNING && r->breach_at_ms == 0)
        return 0;
    /* Each step goes one level of the policy's chain higher than the one before. */
    for (int k = 0; k < 2; k++)
        pts[n++] = (due_point){k == 0 ? CFD_ALERT_SLOT_WARNING_1 : CFD_ALERT_SLOT_WARNING_2,
                               CFD_ALERT_WARNING, pol->warn_pct[k],
                               cfd_policy_step_recipient(pol, k),
                               cfd_sla_warning_at(rec, pol, (cfd_metric)m, k)};
    /* The breach is due just after the deadline: meeting it at the deadline is met. */
    pts[n++] =
        (due_point){CFD_ALERT_SLOT_BREACH, CFD_ALERT_BREACH, 100,
                    cfd_policy_step_recipient(pol, CFD_STEP_BREACH), r->deadline_ms + 1};
    for (int k = 1; k <= CFD_ESCALATION_STEPS; k++) {
        cfd_recipient to = cfd_policy_step_recipient(pol, CFD_STEP_BREACH + k);

        if (to == CFD_RECIPIENT_NONE) /* the top of the chain was reached */
            break;
        pts[n++] = (due_point){(cfd_alert_slot)(CFD_ALERT_SLOT_ESCALATION_1 + k - 1),
                               CFD_ALERT_ESCALATION, 100 + k, to,
                               r->deadline_ms + 1 + (int64_t)k * pol->escalation_ms};
    }
    return n;
}

/* 「如不能准确定位故障原因,涉及专业并行介入处理」: an AAA order whose cause is still
 * unknown at the policy's point of the cause duty calls in every discipline, once.
 * @returns that instant, or 0 when the rule does not apply (or was applied). */
static int64_t parallel_at(const cfd_record *rec, const cfd_policy *pol)
{
    const cfd_sla_result *r = &rec->sla[CFD_METRIC_CAUSE_IDENTIFIED];
    if (cfd_sla_duty_tier(rec) != CFD_TIER_AAA || rec->diagnosed_at_ms != 0 ||
        (rec->alerts_sent & CFD_ALERT_BIT_PARALLEL) || cfd_record_is_complete(rec))
        return 0;
    if (r->status != CFD_MST_RUNNING && r->status != CFD_MST_BREACHED)
        return 0;
    if (pol->aaa_parallel_pct == 0) /* default: with the duty's first warning */
        return cfd_sla_warning_at(rec, pol, CFD_METRIC_CAUSE_IDENTIFIED, 0);
    return cfd_sla_fraction_at(rec, CFD_METRIC_CAUSE_IDENTIFIED, pol->aaa_parallel_pct);
}

static void fill_parallel(cfd_alert *a, const cfd_record *rec, int64_t now_ms)
{
    memset(a, 0, sizeof(*a));
    a->kind = CFD_ALERT_PARALLEL_SPECIALISTS;
    a->work_order = rec->work_order;
    a->metric = CFD_METRIC_NONE; /* one per order: "<order>/PARALLEL_SPECIALISTS" */
    a->deadline_ms = rec->sla[CFD_METRIC_CAUSE_IDENTIFIED].deadline_ms;
    a->fired_at_ms = now_ms;
    a->recipients = CFD_RECIPIENT_ALL_SPECIALISTS;
    a->tier = rec->customer.tier;
    a->gold = rec->customer.gold;
    a->city = rec->customer.city;
    a->circuit_id = rec->circuit_id;
    cfd_alert_make_id(a);
    snprintf(
        a->message, sizeof(a->message),
        "%s AAA: cause still unknown, specialists of every discipline join in parallel",
        rec->work_order ? rec->work_order : "?");
}

int64_t cfd_due_next(const cfd_record *rec, const cfd_policy *pol)
{
    due_point pts[8];
    int64_t next = 0;
    for (int m = 1; m < CFD_METRIC_COUNT; m++) {
        size_t n = due_points(rec, pol, m, pts);
        for (size_t i = 0; i < n; i++) {
            if (rec->alerts_sent & cfd_alert_bit((cfd_metric)m, pts[i].slot))
                continue;
            if (!next || pts[i].at < next)
                next = pts[i].at;
            break; /* points are in time order */
        }
    }
    int64_t par = parallel_at(rec, pol);
    if (par && (!next || par < next))
        next = par;
    /* A severe fault opens when the threshold passes unrestored, event or not. */
    int64_t inc = cfd_incident_next(rec);
    if (inc && (!next || inc < next))
        next = inc;
    return next;
}

static void fill(cfd_alert *a, const cfd_record *rec, int m, const due_point *p,
                 int64_t now_ms)
{
    const cfd_sla_result *r = &rec->sla[m];
    memset(a, 0, sizeof(*a));
    a->kind = p->kind;
    a->work_order = rec->work_order;
    a->metric = (cfd_metric)m;
    a->threshold_pct = p->pct;
    a->deadline_ms = r->deadline_ms;
    a->fired_at_ms = now_ms;
    a->recipients = p->to;
    a->tier = rec->customer.tier;
    a->gold = rec->customer.gold;
    a->city = rec->customer.city;
    a->circuit_id = rec->circuit_id;
    cfd_alert_make_id(a);
    /* Facts only: never names, phones or addresses. */
    if (p->kind == CFD_ALERT_WARNING)
        snprintf(a->message, sizeof(a->message), "%s %s: %d%% of the allowed time used",
                 rec->work_order ? rec->work_order : "?", cfd_metric_name(a->metric),
                 (int)p->pct);
    else if (p->kind == CFD_ALERT_BREACH)
        snprintf(a->message, sizeof(a->message), "%s %s: deadline passed, duty not met",
                 rec->work_order ? rec->work_order : "?", cfd_metric_name(a->metric));
    else
        snprintf(a->message, sizeof(a->message), "%s %s: still not met, escalation %d",
                 rec->work_order ? rec->work_order : "?", cfd_metric_name(a->metric),
                 (int)p->pct - 100);
}

size_t cfd_due_collect(cfd_record *rec, const cfd_policy *pol, int64_t now_ms,
                       cfd_alert *out, size_t max)
{
    due_point pts[8];
    size_t n_out = 0;
    for (int m = 1; m < CFD_METRIC_COUNT; m++) {
        size_t n = due_points(rec, pol, m, pts);
        for (size_t i = 0; i < n && n_out < max; i++) {
            uint64_t bit = cfd_alert_bit((cfd_metric)m, pts[i].slot);
            if ((rec->alerts_sent & bit) || pts[i].at > now_ms)
                continue;
            /* A warning overtaken by its breach is not worth sending any more. */
            if (pts[i].kind == CFD_ALERT_WARNING && now_ms > pts[2].at) {
                rec->alerts_sent |= bit;
                continue;
            }
            fill(&out[n_out++], rec, m, &pts[i], now_ms);
            rec->alerts_sent |= bit;
        }
    }
    int64_t par = parallel_at(rec, pol);
    if (par && par <= now_ms && n_out < max) {
        fill_parallel(&out[n_out++], rec, now_ms);
        rec->alerts_sent |= CFD_ALERT_BIT_PARALLEL;
    }
    return n_out;
}

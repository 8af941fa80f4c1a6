/*
 * The SLA clocks of a record: contact, on site and restoration (shared/DOMAIN.md,
 * "SLA policy"), judged at the latest event time so that a record does not depend on
 * when it was computed. Pauses are not modelled yet: paused_ms stays 0.
 */
#include "sla.h"

static int64_t first_at(const cfd_record *rec, cfd_milestone m)
{
    for (size_t i = 0; i < rec->n_timeline; i++)
        if (rec->timeline[i].milestone == m)
            return rec->timeline[i].event_time_ms;
    return 0;
}

/* @returns the earlier of two times, 0 meaning "not yet". */
static int64_t earliest(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/*
 * Fills r for one metric. deadline_ms 0 means start + target + paused; otherwise it
 * replaces that (an appointment the customer asked for).
 */
static void judge(cfd_sla_result *r, cfd_metric metric, int64_t target_ms,
                  int64_t start_ms, int64_t deadline_ms, int64_t actual_ms,
                  int64_t as_of_ms)
{
    r->metric = metric;
    r->target_ms = target_ms;
    r->start_ms = start_ms;
    r->actual_ms = actual_ms;
    r->paused_ms = 0;
    if (start_ms == 0) {
        r->deadline_ms = 0;
        r->status = CFD_MST_PENDING;
        return;
    }
    r->deadline_ms = deadline_ms != 0 ? deadline_ms : start_ms + target_ms + r->paused_ms;
    if (actual_ms != 0)
        r->status = actual_ms <= r->deadline_ms ? CFD_MST_MET : CFD_MST_BREACHED;
    else
        r->status = as_of_ms > r->deadline_ms ? CFD_MST_BREACHED : CFD_MST_RUNNING;
}

void cfd_sla_update(cfd_record *rec, const cfd_policy *pol)
{
    bool from_report = false;
    const cfd_sla_limits *lim =
        cfd_policy_limits(pol, rec->customer.tier, rec->urgency, &from_report);
    int64_t as_of = cfd_record_as_of(rec);
    /* Tiers count from acceptance (受理), urgency classes from the report. */
    int64_t start = from_report ? rec->reported_at_ms : rec->accepted_at_ms;
    /* The restoration clock starts at the report or the alarm, whichever came first. */
    int64_t restoration_start = earliest(rec->reported_at_ms, rec->first_alarm_at_ms);
    /* The customer's time has priority over the on-site limit. */
    int64_t onsite_deadline = rec->appointment_by_customer ? rec->appointment_time_ms : 0;
    int64_t arrived = first_at(rec, CFD_MS_ARRIVED_ON_SITE);

    judge(&rec->sla[CFD_METRIC_CONTACT], CFD_METRIC_CONTACT, lim->contact_ms, start, 0,
          first_at(rec, CFD_MS_CUSTOMER_CONTACTED), as_of);
    judge(&rec->sla[CFD_METRIC_ON_SITE], CFD_METRIC_ON_SITE, lim->onsite_ms, start,
          onsite_deadline, arrived, as_of);
    judge(&rec->sla[CFD_METRIC_RESTORATION], CFD_METRIC_RESTORATION, lim->restoration_ms,
          restoration_start, 0, first_at(rec, CFD_MS_SERVICE_RESTORED), as_of);

    /* Not every fault needs a visit: a remote restoration skips arrival. */
    if (rec->remote_restoration && arrived == 0)
        rec->sla[CFD_METRIC_ON_SITE].status = CFD_MST_NOT_APPLICABLE;
    /* A cancelled order owes nothing more: its open clocks stop counting. */
    if (rec->state == CFD_STATE_CANCELLED)
        for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
            if (rec->sla[m].actual_ms == 0)
                rec->sla[m].status = CFD_MST_NOT_APPLICABLE;
}

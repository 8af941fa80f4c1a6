/*
 * The SLA clocks of a record (shared/DOMAIN.md, "SLA policy"): contact, on site,
 * restoration, cause identified and event report, judged at the latest event time so
 * that a record does not depend on when it was computed.
 *
 * Pauses: a clock does not count while a pause that concerns its metric runs (typed
 * pauses from ClockPaused / ClockResumed; restoration only by default), nor, for the
 * restoration, between agreeing an appointment the customer asked for and that
 * appointment or the arrival, whichever is first. Overlapping pauses count once. The
 * deadline is where the counted time reaches the target: a walk over the merged pause
 * intervals. An open pause lasts, as far as the record knows, until the latest event.
 */
#include <stdlib.h>
#include <string.h>

#include "sla.h"

#define MAX_INTERVALS 64 /* pauses that concern one metric; more are ignored */

typedef struct interval {
    int64_t a, b; /* [a, b) */
} interval;

static int64_t first_at(const cfd_record *rec, cfd_milestone m)
{
    for (size_t i = 0; i < rec->n_timeline; i++)
        if (rec->timeline[i].milestone == m)
            return rec->timeline[i].event_time_ms;
    return 0;
}

/* The arrival of the first visit the customer did not miss: an absence after an
 * arrival (at the door, nobody home) ends that visit, the next arrival starts anew.
 * 0 when there is none yet. */
static int64_t visit_arrival(const cfd_record *rec)
{
    int64_t arrived = 0;

    for (size_t i = 0; i < rec->n_timeline; i++) {
        cfd_milestone m = rec->timeline[i].milestone;

        if (m == CFD_MS_ARRIVED_ON_SITE && arrived == 0)
            arrived = rec->timeline[i].event_time_ms;
        if (m == CFD_MS_CUSTOMER_ABSENT)
            arrived = 0;
    }
    return arrived;
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

static int by_start(const void *x, const void *y)
{
    const interval *a = x, *b = y;

    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

static uint32_t pause_metrics(const cfd_pause *p)
{
    return p->metrics ? p->metrics : 1u << CFD_METRIC_RESTORATION;
}

bool cfd_sla_pause_concerns(const cfd_pause *p, cfd_metric m)
{
    return (pause_metrics(p) & (1u << m)) != 0;
}

bool cfd_sla_appointment_wait(const cfd_record *rec, int64_t *from_ms, int64_t *until_ms)
{
    int64_t agreed = 0, until = rec->appointment_time_ms;

    if (!rec->appointment_by_customer)
        return false;
    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];

        if (e->milestone == CFD_MS_APPOINTMENT_SET ||
            e->milestone == CFD_MS_APPOINTMENT_RESCHEDULED) {
            agreed = e->event_time_ms; /* the latest appointment's agreement */
            until = rec->appointment_time_ms;
        }
        if ((e->milestone == CFD_MS_ARRIVED_ON_SITE ||
             e->milestone == CFD_MS_CUSTOMER_ABSENT) &&
            agreed > 0 && e->event_time_ms < until)
            until = e->event_time_ms;
    }
    if (agreed <= 0 || until <= agreed)
        return false;
    *from_ms = agreed;
    *until_ms = until;
    return true;
}

/* @returns true when a pause of metric m started and has no end yet. */
static bool open_pause(const cfd_record *rec, cfd_metric m, int64_t as_of)
{
    for (size_t i = 0; i < rec->n_pauses; i++) {
        const cfd_pause *p = &rec->pauses[i];

        if (p->start_ms != 0 && p->start_ms <= as_of && p->end_ms == 0 &&
            (pause_metrics(p) & (1u << m)))
            return true;
    }
    return false;
}

/* Collects the pauses of metric m, sorted and merged. @returns how many. */
static size_t pauses_of(const cfd_record *rec, cfd_metric m, int64_t as_of, interval *out)
{
    size_t n = 0, k = 0;

    for (size_t i = 0; i < rec->n_pauses && n < MAX_INTERVALS; i++) {
        const cfd_pause *p = &rec->pauses[i];
        uint32_t metrics = pause_metrics(p);
        int64_t end = p->end_ms ? p->end_ms : (as_of > p->start_ms ? as_of : p->start_ms);

        if (p->start_ms == 0 || !(metrics & (1u << m)) || end <= p->start_ms)
            continue;
        out[n++] = (interval){p->start_ms, end};
    }
    /* 「以用户提出的时间为优先」: the wait for the customer's appointment does not count.
     * It runs to the appointment or the engineer at the door, whichever is first: once
     * on site (engineers come 5-10 min early), time counts again. */
    if (m == CFD_METRIC_RESTORATION && n < MAX_INTERVALS) {
        int64_t agreed, until;

        if (cfd_sla_appointment_wait(rec, &agreed, &until))
            out[n++] = (interval){agreed, until};
    }
    qsort(out, n, sizeof(*out), by_start);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && out[i].a <= out[k - 1].b) {
            if (out[i].b > out[k - 1].b)
                out[k - 1].b = out[i].b;
        } else {
            out[k++] = out[i];
        }
    }
    return k;
}

/* The instant at which `counted` ms of unpaused time have passed since start. */
static int64_t walk(int64_t start, int64_t counted, const interval *iv, size_t n)
{
    int64_t t = start;

    for (size_t i = 0; i < n; i++) {
        if (iv[i].b <= t)
            continue;
        if (iv[i].a > t) {
            if (iv[i].a - t >= counted)
                break;
            counted -= iv[i].a - t;
        }
        t = iv[i].b;
    }
    return t + counted;
}

/* Paused time within [from, to). */
static int64_t paused_within(int64_t from, int64_t to, const interval *iv, size_t n)
{
    int64_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        int64_t a = iv[i].a > from ? iv[i].a : from, b = iv[i].b < to ? iv[i].b : to;

        if (b > a)
            sum += b - a;
    }
    return sum;
}

/* Warnings come at fractions of the time that counts between start and deadline. */
static int64_t warning_at(const cfd_sla_result *r, int pct, const interval *iv, size_t n)
{
    int64_t counted =
        r->deadline_ms - r->start_ms - paused_within(r->start_ms, r->deadline_ms, iv, n);

    return walk(r->start_ms, counted * pct / 100, iv, n);
}

int64_t cfd_sla_fraction_at(const cfd_record *rec, cfd_metric m, int pct)
{
    interval iv[MAX_INTERVALS + 1];
    const cfd_sla_result *r = &rec->sla[m];
    size_t n;

    if (r->start_ms == 0 || r->deadline_ms == 0)
        return 0;
    n = pauses_of(rec, m, cfd_record_as_of(rec), iv);
    return warning_at(r, pct, iv, n);
}

int64_t cfd_sla_warning_at(const cfd_record *rec, const cfd_policy *pol, cfd_metric m,
                           int which)
{
    if (which < 0 || which > 1)
        return 0;
    return cfd_sla_fraction_at(rec, m, pol->warn_pct[which]);
}

typedef struct clock_in {
    cfd_metric metric;
    int64_t target_ms, start_ms, actual_ms;
    int64_t override_deadline_ms; /* the customer's appointment; 0 none */
    bool quiet_moves;             /* contact deadline leaves quiet hours */
} clock_in;

/* Fills r for one metric from c, judged at as_of. */
static void judge_clock(cfd_sla_result *r, const clock_in *c, const cfd_record *rec,
                        const cfd_policy *pol, int64_t as_of)
{
    interval iv[MAX_INTERVALS + 1];
    size_t n;
    int64_t stop;
    bool paused_now = false;

    memset(r, 0, sizeof(*r));
    r->metric = c->metric;
    r->target_ms = c->target_ms;
    r->start_ms = c->start_ms;
    r->actual_ms = c->actual_ms;
    if (c->start_ms == 0) {
        r->status = CFD_MST_PENDING;
        return;
    }
    n = pauses_of(rec, c->metric, as_of, iv);
    if (c->override_deadline_ms != 0) {
        r->deadline_ms = c->override_deadline_ms;
    } else {
        r->deadline_ms = walk(c->start_ms, c->target_ms, iv, n);
        /* 「尽量不要…除紧急情况外」: a non-emergency contact avoids quiet hours. */
        if (c->quiet_moves)
            r->deadline_ms = cfd_policy_quiet_end(pol, r->deadline_ms);
    }
    stop = c->actual_ms != 0 ? c->actual_ms : (as_of > c->start_ms ? as_of : c->start_ms);
    r->paused_ms = paused_within(c->start_ms, stop, iv, n);
    if (c->actual_ms != 0) {
        r->status = c->actual_ms <= r->deadline_ms ? CFD_MST_MET : CFD_MST_BREACHED;
        return;
    }
    r->status = as_of > r->deadline_ms ? CFD_MST_BREACHED : CFD_MST_RUNNING;
    for (size_t i = 0; i < n; i++)
        paused_now = paused_now || (iv[i].a <= as_of && as_of < iv[i].b);
    paused_now = paused_now || open_pause(rec, c->metric, as_of);
    if (r->status != CFD_MST_RUNNING || paused_now)
        return;
    r->breach_at_ms = r->deadline_ms;
    for (int w = 0; w < 2; w++) {
        int64_t at = warning_at(r, pol->warn_pct[w], iv, n);

        if (at > as_of) {
            r->next_warning_ms = at;
            break;
        }
    }
}

/* Customer equipment or the customer's own network: not attributable to the operator
 * (客户专线现场服务管理规范 3.0), so its restoration time does not count. */
static bool customer_caused(const cfd_record *rec)
{
    return rec->cause == CFD_CAUSE_CUSTOMER_EQUIPMENT ||
           rec->cause == CFD_CAUSE_CUSTOMER_NETWORK;
}

cfd_tier cfd_sla_duty_tier(const cfd_record *rec)
{
    /* 「属于电话、手机等终端类故障投诉,如不涉及专线和业务平台的,均按照普通级业务的相关要求
     * 处理」: ordinary level whatever the tier. */
    return rec->terminal_complaint ? CFD_TIER_STANDARD : rec->customer.tier;
}

void cfd_sla_update(cfd_record *rec, const cfd_policy *pol)
{
    cfd_sla_judge_at(rec, pol, cfd_record_as_of(rec), rec->sla);
}

void cfd_sla_judge_at(const cfd_record *rec, const cfd_policy *pol, int64_t as_of,
                      cfd_sla_result out[CFD_METRIC_COUNT])
{
    bool from_report = false;
    const cfd_sla_limits *lim =
        cfd_policy_limits(pol, cfd_sla_duty_tier(rec), rec->urgency, &from_report);
    int k = rec->special ? CFD_SPECIAL : CFD_ORDINARY;
    /* Tiers count from acceptance (受理), urgency classes from the report. */
    int64_t start = from_report ? rec->reported_at_ms : rec->accepted_at_ms;
    int64_t arrived = first_at(rec, CFD_MS_ARRIVED_ON_SITE);
    /* The engineer who found the customer absent was on site in time all the same. */
    int64_t on_site = earliest(arrived, first_at(rec, CFD_MS_CUSTOMER_ABSENT));
    /* Cause identification counts from the arrival of a visit the customer did not
     * miss, or for a fault handled without a visit from the duty start (default). */
    int64_t visited = visit_arrival(rec);
    int64_t cause_start = visited != 0                                        ? visited
                          : (rec->remote_restoration || rec->diagnosed_at_ms) ? start
                                                                              : 0;
    clock_in clocks[CFD_METRIC_COUNT] = {
        [CFD_METRIC_CONTACT] = {CFD_METRIC_CONTACT, lim->contact_ms, start,
                                first_at(rec, CFD_MS_CUSTOMER_CONTACTED), 0,
                                lim->contact_quiet_moves},
        /* The customer's time has priority over the on-site limit. */
        [CFD_METRIC_ON_SITE] = {CFD_METRIC_ON_SITE, lim->onsite_ms, start, on_site,
                                rec->appointment_by_customer ? rec->appointment_time_ms : 0,
                                false},
        /* The restoration clock starts at the report or the alarm, whichever first. */
        [CFD_METRIC_RESTORATION] = {CFD_METRIC_RESTORATION, lim->restoration_ms,
                                    earliest(rec->reported_at_ms, rec->first_alarm_at_ms),
                                    rec->restored_at_ms, 0, false},
        [CFD_METRIC_CAUSE_IDENTIFIED] = {CFD_METRIC_CAUSE_IDENTIFIED, pol->cause_ms[k],
                                         cause_start, rec->diagnosed_at_ms, 0, false},
        /* The event report is due after the restoration (default). */
        [CFD_METRIC_EVENT_REPORT] = {CFD_METRIC_EVENT_REPORT, pol->event_report_ms[k],
                                     rec->restored_at_ms, rec->event_report_at_ms, 0,
                                     false},
    };

    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        judge_clock(&out[m], &clocks[m], rec, pol, as_of);

    /* Not every fault needs a visit: a remote restoration skips arrival. */
    if (rec->remote_restoration && on_site == 0)
        out[CFD_METRIC_ON_SITE].status = CFD_MST_NOT_APPLICABLE;
    if (customer_caused(rec))
        out[CFD_METRIC_RESTORATION].status = CFD_MST_NOT_APPLICABLE;
    /* A cancelled order owes nothing more: its open clocks stop counting. */
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++) {
        cfd_sla_result *r = &out[m];

        if (rec->state == CFD_STATE_CANCELLED && r->actual_ms == 0)
            r->status = CFD_MST_NOT_APPLICABLE;
        if (r->status != CFD_MST_RUNNING)
            r->next_warning_ms = r->breach_at_ms = 0;
    }
}

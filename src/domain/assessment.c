/*
 * The contractor assessment (shared/DOMAIN.md, "Contractor assessment"): the
 * violations of one record, judged from its SLA results and timeline, and their sums
 * per contractor per month.
 *
 * Points (policy defaults, from the seed's assessment table):
 *   late arrival (on-site deadline or agreed appointment missed)  15 each
 *   cause not identified in time                                  10 per started day
 *   event report late                                              5 per started day
 *   closed record with a required item missing                     5 per item
 *   broken service commitment: reschedule notice under 2 h, or
 *   less than 15 min waited for an absent customer                 5 each
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/assessment.h"
#include "civil_date.h"
#include "sla.h"

/* ---- one record's violations ----------------------------------------------------- */

static void add(cfd_record *rec, cfd_violation_code code, int points, int64_t at,
                cfd_metric metric, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add(cfd_record *rec, cfd_violation_code code, int points, int64_t at,
                cfd_metric metric, const char *fmt, ...)
{
    cfd_violation *v;
    va_list ap;

    if (rec->n_violations >= CFD_MAX_VIOLATIONS)
        return;
    v = &rec->violations[rec->n_violations++];
    memset(v, 0, sizeof(*v));
    v->code = code;
    v->points = points;
    v->at_ms = at;
    v->metric = metric;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
}

static long long minutes(int64_t ms)
{
    return (long long)((ms + CFD_MIN_MS - 1) / CFD_MIN_MS);
}

/* Any started day counts as a day (default). */
static int started_days(int64_t late_ms)
{
    int64_t days = (late_ms + CFD_DAY_MS - 1) / CFD_DAY_MS;

    return days < 1 ? 1 : days > 10000 ? 10000 : (int)days;
}

static void judge_late_arrival(cfd_record *rec, const cfd_policy *pol)
{
    const cfd_sla_result *r = &rec->sla[CFD_METRIC_ON_SITE];
    int64_t agreed = 0;

    if (r->status == CFD_MST_BREACHED) {
        if (r->actual_ms != 0)
            add(rec, CFD_VIOLATION_LATE_ARRIVAL, pol->points.late_arrival, r->deadline_ms,
                CFD_METRIC_ON_SITE, "on site %lld min after the deadline",
                minutes(r->actual_ms - r->deadline_ms));
        else
            add(rec, CFD_VIOLATION_LATE_ARRIVAL, pol->points.late_arrival, r->deadline_ms,
                CFD_METRIC_ON_SITE, "not on site by the deadline");
        return;
    }
    /* 「提前5-10分钟到达」: arriving after the agreed appointment is late too. */
    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];

        if (e->milestone == CFD_MS_APPOINTMENT_SET ||
            e->milestone == CFD_MS_APPOINTMENT_RESCHEDULED)
            agreed = e->appointment_time_ms;
        if (e->milestone == CFD_MS_ARRIVED_ON_SITE) {
            if (agreed != 0 && e->event_time_ms > agreed)
                add(rec, CFD_VIOLATION_LATE_ARRIVAL, pol->points.late_arrival,
                    e->event_time_ms, CFD_METRIC_ON_SITE,
                    "arrived %lld min after the agreed appointment",
                    minutes(e->event_time_ms - agreed));
            return;
        }
    }
}

/* A duty with points per started day late (cause identified, event report). */
static void judge_per_day(cfd_record *rec, cfd_metric m, cfd_violation_code code,
                          int per_day, const char *what)
{
    const cfd_sla_result *r = &rec->sla[m];
    int64_t end = r->actual_ms != 0 ? r->actual_ms : cfd_record_as_of(rec);
    int days;

    if (r->status != CFD_MST_BREACHED)
        return;
    days = started_days(end - r->deadline_ms);
    add(rec, code, per_day * days, r->deadline_ms, m, "%s %s %d started day(s) late", what,
        r->actual_ms != 0 ? "done" : "still open,", days);
}

/* How long the engineer waited at the door of an absent customer: the note's times
 * when it gives both; else from the arrival of this visit (the engineer is at the door
 * at the agreed time), or the absence itself, to the note's leaving time, or after an
 * arrival to the absence's report. @returns 0 when unknown. */
static int64_t absent_wait(const cfd_timeline_entry *e, int64_t arrived)
{
    int64_t from = arrived != 0 ? arrived : e->event_time_ms;
    int64_t to = e->left_at_ms != 0 ? e->left_at_ms : arrived != 0 ? e->event_time_ms : 0;

    if (e->waited_ms > 0)
        return e->waited_ms;
    if (to == 0)
        return 0;
    return to > from ? to - from : 1;
}

static void judge_commitments(cfd_record *rec, const cfd_policy *pol)
{
    int64_t agreed = 0, arrived = 0;

    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];

        /* 「应至少提前2个小时通知客户」, unless the customer asked for the change. */
        if (e->milestone == CFD_MS_APPOINTMENT_RESCHEDULED && !e->by_customer &&
            agreed != 0 && agreed - e->event_time_ms < pol->reschedule_notice_ms)
            add(rec, CFD_VIOLATION_BROKEN_COMMITMENT, pol->points.broken_commitment,
                e->event_time_ms, CFD_METRIC_NONE,
                "reschedule notice %lld min before the agreed time",
                (long long)((agreed - e->event_time_ms) / CFD_MIN_MS));
        if (e->milestone == CFD_MS_APPOINTMENT_SET ||
            e->milestone == CFD_MS_APPOINTMENT_RESCHEDULED)
            agreed = e->appointment_time_ms;
        if (e->milestone == CFD_MS_ARRIVED_ON_SITE && arrived == 0)
            arrived = e->event_time_ms;
        /* 「须在门口等候至少15分钟」 */
        if (e->milestone == CFD_MS_CUSTOMER_ABSENT) {
            int64_t waited = absent_wait(e, arrived);

            if (waited > 0 && waited < pol->absent_wait_ms)
                add(rec, CFD_VIOLATION_BROKEN_COMMITMENT, pol->points.broken_commitment,
                    e->event_time_ms, CFD_METRIC_NONE,
                    "waited %lld min for the absent customer",
                    (long long)(waited / CFD_MIN_MS));
            arrived = 0; /* the next visit waits from its own arrival */
        }
    }
}

static bool absent(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* Was there a visit? A remote restoration without arrival needs no visit fields. */
static bool visited(const cfd_record *rec)
{
    return rec->arrival_time_ms != 0 || !rec->remote_restoration;
}

/* The items a closed confirmation record must carry (the paper form's fields), in
 * the order item_missing() checks them. */
static const char *const required[] = {
    "issuing_unit",
    "customer.name",
    "customer.contact_phone",
    "network.circuit_id",
    "problem_description",
    "cause",
    "result",
    "engineers",
    "onsite_findings",
    "customer_signature",
    "engineer_signature",
};

/* @returns true when required item i is missing from rec. */
static bool item_missing(const cfd_record *rec, size_t i)
{
    /* "Restored remotely, nobody to sign" does not hold once someone was on site. */
    bool waived = rec->signature_waiver != CFD_WAIVER_UNSPECIFIED &&
                  (rec->signature_waiver != CFD_WAIVER_REMOTE_RESTORATION ||
                   rec->arrival_time_ms == 0);

    switch (i) {
    case 0:
        return absent(rec->issuing_unit);
    case 1:
        return absent(rec->customer.name);
    case 2:
        return absent(rec->customer.contact_phone);
    case 3:
        return absent(rec->circuit_id);
    case 4:
        return absent(rec->problem_description);
    case 5:
        return rec->cause == CFD_CAUSE_UNSPECIFIED;
    case 6:
        return rec->result == CFD_RESULT_UNSPECIFIED;
    case 7:
        return visited(rec) && rec->n_engineers == 0;
    case 8:
        return visited(rec) && absent(rec->onsite_findings);
    /* A refused or unreachable signature completes the form with its reason. */
    case 9:
        return !waived && absent(rec->customer_signature);
    case 10:
        return !waived && absent(rec->engineer_signature);
    default:
        return false;
    }
}

static void judge_record_items(cfd_record *rec, const cfd_policy *pol)
{
    if (rec->state != CFD_STATE_CLOSED)
        return;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (item_missing(rec, i))
            add(rec, CFD_VIOLATION_NONCONFORMING_RECORD, pol->points.nonconforming_per_item,
                rec->service_end_time_ms, CFD_METRIC_NONE, "closed without %s",
                required[i]);
}

static int by_instant(const void *x, const void *y)
{
    const cfd_violation *a = x, *b = y;

    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms ? -1 : 1;
    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    return strcmp(a->detail, b->detail);
}

/* Complaints caused by non-standard work (投诉), each; only a temporary fix past the
 * agreed permanent-fix time, and parts later than promised, per started day. */
static void judge_complaints_and_delays(cfd_record *rec, const cfd_policy *pol)
{
    int64_t as_of = cfd_record_as_of(rec);

    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];

        if (e->milestone == CFD_MS_COMPLAINT && e->non_standard)
            add(rec, CFD_VIOLATION_COMPLAINT, pol->points.complaint, e->event_time_ms,
                CFD_METRIC_NONE, "complaint caused by non-standard work");
        if (e->milestone == CFD_MS_PART_REPLACED && e->due_ms > 0 &&
            e->event_time_ms > e->due_ms) {
            int days = started_days(e->event_time_ms - e->due_ms);
            add(rec, CFD_VIOLATION_PARTS_LATE, pol->points.parts_late_per_day * days,
                e->due_ms, CFD_METRIC_NONE, "part %d started day(s) later than promised",
                days);
        }
        if (e->milestone == CFD_MS_SERVICE_RESTORED && e->workaround && e->due_ms > 0) {
            /* The permanent fix is the first later restoration without a workaround. */
            int64_t fixed = 0;
            for (size_t k = i + 1; k < rec->n_timeline && !fixed; k++)
                if (rec->timeline[k].milestone == CFD_MS_SERVICE_RESTORED &&
                    !rec->timeline[k].workaround)
                    fixed = rec->timeline[k].event_time_ms;
            int64_t end = fixed ? fixed : as_of;
            if (end > e->due_ms) {
                int days = started_days(end - e->due_ms);
                add(rec, CFD_VIOLATION_TEMPORARY_FIX_LATE,
                    pol->points.temporary_fix_per_day * days, e->due_ms, CFD_METRIC_NONE,
                    "only a temporary fix %s %d started day(s) past the agreed time",
                    fixed ? "until" : "still,", days);
            }
        }
    }
}

void cfd_assessment_judge(cfd_record *rec, const cfd_policy *pol)
{
    rec->n_violations = 0;
    rec->penalty_points = 0;
    judge_late_arrival(rec, pol);
    judge_per_day(rec, CFD_METRIC_CAUSE_IDENTIFIED, CFD_VIOLATION_CAUSE_NOT_FOUND,
                  pol->points.cause_late_per_day, "cause identification");
    judge_per_day(rec, CFD_METRIC_EVENT_REPORT, CFD_VIOLATION_EVENT_REPORT_LATE,
                  pol->points.event_report_late_per_day, "event report");
    judge_record_items(rec, pol);
    judge_commitments(rec, pol);
    judge_complaints_and_delays(rec, pol);
    qsort(rec->violations, rec->n_violations, sizeof(rec->violations[0]), by_instant);
    for (size_t i = 0; i < rec->n_violations; i++)
        rec->penalty_points += rec->violations[i].points;
}

/* ---- sums per contractor per month ------------------------------------------------ */

cfd_assessment *cfd_assessment_new(void)
{
    return cfd_xcalloc(1, sizeof(cfd_assessment));
}

void cfd_assessment_destroy(cfd_assessment *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_rows; i++)
        free(a->rows[i].contractor);
    free(a->rows);
    free(a);
}

static int row_cmp(const char *c, int y, int m, const cfd_assessment_row *r)
{
    int k = strcmp(c, r->contractor);

    if (k != 0)
        return k;
    if (y != r->year)
        return y < r->year ? -1 : 1;
    return (m > r->month) - (m < r->month);
}

/* @returns the index of the row or where it would go; *found says which. */
static size_t row_search(const cfd_assessment *a, const char *c, int y, int m, bool *found)
{
    size_t lo = 0, hi = a->n_rows;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int k = row_cmp(c, y, m, &a->rows[mid]);

        if (k == 0) {
            *found = true;
            return mid;
        }
        if (k < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

const cfd_assessment_row *cfd_assessment_find(const cfd_assessment *a,
                                              const char *contractor, int year, int month)
{
    bool found;
    size_t i = row_search(a, contractor ? contractor : "", year, month, &found);

    return found ? &a->rows[i] : NULL;
}

/* @returns the row for (c, y, m), inserting an empty one. */
static cfd_assessment_row *row_get(cfd_assessment *a, const char *c, int y, int m)
{
    bool found;
    size_t i = row_search(a, c, y, m, &found);
    cfd_assessment_row *grown;

    if (found)
        return &a->rows[i];
    grown = cfd_xrealloc(a->rows, (a->n_rows + 1) * sizeof(*grown));
    a->rows = grown;
    memmove(&grown[i + 1], &grown[i], (a->n_rows - i) * sizeof(*grown));
    memset(&grown[i], 0, sizeof(*grown));
    grown[i].contractor = cfd_xstrdup(c);
    grown[i].year = y;
    grown[i].month = m;
    a->n_rows++;
    return &grown[i];
}

void cfd_assessment_month_of(const cfd_policy *pol, int64_t at_ms, int *year, int *month)
{
    int64_t local = at_ms + (int64_t)pol->utc_offset_min * CFD_MIN_MS;
    int64_t day = local / CFD_DAY_MS - (local % CFD_DAY_MS < 0);
    int d;

    cfd_civil_from_days(day, year, month, &d);
}

void cfd_assessment_add(cfd_assessment *a, const cfd_record *rec, const cfd_policy *pol)
{
    const char *c = rec->contractor ? rec->contractor : "";
    /* One record counts once per month it touches. */
    int seen[CFD_MAX_VIOLATIONS];
    size_t n_seen = 0;

    for (size_t i = 0; i < rec->n_violations; i++) {
        const cfd_violation *v = &rec->violations[i];
        int y, m;
        cfd_assessment_row *row;
        bool counted = false;

        cfd_assessment_month_of(pol, v->at_ms, &y, &m);
        row = row_get(a, c, y, m);
        row->points += v->points;
        row->violations++;
        if ((int)v->code >= 0 && v->code < CFD_VIOLATION_COUNT) {
            row->by_code[v->code]++;
            row->points_by_code[v->code] += v->points;
        }
        for (size_t k = 0; k < n_seen; k++)
            counted = counted || seen[k] == y * 100 + m;
        if (!counted) {
            row->records++;
            seen[n_seen++] = y * 100 + m;
        }
    }
}

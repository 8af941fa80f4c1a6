/*
 * Alerts the record's SLA results call for: breaches, and retractions of breaches
 * that a late event disproved. rec->alerts_sent remembers what was emitted so that a
 * record replayed or re-applied never alerts twice.
 *
 * Messages name the work order, the tier and the times only: customer names, phones
 * and addresses are confidential and never leave the record.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "confirmd/record.h"

#define SLOTS_PER_METRIC 8 /* bits reserved per metric in alerts_sent */
#define BREACH_PCT 100

_Static_assert(CFD_ALERT_SLOT_COUNT <= SLOTS_PER_METRIC, "alert slots overflow");
_Static_assert(CFD_METRIC_COUNT *SLOTS_PER_METRIC <= 64, "alerts_sent too narrow");

uint64_t cfd_alert_bit(cfd_metric metric, cfd_alert_slot slot)
{
    if ((int)metric <= CFD_METRIC_NONE || (int)metric >= CFD_METRIC_COUNT ||
        (int)slot < 0 || (int)slot >= CFD_ALERT_SLOT_COUNT)
        return 0;
    return 1ULL << ((unsigned)metric * SLOTS_PER_METRIC + (unsigned)slot);
}

void cfd_alert_make_id(cfd_alert *a)
{
    if (a->metric == CFD_METRIC_NONE) {
        const char *kind = cfd_alert_kind_name(a->kind);
        const char *prefix = "ALERT_KIND_";

        /* "GOLD_NOTIFICATION", "SEVERE_FAULT": the kind without its enum prefix. */
        if (strncmp(kind, prefix, strlen(prefix)) == 0)
            kind += strlen(prefix);
        snprintf(a->alert_id, sizeof(a->alert_id), "%s/%s",
                 a->work_order != NULL ? a->work_order : "", kind);
        return;
    }
    snprintf(a->alert_id, sizeof(a->alert_id), "%s/%s/%d",
             a->work_order != NULL ? a->work_order : "", cfd_metric_name(a->metric),
             (int)a->threshold_pct);
}

/* The class the SLA figures came from, as people say it: "AAA", "urgent". */
static const char *class_label(const cfd_record *rec)
{
    switch (rec->customer.tier) {
    case CFD_TIER_AAA:
        return "AAA";
    case CFD_TIER_AA:
        return "AA";
    case CFD_TIER_A:
        return "A";
    case CFD_TIER_STANDARD:
        return "standard";
    default:
        break;
    }
    return rec->urgency == CFD_URGENCY_URGENT ? "urgent" : "general";
}

static const char *metric_label(cfd_metric m)
{
    switch (m) {
    case CFD_METRIC_CONTACT:
        return "contact";
    case CFD_METRIC_ON_SITE:
        return "on-site";
    case CFD_METRIC_RESTORATION:
        return "restoration";
    case CFD_METRIC_CAUSE_IDENTIFIED:
        return "cause identification";
    case CFD_METRIC_EVENT_REPORT:
        return "event report";
    default:
        return "?";
    }
}

/* The verb for the metric's actual: "arrived 14 min late". */
static const char *actual_verb(cfd_metric m)
{
    switch (m) {
    case CFD_METRIC_CONTACT:
        return "contacted";
    case CFD_METRIC_ON_SITE:
        return "arrived";
    case CFD_METRIC_RESTORATION:
        return "restored";
    case CFD_METRIC_CAUSE_IDENTIFIED:
        return "identified";
    case CFD_METRIC_EVENT_REPORT:
        return "submitted";
    default:
        return "?";
    }
}

/* Formats ms since the epoch as "2026-01-02 10:00 UTC". */
static void format_time(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, size, "%lld ms", (long long)ms);
}

/* Whole minutes, rounded up so a late event never reads "0 min late". */
static long long minutes_up(int64_t ms)
{
    return (long long)((ms + CFD_MIN_MS - 1) / CFD_MIN_MS);
}

static void write_message(cfd_alert *a, const cfd_record *rec)
{
    char deadline[48], actual[48];
    const char *cls = class_label(rec), *what = metric_label(a->metric);

    format_time(a->deadline_ms, deadline, sizeof(deadline));
    if (a->kind == CFD_ALERT_RETRACTED) {
        format_time(a->actual_ms, actual, sizeof(actual));
        snprintf(a->message, sizeof(a->message),
                 "%s work order %s: %s breach retracted (%s %s, deadline %s)", cls,
                 a->work_order, what, actual_verb(a->metric), actual, deadline);
    } else if (a->actual_ms != 0) {
        snprintf(a->message, sizeof(a->message),
                 "%s work order %s: %s deadline %s breached (%s %lld min late)", cls,
                 a->work_order, what, deadline, actual_verb(a->metric),
                 minutes_up(a->actual_ms - a->deadline_ms));
    } else {
        snprintf(a->message, sizeof(a->message),
                 "%s work order %s: %s deadline %s breached (not %s yet)", cls,
                 a->work_order, what, deadline, actual_verb(a->metric));
    }
}

/* A breach, or its retraction, to the breach's level of pol's recipient chain. */
static void fill_alert(cfd_alert *a, const cfd_record *rec, const cfd_policy *pol,
                       cfd_metric m, cfd_alert_kind kind, int64_t now_ms)
{
    const cfd_sla_result *r = &rec->sla[m];

    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->work_order = rec->work_order;
    a->metric = m;
    a->threshold_pct = BREACH_PCT;
    a->deadline_ms = r->deadline_ms;
    a->fired_at_ms = now_ms;
    a->actual_ms = r->actual_ms;
    a->recipients = cfd_policy_step_recipient(pol, CFD_STEP_BREACH);
    a->tier = rec->customer.tier;
    a->gold = rec->customer.gold;
    a->city = rec->customer.city;
    a->circuit_id = rec->circuit_id;
    cfd_alert_make_id(a);
    write_message(a, rec);
}

/*
 * 「金牌集团客户的本地集团客户业务」: an accepted AAA gold order notifies the branch
 * network department's leader, an AA gold one the team leader (at acceptance,
 * default). A and standard gold customers get no notification dispatch.
 * @returns true when one was written to a.
 */
static bool gold_notification(cfd_alert *a, const cfd_record *rec, int64_t now_ms)
{
    cfd_recipient to;
    char accepted[48];

    if (!rec->customer.gold || rec->accepted_at_ms == 0 ||
        (rec->alerts_sent & CFD_ALERT_BIT_GOLD))
        return false;
    if (rec->customer.tier == CFD_TIER_AAA)
        to = CFD_RECIPIENT_DEPARTMENT_LEADER;
    else if (rec->customer.tier == CFD_TIER_AA)
        to = CFD_RECIPIENT_TEAM_LEADER;
    else
        return false;
    memset(a, 0, sizeof(*a));
    a->kind = CFD_ALERT_GOLD_NOTIFICATION;
    a->work_order = rec->work_order;
    a->metric = CFD_METRIC_NONE;
    a->fired_at_ms = now_ms;
    a->actual_ms = rec->accepted_at_ms;
    a->recipients = to;
    a->tier = rec->customer.tier;
    a->gold = true;
    a->city = rec->customer.city;
    a->circuit_id = rec->circuit_id;
    cfd_alert_make_id(a);
    format_time(rec->accepted_at_ms, accepted, sizeof(accepted));
    snprintf(a->message, sizeof(a->message),
             "%s gold work order %s accepted %s: notify the %s", class_label(rec),
             a->work_order, accepted,
             to == CFD_RECIPIENT_DEPARTMENT_LEADER ? "network department leader"
                                                   : "team leader");
    return true;
}

/*
 * A breach is retracted at most once. Once MET, a metric stays MET as late events only
 * move its first actual earlier; only a new customer appointment can move the on-site
 * deadline, and a breach after a retraction is not alerted again (not modelled yet).
 */
size_t cfd_record_collect_alerts(cfd_record *rec, const cfd_policy *pol, int64_t now_ms,
                                 cfd_alert *out, size_t max)
{
    size_t n = 0;

    if (n < max && gold_notification(&out[n], rec, now_ms)) {
        rec->alerts_sent |= CFD_ALERT_BIT_GOLD;
        n++;
    }
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT && n < max; m++) {
        uint64_t breach = cfd_alert_bit((cfd_metric)m, CFD_ALERT_SLOT_BREACH);
        uint64_t retracted = cfd_alert_bit((cfd_metric)m, CFD_ALERT_SLOT_RETRACTED);
        cfd_metric_status status = rec->sla[m].status;

        if (status == CFD_MST_BREACHED && !(rec->alerts_sent & breach)) {
            fill_alert(&out[n++], rec, pol, (cfd_metric)m, CFD_ALERT_BREACH, now_ms);
            rec->alerts_sent |= breach;
        } else if ((rec->alerts_sent & breach) && status == CFD_MST_MET &&
                   !(rec->alerts_sent & retracted)) {
            fill_alert(&out[n++], rec, pol, (cfd_metric)m, CFD_ALERT_RETRACTED, now_ms);
            rec->alerts_sent |= retracted;
        }
    }
    return n;
}

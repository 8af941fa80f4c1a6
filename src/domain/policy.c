/*
 * SLA policy: the figures of the domain rules, their defaults (shared/DOMAIN.md,
 * "SLA policy" and "Contractor assessment") and a version digest so a record says
 * which figures judged it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "confirmd/policy.h"

/* Indexed by tier; AAA/AA contact and on-site are seed facts, the rest defaults. Only
 * A and standard contact deadlines move out of quiet hours: AAA and AA are
 * emergencies. */
static const cfd_sla_limits default_tiers[CFD_TIER_COUNT] = {
    [CFD_TIER_AAA] = {15 * CFD_MIN_MS, 1 * CFD_HOUR_MS, 4 * CFD_HOUR_MS, false},
    [CFD_TIER_AA] = {30 * CFD_MIN_MS, 2 * CFD_HOUR_MS, 8 * CFD_HOUR_MS, false},
    [CFD_TIER_A] = {2 * CFD_HOUR_MS, 4 * CFD_HOUR_MS, 12 * CFD_HOUR_MS, true},
    [CFD_TIER_STANDARD] = {24 * CFD_HOUR_MS, 48 * CFD_HOUR_MS, 48 * CFD_HOUR_MS, true},
};
/* Repair-management urgency classes: contact and visit are seed facts, restoration
 * a default. Urgent faults are emergencies: their contact never moves. */
static const cfd_sla_limits default_urgent = {2 * CFD_HOUR_MS, 4 * CFD_HOUR_MS,
                                              8 * CFD_HOUR_MS, false};
static const cfd_sla_limits default_general = {24 * CFD_HOUR_MS, 48 * CFD_HOUR_MS,
                                               48 * CFD_HOUR_MS, true};

/* Each step of one duty one level higher (default). */
static const cfd_recipient default_chain[] = {
    CFD_RECIPIENT_ENGINEER, CFD_RECIPIENT_TEAM_LEADER, CFD_RECIPIENT_DEPARTMENT_LEADER,
    CFD_RECIPIENT_NOC_DUTY_MANAGER};

/* Hainan complaint-handling norms: avoid 12:00-14:30 and 21:00-08:30. */
static const cfd_quiet_window default_quiet[] = {{12 * 60, 14 * 60 + 30},
                                                 {21 * 60, 8 * 60 + 30}};

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

/* Feeds v as 8 little-endian bytes, so the digest does not depend on the host. */
static uint64_t fnv1a_i64(uint64_t h, int64_t v)
{
    uint64_t u = (uint64_t)v;

    for (int i = 0; i < 8; i++) {
        h ^= (u >> (8 * i)) & 0xffu;
        h *= FNV64_PRIME;
    }
    return h;
}

static uint64_t fnv1a_limits(uint64_t h, const cfd_sla_limits *l)
{
    h = fnv1a_i64(h, l->contact_ms);
    h = fnv1a_i64(h, l->onsite_ms);
    h = fnv1a_i64(h, l->restoration_ms);
    return fnv1a_i64(h, l->contact_quiet_moves);
}

void cfd_policy_defaults(cfd_policy *p)
{
    memset(p, 0, sizeof(*p));
    memcpy(p->tier, default_tiers, sizeof(p->tier));
    p->urgent = default_urgent;
    p->general = default_general;
    p->warn_pct[0] = 50;
    p->warn_pct[1] = 80;
    p->escalation_ms =
        30 * CFD_MIN_MS; /* default: the seeds name the levels, not the pace */
    memcpy(p->chain, default_chain, sizeof(default_chain));
    p->n_chain = (int)(sizeof(default_chain) / sizeof(default_chain[0]));
    p->cause_ms[CFD_ORDINARY] = 2 * CFD_HOUR_MS;
    p->cause_ms[CFD_SPECIAL] = 24 * CFD_HOUR_MS;
    p->event_report_ms[CFD_ORDINARY] = 1 * CFD_DAY_MS;
    p->event_report_ms[CFD_SPECIAL] = 3 * CFD_DAY_MS;
    p->utc_offset_min = 8 * 60; /* Asia/Shanghai */
    memcpy(p->quiet, default_quiet, sizeof(default_quiet));
    p->n_quiet = (int)(sizeof(default_quiet) / sizeof(default_quiet[0]));
    p->reschedule_notice_ms = 2 * CFD_HOUR_MS; /* seed: 「应至少提前2个小时通知客户」 */
    p->absent_wait_ms = 15 * CFD_MIN_MS; /* seed: 等候至少15分钟 */
    p->observation_window_ms = 7 * CFD_DAY_MS;
    p->customer_storm_window_ms = 30 * CFD_MIN_MS;
    p->points = (cfd_penalties){.late_arrival = 15,
                                .cause_late_per_day = 10,
                                .event_report_late_per_day = 5,
                                .nonconforming_per_item = 5,
                                .broken_commitment = 5,
                                .complaint = 15,
                                .temporary_fix_per_day = 10,
                                .parts_late_per_day = 10};
    p->serial_date = CFD_SERIAL_DATE_YYYYMMDD;
    cfd_policy_seal(p);
}

/* The digest covers every figure in a fixed order; tier[UNSPECIFIED] and unused quiet
 * slots are left out so that stray values there cannot change the version. */
void cfd_policy_seal(cfd_policy *p)
{
    uint64_t h = FNV64_OFFSET;

    for (int t = CFD_TIER_AAA; t < CFD_TIER_COUNT; t++)
        h = fnv1a_limits(h, &p->tier[t]);
    h = fnv1a_limits(h, &p->urgent);
    h = fnv1a_limits(h, &p->general);
    h = fnv1a_i64(h, p->warn_pct[0]);
    h = fnv1a_i64(h, p->warn_pct[1]);
    h = fnv1a_i64(h, p->escalation_ms);
    for (int i = 0; i < 2; i++) {
        h = fnv1a_i64(h, p->cause_ms[i]);
        h = fnv1a_i64(h, p->event_report_ms[i]);
    }
    h = fnv1a_i64(h, p->aaa_parallel_pct);
    h = fnv1a_i64(h, p->utc_offset_min);
    h = fnv1a_i64(h, p->n_quiet);
    for (int i = 0; i < p->n_quiet && i < CFD_QUIET_MAX; i++) {
        h = fnv1a_i64(h, p->quiet[i].start_min);
        h = fnv1a_i64(h, p->quiet[i].end_min);
    }
    h = fnv1a_i64(h, p->reschedule_notice_ms);
    h = fnv1a_i64(h, p->absent_wait_ms);
    h = fnv1a_i64(h, p->observation_window_ms);
    h = fnv1a_i64(h, p->customer_storm_window_ms);
    h = fnv1a_i64(h, p->points.late_arrival);
    h = fnv1a_i64(h, p->points.cause_late_per_day);
    h = fnv1a_i64(h, p->points.event_report_late_per_day);
    h = fnv1a_i64(h, p->points.nonconforming_per_item);
    h = fnv1a_i64(h, p->points.broken_commitment);
    h = fnv1a_i64(h, p->points.complaint);
    h = fnv1a_i64(h, p->points.temporary_fix_per_day);
    h = fnv1a_i64(h, p->points.parts_late_per_day);
    h = fnv1a_i64(h, p->serial_date);
    h = fnv1a_i64(h, p->n_chain);
    for (int i = 0; i < p->n_chain && i < CFD_CHAIN_MAX; i++)
        h = fnv1a_i64(h, p->chain[i]);
    snprintf(p->version, sizeof(p->version), "%016" PRIx64, h);
}

static cfd_err invalid(char *errstr, size_t errstr_size, const char *what)
{
    if (errstr != NULL && errstr_size > 0)
        snprintf(errstr, errstr_size, "%s", what);
    return CFD_ERR_INVALID_VALUE;
}

static cfd_err check_limits(const cfd_sla_limits *l, const char *row, char *errstr,
                            size_t errstr_size)
{
    const char *figure = NULL;

    if (l->contact_ms <= 0)
        figure = "contact";
    else if (l->onsite_ms <= 0)
        figure = "onsite";
    else if (l->restoration_ms <= 0)
        figure = "restoration";
    if (figure == NULL)
        return CFD_OK;
    if (errstr != NULL && errstr_size > 0)
        snprintf(errstr, errstr_size, "sla.%s.%s must be positive", row, figure);
    return CFD_ERR_INVALID_VALUE;
}

cfd_err cfd_policy_validate(const cfd_policy *p, char *errstr, size_t errstr_size)
{
    static const char *const rows[CFD_TIER_COUNT] = {[CFD_TIER_AAA] = "aaa",
                                                     [CFD_TIER_AA] = "aa",
                                                     [CFD_TIER_A] = "a",
                                                     [CFD_TIER_STANDARD] = "standard"};
    const cfd_penalties *pts = &p->points;
    cfd_err err;

    for (int t = CFD_TIER_AAA; t < CFD_TIER_COUNT; t++)
        if ((err = check_limits(&p->tier[t], rows[t], errstr, errstr_size)))
            return err;
    if ((err = check_limits(&p->urgent, "urgent", errstr, errstr_size)))
        return err;
    if ((err = check_limits(&p->general, "general", errstr, errstr_size)))
        return err;
    if (p->warn_pct[0] <= 0 || p->warn_pct[0] >= p->warn_pct[1] || p->warn_pct[1] >= 100) {
        if (errstr != NULL && errstr_size > 0)
            snprintf(errstr, errstr_size,
                     "sla.warn_pct must be increasing within (0, 100): %d, %d",
                     p->warn_pct[0], p->warn_pct[1]);
        return CFD_ERR_INVALID_VALUE;
    }
    if (p->cause_ms[0] <= 0 || p->cause_ms[1] <= 0)
        return invalid(errstr, errstr_size, "duties.cause_* must be positive");
    if (p->event_report_ms[0] <= 0 || p->event_report_ms[1] <= 0)
        return invalid(errstr, errstr_size, "duties.event_report_* must be positive");
    if (p->aaa_parallel_pct < 0 || p->aaa_parallel_pct > 100)
        return invalid(errstr, errstr_size,
                       "duties.aaa_parallel_pct must be within 0..100");
    if (p->escalation_ms <= 0)
        return invalid(errstr, errstr_size, "sla.escalation_interval must be positive");
    if (p->utc_offset_min < -14 * 60 || p->utc_offset_min > 14 * 60)
        return invalid(errstr, errstr_size, "time.utc_offset must be within -840..840");
    if (p->n_quiet < 0 || p->n_quiet > CFD_QUIET_MAX)
        return invalid(errstr, errstr_size, "time.quiet_hours: too many windows");
    for (int i = 0; i < p->n_quiet; i++)
        if (p->quiet[i].start_min < 0 || p->quiet[i].start_min >= 1440 ||
            p->quiet[i].end_min < 0 || p->quiet[i].end_min >= 1440 ||
            p->quiet[i].start_min == p->quiet[i].end_min)
            return invalid(errstr, errstr_size, "time.quiet_hours: window out of the day");
    if (p->reschedule_notice_ms < 0 || p->absent_wait_ms < 0 ||
        p->observation_window_ms <= 0 || p->customer_storm_window_ms < 0)
        return invalid(errstr, errstr_size, "lifecycle figures must not be negative");
    if (pts->late_arrival < 0 || pts->cause_late_per_day < 0 ||
        pts->event_report_late_per_day < 0 || pts->nonconforming_per_item < 0 ||
        pts->broken_commitment < 0 || pts->complaint < 0 ||
        pts->temporary_fix_per_day < 0 || pts->parts_late_per_day < 0)
        return invalid(errstr, errstr_size, "penalty points must not be negative");
    if (p->n_chain < CFD_CHAIN_MIN || p->n_chain > CFD_CHAIN_MAX)
        return invalid(errstr, errstr_size,
                       "sla.recipients must name 3 or 4 levels "
                       "(warning, warning, breach, escalation)");
    for (int i = 0; i < p->n_chain; i++)
        if (p->chain[i] < CFD_RECIPIENT_ENGINEER ||
            p->chain[i] > CFD_RECIPIENT_NOC_DUTY_MANAGER ||
            (i > 0 && p->chain[i] <= p->chain[i - 1]))
            return invalid(errstr, errstr_size,
                           "sla.recipients must go one level higher at each step");
    if ((int)p->serial_date < CFD_SERIAL_DATE_NONE ||
        (int)p->serial_date > CFD_SERIAL_DATE_YYMM)
        return invalid(errstr, errstr_size, "parts.serial_date is not a known format");
    return CFD_OK;
}

const cfd_sla_limits *cfd_policy_limits(const cfd_policy *p, cfd_tier tier,
                                        cfd_urgency urgency, bool *from_report)
{
    bool tiered = tier >= CFD_TIER_AAA && tier <= CFD_TIER_STANDARD;

    /* Tier limits count from acceptance (受理), urgency classes from the report. */
    if (from_report != NULL)
        *from_report = !tiered;
    if (tiered)
        return &p->tier[tier];
    return urgency == CFD_URGENCY_URGENT ? &p->urgent : &p->general;
}

bool cfd_policy_in_observation(const cfd_policy *p, int64_t watched_from_ms, int64_t t_ms)
{
    return watched_from_ms > 0 && t_ms >= watched_from_ms &&
           t_ms - watched_from_ms <= p->observation_window_ms;
}

cfd_recipient cfd_policy_step_recipient(const cfd_policy *p, int step)
{
    if (step < 0 || step >= p->n_chain || step >= CFD_CHAIN_MAX)
        return CFD_RECIPIENT_NONE;
    return p->chain[step];
}

/* Floor division and modulo for negative instants (before 1970 local). */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t cfd_policy_quiet_end(const cfd_policy *p, int64_t t_ms)
{
    int64_t local = t_ms + (int64_t)p->utc_offset_min * CFD_MIN_MS;
    int64_t midnight = floor_div(local, CFD_DAY_MS) * CFD_DAY_MS; /* local */
    int64_t tod = local - midnight;

    for (int i = 0; i < p->n_quiet && i < CFD_QUIET_MAX; i++) {
        int64_t s = p->quiet[i].start_min * CFD_MIN_MS,
                e = p->quiet[i].end_min * CFD_MIN_MS;
        int64_t end_local;

        if (s < e && tod >= s && tod < e)
            end_local = midnight + e;
        else if (s > e && tod >= s) /* wraps midnight: ends tomorrow */
            end_local = midnight + CFD_DAY_MS + e;
        else if (s > e && tod < e)
            end_local = midnight + e;
        else
            continue;
        return end_local - (int64_t)p->utc_offset_min * CFD_MIN_MS;
    }
    return t_ms;
}

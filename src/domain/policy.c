/*
 * SLA policy: the time limits per tier and urgency class, their defaults
 * (shared/DOMAIN.md, "SLA policy") and a version digest so a record says which
 * figures judged it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "confirmd/policy.h"

/* Indexed by tier; AAA/AA contact and on-site are seed facts, the rest defaults. */
static const cfd_sla_limits default_tiers[CFD_TIER_COUNT] = {
    [CFD_TIER_AAA] = {15 * CFD_MIN_MS, 1 * CFD_HOUR_MS, 4 * CFD_HOUR_MS},
    [CFD_TIER_AA] = {30 * CFD_MIN_MS, 2 * CFD_HOUR_MS, 8 * CFD_HOUR_MS},
    [CFD_TIER_A] = {2 * CFD_HOUR_MS, 4 * CFD_HOUR_MS, 12 * CFD_HOUR_MS},
    [CFD_TIER_STANDARD] = {24 * CFD_HOUR_MS, 48 * CFD_HOUR_MS, 48 * CFD_HOUR_MS},
};
/* Repair-management urgency classes: contact and visit are seed facts, restoration
 * a default. */
static const cfd_sla_limits default_urgent = {2 * CFD_HOUR_MS, 4 * CFD_HOUR_MS,
                                              8 * CFD_HOUR_MS};
static const cfd_sla_limits default_general = {24 * CFD_HOUR_MS, 48 * CFD_HOUR_MS,
                                               48 * CFD_HOUR_MS};

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
    return fnv1a_i64(h, l->restoration_ms);
}

void cfd_policy_defaults(cfd_policy *p)
{
    memset(p, 0, sizeof(*p));
    memcpy(p->tier, default_tiers, sizeof(p->tier));
    p->urgent = default_urgent;
    p->general = default_general;
    p->warn_pct[0] = 50;
    p->warn_pct[1] = 80;
    cfd_policy_seal(p);
}

/* The digest covers every figure in a fixed order; tier[UNSPECIFIED] is unused and
 * left out so that stray values there cannot change the version. */
void cfd_policy_seal(cfd_policy *p)
{
    uint64_t h = FNV64_OFFSET;

    for (int t = CFD_TIER_AAA; t < CFD_TIER_COUNT; t++)
        h = fnv1a_limits(h, &p->tier[t]);
    h = fnv1a_limits(h, &p->urgent);
    h = fnv1a_limits(h, &p->general);
    h = fnv1a_i64(h, p->warn_pct[0]);
    h = fnv1a_i64(h, p->warn_pct[1]);
    snprintf(p->version, sizeof(p->version), "%016" PRIx64, h);
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
    static const char *const rows[CFD_TIER_COUNT] = {
        [CFD_TIER_AAA] = "aaa", [CFD_TIER_AA] = "aa", [CFD_TIER_A] = "a",
        [CFD_TIER_STANDARD] = "standard"};
    cfd_err err;

    for (int t = CFD_TIER_AAA; t < CFD_TIER_COUNT; t++)
        if ((err = check_limits(&p->tier[t], rows[t], errstr, errstr_size)))
            return err;
    if ((err = check_limits(&p->urgent, "urgent", errstr, errstr_size)))
        return err;
    if ((err = check_limits(&p->general, "general", errstr, errstr_size)))
        return err;
    if (p->warn_pct[0] <= 0 || p->warn_pct[0] >= p->warn_pct[1] ||
        p->warn_pct[1] >= 100) {
        if (errstr != NULL && errstr_size > 0)
            snprintf(errstr, errstr_size,
                     "sla.warn_pct must be increasing within (0, 100): %d, %d",
                     p->warn_pct[0], p->warn_pct[1]);
        return CFD_ERR_INVALID_VALUE;
    }
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

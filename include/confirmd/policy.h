/*
 * SLA policy: the time limits per tier and urgency class (shared/DOMAIN.md).
 * Pure data plus defaults; no I/O.
 */
#ifndef CONFIRMD_POLICY_H
#define CONFIRMD_POLICY_H

#include "confirmd/types.h"

#define CFD_MIN_MS (60LL * 1000)
#define CFD_HOUR_MS (60LL * CFD_MIN_MS)

/* One row of limits: contact, on site, restoration (ms). */
typedef struct cfd_sla_limits {
    int64_t contact_ms;
    int64_t onsite_ms;
    int64_t restoration_ms;
} cfd_sla_limits;

typedef struct cfd_policy {
    cfd_sla_limits tier[CFD_TIER_COUNT]; /* [CFD_TIER_UNSPECIFIED] unused */
    cfd_sla_limits urgent;               /* non-tiered, counted from the report */
    cfd_sla_limits general;
    int warn_pct[2];                     /* warning fractions, default 50, 80 */
    char version[17];                    /* hex digest of the figures above */
} cfd_policy;

/* Fills p with the seed values and the documented defaults, and sets p->version. */
void cfd_policy_defaults(cfd_policy *p);

/* Recomputes p->version from the figures (call after changing any). */
void cfd_policy_seal(cfd_policy *p);

/*
 * Checks every limit is positive and warnings are increasing in (0, 100).
 * @returns CFD_OK or CFD_ERR_INVALID_VALUE with errstr naming the figure.
 */
cfd_err cfd_policy_validate(const cfd_policy *p, char *errstr, size_t errstr_size);

/*
 * The limits that apply to a work order: its tier's row, or for a non-tiered one the
 * urgency class (general when unspecified). *from_report tells whether the clocks
 * count from the report (urgency classes) instead of the acceptance (tiers).
 */
const cfd_sla_limits *cfd_policy_limits(const cfd_policy *p, cfd_tier tier,
                                        cfd_urgency urgency, bool *from_report);

#endif

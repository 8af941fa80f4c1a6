/*
 * SLA policy: every figure of the domain rules (shared/DOMAIN.md) in one value: the
 * time limits per tier and urgency class, the other timed duties, quiet hours, the
 * lifecycle figures, the assessment's penalty points and the serial-number format.
 * Pure data plus defaults; no I/O (src/app/policy_file.c loads it from a file).
 *
 * Versions: cfd_policy_seal() digests every figure into p->version. A record pins the
 * version it was opened under (rec->policy_version). The worker keeps one policy for
 * now; a registry of versions would map rec->policy_version to its figures, and the
 * worker would pass that policy to cfd_record_apply() instead of the current one, so
 * that running work orders keep the figures they were opened under while new ones take
 * the new figures. Until then cfd_record_apply() pins the record's targets itself (see
 * record.h), and cfd_record_reevaluate() moves a record to another policy on demand.
 */
#ifndef CONFIRMD_POLICY_H
#define CONFIRMD_POLICY_H

#include "confirmd/types.h"

#define CFD_MIN_MS (60LL * 1000)
#define CFD_HOUR_MS (60LL * CFD_MIN_MS)
#define CFD_DAY_MS (24LL * CFD_HOUR_MS)

/* One row of limits: contact, on site, restoration (ms). */
typedef struct cfd_sla_limits {
    int64_t contact_ms;
    int64_t onsite_ms;
    int64_t restoration_ms;
    /* A contact deadline inside quiet hours moves to their end (not an emergency). */
    bool contact_quiet_moves;
} cfd_sla_limits;

/* A quiet period in operator-local minutes after midnight; end < start wraps midnight
 * ("21:00-08:30" is {1260, 510}). */
typedef struct cfd_quiet_window {
    int start_min, end_min;
} cfd_quiet_window;
#define CFD_QUIET_MAX 4

/* Where a serial number carries its manufacturing date (see common.proto, Part). */
typedef enum cfd_serial_date {
    CFD_SERIAL_DATE_NONE = 0,     /* serials carry no date */
    CFD_SERIAL_DATE_YYYYMMDD = 1, /* letters, then YYYYMMDD: "HW20230415A0012" */
    CFD_SERIAL_DATE_YYMM = 2,     /* letters, then YYMM (the 1st of the month) */
} cfd_serial_date;

/* Penalty points of the contractor assessment (考核). */
typedef struct cfd_penalties {
    int late_arrival;       /* each */
    int cause_late_per_day; /* per started day late */
    int event_report_late_per_day;
    int nonconforming_per_item; /* per missing item of a closed record */
    int broken_commitment;      /* each */
    int complaint;              /* each complaint caused by non-standard work */
    int temporary_fix_per_day;  /* per started day past the agreed permanent fix */
    int parts_late_per_day;     /* per started day past the promised delivery */
} cfd_penalties;

/* Who hears each step of one timed duty, one level higher each (shared/DOMAIN.md):
 * the first warning, the second, the breach, then one escalation per level left. */
#define CFD_CHAIN_MIN 3   /* two warnings and the breach */
#define CFD_CHAIN_MAX 4   /* there are four levels */
#define CFD_STEP_BREACH 2 /* the breach's step: after the two warnings */

/* Index of the ordinary / special figures of a duty. */
#define CFD_ORDINARY 0
#define CFD_SPECIAL 1

typedef struct cfd_policy {
    cfd_sla_limits tier[CFD_TIER_COUNT]; /* [CFD_TIER_UNSPECIFIED] unused */
    cfd_sla_limits urgent;               /* non-tiered, counted from the report */
    cfd_sla_limits general;
    int warn_pct[2];       /* warning fractions, default 50, 80 */
    int64_t escalation_ms; /* between escalation steps after a breach: 30 min */
    cfd_recipient chain[CFD_CHAIN_MAX]; /* strictly rising; default engineer, team leader,
                                            department leader, NOC duty manager */
    int n_chain;
    int64_t cause_ms[2];        /* cause identified: 2 h / 24 h */
    int64_t event_report_ms[2]; /* event report submitted: 1 d / 3 d */
    /* AAA, cause still unknown at this percent of the cause duty: specialists of every
     * discipline join in parallel; 0 (default) means at its first warning. */
    int aaa_parallel_pct;
    /* Operator time zone as a fixed offset east of UTC (default +480, China has no
     * daylight saving time); the core never asks the C library for a zone. */
    int utc_offset_min;
    cfd_quiet_window quiet[CFD_QUIET_MAX]; /* default 12:00-14:30, 21:00-08:30 */
    int n_quiet;
    int64_t reschedule_notice_ms;  /* notice before the agreed time: 2 h */
    int64_t absent_wait_ms;        /* wait for an absent customer: 15 min */
    int64_t observation_window_ms; /* repeat fault window: 7 d */
    /* A new alarm on another object of a customer joins the customer's open
     * alarm-opened order within this of its opening (a storm): 30 min. */
    int64_t customer_storm_window_ms;
    cfd_penalties points;
    cfd_serial_date serial_date;
    char version[17]; /* hex digest of the figures above */
} cfd_policy;

/* Fills p with the seed values and the documented defaults, and sets p->version. */
void cfd_policy_defaults(cfd_policy *p);

/* Recomputes p->version from the figures (call after changing any). */
void cfd_policy_seal(cfd_policy *p);

/*
 * Checks every limit is positive, warnings are increasing in (0, 100), the offset is
 * within +-14 h, quiet windows are inside the day, points are not negative and the
 * recipient chain has 3 or 4 strictly rising levels.
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

/* @returns true when a fault at t_ms falls within p's observation window of a circuit
 * watched from watched_from_ms (a "needs further observation" order's service end):
 * a repeat fault. */
bool cfd_policy_in_observation(const cfd_policy *p, int64_t watched_from_ms, int64_t t_ms);

/*
 * Who hears step `step` of one timed duty: 0 the first warning, 1 the second, 2 the
 * breach, 3.. the escalations. @returns CFD_RECIPIENT_NONE past the chain's top: that
 * step does not exist.
 */
cfd_recipient cfd_policy_step_recipient(const cfd_policy *p, int step);

/*
 * When t_ms falls inside a quiet window (operator-local time), @returns the instant
 * that window ends; otherwise t_ms itself. Pure: uses p->utc_offset_min only.
 */
int64_t cfd_policy_quiet_end(const cfd_policy *p, int64_t t_ms);

#endif

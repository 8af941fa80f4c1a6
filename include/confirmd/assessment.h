/*
 * The contractor assessment (考核): the violations on each record (computed by the
 * core with the SLA, see cfd_record.violations) summed per contractor per month.
 * Pure: a function of the records given, in any order.
 */
#ifndef CONFIRMD_ASSESSMENT_H
#define CONFIRMD_ASSESSMENT_H

#include "confirmd/record.h"

/* One contractor's month. */
typedef struct cfd_assessment_row {
    char *contractor; /* owned; "" when the order was never dispatched */
    int year, month;  /* operator-local month (policy offset) of the violations */
    int32_t points;
    uint32_t violations;
    uint32_t records;                            /* records with a violation that month */
    uint32_t by_code[CFD_VIOLATION_COUNT];       /* violations per code */
    int32_t points_by_code[CFD_VIOLATION_COUNT]; /* their points per code (items) */
} cfd_assessment_row;

/* Rows sorted by (contractor, year, month). */
typedef struct cfd_assessment {
    cfd_assessment_row *rows;
    size_t n_rows;
} cfd_assessment;

/* @returns an empty assessment (never NULL, see confirmd/alloc.h). */
cfd_assessment *cfd_assessment_new(void);

/* Frees a and its rows. NULL-safe. */
void cfd_assessment_destroy(cfd_assessment *a);

/*
 * Adds rec's violations to a, each in the month of its instant (local time under
 * pol->utc_offset_min). Records must be added once each.
 */
void cfd_assessment_add(cfd_assessment *a, const cfd_record *rec, const cfd_policy *pol);

/* The operator-local month (pol->utc_offset_min) of instant at_ms, the one a violation
 * at that instant counts in. */
void cfd_assessment_month_of(const cfd_policy *pol, int64_t at_ms, int *year, int *month);

/* @returns the row of (contractor, year, month) or NULL. contractor NULL means "". */
const cfd_assessment_row *cfd_assessment_find(const cfd_assessment *a,
                                              const char *contractor, int year, int month);

#endif

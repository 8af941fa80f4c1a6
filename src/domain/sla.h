/*
 * Private to the domain core: the SLA clocks and the assessment's violations,
 * recomputed by cfd_record_apply() and cfd_record_reevaluate().
 */
#ifndef CFD_DOMAIN_SLA_H
#define CFD_DOMAIN_SLA_H

#include "confirmd/record.h"

/* The tier whose duties rec owes: its customer's, or standard for a complaint about a
 * terminal that involves neither the line nor a service platform. */
cfd_tier cfd_sla_duty_tier(const cfd_record *rec);

/* Recomputes rec->sla[every metric] from the record's timeline, pauses and derived
 * times under pol, judged at cfd_record_as_of(rec). */
void cfd_sla_update(cfd_record *rec, const cfd_policy *pol);

/* The instant of warning `which` (0: pol->warn_pct[0], 1: [1]) of metric m: that
 * fraction of the time that counts between its start and its deadline. 0 when the
 * clock has not started. */
int64_t cfd_sla_warning_at(const cfd_record *rec, const cfd_policy *pol, cfd_metric m,
                           int which);

/* The instant pct percent of metric m's counted time has passed; 0 when the clock has
 * not started. */
int64_t cfd_sla_fraction_at(const cfd_record *rec, cfd_metric m, int pct);

/* Recomputes rec->violations and rec->penalty_points from the SLA results and the
 * timeline (call after cfd_sla_update). */
void cfd_assessment_judge(cfd_record *rec, const cfd_policy *pol);

#endif

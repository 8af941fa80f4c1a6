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

/* The same judgement at another instant (a later clock: an open pause lasts until
 * as_of), into out[every metric]; rec is not changed. */
void cfd_sla_judge_at(const cfd_record *rec, const cfd_policy *pol, int64_t as_of,
                      cfd_sla_result out[CFD_METRIC_COUNT]);

/* @returns true when pause p stops metric m's clock (restoration only by default). */
bool cfd_sla_pause_concerns(const cfd_pause *p, cfd_metric m);

/* The wait for an appointment the customer asked for, which the restoration does not
 * count: from its agreement to the appointment or the engineer at the door, whichever
 * is first. @returns false when there is none. */
bool cfd_sla_appointment_wait(const cfd_record *rec, int64_t *from_ms, int64_t *until_ms);

/* The instant of warning `which` (0: pol->warn_pct[0], 1: [1]) of metric m: that
 * fraction of the time that counts between its start and its deadline. 0 when the
 * clock has not started. */
int64_t cfd_sla_warning_at(const cfd_record *rec, const cfd_policy *pol, cfd_metric m,
                           int which);

/* The instant pct percent of metric m's counted time has passed; 0 when the clock has
 * not started. */
int64_t cfd_sla_fraction_at(const cfd_record *rec, cfd_metric m, int pct);

/* pol, or, for a record opened under another policy version, a copy of pol in *scratch
 * with the targets the record was judged by (record.c). @returns the policy to judge
 * rec by. */
const cfd_policy *cfd_record_pinned_policy(const cfd_record *rec, const cfd_policy *pol,
                                           cfd_policy *scratch);

/* Recomputes rec->violations and rec->penalty_points from the SLA results and the
 * timeline (call after cfd_sla_update). */
void cfd_assessment_judge(cfd_record *rec, const cfd_policy *pol);

#endif

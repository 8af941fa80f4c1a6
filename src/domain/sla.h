/*
 * Private to the domain core: the SLA clocks, recomputed by cfd_record_apply().
 */
#ifndef CFD_DOMAIN_SLA_H
#define CFD_DOMAIN_SLA_H

#include "confirmd/record.h"

/* Recomputes rec->sla[CONTACT, ON_SITE, RESTORATION] from the record's timeline and
 * derived times under pol, judged at cfd_record_as_of(rec). */
void cfd_sla_update(cfd_record *rec, const cfd_policy *pol);

#endif

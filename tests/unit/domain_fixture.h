/*
 * Event builders shared by the domain core's unit tests. Everything is static inline
 * so that each test file takes only what it uses.
 */
#ifndef CFD_TEST_DOMAIN_FIXTURE_H
#define CFD_TEST_DOMAIN_FIXTURE_H

#include <string.h>

#include "confirmd/record.h"

/* 2026-01-01 09:00:00 UTC */
#define FX_T0 1767258000000LL
#define FX_MIN CFD_MIN_MS
#define FX_HOUR CFD_HOUR_MS

/* A valid event of the given kind with a plausible payload. */
static inline cfd_event fx_event(const char *id, const char *wo, cfd_milestone kind,
                                 int64_t t)
{
    cfd_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.event_id = id;
    ev.work_order = wo;
    ev.kind = kind;
    ev.event_time_ms = t;
    ev.source = CFD_SOURCE_FIELD_APP;
    switch (kind) {
    case CFD_MS_REPORTED:
        ev.source = CFD_SOURCE_CUSTOMER;
        ev.report.issuing_unit = "Liangping branch";
        ev.report.customer.name = "Acme Logistics";
        ev.report.customer.contact_phone = "13800000000";
        ev.report.customer.city = "Chongqing";
        ev.report.customer.tier = CFD_TIER_AAA;
        ev.report.circuit_id = "CQ-LP-0001";
        ev.report.problem_description = "line down";
        break;
    case CFD_MS_DISPATCHED:
        ev.dispatch.contractor = "Contractor One";
        ev.dispatch.engineer_id = "eng-1";
        break;
    case CFD_MS_ENGINEER_ACCEPTED: /* names the engineer only, as on the wire */
        ev.dispatch.engineer_id = "eng-1";
        break;
    case CFD_MS_APPOINTMENT_SET:
        ev.appointment.time_ms = t + FX_HOUR;
        break;
    case CFD_MS_DIAGNOSED:
        ev.diagnosis.cause = CFD_CAUSE_TRANSMISSION_LINE;
        ev.diagnosis.onsite_findings = "fibre cut";
        break;
    case CFD_MS_SERVICE_RESTORED:
        ev.restoration.result = CFD_RESULT_RESTORED;
        break;
    case CFD_MS_CONFIRMATION_SIGNED:
        ev.signature.customer_signature = "signed";
        ev.signature.satisfaction = 5;
        break;
    case CFD_MS_ALARM:
        ev.source = CFD_SOURCE_NOC;
        ev.alarm.alarm_id = "ALM-1";
        ev.alarm.severity = CFD_ALARM_MAJOR;
        break;
    default:
        break;
    }
    return ev;
}

/* A fault report for a tiered (tier != UNSPECIFIED) or an urgency-class customer. */
static inline cfd_event fx_report(const char *id, const char *wo, int64_t t, cfd_tier tier,
                                  cfd_urgency urgency)
{
    cfd_event ev = fx_event(id, wo, CFD_MS_REPORTED, t);

    ev.report.customer.tier = tier;
    ev.report.urgency = urgency;
    return ev;
}

#endif

/*
 * Unit tests of the codec's domain side: event decoding, the state kept in Redis,
 * emitted records, alerts, dead letters, the enum values shared with the schema, and
 * the UTF-8 check of every string field of events, alarms and inventory records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/alarm_codec.h"
#include "confirmd/codec.h"
#include "confirmd/v1/alert.pb-c.h"
#include "confirmd/v1/events.pb-c.h"
#include "confirmd/v1/incident.pb-c.h"
#include "confirmd/v1/inventory.pb-c.h"
#include "confirmd/v1/record.pb-c.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* ---- helpers ---------------------------------------------------------------------- */

static void str_eq(const char *what, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) {
        print_error("%s: \"%s\" != \"%s\"\n", what, a ? a : "(null)", b ? b : "(null)");
        fail();
    }
}

static void int_eq(const char *what, long long a, long long b)
{
    if (a != b) {
        print_error("%s: %lld != %lld\n", what, a, b);
        fail();
    }
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* Deterministic xorshift, so a failing garbage case can be reproduced. */
static uint32_t rnd_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void assert_released(const cfd_decoded_event *de)
{
    assert_null(de->pb);
    assert_null(de->strv);
    assert_null(de->ev.event_id);
    assert_int_equal(de->ev.kind, CFD_MS_NONE);
}

/* ---- enums: domain values equal the protobuf values ------------------------------ */

typedef struct enum_case {
    int cfd;
    int pb;
    const ProtobufCEnumDescriptor *desc;
    const char *pb_name;
} enum_case;

static const enum_case enum_cases[] = {
    {CFD_ALERT_NONE, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_UNSPECIFIED,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_UNSPECIFIED"},
    {CFD_ALERT_WARNING, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_WARNING,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_WARNING"},
    {CFD_ALERT_BREACH, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_BREACH,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_BREACH"},
    {CFD_ALERT_ESCALATION, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_ESCALATION,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_ESCALATION"},
    {CFD_ALERT_RETRACTED, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_RETRACTED,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_RETRACTED"},
    {CFD_ALERT_GOLD_NOTIFICATION, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_GOLD_NOTIFICATION,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_GOLD_NOTIFICATION"},
    {CFD_ALERT_SEVERE_FAULT, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_SEVERE_FAULT,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_SEVERE_FAULT"},
    {CFD_ALERT_PARALLEL_SPECIALISTS,
     CONFIRMD__V1__ALERT_KIND__ALERT_KIND_PARALLEL_SPECIALISTS,
     &confirmd__v1__alert_kind__descriptor, "ALERT_KIND_PARALLEL_SPECIALISTS"},
    {CFD_RECIPIENT_NONE, CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_UNSPECIFIED,
     &confirmd__v1__recipient_level__descriptor, "RECIPIENT_UNSPECIFIED"},
    {CFD_RECIPIENT_ENGINEER, CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_ENGINEER,
     &confirmd__v1__recipient_level__descriptor, "RECIPIENT_ENGINEER"},
    {CFD_RECIPIENT_TEAM_LEADER, CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_TEAM_LEADER,
     &confirmd__v1__recipient_level__descriptor, "RECIPIENT_TEAM_LEADER"},
    {CFD_RECIPIENT_DEPARTMENT_LEADER,
     CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_DEPARTMENT_LEADER,
     &confirmd__v1__recipient_level__descriptor, "RECIPIENT_DEPARTMENT_LEADER"},
    {CFD_RECIPIENT_NOC_DUTY_MANAGER,
     CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_NOC_DUTY_MANAGER,
     &confirmd__v1__recipient_level__descriptor, "RECIPIENT_NOC_DUTY_MANAGER"},
    {CFD_RECIPIENT_ALL_SPECIALISTS,
     CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_ALL_SPECIALISTS,
     &confirmd__v1__recipient_level__descriptor, "RECIPIENT_ALL_SPECIALISTS"},
    {CFD_DL_NONE, CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_REASON_UNSPECIFIED,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_REASON_UNSPECIFIED"},
    {CFD_DL_UNDECODABLE, CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_UNDECODABLE,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_UNDECODABLE"},
    {CFD_DL_MISSING_FIELD, CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_MISSING_FIELD,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_MISSING_FIELD"},
    {CFD_DL_INVALID_TRANSITION,
     CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_INVALID_TRANSITION,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_INVALID_TRANSITION"},
    {CFD_DL_UNKNOWN_WORK_ORDER,
     CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_UNKNOWN_WORK_ORDER,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_UNKNOWN_WORK_ORDER"},
    {CFD_DL_INVALID_VALUE, CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_INVALID_VALUE,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_INVALID_VALUE"},
    {CFD_DL_UNKNOWN_NETWORK_OBJECT,
     CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_UNKNOWN_NETWORK_OBJECT,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_UNKNOWN_NETWORK_OBJECT"},
    {CFD_DL_OUTPUT_REFUSED, CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_OUTPUT_REFUSED,
     &confirmd__v1__dead_letter_reason__descriptor, "DEAD_LETTER_OUTPUT_REFUSED"},
    {CFD_TIER_UNSPECIFIED, CONFIRMD__V1__TIER__TIER_UNSPECIFIED,
     &confirmd__v1__tier__descriptor, "TIER_UNSPECIFIED"},
    {CFD_TIER_AAA, CONFIRMD__V1__TIER__TIER_AAA, &confirmd__v1__tier__descriptor,
     "TIER_AAA"},
    {CFD_TIER_AA, CONFIRMD__V1__TIER__TIER_AA, &confirmd__v1__tier__descriptor, "TIER_AA"},
    {CFD_TIER_A, CONFIRMD__V1__TIER__TIER_A, &confirmd__v1__tier__descriptor, "TIER_A"},
    {CFD_TIER_STANDARD, CONFIRMD__V1__TIER__TIER_STANDARD, &confirmd__v1__tier__descriptor,
     "TIER_STANDARD"},
    {CFD_URGENCY_UNSPECIFIED, CONFIRMD__V1__URGENCY__URGENCY_UNSPECIFIED,
     &confirmd__v1__urgency__descriptor, "URGENCY_UNSPECIFIED"},
    {CFD_URGENCY_URGENT, CONFIRMD__V1__URGENCY__URGENCY_URGENT,
     &confirmd__v1__urgency__descriptor, "URGENCY_URGENT"},
    {CFD_URGENCY_GENERAL, CONFIRMD__V1__URGENCY__URGENCY_GENERAL,
     &confirmd__v1__urgency__descriptor, "URGENCY_GENERAL"},
    {CFD_SOURCE_UNSPECIFIED, CONFIRMD__V1__SOURCE__SOURCE_UNSPECIFIED,
     &confirmd__v1__source__descriptor, "SOURCE_UNSPECIFIED"},
    {CFD_SOURCE_CUSTOMER, CONFIRMD__V1__SOURCE__SOURCE_CUSTOMER,
     &confirmd__v1__source__descriptor, "SOURCE_CUSTOMER"},
    {CFD_SOURCE_NOC, CONFIRMD__V1__SOURCE__SOURCE_NOC, &confirmd__v1__source__descriptor,
     "SOURCE_NOC"},
    {CFD_SOURCE_DISPATCH, CONFIRMD__V1__SOURCE__SOURCE_DISPATCH,
     &confirmd__v1__source__descriptor, "SOURCE_DISPATCH"},
    {CFD_SOURCE_FIELD_APP, CONFIRMD__V1__SOURCE__SOURCE_FIELD_APP,
     &confirmd__v1__source__descriptor, "SOURCE_FIELD_APP"},
    {CFD_SOURCE_OPERATOR, CONFIRMD__V1__SOURCE__SOURCE_OPERATOR,
     &confirmd__v1__source__descriptor, "SOURCE_OPERATOR"},
    {CFD_CAUSE_UNSPECIFIED, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_UNSPECIFIED,
     &confirmd__v1__cause_category__descriptor, "CAUSE_UNSPECIFIED"},
    {CFD_CAUSE_TRANSMISSION_LINE, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_TRANSMISSION_LINE,
     &confirmd__v1__cause_category__descriptor, "CAUSE_TRANSMISSION_LINE"},
    {CFD_CAUSE_OPERATOR_EQUIPMENT, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_OPERATOR_EQUIPMENT,
     &confirmd__v1__cause_category__descriptor, "CAUSE_OPERATOR_EQUIPMENT"},
    {CFD_CAUSE_CUSTOMER_EQUIPMENT, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_CUSTOMER_EQUIPMENT,
     &confirmd__v1__cause_category__descriptor, "CAUSE_CUSTOMER_EQUIPMENT"},
    {CFD_CAUSE_CUSTOMER_NETWORK, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_CUSTOMER_NETWORK,
     &confirmd__v1__cause_category__descriptor, "CAUSE_CUSTOMER_NETWORK"},
    {CFD_CAUSE_AGGREGATION_LAYER, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_AGGREGATION_LAYER,
     &confirmd__v1__cause_category__descriptor, "CAUSE_AGGREGATION_LAYER"},
    {CFD_CAUSE_OTHER, CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_OTHER,
     &confirmd__v1__cause_category__descriptor, "CAUSE_OTHER"},
    {CFD_RESULT_UNSPECIFIED, CONFIRMD__V1__RESULT_KIND__RESULT_UNSPECIFIED,
     &confirmd__v1__result_kind__descriptor, "RESULT_UNSPECIFIED"},
    {CFD_RESULT_RESTORED, CONFIRMD__V1__RESULT_KIND__RESULT_RESTORED,
     &confirmd__v1__result_kind__descriptor, "RESULT_RESTORED"},
    {CFD_RESULT_NEEDS_OBSERVATION, CONFIRMD__V1__RESULT_KIND__RESULT_NEEDS_OBSERVATION,
     &confirmd__v1__result_kind__descriptor, "RESULT_NEEDS_OBSERVATION"},
    {CFD_RESULT_NOT_REPAIRED, CONFIRMD__V1__RESULT_KIND__RESULT_NOT_REPAIRED,
     &confirmd__v1__result_kind__descriptor, "RESULT_NOT_REPAIRED"},
    {CFD_RESULT_OTHER, CONFIRMD__V1__RESULT_KIND__RESULT_OTHER,
     &confirmd__v1__result_kind__descriptor, "RESULT_OTHER"},
    {CFD_ALARM_UNSPECIFIED, CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_UNSPECIFIED,
     &confirmd__v1__alarm_severity__descriptor, "ALARM_SEVERITY_UNSPECIFIED"},
    {CFD_ALARM_WARNING, CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_WARNING,
     &confirmd__v1__alarm_severity__descriptor, "ALARM_SEVERITY_WARNING"},
    {CFD_ALARM_MINOR, CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_MINOR,
     &confirmd__v1__alarm_severity__descriptor, "ALARM_SEVERITY_MINOR"},
    {CFD_ALARM_MAJOR, CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_MAJOR,
     &confirmd__v1__alarm_severity__descriptor, "ALARM_SEVERITY_MAJOR"},
    {CFD_ALARM_CRITICAL, CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_CRITICAL,
     &confirmd__v1__alarm_severity__descriptor, "ALARM_SEVERITY_CRITICAL"},
    {CFD_IMPORTANCE_ORDINARY, CONFIRMD__V1__IMPORTANCE__IMPORTANCE_UNSPECIFIED,
     &confirmd__v1__importance__descriptor, "IMPORTANCE_UNSPECIFIED"},
    {CFD_IMPORTANCE_PROVINCE_LEVEL, CONFIRMD__V1__IMPORTANCE__IMPORTANCE_PROVINCE_LEVEL,
     &confirmd__v1__importance__descriptor, "IMPORTANCE_PROVINCE_LEVEL"},
    {CFD_IMPORTANCE_CITY_DIAMOND, CONFIRMD__V1__IMPORTANCE__IMPORTANCE_CITY_DIAMOND,
     &confirmd__v1__importance__descriptor, "IMPORTANCE_CITY_DIAMOND"},
    {CFD_IMPORTANCE_CROSS_PROVINCE, CONFIRMD__V1__IMPORTANCE__IMPORTANCE_CROSS_PROVINCE,
     &confirmd__v1__importance__descriptor, "IMPORTANCE_CROSS_PROVINCE"},
    {CFD_IMPORTANCE_CROSS_CITY, CONFIRMD__V1__IMPORTANCE__IMPORTANCE_CROSS_CITY,
     &confirmd__v1__importance__descriptor, "IMPORTANCE_CROSS_CITY"},
    {CFD_INCIDENT_KIND_UNSPECIFIED, CONFIRMD__V1__INCIDENT_KIND__INCIDENT_KIND_UNSPECIFIED,
     &confirmd__v1__incident_kind__descriptor, "INCIDENT_KIND_UNSPECIFIED"},
    {CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION,
     CONFIRMD__V1__INCIDENT_KIND__INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION,
     &confirmd__v1__incident_kind__descriptor,
     "INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION"},
    {CFD_INCIDENT_MULTI_CUSTOMER_CITY,
     CONFIRMD__V1__INCIDENT_KIND__INCIDENT_KIND_MULTI_CUSTOMER_CITY,
     &confirmd__v1__incident_kind__descriptor, "INCIDENT_KIND_MULTI_CUSTOMER_CITY"},
    {CFD_INCIDENT_RULE_UNSPECIFIED, CONFIRMD__V1__INCIDENT_RULE__INCIDENT_RULE_UNSPECIFIED,
     &confirmd__v1__incident_rule__descriptor, "INCIDENT_RULE_UNSPECIFIED"},
    {CFD_INCIDENT_RULE_IMPORTANT_CUSTOMER,
     CONFIRMD__V1__INCIDENT_RULE__INCIDENT_RULE_IMPORTANT_CUSTOMER,
     &confirmd__v1__incident_rule__descriptor, "INCIDENT_RULE_IMPORTANT_CUSTOMER"},
    {CFD_INCIDENT_RULE_CROSS_CITY_RENTAL,
     CONFIRMD__V1__INCIDENT_RULE__INCIDENT_RULE_CROSS_CITY_RENTAL,
     &confirmd__v1__incident_rule__descriptor, "INCIDENT_RULE_CROSS_CITY_RENTAL"},
    {CFD_INCIDENT_RULE_MULTI_CUSTOMER_CITY,
     CONFIRMD__V1__INCIDENT_RULE__INCIDENT_RULE_MULTI_CUSTOMER_CITY,
     &confirmd__v1__incident_rule__descriptor, "INCIDENT_RULE_MULTI_CUSTOMER_CITY"},
    {CFD_INCIDENT_STATUS_UNSPECIFIED,
     CONFIRMD__V1__INCIDENT_STATUS__INCIDENT_STATUS_UNSPECIFIED,
     &confirmd__v1__incident_status__descriptor, "INCIDENT_STATUS_UNSPECIFIED"},
    {CFD_INCIDENT_OPEN, CONFIRMD__V1__INCIDENT_STATUS__INCIDENT_STATUS_OPEN,
     &confirmd__v1__incident_status__descriptor, "INCIDENT_STATUS_OPEN"},
    {CFD_INCIDENT_UPDATE, CONFIRMD__V1__INCIDENT_STATUS__INCIDENT_STATUS_UPDATE,
     &confirmd__v1__incident_status__descriptor, "INCIDENT_STATUS_UPDATE"},
    {CFD_INCIDENT_CLOSED, CONFIRMD__V1__INCIDENT_STATUS__INCIDENT_STATUS_CLOSED,
     &confirmd__v1__incident_status__descriptor, "INCIDENT_STATUS_CLOSED"},
    {CFD_STATE_NONE, CONFIRMD__V1__STATE__STATE_UNSPECIFIED,
     &confirmd__v1__state__descriptor, "STATE_UNSPECIFIED"},
    {CFD_STATE_REPORTED, CONFIRMD__V1__STATE__STATE_REPORTED,
     &confirmd__v1__state__descriptor, "STATE_REPORTED"},
    {CFD_STATE_ACCEPTED, CONFIRMD__V1__STATE__STATE_ACCEPTED,
     &confirmd__v1__state__descriptor, "STATE_ACCEPTED"},
    {CFD_STATE_DISPATCHED, CONFIRMD__V1__STATE__STATE_DISPATCHED,
     &confirmd__v1__state__descriptor, "STATE_DISPATCHED"},
    {CFD_STATE_ENGINEER_ACCEPTED, CONFIRMD__V1__STATE__STATE_ENGINEER_ACCEPTED,
     &confirmd__v1__state__descriptor, "STATE_ENGINEER_ACCEPTED"},
    {CFD_STATE_CONTACTED, CONFIRMD__V1__STATE__STATE_CONTACTED,
     &confirmd__v1__state__descriptor, "STATE_CONTACTED"},
    {CFD_STATE_APPOINTED, CONFIRMD__V1__STATE__STATE_APPOINTED,
     &confirmd__v1__state__descriptor, "STATE_APPOINTED"},
    {CFD_STATE_DEPARTED, CONFIRMD__V1__STATE__STATE_DEPARTED,
     &confirmd__v1__state__descriptor, "STATE_DEPARTED"},
    {CFD_STATE_ON_SITE, CONFIRMD__V1__STATE__STATE_ON_SITE,
     &confirmd__v1__state__descriptor, "STATE_ON_SITE"},
    {CFD_STATE_DIAGNOSED, CONFIRMD__V1__STATE__STATE_DIAGNOSED,
     &confirmd__v1__state__descriptor, "STATE_DIAGNOSED"},
    {CFD_STATE_RESTORED, CONFIRMD__V1__STATE__STATE_RESTORED,
     &confirmd__v1__state__descriptor, "STATE_RESTORED"},
    {CFD_STATE_SIGNED, CONFIRMD__V1__STATE__STATE_SIGNED, &confirmd__v1__state__descriptor,
     "STATE_SIGNED"},
    {CFD_STATE_CLOSED, CONFIRMD__V1__STATE__STATE_CLOSED, &confirmd__v1__state__descriptor,
     "STATE_CLOSED"},
    {CFD_STATE_CANCELLED, CONFIRMD__V1__STATE__STATE_CANCELLED,
     &confirmd__v1__state__descriptor, "STATE_CANCELLED"},
    {CFD_STATE_REOPENED, CONFIRMD__V1__STATE__STATE_REOPENED,
     &confirmd__v1__state__descriptor, "STATE_REOPENED"},
    {CFD_MS_NONE, CONFIRMD__V1__MILESTONE__MILESTONE_UNSPECIFIED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_UNSPECIFIED"},
    {CFD_MS_REPORTED, CONFIRMD__V1__MILESTONE__MILESTONE_REPORTED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_REPORTED"},
    {CFD_MS_ACCEPTED, CONFIRMD__V1__MILESTONE__MILESTONE_ACCEPTED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_ACCEPTED"},
    {CFD_MS_DISPATCHED, CONFIRMD__V1__MILESTONE__MILESTONE_DISPATCHED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_DISPATCHED"},
    {CFD_MS_ENGINEER_ACCEPTED, CONFIRMD__V1__MILESTONE__MILESTONE_ENGINEER_ACCEPTED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_ENGINEER_ACCEPTED"},
    {CFD_MS_CUSTOMER_CONTACTED, CONFIRMD__V1__MILESTONE__MILESTONE_CUSTOMER_CONTACTED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CUSTOMER_CONTACTED"},
    {CFD_MS_APPOINTMENT_SET, CONFIRMD__V1__MILESTONE__MILESTONE_APPOINTMENT_SET,
     &confirmd__v1__milestone__descriptor, "MILESTONE_APPOINTMENT_SET"},
    {CFD_MS_DEPARTED, CONFIRMD__V1__MILESTONE__MILESTONE_DEPARTED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_DEPARTED"},
    {CFD_MS_ARRIVED_ON_SITE, CONFIRMD__V1__MILESTONE__MILESTONE_ARRIVED_ON_SITE,
     &confirmd__v1__milestone__descriptor, "MILESTONE_ARRIVED_ON_SITE"},
    {CFD_MS_DIAGNOSED, CONFIRMD__V1__MILESTONE__MILESTONE_DIAGNOSED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_DIAGNOSED"},
    {CFD_MS_SERVICE_RESTORED, CONFIRMD__V1__MILESTONE__MILESTONE_SERVICE_RESTORED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_SERVICE_RESTORED"},
    {CFD_MS_CONFIRMATION_SIGNED, CONFIRMD__V1__MILESTONE__MILESTONE_CONFIRMATION_SIGNED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CONFIRMATION_SIGNED"},
    {CFD_MS_CLOSED, CONFIRMD__V1__MILESTONE__MILESTONE_CLOSED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CLOSED"},
    {CFD_MS_CANCELLED, CONFIRMD__V1__MILESTONE__MILESTONE_CANCELLED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CANCELLED"},
    {CFD_MS_REOPENED, CONFIRMD__V1__MILESTONE__MILESTONE_REOPENED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_REOPENED"},
    {CFD_MS_ALARM, CONFIRMD__V1__MILESTONE__MILESTONE_NOC_ALARM,
     &confirmd__v1__milestone__descriptor, "MILESTONE_NOC_ALARM"},
    {CFD_METRIC_NONE, CONFIRMD__V1__METRIC__METRIC_UNSPECIFIED,
     &confirmd__v1__metric__descriptor, "METRIC_UNSPECIFIED"},
    {CFD_METRIC_CONTACT, CONFIRMD__V1__METRIC__METRIC_CONTACT,
     &confirmd__v1__metric__descriptor, "METRIC_CONTACT"},
    {CFD_METRIC_ON_SITE, CONFIRMD__V1__METRIC__METRIC_ON_SITE,
     &confirmd__v1__metric__descriptor, "METRIC_ON_SITE"},
    {CFD_METRIC_RESTORATION, CONFIRMD__V1__METRIC__METRIC_RESTORATION,
     &confirmd__v1__metric__descriptor, "METRIC_RESTORATION"},
    {CFD_STATE_CUSTOMER_ABSENT, CONFIRMD__V1__STATE__STATE_CUSTOMER_ABSENT,
     &confirmd__v1__state__descriptor, "STATE_CUSTOMER_ABSENT"},
    {CFD_STATE_SIGNATURE_WAIVED, CONFIRMD__V1__STATE__STATE_SIGNATURE_WAIVED,
     &confirmd__v1__state__descriptor, "STATE_SIGNATURE_WAIVED"},
    {CFD_MS_APPOINTMENT_RESCHEDULED,
     CONFIRMD__V1__MILESTONE__MILESTONE_APPOINTMENT_RESCHEDULED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_APPOINTMENT_RESCHEDULED"},
    {CFD_MS_CUSTOMER_ABSENT, CONFIRMD__V1__MILESTONE__MILESTONE_CUSTOMER_ABSENT,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CUSTOMER_ABSENT"},
    {CFD_MS_SIGNATURE_WAIVED, CONFIRMD__V1__MILESTONE__MILESTONE_SIGNATURE_WAIVED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_SIGNATURE_WAIVED"},
    {CFD_MS_PART_REPLACED, CONFIRMD__V1__MILESTONE__MILESTONE_PART_REPLACED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_PART_REPLACED"},
    {CFD_MS_CLOCK_PAUSED, CONFIRMD__V1__MILESTONE__MILESTONE_CLOCK_PAUSED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CLOCK_PAUSED"},
    {CFD_MS_CLOCK_RESUMED, CONFIRMD__V1__MILESTONE__MILESTONE_CLOCK_RESUMED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_CLOCK_RESUMED"},
    {CFD_MS_EVENT_REPORT_SUBMITTED,
     CONFIRMD__V1__MILESTONE__MILESTONE_EVENT_REPORT_SUBMITTED,
     &confirmd__v1__milestone__descriptor, "MILESTONE_EVENT_REPORT_SUBMITTED"},
    {CFD_MS_COMPLAINT, CONFIRMD__V1__MILESTONE__MILESTONE_COMPLAINT,
     &confirmd__v1__milestone__descriptor, "MILESTONE_COMPLAINT"},
    {CFD_MS_REPEAT_FAULT, CONFIRMD__V1__MILESTONE__MILESTONE_REPEAT_FAULT,
     &confirmd__v1__milestone__descriptor, "MILESTONE_REPEAT_FAULT"},
    {CFD_METRIC_CAUSE_IDENTIFIED, CONFIRMD__V1__METRIC__METRIC_CAUSE_IDENTIFIED,
     &confirmd__v1__metric__descriptor, "METRIC_CAUSE_IDENTIFIED"},
    {CFD_METRIC_EVENT_REPORT, CONFIRMD__V1__METRIC__METRIC_EVENT_REPORT,
     &confirmd__v1__metric__descriptor, "METRIC_EVENT_REPORT"},
    {CFD_EQUIPMENT_UNSPECIFIED,
     CONFIRMD__V1__EQUIPMENT_CATEGORY__EQUIPMENT_CATEGORY_UNSPECIFIED,
     &confirmd__v1__equipment_category__descriptor, "EQUIPMENT_CATEGORY_UNSPECIFIED"},
    {CFD_EQUIPMENT_WHOLE_UNIT, CONFIRMD__V1__EQUIPMENT_CATEGORY__EQUIPMENT_WHOLE_UNIT,
     &confirmd__v1__equipment_category__descriptor, "EQUIPMENT_WHOLE_UNIT"},
    {CFD_EQUIPMENT_COMPONENT, CONFIRMD__V1__EQUIPMENT_CATEGORY__EQUIPMENT_COMPONENT,
     &confirmd__v1__equipment_category__descriptor, "EQUIPMENT_COMPONENT"},
    {CFD_EQUIPMENT_SOFTWARE, CONFIRMD__V1__EQUIPMENT_CATEGORY__EQUIPMENT_SOFTWARE,
     &confirmd__v1__equipment_category__descriptor, "EQUIPMENT_SOFTWARE"},
    {CFD_PART_FAULT_UNSPECIFIED, CONFIRMD__V1__PART_FAULT_TYPE__PART_FAULT_UNSPECIFIED,
     &confirmd__v1__part_fault_type__descriptor, "PART_FAULT_UNSPECIFIED"},
    {CFD_PART_FAULT_FUNCTION_DEFECT,
     CONFIRMD__V1__PART_FAULT_TYPE__PART_FAULT_FUNCTION_DEFECT,
     &confirmd__v1__part_fault_type__descriptor, "PART_FAULT_FUNCTION_DEFECT"},
    {CFD_PART_FAULT_MECHANICAL, CONFIRMD__V1__PART_FAULT_TYPE__PART_FAULT_MECHANICAL,
     &confirmd__v1__part_fault_type__descriptor, "PART_FAULT_MECHANICAL"},
    {CFD_PART_FAULT_DIMENSION_ERROR,
     CONFIRMD__V1__PART_FAULT_TYPE__PART_FAULT_DIMENSION_ERROR,
     &confirmd__v1__part_fault_type__descriptor, "PART_FAULT_DIMENSION_ERROR"},
    {CFD_PART_FAULT_APPEARANCE_DEFECT,
     CONFIRMD__V1__PART_FAULT_TYPE__PART_FAULT_APPEARANCE_DEFECT,
     &confirmd__v1__part_fault_type__descriptor, "PART_FAULT_APPEARANCE_DEFECT"},
    {CFD_RESPONSIBLE_UNSPECIFIED, CONFIRMD__V1__RESPONSIBLE_PARTY__RESPONSIBLE_UNSPECIFIED,
     &confirmd__v1__responsible_party__descriptor, "RESPONSIBLE_UNSPECIFIED"},
    {CFD_RESPONSIBLE_CUSTOMER, CONFIRMD__V1__RESPONSIBLE_PARTY__RESPONSIBLE_CUSTOMER,
     &confirmd__v1__responsible_party__descriptor, "RESPONSIBLE_CUSTOMER"},
    {CFD_RESPONSIBLE_CONTRACTOR, CONFIRMD__V1__RESPONSIBLE_PARTY__RESPONSIBLE_CONTRACTOR,
     &confirmd__v1__responsible_party__descriptor, "RESPONSIBLE_CONTRACTOR"},
    {CFD_RESPONSIBLE_SUPPLIER, CONFIRMD__V1__RESPONSIBLE_PARTY__RESPONSIBLE_SUPPLIER,
     &confirmd__v1__responsible_party__descriptor, "RESPONSIBLE_SUPPLIER"},
    {CFD_PAUSE_UNSPECIFIED, CONFIRMD__V1__PAUSE_REASON__PAUSE_REASON_UNSPECIFIED,
     &confirmd__v1__pause_reason__descriptor, "PAUSE_REASON_UNSPECIFIED"},
    {CFD_PAUSE_CUSTOMER, CONFIRMD__V1__PAUSE_REASON__PAUSE_CUSTOMER,
     &confirmd__v1__pause_reason__descriptor, "PAUSE_CUSTOMER"},
    {CFD_PAUSE_INTERCONNECTION, CONFIRMD__V1__PAUSE_REASON__PAUSE_INTERCONNECTION,
     &confirmd__v1__pause_reason__descriptor, "PAUSE_INTERCONNECTION"},
    {CFD_PAUSE_APPOINTMENT, CONFIRMD__V1__PAUSE_REASON__PAUSE_APPOINTMENT,
     &confirmd__v1__pause_reason__descriptor, "PAUSE_APPOINTMENT"},
    {CFD_WAIVER_UNSPECIFIED, CONFIRMD__V1__SIGNATURE_WAIVER__SIGNATURE_WAIVER_UNSPECIFIED,
     &confirmd__v1__signature_waiver__descriptor, "SIGNATURE_WAIVER_UNSPECIFIED"},
    {CFD_WAIVER_REFUSED, CONFIRMD__V1__SIGNATURE_WAIVER__SIGNATURE_REFUSED,
     &confirmd__v1__signature_waiver__descriptor, "SIGNATURE_REFUSED"},
    {CFD_WAIVER_UNREACHABLE, CONFIRMD__V1__SIGNATURE_WAIVER__SIGNATURE_CUSTOMER_UNREACHABLE,
     &confirmd__v1__signature_waiver__descriptor, "SIGNATURE_CUSTOMER_UNREACHABLE"},
    {CFD_WAIVER_REMOTE_RESTORATION,
     CONFIRMD__V1__SIGNATURE_WAIVER__SIGNATURE_REMOTE_RESTORATION,
     &confirmd__v1__signature_waiver__descriptor, "SIGNATURE_REMOTE_RESTORATION"},
    {CFD_VIOLATION_NONE, CONFIRMD__V1__VIOLATION_CODE__VIOLATION_UNSPECIFIED,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_UNSPECIFIED"},
    {CFD_VIOLATION_LATE_ARRIVAL, CONFIRMD__V1__VIOLATION_CODE__VIOLATION_LATE_ARRIVAL,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_LATE_ARRIVAL"},
    {CFD_VIOLATION_CAUSE_NOT_FOUND, CONFIRMD__V1__VIOLATION_CODE__VIOLATION_CAUSE_NOT_FOUND,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_CAUSE_NOT_FOUND"},
    {CFD_VIOLATION_EVENT_REPORT_LATE,
     CONFIRMD__V1__VIOLATION_CODE__VIOLATION_EVENT_REPORT_LATE,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_EVENT_REPORT_LATE"},
    {CFD_VIOLATION_NONCONFORMING_RECORD,
     CONFIRMD__V1__VIOLATION_CODE__VIOLATION_NONCONFORMING_RECORD,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_NONCONFORMING_RECORD"},
    {CFD_VIOLATION_BROKEN_COMMITMENT,
     CONFIRMD__V1__VIOLATION_CODE__VIOLATION_BROKEN_COMMITMENT,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_BROKEN_COMMITMENT"},
    {CFD_VIOLATION_COMPLAINT, CONFIRMD__V1__VIOLATION_CODE__VIOLATION_COMPLAINT,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_COMPLAINT"},
    {CFD_VIOLATION_TEMPORARY_FIX_LATE,
     CONFIRMD__V1__VIOLATION_CODE__VIOLATION_TEMPORARY_FIX_LATE,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_TEMPORARY_FIX_LATE"},
    {CFD_VIOLATION_PARTS_LATE, CONFIRMD__V1__VIOLATION_CODE__VIOLATION_PARTS_LATE,
     &confirmd__v1__violation_code__descriptor, "VIOLATION_PARTS_LATE"},
    {CFD_MST_UNSPECIFIED, CONFIRMD__V1__METRIC_STATUS__METRIC_STATUS_UNSPECIFIED,
     &confirmd__v1__metric_status__descriptor, "METRIC_STATUS_UNSPECIFIED"},
    {CFD_MST_PENDING, CONFIRMD__V1__METRIC_STATUS__METRIC_STATUS_PENDING,
     &confirmd__v1__metric_status__descriptor, "METRIC_STATUS_PENDING"},
    {CFD_MST_RUNNING, CONFIRMD__V1__METRIC_STATUS__METRIC_STATUS_RUNNING,
     &confirmd__v1__metric_status__descriptor, "METRIC_STATUS_RUNNING"},
    {CFD_MST_MET, CONFIRMD__V1__METRIC_STATUS__METRIC_STATUS_MET,
     &confirmd__v1__metric_status__descriptor, "METRIC_STATUS_MET"},
    {CFD_MST_BREACHED, CONFIRMD__V1__METRIC_STATUS__METRIC_STATUS_BREACHED,
     &confirmd__v1__metric_status__descriptor, "METRIC_STATUS_BREACHED"},
    {CFD_MST_NOT_APPLICABLE, CONFIRMD__V1__METRIC_STATUS__METRIC_STATUS_NOT_APPLICABLE,
     &confirmd__v1__metric_status__descriptor, "METRIC_STATUS_NOT_APPLICABLE"},
};

static void test_enum_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof enum_cases / sizeof enum_cases[0]; i++) {
        const enum_case *c = &enum_cases[i];
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(c->desc, c->pb);
        int_eq(c->pb_name, c->cfd, c->pb);
        assert_non_null(v);
        str_eq(c->pb_name, v->name, c->pb_name);
    }
}

/* Every member of every enum is in the table: a new schema member fails here. */
static void test_enum_coverage(void **state)
{
    (void)state;
    static const ProtobufCEnumDescriptor *const all[] = {
        &confirmd__v1__tier__descriptor,
        &confirmd__v1__urgency__descriptor,
        &confirmd__v1__source__descriptor,
        &confirmd__v1__cause_category__descriptor,
        &confirmd__v1__result_kind__descriptor,
        &confirmd__v1__alarm_severity__descriptor,
        &confirmd__v1__state__descriptor,
        &confirmd__v1__milestone__descriptor,
        &confirmd__v1__metric__descriptor,
        &confirmd__v1__metric_status__descriptor,
        &confirmd__v1__alert_kind__descriptor,
        &confirmd__v1__recipient_level__descriptor,
        &confirmd__v1__dead_letter_reason__descriptor,
        &confirmd__v1__equipment_category__descriptor,
        &confirmd__v1__part_fault_type__descriptor,
        &confirmd__v1__responsible_party__descriptor,
        &confirmd__v1__pause_reason__descriptor,
        &confirmd__v1__signature_waiver__descriptor,
        &confirmd__v1__violation_code__descriptor,
        &confirmd__v1__importance__descriptor,
        &confirmd__v1__incident_kind__descriptor,
        &confirmd__v1__incident_rule__descriptor,
        &confirmd__v1__incident_status__descriptor,
    };
    for (size_t d = 0; d < sizeof all / sizeof all[0]; d++) {
        unsigned n = 0;
        for (size_t i = 0; i < sizeof enum_cases / sizeof enum_cases[0]; i++)
            n += enum_cases[i].desc == all[d];
        int_eq(all[d]->name, n, all[d]->n_values);
    }
    int_eq("tier count", CFD_TIER_COUNT, confirmd__v1__tier__descriptor.n_values);
    int_eq("state count", CFD_STATE_COUNT, confirmd__v1__state__descriptor.n_values);
    int_eq("milestone count", CFD_MS_COUNT, confirmd__v1__milestone__descriptor.n_values);
    int_eq("metric count", CFD_METRIC_COUNT, confirmd__v1__metric__descriptor.n_values);
    int_eq("part fault count", CFD_PART_FAULT_COUNT,
           confirmd__v1__part_fault_type__descriptor.n_values);
    int_eq("violation count", CFD_VIOLATION_COUNT,
           confirmd__v1__violation_code__descriptor.n_values);
}

/* The domain's names of non-zero members are the schema's names. */
static void test_enum_names(void **state)
{
    (void)state;
    for (int s = 1; s < CFD_STATE_COUNT; s++)
        str_eq("state", cfd_state_name((cfd_state)s),
               protobuf_c_enum_descriptor_get_value(&confirmd__v1__state__descriptor, s)
                   ->name);
    for (int m = 1; m < CFD_MS_COUNT; m++)
        str_eq("milestone", cfd_milestone_name((cfd_milestone)m),
               protobuf_c_enum_descriptor_get_value(&confirmd__v1__milestone__descriptor, m)
                   ->name);
    for (int m = 1; m < CFD_METRIC_COUNT; m++)
        str_eq("metric", cfd_metric_name((cfd_metric)m),
               protobuf_c_enum_descriptor_get_value(&confirmd__v1__metric__descriptor, m)
                   ->name);
    for (int t = 1; t < CFD_TIER_COUNT; t++)
        str_eq(
            "tier", cfd_tier_name((cfd_tier)t),
            protobuf_c_enum_descriptor_get_value(&confirmd__v1__tier__descriptor, t)->name);
    for (int k = 1; k <= CFD_ALERT_PARALLEL_SPECIALISTS; k++)
        str_eq(
            "alert kind", cfd_alert_kind_name((cfd_alert_kind)k),
            protobuf_c_enum_descriptor_get_value(&confirmd__v1__alert_kind__descriptor, k)
                ->name);
}

/* ---- event decode: every payload kind -------------------------------------------- */

/* Storage for every payload an event test may point to. */
typedef struct payloads {
    Confirmd__V1__FaultReport report;
    Confirmd__V1__Customer customer;
    Confirmd__V1__Network network;
    Confirmd__V1__Accepted accepted;
    Confirmd__V1__Dispatched dispatched;
    Confirmd__V1__EngineerAccepted engineer_accepted;
    Confirmd__V1__CustomerContacted contacted;
    Confirmd__V1__AppointmentSet appointment;
    Confirmd__V1__Departed departed;
    Confirmd__V1__ArrivedOnSite arrived;
    char *engineers[3];
    char *staff[1];
    Confirmd__V1__Diagnosed diagnosed;
    Confirmd__V1__ServiceRestored restored;
    Confirmd__V1__ConfirmationSigned signed_;
    Confirmd__V1__Closed closed;
    Confirmd__V1__Cancelled cancelled;
    Confirmd__V1__Reopened reopened;
    Confirmd__V1__NocAlarm alarm;
} payloads;

static void base_event(Confirmd__V1__Event *e)
{
    confirmd__v1__event__init(e);
    e->event_id = "EV-0001";
    e->work_order = "WO-2026-0001";
    e->source = CONFIRMD__V1__SOURCE__SOURCE_FIELD_APP;
    e->event_time_ms = T0 + 600000;
    e->ingest_time_ms = T0 + 600500;
    e->reported_by = "app-7";
}

static void fill_report(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__fault_report__init(&p->report);
    confirmd__v1__customer__init(&p->customer);
    confirmd__v1__network__init(&p->network);
    p->customer.name = "重庆某某科技有限公司";
    p->customer.contact_person = "张伟";
    p->customer.contact_phone = "13800000001";
    p->customer.address = "梁平区双桂街道1号";
    p->customer.affected_service = "互联网专线";
    p->customer.tier = CONFIRMD__V1__TIER__TIER_AAA;
    p->customer.gold = 1;
    p->customer.city = "重庆";
    p->customer.customer_id = "C-1001";
    p->customer.importance = CONFIRMD__V1__IMPORTANCE__IMPORTANCE_CROSS_CITY;
    p->customer.cross_city_rental = 1;
    p->report.full_interruption = 1;
    p->report.terminal_complaint = 1;
    p->network.circuit_id = "CQ-LP-0001";
    p->network.access_point = "梁平汇聚机房";
    p->network.equipment = "OLT-7";
    p->report.issuing_unit = "梁平分公司";
    p->report.customer = &p->customer;
    p->report.network = &p->network;
    p->report.problem_description = "专线中断";
    p->report.urgency = CONFIRMD__V1__URGENCY__URGENCY_URGENT;
    e->source = CONFIRMD__V1__SOURCE__SOURCE_CUSTOMER;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_FAULT_REPORT;
    e->fault_report = &p->report;
}

static void check_report(const cfd_event *ev)
{
    str_eq("issuing_unit", ev->report.issuing_unit, "梁平分公司");
    str_eq("name", ev->report.customer.name, "重庆某某科技有限公司");
    str_eq("contact_person", ev->report.customer.contact_person, "张伟");
    str_eq("contact_phone", ev->report.customer.contact_phone, "13800000001");
    str_eq("address", ev->report.customer.address, "梁平区双桂街道1号");
    str_eq("affected_service", ev->report.customer.affected_service, "互联网专线");
    str_eq("city", ev->report.customer.city, "重庆");
    str_eq("customer_id", ev->report.customer.customer_id, "C-1001");
    int_eq("tier", ev->report.customer.tier, CFD_TIER_AAA);
    assert_true(ev->report.customer.gold);
    int_eq("importance", ev->report.customer.importance, CFD_IMPORTANCE_CROSS_CITY);
    assert_false(ev->report.customer.diamond);
    assert_true(ev->report.customer.cross_city_rental);
    assert_true(ev->report.full_interruption);
    assert_true(ev->report.terminal_complaint);
    str_eq("circuit_id", ev->report.circuit_id, "CQ-LP-0001");
    str_eq("access_point", ev->report.access_point, "梁平汇聚机房");
    str_eq("equipment", ev->report.equipment, "OLT-7");
    str_eq("problem_description", ev->report.problem_description, "专线中断");
    int_eq("urgency", ev->report.urgency, CFD_URGENCY_URGENT);
    int_eq("source", ev->source, CFD_SOURCE_CUSTOMER);
}

/* A report without customer block, its network only the circuit it needs: everything
 * else absent, nothing crashes. */
static void fill_report_bare(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__fault_report__init(&p->report);
    confirmd__v1__network__init(&p->network);
    p->network.circuit_id = "CQ-LP-0002";
    p->report.network = &p->network;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_FAULT_REPORT;
    e->fault_report = &p->report;
}

static void check_report_bare(const cfd_event *ev)
{
    assert_null(ev->report.customer.name);
    str_eq("circuit_id", ev->report.circuit_id, "CQ-LP-0002");
    assert_null(ev->report.access_point);
    assert_null(ev->report.issuing_unit);
    int_eq("tier", ev->report.customer.tier, CFD_TIER_UNSPECIFIED);
    assert_false(ev->report.customer.gold);
}

static void fill_accepted(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__accepted__init(&p->accepted);
    p->accepted.operator_id = "noc-3";
    p->accepted.issuing_unit = "万州分公司";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_ACCEPTED;
    e->accepted = &p->accepted;
}

static void check_accepted(const cfd_event *ev)
{
    str_eq("accept.issuing_unit", ev->accept.issuing_unit, "万州分公司");
}

static void check_nothing(const cfd_event *ev)
{
    (void)ev;
}

static void fill_dispatched(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__dispatched__init(&p->dispatched);
    p->dispatched.contractor = "渝通代维";
    p->dispatched.engineer_id = "ENG-42";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_DISPATCHED;
    e->dispatched = &p->dispatched;
}

static void check_dispatched(const cfd_event *ev)
{
    str_eq("contractor", ev->dispatch.contractor, "渝通代维");
    str_eq("engineer_id", ev->dispatch.engineer_id, "ENG-42");
}

static void fill_engineer_accepted(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__engineer_accepted__init(&p->engineer_accepted);
    p->engineer_accepted.engineer_id = "ENG-42";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_ENGINEER_ACCEPTED;
    e->engineer_accepted = &p->engineer_accepted;
}

static void check_engineer_accepted(const cfd_event *ev)
{
    str_eq("engineer_id", ev->dispatch.engineer_id, "ENG-42");
    assert_null(ev->dispatch.contractor);
}

static void fill_contacted(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__customer_contacted__init(&p->contacted);
    p->contacted.note = "客户在岗";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_CUSTOMER_CONTACTED;
    e->customer_contacted = &p->contacted;
}

static void fill_appointment(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__appointment_set__init(&p->appointment);
    p->appointment.appointment_time_ms = T0 + 7200000;
    p->appointment.requested_by_customer = 1;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_APPOINTMENT_SET;
    e->appointment_set = &p->appointment;
}

static void check_appointment(const cfd_event *ev)
{
    int_eq("appointment", ev->appointment.time_ms, T0 + 7200000);
    assert_true(ev->appointment.requested_by_customer);
}

static void fill_departed(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__departed__init(&p->departed);
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_DEPARTED;
    e->departed = &p->departed;
}

static void fill_arrived(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__arrived_on_site__init(&p->arrived);
    p->engineers[0] = "李强";
    p->engineers[1] = ""; /* an empty entry is dropped */
    p->engineers[2] = "王芳";
    p->staff[0] = "赵磊";
    p->arrived.engineers = p->engineers;
    p->arrived.n_engineers = 3;
    p->arrived.assisting_staff = p->staff;
    p->arrived.n_assisting_staff = 1;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_ARRIVED_ON_SITE;
    e->arrived_on_site = &p->arrived;
}

static void check_arrived(const cfd_event *ev)
{
    int_eq("n_engineers", (long long)ev->arrival.n_engineers, 2);
    str_eq("engineers[0]", ev->arrival.engineers[0], "李强");
    str_eq("engineers[1]", ev->arrival.engineers[1], "王芳");
    int_eq("n_assisting_staff", (long long)ev->arrival.n_assisting_staff, 1);
    str_eq("assisting_staff[0]", ev->arrival.assisting_staff[0], "赵磊");
}

static void fill_arrived_empty(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__arrived_on_site__init(&p->arrived);
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_ARRIVED_ON_SITE;
    e->arrived_on_site = &p->arrived;
}

static void check_arrived_empty(const cfd_event *ev)
{
    int_eq("n_engineers", (long long)ev->arrival.n_engineers, 0);
    int_eq("n_assisting_staff", (long long)ev->arrival.n_assisting_staff, 0);
}

static void fill_diagnosed(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__diagnosed__init(&p->diagnosed);
    p->diagnosed.cause = CONFIRMD__V1__CAUSE_CATEGORY__CAUSE_OTHER;
    p->diagnosed.cause_other = "施工挖断";
    p->diagnosed.onsite_findings = "光缆中断";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_DIAGNOSED;
    e->diagnosed = &p->diagnosed;
}

static void check_diagnosed(const cfd_event *ev)
{
    int_eq("cause", ev->diagnosis.cause, CFD_CAUSE_OTHER);
    str_eq("cause_other", ev->diagnosis.cause_other, "施工挖断");
    str_eq("onsite_findings", ev->diagnosis.onsite_findings, "光缆中断");
}

static void fill_restored(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__service_restored__init(&p->restored);
    p->restored.result = CONFIRMD__V1__RESULT_KIND__RESULT_NEEDS_OBSERVATION;
    p->restored.workaround = 1;
    p->restored.remote = 1;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_SERVICE_RESTORED;
    e->service_restored = &p->restored;
}

static void check_restored(const cfd_event *ev)
{
    int_eq("result", ev->restoration.result, CFD_RESULT_NEEDS_OBSERVATION);
    assert_null(ev->restoration.result_other);
    assert_true(ev->restoration.workaround);
    assert_true(ev->restoration.remote);
}

static void fill_signed(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__confirmation_signed__init(&p->signed_);
    p->signed_.customer_opinion = "处理及时";
    p->signed_.customer_signature = "张伟";
    p->signed_.engineer_signature = "李强";
    p->signed_.corrective_actions = "加装保护管";
    p->signed_.satisfaction = 5;
    p->signed_.suggestions = "无";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_CONFIRMATION_SIGNED;
    e->confirmation_signed = &p->signed_;
}

static void check_signed(const cfd_event *ev)
{
    str_eq("customer_opinion", ev->signature.customer_opinion, "处理及时");
    str_eq("customer_signature", ev->signature.customer_signature, "张伟");
    str_eq("engineer_signature", ev->signature.engineer_signature, "李强");
    str_eq("corrective_actions", ev->signature.corrective_actions, "加装保护管");
    int_eq("satisfaction", ev->signature.satisfaction, 5);
    str_eq("suggestions", ev->signature.suggestions, "无");
}

static void fill_closed(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__closed__init(&p->closed);
    p->closed.service_end_time_ms = T0 + 9000000;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_CLOSED;
    e->closed = &p->closed;
}

static void check_closed(const cfd_event *ev)
{
    int_eq("service_end_time_ms", ev->close.service_end_time_ms, T0 + 9000000);
}

static void fill_cancelled(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__cancelled__init(&p->cancelled);
    p->cancelled.reason = "重复申告";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_CANCELLED;
    e->cancelled = &p->cancelled;
}

static void check_change(const cfd_event *ev)
{
    assert_non_null(ev->change.reason);
}

static void fill_reopened(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__reopened__init(&p->reopened);
    p->reopened.reason = "故障复现";
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_REOPENED;
    e->reopened = &p->reopened;
}

static void fill_alarm(Confirmd__V1__Event *e, payloads *p)
{
    confirmd__v1__noc_alarm__init(&p->alarm);
    p->alarm.alarm_id = "ALM-9";
    p->alarm.network_object = "CQ-LP-0001";
    p->alarm.severity = CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_CRITICAL;
    p->alarm.cleared = 1;
    p->alarm.text = "LOS";
    e->source = CONFIRMD__V1__SOURCE__SOURCE_NOC;
    e->payload_case = CONFIRMD__V1__EVENT__PAYLOAD_NOC_ALARM;
    e->noc_alarm = &p->alarm;
}

static void check_alarm(const cfd_event *ev)
{
    str_eq("alarm_id", ev->alarm.alarm_id, "ALM-9");
    str_eq("network_object", ev->alarm.network_object, "CQ-LP-0001");
    int_eq("severity", ev->alarm.severity, CFD_ALARM_CRITICAL);
    assert_true(ev->alarm.cleared);
    str_eq("text", ev->alarm.text, "LOS");
    int_eq("source", ev->source, CFD_SOURCE_NOC);
}

typedef struct payload_case {
    const char *name;
    void (*fill)(Confirmd__V1__Event *e, payloads *p);
    void (*check)(const cfd_event *ev);
    cfd_milestone kind;
} payload_case;

static const payload_case payload_cases[] = {
    {"fault_report", fill_report, check_report, CFD_MS_REPORTED},
    {"fault_report bare", fill_report_bare, check_report_bare, CFD_MS_REPORTED},
    {"accepted", fill_accepted, check_accepted, CFD_MS_ACCEPTED},
    {"dispatched", fill_dispatched, check_dispatched, CFD_MS_DISPATCHED},
    {"engineer_accepted", fill_engineer_accepted, check_engineer_accepted,
     CFD_MS_ENGINEER_ACCEPTED},
    {"customer_contacted", fill_contacted, check_nothing, CFD_MS_CUSTOMER_CONTACTED},
    {"appointment_set", fill_appointment, check_appointment, CFD_MS_APPOINTMENT_SET},
    {"departed", fill_departed, check_nothing, CFD_MS_DEPARTED},
    {"arrived_on_site", fill_arrived, check_arrived, CFD_MS_ARRIVED_ON_SITE},
    {"arrived_on_site empty", fill_arrived_empty, check_arrived_empty,
     CFD_MS_ARRIVED_ON_SITE},
    {"diagnosed", fill_diagnosed, check_diagnosed, CFD_MS_DIAGNOSED},
    {"service_restored", fill_restored, check_restored, CFD_MS_SERVICE_RESTORED},
    {"confirmation_signed", fill_signed, check_signed, CFD_MS_CONFIRMATION_SIGNED},
    {"closed", fill_closed, check_closed, CFD_MS_CLOSED},
    {"cancelled", fill_cancelled, check_change, CFD_MS_CANCELLED},
    {"reopened", fill_reopened, check_change, CFD_MS_REOPENED},
    {"noc_alarm", fill_alarm, check_alarm, CFD_MS_ALARM},
};

static void test_event_decode_payloads(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof payload_cases / sizeof payload_cases[0]; i++) {
        const payload_case *c = &payload_cases[i];
        Confirmd__V1__Event e;
        payloads p;
        cfd_decoded_event de;
        char errstr[256] = "";
        size_t len;

        base_event(&e);
        c->fill(&e, &p);
        uint8_t *buf = pack(&e.base, &len);
        cfd_err err = cfd_codec_event_decode(buf, len, &de, errstr, sizeof errstr);
        if (err) {
            print_error("%s: %s\n", c->name, errstr);
            fail();
        }
        int_eq(c->name, de.ev.kind, c->kind);
        str_eq("event_id", de.ev.event_id, "EV-0001");
        str_eq("work_order", de.ev.work_order, "WO-2026-0001");
        int_eq("event_time_ms", de.ev.event_time_ms, T0 + 600000);
        int_eq("ingest_time_ms", de.ev.ingest_time_ms, T0 + 600500);
        str_eq("reported_by", de.ev.reported_by, "app-7");
        c->check(&de.ev);
        cfd_codec_event_release(&de);
        assert_released(&de);
        cfd_codec_event_release(&de); /* twice is harmless */
        free(buf);
    }
    cfd_codec_event_release(NULL);
}

/* ---- event decode: missing and invalid fields ------------------------------------ */

static void mut_no_event_id(Confirmd__V1__Event *e, payloads *p)
{
    fill_accepted(e, p);
    e->event_id = "";
}

static void mut_no_work_order(Confirmd__V1__Event *e, payloads *p)
{
    fill_accepted(e, p);
    e->work_order = "";
}

static void mut_no_time(Confirmd__V1__Event *e, payloads *p)
{
    fill_accepted(e, p);
    e->event_time_ms = 0;
}

static void mut_no_payload(Confirmd__V1__Event *e, payloads *p)
{
    (void)e;
    (void)p;
}

static void mut_bad_source(Confirmd__V1__Event *e, payloads *p)
{
    fill_accepted(e, p);
    e->source = (Confirmd__V1__Source)99;
}

static void mut_bad_tier(Confirmd__V1__Event *e, payloads *p)
{
    fill_report(e, p);
    p->customer.tier = (Confirmd__V1__Tier)42;
}

static void mut_no_circuit(Confirmd__V1__Event *e, payloads *p)
{
    fill_report(e, p);
    p->report.network = NULL;
}

static void mut_cause_other_no_text(Confirmd__V1__Event *e, payloads *p)
{
    fill_diagnosed(e, p);
    p->diagnosed.cause_other = "";
}

static void mut_bad_result(Confirmd__V1__Event *e, payloads *p)
{
    fill_restored(e, p);
    p->restored.result = (Confirmd__V1__ResultKind)-3;
}

static void mut_bad_severity(Confirmd__V1__Event *e, payloads *p)
{
    fill_alarm(e, p);
    p->alarm.severity = (Confirmd__V1__AlarmSeverity)5;
}

static void mut_alarm_no_id(Confirmd__V1__Event *e, payloads *p)
{
    fill_alarm(e, p);
    p->alarm.alarm_id = "";
}

typedef struct bad_case {
    const char *name;
    void (*mutate)(Confirmd__V1__Event *e, payloads *p);
    cfd_err want;
    const char *errpart; /* the field the error message must name */
} bad_case;

static const bad_case bad_cases[] = {
    {"no event_id", mut_no_event_id, CFD_ERR_MISSING_FIELD, "event_id"},
    {"no work_order", mut_no_work_order, CFD_ERR_MISSING_FIELD, "work_order"},
    {"no event time", mut_no_time, CFD_ERR_MISSING_FIELD, "event_time_ms"},
    {"no payload", mut_no_payload, CFD_ERR_MISSING_FIELD, "payload"},
    {"source out of range", mut_bad_source, CFD_ERR_INVALID_VALUE, "source"},
    {"tier out of range", mut_bad_tier, CFD_ERR_INVALID_VALUE,
     "fault_report.customer.tier"},
    {"report without circuit", mut_no_circuit, CFD_ERR_MISSING_FIELD,
     "fault_report.network.circuit_id"},
    {"CAUSE_OTHER without text", mut_cause_other_no_text, CFD_ERR_MISSING_FIELD,
     "cause_other"},
    {"result out of range", mut_bad_result, CFD_ERR_INVALID_VALUE, "result"},
    {"severity out of range", mut_bad_severity, CFD_ERR_INVALID_VALUE, "severity"},
    {"alarm without id", mut_alarm_no_id, CFD_ERR_MISSING_FIELD, "alarm_id"},
};

static void test_event_decode_missing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        Confirmd__V1__Event e;
        payloads p;
        cfd_decoded_event de;
        char errstr[256] = "";
        size_t len;

        base_event(&e);
        c->mutate(&e, &p);
        uint8_t *buf = pack(&e.base, &len);
        cfd_err err = cfd_codec_event_decode(buf, len, &de, errstr, sizeof errstr);
        int_eq(c->name, err, c->want);
        if (!strstr(errstr, c->errpart)) {
            print_error("%s: \"%s\" does not name %s\n", c->name, errstr, c->errpart);
            fail();
        }
        assert_released(&de);
        free(buf);
    }
}

/* An event that fails validation still yields its ids for the dead letter. */
static void test_event_ids(void **state)
{
    (void)state;
    Confirmd__V1__Event e;
    payloads p;
    size_t len;
    char wo[16], id[6];

    base_event(&e);
    fill_alarm(&e, &p);
    p.alarm.alarm_id = ""; /* invalid: the alarm id is required */
    uint8_t *buf = pack(&e.base, &len);
    assert_true(cfd_codec_event_ids(buf, len, wo, sizeof wo, id, sizeof id));
    assert_string_equal(wo, "WO-2026-0001");
    assert_string_equal(id, "EV-00"); /* truncated to the buffer */
    free(buf);

    /* The ids are text: never invalid UTF-8, never cut inside a character. */
    e.work_order = "WO-\xed\xa0\x80-1"; /* a surrogate */
    e.event_id = "EV-重庆";             /* a cut at 5 bytes is inside 重 */
    buf = pack(&e.base, &len);
    assert_true(cfd_codec_event_ids(buf, len, wo, sizeof wo, id, sizeof id));
    assert_string_equal(wo, "");
    assert_string_equal(id, "EV-");

    assert_false(cfd_codec_event_ids("\xff", 1, wo, sizeof wo, id, sizeof id));
    assert_string_equal(wo, "");
    assert_string_equal(id, "");
    free(buf);
}

/* ---- UTF-8 in string fields ------------------------------------------------------- */

/* Text that is not UTF-8, put between "X-" and "-1" in one string field. */
static const struct {
    const char *name, *bytes;
} bad_utf8[] = {
    {"overlong 2-byte '/'", "\xc0\xaf"},
    {"overlong 2-byte U+007F", "\xc1\xbf"},
    {"overlong 3-byte", "\xe0\x80\xaf"},
    {"overlong 4-byte", "\xf0\x80\x80\xaf"},
    {"surrogate U+D800", "\xed\xa0\x80"},
    {"surrogate U+DFFF", "\xed\xbf\xbf"},
    {"truncated 2-byte", "\xc3"},
    {"truncated 3-byte", "\xe4\xb8"},
    {"truncated 4-byte", "\xf0\x9f\x98"},
    {"above U+10FFFF", "\xf4\x90\x80\x80"},
    {"lead byte 0xF5", "\xf5\x80\x80\x80"},
    {"lone continuation", "\x80"},
    {"0xFE", "\xfe"},
    {"0xFF", "\xff"},
};

/* Text that is: Chinese, the edges of each length, a 4-byte emoji. */
static const char *const good_utf8[] = {
    "重庆梁平互联网专线",
    "\x7f",
    "\xc2\x80\xdf\xbf",
    "\xe0\xa0\x80\xef\xbf\xbf",
    "\xed\x9f\xbf\xee\x80\x80",
    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
    "😀",
};

/* Each puts s into one string field of a valid message. */
static void spoil_work_order(Confirmd__V1__Event *e, payloads *p, char *s)
{
    fill_accepted(e, p);
    e->work_order = s;
}

static void spoil_customer_name(Confirmd__V1__Event *e, payloads *p, char *s)
{
    fill_report(e, p);
    p->customer.name = s;
}

static void spoil_engineer(Confirmd__V1__Event *e, payloads *p, char *s)
{
    fill_arrived(e, p);
    p->engineers[2] = s;
}

static void spoil_event_alarm_text(Confirmd__V1__Event *e, payloads *p, char *s)
{
    fill_alarm(e, p);
    p->alarm.text = s;
}

static void spoil_alarm_object(Confirmd__V1__Alarm *a, char *s)
{
    a->network_object = s;
}

static void spoil_alarm_text(Confirmd__V1__Alarm *a, char *s)
{
    a->text = s;
}

static void spoil_circuit_object(Confirmd__V1__Circuit *c, char *s)
{
    c->object_id = s;
}

static void spoil_circuit_city(Confirmd__V1__Circuit *c, char *s)
{
    c->customer->city = s;
}

/* One string field of an event, an alarm or an inventory record (one spoiler set). */
typedef struct utf8_field {
    const char *path; /* what the error must name */
    void (*event)(Confirmd__V1__Event *e, payloads *p, char *s);
    void (*alarm)(Confirmd__V1__Alarm *a, char *s);
    void (*circuit)(Confirmd__V1__Circuit *c, char *s);
} utf8_field;

static const utf8_field utf8_fields[] = {
    {"work_order", spoil_work_order, NULL, NULL},
    {"fault_report.customer.name", spoil_customer_name, NULL, NULL},
    {"arrived_on_site.engineers[2]", spoil_engineer, NULL, NULL},
    {"noc_alarm.text", spoil_event_alarm_text, NULL, NULL},
    {"network_object", NULL, spoil_alarm_object, NULL},
    {"text", NULL, spoil_alarm_text, NULL},
    {"object_id", NULL, NULL, spoil_circuit_object},
    {"customer.city", NULL, NULL, spoil_circuit_city},
};

/* Packs a valid message with s in field f, decodes it with the decoder of its topic
 * and releases the result. @returns the decoder's verdict. */
static cfd_err utf8_probe(const utf8_field *f, char *s, char *errstr, size_t errstr_size)
{
    Confirmd__V1__Event e;
    payloads p;
    Confirmd__V1__Alarm a;
    Confirmd__V1__Circuit c;
    Confirmd__V1__Customer cust;
    cfd_decoded_event de;
    cfd_decoded_alarm da;
    cfd_decoded_circuit dc;
    size_t len;
    uint8_t *buf;
    cfd_err err;

    if (f->event) {
        base_event(&e);
        f->event(&e, &p, s);
        buf = pack(&e.base, &len);
        err = cfd_codec_event_decode(buf, len, &de, errstr, errstr_size);
        if (err)
            assert_released(&de);
        cfd_codec_event_release(&de);
    } else if (f->alarm) {
        confirmd__v1__alarm__init(&a);
        a.alarm_id = "NOC-1";
        a.network_object = "CQLP-DL-1";
        a.severity = CONFIRMD__V1__ALARM_SEVERITY__ALARM_SEVERITY_MAJOR;
        a.event_time_ms = T0;
        f->alarm(&a, s);
        buf = pack(&a.base, &len);
        err = cfd_codec_alarm_decode(buf, len, &da, errstr, errstr_size);
        if (err)
            assert_null(da.pb);
        cfd_codec_alarm_release(&da);
    } else {
        confirmd__v1__circuit__init(&c);
        confirmd__v1__customer__init(&cust);
        c.object_id = "CQLP-DL-1";
        cust.city = "重庆梁平";
        c.customer = &cust;
        f->circuit(&c, s);
        buf = pack(&c.base, &len);
        err = cfd_codec_circuit_decode(buf, len, &dc, errstr, errstr_size);
        if (err)
            assert_null(dc.pb);
        cfd_codec_circuit_release(&dc);
    }
    free(buf);
    return err;
}

/* Invalid UTF-8 in any string field is an invalid value naming the field; valid
 * multi-byte text passes. */
static void test_decode_utf8(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof utf8_fields / sizeof utf8_fields[0]; f++) {
        for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
            char text[32], errstr[256] = "";
            snprintf(text, sizeof text, "X-%s-1", bad_utf8[i].bytes);
            cfd_err err = utf8_probe(&utf8_fields[f], text, errstr, sizeof errstr);
            if (err != CFD_ERR_INVALID_VALUE || !strstr(errstr, utf8_fields[f].path) ||
                !strstr(errstr, "UTF-8")) {
                print_error("%s, %s: %d \"%s\"\n", utf8_fields[f].path, bad_utf8[i].name,
                            (int)err, errstr);
                fail();
            }
        }
        for (size_t i = 0; i < sizeof good_utf8 / sizeof good_utf8[0]; i++) {
            char text[64], errstr[256] = "";
            snprintf(text, sizeof text, "X-%s-1", good_utf8[i]);
            cfd_err err = utf8_probe(&utf8_fields[f], text, errstr, sizeof errstr);
            if (err != CFD_OK) {
                print_error("%s, good text %zu: %d \"%s\"\n", utf8_fields[f].path, i,
                            (int)err, errstr);
                fail();
            }
        }
    }
}

/* ---- event decode: garbage -------------------------------------------------------- */

typedef struct garbage_case {
    const char *name;
    const char *bytes;
    size_t len;
} garbage_case;

static const garbage_case garbage_cases[] = {
    {"0xff", "\xff", 1},
    {"wire type 7", "\x0f", 1},
    {"wire type 6", "\x0e\x01", 2},
    {"string past end",
     "\x0a\x05"
     "ab",
     4},
    {"varint without value", "\x20", 1},
    {"truncated length", "\x0a\x80", 2},
    {"overlong varint", "\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12},
    {"submessage past end",
     "\x52\x04\x0a\x02"
     "x",
     5},
    {"field number 0", "\x00\x01", 2},
    {"text", "{\"event_id\":\"x\"}", 16},
};

static void test_event_decode_garbage(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof garbage_cases / sizeof garbage_cases[0]; i++) {
        const garbage_case *c = &garbage_cases[i];
        cfd_decoded_event de;
        char errstr[256] = "", want[128];

        int_eq(c->name,
               cfd_codec_event_decode(c->bytes, c->len, &de, errstr, sizeof errstr),
               CFD_ERR_DECODE);
        snprintf(want, sizeof want, "undecodable: not a confirmd.v1.Event (%zu bytes)",
                 c->len);
        str_eq(c->name, errstr, want);
        assert_released(&de);
    }
}

/* Random buffers: never a crash, never a half-filled result. */
static void test_event_decode_random(void **state)
{
    (void)state;
    uint32_t seed = 0x9e3779b9;
    uint8_t buf[512];
    int decode_errors = 0;

    for (int i = 0; i < 20000; i++) {
        size_t len = rnd_next(&seed) % sizeof buf;
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)rnd_next(&seed);
        cfd_decoded_event de;
        char errstr[256];
        cfd_err err = cfd_codec_event_decode(buf, len, &de, errstr, sizeof errstr);
        assert_int_not_equal(err, CFD_OK);
        assert_released(&de);
        decode_errors += err == CFD_ERR_DECODE;
    }
    assert_true(decode_errors > 15000);
}

/* Every prefix and single-byte corruption of a valid event: OK or a clean error. */
static void test_event_decode_truncated(void **state)
{
    (void)state;
    Confirmd__V1__Event e;
    payloads p;
    size_t len;
    int decode_errors = 0;

    base_event(&e);
    fill_report(&e, &p);
    uint8_t *full = pack(&e.base, &len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees overreads */
        memcpy(copy, full, cut);
        cfd_decoded_event de;
        char errstr[256];
        cfd_err err = cfd_codec_event_decode(copy, cut, &de, errstr, sizeof errstr);
        if (err) {
            assert_released(&de);
            decode_errors += err == CFD_ERR_DECODE;
        } else {
            cfd_codec_event_release(&de);
        }
        free(copy);
    }
    assert_true(decode_errors > (int)len / 2);

    uint32_t seed = 12345;
    for (int i = 0; i < 5000; i++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, full, len);
        copy[rnd_next(&seed) % len] ^= (uint8_t)(1u << (rnd_next(&seed) % 8));
        copy[rnd_next(&seed) % len] = (uint8_t)rnd_next(&seed);
        cfd_decoded_event de;
        char errstr[256];
        if (cfd_codec_event_decode(copy, len, &de, errstr, sizeof errstr))
            assert_released(&de);
        else
            cfd_codec_event_release(&de);
        free(copy);
    }
    free(full);
}

/* ---- records and state ------------------------------------------------------------ */

static char **strv(size_t n, const char *const *s)
{
    char **v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = strdup(s[i]);
    return v;
}

/* A record with every field set to a distinct non-default value. */
static cfd_record *full_record(void)
{
    static const char *const engineers[] = {"李强", "王芳"};
    static const char *const staff[] = {"赵磊"};
    static const char *const alarms[] = {"ALM-1", "ALM-2"};
    cfd_record *r = cfd_record_new();

    r->work_order = strdup("WO-2026-0001");
    r->issuing_unit = strdup("梁平分公司");
    r->customer.name = strdup("重庆某某科技有限公司");
    r->customer.contact_person = strdup("张伟");
    r->customer.contact_phone = strdup("13800000001");
    r->customer.address = strdup("梁平区双桂街道1号");
    r->customer.affected_service = strdup("互联网专线");
    r->customer.city = strdup("重庆");
    r->customer.customer_id = strdup("C-1001");
    r->customer.tier = CFD_TIER_AA;
    r->customer.gold = true;
    r->customer.importance = CFD_IMPORTANCE_CROSS_CITY;
    r->customer.diamond = true;
    r->customer.cross_city_rental = true;
    r->full_interruption = true;
    r->terminal_complaint = true;
    r->engineers = strv(2, engineers);
    r->n_engineers = 2;
    r->assisting_staff = strv(1, staff);
    r->n_assisting_staff = 1;
    r->arrival_time_ms = T0 + 3000000;
    r->service_end_time_ms = T0 + 9000000;
    r->circuit_id = strdup("CQ-LP-0001");
    r->access_point = strdup("梁平汇聚机房");
    r->equipment = strdup("OLT-7");
    r->problem_description = strdup("专线中断");
    r->onsite_findings = strdup("光缆中断");
    r->cause = CFD_CAUSE_OTHER;
    r->cause_other = strdup("施工挖断");
    r->result = CFD_RESULT_OTHER;
    r->result_other = strdup("临时跳纤");
    r->customer_opinion = strdup("处理及时");
    r->customer_signature = strdup("张伟");
    r->customer_signed_at_ms = T0 + 8500000;
    r->engineer_signature = strdup("李强");
    r->corrective_actions = strdup("加装保护管");
    r->satisfaction = 4;
    r->suggestions = strdup("提前电话告知");
    r->state = CFD_STATE_CLOSED;
    r->urgency = CFD_URGENCY_GENERAL;
    r->contractor = strdup("渝通代维");
    r->reported_at_ms = T0 + 1000;
    r->accepted_at_ms = T0 + 2000;
    r->first_alarm_at_ms = T0 + 500;
    r->appointment_time_ms = T0 + 3600000;
    r->appointment_by_customer = true;
    r->remote_restoration = true;
    r->workaround = true;
    r->cancel_reason = strdup("n/a");
    r->n_timeline = 3;
    r->timeline = calloc(3, sizeof *r->timeline);
    r->timeline[0] = (cfd_timeline_entry){.milestone = CFD_MS_ALARM,
                                          .event_time_ms = T0 + 500,
                                          .event_id = strdup("EV-A"),
                                          .source = CFD_SOURCE_NOC};
    r->timeline[1] = (cfd_timeline_entry){.milestone = CFD_MS_REPORTED,
                                          .event_time_ms = T0 + 1000,
                                          .event_id = strdup("EV-B"),
                                          .source = CFD_SOURCE_CUSTOMER,
                                          .cause = CFD_CAUSE_CUSTOMER_NETWORK,
                                          .full_interruption = true};
    r->timeline[2] = (cfd_timeline_entry){.milestone = CFD_MS_APPOINTMENT_RESCHEDULED,
                                          .event_time_ms = T0 + 1000,
                                          .event_id = strdup("EV-C"),
                                          .source = CFD_SOURCE_OPERATOR,
                                          .appointment_time_ms = T0 + 7200000,
                                          .by_customer = true,
                                          .waited_ms = 60000,
                                          .left_at_ms = T0 + 900000,
                                          .named = true};
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        r->sla[m] = (cfd_sla_result){.metric = (cfd_metric)m,
                                     .target_ms = 1000LL * m,
                                     .start_ms = T0 + 2000,
                                     .deadline_ms = T0 + 5000 * m,
                                     .actual_ms = T0 + 4000 * m,
                                     .paused_ms = 100LL * m,
                                     .status = (cfd_metric_status)(m % 4 + 2),
                                     .next_warning_ms = T0 + 3000 * m,
                                     .breach_at_ms = T0 + 5000 * m};
    r->linked_alarms = strv(2, alarms);
    r->n_linked_alarms = 2;
    r->version = 17;
    r->penalty_points = 15;
    r->policy_version = strdup("0123456789abcdef");
    r->alerts_sent = 0x8000000000000005ULL;
    r->emitted_version = 16;
    r->incident_version = 3;

    r->special = true;
    r->previous_work_order = strdup("WO-2025-0999");
    r->n_parts = 2;
    r->parts = calloc(2, sizeof *r->parts);
    r->parts[0] =
        (cfd_part_record){.event_id = strdup("EV-P1"),
                          .handled_at_ms = T0 + 900,
                          .name = strdup("光模块"),
                          .material_number = strdup("M-1"),
                          .serial_number = strdup("HW20230415A01"),
                          .quantity = 2,
                          .category = CFD_EQUIPMENT_COMPONENT,
                          .fault_types = CFD_PART_FAULT_BIT(1) | CFD_PART_FAULT_BIT(4),
                          .preliminary_cause = strdup("老化"),
                          .responsible = CFD_RESPONSIBLE_SUPPLIER,
                          .supplier_name = strdup("某供应商"),
                          .description = strdup("收光弱"),
                          .manufactured_on = 20230415,
                          .age_in_service_days = 991};
    r->parts[1] = (cfd_part_record){.event_id = strdup("EV-P2"),
                                    .handled_at_ms = T0 + 950,
                                    .name = strdup("固件"),
                                    .quantity = 1,
                                    .category = CFD_EQUIPMENT_SOFTWARE};
    r->n_pauses = 2;
    r->pauses = calloc(2, sizeof *r->pauses);
    r->pauses[0] =
        (cfd_pause){.pause_id = strdup("P-1"),
                    .reason = CFD_PAUSE_CUSTOMER,
                    .reported_by = strdup("noc-1"),
                    .evidence = strdup("call"),
                    .metrics = 1u << CFD_METRIC_RESTORATION | 1u << CFD_METRIC_CONTACT,
                    .start_ms = T0 + 100,
                    .end_ms = T0 + 200,
                    .paused_event_id = strdup("EV-X"),
                    .resumed_event_id = strdup("EV-Y")};
    r->pauses[1] = (cfd_pause){.pause_id = strdup("P-2"),
                               .reason = CFD_PAUSE_INTERCONNECTION,
                               .start_ms = T0 + 300};
    r->n_violations = 2;
    r->violations[0] = (cfd_violation){.code = CFD_VIOLATION_LATE_ARRIVAL,
                                       .points = 15,
                                       .detail = "on site 5 min after the deadline",
                                       .at_ms = T0 + 10,
                                       .metric = CFD_METRIC_ON_SITE};
    r->violations[1] = (cfd_violation){.code = CFD_VIOLATION_BROKEN_COMMITMENT,
                                       .points = 5,
                                       .detail = "reschedule notice",
                                       .at_ms = T0 + 20};
    r->customer_absences = 1;
    r->priority_appointment = true;
    r->reschedules = 1;
    r->signature_waiver = CFD_WAIVER_REFUSED;
    r->signature_waiver_detail = strdup("客户拒签");
    r->visit_note = (cfd_visit_note){T0 + 30, T0 + 40, strdup("13800000000")};
    r->event_report_id = strdup("RPT-1");
    r->event_report_at_ms = T0 + 50;
    r->diagnosed_at_ms = T0 + 60;
    r->restored_at_ms = T0 + 70;
    return r;
}

static void strv_eq(const char *what, char *const *a, size_t na, char *const *b, size_t nb)
{
    int_eq(what, (long long)na, (long long)nb);
    for (size_t i = 0; i < na; i++)
        str_eq(what, a[i], b[i]);
}

static void assert_record_equal(const cfd_record *a, const cfd_record *b)
{
    str_eq("work_order", a->work_order, b->work_order);
    str_eq("issuing_unit", a->issuing_unit, b->issuing_unit);
    str_eq("customer.name", a->customer.name, b->customer.name);
    str_eq("customer.contact_person", a->customer.contact_person,
           b->customer.contact_person);
    str_eq("customer.contact_phone", a->customer.contact_phone, b->customer.contact_phone);
    str_eq("customer.address", a->customer.address, b->customer.address);
    str_eq("customer.affected_service", a->customer.affected_service,
           b->customer.affected_service);
    str_eq("customer.city", a->customer.city, b->customer.city);
    str_eq("customer.customer_id", a->customer.customer_id, b->customer.customer_id);
    int_eq("customer.tier", a->customer.tier, b->customer.tier);
    int_eq("customer.gold", a->customer.gold, b->customer.gold);
    int_eq("customer.importance", a->customer.importance, b->customer.importance);
    int_eq("customer.diamond", a->customer.diamond, b->customer.diamond);
    int_eq("customer.cross_city_rental", a->customer.cross_city_rental,
           b->customer.cross_city_rental);
    int_eq("full_interruption", a->full_interruption, b->full_interruption);
    int_eq("terminal_complaint", a->terminal_complaint, b->terminal_complaint);
    strv_eq("engineers", a->engineers, a->n_engineers, b->engineers, b->n_engineers);
    strv_eq("assisting_staff", a->assisting_staff, a->n_assisting_staff, b->assisting_staff,
            b->n_assisting_staff);
    int_eq("arrival_time_ms", a->arrival_time_ms, b->arrival_time_ms);
    int_eq("service_end_time_ms", a->service_end_time_ms, b->service_end_time_ms);
    str_eq("circuit_id", a->circuit_id, b->circuit_id);
    str_eq("access_point", a->access_point, b->access_point);
    str_eq("equipment", a->equipment, b->equipment);
    str_eq("problem_description", a->problem_description, b->problem_description);
    str_eq("onsite_findings", a->onsite_findings, b->onsite_findings);
    int_eq("cause", a->cause, b->cause);
    str_eq("cause_other", a->cause_other, b->cause_other);
    int_eq("result", a->result, b->result);
    str_eq("result_other", a->result_other, b->result_other);
    str_eq("customer_opinion", a->customer_opinion, b->customer_opinion);
    str_eq("customer_signature", a->customer_signature, b->customer_signature);
    int_eq("customer_signed_at_ms", a->customer_signed_at_ms, b->customer_signed_at_ms);
    str_eq("engineer_signature", a->engineer_signature, b->engineer_signature);
    str_eq("corrective_actions", a->corrective_actions, b->corrective_actions);
    int_eq("satisfaction", a->satisfaction, b->satisfaction);
    str_eq("suggestions", a->suggestions, b->suggestions);
    int_eq("state", a->state, b->state);
    int_eq("urgency", a->urgency, b->urgency);
    str_eq("contractor", a->contractor, b->contractor);
    int_eq("reported_at_ms", a->reported_at_ms, b->reported_at_ms);
    int_eq("accepted_at_ms", a->accepted_at_ms, b->accepted_at_ms);
    int_eq("first_alarm_at_ms", a->first_alarm_at_ms, b->first_alarm_at_ms);
    int_eq("appointment_time_ms", a->appointment_time_ms, b->appointment_time_ms);
    int_eq("appointment_by_customer", a->appointment_by_customer,
           b->appointment_by_customer);
    int_eq("remote_restoration", a->remote_restoration, b->remote_restoration);
    int_eq("workaround", a->workaround, b->workaround);
    str_eq("cancel_reason", a->cancel_reason, b->cancel_reason);
    int_eq("n_timeline", (long long)a->n_timeline, (long long)b->n_timeline);
    for (size_t i = 0; i < a->n_timeline; i++) {
        int_eq("timeline.milestone", a->timeline[i].milestone, b->timeline[i].milestone);
        int_eq("timeline.event_time_ms", a->timeline[i].event_time_ms,
               b->timeline[i].event_time_ms);
        str_eq("timeline.event_id", a->timeline[i].event_id, b->timeline[i].event_id);
        int_eq("timeline.source", a->timeline[i].source, b->timeline[i].source);
        int_eq("timeline.appointment_time_ms", a->timeline[i].appointment_time_ms,
               b->timeline[i].appointment_time_ms);
        int_eq("timeline.by_customer", a->timeline[i].by_customer,
               b->timeline[i].by_customer);
        int_eq("timeline.waited_ms", a->timeline[i].waited_ms, b->timeline[i].waited_ms);
        int_eq("timeline.left_at_ms", a->timeline[i].left_at_ms, b->timeline[i].left_at_ms);
        int_eq("timeline.named", a->timeline[i].named, b->timeline[i].named);
        int_eq("timeline.cause", a->timeline[i].cause, b->timeline[i].cause);
        int_eq("timeline.full_interruption", a->timeline[i].full_interruption,
               b->timeline[i].full_interruption);
    }
    for (int m = 0; m < CFD_METRIC_COUNT; m++) {
        const cfd_sla_result *x = &a->sla[m], *y = &b->sla[m];
        int_eq("sla.metric", x->metric, y->metric);
        int_eq("sla.target_ms", x->target_ms, y->target_ms);
        int_eq("sla.start_ms", x->start_ms, y->start_ms);
        int_eq("sla.deadline_ms", x->deadline_ms, y->deadline_ms);
        int_eq("sla.actual_ms", x->actual_ms, y->actual_ms);
        int_eq("sla.paused_ms", x->paused_ms, y->paused_ms);
        int_eq("sla.status", x->status, y->status);
        int_eq("sla.next_warning_ms", x->next_warning_ms, y->next_warning_ms);
        int_eq("sla.breach_at_ms", x->breach_at_ms, y->breach_at_ms);
    }
    int_eq("special", a->special, b->special);
    str_eq("previous_work_order", a->previous_work_order, b->previous_work_order);
    int_eq("n_parts", (long long)a->n_parts, (long long)b->n_parts);
    for (size_t i = 0; i < a->n_parts; i++) {
        const cfd_part_record *x = &a->parts[i], *y = &b->parts[i];
        str_eq("part.event_id", x->event_id, y->event_id);
        int_eq("part.handled_at_ms", x->handled_at_ms, y->handled_at_ms);
        str_eq("part.name", x->name, y->name);
        str_eq("part.material_number", x->material_number, y->material_number);
        str_eq("part.serial_number", x->serial_number, y->serial_number);
        int_eq("part.quantity", x->quantity, y->quantity);
        int_eq("part.category", x->category, y->category);
        int_eq("part.fault_types", x->fault_types, y->fault_types);
        str_eq("part.preliminary_cause", x->preliminary_cause, y->preliminary_cause);
        int_eq("part.responsible", x->responsible, y->responsible);
        str_eq("part.supplier_name", x->supplier_name, y->supplier_name);
        str_eq("part.description", x->description, y->description);
        int_eq("part.manufactured_on", x->manufactured_on, y->manufactured_on);
        int_eq("part.age_in_service_days", x->age_in_service_days, y->age_in_service_days);
    }
    int_eq("n_pauses", (long long)a->n_pauses, (long long)b->n_pauses);
    for (size_t i = 0; i < a->n_pauses; i++) {
        const cfd_pause *x = &a->pauses[i], *y = &b->pauses[i];
        str_eq("pause.pause_id", x->pause_id, y->pause_id);
        int_eq("pause.reason", x->reason, y->reason);
        str_eq("pause.reported_by", x->reported_by, y->reported_by);
        str_eq("pause.evidence", x->evidence, y->evidence);
        int_eq("pause.metrics", x->metrics, y->metrics);
        int_eq("pause.start_ms", x->start_ms, y->start_ms);
        int_eq("pause.end_ms", x->end_ms, y->end_ms);
        str_eq("pause.paused_event_id", x->paused_event_id, y->paused_event_id);
        str_eq("pause.resumed_event_id", x->resumed_event_id, y->resumed_event_id);
    }
    int_eq("n_violations", (long long)a->n_violations, (long long)b->n_violations);
    for (size_t i = 0; i < a->n_violations; i++) {
        const cfd_violation *x = &a->violations[i], *y = &b->violations[i];
        int_eq("violation.code", x->code, y->code);
        int_eq("violation.points", x->points, y->points);
        str_eq("violation.detail", x->detail, y->detail);
        int_eq("violation.at_ms", x->at_ms, y->at_ms);
        int_eq("violation.metric", x->metric, y->metric);
    }
    int_eq("customer_absences", a->customer_absences, b->customer_absences);
    int_eq("priority_appointment", a->priority_appointment, b->priority_appointment);
    int_eq("reschedules", a->reschedules, b->reschedules);
    int_eq("signature_waiver", a->signature_waiver, b->signature_waiver);
    str_eq("signature_waiver_detail", a->signature_waiver_detail,
           b->signature_waiver_detail);
    int_eq("visit_note.visit_time_ms", a->visit_note.visit_time_ms,
           b->visit_note.visit_time_ms);
    int_eq("visit_note.leaving_time_ms", a->visit_note.leaving_time_ms,
           b->visit_note.leaving_time_ms);
    str_eq("visit_note.contact", a->visit_note.contact, b->visit_note.contact);
    str_eq("event_report_id", a->event_report_id, b->event_report_id);
    int_eq("event_report_at_ms", a->event_report_at_ms, b->event_report_at_ms);
    int_eq("diagnosed_at_ms", a->diagnosed_at_ms, b->diagnosed_at_ms);
    int_eq("restored_at_ms", a->restored_at_ms, b->restored_at_ms);
    strv_eq("linked_alarms", a->linked_alarms, a->n_linked_alarms, b->linked_alarms,
            b->n_linked_alarms);
    int_eq("version", a->version, b->version);
    int_eq("penalty_points", a->penalty_points, b->penalty_points);
    str_eq("policy_version", a->policy_version, b->policy_version);
    assert_true(a->alerts_sent == b->alerts_sent);
    int_eq("emitted_version", a->emitted_version, b->emitted_version);
    int_eq("incident_version", a->incident_version, b->incident_version);
}

static cfd_record *empty_record(void)
{
    return cfd_record_new();
}

/* Only the on-site duty computed: the other slots stay empty after a roundtrip. */
static cfd_record *sparse_record(void)
{
    cfd_record *r = cfd_record_new();
    r->work_order = strdup("WO-2");
    r->state = CFD_STATE_ACCEPTED;
    r->sla[CFD_METRIC_ON_SITE] = (cfd_sla_result){.metric = CFD_METRIC_ON_SITE,
                                                  .target_ms = 7200000,
                                                  .start_ms = T0,
                                                  .deadline_ms = T0 + 7200000,
                                                  .status = CFD_MST_RUNNING};
    r->version = 2;
    return r;
}

/* Text that is not UTF-8, stored before inputs were checked: it must still decode,
 * or the order's partition would stop. */
static cfd_record *legacy_text_record(void)
{
    cfd_record *r = sparse_record();
    r->customer.name = strdup("\xc0\xaf-old");
    return r;
}

/* A state far larger than the decoder's stack buffer (8 KiB): its messages and strings
 * spill to the heap, which must hold them as well. */
static cfd_record *large_record(void)
{
    cfd_record *r = full_record();
    for (size_t i = 0; i < r->n_timeline; i++)
        free(r->timeline[i].event_id);
    free(r->timeline);
    r->n_timeline = 400;
    r->timeline = calloc(r->n_timeline, sizeof *r->timeline);
    for (size_t i = 0; i < r->n_timeline; i++) {
        char id[64];
        snprintf(id, sizeof id, "WO-2026-0001-a-long-event-identifier-%04zu", i);
        r->timeline[i] = (cfd_timeline_entry){.milestone = CFD_MS_ALARM,
                                              .event_time_ms = T0 + (int64_t)i * 1000,
                                              .event_id = strdup(id)};
    }
    return r;
}

typedef struct record_case {
    const char *name;
    cfd_record *(*make)(void);
} record_case;

static const record_case record_cases[] = {
    {"fully populated", full_record},
    {"empty", empty_record},
    {"sparse sla", sparse_record},
    {"text not UTF-8", legacy_text_record},
    {"larger than the decoder's stack buffer", large_record},
};

static void test_state_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof record_cases / sizeof record_cases[0]; i++) {
        cfd_record *a = record_cases[i].make(), *b = NULL;
        uint8_t *buf;
        size_t len;
        char errstr[256] = "";

        cfd_codec_state_encode(a, &buf, &len);
        if (cfd_codec_state_decode(buf, len, &b, errstr, sizeof errstr)) {
            print_error("%s: %s\n", record_cases[i].name, errstr);
            fail();
        }
        assert_record_equal(a, b);

        /* Encoding the decoded record gives the same bytes. */
        uint8_t *buf2;
        size_t len2;
        cfd_codec_state_encode(b, &buf2, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        free(buf2);
        free(buf);
        cfd_record_destroy(a);
        cfd_record_destroy(b);
    }
}

/* A completed order's state is stored compact (format 1: 0x00 0x01, Zstandard), an open
 * one as a bare protobuf; a completed state stored bare, as before, still decodes. */
static void test_state_compact(void **state)
{
    (void)state;
    cfd_record *closed = full_record(), *back = NULL;
    uint8_t *buf, *bare;
    size_t len, bare_len;
    char errstr[256] = "";

    cfd_codec_state_encode(closed, &buf, &len);
    assert_true(len >= 2);
    assert_int_equal(buf[0], 0x00);
    assert_int_equal(buf[1], 0x01);

    /* Its JSON is the WorkOrderState inside; back to protobuf, that is the bare form
     * the code before wrote, which must decode to the same record. */
    char *json = cfd_pb_to_json("WorkOrderState", buf, len, errstr, sizeof errstr);
    assert_true(json && strstr(json, "\"STATE_CLOSED\""));
    cfd_err err =
        cfd_json_to_pb("WorkOrderState", json, &bare, &bare_len, errstr, sizeof errstr);
    assert_int_equal(err, CFD_OK);
    assert_int_not_equal(bare[0], 0x00);
    assert_true(len < bare_len);
    assert_int_equal(cfd_codec_state_decode(bare, bare_len, &back, errstr, sizeof errstr),
                     CFD_OK);
    assert_record_equal(closed, back);
    cfd_record_destroy(back);
    back = NULL;

    /* Reopened, it is stored bare again. */
    closed->state = CFD_STATE_REOPENED;
    uint8_t *open_buf;
    size_t open_len;
    cfd_codec_state_encode(closed, &open_buf, &open_len);
    assert_int_equal(open_len, bare_len);
    assert_int_not_equal(open_buf[0], 0x00);
    free(open_buf);
    free(json);
    free(bare);
    free(buf);
    cfd_record_destroy(closed);
}

/* A state built around the record's packed bytes is byte for byte what protobuf-c
 * makes of the whole WorkOrderState. */
static void test_state_packed_bytes(void **state)
{
    (void)state;
    cfd_record *rec = full_record();
    rec->state = CFD_STATE_REOPENED; /* an open order's state: the bare protobuf */
    rec->alerts_sent = 0x2a;
    rec->emitted_version = 3;
    rec->incident_version = 2;
    uint8_t *record, *buf;
    size_t record_len, len;
    cfd_codec_record_encode(rec, &record, &record_len);
    cfd_codec_state_encode(rec, &buf, &len);

    Confirmd__V1__ConfirmationRecord *r =
        confirmd__v1__confirmation_record__unpack(NULL, record_len, record);
    assert_non_null(r);
    Confirmd__V1__WorkOrderState st = CONFIRMD__V1__WORK_ORDER_STATE__INIT;
    st.record = r;
    st.alerts_sent = 0x2a;
    st.emitted_version = 3;
    st.incident_version = 2;
    size_t want_len = confirmd__v1__work_order_state__get_packed_size(&st);
    uint8_t *want = malloc(want_len);
    confirmd__v1__work_order_state__pack(&st, want);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, len);

    confirmd__v1__confirmation_record__free_unpacked(r, NULL);
    free(want);
    free(buf);
    free(record);
    cfd_record_destroy(rec);
}

/* Compact bytes that are not a state are reported unreadable, never read. */
static void test_state_compact_corrupt(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    cfd_record *closed = full_record();
    cfd_codec_state_encode(closed, &buf, &len);
    cfd_record_destroy(closed);

    static const struct {
        const char *name;
        size_t at; /* byte changed (SIZE_MAX: none) */
        uint8_t value;
        size_t cut; /* bytes kept (0: all) */
        const char *errpart;
    } cases[] = {
        {"unknown format", 1, 0x02, 0, "unknown format 3"},
        {"mark alone", SIZE_MAX, 0, 1, "unknown format"},
        {"length cut", SIZE_MAX, 0, 3, "cut short"},
        {"stream cut", SIZE_MAX, 0, 20, "does not expand"},
        {"length changed", 2, 0xff, 0, "does not expand"},
        {"stream flipped", 10, 0x5a, 0, "undecodable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, buf, len);
        if (cases[i].at != SIZE_MAX)
            bad[cases[i].at] ^= cases[i].value;
        cfd_record *out = (cfd_record *)&out;
        char errstr[256] = "";
        int_eq(cases[i].name,
               cfd_codec_state_decode(bad, cases[i].cut ? cases[i].cut : len, &out, errstr,
                                      sizeof errstr),
               CFD_ERR_DECODE);
        assert_null(out);
        if (!strstr(errstr, cases[i].errpart)) {
            print_error("%s: \"%s\" does not name %s\n", cases[i].name, errstr,
                        cases[i].errpart);
            fail();
        }
        free(bad);
    }
    free(buf);
}

/* The emitted record carries every metric in metric order and no bookkeeping. */
static void test_record_encode(void **state)
{
    (void)state;
    cfd_record *r = full_record();
    uint8_t *buf;
    size_t len;

    cfd_codec_record_encode(r, &buf, &len);
    Confirmd__V1__ConfirmationRecord *pb =
        confirmd__v1__confirmation_record__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_string_equal(pb->work_order, "WO-2026-0001");
    assert_int_equal(pb->state, CONFIRMD__V1__STATE__STATE_CLOSED);
    assert_int_equal(pb->n_sla, CFD_METRIC_COUNT - 1);
    for (size_t i = 0; i < CFD_METRIC_COUNT - 1; i++)
        assert_int_equal(pb->sla[i]->metric, (int)i + 1);
    assert_int_equal(pb->n_timeline, 3);
    assert_string_equal(pb->timeline[2]->event_id, "EV-C");
    assert_int_equal(pb->n_linked_alarms, 2);
    assert_string_equal(pb->customer->name, "重庆某某科技有限公司");
    assert_string_equal(pb->network->circuit_id, "CQ-LP-0001");
    assert_int_equal(pb->version, 17);
    confirmd__v1__confirmation_record__free_unpacked(pb, NULL);
    free(buf);
    cfd_record_destroy(r);
}

/* State decode mutations that must be rejected as garbage. */
static void smut_no_record(Confirmd__V1__WorkOrderState *s)
{
    confirmd__v1__confirmation_record__free_unpacked(s->record, NULL);
    s->record = NULL;
}

static void smut_state(Confirmd__V1__WorkOrderState *s)
{
    s->record->state = (Confirmd__V1__State)CFD_STATE_COUNT;
}

static void smut_tier(Confirmd__V1__WorkOrderState *s)
{
    s->record->customer->tier = (Confirmd__V1__Tier)-1;
}

static void smut_cause(Confirmd__V1__WorkOrderState *s)
{
    s->record->cause = (Confirmd__V1__CauseCategory)7;
}

static void smut_milestone(Confirmd__V1__WorkOrderState *s)
{
    s->record->timeline[1]->milestone = (Confirmd__V1__Milestone)CFD_MS_COUNT;
}

static void smut_status(Confirmd__V1__WorkOrderState *s)
{
    s->record->sla[0]->status = (Confirmd__V1__MetricStatus)6;
}

static void smut_sla_dup(Confirmd__V1__WorkOrderState *s)
{
    s->record->sla[1]->metric = s->record->sla[0]->metric;
}

static void smut_sla_zero(Confirmd__V1__WorkOrderState *s)
{
    s->record->sla[2]->metric = CONFIRMD__V1__METRIC__METRIC_UNSPECIFIED;
}

static void smut_timeline_order(Confirmd__V1__WorkOrderState *s)
{
    Confirmd__V1__TimelineEntry *t = s->record->timeline[0];
    s->record->timeline[0] = s->record->timeline[2];
    s->record->timeline[2] = t;
}

static void smut_timeline_no_id(Confirmd__V1__WorkOrderState *s)
{
    free(s->record->timeline[0]->event_id);
    s->record->timeline[0]->event_id = (char *)protobuf_c_empty_string;
}

static void smut_alarms_order(Confirmd__V1__WorkOrderState *s)
{
    char *t = s->record->linked_alarms[0];
    s->record->linked_alarms[0] = s->record->linked_alarms[1];
    s->record->linked_alarms[1] = t;
}

typedef struct state_bad_case {
    const char *name;
    void (*mutate)(Confirmd__V1__WorkOrderState *s);
    const char *errpart;
} state_bad_case;

static const state_bad_case state_bad_cases[] = {
    {"no record", smut_no_record, "no record"},
    {"state out of range", smut_state, "record.state"},
    {"tier out of range", smut_tier, "record.customer.tier"},
    {"cause out of range", smut_cause, "record.cause"},
    {"milestone out of range", smut_milestone, "record.timeline[1].milestone"},
    {"status out of range", smut_status, "record.sla[0].status"},
    {"metric repeated", smut_sla_dup, "sla"},
    {"metric unspecified", smut_sla_zero, "sla"},
    {"timeline out of order", smut_timeline_order, "timeline"},
    {"timeline entry without id", smut_timeline_no_id, "event_id"},
    {"alarms out of order", smut_alarms_order, "linked_alarms"},
};

static void test_state_decode_rejects(void **state)
{
    (void)state;
    cfd_record *r = full_record();
    uint8_t *good;
    size_t good_len;
    r->state = CFD_STATE_SIGNED; /* open: stored as a bare protobuf, which is mutated */
    cfd_codec_state_encode(r, &good, &good_len);
    cfd_record_destroy(r);

    for (size_t i = 0; i < sizeof state_bad_cases / sizeof state_bad_cases[0]; i++) {
        const state_bad_case *c = &state_bad_cases[i];
        Confirmd__V1__WorkOrderState *s =
            confirmd__v1__work_order_state__unpack(NULL, good_len, good);
        assert_non_null(s);
        c->mutate(s);
        size_t len;
        uint8_t *buf = pack(&s->base, &len);
        confirmd__v1__work_order_state__free_unpacked(s, NULL);

        cfd_record *out = (cfd_record *)&out; /* must be reset to NULL */
        char errstr[256] = "";
        int_eq(c->name, cfd_codec_state_decode(buf, len, &out, errstr, sizeof errstr),
               CFD_ERR_DECODE);
        assert_null(out);
        if (!strstr(errstr, c->errpart)) {
            print_error("%s: \"%s\" does not name %s\n", c->name, errstr, c->errpart);
            fail();
        }
        free(buf);
    }
    free(good);
}

static void test_state_decode_garbage(void **state)
{
    (void)state;
    uint32_t seed = 777;
    uint8_t buf[512];
    cfd_record *r = full_record();
    uint8_t *good;
    size_t good_len;
    int decode_errors = 0;

    cfd_codec_state_encode(r, &good, &good_len);
    cfd_record_destroy(r);
    for (int i = 0; i < 20000; i++) {
        size_t len;
        cfd_record *out = NULL;
        char errstr[256];
        if (i % 2) {
            len = rnd_next(&seed) % sizeof buf;
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)rnd_next(&seed);
        } else { /* a valid state with a corrupted byte and a random cut */
            len = good_len < sizeof buf ? good_len : sizeof buf;
            memcpy(buf, good, len);
            buf[rnd_next(&seed) % len] = (uint8_t)rnd_next(&seed);
            len -= rnd_next(&seed) % 8 ? 0 : rnd_next(&seed) % len;
        }
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        cfd_err err = cfd_codec_state_decode(exact, len, &out, errstr, sizeof errstr);
        if (err) {
            assert_int_equal(err, CFD_ERR_DECODE);
            assert_null(out);
            decode_errors++;
        }
        cfd_record_destroy(out);
        free(exact);
    }
    assert_true(decode_errors > 10000);
    free(good);
}

/* ---- alerts, dead letters, reasons ---------------------------------------------- */

static void test_alert_encode(void **state)
{
    (void)state;
    cfd_alert a;
    memset(&a, 0, sizeof a);
    snprintf(a.alert_id, sizeof a.alert_id, "WO-2/METRIC_ON_SITE/ALERT_KIND_BREACH/100");
    a.kind = CFD_ALERT_BREACH;
    a.work_order = "WO-2";
    a.metric = CFD_METRIC_ON_SITE;
    a.threshold_pct = 100;
    a.deadline_ms = T0 + 7200000;
    a.fired_at_ms = T0 + 9600000;
    a.actual_ms = T0 + 9600000;
    a.recipients = CFD_RECIPIENT_TEAM_LEADER;
    a.tier = CFD_TIER_AA;
    a.gold = true;
    a.city = "重庆";
    a.circuit_id = "CQ-LP-0002";
    snprintf(a.message, sizeof a.message, "on-site deadline missed by 40 min");

    uint8_t *buf;
    size_t len;
    cfd_codec_alert_encode(&a, &buf, &len);
    Confirmd__V1__SlaAlert *pb = confirmd__v1__sla_alert__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_string_equal(pb->alert_id, a.alert_id);
    assert_int_equal(pb->kind, CONFIRMD__V1__ALERT_KIND__ALERT_KIND_BREACH);
    assert_string_equal(pb->work_order, "WO-2");
    assert_int_equal(pb->metric, CONFIRMD__V1__METRIC__METRIC_ON_SITE);
    assert_int_equal(pb->threshold_pct, 100);
    assert_true(pb->deadline_ms == a.deadline_ms);
    assert_true(pb->fired_at_ms == a.fired_at_ms);
    assert_true(pb->actual_ms == a.actual_ms);
    assert_int_equal(pb->recipients, CONFIRMD__V1__RECIPIENT_LEVEL__RECIPIENT_TEAM_LEADER);
    assert_int_equal(pb->tier, CONFIRMD__V1__TIER__TIER_AA);
    assert_true(pb->gold);
    assert_string_equal(pb->city, "重庆");
    assert_string_equal(pb->circuit_id, "CQ-LP-0002");
    assert_string_equal(pb->message, a.message);
    confirmd__v1__sla_alert__free_unpacked(pb, NULL);
    free(buf);

    /* Absent strings encode as empty. */
    a.city = NULL;
    a.circuit_id = NULL;
    cfd_codec_alert_encode(&a, &buf, &len);
    pb = confirmd__v1__sla_alert__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_string_equal(pb->city, "");
    confirmd__v1__sla_alert__free_unpacked(pb, NULL);
    free(buf);
}

static void test_incident_encode(void **state)
{
    (void)state;
    cfd_incident inc = {.kind = CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION,
                        .status = CFD_INCIDENT_CLOSED,
                        .work_order = "WO-9",
                        .customer_id = "C-9",
                        .city = "重庆",
                        .service = "互联网专线",
                        .tier = CFD_TIER_AAA,
                        .importance = CFD_IMPORTANCE_PROVINCE_LEVEL,
                        .started_at_ms = T0,
                        .threshold_ms = 1800000,
                        .opened_at_ms = T0 + 1800000,
                        .closed_at_ms = T0 + 3600000,
                        .ownership_unclear = true,
                        .excluded_from_assessment = true,
                        .version = 2,
                        .rule = CFD_INCIDENT_RULE_CROSS_CITY_RENTAL,
                        .decided_at_ms = T0 + 3600500};
    snprintf(inc.incident_id, sizeof inc.incident_id, "INC-WO-9");
    uint8_t *buf;
    size_t len;
    cfd_codec_incident_encode(&inc, &buf, &len);
    Confirmd__V1__Incident *pb = confirmd__v1__incident__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_string_equal(pb->incident_id, "INC-WO-9");
    assert_int_equal(
        pb->kind,
        CONFIRMD__V1__INCIDENT_KIND__INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION);
    assert_int_equal(pb->status, CONFIRMD__V1__INCIDENT_STATUS__INCIDENT_STATUS_CLOSED);
    assert_int_equal(pb->n_work_orders, 1);
    assert_string_equal(pb->work_orders[0], "WO-9");
    assert_string_equal(pb->customer_id, "C-9");
    assert_string_equal(pb->city, "重庆");
    assert_string_equal(pb->service, "互联网专线");
    assert_int_equal(pb->tier, CONFIRMD__V1__TIER__TIER_AAA);
    assert_int_equal(pb->importance, CONFIRMD__V1__IMPORTANCE__IMPORTANCE_PROVINCE_LEVEL);
    assert_true(pb->started_at_ms == T0 && pb->threshold_ms == 1800000);
    assert_true(pb->opened_at_ms == T0 + 1800000 && pb->closed_at_ms == T0 + 3600000);
    assert_true(pb->ownership_unclear && pb->excluded_from_assessment);
    assert_int_equal(pb->version, 2);
    assert_int_equal(pb->rule,
                     CONFIRMD__V1__INCIDENT_RULE__INCIDENT_RULE_CROSS_CITY_RENTAL);
    assert_true(pb->decided_at_ms == T0 + 3600500);
    confirmd__v1__incident__free_unpacked(pb, NULL);
    free(buf);
}

static void test_dead_letter_encode(void **state)
{
    (void)state;
    static const uint8_t raw[] = {0xde, 0xad, 0x00, 0xbe, 0xef};
    cfd_dead_letter dl = {raw,
                          sizeof raw,
                          "confirmd.events",
                          3,
                          4711,
                          CFD_DL_INVALID_TRANSITION,
                          "STATE_CLOSED -> MILESTONE_ARRIVED_ON_SITE",
                          "WO-1",
                          "EV-9",
                          T0,
                          SIZE_MAX};
    uint8_t *buf;
    size_t len;

    cfd_codec_dead_letter_encode(&dl, &buf, &len);
    Confirmd__V1__DeadLetter *pb = confirmd__v1__dead_letter__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_int_equal(pb->original.len, sizeof raw);
    assert_memory_equal(pb->original.data, raw, sizeof raw);
    assert_string_equal(pb->topic, "confirmd.events");
    assert_int_equal(pb->partition, 3);
    assert_true(pb->offset == 4711);
    assert_int_equal(pb->reason,
                     CONFIRMD__V1__DEAD_LETTER_REASON__DEAD_LETTER_INVALID_TRANSITION);
    assert_string_equal(pb->detail, dl.detail);
    assert_string_equal(pb->work_order, "WO-1");
    assert_string_equal(pb->event_id, "EV-9");
    assert_true(pb->dead_at_ms == T0);
    confirmd__v1__dead_letter__free_unpacked(pb, NULL);
    free(buf);

    /* Undecodable input: no work order, no event id. */
    dl.work_order = NULL;
    dl.event_id = NULL;
    dl.reason = CFD_DL_UNDECODABLE;
    cfd_codec_dead_letter_encode(&dl, &buf, &len);
    pb = confirmd__v1__dead_letter__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_string_equal(pb->work_order, "");
    confirmd__v1__dead_letter__free_unpacked(pb, NULL);
    free(buf);

    /* Text fields stay UTF-8 whatever they are given: a detail is cut before its first
     * bad byte, an id that is not text is left out; the bytes go as they are. */
    dl.detail = "work_order: not valid UTF-8 \xe9\x87";
    dl.work_order = "WO-\xff-1";
    dl.event_id = "EV-\xc0\xaf";
    cfd_codec_dead_letter_encode(&dl, &buf, &len);
    pb = confirmd__v1__dead_letter__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_memory_equal(pb->original.data, raw, sizeof raw);
    assert_string_equal(pb->detail, "work_order: not valid UTF-8 ");
    assert_string_equal(pb->work_order, "");
    assert_string_equal(pb->event_id, "");
    confirmd__v1__dead_letter__free_unpacked(pb, NULL);
    free(buf);

    /* Longer than the cap: its first bytes, its whole length and its SHA-256. */
    /* printf '\xde\xad\x00\xbe\xef' | sha256sum */
    static const uint8_t sha_raw[32] = {0x03, 0x5e, 0x11, 0x87, 0x49, 0xfb, 0x06, 0x72,
                                        0xc2, 0xae, 0xf7, 0x35, 0xef, 0x09, 0x46, 0xcf,
                                        0x51, 0xdd, 0x53, 0x85, 0x3b, 0x35, 0xa8, 0x0b,
                                        0x11, 0x0c, 0x4e, 0x0c, 0x0a, 0x50, 0xcc, 0xd2};
    dl.max_original = 2;
    cfd_codec_dead_letter_encode(&dl, &buf, &len);
    pb = confirmd__v1__dead_letter__unpack(NULL, len, buf);
    assert_non_null(pb);
    assert_int_equal(pb->original.len, 2);
    assert_memory_equal(pb->original.data, raw, 2);
    assert_int_equal(pb->original_length, sizeof raw);
    assert_int_equal(pb->original_sha256.len, 32);
    assert_memory_equal(pb->original_sha256.data, sha_raw, 32);
    confirmd__v1__dead_letter__free_unpacked(pb, NULL);
    free(buf);
}

static void test_dl_reason(void **state)
{
    (void)state;
    static const struct {
        cfd_err err;
        cfd_dl_reason want;
    } cases[] = {
        {CFD_ERR_DECODE, CFD_DL_UNDECODABLE},
        {CFD_ERR_MISSING_FIELD, CFD_DL_MISSING_FIELD},
        {CFD_ERR_TRANSITION, CFD_DL_INVALID_TRANSITION},
        {CFD_ERR_UNKNOWN_ORDER, CFD_DL_UNKNOWN_WORK_ORDER},
        {CFD_ERR_INVALID_VALUE, CFD_DL_INVALID_VALUE},
        {CFD_ERR_UNKNOWN_OBJECT, CFD_DL_UNKNOWN_NETWORK_OBJECT},
        {CFD_OK, CFD_DL_NONE},
        {CFD_ERR_IO, CFD_DL_NONE},
        {CFD_ERR_FENCED, CFD_DL_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        int_eq(cfd_err_name(cases[i].err), cfd_codec_dl_reason(cases[i].err),
               cases[i].want);
}

/* The side-path payloads decode into the domain event, JSON in (descriptor-driven). */
static void test_event_decode_side_paths(void **state)
{
    static const struct {
        const char *name, *json;
        cfd_milestone kind;
    } cases[] = {
        {"rescheduled",
         "{\"event_id\":\"e1\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"appointment_rescheduled\":{\"appointment_time_ms\":99,"
         "\"requested_by_customer\":true,\"reason\":\"rain\"}}",
         CFD_MS_APPOINTMENT_RESCHEDULED},
        {"customer absent",
         "{\"event_id\":\"e2\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"customer_absent\":{\"note\":{\"visit_time_ms\":5,\"leaving_time_ms\":9,"
         "\"contact\":\"400\"},\"note_left\":true}}",
         CFD_MS_CUSTOMER_ABSENT},
        {"signature waived",
         "{\"event_id\":\"e3\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"signature_waived\":{\"reason\":\"SIGNATURE_CUSTOMER_UNREACHABLE\","
         "\"detail\":\"no answer\"}}",
         CFD_MS_SIGNATURE_WAIVED},
        {"part replaced",
         "{\"event_id\":\"e4\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"part_replaced\":{\"part\":{\"name\":\"fan\",\"quantity\":2,"
         "\"category\":\"EQUIPMENT_WHOLE_UNIT\",\"fault_types\":[\"PART_FAULT_MECHANICAL\","
         "\"PART_FAULT_DIMENSION_ERROR\"],\"responsible\":\"RESPONSIBLE_SUPPLIER\","
         "\"supplier_name\":\"S\",\"serial_number\":\"HW20230415\"}}}",
         CFD_MS_PART_REPLACED},
        {"clock paused",
         "{\"event_id\":\"e5\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"clock_paused\":{\"pause_id\":\"p\",\"reason\":\"PAUSE_INTERCONNECTION\","
         "\"evidence\":\"ticket "
         "7\",\"metrics\":[\"METRIC_CONTACT\",\"METRIC_RESTORATION\"],"
         "\"start_ms\":3}}",
         CFD_MS_CLOCK_PAUSED},
        {"clock resumed",
         "{\"event_id\":\"e6\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"clock_resumed\":{\"pause_id\":\"p\",\"end_ms\":4}}",
         CFD_MS_CLOCK_RESUMED},
        {"event report",
         "{\"event_id\":\"e7\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"event_report_submitted\":{\"report_id\":\"R-1\"}}",
         CFD_MS_EVENT_REPORT_SUBMITTED},
        {"special repeat report",
         "{\"event_id\":\"e8\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"fault_report\":{\"special\":true,\"previous_work_order\":\"W0\","
         "\"network\":{\"circuit_id\":\"C-1\"}}}",
         CFD_MS_REPORTED},
        {"repeat fault linked by the service",
         "{\"event_id\":\"e9\",\"work_order\":\"W\",\"event_time_ms\":5,"
         "\"repeat_fault\":{\"previous_work_order\":\"W0\"}}",
         CFD_MS_REPEAT_FAULT},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *buf;
        size_t len;
        char errstr[256] = "";
        cfd_decoded_event de;

        print_message("case: %s\n", cases[i].name);
        if (cfd_json_to_pb("Event", cases[i].json, &buf, &len, errstr, sizeof errstr))
            fail_msg("json: %s", errstr);
        if (cfd_codec_event_decode(buf, len, &de, errstr, sizeof errstr))
            fail_msg("decode: %s", errstr);
        assert_int_equal(de.ev.kind, cases[i].kind);
        switch (de.ev.kind) {
        case CFD_MS_APPOINTMENT_RESCHEDULED:
            assert_int_equal(de.ev.appointment.time_ms, 99);
            assert_true(de.ev.appointment.requested_by_customer);
            assert_string_equal(de.ev.appointment.reason, "rain");
            break;
        case CFD_MS_CUSTOMER_ABSENT:
            assert_int_equal(de.ev.visit.note.leaving_time_ms, 9);
            assert_string_equal(de.ev.visit.note.contact, "400");
            assert_true(de.ev.visit.note_left);
            break;
        case CFD_MS_SIGNATURE_WAIVED:
            assert_int_equal(de.ev.visit.reason, CFD_WAIVER_UNREACHABLE);
            assert_string_equal(de.ev.visit.detail, "no answer");
            break;
        case CFD_MS_PART_REPLACED:
            assert_string_equal(de.ev.part.name, "fan");
            assert_int_equal(de.ev.part.quantity, 2);
            assert_int_equal(de.ev.part.category, CFD_EQUIPMENT_WHOLE_UNIT);
            assert_int_equal(de.ev.part.fault_types,
                             CFD_PART_FAULT_BIT(CFD_PART_FAULT_MECHANICAL) |
                                 CFD_PART_FAULT_BIT(CFD_PART_FAULT_DIMENSION_ERROR));
            assert_int_equal(de.ev.part.responsible, CFD_RESPONSIBLE_SUPPLIER);
            break;
        case CFD_MS_CLOCK_PAUSED:
            assert_string_equal(de.ev.pause.pause_id, "p");
            assert_int_equal(de.ev.pause.reason, CFD_PAUSE_INTERCONNECTION);
            assert_int_equal(de.ev.pause.metrics,
                             1u << CFD_METRIC_CONTACT | 1u << CFD_METRIC_RESTORATION);
            assert_int_equal(de.ev.pause.start_ms, 3);
            break;
        case CFD_MS_CLOCK_RESUMED:
            assert_int_equal(de.ev.pause.end_ms, 4);
            break;
        case CFD_MS_EVENT_REPORT_SUBMITTED:
            assert_string_equal(de.ev.event_report.report_id, "R-1");
            break;
        case CFD_MS_REPEAT_FAULT:
            assert_string_equal(de.ev.repeat.previous_work_order, "W0");
            break;
        default:
            assert_true(de.ev.report.special);
            assert_string_equal(de.ev.report.previous_work_order, "W0");
            break;
        }
        cfd_codec_event_release(&de);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enum_values),
        cmocka_unit_test(test_enum_coverage),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_event_decode_payloads),
        cmocka_unit_test(test_event_decode_side_paths),
        cmocka_unit_test(test_event_decode_missing),
        cmocka_unit_test(test_event_ids),
        cmocka_unit_test(test_decode_utf8),
        cmocka_unit_test(test_event_decode_garbage),
        cmocka_unit_test(test_event_decode_random),
        cmocka_unit_test(test_event_decode_truncated),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_record_encode),
        cmocka_unit_test(test_state_decode_rejects),
        cmocka_unit_test(test_state_compact),
        cmocka_unit_test(test_state_compact_corrupt),
        cmocka_unit_test(test_state_packed_bytes),
        cmocka_unit_test(test_state_decode_garbage),
        cmocka_unit_test(test_alert_encode),
        cmocka_unit_test(test_incident_encode),
        cmocka_unit_test(test_dead_letter_encode),
        cmocka_unit_test(test_dl_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

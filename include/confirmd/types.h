/*
 * Domain enumerations shared by the core, the codec and the workers.
 *
 * The numeric values equal those of the confirmd.v1 protobuf enums of the same
 * meaning, so the codec converts by value; tests/unit/test_codec.c checks that.
 */
#ifndef CONFIRMD_TYPES_H
#define CONFIRMD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes: 0 is success so `if (err)` reads naturally. */
typedef enum cfd_err {
    CFD_OK = 0,
    CFD_ERR = -1,               /* generic failure, see errstr */
    CFD_ERR_DECODE = -2,        /* bytes are not a valid message */
    CFD_ERR_MISSING_FIELD = -3, /* a required field is absent */
    CFD_ERR_TRANSITION = -4,    /* illegal lifecycle transition */
    CFD_ERR_UNKNOWN_ORDER = -5, /* no record for the work order */
    CFD_ERR_INVALID_VALUE = -6, /* a field's value is out of range */
    CFD_ERR_FENCED = -7,        /* another worker owns the partition now */
    CFD_ERR_IO = -8,            /* Redis or Kafka unreachable: retry */
    CFD_ERR_CONFIG = -9,
    CFD_ERR_UNKNOWN_OBJECT = -10, /* an alarm on a network object not in the inventory */
    CFD_ERR_STATE_LOST = -11,     /* Redis has no state for what Kafka says was applied */
    CFD_ERR_UNDELIVERED = -12,    /* stopped with outputs not delivered (in the outbox) */
    CFD_ERR_REFUSED = -13,        /* Kafka refused the login or the TLS handshake */
} cfd_err;

typedef enum cfd_tier {
    CFD_TIER_UNSPECIFIED = 0,
    CFD_TIER_AAA = 1,
    CFD_TIER_AA = 2,
    CFD_TIER_A = 3,
    CFD_TIER_STANDARD = 4,
} cfd_tier;
#define CFD_TIER_COUNT 5

/* Importance class of a customer's service (values as confirmd.v1.Importance). */
typedef enum cfd_importance {
    CFD_IMPORTANCE_ORDINARY = 0,
    CFD_IMPORTANCE_PROVINCE_LEVEL = 1,
    CFD_IMPORTANCE_CITY_DIAMOND = 2,
    CFD_IMPORTANCE_CROSS_PROVINCE = 3,
    CFD_IMPORTANCE_CROSS_CITY = 4,
} cfd_importance;

typedef enum cfd_urgency {
    CFD_URGENCY_UNSPECIFIED = 0,
    CFD_URGENCY_URGENT = 1,
    CFD_URGENCY_GENERAL = 2,
} cfd_urgency;

typedef enum cfd_source {
    CFD_SOURCE_UNSPECIFIED = 0,
    CFD_SOURCE_CUSTOMER = 1,
    CFD_SOURCE_NOC = 2,
    CFD_SOURCE_DISPATCH = 3,
    CFD_SOURCE_FIELD_APP = 4,
    CFD_SOURCE_OPERATOR = 5,
} cfd_source;

typedef enum cfd_cause {
    CFD_CAUSE_UNSPECIFIED = 0,
    CFD_CAUSE_TRANSMISSION_LINE = 1,
    CFD_CAUSE_OPERATOR_EQUIPMENT = 2,
    CFD_CAUSE_CUSTOMER_EQUIPMENT = 3,
    CFD_CAUSE_CUSTOMER_NETWORK = 4,
    CFD_CAUSE_AGGREGATION_LAYER = 5,
    CFD_CAUSE_OTHER = 6,
} cfd_cause;

typedef enum cfd_result {
    CFD_RESULT_UNSPECIFIED = 0,
    CFD_RESULT_RESTORED = 1,
    CFD_RESULT_NEEDS_OBSERVATION = 2,
    CFD_RESULT_NOT_REPAIRED = 3,
    CFD_RESULT_OTHER = 4,
} cfd_result;

typedef enum cfd_alarm_severity {
    CFD_ALARM_UNSPECIFIED = 0,
    CFD_ALARM_WARNING = 1,
    CFD_ALARM_MINOR = 2,
    CFD_ALARM_MAJOR = 3,
    CFD_ALARM_CRITICAL = 4,
} cfd_alarm_severity;

/* Lifecycle states (values as confirmd.v1.State). */
typedef enum cfd_state {
    CFD_STATE_NONE = 0, /* no opening event yet */
    CFD_STATE_REPORTED = 1,
    CFD_STATE_ACCEPTED = 2,
    CFD_STATE_DISPATCHED = 3,
    CFD_STATE_ENGINEER_ACCEPTED = 4,
    CFD_STATE_CONTACTED = 5,
    CFD_STATE_APPOINTED = 6,
    CFD_STATE_DEPARTED = 7,
    CFD_STATE_ON_SITE = 8,
    CFD_STATE_DIAGNOSED = 9,
    CFD_STATE_RESTORED = 10,
    CFD_STATE_SIGNED = 11,
    CFD_STATE_CLOSED = 12,
    CFD_STATE_CANCELLED = 13,
    CFD_STATE_REOPENED = 14,
    CFD_STATE_CUSTOMER_ABSENT = 15,  /* visited, customer not there */
    CFD_STATE_SIGNATURE_WAIVED = 16, /* form completed without signature */
} cfd_state;
#define CFD_STATE_COUNT 17

/* Milestones, one per event payload (values as confirmd.v1.Milestone). */
typedef enum cfd_milestone {
    CFD_MS_NONE = 0,
    CFD_MS_REPORTED = 1,
    CFD_MS_ACCEPTED = 2,
    CFD_MS_DISPATCHED = 3,
    CFD_MS_ENGINEER_ACCEPTED = 4,
    CFD_MS_CUSTOMER_CONTACTED = 5,
    CFD_MS_APPOINTMENT_SET = 6,
    CFD_MS_DEPARTED = 7,
    CFD_MS_ARRIVED_ON_SITE = 8,
    CFD_MS_DIAGNOSED = 9,
    CFD_MS_SERVICE_RESTORED = 10,
    CFD_MS_CONFIRMATION_SIGNED = 11,
    CFD_MS_CLOSED = 12,
    CFD_MS_CANCELLED = 13,
    CFD_MS_REOPENED = 14,
    CFD_MS_ALARM = 15,
    CFD_MS_APPOINTMENT_RESCHEDULED = 16,
    CFD_MS_CUSTOMER_ABSENT = 17,
    CFD_MS_SIGNATURE_WAIVED = 18,
    CFD_MS_PART_REPLACED = 19,
    CFD_MS_CLOCK_PAUSED = 20,
    CFD_MS_CLOCK_RESUMED = 21,
    CFD_MS_EVENT_REPORT_SUBMITTED = 22,
    CFD_MS_COMPLAINT = 23,
    CFD_MS_REPEAT_FAULT = 24, /* the service linked the order to an earlier one */
} cfd_milestone;
#define CFD_MS_COUNT 25

typedef enum cfd_metric {
    CFD_METRIC_NONE = 0,
    CFD_METRIC_CONTACT = 1,
    CFD_METRIC_ON_SITE = 2,
    CFD_METRIC_RESTORATION = 3,
    CFD_METRIC_CAUSE_IDENTIFIED = 4,
    CFD_METRIC_EVENT_REPORT = 5,
} cfd_metric;
#define CFD_METRIC_COUNT 6 /* index 0 unused */

typedef enum cfd_metric_status {
    CFD_MST_UNSPECIFIED = 0,
    CFD_MST_PENDING = 1,
    CFD_MST_RUNNING = 2,
    CFD_MST_MET = 3,
    CFD_MST_BREACHED = 4,
    CFD_MST_NOT_APPLICABLE = 5,
} cfd_metric_status;

typedef enum cfd_alert_kind {
    CFD_ALERT_NONE = 0,
    CFD_ALERT_WARNING = 1,
    CFD_ALERT_BREACH = 2,
    CFD_ALERT_ESCALATION = 3,
    CFD_ALERT_RETRACTED = 4,
    CFD_ALERT_GOLD_NOTIFICATION = 5,
    CFD_ALERT_SEVERE_FAULT = 6,
    CFD_ALERT_PARALLEL_SPECIALISTS = 7, /* AAA, cause still unknown: every discipline */
} cfd_alert_kind;
#define CFD_ALERT_KINDS (CFD_ALERT_PARALLEL_SPECIALISTS + 1)

typedef enum cfd_recipient {
    CFD_RECIPIENT_NONE = 0,
    CFD_RECIPIENT_ENGINEER = 1,
    CFD_RECIPIENT_TEAM_LEADER = 2,
    CFD_RECIPIENT_DEPARTMENT_LEADER = 3,
    CFD_RECIPIENT_NOC_DUTY_MANAGER = 4,
    CFD_RECIPIENT_ALL_SPECIALISTS = 5, /* every discipline the fault may involve */
} cfd_recipient;
#define CFD_RECIPIENTS (CFD_RECIPIENT_ALL_SPECIALISTS + 1)

typedef enum cfd_dl_reason {
    CFD_DL_NONE = 0,
    CFD_DL_UNDECODABLE = 1,
    CFD_DL_MISSING_FIELD = 2,
    CFD_DL_INVALID_TRANSITION = 3,
    CFD_DL_UNKNOWN_WORK_ORDER = 4,
    CFD_DL_INVALID_VALUE = 5,
    CFD_DL_UNKNOWN_NETWORK_OBJECT = 6,
    CFD_DL_OUTPUT_REFUSED = 7,
} cfd_dl_reason;
#define CFD_DL_REASONS (CFD_DL_OUTPUT_REFUSED + 1)

typedef enum cfd_equipment_category {
    CFD_EQUIPMENT_UNSPECIFIED = 0,
    CFD_EQUIPMENT_WHOLE_UNIT = 1,
    CFD_EQUIPMENT_COMPONENT = 2,
    CFD_EQUIPMENT_SOFTWARE = 3,
} cfd_equipment_category;

typedef enum cfd_part_fault {
    CFD_PART_FAULT_UNSPECIFIED = 0,
    CFD_PART_FAULT_FUNCTION_DEFECT = 1,
    CFD_PART_FAULT_MECHANICAL = 2,
    CFD_PART_FAULT_DIMENSION_ERROR = 3,
    CFD_PART_FAULT_APPEARANCE_DEFECT = 4,
} cfd_part_fault;
#define CFD_PART_FAULT_COUNT 5
/* A set of fault types as bits: 1u << cfd_part_fault. */
#define CFD_PART_FAULT_BIT(t) (1u << (unsigned)(t))

typedef enum cfd_responsible {
    CFD_RESPONSIBLE_UNSPECIFIED = 0,
    CFD_RESPONSIBLE_CUSTOMER = 1,
    CFD_RESPONSIBLE_CONTRACTOR = 2,
    CFD_RESPONSIBLE_SUPPLIER = 3,
} cfd_responsible;

typedef enum cfd_pause_reason {
    CFD_PAUSE_UNSPECIFIED = 0,
    CFD_PAUSE_CUSTOMER = 1,
    CFD_PAUSE_INTERCONNECTION = 2,
    CFD_PAUSE_APPOINTMENT = 3,
} cfd_pause_reason;

typedef enum cfd_waiver {
    CFD_WAIVER_UNSPECIFIED = 0,
    CFD_WAIVER_REFUSED = 1,
    CFD_WAIVER_UNREACHABLE = 2,
    CFD_WAIVER_REMOTE_RESTORATION = 3, /* restored remotely: no visit, nobody to sign */
} cfd_waiver;

typedef enum cfd_violation_code {
    CFD_VIOLATION_NONE = 0,
    CFD_VIOLATION_LATE_ARRIVAL = 1,
    CFD_VIOLATION_CAUSE_NOT_FOUND = 2,
    CFD_VIOLATION_EVENT_REPORT_LATE = 3,
    CFD_VIOLATION_NONCONFORMING_RECORD = 4,
    CFD_VIOLATION_BROKEN_COMMITMENT = 5,
    CFD_VIOLATION_COMPLAINT = 6,
    CFD_VIOLATION_TEMPORARY_FIX_LATE = 7,
    CFD_VIOLATION_PARTS_LATE = 8,
} cfd_violation_code;
#define CFD_VIOLATION_COUNT 9

/* @returns a static upper-case name such as "STATE_CLOSED"; "?" when out of range. */
/* The latest instant confirmd takes: 9999-12-31T23:59:59.999Z. Every time it reads
 * from outside lies in [0, CFD_TIME_MAX_MS], so sums and differences of times and
 * durations cannot overflow. */
#define CFD_TIME_MAX_MS INT64_C(253402300799999)

/* @returns true when ms is 0 (none) or an instant in (0, CFD_TIME_MAX_MS]. */
static inline bool cfd_time_valid(int64_t ms)
{
    return ms >= 0 && ms <= CFD_TIME_MAX_MS;
}

const char *cfd_state_name(cfd_state s);
const char *cfd_milestone_name(cfd_milestone m);
const char *cfd_metric_name(cfd_metric m);
const char *cfd_tier_name(cfd_tier t);
const char *cfd_alert_kind_name(cfd_alert_kind k);
const char *cfd_err_name(cfd_err err);
const char *cfd_violation_name(cfd_violation_code c);
const char *cfd_pause_reason_name(cfd_pause_reason r);
const char *cfd_recipient_name(cfd_recipient r);
const char *cfd_dl_reason_name(cfd_dl_reason r);

#endif

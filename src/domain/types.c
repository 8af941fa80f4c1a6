/*
 * Names of the domain enumerations, for logs, error strings and the CLI.
 *
 * The names are those of the confirmd.v1 protobuf enum values, so a log line and a
 * decoded message read the same.
 */
#include "confirmd/types.h"

/* Looks up v in a table indexed by value; "?" when out of range or unnamed. */
static const char *name_of(const char *const *names, size_t n, int v)
{
    if (v < 0 || (size_t)v >= n || names[v] == NULL)
        return "?";
    return names[v];
}

#define NAME_OF(table, v) name_of((table), sizeof(table) / sizeof((table)[0]), (int)(v))

static const char *const state_names[CFD_STATE_COUNT] = {
    [CFD_STATE_NONE] = "STATE_NONE",
    [CFD_STATE_REPORTED] = "STATE_REPORTED",
    [CFD_STATE_ACCEPTED] = "STATE_ACCEPTED",
    [CFD_STATE_DISPATCHED] = "STATE_DISPATCHED",
    [CFD_STATE_ENGINEER_ACCEPTED] = "STATE_ENGINEER_ACCEPTED",
    [CFD_STATE_CONTACTED] = "STATE_CONTACTED",
    [CFD_STATE_APPOINTED] = "STATE_APPOINTED",
    [CFD_STATE_DEPARTED] = "STATE_DEPARTED",
    [CFD_STATE_ON_SITE] = "STATE_ON_SITE",
    [CFD_STATE_DIAGNOSED] = "STATE_DIAGNOSED",
    [CFD_STATE_RESTORED] = "STATE_RESTORED",
    [CFD_STATE_SIGNED] = "STATE_SIGNED",
    [CFD_STATE_CLOSED] = "STATE_CLOSED",
    [CFD_STATE_CANCELLED] = "STATE_CANCELLED",
    [CFD_STATE_REOPENED] = "STATE_REOPENED",
    [CFD_STATE_CUSTOMER_ABSENT] = "STATE_CUSTOMER_ABSENT",
    [CFD_STATE_SIGNATURE_WAIVED] = "STATE_SIGNATURE_WAIVED",
};

static const char *const milestone_names[CFD_MS_COUNT] = {
    [CFD_MS_NONE] = "MILESTONE_NONE",
    [CFD_MS_REPORTED] = "MILESTONE_REPORTED",
    [CFD_MS_ACCEPTED] = "MILESTONE_ACCEPTED",
    [CFD_MS_DISPATCHED] = "MILESTONE_DISPATCHED",
    [CFD_MS_ENGINEER_ACCEPTED] = "MILESTONE_ENGINEER_ACCEPTED",
    [CFD_MS_CUSTOMER_CONTACTED] = "MILESTONE_CUSTOMER_CONTACTED",
    [CFD_MS_APPOINTMENT_SET] = "MILESTONE_APPOINTMENT_SET",
    [CFD_MS_DEPARTED] = "MILESTONE_DEPARTED",
    [CFD_MS_ARRIVED_ON_SITE] = "MILESTONE_ARRIVED_ON_SITE",
    [CFD_MS_DIAGNOSED] = "MILESTONE_DIAGNOSED",
    [CFD_MS_SERVICE_RESTORED] = "MILESTONE_SERVICE_RESTORED",
    [CFD_MS_CONFIRMATION_SIGNED] = "MILESTONE_CONFIRMATION_SIGNED",
    [CFD_MS_CLOSED] = "MILESTONE_CLOSED",
    [CFD_MS_CANCELLED] = "MILESTONE_CANCELLED",
    [CFD_MS_REOPENED] = "MILESTONE_REOPENED",
    [CFD_MS_ALARM] = "MILESTONE_NOC_ALARM",
    [CFD_MS_APPOINTMENT_RESCHEDULED] = "MILESTONE_APPOINTMENT_RESCHEDULED",
    [CFD_MS_CUSTOMER_ABSENT] = "MILESTONE_CUSTOMER_ABSENT",
    [CFD_MS_SIGNATURE_WAIVED] = "MILESTONE_SIGNATURE_WAIVED",
    [CFD_MS_PART_REPLACED] = "MILESTONE_PART_REPLACED",
    [CFD_MS_CLOCK_PAUSED] = "MILESTONE_CLOCK_PAUSED",
    [CFD_MS_CLOCK_RESUMED] = "MILESTONE_CLOCK_RESUMED",
    [CFD_MS_EVENT_REPORT_SUBMITTED] = "MILESTONE_EVENT_REPORT_SUBMITTED",
    [CFD_MS_COMPLAINT] = "MILESTONE_COMPLAINT",
    [CFD_MS_REPEAT_FAULT] = "MILESTONE_REPEAT_FAULT",
};

static const char *const metric_names[CFD_METRIC_COUNT] = {
    [CFD_METRIC_NONE] = "METRIC_NONE",
    [CFD_METRIC_CONTACT] = "METRIC_CONTACT",
    [CFD_METRIC_ON_SITE] = "METRIC_ON_SITE",
    [CFD_METRIC_RESTORATION] = "METRIC_RESTORATION",
    [CFD_METRIC_CAUSE_IDENTIFIED] = "METRIC_CAUSE_IDENTIFIED",
    [CFD_METRIC_EVENT_REPORT] = "METRIC_EVENT_REPORT",
};

static const char *const tier_names[CFD_TIER_COUNT] = {
    [CFD_TIER_UNSPECIFIED] = "TIER_UNSPECIFIED",
    [CFD_TIER_AAA] = "TIER_AAA",
    [CFD_TIER_AA] = "TIER_AA",
    [CFD_TIER_A] = "TIER_A",
    [CFD_TIER_STANDARD] = "TIER_STANDARD",
};

static const char *const alert_kind_names[] = {
    [CFD_ALERT_NONE] = "ALERT_KIND_NONE",
    [CFD_ALERT_WARNING] = "ALERT_KIND_WARNING",
    [CFD_ALERT_BREACH] = "ALERT_KIND_BREACH",
    [CFD_ALERT_ESCALATION] = "ALERT_KIND_ESCALATION",
    [CFD_ALERT_RETRACTED] = "ALERT_KIND_RETRACTED",
    [CFD_ALERT_GOLD_NOTIFICATION] = "ALERT_KIND_GOLD_NOTIFICATION",
    [CFD_ALERT_SEVERE_FAULT] = "ALERT_KIND_SEVERE_FAULT",
    [CFD_ALERT_PARALLEL_SPECIALISTS] = "ALERT_KIND_PARALLEL_SPECIALISTS",
};

static const char *const violation_names[CFD_VIOLATION_COUNT] = {
    [CFD_VIOLATION_NONE] = "VIOLATION_NONE",
    [CFD_VIOLATION_LATE_ARRIVAL] = "VIOLATION_LATE_ARRIVAL",
    [CFD_VIOLATION_CAUSE_NOT_FOUND] = "VIOLATION_CAUSE_NOT_FOUND",
    [CFD_VIOLATION_EVENT_REPORT_LATE] = "VIOLATION_EVENT_REPORT_LATE",
    [CFD_VIOLATION_NONCONFORMING_RECORD] = "VIOLATION_NONCONFORMING_RECORD",
    [CFD_VIOLATION_BROKEN_COMMITMENT] = "VIOLATION_BROKEN_COMMITMENT",
    [CFD_VIOLATION_COMPLAINT] = "VIOLATION_COMPLAINT",
    [CFD_VIOLATION_TEMPORARY_FIX_LATE] = "VIOLATION_TEMPORARY_FIX_LATE",
    [CFD_VIOLATION_PARTS_LATE] = "VIOLATION_PARTS_LATE",
};

static const char *const pause_reason_names[] = {
    [CFD_PAUSE_UNSPECIFIED] = "PAUSE_REASON_UNSPECIFIED",
    [CFD_PAUSE_CUSTOMER] = "PAUSE_CUSTOMER",
    [CFD_PAUSE_INTERCONNECTION] = "PAUSE_INTERCONNECTION",
    [CFD_PAUSE_APPOINTMENT] = "PAUSE_APPOINTMENT",
};

static const char *const recipient_names[] = {
    [CFD_RECIPIENT_NONE] = "RECIPIENT_UNSPECIFIED",
    [CFD_RECIPIENT_ENGINEER] = "RECIPIENT_ENGINEER",
    [CFD_RECIPIENT_TEAM_LEADER] = "RECIPIENT_TEAM_LEADER",
    [CFD_RECIPIENT_DEPARTMENT_LEADER] = "RECIPIENT_DEPARTMENT_LEADER",
    [CFD_RECIPIENT_NOC_DUTY_MANAGER] = "RECIPIENT_NOC_DUTY_MANAGER",
    [CFD_RECIPIENT_ALL_SPECIALISTS] = "RECIPIENT_ALL_SPECIALISTS",
};

/* Error codes are 0 and negative: indexed by -err. */
static const char *const err_names[] = {
    [-CFD_OK] = "CFD_OK",
    [-CFD_ERR] = "CFD_ERR",
    [-CFD_ERR_DECODE] = "CFD_ERR_DECODE",
    [-CFD_ERR_MISSING_FIELD] = "CFD_ERR_MISSING_FIELD",
    [-CFD_ERR_TRANSITION] = "CFD_ERR_TRANSITION",
    [-CFD_ERR_UNKNOWN_ORDER] = "CFD_ERR_UNKNOWN_ORDER",
    [-CFD_ERR_INVALID_VALUE] = "CFD_ERR_INVALID_VALUE",
    [-CFD_ERR_FENCED] = "CFD_ERR_FENCED",
    [-CFD_ERR_IO] = "CFD_ERR_IO",
    [-CFD_ERR_CONFIG] = "CFD_ERR_CONFIG",
    [-CFD_ERR_UNKNOWN_OBJECT] = "CFD_ERR_UNKNOWN_OBJECT",
    [-CFD_ERR_STATE_LOST] = "CFD_ERR_STATE_LOST",
    [-CFD_ERR_UNDELIVERED] = "CFD_ERR_UNDELIVERED",
    [-CFD_ERR_REFUSED] = "CFD_ERR_REFUSED",
};

const char *cfd_state_name(cfd_state s)
{
    return NAME_OF(state_names, s);
}

const char *cfd_milestone_name(cfd_milestone m)
{
    return NAME_OF(milestone_names, m);
}

const char *cfd_metric_name(cfd_metric m)
{
    return NAME_OF(metric_names, m);
}

const char *cfd_tier_name(cfd_tier t)
{
    return NAME_OF(tier_names, t);
}

const char *cfd_alert_kind_name(cfd_alert_kind k)
{
    return NAME_OF(alert_kind_names, k);
}

const char *cfd_err_name(cfd_err err)
{
    return NAME_OF(err_names, -(int)err);
}

const char *cfd_violation_name(cfd_violation_code c)
{
    return NAME_OF(violation_names, c);
}

const char *cfd_pause_reason_name(cfd_pause_reason r)
{
    return NAME_OF(pause_reason_names, r);
}

const char *cfd_recipient_name(cfd_recipient r)
{
    return NAME_OF(recipient_names, r);
}

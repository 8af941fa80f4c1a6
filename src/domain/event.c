/*
 * Validation of decoded input events: the fields every event needs and those its
 * payload needs. Pure; the lifecycle rules live in lifecycle.c.
 */
#include <stdio.h>

#include "confirmd/event.h"

static bool absent(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* Fills errstr with msg and returns err, so each check is one line. */
static cfd_err fail(cfd_err err, char *errstr, size_t errstr_size, const char *msg)
{
    if (errstr != NULL && errstr_size > 0)
        snprintf(errstr, errstr_size, "%s", msg);
    return err;
}

static cfd_err validate_report(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    cfd_tier tier = ev->report.customer.tier;
    cfd_urgency urgency = ev->report.urgency;

    if ((int)tier < CFD_TIER_UNSPECIFIED || (int)tier > CFD_TIER_STANDARD)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value report.customer.tier");
    if ((int)urgency < CFD_URGENCY_UNSPECIFIED || (int)urgency > CFD_URGENCY_GENERAL)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value report.urgency");
    /* Alarms, repeat faults and the city rule key on the network object: the circuit,
     * or for an order a NOC alarm opened, the object it was raised on (an inventory
     * record may name no circuit). */
    if (absent(ev->report.circuit_id) && absent(ev->report.alarm_object))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field fault_report.network.circuit_id");
    return CFD_OK;
}

static cfd_err validate_diagnosis(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    cfd_cause cause = ev->diagnosis.cause;

    if (cause == CFD_CAUSE_UNSPECIFIED)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field diagnosed.cause");
    if ((int)cause < 0 || (int)cause > CFD_CAUSE_OTHER)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value diagnosed.cause");
    /* The paper form's "other" box comes with free text. */
    if (cause == CFD_CAUSE_OTHER && absent(ev->diagnosis.cause_other))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "diagnosed.cause_other required for CAUSE_OTHER");
    return CFD_OK;
}

static cfd_err validate_restoration(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    cfd_result result = ev->restoration.result;

    if (result == CFD_RESULT_UNSPECIFIED)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field restored.result");
    if ((int)result < 0 || (int)result > CFD_RESULT_OTHER)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value restored.result");
    if (result == CFD_RESULT_OTHER && absent(ev->restoration.result_other))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "restored.result_other required for RESULT_OTHER");
    return CFD_OK;
}

static cfd_err validate_part(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    const cfd_part_ref *p = &ev->part;
    uint32_t known = 0;

    for (int t = CFD_PART_FAULT_FUNCTION_DEFECT; t < CFD_PART_FAULT_COUNT; t++)
        known |= CFD_PART_FAULT_BIT(t);
    if (absent(p->name))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size, "missing field part.name");
    if ((int)p->category < 0 || (int)p->category > CFD_EQUIPMENT_SOFTWARE)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value part.category");
    if ((int)p->responsible < 0 || (int)p->responsible > CFD_RESPONSIBLE_SUPPLIER)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value part.responsible");
    if (p->quantity < 0)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value part.quantity");
    if (p->fault_types & ~known)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value part.fault_types");
    return CFD_OK;
}

static cfd_err validate_pause(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    uint32_t known = 0;

    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        known |= 1u << m;
    if (absent(ev->pause.pause_id))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field pause.pause_id");
    if (ev->pause.start_ms < 0 || ev->pause.end_ms < 0)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value pause.start_ms/end_ms");
    if (ev->kind == CFD_MS_CLOCK_RESUMED)
        return CFD_OK;
    /* Every pause carries its reason (customer, interconnection, appointment). */
    if (ev->pause.reason == CFD_PAUSE_UNSPECIFIED)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field pause.reason");
    if ((int)ev->pause.reason < 0 || (int)ev->pause.reason > CFD_PAUSE_APPOINTMENT)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value pause.reason");
    if (ev->pause.metrics & ~known)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value pause.metrics");
    return CFD_OK;
}

static cfd_err validate_visit(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    const cfd_visit_note_ref *n = &ev->visit.note;

    if (n->visit_time_ms < 0 || n->leaving_time_ms < 0 ||
        (n->visit_time_ms > 0 && n->leaving_time_ms > 0 &&
         n->leaving_time_ms < n->visit_time_ms))
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value note: leaving before the visit");
    if (ev->kind != CFD_MS_SIGNATURE_WAIVED)
        return CFD_OK;
    if (ev->visit.reason == CFD_WAIVER_UNSPECIFIED)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field signature_waived.reason");
    if ((int)ev->visit.reason < 0 || (int)ev->visit.reason > CFD_WAIVER_REMOTE_RESTORATION)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "invalid value signature_waived.reason");
    return CFD_OK;
}

/* Checks the payload selected by ev->kind. */
static cfd_err validate_payload(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    switch (ev->kind) {
    case CFD_MS_REPORTED:
        return validate_report(ev, errstr, errstr_size);
    case CFD_MS_DIAGNOSED:
        return validate_diagnosis(ev, errstr, errstr_size);
    case CFD_MS_SERVICE_RESTORED:
        return validate_restoration(ev, errstr, errstr_size);
    case CFD_MS_PART_REPLACED:
        return validate_part(ev, errstr, errstr_size);
    case CFD_MS_CLOCK_PAUSED:
    case CFD_MS_CLOCK_RESUMED:
        return validate_pause(ev, errstr, errstr_size);
    case CFD_MS_CUSTOMER_ABSENT:
    case CFD_MS_SIGNATURE_WAIVED:
        return validate_visit(ev, errstr, errstr_size);
    case CFD_MS_APPOINTMENT_SET:
    case CFD_MS_APPOINTMENT_RESCHEDULED:
        if (ev->appointment.time_ms <= 0)
            return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                        "missing field appointment.time_ms");
        return CFD_OK;
    case CFD_MS_ALARM:
        if (absent(ev->alarm.alarm_id))
            return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                        "missing field alarm.alarm_id");
        if ((int)ev->alarm.severity < 0 || (int)ev->alarm.severity > CFD_ALARM_CRITICAL)
            return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                        "invalid value alarm.severity");
        return CFD_OK;
    case CFD_MS_REPEAT_FAULT:
        if (absent(ev->repeat.previous_work_order))
            return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                        "missing field repeat_fault.previous_work_order");
        return CFD_OK;
    case CFD_MS_CONFIRMATION_SIGNED:
        if (ev->signature.satisfaction < 0 || ev->signature.satisfaction > 5)
            return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                        "invalid value signed.satisfaction (0..5)");
        return CFD_OK;
    case CFD_MS_CLOSED:
        if (ev->close.service_end_time_ms < 0)
            return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                        "invalid value closed.service_end_time_ms");
        return CFD_OK;
    default:
        return CFD_OK;
    }
}

cfd_err cfd_event_validate(const cfd_event *ev, char *errstr, size_t errstr_size)
{
    if (ev == NULL)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size, "missing event");
    if (absent(ev->event_id))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size, "missing field event_id");
    if (absent(ev->work_order))
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size, "missing field work_order");
    if (ev->event_time_ms <= 0)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size,
                    "missing field event_time_ms");
    if (ev->kind == CFD_MS_NONE)
        return fail(CFD_ERR_MISSING_FIELD, errstr, errstr_size, "missing payload");
    if ((int)ev->kind < 0 || (int)ev->kind >= CFD_MS_COUNT)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size, "invalid value kind");
    return validate_payload(ev, errstr, errstr_size);
}

bool cfd_event_opens_order(const cfd_event *ev)
{
    return ev != NULL && ev->kind == CFD_MS_REPORTED;
}

/*
 * A decoded input event, as the domain core sees it.
 *
 * Strings are borrowed: they point into the decoded message that the codec keeps
 * alive (cfd_codec_event_free releases both). NULL and "" both mean absent.
 */
#ifndef CONFIRMD_EVENT_H
#define CONFIRMD_EVENT_H

#include "confirmd/customer.h"
#include "confirmd/types.h"

/* A note left at the door (到访留言); times 0 = absent. */
typedef struct cfd_visit_note_ref {
    int64_t visit_time_ms, leaving_time_ms;
    const char *contact;
} cfd_visit_note_ref;

/* One handling of a replaced or faulty part (after-sales form). */
typedef struct cfd_part_ref {
    const char *name, *material_number, *serial_number;
    int32_t quantity; /* 0 is read as 1 */
    cfd_equipment_category category;
    uint32_t fault_types; /* CFD_PART_FAULT_BIT() set */
    const char *preliminary_cause;
    cfd_responsible responsible;
    const char *supplier_name;
    const char *description;
} cfd_part_ref;

typedef struct cfd_event {
    const char *event_id;
    const char *work_order;
    cfd_source source;
    int64_t event_time_ms;
    int64_t ingest_time_ms;
    const char *reported_by;
    cfd_milestone kind; /* which payload is set */

    /* CFD_MS_REPORTED */
    struct {
        const char *issuing_unit;
        cfd_customer customer;
        const char *circuit_id, *access_point, *equipment;
        const char *problem_description;
        cfd_urgency urgency;
        bool special;                    /* special fault: longer cause/report limits */
        const char *previous_work_order; /* a caller's repeat-fault link; the service's
                                            (CFD_MS_REPEAT_FAULT) wins */
        const char *alarm_object;        /* the object whose NOC alarm opened it */
        bool full_interruption;          /* 全阻: no user can use the service */
        bool terminal_complaint;         /* terminal complaint: the standard duties */
    } report;

    /* CFD_MS_ACCEPTED */
    struct {
        const char
            *issuing_unit; /* accepted for this unit (出具单位); NULL: the report's */
    } accept;

    /* CFD_MS_DISPATCHED (both) / CFD_MS_ENGINEER_ACCEPTED (engineer_id only) */
    struct {
        const char *contractor;
        const char *engineer_id;
    } dispatch;

    /* CFD_MS_APPOINTMENT_SET / CFD_MS_APPOINTMENT_RESCHEDULED */
    struct {
        int64_t time_ms;
        bool requested_by_customer;
        const char *reason; /* reschedule only */
    } appointment;

    /* CFD_MS_CUSTOMER_ABSENT / CFD_MS_SIGNATURE_WAIVED */
    struct {
        cfd_visit_note_ref note;
        bool note_left;     /* absent only */
        cfd_waiver reason;  /* waived only */
        const char *detail; /* waived only */
    } visit;

    /* CFD_MS_PART_REPLACED */
    cfd_part_ref part;

    /* CFD_MS_CLOCK_PAUSED / CFD_MS_CLOCK_RESUMED (resume: pause_id and end_ms) */
    struct {
        const char *pause_id;
        cfd_pause_reason reason;
        const char *evidence;
        uint32_t metrics; /* bits 1u << cfd_metric; 0 means restoration only */
        int64_t start_ms; /* 0: the event time */
        int64_t end_ms;   /* 0: the event time */
    } pause;

    /* CFD_MS_EVENT_REPORT_SUBMITTED */
    struct {
        const char *report_id;
    } event_report;

    /* CFD_MS_ARRIVED_ON_SITE */
    struct {
        const char *const *engineers;
        size_t n_engineers;
        const char *const *assisting_staff;
        size_t n_assisting_staff;
    } arrival;

    /* CFD_MS_DIAGNOSED */
    struct {
        cfd_cause cause;
        const char *cause_other;
        const char *onsite_findings;
    } diagnosis;

    /* CFD_MS_SERVICE_RESTORED */
    struct {
        cfd_result result;
        const char *result_other;
        bool workaround;
        bool remote;
        int64_t permanent_fix_due_ms; /* with a workaround: the agreed fix time */
    } restoration;

    /* CFD_MS_REPEAT_FAULT */
    struct {
        const char *previous_work_order;
    } repeat;

    /* CFD_MS_COMPLAINT */
    struct {
        const char *reason;
        bool non_standard_work;
    } complaint;

    /* CFD_MS_PART_REPLACED: when the part was promised (0 = no promise) */
    int64_t part_promised_at_ms;

    /* CFD_MS_CONFIRMATION_SIGNED */
    struct {
        const char *customer_opinion;
        const char *customer_signature;
        const char *engineer_signature;
        const char *corrective_actions;
        int32_t satisfaction;
        const char *suggestions;
    } signature;

    /* CFD_MS_CLOSED */
    struct {
        int64_t service_end_time_ms;
    } close;

    /* CFD_MS_CANCELLED / CFD_MS_REOPENED */
    struct {
        const char *reason;
    } change;

    /* CFD_MS_ALARM */
    struct {
        const char *alarm_id;
        const char *network_object;
        cfd_alarm_severity severity;
        bool cleared;
        const char *text;
    } alarm;
} cfd_event;

/*
 * Checks the fields every event needs and those its payload needs (e.g. cause_other
 * for CAUSE_OTHER). Pure; fills errstr with the field's name on failure.
 * @returns CFD_OK, CFD_ERR_MISSING_FIELD or CFD_ERR_INVALID_VALUE.
 */
cfd_err cfd_event_validate(const cfd_event *ev, char *errstr, size_t errstr_size);

/* @returns true for events that may open a work order (a fault report). */
bool cfd_event_opens_order(const cfd_event *ev);

#endif

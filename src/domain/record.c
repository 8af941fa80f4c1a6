/*
 * The confirmation record of one work order: construction, destruction and
 * cfd_record_apply(), which folds an event into it.
 *
 * The record is a function of the set of events applied: the timeline is sorted by
 * (event time, event id), the state is a fold of the timeline through the lifecycle
 * table, the derived times come from the timeline, and the payload fields of a kind
 * come from the latest event of that kind. Arrival order therefore does not matter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/record.h"
#include "confirmd/text.h"
#include "sla.h"

cfd_record *cfd_record_new(void)
{
    return cfd_xcalloc(1, sizeof(cfd_record));
}

static void part_free(cfd_part_record *p)
{
    free(p->event_id);
    free(p->name);
    free(p->material_number);
    free(p->serial_number);
    free(p->preliminary_cause);
    free(p->supplier_name);
    free(p->description);
}

static void pause_free(cfd_pause *p)
{
    free(p->pause_id);
    free(p->reported_by);
    free(p->evidence);
    free(p->paused_event_id);
    free(p->resumed_event_id);
}

void cfd_record_destroy(cfd_record *rec)
{
    if (rec == NULL)
        return;
    free(rec->work_order);
    free(rec->issuing_unit);
    cfd_customer_clear(&rec->customer);
    cfd_strv_free(rec->engineers, rec->n_engineers);
    cfd_strv_free(rec->assisting_staff, rec->n_assisting_staff);
    free(rec->circuit_id);
    free(rec->access_point);
    free(rec->equipment);
    free(rec->problem_description);
    free(rec->onsite_findings);
    free(rec->cause_other);
    free(rec->result_other);
    free(rec->customer_opinion);
    free(rec->customer_signature);
    free(rec->engineer_signature);
    free(rec->corrective_actions);
    free(rec->suggestions);
    free(rec->contractor);
    free(rec->cancel_reason);
    for (size_t i = 0; i < rec->n_timeline; i++)
        free(rec->timeline[i].event_id);
    free(rec->timeline);
    cfd_strv_free(rec->linked_alarms, rec->n_linked_alarms);
    free(rec->policy_version);
    free(rec->previous_work_order);
    free(rec->alarm_object);
    for (size_t i = 0; i < rec->n_parts; i++)
        part_free(&rec->parts[i]);
    free(rec->parts);
    for (size_t i = 0; i < rec->n_pauses; i++)
        pause_free(&rec->pauses[i]);
    free(rec->pauses);
    free(rec->signature_waiver_detail);
    free(rec->visit_note.contact);
    free(rec->event_report_id);
    free(rec);
}

bool cfd_record_is_complete(const cfd_record *rec)
{
    return rec->state == CFD_STATE_CLOSED || rec->state == CFD_STATE_CANCELLED;
}

bool cfd_record_needs_emit(const cfd_record *rec)
{
    return cfd_record_is_complete(rec) && rec->version > rec->emitted_version;
}

bool cfd_record_is_repeat_of(const cfd_record *earlier, const char *circuit_id,
                             int64_t reported_at_ms, const cfd_policy *pol)
{
    int64_t watched_from;

    if (earlier == NULL || pol == NULL || circuit_id == NULL || earlier->circuit_id == NULL)
        return false;
    if (earlier->result != CFD_RESULT_NEEDS_OBSERVATION ||
        strcmp(earlier->circuit_id, circuit_id) != 0)
        return false;
    /* The circuit is watched from the end of the service (or the restoration). */
    watched_from = earlier->service_end_time_ms ? earlier->service_end_time_ms
                                                : earlier->restored_at_ms;
    return cfd_policy_in_observation(pol, watched_from, reported_at_ms);
}

int64_t cfd_record_as_of(const cfd_record *rec)
{
    /* The timeline is sorted, so its last entry is the latest event. */
    return rec->n_timeline > 0 ? rec->timeline[rec->n_timeline - 1].event_time_ms : 0;
}

/* ---- timeline --------------------------------------------------------------------- */

static bool absent(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* Orders events by (event time, event id): the total order every fold uses. */
static int event_order(int64_t ta, const char *ida, int64_t tb, const char *idb)
{
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp(ida, idb);
}

static bool timeline_has(const cfd_record *rec, const char *event_id)
{
    for (size_t i = 0; i < rec->n_timeline; i++)
        if (strcmp(rec->timeline[i].event_id, event_id) == 0)
            return true;
    return false;
}

/* Inserts ev at its sorted place; *pos tells where. */
static void timeline_insert(cfd_record *rec, const cfd_event *ev, size_t *pos)
{
    cfd_timeline_entry *grown;
    char *id = cfd_xstrdup(ev->event_id);
    size_t i = rec->n_timeline;

    grown = cfd_xrealloc(rec->timeline, (rec->n_timeline + 1) * sizeof(*grown));
    rec->timeline = grown;
    while (i > 0 && event_order(grown[i - 1].event_time_ms, grown[i - 1].event_id,
                                ev->event_time_ms, id) > 0)
        i--;
    memmove(&grown[i + 1], &grown[i], (rec->n_timeline - i) * sizeof(*grown));
    grown[i] = (cfd_timeline_entry){.milestone = ev->kind,
                                    .event_time_ms = ev->event_time_ms,
                                    .event_id = id,
                                    .source = ev->source};
    if (ev->kind == CFD_MS_APPOINTMENT_SET || ev->kind == CFD_MS_APPOINTMENT_RESCHEDULED) {
        grown[i].appointment_time_ms = ev->appointment.time_ms;
        grown[i].by_customer = ev->appointment.requested_by_customer;
    }
    if (ev->kind == CFD_MS_DIAGNOSED)
        grown[i].cause = ev->diagnosis.cause;
    if (ev->kind == CFD_MS_REPORTED)
        grown[i].full_interruption = ev->report.full_interruption;
    if (ev->kind == CFD_MS_SERVICE_RESTORED) {
        grown[i].workaround = ev->restoration.workaround;
        grown[i].due_ms =
            ev->restoration.workaround ? ev->restoration.permanent_fix_due_ms : 0;
    }
    if (ev->kind == CFD_MS_PART_REPLACED)
        grown[i].due_ms = ev->part_promised_at_ms;
    if (ev->kind == CFD_MS_COMPLAINT)
        grown[i].non_standard = ev->complaint.non_standard_work;
    if (ev->kind == CFD_MS_ACCEPTED)
        grown[i].named = !absent(ev->accept.issuing_unit);
    if (ev->kind == CFD_MS_DISPATCHED)
        grown[i].named = !absent(ev->dispatch.contractor);
    if (ev->kind == CFD_MS_CUSTOMER_ABSENT) {
        const cfd_visit_note_ref *n = &ev->visit.note;
        int64_t waited = n->leaving_time_ms - n->visit_time_ms;

        /* Without a visit time the wait starts at the arrival before it, which the
         * assessment finds in the timeline. */
        if (n->visit_time_ms > 0 && n->leaving_time_ms > 0)
            grown[i].waited_ms = waited > 0 ? waited : 1; /* 0 means unknown */
        else
            grown[i].left_at_ms = n->leaving_time_ms;
    }
    rec->n_timeline++;
    *pos = i;
}

/* Undoes timeline_insert(); the array keeps its capacity. */
static void timeline_remove(cfd_record *rec, size_t pos)
{
    free(rec->timeline[pos].event_id);
    memmove(&rec->timeline[pos], &rec->timeline[pos + 1],
            (rec->n_timeline - pos - 1) * sizeof(rec->timeline[0]));
    rec->n_timeline--;
}

static bool timeline_has_kind(const cfd_record *rec, cfd_milestone m)
{
    for (size_t i = 0; i < rec->n_timeline; i++)
        if (rec->timeline[i].milestone == m)
            return true;
    return false;
}

/* @returns true when the timeline has an entry of kind m that named its party (see
 * cfd_timeline_entry.named) sorting after ev (any such entry when ev is NULL). */
static bool named_after(const cfd_record *rec, cfd_milestone m, const cfd_event *ev)
{
    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];

        if (e->milestone == m && e->named &&
            (ev == NULL || event_order(e->event_time_ms, e->event_id, ev->event_time_ms,
                                       ev->event_id) > 0))
            return true;
    }
    return false;
}

static int64_t first_at(const cfd_record *rec, cfd_milestone m)
{
    for (size_t i = 0; i < rec->n_timeline; i++)
        if (rec->timeline[i].milestone == m)
            return rec->timeline[i].event_time_ms;
    return 0;
}

static int64_t last_at(const cfd_record *rec, cfd_milestone m)
{
    for (size_t i = rec->n_timeline; i > 0; i--)
        if (rec->timeline[i - 1].milestone == m)
            return rec->timeline[i - 1].event_time_ms;
    return 0;
}

/*
 * Folds the timeline through the lifecycle: the opening report first (whatever the
 * clocks of the other sources say), then every other entry in order. On an illegal
 * transition sets *bad to the entry's index and *bad_from to the state it met.
 * @returns CFD_OK with *out set, or CFD_ERR_TRANSITION.
 */
static cfd_err fold_state(const cfd_record *rec, cfd_state *out, size_t *bad,
                          cfd_state *bad_from)
{
    size_t open = 0;
    cfd_state s;

    while (open < rec->n_timeline && rec->timeline[open].milestone != CFD_MS_REPORTED)
        open++;
    if (open == rec->n_timeline) {
        *bad = 0;
        *bad_from = CFD_STATE_NONE;
        return CFD_ERR_TRANSITION;
    }
    s = cfd_lifecycle_next(CFD_STATE_NONE, CFD_MS_REPORTED);
    for (size_t i = 0; i < rec->n_timeline; i++) {
        cfd_milestone m = rec->timeline[i].milestone;

        if (i == open)
            continue;
        if (!cfd_lifecycle_is_valid(s, m)) {
            *bad = i;
            *bad_from = s;
            return CFD_ERR_TRANSITION;
        }
        s = cfd_lifecycle_next(s, m);
    }
    *out = s;
    return CFD_OK;
}

/* Kinds that carry the same payload fields; the latest event of a group sets them. */
static cfd_milestone payload_group(cfd_milestone m)
{
    switch (m) {
    case CFD_MS_APPOINTMENT_RESCHEDULED:
        return CFD_MS_APPOINTMENT_SET;
    default:
        return m;
    }
}

/* The visit note comes from the latest absence or waiver, whichever it is. */
static cfd_milestone note_group(cfd_milestone m)
{
    return m == CFD_MS_SIGNATURE_WAIVED ? CFD_MS_CUSTOMER_ABSENT : m;
}

/* @returns true when no entry of ev's group (by group()) sorts after ev. */
static bool latest_in(const cfd_record *rec, const cfd_event *ev,
                      cfd_milestone (*group)(cfd_milestone))
{
    cfd_milestone g = group(ev->kind);

    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];

        if (group(e->milestone) == g &&
            event_order(e->event_time_ms, e->event_id, ev->event_time_ms, ev->event_id) > 0)
            return false;
    }
    return true;
}

/* ---- staged changes: read against the record as it was, then committed together --- */

#define STAGE_MAX_STR 24

typedef struct stage {
    struct {
        char **dst;
        char *val;
    } str[STAGE_MAX_STR];
    size_t n_str;
    bool report;           /* the customer block below replaces the record's */
    cfd_customer customer; /* owned copies */
    bool arrival;          /* engineers and staff below replace the record's */
    char **engineers, **staff;
    size_t n_engineers, n_staff;
    char *alarm_id; /* to link, not yet in rec->linked_alarms */
    bool part;      /* rec->parts[n_parts] is staged: insert it at commit */
    int pause;      /* 0, or 1 + the index of the staged pause (n_pauses when new) */
    bool pause_side_paused, pause_side_resumed; /* which side the event sets */
} stage;

/* Stages *dst = copy of src; NULL and "" both stage NULL (absent). */
static void stage_str(stage *st, char **dst, const char *src)
{
    st->str[st->n_str].dst = dst;
    st->str[st->n_str].val = absent(src) ? NULL : cfd_xstrdup(src);
    st->n_str++;
}

/* Stages the string fields of ev's payload. */
static void stage_payload(stage *st, cfd_record *rec, const cfd_event *ev)
{
    switch (ev->kind) {
    case CFD_MS_REPORTED:
        /* An operator who accepted the order for another unit said so: that wins. */
        if (!named_after(rec, CFD_MS_ACCEPTED, NULL))
            stage_str(st, &rec->issuing_unit, ev->report.issuing_unit);
        st->report = true;
        cfd_customer_copy(&st->customer, &ev->report.customer);
        stage_str(st, &rec->circuit_id, ev->report.circuit_id);
        stage_str(st, &rec->access_point, ev->report.access_point);
        stage_str(st, &rec->equipment, ev->report.equipment);
        stage_str(st, &rec->problem_description, ev->report.problem_description);
        /* The service's own link (REPEAT_FAULT) wins over a caller's, whatever the
         * arrival order: a report sets it only while the timeline has none. */
        if (!timeline_has_kind(rec, CFD_MS_REPEAT_FAULT))
            stage_str(st, &rec->previous_work_order, ev->report.previous_work_order);
        stage_str(st, &rec->alarm_object, ev->report.alarm_object);
        break;
    case CFD_MS_ARRIVED_ON_SITE:
        st->arrival = true;
        st->engineers =
            cfd_strv_dup(ev->arrival.engineers, ev->arrival.n_engineers, &st->n_engineers);
        st->staff = cfd_strv_dup(ev->arrival.assisting_staff, ev->arrival.n_assisting_staff,
                                 &st->n_staff);
        break;
    case CFD_MS_DIAGNOSED:
        stage_str(st, &rec->cause_other, ev->diagnosis.cause_other);
        stage_str(st, &rec->onsite_findings, ev->diagnosis.onsite_findings);
        break;
    case CFD_MS_SERVICE_RESTORED:
        stage_str(st, &rec->result_other, ev->restoration.result_other);
        break;
    case CFD_MS_CONFIRMATION_SIGNED:
        stage_str(st, &rec->customer_opinion, ev->signature.customer_opinion);
        stage_str(st, &rec->customer_signature, ev->signature.customer_signature);
        stage_str(st, &rec->engineer_signature, ev->signature.engineer_signature);
        stage_str(st, &rec->corrective_actions, ev->signature.corrective_actions);
        stage_str(st, &rec->suggestions, ev->signature.suggestions);
        break;
    case CFD_MS_CANCELLED:
        stage_str(st, &rec->cancel_reason, ev->change.reason);
        break;
    case CFD_MS_SIGNATURE_WAIVED:
        stage_str(st, &rec->signature_waiver_detail, ev->visit.detail);
        break;
    case CFD_MS_EVENT_REPORT_SUBMITTED:
        stage_str(st, &rec->event_report_id, ev->event_report.report_id);
        break;
    case CFD_MS_REPEAT_FAULT:
        stage_str(st, &rec->previous_work_order, ev->repeat.previous_work_order);
        break;
    default:
        break;
    }
}

/* Makes room for one more element of an array of n (capacity is exactly n). */
static void *grow_one(void *arr, size_t n, size_t size)
{
    void *grown = cfd_xrealloc(arr, (n + 1) * size);

    memset((char *)grown + n * size, 0, size);
    return grown;
}

/* Stages the part of ev in the spare slot rec->parts[n_parts]. */
static void stage_part(stage *st, cfd_record *rec, const cfd_event *ev)
{
    cfd_part_record *slot;

    rec->parts = grow_one(rec->parts, rec->n_parts, sizeof(*rec->parts));
    slot = &rec->parts[rec->n_parts];
    st->part = true;
    stage_str(st, &slot->event_id, ev->event_id);
    stage_str(st, &slot->name, ev->part.name);
    stage_str(st, &slot->material_number, ev->part.material_number);
    stage_str(st, &slot->serial_number, ev->part.serial_number);
    stage_str(st, &slot->preliminary_cause, ev->part.preliminary_cause);
    stage_str(st, &slot->supplier_name, ev->part.supplier_name);
    stage_str(st, &slot->description, ev->part.description);
}

static int64_t entry_time(const cfd_record *rec, const char *event_id)
{
    for (size_t i = 0; event_id != NULL && i < rec->n_timeline; i++)
        if (strcmp(rec->timeline[i].event_id, event_id) == 0)
            return rec->timeline[i].event_time_ms;
    return 0;
}

/* @returns true when ev sorts after the event named by event_id (or there is none). */
static bool later_than(const cfd_record *rec, const cfd_event *ev, const char *event_id)
{
    if (event_id == NULL)
        return true;
    return event_order(ev->event_time_ms, ev->event_id, entry_time(rec, event_id),
                       event_id) > 0;
}

/* Stages the merge of a ClockPaused / ClockResumed into its pause, new or known. */
static void stage_pause(stage *st, cfd_record *rec, const cfd_event *ev)
{
    size_t i = 0;
    cfd_pause *p;

    while (i < rec->n_pauses && strcmp(rec->pauses[i].pause_id, ev->pause.pause_id) != 0)
        i++;
    if (i == rec->n_pauses) {
        rec->pauses = grow_one(rec->pauses, rec->n_pauses, sizeof(*rec->pauses));
        stage_str(st, &rec->pauses[i].pause_id, ev->pause.pause_id);
    }
    p = &rec->pauses[i];
    st->pause = (int)i + 1;
    if (ev->kind == CFD_MS_CLOCK_PAUSED && later_than(rec, ev, p->paused_event_id)) {
        st->pause_side_paused = true;
        stage_str(st, &p->reported_by, ev->reported_by);
        stage_str(st, &p->evidence, ev->pause.evidence);
        stage_str(st, &p->paused_event_id, ev->event_id);
    }
    if (ev->kind == CFD_MS_CLOCK_RESUMED && later_than(rec, ev, p->resumed_event_id)) {
        st->pause_side_resumed = true;
        stage_str(st, &p->resumed_event_id, ev->event_id);
    }
}

/* Moves the staged part (the spare slot) to its sorted place. */
static void commit_part(cfd_record *rec, const cfd_event *ev)
{
    cfd_part_record p = rec->parts[rec->n_parts];
    size_t i = rec->n_parts;

    p.handled_at_ms = ev->event_time_ms;
    p.quantity = ev->part.quantity > 0 ? ev->part.quantity : 1;
    p.category = ev->part.category;
    p.fault_types = ev->part.fault_types;
    p.responsible = ev->part.responsible;
    p.manufactured_on = 0;
    p.age_in_service_days = 0;
    while (i > 0 && event_order(rec->parts[i - 1].handled_at_ms, rec->parts[i - 1].event_id,
                                p.handled_at_ms, p.event_id) > 0) {
        rec->parts[i] = rec->parts[i - 1];
        i--;
    }
    rec->parts[i] = p;
    rec->n_parts++;
}

/* Sets the staged pause's scalars and moves a new one to its sorted place. */
static void commit_pause(stage *st, cfd_record *rec, const cfd_event *ev)
{
    size_t i = (size_t)(st->pause - 1);
    cfd_pause p = rec->pauses[i];

    if (st->pause_side_paused) {
        p.reason = ev->pause.reason;
        p.metrics = ev->pause.metrics;
        p.start_ms = ev->pause.start_ms > 0 ? ev->pause.start_ms : ev->event_time_ms;
    }
    if (st->pause_side_resumed)
        p.end_ms = ev->pause.end_ms > 0 ? ev->pause.end_ms : ev->event_time_ms;
    if (i < rec->n_pauses) {
        rec->pauses[i] = p;
        return;
    }
    while (i > 0 && strcmp(rec->pauses[i - 1].pause_id, p.pause_id) > 0) {
        rec->pauses[i] = rec->pauses[i - 1];
        i--;
    }
    rec->pauses[i] = p;
    rec->n_pauses++;
}

static bool alarm_linked(const cfd_record *rec, const char *alarm_id)
{
    for (size_t i = 0; i < rec->n_linked_alarms; i++)
        if (strcmp(rec->linked_alarms[i], alarm_id) == 0)
            return true;
    return false;
}

/* Stages the link of a new alarm id; grows rec->linked_alarms' capacity already. */
static void stage_alarm(stage *st, cfd_record *rec, const char *alarm_id)
{
    if (alarm_linked(rec, alarm_id))
        return;
    rec->linked_alarms = cfd_xrealloc(rec->linked_alarms, (rec->n_linked_alarms + 1) *
                                                              sizeof(*rec->linked_alarms));
    st->alarm_id = cfd_xstrdup(alarm_id);
}

/* Moves the staged values into rec; the stage owns nothing afterwards. */
static void stage_commit(stage *st, cfd_record *rec)
{
    for (size_t i = 0; i < st->n_str; i++) {
        free(*st->str[i].dst);
        *st->str[i].dst = st->str[i].val;
    }
    if (st->report) {
        cfd_customer_clear(&rec->customer);
        rec->customer = st->customer;
    }
    if (st->arrival) {
        cfd_strv_free(rec->engineers, rec->n_engineers);
        cfd_strv_free(rec->assisting_staff, rec->n_assisting_staff);
        rec->engineers = st->engineers;
        rec->n_engineers = st->n_engineers;
        rec->assisting_staff = st->staff;
        rec->n_assisting_staff = st->n_staff;
    }
    if (st->alarm_id != NULL) {
        size_t i = rec->n_linked_alarms;

        while (i > 0 && strcmp(rec->linked_alarms[i - 1], st->alarm_id) > 0) {
            rec->linked_alarms[i] = rec->linked_alarms[i - 1];
            i--;
        }
        rec->linked_alarms[i] = st->alarm_id;
        rec->n_linked_alarms++;
    }
}

/* Sets the non-string fields of ev's payload (ev is the latest of its group). */
static void set_payload_scalars(cfd_record *rec, const cfd_event *ev)
{
    switch (ev->kind) {
    case CFD_MS_REPORTED:
        rec->urgency = ev->report.urgency;
        rec->special = ev->report.special;
        rec->terminal_complaint = ev->report.terminal_complaint;
        break;
    case CFD_MS_SIGNATURE_WAIVED:
        rec->signature_waiver = ev->visit.reason;
        break;
    case CFD_MS_APPOINTMENT_RESCHEDULED:
    case CFD_MS_APPOINTMENT_SET:
        rec->appointment_time_ms = ev->appointment.time_ms;
        rec->appointment_by_customer = ev->appointment.requested_by_customer;
        break;
    case CFD_MS_DIAGNOSED:
        rec->cause = ev->diagnosis.cause;
        break;
    case CFD_MS_SERVICE_RESTORED:
        rec->result = ev->restoration.result;
        rec->workaround = ev->restoration.workaround;
        rec->remote_restoration = ev->restoration.remote;
        break;
    case CFD_MS_CONFIRMATION_SIGNED:
        rec->satisfaction = ev->signature.satisfaction;
        break;
    case CFD_MS_CLOSED:
        rec->service_end_time_ms = ev->close.service_end_time_ms > 0
                                       ? ev->close.service_end_time_ms
                                       : ev->event_time_ms;
        break;
    default:
        break;
    }
}

/* Times and counts that come from the timeline alone. */
static void derive_from_timeline(cfd_record *rec)
{
    bool absent = false;

    rec->reported_at_ms = first_at(rec, CFD_MS_REPORTED);
    rec->accepted_at_ms = first_at(rec, CFD_MS_ACCEPTED);
    rec->arrival_time_ms = first_at(rec, CFD_MS_ARRIVED_ON_SITE);
    rec->customer_signed_at_ms = last_at(rec, CFD_MS_CONFIRMATION_SIGNED);
    rec->diagnosed_at_ms = first_at(rec, CFD_MS_DIAGNOSED);
    rec->restored_at_ms = first_at(rec, CFD_MS_SERVICE_RESTORED);
    rec->event_report_at_ms = first_at(rec, CFD_MS_EVENT_REPORT_SUBMITTED);
    rec->customer_absences = 0;
    rec->reschedules = 0;
    rec->priority_appointment = false;
    rec->full_interruption = false;
    for (size_t i = 0; i < rec->n_timeline; i++) {
        cfd_milestone m = rec->timeline[i].milestone;

        rec->full_interruption |= rec->timeline[i].full_interruption;

        if (m == CFD_MS_CUSTOMER_ABSENT) {
            rec->customer_absences++;
            absent = true;
        }
        if (m == CFD_MS_APPOINTMENT_RESCHEDULED)
            rec->reschedules++;
        /* The second appointment after an absence is handled first (应优先处理). */
        if (absent && (m == CFD_MS_APPOINTMENT_SET || m == CFD_MS_APPOINTMENT_RESCHEDULED))
            rec->priority_appointment = true;
    }
    rec->version = (uint32_t)rec->n_timeline;
}

/* Sets the visit note from ev, the latest absence or waiver. */
static void set_visit_note_scalars(cfd_record *rec, const cfd_event *ev)
{
    rec->visit_note.visit_time_ms = ev->visit.note.visit_time_ms;
    rec->visit_note.leaving_time_ms = ev->visit.note.leaving_time_ms;
}

/* Part ages depend on the policy's serial format, so they are derived with the SLA. */
static void derive_part_ages(cfd_record *rec, const cfd_policy *pol)
{
    for (size_t i = 0; i < rec->n_parts; i++) {
        cfd_part_record *p = &rec->parts[i];
        int32_t age;

        p->manufactured_on = cfd_part_serial_date(p->serial_number, pol->serial_date);
        age = cfd_part_age_days(p->manufactured_on, p->handled_at_ms);
        if (age < 0) /* made after it was handled: the serial's date is wrong */
            p->manufactured_on = 0;
        p->age_in_service_days = age < 0 ? 0 : age;
    }
}

/* Under another policy than the record was opened with, the record keeps the targets
 * it was judged by (a registry of versions would give back all the figures). */
const cfd_policy *cfd_record_pinned_policy(const cfd_record *rec, const cfd_policy *pol,
                                           cfd_policy *scratch)
{
    cfd_sla_limits *lim;
    int k = rec->special ? CFD_SPECIAL : CFD_ORDINARY;

    if (rec->policy_version == NULL || strcmp(rec->policy_version, pol->version) == 0)
        return pol;
    *scratch = *pol;
    lim = (cfd_sla_limits *)cfd_policy_limits(scratch, cfd_sla_duty_tier(rec), rec->urgency,
                                              NULL);
    if (rec->sla[CFD_METRIC_CONTACT].target_ms > 0)
        lim->contact_ms = rec->sla[CFD_METRIC_CONTACT].target_ms;
    if (rec->sla[CFD_METRIC_ON_SITE].target_ms > 0)
        lim->onsite_ms = rec->sla[CFD_METRIC_ON_SITE].target_ms;
    if (rec->sla[CFD_METRIC_RESTORATION].target_ms > 0)
        lim->restoration_ms = rec->sla[CFD_METRIC_RESTORATION].target_ms;
    if (rec->sla[CFD_METRIC_CAUSE_IDENTIFIED].target_ms > 0)
        scratch->cause_ms[k] = rec->sla[CFD_METRIC_CAUSE_IDENTIFIED].target_ms;
    if (rec->sla[CFD_METRIC_EVENT_REPORT].target_ms > 0)
        scratch->event_report_ms[k] = rec->sla[CFD_METRIC_EVENT_REPORT].target_ms;
    return scratch;
}

/* Everything judged rather than recorded: part ages, SLA results, violations. */
static void judge(cfd_record *rec, const cfd_policy *pol)
{
    derive_part_ages(rec, pol);
    cfd_sla_update(rec, pol);
    cfd_assessment_judge(rec, pol);
}

cfd_err cfd_record_reevaluate(cfd_record *rec, const cfd_policy *pol)
{
    if (rec == NULL || pol == NULL)
        return CFD_ERR;
    free(rec->policy_version);
    rec->policy_version = cfd_xstrdup(pol->version);
    if (rec->state != CFD_STATE_NONE)
        judge(rec, pol);
    return CFD_OK;
}

static cfd_err fail(cfd_err err, char *errstr, size_t errstr_size, const char *msg)
{
    if (errstr != NULL && errstr_size > 0)
        snprintf(errstr, errstr_size, "%s", msg);
    return err;
}

/* Says which transition failed; names the later event when the new one broke it. */
static void describe_transition(const cfd_record *rec, size_t bad, size_t pos,
                                cfd_state from, char *errstr, size_t errstr_size)
{
    const cfd_timeline_entry *e = &rec->timeline[bad];

    if (errstr == NULL || errstr_size == 0)
        return;
    if (bad == pos)
        snprintf(errstr, errstr_size, "%s -> %s", cfd_state_name(from),
                 cfd_milestone_name(e->milestone));
    else
        snprintf(errstr, errstr_size, "%s -> %s at later event %s", cfd_state_name(from),
                 cfd_milestone_name(e->milestone), e->event_id);
}

cfd_err cfd_record_apply(cfd_record *rec, const cfd_event *ev, const cfd_policy *pol,
                         cfd_apply_outcome *outcome, char *errstr, size_t errstr_size)
{
    stage st = {0};
    cfd_apply_outcome ignored;
    cfd_state next = CFD_STATE_NONE, bad_from;
    size_t pos, bad;
    bool opening, latest, note_latest;
    cfd_policy pinned;
    cfd_err err;

    if (outcome == NULL)
        outcome = &ignored;
    if ((err = cfd_event_validate(ev, errstr, errstr_size)))
        return err;
    if (pol == NULL)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size, "missing policy");
    if (rec->work_order != NULL && strcmp(rec->work_order, ev->work_order) != 0)
        return fail(CFD_ERR_INVALID_VALUE, errstr, errstr_size,
                    "work_order does not match the record");
    if (timeline_has(rec, ev->event_id)) {
        *outcome = CFD_APPLY_DUPLICATE;
        return CFD_OK;
    }
    opening = rec->state == CFD_STATE_NONE;
    if (opening && !cfd_event_opens_order(ev)) {
        *outcome = CFD_APPLY_PARK;
        return CFD_OK;
    }

    timeline_insert(rec, ev, &pos);
    if (fold_state(rec, &next, &bad, &bad_from)) {
        describe_transition(rec, bad, pos, bad_from, errstr, errstr_size);
        timeline_remove(rec, pos);
        /* In an open order the failure means a milestone it needs (the visit before a
         * signature, the restoration before a close) has not arrived yet: it may still
         * come, so park rather than reject. A closed or cancelled order is final. */
        if (bad_from == CFD_STATE_CLOSED || bad_from == CFD_STATE_CANCELLED)
            return CFD_ERR_TRANSITION;
        *outcome = CFD_APPLY_PARK;
        return CFD_OK;
    }

    latest = latest_in(rec, ev, payload_group);
    note_latest =
        (ev->kind == CFD_MS_CUSTOMER_ABSENT || ev->kind == CFD_MS_SIGNATURE_WAIVED) &&
        latest_in(rec, ev, note_group);
    if (latest)
        stage_payload(&st, rec, ev);
    /* Each milestone sets only what it carries: the issuing unit comes from the latest
     * acceptance that names one, the contractor from the latest dispatch that names
     * one, not from the latest of their kind, which may name none. */
    if (ev->kind == CFD_MS_ACCEPTED && !absent(ev->accept.issuing_unit) &&
        !named_after(rec, CFD_MS_ACCEPTED, ev))
        stage_str(&st, &rec->issuing_unit, ev->accept.issuing_unit);
    if (ev->kind == CFD_MS_DISPATCHED && !absent(ev->dispatch.contractor) &&
        !named_after(rec, CFD_MS_DISPATCHED, ev))
        stage_str(&st, &rec->contractor, ev->dispatch.contractor);
    if (note_latest)
        stage_str(&st, &rec->visit_note.contact, ev->visit.note.contact);
    if (ev->kind == CFD_MS_PART_REPLACED)
        stage_part(&st, rec, ev);
    if (ev->kind == CFD_MS_CLOCK_PAUSED || ev->kind == CFD_MS_CLOCK_RESUMED)
        stage_pause(&st, rec, ev);
    if (opening) {
        stage_str(&st, &rec->work_order, ev->work_order);
        stage_str(&st, &rec->policy_version, pol->version);
    }
    if (ev->kind == CFD_MS_ALARM)
        stage_alarm(&st, rec, ev->alarm.alarm_id);

    stage_commit(&st, rec);
    if (latest)
        set_payload_scalars(rec, ev);
    if (note_latest)
        set_visit_note_scalars(rec, ev);
    if (st.part)
        commit_part(rec, ev);
    if (st.pause)
        commit_pause(&st, rec, ev);
    /* Min over uncleared alarms: commutative, so it needs no per-entry flag. */
    if (ev->kind == CFD_MS_ALARM && !ev->alarm.cleared &&
        (rec->first_alarm_at_ms == 0 || ev->event_time_ms < rec->first_alarm_at_ms))
        rec->first_alarm_at_ms = ev->event_time_ms;
    derive_from_timeline(rec);
    rec->state = next;
    judge(rec, opening ? pol : cfd_record_pinned_policy(rec, pol, &pinned));
    *outcome = CFD_APPLY_CHANGED;
    return CFD_OK;
}

cfd_err cfd_record_offer(cfd_record **rec, const cfd_event *ev, const cfd_policy *pol,
                         cfd_apply_outcome *outcome, bool *opened, char *errstr,
                         size_t errstr_size)
{
    cfd_err err = CFD_OK;

    *opened = !*rec && cfd_event_opens_order(ev);
    *outcome = CFD_APPLY_PARK;
    if (*opened)
        *rec = cfd_record_new();
    if (!*rec) {
        snprintf(errstr, errstr_size, "work order not open yet");
        return CFD_OK;
    }
    err = cfd_record_apply(*rec, ev, pol, outcome, errstr, errstr_size);
    if ((*rec)->state == CFD_STATE_NONE) { /* the opening event was refused */
        cfd_record_destroy(*rec);
        *rec = NULL;
        *opened = false;
    }
    return err;
}

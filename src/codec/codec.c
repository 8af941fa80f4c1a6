/*
 * Protobuf <-> domain: input events, the state kept in Redis, emitted records,
 * alerts, incidents and dead letters.
 *
 * Domain enums carry the protobuf values, so conversion is by value; what comes
 * from the wire is range-checked against the enum descriptors first, so the core
 * never sees a value it cannot index with.
 */
#include <openssl/sha.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/text.h"
#include "confirmd/v1/alert.pb-c.h"
#include "confirmd/v1/events.pb-c.h"
#include "confirmd/v1/incident.pb-c.h"
#include "confirmd/v1/record.pb-c.h"

/* Message nesting never goes deeper than this in the schema. */
#define CODEC_MAX_DEPTH 16

/* proto3 cannot tell "" from absent; the domain uses NULL for absent. */
const char *codec_opt(const char *s)
{
    return s && *s ? s : NULL;
}

char *codec_pb_str(const char *s)
{
    return (char *)(s ? s : "");
}

void codec_customer_from_pb(const Confirmd__V1__Customer *c, cfd_customer *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    out->name = codec_opt(c->name);
    out->contact_person = codec_opt(c->contact_person);
    out->contact_phone = codec_opt(c->contact_phone);
    out->address = codec_opt(c->address);
    out->affected_service = codec_opt(c->affected_service);
    out->city = codec_opt(c->city);
    out->customer_id = codec_opt(c->customer_id);
    out->tier = (cfd_tier)c->tier;
    out->gold = c->gold;
    out->importance = (cfd_importance)c->importance;
    out->diamond = c->diamond;
    out->cross_city_rental = c->cross_city_rental;
}

void codec_customer_to_pb(const cfd_customer *c, Confirmd__V1__Customer *out)
{
    confirmd__v1__customer__init(out);
    out->name = codec_pb_str(c->name);
    out->contact_person = codec_pb_str(c->contact_person);
    out->contact_phone = codec_pb_str(c->contact_phone);
    out->address = codec_pb_str(c->address);
    out->affected_service = codec_pb_str(c->affected_service);
    out->tier = (Confirmd__V1__Tier)c->tier;
    out->gold = c->gold;
    out->city = codec_pb_str(c->city);
    out->customer_id = codec_pb_str(c->customer_id);
    out->importance = (Confirmd__V1__Importance)c->importance;
    out->diamond = c->diamond;
    out->cross_city_rental = c->cross_city_rental;
}

char *codec_dup(const char *s)
{
    return cfd_text_dup(codec_opt(s));
}

char **codec_dupv(char *const *src, size_t n, size_t *n_out)
{
    return cfd_strv_dup((const char *const *)src, n, n_out);
}

/* ---- value checks ---------------------------------------------------------------- */

/* One walk of codec_values_valid: what it checks, and whether it says where a check
 * failed. The path of a field is formatted only when reporting: the walk that finds
 * nothing wrong (nearly every one) costs no snprintf per field. */
typedef struct codec_walk {
    codec_check what;
    bool report;
    char *errstr;
    size_t errstr_size;
} codec_walk;

static bool codec_walk_message(codec_walk *w, const ProtobufCMessage *m, const char *path,
                               int depth);

/* @returns true when the value of field f at elem is good; otherwise false, with
 * errstr naming path when reporting. */
static bool codec_walk_value(codec_walk *w, const ProtobufCFieldDescriptor *f,
                             const void *elem, const char *path, int depth)
{
    if (f->type == PROTOBUF_C_TYPE_ENUM) {
        int32_t v = *(const int32_t *)elem;
        if (protobuf_c_enum_descriptor_get_value(f->descriptor, v))
            return true;
        if (w->report)
            snprintf(w->errstr, w->errstr_size, "%s: %d is not a %s", path, (int)v,
                     ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
        return false;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *v = *(const char *const *)elem;
        if (w->what != CODEC_CHECK_TEXT || !v || cfd_utf8_valid(v, strlen(v)))
            return true;
        if (w->report)
            snprintf(w->errstr, w->errstr_size, "%s: not valid UTF-8", path);
        return false;
    }
    const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)elem;
    return !sub || codec_walk_message(w, sub, path, depth + 1);
}

static bool codec_walk_message(codec_walk *w, const ProtobufCMessage *m, const char *path,
                               int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (depth > CODEC_MAX_DEPTH)
        return true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const uint8_t *member = (const uint8_t *)m + f->offset;
        const uint8_t *quant = (const uint8_t *)m + f->quantifier_offset;
        if (f->type != PROTOBUF_C_TYPE_ENUM && f->type != PROTOBUF_C_TYPE_MESSAGE &&
            f->type != PROTOBUF_C_TYPE_STRING)
            continue;
        if (f->type == PROTOBUF_C_TYPE_STRING && w->what != CODEC_CHECK_TEXT)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)quant != f->id)
            continue;

        bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
        size_t n = repeated ? *(const size_t *)quant : 1;
        const uint8_t *base = repeated ? *(const uint8_t *const *)member : member;
        size_t size = f->type == PROTOBUF_C_TYPE_ENUM ? sizeof(int32_t) : sizeof(void *);
        for (size_t k = 0; k < n; k++) {
            /* "a.b" or "a.b[k]"; a path cut to fit still names the field well enough. */
            char fpath[256];
            if (w->report) {
                int len = snprintf(fpath, sizeof fpath, "%s%s%s", path, *path ? "." : "",
                                   f->name);
                if (repeated && len >= 0 && (size_t)len < sizeof fpath)
                    snprintf(fpath + len, sizeof fpath - (size_t)len, "[%zu]", k);
            }
            if (!codec_walk_value(w, f, base + k * size, w->report ? fpath : path, depth))
                return false;
        }
    }
    return true;
}

bool codec_values_valid(const ProtobufCMessage *m, codec_check what, char *errstr,
                        size_t errstr_size)
{
    codec_walk w = {what, false, errstr, errstr_size};
    if (codec_walk_message(&w, m, "", 0))
        return true;
    /* Walk again to say where: the cost of the path is paid only for bad input. */
    w.report = true;
    codec_walk_message(&w, m, "", 0);
    return false;
}

/* ---- events ---------------------------------------------------------------------- */

/* Copies the non-empty strings of src into dst (borrowed); @returns how many. */
static size_t codec_strv_fill(const char **dst, char *const *src, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (codec_opt(src[i]))
            dst[k++] = src[i];
    return k;
}

static void codec_note_in(const Confirmd__V1__VisitNote *n, cfd_visit_note_ref *out)
{
    if (!n)
        return;
    out->visit_time_ms = n->visit_time_ms;
    out->leaving_time_ms = n->leaving_time_ms;
    out->contact = codec_opt(n->contact);
}

/* Repeated Metric -> bits 1u << metric (range-checked by codec_values_valid). */
static uint32_t codec_metric_bits(const Confirmd__V1__Metric *v, size_t n)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > 0 && v[i] < 32)
            bits |= 1u << v[i];
    return bits;
}

/* Maps the payload of pb into de->ev. */
static void codec_event_payload(const Confirmd__V1__Event *pb, cfd_decoded_event *de)
{
    cfd_event *ev = &de->ev;

    switch (pb->payload_case) {
    case CONFIRMD__V1__EVENT__PAYLOAD_FAULT_REPORT: {
        const Confirmd__V1__FaultReport *r = pb->fault_report;
        ev->kind = CFD_MS_REPORTED;
        ev->report.issuing_unit = codec_opt(r->issuing_unit);
        ev->report.problem_description = codec_opt(r->problem_description);
        ev->report.urgency = (cfd_urgency)r->urgency;
        ev->report.special = r->special;
        ev->report.previous_work_order = codec_opt(r->previous_work_order);
        ev->report.alarm_object = codec_opt(r->alarm_object);
        ev->report.full_interruption = r->full_interruption;
        ev->report.terminal_complaint = r->terminal_complaint;
        codec_customer_from_pb(r->customer, &ev->report.customer);
        if (r->network) {
            ev->report.circuit_id = codec_opt(r->network->circuit_id);
            ev->report.access_point = codec_opt(r->network->access_point);
            ev->report.equipment = codec_opt(r->network->equipment);
        }
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_ACCEPTED:
        ev->kind = CFD_MS_ACCEPTED;
        ev->accept.issuing_unit = codec_opt(pb->accepted->issuing_unit);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_DISPATCHED:
        ev->kind = CFD_MS_DISPATCHED;
        ev->dispatch.contractor = codec_opt(pb->dispatched->contractor);
        ev->dispatch.engineer_id = codec_opt(pb->dispatched->engineer_id);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_ENGINEER_ACCEPTED:
        ev->kind = CFD_MS_ENGINEER_ACCEPTED;
        ev->dispatch.engineer_id = codec_opt(pb->engineer_accepted->engineer_id);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_CUSTOMER_CONTACTED:
        ev->kind = CFD_MS_CUSTOMER_CONTACTED;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_APPOINTMENT_SET:
        ev->kind = CFD_MS_APPOINTMENT_SET;
        ev->appointment.time_ms = pb->appointment_set->appointment_time_ms;
        ev->appointment.requested_by_customer = pb->appointment_set->requested_by_customer;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_DEPARTED:
        ev->kind = CFD_MS_DEPARTED;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_ARRIVED_ON_SITE: {
        const Confirmd__V1__ArrivedOnSite *a = pb->arrived_on_site;
        ev->kind = CFD_MS_ARRIVED_ON_SITE;
        size_t total = a->n_engineers + a->n_assisting_staff;
        if (total == 0)
            break;
        de->strv = cfd_xmalloc(total * sizeof *de->strv);
        ev->arrival.engineers = de->strv;
        ev->arrival.n_engineers = codec_strv_fill(de->strv, a->engineers, a->n_engineers);
        const char **staff = de->strv + ev->arrival.n_engineers;
        ev->arrival.assisting_staff = staff;
        ev->arrival.n_assisting_staff =
            codec_strv_fill(staff, a->assisting_staff, a->n_assisting_staff);
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_DIAGNOSED:
        ev->kind = CFD_MS_DIAGNOSED;
        ev->diagnosis.cause = (cfd_cause)pb->diagnosed->cause;
        ev->diagnosis.cause_other = codec_opt(pb->diagnosed->cause_other);
        ev->diagnosis.onsite_findings = codec_opt(pb->diagnosed->onsite_findings);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_SERVICE_RESTORED:
        ev->kind = CFD_MS_SERVICE_RESTORED;
        ev->restoration.result = (cfd_result)pb->service_restored->result;
        ev->restoration.result_other = codec_opt(pb->service_restored->result_other);
        ev->restoration.workaround = pb->service_restored->workaround;
        ev->restoration.remote = pb->service_restored->remote;
        ev->restoration.permanent_fix_due_ms = pb->service_restored->permanent_fix_due_ms;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_CONFIRMATION_SIGNED: {
        const Confirmd__V1__ConfirmationSigned *s = pb->confirmation_signed;
        ev->kind = CFD_MS_CONFIRMATION_SIGNED;
        ev->signature.customer_opinion = codec_opt(s->customer_opinion);
        ev->signature.customer_signature = codec_opt(s->customer_signature);
        ev->signature.engineer_signature = codec_opt(s->engineer_signature);
        ev->signature.corrective_actions = codec_opt(s->corrective_actions);
        ev->signature.satisfaction = s->satisfaction;
        ev->signature.suggestions = codec_opt(s->suggestions);
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_CLOSED:
        ev->kind = CFD_MS_CLOSED;
        ev->close.service_end_time_ms = pb->closed->service_end_time_ms;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_CANCELLED:
        ev->kind = CFD_MS_CANCELLED;
        ev->change.reason = codec_opt(pb->cancelled->reason);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_REOPENED:
        ev->kind = CFD_MS_REOPENED;
        ev->change.reason = codec_opt(pb->reopened->reason);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_NOC_ALARM: {
        const Confirmd__V1__NocAlarm *a = pb->noc_alarm;
        ev->kind = CFD_MS_ALARM;
        ev->alarm.alarm_id = codec_opt(a->alarm_id);
        ev->alarm.network_object = codec_opt(a->network_object);
        ev->alarm.severity = (cfd_alarm_severity)a->severity;
        ev->alarm.cleared = a->cleared;
        ev->alarm.text = codec_opt(a->text);
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_APPOINTMENT_RESCHEDULED: {
        const Confirmd__V1__AppointmentRescheduled *a = pb->appointment_rescheduled;
        ev->kind = CFD_MS_APPOINTMENT_RESCHEDULED;
        ev->appointment.time_ms = a->appointment_time_ms;
        ev->appointment.requested_by_customer = a->requested_by_customer;
        ev->appointment.reason = codec_opt(a->reason);
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_CUSTOMER_ABSENT:
        ev->kind = CFD_MS_CUSTOMER_ABSENT;
        codec_note_in(pb->customer_absent->note, &ev->visit.note);
        ev->visit.note_left = pb->customer_absent->note_left;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_SIGNATURE_WAIVED:
        ev->kind = CFD_MS_SIGNATURE_WAIVED;
        codec_note_in(pb->signature_waived->note, &ev->visit.note);
        ev->visit.reason = (cfd_waiver)pb->signature_waived->reason;
        ev->visit.detail = codec_opt(pb->signature_waived->detail);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_PART_REPLACED: {
        const Confirmd__V1__Part *pt = pb->part_replaced->part;
        ev->kind = CFD_MS_PART_REPLACED;
        ev->part_promised_at_ms = pb->part_replaced->promised_at_ms;
        if (!pt)
            break; /* cfd_event_validate names the missing part name */
        ev->part.name = codec_opt(pt->name);
        ev->part.material_number = codec_opt(pt->material_number);
        ev->part.serial_number = codec_opt(pt->serial_number);
        ev->part.quantity = pt->quantity;
        ev->part.category = (cfd_equipment_category)pt->category;
        for (size_t i = 0; i < pt->n_fault_types; i++)
            if (pt->fault_types[i] > 0 && pt->fault_types[i] < 32)
                ev->part.fault_types |= CFD_PART_FAULT_BIT(pt->fault_types[i]);
        ev->part.preliminary_cause = codec_opt(pt->preliminary_cause);
        ev->part.responsible = (cfd_responsible)pt->responsible;
        ev->part.supplier_name = codec_opt(pt->supplier_name);
        ev->part.description = codec_opt(pt->description);
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_CLOCK_PAUSED: {
        const Confirmd__V1__ClockPaused *c = pb->clock_paused;
        ev->kind = CFD_MS_CLOCK_PAUSED;
        ev->pause.pause_id = codec_opt(c->pause_id);
        ev->pause.reason = (cfd_pause_reason)c->reason;
        ev->pause.evidence = codec_opt(c->evidence);
        ev->pause.start_ms = c->start_ms;
        ev->pause.metrics = codec_metric_bits(c->metrics, c->n_metrics);
        break;
    }
    case CONFIRMD__V1__EVENT__PAYLOAD_CLOCK_RESUMED:
        ev->kind = CFD_MS_CLOCK_RESUMED;
        ev->pause.pause_id = codec_opt(pb->clock_resumed->pause_id);
        ev->pause.end_ms = pb->clock_resumed->end_ms;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_COMPLAINT:
        ev->kind = CFD_MS_COMPLAINT;
        ev->complaint.reason = codec_opt(pb->complaint->reason);
        ev->complaint.non_standard_work = pb->complaint->non_standard_work;
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_REPEAT_FAULT:
        ev->kind = CFD_MS_REPEAT_FAULT;
        ev->repeat.previous_work_order = codec_opt(pb->repeat_fault->previous_work_order);
        break;
    case CONFIRMD__V1__EVENT__PAYLOAD_EVENT_REPORT_SUBMITTED:
        ev->kind = CFD_MS_EVENT_REPORT_SUBMITTED;
        ev->event_report.report_id = codec_opt(pb->event_report_submitted->report_id);
        break;
    default: /* no payload: cfd_event_validate names it */
        ev->kind = CFD_MS_NONE;
        break;
    }
}

cfd_err cfd_codec_event_decode(const void *buf, size_t len, cfd_decoded_event *out,
                               char *errstr, size_t errstr_size)
{
    cfd_err err;

    memset(out, 0, sizeof *out);
    Confirmd__V1__Event *pb = confirmd__v1__event__unpack(NULL, len, buf);
    if (!pb) {
        snprintf(errstr, errstr_size, "undecodable: not a confirmd.v1.Event (%zu bytes)",
                 len);
        return CFD_ERR_DECODE;
    }
    out->pb = pb;
    if (!codec_values_valid(&pb->base, CODEC_CHECK_TEXT, errstr, errstr_size)) {
        err = CFD_ERR_INVALID_VALUE;
        goto fail;
    }

    cfd_event *ev = &out->ev;
    ev->event_id = codec_opt(pb->event_id);
    ev->work_order = codec_opt(pb->work_order);
    ev->source = (cfd_source)pb->source;
    ev->event_time_ms = pb->event_time_ms;
    ev->ingest_time_ms = pb->ingest_time_ms;
    ev->reported_by = codec_opt(pb->reported_by);
    codec_event_payload(pb, out);
    err = cfd_event_validate(ev, errstr, errstr_size);
    if (err)
        goto fail;
    return CFD_OK;

fail:
    cfd_codec_event_release(out);
    return err;
}

void cfd_codec_event_release(cfd_decoded_event *de)
{
    if (!de)
        return;
    free(de->strv);
    confirmd__v1__event__free_unpacked(de->pb, NULL);
    memset(de, 0, sizeof *de);
}

/* @returns s when it is UTF-8, "" when not (an id is shown only when it is text). */
static const char *codec_utf8_or_empty(const char *s)
{
    return s && cfd_utf8_valid(s, strlen(s)) ? s : "";
}

bool cfd_codec_event_ids(const void *buf, size_t len, char *work_order, size_t wo_size,
                         char *event_id, size_t id_size)
{
    if (wo_size)
        work_order[0] = '\0';
    if (id_size)
        event_id[0] = '\0';
    Confirmd__V1__Event *pb = confirmd__v1__event__unpack(NULL, len, buf);
    if (!pb)
        return false;
    cfd_text_copy(work_order, wo_size, codec_utf8_or_empty(pb->work_order));
    cfd_text_copy(event_id, id_size, codec_utf8_or_empty(pb->event_id));
    confirmd__v1__event__free_unpacked(pb, NULL);
    return true;
}

/* ---- records --------------------------------------------------------------------- */

/* Everything a packed ConfirmationRecord points to; strings borrow from the record. */
typedef struct codec_record_pb {
    Confirmd__V1__ConfirmationRecord rec;
    Confirmd__V1__Customer customer;
    Confirmd__V1__Network network;
    Confirmd__V1__SlaResult sla[CFD_METRIC_COUNT];
    Confirmd__V1__SlaResult *sla_ptr[CFD_METRIC_COUNT];
    Confirmd__V1__TimelineEntry *timeline;      /* malloc'd */
    Confirmd__V1__TimelineEntry **timeline_ptr; /* malloc'd */
    char **strv; /* malloc'd: engineers, assisting staff, alarms, NULL as "" */
    Confirmd__V1__PartRecord *parts;          /* malloc'd */
    Confirmd__V1__PartRecord **parts_ptr;     /* malloc'd */
    Confirmd__V1__Part *part_msgs;            /* malloc'd */
    Confirmd__V1__PartFaultType *fault_types; /* malloc'd, CFD_PART_FAULT_COUNT each */
    Confirmd__V1__Pause *pauses;              /* malloc'd */
    Confirmd__V1__Pause **pauses_ptr;         /* malloc'd */
    Confirmd__V1__Metric *pause_metrics;      /* malloc'd, CFD_METRIC_COUNT each */
    Confirmd__V1__Violation violations[CFD_MAX_VIOLATIONS];
    Confirmd__V1__Violation *violations_ptr[CFD_MAX_VIOLATIONS];
    Confirmd__V1__VisitNote visit_note;
} codec_record_pb;

static bool codec_sla_is_zero(const cfd_sla_result *s)
{
    return !s->metric && !s->target_ms && !s->start_ms && !s->deadline_ms &&
           !s->actual_ms && !s->paused_ms && !s->status && !s->next_warning_ms &&
           !s->breach_at_ms;
}

static void codec_record_pb_release(codec_record_pb *p)
{
    free(p->timeline);
    free(p->timeline_ptr);
    free(p->strv);
    free(p->parts);
    free(p->parts_ptr);
    free(p->part_msgs);
    free(p->fault_types);
    free(p->pauses);
    free(p->pauses_ptr);
    free(p->pause_metrics);
}

/* Builds the parts of rec into p. */
static void codec_parts_build(const cfd_record *rec, codec_record_pb *p)
{
    size_t n = rec->n_parts;

    if (n == 0)
        return;
    p->parts = cfd_xcalloc(n, sizeof *p->parts);
    p->parts_ptr = cfd_xcalloc(n, sizeof *p->parts_ptr);
    p->part_msgs = cfd_xcalloc(n, sizeof *p->part_msgs);
    p->fault_types = cfd_xcalloc(n * CFD_PART_FAULT_COUNT, sizeof *p->fault_types);
    for (size_t i = 0; i < n; i++) {
        const cfd_part_record *src = &rec->parts[i];
        Confirmd__V1__PartRecord *pr = &p->parts[i];
        Confirmd__V1__Part *pt = &p->part_msgs[i];
        Confirmd__V1__PartFaultType *ft = p->fault_types + i * CFD_PART_FAULT_COUNT;
        size_t nft = 0;

        confirmd__v1__part_record__init(pr);
        confirmd__v1__part__init(pt);
        pr->event_id = src->event_id;
        pr->handled_at_ms = src->handled_at_ms;
        pr->manufactured_on = src->manufactured_on;
        pr->age_in_service_days = src->age_in_service_days;
        pt->name = src->name;
        pt->material_number = src->material_number;
        pt->serial_number = src->serial_number;
        pt->quantity = src->quantity;
        pt->category = (Confirmd__V1__EquipmentCategory)src->category;
        for (int t = 1; t < CFD_PART_FAULT_COUNT; t++)
            if (src->fault_types & CFD_PART_FAULT_BIT(t))
                ft[nft++] = (Confirmd__V1__PartFaultType)t;
        pt->n_fault_types = nft;
        pt->fault_types = nft ? ft : NULL;
        pt->preliminary_cause = src->preliminary_cause;
        pt->responsible = (Confirmd__V1__ResponsibleParty)src->responsible;
        pt->supplier_name = src->supplier_name;
        pt->description = src->description;
        pr->part = pt;
        p->parts_ptr[i] = pr;
    }
    p->rec.n_parts = n;
    p->rec.parts = p->parts_ptr;
}

/* Builds the pauses of rec into p. */
static void codec_pauses_build(const cfd_record *rec, codec_record_pb *p)
{
    size_t n = rec->n_pauses;

    if (n == 0)
        return;
    p->pauses = cfd_xcalloc(n, sizeof *p->pauses);
    p->pauses_ptr = cfd_xcalloc(n, sizeof *p->pauses_ptr);
    p->pause_metrics = cfd_xcalloc(n * CFD_METRIC_COUNT, sizeof *p->pause_metrics);
    for (size_t i = 0; i < n; i++) {
        const cfd_pause *src = &rec->pauses[i];
        Confirmd__V1__Pause *pp = &p->pauses[i];
        Confirmd__V1__Metric *ms = p->pause_metrics + i * CFD_METRIC_COUNT;
        size_t nm = 0;

        confirmd__v1__pause__init(pp);
        pp->pause_id = src->pause_id;
        pp->reason = (Confirmd__V1__PauseReason)src->reason;
        pp->reported_by = src->reported_by;
        pp->evidence = src->evidence;
        for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
            if (src->metrics & (1u << m))
                ms[nm++] = (Confirmd__V1__Metric)m;
        pp->n_metrics = nm;
        pp->metrics = nm ? ms : NULL;
        pp->start_ms = src->start_ms;
        pp->end_ms = src->end_ms;
        pp->paused_event_id = src->paused_event_id;
        pp->resumed_event_id = src->resumed_event_id;
        p->pauses_ptr[i] = pp;
    }
    p->rec.n_pauses = n;
    p->rec.pauses = p->pauses_ptr;
}

/* The side paths and the assessment; no allocation beyond parts and pauses. */
static void codec_extras_build(const cfd_record *rec, codec_record_pb *p)
{
    Confirmd__V1__ConfirmationRecord *r = &p->rec;

    r->special = rec->special;
    r->previous_work_order = rec->previous_work_order;
    r->alarm_object = rec->alarm_object;
    for (size_t i = 0; i < rec->n_violations && i < CFD_MAX_VIOLATIONS; i++) {
        const cfd_violation *v = &rec->violations[i];
        Confirmd__V1__Violation *pv = &p->violations[i];

        confirmd__v1__violation__init(pv);
        pv->code = (Confirmd__V1__ViolationCode)v->code;
        pv->points = v->points;
        pv->detail = (char *)v->detail;
        pv->at_ms = v->at_ms;
        pv->metric = (Confirmd__V1__Metric)v->metric;
        p->violations_ptr[i] = pv;
    }
    r->n_violations = rec->n_violations;
    r->violations = rec->n_violations ? p->violations_ptr : NULL;
    r->customer_absences = rec->customer_absences;
    r->priority_appointment = rec->priority_appointment;
    r->reschedules = rec->reschedules;
    r->signature_waiver = (Confirmd__V1__SignatureWaiver)rec->signature_waiver;
    r->signature_waiver_detail = rec->signature_waiver_detail;
    confirmd__v1__visit_note__init(&p->visit_note);
    if (rec->visit_note.visit_time_ms || rec->visit_note.leaving_time_ms ||
        rec->visit_note.contact) {
        p->visit_note.visit_time_ms = rec->visit_note.visit_time_ms;
        p->visit_note.leaving_time_ms = rec->visit_note.leaving_time_ms;
        p->visit_note.contact = rec->visit_note.contact;
        r->visit_note = &p->visit_note;
    }
    r->event_report_id = rec->event_report_id;
    r->event_report_at_ms = rec->event_report_at_ms;
    r->diagnosed_at_ms = rec->diagnosed_at_ms;
    r->restored_at_ms = rec->restored_at_ms;
    r->full_interruption = rec->full_interruption;
    r->terminal_complaint = rec->terminal_complaint;
    codec_parts_build(rec, p);
    codec_pauses_build(rec, p);
}

/* Copies n pointers to dst, with "" for NULL (packing a NULL entry would crash). */
static char **codec_strv_copy(char **base, size_t off, char *const *src, size_t n)
{
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        base[off + i] = src[i] ? src[i] : (char *)"";
    return base + off;
}

/* Builds the protobuf view of rec in p (borrowing rec's strings); release p after. */
static void codec_record_pb_build(const cfd_record *rec, codec_record_pb *p)
{
    Confirmd__V1__ConfirmationRecord *r = &p->rec;

    memset(p, 0, sizeof *p);
    confirmd__v1__confirmation_record__init(r);
    confirmd__v1__network__init(&p->network);

    r->work_order = rec->work_order;
    r->issuing_unit = rec->issuing_unit;

    const cfd_customer *c = &rec->customer;
    if (c->name || c->contact_person || c->contact_phone || c->address ||
        c->affected_service || c->city || c->customer_id || c->tier || c->gold ||
        c->importance || c->diamond || c->cross_city_rental) {
        codec_customer_to_pb(c, &p->customer);
        r->customer = &p->customer;
    }
    size_t nstr = rec->n_engineers + rec->n_assisting_staff + rec->n_linked_alarms;
    if (nstr)
        p->strv = cfd_xmalloc(nstr * sizeof *p->strv);
    r->n_engineers = rec->n_engineers;
    r->engineers = codec_strv_copy(p->strv, 0, rec->engineers, rec->n_engineers);
    r->n_assisting_staff = rec->n_assisting_staff;
    r->assisting_staff = codec_strv_copy(p->strv, rec->n_engineers, rec->assisting_staff,
                                         rec->n_assisting_staff);
    r->arrival_time_ms = rec->arrival_time_ms;
    r->service_end_time_ms = rec->service_end_time_ms;
    if (rec->circuit_id || rec->access_point || rec->equipment) {
        p->network.circuit_id = rec->circuit_id;
        p->network.access_point = rec->access_point;
        p->network.equipment = rec->equipment;
        r->network = &p->network;
    }
    r->problem_description = rec->problem_description;
    r->onsite_findings = rec->onsite_findings;
    r->cause = (Confirmd__V1__CauseCategory)rec->cause;
    r->cause_other = rec->cause_other;
    r->result = (Confirmd__V1__ResultKind)rec->result;
    r->result_other = rec->result_other;
    r->customer_opinion = rec->customer_opinion;
    r->customer_signature = rec->customer_signature;
    r->customer_signed_at_ms = rec->customer_signed_at_ms;
    r->engineer_signature = rec->engineer_signature;
    r->corrective_actions = rec->corrective_actions;
    r->satisfaction = rec->satisfaction;
    r->suggestions = rec->suggestions;

    r->state = (Confirmd__V1__State)rec->state;
    r->urgency = (Confirmd__V1__Urgency)rec->urgency;
    r->contractor = rec->contractor;
    r->reported_at_ms = rec->reported_at_ms;
    r->accepted_at_ms = rec->accepted_at_ms;
    r->first_alarm_at_ms = rec->first_alarm_at_ms;
    r->appointment_time_ms = rec->appointment_time_ms;
    r->appointment_by_customer = rec->appointment_by_customer;
    r->remote_restoration = rec->remote_restoration;
    r->workaround = rec->workaround;
    r->cancel_reason = rec->cancel_reason;

    if (rec->n_timeline) {
        p->timeline = cfd_xcalloc(rec->n_timeline, sizeof *p->timeline);
        p->timeline_ptr = cfd_xcalloc(rec->n_timeline, sizeof *p->timeline_ptr);
        for (size_t i = 0; i < rec->n_timeline; i++) {
            const cfd_timeline_entry *te = &rec->timeline[i];
            Confirmd__V1__TimelineEntry *pe = &p->timeline[i];
            confirmd__v1__timeline_entry__init(pe);
            pe->milestone = (Confirmd__V1__Milestone)te->milestone;
            pe->event_time_ms = te->event_time_ms;
            pe->event_id = te->event_id;
            pe->source = (Confirmd__V1__Source)te->source;
            pe->appointment_time_ms = te->appointment_time_ms;
            pe->by_customer = te->by_customer;
            pe->waited_ms = te->waited_ms;
            pe->left_at_ms = te->left_at_ms;
            pe->named = te->named;
            pe->cause = (Confirmd__V1__CauseCategory)te->cause;
            pe->full_interruption = te->full_interruption;
            pe->due_ms = te->due_ms;
            pe->workaround = te->workaround;
            pe->non_standard = te->non_standard;
            p->timeline_ptr[i] = pe;
        }
        r->n_timeline = rec->n_timeline;
        r->timeline = p->timeline_ptr;
    }

    /* One SlaResult per metric in metric order; a never-computed slot is left out. */
    size_t ns = 0;
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++) {
        const cfd_sla_result *s = &rec->sla[m];
        if (codec_sla_is_zero(s))
            continue;
        Confirmd__V1__SlaResult *ps = &p->sla[ns];
        confirmd__v1__sla_result__init(ps);
        ps->metric = (Confirmd__V1__Metric)m;
        ps->target_ms = s->target_ms;
        ps->start_ms = s->start_ms;
        ps->deadline_ms = s->deadline_ms;
        ps->actual_ms = s->actual_ms;
        ps->paused_ms = s->paused_ms;
        ps->status = (Confirmd__V1__MetricStatus)s->status;
        ps->next_warning_ms = s->next_warning_ms;
        ps->breach_at_ms = s->breach_at_ms;
        p->sla_ptr[ns++] = ps;
    }
    r->n_sla = ns;
    r->sla = ns ? p->sla_ptr : NULL;

    r->n_linked_alarms = rec->n_linked_alarms;
    r->linked_alarms = codec_strv_copy(p->strv, rec->n_engineers + rec->n_assisting_staff,
                                       rec->linked_alarms, rec->n_linked_alarms);
    r->version = rec->version;
    r->penalty_points = rec->penalty_points;
    r->policy_version = rec->policy_version;
    codec_extras_build(rec, p);
}

/* Packs any message into a malloc'd buffer. */
void codec_pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len)
{
    *buf = cfd_xmalloc(protobuf_c_message_get_packed_size(m));
    *len = protobuf_c_message_pack(m, *buf);
}

void cfd_codec_record_encode(const cfd_record *rec, uint8_t **buf, size_t *len)
{
    codec_record_pb p;
    codec_record_pb_build(rec, &p);
    codec_pack(&p.rec.base, buf, len);
    codec_record_pb_release(&p);
}

void cfd_codec_state_encode(const cfd_record *rec, uint8_t **buf, size_t *len)
{
    uint8_t *record;
    size_t record_len;
    cfd_codec_record_encode(rec, &record, &record_len);
    cfd_codec_state_encode_packed(rec, record, record_len, buf, len);
    free(record);
}

void cfd_codec_state_encode_packed(const cfd_record *rec, const uint8_t *record,
                                   size_t record_len, uint8_t **buf, size_t *len)
{
    Confirmd__V1__WorkOrderState st = CONFIRMD__V1__WORK_ORDER_STATE__INIT;
    st.alerts_sent = rec->alerts_sent;
    st.emitted_version = rec->emitted_version;
    st.incident_version = rec->incident_version;
    /* Field 1 (record) first, then the bookkeeping: the order protobuf-c packs them
     * in, so the bytes are those of packing the whole message. */
    size_t rest = protobuf_c_message_get_packed_size(&st.base);
    uint8_t head[1 + 10];
    size_t h = 0;
    head[h++] = (1 << 3) | 2; /* field 1, length-delimited */
    for (size_t v = record_len;; v >>= 7) {
        head[h++] = (uint8_t)(v > 0x7f ? (v & 0x7f) | 0x80 : v);
        if (v <= 0x7f)
            break;
    }
    *len = h + record_len + rest;
    *buf = cfd_xmalloc(*len);
    memcpy(*buf, head, h);
    memcpy(*buf + h, record, record_len);
    protobuf_c_message_pack(&st.base, *buf + h + record_len);

    /* A completed order's state is read again only for a late event: keep it compact
     * (about half the bytes). An open one is read per event: keep it a bare protobuf. */
    if (rec->state == CFD_STATE_CLOSED || rec->state == CFD_STATE_CANCELLED) {
        uint8_t *compact;
        size_t compact_len;
        codec_state_compact(*buf, *len, &compact, &compact_len);
        if (compact) {
            free(*buf);
            *buf = compact;
            *len = compact_len;
        }
    }
}

static int codec_strcmp0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/*
 * The invariants the core relies on that the wire format cannot express.
 * @returns true when r keeps them; otherwise false with errstr saying which.
 */
static bool codec_record_pb_valid(const Confirmd__V1__ConfirmationRecord *r, char *errstr,
                                  size_t errstr_size)
{
    for (size_t i = 0; i < r->n_timeline; i++) {
        if (!codec_opt(r->timeline[i]->event_id)) {
            snprintf(errstr, errstr_size, "record.timeline[%zu]: no event_id", i);
            return false;
        }
    }
    for (size_t i = 1; i < r->n_timeline; i++) {
        const Confirmd__V1__TimelineEntry *a = r->timeline[i - 1], *b = r->timeline[i];
        if (a->event_time_ms > b->event_time_ms ||
            (a->event_time_ms == b->event_time_ms &&
             codec_strcmp0(a->event_id, b->event_id) > 0)) {
            snprintf(errstr, errstr_size, "record.timeline: entry %zu out of order", i);
            return false;
        }
    }
    unsigned seen = 0;
    for (size_t i = 0; i < r->n_sla; i++) {
        int m = r->sla[i]->metric;
        if (m <= CFD_METRIC_NONE || m >= CFD_METRIC_COUNT || (seen & 1u << m)) {
            snprintf(errstr, errstr_size, "record.sla[%zu]: metric %d missing or repeated",
                     i, m);
            return false;
        }
        seen |= 1u << m;
    }
    for (size_t i = 0; i < r->n_pauses; i++) {
        if (!codec_opt(r->pauses[i]->pause_id) ||
            (i > 0 &&
             codec_strcmp0(r->pauses[i - 1]->pause_id, r->pauses[i]->pause_id) >= 0)) {
            snprintf(errstr, errstr_size,
                     "record.pauses[%zu]: no id, or not sorted and unique", i);
            return false;
        }
    }
    for (size_t i = 0; i < r->n_parts; i++) {
        if (!codec_opt(r->parts[i]->event_id)) {
            snprintf(errstr, errstr_size, "record.parts[%zu]: no event_id", i);
            return false;
        }
    }
    if (r->n_violations > CFD_MAX_VIOLATIONS) {
        snprintf(errstr, errstr_size, "record.violations: more than %d",
                 CFD_MAX_VIOLATIONS);
        return false;
    }
    for (size_t i = 1; i < r->n_linked_alarms; i++) {
        if (codec_strcmp0(r->linked_alarms[i - 1], r->linked_alarms[i]) >= 0) {
            snprintf(errstr, errstr_size, "record.linked_alarms: not sorted and unique");
            return false;
        }
    }
    return true;
}

/* Fills the side paths, parts, pauses and violations. */
static void codec_extras_from_pb(const Confirmd__V1__ConfirmationRecord *r, cfd_record *rec)
{
    rec->special = r->special;
    rec->previous_work_order = codec_dup(r->previous_work_order);
    rec->alarm_object = codec_dup(r->alarm_object);
    rec->full_interruption = r->full_interruption;
    rec->terminal_complaint = r->terminal_complaint;
    rec->customer_absences = r->customer_absences;
    rec->priority_appointment = r->priority_appointment;
    rec->reschedules = r->reschedules;
    rec->signature_waiver = (cfd_waiver)r->signature_waiver;
    rec->signature_waiver_detail = codec_dup(r->signature_waiver_detail);
    if (r->visit_note) {
        rec->visit_note.visit_time_ms = r->visit_note->visit_time_ms;
        rec->visit_note.leaving_time_ms = r->visit_note->leaving_time_ms;
        rec->visit_note.contact = codec_dup(r->visit_note->contact);
    }
    rec->event_report_id = codec_dup(r->event_report_id);
    rec->event_report_at_ms = r->event_report_at_ms;
    rec->diagnosed_at_ms = r->diagnosed_at_ms;
    rec->restored_at_ms = r->restored_at_ms;
    for (size_t i = 0; i < r->n_violations && i < CFD_MAX_VIOLATIONS; i++) {
        const Confirmd__V1__Violation *pv = r->violations[i];
        cfd_violation *v = &rec->violations[i];

        v->code = (cfd_violation_code)pv->code;
        v->points = pv->points;
        cfd_text_copy(v->detail, sizeof v->detail, pv->detail);
        v->at_ms = pv->at_ms;
        v->metric = (cfd_metric)pv->metric;
        rec->n_violations = i + 1;
    }
    if (r->n_parts) {
        rec->parts = cfd_xcalloc(r->n_parts, sizeof *rec->parts);
        rec->n_parts = r->n_parts;
        for (size_t i = 0; i < r->n_parts; i++) {
            const Confirmd__V1__PartRecord *pr = r->parts[i];
            const Confirmd__V1__Part *pt = pr->part;
            cfd_part_record *dst = &rec->parts[i];

            dst->event_id = codec_dup(pr->event_id);
            dst->handled_at_ms = pr->handled_at_ms;
            dst->manufactured_on = pr->manufactured_on;
            dst->age_in_service_days = pr->age_in_service_days;
            if (!pt)
                continue;
            dst->name = codec_dup(pt->name);
            dst->material_number = codec_dup(pt->material_number);
            dst->serial_number = codec_dup(pt->serial_number);
            dst->quantity = pt->quantity;
            dst->category = (cfd_equipment_category)pt->category;
            for (size_t k = 0; k < pt->n_fault_types; k++)
                if (pt->fault_types[k] > 0 && pt->fault_types[k] < CFD_PART_FAULT_COUNT)
                    dst->fault_types |= CFD_PART_FAULT_BIT(pt->fault_types[k]);
            dst->preliminary_cause = codec_dup(pt->preliminary_cause);
            dst->responsible = (cfd_responsible)pt->responsible;
            dst->supplier_name = codec_dup(pt->supplier_name);
            dst->description = codec_dup(pt->description);
        }
    }
    if (r->n_pauses) {
        rec->pauses = cfd_xcalloc(r->n_pauses, sizeof *rec->pauses);
        rec->n_pauses = r->n_pauses;
        for (size_t i = 0; i < r->n_pauses; i++) {
            const Confirmd__V1__Pause *pp = r->pauses[i];
            cfd_pause *dst = &rec->pauses[i];

            dst->pause_id = codec_dup(pp->pause_id);
            dst->reason = (cfd_pause_reason)pp->reason;
            dst->reported_by = codec_dup(pp->reported_by);
            dst->evidence = codec_dup(pp->evidence);
            dst->metrics = codec_metric_bits(pp->metrics, pp->n_metrics);
            dst->start_ms = pp->start_ms;
            dst->end_ms = pp->end_ms;
            dst->paused_event_id = codec_dup(pp->paused_event_id);
            dst->resumed_event_id = codec_dup(pp->resumed_event_id);
        }
    }
}

/* Fills rec from a checked protobuf record. */
static void codec_record_from_pb(const Confirmd__V1__ConfirmationRecord *r, cfd_record *rec)
{
    rec->work_order = codec_dup(r->work_order);
    rec->issuing_unit = codec_dup(r->issuing_unit);
    cfd_customer customer; /* borrowed from r, copied into rec */
    codec_customer_from_pb(r->customer, &customer);
    cfd_customer_copy(&rec->customer, &customer);
    rec->engineers = codec_dupv(r->engineers, r->n_engineers, &rec->n_engineers);
    rec->assisting_staff =
        codec_dupv(r->assisting_staff, r->n_assisting_staff, &rec->n_assisting_staff);
    rec->arrival_time_ms = r->arrival_time_ms;
    rec->service_end_time_ms = r->service_end_time_ms;
    if (r->network) {
        rec->circuit_id = codec_dup(r->network->circuit_id);
        rec->access_point = codec_dup(r->network->access_point);
        rec->equipment = codec_dup(r->network->equipment);
    }
    rec->problem_description = codec_dup(r->problem_description);
    rec->onsite_findings = codec_dup(r->onsite_findings);
    rec->cause = (cfd_cause)r->cause;
    rec->cause_other = codec_dup(r->cause_other);
    rec->result = (cfd_result)r->result;
    rec->result_other = codec_dup(r->result_other);
    rec->customer_opinion = codec_dup(r->customer_opinion);
    rec->customer_signature = codec_dup(r->customer_signature);
    rec->customer_signed_at_ms = r->customer_signed_at_ms;
    rec->engineer_signature = codec_dup(r->engineer_signature);
    rec->corrective_actions = codec_dup(r->corrective_actions);
    rec->satisfaction = r->satisfaction;
    rec->suggestions = codec_dup(r->suggestions);

    rec->state = (cfd_state)r->state;
    rec->urgency = (cfd_urgency)r->urgency;
    rec->contractor = codec_dup(r->contractor);
    rec->reported_at_ms = r->reported_at_ms;
    rec->accepted_at_ms = r->accepted_at_ms;
    rec->first_alarm_at_ms = r->first_alarm_at_ms;
    rec->appointment_time_ms = r->appointment_time_ms;
    rec->appointment_by_customer = r->appointment_by_customer;
    rec->remote_restoration = r->remote_restoration;
    rec->workaround = r->workaround;
    rec->cancel_reason = codec_dup(r->cancel_reason);

    if (r->n_timeline) {
        rec->timeline = cfd_xcalloc(r->n_timeline, sizeof *rec->timeline);
        rec->n_timeline = r->n_timeline;
        for (size_t i = 0; i < r->n_timeline; i++) {
            const Confirmd__V1__TimelineEntry *pe = r->timeline[i];
            cfd_timeline_entry *te = &rec->timeline[i];
            te->milestone = (cfd_milestone)pe->milestone;
            te->event_time_ms = pe->event_time_ms;
            te->event_id = codec_dup(pe->event_id);
            te->source = (cfd_source)pe->source;
            te->appointment_time_ms = pe->appointment_time_ms;
            te->by_customer = pe->by_customer;
            te->waited_ms = pe->waited_ms;
            te->left_at_ms = pe->left_at_ms;
            te->named = pe->named;
            te->due_ms = pe->due_ms;
            te->workaround = pe->workaround;
            te->non_standard = pe->non_standard;
            te->cause = (cfd_cause)pe->cause;
            te->full_interruption = pe->full_interruption;
        }
    }
    for (size_t i = 0; i < r->n_sla; i++) {
        const Confirmd__V1__SlaResult *ps = r->sla[i];
        cfd_sla_result *s = &rec->sla[ps->metric];
        s->metric = (cfd_metric)ps->metric;
        s->target_ms = ps->target_ms;
        s->start_ms = ps->start_ms;
        s->deadline_ms = ps->deadline_ms;
        s->actual_ms = ps->actual_ms;
        s->paused_ms = ps->paused_ms;
        s->status = (cfd_metric_status)ps->status;
        s->next_warning_ms = ps->next_warning_ms;
        s->breach_at_ms = ps->breach_at_ms;
    }
    rec->linked_alarms =
        codec_dupv(r->linked_alarms, r->n_linked_alarms, &rec->n_linked_alarms);
    rec->version = r->version;
    rec->penalty_points = r->penalty_points;
    rec->policy_version = codec_dup(r->policy_version);
    codec_extras_from_pb(r, rec);
}

/* An unpack allocator that bumps through a buffer on the stack and takes more from the
 * heap only for a large state: the dozens of small messages and strings of one state
 * cost no malloc/free each, and are all freed at once. */
typedef struct codec_chunk {
    struct codec_chunk *next;
    max_align_t data[];
} codec_chunk;

typedef struct codec_arena {
    ProtobufCAllocator allocator;
    size_t used;
    codec_chunk *chunks; /* heap blocks beyond buf, freed by codec_arena_release */
    max_align_t buf[8192 / sizeof(max_align_t)];
} codec_arena;

static void *codec_arena_alloc(void *ctx, size_t size)
{
    codec_arena *a = ctx;
    size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t);
    if (size && need <= sizeof a->buf / sizeof a->buf[0] - a->used) {
        void *p = &a->buf[a->used];
        a->used += need;
        return p;
    }
    codec_chunk *c = cfd_xmalloc(sizeof *c + need * sizeof(max_align_t) + 1);
    c->next = a->chunks;
    a->chunks = c;
    return c->data;
}

static void codec_arena_free(void *ctx, void *p)
{
    (void)ctx; /* everything goes at once in codec_arena_release */
    (void)p;
}

static void codec_arena_init(codec_arena *a)
{
    a->allocator = (ProtobufCAllocator){codec_arena_alloc, codec_arena_free, a};
    a->used = 0;
    a->chunks = NULL;
}

static void codec_arena_release(codec_arena *a)
{
    while (a->chunks) {
        codec_chunk *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
}

cfd_err cfd_codec_state_decode(const void *buf, size_t len, cfd_record **rec, char *errstr,
                               size_t errstr_size)
{
    cfd_err err = CFD_ERR_DECODE;
    cfd_record *out = NULL;

    *rec = NULL;
    uint8_t *raw = NULL;
    if (codec_state_is_compact(buf, len)) {
        size_t raw_len;
        if ((err = codec_state_expand(buf, len, &raw, &raw_len, errstr, errstr_size)))
            return err;
        buf = raw;
        len = raw_len;
        err = CFD_ERR_DECODE;
    }
    codec_arena arena;
    codec_arena_init(&arena);
    Confirmd__V1__WorkOrderState *st =
        confirmd__v1__work_order_state__unpack(&arena.allocator, len, buf);
    if (!st) {
        snprintf(errstr, errstr_size,
                 "undecodable: not a confirmd.v1.WorkOrderState (%zu bytes)", len);
        codec_arena_release(&arena);
        free(raw);
        return CFD_ERR_DECODE;
    }
    if (!st->record) {
        snprintf(errstr, errstr_size, "WorkOrderState has no record");
        goto out;
    }
    /* Text is not checked: a state stored before inputs were, holding bad text, must
     * not stop its partition. */
    if (!codec_values_valid(&st->base, CODEC_CHECK_ENUMS, errstr, errstr_size) ||
        !codec_record_pb_valid(st->record, errstr, errstr_size))
        goto out;

    out = cfd_record_new();
    codec_record_from_pb(st->record, out);
    out->alerts_sent = st->alerts_sent;
    out->emitted_version = st->emitted_version;
    out->incident_version = st->incident_version;
    *rec = out;
    out = NULL;
    err = CFD_OK;
out:
    cfd_record_destroy(out);
    codec_arena_release(&arena);
    free(raw);
    return err;
}

/* ---- alerts and dead letters ---------------------------------------------------- */

void cfd_codec_alert_encode(const cfd_alert *a, uint8_t **buf, size_t *len)
{
    Confirmd__V1__SlaAlert pb = CONFIRMD__V1__SLA_ALERT__INIT;

    pb.alert_id = (char *)a->alert_id;
    pb.kind = (Confirmd__V1__AlertKind)a->kind;
    pb.work_order = (char *)a->work_order;
    pb.metric = (Confirmd__V1__Metric)a->metric;
    pb.threshold_pct = a->threshold_pct;
    pb.deadline_ms = a->deadline_ms;
    pb.fired_at_ms = a->fired_at_ms;
    pb.actual_ms = a->actual_ms;
    pb.recipients = (Confirmd__V1__RecipientLevel)a->recipients;
    pb.tier = (Confirmd__V1__Tier)a->tier;
    pb.gold = a->gold;
    pb.city = (char *)a->city;
    pb.circuit_id = (char *)a->circuit_id;
    pb.message = (char *)a->message;
    codec_pack(&pb.base, buf, len);
}

void cfd_codec_incident_encode(const cfd_incident *inc, uint8_t **buf, size_t *len)
{
    Confirmd__V1__Incident pb = CONFIRMD__V1__INCIDENT__INIT;
    char *orders[1] = {(char *)inc->work_order};

    pb.incident_id = (char *)inc->incident_id;
    pb.kind = (Confirmd__V1__IncidentKind)inc->kind;
    pb.status = (Confirmd__V1__IncidentStatus)inc->status;
    if (inc->n_work_orders) {
        pb.n_work_orders = inc->n_work_orders;
        pb.work_orders = (char **)inc->work_orders;
    } else {
        pb.n_work_orders = inc->work_order ? 1 : 0;
        pb.work_orders = inc->work_order ? orders : NULL;
    }
    pb.customer_id = (char *)inc->customer_id;
    pb.city = (char *)inc->city;
    pb.service = (char *)inc->service;
    pb.tier = (Confirmd__V1__Tier)inc->tier;
    pb.importance = (Confirmd__V1__Importance)inc->importance;
    pb.started_at_ms = inc->started_at_ms;
    pb.threshold_ms = inc->threshold_ms;
    pb.opened_at_ms = inc->opened_at_ms;
    pb.closed_at_ms = inc->closed_at_ms;
    pb.ownership_unclear = inc->ownership_unclear;
    pb.excluded_from_assessment = inc->excluded_from_assessment;
    pb.version = inc->version;
    pb.rule = (Confirmd__V1__IncidentRule)inc->rule;
    pb.decided_at_ms = inc->decided_at_ms;
    codec_pack(&pb.base, buf, len);
}

/* Text fields must hold UTF-8, or consumers in other languages refuse the whole
 * message. @returns s when it is UTF-8, NULL (left out) otherwise. */
static const char *codec_text_or_null(const char *s)
{
    return s && cfd_utf8_valid(s, strlen(s)) ? s : NULL;
}

void cfd_codec_dead_letter_encode(const cfd_dead_letter *dl, uint8_t **buf, size_t *len)
{
    Confirmd__V1__DeadLetter pb = CONFIRMD__V1__DEAD_LETTER__INIT;

    uint8_t sha[SHA256_DIGEST_LENGTH];
    size_t n = dl->original ? dl->original_len : 0;
    char *detail = NULL;

    pb.original.data = (uint8_t *)dl->original;
    pb.original.len = n > dl->max_original ? dl->max_original : n;
    pb.original_length = n;
    if (n) {
        SHA256(dl->original, n, sha);
        pb.original_sha256.data = sha;
        pb.original_sha256.len = sizeof(sha);
    }
    pb.topic = (char *)codec_text_or_null(dl->topic);
    pb.partition = dl->partition;
    pb.offset = dl->offset;
    pb.reason = (Confirmd__V1__DeadLetterReason)dl->reason;
    /* A detail cut to fit a buffer may end in half a character: drop it. */
    pb.detail = (char *)codec_text_or_null(dl->detail);
    if (dl->detail && !pb.detail) {
        detail =
            cfd_xstrndup(dl->detail, cfd_utf8_valid_len(dl->detail, strlen(dl->detail)));
        pb.detail = detail;
    }
    pb.work_order = (char *)codec_text_or_null(dl->work_order);
    pb.event_id = (char *)codec_text_or_null(dl->event_id);
    pb.dead_at_ms = dl->dead_at_ms;
    codec_pack(&pb.base, buf, len);
    free(detail);
}

cfd_dl_reason cfd_codec_dl_reason(cfd_err err)
{
    switch (err) {
    case CFD_ERR_DECODE:
        return CFD_DL_UNDECODABLE;
    case CFD_ERR_MISSING_FIELD:
        return CFD_DL_MISSING_FIELD;
    case CFD_ERR_TRANSITION:
        return CFD_DL_INVALID_TRANSITION;
    case CFD_ERR_UNKNOWN_ORDER:
        return CFD_DL_UNKNOWN_WORK_ORDER;
    case CFD_ERR_INVALID_VALUE:
        return CFD_DL_INVALID_VALUE;
    case CFD_ERR_UNKNOWN_OBJECT:
        return CFD_DL_UNKNOWN_NETWORK_OBJECT;
    default: /* success, or a retryable failure: not a dead letter */
        return CFD_DL_NONE;
    }
}

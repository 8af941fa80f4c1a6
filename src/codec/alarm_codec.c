/*
 * Protobuf <-> domain for inventory records, alarms and alarm state; see
 * include/confirmd/alarm_codec.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec_int.h"
#include "confirmd/alloc.h"
#include "confirmd/alarm_codec.h"
#include "confirmd/v1/events.pb-c.h"
#include "confirmd/v1/inventory.pb-c.h"

cfd_err cfd_codec_circuit_decode(const void *buf, size_t len, cfd_decoded_circuit *out,
                                 char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof(*out));
    Confirmd__V1__Circuit *pb = confirmd__v1__circuit__unpack(NULL, len, buf);
    if (!pb) {
        snprintf(errstr, errstr_size, "undecodable: not a confirmd.v1.Circuit (%zu bytes)",
                 len);
        return CFD_ERR_DECODE;
    }
    out->pb = pb;
    if (!codec_values_valid(&pb->base, CODEC_CHECK_TEXT, errstr, errstr_size)) {
        cfd_codec_circuit_release(out);
        return CFD_ERR_INVALID_VALUE;
    }
    if (!codec_opt(pb->object_id)) {
        snprintf(errstr, errstr_size, "missing field object_id");
        cfd_codec_circuit_release(out);
        return CFD_ERR_MISSING_FIELD;
    }
    cfd_circuit *c = &out->c;
    c->object_id = pb->object_id;
    c->circuit_id = codec_opt(pb->circuit_id);
    c->service = codec_opt(pb->service);
    c->access_point = codec_opt(pb->access_point);
    c->equipment = codec_opt(pb->equipment);
    codec_customer_from_pb(pb->customer, &c->customer);
    if (!c->customer.affected_service)
        c->customer.affected_service = c->service;
    c->diamond = pb->diamond;
    c->importance = (cfd_importance)pb->importance;
    c->cross_city_rental = pb->cross_city_rental;
    return CFD_OK;
}

void cfd_codec_circuit_release(cfd_decoded_circuit *d)
{
    if (!d)
        return;
    confirmd__v1__circuit__free_unpacked(d->pb, NULL);
    memset(d, 0, sizeof(*d));
}

cfd_err cfd_codec_alarm_decode(const void *buf, size_t len, cfd_decoded_alarm *out,
                               char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof(*out));
    Confirmd__V1__Alarm *pb = confirmd__v1__alarm__unpack(NULL, len, buf);
    if (!pb) {
        snprintf(errstr, errstr_size, "undecodable: not a confirmd.v1.Alarm (%zu bytes)",
                 len);
        return CFD_ERR_DECODE;
    }
    out->pb = pb;
    if (!codec_values_valid(&pb->base, CODEC_CHECK_TEXT, errstr, errstr_size)) {
        cfd_codec_alarm_release(out);
        return CFD_ERR_INVALID_VALUE;
    }
    cfd_alarm *a = &out->a;
    a->alarm_id = codec_opt(pb->alarm_id);
    a->network_object = codec_opt(pb->network_object);
    a->severity = (cfd_alarm_severity)pb->severity;
    a->cleared = pb->cleared;
    a->event_time_ms = pb->event_time_ms;
    a->text = codec_opt(pb->text);
    a->closed_work_order = codec_opt(pb->closed_work_order);
    a->reported_work_order = codec_opt(pb->reported_work_order);
    a->opened_work_order = codec_opt(pb->opened_work_order);
    a->opened_on = codec_opt(pb->opened_on);
    a->coordinator = codec_opt(pb->coordinator);
    a->circuit = pb->circuit.data;
    a->circuit_len = pb->circuit.len;
    a->declined = pb->declined;
    a->closed_needs_observation = pb->closed_needs_observation;
    a->closed_watched_from_ms = pb->closed_watched_from_ms;
    a->report = pb->report.data;
    a->report_len = pb->report.len;
    cfd_err err = cfd_alarm_validate(a, errstr, errstr_size);
    if (err)
        cfd_codec_alarm_release(out);
    return err;
}

void cfd_codec_alarm_release(cfd_decoded_alarm *d)
{
    if (!d)
        return;
    confirmd__v1__alarm__free_unpacked(d->pb, NULL);
    json_object_put(d->json);
    memset(d, 0, sizeof(*d));
}

void cfd_codec_alarm_encode(const cfd_alarm *a, uint8_t **buf, size_t *len)
{
    Confirmd__V1__Alarm pb = CONFIRMD__V1__ALARM__INIT;
    pb.alarm_id = (char *)(a->alarm_id ? a->alarm_id : "");
    pb.network_object = (char *)(a->network_object ? a->network_object : "");
    pb.severity = (Confirmd__V1__AlarmSeverity)a->severity;
    pb.cleared = a->cleared;
    pb.event_time_ms = a->event_time_ms;
    pb.text = (char *)(a->text ? a->text : "");
    pb.closed_work_order = (char *)(a->closed_work_order ? a->closed_work_order : "");
    pb.reported_work_order = (char *)(a->reported_work_order ? a->reported_work_order : "");
    pb.opened_work_order = (char *)(a->opened_work_order ? a->opened_work_order : "");
    pb.opened_on = (char *)(a->opened_on ? a->opened_on : "");
    pb.coordinator = (char *)(a->coordinator ? a->coordinator : "");
    pb.circuit.data = (uint8_t *)a->circuit;
    pb.circuit.len = a->circuit ? a->circuit_len : 0;
    pb.declined = a->declined;
    pb.closed_needs_observation = a->closed_needs_observation;
    pb.closed_watched_from_ms = a->closed_watched_from_ms;
    pb.report.data = (uint8_t *)a->report;
    pb.report.len = a->report ? a->report_len : 0;
    codec_pack(&pb.base, buf, len);
}

void cfd_codec_alarm_state_encode(const cfd_alarm_state *st, uint8_t **buf, size_t *len)
{
    Confirmd__V1__AlarmState pb = CONFIRMD__V1__ALARM_STATE__INIT;
    pb.work_order = st->work_order ? st->work_order : "";
    pb.opened_at_ms = st->opened_at_ms;
    pb.n_alarm_ids = st->n_alarm_ids;
    pb.alarm_ids = st->alarm_ids;
    pb.n_cleared_ids = st->n_cleared_ids;
    pb.cleared_ids = st->cleared_ids;
    pb.repeats = st->repeats;
    pb.last_work_order = st->last_work_order ? st->last_work_order : "";
    pb.last_closed_at_ms = st->last_closed_at_ms;
    pb.last_needs_observation = st->last_needs_observation;
    pb.last_watched_from_ms = st->last_watched_from_ms;
    pb.opened_on = st->opened_on ? st->opened_on : "";
    Confirmd__V1__ForwardedAlarm *fw = NULL, **fwp = NULL;
    if (st->n_forwarded) { /* most states have none: nothing to allocate */
        fw = cfd_xcalloc(st->n_forwarded, sizeof(*fw));
        fwp = cfd_xcalloc(st->n_forwarded, sizeof(*fwp));
    }
    for (size_t i = 0; i < st->n_forwarded; i++) {
        confirmd__v1__forwarded_alarm__init(&fw[i]);
        fw[i].alarm_id = st->forwarded[i].alarm_id;
        fw[i].severity = (Confirmd__V1__AlarmSeverity)st->forwarded[i].severity;
        fw[i].at_ms = st->forwarded[i].at_ms;
        fwp[i] = &fw[i];
    }
    pb.n_forwarded = st->n_forwarded;
    pb.forwarded = fwp;
    codec_pack(&pb.base, buf, len);
    free(fwp);
    free(fw);
}

/* Elements whose first member is their name (a char *): a string, a cfd_forwarded. */
_Static_assert(offsetof(cfd_forwarded, alarm_id) == 0,
               "cfd_forwarded starts with its name");

static int cmp_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The state keeps its lists sorted by name (the rules search them); one stored
 * otherwise (not by confirmd) is sorted here. v: n elements of size bytes, each
 * starting with its name. */
static void sort_by_name(void *v, size_t n, size_t size)
{
    for (size_t i = 1; i < n; i++) {
        if (cmp_name((char *)v + (i - 1) * size, (char *)v + i * size) > 0) {
            qsort(v, n, size, cmp_name);
            return;
        }
    }
}

cfd_err cfd_codec_alarm_state_decode(const void *buf, size_t len, cfd_alarm_state **out,
                                     char *errstr, size_t errstr_size)
{
    Confirmd__V1__AlarmState *pb = confirmd__v1__alarm_state__unpack(NULL, len, buf);
    if (!pb) {
        snprintf(errstr, errstr_size, "undecodable: not a confirmd.v1.AlarmState");
        return CFD_ERR_DECODE;
    }
    cfd_alarm_state *st = cfd_alarm_state_new();
    st->work_order = codec_dup(pb->work_order);
    st->opened_at_ms = pb->opened_at_ms;
    st->alarm_ids = codec_dupv(pb->alarm_ids, pb->n_alarm_ids, &st->n_alarm_ids);
    st->cleared_ids = codec_dupv(pb->cleared_ids, pb->n_cleared_ids, &st->n_cleared_ids);
    sort_by_name(st->alarm_ids, st->n_alarm_ids, sizeof(*st->alarm_ids));
    sort_by_name(st->cleared_ids, st->n_cleared_ids, sizeof(*st->cleared_ids));
    st->repeats = pb->repeats;
    st->last_work_order = codec_dup(pb->last_work_order);
    st->last_closed_at_ms = pb->last_closed_at_ms;
    st->last_needs_observation = pb->last_needs_observation;
    st->last_watched_from_ms = pb->last_watched_from_ms;
    st->opened_on = codec_dup(pb->opened_on);
    if (pb->n_forwarded) {
        st->forwarded = cfd_xcalloc(pb->n_forwarded, sizeof(*st->forwarded));
        for (size_t i = 0; i < pb->n_forwarded; i++) {
            const Confirmd__V1__ForwardedAlarm *f = pb->forwarded[i];
            st->forwarded[i] = (cfd_forwarded){cfd_xstrdup(f->alarm_id ? f->alarm_id : ""),
                                               (cfd_alarm_severity)f->severity, f->at_ms};
        }
        st->n_forwarded = pb->n_forwarded;
        sort_by_name(st->forwarded, st->n_forwarded, sizeof(*st->forwarded));
    }
    confirmd__v1__alarm_state__free_unpacked(pb, NULL);
    *out = st;
    return CFD_OK;
}

cfd_err cfd_codec_event_encode(const cfd_event *ev, uint8_t **buf, size_t *len)
{
    Confirmd__V1__Event pb = CONFIRMD__V1__EVENT__INIT;
    Confirmd__V1__FaultReport rep = CONFIRMD__V1__FAULT_REPORT__INIT;
    Confirmd__V1__Customer cust = CONFIRMD__V1__CUSTOMER__INIT;
    Confirmd__V1__Network net = CONFIRMD__V1__NETWORK__INIT;
    Confirmd__V1__NocAlarm alarm = CONFIRMD__V1__NOC_ALARM__INIT;
    Confirmd__V1__Cancelled cancelled = CONFIRMD__V1__CANCELLED__INIT;
    Confirmd__V1__RepeatFault repeat = CONFIRMD__V1__REPEAT_FAULT__INIT;

    pb.event_id = codec_pb_str(ev->event_id);
    pb.work_order = codec_pb_str(ev->work_order);
    pb.source = (Confirmd__V1__Source)ev->source;
    pb.event_time_ms = ev->event_time_ms;
    pb.ingest_time_ms = ev->ingest_time_ms;
    pb.reported_by = codec_pb_str(ev->reported_by);
    switch (ev->kind) {
    case CFD_MS_REPORTED: {
        codec_customer_to_pb(&ev->report.customer, &cust);
        net.circuit_id = codec_pb_str(ev->report.circuit_id);
        net.access_point = codec_pb_str(ev->report.access_point);
        net.equipment = codec_pb_str(ev->report.equipment);
        rep.issuing_unit = codec_pb_str(ev->report.issuing_unit);
        rep.customer = &cust;
        rep.network = &net;
        rep.problem_description = codec_pb_str(ev->report.problem_description);
        rep.urgency = (Confirmd__V1__Urgency)ev->report.urgency;
        rep.special = ev->report.special;
        rep.previous_work_order = codec_pb_str(ev->report.previous_work_order);
        rep.alarm_object = codec_pb_str(ev->report.alarm_object);
        rep.full_interruption = ev->report.full_interruption;
        rep.terminal_complaint = ev->report.terminal_complaint;
        pb.payload_case = CONFIRMD__V1__EVENT__PAYLOAD_FAULT_REPORT;
        pb.fault_report = &rep;
        break;
    }
    case CFD_MS_CANCELLED:
        cancelled.reason = codec_pb_str(ev->change.reason);
        pb.payload_case = CONFIRMD__V1__EVENT__PAYLOAD_CANCELLED;
        pb.cancelled = &cancelled;
        break;
    case CFD_MS_REPEAT_FAULT:
        repeat.previous_work_order = codec_pb_str(ev->repeat.previous_work_order);
        pb.payload_case = CONFIRMD__V1__EVENT__PAYLOAD_REPEAT_FAULT;
        pb.repeat_fault = &repeat;
        break;
    case CFD_MS_ALARM:
        alarm.alarm_id = codec_pb_str(ev->alarm.alarm_id);
        alarm.network_object = codec_pb_str(ev->alarm.network_object);
        alarm.severity = (Confirmd__V1__AlarmSeverity)ev->alarm.severity;
        alarm.cleared = ev->alarm.cleared;
        alarm.text = codec_pb_str(ev->alarm.text);
        pb.payload_case = CONFIRMD__V1__EVENT__PAYLOAD_NOC_ALARM;
        pb.noc_alarm = &alarm;
        break;
    default:
        return CFD_ERR_INVALID_VALUE;
    }
    codec_pack(&pb.base, buf, len);
    return CFD_OK;
}

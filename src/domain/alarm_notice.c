/*
 * What the stages tell each other through the alarms and events topics: the notices
 * of completed, alarm-opened and customer-reported orders, and the events of a
 * customer's report joining an alarm-opened order. See include/confirmd/alarm.h.
 */
#include "confirmd/alarm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t cfd_alarm_completion_notices(const cfd_record *rec, const char *order,
                                    cfd_alarm_notice out[2])
{
    /* Bound to the object whose alarm opened it, or the circuit a customer reported
     * on (cfd_alarm_report_notice); and the circuit too when a port's or a piece of
     * equipment's alarm opened it (cfd_alarm_opened_notice). */
    const char *object = rec->alarm_object ? rec->alarm_object : rec->circuit_id;
    size_t n = 0;
    if (!object)
        return 0;
    const char *objects[2] = {object, NULL};
    if (rec->alarm_object && rec->circuit_id && strcmp(rec->alarm_object, rec->circuit_id))
        objects[1] = rec->circuit_id;
    for (size_t i = 0; i < 2 && objects[i]; i++, n++) {
        cfd_alarm_notice *o = &out[n];
        snprintf(o->alarm_id, sizeof(o->alarm_id), "closed-%s-v%" PRIu32, order,
                 rec->version);
        snprintf(o->id, sizeof(o->id), "notice/%s/v%" PRIu32 "%s", order, rec->version,
                 i ? "/circuit" : "");
        o->notice = (cfd_alarm){
            .alarm_id = o->alarm_id,
            .network_object = objects[i],
            .event_time_ms = cfd_record_as_of(rec),
            .closed_work_order = order,
            .closed_needs_observation = rec->result == CFD_RESULT_NEEDS_OBSERVATION,
            .closed_watched_from_ms =
                rec->service_end_time_ms ? rec->service_end_time_ms : rec->restored_at_ms};
    }
    return n;
}

bool cfd_alarm_opened_notice(const char *circuit, const char *object, const char *order,
                             int64_t t_ms, cfd_alarm_notice *out)
{
    if (!circuit || !*circuit || strcmp(circuit, object) == 0)
        return false;
    snprintf(out->alarm_id, sizeof(out->alarm_id), "opened-%s", order);
    snprintf(out->id, sizeof(out->id), "notice/opened/%s", order);
    out->notice = (cfd_alarm){.alarm_id = out->alarm_id,
                              .network_object = circuit,
                              .event_time_ms = t_ms,
                              .opened_work_order = order,
                              .opened_on = object};
    return true;
}

bool cfd_alarm_report_notice(const cfd_event *ev, const char *order, const void *bytes,
                             size_t len, cfd_alarm_notice *out)
{
    const char *circuit = ev->report.circuit_id;
    if (!circuit || ev->report.alarm_object)
        return false;
    snprintf(out->alarm_id, sizeof(out->alarm_id), "report-%s", order);
    snprintf(out->id, sizeof(out->id), "notice/report/%s", order);
    out->notice = (cfd_alarm){.alarm_id = out->alarm_id,
                              .network_object = circuit,
                              .event_time_ms = ev->event_time_ms,
                              .reported_work_order = order,
                              .report = bytes,
                              .report_len = len};
    return true;
}

void cfd_alarm_join_events(const cfd_alarm_state *st, const cfd_alarm *a,
                           const cfd_event *report, cfd_alarm_join *out)
{
    out->joined = *report;
    snprintf(out->joined_id, sizeof(out->joined_id), "join-%s", report->event_id);
    out->joined.event_id = out->joined_id;
    out->joined.work_order = st->work_order;
    /* The object whose alarm opened the order: this one, or (this being its circuit)
     * the port or equipment an opened notice named. */
    out->joined.report.alarm_object = st->opened_on ? st->opened_on : a->network_object;
    snprintf(out->cancel_id, sizeof(out->cancel_id), "joined-%s", a->reported_work_order);
    snprintf(out->reason, sizeof(out->reason),
             "duplicate report: joined %s, opened by a NOC alarm", st->work_order);
    out->cancel = (cfd_event){.event_id = out->cancel_id,
                              .work_order = a->reported_work_order,
                              .source = CFD_SOURCE_NOC,
                              .event_time_ms = report->event_time_ms,
                              .reported_by = "noc",
                              .kind = CFD_MS_CANCELLED};
    out->cancel.change.reason = out->reason;
}

/*
 * The outputs a batch decides, built from the domain's values: alerts, completed
 * records, incidents, city reports, alarm notices and events, each under the output id
 * that makes it one fact (a producer retry or an outbox re-send sends the same id).
 */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/city_codec.h"
#include "confirmd/codec.h"
#include "confirmd/log.h"
#include "confirmd/alarm_codec.h"

#define MOD "worker"

/* Queues one alert; its output id is the alert id plus its kind, so a breach and its
 * retraction are two outputs about one alert. */
void cfd_emit_alert(cfd_batch *b, const char *key, const cfd_alert *a) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_alert_encode(a, &buf, &len);
    snprintf(id, sizeof(id), "alert/%s/%s", a->alert_id, cfd_alert_kind_name(a->kind));
    cfd_info(MOD, "alert %s %s for %s", cfd_alert_kind_name(a->kind),
             a->metric ? cfd_metric_name(a->metric) : "-", key);
    cfd_batch_output(b, id, CFD_OUT_ALERT, key, buf, len);
    b->env->stats->alerts++;
}

/* Queues the record as completed, under the id of its version. */
void cfd_emit_record(cfd_batch *b, const char *order, cfd_record *rec) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_record_encode(rec, &buf, &len);
    snprintf(id, sizeof(id), "rec/%s/v%" PRIu32, order, rec->version);
    cfd_info(MOD, "record %s v%" PRIu32 " %s", order, rec->version,
             cfd_state_name(rec->state));
    cfd_batch_output(b, id, CFD_OUT_RECORD, order, buf, len);
    rec->emitted_version = rec->version;
    b->env->stats->records++;
}

/* Queues an Incident under the id of its version: each change is one fact. */
static void emit_incident(cfd_batch *b, const char *key, const cfd_incident *inc) {
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_incident_encode(inc, &buf, &len);
    snprintf(id, sizeof(id), "inc/%s/v%" PRIu32, inc->incident_id, inc->version);
    if (inc->n_work_orders)
        cfd_info(MOD, "incident %s %s v%" PRIu32 ": %zu work orders", inc->incident_id,
                 cfd_incident_status_name(inc->status), inc->version, inc->n_work_orders);
    else
        cfd_info(MOD, "incident %s %s v%" PRIu32 " work order %s", inc->incident_id,
                 cfd_incident_status_name(inc->status), inc->version, key);
    cfd_batch_output(b, id, CFD_OUT_INCIDENT, inc->incident_id, buf, len);
}

void cfd_emit_incidents(cfd_batch *b, const char *key, const cfd_incident *incs, size_t n,
                       const cfd_alert *alert) {
    for (size_t i = 0; i < n; i++)
        emit_incident(b, key, &incs[i]);
    if (alert)
        cfd_emit_alert(b, key, alert);
}

void cfd_emit_city_report(cfd_batch *b, const cfd_city_report *r) {
    char id[400], key[300];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_city_report_encode(r, &buf, &len);
    cfd_city_key(r->city, r->service, key, sizeof(key));
    snprintf(id, sizeof(id), "city/%s/%s/v%" PRIu32, key, r->work_order, r->record_version);
    cfd_batch_output(b, id, CFD_OUT_CITY, key, buf, len);
}

void cfd_emit_alarm(cfd_batch *b, const char *id, const cfd_alarm *notice) {
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_alarm_encode(notice, &buf, &len);
    cfd_batch_output(b, id, CFD_OUT_NOTICE,
                  notice->coordinator ? notice->coordinator : notice->network_object, buf, len);
}

void cfd_emit_completion_notice(cfd_batch *b, const char *order, const cfd_record *rec) {
    char alarm_id[200], id[240];
    /* Keyed by the object the order is bound to: the one whose alarm opened it, or the
     * circuit a customer reported on (see cfd_emit_report_notice); and the circuit too
     * when a port's or a piece of equipment's alarm opened it (see
     * cfd_emit_opened_notice). */
    const char *object = rec->alarm_object ? rec->alarm_object : rec->circuit_id;
    if (!object)
        return;
    snprintf(alarm_id, sizeof(alarm_id), "closed-%s-v%" PRIu32, order, rec->version);
    cfd_alarm notice = {.alarm_id = alarm_id, .network_object = object,
                        .event_time_ms = cfd_record_as_of(rec),
                        .closed_work_order = order,
                        .closed_needs_observation = rec->result == CFD_RESULT_NEEDS_OBSERVATION,
                        .closed_watched_from_ms = rec->service_end_time_ms
                                                      ? rec->service_end_time_ms
                                                      : rec->restored_at_ms};
    snprintf(id, sizeof(id), "notice/%s/v%" PRIu32, order, rec->version);
    cfd_emit_alarm(b, id, &notice);
    if (rec->alarm_object && rec->circuit_id && strcmp(rec->alarm_object, rec->circuit_id)) {
        notice.network_object = rec->circuit_id;
        snprintf(id, sizeof(id), "notice/%s/v%" PRIu32 "/circuit", order, rec->version);
        cfd_emit_alarm(b, id, &notice);
    }
}

void cfd_emit_opened_notice(cfd_batch *b, const char *circuit, const char *object,
                           const char *order, int64_t t) {
    char alarm_id[200], id[240];
    snprintf(alarm_id, sizeof(alarm_id), "opened-%s", order);
    cfd_alarm notice = {.alarm_id = alarm_id, .network_object = circuit,
                        .event_time_ms = t, .opened_work_order = order, .opened_on = object};
    snprintf(id, sizeof(id), "notice/opened/%s", order);
    cfd_emit_alarm(b, id, &notice);
}

void cfd_emit_report_notice(cfd_batch *b, const char *order, const cfd_event *ev,
                           const void *bytes, size_t len) {
    char alarm_id[200], id[240];
    const char *circuit = ev->report.circuit_id;
    if (!circuit || ev->report.alarm_object)
        return;
    snprintf(alarm_id, sizeof(alarm_id), "report-%s", order);
    cfd_alarm notice = {.alarm_id = alarm_id, .network_object = circuit,
                        .event_time_ms = ev->event_time_ms, .reported_work_order = order,
                        .report = bytes, .report_len = len};
    snprintf(id, sizeof(id), "notice/report/%s", order);
    cfd_emit_alarm(b, id, &notice);
}

void cfd_emit_event(cfd_batch *b, const cfd_event *ev) {
    char id[200];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_codec_event_encode(ev, &buf, &len)) {
        cfd_batch_fail(b, "event", ev->event_id);
        return;
    }
    snprintf(id, sizeof(id), "ev/%s", ev->event_id);
    cfd_batch_output(b, id, CFD_OUT_EVENT, ev->work_order, buf, len);
}

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

#include "confirmd/alloc.h"
#include "confirmd/city_codec.h"
#include "confirmd/codec.h"
#include "confirmd/log.h"
#include "confirmd/alarm_codec.h"

#define MOD "worker"

/* Queues one alert; its output id is the alert id plus its kind, so a breach and its
 * retraction are two outputs about one alert. */
void cfd_emit_alert(cfd_batch *b, const char *key, const cfd_alert *a)
{
    char id[320];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_alert_encode(a, &buf, &len);
    snprintf(id, sizeof(id), "alert/%s/%s", a->alert_id, cfd_alert_kind_name(a->kind));
    cfd_info(MOD, "alert %s %s for %s", cfd_alert_kind_name(a->kind),
             a->metric ? cfd_metric_name(a->metric) : "-", key);
    cfd_batch_output(b, id, CFD_OUT_ALERT, key, buf, len);
    b->env->stats->alerts++;
    if ((unsigned)a->kind < CFD_ALERT_KINDS && (unsigned)a->metric < CFD_METRIC_COUNT &&
        (unsigned)a->recipients < CFD_RECIPIENTS)
        b->env->stats->alerts_by[a->kind][a->metric][a->recipients]++;
}

/* Queues the record as completed, under the id of its version. */
void cfd_emit_record(cfd_batch *b, const char *order, cfd_record *rec,
                     const uint8_t *packed, size_t len)
{
    char id[320];
    uint8_t *buf = cfd_xmalloc(len ? len : 1);
    memcpy(buf, packed, len);
    snprintf(id, sizeof(id), "rec/%s/v%" PRIu32, order, rec->version);
    cfd_info(MOD, "record %s v%" PRIu32 " %s", order, rec->version,
             cfd_state_name(rec->state));
    cfd_batch_output(b, id, CFD_OUT_RECORD, order, buf, len);
    rec->emitted_version = rec->version;
    b->env->stats->records++;
}

/* Queues an Incident under the id of its version: each change is one fact. */
static void emit_incident(cfd_batch *b, const char *key, const cfd_incident *inc)
{
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
    if ((unsigned)inc->kind < CFD_INCIDENT_KINDS &&
        (unsigned)inc->status < CFD_INCIDENT_STATUSES)
        b->env->stats->incidents_by[inc->kind][inc->status]++;
}

void cfd_emit_incidents(cfd_batch *b, const char *key, const cfd_incident *incs, size_t n,
                        const cfd_alert *alert)
{
    for (size_t i = 0; i < n; i++)
        emit_incident(b, key, &incs[i]);
    if (alert)
        cfd_emit_alert(b, key, alert);
}

void cfd_emit_city_report(cfd_batch *b, const cfd_city_report *r)
{
    char id[400], key[300];
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_city_report_encode(r, &buf, &len);
    cfd_city_key(r->city, r->service, key, sizeof(key));
    snprintf(id, sizeof(id), "city/%s/%s/v%" PRIu32, key, r->work_order, r->record_version);
    cfd_batch_output(b, id, CFD_OUT_CITY, key, buf, len);
}

void cfd_emit_alarm(cfd_batch *b, const char *id, const cfd_alarm *notice)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_alarm_encode(notice, &buf, &len);
    cfd_batch_output(b, id, CFD_OUT_NOTICE,
                     notice->coordinator ? notice->coordinator : notice->network_object,
                     buf, len);
}

void cfd_emit_completion_notice(cfd_batch *b, const char *order, const cfd_record *rec)
{
    cfd_alarm_notice out[2];
    size_t n = cfd_alarm_completion_notices(rec, order, out);
    for (size_t i = 0; i < n; i++)
        cfd_emit_alarm(b, out[i].id, &out[i].notice);
}

void cfd_emit_opened_notice(cfd_batch *b, const char *circuit, const char *object,
                            const char *order, int64_t t)
{
    cfd_alarm_notice out;
    if (cfd_alarm_opened_notice(circuit, object, order, t, &out))
        cfd_emit_alarm(b, out.id, &out.notice);
}

void cfd_emit_report_notice(cfd_batch *b, const char *order, const cfd_event *ev,
                            const void *bytes, size_t len)
{
    cfd_alarm_notice out;
    if (cfd_alarm_report_notice(ev, order, bytes, len, &out))
        cfd_emit_alarm(b, out.id, &out.notice);
}

void cfd_emit_event(cfd_batch *b, const cfd_event *ev)
{
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

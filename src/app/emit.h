/*
 * The outputs a batch decides (see batch.h), each built from a domain value and queued
 * under the output id that makes it one fact: a producer retry or an outbox re-send
 * sends the same id, which consumers dedupe on.
 */
#ifndef CFD_APP_EMIT_H
#define CFD_APP_EMIT_H

#include "batch.h"
#include "confirmd/alarm.h"
#include "confirmd/city.h"
#include "confirmd/event.h"
#include "confirmd/incident.h"
#include "confirmd/record.h"

/* One alert, keyed by key (its work order or incident); its output id is the alert id
 * plus its kind, so a breach and its retraction are two outputs about one alert. */
void cfd_emit_alert(cfd_batch *b, const char *key, const cfd_alert *a);
/* The record of order as completed, under the id of its version (which it marks as
 * emitted); packed is rec as cfd_codec_record_encode packed it (copied). */
void cfd_emit_record(cfd_batch *b, const char *order, cfd_record *rec,
                     const uint8_t *packed, size_t len);
/* A severe fault's Incident messages (each under the id of its version) and, when it
 * opened, its SEVERE_FAULT alert; key is the order or the city incident id. */
void cfd_emit_incidents(cfd_batch *b, const char *key, const cfd_incident *incs, size_t n,
                        const cfd_alert *alert);
/* A CityReport to the city rule, keyed by its city|service key. */
void cfd_emit_city_report(cfd_batch *b, const cfd_city_report *r);
/* An Alarm of confirmd's own (a notice, or an alarm forwarded to its customer's
 * coordinator) to the alarms topic, keyed by the coordinator or else the network
 * object, under the output id id. */
void cfd_emit_alarm(cfd_batch *b, const char *id, const cfd_alarm *notice);
/* The notices of cfd_alarm_completion_notices: order, bound to an object, completed. */
void cfd_emit_completion_notice(cfd_batch *b, const char *order, const cfd_record *rec);
/* The notice of cfd_alarm_opened_notice, when one is needed: an alarm on object, another
 * of circuit's objects, opened order at t. */
void cfd_emit_opened_notice(cfd_batch *b, const char *circuit, const char *object,
                            const char *order, int64_t t);
/* The notice of cfd_alarm_report_notice, when one is needed: a customer's report ev
 * (bytes) opened order on a circuit. */
void cfd_emit_report_notice(cfd_batch *b, const char *order, const cfd_event *ev,
                            const void *bytes, size_t len);
/* An event to the events topic, keyed by its work order, under "ev/<event id>". */
void cfd_emit_event(cfd_batch *b, const cfd_event *ev);

#endif

/*
 * Protobuf <-> domain for the alarm side (proto/confirmd/v1/inventory.proto): inventory
 * records, alarms, the per-object alarm state, and the events the alarm stage sends to
 * the events topic. Part of the codec: the only module that sees generated code.
 */
#ifndef CONFIRMD_ALARM_CODEC_H
#define CONFIRMD_ALARM_CODEC_H

#include "confirmd/alarm.h"

/* A decoded Circuit; strings borrowed from pb. */
typedef struct cfd_decoded_circuit {
    cfd_circuit c;
    void *pb;
} cfd_decoded_circuit;

/* A decoded Alarm; strings borrowed from pb, or from json for a TMF642 alarm. */
typedef struct cfd_decoded_alarm {
    cfd_alarm a;
    void *pb;
    void *json;
} cfd_decoded_alarm;

/* @returns CFD_OK, CFD_ERR_DECODE, CFD_ERR_INVALID_VALUE (an enum out of range, a
 *          string not UTF-8) or CFD_ERR_MISSING_FIELD (object_id) with errstr. */
cfd_err cfd_codec_circuit_decode(const void *buf, size_t len, cfd_decoded_circuit *out,
                                 char *errstr, size_t errstr_size);
void cfd_codec_circuit_release(cfd_decoded_circuit *d); /* NULL-safe */

/* Decodes and validates an Alarm: enums and UTF-8 as for a Circuit, then
 * cfd_alarm_validate. */
cfd_err cfd_codec_alarm_decode(const void *buf, size_t len, cfd_decoded_alarm *out,
                               char *errstr, size_t errstr_size);
void cfd_codec_alarm_release(cfd_decoded_alarm *d); /* NULL-safe */

/* Decodes and validates a TMF642 (TM Forum Alarm Management) alarm, one JSON object,
 * mapped as docs/ALARMS.md says; released with cfd_codec_alarm_release.
 * @returns CFD_OK, CFD_ERR_DECODE (not a JSON object), CFD_ERR_MISSING_FIELD (id,
 *          alarmedObject.id, perceivedSeverity, alarmRaisedTime, a clear's time) or
 *          CFD_ERR_INVALID_VALUE (an unknown severity or state, a time that is not ISO
 *          8601 with an offset, a member of the wrong type), errstr naming the field. */
cfd_err cfd_codec_tmf642_decode(const void *buf, size_t len, cfd_decoded_alarm *out,
                                char *errstr, size_t errstr_size);

/* Encodes an Alarm (the closed-order notice confirmd sends itself). */
void cfd_codec_alarm_encode(const cfd_alarm *a, uint8_t **buf, size_t *len);

/* AlarmState <-> bytes; decode makes a new state (*st, owned by the caller). */
void cfd_codec_alarm_state_encode(const cfd_alarm_state *st, uint8_t **buf, size_t *len);
cfd_err cfd_codec_alarm_state_decode(const void *buf, size_t len, cfd_alarm_state **st,
                                     char *errstr, size_t errstr_size);

/* Encodes an event the alarm stage produced: a fault report (CFD_MS_REPORTED), an
 * alarm (CFD_MS_ALARM) or a cancellation (CFD_MS_CANCELLED).
 * @returns CFD_ERR_INVALID_VALUE for other kinds. */
cfd_err cfd_codec_event_encode(const cfd_event *ev, uint8_t **buf, size_t *len);

#endif

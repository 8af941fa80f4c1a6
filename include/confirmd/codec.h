/*
 * Protobuf <-> domain conversion. The only module that includes generated code.
 *
 * Encoders return a malloc'd buffer the caller frees with free(); they cannot fail
 * (out of memory aborts, see confirmd/alloc.h), decoders can.
 */
#ifndef CONFIRMD_CODEC_H
#define CONFIRMD_CODEC_H

#include "confirmd/incident.h"
#include "confirmd/record.h"

/* A decoded event plus the protobuf message its strings borrow from. */
typedef struct cfd_decoded_event {
    cfd_event ev;
    void *pb;          /* the unpacked confirmd.v1.Event; owned */
    const char **strv; /* pointer arrays for repeated strings; owned */
} cfd_decoded_event;

/*
 * Decodes a confirmd.v1.Event into out->ev (strings borrowed from out->pb) and
 * validates it: every enum a declared value, every string UTF-8 (errstr names the
 * field, never its content), then cfd_event_validate.
 * @returns CFD_OK, CFD_ERR_DECODE (not an Event), CFD_ERR_MISSING_FIELD or
 *          CFD_ERR_INVALID_VALUE, with errstr filled; out is empty on error.
 */
cfd_err cfd_codec_event_decode(const void *buf, size_t len, cfd_decoded_event *out,
                               char *errstr, size_t errstr_size);

/* Releases what cfd_codec_event_decode allocated. NULL-safe; safe on an empty out. */
void cfd_codec_event_release(cfd_decoded_event *de);

/*
 * Best effort for dead letters: copies the work order and event id of bytes that
 * unpack as an Event, even one that fails validation ("" when absent, undecodable or
 * not UTF-8; cut between characters to fit).
 * @returns true when buf unpacked as an Event.
 */
bool cfd_codec_event_ids(const void *buf, size_t len, char *work_order, size_t wo_size,
                         char *event_id, size_t id_size);

/* Encodes rec and its bookkeeping as a confirmd.v1.WorkOrderState (what Redis keeps). */
void cfd_codec_state_encode(const cfd_record *rec, uint8_t **buf, size_t *len);
/* The same bytes, around rec's ConfirmationRecord already packed by
 * cfd_codec_record_encode (record, record_len): a batch that emits the record packs it
 * once for both. */
void cfd_codec_state_encode_packed(const cfd_record *rec, const uint8_t *record,
                                   size_t record_len, uint8_t **buf, size_t *len);

/*
 * Decodes a WorkOrderState into a new record (*rec, owned by the caller).
 * @returns CFD_OK or CFD_ERR_DECODE with errstr filled.
 */
cfd_err cfd_codec_state_decode(const void *buf, size_t len, cfd_record **rec, char *errstr,
                               size_t errstr_size);

/* Encodes the emitted form: a confirmd.v1.ConfirmationRecord. */
void cfd_codec_record_encode(const cfd_record *rec, uint8_t **buf, size_t *len);

/* Encodes a confirmd.v1.SlaAlert. */
void cfd_codec_alert_encode(const cfd_alert *a, uint8_t **buf, size_t *len);

/* Encodes a confirmd.v1.Incident. */
void cfd_codec_incident_encode(const cfd_incident *inc, uint8_t **buf, size_t *len);

/* A message that could not be applied. Strings and bytes are borrowed. */
typedef struct cfd_dead_letter {
    const void *original;
    size_t original_len; /* the whole message: its length and hash are encoded */
    const char *topic;
    int32_t partition;
    int64_t offset;
    cfd_dl_reason reason;
    const char *detail;
    const char *work_order; /* may be NULL */
    const char *event_id;   /* may be NULL */
    int64_t dead_at_ms;
    size_t max_original; /* at most this many bytes of original are encoded (0: none,
                               SIZE_MAX: all); its length and hash always are */
} cfd_dead_letter;

/* Encodes a confirmd.v1.DeadLetter. Its text fields stay UTF-8 whatever dl holds: a
 * detail is cut before its first bad byte, another field that is not UTF-8 is left
 * out; the original bytes go as they are. */
void cfd_codec_dead_letter_encode(const cfd_dead_letter *dl, uint8_t **buf, size_t *len);

/* @returns the dead-letter reason for a decode/validate/apply error code. */
cfd_dl_reason cfd_codec_dl_reason(cfd_err err);

/*
 * JSON <-> protobuf, driven by the protobuf-c descriptors. Takes either form that
 * cfd_pb_to_json_as prints: field names as in the .proto or in lowerCamelCase
 * (canonical proto3 JSON); enums by name or number; bytes as base64; 64-bit integers
 * (and doubles) as numbers or strings.
 * type_name is a short name in package confirmd.v1: "Event", "ConfirmationRecord",
 * "SlaAlert", "Incident", "DeadLetter", "WorkOrderState".
 * @returns CFD_OK, or CFD_ERR_DECODE / CFD_ERR_INVALID_VALUE with errstr filled
 *          (unknown field names are an error, naming the field).
 */
cfd_err cfd_json_to_pb(const char *type_name, const char *json, uint8_t **buf, size_t *len,
                       char *errstr, size_t errstr_size);

/* How cfd_pb_to_json_as prints a message. */
typedef enum cfd_json_form {
    CFD_JSON_PROTO,  /* field names as in the .proto, 64-bit integers as numbers */
    CFD_JSON_PROTO3, /* the canonical proto3 JSON mapping: lowerCamelCase names,
                        64-bit integers as strings, enums by name, bytes as base64 */
} cfd_json_form;

/* @returns a malloc'd one-line JSON text of the message (type_name short or full),
 * or NULL with errstr filled. */
char *cfd_pb_to_json_as(const char *type_name, cfd_json_form form, const void *buf,
                        size_t len, char *errstr, size_t errstr_size);
/* cfd_pb_to_json_as in the CFD_JSON_PROTO form. */
char *cfd_pb_to_json(const char *type_name, const void *buf, size_t len, char *errstr,
                     size_t errstr_size);

/* @returns the full protobuf name ("confirmd.v1.SlaAlert") of a confirmd.v1 message
 * given by short or full name, or NULL when there is none. */
const char *cfd_pb_type_name(const char *type_name);

/* The full names of the messages the worker produces, for its "type" header
 * (tests/unit/test_json.c checks them against the schema). */
#define CFD_PB_RECORD "confirmd.v1.ConfirmationRecord"
#define CFD_PB_ALERT "confirmd.v1.SlaAlert"
#define CFD_PB_DEAD_LETTER "confirmd.v1.DeadLetter"
#define CFD_PB_EVENT "confirmd.v1.Event"
#define CFD_PB_ALARM "confirmd.v1.Alarm"
#define CFD_PB_INCIDENT "confirmd.v1.Incident"
#define CFD_PB_CITY_REPORT "confirmd.v1.CityReport"

/* Frees what the codec keeps per thread between calls (the state compressor's
 * contexts and digested dictionary); the codec still works after it. A thread that
 * ends frees them by itself; the main thread calls this before it returns. */
void cfd_codec_thread_release(void);

#endif

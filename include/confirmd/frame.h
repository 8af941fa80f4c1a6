/*
 * Frames: how an output waiting in a partition's outbox and an event waiting in an
 * order's park list are kept as bytes in Redis. Written by one worker, read back by
 * the partition's next owner after a crash or a rebalance, so the writer and the
 * parser share one table of output kinds.
 */
#ifndef CONFIRMD_FRAME_H
#define CONFIRMD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "confirmd/types.h"

/* X(NAME, tag byte, name): every output kind, the one table the enum, the writer and
 * the parser are made from. */
#define CFD_OUTPUT_KINDS(X)                                                       \
    X(RECORD, 'R', "record") /* ConfirmationRecord, keyed by work order */        \
    X(ALERT, 'A', "alert")   /* SlaAlert, keyed by work order or incident */      \
    X(DEAD_LETTER, 'D', "dead-letter")                                            \
    X(EVENT, 'E', "event")       /* an event for the events topic (by order) */   \
    X(NOTICE, 'N', "notice")     /* an Alarm for the alarms topic (by object) */  \
    X(INCIDENT, 'I', "incident") /* a severe fault's Incident (by incident id) */ \
    X(CITY, 'C', "city-report")  /* a CityReport for the city rule (city|service) */

typedef enum cfd_output_kind {
#define CFD_OUTPUT_KIND_ENUM(name, tag, str) CFD_OUT_##name = tag,
    CFD_OUTPUT_KINDS(CFD_OUTPUT_KIND_ENUM)
#undef CFD_OUTPUT_KIND_ENUM
} cfd_output_kind;

/* @returns the kind's name ("record", ...), or NULL when tag is no output kind. */
const char *cfd_output_kind_name(int tag);

/* Output frame: kind (1) | key length (2, big-endian) | key | payload.
 * @returns a malloc'd frame of *len bytes (aborts when out of memory). */
void *cfd_frame_output(cfd_output_kind kind, const char *key, const void *payload,
                       size_t payload_len, size_t *len);
/* Splits a frame (pointers into it). @returns CFD_OK or CFD_ERR_DECODE. */
cfd_err cfd_frame_output_parse(const void *frame, size_t len, cfd_output_kind *kind,
                               const char **key, size_t *key_len, const void **payload,
                               size_t *payload_len);

/* A parked event: where it came from, when it expires, and its bytes. */
typedef struct cfd_parked_ref {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t expire_at_ms;
    const void *payload;
    size_t payload_len;
} cfd_parked_ref;

/* Parked frame: partition (4) | offset (8) | expiry (8) | topic length (2) | topic |
 * payload. @returns a malloc'd frame of *len bytes (aborts when out of memory). */
void *cfd_frame_parked(const cfd_parked_ref *ref, size_t *len);

/* Splits a frame: ref->payload points into it, ref->topic into topic.
 * @returns CFD_OK or CFD_ERR_DECODE. */
cfd_err cfd_frame_parked_parse(const void *frame, size_t len, cfd_parked_ref *ref,
                               char *topic, size_t topic_size);

#endif

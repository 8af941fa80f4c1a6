/*
 * Private to the codec: helpers codec.c, alarm_codec.c and city.c share.
 */
#ifndef CFD_CODEC_INT_H
#define CFD_CODEC_INT_H

#include <protobuf-c/protobuf-c.h>

#include "confirmd/customer.h"
#include "confirmd/types.h"
#include "confirmd/v1/common.pb-c.h"

struct json_object;

/* proto3 cannot tell "" from absent; the domain uses NULL for absent. */
const char *codec_opt(const char *s);

/* The customer block, message -> domain: strings borrowed from c (absent ones NULL);
 * all zero when c is NULL. */
void codec_customer_from_pb(const Confirmd__V1__Customer *c, cfd_customer *out);

/* The customer block, domain -> message: *out initialised, strings borrowed from c. */
void codec_customer_to_pb(const cfd_customer *c, Confirmd__V1__Customer *out);

/* The other way: a domain string for a generated message's field, "" for NULL
 * (borrowed: protobuf-c packs strings by pointer). */
char *codec_pb_str(const char *s);

/* What codec_values_valid checks. */
typedef enum codec_check {
    CODEC_CHECK_ENUMS, /* every enum field holds a value its enum declares */
    CODEC_CHECK_TEXT,  /* that, and every string field is well-formed UTF-8 */
} codec_check;

/* Walks m and its sub-messages and checks what says.
 * @returns true when all is well; otherwise false with errstr naming the field path
 *          ("fault_report.customer.name", "arrived_on_site.engineers[1]"). */
bool codec_values_valid(const ProtobufCMessage *m, codec_check what, char *errstr,
                        size_t errstr_size);

/* Packs any message into a malloc'd buffer (never fails, see confirmd/alloc.h). */
void codec_pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len);

/* proto3's presence on top of the base copies (confirmd/text.h): an empty string is
 * absent. @returns a malloc'd copy of s, or NULL when s is absent (NULL or ""). */
char *codec_dup(const char *s);

/* @returns a malloc'd copy of the present strings of a repeated field (cfd_strv_dup),
 *          *n_out their count. */
char **codec_dupv(char *const *src, size_t n, size_t *n_out);

/* The compact form of a stored state (state_pack.c): raw, a packed WorkOrderState,
 * compressed behind a format mark. *out is malloc'd, or NULL when it would not be
 * smaller than raw. */
void codec_state_compact(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len);

/* @returns true when buf holds a stored state in a compact form, not a bare protobuf. */
bool codec_state_is_compact(const void *buf, size_t len);

/* Inflates a compact state into *raw (malloc'd, the WorkOrderState protobuf).
 * @returns CFD_OK, or CFD_ERR_DECODE with errstr filled (unknown format, corrupt). */
cfd_err codec_state_expand(const void *buf, size_t len, uint8_t **raw, size_t *raw_len,
                           char *errstr, size_t errstr_size);

/* Parses len bytes of JSON text (json need not end in a NUL) that must be one object,
 * what naming it in errors ("Alarm"); only whitespace may follow it.
 * @returns CFD_OK with *out owned by the caller (json_object_put), CFD_ERR_DECODE with
 *          errstr ("invalid JSON: ..."), or CFD_ERR when json-c is out of memory. */
cfd_err codec_json_object_parse(const char *json, size_t len, const char *what,
                                struct json_object **out, char *errstr, size_t errstr_size);

#endif

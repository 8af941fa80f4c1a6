/*
 * JSON <-> protobuf for the confirmd.v1 messages, driven by the protobuf-c
 * descriptors: no code here knows a field of the schema by name.
 *
 * Parsing takes both forms: field names as in the .proto or in lowerCamelCase (the
 * proto3 JSON names; both spellings of one field in one object are an error), enums
 * by name or number, numbers as JSON numbers or strings (64-bit integers, "NaN",
 * "Infinity", "-Infinity"), bytes as base64 (either alphabet), null as absent; unknown
 * fields are an error. Printing omits scalars at their default value, except members
 * of a oneof, which print whenever set. The CFD_JSON_PROTO form keeps the .proto names
 * and 64-bit integers as numbers; CFD_JSON_PROTO3 is the canonical mapping:
 * lowerCamelCase names, 64-bit integers as strings, non-finite doubles as strings.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec_int.h"

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/text.h"
#include "confirmd/v1/alert.pb-c.h"
#include "confirmd/v1/events.pb-c.h"
#include "confirmd/v1/incident.pb-c.h"
#include "confirmd/v1/inventory.pb-c.h"
#include "confirmd/v1/record.pb-c.h"

/* Nesting limit for the descriptor walks: the schema is not recursive, this only
 * bounds the damage should it ever become so. */
#define JSON_MAX_DEPTH 16

/* Messages from which every message of the schema can be reached. */
static const ProtobufCMessageDescriptor *const json_roots[] = {
    &confirmd__v1__event__descriptor,       &confirmd__v1__work_order_state__descriptor,
    &confirmd__v1__sla_alert__descriptor,   &confirmd__v1__incident__descriptor,
    &confirmd__v1__dead_letter__descriptor, &confirmd__v1__circuit__descriptor,
    &confirmd__v1__alarm__descriptor,       &confirmd__v1__alarm_state__descriptor,
    &confirmd__v1__city_state__descriptor,
};

/* ---- type lookup ----------------------------------------------------------------- */

static const ProtobufCMessageDescriptor *json_find_in(const ProtobufCMessageDescriptor *d,
                                                      const char *name, int depth)
{
    if (strcmp(d->short_name, name) == 0 || strcmp(d->name, name) == 0)
        return d;
    if (depth >= JSON_MAX_DEPTH)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const ProtobufCMessageDescriptor *hit =
            json_find_in(f->descriptor, name, depth + 1);
        if (hit)
            return hit;
    }
    return NULL;
}

/* @returns the descriptor of a confirmd.v1 message by short or full name, or NULL. */
static const ProtobufCMessageDescriptor *json_descriptor(const char *type_name)
{
    if (!type_name)
        return NULL;
    for (size_t i = 0; i < sizeof json_roots / sizeof json_roots[0]; i++) {
        const ProtobufCMessageDescriptor *d = json_find_in(json_roots[i], type_name, 0);
        if (d)
            return d;
    }
    return NULL;
}

/* ---- base64 (RFC 4648; decoding also takes the URL-safe alphabet, padding optional) */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *in, size_t len)
{
    char *out = cfd_xmalloc(4 * ((len + 2) / 3) + 1);
    char *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = b64_alphabet[v >> 18 & 63];
        *o++ = b64_alphabet[v >> 12 & 63];
        *o++ = b64_alphabet[v >> 6 & 63];
        *o++ = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = b64_alphabet[v >> 18 & 63];
        *o++ = b64_alphabet[v >> 12 & 63];
        *o++ = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* @returns 0 and a malloc'd *out (NULL when empty), or -1 when in is not base64. */
static int b64_decode(const char *in, size_t len, uint8_t **out, size_t *out_len)
{
    while (len > 0 && in[len - 1] == '=')
        len--;
    *out = NULL;
    *out_len = 0;
    if (len % 4 == 1)
        return -1;
    if (len == 0)
        return 0;
    uint8_t *buf = cfd_xmalloc(len * 3 / 4 + 1);
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(in[i]);
        if (v < 0) {
            free(buf);
            return -1;
        }
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---- field names ------------------------------------------------------------------ */

/* The proto3 JSON name of a field: protoc's rule, each letter after an underscore in
 * upper case and the underscores dropped ("work_order" -> "workOrder"). */
static const char *json_camel_name(const char *name, char *out, size_t size)
{
    size_t n = 0;
    bool upper = false;
    for (; *name && n + 1 < size; name++) {
        if (*name == '_') {
            upper = true;
            continue;
        }
        out[n++] =
            upper && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        upper = false;
    }
    out[n] = '\0';
    return out;
}

/* The field of d named key: by its .proto name or its proto3 JSON name (as a proto3
 * JSON parser must take both). @returns it, or NULL. */
static const ProtobufCFieldDescriptor *json_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(d, key);
    char camel[128];

    for (unsigned i = 0; !f && i < d->n_fields; i++)
        if (strcmp(json_camel_name(d->fields[i].name, camel, sizeof camel), key) == 0)
            f = &d->fields[i];
    return f;
}

/* ---- JSON -> protobuf ------------------------------------------------------------- */

/* Where the parser is, for error messages: "fault_report.customer.tier". */
typedef struct json_ctx {
    char *errstr;
    size_t errstr_size;
} json_ctx;

static size_t json_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default: /* 32-bit integers and enums */
        return sizeof(int32_t);
    }
}

static cfd_err json_type_error(json_ctx *c, const char *path, const char *expected,
                               json_object *v)
{
    const char *got = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    snprintf(c->errstr, c->errstr_size, "field \"%s\": expected %s, got %.64s", path,
             expected, got ? got : "?");
    return CFD_ERR_INVALID_VALUE;
}

/* Reads a JSON integer, or a string holding one, as a signed 64-bit value. */
static int json_get_i64(json_object *v, int64_t *out)
{
    switch (json_object_get_type(v)) {
    case json_type_int:
        *out = json_object_get_int64(v);
        if (*out == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
            return -1;
        return 0;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
            return -1;
        *out = (int64_t)d;
        return 0;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        char *end;
        errno = 0;
        long long ll = strtoll(s, &end, 10);
        if (errno || end == s || *end)
            return -1;
        *out = ll;
        return 0;
    }
    default:
        return -1;
    }
}

/* Reads a JSON integer, or a string holding one, as an unsigned 64-bit value. */
static int json_get_u64(json_object *v, uint64_t *out)
{
    switch (json_object_get_type(v)) {
    case json_type_int:
        if (json_object_get_int64(v) < 0)
            return -1;
        *out = json_object_get_uint64(v);
        return 0;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d))
            return -1;
        *out = (uint64_t)d;
        return 0;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        char *end;
        if (*s == '-')
            return -1;
        errno = 0;
        unsigned long long ull = strtoull(s, &end, 10);
        if (errno || end == s || *end)
            return -1;
        *out = ull;
        return 0;
    }
    default:
        return -1;
    }
}

static int json_get_double(json_object *v, double *out)
{
    switch (json_object_get_type(v)) {
    case json_type_int:
    case json_type_double:
        *out = json_object_get_double(v);
        return 0;
    case json_type_string: {
        const char *s = json_object_get_string(v);
        char *end;
        errno = 0;
        *out = strtod(s, &end);
        return errno || end == s || *end ? -1 : 0;
    }
    default:
        return -1;
    }
}

static cfd_err json_to_message(const ProtobufCMessageDescriptor *d, json_object *obj,
                               const char *path, int depth, json_ctx *c,
                               ProtobufCMessage **out);

/* Converts one JSON value into the field's C representation at member. */
static cfd_err json_to_value(const ProtobufCFieldDescriptor *f, json_object *v,
                             const char *path, int depth, json_ctx *c, void *member)
{
    int64_t i64;
    uint64_t u64;
    double dbl;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (json_get_i64(v, &i64) || i64 < INT32_MIN || i64 > INT32_MAX)
            return json_type_error(c, path, "a 32-bit integer", v);
        *(int32_t *)member = (int32_t)i64;
        return CFD_OK;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (json_get_u64(v, &u64) || u64 > UINT32_MAX)
            return json_type_error(c, path, "an unsigned 32-bit integer", v);
        *(uint32_t *)member = (uint32_t)u64;
        return CFD_OK;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (json_get_i64(v, &i64))
            return json_type_error(c, path, "a 64-bit integer (number or string)", v);
        *(int64_t *)member = i64;
        return CFD_OK;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (json_get_u64(v, &u64))
            return json_type_error(c, path, "an unsigned 64-bit integer", v);
        *(uint64_t *)member = u64;
        return CFD_OK;
    case PROTOBUF_C_TYPE_FLOAT:
        if (json_get_double(v, &dbl))
            return json_type_error(c, path, "a number", v);
        *(float *)member = (float)dbl;
        return CFD_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (json_get_double(v, &dbl))
            return json_type_error(c, path, "a number", v);
        *(double *)member = dbl;
        return CFD_OK;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return json_type_error(c, path, "true or false", v);
        *(protobuf_c_boolean *)member = json_object_get_boolean(v) ? 1 : 0;
        return CFD_OK;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (json_object_is_type(v, json_type_string)) {
            const ProtobufCEnumValue *ev =
                protobuf_c_enum_descriptor_get_value_by_name(ed, json_object_get_string(v));
            if (!ev) {
                char what[160];
                snprintf(what, sizeof what, "a %s name or number", ed->name);
                return json_type_error(c, path, what, v);
            }
            *(int32_t *)member = ev->value;
            return CFD_OK;
        }
        /* Unknown numbers pass, as proto3 enums are open; the receiver validates. */
        if (!json_object_is_type(v, json_type_int) || json_get_i64(v, &i64) ||
            i64 < INT32_MIN || i64 > INT32_MAX) {
            char what[160];
            snprintf(what, sizeof what, "a %s name or number", ed->name);
            return json_type_error(c, path, what, v);
        }
        *(int32_t *)member = (int32_t)i64;
        return CFD_OK;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_object_is_type(v, json_type_string))
            return json_type_error(c, path, "a string", v);
        *(char **)member = cfd_xstrdup(json_object_get_string(v));
        return CFD_OK;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = member;
        if (!json_object_is_type(v, json_type_string) ||
            b64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                       &bd->data, &bd->len))
            return json_type_error(c, path, "a base64 string", v);
        return CFD_OK;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_object_is_type(v, json_type_object))
            return json_type_error(c, path, "an object", v);
        return json_to_message(f->descriptor, v, path, depth + 1, c,
                               (ProtobufCMessage **)member);
    }
    snprintf(c->errstr, c->errstr_size, "field \"%s\": unsupported type", path);
    return CFD_ERR_INVALID_VALUE;
}

/* Fills a repeated field from a JSON array; the count grows with each element set, so
 * protobuf_c_message_free_unpacked() can release a half-filled array. */
static cfd_err json_to_repeated(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                json_object *v, const char *path, int depth, json_ctx *c)
{
    if (!json_object_is_type(v, json_type_array))
        return json_type_error(c, path, "an array", v);
    size_t n = json_object_array_length(v);
    if (n == 0)
        return CFD_OK;
    size_t esz = json_elem_size(f->type);
    uint8_t *arr = cfd_xcalloc(n, esz);
    size_t *count = (size_t *)((uint8_t *)m + f->quantifier_offset);
    *(void **)((uint8_t *)m + f->offset) = arr;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        char epath[512];
        if (snprintf(epath, sizeof epath, "%s[%zu]", path, i) < 0)
            epath[0] = '\0'; /* a truncated path still names the field well enough */
        json_object *e = json_object_array_get_idx(v, i);
        if (!e)
            return json_type_error(c, epath, "a value", v);
        cfd_err err = json_to_value(f, e, epath, depth, c, arr + i * esz);
        if (err)
            return err;
        (*count)++;
    }
    return CFD_OK;
}

static cfd_err json_to_message(const ProtobufCMessageDescriptor *d, json_object *obj,
                               const char *path, int depth, json_ctx *c,
                               ProtobufCMessage **out)
{
    *out = NULL;
    if (depth > JSON_MAX_DEPTH) {
        snprintf(c->errstr, c->errstr_size, "field \"%s\": nested too deeply", path);
        return CFD_ERR_INVALID_VALUE;
    }
    ProtobufCMessage *m = cfd_xcalloc(1, d->sizeof_message);
    d->message_init(m);
    unsigned char *seen = cfd_xcalloc(d->n_fields + 1, 1);

    cfd_err err = CFD_OK;
    json_object_object_foreach(obj, key, v)
    {
        char fpath[512];
        if (snprintf(fpath, sizeof fpath, "%s%s%s", path, *path ? "." : "", key) < 0)
            fpath[0] = '\0'; /* a truncated path still names the field well enough */
        const ProtobufCFieldDescriptor *f = json_field(d, key);
        if (!f) {
            snprintf(c->errstr, c->errstr_size, "unknown field \"%s\" (not in %s)", fpath,
                     d->name);
            err = CFD_ERR_INVALID_VALUE;
            goto out;
        }
        /* Both spellings of one field: which one counts would be a guess. */
        if (seen[f - d->fields]++) {
            snprintf(c->errstr, c->errstr_size,
                     "field \"%s\": given twice (as \"%s\" and its proto3 JSON name)",
                     fpath, f->name);
            err = CFD_ERR_INVALID_VALUE;
            goto out;
        }
        if (!v) /* null: absent */
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            err = json_to_repeated(m, f, v, fpath, depth, c);
            if (err)
                goto out;
            continue;
        }
        uint8_t *member = (uint8_t *)m + f->offset;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *which = (uint32_t *)((uint8_t *)m + f->quantifier_offset);
            if (*which && *which != f->id) {
                const ProtobufCFieldDescriptor *other =
                    protobuf_c_message_descriptor_get_field(d, *which);
                snprintf(c->errstr, c->errstr_size,
                         "field \"%s\": oneof already set by \"%s\"", fpath,
                         other ? other->name : "?");
                err = CFD_ERR_INVALID_VALUE;
                goto out;
            }
            /* Zero the union slot first: free_unpacked releases the member once the
             * case names it, even if conversion fails halfway. */
            memset(member, 0, json_elem_size(f->type));
            *which = f->id;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
                   f->type != PROTOBUF_C_TYPE_STRING &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE) {
            *(protobuf_c_boolean *)((uint8_t *)m + f->quantifier_offset) = 1;
        }
        err = json_to_value(f, v, fpath, depth, c, member);
        if (err)
            goto out;
    }
out:
    free(seen);
    if (err) {
        protobuf_c_message_free_unpacked(m, NULL);
        return err;
    }
    *out = m;
    return CFD_OK;
}

cfd_err codec_json_object_parse(const char *json, size_t len, const char *what,
                                json_object **out, char *errstr, size_t errstr_size)
{
    json_object *root = NULL;
    cfd_err err = CFD_OK;

    *out = NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        snprintf(errstr, errstr_size, "out of memory"); /* json-c's own allocation */
        return CFD_ERR;
    }
    root = json_tokener_parse_ex(tok, json, (int)(len > INT_MAX ? INT_MAX : len));
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr != json_tokener_success) {
        snprintf(errstr, errstr_size, "invalid JSON: %s",
                 jerr == json_tokener_continue ? "unexpected end of text"
                                               : json_tokener_error_desc(jerr));
        err = CFD_ERR_DECODE;
        goto out;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (!strchr(" \t\r\n", json[i]) || json[i] == '\0') {
            snprintf(errstr, errstr_size, "invalid JSON: trailing text at offset %zu", i);
            err = CFD_ERR_DECODE;
            goto out;
        }
    }
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(errstr, errstr_size, "invalid JSON: a %s must be a JSON object", what);
        err = CFD_ERR_DECODE;
        goto out;
    }
    *out = root;
    root = NULL;
out:
    json_object_put(root);
    json_tokener_free(tok);
    return err;
}

cfd_err cfd_json_to_pb(const char *type_name, const char *json, uint8_t **buf, size_t *len,
                       char *errstr, size_t errstr_size)
{
    json_ctx c = {errstr, errstr_size};
    json_object *root = NULL;
    ProtobufCMessage *m = NULL;
    cfd_err err = CFD_OK;

    *buf = NULL;
    *len = 0;
    const ProtobufCMessageDescriptor *d = json_descriptor(type_name);
    if (!d) {
        snprintf(errstr, errstr_size, "unknown message type \"%s\"",
                 type_name ? type_name : "(null)");
        return CFD_ERR_INVALID_VALUE;
    }
    if (!json) {
        snprintf(errstr, errstr_size, "invalid JSON: no text");
        return CFD_ERR_DECODE;
    }

    err = codec_json_object_parse(json, strlen(json), d->name, &root, errstr, errstr_size);
    if (err)
        goto out;
    err = json_to_message(d, root, "", 0, &c, &m);
    if (err)
        goto out;
    if (!protobuf_c_message_check(m)) {
        snprintf(errstr, errstr_size, "%s: a required field is missing", d->name);
        err = CFD_ERR_INVALID_VALUE;
        goto out;
    }
    *buf = cfd_xmalloc(protobuf_c_message_get_packed_size(m));
    *len = protobuf_c_message_pack(m, *buf);
out:
    protobuf_c_message_free_unpacked(m, NULL);
    json_object_put(root);
    return err;
}

/* ---- protobuf -> JSON ------------------------------------------------------------- */

static json_object *json_from_message(const ProtobufCMessage *m, cfd_json_form form,
                                      int depth);

/* A 64-bit integer: a number, or in proto3 JSON a string (JavaScript's doubles lose
 * precision above 2^53). */
static json_object *json_from_i64(int64_t v, bool is_unsigned, cfd_json_form form)
{
    char text[24];
    if (form != CFD_JSON_PROTO3)
        return is_unsigned ? json_object_new_uint64((uint64_t)v) : json_object_new_int64(v);
    if (is_unsigned)
        snprintf(text, sizeof text, "%" PRIu64, (uint64_t)v);
    else
        snprintf(text, sizeof text, "%" PRId64, v);
    return json_object_new_string(text);
}

/* A double; proto3 JSON spells the values JSON has no number for as strings. */
static json_object *json_from_double(double v, cfd_json_form form)
{
    if (form == CFD_JSON_PROTO3 && !isfinite(v))
        return json_object_new_string(isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    return json_object_new_double(v);
}

static json_object *json_from_value(const ProtobufCFieldDescriptor *f, const void *member,
                                    cfd_json_form form, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_object_new_int64(*(const int32_t *)member);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_object_new_int64(*(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_from_i64(*(const int64_t *)member, false, form);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_from_i64(*(const int64_t *)member, true, form);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_from_double(*(const float *)member, form);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_from_double(*(const double *)member, form);
    case PROTOBUF_C_TYPE_BOOL:
        return json_object_new_boolean(*(const protobuf_c_boolean *)member != 0);
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v = *(const int32_t *)member;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_object_new_string(ev->name) : json_object_new_int64(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)member;
        return json_object_new_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = member;
        char *s = b64_encode(bd->data, bd->len);
        json_object *o = json_object_new_string(s);
        free(s);
        return o;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member;
        return sub ? json_from_message(sub, form, depth + 1) : json_object_new_object();
    }
    }
    return NULL;
}

/* @returns true when a singular proto3 field holds its default (and is not printed). */
static bool json_is_default(const ProtobufCFieldDescriptor *f, const void *member)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)member == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)member == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)member == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)member == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)member;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const void *const *)member == NULL;
    default: /* 32-bit integers and enums */
        return *(const uint32_t *)member == 0;
    }
}

static json_object *json_from_message(const ProtobufCMessage *m, cfd_json_form form,
                                      int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_object *obj = json_object_new_object();
    if (!obj || depth > JSON_MAX_DEPTH)
        return obj;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const uint8_t *member = (const uint8_t *)m + f->offset;
        const uint8_t *quant = (const uint8_t *)m + f->quantifier_offset;
        json_object *v = NULL;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)quant;
            if (n == 0)
                continue;
            const uint8_t *arr = *(const uint8_t *const *)member;
            size_t esz = json_elem_size(f->type);
            v = json_object_new_array();
            for (size_t k = 0; v && k < n; k++)
                json_object_array_add(v, json_from_value(f, arr + k * esz, form, depth));
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)quant != f->id)
                continue;
            v = json_from_value(f, member, form, depth);
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
                   f->type != PROTOBUF_C_TYPE_STRING &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE) {
            if (!*(const protobuf_c_boolean *)quant)
                continue;
            v = json_from_value(f, member, form, depth);
        } else {
            if (f->label != PROTOBUF_C_LABEL_REQUIRED && json_is_default(f, member))
                continue;
            v = json_from_value(f, member, form, depth);
        }
        char camel[128];
        json_object_object_add(obj,
                               form == CFD_JSON_PROTO3
                                   ? json_camel_name(f->name, camel, sizeof camel)
                                   : f->name,
                               v);
    }
    return obj;
}

const char *cfd_pb_type_name(const char *type_name)
{
    const ProtobufCMessageDescriptor *d = json_descriptor(type_name);
    return d ? d->name : NULL;
}

char *cfd_pb_to_json(const char *type_name, const void *buf, size_t len, char *errstr,
                     size_t errstr_size)
{
    return cfd_pb_to_json_as(type_name, CFD_JSON_PROTO, buf, len, errstr, errstr_size);
}

char *cfd_pb_to_json_as(const char *type_name, cfd_json_form form, const void *buf,
                        size_t len, char *errstr, size_t errstr_size)
{
    const ProtobufCMessageDescriptor *d = json_descriptor(type_name);
    if (!d) {
        snprintf(errstr, errstr_size, "unknown message type \"%s\"",
                 type_name ? type_name : "(null)");
        return NULL;
    }
    /* A stored state may be in its compact form (what Redis keeps for a completed
     * order): show the WorkOrderState inside. */
    uint8_t *raw = NULL;
    if (d == &confirmd__v1__work_order_state__descriptor &&
        codec_state_is_compact(buf, len)) {
        size_t raw_len;
        if (codec_state_expand(buf, len, &raw, &raw_len, errstr, errstr_size))
            return NULL;
        buf = raw;
        len = raw_len;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
    free(raw);
    if (!m) {
        snprintf(errstr, errstr_size, "undecodable: not a %s (%zu bytes)", d->name, len);
        return NULL;
    }
    json_object *obj = json_from_message(m, form, 0);
    const char *js = obj ? json_object_to_json_string_ext(
                               obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                         : NULL;
    char *text = cfd_text_dup(js);
    if (!text) /* json-c's own allocation failed */
        snprintf(errstr, errstr_size, "out of memory");
    json_object_put(obj);
    protobuf_c_message_free_unpacked(m, NULL);
    return text;
}

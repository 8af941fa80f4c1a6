/*
 * Unit tests of the descriptor-driven JSON <-> protobuf mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include <cmocka.h>

#include "confirmd/codec.h"
#include "confirmd/v1/alert.pb-c.h"
#include "confirmd/v1/events.pb-c.h"
#include "confirmd/v1/incident.pb-c.h"
#include "confirmd/v1/inventory.pb-c.h"
#include "confirmd/v1/record.pb-c.h"

/* JSON -> protobuf -> JSON; NULL errors fail the test with the message. */
static char *json_roundtrip(const char *type, const char *in)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char errstr[256] = "";

    if (cfd_json_to_pb(type, in, &buf, &len, errstr, sizeof errstr)) {
        print_error("%s %s: %s\n", type, in, errstr);
        fail();
    }
    char *out = cfd_pb_to_json(type, buf, len, errstr, sizeof errstr);
    if (!out) {
        print_error("%s %s: %s\n", type, in, errstr);
        fail();
    }
    free(buf);
    return out;
}

/* ---- canonical texts print back unchanged ------------------------------------- */

typedef struct canon_case {
    const char *type;
    const char *json;
} canon_case;

static const canon_case canon_cases[] = {
    {"Event",
     "{\"event_id\":\"EV-1\",\"work_order\":\"WO-1\",\"source\":\"SOURCE_CUSTOMER\","
     "\"event_time_ms\":1767225600000,\"ingest_time_ms\":1767225600500,"
     "\"reported_by\":\"hotline\",\"fault_report\":{\"issuing_unit\":\"梁平分公司\","
     "\"customer\":{\"name\":\"重庆某某科技有限公司\",\"contact_phone\":\"13800000001\","
     "\"tier\":\"TIER_AAA\",\"gold\":true,\"city\":\"重庆\"},\"network\":{\"circuit_id\":"
     "\"CQ-LP-0001\"},\"problem_description\":\"专线中断 \\\"全阻\\\"\\n\","
     "\"urgency\":\"URGENCY_URGENT\"}}"},
    {"Event", "{\"event_id\":\"EV-2\",\"work_order\":\"WO-1\",\"event_time_ms\":1,"
              "\"departed\":{}}"},
    {"Event", "{\"event_id\":\"EV-3\",\"work_order\":\"WO-1\",\"event_time_ms\":-5,"
              "\"arrived_on_site\":{\"engineers\":[\"李强\",\"王芳\"],"
              "\"assisting_staff\":[\"赵磊\"]}}"},
    {"Event", "{\"appointment_set\":{\"appointment_time_ms\":1767232800000,"
              "\"requested_by_customer\":true}}"},
    {"Event",
     "{\"noc_alarm\":{\"alarm_id\":\"ALM-1\",\"network_object\":\"CQ-LP-0001\","
     "\"severity\":\"ALARM_SEVERITY_CRITICAL\",\"cleared\":true,\"text\":\"LOS\"}}"},
    {"Event", "{}"},
    {"SlaAlert",
     "{\"alert_id\":\"WO-2/METRIC_ON_SITE/ALERT_KIND_BREACH/100\",\"kind\":"
     "\"ALERT_KIND_BREACH\",\"work_order\":\"WO-2\",\"metric\":\"METRIC_ON_SITE\","
     "\"threshold_pct\":100,\"deadline_ms\":1767232800000,\"fired_at_ms\":1767235200000,"
     "\"recipients\":\"RECIPIENT_TEAM_LEADER\",\"tier\":\"TIER_AA\",\"gold\":true}"},
    {"Incident",
     "{\"incident_id\":\"INC-WO-3\",\"kind\":\"INCIDENT_KIND_IMPORTANT_CUSTOMER_"
     "INTERRUPTION\","
     "\"status\":\"INCIDENT_STATUS_OPEN\",\"work_orders\":[\"WO-3\"],\"customer_id\":\"K-"
     "3\","
     "\"importance\":\"IMPORTANCE_PROVINCE_LEVEL\",\"started_at_ms\":1767225600000,"
     "\"threshold_ms\":1800000,\"opened_at_ms\":1767227400000,\"ownership_unclear\":true,"
     "\"version\":1}"},
    {"DeadLetter",
     "{\"original\":\"3q0Avu8=\",\"topic\":\"confirmd.events\",\"partition\":3,"
     "\"offset\":4711,\"reason\":\"DEAD_LETTER_UNDECODABLE\",\"detail\":"
     "\"undecodable: not a confirmd.v1.Event (5 bytes)\",\"dead_at_ms\":9}"},
    {"DeadLetter", "{\"original\":\"AA==\"}"},
    {"DeadLetter", "{\"original\":\"AAE=\"}"},
    {"DeadLetter", "{\"original\":\"AAEC\"}"},
    {"WorkOrderState",
     "{\"record\":{\"work_order\":\"WO-1\",\"engineers\":[\"a\",\"b\"],\"timeline\":"
     "[{\"milestone\":\"MILESTONE_REPORTED\",\"event_time_ms\":5,\"event_id\":\"E1\","
     "\"source\":\"SOURCE_CUSTOMER\"},{\"milestone\":\"MILESTONE_ACCEPTED\","
     "\"event_time_ms\":6,\"event_id\":\"E2\"}],\"sla\":[{\"metric\":\"METRIC_CONTACT\","
     "\"target_ms\":900000,\"status\":\"METRIC_STATUS_MET\"}],\"linked_alarms\":[\"A1\"],"
     "\"version\":3,\"penalty_points\":-15},\"alerts_sent\":18446744073709551615,"
     "\"emitted_version\":2}"},
    {"ConfirmationRecord",
     "{\"work_order\":\"WO-9\",\"cause\":\"CAUSE_OTHER\",\"cause_other\":"
     "\"雷击\",\"result\":\"RESULT_RESTORED\",\"satisfaction\":5,"
     "\"state\":\"STATE_CLOSED\"}"},
    {"confirmd.v1.Event", "{\"event_id\":\"EV-4\",\"closed\":{}}"},
    {"Customer", "{\"name\":\"x\",\"tier\":\"TIER_STANDARD\"}"},
    {"Customer", "{\"importance\":\"IMPORTANCE_CITY_DIAMOND\",\"diamond\":true,"
                 "\"cross_city_rental\":true}"},
    {"Network", "{\"equipment\":\"OLT\"}"},
};

static void test_json_canonical(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof canon_cases / sizeof canon_cases[0]; i++) {
        char *out = json_roundtrip(canon_cases[i].type, canon_cases[i].json);
        assert_string_equal(out, canon_cases[i].json);
        free(out);
    }
}

/* ---- accepted spellings print in canonical form ---------------------------------- */

typedef struct norm_case {
    const char *name;
    const char *type;
    const char *in;
    const char *out;
} norm_case;

static const norm_case norm_cases[] = {
    {"enum by number", "Event", "{\"source\":2}", "{\"source\":\"SOURCE_NOC\"}"},
    {"unknown enum number kept", "Event", "{\"source\":42}", "{\"source\":42}"},
    {"int64 as string", "Event", "{\"event_time_ms\":\"1767225600000\"}",
     "{\"event_time_ms\":1767225600000}"},
    {"negative int64 string", "Event", "{\"event_time_ms\":\"-7\"}",
     "{\"event_time_ms\":-7}"},
    {"integral double", "Event", "{\"event_time_ms\":1.0e3}", "{\"event_time_ms\":1000}"},
    {"uint32 as string", "ConfirmationRecord", "{\"version\":\"12\"}", "{\"version\":12}"},
    {"uint64 as string", "WorkOrderState", "{\"alerts_sent\":\"18446744073709551615\"}",
     "{\"alerts_sent\":18446744073709551615}"},
    {"null is absent", "Event",
     "{\"event_id\":null,\"work_order\":\"W\",\"departed\":null}",
     "{\"work_order\":\"W\"}"},
    {"defaults omitted", "Event",
     "{\"event_id\":\"\",\"source\":\"SOURCE_UNSPECIFIED\",\"event_time_ms\":0}", "{}"},
    {"set oneof printed with defaults", "Event", "{\"closed\":{\"service_end_time_ms\":0}}",
     "{\"closed\":{}}"},
    {"present empty message printed", "Event", "{\"fault_report\":{\"customer\":{}}}",
     "{\"fault_report\":{\"customer\":{}}}"},
    {"field order normalised", "Event",
     "{\"departed\":{},\"event_time_ms\":3,\"work_order\":\"W\",\"event_id\":\"E\"}",
     "{\"event_id\":\"E\",\"work_order\":\"W\",\"event_time_ms\":3,\"departed\":{}}"},
    {"whitespace", "Event", "  {\n \"event_id\" : \"E\" }\r\n", "{\"event_id\":\"E\"}"},
    {"url-safe base64 unpadded", "DeadLetter", "{\"original\":\"-_8\"}",
     "{\"original\":\"+/8=\"}"},
    {"empty repeated omitted", "Event", "{\"arrived_on_site\":{\"engineers\":[]}}",
     "{\"arrived_on_site\":{}}"},
    {"slash not escaped", "Event", "{\"event_id\":\"a/b\"}", "{\"event_id\":\"a/b\"}"},
};

static void test_json_normalise(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
        const norm_case *c = &norm_cases[i];
        char *out = json_roundtrip(c->type, c->in);
        if (strcmp(out, c->out) != 0) {
            print_error("%s: got %s, want %s\n", c->name, out, c->out);
            fail();
        }
        free(out);
    }
}

/* ---- errors name the field -------------------------------------------------------- */

typedef struct err_case {
    const char *name;
    const char *type;
    const char *json;
    cfd_err want;
    const char *errpart;
} err_case;

static const err_case err_cases[] = {
    {"unknown field", "Event", "{\"evnt_id\":\"x\"}", CFD_ERR_INVALID_VALUE, "\"evnt_id\""},
    {"unknown nested field", "Event", "{\"fault_report\":{\"customer\":{\"nme\":\"x\"}}}",
     CFD_ERR_INVALID_VALUE, "\"fault_report.customer.nme\""},
    {"bool for int64", "Event", "{\"event_time_ms\":true}", CFD_ERR_INVALID_VALUE,
     "\"event_time_ms\""},
    {"fraction for int64", "Event", "{\"event_time_ms\":1.5}", CFD_ERR_INVALID_VALUE,
     "\"event_time_ms\""},
    {"bad int64 string", "Event", "{\"event_time_ms\":\"12abc\"}", CFD_ERR_INVALID_VALUE,
     "\"event_time_ms\""},
    {"string for bool", "Event", "{\"fault_report\":{\"customer\":{\"gold\":\"yes\"}}}",
     CFD_ERR_INVALID_VALUE, "\"fault_report.customer.gold\""},
    {"number for string", "Event", "{\"work_order\":7}", CFD_ERR_INVALID_VALUE,
     "\"work_order\""},
    {"unknown enum name", "Event", "{\"source\":\"SOURCE_FAX\"}", CFD_ERR_INVALID_VALUE,
     "\"source\""},
    {"two oneof members", "Event", "{\"accepted\":{},\"departed\":{}}",
     CFD_ERR_INVALID_VALUE, "\"accepted\""},
    {"int32 out of range", "SlaAlert", "{\"threshold_pct\":4294967296}",
     CFD_ERR_INVALID_VALUE, "\"threshold_pct\""},
    {"negative uint32", "ConfirmationRecord", "{\"version\":-1}", CFD_ERR_INVALID_VALUE,
     "\"version\""},
    {"negative uint64", "WorkOrderState", "{\"alerts_sent\":\"-1\"}", CFD_ERR_INVALID_VALUE,
     "\"alerts_sent\""},
    {"repeated not an array", "Event", "{\"arrived_on_site\":{\"engineers\":\"a\"}}",
     CFD_ERR_INVALID_VALUE, "\"arrived_on_site.engineers\""},
    {"bad array element", "Event", "{\"arrived_on_site\":{\"engineers\":[\"a\",1]}}",
     CFD_ERR_INVALID_VALUE, "\"arrived_on_site.engineers[1]\""},
    {"bad element in repeated message", "WorkOrderState",
     "{\"record\":{\"sla\":[{},{\"metric\":\"X\"}]}}", CFD_ERR_INVALID_VALUE,
     "\"record.sla[1].metric\""},
    {"bad base64", "DeadLetter", "{\"original\":\"!!!\"}", CFD_ERR_INVALID_VALUE,
     "\"original\""},
    {"array for message", "Event", "{\"fault_report\":[]}", CFD_ERR_INVALID_VALUE,
     "\"fault_report\""},
    {"truncated JSON", "Event", "{\"event_id\":", CFD_ERR_DECODE, "invalid JSON"},
    {"not JSON", "Event", "not json", CFD_ERR_DECODE, "invalid JSON"},
    {"empty text", "Event", "", CFD_ERR_DECODE, "invalid JSON"},
    {"not an object", "Event", "[1,2]", CFD_ERR_DECODE, "object"},
    {"trailing text", "Event", "{} x", CFD_ERR_DECODE, "trailing"},
    {"unknown type", "Nope", "{}", CFD_ERR_INVALID_VALUE, "\"Nope\""},
};

static void test_json_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        uint8_t *buf = (uint8_t *)&buf;
        size_t len = 99;
        char errstr[256] = "";

        cfd_err err = cfd_json_to_pb(c->type, c->json, &buf, &len, errstr, sizeof errstr);
        if (err != c->want || !strstr(errstr, c->errpart)) {
            print_error("%s: err %d \"%s\", want %d naming %s\n", c->name, err, errstr,
                        c->want, c->errpart);
            fail();
        }
        assert_null(buf);
        assert_int_equal(len, 0);
    }
}

static void test_pb_to_json_errors(void **state)
{
    (void)state;
    char errstr[256] = "";

    assert_null(cfd_pb_to_json("Event", "\xff", 1, errstr, sizeof errstr));
    assert_string_equal(errstr, "undecodable: not a confirmd.v1.Event (1 bytes)");
    assert_null(cfd_pb_to_json("SlaAlert", "\x0a\x09short", 7, errstr, sizeof errstr));
    assert_string_equal(errstr, "undecodable: not a confirmd.v1.SlaAlert (7 bytes)");
    assert_null(cfd_pb_to_json("NoSuchType", "", 0, errstr, sizeof errstr));
    assert_non_null(strstr(errstr, "NoSuchType"));

    char *empty = cfd_pb_to_json("Event", "", 0, errstr, sizeof errstr);
    assert_non_null(empty);
    assert_string_equal(empty, "{}");
    free(empty);
}

/* ---- the oneof case reaches the domain -------------------------------------------- */

typedef struct oneof_case {
    const char *payload;
    cfd_milestone kind;
} oneof_case;

static const oneof_case oneof_cases[] = {
    {"\"fault_report\":{\"network\":{\"circuit_id\":\"C\"}}", CFD_MS_REPORTED},
    {"\"accepted\":{}", CFD_MS_ACCEPTED},
    {"\"dispatched\":{\"contractor\":\"c\"}", CFD_MS_DISPATCHED},
    {"\"engineer_accepted\":{}", CFD_MS_ENGINEER_ACCEPTED},
    {"\"customer_contacted\":{}", CFD_MS_CUSTOMER_CONTACTED},
    {"\"appointment_set\":{\"appointment_time_ms\":5000}", CFD_MS_APPOINTMENT_SET},
    {"\"departed\":{}", CFD_MS_DEPARTED},
    {"\"arrived_on_site\":{\"engineers\":[\"e\"]}", CFD_MS_ARRIVED_ON_SITE},
    {"\"diagnosed\":{\"cause\":\"CAUSE_TRANSMISSION_LINE\"}", CFD_MS_DIAGNOSED},
    {"\"service_restored\":{\"result\":1}", CFD_MS_SERVICE_RESTORED},
    {"\"confirmation_signed\":{\"satisfaction\":5}", CFD_MS_CONFIRMATION_SIGNED},
    {"\"closed\":{}", CFD_MS_CLOSED},
    {"\"cancelled\":{\"reason\":\"dup\"}", CFD_MS_CANCELLED},
    {"\"reopened\":{}", CFD_MS_REOPENED},
    {"\"noc_alarm\":{\"alarm_id\":\"A\"}", CFD_MS_ALARM},
};

static void test_json_oneof_to_event(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof oneof_cases / sizeof oneof_cases[0]; i++) {
        char json[256], errstr[256] = "";
        uint8_t *buf;
        size_t len;
        cfd_decoded_event de;

        snprintf(json, sizeof json,
                 "{\"event_id\":\"E\",\"work_order\":\"W\",\"event_time_ms\":1000,%s}",
                 oneof_cases[i].payload);
        assert_int_equal(cfd_json_to_pb("Event", json, &buf, &len, errstr, sizeof errstr),
                         CFD_OK);
        if (cfd_codec_event_decode(buf, len, &de, errstr, sizeof errstr)) {
            print_error("%s: %s\n", json, errstr);
            fail();
        }
        assert_int_equal(de.ev.kind, oneof_cases[i].kind);
        cfd_codec_event_release(&de);
        free(buf);
    }
}

/* A record encoded by the codec prints as JSON and parses back to the same bytes. */
static void test_json_record_bytes_stable(void **state)
{
    (void)state;
    cfd_record *r = cfd_record_new();
    char errstr[256];
    uint8_t *buf, *buf2;
    size_t len, len2;

    r->work_order = strdup("WO-1");
    r->state = CFD_STATE_CLOSED;
    r->customer.tier = CFD_TIER_AAA;
    r->sla[CFD_METRIC_RESTORATION] = (cfd_sla_result){.metric = CFD_METRIC_RESTORATION,
                                                      .target_ms = 14400000,
                                                      .start_ms = 1,
                                                      .deadline_ms = 14400001,
                                                      .actual_ms = 9000,
                                                      .status = CFD_MST_MET};
    r->version = 9;
    cfd_codec_record_encode(r, &buf, &len);
    char *json = cfd_pb_to_json("ConfirmationRecord", buf, len, errstr, sizeof errstr);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"metric\":\"METRIC_RESTORATION\""));
    assert_int_equal(
        cfd_json_to_pb("ConfirmationRecord", json, &buf2, &len2, errstr, sizeof errstr),
        CFD_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(json);
    free(buf);
    free(buf2);
    cfd_record_destroy(r);
}

/* ---- the canonical proto3 form ---------------------------------------------------- */

typedef struct proto3_case {
    const char *type;
    const char *in;  /* .proto names */
    const char *out; /* what the proto3 form prints */
} proto3_case;

static const proto3_case proto3_cases[] = {
    /* lowerCamelCase names, int64 as strings, enums by name, nested and repeated */
    {"SlaAlert",
     "{\"alert_id\":\"WO-1/METRIC_ON_SITE/100\",\"kind\":\"ALERT_KIND_BREACH\","
     "\"work_order\":\"WO-1\",\"deadline_ms\":1767232800000,\"threshold_pct\":100}",
     "{\"alertId\":\"WO-1/METRIC_ON_SITE/100\",\"kind\":\"ALERT_KIND_BREACH\","
     "\"workOrder\":\"WO-1\",\"thresholdPct\":100,\"deadlineMs\":\"1767232800000\"}"},
    {"Event",
     "{\"event_id\":\"E\",\"event_time_ms\":-5,\"arrived_on_site\":{\"engineers\":"
     "[\"a\",\"b\"]}}",
     "{\"eventId\":\"E\",\"eventTimeMs\":\"-5\",\"arrivedOnSite\":{\"engineers\":"
     "[\"a\",\"b\"]}}"},
    /* bytes as base64 */
    {"DeadLetter", "{\"original\":\"AAEC\",\"original_length\":3}",
     "{\"original\":\"AAEC\",\"originalLength\":\"3\"}"},
};

static void test_json_proto3_form(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof proto3_cases / sizeof proto3_cases[0]; i++) {
        const proto3_case *c = &proto3_cases[i];
        uint8_t *buf = NULL;
        size_t len = 0;
        char errstr[256] = "";
        assert_int_equal(cfd_json_to_pb(c->type, c->in, &buf, &len, errstr, sizeof errstr),
                         CFD_OK);
        char *out =
            cfd_pb_to_json_as(c->type, CFD_JSON_PROTO3, buf, len, errstr, sizeof errstr);
        assert_non_null(out);
        assert_string_equal(out, c->out);
        free(out);
        free(buf);
    }
}

/* ---- every message type through proto3 JSON and back --------------------------- */

#define MAX_TYPES 128

/* The schema's messages, reached from its top-level ones through their fields. */
typedef struct type_set {
    const ProtobufCMessageDescriptor *d[MAX_TYPES];
    size_t n;
} type_set;

static void types_add(type_set *t, const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->d[i] == d)
            return;
    assert_true(t->n < MAX_TYPES);
    t->d[t->n++] = d;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            types_add(t, d->fields[i].descriptor);
}

/* The k-th member of its oneof that f is (fields of one oneof share the case slot);
 * -1 when f is in none. Sets *size to the oneof's member count. */
static int oneof_member(const ProtobufCMessageDescriptor *d,
                        const ProtobufCFieldDescriptor *f, int *size)
{
    int k = -1;
    *size = 0;
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return -1;
    for (unsigned i = 0; i < d->n_fields; i++)
        if ((d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            d->fields[i].quantifier_offset == f->quantifier_offset) {
            if (&d->fields[i] == f)
                k = *size;
            (*size)++;
        }
    return k;
}

static ProtobufCMessage *populate(const ProtobufCMessageDescriptor *d, int variant,
                                  int depth);

/* The size of one element of a repeated field of type t. */
static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default: /* 32-bit integers, enums, float, bool */
        return 4;
    }
}

/* A value unlike the default for every field type: 64-bit integers beyond 2^53,
 * negative where signed, an enum's last value, a double with a fraction. */
static void set_value(const ProtobufCFieldDescriptor *f, void *member, int variant,
                      int depth, unsigned k)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)member = -(int32_t)(f->id * 1000 + k + 1);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)member = 4000000000u - f->id - k;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)member = -(((int64_t)1 << 60) + f->id * 7 + k);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)member = UINT64_MAX - f->id - k;
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)member = 1.5f + (float)k;
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)member = -2.25 - k;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)member = 1;
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        *(int32_t *)member = ed->values[ed->n_values - 1 - k % ed->n_values].value;
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        char text[96];
        snprintf(text, sizeof text, "%s-%u \"重庆\"/\n", f->name, k);
        *(char **)member = strdup(text);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = member;
        b->len = 4 + k;
        b->data = malloc(b->len);
        for (size_t i = 0; i < b->len; i++)
            b->data[i] = (uint8_t)(0xfb + i);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)member = populate(f->descriptor, variant, depth + 1);
        break;
    }
}

/* A message of d with every field set (repeated ones twice), and of each oneof its
 * member number variant (modulo its size); nested messages likewise. */
static ProtobufCMessage *populate(const ProtobufCMessageDescriptor *d, int variant,
                                  int depth)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    d->message_init(m);
    assert_true(depth < 8);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        uint8_t *member = (uint8_t *)m + f->offset;
        uint8_t *quant = (uint8_t *)m + f->quantifier_offset;
        int size, k = oneof_member(d, f, &size);
        if (k >= 0) {
            if (k != variant % size)
                continue;
            *(uint32_t *)quant = f->id;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t esz = elem_size(f->type);
            uint8_t *arr = calloc(2, esz);
            for (unsigned e = 0; e < 2; e++)
                set_value(f, arr + e * esz, variant, depth, e);
            *(void **)member = arr;
            *(size_t *)quant = 2;
            continue;
        }
        if (k < 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
            f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            *(protobuf_c_boolean *)quant = 1;
        set_value(f, member, variant, depth, 0);
    }
    return m;
}

/* The most members any oneof of d (or of a message inside it) has; 1 when none. */
static int variants_of(const ProtobufCMessageDescriptor *d, int depth)
{
    int most = 1;
    for (unsigned i = 0; depth < 8 && i < d->n_fields; i++) {
        int size;
        oneof_member(d, &d->fields[i], &size);
        if (size > most)
            most = size;
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE) {
            int sub = variants_of(d->fields[i].descriptor, depth + 1);
            most = sub > most ? sub : most;
        }
    }
    return most;
}

/* The names after "message" in the schema's .proto files. */
static size_t proto_message_names(char names[][64], size_t max)
{
    size_t n = 0;
    char path[512], line[512];
    DIR *dir = opendir(CFD_SOURCE_DIR "/proto/confirmd/v1");
    assert_non_null(dir);
    for (struct dirent *e; (e = readdir(dir));) {
        if (!strstr(e->d_name, ".proto"))
            continue;
        snprintf(path, sizeof path, "%s/proto/confirmd/v1/%s", CFD_SOURCE_DIR, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof line, f))
            if (n < max && sscanf(line, " message %63[A-Za-z0-9_]", names[n]) == 1)
                n++;
        fclose(f);
    }
    closedir(dir);
    return n;
}

/* Every message type of the schema, every field set, every oneof member in turn:
 * printed as canonical proto3 JSON, parsed back to the same bytes, printed the same. */
static void test_json_proto3_roundtrip(void **state)
{
    static const ProtobufCMessageDescriptor *const roots[] = {
        &confirmd__v1__event__descriptor,       &confirmd__v1__work_order_state__descriptor,
        &confirmd__v1__sla_alert__descriptor,   &confirmd__v1__incident__descriptor,
        &confirmd__v1__dead_letter__descriptor, &confirmd__v1__circuit__descriptor,
        &confirmd__v1__alarm__descriptor,       &confirmd__v1__alarm_state__descriptor,
        &confirmd__v1__city_state__descriptor,
    };
    type_set types = {.n = 0};
    char names[MAX_TYPES][64];
    size_t checked = 0;
    (void)state;

    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        types_add(&types, roots[i]);
    size_t n_names = proto_message_names(names, MAX_TYPES);
    assert_true(n_names > 0);
    for (size_t i = 0; i < n_names; i++) {
        bool found = false;
        for (size_t k = 0; k < types.n && !found; k++)
            found = strcmp(types.d[k]->short_name, names[i]) == 0;
        if (!found)
            fail_msg("message %s of the schema is not reached by this test", names[i]);
    }
    for (size_t i = 0; i < types.n; i++) {
        const ProtobufCMessageDescriptor *d = types.d[i];
        for (int v = 0; v < variants_of(d, 0); v++) {
            char errstr[256] = "";
            ProtobufCMessage *m = populate(d, v, 0);
            size_t len = protobuf_c_message_get_packed_size(m), len2 = 0;
            uint8_t *buf = malloc(len + 1), *buf2 = NULL;
            protobuf_c_message_pack(m, buf);
            protobuf_c_message_free_unpacked(m, NULL);

            char *json = cfd_pb_to_json_as(d->name, CFD_JSON_PROTO3, buf, len, errstr,
                                           sizeof errstr);
            if (!json)
                fail_msg("%s: %s", d->name, errstr);
            if (cfd_json_to_pb(d->name, json, &buf2, &len2, errstr, sizeof errstr))
                fail_msg("%s %s: %s", d->name, json, errstr);
            if (len2 != len || memcmp(buf, buf2, len) != 0)
                fail_msg("%s: not the same bytes after %s", d->name, json);
            char *again = cfd_pb_to_json_as(d->name, CFD_JSON_PROTO3, buf2, len2, errstr,
                                            sizeof errstr);
            assert_non_null(again);
            assert_string_equal(again, json);
            if (i == 0 && v == 0)
                printf("%s: %s\n", d->name, json);
            free(again);
            free(json);
            free(buf);
            free(buf2);
            checked++;
        }
    }
    printf("%zu message types, %zu messages round-tripped through proto3 JSON\n", types.n,
           checked);
}

/* Either spelling of a field's name is taken; both at once are not. */
static void test_json_proto3_names(void **state)
{
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    char errstr[256] = "";
    (void)state;

    assert_int_equal(cfd_json_to_pb("Event",
                                    "{\"event_id\":\"E\",\"event_time_ms\":\"5\","
                                    "\"arrived_on_site\":{\"assisting_staff\":[\"x\"]}}",
                                    &a, &la, errstr, sizeof errstr),
                     CFD_OK);
    assert_int_equal(cfd_json_to_pb("Event",
                                    "{\"eventId\":\"E\",\"eventTimeMs\":\"5\","
                                    "\"arrivedOnSite\":{\"assistingStaff\":[\"x\"]}}",
                                    &b, &lb, errstr, sizeof errstr),
                     CFD_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    assert_int_equal(cfd_json_to_pb("Event", "{\"eventId\":\"E\",\"event_id\":\"F\"}", &a,
                                    &la, errstr, sizeof errstr),
                     CFD_ERR_INVALID_VALUE);
    assert_non_null(strstr(errstr, "given twice"));
    assert_int_equal(
        cfd_json_to_pb("Event", "{\"EventId\":\"E\"}", &a, &la, errstr, sizeof errstr),
        CFD_ERR_INVALID_VALUE);
    assert_non_null(strstr(errstr, "unknown field \"EventId\""));
}

/* The "type" header's names are the schema's full names, found by short or full name. */
static void test_pb_type_names(void **state)
{
    static const struct {
        const char *short_name, *full_name;
    } names[] = {
        {"ConfirmationRecord", CFD_PB_RECORD},
        {"SlaAlert", CFD_PB_ALERT},
        {"DeadLetter", CFD_PB_DEAD_LETTER},
        {"Event", CFD_PB_EVENT},
        {"Alarm", CFD_PB_ALARM},
        {"Incident", CFD_PB_INCIDENT},
        {"CityReport", CFD_PB_CITY_REPORT},
    };
    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_non_null(cfd_pb_type_name(names[i].short_name));
        assert_string_equal(cfd_pb_type_name(names[i].short_name), names[i].full_name);
        assert_string_equal(cfd_pb_type_name(names[i].full_name), names[i].full_name);
    }
    assert_null(cfd_pb_type_name("NoSuchType"));
    assert_null(cfd_pb_type_name(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_canonical),
        cmocka_unit_test(test_json_normalise),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_pb_to_json_errors),
        cmocka_unit_test(test_json_oneof_to_event),
        cmocka_unit_test(test_json_record_bytes_stable),
        cmocka_unit_test(test_json_proto3_form),
        cmocka_unit_test(test_json_proto3_roundtrip),
        cmocka_unit_test(test_json_proto3_names),
        cmocka_unit_test(test_pb_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

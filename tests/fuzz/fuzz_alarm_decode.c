/*
 * libFuzzer target: arbitrary bytes through the decoders of the alarms and inventory
 * topics. The first byte chooses: even, the rest is an Alarm (and the inventory record
 * and fault report a forwarded alarm or a notice carries go through their decoders
 * too); odd, the rest is a Circuit. Nothing may crash or leak, a refusal leaves
 * nothing behind, and whatever decodes holds only UTF-8 text, which the JSON printer
 * confirms for every string of the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alarm_codec.h"
#include "confirmd/codec.h"
#include "confirmd/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_ok(const char *s)
{
    if (s && !cfd_utf8_valid(s, strlen(s)))
        abort();
}

/* A decoder's verdict: a refusal is one of the decode errors. */
static void refusal_ok(cfd_err err)
{
    if (err != CFD_ERR_DECODE && err != CFD_ERR_INVALID_VALUE &&
        err != CFD_ERR_MISSING_FIELD)
        abort();
}

/* The printed message is UTF-8 when all its strings are (bytes print as base64). */
static void json_ok(const char *type, const void *buf, size_t len)
{
    char errstr[256];
    char *json = cfd_pb_to_json(type, buf, len, errstr, sizeof errstr);
    if (!json || !cfd_utf8_valid(json, strlen(json)))
        abort();
    free(json);
}

static void circuit(const uint8_t *data, size_t size)
{
    cfd_decoded_circuit dc;
    char errstr[256];
    cfd_err err = cfd_codec_circuit_decode(data, size, &dc, errstr, sizeof errstr);

    if (err) {
        refusal_ok(err);
        if (dc.pb || dc.c.object_id)
            abort();
        return;
    }
    const cfd_circuit *c = &dc.c;
    const cfd_customer *cu = &c->customer;
    const char *texts[] = {c->object_id,         c->circuit_id,     c->service,
                           c->access_point,      c->equipment,      cu->name,
                           cu->contact_person,   cu->contact_phone, cu->address,
                           cu->affected_service, cu->city,          cu->customer_id};
    if (!c->object_id || !*c->object_id)
        abort();
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        text_ok(texts[i]);
    json_ok("Circuit", data, size);
    cfd_codec_circuit_release(&dc);
}

static void alarm(const uint8_t *data, size_t size)
{
    cfd_decoded_alarm da;
    char errstr[256];
    cfd_err err = cfd_codec_alarm_decode(data, size, &da, errstr, sizeof errstr);

    if (err) {
        refusal_ok(err);
        if (da.pb || da.a.network_object)
            abort();
        return;
    }
    const cfd_alarm *a = &da.a;
    const char *texts[] = {
        a->alarm_id,          a->network_object,      a->text,
        a->closed_work_order, a->reported_work_order, a->opened_work_order,
        a->opened_on,         a->coordinator};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        text_ok(texts[i]);
    json_ok("Alarm", data, size);
    if (a->circuit_len)
        circuit(a->circuit, a->circuit_len);
    if (a->report_len) {
        cfd_decoded_event de;
        err = cfd_codec_event_decode(a->report, a->report_len, &de, errstr, sizeof errstr);
        if (err)
            refusal_ok(err);
        else
            json_ok("Event", a->report, a->report_len);
        cfd_codec_event_release(&de);
    }
    cfd_codec_alarm_release(&da);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        alarm(data + 1, size - 1);
    else
        circuit(data + 1, size - 1);
    return 0;
}

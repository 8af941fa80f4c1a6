/*
 * libFuzzer target: arbitrary bytes through the TMF642 alarm decoder (the alarm
 * stage's decoder of worker.tmf642_alarms_topic). Nothing may crash or leak, a refusal
 * is a decode error that leaves nothing behind, and an alarm that decodes is one the
 * alarm stage can decide: an id, an object and a time, a severity in range, text that
 * is UTF-8, and none of the fields only confirmd's own notices set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alarm_codec.h"
#include "confirmd/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_ok(const char *s, bool required)
{
    if ((required && (!s || !*s)) || (s && !cfd_utf8_valid(s, strlen(s))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfd_decoded_alarm da;
    char errstr[256];
    cfd_err err = cfd_codec_tmf642_decode(data, size, &da, errstr, sizeof errstr);

    if (err) {
        if (err != CFD_ERR_DECODE && err != CFD_ERR_INVALID_VALUE &&
            err != CFD_ERR_MISSING_FIELD)
            abort();
        if (da.json || da.a.network_object || !cfd_utf8_valid(errstr, strlen(errstr)))
            abort();
        return 0;
    }
    const cfd_alarm *a = &da.a;
    text_ok(a->alarm_id, true);
    text_ok(a->network_object, true);
    text_ok(a->text, false);
    if (a->event_time_ms <= 0 || a->severity < CFD_ALARM_UNSPECIFIED ||
        a->severity > CFD_ALARM_CRITICAL || a->closed_work_order ||
        a->reported_work_order || a->opened_work_order || a->coordinator || a->circuit ||
        a->report)
        abort();
    cfd_codec_alarm_release(&da);
    return 0;
}

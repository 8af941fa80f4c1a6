/*
 * The TMF642 alarm decoder (src/codec/tmf642.c): alarms written by hand from the TM
 * Forum Alarm Management field list, good and malformed, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/alarm_codec.h"

/* 2026-03-01T08:15:00+08:00 */
#define T_RAISED 1772324100000LL

static const struct {
    const char *json;
    const char *id, *object, *text;
    cfd_alarm_severity severity;
    bool cleared;
    int64_t t_ms;
} good[] = {
    /* A raise as a NMS sends it: the members the mapping ignores are only read past. */
    {"{\"id\":\"NMS-7731\",\"href\":\"/alarm/NMS-7731\",\"alarmType\":"
     "\"communicationsAlarm\",\"perceivedSeverity\":\"critical\",\"probableCause\":"
     "\"lossOfSignal\",\"specificProblem\":\"LOS on line side\",\"state\":\"raised\","
     "\"ackState\":\"unacknowledged\",\"alarmRaisedTime\":\"2026-03-01T08:15:00+08:00\","
     "\"alarmReportingTime\":\"2026-03-01T08:15:02+08:00\",\"isRootCause\":true,"
     "\"alarmedObject\":{\"id\":\"OBJ-1\",\"href\":\"/resource/OBJ-1\"},"
     "\"sourceSystemId\":\"nms-east\",\"comment\":[]}",
     "NMS-7731", "OBJ-1", "LOS on line side", CFD_ALARM_CRITICAL, false, T_RAISED},
    /* UTC, fractions of a second, text from probableCause, severity by name. */
    {"{\"id\":\"a\",\"perceivedSeverity\":\"major\",\"probableCause\":\"powerProblem\","
     "\"alarmRaisedTime\":\"2026-03-01T00:15:00.25Z\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", "powerProblem", CFD_ALARM_MAJOR, false, T_RAISED + 250},
    {"{\"id\":\"a\",\"perceivedSeverity\":\"minor\",\"alarmType\":\"equipmentAlarm\","
     "\"alarmRaisedTime\":\"2026-02-28T19:15:00-05:00\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", "equipmentAlarm", CFD_ALARM_MINOR, false, T_RAISED},
    {"{\"id\":\"a\",\"perceivedSeverity\":\"warning\",\"alarmRaisedTime\":"
     "\"2026-03-01T00:15:00.123456Z\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", NULL, CFD_ALARM_WARNING, false, T_RAISED + 123},
    {"{\"id\":\"a\",\"perceivedSeverity\":\"indeterminate\",\"alarmRaisedTime\":"
     "\"2026-03-01T00:15:00Z\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", NULL, CFD_ALARM_UNSPECIFIED, false, T_RAISED},
    /* An update: at its change time. */
    {"{\"id\":\"a\",\"perceivedSeverity\":\"major\",\"state\":\"updated\","
     "\"alarmRaisedTime\":\"2026-03-01T00:15:00Z\",\"alarmChangedTime\":"
     "\"2026-03-01T00:16:00Z\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", NULL, CFD_ALARM_MAJOR, false, T_RAISED + 60000},
    /* The three ways a clear is said, each at its clear (else change) time. */
    {"{\"id\":\"a\",\"perceivedSeverity\":\"critical\",\"state\":\"cleared\","
     "\"alarmRaisedTime\":\"2026-03-01T00:15:00Z\",\"alarmClearedTime\":"
     "\"2026-03-01T00:45:00Z\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", NULL, CFD_ALARM_CRITICAL, true, T_RAISED + 1800000},
    {"{\"id\":\"a\",\"perceivedSeverity\":\"cleared\",\"alarmRaisedTime\":"
     "\"2026-03-01T00:15:00Z\",\"alarmChangedTime\":\"2026-03-01T00:20:00Z\","
     "\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", NULL, CFD_ALARM_UNSPECIFIED, true, T_RAISED + 300000},
    {"{\"id\":\"a\",\"perceivedSeverity\":\"major\",\"state\":\"raised\","
     "\"alarmRaisedTime\":\"2026-03-01T00:15:00Z\",\"alarmClearedTime\":"
     "\"2026-03-01T08:25:00+08:00\",\"alarmedObject\":{\"id\":\"o\"}}",
     "a", "o", NULL, CFD_ALARM_MAJOR, true, T_RAISED + 600000},
    /* Leading and trailing whitespace; a leap day. */
    {" {\"id\":\"a\",\"perceivedSeverity\":\"major\",\"alarmRaisedTime\":"
     "\"2024-02-29T00:00:00Z\",\"alarmedObject\":{\"id\":\"o\"}}\n",
     "a", "o", NULL, CFD_ALARM_MAJOR, false, 1709164800000LL},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char errstr[256] = "";
        cfd_decoded_alarm da;
        cfd_err err = cfd_codec_tmf642_decode(good[i].json, strlen(good[i].json), &da,
                                              errstr, sizeof(errstr));
        if (err)
            fail_msg("case %zu: %s", i, errstr);
        const cfd_alarm *a = &da.a;
        assert_string_equal(a->alarm_id, good[i].id);
        assert_string_equal(a->network_object, good[i].object);
        if (good[i].text)
            assert_string_equal(a->text, good[i].text);
        else
            assert_null(a->text);
        assert_int_equal(a->severity, good[i].severity);
        assert_int_equal(a->cleared, good[i].cleared);
        if (a->event_time_ms != good[i].t_ms)
            fail_msg("case %zu: time %lld, want %lld", i, (long long)a->event_time_ms,
                     (long long)good[i].t_ms);
        assert_null(a->closed_work_order);
        assert_null(a->reported_work_order);
        assert_null(a->opened_work_order);
        assert_null(a->coordinator);
        cfd_codec_alarm_release(&da);
        assert_null(da.json);
    }
    cfd_codec_alarm_release(NULL);
}

/* A raise with one member replaced: "%s" is where the case's members go. */
#define BASE(members)                                                    \
    "{\"id\":\"a\",\"perceivedSeverity\":\"major\",\"alarmRaisedTime\":" \
    "\"2026-03-01T00:15:00Z\",\"alarmedObject\":{\"id\":\"o\"}" members "}"

static const struct {
    const char *json;
    cfd_err err;
    const char *errstr;
} bad[] = {
    {"", CFD_ERR_DECODE, "invalid JSON: unexpected end of text"},
    {"[1]", CFD_ERR_DECODE, "invalid JSON: a TMF642 alarm must be a JSON object"},
    {"{\"id\":\"a\"", CFD_ERR_DECODE, "invalid JSON: unexpected end of text"},
    {BASE("") " x", CFD_ERR_DECODE, "invalid JSON: trailing text at offset 107"},
    {"{\"perceivedSeverity\":\"major\",\"alarmRaisedTime\":\"2026-03-01T00:15:00Z\","
     "\"alarmedObject\":{\"id\":\"o\"}}",
     CFD_ERR_MISSING_FIELD, "missing field id"},
    {BASE(",\"id\":\"\""), CFD_ERR_MISSING_FIELD, "missing field id"},
    {BASE(",\"id\":7"), CFD_ERR_INVALID_VALUE, "id: not a string"},
    {"{\"id\":\"a\",\"perceivedSeverity\":\"major\",\"alarmRaisedTime\":"
     "\"2026-03-01T00:15:00Z\"}",
     CFD_ERR_MISSING_FIELD, "missing field alarmedObject.id"},
    {BASE(",\"alarmedObject\":{\"name\":\"o\"}"), CFD_ERR_MISSING_FIELD,
     "missing field alarmedObject.id"},
    {BASE(",\"alarmedObject\":\"o\""), CFD_ERR_INVALID_VALUE,
     "alarmedObject: not an object"},
    {BASE(",\"alarmedObject\":{\"id\":1}"), CFD_ERR_INVALID_VALUE,
     "alarmedObject.id: not a string"},
    {BASE(",\"perceivedSeverity\":null"), CFD_ERR_MISSING_FIELD,
     "missing field perceivedSeverity"},
    {BASE(",\"perceivedSeverity\":\"MAJOR\""), CFD_ERR_INVALID_VALUE,
     "perceivedSeverity: unknown value \"MAJOR\""},
    {BASE(",\"perceivedSeverity\":\"fatal\""), CFD_ERR_INVALID_VALUE,
     "perceivedSeverity: unknown value \"fatal\""},
    {BASE(",\"state\":\"acknowledged\""), CFD_ERR_INVALID_VALUE,
     "state: unknown value \"acknowledged\""},
    {BASE(",\"alarmRaisedTime\":null"), CFD_ERR_MISSING_FIELD,
     "missing field alarmRaisedTime"},
    {BASE(",\"alarmRaisedTime\":\"2026-03-01T00:15:00\""), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not an ISO 8601 date-time with offset: \"2026-03-01T00:15:00\""},
    {BASE(",\"alarmRaisedTime\":\"2026-03-01 00:15:00Z\""), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not an ISO 8601 date-time with offset: \"2026-03-01 00:15:00Z\""},
    {BASE(",\"alarmRaisedTime\":\"2026-02-29T00:15:00Z\""), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not an ISO 8601 date-time with offset: \"2026-02-29T00:15:00Z\""},
    {BASE(",\"alarmRaisedTime\":\"2026-03-01T24:15:00Z\""), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not an ISO 8601 date-time with offset: \"2026-03-01T24:15:00Z\""},
    {BASE(",\"alarmRaisedTime\":\"2026-03-01T00:15:00+0800\""), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not an ISO 8601 date-time with offset: "
     "\"2026-03-01T00:15:00+0800\""},
    {BASE(",\"alarmRaisedTime\":\"2026-03-01T00:15:00.Z\""), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not an ISO 8601 date-time with offset: \"2026-03-01T00:15:00.Z\""},
    {BASE(",\"alarmRaisedTime\":1772324100000"), CFD_ERR_INVALID_VALUE,
     "alarmRaisedTime: not a string"},
    {BASE(",\"alarmClearedTime\":\"yesterday\""), CFD_ERR_INVALID_VALUE,
     "alarmClearedTime: not an ISO 8601 date-time with offset: \"yesterday\""},
    {BASE(",\"state\":\"cleared\""), CFD_ERR_MISSING_FIELD,
     "missing field alarmClearedTime (a clear)"},
    {BASE(",\"specificProblem\":\"a\\u0000b\""), CFD_ERR_INVALID_VALUE,
     "specificProblem: not UTF-8 text"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char errstr[256] = "";
        cfd_decoded_alarm da;
        cfd_err err = cfd_codec_tmf642_decode(bad[i].json, strlen(bad[i].json), &da, errstr,
                                              sizeof(errstr));
        if (err != bad[i].err || strcmp(errstr, bad[i].errstr) != 0)
            fail_msg("case %zu: %d \"%s\", want %d \"%s\"", i, err, errstr, bad[i].err,
                     bad[i].errstr);
        assert_null(da.json);
        assert_null(da.a.alarm_id);
    }
}

/* Bytes that are not text, and a message cut short: refused, not read past. */
static void test_not_text(void **state)
{
    (void)state;
    static const char bytes[] = BASE("") "\0{}";
    char errstr[256];
    cfd_decoded_alarm da;
    assert_int_equal(
        cfd_codec_tmf642_decode(bytes, sizeof(bytes) - 1, &da, errstr, sizeof(errstr)),
        CFD_ERR_DECODE);
    assert_int_equal(cfd_codec_tmf642_decode(bytes, 20, &da, errstr, sizeof(errstr)),
                     CFD_ERR_DECODE);
    assert_int_equal(cfd_codec_tmf642_decode("\xff\xfe", 2, &da, errstr, sizeof(errstr)),
                     CFD_ERR_DECODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_not_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

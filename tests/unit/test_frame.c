/* Unit tests for src/store/frame.c: outbox and park-list frames, written by one
 * worker and read back by the partition's next owner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "confirmd/frame.h"

typedef struct {
    cfd_output_kind kind;
    const char *name;
    const char *key;
} kind_case;

/* Every kind the worker writes into an outbox must come back out of it: a kind the
 * parser does not know is an output lost after a crash. */
static const kind_case kinds[] = {
    {CFD_OUT_RECORD, "record", "WO-1"},
    {CFD_OUT_ALERT, "alert", "WO-1"},
    {CFD_OUT_DEAD_LETTER, "dead-letter", "confirmd.events/3"},
    {CFD_OUT_EVENT, "event", "ALM-1"},
    {CFD_OUT_NOTICE, "notice", "CQLP-DL-10001"},
    {CFD_OUT_INCIDENT, "incident", "INC-WO-1"},
    {CFD_OUT_CITY, "city-report", "重庆梁平|互联网专线"},
};

static void test_output_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const kind_case *c = &kinds[i];
        size_t flen, klen, plen;
        cfd_output_kind kind;
        const char *key;
        const void *payload;
        void *f = cfd_frame_output(c->kind, c->key, "\x00payload", 8, &flen);
        assert_int_equal(
            cfd_frame_output_parse(f, flen, &kind, &key, &klen, &payload, &plen), CFD_OK);
        assert_int_equal(kind, c->kind);
        assert_int_equal(klen, strlen(c->key));
        assert_memory_equal(key, c->key, klen);
        assert_int_equal(plen, 8);
        assert_memory_equal(payload, "\x00payload", 8);
        assert_string_equal(cfd_output_kind_name(c->kind), c->name);
        free(f);
    }
}

typedef struct {
    const char *what;
    const void *bytes;
    size_t len;
} bad_case;

static void test_output_refused(void **state)
{
    (void)state;
    static const bad_case bad[] = {
        {"empty", "", 0},
        {"too short", "R\x00", 2},
        {"unknown kind", "Z\x00\x01kp", 5},
        {"key longer than the frame", "R\x00\x09kp", 5},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t klen, plen;
        cfd_output_kind kind;
        const char *key;
        const void *payload;
        assert_int_equal(cfd_frame_output_parse(bad[i].bytes, bad[i].len, &kind, &key,
                                                &klen, &payload, &plen),
                         CFD_ERR_DECODE);
    }
    assert_null(cfd_output_kind_name('Z'));
    assert_null(cfd_output_kind_name(0));
}

static void test_parked_round_trip(void **state)
{
    (void)state;
    cfd_parked_ref in = {.topic = "confirmd.events",
                         .partition = 7,
                         .offset = 1234567890123,
                         .expire_at_ms = 1767232800000,
                         .payload = "ev",
                         .payload_len = 2};
    cfd_parked_ref out;
    char topic[64];
    size_t len;
    void *f = cfd_frame_parked(&in, &len);
    assert_int_equal(cfd_frame_parked_parse(f, len, &out, topic, sizeof(topic)), CFD_OK);
    assert_string_equal(out.topic, "confirmd.events");
    assert_int_equal(out.partition, 7);
    assert_int_equal(out.offset, 1234567890123);
    assert_int_equal(out.expire_at_ms, 1767232800000);
    assert_int_equal(out.payload_len, 2);
    assert_memory_equal(out.payload, "ev", 2);
    /* Truncated, or a topic longer than the caller's buffer: refused. */
    assert_int_equal(cfd_frame_parked_parse(f, 21, &out, topic, sizeof(topic)),
                     CFD_ERR_DECODE);
    assert_int_equal(cfd_frame_parked_parse(f, len, &out, topic, 8), CFD_ERR_DECODE);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_round_trip),
        cmocka_unit_test(test_output_refused),
        cmocka_unit_test(test_parked_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

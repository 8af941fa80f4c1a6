/*
 * Unit tests for src/store/cluster.c: the key hash and slots of the Redis Cluster
 * specification, and the router's refusals that need no server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/cluster.h"

static void test_crc16(void **state)
{
    (void)state;
    /* The specification's check value of CRC16-CCITT (XMODEM). */
    assert_int_equal(cfd_cluster_crc16("123456789", 9), 0x31C3);
    assert_int_equal(cfd_cluster_crc16("", 0), 0);
}

/* Each key, and its slot as `CLUSTER KEYSLOT` of Redis 7.0 answers. */
static void test_key_slot(void **state)
{
    static const struct {
        const char *key;
        int slot;
    } cases[] = {
        {"foo", 12182},
        {"bar", 5061},
        {"", 0},
        {"{user1000}.following", 3443},
        {"{user1000}.followers", 3443},
        {"foo{}{bar}", 8363},    /* empty tag: the whole key is hashed */
        {"foo{{bar}}zap", 4015}, /* the tag is "{bar" */
        {"{bar", 4015},          /* no '}': the whole key */
        {"foo{bar}{zap}", 5061}, /* the first tag only: "bar" */
        {"{}", 15257},
        {"a{b}c{d}", 3300},
        {"}{x}", 16287},
        /* confirmd's keys: a partition's keys share the slot of "p<N>" */
        {"cfd:{p0}:meta", 15882},
        {"cfd:{p7}:wo:A-1", 3821},
        {"{p7}", 3821},
        {"p7", 3821},
        {"cfd:{p63}:timers", 12555},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = cfd_cluster_key_slot(cases[i].key, strlen(cases[i].key));
        if (got != cases[i].slot)
            fail_msg("slot of \"%s\": %d, want %d", cases[i].key, got, cases[i].slot);
    }
}

/* Binary keys: the length counts, not a NUL. */
static void test_key_slot_binary(void **state)
{
    (void)state;
    assert_int_equal(cfd_cluster_key_slot("foo\0bar", 3), 12182);
    assert_int_equal(cfd_cluster_key_slot("x{foo}\0z", 8), 12182);
    assert_int_not_equal(cfd_cluster_key_slot("foo\0bar", 7), 12182);
}

static void test_bad_seeds(void **state)
{
    static const char *const seeds[] = {NULL,  "",        " , ",   "localhost", ":6379",
                                        "h:0", "h:65536", "h:12x", "h:"};
    (void)state;
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        char err[256] = "";
        bool not_cluster = true;
        cfd_cluster_opts opts = {.seeds = seeds[i], .timeout_ms = 200};
        cfd_cluster *cl = cfd_cluster_new(&opts, &not_cluster, err, sizeof(err));
        assert_null(cl);
        assert_false(not_cluster);
        if (!strstr(err, "seed"))
            fail_msg("seeds \"%s\": %s", seeds[i] ? seeds[i] : "(null)", err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_key_slot),
        cmocka_unit_test(test_key_slot_binary),
        cmocka_unit_test(test_bad_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

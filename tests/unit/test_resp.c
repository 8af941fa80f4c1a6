/*
 * Unit tests for src/store/resp.c: a command queued by cfd_resp_append is byte for
 * byte what hiredis' own formatter makes of it, for empty, binary and large arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/store/resp.h"

/* A context that never connects: commands stay in its output buffer. */
static redisContext *offline(void)
{
    redisContext *rc = redisConnectUnixNonBlock("/nonexistent/confirmd-test.sock");
    assert_non_null(rc);
    sdsclear(rc->obuf);
    return rc;
}

static void check(int argc, const char *const *argv, const size_t *lens)
{
    redisContext *rc = offline();
    char *want = NULL;
    int want_len = redisFormatCommandArgv(&want, argc, (const char **)argv, lens);
    assert_true(want_len > 0);
    assert_int_equal(cfd_resp_append(rc, argc, argv, lens), REDIS_OK);
    assert_int_equal(sdslen(rc->obuf), (size_t)want_len);
    assert_memory_equal(rc->obuf, want, (size_t)want_len);
    redisFreeCommand(want);
    redisFree(rc);
}

static void test_small(void **state)
{
    (void)state;
    const char *argv[] = {"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "1",
                          "{p3}:state:WO-1", ""};
    size_t lens[] = {7, 40, 1, 15, 0};
    check(5, argv, lens);
    check(1, argv, lens);
    check(5, argv, NULL);
}

static void test_binary(void **state)
{
    (void)state;
    static const char bin[] = {'\0', '\r', '\n', '$', '*', (char)0xff, 'x'};
    const char *argv[] = {"SET", "k", bin};
    size_t lens[] = {3, 1, sizeof(bin)};
    check(3, argv, lens);
}

/* Beyond the function's stack buffer: hundreds of arguments, one of 100 000 bytes. */
static void test_large(void **state)
{
    (void)state;
    enum { N = 600 };
    const char *argv[N];
    size_t lens[N];
    char *big = malloc(100000);
    assert_non_null(big);
    for (size_t i = 0; i < 100000; i++)
        big[i] = (char)(i * 7 + 3);
    for (int i = 0; i < N; i++) {
        argv[i] = i == 300 ? big : "argument";
        lens[i] = i == 300 ? 100000 : (size_t)(i % 9);
    }
    check(N, argv, lens);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

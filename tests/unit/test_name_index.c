/*
 * The name index: every name put is found at its position, absent names are not,
 * across growth and colliding slots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/name_index.h"

#define N 5000

static void test_put_get_across_growth(void **state)
{
    (void)state;
    static char names[N][24];
    cfd_name_index ix = {0};
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "WO-%05zu", i);
        assert_int_equal(cfd_name_index_get(&ix, names[i]), SIZE_MAX);
        cfd_name_index_put(&ix, names[i], i * 3);
        /* Everything put so far is still there after each growth. */
        if ((i & (i - 1)) == 0)
            for (size_t k = 0; k <= i; k++)
                assert_int_equal(cfd_name_index_get(&ix, names[k]), k * 3);
    }
    assert_int_equal(ix.n, N);
    assert_true(ix.cap >= 2 * N && (ix.cap & (ix.cap - 1)) == 0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(cfd_name_index_get(&ix, names[i]), i * 3);
    /* Looked up by equal text, not by pointer. */
    char copy[24];
    snprintf(copy, sizeof(copy), "%s", names[1234]);
    assert_int_equal(cfd_name_index_get(&ix, copy), 1234 * 3);
    assert_int_equal(cfd_name_index_get(&ix, "WO-99999"), SIZE_MAX);
    assert_int_equal(cfd_name_index_get(&ix, ""), SIZE_MAX);
    cfd_name_index_free(&ix);
    assert_int_equal(cfd_name_index_get(&ix, names[0]), SIZE_MAX);
}

static void test_full_probe_chain(void **state)
{
    (void)state;
    /* Sized for 4: 16 slots, which the ninth name doubles. */
    cfd_name_index ix;
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "", "long name"};
    cfd_name_index_init(&ix, 4);
    assert_int_equal(ix.cap, 16);
    for (size_t i = 0; i < 10; i++)
        cfd_name_index_put(&ix, names[i], i);
    assert_int_equal(ix.cap, 32);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(cfd_name_index_get(&ix, names[i]), i);
    assert_int_equal(cfd_name_index_get(&ix, "i"), SIZE_MAX);
    cfd_name_index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_across_growth),
        cmocka_unit_test(test_full_probe_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for src/domain/customer.c: a record's owned copy of a customer block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "confirmd/customer.h"

/* Every string is copied (not shared), absent ones ("" included) become NULL, and the
 * scalars come along; clearing frees and zeroes. */
static void test_copy_and_clear(void **state)
{
    char name[] = "重庆渝梁精密制造有限公司";
    const cfd_customer src = {
        .name = name,
        .contact_person = "陈静",
        .contact_phone = "",
        .address = NULL,
        .affected_service = "互联网专线 100M",
        .city = "重庆梁平",
        .customer_id = "CQ-1",
        .tier = CFD_TIER_AAA,
        .gold = true,
        .importance = CFD_IMPORTANCE_CROSS_CITY,
        .diamond = true,
        .cross_city_rental = true,
    };
    cfd_customer c;

    (void)state;
    cfd_customer_copy(&c, &src);
    name[0] = 'X';
    assert_string_equal(c.name, "重庆渝梁精密制造有限公司");
    assert_ptr_not_equal(c.contact_person, src.contact_person);
    assert_string_equal(c.contact_person, "陈静");
    assert_null(c.contact_phone);
    assert_null(c.address);
    assert_string_equal(c.affected_service, "互联网专线 100M");
    assert_string_equal(c.city, "重庆梁平");
    assert_string_equal(c.customer_id, "CQ-1");
    assert_int_equal(c.tier, CFD_TIER_AAA);
    assert_true(c.gold && c.diamond && c.cross_city_rental);
    assert_int_equal(c.importance, CFD_IMPORTANCE_CROSS_CITY);

    cfd_customer_clear(&c);
    assert_null(c.name);
    assert_int_equal(c.tier, 0);
    cfd_customer_clear(&c); /* a cleared block clears again */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

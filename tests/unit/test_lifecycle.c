/*
 * Unit tests for src/domain/lifecycle.c: every cell of the transition table against
 * an expectation written independently, as one string per state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "confirmd/record.h"

/*
 * One character per milestone, in enum order:
 *   N R A D E C P T O G S F L X Z M
 *   NONE REPORTED ACCEPTED DISPATCHED ENG_ACCEPTED CONTACTED APPOINTMENT DEPARTED
 *   ARRIVED DIAGNOSED RESTORED SIGNED CLOSED CANCELLED REOPENED NOC_ALARM
 * '.' illegal, '=' allowed and the state stays, '>' the state becomes the milestone's
 * own state (milestones and states share values up to REOPENED).
 */
static const char *const expected[CFD_STATE_COUNT] = {
    /*                              NRADECPTOGSFLXZM */
    [CFD_STATE_NONE] =             ".>..............",
    [CFD_STATE_REPORTED] =         ".=>>>>>>>>>..>.=",
    [CFD_STATE_ACCEPTED] =         ".==>>>>>>>>..>.=",
    [CFD_STATE_DISPATCHED] =       ".===>>>>>>>..>.=",
    [CFD_STATE_ENGINEER_ACCEPTED] = ".====>>>>>>..>.=",
    [CFD_STATE_CONTACTED] =        ".=====>>>>>..>.=",
    [CFD_STATE_APPOINTED] =        ".======>>>>..>.=",
    [CFD_STATE_DEPARTED] =         ".=======>>>..>.=",
    [CFD_STATE_ON_SITE] =          ".========>>>.>.=",
    [CFD_STATE_DIAGNOSED] =        ".=========>>.>.=",
    [CFD_STATE_RESTORED] =         ".==========>>>>=",
    [CFD_STATE_SIGNED] =           ".===========>>>=",
    [CFD_STATE_CLOSED] =           "..............>=",
    [CFD_STATE_CANCELLED] =        "..............>=",
    [CFD_STATE_REOPENED] =         ".==>>>>>>>>..>==",
};

static void test_every_cell(void **state)
{
    (void)state;
    for (int s = 0; s < CFD_STATE_COUNT; s++) {
        assert_int_equal(strlen(expected[s]), CFD_MS_COUNT);
        for (int m = 0; m < CFD_MS_COUNT; m++) {
            char want = expected[s][m];
            bool valid = cfd_lifecycle_is_valid((cfd_state)s, (cfd_milestone)m);
            cfd_state next = cfd_lifecycle_next((cfd_state)s, (cfd_milestone)m);

            print_message("%s x %s\n", cfd_state_name((cfd_state)s),
                          cfd_milestone_name((cfd_milestone)m));
            assert_int_equal(valid, want != '.');
            if (want == '>')
                assert_int_equal(next, m);
            else
                assert_int_equal(next, s); /* stays; illegal also leaves it */
        }
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    assert_false(cfd_lifecycle_is_valid((cfd_state)CFD_STATE_COUNT, CFD_MS_REPORTED));
    assert_false(cfd_lifecycle_is_valid(CFD_STATE_REPORTED, (cfd_milestone)CFD_MS_COUNT));
    assert_false(cfd_lifecycle_is_valid((cfd_state)-1, CFD_MS_REPORTED));
    assert_int_equal(cfd_lifecycle_next(CFD_STATE_ON_SITE, (cfd_milestone)99),
                     CFD_STATE_ON_SITE);
}

/* The main chain walked in order ends CLOSED; a remote restoration skips the visit. */
static void test_paths(void **state)
{
    static const struct {
        const char *name;
        cfd_milestone path[16];
        cfd_state end;
    } paths[] = {
        {"full visit",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_DISPATCHED, CFD_MS_ENGINEER_ACCEPTED,
          CFD_MS_CUSTOMER_CONTACTED, CFD_MS_APPOINTMENT_SET, CFD_MS_DEPARTED,
          CFD_MS_ARRIVED_ON_SITE, CFD_MS_DIAGNOSED, CFD_MS_SERVICE_RESTORED,
          CFD_MS_CONFIRMATION_SIGNED, CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"remote restoration",
         {CFD_MS_REPORTED, CFD_MS_NOC_ALARM, CFD_MS_ACCEPTED, CFD_MS_SERVICE_RESTORED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"reopened and closed again",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_ARRIVED_ON_SITE,
          CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED, CFD_MS_REOPENED, CFD_MS_DISPATCHED,
          CFD_MS_ARRIVED_ON_SITE, CFD_MS_SERVICE_RESTORED, CFD_MS_CONFIRMATION_SIGNED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"late dispatch on site",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_ARRIVED_ON_SITE, CFD_MS_DISPATCHED},
         CFD_STATE_ON_SITE},
        {"cancelled then alarm", {CFD_MS_REPORTED, CFD_MS_CANCELLED, CFD_MS_NOC_ALARM},
         CFD_STATE_CANCELLED},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        cfd_state s = CFD_STATE_NONE;

        print_message("path: %s\n", paths[i].name);
        for (size_t k = 0; k < 16 && paths[i].path[k] != CFD_MS_NONE; k++) {
            assert_true(cfd_lifecycle_is_valid(s, paths[i].path[k]));
            s = cfd_lifecycle_next(s, paths[i].path[k]);
        }
        assert_int_equal(s, paths[i].end);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

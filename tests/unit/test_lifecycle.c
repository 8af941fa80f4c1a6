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
 *   N R A D E C P T O G S F L X Z M Q B W K U V Y C J
 *   NONE REPORTED ACCEPTED DISPATCHED ENG_ACCEPTED CONTACTED APPOINTMENT DEPARTED
 *   ARRIVED DIAGNOSED RESTORED SIGNED CLOSED CANCELLED REOPENED ALARM
 *   RESCHEDULED ABSENT WAIVED PART PAUSED RESUMED EVENT_REPORT COMPLAINT REPEAT_FAULT
 * '.' illegal, '=' allowed and the state stays, otherwise the letter of the next
 * state: the chain states by their milestone's letter (R A D E C P T O G S F L X Z),
 * B customer absent, W signature waived.
 */
static const char *const expected[CFD_STATE_COUNT] = {
    /*                              NRADECPTOGSFLXZMQBWKUVYCJ */
    [CFD_STATE_NONE] = ".R.......................",
    [CFD_STATE_REPORTED] = ".=ADECPTOGS..X.=...======",
    [CFD_STATE_ACCEPTED] = ".==DECPTOGS..X.=.B.======",
    [CFD_STATE_DISPATCHED] = ".===ECPTOGS..X.=.B.======",
    [CFD_STATE_ENGINEER_ACCEPTED] = ".====CPTOGS..X.=.B.======",
    [CFD_STATE_CONTACTED] = ".=====PTOGS..X.=.B.======",
    [CFD_STATE_APPOINTED] = ".======TOGS..X.==B.======",
    [CFD_STATE_DEPARTED] = ".=======OGS..X.=PB.======",
    [CFD_STATE_ON_SITE] = ".========GSF.X.==BW======",
    [CFD_STATE_DIAGNOSED] = ".=========SF.X.==.W======",
    [CFD_STATE_RESTORED] = ".==========FLXZ=..W======",
    [CFD_STATE_SIGNED] = ".===========LXZ=..=======",
    [CFD_STATE_CLOSED] = "...............=...======",
    [CFD_STATE_CANCELLED] = "...............=...======",
    [CFD_STATE_REOPENED] = ".==DECPTOGS..X==.B.======",
    [CFD_STATE_CUSTOMER_ABSENT] = ".=====PTOGS..X.=P=W======",
    [CFD_STATE_SIGNATURE_WAIVED] = ".==========FLXZ=..=======",
};

/* @returns the state a letter of the table names. */
static cfd_state state_of(char c)
{
    static const char letters[] = "?RADECPTOGSFLXZBW";

    const char *p = strchr(letters, c);
    assert_non_null(p);
    return (cfd_state)(p - letters);
}

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
            if (want == '.' || want == '=')
                assert_int_equal(next, s); /* stays; illegal also leaves it */
            else
                assert_int_equal(next, state_of(want));
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
         {CFD_MS_REPORTED, CFD_MS_ALARM, CFD_MS_ACCEPTED, CFD_MS_SERVICE_RESTORED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"reopened before the close, closed after the second visit",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_ARRIVED_ON_SITE, CFD_MS_SERVICE_RESTORED,
          CFD_MS_CONFIRMATION_SIGNED, CFD_MS_REOPENED, CFD_MS_DISPATCHED,
          CFD_MS_ARRIVED_ON_SITE, CFD_MS_SERVICE_RESTORED, CFD_MS_CONFIRMATION_SIGNED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"late dispatch on site",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_ARRIVED_ON_SITE, CFD_MS_DISPATCHED},
         CFD_STATE_ON_SITE},
        {"cancelled then alarm",
         {CFD_MS_REPORTED, CFD_MS_CANCELLED, CFD_MS_ALARM},
         CFD_STATE_CANCELLED},
        {"appointment rescheduled, then visited",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_CUSTOMER_CONTACTED,
          CFD_MS_APPOINTMENT_SET, CFD_MS_APPOINTMENT_RESCHEDULED, CFD_MS_DEPARTED,
          CFD_MS_ARRIVED_ON_SITE, CFD_MS_SERVICE_RESTORED, CFD_MS_CONFIRMATION_SIGNED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"customer absent, second appointment, visit",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_APPOINTMENT_SET, CFD_MS_DEPARTED,
          CFD_MS_CUSTOMER_ABSENT, CFD_MS_APPOINTMENT_SET, CFD_MS_ARRIVED_ON_SITE,
          CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        /* The seed's case: at the door at the agreed time, nobody home. */
        {"customer absent after the arrival, second appointment, visit",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_APPOINTMENT_SET, CFD_MS_ARRIVED_ON_SITE,
          CFD_MS_CUSTOMER_ABSENT, CFD_MS_APPOINTMENT_SET, CFD_MS_ARRIVED_ON_SITE,
          CFD_MS_DIAGNOSED, CFD_MS_SERVICE_RESTORED, CFD_MS_CONFIRMATION_SIGNED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"customer unreachable: completes with the reason",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_CUSTOMER_ABSENT, CFD_MS_SIGNATURE_WAIVED,
          CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"signature refused after the repair",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_ARRIVED_ON_SITE, CFD_MS_SERVICE_RESTORED,
          CFD_MS_SIGNATURE_WAIVED, CFD_MS_CLOSED},
         CFD_STATE_CLOSED},
        {"event report, part and pause after the close",
         {CFD_MS_REPORTED, CFD_MS_ACCEPTED, CFD_MS_SERVICE_RESTORED, CFD_MS_CLOSED,
          CFD_MS_EVENT_REPORT_SUBMITTED, CFD_MS_PART_REPLACED, CFD_MS_CLOCK_PAUSED,
          CFD_MS_CLOCK_RESUMED},
         CFD_STATE_CLOSED},
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

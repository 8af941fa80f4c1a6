/* Unit tests for src/app/policy_file.c: the SLA policy file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "confirmd/policy_file.h"

/* Writes text to a fresh temporary file; @returns its path (static buffer). */
static const char *temp_file(const char *text)
{
    static char path[64];
    int fd;
    FILE *fp;

    snprintf(path, sizeof(path), "/tmp/cfd-policy-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* config/policy.ini holds exactly the built-in defaults. */
static void test_shipped_file_is_the_defaults(void **state)
{
    cfd_policy loaded, defaults;
    char err[256] = "";

    (void)state;
    cfd_policy_defaults(&defaults);
    if (cfd_policy_file_load(CFD_SOURCE_DIR "/config/policy.ini", &loaded, err,
                             sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(loaded.version, defaults.version);
    assert_memory_equal(&loaded.tier, &defaults.tier, sizeof(defaults.tier));
    assert_int_equal(loaded.n_quiet, 2);
}

static void test_values_applied(void **state)
{
    const char *path = temp_file("[sla.aaa]\ncontact = 10min\n"
                                 "[sla.a]\nquiet_hours_move = false\n"
                                 "[sla]\nwarn_pct = 40, 90\n"
                                 "recipients = team_leader, department_leader, "
                                 "noc_duty_manager\n"
                                 "[duties]\ncause_special = 12h\naaa_parallel_pct = 75\n"
                                 "[time]\nutc_offset = -300\nquiet_hours = 22:00-07:00\n"
                                 "[penalty]\nlate_arrival = 20\n"
                                 "[parts]\nserial_date = YYMM\n");
    cfd_policy p, d;
    char err[256] = "";

    (void)state;
    cfd_policy_defaults(&d);
    assert_int_equal(cfd_policy_file_load(path, &p, err, sizeof(err)), CFD_OK);
    unlink(path);
    assert_int_equal(p.tier[CFD_TIER_AAA].contact_ms, 10 * 60000);
    assert_int_equal(p.tier[CFD_TIER_AAA].onsite_ms, 3600000); /* untouched: default */
    assert_false(p.tier[CFD_TIER_A].contact_quiet_moves);
    assert_int_equal(p.warn_pct[0], 40);
    assert_int_equal(p.warn_pct[1], 90);
    assert_int_equal(p.n_chain, 3);
    assert_int_equal(p.chain[0], CFD_RECIPIENT_TEAM_LEADER);
    assert_int_equal(p.chain[2], CFD_RECIPIENT_NOC_DUTY_MANAGER);
    assert_int_equal(p.cause_ms[CFD_SPECIAL], 12 * 3600000LL);
    assert_int_equal(p.aaa_parallel_pct, 75);
    assert_int_equal(p.utc_offset_min, -300);
    assert_int_equal(p.n_quiet, 1);
    assert_int_equal(p.quiet[0].start_min, 22 * 60);
    assert_int_equal(p.quiet[0].end_min, 7 * 60);
    assert_int_equal(p.points.late_arrival, 20);
    assert_int_equal(p.serial_date, CFD_SERIAL_DATE_YYMM);
    assert_string_not_equal(p.version, d.version);
}

static void test_errors(void **state)
{
    static const struct {
        const char *name, *text, *want; /* want: errstr after the path */
    } cases[] = {
        {"unknown key", "[sla.aaa]\ncontact = 15min\nrespond = 1h\n",
         ":3: error: sla.aaa.respond: unknown key"},
        {"unknown section", "[sla.gold]\ncontact = 1h\n",
         ":1: error: unknown section [sla.gold]"},
        {"indented line (not a continuation)", "[sla.aa]\nonsite = 2h\n  3h\n",
         ":3: error: indented line: keys and [sections] must start in the first column "
         "(multi-line values are not supported)"},
        {"a line without =", "[sla.aa]\nonsite 2h\n",
         ":2: error: syntax error: expected [section] or key = value"},
        {"bad duration", "[sla.aa]\nonsite = soon\n",
         ":2: error: sla.aa.onsite: 'soon' is not a positive duration such as 15min, 4h or "
         "3d"},
        {"bad bool", "[sla.a]\nquiet_hours_move = perhaps\n",
         ":2: error: sla.a.quiet_hours_move: 'perhaps' is not true or false"},
        {"bad quiet hours", "[time]\nquiet_hours = 12-14\n",
         ":2: error: time.quiet_hours: '12-14' is not HH:MM-HH:MM windows separated by "
         "commas, or none"},
        {"bad offset", "[time]\nutc_offset = +900\n",
         ":2: error: time.utc_offset: '+900' is not minutes east of UTC such as +480 "
         "(Asia/Shanghai), -840..840"},
        {"bad serial format", "[parts]\nserial_date = DDMMYY\n",
         ":2: error: parts.serial_date: 'DDMMYY' is not YYYYMMDD, YYMM or none"},
        {"negative points", "[penalty]\nlate_arrival = -1\n",
         ":2: error: penalty.late_arrival: '-1' is not a whole number of points, 0..1000"},
        {"zero limit fails validation", "[sla.aaa]\ncontact = 0\n",
         ": error: sla.aaa.contact must be positive"},
        {"warnings not increasing", "[sla]\nwarn_pct = 80, 50\n",
         ": error: sla.warn_pct must be increasing within (0, 100): 80, 50"},
        {"unknown recipient", "[sla]\nrecipients = engineer, boss, noc_duty_manager\n",
         ":2: error: sla.recipients: 'engineer, boss, noc_duty_manager' is not 3 or 4 of "
         "engineer, team_leader, department_leader, noc_duty_manager, separated by commas"},
        {"recipients not climbing", "[sla]\nrecipients = engineer, engineer, team_leader\n",
         ": error: sla.recipients must go one level higher at each step"},
        {"too few recipients", "[sla]\nrecipients = engineer, team_leader\n",
         ": error: sla.recipients must name 3 or 4 levels (warning, warning, breach, "
         "escalation)"},
        {"syntax error", "[sla.aaa\ncontact = 1h\n",
         ":1: error: syntax error: expected [section] or key = value"},
    };
    cfd_policy p, d;

    (void)state;
    cfd_policy_defaults(&d);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = temp_file(cases[i].text);
        char err[512] = "", want[512];

        print_message("case: %s\n", cases[i].name);
        assert_int_equal(cfd_policy_file_load(path, &p, err, sizeof(err)), CFD_ERR_CONFIG);
        snprintf(want, sizeof(want), "%s%s", path, cases[i].want);
        assert_string_equal(err, want);
        assert_string_equal(p.version, d.version); /* left at the defaults */
        unlink(path);
    }
}

static void test_missing_file(void **state)
{
    cfd_policy p;
    char err[256] = "";

    (void)state;
    assert_int_equal(cfd_policy_file_load("/nonexistent/policy.ini", &p, err, sizeof(err)),
                     CFD_ERR_CONFIG);
    assert_string_equal(err, "/nonexistent/policy.ini: error: cannot open: No such file or "
                             "directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file_is_the_defaults),
        cmocka_unit_test(test_values_applied),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

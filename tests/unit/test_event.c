/* Unit tests for src/domain/event.c: validation of decoded events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "confirmd/event.h"

#define BASE .event_id = "ev-1", .work_order = "WO-1", .event_time_ms = 1000

typedef struct {
    const char *name;
    cfd_event ev;
    cfd_err want;
    const char *errstr; /* NULL when want is CFD_OK */
} validate_case;

static const validate_case cases[] = {
    /* New payloads of the side paths. */
    {"reschedule without time",
     {BASE, .kind = CFD_MS_APPOINTMENT_RESCHEDULED},
     CFD_ERR_MISSING_FIELD,
     "missing field appointment.time_ms"},
    {"reschedule ok",
     {BASE, .kind = CFD_MS_APPOINTMENT_RESCHEDULED, .appointment = {.time_ms = 5000}},
     CFD_OK,
     NULL},
    {"absent without note", {BASE, .kind = CFD_MS_CUSTOMER_ABSENT}, CFD_OK, NULL},
    {"absent leaving before the visit",
     {BASE, .kind = CFD_MS_CUSTOMER_ABSENT,
      .visit = {.note = {.visit_time_ms = 900, .leaving_time_ms = 800}}},
     CFD_ERR_INVALID_VALUE,
     "invalid value note: leaving before the visit"},
    {"waiver without reason",
     {BASE, .kind = CFD_MS_SIGNATURE_WAIVED},
     CFD_ERR_MISSING_FIELD,
     "missing field signature_waived.reason"},
    {"waiver refused",
     {BASE, .kind = CFD_MS_SIGNATURE_WAIVED, .visit = {.reason = CFD_WAIVER_REFUSED}},
     CFD_OK,
     NULL},
    {"waiver: restored remotely, nobody to sign",
     {BASE, .kind = CFD_MS_SIGNATURE_WAIVED,
      .visit = {.reason = CFD_WAIVER_REMOTE_RESTORATION}},
     CFD_OK,
     NULL},
    {"waiver reason out of range",
     {BASE, .kind = CFD_MS_SIGNATURE_WAIVED, .visit = {.reason = (cfd_waiver)4}},
     CFD_ERR_INVALID_VALUE,
     "invalid value signature_waived.reason"},
    {"part without name",
     {BASE, .kind = CFD_MS_PART_REPLACED},
     CFD_ERR_MISSING_FIELD,
     "missing field part.name"},
    {"part every field",
     {BASE, .kind = CFD_MS_PART_REPLACED,
      .part = {.name = "fan",
               .category = CFD_EQUIPMENT_WHOLE_UNIT,
               .quantity = 3,
               .fault_types = CFD_PART_FAULT_BIT(CFD_PART_FAULT_MECHANICAL) |
                              CFD_PART_FAULT_BIT(CFD_PART_FAULT_DIMENSION_ERROR),
               .responsible = CFD_RESPONSIBLE_CONTRACTOR}},
     CFD_OK,
     NULL},
    {"part category: only three",
     {BASE, .kind = CFD_MS_PART_REPLACED,
      .part = {.name = "fan", .category = (cfd_equipment_category)4}},
     CFD_ERR_INVALID_VALUE,
     "invalid value part.category"},
    {"part fault type unknown",
     {BASE, .kind = CFD_MS_PART_REPLACED, .part = {.name = "fan", .fault_types = 1u << 5}},
     CFD_ERR_INVALID_VALUE,
     "invalid value part.fault_types"},
    {"part responsible out of range",
     {BASE, .kind = CFD_MS_PART_REPLACED,
      .part = {.name = "fan", .responsible = (cfd_responsible)4}},
     CFD_ERR_INVALID_VALUE,
     "invalid value part.responsible"},
    {"part negative quantity",
     {BASE, .kind = CFD_MS_PART_REPLACED, .part = {.name = "fan", .quantity = -1}},
     CFD_ERR_INVALID_VALUE,
     "invalid value part.quantity"},
    {"pause without id",
     {BASE, .kind = CFD_MS_CLOCK_PAUSED},
     CFD_ERR_MISSING_FIELD,
     "missing field pause.pause_id"},
    {"pause without reason",
     {BASE, .kind = CFD_MS_CLOCK_PAUSED, .pause = {.pause_id = "p"}},
     CFD_ERR_MISSING_FIELD,
     "missing field pause.reason"},
    {"pause interconnection ok",
     {BASE, .kind = CFD_MS_CLOCK_PAUSED,
      .pause = {.pause_id = "p", .reason = CFD_PAUSE_INTERCONNECTION}},
     CFD_OK,
     NULL},
    {"pause unknown metric",
     {BASE, .kind = CFD_MS_CLOCK_PAUSED,
      .pause = {.pause_id = "p", .reason = CFD_PAUSE_CUSTOMER, .metrics = 1u << 9}},
     CFD_ERR_INVALID_VALUE,
     "invalid value pause.metrics"},
    {"resume needs only its id",
     {BASE, .kind = CFD_MS_CLOCK_RESUMED, .pause = {.pause_id = "p"}},
     CFD_OK,
     NULL},
    {"resume negative end",
     {BASE, .kind = CFD_MS_CLOCK_RESUMED, .pause = {.pause_id = "p", .end_ms = -1}},
     CFD_ERR_INVALID_VALUE,
     "invalid value pause.start_ms/end_ms"},
    {"event report", {BASE, .kind = CFD_MS_EVENT_REPORT_SUBMITTED}, CFD_OK, NULL},
    {"minimal accepted", {BASE, .kind = CFD_MS_ACCEPTED}, CFD_OK, NULL},
    {"no event id",
     {.work_order = "WO-1", .event_time_ms = 1, .kind = CFD_MS_ACCEPTED},
     CFD_ERR_MISSING_FIELD,
     "missing field event_id"},
    {"empty event id",
     {.event_id = "", .work_order = "WO-1", .event_time_ms = 1, .kind = CFD_MS_ACCEPTED},
     CFD_ERR_MISSING_FIELD,
     "missing field event_id"},
    {"no work order",
     {.event_id = "e", .event_time_ms = 1, .kind = CFD_MS_ACCEPTED},
     CFD_ERR_MISSING_FIELD,
     "missing field work_order"},
    {"zero time",
     {.event_id = "e", .work_order = "W", .kind = CFD_MS_ACCEPTED},
     CFD_ERR_MISSING_FIELD,
     "missing field event_time_ms"},
    {"negative time",
     {.event_id = "e", .work_order = "W", .event_time_ms = -5, .kind = CFD_MS_ACCEPTED},
     CFD_ERR_MISSING_FIELD,
     "missing field event_time_ms"},
    {"no kind", {BASE}, CFD_ERR_MISSING_FIELD, "missing payload"},
    {"kind out of range",
     {BASE, .kind = (cfd_milestone)CFD_MS_COUNT},
     CFD_ERR_INVALID_VALUE,
     "invalid value kind"},
    {"report ok",
     {BASE, .kind = CFD_MS_REPORTED,
      .report = {.customer = {.tier = CFD_TIER_AA}, .circuit_id = "C-1"}},
     CFD_OK,
     NULL},
    /* Alarms, repeat faults and the city rule key on the network object. */
    {"report without circuit",
     {BASE, .kind = CFD_MS_REPORTED, .report = {.customer = {.tier = CFD_TIER_AA}}},
     CFD_ERR_MISSING_FIELD,
     "missing field fault_report.network.circuit_id"},
    {"report with empty circuit",
     {BASE, .kind = CFD_MS_REPORTED, .report = {.circuit_id = ""}},
     CFD_ERR_MISSING_FIELD,
     "missing field fault_report.network.circuit_id"},
    {"alarm-opened report on an object without circuit",
     {BASE, .kind = CFD_MS_REPORTED, .report = {.alarm_object = "OLT-2/0/5"}},
     CFD_OK,
     NULL},
    {"report bad tier",
     {BASE, .kind = CFD_MS_REPORTED, .report = {.customer = {.tier = (cfd_tier)5}}},
     CFD_ERR_INVALID_VALUE,
     "invalid value report.customer.tier"},
    {"report bad urgency",
     {BASE, .kind = CFD_MS_REPORTED, .report = {.urgency = (cfd_urgency)3}},
     CFD_ERR_INVALID_VALUE,
     "invalid value report.urgency"},
    {"diagnosis without cause",
     {BASE, .kind = CFD_MS_DIAGNOSED},
     CFD_ERR_MISSING_FIELD,
     "missing field diagnosed.cause"},
    {"diagnosis other without text",
     {BASE, .kind = CFD_MS_DIAGNOSED, .diagnosis = {.cause = CFD_CAUSE_OTHER}},
     CFD_ERR_MISSING_FIELD,
     "diagnosed.cause_other required for CAUSE_OTHER"},
    {"diagnosis other with empty text",
     {BASE, .kind = CFD_MS_DIAGNOSED,
      .diagnosis = {.cause = CFD_CAUSE_OTHER, .cause_other = ""}},
     CFD_ERR_MISSING_FIELD,
     "diagnosed.cause_other required for CAUSE_OTHER"},
    {"diagnosis other with text",
     {BASE, .kind = CFD_MS_DIAGNOSED,
      .diagnosis = {.cause = CFD_CAUSE_OTHER, .cause_other = "rodents"}},
     CFD_OK,
     NULL},
    {"diagnosis cause out of range",
     {BASE, .kind = CFD_MS_DIAGNOSED, .diagnosis = {.cause = (cfd_cause)7}},
     CFD_ERR_INVALID_VALUE,
     "invalid value diagnosed.cause"},
    {"restoration without result",
     {BASE, .kind = CFD_MS_SERVICE_RESTORED},
     CFD_ERR_MISSING_FIELD,
     "missing field restored.result"},
    {"restoration other without text",
     {BASE, .kind = CFD_MS_SERVICE_RESTORED, .restoration = {.result = CFD_RESULT_OTHER}},
     CFD_ERR_MISSING_FIELD,
     "restored.result_other required for RESULT_OTHER"},
    {"restoration observation",
     {BASE, .kind = CFD_MS_SERVICE_RESTORED,
      .restoration = {.result = CFD_RESULT_NEEDS_OBSERVATION}},
     CFD_OK,
     NULL},
    {"appointment without time",
     {BASE, .kind = CFD_MS_APPOINTMENT_SET},
     CFD_ERR_MISSING_FIELD,
     "missing field appointment.time_ms"},
    {"appointment with time",
     {BASE, .kind = CFD_MS_APPOINTMENT_SET, .appointment = {.time_ms = 5000}},
     CFD_OK,
     NULL},
    {"alarm without id",
     {BASE, .kind = CFD_MS_ALARM},
     CFD_ERR_MISSING_FIELD,
     "missing field alarm.alarm_id"},
    {"alarm with id",
     {BASE, .kind = CFD_MS_ALARM, .alarm = {.alarm_id = "A1"}},
     CFD_OK,
     NULL},
    {"satisfaction 5",
     {BASE, .kind = CFD_MS_CONFIRMATION_SIGNED, .signature = {.satisfaction = 5}},
     CFD_OK,
     NULL},
    {"satisfaction 6",
     {BASE, .kind = CFD_MS_CONFIRMATION_SIGNED, .signature = {.satisfaction = 6}},
     CFD_ERR_INVALID_VALUE,
     "invalid value signed.satisfaction (0..5)"},
    {"satisfaction -1",
     {BASE, .kind = CFD_MS_CONFIRMATION_SIGNED, .signature = {.satisfaction = -1}},
     CFD_ERR_INVALID_VALUE,
     "invalid value signed.satisfaction (0..5)"},
    {"cancel without reason", {BASE, .kind = CFD_MS_CANCELLED}, CFD_OK, NULL},
    {"repeat fault without the earlier order",
     {BASE, .kind = CFD_MS_REPEAT_FAULT},
     CFD_ERR_MISSING_FIELD,
     "missing field repeat_fault.previous_work_order"},
    {"repeat fault",
     {BASE, .kind = CFD_MS_REPEAT_FAULT, .repeat = {.previous_work_order = "WO-0"}},
     CFD_OK,
     NULL},
};

static void test_validate_table(void **state)
{
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const validate_case *c = &cases[i];

        err[0] = '\0';
        print_message("case: %s\n", c->name);
        assert_int_equal(cfd_event_validate(&c->ev, err, sizeof(err)), c->want);
        if (c->errstr != NULL)
            assert_string_equal(err, c->errstr);
    }
}

static void test_validate_null_errstr(void **state)
{
    cfd_event ev = {.work_order = "W", .event_time_ms = 1, .kind = CFD_MS_ACCEPTED};

    (void)state;
    assert_int_equal(cfd_event_validate(&ev, NULL, 0), CFD_ERR_MISSING_FIELD);
}

static void test_opens_order(void **state)
{
    (void)state;
    for (int m = 0; m < CFD_MS_COUNT; m++) {
        cfd_event ev = {BASE, .kind = (cfd_milestone)m};

        assert_int_equal(cfd_event_opens_order(&ev), m == CFD_MS_REPORTED);
    }
    assert_false(cfd_event_opens_order(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_validate_null_errstr),
        cmocka_unit_test(test_opens_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

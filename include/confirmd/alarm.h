/*
 * NOC alarms and the network objects they are raised on: what an alarm means for
 * work orders. Pure core: the worker loads an object's inventory record and alarm
 * state, asks cfd_alarm_decide, stores the state, and produces the events it returns
 * to the events topic keyed by work order (re-keying), so the records themselves are
 * only ever advanced by the owner of the work order's partition.
 *
 *   a major or critical raise on an object with no open order   -> open one
 *   a raise of an alarm id not yet linked                        -> link it
 *   a repeat of a linked alarm (storm), a re-raise after a clear -> nothing (counted)
 *   a clear of a linked alarm                                    -> evidence event
 *   minor and warning alarms on an object with no open order     -> nothing
 *   an alarm raised before the last order completed, arriving
 *        after its completion notice                            -> linked to that order
 *   the order completed (a notice from confirmd itself)          -> the object is free
 *   a customer's report on the circuit (a notice from confirmd)  -> it joins the open
 *        alarm-opened order (its own order is cancelled), or becomes the circuit's
 *        open order that later alarms join
 *   an alarm on an object of a customer with a customer id, and no open order of the
 *        object's own                                  -> forwarded to the customer's
 *        coordinator ("customer:<id>"), which decides it with the same rules: a storm
 *        over many objects of one customer opens one order; a new alarm later than
 *        the storm window after the open order's opening is sent back to its object,
 *        which decides alone; a repeat of a major or critical alarm the object
 *        forwarded within the storm window, not cleared since, is not forwarded again
 *   an alarm on another object of the circuit (a port, a piece of equipment) opened
 *        an order (a notice to the circuit's object)   -> the circuit binds to it when
 *        it has no open order, so a customer's report on the circuit joins it
 */
#ifndef CONFIRMD_ALARM_H
#define CONFIRMD_ALARM_H

#include "confirmd/event.h"
#include "confirmd/policy.h"
#include "confirmd/record.h"

/* An inventory record; strings borrowed from the decoded message. */
typedef struct cfd_circuit {
    const char *object_id, *circuit_id, *service, *access_point, *equipment;
    cfd_customer customer;
    bool diamond;
    cfd_importance importance;
    bool cross_city_rental;
} cfd_circuit;

/* An alarm (or a closed-order notice); strings borrowed. */
typedef struct cfd_alarm {
    const char *alarm_id;
    const char *network_object;
    cfd_alarm_severity severity;
    bool cleared;
    int64_t event_time_ms;
    const char *text;
    const char *closed_work_order;   /* a notice, not an alarm, when set */
    const char *reported_work_order; /* a customer's report opened this order */
    const void *report;              /* ... as this confirmd.v1.Event */
    size_t report_len;
    const char *opened_work_order; /* an alarm on another object of this circuit
                                        opened this order (a notice) ... */
    const char *opened_on;         /* ... on this object */
    const char *coordinator;       /* forwarded to this customer's coordinator ... */
    const void *circuit;           /* ... with network_object's Circuit record */
    size_t circuit_len;
    bool declined;                  /* sent back by the coordinator: decide alone */
    bool closed_needs_observation;  /* with closed_work_order: its result was "needs
                                        further observation" ... */
    int64_t closed_watched_from_ms; /* ... watched from its service end */
} cfd_alarm;

/* The coordinator of a customer's alarms, "customer:<customer id>", into buf. */
void cfd_alarm_coordinator(const char *customer_id, char *buf, size_t size);

/* An alarm an object forwarded to its customer's coordinator: when, at what severity. */
typedef struct cfd_forwarded {
    char *alarm_id;
    cfd_alarm_severity severity;
    int64_t at_ms;
} cfd_forwarded;

/* Per network object; every string owned. */
typedef struct cfd_alarm_state {
    char *work_order; /* the open order its alarms go to, NULL when none */
    int64_t opened_at_ms;
    char **alarm_ids; /* linked to work_order, sorted */
    size_t n_alarm_ids;
    char **cleared_ids; /* of those, cleared, sorted */
    size_t n_cleared_ids;
    uint64_t repeats; /* decided here, changing nothing (not the ones kept unforwarded) */
    char *last_work_order;
    int64_t last_closed_at_ms;
    bool last_needs_observation; /* last_work_order ended "needs further observation" */
    int64_t last_watched_from_ms;
    char *opened_on; /* another object whose alarm opened work_order, NULL when none */
    /* With no order of its own: its major and critical alarms forwarded to the
     * customer's coordinator and not cleared since (cfd_alarm_forwards), sorted by id */
    cfd_forwarded *forwarded;
    size_t n_forwarded;
} cfd_alarm_state;

typedef enum cfd_alarm_action {
    CFD_ALARM_IGNORE = 0, /* nothing to tell the work order */
    CFD_ALARM_OPEN,       /* a new work order: a fault report, then the alarm */
    CFD_ALARM_LINK,       /* the alarm joins the open work order */
    CFD_ALARM_CLEAR,      /* the alarm cleared: evidence of restoration */
    CFD_ALARM_FREED,      /* the open work order completed */
    CFD_ALARM_JOIN,       /* a customer's report joins the alarm-opened order */
    CFD_ALARM_LATE,       /* raised before the last order completed: linked to it */
    CFD_ALARM_ADOPT,      /* another order (a customer's, or one an alarm on another
                             object of the circuit opened) is the open order now */
} cfd_alarm_action;

/* @returns a zeroed state (never NULL, see confirmd/alloc.h). */
cfd_alarm_state *cfd_alarm_state_new(void);
void cfd_alarm_state_destroy(cfd_alarm_state *st); /* NULL-safe */

/* Checks the fields an alarm or a notice needs.
 * @returns CFD_OK, or CFD_ERR_MISSING_FIELD with errstr naming the field. */
cfd_err cfd_alarm_validate(const cfd_alarm *a, char *errstr, size_t errstr_size);

/* @returns true when a, forwarded to the customer's coordinator whose state is st, is a
 * new fault outside the storm window (pol->customer_storm_window_ms) of the open order:
 * its object decides it alone. Pure; st is not changed. */
bool cfd_alarm_declines(const cfd_alarm_state *st, const cfd_alarm *a,
                        const cfd_policy *pol);

/* An alarm on st's object, which has no order of its own, that its customer's
 * coordinator decides: @returns false when the coordinator has it already (a repeat,
 * not cleared since, at the same severity and within pol's storm window, of a major or
 * critical alarm this object forwarded; st unchanged, not counted in repeats), true
 * when it is to be forwarded (remembered when major or critical, forgotten when a
 * clear). *changed tells whether st changed. Repeats stay with their object, so an alarm storm
 * crosses to the coordinator about once per alarm and clear rather than once per
 * message. */
bool cfd_alarm_forwards(cfd_alarm_state *st, const cfd_alarm *a, const cfd_policy *pol,
                        bool *changed);

/* Decides what the alarm means and updates st. @returns the action. */
cfd_alarm_action cfd_alarm_decide(cfd_alarm_state *st, const cfd_alarm *a);

/* @returns the order a new fault on st's object at t_ms repeats: the last completed one
 * when it ended "needs further observation" and t_ms is within pol's observation
 * window of its service end; NULL otherwise. */
const char *cfd_alarm_repeat_of(const cfd_alarm_state *st, int64_t t_ms,
                                const cfd_policy *pol);

/* The events an action calls for, at most 2 (for OPEN: the fault report built from
 * the inventory record, then the alarm), written to out with their ids in ids[i]
 * (strings borrowed from st, a, c and ids). A repeat fault (cfd_alarm_repeat_of) is
 * linked to the earlier order whatever opened it: an alarm's report names it as
 * previous_work_order; a customer's report (ADOPT of a report notice, c may be NULL)
 * gets a REPEAT_FAULT event of its own. @returns how many. */
size_t cfd_alarm_events(const cfd_alarm_state *st, const cfd_alarm *a, const cfd_circuit *c,
                        cfd_alarm_action action, const cfd_policy *pol, cfd_event out[2],
                        char ids[2][160]);

/* --- what the stages tell each other (src/domain/alarm_notice.c) -------------------- */

/* A notice confirmd sends itself on the alarms topic (an Alarm with one of its
 * *_work_order fields set), with the output id that makes it one fact. Filled in
 * place: notice.alarm_id points into alarm_id, so the struct is not to be copied. */
typedef struct cfd_alarm_notice {
    cfd_alarm notice;
    char id[240];
    char alarm_id[200];
} cfd_alarm_notice;

/* The notices telling the alarm stage that order (rec, complete) completed: to the
 * object bound to it (the one whose alarm opened it, else the circuit a customer
 * reported on), and to the circuit too when an alarm on another of its objects opened
 * it, so each object's next major alarm opens a new order. @returns how many (0..2). */
size_t cfd_alarm_completion_notices(const cfd_record *rec, const char *order,
                                    cfd_alarm_notice out[2]);

/* The notice telling circuit that an alarm on object, another of its objects (a port,
 * a piece of equipment, or the customer's coordinator), opened order at t_ms, so that
 * a customer's report on the circuit joins that order.
 * @returns false when none is needed (no circuit, or the alarm is on the circuit). */
bool cfd_alarm_opened_notice(const char *circuit, const char *object, const char *order,
                             int64_t t_ms, cfd_alarm_notice *out);

/* The notice telling the alarm stage that a customer's report ev (as bytes) opened
 * order on a circuit, so that it joins an order the circuit's alarm opened, or the
 * alarms join it. @returns false when none is needed (the report names no circuit, or
 * an alarm opened the order). */
bool cfd_alarm_report_notice(const cfd_event *ev, const char *order, const void *bytes,
                             size_t len, cfd_alarm_notice *out);

/* A customer's report joining the order an alarm opened (CFD_ALARM_JOIN): the report
 * re-addressed to st's open order, keeping its earlier clock start, and the
 * cancellation of the report's own order. Filled in place (the events point into it). */
typedef struct cfd_alarm_join {
    cfd_event joined, cancel;
    char joined_id[200], cancel_id[200], reason[256];
} cfd_alarm_join;

/* Fills out for report (the decoded report a carried, a: the report notice that st's
 * object decided as CFD_ALARM_JOIN). Strings borrowed from st, a, report and out. */
void cfd_alarm_join_events(const cfd_alarm_state *st, const cfd_alarm *a,
                           const cfd_event *report, cfd_alarm_join *out);

#endif

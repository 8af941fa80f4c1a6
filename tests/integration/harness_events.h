/*
 * Event builders and output readers shared by the integration tests: events are
 * written as JSON (confirmd.v1.Event), converted by the codec and produced keyed by
 * work order, exactly as confirmctl does; outputs are decoded to JSON for checks.
 */
#ifndef CFD_HARNESS_EVENTS_H
#define CFD_HARNESS_EVENTS_H

#include <json-c/json.h>
#include <stdint.h>

#include "harness.h"

#define H_T0 1764043200000LL /* 2025-11-25T04:00:00Z, a Tuesday noon in Shanghai */
#define H_MIN 60000LL

typedef struct h_collected {
    json_object *items[256];
    char *ids[256];
    int n;
    const char *type;
} h_collected;

/* Produces one event given as printf-style JSON; fails the test if it is not an Event. */
void h_send_json(h_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Produces one message given as JSON of a confirmd.v1 type (Circuit, Alarm, ...) to
 * topic, keyed by key. */
void h_send_typed(h_env *env, const char *topic, const char *type, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* --set arguments for a worker on the simulated clock (NULL-terminated). */
extern const char *const h_simulated_clock[];

/* Waits (30 s at most) until the order's SLA timer is in Redis, that is until its
 * events were applied; fails the test otherwise. @returns the timer's instant. */
int64_t h_wait_timer(h_env *env, const char *wo);

/*
 * Three work orders on the simulated clock (T0 = H_T0):
 * WO-C1: AAA, accepted T0 + 1 min, contacted T0 + 5 min (met), on site due T0 + 61 min,
 *        restoration paused by the customer from T0 + 10 min.
 * WO-C2: AA, accepted T0 + 1 min: contact due T0 + 31 min.
 * WO-C3: AAA, closed; the engineer arrived 30 min after the on-site deadline (15 points).
 * Produces those events (H_T0-based) and waits for WO-C1's and WO-C2's timers; the
 * caller starts the worker on the simulated clock (set at H_T0 + 1 min) first.
 */
void h_send_open_orders(h_env *env);

/* A fault report (event time H_T0) of an important customer, importance as in the
 * schema (e.g. "IMPORTANCE_PROVINCE_LEVEL"), whose service is fully interrupted: its
 * severe-fault incident opens 30 min (a cross-city rental: 8 h) later unrestored. Not
 * tiered: the general urgency's SLA instants are hours away, so nothing else fires. */
void h_send_important_report(h_env *env, const char *wo, const char *importance,
                             int rental);

/* A fault report (event time t) of an ordinary customer (customer id "K-<wo>") whose
 * internet service is fully interrupted in city: three of them within 30 min open a
 * multi-customer city incident once the fault outlasts 30 min from the third. */
void h_send_city_report(h_env *env, const char *wo, const char *city, int64_t t);

/* h_send_city_report() of customer customer_id. */
void h_send_city_report_of(h_env *env, const char *wo, const char *customer_id,
                           const char *city, int64_t t);

/* Checks a row of `confirmctl open --json` or of /api/board's "open": its work order,
 * the duty owed next, its deadline, the time left and the next SLA instant. */
void h_assert_next_duty(json_object *row, const char *wo, const char *metric,
                        int64_t deadline_ms, int64_t left_ms, int64_t next_sla_ms);

/* Waits (30 s at most) until wo's timer is later than t: the worker ticked it past t.
 * @returns that instant (fails the test on timeout). */
int64_t h_wait_timer_after(h_env *env, const char *wo, int64_t t);

/* h_confirmctl() on the simulated clock (worker.clock = simulated). */
int h_ctl(h_env *env, char *out, size_t n, const char *args);

/* Waits (30 s at most) until `confirmctl show wo` prints needle (fails the test on
 * timeout). */
void h_ctl_wait_shown(h_env *env, const char *wo, const char *needle);

/* Sets the simulated clock to H_T0 + 1 min, starts a worker on it, sends
 * h_send_open_orders() and waits until confirmctl shows them all applied.
 * @returns the worker's pid. */
pid_t h_ctl_feed(h_env *env);

/* Waits (30 s at most) until member is in the partition zset named zset ("timers",
 * "ctimers", ...) of any partition; @returns its score (fails the test on timeout). */
int64_t h_wait_zset(h_env *env, const char *zset, const char *member);

/* cmocka fixtures: a fresh env with redis-server and the broker (default topics) per
 * test, named after the test program; torn down whatever the test's outcome. */
int h_setup_redis_broker(void **state);
int h_teardown_env(void **state);

/* Encodes printf-style JSON as a confirmd.v1.Event; *len set; free() the result.
 * Fails the test if it is not an Event. */
uint8_t *h_event_pb(size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A fault report opening wo (tier "TIER_AAA"...; the customer block is fictional PII). */
void h_send_report(h_env *env, const char *wo, const char *eid, int64_t t, const char *tier,
                   int gold);

/* A milestone: payload is the oneof member name, body its JSON object text. */
void h_send_ms(h_env *env, const char *wo, const char *eid, int64_t t, const char *payload,
               const char *body);

/* A work order from report to close (9 events); arrive_min after acceptance. */
void h_send_full_order(h_env *env, const char *wo, const char *tier, int gold, int64_t t0,
                       int arrive_min);

/* The same dispatched to contractor, on site arrive_min after the acceptance (at
 * t0 + 1 min), restored restore_min after the report (t0). h_send_full_order is
 * ("Acme Maintenance", arrive_min, 30 + arrive_min). */
void h_send_order(h_env *env, const char *wo, const char *tier, int gold, int64_t t0,
                  const char *contractor, int arrive_min, int restore_min);

/* Runs `confirmctl ARGS` (args: words of a shell command line) with "-s" options for
 * the env's Redis, or its Redis Cluster when it has one (redis.cluster on, node 0 the
 * seed, the others more), and its broker once started; copies its stdout into out
 * (NUL-terminated, cut at n - 1). @returns its exit status, -1 when it did not exit. */
int h_confirmctl(h_env *env, char *out, size_t n, const char *args);

/* Reads topic from the beginning until count messages or timeout, decoding as type. */
void h_collect(h_env *env, const char *topic, const char *type, int count, int timeout_ms,
               h_collected *out);
void h_collected_free(h_collected *c);

/* A string at a dotted path of a JSON object, or NULL. */
const char *h_jstr(json_object *o, const char *path);
json_object *h_find_by(h_collected *c, const char *field, const char *value);
int h_count_by(h_collected *c, const char *field, const char *value);
/* The SlaResult of metric ("METRIC_ON_SITE") in a record, or NULL. */
json_object *h_sla_of(json_object *rec, const char *metric);

#endif

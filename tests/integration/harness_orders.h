/*
 * Workloads and oracles for the "nothing is lost" tests: the events of whole work
 * orders built as the sources send them, the expected outcome computed by folding
 * those events through the pure domain core in this process, and readers that fetch
 * what the workers actually did (Redis state, output topics) for comparison.
 *
 * The oracle depends on the workload alone: no worker, Redis or Kafka is involved.
 */
#ifndef CFD_HARNESS_ORDERS_H
#define CFD_HARNESS_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confirmd/city.h"
#include "harness.h"

#define H_ORDER_EVENTS 9                 /* report, accept, dispatch ... close */
#define H_WL_T0 ((int64_t)1764043200000) /* 2025-11-25T04:00:00Z */
/* The sample customer every generated order carries: tests grep logs for these. */
#define H_CUSTOMER_NAME "重庆某某银行"
#define H_CUSTOMER_CONTACT "王经理"
#define H_CUSTOMER_PHONE "13800000000"
#define H_CUSTOMER_ADDRESS "梁平区双桂街道1号"

/* One encoded input event. */
typedef struct h_event {
    char wo[64];
    char id[96];
    uint8_t *buf; /* confirmd.v1.Event, malloc'd */
    size_t len;
} h_event;

/* Encodes the JSON text of a confirmd.v1.Event into ev (work order and event id copied
 * from it). @returns 0, or -1 (reason on stderr). */
int h_event_encode(const char *json, h_event *ev);

/* Frees ev's buffer. NULL-safe. */
void h_event_clear(h_event *ev);

/* Fills out[] with the events of work order wo from fault report to close, in order.
 * variant picks the tier, the gold flag and how late the engineer arrives (some
 * variants breach the on-site SLA, so alerts are expected); every 4th (variant % 4 ==
 * 1) reports the service fully interrupted for one shared customer id, so its order
 * takes part in the city rule (city reports through the outbox) without ever making
 * the 3 distinct customers of an incident. @returns 0 or -1. */
int h_order_events(const char *wo, unsigned variant, int64_t t0,
                   h_event out[H_ORDER_EVENTS]);

/* What a worker should produce for one work order. */
typedef struct h_expect {
    char wo[64];
    uint8_t *record; /* ConfirmationRecord of the final state */
    size_t record_len;
    uint32_t version;
    bool complete;          /* CLOSED or CANCELLED: a record is emitted */
    char alert_ids[8][320]; /* output ids ("alert/...") the worker must emit */
    int n_alerts;
    bool in_city;         /* the order takes part in the city rule: city holds it */
    cfd_city_report city; /* what the city rule must have of the final record (owned) */
} h_expect;

/* The oracle: folds the n events of one order (in the order given) through the
 * domain core with the default policy, as a worker does. @returns 0 or -1. */
int h_oracle(const h_event *evs, size_t n, h_expect *out);

void h_expect_clear(h_expect *e);

/* Reads work order wo's state from Redis (key prefix "cfd", partitions 0..nparts-1)
 * as its ConfirmationRecord bytes (*out malloc'd) and version.
 * @returns 1 when found, 0 when absent, -1 on an error (logged). */
int h_redis_record(redisContext *rc, const char *wo, int nparts, uint8_t **out, size_t *len,
                   uint32_t *version);

/* Sets the simulated clock the workers read with worker.clock=simulated (key
 * "cfd:clock"). Tests pin it before their events' deadlines, so that only the events
 * decide the alerts, not how fast the workers run. @returns 0 or -1. */
int h_set_sim_clock(h_env *env, int64_t now_ms);

/* @returns the number of lines of the file at path that contain needle, -1 when the
 * file cannot be read. */
int h_file_count(const char *path, const char *needle);

/* @returns how many times the sample customer's name, contact, phone or address appear
 * in the log at path (0 also when the file does not exist: that worker never started). */
int h_pii_hits(const char *log);

/* @returns a malloc'd RFC 4648 base64 text of len bytes at p (as the JSON printer
 * writes bytes fields). */
char *h_base64(const void *p, size_t len);

/* --- poison --------------------------------------------------------------------------- */

/* Kinds of bad input h_poison() makes. */
typedef enum h_poison_kind {
    H_POISON_RANDOM = 0,  /* random bytes, 0..200 of them */
    H_POISON_TRUNCATED,   /* a valid event cut short */
    H_POISON_WRONG_SHAPE, /* valid protobuf of another message, or of random fields */
    H_POISON_MISSING,     /* a well-formed event without a field it needs */
    H_POISON_BAD_ENUM,    /* an enum value the schema does not declare */
    H_POISON_KINDS,
} h_poison_kind;

/* Writes one bad message of the given kind into buf (cap >= 512) with *len bytes,
 * drawing from *seed; goods are valid events to cut short or borrow a work order
 * from. Every message is one the event decoder rejects (candidates it accepts are
 * drawn again). @returns 0, or -1 when a kind that must be rejected was accepted. */
int h_poison(uint64_t *seed, h_poison_kind kind, const h_event *goods, size_t n_goods,
             uint8_t *buf, size_t cap, size_t *len);

/* @returns the next value of a xorshift64* generator. */
uint64_t h_rand(uint64_t *seed);

/* --- dead letters ------------------------------------------------------------------- */

typedef struct h_dl_report {
    int input;        /* messages read back from the input topic */
    int bad;          /* of them: rejected by the decoder, or for an orphan order */
    int dead_letters; /* messages read from the dead-letter topic */
    int distinct;     /* distinct (partition, offset) among them */
    int duplicates;   /* dead letters whose id was seen before (at-least-once) */
    int missing;      /* bad messages without a dead letter */
    int unexpected;   /* dead letters of good messages or of unknown offsets */
    int wrong;        /* wrong reason, original bytes or position */
} h_dl_report;

/*
 * Reads the input topic back (input_count messages), classifies each message as bad
 * when the event decoder rejects it or its work order starts with orphan_prefix (may
 * be NULL: an order that never opens, dead-lettered when its park window passes), then
 * reads the dead-letter topic until every bad message has one or timeout_ms passed,
 * then 2 s more, and compares: one dead letter per bad offset (duplicates only with
 * the same id), each with the right position, reason and original bytes.
 * @returns 0 when the comparison could be made (see rep), -1 otherwise.
 */
int h_dl_check(h_env *env, const char *in_topic, int input_count, const char *orphan_prefix,
               const char *dl_topic, int timeout_ms, h_dl_report *rep);

/* --- outputs ------------------------------------------------------------------------ */

/* Waits up to timeout_ms until Redis holds, for each of the n expected orders, exactly
 * the oracle's record (key prefix "cfd", partitions 0..nparts-1).
 * @returns how many orders are still missing or different at the end (0: all right);
 * the first few are named on stderr. */
int h_wait_redis_records(h_env *env, const h_expect *exp, size_t n, int nparts,
                         int timeout_ms);

typedef struct h_out_report {
    int messages;   /* read from the topic */
    int distinct;   /* distinct expected ids seen */
    int duplicates; /* messages whose id was seen before */
    int missing;    /* expected ids never seen */
    int unexpected; /* ids no expected order calls for */
    int wrong;      /* content unlike the oracle's, or unlike an earlier copy */
} h_out_report;

/* Reads the records topic until every complete expected order's record (id
 * "rec/<order>/v<version>") was seen or timeout_ms passed (then 1 s more), comparing
 * each with the oracle's bytes. @returns 0, -1 when the topic cannot be read. */
int h_check_records_topic(h_env *env, const char *topic, const h_expect *exp, size_t n,
                          int timeout_ms, h_out_report *rep);

/* The same for the alerts topic: every expected alert id, and no other. Alerts carry
 * the instant they fired, so copies are compared by id only. */
int h_check_alerts_topic(h_env *env, const char *topic, const h_expect *exp, size_t n,
                         int timeout_ms, h_out_report *rep);

#endif

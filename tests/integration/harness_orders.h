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

#include "harness.h"

#define H_ORDER_EVENTS 9           /* report, accept, dispatch ... close */
#define H_T0 1764043200000LL       /* 2025-11-25T04:00:00Z */
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
 * variants breach the on-site SLA, so alerts are expected). @returns 0 or -1. */
int h_order_events(const char *wo, unsigned variant, int64_t t0,
                   h_event out[H_ORDER_EVENTS]);

/* What a worker should produce for one work order. */
typedef struct h_expect {
    char wo[64];
    uint8_t *record; /* ConfirmationRecord of the final state */
    size_t record_len;
    uint32_t version;
    bool complete;        /* CLOSED or CANCELLED: a record is emitted */
    char alert_ids[8][320]; /* output ids ("alert/...") the worker must emit */
    int n_alerts;
} h_expect;

/* The oracle: folds the n events of one order (in the order given) through the
 * domain core with the default policy, as a worker does. @returns 0 or -1. */
int h_oracle(const h_event *evs, size_t n, h_expect *out);

void h_expect_clear(h_expect *e);

/* Reads work order wo's state from Redis (key prefix "cfd", partitions 0..nparts-1)
 * as its ConfirmationRecord bytes (*out malloc'd) and version.
 * @returns 1 when found, 0 when absent, -1 on an error (logged). */
int h_redis_record(redisContext *rc, const char *wo, int nparts, uint8_t **out,
                   size_t *len, uint32_t *version);

/* @returns the number of lines of the file at path that contain needle, -1 when the
 * file cannot be read. */
int h_file_count(const char *path, const char *needle);

/* @returns a malloc'd RFC 4648 base64 text of len bytes at p (as the JSON printer
 * writes bytes fields). */
char *h_base64(const void *p, size_t len);

#endif

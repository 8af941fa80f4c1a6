/*
 * What the benchmarks share: the seeded workload, CPU and memory readings of a
 * process, and the rows of the table scripts/bench.sh prints.
 *
 * A benchmark prints what it measures for people, and each figure once more as a row
 * "ROW<TAB>measure<TAB>value<TAB>unit<TAB>note" that scripts/bench.sh gathers into one
 * table.
 */
#ifndef CFD_BENCH_COMMON_H
#define CFD_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>

#include "confirmd/policy.h"
#include "harness_orders.h"

/* One message of the workload, in delivery order. */
typedef struct b_msg {
    const char *key; /* the work order (borrowed from the order's events) */
    const uint8_t *buf;
    size_t len;
    int order;      /* index of its work order in the workload */
    bool completes; /* after this message every event of a complete order was sent */
} b_msg;

typedef struct b_order {
    h_event ev[H_ORDER_EVENTS];
    int n_events; /* distinct events sent: H_ORDER_EVENTS, fewer for an open order */
} b_order;

/*
 * A realistic stream: work orders from fault report to close (h_order_events(): tiers,
 * gold customers, engineers arriving late enough to breach the on-site SLA), a tenth of
 * them still open (their first 2-7 events only), about a quarter of the others with
 * events out of order (acceptance before the report, two neighbours swapped, the close
 * before the restoration) and 8 % with an event delivered again later. Up to 256
 * orders are in flight at once, their messages interleaved at random.
 */
typedef struct b_workload {
    b_order *orders;
    int n_orders;
    int complete, open, reordered, duplicated;
    b_msg *msgs;
    size_t n_msgs;
} b_workload;

/* Builds n orders WO-L-<first>... WO-L-<first + n - 1> whose first events happen from t0
 * on, one every step_ms, from seed. @returns the workload, or NULL (reason on stderr). */
b_workload *b_workload_new(int n, int first, int64_t t0, int64_t step_ms, uint64_t seed);
void b_workload_free(b_workload *wl);

/* Produces the workload's messages [from, to) to topic keyed by work order, and waits
 * for their delivery. @returns 0 or -1. */
int b_workload_load(h_env *env, const char *topic, const b_workload *wl, size_t from,
                    size_t to);

/* @returns milliseconds on the wall clock (SLA instants are wall-clock instants). */
int64_t b_wall_ms(void);

/* Starts a worker with extra args (h_worker_start), under the command that
 * CFD_BENCH_WRAPPER names when it is set (words split at spaces; e.g. "valgrind
 * --tool=callgrind" to count the worker's instructions). @returns its pid or -1. */
pid_t b_worker_start(h_env *env, const char *const *args);

/* Writes into buf (n bytes) the broker's topics for a worker benchmark of partitions
 * partitions (h_broker_start()'s spec): every input topic of the worker with that
 * count, as the worker requires, and the records topic too. */
void b_worker_topics(char *buf, size_t n, int partitions);

/* @returns the CPU time (user + system, every thread) pid used so far, in
 * microseconds, from /proc/<pid>/stat; -1 when unreadable. */
int64_t b_cpu_us(pid_t pid);

/* @returns a field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"), or -1. */
long b_status_kb(pid_t pid, const char *field);

/* @returns an integer field of redis' INFO ("used_memory", "process_id"), or -1. */
long long b_redis_info(redisContext *rc, const char *field);

/* @returns the number of offset resets in the logs of the env's first n workers: each
 * is input the broker dropped before a worker read it (the embedded broker keeps 5 MB
 * of a partition), so a figure measured over it would flatter. Says so on stderr. */
int b_broker_dropped(h_env *env, int n);

/* @returns the sum over partitions 0..partitions-1 of (the offset of topic the workers
 * applied + 1): how many of its messages are applied; -1 when Redis does not answer. */
long long b_applied(redisContext *rc, const char *topic, int partitions);

/* Opens a reader of topic from its start, in a group of its own, whose fetches wait
 * 10 ms at most: the harness's reader keeps librdkafka's 500 ms, which the embedded
 * broker serves in full, and would add that to what a benchmark measures. The group
 * join takes a few seconds: open it before the measured part. @returns it, or NULL. */
rd_kafka_t *b_reader_open(h_env *env, const char *topic);

/* @returns the next message (rd_kafka_message_destroy() it) within timeout_ms, or NULL;
 * consumer errors are logged and skipped. */
rd_kafka_message_t *b_reader_next(rd_kafka_t *rk, int timeout_ms);

/* Closes and destroys a reader. NULL-safe. */
void b_reader_close(rd_kafka_t *rk);

/* Loads open AAA work orders WO-T<n>, accepted, not yet contacted, straight into Redis
 * (states and timers, partition n % partitions, pipelined): the contact duty's 50 %
 * warning of the first sample is due within [window_start, window_start + window_ms)
 * on the wall clock, the others' a day later. @returns 0 or -1. */
int b_timers_load(redisContext *rc, const cfd_policy *pol, int partitions, int open,
                  int sample, int64_t window_start, int64_t window_ms);

/* @returns how late (ms, wall clock, now) the SlaAlert m is when it is the 50 % warning
 * of one of b_timers_load()'s orders whose work order starts with prefix (NULL: any),
 * INT64_MIN otherwise. */
int64_t b_warning_lateness(const rd_kafka_message_t *m, const char *prefix);

/* Prints one row of the table: value whole from 100 up, else to 3 significant digits;
 * note is printf-style and may be empty. */
void b_row(const char *measure, double value, const char *unit, const char *note_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sorts v and @returns its q-quantile (0 < q <= 1) of n values; 0 when n is 0. */
int64_t b_quantile(int64_t *v, size_t n, double q);

#endif

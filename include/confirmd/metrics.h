/*
 * A worker's metrics: a snapshot of its counters that the worker thread publishes once
 * per loop, and that another thread (the HTTP endpoint, http.c) reads and renders in
 * the Prometheus text format (version 0.0.4), or asks whether the worker is ready. The
 * two threads share nothing but the copy behind one mutex, so a scrape never blocks
 * the worker's loop for longer than one copy.
 */
#ifndef CONFIRMD_METRICS_H
#define CONFIRMD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "confirmd/histogram.h"
#include "confirmd/worker.h"

/* How far one input partition is behind the broker. */
typedef struct cfd_metrics_lag {
    const char *topic; /* the worker's; copied when published */
    int32_t partition;
    int64_t messages;
} cfd_metrics_lag;

/* Messages consumed from one input topic. */
typedef struct cfd_metrics_topic {
    const char *topic; /* the worker's; copied when published */
    uint64_t consumed;
} cfd_metrics_topic;

/* What a worker publishes. */
typedef struct cfd_metrics_snapshot {
    cfd_worker_stats stats;
    const cfd_metrics_topic *topics;
    size_t n_topics;
    const cfd_metrics_lag *lag;
    size_t n_lag;
    uint64_t assignments; /* rebalance callbacks that assigned partitions */
    uint64_t revocations; /* ... that revoked them */
    uint64_t partitions_owned;
    uint64_t undelivered; /* outputs produced but not yet delivered */
    cfd_histogram commit_seconds;
    cfd_histogram timer_lateness_seconds;
    cfd_histogram delivery_seconds;         /* produce -> delivery report, per output */
    cfd_histogram redis_round_trip_seconds; /* every call of the worker's store */
    bool redis_ok;                          /* Redis answered the worker's last call */
    int64_t loop_mono_ms; /* cfd_monotonic_ms() when the worker's loop last ran */
} cfd_metrics_snapshot;

typedef struct cfd_metrics cfd_metrics;

/* @returns a new, empty metrics holder (never NULL). */
cfd_metrics *cfd_metrics_new(void);

/* Replaces the published snapshot with a copy of s (its strings and arrays included). */
void cfd_metrics_publish(cfd_metrics *m, const cfd_metrics_snapshot *s);

/* Families that are not the worker's counters (the store's gauges): fn writes them in
 * the text format at each scrape, after the snapshot's and outside its lock, so however
 * long it takes it holds up the scrape, never the worker. */
typedef void (*cfd_metrics_source_fn)(void *ctx, FILE *out);

/* Sets m's source (one; NULL: none). ctx must outlive m's scrapes. */
void cfd_metrics_set_source(cfd_metrics *m, cfd_metrics_source_fn fn, void *ctx);

/* @returns the published snapshot in the Prometheus text format, then the source's
 * families, malloc'd, length in *len. */
char *cfd_metrics_render(cfd_metrics *m, size_t *len);

/* Whether the worker is ready: it published, owns partitions, Redis answered its last
 * call and its loop ran within max_stall_ms of now_mono_ms.
 * @returns true, or false with a one-line reason in why. */
bool cfd_metrics_ready(cfd_metrics *m, int64_t now_mono_ms, int64_t max_stall_ms, char *why,
                       size_t why_size);

/* Writes snapshot s in the Prometheus text format. @returns the text, malloc'd, its
 * length in *len. */
char *cfd_metrics_format(const cfd_metrics_snapshot *s, size_t *len);

/* NULL-safe. */
void cfd_metrics_destroy(cfd_metrics *m);

#endif

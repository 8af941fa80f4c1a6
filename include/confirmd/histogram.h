/*
 * A histogram of durations with fixed buckets, for the Prometheus text format: what the
 * worker (commit, timer lateness, delivery) and the store (Redis round trips) observe,
 * rendered by the app's metrics (confirmd/metrics.h). Plain counters, no lock: each
 * histogram has one writer, and readers get a copy.
 */
#ifndef CONFIRMD_HISTOGRAM_H
#define CONFIRMD_HISTOGRAM_H

#include <stdint.h>

/* Upper bounds (seconds) of a histogram's buckets, +Inf aside. */
#define CFD_HIST_BOUNDS 14
extern const double cfd_hist_bounds[CFD_HIST_BOUNDS];

/* A histogram of durations: per bucket counts (counts[CFD_HIST_BOUNDS] is +Inf). */
typedef struct cfd_histogram {
    uint64_t counts[CFD_HIST_BOUNDS + 1];
    uint64_t count;
    double sum; /* seconds */
} cfd_histogram;

/* Adds one observation of seconds (a negative one counts as 0). */
void cfd_histogram_observe(cfd_histogram *h, double seconds);

/* @returns a monotonic clock in seconds, for timing what goes in a histogram. */
double cfd_histogram_clock(void);

#endif

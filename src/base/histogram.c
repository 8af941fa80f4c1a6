/*
 * Histograms of durations; see include/confirmd/histogram.h.
 */
#include "confirmd/histogram.h"

#include <time.h>

const double cfd_hist_bounds[CFD_HIST_BOUNDS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

void cfd_histogram_observe(cfd_histogram *h, double seconds)
{
    size_t b = 0;
    if (seconds < 0)
        seconds = 0;
    while (b < CFD_HIST_BOUNDS && seconds > cfd_hist_bounds[b])
        b++;
    h->counts[b]++;
    h->count++;
    h->sum += seconds;
}

double cfd_histogram_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

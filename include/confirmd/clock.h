/*
 * The one way the service reads time. Production uses the system clock; tests and
 * rehearsals can install a clock they drive themselves.
 */
#ifndef CONFIRMD_CLOCK_H
#define CONFIRMD_CLOCK_H

#include <stdint.h>

typedef struct cfd_clock {
    int64_t (*now_ms)(void *ctx); /* milliseconds since the Unix epoch */
    void *ctx;
} cfd_clock;

/* @returns the system (wall) clock. */
cfd_clock cfd_clock_system(void);

/* @returns a monotonic millisecond counter, for timeouts and intervals only. */
int64_t cfd_monotonic_ms(void);

/* Sleeps ms milliseconds (less when a signal interrupts it). */
void cfd_sleep_ms(int64_t ms);

static inline int64_t cfd_clock_now(const cfd_clock *c)
{
    return c->now_ms(c->ctx);
}

#endif

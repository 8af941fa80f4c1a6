/*
 * The replay engine: work orders rebuilt in memory from their input events under one
 * SLA policy, by the domain core the worker's event stage uses (cfd_record_offer), with
 * its parking: an event an order cannot take yet waits and is retried after every
 * change. Nothing is read or written here: the caller feeds the events' bytes (confirmctl
 * what-if and rebuild read them from the input topics) and reads the records and their
 * compliance tally back. Records depend on the events' contents only (event times, not
 * arrival), so two replays of the same input under two policies are comparable.
 *
 * What the worker does beyond the records is left out: outputs, timers (they change no
 * record), and the park window (an event that waited longer than worker.park_window_ms
 * for its order is dead-lettered by the worker, applied here when its order opens).
 */
#ifndef CONFIRMD_REPLAY_H
#define CONFIRMD_REPLAY_H

#include <stdint.h>

#include "confirmd/record.h"

typedef struct cfd_replay cfd_replay;

/* What a replay did with the events it was given. */
typedef struct cfd_replay_stats {
    uint64_t applied;     /* changed a record */
    uint64_t duplicates;  /* an event id the record had */
    uint64_t rejected;    /* refused by the core (the worker dead-letters them) */
    uint64_t undecodable; /* not a valid Event (the worker dead-letters them) */
    uint64_t parked;      /* still waiting at the end: no opening event, or a milestone
                             they need never came */
    uint64_t skipped;     /* of another work order than the one asked for */
    int64_t latest_ms;    /* the latest event time applied, 0 none */
} cfd_replay_stats;

/* @returns an empty replay under pol (borrowed: it must outlive the replay); only the
 * events of work order only (copied) when it is not NULL. Never NULL. */
cfd_replay *cfd_replay_new(const cfd_policy *pol, const char *only);

/* NULL-safe. */
void cfd_replay_destroy(cfd_replay *r);

/*
 * Applies one confirmd.v1.Event (its protobuf bytes, not kept) to its work order.
 * @returns CFD_OK when it was taken (applied, parked, a duplicate or skipped), else
 * the decoder's or the core's error with errstr filled (counted, the replay goes on).
 */
cfd_err cfd_replay_add(cfd_replay *r, const void *buf, size_t len, char *errstr,
                       size_t errstr_size);

/* @returns the counters so far (parked: the events waiting now). */
cfd_replay_stats cfd_replay_stats_get(const cfd_replay *r);

/* @returns the number of opened work orders; cfd_replay_at(r, i) is one of them, in the
 * order they opened. */
size_t cfd_replay_count(const cfd_replay *r);
const cfd_record *cfd_replay_at(const cfd_replay *r, size_t i);

/* @returns the record of order, or NULL when it did not open. */
const cfd_record *cfd_replay_find(const cfd_replay *r, const char *order);

/* Compliance of a group of work orders: their duties judged at one instant. */
typedef struct cfd_replay_tally {
    uint32_t orders;
    uint32_t met;      /* duties met in time */
    uint32_t breached; /* met late, or overdue at the instant: the breaches */
    uint32_t open;     /* still running or paused at the instant */
    int32_t points;    /* penalty points of the orders' violations */
} cfd_replay_tally;

/* One group: a tier ("TIER_AAA") or a contractor ("" when never dispatched). */
typedef struct cfd_replay_group {
    char *key; /* owned */
    cfd_replay_tally t;
} cfd_replay_group;

/* Every order of a replay tallied by tier and by contractor (each sorted by key). */
typedef struct cfd_replay_summary {
    cfd_replay_tally total;
    cfd_replay_group *tiers, *contractors;
    size_t n_tiers, n_contractors;
} cfd_replay_summary;

/* Tallies every order of r with its duties judged at at_ms (cfd_duty_judge_all) into
 * *out, which the caller clears with cfd_replay_summary_clear. */
void cfd_replay_summarize(const cfd_replay *r, int64_t at_ms, cfd_replay_summary *out);
void cfd_replay_summary_clear(cfd_replay_summary *s);

/* @returns the group of key in groups[0..n), or NULL. */
const cfd_replay_group *cfd_replay_group_find(const cfd_replay_group *groups, size_t n,
                                              const char *key);

#endif

/*
 * A confirmd worker: one consumer-group member that owns some partitions, applies
 * their events to the work orders' records in Redis, and produces records, alerts
 * and dead letters.
 *
 * Per poll, the events of each partition are applied as one batch: one pipelined
 * read of the records, the pure domain core in memory, then one atomic Redis script
 * writing the records, the outputs (an outbox) and the partition's applied offset.
 * Outputs are produced after that write; a Kafka offset is committed only once every
 * output of its batch is delivered. On assignment a worker fences earlier owners
 * (a new epoch), seeks to Redis' applied offset + 1 and re-sends the outbox.
 */
#ifndef CONFIRMD_WORKER_H
#define CONFIRMD_WORKER_H

#include <signal.h>

#include "confirmd/clock.h"
#include "confirmd/config.h"
#include "confirmd/incident.h"
#include "confirmd/policy.h"

typedef struct cfd_worker cfd_worker;

typedef struct cfd_worker_stats {
    uint64_t events;       /* input messages consumed */
    uint64_t applied;      /* events that changed a record */
    uint64_t duplicates;   /* replays dropped by event id */
    uint64_t parked;       /* events parked for an order not yet open */
    uint64_t dead_letters; /* messages sent to the dead-letter topic */
    uint64_t dead_letters_by_reason[CFD_DL_REASONS];
    uint64_t alerts;
    uint64_t records; /* completed records emitted */
    uint64_t batches; /* Redis batch commits */
    uint64_t redis_retries;
    uint64_t unreadable_states; /* stored states that did not decode (the worker stops) */
    uint64_t input_lost; /* partitions whose next offset the brokers had deleted unread */
    /* Alerts emitted by kind, metric (CFD_METRIC_NONE for record-level ones) and level
     * (the recipient); incidents by kind and status. */
    uint64_t alerts_by[CFD_ALERT_KINDS][CFD_METRIC_COUNT][CFD_RECIPIENTS];
    uint64_t incidents_by[CFD_INCIDENT_KINDS][CFD_INCIDENT_STATUSES];
    /* Fencing: partitions claimed (each claim fences every earlier owner), commits
     * refused because another worker claimed the partition since (this one stops),
     * and Redis found to have lost writes this worker applied (it stops too). */
    uint64_t claims, fenced, rollbacks;
} cfd_worker_stats;

/*
 * Connects to Redis and creates the Kafka clients. Takes no ownership: cfg, pol and
 * stop must outlive the worker. *stop is polled; set it from a signal handler.
 * @returns the worker, or NULL with errstr filled.
 */
cfd_worker *cfd_worker_new(const cfd_config *cfg, const cfd_policy *pol, cfd_clock clock,
                           volatile sig_atomic_t *stop, char *errstr, size_t errstr_size);

/*
 * Runs until *stop is set, then leaves the group cleanly.
 * @returns CFD_OK, or CFD_ERR_FENCED when another worker took a partition this one
 *          still held (it must restart and rejoin), or CFD_ERR on a fatal error.
 */
cfd_err cfd_worker_run(cfd_worker *w);

/* @returns the counters so far. */
cfd_worker_stats cfd_worker_get_stats(const cfd_worker *w);

/* NULL-safe. */
void cfd_worker_destroy(cfd_worker *w);

#endif

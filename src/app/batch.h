/*
 * A batch: what one partition's messages, or one tick of its timers, decide. It holds
 * the Redis transaction (cfd_txn: states, timers, the outbox, the applied offsets) and
 * the outputs, which the worker commits as one atomic write and then produces. A
 * stage (stage.h) writes into a batch through these functions only; the worker owns
 * its life cycle (begin, commit, produce).
 */
#ifndef CFD_APP_BATCH_H
#define CFD_APP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confirmd/clock.h"
#include "confirmd/config.h"
#include "confirmd/consumer.h"
#include "confirmd/frame.h"
#include "confirmd/policy.h"
#include "confirmd/store.h"
#include "confirmd/worker.h"

/* What every batch of a worker shares: the configuration, Redis, the clock, the
 * counters, and the worker's answers to what only it knows. */
typedef struct cfd_env {
    const cfd_config *cfg;
    const cfd_policy *pol;
    cfd_clock *clock;
    cfd_store *store;
    cfd_worker_stats *stats;
    bool routed[256]; /* [kind]: outputs of that kind have a topic (else are dropped) */
    void *ctx;        /* the worker, for the two functions below */
    /* @returns true when a Redis call that returned err should be made again (after a
     * backoff and a reconnect): an outage pauses the worker, it never skips. */
    bool (*redis_retry)(void *ctx, cfd_err err, int64_t *backoff, char *errstr,
                        size_t errstr_size);
    /* @returns true when the worker has everything the broker holds of topic/part up
     * to seen (or more), or does not read that partition at all. */
    bool (*caught_up)(void *ctx, const char *topic, int32_t part, int64_t seen);
} cfd_env;

/* An output decided during a batch, produced after the batch is durable. */
typedef struct cfd_output {
    char *id;
    cfd_output_kind kind;
    char *key;
    uint8_t *payload;
    size_t len;
} cfd_output;

typedef struct cfd_batch {
    const cfd_env *env;
    int32_t part;
    cfd_txn *tx;
    cfd_output *outs;
    size_t n_outs, cap_outs;
    bool failed;             /* an output could not be built: not to be committed */
    const char *defer_topic; /* messages of it from defer_from on are not applied */
    int64_t defer_from;      /* -1: none */
} cfd_batch;

/* Makes call (a cfd_store_* call that fills errstr, an array) again while Redis is
 * away, as env->redis_retry says; err holds its last result. The one retry loop of the
 * app: an outage pauses the worker, it never skips. */
#define CFD_REDIS(env, err, errstr, call)                                                \
    do {                                                                                 \
        int64_t backoff_ = 0;                                                            \
        do                                                                               \
            (err) = (call);                                                              \
        while (                                                                          \
            (env)->redis_retry((env)->ctx, (err), &backoff_, (errstr), sizeof(errstr))); \
    } while (0)

/* --- life cycle (the worker's) ------------------------------------------------------ */

void cfd_batch_init(cfd_batch *b, const cfd_env *env);
void cfd_batch_release(cfd_batch *b);
/* Starts a batch of part under the claim epoch, with nothing in it. */
void cfd_batch_begin(cfd_batch *b, int32_t part, int64_t epoch);
/* @returns true when the batch writes or sends nothing. */
bool cfd_batch_is_empty(const cfd_batch *b);

/* --- what a stage does --------------------------------------------------------------- */

/* @returns the batch's clock reading. */
int64_t cfd_batch_now(const cfd_batch *b);
/* Queues an output (payload malloc'd, taken over): written to the outbox in the
 * batch's transaction, produced after. Dropped when its kind has no topic. */
void cfd_batch_output(cfd_batch *b, const char *id, cfd_output_kind kind, const char *key,
                      uint8_t *payload, size_t len);
/* Records that what of name could not be encoded: the batch must not be committed, or
 * that output would be lost while its input counts as applied (the worker stops). */
void cfd_batch_fail(cfd_batch *b, const char *what, const char *name);
/* What every stage does with a stored state (of kind "work order", "city key",
 * "network object") that does not decode: never overwrite or drop what cannot be
 * read; log it, count it, and stop for an operator (docs/OPERATIONS.md).
 * @returns CFD_ERR_DECODE, for the caller to return. */
cfd_err cfd_batch_unreadable(cfd_batch *b, const char *kind, const char *name,
                             const char *why);
/* Dead-letters message m: why, detail (never customer data), and the work order and
 * event id when known. */
void cfd_batch_dead_letter(cfd_batch *b, const cfd_msg *m, cfd_err why, const char *detail,
                           const char *order, const char *event_id);
/* Dead-letters entry index of order's park list, whose frame does not parse: where it
 * came from is unknown (offset -1, topic: the events' first), so the whole frame is
 * the original. */
void cfd_batch_dead_letter_parked(cfd_batch *b, const char *topic, const char *order,
                                  size_t index, const void *frame, size_t len);
/* m and the later messages of its topic in this batch are not applied: they are
 * consumed again (the worker seeks back) and not counted as applied. */
void cfd_batch_defer(cfd_batch *b, const cfd_msg *m);
/* @returns true when the worker has all of topic's partition of this batch up to seen
 * (see cfd_env.caught_up). */
bool cfd_batch_caught_up(const cfd_batch *b, const char *topic, int64_t seen);
/* The names (orders, keys) of the partition's kind that are due at now, at most max
 * (retrying while Redis is away); *names malloc'd (cfd_strv_free), NULL when none or
 * on error. */
cfd_err cfd_batch_due(cfd_batch *b, cfd_due_kind kind, int64_t now, size_t max,
                      char ***names, size_t *n);

#endif

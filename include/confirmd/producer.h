/*
 * The producer: sends a worker's outputs to Kafka, each with the headers "id" and
 * "type" (the full protobuf name of what its kind carries), and follows them to
 * delivery. An output that fails is produced again (at once a few
 * times, then later with backoff, while its partition stays with the same claim); one
 * the brokers refuse for good (the message itself: too large, invalid) is replaced by
 * bytes the app builds and sent to the dead-letter topic. Outputs go out in batches,
 * one per partition write: a batch's offsets are handed back once every output of it
 * and of the batches before it is delivered, so the app commits in order.
 *
 * What the app must do on a delivery (drop the output from its outbox) or a refusal
 * (build the replacement) it does in the callbacks given at creation. Single-threaded:
 * every callback runs inside cfd_producer_poll, _flush, _send or _batch_end.
 */
#ifndef CONFIRMD_PRODUCER_H
#define CONFIRMD_PRODUCER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confirmd/kafka.h"

/* The most offsets a batch carries (one per input topic). */
#define CFD_PRODUCER_MAX_OFFSETS 8

typedef struct cfd_producer cfd_producer;

/* Where outputs of one kind go, and what they are. */
typedef struct cfd_producer_topic {
    int kind;         /* the app's output kind */
    const char *name; /* NULL: the app produces no output of this kind */
    const char *type; /* the "type" header: the message's full protobuf name
                       * ("confirmd.v1.ConfirmationRecord"); NULL: no such header */
} cfd_producer_topic;

/* An output refused for good, for the app to replace. */
typedef struct cfd_producer_refusal {
    const char *id;    /* the output id, kept by the replacement */
    const char *topic; /* where it was refused */
    const void *payload;
    size_t len;
    const char *detail; /* "output <id> to <topic> (<len> bytes) refused for good: ..." */
    bool bare;          /* a replacement was refused already: carry none of its bytes */
} cfd_producer_refusal;

/* What the producer tells the app; every callback is required. ctx is passed back. */
typedef struct cfd_producer_cbs {
    void *ctx;
    /* The output id of part was delivered, seconds after it was produced (its last
     * try; -1 when librdkafka does not know). */
    void (*delivered)(void *ctx, int32_t part, const char *id, double seconds);
    /* Every output of part's batch (and of those before it) is delivered: its offsets
     * (as given to cfd_producer_batch_begin, -1 none) may be committed. */
    void (*batch_delivered)(void *ctx, int32_t part, const int64_t *offs);
    /* Fills *buf (malloc'd, the producer frees it) and *len with what replaces r. */
    void (*replace)(void *ctx, const cfd_producer_refusal *r, uint8_t **buf, size_t *len);
    cfd_kafka_error_fn error;
} cfd_producer_cbs;

typedef struct cfd_producer_opts {
    const cfd_kafka_opts *kafka;      /* the client's kafka.* properties */
    const cfd_producer_topic *topics; /* one per kind */
    size_t n_topics;
    int deadletter_kind; /* its topic takes replacements (with its type) and kinds not
                          * in topics (with no type) */
    size_t n_offsets;    /* offsets per batch, at most CFD_PRODUCER_MAX_OFFSETS */
    volatile sig_atomic_t *stop; /* once set, failed deliveries are given up */
    const char *log_module;      /* the module its log lines name */
} cfd_producer_opts;

/*
 * Creates the librdkafka producer and its topics. Keeps opts->stop and
 * opts->log_module (both must outlive it, as must cbs->ctx), copies the rest.
 * @returns the producer, or NULL with errstr filled.
 */
cfd_producer *cfd_producer_new(const cfd_producer_opts *opts, const cfd_producer_cbs *cbs,
                               char *errstr, size_t errstr_size);

/* Flushes nothing (see cfd_producer_flush); NULL-safe. */
void cfd_producer_destroy(cfd_producer *p);

/* part is now held under incarnation (a new claim): its batches start afresh, and
 * reports of earlier claims are ignored. */
void cfd_producer_claim(cfd_producer *p, int32_t part, uint32_t incarnation);
/* part is no longer held: its batches are forgotten, and its retries are dropped when
 * due (cfd_producer_retry). */
void cfd_producer_release(cfd_producer *p, int32_t part);

/* Opens a batch of part (held). offs: n_offsets values handed back by batch_delivered,
 * or NULL for none. @returns the batch, for cfd_producer_send and _batch_end. */
uint64_t cfd_producer_batch_begin(cfd_producer *p, int32_t part, const int64_t *offs);
/* Closes a batch: once its outputs are delivered it counts as delivered. */
void cfd_producer_batch_end(cfd_producer *p, int32_t part, uint64_t batch);

/* Produces one output of kind (a copy) under id; batch 0 when it belongs to none (an
 * outbox entry sent again). Failures are retried inside the producer. */
void cfd_producer_send(cfd_producer *p, int32_t part, uint64_t batch, const char *id,
                       int kind, const void *key, size_t key_len, const void *payload,
                       size_t len);

/* Serves delivery reports, waiting up to timeout_ms for one. */
void cfd_producer_poll(cfd_producer *p, int timeout_ms);
/* Produces again the outputs whose retry is due (those of partitions the same claim no
 * longer holds are dropped: the next owner re-sends its outbox). */
void cfd_producer_retry(cfd_producer *p);
/* Waits up to timeout_ms for every output in flight to be delivered or given up. */
void cfd_producer_flush(cfd_producer *p, int timeout_ms);
/* @returns the outputs not delivered: given up at stop, waiting for a retry, or still
 * in flight. */
size_t cfd_producer_undelivered(const cfd_producer *p);

#endif

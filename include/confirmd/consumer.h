/*
 * The consumer: one consumer-group member reading the input topics. Each poll's
 * messages are handed to the app one partition at a time, in the order they came;
 * assignments and revocations (eager: the whole assignment at once) go through the
 * app, which says where each partition resumes. Offsets are committed only as far as
 * the app marks them done (cfd_consumer_done), never automatically.
 *
 * Single-threaded: every callback runs inside cfd_consumer_poll or _close.
 */
#ifndef CONFIRMD_CONSUMER_H
#define CONFIRMD_CONSUMER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "confirmd/kafka.h"
#include "confirmd/types.h"

typedef struct cfd_consumer cfd_consumer;

/* Where a partition resumes (cfd_topic_part.offset set by the assign callback). */
#define CFD_OFFSET_COMMITTED (-1001) /* at the group's committed offset */
#define CFD_OFFSET_BEGINNING (-2)    /* at the earliest retained offset */

/* One message, borrowed for the callback it is given to. */
typedef struct cfd_msg {
    const char *topic;
    size_t topic_index; /* its index in cfd_consumer_opts.topics */
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL when it has none */
    size_t key_len;
    const void *payload; /* NULL for a tombstone */
    size_t len;
} cfd_msg;

/* One partition of one topic, with an offset. */
typedef struct cfd_topic_part {
    const char *topic;
    size_t topic_index; /* its index in cfd_consumer_opts.topics */
    int32_t partition;
    int64_t offset;
} cfd_topic_part;

/* What the consumer tells the app; every callback is required. ctx is passed back. */
typedef struct cfd_consumer_cbs {
    void *ctx;
    /* A new assignment: the app sets each parts[i].offset to where the partition
     * resumes (an offset, CFD_OFFSET_COMMITTED or CFD_OFFSET_BEGINNING).
     * @returns 0 to take the assignment, else it is not taken. */
    int (*assign)(void *ctx, cfd_topic_part *parts, size_t n);
    /* After the assignment was taken (its messages are not fetched yet). */
    void (*assigned)(void *ctx, const cfd_topic_part *parts, size_t n);
    /* Before parts are taken away; what the app marks done in it is still committed. */
    void (*revoke)(void *ctx, const cfd_topic_part *parts, size_t n);
    /* One partition's messages of a poll (n > 0), in the order they came; borrowed for
     * the call, which may reorder or drop entries of msgs.
     * @returns CFD_OK, else the poll stops and returns it. */
    cfd_err (*batch)(void *ctx, int32_t part, cfd_msg *msgs, size_t n);
    cfd_kafka_error_fn error;
} cfd_consumer_cbs;

typedef struct cfd_consumer_opts {
    const cfd_kafka_opts *kafka; /* the client's kafka.* properties */
    const char *const *topics;   /* to subscribe to */
    size_t n_topics;
    size_t max_messages;         /* at most this many per poll */
    volatile sig_atomic_t *stop; /* once set, reads of committed offsets stop retrying */
    const char *log_module;      /* the module its log lines name */
} cfd_consumer_opts;

/*
 * Creates the librdkafka consumer and subscribes. The topics share one partition
 * space: when the brokers report two of them with different partition counts it
 * refuses (NULL, errstr naming both). Keeps opts->stop and
 * opts->log_module (both must outlive it, as must cbs->ctx), copies the rest.
 * @returns the consumer, or NULL with errstr filled.
 */
cfd_consumer *cfd_consumer_new(const cfd_consumer_opts *opts, const cfd_consumer_cbs *cbs,
                               char *errstr, size_t errstr_size);
/* NULL-safe. */
void cfd_consumer_destroy(cfd_consumer *c);

/* Polls up to timeout_ms for messages (then takes what is ready, up to max_messages),
 * serves rebalances, hands each partition's messages to cbs->batch, and commits what
 * was marked done, at most once a second.
 * @returns CFD_OK, or the first batch result that is not. */
cfd_err cfd_consumer_poll(cfd_consumer *c, int timeout_ms);

/* @returns how many messages of topic/part the broker has beyond applied (as of the
 * last fetch), 0 when none, -1 when nothing was fetched yet. */
int64_t cfd_consumer_behind(cfd_consumer *c, const char *topic, int32_t part,
                            int64_t applied);
/* Reads the earliest offset the brokers hold of topic/part into *lo (asks them).
 * @returns 0, or -1 with errstr. */
int cfd_consumer_earliest(cfd_consumer *c, const char *topic, int32_t part, int64_t *lo,
                          char *errstr, size_t errstr_size);
/* Makes topic/part be consumed again from offset. @returns 0, or -1 with errstr. */
int cfd_consumer_seek(cfd_consumer *c, const char *topic, int32_t part, int64_t offset,
                      char *errstr, size_t errstr_size);
/* Reads the group's committed offsets of parts[0..n) into their offset (-1: none),
 * asking again with backoff while the coordinator moves.
 * @returns 0, or -1 with errstr filled. */
int cfd_consumer_committed(cfd_consumer *c, cfd_topic_part *parts, size_t n, char *errstr,
                           size_t errstr_size);
/* Marks every message of topics[topic_index]/part up to offset as done (applied and
 * its outputs delivered): committed by a poll within a second, or at once when the
 * partition is revoked. Marks of partitions not held are ignored. */
void cfd_consumer_done(cfd_consumer *c, size_t topic_index, int32_t part, int64_t offset);
/* Leaves the group (revoking what it holds). */
void cfd_consumer_close(cfd_consumer *c);

#endif

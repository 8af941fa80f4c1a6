/*
 * The consumer: one consumer-group member reading the input topics. Each poll's
 * messages are handed to the app one partition at a time, in the order they came;
 * assignments and revocations (eager: the whole assignment at once) go through the
 * app, which says where each partition resumes. Offsets are committed only when the
 * app says so (cfd_consumer_commit), never automatically.
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

/* What the consumer tells the app; every callback is required. ctx is passed back. */
typedef struct cfd_consumer_cbs {
    void *ctx;
    /* A new assignment: the app sets each parts->elems[i].offset to where the
     * partition resumes (RD_KAFKA_OFFSET_INVALID: the group's committed offset).
     * @returns 0 to take the assignment, else it is not taken. */
    int (*assign)(void *ctx, rd_kafka_topic_partition_list_t *parts);
    /* After the assignment was taken (its messages are not fetched yet). */
    void (*assigned)(void *ctx, const rd_kafka_topic_partition_list_t *parts);
    /* Before parts are taken away. */
    void (*revoke)(void *ctx, const rd_kafka_topic_partition_list_t *parts);
    /* One partition's messages of a poll (n > 0), in the order they came; borrowed for
     * the call, which may reorder or drop entries of msgs (not destroy them).
     * @returns CFD_OK, else the poll stops and returns it. */
    cfd_err (*batch)(void *ctx, int32_t part, rd_kafka_message_t **msgs, size_t n);
    /* librdkafka's error callback (err is an rd_kafka_resp_err_t). */
    void (*error)(void *ctx, int err, const char *reason);
} cfd_consumer_cbs;

typedef struct cfd_consumer_opts {
    const cfd_kafka_opts *kafka;  /* the client's kafka.* properties */
    const char *const *topics;    /* to subscribe to */
    size_t n_topics;
    size_t max_messages;          /* at most this many per poll */
    volatile sig_atomic_t *stop;  /* once set, reads of committed offsets stop retrying */
    const char *log_module;       /* the module its log lines name */
} cfd_consumer_opts;

/*
 * Creates the librdkafka consumer and subscribes. Keeps opts->stop and
 * opts->log_module (both must outlive it, as must cbs->ctx), copies the rest.
 * @returns the consumer, or NULL with errstr filled.
 */
cfd_consumer *cfd_consumer_new(const cfd_consumer_opts *opts, const cfd_consumer_cbs *cbs,
                               char *errstr, size_t errstr_size);
/* NULL-safe. */
void cfd_consumer_destroy(cfd_consumer *c);

/* Polls up to timeout_ms for messages (then takes what is ready, up to max_messages),
 * serves rebalances, and hands each partition's messages to cbs->batch.
 * @returns CFD_OK, or the first batch result that is not. */
cfd_err cfd_consumer_poll(cfd_consumer *c, int timeout_ms);

/* @returns how many messages of topic/part the broker has beyond applied (as of the
 * last fetch), 0 when none, -1 when nothing was fetched yet. */
int64_t cfd_consumer_behind(cfd_consumer *c, const char *topic, int32_t part,
                            int64_t applied);
/* Makes topic/part be consumed again from offset. @returns 0, or -1 with errstr. */
int cfd_consumer_seek(cfd_consumer *c, const char *topic, int32_t part, int64_t offset,
                      char *errstr, size_t errstr_size);
/* Reads the group's committed offsets of l into it, asking again with backoff while
 * the coordinator moves. @returns 0, or an rd_kafka_resp_err_t. */
int cfd_consumer_committed(cfd_consumer *c, rd_kafka_topic_partition_list_t *l);
/* Commits l's offsets (asynchronously; a failure is logged). */
void cfd_consumer_commit(cfd_consumer *c, const rd_kafka_topic_partition_list_t *l);
/* Leaves the group (revoking what it holds). */
void cfd_consumer_close(cfd_consumer *c);

#endif

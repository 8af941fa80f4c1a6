/*
 * A stage: what the worker applies for one group of its input topics. The worker
 * (worker.c) owns the loop, the partitions, the bus and the commits; a stage only turns
 * one partition's messages, or the passing of time, into a batch (batch.h): the Redis
 * writes and the outputs that go out together once durable. Stages keep nothing
 * between calls: what they know lives in Redis, under the partition's keys.
 *
 * A new stage is a file that defines a cfd_stage, plus its line in worker.c's stages[].
 */
#ifndef CFD_APP_STAGE_H
#define CFD_APP_STAGE_H

#include "batch.h"

typedef struct cfd_stage {
    const char *name;
    /* Names the topics of cfg it reads: at most max, malloc'd, the caller frees them;
     * they share the partitions of the events. @returns how many there are (0: the
     * stage is off), which may be more than max. */
    size_t (*topics)(const cfd_config *cfg, char **names, size_t max);
    /* Applies one partition's messages of its topics, in the order they came, into b
     * (b->part). A message it cannot apply yet it defers (cfd_batch_defer).
     * @returns CFD_OK, else the worker stops (nothing of b is committed). */
    cfd_err (*batch)(cfd_batch *b, const cfd_msg *msgs, size_t n);
    /* Does what is due at now for b's partition, into b; called once the worker has
     * caught up with the partition's backlog. NULL: nothing is time-driven. */
    cfd_err (*tick)(cfd_batch *b, int64_t now);
} cfd_stage;

/* In the order a partition's batch applies them: alarms and inventory first (their
 * events go out through Kafka anyway), city reports, then the events. */
extern const cfd_stage cfd_alarm_stage; /* alarm_stage.c */
extern const cfd_stage cfd_city_stage;  /* city_stage.c */
extern const cfd_stage cfd_event_stage; /* event_stage.c */

#endif

/*
 * The outbox's other half: a batch writes its outputs into its partition's outbox in
 * Redis (batch.c), in the same atomic write as the state; here a delivered output
 * leaves it (one HDEL per partition and loop), and a partition's new owner sends what
 * is still in it again.
 */
#ifndef CFD_APP_OUTBOX_H
#define CFD_APP_OUTBOX_H

#include <stdint.h>

#include "batch.h"
#include "confirmd/producer.h"

typedef struct cfd_outbox cfd_outbox;

cfd_outbox *cfd_outbox_new(const cfd_env *env);
/* NULL-safe. */
void cfd_outbox_destroy(cfd_outbox *ob);
/* The output id of part was delivered: it leaves the outbox at the next flush. */
void cfd_outbox_delivered(cfd_outbox *ob, int32_t part, const char *id);
/* Drops the delivered outputs from their outboxes (retrying while Redis is away).
 * @returns CFD_OK, or the error that stopped it (the rest waits for the next flush). */
cfd_err cfd_outbox_flush(cfd_outbox *ob);
/* Sends part's outbox again through p, outside any batch (retrying while Redis is
 * away). @returns CFD_OK or the error that stopped it. */
cfd_err cfd_outbox_resend(cfd_outbox *ob, cfd_producer *p, int32_t part);

#endif

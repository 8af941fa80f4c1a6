/*
 * Private to the worker (src/app/worker.c, outputs.c, apply.c): its state and the
 * functions the three share. worker.c owns the loop and the partitions, outputs.c the
 * outputs a batch decides and what the producer (src/bus/producer.c) reports of them,
 * apply.c the batches of events and timers.
 */
#ifndef CFD_APP_WORKER_INT_H
#define CFD_APP_WORKER_INT_H

#include <librdkafka/rdkafka.h>

#include "confirmd/alarm.h"
#include "confirmd/city.h"
#include "confirmd/codec.h"
#include "confirmd/consumer.h"
#include "confirmd/producer.h"
#include "confirmd/record.h"
#include "confirmd/store.h"
#include "confirmd/worker.h"

#define MAX_TOPICS CFD_PRODUCER_MAX_OFFSETS /* a batch's offsets: one per input topic */
#define PARK_SWEEP_MS 1000
#define TIMER_TICK_MS 200 /* alerts fire within this of their due time */
#define TIMER_BATCH 256

/* What this worker knows of one partition number (all input topics share it). */
typedef struct slot {
    bool owned;
    int64_t epoch;
    int64_t applied[MAX_TOPICS]; /* highest applied offset per input topic */
    bool assigned[MAX_TOPICS];   /* topics[t] of this partition is assigned to us */
    int64_t commit[MAX_TOPICS];  /* highest offset safe to commit, -1 none */
    bool commit_dirty;
    /* Alarms deferred for the inventory whose seek back failed: 1 + the offset to
     * seek the alarms topic back to (0: none). Until a seek succeeds (tried again every
     * loop), alarms at or after it are not applied: they come again after it. */
    int64_t alarms_reseek;
    char **hdel;                 /* delivered output ids to drop from the outbox */
    size_t n_hdel, cap_hdel;
    int64_t next_sweep_ms;
    int64_t next_tick_ms;
} slot;

/* An output decided during a batch, produced after the batch is durable. */
typedef struct output {
    char *id;
    cfd_output_kind kind;
    char *key;
    uint8_t *payload;
    size_t len;
} output;

/* An event waiting in an order's park list: for the order to open, or for a milestone
 * it needs (a signature waits for the visit). */
typedef struct parked_ev {
    cfd_parked_ref ref;     /* payload borrowed from a message or a loaded frame */
    char topic[256];
    cfd_decoded_event de;
    bool in_redis;          /* already in the Redis list */
    bool done;              /* applied, dropped as duplicate, or dead-lettered */
} parked_ev;

/* One work order touched by a batch. */
typedef struct item {
    const char *order; /* borrowed from a decoded event */
    cfd_record *rec;   /* NULL while the order has no opening event */
    bool dirty;
    bool rewrite_park; /* an event left the Redis park list: write the list anew */
    bool was_complete; /* the record was complete before the latest change */
    cfd_city_report city;  /* what the city rule had of the order, as loaded (owned) */
    bool in_city;          /* the order took part in the city rule, as loaded */
    cfd_blob *frames;  /* park list as loaded (keeps payloads alive) */
    size_t n_frames;
    parked_ev *parked;
    size_t n_parked, cap_parked;
} item;

struct cfd_worker {
    const cfd_config *cfg;
    const cfd_policy *pol;
    cfd_clock clock;
    volatile sig_atomic_t *stop;
    cfd_consumer *consumer;
    cfd_producer *producer;
    int alarms_t, inventory_t;     /* index in topics[] of those topics, -1 when off */
    int city_t;                    /* index in topics[] of the city reports, -1 when off */
    cfd_store *store;
    cfd_txn *tx;
    char *topics[MAX_TOPICS];
    size_t n_topics;
    slot *slots;
    size_t n_slots;
    char owner[160];
    cfd_err fatal; /* set from a callback; makes run() return */
    bool batch_failed; /* an output of this batch could not be built (wk_batch_fail) */
    cfd_worker_stats stats;
    bool simulated;  /* worker.clock = simulated: now comes from Redis */
    int64_t sim_now; /* the simulated clock's last reading (0: not set yet) */
    /* per-batch scratch, reused */
    output *outs;
    size_t n_outs, cap_outs;
};

/* worker.c */
int wk_topic_index(const cfd_worker *w, const char *topic);
slot *wk_slot_get(cfd_worker *w, int32_t part);
/* What every path does with a stored state (of kind "work order", "city key",
 * "network object") that does not decode: never overwrite or drop what cannot be
 * read; log it, count it, and stop for an operator (docs/OPERATIONS.md).
 * @returns CFD_ERR_DECODE, for the caller to return. */
cfd_err wk_state_unreadable(cfd_worker *w, const char *kind, const char *name,
                            const char *why);
/* @returns true when a Redis call that returned err should be made again (after a
 * backoff and a reconnect); see worker.c. */
bool wk_redis_retry(cfd_worker *w, cfd_err err, int64_t *backoff, char *errstr,
                    size_t errstr_size);
/* What a Kafka client's error callback reports (err is an rd_kafka_resp_err_t): a
 * fatal error or a refused login stops the worker. */
void wk_kafka_error(void *ctx, int err, const char *reason);

/* outputs.c */
/* Starts a batch's outputs afresh (and forgets an earlier batch's failure). */
void wk_outs_clear(cfd_worker *w);
/* Records that what (an "event" of the alarm stage) of name could not be encoded
 * (out of memory aborts instead, see confirmd/alloc.h): the batch must not be
 * committed, or that output would be lost while its input counts as applied.
 * wk_batch_commit then refuses the batch and the worker stops. */
void wk_batch_fail(cfd_worker *w, const char *what, const char *name);
/* Creates the worker's producer: its topics by output kind, its reports to the worker.
 * @returns it, or NULL with errstr filled. */
cfd_producer *wk_producer_new(cfd_worker *w, const cfd_kafka_opts *kafka, char *errstr,
                              size_t errstr_size);
void wk_flush_hdel(cfd_worker *w);
void wk_commit_offsets(cfd_worker *w);
/* Produces the outputs of a durable batch of part whose offsets are offs (NULL: none);
 * they may be committed once every output is delivered. */
void wk_batch_produce(cfd_worker *w, int32_t part, const int64_t *offs);
void wk_dead_letter(cfd_worker *w, const char *topic, int32_t part, int64_t offset,
                    const void *bytes, size_t len, cfd_err why, const char *detail,
                    const char *order, const char *event_id);
/* Dead-letters entry index of order's park list, whose frame does not parse: where
 * it came from is unknown (offset -1), so the whole frame is the original. */
void wk_dead_letter_parked(cfd_worker *w, int32_t part, const char *order, size_t index,
                           const void *frame, size_t len);
void wk_emit_alert(cfd_worker *w, const char *key, const cfd_alert *a);
void wk_emit_record(cfd_worker *w, item *it);
/* Queues one Incident message, keyed by its incident id. */
/* Queues a severe fault's Incident messages (each under the id of its version) and,
 * when it opened, its SEVERE_FAULT alert; key is the order or the city incident id. */
void wk_emit_incidents(cfd_worker *w, const char *key, const cfd_incident *incs, size_t n,
                       const cfd_alert *alert);
/* Queues the order's CityReport when what the city rule has of it changed. */
void wk_emit_city_report(cfd_worker *w, item *it);
void wk_resend_one(const char *id, const void *frame, size_t len, void *ctx);
/* Queues an output: written to the outbox in the batch's transaction, produced after. */
void wk_add_output(cfd_worker *w, const char *id, cfd_output_kind kind, const char *key,
                   uint8_t *payload, size_t len);
/* Tells the NOC stage that the order bound to an object completed. */
void wk_emit_notice(cfd_worker *w, const item *it);
/* Queues an Alarm message of confirmd's own (a notice, or an alarm forwarded to its
 * customer's coordinator) to the alarms topic, keyed by the coordinator or else the
 * network object, under the output id id. */
void wk_emit_alarm_notice(cfd_worker *w, const char *id, const cfd_alarm *notice);
/* Tells the circuit's object that an alarm on object, another of its objects, opened
 * order at t, so that a customer's report on the circuit joins that order. */
void wk_emit_opened_notice(cfd_worker *w, const char *circuit, const char *object,
                           const char *order, int64_t t);
/* Tells the NOC stage a customer's report (ev, as bytes) opened an order on a circuit,
 * so that it joins an order the circuit's alarm opened, or the alarms join it. */
void wk_emit_report_notice(cfd_worker *w, const item *it, const cfd_event *ev,
                           const void *bytes, size_t len);

/* noc.c */
/* Applies a partition batch's inventory and alarm messages into w->tx and outputs. */
cfd_err wk_noc_batch(cfd_worker *w, int32_t part, rd_kafka_message_t **msgs, size_t n);

/* city.c */
/* Applies a partition batch's city reports into w->tx and outputs, each key judged at
 * its own latest report or end (event time: a backlog or a replay gives the incidents
 * the live run gave); what only time can tell is left to the key's timer. */
cfd_err wk_city_batch(cfd_worker *w, int32_t part, rd_kafka_message_t **msgs, size_t n);
/* Judges the city keys whose timers are due at now, and commits. */
cfd_err wk_fire_city_timers(cfd_worker *w, int32_t part, slot *s, int64_t now);

/* apply.c */
/* The names (orders, keys) of part's kind that are due at now, at most max (retrying
 * while Redis is away); *names malloc'd (cfd_strv_free), NULL when none or on error. */
cfd_err wk_due(cfd_worker *w, int32_t part, cfd_due_kind kind, int64_t now, size_t max,
               char ***names, size_t *n);
/* Commits w->tx (retrying while Redis is away), then produces its outputs; offs are
 * the batch's highest offsets per input topic (NULL: a tick, no input). */
cfd_err wk_batch_commit(cfd_worker *w, int32_t part, const int64_t *offs);
cfd_err wk_process_batch(cfd_worker *w, int32_t part, rd_kafka_message_t **msgs, size_t n);
/* Makes the consumer deliver part's alarms again from offset (deferred, not applied);
 * when the seek fails, s->alarms_reseek holds them back and the loop tries again. */
void wk_alarms_seek_back(cfd_worker *w, int32_t part, slot *s, int64_t offset);
cfd_err wk_sweep_parked(cfd_worker *w, int32_t part, slot *s);
cfd_err wk_fire_timers(cfd_worker *w, int32_t part, slot *s, int64_t now);

#endif

/*
 * The worker: wires the stages (stage.h) to the bus and the store. It consumes, hands
 * each partition's messages to the stages as one batch, commits the batch in one
 * atomic write, produces its outputs and marks its offsets done once delivered; it
 * ticks the stages' timers, owns the partitions (claims, fencing, where each resumes)
 * and the clock. See include/confirmd/worker.h for the guarantee.
 */
#include "confirmd/worker.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/consumer.h"
#include "confirmd/kafka.h"
#include "confirmd/log.h"
#include "confirmd/metrics.h"
#include "confirmd/producer.h"
#include "batch.h"
#include "http.h"
#include "store_gauges.h"
#include "outbox.h"
#include "stage.h"

#define MOD "worker"
#define MAX_TOPICS CFD_PRODUCER_MAX_OFFSETS /* a batch's offsets: one per input topic */
/* A partition's timers are ticked when the earliest of them is due (its instant read
 * from Redis after each tick, and lowered by each batch that sets an earlier one), at
 * most once every TICK_MIN_MS, and their instant read again at least every
 * DUE_REREAD_MS. */
#define TICK_MIN_MS 5
/* Batches sent ahead (cfd_store_commit_send) before the worker takes their results:
 * Redis applies one partition's batch while the worker decides the next. */
#define MAX_AHEAD 32
/* Within one poll, how long due timers may wait while its partitions' batches run (a
 * storm spread over many partitions makes a poll long). */
#define TICK_EVERY_MS 20
#define DUE_REREAD_MS 1000

/* The stages, in the order a partition's batch applies them. */
static const cfd_stage *const stages[] = {&cfd_alarm_stage, &cfd_city_stage,
                                          &cfd_event_stage};
#define N_STAGES (sizeof(stages) / sizeof(stages[0]))

/* What this worker knows of one partition number (all input topics share it). */
typedef struct slot {
    bool owned;
    int64_t epoch;
    int64_t applied[MAX_TOPICS]; /* highest applied offset per input topic */
    bool assigned[MAX_TOPICS];   /* topics[t] of this partition is assigned to us */
    /* Messages a stage deferred and whose seek back failed: 1 + the offset to seek
     * topics[t] back to (0: none). Until a seek succeeds (tried again every loop),
     * messages of it at or after that offset are not applied: they come again. */
    int64_t reseek[MAX_TOPICS];
    uint32_t ready;         /* bit st: stages[st] caught up at the last look, its
                               timers may fire */
    int64_t next_due;       /* clock time its earliest timer is due (INT64_MAX: none) */
    int64_t next_tick_mono; /* not ticked before this (monotonic) */
    int64_t reread_mono;    /* next_due read from Redis again at this (monotonic) */
} slot;

struct cfd_worker {
    const cfd_config *cfg;
    cfd_clock clock;
    volatile sig_atomic_t *stop;
    cfd_consumer *consumer;
    cfd_producer *producer;
    cfd_store *store;
    cfd_outbox *outbox;
    cfd_env env;
    /* Batches sent ahead, oldest first (ahead[0..n_ahead)), then free ones. */
    struct ahead {
        cfd_batch b;
        int64_t offs[MAX_TOPICS]; /* its highest offset per topics[t], -1: none */
        bool tick;                /* no input: offs unused */
        size_t events;            /* input messages it applies */
        double sent;              /* cfd_histogram_clock() when sent */
    } ahead[MAX_AHEAD];
    size_t n_ahead;
    char *topics[MAX_TOPICS];    /* every stage's, in the order of stages[] */
    size_t stage_of[MAX_TOPICS]; /* topics[t] is read by stages[stage_of[t]] */
    bool stage_on[N_STAGES];     /* the stage reads at least one topic */
    size_t n_topics;
    slot *slots;
    size_t n_slots;
    cfd_msg *group; /* one stage's messages of a batch */
    size_t cap_group;
    char owner[160];
    cfd_err fatal; /* set from a callback; makes run() return */
    cfd_worker_stats stats;
    bool simulated;  /* worker.clock = simulated: now comes from Redis */
    int64_t sim_now; /* the simulated clock's last reading (0: not set yet) */
    /* What only the metrics need (metrics.listen set): counted here, published to
     * metrics once per loop, served by http from its own thread. */
    cfd_metrics *metrics;
    cfd_board *board;         /* the wallboard http serves, on a connection of its own */
    cfd_store_gauges *gauges; /* /metrics' store-wide gauges, likewise */
    cfd_http *http;
    uint64_t consumed[MAX_TOPICS]; /* per topics[t] */
    uint64_t assignments, revocations;
    cfd_histogram commit_seconds, timer_lateness, delivery_seconds;
    int64_t ticked_mono; /* when tick_due last ran */
    bool redis_ok;       /* Redis answered the last call */
    cfd_metrics_lag *lag;
    size_t cap_lag;
};

static int topic_index(const cfd_worker *w, const char *topic)
{
    for (size_t i = 0; i < w->n_topics; i++)
        if (strcmp(w->topics[i], topic) == 0)
            return (int)i;
    return -1;
}

static slot *slot_get(cfd_worker *w, int32_t part)
{
    w->slots = cfd_xgrow(w->slots, &w->n_slots, (size_t)part + 1, sizeof(slot));
    return &w->slots[part];
}

/* --- metrics ----------------------------------------------------------------------- */

/* Publishes what the worker counted to its metrics (when served): once per loop, and
 * at each retry while Redis is away (the loop waits meanwhile). */
static void publish_metrics(cfd_worker *w)
{
    cfd_metrics_topic topics[MAX_TOPICS];
    size_t n_lag = 0;
    uint64_t owned = 0;
    if (!w->metrics)
        return;
    for (size_t t = 0; t < w->n_topics; t++)
        topics[t] = (cfd_metrics_topic){w->topics[t], w->consumed[t]};
    for (size_t p = 0; p < w->n_slots; p++) {
        const slot *s = &w->slots[p];
        owned += s->owned;
        for (size_t t = 0; s->owned && t < w->n_topics; t++) {
            int64_t behind = s->assigned[t] ? cfd_consumer_behind(w->consumer, w->topics[t],
                                                                  (int32_t)p, s->applied[t])
                                            : -1;
            if (behind < 0)
                continue;
            w->lag = cfd_xgrow(w->lag, &w->cap_lag, n_lag + 1, sizeof(*w->lag));
            w->lag[n_lag++] = (cfd_metrics_lag){w->topics[t], (int32_t)p, behind};
        }
    }
    const cfd_metrics_snapshot snap = {
        .stats = w->stats,
        .topics = topics,
        .n_topics = w->n_topics,
        .lag = w->lag,
        .n_lag = n_lag,
        .assignments = w->assignments,
        .revocations = w->revocations,
        .partitions_owned = owned,
        .undelivered = cfd_producer_undelivered(w->producer),
        .commit_seconds = w->commit_seconds,
        .timer_lateness_seconds = w->timer_lateness,
        .delivery_seconds = w->delivery_seconds,
        .redis_round_trip_seconds = cfd_store_round_trips(w->store),
        .redis_ok = w->redis_ok,
        .loop_mono_ms = cfd_monotonic_ms(),
    };
    cfd_metrics_publish(w->metrics, &snap);
}

/* --- Redis ------------------------------------------------------------------------- */

/*
 * After a reconnect: checks that Redis still holds every offset this worker applied.
 * A Redis that lost acknowledged writes (appendfsync everysec, then a crash) rolled
 * state and offsets back together, and writing on top would skip the lost events for
 * good: the worker must leave instead, so its successor resumes at Redis' offsets.
 * A failed read proves nothing; the next command fails too and comes back here.
 * @returns false when Redis is behind this worker.
 */
static bool redis_kept_applied(cfd_worker *w)
{
    char errstr[512];
    for (size_t p = 0; p < w->n_slots; p++) {
        slot *s = &w->slots[p];
        for (size_t t = 0; s->owned && t < w->n_topics; t++) {
            int64_t off = -1;
            if (s->applied[t] < 0 ||
                cfd_store_applied_offset(w->store, (int32_t)p, w->topics[t], &off, errstr,
                                         sizeof(errstr)))
                continue;
            if (off < s->applied[t]) {
                cfd_error(MOD,
                          "redis lost writes: %s[%zu] applied offset is %" PRId64
                          ", this worker applied up to %" PRId64,
                          w->topics[t], p, off, s->applied[t]);
                return false;
            }
        }
    }
    return true;
}

/*
 * Decides whether a Redis call that returned err should be tried again: while Redis
 * is unreachable the worker waits with capped exponential backoff and reconnects, so
 * an outage pauses consumption and never skips an event. *backoff starts at 0.
 * @returns true to call again.
 */
static bool redis_retry(void *ctx, cfd_err err, int64_t *backoff, char *errstr,
                        size_t errstr_size)
{
    cfd_worker *w = ctx;
    w->redis_ok = err != CFD_ERR_IO;
    if (err != CFD_ERR_IO || *w->stop)
        return false;
    *backoff = *backoff ? *backoff * 2 : 50;
    if (*backoff > w->cfg->redis_retry_max_ms)
        *backoff = w->cfg->redis_retry_max_ms;
    w->stats.redis_retries++;
    publish_metrics(w);
    cfd_warn(MOD, "%s; retrying in %" PRId64 " ms", errstr, *backoff);
    cfd_sleep_ms(*backoff);
    cfd_producer_poll(w->producer, 0);
    if (cfd_store_reconnect(w->store, errstr, errstr_size) == CFD_OK) {
        w->redis_ok = true;
        cfd_info(MOD, "redis reconnected");
        if (!redis_kept_applied(w)) {
            w->stats.rollbacks++;
            w->fatal = CFD_ERR_FENCED;
            return false;
        }
        /* Redis kept what it confirmed: now the batches whose replies the lost
         * connection took go again, before anything else (a retried batch Redis has
         * is answered APPLIED). */
        if (cfd_store_resend(w->store, errstr, errstr_size) != CFD_OK)
            cfd_warn(MOD, "%s", errstr);
    }
    return true;
}

/* True when the worker has applied everything the broker had for part's topics[t]
 * (up to seen at least); true too when it does not read that partition. */
static bool topic_caught_up(cfd_worker *w, const slot *s, size_t t, int32_t part,
                            int64_t seen)
{
    if (!s->assigned[t])
        return true;
    if (s->applied[t] > seen)
        seen = s->applied[t];
    return cfd_consumer_behind(w->consumer, w->topics[t], part, seen) == 0;
}

static bool env_caught_up(void *ctx, const char *topic, int32_t part, int64_t seen)
{
    cfd_worker *w = ctx;
    int t = topic_index(w, topic);
    return t < 0 || topic_caught_up(w, slot_get(w, part), (size_t)t, part, seen);
}

/* The stages that have applied everything the broker had of their own topics of part
 * (bit st for stages[st]): only those may fire timers, or a backlog of events that met
 * their duties would first raise false alarms (which a retraction would then have to
 * take back). Per stage, so that a storm on the alarms topic does not hold back the
 * SLA timers of the events. */
static uint32_t caught_up(cfd_worker *w, int32_t part, const slot *s)
{
    uint32_t ready = (1u << N_STAGES) - 1;
    for (size_t t = 0; t < w->n_topics; t++)
        if ((ready & 1u << w->stage_of[t]) && !topic_caught_up(w, s, t, part, -1))
            ready &= ~(1u << w->stage_of[t]);
    return ready;
}

/* --- the clock ------------------------------------------------------------------------ */

static int64_t sim_now_ms(void *ctx)
{
    cfd_worker *w = ctx;
    /* Until a rehearsal sets the clock, simulated time is the system's. */
    return w->sim_now ? w->sim_now : cfd_clock_system().now_ms(NULL);
}

/* Reads the simulated clock once per loop, so every decision of a loop sees one now. */
static void refresh_sim_clock(cfd_worker *w)
{
    char errstr[256];
    int64_t now = 0;
    if (cfd_store_sim_clock(w->store, &now, errstr, sizeof(errstr)) == CFD_OK) {
        if (now && now != w->sim_now)
            cfd_debug(MOD, "simulated clock at %" PRId64, now);
        w->sim_now = now;
    }
}

/* --- batches ----------------------------------------------------------------------- */

static cfd_err settle(cfd_worker *w);

/* The batch the next partition's messages, or its tick, go into: a free one, once the
 * results of those sent ahead are taken when none is free. */
static cfd_err batch_next(cfd_worker *w, int32_t part, const slot *s, cfd_batch **b)
{
    cfd_err err = w->n_ahead == MAX_AHEAD ? settle(w) : CFD_OK;
    *b = &w->ahead[w->n_ahead].b;
    cfd_batch_begin(*b, part, s->epoch);
    return err;
}

/* Sends the batch next() gave ahead (its commit queued on the connection to Redis);
 * settle() takes the result. offs: its highest offsets per topic (NULL: a tick). */
static cfd_err batch_send(cfd_worker *w, const int64_t *offs, size_t events)
{
    struct ahead *a = &w->ahead[w->n_ahead];
    if (a->b.failed) {
        /* Stop loudly rather than count its input applied without all it decided;
         * the partition's next owner replays it from Redis' applied offset. */
        cfd_error(MOD,
                  "partition %" PRId32 ": a batch whose outputs could not all be "
                  "built is not committed; stopping",
                  a->b.part);
        return CFD_ERR;
    }
    a->tick = !offs;
    for (size_t t = 0; t < MAX_TOPICS; t++)
        a->offs[t] = offs ? offs[t] : -1;
    a->events = events;
    a->sent = cfd_histogram_clock();
    cfd_store_commit_send(w->store, a->b.tx);
    w->n_ahead++;
    return CFD_OK;
}

/* Takes the results of the batches sent ahead, oldest first (waiting while Redis is
 * away), and produces each committed batch's outputs. */
static cfd_err settle(cfd_worker *w)
{
    char errstr[512];
    cfd_err err = CFD_OK;
    size_t i;
    for (i = 0; i < w->n_ahead && !err; i++) {
        struct ahead *a = &w->ahead[i];
        cfd_batch *b = &a->b;
        CFD_REDIS(&w->env, err, errstr,
                  cfd_store_commit_wait(w->store, b->tx, errstr, sizeof(errstr)));
        cfd_histogram_observe(&w->commit_seconds, cfd_histogram_clock() - a->sent);
        w->stats.fenced += err == CFD_ERR_FENCED;
        if (err) {
            cfd_error(MOD, "partition %" PRId32 ": %s", b->part, errstr);
            break;
        }
        w->stats.batches++;
        w->stats.events += a->events;
        uint64_t pb =
            cfd_producer_batch_begin(w->producer, b->part, a->tick ? NULL : a->offs);
        for (size_t k = 0; k < b->n_outs; k++) {
            const cfd_output *o = &b->outs[k];
            cfd_producer_send(w->producer, b->part, pb, o->id, o->kind, o->key,
                              strlen(o->key), o->payload, o->len);
        }
        cfd_producer_batch_end(w->producer, b->part, pb);
        slot *s = slot_get(w, b->part);
        if (cfd_txn_next_due(b->tx) < s->next_due)
            s->next_due = cfd_txn_next_due(b->tx);
        for (size_t t = 0; !a->tick && t < w->n_topics; t++)
            if (a->offs[t] > s->applied[t])
                s->applied[t] = a->offs[t];
    }
    w->n_ahead = 0;
    return err;
}

/* Makes the consumer deliver topics[t] of part again from offset (deferred, not
 * applied); when the seek fails, s->reseek holds them back and the loop tries again. */
static void seek_back(cfd_worker *w, int32_t part, slot *s, size_t t, int64_t offset)
{
    char errstr[512];
    if (cfd_consumer_seek(w->consumer, w->topics[t], part, offset, errstr,
                          sizeof(errstr))) {
        if (!s->reseek[t])
            cfd_warn(MOD,
                     "seek %s[%" PRId32 "] back to %" PRId64 " for deferred messages: "
                     "%s; holding them until a seek succeeds",
                     w->topics[t], part, offset, errstr);
        s->reseek[t] = offset + 1;
        return;
    }
    if (s->reseek[t])
        cfd_info(MOD, "seek %s[%" PRId32 "] back to %" PRId64 " done", w->topics[t], part,
                 offset);
    else
        cfd_debug(MOD, "%s[%" PRId32 "] from %" PRId64 " deferred", w->topics[t], part,
                  offset);
    s->reseek[t] = 0;
}

/* Applies one partition's messages: each stage's share in the order of stages[], one
 * commit, then the outputs. */
static cfd_err apply_batch(cfd_worker *w, int32_t part, slot *s, const cfd_msg *msgs,
                           size_t n)
{
    cfd_batch *b;
    int64_t offs[MAX_TOPICS];
    size_t applied = 0;
    cfd_err err;
    if (n > w->cap_group) {
        w->cap_group = n;
        w->group = cfd_xrealloc(w->group, n * sizeof(*w->group));
    }
    if ((err = batch_next(w, part, s, &b)))
        return err;
    for (size_t st = 0; st < N_STAGES && !err; st++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (w->stage_of[msgs[i].topic_index] == st)
                w->group[k++] = msgs[i];
        if (k)
            err = stages[st]->batch(b, w->group, k);
    }
    if (err)
        return err;
    for (size_t t = 0; t < MAX_TOPICS; t++)
        offs[t] = -1;
    for (size_t i = 0; i < n; i++) {
        const cfd_msg *m = &msgs[i];
        if (b->defer_from >= 0 && m->offset >= b->defer_from &&
            strcmp(m->topic, b->defer_topic) == 0)
            continue;
        applied++;
        w->consumed[m->topic_index]++;
        if (m->offset > offs[m->topic_index])
            offs[m->topic_index] = m->offset;
    }
    if (b->defer_from >= 0)
        seek_back(w, part, s, (size_t)topic_index(w, b->defer_topic), b->defer_from);
    for (size_t t = 0; t < w->n_topics; t++)
        if (offs[t] >= 0)
            cfd_txn_offset(b->tx, w->topics[t], offs[t]);
    return batch_send(w, offs, applied);
}

static cfd_err tick_due(cfd_worker *w);

/* One partition's messages of a poll: applied as one batch, but for those not ours any
 * more, already applied (an overlap after a seek), or held back until a failed seek
 * back succeeds; then what is due, when the poll has run TICK_EVERY_MS since. */
static cfd_err on_messages(void *ctx, int32_t part, cfd_msg *msgs, size_t n)
{
    cfd_worker *w = ctx;
    slot *s = slot_get(w, part);
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        size_t t = msgs[j].topic_index;
        if (!s->owned || t >= w->n_topics || msgs[j].offset <= s->applied[t] ||
            (s->reseek[t] && msgs[j].offset >= s->reseek[t] - 1))
            continue;
        msgs[k++] = msgs[j];
    }
    cfd_err err = k ? apply_batch(w, part, s, msgs, k) : CFD_OK;
    if (!err && cfd_monotonic_ms() - w->ticked_mono >= TICK_EVERY_MS)
        err = tick_due(w);
    return err;
}

/* Reads when part's earliest timer is due. */
static cfd_err read_next_due(cfd_worker *w, int32_t part, slot *s, int64_t mono)
{
    char errstr[512];
    cfd_err err;
    CFD_REDIS(&w->env, err, errstr,
              cfd_store_next_due(w->store, part, &s->next_due, errstr, sizeof(errstr)));
    if (err)
        cfd_error(MOD, "partition %" PRId32 ": %s", part, errstr);
    s->reread_mono = mono + DUE_REREAD_MS;
    return err;
}

/* The caught-up stages' time-driven work of part at now, as one batch; then when part
 * is due next. */
static cfd_err tick(cfd_worker *w, int32_t part, slot *s, int64_t now, int64_t mono)
{
    cfd_batch *b;
    cfd_err err = batch_next(w, part, s, &b);
    for (size_t st = 0; st < N_STAGES && !err; st++)
        if (w->stage_on[st] && stages[st]->tick && (s->ready & 1u << st))
            err = stages[st]->tick(b, now);
    if (!err && !cfd_batch_is_empty(b))
        err = batch_send(w, NULL, 0);
    s->next_tick_mono = mono + TICK_MIN_MS;
    return err ? err : read_next_due(w, part, s, mono);
}

/* Ticks the owned partitions that are caught up and due. */
static cfd_err tick_due(cfd_worker *w)
{
    /* Caught up or not by what Redis confirmed. */
    cfd_err err = settle(w);
    int64_t mono = cfd_monotonic_ms();
    w->ticked_mono = mono;
    if (w->simulated)
        refresh_sim_clock(w);
    int64_t now = cfd_clock_now(&w->clock);
    for (size_t p = 0; p < w->n_slots && !err; p++) {
        slot *s = &w->slots[p];
        if (!s->owned)
            continue;
        for (size_t t = 0; t < w->n_topics; t++)
            if (s->reseek[t])
                seek_back(w, (int32_t)p, s, t, s->reseek[t] - 1);
        s->ready = caught_up(w, (int32_t)p, s);
        if (!s->ready)
            continue;
        if (mono >= s->reread_mono)
            err = read_next_due(w, (int32_t)p, s, mono);
        if (!err && now >= s->next_due && mono >= s->next_tick_mono) {
            cfd_histogram_observe(&w->timer_lateness, (double)(now - s->next_due) / 1000);
            err = tick(w, (int32_t)p, s, now, mono);
        }
    }
    return err;
}

/* How long the next poll may wait: until the earliest timer of a partition that may
 * tick is due, at most worker.poll_timeout. */
static int poll_wait_ms(cfd_worker *w)
{
    int64_t wait = w->cfg->poll_timeout_ms;
    int64_t now = cfd_clock_now(&w->clock), mono = cfd_monotonic_ms();
    for (size_t p = 0; p < w->n_slots; p++) {
        const slot *s = &w->slots[p];
        if (!s->owned || !s->ready || s->next_due == INT64_MAX)
            continue;
        int64_t until = s->next_due - now;
        if (s->next_tick_mono - mono > until)
            until = s->next_tick_mono - mono;
        if (until < wait)
            wait = until < 0 ? 0 : until;
    }
    return (int)wait;
}

/* --- partition ownership ---------------------------------------------------------------- */

/*
 * For the assigned partitions Redis has no applied offset for (offset still
 * CFD_OFFSET_COMMITTED): a partition never consumed, or one whose state Redis lost
 * (restarted without persistence, failed over to an empty replica). The group's
 * committed offsets tell them apart: Kafka's commit only ever follows Redis' write. A
 * lost partition is refused (worker.on_state_loss = refuse: resuming at the committed
 * offsets would build records without their earlier events) or rebuilt from the
 * earliest retained offset (replay).
 * @returns CFD_OK, CFD_ERR_STATE_LOST (refused; errstr says what to do), or CFD_ERR_IO
 *          when the committed offsets could not be read.
 */
static cfd_err check_state_loss(cfd_worker *w, cfd_topic_part *parts, size_t n,
                                char *errstr, size_t errstr_size)
{
    cfd_topic_part *fresh = cfd_xcalloc(n + 1, sizeof(*fresh));
    size_t *at = cfd_xcalloc(n + 1, sizeof(*at));
    size_t n_fresh = 0;
    bool replay = strcmp(w->cfg->on_state_loss, "replay") == 0;
    cfd_err err = CFD_OK;
    for (size_t i = 0; i < n; i++)
        if (parts[i].offset == CFD_OFFSET_COMMITTED) {
            at[n_fresh] = i;
            fresh[n_fresh++] = parts[i];
        }
    if (n_fresh && cfd_consumer_committed(w->consumer, fresh, n_fresh, errstr, errstr_size))
        err = CFD_ERR_IO;
    for (size_t i = 0; !err && i < n_fresh; i++) {
        cfd_topic_part *c = &fresh[i];
        if (c->offset < 0) { /* never consumed by this group: a new partition */
            parts[at[i]].offset = CFD_OFFSET_BEGINNING;
            continue;
        }
        if (replay) {
            cfd_warn(MOD,
                     "%s[%" PRId32 "]: redis has no state for it but the group "
                     "committed offset %" PRId64 ": rebuilding it from the earliest "
                     "retained offset (worker.on_state_loss = replay)",
                     c->topic, c->partition, c->offset);
            parts[at[i]].offset = CFD_OFFSET_BEGINNING;
            continue;
        }
        cfd_error(MOD,
                  "%s[%" PRId32 "]: redis has no state for it but the group committed "
                  "offset %" PRId64 ": redis lost its data",
                  c->topic, c->partition, c->offset);
        snprintf(errstr, errstr_size,
                 "redis lost the state of %s[%" PRId32 "]; nothing of it is consumed. "
                 "Restore redis from its backup and restart, or restart with --set "
                 "worker.on_state_loss=replay to rebuild it from the earliest retained "
                 "offset (docs/OPERATIONS.md, \"Redis lost its data\")",
                 c->topic, c->partition);
        err = CFD_ERR_STATE_LOST;
    }
    free(fresh);
    free(at);
    return err;
}

/* An assignment that cannot be taken, or whose outbox cannot be read, stops the worker. */
static void assignment_failed(cfd_worker *w, cfd_err err, const char *errstr)
{
    cfd_error(MOD, "assignment: %s", errstr);
    if (!w->fatal)
        w->fatal = err ? err : CFD_ERR;
}

/*
 * Where tp resumes when Redis applied up to next - 1: at next, unless the brokers no
 * longer hold it (retention deleted it before it was read, the worker having been
 * stopped or behind too long): that loss is an error the operator must see, counted,
 * and the partition resumes at the earliest offset they hold. (Unknown earliest: at
 * next, which the consumer resets to the earliest by itself.)
 */
static int64_t resume_at(cfd_worker *w, const cfd_topic_part *tp, int64_t next)
{
    char errstr[256];
    int64_t lo = -1;
    if (cfd_consumer_earliest(w->consumer, tp->topic, tp->partition, &lo, errstr,
                              sizeof(errstr))) {
        cfd_warn(MOD, "%s[%" PRId32 "]: earliest offset unknown (%s)", tp->topic,
                 tp->partition, errstr);
        return next;
    }
    if (lo <= next)
        return next;
    w->stats.input_lost++;
    cfd_error(MOD,
              "%s[%" PRId32 "]: offsets %" PRId64 " to %" PRId64 " were deleted before "
              "they were read (the topic's retention): %" PRId64 " input messages lost; "
              "resuming at %" PRId64,
              tp->topic, tp->partition, next, lo - 1, lo - next, lo);
    return lo;
}

/* Claims the partitions of a new assignment and positions them at Redis' offsets.
 * @returns 0 to take it. */
static int on_assign(void *ctx, cfd_topic_part *parts, size_t n)
{
    cfd_worker *w = ctx;
    char errstr[512];
    cfd_err err = CFD_OK;
    w->assignments++;
    for (size_t i = 0; i < n; i++) {
        cfd_topic_part *tp = &parts[i];
        slot *s = slot_get(w, tp->partition);
        size_t t = tp->topic_index;
        if (!s->owned) {
            int64_t epoch = 0;
            CFD_REDIS(&w->env, err, errstr,
                      cfd_store_claim(w->store, tp->partition, w->owner, &epoch, errstr,
                                      sizeof(errstr)));
            if (err)
                goto fail;
            *s = (slot){.owned = true, .epoch = epoch, .next_due = INT64_MAX};
            w->stats.claims++;
            cfd_producer_claim(w->producer, tp->partition, (uint32_t)epoch);
            for (size_t k = 0; k < MAX_TOPICS; k++)
                s->applied[k] = -1;
            cfd_info(MOD, "partition %" PRId32 " claimed (epoch %" PRId64 ")",
                     tp->partition, epoch);
        }
        int64_t off = -1;
        CFD_REDIS(&w->env, err, errstr,
                  cfd_store_applied_offset(w->store, tp->partition, tp->topic, &off, errstr,
                                           sizeof(errstr)));
        if (err)
            goto fail;
        if (t < w->n_topics) {
            s->applied[t] = off;
            s->assigned[t] = true;
        }
        /* Redis, not Kafka, says what was applied: resume right after it. */
        tp->offset = off >= 0 ? resume_at(w, tp, off + 1) : CFD_OFFSET_COMMITTED;
    }
    if ((err = check_state_loss(w, parts, n, errstr, sizeof(errstr))))
        goto fail;
    return 0;
fail:
    assignment_failed(w, err, errstr);
    return -1;
}

/* Sends the outboxes of the partitions just assigned again. */
static void on_assigned(void *ctx, const cfd_topic_part *parts, size_t n)
{
    cfd_worker *w = ctx;
    for (size_t i = 0; i < n; i++) {
        int32_t part = parts[i].partition;
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (parts[j].partition == part)
                first = false;
        cfd_err err = first ? cfd_outbox_resend(w->outbox, w->producer, part) : CFD_OK;
        if (err) {
            assignment_failed(w, err, "the outbox could not be read");
            return;
        }
    }
}

static void on_revoke(void *ctx, const cfd_topic_part *parts, size_t n)
{
    cfd_worker *w = ctx;
    w->revocations++;
    cfd_err err = settle(w);
    if (err && !w->fatal)
        w->fatal = err;
    /* Hand over cleanly: outputs delivered and dropped from the outbox. What is still
     * in flight stays in the outbox, and the next owner sends it again. */
    cfd_producer_flush(w->producer, (int)w->cfg->drain_timeout_ms);
    cfd_outbox_flush(w->outbox);
    for (size_t i = 0; i < n; i++) {
        slot *s = slot_get(w, parts[i].partition);
        if (s->owned)
            cfd_info(MOD, "partition %" PRId32 " released", parts[i].partition);
        s->owned = false;
        cfd_producer_release(w->producer, parts[i].partition);
        memset(s->assigned, 0, sizeof(s->assigned));
    }
}

static void on_kafka_error(void *ctx, cfd_kafka_fault fault, const char *what)
{
    cfd_worker *w = ctx;
    cfd_error(MOD, "kafka: %s", what);
    if (fault == CFD_KAFKA_FATAL) {
        w->fatal = CFD_ERR;
    } else if (fault == CFD_KAFKA_REFUSED && !w->fatal) {
        /* Retrying with the same credentials and CA cannot succeed: stop, so that the
         * supervisor and the operator see it at once instead of a worker that never
         * consumes. */
        cfd_error(MOD, "kafka: SASL login or TLS handshake failed: check the kafka.sasl.* "
                       "and kafka.ssl.* settings; stopping");
        w->fatal = CFD_ERR_REFUSED;
    }
}

/* --- what the producer reports ------------------------------------------------------- */

static void on_delivered(void *ctx, int32_t part, const char *id, double seconds)
{
    cfd_worker *w = ctx;
    if (seconds >= 0)
        cfd_histogram_observe(&w->delivery_seconds, seconds);
    cfd_outbox_delivered(w->outbox, part, id);
}

/* A batch of part is delivered, and every one before it: its offsets may be committed. */
static void on_batch_delivered(void *ctx, int32_t part, const int64_t *offs)
{
    cfd_worker *w = ctx;
    for (size_t t = 0; t < w->n_topics; t++)
        if (offs[t] >= 0)
            cfd_consumer_done(w->consumer, t, part, offs[t]);
}

/*
 * What takes the place of an output refused for good: a dead letter saying so
 * (DEAD_LETTER_OUTPUT_REFUSED: the output's topic, id and the broker's error, its first
 * worker.deadletter_max_original bytes, length and SHA-256; none of its bytes when
 * such a dead letter was refused already).
 */
static void replace_refused(void *ctx, const cfd_producer_refusal *r, uint8_t **buf,
                            size_t *len)
{
    cfd_worker *w = ctx;
    w->stats.dead_letters++;
    w->stats.dead_letters_by_reason[CFD_DL_OUTPUT_REFUSED]++;
    cfd_dead_letter dl = {.original = r->payload,
                          .original_len = r->len,
                          .topic = r->topic,
                          .partition = -1,
                          .offset = -1,
                          .reason = CFD_DL_OUTPUT_REFUSED,
                          .detail = r->detail,
                          .dead_at_ms = cfd_clock_now(&w->clock),
                          .max_original =
                              r->bare ? 0 : (size_t)w->cfg->deadletter_max_original};
    cfd_codec_dead_letter_encode(&dl, buf, len);
}

/* --- life cycle -------------------------------------------------------------------- */

/* Collects the stages' topics. @returns false with errstr filled when they do not fit
 * or one is read twice. */
static bool wire_topics(cfd_worker *w, char *errstr, size_t errstr_size)
{
    for (size_t st = 0; st < N_STAGES; st++) {
        char *names[MAX_TOPICS];
        size_t room = MAX_TOPICS - w->n_topics;
        size_t n = stages[st]->topics(w->cfg, names, room);
        for (size_t i = 0; i < n && i < room; i++) {
            if (topic_index(w, names[i]) >= 0) {
                snprintf(errstr, errstr_size,
                         "topic %s is read twice (by the %s stage and "
                         "another): give each input its own topic",
                         names[i], stages[st]->name);
                for (size_t j = i; j < n && j < room; j++)
                    free(names[j]);
                return false;
            }
            w->stage_of[w->n_topics] = st;
            w->topics[w->n_topics++] = names[i];
        }
        if (n > room) {
            snprintf(errstr, errstr_size,
                     "at most %d input topics in all (events, alarms, "
                     "inventory, city reports)",
                     MAX_TOPICS);
            return false;
        }
        w->stage_on[st] = n > 0;
    }
    bool events = false;
    for (size_t st = 0; st < N_STAGES; st++)
        events |= stages[st] == &cfd_event_stage && w->stage_on[st];
    if (!events) {
        snprintf(errstr, errstr_size, "worker.input_topics: give at least one topic");
        return false;
    }
    return true;
}

static cfd_producer *producer_new(cfd_worker *w, const cfd_kafka_opts *kafka, char *errstr,
                                  size_t errstr_size)
{
    const cfd_config *cfg = w->cfg;
    char *events = NULL; /* re-keyed events go to the first input topic */
    cfd_kafka_topic_names(cfg->input_topics, &events, 1);
    const cfd_producer_topic topics[] = {
        {CFD_OUT_RECORD, cfg->records_topic, CFD_PB_RECORD},
        {CFD_OUT_ALERT, cfg->alerts_topic, CFD_PB_ALERT},
        {CFD_OUT_DEAD_LETTER, cfg->deadletter_topic, CFD_PB_DEAD_LETTER},
        {CFD_OUT_INCIDENT, cfg->incidents_topic, CFD_PB_INCIDENT},
        {CFD_OUT_EVENT, events, CFD_PB_EVENT},
        {CFD_OUT_NOTICE, *cfg->alarms_topic ? cfg->alarms_topic : NULL, CFD_PB_ALARM},
        {CFD_OUT_CITY, *cfg->city_reports_topic ? cfg->city_reports_topic : NULL,
         CFD_PB_CITY_REPORT},
    };
    const size_t n_kinds = sizeof(topics) / sizeof(topics[0]);
    for (size_t i = 0; i < n_kinds; i++)
        w->env.routed[topics[i].kind & 0xff] = topics[i].name != NULL;
    const cfd_producer_opts opts = {.kafka = kafka,
                                    .topics = topics,
                                    .n_topics = n_kinds,
                                    .deadletter_kind = CFD_OUT_DEAD_LETTER,
                                    .n_offsets = w->n_topics,
                                    .stop = w->stop,
                                    .log_module = MOD};
    const cfd_producer_cbs cbs = {.ctx = w,
                                  .delivered = on_delivered,
                                  .batch_delivered = on_batch_delivered,
                                  .replace = replace_refused,
                                  .error = on_kafka_error};
    cfd_producer *p = cfd_producer_new(&opts, &cbs, errstr, errstr_size);
    free(events);
    return p;
}

static cfd_consumer *consumer_new(cfd_worker *w, const cfd_kafka_opts *kafka, char *errstr,
                                  size_t errstr_size)
{
    const cfd_consumer_opts opts = {.kafka = kafka,
                                    .topics = (const char *const *)w->topics,
                                    .n_topics = w->n_topics,
                                    .max_messages = (size_t)w->cfg->batch_size,
                                    .stop = w->stop,
                                    .log_module = MOD};
    const cfd_consumer_cbs cbs = {.ctx = w,
                                  .assign = on_assign,
                                  .assigned = on_assigned,
                                  .revoke = on_revoke,
                                  .batch = on_messages,
                                  .error = on_kafka_error};
    return cfd_consumer_new(&opts, &cbs, errstr, errstr_size);
}

cfd_worker *cfd_worker_new(const cfd_config *cfg, const cfd_policy *pol, cfd_clock clock,
                           volatile sig_atomic_t *stop, char *errstr, size_t errstr_size)
{
    cfd_worker *w = cfd_xcalloc(1, sizeof(*w));
    char host[64] = "host";

    w->cfg = cfg;
    w->clock = clock;
    w->stop = stop;
    if (strcmp(cfg->clock, "simulated") == 0) {
        w->simulated = true;
        w->clock = (cfd_clock){.now_ms = sim_now_ms, .ctx = w};
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(w->owner, sizeof(w->owner), "%s/%d", host, (int)getpid());
    if (!wire_topics(w, errstr, errstr_size))
        goto fail;

    const cfd_store_opts store_opts = cfd_config_store_opts(cfg);
    const cfd_kafka_opts kafka_opts = cfd_config_kafka_opts(cfg);
    if (!(w->store = cfd_store_new(&store_opts, errstr, errstr_size)))
        goto fail;
    w->env = (cfd_env){.cfg = cfg,
                       .pol = pol,
                       .clock = &w->clock,
                       .store = w->store,
                       .stats = &w->stats,
                       .ctx = w,
                       .redis_retry = redis_retry,
                       .caught_up = env_caught_up};
    w->redis_ok = true; /* it answered cfd_store_new() */
    for (size_t i = 0; i < MAX_AHEAD; i++)
        cfd_batch_init(&w->ahead[i].b, &w->env);
    w->outbox = cfd_outbox_new(&w->env);
    if (!(w->producer = producer_new(w, &kafka_opts, errstr, errstr_size)))
        goto fail;
    if (!(w->consumer = consumer_new(w, &kafka_opts, errstr, errstr_size)))
        goto fail;
    if (*cfg->metrics_listen) {
        w->metrics = cfd_metrics_new();
        w->board = cfd_board_new(cfg, pol);
        w->gauges = cfd_store_gauges_new(cfg);
        cfd_metrics_set_source(w->metrics, cfd_store_gauges_write, w->gauges);
        if (!(w->http = cfd_http_new(cfg->metrics_listen, w->metrics, w->board,
                                     cfg->metrics_ready_max_stall_ms, errstr, errstr_size)))
            goto fail;
    }
    return w;
fail:
    cfd_worker_destroy(w);
    return NULL;
}

cfd_err cfd_worker_run(cfd_worker *w)
{
    cfd_err err = CFD_OK;
    cfd_info(MOD, "consuming %s as %s", w->cfg->input_topics, w->owner);
    while (!*w->stop && !w->fatal && !err) {
        err = cfd_consumer_poll(w->consumer, poll_wait_ms(w));
        if (!err)
            err = settle(w);
        cfd_producer_poll(w->producer, 0);
        cfd_producer_retry(w->producer);
        cfd_outbox_flush(w->outbox);
        if (!err)
            err = tick_due(w);
        publish_metrics(w);
    }
    if (!err && !w->fatal)
        err = settle(w); /* what the last tick sent */
    if (w->fatal == CFD_ERR_FENCED || (!err && w->fatal))
        err = w->fatal;
    if (*w->stop && err == CFD_ERR_IO) {
        /* Asked to stop, the worker does not wait for Redis: what it was doing when
         * Redis went away is not committed, and the partitions' next owner applies it
         * from Redis' offsets. A clean stop, not a failure. */
        cfd_warn(MOD, "stopping while redis is unreachable: the last batch is left to "
                      "the partitions' next owner");
        err = CFD_OK;
    }
    if (err == CFD_ERR_FENCED)
        cfd_error(MOD, "fenced: another worker owns a partition this one held, or redis "
                       "lost writes; restart to rejoin the group");
    cfd_info(MOD, "stopping: leaving the group");
    cfd_consumer_close(w->consumer);
    cfd_producer_flush(w->producer, (int)w->cfg->drain_timeout_ms);
    cfd_outbox_flush(w->outbox);
    /* Not lost (each waits in its partition's outbox for the next owner), but a stop
     * that could not deliver everything says so, in the log and the exit status. */
    size_t left = cfd_producer_undelivered(w->producer);
    if (left) {
        cfd_error(MOD,
                  "stopped with %zu outputs not delivered: they wait in the outbox, "
                  "the partitions' next owner sends them",
                  left);
        if (!err)
            err = CFD_ERR_UNDELIVERED;
    }
    return err;
}

cfd_worker_stats cfd_worker_get_stats(const cfd_worker *w)
{
    return w->stats;
}

void cfd_worker_destroy(cfd_worker *w)
{
    if (!w)
        return;
    cfd_http_destroy(w->http);
    cfd_board_destroy(w->board);
    cfd_store_gauges_destroy(w->gauges);
    cfd_metrics_destroy(w->metrics);
    free(w->lag);
    cfd_consumer_destroy(w->consumer);
    cfd_producer_destroy(w->producer);
    cfd_outbox_destroy(w->outbox);
    free(w->slots);
    free(w->group);
    for (size_t i = 0; i < w->n_topics; i++)
        free(w->topics[i]);
    for (size_t i = 0; i < MAX_AHEAD; i++)
        if (w->ahead[i].b.env)
            cfd_batch_release(&w->ahead[i].b);
    cfd_store_destroy(w->store);
    cfd_codec_thread_release();
    free(w);
}

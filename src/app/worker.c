/*
 * The worker loop: consume, apply per partition batch, fire timers, commit offsets
 * once delivered; partition ownership and the clock. See include/confirmd/worker.h
 * for the guarantee, apply.c for batches, outputs.c for the outbox and producing.
 */
#include "confirmd/worker.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confirmd/alloc.h"
#include "confirmd/log.h"
#include "worker_int.h"
#include "confirmd/kafka.h"

#define MOD "worker"

int wk_topic_index(const cfd_worker *w, const char *topic) {
    for (size_t i = 0; i < w->n_topics; i++)
        if (strcmp(w->topics[i], topic) == 0)
            return (int)i;
    return -1;
}

slot *wk_slot_get(cfd_worker *w, int32_t part) {
    if (part < 0)
        return NULL;
    w->slots = cfd_xgrow(w->slots, &w->n_slots, (size_t)part + 1, sizeof(slot));
    return &w->slots[part];
}

/*
 * After a reconnect: checks that Redis still holds every offset this worker applied.
 * A Redis that lost acknowledged writes (appendfsync everysec, then a crash) rolled
 * state and offsets back together, and writing on top would skip the lost events for
 * good: the worker must leave instead, so its successor resumes at Redis' offsets.
 * A failed read proves nothing; the next command fails too and comes back here.
 * @returns false when Redis is behind this worker.
 */
static bool redis_kept_applied(cfd_worker *w) {
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
                cfd_error(MOD, "redis lost writes: %s[%zu] applied offset is %" PRId64
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
bool wk_redis_retry(cfd_worker *w, cfd_err err, int64_t *backoff, char *errstr,
                        size_t errstr_size) {
    if (err != CFD_ERR_IO || *w->stop)
        return false;
    *backoff = *backoff ? *backoff * 2 : 50;
    if (*backoff > w->cfg->redis_retry_max_ms)
        *backoff = w->cfg->redis_retry_max_ms;
    w->stats.redis_retries++;
    cfd_warn(MOD, "%s; retrying in %" PRId64 " ms", errstr, *backoff);
    cfd_sleep_ms(*backoff);
    cfd_producer_poll(w->producer, 0);
    if (cfd_store_reconnect(w->store, errstr, errstr_size) == CFD_OK) {
        cfd_info(MOD, "redis reconnected");
        if (!redis_kept_applied(w)) {
            w->fatal = CFD_ERR_FENCED;
            return false;
        }
    }
    return true;
}

cfd_err wk_state_unreadable(cfd_worker *w, const char *kind, const char *name,
                            const char *why) {
    w->stats.unreadable_states++;
    cfd_error(MOD, "%s %s: stored state unreadable (%s); stopping rather than overwrite "
                   "or drop it: see \"Unreadable state\" in docs/OPERATIONS.md",
              kind, name, why);
    return CFD_ERR_DECODE;
}

/* True when the worker has applied everything the broker had for part: only then
 * may a timer fire, or a backlog of events that met their duties would first raise
 * false alarms (which a retraction would then have to take back). */
static bool caught_up(cfd_worker *w, int32_t part, const slot *s) {
    for (size_t t = 0; t < w->n_topics; t++)
        if (s->assigned[t] &&
            cfd_consumer_behind(w->consumer, w->topics[t], part, s->applied[t]) != 0)
            return false;
    return true;
}

/* --- partition ownership ---------------------------------------------------------------- */

/*
 * For the assigned partitions Redis has no applied offset for (tp->offset still
 * RD_KAFKA_OFFSET_INVALID): a partition never consumed, or one whose state Redis lost
 * (restarted without persistence, failed over to an empty replica). The group's
 * committed offsets tell them apart: Kafka's commit only ever follows Redis' write. A
 * lost partition is refused (worker.on_state_loss = refuse: resuming at the committed
 * offsets would build records without their earlier events) or rebuilt from the
 * earliest retained offset (replay).
 * @returns CFD_OK, CFD_ERR_STATE_LOST (refused; errstr says what to do), or CFD_ERR_IO
 *          when the committed offsets could not be read.
 */
static cfd_err check_state_loss(cfd_worker *w, rd_kafka_topic_partition_list_t *parts,
                                char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *fresh = rd_kafka_topic_partition_list_new(parts->cnt);
    bool replay = strcmp(w->cfg->on_state_loss, "replay") == 0;
    cfd_err err = CFD_OK;
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
            rd_kafka_topic_partition_list_add(fresh, parts->elems[i].topic,
                                              parts->elems[i].partition);
    int kerr = cfd_consumer_committed(w->consumer, fresh);
    if (kerr) {
        snprintf(errstr, errstr_size, "reading the group's committed offsets: %s",
                 rd_kafka_err2str(kerr));
        err = CFD_ERR_IO;
    }
    for (int i = 0; !kerr && i < fresh->cnt; i++) {
        rd_kafka_topic_partition_t *c = &fresh->elems[i];
        if (c->err || c->offset < 0)
            continue; /* never consumed by this group: a new partition */
        if (replay) {
            cfd_warn(MOD, "%s[%" PRId32 "]: redis has no state for it but the group "
                          "committed offset %" PRId64 ": rebuilding it from the earliest "
                          "retained offset (worker.on_state_loss = replay)",
                     c->topic, c->partition, c->offset);
            rd_kafka_topic_partition_list_find(parts, c->topic, c->partition)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
            continue;
        }
        cfd_error(MOD, "%s[%" PRId32 "]: redis has no state for it but the group committed "
                       "offset %" PRId64 ": redis lost its data", c->topic, c->partition,
                  c->offset);
        snprintf(errstr, errstr_size,
                 "redis lost the state of %s[%" PRId32 "]; nothing of it is consumed. "
                 "Restore redis from its backup and restart, or restart with --set "
                 "worker.on_state_loss=replay to rebuild it from the earliest retained "
                 "offset (docs/OPERATIONS.md, \"Redis lost its data\")",
                 c->topic, c->partition);
        err = CFD_ERR_STATE_LOST;
    }
    rd_kafka_topic_partition_list_destroy(fresh);
    return err;
}

/* An assignment that cannot be taken, or whose outbox cannot be read, stops the worker. */
static void assignment_failed(cfd_worker *w, cfd_err err, const char *errstr) {
    cfd_error(MOD, "assignment: %s", errstr);
    if (!w->fatal)
        w->fatal = err ? err : CFD_ERR;
}

/* Claims the partitions of a new assignment and positions them at Redis' offsets.
 * @returns 0 to take it. */
static int on_assign(void *ctx, rd_kafka_topic_partition_list_t *parts) {
    cfd_worker *w = ctx;
    char errstr[512];
    cfd_err err = CFD_OK;
    int64_t backoff;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        slot *s = wk_slot_get(w, tp->partition);
        int t = wk_topic_index(w, tp->topic);
        if (!s->owned) {
            int64_t epoch = 0;
            backoff = 0;
            do
                err = cfd_store_claim(w->store, tp->partition, w->owner, &epoch, errstr,
                                      sizeof(errstr));
            while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
            if (err)
                goto fail;
            memset(s, 0, offsetof(slot, hdel));
            s->owned = true;
            s->epoch = epoch;
            cfd_producer_claim(w->producer, tp->partition, (uint32_t)epoch);
            for (size_t k = 0; k < MAX_TOPICS; k++)
                s->applied[k] = s->commit[k] = -1;
            cfd_info(MOD, "partition %" PRId32 " claimed (epoch %" PRId64 ")",
                     tp->partition, epoch);
        }
        int64_t off = -1;
        backoff = 0;
        do
            err = cfd_store_applied_offset(w->store, tp->partition, tp->topic, &off,
                                           errstr, sizeof(errstr));
        while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err)
            goto fail;
        if (t >= 0) {
            s->applied[t] = off;
            s->assigned[t] = true;
        }
        /* Redis, not Kafka, says what was applied: resume right after it. */
        tp->offset = off >= 0 ? off + 1 : RD_KAFKA_OFFSET_INVALID;
    }
    if ((err = check_state_loss(w, parts, errstr, sizeof(errstr))))
        goto fail;
    return 0;
fail:
    assignment_failed(w, err, errstr);
    return -1;
}

/* Sends the outboxes of the partitions just assigned again. */
static void on_assigned(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    cfd_worker *w = ctx;
    char errstr[512];
    for (int i = 0; i < parts->cnt; i++) {
        int32_t part = parts->elems[i].partition;
        void *args[2] = {w, &part};
        bool first = true;
        for (int j = 0; j < i; j++)
            if (parts->elems[j].partition == part)
                first = false;
        if (!first)
            continue;
        cfd_err err;
        int64_t backoff = 0;
        do
            err = cfd_store_outbox_scan(w->store, part, wk_resend_one, args, errstr,
                                        sizeof(errstr));
        while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
        if (err) {
            assignment_failed(w, err, errstr);
            return;
        }
    }
}

static void on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    cfd_worker *w = ctx;
    /* Hand over cleanly: outputs delivered and dropped from the outbox. What is still
     * in flight stays in the outbox, and the next owner sends it again. */
    cfd_producer_flush(w->producer, 10000);
    wk_flush_hdel(w);
    for (int i = 0; i < parts->cnt; i++) {
        slot *s = wk_slot_get(w, parts->elems[i].partition);
        if (s->owned)
            cfd_info(MOD, "partition %" PRId32 " released", parts->elems[i].partition);
        s->owned = false;
        cfd_producer_release(w->producer, parts->elems[i].partition);
        memset(s->assigned, 0, sizeof(s->assigned));
    }
}

void wk_kafka_error(void *ctx, int err, const char *reason) {
    cfd_worker *w = ctx;
    cfd_error(MOD, "kafka: %s: %s", rd_kafka_err2name(err), reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        w->fatal = CFD_ERR;
    } else if (cfd_kafka_refused(err) && !w->fatal) {
        /* Retrying with the same credentials and CA cannot succeed: stop, so that the
         * supervisor and the operator see it at once instead of a worker that never
         * consumes. */
        cfd_error(MOD, "kafka: SASL login or TLS handshake failed: check the kafka.sasl.* "
                       "and kafka.ssl.* settings; stopping");
        w->fatal = CFD_ERR_REFUSED;
    }
}

/* --- the clock ------------------------------------------------------------------------ */

static int64_t sim_now_ms(void *ctx) {
    cfd_worker *w = ctx;
    /* Until a rehearsal sets the clock, simulated time is the system's. */
    return w->sim_now ? w->sim_now : cfd_clock_system().now_ms(NULL);
}

/* Reads the simulated clock once per loop, so every decision of a loop sees one now. */
static void refresh_sim_clock(cfd_worker *w) {
    char errstr[256];
    int64_t now = 0;
    if (cfd_store_sim_clock(w->store, &now, errstr, sizeof(errstr)) == CFD_OK) {
        if (now && now != w->sim_now)
            cfd_debug(MOD, "simulated clock at %" PRId64, now);
        w->sim_now = now;
    }
}

/* --- life cycle -------------------------------------------------------------------- */

/* One partition's messages of a poll: applied as one batch, but for those not ours any
 * more, already applied (an overlap after a seek), or alarms held back until a failed
 * seek back succeeds. */
static cfd_err on_messages(void *ctx, int32_t part, rd_kafka_message_t **msgs, size_t n) {
    cfd_worker *w = ctx;
    slot *s = wk_slot_get(w, part);
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        int t = wk_topic_index(w, rd_kafka_topic_name(msgs[j]->rkt));
        if (!s->owned || t < 0 || msgs[j]->offset <= s->applied[t] ||
            (t == w->alarms_t && s->alarms_reseek &&
             msgs[j]->offset >= s->alarms_reseek - 1))
            continue;
        msgs[k++] = msgs[j];
    }
    return k ? wk_process_batch(w, part, msgs, k) : CFD_OK;
}

static cfd_consumer *consumer_new(cfd_worker *w, const cfd_kafka_opts *kafka, char *errstr,
                                  size_t errstr_size) {
    const cfd_consumer_opts opts = {
        .kafka = kafka, .topics = (const char *const *)w->topics, .n_topics = w->n_topics,
        .max_messages = (size_t)w->cfg->batch_size, .stop = w->stop, .log_module = MOD};
    const cfd_consumer_cbs cbs = {.ctx = w, .assign = on_assign, .assigned = on_assigned,
                                  .revoke = on_revoke, .batch = on_messages,
                                  .error = wk_kafka_error};
    return cfd_consumer_new(&opts, &cbs, errstr, errstr_size);
}

cfd_worker *cfd_worker_new(const cfd_config *cfg, const cfd_policy *pol, cfd_clock clock,
                           volatile sig_atomic_t *stop, char *errstr, size_t errstr_size) {
    cfd_worker *w = cfd_xcalloc(1, sizeof(*w));
    char host[64] = "host";

    w->cfg = cfg;
    w->pol = pol;
    w->clock = clock;
    w->stop = stop;
    if (strcmp(cfg->clock, "simulated") == 0) {
        w->simulated = true;
        w->clock = (cfd_clock){.now_ms = sim_now_ms, .ctx = w};
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(w->owner, sizeof(w->owner), "%s/%d", host, (int)getpid());

    rd_kafka_topic_partition_list_t *inputs = cfd_kafka_topic_list(cfg->input_topics);
    bool inputs_ok = inputs->cnt > 0 && inputs->cnt <= MAX_TOPICS;
    for (int i = 0; inputs_ok && i < inputs->cnt; i++)
        w->topics[w->n_topics++] = cfd_xstrdup(inputs->elems[i].topic);
    rd_kafka_topic_partition_list_destroy(inputs);
    if (!inputs_ok) {
        snprintf(errstr, errstr_size, "worker.input_topics: give 1 to %d topics",
                 MAX_TOPICS);
        goto fail;
    }
    /* The NOC side shares the partitions (and the {pN} state) of the events. */
    w->alarms_t = w->inventory_t = -1;
    if (*cfg->alarms_topic && w->n_topics < MAX_TOPICS) {
        w->alarms_t = (int)w->n_topics;
        w->topics[w->n_topics++] = cfd_xstrdup(cfg->alarms_topic);
    }
    if (*cfg->inventory_topic && w->n_topics < MAX_TOPICS) {
        w->inventory_t = (int)w->n_topics;
        w->topics[w->n_topics++] = cfd_xstrdup(cfg->inventory_topic);
    }
    w->city_t = -1;
    if (*cfg->city_reports_topic && w->n_topics < MAX_TOPICS) {
        w->city_t = (int)w->n_topics;
        w->topics[w->n_topics++] = cfd_xstrdup(cfg->city_reports_topic);
    }

    const cfd_store_opts store_opts = cfd_config_store_opts(cfg);
    const cfd_kafka_opts kafka_opts = cfd_config_kafka_opts(cfg);
    if (!(w->store = cfd_store_new(&store_opts, errstr, errstr_size)))
        goto fail;
    w->tx = cfd_txn_new();

    if (!(w->producer = wk_producer_new(w, &kafka_opts, errstr, errstr_size)))
        goto fail;

    if (!(w->consumer = consumer_new(w, &kafka_opts, errstr, errstr_size)))
        goto fail;
    return w;
fail:
    cfd_worker_destroy(w);
    return NULL;
}

cfd_err cfd_worker_run(cfd_worker *w) {
    cfd_err err = CFD_OK;
    cfd_info(MOD, "consuming %s as %s", w->cfg->input_topics, w->owner);
    while (!*w->stop && !w->fatal && !err) {
        err = cfd_consumer_poll(w->consumer, (int)w->cfg->poll_timeout_ms);
        cfd_producer_poll(w->producer, 0);
        cfd_producer_retry(w->producer);
        wk_flush_hdel(w);
        wk_commit_offsets(w);
        int64_t mono = cfd_monotonic_ms();
        if (w->simulated)
            refresh_sim_clock(w);
        int64_t now = cfd_clock_now(&w->clock);
        for (size_t p = 0; p < w->n_slots && !err; p++) {
            slot *s = &w->slots[p];
            if (!s->owned)
                continue;
            if (s->alarms_reseek)
                wk_alarms_seek_back(w, (int32_t)p, s, s->alarms_reseek - 1);
            if (mono >= s->next_tick_ms && caught_up(w, (int32_t)p, s)) {
                s->next_tick_ms = mono + TIMER_TICK_MS;
                err = wk_fire_timers(w, (int32_t)p, s, now);
                if (!err && w->city_t >= 0)
                    err = wk_fire_city_timers(w, (int32_t)p, s, now);
            }
            if (!err && mono >= s->next_sweep_ms) {
                s->next_sweep_ms = mono + PARK_SWEEP_MS;
                err = wk_sweep_parked(w, (int32_t)p, s);
            }
        }
    }
    if (w->fatal == CFD_ERR_FENCED || (!err && w->fatal))
        err = w->fatal;
    if (err == CFD_ERR_FENCED)
        cfd_error(MOD, "fenced: another worker owns a partition this one held, or redis "
                       "lost writes; restart to rejoin the group");
    cfd_info(MOD, "stopping: leaving the group");
    cfd_consumer_close(w->consumer);
    cfd_producer_flush(w->producer, 10000);
    wk_flush_hdel(w);
    /* Not lost (each waits in its partition's outbox for the next owner), but a stop
     * that could not deliver everything says so, in the log and the exit status. */
    size_t left = cfd_producer_undelivered(w->producer);
    if (left) {
        cfd_error(MOD, "stopped with %zu outputs not delivered: they wait in the outbox, "
                       "the partitions' next owner sends them", left);
        if (!err)
            err = CFD_ERR_UNDELIVERED;
    }
    return err;
}

cfd_worker_stats cfd_worker_get_stats(const cfd_worker *w) { return w->stats; }

void cfd_worker_destroy(cfd_worker *w) {
    if (!w)
        return;
    cfd_consumer_destroy(w->consumer);
    cfd_producer_destroy(w->producer);
    for (size_t p = 0; p < w->n_slots; p++) {
        for (size_t i = 0; i < w->slots[p].n_hdel; i++)
            free(w->slots[p].hdel[i]);
        free(w->slots[p].hdel);
    }
    free(w->slots);
    for (size_t i = 0; i < w->n_topics; i++)
        free(w->topics[i]);
    wk_outs_clear(w);
    free(w->outs);
    cfd_txn_destroy(w->tx);
    cfd_store_destroy(w->store);
    free(w);
}


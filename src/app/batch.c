/*
 * A batch's transaction and outputs, and what every stage does with them: dead
 * letters, deferral, unreadable states. See batch.h.
 */
#include "batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/log.h"

#define MOD "worker"

void cfd_batch_init(cfd_batch *b, const cfd_env *env)
{
    memset(b, 0, sizeof(*b));
    b->env = env;
    b->tx = cfd_txn_new();
    b->defer_from = -1;
}

static void outs_clear(cfd_batch *b)
{
    for (size_t i = 0; i < b->n_outs; i++) {
        free(b->outs[i].id);
        free(b->outs[i].key);
        free(b->outs[i].payload);
    }
    b->n_outs = 0;
}

void cfd_batch_release(cfd_batch *b)
{
    outs_clear(b);
    free(b->outs);
    cfd_txn_destroy(b->tx);
    memset(b, 0, sizeof(*b));
}

void cfd_batch_begin(cfd_batch *b, int32_t part, int64_t epoch)
{
    outs_clear(b);
    b->part = part;
    b->failed = false;
    b->defer_topic = NULL;
    b->defer_from = -1;
    cfd_txn_begin(b->tx, part, epoch);
}

bool cfd_batch_is_empty(const cfd_batch *b)
{
    return b->n_outs == 0 && cfd_txn_is_empty(b->tx);
}

int64_t cfd_batch_now(const cfd_batch *b)
{
    return cfd_clock_now(b->env->clock);
}

void cfd_batch_output(cfd_batch *b, const char *id, cfd_output_kind kind, const char *key,
                      uint8_t *payload, size_t len)
{
    if (!b->env->routed[kind & 0xff]) {
        free(payload);
        return;
    }
    size_t flen;
    void *frame = cfd_frame_output(kind, key, payload, len, &flen);
    cfd_txn_outbox(b->tx, id, frame, flen);
    free(frame);
    if (b->n_outs == b->cap_outs) {
        b->cap_outs = b->cap_outs ? b->cap_outs * 2 : 64;
        b->outs = cfd_xrealloc(b->outs, b->cap_outs * sizeof(*b->outs));
    }
    b->outs[b->n_outs++] = (cfd_output){.id = cfd_xstrdup(id),
                                        .kind = kind,
                                        .key = cfd_xstrdup(key),
                                        .payload = payload,
                                        .len = len};
}

void cfd_batch_fail(cfd_batch *b, const char *what, const char *name)
{
    cfd_error(MOD, "cannot encode the %s of %s: the batch is not committed", what, name);
    b->failed = true;
}

cfd_err cfd_batch_unreadable(cfd_batch *b, const char *kind, const char *name,
                             const char *why)
{
    b->env->stats->unreadable_states++;
    cfd_error(MOD,
              "%s %s: stored state unreadable (%s); stopping rather than overwrite "
              "or drop it: see \"Unreadable state\" in docs/OPERATIONS.md",
              kind, name, why);
    return CFD_ERR_DECODE;
}

/* Queues dl under the output id id. */
static void dead_letter(cfd_batch *b, const char *id, cfd_dead_letter *dl)
{
    char key[300];
    uint8_t *buf = NULL;
    size_t len = 0;
    dl->dead_at_ms = cfd_batch_now(b);
    dl->max_original = (size_t)b->env->cfg->deadletter_max_original;
    /* The detail names fields and states, never customer data. */
    cfd_warn(MOD, "dead letter %s[%" PRId32 "]@%" PRId64 " work order %s: %s", dl->topic,
             dl->partition, dl->offset, dl->work_order ? dl->work_order : "-", dl->detail);
    cfd_codec_dead_letter_encode(dl, &buf, &len);
    /* Without a work order, keyed by where it came from: spread and compacted the
     * same way every time, never a null key. */
    snprintf(key, sizeof(key), "%s/%" PRId32, dl->topic, dl->partition);
    cfd_batch_output(b, id, CFD_OUT_DEAD_LETTER,
                     dl->work_order && *dl->work_order ? dl->work_order : key, buf, len);
    b->env->stats->dead_letters++;
    if ((unsigned)dl->reason < CFD_DL_REASONS)
        b->env->stats->dead_letters_by_reason[dl->reason]++;
}

void cfd_batch_dead_letter(cfd_batch *b, const cfd_msg *m, cfd_err why, const char *detail,
                           const char *order, const char *event_id)
{
    cfd_dead_letter dl = {.original = m->payload,
                          .original_len = m->len,
                          .topic = m->topic,
                          .partition = m->partition,
                          .offset = m->offset,
                          .reason = cfd_codec_dl_reason(why),
                          .detail = detail,
                          .work_order = order,
                          .event_id = event_id};
    char id[512];
    snprintf(id, sizeof(id), "dl/%s/%" PRId32 "/%" PRId64, m->topic, m->partition,
             m->offset);
    dead_letter(b, id, &dl);
}

void cfd_batch_dead_letter_parked(cfd_batch *b, const char *topic, const char *order,
                                  size_t index, const void *frame, size_t len)
{
    char detail[300], id[512];
    snprintf(detail, sizeof(detail),
             "unreadable entry %zu of the park list of work order "
             "%s (the whole entry is in original)",
             index, order);
    cfd_dead_letter dl = {.original = frame,
                          .original_len = len,
                          .topic = topic,
                          .partition = b->part,
                          .offset = -1,
                          .reason = cfd_codec_dl_reason(CFD_ERR_DECODE),
                          .detail = detail,
                          .work_order = order};
    snprintf(id, sizeof(id), "dl/park/%s/%" PRId32 "/%zu", order, b->part, index);
    dead_letter(b, id, &dl);
}

void cfd_batch_defer(cfd_batch *b, const cfd_msg *m)
{
    if (b->defer_from < 0 || m->offset < b->defer_from) {
        b->defer_topic = m->topic;
        b->defer_from = m->offset;
    }
}

bool cfd_batch_caught_up(const cfd_batch *b, const char *topic, int64_t seen)
{
    return b->env->caught_up(b->env->ctx, topic, b->part, seen);
}

cfd_err cfd_batch_due(cfd_batch *b, cfd_due_kind kind, int64_t now, size_t max,
                      char ***names, size_t *n)
{
    char errstr[512];
    cfd_err err;
    CFD_REDIS(b->env, err, errstr,
              cfd_store_due(b->env->store, b->part, kind, now, max, names, n, errstr,
                            sizeof(errstr)));
    if (err) {
        *names = NULL;
        *n = 0;
    }
    return err;
}

/*
 * Delivered outputs leave the outbox; a new owner re-sends it. See outbox.h.
 */
#include "outbox.h"

#include <inttypes.h>
#include <stdlib.h>

#include "confirmd/alloc.h"
#include "confirmd/log.h"

#define MOD "worker"

/* The delivered ids of one partition, not yet dropped from its outbox. */
typedef struct delivered {
    char **ids;
    size_t n, cap;
} delivered;

struct cfd_outbox {
    const cfd_env *env;
    delivered *parts; /* by partition */
    size_t n_parts;
};

cfd_outbox *cfd_outbox_new(const cfd_env *env)
{
    cfd_outbox *ob = cfd_xcalloc(1, sizeof(*ob));
    ob->env = env;
    return ob;
}

void cfd_outbox_destroy(cfd_outbox *ob)
{
    if (!ob)
        return;
    for (size_t p = 0; p < ob->n_parts; p++) {
        for (size_t i = 0; i < ob->parts[p].n; i++)
            free(ob->parts[p].ids[i]);
        free(ob->parts[p].ids);
    }
    free(ob->parts);
    free(ob);
}

void cfd_outbox_delivered(cfd_outbox *ob, int32_t part, const char *id)
{
    if (part < 0)
        return;
    ob->parts = cfd_xgrow(ob->parts, &ob->n_parts, (size_t)part + 1, sizeof(delivered));
    delivered *d = &ob->parts[part];
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ids = cfd_xrealloc(d->ids, d->cap * sizeof(char *));
    }
    d->ids[d->n++] = cfd_xstrdup(id);
}

cfd_err cfd_outbox_flush(cfd_outbox *ob)
{
    char errstr[512];
    for (size_t p = 0; p < ob->n_parts; p++) {
        delivered *d = &ob->parts[p];
        cfd_err err;
        if (!d->n)
            continue;
        CFD_REDIS(ob->env, err, errstr,
                  cfd_store_outbox_remove(ob->env->store, (int32_t)p,
                                          (const char *const *)d->ids, d->n, errstr,
                                          sizeof(errstr)));
        if (err)
            return err;
        for (size_t i = 0; i < d->n; i++)
            free(d->ids[i]);
        d->n = 0;
    }
    return CFD_OK;
}

typedef struct resend {
    cfd_producer *producer;
    int32_t part;
} resend;

static void resend_one(const char *id, const void *frame, size_t len, void *ctx)
{
    const resend *r = ctx;
    cfd_output_kind kind;
    const char *key;
    size_t klen, plen;
    const void *payload;
    if (cfd_frame_output_parse(frame, len, &kind, &key, &klen, &payload, &plen)) {
        cfd_error(MOD, "partition %" PRId32 ": unreadable outbox entry %s", r->part, id);
        return;
    }
    cfd_producer_send(r->producer, r->part, 0, id, kind, key, klen, payload, plen);
}

cfd_err cfd_outbox_resend(cfd_outbox *ob, cfd_producer *p, int32_t part)
{
    char errstr[512];
    resend r = {.producer = p, .part = part};
    cfd_err err;
    CFD_REDIS(ob->env, err, errstr,
              cfd_store_outbox_scan(ob->env->store, part, resend_one, &r, errstr,
                                    sizeof(errstr)));
    if (err)
        cfd_error(MOD, "partition %" PRId32 ": outbox: %s", part, errstr);
    return err;
}

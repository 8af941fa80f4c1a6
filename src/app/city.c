/*
 * The worker's city stage: the multi-customer city rule of severe faults (see
 * include/confirmd/city.h). Orders send their CityReport keyed by "<city>|<service>",
 * so one owner holds each key's state (cfd:{pN}:city:<key>) and its timer
 * (cfd:{pN}:ctimers), whichever partitions the orders themselves live on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/city_codec.h"
#include "confirmd/alloc.h"
#include "confirmd/log.h"
#include "worker_int.h"

#define MOD "city"

/* One city|service key touched by a batch or a tick. */
typedef struct city_key {
    char key[300];
    cfd_city_state *st;
} city_key;

/* Loads the states of keys[0..n) (a new one where Redis has none). */
static cfd_err load_states(cfd_worker *w, int32_t part, city_key *keys, size_t n) {
    char errstr[512];
    const char **kinds = cfd_xcalloc(n + 1, sizeof(char *)), **names = cfd_xcalloc(n + 1, sizeof(char *));
    cfd_blob *blobs = cfd_xcalloc(n + 1, sizeof(cfd_blob));
    int64_t backoff = 0;
    cfd_err err;
    for (size_t k = 0; k < n; k++) {
        kinds[k] = "city";
        names[k] = keys[k].key;
    }
    do
        err = cfd_store_get(w->store, part, kinds, names, n, blobs, errstr, sizeof(errstr));
    while (wk_redis_retry(w, err, &backoff, errstr, sizeof(errstr)));
    for (size_t k = 0; !err && k < n; k++) {
        if (!blobs[k].data) {
            keys[k].st = cfd_city_state_new();
        } else if (cfd_codec_city_state_decode(blobs[k].data, blobs[k].len, &keys[k].st,
                                               errstr, sizeof(errstr))) {
            err = wk_state_unreadable(w, "city key", keys[k].key, errstr);
        }
    }
    cfd_blobs_clear(blobs, n);
    free(blobs);
    free(kinds);
    free(names);
    return err;
}

/* Judges a key at now: queues its Incident messages and alert, and writes its state
 * and its next instant into the batch's transaction. */
static void judge_and_store(cfd_worker *w, city_key *k, int64_t now) {
    cfd_incident incs[3];
    cfd_alert alert;
    bool has_alert;
    size_t n = cfd_city_collect(k->st, now, incs, &alert, &has_alert);
    wk_emit_incidents(w, k->st->incident_id, incs, n, has_alert ? &alert : NULL);
    size_t dropped = cfd_city_prune(k->st);
    if (dropped)
        cfd_debug(MOD, "city key %s: %zu old reports dropped", k->key, dropped);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (k->st->n_reports == 0 && !k->st->open) {
        cfd_txn_del(w->tx, "city", k->key); /* nothing left to remember */
    } else {
        cfd_codec_city_state_encode(k->st, &buf, &len);
        cfd_txn_put(w->tx, "city", k->key, buf, len);
        free(buf);
    }
    cfd_txn_city_timer(w->tx, k->key, cfd_city_next(k->st));
}

static void keys_free(city_key *keys, size_t n) {
    for (size_t k = 0; k < n; k++)
        cfd_city_state_destroy(keys[k].st);
    free(keys);
}

cfd_err wk_city_batch(cfd_worker *w, int32_t part, rd_kafka_message_t **msgs, size_t n) {
    char errstr[256];
    cfd_city_report *reps = cfd_xcalloc(n + 1, sizeof(*reps));
    size_t *key_of = cfd_xcalloc(n + 1, sizeof(size_t));
    city_key *keys = cfd_xcalloc(n + 1, sizeof(city_key));
    size_t n_keys = 0;
    cfd_err err;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = msgs[i];
        char key[300];
        key_of[i] = SIZE_MAX;
        cfd_err derr = cfd_codec_city_report_decode(m->payload, m->len, &reps[i], errstr,
                                                    sizeof(errstr));
        if (derr) {
            wk_dead_letter(w, rd_kafka_topic_name(m->rkt), part, m->offset, m->payload,
                           m->len, derr, errstr, NULL, NULL);
            continue;
        }
        cfd_city_key(reps[i].city, reps[i].service, key, sizeof(key));
        size_t k = 0;
        while (k < n_keys && strcmp(keys[k].key, key) != 0)
            k++;
        if (k == n_keys)
            snprintf(keys[n_keys++].key, sizeof(keys[0].key), "%s", key);
        key_of[i] = k;
    }
    err = load_states(w, part, keys, n_keys);
    for (size_t i = 0; !err && i < n; i++)
        if (key_of[i] != SIZE_MAX && !cfd_city_merge(keys[key_of[i]].st, &reps[i]))
            cfd_debug(MOD, "city report of %s v%" PRIu32 " changes nothing",
                      reps[i].work_order, reps[i].record_version);
    for (size_t k = 0; !err && k < n_keys; k++)
        judge_and_store(w, &keys[k], cfd_city_as_of(keys[k].st));
    for (size_t i = 0; i < n; i++)
        cfd_city_report_clear(&reps[i]);
    free(reps);
    free(key_of);
    keys_free(keys, n_keys);
    return err;
}

cfd_err wk_fire_city_timers(cfd_worker *w, int32_t part, slot *s, int64_t now) {
    char **due = NULL;
    size_t n = 0;
    cfd_err err = wk_due(w, part, CFD_DUE_CITY, now, TIMER_BATCH, &due, &n);
    if (err || n == 0) {
        cfd_strv_free(due, n);
        return err;
    }
    city_key *keys = cfd_xcalloc(n, sizeof(city_key));
    for (size_t k = 0; k < n; k++)
        snprintf(keys[k].key, sizeof(keys[k].key), "%s", due[k]);
    wk_outs_clear(w);
    cfd_txn_begin(w->tx, part, s->epoch);
    err = load_states(w, part, keys, n);
    for (size_t k = 0; !err && k < n; k++)
        judge_and_store(w, &keys[k], now);
    if (!err)
        err = wk_batch_commit(w, part, NULL);
    wk_outs_clear(w);
    keys_free(keys, n);
    cfd_strv_free(due, n);
    return err;
}

/*
 * The city stage: the multi-customer city rule of severe faults (see
 * include/confirmd/city.h). Orders send their CityReport keyed by "<city>|<service>",
 * so one owner holds each key's state (cfd:{pN}:city:<key>, its settled part in
 * cfd:{pN}:city-settled:<key>) and its timer (cfd:{pN}:ctimers), whichever partitions
 * the orders themselves live on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/city_codec.h"
#include "confirmd/alloc.h"
#include "confirmd/log.h"
#include "confirmd/text.h"
#include "emit.h"
#include "stage.h"

#define MOD "city"
#define CITY_TICK_KEYS 256 /* keys one tick judges, at most */

/* One city|service key touched by a batch or a tick. */
typedef struct city_key {
    char key[300];
    cfd_city_state *st;
    bool joined; /* joined with its settled part (see confirmd/city.h) */
} city_key;

/* Reads one part of keys[0..n) ("city": the heads, "city-settled": the settled parts)
 * into blobs. */
static cfd_err load_parts(cfd_batch *b, const char *kind, city_key *const *keys, size_t n,
                          cfd_blob *blobs)
{
    char errstr[512];
    const char **kinds = cfd_xcalloc(n + 1, sizeof(char *)),
               **names = cfd_xcalloc(n + 1, sizeof(char *));
    cfd_err err;
    for (size_t k = 0; k < n; k++) {
        kinds[k] = kind;
        names[k] = keys[k]->key;
    }
    CFD_REDIS(b->env, err, errstr,
              cfd_store_get(b->env->store, b->part, kinds, names, n, blobs, errstr,
                            sizeof(errstr)));
    free(kinds);
    free(names);
    return err;
}

/* Decodes blob into *st (a new state where Redis has none). */
static cfd_err decode_part(cfd_batch *b, const char *what, const city_key *k,
                           const cfd_blob *blob, cfd_city_state **st)
{
    char errstr[512];
    if (!blob->data) {
        *st = cfd_city_state_new();
        return CFD_OK;
    }
    if (cfd_codec_city_state_decode(blob->data, blob->len, st, errstr, sizeof(errstr)))
        return cfd_batch_unreadable(b, what, k->key, errstr);
    return CFD_OK;
}

/* Loads the heads of keys[0..n), and joins the settled part of each key whose
 * reports[0..n_reports) (key_of[i]: the key of reports[i], SIZE_MAX for none) need it. */
static cfd_err load_states(cfd_batch *b, city_key *keys, size_t n,
                           const cfd_city_report *reports, const size_t *key_of,
                           size_t n_reports)
{
    city_key **ks = cfd_xcalloc(n + 1, sizeof(*ks));
    cfd_blob *blobs = cfd_xcalloc(n + 1, sizeof(cfd_blob));
    cfd_city_report *mine = cfd_xcalloc(n_reports + 1, sizeof(*mine));
    size_t n_join = 0;
    for (size_t k = 0; k < n; k++)
        ks[k] = &keys[k];
    cfd_err err = load_parts(b, "city", ks, n, blobs);
    for (size_t k = 0; !err && k < n; k++)
        err = decode_part(b, "city key", &keys[k], &blobs[k], &keys[k].st);
    cfd_blobs_clear(blobs, n);
    for (size_t k = 0; !err && k < n; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n_reports; i++)
            if (key_of[i] == k)
                mine[m++] = reports[i];
        if (cfd_city_needs_settled(keys[k].st, mine, m))
            ks[n_join++] = &keys[k];
    }
    if (!err && n_join)
        err = load_parts(b, "city-settled", ks, n_join, blobs);
    for (size_t k = 0; !err && k < n_join; k++) {
        cfd_city_state *settled;
        if (!blobs[k].data)
            cfd_warn(MOD,
                     "city key %s: its settled part (%" PRIu32 " reports) is not in redis; "
                     "judging without them",
                     ks[k]->key, ks[k]->st->n_settled);
        err = decode_part(b, "city key's settled part", ks[k], &blobs[k], &settled);
        if (!err) {
            cfd_debug(MOD, "city key %s: joined with its %zu settled reports", ks[k]->key,
                      settled->n_reports);
            cfd_city_join(ks[k]->st, settled);
            ks[k]->joined = true;
        }
    }
    cfd_blobs_clear(blobs, n_join);
    free(blobs);
    free(ks);
    free(mine);
    return err;
}

/* Judges a key at now: queues its Incident messages and alert, and writes its state
 * (its head, and its settled part when that changed) and its next instant into the
 * batch's transaction. */
static void judge_and_store(cfd_batch *b, city_key *k, int64_t now)
{
    cfd_incident incs[3];
    cfd_alert alert;
    bool has_alert, rewrite;
    size_t n = cfd_city_collect(k->st, now, incs, &alert, &has_alert);
    cfd_emit_incidents(b, k->st->incident_id, incs, n, has_alert ? &alert : NULL);
    size_t dropped = cfd_city_prune(k->st);
    if (dropped)
        cfd_debug(MOD, "city key %s: %zu old reports dropped", k->key, dropped);
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_city_state *settled = cfd_city_settle(k->st, k->joined, &rewrite);
    if (settled) {
        cfd_codec_city_state_encode(settled, &buf, &len);
        cfd_txn_put(b->tx, "city-settled", k->key, buf, len);
        cfd_debug(MOD, "city key %s: %zu reports settled, %zu left in its head", k->key,
                  settled->n_reports, k->st->n_reports);
        cfd_city_state_destroy(settled);
        free(buf);
    } else if (rewrite) {
        cfd_txn_del(b->tx, "city-settled", k->key);
    }
    if (k->st->n_reports == 0 && !k->st->open && k->st->n_settled == 0) {
        cfd_txn_del(b->tx, "city", k->key); /* nothing left to remember */
    } else {
        cfd_codec_city_state_encode(k->st, &buf, &len);
        cfd_txn_put(b->tx, "city", k->key, buf, len);
        free(buf);
    }
    cfd_txn_city_timer(b->tx, k->key, cfd_city_next(k->st));
}

static void keys_free(city_key *keys, size_t n)
{
    for (size_t k = 0; k < n; k++)
        cfd_city_state_destroy(keys[k].st);
    free(keys);
}

static cfd_err city_batch(cfd_batch *b, const cfd_msg *msgs, size_t n)
{
    char errstr[256];
    cfd_city_report *reps = cfd_xcalloc(n + 1, sizeof(*reps));
    size_t *key_of = cfd_xcalloc(n + 1, sizeof(size_t));
    city_key *keys = cfd_xcalloc(n + 1, sizeof(city_key));
    size_t n_keys = 0;
    cfd_err err;
    for (size_t i = 0; i < n; i++) {
        const cfd_msg *m = &msgs[i];
        char key[300];
        key_of[i] = SIZE_MAX;
        cfd_err derr = cfd_codec_city_report_decode(m->payload, m->len, &reps[i], errstr,
                                                    sizeof(errstr));
        if (derr) {
            cfd_batch_dead_letter(b, m, derr, errstr, NULL, NULL);
            continue;
        }
        cfd_city_key(reps[i].city, reps[i].service, key, sizeof(key));
        size_t k = 0;
        while (k < n_keys && strcmp(keys[k].key, key) != 0)
            k++;
        if (k == n_keys)
            cfd_text_copy(keys[n_keys++].key, sizeof(keys[0].key), key);
        key_of[i] = k;
    }
    err = load_states(b, keys, n_keys, reps, key_of, n);
    for (size_t i = 0; !err && i < n; i++)
        if (key_of[i] != SIZE_MAX && !cfd_city_merge(keys[key_of[i]].st, &reps[i]))
            cfd_debug(MOD, "city report of %s v%" PRIu32 " changes nothing",
                      reps[i].work_order, reps[i].record_version);
    for (size_t k = 0; !err && k < n_keys; k++)
        judge_and_store(b, &keys[k], cfd_city_as_of(keys[k].st));
    for (size_t i = 0; i < n; i++)
        cfd_city_report_clear(&reps[i]);
    free(reps);
    free(key_of);
    keys_free(keys, n_keys);
    return err;
}

/* Judges the city keys whose timers are due at now. */
static cfd_err city_tick(cfd_batch *b, int64_t now)
{
    char **due = NULL;
    size_t n = 0;
    cfd_err err = cfd_batch_due(b, CFD_DUE_CITY, now, CITY_TICK_KEYS, &due, &n);
    if (err || n == 0) {
        cfd_strv_free(due, n);
        return err;
    }
    city_key *keys = cfd_xcalloc(n, sizeof(city_key));
    for (size_t k = 0; k < n; k++)
        cfd_text_copy(keys[k].key, sizeof(keys[k].key), due[k]);
    err = load_states(b, keys, n, NULL, NULL, 0);
    for (size_t k = 0; !err && k < n; k++)
        judge_and_store(b, &keys[k], now);
    keys_free(keys, n);
    cfd_strv_free(due, n);
    return err;
}

static size_t city_topics(const cfd_config *cfg, char **names, size_t max)
{
    if (!*cfg->city_reports_topic)
        return 0;
    if (max)
        names[0] = cfd_xstrdup(cfg->city_reports_topic);
    return 1;
}

const cfd_stage cfd_city_stage = {
    .name = "city", .topics = city_topics, .batch = city_batch, .tick = city_tick};

/*
 * Store-wide gauges for /metrics; see store_gauges.h.
 */
#include "store_gauges.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/clock.h"
#include "confirmd/codec.h"
#include "confirmd/inspect.h"
#include "confirmd/log.h"

#define MOD "metrics"
#define STORE_GAUGES_CACHE_MS 15000

struct cfd_store_gauges {
    pthread_mutex_t lock;
    const cfd_config *cfg;
    cfd_inspect *in; /* opened on first use, dropped after a failed call */
    bool fresh;      /* the figures below were read at read_mono_ms */
    int64_t read_mono_ms;
    uint64_t open[CFD_TIER_COUNT];
    uint64_t timers;
};

cfd_store_gauges *cfd_store_gauges_new(const cfd_config *cfg)
{
    cfd_store_gauges *g = cfd_xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    g->cfg = cfg;
    return g;
}

void cfd_store_gauges_destroy(cfd_store_gauges *g)
{
    if (!g)
        return;
    cfd_inspect_destroy(g->in);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static int count_state(int32_t part, const char *order, const void *buf, size_t len,
                       void *opaque)
{
    cfd_store_gauges *g = opaque;
    cfd_record *rec = NULL;
    char errstr[256];
    (void)part;
    (void)order;
    if (cfd_codec_state_decode(buf, len, &rec, errstr, sizeof(errstr)))
        return 0; /* counted by the worker that meets it (unreadable_states) */
    if (!cfd_record_is_complete(rec) && (unsigned)rec->customer.tier < CFD_TIER_COUNT)
        g->open[rec->customer.tier]++;
    cfd_record_destroy(rec);
    return 0;
}

/* Reads the figures anew. @returns CFD_OK or Redis' error, errstr filled. */
static cfd_err read_figures(cfd_store_gauges *g, char *errstr, size_t errstr_size)
{
    int32_t nparts = 0;
    cfd_err err;
    memset(g->open, 0, sizeof(g->open));
    g->timers = 0;
    if ((err = cfd_inspect_states(g->in, count_state, g, errstr, errstr_size)) ||
        (err = cfd_inspect_partitions(g->in, &nparts, errstr, errstr_size)))
        return err;
    for (int32_t p = 0; p < nparts; p++) {
        cfd_inspect_timer *timers = NULL;
        size_t n = 0;
        if ((err = cfd_inspect_timers(g->in, p, &timers, &n, errstr, errstr_size)))
            return err;
        g->timers += n;
        cfd_inspect_timers_free(timers, n);
    }
    return CFD_OK;
}

void cfd_store_gauges_write(void *opaque, FILE *out)
{
    cfd_store_gauges *g = opaque;
    int64_t now = cfd_monotonic_ms();
    char errstr[512];

    pthread_mutex_lock(&g->lock);
    if (!g->fresh || now - g->read_mono_ms >= STORE_GAUGES_CACHE_MS) {
        const cfd_store_opts opts = cfd_config_store_opts(g->cfg);
        g->fresh = false;
        if (!g->in)
            g->in = cfd_inspect_new(&opts, errstr, sizeof(errstr));
        if (g->in && read_figures(g, errstr, sizeof(errstr)) == CFD_OK) {
            g->fresh = true;
            g->read_mono_ms = now;
        } else {
            cfd_warn(MOD, "store gauges: %s", errstr); /* Redis' words: no order's data */
            cfd_inspect_destroy(g->in);
            g->in = NULL;
        }
    }
    if (g->fresh) {
        fprintf(out, "# HELP confirmd_records_open Work orders open (not closed or "
                     "cancelled) in the store, by tier (store-wide, read every 15 s).\n"
                     "# TYPE confirmd_records_open gauge\n");
        for (int t = 0; t < CFD_TIER_COUNT; t++)
            fprintf(out, "confirmd_records_open{tier=\"%s\"} %" PRIu64 "\n",
                    cfd_tier_name((cfd_tier)t), g->open[t]);
        fprintf(out,
                "# HELP confirmd_timers_pending SLA timers waiting in the store: open "
                "work orders with a warning, breach or escalation to come (store-wide).\n"
                "# TYPE confirmd_timers_pending gauge\nconfirmd_timers_pending %" PRIu64
                "\n",
                g->timers);
    }
    pthread_mutex_unlock(&g->lock);
}

/*
 * Read-only views of the store for operators (confirmctl, the wallboard): a work
 * order's state wherever its partition is, every stored state, the city rule's states,
 * a partition's timers, meta and outbox depth, the simulated clock. Key layout: see
 * confirmd/store.h.
 *
 * It has a connection of its own rather than a cfd_store: it runs read commands only
 * (no script is loaded), so a Redis user limited to +@read (ACL) can use it. It
 * connects as the store does (opts: AUTH, SELECT), and on a Redis Cluster
 * (opts->cluster) through the same router: a partition's reads go to the master of its
 * slot, whole-keyspace scans (cfd_inspect_states) go over every master; a key moving
 * with its slot during a scan may be missed by it.
 */
#ifndef CONFIRMD_INSPECT_H
#define CONFIRMD_INSPECT_H

#include "confirmd/store.h"

/* Partitions probed for a meta hash: partitions 0..CFD_INSPECT_MAX_PARTS-1. */
#define CFD_INSPECT_MAX_PARTS 1024

typedef struct cfd_inspect cfd_inspect;

/* Connects as opts says (AUTH and SELECT included, or a cluster's slot map; strings
 * copied).
 * @returns the handle, or NULL with errstr filled (never the password). */
cfd_inspect *cfd_inspect_new(const cfd_store_opts *opts, char *errstr, size_t errstr_size);

/* NULL-safe. */
void cfd_inspect_destroy(cfd_inspect *in);

/* How many partitions the store knows: 1 + the highest partition with a meta hash
 * (a worker claimed it), 0 when none. One pipelined round trip. */
cfd_err cfd_inspect_partitions(cfd_inspect *in, int32_t *n, char *errstr,
                               size_t errstr_size);

/*
 * Finds order's state among partitions 0..nparts-1 in one pipelined round trip: the
 * order's partition is the one its producer's partitioner chose, which the store
 * cannot know (librdkafka's default hashes keys with CRC32, Java clients with
 * murmur2), so every partition is asked. *part is -1 and state->data NULL when
 * absent; the caller clears state.
 */
cfd_err cfd_inspect_find(cfd_inspect *in, const char *order, int32_t nparts, int32_t *part,
                         cfd_blob *state, char *errstr, size_t errstr_size);

/* Calls fn for every stored work-order state of every partition (SCAN, then the
 * states of each page in one round trip), name being the work order; fn returning
 * nonzero stops early. Costs a pass over the whole keyspace: for operators, not for
 * the worker. */
typedef int (*cfd_inspect_state_fn)(int32_t part, const char *name, const void *buf,
                                    size_t len, void *ctx);
cfd_err cfd_inspect_states(cfd_inspect *in, cfd_inspect_state_fn fn, void *ctx,
                           char *errstr, size_t errstr_size);

/* The same for the multi-customer city rule's states (<prefix>:{pN}:city:<key>, kept
 * by the partition that owns the key): fn gets each stored CityState as it is, name
 * being its "<city>|<service>" key; the caller decodes it
 * (cfd_codec_city_state_decode, confirmd/city_codec.h). */
cfd_err cfd_inspect_city_states(cfd_inspect *in, cfd_inspect_state_fn fn, void *ctx,
                                char *errstr, size_t errstr_size);

/* One SLA timer: the order's next instant. */
typedef struct cfd_inspect_timer {
    char *order; /* owned */
    int64_t at_ms;
} cfd_inspect_timer;

/* Reads every timer of part, earliest first, into *timers (malloc'd; free with
 * cfd_inspect_timers_free). */
cfd_err cfd_inspect_timers(cfd_inspect *in, int32_t part, cfd_inspect_timer **timers,
                           size_t *n, char *errstr, size_t errstr_size);
void cfd_inspect_timers_free(cfd_inspect_timer *timers, size_t n);

/* A partition's bookkeeping. */
typedef struct cfd_inspect_meta {
    int64_t epoch;   /* 0: never claimed */
    char owner[128]; /* who claimed it last, "" when unknown */
    int64_t outbox;  /* outputs not yet delivered */
} cfd_inspect_meta;

cfd_err cfd_inspect_meta_get(cfd_inspect *in, int32_t part, cfd_inspect_meta *out,
                             char *errstr, size_t errstr_size);

/* Calls fn for at most max undelivered outputs of part (HSCAN: any size works). */
cfd_err cfd_inspect_outbox(cfd_inspect *in, int32_t part, size_t max, cfd_outbox_fn fn,
                           void *ctx, char *errstr, size_t errstr_size);

/* Reads the offset of topic that part applied last (*offset = -1: none). */
cfd_err cfd_inspect_applied(cfd_inspect *in, int32_t part, const char *topic,
                            int64_t *offset, char *errstr, size_t errstr_size);

/* Reads the simulated clock (*now_ms = 0 when it is not set). */
cfd_err cfd_inspect_sim_clock(cfd_inspect *in, int64_t *now_ms, char *errstr,
                              size_t errstr_size);

#endif

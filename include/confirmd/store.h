/*
 * The Redis store: the source of truth for what a partition has applied.
 *
 * Every key of a partition carries the hash tag {p<N>} (N = Kafka partition number),
 * so a Redis Cluster keeps a partition's keys on one shard and one script can touch
 * them all atomically:
 *   <prefix>:{pN}:meta         hash: epoch (fencing token), off:<topic> (applied offset)
 *   <prefix>:{pN}:wo:<order>   string: WorkOrderState protobuf
 *   <prefix>:{pN}:outbox       hash: output id -> framed output not yet delivered
 *   <prefix>:{pN}:park:<order> list: framed events waiting for their order to open
 *   <prefix>:{pN}:parkidx      zset: order -> instant its parked events expire
 *   <prefix>:{pN}:timers       zset: order -> next instant its SLA calls for an alert
 *   <prefix>:{pN}:obj:<object> string: the network object's inventory record (Circuit)
 *   <prefix>:{pN}:alm:<object> string: the object's AlarmState
 *   <prefix>:{pN}:city:<city>|<service>  string: the city rule's CityState of that key
 *   <prefix>:{pN}:ctimers      zset: city|service key -> next instant its rule needs a look
 *   <prefix>:clock             string: simulated now (ms), when worker.clock=simulated
 *
 * A cfd_txn collects a batch's writes; cfd_store_commit applies them in one Lua
 * script that first checks the epoch (a zombie worker is fenced) and the offsets
 * (a batch already applied is skipped whole, so retrying after a lost reply is safe).
 */
#ifndef CONFIRMD_STORE_H
#define CONFIRMD_STORE_H

#include "confirmd/frame.h"
#include "confirmd/histogram.h"
#include "confirmd/text.h" /* cfd_strv_free, for cfd_store_due's orders */

typedef struct cfd_store cfd_store;
typedef struct cfd_txn cfd_txn;

typedef struct cfd_blob {
    char *data; /* NULL when absent */
    size_t len;
} cfd_blob;

/* Frees every blob's data and zeroes them. */
void cfd_blobs_clear(cfd_blob *blobs, size_t n);

/* Where and how to reach Redis. The app fills it from [redis] (cfd_config_store_opts). */
typedef struct cfd_store_opts {
    const char *host;
    int port;
    const char *unix_socket;   /* preferred over host/port when set; NULL or "" = none */
    const char *user;          /* NULL or "" = AUTH with the password alone */
    const char *password;      /* NULL or "" = no AUTH; never logged */
    int db;                    /* SELECTed when not 0; must be 0 on a cluster */
    int64_t timeout_ms;        /* connect and command timeout; <= 0 = 2 s */
    const char *key_prefix;    /* every key starts with "<key_prefix>:" */
    bool cluster;              /* a Redis Cluster: host:port is one seed node */
    const char *cluster_seeds; /* more seeds, "host:port[,host:port...]"; NULL or "" */
    int cluster_wait_replicas; /* cluster: WAIT for this many replicas after a commit */
    int64_t cluster_wait_timeout_ms; /* and that long (below timeout_ms) */
} cfd_store_opts;

/*
 * Connects to Redis as opts says (AUTH and SELECT included) and loads the scripts.
 * On a cluster (opts->cluster) every call is routed by its partition's {p<N>} tag (the
 * simulated clock by its own key) to the master of that slot, the scripts are loaded
 * on every master, and a call that finds its partition on another master than the
 * last call did fails once with CFD_ERR_IO, before anything is sent there, so that the
 * caller reconnects and checks what the new master kept (a promoted replica may lack
 * the last writes); a MOVED answered during a call fails it the same way rather than
 * being followed. With cluster_wait_replicas > 0 a commit is acknowledged only once
 * that many replicas have it (WAIT); short of that it fails with CFD_ERR_IO, and the
 * same batch committed again is skipped as applied and waited for once more.
 * The strings of opts are copied.
 * @returns the store, or NULL with errstr filled.
 */
cfd_store *cfd_store_new(const cfd_store_opts *opts, char *errstr, size_t errstr_size);

/* NULL-safe. */
void cfd_store_destroy(cfd_store *st);

/* @returns the durations of the store's round trips to Redis so far (each call: one
 * pipeline, redirections on a cluster included; failed ones too). */
cfd_histogram cfd_store_round_trips(const cfd_store *st);

/* Drops the connection and connects again once; on a cluster, reads the slot map again
 * and takes every partition's current master as known. @returns CFD_OK or CFD_ERR_IO. */
cfd_err cfd_store_reconnect(cfd_store *st, char *errstr, size_t errstr_size);

/*
 * Takes ownership of partition part: increments its epoch, recording owner for
 * operators. Writes by holders of an older epoch are refused from now on.
 * @returns CFD_OK with *epoch set, or CFD_ERR_IO.
 */
cfd_err cfd_store_claim(cfd_store *st, int32_t part, const char *owner, int64_t *epoch,
                        char *errstr, size_t errstr_size);

/* Reads the applied offset of topic/part into *offset (-1 when none). */
cfd_err cfd_store_applied_offset(cfd_store *st, int32_t part, const char *topic,
                                 int64_t *offset, char *errstr, size_t errstr_size);

/* Reads the states and parked events of n work orders in one round trip (a second one
 * only when some order is in the park index, which every park and unpark keeps in the
 * same atomic write: no other park list is read). Needs Redis 6.2 (ZMSCORE). states[i].data is NULL when the order has no state;
 * parked[i] is a malloc'd array of n_parked[i] frames (NULL when none). The caller
 * clears both. */
cfd_err cfd_store_load(cfd_store *st, int32_t part, const char *const *orders, size_t n,
                       cfd_blob *states, cfd_blob **parked, size_t *n_parked, char *errstr,
                       size_t errstr_size);

/* Reads n keys "<kinds[i]>:<names[i]>" of part in one round trip; out[i].data is NULL
 * when absent. The caller clears out. */
cfd_err cfd_store_get(cfd_store *st, int32_t part, const char *const *kinds,
                      const char *const *names, size_t n, cfd_blob *out, char *errstr,
                      size_t errstr_size);

/* Reads the parked events of an order; *items is malloc'd, cleared by the caller. */
cfd_err cfd_store_get_parked(cfd_store *st, int32_t part, const char *order,
                             cfd_blob **items, size_t *n, char *errstr, size_t errstr_size);

typedef enum cfd_due_kind {
    CFD_DUE_PARKED, /* orders whose parked events expire */
    CFD_DUE_TIMER,  /* orders whose SLA calls for an alert */
    CFD_DUE_CITY,   /* city|service keys whose severe-fault rule needs a look */
} cfd_due_kind;

/* The earliest instant anything of part is due (an SLA timer, a city key's timer, a
 * park window): *at_ms, INT64_MAX when nothing is. */
cfd_err cfd_store_next_due(cfd_store *st, int32_t part, int64_t *at_ms, char *errstr,
                           size_t errstr_size);

/* Orders of part due at or before now_ms (at most max, earliest first); *orders is
 * malloc'd, each string too: free with cfd_strv_free. */
cfd_err cfd_store_due(cfd_store *st, int32_t part, cfd_due_kind kind, int64_t now_ms,
                      size_t max, char ***orders, size_t *n, char *errstr,
                      size_t errstr_size);

/* Sets the simulated clock; now_ms <= 0 unsets it (workers fall back to system time). */
cfd_err cfd_store_set_sim_clock(cfd_store *st, int64_t now_ms, char *errstr,
                                size_t errstr_size);

/* Reads the simulated clock (*now_ms = 0 when it is not set). */
cfd_err cfd_store_sim_clock(cfd_store *st, int64_t *now_ms, char *errstr,
                            size_t errstr_size);

/* Calls fn for every undelivered output of part (HSCAN, so any size works). */
typedef void (*cfd_outbox_fn)(const char *id, const void *frame, size_t len, void *ctx);
cfd_err cfd_store_outbox_scan(cfd_store *st, int32_t part, cfd_outbox_fn fn, void *ctx,
                              char *errstr, size_t errstr_size);

/* Removes delivered outputs of part. */
cfd_err cfd_store_outbox_remove(cfd_store *st, int32_t part, const char *const *ids,
                                size_t n, char *errstr, size_t errstr_size);

/* @returns an empty transaction (never NULL, see confirmd/alloc.h); cfd_txn_begin() starts it. */
cfd_txn *cfd_txn_new(void);
void cfd_txn_destroy(cfd_txn *tx);
void cfd_txn_begin(cfd_txn *tx, int32_t part, int64_t epoch);
/* @returns true when nothing but offsets is in it. */
bool cfd_txn_is_empty(const cfd_txn *tx);
size_t cfd_txn_size(const cfd_txn *tx);

/* The applied offset of topic becomes offset (the highest offset of the batch). */
void cfd_txn_offset(cfd_txn *tx, const char *topic, int64_t offset);
void cfd_txn_put_state(cfd_txn *tx, const char *order, const void *buf, size_t len);
/* Sets or deletes the partition's key "<kind>:<name>" (e.g. "obj", "CQ-1"). */
void cfd_txn_put(cfd_txn *tx, const char *kind, const char *name, const void *buf,
                 size_t len);
void cfd_txn_del(cfd_txn *tx, const char *kind, const char *name);
void cfd_txn_outbox(cfd_txn *tx, const char *id, const void *frame, size_t len);
void cfd_txn_park(cfd_txn *tx, const char *order, const void *frame, size_t len,
                  int64_t expire_at_ms);
void cfd_txn_unpark(cfd_txn *tx, const char *order);
/* The order's next SLA instant becomes due_ms; 0 removes its timer. */
void cfd_txn_timer(cfd_txn *tx, const char *order, int64_t due_ms);
/* The city|service key's next instant (CFD_DUE_CITY) becomes due_ms; 0 removes it. */
void cfd_txn_city_timer(cfd_txn *tx, const char *key, int64_t due_ms);
/* @returns the earliest instant a timer or park window the transaction sets is due
 * (INT64_MAX: none), for the worker to wake up then. */
int64_t cfd_txn_next_due(const cfd_txn *tx);

/*
 * Applies tx atomically.
 * @returns CFD_OK (also when its offsets were already applied: nothing is written
 *          twice), CFD_ERR_FENCED (another worker claimed the partition), or
 *          CFD_ERR_IO (connection lost: reconnect and commit the same tx again).
 */
cfd_err cfd_store_commit(cfd_store *st, cfd_txn *tx, char *errstr, size_t errstr_size);

/*
 * Commits sent ahead: a worker sends each partition's batch without waiting, goes on
 * with the next partition's (its reads travel behind the commits and see them), and
 * takes the results later, oldest first, so Redis and the worker work at once. One
 * Redis: the script is queued on the connection and its reply read with the next
 * call's. A Redis Cluster: committed at once through the router (which waits for a
 * replica), the result kept for cfd_store_commit_wait.
 *
 * cfd_store_commit_send() queues tx (kept by the caller until its wait returns).
 * cfd_store_commit_wait() takes the result of the oldest commit sent, tx:
 * @returns as cfd_store_commit(); CFD_ERR_IO when the connection failed before its
 *          reply came: after cfd_store_reconnect() and the caller's check that Redis
 *          kept what it confirmed (cfd_store_applied_offset), cfd_store_resend()
 *          sends every such commit again, in order, and the wait is tried again. Until
 *          then every other call fails with CFD_ERR_IO (it would run without them).
 * cfd_store_resend(): @returns CFD_OK, or CFD_ERR_IO (reconnect and call it again).
 */
void cfd_store_commit_send(cfd_store *st, cfd_txn *tx);
cfd_err cfd_store_commit_wait(cfd_store *st, cfd_txn *tx, char *errstr, size_t errstr_size);
cfd_err cfd_store_resend(cfd_store *st, char *errstr, size_t errstr_size);

#endif

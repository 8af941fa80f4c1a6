/*
 * A small Redis Cluster router on hiredis: the slot map, one connection per master,
 * and the redirections (MOVED, ASK) a cluster answers while slots move or masters
 * fail over. It serves the store's access pattern: every command of a call touches
 * one partition's keys, which share the hash tag {p<N>} and hence one slot.
 *
 * Contract:
 * - The slot map comes from CLUSTER SLOTS, asked of the seeds at cfd_cluster_new()
 *   and of any reachable node (known masters first, then the seeds) whenever it is
 *   refreshed: after a MOVED, after a connection failed, or when a slot has no master.
 * - One connection per master, opened on first use (AUTH when a password is set) and
 *   kept; a connection that fails is dropped and opened again on next use. Other nodes
 *   (seeds, replicas) are asked for CLUSTER SLOTS only, and not kept connected.
 * - MOVED updates the slot's master at once and marks the map for refreshing; ASK
 *   sends ASKING and then the one command to the named node, without touching the map.
 *   A command that got either reply was not executed, so sending it again is exact.
 * - Scripts registered with cfd_cluster_script_add() are loaded on every master
 *   connection when it opens, and again when a master answers NOSCRIPT (a replica
 *   promoted, or a restart without the script cache); the command is then resent.
 * - A redisContext returned by the router stays owned by it and valid until the next
 *   call into the router that may refresh or reconnect (anything but the slot
 *   functions and cfd_cluster_stats()).
 * - Not thread-safe: one router per thread, as for a redisContext.
 * - A database other than 0 does not exist in a cluster.
 */
#ifndef CONFIRMD_CLUSTER_H
#define CONFIRMD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "confirmd/types.h"

#define CFD_CLUSTER_SLOTS 16384

typedef struct cfd_cluster cfd_cluster;

/* Where and how to reach the cluster; the store's [redis] settings fill it. */
typedef struct cfd_cluster_opts {
    const char *seeds;    /* "host:port[,host:port...]": any nodes of the cluster */
    const char *user;     /* NULL or "" = AUTH with the password alone */
    const char *password; /* NULL or "" = no AUTH; never logged */
    int64_t timeout_ms;   /* connect and command timeout per node; <= 0 = 2 s */
    int max_redirects;    /* MOVED/ASK/NOSCRIPT rounds per call; <= 0 = 8 */
} cfd_cluster_opts;

/* What the router has done since it was made, for logs, metrics and tests. */
typedef struct cfd_cluster_stats {
    uint64_t moved;      /* MOVED replies followed */
    uint64_t ask;        /* ASK replies followed */
    uint64_t refreshes;  /* slot maps read (the first included) */
    uint64_t connects;   /* master connections opened */
    uint64_t conn_lost;  /* master connections dropped after an I/O error */
    uint64_t noscript;   /* NOSCRIPT replies answered by loading the scripts */
    uint64_t refused;    /* MOVED replies not followed (cfd_cluster_how.refuse_moved) */
    uint64_t waits;      /* WAITs sent (cfd_cluster_how.wait_replicas) */
    uint64_t wait_short; /* WAITs answered with fewer replicas than asked */
} cfd_cluster_stats;

/* --- slots (pure, no I/O) ------------------------------------------------------------ */

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the cluster's key hash.
 * @returns the CRC of buf[0..len). */
uint16_t cfd_cluster_crc16(const void *buf, size_t len);

/* The slot of a key as the Redis Cluster specification defines it: when the key holds
 * a '{' followed later by a '}' with at least one byte between them, only the bytes
 * between the first '{' and the first '}' after it are hashed.
 * @returns 0..CFD_CLUSTER_SLOTS-1. */
int cfd_cluster_key_slot(const void *key, size_t len);

/* --- the router ---------------------------------------------------------------------- */

/*
 * Asks the seeds, in order, for the slot map. The strings of opts are copied.
 * When a seed answers that it is not a cluster node ("ERR This instance has cluster
 * support disabled"), *not_cluster is set (when not NULL) and NULL returned: the
 * caller falls back to one Redis at that address.
 * @returns the router, or NULL with errstr filled.
 */
cfd_cluster *cfd_cluster_new(const cfd_cluster_opts *opts, bool *not_cluster, char *errstr,
                             size_t errstr_size);

/* Closes every connection. NULL-safe. */
void cfd_cluster_destroy(cfd_cluster *cl);

/* Registers a Lua script for EVALSHA: loaded on every master the router talks to,
 * now and on each new connection. sha gets its SHA1 (40 hex digits and a NUL).
 * @returns CFD_OK, CFD_ERR_IO (a master unreachable: it gets the script when it is
 *          reached) or CFD_ERR (the script was refused). */
cfd_err cfd_cluster_script_add(cfd_cluster *cl, const char *body, char sha[41],
                               char *errstr, size_t errstr_size);

/* Reads the slot map again from any reachable node. @returns CFD_OK or CFD_ERR_IO. */
cfd_err cfd_cluster_refresh(cfd_cluster *cl, char *errstr, size_t errstr_size);

/*
 * The connection to the master of slot, opened (and the map refreshed first) when
 * needed. For callers that pipeline on the connection themselves: they pass each reply
 * to cfd_cluster_redirected() and report a failed connection with cfd_cluster_failed().
 * @returns the connection, or NULL (errstr filled) when the master cannot be reached.
 */
redisContext *cfd_cluster_conn_for_slot(cfd_cluster *cl, int slot, char *errstr,
                                        size_t errstr_size);

/* cfd_cluster_conn_for_slot() for the slot of the NUL-terminated key. */
redisContext *cfd_cluster_conn_for_key(cfd_cluster *cl, const char *key, char *errstr,
                                       size_t errstr_size);

typedef enum cfd_cluster_redirect {
    CFD_CLUSTER_REPLY = 0, /* an answer (perhaps an error): not a redirection */
    CFD_CLUSTER_MOVED,     /* the slot has another master, now in the map: send again */
    CFD_CLUSTER_ASK,       /* send again once, to *ask, preceded by ASKING */
} cfd_cluster_redirect;

/*
 * Looks at one reply of a command sent on a router connection. On MOVED the map is
 * updated; on ASK *ask (when not NULL) gets the connection to the named node (NULL
 * when it cannot be reached: errstr says why).
 * @returns what the caller must do with the command that got r.
 */
cfd_cluster_redirect cfd_cluster_redirected(cfd_cluster *cl, const redisReply *r,
                                            redisContext **ask, char *errstr,
                                            size_t errstr_size);

/* Tells the router that c (one of its connections) failed: it is dropped, and the map
 * is read again before the next use. */
void cfd_cluster_failed(cfd_cluster *cl, redisContext *c);

/* One command of a pipeline: argc binary-safe arguments. */
typedef struct cfd_cluster_cmd {
    int argc;
    const char *const *argv;
    const size_t *lens; /* NULL: each argument is NUL-terminated */
} cfd_cluster_cmd;

/* How a pipeline treats a change of master and the durability of its writes. */
typedef struct cfd_cluster_how {
    /* A MOVED fails the call with CFD_ERR_IO (the map updated, the command not run)
     * instead of being followed: the caller checks the new master before writing. */
    bool refuse_moved;
    /* > 0: each batch sent to a node ends with WAIT wait_replicas wait_timeout_ms on
     * the same connection; when a command of the batch ran and fewer replicas
     * acknowledged, the call fails with CFD_ERR_IO (the writes are done on the master
     * but may not survive its failover). wait_timeout_ms must be below the router's
     * command timeout, or the connection times out first. */
    int wait_replicas;
    int64_t wait_timeout_ms;
} cfd_cluster_how;

/*
 * Sends n commands, all for keys of slot, as one pipeline to the slot's master and
 * reads their n replies into replies[] (freeReplyObject() each). A command answered
 * MOVED, ASK or NOSCRIPT was not executed: it is sent again, alone or with the others
 * so answered, where the answer says (up to max_redirects rounds), so every command is
 * executed once. Commands redirected by an ASK run after those that were not: keep a
 * pipeline to commands whose order between keys does not matter (reads, a script).
 * Error replies other than these are replies: TRYAGAIN (a multi-key command or script
 * whose keys are split between the two masters of a slot being migrated) and
 * CLUSTERDOWN (no master for a slot, during a failover) call for trying again later.
 * how (NULL: MOVED followed, no WAIT) may refuse MOVED and ask for WAIT.
 * @returns CFD_OK with every reply set, or CFD_ERR_IO (a connection failed,
 *          redirections did not end, a MOVED refused or a WAIT fell short: some
 *          commands may have run, every replies[i] is NULL; send again only what is
 *          idempotent, as the store's scripts are).
 */
cfd_err cfd_cluster_pipeline(cfd_cluster *cl, int slot, const cfd_cluster_cmd *cmds,
                             size_t n, const cfd_cluster_how *how, redisReply **replies,
                             char *errstr, size_t errstr_size);

/* cfd_cluster_pipeline() of one command, routed by the slot of key.
 * @returns the reply (free it), or NULL with errstr filled (see CFD_ERR_IO above). */
redisReply *cfd_cluster_command(cfd_cluster *cl, const char *key, int argc,
                                const char *const *argv, const size_t *lens, char *errstr,
                                size_t errstr_size);

/* Copies the router's counters into *out. */
void cfd_cluster_stats_get(const cfd_cluster *cl, cfd_cluster_stats *out);

/* @returns the number of masters in the map. */
size_t cfd_cluster_masters(const cfd_cluster *cl);

/* Copies "host:port" of slot's master, as the map has it, to out ("" when none). */
void cfd_cluster_slot_master(const cfd_cluster *cl, int slot, char *out, size_t n);

#endif

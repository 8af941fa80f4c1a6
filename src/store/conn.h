/*
 * Reaching Redis, shared by the store (src/store/store.c) and its read-only views
 * (src/store/inspect.c): one connection to one Redis with AUTH and SELECT, or the
 * router of a Redis Cluster, both as cfd_store_opts say, and the error text of a
 * failed reply. Private to the store layer.
 */
#ifndef CFD_STORE_CONN_H
#define CFD_STORE_CONN_H

#include <hiredis/hiredis.h>

#include "confirmd/cluster.h"
#include "confirmd/store.h"

/*
 * Connects to the one Redis opts names (its unix socket when set, else TCP with
 * keepalive), with opts' timeout for the connect and every command, then AUTH (when a
 * password is set) and SELECT (when db is not 0).
 * @returns CFD_OK with *out set (redisFree() it), or CFD_ERR_IO (unreachable, or a
 *          transient answer) or CFD_ERR (refused) with errstr filled, never with the
 *          password.
 */
cfd_err cfd_conn_open(const cfd_store_opts *opts, redisContext **out, char *errstr,
                      size_t errstr_size);

/*
 * The router of the Redis Cluster opts names: host:port the first seed, then
 * cluster_seeds; the same timeout and credentials. Refuses a db other than 0 and a
 * unix socket (CFD_ERR_CONFIG), and a node with cluster support disabled.
 * @returns the router (cfd_cluster_destroy() it), or NULL with *err and errstr set.
 */
cfd_cluster *cfd_conn_cluster(const cfd_store_opts *opts, cfd_err *err, char *errstr,
                              size_t errstr_size);

/*
 * Fills errstr from r, the failed reply of what (NULL: the connection rc failed; rc
 * may be NULL too).
 * @returns CFD_ERR_IO for a lost connection or the answer of a Redis that cannot serve
 *          yet (LOADING, BUSY, MASTERDOWN; on a cluster TRYAGAIN, CLUSTERDOWN), which
 *          calls for trying again; CFD_ERR otherwise.
 */
cfd_err cfd_conn_error(const redisContext *rc, const redisReply *r, const char *what,
                       char *errstr, size_t errstr_size);

/* Queues n commands on rc's output buffer (cfd_conn_read sends them). */
void cfd_conn_append(redisContext *rc, const cfd_cluster_cmd *cmds, size_t n);

/* Sends what rc has queued and reads n replies into replies[] (freed by the caller).
 * @returns CFD_OK with every reply set, or CFD_ERR_IO with every replies[i] NULL. */
cfd_err cfd_conn_read(redisContext *rc, size_t n, redisReply **replies, const char *what,
                      char *errstr, size_t errstr_size);

/* Sends n commands as one pipeline on rc and reads every reply into replies[] (freed by
 * the caller), so the connection stays in step.
 * @returns CFD_OK with every reply set, or CFD_ERR_IO with every replies[i] NULL. */
cfd_err cfd_conn_pipeline(redisContext *rc, const cfd_cluster_cmd *cmds, size_t n,
                          redisReply **replies, const char *what, char *errstr,
                          size_t errstr_size);

#endif

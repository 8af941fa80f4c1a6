/*
 * Reaching Redis, shared by the store and its read-only views; see conn.h.
 */
#include "conn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "resp.h"

cfd_err cfd_conn_error(const redisContext *rc, const redisReply *r, const char *what,
                       char *errstr, size_t errstr_size)
{
    if (!r) {
        snprintf(errstr, errstr_size, "redis %s: %s", what,
                 rc && rc->errstr[0] ? rc->errstr : "connection lost");
        return CFD_ERR_IO;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        /* Answers of a Redis that is up but cannot serve yet (loading its data after a
         * restart, running a long script, a replica without its master; on a cluster,
         * a slot without a master during a failover or a script whose keys are split by
         * a slot migration): wait and try again, as for a lost connection, rather than
         * stop. */
        static const char *const transient[] = {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
                                                "CLUSTERDOWN"};
        snprintf(errstr, errstr_size, "redis %s: %s", what, r->str);
        for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
            if (strncmp(r->str, transient[i], strlen(transient[i])) == 0)
                return CFD_ERR_IO;
        return CFD_ERR;
    }
    snprintf(errstr, errstr_size, "redis %s: unexpected reply type %d", what, r->type);
    return CFD_ERR;
}

/* Runs one command of setup (AUTH, SELECT) on c. @returns CFD_OK or its error. */
static cfd_err setup_cmd(redisContext *c, redisReply *r, const char *what, char *errstr,
                         size_t errstr_size)
{
    cfd_err err = CFD_OK;
    if (!r || r->type == REDIS_REPLY_ERROR) /* the reply never holds the password */
        err = cfd_conn_error(c, r, what, errstr, errstr_size);
    freeReplyObject(r);
    return err;
}

cfd_err cfd_conn_open(const cfd_store_opts *o, redisContext **out, char *errstr,
                      size_t errstr_size)
{
    int64_t ms = o->timeout_ms > 0 ? o->timeout_ms : 2000;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    bool unix_socket = o->unix_socket && *o->unix_socket;
    redisContext *c = unix_socket ? redisConnectUnixWithTimeout(o->unix_socket, tv)
                                  : redisConnectWithTimeout(o->host, o->port, tv);
    cfd_err err = CFD_OK;

    *out = NULL;
    if (!c || c->err) {
        snprintf(errstr, errstr_size, "redis connect %s:%d: %s",
                 unix_socket ? o->unix_socket : o->host, o->port,
                 c ? c->errstr : "out of memory");
        err = CFD_ERR_IO;
        goto out;
    }
    redisSetTimeout(c, tv);
    /* TCP only: on a unix socket the option fails and leaves the context in error. */
    if (!unix_socket)
        redisEnableKeepAlive(c);
    if (o->password && *o->password &&
        (err = setup_cmd(c,
                         o->user && *o->user
                             ? redisCommand(c, "AUTH %s %s", o->user, o->password)
                             : redisCommand(c, "AUTH %s", o->password),
                         "AUTH", errstr, errstr_size)))
        goto out;
    if (o->db && (err = setup_cmd(c, redisCommand(c, "SELECT %d", o->db), "SELECT", errstr,
                                  errstr_size)))
        goto out;
    *out = c;
    c = NULL;
out:
    if (c)
        redisFree(c);
    return err;
}

cfd_cluster *cfd_conn_cluster(const cfd_store_opts *o, cfd_err *err, char *errstr,
                              size_t errstr_size)
{
    *err = CFD_ERR_CONFIG;
    if (o->db != 0) {
        snprintf(errstr, errstr_size,
                 "redis.db is %d: a Redis Cluster has database 0 only (set redis.db = 0)",
                 o->db);
        return NULL;
    }
    if (o->unix_socket && *o->unix_socket) {
        snprintf(errstr, errstr_size,
                 "redis.unix_socket is set: a Redis Cluster is reached over TCP only "
                 "(redis.host and redis.port name a seed node)");
        return NULL;
    }
    const char *more = o->cluster_seeds ? o->cluster_seeds : "";
    size_t len = strlen(o->host) + strlen(more) + 16;
    char *seeds = cfd_xmalloc(len);
    snprintf(seeds, len, "%s:%d%s%s", o->host, o->port, *more ? "," : "", more);
    cfd_cluster_opts co = {.seeds = seeds,
                           .user = o->user,
                           .password = o->password,
                           .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 2000};
    bool not_cluster = false;
    cfd_cluster *cl = cfd_cluster_new(&co, &not_cluster, errstr, errstr_size);
    free(seeds); /* copied by the router */
    if (!cl && not_cluster)
        snprintf(errstr, errstr_size,
                 "redis.cluster is on but %s:%d has cluster support disabled", o->host,
                 o->port);
    *err = cl ? CFD_OK : not_cluster ? CFD_ERR_CONFIG : CFD_ERR_IO;
    return cl;
}

void cfd_conn_append(redisContext *rc, const cfd_cluster_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cfd_resp_append(rc, cmds[i].argc, cmds[i].argv, cmds[i].lens);
}

cfd_err cfd_conn_read(redisContext *rc, size_t n, redisReply **replies, const char *what,
                      char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    /* Read every reply, so the pipeline stays in step. */
    for (size_t i = 0; i < n; i++)
        if (redisGetReply(rc, (void **)&replies[i]) != REDIS_OK) {
            for (size_t k = 0; k < n; k++) {
                freeReplyObject(replies[k]);
                replies[k] = NULL;
            }
            return cfd_conn_error(rc, NULL, what, errstr, errstr_size);
        }
    return CFD_OK;
}

cfd_err cfd_conn_pipeline(redisContext *rc, const cfd_cluster_cmd *cmds, size_t n,
                          redisReply **replies, const char *what, char *errstr,
                          size_t errstr_size)
{
    cfd_conn_append(rc, cmds, n);
    return cfd_conn_read(rc, n, replies, what, errstr, errstr_size);
}

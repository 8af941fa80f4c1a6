/*
 * The Redis Cluster router: slot map, master connections, redirections.
 * See include/confirmd/cluster.h for the contract.
 */
#include "confirmd/cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "confirmd/alloc.h"
#include "confirmd/log.h"
#include "resp.h"

#define MOD "cluster"

/* A node the router has heard of: a seed, a master of the map, a redirection's target.
 * Nodes are never removed, so an index into cl->nodes names one for good. */
typedef struct cl_node {
    char *host;
    int port;
    redisContext *rc; /* NULL until used, or after it failed */
    size_t n_loaded;  /* scripts loaded on rc: cl->scripts[0..n_loaded) */
    bool master;      /* owns slots in the current map */
} cl_node;

struct cfd_cluster {
    char *user;
    char *password;
    int64_t timeout_ms;
    int max_redirects;
    cl_node *nodes;
    size_t n_nodes, cap_nodes;
    int32_t slots[CFD_CLUSTER_SLOTS]; /* node index of each slot's master, -1 none */
    bool stale;                       /* read the map again before the next use */
    char **scripts;                   /* bodies, loaded on every master */
    size_t n_scripts;
    cfd_cluster_stats stats;
};

/* --- slots --------------------------------------------------------------------------- */

uint16_t cfd_cluster_crc16(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int cfd_cluster_key_slot(const void *key, size_t len)
{
    const char *k = key;
    const char *open = memchr(k, '{', len);
    if (open) {
        size_t from = (size_t)(open - k) + 1;
        const char *close = memchr(k + from, '}', len - from);
        if (close && close > k + from) {
            k += from;
            len = (size_t)(close - k);
        }
    }
    return cfd_cluster_crc16(k, len) & (CFD_CLUSTER_SLOTS - 1);
}

/* --- nodes and connections ----------------------------------------------------------- */

/* @returns the index of host:port, added when new. */
static size_t node_get(cfd_cluster *cl, const char *host, size_t host_len, int port)
{
    for (size_t i = 0; i < cl->n_nodes; i++)
        if (cl->nodes[i].port == port && strlen(cl->nodes[i].host) == host_len &&
            memcmp(cl->nodes[i].host, host, host_len) == 0)
            return i;
    if (cl->n_nodes == cl->cap_nodes) {
        cl->cap_nodes = cl->cap_nodes ? cl->cap_nodes * 2 : 8;
        cl->nodes = cfd_xrealloc(cl->nodes, cl->cap_nodes * sizeof(*cl->nodes));
    }
    cl->nodes[cl->n_nodes] = (cl_node){.host = cfd_xstrndup(host, host_len), .port = port};
    return cl->n_nodes++;
}

/* Parses "host:port" (the last colon splits, so an IPv6 host works) into a node.
 * @returns its index, or -1 when s is not an address. */
static long node_parse(cfd_cluster *cl, const char *s, size_t len)
{
    const char *colon = NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ':')
            colon = s + i;
    if (!colon || colon == s)
        return -1;
    char port_s[8];
    size_t plen = len - (size_t)(colon + 1 - s);
    if (plen == 0 || plen >= sizeof(port_s))
        return -1;
    memcpy(port_s, colon + 1, plen);
    port_s[plen] = '\0';
    char *end;
    long port = strtol(port_s, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return -1;
    return (long)node_get(cl, s, (size_t)(colon - s), (int)port);
}

static void node_drop(cl_node *nd)
{
    if (nd->rc)
        redisFree(nd->rc);
    nd->rc = NULL;
    nd->n_loaded = 0;
}

/* @returns CFD_OK when r is a reply of the wanted type; else fills errstr. */
static cfd_err reply_check(const redisContext *c, const redisReply *r, int type,
                           const char *what, const cl_node *nd, char *errstr,
                           size_t errstr_size)
{
    if (r && r->type == type)
        return CFD_OK;
    if (!r) {
        snprintf(errstr, errstr_size, "redis %s:%d %s: %s", nd->host, nd->port, what,
                 c && c->errstr[0] ? c->errstr : "connection lost");
        return CFD_ERR_IO;
    }
    if (r->type == REDIS_REPLY_ERROR)
        snprintf(errstr, errstr_size, "redis %s:%d %s: %s", nd->host, nd->port, what,
                 r->str);
    else
        snprintf(errstr, errstr_size, "redis %s:%d %s: unexpected reply type %d", nd->host,
                 nd->port, what, r->type);
    return CFD_ERR;
}

/* Opens nd's connection when it has none (AUTH included). @returns it, or NULL. */
static redisContext *node_conn(cfd_cluster *cl, cl_node *nd, char *errstr,
                               size_t errstr_size)
{
    if (nd->rc)
        return nd->rc;
    struct timeval tv = {.tv_sec = cl->timeout_ms / 1000,
                         .tv_usec = (cl->timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(nd->host, nd->port, tv);
    if (!c || c->err) {
        snprintf(errstr, errstr_size, "redis connect %s:%d: %s", nd->host, nd->port,
                 c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    redisEnableKeepAlive(c);
    if (*cl->password) {
        redisReply *r = *cl->user ? redisCommand(c, "AUTH %s %s", cl->user, cl->password)
                                  : redisCommand(c, "AUTH %s", cl->password);
        /* The reply text never contains the password. */
        cfd_err err =
            reply_check(c, r, REDIS_REPLY_STATUS, "AUTH", nd, errstr, errstr_size);
        freeReplyObject(r);
        if (err) {
            redisFree(c);
            return NULL;
        }
    }
    nd->rc = c;
    nd->n_loaded = 0;
    cl->stats.connects++;
    return c;
}

/* Loads the scripts nd's connection has not loaded yet.
 * @returns CFD_OK, CFD_ERR_IO (the connection is dropped) or CFD_ERR. */
static cfd_err node_load_scripts(cfd_cluster *cl, cl_node *nd, char *errstr,
                                 size_t errstr_size)
{
    while (nd->n_loaded < cl->n_scripts) {
        redisReply *r = redisCommand(nd->rc, "SCRIPT LOAD %s", cl->scripts[nd->n_loaded]);
        cfd_err err = reply_check(nd->rc, r, REDIS_REPLY_STRING, "SCRIPT LOAD", nd, errstr,
                                  errstr_size);
        freeReplyObject(r);
        if (err) {
            if (err == CFD_ERR_IO)
                cfd_cluster_failed(cl, nd->rc);
            return err;
        }
        nd->n_loaded++;
    }
    return CFD_OK;
}

/* A master's connection with every script loaded. @returns it, or NULL. */
static redisContext *master_conn(cfd_cluster *cl, cl_node *nd, char *errstr,
                                 size_t errstr_size)
{
    if (!node_conn(cl, nd, errstr, errstr_size) ||
        node_load_scripts(cl, nd, errstr, errstr_size) != CFD_OK) {
        cl->stale = true;
        return NULL;
    }
    return nd->rc;
}

/* --- the slot map -------------------------------------------------------------------- */

/*
 * Reads CLUSTER SLOTS from node idx into cl->slots.
 * @returns CFD_OK, CFD_ERR_CONFIG when the node is no cluster node, CFD_ERR_IO or
 *          CFD_ERR.
 */
static cfd_err map_read(cfd_cluster *cl, size_t idx, char *errstr, size_t errstr_size)
{
    redisContext *c = node_conn(cl, &cl->nodes[idx], errstr, errstr_size);
    if (!c)
        return CFD_ERR_IO;
    redisReply *r = redisCommand(c, "CLUSTER SLOTS");
    cfd_err err = reply_check(c, r, REDIS_REPLY_ARRAY, "CLUSTER SLOTS", &cl->nodes[idx],
                              errstr, errstr_size);
    if (err) {
        if (err == CFD_ERR_IO)
            cfd_cluster_failed(cl, c);
        else if (r && r->type == REDIS_REPLY_ERROR &&
                 strstr(r->str, "cluster support disabled"))
            err = CFD_ERR_CONFIG;
        freeReplyObject(r);
        return err;
    }
    int32_t *slots = cfd_xmalloc(sizeof(cl->slots));
    for (size_t s = 0; s < CFD_CLUSTER_SLOTS; s++)
        slots[s] = -1;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
            continue;
        long long from = e->element[0]->integer, to = e->element[1]->integer;
        const redisReply *host = e->element[2]->element[0];
        /* No endpoint, or "?": the node is reached where we asked, on its own port. */
        const char *h = cl->nodes[idx].host;
        size_t hlen = strlen(h);
        if (host->type == REDIS_REPLY_STRING && host->len > 0 &&
            strcmp(host->str, "?") != 0) {
            h = host->str;
            hlen = host->len;
        }
        long long port = e->element[2]->element[1]->integer;
        if (from < 0 || to >= CFD_CLUSTER_SLOTS || from > to || port <= 0 || port > 65535)
            continue;
        size_t m = node_get(cl, h, hlen, (int)port); /* may move cl->nodes */
        for (long long s = from; s <= to; s++)
            slots[s] = (int32_t)m;
    }
    freeReplyObject(r);
    memcpy(cl->slots, slots, sizeof(cl->slots));
    free(slots);
    for (size_t i = 0; i < cl->n_nodes; i++)
        cl->nodes[i].master = false;
    for (size_t s = 0; s < CFD_CLUSTER_SLOTS; s++)
        if (cl->slots[s] >= 0)
            cl->nodes[cl->slots[s]].master = true;
    /* Connections are kept to masters only. */
    for (size_t i = 0; i < cl->n_nodes; i++)
        if (!cl->nodes[i].master)
            node_drop(&cl->nodes[i]);
    cl->stale = false;
    cl->stats.refreshes++;
    cfd_debug(MOD, "slot map read from %s:%d: %zu masters", cl->nodes[idx].host,
              cl->nodes[idx].port, cfd_cluster_masters(cl));
    return CFD_OK;
}

cfd_err cfd_cluster_refresh(cfd_cluster *cl, char *errstr, size_t errstr_size)
{
    /* Masters of the map first (they know it best), then every other node: the seeds,
     * replicas promoted since, targets of redirections. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cl->n_nodes; i++) {
            if (cl->nodes[i].master != (pass == 0))
                continue;
            if (map_read(cl, i, errstr, errstr_size) == CFD_OK)
                return CFD_OK;
        }
    }
    cl->stale = true;
    return CFD_ERR_IO;
}

/* --- the router ---------------------------------------------------------------------- */

cfd_cluster *cfd_cluster_new(const cfd_cluster_opts *opts, bool *not_cluster, char *errstr,
                             size_t errstr_size)
{
    cfd_cluster *cl = cfd_xcalloc(1, sizeof(*cl));
    cl->user = cfd_xstrdup(opts->user);
    cl->password = cfd_xstrdup(opts->password);
    cl->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 2000;
    cl->max_redirects = opts->max_redirects > 0 ? opts->max_redirects : 8;
    for (size_t s = 0; s < CFD_CLUSTER_SLOTS; s++)
        cl->slots[s] = -1;
    if (not_cluster)
        *not_cluster = false;

    const char *p = opts->seeds ? opts->seeds : "";
    while (*p) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len == 0)
            break;
        if (node_parse(cl, p, len) < 0) {
            snprintf(errstr, errstr_size, "redis cluster seed \"%.*s\": not host:port",
                     (int)len, p);
            goto fail;
        }
        p += len;
    }
    if (cl->n_nodes == 0) {
        snprintf(errstr, errstr_size, "redis cluster: no seed node");
        goto fail;
    }
    snprintf(errstr, errstr_size, "redis cluster: no seed answered");
    for (size_t i = 0; i < cl->n_nodes; i++) {
        cfd_err err = map_read(cl, i, errstr, errstr_size);
        if (err == CFD_OK) {
            cfd_info(MOD, "slot map read from %s:%d: %zu masters", cl->nodes[i].host,
                     cl->nodes[i].port, cfd_cluster_masters(cl));
            return cl;
        }
        if (err == CFD_ERR_CONFIG) {
            if (not_cluster)
                *not_cluster = true;
            goto fail;
        }
    }
fail:
    cfd_cluster_destroy(cl);
    return NULL;
}

void cfd_cluster_destroy(cfd_cluster *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < cl->n_nodes; i++) {
        node_drop(&cl->nodes[i]);
        free(cl->nodes[i].host);
    }
    for (size_t i = 0; i < cl->n_scripts; i++)
        free(cl->scripts[i]);
    free(cl->scripts);
    free(cl->nodes);
    free(cl->user);
    free(cl->password);
    free(cl);
}

cfd_err cfd_cluster_script_add(cfd_cluster *cl, const char *body, char sha[41],
                               char *errstr, size_t errstr_size)
{
    if (cl->stale)
        cfd_cluster_refresh(cl, errstr, errstr_size);
    sha[0] = '\0';
    cfd_err result = CFD_OK;
    for (size_t i = 0; i < cl->n_nodes; i++) {
        cl_node *nd = &cl->nodes[i];
        if (!nd->master)
            continue;
        /* Loaded here at once, to learn its SHA1; later masters at their connection. */
        if (!master_conn(cl, nd, errstr, errstr_size)) {
            result = CFD_ERR_IO;
            continue;
        }
        redisReply *r = redisCommand(nd->rc, "SCRIPT LOAD %s", body);
        cfd_err err = reply_check(nd->rc, r, REDIS_REPLY_STRING, "SCRIPT LOAD", nd, errstr,
                                  errstr_size);
        if (!err && r->len != 40)
            err = CFD_ERR;
        if (!err)
            memcpy(sha, r->str, 41);
        freeReplyObject(r);
        if (err == CFD_ERR_IO)
            cfd_cluster_failed(cl, nd->rc);
        if (err == CFD_ERR)
            return err;
        if (err)
            result = err;
    }
    if (!sha[0]) {
        if (result == CFD_OK)
            snprintf(errstr, errstr_size, "redis cluster: no master to load a script on");
        return CFD_ERR_IO;
    }
    cl->scripts = cfd_xrealloc(cl->scripts, (cl->n_scripts + 1) * sizeof(*cl->scripts));
    cl->scripts[cl->n_scripts++] = cfd_xstrdup(body);
    /* Masters reached above hold it already. */
    for (size_t i = 0; i < cl->n_nodes; i++)
        if (cl->nodes[i].rc && cl->nodes[i].n_loaded + 1 == cl->n_scripts)
            cl->nodes[i].n_loaded++;
    return result;
}

/* @returns the index of slot's master, reading the map first when it is stale or has
 * none, or -1 (errstr filled). */
static long slot_node(cfd_cluster *cl, int slot, char *errstr, size_t errstr_size)
{
    if (slot < 0 || slot >= CFD_CLUSTER_SLOTS) {
        snprintf(errstr, errstr_size, "redis cluster: no slot %d", slot);
        return -1;
    }
    if ((cl->stale || cl->slots[slot] < 0) &&
        cfd_cluster_refresh(cl, errstr, errstr_size) != CFD_OK && cl->slots[slot] < 0)
        return -1;
    if (cl->slots[slot] < 0) {
        snprintf(errstr, errstr_size, "redis cluster: slot %d has no master", slot);
        return -1;
    }
    return cl->slots[slot];
}

redisContext *cfd_cluster_conn_for_slot(cfd_cluster *cl, int slot, char *errstr,
                                        size_t errstr_size)
{
    long idx = slot_node(cl, slot, errstr, errstr_size);
    return idx < 0 ? NULL : master_conn(cl, &cl->nodes[idx], errstr, errstr_size);
}

redisContext *cfd_cluster_conn_for_key(cfd_cluster *cl, const char *key, char *errstr,
                                       size_t errstr_size)
{
    return cfd_cluster_conn_for_slot(cl, cfd_cluster_key_slot(key, strlen(key)), errstr,
                                     errstr_size);
}

/*
 * Classifies r; on MOVED updates the map. *target gets the index of the node named
 * (-1 when the reply names none: the map must be read again).
 */
static cfd_cluster_redirect redirect_parse(cfd_cluster *cl, const redisReply *r,
                                           long *target)
{
    *target = -1;
    if (!r || r->type != REDIS_REPLY_ERROR)
        return CFD_CLUSTER_REPLY;
    bool moved = strncmp(r->str, "MOVED ", 6) == 0;
    if (!moved && strncmp(r->str, "ASK ", 4) != 0)
        return CFD_CLUSTER_REPLY;
    /* "MOVED|ASK <slot> <host>:<port>" */
    char *end;
    long slot = strtol(r->str + strcspn(r->str, " "), &end, 10);
    while (*end == ' ')
        end++;
    *target = node_parse(cl, end, strlen(end));
    cfd_debug(MOD, "%s", r->str);
    if (!moved) {
        cl->stats.ask++;
        if (*target < 0)
            cl->stale = true;
        return CFD_CLUSTER_ASK;
    }
    if (*target >= 0 && slot >= 0 && slot < CFD_CLUSTER_SLOTS) {
        cl->slots[slot] = (int32_t)*target;
        cl->nodes[*target].master = true;
    }
    cl->stale = true; /* other slots may have moved with it */
    cl->stats.moved++;
    return CFD_CLUSTER_MOVED;
}

cfd_cluster_redirect cfd_cluster_redirected(cfd_cluster *cl, const redisReply *r,
                                            redisContext **ask, char *errstr,
                                            size_t errstr_size)
{
    long target;
    cfd_cluster_redirect kind = redirect_parse(cl, r, &target);
    if (ask)
        *ask = NULL;
    if (kind == CFD_CLUSTER_ASK && target < 0)
        snprintf(errstr, errstr_size, "redis cluster: %s: no address", r->str);
    else if (kind == CFD_CLUSTER_ASK && ask)
        *ask = master_conn(cl, &cl->nodes[target], errstr, errstr_size);
    return kind;
}

void cfd_cluster_failed(cfd_cluster *cl, redisContext *c)
{
    for (size_t i = 0; i < cl->n_nodes; i++) {
        if (c && cl->nodes[i].rc == c) {
            cfd_warn(MOD, "connection to %s:%d lost: %s", cl->nodes[i].host,
                     cl->nodes[i].port, c->errstr[0] ? c->errstr : "protocol error");
            node_drop(&cl->nodes[i]);
            cl->stats.conn_lost++;
        }
    }
    cl->stale = true;
}

/* --- pipelines ----------------------------------------------------------------------- */

/* A command still to send, and where: the slot's master (ask -1) or an ASK target. */
typedef struct pending {
    size_t cmd;
    long ask;
} pending;

/*
 * Sends the commands of todo[] that go to target (ASKING before each when it is an ASK
 * target), reads their replies, and keeps in next[] those to send again.
 * @returns CFD_OK or CFD_ERR_IO.
 */
static cfd_err send_batch(cfd_cluster *cl, int slot, long target,
                          const cfd_cluster_cmd *cmds, const cfd_cluster_how *how,
                          const pending *todo, size_t n_todo, bool *sent,
                          redisReply **replies, pending *next, size_t *n_next, char *errstr,
                          size_t errstr_size)
{
    bool asking = target >= 0, ran = false;
    long key = target;
    cfd_err err = CFD_OK;
    char wait_n[16], wait_ms[24];
    snprintf(wait_n, sizeof(wait_n), "%d", how ? how->wait_replicas : 0);
    snprintf(wait_ms, sizeof(wait_ms), "%" PRId64, how ? how->wait_timeout_ms : 0);
    if (!asking && (target = slot_node(cl, slot, errstr, errstr_size)) < 0)
        return CFD_ERR_IO;
    /* An index, not a pointer: a redirection to a new node may move cl->nodes. */
    redisContext *c = master_conn(cl, &cl->nodes[target], errstr, errstr_size);
    if (!c)
        return CFD_ERR_IO;
    for (size_t i = 0; i < n_todo; i++) {
        if (sent[i] || todo[i].ask != key)
            continue;
        const cfd_cluster_cmd *cmd = &cmds[todo[i].cmd];
        if (asking)
            redisAppendCommand(c, "ASKING");
        cfd_resp_append(c, cmd->argc, cmd->argv, cmd->lens);
    }
    /* On the same connection, so it waits for this batch's writes (and all before). */
    if (how && how->wait_replicas > 0)
        redisAppendCommand(c, "WAIT %s %s", wait_n, wait_ms);
    /* Read every reply even after a redirection, so the pipeline stays in step. */
    for (size_t i = 0; i < n_todo; i++) {
        if (sent[i] || todo[i].ask != key)
            continue;
        sent[i] = true;
        redisReply *r = NULL;
        if (asking) {
            if (redisGetReply(c, (void **)&r) != REDIS_OK)
                goto lost;
            freeReplyObject(r);
            r = NULL;
        }
        if (redisGetReply(c, (void **)&r) != REDIS_OK)
            goto lost;
        pending again = todo[i];
        switch (redirect_parse(cl, r, &again.ask)) {
        case CFD_CLUSTER_MOVED:
            if (how && how->refuse_moved) {
                snprintf(errstr, errstr_size, "redis cluster: %s (not followed)", r->str);
                cl->stats.refused++;
                err = CFD_ERR_IO;
                freeReplyObject(r);
                continue;
            }
            again.ask = -1;
            break;
        case CFD_CLUSTER_ASK:
            if (again.ask < 0) {
                snprintf(errstr, errstr_size, "redis cluster: %s: no address", r->str);
                err = CFD_ERR_IO;
                freeReplyObject(r);
                continue;
            }
            break;
        case CFD_CLUSTER_REPLY:
            if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
                /* A promoted replica, or a restart: load the scripts again. */
                cl->nodes[target].n_loaded = 0;
                cl->stats.noscript++;
                again.ask = key;
                break;
            }
            replies[todo[i].cmd] = r;
            ran = true;
            continue;
        }
        freeReplyObject(r);
        next[(*n_next)++] = again;
    }
    if (how && how->wait_replicas > 0) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK)
            goto lost;
        cl->stats.waits++;
        if (ran && !err &&
            (r->type != REDIS_REPLY_INTEGER || r->integer < how->wait_replicas)) {
            if (r->type == REDIS_REPLY_INTEGER)
                snprintf(errstr, errstr_size,
                         "redis %s:%d WAIT: %lld of %d replicas acknowledged in %s ms",
                         cl->nodes[target].host, cl->nodes[target].port, r->integer,
                         how->wait_replicas, wait_ms);
            else
                snprintf(errstr, errstr_size, "redis %s:%d WAIT: %s",
                         cl->nodes[target].host, cl->nodes[target].port,
                         r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            cl->stats.wait_short++;
            err = CFD_ERR_IO;
        }
        freeReplyObject(r);
    }
    return err;
lost:
    snprintf(errstr, errstr_size, "redis %s:%d: %s", cl->nodes[target].host,
             cl->nodes[target].port, c->errstr[0] ? c->errstr : "connection lost");
    cfd_cluster_failed(cl, c);
    return CFD_ERR_IO;
}

cfd_err cfd_cluster_pipeline(cfd_cluster *cl, int slot, const cfd_cluster_cmd *cmds,
                             size_t n, const cfd_cluster_how *how, redisReply **replies,
                             char *errstr, size_t errstr_size)
{
    pending *todo = cfd_xmalloc(sizeof(*todo) * (n ? n : 1));
    pending *next = cfd_xmalloc(sizeof(*next) * (n ? n : 1));
    bool *sent = cfd_xmalloc(sizeof(*sent) * (n ? n : 1));
    size_t n_todo = n;
    cfd_err err = CFD_OK;

    for (size_t i = 0; i < n; i++) {
        replies[i] = NULL;
        todo[i] = (pending){.cmd = i, .ask = -1};
    }
    for (int round = 0; n_todo > 0 && !err; round++) {
        if (round > cl->max_redirects) {
            snprintf(errstr, errstr_size,
                     "redis cluster: slot %d: more than %d redirections", slot,
                     cl->max_redirects);
            err = CFD_ERR_IO;
            break;
        }
        size_t n_next = 0;
        memset(sent, 0, sizeof(*sent) * n_todo);
        /* One batch per target, in the order the commands first name them. */
        for (size_t i = 0; i < n_todo && !err; i++)
            if (!sent[i])
                err = send_batch(cl, slot, todo[i].ask, cmds, how, todo + i, n_todo - i,
                                 sent + i, replies, next, &n_next, errstr, errstr_size);
        pending *t = todo;
        todo = next;
        next = t;
        n_todo = n_next;
    }
    if (err) {
        for (size_t i = 0; i < n; i++) {
            freeReplyObject(replies[i]);
            replies[i] = NULL;
        }
    }
    free(todo);
    free(next);
    free(sent);
    return err;
}

redisReply *cfd_cluster_command(cfd_cluster *cl, const char *key, int argc,
                                const char *const *argv, const size_t *lens, char *errstr,
                                size_t errstr_size)
{
    cfd_cluster_cmd cmd = {.argc = argc, .argv = argv, .lens = lens};
    redisReply *r = NULL;
    if (cfd_cluster_pipeline(cl, cfd_cluster_key_slot(key, strlen(key)), &cmd, 1, NULL, &r,
                             errstr, errstr_size) != CFD_OK)
        return NULL;
    return r;
}

/* --- what the router knows ----------------------------------------------------------- */

void cfd_cluster_stats_get(const cfd_cluster *cl, cfd_cluster_stats *out)
{
    *out = cl->stats;
}

size_t cfd_cluster_masters(const cfd_cluster *cl)
{
    size_t n = 0;
    for (size_t i = 0; i < cl->n_nodes; i++)
        n += cl->nodes[i].master;
    return n;
}

void cfd_cluster_slot_master(const cfd_cluster *cl, int slot, char *out, size_t n)
{
    if (slot < 0 || slot >= CFD_CLUSTER_SLOTS || cl->slots[slot] < 0)
        snprintf(out, n, "%s", "");
    else
        snprintf(out, n, "%s:%d", cl->nodes[cl->slots[slot]].host,
                 cl->nodes[cl->slots[slot]].port);
}

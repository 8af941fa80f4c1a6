/*
 * The Redis Cluster router (src/store/cluster.c) against a real cluster of 3 masters
 * and 3 replicas: keys of many partitions written and read through the right masters,
 * a slot migrated between masters mid-run (ASK while it moves, MOVED after), a master
 * killed with SIGKILL and its replica promoted, a script cache flushed; and a Redis
 * without cluster support recognised; then a worker with redis.cluster on through the
 * same migration and failover while it applies hundreds of orders, checked against
 * the oracle (every record and alert, no wrong one, each state on its master).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "confirmd/cluster.h"
#include "harness.h"
#include "harness_events.h"
#include "harness_orders.h"

#define N_PARTS 64
#define N_KEYS 20 /* per partition */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void key_of(char *out, size_t n, int part, int k)
{
    snprintf(out, n, "cfd:{p%d}:wo:WO-%d", part, k);
}

static int part_slot(int part)
{
    char key[64];
    key_of(key, sizeof(key), part, 0);
    return cfd_cluster_key_slot(key, strlen(key));
}

/*
 * One pipeline for partition part: SET (value "<gen>-<part>-<k>") or GET of its
 * N_KEYS keys. For GET, counts the values that are not the generation's.
 * @returns the number of wrong replies, or -1 when the router gave up (errstr).
 */
static int part_io(cfd_cluster *cl, int part, bool set, int gen, char *errstr,
                   size_t errstr_size)
{
    char keys[N_KEYS][64], vals[N_KEYS][64];
    const char *argv[N_KEYS][3];
    cfd_cluster_cmd cmds[N_KEYS];
    redisReply *replies[N_KEYS];
    int wrong = 0;

    for (int k = 0; k < N_KEYS; k++) {
        key_of(keys[k], sizeof(keys[k]), part, k);
        snprintf(vals[k], sizeof(vals[k]), "%d-%d-%d", gen, part, k);
        argv[k][0] = set ? "SET" : "GET";
        argv[k][1] = keys[k];
        argv[k][2] = vals[k];
        cmds[k] = (cfd_cluster_cmd){.argc = set ? 3 : 2, .argv = argv[k]};
    }
    if (cfd_cluster_pipeline(cl, part_slot(part), cmds, N_KEYS, NULL, replies, errstr,
                             errstr_size) != CFD_OK)
        return -1;
    for (int k = 0; k < N_KEYS; k++) {
        const redisReply *r = replies[k];
        bool ok = set ? r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0
                      : r->type == REDIS_REPLY_STRING && strcmp(r->str, vals[k]) == 0;
        if (!ok && wrong++ == 0)
            fprintf(stderr, "it_cluster: %s %s: type %d \"%s\"\n", argv[k][0], keys[k],
                    r->type, r->str ? r->str : "");
        freeReplyObject(replies[k]);
    }
    return wrong;
}

/* part_io() on every partition. @returns the wrong replies in all, -1 on a failure. */
static int all_io(cfd_cluster *cl, bool set, int gen)
{
    char errstr[256];
    int wrong = 0;
    for (int p = 0; p < N_PARTS; p++) {
        int w = part_io(cl, p, set, gen, errstr, sizeof(errstr));
        if (w < 0) {
            fprintf(stderr, "it_cluster: partition %d: %s\n", p, errstr);
            return -1;
        }
        wrong += w;
    }
    return wrong;
}

/* @returns the port of "host:port". */
static int addr_port(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    return colon ? atoi(colon + 1) : -1;
}

/* @returns the cluster node index of slot's master as the router sees it. */
static int slot_owner(cfd_cluster *cl, h_env *env, int slot)
{
    char addr[64];
    cfd_cluster_slot_master(cl, slot, addr, sizeof(addr));
    return h_cluster_index(env, addr_port(addr));
}

/* h_cluster_cmd() that must answer. @returns the reply (free it), never NULL. */
static redisReply *node_cmd(h_env *env, int idx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = h_cluster_vcmd(env, idx, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static void test_not_cluster(void **state)
{
    (void)state;
    h_env *env = h_env_new("cluster-off");
    assert_non_null(env);
    assert_int_equal(h_redis_start(env), 0);
    char seeds[64], errstr[256];
    snprintf(seeds, sizeof(seeds), "127.0.0.1:%d", h_redis_port(env));
    cfd_cluster_opts opts = {.seeds = seeds, .timeout_ms = 1000};
    bool not_cluster = false;
    cfd_cluster *cl = cfd_cluster_new(&opts, &not_cluster, errstr, sizeof(errstr));
    assert_null(cl);
    assert_true(not_cluster);
    assert_non_null(strstr(errstr, "cluster support disabled"));
    h_env_destroy(env);
}

static void test_cluster(void **state)
{
    (void)state;
    char errstr[256], sha[41];
    h_env *env = h_env_new("cluster");
    assert_non_null(env);
    int64_t t0 = h_now_ms();
    assert_int_equal(h_cluster_start(env, 3, 1), 0);
    fprintf(stderr, "it_cluster: 3 masters + 3 replicas up in %lld ms: %s\n",
            (long long)(h_now_ms() - t0), h_cluster_seeds(env));

    /* One seed is enough: the router learns the other masters from it. */
    char seed[32];
    snprintf(seed, sizeof(seed), "127.0.0.1:%d", h_cluster_port(env, 0));
    cfd_cluster_opts opts = {.seeds = seed, .timeout_ms = 1000};
    cfd_cluster *cl = cfd_cluster_new(&opts, NULL, errstr, sizeof(errstr));
    if (!cl)
        fail_msg("cfd_cluster_new: %s", errstr);
    assert_int_equal(cfd_cluster_masters(cl), 3);
    static const char script[] = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    assert_int_equal(cfd_cluster_script_add(cl, script, sha, errstr, sizeof(errstr)),
                     CFD_OK);

    /* Every partition, through its master. */
    assert_int_equal(all_io(cl, true, 1), 0);
    assert_int_equal(all_io(cl, false, 1), 0);
    int per_master[6] = {0};
    for (int p = 0; p < N_PARTS; p++) {
        char key[64];
        key_of(key, sizeof(key), p, 0);
        int owner = slot_owner(cl, env, part_slot(p));
        assert_true(owner >= 0);
        per_master[owner]++;
        /* The server agrees on the slot, and its master holds the key: no redirection. */
        redisReply *r = node_cmd(env, owner, "CLUSTER KEYSLOT %s", key);
        assert_int_equal(r->integer, part_slot(p));
        freeReplyObject(r);
        redisContext *c = cfd_cluster_conn_for_key(cl, key, errstr, sizeof(errstr));
        assert_non_null(c);
        r = redisCommand(c, "GET %s", key);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
    }
    int n_owners = 0;
    for (int i = 0; i < 6; i++)
        n_owners += per_master[i] > 0;
    assert_int_equal(n_owners, 3);

    /* A script through EVALSHA on each partition's master. */
    for (int p = 0; p < N_PARTS; p++) {
        char key[64];
        snprintf(key, sizeof(key), "cfd:{p%d}:n", p);
        const char *argv[] = {"EVALSHA", sha, "1", key, "5"};
        redisReply *r = cfd_cluster_command(cl, key, 5, argv, NULL, errstr, sizeof(errstr));
        if (!r)
            fail_msg("EVALSHA: %s", errstr);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, 5);
        freeReplyObject(r);
    }

    /* --- a slot moves from one master to another, while the router reads and writes */
    const int mp = 7, slot = part_slot(mp);
    int src = slot_owner(cl, env, slot), dst = -1;
    for (int p = 0; p < N_PARTS && dst < 0; p++) {
        int o = slot_owner(cl, env, part_slot(p));
        if (o != src)
            dst = o;
    }
    assert_true(src >= 0 && dst >= 0);
    cfd_cluster_stats before, after;
    cfd_cluster_stats_get(cl, &before);
    assert_int_equal(h_cluster_migrate_begin(env, slot, src, dst), 0);
    int half = h_cluster_migrate_keys(env, slot, src, dst, true);
    redisReply *r;
    assert_true(half > 0);
    /* Half the keys are on dst now: the router follows ASK for them. */
    assert_int_equal(part_io(cl, mp, false, 1, errstr, sizeof(errstr)), 0);
    cfd_cluster_stats_get(cl, &after);
    assert_true(after.ask > before.ask);
    /* The connection-level API: the caller sends ASKING itself. */
    {
        redisReply *keys = node_cmd(env, dst, "CLUSTER GETKEYSINSLOT %d 1", slot);
        assert_int_equal(keys->elements, 1);
        redisContext *c = cfd_cluster_conn_for_slot(cl, slot, errstr, sizeof(errstr));
        assert_non_null(c);
        r = redisCommand(c, "GET %s", keys->element[0]->str);
        redisContext *ask = NULL;
        assert_int_equal(cfd_cluster_redirected(cl, r, &ask, errstr, sizeof(errstr)),
                         CFD_CLUSTER_ASK);
        assert_non_null(ask);
        freeReplyObject(r);
        freeReplyObject(redisCommand(ask, "ASKING"));
        r = redisCommand(ask, "GET %s", keys->element[0]->str);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
        freeReplyObject(keys);
    }
    /* A key new to the slot is created on dst (ASK), the rest rewritten where they are. */
    {
        const char *argv[] = {"SET", "cfd:{p7}:wo:NEW", "new"};
        r = cfd_cluster_command(cl, argv[1], 3, argv, NULL, errstr, sizeof(errstr));
        if (!r)
            fail_msg("SET during migration: %s", errstr);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
        redisContext *c = h_cluster_connect(env, dst);
        assert_non_null(c);
        freeReplyObject(redisCommand(c, "ASKING"));
        r = redisCommand(c, "EXISTS %s", argv[1]);
        assert_int_equal(r->integer, 1); /* created on dst */
        freeReplyObject(r);
        redisFree(c);
    }
    assert_int_equal(part_io(cl, mp, true, 2, errstr, sizeof(errstr)), 0);
    assert_int_equal(part_io(cl, mp, false, 2, errstr, sizeof(errstr)), 0);
    int rest = h_cluster_migrate_keys(env, slot, src, dst, false);
    assert_true(rest >= 0);
    assert_int_equal(h_cluster_migrate_end(env, slot, dst), 0);
    /* The slot is dst's for good: MOVED, the map read again, then straight to dst. */
    assert_int_equal(part_io(cl, mp, false, 2, errstr, sizeof(errstr)), 0);
    cfd_cluster_stats_get(cl, &after);
    assert_true(after.moved > before.moved);
    assert_int_equal(slot_owner(cl, env, slot), dst);
    assert_int_equal(part_io(cl, mp, false, 2, errstr, sizeof(errstr)), 0);
    {
        const char *argv[] = {"GET", "cfd:{p7}:wo:NEW"};
        r = cfd_cluster_command(cl, argv[1], 2, argv, NULL, errstr, sizeof(errstr));
        assert_non_null(r);
        assert_string_equal(r->str, "new");
        freeReplyObject(r);
    }
    fprintf(stderr,
            "it_cluster: slot %d (partition %d) moved from node %d to node %d: %d + %d "
            "keys migrated, %llu ASK and %llu MOVED followed\n",
            slot, mp, src, dst, half, rest, (unsigned long long)(after.ask - before.ask),
            (unsigned long long)(after.moved - before.moved));
    assert_int_equal(all_io(cl, true, 3), 0);

    /* --- a script cache lost: NOSCRIPT, loaded again, the command resent */
    {
        r = node_cmd(env, dst, "SCRIPT FLUSH");
        freeReplyObject(r);
        const char *argv[] = {"EVALSHA", sha, "1", "cfd:{p7}:n", "1"};
        r = cfd_cluster_command(cl, argv[3], 5, argv, NULL, errstr, sizeof(errstr));
        if (!r)
            fail_msg("EVALSHA after SCRIPT FLUSH: %s", errstr);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, 6);
        freeReplyObject(r);
        cfd_cluster_stats_get(cl, &after);
        assert_int_equal(after.noscript, 1);
    }

    /* --- a master dies (SIGKILL), its replica is promoted */
    const int fp = 11, fslot = part_slot(fp);
    int victim = slot_owner(cl, env, fslot);
    assert_true(victim >= 0);
    /* What was acknowledged reached a replica: WAIT on the router's own connections. */
    for (int p = 0; p < N_PARTS; p++) {
        char key[64];
        key_of(key, sizeof(key), p, 0);
        redisContext *c = cfd_cluster_conn_for_key(cl, key, errstr, sizeof(errstr));
        assert_non_null(c);
        int64_t t = h_now_ms();
        r = redisCommand(c, "WAIT 1 800");
        if (!r)
            fail_msg("WAIT on partition %d's master: %s after %lld ms", p, c->errstr,
                     (long long)(h_now_ms() - t));
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        if (r->integer != 1) {
            redisReply *i = redisCommand(c, "INFO replication");
            fail_msg("WAIT p%d: %lld; %s", p, r->integer, i ? i->str : "");
        }
        freeReplyObject(r);
    }
    cfd_cluster_stats_get(cl, &before);
    int64_t killed_at = h_now_ms();
    assert_int_equal(h_cluster_kill(env, victim), 0);
    int failures = 0, w = -1;
    while (h_now_ms() - killed_at < 30000) {
        w = part_io(cl, fp, false, 3, errstr, sizeof(errstr));
        if (w >= 0)
            break;
        if (failures++ == 0)
            fprintf(stderr, "it_cluster: after the kill: %s\n", errstr);
        sleep_ms(100);
    }
    int64_t recovered_ms = h_now_ms() - killed_at;
    assert_int_equal(w, 0);
    int promoted = slot_owner(cl, env, fslot);
    assert_true(promoted >= 0 && promoted != victim && h_cluster_alive(env, promoted));
    assert_int_equal(h_cluster_wait_ok(env, 30000), 0);
    /* Nothing acknowledged is lost; the new master takes writes and scripts. */
    assert_int_equal(all_io(cl, false, 3), 0);
    assert_int_equal(all_io(cl, true, 4), 0);
    assert_int_equal(all_io(cl, false, 4), 0);
    {
        char key[64];
        snprintf(key, sizeof(key), "cfd:{p%d}:n", fp);
        const char *argv[] = {"EVALSHA", sha, "1", key, "1"};
        r = cfd_cluster_command(cl, key, 5, argv, NULL, errstr, sizeof(errstr));
        if (!r)
            fail_msg("EVALSHA after failover: %s", errstr);
        assert_int_equal(r->integer, 6);
        freeReplyObject(r);
    }
    cfd_cluster_stats_get(cl, &after);
    assert_true(after.conn_lost > before.conn_lost);
    assert_int_equal(cfd_cluster_masters(cl), 3);
    fprintf(stderr,
            "it_cluster: master node %d killed, node %d promoted; partition %d served "
            "again after %lld ms (%d failed tries); lost 0, wrong 0\n",
            victim, promoted, fp, (long long)recovered_ms, failures);
    fprintf(stderr,
            "it_cluster: figures: partitions %d, keys %d, migrations 1, failovers 1, "
            "ASK %llu, MOVED %llu, map reads %llu, connects %llu, connections lost %llu, "
            "NOSCRIPT %llu\n",
            N_PARTS, N_PARTS * N_KEYS + 1, (unsigned long long)after.ask,
            (unsigned long long)after.moved, (unsigned long long)after.refreshes,
            (unsigned long long)after.connects, (unsigned long long)after.conn_lost,
            (unsigned long long)after.noscript);
    cfd_cluster_destroy(cl);
    h_env_destroy(env);
}

/* @returns the calls of cmd (lower case) on node idx since it started, from INFO
 * commandstats (0 when it is down or never ran it). */
static long long node_cmdstat(h_env *env, int idx, const char *cmd)
{
    char field[64];
    long long calls = 0;
    if (!h_cluster_alive(env, idx))
        return 0;
    redisReply *r = node_cmd(env, idx, "INFO commandstats");
    snprintf(field, sizeof(field), "cmdstat_%s:calls=", cmd);
    const char *at = r->type == REDIS_REPLY_STRING ? strstr(r->str, field) : NULL;
    if (at)
        calls = atoll(at + strlen(field));
    freeReplyObject(r);
    return calls;
}

/* --- a worker on the cluster ----------------------------------------------------------- */

#define W_TOPIC "confirmd.events"
#define W_PARTS 8 /* the broker's default for confirmd.events */

/* Produces the events of orders [from, to), each order's in its own order. */
static void send_orders(h_env *env, h_event (*ev)[H_ORDER_EVENTS], int from, int to)
{
    for (int i = from; i < to; i++)
        for (int k = 0; k < H_ORDER_EVENTS; k++) {
            h_out_msg m = {ev[i][k].wo, ev[i][k].buf, ev[i][k].len, NULL};
            assert_int_equal(h_produce_async(env, W_TOPIC, &m), 0);
        }
    assert_int_equal(h_flush(env, 30000), 0);
}

/* Starts a worker on the env's cluster (the harness sets redis.cluster and the seeds). */
static pid_t cluster_worker(h_env *env)
{
    const char *args[] = {"worker.clock=simulated", "redis.retry_max=500ms", NULL};
    pid_t pid = h_worker_start(env, args);
    assert_true(pid > 0);
    return pid;
}

/* Restarts the worker when it left (a worker that finds a master lost its writes
 * leaves, as after a Redis that lost them; its successor replays from Kafka).
 * @returns 1 when it was restarted. */
static int worker_supervise(h_env *env, pid_t *pid)
{
    if (h_worker_alive(env, *pid))
        return 0;
    int code = h_worker_wait_exit(env, *pid, 1000);
    fprintf(stderr, "it_cluster: worker exited with %d: started again\n", code);
    *pid = cluster_worker(env);
    return 1;
}

typedef struct supervised {
    h_env *env;
    pid_t *pid;
    int *restarts;
} supervised;

static void supervise_tick(void *arg)
{
    supervised *s = arg;
    *s->restarts += worker_supervise(s->env, s->pid);
}

/*
 * A worker with redis.cluster on against 3 masters + 3 replicas: CFD_CLUSTER_ORDERS
 * (default 300) orders over every partition in three waves; during the second a
 * partition's slot moves to another master, during the third a master is killed with
 * SIGKILL and its replica promoted. Every record and alert the oracle calls for is
 * produced and no other, and each order's state is on its partition's master, byte
 * for byte the oracle's record.
 */
static void test_worker(void **state)
{
    (void)state;
    char errstr[256];
    const char *size = getenv("CFD_CLUSTER_ORDERS");
    int n = size && atoi(size) > 0 ? atoi(size) : 300, restarts = 0;
    h_env *env = h_env_new("cluster-worker");
    assert_non_null(env);
    assert_int_equal(h_cluster_start(env, 3, 1), 0);
    assert_int_equal(h_broker_start(env, NULL), 0);
    char seed[32], clock[32];
    snprintf(seed, sizeof(seed), "127.0.0.1:%d", h_cluster_port(env, 0));
    cfd_cluster_opts opts = {.seeds = seed, .timeout_ms = 1000};
    cfd_cluster *cl = cfd_cluster_new(&opts, NULL, errstr, sizeof(errstr));
    if (!cl)
        fail_msg("cfd_cluster_new: %s", errstr);
    /* The simulated clock's key has no hash tag: it lives on its own slot's master. */
    snprintf(clock, sizeof(clock), "%lld", (long long)H_WL_T0);
    const char *set_clock[] = {"SET", "cfd:clock", clock};
    redisReply *r =
        cfd_cluster_command(cl, "cfd:clock", 3, set_clock, NULL, errstr, sizeof(errstr));
    assert_non_null(r);
    freeReplyObject(r);

    h_event(*ev)[H_ORDER_EVENTS] = calloc((size_t)n, sizeof(*ev));
    h_expect *exp = calloc((size_t)n, sizeof(*exp));
    assert_true(ev && exp);
    for (int i = 0; i < n; i++) {
        char wo[32];
        snprintf(wo, sizeof(wo), "WO-K-%05d", i);
        assert_int_equal(h_order_events(wo, (unsigned)i, H_WL_T0 + i * 60000LL, ev[i]), 0);
        assert_int_equal(h_oracle(ev[i], H_ORDER_EVENTS, &exp[i]), 0);
    }
    pid_t pid = cluster_worker(env);
    send_orders(env, ev, 0, n / 3);

    /* Wave 2, and a partition's slot moves while the worker applies it. */
    const int mp = 3, slot = part_slot(mp);
    int src = slot_owner(cl, env, slot), dst = -1;
    for (int p = 0; p < N_PARTS && dst < 0; p++)
        if (slot_owner(cl, env, part_slot(p)) != src)
            dst = slot_owner(cl, env, part_slot(p));
    assert_true(src >= 0 && dst >= 0);
    /* The slot holds the worker's states before it moves. */
    int64_t t = h_now_ms();
    for (long long keys = 0; keys < 10 && h_now_ms() - t < 60000; sleep_ms(100)) {
        r = node_cmd(env, src, "CLUSTER COUNTKEYSINSLOT %d", slot);
        keys = r->integer;
        freeReplyObject(r);
    }
    send_orders(env, ev, n / 3, 2 * n / 3);
    supervised sv = {env, &pid, &restarts};
    int migrated = h_cluster_migrate(env, slot, dst, supervise_tick, &sv);
    fprintf(stderr,
            "it_cluster: slot %d (partition %d) moved from node %d to node %d, %d "
            "keys, while the worker ran\n",
            slot, mp, src, dst, migrated);

    /* Wave 3, and a master dies while the worker applies it. */
    assert_int_equal(cfd_cluster_refresh(cl, errstr, sizeof(errstr)), CFD_OK);
    const int fp = 6;
    int victim = slot_owner(cl, env, part_slot(fp));
    assert_true(victim >= 0);
    send_orders(env, ev, 2 * n / 3, 5 * n / 6);
    assert_int_equal(h_cluster_kill(env, victim), 0);
    int64_t killed_at = h_now_ms();
    while (h_cluster_wait_ok(env, 500) != 0 && h_now_ms() - killed_at < 30000)
        restarts += worker_supervise(env, &pid);
    assert_int_equal(h_cluster_wait_ok(env, 1000), 0);
    fprintf(stderr, "it_cluster: master node %d killed, cluster ok again after %lld ms\n",
            victim, (long long)(h_now_ms() - killed_at));
    /* The promoted master has no replica: with redis.cluster_wait_replicas = 1 the
     * last wave's commits there are not durable (WAIT falls short) and are retried
     * until the old master is back as its replica. */
    send_orders(env, ev, 5 * n / 6, n);
    sleep_ms(2000);
    assert_int_equal(h_cluster_restart(env, victim), 0);
    int64_t restarted_at = h_now_ms();
    assert_int_equal(h_cluster_wait_replica(env, victim, 30000, supervise_tick, &sv), 0);
    assert_int_equal(h_cluster_wait_ok(env, 30000), 0);
    fprintf(stderr, "it_cluster: node %d back as a replica after %lld ms\n", victim,
            (long long)(h_now_ms() - restarted_at));

    /* Every record and alert, none wrong, none unexpected. */
    h_out_report rec = {0}, alr = {0};
    int64_t until = h_now_ms() + 120000;
    do {
        restarts += worker_supervise(env, &pid);
        assert_int_equal(
            h_check_records_topic(env, "confirmd.records", exp, (size_t)n, 5000, &rec), 0);
    } while (rec.missing && h_now_ms() < until);
    assert_int_equal(
        h_check_alerts_topic(env, "confirmd.alerts", exp, (size_t)n, 30000, &alr), 0);

    /* Each state on its partition's master (the others answer MOVED), as the oracle. */
    assert_int_equal(cfd_cluster_refresh(cl, errstr, sizeof(errstr)), CFD_OK);
    redisContext *masters[W_PARTS] = {NULL};
    int found = 0, state_wrong = 0;
    for (int p = 0; p < W_PARTS; p++) {
        int owner = slot_owner(cl, env, part_slot(p));
        assert_true(owner >= 0);
        masters[p] = h_cluster_connect(env, owner);
        assert_non_null(masters[p]);
    }
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < W_PARTS; p++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            uint32_t version = 0;
            char key[64];
            snprintf(key, sizeof(key), "cfd:{p%d}:wo:%s", p, exp[i].wo);
            redisReply *e = redisCommand(masters[p], "EXISTS %s", key);
            assert_non_null(e);
            bool here = e->type == REDIS_REPLY_INTEGER && e->integer == 1;
            freeReplyObject(e);
            if (!here)
                continue;
            assert_int_equal(
                h_redis_record(masters[p], exp[i].wo, W_PARTS, &buf, &len, &version), 1);
            found++;
            if (version != exp[i].version || len != exp[i].record_len ||
                memcmp(buf, exp[i].record, len) != 0)
                state_wrong++;
            free(buf);
        }
    }
    for (int p = 0; p < W_PARTS; p++)
        redisFree(masters[p]);
    /* Each time the worker went through its reconnect and checked the offsets kept. */
    int checked = h_file_count(h_worker_log_path(env, 0), "redis reconnected");
    /* Every commit was followed by WAIT on its master. */
    long long waits = 0, evalshas = 0;
    for (int i = 0; i < h_cluster_size(env); i++) {
        waits += node_cmdstat(env, i, "wait");
        evalshas += node_cmdstat(env, i, "evalsha");
    }
    int short_waits = h_file_count(h_worker_log_path(env, 0), "WAIT: ");
    fprintf(stderr,
            "it_cluster: worker figures: orders %d, migrations 1, failovers 1, worker "
            "restarts %d; records %d (missing %d, wrong %d, unexpected %d), alerts %d "
            "(missing %d, unexpected %d); states found %d (wrong %d); offsets checked "
            "after a move or a failover %d; WAIT %lld (EVALSHA %lld), short %d\n",
            n, restarts, rec.distinct, rec.missing, rec.wrong, rec.unexpected, alr.distinct,
            alr.missing, alr.unexpected, found, state_wrong, checked, waits, evalshas,
            short_waits);
    assert_true(migrated > 0);
    assert_true(checked > 0);
    assert_true(waits > 0);
    assert_true(short_waits > 0);
    assert_int_equal(rec.missing, 0);
    assert_int_equal(rec.wrong, 0);
    assert_int_equal(rec.unexpected, 0);
    assert_int_equal(alr.missing, 0);
    assert_int_equal(alr.wrong, 0);
    assert_int_equal(alr.unexpected, 0);
    assert_int_equal(found, n);
    assert_int_equal(state_wrong, 0);

    for (int i = 0; i < n; i++) {
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&ev[i][k]);
        h_expect_clear(&exp[i]);
    }
    free(ev);
    free(exp);
    cfd_cluster_destroy(cl);
    h_env_destroy(env);
}

/* --- confirmctl on the cluster ----------------------------------------------------------- */

/* @returns the cluster node that is the master of partition part's slot. */
static int part_master(h_env *env, int part)
{
    return h_cluster_slot_master(env, part_slot(part));
}

/* confirmctl ARGS --json's integer field key. */
static long long ctl_int(h_env *env, const char *args, const char *key)
{
    static char out[1 << 16];
    char json[256];
    snprintf(json, sizeof(json), "%s --json", args);
    assert_int_equal(h_ctl(env, out, sizeof(out), json), 0);
    json_object *doc = json_tokener_parse(out), *v;
    assert_non_null(doc);
    assert_true(json_object_object_get_ex(doc, key, &v));
    long long n = json_object_get_int64(v);
    json_object_put(doc);
    return n;
}

/*
 * confirmctl's views on a cluster (redis.cluster on): show reads an order's state from
 * its partition's master, open scans every master's keyspace, lag reads each
 * partition's applied offset where it is; the orders of h_send_open_orders(), as
 * it_ctl checks them on one Redis.
 */
static void test_ctl(void **state)
{
    (void)state;
    static char out[1 << 16];
    char args[256];
    h_env *env = h_env_new("cluster-ctl");
    assert_non_null(env);
    assert_int_equal(h_cluster_start(env, 3, 1), 0);
    assert_int_equal(h_broker_start(env, NULL), 0);
    pid_t w = h_ctl_feed(env);
    assert_int_equal(h_set_sim_clock(env, H_T0 + 20 * H_MIN), 0);

    /* Where the orders are: on more than one master, so open must scan them all. */
    int masters[3], n_masters = 0;
    static const char *const orders[] = {"WO-C1", "WO-C2", "WO-C3"};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof(args), "show %s", orders[i]);
        int part = (int)ctl_int(env, args, "partition");
        masters[i] = part_master(env, part);
        bool seen = false;
        for (int k = 0; k < i; k++)
            seen = seen || masters[k] == masters[i];
        n_masters += !seen;
        printf("it_cluster: %s on partition %d, slot %d, master node %d\n", orders[i], part,
               part_slot(part), masters[i]);
    }
    assert_true(n_masters >= 2);

    assert_int_equal(h_ctl(env, out, sizeof(out), "show WO-C1"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "METRIC_CONTACT           MET             "
                                "2025-11-25T12:16:00+08:00"));
    assert_non_null(strstr(out, "METRIC_ON_SITE           RUNNING         "
                                "2025-11-25T13:01:00+08:00  41m00s"));
    assert_non_null(strstr(out, "contractor    Acme Maintenance"));

    assert_int_equal(h_ctl(env, out, sizeof(out), "open"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "2 open work orders at 2025-11-25T12:20:00+08:00"));
    char *c2 = strstr(out, "WO-C2"), *c1 = strstr(out, "WO-C1");
    assert_true(c2 && c1 && c2 < c1); /* WO-C2's contact is due first */
    assert_null(strstr(out, "WO-C3"));

    /* Caught up, then two events the stopped worker has not applied. */
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
    snprintf(args, sizeof(args), "lag -b %s", h_bootstrap(env));
    assert_int_equal(ctl_int(env, args, "total"), 0);
    h_send_ms(env, "WO-C2", "c2-dis", H_T0 + 2 * H_MIN, "dispatched", "{}");
    h_send_ms(env, "WO-C2", "c2-con", H_T0 + 3 * H_MIN, "customer_contacted", "{}");
    assert_int_equal(h_ctl(env, out, sizeof(out), args), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "total lag 2"));
    h_env_destroy(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_cluster),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_worker),
        cmocka_unit_test(test_ctl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

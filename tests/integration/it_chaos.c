/*
 * Chaos: the delivery guarantee under everything at once (issue 7).
 *
 * A known workload of work orders (each the 9 events of h_order_events(); some
 * delivered twice, some out of order, some with events before the fault report that
 * opens the order, some spread over two waves, plus a sprinkle of undecodable or
 * invalid messages) is produced in waves to the embedded broker while 2-3 workers
 * apply it to a real redis-server (AOF on) and, all the while:
 *   - a worker that owns partitions is killed with SIGKILL right after a wave was
 *     sent (mid-batch), another one 1.5-3 s later while the survivor still consumes,
 *     then both replacements are started (see strike() for why not at once); every
 *     5th strike is a graceful leave (SIGTERM) instead; every start is a join, every
 *     kill a leave after session.timeout: the group rebalances all the time;
 *   - the broker fails Produce, Fetch and OffsetCommit requests with retriable errors,
 *     answers slowly (rtt) and once goes down for 1.5 s (control socket);
 *   - Redis is restarted (graceful: the AOF is kept) at least once; on a Redis
 *     Cluster (CFD_TEST_REDIS=cluster, ctest's cluster.it_chaos: 3 masters, 3
 *     replicas) instead a partition's slot moves to another master while workers
 *     write, and a master is killed with SIGKILL (its replica promoted), then
 *     restarted as the new master's replica;
 * Then the chaos stops, the surviving workers drain until every partition's applied
 * offset in Redis is the topic's last offset (outboxes and park lists empty), and
 * everything is compared with an oracle computed from the workload alone:
 *   - every work order's state in Redis is byte-identical to the oracle's record;
 *   - every order's final record (rec/<wo>/v<n>) was emitted with the oracle's bytes,
 *     every alert id the oracle expects for the delivery order was emitted and no
 *     other (an arrival before the contact breaches the contact duty, the contact then
 *     retracts it: alerts depend on the order, records do not), every bad message
 *     has its dead letter (by partition/offset, reason, original bytes);
 *   - no output id was ever seen with two different payloads (records, alerts and
 *     dead letters: the simulated clock is pinned, so even an alert's fired_at repeats);
 *   - every fourth order reports its service fully interrupted, so its city reports go
 *     through the outboxes to the city stage while workers die: every city key holds
 *     exactly the last report of each of its orders that the oracle's record gives;
 *     every order's notices reach its circuit's object in the alarm stage: each
 *     object names its order as the last completed one and is bound to none;
 *   - no customer name, contact or phone in any worker's log; no sanitizer report.
 *
 * Size: CFD_CHAOS_ORDERS (default 2000) orders, CFD_CHAOS_KILLS (default 20) kills;
 * CFD_CHAOS_SEED fixes the workload and the dice (printed at start). On a cluster the
 * defaults are 600 orders and 8 kills: six redis-servers share the machine's cores
 * with the workers, and the test stays near 90 s.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/alarm_codec.h"
#include "confirmd/city_codec.h"
#include "confirmd/cluster.h"
#include "harness_events.h"
#include "harness_orders.h"

#define TOPIC "confirmd.events"
#define PARTS 8         /* the broker's default for confirmd.events */
#define OUT_PARTS_MAX 8 /* records, alerts, dead letters: 4 on the mock, 8 on Kafka */
#define KAFKA_NODES 3
#define MAX_SEQ (H_ORDER_EVENTS + 4)
#define POOL_MAX 16
#define WANT_WORKERS 3
#define MASTERS_MAX 8 /* connections h_redis_masters() may open */

/* Simulated time pinned before every deadline: only the events decide the alerts, and
 * an output repeated after a crash carries the same instant (same bytes). */
static const char *const worker_args[] = {"worker.clock=simulated", NULL};

/* --- the workload ------------------------------------------------------------------- */

/* One message on the wire: a good event (borrowed) or a bad one (owned). */
typedef struct wire {
    const char *key;
    const uint8_t *buf;
    size_t len;
} wire;

typedef struct order {
    h_event ev[H_ORDER_EVENTS];
    int seq[MAX_SEQ]; /* indices into ev in delivery order; -1: the bad message */
    int nseq;
    int split; /* items from here on go to wave `late_wave` */
    int wave, late_wave;
    uint8_t *bad; /* a bad message keyed by this order, or NULL */
    size_t bad_len;
} order;

typedef struct workload {
    order *o;
    h_expect *exp;   /* the oracle of the events as delivered */
    h_expect *canon; /* the oracle of the events in order: the same record */
    int n;
    int n_waves;
    wire **waves; /* per wave, its messages in production order */
    int *wave_len;
    int good, dups, bad, reordered, early, spread;
    int path_alerts; /* orders whose alerts depend on the delivery order */
} workload;

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static uint64_t fnv(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ULL;
    return h;
}

/* Moves seq[from] to position to (shifting the rest). */
static void seq_move(int *seq, int n, int from, int to)
{
    int v = seq[from];
    if (from < to)
        memmove(&seq[from], &seq[from + 1], (size_t)(to - from) * sizeof(int));
    else
        memmove(&seq[to + 1], &seq[to], (size_t)(from - to) * sizeof(int));
    seq[to] = v;
    (void)n;
}

static bool same_alerts(const h_expect *a, const h_expect *b)
{
    if (a->n_alerts != b->n_alerts)
        return false;
    for (int i = 0; i < a->n_alerts; i++) {
        bool found = false;
        for (int k = 0; k < b->n_alerts && !found; k++)
            found = strcmp(a->alert_ids[i], b->alert_ids[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Builds order i's events, its delivery sequence and its oracle; the oracle of the
 * sequence as delivered must equal the one of the events in order (the record is a
 * function of the set of events), or the workload itself would be ambiguous. */
static void order_build(workload *wl, int i, uint64_t *seed)
{
    order *o = &wl->o[i];
    char wo[32];
    h_expect *canon = &wl->canon[i];
    h_event seqev[MAX_SEQ];
    int n = 0;

    snprintf(wo, sizeof(wo), "WO-C-%05d", i);
    assert_int_equal(h_order_events(wo, (unsigned)i, H_WL_T0 + i * 60000LL, o->ev), 0);
    assert_int_equal(h_oracle(o->ev, H_ORDER_EVENTS, canon), 0);
    assert_int_equal(canon->version, H_ORDER_EVENTS);
    assert_true(canon->complete);

    o->nseq = H_ORDER_EVENTS;
    for (int k = 0; k < H_ORDER_EVENTS; k++)
        o->seq[k] = k;
    /* ev: 0 rep, 1 acc, 2 dis, 3 con, 4 arr, 5 dia, 6 res, 7 sig, 8 clo */
    unsigned r = (unsigned)(h_rand(seed) % 100);
    if (r < 10) { /* acceptance (and dispatch) before the report: parked, then opened */
        seq_move(o->seq, o->nseq, 0, 1 + (int)(h_rand(seed) % 2));
        wl->early++;
    } else if (r < 20) { /* two neighbours swapped */
        int k = 1 + (int)(h_rand(seed) % 6);
        int t = o->seq[k];
        o->seq[k] = o->seq[k + 1];
        o->seq[k + 1] = t;
        wl->reordered++;
    } else if (r < 25) { /* the signature before the visit: parked for it */
        seq_move(o->seq, o->nseq, 7, 4);
        wl->reordered++;
    } else if (r < 30) { /* the close before the restoration: parked for it */
        seq_move(o->seq, o->nseq, 8, 6);
        wl->reordered++;
    }
    if (h_rand(seed) % 100 < 8) { /* an event delivered twice, the copy later */
        int from = (int)(h_rand(seed) % (uint64_t)o->nseq);
        int at = from + 1 + (int)(h_rand(seed) % (uint64_t)(o->nseq - from));
        memmove(&o->seq[at + 1], &o->seq[at], (size_t)(o->nseq - at) * sizeof(int));
        o->seq[at] = o->seq[from];
        o->nseq++;
        wl->dups++;
        if (h_rand(seed) % 4 == 0) { /* sometimes a third copy at the very end */
            o->seq[o->nseq++] = o->seq[from];
            wl->dups++;
        }
    }
    wl->good += o->nseq;
    for (int k = 0; k < o->nseq; k++)
        seqev[n++] = o->ev[o->seq[k]];
    assert_int_equal(h_oracle(seqev, (size_t)n, &wl->exp[i]), 0);
    if (wl->exp[i].record_len != canon->record_len ||
        memcmp(wl->exp[i].record, canon->record, canon->record_len) != 0) {
        char order_s[64] = "", *p = order_s;
        for (int k = 0; k < n; k++)
            p += snprintf(p, sizeof(order_s) - (size_t)(p - order_s), " %d", o->seq[k]);
        fprintf(stderr,
                "chaos: order %s: the record depends on the delivery order: events"
                "%s give v%u, %zu bytes; in order v%u, %zu bytes\n",
                wo, order_s, wl->exp[i].version, wl->exp[i].record_len, canon->version,
                canon->record_len);
        fail();
    }
    /* Alerts may: an arrival before the contact breaches the contact duty, and the
     * contact retracts it (same alert id, kind RETRACTED). */
    wl->path_alerts += !same_alerts(&wl->exp[i], canon);

    if (i % 20 == 7) { /* a bad message in the order's stream */
        uint8_t buf[512];
        size_t len = 0;
        h_poison_kind kind = (h_poison_kind)(h_rand(seed) % H_POISON_KINDS);
        assert_int_equal(
            h_poison(seed, kind, o->ev, H_ORDER_EVENTS, buf, sizeof(buf), &len), 0);
        o->bad = malloc(len ? len : 1);
        memcpy(o->bad, buf, len);
        o->bad_len = len;
        int at = (int)(h_rand(seed) % (uint64_t)(o->nseq + 1));
        memmove(&o->seq[at + 1], &o->seq[at], (size_t)(o->nseq - at) * sizeof(int));
        o->seq[at] = -1;
        o->nseq++;
        wl->bad++;
    }
    assert_true(o->nseq <= MAX_SEQ);
    o->wave = i * wl->n_waves / wl->n;
    o->split = o->nseq;
    o->late_wave = o->wave;
    if (o->wave + 1 < wl->n_waves && h_rand(seed) % 100 < 6) {
        /* the order's last events come a wave or two later, across kills */
        o->split = o->nseq - 1 - (int)(h_rand(seed) % 3);
        o->late_wave = o->wave + 1 + (int)(h_rand(seed) % 2);
        if (o->late_wave >= wl->n_waves)
            o->late_wave = wl->n_waves - 1;
        wl->spread++;
    }
}

static wire order_item(const order *o, int k)
{
    if (o->seq[k] < 0)
        return (wire){o->ev[0].wo, o->bad, o->bad_len};
    const h_event *e = &o->ev[o->seq[k]];
    return (wire){e->wo, e->buf, e->len};
}

/* Lays the orders' items out in waves, interleaving the orders of a wave at random
 * while keeping each order's own sequence. */
static void waves_build(workload *wl, uint64_t *seed)
{
    wl->waves = calloc((size_t)wl->n_waves, sizeof(*wl->waves));
    wl->wave_len = calloc((size_t)wl->n_waves, sizeof(int));
    int *from = malloc((size_t)wl->n * sizeof(int)); /* next item per order in this wave */
    int *to = malloc((size_t)wl->n * sizeof(int));
    int *live = malloc((size_t)wl->n * sizeof(int));
    for (int w = 0; w < wl->n_waves; w++) {
        int nlive = 0, total = 0;
        for (int i = 0; i < wl->n; i++) {
            const order *o = &wl->o[i];
            int a = -1, b = -1;
            if (o->wave == w) {
                a = 0;
                b = o->split;
            }
            if (o->late_wave == w && o->split < o->nseq) {
                if (a < 0)
                    a = o->split;
                b = o->nseq;
            }
            if (a >= 0 && a < b) {
                from[i] = a;
                to[i] = b;
                live[nlive++] = i;
                total += b - a;
            }
        }
        wl->waves[w] = malloc((size_t)(total ? total : 1) * sizeof(wire));
        while (nlive) {
            int j = (int)(h_rand(seed) % (uint64_t)nlive);
            int i = live[j];
            wl->waves[w][wl->wave_len[w]++] = order_item(&wl->o[i], from[i]++);
            if (from[i] == to[i])
                live[j] = live[--nlive];
        }
        assert_int_equal(wl->wave_len[w], total);
    }
    free(from);
    free(to);
    free(live);
}

static workload *workload_new(int n, int n_waves, uint64_t seed)
{
    workload *wl = calloc(1, sizeof(*wl));
    assert_non_null(wl);
    wl->n = n;
    wl->n_waves = n_waves;
    wl->o = calloc((size_t)n, sizeof(order));
    wl->exp = calloc((size_t)n, sizeof(h_expect));
    wl->canon = calloc((size_t)n, sizeof(h_expect));
    assert_non_null(wl->canon);
    assert_non_null(wl->o);
    assert_non_null(wl->exp);
    for (int i = 0; i < n; i++)
        order_build(wl, i, &seed);
    waves_build(wl, &seed);
    return wl;
}

static void workload_free(workload *wl)
{
    for (int i = 0; i < wl->n; i++) {
        for (int k = 0; k < H_ORDER_EVENTS; k++)
            h_event_clear(&wl->o[i].ev[k]);
        free(wl->o[i].bad);
        h_expect_clear(&wl->exp[i]);
        h_expect_clear(&wl->canon[i]);
    }
    for (int w = 0; w < wl->n_waves; w++)
        free(wl->waves[w]);
    free(wl->waves);
    free(wl->wave_len);
    free(wl->o);
    free(wl->exp);
    free(wl->canon);
    free(wl);
}

/* --- the workers: a little supervisor ------------------------------------------------- */

typedef struct member {
    pid_t pid;
    int idx;      /* harness worker index: its log */
    bool leaving; /* SIGTERMed: not restarted when it exits */
} member;

typedef struct chaos {
    h_env *env;
    uint64_t seed;
    member pool[POOL_MAX];
    int n_pool;
    int n_started;
    int kills, joins, leaves, faults, redis_restarts;
    int migrations, failovers; /* Redis Cluster: slots moved, masters killed */
    int keys_migrated;
    int victim;             /* the killed master's node, -1: none down */
    int64_t victim_back_at; /* when it restarts (as a replica) */
    int node_down;          /* Apache Kafka: the node that is down (1..3), 0: none */
    int64_t node_up_at;     /* when it comes back */
    int node_kills, node_stops;
    int exits_other[256]; /* exits nobody asked for, by code */
    int leave_codes[256]; /* exit codes of graceful leaves */
} chaos;

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int rnd(chaos *c, int lo, int hi)
{ /* in [lo, hi] */
    return lo + (int)(h_rand(&c->seed) % (uint64_t)(hi - lo + 1));
}

static void worker_start(chaos *c)
{
    pid_t pid = h_worker_start(c->env, worker_args);
    assert_true(pid > 0);
    assert_true(c->n_pool < POOL_MAX);
    c->pool[c->n_pool++] = (member){.pid = pid, .idx = c->n_started++};
}

static int active(const chaos *c)
{
    int n = 0;
    for (int i = 0; i < c->n_pool; i++)
        n += !c->pool[i].leaving;
    return n;
}

/* @returns true when every worker is past its start-up (connected to Redis). */
static bool all_started(chaos *c)
{
    for (int i = 0; i < c->n_pool; i++)
        if (h_file_count(h_worker_log_path(c->env, c->pool[i].idx), "consuming ") <= 0)
            return false;
    return true;
}

static int owned_partitions(chaos *c, int idx);

static bool someone_owns(chaos *c)
{
    for (int i = 0; i < c->n_pool; i++)
        if (!c->pool[i].leaving && owned_partitions(c, c->pool[i].idx) > 0)
            return true;
    return false;
}

static void send_wave(h_env *env, const workload *wl, int w)
{
    for (int i = 0; i < wl->wave_len[w]; i++) {
        const wire *m = &wl->waves[w][i];
        h_out_msg om = {m->key, m->buf, m->len, NULL};
        assert_int_equal(h_produce_async(env, TOPIC, &om), 0);
    }
}

/* A graceful leave that did not exit 0 says why in its log: its ERROR lines to
 * stderr, so a failed run shows the cause. */
static void leave_failed(h_env *env, int idx, int code)
{
    char line[1024];
    fprintf(stderr, "chaos: worker %d left with status %d; its errors:\n", idx, code);
    FILE *f = fopen(h_worker_log_path(env, idx), "r");
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, " ERROR "))
            fprintf(stderr, "  %s", line);
    if (f)
        fclose(f);
}

/* Reaps workers that exited; restarts those nobody asked to leave (as a supervisor
 * with Restart=on-failure would). */
static void supervise(chaos *c, bool restart)
{
    for (int i = 0; i < c->n_pool;) {
        member *m = &c->pool[i];
        int code = h_worker_wait_exit(c->env, m->pid, 0);
        if (code < 0) {
            i++;
            continue;
        }
        bool leaving = m->leaving;
        if (leaving)
            c->leave_codes[code & 255]++;
        else
            c->exits_other[code & 255]++;
        if (leaving && code != 0)
            leave_failed(c->env, m->idx, code);
        if (!leaving)
            fprintf(stderr, "chaos: worker %d exited by itself with status %d\n", m->idx,
                    code);
        c->pool[i] = c->pool[--c->n_pool];
        if (!leaving && restart)
            worker_start(c);
    }
}

/* @returns how many partitions the worker's log says it owns (claims minus
 * releases: an eager revoke releases every partition it owned). */
static int owned_partitions(chaos *c, int idx)
{
    int claimed = h_file_count(h_worker_log_path(c->env, idx), " claimed (epoch");
    int released = h_file_count(h_worker_log_path(c->env, idx), " released");
    return claimed < 0 ? 0 : claimed - (released < 0 ? 0 : released);
}

/*
 * Kills (SIGKILL) or stops (SIGTERM: a graceful leave) a worker that owns partitions,
 * so that it dies mid-batch; its replacement is started only when fewer than two
 * workers are left. Every join makes the group rebalance, and the mock broker's join
 * phase lasts session.timeout - 1 s, during which nobody consumes: restarting at once
 * after every kill would keep the group rebalancing and no kill would hit a batch. So
 * a cycle is: kill one owner, 1.5-3 s later kill another while the survivors still
 * consume, restart both, wait for the new assignment, again.
 * @returns true when a worker was stopped.
 */
static bool strike(chaos *c, int *pending, bool gently)
{
    int owning[POOL_MAX], n_owning = 0;
    for (int i = 0; i < c->n_pool; i++)
        if (!c->pool[i].leaving && owned_partitions(c, c->pool[i].idx) > 0)
            owning[n_owning++] = i;
    if (n_owning == 0)
        return false;
    int k = owning[rnd(c, 0, n_owning - 1)];
    member m = c->pool[k];
    if (gently) {
        assert_int_equal(h_worker_kill(c->env, m.pid, SIGTERM), 0);
        c->pool[k].leaving = true;
        c->leaves++;
    } else {
        assert_int_equal(h_worker_kill(c->env, m.pid, SIGKILL), 0);
        int code = h_worker_wait_exit(c->env, m.pid, 5000);
        c->pool[k] = c->pool[--c->n_pool];
        if (code != 128 + SIGKILL) { /* it had exited by itself just before */
            c->exits_other[code & 255]++;
            fprintf(stderr, "chaos: worker %d exited by itself with status %d\n", m.idx,
                    code);
        } else {
            c->kills++;
        }
    }
    (*pending)++;
    return true;
}

/* What a stuck chaos phase needs to tell its cause: each worker's partitions and, when
 * gdb is at hand, where its main thread is; then the broker's state. */
static void stuck_explain(chaos *c)
{
    for (int i = 0; i < c->n_pool; i++) {
        const member *m = &c->pool[i];
        char cmd[256];
        fprintf(stderr,
                "chaos: worker %d (pid %d)%s owns %d partition(s); its main thread:\n",
                m->idx, (int)m->pid, m->leaving ? ", leaving," : "",
                owned_partitions(c, m->idx));
        snprintf(cmd, sizeof(cmd),
                 "command -v gdb >/dev/null && timeout 60 gdb -p %d -batch -nx "
                 "-ex 'thread apply 1 bt 24' 2>/dev/null | grep -E '^(Thread|#)' | "
                 "cut -c1-200 >&2",
                 (int)m->pid);
        if (system(cmd) != 0)
            fprintf(stderr, "  (no stack)\n");
    }
    h_broker_explain(c->env);
}

static void restart_pending(chaos *c, int *pending)
{
    for (; *pending > 0; (*pending)--) {
        worker_start(c);
        c->joins++;
    }
}

/* --- broker faults -------------------------------------------------------------------- */

static void ctl(chaos *c, const char *cmd, bool count)
{
    char reply[256];
    if (h_broker_ctl(c->env, cmd, reply, sizeof(reply)) != 0) {
        fprintf(stderr, "chaos: broker control \"%s\": %s\n", cmd, reply);
        fail();
    }
    c->faults += count;
}

static void inject_fault(chaos *c, bool *rtt_on)
{
    static const char *const faults[] = {
        "request-errors Produce NOT_ENOUGH_REPLICAS 4",
        "request-errors Produce NOT_LEADER_FOR_PARTITION 3",
        "request-errors Fetch NOT_LEADER_FOR_PARTITION 4",
        "request-errors Fetch LEADER_NOT_AVAILABLE 3",
        "request-errors OffsetCommit COORDINATOR_LOAD_IN_PROGRESS 3",
        "request-errors OffsetCommit NOT_COORDINATOR 2",
        "rtt 1 250",
    };
    if (*rtt_on) {
        ctl(c, "rtt 1 0", false);
        *rtt_on = false;
    }
    int k = rnd(c, 0, (int)(sizeof(faults) / sizeof(faults[0])) - 1);
    ctl(c, faults[k], true);
    *rtt_on = strncmp(faults[k], "rtt", 3) == 0;
}

/* Apache Kafka: one of the 3 nodes at a time goes down, killed with SIGKILL (2 in 3)
 * or stopped cleanly, and comes back 2-6 s later (the next goes 2-5 s after, once every
 * replica is in sync again): leaders fail over, the group
 * coordinator moves, in-flight requests die; min.insync.replicas=2 keeps acks=all
 * writes going with one node down. */
static void node_fault(chaos *c, int64_t now)
{
    if (c->node_down) {
        assert_int_equal(h_broker_node_up(c->env, c->node_down), 0);
        c->node_down = 0;
        return;
    }
    int id = rnd(c, 1, KAFKA_NODES);
    bool hard = rnd(c, 0, 2) != 0;
    assert_int_equal(h_broker_node_down(c->env, id, hard), 0);
    c->node_down = id;
    c->node_up_at = now + rnd(c, 2000, 6000);
    c->faults++;
    if (hard)
        c->node_kills++;
    else
        c->node_stops++;
}

static void clear_faults(chaos *c)
{
    if (h_broker_is_kafka()) {
        if (c->node_down)
            assert_int_equal(h_broker_node_up(c->env, c->node_down), 0);
        c->node_down = 0;
        return;
    }
    ctl(c, "clear-request-errors Produce", false);
    ctl(c, "clear-request-errors Fetch", false);
    ctl(c, "clear-request-errors OffsetCommit", false);
    ctl(c, "rtt 1 0", false);
}

/* --- Redis Cluster ----------------------------------------------------------------------- */

static void chaos_tick(void *arg)
{
    supervise(arg, true);
}

/* @returns the cluster slot of partition part's keys. */
static int part_slot(int part)
{
    char tag[16];
    snprintf(tag, sizeof(tag), "{p%d}", part);
    return cfd_cluster_key_slot(tag, strlen(tag));
}

/* @returns a master's node index other than not (any partition's), or -1. */
static int other_master(h_env *env, int not )
{
    for (int p = 0; p < 64; p++) {
        int o = h_cluster_slot_master(env, part_slot(p));
        if (o >= 0 && o != not )
            return o;
    }
    return -1;
}

/*
 * The Redis Cluster's share of the chaos: at 30 % of the kills a partition's slot moves
 * to another master while the workers write to it (the loop waits, supervising, for the
 * move: a few seconds); at 60 % the master of another partition is killed with SIGKILL,
 * and once its replica is promoted (the cluster ok again) and 2 s have passed, it is
 * started again and waited for as the new master's replica (until then WAIT falls
 * short on the promoted master and its commits are retried).
 */
static void cluster_chaos(chaos *c, int n_kills, int64_t now)
{
    h_env *env = c->env;
    if (c->migrations == 0 && c->kills >= n_kills * 3 / 10) {
        int part = rnd(c, 0, PARTS - 1), slot = part_slot(part);
        int src = h_cluster_slot_master(env, slot), dst = other_master(env, src);
        assert_true(src >= 0 && dst >= 0);
        int64_t t = h_now_ms();
        int moved = h_cluster_migrate(env, slot, dst, chaos_tick, c);
        assert_true(moved >= 0);
        c->migrations++;
        c->keys_migrated += moved;
        printf("chaos: slot %d (partition %d) moved from node %d to node %d: %d keys in "
               "%" PRId64 " ms\n",
               slot, part, src, dst, moved, h_now_ms() - t);
        fflush(stdout);
    }
    if (c->failovers == 0 && c->kills >= n_kills * 6 / 10 && all_started(c)) {
        int part = rnd(c, 0, PARTS - 1);
        int victim = h_cluster_slot_master(env, part_slot(part));
        assert_true(victim >= 0);
        int64_t t = h_now_ms();
        assert_int_equal(h_cluster_kill(env, victim), 0);
        while (h_cluster_wait_ok(env, 500) != 0 && h_now_ms() - t < 30000)
            supervise(c, true);
        assert_int_equal(h_cluster_wait_ok(env, 1000), 0);
        c->failovers++;
        c->victim = victim;
        c->victim_back_at = h_now_ms() + 2000;
        printf("chaos: master node %d (partition %d's) killed, its replica promoted after "
               "%" PRId64 " ms\n",
               victim, part, h_now_ms() - t);
        fflush(stdout);
    }
    if (c->victim >= 0 && now >= c->victim_back_at) {
        int64_t t = h_now_ms();
        assert_int_equal(h_cluster_restart(env, c->victim), 0);
        assert_int_equal(h_cluster_wait_replica(env, c->victim, 30000, chaos_tick, c), 0);
        printf("chaos: node %d back as a replica after %" PRId64 " ms\n", c->victim,
               h_now_ms() - t);
        fflush(stdout);
        c->victim = -1;
    }
}

/* --- checks ----------------------------------------------------------------------------- */

/* Waits until, for every partition, Redis' applied offset is the topic's last offset,
 * the outbox is empty and nothing is parked; supervises meanwhile.
 * @returns 0 when drained, -1 at the timeout (the state is printed). */
static int wait_drained(chaos *c, const int64_t *ends, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    char state[1024];
    for (;;) {
        bool done = true;
        size_t n = 0;
        supervise(c, true);
        state[0] = '\0';
        for (int p = 0; p < PARTS; p++) {
            char tag[16];
            snprintf(tag, sizeof(tag), "{p%d}", p);
            redisContext *rc = h_redis_connect_key(c->env, tag); /* p's master */
            redisReply *a =
                rc ? redisCommand(rc, "HGET cfd:{p%d}:meta off:%s", p, TOPIC) : NULL;
            redisReply *o = a ? redisCommand(rc, "HLEN cfd:{p%d}:outbox", p) : NULL;
            redisReply *k = o ? redisCommand(rc, "ZCARD cfd:{p%d}:parkidx", p) : NULL;
            if (!k || a->type == REDIS_REPLY_ERROR || o->type != REDIS_REPLY_INTEGER ||
                k->type != REDIS_REPLY_INTEGER) {
                done = false;
                if (n < sizeof(state))
                    n += (size_t)snprintf(state + n, sizeof(state) - n, " p%d unreadable",
                                          p);
            } else {
                long long off = a->type == REDIS_REPLY_STRING ? atoll(a->str) : -1;
                if (off != ends[p] - 1 || o->integer != 0 || k->integer != 0)
                    done = false;
                if (n < sizeof(state))
                    n += (size_t)snprintf(state + n, sizeof(state) - n,
                                          " p%d applied %lld/%lld outbox %lld parked %lld",
                                          p, off, (long long)ends[p] - 1, o->integer,
                                          k->integer);
            }
            freeReplyObject(a);
            freeReplyObject(o);
            freeReplyObject(k);
            if (rc)
                redisFree(rc);
        }
        if (done)
            return 0;
        if (h_now_ms() >= deadline) {
            fprintf(stderr, "chaos: not drained after %d ms:%s\n", timeout_ms, state);
            h_broker_explain(c->env);
            return -1;
        }
        pause_ms(250);
    }
}

/* Every message of an output topic as (id, digest of the payload). */
typedef struct idrec {
    char *id;
    uint64_t digest;
} idrec;

typedef struct idlist {
    idrec *v;
    int n, cap;
    int per_part[OUT_PARTS_MAX]; /* messages read from each partition */
} idlist;

static int idlist_cb(const h_msg *m, void *opaque)
{
    idlist *l = opaque;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4096;
        l->v = realloc(l->v, (size_t)l->cap * sizeof(idrec));
        assert_non_null(l->v);
    }
    l->v[l->n++] = (idrec){strdup(m->id ? m->id : ""), fnv(m->value, m->value_len)};
    if (m->partition >= 0 && m->partition < OUT_PARTS_MAX)
        l->per_part[m->partition]++;
    return 0;
}

static int idrec_cmp(const void *a, const void *b)
{
    const idrec *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->digest > y->digest) - (x->digest < y->digest);
}

/* Reads the whole topic (as many messages as its watermarks say) and sorts by id. */
static void read_topic(h_env *env, const char *topic, idlist *l)
{
    int64_t ends[OUT_PARTS_MAX];
    int64_t total = 0;
    int nparts = h_broker_is_kafka() ? 8 : 4;
    memset(l, 0, sizeof(*l));
    assert_int_equal(h_topic_ends(env, topic, ends, nparts, 10000), 0);
    for (int p = 0; p < nparts; p++)
        total += ends[p];
    h_consumer *cons = h_consume_open(env, topic);
    assert_non_null(cons);
    h_consume_until(cons, (int)total, 60000, idlist_cb, l);
    h_consume_close(cons);
    if (l->n != total) {
        fprintf(stderr, "chaos: read %d of %" PRId64 " messages of %s in 60 s:", l->n,
                total, topic);
        for (int p = 0; p < nparts; p++)
            fprintf(stderr, " [%d] %d/%" PRId64, p, l->per_part[p], ends[p]);
        fputc('\n', stderr);
        h_broker_explain(env);
        fail();
    }
    qsort(l->v, (size_t)l->n, sizeof(idrec), idrec_cmp);
}

static void idlist_free(idlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i].id);
    free(l->v);
}

/* @returns the first entry with this id, or NULL. */
static const idrec *idlist_find(const idlist *l, const char *id)
{
    int lo = 0, hi = l->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(l->v[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && strcmp(l->v[lo].id, id) == 0 ? &l->v[lo] : NULL;
}

typedef struct id_stats {
    int distinct, duplicates, conflicts; /* conflicts: one id, two payloads */
} id_stats;

static id_stats id_scan(const idlist *l, const char *what)
{
    id_stats s = {0};
    for (int i = 0; i < l->n; i++) {
        if (i > 0 && strcmp(l->v[i].id, l->v[i - 1].id) == 0) {
            s.duplicates++;
            if (l->v[i].digest != l->v[i - 1].digest && s.conflicts++ < 5)
                fprintf(stderr, "chaos: %s %s seen with two different payloads\n", what,
                        l->v[i].id);
        } else {
            s.distinct++;
        }
    }
    return s;
}

static int sanitizer_hits(const char *log)
{
    static const char *const marks[] = {"AddressSanitizer", "LeakSanitizer",
                                        "runtime error:"};
    int hits = 0;
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        int n = h_file_count(log, marks[i]);
        hits += n > 0 ? n : 0;
    }
    return hits;
}

/* --- the city stage and the alarm stage ---------------------------------------------- */

typedef struct stage_report {
    int city_missing, city_wrong, city_unexpected, city_expected;
    int objects_missing, objects_bound, objects_wrong; /* the orders' circuit objects */
} stage_report;

static bool same_city_report(const cfd_city_report *a, const cfd_city_report *b)
{
    return strcmp(a->work_order, b->work_order) == 0 &&
           strcmp(a->customer_id ? a->customer_id : "",
                  b->customer_id ? b->customer_id : "") == 0 &&
           a->reported_at_ms == b->reported_at_ms && a->ended_at_ms == b->ended_at_ms &&
           a->ownership_unclear == b->ownership_unclear && a->excluded == b->excluded;
}

/* Compares what the city keys in Redis hold with the oracle's final records (every
 * order's last city report arrived, through outboxes and kills), and counts the
 * network objects whose alarm state is still bound to an order (every order completed,
 * so every completion notice must have arrived). */
static stage_report stage_scan(h_env *env, const workload *wl)
{
    stage_report r = {0};
    char errstr[256];
    bool *seen = calloc((size_t)wl->n + 1, sizeof(bool));
    bool *seen_obj = calloc((size_t)wl->n + 1, sizeof(bool));
    redisContext *masters[MASTERS_MAX];
    int n_masters = h_redis_masters(env, masters, MASTERS_MAX);
    assert_true(n_masters > 0);
    assert_true(seen && seen_obj);
    /* Each key on the master of its slot: KEYS there, GET on the same connection. A
     * key's reports are in its head (city:) or its settled part (city-settled:). */
    for (int m = 0; m < n_masters; m++) {
        redisContext *rc = masters[m];
        redisReply *keys = redisCommand(rc, "KEYS cfd:*:city*:*");
        assert_non_null(keys);
        for (size_t k = 0; k < keys->elements; k++) {
            redisReply *g = redisCommand(rc, "GET %s", keys->element[k]->str);
            cfd_city_state *st = NULL;
            if (!g || g->type != REDIS_REPLY_STRING ||
                cfd_codec_city_state_decode(g->str, g->len, &st, errstr, sizeof(errstr))) {
                r.city_wrong++;
                freeReplyObject(g);
                continue;
            }
            for (size_t i = 0; i < st->n_reports; i++) {
                int n = -1;
                const cfd_city_report *got = &st->reports[i];
                if (sscanf(got->work_order, "WO-C-%d", &n) != 1 || n < 0 || n >= wl->n ||
                    !wl->exp[n].in_city) {
                    r.city_unexpected++;
                    continue;
                }
                seen[n] = true;
                r.city_wrong += !same_city_report(got, &wl->exp[n].city);
            }
            cfd_city_state_destroy(st);
            freeReplyObject(g);
        }
        freeReplyObject(keys);
        /* Every order's circuit CQ-<order> is an object its notices reached: its state
         * names the order as the last completed one and binds no order. */
        keys = redisCommand(rc, "KEYS cfd:*:alm:CQ-WO-C-*");
        assert_non_null(keys);
        for (size_t k = 0; k < keys->elements; k++) {
            redisReply *g = redisCommand(rc, "GET %s", keys->element[k]->str);
            cfd_alarm_state *st = NULL;
            int n = -1;
            const char *obj = strstr(keys->element[k]->str, ":alm:CQ-");
            if (!obj || sscanf(obj, ":alm:CQ-WO-C-%d", &n) != 1 || n < 0 || n >= wl->n) {
                r.objects_wrong++;
            } else if (!g || g->type != REDIS_REPLY_STRING ||
                       cfd_codec_alarm_state_decode(g->str, g->len, &st, errstr,
                                                    sizeof(errstr))) {
                r.objects_wrong++;
            } else {
                seen_obj[n] = true;
                r.objects_bound += st->work_order != NULL;
                r.objects_wrong +=
                    !st->last_work_order || strcmp(st->last_work_order, wl->exp[n].wo) != 0;
            }
            cfd_alarm_state_destroy(st);
            freeReplyObject(g);
        }
        freeReplyObject(keys);
        redisFree(rc);
    }
    for (int i = 0; i < wl->n; i++) {
        r.city_expected += wl->exp[i].in_city;
        r.city_missing += wl->exp[i].in_city && !seen[i];
        r.objects_missing += !seen_obj[i];
    }
    free(seen);
    free(seen_obj);
    return r;
}

typedef struct city_trace {
    const char *wo;
    int on_topic;   /* its reports on the city-reports topic */
    char last[160]; /* the last of them: version, partition, offset */
} city_trace;

static int city_trace_cb(const h_msg *m, void *opaque)
{
    city_trace *t = opaque;
    cfd_city_report r = {0};
    char errstr[256];
    if (cfd_codec_city_report_decode(m->value, m->value_len, &r, errstr, sizeof(errstr)))
        return 0;
    if (strcmp(r.work_order, t->wo) == 0) {
        t->on_topic++;
        snprintf(t->last, sizeof(t->last), "v%u at [%d]@%lld, ended %lld", r.record_version,
                 (int)m->partition, (long long)m->offset, (long long)r.ended_at_ms);
    }
    cfd_city_report_clear(&r);
    return 0;
}

/* Names the first city orders missing from the keys, and whether their reports are on
 * the topic (the city stage did not keep them) or not (never produced). */
static void stage_explain(h_env *env, const workload *wl)
{
    int shown = 0;
    for (int i = 0; i < wl->n && shown < 3; i++) {
        const h_expect *e = &wl->exp[i];
        if (!e->in_city)
            continue;
        city_trace t = {.wo = e->wo};
        redisContext *masters[MASTERS_MAX];
        int n_masters = h_redis_masters(env, masters, MASTERS_MAX);
        bool kept = false;
        for (int m = 0; m < n_masters; m++) {
            redisContext *rc = masters[m];
            redisReply *keys = redisCommand(rc, "KEYS cfd:*:city*:*");
            for (size_t k = 0; keys && k < keys->elements && !kept; k++) {
                redisReply *g = redisCommand(rc, "GET %s", keys->element[k]->str);
                cfd_city_state *st = NULL;
                char errstr[256];
                if (g && g->type == REDIS_REPLY_STRING &&
                    !cfd_codec_city_state_decode(g->str, g->len, &st, errstr,
                                                 sizeof(errstr)))
                    for (size_t j = 0; j < st->n_reports && !kept; j++)
                        kept = strcmp(st->reports[j].work_order, e->wo) == 0;
                cfd_city_state_destroy(st);
                freeReplyObject(g);
            }
            freeReplyObject(keys);
        }
        if (kept) {
            for (int m = 0; m < n_masters; m++)
                redisFree(masters[m]);
            continue;
        }
        /* The whole topic (to its ends), the city stage's position in it, and the
         * outboxes: produced and not applied, or never produced, or still waiting. */
        int64_t ends[PARTS], total = 0;
        if (h_topic_ends(env, "confirmd.city-reports", ends, PARTS, 10000) == 0)
            for (int p = 0; p < PARTS; p++)
                total += ends[p];
        h_consumer *c = h_consume_open(env, "confirmd.city-reports");
        int read = h_consume_until(c, (int)total, 30000, city_trace_cb, &t);
        h_consume_close(c);
        char applied[400] = "", *ap = applied;
        long long in_outbox = 0;
        for (int p = 0; p < PARTS; p++) {
            char tag[16];
            snprintf(tag, sizeof(tag), "{p%d}", p);
            redisContext *rc = h_redis_connect_key(env, tag);
            redisReply *o =
                rc ? redisCommand(rc, "HGET cfd:{p%d}:meta off:confirmd.city-reports", p)
                   : NULL;
            if (o && o->type == REDIS_REPLY_STRING)
                ap += snprintf(ap, sizeof(applied) - (size_t)(ap - applied),
                               " [%d] %s/%lld", p, o->str, (long long)ends[p]);
            freeReplyObject(o);
            if (rc)
                redisFree(rc);
        }
        /* Every master's outboxes (a script reads the keys of its own node only). */
        for (int m = 0; m < n_masters; m++) {
            redisReply *ob =
                redisCommand(masters[m], "EVAL %s 0 %s",
                             "local n = 0 for _, k in ipairs(redis.call('KEYS', "
                             "'cfd:*:outbox')) do for _, f in ipairs(redis.call("
                             "'HKEYS', k)) do if string.find(f, ARGV[1], 1, true) "
                             "then n = n + 1 end end end return n",
                             e->wo);
            if (ob && ob->type == REDIS_REPLY_INTEGER)
                in_outbox += ob->integer;
            freeReplyObject(ob);
            redisFree(masters[m]);
        }
        fprintf(stderr,
                "chaos: city report of %s (record v%u) not in its key: %d on the "
                "topic (read %d of %lld)%s%s; outbox entries naming it %lld; city "
                "stage applied/end:%s\n",
                e->wo, e->version, t.on_topic, read, (long long)total,
                t.on_topic ? ", the last " : "", t.last, in_outbox, applied);
        shown++;
    }
}

/* Waits up to timeout_ms for the city keys and the objects to settle (their inputs come
 * through topics of their own after the events drained). */
static stage_report stage_wait(h_env *env, const workload *wl, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    stage_report r;
    for (;;) {
        r = stage_scan(env, wl);
        if (r.city_missing + r.city_wrong + r.city_unexpected + r.objects_missing +
                    r.objects_bound + r.objects_wrong ==
                0 ||
            h_now_ms() >= until)
            return r;
        pause_ms(500);
    }
}

/* --- the test ------------------------------------------------------------------------- */

static int setup(void **state)
{
    h_env *env = h_env_new("chaos");
    if (!env || (h_redis_is_cluster() ? h_cluster_start(env, 3, 1) : h_redis_start(env)) ||
        h_broker_start_n(env, h_broker_is_kafka() ? KAFKA_NODES : 1, NULL) ||
        h_set_sim_clock(env, H_WL_T0))
        return -1;
    *state = env;
    return 0;
}

static void test_chaos(void **state)
{
    h_env *env = *state;
    bool cluster = h_redis_is_cluster();
    int n_orders = env_int("CFD_CHAOS_ORDERS", cluster ? 600 : 2000);
    int n_kills = env_int("CFD_CHAOS_KILLS", cluster ? 8 : 20);
    const char *seed_s = getenv("CFD_CHAOS_SEED");
    uint64_t seed = seed_s && *seed_s
                        ? strtoull(seed_s, NULL, 0)
                        : (uint64_t)time(NULL) * 2654435761ULL ^ (uint64_t)getpid();
    int64_t t_start = h_now_ms();
    chaos c = {.env = env, .seed = seed ^ 0xc4a05ULL, .victim = -1};
    bool rtt_on = false, broker_down = false;

    assert_true(n_orders >= 10 && n_kills >= 1);
    /* The expected alerts follow the delivery order (see order_build), which the
     * harness' idempotent producer keeps per work order. */
    printf("chaos: seed 0x%" PRIx64 ", %d orders, %d kills\n", seed, n_orders, n_kills);
    fflush(stdout);

    /* Waves span the kill phase, at most 50 orders each. */
    int n_waves = n_orders / 50 > 10 ? n_orders / 50 : 10;
    workload *wl = workload_new(n_orders, n_waves, seed);
    int n_msgs = 0;
    for (int w = 0; w < n_waves; w++)
        n_msgs += wl->wave_len[w];
    printf(
        "chaos: workload: %d messages: %d events (%d repeated), %d bad; %d orders "
        "reordered (%d of them with alerts that depend on it), %d opened late, %d spread "
        "over waves; built in %" PRId64 " ms\n",
        n_msgs, wl->good, wl->dups, wl->bad, wl->reordered, wl->path_alerts, wl->early,
        wl->spread, h_now_ms() - t_start);

    for (int i = 0; i < WANT_WORKERS; i++)
        worker_start(&c);
    assert_int_equal(h_wait_file_contains(h_worker_log_path(env, 0), "claimed", 60000), 0);

    /* The chaos phase: about 4.5 s per kill (see strike()). */
    int64_t phase_ms = (int64_t)n_kills * 4500;
    int64_t t0 = h_now_ms();
    int64_t next_wave = t0, next_kill = t0, next_fault = t0 + rnd(&c, 1000, 2500);
    int64_t broker_up_at = 0, waiting_since = 0, armed_at = 0;
    /* On a cluster a failover and a migration take the restarts' place. */
    int n_restarts = cluster ? 0 : 1 + n_kills / 40, waves_sent = 0, pending = 0,
        strikes = 0;
    int n_leaves = 1 + n_kills / 10;
    bool broker_was_down = h_broker_is_kafka(); /* there, node_fault() takes nodes down */
    int64_t wave_every = phase_ms / n_waves;
    while (waves_sent < n_waves || c.kills < n_kills || c.redis_restarts < n_restarts ||
           broker_down || !broker_was_down ||
           (cluster && (c.migrations < 1 || c.failovers < 1 || c.victim >= 0))) {
        int64_t now = h_now_ms();
        if (now - t0 > 3 * phase_ms + 60000) {
            fprintf(stderr,
                    "chaos: the chaos phase is stuck: %d of %d kills, %d waves of "
                    "%d, %d workers, %d to restart; node down %d\n",
                    c.kills, n_kills, waves_sent, n_waves, c.n_pool, pending, c.node_down);
            stuck_explain(&c);
            fail();
        }
        supervise(&c, true);
        if (waves_sent < n_waves && now >= next_wave) {
            send_wave(env, wl, waves_sent++);
            next_wave = now + wave_every;
        }
        if (c.kills < n_kills && now >= next_kill && !armed_at && waves_sent < n_waves &&
            someone_owns(&c)) {
            /* Feed the owners a wave and strike while they work on it. */
            send_wave(env, wl, waves_sent++);
            next_wave = now + wave_every;
            armed_at = now + rnd(&c, 20, 300);
        }
        if (c.kills < n_kills && now >= next_kill && now >= armed_at) {
            armed_at = 0;
            /* Every 5th strike is a graceful leave, while leaves are due. */
            bool gently = strikes % 5 == 4 && c.leaves < n_leaves;
            if (strike(&c, &pending, gently)) {
                strikes++;
                waiting_since = 0;
                if (active(&c) < 2) {
                    restart_pending(&c, &pending);
                    /* the next strike once the new assignment is being worked on */
                    next_kill = INT64_MAX;
                } else {
                    next_kill = now + rnd(&c, 1500, 3000);
                }
            } else if (!waiting_since) {
                waiting_since = now;
            } else if (pending && now - waiting_since > 3000) {
                /* nobody owns partitions (a rebalance): bring the pool back */
                restart_pending(&c, &pending);
            }
        }
        if (next_kill == INT64_MAX && someone_owns(&c)) /* after the restarts: while */
            next_kill = now + rnd(&c, 0, 400);          /* the backlog is worked on */
        if (h_broker_is_kafka()) {
            /* the next node goes down only once the last is back in every ISR: two
             * down at once lose the controller quorum and min.insync.replicas */
            if (!c.node_down && now >= next_fault && !h_broker_in_sync(env, KAFKA_NODES))
                next_fault = now + 500;
            else if (c.node_down ? now >= c.node_up_at : now >= next_fault) {
                node_fault(&c, now);
                if (!c.node_down)
                    next_fault = now + rnd(&c, 2000, 5000);
            }
        } else if (now >= next_fault) {
            inject_fault(&c, &rtt_on);
            next_fault = now + rnd(&c, 2000, 3500);
        }
        if (!broker_was_down && c.kills >= n_kills * 6 / 10) {
            ctl(&c, "broker-down 1", true);
            broker_down = broker_was_down = true;
            broker_up_at = now + 1500;
        }
        if (broker_down && now >= broker_up_at) {
            ctl(&c, "broker-up 1", false);
            broker_down = false;
        }
        if (cluster)
            cluster_chaos(&c, n_kills, now);
        if (c.redis_restarts < n_restarts && all_started(&c) &&
            c.kills >= n_kills * (4 + 4 * c.redis_restarts / n_restarts) / 10) {
            /* (a worker still starting would fail its start-up: exit 1, by design) */
            assert_int_equal(h_redis_restart(env), 0);
            c.redis_restarts++;
        }
        pause_ms(20);
    }
    restart_pending(&c, &pending);
    int64_t t_chaos = h_now_ms() - t0;

    /* Stop the chaos; what is left must drain on its own. */
    clear_faults(&c);
    assert_int_equal(h_flush(env, 60000), 0);
    while (active(&c) < 2)
        worker_start(&c);
    int64_t ends[PARTS], in_total = 0;
    assert_int_equal(h_topic_ends(env, TOPIC, ends, PARTS, 10000), 0);
    for (int p = 0; p < PARTS; p++)
        in_total += ends[p];
    int64_t t1 = h_now_ms();
    assert_int_equal(wait_drained(&c, ends, 180000), 0);
    int64_t t_drain = h_now_ms() - t1;

    /* Redis: every order's state is the oracle's record, byte for byte. */
    int lost_state = h_wait_redis_records(env, wl->exp, (size_t)wl->n, PARTS, 10000);
    /* The city keys hold every city order's last report; no object is left bound. */
    stage_report sr = stage_wait(env, wl, 60000);
    if (sr.city_missing)
        stage_explain(env, wl);

    /* Records: the final version of every order, with the oracle's bytes; earlier
     * versions only of the same order (an amendment after a close). */
    idlist recs, alerts, dls;
    read_topic(env, "confirmd.records", &recs);
    read_topic(env, "confirmd.alerts", &alerts);
    read_topic(env, "confirmd.deadletter", &dls);
    id_stats rs = id_scan(&recs, "record"), as = id_scan(&alerts, "alert"),
             ds = id_scan(&dls, "dead letter");
    int rec_missing = 0, rec_wrong = 0, rec_unexpected = 0, alert_missing = 0,
        alert_unexpected = 0, n_alerts = 0, amended = 0;
    for (int i = 0; i < wl->n; i++) {
        const h_expect *e = &wl->exp[i];
        char id[400];
        snprintf(id, sizeof(id), "rec/%s/v%u", e->wo, e->version);
        const idrec *r = idlist_find(&recs, id);
        if (!r) {
            if (rec_missing++ < 5)
                fprintf(stderr, "chaos: record %s never emitted\n", id);
        } else if (r->digest != fnv(e->record, e->record_len)) {
            if (rec_wrong++ < 5)
                fprintf(stderr, "chaos: record %s differs from the oracle\n", id);
        }
        for (int a = 0; a < e->n_alerts; a++, n_alerts++) {
            if (!idlist_find(&alerts, e->alert_ids[a]) && alert_missing++ < 5)
                fprintf(stderr, "chaos: alert %s never emitted\n", e->alert_ids[a]);
        }
    }
    for (int i = 0; i < recs.n; i++) { /* ids no order calls for */
        unsigned v = 0;
        int n = -1;
        if (i > 0 && strcmp(recs.v[i].id, recs.v[i - 1].id) == 0)
            continue;
        if (sscanf(recs.v[i].id, "rec/WO-C-%d/v%u", &n, &v) != 2 || n < 0 || n >= wl->n ||
            v > wl->exp[n].version) {
            if (rec_unexpected++ < 5)
                fprintf(stderr, "chaos: unexpected record %s\n", recs.v[i].id);
        } else if (v < wl->exp[n].version) {
            amended++;
        }
    }
    for (int i = 0; i < alerts.n; i++) {
        const char *id = alerts.v[i].id;
        int n = -1;
        bool ok = false;
        if (i > 0 && strcmp(id, alerts.v[i - 1].id) == 0)
            continue;
        if (sscanf(id, "alert/WO-C-%d/", &n) == 1 && n >= 0 && n < wl->n)
            for (int a = 0; a < wl->exp[n].n_alerts && !ok; a++)
                ok = strcmp(wl->exp[n].alert_ids[a], id) == 0;
        if (!ok && alert_unexpected++ < 5)
            fprintf(stderr, "chaos: unexpected alert %s\n", id);
    }

    /* Dead letters: one per bad input offset, right reason and bytes. */
    h_dl_report dl;
    assert_int_equal(
        h_dl_check(env, TOPIC, (int)in_total, NULL, "confirmd.deadletter", 30000, &dl), 0);

    int claims = 0, pii = 0, san = 0;
    for (int i = 0; i < c.n_started; i++)
        claims += h_file_count(h_worker_log_path(env, i), "partition 0 claimed") > 0
                      ? h_file_count(h_worker_log_path(env, i), "partition 0 claimed")
                      : 0;
    int lost = lost_state + rec_missing + alert_missing + dl.missing + sr.city_missing +
               sr.objects_missing;
    int wrong = rec_wrong + rs.conflicts + rec_unexpected + dl.wrong + dl.unexpected +
                sr.city_wrong + sr.city_unexpected + sr.objects_bound + sr.objects_wrong;
    int dups = rs.duplicates + as.duplicates + ds.duplicates;

    /* Graceful stop: every worker leaves with status 0 (and, under ASan, leak-free). */
    for (int i = 0; i < c.n_pool; i++) {
        if (!c.pool[i].leaving) {
            assert_int_equal(h_worker_kill(env, c.pool[i].pid, SIGTERM), 0);
            c.pool[i].leaving = true;
        }
    }
    for (int i = 0; i < c.n_pool; i++) {
        int code = h_worker_wait_exit(env, c.pool[i].pid, 30000);
        c.leave_codes[code & 255]++;
        if (code != 0)
            leave_failed(env, c.pool[i].idx, code);
    }
    c.n_pool = 0;
    for (int i = 0; i < c.n_started; i++) {
        pii += h_pii_hits(h_worker_log_path(env, i));
        san += sanitizer_hits(h_worker_log_path(env, i));
    }
    int other_exits = 0, bad_leaves = 0;
    char exits[256] = "", *ep = exits;
    for (int k = 0; k < 256; k++) {
        other_exits += c.exits_other[k];
        if (c.exits_other[k])
            ep += snprintf(ep, sizeof(exits) - (size_t)(ep - exits), " %dx status %d",
                           c.exits_other[k], k);
        if (k != 0 && c.leave_codes[k]) {
            bad_leaves += c.leave_codes[k];
            fprintf(stderr, "chaos: %d graceful leaves with status %d\n", c.leave_codes[k],
                    k);
        }
    }

    printf(
        "chaos: input %" PRId64 " messages (%d produced); records %d (%d distinct, %d "
        "amended versions, missing %d, wrong %d, unexpected %d, conflicts %d); alerts %d "
        "(%d distinct of %d expected, missing %d, unexpected %d, conflicts %d); dead "
        "letters %d for %d bad (missing %d, wrong %d, unexpected %d, conflicts %d); "
        "redis states wrong or missing %d\n",
        in_total, n_msgs, recs.n, rs.distinct, amended, rec_missing, rec_wrong,
        rec_unexpected, rs.conflicts, alerts.n, as.distinct, n_alerts, alert_missing,
        alert_unexpected, as.conflicts, dls.n, dl.bad, dl.missing, dl.wrong, dl.unexpected,
        ds.conflicts, lost_state);
    printf("chaos: city reports of %d orders (missing %d, wrong %d, unexpected %d); the "
           "orders' circuit objects: no notice %d, still bound to an order %d, wrong last "
           "order %d\n",
           sr.city_expected, sr.city_missing, sr.city_wrong, sr.city_unexpected,
           sr.objects_missing, sr.objects_bound, sr.objects_wrong);
    printf("chaos: %d workers started, %d kills and %d graceful leaves of workers owning "
           "partitions (%d leaves not status 0), %d joins, exits by themselves:%s; "
           "partition 0 "
           "claimed %d times; chaos %" PRId64 " ms, drain %" PRId64 " ms, total %" PRId64
           " ms; pii %d, sanitizer reports %d\n",
           c.n_started, c.kills, c.leaves, bad_leaves, c.joins,
           other_exits ? exits : " none", claims, t_chaos, t_drain, h_now_ms() - t_start,
           pii, san);
    if (h_broker_is_kafka())
        printf("chaos: Apache Kafka, %d nodes: %d killed with SIGKILL, %d stopped cleanly, "
               "each back 2-6 s later\n",
               KAFKA_NODES, c.node_kills, c.node_stops);
    printf("chaos: events %" PRId64 ", kills %d, rebalances %d, faults %d, redis restarts "
           "%d, lost %d, duplicates-by-id %d, wrong records %d\n",
           in_total, c.kills, claims, c.faults, c.redis_restarts, lost, dups, wrong);
    if (cluster)
        printf("chaos: Redis Cluster, 3 masters + 3 replicas: lost %d, wrong %d, "
               "failovers %d, migrations %d (%d keys moved)\n",
               lost, wrong, c.failovers, c.migrations, c.keys_migrated);
    fflush(stdout);

    assert_int_equal(lost, 0);
    assert_int_equal(wrong, 0);
    assert_int_equal(alert_unexpected, 0);
    assert_int_equal(as.conflicts + ds.conflicts, 0);
    assert_true(dl.bad >=
                wl->bad); /* more only if the broker stored a retried send twice */
    assert_true(c.kills >= n_kills);
    if (cluster) {
        assert_int_equal(c.failovers, 1);
        assert_int_equal(c.migrations, 1);
    }
    assert_int_equal(pii, 0);
    assert_int_equal(san, 0);
    assert_int_equal(bad_leaves, 0);
    /* A worker may be fenced (status 3: it lost a partition while stalled) and
     * restarted; any other exit is a crash. */
    assert_int_equal(other_exits - c.exits_other[3], 0);

    idlist_free(&recs);
    idlist_free(&alerts);
    idlist_free(&dls);
    workload_free(wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chaos, setup, h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * librdkafka configuration; see include/confirmd/kafka.h.
 */
#include "confirmd/kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confirmd/alloc.h"
#include "confirmd/log.h"

#define MOD "kafka"

typedef struct kv {
    const char *key, *value;
} kv;

/* Defaults an operator may change. */
static const kv consumer_defaults[] = {
    {"bootstrap.servers", "localhost:9092"},
    {"group.id", "confirmd"},
    {"auto.offset.reset", "earliest"},
    /* Eager: librdkafka 2.0.2's cooperative-sticky can lose an assignment when
     * committing during a rebalance (issue 4059). All members must agree. */
    {"partition.assignment.strategy", "range"},
    /* A Redis outage stalls the loop while it retries; don't get kicked for it. */
    {"max.poll.interval.ms", "600000"},
    /* Event -> output latency: a fetch waits at most 10 ms for data (librdkafka's 500
     * ms was most of the latency at a steady load). A busy partition fills its fetch
     * anyway; a quiet one costs about 100 small fetch requests a second. */
    {"fetch.wait.max.ms", "10"},
};
static const kv producer_defaults[] = {
    {"bootstrap.servers", "localhost:9092"},
    {"linger.ms", "5"},
    {"batch.num.messages", "10000"},
    {"message.timeout.ms", "300000"},
};
static const kv admin_defaults[] = {
    {"bootstrap.servers", "localhost:9092"},
};

/* Settings the guarantee rests on: applied last. */
static const kv consumer_forced[] = {
    /* Offsets are committed by hand once state and outputs are durable. */
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
};
static const kv producer_forced[] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    /* librdkafka 2.0.2 with more than one Produce request in flight loses messages:
     * a new producer whose first request to a partition fails while the partition's
     * leadership moves has its second one taken by the new leader (which has no state
     * for the producer, so accepts any first sequence), and the first is then lost
     * although reported delivered (confluent-kafka-go issue 921). Seen on Apache Kafka
     * 4.1 in the chaos test (kafka.it_chaos: 40 notices lost with 5 in flight); the
     * mock loses in-flight requests under injected errors the same way. */
    {"max.in.flight.requests.per.connection", "1"},
};

#define KVS(a) a, sizeof(a) / sizeof(a[0])

/* Each role's defaults and forced settings, by role number. */
static const struct {
    const kv *defaults;
    size_t n_defaults;
    const kv *forced;
    size_t n_forced;
} roles[] = {
    [CFD_KAFKA_CONSUMER] = {KVS(consumer_defaults), KVS(consumer_forced)},
    [CFD_KAFKA_PRODUCER] = {KVS(producer_defaults), KVS(producer_forced)},
    [CFD_KAFKA_ADMIN] = {KVS(admin_defaults), NULL, 0},
};

static int set_all(rd_kafka_conf_t *conf, const kv *v, size_t n, char *errstr,
                   size_t errstr_size)
{
    for (size_t i = 0; i < n; i++) {
        if (rd_kafka_conf_set(conf, v[i].key, v[i].value, errstr, errstr_size) !=
            RD_KAFKA_CONF_OK)
            return -1;
    }
    return 0;
}

/* Consumer-only keys given to both clients would make the producer warn. */
static bool consumer_only(const char *key)
{
    return strcmp(key, "group.id") == 0 || strncmp(key, "session.", 8) == 0 ||
           strncmp(key, "heartbeat.", 10) == 0 || strcmp(key, "auto.offset.reset") == 0 ||
           strcmp(key, "partition.assignment.strategy") == 0 ||
           strcmp(key, "max.poll.interval.ms") == 0;
}

/*
 * Sets the operator's kafka.* properties for role on conf: the shared ones first, then
 * the role's own, so a scoped value wins whatever their order in the file.
 */
static int set_passthrough(rd_kafka_conf_t *conf, const cfd_kafka_opts *opts, int role,
                           char *errstr, size_t errstr_size)
{
    static const char *const prefix[] = {"kafka.", "kafka.consumer.", "kafka.producer."};

    for (int pass = 0; pass < 2; pass++) {
        int want = pass == 0 ? CFD_KAFKA_BOTH : role;
        for (size_t i = 0; i < opts->n_props; i++) {
            const cfd_kafka_prop *p = &opts->props[i];
            char e[256];
            if (p->scope != want || (want == CFD_KAFKA_BOTH && role != CFD_KAFKA_CONSUMER &&
                                     consumer_only(p->key)))
                continue;
            if (rd_kafka_conf_set(conf, p->key, p->value, e, sizeof(e)) !=
                RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "%s%s: %s", prefix[p->scope], p->key, e);
                return -1;
            }
        }
    }
    return 0;
}

/* librdkafka's own log lines, through the one logger. Its errors also reach the
 * clients' error callbacks, which log each once at ERROR (cfd_kafka_report): its
 * ERR-level lines would say them twice, so they go to DEBUG. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    cfd_log_level l = level <= 3   ? CFD_LOG_DEBUG
                      : level <= 4 ? CFD_LOG_WARN
                      : level <= 6 ? CFD_LOG_INFO
                                   : CFD_LOG_DEBUG;
    cfd_log(l, "rdkafka", "%s: %s", fac, buf);
}

rd_kafka_conf_t *cfd_kafka_conf_new(const cfd_kafka_opts *opts, int role, char *errstr,
                                    size_t errstr_size)
{
    char client_id[128], host[64] = "host";

    if (role < CFD_KAFKA_CONSUMER || role > CFD_KAFKA_ADMIN) {
        snprintf(errstr, errstr_size, "no librdkafka client role %d", role);
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    gethostname(host, sizeof(host) - 1);
    snprintf(client_id, sizeof(client_id), "confirmd-%s-%d", host, (int)getpid());
    if (rd_kafka_conf_set(conf, "client.id", client_id, errstr, errstr_size))
        goto fail;
    if (set_all(conf, roles[role].defaults, roles[role].n_defaults, errstr, errstr_size))
        goto fail;
    if (set_passthrough(conf, opts, role, errstr, errstr_size))
        goto fail;
    if (set_all(conf, roles[role].forced, roles[role].n_forced, errstr, errstr_size))
        goto fail;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_t *cfd_kafka_new(const cfd_kafka_opts *opts, int role, void *opaque,
                          void (*set)(rd_kafka_conf_t *conf), char *errstr,
                          size_t errstr_size)
{
    rd_kafka_conf_t *conf = cfd_kafka_conf_new(opts, role, errstr, errstr_size);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, opaque);
    if (set)
        set(conf);
    rd_kafka_t *rk =
        rd_kafka_new(role == CFD_KAFKA_CONSUMER ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER,
                     conf, errstr, errstr_size);
    if (!rk)
        rd_kafka_conf_destroy(conf); /* rd_kafka_new takes it only when it succeeds */
    return rk;
}

cfd_kafka_fault cfd_kafka_fault_of(int err)
{
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        return CFD_KAFKA_FATAL;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL)
        return CFD_KAFKA_REFUSED;
    return CFD_KAFKA_TRANSIENT;
}

void cfd_kafka_report(cfd_kafka_error_fn fn, void *ctx, int err, const char *reason)
{
    char what[1024];
    snprintf(what, sizeof(what), "%s: %s", rd_kafka_err2name(err), reason);
    fn(ctx, cfd_kafka_fault_of(err), what);
}

bool cfd_kafka_prop_check(const char *prop, const char *value, char *errstr,
                          size_t errstr_size)
{
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    errstr[0] = '\0';
    rd_kafka_conf_res_t res = rd_kafka_conf_set(scratch, prop, value, errstr, errstr_size);
    rd_kafka_conf_destroy(scratch);
    return res == RD_KAFKA_CONF_OK;
}

size_t cfd_kafka_topic_names(const char *csv, char **names, size_t max)
{
    char *copy = cfd_xstrdup(csv), *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ')
            t[--len] = '\0';
        if (len && n++ < max)
            names[n - 1] = cfd_xstrdup(t);
    }
    free(copy);
    return n;
}

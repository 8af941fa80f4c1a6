/*
 * The topics of a configuration and the check of existing ones; see
 * include/confirmd/topics.h.
 */
#include "confirmd/topics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/kafka.h"
#include "confirmd/text.h"

#define MAX_PARTITIONS 100000
#define MAX_REPLICATION 32767 /* an INT16 in CreateTopics */

/* The topics other than the input ones: where their name is configured, whether they
 * share the input topics' partitions, and the configs they rely on. */
static const struct {
    const char *key;
    size_t offset;
    bool copartitioned;
    const char *cleanup_policy; /* NULL: the broker's default (delete) */
} fixed_topics[] = {
    {"worker.records_topic", offsetof(cfd_config, records_topic), false, NULL},
    {"worker.alerts_topic", offsetof(cfd_config, alerts_topic), false, NULL},
    {"worker.deadletter_topic", offsetof(cfd_config, deadletter_topic), false, NULL},
    {"worker.incidents_topic", offsetof(cfd_config, incidents_topic), false, NULL},
    {"worker.alarms_topic", offsetof(cfd_config, alarms_topic), true, NULL},
    {"worker.tmf642_alarms_topic", offsetof(cfd_config, tmf642_alarms_topic), true, NULL},
    /* A table of network objects keyed by object id: compaction keeps each object's
     * latest record (or its deletion) for as long as the topic lives. */
    {"worker.inventory_topic", offsetof(cfd_config, inventory_topic), true, "compact"},
    /* Not compacted: its key is <city>|<service>, shared by the reports of every order
     * of one city and service, and compaction would keep only the latest of them for
     * a worker that replays the topic (worker.on_state_loss = replay) or lags behind.
     * The stage's state lives in Redis; the topic carries its changes, like the
     * events topic, and time-based retention suits it the same way. */
    {"worker.city_reports_topic", offsetof(cfd_config, city_reports_topic), true, NULL},
};

static void spec_add_conf(cfd_topic_spec *spec, const char *name, const char *value)
{
    cfd_topic_conf *c = &spec->configs[spec->n_configs++];
    c->name = name;
    cfd_text_copy(c->value, sizeof(c->value), value);
}

/* Adds name unless the set has it already. */
static void set_add(cfd_topic_set *set, const char *name, const char *key,
                    bool copartitioned, const char *cleanup_policy,
                    const cfd_topic_opts *opts)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->specs[i].name, name) == 0)
            return;
    set->specs = cfd_xrealloc(set->specs, (set->n + 1) * sizeof(*set->specs));
    cfd_topic_spec *spec = &set->specs[set->n++];
    memset(spec, 0, sizeof(*spec));
    spec->name = cfd_xstrdup(name);
    spec->key = key;
    spec->partitions = opts->partitions;
    spec->replication = opts->replication;
    spec->copartitioned = copartitioned;
    if (cleanup_policy)
        spec_add_conf(spec, "cleanup.policy", cleanup_policy);
    if (opts->min_insync > 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", opts->min_insync);
        spec_add_conf(spec, "min.insync.replicas", v);
    }
}

cfd_topic_set *cfd_topic_set_new(const cfd_config *cfg, const cfd_topic_opts *opts,
                                 char *errstr, size_t errstr_size)
{
    if (opts->partitions < 1 || opts->partitions > MAX_PARTITIONS) {
        snprintf(errstr, errstr_size, "partitions: %d is out of range 1..%d",
                 opts->partitions, MAX_PARTITIONS);
        return NULL;
    }
    if (opts->replication != -1 &&
        (opts->replication < 1 || opts->replication > MAX_REPLICATION)) {
        snprintf(
            errstr, errstr_size,
            "replication factor: %d is out of range 1..%d (or -1, the broker's default)",
            opts->replication, MAX_REPLICATION);
        return NULL;
    }
    int max_isr = opts->replication > 0 ? opts->replication : MAX_REPLICATION;
    if (opts->min_insync < 0 || opts->min_insync > max_isr) {
        snprintf(errstr, errstr_size, "min.insync.replicas: %d is out of range 1..%d%s",
                 opts->min_insync, max_isr,
                 opts->replication > 0 ? " (the replication factor)" : "");
        return NULL;
    }

    cfd_topic_set *set = cfd_xcalloc(1, sizeof(*set));
    /* Split as the worker splits it, so the names are the ones it subscribes to. */
    char *inputs[64];
    size_t n = cfd_kafka_topic_names(cfg->input_topics, inputs, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        set_add(set, inputs[i], "worker.input_topics", true, NULL, opts);
        free(inputs[i]);
    }
    for (size_t i = 0; i < sizeof(fixed_topics) / sizeof(fixed_topics[0]); i++) {
        const char *name = *(char *const *)((const char *)cfg + fixed_topics[i].offset);
        if (*name) /* empty: the stage is off */
            set_add(set, name, fixed_topics[i].key, fixed_topics[i].copartitioned,
                    fixed_topics[i].cleanup_policy, opts);
    }
    return set;
}

void cfd_topic_set_destroy(cfd_topic_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        free(set->specs[i].name);
    free(set->specs);
    free(set);
}

const char *cfd_topic_spec_configs(const cfd_topic_spec *spec, char *buf, size_t size)
{
    size_t used = 0;
    snprintf(buf, size, "-");
    for (size_t i = 0; i < spec->n_configs && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s=%s", i ? "," : "",
                         spec->configs[i].name, spec->configs[i].value);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* Appends "; text" (or text, first) to why, and counts a difference. */
static void why_add(int *n, char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void why_add(int *n, char *why, size_t why_size, const char *fmt, ...)
{
    size_t used = why_size ? strlen(why) : 0;
    va_list ap;
    (*n)++;
    if (used + 3 >= why_size)
        return;
    if (used) {
        memcpy(why + used, "; ", 3);
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(why + used, why_size - used, fmt, ap);
    va_end(ap);
}

cfd_topic_state cfd_topic_check(const cfd_topic_spec *spec, const cfd_topic_seen *seen,
                                char *why, size_t why_size)
{
    int n = 0;
    if (why_size)
        why[0] = '\0';
    if (!seen->exists)
        return CFD_TOPIC_MISSING;
    /* Only the co-partitioned topics must have the count: an output topic made
     * earlier with another (the embedded broker's 4, a deployment's own) is fine. */
    if (spec->copartitioned && seen->partitions != spec->partitions)
        why_add(&n, why, why_size,
                "%d partitions, %d asked (the input, alarms, inventory and city-reports "
                "topics share one count)",
                seen->partitions, spec->partitions);
    if (spec->replication > 0 && seen->replication != spec->replication)
        why_add(&n, why, why_size, "replication factor %d, %d asked", seen->replication,
                spec->replication);
    for (size_t i = 0; i < spec->n_configs; i++) {
        const cfd_topic_conf *c = &spec->configs[i];
        if (seen->configs[i] && strcmp(seen->configs[i], c->value) != 0)
            why_add(&n, why, why_size, "%s=%s, %s asked", c->name, seen->configs[i],
                    c->value);
        if (strcmp(c->name, "min.insync.replicas") == 0 &&
            seen->replication < atoi(c->value))
            why_add(&n, why, why_size,
                    "replication factor %d is below min.insync.replicas=%s: every write "
                    "with acks=all (the worker's) would be refused",
                    seen->replication, c->value);
    }
    return n ? CFD_TOPIC_DIFFERS : CFD_TOPIC_EXISTS;
}

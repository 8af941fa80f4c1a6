/*
 * The Kafka topics a deployment needs, read from the worker's own configuration so
 * that their names always match what confirmd consumes and produces: each with the
 * partition count, replication and topic configs the service relies on, and the
 * check of a topic that already exists against them. Pure: `confirmctl topics
 * create` talks to the cluster.
 *
 * Partitions: one count for every topic. The input topics, the alarms, the inventory
 * and the city reports must share it (the range assignor gives partition N of each to
 * the worker that keeps the {pN} state); the output topics take it too, so one number
 * describes a deployment.
 */
#ifndef CONFIRMD_TOPICS_H
#define CONFIRMD_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#include "confirmd/config.h"

#define CFD_TOPIC_MAX_CONFIGS 2

/* A broker-side topic config (cleanup.policy, min.insync.replicas). */
typedef struct cfd_topic_conf {
    const char *name; /* static */
    char value[24];
} cfd_topic_conf;

/* One topic as the service needs it. */
typedef struct cfd_topic_spec {
    char *name;
    const char *key; /* the configuration key naming it: "worker.inventory_topic" */
    int partitions;
    int replication;    /* -1: the broker's default.replication.factor */
    bool copartitioned; /* must have the input topic's partition count */
    size_t n_configs;
    cfd_topic_conf configs[CFD_TOPIC_MAX_CONFIGS];
} cfd_topic_spec;

/* What the operator asks for every topic. */
typedef struct cfd_topic_opts {
    int partitions;  /* 1 or more */
    int replication; /* 1 or more, or -1 for the broker's default */
    int min_insync;  /* min.insync.replicas, 0 to leave the broker's default */
} cfd_topic_opts;

/* The topics of one configuration, in the order of the configuration keys. */
typedef struct cfd_topic_set {
    cfd_topic_spec *specs;
    size_t n;
} cfd_topic_set;

/*
 * Builds the topics cfg names: every input topic, the records, alerts, dead-letter and
 * incidents topics, and the alarms, inventory and city-reports topics unless their key
 * is empty (stage off). A name given by two keys is one topic, with the first key's
 * settings.
 * @returns a new set, or NULL with errstr filled when opts are out of range.
 */
cfd_topic_set *cfd_topic_set_new(const cfd_config *cfg, const cfd_topic_opts *opts,
                                 char *errstr, size_t errstr_size);

/* NULL-safe. */
void cfd_topic_set_destroy(cfd_topic_set *set);

/*
 * Writes spec's configs as "name=value,name=value", or "-" when it has none.
 * @returns buf.
 */
const char *cfd_topic_spec_configs(const cfd_topic_spec *spec, char *buf, size_t size);

/* What the cluster holds of one topic, from metadata and DescribeConfigs. */
typedef struct cfd_topic_seen {
    bool exists;
    int partitions;
    int replication;                            /* fewest replicas of any partition */
    const char *configs[CFD_TOPIC_MAX_CONFIGS]; /* of spec->configs[i]; NULL: unknown */
} cfd_topic_seen;

typedef enum cfd_topic_state {
    CFD_TOPIC_MISSING = 0, /* to be created */
    CFD_TOPIC_EXISTS = 1,  /* as asked */
    CFD_TOPIC_DIFFERS = 2, /* exists otherwise: confirmctl does not change it */
} cfd_topic_state;

/*
 * Compares what the cluster has of spec's topic with spec: the partition count, the
 * replication when one was asked, each config whose value is known, and a replication
 * below min.insync.replicas (every acks=all write, the worker's, would be refused).
 * @returns the state; for CFD_TOPIC_DIFFERS why holds every difference.
 */
cfd_topic_state cfd_topic_check(const cfd_topic_spec *spec, const cfd_topic_seen *seen,
                                char *why, size_t why_size);

#endif

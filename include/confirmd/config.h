/*
 * Configuration: one declarative table (name, type, default, description) in
 * src/app/config.c drives parsing, validation, defaults and the generated reference.
 *
 * Sources, later wins: built-in defaults, an INI file ("[redis]\nport = 6380" is the
 * key "redis.port"), then command-line "--set key=value" overrides.
 * Keys under "kafka." are not in the table: they pass straight to librdkafka
 * ("kafka.X" to both clients, "kafka.consumer.X" / "kafka.producer.X" to one, which
 * wins over "kafka.X" whatever their order: cfd_kafka_conf_new in kafka.h) and are
 * checked with rd_kafka_conf_set() when set, so a bad one fails start-up too.
 */
#ifndef CONFIRMD_CONFIG_H
#define CONFIRMD_CONFIG_H

#include <stdio.h>

#include "confirmd/kafka.h"
#include "confirmd/store.h"
#include "confirmd/types.h"

typedef struct cfd_config {
    /* [worker] */
    char *input_topics; /* comma-separated */
    char *records_topic;
    char *alerts_topic;
    char *deadletter_topic;
    char *incidents_topic;       /* severe faults (Incident), keyed by incident id */
    char *alarms_topic;          /* NOC alarms, keyed by network object; "" = off */
    char *tmf642_alarms_topic;   /* NOC alarms in TMF642 JSON, keyed alike; "" = off */
    char *inventory_topic;       /* network objects (Circuit), compacted; "" = off */
    char *city_reports_topic;    /* internal CityReport, keyed by city|service; "" = off */
    bool alarm_by_customer;      /* alarms of a customer's objects decided together */
    int batch_size;              /* max events applied per Redis round trip */
    int deadletter_max_original; /* bytes of the original a dead letter carries at most */
    int64_t poll_timeout_ms;
    int64_t drain_timeout_ms; /* how long a stop or a revocation waits for deliveries */
    int64_t park_window_ms;   /* how long an event for an unknown order is parked */
    char *log_level;
    char *log_format;    /* "text" or "json" */
    char *log_file;      /* "" = stderr */
    char *clock;         /* "system" or "simulated" */
    char *on_state_loss; /* "refuse" or "replay": see worker.on_state_loss */
    char *policy_file;   /* SLA policy INI; "" = built-in defaults */

    /* [redis] */
    char *redis_host;
    int redis_port;
    char *redis_unix_socket; /* preferred over host/port when set */
    char *redis_user;
    char *redis_password; /* never logged */
    int redis_db;
    int64_t redis_timeout_ms;
    char *redis_key_prefix;
    bool redis_cluster;                    /* a Redis Cluster; host:port is a seed */
    char *redis_cluster_seeds;             /* more seeds: "host:port[,...]" */
    int redis_cluster_wait_replicas;       /* WAIT after a commit; 0 = none */
    int64_t redis_cluster_wait_timeout_ms; /* how long that WAIT waits */
    int64_t redis_retry_max_ms;            /* backoff ceiling while Redis is unreachable */

    /* [metrics] */
    char *metrics_listen;               /* "host:port" of the HTTP endpoints; "" = off */
    int64_t metrics_ready_max_stall_ms; /* /readyz fails when the loop stalls longer */

    /* [kafka] pass-through, in the order given */
    cfd_kafka_prop *kafka;
    size_t n_kafka;
} cfd_config;

/* @returns a config holding every default (never NULL, see confirmd/alloc.h). */
cfd_config *cfd_config_new(void);

/* NULL-safe. */
void cfd_config_destroy(cfd_config *cfg);

/*
 * Reads an INI file into cfg. Unknown keys and sections, keys outside a section,
 * indented or over-long lines and bad values are errors: errstr reads
 * "path:line: error: ..." for the first one. After an error cfg may hold part of
 * the file, so the caller stops rather than carrying on.
 * @returns CFD_OK or CFD_ERR_CONFIG.
 */
cfd_err cfd_config_load_file(cfd_config *cfg, const char *path, char *errstr,
                             size_t errstr_size);

/*
 * Sets one key ("redis.port", "kafka.bootstrap.servers") from its text form.
 * @returns CFD_OK or CFD_ERR_CONFIG with errstr filled ("redis.port: not an integer").
 */
cfd_err cfd_config_set(cfd_config *cfg, const char *key, const char *value, char *errstr,
                       size_t errstr_size);

/* Same as cfd_config_set for "key=value" text, as given to --set. */
cfd_err cfd_config_set_pair(cfd_config *cfg, const char *pair, char *errstr,
                            size_t errstr_size);

/* Writes the configuration reference (Markdown) generated from the table. */
void cfd_config_write_reference(FILE *out);

/* @returns the Redis options of cfg ([redis]); its strings stay cfg's. */
cfd_store_opts cfd_config_store_opts(const cfd_config *cfg);

/* @returns the librdkafka pass-through properties of cfg (kafka.*); they stay cfg's. */
cfd_kafka_opts cfd_config_kafka_opts(const cfd_config *cfg);

/*
 * Parses a duration: a number with unit ms, s, min, h or d ("500ms", "24h"); a bare
 * number is milliseconds. @returns 0 on success, -1 on a malformed value.
 */
int cfd_parse_duration_ms(const char *text, int64_t *out);

/*
 * Parses a listen address, "host:port" or "[v6-address]:port" (port 1..65535), into
 * host (without brackets; "" never: a host is required) and *port.
 * @returns 0 on success, -1 on anything else (or a host longer than host_size - 1).
 */
int cfd_parse_listen(const char *text, char *host, size_t host_size, int *port);

/*
 * Parses a boolean: true/false, yes/no, on/off, 1/0 (any case).
 * @returns 0 on success, -1 on anything else.
 */
int cfd_parse_bool(const char *text, bool *out);

#endif

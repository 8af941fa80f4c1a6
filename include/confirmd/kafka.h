/*
 * librdkafka client configuration from the operator's kafka.* properties: service
 * defaults first, then the pass-through keys (the shared "kafka.X" ones, then the
 * client's own "kafka.consumer.X" or "kafka.producer.X", so a scoped value wins
 * whatever the order it was given in), then the settings the delivery guarantee
 * depends on (which an operator cannot turn off by accident).
 */
#ifndef CONFIRMD_KAFKA_H
#define CONFIRMD_KAFKA_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

/* Which client a passed-through property goes to (cfd_kafka_prop.scope), and the
 * role of the client cfd_kafka_conf_new configures. */
enum {
    CFD_KAFKA_BOTH = 0,     /* "kafka.X" */
    CFD_KAFKA_CONSUMER = 1, /* "kafka.consumer.X" */
    CFD_KAFKA_PRODUCER = 2, /* "kafka.producer.X" */
    /* The role of an admin client (confirmctl topics): service defaults, nothing
     * forced, and of the pass-through keys only the shared "kafka.X" ones (SASL, TLS). */
    CFD_KAFKA_ADMIN = 3,
};

/* A librdkafka property passed through. */
typedef struct cfd_kafka_prop {
    char *key;   /* without the "kafka." / "kafka.consumer." / "kafka.producer." */
    char *value;
    int scope;   /* CFD_KAFKA_BOTH, _CONSUMER or _PRODUCER */
} cfd_kafka_prop;

/* What the clients are configured from. The app fills it from its kafka.* keys
 * (cfd_config_kafka_opts). */
typedef struct cfd_kafka_opts {
    const cfd_kafka_prop *props; /* in the order given */
    size_t n_props;
} cfd_kafka_opts;

/*
 * role is CFD_KAFKA_CONSUMER, CFD_KAFKA_PRODUCER or CFD_KAFKA_ADMIN.
 * @returns a new configuration for role (the caller owns it until rd_kafka_new takes
 *          it), or NULL with errstr filled.
 */
rd_kafka_conf_t *cfd_kafka_conf_new(const cfd_kafka_opts *opts, int role,
                                    char *errstr, size_t errstr_size);

/*
 * Creates a client of role (CFD_KAFKA_CONSUMER or CFD_KAFKA_PRODUCER) configured as by
 * cfd_kafka_conf_new, with opaque, after set (NULL: none) added to the configuration
 * what the caller needs (its callbacks).
 * @returns the client, or NULL with errstr filled.
 */
rd_kafka_t *cfd_kafka_new(const cfd_kafka_opts *opts, int role, void *opaque,
                          void (*set)(rd_kafka_conf_t *conf), char *errstr,
                          size_t errstr_size);

/*
 * @returns true when err, given to an error callback, means the brokers refused this
 * client: its SASL login (RD_KAFKA_RESP_ERR__AUTHENTICATION: wrong user or password,
 * mechanism not enabled) or the TLS handshake (RD_KAFKA_RESP_ERR__SSL: a broker
 * certificate that ssl.ca.location does not trust, a host name that does not match).
 * librdkafka 2.0.2 reports both as non-fatal errors and tries again for ever with the
 * same settings, which cannot succeed until the settings (or the brokers) change.
 */
bool cfd_kafka_refused(int err);

/* Splits a comma-separated topic list into a new partition list (partition -1). */
rd_kafka_topic_partition_list_t *cfd_kafka_topic_list(const char *csv);

#endif

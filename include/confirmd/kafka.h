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

#include <stddef.h>

/* librdkafka's own types stay inside the bus: only its programs and src/bus include
 * <librdkafka/rdkafka.h>. */
struct rd_kafka_s;
struct rd_kafka_conf_s;

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
    char *key; /* without the "kafka." / "kafka.consumer." / "kafka.producer." */
    char *value;
    int scope; /* CFD_KAFKA_BOTH, _CONSUMER or _PRODUCER */
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
struct rd_kafka_conf_s *cfd_kafka_conf_new(const cfd_kafka_opts *opts, int role,
                                           char *errstr, size_t errstr_size);

/*
 * Creates a client of role (CFD_KAFKA_CONSUMER or CFD_KAFKA_PRODUCER) configured as by
 * cfd_kafka_conf_new, with opaque, after set (NULL: none) added to the configuration
 * what the caller needs (its callbacks).
 * @returns the client, or NULL with errstr filled.
 */
struct rd_kafka_s *cfd_kafka_new(const cfd_kafka_opts *opts, int role, void *opaque,
                                 void (*set)(struct rd_kafka_conf_s *conf), char *errstr,
                                 size_t errstr_size);

/* What an error a client reports means for the app. */
typedef enum cfd_kafka_fault {
    CFD_KAFKA_TRANSIENT, /* the client goes on trying by itself */
    CFD_KAFKA_FATAL,     /* the client cannot go on */
    /* The brokers refused this client: its SASL login (wrong user or password,
     * mechanism not enabled) or the TLS handshake (a broker certificate that
     * ssl.ca.location does not trust, a host name that does not match). librdkafka
     * 2.0.2 reports both as non-fatal errors and tries again for ever with the same
     * settings, which cannot succeed until the settings (or the brokers) change. */
    CFD_KAFKA_REFUSED,
} cfd_kafka_fault;

/* An error callback of the bus's clients: what is "<error name>: <reason>". */
typedef void (*cfd_kafka_error_fn)(void *ctx, cfd_kafka_fault fault, const char *what);

/* @returns what err (an rd_kafka_resp_err_t given to an error callback) means. */
cfd_kafka_fault cfd_kafka_fault_of(int err);

/* Calls fn with what err and reason say (for a librdkafka error callback). */
void cfd_kafka_report(cfd_kafka_error_fn fn, void *ctx, int err, const char *reason);

/* Checks one librdkafka property against librdkafka itself.
 * @returns true when it takes value, else false with errstr filled (librdkafka's words,
 *          which may quote the value). */
bool cfd_kafka_prop_check(const char *prop, const char *value, char *errstr,
                          size_t errstr_size);

/* Splits a comma-separated topic list (blanks around names ignored) into at most max
 * names (malloc'd; the caller frees each). @returns how many there are, which may be
 * more than max. */
size_t cfd_kafka_topic_names(const char *csv, char **names, size_t max);

#endif

/*
 * librdkafka client configuration from the confirmd config: service defaults first,
 * then the operator's kafka.* pass-through keys (the shared "kafka.X" ones, then the
 * client's own "kafka.consumer.X" or "kafka.producer.X", so a scoped value wins
 * whatever the order it was given in), then the settings the delivery guarantee
 * depends on (which an operator cannot turn off by accident).
 */
#ifndef CONFIRMD_KAFKA_H
#define CONFIRMD_KAFKA_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "confirmd/config.h"

/* The role of an admin client (confirmctl topics): service defaults, nothing forced,
 * and of the pass-through keys only the shared "kafka.X" ones (SASL, TLS). */
enum { CFD_KAFKA_ADMIN = 3 };

/*
 * role is CFD_KAFKA_CONSUMER or CFD_KAFKA_PRODUCER (config.h), or CFD_KAFKA_ADMIN.
 * @returns a new configuration for role (the caller owns it until rd_kafka_new takes
 *          it), or NULL with errstr filled.
 */
rd_kafka_conf_t *cfd_kafka_conf_new(const cfd_config *cfg, int role,
                                    char *errstr, size_t errstr_size);

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

/*
 * Mock broker control: the line protocol that lets tests inject faults into the
 * librdkafka mock cluster from outside the process that owns it.
 *
 * Fault injection works only inside the process that created the mock cluster
 * (rd_kafka_mock_*), so confirmd-broker listens on a unix-domain socket and
 * applies one command per line, answering one line: "OK ..." or "ERR ...".
 *
 *   ping                                    OK pong
 *   bootstrap                               OK <bootstrap servers>
 *   broker-down ID | broker-up ID           take a broker's listener down / up
 *   rtt ID MS                               response delay (ID -1: all brokers)
 *   request-errors APIKEY ERR COUNT         next COUNT requests of APIKEY fail
 *   clear-request-errors APIKEY
 *   broker-request-error-rtts ID APIKEY ERR RTT_MS COUNT
 *   topic-create NAME PARTITIONS [REPLICATION]
 *   topic-error NAME ERR                    every request on NAME fails (ERR 0 clears)
 *   partition-leader TOPIC PARTITION BROKER
 *   coordinator group|txn KEY BROKER        pin a group / transactional id
 *   help                                    OK <command list>
 *   shutdown                                OK bye, then the broker exits
 *
 * APIKEY is a number or a Kafka request name (Produce, Fetch, Metadata, ...);
 * ERR is a number or an rd_kafka error name with or without its RD_KAFKA_RESP_ERR_
 * prefix (NOT_LEADER_FOR_PARTITION, _TRANSPORT, ...).
 */
#ifndef CONFIRMD_MOCKCTL_H
#define CONFIRMD_MOCKCTL_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define CFD_MOCKCTL_NAME_MAX 250 /* Kafka's topic name limit is 249 */

typedef enum cfd_mockctl_op {
    CFD_MOCKCTL_PING = 0,
    CFD_MOCKCTL_BOOTSTRAP,
    CFD_MOCKCTL_BROKER_DOWN,
    CFD_MOCKCTL_BROKER_UP,
    CFD_MOCKCTL_RTT,
    CFD_MOCKCTL_REQUEST_ERRORS,
    CFD_MOCKCTL_CLEAR_REQUEST_ERRORS,
    CFD_MOCKCTL_BROKER_REQUEST_ERROR_RTTS,
    CFD_MOCKCTL_TOPIC_CREATE,
    CFD_MOCKCTL_TOPIC_ERROR,
    CFD_MOCKCTL_PARTITION_LEADER,
    CFD_MOCKCTL_COORDINATOR,
    CFD_MOCKCTL_HELP,
    CFD_MOCKCTL_SHUTDOWN,
} cfd_mockctl_op;

/* One parsed command; which fields are meaningful depends on op. */
typedef struct cfd_mockctl_cmd {
    cfd_mockctl_op op;
    int32_t broker_id;
    int16_t api_key;
    rd_kafka_resp_err_t err;
    int count; /* errors to push, partitions to create */
    int rtt_ms;
    int32_t partition;
    int replication;                 /* topic-create; 0 means 1 */
    char name[CFD_MOCKCTL_NAME_MAX]; /* topic, group id or transactional id */
    char key_type[16];               /* "group" or "transaction" */
} cfd_mockctl_cmd;

/* Parses one command line (trailing "\r\n" allowed) into *cmd.
 * @returns 0, or -1 with a reason in errstr. */
int cfd_mockctl_parse(const char *line, cfd_mockctl_cmd *cmd, char *errstr,
                      size_t errstr_size);

/* Applies cmd to mcluster and writes the one-line answer ("OK ..." / "ERR ...",
 * no newline) to reply. SHUTDOWN only answers: stopping is the caller's job.
 * @returns 0 when the answer is OK, -1 when it is ERR. */
int cfd_mockctl_apply(rd_kafka_mock_cluster_t *mcluster, const cfd_mockctl_cmd *cmd,
                      char *reply, size_t reply_size);

/* Parses a "NAME:PARTITIONS" topic spec such as "confirmd.events:8".
 * @returns 0, or -1 with a reason in errstr. */
int cfd_mockctl_topic_spec_parse(const char *spec, char *name, size_t name_size,
                                 int *partitions, char *errstr, size_t errstr_size);

/* @returns the Kafka ApiKey for a request name ("Produce", "fetch") or a number in
 * 0..32767; -1 when unknown. */
int cfd_mockctl_api_key_parse(const char *s);

/* @returns 0 and sets *err for an error number or name; -1 when unknown. */
int cfd_mockctl_err_parse(const char *s, rd_kafka_resp_err_t *err);

/*
 * The control socket: a unix-domain listener serving any number of clients, each
 * sending lines and reading one answer per line. Single-threaded: the owner calls
 * cfd_mockctl_server_poll() in its main loop.
 */
typedef struct cfd_mockctl_server cfd_mockctl_server;

/* Binds path (an existing socket file there is replaced). mcluster is borrowed
 * and must outlive the server.
 * @returns the server, or NULL with a reason in errstr. */
cfd_mockctl_server *cfd_mockctl_server_new(rd_kafka_mock_cluster_t *mcluster,
                                           const char *path, char *errstr,
                                           size_t errstr_size);

/* Waits up to timeout_ms for activity and answers every complete line received.
 * @returns 1 when a client asked for shutdown (already answered), 0 otherwise,
 * -1 on a listener failure. */
int cfd_mockctl_server_poll(cfd_mockctl_server *srv, int timeout_ms);

/* Closes every connection and removes the socket file. NULL-safe. */
void cfd_mockctl_server_destroy(cfd_mockctl_server *srv);

#endif

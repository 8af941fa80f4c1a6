/*
 * Integration-test harness: a private redis-server, the embedded Kafka-protocol
 * broker (confirmd-broker) and confirmd workers, each started on free loopback
 * ports inside one temporary directory per environment, plus real librdkafka
 * clients to feed and read topics.
 *
 * Every child runs in its own process group and dies with the test process
 * (PR_SET_PDEATHSIG); h_env_destroy() and an atexit() hook kill what is left, so
 * a failing or crashing test leaves no orphans. Spawn from the main thread only:
 * the death signal follows the thread that forked.
 *
 * Every wait is bounded: a helper that gives up returns an error (and logs why on
 * stderr) instead of hanging. Not thread-safe.
 *
 * Temporary directories are removed by h_env_destroy() unless CFD_KEEP_TMP is set;
 * an environment that was never destroyed (failed assertion) is kept and its path
 * printed, with the logs of redis, the broker and each worker inside.
 */
#ifndef CFD_HARNESS_H
#define CFD_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

typedef struct h_env h_env;
typedef struct h_consumer h_consumer;

/* --- environment ------------------------------------------------------------------ */

/* Creates a temp dir "cfd-<name>-XXXXXX" under $TMPDIR (or /tmp) and picks a free
 * loopback port for Redis. @returns the env, or NULL (reason on stderr). */
h_env *h_env_new(const char *name);

/* Kills every process the env started, closes its clients and removes the temp dir
 * (kept when CFD_KEEP_TMP is set). NULL-safe. */
void h_env_destroy(h_env *env);

/* @returns the env's temporary directory. */
const char *h_env_dir(const h_env *env);

/* @returns a free 127.0.0.1 TCP port outside the kernel's ephemeral range, or -1. */
int h_free_port(void);

/* @returns milliseconds on a monotonic clock. */
int64_t h_now_ms(void);

/* --- redis-server ------------------------------------------------------------------- */

/* Starts redis-server on the env's port with AOF on (appendfsync everysec), no RDB
 * saves, its data and log (redis.log) in the temp dir; waits until PING answers.
 * @returns 0, or -1 (reason on stderr). */
int h_redis_start(h_env *env);

/* h_redis_start() with extra redis-server arguments after the harness's own (later
 * ones win: "--appendfsync", "always"; "--requirepass", "pw"; "--user", "cfd on >pw
 * ~cfd:* +@all"), NULL-terminated; they are kept for later starts and restarts. With
 * --requirepass, h_redis_connect() authenticates as the default user.
 * @returns 0, or -1 (reason on stderr). */
int h_redis_start_args(h_env *env, const char *const *extra);

/* Stops redis gracefully (SIGTERM: the AOF is flushed), SIGKILL after 10 s.
 * @returns 0, or -1 when it was not running. */
int h_redis_stop(h_env *env);

/* Kills redis with SIGKILL: anything not yet fsynced to the AOF is lost. */
int h_redis_kill(h_env *env);

/* h_redis_stop() then h_redis_start() on the same port and directory, so the AOF is
 * reloaded. @returns 0 or -1. */
int h_redis_restart(h_env *env);

/* @returns a connection to the env's redis (5 s command timeout), or NULL. Free it
 * with redisFree(). */
redisContext *h_redis_connect(h_env *env);

/* @returns the env's redis port. */
int h_redis_port(const h_env *env);

/* --- Redis Cluster ------------------------------------------------------------------- */

/* Starts masters * (1 + replicas) redis-servers with --cluster-enabled yes
 * --cluster-node-timeout 1000 (AOF on, as h_redis_start()) on free loopback ports whose
 * cluster bus ports (port + 10000) are free too, each in cluster-<idx>/ of the temp dir
 * (log redis.log there), joins them with `redis-cli --cluster create ...
 * --cluster-replicas replicas --cluster-yes` (cluster-create.log) and waits for
 * h_cluster_wait_ok(). masters >= 3; h_env_destroy() kills the nodes.
 * @returns 0, or -1 (reason on stderr). */
int h_cluster_start(h_env *env, int masters, int replicas);

/* Waits up to timeout_ms until every node still running says cluster_state:ok and
 * every replica among them has its link to its master up. @returns 0, or -1 on timeout. */
int h_cluster_wait_ok(h_env *env, int timeout_ms);

/* @returns the number of nodes h_cluster_start() started (0 before). */
int h_cluster_size(const h_env *env);

/* @returns the port of node idx (0..h_cluster_size()-1), or -1. */
int h_cluster_port(const h_env *env, int idx);

/* @returns the index of the node on port, or -1. */
int h_cluster_index(const h_env *env, int port);

/* @returns "127.0.0.1:port,..." of every node, or NULL before h_cluster_start(). */
const char *h_cluster_seeds(const h_env *env);

/* @returns a connection to node idx (5 s command timeout), or NULL. redisFree() it. */
redisContext *h_cluster_connect(h_env *env, int idx);

/* Kills node idx with SIGKILL. @returns 0, or -1 when it was not running. */
int h_cluster_kill(h_env *env, int idx);

/* Starts node idx again after h_cluster_kill(), on its port with its nodes.conf: a
 * master that failed over comes back as its successor's replica.
 * @returns 0, or -1 (running, or it did not start). */
int h_cluster_restart(h_env *env, int idx);

/* @returns true while node idx runs. */
bool h_cluster_alive(h_env *env, int idx);

/* @returns true when the tests that can run on either run on a Redis Cluster
 * (environment CFD_TEST_REDIS=cluster, which ctest sets for the label cluster's
 * variants): they start one with h_cluster_start() instead of h_redis_start(). Workers
 * of an env with a cluster get redis.cluster on, node 0 as their seed and the others
 * as more (redis.cluster_seeds). */
bool h_redis_is_cluster(void);

/* @returns a connection to the master of key's slot as a live node's CLUSTER SLOTS
 * names it, or h_redis_connect() on an env without a cluster; NULL when unreachable.
 * redisFree() it. */
redisContext *h_redis_connect_key(h_env *env, const char *key);

/* Fills out[0..max) with a connection to every master (to the env's redis-server on an
 * env without a cluster), for scans of the whole keyspace. redisFree() each.
 * @returns how many, or -1 (none left open). */
int h_redis_masters(h_env *env, redisContext **out, int max);

/* Runs a command on node idx over a connection of its own (h_cluster_connect()).
 * @returns the reply (freeReplyObject() it), or NULL (logged). */
redisReply *h_cluster_cmd(h_env *env, int idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
redisReply *h_cluster_vcmd(h_env *env, int idx, const char *fmt, va_list ap);

/* @returns the index of slot's master as a live node's CLUSTER SLOTS names it, or -1. */
int h_cluster_slot_master(h_env *env, int slot);

/* Copies node idx's cluster node id (CLUSTER MYID) to out. @returns 0 or -1. */
int h_cluster_node_id(h_env *env, int idx, char *out, size_t n);

/* A slot moved as `redis-cli --cluster reshard` does, in three steps: begin marks it
 * IMPORTING on dst and MIGRATING on src; keys MIGRATEs its keys (half of them when
 * half) from src to dst, @returns how many, -1 on a failure; end assigns the slot to
 * dst on every live node. @returns 0 or -1 (logged). */
int h_cluster_migrate_begin(h_env *env, int slot, int src, int dst);
int h_cluster_migrate_keys(h_env *env, int slot, int src, int dst, bool half);
int h_cluster_migrate_end(h_env *env, int slot, int dst);

/* Called between the rounds of a long wait: a test supervises its workers there. */
typedef void (*h_tick_fn)(void *arg);

/* Moves slot from its master to node dst while clients write: begin, half the keys,
 * then the rest in rounds 300 ms apart (tick, may be NULL, called before each) until
 * the source has none (ASK, TRYAGAIN meanwhile), then end.
 * @returns the keys moved, or -1 (logged). */
int h_cluster_migrate(h_env *env, int slot, int dst, h_tick_fn tick, void *arg);

/* Waits up to timeout_ms, calling tick (may be NULL) every 200 ms, until node idx is a
 * replica whose link to its master is up (a killed master restarted after its
 * failover). @returns 0, or -1 on timeout. */
int h_cluster_wait_replica(h_env *env, int idx, int timeout_ms, h_tick_fn tick, void *arg);

/* --- the broker: confirmd-broker or Apache Kafka ----------------------------------- */

/* @returns true when the tests run on Apache Kafka (environment CFD_TEST_BROKER=kafka,
 * which ctest sets for the label kafka): h_broker_start*() then start a KRaft cluster
 * with scripts/kafka.sh in the env's directory and create the service's topics with
 * `confirmctl topics create` (8 partitions each); h_broker_ctl() fails (fault
 * injection is the mock's); h_broker_node_down()/up() stop and start real nodes. */
bool h_broker_is_kafka(void);

/* Starts CFD_BIN_DIR/confirmd-broker with nbrokers brokers, a control socket and a
 * bootstrap file in the temp dir, and waits for the bootstrap file (10 s at most).
 * topics_spec is "NAME:PARTITIONS[,NAME:PARTITIONS...]", or NULL for the broker's
 * defaults (confirmd.events:8, confirmd.records:4, confirmd.alerts:4,
 * confirmd.deadletter:4, ...). The log is broker.log. On Apache Kafka (see
 * h_broker_is_kafka()) a cluster of nbrokers nodes instead, whose logs are under
 * kafka/ in the temp dir; every service topic gets the partition count topics_spec
 * gives confirmd.events (8 without). @returns 0 or -1. */
int h_broker_start_n(h_env *env, int nbrokers, const char *topics_spec);

/* h_broker_start_n() with one broker (id 1). */
int h_broker_start(h_env *env, const char *topics_spec);

/* @returns the process serving broker id: the embedded broker's (one process for all
 * its brokers), or on Apache Kafka node id's JVM; -1 when none runs. */
pid_t h_broker_pid(h_env *env, int id);

/* Asks the broker to shut down, SIGKILL after 5 s. Its data is gone: the mock keeps
 * everything in memory (a Kafka cluster is stopped; its data stays until the env is
 * destroyed). @returns 0, or -1 when it was not running. */
int h_broker_stop(h_env *env);

/* Takes broker id (1..nbrokers) down: on Apache Kafka stops its node, with SIGKILL
 * when hard, else a controlled shutdown; on the mock, "broker-down ID" (connections
 * refused). @returns 0 or -1. */
int h_broker_node_down(h_env *env, int id, bool hard);

/* Brings broker id back (the node restarts on its ports and data).
 * @returns 0 or -1; a Kafka node may take seconds more to serve. */
int h_broker_node_up(h_env *env, int id);

/* @returns true when the broker lists n brokers and every partition of every topic
 * has all its replicas in sync (as an operator checks before a rolling restart takes
 * the next node down; a node started again takes seconds to catch up); false else or
 * when the metadata does not come within 2 s. */
bool h_broker_in_sync(h_env *env, int n);

/* @returns true when broker id (1..n, the id-th address of the bootstrap list) answers
 * a metadata request as that broker within 2 s. */
bool h_broker_node_serving(h_env *env, int id);

/* Prints to stderr what a failed test on Apache Kafka needs to tell its cause: each
 * node's process (running or down) and the last ERROR and FATAL lines of its log, and
 * every partition without a leader or with a replica out of sync. Does nothing on the
 * embedded broker. */
void h_broker_explain(h_env *env);

/* @returns the bootstrap servers string, or NULL when no broker runs. */
const char *h_bootstrap(const h_env *env);

/* Makes a self-signed test CA with openssl in the env's directory: tls/<name>.pem
 * (certificate) and tls/<name>.key. Copies the certificate's path to path.
 * @returns 0 or -1 (openssl's output in tls/openssl.log). */
int h_tls_ca(h_env *env, const char *name, char *path, size_t n);

/* On Apache Kafka, before h_broker_start*(): the cluster gets one more listener per
 * node for clients, SASL_SSL, accepting user/password with SCRAM-SHA-512 and PLAIN,
 * its certificate (for 127.0.0.1 and localhost) signed by the test CA "ca" of
 * h_tls_ca(); the harness's own clients and `confirmctl topics create` stay on
 * PLAINTEXT. user and password: letters, digits and ._~+- only.
 * @returns 0, or -1 on the mock (which has no TLS) or when openssl fails. */
int h_broker_sasl_ssl(h_env *env, const char *user, const char *password);

/* @returns the SASL_SSL bootstrap servers, or NULL when the cluster has none. */
const char *h_bootstrap_sasl(const h_env *env);

/* @returns the path of the CA certificate (PEM) that signed the brokers' SASL_SSL
 * certificate, or NULL before h_broker_sasl_ssl(). */
const char *h_tls_ca_path(const h_env *env);

/* Sends one control command (see include/confirmd/mockctl.h) and copies the answer
 * line, without its newline, to reply (may be NULL).
 * @returns 0 when the answer starts with "OK", -1 otherwise. */
int h_broker_ctl(h_env *env, const char *cmd, char *reply, size_t n);

/* --- confirmd workers ---------------------------------------------------------------- */

/* Uses `-c path` for every worker started after this call (NULL: none). */
void h_env_set_worker_config(h_env *env, const char *path);

/* Starts CFD_BIN_DIR/confirmd with --set for the env's broker, redis and a group id
 * unique to the env (session.timeout 6 s, heartbeat 0.5 s), then --set for each
 * "key=value" of the NULL-terminated extra_set_args (may be NULL); later values win.
 * The group settings are kafka.X, or kafka.consumer.X when a config file is set.
 * stdout and stderr go to worker-<idx>.log, idx counting workers from 0.
 * @returns the pid, or -1. Does not wait for the worker to be ready. */
pid_t h_worker_start(h_env *env, const char *const *extra_set_args);

/* h_worker_start() running program (NULL: CFD_BIN_DIR/confirmd) behind wrapper, a
 * NULL-terminated argv prefix such as {"valgrind", "--leak-check=full", NULL} (may be
 * NULL). wrapper[0] must be an absolute path. @returns the pid (of the wrapper), or -1. */
pid_t h_worker_start_cmd(h_env *env, const char *const *wrapper, const char *program,
                         const char *const *extra_set_args);

/* @returns the group id the env's workers use. */
const char *h_worker_group(const h_env *env);

/* @returns the log path of the idx-th worker started (it may not exist yet). */
const char *h_worker_log_path(h_env *env, int idx);

/* Sends sig to a worker. @returns 0, or -1 when pid is not a running worker. */
int h_worker_kill(h_env *env, pid_t pid, int sig);

/* Waits up to timeout_ms for a worker to exit and reaps it.
 * @returns its exit code, 128 + signal when killed by a signal, -1 on timeout or
 * unknown pid. */
int h_worker_wait_exit(h_env *env, pid_t pid, int timeout_ms);

/* @returns true while pid is a worker that has not exited. */
bool h_worker_alive(h_env *env, pid_t pid);

/* Waits up to timeout_ms until the file at path contains needle.
 * @returns 0 when found, -1 on timeout. For waiting on log lines. */
int h_wait_file_contains(const char *path, const char *needle, int timeout_ms);

/* --- Kafka clients ------------------------------------------------------------------- */

/* One message to produce; id, when not NULL, is sent as header "id". */
typedef struct h_out_msg {
    const char *key;
    const void *value;
    size_t len;
    const char *id;
} h_out_msg;

/* Sets a librdkafka property of the env's producer ("enable.idempotence", "true"),
 * after the harness's own; call before the first produce (the producer is created
 * then, and again after h_broker_start*()). @returns 0 or -1. */
int h_producer_set(h_env *env, const char *key, const char *value);

/* Sets one config of a topic on Apache Kafka ("max.message.bytes", "2000000")
 * through the admin API (AlterConfigs: the topic's other dynamic configs return to
 * their defaults); a no-op on the mock, which enforces none. @returns 0 or -1. */
int h_topic_config(h_env *env, const char *topic, const char *key, const char *value);

/* Produces one message and waits (10 s at most) for its delivery report.
 * @returns 0 when delivered, -1 otherwise. */
int h_produce(h_env *env, const char *topic, const char *key, const void *buf, size_t len);

/* Same as h_produce() with a header "id". */
int h_produce_id(h_env *env, const char *topic, const char *key, const void *buf,
                 size_t len, const char *id);

/* Enqueues without waiting (retries while the local queue is full).
 * @returns 0 or -1; delivery failures are counted by h_flush(). */
int h_produce_async(h_env *env, const char *topic, const h_out_msg *msg);

/* Enqueues n messages and flushes. @returns 0 when all were delivered, -1. */
int h_produce_batch(h_env *env, const char *topic, const h_out_msg *msgs, size_t n);

/* Waits up to timeout_ms for every enqueued message to be delivered.
 * @returns the number of delivery failures since the last flush (0 is success), or
 * -1 when messages are still in flight at the timeout. */
int h_flush(h_env *env, int timeout_ms);

/* Reads the high watermark (the offset the next message will get) of partitions
 * 0..nparts-1 of topic into ends[], retrying until timeout_ms.
 * @returns 0, or -1 (reason on stderr). */
int h_topic_ends(h_env *env, const char *topic, int64_t *ends, int nparts, int timeout_ms);

/* Reads the env's consumer group's committed offsets of partitions 0..nparts-1 of
 * topic into offsets[] (RD_KAFKA_OFFSET_INVALID, -1001, where none is committed),
 * asking again for up to 30 s while the group's coordinator moves or loads.
 * @returns 0, or -1 (reason on stderr). */
int h_group_committed(h_env *env, const char *topic, int64_t *offsets, int nparts);

/* A consumed message; h_consume() allocates key, value, id and type, h_msg_clear() frees
 * them. key and value are NUL-terminated for convenience (not counted in len). */
typedef struct h_msg {
    char topic[256];
    int32_t partition;
    int64_t offset;
    char *key; /* NULL when the message has none */
    size_t key_len;
    char *value;
    size_t value_len;
    char *id;   /* header "id", NULL when absent */
    char *type; /* header "type", NULL when absent */
    int64_t timestamp_ms;
} h_msg;

void h_msg_clear(h_msg *m);

/* Opens a consumer assigned to every partition of topic from the beginning (no
 * group rebalance; waits up to 10 s for the topic's metadata).
 * @returns the consumer, or NULL. */
h_consumer *h_consume_open(h_env *env, const char *topic);

/* Waits up to timeout_ms for one message. On 1, *out holds it (clear it).
 * @returns 1, 0 on timeout, -1 on a consumer error (logged). */
int h_consume(h_consumer *c, int timeout_ms, h_msg *out);

/* Called for each message by h_consume_until(); nonzero stops early. The message
 * is cleared after the call returns. */
typedef int (*h_msg_cb)(const h_msg *m, void *opaque);

/* Consumes until count messages were seen, cb asked to stop, or timeout_ms passed.
 * cb may be NULL. @returns the number of messages consumed. */
int h_consume_until(h_consumer *c, int count, int timeout_ms, h_msg_cb cb, void *opaque);

/* Closes the consumer. NULL-safe; h_env_destroy() closes any left open. */
void h_consume_close(h_consumer *c);

#endif

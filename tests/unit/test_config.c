/*
 * Unit tests for src/app/config.c: the option table, setters, INI loading, the
 * Kafka pass-through keys (how the clients get them: test_kafka.c), the duration
 * parser and the generated reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/config.h"

#ifndef CFD_SOURCE_DIR
#error "CFD_SOURCE_DIR must name the source tree"
#endif

enum kind { K_STR, K_INT, K_MS, K_BOOL };

/* Every key in the table, with its field and its default: pins the key names. */
static const struct key_case {
    const char *key;
    enum kind kind;
    size_t offset;
    const char *def_str;
    int64_t def_num;
} keys[] = {
    {"worker.input_topics", K_STR, offsetof(cfd_config, input_topics), "confirmd.events",
     0},
    {"worker.records_topic", K_STR, offsetof(cfd_config, records_topic), "confirmd.records",
     0},
    {"worker.alerts_topic", K_STR, offsetof(cfd_config, alerts_topic), "confirmd.alerts",
     0},
    {"worker.deadletter_topic", K_STR, offsetof(cfd_config, deadletter_topic),
     "confirmd.deadletter", 0},
    {"worker.incidents_topic", K_STR, offsetof(cfd_config, incidents_topic),
     "confirmd.incidents", 0},
    {"worker.alarms_topic", K_STR, offsetof(cfd_config, alarms_topic), "confirmd.alarms",
     0},
    {"worker.tmf642_alarms_topic", K_STR, offsetof(cfd_config, tmf642_alarms_topic), "", 0},
    {"worker.inventory_topic", K_STR, offsetof(cfd_config, inventory_topic),
     "confirmd.inventory", 0},
    {"worker.city_reports_topic", K_STR, offsetof(cfd_config, city_reports_topic),
     "confirmd.city-reports", 0},
    {"worker.alarms_by_customer", K_BOOL, offsetof(cfd_config, alarm_by_customer), NULL, 1},
    {"worker.batch_size", K_INT, offsetof(cfd_config, batch_size), NULL, 5000},
    {"worker.deadletter_max_original", K_INT, offsetof(cfd_config, deadletter_max_original),
     NULL, 65536},
    {"worker.poll_timeout", K_MS, offsetof(cfd_config, poll_timeout_ms), NULL, 100},
    {"worker.drain_timeout", K_MS, offsetof(cfd_config, drain_timeout_ms), NULL, 10000},
    {"worker.park_window", K_MS, offsetof(cfd_config, park_window_ms), NULL,
     24 * 3600000LL},
    {"worker.log_level", K_STR, offsetof(cfd_config, log_level), "info", 0},
    {"worker.log_format", K_STR, offsetof(cfd_config, log_format), "text", 0},
    {"worker.log_file", K_STR, offsetof(cfd_config, log_file), "", 0},
    {"worker.clock", K_STR, offsetof(cfd_config, clock), "system", 0},
    {"worker.on_state_loss", K_STR, offsetof(cfd_config, on_state_loss), "refuse", 0},
    {"worker.policy_file", K_STR, offsetof(cfd_config, policy_file), "", 0},
    {"redis.host", K_STR, offsetof(cfd_config, redis_host), "127.0.0.1", 0},
    {"redis.port", K_INT, offsetof(cfd_config, redis_port), NULL, 6379},
    {"redis.cluster", K_BOOL, offsetof(cfd_config, redis_cluster), NULL, 0},
    {"redis.cluster_seeds", K_STR, offsetof(cfd_config, redis_cluster_seeds), "", 0},
    {"redis.cluster_wait_replicas", K_INT,
     offsetof(cfd_config, redis_cluster_wait_replicas), NULL, 1},
    {"redis.cluster_wait_timeout", K_MS,
     offsetof(cfd_config, redis_cluster_wait_timeout_ms), NULL, 1000},
    {"redis.unix_socket", K_STR, offsetof(cfd_config, redis_unix_socket), "", 0},
    {"redis.user", K_STR, offsetof(cfd_config, redis_user), "", 0},
    {"redis.password", K_STR, offsetof(cfd_config, redis_password), "", 0},
    {"redis.db", K_INT, offsetof(cfd_config, redis_db), NULL, 0},
    {"redis.timeout", K_MS, offsetof(cfd_config, redis_timeout_ms), NULL, 2000},
    {"redis.key_prefix", K_STR, offsetof(cfd_config, redis_key_prefix), "cfd", 0},
    {"redis.retry_max", K_MS, offsetof(cfd_config, redis_retry_max_ms), NULL, 5000},
    {"metrics.listen", K_STR, offsetof(cfd_config, metrics_listen), "", 0},
    {"metrics.ready_max_stall", K_MS, offsetof(cfd_config, metrics_ready_max_stall_ms),
     NULL, 30000},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key_case *key_find(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    }
    fail_msg("test table lacks %s", key);
    return NULL;
}

static const char *field_str(const cfd_config *cfg, const struct key_case *k)
{
    return *(char *const *)((const char *)cfg + k->offset);
}

static int64_t field_num(const cfd_config *cfg, const struct key_case *k)
{
    const char *p = (const char *)cfg + k->offset;
    if (k->kind == K_BOOL)
        return *(const bool *)p;
    return k->kind == K_INT ? *(const int *)p : *(const int64_t *)p;
}

/* Asserts that every field and the Kafka list of a and b are equal. */
static void assert_config_equal(const cfd_config *a, const cfd_config *b)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].kind == K_STR)
            assert_string_equal(field_str(a, &keys[i]), field_str(b, &keys[i]));
        else
            assert_int_equal(field_num(a, &keys[i]), field_num(b, &keys[i]));
    }
    assert_int_equal(a->n_kafka, b->n_kafka);
    for (size_t i = 0; i < a->n_kafka; i++) {
        assert_string_equal(a->kafka[i].key, b->kafka[i].key);
        assert_string_equal(a->kafka[i].value, b->kafka[i].value);
        assert_int_equal(a->kafka[i].scope, b->kafka[i].scope);
    }
}

static void assert_defaults(const cfd_config *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].kind == K_STR)
            assert_string_equal(field_str(cfg, &keys[i]), keys[i].def_str);
        else
            assert_int_equal(field_num(cfg, &keys[i]), keys[i].def_num);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    cfd_config *cfg = cfd_config_new();
    assert_defaults(cfg);
    assert_int_equal(cfg->n_kafka, 0);
    cfd_config_destroy(cfg);
    cfd_config_destroy(NULL);
}

static void test_set_good(void **state)
{
    static const struct {
        const char *key, *value;
        const char *want_str; /* for string keys */
        int64_t want_num;
    } cases[] = {
        {"worker.input_topics", "a,b", "a,b", 0},
        {"worker.records_topic", "r", "r", 0},
        {"worker.batch_size", "1", NULL, 1},
        {"worker.batch_size", "10000", NULL, 10000},
        {"worker.poll_timeout", "1s", NULL, 1000},
        {"worker.poll_timeout", "1min", NULL, 60000},
        {"worker.park_window", "7d", NULL, 7 * 86400000LL},
        {"worker.park_window", "365d", NULL, 365 * 86400000LL},
        {"worker.alarms_by_customer", "false", NULL, 0},
        {"worker.alarms_by_customer", "on", NULL, 1},
        {"worker.log_level", "debug", "debug", 0},
        {"worker.log_level", "WARN", "warn", 0},
        {"worker.log_format", "json", "json", 0},
        {"redis.host", "redis.internal", "redis.internal", 0},
        {"redis.port", "65535", NULL, 65535},
        {"redis.port", "1", NULL, 1},
        {"redis.cluster", "on", NULL, 1},
        {"redis.cluster_seeds", "10.0.0.2:7000,10.0.0.3:7000",
         "10.0.0.2:7000,10.0.0.3:7000", 0},
        {"redis.cluster_wait_replicas", "0", NULL, 0},
        {"redis.cluster_wait_replicas", "2", NULL, 2},
        {"redis.cluster_wait_timeout", "250ms", NULL, 250},
        {"redis.unix_socket", "/run/redis.sock", "/run/redis.sock", 0},
        {"redis.user", "svc", "svc", 0},
        {"redis.password", "s3 cret;#", "s3 cret;#", 0},
        {"redis.password", "", "", 0},
        {"redis.db", "15", NULL, 15},
        {"redis.timeout", "500", NULL, 500},
        {"redis.key_prefix", "cfd-test", "cfd-test", 0},
        {"redis.retry_max", "1h", NULL, 3600000},
        {"metrics.listen", "127.0.0.1:9464", "127.0.0.1:9464", 0},
        {"metrics.listen", "[::]:9464", "[::]:9464", 0},
        {"metrics.listen", "", "", 0},
        {"metrics.ready_max_stall", "1min", NULL, 60000},
    };
    (void)state;
    char err[512];
    cfd_config *cfg = cfd_config_new();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct key_case *k = key_find(cases[i].key);
        err[0] = '\0';
        assert_int_equal(
            cfd_config_set(cfg, cases[i].key, cases[i].value, err, sizeof(err)), CFD_OK);
        assert_string_equal(err, "");
        if (k->kind == K_STR)
            assert_string_equal(field_str(cfg, k), cases[i].want_str);
        else
            assert_int_equal(field_num(cfg, k), cases[i].want_num);
    }
    cfd_config_destroy(cfg);
}

static void test_set_bad(void **state)
{
    static const struct {
        const char *key, *value, *err;
    } cases[] = {
        {"worker.batch_size", "0", "worker.batch_size: 0 is out of range 1..10000"},
        {"worker.batch_size", "10001", "worker.batch_size: 10001 is out of range 1..10000"},
        {"worker.batch_size", "abc", "worker.batch_size: not an integer: 'abc'"},
        {"worker.batch_size", "", "worker.batch_size: not an integer: ''"},
        {"worker.batch_size", "5 ", "worker.batch_size: not an integer: '5 '"},
        {"worker.batch_size", "+5", "worker.batch_size: not an integer: '+5'"},
        {"worker.batch_size", "0x10", "worker.batch_size: not an integer: '0x10'"},
        {"worker.batch_size", "1e3", "worker.batch_size: not an integer: '1e3'"},
        {"redis.port", "-1", "redis.port: -1 is out of range 1..65535"},
        {"redis.port", "99999999999999999999",
         "redis.port: 99999999999999999999 is out of range 1..65535"},
        {"redis.db", "-1", "redis.db: -1 is out of range 0..2147483647"},
        {"redis.db", "2147483648", "redis.db: 2147483648 is out of range 0..2147483647"},
        {"worker.poll_timeout", "0", "worker.poll_timeout: 0 is out of range 1ms..1min"},
        {"worker.poll_timeout", "61s",
         "worker.poll_timeout: 61s is out of range 1ms..1min"},
        {"worker.park_window", "3x",
         "worker.park_window: not a duration: '3x' (expected e.g. 500ms, 30s, 5min, 24h, "
         "7d)"},
        {"worker.park_window", "366d",
         "worker.park_window: 366d is out of range 1ms..365d"},
        {"redis.timeout", "-1s",
         "redis.timeout: not a duration: '-1s' (expected e.g. 500ms, 30s, 5min, 24h, 7d)"},
        {"redis.timeout", "6min", "redis.timeout: 6min is out of range 1ms..5min"},
        {"redis.cluster_wait_replicas", "17",
         "redis.cluster_wait_replicas: 17 is out of range 0..16"},
        {"redis.cluster_wait_timeout", "0",
         "redis.cluster_wait_timeout: 0 is out of range "
         "1ms..5min"},
        {"redis.retry_max", "2h", "redis.retry_max: 2h is out of range 1ms..1h"},
        {"metrics.listen", "9464",
         "metrics.listen: not an address: '9464' (expected host:port, e.g. "
         "127.0.0.1:9464, or empty)"},
        {"metrics.ready_max_stall", "10ms",
         "metrics.ready_max_stall: 10ms is out of range 1s..1h"},
        {"worker.log_level", "verbose",
         "worker.log_level: 'verbose' is not one of debug, info, warn, error"},
        {"worker.log_level", "",
         "worker.log_level: '' is not one of debug, info, warn, error"},
        {"worker.log_format", "xml", "worker.log_format: 'xml' is not one of text, json"},
        {"worker.on_state_loss", "resume",
         "worker.on_state_loss: 'resume' is not one of refuse, replay"},
        {"worker.input_topics", "", "worker.input_topics: must not be empty"},
        {"worker.records_topic", "", "worker.records_topic: must not be empty"},
        {"worker.alerts_topic", "", "worker.alerts_topic: must not be empty"},
        {"worker.deadletter_topic", "", "worker.deadletter_topic: must not be empty"},
        {"worker.incidents_topic", "", "worker.incidents_topic: must not be empty"},
        {"redis.host", "", "redis.host: must not be empty"},
        {"redis.key_prefix", "", "redis.key_prefix: must not be empty"},
        {"worker.foo", "1", "worker.foo: unknown key"},
        {"worker.poll_timeout_ms", "100", "worker.poll_timeout_ms: unknown key"},
        {"Redis.port", "1", "Redis.port: unknown key"},
        {"port", "1", "port: unknown key"},
        {"", "1", ": unknown key"},
        {"kafka.no.such.property", "1",
         "kafka.no.such.property: No such configuration property: \"no.such.property\""},
        {"kafka.consumer.no.such", "1",
         "kafka.consumer.no.such: No such configuration property: \"no.such\""},
        {"kafka.batch.size", "abc",
         "kafka.batch.size: Invalid value for configuration property \"batch.size\""},
        {"kafka.", "x", "kafka.: no librdkafka property named"},
        {"kafka.producer.", "x", "kafka.producer.: no librdkafka property named"},
    };
    (void)state;
    char err[512];
    cfd_config *cfg = cfd_config_new();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            cfd_config_set(cfg, cases[i].key, cases[i].value, err, sizeof(err)),
            CFD_ERR_CONFIG);
        assert_string_equal(err, cases[i].err);
    }
    /* A rejected value leaves the old one in place. */
    assert_defaults(cfg);
    assert_int_equal(cfg->n_kafka, 0);
    /* errstr is optional. */
    assert_int_equal(cfd_config_set(cfg, "worker.foo", "1", NULL, 0), CFD_ERR_CONFIG);
    cfd_config_destroy(cfg);
}

static void test_set_pair(void **state)
{
    static const struct {
        const char *pair;
        const char *err;        /* NULL: accepted */
        const char *key, *want; /* then cfd_config_set(key, want) gives the same config */
    } cases[] = {
        {"redis.port=6380", NULL, "redis.port", "6380"},
        {" redis.port = 6381 ", NULL, "redis.port", "6381"},
        {"worker.input_topics=b=c", NULL, "worker.input_topics", "b=c"},
        {"kafka.client.id=x=y", NULL, "kafka.client.id", "x=y"},
        {"redis.password=", NULL, "redis.password", ""},
        {"redis.port", "'redis.port': expected key=value", NULL, NULL},
        {"", "'': expected key=value", NULL, NULL},
        {"=5", "'=5': expected key=value, the key is empty", NULL, NULL},
        {"a=b=c", "a: unknown key", NULL, NULL},
        {"redis.port=", "redis.port: not an integer: ''", NULL, NULL},
        {"kafka.bogus=1", "kafka.bogus: No such configuration property: \"bogus\"", NULL,
         NULL},
    };
    (void)state;
    char err[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_config *got = cfd_config_new();
        cfd_config *want = cfd_config_new();
        cfd_err rc = cfd_config_set_pair(got, cases[i].pair, err, sizeof(err));
        if (cases[i].err) {
            assert_int_equal(rc, CFD_ERR_CONFIG);
            assert_string_equal(err, cases[i].err);
        } else {
            assert_int_equal(rc, CFD_OK);
            assert_int_equal(
                cfd_config_set(want, cases[i].key, cases[i].want, err, sizeof(err)),
                CFD_OK);
        }
        assert_config_equal(got, want);
        cfd_config_destroy(got);
        cfd_config_destroy(want);
    }
}

static void test_kafka_passthrough(void **state)
{
    static const char *const pairs[] = {
        "kafka.bootstrap.servers=h1:9092",
        "kafka.consumer.client.id=consumer-id",
        "kafka.client.id=shared-id",
        "kafka.consumer.auto.offset.reset=earliest", /* a topic property */
        "kafka.producer.linger.ms=5",
        "kafka.bootstrap.servers=h2:9092", /* replaces, keeps its place */
        "kafka.sasl.password=hunter2",
    };
    static const cfd_kafka_prop want[] = {
        {"bootstrap.servers", "h2:9092", CFD_KAFKA_BOTH},
        {"client.id", "consumer-id", CFD_KAFKA_CONSUMER},
        {"client.id", "shared-id", CFD_KAFKA_BOTH},
        {"auto.offset.reset", "earliest", CFD_KAFKA_CONSUMER},
        {"linger.ms", "5", CFD_KAFKA_PRODUCER},
        {"sasl.password", "hunter2", CFD_KAFKA_BOTH},
    };
    (void)state;
    char err[512];
    cfd_config *cfg = cfd_config_new();

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        assert_int_equal(cfd_config_set_pair(cfg, pairs[i], err, sizeof(err)), CFD_OK);
    assert_int_equal(cfg->n_kafka, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        assert_string_equal(cfg->kafka[i].key, want[i].key);
        assert_string_equal(cfg->kafka[i].value, want[i].value);
        assert_int_equal(cfg->kafka[i].scope, want[i].scope);
    }
    cfd_config_destroy(cfg);
}

static void test_parse_duration(void **state)
{
    static const struct {
        const char *text;
        int rc;
        int64_t ms;
    } cases[] = {
        {"0", 0, 0},
        {"500", 0, 500},
        {"500ms", 0, 500},
        {"30s", 0, 30000},
        {"5min", 0, 300000},
        {"5m", 0, 300000},
        {"24h", 0, 86400000},
        {"7d", 0, 604800000},
        {"007s", 0, 7000},
        {"9223372036854775807", 0, INT64_MAX},
        {"9223372036854775807ms", 0, INT64_MAX},
        {"106751991167d", 0, 106751991167LL * 86400000LL},
        {"", -1, 0},
        {"-5s", -1, 0},
        {"+5s", -1, 0},
        {"5x", -1, 0},
        {"s", -1, 0},
        {"ms", -1, 0},
        {"5 s", -1, 0},
        {" 5s", -1, 0},
        {"5s ", -1, 0},
        {"5S", -1, 0},
        {"5mins", -1, 0},
        {"5sec", -1, 0},
        {"1.5s", -1, 0},
        {"1h30m", -1, 0},
        {"9223372036854775808", -1, 0},
        {"9223372036854775807s", -1, 0},
        {"106751991168d", -1, 0},
        {"99999999999999999999999h", -1, 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -42;
        int rc = cfd_parse_duration_ms(cases[i].text, &ms);
        if (rc != cases[i].rc)
            fail_msg("'%s': rc %d, want %d", cases[i].text, rc, cases[i].rc);
        assert_int_equal(ms, cases[i].rc == 0 ? cases[i].ms : -42);
    }
}

static void test_parse_bool(void **state)
{
    static const struct {
        const char *text;
        int rc;
        bool value;
    } cases[] = {
        {"true", 0, true},   {"TRUE", 0, true},   {"yes", 0, true}, {"on", 0, true},
        {"1", 0, true},      {"false", 0, false}, {"No", 0, false}, {"off", 0, false},
        {"0", 0, false},     {"", -1, false},     {"2", -1, false}, {"truthy", -1, false},
        {" yes", -1, false},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool b = !cases[i].value;
        assert_int_equal(cfd_parse_bool(cases[i].text, &b), cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(b, cases[i].value);
    }
}

static void test_parse_listen(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *host;
        int port;
    } cases[] = {
        {"127.0.0.1:9464", 0, "127.0.0.1", 9464},
        {"localhost:1", 0, "localhost", 1},
        {"[::1]:65535", 0, "::1", 65535},
        {"[::]:80", 0, "::", 80},
        {"0.0.0.0:9464", 0, "0.0.0.0", 9464},
        {"", -1, NULL, 0},
        {"9464", -1, NULL, 0},
        {":9464", -1, NULL, 0},
        {"host:", -1, NULL, 0},
        {"host:0", -1, NULL, 0},
        {"host:65536", -1, NULL, 0},
        {"host:94x", -1, NULL, 0},
        {"host:-1", -1, NULL, 0},
        {"::1:9464", -1, NULL, 0},
        {"[::1:9464", -1, NULL, 0},
        {"[]:9464", -1, NULL, 0},
        {"[::1]x:9464", -1, NULL, 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[64] = "unset";
        int port = -1;
        if (cfd_parse_listen(cases[i].text, host, sizeof(host), &port) != cases[i].rc)
            fail_msg("'%s': expected %d", cases[i].text, cases[i].rc);
        if (cases[i].rc == 0) {
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        }
    }
    char tiny[4];
    int port;
    assert_int_equal(cfd_parse_listen("localhost:80", tiny, sizeof(tiny), &port), -1);
}

/* Writes text to a new temporary file; @returns its malloc'd path. */
static char *write_temp(const char *text)
{
    const char *dir = getenv("TMPDIR");
    char *path;
    int fd;
    FILE *fp;

    path = malloc(1024);
    assert_non_null(path);
    snprintf(path, 1024, "%s/test_config_XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static char *long_line_file(void)
{
    char *text = malloc(512);
    assert_non_null(text);
    strcpy(text, "[redis]\nhost = ");
    memset(text + strlen(text), 'x', 300);
    strcpy(text + 15 + 300, "\nport = 1\n");
    return text;
}

static void test_file_errors(void **state)
{
    static const struct {
        const char *text;
        const char *err; /* after "path" */
    } cases[] = {
        {"[worker]\nbatch_size = 0\n",
         ":2: error: worker.batch_size: 0 is out of range 1..10000"},
        {"; comment\nbatch_size = 5\n", ":2: error: 'batch_size' is outside any section "
                                        "(put it under [worker], [redis], "
                                        "[metrics] or [kafka])"},
        {"[worker]\n\n[redsi]\nport = 1\n", ":3: error: unknown section [redsi]"},
        {"[worker]\n[bogus]\n", ":2: error: unknown section [bogus]"},
        {"[ redis ]\nport = 1\n", ":1: error: unknown section [ redis ]"},
        {"[kafka.admin]\nx = 1\n", ":1: error: unknown section [kafka.admin]"},
        {"[redis]\nport = 6380\nfoo = 1\n", ":3: error: redis.foo: unknown key"},
        {"[redis]\nhost = a\n  port = 6380\n",
         ":3: error: indented line: keys and [sections] must start in the first column "
         "(multi-line values are not supported)"},
        {"[redis]\n\t[worker]\n",
         ":2: error: indented line: keys and [sections] must start in the first column "
         "(multi-line values are not supported)"},
        {"[redis]\nport 6380\n",
         ":2: error: syntax error: expected [section] or key = value"},
        {"[redis\nport = 1\n",
         ":1: error: syntax error: expected [section] or key = value"},
        {"[worker]\nbad line\nbatch_size = 0\n",
         ":2: error: syntax error: expected [section] or key = value"},
        {"[worker]\nbatch_size = 0\nbad line\n",
         ":2: error: worker.batch_size: 0 is out of range 1..10000"},
        {"[redis]\nport = 6380 # default\n",
         ":2: error: redis.port: not an integer: '6380 # default'"},
        {"[redis]\nport = 6380;x\n", ":2: error: redis.port: not an integer: '6380;x'"},
        {"[worker]\r\n\r\nlog_level = loud\r\n",
         ":3: error: worker.log_level: 'loud' is not one of debug, info, warn, error"},
        {"[kafka]\nbootstrap.servers = h:1\nno.such.thing = 1\n",
         ":3: error: kafka.no.such.thing: No such configuration property: "
         "\"no.such.thing\""},
        {"[kafka.producer]\nbatch.num.messages = lots\n",
         ":2: error: kafka.producer.batch.num.messages: Invalid value for configuration "
         "property \"batch.num.messages\""},
        {NULL, ":2: error: line too long (at most 197 characters)"},
    };
    (void)state;
    char err[1024], want[1024];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = cases[i].text ? strdup(cases[i].text) : long_line_file();
        char *path = write_temp(text);
        cfd_config *cfg = cfd_config_new();

        assert_int_equal(cfd_config_load_file(cfg, path, err, sizeof(err)), CFD_ERR_CONFIG);
        snprintf(want, sizeof(want), "%s%s", path, cases[i].err);
        assert_string_equal(err, want);
        cfd_config_destroy(cfg);
        unlink(path);
        free(path);
        free(text);
    }

    cfd_config *cfg = cfd_config_new();
    assert_int_equal(
        cfd_config_load_file(cfg, CFD_SOURCE_DIR "/no/such/file.ini", err, sizeof(err)),
        CFD_ERR_CONFIG);
    assert_string_equal(err, CFD_SOURCE_DIR
                        "/no/such/file.ini: error: cannot open: No such file or directory");
    cfd_config_destroy(cfg);
}

static void test_file_good(void **state)
{
    static const struct {
        const char *text;
        const char *const pairs[4]; /* the same settings as --set pairs */
    } cases[] = {
        {"", {NULL}},
        {"; only a comment\n# another\n\n", {NULL}},
        {"[redis]\nport = 6380 ; inline comment\n", {"redis.port=6380"}},
        {"[redis]\r\nport = 6381\r\nhost=h\r\n", {"redis.port=6381", "redis.host=h"}},
        {"\xEF\xBB\xBF[redis]\nport = 6382\n", {"redis.port=6382"}},
        {"  ; indented comment\n\t\n[worker]\nbatch_size = 7", {"worker.batch_size=7"}},
        {"[redis]\nport = 1\nport = 2\n", {"redis.port=2"}},
        {"[redis]\npassword = a#b c\n", {"redis.password=a#b c"}},
        {"[worker]\nlog_level : debug\n", {"worker.log_level=debug"}},
        {"[worker]\n[worker]\npoll_timeout = 250ms\n", {"worker.poll_timeout=250"}},
        {"[kafka]\nbootstrap.servers = h:1\n[kafka.consumer]\ngroup.id = g\n"
         "[kafka.producer]\nlinger.ms = 5\n",
         {"kafka.bootstrap.servers=h:1", "kafka.consumer.group.id=g",
          "kafka.producer.linger.ms=5"}},
        {"[kafka]\nconsumer.group.id = g\n", {"kafka.consumer.group.id=g"}},
    };
    (void)state;
    char err[1024];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temp(cases[i].text);
        cfd_config *got = cfd_config_new();
        cfd_config *want = cfd_config_new();

        err[0] = '\0';
        if (cfd_config_load_file(got, path, err, sizeof(err)) != CFD_OK)
            fail_msg("case %zu: %s", i, err);
        for (size_t j = 0; cases[i].pairs[j]; j++)
            assert_int_equal(cfd_config_set_pair(want, cases[i].pairs[j], err, sizeof(err)),
                             CFD_OK);
        assert_config_equal(got, want);
        cfd_config_destroy(got);
        cfd_config_destroy(want);
        unlink(path);
        free(path);
    }
}

/* @returns the reference as a malloc'd string. */
static char *reference_text(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    assert_non_null(out);
    cfd_config_write_reference(out);
    assert_int_equal(fclose(out), 0);
    return text;
}

static char *read_source_file(const char *rel)
{
    char path[1024];
    FILE *fp;
    long size;
    char *text;

    snprintf(path, sizeof(path), "%s/%s", CFD_SOURCE_DIR, rel);
    fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size >= 0);
    rewind(fp);
    text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
    text[size] = '\0';
    fclose(fp);
    return text;
}

static void test_reference(void **state)
{
    (void)state;
    char *ref = reference_text();
    char row[128];
    size_t rows = 0;

    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(row, sizeof(row), "\n| `%s` | ", keys[i].key);
        if (!strstr(ref, row))
            fail_msg("reference lacks %s", keys[i].key);
    }
    for (const char *p = ref; (p = strstr(p, "\n| `")) != NULL; p++)
        rows++;
    assert_int_equal(rows, N_KEYS); /* no key in the table that this test does not know */
    assert_non_null(strstr(ref, "## Kafka pass-through"));
    assert_non_null(strstr(ref, "`[kafka.consumer]`"));
    assert_non_null(strstr(ref, "## INI layout"));
    assert_non_null(strstr(ref, "| `redis.password` | string | (empty) | "));
    assert_non_null(strstr(ref, "Secret: never printed or logged."));

    /* docs/CONFIG.md is exactly this output; regenerate it with --config-reference. */
    char *doc = read_source_file("docs/CONFIG.md");
    assert_string_equal(doc, ref);
    free(doc);
    free(ref);
}

static void test_sample_file(void **state)
{
    (void)state;
    char err[1024];
    char needle[128];
    cfd_config *cfg = cfd_config_new();
    cfd_config *defaults = cfd_config_new();
    char *text = read_source_file("config/confirmd.ini");

    err[0] = '\0';
    if (cfd_config_load_file(cfg, CFD_SOURCE_DIR "/config/confirmd.ini", err, sizeof(err)))
        fail_msg("%s", err);
    /* The sample shows the defaults, and every key. */
    assert_int_equal(cfd_config_set(defaults, "kafka.bootstrap.servers", "localhost:9092",
                                    err, sizeof(err)),
                     CFD_OK);
    assert_int_equal(
        cfd_config_set(defaults, "kafka.consumer.group.id", "confirmd", err, sizeof(err)),
        CFD_OK);
    assert_config_equal(cfg, defaults);
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(needle, sizeof(needle), "\n%s =", strchr(keys[i].key, '.') + 1);
        if (!strstr(text, needle))
            fail_msg("config/confirmd.ini lacks %s", keys[i].key);
    }
    free(text);
    cfd_config_destroy(cfg);
    cfd_config_destroy(defaults);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_set_good),
        cmocka_unit_test(test_set_bad),           cmocka_unit_test(test_set_pair),
        cmocka_unit_test(test_kafka_passthrough), cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_bool),        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_file_errors),       cmocka_unit_test(test_file_good),
        cmocka_unit_test(test_reference),         cmocka_unit_test(test_sample_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Configuration: the option table, the setters it drives, the INI loader and the
 * generated reference; see include/confirmd/config.h.
 *
 * Every value, defaults included, goes through option_set(), so a default is
 * checked exactly like a value from a file or from --set.
 */
#include "confirmd/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confirmd/alloc.h"
#include "ini_file.h"

typedef enum opt_type {
    OPT_STRING,
    OPT_INT,      /* int field, range min..max */
    OPT_BOOL,     /* bool field */
    OPT_DURATION, /* int64_t milliseconds field, range min..max */
    OPT_ENUM,     /* char * field holding one of `choices` */
    OPT_LISTEN,   /* char * field: "host:port", "[v6]:port", or "" (off) */
} opt_type;

#define OPT_SECRET 0x1u   /* value never shown, not even in errors */
#define OPT_NONEMPTY 0x2u /* "" is rejected */

typedef struct cfd_option {
    const char *name; /* "section.key" */
    opt_type type;
    const char *def;            /* default, in the same text form a file uses */
    int64_t min, max;           /* OPT_INT, OPT_DURATION (ms) */
    const char *const *choices; /* OPT_ENUM, NULL-terminated */
    unsigned flags;             /* OPT_SECRET, OPT_NONEMPTY */
    size_t offset;              /* of the field in cfd_config */
    const char *desc;
} cfd_option;

#define MS_SECOND INT64_C(1000)
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR (60 * MS_MINUTE)
#define MS_DAY (24 * MS_HOUR)

#define FIELD(f) offsetof(cfd_config, f)

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const clocks[] = {"system", "simulated", NULL};
static const char *const state_loss[] = {"refuse", "replay", NULL};

static const cfd_option options[] = {
    {.name = "worker.input_topics",
     .type = OPT_STRING,
     .def = "confirmd.events",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(input_topics),
     .desc = "Comma-separated Kafka topics of milestone events to consume."},
    {.name = "worker.records_topic",
     .type = OPT_STRING,
     .def = "confirmd.records",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(records_topic),
     .desc = "Topic the confirmation records are produced to."},
    {.name = "worker.alerts_topic",
     .type = OPT_STRING,
     .def = "confirmd.alerts",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(alerts_topic),
     .desc = "Topic the SLA alerts are produced to."},
    {.name = "worker.deadletter_topic",
     .type = OPT_STRING,
     .def = "confirmd.deadletter",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(deadletter_topic),
     .desc = "Topic that receives events which cannot be applied, with the reason."},
    {.name = "worker.incidents_topic",
     .type = OPT_STRING,
     .def = "confirmd.incidents",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(incidents_topic),
     .desc = "Topic the severe faults (major incidents, `confirmd.v1.Incident`, keyed by "
             "incident id) are produced to."},
    {.name = "worker.alarms_topic",
     .type = OPT_STRING,
     .def = "confirmd.alarms",
     .offset = FIELD(alarms_topic),
     .desc = "Topic of NOC alarms (`confirmd.v1.Alarm`, keyed by network object); empty "
             "turns the alarm stage off. Needs the input topic's partition count."},
    {.name = "worker.tmf642_alarms_topic",
     .type = OPT_STRING,
     .def = "",
     .offset = FIELD(tmf642_alarms_topic),
     .desc = "Topic of NOC alarms in TMF642 JSON (TM Forum Alarm Management, one alarm "
             "object a message, keyed by `alarmedObject.id`), decided by the alarm stage "
             "like `worker.alarms_topic`'s (mapping: docs/ALARMS.md); empty turns it off. "
             "Needs the input topic's partition count."},
    {.name = "worker.inventory_topic",
     .type = OPT_STRING,
     .def = "confirmd.inventory",
     .offset = FIELD(inventory_topic),
     .desc = "Compacted topic of network objects (`confirmd.v1.Circuit`, keyed by object "
             "id) the alarm stage looks alarms up in; empty turns it off. Needs the input "
             "topic's partition count."},
    {.name = "worker.city_reports_topic",
     .type = OPT_STRING,
     .def = "confirmd.city-reports",
     .offset = FIELD(city_reports_topic),
     .desc = "Internal topic of the multi-customer city rule of severe faults "
             "(`confirmd.v1.CityReport`, keyed by `<city>|<service>`): workers produce to "
             "it and consume it. Empty turns the rule off. Needs the input topic's "
             "partition count."},
    {.name = "worker.alarms_by_customer",
     .type = OPT_BOOL,
     .def = "true",
     .offset = FIELD(alarm_by_customer),
     .desc = "Decide the alarms of all the objects of one customer (inventory "
             "`customer_id`) together, on the customer's coordinator, so that a storm over "
             "many objects opens one work order; false decides per object."},
    {.name = "worker.batch_size",
     .type = OPT_INT,
     .def = "5000",
     .min = 1,
     .max = 10000,
     .offset = FIELD(batch_size),
     .desc = "Most messages one poll takes; each partition's share of them is applied "
             "in one Redis round trip. A poll takes what is there, so at a steady load "
             "batches stay small; under a backlog or an alarm storm spread over many "
             "partitions, larger polls mean larger batches per partition, so fewer "
             "Redis round trips per message (the README's benchmarks run with the "
             "default). Due SLA timers still run between a poll's batches."},
    {.name = "worker.deadletter_max_original",
     .type = OPT_INT,
     .def = "65536",
     .min = 0,
     .max = 1000000,
     .offset = FIELD(deadletter_max_original),
     .desc = "Most bytes of the original message a dead letter carries; a longer message "
             "is cut there, its whole length and SHA-256 are always given. Keep it well "
             "under the dead-letter topic's `max.message.bytes`."},
    {.name = "worker.poll_timeout",
     .type = OPT_DURATION,
     .def = "100ms",
     .min = 1,
     .max = MS_MINUTE,
     .offset = FIELD(poll_timeout_ms),
     .desc = "How long one consumer poll waits for events."},
    {.name = "worker.drain_timeout",
     .type = OPT_DURATION,
     .def = "10s",
     .min = 1,
     .max = 10 * MS_MINUTE,
     .offset = FIELD(drain_timeout_ms),
     .desc = "On SIGTERM or SIGINT, and when partitions are taken away, how long the "
             "worker waits for its outputs in flight to be delivered before it leaves "
             "them to the partitions' next owner (they stay in the outbox: nothing is "
             "lost); a stop that leaves some exits with status 5."},
    {.name = "worker.park_window",
     .type = OPT_DURATION,
     .def = "24h",
     .min = 1,
     .max = 365 * MS_DAY,
     .offset = FIELD(park_window_ms),
     .desc = "How long an event for an unknown work order is parked before it is "
             "dead-lettered."},
    {.name = "worker.log_level",
     .type = OPT_ENUM,
     .def = "info",
     .choices = log_levels,
     .offset = FIELD(log_level),
     .desc = "Least severe log level written to the log."},
    {.name = "worker.log_format",
     .type = OPT_ENUM,
     .def = "text",
     .choices = log_formats,
     .offset = FIELD(log_format),
     .desc = "text: one line per message, \"<UTC time> <LEVEL> [module] message\"; json: "
             "one JSON object per line with the keys ts, level, module and msg (the "
             "message escaped as in the text form), for log collectors."},
    {.name = "worker.log_file",
     .type = OPT_STRING,
     .def = "",
     .offset = FIELD(log_file),
     .desc = "File the log is appended to (created with mode 0640 when missing); empty "
             "writes it to stderr. SIGHUP reopens it, so a rotation (rename, then "
             "SIGHUP) loses no line."},
    {.name = "worker.clock",
     .type = OPT_ENUM,
     .def = "system",
     .choices = clocks,
     .offset = FIELD(clock),
     .desc = "Where SLA time comes from: `system`, or `simulated` for rehearsals and "
             "tests: the instant stored in the Redis key `<key_prefix>:clock` (ms since "
             "the epoch, set with `confirmctl clock`), the system clock while it is "
             "unset."},
    {.name = "worker.on_state_loss",
     .type = OPT_ENUM,
     .def = "refuse",
     .choices = state_loss,
     .offset = FIELD(on_state_loss),
     .desc = "What a worker does with a partition Redis has no applied offset for while "
             "the consumer group has committed offsets for it, i.e. Redis lost its data "
             "(restarted without persistence, failed over to an empty replica): `refuse` "
             "consumes nothing, logs what to do and exits with status 4; `replay` "
             "rebuilds the partition's state from the earliest offset its topics still "
             "retain."},
    {.name = "worker.policy_file",
     .type = OPT_STRING,
     .def = "",
     .offset = FIELD(policy_file),
     .desc = "SLA policy INI file (every figure of the domain rules; see "
             "`config/policy.ini`), loaded and validated at start-up; empty uses the "
             "built-in defaults."},
    {.name = "redis.host",
     .type = OPT_STRING,
     .def = "127.0.0.1",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(redis_host),
     .desc = "Redis host name or address; unused when `redis.unix_socket` is set."},
    {.name = "redis.port",
     .type = OPT_INT,
     .def = "6379",
     .min = 1,
     .max = 65535,
     .offset = FIELD(redis_port),
     .desc = "Redis TCP port."},
    {.name = "redis.cluster",
     .type = OPT_BOOL,
     .def = "false",
     .offset = FIELD(redis_cluster),
     .desc = "Redis is a Redis Cluster: `redis.host` and `redis.port` name one seed node "
             "(with `redis.cluster_seeds`, more), each partition's keys go to the master "
             "of their `{p<N>}` slot, and redirections, failovers and slot migrations are "
             "followed. Needs `redis.db` = 0 and no `redis.unix_socket`. See "
             "docs/OPERATIONS.md, \"Running on a Redis Cluster\"."},
    {.name = "redis.cluster_seeds",
     .type = OPT_STRING,
     .def = "",
     .offset = FIELD(redis_cluster_seeds),
     .desc = "More seed nodes of the Redis Cluster, `host:port[,host:port...]`, asked for "
             "the slot map in turn when `redis.host`:`redis.port` does not answer; "
             "unused unless `redis.cluster` is on."},
    {.name = "redis.cluster_wait_replicas",
     .type = OPT_INT,
     .def = "1",
     .min = 0,
     .max = 16,
     .offset = FIELD(redis_cluster_wait_replicas),
     .desc = "On a Redis Cluster, after each batch commit the worker sends `WAIT` for "
             "this many replicas on the master's connection and produces the batch's "
             "outputs only once they acknowledged it; short of that the commit counts "
             "as failed and is retried after the offsets Redis kept are checked. A "
             "master with fewer replicas holds its partitions until one is back. 0 "
             "turns it off (a failover may then lose acknowledged commits, detected as "
             "a rollback). Unused unless `redis.cluster` is on."},
    {.name = "redis.cluster_wait_timeout",
     .type = OPT_DURATION,
     .def = "1s",
     .min = 1,
     .max = 5 * MS_MINUTE,
     .offset = FIELD(redis_cluster_wait_timeout_ms),
     .desc = "How long that `WAIT` waits for the replicas; must be below "
             "`redis.timeout`."},
    {.name = "redis.unix_socket",
     .type = OPT_STRING,
     .def = "",
     .offset = FIELD(redis_unix_socket),
     .desc = "Path of the Redis Unix socket; when set it is used instead of host and "
             "port."},
    {.name = "redis.user",
     .type = OPT_STRING,
     .def = "",
     .offset = FIELD(redis_user),
     .desc = "Redis ACL user name; empty sends `AUTH password` alone when a password "
             "is set."},
    {.name = "redis.password",
     .type = OPT_STRING,
     .def = "",
     .flags = OPT_SECRET,
     .offset = FIELD(redis_password),
     .desc = "Redis password; empty sends no `AUTH`. Secret: never printed or logged."},
    {.name = "redis.db",
     .type = OPT_INT,
     .def = "0",
     .min = 0,
     .max = INT_MAX,
     .offset = FIELD(redis_db),
     .desc = "Redis database number selected after connecting; 0 on a Redis Cluster."},
    {.name = "redis.timeout",
     .type = OPT_DURATION,
     .def = "2s",
     .min = 1,
     .max = 5 * MS_MINUTE,
     .offset = FIELD(redis_timeout_ms),
     .desc = "Timeout for connecting to Redis and for each command."},
    {.name = "redis.key_prefix",
     .type = OPT_STRING,
     .def = "cfd",
     .flags = OPT_NONEMPTY,
     .offset = FIELD(redis_key_prefix),
     .desc = "Prefix of every Redis key, so several deployments can share one Redis."},
    {.name = "redis.retry_max",
     .type = OPT_DURATION,
     .def = "5s",
     .min = 1,
     .max = MS_HOUR,
     .offset = FIELD(redis_retry_max_ms),
     .desc = "Longest wait between reconnection attempts while Redis is unreachable."},
    {.name = "metrics.listen",
     .type = OPT_LISTEN,
     .def = "",
     .offset = FIELD(metrics_listen),
     .desc = "Address the worker serves `/metrics` (Prometheus text format), `/healthz` "
             "and `/readyz` on over HTTP, e.g. `127.0.0.1:9464` or `[::]:9464`; empty "
             "serves nothing. See docs/OPERATIONS.md, \"Metrics and health\"."},
    {.name = "metrics.ready_max_stall",
     .type = OPT_DURATION,
     .def = "30s",
     .min = MS_SECOND,
     .max = MS_HOUR,
     .offset = FIELD(metrics_ready_max_stall_ms),
     .desc = "`/readyz` answers 503 when the worker's loop has not come round for this "
             "long (a stuck poll, a long flush)."},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const char kafka_prefix[] = "kafka.";

/* Duration units, longest match first ("min" before "m", "ms" before "m"). */
static const struct {
    const char *suffix;
    int64_t ms;
} duration_units[] = {
    {"ms", 1},        {"min", MS_MINUTE}, {"s", MS_SECOND},
    {"m", MS_MINUTE}, {"h", MS_HOUR},     {"d", MS_DAY},
};

static cfd_err fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills errstr (if any) and @returns CFD_ERR_CONFIG, so callers can `return fail()`. */
static cfd_err fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    if (errstr && errstr_size) {
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return CFD_ERR_CONFIG;
}

static const cfd_option *option_find(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    }
    return NULL;
}

/* Writes ms in the largest unit that divides it exactly: "100ms", "24h". */
static void format_duration(int64_t ms, char *buf, size_t size)
{
    static const struct {
        const char *suffix;
        int64_t ms;
    } units[] = {{"d", MS_DAY}, {"h", MS_HOUR}, {"min", MS_MINUTE}, {"s", MS_SECOND}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].suffix);
            return;
        }
    }
    snprintf(buf, size, "%lldms", (long long)ms);
}

/* Writes an enum's choices as "debug, info, warn, error". */
static void format_choices(const cfd_option *opt, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; opt->choices[i] && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", opt->choices[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int cfd_parse_duration_ms(const char *text, int64_t *out)
{
    const char *p = text;
    int64_t n = 0;

    if (!text || *p < '0' || *p > '9')
        return -1; /* empty, sign, space or garbage */
    for (; *p >= '0' && *p <= '9'; p++) {
        int digit = *p - '0';
        if (n > (INT64_MAX - digit) / 10)
            return -1;
        n = n * 10 + digit;
    }
    if (*p == '\0') {
        *out = n;
        return 0;
    }
    for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
        if (strcmp(p, duration_units[i].suffix) == 0) {
            if (n > INT64_MAX / duration_units[i].ms)
                return -1;
            *out = n * duration_units[i].ms;
            return 0;
        }
    }
    return -1;
}

int cfd_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    if (!text)
        return -1;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int cfd_parse_listen(const char *text, char *host, size_t host_size, int *port)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    const char *h = text, *h_end = colon;
    char *end;

    if (!colon || colon == text)
        return -1;
    if (*text == '[') { /* [v6]:port */
        h = text + 1;
        h_end = colon - 1;
        if (h_end <= h || *h_end != ']')
            return -1;
    }
    if (memchr(h, '[', (size_t)(h_end - h)) || memchr(h, ']', (size_t)(h_end - h)) ||
        (*text != '[' && memchr(h, ':', (size_t)(h_end - h))))
        return -1;
    if (colon[1] < '0' || colon[1] > '9')
        return -1;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || *end || p < 1 || p > 65535 || (size_t)(h_end - h) >= host_size)
        return -1;
    memcpy(host, h, (size_t)(h_end - h));
    host[h_end - h] = '\0';
    *port = (int)p;
    return 0;
}

/* Decimal integer with an optional '-': no spaces, no '+', no hex. */
static int parse_int(const char *text, long long *out)
{
    char *end;

    if (!((*text >= '0' && *text <= '9') ||
          (*text == '-' && text[1] >= '0' && text[1] <= '9')))
        return -1;
    errno = 0;
    *out = strtoll(text, &end, 10);
    if (*end != '\0')
        return -1;
    if (errno == ERANGE)
        *out = *text == '-' ? LLONG_MIN : LLONG_MAX; /* reported as out of range */
    return 0;
}

/* Replaces the string at *slot with a copy of text. */
static void replace_string(char **slot, const char *text)
{
    free(*slot);
    *slot = cfd_xstrdup(text);
}

/*
 * Parses text as opt's type and, only if it is valid, stores it in cfg.
 * Error messages show the text unless the option is secret.
 */
static cfd_err option_set(cfd_config *cfg, const cfd_option *opt, const char *text,
                          char *errstr, size_t errstr_size)
{
    char *field = (char *)cfg + opt->offset;
    const char *shown = (opt->flags & OPT_SECRET) ? "(secret)" : text;
    char lo[128], hi[32];
    long long n;
    int64_t ms;
    int port;
    bool b;

    switch (opt->type) {
    case OPT_STRING:
        if ((opt->flags & OPT_NONEMPTY) && *text == '\0')
            return fail(errstr, errstr_size, "%s: must not be empty", opt->name);
        replace_string((char **)field, text);
        return CFD_OK;

    case OPT_ENUM:
        for (size_t i = 0; opt->choices[i]; i++) {
            if (strcasecmp(text, opt->choices[i]) == 0) {
                replace_string((char **)field, opt->choices[i]);
                return CFD_OK;
            }
        }
        format_choices(opt, lo, sizeof(lo));
        return fail(errstr, errstr_size, "%s: '%s' is not one of %s", opt->name, shown, lo);

    case OPT_INT:
        if (parse_int(text, &n) != 0)
            return fail(errstr, errstr_size, "%s: not an integer: '%s'", opt->name, shown);
        if (n < opt->min || n > opt->max)
            return fail(errstr, errstr_size, "%s: %s is out of range %lld..%lld", opt->name,
                        shown, (long long)opt->min, (long long)opt->max);
        *(int *)field = (int)n;
        return CFD_OK;

    case OPT_DURATION:
        if (cfd_parse_duration_ms(text, &ms) != 0)
            return fail(
                errstr, errstr_size,
                "%s: not a duration: '%s' (expected e.g. 500ms, 30s, 5min, 24h, 7d)",
                opt->name, shown);
        if (ms < opt->min || ms > opt->max) {
            format_duration(opt->min, lo, sizeof(lo));
            format_duration(opt->max, hi, sizeof(hi));
            return fail(errstr, errstr_size, "%s: %s is out of range %s..%s", opt->name,
                        shown, lo, hi);
        }
        *(int64_t *)field = ms;
        return CFD_OK;

    case OPT_LISTEN:
        if (*text && cfd_parse_listen(text, lo, sizeof(lo), &port) != 0)
            return fail(errstr, errstr_size,
                        "%s: not an address: '%s' (expected host:port, e.g. "
                        "127.0.0.1:9464, or empty)",
                        opt->name, shown);
        replace_string((char **)field, text);
        return CFD_OK;

    case OPT_BOOL:
        if (cfd_parse_bool(text, &b) != 0)
            return fail(
                errstr, errstr_size,
                "%s: not a boolean: '%s' (expected true/false, yes/no, on/off, 1/0)",
                opt->name, shown);
        *(bool *)field = b;
        return CFD_OK;
    }
    return fail(errstr, errstr_size, "%s: unsupported option type", opt->name);
}

/* @returns true for a librdkafka property whose value is a secret (sasl.password,
 * ssl.key.password, ssl.keystore.password, sasl.oauthbearer.client.secret, ...). */
static bool kafka_secret(const char *prop)
{
    return strstr(prop, "password") || strstr(prop, "secret");
}

/*
 * Sets "kafka.[consumer.|producer.]prop": checks it against librdkafka on a scratch
 * conf, then stores it, replacing an earlier value of the same scope and property.
 */
static cfd_err kafka_set(cfd_config *cfg, const char *key, const char *value, char *errstr,
                         size_t errstr_size)
{
    const char *prop = key + strlen(kafka_prefix);
    int scope = CFD_KAFKA_BOTH;
    char rkerr[512];
    cfd_kafka_prop *kv;
    char *vcopy;

    if (strncmp(prop, "consumer.", 9) == 0) {
        scope = CFD_KAFKA_CONSUMER;
        prop += 9;
    } else if (strncmp(prop, "producer.", 9) == 0) {
        scope = CFD_KAFKA_PRODUCER;
        prop += 9;
    }
    if (*prop == '\0')
        return fail(errstr, errstr_size, "%s: no librdkafka property named", key);

    if (!cfd_kafka_prop_check(prop, value, rkerr, sizeof(rkerr)))
        /* librdkafka's message may quote the value */
        return fail(errstr, errstr_size, "%s: %s", key,
                    kafka_secret(prop) ? "invalid value (not shown: secret)" : rkerr);

    vcopy = cfd_xstrdup(value);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        kv = &cfg->kafka[i];
        if (kv->scope == scope && strcmp(kv->key, prop) == 0) {
            free(kv->value);
            kv->value = vcopy;
            return CFD_OK;
        }
    }
    cfg->kafka = cfd_xrealloc(cfg->kafka, (cfg->n_kafka + 1) * sizeof(*cfg->kafka));
    cfg->kafka[cfg->n_kafka++] =
        (cfd_kafka_prop){.key = cfd_xstrdup(prop), .value = vcopy, .scope = scope};
    return CFD_OK;
}

cfd_err cfd_config_set(cfd_config *cfg, const char *key, const char *value, char *errstr,
                       size_t errstr_size)
{
    const cfd_option *opt;

    if (!key || !value)
        return fail(errstr, errstr_size, "missing key or value");
    if (strncmp(key, kafka_prefix, strlen(kafka_prefix)) == 0)
        return kafka_set(cfg, key, value, errstr, errstr_size);
    opt = option_find(key);
    if (!opt)
        return fail(errstr, errstr_size, "%s: unknown key", key);
    return option_set(cfg, opt, value, errstr, errstr_size);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* @returns a copy of [start, end) without surrounding whitespace. */
static char *strip_copy(const char *start, const char *end)
{
    while (start < end && is_space(*start))
        start++;
    while (end > start && is_space(end[-1]))
        end--;
    return cfd_xstrndup(start, (size_t)(end - start));
}

cfd_err cfd_config_set_pair(cfd_config *cfg, const char *pair, char *errstr,
                            size_t errstr_size)
{
    const char *eq = pair ? strchr(pair, '=') : NULL;
    char *key = NULL, *value = NULL;
    cfd_err err;

    if (!eq)
        return fail(errstr, errstr_size, "'%s': expected key=value", pair ? pair : "");
    key = strip_copy(pair, eq);
    value = strip_copy(eq + 1, eq + strlen(eq));
    if (*key == '\0')
        err = fail(errstr, errstr_size, "'%s': expected key=value, the key is empty", pair);
    else
        err = cfd_config_set(cfg, key, value, errstr, errstr_size);
    free(key);
    free(value);
    return err;
}

cfd_config *cfd_config_new(void)
{
    cfd_config *cfg = cfd_xcalloc(1, sizeof(*cfg));

    /* Defaults are checked by the unit tests, so none fails here. */
    for (size_t i = 0; i < N_OPTIONS; i++)
        (void)option_set(cfg, &options[i], options[i].def, NULL, 0);
    return cfg;
}

void cfd_config_destroy(cfd_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].type == OPT_STRING || options[i].type == OPT_ENUM ||
            options[i].type == OPT_LISTEN)
            free(*(char **)((char *)cfg + options[i].offset));
    }
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free(cfg);
}

/* ---- INI files --------------------------------------------------------------------- */

/* A section is known if some option lives in it, or it is one of Kafka's. */
static bool section_is_known(void *user, const char *name, size_t len)
{
    static const char *const kafka_sections[] = {"kafka", "kafka.consumer",
                                                 "kafka.producer"};

    (void)user;
    for (size_t i = 0; i < sizeof(kafka_sections) / sizeof(kafka_sections[0]); i++) {
        if (strlen(kafka_sections[i]) == len && strncmp(kafka_sections[i], name, len) == 0)
            return true;
    }
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strncmp(options[i].name, name, len) == 0 && options[i].name[len] == '.')
            return true;
    }
    return false;
}

/* "[section] name = value" is the key "section.name". */
static int on_value(void *user, const char *section, const char *name, const char *value,
                    char *err, size_t err_size)
{
    cfd_config *cfg = user;
    char key[256];

    if (*section == '\0') {
        snprintf(err, err_size,
                 "'%s' is outside any section (put it under [worker], "
                 "[redis], [metrics] or [kafka])",
                 name);
        return -1;
    }
    if ((size_t)snprintf(key, sizeof(key), "%s.%s", section, name) >= sizeof(key)) {
        snprintf(err, err_size, "key too long: %s.%s", section, name);
        return -1;
    }
    return cfd_config_set(cfg, key, value, err, err_size) == CFD_OK ? 0 : -1;
}

cfd_err cfd_config_load_file(cfd_config *cfg, const char *path, char *errstr,
                             size_t errstr_size)
{
    return cfd_ini_load(path, on_value, section_is_known, cfg, errstr, errstr_size);
}

/* ---- the reference ----------------------------------------------------------------- */

static void write_type(FILE *out, const cfd_option *opt)
{
    char lo[128], hi[32];

    switch (opt->type) {
    case OPT_STRING:
        fputs("string", out);
        break;
    case OPT_INT:
        fprintf(out, "integer, %lld..%lld", (long long)opt->min, (long long)opt->max);
        break;
    case OPT_DURATION:
        format_duration(opt->min, lo, sizeof(lo));
        format_duration(opt->max, hi, sizeof(hi));
        fprintf(out, "duration, %s..%s", lo, hi);
        break;
    case OPT_BOOL:
        fputs("bool", out);
        break;
    case OPT_LISTEN:
        fputs("address", out);
        break;
    case OPT_ENUM:
        format_choices(opt, lo, sizeof(lo));
        fprintf(out, "one of %s", lo);
        break;
    }
}

static bool type_is_used(opt_type type)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].type == type)
            return true;
    }
    return false;
}

void cfd_config_write_reference(FILE *out)
{
    static const struct {
        opt_type type;
        const char *text;
    } type_docs[] = {
        {OPT_STRING, "- **string**: the text after `=`, without the whitespace around it. "
                     "Quotes are not removed."},
        {OPT_INT, "- **integer**: decimal digits with an optional leading `-`, within "
                  "the range shown."},
        {OPT_DURATION, "- **duration**: a whole number followed by a unit, `ms`, `s`, "
                       "`min` (or `m`), `h` or `d`: `500ms`, `30s`, `5min`, `24h`, `7d`. "
                       "A bare number is milliseconds. Fractions, signs and spaces are "
                       "rejected. The value must lie within the range shown."},
        {OPT_BOOL, "- **bool**: `true`/`false`, `yes`/`no`, `on`/`off` or `1`/`0`, "
                   "in any case."},
        {OPT_ENUM, "- **one of**: one of the words listed, in any case."},
        {OPT_LISTEN, "- **address**: `host:port` to listen on: an IPv4 address or a host "
                     "name, or an IPv6 address in brackets (`[::1]:9464`); a port from 1 "
                     "to 65535. Empty turns the listener off."},
    };

    fputs("# confirmd configuration reference\n"
          "\n"
          "<!-- Generated from the option table in src/app/config.c by "
          "`confirmd --config-reference`; do not edit by hand. -->\n"
          "\n"
          "Settings come from three places, a later one winning: the defaults below, "
          "the INI file, then each `--set key=value` on the command line in the order "
          "given. An unknown key or section, or a value that does not parse or is out "
          "of range, stops start-up with an error naming the file and line "
          "(`confirmd.ini:12: error: redis.port: not an integer: 'abc'`).\n"
          "\n"
          "| Key | Type | Default | Description |\n"
          "|-----|------|---------|-------------|\n",
          out);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const cfd_option *opt = &options[i];
        fprintf(out, "| `%s` | ", opt->name);
        write_type(out, opt);
        if (opt->def[0] == '\0')
            fputs(" | (empty) | ", out);
        else if (opt->flags & OPT_SECRET)
            fputs(" | (secret) | ", out);
        else
            fprintf(out, " | `%s` | ", opt->def);
        fputs(opt->desc, out);
        if (opt->flags & OPT_NONEMPTY)
            fputs(" Must not be empty.", out);
        fputs(" |\n", out);
    }

    fputs("\n## Value types\n\n", out);
    for (size_t i = 0; i < sizeof(type_docs) / sizeof(type_docs[0]); i++) {
        if (type_is_used(type_docs[i].type))
            fprintf(out, "%s\n", type_docs[i].text);
    }

    fputs(
        "\n## INI layout\n"
        "\n"
        "The key `section.name` is written as `name = value` under `[section]`. "
        "The sections are `[worker]`, `[redis]`, `[metrics]`, `[kafka]`, "
        "`[kafka.consumer]` and `[kafka.producer]`; a key outside any section is an error. "
        "`config/confirmd.ini` lists every key with its default.\n"
        "\n"
        "```ini\n"
        "[worker]\n"
        "batch_size = 5000\n"
        "park_window = 24h\n"
        "\n"
        "[redis]\n"
        "host = 127.0.0.1\n"
        "\n"
        "[kafka]\n"
        "bootstrap.servers = localhost:9092\n"
        "```\n"
        "\n"
        "The file is read with libinih:\n"
        "\n"
        "- A line starting with `;` or `#` is a comment. A `;` after whitespace starts "
        "a comment at the end of a line (`port = 6379 ; default`), so a value cannot "
        "contain ` ;`. A `#` after a value is part of the value.\n"
        "- Keys and section headers start in the first column. An indented line is an "
        "error: libinih would read it as the continuation of the previous value.\n"
        "- A line holds at most 197 characters; a longer one is an error. Give longer "
        "values with `--set`.\n"
        "- A key given twice keeps the last value.\n"
        "\n"
        "## Kafka pass-through\n"
        "\n"
        "Keys starting with `kafka.` are not in the table above: they are librdkafka "
        "properties (see librdkafka's CONFIGURATION.md), passed through unchanged. "
        "`kafka.X` is set on both the consumer and the producer, `kafka.consumer.X` "
        "on the consumer only and `kafka.producer.X` on the producer only; a scoped "
        "value wins over a shared one. In the INI file they are the keys of `[kafka]`, "
        "`[kafka.consumer]` and `[kafka.producer]`: `bootstrap.servers = "
        "localhost:9092` under `[kafka]` is `kafka.bootstrap.servers`. Each property is "
        "checked with librdkafka when it is read, so an unknown property or a bad "
        "value stops start-up with librdkafka's message. Setting the same key again "
        "replaces its value. Properties that take a callback or a pointer cannot be "
        "set this way.\n"
        "\n"
        "## Secrets\n"
        "\n"
        "`redis.password` is never printed or logged, not even in error messages. "
        "Kafka credentials such as `kafka.sasl.password` go to librdkafka unchanged "
        "and are never logged either: confirmd prints no configuration, and a "
        "`kafka.*` key whose name contains `password` or `secret` "
        "(`kafka.sasl.password`, `kafka.ssl.key.password`, "
        "`kafka.ssl.keystore.password`, `kafka.sasl.oauthbearer.client.secret`) has "
        "its value left out of error messages. "
        "Keep the INI file readable only by the service user; a value given with "
        "`--set` is visible in the process list.\n"
        "\n"
        "## Kafka over SASL_SSL\n"
        "\n"
        "```ini\n"
        "[kafka]\n"
        "bootstrap.servers = kafka1:9093,kafka2:9093\n"
        "security.protocol = SASL_SSL\n"
        "sasl.mechanisms = PLAIN\n"
        "sasl.username = confirmd\n"
        "sasl.password = long-random-password\n"
        "ssl.ca.location = /etc/confirmd/kafka-ca.pem\n"
        "```\n"
        "\n"
        "`ssl.ca.location` is the CA certificate (PEM) that signed the brokers' "
        "certificates; without it the system's CAs are used. The same keys on the "
        "command line: `--set kafka.sasl.password=...`; for `confirmctl`, "
        "`-X sasl.password=...` (the `kafka.` prefix is optional there). "
        "`sasl.mechanisms = SCRAM-SHA-512` works with Kafka 3.x, and with Kafka 4 only "
        "from librdkafka 2.6.1 on: Debian bookworm's 2.0.2 sends a SCRAM nonce that "
        "Kafka 4 refuses (`invalid credentials`), so use PLAIN there. A refused login "
        "or TLS handshake stops confirmd with exit status 6 (docs/OPERATIONS.md).\n",
        out);
}

cfd_store_opts cfd_config_store_opts(const cfd_config *cfg)
{
    return (cfd_store_opts){
        .host = cfg->redis_host,
        .port = cfg->redis_port,
        .unix_socket = cfg->redis_unix_socket,
        .user = cfg->redis_user,
        .password = cfg->redis_password,
        .db = cfg->redis_db,
        .timeout_ms = cfg->redis_timeout_ms,
        .key_prefix = cfg->redis_key_prefix,
        .cluster = cfg->redis_cluster,
        .cluster_seeds = cfg->redis_cluster_seeds,
        .cluster_wait_replicas = cfg->redis_cluster_wait_replicas,
        .cluster_wait_timeout_ms = cfg->redis_cluster_wait_timeout_ms,
    };
}

cfd_kafka_opts cfd_config_kafka_opts(const cfd_config *cfg)
{
    return (cfd_kafka_opts){.props = cfg->kafka, .n_props = cfg->n_kafka};
}

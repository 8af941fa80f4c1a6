/*
 * confirmctl: a small kcat-like tool for people working with confirmd.
 *
 *   produce  JSON lines (confirmd.v1.Event) -> Kafka, keyed by work order
 *   tail     Kafka -> JSON lines (or one-line summaries), decoded by topic
 *   decode   protobuf bytes -> JSON
 *   encode   JSON -> protobuf bytes
 *
 * Kafka goes through librdkafka only; JSON through the codec's descriptor-driven
 * mapping, so this file knows no field of the schema except work_order and the
 * *_time_ms convention (for --shift-to-now) and what --pretty summarises.
 *   clock    the simulated SLA clock of rehearsals and tests (Redis)
 *   topics   create the service's topics through the admin API (confirmctl_topics.c)
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/config.h"
#include "confirmd/kafka.h"
#include "confirmd/store.h"
#include "confirmd/text.h"
#include "confirmctl.h"

#define CTL_DEFAULT_TOPIC "confirmd.events"
#define CTL_MAX_PROPS 64
#define CTL_MAX_TOPICS 32
#define CTL_FLUSH_MS 30000

volatile sig_atomic_t ctl_stop;

static void ctl_on_signal(int sig)
{
    (void)sig;
    ctl_stop = 1;
}

/* ---- shared helpers -------------------------------------------------------------- */

static char ctl_refusal[512]; /* why the brokers refused this client, "" while they did not */

void ctl_kafka_error(int err, const char *reason)
{
    if (cfd_kafka_fault_of(err) == CFD_KAFKA_REFUSED && !ctl_refusal[0])
        snprintf(ctl_refusal, sizeof ctl_refusal, "%s", reason);
}

bool ctl_refused(void)
{
    static bool said;

    if (!ctl_refusal[0])
        return false;
    if (!said)
        fprintf(stderr, "confirmctl: SASL login or TLS handshake with the brokers failed "
                        "(check the sasl.* and ssl.* properties): %s\n", ctl_refusal);
    said = true;
    return true;
}

static void ctl_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    fprintf(stderr, "confirmctl: kafka: %s: %s\n", rd_kafka_err2name(err), reason);
    ctl_kafka_error(err, reason);
}

/* librdkafka properties from -X, in order. */
typedef struct ctl_props {
    const char *kv[CTL_MAX_PROPS];
    int n;
} ctl_props;

static int ctl_props_add(ctl_props *p, const char *kv)
{
    if (p->n == CTL_MAX_PROPS || !strchr(kv, '=')) {
        fprintf(stderr, "confirmctl: -X expects prop=value, got \"%s\"\n", kv);
        return -1;
    }
    p->kv[p->n++] = kv;
    return 0;
}

/*
 * Builds a librdkafka configuration: bootstrap servers, then the -X properties
 * ("kafka." prefix optional, as in confirmd's config). @returns NULL on a bad property.
 */
static rd_kafka_conf_t *ctl_conf_new(const char *brokers, const ctl_props *props)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK)
        goto fail;
    for (int i = 0; i < props->n; i++) {
        char name[256];
        const char *kv = props->kv[i];
        const char *eq = strchr(kv, '=');
        if (strncmp(kv, "kafka.", 6) == 0)
            kv += 6;
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
        if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
            goto fail;
    }
    rd_kafka_conf_set_error_cb(conf, ctl_error_cb);
    return conf;
fail:
    fprintf(stderr, "confirmctl: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static int64_t ctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool ctl_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0;
}

int64_t ctl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads all of f into a malloc'd buffer. @returns NULL on a read error. */
static uint8_t *ctl_read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = cfd_xmalloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = cfd_xrealloc(buf, cap);
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Opens FILE or "-" (stdin). */
static FILE *ctl_open_input(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        fprintf(stderr, "confirmctl: %s: %s\n", path, strerror(errno));
    return f;
}

static void ctl_close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

static const char *ctl_json_str(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t ctl_json_i64(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_string))
        return strtoll(json_object_get_string(v), NULL, 10);
    return json_object_get_int64(v);
}

/* ---- produce --------------------------------------------------------------------- */

static void ctl_produce_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl produce -b BROKERS [options] [FILE|-]\n"
            "\n"
            "Reads JSON lines, one confirmd.v1.Event per line (blank lines and lines\n"
            "starting with # are skipped), and produces them keyed by work_order (by\n"
            "network_object for Alarm, object_id for Circuit) with the idempotent\n"
            "producer. Every line is checked before anything is sent.\n"
            "\n"
            "  -b, --brokers LIST     bootstrap servers (host:port,...)\n"
            "  -t, --topic TOPIC      topic (default " CTL_DEFAULT_TOPIC ")\n"
            "  -X prop=value          librdkafka property, repeatable (\"kafka.\" prefix ok)\n"
            "      --raw-invalid      send a line that is not a valid Event as its raw bytes\n"
            "                         (to exercise the dead-letter path) instead of failing\n"
            "      --shift-to-now     add (now - first event_time_ms of the file) to every\n"
            "                         nonzero *_time_ms field, so samples look current\n"
            "      --type NAME        lines are another confirmd.v1 message (default Event):\n"
            "                         Alarm (-t confirmd.alarms), Circuit (inventory,\n"
            "                         -t confirmd.inventory), SlaAlert to feed a consumer\n"
            "  -h, --help             this text\n"
            "\n"
            "Exits 0 when every message was delivered, 1 otherwise.\n");
}

/* One line of the input, ready to send. */
typedef struct ctl_msg {
    uint8_t *value;
    size_t len;
    char *key; /* work order, or NULL */
} ctl_msg;

typedef struct ctl_produce_ctx {
    size_t delivered;
    size_t failed;
} ctl_produce_ctx;

static void ctl_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    ctl_produce_ctx *ctx = opaque;
    (void)rk;
    if (m->err) {
        ctx->failed++;
        fprintf(stderr, "confirmctl: delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else {
        ctx->delivered++;
    }
}

/* Adds delta to every nonzero "*_time_ms" member of o, at any depth. */
static void ctl_shift_times(json_object *o, int64_t delta)
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            ctl_shift_times(json_object_array_get_idx(o, i), delta);
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, key, v)
    {
        size_t kl = strlen(key);
        if (kl >= 8 && strcmp(key + kl - 8, "_time_ms") == 0 &&
            (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string))) {
            int64_t t = ctl_json_i64(o, key);
            if (t != 0)
                json_object_object_add(o, key, json_object_new_int64(t + delta));
        } else {
            ctl_shift_times(v, delta);
        }
    }
}

static bool ctl_skip_line(const char *line)
{
    line += strspn(line, " \t\r\n");
    return *line == '\0' || *line == '#';
}

/*
 * Converts one input line into a message. @returns 0, or -1 with errstr filled when
 * the line is not a valid Event (and --raw-invalid is off).
 */
static int ctl_line_to_msg(const char *type, char *line, bool shift, int64_t delta,
                           bool raw_invalid, ctl_msg *msg, char *errstr, size_t errstr_size)
{
    json_object *obj = json_tokener_parse(line);
    const char *text = line;
    char *shifted = NULL;

    memset(msg, 0, sizeof *msg);
    if (obj && json_object_is_type(obj, json_type_object)) {
        /* The key that routes the message: work order, network object, object id. */
        const char *key = ctl_json_str(obj, "work_order");
        if (!key || !*key)
            key = ctl_json_str(obj, "network_object");
        if (!key || !*key)
            key = ctl_json_str(obj, "object_id");
        if (key && *key)
            msg->key = cfd_xstrdup(key);
        if (shift) {
            ctl_shift_times(obj, delta);
            shifted = cfd_xstrdup(json_object_to_json_string_ext(
                obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
            text = shifted;
        }
    }
    json_object_put(obj);

    int rc = 0;
    if (cfd_json_to_pb(type, text, &msg->value, &msg->len, errstr, errstr_size)) {
        if (raw_invalid) {
            msg->len = strlen(line);
            msg->value = (uint8_t *)cfd_xstrdup(line);
        } else {
            free(msg->key);
            msg->key = NULL;
            rc = -1;
        }
    }
    free(shifted);
    return rc;
}

/* @returns the event_time_ms of the first data line that has one, or 0. */
static int64_t ctl_first_event_time(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ctl_skip_line(lines[i]))
            continue;
        json_object *obj = json_tokener_parse(lines[i]);
        int64_t t = json_object_is_type(obj, json_type_object) ? ctl_json_i64(obj, "event_time_ms")
                                                               : 0;
        json_object_put(obj);
        if (t)
            return t;
    }
    return 0;
}

static int ctl_send_all(rd_kafka_t *rk, const char *topic, ctl_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n && !ctl_stop; i++) {
        rd_kafka_resp_err_t err;
        for (;;) {
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(msgs[i].key, msgs[i].key ? strlen(msgs[i].key) : 0),
                RD_KAFKA_V_VALUE(msgs[i].value, msgs[i].len), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 100);
        }
        if (err) {
            fprintf(stderr, "confirmctl: produce to %s: %s\n", topic, rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(rk, 0);
    }
    return ctl_stop ? -1 : 0;
}

static int ctl_produce(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"raw-invalid", no_argument, NULL, 'r'},
        {"shift-to-now", no_argument, NULL, 's'},
        {"type", required_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = NULL, *topic = CTL_DEFAULT_TOPIC, *path = "-", *type = "Event";
    bool raw_invalid = false, shift = false;
    ctl_props props = {{0}, 0};
    int c;

    while ((c = getopt_long(argc, argv, "b:t:X:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'X':
            if (ctl_props_add(&props, optarg))
                return CTL_EXIT_USAGE;
            break;
        case 'r': raw_invalid = true; break;
        case 's': shift = true; break;
        case 'y': type = optarg; break;
        case 'h': ctl_produce_usage(stdout); return CTL_EXIT_OK;
        default: ctl_produce_usage(stderr); return CTL_EXIT_USAGE;
        }
    }
    if (optind < argc)
        path = argv[optind++];
    if (!brokers || optind < argc) {
        ctl_produce_usage(stderr);
        return CTL_EXIT_USAGE;
    }

    int rc = CTL_EXIT_FAIL;
    char **lines = NULL;
    size_t nlines = 0, cap = 0;
    ctl_msg *msgs = NULL;
    size_t nmsgs = 0;
    rd_kafka_t *rk = NULL;
    ctl_produce_ctx ctx = {0, 0};
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;

    FILE *in = ctl_open_input(path);
    if (!in)
        return CTL_EXIT_FAIL;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    while ((got = getline(&line, &linecap, in)) != -1) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (nlines == cap) {
            cap = cap ? cap * 2 : 64;
            lines = cfd_xrealloc(lines, cap * sizeof *lines);
        }
        lines[nlines++] = line;
        line = NULL;
        linecap = 0;
    }
    free(line);
    ctl_close_input(in);
    in = NULL;

    /* Check every line before sending any, so a typo does not send half a file. */
    int64_t delta = shift ? ctl_now_ms() - ctl_first_event_time(lines, nlines) : 0;
    msgs = cfd_xcalloc(nlines, sizeof *msgs);
    int bad = 0;
    for (size_t i = 0; i < nlines; i++) {
        char errstr[512];
        if (ctl_skip_line(lines[i]))
            continue;
        if (ctl_line_to_msg(type, lines[i], shift, delta, raw_invalid, &msgs[nmsgs], errstr,
                            sizeof errstr)) {
            fprintf(stderr, "%s:%zu: %s\n", name, i + 1, errstr);
            bad++;
            continue;
        }
        nmsgs++;
    }
    if (bad)
        goto out;

    char errstr[512];
    rd_kafka_conf_t *conf = ctl_conf_new(brokers, &props);
    if (!conf) {
        rc = CTL_EXIT_USAGE;
        goto out;
    }
    if (rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, ctl_dr_cb);
    rd_kafka_conf_set_opaque(conf, &ctx);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) { /* on failure conf is still ours */
        fprintf(stderr, "confirmctl: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    conf = NULL; /* rd_kafka_new() took ownership */

    if (ctl_send_all(rk, topic, msgs, nmsgs) == 0) {
        int64_t deadline = ctl_mono_ms() + CTL_FLUSH_MS;
        while (rd_kafka_outq_len(rk) > 0 && ctl_mono_ms() < deadline && !ctl_stop &&
               !ctl_refused())
            rd_kafka_flush(rk, 100);
    }
    size_t pending = nmsgs - ctx.delivered - ctx.failed;
    if (pending)
        fprintf(stderr, "confirmctl: %zu messages not acknowledged\n", pending);
    printf("produced %zu %s to %s\n", ctx.delivered,
           strcmp(type, "Event") == 0 ? "events" : "messages", topic);
    if (ctx.delivered == nmsgs)
        rc = CTL_EXIT_OK;
out:
    if (rk)
        rd_kafka_destroy(rk);
    for (size_t i = 0; i < nmsgs; i++) {
        free(msgs[i].value);
        free(msgs[i].key);
    }
    free(msgs);
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    ctl_close_input(in);
    return rc;
}

/* ---- tail ------------------------------------------------------------------------ */

static void ctl_tail_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl tail -b BROKERS -t TOPIC[,TOPIC...] [options]\n"
            "\n"
            "Prints one JSON line per message, decoded by topic name: *records ->\n"
            "ConfirmationRecord, *alerts -> SlaAlert, *deadletter -> DeadLetter, anything\n"
            "else -> Event. Without -g every partition is assigned directly (no group).\n"
            "\n"
            "  -b, --brokers LIST     bootstrap servers\n"
            "  -t, --topic LIST       topic(s), comma separated\n"
            "  -g, --group ID         consume as a member of group ID (subscribe)\n"
            "  -n, --count N          stop after N messages; exit 1 if fewer arrived\n"
            "      --timeout-ms MS    stop after MS without a message (default 10000)\n"
            "      --from-beginning   start at the oldest message (default: new ones only)\n"
            "      --type NAME        decode every message as NAME (e.g. Event)\n"
            "      --meta             wrap as {\"topic\",\"partition\",\"offset\",\"key\",\"id\",\"value\"}\n"
            "      --pretty           one human-readable summary line per message\n"
            "  -X prop=value          librdkafka property, repeatable\n"
            "  -h, --help             this text\n");
}

typedef struct ctl_tail_opts {
    const char *brokers;
    const char *topics[CTL_MAX_TOPICS];
    int ntopics;
    const char *group;
    long count; /* 0: unlimited */
    long timeout_ms;
    bool from_beginning, meta, pretty;
    const char *type; /* NULL: by topic name */
    ctl_props props;
} ctl_tail_opts;

static bool ctl_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static const char *ctl_type_for_topic(const char *topic)
{
    if (ctl_ends_with(topic, "records"))
        return "ConfirmationRecord";
    if (ctl_ends_with(topic, "alerts"))
        return "SlaAlert";
    if (ctl_ends_with(topic, "deadletter"))
        return "DeadLetter";
    if (ctl_ends_with(topic, "alarms"))
        return "Alarm";
    if (ctl_ends_with(topic, "inventory"))
        return "Circuit";
    if (ctl_ends_with(topic, "incidents"))
        return "Incident";
    if (ctl_ends_with(topic, "city-reports"))
        return "CityReport";
    return "Event";
}

/* Formats an epoch-ms instant as local HH:MM:SS ("-" when absent). */
static const char *ctl_clock(int64_t ms, char *buf, size_t size)
{
    if (ms <= 0)
        return "-";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
    return buf;
}

/* Drops a known enum prefix for the short forms --pretty prints. */
static const char *ctl_strip(const char *s, const char *prefix)
{
    if (!s)
        return "-";
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : s;
}

static void ctl_pretty_alert(FILE *out, json_object *v)
{
    char t1[16], t2[16], t3[16];
    int pct = (int)ctl_json_i64(v, "threshold_pct");
    const char *tier = ctl_json_str(v, "tier");
    json_object *gold;

    fprintf(out, "ALERT %s %s %s", ctl_strip(ctl_json_str(v, "kind"), "ALERT_KIND_"),
            ctl_json_str(v, "work_order") ? ctl_json_str(v, "work_order") : "-",
            ctl_json_str(v, "metric") ? ctl_json_str(v, "metric") : "-");
    if (pct && pct != 100)
        fprintf(out, " %d%%", pct);
    fprintf(out, " deadline %s", ctl_clock(ctl_json_i64(v, "deadline_ms"), t1, sizeof t1));
    if (ctl_json_i64(v, "actual_ms"))
        fprintf(out, " actual %s", ctl_clock(ctl_json_i64(v, "actual_ms"), t2, sizeof t2));
    fprintf(out, " fired %s", ctl_clock(ctl_json_i64(v, "fired_at_ms"), t3, sizeof t3));
    bool is_gold = json_object_object_get_ex(v, "gold", &gold) && json_object_get_boolean(gold);
    fprintf(out, " tier %s%s", tier ? ctl_strip(tier, "TIER_") : "-", is_gold ? " gold" : "");
    if (ctl_json_str(v, "recipients"))
        fprintf(out, " -> %s", ctl_strip(ctl_json_str(v, "recipients"), "RECIPIENT_"));
    fprintf(out, "\n");
}

static const char *ctl_sla_status(json_object *v, const char *metric)
{
    json_object *sla;
    if (!json_object_object_get_ex(v, "sla", &sla) || !json_object_is_type(sla, json_type_array))
        return "-";
    for (size_t i = 0; i < json_object_array_length(sla); i++) {
        json_object *s = json_object_array_get_idx(sla, i);
        const char *m = ctl_json_str(s, "metric");
        if (m && strcmp(m, metric) == 0) {
            const char *st = ctl_json_str(s, "status");
            return st ? ctl_strip(st, "METRIC_STATUS_") : "UNSPECIFIED";
        }
    }
    return "-";
}

/* Customer names may be in the record; the summary sticks to the SLA facts. */
static void ctl_pretty_record(FILE *out, json_object *v)
{
    const char *wo = ctl_json_str(v, "work_order");
    fprintf(out,
            "RECORD %s v%" PRId64 " %s cause=%s result=%s contact %s on-site %s restoration %s",
            wo ? wo : "-", ctl_json_i64(v, "version"),
            ctl_json_str(v, "state") ? ctl_json_str(v, "state") : "-",
            ctl_strip(ctl_json_str(v, "cause"), "CAUSE_"),
            ctl_strip(ctl_json_str(v, "result"), "RESULT_"), ctl_sla_status(v, "METRIC_CONTACT"),
            ctl_sla_status(v, "METRIC_ON_SITE"), ctl_sla_status(v, "METRIC_RESTORATION"));
    if (ctl_json_i64(v, "penalty_points"))
        fprintf(out, " penalty=%" PRId64, ctl_json_i64(v, "penalty_points"));
    fprintf(out, "\n");
}

static void ctl_pretty_dead_letter(FILE *out, json_object *v)
{
    const char *wo = ctl_json_str(v, "work_order"), *id = ctl_json_str(v, "event_id");
    const char *topic = ctl_json_str(v, "topic"), *detail = ctl_json_str(v, "detail");
    fprintf(out, "DEADLETTER %s %s %s %s[%" PRId64 "]@%" PRId64 ": %s\n",
            ctl_strip(ctl_json_str(v, "reason"), "DEAD_LETTER_"), wo ? wo : "-", id ? id : "-",
            topic ? topic : "-", ctl_json_i64(v, "partition"), ctl_json_i64(v, "offset"),
            detail ? detail : "");
}

/* Incidents carry ids, classes and instants only: printed as they are. */
static void ctl_pretty_incident(FILE *out, json_object *v)
{
    char t1[16], t2[16];
    json_object *orders, *flag;
    const char *city = ctl_json_str(v, "city"), *service = ctl_json_str(v, "service");
    const char *id = ctl_json_str(v, "incident_id");

    fprintf(out, "INCIDENT %s %s v%" PRId64 " %s", id ? id : "-",
            ctl_strip(ctl_json_str(v, "status"), "INCIDENT_STATUS_"), ctl_json_i64(v, "version"),
            ctl_strip(ctl_json_str(v, "kind"), "INCIDENT_KIND_"));
    fprintf(out, " %s/%s orders", city ? city : "-", service ? service : "-");
    if (json_object_object_get_ex(v, "work_orders", &orders))
        for (size_t i = 0; i < json_object_array_length(orders); i++)
            fprintf(out, "%s%s", i ? "," : "=",
                    json_object_get_string(json_object_array_get_idx(orders, i)));
    fprintf(out, " severe since %s", ctl_clock(ctl_json_i64(v, "opened_at_ms"), t1, sizeof t1));
    if (ctl_json_i64(v, "closed_at_ms"))
        fprintf(out, " closed %s", ctl_clock(ctl_json_i64(v, "closed_at_ms"), t2, sizeof t2));
    if (json_object_object_get_ex(v, "excluded_from_assessment", &flag) &&
        json_object_get_boolean(flag))
        fprintf(out, " excluded-from-assessment");
    fprintf(out, "\n");
}

static void ctl_pretty_event(FILE *out, json_object *v)
{
    char t[16];
    const char *payload = "-";
    json_object_object_foreach(v, key, val)
    {
        if (json_object_is_type(val, json_type_object))
            payload = key; /* the only object member of an Event is its payload */
    }
    const char *wo = ctl_json_str(v, "work_order"), *id = ctl_json_str(v, "event_id");
    fprintf(out, "EVENT %s %s %s at %s\n", wo ? wo : "-", id ? id : "-", payload,
            ctl_clock(ctl_json_i64(v, "event_time_ms"), t, sizeof t));
}

static void ctl_print_pretty(FILE *out, const char *type, const char *json)
{
    json_object *v = json_tokener_parse(json);
    if (strcmp(type, "SlaAlert") == 0)
        ctl_pretty_alert(out, v);
    else if (strcmp(type, "ConfirmationRecord") == 0)
        ctl_pretty_record(out, v);
    else if (strcmp(type, "DeadLetter") == 0)
        ctl_pretty_dead_letter(out, v);
    else if (strcmp(type, "Event") == 0)
        ctl_pretty_event(out, v);
    else if (strcmp(type, "Incident") == 0)
        ctl_pretty_incident(out, v);
    else
        fprintf(out, "%s %s\n", type, json);
    json_object_put(v);
}

/* Prints one summary line (text ends in its newline) with what the messages hold
 * escaped, so a value with a newline or a terminal escape cannot fake a line. */
static void ctl_put_line(const char *text, size_t len)
{
    if (len && text[len - 1] == '\n')
        len--;
    size_t size = 4 * len + 1; /* an escape is at most 6 bytes for 2 */
    char *shown = cfd_xmalloc(size);
    cfd_text_escape(shown, size, text, len);
    printf("%s\n", shown);
    free(shown);
}

static void ctl_print_message(const ctl_tail_opts *o, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    const char *type = o->type ? o->type : ctl_type_for_topic(topic);
    char errstr[256];
    char *json = cfd_pb_to_json(type, m->payload, m->len, errstr, sizeof errstr);

    if (o->pretty) {
        char *line = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&line, &len);
        if (!out) {
            perror("confirmctl");
            exit(1);
        }
        if (json)
            ctl_print_pretty(out, type, json);
        else
            fprintf(out, "UNDECODABLE %s[%d]@%" PRId64 ": %s\n", topic, (int)m->partition,
                    m->offset, errstr);
        fclose(out);
        ctl_put_line(line, len);
        free(line);
    } else if (o->meta) {
        json_object *w = json_object_new_object();
        json_object_object_add(w, "topic", json_object_new_string(topic));
        json_object_object_add(w, "partition", json_object_new_int(m->partition));
        json_object_object_add(w, "offset", json_object_new_int64(m->offset));
        json_object_object_add(w, "key", m->key ? json_object_new_string_len(m->key, (int)m->key_len)
                                                : NULL);
        rd_kafka_headers_t *hdrs = NULL;
        const void *idv = NULL;
        size_t idlen = 0;
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(hdrs, "id", &idv, &idlen) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            idv)
            json_object_object_add(w, "id", json_object_new_string_len(idv, (int)idlen));
        else
            json_object_object_add(w, "id", NULL);
        json_object_object_add(w, "value", json ? json_tokener_parse(json) : NULL);
        if (!json)
            json_object_object_add(w, "error", json_object_new_string(errstr));
        printf("%s\n", json_object_to_json_string_ext(
                           w, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(w);
    } else if (json) {
        printf("%s\n", json);
    } else {
        fprintf(stderr, "%s[%d]@%" PRId64 ": %s\n", topic, (int)m->partition, m->offset, errstr);
    }
    fflush(stdout);
    free(json);
}

/*
 * Assigns every partition of the topics, waiting for topics that do not exist yet
 * (the service may create them after tail starts). @returns 0 or -1.
 */
static int ctl_assign_all(rd_kafka_t *rk, const ctl_tail_opts *o)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    int64_t deadline = ctl_mono_ms() + o->timeout_ms;
    int rc = -1;

    for (int i = 0; i < o->ntopics; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topics[i], NULL);
        for (;;) {
            const struct rd_kafka_metadata *md = NULL;
            rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
            if (!err && md->topic_cnt == 1 && !md->topics[0].err &&
                md->topics[0].partition_cnt > 0) {
                for (int p = 0; p < md->topics[0].partition_cnt; p++)
                    rd_kafka_topic_partition_list_add(parts, o->topics[i],
                                                      md->topics[0].partitions[p].id)
                        ->offset = o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING
                                                     : RD_KAFKA_OFFSET_END;
                rd_kafka_metadata_destroy(md);
                break;
            }
            if (!err)
                err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
            if (md)
                rd_kafka_metadata_destroy(md);
            rd_kafka_poll(rk, 0); /* serves the error callback */
            if (ctl_refused())
                goto fail_topic;
            if (ctl_mono_ms() >= deadline || ctl_stop) {
                fprintf(stderr, "confirmctl: topic %s: %s\n", o->topics[i], rd_kafka_err2str(err));
            fail_topic:
                rd_kafka_topic_destroy(rkt);
                goto out;
            }
            usleep(200 * 1000);
        }
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
    if (err) {
        fprintf(stderr, "confirmctl: assign: %s\n", rd_kafka_err2str(err));
        goto out;
    }
    rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

static int ctl_subscribe(rd_kafka_t *rk, const ctl_tail_opts *o)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(o->ntopics);
    for (int i = 0; i < o->ntopics; i++)
        rd_kafka_topic_partition_list_add(topics, o->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        fprintf(stderr, "confirmctl: subscribe: %s\n", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* Splits a comma list into o->topics (pointers into list, which is modified). */
static int ctl_split_topics(ctl_tail_opts *o, char *list)
{
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->ntopics == CTL_MAX_TOPICS)
            return -1;
        o->topics[o->ntopics++] = t;
    }
    return 0;
}

static int ctl_tail_parse(int argc, char **argv, ctl_tail_opts *o)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"count", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"from-beginning", no_argument, NULL, 'B'},
        {"type", required_argument, NULL, 'y'},
        {"meta", no_argument, NULL, 'm'},
        {"pretty", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    o->timeout_ms = 10000;
    while ((c = getopt_long(argc, argv, "b:t:g:n:X:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 't':
            if (ctl_split_topics(o, optarg))
                return CTL_EXIT_USAGE;
            break;
        case 'g': o->group = optarg; break;
        case 'n':
            o->count = strtol(optarg, &end, 10);
            if (*end || o->count < 0)
                return CTL_EXIT_USAGE;
            break;
        case 'T':
            o->timeout_ms = strtol(optarg, &end, 10);
            if (*end || o->timeout_ms < 0)
                return CTL_EXIT_USAGE;
            break;
        case 'B': o->from_beginning = true; break;
        case 'y': o->type = optarg; break;
        case 'm': o->meta = true; break;
        case 'p': o->pretty = true; break;
        case 'X':
            if (ctl_props_add(&o->props, optarg))
                return CTL_EXIT_USAGE;
            break;
        case 'h': return -1;
        default: return CTL_EXIT_USAGE;
        }
    }
    if (!o->brokers || o->ntopics == 0 || optind < argc)
        return CTL_EXIT_USAGE;
    return CTL_EXIT_OK;
}

static int ctl_tail(int argc, char **argv)
{
    ctl_tail_opts o;
    char errstr[512];

    memset(&o, 0, sizeof o);
    int prc = ctl_tail_parse(argc, argv, &o);
    if (prc < 0) {
        ctl_tail_usage(stdout);
        return CTL_EXIT_OK;
    }
    if (prc) {
        ctl_tail_usage(stderr);
        return CTL_EXIT_USAGE;
    }

    rd_kafka_conf_t *conf = ctl_conf_new(o.brokers, &o.props);
    if (!conf)
        return CTL_EXIT_USAGE;
    /* assign() in librdkafka 2.0.2 wants a group id even though no group is joined. */
    char own_group[64];
    snprintf(own_group, sizeof own_group, "confirmctl-tail-%ld", (long)getpid());
    struct {
        const char *name, *value;
    } settings[] = {
        {"enable.partition.eof", "false"},
        {"enable.auto.commit", o.group ? "true" : "false"},
        {"auto.offset.reset", o.from_beginning ? "earliest" : "latest"},
        {"group.id", o.group ? o.group : own_group},
        {"session.timeout.ms", o.group ? "6000" : NULL},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (settings[i].value &&
            rd_kafka_conf_set(conf, settings[i].name, settings[i].value, errstr, sizeof errstr) !=
                RD_KAFKA_CONF_OK) {
            fprintf(stderr, "confirmctl: %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return CTL_EXIT_USAGE;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return CTL_EXIT_FAIL;
    }
    conf = NULL; /* rd_kafka_new() took ownership */

    int rc = CTL_EXIT_FAIL;
    /* Assigning serves the main queue (errors) itself, with rd_kafka_poll(), which is
     * no longer allowed once it is redirected to the consumer's. */
    if (o.group)
        rd_kafka_poll_set_consumer(rk);
    if ((o.group ? ctl_subscribe(rk, &o) : ctl_assign_all(rk, &o)) != 0)
        goto out;
    if (!o.group)
        rd_kafka_poll_set_consumer(rk);

    long seen = 0;
    int64_t idle_since = ctl_mono_ms();
    while (!ctl_stop && (o.count == 0 || seen < o.count) && !ctl_refused()) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if (ctl_mono_ms() - idle_since >= o.timeout_ms)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "confirmctl: %s\n", rd_kafka_message_errstr(m));
        } else {
            ctl_print_message(&o, m);
            seen++;
            idle_since = ctl_mono_ms();
        }
        rd_kafka_message_destroy(m);
    }
    rc = (o.count == 0 || seen >= o.count) && !ctl_refusal[0] ? CTL_EXIT_OK : CTL_EXIT_FAIL;
    if (rc && !ctl_refusal[0])
        fprintf(stderr, "confirmctl: %ld of %ld messages before timeout\n", seen, o.count);
out:
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- decode / encode -------------------------------------------------------------- */

static void ctl_codec_usage(FILE *out, const char *cmd)
{
    bool dec = strcmp(cmd, "decode") == 0;
    fprintf(out,
            "usage: confirmctl %s --type NAME [FILE|-]\n"
            "\n"
            "%s\n"
            "NAME is a confirmd.v1 message: Event, ConfirmationRecord, WorkOrderState,\n"
            "SlaAlert, DeadLetter (or any other message of the schema).\n"
            "\n"
            "  -T, --type NAME        message type\n"
            "  -h, --help             this text\n",
            cmd,
            dec ? "Reads one protobuf message (all of the input) and prints it as one JSON line."
            : "Reads one JSON text (all of the input) and writes the protobuf bytes to\n"
            "stdout.");
}

static int ctl_codec(int argc, char **argv, bool decode)
{
    static const struct option longopts[] = {
        {"type", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *type = NULL, *path = "-";
    int c;

    while ((c = getopt_long(argc, argv, "T:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'T': type = optarg; break;
        case 'h': ctl_codec_usage(stdout, argv[0]); return CTL_EXIT_OK;
        default: ctl_codec_usage(stderr, argv[0]); return CTL_EXIT_USAGE;
        }
    }
    if (optind < argc)
        path = argv[optind++];
    if (!type || optind < argc) {
        ctl_codec_usage(stderr, argv[0]);
        return CTL_EXIT_USAGE;
    }

    FILE *in = ctl_open_input(path);
    if (!in)
        return CTL_EXIT_FAIL;
    size_t len = 0;
    uint8_t *data = ctl_read_all(in, &len);
    ctl_close_input(in);
    if (!data) {
        fprintf(stderr, "confirmctl: cannot read %s\n", path);
        return CTL_EXIT_FAIL;
    }

    int rc = CTL_EXIT_FAIL;
    char errstr[512];
    if (decode) {
        char *json = cfd_pb_to_json(type, data, len, errstr, sizeof errstr);
        if (json) {
            printf("%s\n", json);
            free(json);
            rc = CTL_EXIT_OK;
        } else {
            fprintf(stderr, "confirmctl: %s\n", errstr);
        }
    } else {
        /* The codec takes a C string: stop at the first NUL. */
        char *text = cfd_xrealloc(data, len + 1);
        data = (uint8_t *)text;
        text[len] = '\0';
        uint8_t *buf;
        size_t blen;
        if (cfd_json_to_pb(type, text, &buf, &blen, errstr, sizeof errstr) == CFD_OK) {
            rc = fwrite(buf, 1, blen, stdout) == blen && fflush(stdout) == 0 ? CTL_EXIT_OK
                                                                             : CTL_EXIT_FAIL;
            free(buf);
        } else {
            fprintf(stderr, "confirmctl: %s\n", errstr);
        }
    }
    free(data);
    return rc;
}

/* ---- inventory --------------------------------------------------------------------- */

static void ctl_inventory_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl inventory -b BROKERS [-t TOPIC] [-X prop=value] FILE\n"
            "\n"
            "Loads network objects (confirmd.v1.Circuit) into the compacted inventory topic\n"
            "(default confirmd.inventory), keyed by object_id. FILE is JSON lines, or CSV\n"
            "when its name ends in .csv: a header row of Circuit field names, nested ones\n"
            "dotted (object_id,circuit_id,customer.name,customer.tier,customer.city,...);\n"
            "true/false are booleans, enums by name (TIER_AA, IMPORTANCE_CROSS_CITY).\n"
            "Fields may be quoted with \"; an empty cell leaves the field unset.\n"
            "\n"
            "  -h, --help             this text\n");
}

/* Splits one CSV line into at most max cells (quotes with "" escapes); in place.
 * @returns the number of cells, or -1 on an unterminated quote. */
static int ctl_csv_split(char *line, char **cells, int max)
{
    int n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        char *out = p, *cell = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        char sep = *p;
        *out = '\0';
        cells[n++] = cell;
        if (sep != ',')
            break;
        p++;
    }
    return n;
}

/* Sets a dotted field path of obj to the cell's value. */
static void ctl_json_set_path(json_object *obj, const char *path, const char *value)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        json_object *child = NULL;
        if (!json_object_object_get_ex(obj, buf, &child)) {
            child = json_object_new_object();
            json_object_object_add(obj, buf, child);
        }
        ctl_json_set_path(child, dot + 1, value);
        return;
    }
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
        json_object_object_add(obj, buf, json_object_new_boolean(value[0] == 't'));
    else
        json_object_object_add(obj, buf, json_object_new_string(value));
}

/* Converts a CSV file to JSON lines in out. @returns rows written, or -1. */
static int ctl_csv_to_jsonl(const char *path, FILE *out)
{
    FILE *in = fopen(path, "r");
    char line[4096], header[4096];
    char *names[64], *cells[64];
    int n_names, rows = 0, lineno = 1;
    if (!in) {
        fprintf(stderr, "confirmctl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(header, sizeof header, in) ||
        (n_names = ctl_csv_split(header, names, 64)) <= 0) {
        fprintf(stderr, "confirmctl: %s:1: no header row\n", path);
        fclose(in);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (ctl_skip_line(line))
            continue;
        int n = ctl_csv_split(line, cells, 64);
        if (n != n_names) {
            fprintf(stderr, "confirmctl: %s:%d: %d cells, the header has %d\n", path, lineno,
                    n, n_names);
            fclose(in);
            return -1;
        }
        json_object *obj = json_object_new_object();
        for (int i = 0; i < n; i++)
            if (*cells[i])
                ctl_json_set_path(obj, names[i], cells[i]);
        fprintf(out, "%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
        rows++;
    }
    fclose(in);
    return rows;
}

static int ctl_inventory(int argc, char **argv)
{
    const char *brokers = NULL, *topic = "confirmd.inventory";
    char *pargs[64];
    int np = 0, c;
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    pargs[np++] = "produce";
    while ((c = getopt_long(argc, argv, "b:t:X:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'X':
            if (np < 56) {
                pargs[np++] = "-X";
                pargs[np++] = optarg;
            }
            break;
        case 'h': ctl_inventory_usage(stdout); return CTL_EXIT_OK;
        default: ctl_inventory_usage(stderr); return CTL_EXIT_USAGE;
        }
    }
    if (!brokers || optind + 1 != argc) {
        ctl_inventory_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    const char *file = argv[optind];
    char tmp[] = "/tmp/confirmctl-inventory-XXXXXX";
    bool csv = ctl_ends_with(file, ".csv");
    if (csv) {
        int fd = mkstemp(tmp);
        FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out || ctl_csv_to_jsonl(file, out) < 0) {
            if (out)
                fclose(out);
            unlink(tmp);
            return CTL_EXIT_FAIL;
        }
        fclose(out);
        file = tmp;
    }
    pargs[np++] = "-b";
    pargs[np++] = (char *)brokers;
    pargs[np++] = "-t";
    pargs[np++] = (char *)topic;
    pargs[np++] = "--type";
    pargs[np++] = "Circuit";
    pargs[np++] = (char *)file;
    pargs[np] = NULL;
    optind = 1;
    int rc = ctl_produce(np, pargs);
    if (csv)
        unlink(tmp);
    return rc;
}

/* ---- clock ----------------------------------------------------------------------- */

static void ctl_clock_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl clock [-c FILE] [--set KEY=VALUE ...] COMMAND\n"
            "\n"
            "Drives the simulated clock of workers running with worker.clock=simulated:\n"
            "a scenario spanning days of SLA time runs in seconds, through the same\n"
            "code path that fires timers in production. Redis is reached as confirmd\n"
            "would with the same -c / --set (redis.host, redis.port, redis.password...).\n"
            "\n"
            "Commands:\n"
            "  get                 print the simulated now (ms and UTC), or \"unset\"\n"
            "  set TIME            TIME: ms since the epoch, or YYYY-MM-DDTHH:MM:SSZ\n"
            "  advance DURATION    e.g. 15min, 2h, 500ms (from the current simulated now)\n"
            "  unset               workers follow the system clock again\n"
            "\n"
            "  -c, --config FILE     confirmd configuration file\n"
            "  -s, --set KEY=VALUE   override one configuration key\n"
            "  -h, --help            this text\n");
}

/* Parses ms since the epoch or an ISO 8601 UTC instant. @returns 0 or -1. */
static int ctl_parse_instant(const char *text, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end && *end == '\0' && v > 0) {
        *out = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (strcmp(end, "Z") != 0 && *end != '\0'))
        return -1;
    *out = (int64_t)timegm(&tm) * 1000;
    return 0;
}

static int ctl_simclock(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char errstr[512];
    int rc = CTL_EXIT_USAGE, c;
    cfd_store *st = NULL;
    cfd_config *cfg = cfd_config_new();
    while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
        cfd_err err = CFD_OK;
        switch (c) {
        case 'c': err = cfd_config_load_file(cfg, optarg, errstr, sizeof errstr); break;
        case 's': err = cfd_config_set_pair(cfg, optarg, errstr, sizeof errstr); break;
        case 'h': ctl_clock_usage(stdout); rc = CTL_EXIT_OK; goto out;
        default: ctl_clock_usage(stderr); goto out;
        }
        if (err) {
            fprintf(stderr, "confirmctl: %s\n", errstr);
            goto out;
        }
    }
    if (optind >= argc) {
        ctl_clock_usage(stderr);
        goto out;
    }
    const char *what = argv[optind];
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    int64_t now = 0, step = 0;
    if ((strcmp(what, "set") == 0 && (!arg || ctl_parse_instant(arg, &step))) ||
        (strcmp(what, "advance") == 0 && (!arg || cfd_parse_duration_ms(arg, &step)))) {
        fprintf(stderr, "confirmctl: clock %s: bad or missing value\n", what);
        goto out;
    }
    const cfd_store_opts store_opts = cfd_config_store_opts(cfg);
    if (!(st = cfd_store_new(&store_opts, errstr, sizeof errstr))) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        rc = CTL_EXIT_FAIL;
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (cfd_store_sim_clock(st, &now, errstr, sizeof errstr))
        goto fail;
    if (strcmp(what, "set") == 0) {
        now = step;
    } else if (strcmp(what, "advance") == 0) {
        if (!now) {
            fprintf(stderr, "confirmctl: clock advance: the clock is unset; set it first\n");
            goto out;
        }
        now += step;
    } else if (strcmp(what, "unset") == 0) {
        now = 0;
    } else if (strcmp(what, "get") != 0) {
        fprintf(stderr, "confirmctl: clock: unknown command \"%s\"\n", what);
        rc = CTL_EXIT_USAGE;
        goto out;
    }
    if (strcmp(what, "get") != 0 && cfd_store_set_sim_clock(st, now, errstr, sizeof errstr))
        goto fail;
    if (now) {
        char iso[32];
        time_t secs = (time_t)(now / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%lld %s\n", (long long)now, iso);
    } else {
        printf("unset\n");
    }
    rc = CTL_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "confirmctl: %s\n", errstr);
out:
    cfd_store_destroy(st);
    cfd_config_destroy(cfg);
    return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static void ctl_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl COMMAND [options]\n"
            "\n"
            "Commands:\n"
            "  produce   send JSON lines as confirmd.v1.Event messages to Kafka\n"
            "  tail      print messages of confirmd topics as JSON or summaries\n"
            "  decode    protobuf bytes -> JSON\n"
            "  encode    JSON -> protobuf bytes\n"
            "  clock     get, set or advance the simulated SLA clock (rehearsals, tests)\n"
            "  inventory load network objects from CSV or JSON lines (alarm lookups)\n"
            "  topics    create the Kafka topics the service uses (admin API), list topics\n"
            "\n"
            "Run \"confirmctl COMMAND --help\" for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (ctl_is_help(cmd)) {
        ctl_usage(stdout);
        return CTL_EXIT_OK;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ctl_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Each command parses argv[1..] with getopt, argv[0] being the command name. */
    if (strcmp(cmd, "produce") == 0)
        return ctl_produce(argc - 1, argv + 1);
    if (strcmp(cmd, "tail") == 0)
        return ctl_tail(argc - 1, argv + 1);
    if (strcmp(cmd, "decode") == 0)
        return ctl_codec(argc - 1, argv + 1, true);
    if (strcmp(cmd, "encode") == 0)
        return ctl_codec(argc - 1, argv + 1, false);
    if (strcmp(cmd, "clock") == 0)
        return ctl_simclock(argc - 1, argv + 1);
    if (strcmp(cmd, "inventory") == 0)
        return ctl_inventory(argc - 1, argv + 1);
    if (strcmp(cmd, "topics") == 0)
        return ctl_topics(argc - 1, argv + 1);
    fprintf(stderr, "confirmctl: unknown command \"%s\"\n\n", cmd);
    ctl_usage(stderr);
    return CTL_EXIT_USAGE;
}

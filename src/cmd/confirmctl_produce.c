/*
 * confirmctl produce: JSON lines (a confirmd.v1 message each, Event by default) ->
 * Kafka, keyed by work order (network object, object id), with the idempotent
 * producer. Every line is checked before any is sent. This file knows no field of
 * the schema except the keys and the *_time_ms convention (for --shift-to-now), which
 * it reads from the codec's reading of a line: a line may use the .proto field names
 * or canonical proto3 JSON (what `confirmctl tail --json=proto3` prints).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmctl.h"

#define CTL_DEFAULT_TOPIC "confirmd.events"
#define CTL_FLUSH_MS 30000

static void ctl_produce_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl produce -b BROKERS [options] [FILE|-]\n"
        "\n"
        "Reads JSON lines, one confirmd.v1.Event per line (blank lines and lines\n"
        "starting with # are skipped), and produces them keyed by work_order (by\n"
        "network_object for Alarm, object_id for Circuit) with the idempotent\n"
        "producer. Every line is checked before anything is sent. Field names as\n"
        "in the .proto or canonical proto3 JSON (lowerCamelCase, 64-bit integers\n"
        "as strings: what tail --json=proto3 prints).\n"
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
            (json_object_is_type(v, json_type_int) ||
             json_object_is_type(v, json_type_string))) {
            int64_t t = ctl_json_i64(o, key);
            if (t != 0)
                json_object_object_add(o, key, json_object_new_int64(t + delta));
        } else {
            ctl_shift_times(v, delta);
        }
    }
}

/*
 * A line as a JSON object with the .proto field names, whichever form it came in
 * (those names or canonical proto3 JSON's lowerCamelCase): the codec's reading of it,
 * printed back. A line that is no valid message is taken as it is.
 * @returns the object (the caller puts it), or NULL when the line is no JSON object.
 */
static json_object *ctl_line_object(const char *type, const char *line)
{
    char errstr[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    char *text = NULL;

    if (cfd_json_to_pb(type, line, &buf, &len, errstr, sizeof errstr) == CFD_OK)
        text = cfd_pb_to_json(type, buf, len, errstr, sizeof errstr);
    json_object *obj = json_tokener_parse(text ? text : line);
    free(buf);
    free(text);
    if (obj && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        obj = NULL;
    }
    return obj;
}

/*
 * Converts one input line into a message. @returns 0, or -1 with errstr filled when
 * the line is not a valid Event (and --raw-invalid is off).
 */
static int ctl_line_to_msg(const char *type, char *line, bool shift, int64_t delta,
                           bool raw_invalid, ctl_msg *msg, char *errstr, size_t errstr_size)
{
    json_object *obj = ctl_line_object(type, line);
    const char *text = line;
    char *shifted = NULL;

    memset(msg, 0, sizeof *msg);
    if (obj) {
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
static int64_t ctl_first_event_time(const char *type, char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ctl_skip_line(lines[i]))
            continue;
        json_object *obj = ctl_line_object(type, lines[i]);
        int64_t t = obj ? ctl_json_i64(obj, "event_time_ms") : 0;
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
            fprintf(stderr, "confirmctl: produce to %s: %s\n", topic,
                    rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(rk, 0);
    }
    return ctl_stop ? -1 : 0;
}

int ctl_produce(int argc, char **argv)
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
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'X':
            if (ctl_props_add(&props, optarg))
                return CTL_EXIT_USAGE;
            break;
        case 'r':
            raw_invalid = true;
            break;
        case 's':
            shift = true;
            break;
        case 'y':
            type = optarg;
            break;
        case 'h':
            ctl_produce_usage(stdout);
            return CTL_EXIT_OK;
        default:
            ctl_produce_usage(stderr);
            return CTL_EXIT_USAGE;
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
    int64_t delta = shift ? ctl_now_ms() - ctl_first_event_time(type, lines, nlines) : 0;
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

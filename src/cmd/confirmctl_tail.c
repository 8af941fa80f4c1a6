/*
 * confirmctl tail: Kafka -> JSON lines, or one-line summaries (--pretty), decoded by
 * the message's "type" header (else by topic name) through the codec's
 * descriptor-driven mapping; this file knows no field of the schema except what
 * --pretty summarises.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/text.h"
#include "confirmctl.h"

#define CTL_MAX_TOPICS 32

static void ctl_tail_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl tail -b BROKERS -t TOPIC[,TOPIC...] [options]\n"
        "\n"
        "Prints one JSON line per message, decoded as its \"type\" header names (what\n"
        "confirmd produces carries one), else by topic name: *records ->\n"
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
        "      --json[=FORM]      the JSON form: proto (default: the .proto's field\n"
        "                         names, 64-bit integers as numbers) or proto3 (the\n"
        "                         canonical proto3 JSON: lowerCamelCase names, 64-bit\n"
        "                         integers as strings, enums by name)\n"
        "      --meta             wrap as "
        "{\"topic\",\"partition\",\"offset\",\"key\",\"id\",\"type\",\n"
        "                         \"value\"}\n"
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
    const char *type; /* NULL: by the "type" header, else by topic name */
    cfd_json_form form;
    ctl_props props;
} ctl_tail_opts;

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
static const char *ctl_hms(int64_t ms, char *buf, size_t size)
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
    fprintf(out, " deadline %s", ctl_hms(ctl_json_i64(v, "deadline_ms"), t1, sizeof t1));
    if (ctl_json_i64(v, "actual_ms"))
        fprintf(out, " actual %s", ctl_hms(ctl_json_i64(v, "actual_ms"), t2, sizeof t2));
    fprintf(out, " fired %s", ctl_hms(ctl_json_i64(v, "fired_at_ms"), t3, sizeof t3));
    bool is_gold =
        json_object_object_get_ex(v, "gold", &gold) && json_object_get_boolean(gold);
    fprintf(out, " tier %s%s", tier ? ctl_strip(tier, "TIER_") : "-",
            is_gold ? " gold" : "");
    if (ctl_json_str(v, "recipients"))
        fprintf(out, " -> %s", ctl_strip(ctl_json_str(v, "recipients"), "RECIPIENT_"));
    fprintf(out, "\n");
}

static const char *ctl_sla_status(json_object *v, const char *metric)
{
    json_object *sla;
    if (!json_object_object_get_ex(v, "sla", &sla) ||
        !json_object_is_type(sla, json_type_array))
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
            "RECORD %s v%" PRId64
            " %s cause=%s result=%s contact %s on-site %s restoration %s",
            wo ? wo : "-", ctl_json_i64(v, "version"),
            ctl_json_str(v, "state") ? ctl_json_str(v, "state") : "-",
            ctl_strip(ctl_json_str(v, "cause"), "CAUSE_"),
            ctl_strip(ctl_json_str(v, "result"), "RESULT_"),
            ctl_sla_status(v, "METRIC_CONTACT"), ctl_sla_status(v, "METRIC_ON_SITE"),
            ctl_sla_status(v, "METRIC_RESTORATION"));
    if (ctl_json_i64(v, "penalty_points"))
        fprintf(out, " penalty=%" PRId64, ctl_json_i64(v, "penalty_points"));
    fprintf(out, "\n");
}

static void ctl_pretty_dead_letter(FILE *out, json_object *v)
{
    const char *wo = ctl_json_str(v, "work_order"), *id = ctl_json_str(v, "event_id");
    const char *topic = ctl_json_str(v, "topic"), *detail = ctl_json_str(v, "detail");
    fprintf(out, "DEADLETTER %s %s %s %s[%" PRId64 "]@%" PRId64 ": %s\n",
            ctl_strip(ctl_json_str(v, "reason"), "DEAD_LETTER_"), wo ? wo : "-",
            id ? id : "-", topic ? topic : "-", ctl_json_i64(v, "partition"),
            ctl_json_i64(v, "offset"), detail ? detail : "");
}

/* Incidents carry ids, classes and instants only: printed as they are. */
static void ctl_pretty_incident(FILE *out, json_object *v)
{
    char t1[16], t2[16];
    json_object *orders, *flag;
    const char *city = ctl_json_str(v, "city"), *service = ctl_json_str(v, "service");
    const char *id = ctl_json_str(v, "incident_id");

    fprintf(out, "INCIDENT %s %s v%" PRId64 " %s", id ? id : "-",
            ctl_strip(ctl_json_str(v, "status"), "INCIDENT_STATUS_"),
            ctl_json_i64(v, "version"),
            ctl_strip(ctl_json_str(v, "kind"), "INCIDENT_KIND_"));
    fprintf(out, " %s/%s orders", city ? city : "-", service ? service : "-");
    if (json_object_object_get_ex(v, "work_orders", &orders))
        for (size_t i = 0; i < json_object_array_length(orders); i++)
            fprintf(out, "%s%s", i ? "," : "=",
                    json_object_get_string(json_object_array_get_idx(orders, i)));
    fprintf(out, " severe since %s",
            ctl_hms(ctl_json_i64(v, "opened_at_ms"), t1, sizeof t1));
    if (ctl_json_i64(v, "closed_at_ms"))
        fprintf(out, " closed %s", ctl_hms(ctl_json_i64(v, "closed_at_ms"), t2, sizeof t2));
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
            ctl_hms(ctl_json_i64(v, "event_time_ms"), t, sizeof t));
}

static void ctl_print_pretty(FILE *out, const char *type, const char *json)
{
    json_object *v = json_tokener_parse(json);
    const char *dot = strrchr(type, '.');
    type = dot ? dot + 1 : type; /* a full name from the "type" header */
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

/* @returns a json string of header name's last value, or NULL (a json null) if none. */
static json_object *ctl_header_json(const rd_kafka_message_t *m, const char *name)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    size_t len = 0;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
        return json_object_new_string_len(v, (int)len);
    return NULL;
}

static void ctl_print_message(const ctl_tail_opts *o, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    json_object *header_type = ctl_header_json(m, "type");
    const char *type = o->type       ? o->type
                       : header_type ? json_object_get_string(header_type)
                                     : ctl_type_for_topic(topic);
    char errstr[256];
    /* --pretty reads the .proto's field names */
    char *json = cfd_pb_to_json_as(type, o->pretty ? CFD_JSON_PROTO : o->form, m->payload,
                                   m->len, errstr, sizeof errstr);

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
        json_object_object_add(
            w, "key", m->key ? json_object_new_string_len(m->key, (int)m->key_len) : NULL);
        json_object_object_add(w, "id", ctl_header_json(m, "id"));
        json_object_object_add(w, "type", json_object_get(header_type));
        json_object_object_add(w, "value", json ? json_tokener_parse(json) : NULL);
        if (!json)
            json_object_object_add(w, "error", json_object_new_string(errstr));
        printf("%s\n", json_object_to_json_string_ext(
                           w, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(w);
    } else if (json) {
        printf("%s\n", json);
    } else {
        fprintf(stderr, "%s[%d]@%" PRId64 ": %s\n", topic, (int)m->partition, m->offset,
                errstr);
    }
    fflush(stdout);
    free(json);
    json_object_put(header_type);
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
                        ->offset =
                        o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
                rd_kafka_metadata_destroy(md);
                break;
            }
            if (!err)
                err = md->topic_cnt == 1 ? md->topics[0].err
                                         : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
            if (md)
                rd_kafka_metadata_destroy(md);
            rd_kafka_poll(rk, 0); /* serves the error callback */
            if (ctl_refused())
                goto fail_topic;
            if (ctl_mono_ms() >= deadline || ctl_stop) {
                fprintf(stderr, "confirmctl: topic %s: %s\n", o->topics[i],
                        rd_kafka_err2str(err));
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
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
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
        {"json", optional_argument, NULL, 'j'},
        {"pretty", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    o->timeout_ms = 10000;
    while ((c = getopt_long(argc, argv, "b:t:g:n:X:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->brokers = optarg;
            break;
        case 't':
            if (ctl_split_topics(o, optarg))
                return CTL_EXIT_USAGE;
            break;
        case 'g':
            o->group = optarg;
            break;
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
        case 'B':
            o->from_beginning = true;
            break;
        case 'y':
            o->type = optarg;
            break;
        case 'm':
            o->meta = true;
            break;
        case 'j':
            if (!optarg || strcmp(optarg, "proto") == 0)
                o->form = CFD_JSON_PROTO;
            else if (strcmp(optarg, "proto3") == 0)
                o->form = CFD_JSON_PROTO3;
            else
                return CTL_EXIT_USAGE;
            break;
        case 'p':
            o->pretty = true;
            break;
        case 'X':
            if (ctl_props_add(&o->props, optarg))
                return CTL_EXIT_USAGE;
            break;
        case 'h':
            return -1;
        default:
            return CTL_EXIT_USAGE;
        }
    }
    if (!o->brokers || o->ntopics == 0 || optind < argc)
        return CTL_EXIT_USAGE;
    return CTL_EXIT_OK;
}

int ctl_tail(int argc, char **argv)
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
            rd_kafka_conf_set(conf, settings[i].name, settings[i].value, errstr,
                              sizeof errstr) != RD_KAFKA_CONF_OK) {
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
    rc = (o.count == 0 || seen >= o.count) && !ctl_kafka_refused() ? CTL_EXIT_OK
                                                                   : CTL_EXIT_FAIL;
    if (rc && !ctl_kafka_refused())
        fprintf(stderr, "confirmctl: %ld of %ld messages before timeout\n", seen, o.count);
out:
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

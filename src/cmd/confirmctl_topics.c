/*
 * confirmctl topics: the Kafka topics of a deployment, through the admin API.
 *
 *   create  creates every topic the worker's configuration names (include/confirmd/
 *           topics.h says with what). Every topic is looked up in the metadata first
 *           and only the missing ones are sent in CreateTopics, so a second run, or
 *           a run on the embedded broker (librdkafka's mock cluster, which has its
 *           topics from the start but no CreateTopics), reports them as existing.
 *   list    the cluster's topics with their partition counts and replication.
 *
 * The admin client is configured like the worker's clients (cfd_kafka_conf_new: the
 * configuration's shared kafka.* keys, so SASL and TLS settings apply), with -X and
 * -b on top.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "confirmd/alloc.h"
#include "confirmd/config.h"
#include "confirmd/kafka.h"
#include "confirmd/text.h"
#include "confirmd/topics.h"
#include "confirmctl.h"

#define TOPICS_DEFAULT_PARTITIONS 8
#define TOPICS_DEFAULT_TIMEOUT_MS 30000
#define TOPICS_POLL_MS 200

static void topics_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl topics create [options]\n"
            "       confirmctl topics list [options]\n"
            "\n"
            "create  creates every Kafka topic the configuration names, with the\n"
            "        partition count, replication and topic configs the service needs\n"
            "list    lists a cluster's topics with partition counts and replication\n"
            "\n"
            "Run \"confirmctl topics create --help\" or \"confirmctl topics list --help\"\n"
            "for their options.\n");
}

static void topics_create_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl topics create [-b BROKERS] [-c FILE] [--set KEY=VALUE]...\n"
            "           [-p N] [-r R] [--min-insync-replicas M] [-X prop=value]...\n"
            "           [--timeout-ms MS] [--dry-run]\n"
            "\n"
            "Creates the topics the worker consumes and produces, named as the worker\n"
            "reads them from the same -c FILE and --set (the built-in defaults without):\n"
            "every worker.input_topics, records_topic, alerts_topic, deadletter_topic,\n"
            "incidents_topic, and alarms_topic, tmf642_alarms_topic, inventory_topic,\n"
            "city_reports_topic unless empty (off). Every topic gets N partitions: the\n"
            "input, alarms, inventory and city-reports topics must share one count. The\n"
            "inventory is compacted (cleanup.policy=compact).\n"
            "\n"
            "Topics are looked up first and only the missing ones are created. One line\n"
            "per topic: name, partitions, replication, configs asked, and created,\n"
            "exists, would-create (--dry-run), differs or failed. A topic that exists\n"
            "with another partition count, replication (-r) or config is not changed:\n"
            "it is reported on stderr and the exit status is 1. On a production\n"
            "cluster: -p N -r 3 --min-insync-replicas 2 (the worker produces with\n"
            "acks=all).\n"
            "\n"
            "  -b, --brokers LIST            bootstrap servers (default: the\n"
            "                                configuration's kafka.bootstrap.servers)\n"
            "  -c, --config FILE             confirmd configuration file; its kafka.*\n"
            "                                keys (SASL, TLS) configure the admin client\n"
            "  -s, --set KEY=VALUE           override one configuration key, repeatable\n"
            "  -p, --partitions N            partitions of every topic (default %d)\n"
            "  -r, --replication-factor R    replicas of every partition (default -1:\n"
            "                                the broker's default.replication.factor)\n"
            "      --min-insync-replicas M   set min.insync.replicas=M on every topic\n"
            "  -X prop=value                 librdkafka property of the admin client,\n"
            "                                repeatable (\"kafka.\" prefix ok)\n"
            "      --timeout-ms MS           give up after MS (default %d)\n"
            "      --dry-run                 look the topics up, create nothing\n"
            "  -h, --help                    this text\n"
            "\n"
            "Exits 0 when every topic exists as asked afterwards (with --dry-run: none\n"
            "differs), 1 otherwise, 2 on a usage or configuration error.\n",
            TOPICS_DEFAULT_PARTITIONS, TOPICS_DEFAULT_TIMEOUT_MS);
}

static void topics_list_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl topics list [-b BROKERS] [-c FILE] [--set KEY=VALUE]...\n"
        "           [-X prop=value]... [--timeout-ms MS]\n"
        "\n"
        "Lists the cluster's topics, internal ones (__consumer_offsets...) left out:\n"
        "name, partition count and replication (the fewest replicas of any\n"
        "partition), from the metadata.\n"
        "\n"
        "  -b, --brokers LIST     bootstrap servers (default: the configuration's\n"
        "                         kafka.bootstrap.servers)\n"
        "  -c, --config FILE      confirmd configuration file (its kafka.* keys)\n"
        "  -s, --set KEY=VALUE    override one configuration key, repeatable\n"
        "  -X prop=value          librdkafka property, repeatable (\"kafka.\" prefix ok)\n"
        "      --timeout-ms MS    give up after MS (default %d)\n"
        "  -h, --help             this text\n",
        TOPICS_DEFAULT_TIMEOUT_MS);
}

/* ---- options ------------------------------------------------------------------------ */

typedef struct topics_opts {
    bool create; /* create, else list */
    cfd_config *cfg;
    cfd_topic_opts topic;
    long timeout_ms;
    bool dry_run;
} topics_opts;

/* Parses a decimal integer in min..max. @returns 0, or -1 after saying why. */
static int topics_parse_long(const char *what, const char *text, long min, long max,
                             long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > max) {
        fprintf(stderr, "confirmctl: %s: \"%s\" is not a number in %ld..%ld\n", what, text,
                min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/*
 * Applies one override of the configuration: --set KEY=VALUE, -b LIST (the key
 * kafka.bootstrap.servers) or -X prop=value (the key kafka.prop, where the worker's
 * pass-through keys live, so cfd_kafka_conf_new gives it to the admin client).
 */
static cfd_err topics_override(cfd_config *cfg, int opt, const char *arg, char *errstr,
                               size_t errstr_size)
{
    char key[256];
    const char *eq = strchr(arg, '=');
    if (opt == 's')
        return cfd_config_set_pair(cfg, arg, errstr, errstr_size);
    if (opt == 'b')
        return cfd_config_set(cfg, "kafka.bootstrap.servers", arg, errstr, errstr_size);
    if (!eq) {
        snprintf(errstr, errstr_size, "-X expects prop=value, got \"%s\"", arg);
        return CFD_ERR_CONFIG;
    }
    snprintf(key, sizeof key, "%s%.*s", strncmp(arg, "kafka.", 6) == 0 ? "" : "kafka.",
             (int)(eq - arg), arg);
    return cfd_config_set(cfg, key, eq + 1, errstr, errstr_size);
}

/*
 * Reads the options of "topics create" (o->create) or "topics list" into o: the
 * configuration file first, then --set, -X and -b in the order given, whatever their
 * positions. @returns CTL_EXIT_OK, CTL_EXIT_USAGE after saying why, or -1 for --help.
 */
static int topics_parse(int argc, char **argv, topics_opts *o)
{
    enum { OPT_MIN_ISR = 256, OPT_TIMEOUT, OPT_DRY_RUN };
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"partitions", required_argument, NULL, 'p'},
        {"replication-factor", required_argument, NULL, 'r'},
        {"min-insync-replicas", required_argument, NULL, OPT_MIN_ISR},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *shortopts = o->create ? "b:c:s:X:p:r:h" : "b:c:s:X:h";
    char errstr[512];
    long v;

    o->topic = (cfd_topic_opts){.partitions = TOPICS_DEFAULT_PARTITIONS, .replication = -1};
    o->timeout_ms = TOPICS_DEFAULT_TIMEOUT_MS;
    for (int pass = 0; pass < 2; pass++) {
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
            cfd_err err = CFD_OK;
            if (!o->create &&
                (c == 'p' || c == 'r' || c == OPT_MIN_ISR || c == OPT_DRY_RUN)) {
                fprintf(stderr, "confirmctl: %s is an option of topics create\n",
                        argv[optind - 1]);
                return CTL_EXIT_USAGE;
            }
            switch (c) {
            case 'c':
                if (pass == 0)
                    err = cfd_config_load_file(o->cfg, optarg, errstr, sizeof errstr);
                break;
            case 's':
            case 'b':
            case 'X':
                if (pass == 1)
                    err = topics_override(o->cfg, c, optarg, errstr, sizeof errstr);
                break;
            case 'p':
                if (topics_parse_long("--partitions", optarg, 1, 100000, &v))
                    return CTL_EXIT_USAGE;
                o->topic.partitions = (int)v;
                break;
            case 'r':
                if (topics_parse_long("--replication-factor", optarg, -1, 32767, &v) ||
                    v == 0) {
                    fprintf(stderr, "confirmctl: --replication-factor: 1 or more, or -1\n");
                    return CTL_EXIT_USAGE;
                }
                o->topic.replication = (int)v;
                break;
            case OPT_MIN_ISR:
                if (topics_parse_long("--min-insync-replicas", optarg, 1, 32767, &v))
                    return CTL_EXIT_USAGE;
                o->topic.min_insync = (int)v;
                break;
            case OPT_TIMEOUT:
                if (topics_parse_long("--timeout-ms", optarg, 1, 3600000, &o->timeout_ms))
                    return CTL_EXIT_USAGE;
                break;
            case OPT_DRY_RUN:
                o->dry_run = true;
                break;
            case 'h':
                return -1;
            default:
                return CTL_EXIT_USAGE;
            }
            if (err) {
                fprintf(stderr, "confirmctl: %s\n", errstr);
                return CTL_EXIT_USAGE;
            }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "confirmctl: unexpected argument \"%s\"\n", argv[optind]);
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

/* ---- the admin client ----------------------------------------------------------------- */

typedef struct topics_client {
    rd_kafka_t *rk;
    rd_kafka_queue_t *q; /* admin results */
    char brokers[512];
    int64_t deadline; /* ctl_mono_ms() */
    long timeout_ms;
    bool controller;      /* the metadata names a controller among the brokers */
    char last_error[512]; /* librdkafka's latest error callback, for "no answer" */
} topics_client;

/* Why admin requests are not sent to a cluster without a controller. */
#define TOPICS_NO_CONTROLLER                                                           \
    "the cluster names no controller among its brokers, so it takes no admin request " \
    "(the embedded broker, librdkafka's mock cluster, has none)"

static void topics_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    topics_client *tc = opaque;
    (void)rk;
    cfd_text_copy(tc->last_error, sizeof tc->last_error, reason);
    ctl_kafka_error(err, reason);
}

/* Starts an admin client for cfg. @returns 0, or -1 after saying why. */
static int topics_client_open(topics_client *tc, const cfd_config *cfg, long timeout_ms)
{
    char errstr[512];
    size_t len = sizeof tc->brokers;

    memset(tc, 0, sizeof *tc);
    const cfd_kafka_opts kafka_opts = cfd_config_kafka_opts(cfg);
    rd_kafka_conf_t *conf =
        cfd_kafka_conf_new(&kafka_opts, CFD_KAFKA_ADMIN, errstr, sizeof errstr);
    if (!conf) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return -1;
    }
    if (rd_kafka_conf_get(conf, "bootstrap.servers", tc->brokers, &len) != RD_KAFKA_CONF_OK)
        snprintf(tc->brokers, sizeof tc->brokers, "the brokers");
    rd_kafka_conf_set_error_cb(conf, topics_error_cb);
    rd_kafka_conf_set_opaque(conf, tc);
    /* The admin API runs on any client; a producer opens no group and sends nothing. */
    tc->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!tc->rk) { /* on failure conf is still ours */
        fprintf(stderr, "confirmctl: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    conf = NULL; /* rd_kafka_new() took ownership */
    tc->q = rd_kafka_queue_new(tc->rk);
    tc->timeout_ms = timeout_ms;
    tc->deadline = ctl_mono_ms() + timeout_ms;
    return 0;
}

static void topics_client_close(topics_client *tc)
{
    if (tc->q)
        rd_kafka_queue_destroy(tc->q);
    if (tc->rk)
        rd_kafka_destroy(tc->rk);
}

/* @returns the milliseconds left before the deadline, at least 1. */
static int topics_left_ms(const topics_client *tc)
{
    int64_t left = tc->deadline - ctl_mono_ms();
    return left < 1 ? 1 : (int)left;
}

/* Says why nothing came back: interrupted, or the brokers gave no answer in time. */
static void topics_no_answer(const topics_client *tc, const char *what, const char *err)
{
    if (ctl_refused())
        return;
    if (ctl_stop)
        fprintf(stderr, "confirmctl: %s: interrupted\n", what);
    else
        fprintf(stderr, "confirmctl: %s: no answer from %s within %ld ms: %s\n", what,
                tc->brokers, tc->timeout_ms, tc->last_error[0] ? tc->last_error : err);
}

/*
 * Reads the metadata of every topic (asking for all of them auto-creates none), asking
 * again until the deadline while no broker answers.
 * @returns the metadata, or NULL after saying why.
 */
static const rd_kafka_metadata_t *topics_metadata(topics_client *tc)
{
    for (;;) {
        const rd_kafka_metadata_t *md = NULL;
        int left = topics_left_ms(tc);
        rd_kafka_resp_err_t err =
            rd_kafka_metadata(tc->rk, 1, NULL, &md, left < 2000 ? left : 2000);
        if (!err) {
            /* Admin requests wait for the controller: without one they would only time
             * out, so they are not sent at all. */
            int32_t id = rd_kafka_controllerid(tc->rk, 0);
            tc->controller = false;
            for (int b = 0; b < md->broker_cnt; b++)
                tc->controller |= md->brokers[b].id == id;
            return md;
        }
        rd_kafka_poll(tc->rk,
                      TOPICS_POLL_MS); /* serves the error callback, paces retries */
        if (ctl_stop || ctl_mono_ms() >= tc->deadline || ctl_refused()) {
            topics_no_answer(tc, "metadata", rd_kafka_err2str(err));
            return NULL;
        }
    }
}

/* Waits for the result of an admin request. @returns the event, or NULL after saying why. */
static rd_kafka_event_t *topics_wait(topics_client *tc, const char *what)
{
    /* librdkafka answers by the request timeout (the deadline); the second is a margin. */
    while (!ctl_stop && ctl_mono_ms() < tc->deadline + 1000 && !ctl_refused()) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(tc->q, TOPICS_POLL_MS);
        if (ev)
            return ev;
        rd_kafka_poll(tc->rk, 0);
    }
    topics_no_answer(tc, what, "timed out");
    return NULL;
}

/* @returns admin options for op that time out at the deadline. */
static rd_kafka_AdminOptions_t *topics_admin_options(topics_client *tc,
                                                     rd_kafka_admin_op_t op)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(tc->rk, op);
    int left = topics_left_ms(tc);
    rd_kafka_AdminOptions_set_request_timeout(opts, left, errstr, sizeof errstr);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, left, errstr, sizeof errstr);
    return opts;
}

/* ---- list ------------------------------------------------------------------------------ */

/* @returns the fewest replicas of any partition of t (0 without partitions). */
static int topics_replication(const rd_kafka_metadata_topic_t *t)
{
    int min = 0;
    for (int p = 0; p < t->partition_cnt; p++)
        if (p == 0 || t->partitions[p].replica_cnt < min)
            min = t->partitions[p].replica_cnt;
    return min;
}

static int topics_by_name(const void *a, const void *b)
{
    const rd_kafka_metadata_topic_t *const *x = a, *const *y = b;
    return strcmp((*x)->topic, (*y)->topic);
}

static int topics_list(topics_client *tc)
{
    const rd_kafka_metadata_t *md = topics_metadata(tc);
    if (!md)
        return CTL_EXIT_FAIL;
    const rd_kafka_metadata_topic_t **shown =
        cfd_xcalloc((size_t)md->topic_cnt + 1, sizeof *shown);
    int n = 0, width = 5;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strncmp(t->topic, "__", 2) == 0)
            continue; /* internal: __consumer_offsets, __transaction_state */
        shown[n++] = t;
        if ((int)strlen(t->topic) > width)
            width = (int)strlen(t->topic);
    }
    qsort(shown, (size_t)n, sizeof *shown, topics_by_name);
    printf("%-*s  %10s  %11s\n", width, "TOPIC", "PARTITIONS", "REPLICATION");
    for (int i = 0; i < n; i++)
        printf("%-*s  %10d  %11d\n", width, shown[i]->topic, shown[i]->partition_cnt,
               topics_replication(shown[i]));
    free(shown);
    rd_kafka_metadata_destroy(md);
    return CTL_EXIT_OK;
}

/* ---- create ---------------------------------------------------------------------------- */

/* How one topic of the set fares. */
typedef struct topic_row {
    cfd_topic_seen seen;
    cfd_topic_state state;
    const char *status; /* created, exists, would-create, differs, failed */
    char why[512];
} topic_row;

static const rd_kafka_metadata_topic_t *topics_find(const rd_kafka_metadata_t *md,
                                                    const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0)
            return &md->topics[i];
    return NULL;
}

/* Fills rows[i].seen from the metadata (configs untouched). */
static void topics_seen_from(const rd_kafka_metadata_t *md, const cfd_topic_set *set,
                             topic_row *rows)
{
    for (size_t i = 0; i < set->n; i++) {
        const rd_kafka_metadata_topic_t *t = topics_find(md, set->specs[i].name);
        rows[i].seen.exists = t && t->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        rows[i].seen.partitions = t ? t->partition_cnt : 0;
        rows[i].seen.replication = t ? topics_replication(t) : 0;
    }
}

/*
 * Reads the configs asked of the topics that exist into rows[i].seen.configs, which
 * point into the returned event. A broker without DescribeConfigs (the mock cluster)
 * leaves them unknown, with a warning.
 * @returns the event to destroy once the rows are printed, or NULL.
 */
static rd_kafka_event_t *topics_describe(topics_client *tc, const cfd_topic_set *set,
                                         topic_row *rows)
{
    rd_kafka_ConfigResource_t **res = cfd_xcalloc(set->n + 1, sizeof *res);
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        if (rows[i].seen.exists && set->specs[i].n_configs)
            res[n++] =
                rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, set->specs[i].name);
    rd_kafka_event_t *ev = NULL;
    if (n && !tc->controller) {
        fprintf(stderr, "confirmctl: warning: the configs of existing topics are not "
                        "checked: " TOPICS_NO_CONTROLLER "\n");
    } else if (n) {
        rd_kafka_AdminOptions_t *opts =
            topics_admin_options(tc, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
        rd_kafka_DescribeConfigs(tc->rk, res, n, opts, tc->q);
        rd_kafka_AdminOptions_destroy(opts);
        ev = topics_wait(tc, "describe configs");
    }
    rd_kafka_ConfigResource_destroy_array(res, n);
    free(res);
    if (!ev)
        return NULL;
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr,
                "confirmctl: warning: the configs of existing topics are not "
                "checked: %s\n",
                rd_kafka_event_error_string(ev));
        return ev;
    }
    size_t cnt = 0;
    const rd_kafka_ConfigResource_t **got = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    for (size_t r = 0; r < cnt; r++) {
        const char *name = rd_kafka_ConfigResource_name(got[r]);
        size_t i = 0, ne = 0;
        while (i < set->n && strcmp(set->specs[i].name, name) != 0)
            i++;
        if (i == set->n || rd_kafka_ConfigResource_error(got[r]))
            continue;
        const rd_kafka_ConfigEntry_t **entries =
            rd_kafka_ConfigResource_configs(got[r], &ne);
        for (size_t k = 0; k < set->specs[i].n_configs; k++)
            for (size_t e = 0; e < ne; e++)
                if (strcmp(rd_kafka_ConfigEntry_name(entries[e]),
                           set->specs[i].configs[k].name) == 0)
                    rows[i].seen.configs[k] = rd_kafka_ConfigEntry_value(entries[e]);
    }
    return ev;
}

/* Sets a row's state from what is seen of it, and a status word when none is set. */
static void topics_judge(const cfd_topic_spec *spec, topic_row *row)
{
    row->state = cfd_topic_check(spec, &row->seen, row->why, sizeof row->why);
    if (row->state == CFD_TOPIC_DIFFERS)
        row->status = "differs";
    else if (row->state == CFD_TOPIC_EXISTS && !row->status)
        row->status = "exists";
}

/* @returns a hint for a CreateTopics error that is not the topic's fault, or "". */
static const char *topics_create_hint(rd_kafka_resp_err_t err)
{
    if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
        err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION)
        return " (the broker has no CreateTopics, or not the version -r -1 needs: give -r "
               "on brokers older than Kafka 2.4)";
    if (err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR)
        return " (more replicas than brokers? see -r)";
    return "";
}

/*
 * Sends one CreateTopics request for the missing topics; marks each row created,
 * exists (created meanwhile by someone else) or failed.
 * @returns the number created or found existing.
 */
static size_t topics_create_missing(topics_client *tc, const cfd_topic_set *set,
                                    topic_row *rows)
{
    rd_kafka_NewTopic_t **nts = cfd_xcalloc(set->n + 1, sizeof *nts);
    size_t n = 0, done = 0;
    char errstr[512];
    for (size_t i = 0; i < set->n; i++) {
        const cfd_topic_spec *spec = &set->specs[i];
        if (rows[i].state != CFD_TOPIC_MISSING)
            continue;
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(
            spec->name, spec->partitions, spec->replication, errstr, sizeof errstr);
        if (!nt) {
            rows[i].status = "failed";
            cfd_text_copy(rows[i].why, sizeof rows[i].why, errstr);
            continue;
        }
        for (size_t k = 0; k < spec->n_configs; k++)
            rd_kafka_NewTopic_set_config(nt, spec->configs[k].name, spec->configs[k].value);
        nts[n++] = nt;
    }
    rd_kafka_event_t *ev = NULL;
    if (n && tc->controller) {
        rd_kafka_AdminOptions_t *opts =
            topics_admin_options(tc, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_CreateTopics(tc->rk, nts, n, opts, tc->q);
        rd_kafka_AdminOptions_destroy(opts);
        ev = topics_wait(tc, "create topics");
    }
    rd_kafka_NewTopic_destroy_array(nts, n);
    free(nts);

    rd_kafka_resp_err_t all = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res =
        ev && !all ? rd_kafka_CreateTopics_result_topics(
                         rd_kafka_event_CreateTopics_result(ev), &cnt)
                   : NULL;
    for (size_t i = 0; i < set->n; i++) {
        if (rows[i].state != CFD_TOPIC_MISSING || rows[i].status)
            continue;
        rd_kafka_resp_err_t err = all;
        const char *msg = !tc->controller ? TOPICS_NO_CONTROLLER
                              ": give confirmd-broker --topic NAME:PARTITIONS "
                              "for each topic instead"
                          : ev && all ? rd_kafka_event_error_string(ev)
                                      : "no answer";
        for (size_t r = 0; r < cnt; r++) {
            if (strcmp(rd_kafka_topic_result_name(res[r]), set->specs[i].name) == 0) {
                err = rd_kafka_topic_result_error(res[r]);
                msg = rd_kafka_topic_result_error_string(res[r]);
            }
        }
        if (!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            rows[i].status = err ? "exists" : "created";
            done++;
        } else {
            rows[i].status = "failed";
            snprintf(rows[i].why, sizeof rows[i].why, "%s%s",
                     msg ? msg : rd_kafka_err2str(err), topics_create_hint(err));
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    return done;
}

/*
 * Reads the metadata again until every topic just created shows in it (a new topic
 * reaches every broker's metadata shortly after CreateTopics returns), then judges
 * those rows by it; without metadata they stay missing.
 */
static void topics_confirm(topics_client *tc, const cfd_topic_set *set, topic_row *rows)
{
    for (;;) {
        const rd_kafka_metadata_t *md = topics_metadata(tc);
        if (!md)
            return;
        bool all = true;
        for (size_t i = 0; i < set->n; i++) {
            const rd_kafka_metadata_topic_t *t = topics_find(md, set->specs[i].name);
            if (rows[i].state == CFD_TOPIC_MISSING && rows[i].status &&
                strcmp(rows[i].status, "failed") != 0 &&
                (!t || t->err || t->partition_cnt == 0))
                all = false;
        }
        if (all || ctl_stop || ctl_mono_ms() >= tc->deadline) {
            topic_row *fresh = cfd_xcalloc(set->n + 1, sizeof *fresh);
            topics_seen_from(md, set, fresh);
            for (size_t i = 0; i < set->n; i++) {
                if (rows[i].state != CFD_TOPIC_MISSING || !rows[i].status ||
                    strcmp(rows[i].status, "failed") == 0)
                    continue;
                rows[i].seen =
                    fresh[i].seen; /* configs unknown: as CreateTopics set them */
                topics_judge(&set->specs[i], &rows[i]);
                if (rows[i].state == CFD_TOPIC_MISSING) {
                    rows[i].status = "failed";
                    snprintf(rows[i].why, sizeof rows[i].why,
                             "created, but not in the metadata within %ld ms (no Describe "
                             "permission on it?)",
                             tc->timeout_ms);
                }
            }
            free(fresh);
            rd_kafka_metadata_destroy(md);
            return;
        }
        rd_kafka_metadata_destroy(md);
        rd_kafka_poll(tc->rk, TOPICS_POLL_MS);
    }
}

/* Prints one line per topic, then on stderr why any differs or failed. */
static void topics_print(const cfd_topic_set *set, const topic_row *rows)
{
    char(*configs)[256] = cfd_xcalloc(set->n + 1, sizeof *configs);
    int width = 5, cwidth = 7;
    for (size_t i = 0; i < set->n; i++) {
        cfd_topic_spec_configs(&set->specs[i], configs[i], sizeof configs[i]);
        if ((int)strlen(set->specs[i].name) > width)
            width = (int)strlen(set->specs[i].name);
        if ((int)strlen(configs[i]) > cwidth)
            cwidth = (int)strlen(configs[i]);
    }
    printf("%-*s  %10s  %11s  %-*s  %s\n", width, "TOPIC", "PARTITIONS", "REPLICATION",
           cwidth, "CONFIGS", "STATUS");
    for (size_t i = 0; i < set->n; i++) {
        const topic_row *row = &rows[i];
        char repl[16] = "default";
        int partitions = row->seen.exists ? row->seen.partitions : set->specs[i].partitions;
        int r = row->seen.exists ? row->seen.replication : set->specs[i].replication;
        if (r > 0)
            snprintf(repl, sizeof repl, "%d", r);
        printf("%-*s  %10d  %11s  %-*s  %s\n", width, set->specs[i].name, partitions, repl,
               cwidth, configs[i], row->status);
    }
    fflush(stdout);
    for (size_t i = 0; i < set->n; i++)
        if (rows[i].why[0])
            fprintf(stderr, "confirmctl: %s (%s): %s\n", set->specs[i].name,
                    set->specs[i].key, rows[i].why);
    free(configs);
}

static int topics_create(topics_client *tc, const topics_opts *o)
{
    char errstr[512];
    cfd_topic_set *set = cfd_topic_set_new(o->cfg, &o->topic, errstr, sizeof errstr);
    if (!set) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return CTL_EXIT_USAGE;
    }
    int rc = CTL_EXIT_FAIL;
    rd_kafka_event_t *described = NULL;
    topic_row *rows = cfd_xcalloc(set->n + 1, sizeof *rows);
    const rd_kafka_metadata_t *md = topics_metadata(tc);
    if (!md)
        goto out;
    int brokers = md->broker_cnt;
    topics_seen_from(md, set, rows);
    rd_kafka_metadata_destroy(md);
    if (o->topic.min_insync > brokers) {
        fprintf(stderr,
                "confirmctl: --min-insync-replicas %d: the cluster has %d broker%s, "
                "so every write with acks=all (the worker's) would be refused\n",
                o->topic.min_insync, brokers, brokers == 1 ? "" : "s");
        goto out;
    }
    described = topics_describe(tc, set, rows);

    size_t missing = 0;
    for (size_t i = 0; i < set->n; i++) {
        topics_judge(&set->specs[i], &rows[i]);
        if (rows[i].state == CFD_TOPIC_MISSING) {
            missing++;
            if (o->dry_run)
                rows[i].status = "would-create";
        }
    }
    /* Unconfirmed (no metadata), a created topic stays missing: exit status 1. */
    if (missing && !o->dry_run && topics_create_missing(tc, set, rows))
        topics_confirm(tc, set, rows);
    topics_print(set, rows);
    rc = CTL_EXIT_OK;
    for (size_t i = 0; i < set->n; i++)
        if (rows[i].state == CFD_TOPIC_DIFFERS ||
            (rows[i].state == CFD_TOPIC_MISSING && !o->dry_run))
            rc = CTL_EXIT_FAIL;
out:
    if (described)
        rd_kafka_event_destroy(described);
    free(rows);
    cfd_topic_set_destroy(set);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

int ctl_topics(int argc, char **argv)
{
    const char *sub = argc < 2 ? "" : argv[1];
    bool create = strcmp(sub, "create") == 0;
    if (ctl_is_help(sub)) {
        topics_usage(stdout);
        return CTL_EXIT_OK;
    }
    if (!create && strcmp(sub, "list") != 0) {
        if (*sub)
            fprintf(stderr, "confirmctl: topics: unknown command \"%s\"\n\n", sub);
        topics_usage(stderr);
        return CTL_EXIT_USAGE;
    }

    topics_opts o = {.create = create, .cfg = cfd_config_new()};
    int rc = topics_parse(argc - 1, argv + 1, &o);
    if (rc < 0) {
        (o.create ? topics_create_usage : topics_list_usage)(stdout);
        rc = CTL_EXIT_OK;
    } else if (rc) { /* what was wrong is said already */
        fprintf(stderr, "confirmctl: \"confirmctl topics %s --help\" lists the options\n",
                sub);
    } else {
        topics_client tc;
        rc = CTL_EXIT_USAGE; /* a configuration librdkafka refuses */
        if (topics_client_open(&tc, o.cfg, o.timeout_ms) == 0)
            rc = o.create ? topics_create(&tc, &o) : topics_list(&tc);
        topics_client_close(&tc);
    }
    cfd_config_destroy(o.cfg);
    return rc;
}

/*
 * confirmctl lag: how far each partition is behind: the offset Redis says it applied
 * (where a worker resumes) against the broker's high watermark, per input topic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/config.h"
#include "confirmd/inspect.h"
#include "confirmd/kafka.h"
#include "confirmctl.h"

static void ctl_lag_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl lag [-b BROKERS] [options]\n"
        "\n"
        "Per input topic of the configuration (worker.input_topics, and the alarms,\n"
        "inventory and city-report topics when set) and partition: the offset Redis\n"
        "says was applied last (where the partition's owner resumes; Kafka's committed\n"
        "offsets are only a hint), the broker's high watermark, and the lag: messages\n"
        "not applied yet. Redis, not the consumer group, decides, so this is the lag\n"
        "that matters for the records and the timers (which fire only once a\n"
        "partition is caught up).\n"
        "\n"
        "  -b, --brokers LIST    bootstrap servers (default: "
        "kafka.bootstrap.servers)\n" CTL_VIEW_HELP "\n"
        "Exit status: 0 printed, 1 Redis or the brokers unreachable, 2 usage.\n");
}

/* The topics whose offsets the worker applies, from the configuration. */
static size_t ctl_lag_topics(const cfd_config *cfg, char *buf, size_t size,
                             const char **topics, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    snprintf(buf, size, "%s,%s,%s,%s,%s", cfg->input_topics, cfg->alarms_topic,
             cfg->tmf642_alarms_topic, cfg->inventory_topic, cfg->city_reports_topic);
    for (char *t = strtok_r(buf, ",", &save); t && n < max;
         t = strtok_r(NULL, ",", &save)) {
        t += strspn(t, " ");
        if (*t)
            topics[n++] = t;
    }
    return n;
}

int ctl_lag(int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_VIEW_LONG, {"brokers", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    rd_kafka_t *rk = NULL;
    json_object *doc = NULL, *arr = NULL;
    int rc = CTL_EXIT_USAGE, c;
    char errstr[512], buf[2048];
    const char *topics[16];
    int64_t total = 0;

    while ((c = ctl_view_getopt(v, argc, argv, "b:", opts)) != -1) {
        switch (c) {
        case 'b':
            if (ctl_view_brokers(v, optarg))
                goto out;
            break;
        case 'h':
            ctl_lag_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_lag_usage(stderr);
            goto out;
        }
    }
    if (optind != argc) {
        ctl_lag_usage(stderr);
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    /* A producer opens no group and sends nothing: watermarks and metadata only. */
    if (ctl_view_open(v) || !(rk = ctl_config_client(v->cfg, RD_KAFKA_PRODUCER, NULL)))
        goto out;
    if (v->json) {
        doc = json_object_new_object();
        arr = json_object_new_array();
        json_object_object_add(doc, "partitions", arr);
    } else {
        printf("%-28s %4s %14s %14s %10s\n", "topic", "part", "applied", "high watermark",
               "lag");
    }
    size_t nt = ctl_lag_topics(v->cfg, buf, sizeof buf, topics, 16);
    for (size_t t = 0; t < nt; t++) {
        int np = ctl_topic_partitions(rk, topics[t]);
        if (np < 0) {
            fprintf(stderr, "confirmctl: %s: no metadata from the brokers%s\n", topics[t],
                    ctl_refused() ? "" : " (unknown topic, or brokers unreachable)");
            goto out;
        }
        for (int32_t p = 0; p < np; p++) {
            int64_t applied, lo = 0, hi = 0, lag;
            rd_kafka_resp_err_t err;
            if (cfd_inspect_applied(v->in, p, topics[t], &applied, errstr, sizeof errstr)) {
                fprintf(stderr, "confirmctl: %s\n", errstr);
                goto out;
            }
            err = rd_kafka_query_watermark_offsets(rk, topics[t], p, &lo, &hi, 10000);
            if (err) {
                fprintf(stderr, "confirmctl: %s[%d]: %s\n", topics[t], p,
                        rd_kafka_err2str(err));
                goto out;
            }
            /* Not applied yet: everything still retained is to come. */
            lag = hi - (applied >= lo ? applied + 1 : lo);
            if (lag < 0)
                lag = 0;
            total += lag;
            if (arr) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "topic", json_object_new_string(topics[t]));
                json_object_object_add(e, "partition", json_object_new_int(p));
                json_object_object_add(e, "applied", json_object_new_int64(applied));
                json_object_object_add(e, "high_watermark", json_object_new_int64(hi));
                json_object_object_add(e, "lag", json_object_new_int64(lag));
                json_object_array_add(arr, e);
            } else {
                printf("%-28s %4d %14lld %14lld %10lld\n", topics[t], p, (long long)applied,
                       (long long)hi, (long long)lag);
            }
        }
    }
    if (doc) {
        json_object_object_add(doc, "total", json_object_new_int64(total));
        ctl_json_print(doc);
        doc = NULL;
    } else {
        printf("total lag %lld\n", (long long)total);
    }
    rc = CTL_EXIT_OK;
out:
    json_object_put(doc);
    if (rk)
        rd_kafka_destroy(rk);
    ctl_view_destroy(v);
    return rc;
}

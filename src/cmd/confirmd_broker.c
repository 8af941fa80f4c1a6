/*
 * confirmd-broker: librdkafka's mock cluster as a long-lived process, so the demo
 * and the integration tests have a Kafka-protocol broker that outlives workers.
 * Fault injection goes through the control socket (include/confirmd/mockctl.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "confirmd/log.h"
#include "confirmd/mockctl.h"

#define MAX_TOPICS 64

static volatile sig_atomic_t stop_requested;

static const char *const default_topics[] = {
    "confirmd.events:8",     "confirmd.records:4",      "confirmd.alerts:4",
    "confirmd.deadletter:4", "confirmd.incidents:4",    "confirmd.alarms:8",
    "confirmd.inventory:8",  "confirmd.city-reports:8", NULL,
};

typedef struct broker_opts {
    int brokers;
    const char *topics[MAX_TOPICS + 1];
    int ntopics;
    const char *bootstrap_file;
    const char *control;
} broker_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: confirmd-broker [options]\n"
            "\n"
            "Runs librdkafka's mock Kafka cluster on loopback until SIGINT/SIGTERM or a\n"
            "\"shutdown\" control command. Data lives in memory only; each partition's\n"
            "log is capped at about 5 MB and silently truncated.\n"
            "\n"
            "  --brokers N             number of brokers, ids 1..N (default 1)\n"
            "  --topic NAME:PARTITIONS create a topic; repeatable. Without any --topic:\n"
            "                          confirmd.events:8 confirmd.records:4\n"
            "                          confirmd.alerts:4 confirmd.deadletter:4\n"
            "                          confirmd.incidents:4 confirmd.alarms:8\n"
            "                          confirmd.inventory:8 confirmd.city-reports:8\n"
            "  --bootstrap-file PATH   write the bootstrap servers there (atomically)\n"
            "                          once listening\n"
            "  --control PATH          unix socket taking one command per line,\n"
            "                          answering \"OK ...\" or \"ERR ...\"; send \"help\"\n"
            "  --log-level LEVEL       debug, info, warn, error (default info)\n"
            "  -h, --help              this text\n"
            "\n"
            "Prints \"confirmd-broker: listening on <bootstrap>\" on stdout once up.\n");
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Routes librdkafka's log lines (from its threads) into our log format. */
static void on_rdkafka_log(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf)
{
    (void)rk;
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "bootstrap.servers"))
        return; /* the host instance is never meant to connect anywhere */
    if (level <= 3)
        cfd_error("rdkafka", "%s: %s", fac, buf);
    else if (level <= 5)
        cfd_warn("rdkafka", "%s: %s", fac, buf);
    else
        cfd_debug("rdkafka", "%s: %s", fac, buf);
}

/* Parses the command line into *o. @returns 0, 1 after --help, -1 on error. */
static int parse_opts(int argc, char **argv, broker_opts *o)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"control", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    long n;
    int c;

    memset(o, 0, sizeof(*o));
    o->brokers = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64) {
                fprintf(stderr, "confirmd-broker: --brokers must be 1..64\n");
                return -1;
            }
            o->brokers = (int)n;
            break;
        case 't':
            if (o->ntopics == MAX_TOPICS) {
                fprintf(stderr, "confirmd-broker: at most %d topics\n", MAX_TOPICS);
                return -1;
            }
            o->topics[o->ntopics++] = optarg;
            break;
        case 'f':
            o->bootstrap_file = optarg;
            break;
        case 'c':
            o->control = optarg;
            break;
        case 'l':
            if (cfd_log_level_parse(optarg, &cfd_log_threshold) != 0) {
                fprintf(stderr, "confirmd-broker: bad --log-level %s\n", optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "confirmd-broker: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Creates every topic of the NULL-terminated specs list. @returns 0 or -1. */
static int create_topics(rd_kafka_mock_cluster_t *mcluster, const char *const *specs)
{
    char name[CFD_MOCKCTL_NAME_MAX], errstr[256];
    rd_kafka_resp_err_t err;
    int parts;

    for (; *specs; specs++) {
        if (cfd_mockctl_topic_spec_parse(*specs, name, sizeof(name), &parts, errstr,
                                         sizeof(errstr)) != 0) {
            cfd_error("broker", "%s", errstr);
            return -1;
        }
        if ((err = rd_kafka_mock_topic_create(mcluster, name, parts, 1))) {
            cfd_error("broker", "creating topic %s: %s", name, rd_kafka_err2str(err));
            return -1;
        }
        cfd_info("broker", "topic %s: %d partitions", name, parts);
    }
    return 0;
}

/* Writes text to path through a temporary file and rename(), so a reader never
 * sees a partial file. @returns 0 or -1. */
static int write_file_atomic(const char *path, const char *text)
{
    char tmp[4096];
    size_t len = strlen(text);
    int fd;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        sizeof(tmp))
        return -1;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return -1;
    if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || close(fd) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char errstr[512];
    broker_opts opts;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mcluster = NULL;
    cfd_mockctl_server *ctl = NULL;
    struct sigaction sa;
    const char *bootstrap;
    int rc = 1, r;

    if ((r = parse_opts(argc, argv, &opts)) != 0)
        return r > 0 ? 0 : 2;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The mock cluster needs a client instance to host its thread. */
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, on_rdkafka_log);
    if (rd_kafka_conf_set(conf, "client.id", "confirmd-broker", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        cfd_error("broker", "%s", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        cfd_error("broker", "rd_kafka_new: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    conf = NULL; /* rd_kafka_new() took ownership */

    if (!(mcluster = rd_kafka_mock_cluster_new(rk, opts.brokers))) {
        cfd_error("broker", "cannot create a mock cluster of %d brokers", opts.brokers);
        goto out;
    }
    if (create_topics(mcluster, opts.ntopics ? opts.topics : default_topics) != 0)
        goto out;
    if (opts.control &&
        !(ctl = cfd_mockctl_server_new(mcluster, opts.control, errstr, sizeof(errstr)))) {
        cfd_error("broker", "control socket: %s", errstr);
        goto out;
    }

    bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
    if (opts.bootstrap_file && write_file_atomic(opts.bootstrap_file, bootstrap) != 0) {
        cfd_error("broker", "writing %s: %s", opts.bootstrap_file, strerror(errno));
        goto out;
    }
    printf("confirmd-broker: listening on %s\n", bootstrap);
    fflush(stdout);
    cfd_info("broker", "%d broker(s) on %s%s%s", opts.brokers, bootstrap,
             ctl ? ", control socket " : "", ctl ? opts.control : "");

    while (!stop_requested) {
        if (!ctl) {
            poll(NULL, 0, 200);
            continue;
        }
        r = cfd_mockctl_server_poll(ctl, 200);
        if (r < 0) {
            cfd_error("broker", "control socket failed");
            goto out;
        }
        if (r > 0)
            break;
    }
    cfd_info("broker", "shutting down");
    rc = 0;

out:
    cfd_mockctl_server_destroy(ctl);
    if (opts.bootstrap_file) /* stale once we stop */
        unlink(opts.bootstrap_file);
    if (mcluster)
        rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);
    return rc;
}

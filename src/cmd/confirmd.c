/*
 * confirmd: the worker process. Wires config, policy, clock and worker together.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/config.h"
#include "confirmd/log.h"
#include "confirmd/policy.h"
#include "confirmd/policy_file.h"
#include "confirmd/worker.h"

/* The one mutable global: set by the signal handler, polled by the worker. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* What the SIGHUP thread needs: the log file to reopen, and when to stop. */
typedef struct hup_ctx {
    const char *log_file; /* "" when the log is stderr */
    atomic_bool done;
} hup_ctx;

/*
 * Takes SIGHUP (blocked in every other thread) for as long as the worker runs and
 * reopens the log file, so a rotation loses no line; the log says what it did.
 * Logging and reopening are not async-signal-safe, hence a thread, not a handler.
 */
static void *hup_loop(void *arg)
{
    hup_ctx *h = arg;
    sigset_t set;
    int sig;
    char errstr[512];

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    while (sigwait(&set, &sig) == 0 && !atomic_load(&h->done)) {
        if (!*h->log_file)
            cfd_info("main", "SIGHUP: no log file configured, ignored");
        else if (cfd_log_open(h->log_file, errstr, sizeof(errstr)))
            cfd_error("main",
                      "SIGHUP: cannot reopen the log file, still writing to the "
                      "old one: %s",
                      errstr);
        else
            cfd_info("main", "SIGHUP: log file reopened");
    }
    return NULL;
}

static void usage(FILE *out)
{
    fputs("Usage: confirmd [-c FILE] [--set KEY=VALUE ...]\n"
          "\n"
          "Consumes fault reports, work-order milestones and NOC alarms from Kafka,\n"
          "keeps one confirmation record per work order in Redis, and produces\n"
          "completed records, SLA alerts and dead letters to Kafka.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE      INI configuration file (see docs/CONFIG.md)\n"
          "  -s, --set KEY=VALUE    override one key, e.g. --set redis.port=6380 or\n"
          "                         --set kafka.bootstrap.servers=broker:9092\n"
          "      --check            load and validate the configuration, then exit\n"
          "      --config-reference print the configuration reference (Markdown)\n"
          "  -h, --help             this help\n"
          "\n"
          "Signals: SIGINT, SIGTERM leave the group cleanly and stop; SIGHUP reopens\n"
          "worker.log_file (after a rotation), or is logged and ignored without one;\n"
          "SIGPIPE is ignored; SIGKILL loses nothing (the next owner resumes).\n"
          "\n"
          "Exit status: 0 stopped by SIGINT/SIGTERM; 1 bad configuration, start-up\n"
          "failure or unreadable stored state; 3 fenced (another worker took over a\n"
          "partition: restart it); 4 redis lost its data (see worker.on_state_loss);\n"
          "5 stopped by SIGTERM/SIGINT with outputs not delivered (they wait in the\n"
          "outbox for the partitions' next owner); 6 Kafka refused the SASL login or\n"
          "the TLS handshake (fix the kafka.sasl.* / kafka.ssl.* keys).\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"config-reference", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char errstr[512];
    const char *path = NULL;
    bool check_only = false;
    int rc = 1;
    cfd_worker *w = NULL;
    cfd_policy pol;
    hup_ctx hup = {.log_file = "", .done = false};
    pthread_t hup_thread;
    bool hup_started = false;
    sigset_t hup_set;
    /* Blocked before any thread starts, so only hup_loop ever takes SIGHUP. */
    sigemptyset(&hup_set);
    sigaddset(&hup_set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup_set, NULL);
    cfd_config *cfg = cfd_config_new();

    /* The file first, then --set overrides in order, whatever their position. */
    for (int pass = 0; pass < 2; pass++) {
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
            switch (c) {
            case 'c':
                path = optarg;
                if (pass == 0 && cfd_config_load_file(cfg, path, errstr, sizeof(errstr))) {
                    fprintf(stderr, "confirmd: %s\n", errstr);
                    goto out;
                }
                break;
            case 's':
                if (pass == 1 && cfd_config_set_pair(cfg, optarg, errstr, sizeof(errstr))) {
                    fprintf(stderr, "confirmd: --set %s\n", errstr);
                    goto out;
                }
                break;
            case 'k':
                check_only = true;
                break;
            case 'r':
                cfd_config_write_reference(stdout);
                rc = 0;
                goto out;
            case 'h':
                usage(stdout);
                rc = 0;
                goto out;
            default:
                usage(stderr);
                goto out;
            }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "confirmd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    cfd_log_json = strcmp(cfg->log_format, "json") == 0;
    if (cfd_log_level_parse(cfg->log_level, &cfd_log_threshold)) {
        fprintf(stderr, "confirmd: worker.log_level: unknown level '%s'\n", cfg->log_level);
        goto out;
    }
    cfd_policy_defaults(&pol);
    if (cfg->policy_file[0] != '\0' &&
        cfd_policy_file_load(cfg->policy_file, &pol, errstr, sizeof(errstr))) {
        fprintf(stderr, "confirmd: %s\n", errstr);
        goto out;
    }
    if (cfd_policy_validate(&pol, errstr, sizeof(errstr))) {
        fprintf(stderr, "confirmd: policy: %s\n", errstr);
        goto out;
    }
    if (check_only) {
        printf("confirmd: configuration OK%s%s\n", path ? ": " : "", path ? path : "");
        rc = 0;
        goto out;
    }

    if (cfg->log_file[0] != '\0' && cfd_log_open(cfg->log_file, errstr, sizeof(errstr))) {
        fprintf(stderr, "confirmd: worker.log_file: %s\n", errstr);
        goto out;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    hup.log_file = cfg->log_file;
    if (pthread_create(&hup_thread, NULL, hup_loop, &hup) != 0) {
        fputs("confirmd: cannot start the SIGHUP thread\n", stderr);
        goto out;
    }
    hup_started = true;

    cfd_info("main", "confirmd starting: policy %s, input %s", pol.version,
             cfg->input_topics);
    if (!(w = cfd_worker_new(cfg, &pol, cfd_clock_system(), &stop_flag, errstr,
                             sizeof(errstr)))) {
        cfd_error("main", "start-up failed: %s", errstr);
        goto out;
    }
    cfd_err err = cfd_worker_run(w);
    cfd_worker_stats st = cfd_worker_get_stats(w);
    cfd_info("main",
             "stopped: events=%llu applied=%llu duplicates=%llu parked=%llu "
             "dead_letters=%llu alerts=%llu records=%llu batches=%llu redis_retries=%llu "
             "unreadable_states=%llu",
             (unsigned long long)st.events, (unsigned long long)st.applied,
             (unsigned long long)st.duplicates, (unsigned long long)st.parked,
             (unsigned long long)st.dead_letters, (unsigned long long)st.alerts,
             (unsigned long long)st.records, (unsigned long long)st.batches,
             (unsigned long long)st.redis_retries,
             (unsigned long long)st.unreadable_states);
    rc = err == CFD_OK                ? 0
         : err == CFD_ERR_FENCED      ? 3
         : err == CFD_ERR_STATE_LOST  ? 4
         : err == CFD_ERR_UNDELIVERED ? 5
         : err == CFD_ERR_REFUSED     ? 6
                                      : 1;
out:
    if (hup_started) {
        atomic_store(&hup.done, true);
        pthread_kill(hup_thread, SIGHUP);
        pthread_join(hup_thread, NULL);
    }
    cfd_worker_destroy(w);
    cfd_config_destroy(cfg);
    return rc;
}

/*
 * confirmctl clock: get, set, advance or unset the simulated SLA clock of rehearsals
 * and tests, in Redis, reached as confirmd would with the same configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confirmd/config.h"
#include "confirmd/store.h"
#include "confirmctl.h"

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

int ctl_clock(int argc, char **argv)
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
        case 'c':
            err = cfd_config_load_file(cfg, optarg, errstr, sizeof errstr);
            break;
        case 's':
            err = cfd_config_set_pair(cfg, optarg, errstr, sizeof errstr);
            break;
        case 'h':
            ctl_clock_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_clock_usage(stderr);
            goto out;
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
            fprintf(stderr,
                    "confirmctl: clock advance: the clock is unset; set it first\n");
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

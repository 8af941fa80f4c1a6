/*
 * confirmctl: a small kcat-like tool for people working with confirmd. This file
 * parses the command name and dispatches; each command has its own file:
 *
 *   produce    JSON lines -> Kafka                       confirmctl_produce.c
 *   tail       Kafka -> JSON lines or summaries          confirmctl_tail.c
 *   decode     protobuf bytes -> JSON                    confirmctl_codec.c
 *   encode     JSON -> protobuf bytes                    confirmctl_codec.c
 *   inventory  network objects -> the inventory topic    confirmctl_inventory.c
 *   clock      the simulated SLA clock (Redis)           confirmctl_clock.c
 *   topics     the service's topics (admin API)          confirmctl_topics.c
 *   show       one work order's record and SLA duties    confirmctl_show.c
 *   open       open work orders by urgency               confirmctl_open.c
 *   breaches   breaches and escalations of open orders   confirmctl_breaches.c
 *   assessment the monthly contractor assessment         confirmctl_assessment.c
 *   outbox     outputs waiting to be delivered           confirmctl_outbox.c
 *   lag        applied offsets vs high watermarks        confirmctl_lag.c
 *   what-if    a period replayed under another policy    confirmctl_whatif.c
 *   rebuild    one record replayed vs the stored one     confirmctl_rebuild.c
 *
 * What they share is in confirmctl_common.c; what the commands reading the store
 * share, in confirmctl_view.c; reading the input topics for a replay, in
 * confirmctl_replay.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "confirmctl.h"

static void ctl_on_signal(int sig)
{
    (void)sig;
    ctl_stop = 1;
}

static void ctl_usage(FILE *out)
{
    fprintf(
        out,
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
        "  show      one work order's record, timeline and SLA duties (Redis)\n"
        "  open      open work orders with their next SLA instant, most urgent first\n"
        "  breaches  current breaches and escalations of open work orders\n"
        "  assessment the monthly contractor assessment (penalty points)\n"
        "  outbox    outputs waiting to be delivered, per partition\n"
        "  lag       how far each partition is behind (Redis vs the brokers)\n"
        "  what-if   replay a period's input under another SLA policy file: how\n"
        "            compliance, breaches and points would change (read-only)\n"
        "  rebuild   rebuild one record from the input topics, compare with Redis\n"
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
        return ctl_clock(argc - 1, argv + 1);
    if (strcmp(cmd, "inventory") == 0)
        return ctl_inventory(argc - 1, argv + 1);
    if (strcmp(cmd, "topics") == 0)
        return ctl_topics(argc - 1, argv + 1);
    if (strcmp(cmd, "show") == 0)
        return ctl_show(argc - 1, argv + 1);
    if (strcmp(cmd, "open") == 0)
        return ctl_open(argc - 1, argv + 1);
    if (strcmp(cmd, "breaches") == 0)
        return ctl_breaches(argc - 1, argv + 1);
    if (strcmp(cmd, "assessment") == 0)
        return ctl_assessment(argc - 1, argv + 1);
    if (strcmp(cmd, "outbox") == 0)
        return ctl_outbox(argc - 1, argv + 1);
    if (strcmp(cmd, "lag") == 0)
        return ctl_lag(argc - 1, argv + 1);
    if (strcmp(cmd, "what-if") == 0)
        return ctl_whatif(argc - 1, argv + 1);
    if (strcmp(cmd, "rebuild") == 0)
        return ctl_rebuild(argc - 1, argv + 1);
    fprintf(stderr, "confirmctl: unknown command \"%s\"\n\n", cmd);
    ctl_usage(stderr);
    return CTL_EXIT_USAGE;
}

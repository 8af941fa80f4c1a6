/*
 * confirmctl what-if: the input of a period replayed twice from one read, under the
 * live policy (the configuration's worker.policy_file) and under another policy file,
 * with the compliance, breaches and penalty points of both per tier and per
 * contractor, side by side with the difference. Read-only: no Redis, no group, no
 * commit, no output (confirmctl_replay.c, include/confirmd/replay.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/config.h"
#include "confirmd/policy_file.h"
#include "confirmd/replay.h"
#include "confirmctl.h"

static void ctl_whatif_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl what-if --policy FILE [--from T] [--to T] [options]\n"
            "\n"
            "Replays the input topics (worker.input_topics) of a period under the live\n"
            "SLA policy (worker.policy_file, else the defaults) and under the policy\n"
            "FILE (same format), and prints per tier and per contractor the duties met\n"
            "and breached (compliance = met / (met + breached)), the duties still open\n"
            "and the penalty points under each, with the difference (what-if - live).\n"
            "Both replays come from one read of the topics, so they are comparable.\n"
            "Read-only: the topics are read by manual assignment (no consumer group,\n"
            "nothing committed), nothing is produced, Redis is not used. Records depend\n"
            "on the events' contents (event times) only; duties still open are judged\n"
            "at --at, else --to, else the latest event time replayed.\n"
            "\n"
            "      --policy FILE     the SLA policy file to compare with (required)\n"
            "      --from TIME       only messages with a Kafka timestamp at or after\n"
            "                        TIME (ms or YYYY-MM-DDTHH:MM:SSZ)\n"
            "      --to TIME         only messages with a Kafka timestamp before TIME\n"
            "  -b, --brokers LIST    bootstrap servers (default: "
            "kafka.bootstrap.servers)\n" CTL_VIEW_HELP "\n"
            "Exit status: 0 printed, 1 the brokers unreachable or a policy file bad,\n"
            "2 usage.\n");
}

/* The two replays fed from one read. */
typedef struct ctl_replays {
    cfd_replay *live, *alt;
} ctl_replays;

static void ctl_whatif_feed(const void *payload, size_t len, void *opaque)
{
    ctl_replays *w = opaque;
    char errstr[256];
    /* Refused events are counted by the replays; the worker dead-letters them. */
    (void)cfd_replay_add(w->live, payload, len, errstr, sizeof errstr);
    (void)cfd_replay_add(w->alt, payload, len, errstr, sizeof errstr);
}

/* @returns compliance in percent, or -1 when no duty was judged met or breached. */
static double ctl_compliance(const cfd_replay_tally *t)
{
    uint32_t judged = t->met + t->breached;
    return judged ? 100.0 * t->met / judged : -1;
}

static json_object *ctl_tally_json(const cfd_replay_tally *t)
{
    json_object *o = json_object_new_object();
    double c = ctl_compliance(t);
    json_object_object_add(o, "orders", json_object_new_int((int32_t)t->orders));
    json_object_object_add(o, "met", json_object_new_int((int32_t)t->met));
    json_object_object_add(o, "breached", json_object_new_int((int32_t)t->breached));
    json_object_object_add(o, "open", json_object_new_int((int32_t)t->open));
    json_object_object_add(o, "points", json_object_new_int(t->points));
    json_object_object_add(o, "compliance_pct", c < 0 ? NULL : json_object_new_double(c));
    return o;
}

static json_object *ctl_diff_json(const cfd_replay_tally *a, const cfd_replay_tally *b)
{
    json_object *o = json_object_new_object();
    double ca = ctl_compliance(a), cb = ctl_compliance(b);
    json_object_object_add(o, "met",
                           json_object_new_int((int32_t)b->met - (int32_t)a->met));
    json_object_object_add(
        o, "breached", json_object_new_int((int32_t)b->breached - (int32_t)a->breached));
    json_object_object_add(o, "open",
                           json_object_new_int((int32_t)b->open - (int32_t)a->open));
    json_object_object_add(o, "points", json_object_new_int(b->points - a->points));
    json_object_object_add(o, "compliance_pct",
                           ca < 0 || cb < 0 ? NULL : json_object_new_double(cb - ca));
    return o;
}

static const char *ctl_pct(const cfd_replay_tally *t, char *buf, size_t size)
{
    double c = ctl_compliance(t);
    if (c < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f%%", c);
    return buf;
}

static void ctl_row_text(const char *label, const cfd_replay_tally *a,
                         const cfd_replay_tally *b)
{
    char name[64], pa[16], pb[16];
    printf("  %-24.24s %6u | %5u %5u %5u %6d %7s | %5u %5u %5u %6d %7s | %+5d %+6d\n",
           ctl_text(label, name, sizeof name), a->orders, a->met, a->breached, a->open,
           a->points, ctl_pct(a, pa, sizeof pa), b->met, b->breached, b->open, b->points,
           ctl_pct(b, pb, sizeof pb), (int)b->breached - (int)a->breached,
           b->points - a->points);
}

/* The groups of both summaries (a key missing from one tallies zero there). */
static void ctl_groups(const cfd_replay_group *ga, size_t na, const cfd_replay_group *gb,
                       size_t nb, const char *what, json_object *arr)
{
    static const cfd_replay_tally none;
    for (size_t pass = 0; pass < 2; pass++) {
        const cfd_replay_group *g = pass ? gb : ga;
        size_t n = pass ? nb : na;
        for (size_t i = 0; i < n; i++) {
            const char *key = g[i].key;
            if (pass && cfd_replay_group_find(ga, na, key))
                continue; /* shown in the first pass */
            const cfd_replay_group *a = cfd_replay_group_find(ga, na, key);
            const cfd_replay_group *b = cfd_replay_group_find(gb, nb, key);
            const cfd_replay_tally *ta = a ? &a->t : &none, *tb = b ? &b->t : &none;
            if (!arr) {
                ctl_row_text(*key ? key : "(not dispatched)", ta, tb);
                continue;
            }
            json_object *o = json_object_new_object();
            json_object_object_add(o, what, json_object_new_string(key));
            json_object_object_add(o, "live", ctl_tally_json(ta));
            json_object_object_add(o, "what_if", ctl_tally_json(tb));
            json_object_object_add(o, "difference", ctl_diff_json(ta, tb));
            json_object_array_add(arr, o);
        }
    }
}

static void ctl_whatif_print(const ctl_view *v, const cfd_policy *alt_pol,
                             const char *alt_file, const ctl_input_stats *in,
                             const cfd_replay_stats *st, int64_t at_ms,
                             const cfd_replay_summary *a, const cfd_replay_summary *b)
{
    char at[64];
    if (v->json) {
        json_object *doc = json_object_new_object(), *ev = json_object_new_object();
        json_object *tiers = json_object_new_array(), *cons = json_object_new_array();
        json_object *total = json_object_new_object();
        json_object_object_add(doc, "judged_at_ms", json_object_new_int64(at_ms));
        json_object_object_add(doc, "live_policy", json_object_new_string(v->pol->version));
        json_object_object_add(doc, "what_if_policy",
                               json_object_new_string(alt_pol->version));
        json_object_object_add(ev, "messages",
                               json_object_new_int64((int64_t)in->messages));
        json_object_object_add(ev, "out_of_period",
                               json_object_new_int64((int64_t)in->out_of_period));
        json_object_object_add(ev, "applied", json_object_new_int64((int64_t)st->applied));
        json_object_object_add(ev, "duplicates",
                               json_object_new_int64((int64_t)st->duplicates));
        json_object_object_add(ev, "rejected",
                               json_object_new_int64((int64_t)st->rejected));
        json_object_object_add(ev, "undecodable",
                               json_object_new_int64((int64_t)st->undecodable));
        json_object_object_add(ev, "parked", json_object_new_int64((int64_t)st->parked));
        json_object_object_add(doc, "events", ev);
        json_object_object_add(total, "live", ctl_tally_json(&a->total));
        json_object_object_add(total, "what_if", ctl_tally_json(&b->total));
        json_object_object_add(total, "difference", ctl_diff_json(&a->total, &b->total));
        json_object_object_add(doc, "total", total);
        ctl_groups(a->tiers, a->n_tiers, b->tiers, b->n_tiers, "tier", tiers);
        ctl_groups(a->contractors, a->n_contractors, b->contractors, b->n_contractors,
                   "contractor", cons);
        json_object_object_add(doc, "tiers", tiers);
        json_object_object_add(doc, "contractors", cons);
        ctl_json_print(doc);
        return;
    }
    printf("what-if: %" PRIu64 " messages of %s (%u partitions), %" PRIu64
           " events applied, %" PRIu64 " refused, %" PRIu64 " still parked\n",
           in->messages, v->cfg->input_topics, in->partitions, st->applied,
           st->rejected + st->undecodable, st->parked);
    printf("judged at %s\n", ctl_view_time(v, at_ms, at, sizeof at));
    printf("live policy    %s (%s)\n", v->pol->version,
           v->cfg->policy_file && *v->cfg->policy_file ? v->cfg->policy_file : "defaults");
    printf("what-if policy %s (%s)\n\n", alt_pol->version, alt_file);
    printf("  %-24s %6s | %-32s | %-32s | %s\n", "", "", "live", "what-if", "difference");
    printf("  %-24s %6s | %5s %5s %5s %6s %7s | %5s %5s %5s %6s %7s | %5s %6s\n", "",
           "orders", "met", "breach", "open", "points", "compl.", "met", "breach", "open",
           "points", "compl.", "breach", "points");
    printf("by tier\n");
    ctl_groups(a->tiers, a->n_tiers, b->tiers, b->n_tiers, "tier", NULL);
    printf("by contractor\n");
    ctl_groups(a->contractors, a->n_contractors, b->contractors, b->n_contractors,
               "contractor", NULL);
    ctl_row_text("total", &a->total, &b->total);
}

int ctl_whatif(int argc, char **argv)
{
    static const struct option opts[] = {CTL_VIEW_LONG,
                                         {"policy", required_argument, NULL, 'p'},
                                         {"from", required_argument, NULL, 'F'},
                                         {"to", required_argument, NULL, 'U'},
                                         {"brokers", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    cfd_policy alt_pol;
    ctl_replays w = {0};
    cfd_replay_summary sa = {0}, sb = {0};
    ctl_input_stats in;
    const char *alt_file = NULL;
    int64_t from_ms = 0, to_ms = 0;
    int rc = CTL_EXIT_USAGE, c;
    char errstr[512];

    while ((c = ctl_view_getopt(v, argc, argv, "b:", opts)) != -1) {
        switch (c) {
        case 'p':
            alt_file = optarg;
            break;
        case 'F':
        case 'U':
            if (ctl_parse_instant(optarg, c == 'F' ? &from_ms : &to_ms)) {
                fprintf(stderr, "confirmctl: --%s: bad instant \"%s\"\n",
                        c == 'F' ? "from" : "to", optarg);
                goto out;
            }
            break;
        case 'b':
            if (ctl_view_brokers(v, optarg))
                goto out;
            break;
        case 'h':
            ctl_whatif_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_whatif_usage(stderr);
            goto out;
        }
    }
    if (optind != argc || !alt_file || (from_ms && to_ms && to_ms <= from_ms)) {
        ctl_whatif_usage(stderr);
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    cfd_policy_defaults(&alt_pol);
    if (ctl_view_policy(v))
        goto out;
    if (cfd_policy_file_load(alt_file, &alt_pol, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        goto out;
    }
    w.live = cfd_replay_new(v->pol, NULL);
    w.alt = cfd_replay_new(&alt_pol, NULL);
    if (ctl_input_read(v->cfg, from_ms, to_ms, ctl_whatif_feed, &w, &in))
        goto out;
    cfd_replay_stats st = cfd_replay_stats_get(w.live);
    int64_t at_ms = v->now_ms ? v->now_ms : to_ms ? to_ms : st.latest_ms;
    cfd_replay_summarize(w.live, at_ms, &sa);
    cfd_replay_summarize(w.alt, at_ms, &sb);
    ctl_whatif_print(v, &alt_pol, alt_file, &in, &st, at_ms, &sa, &sb);
    rc = CTL_EXIT_OK;
out:
    cfd_replay_summary_clear(&sa);
    cfd_replay_summary_clear(&sb);
    cfd_replay_destroy(w.live);
    cfd_replay_destroy(w.alt);
    ctl_view_destroy(v);
    return rc;
}

/*
 * confirmctl open: the open work orders, most urgent first, with their next SLA
 * instant (the partition's timer) and the nearest deadline of a duty still owed, at
 * the worker's clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/config.h"
#include "confirmd/duty.h"
#include "confirmd/inspect.h"
#include "confirmctl.h"

static void ctl_open_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl open [options]\n"
        "\n"
        "Lists the open work orders (not closed or cancelled) of every partition, the\n"
        "most urgent first: by the nearest deadline of a duty still owed (overdue ones\n"
        "first), with the duty, the time left at the worker's clock and the order's\n"
        "next SLA instant (its timer: the next warning, breach or escalation). Reads\n"
        "every stored state: a pass over the keyspace.\n"
        "\n"
        "      --tier T          only tier T (AAA, AA, A, STANDARD)\n"
        "      --city C          only orders in city C\n"
        "      --contractor C    only orders dispatched to contractor C\n" CTL_VIEW_HELP
        "\n"
        "Exit status: 0 listed (also when none is open), 1 Redis unreachable, 2 usage.\n");
}

typedef struct ctl_open_row {
    char *order;
    int32_t part;
    cfd_state state;
    cfd_tier tier;
    char *city, *contractor;
    cfd_metric metric; /* the duty with the nearest deadline; NONE when none is owed */
    cfd_duty_state duty_state;
    int64_t deadline_ms, left_ms;
    int64_t next_ms; /* the timer; 0 when none */
    int breaches;    /* duties overdue or met late */
} ctl_open_row;

typedef struct ctl_open_ctx {
    const ctl_view *v;
    const char *tier, *city, *contractor;
    ctl_open_row *rows;
    size_t n, cap;
} ctl_open_ctx;

static bool ctl_tier_matches(cfd_tier t, const char *want)
{
    const char *name = cfd_tier_name(t);
    return strcmp(name, want) == 0 || strcmp(name + strlen("TIER_"), want) == 0;
}

static void ctl_open_add(int32_t part, const cfd_record *rec, void *opaque)
{
    ctl_open_ctx *x = opaque;
    ctl_open_row r = {0};

    if (cfd_record_is_complete(rec) ||
        (x->tier && !ctl_tier_matches(rec->customer.tier, x->tier)) ||
        (x->city && strcmp(rec->customer.city ? rec->customer.city : "", x->city) != 0) ||
        (x->contractor &&
         strcmp(rec->contractor ? rec->contractor : "", x->contractor) != 0))
        return;
    r.order = cfd_xstrdup(rec->work_order);
    r.part = part;
    r.state = rec->state;
    r.tier = rec->customer.tier;
    r.city = cfd_xstrdup(rec->customer.city ? rec->customer.city : "");
    r.contractor = cfd_xstrdup(rec->contractor ? rec->contractor : "");
    cfd_duty all[CFD_METRIC_COUNT];
    cfd_metric m = cfd_duty_judge_all(rec, x->v->pol, x->v->now_ms, all);
    for (int k = CFD_METRIC_CONTACT; k < CFD_METRIC_COUNT; k++)
        r.breaches += cfd_duty_is_breach(all[k].state);
    if (m != CFD_METRIC_NONE) {
        r.metric = m;
        r.duty_state = all[m].state;
        r.deadline_ms = all[m].deadline_ms;
        r.left_ms = all[m].left_ms;
    }
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 64;
        x->rows = cfd_xrealloc(x->rows, x->cap * sizeof(*x->rows));
    }
    x->rows[x->n++] = r;
}

/* Overdue and nearest deadlines first; orders owing no timed duty last. */
static int ctl_by_urgency(const void *a, const void *b)
{
    const ctl_open_row *x = a, *y = b;
    bool dx = x->metric != CFD_METRIC_NONE, dy = y->metric != CFD_METRIC_NONE;

    if (dx != dy)
        return dx ? -1 : 1;
    if (dx && x->deadline_ms != y->deadline_ms)
        return x->deadline_ms < y->deadline_ms ? -1 : 1;
    return strcmp(x->order, y->order);
}

/* Fills each row's next SLA instant from its partition's timers. */
static int ctl_open_timers(const ctl_view *v, ctl_open_ctx *x)
{
    char errstr[512];

    for (int32_t p = 0; p < v->nparts; p++) {
        cfd_inspect_timer *t;
        size_t n;
        if (cfd_inspect_timers(v->in, p, &t, &n, errstr, sizeof errstr)) {
            fprintf(stderr, "confirmctl: %s\n", errstr);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < x->n; k++)
                if (x->rows[k].part == p && strcmp(x->rows[k].order, t[i].order) == 0)
                    x->rows[k].next_ms = t[i].at_ms;
        cfd_inspect_timers_free(t, n);
    }
    return 0;
}

static void ctl_open_print(const ctl_view *v, const ctl_open_ctx *x)
{
    char a[64], b[64], left[32], o[256], city[128], con[128];

    if (v->json) {
        json_object *doc = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(doc, "now_ms", json_object_new_int64(v->now_ms));
        for (size_t i = 0; i < x->n; i++) {
            const ctl_open_row *r = &x->rows[i];
            json_object *e = json_object_new_object();
            json_object_object_add(e, "work_order", json_object_new_string(r->order));
            json_object_object_add(e, "partition", json_object_new_int(r->part));
            json_object_object_add(e, "state",
                                   json_object_new_string(cfd_state_name(r->state)));
            json_object_object_add(e, "tier",
                                   json_object_new_string(cfd_tier_name(r->tier)));
            json_object_object_add(e, "city", json_object_new_string(r->city));
            json_object_object_add(e, "contractor", json_object_new_string(r->contractor));
            json_object_object_add(e, "metric",
                                   json_object_new_string(cfd_metric_name(r->metric)));
            json_object_object_add(
                e, "duty_state",
                json_object_new_string(r->metric ? cfd_duty_state_name(r->duty_state)
                                                 : ""));
            json_object_object_add(e, "deadline_ms", json_object_new_int64(r->deadline_ms));
            json_object_object_add(e, "left_ms", json_object_new_int64(r->left_ms));
            json_object_object_add(e, "next_sla_ms", json_object_new_int64(r->next_ms));
            json_object_object_add(e, "breaches", json_object_new_int(r->breaches));
            json_object_array_add(arr, e);
        }
        json_object_object_add(doc, "open", arr);
        ctl_json_print(doc);
        return;
    }
    printf("%zu open work orders at %s\n", x->n, ctl_view_time(v, v->now_ms, a, sizeof a));
    if (x->n)
        printf("%-20s %4s %-22s %-14s %-24s %-8s %-26s %-26s %s\n", "work order", "part",
               "state", "tier", "next duty", "left", "deadline", "next SLA instant",
               "city / contractor");
    for (size_t i = 0; i < x->n; i++) {
        const ctl_open_row *r = &x->rows[i];
        printf("%-20s %4d %-22s %-14s %-24s %-8s %-26s %-26s %s / %s\n",
               ctl_text(r->order, o, sizeof o), r->part, cfd_state_name(r->state),
               cfd_tier_name(r->tier), r->metric ? cfd_metric_name(r->metric) : "-",
               r->metric ? ctl_duration(r->left_ms, left, sizeof left) : "-",
               ctl_view_time(v, r->deadline_ms, a, sizeof a),
               ctl_view_time(v, r->next_ms, b, sizeof b),
               ctl_text(r->city, city, sizeof city),
               ctl_text(r->contractor, con, sizeof con));
    }
}

int ctl_open(int argc, char **argv)
{
    static const struct option opts[] = {CTL_VIEW_LONG,
                                         {"tier", required_argument, NULL, 't'},
                                         {"city", required_argument, NULL, 'y'},
                                         {"contractor", required_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    ctl_open_ctx x = {.v = v};
    int rc = CTL_EXIT_USAGE, c, failed;

    while ((c = ctl_view_getopt(v, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 't':
            x.tier = optarg;
            break;
        case 'y':
            x.city = optarg;
            break;
        case 'k':
            x.contractor = optarg;
            break;
        case 'h':
            ctl_open_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_open_usage(stderr);
            goto out;
        }
    }
    if (optind != argc) {
        ctl_open_usage(stderr);
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_view_open(v))
        goto out;
    failed = ctl_view_each_record(v, ctl_open_add, &x);
    if (ctl_open_timers(v, &x))
        goto out;
    if (x.n)
        qsort(x.rows, x.n, sizeof(*x.rows), ctl_by_urgency);
    ctl_open_print(v, &x);
    rc = failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
    for (size_t i = 0; i < x.n; i++) {
        free(x.rows[i].order);
        free(x.rows[i].city);
        free(x.rows[i].contractor);
    }
    free(x.rows);
    ctl_view_destroy(v);
    return rc;
}

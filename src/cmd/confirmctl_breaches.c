/*
 * confirmctl breaches: the breaches of the open work orders at the worker's clock
 * (duties overdue or met late), how far each was escalated along the policy's chain
 * and when the next escalation is due; the orders escalated beyond their duties
 * (AAA specialists called in, a severe fault open); and the open city-wide severe
 * faults (the multi-customer city rule, kept per city and service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/city.h"
#include "confirmd/city_codec.h"
#include "confirmd/duty.h"
#include "confirmd/inspect.h"
#include "confirmctl.h"

static void ctl_breaches_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl breaches [options]\n"
        "\n"
        "Lists the current breaches of the open work orders: every duty past its\n"
        "deadline and not met (OVERDUE) or met late (MET_LATE) at the worker's clock,\n"
        "overdue ones first, oldest deadline first, with the last alert the worker\n"
        "sent for it (warning, breach, escalation) and to whom, and when the next\n"
        "escalation is due; then the orders escalated as a whole: AAA orders whose\n"
        "specialists of every discipline were called in, and open severe faults;\n"
        "then the open city-wide severe faults (3 or more customers of one city and\n"
        "service), each with its member work orders.\n"
        "Reads every stored state: a pass over the keyspace.\n"
        "\n" CTL_VIEW_HELP "\n"
        "Exit status: 0 listed (also when there is none), 1 Redis unreachable, 2 usage.\n");
}

typedef struct ctl_breach {
    char *order;
    int32_t part;
    cfd_tier tier;
    char *contractor;
    cfd_duty duty;    /* metric NONE: an escalation of the whole order (what) */
    const char *what; /* "PARALLEL_SPECIALISTS", "SEVERE_FAULT" */
} ctl_breach;

typedef struct ctl_breach_list {
    const ctl_view *v;
    ctl_breach *rows;
    size_t n, cap;
    json_object *city; /* the open city-wide incidents, as breaches --json names them */
    int unreadable;    /* city states that did not decode */
} ctl_breach_list;

static void ctl_breach_add(ctl_breach_list *x, int32_t part, const cfd_record *rec,
                           const cfd_duty *d, const char *what)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 64;
        x->rows = cfd_xrealloc(x->rows, x->cap * sizeof(*x->rows));
    }
    ctl_breach *b = &x->rows[x->n++];
    memset(b, 0, sizeof(*b));
    b->order = cfd_xstrdup(rec->work_order);
    b->part = part;
    b->tier = rec->customer.tier;
    b->contractor = cfd_xstrdup(rec->contractor ? rec->contractor : "");
    if (d)
        b->duty = *d;
    b->what = what;
}

static void ctl_breaches_of(int32_t part, const cfd_record *rec, void *opaque)
{
    ctl_breach_list *x = opaque;

    if (cfd_record_is_complete(rec))
        return;
    cfd_duty all[CFD_METRIC_COUNT];
    cfd_duty_judge_all(rec, x->v->pol, x->v->now_ms, all);
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        if (cfd_duty_is_breach(all[m].state))
            ctl_breach_add(x, part, rec, &all[m], cfd_duty_state_name(all[m].state));
    if (rec->alerts_sent & CFD_ALERT_BIT_PARALLEL)
        ctl_breach_add(x, part, rec, NULL, "PARALLEL_SPECIALISTS");
    if ((rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_OPEN) &&
        !(rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_CLOSED))
        ctl_breach_add(x, part, rec, NULL, "SEVERE_FAULT");
}

/* Adds the key's incident when it is open (a cfd_inspect_state_fn). */
static int ctl_city_incident_of(int32_t part, const char *key, const void *buf, size_t len,
                                void *opaque)
{
    ctl_breach_list *x = opaque;
    cfd_city_state *st = NULL;
    char errstr[256];

    (void)part;
    if (cfd_codec_city_state_decode(buf, len, &st, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: city key %s: %s\n", key, errstr);
        x->unreadable++;
        return 0;
    }
    if (st->open) {
        json_object *e = json_object_new_object(), *orders = json_object_new_array();
        json_object_object_add(e, "incident_id", json_object_new_string(st->incident_id));
        json_object_object_add(e, "city", json_object_new_string(st->city ? st->city : ""));
        json_object_object_add(e, "service",
                               json_object_new_string(st->service ? st->service : ""));
        json_object_object_add(e, "started_at_ms",
                               json_object_new_int64(st->started_at_ms));
        json_object_object_add(e, "opened_at_ms", json_object_new_int64(st->opened_at_ms));
        json_object_object_add(e, "excluded_from_assessment",
                               json_object_new_boolean(st->excluded_sent));
        for (size_t i = 0; i < st->n_reports; i++) /* members stay in the head */
            if (st->reports[i].incident == st->incidents)
                json_object_array_add(orders,
                                      json_object_new_string(st->reports[i].work_order));
        json_object_object_add(e, "work_orders", orders);
        json_object_array_add(x->city, e);
    }
    cfd_city_state_destroy(st);
    return 0;
}

/* Overdue duties first, then met late, then whole-order escalations; oldest first. */
static int ctl_breach_rank(const ctl_breach *b)
{
    return b->duty.metric == CFD_METRIC_NONE   ? 2
           : b->duty.state == CFD_DUTY_OVERDUE ? 0
                                               : 1;
}

static int ctl_by_breach(const void *a, const void *b)
{
    const ctl_breach *x = a, *y = b;
    int rx = ctl_breach_rank(x), ry = ctl_breach_rank(y);

    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->duty.deadline_ms != y->duty.deadline_ms)
        return x->duty.deadline_ms < y->duty.deadline_ms ? -1 : 1;
    return strcmp(x->order, y->order);
}

static json_object *ctl_breach_json(const ctl_breach *b)
{
    char step[32];
    json_object *e = json_object_new_object();

    json_object_object_add(e, "work_order", json_object_new_string(b->order));
    json_object_object_add(e, "partition", json_object_new_int(b->part));
    json_object_object_add(e, "tier", json_object_new_string(cfd_tier_name(b->tier)));
    json_object_object_add(e, "contractor", json_object_new_string(b->contractor));
    json_object_object_add(e, "kind", json_object_new_string(b->what));
    if (b->duty.metric == CFD_METRIC_NONE)
        return e;
    json_object_object_add(e, "metric",
                           json_object_new_string(cfd_metric_name(b->duty.metric)));
    json_object_object_add(e, "deadline_ms", json_object_new_int64(b->duty.deadline_ms));
    json_object_object_add(e, "actual_ms", json_object_new_int64(b->duty.actual_ms));
    json_object_object_add(
        e, "late_ms",
        json_object_new_int64(b->duty.actual_ms ? b->duty.actual_ms - b->duty.deadline_ms
                                                : -b->duty.left_ms));
    json_object_object_add(
        e, "last_alert",
        json_object_new_string(cfd_duty_step_name(b->duty.last_step, step, sizeof step)));
    json_object_object_add(
        e, "last_recipient",
        json_object_new_string(
            b->duty.last_step >= 0 ? cfd_recipient_name(b->duty.last_recipient) : ""));
    json_object_object_add(e, "retracted", json_object_new_boolean(b->duty.retracted));
    json_object_object_add(e, "next_escalation_ms",
                           json_object_new_int64(b->duty.next_escalation_ms));
    json_object_object_add(e, "points", json_object_new_int(b->duty.points));
    return e;
}

static void ctl_breaches_print(const ctl_view *v, const ctl_breach_list *x)
{
    char a[64], b[64], late[32], step[32], o[256], con[128];

    if (v->json) {
        json_object *doc = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(doc, "now_ms", json_object_new_int64(v->now_ms));
        for (size_t i = 0; i < x->n; i++)
            json_object_array_add(arr, ctl_breach_json(&x->rows[i]));
        json_object_object_add(doc, "breaches", arr);
        json_object_object_add(doc, "city_incidents", json_object_get(x->city));
        ctl_json_print(doc);
        return;
    }
    printf("%zu breaches and escalations of open work orders at %s\n", x->n,
           ctl_view_time(v, v->now_ms, a, sizeof a));
    if (x->n)
        printf("%-20s %-9s %-24s %-26s %-8s %-42s %-26s %s\n", "work order", "state",
               "duty", "deadline", "late", "last alert", "next escalation", "contractor");
    for (size_t i = 0; i < x->n; i++) {
        const ctl_breach *r = &x->rows[i];
        const cfd_duty *d = &r->duty;
        char last[96];
        if (d->metric == CFD_METRIC_NONE) {
            printf("%-20s %s\n", ctl_text(r->order, o, sizeof o), r->what);
            continue;
        }
        snprintf(last, sizeof last, "%s%s%s%s",
                 cfd_duty_step_name(d->last_step, step, sizeof step),
                 d->last_step >= 0 ? " to " : "",
                 d->last_step >= 0 ? cfd_recipient_name(d->last_recipient) : "",
                 d->retracted ? " (retracted)" : "");
        printf("%-20s %-9s %-24s %-26s %-8s %-42s %-26s %s\n",
               ctl_text(r->order, o, sizeof o), r->what, cfd_metric_name(d->metric),
               ctl_view_time(v, d->deadline_ms, a, sizeof a),
               ctl_duration(d->actual_ms ? d->actual_ms - d->deadline_ms : -d->left_ms,
                            late, sizeof late),
               last, ctl_view_time(v, d->next_escalation_ms, b, sizeof b),
               ctl_text(r->contractor, con, sizeof con));
    }
    size_t n_city = json_object_array_length(x->city);
    printf("\n%zu open city-wide severe faults\n", n_city);
    if (n_city)
        printf("%-26s %-26s %-8s %s\n", "opened", "started", "orders", "incident");
    for (size_t i = 0; i < n_city; i++) {
        json_object *e = json_object_array_get_idx(x->city, i);
        printf(
            "%-26s %-26s %-8zu %s%s\n",
            ctl_view_time(v, ctl_json_i64(e, "opened_at_ms"), a, sizeof a),
            ctl_view_time(v, ctl_json_i64(e, "started_at_ms"), b, sizeof b),
            json_object_array_length(json_object_object_get(e, "work_orders")),
            ctl_text(ctl_json_str(e, "incident_id"), o, sizeof o),
            json_object_get_boolean(json_object_object_get(e, "excluded_from_assessment"))
                ? " (excluded from the assessment)"
                : "");
    }
}

int ctl_breaches(int argc, char **argv)
{
    static const struct option opts[] = {CTL_VIEW_LONG, {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    ctl_breach_list x = {.v = v, .city = json_object_new_array()};
    int rc = CTL_EXIT_USAGE, c, failed;
    char errstr[512];

    while ((c = ctl_view_getopt(v, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'h':
            ctl_breaches_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_breaches_usage(stderr);
            goto out;
        }
    }
    if (optind != argc) {
        ctl_breaches_usage(stderr);
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_view_open(v))
        goto out;
    failed = ctl_view_each_record(v, ctl_breaches_of, &x);
    if (cfd_inspect_city_states(v->in, ctl_city_incident_of, &x, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        goto out;
    }
    if (x.n)
        qsort(x.rows, x.n, sizeof(*x.rows), ctl_by_breach);
    ctl_breaches_print(v, &x);
    rc = failed || x.unreadable ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
    json_object_put(x.city);
    for (size_t i = 0; i < x.n; i++) {
        free(x.rows[i].order);
        free(x.rows[i].contractor);
    }
    free(x.rows);
    ctl_view_destroy(v);
    return rc;
}

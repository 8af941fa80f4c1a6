/*
 * confirmctl assessment: the monthly contractor assessment (考核) from the stored
 * records: penalty points per item (violation code) and per contractor, with the
 * violations behind them. The sums are the domain's (src/domain/assessment.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/assessment.h"
#include "confirmd/inspect.h"
#include "confirmctl.h"

static void ctl_assessment_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl assessment --month YYYY-MM [--contractor C] [options]\n"
            "\n"
            "The contractor assessment of one month from the stored records, open and\n"
            "completed: per contractor the penalty points, the violations and the records\n"
            "with one, the points per item (violation code), and each violation with its\n"
            "work order. A violation counts in the operator-local month (the policy's\n"
            "offset) of its instant. Reads every stored state: a pass over the keyspace.\n"
            "Records Redis no longer holds are not counted.\n"
            "\n"
            "      --month YYYY-MM   the month (required)\n"
            "      --contractor C    only contractor C (\"\" for orders never "
            "dispatched)\n" CTL_VIEW_HELP "\n"
            "Exit status: 0 printed, 1 Redis unreachable, 2 usage.\n");
}

/* One violation of the month, with its order. */
typedef struct ctl_item {
    char *order, *contractor;
    cfd_violation v;
} ctl_item;

typedef struct ctl_assess {
    const ctl_view *v;
    int year, month;
    const char *contractor; /* NULL: all */
    cfd_assessment *a;
    ctl_item *items;
    size_t n, cap;
} ctl_assess;

static void ctl_assess_add(int32_t part, const cfd_record *rec, void *opaque)
{
    ctl_assess *x = opaque;
    const char *c = rec->contractor ? rec->contractor : "";

    (void)part;
    if (x->contractor && strcmp(c, x->contractor) != 0)
        return;
    cfd_assessment_add(x->a, rec, x->v->pol);
    for (size_t i = 0; i < rec->n_violations; i++) {
        int y, m;
        cfd_assessment_month_of(x->v->pol, rec->violations[i].at_ms, &y, &m);
        if (y != x->year || m != x->month)
            continue;
        if (x->n == x->cap) {
            x->cap = x->cap ? 2 * x->cap : 64;
            x->items = cfd_xrealloc(x->items, x->cap * sizeof(*x->items));
        }
        x->items[x->n++] =
            (ctl_item){cfd_xstrdup(rec->work_order), cfd_xstrdup(c), rec->violations[i]};
    }
}

static int ctl_by_item(const void *a, const void *b)
{
    const ctl_item *x = a, *y = b;
    int c = strcmp(x->contractor, y->contractor);

    if (c)
        return c;
    if (x->v.at_ms != y->v.at_ms)
        return x->v.at_ms < y->v.at_ms ? -1 : 1;
    return strcmp(x->order, y->order);
}

static json_object *ctl_row_json(const ctl_assess *x, const cfd_assessment_row *r)
{
    json_object *o = json_object_new_object(), *by = json_object_new_object();
    json_object *list = json_object_new_array();

    json_object_object_add(o, "contractor", json_object_new_string(r->contractor));
    json_object_object_add(o, "points", json_object_new_int(r->points));
    json_object_object_add(o, "violations", json_object_new_int((int32_t)r->violations));
    json_object_object_add(o, "records", json_object_new_int((int32_t)r->records));
    for (int k = 1; k < CFD_VIOLATION_COUNT; k++) {
        if (!r->by_code[k])
            continue;
        json_object *it = json_object_new_object();
        json_object_object_add(it, "count", json_object_new_int((int32_t)r->by_code[k]));
        json_object_object_add(it, "points", json_object_new_int(r->points_by_code[k]));
        json_object_object_add(by, cfd_violation_name((cfd_violation_code)k), it);
    }
    json_object_object_add(o, "items", by);
    for (size_t i = 0; i < x->n; i++) {
        const ctl_item *it = &x->items[i];
        if (strcmp(it->contractor, r->contractor) != 0)
            continue;
        json_object *e = json_object_new_object();
        json_object_object_add(e, "work_order", json_object_new_string(it->order));
        json_object_object_add(e, "code",
                               json_object_new_string(cfd_violation_name(it->v.code)));
        json_object_object_add(e, "metric",
                               json_object_new_string(cfd_metric_name(it->v.metric)));
        json_object_object_add(e, "points", json_object_new_int(it->v.points));
        json_object_object_add(e, "at_ms", json_object_new_int64(it->v.at_ms));
        json_object_object_add(e, "detail", json_object_new_string(it->v.detail));
        json_object_array_add(list, e);
    }
    json_object_object_add(o, "violation_list", list);
    return o;
}

static void ctl_row_text(const ctl_assess *x, const cfd_assessment_row *r)
{
    char name[256], at[64], o[256], d[256];

    printf("\n%s: %d points, %u violations in %u records\n",
           r->contractor[0] ? ctl_text(r->contractor, name, sizeof name)
                            : "(not dispatched)",
           r->points, r->violations, r->records);
    for (int k = 1; k < CFD_VIOLATION_COUNT; k++)
        if (r->by_code[k])
            printf("  %-34s %4u x  %5d points\n", cfd_violation_name((cfd_violation_code)k),
                   r->by_code[k], r->points_by_code[k]);
    for (size_t i = 0; i < x->n; i++) {
        const ctl_item *it = &x->items[i];
        if (strcmp(it->contractor, r->contractor) == 0)
            printf("    %-20s %s  %-32s %4d  %s\n", ctl_text(it->order, o, sizeof o),
                   ctl_view_time(x->v, it->v.at_ms, at, sizeof at),
                   cfd_violation_name(it->v.code), it->v.points,
                   ctl_text(it->v.detail, d, sizeof d));
    }
}

static void ctl_assessment_print(const ctl_assess *x)
{
    const cfd_assessment *a = x->a;
    json_object *doc = NULL, *arr = NULL;
    int32_t total = 0;
    size_t rows = 0;

    if (x->v->json) {
        doc = json_object_new_object();
        arr = json_object_new_array();
        char month[16];
        snprintf(month, sizeof month, "%04d-%02d", x->year, x->month);
        json_object_object_add(doc, "month", json_object_new_string(month));
        json_object_object_add(doc, "utc_offset_min",
                               json_object_new_int(x->v->pol->utc_offset_min));
    }
    for (size_t i = 0; i < a->n_rows; i++) {
        const cfd_assessment_row *r = &a->rows[i];
        if (r->year != x->year || r->month != x->month)
            continue;
        total += r->points;
        rows++;
        if (arr)
            json_object_array_add(arr, ctl_row_json(x, r));
        else
            ctl_row_text(x, r);
    }
    if (doc) {
        json_object_object_add(doc, "points", json_object_new_int(total));
        json_object_object_add(doc, "contractors", arr);
        ctl_json_print(doc);
        return;
    }
    printf("\nassessment %04d-%02d: %zu contractors, %d points\n", x->year, x->month, rows,
           total);
}

int ctl_assessment(int argc, char **argv)
{
    static const struct option opts[] = {CTL_VIEW_LONG,
                                         {"month", required_argument, NULL, 'm'},
                                         {"contractor", required_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    ctl_assess x = {.v = v, .a = cfd_assessment_new()};
    int rc = CTL_EXIT_USAGE, c, failed;
    char tail;

    while ((c = ctl_view_getopt(v, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'm':
            if (sscanf(optarg, "%4d-%2d%c", &x.year, &x.month, &tail) != 2 || x.month < 1 ||
                x.month > 12) {
                fprintf(stderr, "confirmctl: --month: expected YYYY-MM, got \"%s\"\n",
                        optarg);
                goto out;
            }
            break;
        case 'k':
            x.contractor = optarg;
            break;
        case 'h':
            ctl_assessment_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_assessment_usage(stderr);
            goto out;
        }
    }
    if (optind != argc || !x.year) {
        ctl_assessment_usage(stderr);
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_view_open(v))
        goto out;
    failed = ctl_view_each_record(v, ctl_assess_add, &x);
    if (x.n)
        qsort(x.items, x.n, sizeof(*x.items), ctl_by_item);
    ctl_assessment_print(&x);
    rc = failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
    for (size_t i = 0; i < x.n; i++) {
        free(x.items[i].order);
        free(x.items[i].contractor);
    }
    free(x.items);
    cfd_assessment_destroy(x.a);
    ctl_view_destroy(v);
    return rc;
}

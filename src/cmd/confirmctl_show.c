/*
 * confirmctl show: one work order's confirmation record, its timeline and its SLA
 * duties at the worker's clock; --explain adds each duty's audit trail, the one a
 * contractor disputing a penalty asks for. Customer names, phones and addresses are
 * left out unless --customer asks for them: output gets pasted into tickets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/codec.h"
#include "confirmd/config.h"
#include "confirmd/duty.h"
#include "confirmd/inspect.h"
#include "confirmctl.h"

static void ctl_show_usage(FILE *out)
{
    fprintf(
        out,
        "usage: confirmctl show [options] WORK_ORDER\n"
        "\n"
        "Prints a work order's confirmation record as the store holds it, its timeline\n"
        "and its SLA duties (deadline, state and time left at the worker's clock: the\n"
        "simulated one when worker.clock=simulated). Every partition is looked at, so\n"
        "it does not matter which partitioner the order's producer used.\n"
        "\n"
        "      --explain         each duty's audit trail: the rule and policy version,\n"
        "                        what started its clock, every pause with its reason\n"
        "                        and evidence, the deadline, when it was met, the\n"
        "                        verdict and the penalty points\n"
        "      --customer        also print the customer's name, contact, phone and\n"
        "                        address and the signatures (left out by "
        "default)\n" CTL_VIEW_HELP "\n"
        "Exit status: 0 shown, 1 not found or Redis unreachable, 2 usage.\n");
}

/* Customer data the dedicated-line rules keep off site (shared/DOMAIN.md). */
static void ctl_redact(json_object *rec)
{
    static const char *const customer[] = {"name", "contact_person", "contact_phone",
                                           "address"};
    json_object *o;

    if (json_object_object_get_ex(rec, "customer", &o))
        for (size_t i = 0; i < sizeof customer / sizeof customer[0]; i++)
            json_object_object_del(o, customer[i]);
    json_object_object_del(rec, "customer_signature");
    if (json_object_object_get_ex(rec, "visit_note", &o))
        json_object_object_del(o, "contact");
}

/* The record as JSON (field names of ConfirmationRecord). @returns NULL on failure. */
static json_object *ctl_record_json(const cfd_record *rec, bool customer)
{
    uint8_t *buf;
    size_t len;
    char errstr[256];
    char *text;
    json_object *o;

    cfd_codec_record_encode(rec, &buf, &len);
    text = cfd_pb_to_json("ConfirmationRecord", buf, len, errstr, sizeof errstr);
    free(buf);
    if (!text) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return NULL;
    }
    o = json_tokener_parse(text);
    free(text);
    if (o && !customer)
        ctl_redact(o);
    return o;
}

static json_object *ctl_i64(int64_t v)
{
    return json_object_new_int64(v);
}

static json_object *ctl_str(const char *s)
{
    return json_object_new_string(s ? s : "");
}

static json_object *ctl_duty_json(const cfd_record *rec, const cfd_duty *d, bool explain)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "metric", ctl_str(cfd_metric_name(d->metric)));
    json_object_object_add(o, "state", ctl_str(cfd_duty_state_name(d->state)));
    json_object_object_add(o, "breach",
                           json_object_new_boolean(cfd_duty_is_breach(d->state)));
    json_object_object_add(o, "target_ms", ctl_i64(d->target_ms));
    json_object_object_add(o, "start_ms", ctl_i64(d->start_ms));
    json_object_object_add(o, "deadline_ms", ctl_i64(d->deadline_ms));
    json_object_object_add(o, "actual_ms", ctl_i64(d->actual_ms));
    json_object_object_add(o, "paused_ms", ctl_i64(d->paused_ms));
    json_object_object_add(o, "left_ms", ctl_i64(d->left_ms));
    json_object_object_add(o, "points", json_object_new_int(d->points));
    if (!explain)
        return o;
    json_object *pauses = json_object_new_array(), *viol = json_object_new_array();
    json_object_object_add(o, "rule", ctl_str(d->rule));
    json_object_object_add(o, "policy_version", ctl_str(rec->policy_version));
    json_object_object_add(o, "start_why", ctl_str(d->start_why));
    json_object_object_add(o, "appointment_deadline",
                           json_object_new_boolean(d->appointment_deadline));
    for (size_t i = 0; i < d->n_pauses; i++) {
        const cfd_duty_pause *p = &d->pauses[i];
        json_object *po = json_object_new_object();
        json_object_object_add(po, "start_ms", ctl_i64(p->start_ms));
        json_object_object_add(po, "end_ms", ctl_i64(p->end_ms));
        json_object_object_add(po, "reason",
                               ctl_str(p->pause ? cfd_pause_reason_name(p->pause->reason)
                                                : "APPOINTMENT_BY_CUSTOMER"));
        if (p->pause) {
            json_object_object_add(po, "pause_id", ctl_str(p->pause->pause_id));
            json_object_object_add(po, "reported_by", ctl_str(p->pause->reported_by));
            json_object_object_add(po, "evidence", ctl_str(p->pause->evidence));
        }
        json_object_array_add(pauses, po);
    }
    json_object_object_add(o, "pauses", pauses);
    for (size_t i = 0; i < rec->n_violations; i++) {
        const cfd_violation *v = &rec->violations[i];
        if (v->metric != d->metric)
            continue;
        json_object *vo = json_object_new_object();
        json_object_object_add(vo, "code", ctl_str(cfd_violation_name(v->code)));
        json_object_object_add(vo, "points", json_object_new_int(v->points));
        json_object_object_add(vo, "detail", ctl_str(v->detail));
        json_object_object_add(vo, "at_ms", ctl_i64(v->at_ms));
        json_object_array_add(viol, vo);
    }
    json_object_object_add(o, "violations", viol);
    return o;
}

typedef struct ctl_show_opts {
    bool explain;
    const char *order;
} ctl_show_opts;

static void ctl_show_json(const ctl_view *v, const ctl_show_opts *o, int32_t part,
                          const cfd_record *rec, json_object *record,
                          const cfd_duty *duties)
{
    json_object *doc = json_object_new_object(), *arr = json_object_new_array();

    json_object_object_add(doc, "work_order", ctl_str(o->order));
    json_object_object_add(doc, "partition", json_object_new_int(part));
    json_object_object_add(doc, "now_ms", ctl_i64(v->now_ms));
    json_object_object_add(doc, "clock", ctl_str(v->simulated ? "simulated" : "system"));
    json_object_object_add(doc, "open",
                           json_object_new_boolean(!cfd_record_is_complete(rec)));
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        json_object_array_add(arr, ctl_duty_json(rec, &duties[m], o->explain));
    json_object_object_add(doc, "duties", arr);
    json_object_object_add(doc, "record", record);
    ctl_json_print(doc);
}

/* One "label value" line of the record's summary; nothing when value is empty. */
static void ctl_line(const char *label, const char *value)
{
    char buf[1024];
    if (value && *value)
        printf("%-13s %s\n", label, ctl_text(value, buf, sizeof buf));
}

static void ctl_show_record(const ctl_view *v, int32_t part, const cfd_record *rec,
                            json_object *record)
{
    char a[64], b[512];
    json_object *cust = NULL;

    json_object_object_get_ex(record, "customer", &cust);
    snprintf(b, sizeof b, "%s (partition %d, version %u, policy %s)", rec->work_order, part,
             rec->version, rec->policy_version ? rec->policy_version : "-");
    ctl_line("work order", b);
    snprintf(b, sizeof b, "%s%s", cfd_state_name(rec->state),
             cfd_record_is_complete(rec) ? " (complete)" : " (open)");
    ctl_line("state", b);
    snprintf(b, sizeof b, "%s%s%s", cfd_tier_name(rec->customer.tier),
             rec->customer.gold ? ", gold" : "", rec->special ? ", special fault" : "");
    ctl_line("tier", b);
    ctl_line("customer id", rec->customer.customer_id);
    ctl_line("customer", ctl_json_str(cust, "name"));
    ctl_line("contact", ctl_json_str(cust, "contact_person"));
    ctl_line("phone", ctl_json_str(cust, "contact_phone"));
    ctl_line("address", ctl_json_str(cust, "address"));
    ctl_line("city", rec->customer.city);
    ctl_line("service", rec->customer.affected_service);
    ctl_line("circuit", rec->circuit_id);
    ctl_line("issuing unit", rec->issuing_unit);
    ctl_line("contractor", rec->contractor);
    for (size_t i = 0; i < rec->n_engineers; i++)
        ctl_line("engineer", rec->engineers[i]);
    ctl_line("cause", ctl_json_str(record, "cause"));
    ctl_line("result", ctl_json_str(record, "result"));
    ctl_line("signed by", ctl_json_str(record, "customer_signature"));
    ctl_line("previous", rec->previous_work_order);
    snprintf(b, sizeof b, "%d", rec->penalty_points);
    ctl_line("penalty", b);
    snprintf(b, sizeof b, "%s (%s clock)", ctl_view_time(v, v->now_ms, a, sizeof a),
             v->simulated ? "simulated" : "system");
    ctl_line("judged at", b);
    printf("\ntimeline\n");
    for (size_t i = 0; i < rec->n_timeline; i++) {
        const cfd_timeline_entry *e = &rec->timeline[i];
        char id[256];
        printf("  %s  %-34s %s\n", ctl_view_time(v, e->event_time_ms, a, sizeof a),
               cfd_milestone_name(e->milestone), ctl_text(e->event_id, id, sizeof id));
    }
}

static void ctl_show_duty(const ctl_view *v, const cfd_duty *d)
{
    char dl[64], act[64], left[32];

    if (d->left_ms || d->state == CFD_DUTY_RUNNING || d->state == CFD_DUTY_PAUSED)
        ctl_duration(d->left_ms, left, sizeof left);
    else
        snprintf(left, sizeof left, "-");
    printf("  %-24s %-15s %-26s %-9s %-26s %d\n", cfd_metric_name(d->metric),
           cfd_duty_state_name(d->state), ctl_view_time(v, d->deadline_ms, dl, sizeof dl),
           left, ctl_view_time(v, d->actual_ms, act, sizeof act), d->points);
}

static void ctl_explain_duty(const ctl_view *v, const cfd_record *rec, const cfd_duty *d)
{
    char a[64], b[64], t[32], txt[512];

    printf("\n%s: %s\n", cfd_metric_name(d->metric), d->rule);
    printf("  rule       %s, limit %s, policy %s\n", cfd_tier_name(rec->customer.tier),
           d->target_ms ? ctl_duration(d->target_ms, t, sizeof t) : "-",
           rec->policy_version ? rec->policy_version : "-");
    if (d->start_ms)
        printf("  started    %s, at %s\n", ctl_view_time(v, d->start_ms, a, sizeof a),
               d->start_why);
    else
        printf("  started    not yet\n");
    if (d->n_pauses == 0)
        printf("  pauses     none\n");
    for (size_t i = 0; i < d->n_pauses; i++) {
        const cfd_duty_pause *p = &d->pauses[i];
        printf("  pause      %s -> %s  ", ctl_view_time(v, p->start_ms, a, sizeof a),
               p->end_ms ? ctl_view_time(v, p->end_ms, b, sizeof b) : "(open)");
        if (!p->pause) {
            printf("waiting for the appointment the customer asked for\n");
            continue;
        }
        printf("%s, pause %s", cfd_pause_reason_name(p->pause->reason),
               ctl_text(p->pause->pause_id, txt, sizeof txt));
        if (p->pause->reported_by && *p->pause->reported_by)
            printf(", reported by %s", ctl_text(p->pause->reported_by, txt, sizeof txt));
        printf(", evidence \"%s\"\n", ctl_text(p->pause->evidence, txt, sizeof txt));
    }
    printf("  paused     %s in all (overlaps once)\n",
           ctl_duration(d->paused_ms, t, sizeof t));
    printf("  deadline   %s%s\n", ctl_view_time(v, d->deadline_ms, a, sizeof a),
           d->appointment_deadline ? " (the customer's appointment)" : "");
    printf("  actual     %s\n",
           d->actual_ms ? ctl_view_time(v, d->actual_ms, a, sizeof a) : "not yet");
    printf("  verdict    %s%s\n", cfd_duty_state_name(d->state),
           cfd_duty_is_breach(d->state) ? " (breach)" : "");
    printf("  points     %d\n", d->points);
    for (size_t i = 0; i < rec->n_violations; i++) {
        const cfd_violation *vi = &rec->violations[i];
        if (vi->metric == d->metric)
            printf("    %-32s %3d  %s\n", cfd_violation_name(vi->code), vi->points,
                   ctl_text(vi->detail, txt, sizeof txt));
    }
}

static void ctl_show_text(const ctl_view *v, const ctl_show_opts *o, int32_t part,
                          const cfd_record *rec, json_object *record,
                          const cfd_duty *duties)
{
    char txt[256];

    ctl_show_record(v, part, rec, record);
    printf("\nduties\n  %-24s %-15s %-26s %-9s %-26s %s\n", "metric", "state", "deadline",
           "left", "met at", "points");
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        ctl_show_duty(v, &duties[m]);
    if (!o->explain)
        return;
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        ctl_explain_duty(v, rec, &duties[m]);
    for (size_t i = 0; i < rec->n_violations; i++)
        if (rec->violations[i].metric == CFD_METRIC_NONE)
            printf("\nother: %s %d  %s\n", cfd_violation_name(rec->violations[i].code),
                   rec->violations[i].points,
                   ctl_text(rec->violations[i].detail, txt, sizeof txt));
}

int ctl_show(int argc, char **argv)
{
    static const struct option opts[] = {CTL_VIEW_LONG,
                                         {"explain", no_argument, NULL, 'e'},
                                         {"customer", no_argument, NULL, 'C'},
                                         {NULL, 0, NULL, 0}};
    ctl_show_opts o = {0};
    ctl_view *v = ctl_view_new();
    cfd_blob state = {0};
    cfd_record *rec = NULL;
    json_object *record = NULL;
    int rc = CTL_EXIT_USAGE, c;
    int32_t part;
    char errstr[512];

    while ((c = ctl_view_getopt(v, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'e':
            o.explain = true;
            break;
        case 'C':
            v->customer = true;
            break;
        case 'h':
            ctl_show_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_show_usage(stderr);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        ctl_show_usage(stderr);
        goto out;
    }
    o.order = argv[optind];
    rc = CTL_EXIT_FAIL;
    if (ctl_view_open(v))
        goto out;
    if (cfd_inspect_find(v->in, o.order, v->nparts, &part, &state, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        goto out;
    }
    if (part < 0) {
        fprintf(stderr, "confirmctl: work order %s: not in the store (%d partitions)\n",
                ctl_text(o.order, errstr, sizeof errstr), v->nparts);
        goto out;
    }
    if (!(rec = ctl_view_decode(o.order, state.data, state.len)) ||
        !(record = ctl_record_json(rec, v->customer)))
        goto out;
    cfd_duty duties[CFD_METRIC_COUNT];
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++)
        cfd_duty_judge(rec, v->pol, (cfd_metric)m, v->now_ms, &duties[m]);
    if (v->json) {
        ctl_show_json(v, &o, part, rec, record, duties); /* takes record */
        record = NULL;
    } else {
        ctl_show_text(v, &o, part, rec, record, duties);
    }
    rc = CTL_EXIT_OK;
out:
    json_object_put(record);
    cfd_record_destroy(rec);
    cfd_blobs_clear(&state, 1);
    ctl_view_destroy(v);
    return rc;
}

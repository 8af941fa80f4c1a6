/*
 * The NOC wallboard's JSON, from the store's read-only views; see src/app/board.h and
 * docs/WALLBOARD.md.
 */
#include "board.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/city_codec.h"
#include "confirmd/clock.h"
#include "confirmd/codec.h"
#include "confirmd/duty.h"
#include "confirmd/incident.h"
#include "confirmd/inspect.h"
#include "confirmd/log.h"

#define MOD "board"
#define DAY_MS (24 * 3600 * 1000LL)

/* A work order's level on the board, most urgent first. */
typedef enum board_level {
    LEVEL_ESCALATED = 0, /* an escalation sent, specialists called in, a severe fault */
    LEVEL_BREACHED,      /* a duty overdue or met late */
    LEVEL_WARNING,       /* a warning sent for a duty still owed */
    LEVEL_ON_TIME,
} board_level;

static const char *const level_names[] = {"escalated", "breached", "warning", "on_time"};

struct cfd_board {
    pthread_mutex_t lock;
    const cfd_config *cfg;
    const cfd_policy *pol;
    cfd_inspect *in; /* opened on first use, dropped after a failed call */
    char *json;      /* the last board built, at built_mono_ms */
    size_t len;
    int64_t built_mono_ms;
};

/* One row of "open" or "breaches", with what sorts it. */
typedef struct board_row {
    json_object *obj;
    int rank; /* level, or the kind of breach */
    bool owes;
    int64_t deadline_ms;
    const char *order; /* obj's */
    int32_t part;
} board_row;

typedef struct board_rows {
    board_row *v;
    size_t n, cap;
} board_rows;

/* What one pass over the stored states gathers. */
typedef struct board_scan {
    const cfd_policy *pol;
    int64_t now_ms, day_start_ms;
    board_rows open, breaches;
    json_object *severe;
    json_object *incidents; /* open severe-fault incidents, each with its orders */
    json_object *members;   /* work order -> its entry in an incident, open orders */
    int unreadable;
    /* today's duties that ended: [tier][metric][0 met, 1 breached] */
    int64_t compliance[CFD_TIER_COUNT][CFD_METRIC_COUNT][2];
} board_scan;

cfd_board *cfd_board_new(const cfd_config *cfg, const cfd_policy *pol)
{
    cfd_board *b = cfd_xcalloc(1, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    b->cfg = cfg;
    b->pol = pol;
    return b;
}

void cfd_board_destroy(cfd_board *b)
{
    if (!b)
        return;
    cfd_inspect_destroy(b->in);
    pthread_mutex_destroy(&b->lock);
    free(b->json);
    free(b);
}

const cfd_board_file *cfd_board_file_find(const char *url)
{
    if (strcmp(url, "/") == 0 || strcmp(url, "/board") == 0)
        url = "/board.html";
    for (size_t i = 0; i < cfd_board_n_files; i++)
        if (strcmp(cfd_board_files[i].path, url) == 0)
            return &cfd_board_files[i];
    return NULL;
}

static board_row *rows_add(board_rows *r, json_object *obj, const char *order, int32_t part)
{
    r->v = cfd_xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
    board_row *row = &r->v[r->n++];
    *row = (board_row){.obj = obj, .part = part};
    json_object_object_add(obj, "work_order", json_object_new_string(order));
    row->order = json_object_get_string(json_object_object_get(obj, "work_order"));
    return row;
}

/* The fields every row of a work order has. */
static json_object *order_json(const cfd_record *rec)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "tier",
                           json_object_new_string(cfd_tier_name(rec->customer.tier)));
    json_object_object_add(o, "gold", json_object_new_boolean(rec->customer.gold));
    json_object_object_add(
        o, "city", json_object_new_string(rec->customer.city ? rec->customer.city : ""));
    json_object_object_add(o, "contractor",
                           json_object_new_string(rec->contractor ? rec->contractor : ""));
    return o;
}

static bool severe_fault_open(const cfd_record *rec)
{
    return (rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_OPEN) &&
           !(rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_CLOSED);
}

/* A breach of duty d (or, d NULL, an escalation of the whole order: kind). */
static void add_breach(board_scan *s, int32_t part, const cfd_record *rec,
                       const cfd_duty *d, const char *kind)
{
    json_object *o = order_json(rec);
    board_row *row = rows_add(&s->breaches, o, rec->work_order, part);
    char step[32];

    json_object_object_add(o, "kind", json_object_new_string(kind));
    row->rank = !d ? 2 : d->state == CFD_DUTY_OVERDUE ? 0 : 1;
    if (!d)
        return;
    row->owes = true;
    row->deadline_ms = d->deadline_ms;
    json_object_object_add(o, "metric", json_object_new_string(cfd_metric_name(d->metric)));
    json_object_object_add(o, "deadline_ms", json_object_new_int64(d->deadline_ms));
    json_object_object_add(
        o, "late_ms",
        json_object_new_int64(d->actual_ms ? d->actual_ms - d->deadline_ms : -d->left_ms));
    json_object_object_add(
        o, "last_alert",
        json_object_new_string(cfd_duty_step_name(d->last_step, step, sizeof step)));
    json_object_object_add(o, "escalated",
                           json_object_new_boolean(d->last_step > CFD_STEP_BREACH));
    json_object_object_add(o, "next_escalation_ms",
                           json_object_new_int64(d->next_escalation_ms));
}

/* Counts the duties of rec that ended today (met, or breached at their deadline). */
static void count_today(board_scan *s, const cfd_record *rec, const cfd_duty *all)
{
    int t = rec->customer.tier;

    if (t < 0 || t >= CFD_TIER_COUNT)
        return;
    for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++) {
        const cfd_duty *d = &all[m];
        int64_t at = d->state == CFD_DUTY_MET ? d->actual_ms : d->deadline_ms + 1;
        if ((d->state == CFD_DUTY_MET || cfd_duty_is_breach(d->state)) &&
            at >= s->day_start_ms && at <= s->now_ms)
            s->compliance[t][m][d->state != CFD_DUTY_MET]++;
    }
}

/* An open incident's fields, its work_orders still empty; added to s->incidents. */
static json_object *add_incident(board_scan *s, const char *id, cfd_incident_kind kind,
                                 cfd_incident_rule rule, const char *city,
                                 const char *service, int64_t started_at_ms,
                                 int64_t opened_at_ms, bool excluded)
{
    json_object *inc = json_object_new_object();

    json_object_object_add(inc, "incident_id", json_object_new_string(id));
    json_object_object_add(inc, "kind",
                           json_object_new_string(cfd_incident_kind_name(kind)));
    json_object_object_add(inc, "rule",
                           json_object_new_string(cfd_incident_rule_name(rule)));
    json_object_object_add(inc, "city", json_object_new_string(city ? city : ""));
    json_object_object_add(inc, "service", json_object_new_string(service ? service : ""));
    json_object_object_add(inc, "started_at_ms", json_object_new_int64(started_at_ms));
    json_object_object_add(inc, "opened_at_ms", json_object_new_int64(opened_at_ms));
    json_object_object_add(inc, "excluded_from_assessment",
                           json_object_new_boolean(excluded));
    json_object_object_add(inc, "work_orders", json_object_new_array());
    json_object_array_add(s->incidents, inc);
    return inc;
}

/* Adds a work order's entry (shared: its reference count taken) to inc's work_orders. */
static void incident_member(json_object *inc, json_object *member)
{
    json_object_array_add(json_object_object_get(inc, "work_orders"),
                          json_object_get(member));
}

/* rec's open incident (INC-<order>) with rec as its one work order (member). */
static void add_order_incident(board_scan *s, const cfd_record *rec, json_object *member)
{
    cfd_incident_view v;
    char id[160];

    cfd_incident_judge(rec, s->now_ms, &v);
    snprintf(id, sizeof id, "INC-%s", rec->work_order);
    json_object *inc =
        add_incident(s, id, CFD_INCIDENT_IMPORTANT_CUSTOMER_INTERRUPTION, v.rule,
                     rec->customer.city, rec->customer.affected_service, v.started_at_ms,
                     v.opens_at_ms, rec->alerts_sent & CFD_ALERT_BIT_INCIDENT_EXCLUDED);
    incident_member(inc, member);
}

static void scan_record(board_scan *s, int32_t part, const cfd_record *rec)
{
    cfd_duty all[CFD_METRIC_COUNT];
    cfd_metric m = cfd_duty_judge_all(rec, s->pol, s->now_ms, all);
    board_level level = LEVEL_ON_TIME;
    int breaches = 0;

    count_today(s, rec, all);
    if (cfd_record_is_complete(rec))
        return;
    for (int k = CFD_METRIC_CONTACT; k < CFD_METRIC_COUNT; k++) {
        const cfd_duty *d = &all[k];
        if (cfd_duty_is_breach(d->state)) {
            breaches++;
            add_breach(s, part, rec, d, cfd_duty_state_name(d->state));
            if (level > LEVEL_BREACHED)
                level = LEVEL_BREACHED;
            if (d->last_step > CFD_STEP_BREACH)
                level = LEVEL_ESCALATED;
        } else if (d->last_step >= 0 && d->last_step < CFD_STEP_BREACH &&
                   level > LEVEL_WARNING &&
                   (d->state == CFD_DUTY_RUNNING || d->state == CFD_DUTY_PAUSED)) {
            level = LEVEL_WARNING;
        }
    }
    if (rec->alerts_sent & CFD_ALERT_BIT_PARALLEL) {
        add_breach(s, part, rec, NULL, "PARALLEL_SPECIALISTS");
        level = LEVEL_ESCALATED;
    }
    if (severe_fault_open(rec)) {
        json_object *f = order_json(rec);
        json_object_object_add(f, "work_order", json_object_new_string(rec->work_order));
        json_object_object_add(
            f, "alarm_object",
            json_object_new_string(rec->alarm_object ? rec->alarm_object : ""));
        json_object_array_add(s->severe, f);
        add_breach(s, part, rec, NULL, "SEVERE_FAULT");
        level = LEVEL_ESCALATED;
    }

    json_object *o = order_json(rec);
    board_row *row = rows_add(&s->open, o, rec->work_order, part);
    row->rank = level;
    row->owes = m != CFD_METRIC_NONE;
    row->deadline_ms = row->owes ? all[m].deadline_ms : 0;
    json_object_object_add(o, "partition", json_object_new_int(part));
    json_object_object_add(o, "state", json_object_new_string(cfd_state_name(rec->state)));
    json_object_object_add(o, "level", json_object_new_string(level_names[level]));
    json_object_object_add(o, "metric", json_object_new_string(cfd_metric_name(m)));
    json_object_object_add(
        o, "duty_state",
        json_object_new_string(row->owes ? cfd_duty_state_name(all[m].state) : ""));
    json_object_object_add(o, "deadline_ms", json_object_new_int64(row->deadline_ms));
    json_object_object_add(o, "left_ms",
                           json_object_new_int64(row->owes ? all[m].left_ms : 0));
    json_object_object_add(o, "breaches", json_object_new_int(breaches));

    /* Its entry in the incidents it is in: its own, or a city's (scan_city). */
    json_object *member = order_json(rec);
    json_object_object_add(member, "work_order", json_object_new_string(rec->work_order));
    json_object_object_add(member, "state",
                           json_object_new_string(cfd_state_name(rec->state)));
    json_object_object_add(member, "level", json_object_new_string(level_names[level]));
    json_object_object_add(s->members, rec->work_order, member);
    if (severe_fault_open(rec))
        add_order_incident(s, rec, member);
}

/* The oldest incident first, then by id. */
static int by_opening(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
    int64_t tx = json_object_get_int64(json_object_object_get(x, "opened_at_ms"));
    int64_t ty = json_object_get_int64(json_object_object_get(y, "opened_at_ms"));

    if (tx != ty)
        return tx < ty ? -1 : 1;
    return strcmp(json_object_get_string(json_object_object_get(x, "incident_id")),
                  json_object_get_string(json_object_object_get(y, "incident_id")));
}

static int scan_state(int32_t part, const char *order, const void *buf, size_t len,
                      void *ctx)
{
    board_scan *s = ctx;
    cfd_record *rec = NULL;
    char errstr[256];

    (void)order; /* not logged: the board's log lines carry no order's data */
    if (cfd_codec_state_decode(buf, len, &rec, errstr, sizeof errstr))
        s->unreadable++;
    else
        scan_record(s, part, rec);
    cfd_record_destroy(rec);
    return 0;
}

/* A city|service key's open incident (the multi-customer city rule), with its members:
 * an open order's entry as in its own incident, a closed or cancelled one's work order
 * alone. Run after scan_state has seen every order. */
static int scan_city(int32_t part, const char *key, const void *buf, size_t len, void *ctx)
{
    board_scan *s = ctx;
    cfd_city_state *st = NULL;
    char errstr[256];

    (void)part;
    (void)key;
    if (cfd_codec_city_state_decode(buf, len, &st, errstr, sizeof errstr)) {
        s->unreadable++;
        return 0;
    }
    if (st->open) {
        json_object *inc =
            add_incident(s, st->incident_id, CFD_INCIDENT_MULTI_CUSTOMER_CITY,
                         CFD_INCIDENT_RULE_MULTI_CUSTOMER_CITY, st->city, st->service,
                         st->started_at_ms, st->opened_at_ms, st->excluded_sent);
        for (size_t i = 0; i < st->n_reports; i++) {
            const cfd_city_report *r = &st->reports[i];
            if (r->incident != st->incidents)
                continue;
            json_object *m = json_object_object_get(s->members, r->work_order);
            if (!m) { /* closed or cancelled: no state or level to show */
                m = json_object_new_object();
                json_object_object_add(m, "work_order",
                                       json_object_new_string(r->work_order));
                json_object_object_add(s->members, r->work_order, m);
            }
            incident_member(inc, m);
        }
    }
    cfd_city_state_destroy(st);
    return 0;
}

/* Rank (level or kind of breach), then the nearest deadline (rows owing none last),
 * then the order. */
static int by_urgency(const void *a, const void *b)
{
    const board_row *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->owes != y->owes)
        return x->owes ? -1 : 1;
    if (x->deadline_ms != y->deadline_ms)
        return x->deadline_ms < y->deadline_ms ? -1 : 1;
    return strcmp(x->order, y->order);
}

/* Sorts rows by urgency into a new JSON array (the rows' objects move into it). */
static json_object *rows_json(board_rows *r)
{
    json_object *arr = json_object_new_array();

    if (r->n)
        qsort(r->v, r->n, sizeof(*r->v), by_urgency);
    for (size_t i = 0; i < r->n; i++)
        json_object_array_add(arr, r->v[i].obj);
    free(r->v);
    *r = (board_rows){0};
    return arr;
}

/* Sets each open row's next SLA instant (its partition's timer; 0 when none). */
static cfd_err set_next_instants(cfd_inspect *in, int32_t nparts, board_rows *open,
                                 char *errstr, size_t errstr_size)
{
    for (size_t k = 0; k < open->n; k++)
        json_object_object_add(open->v[k].obj, "next_sla_ms", json_object_new_int64(0));
    for (int32_t p = 0; p < nparts; p++) {
        cfd_inspect_timer *t;
        size_t n;
        cfd_err err = cfd_inspect_timers(in, p, &t, &n, errstr, errstr_size);
        if (err)
            return err;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < open->n; k++)
                if (open->v[k].part == p && strcmp(open->v[k].order, t[i].order) == 0)
                    json_object_object_add(open->v[k].obj, "next_sla_ms",
                                           json_object_new_int64(t[i].at_ms));
        cfd_inspect_timers_free(t, n);
    }
    return CFD_OK;
}

static json_object *compliance_json(const board_scan *s)
{
    json_object *arr = json_object_new_array();

    for (int t = 0; t < CFD_TIER_COUNT; t++)
        for (int m = CFD_METRIC_CONTACT; m < CFD_METRIC_COUNT; m++) {
            const int64_t *c = s->compliance[t][m];
            if (!c[0] && !c[1])
                continue;
            json_object *o = json_object_new_object();
            json_object_object_add(o, "tier",
                                   json_object_new_string(cfd_tier_name((cfd_tier)t)));
            json_object_object_add(o, "metric",
                                   json_object_new_string(cfd_metric_name((cfd_metric)m)));
            json_object_object_add(o, "met", json_object_new_int64(c[0]));
            json_object_object_add(o, "breached", json_object_new_int64(c[1]));
            json_object_array_add(arr, o);
        }
    return arr;
}

/* Builds the board from the store into a new string. */
static char *build(cfd_board *b, size_t *len, char *errstr, size_t errstr_size)
{
    board_scan s = {.pol = b->pol,
                    .severe = json_object_new_array(),
                    .incidents = json_object_new_array(),
                    .members = json_object_new_object()};
    const cfd_clock system = cfd_clock_system();
    int64_t off_ms = (int64_t)b->pol->utc_offset_min * 60 * 1000;
    int32_t nparts = 0;
    char *text = NULL;
    cfd_err err = CFD_OK;

    if (strcmp(b->cfg->clock, "simulated") == 0)
        err = cfd_inspect_sim_clock(b->in, &s.now_ms, errstr, errstr_size);
    if (!s.now_ms) /* the system clock, or a simulated clock not set yet */
        s.now_ms = cfd_clock_now(&system);
    s.day_start_ms = (s.now_ms + off_ms) / DAY_MS * DAY_MS - off_ms;
    if (!err)
        err = cfd_inspect_partitions(b->in, &nparts, errstr, errstr_size);
    if (!err)
        err = cfd_inspect_states(b->in, scan_state, &s, errstr, errstr_size);
    if (!err)
        err = cfd_inspect_city_states(b->in, scan_city, &s, errstr, errstr_size);
    if (!err)
        err = set_next_instants(b->in, nparts, &s.open, errstr, errstr_size);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "now_ms", json_object_new_int64(s.now_ms));
    json_object_object_add(doc, "clock", json_object_new_string(b->cfg->clock));
    json_object_object_add(doc, "day_start_ms", json_object_new_int64(s.day_start_ms));
    json_object_object_add(doc, "utc_offset_min",
                           json_object_new_int(b->pol->utc_offset_min));
    json_object_object_add(doc, "open", rows_json(&s.open));
    json_object_object_add(doc, "breaches", rows_json(&s.breaches));
    json_object_object_add(doc, "severe_faults", s.severe);
    json_object_array_sort(s.incidents, by_opening);
    json_object_object_add(doc, "incidents", s.incidents);
    json_object_object_add(doc, "compliance", compliance_json(&s));
    json_object_object_add(doc, "unreadable_states", json_object_new_int(s.unreadable));
    json_object_put(s.members);
    if (!err) {
        const char *j = json_object_to_json_string_ext(
            doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        *len = strlen(j);
        text = cfd_xstrdup(j);
    }
    json_object_put(doc);
    return text;
}

char *cfd_board_json(cfd_board *b, int64_t max_age_ms, size_t *len, char *errstr,
                     size_t errstr_size)
{
    int64_t now = cfd_monotonic_ms();
    char *copy = NULL;

    pthread_mutex_lock(&b->lock);
    if (!b->json || now - b->built_mono_ms >= max_age_ms) {
        const cfd_store_opts opts = cfd_config_store_opts(b->cfg);
        char *fresh = NULL;
        if (!b->in)
            b->in = cfd_inspect_new(&opts, errstr, errstr_size);
        if (b->in && !(fresh = build(b, len, errstr, errstr_size))) {
            cfd_warn(MOD, "%s", errstr); /* Redis' words: no order's data */
            cfd_inspect_destroy(b->in);
            b->in = NULL;
        }
        if (fresh) {
            free(b->json);
            b->json = fresh;
            b->len = *len;
            b->built_mono_ms = now;
        }
    }
    /* A failed rebuild serves nothing stale: the page shows the error. */
    if (b->json && now - b->built_mono_ms < max_age_ms) {
        *len = b->len;
        copy = cfd_xmalloc(b->len + 1);
        memcpy(copy, b->json, b->len + 1);
    }
    pthread_mutex_unlock(&b->lock);
    return copy;
}

char *cfd_board_error_json(const char *errstr, size_t *len)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "error", json_object_new_string(errstr));
    char *text = cfd_xstrdup(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
    json_object_put(e);
    *len = strlen(text);
    return text;
}

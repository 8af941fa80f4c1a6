/*
 * The multi-customer city rule of severe faults; see include/confirmd/city.h.
 */
#include "confirmd/city.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confirmd/alloc.h"
#include "confirmd/text.h"

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

void cfd_city_key(const char *city, const char *service, char *buf, size_t size)
{
    snprintf(buf, size, "%s|%s", city ? city : "", service ? service : "");
}

bool cfd_city_report_of(const cfd_record *rec, cfd_city_report *out)
{
    const cfd_customer *c = &rec->customer;
    cfd_incident_view v;

    memset(out, 0, sizeof(*out));
    if (cfd_incident_is_important(c) || !rec->full_interruption ||
        rec->work_order == NULL || c->city == NULL || !*c->city ||
        c->affected_service == NULL || !*c->affected_service)
        return false;
    cfd_incident_judge(rec, 0, &v);
    if (v.started_at_ms == 0)
        return false;
    /* Borrowed from rec (a report's strings are char * for the state that owns them). */
    out->city = (char *)c->city;
    out->service = (char *)c->affected_service;
    out->work_order = rec->work_order;
    out->customer_id = c->customer_id && *c->customer_id ? (char *)c->customer_id : NULL;
    out->reported_at_ms = v.started_at_ms;
    out->ended_at_ms = v.ended_at_ms;
    out->ownership_unclear = v.ownership_unclear;
    out->excluded = v.excluded;
    out->record_version = rec->version;
    return true;
}

bool cfd_city_report_same(const cfd_city_report *a, const cfd_city_report *b)
{
    return str_eq(a->city, b->city) && str_eq(a->service, b->service) &&
           str_eq(a->work_order, b->work_order) && str_eq(a->customer_id, b->customer_id) &&
           a->reported_at_ms == b->reported_at_ms && a->ended_at_ms == b->ended_at_ms &&
           a->ownership_unclear == b->ownership_unclear && a->excluded == b->excluded;
}

bool cfd_city_report_copy(cfd_city_report *dst, const cfd_city_report *src)
{
    *dst = *src;
    dst->city = cfd_text_dup(src->city);
    dst->service = cfd_text_dup(src->service);
    dst->work_order = cfd_text_dup(src->work_order);
    dst->customer_id = cfd_text_dup(src->customer_id);
    return true;
}

size_t cfd_city_report_changes(const cfd_record *rec, const cfd_city_report *was,
                               bool in_was, cfd_city_report out[2])
{
    cfd_city_report now;
    bool in = rec && cfd_city_report_of(rec, &now);
    size_t n = 0;
    if (!in && !in_was)
        return 0;
    if (in_was && (!in || strcmp(now.city, was->city) != 0 ||
                   strcmp(now.service, was->service) != 0)) {
        /* Out of its former key: there, its fault counts as ended now. */
        out[n] = *was;
        if (!out[n].ended_at_ms)
            out[n].ended_at_ms = cfd_record_as_of(rec);
        out[n++].record_version = rec->version;
    } else if (in && in_was && cfd_city_report_same(&now, was)) {
        return 0; /* nothing the rule reads changed */
    }
    if (in)
        out[n++] = now;
    return n;
}

cfd_city_state *cfd_city_state_new(void)
{
    return cfd_xcalloc(1, sizeof(cfd_city_state));
}

void cfd_city_report_clear(cfd_city_report *r)
{
    free(r->city);
    free(r->service);
    free(r->work_order);
    free(r->customer_id);
    memset(r, 0, sizeof(*r));
}

void cfd_city_state_destroy(cfd_city_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_reports; i++)
        cfd_city_report_clear(&st->reports[i]);
    free(st->reports);
    free(st->city);
    free(st->service);
    free(st->members);
    free(st);
}

/* The index of order's report, or where it would go (sorted by work order). */
static size_t find(const cfd_city_state *st, const char *order, bool *found)
{
    return cfd_sorted_find(st->reports, st->n_reports, sizeof(*st->reports),
                           offsetof(cfd_city_report, work_order), order, found);
}

bool cfd_city_merge(cfd_city_state *st, const cfd_city_report *r)
{
    bool found;
    size_t i;
    uint32_t incident = 0;

    if (r->work_order == NULL || r->city == NULL || r->service == NULL)
        return false;
    if (st->city == NULL || st->service == NULL) { /* a new key (or half of one) */
        char *city = cfd_text_dup(r->city), *service = cfd_text_dup(r->service);

        free(st->city);
        free(st->service);
        st->city = city;
        st->service = service;
    } else if (!str_eq(st->city, r->city) || !str_eq(st->service, r->service)) {
        return false;
    }
    i = find(st, r->work_order, &found);
    if (found) {
        if (st->reports[i].record_version >= r->record_version)
            return false;
        incident = st->reports[i].incident;
        cfd_city_report_clear(&st->reports[i]);
    } else {
        if (st->n_reports == st->cap_reports) {
            st->cap_reports = st->cap_reports ? 2 * st->cap_reports : 8;
            st->reports = cfd_xrealloc(st->reports, st->cap_reports * sizeof(*st->reports));
        }
        memmove(&st->reports[i + 1], &st->reports[i],
                (st->n_reports - i) * sizeof(*st->reports));
        st->n_reports++;
    }
    st->reports[i] = *r;
    st->reports[i].city = NULL; /* the state's own (see cfd_city_state) */
    st->reports[i].service = NULL;
    st->reports[i].work_order = cfd_text_dup(r->work_order);
    st->reports[i].customer_id = cfd_text_dup(r->customer_id);
    st->reports[i].incident = incident; /* membership is the state's, not the order's */
    return true;
}

/* Who reported: the customer id, else the order itself. */
static const char *who(const cfd_city_report *r)
{
    return r->customer_id ? r->customer_id : r->work_order;
}

/* The fault of r had not ended at t. */
static bool lasting_at(const cfd_city_report *r, int64_t t)
{
    return r->ended_at_ms == 0 || r->ended_at_ms > t;
}

static int by_time(const void *a, const void *b)
{
    const cfd_city_report *x = *(const cfd_city_report *const *)a;
    const cfd_city_report *y = *(const cfd_city_report *const *)b;

    if (x->reported_at_ms != y->reported_at_ms)
        return x->reported_at_ms < y->reported_at_ms ? -1 : 1;
    return strcmp(x->work_order, y->work_order);
}

/* A window of the rule: reports [first, last] of the time-sorted candidates. */
typedef struct window {
    size_t first, last;
    int64_t third_ms;
    int64_t lasting_until_ms; /* third_ms + CFD_CITY_LASTING_MS */
} window;

/* The CFD_CITY_CUSTOMERS distinct reporters seen last, each at its latest report, the
 * latest first: a window [first, last] has enough reporters exactly when all of them
 * are seen and the oldest of them at first or after. */
typedef struct recent_reporters {
    const char *who[CFD_CITY_CUSTOMERS];
    size_t at[CFD_CITY_CUSTOMERS];
    size_t n;
} recent_reporters;

static void recent_add(recent_reporters *r, const char *who, size_t at)
{
    size_t k = 0;

    while (k < r->n && strcmp(r->who[k], who) != 0)
        k++;
    if (k == r->n && r->n < CFD_CITY_CUSTOMERS)
        r->n++;
    if (k == CFD_CITY_CUSTOMERS) /* new: the oldest one drops out */
        k--;
    memmove(&r->who[1], &r->who[0], k * sizeof(r->who[0]));
    memmove(&r->at[1], &r->at[0], k * sizeof(r->at[0]));
    r->who[0] = who;
    r->at[0] = at;
}

/* When r's fault ends, INT64_MAX while it has not. */
static int64_t end_of(const cfd_city_report *r)
{
    return r->ended_at_ms == 0 ? INT64_MAX : r->ended_at_ms;
}

/*
 * Finds the first window whose fault lasts (or may still last) more than
 * CFD_CITY_LASTING_MS after its third report, among the reports in no incident.
 * One pass over the reports: the window's distinct reporters and its latest end are
 * kept as it slides (a busy city holds thousands of reports, most windows of which
 * have enough reporters but no lasting fault).
 * @returns 1 when it is severe at now_ms, 0 when it may become so later (*next set to
 *          the instant after which it would), -1 when no window can be.
 */
static int judge(int64_t now_ms, cfd_city_report *const *v, size_t n, window *w,
                 int64_t *next)
{
    size_t first = 0, head = 0, tail = 0;
    /* Reports of the window by decreasing end: the front ends last. */
    size_t *ends = cfd_xmalloc((n + 1) * sizeof(*ends));
    recent_reporters recent = {.n = 0};
    int verdict = -1;

    *next = 0;
    for (size_t last = 0; last < n; last++) {
        while (v[last]->reported_at_ms - v[first]->reported_at_ms > CFD_CITY_WINDOW_MS)
            first++;
        while (tail > head && end_of(v[ends[tail - 1]]) <= end_of(v[last]))
            tail--;
        ends[tail++] = last;
        while (ends[head] < first)
            head++;
        recent_add(&recent, who(v[last]), last);
        if (recent.n < CFD_CITY_CUSTOMERS || recent.at[CFD_CITY_CUSTOMERS - 1] < first)
            continue;
        w->first = first;
        w->last = last;
        w->third_ms = v[last]->reported_at_ms;
        w->lasting_until_ms = w->third_ms + CFD_CITY_LASTING_MS;
        /* "More than" 30 min: ended exactly at it is not severe. */
        if (!lasting_at(v[ends[head]], w->lasting_until_ms))
            continue;
        if (now_ms > w->lasting_until_ms) {
            verdict = 1;
        } else {
            *next = w->lasting_until_ms + 1;
            verdict = 0;
        }
        break;
    }
    free(ends);
    return verdict;
}

/* The reports in no incident, sorted by report time; *n set. Caller frees. */
static cfd_city_report **candidates(cfd_city_state *st, size_t *n)
{
    cfd_city_report **v = cfd_xmalloc((st->n_reports + 1) * sizeof(*v));

    *n = 0;
    for (size_t i = 0; i < st->n_reports; i++)
        if (st->reports[i].incident == 0)
            v[(*n)++] = &st->reports[i];
    qsort(v, *n, sizeof(*v), by_time);
    return v;
}

int64_t cfd_city_next(const cfd_city_state *st)
{
    size_t n;
    window w;
    int64_t next = 0;
    cfd_city_report **v;

    if (st->open)
        return 0;
    v = candidates((cfd_city_state *)st, &n);
    /* Judged at the earliest instant: a window severe already has no timer to wait for
     * (cfd_city_collect opens it at once). */
    if (judge(INT64_MIN, v, n, &w, &next) != 0)
        next = 0;
    free(v);
    return next;
}

/* The members of the open incident, into st->members; @returns how many. */
static size_t list_members(cfd_city_state *st, bool *unclear, bool *excluded,
                           int64_t *ended)
{
    size_t n = 0;

    *unclear = false;
    *excluded = true;
    *ended = 0;
    for (size_t i = 0; i < st->n_reports; i++) {
        const cfd_city_report *r = &st->reports[i];

        if (r->incident != st->incidents)
            continue;
        if (n == st->cap_members) {
            st->cap_members = st->cap_members ? 2 * st->cap_members : 8;
            st->members = cfd_xrealloc(st->members, st->cap_members * sizeof(*st->members));
        }
        st->members[n++] = r->work_order;
        *unclear |= r->ownership_unclear;
        *excluded &= r->excluded;
        if (*ended >= 0)
            *ended = r->ended_at_ms == 0       ? -1
                     : r->ended_at_ms > *ended ? r->ended_at_ms
                                               : *ended;
    }
    if (n == 0)
        *excluded = false;
    return n;
}

static void fill(cfd_incident *inc, cfd_city_state *st, cfd_incident_status status,
                 size_t n_members, bool unclear, bool excluded, int64_t now_ms)
{
    memset(inc, 0, sizeof(*inc));
    cfd_text_copy(inc->incident_id, sizeof(inc->incident_id), st->incident_id);
    inc->kind = CFD_INCIDENT_MULTI_CUSTOMER_CITY;
    inc->rule = CFD_INCIDENT_RULE_MULTI_CUSTOMER_CITY;
    inc->decided_at_ms = now_ms;
    inc->status = status;
    inc->work_orders = st->members;
    inc->n_work_orders = n_members;
    inc->city = st->city;
    inc->service = st->service;
    inc->started_at_ms = st->started_at_ms;
    inc->threshold_ms = CFD_CITY_LASTING_MS;
    inc->opened_at_ms = st->opened_at_ms;
    inc->closed_at_ms = status == CFD_INCIDENT_CLOSED ? st->closed_at_ms : 0;
    inc->ownership_unclear = unclear;
    inc->excluded_from_assessment = excluded;
    inc->version = ++st->version;
    st->members_sent = (uint32_t)n_members;
    st->excluded_sent = excluded;
}

/* The SMS-by-level notification: facts only, never names, phones or addresses. */
static void severe_alert(cfd_alert *a, const cfd_city_state *st, size_t n_members,
                         bool unclear, int64_t now_ms)
{
    char since[48];

    cfd_incident_alert_init(a, st->incident_id, st->city, st->opened_at_ms, now_ms,
                            st->third_report_ms, since, sizeof(since));
    snprintf(a->message, sizeof(a->message),
             "severe fault %s: %zu group customers without %s in %s, the third reported at "
             "%s, over %lld min%s",
             st->incident_id, n_members, st->service, st->city, since,
             (long long)(CFD_CITY_LASTING_MS / 60000),
             unclear ? " (cause not known yet)" : "");
}

/* Opens the key's next incident on window w of the time-sorted candidates v. */
static void open_incident(cfd_city_state *st, cfd_city_report **v, const window *w)
{
    st->incidents++;
    st->open = true;
    st->started_at_ms = v[w->first]->reported_at_ms;
    st->third_report_ms = w->third_ms;
    st->opened_at_ms = w->lasting_until_ms;
    st->closed_at_ms = 0;
    st->version = 0;
    st->members_sent = 0;
    st->excluded_sent = false;
    snprintf(st->incident_id, sizeof(st->incident_id), "INC-%s|%s|%lld", st->city,
             st->service, (long long)w->third_ms);
    for (size_t i = w->first; i <= w->last; i++)
        v[i]->incident = st->incidents;
}

size_t cfd_city_collect(cfd_city_state *st, int64_t now_ms, cfd_incident out[3],
                        cfd_alert *alert, bool *has_alert)
{
    size_t n = 0, n_members;
    bool unclear, excluded, opened = false;
    int64_t ended;

    *has_alert = false;
    if (!st->open) {
        size_t nv;
        window w;
        int64_t next;
        cfd_city_report **v = candidates(st, &nv);

        if (judge(now_ms, v, nv, &w, &next) == 1) {
            open_incident(st, v, &w);
            opened = true;
        }
        free(v);
        if (!opened)
            return 0;
    }
    /* While open, every further report of the key joins (not those before its window:
     * they were judged apart from it). */
    for (size_t i = 0; i < st->n_reports; i++)
        if (st->reports[i].incident == 0 &&
            st->reports[i].reported_at_ms >= st->started_at_ms)
            st->reports[i].incident = st->incidents;
    n_members = list_members(st, &unclear, &excluded, &ended);
    if (opened) {
        fill(&out[n++], st, CFD_INCIDENT_OPEN, n_members, unclear, excluded, now_ms);
        severe_alert(alert, st, n_members, unclear, now_ms);
        *has_alert = true;
    } else if (n_members != st->members_sent || excluded != st->excluded_sent) {
        fill(&out[n++], st, CFD_INCIDENT_UPDATE, n_members, unclear, excluded, now_ms);
    }
    if (ended > 0) {
        st->open = false;
        st->closed_at_ms = ended;
        fill(&out[n++], st, CFD_INCIDENT_CLOSED, n_members, unclear, excluded, now_ms);
    }
    return n;
}

int64_t cfd_city_as_of(const cfd_city_state *st)
{
    int64_t t = st->settled_as_of;

    for (size_t i = 0; i < st->n_reports; i++) {
        const cfd_city_report *r = &st->reports[i];

        if (r->reported_at_ms > t)
            t = r->reported_at_ms;
        if (r->ended_at_ms > t)
            t = r->ended_at_ms;
    }
    return t;
}

size_t cfd_city_prune(cfd_city_state *st)
{
    size_t kept = 0, dropped = 0;
    int64_t now_ms = cfd_city_as_of(st); /* the key's own time, not the clock */

    for (size_t i = 0; i < st->n_reports; i++) {
        cfd_city_report *r = &st->reports[i];
        bool in_open = st->open && r->incident == st->incidents;
        /* Kept a while after its incident closed: a late version of the order must find
         * its membership, not count again in a new window. */
        bool drop = !in_open &&
                    ((r->ended_at_ms != 0 && now_ms - r->ended_at_ms > CFD_CITY_KEEP_MS) ||
                     now_ms - r->reported_at_ms > CFD_CITY_KEEP_MS);

        if (drop) {
            cfd_city_report_clear(r);
            dropped++;
        } else {
            st->reports[kept++] = *r;
        }
    }
    st->n_reports = kept;
    /* Bounded: the oldest ended reports out of the open incident go first. */
    while (st->n_reports > CFD_CITY_MAX_REPORTS) {
        size_t oldest = SIZE_MAX;

        for (size_t i = 0; i < st->n_reports; i++) {
            const cfd_city_report *r = &st->reports[i];

            if ((st->open && r->incident == st->incidents) || r->ended_at_ms == 0)
                continue;
            if (oldest == SIZE_MAX ||
                r->reported_at_ms < st->reports[oldest].reported_at_ms)
                oldest = i;
        }
        if (oldest == SIZE_MAX)
            break;
        cfd_city_report_clear(&st->reports[oldest]);
        memmove(&st->reports[oldest], &st->reports[oldest + 1],
                (st->n_reports - oldest - 1) * sizeof(*st->reports));
        st->n_reports--;
        dropped++;
    }
    return dropped;
}

/* r may move to the settled part of st, split at cut: ended, reported before cut, out
 * of the open incident. */
static bool settles(const cfd_city_state *st, const cfd_city_report *r, int64_t cut)
{
    return r->ended_at_ms != 0 && r->reported_at_ms < cut &&
           !(st->open && r->incident == st->incidents);
}

/* The instant a whole state st should be split at, 0 for none (see cfd_city_settle);
 * had_settled: it was joined with a settled part. The cut follows the key's latest
 * report, not its latest end: a fault's end comes long after its report, and a new
 * report must not fall within a window's span of the cut. */
static int64_t settle_cut(const cfd_city_state *st, bool had_settled)
{
    int64_t latest = 0;
    size_t movable = 0;

    if (st->open)
        return 0;
    for (size_t i = 0; i < st->n_reports; i++)
        if (st->reports[i].reported_at_ms > latest)
            latest = st->reports[i].reported_at_ms;
    int64_t cut = latest - CFD_CITY_SETTLE_MS;
    if (cut <= st->settled_before)
        return 0;
    for (size_t i = 0; i < st->n_reports; i++)
        movable += settles(st, &st->reports[i], cut);
    return had_settled || movable >= CFD_CITY_SETTLE_AT_LEAST ? cut : 0;
}

/* r says of its order only that its fault ended (or ended earlier) than was said: the
 * same customer and report time. Ending a fault makes no window severe. */
static bool only_ends(const cfd_city_report *was, const cfd_city_report *r)
{
    return str_eq(was->customer_id, r->customer_id) &&
           was->reported_at_ms == r->reported_at_ms && r->ended_at_ms != 0 &&
           (was->ended_at_ms == 0 || r->ended_at_ms <= was->ended_at_ms);
}

bool cfd_city_needs_settled(const cfd_city_state *head, const cfd_city_report *reports,
                            size_t n)
{
    if (head->n_settled == 0)
        return false;
    if (head->n_reports + head->n_settled + n > CFD_CITY_MAX_REPORTS)
        return true;
    for (size_t i = 0; i < n; i++) {
        const cfd_city_report *r = &reports[i];
        bool found;
        size_t at = find(head, r->work_order, &found);
        if (found && only_ends(&head->reports[at], r))
            continue;
        if (r->reported_at_ms < head->settled_before + CFD_CITY_WINDOW_MS)
            return true;
    }
    return settle_cut(head, false) != 0;
}

void cfd_city_join(cfd_city_state *head, cfd_city_state *settled)
{
    size_t n = head->n_reports + settled->n_reports, i = 0, j = 0, k = 0;
    cfd_city_report *all = cfd_xcalloc(n + 1, sizeof(*all));

    while (i < head->n_reports || j < settled->n_reports) {
        int c = i == head->n_reports ? 1
                : j == settled->n_reports
                    ? -1
                    : strcmp(head->reports[i].work_order, settled->reports[j].work_order);
        if (c == 0) { /* both: the newer version stays */
            bool settled_newer =
                settled->reports[j].record_version > head->reports[i].record_version;
            if (settled_newer) {
                cfd_city_report_clear(&head->reports[i++]);
                c = 1;
            } else {
                cfd_city_report_clear(&settled->reports[j++]);
                c = -1;
            }
        }
        all[k++] = c < 0 ? head->reports[i++] : settled->reports[j++];
    }
    free(head->reports);
    head->reports = all;
    head->n_reports = k;
    head->cap_reports = n + 1;
    head->settled_before = 0;
    head->settled_as_of = 0;
    head->n_settled = 0;
    settled->n_reports = 0; /* its reports are head's now */
    cfd_city_state_destroy(settled);
    /* What the whole state's pruning dropped since the split (at its own time, which
     * is still this one: the reports to merge come after). */
    cfd_city_prune(head);
}

/* Moves the reports of st before cut, out of the open incident, into a new state of
 * its key (returned), and records them as its settled part. */
static cfd_city_state *split(cfd_city_state *st, int64_t cut)
{
    cfd_city_state *settled = cfd_city_state_new();
    size_t kept = 0;
    int64_t latest = 0; /* the moved reports' latest report or end */

    settled->city = cfd_text_dup(st->city);
    settled->service = cfd_text_dup(st->service);
    settled->reports = cfd_xcalloc(st->n_reports + 1, sizeof(*settled->reports));
    settled->cap_reports = st->n_reports + 1;
    for (size_t i = 0; i < st->n_reports; i++) {
        cfd_city_report *r = &st->reports[i];

        if (settles(st, r, cut)) {
            if (r->reported_at_ms > latest)
                latest = r->reported_at_ms;
            if (r->ended_at_ms > latest)
                latest = r->ended_at_ms;
            settled->reports[settled->n_reports++] = *r; /* still sorted */
        } else {
            st->reports[kept++] = *r;
        }
    }
    st->n_reports = kept;
    st->n_settled += (uint32_t)settled->n_reports;
    if (latest > st->settled_as_of)
        st->settled_as_of = latest;
    if (cut > st->settled_before)
        st->settled_before = cut;
    return settled;
}

cfd_city_state *cfd_city_settle(cfd_city_state *head, bool joined, bool *rewrite)
{
    *rewrite = false;
    if (!joined && head->n_settled > 0)
        return NULL; /* only a whole state is split */
    int64_t cut = settle_cut(head, joined);
    *rewrite = cut != 0 || joined;
    if (!cut)
        return NULL;
    cfd_city_state *settled = split(head, cut);
    if (settled->n_reports == 0) {
        cfd_city_state_destroy(settled);
        return NULL;
    }
    return settled;
}

/*
 * The worker's HTTP endpoints on real parts: a worker with metrics.listen set, fed a
 * small scenario, scraped over HTTP; /metrics parsed as the Prometheus text format
 * (every line, HELP and TYPE included), /readyz before and after the assignment.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_events.h"
#include "harness_http.h"
#include "harness_orders.h"

#define T0 H_T0

/* --- a Prometheus text-format parser ------------------------------------------------- */

#define MAX_LABELS 4

typedef struct sample {
    char name[128];
    int n_labels;
    char label[MAX_LABELS][2][128]; /* name, value (unescaped) */
    double value;
} sample;

typedef struct family {
    char name[128];
    char type[16]; /* "" until a TYPE line */
    bool help;
    bool has_samples;
} family;

typedef struct scrape {
    sample samples[512];
    int n_samples;
    family families[64];
    int n_families;
} scrape;

static bool name_char(int c, bool first)
{
    return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* Reads a metric or label name at *p into out. @returns false when there is none. */
static bool parse_name(const char **p, char *out, size_t size, bool metric)
{
    size_t n = 0;
    if (!name_char((unsigned char)**p, true) || (!metric && **p == ':'))
        return false;
    while (name_char((unsigned char)**p, false) && (metric || **p != ':')) {
        if (n + 1 >= size)
            return false;
        out[n++] = *(*p)++;
    }
    out[n] = '\0';
    return true;
}

/* A sample value: a float, +Inf, -Inf or NaN, and nothing after it but an optional
 * timestamp (an integer). */
static bool parse_value(const char *p, double *out)
{
    char *end;
    if (strncmp(p, "+Inf", 4) == 0 || strncmp(p, "-Inf", 4) == 0 ||
        strncmp(p, "NaN", 3) == 0) {
        *out = strtod(p, &end);
    } else {
        errno = 0;
        *out = strtod(p, &end);
        if (end == p || errno)
            return false;
    }
    if (*end == ' ') {
        const char *ts = end + 1;
        if (*ts == '-')
            ts++;
        if (!isdigit((unsigned char)*ts))
            return false;
        while (isdigit((unsigned char)*ts))
            ts++;
        end = (char *)ts;
    }
    return *end == '\0';
}

static family *family_get(scrape *s, const char *name)
{
    for (int i = 0; i < s->n_families; i++)
        if (strcmp(s->families[i].name, name) == 0)
            return &s->families[i];
    if (s->n_families == (int)(sizeof(s->families) / sizeof(s->families[0])))
        return NULL;
    family *f = &s->families[s->n_families++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    return f;
}

/* The family a sample name belongs to: a histogram's _bucket, _sum and _count are its
 * own family's. */
static family *family_of(scrape *s, const char *sample_name)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(sample_name), k = strlen(suffixes[i]);
        if (n > k && strcmp(sample_name + n - k, suffixes[i]) == 0) {
            char base[128];
            snprintf(base, sizeof(base), "%.*s", (int)(n - k), sample_name);
            for (int j = 0; j < s->n_families; j++)
                if (strcmp(s->families[j].name, base) == 0 &&
                    strcmp(s->families[j].type, "histogram") == 0)
                    return &s->families[j];
        }
    }
    for (int j = 0; j < s->n_families; j++)
        if (strcmp(s->families[j].name, sample_name) == 0)
            return &s->families[j];
    return NULL;
}

/* Parses one line into s. @returns NULL, or what is wrong with it. */
static const char *parse_line(scrape *s, const char *line)
{
    char name[128];
    const char *p = line;
    if (*p == '\0')
        return NULL;
    if (*p == '#') {
        bool help = strncmp(p, "# HELP ", 7) == 0, type = strncmp(p, "# TYPE ", 7) == 0;
        if (!help && !type)
            return NULL; /* a comment */
        p += 7;
        if (!parse_name(&p, name, sizeof(name), true) || *p != ' ')
            return "HELP/TYPE without a metric name";
        family *f = family_get(s, name);
        if (!f)
            return "too many families";
        if (help) {
            if (f->help)
                return "second HELP";
            f->help = true;
            return NULL;
        }
        static const char *const types[] = {"counter", "gauge", "histogram", "summary",
                                            "untyped"};
        if (*f->type || f->has_samples)
            return "TYPE again, or after the family's samples";
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(p + 1, types[i]) == 0)
                snprintf(f->type, sizeof(f->type), "%s", types[i]);
        return *f->type ? NULL : "unknown TYPE";
    }
    if (s->n_samples == (int)(sizeof(s->samples) / sizeof(s->samples[0])))
        return "too many samples";
    sample *sm = &s->samples[s->n_samples];
    memset(sm, 0, sizeof(*sm));
    if (!parse_name(&p, sm->name, sizeof(sm->name), true))
        return "no metric name";
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (sm->n_labels == MAX_LABELS)
                return "too many labels";
            char *ln = sm->label[sm->n_labels][0], *lv = sm->label[sm->n_labels][1];
            size_t n = 0;
            if (!parse_name(&p, ln, 128, false) || *p++ != '=' || *p++ != '"')
                return "bad label";
            while (*p != '"') {
                char c = *p++;
                if (c == '\0' || c == '\n')
                    return "unterminated label value";
                if (c == '\\') {
                    c = *p++;
                    if (c == 'n')
                        c = '\n';
                    else if (c != '\\' && c != '"')
                        return "bad escape in a label value";
                }
                if (n + 1 >= 128)
                    return "label value too long";
                lv[n++] = c;
            }
            lv[n] = '\0';
            p++;
            sm->n_labels++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return "expected , or } after a label";
        }
        p++;
    }
    if (*p++ != ' ')
        return "no space before the value";
    if (!parse_value(p, &sm->value))
        return "bad value";
    family *f = family_of(s, sm->name);
    if (!f || !*f->type || !f->help)
        return "a sample without its family's HELP and TYPE before it";
    f->has_samples = true;
    s->n_samples++;
    return NULL;
}

/* Parses a whole exposition. @returns NULL, or "line N: what" in err. */
static const char *parse_scrape(scrape *s, const char *text, char *err, size_t err_size)
{
    memset(s, 0, sizeof(*s));
    int lineno = 0;
    while (*text) {
        const char *nl = strchr(text, '\n');
        char line[1024];
        lineno++;
        if (!nl) {
            snprintf(err, err_size, "line %d: not terminated by a newline", lineno);
            return err;
        }
        if ((size_t)(nl - text) >= sizeof(line)) {
            snprintf(err, err_size, "line %d: too long", lineno);
            return err;
        }
        snprintf(line, sizeof(line), "%.*s", (int)(nl - text), text);
        const char *why = parse_line(s, line);
        if (why) {
            snprintf(err, err_size, "line %d: %s: %s", lineno, why, line);
            return err;
        }
        text = nl + 1;
    }
    return NULL;
}

/* The sum of name's samples whose labels include label=value (label NULL: all);
 * -1 when there is none. */
static double sum_of(const scrape *s, const char *name, const char *label,
                     const char *value)
{
    double sum = -1;
    for (int i = 0; i < s->n_samples; i++) {
        const sample *sm = &s->samples[i];
        if (strcmp(sm->name, name) != 0)
            continue;
        bool match = !label;
        for (int l = 0; l < sm->n_labels && !match; l++)
            match =
                strcmp(sm->label[l][0], label) == 0 && strcmp(sm->label[l][1], value) == 0;
        if (match)
            sum = (sum < 0 ? 0 : sum) + sm->value;
    }
    return sum;
}

static const family *family_find(const scrape *s, const char *name)
{
    for (int i = 0; i < s->n_families; i++)
        if (strcmp(s->families[i].name, name) == 0)
            return &s->families[i];
    return NULL;
}

/* Checks a histogram: buckets cumulative, +Inf equal to _count. @returns its count. */
static double check_histogram(const scrape *s, const char *name)
{
    char bucket[160], count[160];
    double prev = 0, inf = -1;
    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    snprintf(count, sizeof(count), "%s_count", name);
    for (int i = 0; i < s->n_samples; i++) {
        const sample *sm = &s->samples[i];
        if (strcmp(sm->name, bucket) != 0)
            continue;
        assert_int_equal(sm->n_labels, 1);
        assert_string_equal(sm->label[0][0], "le");
        assert_true(sm->value >= prev);
        prev = sm->value;
        if (strcmp(sm->label[0][1], "+Inf") == 0)
            inf = sm->value;
    }
    assert_true(inf >= 0);
    assert_true(inf == sum_of(s, count, NULL, NULL));
    return inf;
}

/* --- tests ----------------------------------------------------------------------------- */

/* The parser itself: what it must refuse, and what it must read. */
static void test_parser(void **state)
{
    static const char *const bad[] = {
        "x 1\n",                                          /* no HELP/TYPE */
        "# HELP x h\n# TYPE x counter\nx{a=\"1} 2\n",     /* unterminated */
        "# HELP x h\n# TYPE x counter\nx{a=1} 2\n",       /* unquoted */
        "# HELP x h\n# TYPE x counter\nx 1 2 3\n",        /* trailing junk */
        "# HELP x h\n# TYPE x counter\nx one\n",          /* not a number */
        "# HELP x h\n# TYPE x counter\nx{a=\"\\q\"} 1\n", /* bad escape */
        "# HELP x h\n# TYPE x countre\n",                 /* unknown type */
        "# HELP x h\n# TYPE x counter\nx 1",              /* no final newline */
        "# HELP x h\n# TYPE x counter\nx 1\n# TYPE x counter\n",
        "# HELP x h\n# TYPE x counter\n9x 1\n",
    };
    scrape *s = malloc(sizeof(*s));
    char err[256];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!parse_scrape(s, bad[i], err, sizeof(err)))
            fail_msg("accepted: %s", bad[i]);
    const char *good = "# a comment\n# HELP h_s a histogram\n# TYPE h_s histogram\n"
                       "h_s_bucket{le=\"0.5\"} 1\nh_s_bucket{le=\"+Inf\"} 2\nh_s_sum 0.7\n"
                       "h_s_count 2\n# HELP c_total c\n# TYPE c_total counter\n"
                       "c_total{a=\"q\\\"\\\\\\n\",b=\"2\"} 3 1700000000000\n";
    if (parse_scrape(s, good, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(s->n_samples, 5);
    assert_string_equal(s->samples[4].label[0][1], "q\"\\\n");
    assert_true(sum_of(s, "c_total", "b", "2") == 3);
    assert_true(check_histogram(s, "h_s") == 2);
    free(s);
}

/* Starts a worker serving its metrics on a free port and waits until /healthz answers
 * 200. @returns the port. */
static int worker_with_metrics(h_env *env)
{
    int port = h_free_port();
    char listen[64];
    assert_true(port > 0);
    snprintf(listen, sizeof(listen), "metrics.listen=127.0.0.1:%d", port);
    const char *const extra[] = {listen, NULL};
    assert_true(h_worker_start(env, extra) > 0);
    h_http_reply r = h_http_wait(port, "/healthz", 0, 10000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    h_http_reply_free(&r);
    return port;
}

static void test_scrape(void **state)
{
    h_env *env = *state;
    char err[512];
    /* Alive at once; not ready before its partitions are assigned (that takes the
     * group's join, seconds behind the embedded broker). */
    int port = worker_with_metrics(env);
    h_http_reply r = h_http_request(port, "GET", "/readyz");
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "not ready: "));
    assert_non_null(strchr(r.body, '\n'));
    assert_ptr_equal(strchr(r.body, '\n') + 1, r.body + strlen(r.body)); /* one line */
    h_http_reply_free(&r);

    /* Two orders (one late: a breach), garbage (a dead letter), a replay, and an order
     * accepted long ago and left open: its SLA timers are overdue, so they fire. */
    h_send_full_order(env, "WO-M1", "TIER_AAA", 1, T0, 50);
    h_send_full_order(env, "WO-M2", "TIER_AA", 0, T0, 160);
    assert_int_equal(h_produce(env, "confirmd.events", "WO-M3", "\xff\x01garbage", 9), 0);
    h_send_full_order(env, "WO-M1", "TIER_AAA", 1, T0, 50);
    h_send_report(env, "WO-M4", "WO-M4-rep", T0, "TIER_AA", 0);
    h_send_ms(env, "WO-M4", "WO-M4-acc", T0 + H_MIN, "accepted",
              "{\"operator_id\":\"op7\"}");
    /* A province-level customer's line fully down since T0: a severe fault (an
     * Incident) once 30 min passed. And an order accepted now: its contact deadline,
     * a timer still pending. */
    h_send_json(env,
                "{\"event_id\":\"WO-M5-rep\",\"work_order\":\"WO-M5\",\"source\":"
                "\"SOURCE_CUSTOMER\",\"event_time_ms\":%lld,\"fault_report\":{\"customer\":"
                "{\"name\":\"Bank\",\"city\":\"Chongqing\",\"customer_id\":\"K-M5\","
                "\"importance\":\"IMPORTANCE_PROVINCE_LEVEL\"},\"network\":{\"circuit_id\":"
                "\"CQ-M5\"},\"problem_description\":\"line down\",\"full_interruption\":"
                "true}}",
                (long long)T0);
    int64_t wall = (int64_t)time(NULL) * 1000;
    h_send_report(env, "WO-M6", "WO-M6-rep", wall, "TIER_AAA", 0);
    h_send_ms(env, "WO-M6", "WO-M6-acc", wall, "accepted", "{}");

    r = h_http_wait(port, "/readyz", 200, 30000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ready\n");
    h_http_reply_free(&r);

    /* Scrape until the scenario is all counted (the worker publishes once per loop). */
    scrape *s = malloc(sizeof(*s));
    int64_t until = h_now_ms() + 30000;
    for (;;) {
        r = h_http_request(port, "GET", "/metrics");
        assert_int_equal(r.status, 200);
        if (parse_scrape(s, r.body, err, sizeof(err)))
            fail_msg("/metrics does not parse: %s", err);
        bool done = sum_of(s, "confirmd_records_completed_total", NULL, NULL) >= 2 &&
                    sum_of(s, "confirmd_events_duplicate_total", NULL, NULL) >= 9 &&
                    sum_of(s, "confirmd_dead_letters_total", NULL, NULL) >= 1 &&
                    sum_of(s, "confirmd_timer_lateness_seconds_count", NULL, NULL) >= 1 &&
                    sum_of(s, "confirmd_incidents_total", NULL, NULL) >= 1 &&
                    sum_of(s, "confirmd_records_open", NULL, NULL) >= 3 &&
                    sum_of(s, "confirmd_timers_pending", NULL, NULL) >= 1;
        if (done || h_now_ms() >= until)
            break;
        h_http_reply_free(&r);
        usleep(100 * 1000);
    }

    /* Every family, with its type. */
    static const struct {
        const char *name, *type;
    } families[] = {
        {"confirmd_events_consumed_total", "counter"},
        {"confirmd_events_applied_total", "counter"},
        {"confirmd_events_duplicate_total", "counter"},
        {"confirmd_events_parked_total", "counter"},
        {"confirmd_dead_letters_total", "counter"},
        {"confirmd_alerts_total", "counter"},
        {"confirmd_records_completed_total", "counter"},
        {"confirmd_batches_total", "counter"},
        {"confirmd_redis_retries_total", "counter"},
        {"confirmd_unreadable_states_total", "counter"},
        {"confirmd_rebalances_total", "counter"},
        {"confirmd_partitions_owned", "gauge"},
        {"confirmd_outputs_undelivered", "gauge"},
        {"confirmd_consumer_lag_messages", "gauge"},
        {"confirmd_redis_commit_duration_seconds", "histogram"},
        {"confirmd_timer_lateness_seconds", "histogram"},
        {"confirmd_incidents_total", "counter"},
        {"confirmd_fencing_events_total", "counter"},
        {"confirmd_records_open", "gauge"},
        {"confirmd_timers_pending", "gauge"},
        {"confirmd_producer_delivery_duration_seconds", "histogram"},
        {"confirmd_redis_round_trip_duration_seconds", "histogram"},
    };
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        const family *f = family_find(s, families[i].name);
        if (!f)
            fail_msg("no family %s in:\n%s", families[i].name, r.body);
        assert_true(f->help);
        assert_string_equal(f->type, families[i].type);
        assert_true(f->has_samples);
    }

    /* The scenario's figures, and totals that agree with each other. */
    double consumed = sum_of(s, "confirmd_events_consumed_total", NULL, NULL);
    double consumed_events =
        sum_of(s, "confirmd_events_consumed_total", "topic", "confirmd.events");
    double applied = sum_of(s, "confirmd_events_applied_total", NULL, NULL);
    double dups = sum_of(s, "confirmd_events_duplicate_total", NULL, NULL);
    double dls = sum_of(s, "confirmd_dead_letters_total", NULL, NULL);
    assert_true(consumed_events == 33); /* 9 + 9 + 1 + 9 again + 2 + 1 + 2 */
    assert_true(consumed >= consumed_events);
    assert_true(applied == 23);
    assert_true(dups == 9);
    assert_true(
        sum_of(s, "confirmd_dead_letters_total", "reason", "DEAD_LETTER_UNDECODABLE") == 1);
    assert_true(dls == 1);
    assert_true(applied + dups + dls <= consumed);
    assert_true(sum_of(s, "confirmd_records_completed_total", NULL, NULL) == 2);
    assert_true(sum_of(s, "confirmd_alerts_total", NULL, NULL) >= 3); /* + WO-M4's */
    double batches = sum_of(s, "confirmd_batches_total", NULL, NULL);
    assert_true(batches >= 1);
    assert_true(sum_of(s, "confirmd_rebalances_total", "event", "assign") >= 1);
    assert_true(sum_of(s, "confirmd_partitions_owned", NULL, NULL) == 8);
    assert_true(sum_of(s, "confirmd_unreadable_states_total", NULL, NULL) == 0);
    assert_true(sum_of(s, "confirmd_outputs_undelivered", NULL, NULL) >= 0);
    assert_true(sum_of(s, "confirmd_consumer_lag_messages", "topic", "confirmd.events") >=
                0);
    assert_true(check_histogram(s, "confirmd_redis_commit_duration_seconds") >= batches);
    assert_true(check_histogram(s, "confirmd_timer_lateness_seconds") >= 1);
    /* Alerts by kind, metric and level: WO-M2's late arrival is a breach of the on-site
     * duty, WO-M4's overdue duties breaches then escalations; WO-M5's severe fault an SMS
     * alert about the whole order. */
    assert_true(sum_of(s, "confirmd_alerts_total", "kind", "ALERT_KIND_BREACH") >= 1);
    assert_true(sum_of(s, "confirmd_alerts_total", "metric", "METRIC_ON_SITE") >= 1);
    assert_true(sum_of(s, "confirmd_alerts_total", "kind", "ALERT_KIND_SEVERE_FAULT") == 1);
    assert_true(
        sum_of(s, "confirmd_alerts_total", "level", "RECIPIENT_DEPARTMENT_LEADER") >=
        1); /* a breach: the third step of the default chain */
    assert_true(sum_of(s, "confirmd_alerts_total", "kind", "ALERT_KIND_ESCALATION") >= 1);
    assert_true(sum_of(s, "confirmd_incidents_total", "status", "INCIDENT_STATUS_OPEN") ==
                1);
    assert_true(sum_of(s, "confirmd_incidents_total", "kind",
                       "INCIDENT_KIND_IMPORTANT_CUSTOMER_INTERRUPTION") >= 1);
    /* The worker claimed its 8 partitions, fencing whoever held them before. */
    assert_true(sum_of(s, "confirmd_fencing_events_total", "event", "claim") == 8);
    assert_true(sum_of(s, "confirmd_fencing_events_total", "event", "fenced") == 0);
    /* Open in the store: WO-M4 (AA), WO-M5 (not tiered), WO-M6 (AAA); WO-M6's contact
     * deadline is still ahead. */
    assert_true(sum_of(s, "confirmd_records_open", "tier", "TIER_AA") == 1);
    assert_true(sum_of(s, "confirmd_records_open", "tier", "TIER_AAA") == 1);
    assert_true(sum_of(s, "confirmd_records_open", "tier", "TIER_UNSPECIFIED") == 1);
    assert_true(sum_of(s, "confirmd_timers_pending", NULL, NULL) >= 1);
    assert_true(check_histogram(s, "confirmd_producer_delivery_duration_seconds") >= 1);
    assert_true(check_histogram(s, "confirmd_redis_round_trip_duration_seconds") >=
                batches);
    h_http_reply_free(&r);
    free(s);

    /* Anything else is refused. */
    r = h_http_request(port, "GET", "/nope");
    assert_int_equal(r.status, 404);
    h_http_reply_free(&r);
    r = h_http_request(port, "POST", "/metrics");
    assert_int_equal(r.status, 405);
    h_http_reply_free(&r);
}

/* While Redis is away the worker is alive but not ready, and says why; ready again
 * once Redis is back. */
static void test_not_ready_without_redis(void **state)
{
    h_env *env = *state;
    int port = worker_with_metrics(env);
    h_http_reply r = h_http_wait(port, "/readyz", 200, 30000);
    assert_int_equal(r.status, 200);
    h_http_reply_free(&r);

    assert_int_equal(h_redis_stop(env), 0);
    r = h_http_wait(port, "/readyz", 503, 30000);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "not ready: redis did not answer the worker's last call\n");
    h_http_reply_free(&r);
    r = h_http_request(port, "GET", "/healthz");
    assert_int_equal(r.status, 200);
    h_http_reply_free(&r);

    assert_int_equal(h_redis_start(env), 0);
    r = h_http_wait(port, "/readyz", 200, 30000);
    assert_int_equal(r.status, 200);
    h_http_reply_free(&r);
    r = h_http_request(port, "GET", "/metrics");
    scrape *s = malloc(sizeof(*s));
    char err[512];
    if (parse_scrape(s, r.body, err, sizeof(err)))
        fail_msg("/metrics does not parse: %s", err);
    assert_true(sum_of(s, "confirmd_redis_retries_total", NULL, NULL) >= 1);
    free(s);
    h_http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser),
        cmocka_unit_test_setup_teardown(test_scrape, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_not_ready_without_redis, h_setup_redis_broker,
                                        h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

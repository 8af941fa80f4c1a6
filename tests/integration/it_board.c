/*
 * The NOC wallboard on real parts: a worker with metrics.listen set, fed the
 * scenario of h_send_open_orders() on the simulated clock. GET /api/board is checked
 * at three instants (the right orders, levels, order of urgency, breaches and
 * escalations, today's compliance, no customer data); /api/board/events is read raw
 * (events parsed, a breach pushed within a second, the streams bounded, /metrics
 * answered meanwhile); then the page is opened in headless Chromium, driven over its
 * DevTools pipe: it must be on the event stream, and a breach that happens after the
 * page loaded must appear in its DOM without a reload, within a second. The DOM and a screenshot
 * are kept under the build tree (test-artifacts/). Without chromium the page test is
 * skipped and the program exits 77.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_events.h"
#include "harness_http.h"
#include "harness_orders.h"

#define T0 H_T0 /* 2025-11-25T12:00:00+08:00 */
#define MIN H_MIN
#define ARTIFACTS CFD_BIN_DIR "/test-artifacts"

static bool chromium_missing;

/* Starts a worker on the simulated clock (at T0 + 1 min) serving the board on a free
 * port, feeds h_send_open_orders() and waits until the board shows it all applied.
 * @returns the port; the worker's pid in *pid unless pid is NULL. */
static int feed(h_env *env, pid_t *pid)
{
    static char listen[64];
    int port = h_free_port();
    assert_true(port > 0);
    snprintf(listen, sizeof(listen), "metrics.listen=127.0.0.1:%d", port);
    const char *extra[] = {"worker.clock=simulated", listen, NULL};
    assert_int_equal(h_set_sim_clock(env, T0 + MIN), 0);
    pid_t worker = h_worker_start(env, extra);
    assert_true(worker > 0);
    if (pid)
        *pid = worker;
    h_http_reply r = h_http_wait(port, "/healthz", 200, 10000);
    assert_int_equal(r.status, 200);
    h_http_reply_free(&r);
    h_send_open_orders(env);
    return port;
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no %s in %s", key, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no %s in %s", key, json_object_to_json_string(o));
    return json_object_get_string(v);
}

static json_object *jarr(json_object *o, const char *key)
{
    json_object *v;
    assert_true(json_object_object_get_ex(o, key, &v));
    assert_true(json_object_is_type(v, json_type_array));
    return v;
}

/* GET /api/board until its clock reads now_ms and cond holds (30 s at most).
 * @returns the board (the caller puts it). */
static json_object *board_at(int port, int64_t now_ms, bool (*cond)(json_object *))
{
    int64_t until = h_now_ms() + 30000;
    for (;;) {
        h_http_reply r = h_http_request(port, "GET", "/api/board");
        json_object *doc = r.status == 200 ? json_tokener_parse(r.body) : NULL;
        if (doc && jint(doc, "now_ms") == now_ms && (!cond || cond(doc))) {
            assert_null(strstr(r.body, H_CUSTOMER_NAME));
            assert_null(strstr(r.body, H_CUSTOMER_CONTACT));
            assert_null(strstr(r.body, H_CUSTOMER_PHONE));
            assert_null(strstr(r.body, H_CUSTOMER_ADDRESS));
            h_http_reply_free(&r);
            return doc;
        }
        if (h_now_ms() >= until)
            fail_msg("/api/board never showed the clock at %lld: %d %s", (long long)now_ms,
                     r.status, r.body);
        json_object_put(doc);
        h_http_reply_free(&r);
        usleep(100 * 1000);
    }
}

/* Both open orders owe a timed duty (WO-C1's contact met: its arrival is next). */
static bool both_open(json_object *doc)
{
    json_object *open = jarr(doc, "open");
    return json_object_array_length(open) == 2 &&
           strcmp(jstr(json_object_array_get_idx(open, 1), "metric"), "METRIC_ON_SITE") ==
               0;
}

/* The board lists two open incidents: WO-S1's and the city's. */
static bool has_incidents(json_object *doc)
{
    return json_object_array_length(jarr(doc, "incidents")) == 2;
}

static json_object *row(json_object *doc, const char *key, size_t i)
{
    json_object *arr = jarr(doc, key);
    if (i >= json_object_array_length(arr))
        fail_msg("no %s[%zu] in %s", key, i, json_object_to_json_string(doc));
    return json_object_array_get_idx(arr, i);
}

/* The count of today's duties of tier and metric that were met (which 0) or breached. */
static int64_t compliance(json_object *doc, const char *tier, const char *metric,
                          const char *which)
{
    json_object *arr = jarr(doc, "compliance");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        if (strcmp(jstr(c, "tier"), tier) == 0 && strcmp(jstr(c, "metric"), metric) == 0)
            return jint(c, which);
    }
    return 0;
}

static void test_api(void **state)
{
    h_env *env = *state;
    int port = feed(env, NULL);

    /* T0 + 20 min: nothing late; WO-C2's contact (T0 + 31 min) before WO-C1's arrival. */
    assert_int_equal(h_set_sim_clock(env, T0 + 20 * MIN), 0);
    int64_t c1_next = h_wait_timer_after(env, "WO-C1", T0 + 20 * MIN);
    int64_t c2_next = h_wait_timer_after(env, "WO-C2", T0 + 20 * MIN);
    json_object *doc = board_at(port, T0 + 20 * MIN, both_open);
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
    json_object *o = row(doc, "open", 0);
    h_assert_next_duty(o, "WO-C2", "METRIC_CONTACT", T0 + 31 * MIN, 11 * MIN, c2_next);
    assert_string_equal(jstr(o, "tier"), "TIER_AA");
    assert_string_equal(jstr(o, "level"), "warning"); /* its first warning was sent */
    o = row(doc, "open", 1);
    assert_string_equal(jstr(o, "work_order"), "WO-C1");
    assert_string_equal(jstr(o, "level"), "on_time");
    assert_int_equal(jint(o, "deadline_ms"), T0 + 61 * MIN);
    assert_int_equal(jint(o, "next_sla_ms"), c1_next);
    assert_string_equal(jstr(o, "contractor"), "Acme Maintenance");
    assert_string_equal(jstr(o, "city"), "Chongqing");
    assert_int_equal(json_object_array_length(jarr(doc, "breaches")), 0);
    assert_int_equal(json_object_array_length(jarr(doc, "severe_faults")), 0);
    assert_int_equal(json_object_array_length(jarr(doc, "incidents")), 0);
    assert_int_equal(jint(doc, "day_start_ms"), T0 - 12 * 60 * MIN); /* Shanghai */
    json_object_put(doc);

    /* T0 + 40 min: WO-C2's contact is overdue and the breach was sent: first, breached. */
    assert_int_equal(h_set_sim_clock(env, T0 + 40 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 40 * MIN);
    doc = board_at(port, T0 + 40 * MIN, NULL);
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
    o = row(doc, "open", 0);
    assert_string_equal(jstr(o, "work_order"), "WO-C2");
    assert_string_equal(jstr(o, "level"), "breached");
    assert_string_equal(jstr(o, "duty_state"), "OVERDUE");
    assert_int_equal(jint(o, "left_ms"), -9 * MIN);
    assert_int_equal(json_object_array_length(jarr(doc, "breaches")), 1);
    o = row(doc, "breaches", 0);
    assert_string_equal(jstr(o, "work_order"), "WO-C2");
    assert_string_equal(jstr(o, "kind"), "OVERDUE");
    assert_string_equal(jstr(o, "metric"), "METRIC_CONTACT");
    assert_string_equal(jstr(o, "last_alert"), "BREACH");
    assert_int_equal(jint(o, "late_ms"), 9 * MIN);
    assert_string_equal(jstr(o, "tier"), "TIER_AA");
    json_object_put(doc);

    /* T0 + 62 min: WO-C2 escalated, WO-C1 missed its arrival: both in that order. */
    assert_int_equal(h_set_sim_clock(env, T0 + 62 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 62 * MIN);
    h_wait_timer_after(env, "WO-C1", T0 + 62 * MIN);
    doc = board_at(port, T0 + 62 * MIN, NULL);
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
    assert_string_equal(jstr(row(doc, "open", 0), "work_order"), "WO-C2");
    assert_string_equal(jstr(row(doc, "open", 0), "level"), "escalated");
    assert_string_equal(jstr(row(doc, "open", 1), "work_order"), "WO-C1");
    assert_string_equal(jstr(row(doc, "open", 1), "level"), "breached");
    assert_int_equal(json_object_array_length(jarr(doc, "breaches")), 2);
    o = row(doc, "breaches", 0);
    assert_string_equal(jstr(o, "work_order"), "WO-C2");
    assert_string_equal(jstr(o, "last_alert"), "ESCALATION_1");
    assert_true(json_object_get_boolean(json_object_object_get(o, "escalated")));
    o = row(doc, "breaches", 1);
    assert_string_equal(jstr(o, "work_order"), "WO-C1");
    assert_string_equal(jstr(o, "metric"), "METRIC_ON_SITE");
    assert_string_equal(jstr(o, "contractor"), "Acme Maintenance");
    /* Today's duties that ended: both contacts of the AAA orders met, WO-C2's missed;
     * WO-C1's arrival and closed WO-C3's late one breached. */
    assert_int_equal(compliance(doc, "TIER_AAA", "METRIC_CONTACT", "met"), 2);
    assert_int_equal(compliance(doc, "TIER_AA", "METRIC_CONTACT", "breached"), 1);
    assert_int_equal(compliance(doc, "TIER_AAA", "METRIC_ON_SITE", "breached"), 2);
    json_object_put(doc);

    /* The page and its files, embedded in the binary. */
    static const struct {
        const char *path;
        int status;
        const char *needle;
    } gets[] = {
        {"/board", 200, "<script src=\"/board.js\">"},
        {"/", 200, "<link rel=\"stylesheet\" href=\"/board.css\">"},
        {"/board.css", 200, "tr.breached"},
        {"/board.js", 200, "/api/board"},
        {"/nope", 404, "/api/board"},
    };
    for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
        h_http_reply r = h_http_request(port, "GET", gets[i].path);
        assert_int_equal(r.status, gets[i].status);
        if (!strstr(r.body, gets[i].needle))
            fail_msg("GET %s: no %s in %s", gets[i].path, gets[i].needle, r.body);
        h_http_reply_free(&r);
    }
    assert_int_equal(h_pii_hits(h_worker_log_path(env, 0)), 0);
}

/* --- the event stream ---------------------------------------------------------------- */

#define STREAM_MAX 8 /* CFD_BOARD_STREAM_MAX (src/app/board_stream.h) */

/* An open /api/board/events and what was read of it and not parsed yet. */
typedef struct sse {
    int fd;
    char buf[1 << 16];
    size_t len;
} sse;

static void sse_open(sse *e, int port)
{
    int status = 0;
    e->len = 0;
    e->fd = h_http_stream_open(port, "/api/board/events", &status);
    assert_true(e->fd >= 0);
    assert_int_equal(status, 200);
}

/* Reads events until one named name comes (timeout_ms at most), as the standard
 * says: "field: value" lines, a blank line ends the event, ":" starts a comment.
 * @returns its data (malloc'd) with its id in *id, or NULL on timeout or at the end of
 * the stream. */
static char *sse_next(sse *e, const char *name, uint64_t *id, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    for (;;) {
        char *end = e->len ? strstr(e->buf, "\n\n") : NULL;
        while (end) {
            char event[64] = "message", *data = NULL;
            *end = '\0';
            for (char *save = NULL, *line = strtok_r(e->buf, "\n", &save); line;
                 line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "event: ", 7) == 0)
                    snprintf(event, sizeof(event), "%s", line + 7);
                else if (strncmp(line, "data: ", 6) == 0)
                    data = strdup(line + 6);
                else if (strncmp(line, "id: ", 4) == 0)
                    *id = strtoull(line + 4, NULL, 10);
                else if (line[0] != ':' && strncmp(line, "retry: ", 7) != 0)
                    fail_msg("not an event stream line: %s", line);
            }
            size_t used = (size_t)(end + 2 - e->buf);
            memmove(e->buf, end + 2, e->len - used + 1);
            e->len -= used;
            if (data && strcmp(event, name) == 0)
                return data;
            free(data);
            end = e->len ? strstr(e->buf, "\n\n") : NULL;
        }
        int left = (int)(until - h_now_ms());
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return NULL;
        ssize_t got = read(e->fd, e->buf + e->len, sizeof(e->buf) - e->len - 1);
        if (got <= 0) /* the stream ended */
            return NULL;
        e->len += (size_t)got;
        e->buf[e->len] = '\0';
    }
}

/* The next board of e whose clock reads now_ms and that has n breaches. */
static json_object *sse_board(sse *e, int64_t now_ms, size_t n_breaches, uint64_t *id)
{
    int64_t until = h_now_ms() + 30000;
    while (h_now_ms() < until) {
        char *data = sse_next(e, "board", id, 30000);
        assert_non_null(data);
        json_object *doc = json_tokener_parse(data);
        free(data);
        assert_non_null(doc);
        if (jint(doc, "now_ms") == now_ms &&
            json_object_array_length(jarr(doc, "breaches")) == n_breaches)
            return doc;
        json_object_put(doc);
    }
    fail_msg("no board at %lld with %zu breaches on the stream", (long long)now_ms,
             n_breaches);
    return NULL;
}

/* The raw stream: events parsed as the standard says, a new board pushed within a
 * second of a breach, at most STREAM_MAX streams, and /metrics, /readyz and
 * /api/board still answered while they are connected. */
static void test_stream(void **state)
{
    h_env *env = *state;
    pid_t worker;
    int port = feed(env, &worker);
    assert_int_equal(h_set_sim_clock(env, T0 + 20 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 20 * MIN);

    sse streams[STREAM_MAX];
    uint64_t id = 0, first_id;
    sse_open(&streams[0], port);
    json_object *doc = sse_board(&streams[0], T0 + 20 * MIN, 0, &id);
    assert_int_equal(json_object_array_length(jarr(doc, "open")), 2);
    json_object_put(doc);
    assert_true(id > 0);
    first_id = id;

    for (int i = 1; i < STREAM_MAX; i++)
        sse_open(&streams[i], port);
    int status = 0;
    int extra = h_http_stream_open(port, "/api/board/events", &status);
    assert_int_equal(status, 503);
    close(extra);
    int64_t t = h_now_ms();
    for (int k = 0; k < 3; k++) {
        h_http_reply r = h_http_request(port, "GET", "/metrics");
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "# TYPE"));
        h_http_reply_free(&r);
        r = h_http_request(port, "GET", "/readyz");
        assert_int_equal(r.status, 200);
        h_http_reply_free(&r);
    }
    printf("3 x /metrics and /readyz with %d board streams open: %lld ms\n", STREAM_MAX,
           (long long)(h_now_ms() - t));
    h_http_reply r = h_http_request(port, "GET", "/api/board");
    assert_int_equal(r.status, 200);
    h_http_reply_free(&r);

    /* The breach: on every stream within a second of its alert. */
    assert_int_equal(h_set_sim_clock(env, T0 + 40 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 40 * MIN);
    t = h_now_ms();
    doc = sse_board(&streams[0], T0 + 40 * MIN, 1, &id);
    int64_t took = h_now_ms() - t;
    printf("breach on the stream %lld ms after the worker applied it\n", (long long)took);
    assert_true(took <= 1000);
    assert_true(id > first_id);
    assert_string_equal(jstr(row(doc, "breaches", 0), "work_order"), "WO-C2");
    json_object_put(doc);
    for (int i = 1; i < STREAM_MAX; i++) {
        json_object_put(sse_board(&streams[i], T0 + 40 * MIN, 1, &id));
        close(streams[i].fd);
    }
    /* A stream that closed frees its place. */
    status = 0;
    int64_t until = h_now_ms() + 5000;
    while (status != 200 && h_now_ms() < until) {
        extra = h_http_stream_open(port, "/api/board/events", &status);
        if (extra >= 0)
            close(extra);
        if (status != 200)
            usleep(100 * 1000);
    }
    assert_int_equal(status, 200);

    /* A worker told to stop ends the streams still open and exits cleanly. */
    assert_int_equal(h_worker_kill(env, worker, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, worker, 20000), 0);
    uint64_t none = 0;
    assert_null(sse_next(&streams[0], "board", &none, 5000));
    char byte;
    assert_true(read(streams[0].fd, &byte, 1) <= 0); /* closed */
    close(streams[0].fd);
}

/* --- headless Chromium over its DevTools pipe ----------------------------------------- */

/* A browser started with --remote-debugging-pipe: it reads commands on its fd 3 and
 * writes answers and events on its fd 4, each a JSON text ended by a NUL. */
typedef struct browser {
    pid_t pid;
    int to, from; /* our ends */
    char *buf;    /* what was read and not taken yet */
    size_t len, cap;
    int next_id;
    char session[128];
} browser;

/* @returns chromium's path on PATH, or NULL. */
static const char *chromium_path(void)
{
    static char found[512];
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin"), *save = NULL;
    const char *hit = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !hit; d = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof(found), "%s/chromium", d);
        if (access(found, X_OK) == 0)
            hit = found;
    }
    free(copy);
    return hit;
}

static void browser_start(browser *b, const char *exe, const char *log)
{
    int to[2], from[2];
    memset(b, 0, sizeof(*b));
    assert_int_equal(pipe(to), 0);
    assert_int_equal(pipe(from), 0);
    b->pid = fork();
    assert_true(b->pid >= 0);
    if (b->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        dup2(to[0], 3);
        dup2(from[1], 4);
        for (int i = 5; i < 256; i++)
            close(i);
        execl(exe, exe, "--headless", "--no-sandbox", "--disable-gpu",
              "--remote-debugging-pipe", "--window-size=1600,900", "--hide-scrollbars",
              "--no-first-run", "about:blank", (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    b->to = to[1];
    b->from = from[0];
    b->next_id = 1;
}

/* Reads until a whole message is buffered (timeout_ms at most). @returns it (malloc'd)
 * or NULL. */
static char *browser_read(browser *b, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    for (;;) {
        char *nul = b->len ? memchr(b->buf, '\0', b->len) : NULL;
        if (nul) {
            size_t n = (size_t)(nul - b->buf) + 1;
            char *msg = strdup(b->buf);
            memmove(b->buf, b->buf + n, b->len - n);
            b->len -= n;
            return msg;
        }
        int left = (int)(until - h_now_ms());
        struct pollfd p = {.fd = b->from, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return NULL;
        if (b->len + 65536 > b->cap) {
            b->cap = b->cap ? 2 * b->cap : 1 << 20;
            b->buf = realloc(b->buf, b->cap);
        }
        ssize_t got = read(b->from, b->buf + b->len, b->cap - b->len);
        if (got <= 0)
            return NULL;
        b->len += (size_t)got;
    }
}

/* Sends method with params (JSON text) in the attached session (when any) and waits
 * for its answer. @returns the answer's "result" (the caller puts it). */
static json_object *browser_call(browser *b, const char *method, const char *params)
{
    char head[512];
    int id = b->next_id++;
    int n =
        snprintf(head, sizeof(head), "{\"id\":%d,%s%s%s\"method\":\"%s\",\"params\":", id,
                 b->session[0] ? "\"sessionId\":\"" : "", b->session,
                 b->session[0] ? "\"," : "", method);
    assert_int_equal(write(b->to, head, (size_t)n), n);
    assert_int_equal(write(b->to, params, strlen(params)), (ssize_t)strlen(params));
    assert_int_equal(write(b->to, "}", 2), 2); /* the brace and the NUL that ends it */
    for (;;) {
        char *msg = browser_read(b, 30000);
        if (!msg)
            fail_msg("chromium did not answer %s", method);
        json_object *m = json_tokener_parse(msg), *v;
        free(msg);
        if (m && json_object_object_get_ex(m, "id", &v) && json_object_get_int(v) == id) {
            json_object *result = NULL;
            if (!json_object_object_get_ex(m, "result", &result))
                fail_msg("chromium refused %s: %s", method, json_object_to_json_string(m));
            json_object_get(result);
            json_object_put(m);
            return result;
        }
        json_object_put(m); /* an event */
    }
}

/* Evaluates expression (returning a string) in the page. @returns it (malloc'd). */
static char *browser_eval(browser *b, const char *expression)
{
    json_object *p = json_object_new_object(), *v;
    json_object_object_add(p, "expression", json_object_new_string(expression));
    json_object_object_add(p, "returnByValue", json_object_new_boolean(true));
    json_object *r = browser_call(b, "Runtime.evaluate", json_object_to_json_string(p));
    json_object_put(p);
    char *out = NULL;
    if (json_object_object_get_ex(r, "result", &v) &&
        json_object_object_get_ex(v, "value", &v))
        out = strdup(json_object_get_string(v));
    json_object_put(r);
    return out ? out : strdup("");
}

/* Evaluates expression until its value contains needle (timeout_ms at most).
 * @returns the last value (malloc'd). */
static char *browser_wait(browser *b, const char *expression, const char *needle,
                          int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    for (;;) {
        char *v = browser_eval(b, expression);
        if (strstr(v, needle) || h_now_ms() >= until)
            return v;
        free(v);
        usleep(50 * 1000);
    }
}

static void browser_stop(browser *b)
{
    int st;
    b->session[0] = '\0';
    json_object_put(browser_call(b, "Browser.close", "{}"));
    for (int i = 0; i < 100 && waitpid(b->pid, &st, WNOHANG) == 0; i++)
        usleep(100 * 1000);
    if (waitpid(b->pid, &st, WNOHANG) == 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, &st, 0);
    }
    close(b->to);
    close(b->from);
    free(b->buf);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Decodes base64 text in place. @returns the length of the bytes. */
static size_t base64_decode(char *text)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0, bits = 0;
    uint32_t acc = 0;
    for (const char *p = text; *p && *p != '='; p++) {
        const char *d = strchr(digits, *p);
        if (!d)
            continue;
        acc = acc << 6 | (uint32_t)(d - digits);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            text[n++] = (char)(acc >> bits & 0xff);
        }
    }
    return n;
}

#define OPEN_ROWS "document.getElementById('open').innerHTML"
#define BREACH_ROWS "document.getElementById('breaches').innerHTML"
#define TRANSPORT "document.body.dataset.transport || ''"
#define INCIDENT_ROWS "document.getElementById('incidents').innerHTML"
#define CITY_INCIDENT "INC-Wanzhou|internet|1764043500000" /* third report T0 + 5 min */
#define CITY_ROW "<tr class=\"escalated\" data-incident=\"" CITY_INCIDENT "\">"
#define M4_CLOSED                                                     \
    "<div class=\"member\" data-order=\"WO-M4\"><span class=\"badge " \
    "closed\">closed</span> "                                         \
    "WO-M4</div>"

/* Checks an element of "incidents": its id, kind and rule (without their prefixes),
 * city and service, start (T0), opening, how many work orders it lists, and that it
 * counts in the assessment. */
static void expect_incident(json_object *inc, const char *id, const char *kind,
                            const char *rule, const char *city, const char *service,
                            int64_t opened_ms, size_t n_orders)
{
    char name[128];
    assert_string_equal(jstr(inc, "incident_id"), id);
    snprintf(name, sizeof(name), "INCIDENT_KIND_%s", kind);
    assert_string_equal(jstr(inc, "kind"), name);
    snprintf(name, sizeof(name), "INCIDENT_RULE_%s", rule);
    assert_string_equal(jstr(inc, "rule"), name);
    assert_string_equal(jstr(inc, "city"), city);
    assert_string_equal(jstr(inc, "service"), service);
    assert_int_equal(jint(inc, "started_at_ms"), T0);
    assert_int_equal(jint(inc, "opened_at_ms"), opened_ms);
    assert_false(
        json_object_get_boolean(json_object_object_get(inc, "excluded_from_assessment")));
    assert_int_equal(json_object_array_length(jarr(inc, "work_orders")), n_orders);
}

/* The city incident lists WO-M4 closed: no level. */
static bool m4_closed(json_object *doc)
{
    json_object *arr = jarr(doc, "incidents"), *orders, *level;
    return json_object_array_length(arr) == 2 &&
           json_object_object_get_ex(json_object_array_get_idx(arr, 1), "work_orders",
                                     &orders) &&
           json_object_array_length(orders) == 4 &&
           !json_object_object_get_ex(json_object_array_get_idx(orders, 3), "level",
                                      &level);
}

static void test_page(void **state)
{
    h_env *env = *state;
    const char *exe = chromium_path();
    if (!exe) {
        chromium_missing = true;
        skip();
    }
    char url[128], log[512], params[256], path[512], wo[16];
    int port = feed(env, NULL);
    assert_int_equal(h_set_sim_clock(env, T0 + 20 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 20 * MIN);
    json_object_put(board_at(port, T0 + 20 * MIN, both_open));
    /* An important customer's line down since T0: its incident opens at T0 + 30 min.
     * Four ordinary customers of Wanzhou without internet since T0 ... T0 + 8 min: the
     * third report (T0 + 5 min) opens a city incident after T0 + 35 min. */
    h_send_important_report(env, "WO-S1", "IMPORTANCE_PROVINCE_LEVEL", 0);
    for (int i = 0; i < 4; i++) {
        static const int at[] = {0, 2, 5, 8};
        snprintf(wo, sizeof(wo), "WO-M%d", i + 1);
        h_send_city_report(env, wo, "Wanzhou", T0 + at[i] * MIN);
    }
    assert_true(h_wait_timer(env, "WO-S1") > 0);
    assert_true(h_wait_zset(env, "ctimers", "Wanzhou|internet") == T0 + 35 * MIN + 1);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/board", port);
    snprintf(log, sizeof(log), "%s/chromium.log", h_env_dir(env));
    browser b;
    browser_start(&b, exe, log);
    snprintf(params, sizeof(params), "{\"url\":\"%s\"}", url);
    json_object *r = browser_call(&b, "Target.createTarget", params);
    snprintf(params, sizeof(params), "{\"targetId\":\"%s\",\"flatten\":true}",
             jstr(r, "targetId"));
    json_object_put(r);
    r = browser_call(&b, "Target.attachToTarget", params);
    snprintf(b.session, sizeof(b.session), "%s", jstr(r, "sessionId"));
    json_object_put(r);

    /* Loaded and polling: WO-C2 due in minutes, no breach yet. */
    char *open = browser_wait(&b, OPEN_ROWS, "data-order=\"WO-C2\"", 30000);
    assert_non_null(strstr(open, "data-order=\"WO-C2\""));
    assert_non_null(strstr(open, "data-order=\"WO-C1\""));
    free(open);
    char *before = browser_eval(&b, BREACH_ROWS);
    assert_null(strstr(before, "WO-C2"));
    free(before);
    char *transport = browser_wait(&b, TRANSPORT, "sse", 5000);
    assert_string_equal(transport, "sse"); /* pushed, not polled */
    free(transport);

    /* The breach happens while the page is open: it shows up by itself, within a
     * second of the worker applying it. */
    assert_int_equal(h_set_sim_clock(env, T0 + 40 * MIN), 0);
    h_wait_timer_after(env, "WO-C2", T0 + 40 * MIN);
    int64_t t = h_now_ms();
    char *after = browser_wait(&b, BREACH_ROWS, "data-order=\"WO-C2\"", 30000);
    int64_t took = h_now_ms() - t;
    printf("breach on the page %lld ms after the worker applied it\n", (long long)took);
    assert_true(took <= 1000);
    if (!strstr(after, "<tr class=\"breached\" data-order=\"WO-C2\">"))
        fail_msg("no breach of WO-C2 on the page: %s", after);
    assert_non_null(strstr(after, "contact"));
    free(after);
    open =
        browser_wait(&b, OPEN_ROWS, "<tr class=\"breached\" data-order=\"WO-C2\">", 10000);
    assert_non_null(strstr(open, "<tr class=\"breached\" data-order=\"WO-C2\">"));
    free(open);
    char *status = browser_eval(&b, "document.getElementById('status').textContent");
    assert_string_equal(status, "live");
    free(status);
    transport = browser_eval(&b, TRANSPORT);
    assert_string_equal(transport, "sse");
    free(transport);

    /* The incidents that opened meanwhile, with their work orders and those orders'
     * levels: in the API and on the page. */
    h_wait_timer_after(env, "WO-S1", T0 + 40 * MIN);
    json_object *doc = board_at(port, T0 + 40 * MIN, has_incidents);
    json_object *inc = row(doc, "incidents", 0);
    expect_incident(inc, "INC-WO-S1", "IMPORTANT_CUSTOMER_INTERRUPTION",
                    "IMPORTANT_CUSTOMER", "Chongqing", "internet dedicated line",
                    T0 + 30 * MIN, 1);
    json_object *member = row(inc, "work_orders", 0);
    assert_string_equal(jstr(member, "work_order"), "WO-S1");
    assert_string_equal(jstr(member, "level"), "escalated");
    assert_string_equal(jstr(member, "city"), "Chongqing");
    /* The city's: its key's state, its four orders open and on time. */
    inc = row(doc, "incidents", 1);
    expect_incident(inc, CITY_INCIDENT, "MULTI_CUSTOMER_CITY", "MULTI_CUSTOMER_CITY",
                    "Wanzhou", "internet", T0 + 35 * MIN, 4);
    for (size_t i = 0; i < 4; i++) {
        member = row(inc, "work_orders", i);
        snprintf(wo, sizeof(wo), "WO-M%zu", i + 1);
        assert_string_equal(jstr(member, "work_order"), wo);
        assert_string_equal(jstr(member, "state"), "STATE_REPORTED");
        assert_string_equal(jstr(member, "level"), "on_time");
        assert_string_equal(jstr(member, "city"), "Wanzhou");
    }
    assert_null(strstr(json_object_to_json_string(doc), "超市")); /* no customer's name */
    json_object_put(doc);
    char *incidents = browser_wait(&b, INCIDENT_ROWS, CITY_ROW, 5000);
    if (!strstr(incidents, "data-incident=\"INC-WO-S1\"") ||
        !strstr(incidents, "<div class=\"member\" data-order=\"WO-S1\">"
                           "<span class=\"badge escalated\">escalated</span> WO-S1"))
        fail_msg("no incident INC-WO-S1 with WO-S1 escalated on the page: %s", incidents);
    if (!strstr(incidents, CITY_ROW) || !strstr(incidents, "<td>Wanzhou · internet</td>") ||
        !strstr(incidents, "<div class=\"member\" data-order=\"WO-M4\">"
                           "<span class=\"badge on_time\">on time</span> WO-M4"))
        fail_msg("no city incident with WO-M4 on time on the page: %s", incidents);
    free(incidents);

    /* WO-M4 cancelled: still a member of the open incident, with no level. */
    h_send_ms(env, "WO-M4", "WO-M4-can", T0 + 39 * MIN, "cancelled",
              "{\"reason\":\"duplicate report\"}");
    doc = board_at(port, T0 + 40 * MIN, m4_closed);
    printf("%s\n", json_object_to_json_string_ext(row(doc, "incidents", 1),
                                                  JSON_C_TO_STRING_PRETTY));
    member = row(row(doc, "incidents", 1), "work_orders", 3);
    assert_string_equal(json_object_to_json_string_ext(member, JSON_C_TO_STRING_PLAIN),
                        "{\"work_order\":\"WO-M4\"}");
    json_object_put(doc);
    incidents = browser_wait(&b, INCIDENT_ROWS, M4_CLOSED, 5000);
    if (!strstr(incidents, M4_CLOSED))
        fail_msg("no closed WO-M4 in the city incident on the page: %s", incidents);
    free(incidents);

    /* The artifacts: the DOM and a screenshot. */
    mkdir(ARTIFACTS, 0755);
    char *dom = browser_eval(&b, "document.documentElement.outerHTML");
    assert_null(strstr(dom, H_CUSTOMER_NAME));
    assert_null(strstr(dom, "超市"));
    snprintf(path, sizeof(path), "%s/board.html", ARTIFACTS);
    write_file(path, dom, strlen(dom));
    free(dom);
    r = browser_call(&b, "Page.captureScreenshot", "{\"format\":\"png\"}");
    char *png = strdup(jstr(r, "data"));
    json_object_put(r);
    size_t len = base64_decode(png);
    assert_true(len > 1000);
    assert_memory_equal(png, "\x89PNG", 4);
    snprintf(path, sizeof(path), "%s/board.png", ARTIFACTS);
    write_file(path, png, len);
    printf("screenshot: %s\n", path);
    free(png);
    browser_stop(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_stream, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_page, h_setup_redis_broker, h_teardown_env),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed && chromium_missing) {
        fprintf(stderr, "SKIP: chromium not found on PATH (Debian's chromium, "
                        "scripts/deps.sh installs it): the page was not tested\n");
        return 77;
    }
    return failed;
}

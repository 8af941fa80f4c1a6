/*
 * confirmctl what-if and rebuild against a real redis-server that a worker filled from
 * the embedded broker: the input replayed under a stricter policy changes the breaches
 * and points per tier and contractor, and leaves the live state alone (Redis byte for
 * byte, the output topics' ends, the group's committed offsets); a rebuilt record
 * matches the stored one, and a stored record altered behind the worker's back shows
 * the difference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/codec.h"
#include "harness_events.h"

#define T0 H_T0
#define MIN H_MIN
#define NPARTS 8    /* the embedded broker's default topics: the input */
#define OUT_PARTS 4 /* ... and the outputs */

/* Runs confirmctl ARGS against the env's Redis and broker; copies its stdout into out.
 * @returns its exit status. */
static int ctl(h_env *env, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ctl(h_env *env, char *out, size_t n, const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    return h_confirmctl(env, out, n, args);
}

/* confirmctl ARGS --json, parsed; fails the test unless it exits with status want. */
static json_object *ctl_json(h_env *env, int want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_object *ctl_json(h_env *env, int want, const char *fmt, ...)
{
    static char out[1 << 20];
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    assert_int_equal(ctl(env, out, sizeof(out), "%s --json", args), want);
    json_object *o = json_tokener_parse(out);
    if (!o)
        fail_msg("confirmctl %s --json printed '%s'", args, out);
    return o;
}

static json_object *jget(json_object *o, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(o, k, &o))
            fail_msg("no %s in %s", path, json_object_to_json_string(o));
    return o;
}

static int64_t jint(json_object *o, const char *path)
{
    return json_object_get_int64(jget(o, path));
}

/* The element of array key whose member name is value. */
static json_object *row_of(json_object *doc, const char *key, const char *name,
                           const char *value)
{
    json_object *arr = jget(doc, key);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (strcmp(json_object_get_string(jget(e, name)), value) == 0)
            return e;
    }
    fail_msg("no %s %s in %s", name, value, json_object_to_json_string(arr));
    return NULL;
}

/* Asserts a group's breaches and points, live and what-if, and their difference. */
static void assert_group(json_object *g, int breached, int points, int wi_breached,
                         int wi_points)
{
    assert_int_equal(jint(g, "live.breached"), breached);
    assert_int_equal(jint(g, "live.points"), points);
    assert_int_equal(jint(g, "what_if.breached"), wi_breached);
    assert_int_equal(jint(g, "what_if.points"), wi_points);
    assert_int_equal(jint(g, "difference.breached"), wi_breached - breached);
    assert_int_equal(jint(g, "difference.points"), wi_points - points);
    assert_int_equal(jint(g, "difference.met"),
                     jint(g, "what_if.met") - jint(g, "live.met"));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every key of the env's Redis with its DUMP, sorted by key, as one string. */
static char *redis_dump(h_env *env)
{
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *keys = redisCommand(rc, "KEYS *");
    assert_non_null(keys);
    assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
    assert_true(keys->elements > 0);
    char **names = calloc(keys->elements, sizeof(char *));
    for (size_t i = 0; i < keys->elements; i++)
        names[i] = strdup(keys->element[i]->str);
    qsort(names, keys->elements, sizeof(char *), by_name);
    char *all = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *d = redisCommand(rc, "DUMP %s", names[i]);
        assert_non_null(d);
        assert_int_equal(d->type, REDIS_REPLY_STRING);
        fprintf(f, "%s=", names[i]);
        for (size_t k = 0; k < d->len; k++)
            fprintf(f, "%02x", (unsigned char)d->str[k]);
        fprintf(f, "\n");
        freeReplyObject(d);
        free(names[i]);
    }
    fclose(f);
    free(names);
    freeReplyObject(keys);
    redisFree(rc);
    return all;
}

/* What the live service shows the outside: the output topics' ends and the worker
 * group's committed offsets of the input. */
typedef struct outside {
    int64_t ends[4][OUT_PARTS];
    int64_t committed[NPARTS];
} outside;

static void outside_read(h_env *env, outside *o)
{
    static const char *const topics[4] = {"confirmd.records", "confirmd.alerts",
                                          "confirmd.deadletter", "confirmd.incidents"};
    for (int t = 0; t < 4; t++)
        assert_int_equal(h_topic_ends(env, topics[t], o->ends[t], OUT_PARTS, 10000), 0);
    assert_int_equal(h_group_committed(env, "confirmd.events", o->committed, NPARTS), 0);
}

/* WO-W1 (Beta Networks) and WO-W2 (Acme Maintenance, on site 100 min after acceptance:
 * late, 15 points) applied by a worker, which then stops: the state is at rest. */
static void feed(h_env *env)
{
    pid_t w = h_worker_start(env, NULL);
    assert_true(w > 0);
    /* WO-W1, AAA, Beta Networks: on site 44 min after acceptance (1 h allowed),
     * restored 3 h after the report (4 h allowed): every duty met under the live
     * policy. */
    h_send_order(env, "WO-W1", "TIER_AAA", 0, T0, "Beta Networks", 44, 180);
    h_send_full_order(env, "WO-W2", "TIER_AAA", 0, T0, 100);
    static char out[1 << 16];
    for (int i = 0; i < 300; i++) {
        if (ctl(env, out, sizeof(out), "show WO-W1") == 0 && strstr(out, "STATE_CLOSED") &&
            ctl(env, out, sizeof(out), "show WO-W2") == 0 && strstr(out, "STATE_CLOSED"))
            break;
        usleep(100 * 1000);
    }
    assert_non_null(strstr(out, "STATE_CLOSED"));
    assert_int_equal(h_worker_kill(env, w, SIGTERM), 0);
    assert_int_equal(h_worker_wait_exit(env, w, 20000), 0);
}

/* A stricter policy: AAA on site within 30 min and restored within 2 h, and a late
 * arrival costs 20 points instead of 15. */
static void write_strict_policy(h_env *env, char *path, size_t n)
{
    snprintf(path, n, "%s/strict.ini", h_env_dir(env));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[sla.aaa]\ncontact = 15min\nonsite = 30min\nrestoration = 2h\n"
               "[penalty]\nlate_arrival = 20\n");
    fclose(f);
}

static void test_whatif(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];
    char policy[512];
    outside before, after;

    feed(env);
    write_strict_policy(env, policy, sizeof(policy));
    char *dump_before = redis_dump(env);
    outside_read(env, &before);

    json_object *doc = ctl_json(env, 0, "what-if --policy %s", policy);
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
    assert_int_equal(jint(doc, "events.applied"), 18);
    assert_int_equal(jint(doc, "events.parked"), 0);
    assert_int_equal(jint(doc, "judged_at_ms"), T0 + 186 * MIN);
    /* Under the live policy only WO-W2's arrival is late (15 points; both closed
     * without an engineer's signature and one more item: 10 points each). Under the
     * strict one WO-W1 arrives late (20) and is restored late (3 h), WO-W2 is restored
     * late (2 h 10 min) and its late arrival costs 20. */
    json_object *g = row_of(doc, "tiers", "tier", "TIER_AAA");
    assert_int_equal(jint(g, "live.orders"), 2);
    assert_group(g, 1, 35, 4, 60);
    g = row_of(doc, "contractors", "contractor", "Beta Networks");
    assert_int_equal(jint(g, "live.orders"), 1);
    assert_group(g, 0, 10, 2, 30);
    assert_int_equal(jint(g, "difference.met"), -2);
    g = row_of(doc, "contractors", "contractor", "Acme Maintenance");
    assert_group(g, 1, 25, 2, 30);
    assert_group(jget(doc, "total"), 1, 35, 4, 60);
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "what-if --policy %s", policy), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "18 messages of confirmd.events"));
    assert_non_null(strstr(out, "Beta Networks"));

    /* The period selects by the messages' (wall-clock) timestamps: the hour around
     * now holds them all, the hour after none. */
    long long wall = (long long)time(NULL) * 1000;
    doc = ctl_json(env, 0, "what-if --policy %s --from %lld --to %lld", policy,
                   wall - 3600 * 1000, wall + 3600 * 1000);
    assert_int_equal(jint(doc, "events.applied"), 18);
    assert_int_equal(jint(doc, "total.difference.points"), 25);
    json_object_put(doc);
    doc = ctl_json(env, 0, "what-if --policy %s --from %lld", policy, wall + 3600 * 1000);
    assert_int_equal(jint(doc, "events.applied"), 0);
    assert_int_equal(jint(doc, "events.out_of_period"), 18);
    assert_int_equal(jint(doc, "total.live.orders"), 0);
    json_object_put(doc);

    assert_int_equal(ctl(env, out, sizeof(out), "what-if --help"), 0);
    assert_non_null(strstr(out, "--policy FILE"));
    assert_int_equal(ctl(env, out, sizeof(out), "what-if"), 2);
    assert_int_equal(ctl(env, out, sizeof(out), "what-if --policy /nonexistent"), 1);

    /* The live state is as it was: Redis byte for byte, no output, no commit. */
    char *dump_after = redis_dump(env);
    assert_string_equal(dump_after, dump_before);
    outside_read(env, &after);
    assert_memory_equal(&after, &before, sizeof(before));
    free(dump_before);
    free(dump_after);
}

/* Sets WO-W1's onsite findings in its stored state to text, behind the worker's back. */
static void tamper(h_env *env, const char *text)
{
    redisContext *rc = h_redis_connect(env);
    assert_non_null(rc);
    redisReply *keys = redisCommand(rc, "KEYS cfd:*:wo:WO-W1");
    assert_non_null(keys);
    assert_int_equal(keys->elements, 1);
    const char *key = keys->element[0]->str;
    redisReply *r = redisCommand(rc, "GET %s", key);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    cfd_record *rec = NULL;
    char errstr[256];
    assert_int_equal(cfd_codec_state_decode(r->str, r->len, &rec, errstr, sizeof(errstr)),
                     0);
    freeReplyObject(r);
    free(rec->onsite_findings);
    rec->onsite_findings = strdup(text);
    uint8_t *buf = NULL;
    size_t len = 0;
    cfd_codec_state_encode(rec, &buf, &len);
    r = redisCommand(rc, "SET %s %b", key, buf, len);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    free(buf);
    cfd_record_destroy(rec);
    freeReplyObject(keys);
    redisFree(rc);
}

static void test_rebuild(void **state)
{
    h_env *env = *state;
    static char out[1 << 16];

    feed(env);
    char *dump_before = redis_dump(env);
    json_object *doc = ctl_json(env, 0, "rebuild WO-W1");
    assert_true(json_object_get_boolean(jget(doc, "identical")));
    assert_int_equal(jint(doc, "events_applied"), 9);
    assert_int_equal(json_object_array_length(jget(doc, "differences")), 0);
    json_object_put(doc);
    assert_int_equal(ctl(env, out, sizeof(out), "rebuild WO-W2"), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "no difference"));
    char *dump_after = redis_dump(env);
    assert_string_equal(dump_after, dump_before);
    free(dump_before);
    free(dump_after);

    tamper(env, "tampered");
    doc = ctl_json(env, 3, "rebuild WO-W1");
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
    assert_false(json_object_get_boolean(jget(doc, "identical")));
    json_object *diffs = jget(doc, "differences");
    assert_int_equal(json_object_array_length(diffs), 1);
    json_object *d = json_object_array_get_idx(diffs, 0);
    assert_string_equal(json_object_get_string(jget(d, "field")), "onsite_findings");
    assert_string_equal(json_object_get_string(jget(d, "stored")), "\"tampered\"");
    assert_string_equal(json_object_get_string(jget(d, "rebuilt")), "\"fiber cut\"");
    json_object_put(doc);
    assert_int_equal(ctl(env, out, sizeof(out), "rebuild WO-W1"), 3);
    printf("%s", out);
    assert_non_null(strstr(out, "onsite_findings"));
    assert_non_null(strstr(out, "1 fields differ"));

    /* An order Redis does not hold, and one the topics do not either. */
    assert_int_equal(ctl(env, out, sizeof(out), "rebuild WO-NONE"), 3);
    assert_int_equal(ctl(env, out, sizeof(out), "rebuild --help"), 0);
    assert_non_null(strstr(out, "WORK_ORDER"));
    assert_int_equal(ctl(env, out, sizeof(out), "rebuild"), 2);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whatif, h_setup_redis_broker, h_teardown_env),
        cmocka_unit_test_setup_teardown(test_rebuild, h_setup_redis_broker, h_teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Event builders and output readers shared by the integration tests.
 */
#include "harness_events.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/codec.h"
#include "harness_orders.h"

#define T0 H_T0
#define MIN H_MIN

/* --- building events ------------------------------------------------------------------ */

const char *const h_simulated_clock[] = {"worker.clock=simulated", NULL};

void h_send_important_report(h_env *env, const char *wo, const char *importance, int rental)
{
    h_send_json(
        env,
        "{\"event_id\":\"%s-rep\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
        "\"event_time_ms\":%lld,\"fault_report\":{\"issuing_unit\":\"Liangping NOC\","
        "\"customer\":{\"name\":\"重庆某某银行\",\"contact_phone\":\"13800000000\","
        "\"affected_service\":\"internet dedicated line\",\"city\":\"Chongqing\","
        "\"customer_id\":\"K-%s\",\"importance\":\"%s\",\"cross_city_rental\":%s},"
        "\"network\":{\"circuit_id\":\"CQ-%s\"},\"problem_description\":\"line down\","
        "\"full_interruption\":true}}",
        wo, wo, (long long)H_T0, wo, importance, rental ? "true" : "false", wo);
}

void h_send_city_report_of(h_env *env, const char *wo, const char *customer_id,
                           const char *city, int64_t t)
{
    h_send_json(
        env,
        "{\"event_id\":\"%s-rep\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
        "\"event_time_ms\":%lld,\"fault_report\":{\"customer\":{\"name\":\"某某超市\","
        "\"contact_phone\":\"13900000000\",\"affected_service\":\"internet\","
        "\"city\":\"%s\",\"customer_id\":\"%s\"},\"network\":{\"circuit_id\":"
        "\"CQ-%s\"},\"problem_description\":\"no internet\",\"full_interruption\":true}}",
        wo, wo, (long long)t, city, customer_id, wo);
}

void h_send_city_report(h_env *env, const char *wo, const char *city, int64_t t)
{
    char customer[64];
    snprintf(customer, sizeof(customer), "K-%s", wo);
    h_send_city_report_of(env, wo, customer, city, t);
}

void h_send_open_orders(h_env *env)
{
    h_send_report(env, "WO-C1", "c1-rep", H_T0, "TIER_AAA", 0);
    h_send_ms(env, "WO-C1", "c1-acc", H_T0 + H_MIN, "accepted", "{}");
    h_send_ms(env, "WO-C1", "c1-dis", H_T0 + 2 * H_MIN, "dispatched",
              "{\"contractor\":\"Acme Maintenance\",\"engineer_id\":\"E42\"}");
    h_send_ms(env, "WO-C1", "c1-con", H_T0 + 5 * H_MIN, "customer_contacted", "{}");
    h_send_ms(env, "WO-C1", "c1-pau", H_T0 + 10 * H_MIN, "clock_paused",
              "{\"pause_id\":\"p1\",\"reason\":\"PAUSE_CUSTOMER\","
              "\"evidence\":\"customer asked to wait, ticket T-99\"}");
    h_send_report(env, "WO-C2", "c2-rep", H_T0, "TIER_AA", 0);
    h_send_ms(env, "WO-C2", "c2-acc", H_T0 + H_MIN, "accepted", "{}");
    h_send_full_order(env, "WO-C3", "TIER_AAA", 0, H_T0, 90);
    h_wait_timer(env, "WO-C1");
    h_wait_timer(env, "WO-C2");
}

void h_assert_next_duty(json_object *row, const char *wo, const char *metric,
                        int64_t deadline_ms, int64_t left_ms, int64_t next_sla_ms)
{
    json_object *v;
    const char *str_keys[] = {"work_order", "metric"}, *strs[] = {wo, metric};
    const char *int_keys[] = {"deadline_ms", "left_ms", "next_sla_ms"};
    const int64_t ints[] = {deadline_ms, left_ms, next_sla_ms};

    for (size_t i = 0; i < 2; i++) {
        if (!json_object_object_get_ex(row, str_keys[i], &v))
            fail_msg("no %s in %s", str_keys[i], json_object_to_json_string(row));
        assert_string_equal(json_object_get_string(v), strs[i]);
    }
    for (size_t i = 0; i < 3; i++) {
        if (!json_object_object_get_ex(row, int_keys[i], &v))
            fail_msg("no %s in %s", int_keys[i], json_object_to_json_string(row));
        assert_int_equal(json_object_get_int64(v), ints[i]);
    }
}

int64_t h_wait_timer_after(h_env *env, const char *wo, int64_t t)
{
    for (int i = 0; i < 300; i++) {
        int64_t at = h_wait_timer(env, wo);
        if (at > t)
            return at;
        usleep(100 * 1000);
    }
    fail_msg("the timer of %s stayed at or before %lld", wo, (long long)t);
    return 0;
}

int64_t h_wait_timer(h_env *env, const char *wo)
{
    return h_wait_zset(env, "timers", wo);
}

int64_t h_wait_zset(h_env *env, const char *zset, const char *member)
{
    redisContext *rcs[16];
    int n = h_redis_masters(env, rcs, 16); /* a script sees its own node's keys */
    int64_t until = h_now_ms() + 30000, at = 0;
    assert_true(n > 0);
    while (!at && h_now_ms() < until) {
        for (int i = 0; i < n && !at; i++) {
            redisReply *r =
                redisCommand(rcs[i], "EVAL %s 0 %s %s",
                             "for _, k in ipairs(redis.call('KEYS', 'cfd:*:' .. ARGV[2])) "
                             "do local s = redis.call('ZSCORE', k, ARGV[1]) "
                             "if s then return s end end return false",
                             member, zset);
            if (r && r->type == REDIS_REPLY_STRING)
                at = atoll(r->str);
            freeReplyObject(r);
        }
        if (!at)
            usleep(100 * 1000);
    }
    for (int i = 0; i < n; i++)
        redisFree(rcs[i]);
    if (!at)
        fail_msg("no %s entry for %s within 30 s", zset, member);
    return at;
}

int h_ctl(h_env *env, char *out, size_t n, const char *args)
{
    char all[2048];
    snprintf(all, sizeof(all), "%s -s worker.clock=simulated", args);
    return h_confirmctl(env, out, n, all);
}

void h_ctl_wait_shown(h_env *env, const char *wo, const char *needle)
{
    static char out[1 << 16];
    char args[256];
    snprintf(args, sizeof(args), "show %s", wo);
    for (int i = 0; i < 300; i++) {
        if (h_ctl(env, out, sizeof(out), args) == 0 && strstr(out, needle))
            return;
        usleep(100 * 1000);
    }
    fail_msg("confirmctl show %s never printed %s: '%s'", wo, needle, out);
}

pid_t h_ctl_feed(h_env *env)
{
    assert_int_equal(h_set_sim_clock(env, H_T0 + H_MIN), 0);
    pid_t w = h_worker_start(env, h_simulated_clock);
    assert_true(w > 0);
    h_send_open_orders(env);
    h_ctl_wait_shown(env, "WO-C1", "c1-pau");       /* the last event of WO-C1 */
    h_ctl_wait_shown(env, "WO-C3", "STATE_CLOSED"); /* a closed order has no timer */
    return w;
}

int h_setup_redis_broker(void **state)
{
    h_env *env = h_env_new("it");
    if (!env || h_redis_start(env) || h_broker_start(env, NULL)) {
        h_env_destroy(env);
        return -1;
    }
    *state = env;
    return 0;
}

int h_teardown_env(void **state)
{
    h_env_destroy(*state);
    return 0;
}

uint8_t *h_event_pb(size_t *len, const char *fmt, ...)
{
    char json[4096], errstr[256];
    uint8_t *buf = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof(json), fmt, ap);
    va_end(ap);
    if (cfd_json_to_pb("Event", json, &buf, len, errstr, sizeof(errstr)))
        fail_msg("bad test event %s: %s", json, errstr);
    return buf;
}

/* Produces json as a message of type to topic; key NULL: the JSON's field key_field. */
static void send_json_as(h_env *env, const char *topic, const char *type, const char *key,
                         const char *key_field, const char *json)
{
    char errstr[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cfd_json_to_pb(type, json, &buf, &len, errstr, sizeof(errstr)))
        fail_msg("bad test %s %s: %s", type, json, errstr);
    json_object *o = key ? NULL : json_tokener_parse(json);
    if (!key)
        key = json_object_get_string(json_object_object_get(o, key_field));
    assert_int_equal(h_produce(env, topic, key, buf, len), 0);
    json_object_put(o);
    free(buf);
}

/* Produces one event given as JSON (confirmd.v1.Event), keyed by its work order. */
void h_send_json(h_env *env, const char *fmt, ...)
{
    char json[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof(json), fmt, ap);
    va_end(ap);
    send_json_as(env, "confirmd.events", "Event", NULL, "work_order", json);
}

void h_send_typed(h_env *env, const char *topic, const char *type, const char *key,
                  const char *fmt, ...)
{
    char json[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof(json), fmt, ap);
    va_end(ap);
    send_json_as(env, topic, type, key, NULL, json);
}

void h_send_report(h_env *env, const char *wo, const char *eid, int64_t t, const char *tier,
                   int gold)
{
    h_send_json(
        env,
        "{\"event_id\":\"%s\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
        "\"event_time_ms\":%lld,\"fault_report\":{\"issuing_unit\":\"Liangping NOC\","
        "\"customer\":{\"name\":\"重庆某某银行\",\"contact_person\":\"王经理\","
        "\"contact_phone\":\"13800000000\",\"address\":\"梁平区双桂街道1号\","
        "\"affected_service\":\"internet dedicated line\",\"tier\":\"%s\","
        "\"gold\":%s,\"city\":\"Chongqing\"},\"network\":{\"circuit_id\":\"CQ-%s\"},"
        "\"problem_description\":\"line down\"}}",
        eid, wo, (long long)t, tier, gold ? "true" : "false", wo);
}

/* A milestone with an optional payload body (JSON object text, or "{}"). */
void h_send_ms(h_env *env, const char *wo, const char *eid, int64_t t, const char *payload,
               const char *body)
{
    h_send_json(
        env,
        "{\"event_id\":\"%s\",\"work_order\":\"%s\",\"source\":\"SOURCE_FIELD_APP\","
        "\"event_time_ms\":%lld,\"%s\":%s}",
        eid, wo, (long long)t, payload, body);
}

/* A work order from report to close. arrive_min: minutes after acceptance. */
void h_send_full_order(h_env *env, const char *wo, const char *tier, int gold, int64_t t0,
                       int arrive_min)
{
    h_send_order(env, wo, tier, gold, t0, "Acme Maintenance", arrive_min, 30 + arrive_min);
}

void h_send_order(h_env *env, const char *wo, const char *tier, int gold, int64_t t0,
                  const char *contractor, int arrive_min, int restore_min)
{
    char e[64], dispatch[256];
#define EID(s) (snprintf(e, sizeof(e), "%s-%s", wo, s), e)
    snprintf(dispatch, sizeof(dispatch), "{\"contractor\":\"%s\",\"engineer_id\":\"E42\"}",
             contractor);
    h_send_report(env, wo, EID("rep"), t0, tier, gold);
    h_send_ms(env, wo, EID("acc"), t0 + 1 * MIN, "accepted", "{\"operator_id\":\"op7\"}");
    h_send_ms(env, wo, EID("dis"), t0 + 2 * MIN, "dispatched", dispatch);
    h_send_ms(env, wo, EID("con"), t0 + 6 * MIN, "customer_contacted", "{}");
    h_send_ms(env, wo, EID("arr"), t0 + (1 + arrive_min) * MIN, "arrived_on_site",
              "{\"engineers\":[\"E42\"]}");
    h_send_ms(env, wo, EID("dia"), t0 + (2 + arrive_min) * MIN, "diagnosed",
              "{\"cause\":\"CAUSE_TRANSMISSION_LINE\",\"onsite_findings\":\"fiber cut\"}");
    h_send_ms(env, wo, EID("res"), t0 + (int64_t)restore_min * MIN, "service_restored",
              "{\"result\":\"RESULT_RESTORED\"}");
    h_send_ms(env, wo, EID("sig"), t0 + (5 + (int64_t)restore_min) * MIN,
              "confirmation_signed",
              "{\"customer_opinion\":\"satisfied\",\"satisfaction\":5}");
    h_send_ms(env, wo, EID("clo"), t0 + (6 + (int64_t)restore_min) * MIN, "closed", "{}");
#undef EID
}

int h_confirmctl(h_env *env, char *out, size_t n, const char *args)
{
    char redis[1024], kafka[300] = "", cmd[4096];
    if (h_cluster_size(env) > 0)
        snprintf(redis, sizeof(redis),
                 "-s redis.cluster=on -s redis.host=127.0.0.1 -s redis.port=%d "
                 "-s redis.cluster_seeds=%s",
                 h_cluster_port(env, 0), h_cluster_seeds(env));
    else
        snprintf(redis, sizeof(redis), "-s redis.host=127.0.0.1 -s redis.port=%d",
                 h_redis_port(env));
    if (h_bootstrap(env))
        snprintf(kafka, sizeof(kafka), "-s kafka.bootstrap.servers=%s", h_bootstrap(env));
    snprintf(cmd, sizeof(cmd), "%s/confirmctl %s %s %s", CFD_BIN_DIR, args, redis, kafka);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --- reading outputs --------------------------------------------------------------------- */

static int collect_cb(const h_msg *m, void *opaque)
{
    h_collected *c = opaque;
    char errstr[256];
    char *json = cfd_pb_to_json(c->type, m->value, m->value_len, errstr, sizeof(errstr));
    assert_non_null(json);
    if (c->n < 256) {
        c->items[c->n] = json_tokener_parse(json);
        c->ids[c->n] = strdup(m->id ? m->id : "");
        c->n++;
    }
    free(json);
    return 0;
}

void h_collected_free(h_collected *c)
{
    for (int i = 0; i < c->n; i++) {
        json_object_put(c->items[i]);
        free(c->ids[i]);
    }
    c->n = 0;
}

/* Reads topic until count messages arrived (or timeout). */
void h_collect(h_env *env, const char *topic, const char *type, int count, int timeout_ms,
               h_collected *out)
{
    out->type = type;
    out->n = 0;
    h_consumer *c = h_consume_open(env, topic);
    assert_non_null(c);
    h_consume_until(c, count, timeout_ms, collect_cb, out);
    h_consume_close(c);
}

const char *h_jstr(json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_object *cur = o;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save))
        cur = json_object_object_get(cur, tok);
    return cur ? json_object_get_string(cur) : NULL;
}

json_object *h_find_by(h_collected *c, const char *field, const char *value)
{
    for (int i = 0; i < c->n; i++) {
        const char *v = h_jstr(c->items[i], field);
        if (v && strcmp(v, value) == 0)
            return c->items[i];
    }
    return NULL;
}

int h_count_by(h_collected *c, const char *field, const char *value)
{
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        const char *v = h_jstr(c->items[i], field);
        if (v && strcmp(v, value) == 0)
            n++;
    }
    return n;
}

json_object *h_sla_of(json_object *rec, const char *metric)
{
    json_object *sla = json_object_object_get(rec, "sla");
    for (size_t i = 0; sla && i < json_object_array_length(sla); i++) {
        json_object *m = json_object_array_get_idx(sla, i);
        if (strcmp(h_jstr(m, "metric"), metric) == 0)
            return m;
    }
    return NULL;
}

/*
 * The integration harness proves itself: a private redis-server, the embedded
 * broker and its control socket, real Kafka clients, and AOF durability across a
 * redis restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int env_setup(void **state)
{
    h_env *env = h_env_new("harness");

    *state = env;
    return env ? 0 : -1;
}

static int env_teardown(void **state)
{
    h_env_destroy(*state);
    return 0;
}

static void test_redis_set_get(void **state)
{
    h_env *env = *state;
    redisContext *c;
    redisReply *r;

    assert_int_equal(h_redis_start(env), 0);
    assert_true(h_redis_port(env) > 0);
    c = h_redis_connect(env);
    assert_non_null(c);
    r = redisCommand(c, "SET %s %s", "cfd:it:k", "v1");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = redisCommand(c, "GET %s", "cfd:it:k");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, "v1");
    freeReplyObject(r);
    /* The server is configured as the workers expect it. */
    r = redisCommand(c, "CONFIG GET appendonly");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "yes");
    freeReplyObject(r);
    redisFree(c);
}

typedef struct seen {
    int count;
    int per_partition[4];
    int64_t next_offset[4];
    unsigned char got[100];
    int bad;
} seen;

/* Checks one consumed message against what test_broker_roundtrip produced. */
static int check_msg(const h_msg *m, void *opaque)
{
    seen *s = opaque;
    char want[32];
    int i;

    if (!m->key || sscanf(m->key, "wo-%d", &i) != 1 || i < 0 || i >= 100 ||
        m->partition < 0 || m->partition >= 4) {
        s->bad++;
        return 0;
    }
    snprintf(want, sizeof(want), "payload-%d", i);
    if (strcmp(m->value, want) != 0 || m->value_len != strlen(want) || !m->id ||
        strcmp(m->id, want + 8) != 0 || strcmp(m->topic, "it.harness") != 0)
        s->bad++;
    /* Offsets within a partition arrive in order without gaps. */
    if (m->offset != s->next_offset[m->partition])
        s->bad++;
    s->next_offset[m->partition] = m->offset + 1;
    s->got[i]++;
    s->per_partition[m->partition]++;
    s->count++;
    return 0;
}

static void test_broker_roundtrip(void **state)
{
    h_env *env = *state;
    h_out_msg msgs[100];
    char keys[100][16], values[100][32];
    h_consumer *c;
    seen s;
    h_msg extra;
    int used = 0;

    assert_int_equal(h_broker_start(env, "it.harness:4,it.other:2"), 0);
    assert_non_null(h_bootstrap(env));
    assert_non_null(strstr(h_bootstrap(env), "127.0.0.1:"));

    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof(keys[i]), "wo-%d", i);
        snprintf(values[i], sizeof(values[i]), "payload-%d", i);
        msgs[i].key = keys[i];
        msgs[i].value = values[i];
        msgs[i].len = strlen(values[i]);
        msgs[i].id = values[i] + 8; /* the number */
    }
    /* One synchronous, the rest in a batch. */
    assert_int_equal(h_produce_id(env, "it.harness", msgs[0].key, msgs[0].value,
                                  msgs[0].len, msgs[0].id),
                     0);
    assert_int_equal(h_produce_batch(env, "it.harness", msgs + 1, 99), 0);

    c = h_consume_open(env, "it.harness");
    assert_non_null(c);
    memset(&s, 0, sizeof(s));
    assert_int_equal(h_consume_until(c, 100, 20000, check_msg, &s), 100);
    assert_int_equal(s.bad, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(s.got[i], 1);
    /* Keyed messages spread over the partitions. */
    for (int p = 0; p < 4; p++)
        used += s.per_partition[p] > 0;
    assert_true(used >= 2);
    /* Nothing else is there. */
    assert_int_equal(h_consume(c, 500, &extra), 0);
    h_consume_close(c);
}

static void test_broker_control(void **state)
{
    h_env *env = *state;
    char reply[512];

    assert_int_equal(h_broker_start_n(env, 2, NULL), 0);
    assert_int_equal(h_broker_ctl(env, "ping", reply, sizeof(reply)), 0);
    assert_string_equal(reply, "OK pong");
    assert_int_equal(h_broker_ctl(env, "bootstrap", reply, sizeof(reply)), 0);
    assert_string_equal(reply + 3, h_bootstrap(env));
    assert_int_equal(h_broker_ctl(env, "broker-down 1", reply, sizeof(reply)), 0);
    assert_string_equal(reply, "OK broker 1 down");
    assert_int_equal(h_broker_ctl(env, "broker-up 1", reply, sizeof(reply)), 0);
    assert_string_equal(reply, "OK broker 1 up");
    assert_int_equal(h_broker_ctl(env, "broker-down 7", reply, sizeof(reply)), -1);
    assert_true(strncmp(reply, "ERR", 3) == 0);
    assert_int_equal(h_broker_ctl(env, "no-such-command", reply, sizeof(reply)), -1);
    /* The default topics exist, and a created one takes messages. */
    assert_int_equal(h_broker_ctl(env, "topic-create it.created 3", reply, sizeof(reply)),
                     0);
    assert_int_equal(h_produce(env, "confirmd.events", "k", "v", 1), 0);
    assert_int_equal(h_produce(env, "it.created", "k", "v", 1), 0);
    /* Produce survives a round of injected retriable errors. */
    assert_int_equal(h_broker_ctl(env, "request-errors Produce NOT_LEADER_FOR_PARTITION 2",
                                  reply, sizeof(reply)),
                     0);
    assert_int_equal(h_produce(env, "it.created", "k2", "v2", 2), 0);
    assert_int_equal(h_broker_stop(env), 0);
    assert_null(h_bootstrap(env));
}

static void test_redis_restart_keeps_aof(void **state)
{
    h_env *env = *state;
    redisContext *c;
    redisReply *r;

    assert_int_equal(h_redis_start(env), 0);
    c = h_redis_connect(env);
    assert_non_null(c);
    r = redisCommand(c, "SET %s %s", "cfd:it:durable", "kept");
    assert_non_null(r);
    freeReplyObject(r);
    redisFree(c);

    assert_int_equal(h_redis_restart(env), 0);
    c = h_redis_connect(env);
    assert_non_null(c);
    r = redisCommand(c, "GET %s", "cfd:it:durable");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, "kept");
    freeReplyObject(r);
    redisFree(c);
}

/* A spawned child that dies is noticed, and its exit code reported. */
static void test_worker_lifecycle(void **state)
{
    h_env *env = *state;
    const char *const extra[] = {"worker.log_level=debug", NULL};
    pid_t pid;
    int code;

    assert_int_equal(h_worker_start(env, extra), -1); /* no broker yet */
    assert_int_equal(h_broker_start(env, NULL), 0);
    pid = h_worker_start(env, extra);
    assert_true(pid > 0);
    /* Whatever the worker does, it must be stoppable within the bounds. */
    if (h_worker_alive(env, pid))
        h_worker_kill(env, pid, SIGKILL);
    code = h_worker_wait_exit(env, pid, 5000);
    assert_true(code >= 0);
    assert_false(h_worker_alive(env, pid));
    assert_int_equal(access(h_worker_log_path(env, 0), R_OK), 0);
}

/* Nodes taken down and brought back come back, every time: on Apache Kafka each node
 * of three, killed (or stopped) and started again, answers as itself, and the cluster
 * lists three brokers with every replica in sync, within a minute. (kafka.sh
 * start-node returned while the node's JVM was still in the script's process group,
 * which the harness kills once the script has exited: 3 of about 80 restarts never
 * came up, and the chaos test stalled.) */
static void test_broker_node_restart(void **state)
{
    h_env *env = *state;
    const int rounds = h_broker_is_kafka() ? 6 : 3;

    assert_int_equal(h_broker_start_n(env, 3, NULL), 0);
    for (int r = 0; r < rounds; r++) {
        int id = 1 + r % 3;
        int64_t t0 = h_now_ms();
        assert_int_equal(h_broker_node_down(env, id, r % 2 == 0), 0);
        assert_int_equal(h_broker_node_up(env, id), 0);
        /* (A node killed a moment ago is still listed, and in every ISR, for seconds:
         * it must answer itself.) */
        while (!h_broker_node_serving(env, id) || !h_broker_in_sync(env, 3)) {
            if (h_now_ms() - t0 > 60000) {
                fprintf(stderr, "node %d did not come back within 60 s\n", id);
                h_broker_explain(env);
                fail();
            }
            usleep(200000);
        }
        printf("node %d %s and back in sync in %lld ms\n", id,
               r % 2 == 0 ? "killed" : "stopped", (long long)(h_now_ms() - t0));
    }
    assert_int_equal(h_produce(env, "confirmd.events", "k", "v", 1), 0);
}

int main(void)
{
    /* On Apache Kafka (kafka.it_harness) only what does not need the mock's control. */
    const struct CMUnitTest kafka_tests[] = {
        cmocka_unit_test_setup_teardown(test_broker_node_restart, env_setup, env_teardown),
    };
    if (h_broker_is_kafka())
        return cmocka_run_group_tests(kafka_tests, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_redis_set_get, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_broker_roundtrip, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_broker_control, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_redis_restart_keeps_aof, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_worker_lifecycle, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_broker_node_restart, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for src/bus/producer.c, against librdkafka's in-process mock cluster:
 * batches handed back in order once delivered, reports of an earlier claim ignored,
 * an output refused for good replaced by what the app builds, under its id; the "id"
 * and "type" headers of what reaches the topics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "confirmd/clock.h"
#include "confirmd/producer.h"

enum { KIND_OUT = 'O', KIND_DL = 'D', KIND_STRAY = 'S' };

/* What the callbacks saw. */
typedef struct seen {
    char delivered[16][64];
    size_t n_delivered;
    int64_t batch_offs[16];
    size_t n_batches;
    char refused_detail[512];
    size_t n_refused;
    bool bare;
} seen;

static void on_delivered(void *ctx, int32_t part, const char *id, double seconds)
{
    seen *s = ctx;
    assert_true(seconds >= 0 && seconds < 60);
    assert_int_equal(part, 0);
    assert_true(s->n_delivered < 16);
    snprintf(s->delivered[s->n_delivered++], 64, "%s", id);
}

static void on_batch_delivered(void *ctx, int32_t part, const int64_t *offs)
{
    seen *s = ctx;
    assert_int_equal(part, 0);
    assert_int_equal(offs[1], -1); /* one offset per batch: the rest is none */
    s->batch_offs[s->n_batches++] = offs[0];
}

static void on_replace(void *ctx, const cfd_producer_refusal *r, uint8_t **buf, size_t *len)
{
    seen *s = ctx;
    snprintf(s->refused_detail, sizeof(s->refused_detail), "%s", r->detail);
    s->bare = r->bare;
    s->n_refused++;
    *buf = (uint8_t *)strdup("replacement");
    *len = strlen("replacement");
}

static void on_error(void *ctx, cfd_kafka_fault fault, const char *what)
{
    (void)ctx;
    (void)fault;
    (void)what;
}

static volatile sig_atomic_t stop_flag;

/* A producer with message.max.bytes 10000 on bootstraps, or on a one-broker mock
 * cluster of its own when NULL. */
static cfd_producer *producer_on(seen *s, const char *bootstraps)
{
    const cfd_kafka_prop props[] = {
        {"message.max.bytes", "10000", CFD_KAFKA_PRODUCER},
        bootstraps
            ? (cfd_kafka_prop){"bootstrap.servers", (char *)bootstraps, CFD_KAFKA_BOTH}
            : (cfd_kafka_prop){"test.mock.num.brokers", "1", CFD_KAFKA_BOTH},
    };
    const cfd_kafka_opts kafka = {props, 2};
    static const cfd_producer_topic topics[] = {{KIND_OUT, "out", "test.v1.Out"},
                                                {KIND_DL, "dl", "test.v1.DeadLetter"}};
    const cfd_producer_opts opts = {.kafka = &kafka,
                                    .topics = topics,
                                    .n_topics = 2,
                                    .deadletter_kind = KIND_DL,
                                    .n_offsets = 1,
                                    .stop = &stop_flag,
                                    .log_module = "test"};
    const cfd_producer_cbs cbs = {.ctx = s,
                                  .delivered = on_delivered,
                                  .batch_delivered = on_batch_delivered,
                                  .replace = on_replace,
                                  .error = on_error};
    char errstr[512];
    cfd_producer *p = cfd_producer_new(&opts, &cbs, errstr, sizeof(errstr));
    if (!p)
        fail_msg("cfd_producer_new: %s", errstr);
    return p;
}

static cfd_producer *producer_new(seen *s)
{
    return producer_on(s, NULL);
}

/* Polls until n outputs are delivered (or 30 s). */
static void wait_delivered(cfd_producer *p, const seen *s, size_t n)
{
    int64_t until = cfd_monotonic_ms() + 30000;
    while (s->n_delivered < n && cfd_monotonic_ms() < until)
        cfd_producer_poll(p, 100);
    assert_int_equal(s->n_delivered, n);
}

static void send_out(cfd_producer *p, uint64_t batch, const char *id, size_t len)
{
    char *payload = calloc(1, len);
    cfd_producer_send(p, 0, batch, id, KIND_OUT, "k", 1, payload, len);
    free(payload);
}

/* Batches come back in the order they were opened, each once all of it is delivered;
 * an empty batch at once, when nothing before it is in flight. */
static void test_batches_in_order(void **state)
{
    seen s = {0};
    (void)state;
    cfd_producer *p = producer_new(&s);
    cfd_producer_claim(p, 0, 7);
    const int64_t a = 5, b = 9, c = 12;
    uint64_t ba = cfd_producer_batch_begin(p, 0, &a);
    send_out(p, ba, "a/1", 10);
    send_out(p, ba, "a/2", 10);
    cfd_producer_batch_end(p, 0, ba);
    uint64_t bb = cfd_producer_batch_begin(p, 0, &b);
    send_out(p, bb, "b/1", 10);
    cfd_producer_batch_end(p, 0, bb);
    assert_int_equal(s.n_batches, 0);
    wait_delivered(p, &s, 3);
    assert_int_equal(s.n_batches, 2);
    assert_int_equal(s.batch_offs[0], a);
    assert_int_equal(s.batch_offs[1], b);
    uint64_t bc = cfd_producer_batch_begin(p, 0, &c);
    cfd_producer_batch_end(p, 0, bc);
    assert_int_equal(s.n_batches, 3);
    assert_int_equal(s.batch_offs[2], c);
    cfd_producer_flush(p, 10000);
    assert_int_equal(cfd_producer_undelivered(p), 0);
    cfd_producer_destroy(p);
}

/* A batch of an earlier claim is not handed back; its outputs still count delivered
 * (they leave the outbox). Outputs of no batch are delivered too. */
static void test_earlier_claim_ignored(void **state)
{
    seen s = {0};
    (void)state;
    cfd_producer *p = producer_new(&s);
    const int64_t a = 3, b = 4;
    cfd_producer_claim(p, 0, 1);
    uint64_t ba = cfd_producer_batch_begin(p, 0, &a);
    send_out(p, ba, "old/1", 10);
    cfd_producer_batch_end(p, 0, ba);
    cfd_producer_release(p, 0);
    cfd_producer_claim(p, 0, 2);
    send_out(p, 0, "resent/1", 10);
    uint64_t bb = cfd_producer_batch_begin(p, 0, &b);
    send_out(p, bb, "new/1", 10);
    cfd_producer_batch_end(p, 0, bb);
    wait_delivered(p, &s, 3);
    assert_int_equal(s.n_batches, 1);
    assert_int_equal(s.batch_offs[0], b);
    cfd_producer_destroy(p);
}

/* An output larger than message.max.bytes is refused at once: what the app builds goes
 * in its place, under its id, and its batch is delivered. */
static void test_refused_replaced(void **state)
{
    seen s = {0};
    (void)state;
    cfd_producer *p = producer_new(&s);
    const int64_t a = 8;
    cfd_producer_claim(p, 0, 1);
    uint64_t ba = cfd_producer_batch_begin(p, 0, &a);
    send_out(p, ba, "big/1", 20000);
    cfd_producer_batch_end(p, 0, ba);
    assert_int_equal(s.n_refused, 1);
    assert_false(s.bare);
    assert_non_null(strstr(s.refused_detail, "output big/1 to out (20000 bytes) refused "
                                             "for good: "));
    wait_delivered(p, &s, 1);
    assert_string_equal(s.delivered[0], "big/1");
    assert_int_equal(s.n_batches, 1);
    assert_int_equal(s.batch_offs[0], a);
    cfd_producer_destroy(p);
}

/* A message's header name as text ("" when absent), in out. */
static const char *header_of(rd_kafka_message_t *m, const char *name, char *out,
                             size_t size)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
        snprintf(out, size, "%.*s", (int)len, (const char *)v);
    return out;
}

/* Every output carries "id" and its kind's "type"; a replacement of a refused output
 * the dead-letter kind's type; an output of a kind with no topic goes to the
 * dead-letter topic with no "type", since its bytes are no dead letter. */
static void test_type_header(void **state)
{
    static const struct {
        const char *topic, *id, *type;
    } want[] = {
        {"out", "a/1", "test.v1.Out"},
        {"dl", "big/1", "test.v1.DeadLetter"},
        {"dl", "stray/1", ""},
    };
    const size_t n_want = sizeof(want) / sizeof(want[0]);
    seen s = {0};
    char errstr[512];
    (void)state;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr));
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(owner);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(owner);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "out", 1, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "dl", 1, 1), 0);
    cfd_producer *p = producer_on(&s, bootstraps);
    cfd_producer_claim(p, 0, 1);
    send_out(p, 0, "a/1", 10);
    send_out(p, 0, "big/1", 20000);
    cfd_producer_send(p, 0, 0, "stray/1", KIND_STRAY, "k", 1, "x", 1);
    wait_delivered(p, &s, n_want);

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", "test-type-header", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(parts, "out", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(parts, "dl", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    size_t got = 0;
    int64_t until = cfd_monotonic_ms() + 30000;
    while (got < n_want && cfd_monotonic_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            char id[64], type[64];
            header_of(m, "id", id, sizeof(id));
            header_of(m, "type", type, sizeof(type));
            size_t i = 0;
            while (i < n_want && strcmp(want[i].id, id) != 0)
                i++;
            if (i == n_want)
                fail_msg("unexpected output id \"%s\"", id);
            assert_string_equal(rd_kafka_topic_name(m->rkt), want[i].topic);
            assert_string_equal(type, want[i].type);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(got, n_want);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    cfd_producer_destroy(p);
    rd_kafka_destroy(owner);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_in_order),
        cmocka_unit_test(test_earlier_claim_ignored),
        cmocka_unit_test(test_refused_replaced),
        cmocka_unit_test(test_type_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

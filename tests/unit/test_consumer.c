/*
 * Unit tests for src/bus/consumer.c, against librdkafka's in-process mock cluster: the
 * app says where an assigned partition resumes, each poll's messages come one
 * partition at a time, a seek makes a partition come again, what the app marks done
 * is committed (at the next poll, and at a revocation) and read back, an assignment
 * the app refuses is not taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/clock.h"
#include "confirmd/consumer.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define PARTS 2
#define PER_PART 5

/* What the callbacks saw. */
typedef struct seen {
    bool refuse;           /* refuse every assignment */
    int64_t resume[PARTS]; /* where assign says each partition resumes */
    int n_assigns, n_assigned, n_revokes;
    int64_t got[PARTS][32]; /* offsets received, per partition */
    size_t n_got[PARTS];
    int n_batches;
    bool mixed; /* a batch held more than one partition */
} seen;

static int on_assign(void *ctx, cfd_topic_part *parts, size_t n)
{
    seen *s = ctx;
    s->n_assigns++;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(parts[i].topic, "in");
        assert_int_equal(parts[i].topic_index, 0);
        parts[i].offset = s->resume[parts[i].partition];
    }
    return s->refuse ? -1 : 0;
}

static void on_assigned(void *ctx, const cfd_topic_part *parts, size_t n)
{
    seen *s = ctx;
    (void)parts;
    (void)n;
    s->n_assigned++;
}

static cfd_consumer *revoking; /* marks partition 1 done up to 2 when revoked */

static void on_revoke(void *ctx, const cfd_topic_part *parts, size_t n)
{
    seen *s = ctx;
    (void)parts;
    (void)n;
    s->n_revokes++;
    if (revoking)
        cfd_consumer_done(revoking, 0, 1, 2);
}

static cfd_err on_batch(void *ctx, int32_t part, cfd_msg *msgs, size_t n)
{
    seen *s = ctx;
    s->n_batches++;
    for (size_t i = 0; i < n; i++) {
        s->mixed |= msgs[i].partition != part;
        assert_string_equal(msgs[i].topic, "in");
        assert_int_equal(msgs[i].len, 1);
        if (s->n_got[part] < 32)
            s->got[part][s->n_got[part]++] = msgs[i].offset;
    }
    return CFD_OK;
}

static void on_error(void *ctx, cfd_kafka_fault fault, const char *what)
{
    (void)ctx;
    (void)fault;
    (void)what;
}

static volatile sig_atomic_t stop_flag;

typedef struct fixture {
    rd_kafka_t *owner; /* holds the mock cluster */
    char bootstraps[256];
} fixture;

/* A one-broker mock cluster with topic "in" of PARTS partitions, PER_PART messages
 * in each. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr));
    f->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(f->owner);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(f->owner);
    snprintf(f->bootstraps, sizeof(f->bootstraps), "%s",
             rd_kafka_mock_cluster_bootstraps(mc));
    assert_int_equal(rd_kafka_mock_topic_create(mc, "in", PARTS, 1), 0);
    for (int p = 0; p < PARTS; p++)
        for (int i = 0; i < PER_PART; i++)
            assert_int_equal(rd_kafka_producev(f->owner, RD_KAFKA_V_TOPIC("in"),
                                               RD_KAFKA_V_PARTITION(p),
                                               RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END),
                             0);
    assert_int_equal(rd_kafka_flush(f->owner, 10000), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rd_kafka_destroy(f->owner);
    free(f);
    return 0;
}

/* A consumer of topics in group. @returns it, or NULL with errstr filled. */
static cfd_consumer *consumer_of(const fixture *f, seen *s, const char *group,
                                 const char *const *topics, size_t n_topics, char *errstr,
                                 size_t errstr_size)
{
    const cfd_kafka_prop props[] = {
        {"bootstrap.servers", (char *)f->bootstraps, CFD_KAFKA_BOTH},
        {"group.id", (char *)group, CFD_KAFKA_CONSUMER},
        {"session.timeout.ms", "6000", CFD_KAFKA_CONSUMER},
    };
    const cfd_kafka_opts kafka = {props, 3};
    const cfd_consumer_opts opts = {.kafka = &kafka,
                                    .topics = topics,
                                    .n_topics = n_topics,
                                    .max_messages = 100,
                                    .stop = &stop_flag,
                                    .log_module = "test"};
    const cfd_consumer_cbs cbs = {.ctx = s,
                                  .assign = on_assign,
                                  .assigned = on_assigned,
                                  .revoke = on_revoke,
                                  .batch = on_batch,
                                  .error = on_error};
    return cfd_consumer_new(&opts, &cbs, errstr, errstr_size);
}

static cfd_consumer *consumer_new(const fixture *f, seen *s, const char *group)
{
    const char *const topics[] = {"in"};
    char errstr[512];
    cfd_consumer *c = consumer_of(f, s, group, topics, 1, errstr, sizeof(errstr));
    if (!c)
        fail_msg("cfd_consumer_new: %s", errstr);
    return c;
}

static size_t total(const seen *s)
{
    size_t n = 0;
    for (int p = 0; p < PARTS; p++)
        n += s->n_got[p];
    return n;
}

/* Polls until want messages came in all (or 30 s). */
static void poll_until(cfd_consumer *c, const seen *s, size_t want)
{
    int64_t until = cfd_monotonic_ms() + 30000;
    while (total(s) < want && cfd_monotonic_ms() < until)
        assert_int_equal(cfd_consumer_poll(c, 100), CFD_OK);
    assert_int_equal(total(s), want);
}

/* Partition 0 resumes at 2 (the app's word), partition 1 at the start (nothing
 * committed); each batch holds one partition; after a seek back, partition 1 comes
 * again from there. Then commits are read back. */
static void test_resume_dispatch_seek_commit(void **state)
{
    fixture *f = *state;
    seen s = {.resume = {2, CFD_OFFSET_COMMITTED}};
    cfd_consumer *c = consumer_new(f, &s, "g1");
    poll_until(c, &s, (PER_PART - 2) + PER_PART);
    assert_int_equal(s.n_assigns, 1);
    assert_int_equal(s.n_assigned, 1);
    assert_false(s.mixed);
    assert_int_equal(s.got[0][0], 2);
    assert_int_equal(s.got[1][0], 0);
    assert_int_equal(s.got[1][PER_PART - 1], PER_PART - 1);
    assert_int_equal(cfd_consumer_behind(c, "in", 1, PER_PART - 1), 0);
    assert_int_equal(cfd_consumer_behind(c, "in", 1, 1), PER_PART - 2);

    char errstr[256];
    assert_int_equal(cfd_consumer_seek(c, "in", 1, 3, errstr, sizeof(errstr)), 0);
    poll_until(c, &s, (PER_PART - 2) + PER_PART + 2);
    assert_int_equal(s.got[1][PER_PART], 3);
    assert_int_equal(s.got[1][PER_PART + 1], 4);

    /* Done up to 3 (then a lower mark, which changes nothing): committed is 4, the
     * next offset to read. */
    cfd_consumer_done(c, 0, 0, 3);
    cfd_consumer_done(c, 0, 0, 1);
    cfd_consumer_done(c, 0, 7, 3); /* not held: ignored */
    cfd_topic_part tp[2] = {{.topic = "in", .partition = 0},
                            {.topic = "in", .partition = 1}};
    int64_t until = cfd_monotonic_ms() + 10000;
    do {
        assert_int_equal(cfd_consumer_poll(c, 100), CFD_OK); /* commits, serves it */
        assert_int_equal(cfd_consumer_committed(c, tp, 2, errstr, sizeof(errstr)), 0);
    } while (tp[0].offset != 4 && cfd_monotonic_ms() < until);
    assert_int_equal(tp[0].offset, 4);
    assert_int_equal(tp[1].offset, -1); /* nothing marked: nothing committed */
    /* Held partitions are committed at most once a second (Kafka's group coordinator
     * is not to be asked at every poll): marked now, not committed by the next poll
     * (when it comes soon enough to tell), but within a few seconds. */
    int64_t seen4 = cfd_monotonic_ms();
    cfd_consumer_done(c, 0, 0, 4);
    assert_int_equal(cfd_consumer_poll(c, 0), CFD_OK);
    assert_int_equal(cfd_consumer_committed(c, tp, 1, errstr, sizeof(errstr)), 0);
    if (cfd_monotonic_ms() - seen4 < 500)
        assert_int_equal(tp[0].offset, 4);
    until = cfd_monotonic_ms() + 10000;
    do {
        assert_int_equal(cfd_consumer_poll(c, 100), CFD_OK);
        assert_int_equal(cfd_consumer_committed(c, tp, 1, errstr, sizeof(errstr)), 0);
    } while (tp[0].offset != 5 && cfd_monotonic_ms() < until);
    assert_int_equal(tp[0].offset, 5);

    /* What is marked done while the partitions are revoked is still committed. */
    revoking = c;
    cfd_consumer_close(c);
    revoking = NULL;
    assert_int_equal(s.n_revokes, 1);
    cfd_consumer_destroy(c);
    seen s2 = {.resume = {CFD_OFFSET_COMMITTED, CFD_OFFSET_COMMITTED}};
    c = consumer_new(f, &s2, "g1");
    tp[0].offset = tp[1].offset = 0;
    assert_int_equal(cfd_consumer_committed(c, tp, 2, errstr, sizeof(errstr)), 0);
    assert_int_equal(tp[0].offset, 5);
    assert_int_equal(tp[1].offset, 3);
    cfd_consumer_destroy(c);
}

/* An assignment the app refuses is not taken: nothing is consumed. */
static void test_refused_assignment(void **state)
{
    fixture *f = *state;
    seen s = {.refuse = true, .resume = {CFD_OFFSET_COMMITTED, CFD_OFFSET_COMMITTED}};
    cfd_consumer *c = consumer_new(f, &s, "g2");
    int64_t until = cfd_monotonic_ms() + 30000;
    while (s.n_assigns == 0 && cfd_monotonic_ms() < until)
        assert_int_equal(cfd_consumer_poll(c, 100), CFD_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(cfd_consumer_poll(c, 100), CFD_OK);
    assert_int_equal(s.n_assigns, 1);
    assert_int_equal(s.n_assigned, 0);
    assert_int_equal(total(&s), 0);
    cfd_consumer_destroy(c);
}

/* Topics of different partition counts are refused at start, naming both; topics of
 * one count are taken. */
static void test_partition_counts_differ(void **state)
{
    fixture *f = *state;
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(f->owner);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "same", PARTS, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "more", PARTS + 1, 1), 0);
    const char *const differ[] = {"in", "same", "more"}, *const one[] = {"in", "same"};
    seen s = {0};
    char errstr[512] = "";
    assert_null(consumer_of(f, &s, "g3", differ, 3, errstr, sizeof(errstr)));
    char want[64];
    snprintf(want, sizeof(want), "in has %d, more has %d", PARTS, PARTS + 1);
    assert_non_null(strstr(errstr, want));
    cfd_consumer *c = consumer_of(f, &s, "g3", one, 2, errstr, sizeof(errstr));
    assert_non_null(c);
    cfd_consumer_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_dispatch_seek_commit),
        cmocka_unit_test(test_refused_assignment),
        cmocka_unit_test(test_partition_counts_differ),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Unit tests for src/bus/kafka.c: the librdkafka configuration the worker builds for
 * each client (and confirmctl for its admin client) from the service defaults, the
 * kafka.* pass-through keys and the settings the delivery guarantee forces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "confirmd/config.h"
#include "confirmd/kafka.h"

/* @returns the value of prop on conf ("" when unset). */
static const char *conf_get(rd_kafka_conf_t *conf, const char *prop, char *buf, size_t size)
{
    size_t len = size;
    if (rd_kafka_conf_get(conf, prop, buf, &len) != RD_KAFKA_CONF_OK)
        buf[0] = '\0';
    return buf;
}

/* A scoped key wins over a shared one whatever their order; each client gets its own
 * scope only; consumer-only shared keys stay off the producer and the admin client;
 * forced keys win. */
static void test_conf_precedence(void **state)
{
    static const struct {
        const char *pairs[3];
        int role;
        const char *prop, *want;
    } cases[] = {
        {{"kafka.client.id=shared", "kafka.consumer.client.id=scoped"},
         CFD_KAFKA_CONSUMER,
         "client.id",
         "scoped"},
        {{"kafka.consumer.client.id=scoped", "kafka.client.id=shared"},
         CFD_KAFKA_CONSUMER,
         "client.id",
         "scoped"},
        {{"kafka.client.id=shared", "kafka.producer.client.id=scoped"},
         CFD_KAFKA_PRODUCER,
         "client.id",
         "scoped"},
        {{"kafka.producer.client.id=scoped", "kafka.client.id=shared"},
         CFD_KAFKA_PRODUCER,
         "client.id",
         "scoped"},
        {{"kafka.consumer.client.id=consumer", "kafka.client.id=shared"},
         CFD_KAFKA_PRODUCER,
         "client.id",
         "shared"},
        {{"kafka.producer.client.id=producer", "kafka.client.id=shared"},
         CFD_KAFKA_CONSUMER,
         "client.id",
         "shared"},
        {{"kafka.socket.timeout.ms=7000"}, CFD_KAFKA_PRODUCER, "socket.timeout.ms", "7000"},
        {{"kafka.socket.timeout.ms=7000"}, CFD_KAFKA_CONSUMER, "socket.timeout.ms", "7000"},
        /* A service default gives way to the operator's value. */
        {{"kafka.linger.ms=50"}, CFD_KAFKA_PRODUCER, "linger.ms", "50"},
        {{"kafka.producer.linger.ms=20", "kafka.linger.ms=50"},
         CFD_KAFKA_PRODUCER,
         "linger.ms",
         "20"},
        /* A shared consumer-only key reaches the consumer alone. */
        {{"kafka.group.id=mine"}, CFD_KAFKA_CONSUMER, "group.id", "mine"},
        {{"kafka.group.id=mine"}, CFD_KAFKA_PRODUCER, "group.id", ""},
        /* What the guarantee rests on cannot be turned off. */
        {{"kafka.consumer.enable.auto.commit=true"},
         CFD_KAFKA_CONSUMER,
         "enable.auto.commit",
         "false"},
        {{"kafka.producer.acks=1", "kafka.acks=0"}, CFD_KAFKA_PRODUCER, "acks", "-1"},
        /* An admin client takes the shared keys (SASL, TLS) and nothing else. */
        {{"kafka.security.protocol=sasl_ssl"},
         CFD_KAFKA_ADMIN,
         "security.protocol",
         "sasl_ssl"},
        {{"kafka.bootstrap.servers=b1:9092"},
         CFD_KAFKA_ADMIN,
         "bootstrap.servers",
         "b1:9092"},
        {{"kafka.producer.bootstrap.servers=p:9092"},
         CFD_KAFKA_ADMIN,
         "bootstrap.servers",
         "localhost:9092"},
        {{"kafka.consumer.client.id=c", "kafka.producer.client.id=p", "kafka.client.id=s"},
         CFD_KAFKA_ADMIN,
         "client.id",
         "s"},
        {{"kafka.group.id=mine"}, CFD_KAFKA_ADMIN, "group.id", ""},
        {{"kafka.linger.ms=50"}, CFD_KAFKA_ADMIN, "linger.ms", "50"},
        {{NULL}, CFD_KAFKA_ADMIN, "enable.idempotence", "false"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512], buf[256];
        cfd_config *cfg = cfd_config_new();
        for (size_t k = 0; k < 3 && cases[i].pairs[k]; k++)
            assert_int_equal(cfd_config_set_pair(cfg, cases[i].pairs[k], err, sizeof(err)),
                             CFD_OK);
        const cfd_kafka_opts opts = cfd_config_kafka_opts(cfg);
        rd_kafka_conf_t *conf = cfd_kafka_conf_new(&opts, cases[i].role, err, sizeof(err));
        if (!conf)
            fail_msg("case %zu: %s", i, err);
        const char *got = conf_get(conf, cases[i].prop, buf, sizeof(buf));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: %s is '%s', want '%s'", i, cases[i].prop, got,
                     cases[i].want);
        rd_kafka_conf_destroy(conf);
        cfd_config_destroy(cfg);
    }
}

static int n_set; /* calls of count_set */
static void count_set(rd_kafka_conf_t *conf)
{
    (void)conf;
    n_set++;
}

/* cfd_kafka_new: the client of the role asked for, with the caller's opaque and
 * settings; a refused property is named in errstr and nothing is left behind. */
static void test_client_new(void **state)
{
    static const struct {
        cfd_kafka_prop prop;
        int role;
        rd_kafka_type_t type; /* when made */
        const char *err;      /* in errstr, NULL: made */
    } cases[] = {
        {{"client.id", "x", CFD_KAFKA_BOTH}, CFD_KAFKA_CONSUMER, RD_KAFKA_CONSUMER, NULL},
        {{"client.id", "x", CFD_KAFKA_BOTH}, CFD_KAFKA_PRODUCER, RD_KAFKA_PRODUCER, NULL},
        {{"no.such.property", "1", CFD_KAFKA_BOTH},
         CFD_KAFKA_PRODUCER,
         RD_KAFKA_PRODUCER,
         "kafka.no.such.property"},
    };
    int opaque;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const cfd_kafka_opts opts = {&cases[i].prop, 1};
        char err[512] = "";
        n_set = 0;
        rd_kafka_t *rk =
            cfd_kafka_new(&opts, cases[i].role, &opaque, count_set, err, sizeof(err));
        if (cases[i].err) {
            assert_null(rk);
            if (!strstr(err, cases[i].err))
                fail_msg("case %zu: '%s' does not name %s", i, err, cases[i].err);
            continue;
        }
        if (!rk)
            fail_msg("case %zu: %s", i, err);
        assert_int_equal(n_set, 1);
        assert_int_equal(rd_kafka_type(rk), cases[i].type);
        assert_ptr_equal(rd_kafka_opaque(rk), &opaque);
        rd_kafka_destroy(rk);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_precedence),
        cmocka_unit_test(test_client_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

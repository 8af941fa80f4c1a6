/*
 * Unit tests for the mock broker control protocol (src/bus/mockctl.c): parsing,
 * application to an in-process mock cluster, and the control socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "confirmd/mockctl.h"

/* --- parsing ------------------------------------------------------------------ */

static const struct parse_case {
    const char *line;
    int ok;
    cfd_mockctl_op op;
    int32_t broker_id;
    int api_key;
    int err;
    int count;
    int rtt_ms;
    int32_t partition;
    const char *name;
    const char *key_type;
} parse_cases[] = {
    {"ping", 1, CFD_MOCKCTL_PING, 0, 0, 0, 0, 0, 0, "", ""},
    {"ping\r\n", 1, CFD_MOCKCTL_PING, 0, 0, 0, 0, 0, 0, "", ""},
    {"  bootstrap  ", 1, CFD_MOCKCTL_BOOTSTRAP, 0, 0, 0, 0, 0, 0, "", ""},
    {"broker-down 1", 1, CFD_MOCKCTL_BROKER_DOWN, 1, 0, 0, 0, 0, 0, "", ""},
    {"broker-up 3", 1, CFD_MOCKCTL_BROKER_UP, 3, 0, 0, 0, 0, 0, "", ""},
    {"rtt -1 250", 1, CFD_MOCKCTL_RTT, -1, 0, 0, 0, 250, 0, "", ""},
    {"request-errors 0 6 3", 1, CFD_MOCKCTL_REQUEST_ERRORS, 0, 0, 6, 3, 0, 0, "", ""},
    {"request-errors Produce NOT_LEADER_FOR_PARTITION 2", 1, CFD_MOCKCTL_REQUEST_ERRORS, 0,
     0, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 2, 0, 0, "", ""},
    {"request-errors offsetcommit RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS 1", 1,
     CFD_MOCKCTL_REQUEST_ERRORS, 0, 8, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, 1, 0, 0, "",
     ""},
    {"request-errors Fetch _TRANSPORT 1", 1, CFD_MOCKCTL_REQUEST_ERRORS, 0, 1,
     RD_KAFKA_RESP_ERR__TRANSPORT, 1, 0, 0, "", ""},
    {"clear-request-errors Heartbeat", 1, CFD_MOCKCTL_CLEAR_REQUEST_ERRORS, 0, 12, 0, 0, 0,
     0, "", ""},
    {"broker-request-error-rtts 2 Produce 0 500 4", 1,
     CFD_MOCKCTL_BROKER_REQUEST_ERROR_RTTS, 2, 0, 0, 4, 500, 0, "", ""},
    {"topic-create t1 12", 1, CFD_MOCKCTL_TOPIC_CREATE, 0, 0, 0, 12, 0, 0, "t1", ""},
    {"topic-error t1 TOPIC_AUTHORIZATION_FAILED", 1, CFD_MOCKCTL_TOPIC_ERROR, 0, 0,
     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 0, 0, 0, "t1", ""},
    {"partition-leader confirmd.events 7 2", 1, CFD_MOCKCTL_PARTITION_LEADER, 2, 0, 0, 0, 0,
     7, "confirmd.events", ""},
    {"coordinator group g1 2", 1, CFD_MOCKCTL_COORDINATOR, 2, 0, 0, 0, 0, 0, "g1", "group"},
    {"coordinator txn tx-1 1", 1, CFD_MOCKCTL_COORDINATOR, 1, 0, 0, 0, 0, 0, "tx-1",
     "transaction"},
    {"help", 1, CFD_MOCKCTL_HELP, 0, 0, 0, 0, 0, 0, "", ""},
    {"shutdown", 1, CFD_MOCKCTL_SHUTDOWN, 0, 0, 0, 0, 0, 0, "", ""},
    /* rejected */
    {"", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"   \r\n", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"frobnicate", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"PING", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"ping extra", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"broker-down", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"broker-down x", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"broker-down -1", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"broker-down 1 2", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"rtt 1 10ms", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"request-errors Nope 6 1", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"request-errors 0 NO_SUCH_ERROR 1", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"request-errors 0 6 0", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"topic-create t1 0", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"coordinator cluster g1 1", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
    {"a b c d e f g h i j", 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        cfd_mockctl_cmd cmd;
        char errstr[256] = "";
        int r = cfd_mockctl_parse(c->line, &cmd, errstr, sizeof(errstr));

        if (!c->ok) {
            if (r == 0)
                fail_msg("\"%s\" should be rejected", c->line);
            assert_true(errstr[0] != '\0');
            continue;
        }
        if (r != 0)
            fail_msg("\"%s\" rejected: %s", c->line, errstr);
        assert_int_equal(cmd.op, c->op);
        assert_int_equal(cmd.broker_id, c->broker_id);
        assert_int_equal(cmd.api_key, c->api_key);
        assert_int_equal(cmd.err, c->err);
        assert_int_equal(cmd.count, c->count);
        assert_int_equal(cmd.rtt_ms, c->rtt_ms);
        assert_int_equal(cmd.partition, c->partition);
        assert_string_equal(cmd.name, c->name);
        assert_string_equal(cmd.key_type, c->key_type);
    }
}

static void test_parse_long_line(void **state)
{
    char line[2048], errstr[128];
    cfd_mockctl_cmd cmd;

    (void)state;
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    assert_int_equal(cfd_mockctl_parse(line, &cmd, errstr, sizeof(errstr)), -1);

    /* A name argument longer than a Kafka topic name is refused, not truncated. */
    memcpy(line, "topic-create ", 13);
    memcpy(line + 13 + 300, " 4", 3);
    assert_int_equal(cfd_mockctl_parse(line, &cmd, errstr, sizeof(errstr)), -1);
}

static const struct spec_case {
    const char *spec;
    int ok;
    const char *name;
    int parts;
} spec_cases[] = {
    {"confirmd.events:8", 1, "confirmd.events", 8},
    {"a:1", 1, "a", 1},
    {"ns:topic:3", 1, "ns:topic", 3},
    {"noparts", 0, NULL, 0},
    {":4", 0, NULL, 0},
    {"t:", 0, NULL, 0},
    {"t:0", 0, NULL, 0},
    {"t:-2", 0, NULL, 0},
    {"t:4x", 0, NULL, 0},
};

static void test_topic_spec_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
        const struct spec_case *c = &spec_cases[i];
        char name[CFD_MOCKCTL_NAME_MAX], errstr[128];
        int parts = 0;
        int r = cfd_mockctl_topic_spec_parse(c->spec, name, sizeof(name), &parts, errstr,
                                             sizeof(errstr));
        if (!c->ok) {
            if (r == 0)
                fail_msg("spec \"%s\" should be rejected", c->spec);
            continue;
        }
        if (r != 0)
            fail_msg("spec \"%s\" rejected: %s", c->spec, errstr);
        assert_string_equal(name, c->name);
        assert_int_equal(parts, c->parts);
    }
}

static void test_api_key_and_err_names(void **state)
{
    rd_kafka_resp_err_t err;

    (void)state;
    assert_int_equal(cfd_mockctl_api_key_parse("Produce"), 0);
    assert_int_equal(cfd_mockctl_api_key_parse("METADATA"), 3);
    assert_int_equal(cfd_mockctl_api_key_parse("InitProducerId"), 22);
    assert_int_equal(cfd_mockctl_api_key_parse("42"), 42);
    assert_int_equal(cfd_mockctl_api_key_parse("-1"), -1);
    assert_int_equal(cfd_mockctl_api_key_parse("40000"), -1);
    assert_int_equal(cfd_mockctl_err_parse("-195", &err), 0);
    assert_int_equal(err, RD_KAFKA_RESP_ERR__TRANSPORT);
    assert_int_equal(
        cfd_mockctl_err_parse("rd_kafka_resp_err_coordinator_not_available", &err), 0);
    assert_int_equal(err, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(cfd_mockctl_err_parse("", &err), -1);
}

/* --- application to a mock cluster -------------------------------------------- */

typedef struct fixture {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mcluster;
} fixture;

static int setup_cluster(void **state)
{
    char errstr[256];
    fixture *f = calloc(1, sizeof(*f));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!f->rk)
        return -1;
    f->mcluster = rd_kafka_mock_cluster_new(f->rk, 3);
    if (!f->mcluster)
        return -1;
    *state = f;
    return 0;
}

static int teardown_cluster(void **state)
{
    fixture *f = *state;

    rd_kafka_mock_cluster_destroy(f->mcluster);
    rd_kafka_destroy(f->rk);
    free(f);
    return 0;
}

/* Parses and applies line. @returns the apply result; reply holds the answer. */
static int run(fixture *f, const char *line, char *reply, size_t n)
{
    char errstr[256];
    cfd_mockctl_cmd cmd;

    if (cfd_mockctl_parse(line, &cmd, errstr, sizeof(errstr)) != 0)
        fail_msg("\"%s\": %s", line, errstr);
    return cfd_mockctl_apply(f->mcluster, &cmd, reply, n);
}

static const struct apply_case {
    const char *line;
    int ok;
    const char *reply_prefix;
} apply_cases[] = {
    {"ping", 1, "OK pong"},
    {"bootstrap", 1, "OK 127.0.0.1:"},
    {"broker-down 2", 1, "OK broker 2 down"},
    {"broker-up 2", 1, "OK broker 2 up"},
    {"broker-down 9", 0, "ERR broker 9 down: "},
    {"rtt -1 5", 1, "OK broker -1 rtt 5 ms"},
    {"rtt 1 0", 1, "OK"},
    {"request-errors Produce NOT_LEADER_FOR_PARTITION 2", 1, "OK next 2 requests"},
    {"clear-request-errors Produce", 1, "OK cleared"},
    {"broker-request-error-rtts 1 Fetch 0 10 2", 1, "OK broker 1: next 2"},
    {"broker-request-error-rtts 7 Fetch 0 10 2", 0, "ERR"},
    {"topic-create unit.t 6", 1, "OK topic unit.t created with 6 partitions"},
    {"partition-leader unit.t 5 3", 1, "OK unit.t [5] leader is broker 3"},
    {"partition-leader unit.t 6 3", 0, "ERR"},
    {"coordinator group g1 2", 1, "OK group g1 coordinator is broker 2"},
    {"topic-error unit.t 0", 1, "OK topic unit.t error NO_ERROR"},
    {"help", 1, "OK ping; bootstrap; broker-down ID"},
    {"shutdown", 1, "OK bye"},
};

static void test_apply_table(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; i < sizeof(apply_cases) / sizeof(apply_cases[0]); i++) {
        const struct apply_case *c = &apply_cases[i];
        char reply[1100];
        int r = run(f, c->line, reply, sizeof(reply));

        if ((r == 0) != c->ok ||
            strncmp(reply, c->reply_prefix, strlen(c->reply_prefix)) != 0)
            fail_msg("\"%s\" answered \"%s\" (rc %d), expected \"%s...\"", c->line, reply,
                     r, c->reply_prefix);
    }
}

/* --- the control socket ------------------------------------------------------- */

/* Sends line to the server over a fresh connection, polls the server until the
 * answer arrives, and returns the answer without its newline. */
static int roundtrip(cfd_mockctl_server *srv, int fd, const char *line, char *reply,
                     size_t n, int *shutdown)
{
    size_t len = 0;

    if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line))
        return -1;
    for (int i = 0; i < 200 && (len == 0 || reply[len - 1] != '\n'); i++) {
        ssize_t r;
        int p = cfd_mockctl_server_poll(srv, 10);

        if (p < 0)
            return -1;
        if (p > 0)
            *shutdown = 1;
        r = recv(fd, reply + len, n - 1 - len, MSG_DONTWAIT);
        if (r > 0)
            len += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
    if (len == 0 || reply[len - 1] != '\n')
        return -1;
    reply[len - 1] = '\0';
    return 0;
}

static void test_server_socket(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/cfd-mockctl-XXXXXX";
    char path[128], errstr[256], reply[1100];
    struct sockaddr_un sa;
    cfd_mockctl_server *srv;
    int fd, shutdown = 0;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ctl.sock", dir);
    srv = cfd_mockctl_server_new(f->mcluster, path, errstr, sizeof(errstr));
    assert_non_null(srv);

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

    assert_int_equal(roundtrip(srv, fd, "ping\n", reply, sizeof(reply), &shutdown), 0);
    assert_string_equal(reply, "OK pong");
    assert_int_equal(roundtrip(srv, fd, "nope\r\n", reply, sizeof(reply), &shutdown), 0);
    assert_string_equal(reply, "ERR unknown command \"nope\" (try help)");
    assert_int_equal(roundtrip(srv, fd, "broker-down 1\n", reply, sizeof(reply), &shutdown),
                     0);
    assert_string_equal(reply, "OK broker 1 down");
    assert_int_equal(shutdown, 0);
    assert_int_equal(roundtrip(srv, fd, "shutdown\n", reply, sizeof(reply), &shutdown), 0);
    assert_string_equal(reply, "OK bye");
    assert_int_equal(shutdown, 1);

    close(fd);
    cfd_mockctl_server_destroy(srv);
    assert_int_equal(access(path, F_OK), -1); /* socket file removed */
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_long_line),
        cmocka_unit_test(test_topic_spec_table),
        cmocka_unit_test(test_api_key_and_err_names),
        cmocka_unit_test_setup_teardown(test_apply_table, setup_cluster, teardown_cluster),
        cmocka_unit_test_setup_teardown(test_server_socket, setup_cluster,
                                        teardown_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

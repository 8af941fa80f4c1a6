/*
 * Mock broker control: command parsing, application to the mock cluster and the
 * unix-domain control socket; see include/confirmd/mockctl.h.
 */
#include "confirmd/mockctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "confirmd/alloc.h"
#include "confirmd/log.h"
#include "confirmd/text.h"

#define MOCKCTL_MAX_ARGS 8
#define MOCKCTL_LINE_MAX 1024
#define MOCKCTL_MAX_CLIENTS 32

/* Kafka protocol request names by ApiKey, for the ones tests are likely to fail. */
static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
    {"SaslAuthenticate", 36},
};

/* Command names, their argument counts (min..max) and their usage line. */
static const struct {
    const char *name;
    cfd_mockctl_op op;
    int min_args;
    int max_args;
    const char *usage;
} commands[] = {
    {"ping", CFD_MOCKCTL_PING, 0, 0, "ping"},
    {"bootstrap", CFD_MOCKCTL_BOOTSTRAP, 0, 0, "bootstrap"},
    {"broker-down", CFD_MOCKCTL_BROKER_DOWN, 1, 1, "broker-down ID"},
    {"broker-up", CFD_MOCKCTL_BROKER_UP, 1, 1, "broker-up ID"},
    {"rtt", CFD_MOCKCTL_RTT, 2, 2, "rtt ID MS"},
    {"request-errors", CFD_MOCKCTL_REQUEST_ERRORS, 3, 3, "request-errors APIKEY ERR COUNT"},
    {"clear-request-errors", CFD_MOCKCTL_CLEAR_REQUEST_ERRORS, 1, 1,
     "clear-request-errors APIKEY"},
    {"broker-request-error-rtts", CFD_MOCKCTL_BROKER_REQUEST_ERROR_RTTS, 5, 5,
     "broker-request-error-rtts ID APIKEY ERR RTT_MS COUNT"},
    {"topic-create", CFD_MOCKCTL_TOPIC_CREATE, 2, 3,
     "topic-create NAME PARTITIONS [REPLICATION]"},
    {"topic-error", CFD_MOCKCTL_TOPIC_ERROR, 2, 2, "topic-error NAME ERR"},
    {"partition-leader", CFD_MOCKCTL_PARTITION_LEADER, 3, 3,
     "partition-leader TOPIC PARTITION BROKER"},
    {"coordinator", CFD_MOCKCTL_COORDINATOR, 3, 3, "coordinator group|txn KEY BROKER"},
    {"help", CFD_MOCKCTL_HELP, 0, 0, "help"},
    {"shutdown", CFD_MOCKCTL_SHUTDOWN, 0, 0, "shutdown"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Parses a base-10 integer in [min, max] that fills the whole string.
 * @returns 0 and sets *out, -1 otherwise. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (*s == '\0')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cfd_mockctl_api_key_parse(const char *s)
{
    long v;

    for (size_t i = 0; i < sizeof(api_keys) / sizeof(api_keys[0]); i++)
        if (strcasecmp(s, api_keys[i].name) == 0)
            return api_keys[i].key;
    if (parse_long(s, 0, INT16_MAX, &v) == 0)
        return (int)v;
    return -1;
}

int cfd_mockctl_err_parse(const char *s, rd_kafka_resp_err_t *err)
{
    static const char prefix[] = "RD_KAFKA_RESP_ERR_";
    const struct rd_kafka_err_desc *descs;
    size_t cnt;
    long v;

    if (parse_long(s, INT_MIN, INT_MAX, &v) == 0) {
        *err = (rd_kafka_resp_err_t)v;
        return 0;
    }
    if (strncasecmp(s, prefix, sizeof(prefix) - 1) == 0)
        s += sizeof(prefix) - 1;
    rd_kafka_get_err_descs(&descs, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        if (descs[i].name && strcasecmp(s, descs[i].name) == 0) {
            *err = descs[i].code;
            return 0;
        }
    }
    return -1;
}

int cfd_mockctl_topic_spec_parse(const char *spec, char *name, size_t name_size,
                                 int *partitions, char *errstr, size_t errstr_size)
{
    const char *colon = strrchr(spec, ':');
    size_t len;
    long v;

    if (!colon || colon == spec) {
        snprintf(errstr, errstr_size, "topic spec \"%s\" is not NAME:PARTITIONS", spec);
        return -1;
    }
    len = (size_t)(colon - spec);
    if (len >= name_size || len >= CFD_MOCKCTL_NAME_MAX) {
        snprintf(errstr, errstr_size, "topic name in \"%s\" is too long", spec);
        return -1;
    }
    if (parse_long(colon + 1, 1, 100000, &v) != 0) {
        snprintf(errstr, errstr_size, "partition count in \"%s\" is not 1..100000", spec);
        return -1;
    }
    memcpy(name, spec, len);
    name[len] = '\0';
    *partitions = (int)v;
    return 0;
}

/* Sets dst (CFD_MOCKCTL_NAME_MAX bytes) to a name argument, which is never cut.
 * @returns 0, or -1 with errstr filled when it does not fit. */
static int set_name(char *dst, const char *src, char *errstr, size_t errstr_size)
{
    size_t len = cfd_text_copy(dst, CFD_MOCKCTL_NAME_MAX, src);

    if (len >= CFD_MOCKCTL_NAME_MAX) {
        snprintf(errstr, errstr_size, "name too long (%zu bytes)", len);
        return -1;
    }
    return 0;
}

/* Fills errstr with "bad <what> \"<value>\"" and returns -1. */
static int bad_arg(char *errstr, size_t errstr_size, const char *what, const char *value)
{
    snprintf(errstr, errstr_size, "bad %s \"%s\"", what, value);
    return -1;
}

/* Fills the fields of cmd from the arguments of its command. */
static int parse_args(cfd_mockctl_cmd *cmd, char **argv, char *errstr, size_t errstr_size)
{
    long v;
    int key;

    switch (cmd->op) {
    case CFD_MOCKCTL_BROKER_DOWN:
    case CFD_MOCKCTL_BROKER_UP:
        if (parse_long(argv[0], 0, INT32_MAX, &v))
            return bad_arg(errstr, errstr_size, "broker id", argv[0]);
        cmd->broker_id = (int32_t)v;
        return 0;
    case CFD_MOCKCTL_RTT:
        if (parse_long(argv[0], -1, INT32_MAX, &v))
            return bad_arg(errstr, errstr_size, "broker id", argv[0]);
        cmd->broker_id = (int32_t)v;
        if (parse_long(argv[1], 0, 3600 * 1000, &v))
            return bad_arg(errstr, errstr_size, "rtt", argv[1]);
        cmd->rtt_ms = (int)v;
        return 0;
    case CFD_MOCKCTL_REQUEST_ERRORS:
    case CFD_MOCKCTL_CLEAR_REQUEST_ERRORS:
        if ((key = cfd_mockctl_api_key_parse(argv[0])) < 0)
            return bad_arg(errstr, errstr_size, "api key", argv[0]);
        cmd->api_key = (int16_t)key;
        if (cmd->op == CFD_MOCKCTL_CLEAR_REQUEST_ERRORS)
            return 0;
        if (cfd_mockctl_err_parse(argv[1], &cmd->err))
            return bad_arg(errstr, errstr_size, "error code", argv[1]);
        if (parse_long(argv[2], 1, 100000, &v))
            return bad_arg(errstr, errstr_size, "count", argv[2]);
        cmd->count = (int)v;
        return 0;
    case CFD_MOCKCTL_BROKER_REQUEST_ERROR_RTTS:
        if (parse_long(argv[0], 0, INT32_MAX, &v))
            return bad_arg(errstr, errstr_size, "broker id", argv[0]);
        cmd->broker_id = (int32_t)v;
        if ((key = cfd_mockctl_api_key_parse(argv[1])) < 0)
            return bad_arg(errstr, errstr_size, "api key", argv[1]);
        cmd->api_key = (int16_t)key;
        if (cfd_mockctl_err_parse(argv[2], &cmd->err))
            return bad_arg(errstr, errstr_size, "error code", argv[2]);
        if (parse_long(argv[3], 0, 3600 * 1000, &v))
            return bad_arg(errstr, errstr_size, "rtt", argv[3]);
        cmd->rtt_ms = (int)v;
        if (parse_long(argv[4], 1, 100000, &v))
            return bad_arg(errstr, errstr_size, "count", argv[4]);
        cmd->count = (int)v;
        return 0;
    case CFD_MOCKCTL_TOPIC_CREATE:
        if (set_name(cmd->name, argv[0], errstr, errstr_size))
            return -1;
        if (parse_long(argv[1], 1, 100000, &v))
            return bad_arg(errstr, errstr_size, "partition count", argv[1]);
        cmd->count = (int)v;
        if (argv[2]) {
            if (parse_long(argv[2], 1, 100, &v))
                return bad_arg(errstr, errstr_size, "replication factor", argv[2]);
            cmd->replication = (int)v;
        }
        return 0;
    case CFD_MOCKCTL_TOPIC_ERROR:
        if (set_name(cmd->name, argv[0], errstr, errstr_size))
            return -1;
        if (cfd_mockctl_err_parse(argv[1], &cmd->err))
            return bad_arg(errstr, errstr_size, "error code", argv[1]);
        return 0;
    case CFD_MOCKCTL_PARTITION_LEADER:
        if (set_name(cmd->name, argv[0], errstr, errstr_size))
            return -1;
        if (parse_long(argv[1], 0, INT32_MAX, &v))
            return bad_arg(errstr, errstr_size, "partition", argv[1]);
        cmd->partition = (int32_t)v;
        if (parse_long(argv[2], -1, INT32_MAX, &v))
            return bad_arg(errstr, errstr_size, "broker id", argv[2]);
        cmd->broker_id = (int32_t)v;
        return 0;
    case CFD_MOCKCTL_COORDINATOR:
        if (strcmp(argv[0], "group") == 0)
            strcpy(cmd->key_type, "group");
        else if (strcmp(argv[0], "txn") == 0 || strcmp(argv[0], "transaction") == 0)
            strcpy(cmd->key_type, "transaction");
        else
            return bad_arg(errstr, errstr_size, "coordinator type (group|txn)", argv[0]);
        if (set_name(cmd->name, argv[1], errstr, errstr_size))
            return -1;
        if (parse_long(argv[2], 0, INT32_MAX, &v))
            return bad_arg(errstr, errstr_size, "broker id", argv[2]);
        cmd->broker_id = (int32_t)v;
        return 0;
    default:
        return 0;
    }
}

int cfd_mockctl_parse(const char *line, cfd_mockctl_cmd *cmd, char *errstr,
                      size_t errstr_size)
{
    char buf[MOCKCTL_LINE_MAX];
    char *argv[MOCKCTL_MAX_ARGS + 1] = {0};
    char *save = NULL, *tok;
    int argc = 0;
    size_t len = strlen(line);

    memset(cmd, 0, sizeof(*cmd));
    if (len >= sizeof(buf)) {
        snprintf(errstr, errstr_size, "line too long (%zu bytes)", len);
        return -1;
    }
    memcpy(buf, line, len + 1);
    for (tok = strtok_r(buf, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == MOCKCTL_MAX_ARGS) {
            snprintf(errstr, errstr_size, "too many arguments");
            return -1;
        }
        argv[argc++] = tok;
    }
    if (argc == 0) {
        snprintf(errstr, errstr_size, "empty command");
        return -1;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[0], commands[i].name) != 0)
            continue;
        if (argc - 1 < commands[i].min_args || argc - 1 > commands[i].max_args) {
            snprintf(errstr, errstr_size, "usage: %s", commands[i].usage);
            return -1;
        }
        cmd->op = commands[i].op;
        return parse_args(cmd, argv + 1, errstr, errstr_size);
    }
    snprintf(errstr, errstr_size, "unknown command \"%s\" (try help)", argv[0]);
    return -1;
}

/* Writes "OK <fmt...>" or "ERR <fmt...>" into reply. @returns 0 for OK, -1. */
static int reply_fmt(char *reply, size_t reply_size, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int reply_fmt(char *reply, size_t reply_size, int ok, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(reply, reply_size, "%s", ok ? "OK " : "ERR ");

    va_start(ap, fmt);
    if (n > 0 && (size_t)n < reply_size)
        vsnprintf(reply + n, reply_size - (size_t)n, fmt, ap);
    va_end(ap);
    return ok ? 0 : -1;
}

/* Answers for an rd_kafka_mock call's result. */
static int reply_err(char *reply, size_t reply_size, rd_kafka_resp_err_t err,
                     const char *what)
{
    if (err)
        return reply_fmt(reply, reply_size, 0, "%s: %s", what, rd_kafka_err2str(err));
    return reply_fmt(reply, reply_size, 1, "%s", what);
}

int cfd_mockctl_apply(rd_kafka_mock_cluster_t *mcluster, const cfd_mockctl_cmd *cmd,
                      char *reply, size_t reply_size)
{
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    char what[CFD_MOCKCTL_NAME_MAX + 64];

    switch (cmd->op) {
    case CFD_MOCKCTL_PING:
        return reply_fmt(reply, reply_size, 1, "pong");
    case CFD_MOCKCTL_BOOTSTRAP:
        return reply_fmt(reply, reply_size, 1, "%s",
                         rd_kafka_mock_cluster_bootstraps(mcluster));
    case CFD_MOCKCTL_HELP: {
        size_t off = 0;
        off += (size_t)snprintf(reply, reply_size, "OK");
        for (size_t i = 0; i < N_COMMANDS && off < reply_size; i++)
            off += (size_t)snprintf(reply + off, reply_size - off, "%s%s", i ? "; " : " ",
                                    commands[i].usage);
        return 0;
    }
    case CFD_MOCKCTL_SHUTDOWN:
        return reply_fmt(reply, reply_size, 1, "bye");
    case CFD_MOCKCTL_BROKER_DOWN:
        err = rd_kafka_mock_broker_set_down(mcluster, cmd->broker_id);
        snprintf(what, sizeof(what), "broker %d down", (int)cmd->broker_id);
        break;
    case CFD_MOCKCTL_BROKER_UP:
        err = rd_kafka_mock_broker_set_up(mcluster, cmd->broker_id);
        snprintf(what, sizeof(what), "broker %d up", (int)cmd->broker_id);
        break;
    case CFD_MOCKCTL_RTT:
        err = rd_kafka_mock_broker_set_rtt(mcluster, cmd->broker_id, cmd->rtt_ms);
        snprintf(what, sizeof(what), "broker %d rtt %d ms", (int)cmd->broker_id,
                 cmd->rtt_ms);
        break;
    case CFD_MOCKCTL_REQUEST_ERRORS: {
        rd_kafka_resp_err_t *errs = cfd_xcalloc((size_t)cmd->count, sizeof(*errs));
        for (int i = 0; i < cmd->count; i++)
            errs[i] = cmd->err;
        rd_kafka_mock_push_request_errors_array(mcluster, cmd->api_key, (size_t)cmd->count,
                                                errs);
        free(errs);
        snprintf(what, sizeof(what), "next %d requests of api key %d fail with %s",
                 cmd->count, (int)cmd->api_key, rd_kafka_err2name(cmd->err));
        break;
    }
    case CFD_MOCKCTL_CLEAR_REQUEST_ERRORS:
        rd_kafka_mock_clear_request_errors(mcluster, cmd->api_key);
        snprintf(what, sizeof(what), "cleared errors of api key %d", (int)cmd->api_key);
        break;
    case CFD_MOCKCTL_BROKER_REQUEST_ERROR_RTTS:
        /* The call is variadic in (err, rtt) pairs: push them one at a time. */
        for (int i = 0; i < cmd->count && !err; i++)
            err = rd_kafka_mock_broker_push_request_error_rtts(
                mcluster, cmd->broker_id, cmd->api_key, 1, cmd->err, cmd->rtt_ms);
        snprintf(what, sizeof(what),
                 "broker %d: next %d requests of api key %d get %s after %d ms",
                 (int)cmd->broker_id, cmd->count, (int)cmd->api_key,
                 rd_kafka_err2name(cmd->err), cmd->rtt_ms);
        break;
    case CFD_MOCKCTL_TOPIC_CREATE:
        err = rd_kafka_mock_topic_create(mcluster, cmd->name, cmd->count,
                                         cmd->replication > 0 ? cmd->replication : 1);
        snprintf(what, sizeof(what), "topic %s created with %d partitions", cmd->name,
                 cmd->count);
        break;
    case CFD_MOCKCTL_TOPIC_ERROR:
        rd_kafka_mock_topic_set_error(mcluster, cmd->name, cmd->err);
        snprintf(what, sizeof(what), "topic %s error %s", cmd->name,
                 rd_kafka_err2name(cmd->err));
        break;
    case CFD_MOCKCTL_PARTITION_LEADER:
        err = rd_kafka_mock_partition_set_leader(mcluster, cmd->name, cmd->partition,
                                                 cmd->broker_id);
        snprintf(what, sizeof(what), "%s [%d] leader is broker %d", cmd->name,
                 (int)cmd->partition, (int)cmd->broker_id);
        break;
    case CFD_MOCKCTL_COORDINATOR:
        err = rd_kafka_mock_coordinator_set(mcluster, cmd->key_type, cmd->name,
                                            cmd->broker_id);
        snprintf(what, sizeof(what), "%s %s coordinator is broker %d", cmd->key_type,
                 cmd->name, (int)cmd->broker_id);
        break;
    default:
        return reply_fmt(reply, reply_size, 0, "unsupported command %d", (int)cmd->op);
    }
    return reply_err(reply, reply_size, err, what);
}

/* --- control socket ----------------------------------------------------------- */

typedef struct mockctl_client {
    int fd; /* -1 when the slot is free */
    size_t len;
    char buf[MOCKCTL_LINE_MAX];
} mockctl_client;

struct cfd_mockctl_server {
    rd_kafka_mock_cluster_t *mcluster; /* borrowed */
    int listen_fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    mockctl_client clients[MOCKCTL_MAX_CLIENTS];
};

cfd_mockctl_server *cfd_mockctl_server_new(rd_kafka_mock_cluster_t *mcluster,
                                           const char *path, char *errstr,
                                           size_t errstr_size)
{
    struct sockaddr_un sa;
    cfd_mockctl_server *srv;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(errstr, errstr_size, "control socket path too long: %s", path);
        return NULL;
    }
    srv = cfd_xcalloc(1, sizeof(*srv));
    srv->mcluster = mcluster;
    for (int i = 0; i < MOCKCTL_MAX_CLIENTS; i++)
        srv->clients[i].fd = -1;
    strcpy(srv->path, path);

    srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->listen_fd < 0) {
        snprintf(errstr, errstr_size, "socket: %s", strerror(errno));
        free(srv);
        return NULL;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    unlink(path); /* a stale socket from a killed broker */
    if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(srv->listen_fd, 16) != 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        close(srv->listen_fd);
        free(srv);
        return NULL;
    }
    return srv;
}

/* Closes one client connection and frees its slot. */
static void client_close(mockctl_client *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* Accepts every pending connection into a free slot. */
static int server_accept(cfd_mockctl_server *srv)
{
    for (;;) {
        int fd = accept(srv->listen_fd, NULL, NULL);
        int slot = -1;

        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                errno == ECONNABORTED)
                return 0;
            cfd_error("mockctl", "accept: %s", strerror(errno));
            return -1;
        }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        for (int i = 0; i < MOCKCTL_MAX_CLIENTS && slot < 0; i++)
            if (srv->clients[i].fd < 0)
                slot = i;
        if (slot < 0) {
            static const char busy[] = "ERR too many control connections\n";
            (void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        srv->clients[slot].fd = fd;
        srv->clients[slot].len = 0;
    }
}

/* Answers one line. @returns 1 for a shutdown request, 0 otherwise. */
static int server_answer(cfd_mockctl_server *srv, mockctl_client *c, const char *line)
{
    char reply[MOCKCTL_LINE_MAX + 64];
    char errstr[256];
    cfd_mockctl_cmd cmd;
    size_t len;
    int shutdown = 0;

    if (cfd_mockctl_parse(line, &cmd, errstr, sizeof(errstr)) != 0) {
        snprintf(reply, sizeof(reply), "ERR %s", errstr);
    } else {
        cfd_mockctl_apply(srv->mcluster, &cmd, reply, sizeof(reply));
        shutdown = cmd.op == CFD_MOCKCTL_SHUTDOWN;
    }
    cfd_info("mockctl", "%s -> %s", line, reply);
    len = strlen(reply);
    reply[len++] = '\n';
    /* Answers are one short line: a client that cannot take it is dropped. */
    if (send(c->fd, reply, len, MSG_NOSIGNAL) != (ssize_t)len)
        client_close(c);
    return shutdown;
}

/* Reads what a client sent and answers each complete line.
 * @returns 1 when a shutdown was requested, 0 otherwise. */
static int client_read(cfd_mockctl_server *srv, mockctl_client *c)
{
    int shutdown = 0;

    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
        char *start, *nl;

        if (n == 0 ||
            (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            client_close(c);
            return shutdown;
        }
        if (n < 0)
            return shutdown;
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        start = c->buf;
        while (c->fd >= 0 && (nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            if (nl > start && nl[-1] == '\r')
                nl[-1] = '\0';
            if (*start)
                shutdown |= server_answer(srv, c, start);
            start = nl + 1;
        }
        if (c->fd < 0)
            return shutdown;
        c->len -= (size_t)(start - c->buf);
        memmove(c->buf, start, c->len);
        if (c->len == sizeof(c->buf) - 1) {
            static const char toolong[] = "ERR line too long\n";
            (void)!send(c->fd, toolong, sizeof(toolong) - 1, MSG_NOSIGNAL);
            client_close(c);
            return shutdown;
        }
    }
}

int cfd_mockctl_server_poll(cfd_mockctl_server *srv, int timeout_ms)
{
    struct pollfd pfd[MOCKCTL_MAX_CLIENTS + 1];
    int idx[MOCKCTL_MAX_CLIENTS + 1];
    nfds_t n = 0;
    int r, shutdown = 0;

    pfd[n].fd = srv->listen_fd;
    pfd[n].events = POLLIN;
    idx[n++] = -1;
    for (int i = 0; i < MOCKCTL_MAX_CLIENTS; i++) {
        if (srv->clients[i].fd < 0)
            continue;
        pfd[n].fd = srv->clients[i].fd;
        pfd[n].events = POLLIN;
        idx[n++] = i;
    }
    r = poll(pfd, n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    for (nfds_t i = 1; i < n; i++)
        if (pfd[i].revents)
            shutdown |= client_read(srv, &srv->clients[idx[i]]);
    if (pfd[0].revents & POLLIN && server_accept(srv) != 0)
        return -1;
    return shutdown;
}

void cfd_mockctl_server_destroy(cfd_mockctl_server *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < MOCKCTL_MAX_CLIENTS; i++)
        if (srv->clients[i].fd >= 0)
            client_close(&srv->clients[i]);
    close(srv->listen_fd);
    unlink(srv->path);
    free(srv);
}

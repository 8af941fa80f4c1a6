/*
 * The wallboard's server-sent events; see board_stream.h.
 *
 * Locks: s->lock guards the snapshot and the clients. A client's connection is
 * suspended under s->lock (so no resume can come before its suspension) and resumed
 * outside it: a suspended connection is neither read nor closed by libmicrohttpd, so
 * it stays valid until the one resume that takes it out of that state.
 */
#include "board_stream.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "confirmd/alloc.h"
#include "confirmd/clock.h"
#include "confirmd/log.h"

#define MOD "board"

typedef struct stream_client {
    cfd_board_stream *s;
    struct MHD_Connection *conn;
    struct stream_client *next;
    uint64_t version;     /* of the last board sent, 0 none */
    int64_t last_sent_ms; /* monotonic */
    bool suspended;
    bool gone; /* the peer closed while it was suspended */
    char *out; /* bytes queued and not read yet: out[off..len) */
    size_t len, off;
} stream_client;

struct cfd_board_stream {
    cfd_board *board;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a first client came, or closing */
    pthread_t thread;
    bool closing;
    char *event; /* the last snapshot as one whole event, NULL before the first */
    size_t event_len;
    char *data; /* its data (the board or the error), to tell a change */
    uint64_t version;
    stream_client *clients;
    int n_clients;
};

/* What a client gets first: a comment (the headers and a byte go out at once, so the
 * page knows it is connected) and how long a browser waits before connecting again. */
static const char stream_hello[] = ": confirmd board\nretry: 2000\n\n";
static const char stream_keepalive[] = ": keep-alive\n\n";

/* Takes data (malloc'd) as the new snapshot when it differs from the last one.
 * Called with s->lock held. */
static void snapshot_set(cfd_board_stream *s, const char *kind, char *data, size_t len)
{
    if (s->data && strcmp(s->data, data) == 0) {
        free(data);
        return;
    }
    s->version++;
    free(s->event);
    s->event_len =
        (size_t)snprintf(NULL, 0, "id: %" PRIu64 "\nevent: %s\ndata: ", s->version, kind) +
        len + 2;
    s->event = cfd_xmalloc(s->event_len + 1);
    int head = snprintf(s->event, s->event_len + 1,
                        "id: %" PRIu64 "\nevent: %s\ndata: ", s->version, kind);
    memcpy(s->event + head, data, len);
    memcpy(s->event + head + len, "\n\n", 3);
    free(s->data);
    s->data = data;
}

/* Builds the board (outside s->lock: it reads Redis) into the snapshot; an error
 * becomes an "unavailable" event the page shows. */
static void snapshot_build(cfd_board_stream *s)
{
    char errstr[512];
    size_t len = 0;
    char *json = cfd_board_json(s->board, CFD_BOARD_STREAM_MS, &len, errstr, sizeof errstr);
    const char *kind = "board";
    if (!json) {
        kind = "unavailable";
        json = cfd_board_error_json(errstr, &len);
    }
    pthread_mutex_lock(&s->lock);
    snapshot_set(s, kind, json, len);
    pthread_mutex_unlock(&s->lock);
}

/* A suspended connection is not read, so libmicrohttpd would notice a page that
 * went away only at its next write: looks whether the peer closed (it sends nothing
 * after its request, so readable means closed or reset). */
static bool peer_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN};
    char byte;
    return poll(&p, 1, 0) == 1 &&
           ((p.revents & (POLLHUP | POLLERR)) ||
            recv(ci->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0);
}

/* Takes out of suspension the clients that have something to read or went away, or
 * everyone when closing. */
static void resume_due(cfd_board_stream *s)
{
    struct MHD_Connection *due[CFD_BOARD_STREAM_MAX];
    int n = 0;
    int64_t now = cfd_monotonic_ms();

    pthread_mutex_lock(&s->lock);
    for (stream_client *cl = s->clients; cl; cl = cl->next)
        if (cl->suspended && n < CFD_BOARD_STREAM_MAX &&
            (s->closing || cl->version != s->version ||
             now - cl->last_sent_ms >= CFD_BOARD_STREAM_KEEPALIVE_MS ||
             (cl->gone = peer_gone(cl->conn)))) {
            cl->suspended = false;
            due[n++] = cl->conn;
        }
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < n; i++)
        MHD_resume_connection(due[i]);
}

static void *stream_run(void *arg)
{
    cfd_board_stream *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->closing) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += CFD_BOARD_STREAM_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!s->n_clients)
            pthread_cond_wait(&s->wake, &s->lock);
        else
            pthread_cond_timedwait(&s->wake, &s->lock, &until);
        if (s->closing || !s->n_clients)
            continue;
        pthread_mutex_unlock(&s->lock);
        snapshot_build(s);
        resume_due(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

cfd_board_stream *cfd_board_stream_new(cfd_board *board)
{
    cfd_board_stream *s = cfd_xcalloc(1, sizeof(*s));
    s->board = board;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->thread, NULL, stream_run, s) != 0) {
        cfd_error(MOD, "no thread for the board's event stream: pages will poll");
        cfd_board_stream_destroy(s);
        return NULL;
    }
    return s;
}

/* Queues the next event (or a keep-alive) for cl, or suspends it when it has
 * nothing to read. Called with s->lock held. @returns false when suspended. */
static bool client_fill(stream_client *cl)
{
    cfd_board_stream *s = cl->s;
    const char *src = NULL;
    size_t len = 0;

    if (s->event && cl->version != s->version) {
        src = s->event;
        len = s->event_len;
        cl->version = s->version;
    } else if (cfd_monotonic_ms() - cl->last_sent_ms >= CFD_BOARD_STREAM_KEEPALIVE_MS) {
        src = stream_keepalive;
        len = sizeof(stream_keepalive) - 1;
    } else {
        cl->suspended = true;
        MHD_suspend_connection(cl->conn);
        return false;
    }
    free(cl->out);
    cl->out = cfd_xmalloc(len);
    memcpy(cl->out, src, len);
    cl->len = len;
    cl->off = 0;
    return true;
}

/* libmicrohttpd's content reader: what cl has queued, else the next event. */
static ssize_t client_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_client *cl = cls;
    cfd_board_stream *s = cl->s;
    ssize_t n = 0;

    (void)pos;
    pthread_mutex_lock(&s->lock);
    if (cl->gone) /* the end: libmicrohttpd closes the connection (and logs nothing) */
        n = MHD_CONTENT_READER_END_OF_STREAM;
    else if (cl->off == cl->len && s->closing)
        n = MHD_CONTENT_READER_END_OF_STREAM;
    else if (cl->off < cl->len || client_fill(cl)) {
        size_t take = cl->len - cl->off < max ? cl->len - cl->off : max;
        memcpy(buf, cl->out + cl->off, take);
        cl->off += take;
        cl->last_sent_ms = cfd_monotonic_ms();
        n = (ssize_t)take;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* libmicrohttpd is done with cl's response: the connection closed. */
static void client_free(void *cls)
{
    stream_client *cl = cls;
    cfd_board_stream *s = cl->s;

    pthread_mutex_lock(&s->lock);
    for (stream_client **p = &s->clients; *p; p = &(*p)->next)
        if (*p == cl) {
            *p = cl->next;
            break;
        }
    s->n_clients--;
    pthread_mutex_unlock(&s->lock);
    free(cl->out);
    free(cl);
}

enum MHD_Result cfd_board_stream_serve(cfd_board_stream *s, struct MHD_Connection *c)
{
    static const char full[] = "too many board streams: poll /api/board\n";
    struct MHD_Response *r;
    unsigned status = MHD_HTTP_OK;

    pthread_mutex_lock(&s->lock);
    if (s->closing || s->n_clients >= CFD_BOARD_STREAM_MAX) {
        pthread_mutex_unlock(&s->lock);
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        r = MHD_create_response_from_buffer(sizeof(full) - 1, (void *)full,
                                            MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    } else {
        stream_client *cl = cfd_xcalloc(1, sizeof(*cl));
        cl->s = s;
        cl->conn = c;
        cl->out = cfd_xstrdup(stream_hello);
        cl->len = sizeof(stream_hello) - 1;
        cl->last_sent_ms = cfd_monotonic_ms();
        cl->next = s->clients;
        s->clients = cl;
        if (s->n_clients++ == 0)
            pthread_cond_signal(&s->wake); /* build at once */
        pthread_mutex_unlock(&s->lock);
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, client_read, cl,
                                              client_free);
        if (!r) {
            client_free(cl);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        /* The stream is quiet between events: no idle timeout on it. */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

void cfd_board_stream_close(cfd_board_stream *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    resume_due(s);
}

void cfd_board_stream_destroy(cfd_board_stream *s)
{
    if (!s)
        return;
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->event);
    free(s->data);
    free(s);
}

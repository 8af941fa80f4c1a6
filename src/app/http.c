/*
 * The worker's HTTP endpoints on libmicrohttpd; see http.h.
 */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "board_stream.h"
#include "confirmd/alloc.h"
#include "confirmd/clock.h"
#include "confirmd/config.h"
#include "confirmd/log.h"

#define MOD "http"
/* Board streams (board_stream.h) leave this many for scrapes and probes. */
#define HTTP_MAX_CONNECTIONS (CFD_BOARD_STREAM_MAX + 8)

struct cfd_http {
    struct MHD_Daemon *daemon;
    cfd_metrics *metrics;
    cfd_board *board;         /* NULL: no wallboard */
    cfd_board_stream *stream; /* its event stream; NULL: the page polls */
    int64_t max_stall_ms;
};

/* Queues a response of status with body: malloc'd and taken over (MUST_FREE), or
 * static (PERSISTENT). */
static enum MHD_Result reply_mem(struct MHD_Connection *c, unsigned status, void *body,
                                 size_t len, const char *type,
                                 enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body,
                             size_t len, const char *type)
{
    return reply_mem(c, status, body, len, type, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
                                  const char *text)
{
    return reply(c, status, cfd_xstrdup(text), strlen(text), "text/plain; charset=utf-8");
}

/* The wallboard: its JSON (503 with the reason when Redis did not answer), its event
 * stream and its embedded page. */
static enum MHD_Result on_board(cfd_http *h, struct MHD_Connection *c, const char *url)
{
    if (strcmp(url, "/api/board") == 0) {
        char errstr[512];
        size_t len = 0;
        char *json =
            cfd_board_json(h->board, CFD_BOARD_CACHE_MS, &len, errstr, sizeof(errstr));
        if (json)
            return reply(c, MHD_HTTP_OK, json, len, "application/json");
        json = cfd_board_error_json(errstr, &len);
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, json, len, "application/json");
    }
    if (strcmp(url, "/api/board/events") == 0 && h->stream)
        return cfd_board_stream_serve(h->stream, c);
    const cfd_board_file *f = cfd_board_file_find(url);
    if (f)
        return reply_mem(c, MHD_HTTP_OK, (void *)f->data, f->len, f->type,
                         MHD_RESPMEM_PERSISTENT);
    return reply_text(c, MHD_HTTP_NOT_FOUND,
                      "not found: try /board, /api/board, /api/board/events, /metrics, "
                      "/healthz, /readyz\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req)
{
    cfd_http *h = cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/metrics") == 0) {
        size_t len = 0;
        char *text = cfd_metrics_render(h->metrics, &len);
        return reply(c, MHD_HTTP_OK, text, len, "text/plain; version=0.0.4; charset=utf-8");
    }
    if (strcmp(url, "/healthz") == 0)
        return reply_text(c, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0) {
        char why[200], line[220];
        if (cfd_metrics_ready(h->metrics, cfd_monotonic_ms(), h->max_stall_ms, why,
                              sizeof(why)))
            return reply_text(c, MHD_HTTP_OK, "ready\n");
        snprintf(line, sizeof(line), "not ready: %s\n", why);
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, line);
    }
    if (h->board)
        return on_board(h, c, url);
    return reply_text(c, MHD_HTTP_NOT_FOUND,
                      "not found: try /metrics, /healthz, /readyz\n");
}

/* libmicrohttpd's own complaints, through the worker's log. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    cfd_warn(MOD, "%s", line);
}

cfd_http *cfd_http_new(const char *listen, cfd_metrics *m, cfd_board *board,
                       int64_t max_stall_ms, char *errstr, size_t errstr_size)
{
    char host[256], port_text[8];
    int port;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;

    if (cfd_parse_listen(listen, host, sizeof(host), &port) != 0) {
        snprintf(errstr, errstr_size, "metrics.listen: not an address: '%s'", listen);
        return NULL;
    }
    snprintf(port_text, sizeof(port_text), "%d", port);
    int rc = getaddrinfo(host, port_text, &hints, &ai);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "metrics.listen: %s: %s", listen, gai_strerror(rc));
        return NULL;
    }
    cfd_http *h = cfd_xcalloc(1, sizeof(*h));
    h->metrics = m;
    h->board = board;
    h->max_stall_ms = max_stall_ms;
    /* One thread answers every request; a board's event stream waits suspended. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (board)
        h->stream = cfd_board_stream_new(board);
    errno = 0;
    h->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_EXTERNAL_LOGGER, on_log,
        NULL, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->daemon) {
        snprintf(errstr, errstr_size, "metrics.listen: cannot listen on %s%s%s", listen,
                 errno ? ": " : "", errno ? strerror(errno) : "");
        cfd_board_stream_close(h->stream);
        cfd_board_stream_destroy(h->stream);
        free(h);
        return NULL;
    }
    cfd_info(MOD, "serving /metrics, /healthz and /readyz%s on %s",
             board ? ", the wallboard (/board, /api/board, /api/board/events)" : "",
             listen);
    return h;
}

void cfd_http_destroy(cfd_http *h)
{
    if (!h)
        return;
    cfd_board_stream_close(h->stream);
    MHD_stop_daemon(h->daemon);
    cfd_board_stream_destroy(h->stream);
    free(h);
}

/*
 * The worker's HTTP endpoints, served by libmicrohttpd in a thread of its own from a
 * cfd_metrics the worker publishes to: GET /metrics (Prometheus text format),
 * /healthz (the process answers: 200) and /readyz (200 when cfd_metrics_ready(), else
 * 503 with the reason); with a board, the wallboard: GET /api/board, its events
 * (board_stream.h) and its page at / and /board (board.h). Nothing here ever waits on
 * the worker.
 */
#ifndef CFD_APP_HTTP_H
#define CFD_APP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "confirmd/metrics.h"

typedef struct cfd_http cfd_http;

/*
 * Listens on listen ("host:port", see cfd_parse_listen) and serves m (and board, when
 * not NULL) until destroyed. Takes no ownership: both must outlive the server.
 * @returns the server, or NULL with errstr filled (a bad address, a port in use).
 */
cfd_http *cfd_http_new(const char *listen, cfd_metrics *m, cfd_board *board,
                       int64_t max_stall_ms, char *errstr, size_t errstr_size);

/* Stops the server's thread and closes its socket. NULL-safe. */
void cfd_http_destroy(cfd_http *h);

#endif

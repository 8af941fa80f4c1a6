/*
 * The wallboard's server-sent events: GET /api/board/events on the worker's
 * libmicrohttpd server (docs/WALLBOARD.md). A thread of its own builds the board
 * (cfd_board_json) every CFD_BOARD_STREAM_MS while a client is connected and, when it
 * changed, sends it to every client as one "board" event whose id is the board's
 * version; a comment every CFD_BOARD_STREAM_KEEPALIVE_MS keeps quiet streams open.
 *
 * A waiting client costs no thread: its connection is suspended in libmicrohttpd
 * (the daemon needs MHD_ALLOW_SUSPEND_RESUME) and resumed by the stream's thread when
 * it has something to send, so the server's one thread goes on answering /metrics
 * and /readyz. At most CFD_BOARD_STREAM_MAX clients: the next one gets 503.
 */
#ifndef CFD_APP_BOARD_STREAM_H
#define CFD_APP_BOARD_STREAM_H

#include <microhttpd.h>

#include "board.h"

#define CFD_BOARD_STREAM_MS 400
#define CFD_BOARD_STREAM_KEEPALIVE_MS 15000
#define CFD_BOARD_STREAM_MAX 8

typedef struct cfd_board_stream cfd_board_stream;

/* A stream of board (not owned; it must outlive the stream). Starts its thread.
 * @returns the stream, or NULL (logged) when no thread could start. */
cfd_board_stream *cfd_board_stream_new(cfd_board *board);

/* Queues on c the event stream, or 503 when CFD_BOARD_STREAM_MAX clients are
 * connected. @returns libmicrohttpd's answer to queueing. */
enum MHD_Result cfd_board_stream_serve(cfd_board_stream *s, struct MHD_Connection *c);

/* Ends every stream (each connection is resumed and its response ends) and stops the
 * thread. Call before MHD_stop_daemon, which must not find a suspended connection. */
void cfd_board_stream_close(cfd_board_stream *s);

/* Frees s once its daemon stopped (its clients freed with their responses).
 * NULL-safe. */
void cfd_board_stream_destroy(cfd_board_stream *s);

#endif

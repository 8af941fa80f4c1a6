/*
 * A plain HTTP/1.0 client for the tests of the worker's HTTP endpoint (/metrics,
 * /readyz, the wallboard): one request per connection on 127.0.0.1.
 */
#ifndef CFD_HARNESS_HTTP_H
#define CFD_HARNESS_HTTP_H

typedef struct h_http_reply {
    int status; /* 0: no answer (connection refused, timeout) */
    char *body; /* malloc'd, "" when none */
} h_http_reply;

void h_http_reply_free(h_http_reply *r);

/* GETs (or sends method) path on 127.0.0.1:port. */
h_http_reply h_http_request(int port, const char *method, const char *path);

/* Repeats GET path until it answers want (0: anything), at most timeout_ms. */
h_http_reply h_http_wait(int port, const char *path, int want, int timeout_ms);

/* Sends GET path on a connection of its own and reads the answer's head: for a
 * response that streams (server-sent events). @returns the connection (the caller
 * reads the body and closes it) with the status in *status, or -1. */
int h_http_stream_open(int port, const char *path, int *status);

#endif

/*
 * A plain HTTP/1.0 client for the tests of the worker's HTTP endpoint; see
 * harness_http.h.
 */
#include "harness_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

void h_http_reply_free(h_http_reply *r)
{
    free(r->body);
    r->body = NULL;
}

/* Connects to 127.0.0.1:port (reads time out after 5 s) and sends method path.
 * @returns the connection, or -1. */
static int send_request(int port, const char *method, const char *path)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 5};
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method,
                     path);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* GETs (or sends method) path on 127.0.0.1:port; one request per connection. */
h_http_reply h_http_request(int port, const char *method, const char *path)
{
    h_http_reply r = {0, NULL};
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    int fd = send_request(port, method, path);

    if (fd < 0)
        goto out;
    for (;;) {
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &r.status) != 1 || !body)
        r.status = 0;
    r.body = strdup(body ? body + 4 : "");
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    if (!r.body)
        r.body = strdup("");
    return r;
}

/* Repeats GET path until it answers want (0: anything), at most timeout_ms. */
h_http_reply h_http_wait(int port, const char *path, int want, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    for (;;) {
        h_http_reply r = h_http_request(port, "GET", path);
        if ((want ? r.status == want : r.status != 0) || h_now_ms() >= until)
            return r;
        h_http_reply_free(&r);
        usleep(50 * 1000);
    }
}

int h_http_stream_open(int port, const char *path, int *status)
{
    char head[4096];
    size_t len = 0;
    int fd = send_request(port, "GET", path);

    *status = 0;
    if (fd < 0)
        return -1;
    /* A byte at a time: what follows the head is the caller's. */
    while (len + 1 < sizeof(head) && read(fd, head + len, 1) == 1) {
        head[++len] = '\0';
        if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0) {
            sscanf(head, "HTTP/1.%*d %d", status);
            return fd;
        }
    }
    close(fd);
    return -1;
}

/*
 * Commands in Redis' wire form; see resp.h.
 */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"

/* Writes "<mark><n>\r\n" at p. @returns the end. */
static char *put_header(char *p, char mark, size_t n)
{
    char digits[24];
    size_t k = 0;
    *p++ = mark;
    do
        digits[k++] = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    while (k > 0)
        *p++ = digits[--k];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static size_t arg_len(const char *const *argv, const size_t *lens, int i)
{
    return lens ? lens[i] : strlen(argv[i]);
}

int cfd_resp_append(redisContext *rc, int argc, const char *const *argv, const size_t *lens)
{
    char local[4096];
    size_t cap = 24; /* "*<argc>\r\n" */
    for (int i = 0; i < argc; i++)
        cap += 24 + arg_len(argv, lens, i) + 2; /* "$<len>\r\n", the bytes, "\r\n" */
    char *buf = cap <= sizeof(local) ? local : cfd_xmalloc(cap);
    char *p = put_header(buf, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t len = arg_len(argv, lens, i);
        p = put_header(p, '$', len);
        if (len)
            memcpy(p, argv[i], len);
        p += len;
        *p++ = '\r';
        *p++ = '\n';
    }
    int rc_ok = redisAppendFormattedCommand(rc, buf, (size_t)(p - buf));
    if (buf != local)
        free(buf);
    return rc_ok;
}

#include "confirmd/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *checked(void *p)
{
    if (!p) {
        fputs("confirmd: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *cfd_xmalloc(size_t n)
{
    return checked(malloc(n ? n : 1));
}

void *cfd_xcalloc(size_t n, size_t size)
{
    return checked(n && size ? calloc(n, size) : calloc(1, 1));
}

void *cfd_xrealloc(void *p, size_t n)
{
    return checked(realloc(p, n ? n : 1));
}

void *cfd_xgrow(void *v, size_t *n, size_t want, size_t size)
{
    if (want <= *n)
        return v;
    v = cfd_xrealloc(v, want * size);
    memset((char *)v + *n * size, 0, (want - *n) * size);
    *n = want;
    return v;
}

char *cfd_xstrdup(const char *s)
{
    return cfd_xstrndup(s ? s : "", s ? strlen(s) : 0);
}

char *cfd_xstrndup(const char *s, size_t n)
{
    char *d = cfd_xmalloc(n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

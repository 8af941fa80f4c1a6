/*
 * UTF-8 checks, one-line escaping and string copies; see include/confirmd/text.h.
 */
#include "confirmd/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"

size_t cfd_utf8_char_len(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF; /* the second byte's range */

    if (len == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    if (p[0] < 0xC2) /* continuation byte, or an overlong 2-byte lead */
        return 0;
    if (p[0] < 0xE0) {
        n = 2;
    } else if (p[0] < 0xF0) {
        n = 3;
        if (p[0] == 0xE0)
            lo = 0xA0; /* overlong */
        else if (p[0] == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (p[0] < 0xF5) {
        n = 4;
        if (p[0] == 0xF0)
            lo = 0x90; /* overlong */
        else if (p[0] == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

size_t cfd_utf8_valid_len(const char *s, size_t len)
{
    size_t i = 0, n;

    while (i < len && (n = cfd_utf8_char_len(s + i, len - i)) != 0)
        i += n;
    return i;
}

bool cfd_utf8_valid(const char *s, size_t len)
{
    return cfd_utf8_valid_len(s, len) == len;
}

size_t cfd_text_escape(char *dst, size_t size, const char *s, size_t len)
{
    size_t out = 0;

    if (size == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        const uint8_t c = (uint8_t)s[i];
        size_t n = cfd_utf8_char_len(s + i, len - i);
        char esc[8];
        const char *piece = esc;
        size_t plen;

        if (n == 1 && c == '\\')
            piece = "\\\\";
        else if (n == 1 && c == '\n')
            piece = "\\n";
        else if (n == 1 && c == '\r')
            piece = "\\r";
        else if (n == 1 && c == '\t')
            piece = "\\t";
        else if (n == 0 || c < 0x20 || c == 0x7F)
            snprintf(esc, sizeof esc, "\\x%02X", c);
        else if (n == 2 && c == 0xC2 && (uint8_t)s[i + 1] < 0xA0)
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned)(uint8_t)s[i + 1]);
        else
            piece = NULL; /* the character itself */
        if (n == 0)
            n = 1;
        plen = piece ? strlen(piece) : n;
        if (out + plen >= size)
            break;
        memcpy(dst + out, piece ? piece : s + i, plen);
        out += plen;
        i += n;
    }
    dst[out] = '\0';
    return out;
}

size_t cfd_text_copy(char *dst, size_t size, const char *s)
{
    size_t len = s ? strlen(s) : 0, n = len;

    if (size == 0)
        return len;
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((uint8_t)s[n] & 0xC0) == 0x80) /* s[n] continues a character */
            n--;
    }
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
    return len;
}

char *cfd_text_dup(const char *s)
{
    return s ? cfd_xstrdup(s) : NULL;
}

char **cfd_strv_dup(const char *const *v, size_t n, size_t *n_out)
{
    char **copy = NULL;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (!v[i] || !v[i][0])
            continue;
        if (!copy)
            copy = cfd_xcalloc(n - i, sizeof *copy);
        copy[k++] = cfd_xstrdup(v[i]);
    }
    *n_out = k;
    return copy;
}

void cfd_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

size_t cfd_sorted_find(const void *v, size_t n, size_t size, size_t off, const char *key,
                       bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name;
        memcpy(&name, (const char *)v + mid * size + off, sizeof(name));
        int c = strcmp(name, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/*
 * The compact form of a stored state: what Redis keeps for a completed work order.
 *
 * Format 0 (every state written before, and every open order's state) is the
 * WorkOrderState protobuf itself. Format 1 is the byte 0x00, the byte 0x01, the
 * protobuf's length as a varint, then the protobuf compressed by raw deflate with the
 * preset dictionary of state_dict.h. A protobuf never starts with 0x00 (field number
 * 0 does not exist), so the first byte tells the two apart and both stay readable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec_int.h"
#include "confirmd/alloc.h"
#include "state_dict.h"

#define STATE_MARK 0x00
#define STATE_FORMAT_DEFLATE 0x01
/* A 4 KiB window covers the dictionary and a typical state; larger states still
 * compress, with matches nearer than 4 KiB. */
#define STATE_WINDOW_BITS 12
/* No stored state comes near this; a length above it is corrupt, not a state. */
#define STATE_MAX_RAW (64u * 1024 * 1024)

static void *state_zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return cfd_xmalloc((size_t)items * size); /* zlib needs no zeroed memory */
}

static void state_zfree(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

void codec_state_compact(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream zs = {.zalloc = state_zalloc, .zfree = state_zfree};
    *out = NULL;
    *out_len = 0;
    if (len == 0 || len > STATE_MAX_RAW ||
        deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -STATE_WINDOW_BITS, 5,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    deflateSetDictionary(&zs, codec_state_dict_v1, sizeof codec_state_dict_v1);

    /* Worth it only when smaller than the protobuf itself. */
    uint8_t *buf = cfd_xmalloc(len);
    size_t head = 0;
    buf[head++] = STATE_MARK;
    buf[head++] = STATE_FORMAT_DEFLATE;
    size_t v = len;
    for (; v > 0x7f && head < len; v >>= 7)
        buf[head++] = (uint8_t)((v & 0x7f) | 0x80);
    if (head < len)
        buf[head++] = (uint8_t)v;
    if (head < len) {
        zs.next_in = (Bytef *)raw;
        zs.avail_in = (uInt)len;
        zs.next_out = buf + head;
        zs.avail_out = (uInt)(len - head);
        if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
            *out = buf;
            *out_len = head + zs.total_out;
            buf = NULL;
        }
    }
    deflateEnd(&zs);
    free(buf);
}

bool codec_state_is_compact(const void *buf, size_t len)
{
    return len > 0 && ((const uint8_t *)buf)[0] == STATE_MARK;
}

cfd_err codec_state_expand(const void *buf, size_t len, uint8_t **raw, size_t *raw_len,
                           char *errstr, size_t errstr_size)
{
    const uint8_t *p = buf;
    size_t head = 2, n = 0;
    *raw = NULL;
    *raw_len = 0;
    if (len < 2 || p[1] != STATE_FORMAT_DEFLATE) {
        snprintf(errstr, errstr_size, "undecodable: stored state of unknown format %d "
                 "(%zu bytes)", len < 2 ? -1 : (int)p[1], len);
        return CFD_ERR_DECODE;
    }
    for (unsigned shift = 0;; shift += 7) {
        if (head >= len || shift > 28) {
            snprintf(errstr, errstr_size, "undecodable: compact state cut short (%zu bytes)",
                     len);
            return CFD_ERR_DECODE;
        }
        n |= (size_t)(p[head] & 0x7f) << shift;
        if (!(p[head++] & 0x80))
            break;
    }
    if (n == 0 || n > STATE_MAX_RAW) {
        snprintf(errstr, errstr_size, "undecodable: compact state of %zu bytes claims %zu",
                 len, n);
        return CFD_ERR_DECODE;
    }

    z_stream zs = {.zalloc = state_zalloc, .zfree = state_zfree};
    if (inflateInit2(&zs, -STATE_WINDOW_BITS) != Z_OK) {
        snprintf(errstr, errstr_size, "inflate: %s", zs.msg ? zs.msg : "cannot start");
        return CFD_ERR_DECODE;
    }
    inflateSetDictionary(&zs, codec_state_dict_v1, sizeof codec_state_dict_v1);
    uint8_t *out = cfd_xmalloc(n);
    zs.next_in = (Bytef *)(p + head);
    zs.avail_in = (uInt)(len - head);
    zs.next_out = out;
    zs.avail_out = (uInt)n;
    int rc = inflate(&zs, Z_FINISH);
    /* Exactly n bytes and the end of the stream, or the bytes are not a state. */
    bool ok = rc == Z_STREAM_END && zs.total_out == n && zs.avail_in == 0;
    if (!ok)
        snprintf(errstr, errstr_size,
                 "undecodable: compact state does not inflate to its %zu bytes (%zu bytes)",
                 n, len);
    inflateEnd(&zs);
    if (!ok) {
        free(out);
        return CFD_ERR_DECODE;
    }
    *raw = out;
    *raw_len = n;
    return CFD_OK;
}

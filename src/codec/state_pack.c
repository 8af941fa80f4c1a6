/*
 * The compact form of a stored state: what Redis keeps for a completed work order.
 *
 * Format 0 (every state written before, and every open order's state) is the
 * WorkOrderState protobuf itself. Format 1 is the byte 0x00, the byte 0x01, the
 * protobuf's length as a varint, then a Zstandard frame of the protobuf compressed
 * with the preset dictionary of state_dict.h (raw content: it does not start with
 * Zstandard's dictionary magic), with the frame's checksum and without its size or
 * dictionary id (the varint has the size). A protobuf never starts with
 * 0x00 (field number 0 does not exist), so the first byte tells the two apart and both
 * stay readable. Zstandard rather than deflate: a completed order's late event reads
 * and writes its state again, and deflate made that a third of the worker's time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "codec_int.h"
#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "state_dict.h"

#define STATE_MARK 0x00
#define STATE_FORMAT_ZSTD 0x01
/* The first of Zstandard's fast levels: as small as level 1 here (the dictionary finds
 * the matches) with 45 % fewer instructions; -2 and below grow the state. */
#define STATE_LEVEL (-1)
#define STATE_MAX_RAW (64u * 1024 * 1024)

/*
 * The thread's contexts and digested dictionaries, made on first use and kept: to
 * digest the dictionary costs more than compressing a state. A thread that ends frees
 * them (thread_key's destructor); cfd_codec_thread_release frees them before, and is
 * how the main thread, whose end runs no destructor, frees them.
 */
static _Thread_local struct {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    ZSTD_CDict *cdict;
    ZSTD_DDict *ddict;
} zs;

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void thread_end(void *unused)
{
    (void)unused;
    cfd_codec_thread_release();
}

static void thread_key_make(void)
{
    pthread_key_create(&thread_key, thread_end);
}

/* Makes the thread's end free what its first use of Zstandard makes. */
static void thread_note(void)
{
    pthread_once(&thread_key_once, thread_key_make);
    pthread_setspecific(thread_key, &zs);
}

void cfd_codec_thread_release(void)
{
    ZSTD_freeCCtx(zs.cctx);
    ZSTD_freeDCtx(zs.dctx);
    ZSTD_freeCDict(zs.cdict);
    ZSTD_freeDDict(zs.ddict);
    memset(&zs, 0, sizeof(zs));
}

/* @returns false when Zstandard cannot start (out of memory). */
static bool compressor_ready(void)
{
    if (!zs.cctx && !zs.dctx)
        thread_note();
    if (!zs.cctx && (zs.cctx = ZSTD_createCCtx())) {
        /* A flipped bit must not read as another valid state. */
        ZSTD_CCtx_setParameter(zs.cctx, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(zs.cctx, ZSTD_c_contentSizeFlag, 0);
        ZSTD_CCtx_setParameter(zs.cctx, ZSTD_c_dictIDFlag, 0);
    }
    if (!zs.cdict)
        zs.cdict =
            ZSTD_createCDict(codec_state_dict_v1, sizeof codec_state_dict_v1, STATE_LEVEL);
    return zs.cctx && zs.cdict;
}

/* @returns false when Zstandard cannot start (out of memory). */
static bool decompressor_ready(void)
{
    if (!zs.cctx && !zs.dctx)
        thread_note();
    if (!zs.dctx)
        zs.dctx = ZSTD_createDCtx();
    if (!zs.ddict)
        zs.ddict = ZSTD_createDDict(codec_state_dict_v1, sizeof codec_state_dict_v1);
    return zs.dctx && zs.ddict;
}

void codec_state_compact(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (len == 0 || len > STATE_MAX_RAW || !compressor_ready())
        return;

    /* Worth it only when smaller than the protobuf itself. */
    uint8_t *buf = cfd_xmalloc(len);
    size_t head = 0;
    buf[head++] = STATE_MARK;
    buf[head++] = STATE_FORMAT_ZSTD;
    size_t v = len;
    for (; v > 0x7f && head < len; v >>= 7)
        buf[head++] = (uint8_t)((v & 0x7f) | 0x80);
    if (head < len)
        buf[head++] = (uint8_t)v;
    if (head < len && !ZSTD_isError(ZSTD_CCtx_refCDict(zs.cctx, zs.cdict))) {
        size_t n = ZSTD_compress2(zs.cctx, buf + head, len - head, raw, len);
        if (!ZSTD_isError(n)) {
            *out = buf;
            *out_len = head + n;
            buf = NULL;
        }
    }
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
    if (len < 2 || p[1] != STATE_FORMAT_ZSTD) {
        snprintf(errstr, errstr_size,
                 "undecodable: stored state of unknown format %d "
                 "(%zu bytes)",
                 len < 2 ? -1 : (int)p[1], len);
        return CFD_ERR_DECODE;
    }
    for (unsigned shift = 0;; shift += 7) {
        if (head >= len || shift > 28) {
            snprintf(errstr, errstr_size,
                     "undecodable: compact state cut short (%zu bytes)", len);
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
    if (!decompressor_ready()) {
        snprintf(errstr, errstr_size, "undecodable: Zstandard cannot start");
        return CFD_ERR_DECODE;
    }
    uint8_t *out = cfd_xmalloc(n);
    size_t got =
        ZSTD_decompress_usingDDict(zs.dctx, out, n, p + head, len - head, zs.ddict);
    /* Exactly n bytes, or the bytes are not a state. */
    if (ZSTD_isError(got) || got != n) {
        snprintf(errstr, errstr_size,
                 "undecodable: compact state does not expand to its %zu bytes (%zu bytes)",
                 n, len);
        free(out);
        return CFD_ERR_DECODE;
    }
    *raw = out;
    *raw_len = n;
    return CFD_OK;
}

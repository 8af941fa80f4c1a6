/*
 * The bytes of outbox and park-list entries; see include/confirmd/frame.h.
 */
#include "confirmd/frame.h"

#include <string.h>

#include "confirmd/alloc.h"

const char *cfd_output_kind_name(int tag)
{
    switch (tag) {
#define CFD_OUTPUT_KIND_CASE(name, tag_, str) \
    case tag_:                                \
        return str;
        CFD_OUTPUT_KINDS(CFD_OUTPUT_KIND_CASE)
#undef CFD_OUTPUT_KIND_CASE
    default:
        return NULL;
    }
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)(v & 0xff);
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

void *cfd_frame_output(cfd_output_kind kind, const char *key, const void *payload,
                       size_t payload_len, size_t *len)
{
    size_t klen = strlen(key);
    if (klen > 0xffff)
        klen = 0xffff;
    uint8_t *f = cfd_xmalloc(3 + klen + payload_len);
    f[0] = (uint8_t)kind;
    put_be(f + 1, klen, 2);
    memcpy(f + 3, key, klen);
    if (payload_len)
        memcpy(f + 3 + klen, payload, payload_len);
    *len = 3 + klen + payload_len;
    return f;
}

cfd_err cfd_frame_output_parse(const void *frame, size_t len, cfd_output_kind *kind,
                               const char **key, size_t *key_len, const void **payload,
                               size_t *payload_len)
{
    const uint8_t *f = frame;
    if (len < 3)
        return CFD_ERR_DECODE;
    size_t klen = get_be(f + 1, 2);
    if (3 + klen > len || !cfd_output_kind_name(f[0]))
        return CFD_ERR_DECODE;
    *kind = (cfd_output_kind)f[0];
    *key = (const char *)f + 3;
    *key_len = klen;
    *payload = f + 3 + klen;
    *payload_len = len - 3 - klen;
    return CFD_OK;
}

void *cfd_frame_parked(const cfd_parked_ref *ref, size_t *len)
{
    size_t tlen = strlen(ref->topic);
    if (tlen > 0xffff)
        tlen = 0xffff;
    uint8_t *f = cfd_xmalloc(22 + tlen + ref->payload_len);
    put_be(f, (uint32_t)ref->partition, 4);
    put_be(f + 4, (uint64_t)ref->offset, 8);
    put_be(f + 12, (uint64_t)ref->expire_at_ms, 8);
    put_be(f + 20, tlen, 2);
    memcpy(f + 22, ref->topic, tlen);
    if (ref->payload_len)
        memcpy(f + 22 + tlen, ref->payload, ref->payload_len);
    *len = 22 + tlen + ref->payload_len;
    return f;
}

cfd_err cfd_frame_parked_parse(const void *frame, size_t len, cfd_parked_ref *ref,
                               char *topic, size_t topic_size)
{
    const uint8_t *f = frame;
    if (len < 22)
        return CFD_ERR_DECODE;
    size_t tlen = get_be(f + 20, 2);
    if (22 + tlen > len || tlen >= topic_size)
        return CFD_ERR_DECODE;
    memcpy(topic, f + 22, tlen);
    topic[tlen] = '\0';
    ref->topic = topic;
    ref->partition = (int32_t)get_be(f, 4);
    ref->offset = (int64_t)get_be(f + 4, 8);
    ref->expire_at_ms = (int64_t)get_be(f + 12, 8);
    ref->payload = f + 22 + tlen;
    ref->payload_len = len - 22 - tlen;
    return CFD_OK;
}

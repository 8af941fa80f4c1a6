/*
 * libFuzzer target: arbitrary bytes through the Redis state decoder. Whatever decodes
 * must encode again and decode to the same bytes (the state is canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfd_record *rec = NULL, *again = NULL;
    char errstr[256];
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t len, len2;

    cfd_err err = cfd_codec_state_decode(data, size, &rec, errstr, sizeof errstr);
    if (err) {
        if (rec || err != CFD_ERR_DECODE)
            abort();
        return 0;
    }
    if ((int)rec->state < 0 || rec->state >= CFD_STATE_COUNT)
        abort();
    for (size_t i = 0; i < rec->n_timeline; i++)
        if (!rec->timeline[i].event_id || rec->timeline[i].milestone >= CFD_MS_COUNT)
            abort();
    cfd_codec_state_encode(rec, &buf, &len);
    if (cfd_codec_state_decode(buf, len, &again, errstr, sizeof errstr))
        abort();
    cfd_codec_state_encode(again, &buf2, &len2);
    if (len != len2 || memcmp(buf, buf2, len))
        abort();
    free(buf);
    free(buf2);
    cfd_record_destroy(rec);
    cfd_record_destroy(again);
    return 0;
}

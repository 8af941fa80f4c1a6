/*
 * libFuzzer target: arbitrary bytes through the input-event decoder, then through the
 * JSON printer. Neither may crash, leak, or leave a half-filled result; an event that
 * decodes holds only UTF-8 text, which its printed form (every string of the message;
 * bytes print as base64) confirms. Its dead letter, as the worker builds it, is bounded
 * by the cap on the original bytes, not by the input, and holds only UTF-8 text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/codec.h"
#include "confirmd/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfd_decoded_event de;
    char errstr[256], detail[256] = "";
    bool decoded = false;

    if (cfd_codec_event_decode(data, size, &de, detail, sizeof detail)) {
        if (de.pb || de.strv || de.ev.event_id)
            abort();
    } else {
        /* A valid event's strings must be readable. */
        if (!de.ev.event_id || !de.ev.work_order || strlen(de.ev.event_id) == 0)
            abort();
        for (size_t i = 0; i < de.ev.arrival.n_engineers; i++)
            if (strlen(de.ev.arrival.engineers[i]) == 0)
                abort();
        cfd_codec_event_release(&de);
        decoded = true;
    }

    /* The dead-letter helper agrees with the JSON printer on what unpacks. */
    char wo[64], id[64];
    bool unpacked = cfd_codec_event_ids(data, size, wo, sizeof wo, id, sizeof id);

    char *json = cfd_pb_to_json("Event", data, size, errstr, sizeof errstr);
    if (unpacked != (json != NULL))
        abort();
    if (decoded && !cfd_utf8_valid(json, strlen(json)))
        abort();
    if (json) {
        /* What prints must parse back. */
        uint8_t *buf;
        size_t len;
        if (cfd_json_to_pb("Event", json, &buf, &len, errstr, sizeof errstr))
            abort();
        free(buf);
        free(json);
    }

    cfd_dead_letter dl = {.original = data,
                          .original_len = size,
                          .topic = "confirmd.events",
                          .partition = 1,
                          .offset = 2,
                          .reason = CFD_DL_UNDECODABLE,
                          .detail = detail,
                          .work_order = unpacked ? wo : NULL,
                          .event_id = unpacked ? id : NULL,
                          .max_original = size / 2};
    uint8_t *dlb;
    size_t dll;
    cfd_codec_dead_letter_encode(&dl, &dlb, &dll);
    if (dll > size / 2 + strlen(detail) + 2 * 64 + 128) /* text, hash, numbers, tags */
        abort();
    char *dj = cfd_pb_to_json("DeadLetter", dlb, dll, errstr, sizeof errstr);
    if (!dj || !cfd_utf8_valid(dj, strlen(dj)))
        abort();
    free(dj);
    free(dlb);
    return 0;
}

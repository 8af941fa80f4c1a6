/*
 * libFuzzer target: arbitrary bytes through the city stage's decoders (the internal
 * CityReport topic and the CityState in Redis), then through the rule itself. The
 * first byte chooses: even, the rest is a CityReport (its text UTF-8 when it
 * decodes) merged into a small state that is judged; odd, the rest is a CityState,
 * which must encode again canonically and take a judgement, a report and a prune
 * without crashing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/city_codec.h"
#include "confirmd/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1764043200000LL

static void judge(cfd_city_state *st, int64_t now)
{
    cfd_incident out[3];
    cfd_alert alert;
    bool has_alert;
    size_t n = cfd_city_collect(st, now, out, &alert, &has_alert);

    if (n > 3)
        abort();
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < out[i].n_work_orders; k++)
            if (!out[i].work_orders[k])
                abort();
    (void)cfd_city_next(st);
    (void)cfd_city_prune(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errstr[256];

    if (size == 0)
        return 0;
    if (data[0] % 2 == 0) {
        cfd_city_report r;
        cfd_city_state *st = cfd_city_state_new();
        cfd_city_report seed = {.city = "C",
                                .service = "S",
                                .work_order = "WO-0",
                                .reported_at_ms = T0,
                                .record_version = 1};
        cfd_err err =
            cfd_codec_city_report_decode(data + 1, size - 1, &r, errstr, sizeof errstr);
        if (err) {
            if (err != CFD_ERR_DECODE && err != CFD_ERR_MISSING_FIELD &&
                err != CFD_ERR_INVALID_VALUE)
                abort();
            cfd_city_state_destroy(st);
            return 0;
        }
        if (!r.city || !r.service || !r.work_order)
            abort();
        const char *texts[] = {r.city, r.service, r.work_order, r.customer_id};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
            if (texts[i] && !cfd_utf8_valid(texts[i], strlen(texts[i])))
                abort();
        cfd_city_merge(st, &seed);
        cfd_city_merge(st, &r);
        judge(st, r.reported_at_ms);
        judge(st, INT64_MAX);
        cfd_city_report_clear(&r);
        cfd_city_state_destroy(st);
        return 0;
    }
    cfd_city_state *st = NULL, *again = NULL;
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t len, len2;
    cfd_err err =
        cfd_codec_city_state_decode(data + 1, size - 1, &st, errstr, sizeof errstr);
    if (err) {
        if (st || err != CFD_ERR_DECODE)
            abort();
        return 0;
    }
    cfd_codec_city_state_encode(st, &buf, &len);
    if (cfd_codec_city_state_decode(buf, len, &again, errstr, sizeof errstr))
        abort();
    cfd_codec_city_state_encode(again, &buf2, &len2);
    if (len != len2 || memcmp(buf, buf2, len))
        abort();
    /* A report of the state's own key (copies: a report never points into a state). */
    char *city = strdup(st->city ? st->city : "C"),
         *service = strdup(st->service ? st->service : "S");
    if (!city || !service)
        abort();
    cfd_city_report r = {.city = city,
                         .service = service,
                         .work_order = "WO-FUZZ",
                         .reported_at_ms = T0,
                         .record_version = 1};
    cfd_city_merge(st, &r);
    free(city);
    free(service);
    judge(st, T0 + 3600 * 1000LL);
    free(buf);
    free(buf2);
    cfd_city_state_destroy(st);
    cfd_city_state_destroy(again);
    return 0;
}

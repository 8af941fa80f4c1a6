/*
 * Protobuf <-> domain for the multi-customer city rule; see
 * include/confirmd/city_codec.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "confirmd/alloc.h"
#include "confirmd/city_codec.h"
#include "confirmd/text.h"
#include "confirmd/v1/incident.pb-c.h"

static void report_out(const cfd_city_report *r, Confirmd__V1__CityReport *pb)
{
    confirmd__v1__city_report__init(pb);
    pb->city = codec_pb_str(r->city);
    pb->service = codec_pb_str(r->service);
    pb->work_order = codec_pb_str(r->work_order);
    pb->customer_id = codec_pb_str(r->customer_id);
    pb->reported_at_ms = r->reported_at_ms;
    pb->ended_at_ms = r->ended_at_ms;
    pb->ownership_unclear = r->ownership_unclear;
    pb->excluded = r->excluded;
    pb->record_version = r->record_version;
    pb->incident = r->incident;
}

static void report_in(const Confirmd__V1__CityReport *pb, cfd_city_report *r)
{
    memset(r, 0, sizeof(*r));
    r->city = codec_dup(pb->city);
    r->service = codec_dup(pb->service);
    r->work_order = codec_dup(pb->work_order);
    r->customer_id = codec_dup(pb->customer_id);
    r->reported_at_ms = pb->reported_at_ms;
    r->ended_at_ms = pb->ended_at_ms;
    r->ownership_unclear = pb->ownership_unclear;
    r->excluded = pb->excluded;
    r->record_version = pb->record_version;
    r->incident = pb->incident;
}

void cfd_codec_city_report_encode(const cfd_city_report *r, uint8_t **buf, size_t *len)
{
    Confirmd__V1__CityReport pb;
    report_out(r, &pb);
    pb.incident = 0; /* membership is the receiving state's */
    codec_pack(&pb.base, buf, len);
}

cfd_err cfd_codec_city_report_decode(const void *buf, size_t len, cfd_city_report *out,
                                     char *errstr, size_t errstr_size)
{
    Confirmd__V1__CityReport *pb = confirmd__v1__city_report__unpack(NULL, len, buf);
    memset(out, 0, sizeof(*out));
    if (!pb) {
        snprintf(errstr, errstr_size,
                 "undecodable: not a confirmd.v1.CityReport (%zu bytes)", len);
        return CFD_ERR_DECODE;
    }
    if (!codec_values_valid(&pb->base, CODEC_CHECK_TEXT, errstr, errstr_size)) {
        confirmd__v1__city_report__free_unpacked(pb, NULL);
        return CFD_ERR_INVALID_VALUE;
    }
    const char *missing = !codec_opt(pb->city)         ? "city"
                          : !codec_opt(pb->service)    ? "service"
                          : !codec_opt(pb->work_order) ? "work_order"
                                                       : NULL;
    if (missing) {
        snprintf(errstr, errstr_size, "city report without %s", missing);
        confirmd__v1__city_report__free_unpacked(pb, NULL);
        return CFD_ERR_MISSING_FIELD;
    }
    const char *bad = !cfd_time_valid(pb->reported_at_ms) ? "reported_at_ms"
                      : !cfd_time_valid(pb->ended_at_ms)  ? "ended_at_ms"
                                                          : NULL;
    if (bad) {
        snprintf(errstr, errstr_size, "city report %s out of range", bad);
        confirmd__v1__city_report__free_unpacked(pb, NULL);
        return CFD_ERR_INVALID_VALUE;
    }
    report_in(pb, out);
    out->incident = 0;
    confirmd__v1__city_report__free_unpacked(pb, NULL);
    return CFD_OK;
}

void cfd_codec_city_state_encode(const cfd_city_state *st, uint8_t **buf, size_t *len)
{
    Confirmd__V1__CityState pb = CONFIRMD__V1__CITY_STATE__INIT;
    Confirmd__V1__CityReport *reps = cfd_xcalloc(st->n_reports + 1, sizeof(*reps));
    Confirmd__V1__CityReport **ptrs = cfd_xcalloc(st->n_reports + 1, sizeof(*ptrs));
    for (size_t i = 0; i < st->n_reports; i++) {
        report_out(&st->reports[i], &reps[i]); /* no city or service: the state's */
        ptrs[i] = &reps[i];
    }
    pb.city = codec_pb_str(st->city);
    pb.service = codec_pb_str(st->service);
    pb.n_reports = st->n_reports;
    pb.reports = ptrs;
    pb.incidents = st->incidents;
    pb.open = st->open;
    pb.incident_id = (char *)st->incident_id;
    pb.started_at_ms = st->started_at_ms;
    pb.third_report_ms = st->third_report_ms;
    pb.opened_at_ms = st->opened_at_ms;
    pb.closed_at_ms = st->closed_at_ms;
    pb.version = st->version;
    pb.members_sent = st->members_sent;
    pb.excluded_sent = st->excluded_sent;
    pb.settled_before = st->settled_before;
    pb.settled_as_of = st->settled_as_of;
    pb.n_settled = st->n_settled;
    codec_pack(&pb.base, buf, len);
    free(reps);
    free(ptrs);
}

cfd_err cfd_codec_city_state_decode(const void *buf, size_t len, cfd_city_state **out,
                                    char *errstr, size_t errstr_size)
{
    Confirmd__V1__CityState *pb = confirmd__v1__city_state__unpack(NULL, len, buf);
    if (!pb) {
        snprintf(errstr, errstr_size, "undecodable: not a confirmd.v1.CityState");
        return CFD_ERR_DECODE;
    }
    if (!cfd_time_valid(pb->settled_before) || !cfd_time_valid(pb->settled_as_of)) {
        snprintf(errstr, errstr_size, "CityState settled part's time out of range");
        confirmd__v1__city_state__free_unpacked(pb, NULL);
        return CFD_ERR_DECODE;
    }
    cfd_city_state *st = cfd_city_state_new();
    st->city = codec_dup(pb->city);
    st->service = codec_dup(pb->service);
    st->reports = cfd_xcalloc(pb->n_reports + 1, sizeof(*st->reports));
    st->cap_reports = pb->n_reports + 1;
    for (size_t i = 0; i < pb->n_reports; i++) {
        /* Kept sorted and unique by work order, or merging would misplace; times in
         * range, or the rule's arithmetic would overflow. */
        if (!cfd_time_valid(pb->reports[i]->reported_at_ms) ||
            !cfd_time_valid(pb->reports[i]->ended_at_ms)) {
            snprintf(errstr, errstr_size, "CityState report time out of range");
            cfd_city_state_destroy(st);
            confirmd__v1__city_state__free_unpacked(pb, NULL);
            return CFD_ERR_DECODE;
        }
        if (!codec_opt(pb->reports[i]->work_order) ||
            (i > 0 &&
             strcmp(pb->reports[i - 1]->work_order, pb->reports[i]->work_order) >= 0)) {
            snprintf(errstr, errstr_size, "CityState reports not sorted by work order");
            cfd_city_state_destroy(st);
            confirmd__v1__city_state__free_unpacked(pb, NULL);
            return CFD_ERR_DECODE;
        }
        report_in(pb->reports[i], &st->reports[i]);
        /* The state's own (a state written before they were left out names them in
         * each report too). */
        free(st->reports[i].city);
        free(st->reports[i].service);
        st->reports[i].city = st->reports[i].service = NULL;
        st->n_reports++;
    }
    cfd_text_copy(st->incident_id, sizeof(st->incident_id), pb->incident_id);
    st->incidents = pb->incidents;
    st->open = pb->open;
    st->started_at_ms = pb->started_at_ms;
    st->third_report_ms = pb->third_report_ms;
    st->opened_at_ms = pb->opened_at_ms;
    st->closed_at_ms = pb->closed_at_ms;
    st->version = pb->version;
    st->members_sent = pb->members_sent;
    st->excluded_sent = pb->excluded_sent;
    st->settled_before = pb->settled_before;
    st->settled_as_of = pb->settled_as_of;
    st->n_settled = pb->n_settled;
    confirmd__v1__city_state__free_unpacked(pb, NULL);
    *out = st;
    return CFD_OK;
}

/*
 * Protobuf <-> domain for the multi-customer city rule: confirmd.v1.CityReport (the
 * internal messages keyed by city and service) and confirmd.v1.CityState (Redis).
 */
#ifndef CONFIRMD_CITY_CODEC_H
#define CONFIRMD_CITY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "confirmd/city.h"
#include "confirmd/types.h"

/* Encodes r into *buf (malloc'd, *len bytes). */
void cfd_codec_city_report_encode(const cfd_city_report *r, uint8_t **buf, size_t *len);

/* Decodes into *out, whose strings are then malloc'd (cfd_city_report_clear).
 * @returns CFD_ERR_DECODE for bytes that are no CityReport, CFD_ERR_INVALID_VALUE for
 *          a string that is not UTF-8, CFD_ERR_MISSING_FIELD when city, service or
 *          work_order is empty. */
cfd_err cfd_codec_city_report_decode(const void *buf, size_t len, cfd_city_report *out,
                                     char *errstr, size_t errstr_size);

void cfd_codec_city_state_encode(const cfd_city_state *st, uint8_t **buf, size_t *len);

/* @returns CFD_OK with *out new (cfd_city_state_destroy), or CFD_ERR_DECODE. */
cfd_err cfd_codec_city_state_decode(const void *buf, size_t len, cfd_city_state **out,
                                    char *errstr, size_t errstr_size);

#endif

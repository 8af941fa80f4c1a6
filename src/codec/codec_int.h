/*
 * Private to the codec: helpers codec.c and noc.c share.
 */
#ifndef CFD_CODEC_INT_H
#define CFD_CODEC_INT_H

#include <protobuf-c/protobuf-c.h>

#include "confirmd/types.h"

/* proto3 cannot tell "" from absent; the domain uses NULL for absent. */
const char *codec_opt(const char *s);

/* Walks m and checks every enum field holds a value its enum declares and every
 * string field is well-formed UTF-8.
 * @returns true when all are; otherwise false with errstr naming the field path. */
bool codec_values_valid(const ProtobufCMessage *m, const char *path, int depth,
                       char *errstr, size_t errstr_size);

/* Packs any message into a malloc'd buffer. */
cfd_err codec_pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len);

#endif

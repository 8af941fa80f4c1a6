/*
 * confirmctl decode / encode: one message, protobuf bytes <-> JSON, through the
 * codec's descriptor-driven mapping.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmctl.h"

static void ctl_codec_usage(FILE *out, const char *cmd)
{
    bool dec = strcmp(cmd, "decode") == 0;
    fprintf(
        out,
        "usage: confirmctl %s --type NAME [FILE|-]\n"
        "\n"
        "%s\n"
        "NAME is a confirmd.v1 message: Event, ConfirmationRecord, WorkOrderState,\n"
        "SlaAlert, DeadLetter (or any other message of the schema).\n"
        "\n"
        "  -T, --type NAME        message type\n"
        "  -h, --help             this text\n",
        cmd,
        dec ? "Reads one protobuf message (all of the input) and prints it as one JSON "
              "line."
            : "Reads one JSON text (all of the input) and writes the protobuf bytes to\n"
              "stdout. Field names as in the .proto or canonical proto3 JSON\n"
              "(lowerCamelCase, 64-bit integers as strings).");
}

int ctl_codec(int argc, char **argv, bool decode)
{
    static const struct option longopts[] = {
        {"type", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *type = NULL, *path = "-";
    int c;

    while ((c = getopt_long(argc, argv, "T:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'T':
            type = optarg;
            break;
        case 'h':
            ctl_codec_usage(stdout, argv[0]);
            return CTL_EXIT_OK;
        default:
            ctl_codec_usage(stderr, argv[0]);
            return CTL_EXIT_USAGE;
        }
    }
    if (optind < argc)
        path = argv[optind++];
    if (!type || optind < argc) {
        ctl_codec_usage(stderr, argv[0]);
        return CTL_EXIT_USAGE;
    }

    FILE *in = ctl_open_input(path);
    if (!in)
        return CTL_EXIT_FAIL;
    size_t len = 0;
    uint8_t *data = ctl_read_all(in, &len);
    ctl_close_input(in);
    if (!data) {
        fprintf(stderr, "confirmctl: cannot read %s\n", path);
        return CTL_EXIT_FAIL;
    }

    int rc = CTL_EXIT_FAIL;
    char errstr[512];
    if (decode) {
        char *json = cfd_pb_to_json(type, data, len, errstr, sizeof errstr);
        if (json) {
            printf("%s\n", json);
            free(json);
            rc = CTL_EXIT_OK;
        } else {
            fprintf(stderr, "confirmctl: %s\n", errstr);
        }
    } else {
        /* The codec takes a C string: stop at the first NUL. */
        char *text = cfd_xrealloc(data, len + 1);
        data = (uint8_t *)text;
        text[len] = '\0';
        uint8_t *buf;
        size_t blen;
        if (cfd_json_to_pb(type, text, &buf, &blen, errstr, sizeof errstr) == CFD_OK) {
            rc = fwrite(buf, 1, blen, stdout) == blen && fflush(stdout) == 0
                     ? CTL_EXIT_OK
                     : CTL_EXIT_FAIL;
            free(buf);
        } else {
            fprintf(stderr, "confirmctl: %s\n", errstr);
        }
    }
    free(data);
    return rc;
}

/*
 * confirmctl outbox: what waits to be delivered, per partition: how many outputs, who
 * owns the partition, and the first outputs by id, kind and key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/frame.h"
#include "confirmd/inspect.h"
#include "confirmctl.h"

static void ctl_outbox_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl outbox [--list N] [options]\n"
            "\n"
            "Per partition the store knows: the outputs written but not yet delivered\n"
            "(each is removed from the outbox when the broker acknowledges it), the\n"
            "partition's owner and fencing epoch, and up to N outputs (id, kind, key and\n"
            "size; never the payload). A growing outbox means the broker refuses or\n"
            "cannot be reached (see the owner's log); a partition without an owner keeps\n"
            "its outbox until its next owner re-sends it.\n"
            "\n"
            "      --list N          list up to N outputs per partition (default 10, 0: "
            "none)\n" CTL_VIEW_HELP "\n"
            "Exit status: 0 printed, 1 Redis unreachable, 2 usage.\n");
}

typedef struct ctl_outbox_part {
    json_object *list; /* --json: the outputs listed */
} ctl_outbox_part;

static void ctl_outbox_entry(const char *id, const void *frame, size_t len, void *opaque)
{
    ctl_outbox_part *p = opaque;
    cfd_output_kind kind;
    const char *key;
    const void *payload;
    size_t key_len, payload_len;
    char keybuf[512], idbuf[512], kbuf[512];
    bool ok = cfd_frame_output_parse(frame, len, &kind, &key, &key_len, &payload,
                                     &payload_len) == CFD_OK;
    const char *kind_name = ok ? cfd_output_kind_name(kind) : NULL;

    snprintf(keybuf, sizeof keybuf, "%.*s", ok ? (int)key_len : 0, ok ? key : "");
    if (p->list) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_string(id));
        json_object_object_add(e, "kind",
                               json_object_new_string(kind_name ? kind_name : "?"));
        json_object_object_add(e, "key", json_object_new_string(keybuf));
        json_object_object_add(e, "bytes",
                               json_object_new_int64((int64_t)(ok ? payload_len : len)));
        json_object_array_add(p->list, e);
        return;
    }
    printf("    %-48s %-12s %-28s %zu bytes\n", ctl_text(id, idbuf, sizeof idbuf),
           kind_name ? kind_name : "?", ctl_text(keybuf, kbuf, sizeof kbuf),
           ok ? payload_len : len);
}

int ctl_outbox(int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_VIEW_LONG, {"list", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    json_object *doc = NULL, *parts = NULL;
    int rc = CTL_EXIT_USAGE, c;
    long list = 10;
    int64_t total = 0;
    char errstr[512], *end;

    while ((c = ctl_view_getopt(v, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'n':
            list = strtol(optarg, &end, 10);
            if (*end || list < 0) {
                fprintf(stderr, "confirmctl: --list: expected a count, got \"%s\"\n",
                        optarg);
                goto out;
            }
            break;
        case 'h':
            ctl_outbox_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_outbox_usage(stderr);
            goto out;
        }
    }
    if (optind != argc) {
        ctl_outbox_usage(stderr);
        goto out;
    }
    rc = CTL_EXIT_FAIL;
    if (ctl_view_open(v))
        goto out;
    if (v->json) {
        doc = json_object_new_object();
        parts = json_object_new_array();
        json_object_object_add(doc, "partitions", parts);
    }
    for (int32_t p = 0; p < v->nparts; p++) {
        cfd_inspect_meta m;
        ctl_outbox_part op = {NULL};
        char owner[256];
        if (cfd_inspect_meta_get(v->in, p, &m, errstr, sizeof errstr))
            goto fail;
        total += m.outbox;
        if (doc) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "partition", json_object_new_int(p));
            json_object_object_add(e, "outbox", json_object_new_int64(m.outbox));
            json_object_object_add(e, "epoch", json_object_new_int64(m.epoch));
            json_object_object_add(e, "owner", json_object_new_string(m.owner));
            op.list = json_object_new_array();
            json_object_object_add(e, "outputs", op.list);
            json_object_array_add(parts, e);
        } else {
            printf("partition %3d  %6lld waiting  owner %s (epoch %lld)\n", p,
                   (long long)m.outbox,
                   m.owner[0] ? ctl_text(m.owner, owner, sizeof owner) : "-",
                   (long long)m.epoch);
        }
        if (m.outbox && list &&
            cfd_inspect_outbox(v->in, p, (size_t)list, ctl_outbox_entry, &op, errstr,
                               sizeof errstr))
            goto fail;
    }
    if (doc) {
        json_object_object_add(doc, "total", json_object_new_int64(total));
        ctl_json_print(doc);
        doc = NULL;
    } else {
        printf("%lld outputs waiting in %d partitions\n", (long long)total, v->nparts);
    }
    rc = CTL_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "confirmctl: %s\n", errstr);
out:
    json_object_put(doc);
    ctl_view_destroy(v);
    return rc;
}

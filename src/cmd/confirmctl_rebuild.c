/*
 * confirmctl rebuild: one work order's record rebuilt from the input topics by the
 * replay engine under the live policy, compared field by field with the record Redis
 * holds (both in their emitted form, confirmd.v1.ConfirmationRecord). Read-only: Redis
 * is read, never written; the topics are read without a group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/config.h"
#include "confirmd/inspect.h"
#include "confirmd/replay.h"
#include "confirmctl.h"

enum { CTL_EXIT_DIFFERS = 3 };

static void ctl_rebuild_usage(FILE *out)
{
    fprintf(out,
            "usage: confirmctl rebuild WORK_ORDER [options]\n"
            "\n"
            "Rebuilds the work order's record from its events in the input topics\n"
            "(worker.input_topics, every retained message) under the live policy\n"
            "(worker.policy_file) with the worker's own rules, and prints every field in\n"
            "which the record Redis holds differs from it (the emitted form, without\n"
            "the worker's bookkeeping). Read-only: nothing is written to Redis, the\n"
            "topics are read without a consumer group, nothing is committed. Customer\n"
            "fields are named but their values hidden unless --customer.\n"
            "\n"
            "  -b, --brokers LIST    bootstrap servers (default: "
            "kafka.bootstrap.servers)\n"
            "      --customer        show customer fields' values\n" CTL_VIEW_HELP "\n"
            "Exit status: 0 the same, 3 they differ (or only one exists), 1 Redis or the\n"
            "brokers unreachable, 2 usage.\n");
}

/* One leaf of a record's JSON form: "sla[2].actual_ms" = "1764049000000". */
typedef struct ctl_leaf {
    char *path, *value;
} ctl_leaf;

typedef struct ctl_leaves {
    ctl_leaf *v;
    size_t n, cap;
} ctl_leaves;

static void ctl_leaves_flatten(ctl_leaves *l, const char *path, json_object *o)
{
    char sub[512];
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
            ctl_leaves_flatten(l, sub, val);
        }
        return;
    }
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            ctl_leaves_flatten(l, sub, json_object_array_get_idx(o, i));
        }
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = cfd_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].path = cfd_xstrdup(path);
    l->v[l->n].value = cfd_xstrdup(json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    l->n++;
}

static int ctl_by_path(const void *a, const void *b)
{
    return strcmp(((const ctl_leaf *)a)->path, ((const ctl_leaf *)b)->path);
}

/* Flattens rec's emitted form (nothing when rec is NULL), sorted by path. */
static void ctl_leaves_of(ctl_leaves *l, const cfd_record *rec)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char errstr[256];
    if (!rec)
        return;
    cfd_codec_record_encode(rec, &buf, &len);
    char *json = cfd_pb_to_json("ConfirmationRecord", buf, len, errstr, sizeof errstr);
    json_object *o = json ? json_tokener_parse(json) : NULL;
    if (o)
        ctl_leaves_flatten(l, "", o);
    json_object_put(o);
    free(json);
    free(buf);
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), ctl_by_path);
}

static void ctl_leaves_clear(ctl_leaves *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].value);
    }
    free(l->v);
}

/* One differing field: its path and both values (NULL: absent on that side). */
static size_t ctl_diff(const ctl_view *v, const ctl_leaves *a, const ctl_leaves *b,
                       json_object *arr)
{
    size_t i = 0, j = 0, n = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].path, b->v[j].path);
        const ctl_leaf *x = c <= 0 ? &a->v[i] : NULL, *y = c >= 0 ? &b->v[j] : NULL;
        i += c <= 0;
        j += c >= 0;
        if (x && y && strcmp(x->value, y->value) == 0)
            continue;
        const char *path = x ? x->path : y->path;
        bool hide = !v->customer && strncmp(path, "customer.", 9) == 0;
        const char *sx = x ? (hide ? "(hidden)" : x->value) : NULL;
        const char *sy = y ? (hide ? "(hidden)" : y->value) : NULL;
        n++;
        if (arr) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "field", json_object_new_string(path));
            json_object_object_add(e, "stored", sx ? json_object_new_string(sx) : NULL);
            json_object_object_add(e, "rebuilt", sy ? json_object_new_string(sy) : NULL);
            json_object_array_add(arr, e);
        } else {
            char p[512], s1[512], s2[512];
            printf("  %-40s stored %s  rebuilt %s\n", ctl_text(path, p, sizeof p),
                   sx ? ctl_text(sx, s1, sizeof s1) : "(absent)",
                   sy ? ctl_text(sy, s2, sizeof s2) : "(absent)");
        }
    }
    return n;
}

static void ctl_rebuild_feed(const void *payload, size_t len, void *opaque)
{
    char errstr[256];
    (void)cfd_replay_add(opaque, payload, len, errstr, sizeof errstr);
}

/* Reads and decodes the stored record of order (*stored NULL when absent).
 * @returns 0, or -1 (said on stderr). */
static int ctl_rebuild_stored(ctl_view *v, const char *order, int32_t *part,
                              cfd_record **stored)
{
    char errstr[512];
    cfd_blob state = {0};
    int rc = 0;
    *stored = NULL;
    if (cfd_inspect_find(v->in, order, v->nparts, part, &state, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return -1;
    }
    if (state.data && !(*stored = ctl_view_decode(order, state.data, state.len)))
        rc = -1;
    cfd_blobs_clear(&state, 1);
    return rc;
}

int ctl_rebuild(int argc, char **argv)
{
    static const struct option opts[] = {CTL_VIEW_LONG,
                                         {"brokers", required_argument, NULL, 'b'},
                                         {"customer", no_argument, NULL, 'C'},
                                         {NULL, 0, NULL, 0}};
    ctl_view *v = ctl_view_new();
    cfd_replay *r = NULL;
    cfd_record *stored = NULL;
    ctl_leaves ls = {0}, lr = {0};
    ctl_input_stats in;
    int rc = CTL_EXIT_USAGE, c;
    int32_t part = -1;
    char name[256];

    while ((c = ctl_view_getopt(v, argc, argv, "b:", opts)) != -1) {
        switch (c) {
        case 'b':
            if (ctl_view_brokers(v, optarg))
                goto out;
            break;
        case 'C':
            v->customer = true;
            break;
        case 'h':
            ctl_rebuild_usage(stdout);
            rc = CTL_EXIT_OK;
            goto out;
        default:
            ctl_rebuild_usage(stderr);
            goto out;
        }
    }
    if (optind != argc - 1) {
        ctl_rebuild_usage(stderr);
        goto out;
    }
    const char *order = argv[optind];
    rc = CTL_EXIT_FAIL;
    if (ctl_view_open(v) || ctl_rebuild_stored(v, order, &part, &stored))
        goto out;
    r = cfd_replay_new(v->pol, order);
    if (ctl_input_read(v->cfg, 0, 0, ctl_rebuild_feed, r, &in))
        goto out;
    const cfd_record *rebuilt = cfd_replay_find(r, order);
    cfd_replay_stats st = cfd_replay_stats_get(r);
    ctl_leaves_of(&ls, stored);
    ctl_leaves_of(&lr, rebuilt);
    json_object *doc = NULL, *arr = NULL;
    if (v->json) {
        doc = json_object_new_object();
        arr = json_object_new_array();
        json_object_object_add(doc, "work_order", json_object_new_string(order));
        json_object_object_add(doc, "partition", json_object_new_int(part));
        json_object_object_add(doc, "stored", json_object_new_boolean(stored != NULL));
        json_object_object_add(doc, "rebuilt", json_object_new_boolean(rebuilt != NULL));
        json_object_object_add(doc, "events_applied",
                               json_object_new_int64((int64_t)st.applied));
        json_object_object_add(doc, "events_parked",
                               json_object_new_int64((int64_t)st.parked));
        json_object_object_add(
            doc, "events_refused",
            json_object_new_int64((int64_t)(st.rejected + st.undecodable)));
    } else {
        printf("work order %s: stored %s, rebuilt from %llu events (%llu refused, %llu "
               "still parked) of %s\n",
               ctl_text(order, name, sizeof name), stored ? "in Redis" : "nowhere",
               (unsigned long long)st.applied,
               (unsigned long long)(st.rejected + st.undecodable),
               (unsigned long long)st.parked, v->cfg->input_topics);
    }
    size_t n = ctl_diff(v, &ls, &lr, arr);
    if (doc) {
        json_object_object_add(doc, "identical", json_object_new_boolean(n == 0));
        json_object_object_add(doc, "differences", arr);
        ctl_json_print(doc);
    } else if (n == 0) {
        printf("no difference: the stored record is what its events give\n");
    } else {
        printf("%zu fields differ\n", n);
    }
    rc = n || !stored || !rebuilt ? CTL_EXIT_DIFFERS : CTL_EXIT_OK;
out:
    ctl_leaves_clear(&ls);
    ctl_leaves_clear(&lr);
    cfd_record_destroy(stored);
    cfd_replay_destroy(r);
    ctl_view_destroy(v);
    return rc;
}

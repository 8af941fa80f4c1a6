/*
 * What the confirmctl commands that read the store share (confirmctl.h): the
 * configuration, a read-only connection, the policy and the worker's clock; decoding
 * a stored state; times, durations and text for output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confirmd/alloc.h"
#include "confirmd/codec.h"
#include "confirmd/config.h"
#include "confirmd/inspect.h"
#include "confirmd/policy_file.h"
#include "confirmd/text.h"
#include "confirmctl.h"

ctl_view *ctl_view_new(void)
{
    ctl_view *v = cfd_xcalloc(1, sizeof(*v));
    v->cfg = cfd_config_new();
    v->pol = cfd_xcalloc(1, sizeof(*v->pol));
    cfd_policy_defaults(v->pol);
    return v;
}

void ctl_view_destroy(ctl_view *v)
{
    if (!v)
        return;
    cfd_inspect_destroy(v->in);
    cfd_config_destroy(v->cfg);
    free(v->pol);
    free(v);
}

/* Takes option c of CTL_VIEW_LONG. @returns 1 when it was one of them, 0 when not,
 * -1 on a bad value (said on stderr). */
static int ctl_view_option(ctl_view *v, int c, const char *arg)
{
    char errstr[512];
    cfd_err err = CFD_OK;

    switch (c) {
    case 'c':
        err = cfd_config_load_file(v->cfg, arg, errstr, sizeof errstr);
        break;
    case 's':
        err = cfd_config_set_pair(v->cfg, arg, errstr, sizeof errstr);
        break;
    case 'j':
        v->json = true;
        return 1;
    case 'T':
        if (ctl_parse_instant(arg, &v->now_ms)) {
            fprintf(stderr, "confirmctl: --at: bad instant \"%s\"\n", arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
    if (err) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return -1;
    }
    return 1;
}

int ctl_view_getopt(ctl_view *v, int argc, char **argv, const char *shorts,
                    const struct option *opts)
{
    char all[64];
    int c, k;

    snprintf(all, sizeof all, "%s%s", CTL_VIEW_SHORT, shorts);
    while ((c = getopt_long(argc, argv, all, opts, NULL)) != -1) {
        if ((k = ctl_view_option(v, c, optarg)) < 0)
            return '?';
        if (k == 0)
            return c;
    }
    return -1;
}

int ctl_view_brokers(ctl_view *v, const char *list)
{
    char errstr[512];

    if (cfd_config_set(v->cfg, "kafka.bootstrap.servers", list, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return -1;
    }
    return 0;
}

int ctl_view_policy(ctl_view *v)
{
    char errstr[512];

    if (v->cfg->policy_file && *v->cfg->policy_file &&
        cfd_policy_file_load(v->cfg->policy_file, v->pol, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return -1;
    }
    return 0;
}

int ctl_view_open(ctl_view *v)
{
    char errstr[512];
    const cfd_store_opts opts = cfd_config_store_opts(v->cfg);

    if (ctl_view_policy(v))
        return -1;
    if (!(v->in = cfd_inspect_new(&opts, errstr, sizeof errstr)))
        goto fail;
    v->simulated = strcmp(v->cfg->clock, "simulated") == 0;
    if (!v->now_ms && v->simulated &&
        cfd_inspect_sim_clock(v->in, &v->now_ms, errstr, sizeof errstr))
        goto fail;
    if (!v->now_ms) /* the system clock, or a simulated clock not set yet */
        v->now_ms = ctl_now_ms();
    if (cfd_inspect_partitions(v->in, &v->nparts, errstr, sizeof errstr))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "confirmctl: %s\n", errstr);
    return -1;
}

cfd_record *ctl_view_decode(const char *order, const void *buf, size_t len)
{
    char errstr[256];
    cfd_record *rec = NULL;

    if (cfd_codec_state_decode(buf, len, &rec, errstr, sizeof errstr)) {
        char name[256];
        fprintf(stderr, "confirmctl: work order %s: stored state unreadable: %s\n",
                ctl_text(order, name, sizeof name), errstr);
        return NULL;
    }
    return rec;
}

typedef struct ctl_each {
    ctl_record_fn fn;
    void *ctx;
    int unreadable;
} ctl_each;

static int ctl_each_state(int32_t part, const char *order, const void *buf, size_t len,
                          void *opaque)
{
    ctl_each *e = opaque;
    cfd_record *rec = ctl_view_decode(order, buf, len);

    if (rec)
        e->fn(part, rec, e->ctx);
    else
        e->unreadable++;
    cfd_record_destroy(rec);
    return 0;
}

int ctl_view_each_record(ctl_view *v, ctl_record_fn fn, void *ctx)
{
    char errstr[512];
    ctl_each e = {fn, ctx, 0};

    if (cfd_inspect_states(v->in, ctl_each_state, &e, errstr, sizeof errstr)) {
        fprintf(stderr, "confirmctl: %s\n", errstr);
        return -1;
    }
    return e.unreadable ? -1 : 0;
}

const char *ctl_view_time(const ctl_view *v, int64_t ms, char *buf, size_t size)
{
    int off = v->pol->utc_offset_min;
    time_t secs;
    struct tm tm;
    char day[32];

    if (ms == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    secs = (time_t)(ms / 1000 + (int64_t)off * 60);
    gmtime_r(&secs, &tm);
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s%c%02d:%02d", day, off < 0 ? '-' : '+', abs(off) / 60,
             abs(off) % 60);
    return buf;
}

const char *ctl_duration(int64_t ms, char *buf, size_t size)
{
    const char *sign = ms < 0 ? "-" : "";
    int64_t s = (ms < 0 ? -ms : ms) / 1000;
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;

    if (d)
        snprintf(buf, size, "%s%lldd%02lldh", sign, d, h);
    else if (h)
        snprintf(buf, size, "%s%lldh%02lldm", sign, h, m);
    else if (m)
        snprintf(buf, size, "%s%lldm%02llds", sign, m, sec);
    else
        snprintf(buf, size, "%s%llds", sign, sec);
    return buf;
}

void ctl_json_print(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
}

const char *ctl_text(const char *s, char *buf, size_t size)
{
    cfd_text_escape(buf, size, s ? s : "", s ? strlen(s) : 0);
    return buf;
}

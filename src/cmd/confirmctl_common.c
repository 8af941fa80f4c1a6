/*
 * What the confirmctl commands share (confirmctl.h): the stop flag, the brokers'
 * refusal, librdkafka configuration from -b and -X, input files and JSON fields.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confirmd/alloc.h"
#include "confirmd/kafka.h"
#include "confirmd/text.h"
#include "confirmctl.h"

volatile sig_atomic_t ctl_stop;

static char
    ctl_refusal[512]; /* why the brokers refused this client, "" while they did not */

void ctl_kafka_error(int err, const char *reason)
{
    if (cfd_kafka_fault_of(err) == CFD_KAFKA_REFUSED && !ctl_refusal[0])
        cfd_text_copy(ctl_refusal, sizeof ctl_refusal, reason);
}

bool ctl_kafka_refused(void)
{
    return ctl_refusal[0] != '\0';
}

bool ctl_refused(void)
{
    static bool said;

    if (!ctl_refusal[0])
        return false;
    if (!said)
        fprintf(stderr,
                "confirmctl: SASL login or TLS handshake with the brokers failed "
                "(check the sasl.* and ssl.* properties): %s\n",
                ctl_refusal);
    said = true;
    return true;
}

static void ctl_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    fprintf(stderr, "confirmctl: kafka: %s: %s\n", rd_kafka_err2name(err), reason);
    ctl_kafka_error(err, reason);
}

int ctl_props_add(ctl_props *p, const char *kv)
{
    if (p->n == CTL_MAX_PROPS || !strchr(kv, '=')) {
        fprintf(stderr, "confirmctl: -X expects prop=value, got \"%s\"\n", kv);
        return -1;
    }
    p->kv[p->n++] = kv;
    return 0;
}

/*
 * Builds a librdkafka configuration: bootstrap servers, then the -X properties
 * ("kafka." prefix optional, as in confirmd's config). @returns NULL on a bad property.
 */
rd_kafka_conf_t *ctl_conf_new(const char *brokers, const ctl_props *props)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK)
        goto fail;
    for (int i = 0; i < props->n; i++) {
        char name[256];
        const char *kv = props->kv[i];
        const char *eq = strchr(kv, '=');
        if (strncmp(kv, "kafka.", 6) == 0)
            kv += 6;
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
        if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK)
            goto fail;
    }
    rd_kafka_conf_set_error_cb(conf, ctl_error_cb);
    return conf;
fail:
    fprintf(stderr, "confirmctl: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int64_t ctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool ctl_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0;
}

int64_t ctl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads all of f into a malloc'd buffer. @returns NULL on a read error. */
uint8_t *ctl_read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = cfd_xmalloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = cfd_xrealloc(buf, cap);
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Opens FILE or "-" (stdin). */
FILE *ctl_open_input(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        fprintf(stderr, "confirmctl: %s: %s\n", path, strerror(errno));
    return f;
}

void ctl_close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

const char *ctl_json_str(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int64_t ctl_json_i64(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_string))
        return strtoll(json_object_get_string(v), NULL, 10);
    return json_object_get_int64(v);
}

bool ctl_skip_line(const char *line)
{
    line += strspn(line, " \t\r\n");
    return *line == '\0' || *line == '#';
}

bool ctl_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

int ctl_parse_instant(const char *text, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end && *end == '\0' && v > 0) {
        *out = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (strcmp(end, "Z") != 0 && *end != '\0'))
        return -1;
    *out = (int64_t)timegm(&tm) * 1000;
    return 0;
}

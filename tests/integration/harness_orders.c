/*
 * Workloads and oracles for the "nothing is lost" tests; see harness_orders.h.
 */
#include "harness_orders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "confirmd/codec.h"
#include "confirmd/policy.h"
#include "confirmd/record.h"

#define MIN_MS 60000LL

int h_event_encode(const char *json, h_event *ev)
{
    char errstr[256];
    json_object *o = json_tokener_parse(json);

    memset(ev, 0, sizeof(*ev));
    if (!o) {
        fprintf(stderr, "harness: bad JSON event %s\n", json);
        return -1;
    }
    snprintf(ev->wo, sizeof(ev->wo), "%s",
             json_object_get_string(json_object_object_get(o, "work_order")));
    snprintf(ev->id, sizeof(ev->id), "%s",
             json_object_get_string(json_object_object_get(o, "event_id")));
    json_object_put(o);
    if (cfd_json_to_pb("Event", json, &ev->buf, &ev->len, errstr, sizeof(errstr))) {
        fprintf(stderr, "harness: bad event %s: %s\n", json, errstr);
        return -1;
    }
    return 0;
}

void h_event_clear(h_event *ev)
{
    if (!ev)
        return;
    free(ev->buf);
    ev->buf = NULL;
    ev->len = 0;
}

int h_order_events(const char *wo, unsigned variant, int64_t t0,
                   h_event out[H_ORDER_EVENTS])
{
    static const char *const tiers[] = {"TIER_AAA", "TIER_AA", "TIER_A"};
    /* Minutes from acceptance to arrival: in time for every tier, then later ones
     * that breach the on-site limit of some tiers (alerts). */
    static const int arrivals[] = {30, 50, 100, 160, 300};
    const char *tier = tiers[variant % 3];
    bool city = variant % 4 == 1; /* takes part in the city rule */
    int gold = (variant / 3) % 2;
    int arr = arrivals[(variant / 6) % 5];
    char json[4096];
    int rc = 0;
    struct {
        const char *sfx;
        int64_t t;
        const char *payload;
        const char *body;
    } ms[H_ORDER_EVENTS - 1] = {
        {"acc", t0 + 1 * MIN_MS, "accepted", "{\"operator_id\":\"op7\"}"},
        {"dis", t0 + 2 * MIN_MS, "dispatched",
         "{\"contractor\":\"Acme Maintenance\",\"engineer_id\":\"E42\"}"},
        {"con", t0 + 6 * MIN_MS, "customer_contacted", "{}"},
        {"arr", t0 + (1 + arr) * MIN_MS, "arrived_on_site", "{\"engineers\":[\"E42\"]}"},
        {"dia", t0 + (2 + arr) * MIN_MS, "diagnosed",
         "{\"cause\":\"CAUSE_TRANSMISSION_LINE\",\"onsite_findings\":\"fiber cut\"}"},
        {"res", t0 + (30 + arr) * MIN_MS, "service_restored",
         "{\"result\":\"RESULT_RESTORED\"}"},
        {"sig", t0 + (35 + arr) * MIN_MS, "confirmation_signed",
         "{\"customer_opinion\":\"satisfied\",\"satisfaction\":5}"},
        {"clo", t0 + (36 + arr) * MIN_MS, "closed", "{}"},
    };

    snprintf(
        json, sizeof(json),
        "{\"event_id\":\"%s-rep\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
        "\"event_time_ms\":%" PRId64 ",\"fault_report\":{\"issuing_unit\":\"Liangping "
        "NOC\",\"customer\":{\"name\":\"" H_CUSTOMER_NAME
        "\",\"contact_person\":\"" H_CUSTOMER_CONTACT
        "\",\"contact_phone\":\"" H_CUSTOMER_PHONE "\","
        "\"address\":\"" H_CUSTOMER_ADDRESS "\",\"affected_service\":\"internet "
        "dedicated line\",\"tier\":\"%s\",\"gold\":%s,%s\"city\":\"Chongqing\"},"
        "\"network\":{\"circuit_id\":\"CQ-%s\"},\"problem_description\":\"line down\""
        "%s}}",
        wo, wo, t0, tier, gold ? "true" : "false",
        /* One customer for all of them: the city rule needs 3 distinct customers,
              * so their reports flow and are kept but open no incident. */
        city ? "\"customer_id\":\"CQ-GC-SHARED-01\"," : "", wo,
        city ? ",\"full_interruption\":true" : "");
    rc |= h_event_encode(json, &out[0]);
    for (int i = 0; i < H_ORDER_EVENTS - 1; i++) {
        snprintf(json, sizeof(json),
                 "{\"event_id\":\"%s-%s\",\"work_order\":\"%s\",\"source\":"
                 "\"SOURCE_FIELD_APP\",\"event_time_ms\":%" PRId64 ",\"%s\":%s}",
                 wo, ms[i].sfx, wo, ms[i].t, ms[i].payload, ms[i].body);
        rc |= h_event_encode(json, &out[i + 1]);
    }
    if (rc)
        for (int i = 0; i < H_ORDER_EVENTS; i++)
            h_event_clear(&out[i]);
    return rc ? -1 : 0;
}

/* Queues the alert ids a change calls for, as the worker's emit_outputs() does. */
static void oracle_alerts(cfd_record *rec, const cfd_policy *pol, h_expect *out)
{
    cfd_alert alerts[32];
    size_t n = cfd_record_collect_alerts(rec, pol, H_WL_T0, alerts, 32);
    for (size_t i = 0; i < n; i++) {
        char id[320];
        bool seen = false;
        snprintf(id, sizeof(id), "alert/%s/%s", alerts[i].alert_id,
                 cfd_alert_kind_name(alerts[i].kind));
        for (int k = 0; k < out->n_alerts; k++)
            seen |= strcmp(out->alert_ids[k], id) == 0;
        if (!seen && out->n_alerts < 8)
            snprintf(out->alert_ids[out->n_alerts++], sizeof(out->alert_ids[0]), "%s", id);
    }
}

int h_oracle(const h_event *evs, size_t n, h_expect *out)
{
    cfd_policy pol;
    cfd_record *rec = cfd_record_new();
    cfd_decoded_event *de = calloc(n ? n : 1, sizeof(*de));
    bool *done = calloc(n ? n : 1, sizeof(bool));
    char errstr[256];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!de || !done)
        goto out;
    cfd_policy_defaults(&pol);
    snprintf(out->wo, sizeof(out->wo), "%s", n ? evs[0].wo : "");
    for (size_t i = 0; i < n; i++) {
        if (cfd_codec_event_decode(evs[i].buf, evs[i].len, &de[i], errstr,
                                   sizeof(errstr))) {
            fprintf(stderr, "harness: oracle: event %s: %s\n", evs[i].id, errstr);
            goto out;
        }
    }
    /* Apply in order; an event that must wait is retried after every change, as the
     * worker retries what it parked. */
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            cfd_apply_outcome oc;
            if (done[i])
                continue;
            if (rec->state == CFD_STATE_NONE && !cfd_event_opens_order(&de[i].ev))
                continue;
            if (cfd_record_apply(rec, &de[i].ev, &pol, &oc, errstr, sizeof(errstr))) {
                done[i] = true; /* a dead letter */
                continue;
            }
            if (oc == CFD_APPLY_PARK)
                continue;
            done[i] = true;
            if (oc == CFD_APPLY_CHANGED) {
                progress = true;
                oracle_alerts(rec, &pol, out);
            }
        }
    }
    out->version = rec->version;
    out->complete = cfd_record_is_complete(rec);
    cfd_city_report city;
    out->in_city =
        cfd_city_report_of(rec, &city) && cfd_city_report_copy(&out->city, &city);
    cfd_codec_record_encode(rec, &out->record, &out->record_len);
    rc = 0;
out:
    for (size_t i = 0; de && i < n; i++)
        cfd_codec_event_release(&de[i]);
    free(de);
    free(done);
    cfd_record_destroy(rec);
    return rc;
}

void h_expect_clear(h_expect *e)
{
    if (!e)
        return;
    free(e->record);
    e->record = NULL;
    cfd_city_report_clear(&e->city);
    e->in_city = false;
}

int h_redis_record(redisContext *rc, const char *wo, int nparts, uint8_t **out, size_t *len,
                   uint32_t *version)
{
    char errstr[256];
    for (int p = 0; p < nparts; p++) {
        redisReply *r = redisCommand(rc, "GET cfd:{p%d}:wo:%s", p, wo);
        cfd_record *rec = NULL;
        if (!r) {
            fprintf(stderr, "harness: redis GET: %s\n", rc->errstr);
            return -1;
        }
        if (r->type != REDIS_REPLY_STRING) {
            freeReplyObject(r);
            continue;
        }
        if (cfd_codec_state_decode(r->str, r->len, &rec, errstr, sizeof(errstr))) {
            fprintf(stderr, "harness: state of %s: %s\n", wo, errstr);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
        *version = rec->version;
        cfd_codec_record_encode(rec, out, len);
        cfd_record_destroy(rec);
        return 1;
    }
    return 0;
}

int h_set_sim_clock(h_env *env, int64_t now_ms)
{
    redisContext *rc = h_redis_connect_key(env, "cfd:clock");
    redisReply *r = rc ? redisCommand(rc, "SET cfd:clock %lld", (long long)now_ms) : NULL;
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    if (rc)
        redisFree(rc);
    return ok ? 0 : -1;
}

int h_file_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;

    if (!f)
        return -1;
    while (getline(&line, &cap, f) >= 0)
        n += strstr(line, needle) != NULL;
    free(line);
    fclose(f);
    return n;
}

int h_pii_hits(const char *log)
{
    static const char *const pii[] = {H_CUSTOMER_NAME, H_CUSTOMER_CONTACT, H_CUSTOMER_PHONE,
                                      H_CUSTOMER_ADDRESS};
    int hits = 0;
    for (size_t i = 0; i < sizeof(pii) / sizeof(pii[0]); i++) {
        int n = h_file_count(log, pii[i]);
        hits += n > 0 ? n : 0; /* -1: no such log */
    }
    return hits;
}

char *h_base64(const void *p, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *in = p;
    char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
    size_t i = 0;

    if (!out)
        return NULL;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = abc[v >> 6 & 63];
        *o++ = abc[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* --- poison --------------------------------------------------------------------------- */

uint64_t h_rand(uint64_t *seed)
{
    uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *seed = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* A protobuf writer for hand-made messages (the JSON encoder refuses bad enums). */
typedef struct pbw {
    uint8_t *b;
    size_t n, cap;
} pbw;

static void pb_raw(pbw *w, const void *p, size_t n)
{
    if (w->n + n > w->cap)
        n = w->cap - w->n;
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void pb_varint(pbw *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(w, tmp, n);
}

static void pb_int(pbw *w, int field, int64_t v)
{
    pb_varint(w, (uint64_t)field << 3);
    pb_varint(w, (uint64_t)v); /* negative: ten bytes, as protobuf sends them */
}

static void pb_bytes(pbw *w, int field, const void *p, size_t n)
{
    pb_varint(w, (uint64_t)field << 3 | 2);
    pb_varint(w, n);
    pb_raw(w, p, n);
}

static void pb_str(pbw *w, int field, const char *s)
{
    pb_bytes(w, field, s, strlen(s));
}

/* The envelope of an event with every field it needs, payload left to the caller. */
static void pb_envelope(pbw *w, const char *wo, uint64_t n)
{
    char id[96];
    snprintf(id, sizeof(id), "%s-poison-%" PRIu64, wo, n);
    pb_str(w, 1, id);
    pb_str(w, 2, wo);
    pb_int(w, 4, H_WL_T0 + (int64_t)(n % 1000) * 1000);
}

static void poison_random(uint64_t *seed, pbw *w)
{
    size_t n = h_rand(seed) % 201;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)h_rand(seed);
        pb_raw(w, &c, 1);
    }
}

static void poison_wrong_shape(uint64_t *seed, pbw *w, const char *wo)
{
    char json[1024], rnd[48];
    uint8_t *buf = NULL;
    size_t len = 0;
    char errstr[256];
    uint64_t r = h_rand(seed);

    for (size_t i = 0; i < sizeof(rnd); i++)
        rnd[i] = (char)('a' + h_rand(seed) % 26);
    rnd[sizeof(rnd) - 1] = '\0';
    switch (r % 4) {
    case 0: /* an alert where an event belongs */
        snprintf(
            json, sizeof(json),
            "{\"alert_id\":\"%s/METRIC_ON_SITE/100\",\"kind\":\"ALERT_KIND_BREACH\","
            "\"work_order\":\"%s\",\"metric\":\"METRIC_ON_SITE\",\"threshold_pct\":100,"
            "\"deadline_ms\":%" PRId64 "}",
            wo, wo, H_WL_T0);
        if (!cfd_json_to_pb("SlaAlert", json, &buf, &len, errstr, sizeof(errstr)))
            pb_raw(w, buf, len);
        break;
    case 1: /* a dead letter: its fields 1..6 fit the envelope's types, no payload */
        snprintf(
            json, sizeof(json),
            "{\"original\":\"AAEC\",\"topic\":\"%s\",\"partition\":1,\"offset\":%" PRIu64
            ",\"reason\":\"DEAD_LETTER_UNDECODABLE\",\"detail\":\"%s\"}",
            wo, r % 100000, rnd);
        if (!cfd_json_to_pb("DeadLetter", json, &buf, &len, errstr, sizeof(errstr)))
            pb_raw(w, buf, len);
        break;
    case 2: /* a completed record */
        snprintf(json, sizeof(json),
                 "{\"work_order\":\"%s\",\"issuing_unit\":\"%s\",\"engineers\":[\"E1\"],"
                 "\"arrival_time_ms\":%" PRId64 "}",
                 wo, rnd, H_WL_T0);
        if (!cfd_json_to_pb("ConfirmationRecord", json, &buf, &len, errstr, sizeof(errstr)))
            pb_raw(w, buf, len);
        break;
    default: /* well-formed protobuf of random fields */
        for (int f = 0, nf = 1 + (int)(h_rand(seed) % 8); f < nf; f++) {
            int field = 1 + (int)(h_rand(seed) % 30);
            if (h_rand(seed) % 2)
                pb_int(w, field, (int64_t)(h_rand(seed) % 100000));
            else
                pb_bytes(w, field, rnd, h_rand(seed) % sizeof(rnd));
        }
        break;
    }
    free(buf);
}

static void poison_missing(uint64_t *seed, pbw *w, const char *wo, uint64_t n)
{
    char id[96];
    pbw sub = {.b = (uint8_t[64]){0}, .cap = 64};
    snprintf(id, sizeof(id), "%s-missing-%" PRIu64, wo, n);
    switch (h_rand(seed) % 9) {
    case 0: /* no event id */
        pb_str(w, 2, wo);
        pb_int(w, 4, H_WL_T0);
        pb_bytes(w, 11, "", 0);
        break;
    case 1: /* no work order */
        pb_str(w, 1, id);
        pb_int(w, 4, H_WL_T0);
        pb_bytes(w, 11, "", 0);
        break;
    case 2: /* no event time */
        pb_str(w, 1, id);
        pb_str(w, 2, wo);
        pb_bytes(w, 14, "", 0);
        break;
    case 3: /* no payload */
        pb_envelope(w, wo, n);
        break;
    case 4: /* diagnosed without a cause */
        pb_envelope(w, wo, n);
        pb_bytes(w, 18, "", 0);
        break;
    case 5: /* restored without a result */
        pb_envelope(w, wo, n);
        pb_bytes(w, 19, "", 0);
        break;
    case 6: /* an appointment without its time */
        pb_envelope(w, wo, n);
        pb_bytes(w, 15, "", 0);
        break;
    case 7: /* an alarm without its id */
        pb_envelope(w, wo, n);
        pb_int(&sub, 3, 2);
        pb_bytes(w, 24, sub.b, sub.n);
        break;
    default: /* CAUSE_OTHER without the text the form asks for */
        pb_envelope(w, wo, n);
        pb_int(&sub, 1, 6); /* CAUSE_OTHER */
        pb_bytes(w, 18, sub.b, sub.n);
        break;
    }
}

static void poison_bad_enum(uint64_t *seed, pbw *w, const char *wo, uint64_t n)
{
    pbw sub = {.b = (uint8_t[64]){0}, .cap = 64};
    pbw cust = {.b = (uint8_t[64]){0}, .cap = 64};
    int64_t bad = (h_rand(seed) % 3 == 0) ? -1 : 40 + (int64_t)(h_rand(seed) % 1000);
    pb_envelope(w, wo, n);
    switch (h_rand(seed) % 6) {
    case 0: /* Event.source */
        pb_int(w, 3, bad);
        pb_bytes(w, 11, "", 0);
        break;
    case 1: /* Diagnosed.cause */
        pb_int(&sub, 1, bad);
        pb_bytes(w, 18, sub.b, sub.n);
        break;
    case 2: /* ServiceRestored.result */
        pb_int(&sub, 1, bad);
        pb_bytes(w, 19, sub.b, sub.n);
        break;
    case 3: /* NocAlarm.severity */
        pb_str(&sub, 1, "ALM-1");
        pb_int(&sub, 3, bad);
        pb_bytes(w, 24, sub.b, sub.n);
        break;
    case 4: /* FaultReport.urgency */
        pb_int(&sub, 5, bad);
        pb_bytes(w, 10, sub.b, sub.n);
        break;
    default: /* FaultReport.customer.tier */
        pb_int(&cust, 6, bad);
        pb_bytes(&sub, 2, cust.b, cust.n);
        pb_bytes(w, 10, sub.b, sub.n);
        break;
    }
}

int h_poison(uint64_t *seed, h_poison_kind kind, const h_event *goods, size_t n_goods,
             uint8_t *buf, size_t cap, size_t *len)
{
    char errstr[256];
    for (int attempt = 0; attempt < 100; attempt++) {
        pbw w = {.b = buf, .cap = cap};
        uint64_t n = h_rand(seed) % 1000000;
        const h_event *g = &goods[h_rand(seed) % n_goods];
        cfd_decoded_event de;

        switch (kind) {
        case H_POISON_RANDOM:
            poison_random(seed, &w);
            break;
        case H_POISON_TRUNCATED:
            pb_raw(&w, g->buf, 1 + h_rand(seed) % (g->len - 1));
            break;
        case H_POISON_WRONG_SHAPE:
            poison_wrong_shape(seed, &w, g->wo);
            break;
        case H_POISON_MISSING:
            poison_missing(seed, &w, g->wo, n);
            break;
        default:
            poison_bad_enum(seed, &w, g->wo, n);
            break;
        }
        *len = w.n;
        if (cfd_codec_event_decode(buf, w.n, &de, errstr, sizeof(errstr)) != CFD_OK)
            return 0;
        cfd_codec_event_release(&de);
        if (kind != H_POISON_RANDOM && kind != H_POISON_WRONG_SHAPE) {
            fprintf(stderr, "harness: poison of kind %d was accepted by the decoder\n",
                    (int)kind);
            return -1;
        }
    }
    return -1;
}

/* --- dead letters ------------------------------------------------------------------- */

#define DL_MAX_PARTS 64

/* What is known of one input offset. */
typedef struct dl_slot {
    bool seen; /* read back from the input topic */
    bool bad;
    int dead;           /* dead letters read for it */
    const char *reason; /* expected reason name */
    char *b64;          /* original bytes, as the dead letter prints them */
} dl_slot;

typedef struct dl_index {
    dl_slot *parts[DL_MAX_PARTS];
    size_t n[DL_MAX_PARTS];
    const char *orphan_prefix;
    const char *topic;
    h_dl_report *rep;
    int want_distinct;
} dl_index;

static dl_slot *dl_slot_get(dl_index *x, int32_t p, int64_t off, bool grow)
{
    if (p < 0 || p >= DL_MAX_PARTS || off < 0)
        return NULL;
    if ((size_t)off >= x->n[p]) {
        if (!grow)
            return NULL;
        size_t n = (size_t)off + 1024;
        x->parts[p] = realloc(x->parts[p], n * sizeof(dl_slot));
        memset(x->parts[p] + x->n[p], 0, (n - x->n[p]) * sizeof(dl_slot));
        x->n[p] = n;
    }
    return &x->parts[p][off];
}

static const char *reason_name(cfd_err err)
{
    static const char *const names[] = {
        "DEAD_LETTER_REASON_UNSPECIFIED", "DEAD_LETTER_UNDECODABLE",
        "DEAD_LETTER_MISSING_FIELD",      "DEAD_LETTER_INVALID_TRANSITION",
        "DEAD_LETTER_UNKNOWN_WORK_ORDER", "DEAD_LETTER_INVALID_VALUE"};
    unsigned r = (unsigned)cfd_codec_dl_reason(err);
    return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static int dl_input_cb(const h_msg *m, void *opaque)
{
    dl_index *x = opaque;
    cfd_decoded_event de;
    char errstr[256];
    dl_slot *s = dl_slot_get(x, m->partition, m->offset, true);
    if (!s || s->seen)
        return 0;
    s->seen = true;
    x->rep->input++;
    cfd_err err =
        cfd_codec_event_decode(m->value, m->value_len, &de, errstr, sizeof(errstr));
    if (err) {
        s->bad = true;
        s->reason = reason_name(err);
    } else {
        if (x->orphan_prefix &&
            strncmp(de.ev.work_order, x->orphan_prefix, strlen(x->orphan_prefix)) == 0) {
            s->bad = true;
            s->reason = "DEAD_LETTER_UNKNOWN_WORK_ORDER";
        }
        cfd_codec_event_release(&de);
    }
    if (s->bad) {
        x->rep->bad++;
        s->b64 = h_base64(m->value, m->value_len);
    }
    return 0;
}

static const char *jget(json_object *o, const char *k)
{
    json_object *v = json_object_object_get(o, k);
    return v ? json_object_get_string(v) : NULL;
}

static int dl_cb(const h_msg *m, void *opaque)
{
    dl_index *x = opaque;
    char prefix[300], errstr[256];
    int32_t p = -1;
    long long off = -1;
    x->rep->dead_letters++;
    /* The id names the input position, "dl/<topic>/<partition>/<offset>", so one id
     * is one offset. */
    snprintf(prefix, sizeof(prefix), "dl/%s/%%d/%%lld", x->topic);
    dl_slot *s = NULL;
    if (!m->id || sscanf(m->id, prefix, &p, &off) != 2 ||
        !(s = dl_slot_get(x, p, off, false)) || !s->seen || !s->bad) {
        if (x->rep->unexpected++ < 5)
            fprintf(stderr, "harness: unexpected dead letter %s\n", m->id ? m->id : "-");
        return 0;
    }
    if (s->dead++ > 0) {
        x->rep->duplicates++;
        return 0;
    }
    x->rep->distinct++;
    char *json =
        cfd_pb_to_json("DeadLetter", m->value, m->value_len, errstr, sizeof(errstr));
    json_object *o = json ? json_tokener_parse(json) : NULL;
    const char *topic = o ? jget(o, "topic") : NULL;
    const char *part = o ? jget(o, "partition") : NULL;
    const char *offs = o ? jget(o, "offset") : NULL;
    const char *reason = o ? jget(o, "reason") : NULL;
    const char *orig = o ? jget(o, "original") : NULL;
    const char *wo = o ? jget(o, "work_order") : NULL;
    /* Keyed by its work order, or else by where it came from: never a null key. */
    char want_key[300];
    snprintf(want_key, sizeof(want_key), "%s/%d", x->topic, (int)p);
    if (wo && *wo)
        snprintf(want_key, sizeof(want_key), "%s", wo);
    if (!o || !topic || strcmp(topic, x->topic) != 0 || atoi(part ? part : "0") != p ||
        atoll(offs ? offs : "0") != off || !reason || strcmp(reason, s->reason) != 0 ||
        strcmp(orig ? orig : "", s->b64) != 0 || !m->key || strcmp(m->key, want_key) != 0) {
        if (x->rep->wrong++ < 5)
            fprintf(stderr,
                    "harness: dead letter %s (key %s, expected %s): expected reason "
                    "%s, got %s\n",
                    m->id, m->key ? m->key : "(null)", want_key, s->reason,
                    json ? json : errstr);
    }
    json_object_put(o);
    free(json);
    return x->rep->distinct >= x->want_distinct;
}

/* Names the bad input offsets without a dead letter, and whether the output still
 * waits in a partition's outbox in Redis (not produced) or is nowhere (never written,
 * or removed after a delivery the topic does not show). */
static void dl_explain_missing(h_env *env, const dl_index *x)
{
    redisContext *rc = h_redis_connect(env);
    int shown = 0;
    for (int p = 0; p < DL_MAX_PARTS; p++) {
        for (size_t off = 0; off < x->n[p]; off++) {
            const dl_slot *s = &x->parts[p][off];
            if (!s->seen || !s->bad || s->dead || shown++ >= 10)
                continue;
            char id[300];
            snprintf(id, sizeof(id), "dl/%s/%d/%zu", x->topic, p, off);
            redisReply *r =
                rc ? redisCommand(rc, "EVAL %s 0 %s",
                                  "for _, k in ipairs(redis.call('KEYS', "
                                  "'cfd:*:outbox')) do if redis.call('HEXISTS', "
                                  "k, ARGV[1]) == 1 then return k end end "
                                  "return false",
                                  id)
                   : NULL;
            fprintf(stderr, "harness: no dead letter for %s (%s): %s%s\n", id, s->reason,
                    r && r->type == REDIS_REPLY_STRING ? "still in the outbox "
                                                       : "not in any outbox",
                    r && r->type == REDIS_REPLY_STRING ? r->str : "");
            freeReplyObject(r);
        }
    }
    if (rc)
        redisFree(rc);
}

int h_dl_check(h_env *env, const char *in_topic, int input_count, const char *orphan_prefix,
               const char *dl_topic, int timeout_ms, h_dl_report *rep)
{
    dl_index x = {.orphan_prefix = orphan_prefix, .topic = in_topic, .rep = rep};
    h_consumer *c;
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    if (!(c = h_consume_open(env, in_topic)))
        goto out;
    h_consume_until(c, input_count, 60000, dl_input_cb, &x);
    h_consume_close(c);
    if (rep->input != input_count) {
        fprintf(stderr, "harness: read %d of %d input messages back\n", rep->input,
                input_count);
        goto out;
    }
    x.want_distinct = rep->bad;
    if (!(c = h_consume_open(env, dl_topic)))
        goto out;
    if (rep->bad > 0)
        h_consume_until(c, INT32_MAX, timeout_ms, dl_cb, &x);
    x.want_distinct = INT32_MAX; /* then look for strays a little longer */
    h_consume_until(c, INT32_MAX, 2000, dl_cb, &x);
    h_consume_close(c);
    rep->missing = rep->bad - rep->distinct;
    if (rep->missing)
        dl_explain_missing(env, &x);
    rc = 0;
out:
    for (int p = 0; p < DL_MAX_PARTS; p++) {
        for (size_t i = 0; i < x.n[p]; i++)
            free(x.parts[p][i].b64);
        free(x.parts[p]);
    }
    return rc;
}

/* --- outputs ------------------------------------------------------------------------ */

/* h_redis_record() on n connections in turn (a cluster's masters: where a partition is
 * not, GET answers MOVED, which reads as absent). @returns as h_redis_record(). */
static int record_on(redisContext **rcs, int n, const char *wo, int nparts, uint8_t **out,
                     size_t *len, uint32_t *version)
{
    int r = n > 0 ? 0 : -1;
    for (int i = 0; i < n && r == 0; i++)
        r = h_redis_record(rcs[i], wo, nparts, out, len, version);
    return r;
}

static void conns_free(redisContext **rcs, int *n)
{
    for (int i = 0; i < *n; i++)
        redisFree(rcs[i]);
    *n = 0;
}

int h_wait_redis_records(h_env *env, const h_expect *exp, size_t n, int nparts,
                         int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    bool *ok = calloc(n ? n : 1, sizeof(bool));
    size_t n_ok = 0;
    redisContext *rcs[16];
    int nrc = 0, bad;

    for (;;) {
        if (nrc <= 0)
            nrc = h_redis_masters(env, rcs, 16);
        for (size_t i = 0; nrc > 0 && i < n; i++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            uint32_t version = 0;
            if (ok[i])
                continue;
            int r = record_on(rcs, nrc, exp[i].wo, nparts, &buf, &len, &version);
            if (r < 0) {
                conns_free(rcs, &nrc);
                break;
            }
            if (r == 1 && len == exp[i].record_len &&
                memcmp(buf, exp[i].record, len) == 0) {
                ok[i] = true;
                n_ok++;
            }
            free(buf);
        }
        if (n_ok == n || h_now_ms() >= deadline)
            break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    bad = (int)(n - n_ok);
    for (size_t i = 0, shown = 0; i < n && shown < 5; i++) {
        if (ok[i])
            continue;
        uint8_t *buf = NULL;
        size_t len = 0;
        uint32_t version = 0;
        int r = record_on(rcs, nrc, exp[i].wo, nparts, &buf, &len, &version);
        fprintf(stderr, "harness: work order %s: %s (version %u, expected %u)\n", exp[i].wo,
                r == 1   ? "record differs from the oracle"
                : r == 0 ? "no state in redis"
                         : "redis unreadable",
                version, exp[i].version);
        free(buf);
        shown++;
    }
    conns_free(rcs, &nrc);
    free(ok);
    return bad;
}

/* The expected orders sorted by work order, for lookups by the id of an output. */
typedef struct out_index {
    const h_expect **by_wo;
    size_t n;
    uint8_t *seen;   /* per expected order: bit k = alert k seen; bit 7 = record */
    uint8_t **first; /* per expected order: first record copy seen */
    size_t *first_len;
    int want;
    h_out_report *rep;
    bool alerts;
} out_index;

static int cmp_expect(const void *a, const void *b)
{
    return strcmp((*(const h_expect *const *)a)->wo, (*(const h_expect *const *)b)->wo);
}

static int cmp_key(const void *key, const void *e)
{
    return strcmp(key, (*(const h_expect *const *)e)->wo);
}

/* @returns the index (in by_wo) of the order named by id after prefix, or -1. */
static long out_find(out_index *x, const char *id, const char *prefix, const char **rest)
{
    char wo[128];
    size_t pl = strlen(prefix);
    if (!id || strncmp(id, prefix, pl) != 0)
        return -1;
    const char *slash = strchr(id + pl, '/');
    if (!slash || (size_t)(slash - id - pl) >= sizeof(wo))
        return -1;
    memcpy(wo, id + pl, (size_t)(slash - id - pl));
    wo[slash - id - pl] = '\0';
    const h_expect **e = bsearch(wo, x->by_wo, x->n, sizeof(*x->by_wo), cmp_key);
    *rest = slash + 1;
    return e ? (long)(e - x->by_wo) : -1;
}

static int out_cb(const h_msg *m, void *opaque)
{
    out_index *x = opaque;
    const char *rest = NULL;
    long k = out_find(x, m->id, x->alerts ? "alert/" : "rec/", &rest);
    x->rep->messages++;
    if (k < 0) {
        if (x->rep->unexpected++ < 5)
            fprintf(stderr, "harness: unexpected output %s\n", m->id ? m->id : "-");
        return 0;
    }
    const h_expect *e = x->by_wo[k];
    if (x->alerts) {
        int a = -1;
        for (int i = 0; i < e->n_alerts && a < 0; i++)
            if (strcmp(e->alert_ids[i], m->id) == 0)
                a = i;
        if (a < 0) {
            if (x->rep->unexpected++ < 5)
                fprintf(stderr, "harness: unexpected alert %s\n", m->id);
        } else if (x->seen[k] & (1u << a)) {
            x->rep->duplicates++;
        } else {
            x->seen[k] |= (uint8_t)(1u << a);
            x->rep->distinct++;
        }
    } else {
        char want[32];
        snprintf(want, sizeof(want), "v%u", e->version);
        if (!e->complete || strcmp(rest, want) != 0) {
            /* A record of a version the oracle never completes. */
            if (x->rep->unexpected++ < 5)
                fprintf(stderr, "harness: unexpected record %s\n", m->id);
            return 0;
        }
        if (x->seen[k] & 0x80) {
            x->rep->duplicates++;
            if (m->value_len != x->first_len[k] ||
                memcmp(m->value, x->first[k], m->value_len) != 0) {
                if (x->rep->wrong++ < 5)
                    fprintf(stderr, "harness: record %s emitted twice, differently\n",
                            m->id);
            }
            return 0;
        }
        x->seen[k] |= 0x80;
        x->rep->distinct++;
        x->first[k] = malloc(m->value_len + 1);
        memcpy(x->first[k], m->value, m->value_len);
        x->first_len[k] = m->value_len;
        if (m->value_len != e->record_len || memcmp(m->value, e->record, e->record_len)) {
            if (x->rep->wrong++ < 5)
                fprintf(stderr, "harness: record %s differs from the oracle\n", m->id);
        }
    }
    return x->rep->distinct >= x->want;
}

static int check_topic(h_env *env, const char *topic, const h_expect *exp, size_t n,
                       int timeout_ms, h_out_report *rep, bool alerts)
{
    out_index x = {.n = n, .rep = rep, .alerts = alerts};
    h_consumer *c;
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    x.by_wo = malloc((n ? n : 1) * sizeof(*x.by_wo));
    x.seen = calloc(n ? n : 1, 1);
    x.first = calloc(n ? n : 1, sizeof(*x.first));
    x.first_len = calloc(n ? n : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        x.by_wo[i] = &exp[i];
        x.want += alerts ? exp[i].n_alerts : exp[i].complete;
    }
    qsort(x.by_wo, n, sizeof(*x.by_wo), cmp_expect);
    if (!(c = h_consume_open(env, topic)))
        goto out;
    if (x.want > 0)
        h_consume_until(c, INT32_MAX, timeout_ms, out_cb, &x);
    x.want = INT32_MAX;
    h_consume_until(c, INT32_MAX, 1000, out_cb, &x);
    h_consume_close(c);
    for (size_t i = 0; i < n; i++) {
        const h_expect *e = x.by_wo[i];
        for (int a = 0; alerts && a < e->n_alerts; a++)
            if (!(x.seen[i] & (1u << a)) && rep->missing++ < 5)
                fprintf(stderr, "harness: alert %s never emitted\n", e->alert_ids[a]);
        if (!alerts && e->complete && !(x.seen[i] & 0x80) && rep->missing++ < 5)
            fprintf(stderr, "harness: record of %s v%u never emitted\n", e->wo, e->version);
    }
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(x.first[i]);
    free(x.first);
    free(x.first_len);
    free(x.seen);
    free(x.by_wo);
    return rc;
}

int h_check_records_topic(h_env *env, const char *topic, const h_expect *exp, size_t n,
                          int timeout_ms, h_out_report *rep)
{
    return check_topic(env, topic, exp, n, timeout_ms, rep, false);
}

int h_check_alerts_topic(h_env *env, const char *topic, const h_expect *exp, size_t n,
                         int timeout_ms, h_out_report *rep)
{
    return check_topic(env, topic, exp, n, timeout_ms, rep, true);
}

/*
 * Workloads and oracles for the "nothing is lost" tests; see harness_orders.h.
 */
#include "harness_orders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "confirmd/codec.h"
#include "confirmd/policy.h"
#include "confirmd/record.h"

#define MIN_MS 60000LL

int h_event_encode(const char *json, h_event *ev) {
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

void h_event_clear(h_event *ev) {
    if (!ev)
        return;
    free(ev->buf);
    ev->buf = NULL;
    ev->len = 0;
}

int h_order_events(const char *wo, unsigned variant, int64_t t0,
                   h_event out[H_ORDER_EVENTS]) {
    static const char *const tiers[] = {"TIER_AAA", "TIER_AA", "TIER_A"};
    /* Minutes from acceptance to arrival: in time for every tier, then later ones
     * that breach the on-site limit of some tiers (alerts). */
    static const int arrivals[] = {30, 50, 100, 160, 300};
    const char *tier = tiers[variant % 3];
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

    snprintf(json, sizeof(json),
             "{\"event_id\":\"%s-rep\",\"work_order\":\"%s\",\"source\":\"SOURCE_CUSTOMER\","
             "\"event_time_ms\":%" PRId64 ",\"fault_report\":{\"issuing_unit\":\"Liangping "
             "NOC\",\"customer\":{\"name\":\"" H_CUSTOMER_NAME "\",\"contact_person\":\""
             H_CUSTOMER_CONTACT "\",\"contact_phone\":\"" H_CUSTOMER_PHONE "\","
             "\"address\":\"" H_CUSTOMER_ADDRESS "\",\"affected_service\":\"internet "
             "dedicated line\",\"tier\":\"%s\",\"gold\":%s,\"city\":\"Chongqing\"},"
             "\"network\":{\"circuit_id\":\"CQ-%s\"},\"problem_description\":\"line down\"}}",
             wo, wo, t0, tier, gold ? "true" : "false", wo);
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
static void oracle_alerts(cfd_record *rec, h_expect *out) {
    cfd_alert alerts[32];
    size_t n = cfd_record_collect_alerts(rec, H_T0, alerts, 32);
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

int h_oracle(const h_event *evs, size_t n, h_expect *out) {
    cfd_policy pol;
    cfd_record *rec = cfd_record_new();
    cfd_decoded_event *de = calloc(n ? n : 1, sizeof(*de));
    bool *done = calloc(n ? n : 1, sizeof(bool));
    char errstr[256];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!rec || !de || !done)
        goto out;
    cfd_policy_defaults(&pol);
    snprintf(out->wo, sizeof(out->wo), "%s", n ? evs[0].wo : "");
    for (size_t i = 0; i < n; i++) {
        if (cfd_codec_event_decode(evs[i].buf, evs[i].len, &de[i], errstr, sizeof(errstr))) {
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
                oracle_alerts(rec, out);
            }
        }
    }
    out->version = rec->version;
    out->complete = cfd_record_is_complete(rec);
    if (cfd_codec_record_encode(rec, &out->record, &out->record_len))
        goto out;
    rc = 0;
out:
    for (size_t i = 0; de && i < n; i++)
        cfd_codec_event_release(&de[i]);
    free(de);
    free(done);
    cfd_record_destroy(rec);
    return rc;
}

void h_expect_clear(h_expect *e) {
    if (!e)
        return;
    free(e->record);
    e->record = NULL;
}

int h_redis_record(redisContext *rc, const char *wo, int nparts, uint8_t **out,
                   size_t *len, uint32_t *version) {
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
        int err = cfd_codec_record_encode(rec, out, len);
        cfd_record_destroy(rec);
        return err ? -1 : 1;
    }
    return 0;
}

int h_file_count(const char *path, const char *needle) {
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

char *h_base64(const void *p, size_t len) {
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

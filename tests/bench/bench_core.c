/*
 * bench_core: nanoseconds per event of cfd_record_apply over a realistic mix.
 *
 * Each work order gets the events of a full visit (report, acceptance, dispatch,
 * contact, alarm, departure, arrival, a part, a pause and its resume, diagnosis,
 * restoration, signature, close, event report), delivered in time order with every
 * fifth order shuffled and one duplicate redelivery per order. Pure core: no codec,
 * no I/O. Then the state path alone: each event's stored state decoded, the event
 * applied, the state encoded again, as a worker does per event, and the mean size of a
 * completed order's state. Usage: bench_core [work orders, default 20000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confirmd/codec.h"
#include "confirmd/record.h"

#define PER_ORDER 17

typedef struct order_events {
    char ids[PER_ORDER][24];
    char wo[24];
    cfd_event ev[PER_ORDER];
    int order[PER_ORDER];
} order_events;

static const char *const engineers[] = {"eng-1", "eng-2"};

static void build(order_events *o, int n, uint64_t *seed)
{
    static const cfd_milestone kinds[PER_ORDER - 1] = {CFD_MS_REPORTED,
                                                       CFD_MS_ACCEPTED,
                                                       CFD_MS_DISPATCHED,
                                                       CFD_MS_ENGINEER_ACCEPTED,
                                                       CFD_MS_CUSTOMER_CONTACTED,
                                                       CFD_MS_ALARM,
                                                       CFD_MS_DEPARTED,
                                                       CFD_MS_ARRIVED_ON_SITE,
                                                       CFD_MS_PART_REPLACED,
                                                       CFD_MS_CLOCK_PAUSED,
                                                       CFD_MS_CLOCK_RESUMED,
                                                       CFD_MS_DIAGNOSED,
                                                       CFD_MS_SERVICE_RESTORED,
                                                       CFD_MS_CONFIRMATION_SIGNED,
                                                       CFD_MS_CLOSED,
                                                       CFD_MS_EVENT_REPORT_SUBMITTED};
    int64_t t = 1767225600000LL + (int64_t)n * 60000;

    snprintf(o->wo, sizeof(o->wo), "WO-B-%d", n);
    for (int k = 0; k < PER_ORDER - 1; k++) {
        cfd_event *ev = &o->ev[k];

        memset(ev, 0, sizeof(*ev));
        snprintf(o->ids[k], sizeof(o->ids[k]), "%s-%02d", o->wo, k);
        ev->event_id = o->ids[k];
        ev->work_order = o->wo;
        ev->kind = kinds[k];
        ev->event_time_ms = t + (int64_t)k * 7 * 60000;
        ev->reported_by = "eng-1";
        switch (ev->kind) {
        case CFD_MS_REPORTED:
            ev->report.customer.name = "Acme";
            ev->report.customer.contact_phone = "13800000000";
            ev->report.customer.tier = (cfd_tier)(1 + n % 4);
            ev->report.customer.gold = n % 3 == 0;
            ev->report.circuit_id = "CQ-LP-0001";
            ev->report.issuing_unit = "branch";
            ev->report.problem_description = "line down";
            break;
        case CFD_MS_DISPATCHED:
            ev->dispatch.contractor = "Contractor One";
            break;
        case CFD_MS_ALARM:
            ev->alarm.alarm_id = "ALM-1";
            ev->alarm.severity = CFD_ALARM_MAJOR;
            break;
        case CFD_MS_ARRIVED_ON_SITE:
            ev->arrival.engineers = engineers;
            ev->arrival.n_engineers = 2;
            break;
        case CFD_MS_PART_REPLACED:
            ev->part.name = "optical module";
            ev->part.serial_number = "HW20230415A0012";
            ev->part.category = CFD_EQUIPMENT_COMPONENT;
            break;
        case CFD_MS_CLOCK_PAUSED:
        case CFD_MS_CLOCK_RESUMED:
            ev->pause.pause_id = "p1";
            ev->pause.reason = CFD_PAUSE_CUSTOMER;
            break;
        case CFD_MS_DIAGNOSED:
            ev->diagnosis.cause = CFD_CAUSE_TRANSMISSION_LINE;
            ev->diagnosis.onsite_findings = "fibre cut";
            break;
        case CFD_MS_SERVICE_RESTORED:
            ev->restoration.result = CFD_RESULT_RESTORED;
            break;
        case CFD_MS_CONFIRMATION_SIGNED:
            ev->signature.customer_signature = "signed";
            ev->signature.engineer_signature = "eng-1";
            break;
        default:
            break;
        }
        o->order[k] = k;
    }
    /* Every fifth order arrives shuffled (offline field apps); all get a redelivery. */
    if (n % 5 == 0)
        for (int k = PER_ORDER - 2; k > 0; k--) {
            int j;

            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            j = (int)(*seed % (uint64_t)(k + 1));
            int tmp = o->order[k];
            o->order[k] = o->order[j];
            o->order[j] = tmp;
        }
    o->order[PER_ORDER - 1] = o->order[PER_ORDER / 2];
}

/* Applies every order's events as the worker does, re-applying the parked ones after
 * each change; adds the calls to *events and the parks to *parked. Not inlined: under
 * callgrind (scripts/bench.sh) only this function is measured (--toggle-collect). */
__attribute__((noinline)) static void apply_all(const order_events *o, int orders,
                                                const cfd_policy *pol, long *events,
                                                long *parked)
{
    for (int n = 0; n < orders; n++) {
        cfd_record *rec = cfd_record_new();
        const cfd_event *wait[PER_ORDER];
        int n_wait = 0;

        for (int k = 0; k < PER_ORDER; k++) {
            cfd_apply_outcome out;

            cfd_record_apply(rec, &o[n].ev[o[n].order[k]], pol, &out, NULL, 0);
            (*events)++;
            if (out == CFD_APPLY_PARK) {
                wait[n_wait++] = &o[n].ev[o[n].order[k]];
                (*parked)++;
            } else if (out == CFD_APPLY_CHANGED) {
                /* re-apply the parked, as the worker does */
                for (int i = 0; i < n_wait;) {
                    cfd_record_apply(rec, wait[i], pol, &out, NULL, 0);
                    (*events)++;
                    if (out == CFD_APPLY_PARK)
                        i++;
                    else
                        wait[i] = wait[--n_wait];
                }
            }
        }
        cfd_record_destroy(rec);
    }
}

/* Decodes the stored state, applies the event and encodes the state again, per event,
 * as the worker does (parked events are left parked: the core alone measures them);
 * adds the completed orders' state bytes to *done_bytes. Not inlined: callgrind
 * measures only this function with --toggle-collect=state_all. */
__attribute__((noinline)) static void state_all(const order_events *o, int orders,
                                                const cfd_policy *pol, long *events,
                                                long *done_bytes)
{
    for (int n = 0; n < orders; n++) {
        uint8_t *buf = NULL;
        size_t len = 0;

        for (int k = 0; k < PER_ORDER; k++) {
            cfd_record *rec = NULL;
            cfd_apply_outcome out;
            char errstr[256];

            if (buf && cfd_codec_state_decode(buf, len, &rec, errstr, sizeof(errstr))) {
                fprintf(stderr, "bench_core: %s\n", errstr);
                exit(1);
            }
            if (!rec)
                rec = cfd_record_new();
            cfd_record_apply(rec, &o[n].ev[o[n].order[k]], pol, &out, NULL, 0);
            (*events)++;
            free(buf);
            cfd_codec_state_encode(rec, &buf, &len);
            cfd_record_destroy(rec);
        }
        *done_bytes += (long)len;
        free(buf);
    }
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int orders = argc > 1 ? atoi(argv[1]) : 20000;
    order_events *o = calloc((size_t)orders, sizeof(*o));
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    cfd_policy pol;
    double t0, t1;
    long events = 0, parked = 0;

    if (o == NULL || orders <= 0)
        return 1;
    cfd_policy_defaults(&pol);
    for (int n = 0; n < orders; n++)
        build(&o[n], n, &seed);
    t0 = now_ns();
    apply_all(o, orders, &pol, &events, &parked);
    t1 = now_ns();
    printf("bench_core: %d work orders, %ld cfd_record_apply calls (%ld parked), "
           "%.0f ns per event\n",
           orders, events, parked, (t1 - t0) / (double)events);
    printf("ROW\tcore apply time\t%.0f\tns/event\tcfd_record_apply alone, %d events of %d "
           "orders, parks re-applied\n",
           (t1 - t0) / (double)(orders * PER_ORDER), orders * PER_ORDER, orders);
    long st_events = 0, done_bytes = 0;
    t0 = now_ns();
    state_all(o, orders, &pol, &st_events, &done_bytes);
    t1 = now_ns();
    printf("bench_core: state path %.0f ns per event, completed state %.0f B\n",
           (t1 - t0) / (double)st_events, (double)done_bytes / orders);
    printf("ROW\tstate path time\t%.0f\tns/event\tstate decode, apply, state encode, %ld "
           "events\n",
           (t1 - t0) / (double)st_events, st_events);
    printf("ROW\tcompleted state size\t%.0f\tB\tencoded state of a completed order, "
           "%d orders\n",
           (double)done_bytes / orders, orders);
    free(o);
    return 0;
}

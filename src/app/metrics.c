/*
 * A worker's metrics: the published snapshot behind a mutex, and its Prometheus text
 * rendering; see include/confirmd/metrics.h.
 */
#include "confirmd/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/text.h"

struct cfd_metrics {
    pthread_mutex_t lock;
    bool published;
    cfd_metrics_snapshot snap; /* its topics and lag point into the arrays below */
    cfd_metrics_topic *topics;
    cfd_metrics_lag *lag;
    char **names; /* the topic names the snapshot points to */
    size_t n_names, cap_topics, cap_lag;
    cfd_metrics_source_fn source; /* set before the endpoint starts */
    void *source_ctx;
};

cfd_metrics *cfd_metrics_new(void)
{
    cfd_metrics *m = cfd_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

/* @returns m's copy of the topic name t, added when new (a worker has a handful). */
static const char *name_intern(cfd_metrics *m, const char *t)
{
    for (size_t i = 0; i < m->n_names; i++)
        if (strcmp(m->names[i], t) == 0)
            return m->names[i];
    m->names = cfd_xrealloc(m->names, (m->n_names + 1) * sizeof(*m->names));
    m->names[m->n_names] = cfd_xstrdup(t);
    return m->names[m->n_names++];
}

void cfd_metrics_publish(cfd_metrics *m, const cfd_metrics_snapshot *s)
{
    pthread_mutex_lock(&m->lock);
    m->topics = cfd_xgrow(m->topics, &m->cap_topics, s->n_topics, sizeof(*m->topics));
    m->lag = cfd_xgrow(m->lag, &m->cap_lag, s->n_lag, sizeof(*m->lag));
    m->snap = *s;
    for (size_t i = 0; i < s->n_topics; i++)
        m->topics[i] =
            (cfd_metrics_topic){name_intern(m, s->topics[i].topic), s->topics[i].consumed};
    for (size_t i = 0; i < s->n_lag; i++) {
        m->lag[i] = s->lag[i];
        m->lag[i].topic = name_intern(m, s->lag[i].topic);
    }
    m->snap.topics = m->topics;
    m->snap.lag = m->lag;
    m->published = true;
    pthread_mutex_unlock(&m->lock);
}

void cfd_metrics_set_source(cfd_metrics *m, cfd_metrics_source_fn fn, void *ctx)
{
    m->source = fn;
    m->source_ctx = ctx;
}

char *cfd_metrics_render(cfd_metrics *m, size_t *len)
{
    pthread_mutex_lock(&m->lock);
    char *text = cfd_metrics_format(&m->snap, len);
    pthread_mutex_unlock(&m->lock);
    if (!m->source)
        return text;
    char *all = NULL;
    FILE *out = open_memstream(&all, len);
    if (!out)
        abort(); /* out of memory, as confirmd/alloc.h */
    fputs(text, out);
    m->source(m->source_ctx, out);
    if (fclose(out) != 0 || !all)
        abort();
    free(text);
    return all;
}

bool cfd_metrics_ready(cfd_metrics *m, int64_t now_mono_ms, int64_t max_stall_ms, char *why,
                       size_t why_size)
{
    pthread_mutex_lock(&m->lock);
    const cfd_metrics_snapshot *s = &m->snap;
    bool ready = false;
    if (!m->published)
        snprintf(why, why_size, "the worker has not started its loop");
    else if (now_mono_ms - s->loop_mono_ms > max_stall_ms)
        snprintf(why, why_size, "the worker's loop has not run for %" PRId64 " ms",
                 now_mono_ms - s->loop_mono_ms);
    else if (!s->redis_ok)
        snprintf(why, why_size, "redis did not answer the worker's last call");
    else if (!s->partitions_owned)
        snprintf(why, why_size, "no partitions assigned");
    else
        ready = true;
    pthread_mutex_unlock(&m->lock);
    return ready;
}

void cfd_metrics_destroy(cfd_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    cfd_strv_free(m->names, m->n_names);
    free(m->topics);
    free(m->lag);
    free(m);
}

/* --- the text format --------------------------------------------------------------- */

/* The counters of cfd_worker_stats that are a family each, without labels. */
static const struct {
    const char *name, *help;
    size_t offset;
} counters[] = {
    {"confirmd_events_applied_total", "Events that changed a work order's record.",
     offsetof(cfd_worker_stats, applied)},
    {"confirmd_events_duplicate_total", "Replayed events dropped by their event id.",
     offsetof(cfd_worker_stats, duplicates)},
    {"confirmd_events_parked_total", "Events parked for a work order not open yet.",
     offsetof(cfd_worker_stats, parked)},
    {"confirmd_records_completed_total", "Completed confirmation records emitted.",
     offsetof(cfd_worker_stats, records)},
    {"confirmd_batches_total", "Batches committed to Redis (one atomic write each).",
     offsetof(cfd_worker_stats, batches)},
    {"confirmd_redis_retries_total", "Redis calls retried while Redis was unreachable.",
     offsetof(cfd_worker_stats, redis_retries)},
    {"confirmd_input_lost_total",
     "Times a partition's next offset was gone from the brokers (deleted unread by "
     "retention): the worker resumed at the earliest they hold.",
     offsetof(cfd_worker_stats, input_lost)},
    {"confirmd_unreadable_states_total",
     "Stored states that did not decode (the worker stops).",
     offsetof(cfd_worker_stats, unreadable_states)},
};

/* Writes a family's HELP and TYPE lines. */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes a label value, escaped as the text format wants (\\, \" and \n). */
static void label_value(FILE *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(out, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
}

/* Writes a sample of name labelled topic="topic" and more (", ..." or ""), its value
 * (a format of one int64_t or uint64_t argument) after. */
__attribute__((format(printf, 5, 6))) static void topic_sample(FILE *out, const char *name,
                                                               const char *topic,
                                                               const char *more,
                                                               const char *value_fmt, ...)
{
    va_list ap;
    fprintf(out, "%s{topic=\"", name);
    label_value(out, topic);
    fprintf(out, "\"%s} ", more);
    va_start(ap, value_fmt);
    vfprintf(out, value_fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

/* A family with one sample and no labels. */
static void scalar(FILE *out, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    family(out, name, type, help);
    fprintf(out, "%s %" PRIu64 "\n", name, value);
}

static void histogram(FILE *out, const char *name, const char *help, const cfd_histogram *h)
{
    uint64_t cum = 0;
    family(out, name, "histogram", help);
    for (size_t b = 0; b < CFD_HIST_BOUNDS; b++) {
        cum += h->counts[b];
        fprintf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, cfd_hist_bounds[b], cum);
    }
    fprintf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
    fprintf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, h->sum, name, h->count);
}

/* SLA alerts emitted, by kind, metric and level (the recipient); only the label sets
 * seen, the family's lines always. */
static void alert_samples(FILE *out, const cfd_worker_stats *st)
{
    family(out, "confirmd_alerts_total", "counter",
           "SLA alerts emitted, by kind, metric (METRIC_NONE: about the whole order) and "
           "level (the recipient).");
    for (int k = 0; k < CFD_ALERT_KINDS; k++)
        for (int m = 0; m < CFD_METRIC_COUNT; m++)
            for (int r = 0; r < CFD_RECIPIENTS; r++)
                if (st->alerts_by[k][m][r])
                    fprintf(out,
                            "confirmd_alerts_total{kind=\"%s\",metric=\"%s\",level=\"%s\"} "
                            "%" PRIu64 "\n",
                            cfd_alert_kind_name((cfd_alert_kind)k),
                            cfd_metric_name((cfd_metric)m),
                            cfd_recipient_name((cfd_recipient)r), st->alerts_by[k][m][r]);
}

/* Incident messages emitted (each change of a severe fault is one), by kind and
 * status; every pair, zeros included. */
static void incident_samples(FILE *out, const cfd_worker_stats *st)
{
    family(
        out, "confirmd_incidents_total", "counter",
        "Incident messages emitted (each change of a severe fault), by kind and status.");
    for (int k = 1; k < CFD_INCIDENT_KINDS; k++)
        for (int t = 1; t < CFD_INCIDENT_STATUSES; t++)
            fprintf(
                out, "confirmd_incidents_total{kind=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                cfd_incident_kind_name((cfd_incident_kind)k),
                cfd_incident_status_name((cfd_incident_status)t), st->incidents_by[k][t]);
}

char *cfd_metrics_format(const cfd_metrics_snapshot *s, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        abort(); /* out of memory, as confirmd/alloc.h */
    const cfd_worker_stats *st = &s->stats;

    family(out, "confirmd_events_consumed_total", "counter",
           "Input messages consumed and applied in a batch, by topic.");
    for (size_t i = 0; i < s->n_topics; i++)
        topic_sample(out, "confirmd_events_consumed_total", s->topics[i].topic, "",
                     "%" PRIu64, s->topics[i].consumed);
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        scalar(out, counters[i].name, "counter", counters[i].help,
               *(const uint64_t *)((const char *)st + counters[i].offset));
    family(out, "confirmd_dead_letters_total", "counter",
           "Messages sent to the dead-letter topic, by reason.");
    for (size_t r = 0; r < CFD_DL_REASONS; r++)
        fprintf(out, "confirmd_dead_letters_total{reason=\"%s\"} %" PRIu64 "\n",
                cfd_dl_reason_name((cfd_dl_reason)r), st->dead_letters_by_reason[r]);
    family(out, "confirmd_rebalances_total", "counter",
           "Consumer group rebalances this worker took part in, by what they did.");
    fprintf(out, "confirmd_rebalances_total{event=\"assign\"} %" PRIu64 "\n",
            s->assignments);
    fprintf(out, "confirmd_rebalances_total{event=\"revoke\"} %" PRIu64 "\n",
            s->revocations);
    scalar(out, "confirmd_partitions_owned", "gauge",
           "Partitions this worker owns (claimed in Redis).", s->partitions_owned);
    scalar(out, "confirmd_outputs_undelivered", "gauge",
           "Outputs produced but not delivered yet (in flight or waiting for a retry).",
           s->undelivered);
    family(out, "confirmd_consumer_lag_messages", "gauge",
           "Messages the broker holds beyond what this worker applied, by input "
           "partition (as of the last fetch).");
    for (size_t i = 0; i < s->n_lag; i++) {
        char part[32];
        snprintf(part, sizeof(part), ",partition=\"%" PRId32 "\"", s->lag[i].partition);
        topic_sample(out, "confirmd_consumer_lag_messages", s->lag[i].topic, part,
                     "%" PRId64, s->lag[i].messages);
    }
    alert_samples(out, st);
    incident_samples(out, st);
    family(out, "confirmd_fencing_events_total", "counter",
           "Fencing: partitions claimed (each fences every earlier owner), commits refused "
           "because another worker claimed the partition since, Redis found to have lost "
           "applied writes (both stop the worker).");
    fprintf(out, "confirmd_fencing_events_total{event=\"claim\"} %" PRIu64 "\n",
            st->claims);
    fprintf(out, "confirmd_fencing_events_total{event=\"fenced\"} %" PRIu64 "\n",
            st->fenced);
    fprintf(out, "confirmd_fencing_events_total{event=\"rollback\"} %" PRIu64 "\n",
            st->rollbacks);
    histogram(out, "confirmd_producer_delivery_duration_seconds",
              "Time from producing an output to its delivery report (its last try).",
              &s->delivery_seconds);
    histogram(out, "confirmd_redis_round_trip_duration_seconds",
              "Round trip of each call of the worker's store to Redis (one pipeline).",
              &s->redis_round_trip_seconds);
    histogram(out, "confirmd_redis_commit_duration_seconds",
              "Time from sending one batch's commit to Redis to taking its result (batches "
              "are sent ahead while the next are decided), retries included.",
              &s->commit_seconds);
    histogram(out, "confirmd_timer_lateness_seconds",
              "How late a partition's timers were ticked after their earliest was due.",
              &s->timer_lateness_seconds);
    if (fclose(out) != 0 || !text)
        abort(); /* out of memory, as confirmd/alloc.h */
    return text;
}

/*
 * Gauges of the store as a whole for /metrics: the work orders open by tier and the SLA
 * timers pending, read on a read-only connection of their own (confirmd/inspect.h) and
 * kept for STORE_GAUGES_CACHE_MS, so a scrape costs one pass over the keyspace at most
 * that often. Called from the HTTP thread: never the worker's Redis connection.
 */
#ifndef CFD_APP_STORE_GAUGES_H
#define CFD_APP_STORE_GAUGES_H

#include <stdio.h>

#include "confirmd/config.h"

typedef struct cfd_store_gauges cfd_store_gauges;

/* Gauges of the store cfg names. Takes no ownership: cfg must outlive them. Connects
 * on first use. */
cfd_store_gauges *cfd_store_gauges_new(const cfd_config *cfg);

/* NULL-safe. */
void cfd_store_gauges_destroy(cfd_store_gauges *g);

/* Writes the families (Prometheus text) to out; nothing when Redis did not answer (the
 * next call connects again). A cfd_metrics source (cfd_metrics_add_source). */
void cfd_store_gauges_write(void *g, FILE *out);

#endif

/*
 * The multi-customer city rule of severe faults (严重故障): 3 or more ordinary group
 * customers report the same service unusable in one city within 30 min, and the fault
 * lasts more than 30 min from the third report.
 *
 * Work orders of one city and service live on many partitions, so the rule cannot be
 * judged on a record. Each record that takes part (an ordinary customer, service fully
 * interrupted, city and service known) sends a cfd_city_report of itself, keyed by
 * "<city>|<service>", whenever what the rule needs of it changes; the owner of that
 * key keeps a cfd_city_state and judges the rule there:
 *
 *   - A window: reports of distinct customers (customer id, else the work order) whose
 *     report times span at most 30 min; its third report is the first instant 3
 *     customers are in it. Reports already counted in an earlier incident of the key
 *     do not count again.
 *   - It is severe when, more than 30 min after the third report, the fault has not
 *     ended for at least one of the window's orders (restored, closed or cancelled
 *     counts as ended): treated as severe first, the incident OPENs then, with a
 *     SEVERE_FAULT alert to the NOC duty manager, and the window's orders as members.
 *   - While it is open, every further report of the key joins (UPDATE); so does a
 *     change of the assessment: excluded when every member's cause was found not to be
 *     the operator's (customer equipment or network) - the incident stands, it only
 *     does not count. It CLOSEs when the fault ended for every member.
 *
 * Reports of an order arrive with its record version; the newest wins, so replays and
 * re-sent outputs change nothing. Pure core: the caller passes "now".
 */
#ifndef CONFIRMD_CITY_H
#define CONFIRMD_CITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confirmd/incident.h"
#include "confirmd/record.h"

#define CFD_CITY_CUSTOMERS 3                   /* reports that make a window */
#define CFD_CITY_WINDOW_MS (30 * 60 * 1000LL)  /* within which they come */
#define CFD_CITY_LASTING_MS (30 * 60 * 1000LL) /* lasting more than this from the third */
#define CFD_CITY_KEEP_MS (7 * 24 * 60 * 60 * 1000LL) /* a report out of any incident */
#define CFD_CITY_MAX_REPORTS 4096 /* per key; the oldest ended go first */
/* A key's ended reports this long before its latest report are settled once
 * CFD_CITY_SETTLE_AT_LEAST of them are, and stored apart (see cfd_city_settle). */
#define CFD_CITY_SETTLE_MS (CFD_CITY_WINDOW_MS + CFD_CITY_LASTING_MS + 60 * 1000LL)
#define CFD_CITY_SETTLE_AT_LEAST 128

/* What the rule needs of one work order. Strings are owned by whoever holds it. */
typedef struct cfd_city_report {
    char *city, *service; /* the key: both set */
    char *work_order;
    char *customer_id;      /* NULL: the order stands for its own customer */
    int64_t reported_at_ms; /* the restoration clock's start (report or alarm) */
    int64_t ended_at_ms;    /* restored, closed or cancelled; 0 while interrupted */
    bool ownership_unclear; /* cause not known yet, or "other" */
    bool excluded;          /* found not to be the operator's fault */
    uint32_t record_version;
    uint32_t incident; /* in state: the key's incident (1-based) it is in; 0 none */
} cfd_city_report;

/* Per "<city>|<service>": the reports and the key's latest incident. */
typedef struct cfd_city_state {
    char *city, *service;
    /* Sorted by work order; their city and service are NULL: the state's own (a busy
     * city holds thousands, each rewritten with the state). */
    cfd_city_report *reports;
    size_t n_reports, cap_reports;
    uint32_t incidents;    /* incidents the key opened; the latest is number this */
    bool open;             /* the latest is open */
    char incident_id[200]; /* the latest's id */
    int64_t started_at_ms; /* its window's first report */
    int64_t third_report_ms;
    int64_t opened_at_ms; /* third_report_ms + CFD_CITY_LASTING_MS */
    int64_t closed_at_ms;
    uint32_t version;      /* of its last message */
    uint32_t members_sent; /* members its last message named */
    bool excluded_sent;    /* excluded_from_assessment its last message said */
    const char **members;  /* scratch: the member list of the messages collected */
    size_t cap_members;
    /* The settled part, stored apart (a state of its own holding only reports): ended
     * reports before settled_before out of the open incident; 0 and 0 when none. */
    int64_t settled_before;
    int64_t settled_as_of; /* its latest report or end */
    uint32_t n_settled;    /* its reports */
} cfd_city_state;

/*
 * Fills *out from rec when rec takes part in the rule (see the file comment); its
 * strings point into rec.
 * @returns false when it does not (important customer, not fully interrupted, no city
 *          or service, not reported).
 */
bool cfd_city_report_of(const cfd_record *rec, cfd_city_report *out);

/* @returns true when a and b say the same to the rule (their versions aside). */
bool cfd_city_report_same(const cfd_city_report *a, const cfd_city_report *b);

/* Deep-copies src into dst (strings malloc'd; aborts on out-of-memory). @returns true. */
bool cfd_city_report_copy(cfd_city_report *dst, const cfd_city_report *src);

/*
 * What the rule must hear of an order whose record changed: rec as it is now (NULL:
 * none) against what the rule had of it (was, when in_was). Fills out[0..n): first,
 * when the order left its former key (another city or service, or no longer taking
 * part), its report there with its fault ended (at rec's latest event time unless it
 * ended before); then its report now, when it takes part and anything the rule reads
 * changed. The reports' strings point into rec and was.
 * @returns n (0..2); 0 when the rule has nothing new to hear.
 */
size_t cfd_city_report_changes(const cfd_record *rec, const cfd_city_report *was,
                               bool in_was, cfd_city_report out[2]);

/* Frees the strings of a report that owns them (a decoded one) and zeroes it. */
void cfd_city_report_clear(cfd_city_report *r);

/* @returns a new empty state (never NULL, see confirmd/alloc.h). */
cfd_city_state *cfd_city_state_new(void);
void cfd_city_state_destroy(cfd_city_state *st);

/*
 * Takes r (copied; its strings must not point into st) into st, unless st already
 * has a newer or equal version of r's order. Sets the key when st has none.
 * @returns true when st changed; false for an older version, or a report of another
 *          key (which a caller should not send here).
 */
bool cfd_city_merge(cfd_city_state *st, const cfd_city_report *r);

/*
 * The Incident messages st calls for at now_ms, at most 3 (OPEN, UPDATE, CLOSED in
 * that order), and into *alert the SEVERE_FAULT alert when one opens (*has_alert set).
 * Marks them sent in st. The messages' strings and member lists point into st: encode
 * them before st changes.
 * @returns how many were written to out.
 */
size_t cfd_city_collect(cfd_city_state *st, int64_t now_ms, cfd_incident out[3],
                        cfd_alert *alert, bool *has_alert);

/* @returns the instant after which cfd_city_collect would open an incident with no
 *          further report, or 0 when none is pending. */
int64_t cfd_city_next(const cfd_city_state *st);

/* @returns the key's own time: its latest report or end (event time), its settled
 *          part's included; 0 when none. */
int64_t cfd_city_as_of(const cfd_city_state *st);

/* Drops reports no incident can need any more: out of the open incident and older than
 * CFD_CITY_KEEP_MS (reported, or ended, that long) before the key's latest report or
 * end, in event time, so a replay keeps what the first run kept whatever the clock
 * says; then the oldest ended ones beyond CFD_CITY_MAX_REPORTS.
 * @returns how many were dropped. */
size_t cfd_city_prune(cfd_city_state *st);

/*
 * A busy city's key holds thousands of reports, and a state is rewritten whole with
 * each report. Most are settled: ended, and every window of the rule with one of them
 * in it judged not severe (or opened), which stays so until a report of its time
 * arrives. So the key is stored in two parts, the head (the state, with the rest) and
 * its settled part, which a batch reads and writes only when it must:
 *
 *   - cfd_city_needs_settled(): before merging reports, whether the head must be
 *     joined with its settled part (cfd_city_join) first: a report within a window's
 *     span of the settled time (a late report, or a new version of a settled order:
 *     an order's report time only moves earlier, report or first alarm), unless it
 *     only ends a fault the head holds (ending one makes no window severe); the key
 *     over CFD_CITY_MAX_REPORTS with them (so pruning sees them all); or
 *     CFD_CITY_SETTLE_AT_LEAST more to settle.
 *   - cfd_city_settle(): after judging and pruning, the reports to move into the
 *     settled part, and whether it is to be rewritten.
 *
 * Judged this way, the head alone decides what the whole state would: a state is split
 * only when no incident is open after judging at its own time, at a cut more than a
 * window's span and the lasting time before its latest report, so every window with a
 * settled report in it was decided then.
 */

/* @returns true when head must be joined with its settled part before reports[0..n)
 *          (of its key) are merged into it (see above). */
bool cfd_city_needs_settled(const cfd_city_state *head, const cfd_city_report *reports,
                            size_t n);

/* Joins the settled part (a state of the same key holding only reports; consumed and
 * destroyed) into head, which is then whole (no settled part), and prunes it as the
 * whole state was meanwhile (cfd_city_prune). Where both hold an order, the newer
 * version is kept. */
void cfd_city_join(cfd_city_state *head, cfd_city_state *settled);

/*
 * After a batch or a tick judged and pruned head (joined: it was joined with its
 * settled part first), splits it when it should be (see above): a whole state (joined,
 * or without a settled part) with no incident open and enough settled reports, or one
 * joined (its settled part is rewritten anyway).
 * @returns the settled part to store (a new state, the caller's to destroy) or NULL;
 *          *rewrite: the stored settled part must be replaced by the one returned
 *          (deleted when NULL); false: it stays as it is.
 */
cfd_city_state *cfd_city_settle(cfd_city_state *head, bool joined, bool *rewrite);

/* Writes "<city>|<service>" into buf. */
void cfd_city_key(const char *city, const char *service, char *buf, size_t size);

#endif

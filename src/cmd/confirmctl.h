/*
 * What the confirmctl commands share; private to src/cmd. confirmctl.c holds main()
 * and dispatches to one file per command; the prototypes below are grouped under the
 * file that defines them.
 */
#ifndef CONFIRMCTL_H
#define CONFIRMCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <getopt.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

/* Exit codes. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

#define CTL_MAX_PROPS 64

/* librdkafka properties from -X, in order. */
typedef struct ctl_props {
    const char *kv[CTL_MAX_PROPS];
    int n;
} ctl_props;

/* ---- confirmctl_common.c --------------------------------------------------------- */

/* Set by SIGINT/SIGTERM: a command stops waiting and exits. */
extern volatile sig_atomic_t ctl_stop;

/* @returns true for "-h", "--help" and "help", where a command name is expected. */
bool ctl_is_help(const char *arg);

/* @returns a monotonic clock in milliseconds, for deadlines. */
int64_t ctl_mono_ms(void);

/* @returns the wall clock in milliseconds since the epoch. */
int64_t ctl_now_ms(void);

/* For a librdkafka error callback: keeps the first refusal by the brokers (a failed
 * SASL login or TLS handshake, see CFD_KAFKA_REFUSED), which retrying cannot cure. */
void ctl_kafka_error(int err, const char *reason);

/* When the brokers refused this client, says so on stderr (once) and @returns true. */
bool ctl_refused(void);

/* @returns true when the brokers refused this client, without saying so. */
bool ctl_kafka_refused(void);

/* Adds one -X prop=value (kv is not copied). @returns 0, or -1 (said on stderr). */
int ctl_props_add(ctl_props *p, const char *kv);

/* A librdkafka configuration from -b and -X, with the error callback set.
 * @returns NULL on a bad property (said on stderr). */
rd_kafka_conf_t *ctl_conf_new(const char *brokers, const ctl_props *props);

/* Reads all of f into a malloc'd buffer. @returns NULL on a read error. */
uint8_t *ctl_read_all(FILE *f, size_t *len);

/* Opens FILE or "-" (stdin). @returns NULL when it cannot (said on stderr). */
FILE *ctl_open_input(const char *path);
void ctl_close_input(FILE *f);

/* @returns o's string member key, or NULL. */
const char *ctl_json_str(json_object *o, const char *key);

/* @returns o's integer member key (or a string holding one), or 0. */
int64_t ctl_json_i64(json_object *o, const char *key);

/* @returns true for a blank input line or a # comment. */
bool ctl_skip_line(const char *line);

bool ctl_ends_with(const char *s, const char *suffix);

/* Parses ms since the epoch or an ISO 8601 UTC instant ("2025-11-25T04:00:00Z").
 * @returns 0 or -1. */
int ctl_parse_instant(const char *text, int64_t *out);

/* ---- confirmctl_view.c: what the commands that read the store share ----------------- */

/* Forward declarations keep this header free of the store's and the domain's. */
typedef struct cfd_config cfd_config;
typedef struct cfd_inspect cfd_inspect;
typedef struct cfd_record cfd_record;

/* A read-only look at the store, as the worker of the same configuration sees it. */
typedef struct ctl_view {
    cfd_config *cfg;
    cfd_inspect *in;
    struct cfd_policy *pol; /* the configuration's policy file, or the defaults */
    int64_t now_ms;         /* the worker's clock: the simulated one when configured */
    bool simulated;
    int32_t nparts; /* partitions the store knows */
    bool json;      /* --json: one JSON document on stdout */
    bool customer;  /* --customer: show customer names, phones, addresses */
} ctl_view;

/* The options every such command takes, for getopt_long: -c/--config, -s/--set,
 * --json, --at; CTL_VIEW_SHORT is their short-option text. */
#define CTL_VIEW_SHORT "c:s:jh"
#define CTL_VIEW_LONG                                                                \
    {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'}, \
        {"json", no_argument, NULL, 'j'}, {"at", required_argument, NULL, 'T'},      \
    {                                                                                \
        "help", no_argument, NULL, 'h'                                               \
    }
#define CTL_VIEW_HELP                                                                     \
    "  -c, --config FILE     confirmd configuration file (redis.*, worker.clock,\n"       \
    "                        worker.policy_file), as the worker is given\n"               \
    "  -s, --set KEY=VALUE   override one configuration key\n"                            \
    "      --at TIME         judge at TIME (ms or YYYY-MM-DDTHH:MM:SSZ) instead of the\n" \
    "                        worker's clock\n"                                            \
    "      --json            one JSON document instead of text\n"                         \
    "  -h, --help            this text\n"

/* @returns a view holding the configuration's defaults (never NULL). */
ctl_view *ctl_view_new(void);
void ctl_view_destroy(ctl_view *v);

/* getopt_long over CTL_VIEW_SHORT plus the command's short options (shorts) and opts
 * (which start with CTL_VIEW_LONG), taking the view's own options itself.
 * @returns the next option that is the command's, -1 at the end, '?' on a bad one
 * (a bad value said on stderr). */
int ctl_view_getopt(ctl_view *v, int argc, char **argv, const char *shorts,
                    const struct option *opts);

/* Connects to Redis, loads the policy file, reads the worker's clock (unless --at) and
 * how many partitions the store knows. @returns 0, or -1 (said on stderr). */
int ctl_view_open(ctl_view *v);

/* Decodes a stored state; says on stderr which order could not be decoded.
 * @returns the record (cfd_record_destroy it), or NULL. */
cfd_record *ctl_view_decode(const char *order, const void *buf, size_t len);

/* Calls fn with every stored record of every partition (borrowed for the call).
 * @returns 0, or -1 when Redis failed or a state did not decode (said on stderr; the
 * other records were still given). */
typedef void (*ctl_record_fn)(int32_t part, const cfd_record *rec, void *ctx);
int ctl_view_each_record(ctl_view *v, ctl_record_fn fn, void *ctx);

/* Writes ms as operator-local time with its offset ("2025-11-25T12:16:00+08:00"),
 * "-" for 0. @returns buf. */
const char *ctl_view_time(const ctl_view *v, int64_t ms, char *buf, size_t size);

/* Writes a duration as "1d02h", "1h05m", "4m30s", "-4m" (negative: overdue).
 * @returns buf. */
const char *ctl_duration(int64_t ms, char *buf, size_t size);

/* Prints obj as the command's JSON document (pretty, one per run) and releases it. */
void ctl_json_print(json_object *obj);

/* @returns s escaped to stay on one line of text output ("" for NULL), in buf. */
const char *ctl_text(const char *s, char *buf, size_t size);

/* Takes -b/--brokers LIST: sets kafka.bootstrap.servers. @returns 0, or -1 (said on
 * stderr). */
int ctl_view_brokers(ctl_view *v, const char *list);

/* Loads the configuration's policy file (worker.policy_file) into v->pol, the
 * defaults when none is set. @returns 0, or -1 (said on stderr). */
int ctl_view_policy(ctl_view *v);

/* ---- confirmctl_replay.c: the input topics read for a replay (what-if, rebuild) ---- */

/* A client of type for the configuration's brokers (its kafka.* keys, as an admin
 * client: no group), with the NULL-terminated key, value pairs of set added.
 * @returns the client, or NULL (said on stderr). */
rd_kafka_t *ctl_config_client(const cfd_config *cfg, rd_kafka_type_t type,
                              const char *const *set);

/* @returns the partitions of topic per the brokers' metadata, -1 when unknown. */
int ctl_topic_partitions(rd_kafka_t *rk, const char *topic);

/* What a read covered. */
typedef struct ctl_input_stats {
    uint64_t messages;      /* given to the callback */
    uint64_t out_of_period; /* read but outside [from, to) */
    uint32_t partitions;    /* partitions with messages to read */
} ctl_input_stats;

/* Called with each message's value (borrowed for the call). */
typedef void (*ctl_input_fn)(const void *payload, size_t len, void *ctx);

/*
 * Reads the messages of the configuration's input topics (worker.input_topics) whose
 * timestamp is in [from_ms, to_ms) (0: no bound), every partition up to its high
 * watermark as of the start, by manual assignment: no consumer group, nothing
 * committed, nothing produced. Starts at the offset the brokers give for from_ms when
 * they give one. @returns 0, or -1 (said on stderr).
 */
int ctl_input_read(const cfd_config *cfg, int64_t from_ms, int64_t to_ms, ctl_input_fn fn,
                   void *ctx, ctl_input_stats *st);

/* ---- the commands: argv[0] is the command's name ------------------------------------ */

/* confirmctl_produce.c: "confirmctl produce". */
int ctl_produce(int argc, char **argv);

/* confirmctl_tail.c: "confirmctl tail". */
int ctl_tail(int argc, char **argv);

/* confirmctl_codec.c: "confirmctl decode" (decode true) and "confirmctl encode". */
int ctl_codec(int argc, char **argv, bool decode);

/* confirmctl_inventory.c: "confirmctl inventory". */
int ctl_inventory(int argc, char **argv);

/* confirmctl_clock.c: "confirmctl clock get|set|advance|unset". */
int ctl_clock(int argc, char **argv);

/* confirmctl_topics.c: "confirmctl topics create|list". */
int ctl_topics(int argc, char **argv);

/* confirmctl_show.c: "confirmctl show WORK_ORDER". */
int ctl_show(int argc, char **argv);

/* confirmctl_open.c: "confirmctl open". */
int ctl_open(int argc, char **argv);

/* confirmctl_breaches.c: "confirmctl breaches". */
int ctl_breaches(int argc, char **argv);

/* confirmctl_assessment.c: "confirmctl assessment". */
int ctl_assessment(int argc, char **argv);

/* confirmctl_outbox.c: "confirmctl outbox". */
int ctl_outbox(int argc, char **argv);

/* confirmctl_lag.c: "confirmctl lag". */
int ctl_lag(int argc, char **argv);

/* confirmctl_whatif.c: "confirmctl what-if". */
int ctl_whatif(int argc, char **argv);

/* confirmctl_rebuild.c: "confirmctl rebuild WORK_ORDER". */
int ctl_rebuild(int argc, char **argv);

#endif

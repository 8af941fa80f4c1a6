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

#endif

/*
 * What the confirmctl commands share; private to src/cmd. confirmctl.c holds main()
 * and the commands that predate this header, confirmctl_topics.c the topics command.
 */
#ifndef CONFIRMCTL_H
#define CONFIRMCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit codes. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

/* Set by SIGINT/SIGTERM: a command stops waiting and exits. */
extern volatile sig_atomic_t ctl_stop;

/* @returns true for "-h", "--help" and "help", where a command name is expected. */
bool ctl_is_help(const char *arg);

/* @returns a monotonic clock in milliseconds, for deadlines. */
int64_t ctl_mono_ms(void);

/* For a librdkafka error callback: keeps the first refusal by the brokers (a failed
 * SASL login or TLS handshake, see CFD_KAFKA_REFUSED), which retrying cannot cure. */
void ctl_kafka_error(int err, const char *reason);

/* When the brokers refused this client, says so on stderr (once) and @returns true. */
bool ctl_refused(void);

/* confirmctl_topics.c: "confirmctl topics create|list"; argv[0] is "topics". */
int ctl_topics(int argc, char **argv);

#endif

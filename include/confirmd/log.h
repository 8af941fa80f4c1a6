/*
 * Logging: one line per message on stderr, "2026-11-25T11:47:25.123Z INFO  [mod] text",
 * or in the JSON form one object per line with the stable keys "ts", "level", "module"
 * and "msg" (cfd_log_json); stderr is the log file when one is opened (cfd_log_open).
 *
 * The level check happens in the macro, so a disabled level costs one comparison.
 * Never log customer names, phones or addresses: log work order numbers, event ids,
 * topics, partitions and offsets. The message is escaped as a whole (cfd_text_escape):
 * a newline, another control character or a byte that is not UTF-8 in a value shows
 * as "\n", "\x1B", "\xFF", so input cannot forge a line or drive a terminal.
 */
#ifndef CONFIRMD_LOG_H
#define CONFIRMD_LOG_H

#include <stddef.h>

typedef enum cfd_log_level {
    CFD_LOG_DEBUG = 0,
    CFD_LOG_INFO = 1,
    CFD_LOG_WARN = 2,
    CFD_LOG_ERROR = 3,
} cfd_log_level;

extern cfd_log_level cfd_log_threshold; /* set once at start-up */
extern int cfd_log_json;                /* set once at start-up: 1 for the JSON form */

/* @returns 0 and sets *out for "debug", "info", "warn", "error"; -1 otherwise. */
int cfd_log_level_parse(const char *name, cfd_log_level *out);

/*
 * Makes path the log: opens it for appending (created with mode 0640) in place of
 * stderr, so librdkafka's own output goes there too. Called again after the file was
 * rotated away, it reopens the name; every line goes whole to the old or the new file.
 * @returns 0, or -1 with errstr filled (the log stays where it was).
 */
int cfd_log_open(const char *path, char *errstr, size_t errstr_size);

void cfd_log_write(cfd_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define cfd_log(level, module, ...)                        \
    do {                                                   \
        if ((level) >= cfd_log_threshold)                  \
            cfd_log_write((level), (module), __VA_ARGS__); \
    } while (0)

#define cfd_debug(mod, ...) cfd_log(CFD_LOG_DEBUG, mod, __VA_ARGS__)
#define cfd_info(mod, ...) cfd_log(CFD_LOG_INFO, mod, __VA_ARGS__)
#define cfd_warn(mod, ...) cfd_log(CFD_LOG_WARN, mod, __VA_ARGS__)
#define cfd_error(mod, ...) cfd_log(CFD_LOG_ERROR, mod, __VA_ARGS__)

#endif

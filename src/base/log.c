/*
 * Logging to stderr with UTC timestamps; see include/confirmd/log.h.
 */
#include "confirmd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "confirmd/text.h"

/* Set once at start-up, before any thread starts; read-only afterwards. */
cfd_log_level cfd_log_threshold = CFD_LOG_INFO;
int cfd_log_json = 0;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int cfd_log_level_parse(const char *name, cfd_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (cfd_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = CFD_LOG_WARN;
        return 0;
    }
    return -1;
}

int cfd_log_open(const char *path, char *errstr, size_t errstr_size)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* dup2 swaps the descriptor in one step: a concurrent line goes whole to one file. */
    fflush(stderr);
    int rc = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    if (rc)
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

void cfd_log_write(cfd_log_level level, const char *module, const char *fmt, ...)
{
    struct timeval tv;
    struct tm tm;
    char ts[32];
    char line[1024];
    char shown[4 * sizeof(line)]; /* an escape is at most 6 bytes for 2 */
    va_list ap;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* The values printed come from the input (work orders, ids, broker errors): one
     * escaping of the whole message keeps each on its line, whatever it holds. */
    cfd_text_escape(shown, sizeof(shown), line, strlen(line));
    /* One fprintf per line so concurrent writers do not interleave mid-line. */
    if (!cfd_log_json) {
        fprintf(stderr, "%s.%03dZ %-5s [%s] %s\n", ts, (int)(tv.tv_usec / 1000),
                level_names[level & 3], module, shown);
        return;
    }
    /* The escaped text holds printable characters only: JSON needs its quotes and
     * backslashes escaped, nothing else (a "\n" in the text stays two characters). */
    char json[2 * sizeof(shown)];
    size_t j = 0;
    for (const char *c = shown; *c && j + 2 < sizeof(json); c++) {
        if (*c == '"' || *c == '\\')
            json[j++] = '\\';
        json[j++] = *c;
    }
    json[j] = '\0';
    fprintf(stderr,
            "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"%s\"}\n", ts,
            (int)(tv.tv_usec / 1000), level_names[level & 3], module, json);
}

/*
 * The INI reader of the configuration and policy files; see ini_file.h.
 */
#include "ini_file.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* State of one load; the first error found is the one reported. */
typedef struct ini_load {
    FILE *fp;
    cfd_ini_value_fn on_value;
    cfd_ini_section_fn known_section;
    void *user;
    int lineno;   /* line last handed to libinih */
    int err_line; /* 0 while no error */
    char err[512];
} ini_load;

static void load_error(ini_load *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void load_error(ini_load *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->err_line)
        return;
    ctx->err_line = ctx->lineno;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
}

/*
 * Checks what libinih does not report to the handler: unknown (possibly empty)
 * sections, and indented lines, which libinih would take as the continuation of
 * the previous value. An indented line is blanked so it is never applied.
 */
static void check_line(ini_load *ctx, char *line)
{
    char *p = line;
    char *end;

    if (ctx->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 byte order mark */
    if (*p == ' ' || *p == '\t') {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0' && *p != '\r' && *p != '\n' && *p != ';' && *p != '#') {
            load_error(ctx, "indented line: keys and [sections] must start in the first "
                            "column (multi-line values are not supported)");
            line[0] = '\0';
        }
        return;
    }
    if (*p == '[' && (end = strchr(p, ']')) != NULL && ctx->known_section &&
        !ctx->known_section(ctx->user, p + 1, (size_t)(end - p - 1)))
        load_error(ctx, "unknown section [%.*s]", (int)(end - p - 1), p + 1);
}

/* libinih reader: fgets() that counts lines and rejects lines too long to fit. */
static char *read_line(char *buf, int size, void *stream)
{
    ini_load *ctx = stream;
    size_t len;
    int c;

    if (!fgets(buf, size, ctx->fp))
        return NULL;
    ctx->lineno++;
    len = strlen(buf);
    if (len > 0 && buf[len - 1] != '\n') {
        c = fgetc(ctx->fp);
        if (c != EOF && c != '\n') {
            /* Skip the rest, so libinih's line count stays equal to ours. */
            while (c != EOF && c != '\n')
                c = fgetc(ctx->fp);
            load_error(ctx, "line too long (at most %d characters)", size - 3);
            buf[0] = '\0';
            return buf;
        }
    }
    check_line(ctx, buf);
    return buf;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    ini_load *ctx = user;
    char msg[sizeof(ctx->err)];

    if (ctx->err_line)
        return 1; /* report the first error only; nothing more is applied */
    if (ctx->on_value(ctx->user, section, name, value ? value : "", msg, sizeof(msg)) !=
        0) {
        load_error(ctx, "%s", msg);
        return 0;
    }
    return 1;
}

cfd_err cfd_ini_load(const char *path, cfd_ini_value_fn value_fn,
                     cfd_ini_section_fn known_section, void *user, char *errstr,
                     size_t errstr_size)
{
    ini_load ctx = {.on_value = value_fn, .known_section = known_section, .user = user};
    int rc;
    bool read_failed;

    ctx.fp = fopen(path, "r");
    if (!ctx.fp) {
        snprintf(errstr, errstr_size, "%s: error: cannot open: %s", path, strerror(errno));
        return CFD_ERR_CONFIG;
    }
    rc = ini_parse_stream(read_line, &ctx, on_value, &ctx);
    read_failed = ferror(ctx.fp) != 0;
    fclose(ctx.fp);

    if (rc < 0) /* inih's own allocation failed */
        snprintf(errstr, errstr_size, "%s: error: out of memory", path);
    /* libinih returns the line of the first error, ours or its own syntax error. */
    else if (rc > 0 && (ctx.err_line == 0 || rc < ctx.err_line))
        snprintf(errstr, errstr_size,
                 "%s:%d: error: syntax error: expected [section] or key = value", path, rc);
    else if (ctx.err_line)
        snprintf(errstr, errstr_size, "%s:%d: error: %s", path, ctx.err_line, ctx.err);
    else if (read_failed)
        snprintf(errstr, errstr_size, "%s:%d: error: read error", path, ctx.lineno);
    else
        return CFD_OK;
    return CFD_ERR_CONFIG;
}

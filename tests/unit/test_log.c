/*
 * Unit tests for src/app/log.c: level names, one line per message whatever the
 * values it prints hold, and the log file reopened after a rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "confirmd/log.h"

/* Runs cfd_log_write with stderr sent to a temporary file; @returns what it wrote
 * (malloc'd). */
static char *logged(const char *fmt, const char *value)
{
    char path[] = "/tmp/cfd-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    cfd_log_write(CFD_LOG_WARN, "worker", fmt, value);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    return text;
}

/* The JSON form: one object per line with the stable keys, the message escaped as in
 * the text form, then its quotes and backslashes for JSON. */
static void test_log_json(void **state)
{
    (void)state;
    cfd_log_json = 1;
    char *text = logged("order %s", "WO-\"1\"\nforged");
    cfd_log_json = 0;
    const char *want_head = "{\"ts\":\"";
    assert_memory_equal(text, want_head, strlen(want_head));
    assert_non_null(strstr(text, "\",\"level\":\"WARN\",\"module\":\"worker\","));
    assert_non_null(strstr(text, "\"msg\":\"order WO-\\\"1\\\"\\\\nforged\"}\n"));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1); /* one line */
    free(text);
}

/* Control characters and bytes that are not UTF-8 in a printed value are escaped: a
 * value cannot end the line and forge the next, nor drive the terminal. */
static void test_log_escapes(void **state)
{
    static const struct {
        const char *value, *want;
    } cases[] = {
        {"WO-1", "] dead letter WO-1: x\n"},
        {"WO-1\n2026-01-01T00:00:00.000Z ERROR [main] forged",
         "] dead letter WO-1\\n2026-01-01T00:00:00.000Z ERROR [main] forged: x\n"},
        {"WO-1\r\x1b[2K", "] dead letter WO-1\\r\\x1B[2K: x\n"},
        {"WO-\xff\xc0", "] dead letter WO-\\xFF\\xC0: x\n"},
        {"重庆梁平", "] dead letter 重庆梁平: x\n"},
        {"a\\nb", "] dead letter a\\\\nb: x\n"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = logged("dead letter %s: x", cases[i].value);
        const char *tail = strstr(text, "WARN  [worker");
        if (!tail || strcmp(tail + strlen("WARN  [worker"), cases[i].want) != 0 ||
            strchr(text, '\n') != text + strlen(text) - 1)
            fail_msg("case %zu: logged '%s'", i, text);
        free(text);
    }
}

/* A message longer than the line buffer is cut, still on one line. */
static void test_log_long(void **state)
{
    (void)state;
    char value[3000];
    memset(value, '\n', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    char *text = logged("%s", value);
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
}

/* @returns how many lines of the file at path contain needle (-1: unreadable). */
static int lines_with(const char *path, const char *needle)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* After a rotation (the file renamed away), reopening writes to a new file of the
 * name; a path that cannot be opened leaves the log where it was. */
static void test_log_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/cfd-test-log-XXXXXX", path[64], rotated[72], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/confirmd.log", dir);
    snprintf(rotated, sizeof(rotated), "%s.1", path);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);

    assert_int_equal(cfd_log_open(path, err, sizeof(err)), 0);
    cfd_log_write(CFD_LOG_INFO, "main", "before");
    assert_int_equal(rename(path, rotated), 0);
    cfd_log_write(CFD_LOG_INFO, "main", "rotated");
    assert_int_equal(cfd_log_open(path, err, sizeof(err)), 0);
    cfd_log_write(CFD_LOG_INFO, "main", "after");
    assert_int_equal(cfd_log_open("/nonexistent/dir/confirmd.log", err, sizeof(err)), -1);
    cfd_log_write(CFD_LOG_INFO, "main", "still");

    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_non_null(strstr(err, "/nonexistent/dir/confirmd.log: "));
    assert_int_equal(lines_with(rotated, "[main] before"), 1);
    assert_int_equal(lines_with(rotated, "[main] rotated"), 1);
    assert_int_equal(lines_with(rotated, "[main] after"), 0);
    assert_int_equal(lines_with(path, "[main] after"), 1);
    assert_int_equal(lines_with(path, "[main] still"), 1);
    unlink(path);
    unlink(rotated);
    rmdir(dir);
}

static void test_level_parse(void **state)
{
    static const struct {
        const char *name;
        int rc;
        cfd_log_level level;
    } cases[] = {
        {"debug", 0, CFD_LOG_DEBUG}, {"INFO", 0, CFD_LOG_INFO},
        {"warn", 0, CFD_LOG_WARN},   {"warning", 0, CFD_LOG_WARN},
        {"error", 0, CFD_LOG_ERROR}, {"loud", -1, CFD_LOG_INFO},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfd_log_level l = CFD_LOG_INFO;
        assert_int_equal(cfd_log_level_parse(cases[i].name, &l), cases[i].rc);
        assert_int_equal(l, cases[i].level);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_escapes), cmocka_unit_test(test_log_json),
        cmocka_unit_test(test_log_long),    cmocka_unit_test(test_log_reopen),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for src/base/text.c: UTF-8 well-formedness, one-line escaping and the
 * string copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confirmd/text.h"

/* Each case: the bytes, and the length of the character they start with (0: none). */
static void test_utf8_char_len(void **state)
{
    static const struct {
        const char *name, *bytes;
        size_t len, want;
    } cases[] = {
        {"ASCII", "A", 1, 1},
        {"NUL", "\0", 1, 1},
        {"DEL", "\x7f", 1, 1},
        {"U+0080", "\xc2\x80", 2, 2},
        {"U+07FF", "\xdf\xbf", 2, 2},
        {"U+0800", "\xe0\xa0\x80", 3, 3},
        {"U+4E2D 中", "\xe4\xb8\xad", 3, 3},
        {"U+D7FF", "\xed\x9f\xbf", 3, 3},
        {"U+E000", "\xee\x80\x80", 3, 3},
        {"U+FFFF", "\xef\xbf\xbf", 3, 3},
        {"U+10000", "\xf0\x90\x80\x80", 4, 4},
        {"U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 4},
        {"lone continuation", "\x80", 1, 0},
        {"overlong 2-byte C0", "\xc0\xaf", 2, 0},
        {"overlong 2-byte C1", "\xc1\xbf", 2, 0},
        {"overlong 3-byte", "\xe0\x9f\xbf", 3, 0},
        {"overlong 4-byte", "\xf0\x8f\xbf\xbf", 4, 0},
        {"surrogate U+D800", "\xed\xa0\x80", 3, 0},
        {"surrogate U+DFFF", "\xed\xbf\xbf", 3, 0},
        {"above U+10FFFF", "\xf4\x90\x80\x80", 4, 0},
        {"lead F5", "\xf5\x80\x80\x80", 4, 0},
        {"lead FF", "\xff", 1, 0},
        {"truncated 2-byte", "\xc3", 1, 0},
        {"truncated 3-byte", "\xe4\xb8", 2, 0},
        {"truncated 4-byte", "\xf0\x9f\x98", 3, 0},
        {"cut by len", "\xe4\xb8\xad", 2, 0},
        {"bad second byte", "\xe4\x41\xad", 3, 0},
        {"bad third byte", "\xe4\xb8\x41", 3, 0},
        {"bad fourth byte", "\xf0\x9f\x98\x41", 4, 0},
        {"empty", "", 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = cfd_utf8_char_len(cases[i].bytes, cases[i].len);
        if (got != cases[i].want)
            fail_msg("%s: %zu, want %zu", cases[i].name, got, cases[i].want);
    }
}

static void test_utf8_valid(void **state)
{
    static const struct {
        const char *text;
        size_t valid_len;
    } cases[] = {
        {"", 0},          {"WO-2026-0001", 12}, {"重庆梁平互联网专线", 27}, {"emoji 😀", 10},
        {"WO-\xff-1", 3}, {"中\xe4\xb8", 3},    {"A\xed\xa0\x80Z", 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        assert_int_equal(cfd_utf8_valid_len(cases[i].text, len), cases[i].valid_len);
        assert_int_equal(cfd_utf8_valid(cases[i].text, len), cases[i].valid_len == len);
    }
}

/* A string, the size of the buffer it goes into, and what the buffer holds after. */
typedef struct sized_case {
    const char *in;
    size_t size;
    const char *want;
} sized_case;

static void test_text_escape(void **state)
{
    static const sized_case cases[] = {
        {"WO-1", 64, "WO-1"},
        {"WO-1\n2026-01-01T00:00:00.000Z ERROR [main] forged", 64,
         "WO-1\\n2026-01-01T00:00:00.000Z ERROR [main] forged"},
        {"a\rb\tc\\d", 64, "a\\rb\\tc\\\\d"},
        {"\x1b[31mred\x7f", 64, "\\x1B[31mred\\x7F"},
        {"bad \xff\xc0\xaf end", 64, "bad \\xFF\\xC0\\xAF end"},
        {"C1 \xc2\x9b csi", 64, "C1 \\u009B csi"},
        {"重庆 \xc2\xa0ok", 64, "重庆 \xc2\xa0ok"},
        {"truncated \xe4\xb8", 64, "truncated \\xE4\\xB8"},
        /* Cut between characters and escapes, never inside one. */
        {"重庆", 5, "重"},
        {"ab\ncd", 4, "ab"},
        {"ab\ncd", 5, "ab\\n"},
        {"x", 1, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[128];
        memset(out, '#', sizeof(out));
        size_t n = cfd_text_escape(out, cases[i].size, cases[i].in, strlen(cases[i].in));
        if (strcmp(out, cases[i].want) != 0 || n != strlen(out))
            fail_msg("case %zu: '%s' (%zu), want '%s'", i, out, n, cases[i].want);
        assert_true(cfd_utf8_valid(out, n));
    }
}

/* The truncating copy: cut before a character that does not fit whole. */
static void test_text_copy(void **state)
{
    static const sized_case cases[] = {
        {"WO-1", 64, "WO-1"}, {NULL, 8, ""},       {"", 8, ""},       {"abcd", 4, "abc"},
        {"abcd", 5, "abcd"},  {"重庆", 7, "重庆"}, {"重庆", 6, "重"}, {"重庆", 4, "重"},
        {"重庆", 3, ""},      {"x", 1, ""},
    };
    (void)state;
    for (const sized_case *c = cases; c < cases + sizeof(cases) / sizeof(cases[0]); c++) {
        char out[128] = "########";
        size_t len = cfd_text_copy(out, c->size, c->in);
        if (strcmp(out, c->want) != 0)
            fail_msg("\"%s\" in %zu bytes: '%s', want '%s'", c->in ? c->in : "(null)",
                     c->size, out, c->want);
        assert_int_equal(len, c->in ? strlen(c->in) : 0);
    }
    char untouched = '#';
    assert_int_equal(cfd_text_copy(&untouched, 0, "abc"), 3);
    assert_int_equal(untouched, '#');
}

/* The allocating copies: NULL stays NULL; a vector keeps its present strings only. */
static void test_text_dup(void **state)
{
    (void)state;
    assert_null(cfd_text_dup(NULL));
    char *s = cfd_text_dup("");
    assert_string_equal(s, "");
    free(s);
    s = cfd_text_dup("重庆");
    assert_string_equal(s, "重庆");
    free(s);

    const char *v[] = {"a", NULL, "", "b"};
    size_t n = 99;
    char **copy = cfd_strv_dup(v, 4, &n);
    assert_int_equal(n, 2);
    assert_string_equal(copy[0], "a");
    assert_string_equal(copy[1], "b");
    cfd_strv_free(copy, n);
    assert_null(cfd_strv_dup(v + 1, 2, &n));
    assert_int_equal(n, 0);
    assert_null(cfd_strv_dup(NULL, 0, &n));
    cfd_strv_free(NULL, 0);
}

/* Binary search by name, in a string vector and in structs (the name at an offset). */
static void test_sorted_find(void **state)
{
    (void)state;
    const char *v[] = {"a", "c", "e", "g"};
    const struct {
        const char *key;
        size_t n, at;
        bool found;
    } cases[] = {{"e", 4, 2, true},  {"a", 4, 0, true},  {"0", 4, 0, false},
                 {"d", 4, 2, false}, {"z", 4, 4, false}, {"a", 0, 0, false}};
    bool found;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            cfd_sorted_find(v, cases[i].n, sizeof(*v), 0, cases[i].key, &found),
            cases[i].at);
        assert_int_equal(found, cases[i].found);
    }
    struct item {
        int n;
        const char *name;
    } items[] = {{1, "k1"}, {2, "k2"}, {3, "k3"}};
    assert_int_equal(cfd_sorted_find(items, 3, sizeof(*items), offsetof(struct item, name),
                                     "k3", &found),
                     2);
    assert_true(found);
    assert_int_equal(cfd_sorted_find(items, 3, sizeof(*items), offsetof(struct item, name),
                                     "k15", &found),
                     1);
    assert_false(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_char_len), cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_text_escape),   cmocka_unit_test(test_text_copy),
        cmocka_unit_test(test_text_dup),      cmocka_unit_test(test_sorted_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

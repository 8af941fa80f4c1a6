/*
 * Untrusted text: UTF-8 well-formedness, and escaping for one-line output (logs,
 * summaries). Every layer may use it; it does no I/O.
 */
#ifndef CONFIRMD_TEXT_H
#define CONFIRMD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
 * @returns the length (1..4) of the well-formed character at s[0..len), or 0 when
 *          s does not start with one (or len is 0).
 */
size_t cfd_utf8_char_len(const char *s, size_t len);

/* @returns the length of the longest well-formed prefix of s[0..len). */
size_t cfd_utf8_valid_len(const char *s, size_t len);

/* @returns true when all of s[0..len) is well-formed UTF-8. */
bool cfd_utf8_valid(const char *s, size_t len);

/*
 * Copies s[0..len) to dst as text that stays on one line and shows what it holds:
 * a backslash becomes "\\", newline, carriage return and tab "\n", "\r", "\t", other
 * C0 controls, DEL and every byte that is not well-formed UTF-8 "\xNN", C1 controls
 * "\u00NN"; other characters are copied. dst is always NUL-terminated (when size > 0)
 * and cut only between whole characters or escapes.
 * @returns the length written, without the NUL.
 */
size_t cfd_text_escape(char *dst, size_t size, const char *s, size_t len);

#endif

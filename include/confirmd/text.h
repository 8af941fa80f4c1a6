/*
 * Text: UTF-8 well-formedness, escaping for one-line output (logs, summaries), and
 * the one way to copy a string or a string vector. Every layer may use it; it does no
 * I/O.
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

/* ---- copying: truncating into a buffer, or allocating ------------------------------ */

/*
 * Truncating copy: s (NULL as "") into dst[size], cut before the first character that
 * does not fit whole (a multi-byte UTF-8 character is never split). dst is always
 * NUL-terminated when size > 0.
 * @returns strlen(s), as strlcpy does: the copy was cut when that is >= size.
 */
size_t cfd_text_copy(char *dst, size_t size, const char *s);

/* Allocating copy. @returns a malloc'd copy of s, or NULL when s is NULL (never NULL
 *          otherwise: out of memory aborts, see confirmd/alloc.h). */
char *cfd_text_dup(const char *s);

/*
 * Allocating copy of a string vector, keeping only the present strings (NULL and ""
 * are left out), in order.
 * @returns a malloc'd vector of malloc'd strings and *n_out their count; NULL (and 0)
 *          when none is present. Free with cfd_strv_free.
 */
char **cfd_strv_dup(const char *const *v, size_t n, size_t *n_out);

/* Frees the n strings of v and v itself. NULL-safe. */
void cfd_strv_free(char **v, size_t n);

/*
 * Binary search by name: v holds n elements of size bytes, sorted by the string each
 * has at byte offset off (a char *; for a string vector, size sizeof(char *), off 0).
 * @returns the index of the one named key with *found true, or where it would go
 *          (keeping the order) with *found false.
 */
size_t cfd_sorted_find(const void *v, size_t n, size_t size, size_t off, const char *key,
                       bool *found);

#endif

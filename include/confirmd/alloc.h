/*
 * Allocation, one rule for the whole code base: running out of memory is not an error
 * a caller handles, the process aborts with a message. A worker that cannot allocate
 * cannot keep its guarantee; aborting before anything of the batch is written lets its
 * successor replay the batch from Redis' applied offset (the same rule as hiredis' own
 * allocator). So no caller checks these for NULL.
 */
#ifndef CONFIRMD_ALLOC_H
#define CONFIRMD_ALLOC_H

#include <stddef.h>

/* @returns n bytes (at least one), never NULL. */
void *cfd_xmalloc(size_t n);
/* @returns n zeroed elements of size bytes (at least one byte), never NULL. */
void *cfd_xcalloc(size_t n, size_t size);
/* @returns p resized to n bytes (at least one), never NULL. */
void *cfd_xrealloc(void *p, size_t n);
/* Grows v, an array of *n elements of size bytes, to want elements when it has fewer;
 * the new ones are zeroed and *n is updated. @returns v or its new place, never NULL. */
void *cfd_xgrow(void *v, size_t *n, size_t want, size_t size);
/* @returns a copy of s ("" for NULL), never NULL. */
char *cfd_xstrdup(const char *s);
/* @returns a NUL-terminated copy of the n bytes at s, never NULL. */
char *cfd_xstrndup(const char *s, size_t n);

#endif

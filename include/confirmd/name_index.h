/*
 * A name index: finds the position of a name among those seen so far (the work orders
 * of an event batch or of a replay, the network objects of an alarm batch) in constant
 * time instead of comparing it with each. Open addressing on the names' FNV-1a hashes; the
 * names are borrowed, not copied, and must outlive the index. Every layer may use it;
 * it does no I/O.
 */
#ifndef CONFIRMD_NAME_INDEX_H
#define CONFIRMD_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct cfd_name_slot {
    const char *name; /* NULL: free */
    uint64_t hash;
    size_t pos;
} cfd_name_slot;

typedef struct cfd_name_index {
    cfd_name_slot *slots;
    size_t cap; /* a power of two, at least twice the names held */
    size_t n;
} cfd_name_index;

/* An empty index sized for about expected names (it grows beyond). */
void cfd_name_index_init(cfd_name_index *ix, size_t expected);

/* @returns the position stored with name, or SIZE_MAX when name is not held. */
size_t cfd_name_index_get(const cfd_name_index *ix, const char *name);

/* Holds name (borrowed) with position pos; name must not be held yet. */
void cfd_name_index_put(cfd_name_index *ix, const char *name, size_t pos);

/* Frees the index' slots (not the names) and empties it. */
void cfd_name_index_free(cfd_name_index *ix);

#endif

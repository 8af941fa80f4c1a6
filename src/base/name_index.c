/*
 * The name index; see include/confirmd/name_index.h.
 */
#include "confirmd/name_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

/* The slot of name (hash h): where it is held, or the free slot where it would go. */
static cfd_name_slot *slot_of(const cfd_name_index *ix, const char *name, uint64_t h)
{
    size_t mask = ix->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        cfd_name_slot *s = &ix->slots[i];
        if (!s->name || (s->hash == h && strcmp(s->name, name) == 0))
            return s;
    }
}

void cfd_name_index_init(cfd_name_index *ix, size_t expected)
{
    size_t cap = 16;
    while (cap < 2 * expected)
        cap *= 2;
    ix->slots = cfd_xcalloc(cap, sizeof(*ix->slots));
    ix->cap = cap;
    ix->n = 0;
}

size_t cfd_name_index_get(const cfd_name_index *ix, const char *name)
{
    if (!ix->cap)
        return SIZE_MAX;
    const cfd_name_slot *s = slot_of(ix, name, name_hash(name));
    return s->name ? s->pos : SIZE_MAX;
}

void cfd_name_index_put(cfd_name_index *ix, const char *name, size_t pos)
{
    if (2 * (ix->n + 1) > ix->cap) {
        cfd_name_index grown;
        cfd_name_index_init(&grown, ix->n + 1);
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i].name)
                *slot_of(&grown, ix->slots[i].name, ix->slots[i].hash) = ix->slots[i];
        grown.n = ix->n;
        free(ix->slots);
        *ix = grown;
    }
    uint64_t h = name_hash(name);
    *slot_of(ix, name, h) = (cfd_name_slot){name, h, pos};
    ix->n++;
}

void cfd_name_index_free(cfd_name_index *ix)
{
    free(ix->slots);
    *ix = (cfd_name_index){0};
}

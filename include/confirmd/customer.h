/*
 * The customer block of a work order (who reported, their tier and class): one type
 * for an event, which borrows its strings from the decoded message, and for a record,
 * which owns copies of them (cfd_customer_copy, freed by cfd_customer_clear).
 */
#ifndef CONFIRMD_CUSTOMER_H
#define CONFIRMD_CUSTOMER_H

#include "confirmd/types.h"

/* Strings: NULL or "" is absent. Owned by a record, borrowed in an event or a circuit. */
typedef struct cfd_customer {
    const char *name, *contact_person, *contact_phone, *address;
    const char *affected_service, *city, *customer_id;
    cfd_tier tier;
    bool gold;
    cfd_importance importance;
    bool diamond;
    bool cross_city_rental; /* city-level cross-city circuit rental */
} cfd_customer;

/* Sets *dst to src with its own copies of the present strings (absent ones NULL);
 * dst owns them afterwards (cfd_customer_clear). */
void cfd_customer_copy(cfd_customer *dst, const cfd_customer *src);

/* Frees the strings of a block cfd_customer_copy filled and zeroes it. */
void cfd_customer_clear(cfd_customer *c);

#endif

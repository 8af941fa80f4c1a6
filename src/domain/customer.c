/*
 * The customer block's owned copies; see include/confirmd/customer.h.
 */
#include <stdlib.h>
#include <string.h>

#include "confirmd/alloc.h"
#include "confirmd/customer.h"

#define CUSTOMER_STRINGS 7

/* Points at the string fields of c, so copy and clear name them once. */
static void customer_strings(cfd_customer *c, const char **s[CUSTOMER_STRINGS])
{
    s[0] = &c->name;
    s[1] = &c->contact_person;
    s[2] = &c->contact_phone;
    s[3] = &c->address;
    s[4] = &c->affected_service;
    s[5] = &c->city;
    s[6] = &c->customer_id;
}

void cfd_customer_copy(cfd_customer *dst, const cfd_customer *src)
{
    const char **s[CUSTOMER_STRINGS];

    *dst = *src;
    customer_strings(dst, s);
    for (size_t i = 0; i < CUSTOMER_STRINGS; i++)
        *s[i] = *s[i] && **s[i] ? cfd_xstrdup(*s[i]) : NULL;
}

void cfd_customer_clear(cfd_customer *c)
{
    const char **s[CUSTOMER_STRINGS];

    customer_strings(c, s);
    for (size_t i = 0; i < CUSTOMER_STRINGS; i++)
        free((char *)*s[i]); /* owned: cfd_customer_copy made it */
    memset(c, 0, sizeof *c);
}

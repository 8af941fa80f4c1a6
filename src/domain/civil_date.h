/*
 * Private to the domain core: civil (calendar) dates as day numbers, for the monthly
 * assessment sums and a part's age in service.
 */
#ifndef CFD_DOMAIN_CIVIL_DATE_H
#define CFD_DOMAIN_CIVIL_DATE_H

#include <stdint.h>

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int64_t cfd_days_from_civil(int y, int m, int d);
void cfd_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif

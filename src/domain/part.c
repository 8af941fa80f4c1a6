/*
 * Replaced and faulty parts: the manufacturing date in a serial number and the age in
 * service it gives (售后故障信息统计表: 「序列号…通常自带生产日期信息，为计算使用时间做准备」).
 */
#include <ctype.h>

#include "civil_date.h"
#include "confirmd/record.h"

static bool valid_date(int y, int m, int d)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (y < 1970 || y > 2999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= days[m - 1] && !(m == 2 && d == 29 && !leap);
}

int32_t cfd_part_serial_date(const char *serial, cfd_serial_date fmt)
{
    const char *p = serial;
    int digits[8], n = 0, need, y, m, d;

    if (serial == NULL || fmt == CFD_SERIAL_DATE_NONE)
        return 0;
    while (isalpha((unsigned char)*p))
        p++;
    if (p == serial) /* no vendor prefix */
        return 0;
    need = fmt == CFD_SERIAL_DATE_YYYYMMDD ? 8 : 4;
    while (n < need && isdigit((unsigned char)*p))
        digits[n++] = *p++ - '0';
    if (n < need)
        return 0;
    if (fmt == CFD_SERIAL_DATE_YYYYMMDD) {
        y = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
        m = digits[4] * 10 + digits[5];
        d = digits[6] * 10 + digits[7];
    } else {
        y = 2000 + digits[0] * 10 + digits[1];
        m = digits[2] * 10 + digits[3];
        d = 1;
    }
    return valid_date(y, m, d) ? (int32_t)(y * 10000 + m * 100 + d) : 0;
}

int32_t cfd_part_age_days(int32_t yyyymmdd, int64_t at_ms)
{
    int64_t made, days;

    if (yyyymmdd <= 0)
        return -1;
    made = cfd_days_from_civil(yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
    if (at_ms < made * CFD_DAY_MS)
        return -1;
    days = at_ms / CFD_DAY_MS - made;
    return days > INT32_MAX ? INT32_MAX : (int32_t)days;
}

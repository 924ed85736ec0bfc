/* http_date: IMF-fixdate formatting and lenient HTTP-date parsing.
 * Calendar arithmetic is days-from-civil (proleptic Gregorian), so no
 * timegm(), gmtime_r(), locale or time zone state is involved. */
#include "http_date.h"

#include <stdint.h>
#include <string.h>

static const char day_names[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"}; /* 1970-01-01 was a Thursday */
static const char *const long_day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
static const char short_day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Formattable range: 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z (every
 * date http_date_parse accepts); t outside it is clamped so the output always
 * has the fixed 29-byte shape. */
#define HTTP_DATE_MIN_T (-62167219200LL)
#define HTTP_DATE_MAX_T (253402300799LL)

/* Days since 1970-01-01 of y-m-d (m 1..12), Howard Hinnant's algorithm. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void http_date_format(time_t t, char out[HTTP_DATE_LEN + 1])
{
    int64_t s = (int64_t)t;
    if (s < HTTP_DATE_MIN_T)
        s = HTTP_DATE_MIN_T;
    if (s > HTTP_DATE_MAX_T)
        s = HTTP_DATE_MAX_T;
    int64_t days = s / 86400, secs = s % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t wd = days % 7;
    if (wd < 0)
        wd += 7;
    const unsigned hh = (unsigned)(secs / 3600), mm = (unsigned)(secs / 60 % 60), ss = (unsigned)(secs % 60);
    const unsigned year = (unsigned)y;

    char *p = out;
    p[0] = day_names[wd][0], p[1] = day_names[wd][1], p[2] = day_names[wd][2];
    p[3] = ',', p[4] = ' ';
    put2(p + 5, d);
    p[7] = ' ';
    p[8] = month_names[m - 1][0], p[9] = month_names[m - 1][1], p[10] = month_names[m - 1][2];
    p[11] = ' ';
    put2(p + 12, year / 100);
    put2(p + 14, year % 100);
    p[16] = ' ';
    put2(p + 17, hh);
    p[19] = ':';
    put2(p + 20, mm);
    p[22] = ':';
    put2(p + 23, ss);
    p[25] = ' ', p[26] = 'G', p[27] = 'M', p[28] = 'T', p[29] = '\0';
}

/* ---- parsing ---- */

struct cursor {
    const char *p, *end;
};

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* Consumes lit (ASCII, compared case-insensitively) if it is next. */
static bool eat_word(struct cursor *c, const char *lit, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(c->p[i]) != lower(lit[i]))
            return false;
    c->p += n;
    return true;
}

static bool eat_char(struct cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Exactly n digits. */
static bool eat_digits(struct cursor *c, size_t n, unsigned *out)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(c->p[i]))
            return false;
        v = v * 10 + (unsigned)(c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return true;
}

/* One or two digits (a lenient day-of-month). */
static bool eat_day(struct cursor *c, unsigned *out)
{
    if (c->p >= c->end || !is_digit(*c->p))
        return false;
    unsigned v = (unsigned)(*c->p++ - '0');
    if (c->p < c->end && is_digit(*c->p))
        v = v * 10 + (unsigned)(*c->p++ - '0');
    *out = v;
    return true;
}

/* A day name, short ("Sun") or long ("Sunday"). The weekday is not checked
 * against the date (RFC 9110 leaves that to the sender). */
static bool eat_day_name(struct cursor *c)
{
    for (int i = 0; i < 7; i++) {
        if (eat_word(c, long_day_names[i], strlen(long_day_names[i])) || eat_word(c, short_day_names[i], 3))
            return true;
    }
    return false;
}

static bool eat_month(struct cursor *c, unsigned *m)
{
    for (unsigned i = 0; i < 12; i++)
        if (eat_word(c, month_names[i], 3)) {
            *m = i + 1;
            return true;
        }
    return false;
}

/* "HH:MM:SS" */
static bool eat_time(struct cursor *c, unsigned *hh, unsigned *mm, unsigned *ss)
{
    return eat_digits(c, 2, hh) && eat_char(c, ':') && eat_digits(c, 2, mm) && eat_char(c, ':') &&
           eat_digits(c, 2, ss);
}

static bool eat_zone(struct cursor *c)
{
    return eat_word(c, "GMT", 3) || eat_word(c, "UTC", 3);
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

bool http_date_parse(const char *s, size_t len, time_t *out)
{
    if (!s)
        return false;
    struct cursor c = {s, s + len};
    while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
        c.p++;
    while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
        c.end--;

    unsigned y, mon, d, hh, mm, ss;
    if (!eat_day_name(&c))
        return false;
    if (eat_char(&c, ',')) {
        if (!eat_char(&c, ' ') || !eat_day(&c, &d))
            return false;
        if (eat_char(&c, ' ')) {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            if (!eat_month(&c, &mon) || !eat_char(&c, ' ') || !eat_digits(&c, 4, &y))
                return false;
        } else if (eat_char(&c, '-')) {
            /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year is
             * read with a fixed pivot (70-99 -> 19xx, 00-69 -> 20xx) to keep
             * this function pure; four digits are accepted too. */
            if (!eat_month(&c, &mon) || !eat_char(&c, '-'))
                return false;
            if (!eat_digits(&c, 4, &y)) {
                if (!eat_digits(&c, 2, &y))
                    return false;
                y += y < 70 ? 2000 : 1900;
            }
        } else {
            return false;
        }
        if (!eat_char(&c, ' ') || !eat_time(&c, &hh, &mm, &ss) || !eat_char(&c, ' ') || !eat_zone(&c))
            return false;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space) */
        if (!eat_char(&c, ' ') || !eat_month(&c, &mon) || !eat_char(&c, ' '))
            return false;
        eat_char(&c, ' ');
        if (!eat_day(&c, &d) || !eat_char(&c, ' ') || !eat_time(&c, &hh, &mm, &ss) || !eat_char(&c, ' ') ||
            !eat_digits(&c, 4, &y))
            return false;
    }
    if (c.p != c.end)
        return false;
    if (d < 1 || d > days_in_month(y, mon) || hh > 23 || mm > 59 || ss > 60) /* 60: leap second */
        return false;

    int64_t t = days_from_civil(y, mon, d) * 86400 + (int64_t)hh * 3600 + mm * 60 + ss;
    if ((int64_t)(time_t)t != t)
        return false;
    *out = (time_t)t;
    return true;
}

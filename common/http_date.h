/* http_date: HTTP-date formatting and lenient parsing (RFC 9110 section 5.6.7).
 * Pure functions, no locale, no allocation, thread-safe. */
#ifndef DCN_HTTP_DATE_H
#define DCN_HTTP_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_DATE_LEN 29 /* strlen("Sun, 06 Nov 1994 08:49:37 GMT") */

/* Writes the IMF-fixdate of t (UTC) and a NUL into out. */
void http_date_format(time_t t, char out[HTTP_DATE_LEN + 1]);

/* Parses an HTTP-date: IMF-fixdate, obsolete RFC 850 and asctime forms.
 * The zone may be spelled "GMT" or "UTC" (libostree sends "UTC"); surrounding
 * whitespace is ignored. Returns false for anything else, including
 * out-of-range fields (month 13, hour 24, day 32...). */
bool http_date_parse(const char *s, size_t len, time_t *out);

#endif

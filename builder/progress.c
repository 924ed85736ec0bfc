/* progress: see progress.h. */
#include "progress.h"

#include <stdio.h>

void dcn_progress_init(DcnProgress *p, const char *stage)
{
    *p = (DcnProgress){.stage = stage, .start_us = g_get_monotonic_time(), .unit = "objects"};
    p->last_us = p->start_us;
}

void dcn_progress_reset(DcnProgress *p, const char *unit)
{
    p->objects = p->bytes = 0;
    p->unit = unit;
    p->last_us = g_get_monotonic_time();
}

static double elapsed_s(const DcnProgress *p) { return (double)(g_get_monotonic_time() - p->start_us) / 1e6; }

void dcn_progress_flush(DcnProgress *p)
{
    fprintf(stderr, "dcn-builder stage=%s event=progress %s=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT
                    " elapsed_s=%.2f\n",
            p->stage, p->unit, p->objects, p->bytes, elapsed_s(p));
    p->last_us = g_get_monotonic_time();
}

void dcn_progress_add(DcnProgress *p, guint64 objects, guint64 bytes)
{
    p->objects += objects;
    p->bytes += bytes;
    if (g_get_monotonic_time() - p->last_us >= G_USEC_PER_SEC)
        dcn_progress_flush(p);
}

void dcn_progress_event(DcnProgress *p, const char *event, const char *fields, ...)
{
    g_autofree char *middle = NULL;
    if (fields) {
        va_list ap;
        va_start(ap, fields);
        middle = g_strdup_vprintf(fields, ap);
        va_end(ap);
    }
    fprintf(stderr, "dcn-builder stage=%s event=%s%s%s elapsed_s=%.2f\n", p->stage, event, middle ? " " : "",
            middle ? middle : "", elapsed_s(p));
}

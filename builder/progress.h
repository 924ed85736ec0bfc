/* progress: human progress and events on stderr, one key=value line each:
 *   dcn-builder stage=publish event=delta from=1.0.0 to=2.0.0 elapsed_s=1.52
 *   dcn-builder stage=compose event=progress files=1200 bytes=52428800 elapsed_s=2.00
 * Progress lines are rate-limited to one per second; events always print. */
#ifndef DCN_BUILDER_PROGRESS_H
#define DCN_BUILDER_PROGRESS_H

#include <glib.h>

typedef struct {
    const char *stage;  /* stage name printed on every line */
    gint64 start_us;    /* monotonic time the stage started */
    gint64 last_us;     /* when the last progress line was printed */
    guint64 objects;    /* objects (files, ostree objects) counted so far */
    guint64 bytes;      /* bytes counted so far */
    const char *unit;   /* what objects are: "files" or "objects" */
} DcnProgress;

void dcn_progress_init(DcnProgress *p, const char *stage);
/* Starts counting a new phase named by unit ("files", "objects"). */
void dcn_progress_reset(DcnProgress *p, const char *unit);
/* Adds to the counters; prints a progress line at most once a second. */
void dcn_progress_add(DcnProgress *p, guint64 objects, guint64 bytes);
/* Prints the counters now (end of a phase). */
void dcn_progress_flush(DcnProgress *p);
/* Prints "dcn-builder stage=S event=E <fields> elapsed_s=..."; fields is a
 * printf format for the middle part (key=value pairs), may be NULL. */
void dcn_progress_event(DcnProgress *p, const char *event, const char *fields, ...) G_GNUC_PRINTF(3, 4);

#endif

/* compose/weldr_client: HTTP requests to osbuild-composer's Weldr API
 * (HTTP/1.1 on its unix socket, Host localhost, as composer-cli sends)
 * over libcurl (util/http.h). When the builder is remote (provision's
 * target), the socket is forwarded over SSH:
 *   ssh -N -L <state_dir>/builder/weldr.sock:<composer.socket> <target>
 * (a short temporary directory holds the socket when that path is too long
 * for sun_path); the ssh pid goes in <state_dir>/builder/weldr-forward.pid
 * for teardown, its output in weldr-forward.log. A GET that fails in
 * transport restarts the forward and is sent again, a few times.
 *
 * What the requests mean and what follows from their answers (the compose
 * flow) is weldr.c's; what the replies hold is weldr_reply.h's. */
#ifndef DCN_BUILDER_WELDR_CLIENT_H
#define DCN_BUILDER_WELDR_CLIENT_H

#include <curl/curl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "definition.h"
#include "progress.h"

#define DCN_WELDR_SHORT_TIMEOUT_S 60
#define DCN_WELDR_LONG_TIMEOUT_S 900 /* depsolve and compose start: metadata download, parent fetch (300 s) */

/* How the socket is reached: the target, and the SSH forward when it is
 * remote (weldr_client.c). */
typedef struct DcnWeldrLink DcnWeldrLink;

typedef struct {
    CURL *curl;
    char *socket;          /* local path of the Weldr socket (direct or forwarded) */
    DcnProgress *progress; /* events; the download's bytes when downloading */
    guint64 got;           /* bytes written by requests into a file */
    DcnWeldrLink *link;
    gboolean finishing;    /* set by the caller: an interrupt does not abort the request in flight (cancel, start) */
    gboolean downloading;  /* set by the caller: the request's Content-Length is the progress task's total */
} DcnWeldr;

typedef struct {
    long status;
    char *content_type;
    GString *body; /* NULL when the body went to a file */
} DcnWeldrResponse;

void dcn_weldr_response_clear(DcnWeldrResponse *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnWeldrResponse, dcn_weldr_response_clear)

/* Opens the API for def: loads provision's target, uses composer.socket
 * directly or starts the SSH forward, and asks GET /api/status (an event
 * names composer's backend, build and API). *w is always initialised:
 * dcn_weldr_close it also after a failure. */
gboolean dcn_weldr_open(DcnWeldr *w, const DcnDefinition *def, DcnProgress *progress, GError **error);

/* Stops the forward and frees what open made. */
void dcn_weldr_close(DcnWeldr *w);

/* The target, for a message ("local", "ssh user@host", ...). */
char *dcn_weldr_describe(const DcnWeldr *w);

/* One request. ctype/body NULL for none; the reply's body goes into
 * file when it is set (write errors are errors), else into out->body
 * (at most 64 MiB). Transport failures are errors with
 * G_IO_ERROR_CONNECTION_CLOSED (the caller may reconnect), an interrupt
 * (unless w->finishing) the interrupt's error; any HTTP status is
 * returned in out. */
gboolean dcn_weldr_request(DcnWeldr *w, const char *method, const char *path, const char *ctype, const char *body,
                           long timeout_s, FILE *file, DcnWeldrResponse *out, GError **error);

/* A JSON request: TRUE with *out's root an object for a 200 with a JSON
 * object, else an error with composer's message ("METHOD PATH: HTTP n:
 * ID: msg"). */
gboolean dcn_weldr_json(DcnWeldr *w, const char *method, const char *path, const char *ctype, const char *body,
                        long timeout_s, JsonParser **out, GError **error);

/* dcn_weldr_json for a GET that survives a dropped SSH forward: on a
 * transport error the forward is restarted and the request sent again (up
 * to 3 times, 2 s, 4 s, 8 s apart). Only for idempotent requests. */
gboolean dcn_weldr_get_json(DcnWeldr *w, const char *path, long timeout_s, JsonParser **out, GError **error);

/* For compose --dry-run: the socket the requests would go to; *forward
 * gets the ssh command line that would forward it (NULL when composer is
 * local). */
char *dcn_weldr_plan_socket(const DcnDefinition *def, char **forward, GError **error);

#endif

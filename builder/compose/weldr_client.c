/* compose/weldr_client: requests to osbuild-composer's Weldr API on its
 * unix socket, directly or through an SSH forward; see weldr_client.h. */
#include "weldr_client.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "http.h"
#include "provision.h"
#include "weldr_reply.h"

#define WELDR_HOST "http://localhost" /* composer-cli's Host too */
#define WELDR_BODY_MAX (64u << 20)    /* a reply kept in memory (status, depsolve, log) */
#define WELDR_FORWARD_WAIT_S 30
#define WELDR_RECONNECTS 3

struct DcnWeldrLink {
    DcnTarget target;
    const char *remote_socket; /* composer.socket on the target */
    char *fwd_dir;             /* <state_dir>/builder */
    char *tmp_dir;             /* a short directory for the socket when fwd_dir is too long, or NULL */
    GPid fwd_pid;              /* the ssh forward, 0 when none runs */
};

void dcn_weldr_response_clear(DcnWeldrResponse *r)
{
    g_free(r->content_type);
    if (r->body)
        g_string_free(r->body, TRUE);
    *r = (DcnWeldrResponse){0};
}

/* A body that goes to a file (the image download). */
typedef struct {
    DcnWeldr *w;
    FILE *file;
    gboolean write_failed;
} FileSink;

static size_t on_file_data(char *ptr, size_t size, size_t n, void *data)
{
    FileSink *s = data;
    size_t len = size * n;
    if (fwrite(ptr, 1, len, s->file) != len) {
        s->write_failed = TRUE;
        return 0;
    }
    s->w->got += len;
    dcn_progress_add(s->w->progress, 0, len);
    return len;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    DcnWeldr *w = data;
    if (w->downloading && dltotal > 0)
        dcn_progress_set_total(w->progress, 0, (guint64)dltotal); /* Content-Length */
    return dcn_interrupted() && !w->finishing ? 1 : 0; /* non-zero aborts the transfer */
}

gboolean dcn_weldr_request(DcnWeldr *w, const char *method, const char *path, const char *ctype, const char *body,
                           long timeout_s, FILE *file, DcnWeldrResponse *out, GError **error)
{
    g_autofree char *url = g_strconcat(WELDR_HOST, path, NULL);
    char errbuf[CURL_ERROR_SIZE];
    const DcnHttpOptions opts = {.unix_socket = w->socket, .timeout_s = timeout_s, .connect_timeout_s = 30};
    dcn_http_setup(w->curl, &opts, errbuf);
    FileSink sink = {.w = w, .file = file};
    g_auto(DcnHttpBody) mem = {0};
    if (file) {
        curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_file_data);
        curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &sink);
    } else {
        dcn_http_body_sink(w->curl, &mem, WELDR_BODY_MAX);
    }
    struct curl_slist *headers = NULL;
    g_autofree char *ct_header = ctype ? g_strdup_printf("Content-Type: %s", ctype) : NULL;
    if (ct_header)
        headers = curl_slist_append(headers, ct_header);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, w);
    if (body) {
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(w->curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        if (rc == CURLE_ABORTED_BY_CALLBACK && dcn_interrupt_check(error))
            return g_prefix_error(error, "%s %s: ", method, path), FALSE;
        if (sink.write_failed)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: writing the download: %s", method, path,
                               g_strerror(errno)),
                   FALSE;
        g_autofree char *why = dcn_http_error_text(rc, errbuf, &mem);
        if (mem.overflow) /* not a dropped connection: no point asking again */
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s %s: %s", method, path, why), FALSE;
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s %s on %s: %s", method, path,
                           w->socket, why),
               FALSE;
    }
    char *ct = NULL;
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(w->curl, CURLINFO_CONTENT_TYPE, &ct);
    out->content_type = g_strdup(ct);
    out->body = g_steal_pointer(&mem.data);
    return TRUE;
}

gboolean dcn_weldr_json(DcnWeldr *w, const char *method, const char *path, const char *ctype, const char *body,
                        long timeout_s, JsonParser **out, GError **error)
{
    g_auto(DcnWeldrResponse) r = {0};
    if (!dcn_weldr_request(w, method, path, ctype, body, timeout_s, NULL, &r, error))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = dcn_weldr_reply_object(parser, r.content_type, r.body->str, r.body->len);
    if (r.status != 200) {
        g_autofree char *msg = dcn_weldr_reply_errors(o);
        if (!msg && r.body->len)
            msg = g_strndup((const char *)r.body->str, MIN(r.body->len, 300));
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: HTTP %ld%s%s", method, path, r.status,
                           msg ? ": " : (r.status == 405 ? ": method not allowed" : ""), msg ? msg : ""),
               FALSE;
    }
    if (!o)
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s %s: expected a JSON object, got Content-Type %s", method, path,
                           r.content_type ? r.content_type : "(none)"),
               FALSE;
    *out = g_steal_pointer(&parser);
    return TRUE;
}

/* ---- socket and forward ---- */

static gboolean socket_connects(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return FALSE;
    g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    gboolean ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void forward_stop(DcnWeldr *w)
{
    if (w->link->fwd_pid > 0) {
        dcn_cmd_stop(w->link->fwd_pid, 2000);
        w->link->fwd_pid = 0;
        g_autofree char *pidfile = g_build_filename(w->link->fwd_dir, "weldr-forward.pid", NULL);
        g_unlink(pidfile);
    }
    if (!w->link->target.local && w->socket)
        g_unlink(w->socket);
}

static GPtrArray *forward_argv(const DcnTarget *t, const char *local, const char *remote)
{
    g_autofree char *spec = g_strdup_printf("%s:%s", local, remote);
    const char *extra[] = {"-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", "-L", spec, NULL};
    return dcn_ssh_argv(t, extra, NULL);
}

/* ssh -N -L local.sock:remote.sock, until the local socket accepts. */
static gboolean forward_start(DcnWeldr *w, GError **error)
{
    forward_stop(w);
    g_autoptr(GPtrArray) argv = forward_argv(&w->link->target, w->socket, w->link->remote_socket);
    g_autofree char *log = g_build_filename(w->link->fwd_dir, "weldr-forward.log", NULL);
    g_unlink(log);
    if (!dcn_cmd_spawn((const char *const *)argv->pdata, log, &w->link->fwd_pid, error))
        return FALSE;
    g_autofree char *pidfile = g_build_filename(w->link->fwd_dir, "weldr-forward.pid", NULL);
    g_autofree char *pidtext = g_strdup_printf("%d\n", (int)w->link->fwd_pid);
    g_file_set_contents(pidfile, pidtext, -1, NULL); /* for teardown, should we die */
    gint64 deadline = g_get_monotonic_time() + WELDR_FORWARD_WAIT_S * G_USEC_PER_SEC;
    g_autofree char *where = dcn_target_describe(&w->link->target);
    while (!socket_connects(w->socket)) {
        int st;
        if (waitpid(w->link->fwd_pid, &st, WNOHANG) == w->link->fwd_pid) {
            w->link->fwd_pid = 0;
            g_autofree char *text = NULL;
            g_file_get_contents(log, &text, NULL, NULL);
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               "forwarding the Weldr socket %s from %s over SSH failed: %s", w->link->remote_socket, where,
                               text ? g_strstrip(text) : "ssh exited"),
                   FALSE;
        }
        if (g_get_monotonic_time() > deadline) {
            forward_stop(w);
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "forwarding the Weldr socket from %s: %s did not accept connections within %d s", where,
                               w->socket, WELDR_FORWARD_WAIT_S),
                   FALSE;
        }
        if (!dcn_interruptible_sleep(100))
            return dcn_interrupt_check(error), FALSE;
    }
    dcn_progress_event(w->progress, "forward", "target=%s remote=%s local=%s pid=%d", where, w->link->remote_socket,
                       w->socket, (int)w->link->fwd_pid);
    return TRUE;
}

/* Where the forwarded socket goes: <state_dir>/builder/weldr.sock, or a
 * short temporary directory when that path is too long for sun_path. */
static char *local_socket_path(DcnWeldr *w, GError **error)
{
    struct sockaddr_un sa;
    g_autofree char *p = g_build_filename(w->link->fwd_dir, "weldr.sock", NULL);
    if (strlen(p) < sizeof sa.sun_path)
        return g_steal_pointer(&p);
    w->link->tmp_dir = g_dir_make_tmp("dcn-weldr-XXXXXX", error);
    return w->link->tmp_dir ? g_build_filename(w->link->tmp_dir, "s", NULL) : NULL;
}

gboolean dcn_weldr_get_json(DcnWeldr *w, const char *path, long timeout_s, JsonParser **out, GError **error)
{
    for (int attempt = 0;; attempt++) {
        g_autoptr(GError) e = NULL;
        if (dcn_weldr_json(w, "GET", path, NULL, NULL, timeout_s, out, &e))
            return TRUE;
        if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) || w->link->target.local ||
            attempt >= WELDR_RECONNECTS)
            return g_propagate_error(error, g_steal_pointer(&e)), FALSE;
        dcn_progress_event(w->progress, "reconnect", "attempt=%d reason=\"%s\"", attempt + 1, e->message);
        if (!dcn_interruptible_sleep(2000u << attempt))
            return dcn_interrupt_check(error), FALSE;
        g_autoptr(GError) fe = NULL;
        if (!forward_start(w, &fe) && attempt + 1 >= WELDR_RECONNECTS)
            return g_propagate_prefixed_error(error, g_steal_pointer(&fe), "%s (after: %s): ", path, e->message),
                   FALSE;
    }
}

gboolean dcn_weldr_open(DcnWeldr *w, const DcnDefinition *def, DcnProgress *progress, GError **error)
{
    *w = (DcnWeldr){.progress = progress, .link = g_new0(DcnWeldrLink, 1)};
    DcnWeldrLink *l = w->link;
    l->remote_socket = def->composer_socket;
    l->fwd_dir = g_build_filename(def->state_dir, "builder", NULL);
    if (!dcn_target_load(def, FALSE, &l->target, error))
        return FALSE;
    w->curl = dcn_http_handle(error);
    if (!w->curl)
        return FALSE;
    if (l->target.local) {
        w->socket = g_strdup(def->composer_socket);
    } else {
        if (g_mkdir_with_parents(l->fwd_dir, 0700) < 0)
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "creating %s: %s", l->fwd_dir,
                               g_strerror(errno)),
                   FALSE;
        if (!(w->socket = local_socket_path(w, error)) || !forward_start(w, error))
            return FALSE;
    }
    g_autoptr(JsonParser) p = NULL;
    if (!dcn_weldr_get_json(w, "/api/status", DCN_WELDR_SHORT_TIMEOUT_S, &p, error))
        return g_prefix_error(error, "osbuild-composer's API (is osbuild-composer.socket enabled? run install): "),
               FALSE;
    g_autofree char *server = dcn_weldr_reply_server(json_node_get_object(json_parser_get_root(p)));
    dcn_progress_event(progress, "composer", "%s socket=%s", server, w->socket);
    return TRUE;
}

void dcn_weldr_close(DcnWeldr *w)
{
    DcnWeldrLink *l = w->link;
    if (l) {
        forward_stop(w);
        if (l->tmp_dir)
            g_rmdir(l->tmp_dir);
        g_free(l->tmp_dir);
        g_free(l->fwd_dir);
        dcn_target_clear(&l->target);
        g_free(l);
    }
    g_free(w->socket);
    if (w->curl)
        curl_easy_cleanup(w->curl);
    *w = (DcnWeldr){0};
}

char *dcn_weldr_describe(const DcnWeldr *w) { return dcn_target_describe(&w->link->target); }

char *dcn_weldr_plan_socket(const DcnDefinition *def, char **forward, GError **error)
{
    *forward = NULL;
    g_auto(DcnTarget) t = {0};
    if (!dcn_target_load(def, TRUE, &t, error))
        return NULL;
    if (t.local)
        return g_strdup(def->composer_socket);
    char *socket = g_build_filename(def->state_dir, "builder", "weldr.sock", NULL);
    g_autoptr(GPtrArray) argv = forward_argv(&t, socket, def->composer_socket);
    *forward = dcn_cmd_to_string((const char *const *)argv->pdata);
    return socket;
}

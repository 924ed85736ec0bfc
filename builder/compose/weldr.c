/* compose/weldr: osbuild-composer over its Weldr API (HTTP/1.1 on the unix
 * socket /run/weldr/api.socket; paths and shapes as in osbuild-composer's
 * internal/weldr/api.go and weldr-client). The builder is the target
 * provision recorded: locally the socket is used directly; over SSH it is
 * forwarded (ssh -N -L <state_dir>/builder/weldr.sock:<composer.socket>).
 *   1. GET  /api/status                         composer answers
 *   2. POST /api/v1/blueprints/new              blueprint TOML (text/x-toml)
 *   3. GET  /api/v1/blueprints/depsolve/<name>  missing packages -> clear error
 *   4. POST /api/v1/compose                     edge-commit, ostree.ref/parent/url
 *      (url: composer.url, the hosted repo, so composer reads
 *      <url>/refs/heads/<ref> and builds on the published head; left out for
 *      the first version of a ref, when there is no head to fetch)
 *   5. GET  /api/v1/compose/status/<id>         every composer.poll_s, up to composer.timeout_s
 *      (FAILED: the end of GET /api/v1/compose/log/<id> goes in the error;
 *      timeout or interrupt: DELETE /api/v1/compose/cancel/<id>)
 *   6. GET  /api/v1/compose/image/<id>          <id>-commit.tar into the state dir
 *   7. the tarball goes through the edge-commit backend, then is removed.
 * DELETE /api/v1/compose/delete/<id> removes every compose we made from
 * composer's store once we are done with it: FAILED, cancelled (timeout,
 * interrupt), or FINISHED and downloaded. Only a compose we may still resume
 * (WAITING, RUNNING, or FINISHED but not downloaded) is left.
 * The running compose is recorded in <state_dir>/weldr.json: a rerun after an
 * interruption or a dropped SSH connection picks it up instead of starting
 * another one (same version and blueprint, composer still knows it). */
#include "weldr.h"

#include <curl/curl.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "compose.h"
#include "error.h"
#include "plan.h"
#include "provision.h"
#include "state.h"
#include "weldr_reply.h"

#define WELDR_HOST "http://localhost" /* composer-cli's Host too */
#define WELDR_SHORT_TIMEOUT_S 60
#define WELDR_LONG_TIMEOUT_S 900      /* depsolve and compose start: metadata download, parent fetch (300 s) */
#define WELDR_FORWARD_WAIT_S 30
#define WELDR_RECONNECTS 3

/* ---- blueprint ---- */

gboolean dcn_weldr_is_semver(const char *v)
{
    /* MAJOR.MINOR.PATCH, numbers without leading zeros, optional -pre / +build */
    const char *p = v;
    for (int part = 0; part < 3; part++) {
        if (!g_ascii_isdigit(*p) || (*p == '0' && g_ascii_isdigit(p[1])))
            return FALSE;
        while (g_ascii_isdigit(*p))
            p++;
        if (part < 2 && *p++ != '.')
            return FALSE;
    }
    if (*p == '-' || *p == '+') {
        for (p++; *p; p++)
            if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '+')
                return FALSE;
        return p[-1] != '.' && p[-1] != '-' && p[-1] != '+';
    }
    return *p == 0;
}

/* A TOML basic string. */
static void toml_str(GString *s, const char *v)
{
    g_string_append_c(s, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(s, "\\%c", *p);
        else if (*p == '\n')
            g_string_append(s, "\\n");
        else if (*p == '\t')
            g_string_append(s, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(s, "\\u%04X", *p);
        else
            g_string_append_c(s, (char)*p);
    }
    g_string_append_c(s, '"');
}

/* The name = "..." of a blueprint file (first top-level assignment). */
static char *toml_top_name(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *t = g_strstrip(*l);
        if (*t == '[')
            break; /* a table: past the top level */
        if (!g_str_has_prefix(t, "name"))
            continue;
        t += 4;
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t++ != '=')
            continue;
        while (*t == ' ' || *t == '\t')
            t++;
        char q = *t;
        if (q != '"' && q != '\'')
            return NULL;
        char *end = strchr(t + 1, q);
        return end ? g_strndup(t + 1, (gsize)(end - t - 1)) : NULL;
    }
    return NULL;
}

char *dcn_weldr_blueprint(const DcnDefinition *def, GError **error)
{
    if (def->blueprint_file) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(def->blueprint_file, &text, NULL, error))
            return g_prefix_error(error, "blueprint.file: "), NULL;
        g_autofree char *name = toml_top_name(text);
        if (!name || strcmp(name, def->name) != 0)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                               "blueprint.file %s: its top-level name is '%s', the definition's name is '%s' "
                               "(they must match: the compose is started for the definition's name)",
                               def->blueprint_file, name ? name : "(none)", def->name),
                   NULL;
        return g_steal_pointer(&text);
    }
    GString *s = g_string_new("# generated by dcn-builder from ");
    g_string_append(s, def->path ? def->path : "the image definition");
    g_string_append(s, "\nname = ");
    toml_str(s, def->name);
    g_string_append(s, "\ndescription = ");
    g_autofree char *desc = g_strdup_printf("%s %s (dcn-builder)", def->name, def->version);
    toml_str(s, def->blueprint_description ? def->blueprint_description : desc);
    if (dcn_weldr_is_semver(def->version)) {
        g_string_append(s, "\nversion = ");
        toml_str(s, def->version);
    }
    g_string_append(s, "\nmodules = []\n");
    for (char **p = def->blueprint_packages; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        g_autofree char *name = eq ? g_strndup(*p, (gsize)(eq - *p)) : g_strdup(*p);
        g_string_append(s, "\n[[packages]]\nname = ");
        toml_str(s, g_strstrip(name));
        g_string_append(s, "\nversion = ");
        toml_str(s, eq && eq[1] ? eq + 1 : "*");
        g_string_append_c(s, '\n');
    }
    for (char **g = def->blueprint_groups; g && *g; g++) {
        g_string_append(s, "\n[[groups]]\nname = ");
        toml_str(s, *g);
        g_string_append_c(s, '\n');
    }
    if (def->blueprint_customizations && *def->blueprint_customizations) {
        g_string_append_c(s, '\n');
        g_string_append(s, def->blueprint_customizations);
        if (s->str[s->len - 1] != '\n')
            g_string_append_c(s, '\n');
    }
    return g_string_free(s, FALSE);
}

/* ---- the API client ---- */

typedef struct {
    CURL *curl;
    char *socket;          /* local path of the Weldr socket (direct or forwarded) */
    DcnProgress *progress;
    /* download progress */
    guint64 got;
    /* the SSH forward, when the builder is remote */
    const DcnTarget *target;
    const char *remote_socket;
    char *fwd_dir;         /* <state_dir>/builder */
    char *tmp_dir;         /* a short directory for the socket when fwd_dir is too long, or NULL */
    GPid fwd_pid;
    gboolean finishing;    /* an interrupt does not abort the request in flight (cancel, start) */
    gboolean downloading;  /* the image download runs: its Content-Length is the task's total */
} Weldr;

typedef struct {
    long status;
    char *content_type;
    GByteArray *body; /* NULL when streamed to a file */
} WeldrResponse;

static void weldr_response_clear(WeldrResponse *r)
{
    g_free(r->content_type);
    if (r->body)
        g_byte_array_unref(r->body);
    *r = (WeldrResponse){0};
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WeldrResponse, weldr_response_clear)

typedef struct {
    Weldr *w;
    GByteArray *mem;
    FILE *file;
    gboolean write_failed;
} Sink;

static size_t on_data(char *ptr, size_t size, size_t n, void *data)
{
    Sink *s = data;
    size_t len = size * n;
    if (s->file) {
        if (fwrite(ptr, 1, len, s->file) != len) {
            s->write_failed = TRUE;
            return 0;
        }
        s->w->got += len;
        dcn_progress_add(s->w->progress, 0, len);
    } else {
        g_byte_array_append(s->mem, (const guint8 *)ptr, (guint)len);
    }
    return len;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    Weldr *w = data;
    if (w->downloading && dltotal > 0)
        dcn_progress_set_total(w->progress, 0, (guint64)dltotal); /* Content-Length */
    return dcn_interrupted() && !w->finishing ? 1 : 0; /* non-zero aborts the transfer */
}

/* One request. body/ctype NULL for none. Transport failures are errors
 * (G_IO_ERROR_CONNECTION_CLOSED, so the caller may reconnect); any HTTP
 * status is returned. */
static gboolean weldr_request(Weldr *w, const char *method, const char *path, const char *ctype, const char *body,
                              long timeout_s, FILE *file, WeldrResponse *out, GError **error)
{
    g_autofree char *url = g_strconcat(WELDR_HOST, path, NULL);
    char errbuf[CURL_ERROR_SIZE] = "";
    Sink sink = {.w = w, .file = file, .mem = file ? NULL : g_byte_array_new()};
    struct curl_slist *headers = NULL;
    g_autofree char *ct_header = ctype ? g_strdup_printf("Content-Type: %s", ctype) : NULL;
    if (ct_header)
        headers = curl_slist_append(headers, ct_header);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_reset(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_UNIX_SOCKET_PATH, w->socket);
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &sink);
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
        if (sink.mem)
            g_byte_array_unref(sink.mem);
        if (rc == CURLE_ABORTED_BY_CALLBACK && dcn_interrupt_check(error))
            return g_prefix_error(error, "%s %s: ", method, path), FALSE;
        if (sink.write_failed)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: writing the download: %s", method, path,
                               g_strerror(errno)),
                   FALSE;
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s %s on %s: %s", method, path,
                           w->socket, *errbuf ? errbuf : curl_easy_strerror(rc)),
               FALSE;
    }
    char *ct = NULL;
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(w->curl, CURLINFO_CONTENT_TYPE, &ct);
    out->content_type = g_strdup(ct);
    out->body = sink.mem;
    return TRUE;
}

/* A JSON request: 200 with a JSON object, else an error with composer's
 * message. */
static gboolean weldr_json(Weldr *w, const char *method, const char *path, const char *ctype, const char *body,
                           long timeout_s, JsonParser **out, GError **error)
{
    g_auto(WeldrResponse) r = {0};
    if (!weldr_request(w, method, path, ctype, body, timeout_s, NULL, &r, error))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = dcn_weldr_reply_object(parser, r.content_type, r.body->data, r.body->len);
    if (r.status != 200) {
        g_autofree char *msg = dcn_weldr_reply_errors(o);
        if (!msg && r.body->len)
            msg = g_strndup((const char *)r.body->data, MIN(r.body->len, 300));
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

static JsonObject *root_obj(JsonParser *p) { return json_node_get_object(json_parser_get_root(p)); }

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

static void forward_stop(Weldr *w)
{
    if (w->fwd_pid > 0) {
        dcn_cmd_stop(w->fwd_pid, 2000);
        w->fwd_pid = 0;
        g_autofree char *pidfile = g_build_filename(w->fwd_dir, "weldr-forward.pid", NULL);
        g_unlink(pidfile);
    }
    if (w->target && !w->target->local && w->socket)
        g_unlink(w->socket);
}

static GPtrArray *forward_argv(const DcnTarget *t, const char *local, const char *remote)
{
    g_autofree char *spec = g_strdup_printf("%s:%s", local, remote);
    const char *extra[] = {"-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", "-L", spec, NULL};
    return dcn_ssh_argv(t, extra, NULL);
}

/* ssh -N -L local.sock:remote.sock, until the local socket accepts. */
static gboolean forward_start(Weldr *w, GError **error)
{
    forward_stop(w);
    g_autoptr(GPtrArray) argv = forward_argv(w->target, w->socket, w->remote_socket);
    g_autofree char *log = g_build_filename(w->fwd_dir, "weldr-forward.log", NULL);
    g_unlink(log);
    if (!dcn_cmd_spawn((const char *const *)argv->pdata, log, &w->fwd_pid, error))
        return FALSE;
    g_autofree char *pidfile = g_build_filename(w->fwd_dir, "weldr-forward.pid", NULL);
    g_autofree char *pidtext = g_strdup_printf("%d\n", (int)w->fwd_pid);
    g_file_set_contents(pidfile, pidtext, -1, NULL); /* for teardown, should we die */
    gint64 deadline = g_get_monotonic_time() + WELDR_FORWARD_WAIT_S * G_USEC_PER_SEC;
    g_autofree char *where = dcn_target_describe(w->target);
    while (!socket_connects(w->socket)) {
        int st;
        if (waitpid(w->fwd_pid, &st, WNOHANG) == w->fwd_pid) {
            w->fwd_pid = 0;
            g_autofree char *text = NULL;
            g_file_get_contents(log, &text, NULL, NULL);
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               "forwarding the Weldr socket %s from %s over SSH failed: %s", w->remote_socket, where,
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
    dcn_progress_event(w->progress, "forward", "target=%s remote=%s local=%s pid=%d", where, w->remote_socket,
                       w->socket, (int)w->fwd_pid);
    return TRUE;
}

/* Where the forwarded socket goes: <state_dir>/builder/weldr.sock, or a
 * short temporary directory when that path is too long for sun_path. */
static char *local_socket_path(Weldr *w, GError **error)
{
    struct sockaddr_un sa;
    g_autofree char *p = g_build_filename(w->fwd_dir, "weldr.sock", NULL);
    if (strlen(p) < sizeof sa.sun_path)
        return g_steal_pointer(&p);
    w->tmp_dir = g_dir_make_tmp("dcn-weldr-XXXXXX", error);
    return w->tmp_dir ? g_build_filename(w->tmp_dir, "s", NULL) : NULL;
}

static void weldr_close(Weldr *w)
{
    forward_stop(w);
    if (w->tmp_dir)
        g_rmdir(w->tmp_dir);
    g_free(w->tmp_dir);
    g_free(w->fwd_dir);
    g_free(w->socket);
    if (w->curl)
        curl_easy_cleanup(w->curl);
    *w = (Weldr){0};
}

/* A request that survives a dropped SSH forward: reconnects and retries (a
 * few times) on transport errors. Only for idempotent GETs. */
static gboolean weldr_get_json(Weldr *w, const char *path, long timeout_s, JsonParser **out, GError **error)
{
    for (int attempt = 0;; attempt++) {
        g_autoptr(GError) e = NULL;
        if (weldr_json(w, "GET", path, NULL, NULL, timeout_s, out, &e))
            return TRUE;
        if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) || w->target->local ||
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

/* ---- the compose ---- */

/* The hosted head of def->ref, or NULL (first version). */
static gboolean hosted_head(const DcnDefinition *def, char **out, GError **error)
{
    *out = NULL;
    g_autofree char *config = g_build_filename(def->repo, "config", NULL);
    if (!g_file_test(config, G_FILE_TEST_EXISTS))
        return TRUE;
    g_autoptr(GFile) f = g_file_new_for_path(def->repo);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(f);
    if (!ostree_repo_open(repo, NULL, error) || !ostree_repo_resolve_rev(repo, def->ref, TRUE, out, error))
        return g_prefix_error(error, "reading the hosted repo %s: ", def->repo), FALSE;
    return TRUE;
}

/* The POST /api/v1/compose body. */
static char *compose_request(const DcnDefinition *def, const char *parent, const char *url)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "blueprint_name");
    json_builder_add_string_value(b, def->name);
    json_builder_set_member_name(b, "compose_type");
    json_builder_add_string_value(b, "edge-commit");
    json_builder_set_member_name(b, "branch");
    json_builder_add_string_value(b, "master");
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)def->composer_size_mib << 20);
    json_builder_set_member_name(b, "ostree");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ref");
    json_builder_add_string_value(b, def->ref);
    json_builder_set_member_name(b, "parent");
    json_builder_add_string_value(b, parent ? parent : "");
    json_builder_set_member_name(b, "url");
    json_builder_add_string_value(b, url ? url : "");
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

/* What composer is asked to build on: (parent, url) and a description. */
static gboolean compose_parent(const DcnDefinition *def, char **out_parent, char **out_url, char **out_head,
                               GError **error)
{
    if (!hosted_head(def, out_head, error))
        return FALSE;
    *out_parent = def->composer_parent ? g_strdup(def->composer_parent) : NULL;
    *out_url = NULL;
    if (!*out_head && !def->composer_parent)
        return TRUE; /* first version: nothing to build on, composer must not fetch a missing ref */
    if (!def->composer_url)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "composer.url is not set: the hosted repo as the builder reaches it (e.g. "
                           "http://dcn.example.com/repo), so composer builds %s on the published head %s",
                           def->version, *out_head ? *out_head : def->composer_parent),
               FALSE;
    *out_url = g_strdup(def->composer_url);
    return TRUE;
}

static gboolean depsolve(Weldr *w, const DcnDefinition *def, GError **error)
{
    g_autofree char *path = g_strdup_printf("/api/v1/blueprints/depsolve/%s", def->name);
    g_autoptr(JsonParser) p = NULL;
    if (!weldr_json(w, "GET", path, NULL, NULL, WELDR_LONG_TIMEOUT_S, &p, error))
        return g_prefix_error(error, "depsolving blueprint %s: ", def->name), FALSE;
    JsonObject *o = root_obj(p);
    g_autofree char *errs = dcn_weldr_reply_errors(o);
    if (errs) {
        g_autofree char *missing = dcn_weldr_reply_missing_packages(errs);
        if (missing)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "blueprint %s: missing packages: %s (not in the builder's repositories: check "
                               "blueprint.packages, and that the builder is subscribed / has the repos enabled)",
                               def->name, missing),
                   FALSE;
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "blueprint %s does not depsolve: %s",
                           def->name, errs),
               FALSE;
    }
    guint deps = dcn_weldr_reply_dependencies(o);
    dcn_progress_event(w->progress, "depsolved", "blueprint=%s packages=%u", def->name, deps);
    return TRUE;
}

/* queue_status of build id, or NULL when composer does not know it.
 * osbuild-composer leaves a uuid it does not know out of the reply (200
 * {"uuids":[]}); lorax-composer also named it in "errors" (UnknownUUID); a
 * 400 UnknownUUID is composer's answer to a malformed uuid. All mean: not
 * known. */
static gboolean compose_status(Weldr *w, const char *id, char **out_status, gint64 *out_size, GError **error)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/status/%s", id);
    g_autoptr(JsonParser) p = NULL;
    g_autoptr(GError) e = NULL;
    *out_status = NULL;
    if (!weldr_get_json(w, path, WELDR_SHORT_TIMEOUT_S, &p, &e)) {
        if (strstr(e->message, "HTTP 400: UnknownUUID"))
            return TRUE;
        return g_propagate_error(error, g_steal_pointer(&e)), FALSE;
    }
    *out_status = dcn_weldr_reply_queue_status(root_obj(p), id, out_size);
    return TRUE;
}

/* The last lines of GET /api/v1/compose/log/<id>. Composer labels every
 * reply application/json, the plain-text log too, and answers a compose that
 * has not started with 200 and an error object: that one is recognised by
 * its content, {"status":false,"errors":[...]}, not by the status code. */
static char *log_tail(Weldr *w, const char *id)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/log/%s", id);
    g_auto(WeldrResponse) r = {0};
    if (!weldr_request(w, "GET", path, NULL, NULL, WELDR_SHORT_TIMEOUT_S, NULL, &r, NULL) || r.status != 200)
        return g_strdup("(no log)");
    return dcn_weldr_reply_log_tail(r.body->data, r.body->len);
}

static char *state_path(const DcnDefinition *def) { return g_build_filename(def->state_dir, "weldr.json", NULL); }

static void warn(Weldr *w, const char *id, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void warn(Weldr *w, const char *id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *q = g_strescape(msg, NULL);
    dcn_progress_event(w->progress, "warning", "id=%s msg=\"%s\"", id, q);
}

/* DELETE /api/v1/compose/delete/<id>: composer answers 200 and lists what
 * it did not delete in "errors" (UnknownUUID; BuildInWrongState for a
 * compose still WAITING or RUNNING; ComposeError when its store failed).
 * Each becomes a warning naming composer's id and msg: a compose left in
 * composer's store costs disk on the builder, not this build, and never
 * replaces the error the build is reporting. TRUE when it is gone (then
 * weldr.json, which names it, goes too). */
static gboolean delete_compose(Weldr *w, const DcnDefinition *def, const char *id, const char *why)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/delete/%s", id);
    g_autoptr(JsonParser) p = NULL;
    g_autoptr(GError) e = NULL;
    w->finishing = TRUE; /* also after an interrupt: the compose would be left behind */
    gboolean ok = weldr_json(w, "DELETE", path, NULL, NULL, WELDR_SHORT_TIMEOUT_S, &p, &e);
    w->finishing = FALSE;
    if (!ok) {
        warn(w, id, "could not delete compose %s from composer (%s): %s", id, why, e->message);
        return FALSE;
    }
    g_autoptr(GPtrArray) not_deleted = g_ptr_array_new_with_free_func(g_free);
    gboolean deleted = dcn_weldr_reply_deleted(root_obj(p), id, not_deleted);
    for (guint i = 0; i < not_deleted->len; i++)
        warn(w, id, "composer did not delete compose %s (%s): %s", id, why, (const char *)not_deleted->pdata[i]);
    guint nerr = not_deleted->len;
    if (!deleted && !nerr)
        warn(w, id, "composer's reply to deleting compose %s (%s) does not list it as deleted", id, why);
    if (!deleted)
        return FALSE;
    dcn_progress_event(w->progress, "deleted", "id=%s reason=%s", id, why);
    g_autofree char *sp = state_path(def);
    g_unlink(sp);
    return TRUE;
}

/* Cancel, then delete: composer marks the job cancelled before it answers
 * the cancel (the compose is FAILED from then on), so the delete, which
 * wants FINISHED or FAILED, can follow at once. A refused cancel (it just
 * finished or failed) still ends in the delete. */
static void cancel_and_delete(Weldr *w, const DcnDefinition *def, const char *id, const char *why)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/cancel/%s", id);
    g_auto(WeldrResponse) r = {0};
    g_autoptr(GError) e = NULL;
    w->finishing = TRUE; /* the interrupt flag would abort this request at once */
    gboolean ok = weldr_request(w, "DELETE", path, NULL, NULL, 20, NULL, &r, &e);
    w->finishing = FALSE;
    dcn_progress_event(w->progress, "cancel", "id=%s reason=%s result=%s", id, why,
                       ok ? (r.status == 200 ? "cancelled" : "refused") : e->message);
    if (ok)
        delete_compose(w, def, id, why);
}

static void record_compose(const DcnDefinition *def, const char *id, const char *bp_hash)
{
    g_autofree char *path = state_path(def);
    g_autofree char *text = g_strdup_printf("{\"build_id\": \"%s\", \"version\": \"%s\", \"blueprint_sha256\": \"%s\"}\n",
                                            id, def->version, bp_hash);
    g_mkdir_with_parents(def->state_dir, 0755);
    g_file_set_contents(path, text, -1, NULL);
}

/* The compose a previous run started for this version and blueprint. */
static char *recorded_compose(const DcnDefinition *def, const char *bp_hash)
{
    g_autofree char *path = state_path(def);
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_file(p, path, NULL) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        return NULL;
    JsonObject *o = root_obj(p);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "version", ""), def->version) != 0 ||
        g_strcmp0(json_object_get_string_member_with_default(o, "blueprint_sha256", ""), bp_hash) != 0)
        return NULL;
    return g_strdup(json_object_get_string_member_with_default(o, "build_id", NULL));
}

static gboolean wait_loop(Weldr *w, const DcnDefinition *def, const char *id, GError **error)
{
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + (gint64)def->composer_timeout_s * G_USEC_PER_SEC;
    g_autofree char *last = NULL;
    for (;;) {
        g_autofree char *st = NULL;
        gint64 size = 0;
        /* An interrupt anywhere in this loop, also during the status
         * request, ends in the same place: the compose is cancelled, so no
         * build runs on in the composer after we are gone. */
        if (dcn_interrupted()) {
            cancel_and_delete(w, def, id, "interrupted");
            return dcn_interrupt_check(error), FALSE;
        }
        if (!compose_status(w, id, &st, &size, error)) {
            if (dcn_interrupted()) {
                g_clear_error(error);
                continue;
            }
            return FALSE;
        }
        if (!st)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "composer does not know compose %s (deleted, or composer restarted?)", id),
                   FALSE;
        double waited = (double)(g_get_monotonic_time() - start) / 1e6;
        if (g_strcmp0(st, last) != 0) { /* between changes, the task's progress lines show the wait */
            dcn_progress_event(w->progress, "compose-status", "id=%s status=%s waited_s=%.0f", id, st, waited);
            dcn_progress_detail(w->progress, "id=%s status=%s timeout_s=%u", id, st, def->composer_timeout_s);
        }
        g_free(last);
        last = g_strdup(st);
        if (strcmp(st, "FINISHED") == 0)
            return TRUE;
        if (strcmp(st, "FAILED") == 0) {
            g_autofree char *tail = log_tail(w, id);
            delete_compose(w, def, id, "failed");
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                               "compose %s FAILED in osbuild-composer; end of its log: %s", id, tail),
                   FALSE;
        }
        if (g_get_monotonic_time() > deadline) {
            cancel_and_delete(w, def, id, "timeout");
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "compose %s still %s after %u s (composer.timeout_s); cancelled", id, st,
                               def->composer_timeout_s),
                   FALSE;
        }
        if (!dcn_interruptible_sleep(def->composer_poll_s * 1000)) {
            cancel_and_delete(w, def, id, "interrupted");
            return dcn_interrupt_check(error), FALSE;
        }
    }
}

/* The compose's build as task "build": its status, and time. */
static gboolean wait_finished(Weldr *w, const DcnDefinition *def, const char *id, GError **error)
{
    dcn_progress_begin(w->progress, "build", NULL);
    dcn_progress_detail(w->progress, "id=%s status=? timeout_s=%u", id, def->composer_timeout_s);
    gboolean ok = wait_loop(w, def, id, error);
    if (ok)
        dcn_progress_end(w->progress);
    else
        dcn_progress_cancel(w->progress);
    return ok;
}

static gboolean download(Weldr *w, const char *id, const char *dest, GError **error)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/image/%s", id);
    g_autofree char *part = g_strconcat(dest, ".part", NULL);
    FILE *f = fopen(part, "wbe");
    if (!f)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "creating %s: %s", part, g_strerror(errno)),
               FALSE;
    dcn_progress_begin(w->progress, "download", NULL);
    dcn_progress_detail(w->progress, "id=%s", id);
    g_auto(WeldrResponse) r = {0};
    w->downloading = TRUE;
    gboolean ok = weldr_request(w, "GET", path, NULL, NULL, 6 * 3600, f, &r, error);
    w->downloading = FALSE;
    if (fclose(f) != 0 && ok)
        ok = FALSE, g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "writing %s: %s", part, g_strerror(errno));
    if (ok && r.status != 200) {
        g_autofree char *body = NULL;
        g_file_get_contents(part, &body, NULL, NULL);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET %s: HTTP %ld: %.300s", path, r.status, body ? body : "");
        ok = FALSE;
    } else if (ok && (!r.content_type || strcmp(r.content_type, "application/x-tar") != 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "GET %s: expected application/x-tar, got %s", path,
                    r.content_type ? r.content_type : "(none)");
        ok = FALSE;
    }
    if (ok && g_rename(part, dest) != 0)
        ok = FALSE, g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "renaming %s: %s", part, g_strerror(errno));
    if (!ok) {
        dcn_progress_cancel(w->progress);
        g_unlink(part);
        return FALSE;
    }
    dcn_progress_end(w->progress);
    dcn_progress_event(w->progress, "downloaded", "id=%s bytes=%" G_GUINT64_FORMAT " path=%s", id, w->got, dest);
    return TRUE;
}

/* Opens the API: direct socket, or an SSH forward to the builder's. */
static gboolean weldr_open(Weldr *w, const DcnDefinition *def, const DcnTarget *t, DcnProgress *progress, GError **error)
{
    *w = (Weldr){.progress = progress, .target = t, .remote_socket = def->composer_socket};
    w->fwd_dir = g_build_filename(def->state_dir, "builder", NULL);
    w->curl = curl_easy_init();
    if (!w->curl)
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "curl_easy_init failed"), FALSE;
    if (t->local) {
        w->socket = g_strdup(def->composer_socket);
    } else {
        if (g_mkdir_with_parents(w->fwd_dir, 0700) < 0)
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "creating %s: %s", w->fwd_dir,
                               g_strerror(errno)),
                   FALSE;
        if (!(w->socket = local_socket_path(w, error)) || !forward_start(w, error))
            return FALSE;
    }
    g_autoptr(JsonParser) p = NULL;
    if (!weldr_get_json(w, "/api/status", WELDR_SHORT_TIMEOUT_S, &p, error))
        return g_prefix_error(error, "osbuild-composer's API (is osbuild-composer.socket enabled? run install): "),
               FALSE;
    g_autofree char *server = dcn_weldr_reply_server(root_obj(p));
    dcn_progress_event(progress, "composer", "%s socket=%s", server, w->socket);
    return TRUE;
}

static gboolean weldr_compose(Weldr *w, const DcnDefinition *def, const char *blueprint, char **out_tar,
                              char **out_id, GError **error)
{
    g_autofree char *bp_hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, blueprint, -1);
    g_autofree char *id = recorded_compose(def, bp_hash);
    if (id) {
        g_autofree char *st = NULL;
        if (!compose_status(w, id, &st, NULL, error))
            return FALSE;
        if (st && (strcmp(st, "WAITING") == 0 || strcmp(st, "RUNNING") == 0 || strcmp(st, "FINISHED") == 0)) {
            dcn_progress_event(w->progress, "resume", "id=%s status=%s", id, st);
        } else {
            dcn_progress_event(w->progress, "not-resumed", "id=%s status=%s", id, st ? st : "unknown");
            if (st) /* FAILED: ours, and of no more use */
                delete_compose(w, def, id, "failed-earlier");
            g_clear_pointer(&id, g_free);
        }
    }
    if (!id) {
        g_autoptr(JsonParser) p = NULL;
        if (!weldr_json(w, "POST", "/api/v1/blueprints/new", "text/x-toml", blueprint, WELDR_SHORT_TIMEOUT_S, &p, error))
            return g_prefix_error(error, "pushing blueprint %s: ", def->name), FALSE;
        dcn_progress_event(w->progress, "blueprint", "name=%s sha256=%s", def->name, bp_hash);
        if (!depsolve(w, def, error))
            return FALSE;
        g_autofree char *parent = NULL, *url = NULL, *head = NULL;
        if (!compose_parent(def, &parent, &url, &head, error))
            return FALSE;
        g_autofree char *body = compose_request(def, parent, url);
        g_clear_object(&p);
        /* Not aborted by an interrupt: once the request is sent the composer
         * may have started the compose, and only its reply says which one to
         * cancel. The interrupt is acted on in wait_finished. */
        w->finishing = TRUE;
        gboolean started = weldr_json(w, "POST", "/api/v1/compose", "application/json", body, WELDR_LONG_TIMEOUT_S, &p,
                                      error);
        w->finishing = FALSE;
        if (!started)
            return g_prefix_error(error, "starting the edge-commit compose: "), FALSE;
        id = dcn_weldr_reply_build_id(root_obj(p));
        if (!id)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "POST /api/v1/compose: no build_id"), FALSE;
        record_compose(def, id, bp_hash);
        dcn_progress_event(w->progress, "compose-started", "id=%s ref=%s parent=%s url=%s", id, def->ref,
                           head ? head : parent ? parent : "none", url ? url : "-");
    }
    if (!wait_finished(w, def, id, error))
        return FALSE;
    g_autofree char *name = g_strdup_printf("%s-commit.tar", id);
    g_autofree char *tar = g_build_filename(def->state_dir, name, NULL);
    if (!download(w, id, tar, error))
        return FALSE; /* still FINISHED in composer: a rerun downloads it again */
    /* The image is ours now; composer's copy would only fill its store. */
    delete_compose(w, def, id, "downloaded");
    *out_tar = g_steal_pointer(&tar);
    *out_id = g_steal_pointer(&id);
    return TRUE;
}

static gboolean weldr_run(const DcnDefinition *def, OstreeRepo *staging, DcnProgress *progress, DcnComposeOutput *out,
                          GError **error)
{
    dcn_interrupt_install();
    g_autofree char *blueprint = dcn_weldr_blueprint(def, error);
    if (!blueprint)
        return FALSE;
    g_auto(DcnTarget) t = {0};
    if (!dcn_target_load(def, FALSE, &t, error))
        return FALSE;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Weldr w;
    g_autofree char *tar = NULL, *id = NULL;
    gboolean ok = weldr_open(&w, def, &t, progress, error) && weldr_compose(&w, def, blueprint, &tar, &id, error);
    if (ok) {
        /* the edge-commit backend imports it like a downloaded tarball */
        DcnDefinition edge = *def;
        edge.compose_source = tar;
        ok = dcn_compose_edge_commit.run(&edge, staging, progress, out, error);
    }
    if (ok) {
        g_free(out->source_desc);
        g_autofree char *where = dcn_target_describe(&t);
        out->source_desc = g_strdup_printf("weldr compose %s (%s)", id, where);
        g_unlink(tar);
        g_autofree char *sp = state_path(def);
        g_unlink(sp);
    }
    weldr_close(&w);
    curl_global_cleanup();
    if (!ok)
        g_prefix_error(error, "weldr: ");
    return ok;
}

const DcnComposeBackend dcn_compose_weldr = {"weldr", weldr_run};

/* ---- dry run ---- */

gboolean dcn_compose_plan(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (def->compose_backend == DCN_COMPOSE_WELDR && !dcn_weldr_plan(ctx, error))
        return FALSE;
    if (def->compose_backend != DCN_COMPOSE_WELDR)
        dcn_plan(ctx, "would read %s with backend %s", def->compose_source ? def->compose_source : "(compose.source)",
                 dcn_compose_backend_name(def->compose_backend));
    dcn_plan(ctx, "would stage the tree as dcn-staging/%s/%s in %s", def->ref, def->version, def->staging);
    return TRUE;
}

gboolean dcn_weldr_plan(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autofree char *blueprint = dcn_weldr_blueprint(def, error);
    if (!blueprint)
        return FALSE;
    g_auto(DcnTarget) t = {0};
    if (!dcn_target_load(def, TRUE, &t, error))
        return FALSE;
    g_autofree char *socket = NULL;
    if (t.local) {
        socket = g_strdup(def->composer_socket);
    } else {
        socket = g_build_filename(def->state_dir, "builder", "weldr.sock", NULL);
        g_autoptr(GPtrArray) argv = forward_argv(&t, socket, def->composer_socket);
        g_autofree char *line = dcn_cmd_to_string((const char *const *)argv->pdata);
        dcn_plan(ctx, "would forward the Weldr socket: %s", line);
    }
    g_autofree char *parent = NULL, *url = NULL, *head = NULL;
    if (!compose_parent(def, &parent, &url, &head, error))
        return FALSE;
    g_autofree char *body = compose_request(def, parent, url);
    dcn_plan(ctx, "would talk to osbuild-composer on %s (HTTP, Host localhost):", socket);
    dcn_plan(ctx, "  GET /api/status");
    dcn_plan(ctx, "  POST /api/v1/blueprints/new (Content-Type: text/x-toml) with:");
    dcn_plan_file(ctx, "(blueprint)", blueprint);
    dcn_plan(ctx, "  GET /api/v1/blueprints/depsolve/%s (missing packages stop here)", def->name);
    dcn_plan(ctx, "  POST /api/v1/compose (Content-Type: application/json) %s", body);
    if (url)
        dcn_plan(ctx, "    composer reads %s/refs/heads/%s (hosted head %s)", url, def->ref, head ? head : "?");
    else
        dcn_plan(ctx, "    no parent: %s has no published head yet", def->ref);
    dcn_plan(ctx, "  GET /api/v1/compose/status/<id> every %u s, up to %u s", def->composer_poll_s,
             def->composer_timeout_s);
    dcn_plan(ctx, "  GET /api/v1/compose/image/<id> -> %s/<id>-commit.tar, imported as edge-commit into %s",
             def->state_dir, def->staging);
    dcn_plan(ctx, "  DELETE /api/v1/compose/delete/<id> once downloaded (also after FAILED, or after "
                  "DELETE /api/v1/compose/cancel/<id> on timeout or interrupt)");
    return TRUE;
}

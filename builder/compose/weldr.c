/* compose/weldr: osbuild-composer over its Weldr API (HTTP/1.1 on the unix
 * socket /run/weldr/api.socket; paths and shapes as in osbuild-composer's
 * internal/weldr/api.go and weldr-client). This file is the compose flow;
 * the requests (and the SSH forward to a remote builder) are
 * weldr_client.h's, the blueprint blueprint.h's, the replies weldr_reply.h's.
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

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "blueprint.h"
#include "cmd.h"       /* the interrupt flag */
#include "compose.h"
#include "error.h"
#include "json.h"
#include "plan.h"
#include "weldr_client.h"
#include "weldr_reply.h"

static JsonObject *root_obj(JsonParser *p) { return json_node_get_object(json_parser_get_root(p)); }

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

static gboolean depsolve(DcnWeldr *w, const DcnDefinition *def, GError **error)
{
    g_autofree char *path = g_strdup_printf("/api/v1/blueprints/depsolve/%s", def->name);
    g_autoptr(JsonParser) p = NULL;
    if (!dcn_weldr_json(w, "GET", path, NULL, NULL, DCN_WELDR_LONG_TIMEOUT_S, &p, error))
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
static gboolean compose_status(DcnWeldr *w, const char *id, char **out_status, gint64 *out_size, GError **error)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/status/%s", id);
    g_autoptr(JsonParser) p = NULL;
    g_autoptr(GError) e = NULL;
    *out_status = NULL;
    if (!dcn_weldr_get_json(w, path, DCN_WELDR_SHORT_TIMEOUT_S, &p, &e)) {
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
static char *log_tail(DcnWeldr *w, const char *id)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/log/%s", id);
    g_auto(DcnWeldrResponse) r = {0};
    if (!dcn_weldr_request(w, "GET", path, NULL, NULL, DCN_WELDR_SHORT_TIMEOUT_S, NULL, &r, NULL) || r.status != 200)
        return g_strdup("(no log)");
    return dcn_weldr_reply_log_tail(r.body->str, r.body->len);
}

static char *state_path(const DcnDefinition *def) { return g_build_filename(def->state_dir, "weldr.json", NULL); }

static void warn(DcnWeldr *w, const char *id, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void warn(DcnWeldr *w, const char *id, const char *fmt, ...)
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
static gboolean delete_compose(DcnWeldr *w, const DcnDefinition *def, const char *id, const char *why)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/delete/%s", id);
    g_autoptr(JsonParser) p = NULL;
    g_autoptr(GError) e = NULL;
    w->finishing = TRUE; /* also after an interrupt: the compose would be left behind */
    gboolean ok = dcn_weldr_json(w, "DELETE", path, NULL, NULL, DCN_WELDR_SHORT_TIMEOUT_S, &p, &e);
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
static void cancel_and_delete(DcnWeldr *w, const DcnDefinition *def, const char *id, const char *why)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/cancel/%s", id);
    g_auto(DcnWeldrResponse) r = {0};
    g_autoptr(GError) e = NULL;
    w->finishing = TRUE; /* the interrupt flag would abort this request at once */
    gboolean ok = dcn_weldr_request(w, "DELETE", path, NULL, NULL, 20, NULL, &r, &e);
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
    if (g_strcmp0(dcn_json_str_or(o, "version", ""), def->version) != 0 ||
        g_strcmp0(dcn_json_str_or(o, "blueprint_sha256", ""), bp_hash) != 0)
        return NULL;
    return g_strdup(dcn_json_str(o, "build_id"));
}

static gboolean wait_loop(DcnWeldr *w, const DcnDefinition *def, const char *id, GError **error)
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
static gboolean wait_finished(DcnWeldr *w, const DcnDefinition *def, const char *id, GError **error)
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

static gboolean download(DcnWeldr *w, const char *id, const char *dest, GError **error)
{
    g_autofree char *path = g_strdup_printf("/api/v1/compose/image/%s", id);
    g_autofree char *part = g_strconcat(dest, ".part", NULL);
    FILE *f = fopen(part, "wbe");
    if (!f)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "creating %s: %s", part, g_strerror(errno)),
               FALSE;
    dcn_progress_begin(w->progress, "download", NULL);
    dcn_progress_detail(w->progress, "id=%s", id);
    g_auto(DcnWeldrResponse) r = {0};
    w->downloading = TRUE;
    gboolean ok = dcn_weldr_request(w, "GET", path, NULL, NULL, 6 * 3600, f, &r, error);
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
static gboolean weldr_compose(DcnWeldr *w, const DcnDefinition *def, const char *blueprint, char **out_tar,
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
        if (!dcn_weldr_json(w, "POST", "/api/v1/blueprints/new", "text/x-toml", blueprint, DCN_WELDR_SHORT_TIMEOUT_S, &p, error))
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
        gboolean started = dcn_weldr_json(w, "POST", "/api/v1/compose", "application/json", body, DCN_WELDR_LONG_TIMEOUT_S, &p,
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
    g_autofree char *blueprint = dcn_blueprint_toml(def, error);
    if (!blueprint)
        return FALSE;
    DcnWeldr w;
    g_autofree char *tar = NULL, *id = NULL;
    gboolean ok = dcn_weldr_open(&w, def, progress, error) && weldr_compose(&w, def, blueprint, &tar, &id, error);
    if (ok) {
        /* the edge-commit backend imports it like a downloaded tarball */
        DcnDefinition edge = *def;
        edge.compose_source = tar;
        ok = dcn_compose_edge_commit.run(&edge, staging, progress, out, error);
    }
    if (ok) {
        g_free(out->source_desc);
        g_autofree char *where = dcn_weldr_describe(&w);
        out->source_desc = g_strdup_printf("weldr compose %s (%s)", id, where);
        g_unlink(tar);
        g_autofree char *sp = state_path(def);
        g_unlink(sp);
    }
    dcn_weldr_close(&w);
    if (!ok)
        g_prefix_error(error, "weldr: ");
    return ok;
}

const DcnComposeBackend dcn_compose_weldr = {"weldr", weldr_run};

/* ---- dry run ---- */

gboolean dcn_weldr_plan(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autofree char *blueprint = dcn_blueprint_toml(def, error);
    if (!blueprint)
        return FALSE;
    g_autofree char *forward = NULL;
    g_autofree char *socket = dcn_weldr_plan_socket(def, &forward, error);
    if (!socket)
        return FALSE;
    if (forward)
        dcn_plan(ctx, "would forward the Weldr socket: %s", forward);
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

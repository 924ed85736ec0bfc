/* rollout: see rollout.h. */
#include "rollout.h"
#include "cmd.h"
#include "error.h"
#include "json.h"
#include "kube_output.h"
#include "verify.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#define HISTORY_MAX 20
/* verification: this many answers in a row must show the expected commit
 * (behind a Service each may come from another pod) */
#define VERIFY_STREAK 3

void dcn_rollout_target_clear(DcnRolloutTarget *t)
{
    g_clear_pointer(&t->image, g_free);
    g_clear_pointer(&t->version, g_free);
    g_clear_pointer(&t->commit, g_free);
}

static char *default_manifests(const char *platform)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe) {
        g_autofree char *bindir = g_path_get_dirname(exe);
        g_autofree char *installed = g_build_filename(bindir, "..", "share", "dcn", "manifests", "hoster", platform, NULL);
        g_autofree char *canon = g_canonicalize_filename(installed, NULL);
        if (g_file_test(canon, G_FILE_TEST_IS_DIR))
            return g_steal_pointer(&canon);
    }
    return g_build_filename(DCN_SOURCE_MANIFESTS, platform, NULL);
}

gboolean dcn_rollout_init(DcnRollout *r, DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    *r = (DcnRollout){.ctx = ctx};
    r->platform = def->deploy_platform;
    dcn_kube_init(&r->kube, def->deploy_kubectl, def->deploy_namespace, ctx->dry_run, &ctx->progress);
    r->manifests = def->deploy_manifests ? g_strdup(def->deploy_manifests) : default_manifests(r->platform);
    r->out_dir = g_build_filename(def->state_dir, "deploy", NULL);
    r->timeout = def->deploy_timeout;
    if (def->deploy_ca_file && !g_file_test(def->deploy_ca_file, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "deploy.ca_file %s: no such file",
                    def->deploy_ca_file);
        return FALSE;
    }
    return TRUE;
}

void dcn_rollout_clear(DcnRollout *r)
{
    dcn_kube_clear(&r->kube);
    g_clear_pointer(&r->manifests, g_free);
    g_clear_pointer(&r->out_dir, g_free);
}

DcnRendered *dcn_rollout_render(DcnRollout *r, const DcnRolloutTarget *t, GError **error)
{
    const DcnDefinition *def = r->ctx->def;
    DcnRenderInput in = {
        .manifests = r->manifests,
        .out_dir = r->out_dir,
        .ns = def->deploy_namespace,
        .image = t->image,
        .version = t->version,
        .commit = t->commit,
        .ref = def->ref,
        .public_url = def->deploy_url,
    };
    DcnRendered *rd = dcn_render(&r->kube, &in, error);
    /* commands against the cluster need the namespace the objects carry
     * (a copy: the rendered objects are freed before the rollout is) */
    if (rd && !r->kube.ns && rd->ns)
        r->kube.ns = g_strdup(rd->ns);
    return rd;
}

/* ---- reading objects ---- */

const char *dcn_rollout_object_image(JsonObject *o)
{
    JsonObject *pod = dcn_json_obj(dcn_json_obj(dcn_json_obj(o, "spec"), "template"), "spec");
    JsonArray *cs = dcn_json_arr(pod, "containers");
    for (guint i = 0; cs && i < json_array_get_length(cs); i++) {
        JsonObject *c = dcn_json_arr_obj(cs, i);
        if (g_strcmp0(dcn_json_str(c, "name"), DCN_DEPLOY_CONTAINER) == 0)
            return dcn_json_str(c, "image");
    }
    return NULL;
}

const char *dcn_rollout_object_annotation(JsonObject *o, const char *key)
{
    return dcn_json_str(dcn_json_obj(dcn_json_obj(dcn_json_obj(dcn_json_obj(o, "spec"), "template"), "metadata"), "annotations"),
                      key);
}

JsonObject *dcn_rollout_get_deployment(DcnRollout *r, const DcnRendered *rd, gboolean *found, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *obj = g_strdup_printf("deployment/%s", rd->deployment);
    const char *argv[] = {"get", obj, "-o", "json", NULL};
    gboolean not_found = FALSE;
    *found = FALSE;
    if (!dcn_kube_run(&r->kube, DCN_KUBE_READ, 60, &out, &not_found, error, argv)) {
        if (not_found) {
            g_clear_error(error);
            return NULL;
        }
        return NULL;
    }
    JsonObject *o = dcn_kube_parse_object(out, strlen(out), obj, error);
    *found = o != NULL;
    return o;
}

/* ---- verification ---- */

/* The URL devices use: deploy.url, else the rendered Route/Ingress host,
 * else the host the cluster gave the Route. NULL: use the Service proxy,
 * as always when /-/ is on a port of its own (the ops-port component),
 * where the Route does not answer it. */
static char *verify_url(DcnRollout *r, const DcnRendered *rd, GError **error)
{
    const DcnDefinition *def = r->ctx->def;
    if (rd->ops_port)
        return NULL;
    if (def->deploy_url)
        return g_strdup(def->deploy_url);
    if (rd->url)
        return g_strdup(rd->url);
    if (rd->route_kind && g_str_equal(rd->route_kind, "route") && !r->ctx->dry_run) {
        g_autofree char *obj = g_strdup_printf("route/%s", rd->route_name);
        const char *argv[] = {"get", obj, "-o", "json", NULL};
        g_autofree char *out = NULL;
        g_autoptr(GError) local = NULL;
        if (!dcn_kube_run(&r->kube, DCN_KUBE_READ, 60, &out, NULL, &local, argv)) {
            dcn_progress_event(&r->ctx->progress, "warning", "what=\"no route host: %s\"", local->message);
            return NULL;
        }
        g_autoptr(JsonObject) route = dcn_kube_parse_object(out, strlen(out), obj, error);
        if (!route)
            return NULL;
        JsonObject *spec = dcn_json_obj(route, "spec");
        const char *host = dcn_json_str(spec, "host");
        if (host)
            return g_strdup_printf("%s://%s", dcn_json_obj(spec, "tls") ? "https" : "http", host);
    }
    return NULL;
}

/* The Service port whose /-/status tells what the pods serve. */
static const char *verify_port(const DcnRendered *rd)
{
    return rd->ops_port ? "ops" : rd->service_port;
}

/* The namespace for the Service proxy path. */
static char *effective_namespace(DcnRollout *r)
{
    if (r->kube.ns)
        return g_strdup(r->kube.ns);
    const char *argv[] = {"config", "view", "--minify", "-o", "jsonpath={..namespace}", NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) local = NULL;
    if (dcn_kube_run(&r->kube, DCN_KUBE_LOCAL, 30, &out, NULL, &local, argv) && *g_strstrip(out))
        return g_strdup(out);
    return g_strdup("default");
}

static gboolean verify(DcnRollout *r, const DcnRendered *rd, const DcnRolloutTarget *t, const char *url,
                       char **served, GError **error)
{
    DcnStageCtx *ctx = r->ctx;
    const char *ref = ctx->def->ref;
    g_autofree char *ns = url ? NULL : effective_namespace(r);
    gint64 deadline = g_get_monotonic_time() + (gint64)r->timeout * G_USEC_PER_SEC;
    guint streak = 0, attempts = 0;
    g_autofree char *last = NULL; /* what the last failed attempt saw */
    for (;;) {
        g_autofree char *body = NULL;
        g_autoptr(GError) local = NULL;
        DcnServed s = {0};
        gboolean fetched = url ? dcn_verify_fetch_url(url, ctx->def->deploy_ca_file, 10, &body, &local)
                               : dcn_verify_fetch_proxy(&r->kube, ns, rd->service, verify_port(rd), 30, &body, &local);
        attempts++;
        if (fetched && dcn_verify_parse_status(body, strlen(body), ref, &s, &local)) {
            gboolean good = s.ready && s.commit && (!t->commit || g_str_equal(s.commit, t->commit));
            if (good) {
                if (++streak >= VERIFY_STREAK) {
                    *served = g_steal_pointer(&s.commit);
                    return TRUE;
                }
            } else {
                streak = 0;
                g_free(last);
                last = !s.commit  ? g_strdup_printf("ref %s is not served", ref)
                       : !s.ready ? g_strdup_printf("not ready (serving %s)", s.commit)
                                  : g_strdup_printf("serves %s %s, expected %s", ref, s.commit, t->commit);
            }
            dcn_served_clear(&s);
        } else {
            streak = 0;
            g_free(last);
            last = g_strdup(local->message);
        }
        if (streak == 0 && last && attempts % 5 == 1)
            dcn_progress_event(&ctx->progress, "verify", "attempt=%u seen=\"%s\"", attempts, last);
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                        "verify %s/-/status: after %u s and %u attempts: %s", url ? url : "(service proxy)",
                        r->timeout, attempts, last ? last : "no answer");
            return FALSE;
        }
        if (!dcn_interruptible_sleep(streak ? 250 : 1000) && dcn_interrupt_check(error)) {
            g_prefix_error(error, "verify: ");
            return FALSE;
        }
    }
}

/* ---- history ---- */

static char *history_path(DcnRollout *r) { return g_build_filename(r->out_dir, "history.json", NULL); }

JsonArray *dcn_rollout_history(DcnRollout *r)
{
    g_autofree char *path = history_path(r);
    g_autoptr(JsonParser) p = json_parser_new();
    if (!g_file_test(path, G_FILE_TEST_EXISTS) || !json_parser_load_from_file(p, path, NULL))
        return json_array_new();
    JsonNode *root = json_parser_get_root(p);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonArray *d = dcn_json_arr(o, "rollouts");
    return d ? json_array_ref(d) : json_array_new();
}

static gboolean history_add(DcnRollout *r, const DcnRolloutTarget *t, GError **error)
{
    g_autoptr(JsonArray) old = dcn_rollout_history(r);
    JsonArray *keep = json_array_new();
    guint n = json_array_get_length(old);
    for (guint i = n > HISTORY_MAX - 1 ? n - (HISTORY_MAX - 1) : 0; i < n; i++)
        json_array_add_element(keep, json_node_copy(json_array_get_element(old, i)));
    JsonObject *last = n ? dcn_json_arr_obj(old, n - 1) : NULL;
    if (last && g_strcmp0(dcn_json_str(last, "image"), t->image) == 0) {
        json_array_unref(keep);
        return TRUE; /* a rerun: nothing new */
    }
    JsonObject *e = json_object_new();
    json_object_set_string_member(e, "image", t->image);
    if (t->version)
        json_object_set_string_member(e, "version", t->version);
    if (t->commit)
        json_object_set_string_member(e, "commit", t->commit);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
    json_object_set_string_member(e, "time", ts);
    json_array_add_object_element(keep, e);

    JsonObject *root = json_object_new();
    json_object_set_array_member(root, "rollouts", keep);
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(node, root);
    g_autofree char *text = json_to_string(node, TRUE);
    g_autofree char *path = history_path(r);
    if (!g_file_set_contents(path, text, -1, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

/* ---- the rollout ---- */

static void print_dry_run(DcnRollout *r, const DcnRendered *rd)
{
    printf("# dcn-builder %s --dry-run: nothing was changed. The commands (the read-only ones ran):\n",
           r->ctx->progress.stage);
    guint n = json_array_get_length(r->kube.commands);
    for (guint i = 0; i < n; i++)
        printf("#   %s\n", json_array_get_string_element(r->kube.commands, i));
    printf("# The manifests it would apply (%s):\n", rd->path);
    fputs(rd->yaml, stdout);
    if (*rd->yaml && rd->yaml[strlen(rd->yaml) - 1] != '\n')
        putchar('\n');
    fflush(stdout);
}

/* What runs now (for the report and for undo): the Deployment's image, or
 * NULL when there is none. A dry run goes on without a cluster it cannot
 * read. */
static gboolean read_current(DcnRollout *r, const DcnRendered *rd, JsonObject **current, GError **error)
{
    gboolean found = FALSE;
    g_autoptr(GError) get_error = NULL;
    *current = dcn_rollout_get_deployment(r, rd, &found, &get_error);
    if (get_error) {
        if (!r->ctx->dry_run) {
            g_propagate_error(error, g_steal_pointer(&get_error));
            return FALSE;
        }
        dcn_progress_event(&r->ctx->progress, "warning", "what=\"cannot read the cluster: %s\"", get_error->message);
    }
    return TRUE;
}

/* Known before anything changes: in the result also when a later step
 * fails (the playbooks undo to previous_image after a failed rollout). */
static void record_target(DcnRollout *r, const DcnRendered *rd, const DcnRolloutTarget *t, const char *previous)
{
    JsonObject *res = r->ctx->result;
    json_object_set_string_member(res, "image", t->image);
    if (t->version)
        json_object_set_string_member(res, "version", t->version);
    if (t->commit)
        json_object_set_string_member(res, "commit", t->commit);
    if (previous)
        json_object_set_string_member(res, "previous_image", previous);
    else
        json_object_set_null_member(res, "previous_image");
    json_object_set_string_member(res, "deployment", rd->deployment);
    json_object_set_string_member(res, "kubectl", r->kube.cmd);
    if (r->kube.ns)
        json_object_set_string_member(res, "namespace", r->kube.ns);
    json_object_set_string_member(res, "manifests", r->manifests);
    json_object_set_string_member(res, "rendered", rd->path);
}

/* kubectl apply; *objects: what it reported, *changed: whether any changed. */
static gboolean apply(DcnRollout *r, const DcnRendered *rd, JsonArray **objects, gboolean *changed, GError **error)
{
    const char *apply_argv[] = {"apply", "-f", rd->path, NULL};
    g_autofree char *apply_out = NULL;
    if (!dcn_kube_run(&r->kube, DCN_KUBE_CHANGE, 300, &apply_out, NULL, error, apply_argv))
        return FALSE;
    *objects = dcn_kube_parse_apply(apply_out, changed);
    if (r->ctx->dry_run)
        *changed = FALSE;
    else
        dcn_progress_event(&r->ctx->progress, "applied", "changed=%s objects=%u", *changed ? "true" : "false",
                           json_array_get_length(*objects));
    return TRUE;
}

/* kubectl rollout status, for at most the rollout timeout. */
static gboolean wait_rollout(DcnRollout *r, const DcnRendered *rd, const char *deploy_obj, GError **error)
{
    g_autofree char *timeout_arg = g_strdup_printf("--timeout=%us", r->timeout);
    const char *status_argv[] = {"rollout", "status", deploy_obj, timeout_arg, NULL};
    g_autofree char *status_out = NULL;
    gint64 wait_start = g_get_monotonic_time();
    if (!dcn_kube_run(&r->kube, DCN_KUBE_CHANGE, r->timeout + 30, &status_out, NULL, error, status_argv)) {
        g_prefix_error(error,
                       "rollout of %s did not complete within %u s (the old pods keep serving: maxUnavailable 0; "
                       "look at `%s describe %s`, or `dcn-builder undo`): ",
                       deploy_obj, r->timeout, r->kube.cmd, deploy_obj);
        return FALSE;
    }
    double rollout_s = (double)(g_get_monotonic_time() - wait_start) / 1e6;
    if (!r->ctx->dry_run)
        dcn_progress_event(&r->ctx->progress, "rolled-out", "deployment=%s seconds=%.1f", rd->deployment, rollout_s);
    return TRUE;
}

/* Checks that the hoster serves t (and records the rollout in the history);
 * a dry run only lists the request it would make. *url: where it asked
 * (NULL: the Service proxy); *served: the commit it saw. */
static gboolean verify_served(DcnRollout *r, const DcnRendered *rd, const DcnRolloutTarget *t, char **url,
                              char **served, GError **error)
{
    DcnStageCtx *ctx = r->ctx;
    g_autoptr(GError) url_error = NULL;
    *url = verify_url(r, rd, &url_error);
    if (url_error) {
        g_propagate_error(error, g_steal_pointer(&url_error));
        return FALSE;
    }
    if (ctx->dry_run) {
        g_autofree char *what = *url ? g_strdup_printf("GET %s/-/status", *url)
                                     : g_strdup_printf("%s get --raw /api/v1/namespaces/%s/services/%s:%s/proxy/-/status",
                                                       r->kube.cmd, r->kube.ns ? r->kube.ns : "<context namespace>",
                                                       rd->service, verify_port(rd));
        g_autofree char *line = g_strdup_printf("%s  # expect ready, %s -> %s", what, ctx->def->ref,
                                                t->commit ? t->commit : "(any commit)");
        json_array_add_string_element(r->kube.commands, line);
        return TRUE;
    }
    if (!verify(r, rd, t, *url, served, error))
        return FALSE;
    dcn_progress_event(&ctx->progress, "verified", "url=%s ref=%s commit=%s", *url ? *url : "(service proxy)",
                       ctx->def->ref, *served);
    return history_add(r, t, error);
}

/* The rest of the result, and the line (or the dry run's listing) on stdout. */
static void report(DcnRollout *r, const DcnRendered *rd, const DcnRolloutTarget *t, JsonArray *objects,
                   gboolean changed, const char *url, const char *served, const char *deploy_obj, gint64 start)
{
    DcnStageCtx *ctx = r->ctx;
    JsonObject *res = ctx->result;
    json_object_set_array_member(res, "objects", objects);
    if (url)
        json_object_set_string_member(res, "url", url);
    if (served)
        json_object_set_string_member(res, "served_commit", served);
    json_object_set_boolean_member(res, "dry_run", ctx->dry_run);
    json_object_set_boolean_member(res, "changed", changed);
    json_object_set_double_member(res, "seconds", (double)(g_get_monotonic_time() - start) / 1e6);
    json_object_set_array_member(res, "commands", json_array_ref(r->kube.commands));
    if (ctx->dry_run) {
        if (ctx->json)
            json_object_set_string_member(res, "manifests_yaml", rd->yaml);
        else
            print_dry_run(r, rd);
    } else if (!ctx->json) {
        printf("%s %s%s%s%s: %s serves %s %s%s%s\n", changed ? "rolled out" : "already running", t->image,
               t->version ? " (version " : "", t->version ? t->version : "", t->version ? ")" : "", deploy_obj,
               ctx->def->ref, served, url ? " at " : "", url ? url : "");
    }
}

gboolean dcn_rollout_run(DcnRollout *r, const DcnRolloutTarget *t, GError **error)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(DcnRendered) rd = dcn_rollout_render(r, t, error);
    if (!rd)
        return FALSE;
    dcn_progress_event(&r->ctx->progress, "rendered", "file=%s deployment=%s image=%s", rd->path, rd->deployment,
                       t->image);
    g_autoptr(JsonObject) current = NULL;
    if (!read_current(r, rd, &current, error))
        return FALSE;
    record_target(r, rd, t, current ? dcn_rollout_object_image(current) : NULL);

    g_autoptr(JsonArray) objects = NULL;
    gboolean changed = FALSE;
    g_autofree char *deploy_obj = g_strdup_printf("deployment/%s", rd->deployment);
    g_autofree char *url = NULL, *served = NULL;
    if (!apply(r, rd, &objects, &changed, error) || !wait_rollout(r, rd, deploy_obj, error) ||
        !verify_served(r, rd, t, &url, &served, error))
        return FALSE;
    report(r, rd, t, g_steal_pointer(&objects), changed, url, served, deploy_obj, start);
    return TRUE;
}

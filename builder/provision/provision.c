/* provision: the provision stage, the target record and the helpers the
 * providers share (inventory, SSH key, cloud-init user data).
 * See provision.h. */
#include "provision.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "plan.h"
#include "state.h"
#include "template.h"

#ifndef DCN_SOURCE_BUILD_VM
#define DCN_SOURCE_BUILD_VM "manifests/build-vm"
#endif

static const DcnProvider *const providers[] = {&dcn_provider_local, &dcn_provider_ssh, &dcn_provider_libvirt,
                                               &dcn_provider_kubevirt};

const DcnProvider *dcn_provider_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(providers); i++)
        if (name && strcmp(providers[i]->name, name) == 0)
            return providers[i];
    return NULL;
}

/* ---- target ---- */

void dcn_target_clear(DcnTarget *t)
{
    g_free(t->provider);
    g_free(t->host);
    g_free(t->user);
    g_free(t->key);
    g_free(t->known_hosts);
    g_free(t->proxy_command);
    g_strfreev(t->options);
    *t = (DcnTarget){0};
}

char *dcn_target_describe(const DcnTarget *t)
{
    if (t->local)
        return g_strdup("local");
    return g_strdup_printf("%s%s%s:%u", t->user ? t->user : "", t->user ? "@" : "", t->host, t->port ? t->port : 22);
}

static JsonObject *target_to_json(const DcnTarget *t)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "provider", t->provider);
    json_object_set_boolean_member(o, "local", t->local);
    if (!t->local) {
        json_object_set_string_member(o, "host", t->host);
        json_object_set_int_member(o, "port", t->port ? t->port : 22);
        if (t->user)
            json_object_set_string_member(o, "user", t->user);
        if (t->key)
            json_object_set_string_member(o, "key", t->key);
        if (t->known_hosts)
            json_object_set_string_member(o, "known_hosts", t->known_hosts);
        json_object_set_boolean_member(o, "accept_new", t->accept_new);
        if (t->proxy_command)
            json_object_set_string_member(o, "proxy_command", t->proxy_command);
        JsonArray *a = json_array_new();
        for (char **s = t->options; s && *s; s++)
            json_array_add_string_element(a, *s);
        json_object_set_array_member(o, "options", a);
    }
    return o;
}

static gboolean target_from_json(JsonObject *o, DcnTarget *t)
{
    t->provider = g_strdup(dcn_json_str(o, "provider"));
    t->local = json_object_get_boolean_member_with_default(o, "local", FALSE);
    t->host = g_strdup(dcn_json_str(o, "host"));
    t->port = (guint)json_object_get_int_member_with_default(o, "port", 22);
    t->user = g_strdup(dcn_json_str(o, "user"));
    t->key = g_strdup(dcn_json_str(o, "key"));
    t->known_hosts = g_strdup(dcn_json_str(o, "known_hosts"));
    t->accept_new = json_object_get_boolean_member_with_default(o, "accept_new", FALSE);
    t->proxy_command = g_strdup(dcn_json_str(o, "proxy_command"));
    JsonArray *a = dcn_json_arr(o, "options");
    GPtrArray *opts = g_ptr_array_new();
    for (guint i = 0; a && i < json_array_get_length(a); i++)
        g_ptr_array_add(opts, g_strdup(dcn_json_arr_str(a, i)));
    g_ptr_array_add(opts, NULL);
    t->options = (char **)g_ptr_array_free(opts, FALSE);
    return t->provider && (t->local || t->host);
}

/* The target the definition implies (before or without provision). */
static void target_planned(const DcnDefinition *def, DcnTarget *t)
{
    t->provider = g_strdup(def->provider);
    t->local = strcmp(def->provider, "local") == 0;
    if (t->local)
        return;
    gboolean vm = strcmp(def->provider, "ssh") != 0;
    t->host = g_strdup(vm ? "<address of the new VM>" : def->ssh_host);
    t->port = def->ssh_port ? def->ssh_port : 22;
    t->user = g_strdup(def->ssh_user ? def->ssh_user : vm ? def->vm_user : NULL);
    t->options = g_strdupv(def->ssh_options);
    t->known_hosts = g_strdup(def->ssh_known_hosts);
    t->key = g_strdup(def->ssh_key);
    if (vm) {
        g_autofree char *dir = g_build_filename(def->state_dir, "builder", NULL);
        g_free(t->key);
        t->key = g_build_filename(dir, "id_ed25519", NULL);
        if (!t->known_hosts)
            t->known_hosts = g_build_filename(dir, "known_hosts", NULL);
        t->accept_new = TRUE;
    }
}

gboolean dcn_target_load(const DcnDefinition *def, gboolean dry_run, DcnTarget *out, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    g_autoptr(JsonObject) rec = dcn_state_read_result(def, "provision", &local_error);
    if (rec) {
        JsonObject *t = dcn_json_obj(rec, "target");
        if (!t || !target_from_json(t, out)) {
            dcn_target_clear(out);
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "%s/provision.json: no usable \"target\" (run provision again)", def->state_dir),
                   FALSE;
        }
        if (strcmp(out->provider, def->provider) != 0) {
            g_autofree char *was = g_strdup(out->provider);
            dcn_target_clear(out);
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                               "the builder in %s was made by provider %s, the definition says %s: run teardown "
                               "first",
                               def->state_dir, was, def->provider),
                   FALSE;
        }
        return TRUE;
    }
    if (!g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return g_propagate_error(error, g_steal_pointer(&local_error)), FALSE;
    if (strcmp(def->provider, "local") == 0 || strcmp(def->provider, "ssh") == 0 || dry_run) {
        if (strcmp(def->provider, "ssh") == 0 && !def->ssh_host && !dry_run)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                               "provider ssh needs ssh.host (or --ssh-host)"),
                   FALSE;
        target_planned(def, out);
        return TRUE;
    }
    return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                       "no builder VM for %s %s (provider %s): run provision first (or run)", def->name, def->version,
                       def->provider),
           FALSE;
}

gboolean dcn_target_run_script(const DcnTarget *t, const char *script, guint timeout_s, DcnProgress *echo,
                               DcnCmdResult *res, GError **error)
{
    g_autoptr(GPtrArray) argv = NULL;
    if (t->local) {
        argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup("sh"));
        g_ptr_array_add(argv, g_strdup("-s"));
        g_ptr_array_add(argv, NULL);
    } else {
        argv = dcn_ssh_argv(t, NULL, "sh -s");
    }
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .input = script, .timeout_s = timeout_s, .echo = echo};
    return dcn_cmd_run(&cmd, res, error);
}

/* ---- provision context ---- */

char *dcn_provision_path(const DcnProvision *p, const char *file) { return g_build_filename(p->dir, file, NULL); }

char *dcn_provision_templates(const DcnDefinition *def)
{
    if (def->vm_templates)
        return g_strdup(def->vm_templates);
    /* installed: <prefix>/bin/dcn-builder -> <prefix>/share/dcn/manifests/build-vm */
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe) {
        g_autofree char *bin = g_path_get_dirname(exe);
        g_autofree char *dir = g_build_filename(bin, "..", "share", "dcn", "manifests", "build-vm", NULL);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR))
            return g_canonicalize_filename(dir, NULL);
    }
    return g_strdup(DCN_SOURCE_BUILD_VM);
}

gboolean dcn_provision_open(DcnProvision *p, DcnStageCtx *stage, gboolean create, GError **error)
{
    *p = (DcnProvision){.stage = stage, .def = stage->def};
    p->dir = g_build_filename(stage->def->state_dir, "builder", NULL);
    g_autofree char *inv = dcn_provision_path(p, "inventory.json");
    if (g_file_test(inv, G_FILE_TEST_EXISTS)) {
        g_autoptr(JsonParser) parser = json_parser_new();
        if (!json_parser_load_from_file(parser, inv, error))
            return g_prefix_error(error, "reading %s: ", inv), FALSE;
        JsonNode *root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: not a JSON object", inv), FALSE;
        p->inventory = json_object_ref(json_node_get_object(root));
    } else {
        p->inventory = json_object_new();
    }
    if (create && !stage->dry_run && g_mkdir_with_parents(p->dir, 0700) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "creating %s: %s", p->dir,
                           g_strerror(errno)),
               FALSE;
    return TRUE;
}

void dcn_provision_clear(DcnProvision *p)
{
    g_free(p->dir);
    if (p->inventory)
        json_object_unref(p->inventory);
    dcn_target_clear(&p->target);
    *p = (DcnProvision){0};
}

gboolean dcn_provision_save(DcnProvision *p, GError **error)
{
    if (p->stage->dry_run)
        return TRUE;
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, p->inventory);
    g_autofree char *text = json_to_string(node, TRUE);
    g_autofree char *path = dcn_provision_path(p, "inventory.json");
    if (!g_file_set_contents(path, text, -1, error))
        return g_prefix_error(error, "writing %s: ", path), FALSE;
    return TRUE;
}

gboolean dcn_provision_record(DcnProvision *p, const char *key, const char *name, GError **error)
{
    JsonArray *a = json_object_has_member(p->inventory, key) ? json_object_get_array_member(p->inventory, key) : NULL;
    if (!a) {
        a = json_array_new();
        json_object_set_array_member(p->inventory, key, a);
    }
    for (guint i = 0; i < json_array_get_length(a); i++)
        if (g_strcmp0(json_array_get_string_element(a, i), name) == 0)
            return TRUE;
    json_array_add_string_element(a, name);
    return dcn_provision_save(p, error);
}

gboolean dcn_provision_exec(DcnProvision *p, const DcnCmd *cmd, DcnCmdResult *res, GError **error)
{
    if (p->stage->dry_run) {
        g_autofree char *line = dcn_cmd_to_string(cmd->argv);
        dcn_plan(p->stage, "would run: %s", line);
        if (cmd->input) {
            g_autofree char *what = g_strdup_printf("(stdin of %s)", cmd->argv[0]);
            dcn_plan_file(p->stage, what, cmd->input);
        }
        if (res) {
            dcn_cmd_result_clear(res);
            res->status = 0;
            res->out = g_strdup("");
            res->err = g_strdup("");
        }
        return TRUE;
    }
    return dcn_cmd_run(cmd, res, error);
}

gboolean dcn_provision_ssh_key(DcnProvision *p, char **out_public, GError **error)
{
    g_autofree char *key = dcn_provision_path(p, "id_ed25519");
    g_autofree char *pub = g_strconcat(key, ".pub", NULL);
    if (!g_file_test(pub, G_FILE_TEST_EXISTS) || !g_file_test(key, G_FILE_TEST_EXISTS)) {
        if (!p->stage->dry_run && !dcn_provision_record(p, "files", "id_ed25519", error))
            return FALSE;
        g_unlink(key);
        g_unlink(pub);
        g_autofree char *comment = g_strdup_printf("dcn-builder@%s", p->def->vm_name);
        const char *argv[] = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key, NULL};
        DcnCmd cmd = {.argv = argv, .timeout_s = 60};
        if (!dcn_provision_exec(p, &cmd, NULL, error))
            return g_prefix_error(error, "generating the builder's SSH key: "), FALSE;
        if (p->stage->dry_run) {
            *out_public = g_strdup_printf("ssh-ed25519 <public key generated by ssh-keygen> %s", comment);
            return TRUE;
        }
        p->changed = TRUE;
        dcn_progress_event(&p->stage->progress, "ssh-key", "path=%s", key);
    }
    g_autofree char *text = NULL;
    if (!g_file_get_contents(pub, &text, NULL, error))
        return g_prefix_error(error, "reading the builder's SSH key: "), FALSE;
    *out_public = g_strdup(g_strstrip(text));
    return TRUE;
}

char *dcn_provision_user_data(const DcnDefinition *def, const char *public_key, GError **error)
{
    g_autoptr(GHashTable) vars = dcn_template_vars_new();
    g_autofree char *key = dcn_template_yaml_str(public_key);
    g_autofree char *host = dcn_template_yaml_str(def->vm_name);
    g_autofree char *user = dcn_template_yaml_str(def->ssh_user ? def->ssh_user : def->vm_user);
    dcn_template_set(vars, "SSH_PUBLIC_KEY", key);
    dcn_template_set(vars, "HOSTNAME", host);
    dcn_template_set(vars, "VM_USER", user);
    dcn_template_set(vars, "CLOUD_CONFIG", def->vm_cloud_config && *def->vm_cloud_config ? def->vm_cloud_config : NULL);
    g_autofree char *dir = dcn_provision_templates(def);
    return dcn_template_render_file(dir, "user-data.yaml", vars, error);
}

/* ---- the stage ---- */

gboolean dcn_stage_provision(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    const DcnProvider *prov = dcn_provider_find(def->provider);
    if (!prov)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "unknown provider '%s'",
                           def->provider),
               FALSE;
    dcn_interrupt_install();
    DcnProvision p;
    gboolean ok = dcn_provision_open(&p, ctx, TRUE, error);
    if (ok) {
        const char *was = dcn_json_str(p.inventory, "provider");
        if (was && strcmp(was, def->provider) != 0) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                        "a builder made by provider %s may still exist (%s/inventory.json): run teardown first", was,
                        p.dir);
            ok = FALSE;
        }
    }
    if (ok && !json_object_has_member(p.inventory, "provider")) {
        json_object_set_string_member(p.inventory, "provider", def->provider);
        json_object_set_string_member(p.inventory, "vm", def->vm_name);
        ok = dcn_provision_save(&p, error);
    }
    if (ok) {
        dcn_progress_event(&ctx->progress, "start", "provider=%s vm=%s dry_run=%s", def->provider,
                           strcmp(def->provider, "local") == 0 || strcmp(def->provider, "ssh") == 0 ? "-" : def->vm_name,
                           ctx->dry_run ? "true" : "false");
        ok = prov->up(&p, error);
    }
    if (ok) {
        g_autofree char *where = dcn_target_describe(&p.target);
        dcn_progress_event(&ctx->progress, "ready", "provider=%s target=%s changed=%s", def->provider, where,
                           p.changed && !ctx->dry_run ? "true" : "false");
        json_object_set_string_member(ctx->result, "provider", def->provider);
        if (strcmp(def->provider, "libvirt") == 0 || strcmp(def->provider, "kubevirt") == 0)
            json_object_set_string_member(ctx->result, "vm", def->vm_name);
        json_object_set_string_member(ctx->result, "address", where);
        json_object_set_object_member(ctx->result, "target", target_to_json(&p.target));
        json_object_set_boolean_member(ctx->result, "changed", p.changed && !ctx->dry_run);
    } else {
        g_prefix_error(error, "%s: ", def->provider);
    }
    dcn_provision_clear(&p);
    return ok;
}

/* provision/kubevirt: the build VM as a KubeVirt VirtualMachine.
 * provision renders virtualmachine.yaml (or virtualmachine-containerdisk.yaml)
 * and secret.yaml from vm.templates into <state_dir>/builder/, applies them
 * with kubevirt.kubectl (kubectl or oc), waits until the VMI is Running and
 * Ready with an address (status.interfaces[].ipAddress), then until SSH
 * answers. teardown deletes the VirtualMachine (its DataVolume and PVC are
 * owned by it), the DataVolume and the Secret, ignoring what is gone.
 * vm.image forms:
 *   http(s)://…/rhel-9-x86_64-kvm.qcow2    DataVolume source.http
 *   datasource:[NAMESPACE/]NAME            DataVolume sourceRef (default ns openshift-virtualization-os-images)
 *   pvc:NAMESPACE/NAME                     DataVolume source.pvc (clone)
 *   containerdisk:IMAGE or docker://IMAGE  containerDisk (ephemeral root disk) */
#include "plan.h"
#include "provision.h"

#include <string.h>

#include "error.h"
#include "json.h"
#include "template.h"

static char *secret_name(const DcnDefinition *def) { return g_strdup_printf("%s-cloud-init", def->vm_name); }
static char *disk_name(const DcnDefinition *def) { return g_strdup_printf("%s-rootdisk", def->vm_name); }

/* The DataVolume's source lines for vm.image, or the containerDisk image. */
static gboolean image_source(const char *image, char **out_dv_source, char **out_container, GError **error)
{
    *out_dv_source = *out_container = NULL;
    if (!image)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "provider kubevirt needs vm.image: a RHEL KVM guest image as an http(s) URL, "
                           "datasource:[NAMESPACE/]NAME, pvc:NAMESPACE/NAME or containerdisk:IMAGE"),
               FALSE;
    if (g_str_has_prefix(image, "http://") || g_str_has_prefix(image, "https://")) {
        g_autofree char *url = dcn_template_yaml_str(image);
        *out_dv_source = g_strdup_printf("source:\n  http:\n    url: %s", url);
    } else if (g_str_has_prefix(image, "datasource:") || g_str_has_prefix(image, "pvc:")) {
        gboolean ds = g_str_has_prefix(image, "datasource:");
        const char *rest = strchr(image, ':') + 1;
        const char *slash = strchr(rest, '/');
        if (!*rest || (slash && (!slash[1] || slash == rest)) || (!ds && !slash))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                               "vm.image '%s': expected %s", image,
                               ds ? "datasource:[NAMESPACE/]NAME" : "pvc:NAMESPACE/NAME"),
                   FALSE;
        g_autofree char *ns = slash ? g_strndup(rest, (gsize)(slash - rest)) : g_strdup("openshift-virtualization-os-images");
        g_autofree char *qns = dcn_template_yaml_str(ns);
        g_autofree char *qname = dcn_template_yaml_str(slash ? slash + 1 : rest);
        *out_dv_source = ds ? g_strdup_printf("sourceRef:\n  kind: DataSource\n  name: %s\n  namespace: %s", qname, qns)
                            : g_strdup_printf("source:\n  pvc:\n    name: %s\n    namespace: %s", qname, qns);
    } else if (g_str_has_prefix(image, "containerdisk:") || g_str_has_prefix(image, "docker://")) {
        const char *ref = strchr(image, ':') + 1;
        if (g_str_has_prefix(image, "docker://"))
            ref = image + strlen("docker://");
        if (!*ref)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                               "vm.image '%s': no image after the prefix", image),
                   FALSE;
        *out_container = dcn_template_yaml_str(ref);
    } else {
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "vm.image '%s': for provider kubevirt use an http(s) URL of a qcow2 image, "
                           "datasource:[NAMESPACE/]NAME, pvc:NAMESPACE/NAME or containerdisk:IMAGE",
                           image),
               FALSE;
    }
    return TRUE;
}

gboolean dcn_kubevirt_image_check(const char *image, GError **error)
{
    g_autofree char *dv_source = NULL, *container = NULL;
    return image_source(image, &dv_source, &container, error);
}

gboolean dcn_kubevirt_render(const DcnDefinition *def, const char *user_data, char **out_vm, char **out_secret,
                             GError **error)
{
    g_autofree char *dv_source = NULL, *container = NULL;
    if (!image_source(def->vm_image, &dv_source, &container, error))
        return FALSE;
    g_autoptr(GHashTable) v = dcn_template_vars_new();
    g_autofree char *sname = secret_name(def), *dname = disk_name(def);
#define Q(name, value)                                                                                                 \
    do {                                                                                                               \
        g_autofree char *q_ = dcn_template_yaml_str(value);                                                            \
        dcn_template_set(v, name, q_);                                                                                 \
    } while (0)
    Q("VM_NAME", def->vm_name);
    Q("NAMESPACE", def->kubevirt_namespace);
    Q("SECRET_NAME", sname);
    Q("DISK_NAME", dname);
    Q("IMAGE_NAME", def->name);
    Q("IMAGE_VERSION", def->version);
    Q("USERDATA", user_data);
    if (def->kubevirt_storage_class)
        Q("STORAGE_CLASS", def->kubevirt_storage_class);
    else
        dcn_template_set(v, "STORAGE_CLASS", NULL);
#undef Q
    dcn_template_setf(v, "CPUS", "%u", def->vm_cpus);
    dcn_template_setf(v, "MEMORY", "%uMi", def->vm_memory_mib);
    dcn_template_setf(v, "DISK_SIZE", "%uGi", def->vm_disk_gib);
    dcn_template_set(v, "DV_SOURCE", dv_source);
    dcn_template_set(v, "CONTAINER_IMAGE", container);
    g_autofree char *dir = dcn_provision_templates(def);
    g_autofree char *vm =
        dcn_template_render_file(dir, container ? "virtualmachine-containerdisk.yaml" : "virtualmachine.yaml", v, error);
    if (!vm)
        return FALSE;
    g_autofree char *secret = dcn_template_render_file(dir, "secret.yaml", v, error);
    if (!secret)
        return FALSE;
    *out_vm = g_steal_pointer(&vm);
    *out_secret = g_steal_pointer(&secret);
    return TRUE;
}

/* The kubectl/oc argv: cmd -n NS args... (NULL-terminated, in a GPtrArray). */
static GPtrArray *kubectl(const char *cmd, const char *ns, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup(cmd));
    g_ptr_array_add(a, g_strdup("-n"));
    g_ptr_array_add(a, g_strdup(ns));
    va_list ap;
    va_start(ap, ns);
    for (const char *s; (s = va_arg(ap, const char *));)
        g_ptr_array_add(a, g_strdup(s));
    va_end(ap);
    g_ptr_array_add(a, NULL);
    return a;
}

static gboolean write_file(DcnProvision *p, const char *name, const char *contents, char **out_path, GError **error)
{
    *out_path = dcn_provision_path(p, name);
    if (p->stage->dry_run) {
        dcn_plan_file(p->stage, *out_path, contents);
        return TRUE;
    }
    if (!dcn_provision_record(p, "files", name, error))
        return FALSE;
    if (!g_file_set_contents_full(*out_path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
        return g_prefix_error(error, "writing %s: ", *out_path), FALSE;
    return TRUE;
}

/* `kubectl get KIND NAME -o json`: the object, or NULL when it does not
 * exist (yet). Other failures are errors. */
static gboolean get_json(DcnProvision *p, const char *kind, const char *name, JsonParser **out, GError **error)
{
    const DcnDefinition *def = p->def;
    g_autoptr(GPtrArray) argv = kubectl(def->kubevirt_kubectl, def->kubevirt_namespace, "get", kind, name, "-o", "json", NULL);
    g_auto(DcnCmdResult) res = {.status = -1};
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 60, .allow_fail = TRUE};
    *out = NULL;
    if (!dcn_cmd_run(&cmd, &res, error))
        return FALSE;
    if (res.status != 0) {
        if (strstr(res.err, "NotFound") || strstr(res.err, "not found"))
            return TRUE;
        g_autofree char *line = dcn_cmd_to_string((const char *const *)argv->pdata);
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: exit status %d: %s", line, res.status,
                           g_strstrip(res.err)),
               FALSE;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, res.out, -1, error))
        return g_prefix_error(error, "kubectl get %s %s: ", kind, name), FALSE;
    if (!json_parser_get_root(parser) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "kubectl get %s %s: not an object", kind, name),
               FALSE;
    *out = g_steal_pointer(&parser);
    return TRUE;
}

/* Polls the VMI until Running + Ready with an address; *out_ip gets it
 * without any /prefix. Reports the DataVolume import while there is no VMI. */
static gboolean wait_vmi(DcnProvision *p, gint64 deadline, char **out_ip, GError **error)
{
    const DcnDefinition *def = p->def;
    g_autofree char *last = g_strdup("");
    g_autofree char *dname = disk_name(def);
    for (;;) {
        g_autoptr(JsonParser) vmi = NULL;
        if (!get_json(p, "virtualmachineinstance", def->vm_name, &vmi, error))
            return FALSE;
        g_autofree char *state = NULL;
        if (vmi) {
            JsonObject *status = dcn_json_obj(json_node_get_object(json_parser_get_root(vmi)), "status");
            const char *phase = dcn_json_str(status, "phase");
            gboolean ready = FALSE;
            JsonArray *conds = dcn_json_arr(status, "conditions");
            for (guint i = 0; conds && i < json_array_get_length(conds); i++) {
                JsonObject *c = json_array_get_object_element(conds, i);
                if (g_strcmp0(dcn_json_str(c, "type"), "Ready") == 0 && g_strcmp0(dcn_json_str(c, "status"), "True") == 0)
                    ready = TRUE;
            }
            const char *ip = NULL;
            JsonArray *ifs = dcn_json_arr(status, "interfaces");
            for (guint i = 0; ifs && i < json_array_get_length(ifs) && !ip; i++) {
                const char *a = dcn_json_str(json_array_get_object_element(ifs, i), "ipAddress");
                if (a && *a)
                    ip = a;
            }
            if (g_strcmp0(phase, "Failed") == 0 || g_strcmp0(phase, "Succeeded") == 0)
                return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                   "VirtualMachineInstance %s/%s is %s (kubectl describe vmi %s -n %s)",
                                   def->kubevirt_namespace, def->vm_name, phase, def->vm_name, def->kubevirt_namespace),
                       FALSE;
            if (g_strcmp0(phase, "Running") == 0 && ready && ip) {
                const char *slash = strchr(ip, '/');
                *out_ip = slash ? g_strndup(ip, (gsize)(slash - ip)) : g_strdup(ip);
                dcn_progress_event(&p->stage->progress, "vm", "name=%s phase=Running ready=true address=%s",
                                   def->vm_name, *out_ip);
                return TRUE;
            }
            state = g_strdup_printf("vmi=%s ready=%s address=%s", phase ? phase : "Pending", ready ? "true" : "false",
                                    ip ? ip : "-");
        } else {
            g_autoptr(JsonParser) dv = NULL;
            if (!get_json(p, "datavolume", dname, &dv, error))
                return FALSE;
            JsonObject *status = dv ? dcn_json_obj(json_node_get_object(json_parser_get_root(dv)), "status") : NULL;
            state = g_strdup_printf("vmi=none disk=%s progress=%s", dcn_json_str(status, "phase") ? dcn_json_str(status, "phase") : "-",
                                    dcn_json_str(status, "progress") ? dcn_json_str(status, "progress") : "-");
        }
        if (strcmp(state, last) != 0) {
            dcn_progress_event(&p->stage->progress, "vm", "name=%s %s", def->vm_name, state);
            g_free(last);
            last = g_strdup(state);
        }
        if (g_get_monotonic_time() > deadline)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "VirtualMachine %s/%s not running with an address after %u s (provider.timeout_s); "
                               "last state: %s",
                               def->kubevirt_namespace, def->vm_name, def->provider_timeout_s, last),
                   FALSE;
        if (!dcn_interruptible_sleep(3000))
            return dcn_interrupt_check(error), FALSE;
    }
}

static gboolean kubevirt_up(DcnProvision *p, GError **error)
{
    const DcnDefinition *def = p->def;
    gint64 deadline = g_get_monotonic_time() + (gint64)def->provider_timeout_s * G_USEC_PER_SEC;
    g_autofree char *pub = NULL, *user_data = NULL, *vm = NULL, *secret = NULL;
    if (!dcn_provision_ssh_key(p, &pub, error) || !(user_data = dcn_provision_user_data(def, pub, error)) ||
        !dcn_kubevirt_render(def, user_data, &vm, &secret, error))
        return FALSE;
    g_autofree char *vm_path = NULL, *secret_path = NULL;
    if (!write_file(p, "secret.yaml", secret, &secret_path, error) ||
        !write_file(p, "virtualmachine.yaml", vm, &vm_path, error))
        return FALSE;
    g_autofree char *sname = secret_name(def), *dname = disk_name(def);
    g_autofree char *o_vm = g_strdup_printf("virtualmachine/%s", def->vm_name);
    g_autofree char *o_secret = g_strdup_printf("secret/%s", sname);
    g_autofree char *o_dv = g_strdup_printf("datavolume/%s", dname);
    if (!p->stage->dry_run) {
        json_object_set_string_member(p->inventory, "kubectl", def->kubevirt_kubectl);
        json_object_set_string_member(p->inventory, "namespace", def->kubevirt_namespace);
        if (!dcn_provision_record(p, "objects", o_secret, error) || !dcn_provision_record(p, "objects", o_vm, error) ||
            !dcn_provision_record(p, "objects", o_dv, error))
            return FALSE;
    }
    g_autoptr(GPtrArray) apply =
        kubectl(def->kubevirt_kubectl, def->kubevirt_namespace, "apply", "-f", secret_path, "-f", vm_path, NULL);
    g_auto(DcnCmdResult) res = {.status = -1};
    DcnCmd cmd = {.argv = (const char *const *)apply->pdata, .timeout_s = 120};
    if (!dcn_provision_exec(p, &cmd, &res, error))
        return FALSE;
    if (strstr(res.out, "created") || strstr(res.out, "configured"))
        p->changed = TRUE;
    if (!p->stage->dry_run)
        dcn_progress_event(&p->stage->progress, "applied", "namespace=%s objects=\"%s %s\" changed=%s",
                           def->kubevirt_namespace, o_secret, o_vm, p->changed ? "true" : "false");

    g_autofree char *ip = NULL;
    if (p->stage->dry_run) {
        g_autoptr(GPtrArray) get =
            kubectl(def->kubevirt_kubectl, def->kubevirt_namespace, "get", "virtualmachineinstance", def->vm_name, "-o", "json", NULL);
        g_autofree char *line = dcn_cmd_to_string((const char *const *)get->pdata);
        dcn_plan(p->stage, "would poll up to %u s until the VMI is Running and Ready with status.interfaces[].ipAddress: %s",
                 def->provider_timeout_s, line);
        ip = g_strdup("<VMI address>");
    } else if (!wait_vmi(p, deadline, &ip, error)) {
        return FALSE;
    }
    DcnTarget *t = &p->target;
    t->provider = g_strdup("kubevirt");
    t->port = def->ssh_port ? def->ssh_port : 22;
    t->user = g_strdup(def->ssh_user ? def->ssh_user : def->vm_user);
    t->key = dcn_provision_path(p, "id_ed25519");
    t->known_hosts = def->ssh_known_hosts ? g_strdup(def->ssh_known_hosts) : dcn_provision_path(p, "known_hosts");
    t->accept_new = TRUE;
    t->options = g_strdupv(def->ssh_options);
    if (strcmp(def->kubevirt_ssh_via, "virtctl") == 0) {
        /* from outside the cluster: tunnel through the API server */
        t->host = g_strdup_printf("vm.%s.%s", def->vm_name, def->kubevirt_namespace);
        /* -n NS and vm/NAME: older virtctl rejects the vm/NAME/NS form */
        t->proxy_command = g_strdup_printf("virtctl -n %s port-forward --stdio=true vm/%s %u", def->kubevirt_namespace,
                                           def->vm_name, t->port);
    } else {
        t->host = g_steal_pointer(&ip);
    }
    gint64 left = (deadline - g_get_monotonic_time()) / G_USEC_PER_SEC;
    return dcn_ssh_wait(p, t, left > 30 ? (guint)left : 30, error);
}

static gboolean kubevirt_down(DcnProvision *p, GError **error)
{
    const DcnDefinition *def = p->def;
    const char *cmdname = dcn_json_str(p->inventory, "kubectl");
    const char *ns = dcn_json_str(p->inventory, "namespace");
    g_autoptr(GPtrArray) argv = kubectl(cmdname ? cmdname : def->kubevirt_kubectl, ns ? ns : def->kubevirt_namespace,
                                        "delete", "--ignore-not-found=true", "--wait=true", "--timeout=300s", NULL);
    g_ptr_array_remove_index(argv, argv->len - 1); /* the NULL */
    JsonArray *objects = dcn_json_arr(p->inventory, "objects");
    if (objects && json_array_get_length(objects)) {
        for (guint i = 0; i < json_array_get_length(objects); i++)
            g_ptr_array_add(argv, g_strdup(json_array_get_string_element(objects, i)));
    } else {
        /* no inventory (lost state dir): the names provision would have used */
        g_autofree char *sname = secret_name(def), *dname = disk_name(def);
        g_ptr_array_add(argv, g_strdup_printf("virtualmachine/%s", def->vm_name));
        g_ptr_array_add(argv, g_strdup_printf("datavolume/%s", dname));
        g_ptr_array_add(argv, g_strdup_printf("secret/%s", sname));
    }
    g_ptr_array_add(argv, NULL);
    g_auto(DcnCmdResult) res = {.status = -1};
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 360, .uninterruptible = TRUE};
    if (!dcn_provision_exec(p, &cmd, &res, error))
        return FALSE;
    if (strstr(res.out, "deleted")) {
        p->changed = TRUE;
        g_autofree char *out = g_strstrip(g_strdup(res.out));
        g_strdelimit(out, "\n", ';');
        g_strdelimit(out, "\"", '\'');
        dcn_progress_event(&p->stage->progress, "deleted", "objects=\"%s\"", out);
    }
    return TRUE;
}

const DcnProvider dcn_provider_kubevirt = {"kubevirt", kubevirt_up, kubevirt_down};

/* provision/libvirt: the build VM as a libvirt domain, driven with virsh
 * (libvirt.uri). Files in <state_dir>/builder/: disk.qcow2 (a copy-on-write
 * overlay on vm.image, grown to vm.disk_gib), seed.iso (cloud-init NoCloud:
 * user-data with the generated SSH key, meta-data; made with genisoimage),
 * domain.xml (from libvirt-domain.xml), console.log. `virsh define` then
 * `virsh start` (virt-install --import hangs on some hosts; define is
 * plain). Network "user": QEMU user networking with SSH forwarded from
 * 127.0.0.1:<port> (ssh.port, or a free port); any other name: that libvirt
 * network, the address from `virsh domifaddr --source lease`. teardown:
 * `virsh destroy`, `virsh undefine`, then the files go with the directory. */
#include "plan.h"
#include "provision.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "template.h"

static GPtrArray *virsh(const char *uri, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup("virsh"));
    g_ptr_array_add(a, g_strdup("-q"));
    g_ptr_array_add(a, g_strdup("-c"));
    g_ptr_array_add(a, g_strdup(uri));
    va_list ap;
    va_start(ap, uri);
    for (const char *s; (s = va_arg(ap, const char *));)
        g_ptr_array_add(a, g_strdup(s));
    va_end(ap);
    g_ptr_array_add(a, NULL);
    return a;
}

/* A local system URI (qemu:///system, qemu+unix:///system?...): its QEMU runs
 * as libvirt's user unless the domain says otherwise. */
static gboolean dcn_libvirt_system_uri(const char *uri)
{
    return uri && (g_str_has_prefix(uri, "qemu:///system") || g_str_has_prefix(uri, "qemu+unix:///system"));
}

char *dcn_libvirt_render(const DcnDefinition *def, const char *disk, const char *seed, const char *console,
                         guint ssh_port, GError **error)
{
    g_autoptr(GHashTable) v = dcn_template_vars_new();
#define X(name, value)                                                                                                 \
    do {                                                                                                               \
        const char *v_ = (value);                                                                                      \
        g_autofree char *x_ = v_ ? g_markup_escape_text(v_, -1) : NULL;                                                \
        dcn_template_set(v, name, x_);                                                                                 \
    } while (0)
    X("VM_NAME", def->vm_name);
    X("IMAGE_NAME", def->name);
    X("IMAGE_VERSION", def->version);
    X("DOMAIN_TYPE", def->libvirt_domain_type);
    X("DISK_PATH", disk);
    X("SEED_PATH", seed);
    X("CONSOLE_LOG", console);
    X("KERNEL", def->libvirt_kernel);
    X("INITRD", def->libvirt_kernel ? def->libvirt_initrd : NULL);
    X("CMDLINE", def->libvirt_kernel ? def->libvirt_cmdline : NULL);
#undef X
    dcn_template_setf(v, "MEMORY_MIB", "%u", def->vm_memory_mib);
    dcn_template_setf(v, "CPUS", "%u", def->vm_cpus);
    dcn_template_setf(v, "SSH_PORT", "%u", ssh_port);
    /* qemu:///system runs QEMU as its own user (libvirt-qemu), which can
     * neither traverse the private state directory (0700) nor read the
     * key-protected files in it; libvirt's relabelling would chown the disk
     * but not open the directories. Run this domain's QEMU as the user
     * running dcn-builder instead: it owns every file the VM uses. */
    if (dcn_libvirt_system_uri(def->libvirt_uri))
        dcn_template_setf(v, "SECLABEL",
                          "<seclabel type='static' model='dac' relabel='no'>\n"
                          "  <label>+%u:+%u</label>\n"
                          "</seclabel>",
                          (unsigned)geteuid(), (unsigned)getegid());
    else
        dcn_template_set(v, "SECLABEL", NULL);
    if (strcmp(def->libvirt_network, "user") == 0) {
        dcn_template_set(v, "NETWORK_INTERFACE", NULL);
        /* addr=0x10: the default slot would clash with the disks' */
        dcn_template_setf(v, "QEMU_COMMANDLINE",
                          "<qemu:commandline>\n"
                          "  <qemu:arg value='-netdev'/>\n"
                          "  <qemu:arg value='user,id=n0,hostfwd=tcp:127.0.0.1:%u-:22'/>\n"
                          "  <qemu:arg value='-device'/>\n"
                          "  <qemu:arg value='virtio-net-pci,netdev=n0,addr=0x10'/>\n"
                          "</qemu:commandline>",
                          ssh_port);
    } else {
        g_autofree char *net = g_markup_escape_text(def->libvirt_network, -1);
        dcn_template_setf(v, "NETWORK_INTERFACE",
                          "<interface type='network'>\n  <source network='%s'/>\n  <model type='virtio'/>\n</interface>",
                          net);
        dcn_template_set(v, "QEMU_COMMANDLINE", NULL);
    }
    g_autofree char *dir = dcn_provision_templates(def);
    return dcn_template_render_file(dir, "libvirt-domain.xml", v, error);
}

/* A free TCP port on 127.0.0.1 (for QEMU's hostfwd). */
static guint free_port(GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "finding a free loopback port: %s", g_strerror(errno));
        return 0;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

/* "running", "shut off", ... or NULL when the domain does not exist. */
static gboolean domstate(DcnProvision *p, const char *uri, char **out_state, GError **error)
{
    g_autoptr(GPtrArray) argv = virsh(uri, "domstate", p->def->vm_name, NULL);
    g_auto(DcnCmdResult) res = {.status = -1};
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 60, .allow_fail = TRUE, .uninterruptible = TRUE};
    *out_state = NULL;
    if (!dcn_cmd_run(&cmd, &res, error))
        return FALSE;
    if (res.status == 0) {
        *out_state = g_strstrip(g_strdup(res.out));
        return TRUE;
    }
    if (strstr(res.err, "failed to get domain") || strstr(res.err, "Domain not found"))
        return TRUE;
    return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "virsh -c %s domstate %s: %s", uri, p->def->vm_name,
                       g_strstrip(res.err)),
           FALSE;
}

/* qemu-img info: format and virtual size of vm.image. */
static gboolean image_info(const char *image, char **out_format, guint64 *out_size, GError **error)
{
    const char *argv[] = {"qemu-img", "info", "--output=json", image, NULL};
    g_auto(DcnCmdResult) res = {.status = -1};
    DcnCmd cmd = {.argv = argv, .timeout_s = 60};
    if (!dcn_cmd_run(&cmd, &res, error))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, res.out, -1, error))
        return g_prefix_error(error, "qemu-img info %s: ", image), FALSE;
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)) ? json_node_get_object(json_parser_get_root(parser)) : NULL;
    const char *fmt = o ? json_object_get_string_member_with_default(o, "format", NULL) : NULL;
    if (!fmt)
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "qemu-img info %s: no format", image), FALSE;
    *out_format = g_strdup(fmt);
    *out_size = (guint64)json_object_get_int_member_with_default(o, "virtual-size", 0);
    return TRUE;
}

/* vm.image as an absolute path (relative: to the definition's directory;
 * qemu-img would take it relative to the overlay). */
static char *image_path(const DcnDefinition *def)
{
    g_autofree char *base = def->path ? g_path_get_dirname(def->path) : g_get_current_dir();
    return g_canonicalize_filename(def->vm_image, base);
}

static gboolean make_disk(DcnProvision *p, const char *disk, GError **error)
{
    const DcnDefinition *def = p->def;
    if (g_file_test(disk, G_FILE_TEST_EXISTS))
        return TRUE;
    g_autofree char *image = image_path(def);
    g_autofree char *fmt = NULL;
    guint64 size = 0;
    if (p->stage->dry_run) {
        fmt = g_strdup("<format of vm.image>");
    } else if (!image_info(image, &fmt, &size, error)) {
        return FALSE;
    }
    guint64 want = (guint64)def->vm_disk_gib << 30;
    g_autofree char *sz = g_strdup_printf("%" G_GUINT64_FORMAT, MAX(want, size));
    if (!p->stage->dry_run && !dcn_provision_record(p, "files", "disk.qcow2", error))
        return FALSE;
    const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b", image, disk, sz, NULL};
    DcnCmd cmd = {.argv = argv, .timeout_s = 120};
    if (!dcn_provision_exec(p, &cmd, NULL, error))
        return g_prefix_error(error, "creating the VM disk: "), FALSE;
    p->changed = TRUE;
    return TRUE;
}

static gboolean make_seed(DcnProvision *p, const char *seed, GError **error)
{
    const DcnDefinition *def = p->def;
    g_autofree char *pub = NULL, *user_data = NULL;
    if (!dcn_provision_ssh_key(p, &pub, error) || !(user_data = dcn_provision_user_data(def, pub, error)))
        return FALSE;
    g_autoptr(GHashTable) v = dcn_template_vars_new();
    g_autofree char *host = dcn_template_yaml_str(def->vm_name);
    g_autofree char *uuid = g_uuid_string_random();
    g_autofree char *iid = g_strdup_printf("\"%s-%s\"", def->vm_name, uuid); /* new per seed: cloud-init runs */
    dcn_template_set(v, "HOSTNAME", host);
    dcn_template_set(v, "INSTANCE_ID", iid);
    g_autofree char *dir = dcn_provision_templates(def);
    g_autofree char *meta = dcn_template_render_file(dir, "meta-data.yaml", v, error);
    if (!meta)
        return FALSE;
    g_autofree char *ud_path = dcn_provision_path(p, "user-data"), *md_path = dcn_provision_path(p, "meta-data");
    if (p->stage->dry_run) {
        dcn_plan_file(p->stage, ud_path, user_data);
        dcn_plan_file(p->stage, md_path, meta);
    } else {
        if (!dcn_provision_record(p, "files", "user-data", error) || !dcn_provision_record(p, "files", "meta-data", error) ||
            !dcn_provision_record(p, "files", "seed.iso", error))
            return FALSE;
        if (!g_file_set_contents_full(ud_path, user_data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) ||
            !g_file_set_contents_full(md_path, meta, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
            return FALSE;
    }
    /* what cloud-localds does: an ISO9660 volume labelled cidata */
    const char *argv[] = {"genisoimage", "-quiet", "-output", seed, "-volid", "cidata", "-joliet", "-rock",
                          ud_path, md_path, NULL};
    DcnCmd cmd = {.argv = argv, .timeout_s = 60};
    if (!dcn_provision_exec(p, &cmd, NULL, error))
        return g_prefix_error(error, "making the cloud-init seed: "), FALSE;
    return TRUE;
}

/* `virsh domifaddr --source lease` until an IPv4 address shows. */
static gboolean wait_address(DcnProvision *p, const char *uri, gint64 deadline, char **out_ip, GError **error)
{
    g_autoptr(GPtrArray) argv = virsh(uri, "domifaddr", p->def->vm_name, "--source", "lease", NULL);
    if (p->stage->dry_run) {
        g_autofree char *line = dcn_cmd_to_string((const char *const *)argv->pdata);
        dcn_plan(p->stage, "would poll until the domain has an IPv4 address: %s", line);
        *out_ip = g_strdup("<domain address>");
        return TRUE;
    }
    for (;;) {
        g_auto(DcnCmdResult) res = {.status = -1};
        DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 60, .allow_fail = TRUE};
        if (!dcn_cmd_run(&cmd, &res, error))
            return FALSE;
        g_auto(GStrv) lines = g_strsplit(res.out, "\n", -1);
        for (char **l = lines; res.status == 0 && *l; l++) {
            g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " \t", -1);
            GPtrArray *w = g_ptr_array_new();
            for (char **x = f; *x; x++)
                if (**x)
                    g_ptr_array_add(w, *x);
            /* vnet0  52:54:00:xx  ipv4  192.168.122.45/24 */
            if (w->len >= 4 && strcmp(w->pdata[2], "ipv4") == 0) {
                const char *a = w->pdata[3], *slash = strchr(a, '/');
                *out_ip = slash ? g_strndup(a, (gsize)(slash - a)) : g_strdup(a);
            }
            g_ptr_array_free(w, TRUE);
            if (*out_ip)
                return TRUE;
        }
        if (g_get_monotonic_time() > deadline)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "domain %s has no address on network %s after %u s (provider.timeout_s)",
                               p->def->vm_name, p->def->libvirt_network, p->def->provider_timeout_s),
                   FALSE;
        if (!dcn_interruptible_sleep(2000))
            return dcn_interrupt_check(error), FALSE;
    }
}

static gboolean libvirt_up(DcnProvision *p, GError **error)
{
    const DcnDefinition *def = p->def;
    gint64 deadline = g_get_monotonic_time() + (gint64)def->provider_timeout_s * G_USEC_PER_SEC;
    if (!def->vm_image)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "provider libvirt needs vm.image: a local RHEL KVM guest image (qcow2 or raw)"),
               FALSE;
    g_autofree char *image = image_path(def);
    if (!p->stage->dry_run && !g_file_test(image, G_FILE_TEST_IS_REGULAR))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND, "vm.image %s: no such file", image),
               FALSE;
    const char *uri = def->libvirt_uri;
    gboolean user_net = strcmp(def->libvirt_network, "user") == 0;
    guint port = def->ssh_port ? def->ssh_port : 22;
    if (user_net && !def->ssh_port) {
        gint64 recorded = json_object_get_int_member_with_default(p->inventory, "ssh_port", 0);
        port = recorded > 0 ? (guint)recorded : p->stage->dry_run ? 2222 : free_port(error);
        if (!port)
            return FALSE;
    }
    if (!p->stage->dry_run) {
        json_object_set_string_member(p->inventory, "uri", uri);
        json_object_set_string_member(p->inventory, "domain", def->vm_name);
        json_object_set_int_member(p->inventory, "ssh_port", port);
        if (!dcn_provision_save(p, error))
            return FALSE;
    }
    g_autofree char *state = NULL;
    if (!p->stage->dry_run && !domstate(p, uri, &state, error))
        return FALSE;
    if (!state) {
        g_autofree char *disk = dcn_provision_path(p, "disk.qcow2"), *seed = dcn_provision_path(p, "seed.iso");
        g_autofree char *console = dcn_provision_path(p, "console.log"), *xml_path = dcn_provision_path(p, "domain.xml");
        g_autofree char *xml = NULL;
        if (!make_disk(p, disk, error) || !make_seed(p, seed, error) ||
            !(xml = dcn_libvirt_render(def, disk, seed, console, port, error)))
            return FALSE;
        if (p->stage->dry_run) {
            dcn_plan_file(p->stage, xml_path, xml);
        } else if (!dcn_provision_record(p, "files", "domain.xml", error) ||
                   !g_file_set_contents_full(xml_path, xml, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
            return FALSE;
        }
        g_autoptr(GPtrArray) define = virsh(uri, "define", xml_path, NULL);
        DcnCmd cmd = {.argv = (const char *const *)define->pdata, .timeout_s = 120};
        if (!dcn_provision_exec(p, &cmd, NULL, error))
            return FALSE;
        p->changed = TRUE;
        state = g_strdup("shut off");
    }
    if (strcmp(state, "running") != 0) {
        g_autoptr(GPtrArray) start = virsh(uri, "start", def->vm_name, NULL);
        DcnCmd cmd = {.argv = (const char *const *)start->pdata, .timeout_s = 300};
        if (!dcn_provision_exec(p, &cmd, NULL, error))
            return FALSE;
        p->changed = TRUE;
        if (!p->stage->dry_run)
            dcn_progress_event(&p->stage->progress, "vm", "name=%s state=running uri=%s", def->vm_name, uri);
    }
    DcnTarget *t = &p->target;
    t->provider = g_strdup("libvirt");
    t->user = g_strdup(def->ssh_user ? def->ssh_user : def->vm_user);
    t->key = dcn_provision_path(p, "id_ed25519");
    t->known_hosts = def->ssh_known_hosts ? g_strdup(def->ssh_known_hosts) : dcn_provision_path(p, "known_hosts");
    t->accept_new = TRUE;
    t->options = g_strdupv(def->ssh_options);
    t->port = port;
    if (user_net) {
        t->host = g_strdup("127.0.0.1");
    } else if (!wait_address(p, uri, deadline, &t->host, error)) {
        return FALSE;
    }
    gint64 left = (deadline - g_get_monotonic_time()) / G_USEC_PER_SEC;
    return dcn_ssh_wait(p, t, left > 30 ? (guint)left : 30, error);
}

static gboolean libvirt_down(DcnProvision *p, GError **error)
{
    const DcnDefinition *def = p->def;
    const char *uri = json_object_get_string_member_with_default(p->inventory, "uri", def->libvirt_uri);
    if (p->stage->dry_run) {
        dcn_plan(p->stage, "would run: virsh -q -c %s destroy %s (if running); virsh -q -c %s undefine %s", uri,
                 def->vm_name, uri, def->vm_name);
        return TRUE;
    }
    g_autofree char *state = NULL;
    if (!domstate(p, uri, &state, error))
        return FALSE;
    if (!state)
        return TRUE;
    if (strcmp(state, "shut off") != 0) {
        g_autoptr(GPtrArray) argv = virsh(uri, "destroy", def->vm_name, NULL);
        DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 120, .uninterruptible = TRUE};
        if (!dcn_cmd_run(&cmd, NULL, error))
            return FALSE;
    }
    g_autoptr(GPtrArray) argv = virsh(uri, "undefine", def->vm_name, NULL);
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 120, .uninterruptible = TRUE};
    if (!dcn_cmd_run(&cmd, NULL, error))
        return FALSE;
    p->changed = TRUE;
    dcn_progress_event(&p->stage->progress, "deleted", "domain=%s uri=%s", def->vm_name, uri);
    return TRUE;
}

const DcnProvider dcn_provider_libvirt = {"libvirt", libvirt_up, libvirt_down};

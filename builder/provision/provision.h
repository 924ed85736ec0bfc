/* provision: the build machine ("builder") that install and compose use,
 * behind one interface with a backend per provider:
 *   local    (local.c)    no VM: stages run on this host
 *   ssh      (ssh.c)      an existing host reached over SSH
 *   libvirt  (libvirt.c)  a VM defined with virsh from a qcow2 overlay and a
 *                         cloud-init NoCloud seed ISO
 *   kubevirt (kubevirt.c) a VirtualMachine + Secret applied with kubectl/oc
 * Everything a provider creates lives in <state_dir>/builder/ (keys,
 * rendered manifests, disks, the forwarded Weldr socket) or is listed in
 * <state_dir>/builder/inventory.json before it is created, so teardown can
 * delete it even after a failed or interrupted provision. The stage result
 * (provision.json) carries the target: how install and compose reach it. */
#ifndef DCN_BUILDER_PROVISION_H
#define DCN_BUILDER_PROVISION_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cmd.h"
#include "definition.h"
#include "stage.h"

/* How to reach the builder. */
typedef struct {
    char *provider;      /* the provider that made it */
    gboolean local;      /* no SSH: commands run on this host */
    char *host;          /* address or host name */
    guint port;          /* SSH port */
    char *user;          /* SSH user */
    char *key;           /* private key file, or NULL for ssh's own defaults */
    char *known_hosts;   /* UserKnownHostsFile, or NULL for ssh's defaults */
    gboolean accept_new; /* StrictHostKeyChecking=accept-new (a fresh VM's new host key) */
    char *proxy_command; /* ProxyCommand (kubevirt via virtctl), or NULL */
    char **options;      /* extra -o options (ssh.options) */
} DcnTarget;

void dcn_target_clear(DcnTarget *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnTarget, dcn_target_clear)

/* The target provision recorded (provision.json). Without one: provider
 * local (and, for dry runs, any provider) gets the target the definition
 * implies; otherwise an error saying to run provision first. */
gboolean dcn_target_load(const DcnDefinition *def, gboolean dry_run, DcnTarget *out, GError **error);
/* "user@host:port" or "local", for messages. */
char *dcn_target_describe(const DcnTarget *t);

/* A provision in progress (or a teardown). */
typedef struct {
    DcnStageCtx *stage;
    const DcnDefinition *def;
    char *dir;             /* <state_dir>/builder */
    JsonObject *inventory; /* what may exist: saved to dir/inventory.json on every change */
    DcnTarget target;      /* filled by up() */
    gboolean changed;      /* something was created or deleted */
} DcnProvision;

typedef struct {
    const char *name; /* as in provider.kind */
    /* Creates the builder, or finds the one an earlier run created, and
     * fills p->target. Records each resource in p->inventory before
     * creating it. In a dry run prints what it would do instead. */
    gboolean (*up)(DcnProvision *p, GError **error);
    /* Deletes every resource p->inventory (or, without one, the
     * definition) names; what is already gone is fine. */
    gboolean (*down)(DcnProvision *p, GError **error);
} DcnProvider;

extern const DcnProvider dcn_provider_local;    /* provision/local.c */
extern const DcnProvider dcn_provider_ssh;      /* provision/ssh.c */
extern const DcnProvider dcn_provider_libvirt;  /* provision/libvirt.c */
extern const DcnProvider dcn_provider_kubevirt; /* provision/kubevirt.c */

const DcnProvider *dcn_provider_find(const char *name);

/* Opens the provision context: dir (created with create, unless a dry
 * run), inventory (loaded when present). */
gboolean dcn_provision_open(DcnProvision *p, DcnStageCtx *stage, gboolean create, GError **error);
void dcn_provision_clear(DcnProvision *p);
/* Writes p->inventory (atomically). */
gboolean dcn_provision_save(DcnProvision *p, GError **error);
/* Adds name to the inventory's list "key" (once) and saves. */
gboolean dcn_provision_record(DcnProvision *p, const char *key, const char *name, GError **error);
/* A file in p->dir. */
char *dcn_provision_path(const DcnProvision *p, const char *file);

/* Runs cmd, or in a dry run prints it ("would run: ...") and succeeds with
 * empty output. */
gboolean dcn_provision_exec(DcnProvision *p, const DcnCmd *cmd, DcnCmdResult *res, GError **error);
/* Generates dir/id_ed25519 with ssh-keygen unless it exists; returns the
 * public key line (a placeholder in a dry run without a key). */
gboolean dcn_provision_ssh_key(DcnProvision *p, char **out_public, GError **error);
/* Renders user-data.yaml (cloud-config) for the VM providers. */
char *dcn_provision_user_data(const DcnDefinition *def, const char *public_key, GError **error);

/* kubevirt.c: the VirtualMachine and its cloud-init Secret for def, from
 * the templates (virtualmachine.yaml or virtualmachine-containerdisk.yaml,
 * secret.yaml). No cluster access: the unit tests call it. */
gboolean dcn_kubevirt_render(const DcnDefinition *def, const char *user_data, char **out_vm, char **out_secret,
                             GError **error);
/* kubevirt.c: whether vm.image is a form provider kubevirt takes (the
 * error says which forms when not). */
gboolean dcn_kubevirt_image_check(const char *image, GError **error);
/* libvirt.c: the domain XML for def (disk, seed and console paths given). */
char *dcn_libvirt_render(const DcnDefinition *def, const char *disk, const char *seed, const char *console,
                         guint ssh_port, GError **error);
/* The manifest templates directory: vm.templates, else the installed
 * <prefix>/share/dcn/manifests/build-vm, else the source tree's. Free it. */
char *dcn_provision_templates(const DcnDefinition *def);

/* ssh.c: argv (NULL-terminated) running remote_command on t; with
 * remote_command NULL, extra_args follow the destination (e.g. -N -L ...). */
GPtrArray *dcn_ssh_argv(const DcnTarget *t, const char *const *extra_before_host, const char *remote_command);
/* Polls `ssh ... true` until it succeeds or timeout_s passes. */
gboolean dcn_ssh_wait(DcnProvision *p, const DcnTarget *t, guint timeout_s, GError **error);

/* Runs a shell script on the target (sh -s over SSH, or locally), echoing
 * its output as events of the stage. */
gboolean dcn_target_run_script(const DcnTarget *t, const char *script, guint timeout_s, DcnProgress *echo,
                               DcnCmdResult *res, GError **error);

#endif

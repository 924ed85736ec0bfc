/* definition: the image definition (YAML) that every dcn-builder stage reads.
 *
 * dcn_definition_parse() is a pure function over a buffer: no I/O, so the
 * unit tests feed it tables of documents. Every key has one entry in a table
 * (keys.c) that names its type and checks its value; YAML keys and
 * command-line overrides go through the same entry, so both are validated
 * alike and errors name the origin ("dcn-edge.yaml:7" or "--keep"). */
#ifndef DCN_BUILDER_DEFINITION_H
#define DCN_BUILDER_DEFINITION_H

#include <glib.h>

typedef enum {
    DCN_COMPOSE_TREE,        /* a root filesystem: directory or tarball */
    DCN_COMPOSE_EDGE_COMMIT, /* a tarball from osbuild-composer's edge-commit: repo/ + compose.json */
    DCN_COMPOSE_WELDR,       /* osbuild-composer over its Weldr API (compose/weldr.c) */
} DcnComposeBackendKind;

typedef struct {
    char *name;     /* image name, [A-Za-z0-9._-]+ (also the blueprint name later) */
    char *version;  /* the version being built, [A-Za-z0-9][A-Za-z0-9._-]* */
    char *ref;      /* ostree ref devices follow, e.g. rhel/9/x86_64/edge */
    char *osname;   /* stateroot name for kickstart's ostreesetup --osname */
    char *subject;  /* commit subject; default "<name> <version>" */

    DcnComposeBackendKind compose_backend;
    char *compose_source; /* absolute path: directory or tarball */
    char *staging;        /* absolute path of the staging repo (archive mode) */

    char *repo;              /* absolute path of the hosted archive repo */
    char *state_dir;         /* stage results (<stage>.json) and run progress; default <definition's dir>/.dcn-state/<name> */
    guint keep;              /* versions (commits on the ref) kept */
    guint deltas_from;       /* static deltas from this many previous versions */
    guint delta_min_fallback_mb; /* ostree's min-fallback-size (MB); 0 = every object in the delta */
    gboolean scratch_delta;  /* also write a from-scratch delta for installs */
    guint prune_grace;       /* seconds prune keeps what a replaced summary named (0: removed once no served summary names it) */

    char *gpg_key_id;  /* sign.gpg_key_id: sign commits and summary when set */
    char *gpg_homedir; /* sign.gpg_homedir: absolute path, or NULL for gpg's default */
    char *ed25519_key; /* sign.ed25519_key: refused with a clear error on libostree without it */

    char *kickstart_extra;    /* kickstart.extra: lines appended to the template */
    char *kickstart_path;     /* kickstart.path: where the template is written (absolute) */
    char *kickstart_gpg_url;  /* kickstart.gpg_key_url: where devices fetch the public key */
    /* What the built-in kickstart installs with (builder/kickstart/, docs/builder.md#kickstart);
     * every value checked by kickstart/ks_syntax.c. Defaults filled by dcn_definition_finish(). */
    char *kickstart_lang;     /* kickstart.lang: locale (default en_US.UTF-8) */
    char *kickstart_keyboard; /* kickstart.keyboard: console keymap (default us) */
    char *kickstart_timezone; /* kickstart.timezone: tzdata name (default UTC) */
    char *kickstart_disk;     /* kickstart.disk: the one disk used (ignoredisk --only-use); "" or NULL: all disks */
    char *kickstart_network;  /* kickstart.network: dhcp | dhcp:DEVICE | boot (default dhcp) */
    char *kickstart_user;     /* kickstart.user.name: the admin account (group wheel); NULL: none */
    char **kickstart_ssh_keys;/* kickstart.user.ssh_keys: its authorized keys */
    char *kickstart_password_hash; /* kickstart.user.password_hash: crypt(5) hash; NULL: no password */
    char *kickstart_updates;  /* kickstart.updates: none | check | stage (default none) */
    char *kickstart_ca_file;  /* kickstart.ca_file: PEM CA the installer and device trust (absolute) */
    char *kickstart_template; /* kickstart.template: replaces the built-in text (absolute) */

    /* Build infrastructure (issue 6; docs/build-infra.md). Lists are
     * NULL-terminated (GStrv), NULL when not set. */
    char *provider;          /* provider.kind: local | ssh | libvirt | kubevirt (default local) */
    guint provider_timeout_s;/* provider.timeout_s: wait for the VM and its SSH */
    char *vm_name;           /* vm.name: VM / domain name (default <name>-builder) */
    guint vm_cpus;           /* vm.cpus */
    guint vm_memory_mib;     /* vm.memory_mib */
    guint vm_disk_gib;       /* vm.disk_gib */
    char *vm_image;          /* vm.image: kubevirt http(s) URL, datasource:[NS/]NAME or containerdisk:IMAGE; libvirt: disk file */
    char *vm_user;           /* vm.user: the image's cloud-init user (default cloud-user) */
    char *vm_cloud_config;   /* vm.cloud_config: extra cloud-config lines (subscription, proxies) */
    char *vm_templates;      /* vm.templates: directory with the manifest templates (default: installed manifests/build-vm) */
    char *kubevirt_namespace;/* kubevirt.namespace */
    char *kubevirt_kubectl;  /* kubevirt.kubectl: kubectl or oc (a command name or path) */
    char *kubevirt_storage_class; /* kubevirt.storage_class: for the DataVolume (default: the cluster's) */
    char *kubevirt_ssh_via;  /* kubevirt.ssh_via: address (the VMI's IP) | virtctl (port-forward); default: address inside a pod (KUBERNETES_SERVICE_HOST set), else virtctl */
    char *libvirt_uri;       /* libvirt.uri */
    char *libvirt_domain_type; /* libvirt.domain_type: kvm | qemu (software emulation) */
    char *libvirt_network;   /* libvirt.network: user (loopback port forward) or a libvirt network name */
    char *libvirt_kernel;    /* libvirt.kernel / initrd / cmdline: direct kernel boot (optional) */
    char *libvirt_initrd;
    char *libvirt_cmdline;
    char *ssh_host;          /* ssh.host: the builder for provider ssh */
    guint ssh_port;          /* ssh.port (0: 22) */
    char *ssh_user;          /* ssh.user (default: vm.user for VMs, root for provider ssh) */
    char *ssh_key;           /* ssh.key: private key for provider ssh (VMs get a generated one) */
    char *ssh_known_hosts;   /* ssh.known_hosts: known_hosts file (default: per-build file, accept-new) */
    char **ssh_options;      /* ssh.options: extra -o options */
    char **install_packages; /* install.packages (default osbuild-composer, composer-cli) */
    char **install_commands; /* install.commands (default: dnf install, enable the socket) */
    char *install_check;     /* install.check: succeeds when already installed */
    char *blueprint_file;    /* blueprint.file: a TOML blueprint used as it is */
    char *blueprint_description;
    char **blueprint_packages; /* blueprint.packages: "name" or "name=version-glob" */
    char **blueprint_groups;
    char *blueprint_customizations; /* blueprint.customizations: TOML appended to the generated blueprint */
    char *composer_socket;   /* composer.socket: Weldr socket on the builder (default /run/weldr/api.socket) */
    char *composer_url;      /* composer.url: ostree.url, the hosted repo as the builder reaches it */
    char *composer_parent;   /* composer.parent: ostree.parent, a ref composer resolves at composer.url (default: none, composer reads url's refs/heads/<ref>) */
    guint composer_timeout_s;/* composer.timeout_s: compose wait */
    guint composer_poll_s;   /* composer.poll_s: status poll interval */
    guint composer_size_mib; /* composer.size_mib: "size" of the compose request (0: composer's default) */
    char **run_skip;         /* run.skip: stages run leaves out (e.g. deploy) */

    /* deploy.*: rolling the hosting image out (builder/deploy/, docs/rollout.md) */
    char *deploy_platform;  /* "openshift" (oc, Route) or "kubernetes" (kubectl, Ingress); default openshift */
    char *deploy_manifests; /* kustomize directory (absolute); NULL: the installed manifests/hoster/<platform> */
    char *deploy_namespace; /* namespace; NULL: the kubeconfig context's */
    char *deploy_registry;  /* registry host[:port] the cluster pulls from, replacing the pushed reference's host */
    char *deploy_url;       /* base URL devices use (Route/Ingress): verification and kickstarts; NULL: from the Route/Ingress */
    char *deploy_kubectl;   /* kubectl command; default oc on openshift, kubectl on kubernetes */
    char *deploy_ca_file;   /* CA bundle (absolute) for verifying deploy_url over https */
    guint deploy_timeout;   /* seconds for the rollout and for verification (default 600) */

    /* image.* and registry.*: the hosting image (builder/package/, builder/push/, docs/image.md) */
    char *image_layout;      /* image.layout: OCI image layout directory (absolute); default <state_dir>/oci */
    char *image_archive;     /* image.archive: also write this version as an oci-archive tar here; NULL: no */
    char *image_compression; /* image.compression: "gzip" or "zstd" for new layers (default gzip) */
    char *image_hoster;      /* image.hoster: the dcn-hoster binary to ship; NULL: next to dcn-builder */
    char *registry_url;      /* registry.url: http(s)://host[:port] of the registry (scheme required) */
    char *registry_repository; /* registry.repository: repository path in the registry, e.g. ns/dcn-edge; default name in lower case */
    char *registry_username; /* registry.username: for basic auth or the token endpoint (password: env or file) */
    char *registry_password_file; /* registry.password_file: file holding the password or token */
    char *registry_ca_file;  /* registry.ca_file: CA bundle for the registry's TLS certificate */
    gboolean registry_insecure; /* registry.insecure: skip TLS verification (only when asked) */
    guint registry_chunk_mb; /* registry.chunk_mb: blobs larger than this go up in PATCH chunks of it (default 32) */
    guint registry_retries;  /* registry.retries: retries after 5xx/connection errors (default 4) */
    char **registry_mount_from; /* registry.mount_from: repositories on the same registry to mount blobs from */

    /* iso.*: the installer ISO (builder/iso/, docs/builder.md#iso) */
    char *iso_boot_iso; /* iso.boot_iso: the installer boot ISO the operator provides (RHEL's boot.iso); NULL: no ISO */
    char *iso_output;   /* iso.output: where the ISO goes, @VERSION@ filled in; default <kickstart dir>/<name>-<version>.iso */
    char *iso_mode;     /* iso.mode: "network" (inst.ks= the served kickstart) or "offline" (the version on the ISO) */

    char *path; /* the definition file (absolute), for messages; NULL when parsed from a buffer */
} DcnDefinition;

DcnDefinition *dcn_definition_new(void);
void dcn_definition_free(DcnDefinition *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnDefinition, dcn_definition_free)

/* Parses a YAML document of len bytes. filename is used in messages and,
 * with base_dir, to resolve relative paths (base_dir NULL: the current
 * directory). Unknown keys, duplicate keys, wrong types and bad values are
 * problems "FILE:LINE: ...": every one is recorded (dcn_definition_problems)
 * and parsing goes on, so one run lists them all; the error then holds all
 * of them, one per line. A YAML syntax error stops at once. Does not check
 * for required keys: call dcn_definition_finish() after the overrides. */
gboolean dcn_definition_parse(DcnDefinition *def, const char *buf, size_t len, const char *filename,
                              const char *base_dir, GError **error);

/* Reads and parses path. */
gboolean dcn_definition_load_file(DcnDefinition *def, const char *path, GError **error);

/* Sets key (dotted, as in YAML: "version", "sign.gpg_key_id") from a
 * command-line flag or environment variable; origin names it in errors
 * ("--version", "DCN_BUILDER_VERSION"). Relative paths resolve against the
 * current directory. */
gboolean dcn_definition_set(DcnDefinition *def, const char *key, const char *value,
                            const char *origin, GError **error);

/* Fills defaults (once: the stages read the values, see each field's
 * comment) and checks what needs all keys at once (required keys,
 * deltas_from < keep). Fails when the definition has any problem (its own
 * or the parser's), with all of them in the error, one per line; the
 * defaults are filled whenever the required keys are there
 * (dcn_definition_finished), so the stage checks (preflight.c) can still
 * look at the rest. */
gboolean dcn_definition_finish(DcnDefinition *def, GError **error);
/* TRUE once dcn_definition_finish() filled the defaults. */
gboolean dcn_definition_finished(const DcnDefinition *def);

/* Problems found so far, "WHERE: what" strings in the order found
 * (parser, finish, then preflight.c's stage checks). Owned by def. */
const GPtrArray *dcn_definition_problems(const DcnDefinition *def);
/* Records a problem; where is "FILE:LINE", "--flag" or "VARIABLE". */
void dcn_definition_add_problem(DcnDefinition *def, const char *where, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* The error for the problems so far, one per line (NULL when none). */
GError *dcn_definition_problems_error(const DcnDefinition *def);

/* Where key (dotted; a section such as "registry" too) was set: "FILE:LINE",
 * "--flag" or "VARIABLE"; NULL when it was not (a default). */
const char *dcn_definition_origin(const DcnDefinition *def, const char *key);
/* Where to point at about key, set or not: its own origin, else the
 * origin of the nearest section holding it ("registry:" for registry.url),
 * else the first line of the file ("FILE:1"), else "definition". */
const char *dcn_definition_where(const DcnDefinition *def, const char *key);
/* TRUE when key's value was rejected (a problem already names it). */
gboolean dcn_definition_rejected(const DcnDefinition *def, const char *key);

/* composer.parent's check: an ostree ref, not a commit checksum (see
 * docs/build-infra.md: which composers take what). NULL when fine, else what
 * was expected. */
const char *dcn_definition_check_parent(const char *value);

/* registry.repository's check, for push's registry.mount_from names too: a
 * distribution repository name, lower-case components separated by '/',
 * at most 255 characters. NULL when fine, else what was expected. */
const char *dcn_definition_check_repository(const char *value);

const char *dcn_compose_backend_name(DcnComposeBackendKind kind);

#endif

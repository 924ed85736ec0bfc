/* render: the text of kickstart.h. Command syntax as pykickstart's RHEL9 handler
 * reads it (docs/builder.md#kickstart lists the output). */
#include "kickstart.h"

#include "ks_syntax.h"

#include <string.h>

/* Commands that stand for a built-in one: when kickstart.extra has any of
 * them, the built-in command is left out (Anaconda takes these once, or
 * refuses autopart next to part/logvol...). */
typedef struct {
    const char *builtin;
    const char *const *kinds; /* NULL-terminated; the first is builtin itself */
} Replaceable;

static const char *const k_text[] = {"text", "graphical", "cmdline", NULL};
static const char *const k_lang[] = {"lang", NULL};
static const char *const k_keyboard[] = {"keyboard", NULL};
static const char *const k_timezone[] = {"timezone", NULL};
static const char *const k_ignoredisk[] = {"ignoredisk", NULL};
static const char *const k_zerombr[] = {"zerombr", NULL};
static const char *const k_clearpart[] = {"clearpart", NULL};
static const char *const k_autopart[] = {"autopart", "part",   "partition", "logvol", "volgroup",
                                         "raid",     "reqpart", "btrfs",     "mount",  NULL};
static const char *const k_network[] = {"network", NULL};
static const char *const k_rootpw[] = {"rootpw", NULL};
static const char *const k_reboot[] = {"reboot", "poweroff", "halt", "shutdown", NULL};
static const char *const k_ostreesetup[] = {"ostreesetup", "ostreecontainer", "bootc", NULL};

typedef struct {
    GString *ks;
    GHashTable *extra; /* commands kickstart.extra has */
} Out;

/* TRUE when the built-in command should be written; else a comment says
 * which command of extra replaces it. */
static gboolean builtin(Out *o, const char *const *kinds)
{
    for (const char *const *k = kinds; *k; k++)
        if (g_hash_table_contains(o->extra, *k)) {
            g_string_append_printf(o->ks, "# %s: left out, kickstart.extra has %s\n", kinds[0], *k);
            return FALSE;
        }
    return TRUE;
}

static void line(Out *o, const char *const *kinds, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void line(Out *o, const char *const *kinds, const char *fmt, ...)
{
    if (!builtin(o, kinds))
        return;
    va_list ap;
    va_start(ap, fmt);
    g_string_append_vprintf(o->ks, fmt, ap);
    va_end(ap);
    g_string_append_c(o->ks, '\n');
}

static void commands(Out *o, const DcnDefinition *def)
{
    gboolean one_disk = def->kickstart_disk && *def->kickstart_disk;
    line(o, k_text, "text");
    line(o, k_lang, "lang %s", def->kickstart_lang);
    line(o, k_keyboard, "keyboard --vckeymap=%s", def->kickstart_keyboard);
    line(o, k_timezone, "timezone %s --utc", def->kickstart_timezone);
    if (one_disk)
        line(o, k_ignoredisk, "ignoredisk --only-use=%s", def->kickstart_disk);
    else if (!g_hash_table_contains(o->extra, "ignoredisk"))
        g_string_append(o->ks, "# every disk is wiped (kickstart.disk names the one to use)\n");
    line(o, k_zerombr, "zerombr");
    line(o, k_clearpart, "clearpart --all --initlabel");
    /* RHEL for Edge's own examples: plain xfs, /home lives in /var anyway */
    line(o, k_autopart, "autopart --type=plain --fstype=xfs --nohome");
    const char *device = NULL;
    if (dcn_ks_network_parse(def->kickstart_network, &device) == DCN_KS_NETWORK_BOOT)
        g_string_append(o->ks, "# network: the installer's own, from its boot options (kickstart.network: boot)\n");
    else
        line(o, k_network, "network --bootproto=dhcp --device=%s --activate --onboot=on", device ? device : "link");
    line(o, k_rootpw, "rootpw --lock");
    if (def->kickstart_user) {
        g_string_append_printf(o->ks, "user --name=%s --groups=wheel", def->kickstart_user);
        if (def->kickstart_password_hash)
            g_string_append_printf(o->ks, " --iscrypted --password=%s", def->kickstart_password_hash);
        g_string_append_c(o->ks, '\n');
        /* one line per key: Anaconda appends each to authorized_keys
         * (pykickstart warns about the second, see docs/builder.md) */
        for (char **k = def->kickstart_ssh_keys; k && *k; k++)
            g_string_append_printf(o->ks, "sshkey --username=%s \"%s\"\n", def->kickstart_user, *k);
    }
    line(o, k_reboot, "reboot --eject");
    line(o, k_ostreesetup, "ostreesetup --osname=%s --remote=%s --url=@REPO_URL@ --ref=@REF@%s", def->osname,
         def->osname, def->gpg_key_id ? "" : " --nogpg");
}

/* kickstart.ca_file into a system's trust store: the anchors directory
 * and update-ca-trust (ca-certificates), or, where that is missing (a
 * trimmed installer image), straight into the bundle libcurl reads. */
static void trust_ca(Out *o, const DcnDefinition *def, const char *pem)
{
    g_string_append_printf(o->ks,
                           "cat >/etc/pki/ca-trust/source/anchors/%s-ca.pem <<'DCN_CA_PEM'\n"
                           "%sDCN_CA_PEM\n"
                           "if command -v update-ca-trust >/dev/null; then\n"
                           "    update-ca-trust extract\n"
                           "else\n"
                           "    cat /etc/pki/ca-trust/source/anchors/%s-ca.pem >>/etc/pki/tls/certs/ca-bundle.crt\n"
                           "fi\n",
                           def->name, pem, def->name);
}

static void pre(Out *o, const DcnDefinition *def, const DcnKickstartInputs *in, const char *key_url)
{
    if (!in->ca_pem && !def->gpg_key_id)
        return;
    g_string_append(o->ks, "\n%pre --erroronfail\n");
    if (in->ca_pem) {
        g_string_append(o->ks, "# kickstart.ca_file: the installer trusts the CA of the repository's https URL\n");
        trust_ca(o, def, in->ca_pem);
    }
    if (def->gpg_key_id)
        g_string_append_printf(o->ks,
                               "# the repo is GPG-signed: the installer's libostree verifies with the public key\n"
                               "mkdir -p /usr/share/ostree/trusted.gpg.d\n"
                               "curl -fsS -o /usr/share/ostree/trusted.gpg.d/%s.gpg '%s'\n",
                               def->name, key_url);
    g_string_append(o->ks, "%end\n");
}

static void post(Out *o, const DcnDefinition *def, const DcnKickstartInputs *in, const char *key_url)
{
    gboolean sudo = def->kickstart_user && !def->kickstart_password_hash;
    gboolean updates = strcmp(def->kickstart_updates, "none") != 0;
    if (!in->ca_pem && !def->gpg_key_id && !sudo && !updates)
        return;
    g_string_append(o->ks, "\n%post --erroronfail\n");
    if (in->ca_pem) {
        g_string_append(o->ks, "# kickstart.ca_file: the device trusts it too (rpm-ostree upgrade over https)\n");
        trust_ca(o, def, in->ca_pem);
    }
    if (def->gpg_key_id)
        g_string_append_printf(o->ks,
                               "# the repo is GPG-signed: the device keeps verifying (rpm-ostree upgrade)\n"
                               "curl -fsS -o /etc/pki/%s-ostree.gpg '%s'\n"
                               "ostree remote gpg-import --keyring=/etc/pki/%s-ostree.gpg %s\n",
                               def->name, key_url, def->name, def->osname);
    if (sudo)
        /* as cloud images do for their default user: without a password,
         * wheel alone would never let the account (Ansible's become) use sudo */
        g_string_append_printf(o->ks,
                               "# kickstart.user has no password_hash: sudo without a password (Ansible's become)\n"
                               "echo '%s ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/dcn-admin\n"
                               "chmod 0440 /etc/sudoers.d/dcn-admin\n",
                               def->kickstart_user);
    if (updates)
        /* rpm-ostreed.conf ships "[Daemon]" with "#AutomaticUpdatePolicy=none" */
        g_string_append_printf(o->ks,
                               "# kickstart.updates: rpm-ostreed's AutomaticUpdatePolicy, and the timer that runs it\n"
                               "policy=%s\n"
                               "conf=/etc/rpm-ostreed.conf\n"
                               "if grep -q '^#\\?AutomaticUpdatePolicy=' \"$conf\" 2>/dev/null; then\n"
                               "    sed -i \"s/^#\\?AutomaticUpdatePolicy=.*/AutomaticUpdatePolicy=$policy/\" \"$conf\"\n"
                               "elif grep -q '^\\[Daemon\\]' \"$conf\" 2>/dev/null; then\n"
                               "    sed -i \"/^\\[Daemon\\]/a AutomaticUpdatePolicy=$policy\" \"$conf\"\n"
                               "else\n"
                               "    printf '[Daemon]\\nAutomaticUpdatePolicy=%%s\\n' \"$policy\" >>\"$conf\"\n"
                               "fi\n"
                               "systemctl enable rpm-ostreed-automatic.timer\n",
                               def->kickstart_updates);
    g_string_append(o->ks, "%end\n");
}

char *dcn_kickstart_render(const DcnDefinition *def, const DcnKickstartInputs *in)
{
    g_autoptr(GHashTable) extra = dcn_ks_commands(def->kickstart_extra);
    Out o = {g_string_new(NULL), extra};
    if (in->template_text) {
        g_string_append(o.ks, in->template_text);
    } else {
        g_autofree char *key_url = def->kickstart_gpg_url ? g_strdup(def->kickstart_gpg_url)
                                                          : g_strdup_printf("@URL@/%s.gpg", def->name);
        g_string_append_printf(o.ks,
                               "# Kickstart for %s (%s), written by dcn-builder: installs with nobody at the console.\n"
                               "# dcn-hoster fills in @URL@, @REPO_URL@, @REF@ and @COMMIT@ in the commands when it\n"
                               "# serves this file; comment lines such as these are served as they are.\n",
                               def->name, def->ref);
        commands(&o, def);
        pre(&o, def, in, key_url);
        post(&o, def, in, key_url);
    }
    if (def->kickstart_extra && *def->kickstart_extra) {
        if (o.ks->len && o.ks->str[o.ks->len - 1] != '\n')
            g_string_append_c(o.ks, '\n');
        g_string_append(o.ks, "\n# kickstart.extra\n");
        g_string_append(o.ks, def->kickstart_extra);
        if (!g_str_has_suffix(def->kickstart_extra, "\n"))
            g_string_append_c(o.ks, '\n');
    }
    return g_string_free(o.ks, FALSE);
}

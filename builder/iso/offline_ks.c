/* offline_ks: the kickstart of an offline installer ISO (iso.h). Pure:
 * the published template and values in, kickstart text out.
 *
 * Until the kickstart writer (kickstart.c) can render for a given server
 * itself, this fills in the template it published, exactly the
 * placeholders dcn-hoster fills; what an offline install needs beyond that
 * (the device's remote pointing back at dcn-hoster) is added as sections
 * of its own, so it works whatever the template holds. */
#include "iso.h"

#include "error.h"

#include <stdarg.h>
#include <string.h>

/* Placeholders as dcn-hoster's kickstart.c fills them (in commands; a
 * line starting with '#' stays as written). */
static void fill_line(GString *out, const char *line, size_t len, const char *const *names, const char *const *values,
                      size_t n)
{
    for (size_t i = 0; i < len;) {
        gboolean hit = FALSE;
        if (line[i] == '@')
            for (size_t k = 0; k < n && !hit; k++) {
                size_t nl = strlen(names[k]);
                if (nl <= len - i && memcmp(line + i, names[k], nl) == 0) {
                    g_string_append(out, values[k]);
                    i += nl;
                    hit = TRUE;
                }
            }
        if (!hit)
            g_string_append_c(out, line[i++]);
    }
}

/* Printable ASCII lines: safe inside a quoted here-document. */
static gboolean plain_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p != '\n' && (*p < 0x20 || *p > 0x7e))
            return FALSE;
    return TRUE;
}

static gboolean check(gboolean ok, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean check(gboolean ok, GError **error, const char *fmt, ...)
{
    if (ok)
        return TRUE;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, msg);
    return FALSE;
}

#define CA_EOF "DCN_ISO_CA_EOF"
#define KEY_EOF "DCN_ISO_KEY_EOF"
#define BIND_MARK "/tmp/dcn-iso-bind"

/* What goes into shell lines and here-documents: nothing that ends them. */
static gboolean check_inputs(const DcnIsoKickstart *in, GError **error)
{
    const char *bad = dcn_iso_arg_check(in->hoster_repo_url);
    if (!check(!bad, error, "the repository URL %s cannot go into the kickstart: %s", in->hoster_repo_url, bad ? bad : "") ||
        !check(!in->ca_pem || (plain_text(in->ca_pem) && strstr(in->ca_pem, "-----BEGIN CERTIFICATE-----") &&
                               !strstr(in->ca_pem, CA_EOF)),
               error, "the CA file is not PEM text (-----BEGIN CERTIFICATE-----)"))
        return FALSE;
    for (const char *p = in->ref; *p; p++)
        if (!check(g_ascii_isalnum(*p) || strchr("._-/", *p), error, "ref %s cannot go into the kickstart", in->ref))
            return FALSE;
    return TRUE;
}

/* The %post that points the installed device's remote at dcn-hoster (with
 * its CA and GPG key), then the one that undoes the ISO's bind mount. */
static void append_remote_post(GString *ks, const DcnIsoKickstart *in)
{
    g_string_append_printf(ks,
                           "\n%%post --erroronfail\n"
                           "# dcn-builder iso (offline): the installed device upgrades from dcn-hoster\n"
                           "set -e\n"
                           "rm -f /etc/ostree/remotes.d/%s.conf\n"
                           "ostree remote delete --if-exists %s\n",
                           in->osname, in->osname);
    g_autofree char *ca_path = g_strdup_printf("/etc/pki/%s-hoster-ca.pem", in->name);
    if (in->ca_pem) {
        g_string_append_printf(ks, "mkdir -p /etc/pki\ncat > %s <<'" CA_EOF "'\n%s%s" CA_EOF "\n", ca_path,
                               in->ca_pem, g_str_has_suffix(in->ca_pem, "\n") ? "" : "\n");
    }
    g_string_append_printf(ks, "ostree remote add --set=gpg-verify=%s", in->gpg_key ? "true" : "false");
    if (in->ca_pem)
        g_string_append_printf(ks, " --set=tls-ca-path=%s", ca_path);
    g_string_append_printf(ks, " %s '%s' %s\n", in->osname, in->hoster_repo_url, in->ref);
    if (in->gpg_key) {
        gsize len = 0;
        const guchar *data = g_bytes_get_data(in->gpg_key, &len);
        g_autofree char *b64 = g_base64_encode(data, len);
        g_string_append_printf(ks, "mkdir -p /etc/pki\nbase64 -d > /etc/pki/%s-ostree.gpg <<'" KEY_EOF "'\n", in->name);
        for (size_t i = 0, n = strlen(b64); i < n; i += 76)
            g_string_append_printf(ks, "%.76s\n", b64 + i);
        g_string_append_printf(ks, KEY_EOF "\nostree remote gpg-import --keyring=/etc/pki/%s-ostree.gpg %s\n", in->name,
                               in->osname);
    }
    g_string_append(ks, "%end\n"
                        "\n"
                        "%post --nochroot\n"
                        "if [ -e " BIND_MARK " ]; then\n"
                        "    umount \"${ANA_INSTALL_PATH:-/mnt/sysimage}/run/install/repo\"\n"
                        "    rm -f " BIND_MARK "\n"
                        "fi\n"
                        "%end\n");
}

char *dcn_iso_offline_kickstart(const DcnIsoKickstart *in, GError **error)
{
    if (!check_inputs(in, error))
        return NULL;

    GString *ks = g_string_new(NULL);
    static const char *const names[] = {"@URL@", "@REPO_URL@", "@REF@", "@COMMIT@"};
    const char *values[] = {DCN_ISO_MEDIA_URL, DCN_ISO_REPO_URL, in->ref, in->commit};
    const char *p = in->template_text;
    /* the template's comment lines at the top first, then ours */
    while (*p == '#') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        g_string_append_len(ks, p, (gssize)len);
        p += len;
    }
    g_string_append_printf(ks,
                           "# Offline installer, filled in by dcn-builder iso: %s %s (%s,\n"
                           "# commit %s) is on this ISO, in ostree/repo.\n"
                           "# After the install the device's remote points at %s,\n"
                           "# so upgrades come from dcn-hoster.\n"
                           "\n"
                           "%%post --nochroot --erroronfail\n"
                           "set -e\n"
                           "# The %%post scripts below run in the installed system: they see this ISO\n"
                           "# at the installer's path too (the files the kickstart fetches are on it).\n"
                           "root=\"${ANA_INSTALL_PATH:-/mnt/sysimage}\"\n"
                           "if [ ! -e \"$root/run/install/repo/ostree/repo/config\" ]; then\n"
                           "    mkdir -p \"$root/run/install/repo\"\n"
                           "    mount --bind /run/install/repo \"$root/run/install/repo\"\n"
                           "    touch " BIND_MARK "\n"
                           "fi\n"
                           "%%end\n"
                           "\n",
                           in->name, in->version, in->ref, in->commit, in->hoster_repo_url);
    for (; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (*p == '#') /* comment lines as dcn-hoster serves them: as written */
            g_string_append_len(ks, p, (gssize)len);
        else
            fill_line(ks, p, len, names, values, G_N_ELEMENTS(names));
        g_string_append_c(ks, '\n');
        p += len + (nl ? 1 : 0);
    }

    append_remote_post(ks, in);
    return g_string_free(ks, FALSE);
}

/* ks_syntax: see ks_syntax.h. */
#include "ks_syntax.h"

#include "error.h"

#include <string.h>

/* "@NAME@" with NAME in [A-Z_]: dcn-hoster's placeholders (@URL@,
 * @REPO_URL@, @REF@, @COMMIT@) and any it may learn later. */
static gboolean has_placeholder(const char *v)
{
    for (const char *at = strchr(v, '@'); at; at = strchr(at + 1, '@')) {
        const char *p = at + 1;
        while (g_ascii_isupper(*p) || *p == '_')
            p++;
        if (p > at + 1 && *p == '@')
            return TRUE;
    }
    return FALSE;
}

/* Every character of v in [A-Za-z0-9] or extra. */
static gboolean only(const char *v, const char *extra)
{
    for (const char *p = v; *p; p++)
        if (!g_ascii_isalnum(*p) && !strchr(extra, *p))
            return FALSE;
    return TRUE;
}

static gboolean run_of(const char **p, gboolean (*cls)(gchar), size_t min, size_t max)
{
    size_t n = 0;
    while (n < max && cls((*p)[n]))
        n++;
    if (n < min || cls((*p)[n]))
        return FALSE;
    *p += n;
    return TRUE;
}

static gboolean is_lower(gchar c) { return g_ascii_islower(c); }
static gboolean is_upper(gchar c) { return g_ascii_isupper(c); }
static gboolean is_charset(gchar c) { return g_ascii_isalnum(c) || c == '-'; }

const char *dcn_ks_check_lang(const char *v)
{
    static const char *const expected = "a locale such as en_US.UTF-8 (language, then optional _COUNTRY, .charset, "
                                        "@modifier)";
    const char *p = v;
    if (!run_of(&p, is_lower, 2, 3))
        return expected;
    if (*p == '_' && (p++, !run_of(&p, is_upper, 2, 2)))
        return expected;
    if (*p == '.' && (p++, !run_of(&p, is_charset, 1, 32)))
        return expected;
    if (*p == '@' && (p++, !run_of(&p, is_lower, 1, 32)))
        return expected;
    return *p ? expected : NULL;
}

const char *dcn_ks_check_keyboard(const char *v)
{
    if (!g_ascii_isalnum(v[0]) || strlen(v) > 64 || !only(v, "_.-"))
        return "a console keymap such as us or de-nodeadkeys (a name from /usr/lib/kbd/keymaps: letters, digits, "
               "'_', '.', '-')";
    return NULL;
}

const char *dcn_ks_check_timezone(const char *v)
{
    static const char *const expected = "a time zone such as UTC or Europe/Berlin (tzdata names: letters, digits, "
                                        "'_', '+', '-', components separated by '/')";
    if (strlen(v) > 64 || !only(v, "_+-/"))
        return expected;
    gboolean start = TRUE;
    for (const char *p = v; *p; p++) {
        if (start && !g_ascii_isalpha(*p))
            return expected; /* also refuses "//", a leading or trailing '/' and ".." */
        start = *p == '/';
    }
    return start ? expected : NULL;
}

static gboolean kernel_disk_name(const char *v)
{
    return g_ascii_islower(v[0]) && strlen(v) <= 32 && only(v, "_-");
}

const char *dcn_ks_check_disk(const char *v)
{
    static const char *const links[] = {"id/", "path/", "uuid/", "label/", "partuuid/", "partlabel/"};
    if (g_str_has_prefix(v, "/dev/disk/by-")) {
        for (size_t i = 0; i < G_N_ELEMENTS(links); i++) {
            const char *name = v + strlen("/dev/disk/by-") + strlen(links[i]);
            if (g_str_has_prefix(v + strlen("/dev/disk/by-"), links[i]))
                if (*name && *name != '.' && strlen(name) <= 200 && only(name, ":._+-"))
                    return NULL;
        }
    } else if (kernel_disk_name(g_str_has_prefix(v, "/dev/") ? v + 5 : v)) {
        return NULL;
    }
    return "a disk such as vda, sda, nvme0n1, /dev/sda or /dev/disk/by-id/NAME (by-id, by-path, by-uuid, by-label, "
           "by-partuuid, by-partlabel)";
}

static gboolean is_mac(const char *v)
{
    if (strlen(v) != 17)
        return FALSE;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? v[i] != ':' : !g_ascii_isxdigit(v[i]))
            return FALSE;
    return TRUE;
}

static gboolean is_ifname(const char *v)
{
    /* the kernel's limit (IFNAMSIZ 16 with the NUL); no '/', blanks or ':' */
    return g_ascii_isalnum(v[0]) && strlen(v) <= 15 && only(v, "_.-");
}

DcnKsNetworkKind dcn_ks_network_parse(const char *v, const char **device)
{
    *device = g_str_has_prefix(v, "dhcp:") ? v + 5 : NULL;
    return strcmp(v, "boot") == 0 ? DCN_KS_NETWORK_BOOT : DCN_KS_NETWORK_DHCP;
}

const char *dcn_ks_check_network(const char *v)
{
    if (strcmp(v, "dhcp") == 0 || strcmp(v, "boot") == 0)
        return NULL;
    if (g_str_has_prefix(v, "dhcp:") && (is_ifname(v + 5) || is_mac(v + 5)))
        return NULL;
    return "dhcp, dhcp:DEVICE (an interface name such as eno1, a MAC address, link or bootif) or boot (keep the "
           "network the installer was booted with, e.g. ip=)";
}

const char *dcn_ks_check_user(const char *v)
{
    size_t n = strlen(v);
    gboolean ok = n <= 32 && (g_ascii_islower(v[0]) || v[0] == '_');
    for (const char *p = v; ok && *p; p++)
        ok = g_ascii_islower(*p) || g_ascii_isdigit(*p) || *p == '_' || *p == '-';
    if (!ok)
        return "a user name: a lower-case letter or '_' first, then lower-case letters, digits, '_', '-' (at most 32)";
    if (strcmp(v, "root") == 0)
        return "a user name other than root (the kickstart locks root: rootpw --lock)";
    return NULL;
}

/* The key types OpenSSH puts into authorized_keys (ssh-dss left out:
 * OpenSSH disables DSA by default since 7.0 and removed it in 10.0). */
static const char *const ssh_key_types[] = {
    "ssh-ed25519",         "ssh-rsa",     "ecdsa-sha2-nistp256",        "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
};

const char *dcn_ks_check_ssh_key(const char *v)
{
    static const char *const expected =
        "an OpenSSH public key \"TYPE BASE64 [COMMENT]\" (TYPE ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or "
        "sk-...@openssh.com; BASE64 a key of that type; COMMENT printable, without '\"', '\\' or @NAME@; no "
        "options such as from=)";
    if (strlen(v) > 16384 || has_placeholder(v))
        return expected;
    for (const char *p = v; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return expected;
    const char *sp = strchr(v, ' ');
    if (!sp)
        return expected;
    g_autofree char *type = g_strndup(v, (gsize)(sp - v));
    gboolean known = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(ssh_key_types) && !known; i++)
        known = strcmp(type, ssh_key_types[i]) == 0;
    const char *b64 = sp + 1, *end = strchr(b64, ' ');
    g_autofree char *blob64 = end ? g_strndup(b64, (gsize)(end - b64)) : g_strdup(b64);
    size_t n64 = strlen(blob64);
    if (!known || n64 < 16 || n64 % 4 || !only(blob64, "+/="))
        return expected;
    /* the blob starts with the type as an SSH string: uint32 length, bytes */
    gsize len = 0;
    g_autofree guchar *blob = g_base64_decode(blob64, &len);
    size_t tl = strlen(type);
    if (len < 4 + tl || ((guint32)blob[0] << 24 | (guint32)blob[1] << 16 | (guint32)blob[2] << 8 | blob[3]) != tl ||
        memcmp(blob + 4, type, tl) != 0)
        return expected;
    return NULL;
}

const char *dcn_ks_check_password_hash(const char *v)
{
    static const char *const expected = "a crypt(5) hash such as $6$SALT$HASH (from `openssl passwd -6` or "
                                        "`mkpasswd -m sha-512`), not a password";
    /* $ID$[PARAMS$]SALT$HASH: ID lower-case letters and digits, the rest the
     * crypt alphabet [./0-9A-Za-z] plus '=' and ',' of rounds=/m=,t= */
    const char *p = v;
    if (*p++ != '$' || !(g_ascii_islower(*p) || g_ascii_isdigit(*p)))
        return expected;
    while (g_ascii_islower(*p) || g_ascii_isdigit(*p))
        p++;
    if (*p != '$' || !only(p, "./$=,"))
        return expected;
    const char *last = strrchr(v, '$');
    if (last == p || strlen(last + 1) < 8)
        return expected; /* no salt, or no hash after it: a truncated copy */
    return NULL;
}

const char *dcn_ks_check_updates(const char *v)
{
    if (strcmp(v, "none") == 0 || strcmp(v, "check") == 0 || strcmp(v, "stage") == 0)
        return NULL;
    return "none, check or stage (rpm-ostreed's AutomaticUpdatePolicy)";
}

GHashTable *dcn_ks_commands(const char *text)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean in_section = FALSE;
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *s = *l;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, " \t\r");
        if (in_section) {
            if (n == 4 && strncmp(s, "%end", 4) == 0)
                in_section = FALSE;
            continue;
        }
        if (n == 0 || *s == '#')
            continue;
        if (*s == '%') {
            in_section = !g_str_has_prefix(s, "%include") && !g_str_has_prefix(s, "%ksappend");
            continue;
        }
        char *name = g_strndup(s, n);
        g_hash_table_add(set, name);
    }
    return set;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/* A certificate is one DER SEQUENCE: tag 0x30, its length, nothing after. */
static gboolean der_sequence(const char *b64)
{
    gsize n = 0;
    g_autofree guchar *der = g_base64_decode(b64, &n);
    if (n < 2 || der[0] != 0x30)
        return FALSE;
    gsize len = der[1], hdr = 2;
    if (der[1] & 0x80) {
        gsize octets = der[1] & 0x7f;
        if (octets == 0 || octets > 4 || n < 2 + octets)
            return FALSE;
        len = 0;
        for (gsize i = 0; i < octets; i++)
            len = len << 8 | der[2 + i];
        hdr += octets;
    }
    return hdr + len == n;
}

char *dcn_ks_pem_certificates(const char *text, gsize len, GError **error)
{
    if (memchr(text, '\0', len))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "not a PEM file (a NUL byte)"), NULL;
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) b64 = g_string_new(NULL);
    gboolean inside = FALSE;
    guint blocks = 0, begin_line = 0, body = 0;
    for (guint i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]); /* also a CR of CRLF files */
        if (!*l && !lines[i + 1])
            break; /* after the last '\n' */
        if (!inside) {
            if (strcmp(l, PEM_BEGIN) == 0) {
                inside = TRUE;
                begin_line = i + 1;
                body = 0;
                g_string_truncate(b64, 0);
                g_string_append(out, PEM_BEGIN "\n");
            } else if (g_str_has_prefix(l, "-----BEGIN ")) {
                return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                                   "line %u: %s: only certificates belong in a CA file", i + 1, l),
                       NULL;
            }
            continue;
        }
        if (strcmp(l, PEM_END) == 0) {
            if (!body)
                break;
            if (!der_sequence(b64->str))
                return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                                   "the certificate that begins on line %u is not one (its base64 is not a DER "
                                   "SEQUENCE)",
                                   begin_line),
                       NULL;
            inside = FALSE;
            blocks++;
            g_string_append(out, PEM_END "\n");
        } else if (!*l || strlen(l) > 76 || !only(l, "+/=")) {
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "line %u: not a line of base64 inside the certificate that begins on line %u", i + 1,
                               begin_line),
                   NULL;
        } else {
            body++;
            g_string_append(b64, l);
            g_string_append_printf(out, "%s\n", l);
        }
    }
    if (inside)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "the certificate that begins on line %u has %s", begin_line,
                           body ? "no " PEM_END " line" : "no body"),
               NULL;
    if (!blocks)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "no " PEM_BEGIN " block"), NULL;
    return g_string_free(g_steal_pointer(&out), FALSE);
}

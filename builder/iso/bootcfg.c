/* bootcfg: inst.ks= on every kernel command line of a boot configuration
 * (iso.h). Pure: text in, text out. */
#include "iso.h"

#include <string.h>

static gboolean is_space(char c) { return c == ' ' || c == '\t'; }

/* The line's keyword names a kernel command line. */
static gboolean kernel_line(const char *word, size_t len, DcnIsoCfgKind kind)
{
    if (kind == DCN_ISO_CFG_ISOLINUX) /* syslinux keywords are case-insensitive */
        return len == 6 && g_ascii_strncasecmp(word, "append", 6) == 0;
    static const char *const grub[] = {"linux", "linuxefi", "linux16"};
    for (size_t i = 0; i < G_N_ELEMENTS(grub); i++)
        if (len == strlen(grub[i]) && memcmp(word, grub[i], len) == 0)
            return TRUE;
    return FALSE;
}

static gboolean ks_token(const char *t, size_t len)
{
    return (len >= 8 && memcmp(t, "inst.ks=", 8) == 0) || (len >= 3 && memcmp(t, "ks=", 3) == 0);
}

/* Appends content (one line without its end) to out, edited when it is a
 * kernel command line; returns whether it was. */
static gboolean edit_line(GString *out, const char *line, size_t len, DcnIsoCfgKind kind, const char *ks_arg)
{
    size_t i = 0;
    while (i < len && is_space(line[i]))
        i++;
    size_t w = i;
    while (i < len && !is_space(line[i]))
        i++;
    if (!kernel_line(line + w, i - w, kind)) {
        g_string_append_len(out, line, (gssize)len);
        return FALSE;
    }
    size_t end = len; /* trailing blanks stay after the new argument */
    while (end > i && is_space(line[end - 1]))
        end--;
    g_string_append_len(out, line, (gssize)i);
    while (i < end) {
        size_t ws = i;
        while (i < end && is_space(line[i]))
            i++;
        size_t t = i;
        while (i < end && !is_space(line[i]))
            i++;
        if (!ks_token(line + t, i - t)) /* an earlier inst.ks= goes, with the blanks before it */
            g_string_append_len(out, line + ws, (gssize)(i - ws));
    }
    g_string_append_c(out, ' ');
    g_string_append(out, ks_arg);
    g_string_append_len(out, line + end, (gssize)(len - end));
    return TRUE;
}

char *dcn_iso_cfg_set_ks(const char *cfg, DcnIsoCfgKind kind, const char *ks_arg, guint *out_lines)
{
    GString *out = g_string_sized_new(strlen(cfg) + 256);
    guint lines = 0;
    for (const char *p = cfg; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t content = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
        if (edit_line(out, p, content, kind, ks_arg))
            lines++;
        g_string_append_len(out, p + content, (gssize)(len - content));
        if (!nl)
            break;
        g_string_append_c(out, '\n');
        p = nl + 1;
    }
    if (out_lines)
        *out_lines = lines;
    return g_string_free(out, FALSE);
}

char *dcn_iso_label_escape(const char *label)
{
    GString *s = g_string_new(NULL);
    for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("#+.:=@_-", *p))
            g_string_append_c(s, (char)*p);
        else
            g_string_append_printf(s, "\\x%02x", *p);
    }
    return g_string_free(s, FALSE);
}

const char *dcn_iso_arg_check(const char *s)
{
    if (!s || !*s)
        return "it is empty";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!g_ascii_isalnum(*p) && !strchr("-._~:/?=%+@,!*&[]", *p))
            return "only letters, digits and -._~:/?=%+@,!*&[] can go on a kernel command line unquoted in both "
                   "isolinux.cfg and grub.cfg (percent-encode the rest)";
    return NULL;
}

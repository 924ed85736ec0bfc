/* The pure parts of `dcn-builder iso` (builder/iso/iso.h): inst.ks= on the
 * kernel lines of isolinux.cfg and grub.cfg, the label as udev names it,
 * what can go on a kernel command line, and the offline kickstart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "definition.h"
#include "error.h"
#include "iso.h"

#define KS "inst.ks=http://dcn.example.com/dcn-edge.ks"

typedef struct {
    const char *name;
    DcnIsoCfgKind kind;
    const char *in;
    const char *out;
    guint lines;
} CfgCase;

static const CfgCase cfg_cases[] = {
    {"isolinux entry", DCN_ISO_CFG_ISOLINUX,
     "label linux\n  kernel vmlinuz\n  append initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet\n",
     "label linux\n  kernel vmlinuz\n  append initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet " KS
     "\n",
     1},
    {"isolinux: only append lines, any case", DCN_ISO_CFG_ISOLINUX,
     "menu label ^append me\n  APPEND a\n\tappend\tb  \nappended x\n",
     "menu label ^append me\n  APPEND a " KS "\n\tappend\tb " KS "  \nappended x\n", 2},
    {"isolinux: an earlier inst.ks= or ks= is replaced", DCN_ISO_CFG_ISOLINUX,
     "append a inst.ks=hd:LABEL=X:/old.cfg b ks=nfs:x:/y c\n", "append a b c " KS "\n", 1},
    {"isolinux: CRLF and no final newline kept", DCN_ISO_CFG_ISOLINUX, "append a\r\nappend b", "append a " KS "\r\nappend b " KS,
     2},
    {"grub: linux, linuxefi, linux16; initrd untouched", DCN_ISO_CFG_GRUB,
     "menuentry 'Install' {\n\tlinuxefi /images/pxeboot/vmlinuz quiet\n\tinitrdefi /images/pxeboot/initrd.img\n}\n"
     "\tlinux /v a\n  linux16 /v\nset linux=1\n",
     "menuentry 'Install' {\n\tlinuxefi /images/pxeboot/vmlinuz quiet " KS "\n\tinitrdefi /images/pxeboot/initrd.img\n}\n"
     "\tlinux /v a " KS "\n  linux16 /v " KS "\nset linux=1\n",
     3},
    {"grub: append lines are not grub's", DCN_ISO_CFG_GRUB, "append a\n", "append a\n", 0},
    {"nothing to edit", DCN_ISO_CFG_ISOLINUX, "default linux\n", "default linux\n", 0},
};

static void cfg_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(cfg_cases); i++) {
        const CfgCase *c = &cfg_cases[i];
        guint lines = 99;
        g_autofree char *out = dcn_iso_cfg_set_ks(c->in, c->kind, KS, &lines);
        if (strcmp(out, c->out) != 0 || lines != c->lines)
            fail_msg("%s: got [%s] (%u lines), expected [%s] (%u)", c->name, out, lines, c->out, c->lines);
        /* idempotent: a second edit changes nothing */
        g_autofree char *again = dcn_iso_cfg_set_ks(out, c->kind, KS, NULL);
        if (strcmp(again, out) != 0)
            fail_msg("%s: not idempotent: [%s] then [%s]", c->name, out, again);
    }
}

static void label_escape(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"RHEL-9-4-0-BaseOS-x86_64", "RHEL-9-4-0-BaseOS-x86_64"},
        {"Fedora 40", "Fedora\\x2040"},
        {"a/b'c", "a\\x2fb\\x27c"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = dcn_iso_label_escape(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
    }
}

static void arg_check(void **state)
{
    (void)state;
    assert_null(dcn_iso_arg_check("inst.ks=https://dcn.apps.example.com:8443/dcn-edge.ks?x=1&y=%20"));
    assert_null(dcn_iso_arg_check("inst.ks=http://[::1]:8080/a.ks"));
    assert_null(dcn_iso_arg_check("inst.ks=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64:/ks.cfg"));
    static const char *const bad[] = {"", "a b", "a'b", "a\"b", "a$b", "a;b", "a\\b", "a#b", "a{b", "a\nb", "a\tb", "é"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        if (!dcn_iso_arg_check(bad[i]))
            fail_msg("accepted [%s]", bad[i]);
}

static const char *const TEMPLATE = "# Kickstart for dcn-edge (rhel/9/x86_64/edge), written by dcn-builder.\n"
                                    "# dcn-hoster fills in @URL@, @REPO_URL@ and @REF@ when it serves this file.\n"
                                    "ostreesetup --osname=rhel --remote=rhel --url=@REPO_URL@ --ref=@REF@\n"
                                    "%pre --erroronfail\n"
                                    "curl -fsS -o /usr/share/ostree/trusted.gpg.d/dcn-edge.gpg @URL@/dcn-edge.gpg\n"
                                    "%end\n"
                                    "%post\n"
                                    "# a comment keeps @COMMIT@\n"
                                    "echo @COMMIT@ @OTHER@\n"
                                    "%end\n";

static DcnIsoKickstart ks_in(void)
{
    return (DcnIsoKickstart){
        .template_text = TEMPLATE,
        .name = "dcn-edge",
        .osname = "rhel",
        .ref = "rhel/9/x86_64/edge",
        .commit = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        .version = "1.0.0",
        .hoster_repo_url = "https://dcn.apps.example.com/repo",
    };
}

static guint count(const char *hay, const char *needle)
{
    guint n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void offline_unsigned(void **state)
{
    (void)state;
    DcnIsoKickstart in = ks_in();
    g_autoptr(GError) e = NULL;
    g_autofree char *ks = dcn_iso_offline_kickstart(&in, &e);
    assert_non_null(ks);
    /* the comment lines at the top stay as written */
    assert_true(g_str_has_prefix(ks, "# Kickstart for dcn-edge (rhel/9/x86_64/edge), written by dcn-builder.\n"
                                     "# dcn-hoster fills in @URL@, @REPO_URL@ and @REF@ when it serves this file.\n"));
    assert_non_null(strstr(ks, "\nostreesetup --osname=rhel --remote=rhel --url=file:///run/install/repo/ostree/repo "
                               "--ref=rhel/9/x86_64/edge\n"));
    assert_non_null(strstr(ks, "\ncurl -fsS -o /usr/share/ostree/trusted.gpg.d/dcn-edge.gpg "
                               "file:///run/install/repo/dcn-edge.gpg\n"));
    assert_non_null(strstr(ks, "\necho 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef @OTHER@\n"));
    assert_non_null(strstr(ks, "\n# a comment keeps @COMMIT@\n"));
    assert_non_null(strstr(ks, "\nostree remote add --set=gpg-verify=false rhel 'https://dcn.apps.example.com/repo' "
                               "rhel/9/x86_64/edge\n"));
    assert_non_null(strstr(ks, "\nset -e\nrm -f /etc/ostree/remotes.d/rhel.conf\nostree remote delete --if-exists rhel\n"));
    assert_null(strstr(ks, "gpg-import"));
    assert_null(strstr(ks, "tls-ca-path"));
    /* the ISO is visible to the %post scripts in between, and let go after */
    const char *bind = strstr(ks, "mount --bind /run/install/repo");
    const char *tmpl = strstr(ks, "\nostreesetup");
    const char *unbind = strstr(ks, "umount ");
    assert_true(bind && tmpl && unbind && bind < tmpl && tmpl < unbind);
    assert_int_equal(count(ks, "\n%post"), 4);
    assert_int_equal(count(ks, "\n%end"), 5);
}

static void offline_signed_with_ca(void **state)
{
    (void)state;
    DcnIsoKickstart in = ks_in();
    static const guchar key[] = {0x99, 0x01, 0x0d, 0x04, 0x00, 0xff, 'k', 'e', 'y'};
    g_autoptr(GBytes) kb = g_bytes_new_static(key, sizeof key);
    in.gpg_key = kb;
    in.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    g_autoptr(GError) e = NULL;
    g_autofree char *ks = dcn_iso_offline_kickstart(&in, &e);
    assert_non_null(ks);
    assert_non_null(strstr(ks, "\nostree remote add --set=gpg-verify=true --set=tls-ca-path=/etc/pki/dcn-edge-hoster-ca.pem "
                               "rhel 'https://dcn.apps.example.com/repo' rhel/9/x86_64/edge\n"));
    assert_non_null(strstr(ks, "cat > /etc/pki/dcn-edge-hoster-ca.pem <<'DCN_ISO_CA_EOF'\n-----BEGIN CERTIFICATE-----\nMIIB\n"
                               "-----END CERTIFICATE-----\nDCN_ISO_CA_EOF\n"));
    g_autofree char *b64 = g_base64_encode(key, sizeof key);
    g_autofree char *key_doc = g_strdup_printf("base64 -d > /etc/pki/dcn-edge-ostree.gpg <<'DCN_ISO_KEY_EOF'\n%s\n"
                                               "DCN_ISO_KEY_EOF\nostree remote gpg-import --keyring=/etc/pki/dcn-edge-ostree.gpg rhel\n",
                                               b64);
    assert_non_null(strstr(ks, key_doc));
    /* the CA is written before the remote that names it */
    assert_true(strstr(ks, "cat > /etc/pki/dcn-edge-hoster-ca.pem") < strstr(ks, "ostree remote add"));
}

static void offline_refuses_unsafe_values(void **state)
{
    (void)state;
    struct {
        const char *url, *ca, *ref;
    } cases[] = {
        {"https://dcn.example.com/repo' ; reboot ; '", NULL, NULL},
        {"https://dcn.example.com/re po", NULL, NULL},
        {NULL, "not a certificate", NULL},
        {NULL, "-----BEGIN CERTIFICATE-----\nDCN_ISO_CA_EOF\nreboot\n", NULL},
        {NULL, "-----BEGIN CERTIFICATE-----\n\x01\n", NULL},
        {NULL, NULL, "rhel/9\nreboot"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        DcnIsoKickstart in = ks_in();
        if (cases[i].url)
            in.hoster_repo_url = cases[i].url;
        in.ca_pem = cases[i].ca;
        if (cases[i].ref)
            in.ref = cases[i].ref;
        g_autoptr(GError) e = NULL;
        g_autofree char *ks = dcn_iso_offline_kickstart(&in, &e);
        if (ks)
            fail_msg("case %zu accepted", i);
        assert_true(g_error_matches(e, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT));
    }
}

/* The iso.* keys: defaults, @VERSION@, the mode's values. */
static void definition_keys(void **state)
{
    (void)state;
    static const char base[] = "name: dcn-edge\nversion: 2.0.0\nref: rhel/9/x86_64/edge\nrepo: /srv/dcn/root/repo\n";
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) e = NULL;
    assert_true(dcn_definition_parse(def, base, strlen(base), "d.yaml", "/srv/dcn", &e));
    assert_true(dcn_definition_finish(def, &e));
    assert_null(def->iso_boot_iso);
    assert_string_equal(def->iso_mode, "network");
    assert_string_equal(def->iso_output, "/srv/dcn/root/dcn-edge-2.0.0.iso");

    g_autofree char *doc = g_strconcat(base, "iso:\n  boot_iso: ./boot.iso\n  output: ./out/@VERSION@/x-@VERSION@.iso\n"
                                             "  mode: offline\n",
                                       NULL);
    g_autoptr(DcnDefinition) d2 = dcn_definition_new();
    assert_true(dcn_definition_parse(d2, doc, strlen(doc), "d.yaml", "/srv/dcn", &e));
    assert_true(dcn_definition_set(d2, "version", "3.1.0", "--version", &e));
    assert_true(dcn_definition_finish(d2, &e));
    assert_string_equal(d2->iso_boot_iso, "/srv/dcn/boot.iso");
    assert_string_equal(d2->iso_output, "/srv/dcn/out/3.1.0/x-3.1.0.iso");
    assert_string_equal(d2->iso_mode, "offline");

    g_autofree char *bad = g_strconcat(base, "iso:\n  mode: usb\n", NULL);
    g_autoptr(DcnDefinition) d3 = dcn_definition_new();
    assert_false(dcn_definition_parse(d3, bad, strlen(bad), "d.yaml", "/srv/dcn", &e));
    assert_non_null(strstr(e->message, "d.yaml:6: key 'iso.mode': expected network or offline, got 'usb'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cfg_table),
        cmocka_unit_test(label_escape),
        cmocka_unit_test(arg_check),
        cmocka_unit_test(offline_unsigned),
        cmocka_unit_test(offline_signed_with_ca),
        cmocka_unit_test(offline_refuses_unsafe_values),
        cmocka_unit_test(definition_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

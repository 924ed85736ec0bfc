/* ks_syntax: what a value from the definition may be before it goes into a
 * kickstart, and which commands a kickstart text already has. Pure
 * functions over strings: no I/O (definition.c and the unit tests use them).
 *
 * Anaconda (pykickstart) splits a command line like a POSIX shell (shlex,
 * '#' starts a comment): a value holding a blank, a quote, a backslash, '#'
 * or a line break could end its argument, add one, or start a new command.
 * So every value is checked against a strict pattern of characters that
 * need no quoting; the one exception, the ssh key, is written between
 * double quotes and may hold neither '"' nor '\'. No value may hold
 * "@NAME@" text either: dcn-hoster would replace its placeholders in it.
 *
 * The checks follow definition.c's KeyCheck: NULL when the value is fine,
 * else what was expected (the message says "expected <that>, got '...'"). */
#ifndef DCN_BUILDER_KS_SYNTAX_H
#define DCN_BUILDER_KS_SYNTAX_H

#include <glib.h>

/* kickstart.lang: a locale such as en_US.UTF-8 (ll[_CC][.charset][@modifier]). */
const char *dcn_ks_check_lang(const char *v);
/* kickstart.keyboard: a console keymap name such as us or de-nodeadkeys. */
const char *dcn_ks_check_keyboard(const char *v);
/* kickstart.timezone: UTC or Area/City (the shape; preflight looks the
 * name up in the build host's tzdata). */
const char *dcn_ks_check_timezone(const char *v);
/* kickstart.disk: a kernel disk name (vda, sda, nvme0n1), /dev/NAME, or a
 * /dev/disk/by-{id,path,uuid,label,partuuid,partlabel}/NAME link. "" is
 * accepted by the parser as "all disks" and never reaches this check. */
const char *dcn_ks_check_disk(const char *v);
/* kickstart.network: dhcp | dhcp:DEVICE (an interface name, a MAC
 * address, link or bootif) | boot (no network command: the installer's
 * own configuration from its boot options, e.g. ip=, is kept). */
const char *dcn_ks_check_network(const char *v);
/* kickstart.user.name: POSIX portable [a-z_][a-z0-9_-]*, at most 32, not root. */
const char *dcn_ks_check_user(const char *v);
/* kickstart.user.ssh_keys items: "TYPE BASE64 [COMMENT]", TYPE one
 * OpenSSH writes into authorized_keys, BASE64 a key blob that names the
 * same TYPE, COMMENT printable ASCII without '"' or '\'. */
const char *dcn_ks_check_ssh_key(const char *v);
/* kickstart.user.password_hash: a crypt(5) hash such as $6$salt$hash. */
const char *dcn_ks_check_password_hash(const char *v);
/* kickstart.updates: none | check | stage. */
const char *dcn_ks_check_updates(const char *v);

/* The network value's parts: *device NULL for dhcp (link) and boot. */
typedef enum { DCN_KS_NETWORK_DHCP, DCN_KS_NETWORK_BOOT } DcnKsNetworkKind;
DcnKsNetworkKind dcn_ks_network_parse(const char *v, const char **device);

/* The commands of a kickstart text: the first word of every line that is
 * not blank, not a comment, not inside a %pre/%post/%packages/... section
 * (up to its %end) and not a %include/%ksappend directive. A set (keys
 * and values are the names), never NULL. */
GHashTable *dcn_ks_commands(const char *text);

/* The CERTIFICATE blocks of a PEM text, each line of their base64 body
 * checked, with everything between them (openssl's "subject=" lines,
 * comments) left out; '\n'-terminated lines. NULL and an error naming the
 * line when there is no block or a block is malformed. */
char *dcn_ks_pem_certificates(const char *text, gsize len, GError **error);

#endif

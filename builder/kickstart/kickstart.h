/* kickstart: the kickstart dcn-builder writes next to the repo, from the
 * definition. dcn_kickstart_render (render.c) is pure: the files it needs
 * (kickstart.template, the certificates of kickstart.ca_file) are read by
 * dcn_kickstart_read_inputs (stage.c) and passed in, so the unit tests feed
 * it tables of definitions.
 *
 * The built-in text installs with nobody at the console: text, lang,
 * keyboard, timezone, [ignoredisk], zerombr, clearpart, autopart, network,
 * rootpw --lock, [user, sshkey], reboot, ostreesetup; then a %pre and a
 * %post for what the CA, the GPG key, the account and the update policy
 * need; then kickstart.extra. A built-in command is left out (with a
 * comment saying so) when kickstart.extra has a command of its kind (part
 * lines instead of autopart, poweroff instead of reboot...). With
 * kickstart.template the template replaces all of that; extra is still
 * appended. Placeholders (@URL@, @REPO_URL@, @REF@, @COMMIT@) are left for
 * dcn-hoster, which fills them in commands, not in comment lines. */
#ifndef DCN_BUILDER_KICKSTART_H
#define DCN_BUILDER_KICKSTART_H

#include <glib.h>

#include "definition.h"
#include "progress.h"

/* dcn-hoster serves kickstarts up to this size (hoster/kickstart.c). */
#define DCN_KICKSTART_MAX (1u << 20)

typedef struct {
    const char *template_text; /* kickstart.template's content; NULL: the built-in text */
    const char *ca_pem;        /* kickstart.ca_file's certificates (dcn_ks_pem_certificates); NULL: none */
} DcnKickstartInputs;

/* The text for def (finished: defaults filled). Never fails: every value
 * was checked when the definition was read. */
char *dcn_kickstart_render(const DcnDefinition *def, const DcnKickstartInputs *in);

/* stage.c: reads kickstart.template (no NUL byte) and the certificates of
 * kickstart.ca_file (dcn_ks_pem_certificates) for render; the preflight
 * calls it too, so a bad file stops a run before anything starts. Each
 * out is left NULL when its key is not set. */
gboolean dcn_kickstart_read_inputs(const DcnDefinition *def, char **template_text, char **ca_pem, GError **error);

/* stage.c: writes the kickstart (and, when signing, the public key as
 * <name>.gpg beside the repo) if their contents differ; sets *changed when
 * it wrote. Publish and rollback run it as their last step (release.h). */
gboolean dcn_kickstart_write(const DcnDefinition *def, DcnProgress *progress, gboolean *changed, GError **error);

/* stage.c: `gpg --export` of sign.gpg_key_id (a binary keyring). */
gboolean dcn_gpg_export_public_key(const DcnDefinition *def, GBytes **out, GError **error);

#endif

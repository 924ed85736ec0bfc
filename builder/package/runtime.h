/* runtime: what the image needs to run dcn-hoster: the binary, exactly the
 * shared libraries the dynamic loader maps for it (as `ldd` reports them:
 * the loader's own view, including the ELF interpreter) and a minimal
 * /etc/passwd and /etc/group. Libraries keep the path the loader found them
 * at, so the image's loader finds them through its default search path. */
#ifndef DCN_BUILDER_RUNTIME_H
#define DCN_BUILDER_RUNTIME_H

#include <glib.h>

/* Where the hoster lives in the image, and its content root. */
#define DCN_IMAGE_HOSTER_PATH "usr/bin/dcn-hoster"
#define DCN_IMAGE_CONTENT_ROOT "srv/dcn/content"

/* Parses `ldd` output (pure: no I/O). Appends to paths the absolute path of
 * every object the loader maps (libraries and the interpreter; the vDSO is
 * skipped). Returns FALSE and sets *missing to the first library ldd could
 * not find ("libfoo.so.1 => not found"). "statically linked" / "not a
 * dynamic executable" give no paths and TRUE. */
gboolean dcn_ldd_parse(const char *text, GPtrArray *paths, char **missing);

/* The OCI architecture name for an ELF e_machine ("amd64", "arm64", ...),
 * NULL when unknown. */
const char *dcn_elf_oci_arch(guint16 e_machine);

/* The hoster binary to package: explicit (image.hoster) when set, else the
 * dcn-hoster next to the running dcn-builder (installed layout), else the
 * one in the build tree dcn-builder was built in. */
char *dcn_runtime_find_hoster(const char *explicit_path, GError **error);

/* What `hoster --version` says ("dcn-hoster 0.1.0 (commit abc123)"): its
 * version and commit into *version and *commit (newly allocated). FALSE,
 * with both NULL, for a hoster that does not say (an older build). */
gboolean dcn_runtime_hoster_version(const char *hoster, char **version, char **commit);

/* Fills entries (DcnLayerEntry) with the runtime layer: the hoster at
 * DCN_IMAGE_HOSTER_PATH, its libraries, the interpreter, etc/passwd,
 * etc/group, tmp/ and empty proc/ sys/ dev/ (mount points on a read-only
 * root). Sets *arch from the binary's ELF header. */
gboolean dcn_runtime_collect(const char *hoster, GPtrArray *entries, const char **arch, GError **error);

#endif

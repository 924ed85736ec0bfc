/* package.h: the parts of the package stage and the image they build
 * together (package.c runs them in order; see its opening comment for the
 * layers and docs/image.md for the image).
 *
 *   previous.c      the image to build on, and which of its object layers stay
 *   repo_files.c    what the repo holds: objects, and the mutable files
 *   image_config.c  the config and manifest documents
 *   layout_index.c  index.json: this version's entry in, unkept ones and
 *                   unreferenced blobs out
 *   oci_archive.c   the optional oci-archive of this one image
 *
 * Every part works on one DcnPackageBuild: it reads what earlier steps
 * filled in and adds its own results. */
#ifndef DCN_BUILDER_PACKAGE_H
#define DCN_BUILDER_PACKAGE_H

#include "layer.h"
#include "oci.h"
#include "repo.h"
#include "stage.h"

#include <glib.h>
#include <json-glib/json-glib.h>

/* A previous object layer keeps being reused while at least this share of
 * its bytes is still in the repo. */
#define DCN_PACKAGE_REPACK_PERCENT 25

/* Annotations and labels this stage writes and reads back. */
#define DCN_PACKAGE_ANN_ROLE "dcn.layer.role"       /* runtime | objects | iso | top */
#define DCN_PACKAGE_ANN_SHIPPED "dcn.layer.version" /* objects layers: the version that first shipped them */
#define DCN_PACKAGE_LBL_REF "dcn.ostree.ref"
#define DCN_PACKAGE_LBL_COMMIT "dcn.ostree.commit"
#define DCN_PACKAGE_LBL_PARENT "dcn.ostree.parent"
#define DCN_PACKAGE_LBL_HOSTER_VERSION "dcn.hoster.version" /* the packaged dcn-hoster's own version and commit */
#define DCN_PACKAGE_LBL_HOSTER_COMMIT "dcn.hoster.commit"
#define DCN_PACKAGE_LBL_VERSION "org.opencontainers.image.version"
#define DCN_PACKAGE_LBL_TITLE "org.opencontainers.image.title"
#define DCN_PACKAGE_LBL_CREATED "org.opencontainers.image.created"

/* One image already in the layout. */
typedef struct {
    char *tag;
    char *commit;
    JsonObject *manifest;
    JsonObject *config;
} DcnPackagePrevious;

void dcn_package_previous_free(DcnPackagePrevious *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnPackagePrevious, dcn_package_previous_free)

/* A layer of the new manifest. */
typedef struct {
    char *role;
    char *shipped; /* objects layers: the version that first shipped it */
    char *media_type;
    char *digest;
    char *diff_id;
    gint64 size;
    gboolean reused; /* taken from the previous image as it is */
} DcnPackageLayer;

void dcn_package_layer_free(DcnPackageLayer *l);

/* The image being built. */
typedef struct {
    DcnStageCtx *ctx;
    const DcnDefinition *def;
    DcnOciLayout *layout;
    DcnLayerCompression compression;
    GPtrArray *history;       /* DcnVersion, newest first: what the repo keeps */
    const DcnVersion *head;   /* history[0]: the version packed */
    char *repo_prefix;        /* srv/dcn/content/repo */
    gint64 mtime;             /* the head's timestamp: the time of every changing file */
    char *created;            /* the same, as ISO 8601 */
    char *hoster;             /* the dcn-hoster binary packaged */
    char *hoster_version, *hoster_commit; /* what it says it is, or NULL */
    const char *arch;         /* OCI architecture of the hoster (static string) */
    DcnPackagePrevious *prev; /* the image built on, or NULL */
    GPtrArray *layers;        /* DcnPackageLayer, bottom to top */

    /* the repo's objects (filled by dcn_package_list_objects) */
    GHashTable *objects;    /* "objects/XX/NAME" → gint64 * size */
    GPtrArray *commitmeta;  /* "objects/XX/NAME.commitmeta": they go to the top layer */
    GHashTable *covered;    /* objects a kept previous layer already holds */
    GPtrArray *dead;        /* image paths of pruned objects in kept layers: whiteouts */
    guint reused_objects, new_objects;
} DcnPackageBuild;

/* ---- previous.c ---- */

/* The image to build on: the one holding the head's parent, else the newest
 * kept version's, else the last one of ours in the index; NULL with no error
 * when there is none. */
DcnPackagePrevious *dcn_package_find_previous(const DcnOciLayout *layout, JsonObject *index, GPtrArray *history,
                                              const char *tag, GError **error);
/* Whether the previous image (may be NULL) has a layer with this digest. */
gboolean dcn_package_previous_has_layer(const DcnPackagePrevious *prev, const char *digest);
/* Decides which of b->prev's object layers stay (appending them to
 * b->layers), marks the objects they hold in b->covered and lists pruned
 * ones in b->dead. */
gboolean dcn_package_reuse_object_layers(DcnPackageBuild *b, GError **error);

/* ---- repo_files.c ---- */

/* Fills b->objects and b->commitmeta from the repo's objects/ (every
 * object except .commitmeta, whose detached metadata changes when
 * signatures are added, goes to objects). */
gboolean dcn_package_list_objects(DcnPackageBuild *b, GError **error);
/* Adds everything under repo/rel except objects/, tmp/, state/ and
 * dot-files to entries, under prefix; *bytes grows by the files' sizes. */
gboolean dcn_package_add_mutable_tree(const char *repo, const char *rel, const char *prefix, GPtrArray *entries,
                                      guint64 *bytes, GError **error);

/* ---- image_config.c ---- */

/* The image config of b's layers (rootfs diff_ids, history, labels). */
JsonObject *dcn_package_config_json(const DcnPackageBuild *b);
/* The manifest listing config_digest/config_len and b's layers. */
JsonObject *dcn_package_manifest_json(const DcnPackageBuild *b, const char *config_digest, gsize config_len);

/* ---- layout_index.c ---- */

/* Puts manifest_desc into index in place of the entry with the same tag,
 * else at the end; then removes entries of ours whose commit b->history no
 * longer keeps, then blobs no remaining manifest refers to. */
gboolean dcn_package_update_index(DcnPackageBuild *b, JsonObject *index, JsonObject *manifest_desc,
                                  guint *pruned_images, guint *pruned_blobs, GError **error);

/* ---- oci_archive.c ---- */

/* Writes path (via path.tmp, renamed when complete) as an oci-archive: a
 * plain tar of a layout holding just this image. */
gboolean dcn_package_write_archive(DcnPackageBuild *b, const char *path, JsonObject *manifest_desc,
                                   JsonObject *manifest, GError **error);

#endif

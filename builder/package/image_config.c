/* image_config: the two documents that make the package stage's layers an
 * image: the config (how to run dcn-hoster, labels naming the version and
 * commit, the layers' diff_ids and history) and the manifest (the config's
 * and layers' descriptors). See package.h. */
#include "package.h"
#include "runtime.h"

static JsonObject *labels_json(const DcnPackageBuild *b)
{
    const DcnDefinition *def = b->def;
    JsonObject *labels = json_object_new();
    json_object_set_string_member(labels, DCN_PACKAGE_LBL_TITLE, def->name);
    json_object_set_string_member(labels, DCN_PACKAGE_LBL_VERSION, def->version);
    json_object_set_string_member(labels, DCN_PACKAGE_LBL_CREATED, b->created);
    json_object_set_string_member(labels, DCN_PACKAGE_LBL_REF, def->ref);
    json_object_set_string_member(labels, DCN_PACKAGE_LBL_COMMIT, b->head->commit);
    if (b->hoster_version) {
        json_object_set_string_member(labels, DCN_PACKAGE_LBL_HOSTER_VERSION, b->hoster_version);
        json_object_set_string_member(labels, DCN_PACKAGE_LBL_HOSTER_COMMIT, b->hoster_commit);
    }
    if (b->head->parent)
        json_object_set_string_member(labels, DCN_PACKAGE_LBL_PARENT, b->head->parent);
    return labels;
}

/* The config's "config": how a runtime starts dcn-hoster. */
static JsonObject *run_config_json(const DcnPackageBuild *b)
{
    JsonObject *cc = json_object_new();
    json_object_set_string_member(cc, "User", "1001");
    JsonObject *ports = json_object_new();
    json_object_set_object_member(ports, "8080/tcp", json_object_new());
    json_object_set_object_member(cc, "ExposedPorts", ports);
    JsonArray *env = json_array_new();
    json_array_add_string_element(env, "PATH=/usr/bin");
    g_autofree char *ref_env = g_strconcat("DCN_HOSTER_REF=", b->def->ref, NULL);
    json_array_add_string_element(env, ref_env);
    json_object_set_array_member(cc, "Env", env);
    JsonArray *ep = json_array_new();
    json_array_add_string_element(ep, "/" DCN_IMAGE_HOSTER_PATH);
    json_object_set_array_member(cc, "Entrypoint", ep);
    JsonArray *cmd = json_array_new();
    json_array_add_string_element(cmd, "--listen=0.0.0.0:8080");
    json_array_add_string_element(cmd, "--root=/" DCN_IMAGE_CONTENT_ROOT);
    json_object_set_array_member(cc, "Cmd", cmd);
    json_object_set_string_member(cc, "WorkingDir", "/");
    json_object_set_object_member(cc, "Labels", labels_json(b));
    json_object_set_string_member(cc, "StopSignal", "SIGTERM");
    return cc;
}

/* The history's "created_by" of a layer. */
static char *created_by(const DcnPackageBuild *b, const DcnPackageLayer *l)
{
    if (g_str_equal(l->role, "runtime"))
        return g_strdup("dcn-builder package: dcn-hoster and the shared objects it loads");
    if (g_str_equal(l->role, "objects"))
        return g_strdup_printf("dcn-builder package: ostree objects first shipped in %s", l->shipped);
    if (g_str_equal(l->role, "iso"))
        return g_strdup_printf("dcn-builder package: the installer ISO of %s", b->def->version);
    return g_strdup_printf("dcn-builder package: repo metadata, deltas, kickstart of %s", b->def->version);
}

JsonObject *dcn_package_config_json(const DcnPackageBuild *b)
{
    JsonObject *rootfs = json_object_new();
    json_object_set_string_member(rootfs, "type", "layers");
    JsonArray *diff_ids = json_array_new();
    JsonArray *history = json_array_new();
    for (guint i = 0; i < b->layers->len; i++) {
        const DcnPackageLayer *l = b->layers->pdata[i];
        json_array_add_string_element(diff_ids, l->diff_id);
        JsonObject *h = json_object_new();
        json_object_set_string_member(h, "created", b->created);
        g_autofree char *by = created_by(b, l);
        json_object_set_string_member(h, "created_by", by);
        json_array_add_object_element(history, h);
    }
    json_object_set_array_member(rootfs, "diff_ids", diff_ids);

    JsonObject *c = json_object_new();
    json_object_set_string_member(c, "created", b->created);
    json_object_set_string_member(c, "architecture", b->arch);
    json_object_set_string_member(c, "os", "linux");
    json_object_set_object_member(c, "config", run_config_json(b));
    json_object_set_object_member(c, "rootfs", rootfs);
    json_object_set_array_member(c, "history", history);
    return c;
}

static JsonObject *layer_annotations(const DcnPackageLayer *l)
{
    JsonObject *a = json_object_new();
    json_object_set_string_member(a, DCN_PACKAGE_ANN_ROLE, l->role);
    if (l->shipped)
        json_object_set_string_member(a, DCN_PACKAGE_ANN_SHIPPED, l->shipped);
    return a;
}

JsonObject *dcn_package_manifest_json(const DcnPackageBuild *b, const char *config_digest, gsize config_len)
{
    const DcnDefinition *def = b->def;
    JsonObject *manifest = json_object_new();
    json_object_set_int_member(manifest, "schemaVersion", 2);
    json_object_set_string_member(manifest, "mediaType", DCN_OCI_MANIFEST_TYPE);
    json_object_set_object_member(manifest, "config",
                                  dcn_oci_descriptor_json(DCN_OCI_CONFIG_TYPE, config_digest, (gint64)config_len, NULL));
    JsonArray *layers = json_array_new();
    for (guint i = 0; i < b->layers->len; i++) {
        const DcnPackageLayer *l = b->layers->pdata[i];
        g_autoptr(JsonObject) la = layer_annotations(l);
        json_array_add_object_element(layers, dcn_oci_descriptor_json(l->media_type, l->digest, l->size, la));
    }
    json_object_set_array_member(manifest, "layers", layers);
    JsonObject *ann = json_object_new();
    json_object_set_string_member(ann, DCN_PACKAGE_LBL_CREATED, b->created);
    json_object_set_string_member(ann, DCN_PACKAGE_LBL_TITLE, def->name);
    json_object_set_string_member(ann, DCN_PACKAGE_LBL_VERSION, def->version);
    json_object_set_string_member(ann, DCN_PACKAGE_LBL_REF, def->ref);
    json_object_set_string_member(ann, DCN_PACKAGE_LBL_COMMIT, b->head->commit);
    json_object_set_object_member(manifest, "annotations", ann);
    return manifest;
}

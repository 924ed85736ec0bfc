/* Fuzz target: OCI JSON documents (builder/package/oci.h): a descriptor
 * (dcn_oci_descriptor_parse) and an index (dcn_oci_index_find, and every
 * descriptor of its manifests array).
 * Input: the JSON text (an exact-size heap copy).
 * Invariants: a parsed descriptor has a media type, a valid sha256 digest
 * and a size >= 0; a refused one has an error and no fields; index_find
 * returns NULL or one of the index's manifests whose ref.name is the tag;
 * no GLib critical or warning. */
#include "fuzz_glib.h"

#include <json-glib/json-glib.h>

#include "oci.h"

static void check_descriptor(JsonObject *o)
{
    DcnOciDescriptor d;
    GError *error = NULL;
    gboolean ok = dcn_oci_descriptor_parse(o, &d, &error);
    CHECK(ok == (error == NULL));
    if (ok)
        CHECK(d.media_type && dcn_oci_digest_valid(d.digest) && d.size >= 0);
    else
        CHECK(!d.media_type && !d.digest);
    dcn_oci_descriptor_clear(&d);
    g_clear_error(&error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_glib_init(0), ready = 1;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    JsonParser *p = json_parser_new();
    JsonNode *root = json_parser_load_from_data(p, buf, (gssize)size, NULL) ? json_parser_get_root(p) : NULL;
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        check_descriptor(o);
        JsonNode *m = json_object_get_member(o, "manifests");
        if (m && JSON_NODE_HOLDS_ARRAY(m)) {
            JsonArray *a = json_node_get_array(m);
            for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonNode *e = json_array_get_element(a, i);
                if (JSON_NODE_HOLDS_OBJECT(e))
                    check_descriptor(json_node_get_object(e));
            }
        }
        static const char *const tags[] = {"1.0.0", "", "latest"};
        for (size_t t = 0; t < G_N_ELEMENTS(tags); t++) {
            JsonObject *found = dcn_oci_index_find(o, tags[t]);
            if (!found)
                continue;
            CHECK(m && JSON_NODE_HOLDS_ARRAY(m));
            JsonArray *a = json_node_get_array(m);
            gboolean member = FALSE;
            for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonNode *e = json_array_get_element(a, i);
                member |= JSON_NODE_HOLDS_OBJECT(e) && json_node_get_object(e) == found;
            }
            CHECK(member);
        }
    }
    g_object_unref(p);
    free(buf);
    return 0;
}

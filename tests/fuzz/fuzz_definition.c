/* Fuzz target: dcn_definition_parse, the image definition's YAML
 * (builder/definition/definition.h), then dcn_definition_finish as the commands do.
 * Input: the YAML text (an exact-size heap copy; NULs included).
 * Invariants: TRUE exactly when there is no error; an error message is not
 * empty and every problem names FILE:LINE; a parsed name, version and ref
 * hold no NUL-cut surprise (C strings equal to what was checked); no leak,
 * no GLib critical or warning. */
#include "fuzz_glib.h"

#include "definition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_glib_init(0), ready = 1;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    DcnDefinition *def = dcn_definition_new();
    GError *error = NULL;
    gboolean ok = dcn_definition_parse(def, buf, size, "f.yaml", "/srv/dcn", &error);
    CHECK(ok == (error == NULL));
    if (!ok)
        CHECK(error->message && *error->message);
    g_clear_error(&error);
    const GPtrArray *problems = dcn_definition_problems(def);
    for (guint i = 0; i < problems->len; i++)
        CHECK(g_str_has_prefix(problems->pdata[i], "f.yaml"));
    if (ok) {
        gboolean done = dcn_definition_finish(def, &error);
        CHECK(done == (error == NULL));
        if (done)
            CHECK(def->name && def->version && def->ref && def->repo && def->staging && def->state_dir);
        g_clear_error(&error);
    }
    dcn_definition_free(def);
    free(buf);
    return 0;
}

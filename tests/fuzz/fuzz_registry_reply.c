/* Fuzz target: a registry's replies (builder/push/registry_reply.h): the
 * token endpoint's JSON and the errors body of a failed request.
 * Input: the body (an exact-size heap copy).
 * Invariants: a token is non-empty visible ASCII (it goes into an
 * Authorization header), no token comes with an error; the error text is
 * never NULL, at most DCN_REGISTRY_ERROR_TEXT_MAX bytes, one line; no
 * GLib critical or warning. */
#include "fuzz_glib.h"

#include "registry_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_glib_init(0), ready = 1;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    GError *error = NULL;
    char *token = dcn_registry_parse_token(buf, size, &error);
    CHECK((token == NULL) == (error != NULL));
    if (token) {
        CHECK(*token);
        for (const char *c = token; *c; c++)
            CHECK((unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f);
    }
    g_free(token);
    g_clear_error(&error);

    char *text = dcn_registry_error_text(buf, size);
    CHECK(text && strlen(text) <= DCN_REGISTRY_ERROR_TEXT_MAX && fuzz_one_line(text));
    g_free(text);
    free(buf);
    return 0;
}

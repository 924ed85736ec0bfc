/* Fuzz target: dcn_ldd_parse, the output of `ldd` on the hoster
 * (builder/package/runtime.h).
 * Input: the output (a NUL-terminated exact-size heap copy).
 * Invariants: FALSE exactly when *missing is set; every path is absolute,
 * one line, appears once; a second parse appends nothing new. */
#include "fuzz_glib.h"

#include "runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_glib_init(0), ready = 1;
    char *text = fuzz_strndup(data, size);
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    char *missing = (char *)"unset";
    gboolean ok = dcn_ldd_parse(text, paths, &missing);
    CHECK(ok ? missing == NULL : missing != NULL);
    for (guint i = 0; i < paths->len; i++) {
        const char *p = paths->pdata[i];
        CHECK(p[0] == '/' && !strchr(p, '\n'));
        for (guint j = 0; j < i; j++)
            CHECK(strcmp(p, paths->pdata[j]) != 0);
    }
    if (ok) {
        guint n = paths->len;
        char *missing2 = NULL;
        CHECK(dcn_ldd_parse(text, paths, &missing2) && paths->len == n);
    }
    g_free(missing);
    g_ptr_array_unref(paths);
    free(text);
    return 0;
}

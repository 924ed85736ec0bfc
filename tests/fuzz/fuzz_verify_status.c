/* Fuzz target: dcn_verify_parse_status, a rolled-out hoster's /-/status
 * JSON (builder/deploy/verify.h).
 * Input: byte 0 picks the ref asked for, the rest is the body (an
 * exact-size heap copy).
 * Invariants: TRUE exactly when there is no error; FALSE leaves nothing
 * set; no GLib critical or warning. */
#include "fuzz_glib.h"

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_glib_init(0), ready = 1;
    if (size < 1)
        return 0;
    static const char *const refs[] = {"rhel/9/x86_64/edge", "a", "", "refs"};
    const char *ref = refs[data[0] % 4];
    size--, data++;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    DcnServed s;
    GError *error = NULL;
    gboolean ok = dcn_verify_parse_status(buf, size, ref, &s, &error);
    CHECK(ok == (error == NULL));
    if (!ok)
        CHECK(!s.ready && !s.draining && !s.commit);
    CHECK(s.ready == TRUE || s.ready == FALSE);
    dcn_served_clear(&s);
    g_clear_error(&error);
    free(buf);
    return 0;
}

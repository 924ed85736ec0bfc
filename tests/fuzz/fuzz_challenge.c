/* Fuzz target: dcn_challenge_parse, the WWW-Authenticate header of a
 * registry's 401 (builder/push/challenge.h).
 * Input: the header value (an exact-size heap copy).
 * Invariants: the result is 0 or -1; -1 leaves *out all zero; on 0 every
 * field is a NUL-terminated string inside its array, with no control
 * character but tab; NONE has no fields, Bearer always has a realm; the
 * same input parses the same twice. */
#include "fuzz_glib.h"

#include "challenge.h"

static int terminated(const char *f, size_t cap)
{
    return memchr(f, '\0', cap) != NULL;
}

static int clean(const char *f)
{
    for (; *f; f++)
        if (((unsigned char)*f < 0x20 && *f != '\t') || *f == 0x7f)
            return 0;
    return 1;
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
    DcnChallenge ch, again;
    memset(&ch, 0xa5, sizeof ch);
    int rc = dcn_challenge_parse(buf, size, &ch);
    CHECK(rc == 0 || rc == -1);
    CHECK(terminated(ch.realm, sizeof ch.realm) && terminated(ch.service, sizeof ch.service) &&
          terminated(ch.scope, sizeof ch.scope) && terminated(ch.error, sizeof ch.error));
    if (rc < 0 || ch.scheme == DCN_AUTH_NONE) {
        static const DcnChallenge zero;
        CHECK(ch.scheme == DCN_AUTH_NONE && !ch.realm[0] && !ch.service[0] && !ch.scope[0] && !ch.error[0]);
        CHECK(rc == 0 || memcmp(&ch, &zero, sizeof ch) == 0);
    } else {
        CHECK(ch.scheme == DCN_AUTH_BASIC || ch.scheme == DCN_AUTH_BEARER);
        CHECK(ch.scheme != DCN_AUTH_BEARER || ch.realm[0]);
        CHECK(clean(ch.realm) && clean(ch.service) && clean(ch.scope) && clean(ch.error));
    }
    CHECK(dcn_challenge_parse(buf, size, &again) == rc);
    CHECK(memcmp(&ch, &again, sizeof ch) == 0);
    free(buf);
    return 0;
}

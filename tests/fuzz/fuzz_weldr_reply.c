/* Fuzz target: osbuild-composer's Weldr API replies
 * (builder/compose/weldr_reply.h): every reply reader on the same body,
 * as status, depsolve, compose, delete and log replies.
 * Input: the body (an exact-size heap copy). The compose id the readers
 * look for is ID below (in the dictionary).
 * Invariants: errors are NULL or a non-empty line; a build id is a UUID;
 * the queue status and server fields are one word of visible ASCII (they
 * go into key=value event lines unquoted); the log tail is one line; no
 * leak, no GLib critical or warning. */
#include "fuzz_glib.h"

#include "weldr_reply.h"

#define ID "7e1a2b3c-0d4e-4f50-8a6b-7c8d9e0f1a2b"

static int one_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
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

    JsonParser *p = json_parser_new();
    CHECK(dcn_weldr_reply_object(p, "text/plain", buf, size) == NULL);
    JsonObject *o = dcn_weldr_reply_object(p, "application/json; charset=utf-8", buf, size);
    if (o) {
        char *errs = dcn_weldr_reply_errors(o);
        CHECK(!errs || (*errs && fuzz_one_line(errs)));
        if (errs) {
            char *missing = dcn_weldr_reply_missing_packages(errs);
            CHECK(!missing || fuzz_one_line(missing));
            g_free(missing);
        }
        g_free(errs);

        char *server = dcn_weldr_reply_server(o);
        char **words = g_strsplit(server, " ", -1);
        CHECK(g_strv_length(words) == 3);
        for (int i = 0; i < 3; i++)
            CHECK(one_word(words[i]));
        g_strfreev(words);
        g_free(server);

        (void)dcn_weldr_reply_dependencies(o);

        gint64 image_size = -1;
        char *st = dcn_weldr_reply_queue_status(o, ID, &image_size);
        CHECK(!st || one_word(st));
        g_free(st);

        char *id = dcn_weldr_reply_build_id(o);
        CHECK(!id || g_uuid_string_is_valid(id));
        g_free(id);

        GPtrArray *not_deleted = g_ptr_array_new_with_free_func(g_free);
        (void)dcn_weldr_reply_deleted(o, ID, not_deleted);
        for (guint i = 0; i < not_deleted->len; i++)
            CHECK(fuzz_one_line(not_deleted->pdata[i]));
        g_ptr_array_unref(not_deleted);
    }
    g_object_unref(p);

    char *tail = dcn_weldr_reply_log_tail(buf, size);
    CHECK(tail && fuzz_one_line(tail));
    g_free(tail);
    free(buf);
    return 0;
}

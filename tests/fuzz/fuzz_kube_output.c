/* Fuzz target: what kubectl prints (builder/deploy/kube_output.h): `get -o
 * json` objects (and the hoster image and annotations read from them), a
 * ReplicaSet list, `apply` output and stderr.
 * Input: the text (a NUL-terminated exact-size heap copy; NUL cuts it).
 * Invariants: an object comes exactly without an error; every past image
 * is pinned (REPO@sha256:<64 hex>), newest revision first; apply gives one
 * {"object","action"} per line and says changed exactly when an action is
 * not "unchanged"; the stderr tail is one line (no LF); no GLib critical or
 * warning. */
#include "fuzz_glib.h"

#include "kube_output.h"
#include "render.h"
#include "rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_glib_init(0), ready = 1;
    char *text = fuzz_strndup(data, size);
    size_t len = strlen(text);
    GError *error = NULL;

    JsonObject *o = dcn_kube_parse_object(text, len, "deployment/dcn-hoster", &error);
    CHECK((o == NULL) == (error != NULL));
    g_clear_error(&error);
    if (o) {
        (void)dcn_rollout_object_image(o);
        (void)dcn_rollout_object_annotation(o, DCN_ANNOTATION_VERSION);
        json_object_unref(o);
    }

    GPtrArray *past = dcn_kube_parse_replicasets(text, len, "dcn-hoster", &error);
    CHECK((past == NULL) == (error != NULL));
    g_clear_error(&error);
    for (guint i = 0; past && i < past->len; i++) {
        const DcnKubePastImage *c = past->pdata[i];
        CHECK(dcn_image_is_pinned(c->image));
        CHECK(i == 0 || ((DcnKubePastImage *)past->pdata[i - 1])->revision >= c->revision);
    }
    if (past)
        g_ptr_array_unref(past);

    gboolean changed = TRUE;
    JsonArray *applied = dcn_kube_parse_apply(text, &changed);
    gboolean any = FALSE;
    for (guint i = 0; i < json_array_get_length(applied); i++) {
        JsonObject *a = json_array_get_object_element(applied, i);
        const char *action = json_object_get_string_member(a, "action");
        CHECK(action && json_object_get_string_member(a, "object"));
        CHECK(!strchr(action, '\n') && !strchr(action, ' '));
        any |= strcmp(action, "unchanged") != 0;
    }
    CHECK(changed == any);
    json_array_unref(applied);

    char *tail = dcn_kube_stderr_tail(text);
    CHECK(tail && *tail && !strchr(tail, '\n'));
    g_free(tail);
    (void)dcn_kube_said_not_found(text);
    free(text);
    return 0;
}

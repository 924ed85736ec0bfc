/* kube_output: what kubectl (or oc) prints, read as pure functions over its
 * text: no I/O. The cluster is input the builder does not control; these
 * never trust a shape they did not check. */
#ifndef DCN_BUILDER_KUBE_OUTPUT_H
#define DCN_BUILDER_KUBE_OUTPUT_H

#include <glib.h>
#include <json-glib/json-glib.h>

/* `get ... -o json`: the object (a new reference), or NULL with an error
 * "WHAT: not JSON: ..." / "WHAT: not a JSON object". */
JsonObject *dcn_kube_parse_object(const char *text, gsize len, const char *what, GError **error);

/* `apply` output, one "kind.group/name action" per line: an array of
 * {"object","action"}; *changed when any action is not "unchanged". */
JsonArray *dcn_kube_parse_apply(const char *text, gboolean *changed);

/* The last three non-empty lines of stderr, joined with " / ", for an
 * error message ("(no message)" when there are none). */
char *dcn_kube_stderr_tail(const char *err);

/* Whether stderr says the object does not exist ("NotFound", " not found"). */
gboolean dcn_kube_said_not_found(const char *err);

/* An image a Deployment ran before. */
typedef struct {
    char *image;     /* REPO@sha256:<64 hex> */
    char *version;   /* the dcn-builder/version annotation, or NULL */
    char *commit;    /* the dcn-builder/commit annotation, or NULL */
    gint64 revision; /* the ReplicaSet's deployment.kubernetes.io/revision; 0 when unknown */
} DcnKubePastImage;

void dcn_kube_past_image_free(gpointer p);

/* `get replicasets -l SELECTOR -o json`: the pinned hoster images of the
 * ReplicaSets owned by Deployment `deployment`, newest revision first (an
 * image may appear more than once). NULL with an error when the text is
 * not JSON. */
GPtrArray *dcn_kube_parse_replicasets(const char *text, gsize len, const char *deployment, GError **error);

#endif

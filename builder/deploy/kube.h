/* kube: runs kubectl (or oc) for the deploy stages.
 * Every command is logged on stderr as an event (event=run cmd="...") and
 * recorded for the --json result. With dry_run, commands that change the
 * cluster are printed and recorded but not run; read-only ones (kustomize,
 * get) still run. */
#ifndef DCN_BUILDER_KUBE_H
#define DCN_BUILDER_KUBE_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "progress.h"

typedef struct {
    const char *cmd;        /* "kubectl", "oc" or a path */
    char *ns;               /* owned: --namespace given to every cluster command, or NULL: the context's */
    gboolean dry_run;       /* mutating commands are recorded, not run */
    DcnProgress *progress;  /* where the run events go */
    JsonArray *commands;    /* every command line (shell-quoted), in order; owned */
} DcnKube;

typedef enum {
    DCN_KUBE_READ,   /* only reads the cluster (get): runs even with dry_run */
    DCN_KUBE_CHANGE, /* changes the cluster (apply) or waits for a change (rollout status): only recorded with dry_run */
    DCN_KUBE_LOCAL,  /* no cluster at all (kustomize, config view): no --namespace; runs with dry_run */
} DcnKubeKind;

void dcn_kube_init(DcnKube *k, const char *cmd, const char *ns, gboolean dry_run, DcnProgress *progress);
void dcn_kube_clear(DcnKube *k);

/* Runs cmd with argv (NULL-terminated); timeout_s bounds it (0: 60 s).
 * On exit 0 *out (may be NULL) gets stdout. On failure the error reads
 * "kubectl apply -f X: exit 1: <stderr>". With dry_run and DCN_KUBE_CHANGE
 * *out is "" and nothing runs. Set *not_found (may be NULL) and fail when
 * kubectl said NotFound, so callers can tell "absent" from "broken". */
gboolean dcn_kube_run(DcnKube *k, DcnKubeKind kind, guint timeout_s, char **out, gboolean *not_found,
                      GError **error, const char *const *argv);

/* Shell-quoted command line for messages and --dry-run output. */
char *dcn_kube_cmdline(const DcnKube *k, DcnKubeKind kind, const char *const *argv);

#endif

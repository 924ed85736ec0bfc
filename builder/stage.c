/* stage: the stage table, invoking a stage and saving its result, the
 * step hook. See stage.h. */
#include "stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static const DcnStageDef stages[] = {
    {"run", dcn_stage_run, "the whole release: provision, install, compose, publish, package, push, teardown, deploy (resumes; --dry-run)", TRUE, FALSE},
    {"provision", dcn_stage_provision, "create or find the builder (provider.kind local, ssh, libvirt, kubevirt)", TRUE, FALSE},
    {"install", dcn_stage_install, "install and enable osbuild-composer on the builder over SSH (idempotent)", TRUE, FALSE},
    {"teardown", dcn_stage_teardown, "delete the builder VM and everything provision made (idempotent)", TRUE, FALSE},
    {"compose", dcn_stage_compose, "turn compose.source into a staged commit for this version", TRUE, FALSE},
    {"publish", dcn_stage_publish, "publish the staged version: commit on the ref, deltas, signed summary, prune", FALSE, FALSE},
    {"rollback", dcn_stage_rollback, "point the ref at an earlier kept version (--to VERSION or --steps N)", FALSE, FALSE},
    {"prune", dcn_stage_prune, "remove what is beyond keep once prune_grace has passed (publish does this too)", FALSE, FALSE},
    {"status", dcn_stage_status, "show kept versions, commits, dates, sizes, deltas, what waits for prune", TRUE, TRUE},
    {"check", dcn_stage_check, "check the definition and everything `run` would need (the preflight alone); change nothing", TRUE, TRUE},
    {"kickstart", dcn_stage_kickstart, "write the kickstart template next to the repo", FALSE, FALSE},
    {"iso", dcn_stage_iso, "make the installer ISO from iso.boot_iso: inst.ks= the served kickstart (network) or the version on the ISO (offline)", FALSE, FALSE},
    {"package", dcn_stage_package, "write the hosting image of the head version (OCI layout; layers shared across versions)", FALSE, FALSE},
    {"push", dcn_stage_push, "push the packaged image to registry.url by tag; the digest goes to push.json", FALSE, FALSE},
    {"deploy", dcn_stage_deploy, "roll the pushed image (pinned by digest) out on the cluster, wait, verify what is served", TRUE, FALSE},
    {"undo", dcn_stage_undo, "roll the cluster back to the previous image (--to VERSION, --steps N or --image REF)", TRUE, FALSE},
};

const DcnStageDef *dcn_stages(size_t *n)
{
    *n = G_N_ELEMENTS(stages);
    return stages;
}

const DcnStageDef *dcn_stage_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++)
        if (strcmp(stages[i].name, name) == 0)
            return &stages[i];
    return NULL;
}

/* The result as saved: "stage" and "version", then the stage's members. */
static gboolean save_result(const DcnStageDef *stage, const DcnStageCtx *ctx, GError **error)
{
    JsonObject *saved = json_object_new();
    json_object_set_string_member(saved, "stage", stage->name);
    json_object_set_string_member(saved, "version", ctx->def->version);
    GList *members = json_object_get_members(ctx->result);
    for (GList *l = members; l; l = l->next)
        json_object_set_member(saved, l->data, json_node_copy(json_object_get_member(ctx->result, l->data)));
    g_list_free(members);
    gboolean ok = dcn_state_write_result(ctx->def, stage->name, saved, error);
    json_object_unref(saved);
    return ok;
}

gboolean dcn_stage_invoke(const DcnStageDef *stage, DcnStageCtx *ctx, GError **error)
{
    gboolean ok = stage->run(ctx, error);
    dcn_progress_cancel(&ctx->progress); /* a task a failure cut short: its ticker stops, its line goes */
    /* later stages and reruns read this; status and check only read; a dry run changed nothing */
    if (ok && !stage->reads_only && !ctx->dry_run)
        ok = save_result(stage, ctx, error);
    return ok;
}

void dcn_stage_step(DcnStageCtx *ctx, const char *step)
{
    dcn_progress_event(&ctx->progress, "step", "step=%s", step);
    if (ctx->abort_after && strcmp(ctx->abort_after, step) == 0) {
        fprintf(stderr, "dcn-builder: test hook: aborting after step %s\n", step);
        fflush(stderr);
        abort();
    }
}

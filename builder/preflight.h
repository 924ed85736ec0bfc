/* preflight: before a stage, or `run`, starts anything, check every setting
 * the stages about to run will need (keys that must be set for them, files
 * they will read, programs they will run, results of earlier stages they
 * will read) and list every problem at once, each with the file and line
 * to fix (or the flag or variable that set the value). A build that would
 * stop after its VM was provisioned, or hours into a compose, stops here
 * instead, in well under a second: only file tests, PATH lookups, rendering
 * the build VM's manifests, the state directory and the hosted repo's ref
 * file are looked at; no network, no cluster, no composer.
 *
 * main.c runs it (dcn_preflight_run) after the definition is read: for
 * `run` and `check` on the stages dcn_run_plan() says are left, otherwise on
 * the stage given. Problems go into the definition's list
 * (dcn_definition_problems): exit status 2.
 * Warnings are for settings that work in some places and not in others
 * (kubevirt.ssh_via: address outside the cluster). See docs/builder.md. */
#ifndef DCN_BUILDER_PREFLIGHT_H
#define DCN_BUILDER_PREFLIGHT_H

#include <glib.h>

#include "definition.h"
#include "stage.h"

typedef struct {
    const char *const *stages; /* the stages about to run, in order (NULL-terminated) */
    gboolean dry_run;          /* --dry-run: results of earlier stages may be missing (the plan uses placeholders) */
    gboolean image_given;      /* deploy/undo --image: no push result needed */
} DcnPreflightPlan;

/* Adds a problem to def (dcn_definition_add_problem) for everything the
 * stages of plan will need and lack; appends "WHERE: what" strings to
 * warnings for what may not work. def must be finished
 * (dcn_definition_finished). */
void dcn_preflight_check(DcnDefinition *def, const DcnPreflightPlan *plan, GPtrArray *warnings);

/* The preflight of stage (its name) on ctx->def: the definition's
 * problems and what the stages about to run will need, all in one error
 * (DCN_BUILDER_ERROR_DEFINITION, naming file) before anything starts.
 * Warnings become events of ctx->progress. ctx->result gets "problems"
 * (and, for check, "stages" and "warnings"). */
gboolean dcn_preflight_run(const char *stage, DcnStageCtx *ctx, const char *file, GError **error);

#endif

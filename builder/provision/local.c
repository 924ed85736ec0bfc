/* provision/local: no VM. install and compose run on this host (which must
 * then be a RHEL-like system with osbuild-composer, or, in the tests, talk
 * to the stand-in composer's socket). Nothing to create or delete. */
#include "plan.h"
#include "provision.h"

static gboolean local_up(DcnProvision *p, GError **error)
{
    p->target.provider = g_strdup("local");
    p->target.local = TRUE;
    if (p->stage->dry_run)
        dcn_plan(p->stage, "provider local: no VM; install and compose run on this host");
    return TRUE;
}

static gboolean local_down(DcnProvision *p, GError **error)
{
    if (p->stage->dry_run)
        dcn_plan(p->stage, "provider local: no VM to delete");
    return TRUE;
}

const DcnProvider dcn_provider_local = {"local", local_up, local_down};

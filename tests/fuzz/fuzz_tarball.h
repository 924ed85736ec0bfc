/* What the two tarball targets share: a work directory (under $TMPDIR,
 * else /dev/shm), a throwaway archive-mode staging repo inside it reused by
 * every run (each run's objects go in a transaction that is aborted and
 * removed, so each run starts from the same empty repo), the
 * input written to a file, and the check that nothing appears anywhere in
 * the work directory but staging/ and the input: sentinel/ stays empty (the
 * dictionary names it, so '..' and link entries aim at it). */
#ifndef DCN_FUZZ_TARBALL_H
#define DCN_FUZZ_TARBALL_H

#include "fuzz_glib.h"

#include <dirent.h>
#include <errno.h>
#include <ostree.h>

#include "compose.h"
#include "definition.h"
#include "repo.h"
#include "stage.h"

typedef struct {
    char *work, *input, *sentinel, *staging_tmp;
    OstreeRepo *staging;
    DcnDefinition *def;
    DcnProgress progress;
} FuzzTarball;

static FuzzTarball fuzz_tb;

/* Names in dir other than the allowed ones (NULL-terminated); -1 on error. */
static int fuzz_extra_entries(const char *dir, const char *const *allowed, int prefix_ok)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int extra = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int ok = 0;
        for (const char *const *a = allowed; a && *a && !ok; a++)
            ok = prefix_ok ? g_str_has_prefix(e->d_name, *a) : !strcmp(e->d_name, *a);
        if (!ok) {
            dprintf(2, "unexpected %s/%s\n", dir, e->d_name);
            extra++;
        }
    }
    closedir(d);
    return extra;
}

static int fuzz_tb_verbose; /* DCN_FUZZ_VERBOSE=1: the code's output and each outcome on stderr */

static void fuzz_tarball_cleanup(void)
{
    if (fuzz_tb.staging)
        g_object_unref(fuzz_tb.staging);
    dcn_rm_rf(fuzz_tb.work, NULL);
}

static void fuzz_tarball_init(void)
{
    fuzz_tb_verbose = g_getenv("DCN_FUZZ_VERBOSE") != NULL;
    fuzz_glib_init(!fuzz_tb_verbose);
    const char *tmp = g_getenv("TMPDIR");
    if (!tmp || access(tmp, W_OK) != 0)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    FuzzTarball *t = &fuzz_tb;
    t->work = g_build_filename(tmp, "dcn-fuzz-tar-XXXXXX", NULL);
    if (!g_mkdtemp(t->work))
        abort();
    t->input = g_build_filename(t->work, "in.tar", NULL);
    t->sentinel = g_build_filename(t->work, "sentinel", NULL);
    char *staging = g_build_filename(t->work, "staging", NULL);
    t->staging_tmp = g_build_filename(staging, "tmp", NULL);
    GError *error = NULL;
    if (g_mkdir(t->sentinel, 0755) < 0 || !dcn_repo_open(staging, TRUE, &t->staging, &error)) {
        dprintf(2, "fuzz setup in %s failed: %s\n", t->work, error ? error->message : g_strerror(errno));
        abort();
    }
    atexit(fuzz_tarball_cleanup); /* a crash keeps the directory, to look at */
    t->def = dcn_definition_new();
    t->def->name = g_strdup("dcn-edge");
    t->def->version = g_strdup("1.0.0");
    t->def->ref = g_strdup("rhel/9/x86_64/edge");
    t->def->compose_source = g_strdup(t->input);
    t->def->staging = staging;
    dcn_progress_init(&t->progress, "compose", NULL); /* stderr, log mode, no ticker */
}

/* Runs backend on data inside an aborted transaction; checks the outcome
 * and the work directory. verify(out) may check more of a success. */
static void fuzz_tarball_run(const DcnComposeBackend *backend, const uint8_t *data, size_t size,
                             void (*verify)(OstreeRepo *staging, const DcnComposeOutput *out))
{
    FuzzTarball *t = &fuzz_tb;
    GError *error = NULL;
    if (!g_file_set_contents(t->input, (const char *)data, (gssize)size, &error))
        abort();
    if (!ostree_repo_prepare_transaction(t->staging, NULL, NULL, &error)) {
        dprintf(2, "prepare_transaction: %s\n", error->message);
        abort();
    }
    DcnComposeOutput out = {0};
    gboolean ok = backend->run(t->def, t->staging, &t->progress, &out, &error);
    CHECK(ok == (error == NULL));
    if (fuzz_tb_verbose)
        fprintf(stderr, "outcome: %s\n", ok ? "composed" : error->message);
    if (ok) {
        CHECK(ostree_validate_checksum_string(out.contents, NULL) && ostree_validate_checksum_string(out.meta, NULL));
        if (verify)
            verify(t->staging, &out);
    } else {
        CHECK(error->message && *error->message);
    }
    g_clear_error(&error);
    dcn_compose_output_clear(&out);
    if (!ostree_repo_abort_transaction(t->staging, NULL, &error))
        abort();
    /* libostree keeps an aborted transaction's objects for the next one to
     * resume with: drop them, so every run starts from the same repo */
    DIR *d = opendir(t->staging_tmp);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (g_str_has_prefix(e->d_name, "staging-")) {
            char *p = g_build_filename(t->staging_tmp, e->d_name, NULL);
            if (!dcn_rm_rf(p, &error))
                abort();
            g_free(p);
        }
    if (d)
        closedir(d);

    /* nothing outside staging; nothing of ours left in staging/tmp */
    static const char *const work_allowed[] = {"staging", "sentinel", "in.tar", NULL};
    static const char *const tmp_allowed[] = {"cache", "staging-", NULL};
    CHECK(fuzz_extra_entries(t->work, work_allowed, 0) == 0);
    CHECK(fuzz_extra_entries(t->sentinel, NULL, 0) == 0);
    CHECK(fuzz_extra_entries(t->staging_tmp, tmp_allowed, 1) == 0);
}

#endif

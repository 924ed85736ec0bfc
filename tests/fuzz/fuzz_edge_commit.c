/* Fuzz target: the `edge-commit` compose backend (builder/compose/
 * edge_commit.c), what osbuild-composer's GET /api/v1/compose/image sends:
 * a tar of an archive-mode repo/ and compose.json, extracted under the
 * staging repo's tmp/, its commit imported into a throwaway staging repo.
 * libostree makes it slow.
 * Input: the tarball (the corpus seed is a real one-file commit).
 * Invariants: success exactly without an error; after a success every
 * object of the staged tree is what its checksum says (a corrupt object
 * must never reach staging, and so never a published repo); nothing
 * appears in the work directory outside staging and the extraction
 * directory is gone (fuzz_tarball.h); no leak, no GLib critical or
 * warning. */
#include "fuzz_tarball.h"

static void verify_tree(OstreeRepo *staging, const DcnComposeOutput *out)
{
    GError *error = NULL;
    g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new_from_checksum(staging, out->contents, out->meta);
    g_autoptr(GFile) root = NULL;
    CHECK(ostree_repo_write_mtree(staging, mtree, &root, NULL, &error));
    /* a commit of the tree (in the transaction the caller aborts), to walk
     * every dirtree, dirmeta and file below the root */
    g_autofree char *commit = NULL;
    CHECK(ostree_repo_write_commit(staging, NULL, "fuzz", NULL, NULL, OSTREE_REPO_FILE(root), &commit, NULL, &error));
    g_autoptr(GHashTable) reachable = NULL;
    CHECK(ostree_repo_traverse_commit(staging, commit, 0, &reachable, NULL, &error));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, reachable);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(key, &csum, &type);
        if (!ostree_repo_fsck_object(staging, type, csum, NULL, &error)) {
            dprintf(2, "staged object %s.%s does not verify: %s\n", csum,
                    ostree_object_type_to_string(type), error->message);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_tarball_init(), ready = 1;
    fuzz_tarball_run(&dcn_compose_edge_commit, data, size, verify_tree);
    return 0;
}

/* Fuzz target: the `tree` compose backend on a tarball
 * (builder/compose/tree.c and archive.c: tar, gz, zst, xz read straight
 * into an OstreeMutableTree, /etc moved, the tree written) into a
 * throwaway archive-mode staging repo. libostree makes it slow.
 * Input: the tarball.
 * Invariants: success exactly without an error, with valid checksums;
 * nothing appears in the work directory outside staging (fuzz_tarball.h);
 * no leak, no GLib critical or warning. */
#include "fuzz_tarball.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        fuzz_tarball_init(), ready = 1;
    fuzz_tarball_run(&dcn_compose_tree, data, size, NULL);
    return 0;
}

/* content_addressed: the one rule for which repository paths never change,
 * shared by the small-file cache (static_file.c) and its invalidation
 * (content_watch.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "content_addressed.h"

static const struct {
    const char *repo;
    const char *path;
    bool want;
} path_cases[] = {
    {"repo", "repo/objects/ab/cdef.filez", true},
    {"repo", "repo/deltas/Ab/CDEF-GHIJ/0", true},
    {"repo", "repo/delta-indexes/ab/cdef.index", true},
    {"repo", "repo/objects/", true},
    {"repo", "repo/objects", false},           /* the directory itself */
    {"repo", "repo/objectsX/ab", false},
    {"repo", "repo/summary", false},
    {"repo", "repo/config", false},
    {"repo", "repo/refs/heads/main", false},
    {"repo", "repo/deltas", false},
    {"repo", "objects/ab/cd.filez", false},    /* outside the repository */
    {"repo", "repository/objects/ab/cd", false},
    {"repo", "repo", false},
    {"repo", "", false},
    {"a/b", "a/b/objects/ab/cd.dirtree", true},
    {"a/b", "a/objects/ab/cd.dirtree", false},
    {"", "objects/ab/cd.dirtree", true},       /* the root is the repository */
    {"", "deltas/Ab/CD/superblock", true},
    {"", "delta-indexes/ab/cd.index", true},
    {"", "summary", false},
    {"", "files/objects/x", false},
    {"", "", false},
};

static void paths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
        const char *p = path_cases[i].path;
        bool got = content_addressed_path(path_cases[i].repo, p, strlen(p));
        if (got != path_cases[i].want)
            fail_msg("repo '%s', path '%s': %d, want %d", path_cases[i].repo, p, got, path_cases[i].want);
    }
}

static void dir_depths(void **state)
{
    (void)state;
    assert_int_equal(content_addressed_dir_depth("objects"), 1);     /* objects/XX/<file> */
    assert_int_equal(content_addressed_dir_depth("deltas"), 2);      /* deltas/XX/REST/<part> */
    assert_int_equal(content_addressed_dir_depth("delta-indexes"), 1);
    assert_int_equal(content_addressed_dir_depth("refs"), 0);
    assert_int_equal(content_addressed_dir_depth("tmp"), 0);
    assert_int_equal(content_addressed_dir_depth("objects2"), 0);
    assert_int_equal(content_addressed_dir_depth(""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(dir_depths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The per-worker small-file cache: lookups, replacement, the byte budget,
 * LRU eviction and the freshness check against stat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "file_cache.h"

static struct file_cache_entry *put(struct file_cache *fc, const char *path, size_t body)
{
    struct file_cache_entry *e = file_cache_put(fc, path, strlen(path), 16, body);
    if (e)
        memset(e->body, 'x', body);
    return e;
}

static void test_get_put_replace(void **state)
{
    (void)state;
    struct file_cache *fc = file_cache_new(1 << 20);
    assert_null(file_cache_get(fc, "a", 1));
    struct file_cache_entry *a = put(fc, "repo/objects/aa/1.dirtree", 100);
    assert_non_null(a);
    assert_ptr_equal(file_cache_get(fc, "repo/objects/aa/1.dirtree", 25), a);
    assert_null(file_cache_get(fc, "repo/objects/aa/1.dirtre", 24));
    struct file_cache_entry *b = put(fc, "repo/objects/aa/1.dirtree", 200);
    assert_non_null(b);
    assert_ptr_equal(file_cache_get(fc, "repo/objects/aa/1.dirtree", 25), b);
    assert_string_equal(b->path, "repo/objects/aa/1.dirtree");
    file_cache_remove(fc, b);
    assert_null(file_cache_get(fc, "repo/objects/aa/1.dirtree", 25));
    file_cache_free(fc);
}

static void test_budget_and_lru(void **state)
{
    (void)state;
    /* room for a few 10 KB entries only */
    struct file_cache *fc = file_cache_new(64 * 1024);
    char path[32];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "f%d", i);
        assert_non_null(put(fc, path, 10000));
    }
    /* touch f0 so that f1 is the least recently used */
    assert_non_null(file_cache_get(fc, "f0", 2));
    assert_non_null(put(fc, "f5", 10000));
    assert_non_null(put(fc, "f6", 10000));
    assert_non_null(file_cache_get(fc, "f0", 2));
    assert_null(file_cache_get(fc, "f1", 2));
    assert_non_null(file_cache_get(fc, "f6", 2));
    /* a single file above a quarter of the budget is refused */
    assert_null(put(fc, "huge", 20000));
    file_cache_clear(fc);
    assert_null(file_cache_get(fc, "f0", 2));
    assert_non_null(put(fc, "again", 10));
    file_cache_free(fc);
}

static void test_fresh(void **state)
{
    (void)state;
    struct file_cache *fc = file_cache_new(1 << 20);
    struct file_cache_entry *e = put(fc, "x", 10);
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_dev = 1;
    st.st_ino = 2;
    st.st_size = 10;
    st.st_mtim.tv_sec = 100;
    st.st_mtim.tv_nsec = 5;
    st.st_ctim.tv_sec = 100;
    st.st_ctim.tv_nsec = 6;
    e->dev = 1;
    e->ino = 2;
    e->size = 10;
    e->mtime = st.st_mtim;
    e->ctime = st.st_ctim;
    assert_true(file_cache_entry_fresh(e, &st));
    struct stat changed = st;
    changed.st_ctim.tv_nsec = 7; /* rewritten in place, same size and mtime */
    assert_false(file_cache_entry_fresh(e, &changed));
    changed = st;
    changed.st_ino = 3; /* replaced by rename */
    assert_false(file_cache_entry_fresh(e, &changed));
    changed = st;
    changed.st_size = 11;
    assert_false(file_cache_entry_fresh(e, &changed));
    file_cache_free(fc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_replace),
        cmocka_unit_test(test_budget_and_lru),
        cmocka_unit_test(test_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ostree_object: commit and dirtree objects as libostree 2022.7 writes them
 * (bytes below made with `ostree commit`), static-delta names, and which
 * request paths fetch a commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ostree_object.h"

/* ostree commit --subject='first <b>' --add-metadata-string=version=1.2.3
 *   --timestamp='2024-01-02 03:04:05 UTC' (no parent): 17c7c585... */
static const uint8_t commit_v1[] = {
    0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x33, 0x00, 0x00, 0x73,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6f, 0x73, 0x74, 0x72, 0x65, 0x65, 0x2e, 0x72,
    0x65, 0x66, 0x2d, 0x62, 0x69, 0x6e, 0x64, 0x69, 0x6e, 0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x74, 0x65, 0x73, 0x74, 0x2f, 0x72, 0x65, 0x66, 0x00, 0x09, 0x00, 0x61, 0x73, 0x13, 0x11, 0x3e,
    0x66, 0x69, 0x72, 0x73, 0x74, 0x20, 0x3c, 0x62, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x65, 0x93, 0x7d, 0x25, 0x8d, 0x90, 0xc2, 0xf8, 0x05, 0x2c, 0xf8, 0xac,
    0x7d, 0x1d, 0xbf, 0x2b, 0x50, 0x83, 0x22, 0xae, 0x77, 0xef, 0xfc, 0xd3, 0xac, 0xf6, 0x1b, 0xb4,
    0x8f, 0x2e, 0x3a, 0x94, 0xfd, 0x4e, 0xb7, 0xeb, 0x44, 0x6a, 0x0e, 0xf1, 0x1b, 0x7c, 0xc1, 0x67,
    0xf3, 0xb6, 0x03, 0xe5, 0x85, 0xc7, 0xee, 0xee, 0xb6, 0x75, 0xfa, 0xa4, 0x12, 0xd5, 0xec, 0x73,
    0xf6, 0x29, 0x88, 0xeb, 0x0b, 0x6c, 0x54, 0x88, 0x78, 0x4b, 0x4a, 0x40, 0x40, 0x40,
};
/* its child, --subject=second, no version, 2024-02-02 03:04:05 UTC: e1bdec94... */
static const uint8_t commit_v2[] = {
    0x6f, 0x73, 0x74, 0x72, 0x65, 0x65, 0x2e, 0x72, 0x65, 0x66, 0x2d, 0x62, 0x69, 0x6e, 0x64, 0x69,
    0x6e, 0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x74, 0x65, 0x73, 0x74, 0x2f, 0x72, 0x65, 0x66,
    0x00, 0x09, 0x00, 0x61, 0x73, 0x13, 0x26, 0x17, 0xc7, 0xc5, 0x85, 0xb9, 0x29, 0xc5, 0xe4, 0xfa,
    0x5b, 0x99, 0x7a, 0x51, 0x3d, 0x11, 0x30, 0x02, 0x5b, 0xc9, 0xba, 0xce, 0x8f, 0x6b, 0xa1, 0xb0,
    0x23, 0xf5, 0xb5, 0xa0, 0xef, 0x65, 0x5a, 0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x65, 0xbc, 0x5b, 0xa5, 0xc8, 0x58, 0x16, 0xe6, 0x1f, 0xfd, 0x54, 0x3f,
    0x77, 0x85, 0x73, 0xcd, 0x20, 0x2a, 0x8e, 0x6d, 0x10, 0x9b, 0x12, 0xfb, 0xe6, 0xfd, 0x84, 0x31,
    0xe9, 0xba, 0x27, 0xfe, 0x78, 0xb8, 0x70, 0xdf, 0x44, 0x6a, 0x0e, 0xf1, 0x1b, 0x7c, 0xc1, 0x67,
    0xf3, 0xb6, 0x03, 0xe5, 0x85, 0xc7, 0xee, 0xee, 0xb6, 0x75, 0xfa, 0xa4, 0x12, 0xd5, 0xec, 0x73,
    0xf6, 0x29, 0x88, 0xeb, 0x0b, 0x6c, 0x54, 0x88, 0x78, 0x4f, 0x4e, 0x47, 0x47, 0x27,
};
/* the first commit's root dirtree (8d90c2f8...): two directories, etc and usr */
static const uint8_t dirtree_root_v1[] = {
    0x65, 0x74, 0x63, 0x00, 0xa2, 0xa9, 0xf5, 0x9a, 0x3f, 0xa8, 0x1d, 0xb2, 0x4f, 0xe9, 0xf1, 0x2c,
    0xd9, 0x33, 0x89, 0xa9, 0x57, 0x06, 0x06, 0x37, 0x16, 0x32, 0xa2, 0x14, 0xc8, 0x06, 0xa8, 0x93,
    0x37, 0x35, 0x16, 0x33, 0x44, 0x6a, 0x0e, 0xf1, 0x1b, 0x7c, 0xc1, 0x67, 0xf3, 0xb6, 0x03, 0xe5,
    0x85, 0xc7, 0xee, 0xee, 0xb6, 0x75, 0xfa, 0xa4, 0x12, 0xd5, 0xec, 0x73, 0xf6, 0x29, 0x88, 0xeb,
    0x0b, 0x6c, 0x54, 0x88, 0x24, 0x04, 0x75, 0x73, 0x72, 0x00, 0x15, 0xd3, 0xb0, 0xeb, 0xc2, 0x2f,
    0xb5, 0x78, 0x38, 0x23, 0x5f, 0x6f, 0xcb, 0x51, 0xdc, 0xa0, 0x5b, 0x5d, 0x18, 0x8c, 0x64, 0xbc,
    0x0d, 0x0f, 0x38, 0x2e, 0x7c, 0x4c, 0x0b, 0x72, 0xc3, 0xd0, 0x44, 0x6a, 0x0e, 0xf1, 0x1b, 0x7c,
    0xc1, 0x67, 0xf3, 0xb6, 0x03, 0xe5, 0x85, 0xc7, 0xee, 0xee, 0xb6, 0x75, 0xfa, 0xa4, 0x12, 0xd5,
    0xec, 0x73, 0xf6, 0x29, 0x88, 0xeb, 0x0b, 0x6c, 0x54, 0x88, 0x24, 0x04, 0x46, 0x8c, 0x00,
};
/* sample/make-sample-root.sh 2.0.0 (161ddeed...): version and ostree.ref-binding metadata */
static const uint8_t commit_sample[] = {
    0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00, 0x32, 0x2e, 0x30, 0x2e, 0x30, 0x00, 0x00, 0x73,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6f, 0x73, 0x74, 0x72, 0x65, 0x65, 0x2e, 0x72,
    0x65, 0x66, 0x2d, 0x62, 0x69, 0x6e, 0x64, 0x69, 0x6e, 0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x72, 0x68, 0x65, 0x6c, 0x2f, 0x39, 0x2f, 0x78, 0x38, 0x36, 0x5f, 0x36, 0x34, 0x2f, 0x65, 0x64,
    0x67, 0x65, 0x00, 0x13, 0x00, 0x61, 0x73, 0x13, 0x11, 0x48, 0xb2, 0xe2, 0xb0, 0xf1, 0x64, 0xaf,
    0x58, 0x8d, 0xce, 0x80, 0xa1, 0xbb, 0xbd, 0xd1, 0xe2, 0xa0, 0xe3, 0x2a, 0x7b, 0xcb, 0xc8, 0x55,
    0x00, 0x51, 0x46, 0xa6, 0x14, 0xa9, 0xb2, 0xce, 0xf1, 0xeb, 0x44, 0x43, 0x4e, 0x20, 0x73, 0x61,
    0x6d, 0x70, 0x6c, 0x65, 0x20, 0x32, 0x2e, 0x30, 0x2e, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x65, 0xba, 0xdf, 0x00, 0x96, 0x22, 0xdc, 0x3a, 0x20, 0x98, 0x6a, 0x4c,
    0x30, 0x33, 0x68, 0xa9, 0x97, 0x75, 0x09, 0x67, 0x81, 0xea, 0xa1, 0xf8, 0x88, 0x59, 0x89, 0x87,
    0x17, 0x87, 0x75, 0x3a, 0xf9, 0x07, 0x79, 0x43, 0x44, 0x6a, 0x0e, 0xf1, 0x1b, 0x7c, 0xc1, 0x67,
    0xf3, 0xb6, 0x03, 0xe5, 0x85, 0xc7, 0xee, 0xee, 0xb6, 0x75, 0xfa, 0xa4, 0x12, 0xd5, 0xec, 0x73,
    0xf6, 0x29, 0x88, 0xeb, 0x0b, 0x6c, 0x54, 0x88, 0xa8, 0x7c, 0x7b, 0x6a, 0x6a, 0x4a,
};

static void hex(const char *h, uint8_t out[32])
{
    assert_true(ostree_hex_to_csum(h, strlen(h), out));
}

static void assert_csum(const uint8_t *got, const char *want)
{
    char text[OSTREE_HEX_LEN + 1];
    ostree_csum_to_hex(got, text);
    assert_string_equal(text, want);
}

static void test_commit(void **state)
{
    (void)state;
    struct ostree_commit_info ci;
    assert_int_equal(ostree_commit_parse(commit_v1, sizeof commit_v1, &ci), 0);
    assert_non_null(ci.version);
    assert_int_equal(ci.version_len, 5);
    assert_memory_equal(ci.version, "1.2.3", 5);
    assert_int_equal(ci.subject_len, 9);
    assert_memory_equal(ci.subject, "first <b>", 9);
    assert_int_equal(ci.timestamp, 1704164645);
    assert_false(ci.has_parent);
    assert_csum(ci.root_tree, "8d90c2f8052cf8ac7d1dbf2b508322ae77effcd3acf61bb48f2e3a94fd4eb7eb");
    assert_csum(ci.root_meta, "446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488");

    assert_int_equal(ostree_commit_parse(commit_v2, sizeof commit_v2, &ci), 0);
    assert_null(ci.version);
    assert_int_equal(ci.subject_len, 6);
    assert_memory_equal(ci.subject, "second", 6);
    assert_int_equal(ci.timestamp, 1706843045);
    assert_true(ci.has_parent);
    assert_csum(ci.parent, "17c7c585b929c5e4fa5b997a513d1130025bc9bace8f6ba1b023f5b5a0ef655a");
    assert_csum(ci.root_tree, "c85816e61ffd543f778573cd202a8e6d109b12fbe6fd8431e9ba27fe78b870df");

    assert_int_equal(ostree_commit_parse(commit_sample, sizeof commit_sample, &ci), 0);
    assert_int_equal(ci.version_len, 5);
    assert_memory_equal(ci.version, "2.0.0", 5);
    assert_memory_equal(ci.subject, "DCN sample 2.0.0", ci.subject_len);
    assert_int_equal(ci.timestamp, 1706745600);
    assert_csum(ci.parent, "b2e2b0f164af588dce80a1bbbdd1e2a0e32a7bcbc855005146a614a9b2cef1eb");
    assert_csum(ci.root_tree, "9622dc3a20986a4c303368a99775096781eaa1f8885989871787753af9077943");
}

/* Every truncation and every single-byte change is either rejected or
 * read within bounds (the sanitizers watch). */
static void test_commit_malformed(void **state)
{
    (void)state;
    struct ostree_commit_info ci;
    uint8_t buf[sizeof commit_sample];
    for (size_t n = 0; n < sizeof commit_sample; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exactly n bytes: reads past them are caught */
        memcpy(copy, commit_sample, n);
        if (n < sizeof commit_sample - 8)
            assert_int_equal(ostree_commit_parse(copy, n, &ci), -1);
        else
            (void)ostree_commit_parse(copy, n, &ci);
        free(copy);
    }
    for (size_t i = 0; i < sizeof commit_sample; i++) {
        for (unsigned v = 0; v < 256; v += 17) {
            memcpy(buf, commit_sample, sizeof buf);
            buf[i] = (uint8_t)v;
            if (ostree_commit_parse(buf, sizeof buf, &ci) == 0) {
                assert_true(ci.subject + ci.subject_len <= (const char *)buf + sizeof buf);
                if (ci.version)
                    assert_true(ci.version + ci.version_len <= (const char *)buf + sizeof buf);
            }
        }
    }
}

struct listing {
    unsigned files, dirs;
    char last_tree[OSTREE_HEX_LEN + 1];
};

static void on_file(void *arg, const uint8_t csum[32])
{
    (void)csum;
    ((struct listing *)arg)->files++;
}

static void on_dir(void *arg, const uint8_t tree[32], const uint8_t meta[32])
{
    struct listing *l = arg;
    (void)meta;
    l->dirs++;
    ostree_csum_to_hex(tree, l->last_tree);
}

static void test_dirtree(void **state)
{
    (void)state;
    struct listing l = {0};
    assert_int_equal(ostree_dirtree_parse(dirtree_root_v1, sizeof dirtree_root_v1, on_file, on_dir, &l), 0);
    assert_int_equal(l.files, 0);
    assert_int_equal(l.dirs, 2);
    assert_string_equal(l.last_tree, "15d3b0ebc22fb57838235f6fcb51dca05b5d188c64bc0d0f382e7c4c0b72c3d0"); /* usr */
    /* the empty dirtree: two empty arrays */
    memset(&l, 0, sizeof l);
    assert_int_equal(ostree_dirtree_parse((const uint8_t *)"", 0, on_file, on_dir, &l), 0);
    assert_int_equal(l.files + l.dirs, 0);
    for (size_t n = 1; n < sizeof dirtree_root_v1; n++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, dirtree_root_v1, n);
        (void)ostree_dirtree_parse(copy, n, on_file, on_dir, &l);
        free(copy);
    }
}

static void test_delta_names(void **state)
{
    (void)state;
    static const char v1[] = "b2e2b0f164af588dce80a1bbbdd1e2a0e32a7bcbc855005146a614a9b2cef1eb";
    static const char v2[] = "161ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1";
    bool has_from;
    uint8_t from[32], to[32];
    const char *name = "su/Kw8WSvWI3OgKG7vdHioOMqe8vIVQBRRqYUqbLO8es-Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE";
    assert_true(ostree_delta_name_parse(name, strlen(name), &has_from, from, to));
    assert_true(has_from);
    assert_csum(from, v1);
    assert_csum(to, v2);
    name = "Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE"; /* scratch */
    assert_true(ostree_delta_name_parse(name, strlen(name), &has_from, from, to));
    assert_false(has_from);
    assert_csum(to, v2);
    static const char *const bad[] = {
        "", "Fh", "Fh/", "Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE",
        "Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85ev",      /* short */
        "Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evEx",    /* long */
        "Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr/85evE",     /* '/' is '_' in ostree's base64 */
        "Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evF",     /* spare bits set */
        "su/Kw8WSvWI3OgKG7vdHioOMqe8vIVQBRRqYUqbLO8es-",
        "su/Kw8WSvWI3OgKG7vdHioOMqe8vIVQBRRqYUqbLO8es-Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85ev",
        "su/Kw8WSvWI3OgKG7vdHioOMqe8vIVQBRRqYUqbLO8e-Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ostree_delta_name_parse(bad[i], strlen(bad[i]), &has_from, from, to))
            fail_msg("delta name '%s' should be rejected", bad[i]);
}

static void test_fetched_commit(void **state)
{
    (void)state;
    static const char v2[] = "161ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1";
    static const struct {
        const char *path;
        bool fetches;
    } cases[] = {
        {"objects/16/1ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.commit", true},
        {"deltas/su/Kw8WSvWI3OgKG7vdHioOMqe8vIVQBRRqYUqbLO8es-Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE/superblock", true},
        {"deltas/Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE/superblock", true},
        {"deltas/Fh/3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE/0", false},          /* a part: the superblock counted */
        {"objects/16/1ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.commitmeta", false},
        {"objects/16/1ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.filez", false},
        {"objects/16/1DDEEDbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.commit", false},
        {"objects/161ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.commit", false},
        {"objects/16/1ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af.commit", false},
        {"x/objects/16/1ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.commit", false},
        {"deltas/superblock", false},
        {"superblock", false},
        {".commit", false},
        {"", false},
        {"summary", false},
        {"delta-indexes/16/Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE.index", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t c[32];
        bool got = ostree_fetched_commit(cases[i].path, strlen(cases[i].path), c);
        if (got != cases[i].fetches)
            fail_msg("%s: %s, expected %s", cases[i].path, got ? "fetches a commit" : "no commit",
                     cases[i].fetches ? "a commit" : "none");
        if (got)
            assert_csum(c, v2);
    }
    uint8_t c[32];
    hex(v2, c);
    char back[65];
    ostree_csum_to_hex(c, back);
    assert_string_equal(back, v2);
    assert_false(ostree_hex_to_csum("xyz", 3, c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_commit_malformed),
        cmocka_unit_test(test_dirtree),
        cmocka_unit_test(test_delta_names),
        cmocka_unit_test(test_fetched_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

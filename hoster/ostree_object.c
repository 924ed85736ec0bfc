#include "ostree_object.h"

#include <string.h>

/* A serialised GVariant: a byte range (GVariant "Serialisation" spec, as
 * glib's gvariant-serialiser.c implements it). */
struct gv {
    const uint8_t *p;
    size_t n;
};

/* Framing offsets are as wide as the container needs to address itself. */
static size_t offset_size(size_t n)
{
    return n == 0 ? 0 : n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffu ? 4 : 8;
}

static size_t read_offset(const uint8_t *p, size_t size)
{
    size_t v = 0;
    for (size_t i = size; i-- > 0;)
        v = v << 8 | p[i]; /* little-endian */
    return v;
}

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

struct member {
    size_t align;
    size_t fixed; /* 0: variable size */
};

/* Splits a tuple into its members. Offsets of variable-size members other
 * than the last are stored at the end of the tuple, the first member's last. */
static int tuple_split(struct gv t, const struct member *m, size_t count, struct gv *out)
{
    size_t osz = offset_size(t.n), noff = 0;
    for (size_t i = 0; i + 1 < count; i++)
        noff += m[i].fixed == 0;
    if (osz * noff > t.n)
        return -1;
    size_t limit = t.n - osz * noff, prev = 0, used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t start = align_up(prev, m[i].align), end;
        if (m[i].fixed)
            end = start + m[i].fixed;
        else if (i + 1 == count)
            end = limit;
        else
            end = read_offset(t.p + t.n - osz * ++used, osz);
        if (start > end || end > limit)
            return -1;
        out[i] = (struct gv){t.p + start, end - start};
        prev = end;
    }
    return 0;
}

/* An array of variable-size elements: the elements, then one end offset
 * per element. Returns the element count, or -1. */
static long array_count(struct gv a, size_t *osz_out, size_t *table)
{
    if (a.n == 0)
        return 0;
    size_t osz = offset_size(a.n);
    size_t last_end = read_offset(a.p + a.n - osz, osz);
    if (last_end > a.n || (a.n - last_end) % osz)
        return -1;
    *osz_out = osz;
    *table = last_end;
    return (long)((a.n - last_end) / osz);
}

static int array_element(struct gv a, size_t osz, size_t table, size_t i, size_t align, size_t *prev_end, struct gv *out)
{
    size_t start = i == 0 ? 0 : align_up(*prev_end, align);
    size_t end = read_offset(a.p + table + i * osz, osz);
    if (start > end || end > table)
        return -1;
    *out = (struct gv){a.p + start, end - start};
    *prev_end = end;
    return 0;
}

/* A string: its bytes and a NUL that must be the last byte. */
static bool gv_string(struct gv s, const char **str, size_t *len)
{
    if (s.n == 0 || s.p[s.n - 1] != '\0' || memchr(s.p, '\0', s.n - 1))
        return false;
    *str = (const char *)s.p;
    *len = s.n - 1;
    return true;
}

bool ostree_hex_to_csum(const char *hex, size_t len, uint8_t out[OSTREE_CSUM_LEN])
{
    if (len != OSTREE_HEX_LEN)
        return false;
    for (size_t i = 0; i < OSTREE_HEX_LEN; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

void ostree_csum_to_hex(const uint8_t csum[OSTREE_CSUM_LEN], char out[OSTREE_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < OSTREE_CSUM_LEN; i++) {
        out[2 * i] = digits[csum[i] >> 4];
        out[2 * i + 1] = digits[csum[i] & 15];
    }
    out[OSTREE_HEX_LEN] = '\0';
}

int ostree_commit_parse(const uint8_t *buf, size_t len, struct ostree_commit_info *out)
{
    static const struct member commit[] = {
        {8, 0}, /* a{sv} metadata */
        {1, 0}, /* ay parent */
        {1, 0}, /* a(say) related */
        {1, 0}, /* s subject */
        {1, 0}, /* s body */
        {8, 8}, /* t timestamp, big-endian */
        {1, 0}, /* ay root tree */
        {1, 0}, /* ay root meta */
    };
    struct gv m[8];
    memset(out, 0, sizeof *out);
    if (tuple_split((struct gv){buf, len}, commit, 8, m) < 0)
        return -1;
    if (m[1].n != 0 && m[1].n != OSTREE_CSUM_LEN)
        return -1;
    if (m[6].n != OSTREE_CSUM_LEN || m[7].n != OSTREE_CSUM_LEN)
        return -1;
    if (!gv_string(m[3], &out->subject, &out->subject_len))
        return -1;
    out->has_parent = m[1].n == OSTREE_CSUM_LEN;
    if (out->has_parent)
        memcpy(out->parent, m[1].p, OSTREE_CSUM_LEN);
    memcpy(out->root_tree, m[6].p, OSTREE_CSUM_LEN);
    memcpy(out->root_meta, m[7].p, OSTREE_CSUM_LEN);
    for (int i = 0; i < 8; i++)
        out->timestamp = out->timestamp << 8 | m[5].p[i];

    /* metadata: dict entries {sv}, 8-aligned (the variant's alignment) */
    size_t osz = 0, table = 0, prev = 0;
    long count = array_count(m[0], &osz, &table);
    if (count < 0)
        return -1;
    for (long i = 0; i < count; i++) {
        static const struct member entry[] = {{1, 0}, {8, 0}};
        struct gv e, kv[2];
        const char *key;
        size_t key_len;
        if (array_element(m[0], osz, table, (size_t)i, 8, &prev, &e) < 0 || tuple_split(e, entry, 2, kv) < 0 ||
            !gv_string(kv[0], &key, &key_len))
            return -1;
        if (key_len != 7 || memcmp(key, "version", 7))
            continue;
        /* a variant: the value, a NUL, then the value's type string */
        const uint8_t *sep = NULL;
        for (size_t j = kv[1].n; j-- > 0;) {
            if (kv[1].p[j] == '\0') {
                sep = kv[1].p + j;
                break;
            }
        }
        if (!sep || (size_t)(kv[1].p + kv[1].n - sep) != 2 || sep[1] != 's')
            continue; /* not a string */
        if (!gv_string((struct gv){kv[1].p, (size_t)(sep - kv[1].p)}, &out->version, &out->version_len))
            out->version = NULL;
    }
    return 0;
}

int ostree_dirtree_parse(const uint8_t *buf, size_t len, void (*file)(void *arg, const uint8_t csum[OSTREE_CSUM_LEN]),
                         void (*dir)(void *arg, const uint8_t tree[OSTREE_CSUM_LEN], const uint8_t meta[OSTREE_CSUM_LEN]),
                         void *arg)
{
    static const struct member tree[] = {{1, 0}, {1, 0}};           /* a(say) files, a(sayay) dirs */
    static const struct member file_entry[] = {{1, 0}, {1, 0}};     /* (say) name, checksum */
    static const struct member dir_entry[] = {{1, 0}, {1, 0}, {1, 0}}; /* (sayay) name, tree, meta */
    struct gv m[2];
    if (tuple_split((struct gv){buf, len}, tree, 2, m) < 0)
        return -1;
    for (int part = 0; part < 2; part++) {
        size_t osz = 0, table = 0, prev = 0;
        long count = array_count(m[part], &osz, &table);
        if (count < 0)
            return -1;
        for (long i = 0; i < count; i++) {
            struct gv e, f[3];
            const char *name;
            size_t name_len;
            if (array_element(m[part], osz, table, (size_t)i, 1, &prev, &e) < 0 ||
                tuple_split(e, part ? dir_entry : file_entry, part ? 3 : 2, f) < 0 ||
                !gv_string(f[0], &name, &name_len))
                return -1;
            if (f[1].n != OSTREE_CSUM_LEN || (part && f[2].n != OSTREE_CSUM_LEN))
                return -1;
            if (part)
                dir(arg, f[1].p, f[2].p);
            else
                file(arg, f[1].p);
        }
    }
    return 0;
}

/* ostree's modified base64 of a checksum: 43 characters, '_' for '/'. */
static bool b64_to_csum(const char *s, size_t len, uint8_t out[OSTREE_CSUM_LEN])
{
    if (len != 43)
        return false;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
              : c == '+' ? 62 : c == '_' ? 63 : -1;
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < OSTREE_CSUM_LEN)
                out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o == OSTREE_CSUM_LEN && acc == 0; /* the 2 spare bits are zero */
}

bool ostree_delta_name_parse(const char *name, size_t len, bool *has_from, uint8_t from[OSTREE_CSUM_LEN],
                             uint8_t to[OSTREE_CSUM_LEN])
{
    char joined[43];
    if (len < 3 || name[2] != '/')
        return false;
    const char *dash = memchr(name, '-', len);
    if (!dash) {
        if (len != 44)
            return false;
        memcpy(joined, name, 2);
        memcpy(joined + 2, name + 3, 41);
        *has_from = false;
        return b64_to_csum(joined, 43, to);
    }
    if ((size_t)(dash - name) != 44 || len != 44 + 1 + 43)
        return false;
    memcpy(joined, name, 2);
    memcpy(joined + 2, name + 3, 41);
    *has_from = true;
    return b64_to_csum(joined, 43, from) && b64_to_csum(dash + 1, 43, to);
}

static bool ends_with(const char *s, size_t len, const char *suffix, size_t n)
{
    return len >= n && !memcmp(s + len - n, suffix, n);
}

bool ostree_fetched_commit(const char *path, size_t len, uint8_t commit[OSTREE_CSUM_LEN])
{
    if (ends_with(path, len, ".commit", 7)) {
        /* objects/XX/<62 hex>.commit */
        if (len != 8 + 2 + 1 + 62 + 7 || memcmp(path, "objects/", 8) || path[10] != '/')
            return false;
        char hex[OSTREE_HEX_LEN];
        memcpy(hex, path + 8, 2);
        memcpy(hex + 2, path + 11, 62);
        return ostree_hex_to_csum(hex, OSTREE_HEX_LEN, commit);
    }
    if (ends_with(path, len, "/superblock", 11) && len > 7 + 11 && !memcmp(path, "deltas/", 7)) {
        bool has_from;
        uint8_t from[OSTREE_CSUM_LEN];
        return ostree_delta_name_parse(path + 7, len - 7 - 11, &has_from, from, commit);
    }
    return false;
}

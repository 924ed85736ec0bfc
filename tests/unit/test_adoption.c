/* adoption: distinct clients per hosted version in the last 24 hours, in
 * bounded memory: exact counts, the window, least-recently-seen eviction
 * (expired pairs first), and the hosted set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adoption.h"

#define DAY ADOPTION_WINDOW_SECONDS

static void commit_n(uint8_t out[32], unsigned n)
{
    memset(out, 0, 32);
    out[0] = (uint8_t)(0x10 + n);   /* the first 8 bytes differ: that is what pairs keep */
    out[7] = (uint8_t)n;
    out[31] = 0xee;
}

static struct ip_addr client_n(unsigned n)
{
    char text[64];
    struct ip_addr a;
    if (n & 0x80000000u)
        snprintf(text, sizeof text, "2001:db8::%x:%x", (n >> 16) & 0x7fff, n & 0xffff);
    else
        snprintf(text, sizeof text, "10.%u.%u.%u", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    assert_true(ip_addr_parse(text, strlen(text), &a));
    return a;
}

static struct adoption *new_with(uint32_t capacity, unsigned hosted)
{
    struct adoption *a = adoption_new(capacity, 42);
    assert_non_null(a);
    uint8_t commits[8][32];
    for (unsigned i = 0; i < hosted; i++)
        commit_n(commits[i], i);
    adoption_set_hosted(a, (const uint8_t (*)[32])commits, hosted);
    return a;
}

static bool record(struct adoption *a, unsigned client, unsigned commit, uint32_t now)
{
    uint8_t c[32];
    commit_n(c, commit);
    struct ip_addr ip = client_n(client);
    return adoption_record(a, &ip, c, now);
}

/* counts[i] of commit i, with last fetch times. */
static void counts(struct adoption *a, uint32_t now, unsigned n, uint32_t *clients, uint32_t *last)
{
    struct adoption_count out[8];
    assert_int_equal(adoption_count(a, now, out, 8), n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t c[32];
        commit_n(c, i);
        assert_memory_equal(out[i].commit, c, 32); /* in the order given */
        clients[i] = out[i].clients;
        if (last)
            last[i] = out[i].last_fetch;
    }
}

static void test_distinct_clients(void **state)
{
    (void)state;
    struct adoption *a = new_with(100, 3);
    uint32_t t = 1700000000;
    assert_true(record(a, 1, 0, t));
    assert_true(record(a, 1, 0, t + 5));       /* the same client again */
    assert_true(record(a, 2, 0, t + 7));
    assert_true(record(a, 3, 0, t + 1));
    assert_true(record(a, 1, 1, t + 9));       /* client 1 also fetched version 1 */
    assert_true(record(a, 0x80000001u, 1, t + 3)); /* an IPv6 client */
    uint32_t n[3], last[3];
    counts(a, t + 10, 3, n, last);
    assert_int_equal(n[0], 3);
    assert_int_equal(n[1], 2);
    assert_int_equal(n[2], 0);
    assert_int_equal(last[0], t + 7);
    assert_int_equal(last[1], t + 9);
    assert_int_equal(last[2], 0);
    struct adoption_stats st;
    adoption_get_stats(a, &st);
    assert_int_equal(st.pairs, 5);
    assert_int_equal(st.recorded, 6);
    assert_int_equal(st.evicted_live, 0);
    assert_int_equal(st.capacity, 100);
    adoption_free(a);
}

static void test_not_hosted(void **state)
{
    (void)state;
    struct adoption *a = new_with(10, 2);
    assert_false(record(a, 1, 5, 1000)); /* a commit the repository does not hold */
    struct adoption_stats st;
    adoption_get_stats(a, &st);
    assert_int_equal(st.pairs, 0);
    assert_int_equal(st.recorded, 0);
    adoption_free(a);
}

static void test_window(void **state)
{
    (void)state;
    struct adoption *a = new_with(10, 1);
    uint32_t t = 1700000000, n[1];
    record(a, 1, 0, t);
    record(a, 2, 0, t + 100);
    counts(a, t + DAY - 1, 1, n, NULL);
    assert_int_equal(n[0], 2);
    counts(a, t + DAY, 1, n, NULL);          /* client 1's fetch is 24 h old: out */
    assert_int_equal(n[0], 1);
    counts(a, t + 100 + DAY, 1, n, NULL);
    assert_int_equal(n[0], 0);
    record(a, 1, 0, t + 2 * DAY);            /* back again: counts again */
    counts(a, t + 2 * DAY, 1, n, NULL);
    assert_int_equal(n[0], 1);
    adoption_free(a);
}

static void test_eviction_least_recent(void **state)
{
    (void)state;
    struct adoption *a = new_with(3, 1);
    uint32_t t = 1700000000, n[1];
    record(a, 1, 0, t + 1);
    record(a, 2, 0, t + 2);
    record(a, 3, 0, t + 3);
    record(a, 1, 0, t + 4);                  /* 1 is recent again: 2 is now the least recent */
    record(a, 4, 0, t + 5);                  /* full: 2 goes, although inside the window */
    counts(a, t + 5, 1, n, NULL);
    assert_int_equal(n[0], 3);
    struct adoption_stats st;
    adoption_get_stats(a, &st);
    assert_int_equal(st.evicted_live, 1);
    assert_int_equal(st.pairs, 3);
    record(a, 2, 0, t + 6);                  /* 2 comes back: 3 goes */
    record(a, 1, 0, t + 7);                  /* still there: no eviction */
    adoption_get_stats(a, &st);
    assert_int_equal(st.evicted_live, 2);
    counts(a, t + 7, 1, n, NULL);
    assert_int_equal(n[0], 3);
    adoption_free(a);
}

static void test_eviction_expired_first(void **state)
{
    (void)state;
    struct adoption *a = new_with(2, 1);
    uint32_t t = 1700000000, n[1];
    record(a, 1, 0, t);
    record(a, 2, 0, t + DAY + 10);
    record(a, 3, 0, t + DAY + 20);           /* full: 1 is past the window, dropped without loss */
    struct adoption_stats st;
    adoption_get_stats(a, &st);
    assert_int_equal(st.evicted_live, 0);
    counts(a, t + DAY + 20, 1, n, NULL);
    assert_int_equal(n[0], 2);
    adoption_free(a);
}

static void test_hosted_set_changes(void **state)
{
    (void)state;
    struct adoption *a = new_with(10, 3);
    uint32_t t = 1700000000;
    record(a, 1, 0, t);
    record(a, 2, 1, t);
    record(a, 3, 2, t);
    record(a, 4, 2, t);
    /* version 2 pruned, versions 0 and 1 kept, in a new order, and a new one */
    uint8_t c[3][32];
    commit_n(c[0], 1);
    commit_n(c[1], 0);
    commit_n(c[2], 3);
    adoption_set_hosted(a, (const uint8_t (*)[32])c, 3);
    struct adoption_count out[8];
    assert_int_equal(adoption_count(a, t, out, 8), 3);
    assert_memory_equal(out[0].commit, c[0], 32);
    assert_int_equal(out[0].clients, 1);
    assert_int_equal(out[1].clients, 1);
    assert_int_equal(out[2].clients, 0);
    struct adoption_stats st;
    adoption_get_stats(a, &st);
    assert_int_equal(st.pairs, 2);           /* the pruned version's pairs are gone */
    adoption_free(a);
}

/* Many clients, repeated fetches, a capacity that holds them all: the
 * counts equal the distinct sets exactly. */
static void test_exact_many(void **state)
{
    (void)state;
    enum { CLIENTS = 3000, FETCHES = 20000, VERSIONS = 4 };
    struct adoption *a = new_with(CLIENTS * VERSIONS, VERSIONS);
    static bool seen[VERSIONS][CLIENTS];
    memset(seen, 0, sizeof seen);
    uint32_t t = 1700000000, x = 12345;
    for (unsigned i = 0; i < FETCHES; i++) {
        x = x * 1103515245u + 12345u;
        unsigned client = (x >> 8) % CLIENTS, version = (x >> 20) % VERSIONS;
        unsigned id = client % 2 ? client | 0x80000000u : client; /* half IPv6 */
        assert_true(record(a, id, version, t + i / 100));
        seen[version][client] = true;
    }
    uint32_t n[VERSIONS];
    counts(a, t + FETCHES / 100, VERSIONS, n, NULL);
    for (unsigned v = 0; v < VERSIONS; v++) {
        uint32_t want = 0;
        for (unsigned c = 0; c < CLIENTS; c++)
            want += seen[v][c];
        assert_int_equal(n[v], want);
    }
    struct adoption_stats st;
    adoption_get_stats(a, &st);
    assert_int_equal(st.evicted_live, 0);
    adoption_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distinct_clients),
        cmocka_unit_test(test_not_hosted),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_eviction_least_recent),
        cmocka_unit_test(test_eviction_expired_first),
        cmocka_unit_test(test_hosted_set_changes),
        cmocka_unit_test(test_exact_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

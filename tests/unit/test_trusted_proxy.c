/* trusted_proxy: address and network parsing, and who the client is behind
 * --trusted-proxy networks (X-Forwarded-For, rightmost untrusted address). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_parse.h"
#include "trusted_proxy.h"

static struct ip_addr addr(const char *s)
{
    struct ip_addr a;
    if (!ip_addr_parse(s, strlen(s), &a))
        fail_msg("test address %s does not parse", s);
    return a;
}

static void test_addr_parse(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* formatted, NULL: rejected */
    } cases[] = {
        {"192.0.2.1", "192.0.2.1"},
        {"192.0.2.1:5678", "192.0.2.1"},        /* some proxies append the port */
        {"2001:db8::1", "2001:db8::1"},
        {"[2001:db8::1]", "2001:db8::1"},
        {"[2001:db8::1]:443", "2001:db8::1"},
        {"::ffff:192.0.2.1", "192.0.2.1"},      /* IPv4-mapped is the IPv4 address */
        {"::1", "::1"},
        {"0.0.0.0", "0.0.0.0"},
        {"", NULL},
        {" 192.0.2.1", NULL},
        {"192.0.2.1 ", NULL},
        {"192.0.2", NULL},
        {"192.0.2.256", NULL},
        {"192.0.2.1:", NULL},
        {"192.0.2.1:65536", NULL},
        {"192.0.2.1:12a", NULL},
        {"[192.0.2.1]", NULL},                  /* brackets are for IPv6 */
        {"[2001:db8::1", NULL},
        {"[2001:db8::1]x", NULL},
        {"2001:db8::1:443x", NULL},
        {"unknown", NULL},                      /* RFC 7239 obfuscated / "unknown" nodes */
        {"_hidden", NULL},
        {"example.com", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ip_addr a;
        bool ok = ip_addr_parse(cases[i].in, strlen(cases[i].in), &a);
        if (!cases[i].want) {
            if (ok)
                fail_msg("'%s' should be rejected", cases[i].in);
            continue;
        }
        if (!ok)
            fail_msg("'%s' should parse", cases[i].in);
        char text[64];
        ip_addr_format(&a, text, sizeof text);
        assert_string_equal(text, cases[i].want);
    }
}

static void test_net_parse_contains(void **state)
{
    (void)state;
    static const struct {
        const char *net;
        const char *inside, *outside; /* NULL: net must be rejected */
    } cases[] = {
        {"10.0.0.0/8", "10.255.1.2", "11.0.0.1"},
        {"192.0.2.7", "192.0.2.7", "192.0.2.8"},          /* bare address: /32 */
        {"192.0.2.0/24", "192.0.2.200", "192.0.3.1"},
        {"192.0.2.128/25", "192.0.2.129", "192.0.2.127"},
        {"0.0.0.0/0", "203.0.113.9", "2001:db8::1"},       /* all of IPv4, none of IPv6 */
        {"fd00::/8", "fd12:3456::1", "fe80::1"},
        {"2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1"},
        {"::1", "::1", "::2"},
        {"::/0", "2001:db8::1", NULL},
        {"192.0.2.1/24", NULL, NULL},                      /* host bits set */
        {"10.0.0.0/33", NULL, NULL},
        {"fd00::/129", NULL, NULL},
        {"10.0.0.0/", NULL, NULL},
        {"10.0.0.0/08", NULL, NULL},
        {"10.0.0.0/-1", NULL, NULL},
        {"[::1]", NULL, NULL},
        {"", NULL, NULL},
        {"/8", NULL, NULL},
        {"10.0.0.0/8x", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ip_net n;
        bool ok = ip_net_parse(cases[i].net, &n);
        if (!cases[i].inside) {
            if (ok)
                fail_msg("network '%s' should be rejected", cases[i].net);
            continue;
        }
        if (!ok)
            fail_msg("network '%s' should parse", cases[i].net);
        struct ip_addr in = addr(cases[i].inside);
        if (!ip_net_contains(&n, &in))
            fail_msg("%s should contain %s", cases[i].net, cases[i].inside);
        if (cases[i].outside) {
            struct ip_addr out = addr(cases[i].outside);
            if (ip_net_contains(&n, &out))
                fail_msg("%s should not contain %s", cases[i].net, cases[i].outside);
        }
    }
}

struct client_case {
    const char *peer;
    const char *xff[3]; /* X-Forwarded-For fields in order, NULL-terminated */
    const char *want;
};

/* Trusted: 127.0.0.1, 10.0.0.0/8 (the router and pods) and fd00::/8. */
static const struct client_case client_cases[] = {
    /* no proxy involved */
    {"198.51.100.7", {NULL}, "198.51.100.7"},
    {"198.51.100.7", {"203.0.113.1"}, "198.51.100.7"},           /* untrusted peer: XFF is ignored */
    {"::ffff:198.51.100.7", {"203.0.113.1"}, "198.51.100.7"},
    /* one trusted proxy */
    {"10.1.2.3", {"203.0.113.1"}, "203.0.113.1"},
    {"10.1.2.3", {NULL}, "10.1.2.3"},                             /* no header: the proxy itself */
    {"10.1.2.3", {""}, "10.1.2.3"},
    {"10.1.2.3", {"  203.0.113.1  "}, "203.0.113.1"},              /* OWS trimmed */
    {"10.1.2.3", {"203.0.113.1:5555"}, "203.0.113.1"},
    {"10.1.2.3", {"2001:db8::5"}, "2001:db8::5"},
    {"10.1.2.3", {"[2001:db8::5]:443"}, "2001:db8::5"},
    /* the rightmost untrusted address wins; what the client wrote itself is not believed */
    {"10.1.2.3", {"1.1.1.1, 203.0.113.1"}, "203.0.113.1"},
    {"10.1.2.3", {"1.1.1.1, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"},   /* a second trusted hop */
    {"127.0.0.1", {"6.6.6.6, 203.0.113.1, 10.9.9.9, 10.8.8.8"}, "203.0.113.1"},
    {"10.1.2.3", {"10.5.5.5, 10.6.6.6"}, "10.5.5.5"},             /* all trusted: the leftmost */
    {"fd00::1", {"203.0.113.1, fd00::2"}, "203.0.113.1"},
    /* several fields are one list, in order */
    {"10.1.2.3", {"1.1.1.1", "203.0.113.1"}, "203.0.113.1"},
    {"10.1.2.3", {"203.0.113.1", "10.9.9.9"}, "203.0.113.1"},
    {"10.1.2.3", {"203.0.113.1, 10.9.9.9", "10.8.8.8"}, "203.0.113.1"},
    /* empty elements are skipped */
    {"10.1.2.3", {"203.0.113.1,, ,"}, "203.0.113.1"},
    /* an unreadable entry stops the walk at the last hop that could be read */
    {"10.1.2.3", {"203.0.113.1, unknown"}, "10.1.2.3"},
    {"10.1.2.3", {"203.0.113.1, garbage, 10.9.9.9"}, "10.9.9.9"},
    {"10.1.2.3", {"unknown, 203.0.113.1"}, "203.0.113.1"},        /* left of the client: never read */
};

static void test_client(void **state)
{
    (void)state;
    struct ip_net nets[3];
    assert_true(ip_net_parse("127.0.0.1", &nets[0]));
    assert_true(ip_net_parse("10.0.0.0/8", &nets[1]));
    assert_true(ip_net_parse("fd00::/8", &nets[2]));
    for (size_t i = 0; i < sizeof client_cases / sizeof client_cases[0]; i++) {
        const struct client_case *c = &client_cases[i];
        struct http_header h[5];
        size_t n = 0;
        h[n++] = (struct http_header){"Host", 4, "x", 1};
        for (size_t j = 0; j < 3 && c->xff[j]; j++) {
            h[n++] = (struct http_header){j % 2 ? "x-forwarded-for" : "X-Forwarded-For", 15, c->xff[j], strlen(c->xff[j])};
            if (j == 0)
                h[n++] = (struct http_header){"X-Forwarded-Proto", 17, "https", 5}; /* other fields in between */
        }
        struct ip_addr peer = addr(c->peer);
        struct ip_addr got = trusted_proxy_client(&peer, nets, 3, h, n);
        char text[64];
        ip_addr_format(&got, text, sizeof text);
        if (strcmp(text, c->want))
            fail_msg("case %zu (peer %s, XFF %s%s%s): client %s, want %s", i, c->peer, c->xff[0] ? c->xff[0] : "-",
                     c->xff[1] ? " | " : "", c->xff[1] ? c->xff[1] : "", text, c->want);
    }
}

static void test_no_trusted_proxies(void **state)
{
    (void)state;
    struct http_header h[] = {{"X-Forwarded-For", 15, "203.0.113.1", 11}};
    struct ip_addr peer = addr("127.0.0.1");
    struct ip_addr got = trusted_proxy_client(&peer, NULL, 0, h, 1);
    assert_memory_equal(&got, &peer, sizeof got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_net_parse_contains),
        cmocka_unit_test(test_client),
        cmocka_unit_test(test_no_trusted_proxies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

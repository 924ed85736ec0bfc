#include "trusted_proxy.h"

#include "http_parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_v4(const struct ip_addr *a)
{
    return !memcmp(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix);
}

/* A decimal port after an address: 1..5 digits up to 65535. */
static bool port_valid(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= 65535;
}

static bool parse_plain(const char *s, size_t len, struct ip_addr *out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        memcpy(out->b, v4_mapped_prefix, 12);
        memcpy(out->b + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out->b) == 1;
}

bool ip_addr_parse(const char *s, size_t len, struct ip_addr *out)
{
    if (len && s[0] == '[') {
        const char *end = memchr(s, ']', len);
        if (!end)
            return false;
        size_t inner = (size_t)(end - s - 1), rest = len - inner - 2;
        struct ip_addr a;
        if (!parse_plain(s + 1, inner, &a) || is_v4(&a))
            return false; /* brackets hold IPv6 only */
        if (rest && !(end[1] == ':' && port_valid(end + 2, rest - 1)))
            return false;
        *out = a;
        return true;
    }
    const char *colon = memchr(s, ':', len);
    if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
        /* exactly one colon: IPv4 with a port */
        size_t host = (size_t)(colon - s);
        struct ip_addr a;
        if (!port_valid(colon + 1, len - host - 1) || !parse_plain(s, host, &a) || !is_v4(&a))
            return false;
        *out = a;
        return true;
    }
    return parse_plain(s, len, out);
}

bool ip_net_parse(const char *s, struct ip_net *out)
{
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    struct ip_addr a;
    if (len == 0 || s[0] == '[' || !parse_plain(s, len, &a))
        return false;
    unsigned max = is_v4(&a) ? 32 : 128, prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        if (n == 0 || n > 3)
            return false;
        prefix = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9')
                return false;
            prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (prefix > max || (n > 1 && p[0] == '0'))
            return false;
    }
    unsigned bits = prefix + (128 - max);
    for (unsigned i = bits; i < 128; i++)
        if (a.b[i / 8] & (0x80u >> (i % 8)))
            return false; /* host bits set: most likely a typo */
    out->addr = a;
    out->prefix = bits;
    return true;
}

bool ip_net_contains(const struct ip_net *net, const struct ip_addr *a)
{
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr.b, a->b, full))
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (net->addr.b[full] & mask) == (a->b[full] & mask);
}

void ip_addr_format(const struct ip_addr *a, char *out, size_t cap)
{
    if (is_v4(a))
        inet_ntop(AF_INET, a->b + 12, out, (socklen_t)cap);
    else
        inet_ntop(AF_INET6, a->b, out, (socklen_t)cap);
}

static bool trusted(const struct ip_addr *a, const struct ip_net *nets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ip_net_contains(&nets[i], a))
            return true;
    return false;
}

struct ip_addr trusted_proxy_client(const struct ip_addr *peer, const struct ip_net *nets, size_t num_nets,
                                    const struct http_header *headers, size_t num_headers)
{
    struct ip_addr client = *peer;
    if (!num_nets || !trusted(peer, nets, num_nets))
        return client;
    for (size_t h = num_headers; h-- > 0;) {
        if (!http_token_eq(headers[h].name, headers[h].name_len, "x-forwarded-for"))
            continue;
        const char *v = headers[h].value;
        size_t end = headers[h].value_len;
        while (end > 0) {
            size_t start = end;
            while (start > 0 && v[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (v[a] == ' ' || v[a] == '\t'))
                a++;
            while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
                b--;
            end = start ? start - 1 : 0;
            if (a == b)
                continue; /* an empty list element */
            struct ip_addr hop;
            if (!ip_addr_parse(v + a, b - a, &hop))
                return client; /* unreadable: stop at the last hop we could read */
            client = hop;
            if (!trusted(&hop, nets, num_nets))
                return client;
        }
    }
    return client; /* every hop trusted: the leftmost */
}

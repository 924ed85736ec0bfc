/* trusted_proxy: who the client is when requests come through a proxy or
 * load balancer. The peer of the TCP connection is the client unless it is
 * one of the --trusted-proxy networks; then X-Forwarded-For is read from
 * the right (the hop nearest to us) and the first address that is not a
 * trusted proxy is the client ("rightmost untrusted"). Addresses further
 * left were written by whoever sent the request and are never believed.
 * Pure functions: no allocation, no I/O. */
#ifndef DCN_TRUSTED_PROXY_H
#define DCN_TRUSTED_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 address is held as the IPv4-mapped IPv6 address ::ffff:a.b.c.d,
 * so that one comparison serves both families. */
struct ip_addr {
    uint8_t b[16];
};

struct ip_net {
    struct ip_addr addr; /* host bits cleared */
    unsigned prefix;     /* 0..128, on the mapped form: an IPv4 /24 is 120 */
};

struct http_header;

/* Parses an address: "192.0.2.1", "2001:db8::1", and with a port as
 * X-Forwarded-For entries sometimes carry it: "192.0.2.1:5678",
 * "[2001:db8::1]:5678", "[2001:db8::1]". Surrounding blanks are not
 * accepted. Returns true on success. */
bool ip_addr_parse(const char *s, size_t len, struct ip_addr *out);

/* Parses "ADDR/PREFIX" or a bare ADDR (/32, /128). An IPv4 prefix counts in
 * IPv4 bits (0..32). Returns false on anything else, or when host bits are
 * set beyond the prefix (192.0.2.1/24: say 192.0.2.0/24). */
bool ip_net_parse(const char *s, struct ip_net *out);

bool ip_net_contains(const struct ip_net *net, const struct ip_addr *a);

/* Formats as text ("192.0.2.1", "2001:db8::1") into out (at least 46 bytes). */
void ip_addr_format(const struct ip_addr *a, char *out, size_t cap);

/* The client of a request from peer with these header fields, against the
 * trusted networks. Every X-Forwarded-For field counts, in order, as one
 * comma-separated list (RFC 9110 5.3). Walking from its right end: a
 * trusted address is skipped; the first untrusted one is the client; an
 * entry that is not an address ends the walk, and the client is then the
 * last (trusted) hop that could be read, since whatever wrote the bad entry
 * cannot be told apart from the client. When every entry is trusted the
 * leftmost is the client. With no trusted networks, or from an untrusted
 * peer, the peer is the client. */
struct ip_addr trusted_proxy_client(const struct ip_addr *peer, const struct ip_net *trusted, size_t num_trusted,
                                    const struct http_header *headers, size_t num_headers);

#endif

/* Fuzz target: trusted_proxy_client over X-Forwarded-For values a client
 * controls, and ip_addr_parse / ip_net_parse.
 * Input: byte 0 picks the peer (trusted IPv4, trusted IPv6, untrusted),
 * byte 1 how many fields the rest is split into (at '\n', up to 4).
 * Invariants: from an untrusted peer the client is the peer; from a trusted
 * one the client is the peer or an address that occurs in the input; a
 * parsed address formats and parses back to itself; nothing is read past
 * the fields (each field is an exact-size heap copy). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "trusted_proxy.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char *const peers[] = {"10.1.2.3", "fd00::1", "198.51.100.7"};
    const char *peer_text = peers[data[0] % 3];
    size_t want_fields = 1 + data[1] % 4;
    data += 2;
    size -= 2;

    struct ip_net nets[2];
    CHECK(ip_net_parse("10.0.0.0/8", &nets[0]) && ip_net_parse("fd00::/8", &nets[1]));
    struct ip_addr peer;
    CHECK(ip_addr_parse(peer_text, strlen(peer_text), &peer));

    struct http_header h[4];
    char *copies[4] = {0};
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < want_fields; i++) {
        if (i == size || (data[i] == '\n' && n + 1 < want_fields)) {
            size_t len = i - start;
            copies[n] = malloc(len ? len : 1);
            memcpy(copies[n], data + start, len);
            h[n] = (struct http_header){"X-Forwarded-For", 15, copies[n], len};
            n++;
            start = i + 1;
        }
    }
    struct ip_addr client = trusted_proxy_client(&peer, nets, 2, h, n);
    if (data[-2] % 3 == 2) {
        CHECK(!memcmp(&client, &peer, sizeof client));
    } else if (memcmp(&client, &peer, sizeof client)) {
        /* an address written in the input: its text form parses back to it */
        char text[64];
        ip_addr_format(&client, text, sizeof text);
        struct ip_addr back;
        CHECK(ip_addr_parse(text, strlen(text), &back) && !memcmp(&back, &client, sizeof back));
    }

    /* the whole input as one address and as one network */
    struct ip_addr a;
    char *whole = malloc(size + 1);
    memcpy(whole, data, size);
    whole[size] = '\0';
    if (ip_addr_parse(whole, size, &a)) {
        char text[64];
        ip_addr_format(&a, text, sizeof text);
        struct ip_addr back;
        CHECK(ip_addr_parse(text, strlen(text), &back) && !memcmp(&back, &a, sizeof a));
    }
    struct ip_net net;
    if (ip_net_parse(whole, &net)) {
        CHECK(net.prefix <= 128);
        CHECK(ip_net_contains(&net, &net.addr));
    }
    free(whole);
    for (size_t i = 0; i < n; i++)
        free(copies[i]);
    return 0;
}

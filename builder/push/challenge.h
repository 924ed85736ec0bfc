/* challenge: the WWW-Authenticate header of a registry's 401 (RFC 9110
 * 11.6.1, RFC 7235 syntax; the token flow of the distribution spec), as a
 * pure function over (pointer, length): no allocation beyond the result,
 * no I/O. Examples it reads:
 *   Basic realm="Registry Realm"
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"
 *   Bearer realm="https://host/openshift/token"            (OpenShift: no service)
 * When a header lists several challenges, Bearer is preferred over Basic. */
#ifndef DCN_BUILDER_CHALLENGE_H
#define DCN_BUILDER_CHALLENGE_H

#include <stddef.h>

typedef enum {
    DCN_AUTH_NONE,   /* no challenge we understand */
    DCN_AUTH_BASIC,  /* send user:password as Basic */
    DCN_AUTH_BEARER, /* get a token from realm, send it as Bearer */
} DcnAuthScheme;

#define DCN_CHALLENGE_FIELD_MAX 512

typedef struct {
    DcnAuthScheme scheme;
    char realm[DCN_CHALLENGE_FIELD_MAX];   /* Bearer: the token endpoint URL; Basic: the realm text */
    char service[DCN_CHALLENGE_FIELD_MAX]; /* Bearer: "service" parameter, empty when absent */
    char scope[DCN_CHALLENGE_FIELD_MAX];   /* Bearer: "scope" parameter, empty when absent */
    char error[64];                        /* Bearer: "error" parameter (e.g. insufficient_scope), empty when absent */
} DcnChallenge;

/* Parses one header value. Returns 0 and fills out (scheme NONE when no
 * Basic/Bearer challenge is present), or -1 when the value is malformed or
 * a parameter does not fit its field. */
int dcn_challenge_parse(const char *value, size_t len, DcnChallenge *out);

#endif

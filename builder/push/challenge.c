/* challenge: WWW-Authenticate parser. See challenge.h.
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 * Challenges and parameters are both separated by commas; a new challenge
 * starts where a token is followed by a space and another token (not "="). */
#include "challenge.h"

#include <string.h>
#include <strings.h>

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }

typedef struct {
    const char *p, *end;
} Cursor;

static void skip_ws(Cursor *c)
{
    while (c->p < c->end && is_ws(*c->p))
        c->p++;
}

static void skip_ws_commas(Cursor *c)
{
    while (c->p < c->end && (is_ws(*c->p) || *c->p == ','))
        c->p++;
}

static size_t token_len(const Cursor *c)
{
    const char *q = c->p;
    while (q < c->end && is_tchar(*q))
        q++;
    return (size_t)(q - c->p);
}

/* Reads a token or quoted-string value into out (cap bytes, NUL-terminated);
 * -1 on malformed input or overflow. out NULL: parse and discard. */
static int read_value(Cursor *c, char *out, size_t cap)
{
    size_t n = 0;
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        while (c->p < c->end && *c->p != '"') {
            char ch = *c->p++;
            if (ch == '\\') {
                if (c->p >= c->end)
                    return -1;
                ch = *c->p++;
            }
            if (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f)
                return -1; /* CTLs are neither qdtext nor quoted-pair (RFC 9110 5.6.4) */
            if (out) {
                if (n + 1 >= cap)
                    return -1;
                out[n] = ch;
            }
            n++;
        }
        if (c->p >= c->end)
            return -1; /* unterminated */
        c->p++;
    } else {
        size_t t = token_len(c);
        /* token68 characters '/' '=' also appear unquoted in the wild */
        while (c->p + t < c->end && (is_tchar(c->p[t]) || c->p[t] == '/' || c->p[t] == '=' || c->p[t] == ':'))
            t++;
        if (t == 0)
            return -1;
        if (out) {
            if (t + 1 > cap)
                return -1;
            memcpy(out, c->p, t);
        }
        n = t;
        c->p += t;
    }
    if (out)
        out[n] = '\0';
    return 0;
}

int dcn_challenge_parse(const char *value, size_t len, DcnChallenge *out)
{
    memset(out, 0, sizeof *out);
    Cursor c = {value, value + len};
    DcnChallenge cur;
    int have_basic = 0, have_bearer = 0;
    DcnChallenge basic, bearer;
    skip_ws_commas(&c);
    while (c.p < c.end) {
        /* a challenge: scheme */
        size_t t = token_len(&c);
        if (t == 0)
            return -1;
        memset(&cur, 0, sizeof cur);
        if (t == 5 && strncasecmp(c.p, "Basic", 5) == 0)
            cur.scheme = DCN_AUTH_BASIC;
        else if (t == 6 && strncasecmp(c.p, "Bearer", 6) == 0)
            cur.scheme = DCN_AUTH_BEARER;
        c.p += t;
        /* parameters until the next challenge */
        for (;;) {
            skip_ws_commas(&c);
            if (c.p >= c.end)
                break;
            Cursor save = c;
            size_t nt = token_len(&c);
            if (nt == 0)
                return -1;
            Cursor after = {c.p + nt, c.end};
            skip_ws(&after);
            if (after.p >= after.end || *after.p != '=') {
                c = save; /* a token not followed by '=': the next challenge's scheme */
                break;
            }
            const char *name = c.p;
            after.p++;
            skip_ws(&after);
            c = after;
            char *field = NULL;
            size_t cap = 0;
            if (nt == 5 && strncasecmp(name, "realm", 5) == 0)
                field = cur.realm, cap = sizeof cur.realm;
            else if (nt == 7 && strncasecmp(name, "service", 7) == 0)
                field = cur.service, cap = sizeof cur.service;
            else if (nt == 5 && strncasecmp(name, "scope", 5) == 0)
                field = cur.scope, cap = sizeof cur.scope;
            else if (nt == 5 && strncasecmp(name, "error", 5) == 0)
                field = cur.error, cap = sizeof cur.error;
            if (read_value(&c, field, cap) < 0)
                return -1;
            skip_ws(&c);
            if (c.p < c.end && *c.p != ',')
                return -1;
        }
        if (cur.scheme == DCN_AUTH_BEARER && !have_bearer)
            bearer = cur, have_bearer = 1;
        else if (cur.scheme == DCN_AUTH_BASIC && !have_basic)
            basic = cur, have_basic = 1;
    }
    if (have_bearer) {
        if (!bearer.realm[0])
            return -1; /* a Bearer challenge without a realm cannot be followed */
        *out = bearer;
    } else if (have_basic) {
        *out = basic;
    }
    return 0;
}

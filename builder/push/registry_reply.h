/* registry_reply: what a registry and its token endpoint send back, read as
 * pure functions over (pointer, length): no I/O. Both are input the builder
 * does not control, so what they return is safe to put where it goes: a
 * token into an Authorization header, a message into a one-line error. */
#ifndef DCN_BUILDER_REGISTRY_REPLY_H
#define DCN_BUILDER_REGISTRY_REPLY_H

#include <glib.h>

/* Longest text dcn_registry_error_text returns (bytes, without the NUL). */
#define DCN_REGISTRY_ERROR_TEXT_MAX 200

/* The token of a token endpoint's reply ({"token": ...} or, OAuth2 style,
 * {"access_token": ...}; the first non-empty string wins). NULL with an
 * error when there is none, or when it holds a byte that cannot go in an
 * HTTP header field (anything but visible ASCII: a CR/LF would let the
 * endpoint add headers to every later request). */
char *dcn_registry_parse_token(const char *body, gsize len, GError **error);

/* The registry's error text for a message: "CODE: message" of the first
 * error in an errors body ({"errors":[{"code","message","detail"}]}) when
 * it has either as a string, else the start of the body, else "no
 * details". Control characters become spaces; at most
 * DCN_REGISTRY_ERROR_TEXT_MAX bytes. Never NULL. */
char *dcn_registry_error_text(const char *body, gsize len);

#endif

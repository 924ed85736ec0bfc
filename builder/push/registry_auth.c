/* registry_auth: what a registry's 401 asks for; see registry_request.h. */
#include "registry_reply.h"
#include "registry_request.h"

#include <gio/gio.h>
#include <string.h>

/* GET <realm>?service=&scope=...&account=: a token for our repository (push,
 * pull) and the ones we mount from (pull), sent as Bearer from then on. */
static gboolean fetch_token(DcnRegistry *r, const DcnChallenge *ch, GError **error)
{
    r->challenge = *ch;
    /* scopes: ours (pull,push), pull on the repositories we mount from, and
     * the one the challenge names (it may differ in spelling) */
    GString *url = g_string_new(ch->realm);
    char sep = strchr(ch->realm, '?') ? '&' : '?';
    if (ch->service[0]) {
        g_autofree char *s = g_uri_escape_string(ch->service, NULL, FALSE);
        g_string_append_printf(url, "%cservice=%s", sep, s);
        sep = '&';
    }
    g_autofree char *own = g_strdup_printf("repository:%s:pull,push", r->repo);
    g_autoptr(GPtrArray) scopes = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(scopes, g_strdup(own));
    for (char **m = r->mount_scopes; m && *m; m++)
        g_ptr_array_add(scopes, g_strdup_printf("repository:%s:pull", *m));
    if (ch->scope[0] && !g_str_equal(ch->scope, own))
        g_ptr_array_add(scopes, g_strdup(ch->scope));
    for (guint i = 0; i < scopes->len; i++) {
        g_autofree char *s = g_uri_escape_string(scopes->pdata[i], NULL, FALSE);
        g_string_append_printf(url, "%cscope=%s", sep, s);
        sep = '&';
    }
    if (r->username) {
        g_autofree char *a = g_uri_escape_string(r->username, NULL, FALSE);
        g_string_append_printf(url, "%caccount=%s", sep, a);
    }
    g_auto(RegistryReq) q = {.method = "GET", .url = g_string_free(url, FALSE), .fd = -1, .retryable = TRUE, .no_auth = TRUE,
                     .r = r};
    if (r->password) {
        g_autofree char *pair = g_strconcat(r->username ? r->username : "", ":", r->password, NULL);
        g_autofree char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
        q.extra_header = g_strconcat("Authorization: Basic ", b64, NULL);
    }
    if (!dcn_registry_perform(r, &q, error))
        return g_prefix_error(error, "getting a token: "), FALSE;
    if (q.status == 401 || q.status == 403) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "token endpoint %s refused %s (HTTP %ld): %s", ch->realm,
                    r->password ? "the credentials" : "anonymous access", q.status,
                    r->password ? "wrong username or password/token" : "set registry.username and the password");
        return FALSE;
    }
    if (q.status != 200) {
        dcn_registry_set_http_error(error, &q, "getting a token");
        return FALSE;
    }
    g_autofree char *token = dcn_registry_parse_token(q.body.data->str, q.body.data->len, error);
    if (!token)
        return g_prefix_error(error, "token endpoint %s: ", ch->realm), FALSE;
    g_free(r->auth_header);
    r->auth_header = g_strconcat("Authorization: Bearer ", token, NULL);
    r->auth = DCN_AUTH_BEARER;
    dcn_progress_event(r->o.progress, "token", "realm=%s service=%s scopes=%u", ch->realm,
                       ch->service[0] ? ch->service : "-", scopes->len);
    return TRUE;
}

/* Basic: user:password in every request from now on. */
static gboolean use_basic(DcnRegistry *r, const DcnChallenge *ch, GError **error)
{
    if (!r->password) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s requires credentials (Basic realm \"%s\"): set registry.username and the "
                    "password (DCN_BUILDER_REGISTRY_PASSWORD or registry.password_file)",
                    r->host, ch->realm);
        return FALSE;
    }
    if (r->auth == DCN_AUTH_BASIC) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s refused the credentials of user '%s' (HTTP 401, Basic realm \"%s\"): wrong "
                    "username or password",
                    r->host, r->username, ch->realm);
        return FALSE;
    }
    g_autofree char *pair = g_strconcat(r->username, ":", r->password, NULL);
    g_autofree char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
    g_free(r->auth_header);
    r->auth_header = g_strconcat("Authorization: Basic ", b64, NULL);
    r->auth = DCN_AUTH_BASIC;
    return TRUE;
}

gboolean dcn_registry_authenticate(DcnRegistry *r, const RegistryReq *q, GError **error)
{
    DcnChallenge ch;
    if (!q->www_auth || dcn_challenge_parse(q->www_auth, strlen(q->www_auth), &ch) < 0 ||
        ch.scheme == DCN_AUTH_NONE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s %s: HTTP 401 without a usable WWW-Authenticate challenge (%s)", q->method, r->host,
                    q->www_auth ? q->www_auth : "none");
        return FALSE;
    }
    return ch.scheme == DCN_AUTH_BASIC ? use_basic(r, &ch, error) : fetch_token(r, &ch, error);
}

void dcn_registry_set_refused(GError **error, const DcnRegistry *r, const RegistryReq *q)
{
    if (r->auth == DCN_AUTH_BASIC)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s refused the credentials of user '%s' (HTTP 401 to %s): wrong username or password",
                    r->host, r->username, q->method);
    else
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s refused the token from %s (HTTP 401 to %s): no pull/push access to %s for user '%s'",
                    r->host, r->challenge.realm, q->method, r->repo, r->username ? r->username : "(anonymous)");
}

#include "config.h"

#include "build_info.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_kind { OPT_STRING, OPT_LISTEN, OPT_OPS_LISTEN, OPT_NET, OPT_UINT, OPT_SIZE, OPT_SECONDS, OPT_BOOL, OPT_FLAG };

struct opt_spec {
    const char *name; /* flag without "--"; env is DCN_HOSTER_<NAME> with '-' -> '_' */
    enum opt_kind kind;
    size_t offset;    /* into struct hoster_config */
    const char *arg;
    const char *help;
};

#define OFF(field) offsetof(struct hoster_config, field)
static const struct opt_spec opt_specs[] = {
    {"root", OPT_STRING, OFF(root), "DIR", "content root served at / (default: the build's sample content)"},
    {"listen", OPT_LISTEN, 0, "ADDR:PORT", "listen address, repeatable; [::]:PORT for IPv6, port 0 picks one (default 0.0.0.0:8080)"},
    {"ops-listen", OPT_OPS_LISTEN, 0, "ADDR:PORT", "serve the operations endpoints /-/... here only (then 404 on --listen), repeatable (default: on every --listen address)"},
    {"threads", OPT_UINT, OFF(threads), "N", "worker threads, one event loop each (default: number of CPUs)"},
    {"repo-path", OPT_STRING, OFF(repo_path), "PATH", "ostree repository inside the root, '.' if the root is the repo (default repo)"},
    {"public-url", OPT_STRING, OFF(public_url), "URL", "base URL for kickstarts (default: http:// + the request's Host)"},
    {"ref", OPT_STRING, OFF(ref), "REF", "ref that kickstarts install (default: first ref under refs/heads)"},
    {"max-connections", OPT_UINT, OFF(max_connections), "N", "open client connections, split over workers (default 16384)"},
    {"max-head-size", OPT_SIZE, OFF(max_head_size), "BYTES", "request line and headers (default 8k)"},
    {"max-headers", OPT_UINT, OFF(max_headers), "N", "header fields per request (default 64)"},
    {"head-timeout", OPT_SECONDS, OFF(head_timeout), "SEC", "time to receive a started request head (default 10)"},
    {"idle-timeout", OPT_SECONDS, OFF(idle_timeout), "SEC", "keep-alive idle time before closing (default 60)"},
    {"send-timeout", OPT_SECONDS, OFF(send_timeout), "SEC", "time a client may stall reading a response (default 60)"},
    {"shutdown-delay", OPT_SECONDS, OFF(shutdown_delay), "SEC", "on SIGTERM, keep serving (reporting not ready) this long before draining, so load balancers stop sending first (default 0)"},
    {"drain-timeout", OPT_SECONDS, OFF(drain_timeout), "SEC", "time allowed for in-flight responses once draining (default 25)"},
    {"cache-size", OPT_SIZE, OFF(cache_size), "BYTES", "small-file cache over all workers, 0 disables (default 32m)"},
    {"sendfile-min", OPT_SIZE, OFF(sendfile_min), "BYTES", "files this large go by sendfile, smaller are read and cached (default 16k)"},
    {"access-log", OPT_BOOL, OFF(access_log), "on|off", "access log lines on stdout (default on)"},
    {"trusted-proxy", OPT_NET, 0, "CIDR", "a proxy or load balancer whose X-Forwarded-For names the client (adoption counts), repeatable; 10.0.0.0/8, fd00::/8, 192.0.2.7 (default: none, the peer is the client)"},
    {"adoption-max", OPT_UINT, OFF(adoption_max), "N", "(client, version) pairs remembered for the adoption counts, 44 bytes each (default 65536)"},
    {"list-dirs", OPT_FLAG, OFF(list_dirs), NULL, "HTML listings for directories (default: 403)"},
    {"follow-symlinks", OPT_FLAG, OFF(follow_symlinks), NULL, "follow symlinks wherever they lead, for operators who own the whole tree (default: only links that stay inside the root; others get 403)"},
};
#define NUM_OPTS (sizeof opt_specs / sizeof opt_specs[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: dcn-hoster [OPTION]...\n"
                 "Serve ostree repositories, static deltas and kickstarts over HTTP/1.1.\n\n");
    for (size_t i = 0; i < NUM_OPTS; i++) {
        const struct opt_spec *o = &opt_specs[i];
        char flag[64], env[64];
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        size_t n = (size_t)snprintf(env, sizeof env, "DCN_HOSTER_%s", o->name);
        for (size_t j = 0; j < n; j++)
            env[j] = env[j] == '-' ? '_' : (char)(env[j] >= 'a' && env[j] <= 'z' ? env[j] - 32 : env[j]);
        fprintf(out, "  %-28s %s\n  %-28s   env %s\n", flag, o->help, "", env);
    }
    fprintf(out, "  %-28s %s\n", "--version", "print the version and the commit it was built from");
    fprintf(out, "  %-28s %s\n\n", "--help", "this text");
    fprintf(out, "Operations endpoints on every listener, or only on --ops-listen: /-/ (status page) /-/live /-/ready\n"
                 "/-/metrics /-/status\n"
                 "Signals: SIGHUP re-opens the root; SIGTERM/SIGINT drain and exit.\n");
}

/* Parses "ADDR:PORT", "[V6]:PORT" or ":PORT"/"PORT" (all IPv4 addresses). */
static int parse_listen(const char *s, struct listen_addr *la)
{
    char host[64];
    const char *port;
    memset(la, 0, sizeof *la);
    if (strlen(s) >= sizeof la->text)
        return -1;
    snprintf(la->text, sizeof la->text, "%s", s);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            snprintf(host, sizeof host, "0.0.0.0");
            port = s;
        } else {
            if ((size_t)(colon - s) >= sizeof host)
                return -1;
            memcpy(host, s, (size_t)(colon - s));
            host[colon - s] = '\0';
            if (!host[0])
                snprintf(host, sizeof host, "0.0.0.0");
            port = colon + 1;
        }
    }
    char *end;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (!*port || *end || errno || p > 65535)
        return -1;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&la->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&la->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        la->addr_len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        la->addr_len = sizeof *v6;
    } else {
        return -1;
    }
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    }
    if (*end || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

static int set_option(struct hoster_config *cfg, const struct opt_spec *o, const char *val, const char *origin)
{
    char *base = (char *)cfg;
    char *end;
    switch (o->kind) {
    case OPT_STRING: {
        char **dst = (char **)(base + o->offset);
        free(*dst);
        *dst = strdup(val);
        return 0;
    }
    case OPT_LISTEN:
    case OPT_OPS_LISTEN: {
        /* the environment form may hold a comma-separated list */
        bool ops = o->kind == OPT_OPS_LISTEN;
        struct listen_addr *list = ops ? cfg->ops_listen : cfg->listen;
        size_t *num = ops ? &cfg->num_ops_listen : &cfg->num_listen;
        char *copy = strdup(val), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (*num == HOSTER_MAX_LISTEN || parse_listen(tok, &list[*num]) < 0) {
                fprintf(stderr, "dcn-hoster: %s: bad listen address '%s' (want ADDR:PORT or [V6ADDR]:PORT)\n", origin, tok);
                free(copy);
                return -1;
            }
            (*num)++;
        }
        free(copy);
        return 0;
    }
    case OPT_NET: {
        char *copy = strdup(val), *save = NULL;
        for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
            if (cfg->num_trusted_proxy == HOSTER_MAX_TRUSTED ||
                !ip_net_parse(tok, &cfg->trusted_proxy[cfg->num_trusted_proxy])) {
                fprintf(stderr, "dcn-hoster: %s: bad network '%s' (want ADDR or ADDR/PREFIX with the host bits zero, "
                                "IPv4 or IPv6, at most %d)\n", origin, tok, HOSTER_MAX_TRUSTED);
                free(copy);
                return -1;
            }
            cfg->num_trusted_proxy++;
        }
        free(copy);
        return 0;
    }
    case OPT_UINT: {
        errno = 0;
        unsigned long v = strtoul(val, &end, 10);
        if (!*val || *end || errno || v == 0 || v > 1000000 || val[0] == '-')
            break;
        *(unsigned *)(base + o->offset) = (unsigned)v;
        return 0;
    }
    case OPT_SIZE:
        if (parse_size(val, (size_t *)(base + o->offset)) < 0)
            break;
        return 0;
    case OPT_SECONDS: {
        errno = 0;
        double v = strtod(val, &end);
        if (!*val || *end || errno || !(v >= 0) || v > 86400)
            break;
        *(double *)(base + o->offset) = v;
        return 0;
    }
    case OPT_BOOL:
    case OPT_FLAG:
        if (!strcmp(val, "on") || !strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes"))
            *(bool *)(base + o->offset) = true;
        else if (!strcmp(val, "off") || !strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no"))
            *(bool *)(base + o->offset) = false;
        else
            break;
        return 0;
    }
    fprintf(stderr, "dcn-hoster: %s: bad value '%s' for --%s %s\n", origin, val, o->name, o->arg ? o->arg : "");
    return -1;
}

static int validate(struct hoster_config *cfg)
{
    if (cfg->head_timeout <= 0 || cfg->idle_timeout <= 0 || cfg->send_timeout <= 0) {
        fprintf(stderr, "dcn-hoster: --head-timeout, --idle-timeout and --send-timeout must be above 0\n");
        return -1;
    }
    if (cfg->max_head_size < 256 || cfg->max_head_size > 1 << 20) {
        fprintf(stderr, "dcn-hoster: --max-head-size must be between 256 and 1m\n");
        return -1;
    }
    if (cfg->public_url) {
        size_t n = strlen(cfg->public_url);
        while (n && cfg->public_url[n - 1] == '/')
            cfg->public_url[--n] = '\0';
        if (strncmp(cfg->public_url, "http://", 7) && strncmp(cfg->public_url, "https://", 8)) {
            fprintf(stderr, "dcn-hoster: --public-url must start with http:// or https://\n");
            return -1;
        }
    }
    /* "." and "" both mean the root is the repository */
    char *rp = cfg->repo_path;
    while (*rp == '/')
        rp++;
    if (!strcmp(rp, "."))
        rp = "";
    char *norm = strdup(rp);
    size_t n = strlen(norm);
    while (n && norm[n - 1] == '/')
        norm[--n] = '\0';
    free(cfg->repo_path);
    cfg->repo_path = norm;
    if (strstr(norm, "..")) {
        fprintf(stderr, "dcn-hoster: --repo-path must stay inside the root\n");
        return -1;
    }
    if (cfg->sendfile_min > 1 << 20) {
        fprintf(stderr, "dcn-hoster: --sendfile-min must be at most 1m\n");
        return -1;
    }
    if (cfg->max_headers > 1024) {
        fprintf(stderr, "dcn-hoster: --max-headers must be at most 1024\n");
        return -1;
    }
    if (cfg->threads > HOSTER_MAX_THREADS)
        cfg->threads = HOSTER_MAX_THREADS;
    if (cfg->num_listen + cfg->num_ops_listen > HOSTER_MAX_LISTEN) {
        fprintf(stderr, "dcn-hoster: at most %d addresses for --listen and --ops-listen together\n", HOSTER_MAX_LISTEN);
        return -1;
    }
    for (size_t i = 0; i < cfg->num_ops_listen; i++) {
        for (size_t j = 0; j < cfg->num_listen; j++) {
            const struct sockaddr_in *port = (const struct sockaddr_in *)&cfg->listen[j].addr; /* same offset in v6 */
            if (port->sin_port != 0 && cfg->ops_listen[i].addr_len == cfg->listen[j].addr_len &&
                !memcmp(&cfg->ops_listen[i].addr, &cfg->listen[j].addr, cfg->listen[j].addr_len)) {
                fprintf(stderr, "dcn-hoster: --ops-listen %s is also a --listen address: give the operations "
                                "endpoints a port of their own\n", cfg->ops_listen[i].text);
                return -1;
            }
        }
    }
    return 0;
}

int hoster_config_load(struct hoster_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->root = strdup(DCN_DEFAULT_ROOT);
    cfg->repo_path = strdup("repo");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = ncpu > 0 ? (unsigned)ncpu : 1;
    cfg->max_connections = 16384;
    cfg->max_head_size = 8192;
    cfg->max_headers = 64;
    cfg->head_timeout = 10;
    cfg->idle_timeout = 60;
    cfg->send_timeout = 60;
    cfg->drain_timeout = 25;
    cfg->cache_size = 32u << 20;
    cfg->sendfile_min = 16u << 10;
    cfg->access_log = true;
    cfg->adoption_max = 65536;

    for (size_t i = 0; i < NUM_OPTS; i++) {
        char env[64];
        size_t n = (size_t)snprintf(env, sizeof env, "DCN_HOSTER_%s", opt_specs[i].name);
        for (size_t j = 0; j < n; j++)
            env[j] = env[j] == '-' ? '_' : (char)(env[j] >= 'a' && env[j] <= 'z' ? env[j] - 32 : env[j]);
        const char *v = getenv(env);
        if (v && *v && set_option(cfg, &opt_specs[i], v, env) < 0)
            return -1;
    }

    struct option longopts[NUM_OPTS + 3];
    for (size_t i = 0; i < NUM_OPTS; i++)
        longopts[i] = (struct option){opt_specs[i].name, opt_specs[i].kind == OPT_FLAG ? no_argument : required_argument, NULL, (int)i};
    longopts[NUM_OPTS] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[NUM_OPTS + 1] = (struct option){"version", no_argument, NULL, 'V'};
    longopts[NUM_OPTS + 2] = (struct option){0};
    bool listen_from_flags = false, ops_from_flags = false, nets_from_flags = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == 'V') {
            printf("dcn-hoster %s (commit %s)\n", dcn_build_version(), dcn_build_commit());
            return 1;
        }
        if (c == '?' || c < 0 || (size_t)c >= NUM_OPTS) {
            fprintf(stderr, "dcn-hoster: unknown or incomplete option '%s' (see --help)\n", argv[optind - 1]);
            return -1;
        }
        const struct opt_spec *o = &opt_specs[c];
        /* flags replace the environment's list */
        if (o->kind == OPT_LISTEN && !listen_from_flags) {
            cfg->num_listen = 0;
            listen_from_flags = true;
        }
        if (o->kind == OPT_OPS_LISTEN && !ops_from_flags) {
            cfg->num_ops_listen = 0;
            ops_from_flags = true;
        }
        if (o->kind == OPT_NET && !nets_from_flags) {
            cfg->num_trusted_proxy = 0;
            nets_from_flags = true;
        }
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", o->name);
        if (set_option(cfg, o, o->kind == OPT_FLAG ? "on" : optarg, flag) < 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "dcn-hoster: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (cfg->num_listen == 0 && parse_listen("0.0.0.0:8080", &cfg->listen[cfg->num_listen++]) < 0)
        return -1;
    return validate(cfg);
}

void hoster_config_free(struct hoster_config *cfg)
{
    free(cfg->root);
    free(cfg->repo_path);
    free(cfg->public_url);
    free(cfg->ref);
}
